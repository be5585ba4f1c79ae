//! Gates and publishing, end to end through the real binary: a failing `check:` takes back
//! every commit since the last passing check (not only the task right before it), a repository
//! whose failed check left what it guards on the run branch is neither pushed nor given a pull
//! request, and the matrix of every `on_fail` × what changed before the check × `--push`/`--pr`
//! against a bare remote and the GitHub stand-in, with the `git` binary as the witness.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::github;

use crate::support::model_server;
use model_server::{ModelServer, Step};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "ghp_GateT0kenForTheGitHubStandIn";

impl Fixture {
    /// A checkout `svc` of `files` whose `origin` is the bare `srv/acme/svc.git` (so a pull
    /// request's repository is `acme/svc`), with `main` pushed and fetched.
    fn checkout_with_origin(&self, files: &[(&str, &str)]) -> (PathBuf, PathBuf) {
        let repo = self.repo("svc", files);
        let bare = self.path("srv/acme/svc.git");
        std::fs::create_dir_all(&bare).expect("bare dir");
        self.git(&bare, &["init", "-q", "--bare", "-b", "main"]);
        let url = format!("file://{}", bare.display());
        self.git(&repo, &["remote", "add", "origin", &url]);
        self.git(&repo, &["push", "-q", "origin", "main"]);
        self.git(&repo, &["fetch", "-q", "origin"]);
        (repo, bare)
    }

    fn write_pipeline(&self, yaml: &str) -> PathBuf {
        let p = self.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, yaml).expect("write pipeline");
        p
    }

    /// The binary in `cwd` with `args`, talking to the GitHub stand-in at `api`, with `PATH`
    /// starting at `bin` when given.
    fn codefleet(&self, cwd: &Path, args: &[&str], api: &str, bin: Option<&Path>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", api)
            .args(args)
            .current_dir(cwd);
        if let Some(bin) = bin {
            let path = std::env::var_os("PATH").unwrap_or_default();
            let mut dirs = vec![bin.to_path_buf()];
            dirs.extend(std::env::split_paths(&path));
            cmd.env("PATH", std::env::join_paths(dirs).expect("PATH"));
        }
        cmd.output().expect("run codefleet")
    }

    /// The commit `refs/heads/<branch>` names in `repo`, asked of git.
    fn ref_tip(&self, repo: &Path, branch: &str) -> Option<String> {
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
            .then(|| text(&out.stdout).trim().to_string())
    }
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn task<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["repos"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no task `{name}` in {report:#}"))
}

#[test]
fn a_failing_gate_reverts_everything_since_the_last_passing_gate_and_nothing_is_pushed() {
    let f = Fixture::new();
    let (repo, bare) = f.checkout_with_origin(&[("a.txt", "good\n"), ("b.txt", "x\n")]);
    let gh = github::FakeGitHub::start(TOKEN);
    let p = f.write_pipeline(
        r#"version: 1
name: gate
tasks:
  - name: break it
    replace: { find: good, with: bad }
  - name: format
    run: "true"
  - name: must be good
    check: grep -q good a.txt
"#,
    );
    let out = f.codefleet(
        &repo,
        &["run", p.to_str().expect("utf8"), "--pr", "--json"],
        &gh.url,
        None,
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(task(&report, "break it")["status"], "reverted");
    assert_eq!(task(&report, "format")["status"], "unchanged");
    let gate = task(&report, "must be good");
    assert_eq!(gate["status"], "failed");
    assert_eq!(gate["reverted"], serde_json::json!(["break it"]));
    assert!(
        gate["message"]
            .as_str()
            .is_some_and(|m| m.contains("reverted `break it`")),
        "{gate:#}"
    );
    assert_eq!(report["totals"]["commits"], 0);
    assert_eq!(
        f.ref_tip(&repo, "codefleet/gate"),
        None,
        "no breaking commit"
    );
    assert_eq!(f.ref_tip(&bare, "codefleet/gate"), None, "nothing pushed");
    assert!(gh.prs().is_empty(), "no pull request: {:?}", gh.prs());
}

#[test]
fn a_revert_that_does_not_make_the_check_pass_holds_the_repository_back() {
    let f = Fixture::new();
    let (repo, bare) = f.checkout_with_origin(&[("a.txt", "good\n"), ("b.txt", "x\n")]);
    let gh = github::FakeGitHub::start(TOKEN);
    // The breaking task comes before a check of something else, which passes; the failing
    // check reverts only what came after that one, and still fails.
    let p = f.write_pipeline(
        r#"version: 1
name: gate
tasks:
  - name: break it
    replace: { find: good, with: bad }
  - name: format
    check: test -f b.txt
  - name: harmless
    replace: { find: x, with: y }
  - name: must be good
    check: grep -q good a.txt
"#,
    );
    let out = f.codefleet(
        &repo,
        &["run", p.to_str().expect("utf8"), "--pr", "--json"],
        &gh.url,
        None,
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(task(&report, "harmless")["status"], "reverted");
    assert_eq!(task(&report, "break it")["status"], "changed");
    let gate = task(&report, "must be good");
    assert!(
        gate["message"]
            .as_str()
            .is_some_and(|m| m.contains("still fails after the revert")),
        "{gate:#}"
    );
    assert_eq!(gate["held_back"], "it still fails after the revert");
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/gate"]),
        "break it\n",
        "kept on the local branch, for a look"
    );
    assert_eq!(f.ref_tip(&bare, "codefleet/gate"), None, "never pushed");
    assert!(gh.prs().is_empty());
    let publish = &report["repos"][0]["publish"];
    assert_eq!(
        publish["message"],
        "not pushed: check `must be good` failed and it still fails after the revert"
    );
    assert_eq!(publish["pull_request"]["action"], "skipped");
}

/// A `cargo` stand-in on PATH: `fmt` changes nothing; `check` fails when `src/` calls a
/// function that no `.rs` file defines, naming the file, as a compiler would.
fn fake_cargo(f: &Fixture) -> PathBuf {
    let bin = f.path("bin");
    std::fs::create_dir_all(&bin).expect("bin");
    let script = bin.join("cargo");
    std::fs::write(
        &script,
        r#"#!/bin/sh
case "$1" in
  fmt) exit 0 ;;
  check)
    for name in $(grep -rhoE '[a-z_]+\(\)' src | sed 's/()//' | sort -u); do
      grep -rqE "fn $name\(" . || { echo "error[E0425]: cannot find function \`$name\` in src/main.rs"; exit 101; }
    done ;;
  *) exit 2 ;;
esac
"#,
    )
    .expect("write cargo");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    bin
}

