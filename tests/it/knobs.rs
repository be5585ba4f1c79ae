//! The knob table: one row for every pipeline field (`codefleet schema`), every setting
//! (`codefleet config --json`) and every command-line flag (`--help` of each command), each
//! running the real binary on real repositories with and without the knob and asserting the
//! difference a user sees. `every_knob_has_a_row` fails when schema, config or help lists a knob
//! the table lacks; `every_knob_does_something` runs the rows and prints the ones still `todo`.

use crate::support::fixture;
use crate::support::git_http;
use crate::support::github;
use crate::support::model_server;

use std::cell::Cell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fixture::{Fixture, text};
use model_server::{ModelServer, Recorded, Step};
use serde_json::Value;

/// A row's check: `Err` says what the user would not see.
type Check = fn(&K) -> Result<(), String>;

enum Row {
    /// Runs and must pass.
    Test(Check),
    /// Not written yet, and why (the test prints these for the lead). No row is one now; a
    /// knob whose work is still under way gets one rather than a row that cannot fail.
    #[allow(dead_code)]
    Todo(&'static str),
    /// Shown by that other row, which sets this knob (an environment variable of a setting).
    Same(&'static str),
}

use Row::{Same, Test, Todo};

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// What a command printed and how it ended.
struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Out {
    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout).unwrap_or(Value::Null)
    }
}

impl std::fmt::Display for Out {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// One row's world: a fixture (its own HOME, config and cache) and helpers.
struct K {
    f: Fixture,
    n: Cell<usize>,
}

/// A pipeline with one `replace` task over `*.txt`; `{top}` goes before `tasks:`, `{task}`
/// after the task's lines (indented four spaces).
fn pipe(top: &str, task: &str) -> String {
    format!(
        "version: 1\nname: k\n{top}tasks:\n  - name: t\n    files: [\"*.txt\"]\n    replace: {{ find: old, with: new }}\n{task}"
    )
}

const OPENAI_KEY: (&str, &str) = ("OPENAI_API_KEY", "sk-test");

impl K {
    fn new() -> K {
        K {
            f: Fixture::new(),
            n: Cell::new(0),
        }
    }

    /// A repository `name` with `a.txt` = `old` and `b.txt` = `old too`.
    fn repo(&self, name: &str) -> PathBuf {
        self.f
            .repo(name, &[("a.txt", "old\n"), ("b.txt", "old too\n")])
    }

    /// Writes a pipeline file (a new one each call) and returns its path.
    fn pipeline(&self, yaml: &str) -> String {
        self.n.set(self.n.get() + 1);
        let p = self.f.path(&format!("p{}.yml", self.n.get()));
        std::fs::write(&p, yaml).expect("write pipeline");
        p.display().to_string()
    }

    /// Writes `text` at `rel` in the fixture directory and returns the absolute path.
    fn file(&self, rel: &str, text: &str) -> String {
        let p = self.f.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p.display().to_string()
    }

    fn cli(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Out {
        let out = self.f.cli(cwd, args, env);
        Out {
            code: out.status.code().unwrap_or(-1),
            stdout: text(&out.stdout),
            stderr: text(&out.stderr),
        }
    }

    /// `git show REV:PATH`, `None` when it does not exist.
    fn show(&self, repo: &Path, rev_path: &str) -> Option<String> {
        let mut cmd = Command::new("git");
        self.f.env(&mut cmd);
        let out = cmd
            .args(["show", rev_path])
            .current_dir(repo)
            .output()
            .ok()?;
        out.status.success().then(|| text(&out.stdout))
    }

    fn tip(&self, repo: &Path, branch: &str) -> Option<String> {
        let mut cmd = Command::new("git");
        self.f.env(&mut cmd);
        let out = cmd
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .current_dir(repo)
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| text(&out.stdout).trim().to_string())
    }

    fn git(&self, dir: &Path, args: &[&str]) -> String {
        self.f.git_line(dir, args)
    }

    /// A bare repository `srv/acme/NAME.git` (so the forge reads `acme/NAME`) with `a.txt` =
    /// `old` on `main`, and its `file://` URL.
    fn bare(&self, name: &str) -> (PathBuf, String) {
        let work = self.f.repo(&format!("work/{name}"), &[("a.txt", "old\n")]);
        let bare = self.f.path(&format!("srv/acme/{name}.git"));
        std::fs::create_dir_all(bare.parent().expect("parent")).expect("mkdir");
        self.git(
            self.f.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().expect("utf8"),
                bare.to_str().expect("utf8"),
            ],
        );
        let url = format!("file://{}", bare.display());
        (bare, url)
    }

    /// Runs `yaml` in a fresh repository (cwd) with `args` and `env`; the repository and output.
    fn run(&self, yaml: &str, args: &[&str], env: &[(&str, &str)]) -> (PathBuf, Out) {
        self.n.set(self.n.get() + 1);
        let repo = self.repo(&format!("r{}", self.n.get()));
        let p = self.pipeline(yaml);
        let mut all = vec!["run", p.as_str()];
        all.extend_from_slice(args);
        let out = self.cli(&repo, &all, env);
        (repo, out)
    }

    /// `a.txt` on the run branch `codefleet/k` after running `yaml`.
    fn a_after(&self, yaml: &str, args: &[&str], env: &[(&str, &str)]) -> Option<String> {
        let (repo, _) = self.run(yaml, args, env);
        self.show(&repo, "codefleet/k:a.txt")
    }
}

/// A model pipeline against `server`: a `prompt` task over `*.txt`; `{model}` adds to the
/// pipeline's `model:` map, `{task}` to the task.
fn model_pipe(server: &ModelServer, model: &str, task: &str) -> String {
    format!(
        "version: 1\nname: k\nmodel: {{ provider: openai, name: m1, base_url: \"{}\", edit_format: diff{model} }}\ntasks:\n  - name: t\n    files: [a.txt]\n    prompt: Make it new.\n{task}",
        server.base_url()
    )
}

/// A model answer that edits `a.txt` from `old` to `new`.
fn edit_reply() -> Step {
    Step::text("a.txt\n```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n")
}

fn edit_server() -> ModelServer {
    ModelServer::with_handler(|_| edit_reply())
}

fn user_message(r: &Recorded) -> String {
    r.body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| m["content"].as_str().unwrap_or("").to_string())
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// The table.

const ROWS: &[(&str, Row)] = &[
    // Pipeline fields.
    ("field version", Test(field_version)),
    ("field name", Test(field_name)),
    ("field description", Test(field_description)),
    ("field repos[].path", Test(field_repos_path)),
    ("field repos[].list", Test(field_repos_list)),
    ("field repos[].url", Test(field_repos_url)),
    ("field repos[].ref", Test(field_repos_ref)),
    ("field repos[].depth", Test(field_repos_depth)),
    ("field repos[].github.org", Test(field_github_org)),
    ("field repos[].github.user", Test(field_github_user)),
    ("field repos[].github.topics", Test(field_github_topics)),
    ("field repos[].github.search", Test(field_github_search)),
    (
        "field repos[].github.code_search",
        Test(field_github_code_search),
    ),
    ("field repos[].github.include", Test(field_github_include)),
    ("field repos[].github.exclude", Test(field_github_exclude)),
    ("field repos[].github.archived", Test(field_github_archived)),
    ("field repos[].github.forks", Test(field_github_forks)),
    ("field repos[].github.limit", Test(field_github_limit)),
    ("field repos[].gitlab.host", Test(field_gitlab_host)),
    ("field repos[].gitlab.group", Test(field_gitlab_group)),
    (
        "field repos[].gitlab.include_subgroups",
        Test(field_gitlab_include_subgroups),
    ),
    ("field repos[].gitlab.topics", Test(field_gitlab_topics)),
    ("field repos[].gitlab.search", Test(field_gitlab_search)),
    ("field repos[].gitlab.include", Test(field_gitlab_include)),
    ("field repos[].gitlab.exclude", Test(field_gitlab_exclude)),
    ("field repos[].gitlab.archived", Test(field_gitlab_archived)),
    ("field repos[].gitlab.forks", Test(field_gitlab_forks)),
    ("field repos[].gitlab.limit", Test(field_gitlab_limit)),
    ("field repos[].gitea.host", Test(field_gitea_host)),
    ("field repos[].gitea.org", Test(field_gitea_org)),
    ("field repos[].gitea.user", Test(field_gitea_user)),
    ("field repos[].gitea.topics", Test(field_gitea_topics)),
    ("field repos[].gitea.search", Test(field_gitea_search)),
    ("field repos[].gitea.include", Test(field_gitea_include)),
    ("field repos[].gitea.exclude", Test(field_gitea_exclude)),
    ("field repos[].gitea.archived", Test(field_gitea_archived)),
    ("field repos[].gitea.forks", Test(field_gitea_forks)),
    ("field repos[].gitea.limit", Test(field_gitea_limit)),
    ("field vars", Test(field_vars)),
    ("field branch", Test(field_branch)),
    ("field commit.message", Test(field_commit_message)),
    ("field commit.author", Test(field_commit_author)),
    ("field model.provider", Test(field_model_provider)),
    ("field model.name", Test(field_model_name)),
    ("field model.base_url", Test(field_model_base_url)),
    ("field model.api_key_env", Test(field_model_api_key_env)),
    ("field model.edit_format", Test(field_model_edit_format)),
    ("field model.temperature", Test(field_model_temperature)),
    ("field model.timeout", Test(field_model_timeout)),
    ("field model.reflections", Test(field_model_reflections)),
    ("field model.concurrency", Test(field_model_concurrency)),
    (
        "field model.budget.max_requests",
        Test(field_budget_max_requests),
    ),
    (
        "field model.budget.max_tokens",
        Test(field_budget_max_tokens),
    ),
    (
        "field model.budget.max_wall_time",
        Test(field_budget_max_wall_time),
    ),
    ("field policy.deny", Test(field_policy_deny)),
    (
        "field policy.max_file_size",
        Test(field_policy_max_file_size),
    ),
    ("field policy.allow_create", Test(field_policy_allow_create)),
    ("field policy.allow_delete", Test(field_policy_allow_delete)),
    ("field pr.title", Test(field_pr_title)),
    ("field pr.body", Test(field_pr_body)),
    ("field pr.draft", Test(field_pr_draft)),
    ("field pr.labels", Test(field_pr_labels)),
    ("field pr.reviewers", Test(field_pr_reviewers)),
    ("field pr.recreate", Test(field_pr_recreate)),
    ("field pr.commit_via", Test(field_pr_commit_via)),
    ("field pr.assignees", Test(field_pr_assignees)),
    (
        "field pr.remove_source_branch",
        Test(field_pr_remove_source_branch),
    ),
    ("field tasks[].name", Test(field_task_name)),
    ("field tasks[].files", Test(field_task_files)),
    ("field tasks[].exclude", Test(field_task_exclude)),
    ("field tasks[].replace.find", Test(field_replace_find)),
    ("field tasks[].replace.with", Test(field_replace_with)),
    ("field tasks[].replace.regex", Test(field_replace_regex)),
    (
        "field tasks[].replace.case_insensitive",
        Test(field_replace_case_insensitive),
    ),
    (
        "field tasks[].replace.max_count",
        Test(field_replace_max_count),
    ),
    ("field tasks[].edits", Test(field_task_edits)),
    ("field tasks[].format", Test(field_task_format)),
    ("field tasks[].patch", Test(field_task_patch)),
    ("field tasks[].atomic", Test(field_task_atomic)),
    ("field tasks[].allow_shrink", Test(field_task_allow_shrink)),
    ("field tasks[].prompt", Test(field_task_prompt)),
    ("field tasks[].prompt_file", Test(field_task_prompt_file)),
    ("field tasks[].ask", Test(field_task_ask)),
    ("field tasks[].per", Test(field_task_per)),
    (
        "field tasks[].allow_secrets",
        Test(field_task_allow_secrets),
    ),
    ("field tasks[].run", Test(field_task_run)),
    ("field tasks[].check", Test(field_task_check)),
    ("field tasks[].on_fail", Test(field_task_on_fail)),
    ("field tasks[].fix.attempts", Test(field_task_fix_attempts)),
    ("field tasks[].shell", Test(field_task_shell)),
    ("field tasks[].timeout", Test(field_task_timeout)),
    ("field tasks[].cwd", Test(field_task_cwd)),
    ("field tasks[].env", Test(field_task_env)),
    ("field tasks[].concurrency", Test(field_task_concurrency)),
    (
        "field tasks[].model.provider",
        Test(field_task_model_provider),
    ),
    ("field tasks[].model.name", Test(field_task_model_name)),
    (
        "field tasks[].model.base_url",
        Test(field_task_model_base_url),
    ),
    (
        "field tasks[].model.api_key_env",
        Test(field_task_model_api_key_env),
    ),
    (
        "field tasks[].model.edit_format",
        Test(field_task_model_edit_format),
    ),
    (
        "field tasks[].model.temperature",
        Test(field_task_model_temperature),
    ),
    (
        "field tasks[].model.timeout",
        Test(field_task_model_timeout),
    ),
    (
        "field tasks[].model.reflections",
        Test(field_task_model_reflections),
    ),
    // Settings (`codefleet config --json`), each set through its `CODEFLEET_*` variable.
    ("setting jobs", Test(setting_jobs)),
    ("setting color", Test(setting_color)),
    ("setting log_format", Test(setting_log_format)),
    ("setting verbosity", Test(setting_verbosity)),
    ("setting model.provider", Test(setting_model_provider)),
    ("setting model.name", Test(setting_model_name)),
    ("setting model.base_url", Test(setting_model_base_url)),
    ("setting model.edit_format", Test(setting_model_edit_format)),
    ("setting model.concurrency", Test(setting_model_concurrency)),
    ("setting cache.dir", Test(setting_cache_dir)),
    ("setting cache.mode", Test(setting_cache_mode)),
    ("setting github.api_url", Test(setting_github_api_url)),
    ("setting github.token_env", Test(setting_github_token_env)),
    ("setting github.clone", Test(setting_github_clone)),
    ("setting github.hosts", Test(setting_github_hosts)),
    ("setting gitlab.api_url", Test(setting_gitlab_api_url)),
    ("setting gitlab.token_env", Test(setting_gitlab_token_env)),
    ("setting gitlab.hosts", Test(setting_gitlab_hosts)),
    ("setting gitea.hosts", Test(setting_gitea_hosts)),
    (
        "setting default_branch_template",
        Test(setting_branch_template),
    ),
    ("setting author", Test(setting_author)),
    // Flags every command takes.
    ("flag --repo", Test(flag_repo)),
    ("flag --repos-from", Test(flag_repos_from)),
    ("flag --jobs", Test(flag_jobs)),
    ("flag --shard", Test(flag_shard)),
    ("flag --var", Test(flag_var)),
    ("flag --profile", Test(flag_profile)),
    ("flag --json", Test(flag_json)),
    ("flag --verbose", Test(flag_verbose)),
    ("flag --quiet", Test(flag_quiet)),
    ("flag --color", Test(flag_color)),
    ("flag --log-format", Test(flag_log_format)),
    ("flag --config", Test(flag_config)),
    ("flag --help", Test(flag_help)),
    ("flag --version", Test(flag_version)),
    // Flags of one command.
    ("flag run --dry-run", Test(run_dry_run)),
    ("flag run --check", Test(run_check)),
    ("flag run --base", Test(run_base)),
    ("flag plan --base", Test(plan_base)),
    ("flag run --checkout", Test(run_checkout)),
    ("flag run --force", Test(run_force)),
    ("flag run --push", Test(run_push)),
    ("flag run --pr", Test(run_pr)),
    ("flag run --close-empty-prs", Test(run_close_empty_prs)),
    ("flag run --max-prs", Test(run_max_prs)),
    ("flag run --clone-jobs", Test(run_clone_jobs)),
    ("flag run --depth", Test(run_depth)),
    ("flag run --cache-dir", Test(run_cache_dir)),
    ("flag apply --format", Test(apply_format)),
    ("flag apply --dry-run", Test(apply_dry_run)),
    ("flag apply --all-or-nothing", Test(apply_all_or_nothing)),
    ("flag apply --dir", Test(apply_dir)),
    ("flag apply --allow-shrink", Test(apply_allow_shrink)),
    ("flag rollback --task", Test(rollback_task)),
    ("flag schema --report", Test(schema_report)),
    (
        "flag schema --status",
        Test(|_| crate::campaign::knob_schema_status()),
    ),
    (
        "flag status --state",
        Test(|_| crate::campaign::knob_status_state()),
    ),
    (
        "flag status --checks",
        Test(|_| crate::campaign::knob_status_checks()),
    ),
    (
        "flag merge --require",
        Test(|_| crate::campaign::knob_merge_require()),
    ),
    (
        "flag merge --method",
        Test(|_| crate::campaign::knob_merge_method()),
    ),
    (
        "flag merge --auto",
        Test(|_| crate::campaign::knob_merge_auto()),
    ),
    (
        "flag merge --max",
        Test(|_| crate::campaign::knob_merge_max()),
    ),
    (
        "flag merge --pause",
        Test(|_| crate::campaign::knob_merge_pause()),
    ),
    (
        "flag merge --dry-run",
        Test(|_| crate::campaign::knob_merge_dry_run()),
    ),
    (
        "flag merge --include-foreign",
        Test(|_| crate::campaign::knob_merge_include_foreign()),
    ),
    (
        "flag close --comment",
        Test(|_| crate::campaign::knob_close_comment()),
    ),
    (
        "flag close --delete-branch",
        Test(|_| crate::campaign::knob_close_delete_branch()),
    ),
    (
        "flag close --dry-run",
        Test(|_| crate::campaign::knob_close_dry_run()),
    ),
    // Environment variables the README names.
    ("env CODEFLEET_AUTHOR", Same("setting author")),
    (
        "env CODEFLEET_BRANCH_TEMPLATE",
        Same("setting default_branch_template"),
    ),
    ("env CODEFLEET_CACHE", Same("setting cache.mode")),
    ("env CODEFLEET_CACHE_DIR", Same("setting cache.dir")),
    ("env CODEFLEET_COLOR", Same("setting color")),
    ("env CODEFLEET_CONFIG", Test(env_config)),
    (
        "env CODEFLEET_EDIT_FORMAT",
        Same("setting model.edit_format"),
    ),
    ("env CODEFLEET_GITHUB_CLONE", Same("setting github.clone")),
    (
        "env CODEFLEET_GITLAB_API_URL",
        Same("setting gitlab.api_url"),
    ),
    (
        "env CODEFLEET_GITLAB_TOKEN_ENV",
        Same("setting gitlab.token_env"),
    ),
    (
        "env CODEFLEET_GITHUB_API_URL",
        Same("setting github.api_url"),
    ),
    (
        "env CODEFLEET_GITHUB_TOKEN_ENV",
        Same("setting github.token_env"),
    ),
    ("env CODEFLEET_JOBS", Same("setting jobs")),
    ("env CODEFLEET_LOG_FORMAT", Same("setting log_format")),
    ("env CODEFLEET_MODEL", Same("setting model.name")),
    (
        "env CODEFLEET_MODEL_BASE_URL",
        Same("setting model.base_url"),
    ),
    (
        "env CODEFLEET_MODEL_CONCURRENCY",
        Same("setting model.concurrency"),
    ),
    ("env CODEFLEET_MODEL_PRICES", Test(env_model_prices)),
    (
        "env CODEFLEET_MODEL_PROVIDER",
        Same("setting model.provider"),
    ),
    ("env CODEFLEET_PROFILE", Test(env_profile)),
    ("env CODEFLEET_REPO", Test(env_for_commands)),
    ("env CODEFLEET_REPO_NAME", Same("env CODEFLEET_REPO")),
    ("env CODEFLEET_RUN_ID", Same("env CODEFLEET_REPO")),
    ("env CODEFLEET_TASK", Same("env CODEFLEET_REPO")),
    ("env CODEFLEET_VERBOSITY", Same("setting verbosity")),
];

