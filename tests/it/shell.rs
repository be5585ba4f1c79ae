//! `run:` and `check:` tasks end to end: real commands in temporary linked worktrees of real
//! git repositories (isolated git configuration), through the real binary, with the `git` CLI
//! as an independent witness of commits, branches and leftover worktrees.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::support::model_server;
use model_server::{ModelServer, Step};

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

    /// `codefleet run --json` in `repo`: the exit code and the report.
    fn run_json(&self, repo: &Path, pipeline: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
        let mut args = vec!["run", pipeline.to_str().expect("utf8"), "--json"];
        args.extend_from_slice(extra);
        let out = self.run(repo, &args);
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}\n{}",
                text(&out.stdout),
                text(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), report)
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

    /// No temporary worktree is left: git lists only the main one, and codefleet's directory
    /// of worktrees is empty.
    fn assert_no_worktrees(&self, repo: &Path) {
        let list = self.git(repo, &["worktree", "list", "--porcelain"]);
        assert_eq!(
            list.matches("worktree ").count(),
            1,
            "a worktree is left: {list}"
        );
        let dir = repo.join(".git/codefleet/worktrees");
        let left: Vec<_> = std::fs::read_dir(&dir)
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "left behind: {left:?}");
    }
}

fn task<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["repos"][0]["tasks"]
        .as_array()
        .and_then(|ts| ts.iter().find(|t| t["name"] == name))
        .unwrap_or_else(|| panic!("no task `{name}` in {report:#}"))
}

/// Whether a process is gone (or a zombie nobody reaped yet: it runs no more).
fn gone(pid: &str) -> bool {
    match std::fs::read_to_string(format!("/proc/{}/stat", pid.trim())) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn a_formatter_like_command_rewrites_files_into_one_commit() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.txt", "hello\n"),
            ("src/b.txt", "world\n"),
            ("README", "keep me\n"),
            (".gitignore", "build/\n"),
        ],
    );
    let p = f.pipeline(
        r#"version: 1
name: fmt
tasks:
  - name: shout
    run: |
      for f in *.txt; do tr a-z A-Z < "$f" > "$f.tmp"; mv "$f.tmp" "$f"; done
      printf '%s\n' "$GREETING" > new.txt
      mkdir -p ../build && echo cache > ../build/out
    cwd: src
    env: { GREETING: "from {{ pipeline }}" }
"#,
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let t = task(&report, "shout");
    assert_eq!(t["status"], "changed");
    assert_eq!(t["files_changed"], 3);
    assert_eq!(t["command"]["exit_code"], 0);
    assert!(t["command"]["duration_ms"].is_u64());
    assert_eq!(
        f.git(&repo, &["show", "codefleet/fmt:src/a.txt"]),
        "HELLO\n"
    );
    assert_eq!(
        f.git(&repo, &["show", "codefleet/fmt:src/b.txt"]),
        "WORLD\n"
    );
    assert_eq!(
        f.git(&repo, &["show", "codefleet/fmt:src/new.txt"]),
        "from {{ pipeline }}\n",
        "env values are passed as written"
    );
    // One commit on main; ignored build output is not committed; the checkout is untouched.
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/fmt"]),
        "shout\n"
    );
    assert_eq!(
        f.git(&repo, &["ls-tree", "-r", "--name-only", "codefleet/fmt"]),
        ".gitignore\nREADME\nsrc/a.txt\nsrc/b.txt\nsrc/new.txt\n"
    );
    assert_eq!(
        std::fs::read_to_string(repo.join("src/a.txt")).expect("read"),
        "hello\n"
    );
    assert_eq!(f.git(&repo, &["status", "--porcelain"]), "");
    f.assert_no_worktrees(&repo);
    f.git(&repo, &["fsck", "--strict"]);
}

#[test]
fn a_dry_run_shows_the_commands_diff_and_check_mode_exits_3() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "one\n")]);
    let p = f.pipeline(
        "version: 1\nname: dry\ntasks:\n  - name: first\n    replace: { find: one, with: two }\n  - name: append\n    run: echo three >> a.txt\n",
    );
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--dry-run"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    // The command ran on the state the earlier task left, though nothing was committed.
    assert!(
        shown.contains(" two\n+three\n"),
        "the diff of the command: {shown}"
    );
    assert_eq!(f.tip(&repo, "codefleet/dry"), None);
    let check = f.run(&repo, &["run", p.to_str().expect("utf8"), "--check"]);
    assert_eq!(check.status.code(), Some(3), "{}", text(&check.stdout));
    assert_eq!(f.tip(&repo, "codefleet/dry"), None);
    f.assert_no_worktrees(&repo);
}

