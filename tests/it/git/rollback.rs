//! Rollback of journaled runs, and detecting commits on a run branch that codefleet did not make.

use codefleet::git::{CommitInfo, Oid, Repo, RunRecord, TaskRecord, Trailers, TreeChange};

use crate::support::fixture::Fixture;

const BRANCH: &str = "codefleet/p";

/// Does what a run does: one commit per task that changes something, on top of the base;
/// journals them, moves the branch (compare-and-swap on its previous tip) and journals the
/// run finished.
fn run(repo: &Repo, run_id: &str, tasks: &[(&str, Option<&str>)]) -> RunRecord {
    let base = repo.base(None).expect("base");
    let previous = repo.branch_tip(BRANCH).expect("tip");
    let mut record = RunRecord::new(run_id, "p", &base.rev, base.commit, BRANCH, previous);
    let mut parent = base.commit;
    for (name, content) in tasks {
        let commit = match content {
            Some(c) => repo
                .commit_changes(
                    parent,
                    &[TreeChange::write(format!("{name}.txt"), *c)],
                    &CommitInfo {
                        message: (*name).into(),
                        trailers: Trailers {
                            pipeline: "p".into(),
                            task: (*name).into(),
                            run: run_id.into(),
                            model: None,
                        },
                        time: Some(1_700_000_000),
                        ..CommitInfo::default()
                    },
                )
                .expect("commit"),
            None => None,
        };
        if let Some(c) = commit {
            parent = c;
        }
        record.tasks.push(TaskRecord {
            name: (*name).into(),
            commit,
            files_changed: commit
                .map(|_| vec![format!("{name}.txt")])
                .unwrap_or_default(),
            ..TaskRecord::default()
        });
    }
    if parent != base.commit {
        repo.journal().write(&record).expect("journal");
        repo.update_branch(BRANCH, parent, previous)
            .expect("branch");
    }
    record.finished_at = Some("2026-11-24T10:00:00Z".into());
    repo.journal().write(&record).expect("journal");
    record
}

fn tip(f: &Fixture) -> Option<String> {
    let out = f.git_out(
        f.root(),
        &[
            "rev-parse",
            "--verify",
            "-q",
            &format!("refs/heads/{BRANCH}"),
        ],
    );
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn rolling_back_a_run_that_created_the_branch_deletes_it() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let head = f.head();
    let r = run(
        &repo,
        "20261124T100000Z-000001",
        &[("one", Some("1")), ("two", Some("2"))],
    );
    assert_eq!(tip(&f), r.commits().last().map(Oid::to_string));
    let done = repo.rollback(&r.run_id, None).expect("rollback");
    assert_eq!(done.to, None);
    assert_eq!(tip(&f), None);
    assert_eq!(f.head(), head);
    let journaled = repo.journal().read(&r.run_id).expect("read");
    assert_eq!(journaled.rollbacks.len(), 1);
    assert_eq!(journaled.rollbacks[0].from, r.commits()[1]);
    assert_eq!(journaled.rollbacks[0].to, None);
    // Twice is nothing to do.
    assert_eq!(
        repo.rollback(&r.run_id, None).expect_err("again").code,
        "E215"
    );
}

#[test]
fn rolling_back_a_rerun_restores_the_previous_tip() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let first = run(&repo, "20261124T100000Z-000001", &[("one", Some("first"))]);
    let first_tip = first.commits()[0];
    let second = run(&repo, "20261124T110000Z-000002", &[("one", Some("second"))]);
    assert_eq!(second.previous_tip, Some(first_tip));
    // The first run cannot be rolled back while the second one's commits are on top.
    let err = repo
        .rollback(&first.run_id, None)
        .expect_err("second on top");
    assert_eq!(err.code, "E210");
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains(&second.run_id)),
        "{:?}",
        err.hint
    );
    repo.rollback(&second.run_id, None).expect("rollback");
    assert_eq!(tip(&f), Some(first_tip.to_string()));
    repo.rollback(&first.run_id, None).expect("then the first");
    assert_eq!(tip(&f), None);
}

#[test]
fn rolling_back_one_task_moves_to_its_parent() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let r = run(
        &repo,
        "20261124T100000Z-000001",
        &[
            ("one", Some("1")),
            ("quiet", None),
            ("two", Some("2")),
            ("three", Some("3")),
        ],
    );
    let c = r.commits();
    let done = repo
        .rollback(&r.run_id, Some("two"))
        .expect("rollback task");
    assert_eq!(done.to, Some(c[0]));
    assert_eq!(tip(&f), Some(c[0].to_string()));
    // The task and those after it are gone; by number too.
    assert_eq!(
        repo.rollback(&r.run_id, Some("4")).expect_err("gone").code,
        "E215"
    );
    assert_eq!(
        repo.rollback(&r.run_id, Some("quiet"))
            .expect_err("no commit")
            .code,
        "E215"
    );
    let err = repo.rollback(&r.run_id, Some("nope")).expect_err("unknown");
    assert!(
        err.message.contains("`one`, `quiet`, `two`, `three`"),
        "{}",
        err.message
    );
    // Rolling back task 1 then puts the branch on the base.
    repo.rollback(&r.run_id, Some("1")).expect("first task");
    assert_eq!(tip(&f), Some(r.base.to_string()));
    // And the whole run afterwards deletes the branch the run created.
    repo.rollback(&r.run_id, None).expect("whole");
    assert_eq!(tip(&f), None);
    assert_eq!(
        repo.journal()
            .read(&r.run_id)
            .expect("read")
            .rollbacks
            .len(),
        3
    );
}