// ---------------------------------------------------------------------------------------------
// What schema, config and --help list.

fn binary(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run codefleet");
    text(&out.stdout)
}

/// Every leaf field of the pipeline schema, as `a.b`, with `[]` for list items.
fn schema_fields() -> BTreeSet<String> {
    let schema: Value = serde_json::from_str(&binary(&["schema"])).expect("schema JSON");
    let defs = schema["$defs"].clone();
    let mut out = BTreeSet::new();
    fn walk(node: &Value, path: &str, defs: &Value, seen: &[String], out: &mut BTreeSet<String>) {
        if let Some(r) = node["$ref"].as_str() {
            let name = r.rsplit('/').next().unwrap_or_default().to_string();
            if seen.contains(&name) {
                return;
            }
            let mut seen = seen.to_vec();
            seen.push(name.clone());
            walk(&defs[&name], path, defs, &seen, out);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for sub in node[key].as_array().into_iter().flatten() {
                walk(sub, path, defs, seen, out);
            }
        }
        if node["items"].is_object() {
            walk(&node["items"], &format!("{path}[]"), defs, seen, out);
        }
        if let Some(props) = node["properties"].as_object() {
            for (name, sub) in props {
                let p = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                let before = out.len();
                walk(sub, &p, defs, seen, out);
                // A field with no fields below it is a knob; a map of fields is not.
                if out.len() == before && !out.iter().any(|o| o.starts_with(&format!("{p}."))) {
                    out.insert(p);
                }
            }
        }
    }
    walk(&schema, "", &defs, &[], &mut out);
    out
}

fn settings() -> BTreeSet<String> {
    let doc: Value = serde_json::from_str(&binary(&["config", "--json"])).expect("config JSON");
    doc["settings"]
        .as_object()
        .expect("settings")
        .keys()
        .cloned()
        .collect()
}

/// `--long` flags of a help text.
fn flags_of(help: &str) -> BTreeSet<String> {
    help.lines()
        .filter_map(|l| {
            let l = l.trim_start();
            let l = l
                .strip_prefix('-')
                .filter(|r| r.chars().next().is_some_and(|c| c.is_ascii_alphabetic()))
                .and_then(|r| r.get(1..))
                .and_then(|r| r.strip_prefix(", "))
                .unwrap_or(l);
            let name = l.strip_prefix("--")?;
            let name: String = name
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
                .collect();
            (!name.is_empty()).then(|| format!("--{name}"))
        })
        .collect()
}

/// The commands `codefleet --help` lists (and `report`'s subcommands), as argument lists.
fn commands() -> Vec<Vec<String>> {
    let help = binary(&["--help"]);
    let mut out = Vec::new();
    let mut in_commands = false;
    for line in help.lines() {
        if line.starts_with("Commands:") {
            in_commands = true;
            continue;
        }
        if in_commands {
            if !line.starts_with("  ") {
                break;
            }
            let name = line.split_whitespace().next().unwrap_or_default();
            if name == "help" {
                continue;
            }
            if name == "report" {
                out.push(vec!["report".to_string(), "merge".to_string()]);
            } else {
                out.push(vec![name.to_string()]);
            }
        }
    }
    out
}

/// Every knob: `field X`, `setting X`, `flag --X` (taken by every command) and `flag CMD --X`.
fn every_knob() -> BTreeSet<String> {
    let mut knobs: BTreeSet<String> = schema_fields()
        .into_iter()
        .map(|f| format!("field {f}"))
        .collect();
    knobs.extend(settings().into_iter().map(|s| format!("setting {s}")));
    let per_command: Vec<(String, BTreeSet<String>)> = commands()
        .into_iter()
        .map(|c| {
            let mut args: Vec<&str> = c.iter().map(String::as_str).collect();
            args.push("--help");
            (c.join(" "), flags_of(&binary(&args)))
        })
        .collect();
    let mut common = flags_of(&binary(&["--help"]));
    for (_, flags) in &per_command {
        common = common.intersection(flags).cloned().collect();
    }
    knobs.extend(common.iter().map(|f| format!("flag {f}")));
    for (cmd, flags) in per_command {
        for f in flags.difference(&common) {
            knobs.insert(format!("flag {cmd} {f}"));
        }
    }
    // The `CODEFLEET_*` variables the README names.
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for (i, _) in readme.match_indices("CODEFLEET_") {
        let name: String = readme[i..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        if name.len() > "CODEFLEET_".len() {
            knobs.insert(format!("env {name}"));
        }
    }
    knobs
}

#[test]
fn every_knob_has_a_row() {
    let knobs = every_knob();
    assert!(knobs.len() > 80, "the lists were not read: {knobs:?}");
    let rows: BTreeSet<String> = ROWS.iter().map(|(k, _)| k.to_string()).collect();
    let missing: Vec<&String> = knobs.difference(&rows).collect();
    let stale: Vec<&String> = rows.difference(&knobs).collect();
    assert!(
        missing.is_empty() && stale.is_empty(),
        "knobs without a row: {missing:#?}\nrows for knobs that no longer exist: {stale:#?}"
    );
    assert_eq!(rows.len(), ROWS.len(), "a knob has two rows");
}

#[test]
fn every_knob_does_something() {
    let only = std::env::var("KNOB").ok();
    let mut failures = Vec::new();
    let mut todo = Vec::new();
    for (knob, row) in ROWS {
        if only.as_deref().is_some_and(|o| !knob.contains(o)) {
            continue;
        }
        match row {
            Todo(why) => todo.push(format!("{knob}: {why}")),
            Same(other) => {
                if !ROWS.iter().any(|(k, r)| k == other && matches!(r, Test(_))) {
                    failures.push(format!("{knob}: the row it names, `{other}`, is no test"));
                }
            }
            Test(check) => {
                let k = K::new();
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&k))) {
                    Ok(Ok(())) => {}
                    Ok(Err(e)) => failures.push(format!("{knob}: {e}")),
                    Err(p) => failures.push(format!(
                        "{knob}: panicked: {}",
                        p.downcast_ref::<String>()
                            .cloned()
                            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                            .unwrap_or_default()
                    )),
                }
            }
        }
    }
    // Straight to stderr, past the test harness's capture: the lead reads this list.
    let mut listing = format!("knob rows still todo ({}):\n", todo.len());
    for t in &todo {
        listing.push_str(&format!("  {t}\n"));
    }
    let _ = std::io::Write::write_all(&mut std::io::stderr(), listing.as_bytes());
    assert!(
        failures.is_empty(),
        "{} knob rows failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

// ---------------------------------------------------------------------------------------------
// Pipeline fields.

fn field_version(k: &K) -> Result<(), String> {
    let (_, ok) = k.run(&pipe("", ""), &[], &[]);
    ensure!(ok.code == 0, "version 1 runs: {ok}");
    let (repo, bad) = k.run(&pipe("", "").replace("version: 1", "version: 2"), &[], &[]);
    ensure!(
        bad.code == 2 && bad.stderr.contains("E016"),
        "version 2 refused: {bad}"
    );
    ensure!(k.tip(&repo, "codefleet/k").is_none(), "nothing ran");
    Ok(())
}

fn field_name(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("", "").replace("name: k", "name: other"), &[], &[]);
    ensure!(
        k.tip(&repo, "codefleet/other").is_some(),
        "branch named after it: {out}"
    );
    Ok(())
}

fn field_description(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "description: The why of it.\n", &[])?;
    ensure!(
        prs[0]
            .body
            .starts_with("The why of it.\n\nMade by codefleet"),
        "the default PR body: {:?}",
        prs[0].body
    );
    Ok(())
}

fn field_repos_path(k: &K) -> Result<(), String> {
    let repo = k.repo("target");
    let p = k.pipeline(&pipe("repos: [{ path: target }]\n", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p], &[]);
    ensure!(
        out.code != 0,
        "without it the directory itself is the target: {out}"
    );
    Ok(())
}

fn field_repos_list(k: &K) -> Result<(), String> {
    let repo = k.repo("listed");
    k.file("list.txt", "# fleet\nlisted\n");
    let p = k.pipeline(&pipe("repos: [{ list: list.txt }]\n", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    Ok(())
}

fn field_repos_url(k: &K) -> Result<(), String> {
    let (bare, url) = k.bare("svc");
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--json"], &[]);
    ensure!(out.json()["repos"][0]["status"] == "changed", "{out}");
    ensure!(
        k.tip(&bare, "codefleet/k").is_none(),
        "not pushed without --push"
    );
    Ok(())
}

fn field_repos_ref(k: &K) -> Result<(), String> {
    let (bare, url) = k.bare("svc");
    let work = k.f.path("work/svc");
    k.git(&work, &["checkout", "-q", "-b", "dev"]);
    std::fs::write(work.join("a.txt"), "old dev\n").map_err(|e| e.to_string())?;
    k.git(&work, &["commit", "-q", "-am", "dev"]);
    k.git(
        &work,
        &["push", "-q", bare.to_str().unwrap_or_default(), "dev"],
    );
    let p = k.pipeline(&pipe(
        &format!("repos: [{{ url: \"{url}\", ref: dev }}]\n"),
        "",
    ));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--push"], &[]);
    ensure!(
        k.show(&bare, "codefleet/k:a.txt").as_deref() == Some("new dev\n"),
        "started from dev: {out}"
    );
    Ok(())
}

/// The clone codefleet made in its cache, found by its `a.txt`.
fn cached_clone(k: &K, cache: &Path) -> Option<PathBuf> {
    let mut stack = vec![cache.to_path_buf()];
    while let Some(d) = stack.pop() {
        if d.join(".git").exists() || d.join("HEAD").is_file() {
            let _ = k;
            return Some(d);
        }
        for e in std::fs::read_dir(&d).ok()?.flatten() {
            if e.path().is_dir() {
                stack.push(e.path());
            }
        }
    }
    None
}

/// Whether the clone under `cache` is shallow (git writes `shallow` in a shallow clone).
fn shallow(k: &K, cache: &Path) -> Option<bool> {
    let clone = cached_clone(k, cache)?;
    Some(clone.join("shallow").is_file() || clone.join(".git/shallow").is_file())
}

/// A remote with three commits on `main`, served over smart HTTP (a `file://` clone is never
/// shallow); the server and its URL.
fn deep_remote(k: &K) -> (git_http::GitHttp, String) {
    let (bare, _) = k.bare("svc");
    let work = k.f.path("work/svc");
    for i in 0..2 {
        std::fs::write(work.join("c.txt"), format!("{i}\n")).expect("write");
        k.git(&work, &["add", "-A"]);
        k.git(&work, &["commit", "-q", "-m", "more"]);
    }
    k.git(
        &work,
        &["push", "-q", bare.to_str().unwrap_or_default(), "main"],
    );
    let server = git_http::GitHttp::start(&k.f.path("srv"), TOKEN);
    let url = format!("{}/acme/svc.git", server.base);
    (server, url)
}

fn field_repos_depth(k: &K) -> Result<(), String> {
    let (_server, url) = deep_remote(k);
    let env = [("GITHUB_TOKEN", TOKEN)];
    let p = k.pipeline(&pipe(
        &format!("repos: [{{ url: \"{url}\", depth: 0 }}]\n"),
        "",
    ));
    let out = k.cli(k.f.dir.path(), &["run", &p], &env);
    ensure!(
        shallow(k, &k.f.path("cache")) == Some(false),
        "depth 0 is a full clone: {out}"
    );
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let other = k.f.path("other-cache");
    let out = k.cli(
        k.f.dir.path(),
        &["run", &p, "--cache-dir", other.to_str().unwrap_or_default()],
        &env,
    );
    ensure!(
        shallow(k, &other) == Some(true),
        "the default (--depth 1) is shallow: {out}"
    );
    Ok(())
}

fn field_vars(k: &K) -> Result<(), String> {
    let yaml = pipe("vars: { to: fresh }\n", "").replace("with: new", "with: \"{{ vars.to }}\"");
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("fresh\n"),
        "vars reach with:"
    );
    Ok(())
}

fn field_branch(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("branch: mine/{{ pipeline }}\n", ""), &[], &[]);
    ensure!(k.tip(&repo, "mine/k").is_some(), "{out}");
    ensure!(
        k.tip(&repo, "codefleet/k").is_none(),
        "not the default branch"
    );
    Ok(())
}

