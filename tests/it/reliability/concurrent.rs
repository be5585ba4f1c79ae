//! Two codefleet processes on one repository: runs started together, a run beside a rollback
//! — one waits its turn or stops with E212 naming the holder, never interleaving; and the
//! lock's holders: live, dead, on another host, unreadable, a takeover guard or temporary file
//! left by a killed process.

use std::path::Path;
use std::process::{Child, Output, Stdio};

use crate::support::fixture::{Fixture, said, snapshot};

pub const RACES: usize = 6;
pub const LOCK_CASES: usize = 8;

const FILES: usize = 300;
const PIPELINE: &str = "version: 1\nname: c\ntasks:\n  - name: one\n    replace: { find: alpha, with: beta }\n  - name: two\n    replace: { find: beta, with: gamma }\n";

fn repo(f: &Fixture, name: &str) -> std::path::PathBuf {
    let files: Vec<(String, Vec<u8>)> = (0..FILES)
        .map(|i| (format!("src/f{i}.txt"), format!("alpha {i}\n").into_bytes()))
        .collect();
    let refs: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(p, b)| (p.as_str(), b.as_slice()))
        .collect();
    f.repo_bytes(name, &refs)
}

fn spawn(f: &Fixture, repo: &Path, args: &[&str]) -> Child {
    f.binary(repo, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// Exit 0, or E212 naming the holder by pid and host.
fn ran_or_waited(out: &Output, case: &str) -> bool {
    match out.status.code() {
        Some(0) => true,
        _ => {
            let text = said(out);
            assert!(
                (text.contains("E212") || text.contains("locked by another codefleet"))
                    && text.contains("pid ")
                    && text.contains("on host"),
                "{case}: neither ran nor named the holder: {text}"
            );
            false
        }
    }
}

/// The branch holds the two task commits, each complete, and nothing is left locked.
fn complete(f: &Fixture, repo: &Path, case: &str) {
    let fsck = f.git_out(repo, &["fsck", "--full", "--strict", "--no-progress"]);
    assert!(fsck.status.success(), "{case}: {}", said(&fsck));
    let log = f.git(repo, &["log", "--format=%s", "main..codefleet/c"]);
    assert_eq!(log, "two\none\n", "{case}");
    let gamma = f.git(repo, &["grep", "-l", "gamma", "codefleet/c", "--", "src"]);
    assert_eq!(gamma.lines().count(), FILES, "{case}");
    assert!(
        !repo.join(".git/codefleet/lock").exists(),
        "{case}: lock left"
    );
}

#[test]
fn runs_and_rollbacks_on_one_repository_never_interleave() {
    let mut tried = 0;
    // Two runs started together, four times.
    for trial in 0..4 {
        let case = format!("two runs, trial {trial}");
        let f = Fixture::new();
        let repo = repo(&f, "svc");
        let p = f.file("p.yml", PIPELINE.as_bytes());
        let before = snapshot(&repo);
        let args = ["run", p.to_str().expect("utf8")];
        let (a, b) = (spawn(&f, &repo, &args), spawn(&f, &repo, &args));
        let (a, b) = (
            a.wait_with_output().expect("a"),
            b.wait_with_output().expect("b"),
        );
        let ran = [ran_or_waited(&a, &case), ran_or_waited(&b, &case)];
        assert!(ran.contains(&true), "{case}: neither ran");
        complete(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}");
        tried += 1;
    }
    // A run beside a rollback of the run before it, twice: the rollback either finds the
    // branch as the first run left it, or moved by the second (E210), or waits (E212).
    for trial in 0..2 {
        let case = format!("run and rollback, trial {trial}");
        let f = Fixture::new();
        let repo = repo(&f, "svc");
        let p = f.file("p.yml", PIPELINE.as_bytes());
        let p_str = p.to_str().expect("utf8");
        let first = f.run(&repo, &["--json", "run", p_str]);
        assert_eq!(first.status.code(), Some(0), "{}", said(&first));
        let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
        let run_id = report["run_id"].as_str().expect("id").to_string();
        let before = snapshot(&repo);
        let run = spawn(&f, &repo, &["run", p_str]);
        let back = spawn(&f, &repo, &["rollback", &run_id]);
        let (run, back) = (
            run.wait_with_output().expect("run"),
            back.wait_with_output().expect("rollback"),
        );
        ran_or_waited(&run, &case);
        let rolled = back.status.code() == Some(0);
        if !rolled {
            let text = said(&back);
            assert!(
                text.contains("E212")
                    || text.contains("E210")
                    || text.contains("locked by another"),
                "{case}: {text}"
            );
        }
        let fsck = f.git_out(&repo, &["fsck", "--full", "--strict", "--no-progress"]);
        assert!(fsck.status.success(), "{case}");
        // Whatever the order, the branch is absent or complete, never half of each.
        if f.tip(&repo, "codefleet/c").is_some() {
            complete(&f, &repo, &case);
        }
        assert_eq!(snapshot(&repo), before, "{case}");
        tried += 1;
    }
    assert_eq!(tried, RACES);
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .expect("hostname")
}

fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let pid = child.id();
    child.wait().expect("wait");
    pid
}

/// Field 22 of `/proc/PID/stat`.
fn start_time(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    let rest = &stat[stat.rfind(')').expect(")") + 1..];
    rest.split_whitespace()
        .nth(19)
        .expect("field")
        .parse()
        .expect("number")
}

fn holder(pid: u32, host: &str, start: Option<u64>) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "pid": pid, "host": host, "started": "2026-11-24T00:00:00Z", "process_start": start
    }))
    .expect("json")
}

