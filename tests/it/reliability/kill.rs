//! SIGKILL at many points of a real run (and of a rollback): afterwards `git fsck --full` is
//! clean, the run branch is absent or holds only complete task commits, the user's working
//! tree, index and HEAD are byte for byte as before, no lock blocks the next run, and a
//! re-run and `codefleet rollback` succeed. The kill delays spread over the time a first,
//! uninterrupted run took; where each kill lands is wherever the run happened to be.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::fixture::{Fixture, said, snapshot};

pub const KILL_POINTS: usize = 12;
pub const ROLLBACK_KILL_POINTS: usize = 5;
/// The renames strace can kill a run at: the journal's writes, before the branch moves and
/// after, and the moves of each task's pack of blobs into place (the pack, then its index).
/// strace counts a syscall per thread, so with `--jobs 1` these are the renames of the thread
/// that makes the most; an uninterrupted run's renames of all threads are at least as many.
pub const RENAME_KILL_POINTS: usize = 6;

const FILES: usize = 500;
const TASKS: [(&str, &str); 4] = [
    ("one", "beta"),
    ("two", "gamma"),
    ("three", "delta"),
    ("four", "shell"),
];
/// Three replace tasks and a shell step, which runs in a temporary linked worktree.
const PIPELINE: &str = "version: 1\nname: k\ntasks:\n  - name: one\n    replace: { find: alpha, with: beta }\n  - name: two\n    replace: { find: beta, with: gamma }\n  - name: three\n    replace: { find: gamma, with: delta }\n  - name: four\n    run: \"for f in src/*.txt; do echo shell >> $f; done\"\n";

/// A repository of many files, with an uncommitted edit and a staged one the run must not
/// touch.
fn template(f: &Fixture) -> PathBuf {
    let dir = f.path("template");
    std::fs::create_dir_all(dir.join("src")).expect("mkdir");
    f.git(&dir, &["init", "-q", "-b", "main"]);
    for i in 0..FILES {
        std::fs::write(
            dir.join(format!("src/f{i:04}.txt")),
            format!("alpha {i}\n{}\n", "x".repeat(i % 200)),
        )
        .expect("write");
    }
    f.git(&dir, &["add", "-A"]);
    f.git(&dir, &["commit", "-q", "-m", "init"]);
    std::fs::write(dir.join("src/f0001.txt"), "my uncommitted work\n").expect("dirty");
    std::fs::write(dir.join("staged.txt"), "staged\n").expect("staged");
    f.git(&dir, &["add", "staged.txt"]);
    dir
}

fn copy(f: &Fixture, from: &Path, name: &str) -> PathBuf {
    let to = f.path(name);
    let ok = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(&to)
        .status()
        .expect("cp");
    assert!(ok.success());
    to
}

/// The task commits on the branch, oldest first, each checked complete: its subject is the
/// next task and every file holds that task's word.
fn check_branch(f: &Fixture, repo: &Path, case: &str) -> usize {
    let Some(tip) = f.tip(repo, "codefleet/k") else {
        return 0;
    };
    let subjects = f.git(
        repo,
        &[
            "log",
            "--reverse",
            "--format=%H %s",
            &format!("main..{tip}"),
        ],
    );
    let mut n = 0;
    for (i, line) in subjects.lines().enumerate() {
        let (commit, subject) = line.split_once(' ').expect("hash and subject");
        let (task, word) = TASKS
            .get(i)
            .unwrap_or_else(|| panic!("{case}: extra commit {line}"));
        assert_eq!(subject, *task, "{case}: commits out of order");
        let with = f.git(repo, &["grep", "-l", word, commit, "--", "src"]);
        assert_eq!(
            with.lines().count(),
            FILES,
            "{case}: task `{task}` is incomplete in {commit}"
        );
        n += 1;
    }
    n
}

fn fsck(f: &Fixture, repo: &Path, case: &str) {
    let out = f.git_out(repo, &["fsck", "--full", "--strict", "--no-progress"]);
    assert!(out.status.success(), "{case}: fsck: {}", said(&out));
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        !text.contains("error") && !text.contains("missing") && !text.contains("broken"),
        "{case}: fsck: {text}"
    );
}

