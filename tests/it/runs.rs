//! `codefleet run`, `plan`, `runs`, `show`, `rollback` on real temporary git repositories with
//! isolated git configuration, the real binary, and the `git` CLI as an independent witness.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

impl Fixture {
    fn pipeline(&self, yaml: &str) -> PathBuf {
        let p = self.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, yaml).expect("write pipeline");
        p
    }

    fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.args(args).current_dir(cwd);
        cmd
    }

    fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(cwd, args).output().expect("run codefleet")
    }

    fn tip(&self, repo: &Path, branch: &str) -> Option<String> {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .current_dir(repo)
            .output()
            .expect("git rev-parse");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn show(&self, repo: &Path, rev_path: &str) -> String {
        self.git(repo, &["show", rev_path])
    }
}

const TWO_TASKS: &str = r#"version: 1
name: migrate
tasks:
  - name: rename macro
    files: ["**/*.rs"]
    exclude: ["vendor/**"]
    replace: { find: '\blog::(info|warn)!', with: 'tracing::$1!', regex: true }
  - name: rename crate
    files: ["Cargo.toml"]
    replace: { find: 'log = "0.4"', with: 'tracing = "0.1"' }
"#;

fn service(f: &Fixture, name: &str) -> PathBuf {
    f.repo(
        name,
        &[
            ("src/main.rs", "fn main() {\n    log::info!(\"hi\");\n}\n"),
            ("src/lib.rs", "pub fn f() { log::warn!(\"w\"); }\n"),
            ("vendor/x.rs", "log::info!(\"vendored\");\n"),
            ("Cargo.toml", "[dependencies]\nlog = \"0.4\"\n"),
            ("README.md", "log::info! in prose\n"),
        ],
    )
}

#[test]
fn a_run_commits_each_task_on_the_branch_and_leaves_the_checkout_alone() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    std::fs::write(repo.join("README.md"), "dirty, uncommitted\n").expect("dirty");
    f.git(&repo, &["add", "README.md"]);
    std::fs::write(repo.join("src/lib.rs"), "uncommitted edit\n").expect("dirty");
    let status_before = f.git(&repo, &["status", "--porcelain"]);
    let head_before = f.git(&repo, &["rev-parse", "HEAD"]);
    let p = f.pipeline(TWO_TASKS);

    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let log = f.git(
        &repo,
        &["log", "--format=%s|%an <%ae>", "main..codefleet/migrate"],
    );
    assert_eq!(
        log,
        "rename crate|codefleet <codefleet@localhost>\nrename macro|codefleet <codefleet@localhost>\n"
    );
    let body = f.git(&repo, &["log", "-1", "--format=%B", "codefleet/migrate~1"]);
    assert!(
        body.contains(
            "\n\nCodefleet-Pipeline: migrate\nCodefleet-Task: rename macro\nCodefleet-Run: "
        ),
        "{body}"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:src/main.rs"),
        "fn main() {\n    tracing::info!(\"hi\");\n}\n"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:src/lib.rs"),
        "pub fn f() { tracing::warn!(\"w\"); }\n",
        "the base's content is edited, not the dirty working-tree copy"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:vendor/x.rs"),
        "log::info!(\"vendored\");\n"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:README.md"),
        "log::info! in prose\n"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:Cargo.toml"),
        "[dependencies]\ntracing = \"0.1\"\n"
    );
    let files = f.git(
        &repo,
        &["diff", "--name-only", "main", "codefleet/migrate~1"],
    );
    assert_eq!(files, "src/lib.rs\nsrc/main.rs\n");

    assert_eq!(f.git(&repo, &["status", "--porcelain"]), status_before);
    assert_eq!(f.git(&repo, &["rev-parse", "HEAD"]), head_before);
    assert_eq!(f.git(&repo, &["symbolic-ref", "HEAD"]), "refs/heads/main\n");
    assert_eq!(
        std::fs::read_to_string(repo.join("src/lib.rs")).expect("read"),
        "uncommitted edit\n"
    );
    f.git(&repo, &["fsck", "--strict"]);

    let summary = text(&out.stdout);
    assert!(
        summary.contains("1 repos, 1 changed, 0 failed; 2 commits, 3 files changed"),
        "{summary}"
    );
}

#[test]
fn an_identical_rerun_keeps_the_tip_and_a_moved_base_rebuilds_the_branch() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    assert_eq!(f.run(&repo, &["run", p]).status.code(), Some(0));
    let first = f.tip(&repo, "codefleet/migrate").expect("branch");

    let again = f.run(&repo, &["run", p]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert_eq!(
        f.tip(&repo, "codefleet/migrate").as_deref(),
        Some(first.as_str())
    );

    f.commit_files(&repo, &[("src/new.rs", "log::info!(\"new\");\n")], "more");
    let moved = f.run(&repo, &["run", p]);
    assert_eq!(moved.status.code(), Some(0), "{}", text(&moved.stderr));
    let second = f.tip(&repo, "codefleet/migrate").expect("branch");
    assert_ne!(second, first);
    assert_eq!(
        f.git(&repo, &["rev-parse", "codefleet/migrate~2"]),
        f.git(&repo, &["rev-parse", "main"]),
        "the branch is rebuilt on the new base"
    );
    assert_eq!(
        f.show(&repo, "codefleet/migrate:src/new.rs"),
        "tracing::info!(\"new\");\n"
    );
}

#[test]
fn foreign_commits_on_the_branch_stop_that_repo_unless_forced() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let other = service(&f, "other");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    let repos = [
        "--repo",
        repo.to_str().expect("utf8"),
        "--repo",
        other.to_str().expect("utf8"),
    ];
    let args: Vec<&str> = ["run", p].into_iter().chain(repos).collect();
    assert_eq!(f.run(&repo, &args).status.code(), Some(0));
    f.git(&repo, &["checkout", "-q", "codefleet/migrate"]);
    f.commit_files(&repo, &[("mine.txt", "hand-written\n")], "my own work");
    f.git(&repo, &["checkout", "-q", "main"]);
    f.commit_files(&other, &[("src/more.rs", "log::warn!(\"x\");\n")], "more");
    let mine = f.tip(&repo, "codefleet/migrate").expect("branch");

    let out = f.run(&repo, &args);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(
        f.tip(&repo, "codefleet/migrate").as_deref(),
        Some(mine.as_str())
    );
    let summary = text(&out.stdout);
    assert!(
        summary.contains("[E302] branch `codefleet/migrate` has 1 commit codefleet did not make"),
        "the row names the error code the README lists: {summary}"
    );
    assert!(summary.contains("--force"), "{summary}");
    assert_eq!(
        f.show(&other, "codefleet/migrate:src/more.rs"),
        "tracing::warn!(\"x\");\n",
        "the other repository still ran"
    );

    let forced: Vec<&str> = args.iter().copied().chain(["--force"]).collect();
    assert_eq!(f.run(&repo, &forced).status.code(), Some(0));
    let log = f.git(&repo, &["log", "--format=%s", "main..codefleet/migrate"]);
    assert_eq!(log, "rename crate\nrename macro\n");
}

#[test]
fn rollback_of_one_task_then_of_the_whole_run() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    let first_commit = report["repos"][0]["tasks"][0]["commit"]
        .as_str()
        .expect("commit")
        .to_string();

    let runs = f.run(&repo, &["runs"]);
    assert_eq!(runs.status.code(), Some(0));
    assert!(
        text(&runs.stdout).starts_with(&format!("{run_id}  migrate  codefleet/migrate  2 commits")),
        "{}",
        text(&runs.stdout)
    );
    let show = f.run(&repo, &["show", &run_id]);
    assert_eq!(show.status.code(), Some(0));
    let shown = text(&show.stdout);
    assert!(shown.contains("1. rename macro  "), "{shown}");
    assert!(shown.contains("   src/main.rs  +1 -1\n"), "{shown}");

    let one = f.run(&repo, &["rollback", &run_id, "--task", "rename crate"]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    assert_eq!(
        f.tip(&repo, "codefleet/migrate").as_deref(),
        Some(first_commit.as_str())
    );

    let all = f.run(&repo, &["rollback", &run_id]);
    assert_eq!(all.status.code(), Some(0), "{}", text(&all.stderr));
    assert_eq!(
        f.tip(&repo, "codefleet/migrate"),
        None,
        "the run had created the branch"
    );
    assert!(
        text(&all.stdout).contains("deleted"),
        "{}",
        text(&all.stdout)
    );

    let again = f.run(&repo, &["rollback", &run_id]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already rolled back"),
        "{}",
        text(&again.stderr)
    );
}