#[test]
fn lock_holders_are_named_and_stale_locks_are_cleaned() {
    // A live process to hold locks: this test's own child, so its pid and start time are real.
    let mut live = std::process::Command::new("sleep")
        .arg("600")
        .spawn()
        .expect("sleep");
    let live_pid = live.id();
    let live_start = start_time(live_pid);
    let dead = dead_pid();
    let here = host();
    // (name, files put in .git/codefleet, the command, whether it runs)
    type Files<'a> = Vec<(&'a str, Vec<u8>)>;
    let cases: [(&str, Files, &str, bool); LOCK_CASES] = [
        (
            "a live holder",
            vec![("lock", holder(live_pid, &here, Some(live_start)))],
            "run",
            false,
        ),
        (
            "a live holder, rollback",
            vec![("lock", holder(live_pid, &here, Some(live_start)))],
            "rollback",
            false,
        ),
        (
            "a holder on another host",
            vec![("lock", holder(1, "build-agent-7", None))],
            "run",
            false,
        ),
        (
            "a dead holder",
            vec![("lock", holder(dead, &here, None))],
            "run",
            true,
        ),
        (
            "a reused pid (another start time)",
            vec![("lock", holder(live_pid, &here, Some(live_start + 1)))],
            "run",
            true,
        ),
        (
            "an unreadable lock",
            vec![("lock", b"\0\0garbage".to_vec())],
            "run",
            true,
        ),
        (
            "a takeover guard left by a killed process",
            vec![
                ("lock", holder(dead, &here, None)),
                ("lock.takeover", holder(dead, &here, None)),
            ],
            "run",
            true,
        ),
        (
            "temporary lock files of killed processes",
            vec![
                (".lock-4000000-abc", b"x".to_vec()),
                (".lock-4000001-def", Vec::new()),
            ],
            "run",
            true,
        ),
    ];
    let mut tried = 0;
    for (name, files, command, runs) in cases {
        let f = Fixture::new();
        let repo = repo(&f, "svc");
        let p = f.file("p.yml", PIPELINE.as_bytes());
        let p_str = p.to_str().expect("utf8");
        let mut run_id = String::new();
        if command == "rollback" {
            let first = f.run(&repo, &["--json", "run", p_str]);
            let report: serde_json::Value = serde_json::from_slice(&first.stdout).expect("json");
            run_id = report["run_id"].as_str().expect("id").to_string();
        }
        let dir = repo.join(".git/codefleet");
        std::fs::create_dir_all(&dir).expect("dir");
        for (file, bytes) in &files {
            std::fs::write(dir.join(file), bytes).expect("write");
        }
        let tip = f.tip(&repo, "codefleet/c");
        let out = match command {
            "run" => f.run(&repo, &["run", p_str]),
            _ => f.run(&repo, &["rollback", &run_id]),
        };
        if runs {
            assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
            complete(&f, &repo, name);
            let left: Vec<String> = std::fs::read_dir(&dir)
                .expect("dir")
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("lock") || n.starts_with(".lock"))
                .collect();
            assert_eq!(left, Vec::<String>::new(), "{name}: stale files stay");
        } else {
            assert_ne!(out.status.code(), Some(0), "{name}");
            let text = said(&out);
            assert!(
                text.contains("E212") || text.contains("locked by another codefleet"),
                "{name}: {text}"
            );
            let who = if name.contains("another host") {
                "pid 1 on host `build-agent-7`".to_string()
            } else {
                format!("pid {live_pid} on host `{here}`")
            };
            assert!(
                text.contains(&who),
                "{name}: the holder is not named: {text}"
            );
            assert_eq!(f.tip(&repo, "codefleet/c"), tip, "{name}: the branch moved");
            assert!(dir.join("lock").exists(), "{name}: a live lock was removed");
        }
        tried += 1;
    }
    let _ = live.kill();
    let _ = live.wait();
    assert_eq!(tried, LOCK_CASES);
}