fn run_json(f: &Fixture, repo: &Path, p: &Path) -> serde_json::Value {
    let out = f.run(repo, &["--json", "run", p.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    serde_json::from_slice(&out.stdout).expect("report")
}

/// The temporary files codefleet may leave behind in `.git/codefleet` and the lock.
fn leftovers(repo: &Path) -> Vec<String> {
    let dir = repo.join(".git/codefleet");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("lock") || n.starts_with(".lock"))
        .chain(worktrees(repo))
        .chain(
            repo.join(".git/refs/heads/codefleet/k.lock")
                .exists()
                .then(|| "refs/heads/codefleet/k.lock".to_string()),
        )
        .collect()
}

/// Temporary worktrees, checked out or registered.
fn worktrees(repo: &Path) -> Vec<String> {
    ["codefleet/worktrees", "worktrees"]
        .iter()
        .flat_map(|d| {
            std::fs::read_dir(repo.join(".git").join(d))
                .into_iter()
                .flatten()
        })
        .flatten()
        .map(|e| format!("worktree {}", e.path().display()))
        .collect()
}

#[test]
fn sigkill_at_any_point_of_a_run_loses_nothing_and_the_next_run_and_rollback_work() {
    let f = Fixture::new();
    let template = template(&f);
    let p = f.file("p.yml", PIPELINE.as_bytes());
    let p_str = p.to_str().expect("utf8");

    // A first, uninterrupted run gives the time scale for the kill points.
    let timed = copy(&f, &template, "timed");
    let started = Instant::now();
    let out = f.run(&timed, &["run", p_str, "--jobs", "1"]);
    let whole = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    assert_eq!(check_branch(&f, &timed, "timed run"), TASKS.len());

    let mut tried = 0;
    let mut landed = [0usize; TASKS.len() + 1];
    for k in 0..KILL_POINTS {
        let case = format!("kill point {k}/{KILL_POINTS}");
        let repo = copy(&f, &template, &format!("k{k}"));
        let before = snapshot(&repo);
        let delay = whole.mul_f64(k as f64 / KILL_POINTS as f64 * 1.1);
        let mut child = f
            .binary(&repo, &["run", p_str, "--jobs", "1"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(delay);
        // `Child::kill` is SIGKILL on Unix: no handler, no cleanup.
        let _ = child.kill();
        let _ = child.wait();

        fsck(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}: the user's files changed");
        landed[check_branch(&f, &repo, &case)] += 1;

        // No stale lock or temporary file blocks the next run, which completes the branch.
        let tip_before = f.tip(&repo, "codefleet/k");
        let report = run_json(&f, &repo, &p);
        assert_eq!(
            check_branch(&f, &repo, &case),
            TASKS.len(),
            "{case}: re-run"
        );
        assert_eq!(
            leftovers(&repo),
            Vec::<String>::new(),
            "{case}: left behind"
        );
        assert_eq!(
            snapshot(&repo),
            before,
            "{case}: the re-run changed the user's files"
        );
        let runs = f.run(&repo, &["runs"]);
        assert_eq!(runs.status.code(), Some(0), "{case}: {}", said(&runs));

        // And its rollback works: back to where the killed run left the branch (a re-run
        // that found the branch complete made no commits, and has nothing to roll back).
        let run_id = report["run_id"].as_str().expect("run id");
        let moved = f.tip(&repo, "codefleet/k") != tip_before;
        let back = f.run(&repo, &["rollback", run_id]);
        if moved {
            assert_eq!(back.status.code(), Some(0), "{case}: {}", said(&back));
            assert_eq!(f.tip(&repo, "codefleet/k"), tip_before, "{case}");
        } else {
            assert_eq!(back.status.code(), Some(2), "{case}: {}", said(&back));
            assert!(said(&back).contains("E215"), "{case}: {}", said(&back));
        }
        fsck(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}");
        tried += 1;
    }
    assert_eq!(tried, KILL_POINTS);
    eprintln!("kill points by complete task commits on the branch: {landed:?}");
}

#[test]
fn sigkill_during_a_rollback_leaves_the_branch_whole_and_a_second_rollback_works() {
    let f = Fixture::new();
    let template = template(&f);
    let p = f.file("p.yml", PIPELINE.as_bytes());
    // One run in the template; each case rolls back a copy of it.
    let report = run_json(&f, &template, &p);
    let run_id = report["run_id"].as_str().expect("run id").to_string();
    let timed = copy(&f, &template, "timed");
    let started = Instant::now();
    let out = f.run(&timed, &["rollback", &run_id]);
    let whole = started.elapsed().max(Duration::from_millis(5));
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));

    let mut tried = 0;
    for k in 0..ROLLBACK_KILL_POINTS {
        let case = format!("rollback kill point {k}/{ROLLBACK_KILL_POINTS}");
        let repo = copy(&f, &template, &format!("r{k}"));
        let before = snapshot(&repo);
        let mut child = f
            .binary(&repo, &["rollback", &run_id])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(whole.mul_f64(k as f64 / ROLLBACK_KILL_POINTS as f64));
        let _ = child.kill();
        let _ = child.wait();
        fsck(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}");
        // All three commits, or none: the branch is deleted or untouched.
        let n = check_branch(&f, &repo, &case);
        assert!(n == 0 || n == TASKS.len(), "{case}: {n} commits");
        let again = f.run(&repo, &["rollback", &run_id]);
        let stderr = String::from_utf8_lossy(&again.stderr);
        assert!(
            again.status.code() == Some(0)
                || (again.status.code() == Some(2) && stderr.contains("already rolled back")),
            "{case}: {}",
            said(&again)
        );
        assert_eq!(f.tip(&repo, "codefleet/k"), None, "{case}");
        assert_eq!(leftovers(&repo), Vec::<String>::new(), "{case}");
        tried += 1;
    }
    assert_eq!(tried, ROLLBACK_KILL_POINTS);
}

/// SIGKILL on entering each `rename` a run makes, injected by `strace` (where the timed kills
/// above land by chance, these land on the same step every time): the journal writes are
/// renames, so the run is caught just before it journals its commits and just after the
/// branch moved; so are the moves of each task's pack and index (500 changed files). After each: the user's files are as before, the branch holds only complete
/// task commits, the killed run rolls back (or has nothing to roll back), and a re-run
/// completes the branch.
#[test]
fn sigkill_at_every_rename_of_a_run_leaves_a_branch_the_next_run_accepts() {
    use std::os::unix::process::ExitStatusExt;
    let f = Fixture::new();
    let template = template(&f);
    let p = f.file("p.yml", PIPELINE.as_bytes());
    let p_str = p.to_str().expect("utf8");
    let renames = "rename,renameat,renameat2";
    // The witness: the renames an uninterrupted run makes, as strace sees them.
    let reference = copy(&f, &template, "reference");
    let trace = f.path("reference.trace");
    let mut strace = Command::new("strace");
    f.env(&mut strace);
    let out = strace
        .args(["-f", "-qq", "-o", trace.to_str().expect("utf8"), "-e"])
        .arg(format!("trace={renames}"))
        .args([env!("CARGO_BIN_EXE_codefleet"), "run", p_str, "--jobs", "1"])
        .current_dir(&reference)
        .output()
        .expect("run strace (the CI script installs it)");
    assert!(out.status.success(), "{}", said(&out));
    let made = std::fs::read_to_string(&trace)
        .expect("trace")
        .lines()
        .filter(|l| l.trim_end().ends_with("= 0"))
        .count();
    let packs = std::fs::read_dir(reference.join(".git/objects/pack"))
        .expect("pack dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".idx"))
        .count();
    assert!(
        packs >= 2 && made >= 2 + 2 * packs,
        "renames of a whole run: {made}"
    );
    let mut killed = 0;
    for k in 1..50 {
        let case = format!("kill at rename {k}");
        let repo = copy(&f, &template, &format!("s{k}"));
        let before = snapshot(&repo);
        let mut strace = Command::new("strace");
        f.env(&mut strace);
        let out = strace
            .args(["-f", "-qq", "-o", "/dev/null", "-e"])
            .arg(format!("trace={renames}"))
            .arg("-e")
            .arg(format!("inject={renames}:signal=KILL:when={k}"))
            .args([env!("CARGO_BIN_EXE_codefleet"), "run", p_str, "--jobs", "1"])
            .current_dir(&repo)
            .output()
            .expect("run strace (the CI script installs it)");
        if out.status.success() {
            break; // the run makes fewer than k renames
        }
        // strace dies of the signal that killed its tracee; anything else is strace failing.
        assert_eq!(out.status.signal(), Some(9), "{case}: {}", said(&out));
        killed += 1;

        fsck(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}: the user's files changed");
        let landed = check_branch(&f, &repo, &case);
        let runs = f.run(&repo, &["runs"]);
        assert_eq!(runs.status.code(), Some(0), "{case}: {}", said(&runs));
        let killed_run = String::from_utf8_lossy(&runs.stdout)
            .split_whitespace()
            .next()
            .map(str::to_string);
        if let Some(id) = killed_run {
            assert!(
                String::from_utf8_lossy(&runs.stdout).contains("(stopped before it finished)"),
                "{case}: {}",
                said(&runs)
            );
            let back = f.run(&repo, &["rollback", &id]);
            if landed > 0 {
                assert_eq!(back.status.code(), Some(0), "{case}: {}", said(&back));
                assert_eq!(f.tip(&repo, "codefleet/k"), None, "{case}");
            } else {
                assert_eq!(back.status.code(), Some(2), "{case}: {}", said(&back));
                assert!(said(&back).contains("E215"), "{case}: {}", said(&back));
            }
        } else {
            assert_eq!(
                landed, 0,
                "{case}: commits on the branch and no run journaled"
            );
        }

        run_json(&f, &repo, &p);
        assert_eq!(
            check_branch(&f, &repo, &case),
            TASKS.len(),
            "{case}: re-run"
        );
        assert_eq!(leftovers(&repo), Vec::<String>::new(), "{case}");
        fsck(&f, &repo, &case);
        assert_eq!(snapshot(&repo), before, "{case}");
    }
    assert_eq!(
        killed, RENAME_KILL_POINTS,
        "renames killed (of {made} in a whole run)"
    );
}
