//! The run branch of one run (`RunBranch`): begin → finish writes the journal, moves the
//! branch and finishes the record; a branch someone moved meanwhile is refused with nothing
//! lost; abort and dry runs leave branch and journal alone; the push lease is what was last
//! pushed. `git` is the witness.

use codefleet::git::{
    BranchLease, CommitInfo, Oid, Repo, RunBranch, RunStart, TaskRecord, Trailers, TreeChange,
};

use crate::support::fixture::Fixture;

const BRANCH: &str = "codefleet/p";

fn start(run_id: &str, writes: bool) -> RunStart<'_> {
    RunStart {
        run_id,
        pipeline: "p",
        writes,
        force: false,
        remote_checked: false,
    }
}

/// A codefleet commit on `parent` writing `a`.
fn commit_on(repo: &Repo, parent: Oid, content: &str, run: &str) -> Oid {
    let info = CommitInfo {
        message: "t".into(),
        trailers: Trailers {
            pipeline: "p".into(),
            task: "t".into(),
            run: run.into(),
            model: None,
        },
        time: Some(1_700_000_000),
        ..CommitInfo::default()
    };
    repo.commit_changes(parent, &[TreeChange::write("a", content)], &info)
        .expect("commit")
        .expect("some")
}

fn task(commit: Option<Oid>) -> TaskRecord {
    TaskRecord {
        name: "t".into(),
        commit,
        files_changed: vec!["a".into()],
        ..TaskRecord::default()
    }
}

fn journal_file(f: &Fixture, run_id: &str) -> std::path::PathBuf {
    f.root()
        .join(".git/codefleet/runs")
        .join(format!("{run_id}.json"))
}

fn tip(f: &Fixture) -> Option<String> {
    let out = f.git_out(f.root(), &["rev-parse", "--verify", "-q", BRANCH]);
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[test]
fn begin_then_finish_journals_moves_the_branch_and_releases_the_lock() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let mut branch = RunBranch::begin(&repo, BRANCH, &base, &start("r1", true)).expect("begin");
    assert!(f.root().join(".git/codefleet/lock").exists(), "locked");
    assert_eq!(branch.previous_tip(), None);
    let ours = commit_on(&repo, base.commit, "2\n", "r1");
    branch.record_task(task(Some(ours)));
    let landed = branch.finish(ours, false);
    assert!(landed.error.is_none(), "{:?}", landed.error);
    assert_eq!(landed.tip, Some(ours));
    assert_eq!(tip(&f), Some(ours.to_string()));
    assert!(!f.root().join(".git/codefleet/lock").exists(), "released");
    let record = repo.journal().read("r1").expect("journal");
    assert_eq!(record.tip, Some(ours));
    assert_eq!(record.base, base.commit);
    assert_eq!(record.previous_tip, None);
    assert_eq!(record.commits(), [ours]);
    assert!(record.finished_at.is_some());
    assert_eq!(record.sequence, 1);
    // The user's HEAD and working tree stay where they were.
    assert_eq!(f.git_here(&["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(f.read("a"), b"1\n");
}

#[test]
fn a_branch_moved_by_someone_else_is_refused_and_nothing_is_lost() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let mut branch = RunBranch::begin(&repo, BRANCH, &base, &start("r1", true)).expect("begin");
    let ours = commit_on(&repo, base.commit, "2\n", "r1");
    branch.record_task(task(Some(ours)));
    // Someone else creates the branch while the run works.
    f.write("a", b"theirs\n");
    let theirs = f.commit_all("theirs");
    f.git_here(&["branch", BRANCH, &theirs]);
    let landed = branch.finish(ours, false);
    let error = landed.error.expect("refused");
    assert_eq!(error.code, "E205", "{}", error.message);
    assert_eq!(landed.tip, None, "the run's branch never moved");
    assert_eq!(tip(&f), Some(theirs.clone()), "their commit stays");
    assert!(
        !journal_file(&f, "r1").exists(),
        "no record of commits that never landed"
    );
    assert_eq!(f.git_here(&["cat-file", "-t", &ours.to_string()]), "commit");
    assert!(!f.root().join(".git/codefleet/lock").exists(), "released");
}

#[test]
fn abort_leaves_the_branch_and_the_journal_where_they_were() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let mut first = RunBranch::begin(&repo, BRANCH, &base, &start("r1", true)).expect("begin");
    let one = commit_on(&repo, base.commit, "2\n", "r1");
    first.record_task(task(Some(one)));
    assert!(first.finish(one, false).error.is_none());

    let mut second = RunBranch::begin(&repo, BRANCH, &base, &start("r2", true)).expect("again");
    assert_eq!(second.previous_tip(), Some(one));
    let two = commit_on(&repo, base.commit, "3\n", "r2");
    second.record_task(task(Some(two)));
    second.abort();
    assert_eq!(tip(&f), Some(one.to_string()));
    assert!(!journal_file(&f, "r2").exists());
    assert!(journal_file(&f, "r1").exists());
    // The lock went with it: a third run starts.
    RunBranch::begin(&repo, BRANCH, &base, &start("r3", true)).expect("lock released");
}

#[test]
fn a_held_lock_refuses_a_second_run_and_a_dry_run_takes_none() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let held = RunBranch::begin(&repo, BRANCH, &base, &start("r1", true)).expect("begin");
    let error = RunBranch::begin(&repo, BRANCH, &base, &start("r2", true)).expect_err("held");
    assert_eq!(error.code, "E212", "{}", error.message);
    // A dry run reads only: no lock, and finishing moves nothing.
    let mut dry = RunBranch::begin(&repo, BRANCH, &base, &start("r3", false)).expect("dry");
    let ours = commit_on(&repo, base.commit, "2\n", "r3");
    dry.record_task(task(Some(ours)));
    let landed = dry.finish(ours, false);
    assert!(landed.error.is_none());
    assert_eq!(landed.tip, None);
    assert_eq!(tip(&f), None);
    assert!(!journal_file(&f, "r3").exists());
    drop(held);
}