#[test]
fn a_failing_check_reverts_the_task_before_it_and_fails_the_run() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "good\n"), ("b.txt", "x\n")]);
    let p = f.pipeline(
        r#"version: 1
name: gate
tasks:
  - name: break it
    replace: { find: good, with: bad }
  - name: must be good
    check: echo checking; grep -q good a.txt
  - name: other
    replace: { find: x, with: y }
  - name: still fine
    check: test -f b.txt
"#,
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "a failed check fails the run: {report:#}");
    let broke = task(&report, "break it");
    assert_eq!(broke["status"], "reverted");
    assert!(broke.get("commit").is_none(), "{broke:#}");
    let check = task(&report, "must be good");
    assert_eq!(check["status"], "failed");
    assert_eq!(check["reverted"], serde_json::json!(["break it"]));
    assert_eq!(check["command"]["exit_code"], 1);
    assert_eq!(check["command"]["output"], "checking\n");
    assert!(
        check["message"].as_str().is_some_and(
            |m| m.contains("check failed: exit status 1") && m.contains("reverted `break it`")
        ),
        "{check:#}"
    );
    assert_eq!(task(&report, "still fine")["status"], "unchanged");
    assert_eq!(report["totals"]["commits"], 1);
    // A shard's report with shell steps merges back as it was.
    let saved = f.path("shard.json");
    std::fs::write(&saved, report.to_string()).expect("save");
    let merged = f.run(
        &repo,
        &["report", "merge", saved.to_str().expect("utf8"), "--json"],
    );
    assert_eq!(merged.status.code(), Some(1), "{}", text(&merged.stderr));
    let merged: serde_json::Value = serde_json::from_slice(&merged.stdout).expect("json");
    assert_eq!(task(&merged, "must be good"), task(&report, "must be good"));
    assert_eq!(task(&merged, "break it")["status"], "reverted");
    // The branch holds only the task after the check, on the base.
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/gate"]),
        "other\n"
    );
    assert_eq!(f.git(&repo, &["show", "codefleet/gate:a.txt"]), "good\n");
    assert_eq!(f.git(&repo, &["show", "codefleet/gate:b.txt"]), "y\n");

    // The step summary lists the failed check first, with its output.
    let summary = f.path("summary.md");
    let mut cmd = f.command(&repo, &["run", p.to_str().expect("utf8"), "--force"]);
    cmd.env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_ACTIONS", "true");
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(1));
    let annotations = text(&out.stderr);
    assert!(
        annotations.contains("::error title=codefleet check `must be good` in .::`echo checking; grep -q good a.txt`: exit status 1%0Achecking\n"),
        "{annotations}"
    );
    let table = text(&out.stdout);
    assert!(
        table.contains("task `must be good`: `echo checking; grep -q good a.txt`, exit status 1; last lines of its output:\n  | checking\n"),
        "{table}"
    );
    let md = std::fs::read_to_string(&summary).expect("summary written");
    let failed_at = md.find("Failed checks").expect("a failed-checks section");
    let table_at = md.find("| repo |").expect("the table");
    assert!(failed_at < table_at, "{md}");
    assert!(md.contains("must be good"), "{md}");
    assert!(md.contains("checking"), "{md}");
    f.assert_no_worktrees(&repo);
}

#[test]
fn on_fail_stop_keeps_the_commits_and_runs_nothing_after() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "good\n")]);
    let p = f.pipeline(
        r#"version: 1
name: stop
tasks:
  - name: break it
    replace: { find: good, with: bad }
  - name: gate
    check: grep -q good a.txt
    on_fail: stop
  - name: later
    run: echo more >> a.txt
"#,
    );
    let plan = f.run(&repo, &["plan", p.to_str().expect("utf8")]);
    assert!(
        text(&plan.stdout).contains("task `gate` (check): checks `grep -q good a.txt`; on failure: stop\n  task `later` (run): runs `echo more >> a.txt` in a temporary worktree"),
        "{}",
        text(&plan.stdout)
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["repos"][0]["status"], "failed");
    assert_eq!(task(&report, "break it")["status"], "changed");
    assert_eq!(task(&report, "later")["status"], "skipped");
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/stop"]),
        "break it\n"
    );
    f.assert_no_worktrees(&repo);
}