fn field_commit_message(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(
        &pipe("commit: { message: \"chore: {{ task }}\" }\n", ""),
        &[],
        &[],
    );
    let subject = k.git(&repo, &["log", "-1", "--format=%s", "codefleet/k"]);
    ensure!(subject == "chore: t", "subject {subject:?}");
    Ok(())
}

fn field_commit_author(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(
        &pipe("commit: { author: \"Bot <bot@example.com>\" }\n", ""),
        &[],
        &[],
    );
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Bot <bot@example.com>", "author {who:?}");
    let (repo, _) = k.run(&pipe("", ""), &[], &[]);
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(
        who == "codefleet <codefleet@localhost>",
        "default author {who:?}"
    );
    Ok(())
}

/// Runs a model pipeline; the server's requests and the output.
fn model_run(
    k: &K,
    server: &ModelServer,
    model: &str,
    task: &str,
    env: &[(&str, &str)],
) -> (PathBuf, Out) {
    let yaml = model_pipe(server, model, task);
    let mut env = env.to_vec();
    env.push(OPENAI_KEY);
    k.run(&yaml, &["--json"], &env)
}

fn field_model_provider(k: &K) -> Result<(), String> {
    let server = edit_server();
    let yaml = model_pipe(&server, "", "").replace("provider: openai", "provider: ollama");
    let (repo, out) = k.run(&yaml, &[], &[]);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    ensure!(paths == ["/api/chat"], "the Ollama wire: {paths:?} {out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    Ok(())
}

fn field_model_name(k: &K) -> Result<(), String> {
    let server = edit_server();
    model_run(k, &server, "", "", &[]);
    let names: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    ensure!(names == [Value::from("m1")], "{names:?}");
    Ok(())
}

fn field_model_base_url(k: &K) -> Result<(), String> {
    let server = edit_server();
    let (repo, out) = model_run(k, &server, "", "", &[]);
    ensure!(server.request_count() == 1, "{out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    Ok(())
}

fn field_model_api_key_env(k: &K) -> Result<(), String> {
    let server = edit_server();
    model_run(
        k,
        &server,
        ", api_key_env: MY_KEY",
        "",
        &[("MY_KEY", "sk-mine")],
    );
    let auth: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    ensure!(auth == [Some("Bearer sk-mine".to_string())], "{auth:?}");
    Ok(())
}

fn field_model_edit_format(k: &K) -> Result<(), String> {
    let server = edit_server();
    let yaml = model_pipe(&server, "", "").replace("edit_format: diff", "edit_format: whole");
    let p = k.pipeline(&yaml);
    let repo = k.repo("r");
    let out = k.cli(&repo, &["plan", &p, "--json"], &[]);
    let f = &out.json()["repos"][0]["tasks"][0]["model"]["edit_format"];
    ensure!(f == "whole", "{out}");
    Ok(())
}

fn field_model_temperature(k: &K) -> Result<(), String> {
    let server = edit_server();
    model_run(k, &server, ", temperature: 0.25", "", &[]);
    let t: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["temperature"].clone())
        .collect();
    ensure!(t == [Value::from(0.25)], "{t:?}");
    Ok(())
}

/// A model server that answers with the edit, but only after 1.5 s.
fn late_server() -> ModelServer {
    ModelServer::with_handler(|_| edit_reply().slow(std::time::Duration::from_millis(1500)))
}

/// The request to a server that answers late fails under a short `timeout` (every retry too:
/// E407, nothing committed) and succeeds under the default.
fn field_model_timeout(k: &K) -> Result<(), String> {
    let off = ("CODEFLEET_CACHE", "off");
    let server = late_server();
    let (repo, out) = model_run(k, &server, ", timeout: 300ms", "", &[off]);
    ensure!(out.code == 1, "a request over the limit fails: {out}");
    ensure!(
        out.stdout.contains("E407") && out.stdout.contains("did not answer within the time limit"),
        "{out}"
    );
    ensure!(k.tip(&repo, "codefleet/k").is_none(), "nothing: {out}");
    let (repo, out) = model_run(k, &server, "", "", &[off]);
    ensure!(
        out.code == 0 && k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "the default waits for the answer: {out}"
    );
    Ok(())
}

/// A server whose first answer does not apply (its SEARCH text is not in the file).
fn failing_then_good() -> ModelServer {
    ModelServer::with_handler(|r| {
        if r.body["messages"].as_array().map_or(0, Vec::len) <= 2 {
            Step::text("a.txt\n```\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE\n```\n")
        } else {
            edit_reply()
        }
    })
}

fn field_model_reflections(k: &K) -> Result<(), String> {
    let server = failing_then_good();
    let (repo, out) = model_run(k, &server, ", reflections: 1", "", &[]);
    ensure!(server.request_count() == 2, "feedback sent once: {out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    let server = failing_then_good();
    let (_, out) = model_run(k, &server, ", reflections: 0", "", &[]);
    ensure!(server.request_count() == 1, "no feedback round: {out}");
    ensure!(out.code == 1, "the failed edit fails the run: {out}");
    Ok(())
}

fn field_budget_max_requests(k: &K) -> Result<(), String> {
    let server = edit_server();
    let yaml = model_pipe(&server, ", budget: { max_requests: 1 }", "")
        .replace("files: [a.txt]", "files: [a.txt, b.txt]\n    per: file");
    let mut env = vec![OPENAI_KEY];
    env.truncate(1);
    let (_, out) = k.run(&yaml, &["--json"], &env);
    ensure!(server.request_count() == 1, "stopped at the budget: {out}");
    ensure!(out.code == 1, "the budget stop is a failure: {out}");
    Ok(())
}

fn field_budget_max_tokens(k: &K) -> Result<(), String> {
    let server = ModelServer::with_handler(|_| edit_reply().usage(1000, 0, 1000));
    // One request at a time, so the first answer's tokens are counted before the second.
    let yaml = model_pipe(&server, ", concurrency: 1, budget: { max_tokens: 10 }", "")
        .replace("files: [a.txt]", "files: [a.txt, b.txt]\n    per: file");
    let (_, out) = k.run(&yaml, &["--json"], &[OPENAI_KEY]);
    ensure!(
        server.request_count() == 1,
        "stopped once over the budget: {out}"
    );
    ensure!(out.code == 1, "{out}");
    Ok(())
}

fn field_budget_max_wall_time(k: &K) -> Result<(), String> {
    // The first answer comes after the whole budget has passed: the second is never asked.
    let server =
        ModelServer::with_handler(|_| edit_reply().slow(std::time::Duration::from_millis(1500)));
    let yaml = model_pipe(
        &server,
        ", concurrency: 1, budget: { max_wall_time: 1s }",
        "",
    )
    .replace("files: [a.txt]", "files: [a.txt, b.txt]\n    per: file");
    let (_, out) = k.run(&yaml, &["--json"], &[OPENAI_KEY]);
    ensure!(
        server.request_count() == 1,
        "stopped at the wall-time budget: {out}"
    );
    ensure!(out.code == 1, "{out}");
    Ok(())
}

fn field_policy_deny(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("policy: { deny: [a.txt] }\n", ""), &["--json"], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("old\n"),
        "{out}"
    );
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("new too\n"),
        "{out}"
    );
    ensure!(
        out.json()["repos"][0]["tasks"][0]["skipped"]["denied"] == 1,
        "counted: {out}"
    );
    Ok(())
}

/// A `patch:` task creating `made.txt` and deleting `b.txt`.
fn patch_pipe(k: &K, policy: &str) -> String {
    let patch = k.file(
        "change.diff",
        "diff --git a/made.txt b/made.txt\nnew file mode 100644\n--- /dev/null\n+++ b/made.txt\n@@ -0,0 +1 @@\n+made\n",
    );
    let del = k.file(
        "delete.diff",
        "diff --git a/b.txt b/b.txt\ndeleted file mode 100644\n--- a/b.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-old too\n",
    );
    format!(
        "version: 1\nname: k\n{policy}tasks:\n  - name: create\n    patch: {patch}\n  - name: delete\n    patch: {del}\n"
    )
}

fn field_policy_allow_create(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&patch_pipe(k, ""), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:made.txt").as_deref() == Some("made\n"),
        "{out}"
    );
    let (repo, out) = k.run(
        &patch_pipe(k, "policy: { allow_create: false }\n"),
        &[],
        &[],
    );
    ensure!(
        k.show(&repo, "codefleet/k:made.txt").is_none(),
        "refused: {out}"
    );
    ensure!(out.code == 1, "{out}");
    Ok(())
}

fn field_policy_allow_delete(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&patch_pipe(k, ""), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").is_some(),
        "not deleted by default: {out}"
    );
    let (repo, out) = k.run(&patch_pipe(k, "policy: { allow_delete: true }\n"), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").is_none(),
        "deleted: {out}"
    );
    Ok(())
}

const TOKEN: &str = "gh-token";

/// `run --pr` of a url: repository against the GitHub stand-in; the pull requests it holds.
fn pr_run(k: &K, top: &str, args: &[&str]) -> Result<(Out, Vec<github::Pr>), String> {
    let gh = github::FakeGitHub::start(TOKEN);
    let (_, url) = k.bare("svc");
    let p = k.pipeline(&pipe(&format!("{top}repos: [{{ url: \"{url}\" }}]\n"), ""));
    let mut all = vec!["run", p.as_str(), "--pr", "--json"];
    all.extend_from_slice(args);
    let out = k.cli(
        k.f.dir.path(),
        &all,
        &[
            ("GITHUB_TOKEN", TOKEN),
            ("CODEFLEET_GITHUB_API_URL", &gh.url),
        ],
    );
    let prs = gh.prs();
    ensure!(
        !prs.is_empty() || args.contains(&"--max-prs"),
        "no PR: {out}"
    );
    Ok((out, prs))
}

fn field_pr_title(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "pr: { title: \"T {{ repo.name }}\" }\n", &[])?;
    ensure!(prs[0].title == "T svc", "{:?}", prs[0].title);
    Ok(())
}

fn field_pr_body(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "pr: { body: \"B {{ repo.name }}\" }\n", &[])?;
    let body = codefleet::forge::marker::strip(&prs[0].body);
    ensure!(body == "B svc", "{:?}", prs[0].body);
    Ok(())
}

fn field_pr_draft(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "pr: { draft: true }\n", &[])?;
    ensure!(prs[0].draft, "a draft");
    let (_, prs) = pr_run(&K::new(), "", &[])?;
    ensure!(!prs[0].draft, "not a draft by default");
    Ok(())
}

fn field_pr_labels(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "pr: { labels: [bot] }\n", &[])?;
    ensure!(prs[0].labels == ["bot"], "{:?}", prs[0].labels);
    Ok(())
}

/// `run --pr` on the fake GitLab (listed under `gitlab.hosts`) with `top` (a `pr:` line): the
/// merge request it opened, and the users `ann` and `bob` by id.
fn gitlab_mr_run(k: &K, top: &str) -> Result<(crate::support::gitlab::Mr, [u64; 2]), String> {
    use crate::support::gitlab::{FakeGitLab, Project};
    let lab = FakeGitLab::start(&k.f.path("lab"), TOKEN);
    lab.add_project(Project::new("acme/app"), &[("a.txt", "old\n")]);
    let ids = [lab.add_user("ann"), lab.add_user("bob")];
    let host = lab.url.trim_start_matches("http://").to_string();
    let config = k.f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "gitlab:\n  hosts:\n    - {{ host: '{host}', api_url: '{}' }}\n",
            lab.api
        ),
    )
    .expect("settings");
    let url = lab.clone_url("acme/app");
    let p = k.pipeline(&pipe(&format!("{top}repos: [{{ url: \"{url}\" }}]\n"), ""));
    let out = k.cli(
        k.f.dir.path(),
        &["run", &p, "--pr", "--json"],
        &[("GITLAB_TOKEN", TOKEN)],
    );
    let mrs = lab.mrs();
    ensure!(out.code == 0 && mrs.len() == 1, "{out}");
    Ok((mrs[0].clone(), ids))
}

/// GitLab takes assignees by id: the usernames are looked up and sent as `assignee_ids`.
fn field_pr_assignees(k: &K) -> Result<(), String> {
    let (mr, [ann, bob]) = gitlab_mr_run(k, "pr: { assignees: [ann, bob] }\n")?;
    ensure!(mr.assignee_ids == [ann, bob], "{:?}", mr.assignee_ids);
    let (mr, _) = gitlab_mr_run(&K::new(), "")?;
    ensure!(mr.assignee_ids.is_empty(), "{:?}", mr.assignee_ids);
    Ok(())
}

/// GitLab's merge request option: set with `true`, left off by default.
fn field_pr_remove_source_branch(k: &K) -> Result<(), String> {
    let (mr, _) = gitlab_mr_run(k, "pr: { remove_source_branch: true }\n")?;
    ensure!(mr.remove_source_branch, "set: {mr:?}");
    let (mr, _) = gitlab_mr_run(&K::new(), "")?;
    ensure!(!mr.remove_source_branch, "default: {mr:?}");
    Ok(())
}

fn field_pr_reviewers(k: &K) -> Result<(), String> {
    let (_, prs) = pr_run(k, "pr: { reviewers: [octocat] }\n", &[])?;
    ensure!(prs[0].reviewers == ["octocat"], "{:?}", prs[0].reviewers);
    Ok(())
}

/// A person closes the pull request; the re-run leaves it closed (`never`, the default) or
/// opens a new one (`always`).
fn field_pr_recreate(_: &K) -> Result<(), String> {
    for (top, want) in [("", 1), ("pr: { recreate: always }\n", 2)] {
        let k = K::new();
        let gh = github::FakeGitHub::start(TOKEN);
        let (_, url) = k.bare("svc");
        let p = k.pipeline(&pipe(&format!("{top}repos: [{{ url: \"{url}\" }}]\n"), ""));
        let env = [
            ("GITHUB_TOKEN", TOKEN),
            ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
        ];
        let run = || k.cli(k.f.dir.path(), &["run", &p, "--pr", "--json"], &env);
        let out = run();
        ensure!(out.code == 0 && gh.prs().len() == 1, "{out}");
        gh.state.lock().expect("fake").prs[0].state = "closed".into();
        let out = run();
        ensure!(out.code == 0, "{out}");
        ensure!(
            gh.prs().len() == want,
            "{top:?}: {} pull requests: {out}",
            gh.prs().len()
        );
    }
    Ok(())
}