#[test]
fn a_run_that_changes_nothing_creates_no_branch_and_a_dropped_commit_is_journaled_as_such() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let branch = RunBranch::begin(&repo, BRANCH, &base, &start("r1", true)).expect("begin");
    let landed = branch.finish(base.commit, false);
    assert!(landed.error.is_none());
    assert_eq!(landed.tip, None);
    assert_eq!(tip(&f), None);
    assert!(!journal_file(&f, "r1").exists());

    // A reverted task's commit never reaches the branch; the record says why.
    let mut branch = RunBranch::begin(&repo, BRANCH, &base, &start("r2", true)).expect("begin");
    let gone = commit_on(&repo, base.commit, "2\n", "r2");
    branch.record_task(task(Some(gone)));
    branch.drop_commit(gone, Some("reverted: check `c` failed".into()));
    branch.note("interrupted", true.into());
    let kept = commit_on(&repo, base.commit, "3\n", "r2");
    branch.record_task(task(Some(kept)));
    assert!(branch.finish(kept, false).error.is_none());
    let record = repo.journal().read("r2").expect("journal");
    assert_eq!(record.commits(), [kept]);
    assert_eq!(
        record.tasks[0].error.as_deref(),
        Some("reverted: check `c` failed")
    );
    assert!(record.tasks[0].files_changed.is_empty());
    assert_eq!(record.extra["interrupted"], true);
    assert_eq!(tip(&f), Some(kept.to_string()));
}

#[test]
fn the_push_lease_is_what_was_last_pushed_not_what_a_fetch_brought() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let url = "https://user:secret@example.com/r.git";
    let lease = BranchLease::new(&repo, BRANCH, url);
    let ours = commit_on(&repo, base.commit, "2\n", "r1");
    assert_eq!(lease.expected("p", ours, false).expect("lease"), None);
    lease.pushed(ours).expect("record");
    assert_eq!(lease.expected("p", ours, false).expect("lease"), Some(ours));
    // Someone pushed a commit of their own, and a fetch brought it: the lease stays ours, so
    // the push is refused rather than overwriting it; --force leases what was fetched.
    f.write("a", b"theirs\n");
    let theirs = f.commit_all("theirs");
    f.git_here(&[
        "update-ref",
        &format!("refs/remotes/origin/{BRANCH}"),
        &theirs,
    ]);
    assert_eq!(lease.expected("p", ours, false).expect("lease"), Some(ours));
    let fetched = Oid::from_str(&theirs).expect("id");
    assert_eq!(
        lease.expected("p", ours, true).expect("lease"),
        Some(fetched)
    );
    // The record names the remote without its credentials.
    let pushed = std::fs::read_dir(f.root().join(".git/codefleet/pushed"))
        .expect("pushed dir")
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .collect::<String>();
    assert!(pushed.contains(&ours.to_string()), "{pushed}");
    assert!(!pushed.contains("secret"), "{pushed}");
}
