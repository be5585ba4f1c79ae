//! Every pipeline in `pipelines/` run end to end: real git repositories built in temp dirs from
//! `examples/sample-repo`, the real binary, the results read back with the `git` CLI. The
//! deterministic pipelines are checked byte for byte over the whole tree of the run branch; the
//! model-driven ones run against the scripted model server (`CODEFLEET_MODEL_BASE_URL`).

use crate::support::model_server;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use model_server::{ModelServer, Recorded, Step};

use crate::support::fixture;

fixture::topic_fixture!();

/// The pipelines this file runs; a pipeline added to `pipelines/` without a test here fails
/// `every_pipeline_has_a_test`.
const TESTED: &[&str] = &[
    "add-docstrings.yml",
    "bump-dependency.yml",
    "license-header.yml",
    "migrate-logging.yml",
    "migrate-utcnow.yml",
    "rename-api.yml",
    "survey.yml",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn pipeline(name: &str) -> String {
    root().join("pipelines").join(name).display().to_string()
}

impl Fixture {
    /// A git repository named `name` holding `files`, committed on `main`.
    fn repo_of(&self, name: &str, files: &BTreeMap<String, String>) -> PathBuf {
        let pairs: Vec<(&str, &str)> = files
            .iter()
            .map(|(p, t)| (p.as_str(), t.as_str()))
            .collect();
        self.repo(name, &pairs)
    }

    /// A git repository holding a copy of `examples/sample-repo`.
    fn sample(&self, name: &str) -> PathBuf {
        self.repo_of(name, &sample_files())
    }

    /// `codefleet --json run ARGS` in `cwd`: the exit code and the report.
    fn run(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (i32, serde_json::Value) {
        let mut all = vec!["--json", "run"];
        all.extend_from_slice(args);
        let out = self.cli(cwd, &all, env);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
    }

    /// Every file of `branch`, path → content.
    fn tree(&self, repo: &Path, branch: &str) -> BTreeMap<String, String> {
        self.git(repo, &["ls-tree", "-r", "--name-only", branch])
            .lines()
            .map(|path| {
                let text = self.git(repo, &["show", &format!("{branch}:{path}")]);
                (path.to_string(), text)
            })
            .collect()
    }

    fn branches(&self, repo: &Path) -> Vec<String> {
        self.git(
            repo,
            &["for-each-ref", "--format=%(refname:short)", "refs/heads"],
        )
        .lines()
        .map(str::to_string)
        .collect()
    }
}

/// The files of `examples/sample-repo`, path (`/`-separated) → content.
fn sample_files() -> BTreeMap<String, String> {
    fn walk(dir: &Path, base: &Path, out: &mut BTreeMap<String, String>) {
        for entry in std::fs::read_dir(dir).expect("read sample dir") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, base, out);
            } else {
                let rel = path.strip_prefix(base).expect("under base");
                let rel = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect::<Vec<_>>()
                    .join("/");
                out.insert(rel, std::fs::read_to_string(&path).expect("read sample"));
            }
        }
    }
    let base = root().join("examples/sample-repo");
    let mut out = BTreeMap::new();
    walk(&base, &base, &mut out);
    out
}

/// The sample's files with `changed` replacing some of them: what a run branch must hold.
fn expected(changed: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut files = sample_files();
    for (path, text) in changed {
        assert!(files.contains_key(*path), "{path} is not in the sample");
        files.insert(path.to_string(), text.to_string());
    }
    files
}

/// Asserts two trees are equal, naming the first file that differs.
fn assert_tree(actual: &BTreeMap<String, String>, expected: &BTreeMap<String, String>) {
    let paths: Vec<&String> = actual.keys().collect();
    let want: Vec<&String> = expected.keys().collect();
    assert_eq!(paths, want, "the branch holds other files");
    for (path, text) in expected {
        assert_eq!(&actual[path], text, "{path} differs");
    }
}

fn commits(f: &Fixture, repo: &Path, range: &str) -> Vec<String> {
    f.git(repo, &["log", "--format=%s", range])
        .lines()
        .map(str::to_string)
        .collect()
}