/// `--push` alone with `commit_via: api`: GitHub (the fake) makes the commit; by default git
/// pushes codefleet's own.
fn field_pr_commit_via(k: &K) -> Result<(), String> {
    for (top, by_github) in [("pr: { commit_via: api }\n", true), ("", false)] {
        let k = if by_github { k } else { &K::new() };
        let gh = github::FakeGitHub::start(TOKEN);
        let (bare, url) = k.bare("svc");
        gh.add_repo(github::Repo::new("acme/svc").git(&bare, &url));
        let p = k.pipeline(&pipe(&format!("{top}repos: [{{ url: \"{url}\" }}]\n"), ""));
        let env = [
            ("GITHUB_TOKEN", TOKEN),
            ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
        ];
        let out = k.cli(
            k.f.dir.path(),
            &["run", p.as_str(), "--push", "--json"],
            &env,
        );
        ensure!(out.code == 0, "{out}");
        let committer = k.git(&bare, &["log", "-1", "--format=%cn", "codefleet/k"]);
        ensure!(
            (committer == "GitHub") == by_github,
            "{top}: committer {committer}"
        );
        ensure!(
            gh.mutations().len() == usize::from(by_github),
            "{top}: {:?}",
            gh.mutations()
        );
    }
    Ok(())
}

fn field_task_name(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(
        &pipe("", "").replace("name: t", "name: rename it"),
        &[],
        &[],
    );
    let subject = k.git(&repo, &["log", "-1", "--format=%s", "codefleet/k"]);
    ensure!(subject == "rename it", "{subject:?}");
    Ok(())
}

fn field_task_files(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(&pipe("", "").replace("\"*.txt\"", "a.txt"), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("old too\n"),
        "b.txt not selected"
    );
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "a.txt selected"
    );
    Ok(())
}

fn field_task_exclude(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(&pipe("", "    exclude: [b.txt]\n"), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("old too\n"),
        "excluded"
    );
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "the rest"
    );
    Ok(())
}

fn field_replace_find(k: &K) -> Result<(), String> {
    let yaml = pipe("", "").replace("find: old", "find: too");
    let (repo, _) = k.run(&yaml, &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("old new\n"),
        "found"
    );
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("old\n"),
        "not found"
    );
    Ok(())
}

fn field_replace_with(k: &K) -> Result<(), String> {
    let yaml = pipe("", "").replace("with: new", "with: neu");
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("neu\n"),
        "replaced by it"
    );
    Ok(())
}

fn field_replace_regex(k: &K) -> Result<(), String> {
    let yaml = pipe("", "").replace(
        "find: old, with: new",
        "find: 'o(l)d', with: '[$1]', regex: true",
    );
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("[l]\n"),
        "a regex"
    );
    let yaml = pipe("", "").replace("find: old, with: new", "find: 'o(l)d', with: '[$1]'");
    ensure!(
        k.a_after(&yaml, &[], &[]).is_none(),
        "literal: no match, no branch"
    );
    Ok(())
}

fn field_replace_max_count(k: &K) -> Result<(), String> {
    let yaml = pipe("", "").replace("find: old, with: new", "find: o, with: \"0\", max_count: 1");
    let (repo, _) = k.run(&yaml, &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("0ld too\n"),
        "only the first"
    );
    Ok(())
}

fn field_task_edits(k: &K) -> Result<(), String> {
    let edits = k.file(
        "e.md",
        "a.txt\n```\n<<<<<<< SEARCH\nold\n=======\nedited\n>>>>>>> REPLACE\n```\n",
    );
    let yaml = format!("version: 1\nname: k\ntasks:\n  - name: t\n    edits: {edits}\n");
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("edited\n"),
        "applied"
    );
    Ok(())
}

fn field_task_format(k: &K) -> Result<(), String> {
    let edits = k.file("e.txt", "a.txt\n```\nwhole new\n```\n");
    let yaml = format!(
        "version: 1\nname: k\ntasks:\n  - name: t\n    edits: {edits}\n    format: whole\n"
    );
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("whole new\n"),
        "read as whole files"
    );
    let yaml =
        format!("version: 1\nname: k\ntasks:\n  - name: t\n    edits: {edits}\n    format: diff\n");
    // Read as SEARCH/REPLACE the same text holds no edit: the task fails and says so.
    let (repo, out) = k.run(&yaml, &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").is_none(),
        "not SEARCH/REPLACE: {out}"
    );
    ensure!(
        out.code == 1 && out.stdout.contains("found no edits in"),
        "{out}"
    );
    Ok(())
}

fn field_task_patch(k: &K) -> Result<(), String> {
    let patch = k.file(
        "a.diff",
        "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+patched\n",
    );
    let yaml = format!("version: 1\nname: k\ntasks:\n  - name: t\n    patch: {patch}\n");
    ensure!(
        k.a_after(&yaml, &[], &[]).as_deref() == Some("patched\n"),
        "applied"
    );
    Ok(())
}

/// A two-hunk patch whose second hunk does not apply: nothing by default (`atomic: task`), the
/// good hunk with `atomic: none`, marked partial.
fn field_task_atomic(k: &K) -> Result<(), String> {
    let repo = k.f.repo(
        "atomic",
        &[("a.txt", "old\n2\n3\n4\n5\n6\n7\n8\n9\nlast\n")],
    );
    let patch = k.file(
        "bad.diff",
        "--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n-old\n+new\n 2\n@@ -9,2 +9,2 @@\n 9\n-not there\n+x\n",
    );
    let run = |atomic: &str| {
        let p = k.pipeline(&format!(
            "version: 1\nname: k\ntasks:\n  - name: t\n    patch: {patch}\n{atomic}"
        ));
        k.cli(&repo, &["run", &p, "--json"], &[])
    };
    let out = run("");
    ensure!(out.code == 1, "{out}");
    ensure!(
        k.tip(&repo, "codefleet/k").is_none(),
        "nothing by default: {out}"
    );
    let out = run("    atomic: none\n");
    ensure!(out.code == 1, "{out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt")
            .is_some_and(|a| a.starts_with("new\n")),
        "the good hunk lands: {out}"
    );
    ensure!(
        out.json()["repos"][0]["tasks"][0]["partial"] == true,
        "marked partial: {out}"
    );
    Ok(())
}

/// `a.txt` = `OLD Old old`: every spelling is replaced only when case-insensitive.
fn field_replace_case_insensitive(k: &K) -> Result<(), String> {
    let run = |flag: &str| {
        k.n.set(k.n.get() + 1);
        let repo =
            k.f.repo(&format!("ci{}", k.n.get()), &[("a.txt", "OLD Old old\n")]);
        let p = k.pipeline(&pipe("", "").replace("with: new }", &format!("with: new{flag} }}")));
        let out = k.cli(&repo, &["run", &p], &[]);
        (out, k.show(&repo, "codefleet/k:a.txt"))
    };
    let (out, plain) = run("");
    ensure!(plain.as_deref() == Some("OLD Old new\n"), "{out}");
    let (out, folded) = run(", case_insensitive: true");
    ensure!(folded.as_deref() == Some("new new new\n"), "{out}");
    Ok(())
}

/// A 2 MB `big.txt`: `replace` edits it with no limit set; `max_file_size: 1MiB` skips it,
/// counted and listed.
fn field_policy_max_file_size(k: &K) -> Result<(), String> {
    let big = "old\n".repeat(500_000);
    let run = |top: &str| {
        k.n.set(k.n.get() + 1);
        let repo = k.f.repo(&format!("big{}", k.n.get()), &[("big.txt", &big)]);
        let p = k.pipeline(&pipe(top, ""));
        let out = k.cli(&repo, &["run", &p, "--json"], &[]);
        (out.json(), k.show(&repo, "codefleet/k:big.txt"))
    };
    let (report, after) = run("");
    ensure!(
        after.is_some_and(|a| a.starts_with("new\n")),
        "edited without a limit: {report}"
    );
    let (report, after) = run("policy: { max_file_size: 1MiB }\n");
    ensure!(after.is_none(), "skipped under the limit: {report}");
    ensure!(report["totals"]["files_skipped"] == 1, "{report}");
    ensure!(
        report["repos"][0]["tasks"][0]["skipped"]["files"][0]["reason"] == "too_large",
        "{report}"
    );
    Ok(())
}

fn field_task_prompt(k: &K) -> Result<(), String> {
    let server = edit_server();
    let (repo, out) = model_run(k, &server, "", "", &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    let asked = server
        .requests()
        .first()
        .map(user_message)
        .unwrap_or_default();
    ensure!(
        asked.contains("Make it new."),
        "the prompt was sent: {asked}"
    );
    Ok(())
}

fn field_task_prompt_file(k: &K) -> Result<(), String> {
    let server = edit_server();
    let file = k.file("ask.md", "Instructions from a file.\n");
    let yaml = model_pipe(&server, "", "")
        .replace("prompt: Make it new.", &format!("prompt_file: {file}"));
    let (_, out) = k.run(&yaml, &[], &[OPENAI_KEY]);
    let asked = server
        .requests()
        .first()
        .map(user_message)
        .unwrap_or_default();
    ensure!(asked.contains("Instructions from a file."), "{asked} {out}");
    Ok(())
}

/// A whole-file reply keeping one line of a ten-line file: refused (and nothing committed)
/// unless the task sets `allow_shrink: true`.
fn field_task_allow_shrink(k: &K) -> Result<(), String> {
    let long: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    let run = |task: &str| {
        let server = ModelServer::with_handler(|_| Step::text("a.txt\n```\nline 1\n```\n"));
        k.n.set(k.n.get() + 1);
        let repo =
            k.f.repo(&format!("shrink{}", k.n.get()), &[("a.txt", &long)]);
        let yaml = model_pipe(&server, "", task)
            .replace("edit_format: diff", "edit_format: whole, reflections: 0");
        let p = k.pipeline(&yaml);
        let out = k.cli(&repo, &["run", &p, "--json"], &[OPENAI_KEY]);
        (out, k.show(&repo, "codefleet/k:a.txt"))
    };
    let (out, a) = run("");
    ensure!(
        out.code == 1 && a.is_none(),
        "refused by default: {a:?} {out}"
    );
    ensure!(
        out.stdout.contains("allow_shrink"),
        "the reason names it: {out}"
    );
    let (out, a) = run("    allow_shrink: true\n");
    ensure!(
        out.code == 0 && a.as_deref() == Some("line 1\n"),
        "applied with it: {a:?} {out}"
    );
    Ok(())
}

fn field_task_ask(k: &K) -> Result<(), String> {
    let server = ModelServer::with_handler(|_| Step::text("It says old."));
    let yaml =
        model_pipe(&server, "", "").replace("prompt: Make it new.", "ask: What does it say?");
    let (repo, out) = k.run(&yaml, &["--json"], &[OPENAI_KEY]);
    let answer = &out.json()["repos"][0]["tasks"][0]["answers"][0];
    ensure!(
        answer.to_string().contains("It says old."),
        "the answer is reported: {out}"
    );
    ensure!(k.tip(&repo, "codefleet/k").is_none(), "ask changes nothing");
    Ok(())
}

fn field_task_per(k: &K) -> Result<(), String> {
    let server = edit_server();
    let yaml = model_pipe(&server, "", "").replace("files: [a.txt]", "files: [a.txt, b.txt]");
    let plan = |yaml: &str| {
        let p = k.pipeline(yaml);
        let repo = k.repo(&format!("plan{}", k.n.get()));
        k.cli(&repo, &["plan", &p, "--json"], &[]).json()["repos"][0]["tasks"][0]["model"]
            ["requests"]
            .clone()
    };
    let per_file = plan(&yaml.replace("    prompt:", "    per: file\n    prompt:"));
    let per_repo = plan(&yaml.replace("    prompt:", "    per: repo\n    prompt:"));
    ensure!(
        per_file == 2 && per_repo == 1,
        "requests: per file {per_file}, per repo {per_repo}"
    );
    Ok(())
}

fn field_task_allow_secrets(k: &K) -> Result<(), String> {
    let key = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n-----END OPENSSH PRIVATE KEY-----\n";
    let sent = |allow: &str| -> Result<bool, String> {
        let server = edit_server();
        let repo = k.f.repo(
            &format!("s{}", k.n.get()),
            &[("a.txt", &format!("old\n{key}"))],
        );
        k.n.set(k.n.get() + 1);
        let yaml = model_pipe(&server, "", allow);
        let p = k.pipeline(&yaml);
        k.cli(&repo, &["run", &p], &[OPENAI_KEY]);
        Ok(server
            .requests()
            .iter()
            .any(|r| user_message(r).contains("BEGIN OPENSSH PRIVATE KEY")))
    };
    ensure!(
        !sent("")?,
        "a private key is kept out of requests by default"
    );
    ensure!(sent("    allow_secrets: true\n")?, "sent when allowed");
    Ok(())
}

fn shell_pipe(task: &str) -> String {
    format!("version: 1\nname: k\ntasks:\n  - name: t\n{task}")
}

fn field_task_run(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&shell_pipe("    run: echo made > made.txt\n"), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:made.txt").as_deref() == Some("made\n"),
        "{out}"
    );
    Ok(())
}

fn field_task_check(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&shell_pipe("    check: \"false\"\n"), &[], &[]);
    ensure!(out.code == 1, "a failing check fails the run: {out}");
    let (_, out) = k.run(&shell_pipe("    check: \"true\"\n"), &[], &[]);
    ensure!(out.code == 0, "{out}");
    Ok(())
}

/// `replace` then a check it breaks, then a task after the check: by default (`revert`) the
/// broken commit goes and the next task runs; `stop` keeps it and runs nothing more.
fn field_task_on_fail(k: &K) -> Result<(), String> {
    let run = |on_fail: &str| {
        let yaml = pipe("", "")
            + "  - name: gate\n    check: grep -q old a.txt\n"
            + on_fail
            + "  - name: after\n    files: [b.txt]\n    replace: { find: too, with: also }\n";
        let (repo, out) = k.run(&yaml, &["--json"], &[]);
        let a = k.show(&repo, "codefleet/k:a.txt");
        let b = k.show(&repo, "codefleet/k:b.txt");
        (out, a, b)
    };
    let (out, a, b) = run("");
    ensure!(out.code == 1, "a failed check fails the run: {out}");
    ensure!(
        a.as_deref() == Some("old\n") && b.as_deref() == Some("old also\n"),
        "reverted, and the next task ran: {a:?} {b:?} {out}"
    );
    ensure!(
        out.json()["repos"][0]["tasks"][0]["status"] == "reverted",
        "{out}"
    );
    let (out, a, b) = run("    on_fail: stop\n");
    ensure!(out.code == 1, "{out}");
    ensure!(
        a.as_deref() == Some("new\n") && b.as_deref() == Some("new too\n"),
        "kept, and nothing ran after it: {a:?} {b:?} {out}"
    );
    ensure!(
        out.json()["repos"][0]["tasks"][2]["status"] == "skipped",
        "{out}"
    );
    Ok(())
}

/// A server for fix rounds: the first answer does not fix the check (`bad` → `worse`), the
/// next ones do (`worse` → `good`).
fn fixing_server() -> ModelServer {
    let asked = std::sync::atomic::AtomicUsize::new(0);
    ModelServer::with_handler(move |_| {
        let (from, to) = if asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0 {
            ("bad", "worse")
        } else {
            ("worse", "good")
        };
        Step::text(&format!(
            "a.txt\n```\n<<<<<<< SEARCH\n{from}\n=======\n{to}\n>>>>>>> REPLACE\n```\n"
        ))
    })
}

