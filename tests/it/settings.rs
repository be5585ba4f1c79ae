//! Settings layering, `codefleet config` and logging, driven through the real binary with a
//! controlled environment: HOME and XDG_CONFIG_HOME point at temp dirs, nothing else leaks in.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tempfile::TempDir;

/// A home directory and a repository (with a `.git` directory) in one temp dir.
struct Env {
    _tmp: TempDir,
    home: PathBuf,
    repo: PathBuf,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new() -> Env {
        let tmp = TempDir::new().unwrap();
        let home = tmp.path().join("home");
        let repo = tmp.path().join("repo");
        std::fs::create_dir_all(&home).unwrap();
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src/deep")).unwrap();
        Env {
            _tmp: tmp,
            home,
            repo,
            vars: Vec::new(),
        }
    }

    fn user_config_path(&self) -> PathBuf {
        self.home.join(".config/codefleet/config.yml")
    }

    fn user_config(&self, text: &str) -> PathBuf {
        write(&self.user_config_path(), text)
    }

    fn repo_config(&self, text: &str) -> PathBuf {
        write(&self.repo.join(".codefleet.yml"), text)
    }

    fn var(mut self, key: &str, value: &str) -> Env {
        self.vars.push((key.to_string(), value.to_string()));
        self
    }

    /// Runs codefleet in `dir` (relative to the repo) with only HOME, PATH and the chosen vars.
    fn run_in(&self, dir: &str, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        cmd.env_clear()
            .env("HOME", &self.home)
            .current_dir(self.repo.join(dir))
            .args(args);
        if let Some(path) = std::env::var_os("PATH") {
            cmd.env("PATH", path);
        }
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_in(".", args)
    }