#[test]
fn a_timeout_kills_the_whole_process_tree() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    let pidfile = f.path("child.pid");
    let p = f.pipeline(&format!(
        r#"version: 1
name: slow
tasks:
  - name: hang
    run: echo changed > a.txt; sleep 1000 & echo $! > "$PIDFILE"; wait
    timeout: 2s
    env: {{ PIDFILE: "{}" }}
"#,
        pidfile.display()
    ));
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    let t = task(&report, "hang");
    assert_eq!(t["status"], "failed");
    assert_eq!(t["command"]["timed_out"], true);
    assert!(
        t["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("timed out after 2s")),
        "{t:#}"
    );
    let pid = std::fs::read_to_string(&pidfile).expect("the command wrote its child's pid");
    assert!(gone(&pid), "the sleeping child {pid} still runs");
    assert_eq!(
        f.tip(&repo, "codefleet/slow"),
        None,
        "a failed run commits nothing"
    );
    f.assert_no_worktrees(&repo);
}

#[test]
fn ctrl_c_during_a_command_kills_it_and_writes_nothing() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    let pidfile = f.path("child.pid");
    let p = f.pipeline(&format!(
        r#"version: 1
name: long
tasks:
  - name: first
    replace: {{ find: x, with: y }}
  - name: wait
    run: echo changed > a.txt; sleep 1000 & echo $! > "$PIDFILE"; echo ready; wait
    env: {{ PIDFILE: "{}" }}
"#,
        pidfile.display()
    ));
    let mut child = f
        .command(&repo, &["run", p.to_str().expect("utf8"), "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    // `-v` streams the command's output: signal once it says it is waiting.
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("utf8");
        let ready = line.ends_with("`wait` | ready");
        seen.push(line);
        if ready {
            break;
        }
    }
    assert!(
        seen.last().is_some_and(|l| l.ends_with("| ready")),
        "{seen:?}"
    );
    let killed = Command::new("sh")
        .args(["-c", &format!("kill -INT {}", child.id())])
        .status()
        .expect("kill");
    assert!(killed.success());
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(130), "{}", rest.join("\n"));
    let pid = std::fs::read_to_string(&pidfile).expect("pid");
    assert!(gone(&pid), "the command's child {pid} still runs");
    // The task before it is kept; the interrupted one wrote nothing.
    let tip = f
        .tip(&repo, "codefleet/long")
        .expect("the first task's commit");
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", &format!("main..{tip}")]),
        "first\n"
    );
    assert_eq!(f.git(&repo, &["show", &format!("{tip}:a.txt")]), "y\n");
    f.assert_no_worktrees(&repo);
}

#[test]
fn a_command_writing_where_the_policy_forbids_fails_and_commits_nothing() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n"), ("b.txt", "keep\n")]);
    let p = f.pipeline(
        r#"version: 1
name: sneaky
tasks:
  - name: secrets
    run: echo y > a.txt; echo TOKEN=1 > .env
  - name: escape
    run: ln -s /etc/passwd link
  - name: delete
    run: rm b.txt
  - name: fine
    run: echo z > a.txt
"#,
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    let secrets = task(&report, "secrets");
    assert_eq!(secrets["status"], "failed");
    assert_eq!(secrets["files_changed"], 0);
    let files = secrets["files"].as_array().expect("files");
    assert_eq!(files.len(), 1, "{secrets:#}");
    assert_eq!(files[0]["path"], ".env");
    assert!(
        files[0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("denied by policy")),
        "{secrets:#}"
    );
    let escape = &task(&report, "escape")["files"][0];
    assert_eq!(escape["path"], "link");
    assert!(
        escape["message"]
            .as_str()
            .is_some_and(|m| m.contains("outside the repository")),
        "{escape:#}"
    );
    let delete = &task(&report, "delete")["files"][0];
    assert!(
        delete["message"]
            .as_str()
            .is_some_and(|m| m.contains("allow_delete")),
        "{delete:#}"
    );
    // Only the allowed task is committed, on the base: nothing of the refused ones leaked.
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/sneaky"]),
        "fine\n"
    );
    assert_eq!(
        f.git(&repo, &["ls-tree", "-r", "--name-only", "codefleet/sneaky"]),
        "a.txt\nb.txt\n"
    );
    assert_eq!(f.git(&repo, &["show", "codefleet/sneaky:a.txt"]), "z\n");
    f.assert_no_worktrees(&repo);
}