/// A check broken by the task before it, fixed by the model in its second round: fixed with
/// `attempts: 2`, reverted after one round with `attempts: 1`, no model asked without `fix:`.
fn field_task_fix_attempts(k: &K) -> Result<(), String> {
    let run = |fix: &str| {
        let server = fixing_server();
        k.n.set(k.n.get() + 1);
        let repo =
            k.f.repo(&format!("fix{}", k.n.get()), &[("a.txt", "good\n")]);
        let p = k.pipeline(&format!(
            "version: 1\nname: k\nmodel: {{ provider: openai, name: m1, base_url: \"{}\", edit_format: diff }}\ntasks:\n  - name: break\n    replace: {{ find: good, with: bad }}\n  - name: gate\n    check: \"grep -q good a.txt || {{ echo a.txt:1: expected good; exit 1; }}\"\n{fix}",
            server.base_url()
        ));
        let out = k.cli(
            &repo,
            &["run", &p, "--json"],
            &[OPENAI_KEY, ("CODEFLEET_CACHE", "off")],
        );
        let log = k
            .tip(&repo, "codefleet/k")
            .map(|_| k.git(&repo, &["log", "--format=%s", "main..codefleet/k"]));
        (out, server.request_count(), log)
    };
    let (out, asked, log) = run("    fix: { attempts: 2 }\n");
    ensure!(out.code == 0, "a check fixed is no failure: {out}");
    ensure!(
        asked == 2 && log.as_deref() == Some("gate (fix 2)\ngate (fix 1)\nbreak"),
        "two rounds, the second fixed it: {asked} {log:?} {out}"
    );
    let (out, asked, log) = run("    fix: { attempts: 1 }\n");
    ensure!(
        out.code == 1 && asked == 1,
        "one round, still failing: {asked} {out}"
    );
    ensure!(
        !log.is_some_and(|l| l.contains("break")),
        "the round and what it guarded are reverted: {out}"
    );
    let (out, asked, _) = run("");
    ensure!(
        out.code == 1 && asked == 0,
        "no model without fix: {asked} {out}"
    );
    Ok(())
}

fn field_task_shell(k: &K) -> Result<(), String> {
    let task = "    run: echo \"$X\" > x.txt\n";
    let (repo, _) = k.run(
        &shell_pipe(&format!("{task}    shell: env X=via-shell sh -c\n")),
        &[],
        &[],
    );
    ensure!(
        k.show(&repo, "codefleet/k:x.txt").as_deref() == Some("via-shell\n"),
        "its shell"
    );
    let (repo, _) = k.run(&shell_pipe(task), &[], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:x.txt").as_deref() == Some("\n"),
        "the default shell"
    );
    Ok(())
}

fn field_task_timeout(k: &K) -> Result<(), String> {
    let (_, out) = k.run(
        &shell_pipe("    run: sleep 60\n    timeout: 1s\n"),
        &["--json"],
        &[],
    );
    ensure!(out.code == 1, "{out}");
    ensure!(
        out.json()["repos"][0]["tasks"][0]["command"]["timed_out"] == true,
        "{out}"
    );
    Ok(())
}

fn field_task_cwd(k: &K) -> Result<(), String> {
    let repo = k.f.repo("c", &[("sub/keep.txt", "x\n")]);
    let p = k.pipeline(&shell_pipe("    run: echo here > here.txt\n    cwd: sub\n"));
    let out = k.cli(&repo, &["run", &p], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:sub/here.txt").is_some(),
        "ran in sub/: {out}"
    );
    Ok(())
}

fn field_task_env(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(
        &shell_pipe("    run: echo \"$X\" > x.txt\n    env: { X: from-env }\n"),
        &[],
        &[],
    );
    ensure!(
        k.show(&repo, "codefleet/k:x.txt").as_deref() == Some("from-env\n"),
        "{out}"
    );
    Ok(())
}

/// A model pipeline whose task sets `{model}` in its own `model:`.
fn task_model(server: &ModelServer, model: &str) -> String {
    model_pipe(server, "", &format!("    model: {{ {model} }}\n"))
}

fn field_task_model_provider(k: &K) -> Result<(), String> {
    let server = edit_server();
    let yaml = task_model(
        &server,
        &format!(
            "provider: ollama, name: local, base_url: \"{}\"",
            server.base_url()
        ),
    );
    k.run(&yaml, &[], &[OPENAI_KEY]);
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    ensure!(paths == ["/api/chat"], "{paths:?}");
    Ok(())
}

fn field_task_model_name(k: &K) -> Result<(), String> {
    let server = edit_server();
    k.run(&task_model(&server, "name: m2"), &[], &[OPENAI_KEY]);
    let names: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    ensure!(names == [Value::from("m2")], "{names:?}");
    Ok(())
}

fn field_task_model_base_url(k: &K) -> Result<(), String> {
    let unused = edit_server();
    let server = edit_server();
    let yaml = model_pipe(
        &unused,
        "",
        &format!("    model: {{ base_url: \"{}\" }}\n", server.base_url()),
    );
    k.run(&yaml, &[], &[OPENAI_KEY]);
    ensure!(
        server.request_count() == 1 && unused.request_count() == 0,
        "the task's server"
    );
    Ok(())
}

fn field_task_model_api_key_env(k: &K) -> Result<(), String> {
    let server = edit_server();
    k.run(
        &task_model(&server, "api_key_env: TASK_KEY"),
        &[],
        &[("TASK_KEY", "sk-task")],
    );
    let auth: Vec<Option<String>> = server
        .requests()
        .iter()
        .map(|r| r.header("authorization").map(str::to_string))
        .collect();
    ensure!(auth == [Some("Bearer sk-task".to_string())], "{auth:?}");
    Ok(())
}

fn field_task_model_edit_format(k: &K) -> Result<(), String> {
    let server = edit_server();
    let p = k.pipeline(&task_model(&server, "edit_format: udiff"));
    let repo = k.repo("r");
    let out = k.cli(&repo, &["plan", &p, "--json"], &[]);
    ensure!(
        out.json()["repos"][0]["tasks"][0]["model"]["edit_format"] == "udiff",
        "{out}"
    );
    Ok(())
}

fn field_task_model_temperature(k: &K) -> Result<(), String> {
    let server = edit_server();
    k.run(
        &task_model(&server, "temperature: 0.75"),
        &[],
        &[OPENAI_KEY],
    );
    let t: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["temperature"].clone())
        .collect();
    ensure!(t == [Value::from(0.75)], "{t:?}");
    Ok(())
}

fn field_task_model_reflections(k: &K) -> Result<(), String> {
    let server = failing_then_good();
    let (_, out) = k.run(&task_model(&server, "reflections: 0"), &[], &[OPENAI_KEY]);
    ensure!(server.request_count() == 1, "no feedback round: {out}");
    Ok(())
}

/// A task's `timeout` is its requests' limit: a short one fails them, a long one overrides
/// the pipeline's short one.
fn field_task_model_timeout(k: &K) -> Result<(), String> {
    let off = ("CODEFLEET_CACHE", "off");
    let server = late_server();
    let (repo, out) = k.run(
        &task_model(&server, "timeout: 300ms"),
        &["--json"],
        &[OPENAI_KEY, off],
    );
    ensure!(
        out.code == 1 && out.stdout.contains("E407"),
        "the task's limit fails the request: {out}"
    );
    ensure!(k.tip(&repo, "codefleet/k").is_none(), "nothing: {out}");
    let yaml = model_pipe(&server, ", timeout: 300ms", "    model: { timeout: 1h }\n");
    let (repo, out) = k.run(&yaml, &["--json"], &[OPENAI_KEY, off]);
    ensure!(
        out.code == 0 && k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "the task's limit overrides the pipeline's: {out}"
    );
    Ok(())
}

/// A server that holds each request until a second one is in (or a bound of 5 s passes),
/// then edits; and the most requests it held at once. Without a cap two requests meet at
/// once; with a cap of one, each waits out the bound alone.
fn meeting_server(
    bound_ms: u64,
) -> (
    ModelServer,
    std::sync::Arc<[std::sync::atomic::AtomicUsize; 2]>,
) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let seen = std::sync::Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let held = std::sync::Arc::clone(&seen);
    let server = ModelServer::with_handler(move |r| {
        let now = held[0].fetch_add(1, Ordering::SeqCst) + 1;
        held[1].fetch_max(now, Ordering::SeqCst);
        let until = std::time::Instant::now() + std::time::Duration::from_millis(bound_ms);
        while held[0].load(Ordering::SeqCst) < 2 && std::time::Instant::now() < until {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        held[0].fetch_sub(1, Ordering::SeqCst);
        let file = if user_message(r).contains("\nb.txt\n") {
            "b.txt"
        } else {
            "a.txt"
        };
        let search = if file == "a.txt" { "old" } else { "old too" };
        Step::text(&format!(
            "{file}\n```\n<<<<<<< SEARCH\n{search}\n=======\nnew\n>>>>>>> REPLACE\n```\n"
        ))
    });
    (server, seen)
}

/// The most requests in flight at once for a two-file `per: file` prompt task.
/// `capped`: one at a time is expected, so each request waits 0.5 s at most (a meeting that
/// cannot happen need not be waited out); else 5 s.
fn most_in_flight(k: &K, capped: bool, model: &str, args: &[&str], env: &[(&str, &str)]) -> usize {
    let (server, seen) = meeting_server(if capped { 500 } else { 5000 });
    let yaml = model_pipe(&server, model, "")
        .replace("files: [a.txt]", "files: [a.txt, b.txt]\n    per: file");
    let mut env = env.to_vec();
    env.push(OPENAI_KEY);
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    k.run(&yaml, &all, &env);
    seen[1].load(std::sync::atomic::Ordering::SeqCst)
}

fn field_model_concurrency(k: &K) -> Result<(), String> {
    let capped = most_in_flight(k, true, ", concurrency: 1", &[], &[]);
    let free = most_in_flight(k, false, "", &[], &[]);
    ensure!(
        capped == 1 && free == 2,
        "in flight: capped {capped}, default {free}"
    );
    Ok(())
}

fn setting_model_concurrency(k: &K) -> Result<(), String> {
    let capped = most_in_flight(k, true, "", &[], &[("CODEFLEET_MODEL_CONCURRENCY", "1")]);
    let own = most_in_flight(
        k,
        false,
        ", concurrency: 2",
        &[],
        &[("CODEFLEET_MODEL_CONCURRENCY", "1")],
    );
    ensure!(
        capped == 1 && own == 2,
        "in flight: setting {capped}, pipeline's own {own}"
    );
    Ok(())
}