    /// `codefleet config` and the line for `key`, checking it succeeded.
    fn setting(&self, args: &[&str], key: &str) -> String {
        let mut all = vec!["config"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert_eq!(out.status.code(), Some(0), "stderr: {}", stderr(&out));
        line_for(&stdout(&out), key)
    }
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The `key = value  # source` line of `codefleet config`, with the padding squeezed.
fn line_for(text: &str, key: &str) -> String {
    let line = text
        .lines()
        .find(|l| l.starts_with(&format!("{key} = ")))
        .unwrap_or_else(|| panic!("no `{key}` in:\n{text}"));
    let (setting, source) = line.split_once("  # ").unwrap();
    format!("{} # {}", setting.trim_end(), source)
}

#[test]
fn defaults_name_their_source_and_the_missing_files() {
    let env = Env::new();
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains(&format!(
            "# user config: {} (not found)",
            env.user_config_path().display()
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "# repo config: {} (not found)",
        env.repo.join(".codefleet.yml").display()
    )));
    assert_eq!(line_for(&text, "color"), "color = auto # default");
    assert_eq!(
        line_for(&text, "model.name"),
        "model.name = (unset) # default"
    );
    assert_eq!(
        line_for(&text, "model.edit_format"),
        "model.edit_format = auto # default"
    );
    assert_eq!(
        line_for(&text, "cache.dir"),
        format!(
            "cache.dir = {} # default",
            env.home.join(".cache/codefleet").display()
        )
    );
    assert_eq!(
        line_for(&text, "github.token_env"),
        "github.token_env = GITHUB_TOKEN # default"
    );
}

#[test]
fn each_layer_overrides_the_one_before() {
    let env = Env::new();
    let user = env.user_config(
        "jobs: 2\ncolor: never\nlog_format: json\nauthor: User <u@x>\nmodel:\n  name: user-model\n",
    );
    let repo = env.repo_config(
        "jobs: 3\ncolor: always\nlog_format: text\nprofiles:\n  ci:\n    jobs: 4\n    color: never\n",
    );
    let env = env.var("CODEFLEET_JOBS", "5");

    // jobs: set everywhere; each step up the ladder wins.
    assert_eq!(
        env.setting(&["--profile", "ci", "--jobs", "6"], "jobs"),
        "jobs = 6 # flag --jobs"
    );
    assert_eq!(
        env.setting(&["--profile", "ci"], "jobs"),
        "jobs = 5 # env CODEFLEET_JOBS"
    );
    let env = Env {
        vars: vec![],
        ..env
    };
    assert_eq!(
        env.setting(&["--profile", "ci"], "jobs"),
        format!("jobs = 4 # profile ci in {}", repo.display())
    );
    assert_eq!(
        env.setting(&[], "jobs"),
        format!("jobs = 3 # repo config {}", repo.display())
    );
    // Keys only the user file sets come from it; repo settings win over the user's.
    assert_eq!(
        env.setting(&[], "model.name"),
        format!("model.name = user-model # user config {}", user.display())
    );
    assert_eq!(
        env.setting(&[], "author"),
        format!("author = User <u@x> # user config {}", user.display())
    );
    assert_eq!(
        env.setting(&[], "log_format"),
        format!("log_format = text # repo config {}", repo.display())
    );
    std::fs::remove_file(&repo).unwrap();
    assert_eq!(
        env.setting(&[], "jobs"),
        format!("jobs = 2 # user config {}", user.display())
    );
}

#[test]
fn repo_config_is_found_from_a_subdirectory() {
    let env = Env::new();
    let repo = env.repo_config("model:\n  concurrency: 3\n");
    let out = env.run_in("src/deep", &["config"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        line_for(&stdout(&out), "model.concurrency"),
        format!("model.concurrency = 3 # repo config {}", repo.display())
    );
}

#[test]
fn relative_cache_dir_in_a_file_is_relative_to_that_file() {
    let env = Env::new();
    let repo = env.repo_config("cache:\n  dir: .cache/cf\n  mode: read-only\n");
    let out = env.run_in("src", &["config"]);
    let text = stdout(&out);
    assert_eq!(
        line_for(&text, "cache.dir"),
        format!(
            "cache.dir = {} # repo config {}",
            env.repo.join(".cache/cf").display(),
            repo.display()
        )
    );
    assert_eq!(
        line_for(&text, "cache.mode"),
        format!("cache.mode = read-only # repo config {}", repo.display())
    );
}

#[test]
fn xdg_config_home_wins_over_home() {
    let env = Env::new();
    env.user_config("jobs: 2\n");
    let xdg = env.home.join("xdg");
    let file = write(&xdg.join("codefleet/config.yml"), "jobs: 7\n");
    let env = env.var("XDG_CONFIG_HOME", xdg.to_str().unwrap());
    assert_eq!(
        env.setting(&[], "jobs"),
        format!("jobs = 7 # user config {}", file.display())
    );
}

#[test]
fn config_flag_and_env_replace_the_user_file() {
    let env = Env::new();
    env.user_config("jobs: 2\n");
    let other = write(&env.home.join("other.yml"), "jobs: 9\n");
    let other = other.to_str().unwrap();
    assert_eq!(
        env.setting(&["--config", other], "jobs"),
        format!("jobs = 9 # user config {other}")
    );
    let env = env.var("CODEFLEET_CONFIG", other);
    assert_eq!(
        env.setting(&[], "jobs"),
        format!("jobs = 9 # user config {other}")
    );
    // A named file must exist.
    let out = env.run(&["config", "--config", "nope.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("error[E050]: config file `nope.yml` does not exist"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn env_vars_set_their_keys() {
    let env = Env::new()
        .var("CODEFLEET_MODEL", "llama3")
        .var("CODEFLEET_MODEL_PROVIDER", "ollama")
        .var("CODEFLEET_MODEL_BASE_URL", "http://127.0.0.1:11434")
        .var("CODEFLEET_EDIT_FORMAT", "whole")
        .var("CODEFLEET_CACHE", "off")
        .var("CODEFLEET_VERBOSITY", "debug")
        .var("CODEFLEET_GITHUB_TOKEN_ENV", "GH_ENTERPRISE_TOKEN");
    let out = env.run(&["config"]);
    let text = stdout(&out);
    for (key, expected) in [
        ("model.name", "model.name = llama3 # env CODEFLEET_MODEL"),
        (
            "model.provider",
            "model.provider = ollama # env CODEFLEET_MODEL_PROVIDER",
        ),
        (
            "model.base_url",
            "model.base_url = http://127.0.0.1:11434 # env CODEFLEET_MODEL_BASE_URL",
        ),
        (
            "model.edit_format",
            "model.edit_format = whole # env CODEFLEET_EDIT_FORMAT",
        ),
        ("cache.mode", "cache.mode = off # env CODEFLEET_CACHE"),
        ("verbosity", "verbosity = debug # env CODEFLEET_VERBOSITY"),
        (
            "github.token_env",
            "github.token_env = GH_ENTERPRISE_TOKEN # env CODEFLEET_GITHUB_TOKEN_ENV",
        ),
    ] {
        assert_eq!(line_for(&text, key), expected);
    }
    // Flags beat the environment.
    assert_eq!(
        env.setting(&["-q"], "verbosity"),
        "verbosity = quiet # flag -q"
    );
}

#[test]
fn bad_env_value_is_a_usage_error() {
    let env = Env::new().var("CODEFLEET_COLOR", "alwyas");
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error[E054]: CODEFLEET_COLOR=alwyas: unknown value\n  = help: did you mean `always`?\n"
    );
    let env = Env::new().var("CODEFLEET_JOBS", "0");
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("CODEFLEET_JOBS=0: expected a whole number of at least 1"));
}

#[test]
fn unknown_key_has_place_and_did_you_mean() {
    let env = Env::new();
    env.repo_config("jobs: 2\nmodel:\n  nmae: x\n");
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    let path = env.repo.join(".codefleet.yml");
    assert_eq!(
        stderr(&out),
        format!(
            "error[E051]: unknown key `nmae`\n --> {}:3:3\n  |\n3 |   nmae: x\n  |   ^^^^\n  = help: did you mean `name`?\n",
            path.display()
        )
    );
}

#[test]
fn bad_values_have_places() {
    let env = Env::new();
    let user = env.user_config("color: nevr\n");
    let out = env.run(&["config"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.starts_with("error[E052]: unknown value `nevr`\n"),
        "{err}"
    );
    assert!(
        err.contains(&format!("--> {}:1:8", user.display())),
        "{err}"
    );
    assert!(err.contains("did you mean `never`?"), "{err}");

    env.user_config("jobs: 0\n");
    let err = stderr(&env.run(&["config"]));
    assert!(err.contains("`jobs` must be at least 1"), "{err}");
    assert!(err.contains(":1:7"), "{err}");

    env.user_config("model:\n  edit_format: udif\n");
    let err = stderr(&env.run(&["config"]));
    assert!(err.contains("unknown edit format `udif`"), "{err}");
    assert!(err.contains(":2:16"), "{err}");
    assert!(err.contains("did you mean `udiff`?"), "{err}");

    env.user_config("github:\n  token_env: ghp_abc-123\n");
    let err = stderr(&env.run(&["config"]));
    assert!(err.contains("is not an environment variable name"), "{err}");
}

#[test]
fn unknown_profile_lists_the_known_ones() {
    let env = Env::new();
    env.user_config("profiles:\n  ci: { jobs: 1 }\n  local: { jobs: 8 }\n");
    env.repo_config("profiles:\n  release: { jobs: 2 }\n");
    let out = env.run(&["config", "--profile", "cii"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        stderr(&out),
        "error[E053]: unknown profile `cii`\n  = help: did you mean `ci`? known profiles: `ci`, `local`, `release`\n"
    );
    // CODEFLEET_PROFILE selects one too.
    let env = env.var("CODEFLEET_PROFILE", "local");
    assert!(
        env.setting(&[], "jobs")
            .starts_with("jobs = 8 # profile local in ")
    );
}

#[test]
fn json_output_has_values_and_sources() {
    let env = Env::new().var("CODEFLEET_JOBS", "3");
    let repo = env.repo_config("model:\n  name: m\n");
    let out = env.run(&["config", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["settings"]["jobs"]["value"], 3);
    assert_eq!(doc["settings"]["jobs"]["source"], "env CODEFLEET_JOBS");
    assert_eq!(doc["settings"]["jobs"]["kind"], "env");
    assert_eq!(doc["settings"]["model.name"]["value"], "m");
    assert_eq!(doc["settings"]["model.name"]["kind"], "repo");
    assert_eq!(
        doc["settings"]["model.base_url"]["value"],
        serde_json::Value::Null
    );
    assert_eq!(doc["repo_config"]["path"], repo.display().to_string());
    assert_eq!(doc["repo_config"]["exists"], true);
    assert_eq!(doc["user_config"]["exists"], false);
    assert_eq!(doc["profile"], serde_json::Value::Null);
}

#[test]
fn log_format_json_writes_json_lines_on_stderr() {
    let env = Env::new();
    let out = env.run(&["-vv", "--log-format", "json", "config"]);
    assert_eq!(out.status.code(), Some(0));
    let err = stderr(&out);
    let lines: Vec<&str> = err.lines().collect();
    assert!(!lines.is_empty(), "no log lines at -vv");
    for line in lines {
        let v: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    assert!(err.contains("\"settings resolved\""), "{err}");

    // The same from a config file.
    env.user_config("log_format: json\nverbosity: debug\n");
    let out = env.run(&["config"]);
    assert!(stderr(&out).starts_with('{'), "{}", stderr(&out));
    // Quiet: nothing at all.
    let out = env.run(&["-q", "config"]);
    assert_eq!(stderr(&out), "");
}

#[test]
fn rust_log_wins_over_verbosity() {
    let env = Env::new().var("RUST_LOG", "codefleet=debug");
    let out = env.run(&["config"]);
    assert!(
        stderr(&out).contains("settings resolved"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn color_choice_controls_ansi_in_diagnostics() {
    let env = Env::new();
    env.user_config("jobz: 1\n");
    let coloured = stderr(&env.run(&["--color", "always", "config"]));
    assert!(coloured.contains("\x1b["), "{coloured:?}");
    let plain = stderr(&env.run(&["--color", "never", "config"]));
    assert!(!plain.contains('\x1b'), "{plain:?}");
    assert!(plain.starts_with("error[E051]: unknown key `jobz`"));
    // Under auto (the default) with NO_COLOR set, and off a terminal: no ANSI.
    let env = env.var("NO_COLOR", "1");
    let plain = stderr(&env.run(&["config"]));
    assert!(!plain.contains('\x1b'), "{plain:?}");
}

#[test]
fn plain_text_logs_have_no_ansi_when_colour_is_off() {
    let env = Env::new().var("NO_COLOR", "1");
    let out = env.run(&["-vv", "config"]);
    let err = stderr(&out);
    assert!(err.contains("DEBUG"), "{err}");
    assert!(!err.contains('\x1b'), "{err:?}");
    let out = env.run(&["-vv", "--color", "always", "config"]);
    assert!(stderr(&out).contains('\x1b'), "{}", stderr(&out));
}

#[test]
fn a_profile_in_both_files_merges_with_the_repo_winning() {
    let env = Env::new();
    let user = env.user_config("profiles:\n  ci:\n    jobs: 2\n    color: never\n");
    let repo = env.repo_config("profiles:\n  ci:\n    jobs: 3\n");
    assert_eq!(
        env.setting(&["--profile", "ci"], "jobs"),
        format!("jobs = 3 # profile ci in {}", repo.display())
    );
    assert_eq!(
        env.setting(&["--profile", "ci"], "color"),
        format!("color = never # profile ci in {}", user.display())
    );
    // Without --profile, profiles are not applied.
    assert_eq!(
        env.setting(&[], "jobs").split(" # ").nth(1),
        Some("default")
    );
}