#[test]
fn a_killed_runs_worktree_is_removed_by_the_next_run() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    let pidfile = f.path("child.pid");
    let p = f.pipeline(&format!(
        r#"version: 1
name: killed
tasks:
  - name: wait
    run: sleep 1000 & echo $! > "$PIDFILE"; echo ready; wait
    env: {{ PIDFILE: "{}" }}
"#,
        pidfile.display()
    ));
    let mut child = f
        .command(&repo, &["run", p.to_str().expect("utf8"), "-v"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    for line in BufReader::new(stderr).lines() {
        if line.expect("utf8").ends_with("| ready") {
            break;
        }
    }
    // SIGKILL: codefleet cannot clean up; its command's group outlives it, so end that too.
    child.kill().expect("kill");
    child.wait().expect("wait");
    let pid = std::fs::read_to_string(&pidfile).expect("pid");
    Command::new("sh")
        .args([
            "-c",
            &format!(
                "kill -KILL -{} {} 2>/dev/null; true",
                pid.trim(),
                pid.trim()
            ),
        ])
        .status()
        .expect("kill the orphan");
    let list = f.git(&repo, &["worktree", "list", "--porcelain"]);
    assert_eq!(
        list.matches("worktree ").count(),
        2,
        "left by the kill: {list}"
    );
    assert!(list.contains("locked"), "{list}");

    // The next run removes it, shell steps or not.
    let p = f.pipeline(
        "version: 1\nname: next\ntasks:\n  - name: t\n    replace: { find: x, with: y }\n",
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 0, "{report:#}");
    f.assert_no_worktrees(&repo);
}

#[test]
fn shell_tasks_in_different_repositories_run_in_parallel() {
    let f = Fixture::new();
    let a = f.repo("a", &[("x", "1\n")]);
    let b = f.repo("b", &[("x", "1\n")]);
    let meet = f.path("meet");
    std::fs::create_dir_all(&meet).expect("mkdir");
    // Each waits for the other to arrive: only parallel runs finish before the time limit.
    let p = f.pipeline(&format!(
        r#"version: 1
name: par
tasks:
  - name: meet
    check: |
      touch "$MEET/$CODEFLEET_REPO_NAME"
      i=0; while [ ! -e "$MEET/a" ] || [ ! -e "$MEET/b" ]; do i=$((i+1)); [ $i -lt 3000 ] || exit 9; sleep 0.01; done
    env: {{ MEET: "{}" }}
"#,
        meet.display()
    ));
    let out = f.run(
        f.dir.path(),
        &[
            "run",
            p.to_str().expect("utf8"),
            "--jobs",
            "2",
            "--repo",
            a.to_str().expect("utf8"),
            "--repo",
            b.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn a_concurrency_cap_keeps_a_command_to_one_repository_at_a_time() {
    let f = Fixture::new();
    let a = f.repo("a", &[("x", "1\n")]);
    let b = f.repo("b", &[("x", "1\n")]);
    let meet = f.path("meet");
    std::fs::create_dir_all(&meet).expect("mkdir");
    // `mkdir` of the lock fails if the other repository's command is inside; each also waits a
    // little for the other, which without the cap makes them overlap.
    let p = f.pipeline(&format!(
        r#"version: 1
name: cap
tasks:
  - name: one at a time
    check: |
      mkdir "$MEET/lock" || exit 7
      touch "$MEET/$CODEFLEET_REPO_NAME"
      i=0; while [ ! -e "$MEET/a" ] || [ ! -e "$MEET/b" ]; do i=$((i+1)); [ $i -lt 100 ] || break; sleep 0.01; done
      rmdir "$MEET/lock"
    concurrency: 1
    env: {{ MEET: "{}" }}
"#,
        meet.display()
    ));
    let out = f.run(
        f.dir.path(),
        &[
            "run",
            p.to_str().expect("utf8"),
            "--jobs",
            "2",
            "--repo",
            a.to_str().expect("utf8"),
            "--repo",
            b.to_str().expect("utf8"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
}

#[test]
fn the_default_shell_fails_a_broken_pipeline_and_shell_picks_another() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    let p = f.pipeline(
        "version: 1\nname: sh\ntasks:\n  - name: pipefail\n    check: false | true\n  - name: plain sh\n    check: false | true\n    shell: sh\n",
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(task(&report, "pipefail")["status"], "failed");
    assert_eq!(task(&report, "plain sh")["status"], "unchanged");
}

/// A repository whose check wants `value = 1` in `src/lib.txt`, and a pipeline whose first
/// task breaks that; the check's fix rounds ask the model at `url`.
fn breaking_pipeline(f: &Fixture, url: &str, attempts: u32) -> (PathBuf, PathBuf) {
    let repo = f.repo(
        "svc",
        &[("src/lib.txt", "value = 1\n"), ("README", "notes\n")],
    );
    let p = f.pipeline(&format!(
        r#"version: 1
name: fix
model: {{ provider: openai, name: test-model, base_url: "{url}", edit_format: diff }}
tasks:
  - name: break it
    replace: {{ find: "value = 1", with: "value = 2" }}
  - name: gate
    check: |
      grep -q 'value = 1' src/lib.txt || {{ echo "src/lib.txt:1: expected value = 1"; exit 1; }}
    fix: {{ attempts: {attempts} }}
"#
    ));
    (repo, p)
}

fn edit(search: &str, replace: &str) -> Step {
    Step::text(&format!(
        "src/lib.txt\n```\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n```\n"
    ))
}

#[test]
fn a_failing_check_is_fixed_by_the_model_each_round_a_commit() {
    let f = Fixture::new();
    let asked = Arc::new(AtomicUsize::new(0));
    let n = asked.clone();
    let server = ModelServer::with_handler(move |_| {
        // The first fix is wrong; the second is right.
        match n.fetch_add(1, Ordering::SeqCst) {
            0 => edit("value = 2", "value = 3"),
            _ => edit("value = 3", "value = 1"),
        }
    });
    let (repo, p) = breaking_pipeline(&f, &server.base_url(), 3);
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(
        code, 0,
        "a check that passes after fixing is no failure: {report:#}"
    );
    let gate = task(&report, "gate");
    assert_eq!(gate["status"], "unchanged");
    assert_eq!(gate["message"], "passes after 2 fix round(s)");
    assert_eq!(gate["command"]["exit_code"], 0);
    for round in ["gate (fix 1)", "gate (fix 2)"] {
        let t = task(&report, round);
        assert_eq!(t["kind"], "fix");
        assert_eq!(t["status"], "changed");
        assert_eq!(t["model"]["requests"], 1);
    }
    assert_eq!(
        f.git(&repo, &["log", "--format=%s", "main..codefleet/fix"]),
        "gate (fix 2)\ngate (fix 1)\nbreak it\n"
    );
    assert_eq!(
        f.git(&repo, &["show", "codefleet/fix:src/lib.txt"]),
        "value = 1\n"
    );
    assert!(
        f.git(&repo, &["log", "-1", "--format=%B", "codefleet/fix"])
            .contains("Codefleet-Model: test-model"),
    );
    // What the model saw: the command, how it ended, its output, and the file it names.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let first = requests[0].raw.clone();
    for needle in [
        "The check `gate` runs",
        "failed (exit status 1)",
        "src/lib.txt:1: expected value = 1",
        "value = 2",
    ] {
        assert!(first.contains(needle), "{needle} not in {first}");
    }
    assert!(
        !first.contains("notes"),
        "README is not named by the output: {first}"
    );
    assert!(
        requests[1].raw.contains("value = 3"),
        "round 2 sees round 1's edit"
    );
    f.assert_no_worktrees(&repo);
}

#[test]
fn fix_rounds_that_do_not_help_are_reverted_with_the_task_before() {
    let f = Fixture::new();
    let asked = Arc::new(AtomicUsize::new(0));
    let n = asked.clone();
    let server = ModelServer::with_handler(move |_| {
        let i = n.fetch_add(1, Ordering::SeqCst);
        edit(&format!("value = {}", i + 2), &format!("value = {}", i + 3))
    });
    let (repo, p) = breaking_pipeline(&f, &server.base_url(), 2);
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(server.requests().len(), 2, "at most `attempts` rounds");
    let gate = task(&report, "gate");
    assert_eq!(gate["status"], "failed");
    assert_eq!(
        gate["reverted"],
        serde_json::json!(["break it", "gate (fix 1)", "gate (fix 2)"])
    );
    assert!(
        gate["message"].as_str().is_some_and(|m| m.contains(
            "still failing after 2 fix round(s); reverted `break it`, `gate (fix 1)`, `gate (fix 2)`"
        )),
        "{gate:#}"
    );
    for name in ["break it", "gate (fix 1)", "gate (fix 2)"] {
        assert_eq!(task(&report, name)["status"], "reverted", "{name}");
    }
    assert_eq!(report["totals"]["commits"], 0);
    assert_eq!(
        f.tip(&repo, "codefleet/fix"),
        None,
        "every commit was taken back"
    );
    f.assert_no_worktrees(&repo);
}

#[test]
fn a_fix_round_without_a_model_name_says_why_and_the_check_reverts() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "good\n")]);
    let p = f.pipeline(
        "version: 1\nname: fix\ntasks:\n  - name: break it\n    replace: { find: good, with: bad }\n  - name: gate\n    check: \"grep -q good a.txt || { echo a.txt is bad; exit 1; }\"\n    fix: { attempts: 2 }\n",
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    let gate = task(&report, "gate");
    assert_eq!(gate["status"], "failed");
    assert_eq!(gate["reverted"], serde_json::json!(["break it"]));
    assert!(
        gate["message"]
            .as_str()
            .is_some_and(|m| m
                .contains("fix round 1 changed nothing: [E451] no model is named for this task")),
        "{gate:#}"
    );
    assert_eq!(task(&report, "gate (fix 1)")["status"], "failed");
    assert_eq!(task(&report, "break it")["status"], "reverted");
    assert_eq!(
        f.tip(&repo, "codefleet/fix"),
        None,
        "nothing is left to commit"
    );
    f.assert_no_worktrees(&repo);
}

#[test]
fn modes_and_symlinks_inside_the_repository_are_committed() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("run.sh", "echo hi\n"), ("a.txt", "a\n")]);
    let p = f.pipeline(
        "version: 1\nname: modes\ntasks:\n  - name: tweak\n    run: chmod +x run.sh; ln -s a.txt link; mkdir -p d; ln -s ../a.txt d/up\n",
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let tree = f.git(&repo, &["ls-tree", "-r", "codefleet/modes"]);
    let modes: Vec<(&str, &str)> = tree
        .lines()
        .map(|l| {
            let (meta, path) = l.split_once('\t').expect("tab");
            (meta.split(' ').next().expect("mode"), path)
        })
        .collect();
    assert_eq!(
        modes,
        [
            ("100644", "a.txt"),
            ("120000", "d/up"),
            ("120000", "link"),
            ("100755", "run.sh")
        ]
    );
    assert_eq!(f.git(&repo, &["show", "codefleet/modes:link"]), "a.txt");
}

#[test]
fn a_bare_repository_runs_shell_steps_too() {
    let f = Fixture::new();
    let src = f.repo("src", &[("a.txt", "x\n")]);
    let bare = f.path("bare.git");
    f.git(
        f.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            src.to_str().expect("utf8"),
            bare.to_str().expect("utf8"),
        ],
    );
    let p = f.pipeline("version: 1\nname: b\ntasks:\n  - name: add\n    run: echo y >> a.txt\n");
    let out = f.run(
        f.dir.path(),
        &[
            "run",
            p.to_str().expect("utf8"),
            "--repo",
            bare.to_str().expect("utf8"),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(f.git(&bare, &["show", "codefleet/b:a.txt"]), "x\ny\n");
    let list = f.git(&bare, &["worktree", "list", "--porcelain"]);
    assert_eq!(list.matches("worktree ").count(), 1, "{list}");
}

#[test]
fn the_command_sees_a_linked_worktree_even_when_git_dir_is_set_around_codefleet() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    let p = f.pipeline(
        "version: 1\nname: gd\ntasks:\n  - name: where\n    run: git rev-parse --git-dir > gitdir.txt; git rev-parse HEAD > head.txt\n",
    );
    // As inside a git hook.
    let mut cmd = f.command(&repo, &["run", p.to_str().expect("utf8")]);
    cmd.env("GIT_DIR", repo.join(".git"));
    let out = cmd.output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let gitdir = f.git(&repo, &["show", "codefleet/gd:gitdir.txt"]);
    assert!(gitdir.contains("/.git/worktrees/codefleet-"), "{gitdir}");
    let head = f.git(&repo, &["rev-parse", "main"]);
    assert_eq!(f.git(&repo, &["show", "codefleet/gd:head.txt"]), head);
}

#[test]
fn a_cwd_that_is_missing_or_leaves_through_a_symlink_fails_the_task() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "x\n")]);
    std::os::unix::fs::symlink("/tmp", repo.join("out")).expect("symlink");
    f.git(&repo, &["add", "out"]);
    f.git(&repo, &["commit", "-q", "-m", "link"]);
    let p = f.pipeline(
        "version: 1\nname: cwd\ntasks:\n  - name: missing\n    run: touch here\n    cwd: nope\n  - name: escape\n    run: touch here\n    cwd: out\n",
    );
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    for name in ["missing", "escape"] {
        let t = task(&report, name);
        assert_eq!(t["status"], "failed");
        assert!(
            t["message"]
                .as_str()
                .is_some_and(|m| m.contains("is not a directory inside the repository")),
            "{t:#}"
        );
        assert!(t.get("command").is_none(), "nothing ran: {t:#}");
    }
    assert_eq!(f.tip(&repo, "codefleet/cwd"), None);
}