#[test]
fn dry_run_and_check_write_nothing() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    let refs_before = f.git(&repo, &["for-each-ref"]);
    let objects_before = f.git(&repo, &["count-objects"]);

    let dry = f.run(&repo, &["run", p, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    let shown = text(&dry.stdout);
    assert!(
        shown.contains("--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,3 +1,3 @@\n fn main() {\n-    log::info!(\"hi\");\n+    tracing::info!(\"hi\");\n }\n"),
        "{shown}"
    );
    assert!(
        shown
            .contains("2 commits, 3 files changed, 0 files failed (would be written; nothing was)"),
        "{shown}"
    );

    let check = f.run(&repo, &["run", p, "--check"]);
    assert_eq!(check.status.code(), Some(3));
    assert_eq!(f.git(&repo, &["for-each-ref"]), refs_before);
    assert_eq!(f.git(&repo, &["count-objects"]), objects_before);
    assert!(
        !repo.join(".git/codefleet/runs").exists(),
        "no journal either"
    );

    let clean = f.repo("clean", &[("a.rs", "fn a() {}\n")]);
    let nothing = f.run(&clean, &["run", p, "--check"]);
    assert_eq!(nothing.status.code(), Some(0));
}

#[test]
fn a_failing_repo_is_reported_and_the_others_are_kept() {
    let f = Fixture::dated();
    let good = service(&f, "good");
    let unborn = f.path("unborn");
    std::fs::create_dir_all(&unborn).expect("mkdir");
    f.git(&unborn, &["init", "-q", "-b", "main"]);
    let p = f.pipeline(TWO_TASKS);
    let summary_file = f.path("summary.md");
    let out = f
        .command(
            &good,
            &[
                "run",
                p.to_str().expect("utf8"),
                "--json",
                "--repo",
                unborn.to_str().expect("utf8"),
                "--repo",
                good.to_str().expect("utf8"),
            ],
        )
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(f.tip(&good, "codefleet/migrate").is_some());

    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON document");
    let schema = jsonschema::validator_for(&codefleet::report::schema()).expect("a valid schema");
    let problems: Vec<String> = schema.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "the report does not match its schema: {problems:?}"
    );
    assert_eq!(report["version"], 1);
    assert_eq!(report["pipeline"], "migrate");
    assert_eq!(report["mode"], "run");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["totals"]["repos"], 2);
    assert_eq!(report["totals"]["repos_failed"], 1);
    assert_eq!(report["totals"]["commits"], 2);
    let bad = &report["repos"][0];
    assert_eq!(bad["status"], "skipped");
    assert!(
        bad["message"]
            .as_str()
            .expect("message")
            .contains("no commit"),
        "{bad}"
    );
    let ok = &report["repos"][1];
    assert_eq!(ok["status"], "changed");
    assert_eq!(ok["branch"], "codefleet/migrate");
    assert_eq!(ok["tasks"][0]["files"][0]["path"], "src/lib.rs");
    assert_eq!(ok["tasks"][0]["files"][0]["status"], "modified");
    assert_eq!(ok["tasks"][0]["files"][0]["replacements"], 1);
    assert_eq!(ok["tasks"][0]["files_selected"], 2, "vendor/ is excluded");

    let md = std::fs::read_to_string(&summary_file).expect("step summary written");
    assert!(md.starts_with("### codefleet: `migrate`"), "{md}");
    assert!(
        md.contains("| changed | `codefleet/migrate` | 2 | 3 | 0 |"),
        "{md}"
    );
    assert!(
        text(&out.stderr).contains("::error title=codefleet "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn policy_skips_denied_large_and_binary_files_and_counts_them() {
    let f = Fixture::dated();
    let big = "x".repeat(2000) + "\n";
    let repo = f.repo(
        "svc",
        &[
            ("a.txt", "token\n"),
            ("big.txt", &(big + "token\n")),
            ("secret.pem", "token\n"),
            (".env", "token\n"),
        ],
    );
    std::fs::write(repo.join("bin.txt"), b"token\0\x01\x02").expect("binary");
    f.git(&repo, &["add", "-A"]);
    f.git(&repo, &["commit", "-q", "-m", "bin"]);
    let p = f.pipeline(
        "version: 1\nname: pol\npolicy:\n  max_file_size: 1KiB\ntasks:\n  - name: t\n    replace: { find: token, with: TOKEN }\n",
    );
    let p = p.to_str().expect("utf8");
    let plan = f.run(&repo, &["plan", p]);
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan.stderr));
    let shown = text(&plan.stdout);
    assert!(
        shown.contains(
            "task `t` (replace): 1 files; skipped 2 denied, 1 too large, 1 binary\n    a.txt\n"
        ),
        "{shown}"
    );

    let out = f.run(&repo, &["run", p, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(
        task["skipped"],
        serde_json::json!({"denied": 2, "too_large": 1, "binary": 1, "files": [
            {"path": ".env", "reason": "denied"},
            {"path": "big.txt", "reason": "too_large"},
            {"path": "bin.txt", "reason": "binary"},
            {"path": "secret.pem", "reason": "denied"},
        ]})
    );
    assert_eq!(report["totals"]["files_skipped"], 4);
    assert_eq!(task["files_changed"], 1);
    assert_eq!(f.show(&repo, "codefleet/pol:secret.pem"), "token\n");
}

#[test]
fn files_over_max_file_size_are_replaced_unless_a_limit_is_set_and_skips_are_listed() {
    let f = Fixture::dated();
    // 2.5 MB of source: over the 1 MiB default that protects a model's context.
    let big: String = "let x = y.unwrap();\n".repeat(131_072);
    assert!(big.len() > 2_500_000);
    let repo = f.repo("svc", &[("big.rs", &big), ("small.rs", "y.unwrap();\n")]);
    let task = "tasks:\n  - name: t\n    replace: { find: .unwrap(), with: .expect(\"x\") }\n";
    let p = f.pipeline(&format!("version: 1\nname: nolimit\n{task}"));
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(report["totals"]["files_skipped"], 0);
    assert_eq!(report["repos"][0]["tasks"][0]["files_changed"], 2);
    assert_eq!(
        f.show(&repo, "codefleet/nolimit:big.rs"),
        big.replace(".unwrap()", ".expect(\"x\")"),
        "no limit unless the pipeline sets one, as with fastmod"
    );

    let p = f.pipeline(&format!(
        "version: 1\nname: limit\npolicy:\n  max_file_size: 1MiB\n{task}"
    ));
    let summary_file = f.path("summary.md");
    let out = f
        .command(&repo, &["run", p.to_str().expect("utf8"), "-v"])
        .env("GITHUB_STEP_SUMMARY", &summary_file)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/limit:big.rs"), big);
    assert_eq!(
        f.show(&repo, "codefleet/limit:small.rs"),
        "y.expect(\"x\");\n"
    );
    let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
    assert!(
        stdout.contains("1 files changed, 0 files failed, 1 file skipped"),
        "{stdout}"
    );
    let line = "task `t`: big.rs skipped: larger than the policy's max_file_size";
    assert!(stderr.contains(line), "-v lists the skipped file: {stderr}");
    assert!(
        stderr.contains("1 files changed, 0 failed, 1 skipped"),
        "{stderr}"
    );
    let summary = std::fs::read_to_string(&summary_file).expect("step summary");
    assert!(summary.contains("Skipped files</b> (1)"), "{summary}");
    assert!(summary.contains(line), "{summary}");
    assert!(summary.contains("1 file skipped"), "{summary}");
}

#[test]
fn plan_json_lists_repos_tasks_and_files() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let out = f.run(&repo, &["plan", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(plan["repos"][0]["branch"], "codefleet/migrate");
    assert_eq!(
        plan["repos"][0]["tasks"][0]["files"],
        serde_json::json!(["src/lib.rs", "src/main.rs"])
    );
    assert_eq!(
        plan["repos"][0]["tasks"][1]["files"],
        serde_json::json!(["Cargo.toml"])
    );
}

/// `codefleet --json CMD ARGS` in `cwd`, parsed.
fn cli_json(f: &Fixture, cwd: &Path, cmd: &str, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["--json", cmd];
    all.extend_from_slice(args);
    let out = f.run(cwd, &all);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{cmd}: {e}: {}", text(&out.stderr)))
}

/// The facts a plan and a run report must agree on: each repository's path, name, base and
/// branch.
fn named(v: &serde_json::Value) -> Vec<[String; 4]> {
    v["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| ["path", "name", "base", "branch"].map(|k| r[k].as_str().unwrap_or("").into()))
        .collect()
}

#[test]
fn plan_and_run_name_base_and_branch_a_repository_alike_however_it_is_given() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    std::os::unix::fs::symlink(&repo, f.path("link")).expect("symlink");
    let p = f.pipeline(&TWO_TASKS.replace(
        "name: migrate\n",
        "name: migrate\nbranch: \"cf/{{ repo.name }}\"\n",
    ));
    let p = p.to_str().expect("utf8");
    // `.` where one stands, a path through a symlink, and a plain path.
    for (cwd, given) in [
        (repo.clone(), "."),
        (f.dir.path().to_path_buf(), "link"),
        (f.dir.path().to_path_buf(), "svc/"),
    ] {
        let plan = cli_json(&f, &cwd, "plan", &[p, "--repo", given]);
        let run = cli_json(&f, &cwd, "run", &[p, "--repo", given, "--dry-run"]);
        assert_eq!(named(&plan), named(&run), "--repo {given}");
        assert_eq!(plan["repos"][0]["name"], "svc", "--repo {given}: {plan}");
        assert_eq!(
            plan["repos"][0]["branch"], "cf/svc",
            "--repo {given}: {plan}"
        );
    }
}

#[test]
fn plan_and_run_from_the_same_base() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let first = f.git_line(&repo, &["rev-parse", "HEAD"]);
    f.commit_files(
        &repo,
        &[("src/later.rs", "fn later() { log::info!(\"x\"); }\n")],
        "later",
    );
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    let plan = cli_json(&f, &repo, "plan", &[p, "--base", "HEAD~1"]);
    let run = cli_json(&f, &repo, "run", &[p, "--base", "HEAD~1"]);
    assert_eq!(named(&plan), named(&run));
    assert_eq!(plan["repos"][0]["base"], first.as_str(), "{plan}");
    assert_eq!(
        plan["repos"][0]["tasks"][0]["files"],
        serde_json::json!(["src/lib.rs", "src/main.rs"]),
        "src/later.rs is not in HEAD~1: {plan}"
    );
    // The run built on that base: its two commits sit on `first`.
    assert_eq!(
        f.git_line(&repo, &["rev-parse", "codefleet/migrate~2"]),
        first
    );
    let head = cli_json(&f, &repo, "plan", &[p]);
    assert_ne!(head["repos"][0]["base"], first.as_str(), "{head}");
}

#[test]
fn the_report_schema_is_printed() {
    let f = Fixture::dated();
    let out = f.run(f.dir.path(), &["schema", "--report"]);
    assert_eq!(out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(schema["title"], "RunReport");
    assert!(schema["properties"]["repos"].is_object());
}

#[test]
fn ctrl_c_stops_the_run_and_leaves_every_repo_consistent() {
    let f = Fixture::dated();
    let mut repos = Vec::new();
    for r in 0..3 {
        let dir = f.path(&format!("r{r}"));
        std::fs::create_dir_all(dir.join("src")).expect("mkdir");
        f.git(&dir, &["init", "-q", "-b", "main"]);
        for i in 0..1500 {
            std::fs::write(dir.join(format!("src/f{i}.txt")), format!("alpha {i}\n"))
                .expect("write");
        }
        f.git(&dir, &["add", "-A"]);
        f.git(&dir, &["commit", "-q", "-m", "init"]);
        repos.push(dir);
    }
    let p = f.pipeline(
        "version: 1\nname: big\ntasks:\n  - name: one\n    replace: { find: alpha, with: beta }\n  - name: two\n    replace: { find: beta, with: gamma }\n",
    );
    let mut args = vec![
        "run".to_string(),
        p.display().to_string(),
        "-v".into(),
        "--jobs".into(),
        "1".into(),
    ];
    for r in &repos {
        args.push("--repo".into());
        args.push(r.display().to_string());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut child = f
        .command(f.dir.path(), &args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    // Signal once the first task has started on its files: the run is mid-task.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("utf8");
        let started = line.contains("task `one` started on 1500 files");
        seen.push(line);
        if started {
            break;
        }
    }
    assert!(seen[0].starts_with("codefleet: run "), "{seen:?}");
    // The shell's own `kill`, so no procps is needed.
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", rest.join("\n"));
    let summary = text(&out.stdout);
    assert!(
        summary.ends_with("; interrupted: unfinished tasks wrote nothing\n"),
        "{summary}"
    );
    for r in &repos {
        f.git(r, &["fsck", "--strict"]);
        assert_eq!(f.git(r, &["status", "--porcelain"]), "");
        if let Some(tip) = f.tip(r, "codefleet/big") {
            // Only complete tasks are on the branch: every file of the last task is done.
            let subject = f.git(r, &["log", "-1", "--format=%s", &tip]);
            let expect = if subject == "one\n" { "beta" } else { "gamma" };
            let grep = f.git(r, &["grep", "-c", expect, &tip, "--", "src"]);
            assert_eq!(grep.lines().count(), 1500, "{subject}");
            // `runs` marks the interrupted run and `show` names the task it never finished.
            if subject == "one\n" {
                let runs = f.run(r, &["runs"]);
                let listed = text(&runs.stdout);
                assert!(listed.trim_end().ends_with("(interrupted)"), "{listed}");
                let id = listed
                    .split_whitespace()
                    .next()
                    .expect("a run id")
                    .to_string();
                let shown = text(&f.run(r, &["show", &id]).stdout);
                assert!(
                    shown.contains("\n2. two  not run: interrupted\n"),
                    "{shown}"
                );
                assert!(shown.contains("\ninterrupted: "), "{shown}");
            }
        }
    }
}

#[test]
fn patch_and_edits_tasks_commit_what_applies_and_report_what_does_not() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let patch = "--- a/src/main.rs\n+++ b/src/main.rs\n@@ -1,3 +1,4 @@\n fn main() {\n     log::info!(\"hi\");\n+    log::info!(\"bye\");\n }\n";
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/bye.diff"), patch).expect("patch");
    let edits = "src/lib.rs\n```rust\n<<<<<<< SEARCH\npub fn f() { log::warn!(\"w\"); }\n=======\npub fn f() { log::error!(\"e\"); }\n>>>>>>> REPLACE\n```\n\nCargo.toml\n```toml\n<<<<<<< SEARCH\nthis text is not there\n=======\nnothing\n>>>>>>> REPLACE\n```\n\nsecrets.pem\n```\n<<<<<<< SEARCH\n=======\nkey\n>>>>>>> REPLACE\n```\n";
    std::fs::write(f.path("pipelines/edits.md"), edits).expect("edits");
    let p = f.pipeline(
        "version: 1\nname: mixed\ntasks:\n  - name: apply patch\n    patch: bye.diff\n  - name: apply edits\n    edits: edits.md\n    format: diff\n",
    );
    let out = f
        .command(&repo, &["run", p.to_str().expect("utf8"), "--json"])
        .env("GITHUB_ACTIONS", "true")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        f.show(&repo, "codefleet/mixed:src/main.rs"),
        "fn main() {\n    log::info!(\"hi\");\n    log::info!(\"bye\");\n}\n"
    );
    assert_eq!(
        f.show(&repo, "codefleet/mixed:src/lib.rs"),
        "pub fn f() { log::error!(\"e\"); }\n",
        "the edit that applies is committed"
    );
    assert_eq!(
        f.show(&repo, "codefleet/mixed:Cargo.toml"),
        "[dependencies]\nlog = \"0.4\"\n"
    );
    let log = f.git(&repo, &["log", "--format=%s", "main..codefleet/mixed"]);
    assert_eq!(log, "apply edits\napply patch\n");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][1];
    assert_eq!(task["status"], "failed");
    assert_eq!(task["files_changed"], 1);
    assert_eq!(task["files_failed"], 2);
    let denied = &task["files"][1];
    assert_eq!(denied["path"], "secrets.pem");
    assert!(
        denied["message"]
            .as_str()
            .expect("message")
            .contains("refused"),
        "{denied}"
    );
    assert!(f.tip(&repo, "codefleet/mixed").is_some());
    let failed = &task["files"][0];
    assert_eq!(failed["path"], "Cargo.toml");
    assert!(
        failed["message"]
            .as_str()
            .expect("message")
            .starts_with("edit 2 (line 10 of "),
        "{failed}"
    );
    let stderr = text(&out.stderr);
    assert!(stderr.contains("::error file="), "{stderr}");
    assert!(
        stderr.contains("Cargo.toml,title=codefleet task apply edits::edit 2"),
        "{stderr}"
    );
}

#[test]
fn a_task_changing_many_files_commits_on_the_base_and_reruns_keep_the_tip() {
    let f = Fixture::dated();
    let files: Vec<(String, String)> = (0..150)
        .map(|i| {
            (
                format!("src/m{i}.rs"),
                format!("fn f{i}() {{ x.unwrap(); }}\n"),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let repo = f.repo("many", &refs);
    let p = f.pipeline(
        "version: 1\nname: many\ntasks:\n  - name: t\n    replace: { find: .unwrap(), with: .unwrap_x() }\n",
    );
    let p = p.to_str().expect("utf8");
    assert_eq!(f.run(&repo, &["run", p]).status.code(), Some(0));
    assert_eq!(
        f.git(&repo, &["rev-parse", "codefleet/many^"]),
        f.git(&repo, &["rev-parse", "main"])
    );
    let changed = f.git(&repo, &["diff", "--name-only", "main", "codefleet/many"]);
    assert_eq!(changed.lines().count(), 150);
    f.git(&repo, &["fsck", "--strict"]);
    let tip = f.tip(&repo, "codefleet/many");
    assert_eq!(f.run(&repo, &["run", p]).status.code(), Some(0));
    assert_eq!(f.tip(&repo, "codefleet/many"), tip);
}

#[test]
fn base_checkout_and_shard_flags() {
    let f = Fixture::dated();
    let a = service(&f, "a");
    let b = service(&f, "b");
    let c = service(&f, "c");
    let old = f.git(&a, &["rev-parse", "HEAD"]);
    f.commit_files(&a, &[("src/later.rs", "log::info!(\"later\");\n")], "later");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");

    let out = f.run(&a, &["run", p, "--base", old.trim()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.git(&a, &["rev-parse", "codefleet/migrate~2"]), old);
    let bad = f.run(&a, &["run", p, "--base", "no-such-rev"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        text(&bad.stdout).contains("no-such-rev"),
        "{}",
        text(&bad.stdout)
    );

    let out = f.run(&a, &["run", p, "--checkout"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        f.git(&a, &["symbolic-ref", "HEAD"]),
        "refs/heads/codefleet/migrate\n"
    );
    assert_eq!(
        std::fs::read_to_string(a.join("src/later.rs")).expect("read"),
        "tracing::info!(\"later\");\n"
    );
    assert_eq!(f.git(&a, &["status", "--porcelain"]), "");

    let repos: Vec<String> = [&a, &b, &c]
        .iter()
        .map(|r| r.display().to_string())
        .collect();
    let mut tips = Vec::new();
    for k in ["1/2", "2/2"] {
        let mut args = vec!["run", p, "--check", "--json", "--shard", k];
        for r in &repos {
            args.extend(["--repo", r.as_str()]);
        }
        let out = f.run(&a, &args);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let names: Vec<String> = report["repos"]
            .as_array()
            .expect("repos")
            .iter()
            .map(|r| r["name"].as_str().expect("name").to_string())
            .collect();
        tips.push(names);
    }
    // The split hashes each repository's resolved path (temporary here): the shards are
    // disjoint and cover every repository, whichever way they fall.
    let mut all: Vec<String> = tips.concat();
    all.sort();
    assert_eq!(all, ["a", "b", "c"], "{tips:?}");
    let bad = f.run(&a, &["run", p, "--shard", "3/2"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        text(&bad.stderr).starts_with("error[E095]"),
        "{}",
        text(&bad.stderr)
    );
}

#[test]
fn pipeline_errors_exit_2_and_nothing_runs() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline("version: 1\nname: broken\ntasks:\n  - name: t\n    replace: { find: '(', with: x, regex: true }\n");
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2));
    let err = text(&out.stderr);
    assert!(err.contains("p.yml:5:"), "{err}");
    assert!(err.contains("nothing ran"), "{err}");
    assert_eq!(
        f.git(&repo, &["for-each-ref", "--format=%(refname)"]),
        "refs/heads/main\n"
    );
}

#[test]
fn shell_steps_and_replacements_commit_in_pipeline_order() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(
        "version: 1\nname: mixed\ntasks:\n  - name: fmt\n    run: printf 'serde = \"1\"\\n' >> Cargo.toml\n  - name: t\n    replace: { find: 'log = \"0.4\"', with: 'log = \"0.5\"' }\n  - name: still builds\n    check: grep -q serde Cargo.toml\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    assert_eq!(
        f.show(&repo, "codefleet/mixed:Cargo.toml"),
        "[dependencies]\nlog = \"0.5\"\nserde = \"1\"\n"
    );
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/mixed"]),
        "t\nfmt\n"
    );
}

#[test]
fn a_branch_checked_out_elsewhere_fails_that_repo_and_keeps_the_report() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    assert_eq!(
        f.run(&repo, &["run", p, "--checkout"]).status.code(),
        Some(0)
    );
    f.git(&repo, &["checkout", "-q", "main"]);
    f.commit_files(&repo, &[("src/x.rs", "log::info!(\"x\");\n")], "x");
    f.git(&repo, &["checkout", "-q", "codefleet/migrate"]);
    let tip = f.tip(&repo, "codefleet/migrate");
    let out = f.run(&repo, &["run", p, "--base", "main", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let r = &report["repos"][0];
    assert_eq!(r["status"], "failed");
    assert!(
        r["message"]
            .as_str()
            .expect("message")
            .contains("checked out"),
        "{r}"
    );
    assert_eq!(
        r["tasks"].as_array().expect("tasks").len(),
        2,
        "the tasks are still reported"
    );
    assert_eq!(
        f.tip(&repo, "codefleet/migrate"),
        tip,
        "the checked-out branch did not move"
    );
    assert_eq!(f.git(&repo, &["status", "--porcelain"]), "");
}

#[test]
fn a_directory_inside_a_repository_is_not_taken_for_it() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let sub = repo.join("src");
    let out = f.run(
        &repo,
        &[
            "run",
            p.to_str().expect("utf8"),
            "--repo",
            sub.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("is not a repository: it is inside the repository at"),
        "{summary}"
    );
    assert_eq!(f.tip(&repo, "codefleet/migrate"), None);
    let plan = f.run(
        &repo,
        &[
            "plan",
            p.to_str().expect("utf8"),
            "--repo",
            sub.to_str().expect("utf8"),
        ],
    );
    assert_eq!(plan.status.code(), Some(1));
    assert!(
        text(&plan.stdout).contains(": not run: "),
        "{}",
        text(&plan.stdout)
    );
    // Standing in a subdirectory runs on the enclosing repository, as git does.
    let here = f.run(&sub, &["run", p.to_str().expect("utf8")]);
    assert_eq!(here.status.code(), Some(0), "{}", text(&here.stdout));
    assert!(f.tip(&repo, "codefleet/migrate").is_some());
}

#[test]
fn modes_line_endings_and_symlinks_are_kept() {
    let f = Fixture::dated();
    let repo = f.repo(
        "svc",
        &[
            ("run.sh", "#!/bin/sh\necho old\n"),
            ("win.txt", "old\r\nline\r\n"),
        ],
    );
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(repo.join("run.sh"), std::fs::Permissions::from_mode(0o755))
        .expect("chmod");
    std::os::unix::fs::symlink("win.txt", repo.join("link.txt")).expect("symlink");
    f.git(&repo, &["add", "-A"]);
    f.git(&repo, &["commit", "-q", "-m", "modes"]);
    let p = f.pipeline(
        "version: 1\nname: m\ntasks:\n  - name: t\n    replace: { find: old, with: new }\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        f.git(&repo, &["ls-tree", "main", "run.sh"])
            .starts_with("100755")
    );
    let tree = f.git(&repo, &["ls-tree", "codefleet/m"]);
    assert!(
        tree.contains("100755 blob") && tree.contains("\trun.sh\n"),
        "{tree}"
    );
    assert!(tree.contains("120000 blob"), "{tree}");
    assert_eq!(f.show(&repo, "codefleet/m:run.sh"), "#!/bin/sh\necho new\n");
    assert_eq!(f.show(&repo, "codefleet/m:win.txt"), "new\r\nline\r\n");
    assert_eq!(
        f.show(&repo, "codefleet/m:link.txt"),
        "win.txt",
        "the link itself is not edited"
    );
    let changed = f.git(&repo, &["diff", "--name-only", "main", "codefleet/m"]);
    assert_eq!(changed, "run.sh\nwin.txt\n");
}

#[test]
fn repos_come_from_paths_globs_and_lists_relative_to_the_pipeline() {
    let f = Fixture::dated();
    let one = service(&f, "one");
    let a = service(&f, "fleet/a");
    let b = service(&f, "fleet/b");
    std::fs::create_dir_all(f.path("fleet/notes")).expect("a plain directory");
    let listed = service(&f, "listed");
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/repos.txt"), "# more\n../listed\n").expect("list");
    let p = f.pipeline(&TWO_TASKS.replace(
        "tasks:\n",
        "repos:\n  - path: ../one\n  - path: ../fleet/*\n  - list: repos.txt\ntasks:\n",
    ));
    let out = f.run(f.dir.path(), &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let names: Vec<&str> = report["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["one", "a", "b", "listed"]);
    for r in [&one, &a, &b, &listed] {
        assert!(f.tip(r, "codefleet/migrate").is_some(), "{}", r.display());
    }
}

/// Several pipelines print one report document (the schema of `codefleet schema --report`),
/// covering them all, each pipeline's own report under `pipelines`; `report merge` of such
/// documents prints one document too.
#[test]
fn several_pipelines_run_in_order_into_one_json_document() {
    let f = Fixture::dated();
    let repo = service(&f, "svc");
    let first = f.pipeline(TWO_TASKS);
    let second = f.path("pipelines/second.yml");
    std::fs::write(
        &second,
        "version: 1\nname: second\ntasks:\n  - name: t\n    replace: { find: '[dependencies]', with: '[deps]' }\n",
    )
    .expect("write");
    let out = f.run(
        &repo,
        &[
            "run",
            first.to_str().expect("utf8"),
            second.to_str().expect("utf8"),
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let schema = jsonschema::validator_for(&codefleet::report::schema()).expect("a valid schema");
    let problems: Vec<String> = schema.iter_errors(&report).map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "not the documented object: {problems:?}"
    );
    assert_eq!(report["pipeline"], "migrate+second");
    assert_eq!(
        report["totals"]["repos"], 2,
        "one row per pipeline and repository"
    );
    assert_eq!(report["totals"]["commits"], 3);
    let names: Vec<&str> = report["pipelines"]
        .as_array()
        .expect("each pipeline's report")
        .iter()
        .map(|r| r["pipeline"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["migrate", "second"]);
    assert_eq!(
        f.show(&repo, "codefleet/second:Cargo.toml"),
        "[deps]\nlog = \"0.4\"\n"
    );

    // `report merge` of that document and a single-pipeline one: one object again.
    let both = f.path("both.json");
    std::fs::write(&both, &out.stdout).expect("write");
    let again = f.run(&repo, &["run", first.to_str().expect("utf8"), "--json"]);
    let single = f.path("single.json");
    std::fs::write(&single, &again.stdout).expect("write");
    let merged = f.run(
        &repo,
        &[
            "report",
            "merge",
            both.to_str().unwrap(),
            single.to_str().unwrap(),
            "--json",
        ],
    );
    assert_eq!(merged.status.code(), Some(0), "{}", text(&merged.stderr));
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).expect("json");
    let problems: Vec<String> = schema.iter_errors(&merged).map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "not the documented object: {problems:?}"
    );
    assert_eq!(merged["pipeline"], "migrate+second");
    assert_eq!(merged["pipelines"].as_array().map(Vec::len), Some(2));
}

/// A task whose `files:` matches nothing in any repository is warned about in the summary and
/// the JSON report; one that matches somewhere is not.
#[test]
fn files_matching_nothing_anywhere_are_warned_about() {
    let f = Fixture::new();
    let a = f.repo("a", &[("src/x.rs", "old\n")]);
    let b = f.repo("b", &[("src/y.rs", "old\n")]);
    let p = f.pipeline(
        "version: 1\nname: w\nrepos: [{ path: ../a }, { path: ../b }]\ntasks:\n  - name: typo\n    files: [\"**/*.rss\"]\n    replace: { find: old, with: new }\n  - name: real\n    files: [\"src/y.rs\"]\n    replace: { find: old, with: new }\n",
    );
    let p = p.to_str().unwrap();
    let out = f.run(f.dir.path(), &["run", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains("warning: task `typo`: `files:` matched no file in any repository"),
        "{summary}"
    );
    assert!(!summary.contains("task `real`: `files:`"), "{summary}");
    assert_eq!(f.show(&b, "codefleet/w:src/y.rs"), "new\n");
    assert!(f.tip(&a, "codefleet/w").is_none());

    let out = f.run(f.dir.path(), &["run", p, "--json", "--dry-run"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["warnings"],
        serde_json::json!([{ "task": "typo", "message": "`files:` matched no file in any repository" }])
    );
}

/// `author` and `default_branch_template` settings fill what a pipeline leaves out, from every
/// layer (user file, `.codefleet.yml`, `CODEFLEET_*`), and a pipeline's own `branch:` and
/// `commit.author` win over them.
#[test]
fn author_and_branch_template_settings_shape_the_run_unless_the_pipeline_sets_them() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "old\n")]);
    let bare = "version: 1\nname: up\ntasks:\n  - name: t\n    files: [a.txt]\n    replace: { find: old, with: new }\n";
    let p = f.pipeline(bare);
    let p = p.to_str().unwrap();
    let author_of = |branch: &str| {
        f.git_line(
            &repo,
            &["log", "-1", "--format=%an <%ae>|%cn <%ce>", branch],
        )
    };

    // The user config file.
    std::fs::create_dir_all(f.path("config/codefleet")).unwrap();
    std::fs::write(
        f.path("config/codefleet/config.yml"),
        "author: \"Fleet Bot <bot@example.com>\"\ndefault_branch_template: \"fleet/{{ pipeline }}-{{ repo.name }}\"\n",
    )
    .unwrap();
    let out = f.run(&repo, &["run", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        f.tip(&repo, "codefleet/up").is_none(),
        "the built-in default was used"
    );
    assert!(
        f.tip(&repo, "fleet/up-svc").is_some(),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(
        author_of("fleet/up-svc"),
        "Fleet Bot <bot@example.com>|Fleet Bot <bot@example.com>"
    );

    // `.codefleet.yml` beats the user file.
    std::fs::write(repo.join(".codefleet.yml"), "author: \"Repo Bot <repo@example.com>\"\ndefault_branch_template: \"repo/{{ pipeline }}\"\n").unwrap();
    let out = f.run(&repo, &["run", p]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        author_of("repo/up"),
        "Repo Bot <repo@example.com>|Repo Bot <repo@example.com>"
    );

    // The environment beats both files.
    let out = f
        .command(&repo, &["run", p])
        .env("CODEFLEET_AUTHOR", "Env Bot <env@example.com>")
        .env("CODEFLEET_BRANCH_TEMPLATE", "env/{{ pipeline }}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        author_of("env/up"),
        "Env Bot <env@example.com>|Env Bot <env@example.com>"
    );

    // A pipeline's own `branch:` and `commit.author` win over every setting.
    let own = bare.replace(
        "tasks:",
        "branch: mine/{{ pipeline }}\ncommit: { author: \"Pipe Line <pipe@example.com>\" }\ntasks:",
    );
    let p2 = f.pipeline(&own);
    let out = f
        .command(&repo, &["run", p2.to_str().unwrap()])
        .env("CODEFLEET_AUTHOR", "Env Bot <env@example.com>")
        .env("CODEFLEET_BRANCH_TEMPLATE", "env2/{{ pipeline }}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(f.tip(&repo, "env2/up").is_none());
    assert_eq!(
        author_of("mine/up"),
        "Pipe Line <pipe@example.com>|Pipe Line <pipe@example.com>"
    );
}

/// A bad `author` or `default_branch_template` stops before anything runs, naming the layer.
#[test]
fn bad_author_or_branch_template_settings_are_usage_errors() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "old\n")]);
    let p = f.pipeline("version: 1\nname: up\nvars: { v: x }\ntasks:\n  - name: t\n    files: [a.txt]\n    replace: { find: old, with: new }\n");
    let p = p.to_str().unwrap();
    for (var, value, expected) in [
        (
            "CODEFLEET_AUTHOR",
            "just a name",
            "CODEFLEET_AUTHOR=just a name",
        ),
        (
            "CODEFLEET_BRANCH_TEMPLATE",
            "bad..name/{{ pipeline }}",
            "not a valid git branch name",
        ),
        (
            "CODEFLEET_BRANCH_TEMPLATE",
            "x/{{ vars.nope }}",
            "default_branch_template",
        ),
        (
            "CODEFLEET_BRANCH_TEMPLATE",
            "x-{{ task }}",
            "is not available",
        ),
    ] {
        let out = f
            .command(&repo, &["run", p])
            .env(var, value)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(2),
            "{var}={value}: {}",
            text(&out.stderr)
        );
        let err = text(&out.stderr);
        assert!(err.contains(expected), "{var}={value}: {err}");
        assert_eq!(
            f.git_line(&repo, &["branch", "--format=%(refname:short)"]),
            "main"
        );
    }
    // A template using the pipeline's own variables is fine.
    let out = f
        .command(&repo, &["run", p])
        .env("CODEFLEET_BRANCH_TEMPLATE", "x/{{ vars.v }}")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(f.tip(&repo, "x/x").is_some());
}

/// Every command that prints stops quietly when its reader is gone (`codefleet runs | head`):
/// no `E001 Broken pipe`, and the exit code of the work itself (0 here).
#[test]
fn a_closed_stdout_ends_every_printing_command_quietly() {
    let f = Fixture::new();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().unwrap();
    let out = f.run(&repo, &["run", p, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    let cases: Vec<Vec<&str>> = vec![
        vec!["runs"],
        vec!["show", &run_id],
        vec!["schema"],
        vec!["schema", "--report"],
        vec!["config"],
        vec!["config", "--json"],
        vec!["completions", "bash"],
        vec!["plan", p],
        vec!["plan", p, "--json"],
        vec!["run", p, "--dry-run"],
        vec!["validate", p, "--json"],
        vec!["--help"],
    ];
    for args in cases {
        // The read end is closed before codefleet starts: its first write meets a closed pipe.
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let out = f
            .command(&repo, &args)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .expect("run");
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            !err.contains("Broken pipe") && !err.contains("E001"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn case_insensitive_replace_matches_every_spelling_literal_and_regex() {
    let f = Fixture::dated();
    let repo = f.repo(
        "svc",
        &[
            ("lit.txt", "Hello HELLO hello hElLo\n"),
            ("re.txt", "Foo_1 FOO_2 foo_3 bar\n"),
        ],
    );
    let p = f.pipeline(
        r#"version: 1
name: ci
tasks:
  - name: literal
    files: [lit.txt]
    replace: { find: hello, with: bye, case_insensitive: true }
  - name: regex
    files: [re.txt]
    replace: { find: 'foo_(\d)', with: 'x$1', regex: true, case_insensitive: true }
"#,
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/ci:lit.txt"), "bye bye bye bye\n");
    assert_eq!(f.show(&repo, "codefleet/ci:re.txt"), "x1 x2 x3 bar\n");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let tasks = &report["repos"][0]["tasks"];
    assert_eq!(tasks[0]["files"][0]["replacements"], 4, "{tasks}");
    assert_eq!(tasks[1]["files"][0]["replacements"], 3, "{tasks}");
}

/// The repositories each `--shard K/3` job of a `--check --json` run picks, by name.
fn shard_names(f: &Fixture, cwd: &Path, pipeline: &str, repos: &[&str], k: usize) -> Vec<String> {
    let shard = format!("{k}/3");
    let mut args = vec![
        "run",
        pipeline,
        "--check",
        "--json",
        "--shard",
        shard.as_str(),
    ];
    for r in repos {
        args.extend(["--repo", r]);
    }
    let out = f.run(cwd, &args);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    let mut names: Vec<String> = report["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["name"].as_str().expect("name").to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn shards_do_not_depend_on_where_the_job_starts_or_how_paths_are_spelled() {
    let f = Fixture::dated();
    let names = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7"];
    for n in names {
        service(&f, &format!("x/{n}"));
    }
    std::fs::create_dir_all(f.path("elsewhere/deep")).expect("mkdir");
    let p = f.pipeline(TWO_TASKS);
    let p = p.to_str().expect("utf8");
    let x = f.path("x");
    let dot: Vec<String> = names.iter().map(|n| format!("./{n}")).collect();
    let slash: Vec<String> = names.iter().map(|n| format!("{n}/")).collect();
    let up: Vec<String> = names.iter().map(|n| format!("../../x/{n}")).collect();
    let abs: Vec<String> = names
        .iter()
        .map(|n| x.join(n).display().to_string())
        .collect();
    let spellings: [(&Path, &Vec<String>); 4] = [
        (&x, &dot),
        (&x, &slash),
        (&f.path("elsewhere/deep"), &up),
        (&f.path("elsewhere"), &abs),
    ];
    let mut union = Vec::new();
    for k in 1..=3 {
        let mut seen: Vec<Vec<String>> = Vec::new();
        for (cwd, repos) in &spellings {
            let repos: Vec<&str> = repos.iter().map(String::as_str).collect();
            seen.push(shard_names(&f, cwd, p, &repos, k));
        }
        // The pipeline's own `repos:` names the same fleet a fifth way.
        let listed =
            f.pipeline(&TWO_TASKS.replace("tasks:\n", "repos:\n  - path: ../x/*\ntasks:\n"));
        seen.push(shard_names(&f, &x, listed.to_str().expect("utf8"), &[], k));
        f.pipeline(TWO_TASKS);
        assert!(
            seen.windows(2).all(|w| w[0] == w[1]),
            "shard {k}/3: {seen:?}"
        );
        union.extend(seen.swap_remove(0));
    }
    union.sort();
    assert_eq!(union, names, "the shards partition the fleet");
}

/// A file of ten numbered lines, so two hunks of a patch are far apart.
fn numbered(first: &str) -> String {
    let mut s = format!("{first}\n");
    for i in 2..=10 {
        s.push_str(&format!("line {i}\n"));
    }
    s
}

#[test]
fn a_patch_with_a_bad_hunk_commits_nothing_unless_atomic_none_and_then_says_partial() {
    let f = Fixture::dated();
    let repo = f.repo("svc", &[("a.txt", &numbered("line 1")), ("b.txt", "b\n")]);
    // Hunk 1 applies; hunk 2's context is not in the file; b.txt's change is fine.
    let patch = "--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-line 1\n+LINE 1\n line 2\n line 3\n@@ -8,3 +8,3 @@\n line 8\n-no such line\n+LINE 9\n line 10\n--- a/b.txt\n+++ b/b.txt\n@@ -1 +1 @@\n-b\n+B\n";
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/x.diff"), patch).expect("patch");
    // The witness: git apply refuses the whole patch and touches nothing.
    let check = Command::new("git")
        .args([
            "apply",
            "--check",
            f.path("pipelines/x.diff").to_str().expect("utf8"),
        ])
        .current_dir(&repo)
        .output()
        .expect("git apply");
    assert!(!check.status.success(), "git apply takes the patch");

    let p = f.pipeline("version: 1\nname: whole\ntasks:\n  - name: p\n    patch: x.diff\n");
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        f.tip(&repo, "codefleet/whole"),
        None,
        "no commit, no branch"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed");
    assert_eq!(task["files_changed"], 0);
    assert_eq!(task["files_failed"], 1);
    assert_eq!(task.get("partial"), None);
    assert!(
        task["message"]
            .as_str()
            .expect("message")
            .contains("nothing of this task was committed"),
        "{task}"
    );

    let p = f.pipeline(
        "version: 1\nname: some\ntasks:\n  - name: p\n    patch: x.diff\n    atomic: none\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(
        f.show(&repo, "codefleet/some:a.txt"),
        numbered("LINE 1"),
        "atomic: none keeps the hunk that applied"
    );
    assert_eq!(f.show(&repo, "codefleet/some:b.txt"), "B\n");
    let shown = text(&out.stdout);
    assert!(
        shown.contains(
            "task `p`: partly applied: 2 files changed, 1 failed; left half-edited: a.txt"
        ),
        "{shown}"
    );
    let out = f.run(
        &repo,
        &["run", p.to_str().expect("utf8"), "--json", "--check"],
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["partial"], true, "{task}");
    assert_eq!(report["exit_code"], 1);
}

#[test]
fn edits_never_leave_a_file_half_edited_by_default_and_atomic_chooses() {
    let f = Fixture::dated();
    let repo = f.repo("svc", &[("a.txt", "one\ntwo\n"), ("b.txt", "three\n")]);
    let edits = "a.txt\n```\n<<<<<<< SEARCH\none\n=======\nONE\n>>>>>>> REPLACE\n```\n\na.txt\n```\n<<<<<<< SEARCH\nnot there\n=======\nx\n>>>>>>> REPLACE\n```\n\nb.txt\n```\n<<<<<<< SEARCH\nthree\n=======\nTHREE\n>>>>>>> REPLACE\n```\n";
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/e.md"), edits).expect("edits");
    let run = |name: &str, atomic: &str| {
        let p = f.pipeline(&format!(
            "version: 1\nname: {name}\ntasks:\n  - name: e\n    edits: e.md\n{atomic}"
        ));
        f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"])
    };

    let out = run("file", "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/file:a.txt"), "one\ntwo\n");
    assert_eq!(f.show(&repo, "codefleet/file:b.txt"), "THREE\n");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["partial"], true, "{task}");
    assert_eq!(task["files_changed"], 1);
    assert!(
        task["message"]
            .as_str()
            .expect("message")
            .contains("`atomic: file`"),
        "{task}"
    );

    let out = run("task", "    atomic: task\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(f.tip(&repo, "codefleet/task"), None);

    let out = run("none", "    atomic: none\n");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/none:a.txt"), "ONE\ntwo\n");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["partial"], true);
    let a = task["files"]
        .as_array()
        .expect("files")
        .iter()
        .find(|f| f["path"] == "a.txt" && f["status"] == "modified")
        .expect("a.txt is reported modified");
    assert!(
        a["message"]
            .as_str()
            .expect("message")
            .starts_with("partly edited"),
        "{a}"
    );

    let bad = f.pipeline(
        "version: 1\nname: bad\ntasks:\n  - name: e\n    edits: e.md\n    atomic: half\n",
    );
    let out = f.run(&repo, &["validate", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let bad = f.pipeline(
        "version: 1\nname: bad\ntasks:\n  - name: r\n    run: 'true'\n    atomic: task\n",
    );
    let out = f.run(&repo, &["validate", bad.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("`atomic` does not apply"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn an_edits_file_with_no_edit_in_its_format_fails_the_task_as_apply_does() {
    let f = Fixture::dated();
    let repo = f.repo("svc", &[("a.txt", "old\n")]);
    // A whole-file listing, read as SEARCH/REPLACE: nothing in it is an edit.
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    let edits = f.path("pipelines/e.txt");
    std::fs::write(&edits, "a.txt\n```\nwhole new\n```\n").expect("edits");
    std::fs::write(f.path("pipelines/empty.diff"), "").expect("patch");
    let p = f.pipeline("version: 1\nname: none\ntasks:\n  - name: e\n    edits: e.txt\n    format: diff\n  - name: p\n    patch: empty.diff\n");
    let p = p.to_str().expect("utf8");

    let out = f.run(&repo, &["run", p, "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(f.tip(&repo, "codefleet/none"), None);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    for (i, says) in [
        (0, "read as `diff`"),
        (1, "a `patch:` file is a unified diff"),
    ] {
        let task = &report["repos"][0]["tasks"][i];
        assert_eq!(task["status"], "failed", "{task}");
        let message = task["message"].as_str().expect("message");
        assert!(message.starts_with("found no edits in `"), "{message}");
        assert!(message.contains(says), "{message}");
    }
    let message = report["repos"][0]["tasks"][0]["message"].as_str().unwrap();
    assert!(message.contains("e.txt"), "names the file: {message}");
    assert!(message.contains("set the task's `format:`"), "{message}");
    assert_eq!(report["repos"][0]["status"], "failed");
    let out = f.run(&repo, &["run", p]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("task `e`: found no edits in `"),
        "the summary says it: {}",
        text(&out.stdout)
    );

    // `codefleet apply` on the same input agrees: E065, exit 1, nothing written.
    let out = f.run(
        &repo,
        &["apply", "--format", "diff", edits.to_str().expect("utf8")],
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("E065") && text(&out.stderr).contains("found no edits"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("a.txt")).expect("a.txt"),
        "old\n"
    );

    // Read in its own format, the same file applies.
    let p = f.pipeline(
        "version: 1\nname: whole\ntasks:\n  - name: e\n    edits: e.txt\n    format: whole\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/whole:a.txt"), "whole new\n");
}

/// A reviewed `whole` edits file that deliberately cuts a file down is refused as not the
/// whole file unless the task sets `allow_shrink: true`.
#[test]
fn allow_shrink_lets_a_whole_edits_file_cut_a_file_down() {
    let f = Fixture::dated();
    let long = "keep\nold 1\nold 2\nold 3\nold 4\nold 5\n";
    let repo = f.repo("svc", &[("a.txt", long)]);
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/e.md"), "a.txt\n```\nkeep\n```\n").expect("edits");
    let run = |name: &str, extra: &str| {
        let p = f.pipeline(&format!(
            "version: 1\nname: {name}\ntasks:\n  - name: trim\n    edits: e.md\n    format: whole\n{extra}"
        ));
        f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"])
    };

    let out = run("refused", "");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_eq!(f.tip(&repo, "codefleet/refused"), None, "nothing committed");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(
        report.to_string().contains("allow_shrink: true"),
        "the refusal names the knob: {report:#}"
    );

    let out = run("allowed", "    allow_shrink: true\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(f.show(&repo, "codefleet/allowed:a.txt"), "keep\n");
    assert_eq!(
        f.show(&repo, "HEAD:a.txt"),
        long,
        "the checkout's branch is untouched"
    );
}

const MODES_PATCH: &str = "diff --git a/new.sh b/new.sh\nnew file mode 100755\n--- /dev/null\n+++ b/new.sh\n@@ -0,0 +1 @@\n+echo new\ndiff --git a/plain.txt b/plain.txt\nold mode 100644\nnew mode 100755\ndiff --git a/tool.sh b/tool.sh\nold mode 100755\nnew mode 100644\n--- a/tool.sh\n+++ b/tool.sh\n@@ -1 +1 @@\n-echo old\n+echo older\ndiff --git a/keep.sh b/moved.sh\nsimilarity index 100%\nrename from keep.sh\nrename to moved.sh\n";

/// A repository holding the files [`MODES_PATCH`] changes, `tool.sh` and `keep.sh` executable.
fn mode_repo(f: &Fixture, name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let repo = f.repo(
        name,
        &[
            ("plain.txt", "a\n"),
            ("tool.sh", "echo old\n"),
            ("keep.sh", "echo keep\n"),
        ],
    );
    for exe in ["tool.sh", "keep.sh"] {
        std::fs::set_permissions(repo.join(exe), std::fs::Permissions::from_mode(0o755))
            .expect("chmod");
    }
    f.git(&repo, &["add", "-A"]);
    f.git(&repo, &["commit", "-q", "-m", "modes"]);
    repo
}

#[test]
fn a_patch_task_keeps_the_modes_it_sets_as_git_apply_does() {
    let f = Fixture::dated();
    let repo = mode_repo(&f, "svc");
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/modes.diff"), MODES_PATCH).expect("patch");
    let p = f.pipeline(
        "version: 1\nname: modes\npolicy: { allow_delete: true }\ntasks:\n  - name: p\n    patch: modes.diff\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tree = f.git(&repo, &["ls-tree", "-r", "codefleet/modes"]);
    let modes: Vec<(String, String)> = tree
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').expect("tab");
            (path.to_string(), meta[..6].to_string())
        })
        .collect();
    let want = [
        ("moved.sh", "100755"),
        ("new.sh", "100755"),
        ("plain.txt", "100755"),
        ("tool.sh", "100644"),
    ];
    let want: Vec<(String, String)> = want
        .iter()
        .map(|(p, m)| (p.to_string(), m.to_string()))
        .collect();
    assert_eq!(modes, want, "{tree}");
    assert_eq!(f.show(&repo, "codefleet/modes:tool.sh"), "echo older\n");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let files: Vec<&str> = report["repos"][0]["tasks"][0]["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|f| f["path"].as_str().expect("path"))
        .collect();
    assert!(
        files.contains(&"plain.txt"),
        "the mode-only change is reported: {files:?}"
    );

    // The witness: `git apply --index` of the same patch on a clone builds the same tree.
    let clone = f.path("clone");
    f.git(
        f.dir.path(),
        &["clone", "-q", repo.to_str().expect("utf8"), "clone"],
    );
    f.git(
        &clone,
        &[
            "apply",
            "--index",
            f.path("pipelines/modes.diff").to_str().expect("utf8"),
        ],
    );
    assert_eq!(
        f.git_line(&clone, &["write-tree"]),
        f.git_line(&repo, &["rev-parse", "codefleet/modes^{tree}"]),
        "the same tree as git apply"
    );
    assert_eq!(
        f.git(&repo, &["status", "--porcelain"]),
        "",
        "the checkout is untouched"
    );
}

#[test]
fn a_patch_that_makes_a_symlink_fails_loudly_instead_of_writing_a_plain_file() {
    let f = Fixture::dated();
    let repo = mode_repo(&f, "svc");
    let patch = "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n";
    std::fs::create_dir_all(f.path("pipelines")).expect("mkdir");
    std::fs::write(f.path("pipelines/link.diff"), patch).expect("patch");
    // Not even `atomic: none` writes the link as a plain file.
    for atomic in ["", "    atomic: none\n"] {
        let p = f.pipeline(&format!(
            "version: 1\nname: link\ntasks:\n  - name: p\n    patch: link.diff\n{atomic}"
        ));
        let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        assert_eq!(f.tip(&repo, "codefleet/link"), None, "{atomic}");
        assert!(
            text(&out.stdout).contains("mode 120000"),
            "{}",
            text(&out.stdout)
        );
    }
}

/// With `--log-format json`, everything on stderr during a run is a JSON line, progress too.
#[test]
fn json_log_format_makes_progress_json_lines() {
    let f = Fixture::new();
    let repo = service(&f, "svc");
    let p = f.pipeline(TWO_TASKS);
    let out = f.run(
        &repo,
        &["run", p.to_str().unwrap(), "-v", "--log-format", "json"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let lines: Vec<&str> = err.lines().collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("task `rename macro` started")),
        "{err}"
    );
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    // Text logs keep their `codefleet:` lines.
    let out = f.run(&repo, &["run", p.to_str().unwrap(), "-v"]);
    assert!(
        text(&out.stderr).contains("codefleet: .: task `rename macro` started"),
        "{}",
        text(&out.stderr)
    );
}

/// `--repo` takes what `repos:` takes: globs of checkouts and list files, besides paths.
#[test]
fn repo_flag_takes_globs_and_list_files() {
    let f = Fixture::new();
    let a = service(&f, "fleet/a");
    let b = service(&f, "fleet/b");
    let c = service(&f, "c");
    std::fs::create_dir_all(f.path("fleet/notes")).unwrap();
    std::fs::write(f.path("more.txt"), "# listed\nc\n").unwrap();
    let p = f.pipeline(TWO_TASKS);
    let out = f.run(
        f.dir.path(),
        &[
            "run",
            p.to_str().unwrap(),
            "--repo",
            "fleet/*",
            "--repo",
            "more.txt",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let paths: Vec<&str> = report["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["a", "b", "c"]);
    for r in [&a, &b, &c] {
        assert!(f.tip(r, "codefleet/migrate").is_some(), "{}", r.display());
    }
    // A glob whose directory does not exist is not a glob of checkouts.
    let out = f.run(
        f.dir.path(),
        &["run", p.to_str().unwrap(), "--repo", "./nothing/*"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("`--repo ./nothing/*` matches no repository"),
        "{}",
        text(&out.stderr)
    );
    // Without `./` and without a `nothing` directory, it names a GitHub owner: the API is
    // asked (here an address where nothing listens), and the hint says how it was read.
    let mut cmd = f.binary(
        f.dir.path(),
        &["run", p.to_str().unwrap(), "--repo", "nothing/*"],
    );
    cmd.env("CODEFLEET_GITHUB_API_URL", "http://127.0.0.1:9");
    let out = cmd.output().unwrap();
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot reach the GitHub API")
            && err.contains("`nothing/*` names no local path, so it was read as a GitHub name"),
        "{err}"
    );
}

/// `plan` lists `url:` repositories with their branch and tasks, without cloning them.
#[test]
fn plan_lists_url_repos_without_cloning() {
    let f = Fixture::new();
    let p = f.pipeline(&TWO_TASKS.replace(
        "tasks:\n",
        "repos:\n  - url: https://example.invalid/acme/billing.git\n    ref: main\ntasks:\n",
    ));
    let out = f.run(f.dir.path(), &["plan", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("https://example.invalid/acme/billing.git  branch codefleet/migrate\n"),
        "{shown}"
    );
    assert!(shown.contains("not cloned by `plan`"), "{shown}");
    assert!(
        shown.contains("task `rename macro` (replace)\n  task `rename crate` (replace)\n"),
        "{shown}"
    );
    let out = f.run(f.dir.path(), &["plan", p.to_str().unwrap(), "--json"]);
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(plan["repos"][0]["tasks"].as_array().map(Vec::len), Some(2));
    assert!(plan["repos"][0]["error"].is_null());
    assert!(
        !f.path("cache/codefleet").exists(),
        "nothing was cloned or cached"
    );
}

/// `show` lists the tasks a run did not run (here after a failing check with `on_fail: stop`)
/// with the reason; `runs` marks only interrupted runs as such.
#[test]
fn show_lists_the_tasks_a_run_did_not_run() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "one\n"), ("b.txt", "two\n")]);
    let p = f.pipeline(
        "version: 1\nname: s\ntasks:\n  - name: first\n    files: [a.txt]\n    replace: { find: one, with: uno }\n  - name: gate\n    check: \"false\"\n    on_fail: stop\n  - name: last\n    files: [b.txt]\n    replace: { find: two, with: dos }\n",
    );
    let out = f.run(&repo, &["run", p.to_str().unwrap(), "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let id = report["run_id"].as_str().expect("id").to_string();
    assert_eq!(
        f.show(&repo, "codefleet/s:b.txt"),
        "two\n",
        "`last` did not run"
    );
    assert!(
        report["warnings"].is_null(),
        "a task that did not run matched nothing: {report}"
    );
    let shown = text(&f.run(&repo, &["show", &id]).stdout);
    assert!(shown.contains("\n3. last  not run: "), "{shown}");
    assert!(!shown.contains("interrupted"), "{shown}");
    let listed = text(&f.run(&repo, &["runs"]).stdout);
    assert!(!listed.contains("(interrupted)"), "{listed}");
    assert!(listed.starts_with(&id), "{listed}");
}

const GREET: &str = "version: 1\nname: greet\nbranch: codefleet/shared\ntasks:\n  - name: shout\n    \
                     replace: { find: hello, with: HELLO }\n";

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}{}", text(&out.stdout), text(&out.stderr)))
}

#[test]
fn a_rerun_whose_change_landed_upstream_reports_the_reset_and_rollback_restores_the_branch() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(GREET);
    let p = p.to_str().expect("utf8");
    assert_eq!(f.run(&repo, &["run", p]).status.code(), Some(0));
    let first = f.tip(&repo, "codefleet/shared").expect("branch");
    // The same change lands upstream by other means.
    f.commit_files(&repo, &[("a.txt", "HELLO world\n")], "shout by hand");
    let main = f.git_line(&repo, &["rev-parse", "main"]);

    let out = f.run(&repo, &["run", p, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json_of(&out);
    let r = &report["repos"][0];
    assert_eq!(r["status"], "reset", "{r}");
    assert_eq!(r["previous_tip"], first.as_str());
    assert_eq!(r["tip"], main.as_str());
    assert_eq!(
        f.tip(&repo, "codefleet/shared").as_deref(),
        Some(main.as_str())
    );
    let summary = f.run(&repo, &["run", p]);
    assert!(
        text(&summary.stdout).contains("unchanged"),
        "a third run changes nothing"
    );

    // The move is journaled: `runs` says what it did, and rolling that run back puts the
    // branch where it was.
    let run_id = report["run_id"].as_str().expect("run id");
    let runs = text(&f.run(&repo, &["runs"]).stdout);
    let line = runs
        .lines()
        .find(|l| l.starts_with(run_id))
        .expect("listed");
    assert!(
        line.ends_with("(moved the branch back to the base)"),
        "{runs}"
    );
    let out = f.run(&repo, &["rollback", run_id]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        f.tip(&repo, "codefleet/shared").as_deref(),
        Some(first.as_str())
    );
}

#[test]
fn a_second_pipeline_on_the_same_branch_is_refused_unless_forced() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(GREET);
    let p = p.to_str().expect("utf8");
    assert_eq!(f.run(&repo, &["run", p]).status.code(), Some(0));
    let first = f.tip(&repo, "codefleet/shared").expect("branch");
    let other = f.path("pipelines/other.yml");
    std::fs::write(
        &other,
        "version: 1\nname: other\nbranch: codefleet/shared\ntasks:\n  - name: whisper\n    \
         replace: { find: world, with: there }\n",
    )
    .expect("write");
    let other = other.to_str().expect("utf8");

    let out = f.run(&repo, &["run", other]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("holds commits of pipeline `greet`"),
        "{stdout}"
    );
    assert!(stdout.contains("--force"), "{stdout}");
    assert_eq!(
        f.tip(&repo, "codefleet/shared").as_deref(),
        Some(first.as_str())
    );

    let out = f.run(&repo, &["run", other, "--force", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let replaced = f.tip(&repo, "codefleet/shared").expect("branch");
    assert_ne!(replaced, first);
    let run_id = json_of(&out)["run_id"].as_str().expect("id").to_string();
    assert_eq!(f.run(&repo, &["rollback", &run_id]).status.code(), Some(0));
    assert_eq!(
        f.tip(&repo, "codefleet/shared").as_deref(),
        Some(first.as_str())
    );
}

#[test]
fn runs_lists_runs_started_in_the_same_second_newest_first() {
    let f = Fixture::dated();
    let repo = f.repo("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(GREET);
    let p = p.to_str().expect("utf8");
    let mut ids = Vec::new();
    for i in 0..4 {
        // Each run changes the base, so each one moves the branch and is journaled.
        f.commit_files(&repo, &[(&format!("f{i}.txt"), "hello\n")], "more");
        let out = f.run(&repo, &["run", p, "--json"]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        ids.push(json_of(&out)["run_id"].as_str().expect("id").to_string());
    }
    let out = f.run(&repo, &["runs"]);
    let listed: Vec<String> = text(&out.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or_default().to_string())
        .collect();
    ids.reverse();
    assert_eq!(listed, ids);
    // `runs | head -1` names the run a rollback can take back.
    let out = f.run(&repo, &["rollback", &listed[0]]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

/// Ctrl-C while a shell step runs: the task before it stays committed, and `runs` marks the run
/// interrupted while `show` names the interrupted task and the one never reached.
#[test]
fn runs_and_show_mark_an_interrupted_run() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "old\n")]);
    let p = f.pipeline(
        "version: 1\nname: i\ntasks:\n  - name: first\n    files: [a.txt]\n    replace: { find: old, with: new }\n  - name: slow\n    run: echo ready; sleep 60\n  - name: last\n    run: echo never > never.txt\n",
    );
    let mut child = f
        .command(&repo, &["run", p.to_str().unwrap(), "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    for line in lines.by_ref() {
        if line.expect("utf8").contains("`slow` | ready") {
            break;
        }
    }
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
    let _rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", text(&out.stdout));
    assert_eq!(f.show(&repo, "codefleet/i:a.txt"), "new\n");

    let listed = text(&f.run(&repo, &["runs"]).stdout);
    assert!(listed.trim_end().ends_with("(interrupted)"), "{listed}");
    let id = listed
        .split_whitespace()
        .next()
        .expect("a run id")
        .to_string();
    let shown = text(&f.run(&repo, &["show", &id]).stdout);
    assert!(shown.contains("not run: interrupted"), "{shown}");
    assert!(shown.contains(". last  not run: interrupted\n"), "{shown}");
    assert!(shown.contains("\ninterrupted: "), "{shown}");
}

/// A task that changes more files than are kept loose stores the rest in one pack: the run
/// branch's tree is the one `git add -A` + `git write-tree` make of the same edit (a CRLF file
/// under `text` attributes included, which still goes through the clean filter), `git fsck`
/// finds every object whole, and the objects are packed, not loose.
#[test]
fn a_task_changing_hundreds_of_files_packs_their_blobs_and_git_reads_them() {
    let f = Fixture::new();
    let mut files: Vec<(String, Vec<u8>)> = (0..240)
        .map(|i| {
            (
                format!("src/f{i:03}.rs"),
                format!("fn foo{i}() {{ foo(); }}\n").into_bytes(),
            )
        })
        .collect();
    files.push(("notes.txt".into(), b"foo\r\nline\r\n".to_vec()));
    files.push((".gitattributes".into(), b"*.txt text\n".to_vec()));
    let named: Vec<(&str, &[u8])> = files.iter().map(|(p, b)| (p.as_str(), &b[..])).collect();
    let repo = f.repo_bytes("many", &named);
    let count = |key: &str| -> u64 {
        let out = f.git(&repo, &["count-objects", "-v"]);
        out.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .and_then(|v| v.trim().parse().ok())
            .expect("count-objects line")
    };
    let (loose_before, packed_before) = (count("count"), count("in-pack"));
    let pipeline = f.pipeline(
        "version: 1\nname: many\ntasks:\n  - name: rename\n    replace: { find: 'foo', with: 'bar' }\n",
    );
    let out = f.run(&repo, &["run", pipeline.to_str().unwrap(), "--repo", "."]);
    assert!(out.status.success(), "{}", fixture::said(&out));
    let tip = f.tip(&repo, "codefleet/many").expect("run branch");
    // The witness: the same edit made in the working tree and written by git.
    for (path, bytes) in &files {
        let new = String::from_utf8_lossy(bytes).replace("foo", "bar");
        fixture::write_file(&repo, path, new.as_bytes());
    }
    f.git(&repo, &["add", "-A"]);
    let expected = f.git(&repo, &["write-tree"]);
    let got = f.git(&repo, &["rev-parse", &format!("{tip}^{{tree}}")]);
    assert_eq!(got.trim(), expected.trim());
    f.git(&repo, &["fsck", "--strict", "--no-dangling"]);
    // 241 new blobs: 100 loose, the rest in the pack; a tree or two and the commit loose.
    assert!(
        count("in-pack") >= packed_before + 140,
        "{}",
        f.git(&repo, &["count-objects", "-v"])
    );
    assert!(count("count") <= loose_before + 110);
    let pack_dir = repo.join(".git/objects/pack");
    let names: Vec<String> = std::fs::read_dir(&pack_dir)
        .expect("pack dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.starts_with("tmp_")), "{names:?}");
    assert_eq!(
        names.iter().filter(|n| n.ends_with(".idx")).count(),
        1,
        "{names:?}"
    );
}