#[test]
fn every_pipeline_has_a_test_and_validates() {
    let mut found: Vec<String> = std::fs::read_dir(root().join("pipelines"))
        .expect("pipelines/")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".yml") || n.ends_with(".yaml"))
        .collect();
    found.sort();
    assert_eq!(found, TESTED, "pipelines/ and this test's list differ");
    let f = Fixture::new();
    let paths: Vec<String> = TESTED.iter().map(|p| pipeline(p)).collect();
    let mut args = vec!["validate"];
    args.extend(paths.iter().map(String::as_str));
    let out = f.cli(f.dir.path(), &args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for name in TESTED {
        let text = std::fs::read_to_string(root().join("pipelines").join(name)).expect("read");
        assert!(
            text.starts_with("# ") && text.contains(&format!("codefleet run pipelines/{name}")),
            "{name} must open with a comment saying what it does and how to run it"
        );
        assert!(
            !text.lines().any(|l| l.starts_with("repos:")),
            "{name} must run in the repository you stand in"
        );
    }
}

#[test]
fn rename_api_renames_every_use_in_the_repository_you_stand_in() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    let (code, report) = f.run(&repo, &[&pipeline("rename-api.yml")], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(report["repos"][0]["branch"], "codefleet/rename-api");
    assert_tree(
        &f.tree(&repo, "codefleet/rename-api"),
        &expected(&[
            (
                "src/client.rs",
                "use crate::User;\n\n/// Loads one user by id.\npub fn load_user(id: u64) -> Option<User> {\n    log::info!(\"fetching user {id}\");\n    if id == 0 {\n        log::warn!(\"user 0 does not exist\");\n        return None;\n    }\n    Some(User { id, name: format!(\"user-{id}\") })\n}\n\n/// Loads several users; `fetch_users` is a different function and stays as it is.\npub fn fetch_users(ids: &[u64]) -> Vec<User> {\n    ids.iter().filter_map(|id| load_user(*id)).collect()\n}\n",
            ),
            (
                "src/lib.rs",
                "//! Users of the sample service.\n\npub mod client;\n\npub use client::load_user;\n\n/// A user record.\n#[derive(Debug, serde::Deserialize)]\npub struct User {\n    pub id: u64,\n    pub name: String,\n}\n",
            ),
            (
                "tools/client.py",
                "import requests\n\n\ndef load_user(user_id):\n    return requests.get(f\"https://example.com/users/{user_id}\").json()\n",
            ),
            (
                "tools/report.py",
                "#!/usr/bin/env python3\n\"\"\"Prints a report of users.\"\"\"\n\nfrom client import load_user\n\n\ndef main():\n    for user_id in (1, 2, 3):\n        print(load_user(user_id))\n\n\nif __name__ == \"__main__\":\n    main()\n",
            ),
            (
                "web/api.js",
                "// SPDX-License-Identifier: MIT\nexport async function load_user(id) {\n  const res = await fetch(`/api/users/${id}`);\n  return res.json();\n}\n",
            ),
            (
                "web/app.js",
                "import { load_user } from \"./api.js\";\n\nexport async function showUser(id) {\n  const user = await load_user(id);\n  document.title = user.name;\n}\n",
            ),
        ]),
    );
    assert_eq!(
        commits(&f, &repo, "main..codefleet/rename-api"),
        ["Rename fetch_user to load_user"]
    );
    // The checkout is left as it was.
    assert_eq!(f.git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(
        f.git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"]),
        "main\n"
    );

    // The variables rename something else; `--repo` runs it on another checkout from here.
    let other = f.repo_of(
        "other",
        &BTreeMap::from([("a.py".to_string(), "get_user(1)\nget_users()\n".to_string())]),
    );
    let (code, report) = f.run(
        f.dir.path(),
        &[
            &pipeline("rename-api.yml"),
            "--repo",
            other.to_str().unwrap(),
            "--var",
            "old=get_user",
            "--var",
            "new=find_user",
        ],
        &[],
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        f.tree(&other, "codefleet/rename-api")["a.py"],
        "find_user(1)\nget_users()\n"
    );
}

const HEADER_PY_CLIENT: &str = "# SPDX-License-Identifier: {L}\nimport requests\n\n\ndef fetch_user(user_id):\n    return requests.get(f\"https://example.com/users/{user_id}\").json()\n";

/// The sample after `license-header` with license `l`.
fn licensed(l: &str) -> BTreeMap<String, String> {
    let sample = sample_files();
    let prefixed = |path: &str, comment: &str| {
        let body = sample[path].replace("// SPDX-License-Identifier: MIT\n", "");
        format!("{comment} SPDX-License-Identifier: {l}\n{body}")
    };
    let files = [
        ("src/client.rs", prefixed("src/client.rs", "//")),
        ("src/lib.rs", prefixed("src/lib.rs", "//")),
        ("web/api.js", prefixed("web/api.js", "//")),
        ("web/app.js", prefixed("web/app.js", "//")),
        ("tools/client.py", HEADER_PY_CLIENT.replace("{L}", l)),
        ("tools/stamp.py", prefixed("tools/stamp.py", "#")),
        (
            "tools/report.py",
            sample["tools/report.py"].replacen(
                "#!/usr/bin/env python3\n",
                &format!("#!/usr/bin/env python3\n# SPDX-License-Identifier: {l}\n"),
                1,
            ),
        ),
    ];
    let mut out = sample.clone();
    for (path, text) in files {
        out.insert(path.to_string(), text);
    }
    out
}

#[test]
fn license_header_adds_keeps_and_switches_the_header() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    let (code, report) = f.run(&repo, &[&pipeline("license-header.yml")], &[]);
    assert_eq!(code, 0, "{report}");
    let branch = "codefleet/license-header";
    let tree = f.tree(&repo, branch);
    assert_tree(&tree, &licensed("MIT"));
    // The literal bytes of two files, so the helper above cannot hide a mistake.
    assert_eq!(
        tree["tools/client.py"],
        HEADER_PY_CLIENT.replace("{L}", "MIT")
    );
    assert!(tree["tools/report.py"].starts_with(
        "#!/usr/bin/env python3\n# SPDX-License-Identifier: MIT\n\"\"\"Prints a report of users.\"\"\"\n"
    ));
    // web/api.js had the header already: one, not two.
    assert_eq!(tree["web/api.js"].matches("SPDX").count(), 1);
    assert_eq!(
        commits(&f, &repo, &format!("main..{branch}")),
        [
            "license header in Python (MIT)",
            "license header in Rust and JavaScript (MIT)"
        ]
    );

    // A re-run changes nothing: the same commits, the tip stays; another license rewrites
    // the header in place.
    let tip = f.git(&repo, &["rev-parse", branch]);
    let (code, report) = f.run(&repo, &[&pipeline("license-header.yml")], &[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(
        report["repos"][0]["tip"].as_str(),
        Some(tip.trim()),
        "{report}"
    );
    assert_tree(&f.tree(&repo, branch), &licensed("MIT"));
    let (code, report) = f.run(
        &repo,
        &[
            &pipeline("license-header.yml"),
            "--var",
            "license=Apache-2.0",
        ],
        &[],
    );
    assert_eq!(code, 0, "{report}");
    assert_tree(&f.tree(&repo, branch), &licensed("Apache-2.0"));
}

#[test]
fn bump_dependency_bumps_three_manifests_and_gates_on_the_build() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    // The gate's command comes from a variable; here one that checks the bump landed.
    let gate = "build=grep -q 'serde = { version = \"1.0.210\"' Cargo.toml";
    let (code, report) = f.run(
        &repo,
        &[&pipeline("bump-dependency.yml"), "--var", gate],
        &[],
    );
    assert_eq!(code, 0, "{report}");
    let branch = "codefleet/bump-serde-1.0.210";
    assert_eq!(report["repos"][0]["branch"], branch);
    assert_tree(
        &f.tree(&repo, branch),
        &expected(&[
            (
                "Cargo.toml",
                "[package]\nname = \"sample\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1.0.210\", features = [\"derive\"] }\nserde_json = \"1.0.108\"\nlog = \"0.4.20\"\n",
            ),
            (
                "package.json",
                "{\n  \"name\": \"sample-web\",\n  \"version\": \"0.3.1\",\n  \"private\": true,\n  \"dependencies\": {\n    \"left-pad\": \"^1.3.0\",\n    \"lodash\": \"^4.17.20\"\n  }\n}\n",
            ),
            ("requirements.txt", "requests==2.32.3\nclick==8.1.7\n"),
        ]),
    );

    // A gate that fails reverts the Cargo.toml bump, keeps the others, and the run says so.
    let repo = f.sample("broken");
    let (code, report) = f.run(
        &repo,
        &[&pipeline("bump-dependency.yml"), "--var", "build=false"],
        &[],
    );
    assert_eq!(code, 1, "{report}");
    let tasks = &report["repos"][0]["tasks"];
    assert_eq!(tasks[1]["name"], "build");
    assert_eq!(tasks[1]["status"], "failed", "{report}");
    assert_eq!(tasks[0]["status"], "reverted", "{report}");
    let sample = sample_files();
    assert_tree(
        &f.tree(&repo, branch),
        &expected(&[
            ("Cargo.toml", &sample["Cargo.toml"]),
            (
                "package.json",
                &sample["package.json"].replace("^1.2.0", "^1.3.0"),
            ),
            ("requirements.txt", "requests==2.32.3\nclick==8.1.7\n"),
        ]),
    );
    assert_eq!(
        commits(&f, &repo, &format!("main..{branch}")),
        [
            "bump the Python package in requirements",
            "bump the npm package in package.json"
        ]
    );
}

#[test]
fn migrate_utcnow_applies_the_reviewed_search_replace_edits() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    let (code, report) = f.run(&repo, &[&pipeline("migrate-utcnow.yml")], &[]);
    assert_eq!(code, 0, "{report}");
    assert_tree(
        &f.tree(&repo, "codefleet/migrate-utcnow"),
        &expected(&[(
            "tools/stamp.py",
            "from datetime import datetime, timezone\n\n\ndef stamp():\n    \"\"\"The current time, for log lines.\"\"\"\n    return datetime.now(timezone.utc).isoformat()\n",
        )]),
    );

    // A repository whose code does not match fails loudly and changes nothing.
    let mut files = sample_files();
    files.insert(
        "tools/stamp.py".into(),
        "import time\n\n\ndef stamp():\n    return time.time()\n".into(),
    );
    let other = f.repo_of("other", &files);
    let (code, report) = f.run(&other, &[&pipeline("migrate-utcnow.yml")], &[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(report["totals"]["repos_changed"], 0, "{report}");
    assert_eq!(
        report["repos"][0]["tasks"][0]["files"][0]["path"],
        "tools/stamp.py"
    );
    assert_eq!(
        report["repos"][0]["tasks"][0]["files"][0]["status"],
        "failed"
    );
}

/// The first user message of a recorded request: the files and the instruction.
fn asked(r: &Recorded) -> String {
    r.body["messages"][1]["content"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

/// The environment pointing the pipelines' `openai` model at `server`.
fn model_env(server: &ModelServer) -> Vec<(&'static str, String)> {
    vec![
        ("CODEFLEET_MODEL_BASE_URL", server.base_url()),
        ("OPENAI_API_KEY", "sk-test".to_string()),
    ]
}

fn env_refs<'a>(env: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    env.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

#[test]
fn migrate_logging_renames_then_the_model_finishes_and_the_build_gates() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    let server = ModelServer::with_handler(|r| {
        let text = asked(r);
        // The model sees the regex task's result, and swaps the dependency.
        if text.contains("tracing::info!") && text.contains("log = \"0.4.20\"") {
            Step::text(&block(
                "Cargo.toml",
                "log = \"0.4.20\"\n",
                "tracing = \"0.1.40\"\n",
            ))
        } else {
            Step::text("I cannot see the files.")
        }
    });
    let env = model_env(&server);
    // The gate: no `log` left in the code or the manifest.
    let gate = "build=! grep -rqE 'log::|^log =' src Cargo.toml";
    let (code, report) = f.run(
        &repo,
        &[&pipeline("migrate-logging.yml"), "--var", gate],
        &env_refs(&env),
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(server.request_count(), 1);
    let client = sample_files()["src/client.rs"]
        .replace("log::info!", "tracing::info!")
        .replace("log::warn!", "tracing::warn!");
    assert!(client.contains("    tracing::warn!(\"user 0 does not exist\");\n"));
    assert_tree(
        &f.tree(&repo, "codefleet/migrate-logging"),
        &expected(&[
            ("src/client.rs", &client),
            (
                "Cargo.toml",
                "[package]\nname = \"sample\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n[dependencies]\nserde = { version = \"1.0.190\", features = [\"derive\"] }\nserde_json = \"1.0.108\"\ntracing = \"0.1.40\"\n",
            ),
        ]),
    );
    assert_eq!(
        commits(&f, &repo, "main..codefleet/migrate-logging"),
        ["finish the migration", "rename log macros"]
    );
}

#[test]
fn migrate_logging_sends_a_failing_build_back_to_the_model() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    // The first answer forgets the manifest; the gate's output names it, and the fix round
    // (the pipeline's `fix: { attempts: 2 }`) gets it right.
    let server = ModelServer::with_handler(|r| {
        let text = asked(r);
        if text.contains("Cargo.toml:9:log = ") {
            Step::text(&block(
                "Cargo.toml",
                "log = \"0.4.20\"\n",
                "tracing = \"0.1.40\"\n",
            ))
        } else {
            Step::text("Nothing else uses `log`.")
        }
    });
    let env = model_env(&server);
    let gate = "build=! grep -rnE 'log::|^log =' src Cargo.toml";
    let (code, report) = f.run(
        &repo,
        &[&pipeline("migrate-logging.yml"), "--var", gate],
        &env_refs(&env),
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(server.request_count(), 2, "{report}");
    let tree = f.tree(&repo, "codefleet/migrate-logging");
    assert!(tree["Cargo.toml"].ends_with("serde_json = \"1.0.108\"\ntracing = \"0.1.40\"\n"));
    assert!(!tree["src/client.rs"].contains("log::"));
    let log = commits(&f, &repo, "main..codefleet/migrate-logging");
    assert_eq!(log.len(), 2, "{log:?}");
    assert_eq!(log[1], "rename log macros");
    assert!(log[0].contains("fix 1"), "{log:?}");
}

#[test]
fn add_docstrings_asks_once_per_python_file_and_commits_what_the_model_wrote() {
    let f = Fixture::new();
    let repo = f.sample("svc");
    let server = ModelServer::with_handler(|r| {
        let text = asked(r);
        if text.contains("\ntools/client.py\n```") {
            Step::text(&block(
                "tools/client.py",
                "def fetch_user(user_id):\n",
                "def fetch_user(user_id):\n    \"\"\"Returns the user with this id, as JSON.\"\"\"\n",
            ))
        } else {
            Step::text("Every public function here has a docstring already; no change.")
        }
    });
    let env = model_env(&server);
    let (code, report) = f.run(&repo, &[&pipeline("add-docstrings.yml")], &env_refs(&env));
    assert_eq!(code, 0, "{report}");
    let mut shown: Vec<String> = server
        .requests()
        .iter()
        .map(|r| {
            ["tools/client.py", "tools/report.py", "tools/stamp.py"]
                .into_iter()
                .filter(|p| asked(r).contains(&format!("\n{p}\n```")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        ["tools/client.py", "tools/report.py", "tools/stamp.py"]
    );
    assert_tree(
        &f.tree(&repo, "codefleet/add-docstrings"),
        &expected(&[(
            "tools/client.py",
            "import requests\n\n\ndef fetch_user(user_id):\n    \"\"\"Returns the user with this id, as JSON.\"\"\"\n    return requests.get(f\"https://example.com/users/{user_id}\").json()\n",
        )]),
    );
}

#[test]
fn survey_collects_one_answer_per_repository_and_commits_nothing() {
    let f = Fixture::new();
    let svc = f.sample("svc");
    let billing = f.repo_of(
        "billing",
        &BTreeMap::from([(
            "src/charge.py".to_string(),
            "def charge(amount):\n    return amount\n".to_string(),
        )]),
    );
    let server = ModelServer::with_handler(|r| {
        if asked(r).contains("fetch_user(") {
            Step::text("yes\nsrc/client.rs:4 pub fn fetch_user(id: u64)")
        } else {
            Step::text("no")
        }
    });
    let env = model_env(&server);
    let (code, report) = f.run(
        f.dir.path(),
        &[
            &pipeline("survey.yml"),
            "--repo",
            svc.to_str().unwrap(),
            "--repo",
            billing.to_str().unwrap(),
        ],
        &env_refs(&env),
    );
    assert_eq!(code, 0, "{report}");
    assert_eq!(server.request_count(), 2);
    let answers: BTreeMap<String, String> = report["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| {
            let name = r["path"].as_str().unwrap_or_default();
            let name = name.rsplit('/').next().unwrap_or_default().to_string();
            let text = r["tasks"][0]["answers"][0]["text"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            (name, text)
        })
        .collect();
    assert_eq!(
        answers,
        BTreeMap::from([
            ("billing".to_string(), "no".to_string()),
            (
                "svc".to_string(),
                "yes\nsrc/client.rs:4 pub fn fetch_user(id: u64)".to_string()
            ),
        ])
    );
    assert!(asked(&server.requests()[0]).contains("call or define `fetch_user`"));
    for repo in [&svc, &billing] {
        assert_eq!(f.branches(repo), ["main"]);
    }
}

/// A model that edits what the shipped model pipelines ask about (the manifest for
/// `migrate-logging`, a Python file for `add-docstrings`) and answers `no` to the rest.
fn editing_model() -> ModelServer {
    ModelServer::with_handler(|r| {
        let text = asked(r);
        if text.contains("log = \"0.4.20\"") && text.contains("\nCargo.toml\n```") {
            Step::text(&block(
                "Cargo.toml",
                "log = \"0.4.20\"\n",
                "tracing = \"0.1.40\"\n",
            ))
        } else if text.contains("\ntools/client.py\n```") {
            Step::text(&block(
                "tools/client.py",
                "def fetch_user(user_id):\n",
                "def fetch_user(user_id):\n    \"\"\"Returns the user.\"\"\"\n",
            ))
        } else {
            Step::text("no")
        }
    })
}

/// Each repository's path, name, base and branch, as a plan or a run report gives them.
fn named(v: &serde_json::Value) -> Vec<[String; 4]> {
    v["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| ["path", "name", "base", "branch"].map(|k| r[k].as_str().unwrap_or("").into()))
        .collect()
}

/// Task name → the files a plan lists for it, or a run report says it changed.
fn task_files(v: &serde_json::Value, changed: bool) -> BTreeMap<String, Vec<String>> {
    v["repos"][0]["tasks"]
        .as_array()
        .expect("tasks")
        .iter()
        .map(|t| {
            let files = t["files"].as_array().cloned().unwrap_or_default();
            let paths = files
                .iter()
                .filter(|f| !changed || f["status"] != "failed")
                .map(|f| {
                    let path = if changed { &f["path"] } else { f };
                    path.as_str().unwrap_or_default().to_string()
                })
                .collect();
            (t["name"].as_str().unwrap_or_default().to_string(), paths)
        })
        .collect()
}

#[test]
fn plan_names_every_repository_and_file_that_run_then_changes_for_every_pipeline() {
    let f = Fixture::new();
    let server = editing_model();
    let env = model_env(&server);
    let env = env_refs(&env);
    for (i, name) in TESTED.iter().enumerate() {
        let repo = f.sample(&format!("svc-{i}"));
        let path = pipeline(name);
        // Gates that pass, so every task runs.
        let gated = ["bump-dependency.yml", "migrate-logging.yml"].contains(name);
        let mut args = vec![path.as_str()];
        if gated {
            args.extend(["--var", "build=true"]);
        }
        let mut plan_args = vec!["--json", "plan"];
        plan_args.extend(&args);
        let out = f.cli(&repo, &plan_args, &env);
        let plan: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{name}: {e}: {}", String::from_utf8_lossy(&out.stderr)));
        let (code, run) = f.run(&repo, &args, &env);
        assert_eq!(code, 0, "{name}: {run}");
        assert_eq!(named(&plan), named(&run), "{name}");
        assert_eq!(plan["repos"][0]["name"], format!("svc-{i}"), "{name}");
        let planned = task_files(&plan, false);
        let changed = task_files(&run, true);
        let mut any = false;
        for (task, files) in &changed {
            // A shell step changes what its command changes; the plan says so in a note.
            let shell = plan["repos"][0]["tasks"]
                .as_array()
                .expect("tasks")
                .iter()
                .any(|t| {
                    t["name"] == task.as_str()
                        && matches!(t["kind"].as_str(), Some("run" | "check"))
                });
            if shell {
                continue;
            }
            let listed = planned
                .get(task)
                .unwrap_or_else(|| panic!("{name}: no task {task}"));
            for file in files {
                any = true;
                assert!(
                    listed.contains(file),
                    "{name}: task {task} changed {file}, not planned: {listed:?}"
                );
            }
        }
        if *name != "survey.yml" {
            assert!(any, "{name} changed nothing: {run}");
        }
    }
}