#[test]
fn commands_a_model_suggests_are_reported_and_never_run() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "old\n")]);
    let marker = f.path("ran");
    let reply = format!(
        "a.txt\n```\n<<<<<<< SEARCH\nold\n=======\nnew\n>>>>>>> REPLACE\n```\n\nThen run:\n\n```bash\ntouch {}\n```\n",
        marker.display()
    );
    let server = ModelServer::with_handler(move |_| Step::text(&reply));
    let p = f.pipeline(&format!(
        "version: 1\nname: sug\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff }}\ntasks:\n  - name: edit\n    files: [a.txt]\n    prompt: Make it new.\n",
        server.base_url()
    ));
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let t = task(&report, "edit");
    assert_eq!(t["status"], "changed");
    assert_eq!(
        t["suggested_commands"],
        serde_json::json!([format!("touch {}", marker.display())])
    );
    assert!(!marker.exists(), "a suggested command ran");
    assert_eq!(f.git(&repo, &["show", "codefleet/sug:a.txt"]), "new\n");
    let out = f.run(&repo, &["run", p.to_str().expect("utf8"), "--force"]);
    let summary = text(&out.stdout);
    assert!(
        summary.contains(&format!(
            "task `edit`: the model suggested these commands; codefleet does not run them:\n  $ touch {}\n",
            marker.display()
        )),
        "{summary}"
    );
    assert!(!marker.exists(), "a suggested command ran");
}