/// How many repositories ran a shell step at once: two repositories each run a command that
/// waits (at most 5 s) for the other to arrive at a meeting directory and commits how many
/// it saw, then waits (as long at most) for the other to have counted before it leaves. `1` in
/// both: they ran one after the other.
/// `capped`: one at a time is expected, so the waits are 0.5 s at most; else 5 s.
fn shell_meetings(
    k: &K,
    capped: bool,
    task: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> Vec<String> {
    let bound = if capped { 5 } else { 50 };
    let meet = k.f.path(&format!("meet{}", k.n.get()));
    std::fs::create_dir_all(&meet).expect("mkdir");
    let command = format!(
        "d={}; touch $d/a.$$; i=0; while [ $(ls $d | grep -c '^a[.]') -lt 2 ] && [ $i -lt {bound} ]; do sleep 0.1; i=$((i+1)); done; ls $d | grep -c '^a[.]' > seen.txt; touch $d/s.$$; i=0; while [ $(ls $d | grep -c '^s[.]') -lt 2 ] && [ $i -lt {bound} ]; do sleep 0.1; i=$((i+1)); done; rm $d/a.$$",
        meet.display()
    );
    let repos: Vec<PathBuf> = (0..2)
        .map(|i| k.repo(&format!("m{}-{i}", k.n.get())))
        .collect();
    let yaml = format!(
        "version: 1\nname: k\nrepos: [{{ path: {} }}, {{ path: {} }}]\ntasks:\n  - name: t\n    run: |\n      {command}\n{task}",
        repos[0].display(),
        repos[1].display()
    );
    let p = k.pipeline(&yaml);
    let mut all = vec!["run", p.as_str()];
    all.extend_from_slice(args);
    k.cli(k.f.dir.path(), &all, env);
    repos
        .iter()
        .map(|r| {
            k.show(r, "codefleet/k:seen.txt")
                .unwrap_or_default()
                .trim()
                .to_string()
        })
        .collect()
}

fn setting_jobs(k: &K) -> Result<(), String> {
    let one = shell_meetings(k, true, "", &[], &[("CODEFLEET_JOBS", "1")]);
    let two = shell_meetings(k, false, "", &[], &[("CODEFLEET_JOBS", "2")]);
    ensure!(
        one == ["1", "1"] && two == ["2", "2"],
        "met: one worker {one:?}, two {two:?}"
    );
    Ok(())
}

fn flag_jobs(k: &K) -> Result<(), String> {
    let one = shell_meetings(k, true, "", &["--jobs", "1"], &[]);
    let two = shell_meetings(k, false, "", &["--jobs", "2"], &[]);
    ensure!(
        one == ["1", "1"] && two == ["2", "2"],
        "met: one worker {one:?}, two {two:?}"
    );
    Ok(())
}

fn field_task_concurrency(k: &K) -> Result<(), String> {
    let capped = shell_meetings(k, true, "    concurrency: 1\n", &["--jobs", "2"], &[]);
    ensure!(capped == ["1", "1"], "one at a time: {capped:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Settings.

/// A usage error (an unknown flag value is not one: clap's own errors are not coloured by us).
fn usage_error(k: &K, env: &[(&str, &str)], args: &[&str]) -> Out {
    let dir = k.f.dir.path();
    let mut all = vec!["validate", "missing.yml"];
    all.extend_from_slice(args);
    k.cli(dir, &all, env)
}

fn setting_color(k: &K) -> Result<(), String> {
    let out = usage_error(k, &[("CODEFLEET_COLOR", "always")], &[]);
    ensure!(out.stderr.contains("\x1b["), "coloured: {out}");
    let out = usage_error(k, &[], &[]);
    ensure!(!out.stderr.contains("\x1b["), "plain by default: {out}");
    Ok(())
}

fn json_lines(stderr: &str) -> bool {
    !stderr.is_empty()
        && stderr
            .lines()
            .all(|l| serde_json::from_str::<Value>(l).is_ok_and(|v| v["level"].is_string()))
}

fn setting_log_format(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["-v"], &[("CODEFLEET_LOG_FORMAT", "json")]);
    ensure!(json_lines(&out.stderr), "JSON lines: {out}");
    Ok(())
}

fn setting_verbosity(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &[], &[("CODEFLEET_VERBOSITY", "verbose")]);
    ensure!(
        out.stderr.contains("task `t` started"),
        "progress lines: {out}"
    );
    let (_, out) = k.run(&pipe("", ""), &[], &[]);
    ensure!(
        !out.stderr.contains("task `t` started"),
        "quiet by default: {out}"
    );
    Ok(())
}

/// A pipeline with a `prompt` task and no `model:`: the settings say which model.
fn settings_model_pipe() -> String {
    "version: 1\nname: k\ntasks:\n  - name: t\n    files: [a.txt]\n    prompt: Make it new.\n"
        .to_string()
}

fn setting_model_provider(k: &K) -> Result<(), String> {
    let server = edit_server();
    let url = server.base_url();
    k.run(
        &settings_model_pipe(),
        &[],
        &[
            ("CODEFLEET_MODEL_PROVIDER", "ollama"),
            ("CODEFLEET_MODEL", "local"),
            ("CODEFLEET_MODEL_BASE_URL", &url),
            ("CODEFLEET_EDIT_FORMAT", "diff"),
        ],
    );
    let paths: Vec<String> = server.requests().iter().map(|r| r.path.clone()).collect();
    ensure!(paths == ["/api/chat"], "{paths:?}");
    Ok(())
}

fn setting_model_name(k: &K) -> Result<(), String> {
    let server = edit_server();
    let url = server.base_url();
    k.run(
        &settings_model_pipe(),
        &[],
        &[
            OPENAI_KEY,
            ("CODEFLEET_MODEL", "from-env"),
            ("CODEFLEET_MODEL_BASE_URL", &url),
            ("CODEFLEET_EDIT_FORMAT", "diff"),
        ],
    );
    let names: Vec<Value> = server
        .requests()
        .iter()
        .map(|r| r.body["model"].clone())
        .collect();
    ensure!(names == [Value::from("from-env")], "{names:?}");
    Ok(())
}

fn setting_model_base_url(k: &K) -> Result<(), String> {
    let server = edit_server();
    let url = server.base_url();
    let (repo, out) = k.run(
        &settings_model_pipe(),
        &[],
        &[
            OPENAI_KEY,
            ("CODEFLEET_MODEL", "m"),
            ("CODEFLEET_MODEL_BASE_URL", &url),
            ("CODEFLEET_EDIT_FORMAT", "diff"),
        ],
    );
    ensure!(server.request_count() == 1, "{out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    Ok(())
}

fn setting_model_edit_format(k: &K) -> Result<(), String> {
    let p = k.pipeline(&settings_model_pipe());
    let repo = k.repo("r");
    let out = k.cli(
        &repo,
        &["plan", &p, "--json"],
        &[("CODEFLEET_MODEL", "m"), ("CODEFLEET_EDIT_FORMAT", "udiff")],
    );
    ensure!(
        out.json()["repos"][0]["tasks"][0]["model"]["edit_format"] == "udiff",
        "{out}"
    );
    Ok(())
}

fn setting_cache_dir(k: &K) -> Result<(), String> {
    let server = edit_server();
    let dir = k.f.path("mycache");
    let dir_s = dir.display().to_string();
    model_run(k, &server, "", "", &[("CODEFLEET_CACHE_DIR", &dir_s)]);
    let cached = std::fs::read_dir(dir.join("llm"))
        .map(|d| d.count())
        .unwrap_or(0);
    ensure!(cached > 0, "the response cache is in {dir_s}");
    Ok(())
}

fn setting_cache_mode(k: &K) -> Result<(), String> {
    let server = edit_server();
    model_run(k, &server, "", "", &[]);
    model_run(k, &server, "", "", &[]);
    ensure!(
        server.request_count() == 1,
        "the second run is served from the cache"
    );
    model_run(k, &server, "", "", &[("CODEFLEET_CACHE", "off")]);
    ensure!(server.request_count() == 2, "off asks again");
    Ok(())
}

fn setting_github_api_url(k: &K) -> Result<(), String> {
    let (out, prs) = pr_run(k, "", &[])?;
    ensure!(
        prs.len() == 1 && out.code == 0,
        "the PR went to the stand-in at the URL: {out}"
    );
    Ok(())
}

fn setting_github_token_env(k: &K) -> Result<(), String> {
    let gh = github::FakeGitHub::start(TOKEN);
    let (_, url) = k.bare("svc");
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let out = k.cli(
        k.f.dir.path(),
        &["run", &p, "--pr"],
        &[
            ("MY_GH", TOKEN),
            ("CODEFLEET_GITHUB_TOKEN_ENV", "MY_GH"),
            ("CODEFLEET_GITHUB_API_URL", &gh.url),
        ],
    );
    ensure!(gh.prs().len() == 1, "the token came from MY_GH: {out}");
    Ok(())
}

/// `run --pr --json` of `acme/svc` served over http by a git server that takes `TOKEN`, with
/// the config `yaml` (`{host}` is the server's `127.0.0.1:PORT`, `{api}` the fake GitHub's
/// URL) and `env`; github.com's API (the fallback) is unreachable. The report's repository and
/// the pull requests the fake GitHub holds.
fn host_run(k: &K, yaml: &str, env: &[(&str, &str)]) -> (Out, Value, Vec<github::Pr>) {
    let gh = github::FakeGitHub::start(TOKEN);
    k.bare("svc");
    let git = git_http::GitHttp::start(&k.f.path("srv"), TOKEN);
    let host = git.base.trim_start_matches("http://").to_string();
    let url = format!("{}/acme/svc.git", git.base);
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let config = k.file(
        &format!("cfg{}.yml", k.n.get()),
        &yaml.replace("{host}", &host).replace("{api}", &gh.url),
    );
    let mut all = vec![
        ("CODEFLEET_CONFIG", config.as_str()),
        ("CODEFLEET_GITHUB_API_URL", "http://127.0.0.1:9"),
    ];
    all.extend_from_slice(env);
    let out = k.cli(k.f.dir.path(), &["run", &p, "--pr", "--json"], &all);
    let repo = out.json()["repos"][0].clone();
    (out, repo, gh.prs())
}

fn setting_github_hosts(k: &K) -> Result<(), String> {
    let yaml = "github:\n  hosts: [{ host: \"{host}\", api_url: \"{api}\", token_env: GHE }]\n";
    let (out, _, prs) = host_run(k, yaml, &[("GHE", TOKEN)]);
    ensure!(
        prs.len() == 1 && out.code == 0,
        "the host's pull request went to its API with its token: {out}"
    );
    let (out, repo, prs) = host_run(&K::new(), "", &[("GITHUB_TOKEN", TOKEN)]);
    ensure!(
        prs.is_empty() && repo["publish"]["pull_request"]["action"] == "failed",
        "unlisted, the host gets github.com's (unreachable) API: {out}"
    );
    Ok(())
}

/// The forge the report names for the host listed under `key`, and that its token (the
/// variable `var`) and no other was accepted for the push.
fn forge_of_listed_host(k: &K, key: &str, var: &str, forge: &str) -> Result<(), String> {
    // The host is the fake of that forge (its API and git on one port).
    let root = k.f.path(&format!("srv-{key}"));
    let (base, api, fake): (String, String, Box<dyn std::any::Any>) = if key == "gitlab" {
        let gl = crate::support::gitlab::FakeGitLab::start(&root, TOKEN);
        gl.add_project(
            crate::support::gitlab::Project::new("acme/svc"),
            &[("a.txt", "old\n")],
        );
        (gl.url.clone(), gl.api.clone(), Box::new(gl))
    } else {
        let gt = crate::support::gitea::FakeGitea::start(TOKEN, &root);
        gt.add_with_git(
            crate::support::gitea::Repo::new("acme/svc"),
            &[("a.txt", "old\n")],
        );
        (gt.url.clone(), gt.api.clone(), Box::new(gt))
    };
    let host = base.trim_start_matches("http://");
    let url = format!("{base}/acme/svc.git");
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let config = k.file(
        &format!("cfg{}.yml", k.n.get()),
        &format!("{key}:\n  hosts: [{{ host: \"{host}\", api_url: \"{api}\" }}]\n"),
    );
    let env = [
        ("CODEFLEET_CONFIG", config.as_str()),
        ("CODEFLEET_GITHUB_API_URL", "http://127.0.0.1:9"),
        (var, TOKEN),
        ("GITHUB_TOKEN", "not-this-one"),
    ];
    let out = k.cli(k.f.dir.path(), &["run", &p, "--pr", "--json"], &env);
    let repo = out.json()["repos"][0].clone();
    let pr = &repo["publish"]["pull_request"];
    ensure!(
        pr["forge"] == forge && pr["action"] == "opened" && repo["publish"]["push"] == "pushed",
        "pushed with ${var}, given to {forge}: {out}"
    );
    drop(fake);
    // Unlisted, the host is GitHub's: the GitHub token (none here) is what it would get, so
    // the clone is refused rather than given ${var}.
    let (out, repo, _) = host_run(&K::new(), "", &[(var, TOKEN)]);
    ensure!(
        repo["status"] == "skipped" && repo["message"].as_str().is_some_and(|m| m.contains("E501")),
        "unlisted, the host is not given ${var}: {out}"
    );
    Ok(())
}

fn setting_gitlab_hosts(k: &K) -> Result<(), String> {
    forge_of_listed_host(k, "gitlab", "GITLAB_TOKEN", "gitlab")
}

fn setting_gitea_hosts(k: &K) -> Result<(), String> {
    forge_of_listed_host(k, "gitea", "GITEA_TOKEN", "gitea")
}

fn setting_branch_template(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(
        &pipe("", ""),
        &[],
        &[("CODEFLEET_BRANCH_TEMPLATE", "bot/{{ pipeline }}")],
    );
    ensure!(k.tip(&repo, "bot/k").is_some(), "{out}");
    Ok(())
}

fn setting_author(k: &K) -> Result<(), String> {
    let (repo, _) = k.run(
        &pipe("", ""),
        &[],
        &[("CODEFLEET_AUTHOR", "Env <env@example.com>")],
    );
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Env <env@example.com>", "{who:?}");
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Global flags.

fn flag_repo(k: &K) -> Result<(), String> {
    let repo = k.repo("there");
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--repo", "there"], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    Ok(())
}

fn flag_shard(k: &K) -> Result<(), String> {
    let repos: Vec<PathBuf> = (0..6).map(|i| k.repo(&format!("s{i}"))).collect();
    let p = k.pipeline(&pipe("repos: [{ path: \"s*\" }]\n", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--shard", "1/2"], &[]);
    let done = repos
        .iter()
        .filter(|r| k.tip(r, "codefleet/k").is_some())
        .count();
    ensure!(done > 0 && done < 6, "a share of the six: {done} {out}");
    let out = k.cli(k.f.dir.path(), &["run", &p, "--shard", "2/2"], &[]);
    let done = repos
        .iter()
        .filter(|r| k.tip(r, "codefleet/k").is_some())
        .count();
    ensure!(done == 6, "the other share: {out}");
    Ok(())
}

fn flag_var(k: &K) -> Result<(), String> {
    let yaml = pipe("vars: { to: fresh }\n", "").replace("with: new", "with: \"{{ vars.to }}\"");
    ensure!(
        k.a_after(&yaml, &["--var", "to=given"], &[]).as_deref() == Some("given\n"),
        "overridden"
    );
    Ok(())
}

fn flag_profile(k: &K) -> Result<(), String> {
    k.file(
        "config/codefleet/config.yml",
        "profiles:\n  bot: { author: \"Prof <prof@example.com>\" }\n",
    );
    let (repo, out) = k.run(&pipe("", ""), &["--profile", "bot"], &[]);
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Prof <prof@example.com>", "{who:?} {out}");
    Ok(())
}

fn flag_json(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["--json"], &[]);
    ensure!(out.json()["pipeline"] == "k", "a JSON report: {out}");
    let (_, out) = k.run(&pipe("", ""), &[], &[]);
    ensure!(out.json().is_null(), "a table without it: {out}");
    Ok(())
}

fn flag_verbose(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["-v"], &[]);
    ensure!(out.stderr.contains("task `t` started"), "{out}");
    Ok(())
}

fn flag_quiet(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["-q"], &[]);
    ensure!(out.stdout.is_empty() && out.code == 0, "no summary: {out}");
    let (_, out) = k.run(&pipe("", ""), &[], &[]);
    ensure!(
        out.stdout.contains("1 changed"),
        "a summary without it: {out}"
    );
    Ok(())
}

fn flag_color(k: &K) -> Result<(), String> {
    let out = usage_error(k, &[], &["--color", "always"]);
    ensure!(out.stderr.contains("\x1b["), "{out}");
    Ok(())
}

fn flag_log_format(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["-v", "--log-format", "json"], &[]);
    ensure!(json_lines(&out.stderr), "{out}");
    Ok(())
}

fn flag_config(k: &K) -> Result<(), String> {
    let file = k.file("elsewhere.yml", "author: \"Cfg <cfg@example.com>\"\n");
    let (repo, out) = k.run(&pipe("", ""), &["--config", &file], &[]);
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Cfg <cfg@example.com>", "{who:?} {out}");
    Ok(())
}

fn flag_help(k: &K) -> Result<(), String> {
    let out = k.cli(k.f.dir.path(), &["run", "--help"], &[]);
    ensure!(
        out.code == 0 && out.stdout.contains("Usage: codefleet run"),
        "{out}"
    );
    Ok(())
}

fn flag_version(k: &K) -> Result<(), String> {
    let out = k.cli(k.f.dir.path(), &["--version"], &[]);
    ensure!(
        out.stdout == format!("codefleet {}\n", env!("CARGO_PKG_VERSION")),
        "{out}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Command flags.

fn run_dry_run(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("", ""), &["--dry-run"], &[]);
    ensure!(k.tip(&repo, "codefleet/k").is_none(), "nothing written");
    ensure!(
        out.stdout.contains("-old\n+new"),
        "the diff is shown: {out}"
    );
    Ok(())
}

fn run_check(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("", ""), &["--check"], &[]);
    ensure!(
        out.code == 3 && k.tip(&repo, "codefleet/k").is_none(),
        "{out}"
    );
    Ok(())
}

fn run_base(k: &K) -> Result<(), String> {
    let repo = k.repo("b");
    k.f.commit_files(&repo, &[("a.txt", "old later\n")], "later");
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(&repo, &["run", &p, "--base", "HEAD~1"], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "from HEAD~1: {out}"
    );
    Ok(())
}

fn plan_base(k: &K) -> Result<(), String> {
    let repo = k.repo("pb");
    let first = k.git(&repo, &["rev-parse", "HEAD"]);
    k.f.commit_files(&repo, &[("c.txt", "old three\n")], "later");
    let p = k.pipeline(&pipe("", ""));
    let head = k.cli(&repo, &["plan", &p, "--json"], &[]).json();
    let out = k.cli(&repo, &["plan", &p, "--json", "--base", "HEAD~1"], &[]);
    let from = out.json();
    ensure!(
        from["repos"][0]["base"] == first.as_str()
            && from["repos"][0]["tasks"][0]["files"] == serde_json::json!(["a.txt", "b.txt"]),
        "planned from HEAD~1: {out}"
    );
    ensure!(
        head["repos"][0]["tasks"][0]["files"] == serde_json::json!(["a.txt", "b.txt", "c.txt"]),
        "planned from HEAD: {head}"
    );
    Ok(())
}

fn run_checkout(k: &K) -> Result<(), String> {
    let (repo, out) = k.run(&pipe("", ""), &["--checkout"], &[]);
    let head = k.git(&repo, &["symbolic-ref", "--short", "HEAD"]);
    ensure!(head == "codefleet/k", "HEAD {head}: {out}");
    let (repo, _) = k.run(&pipe("", ""), &[], &[]);
    ensure!(
        k.git(&repo, &["symbolic-ref", "--short", "HEAD"]) == "main",
        "left alone"
    );
    Ok(())
}

fn run_force(k: &K) -> Result<(), String> {
    let repo = k.repo("f");
    k.git(&repo, &["branch", "codefleet/k"]);
    k.git(&repo, &["checkout", "-q", "codefleet/k"]);
    k.f.commit_files(&repo, &[("mine.txt", "x\n")], "someone's");
    k.git(&repo, &["checkout", "-q", "main"]);
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(&repo, &["run", &p], &[]);
    ensure!(
        out.code != 0 && k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("old\n"),
        "refused: {out}"
    );
    let out = k.cli(&repo, &["run", &p, "--force"], &[]);
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "overwritten: {out}"
    );
    Ok(())
}