#[test]
fn the_starter_pipeline_of_init_never_pushes_a_rename_that_breaks_the_build() {
    let f = Fixture::new();
    // The rename reaches `src/` but not the definition under `vendor/` (excluded by the
    // starter), so the build breaks; `cargo fmt` has nothing to do.
    let (repo, bare) = f.checkout_with_origin(&[
        ("src/main.rs", "fn main() {\n    fetch_user();\n}\n"),
        ("vendor/api.rs", "pub fn fetch_user() {}\n"),
    ]);
    let bin = fake_cargo(&f);
    let gh = github::FakeGitHub::start(TOKEN);
    let init = f.codefleet(&repo, &["init", "pipelines/example.yml"], &gh.url, None);
    assert_eq!(init.status.code(), Some(0), "{}", text(&init.stderr));
    let out = f.codefleet(
        &repo,
        &["run", "pipelines/example.yml", "--push", "--json"],
        &gh.url,
        Some(&bin),
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(task(&report, "rename function")["status"], "reverted");
    assert_eq!(task(&report, "format")["status"], "unchanged");
    let build = task(&report, "build");
    assert_eq!(build["status"], "failed");
    assert_eq!(build["command"]["exit_code"], 101);
    assert_eq!(f.ref_tip(&repo, "codefleet/example"), None);
    assert_eq!(f.ref_tip(&bare, "codefleet/example"), None);
    assert_eq!(
        f.git(&repo, &["show", "HEAD:src/main.rs"]),
        "fn main() {\n    fetch_user();\n}\n",
        "the checkout is untouched"
    );

    // The same starter with `on_fail: stop` keeps the commit for a look, and holds it back.
    let yml = repo.join("pipelines/example.yml");
    let stop = std::fs::read_to_string(&yml)
        .expect("starter")
        .replace("on_fail: revert", "on_fail: stop");
    std::fs::write(&yml, stop).expect("write");
    let out = f.codefleet(
        &repo,
        &["run", "pipelines/example.yml", "--pr", "--json"],
        &gh.url,
        Some(&bin),
    );
    let report = json(&out);
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(task(&report, "rename function")["status"], "changed");
    assert!(f.ref_tip(&repo, "codefleet/example").is_some());
    assert_eq!(f.ref_tip(&bare, "codefleet/example"), None, "not pushed");
    let publish = &report["repos"][0]["publish"];
    assert_eq!(publish["push"], "not_pushed", "{publish:#}");
    assert!(
        publish["message"]
            .as_str()
            .is_some_and(|m| m.contains("check `build` failed") && m.contains("on_fail: stop")),
        "{publish:#}"
    );
    assert_eq!(publish["pull_request"]["action"], "skipped", "{publish:#}");
    assert!(gh.prs().is_empty());
    let summary = text(
        &f.codefleet(
            &repo,
            &["run", "pipelines/example.yml", "--pr"],
            &gh.url,
            Some(&bin),
        )
        .stdout,
    );
    assert!(summary.contains("check `build` failed"), "{summary}");
}

/// What the tasks before the failing check changed.
#[derive(Debug, Clone, Copy)]
enum Earlier {
    /// Nothing: the base already fails the check.
    None,
    /// The task right before the check broke it.
    TaskBefore,
    /// An earlier task broke it; the task right before the check is a no-op.
    BeforeANoOp,
}

#[test]
fn gate_matrix_on_fail_by_earlier_changes_by_push_or_pr() {
    // A model that answers every fix round with an edit that does not help.
    let model = ModelServer::with_handler(|_| {
        Step::text("a.txt\n```\n<<<<<<< SEARCH\nbad\n=======\nworse\n>>>>>>> REPLACE\n```\n")
    });
    let url = model.base_url();
    let mut failures = Vec::new();
    for on_fail in ["revert", "stop", "fix"] {
        for earlier in [Earlier::None, Earlier::TaskBefore, Earlier::BeforeANoOp] {
            for publish in ["--push", "--pr"] {
                let case = format!("on_fail: {on_fail}, earlier: {earlier:?}, {publish}");
                if let Err(e) =
                    std::panic::catch_unwind(|| gate_case(on_fail, earlier, publish, &url))
                {
                    let why = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{case}: {why}"));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// One row of the matrix: a passing gate guarding a first commit, then the case's tasks, the
/// failing gate, and a task after it.
fn gate_case(on_fail: &str, earlier: Earlier, publish: &str, model_url: &str) {
    let f = Fixture::new();
    let a = match earlier {
        Earlier::None => "bad\n",
        _ => "good\n",
    };
    let (repo, bare) = f.checkout_with_origin(&[("a.txt", a), ("b.txt", "x\n"), ("c.txt", "1\n")]);
    let gh = github::FakeGitHub::start(TOKEN);
    let middle = match earlier {
        Earlier::None => "  - name: noop\n    run: \"true\"\n",
        Earlier::TaskBefore => "  - name: break\n    replace: { find: good, with: bad }\n",
        Earlier::BeforeANoOp => {
            "  - name: break\n    replace: { find: good, with: bad }\n  - name: noop\n    run: \"true\"\n"
        }
    };
    let on_fail_line = match on_fail {
        "fix" => "    fix: { attempts: 1 }\n".to_string(),
        other => format!("    on_fail: {other}\n"),
    };
    let p = f.write_pipeline(&format!(
        r#"version: 1
name: gates
model: {{ provider: openai, name: test-model, base_url: "{model_url}", edit_format: diff }}
tasks:
  - name: guarded
    replace: {{ find: x, with: y }}
  - name: first gate
    check: grep -q y b.txt
{middle}  - name: gate
    check: "grep -q good a.txt || {{ echo a.txt:1: expected good; exit 1; }}"
{on_fail_line}  - name: after
    replace: {{ find: "1", with: "2" }}
"#
    ));
    let out = f.codefleet(
        &repo,
        &["run", p.to_str().expect("utf8"), publish, "--json"],
        &gh.url,
        None,
    );
    let report = json(&out);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a failed gate fails the run: {report:#}"
    );
    assert_eq!(task(&report, "first gate")["status"], "unchanged");
    assert_eq!(task(&report, "gate")["status"], "failed");
    let broke = !matches!(earlier, Earlier::None);
    // What the run branch holds, newest first, as git tells it, and whether it may be
    // published: only when the revert made the check pass again (with nothing to revert, the
    // branch still fails it; `stop` keeps what it guards).
    let (subjects, a_on_branch, pushed) = match on_fail {
        "stop" if broke => ("break\nguarded\n", "bad\n", false),
        "stop" => ("guarded\n", a, false),
        // revert, and fix once its round did not help: back to the first gate's state.
        _ => ("after\nguarded\n", a, broke),
    };
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/gates"]),
        subjects,
        "{report:#}"
    );
    assert_eq!(
        f.git(&repo, &["show", "codefleet/gates:a.txt"]),
        a_on_branch
    );
    assert_eq!(f.git(&repo, &["show", "codefleet/gates:b.txt"]), "y\n");
    let tip = f.ref_tip(&repo, "codefleet/gates");
    let remote = f.ref_tip(&bare, "codefleet/gates");
    let publish_report = &report["repos"][0]["publish"];
    let gate = task(&report, "gate");
    if pushed {
        assert_eq!(
            remote, tip,
            "the remote holds the run branch: {publish_report:#}"
        );
        assert_eq!(publish_report["push"], "pushed");
        assert!(gate.get("held_back").is_none(), "{gate:#}");
        assert!(
            gate["message"]
                .as_str()
                .is_some_and(|m| m.contains("passes again after the revert")),
            "{gate:#}"
        );
    } else {
        assert_eq!(remote, None, "nothing pushed: {publish_report:#}");
        assert_eq!(publish_report["push"], "not_pushed");
        assert!(gate["held_back"].is_string(), "{gate:#}");
        assert!(
            publish_report["message"]
                .as_str()
                .is_some_and(|m| m.contains("check `gate` failed")),
            "{publish_report:#}"
        );
    }
    let prs = gh.prs();
    if publish == "--pr" && pushed {
        assert_eq!(prs.len(), 1, "{publish_report:#}");
        assert_eq!(prs[0].head, "codefleet/gates");
        assert_eq!(publish_report["pull_request"]["action"], "opened");
    } else {
        assert!(prs.is_empty(), "no pull request: {prs:?}");
    }
    // Every reverted task shows as reverted, and the failed check lists them all, oldest first.
    match (on_fail, broke) {
        ("stop", _) => {
            assert_eq!(task(&report, "after")["status"], "skipped");
            if broke {
                assert_eq!(task(&report, "break")["status"], "changed");
            }
        }
        (_, true) => {
            assert_eq!(task(&report, "break")["status"], "reverted");
            assert_eq!(task(&report, "after")["status"], "changed");
        }
        (_, false) => assert_eq!(task(&report, "after")["status"], "changed"),
    }
    if on_fail == "fix" {
        assert_eq!(task(&report, "gate (fix 1)")["status"], "reverted");
    }
    let reverted = match (on_fail, broke) {
        ("stop", _) | ("revert", false) => serde_json::Value::Null,
        ("revert", true) => serde_json::json!(["break"]),
        (_, true) => serde_json::json!(["break", "gate (fix 1)"]),
        (_, false) => serde_json::json!(["gate (fix 1)"]),
    };
    assert_eq!(task(&report, "gate")["reverted"], reverted, "{report:#}");
}