#[test]
fn a_check_whose_output_names_no_file_asks_no_model() {
    let f = Fixture::new();
    let server = ModelServer::with_handler(|_| Step::text("nothing"));
    let (repo, p) = breaking_pipeline(&f, &server.base_url(), 2);
    let yaml = std::fs::read_to_string(&p).expect("read");
    std::fs::write(
        &p,
        yaml.replace(
            "echo \"src/lib.txt:1: expected value = 1\"",
            "echo wrong value",
        ),
    )
    .expect("write");
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(server.requests().len(), 0, "nothing to show, nothing sent");
    let gate = task(&report, "gate");
    assert!(
        gate["message"].as_str().is_some_and(
            |m| m.contains("no fix round: the check's output names no file of the repository")
        ),
        "{gate:#}"
    );
    assert_eq!(gate["reverted"], serde_json::json!(["break it"]));
}

#[test]
fn a_token_a_command_prints_is_redacted_from_the_report_summary_and_journal() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("a.txt", "a\n")]);
    let token = format!("ghp_{}", "Zq7".repeat(12));
    let p = f.pipeline(&format!(
        "version: 1\nname: leak\ntasks:\n  - name: touch\n    replace: {{ find: a, with: b }}\n  - name: loud check\n    check: echo \"using $TOK\"; exit 1\n    on_fail: stop\n    env: {{ TOK: {token} }}\n"
    ));
    let (code, report) = f.run_json(&repo, &p, &[]);
    assert_eq!(code, 1);
    let json = report.to_string();
    assert!(!json.contains(&token), "{json}");
    assert!(json.contains("using [redacted]"), "{json}");
    let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
    let shown = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(!shown.contains(&token), "{shown}");
    for entry in std::fs::read_dir(repo.join(".git/codefleet/runs")).expect("journal") {
        let body = std::fs::read_to_string(entry.expect("entry").path()).expect("read");
        assert!(!body.contains(&token), "{body}");
    }
}
