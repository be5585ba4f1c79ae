//! Opening repositories and resolving the base of a run.

use codefleet::git::Repo;

use crate::support::fixture::Fixture;

#[test]
fn opens_from_a_subdirectory_and_resolves_head() {
    let f = Fixture::with_files(&[("src/lib.rs", "fn a() {}\n")]);
    let repo = Repo::open(&f.root().join("src")).expect("open");
    assert_eq!(
        repo.work_dir().map(|p| p.canonicalize().expect("canon")),
        Some(f.root().canonicalize().expect("canon"))
    );
    let base = repo.base(None).expect("base");
    assert_eq!(base.commit.to_string(), f.head());
    assert_eq!(
        base.tree.to_string(),
        f.git_here(&["rev-parse", "HEAD^{tree}"])
    );
    assert_eq!(base.rev, "HEAD");
    assert!(!repo.is_bare());
    assert!(!repo.is_shallow());
}

#[test]
fn not_a_repository_is_e200_with_a_hint() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = Repo::open(dir.path()).expect_err("not a repo");
    assert_eq!(err.code, "E200");
    assert!(
        err.message.contains("is not inside a git repository"),
        "{}",
        err.message
    );
    assert!(err.hint.as_deref().is_some_and(|h| h.contains("git init")));
    let err = Repo::open(&dir.path().join("missing")).expect_err("missing");
    assert_eq!(err.code, "E001");
    assert!(err.message.contains("missing"), "{}", err.message);
}

#[test]
fn an_unborn_branch_has_nothing_to_base_on() {
    let f = Fixture::empty();
    let err = f.open().base(None).expect_err("unborn");
    assert_eq!(err.code, "E202");
    assert!(err.message.contains("no commits yet"), "{}", err.message);
    assert!(err.message.contains("`main`"), "{}", err.message);
    assert!(err.hint.as_deref().is_some_and(|h| h.contains("--base")));
}

#[test]
fn a_detached_head_is_a_fine_base() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let first = f.head();
    f.write("a", b"2\n");
    f.commit_all("second");
    f.git_here(&["checkout", "-q", "--detach", &first]);
    let base = f.open().base(None).expect("base");
    assert_eq!(base.commit.to_string(), first);
}

#[test]
fn a_base_revision_can_be_a_tag_or_expression_and_must_exist() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let first = f.head();
    f.git_here(&["tag", "-a", "-m", "v1", "v1"]);
    f.write("a", b"2\n");
    f.commit_all("second");
    let repo = f.open();
    assert_eq!(
        repo.base(Some("v1")).expect("tag").commit.to_string(),
        first
    );
    assert_eq!(
        repo.base(Some("HEAD~1")).expect("expr").commit.to_string(),
        first
    );
    let err = repo.base(Some("no-such-branch")).expect_err("missing");
    assert_eq!(err.code, "E203");
    assert!(err.message.contains("`no-such-branch`"), "{}", err.message);
    // A tree is not a commit.
    let err = repo.base(Some("HEAD^{tree}")).expect_err("tree");
    assert_eq!(err.code, "E203");
}

#[test]
fn a_shallow_clone_opens_and_bases_on_its_head() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    f.write("a", b"2\n");
    f.commit_all("second");
    let clone = f.sibling("shallow");
    let url = format!("file://{}", f.root().display());
    f.git_in(
        f.root(),
        &[
            "clone",
            "-q",
            "--depth",
            "1",
            &url,
            clone.to_str().expect("utf8"),
        ],
    );
    let repo = Repo::open(&clone).expect("open shallow");
    assert!(repo.is_shallow());
    assert_eq!(repo.base(None).expect("base").commit.to_string(), f.head());
}

#[test]
fn a_bare_repository_opens_but_cannot_check_out() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let bare = f.sibling("bare.git");
    f.git_in(
        f.root(),
        &["clone", "-q", "--bare", ".", bare.to_str().expect("utf8")],
    );
    let repo = Repo::open(&bare).expect("open bare");
    assert!(repo.is_bare());
    assert!(repo.work_dir().is_none());
    let base = repo.base(None).expect("base");
    assert_eq!(base.commit.to_string(), f.head());
    let err = repo.checkout_branch("main").expect_err("bare");
    assert_eq!(err.code, "E201");
}

#[test]
fn a_repo_handle_can_move_to_another_thread() {
    fn send<T: Send>(_: &T) {}
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let other = repo.reopen().expect("reopen");
    send(&other);
    let base = std::thread::spawn(move || other.base(None).map(|b| b.commit))
        .join()
        .expect("thread")
        .expect("base");
    assert_eq!(base.to_string(), f.head());
    assert_eq!(repo.base(None).expect("base").commit, base);
}