#[test]
fn rollback_is_refused_when_the_branch_moved() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let r = run(&repo, "20261124T100000Z-000001", &[("one", Some("1"))]);
    // The user adds a commit of their own on the run branch.
    let wt = f.sibling("wt");
    f.git_here(&["worktree", "add", "-q", wt.to_str().expect("utf8"), BRANCH]);
    std::fs::write(wt.join("mine.txt"), "mine\n").expect("write");
    f.git_in(&wt, &["add", "mine.txt"]);
    f.git_in(&wt, &["commit", "-q", "-m", "mine"]);
    f.git_here(&["worktree", "remove", wt.to_str().expect("utf8")]);
    let users = tip(&f).expect("tip");
    let err = repo.rollback(&r.run_id, None).expect_err("moved");
    assert_eq!(err.code, "E210");
    assert!(err.message.contains(&users[..12]), "{}", err.message);
    assert_eq!(
        repo.rollback(&r.run_id, Some("one"))
            .expect_err("moved")
            .code,
        "E210"
    );
    assert_eq!(tip(&f), Some(users));
    assert!(
        repo.journal()
            .read(&r.run_id)
            .expect("read")
            .rollbacks
            .is_empty()
    );
}

#[test]
fn rollback_of_an_unknown_run_is_e209() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    assert_eq!(
        f.open()
            .rollback("20261124T100000Z-000001", None)
            .expect_err("none")
            .code,
        "E209"
    );
}

#[test]
fn foreign_commits_are_those_no_run_made() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    assert!(repo.foreign_commits(BRANCH).expect("no branch").is_empty());
    run(
        &repo,
        "20261124T100000Z-000001",
        &[("one", Some("1")), ("two", Some("2"))],
    );
    assert!(repo.foreign_commits(BRANCH).expect("ours").is_empty());
    // A re-run from a newer base: still only codefleet's commits.
    f.write("a", b"2\n");
    f.commit_all("newer base");
    run(&repo, "20261124T110000Z-000002", &[("one", Some("1"))]);
    assert!(repo.foreign_commits(BRANCH).expect("ours").is_empty());
    // Someone commits on top.
    let tip_before = tip(&f).expect("tip");
    let tree = f.git_here(&["rev-parse", &format!("{tip_before}^{{tree}}")]);
    let theirs = f.git_here(&["commit-tree", &tree, "-p", &tip_before, "-m", "hand-made"]);
    f.git_here(&[
        "update-ref",
        &format!("refs/heads/{BRANCH}"),
        &theirs,
        &tip_before,
    ]);
    let foreign: Vec<String> = repo
        .foreign_commits(BRANCH)
        .expect("foreign")
        .iter()
        .map(Oid::to_string)
        .collect();
    assert_eq!(foreign, [theirs]);
    // A branch codefleet never journaled is all foreign.
    f.git_here(&["branch", "someone-elses", "main"]);
    assert_eq!(repo.foreign_commits("someone-elses").expect("all").len(), 2);
}

#[test]
fn rollback_refuses_to_move_a_checked_out_run_branch() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let r = run(&repo, "20261124T100000Z-000001", &[("one", Some("1"))]);
    repo.checkout_branch(BRANCH).expect("checkout");
    let err = repo.rollback(&r.run_id, None).expect_err("checked out");
    assert_eq!(err.code, "E213");
    assert_eq!(tip(&f), Some(r.commits()[0].to_string()));
    // The lock taken for the rollback was released.
    assert!(repo.lock().is_ok());
}

#[test]
fn a_rollback_killed_after_moving_the_branch_is_finished_by_the_next_one() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let r = run(&repo, "20261124T100000Z-000009", &[("one", Some("1"))]);
    // The branch is gone, as a killed rollback leaves it, but the journal does not say so.
    f.git_here(&["branch", "-D", "-q", BRANCH]);
    let done = repo
        .rollback(&r.run_id, None)
        .expect("finishes the rollback");
    assert_eq!((done.from, done.to), (r.commits()[0], None));
    assert_eq!(tip(&f), None);
    let journaled = repo.journal().read(&r.run_id).expect("read");
    assert_eq!(journaled.rollbacks.len(), 1);
    assert_eq!(
        repo.rollback(&r.run_id, None).expect_err("again").code,
        "E215"
    );
}

#[test]
fn a_run_killed_before_it_moved_the_branch_has_nothing_to_roll_back() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let mut r = run(&repo, "20261124T100000Z-000010", &[("one", Some("1"))]);
    // As a kill between journaling the commits and moving the branch leaves it: the record
    // unfinished, no branch.
    f.git_here(&["branch", "-D", "-q", BRANCH]);
    r.finished_at = None;
    repo.journal().write(&r).expect("journal");
    let err = repo.rollback(&r.run_id, None).expect_err("nothing moved");
    assert_eq!(err.code, "E215");
    assert!(
        err.message.contains("stopped before it moved the branch"),
        "{}",
        err.message
    );
    // The same branch state after a finished run is a rollback to finish, as above.
    r.finished_at = Some("2026-11-24T10:00:00Z".into());
    repo.journal().write(&r).expect("journal");
    assert!(repo.rollback(&r.run_id, None).is_ok());
}