/// `--push` of a local checkout pushes the run branch to its origin, with a lease: after a
/// colleague commits on the remote run branch (fetched, and the base moved), a second
/// `--push` leaves their commit on the remote and fails.
fn run_push(k: &K) -> Result<(), String> {
    let (bare, url) = k.bare("svc");
    let dir = k.f.dir.path();
    k.git(dir, &["clone", "-q", &url, "checkout"]);
    let checkout = k.f.path("checkout");
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(&checkout, &["run", &p], &[]);
    ensure!(
        k.tip(&checkout, "codefleet/k").is_some() && k.tip(&bare, "codefleet/k").is_none(),
        "not pushed without it: {out}"
    );
    let out = k.cli(&checkout, &["run", &p, "--push"], &[]);
    let ours = k.tip(&checkout, "codefleet/k");
    ensure!(
        out.code == 0 && ours.is_some() && k.tip(&bare, "codefleet/k") == ours,
        "pushed: {out}"
    );
    ensure!(
        k.show(&bare, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "{out}"
    );
    // A colleague commits on the run branch and moves the base; this checkout fetches both.
    k.git(dir, &["clone", "-q", &url, "colleague"]);
    let colleague = k.f.path("colleague");
    k.git(&colleague, &["checkout", "-q", "codefleet/k"]);
    k.f.commit_files(&colleague, &[("theirs.txt", "theirs\n")], "theirs");
    k.git(&colleague, &["push", "-q", "origin", "codefleet/k"]);
    let theirs = k.tip(&colleague, "codefleet/k");
    k.git(&colleague, &["checkout", "-q", "main"]);
    k.f.commit_files(&colleague, &[("c.txt", "base moved\n")], "base");
    k.git(&colleague, &["push", "-q", "origin", "main"]);
    k.git(&checkout, &["fetch", "-q", "origin"]);
    k.git(&checkout, &["pull", "-q", "--ff-only"]);
    let out = k.cli(&checkout, &["run", &p, "--push"], &[]);
    ensure!(out.code == 1, "refused: {out}");
    ensure!(
        k.tip(&bare, "codefleet/k") == theirs,
        "their commit stays on the remote: {out}"
    );
    ensure!(
        out.stdout.contains("1 commit codefleet did not make"),
        "says why: {out}"
    );
    Ok(())
}

fn run_pr(k: &K) -> Result<(), String> {
    let (out, prs) = pr_run(k, "", &[])?;
    ensure!(prs.len() == 1 && prs[0].head == "codefleet/k", "{out}");
    Ok(())
}

fn run_close_empty_prs(k: &K) -> Result<(), String> {
    let gh = github::FakeGitHub::start(TOKEN);
    let (_, url) = k.bare("svc");
    let env = [
        ("GITHUB_TOKEN", TOKEN),
        ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
    ];
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--pr"], &env);
    ensure!(gh.prs().len() == 1, "{out}");
    // The change becomes empty: the pipeline now finds nothing.
    let p = k.pipeline(
        &pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), "").replace("find: old", "find: absent"),
    );
    let out = k.cli(k.f.dir.path(), &["run", &p, "--pr"], &env);
    ensure!(
        gh.prs()[0].state == "open",
        "left open without the flag: {out}"
    );
    let out = k.cli(
        k.f.dir.path(),
        &["run", &p, "--pr", "--close-empty-prs"],
        &env,
    );
    ensure!(gh.prs()[0].state == "closed", "closed: {out}");
    Ok(())
}

fn run_max_prs(k: &K) -> Result<(), String> {
    let (out, prs) = pr_run(k, "", &["--max-prs", "0"])?;
    ensure!(prs.is_empty(), "no new PR beyond the limit: {out}");
    Ok(())
}

fn run_clone_jobs(k: &K) -> Result<(), String> {
    let (_, out) = k.run(&pipe("", ""), &["--clone-jobs", "0"], &[]);
    ensure!(out.code == 2 && out.stderr.contains("E507"), "{out}");
    Ok(())
}

fn run_depth(k: &K) -> Result<(), String> {
    let (_server, url) = deep_remote(k);
    let env = [("GITHUB_TOKEN", TOKEN)];
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--depth", "0"], &env);
    ensure!(
        shallow(k, &k.f.path("cache")) == Some(false),
        "everything fetched: {out}"
    );
    Ok(())
}

fn run_cache_dir(k: &K) -> Result<(), String> {
    let (_, url) = k.bare("svc");
    let p = k.pipeline(&pipe(&format!("repos: [{{ url: \"{url}\" }}]\n"), ""));
    let dir = k.f.path("clones");
    let out = k.cli(
        k.f.dir.path(),
        &["run", &p, "--cache-dir", dir.to_str().unwrap_or_default()],
        &[],
    );
    ensure!(cached_clone(k, &dir).is_some(), "cloned into it: {out}");
    Ok(())
}

fn apply_format(k: &K) -> Result<(), String> {
    let repo = k.repo("a");
    let reply = k.file("reply.txt", "a.txt\n```\nwhole\n```\n");
    let out = k.cli(&repo, &["apply", "--format", "whole", &reply], &[]);
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(a == "whole\n", "read as whole files: {out}");
    Ok(())
}

fn search_replace(k: &K) -> String {
    k.file(
        "sr.md",
        "a.txt\n```\n<<<<<<< SEARCH\nold\n=======\napplied\n>>>>>>> REPLACE\n```\n\nb.txt\n```\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE\n```\n",
    )
}

fn apply_dry_run(k: &K) -> Result<(), String> {
    let repo = k.repo("a");
    let reply = search_replace(k);
    let out = k.cli(&repo, &["apply", "--dry-run", &reply], &[]);
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(
        a == "old\n" && out.stdout.contains("+applied"),
        "a diff, no write: {out}"
    );
    Ok(())
}

fn apply_all_or_nothing(k: &K) -> Result<(), String> {
    let repo = k.repo("a");
    let reply = search_replace(k);
    let out = k.cli(&repo, &["apply", "--all-or-nothing", &reply], &[]);
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(a == "old\n" && out.code == 1, "nothing written: {out}");
    let out = k.cli(&repo, &["apply", &reply], &[]);
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(
        a == "applied\n" && out.code == 1,
        "what applies is written: {out}"
    );
    Ok(())
}

fn apply_dir(k: &K) -> Result<(), String> {
    let repo = k.repo("a");
    let reply = search_replace(k);
    let out = k.cli(
        k.f.dir.path(),
        &["apply", "-C", repo.to_str().unwrap_or_default(), &reply],
        &[],
    );
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(a == "applied\n", "applied in that directory: {out}");
    Ok(())
}

/// A whole listing keeping one line of a ten-line file: refused without the flag.
fn apply_allow_shrink(k: &K) -> Result<(), String> {
    let long: String = (1..=10).map(|i| format!("line {i}\n")).collect();
    let repo = k.f.repo("shrink", &[("a.txt", &long)]);
    let reply = k.file("reply.txt", "a.txt\n```\nline 1\n```\n");
    let out = k.cli(&repo, &["apply", "--format", "whole", &reply], &[]);
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(a == long && out.code == 1, "refused: {out}");
    let out = k.cli(
        &repo,
        &["apply", "--format", "whole", "--allow-shrink", &reply],
        &[],
    );
    let a = std::fs::read_to_string(repo.join("a.txt")).unwrap_or_default();
    ensure!(a == "line 1\n" && out.code == 0, "written: {out}");
    Ok(())
}

fn rollback_task(k: &K) -> Result<(), String> {
    let yaml = format!(
        "{}  - name: second\n    files: [b.txt]\n    replace: {{ find: too, with: also }}\n",
        pipe("", "")
    );
    let (repo, out) = k.run(&yaml, &["--json"], &[]);
    let id = out.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let out = k.cli(&repo, &["rollback", &id, "--task", "second", "--json"], &[]);
    ensure!(out.code == 0 && out.json()["task"] == "second", "{out}");
    ensure!(
        k.show(&repo, "codefleet/k:a.txt").as_deref() == Some("new\n"),
        "the first stays"
    );
    ensure!(
        k.show(&repo, "codefleet/k:b.txt").as_deref() == Some("new too\n"),
        "the second is gone"
    );
    Ok(())
}

fn schema_report(k: &K) -> Result<(), String> {
    let pipeline = k.cli(k.f.dir.path(), &["schema"], &[]);
    let report = k.cli(k.f.dir.path(), &["schema", "--report"], &[]);
    let props = |o: &Out| {
        o.json()["properties"]
            .as_object()
            .map(|m| m.contains_key("exit_code"))
    };
    ensure!(
        props(&report) == Some(true) && props(&pipeline) == Some(false),
        "{report}"
    );
    Ok(())
}

/// A global flag a command would not read is refused (`E096`), not silently accepted: every
/// command of `--help` is tried with each of them.
#[test]
fn global_flags_a_command_does_not_read_are_refused() {
    let k = K::new();
    let repo = k.repo("r");
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(&repo, &["run", &p, "--json"], &[]);
    let run_id = out.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let report = k.file("report.json", &out.stdout);
    let reads: &[(&str, &[&str])] = &[
        (
            "--repo",
            &[
                "run", "plan", "runs", "show", "rollback", "status", "merge", "close",
            ],
        ),
        ("--shard", &["run", "plan", "status", "merge", "close"]),
        (
            "--var",
            &["run", "plan", "validate", "status", "merge", "close"],
        ),
        (
            "--json",
            &[
                "run",
                "plan",
                "validate",
                "apply",
                "runs",
                "show",
                "rollback",
                "schema",
                "init",
                "config",
                "report merge",
                "status",
                "merge",
                "close",
            ],
        ),
    ];
    let mut wrong = Vec::new();
    for command in commands() {
        let name = command.join(" ");
        let mut base: Vec<String> = command.clone();
        match name.as_str() {
            "run" | "plan" | "validate" | "status" | "close" => base.push(p.clone()),
            // Nothing to merge (no forge repository): reads the flags, merges nothing.
            "merge" => base.extend([p.clone(), "--dry-run".into()]),
            "show" | "rollback" => base.push(run_id.clone()),
            "completions" => base.push("bash".into()),
            "report merge" => base.push(report.clone()),
            "init" => base.push(k.f.path("new.yml").display().to_string()),
            "apply" => base.push(k.file("empty.md", "")),
            _ => {}
        }
        for (flag, readers) in reads {
            let value: &[&str] = match *flag {
                "--repo" => &["--repo", "."],
                "--shard" => &["--shard", "1/1"],
                "--var" => &["--var", "x=1"],
                _ => &["--json"],
            };
            let mut args: Vec<&str> = base.iter().map(String::as_str).collect();
            // `rollback` last: the run it undoes is gone afterwards.
            if name == "rollback" || (name == "init" && *flag == "--json") {
                continue;
            }
            args.extend_from_slice(value);
            let out = k.cli(&repo, &args, &[]);
            let refused = out.code == 2 && out.stderr.contains("E096");
            if refused == readers.contains(&name.as_str()) {
                wrong.push(format!("codefleet {} {flag}: {out}", name));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
}

// ---------------------------------------------------------------------------------------------
// Environment variables.

fn env_config(k: &K) -> Result<(), String> {
    let file = k.file("elsewhere.yml", "author: \"Cfg <cfg@example.com>\"\n");
    let (repo, out) = k.run(&pipe("", ""), &[], &[("CODEFLEET_CONFIG", &file)]);
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Cfg <cfg@example.com>", "{who:?} {out}");
    Ok(())
}

fn env_profile(k: &K) -> Result<(), String> {
    k.file(
        "config/codefleet/config.yml",
        "profiles:\n  bot: { author: \"Prof <prof@example.com>\" }\n",
    );
    let (repo, out) = k.run(&pipe("", ""), &[], &[("CODEFLEET_PROFILE", "bot")]);
    let who = k.git(&repo, &["log", "-1", "--format=%an <%ae>", "codefleet/k"]);
    ensure!(who == "Prof <prof@example.com>", "{who:?} {out}");
    Ok(())
}

fn env_model_prices(k: &K) -> Result<(), String> {
    let server = ModelServer::with_handler(|_| edit_reply().usage(1_000_000, 0, 1_000_000));
    let (_, out) = model_run(k, &server, "", "", &[]);
    ensure!(
        out.json()["totals"]["model"]["cost_usd"].is_null(),
        "unknown without a price: {out}"
    );
    let (_, out) = model_run(
        k,
        &server,
        "",
        "",
        &[
            ("CODEFLEET_MODEL_PRICES", "m1=2/0/3"),
            ("CODEFLEET_CACHE", "off"),
        ],
    );
    let cost = out.json()["totals"]["model"]["cost_usd"].as_f64();
    ensure!(
        cost == Some(5.0),
        "$2 in + $3 out per million: {cost:?} {out}"
    );
    Ok(())
}

fn env_for_commands(k: &K) -> Result<(), String> {
    let yaml = shell_pipe(
        "    run: echo \"$CODEFLEET_RUN_ID|$(basename \"$CODEFLEET_REPO\")|$CODEFLEET_REPO_NAME|$CODEFLEET_TASK\" > env.txt\n",
    );
    let (repo, out) = k.run(&yaml, &["--json"], &[]);
    let run_id = out.json()["run_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let name = repo
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let seen = k.show(&repo, "codefleet/k:env.txt").unwrap_or_default();
    ensure!(
        seen == format!("{run_id}|{name}|{name}|t\n"),
        "{seen:?} {out}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Precedence, end to end.

/// The model a task uses comes from one chain: the settings file < the pipeline's `model:` <
/// the task's `model:`. Seen where a user sees it: the provider by the endpoint requests go to
/// (`/api/chat` is Ollama's, `/v1/chat/completions` OpenAI's), the edit format by the report.
#[test]
fn model_settings_yield_to_the_pipeline_and_the_pipeline_to_the_task() {
    let k = K::new();
    let server = edit_server();
    let url = server.base_url();
    k.file(
        "config/codefleet/config.yml",
        &format!(
            "model: {{ provider: ollama, name: local, base_url: \"{url}\", edit_format: udiff }}\n"
        ),
    );
    let task = |name: &str, model: &str| {
        format!("  - name: {name}\n    files: [a.txt]\n    prompt: Make it new.\n{model}")
    };
    let formats = |out: &Out| -> Vec<Value> {
        let tasks = out.json()["repos"][0]["tasks"].clone();
        let tasks = tasks.as_array().cloned().unwrap_or_default();
        tasks
            .iter()
            .map(|t| t["model"]["edit_format"].clone())
            .collect()
    };
    let paths = |from: usize| -> Vec<String> {
        let mut paths: Vec<String> = server.requests()[from..]
            .iter()
            .map(|r| r.path.clone())
            .collect();
        paths.dedup();
        paths
    };

    // The settings alone.
    let only_settings = format!("version: 1\nname: k\ntasks:\n{}", task("s", ""));
    let (_, out) = k.run(&only_settings, &["--json"], &[]);
    assert_eq!(formats(&out), ["udiff"], "{out}");
    assert_eq!(paths(0), ["/api/chat"], "{out}");
    let seen = server.requests().len();

    // The pipeline's `model:` over the settings, and a task's `model:` over the pipeline's.
    let layered = format!(
        "version: 1\nname: k\nmodel: {{ provider: openai, name: m1, base_url: \"{url}\", edit_format: whole }}\ntasks:\n{}{}",
        task("p", ""),
        task(
            "t",
            &format!(
                "    model: {{ provider: ollama, name: local, base_url: \"{url}\", edit_format: diff }}\n"
            )
        ),
    );
    let (_, out) = k.run(&layered, &["--json"], &[OPENAI_KEY]);
    assert_eq!(formats(&out), ["whole", "diff"], "{out}");
    assert_eq!(paths(seen), ["/v1/chat/completions", "/api/chat"], "{out}");
}

fn flag_repos_from(k: &K) -> Result<(), String> {
    let a = k.repo("from-a");
    let b = k.repo("from-b");
    let list = k.file(
        "lists/fleet.txt",
        "# two of them\n../from-a\n../from-b  # and this\n",
    );
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(k.f.dir.path(), &["run", &p, "--repos-from", &list], &[]);
    ensure!(
        k.tip(&a, "codefleet/k").is_some() && k.tip(&b, "codefleet/k").is_some(),
        "both listed repositories ran: {out}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Discovery (`repos:` `github:`, `--repos-from`, `github.clone`): `plan --json` against the fake
// GitHub, whose organisation `acme` holds `a` (topics `x`, `y`; a code hit), `b` (topic `x`),
// `c`, `old` (archived), `copy` (a fork), and whose user `jo` holds `dots`.

/// The fake GitHub with that fleet (bare repositories behind each, for the code search).
fn discovery_fleet(k: &K) -> github::FakeGitHub {
    let gh = github::FakeGitHub::start(TOKEN);
    gh.lock().strict = true;
    for (name, topics, code) in [
        ("a", &["x", "y"][..], true),
        ("b", &["x"][..], false),
        ("c", &[][..], false),
        ("old", &[][..], false),
        ("copy", &[][..], false),
    ] {
        let (bare, url) = k.bare(name);
        if code {
            let work = k.f.path(&format!("work/{name}"));
            k.f.commit_files(&work, &[("src/lib.rs", "log::info!(\"hit\");\n")], "hit");
            k.git(
                &work,
                &["push", "-q", bare.to_str().expect("utf8"), "HEAD:main"],
            );
        }
        let mut repo = github::Repo::new(&format!("acme/{name}"))
            .git(&bare, &url)
            .topics(topics);
        if name == "old" {
            repo = repo.archived();
        }
        if name == "copy" {
            repo = repo.fork();
        }
        gh.add_repo(repo);
    }
    let (bare, url) = k.bare("dots");
    gh.add_repo(github::Repo::new("jo/dots").user().git(&bare, &url));
    gh
}

/// The `owner/name`s `plan --json` lists for a pipeline whose one `repos:` entry is
/// `github: ENTRY`, with `env`.
fn discovered(
    k: &K,
    gh: &github::FakeGitHub,
    entry: &str,
    env: &[(&str, &str)],
) -> Result<Vec<String>, String> {
    let p = k.pipeline(&pipe(&format!("repos:\n  - github: {entry}\n"), ""));
    let mut all = vec![
        ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
        ("GITHUB_TOKEN", TOKEN),
    ];
    all.extend_from_slice(env);
    let out = k.cli(k.f.dir.path(), &["plan", &p, "--json"], &all);
    ensure!(out.code == 0, "plan ran: {out}");
    Ok(out.json()["repos"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| r["name"].as_str().unwrap_or_default().to_string())
                .collect()
        })
        .unwrap_or_default())
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

fn field_github_org(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme }", &[])?;
    ensure!(got == names(&["a", "b", "c"]), "the org's: {got:?}");
    Ok(())
}

fn field_github_user(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ user: jo }", &[])?;
    ensure!(got == names(&["dots"]), "the user's: {got:?}");
    Ok(())
}

fn field_github_topics(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, topics: [x] }", &[])?;
    ensure!(got == names(&["a", "b"]), "topic x: {got:?}");
    let got = discovered(k, &gh, "{ org: acme, topics: [x, y] }", &[])?;
    ensure!(got == names(&["a"]), "every topic: {got:?}");
    Ok(())
}

fn field_github_search(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, search: b }", &[])?;
    ensure!(got == names(&["b"]), "searched: {got:?}");
    let asked = gh
        .requests()
        .iter()
        .any(|r| r.target.starts_with("/search/repositories?"));
    ensure!(asked, "a repository search was made");
    Ok(())
}

fn field_github_code_search(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, code_search: 'info!' }", &[])?;
    ensure!(got == names(&["a"]), "code hits only: {got:?}");
    Ok(())
}

fn field_github_include(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, include: '/(a|c)$' }", &[])?;
    ensure!(got == names(&["a", "c"]), "{got:?}");
    Ok(())
}

fn field_github_exclude(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, exclude: '/a$' }", &[])?;
    ensure!(got == names(&["b", "c"]), "{got:?}");
    Ok(())
}

