//! Run branches: compare-and-swap updates, refusals, and the explicit checkout.

use codefleet::git::{BranchUpdate, CommitInfo, Oid, Repo, Trailers, TreeChange};

use crate::support::fixture::Fixture;

fn make_commit(repo: &Repo, content: &str) -> Oid {
    let base = repo.base(None).expect("base");
    let info = CommitInfo {
        message: "t".into(),
        trailers: Trailers {
            pipeline: "p".into(),
            task: "t".into(),
            run: "r".into(),
            model: None,
        },
        time: Some(1_700_000_000),
        ..CommitInfo::default()
    };
    repo.commit_changes(base.commit, &[TreeChange::write("a", content)], &info)
        .expect("commit")
        .expect("some")
}

#[test]
fn create_move_and_leave_unchanged() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let one = make_commit(&repo, "one\n");
    let two = make_commit(&repo, "two\n");
    assert_eq!(repo.branch_tip("codefleet/p").expect("tip"), None);
    assert_eq!(
        repo.update_branch("codefleet/p", one, None)
            .expect("create"),
        BranchUpdate::Created
    );
    assert_eq!(
        f.git_here(&["rev-parse", "refs/heads/codefleet/p"]),
        one.to_string()
    );
    assert_eq!(
        repo.update_branch("codefleet/p", two, Some(one))
            .expect("move"),
        BranchUpdate::Moved { from: one }
    );
    assert_eq!(
        f.git_here(&["rev-parse", "refs/heads/codefleet/p"]),
        two.to_string()
    );
    assert_eq!(
        repo.update_branch("codefleet/p", two, Some(two))
            .expect("same"),
        BranchUpdate::Unchanged
    );
    // HEAD still on main.
    assert_eq!(f.git_here(&["symbolic-ref", "HEAD"]), "refs/heads/main");
}

#[test]
fn a_branch_that_moved_is_not_overwritten() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let one = make_commit(&repo, "one\n");
    let two = make_commit(&repo, "two\n");
    repo.update_branch("run", one, None).expect("create");
    // Someone else moves it.
    f.git_here(&["branch", "-f", "run", "main"]);
    let main = f.head();
    let err = repo
        .update_branch("run", two, Some(one))
        .expect_err("moved");
    assert_eq!(err.code, "E205");
    assert!(
        err.message.contains("branch `run` moved"),
        "{}",
        err.message
    );
    assert!(err.message.contains(&main[..12]), "{}", err.message);
    assert_eq!(f.git_here(&["rev-parse", "run"]), main);
    // Creating over an existing branch is a move too.
    let err = repo.update_branch("run", two, None).expect_err("exists");
    assert_eq!(err.code, "E205");
}

#[test]
fn the_checked_out_branch_is_never_moved() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let one = make_commit(&repo, "one\n");
    let main = repo.branch_tip("main").expect("tip");
    let err = repo
        .update_branch("main", one, main)
        .expect_err("checked out");
    assert_eq!(err.code, "E213");
    // Also when a linked worktree has it.
    repo.update_branch("feature", one, None).expect("create");
    let wt = f.sibling("wt");
    f.git_here(&[
        "worktree",
        "add",
        "-q",
        wt.to_str().expect("utf8"),
        "feature",
    ]);
    let two = make_commit(&repo, "two\n");
    let err = repo
        .update_branch("feature", two, Some(one))
        .expect_err("in worktree");
    assert_eq!(err.code, "E213");
    assert!(err.message.contains("wt"), "{}", err.message);
}

#[test]
fn bad_branch_names_are_refused() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    for bad in [
        "has space",
        "a..b",
        "-dash",
        "ends/",
        "x.lock",
        "refs/heads/x",
    ] {
        let err = repo.branch_tip(bad).expect_err(bad);
        assert_eq!(err.code, "E206", "{bad}");
    }
}

#[test]
fn checkout_refuses_a_dirty_tree_then_switches_when_clean() {
    let f = Fixture::with_files(&[("a", "1\n"), ("b", "b\n")]);
    let repo = f.open();
    let one = make_commit(&repo, "one\n");
    repo.update_branch("codefleet/p", one, None)
        .expect("create");

    f.write("b", b"local edit\n");
    let err = repo.checkout_branch("codefleet/p").expect_err("dirty");
    assert_eq!(err.code, "E207");
    assert!(err.message.contains("(b)"), "{}", err.message);
    assert_eq!(f.git_here(&["symbolic-ref", "HEAD"]), "refs/heads/main");
    assert_eq!(f.read("b"), b"local edit\n");

    f.git_here(&["checkout", "--", "b"]);
    f.write("b", b"staged\n");
    f.git_here(&["add", "b"]);
    assert_eq!(
        repo.checkout_branch("codefleet/p")
            .expect_err("staged")
            .code,
        "E207"
    );
    f.git_here(&["reset", "-q", "--hard"]);

    f.write("untracked", b"fine\n");
    repo.checkout_branch("codefleet/p").expect("checkout");
    assert_eq!(
        f.git_here(&["symbolic-ref", "HEAD"]),
        "refs/heads/codefleet/p"
    );
    assert_eq!(f.read("a"), b"one\n");
    assert_eq!(f.git_here(&["status", "--porcelain"]), "?? untracked");
}