fn field_github_archived(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, archived: true }", &[])?;
    ensure!(got == names(&["a", "b", "c", "old"]), "{got:?}");
    Ok(())
}

fn field_github_forks(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, forks: true }", &[])?;
    ensure!(got == names(&["a", "b", "c", "copy"]), "{got:?}");
    Ok(())
}

fn field_github_limit(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let got = discovered(k, &gh, "{ org: acme, limit: 2 }", &[])?;
    ensure!(got == names(&["a", "b"]), "{got:?}");
    Ok(())
}

fn setting_github_clone(k: &K) -> Result<(), String> {
    let gh = discovery_fleet(k);
    let p = k.pipeline(&pipe("repos:\n  - github: { org: acme, limit: 1 }\n", ""));
    let env = [
        ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
        ("GITHUB_TOKEN", TOKEN),
        ("CODEFLEET_GITHUB_CLONE", "ssh"),
    ];
    let out = k.cli(k.f.dir.path(), &["plan", &p, "--json"], &env);
    let path = out.json()["repos"][0]["path"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    ensure!(
        path == "git@github.example:acme/a.git",
        "the ssh_url: {out}"
    );
    Ok(())
}

/// A fake GitLab listed under `gitlab.hosts` with the group `acme` (`a` with topics x and y,
/// `b` with x, the subgroup's `sub/c`, an archived `old`, a fork `copy`) and `other/z`; the
/// settings are written, the host is returned with the fake.
fn gitlab_fleet(k: &K) -> (crate::support::gitlab::FakeGitLab, String) {
    use crate::support::gitlab::{FakeGitLab, Project};
    let lab = FakeGitLab::start(&k.f.path("lab"), TOKEN);
    for p in [
        Project::new("acme/a").topics(&["x", "y"]),
        Project::new("acme/b").topics(&["x"]),
        Project::new("acme/sub/c"),
        Project::new("acme/old").archived(),
        Project::new("acme/copy").fork_of("else/copy"),
        Project::new("other/z"),
    ] {
        lab.add_listed(p);
    }
    let host = lab.url.trim_start_matches("http://").to_string();
    let config = k.f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "gitlab:\n  hosts:\n    - {{ host: '{host}', api_url: '{}' }}\n",
            lab.api
        ),
    )
    .expect("settings");
    (lab, host)
}

/// `plan --repo gitlab.com/acme/app` with `gitlab:` settings `yaml` and `env`: the fake
/// GitLab stands for gitlab.com; the tokens it received, and whether the project was planned.
fn gitlab_com_plan(k: &K, yaml: &str, env: &[(&str, &str)]) -> (Vec<Option<String>>, Out) {
    use crate::support::gitlab::{FakeGitLab, Project};
    let lab = FakeGitLab::start(&k.f.path("lab"), TOKEN);
    lab.add_project(Project::new("acme/app"), &[("a.txt", "old\n")]);
    let config = k.f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    let yaml = yaml.replace("API", &lab.api);
    std::fs::write(&config, format!("gitlab:\n{yaml}")).expect("settings");
    let p = k.pipeline(&pipe("", ""));
    let out = k.cli(
        k.f.dir.path(),
        &["plan", &p, "--repo", "gitlab.com/acme/app", "--json"],
        env,
    );
    let tokens = lab
        .requests()
        .into_iter()
        .filter(|r| !r.route.is_empty())
        .map(|r| r.private_token)
        .collect();
    (tokens, out)
}

/// gitlab.com's forge asks the API `gitlab.api_url` names (here the fake's).
fn setting_gitlab_api_url(k: &K) -> Result<(), String> {
    let (tokens, out) = gitlab_com_plan(k, "  api_url: 'API'\n", &[("GITLAB_TOKEN", TOKEN)]);
    ensure!(out.code == 0, "planned: {out}");
    ensure!(
        !tokens.is_empty() && tokens.iter().all(|t| t.as_deref() == Some(TOKEN)),
        "the fake was asked with the token: {tokens:?}"
    );
    ensure!(out.stdout.contains("acme/app"), "{out}");
    Ok(())
}

/// gitlab.com's token is read from the variable `gitlab.token_env` names.
fn setting_gitlab_token_env(k: &K) -> Result<(), String> {
    let env = [("GITLAB_TOKEN", "glpat-not-this-one"), ("LAB_TOKEN", TOKEN)];
    let (tokens, out) = gitlab_com_plan(k, "  api_url: 'API'\n  token_env: LAB_TOKEN\n", &env);
    ensure!(out.code == 0, "planned: {out}");
    ensure!(
        !tokens.is_empty() && tokens.iter().all(|t| t.as_deref() == Some(TOKEN)),
        "LAB_TOKEN's token was sent: {tokens:?}"
    );
    Ok(())
}

/// The full paths `plan --json` lists for `gitlab: { host: HOST, ENTRY }`.
fn gitlab_found(k: &K, entry: &str) -> Result<Vec<String>, String> {
    let (lab, host) = gitlab_fleet(k);
    let p = k.pipeline(&pipe(
        &format!("repos:\n  - gitlab: {{ host: '{host}', {entry} }}\n"),
        "",
    ));
    let out = k.cli(
        k.f.dir.path(),
        &["plan", &p, "--json"],
        &[("GITLAB_TOKEN", TOKEN)],
    );
    ensure!(out.code == 0, "plan ran: {out}");
    let base = format!("{}/", lab.url);
    Ok(out.json()["repos"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| {
                    let path = r["path"].as_str().unwrap_or_default();
                    path.trim_start_matches(&base)
                        .trim_end_matches(".git")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default())
}

fn field_gitlab_host(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/sub/c"]),
        "the host's group: {got:?}"
    );
    // Without `host`, gitlab.com, which the fake is not.
    let p = k.pipeline(&pipe("repos:\n  - gitlab: { group: acme }\n", ""));
    let out = k.cli(
        k.f.dir.path(),
        &["plan", &p, "--json"],
        &[
            ("GITLAB_TOKEN", TOKEN),
            ("CODEFLEET_GITLAB_API_URL", "http://127.0.0.1:9/api/v4"),
        ],
    );
    ensure!(
        out.code != 0 && out.stderr.contains("E530"),
        "gitlab.com asked: {out}"
    );
    Ok(())
}

fn field_gitlab_group(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: other")?;
    ensure!(got == names(&["other/z"]), "{got:?}");
    Ok(())
}

fn field_gitlab_include_subgroups(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, include_subgroups: false")?;
    ensure!(got == names(&["acme/a", "acme/b"]), "{got:?}");
    Ok(())
}

fn field_gitlab_topics(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, topics: [x, y]")?;
    ensure!(got == names(&["acme/a"]), "{got:?}");
    Ok(())
}

fn field_gitlab_search(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, search: sub")?;
    ensure!(got == names(&["acme/sub/c"]), "{got:?}");
    Ok(())
}

fn field_gitlab_include(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, include: '/(a|c)$'")?;
    ensure!(got == names(&["acme/a", "acme/sub/c"]), "{got:?}");
    Ok(())
}

fn field_gitlab_exclude(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, exclude: '^acme/sub/'")?;
    ensure!(got == names(&["acme/a", "acme/b"]), "{got:?}");
    Ok(())
}

fn field_gitlab_archived(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, archived: true")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/old", "acme/sub/c"]),
        "{got:?}"
    );
    Ok(())
}

fn field_gitlab_forks(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, forks: true")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/copy", "acme/sub/c"]),
        "{got:?}"
    );
    Ok(())
}

fn field_gitlab_limit(k: &K) -> Result<(), String> {
    let got = gitlab_found(k, "group: acme, limit: 2")?;
    ensure!(got == names(&["acme/a", "acme/b"]), "{got:?}");
    Ok(())
}

/// A fake Gitea listed under `gitea.hosts` with the organisation `acme` (`a` with topics x and
/// y, `b` with x, `c`, an archived `old`, a fork `copy`), the user `jo` (`t`) and the
/// organisation `other` (`z`); the settings are written, the host is returned with the fake.
fn gitea_fleet(k: &K) -> (crate::support::gitea::FakeGitea, String) {
    use crate::support::gitea::{FakeGitea, Repo};
    let gt = FakeGitea::start(TOKEN, &k.f.path("tea"));
    gt.add_user("jo");
    for r in [
        Repo::new("acme/a").topics(&["x", "y"]),
        Repo::new("acme/b").topics(&["x"]),
        Repo::new("acme/c"),
        Repo::new("acme/old").archived(),
        Repo::new("acme/copy").fork(),
        Repo::new("jo/t"),
        Repo::new("other/z"),
    ] {
        gt.add_repo(r);
    }
    let host = gt.url.trim_start_matches("http://").to_string();
    let config = k.f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "gitea:\n  hosts:\n    - {{ host: '{host}', api_url: '{}' }}\n",
            gt.api
        ),
    )
    .expect("settings");
    (gt, host)
}

/// The full names `plan --json` lists (sorted) for `gitea: { host: HOST, ENTRY }`.
fn gitea_found(k: &K, entry: &str) -> Result<Vec<String>, String> {
    let (gt, host) = gitea_fleet(k);
    let p = k.pipeline(&pipe(
        &format!("repos:\n  - gitea: {{ host: '{host}', {entry} }}\n"),
        "",
    ));
    let out = k.cli(
        k.f.dir.path(),
        &["plan", &p, "--json"],
        &[("GITEA_TOKEN", TOKEN)],
    );
    ensure!(out.code == 0, "plan ran: {out}");
    let base = format!("{}/", gt.url);
    let mut got: Vec<String> = out.json()["repos"]
        .as_array()
        .map(|r| {
            r.iter()
                .map(|r| {
                    let path = r["path"].as_str().unwrap_or_default();
                    path.trim_start_matches(&base)
                        .trim_end_matches(".git")
                        .to_string()
                })
                .collect()
        })
        .unwrap_or_default();
    got.sort();
    Ok(got)
}

fn field_gitea_host(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/c"]),
        "the host's organisation: {got:?}"
    );
    // A host not listed under `gitea.hosts` is refused before anything is asked.
    let (gt, _) = gitea_fleet(k);
    let p = k.pipeline(&pipe(
        "repos:\n  - gitea: { host: git.elsewhere.example, org: acme }\n",
        "",
    ));
    let before = gt.requests().len();
    let out = k.cli(
        k.f.dir.path(),
        &["plan", &p, "--json"],
        &[("GITEA_TOKEN", TOKEN)],
    );
    ensure!(
        out.code == 2 && out.stderr.contains("E576"),
        "an unlisted host: {out}"
    );
    ensure!(gt.requests().len() == before, "nothing asked: {out}");
    Ok(())
}

fn field_gitea_org(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: other")?;
    ensure!(got == names(&["other/z"]), "{got:?}");
    Ok(())
}

fn field_gitea_user(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "user: jo")?;
    ensure!(got == names(&["jo/t"]), "{got:?}");
    Ok(())
}

fn field_gitea_topics(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, topics: [x, y]")?;
    ensure!(got == names(&["acme/a"]), "{got:?}");
    Ok(())
}

fn field_gitea_search(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, search: b")?;
    ensure!(got == names(&["acme/b"]), "{got:?}");
    Ok(())
}

fn field_gitea_include(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, include: '/(a|c)$'")?;
    ensure!(got == names(&["acme/a", "acme/c"]), "{got:?}");
    Ok(())
}

fn field_gitea_exclude(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, exclude: '/c$'")?;
    ensure!(got == names(&["acme/a", "acme/b"]), "{got:?}");
    Ok(())
}

fn field_gitea_archived(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, archived: true")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/c", "acme/old"]),
        "{got:?}"
    );
    Ok(())
}

fn field_gitea_forks(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, forks: true")?;
    ensure!(
        got == names(&["acme/a", "acme/b", "acme/c", "acme/copy"]),
        "{got:?}"
    );
    Ok(())
}

fn field_gitea_limit(k: &K) -> Result<(), String> {
    let got = gitea_found(k, "org: acme, limit: 2")?;
    let all = names(&["acme/a", "acme/b", "acme/c"]);
    ensure!(
        got.len() == 2 && got.iter().all(|g| all.contains(g)),
        "two of the organisation's: {got:?}"
    );
    Ok(())
}
