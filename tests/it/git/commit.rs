//! Commits built from objects: the same trees `git add` + `git commit` would make, trailers git
//! can parse, identities, determinism, and the user's working tree, index and HEAD untouched.

use std::path::Path;

use codefleet::git::{CommitInfo, FileMode, Identity, Oid, Repo, Trailers, TreeChange};

use crate::support::fixture::{Fixture, set_executable, symlink, write_file};

fn info(task: &str) -> CommitInfo {
    CommitInfo {
        message: format!("{task}\n\nWhat the task did."),
        trailers: Trailers {
            pipeline: "migrate-logging".into(),
            task: task.into(),
            run: "20261124T123456Z-abcdef".into(),
            model: None,
        },
        author: None,
        committer: None,
        time: Some(1_795_523_696),
    }
}

fn base_fixture() -> Fixture {
    let f = Fixture::empty();
    f.write(".gitattributes", b"* text=auto\n*.id ident\n");
    f.write("README.md", b"hello\n");
    f.write("src/main.rs", b"fn main() {}\n");
    f.write("src/util/deep/x.rs", b"// x\n");
    f.write("old/only.txt", b"bye\n");
    f.write("docs/a.md", b"# A\n");
    f.write("bin/run.sh", b"#!/bin/sh\n");
    set_executable(f.root(), "bin/run.sh");
    symlink(f.root(), "README.md", "link");
    f.commit_all("initial");
    f
}

/// Clones the fixture, lets `edit` change the clone's files, stages everything with
/// `git add -A` and returns `git write-tree`: what git itself stores for those edits.
fn witness_tree(f: &Fixture, config: &[(&str, &str)], edit: impl Fn(&Path)) -> String {
    let clone = f.sibling("witness");
    let _ = std::fs::remove_dir_all(&clone);
    f.git_in(
        f.root(),
        &["clone", "-q", ".", clone.to_str().expect("utf8")],
    );
    for (k, v) in config {
        f.git_in(&clone, &["config", k, v]);
    }
    edit(&clone);
    f.git_in(&clone, &["add", "-A"]);
    f.git_in(&clone, &["write-tree"])
}

fn tree_of(f: &Fixture, commit: Oid) -> String {
    f.git_here(&["rev-parse", &format!("{commit}^{{tree}}")])
}

fn commit(repo: &Repo, changes: &[TreeChange]) -> Oid {
    let base = repo.base(None).expect("base");
    repo.commit_changes(base.commit, changes, &info("rename"))
        .expect("commit")
        .expect("a commit")
}

#[test]
fn the_tree_equals_what_git_add_stores() {
    let f = base_fixture();
    let repo = f.open();
    let changes = vec![
        TreeChange::write("src/main.rs", "fn main() { run(); }\n"),
        TreeChange::write("new/nested/dir/file.txt", "a\r\nb\r\n"),
        TreeChange::write("README.md", "hello\r\nworld\r\n"),
        TreeChange::write("binary.dat", vec![0u8, b'\r', b'\n', 1]),
        TreeChange::write("v.id", "$Id: 0123456789abcdef $\n"),
        TreeChange::delete("old/only.txt"),
        TreeChange::delete("src/util/deep/x.rs"),
        TreeChange::delete("docs/a.md"),
        TreeChange::write("docs2/a.md", "# A\n"),
        TreeChange::write_mode(
            "tools/new.sh",
            "#!/bin/sh\necho new\n",
            FileMode::Executable,
        ),
        TreeChange::write_mode("shortcut", "src/main.rs", FileMode::Symlink),
    ];
    let ours = commit(&repo, &changes);
    let theirs = witness_tree(&f, &[], |dir| {
        write_file(dir, "src/main.rs", b"fn main() { run(); }\n");
        write_file(dir, "new/nested/dir/file.txt", b"a\r\nb\r\n");
        write_file(dir, "README.md", b"hello\r\nworld\r\n");
        write_file(dir, "binary.dat", &[0u8, b'\r', b'\n', 1]);
        write_file(dir, "v.id", b"$Id: 0123456789abcdef $\n");
        std::fs::remove_file(dir.join("old/only.txt")).expect("rm");
        std::fs::remove_file(dir.join("src/util/deep/x.rs")).expect("rm");
        std::fs::remove_file(dir.join("docs/a.md")).expect("rm");
        write_file(dir, "docs2/a.md", b"# A\n");
        write_file(dir, "tools/new.sh", b"#!/bin/sh\necho new\n");
        set_executable(dir, "tools/new.sh");
        symlink(dir, "src/main.rs", "shortcut");
    });
    assert_eq!(tree_of(&f, ours), theirs);
    // And, said plainly: line endings normalized, binary left alone, ident collapsed,
    // emptied directories gone, untouched symlink and executable kept.
    let blob = |p: &str| f.git_bytes(&["cat-file", "blob", &format!("{ours}:{p}")]);
    assert_eq!(blob("new/nested/dir/file.txt"), b"a\nb\n");
    assert_eq!(blob("binary.dat"), vec![0u8, b'\r', b'\n', 1]);
    assert_eq!(blob("v.id"), b"$Id$\n");
    let listing = f.git_here(&[
        "ls-tree",
        "-r",
        "-t",
        "--format=%(objectmode) %(path)",
        &ours.to_string(),
    ]);
    assert!(!listing.contains(" old"), "{listing}");
    assert!(!listing.contains("src/util"), "{listing}");
    assert!(listing.contains("040000 src\n"), "{listing}");
    assert!(listing.contains("120000 link\n"), "{listing}");
    assert!(listing.contains("100755 bin/run.sh\n"), "{listing}");
    assert!(listing.contains("100755 tools/new.sh\n"), "{listing}");
    assert!(listing.contains("120000 shortcut"), "{listing}");
}

#[test]
fn core_autocrlf_input_is_applied_as_git_add_does() {
    let f = Fixture::with_files(&[("a.txt", "one\n")]);
    f.git_here(&["config", "core.autocrlf", "input"]);
    let repo = f.open();
    let ours = commit(&repo, &[TreeChange::write("a.txt", "one\r\ntwo\r\n")]);
    let theirs = witness_tree(&f, &[("core.autocrlf", "input")], |dir| {
        write_file(dir, "a.txt", b"one\r\ntwo\r\n");
    });
    assert_eq!(tree_of(&f, ours), theirs);
    assert_eq!(
        f.git_bytes(&["cat-file", "blob", &format!("{ours}:a.txt")]),
        b"one\ntwo\n"
    );
}

#[test]
fn crlf_is_kept_without_attributes_or_autocrlf() {
    let f = Fixture::with_files(&[("a.txt", "one\n")]);
    let repo = f.open();
    let ours = commit(&repo, &[TreeChange::write("a.txt", "one\r\ntwo\r\n")]);
    let theirs = witness_tree(&f, &[], |dir| write_file(dir, "a.txt", b"one\r\ntwo\r\n"));
    assert_eq!(tree_of(&f, ours), theirs);
    assert_eq!(
        f.git_bytes(&["cat-file", "blob", &format!("{ours}:a.txt")]),
        b"one\r\ntwo\r\n"
    );
}

#[test]
fn many_changes_across_many_directories_match_git() {
    let f = Fixture::empty();
    f.write(".gitattributes", b"*.crlf text\n");
    for d in 0..40 {
        for i in 0..15 {
            f.write(
                &format!("d{d}/sub{}/f{i}.txt", i % 3),
                format!("{d} {i}\n").as_bytes(),
            );
        }
    }
    f.commit_all("wide");
    let mut changes = Vec::new();
    for d in (0..40).step_by(3) {
        for i in (0..15).step_by(2) {
            let path = format!("d{d}/sub{}/f{i}.txt", i % 3);
            if i % 4 == 0 {
                changes.push(TreeChange::delete(path));
            } else {
                changes.push(TreeChange::write(path, format!("changed {d} {i}\n")));
            }
        }
        changes.push(TreeChange::write(format!("d{d}/added/new.txt"), "new\n"));
        changes.push(TreeChange::write(
            format!("d{d}/added/w.crlf"),
            format!("{d}\r\n"),
        ));
    }
    assert!(changes.len() >= 100, "a large change set");
    let repo = f.open();
    let ours = commit(&repo, &changes);
    let theirs = witness_tree(&f, &[], |dir| {
        for change in &changes {
            match change {
                TreeChange::Write { path, bytes, .. } => write_file(dir, path, bytes),
                TreeChange::Delete { path } => std::fs::remove_file(dir.join(path)).expect("rm"),
                other => panic!("this test writes bytes only, not {other:?}"),
            }
        }
    });
    assert_eq!(tree_of(&f, ours), theirs);
    assert_eq!(
        f.git_bytes(&["cat-file", "blob", &format!("{ours}:d3/added/w.crlf")]),
        b"3\n"
    );
    // The repository is sound, and the same commit again gives the same id.
    f.git_here(&["fsck", "--strict", "--no-dangling"]);
    assert_eq!(commit(&repo, &changes), ours);
}

#[test]
fn trailers_are_readable_by_git_interpret_trailers() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let mut with_model = info("add docstrings");
    with_model.trailers.model = Some("gpt-4.1-mini".into());
    let id = repo
        .commit_changes(base.commit, &[TreeChange::write("a", "2\n")], &with_model)
        .expect("commit")
        .expect("some");
    let message = f.git_here(&["log", "-1", "--format=%B", &id.to_string()]);
    assert!(
        message.starts_with("add docstrings\n\nWhat the task did.\n\nCodefleet-Pipeline:"),
        "{message}"
    );
    let msg_file = f.sibling("msg");
    std::fs::write(&msg_file, &message).expect("write msg");
    let parsed = f.git_here(&[
        "interpret-trailers",
        "--parse",
        msg_file.to_str().expect("utf8"),
    ]);
    assert_eq!(
        parsed,
        "Codefleet-Pipeline: migrate-logging\nCodefleet-Task: add docstrings\nCodefleet-Run: 20261124T123456Z-abcdef\nCodefleet-Model: gpt-4.1-mini"
    );
}

#[test]
fn the_working_tree_index_and_head_are_untouched() {
    let f = base_fixture();
    // Local work in progress of every kind, which must survive byte for byte.
    f.write("src/main.rs", b"fn main() { wip(); }\n");
    f.write("README.md", b"staged\n");
    f.git_here(&["add", "README.md"]);
    f.write("untracked.txt", b"u\n");
    let before = f.snapshot();
    let wip = f.read("src/main.rs");
    let repo = f.open();
    let id = commit(
        &repo,
        &[
            TreeChange::write("src/main.rs", "fn main() { codefleet(); }\n"),
            TreeChange::write("README.md", "from codefleet\n"),
            TreeChange::delete("old/only.txt"),
        ],
    );
    repo.update_branch("codefleet/rename", id, None)
        .expect("branch");
    assert_eq!(f.snapshot(), before);
    assert_eq!(f.read("src/main.rs"), wip);
    assert_eq!(f.read("old/only.txt"), b"bye\n");
    // The commit holds codefleet's content, not the user's staged or modified content.
    assert_eq!(
        f.git_bytes(&["cat-file", "blob", "codefleet/rename:README.md"]),
        b"from codefleet\n"
    );
}

#[test]
fn same_inputs_give_the_same_commit_id() {
    let f = Fixture::with_files(&[("a", "1\n"), ("b/c", "2\n")]);
    let repo = f.open();
    let changes = [TreeChange::write("b/c", "3\n"), TreeChange::delete("a")];
    let first = commit(&repo, &changes);
    let second = commit(&repo, &changes);
    assert_eq!(first, second);
    let again = Repo::open(f.root()).expect("reopen");
    assert_eq!(commit(&again, &changes), first);
    assert_eq!(
        f.git_here(&["log", "-1", "--format=%at %ct", &first.to_string()]),
        "1795523696 1795523696"
    );
}

#[test]
fn nothing_changed_makes_no_commit() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    assert_eq!(
        repo.commit_changes(base.commit, &[], &info("t"))
            .expect("empty"),
        None
    );
    let same = [
        TreeChange::write("a", "1\n"),
        TreeChange::delete("not/there"),
    ];
    assert_eq!(
        repo.commit_changes(base.commit, &same, &info("t"))
            .expect("no-op"),
        None
    );
}

#[test]
fn identities_come_from_the_caller_then_config_then_codefleet() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let who = |id: Oid| f.git_here(&["log", "-1", "--format=%an <%ae>|%cn <%ce>", &id.to_string()]);

    let id = repo
        .commit_changes(base.commit, &[TreeChange::write("a", "2\n")], &info("t"))
        .expect("commit")
        .expect("some");
    assert_eq!(
        who(id),
        "codefleet <codefleet@localhost>|codefleet <codefleet@localhost>"
    );

    f.git_here(&["config", "user.name", "Repo User"]);
    f.git_here(&["config", "user.email", "user@repo.example"]);
    let repo = f.open();
    let id = repo
        .commit_changes(base.commit, &[TreeChange::write("a", "3\n")], &info("t"))
        .expect("commit")
        .expect("some");
    assert_eq!(
        who(id),
        "Repo User <user@repo.example>|Repo User <user@repo.example>"
    );

    let mut given = info("t");
    given.author = Identity::parse("Ada Lovelace <ada@example.com>");
    given.committer = Some(Identity::codefleet());
    let id = repo
        .commit_changes(base.commit, &[TreeChange::write("a", "4\n")], &given)
        .expect("commit")
        .expect("some");
    assert_eq!(
        who(id),
        "Ada Lovelace <ada@example.com>|codefleet <codefleet@localhost>"
    );
}

#[test]
fn paths_that_cannot_be_committed_are_refused() {
    let f = Fixture::with_files(&[("a", "1\n"), ("dir/b", "2\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    for bad in [
        TreeChange::write("../escape", "x"),
        TreeChange::write("/abs", "x"),
        TreeChange::write(".git/config", "x"),
        TreeChange::write("sub/.GIT/hooks", "x"),
        TreeChange::write("a//b", "x"),
        TreeChange::write("", "x"),
        TreeChange::write("a/inside-a-file", "x"),
        TreeChange::write("dir", "x"),
        TreeChange::delete("dir"),
    ] {
        let err = repo
            .commit_changes(base.commit, std::slice::from_ref(&bad), &info("t"))
            .expect_err(bad.path());
        assert_eq!(err.code, "E208", "{}: {}", bad.path(), err.message);
    }
    let twice = [TreeChange::write("a", "x"), TreeChange::delete("a")];
    let err = repo
        .commit_changes(base.commit, &twice, &info("t"))
        .expect_err("twice");
    assert_eq!(err.code, "E208");
    // A file may become a directory when the file is deleted in the same change.
    let id = repo
        .commit_changes(
            base.commit,
            &[
                TreeChange::delete("a"),
                TreeChange::write("a/now-a-dir", "x"),
            ],
            &info("t"),
        )
        .expect("file to dir")
        .expect("some");
    assert_eq!(
        f.git_here(&["cat-file", "blob", &format!("{id}:a/now-a-dir")]),
        "x"
    );
}

#[test]
fn a_clean_filter_driver_it_cannot_run_is_refused() {
    let f = Fixture::empty();
    f.write(".gitattributes", b"*.bin filter=lfs\n");
    f.write("a.txt", b"1\n");
    f.commit_all("initial");
    f.git_here(&["config", "filter.lfs.clean", "git-lfs clean -- %f"]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let err = repo
        .commit_changes(
            base.commit,
            &[TreeChange::write("big.bin", "data")],
            &info("t"),
        )
        .expect_err("lfs");
    assert_eq!(err.code, "E214");
    assert!(err.message.contains("`lfs`"), "{}", err.message);
    // Paths the driver does not cover are fine.
    assert!(
        repo.commit_changes(
            base.commit,
            &[TreeChange::write("a.txt", "2\n")],
            &info("t")
        )
        .expect("txt")
        .is_some()
    );
}

#[test]
fn an_identical_rerun_can_reuse_the_previous_commit() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let changes = [TreeChange::write("a", "2\n")];
    let first = repo
        .commit_changes(base.commit, &changes, &info("t"))
        .expect("commit")
        .expect("some");
    let mut rerun = info("t");
    rerun.trailers.run = "20261125T000000Z-000002".into();
    rerun.time = Some(1_795_600_000);
    let again = repo
        .commit_changes_reusing(base.commit, &changes, &rerun, Some(first))
        .expect("commit");
    assert_eq!(again, Some(first));
    // A different result, parent or message is a new commit.
    let other = repo
        .commit_changes_reusing(
            base.commit,
            &[TreeChange::write("a", "3\n")],
            &rerun,
            Some(first),
        )
        .expect("commit");
    assert!(other.is_some_and(|c| c != first));
    let on_first = repo
        .commit_changes_reusing(first, &[TreeChange::write("a", "4\n")], &rerun, Some(first))
        .expect("commit");
    assert!(on_first.is_some_and(|c| c != first));
    let mut renamed = rerun.clone();
    renamed.message = "another message".into();
    let differs = repo
        .commit_changes_reusing(base.commit, &changes, &renamed, Some(first))
        .expect("commit");
    assert!(differs.is_some_and(|c| c != first));
}

#[test]
fn a_bare_repository_applies_the_parent_trees_attributes() {
    let f = Fixture::empty();
    f.write(".gitattributes", b"* text=auto\n");
    f.write("a.txt", b"one\n");
    f.write("sub/.gitattributes", b"*.bat eol=crlf\n");
    f.commit_all("initial");
    let bare = f.sibling("bare.git");
    f.git_here(&["clone", "-q", "--bare", ".", bare.to_str().expect("utf8")]);
    let repo = Repo::open(&bare).expect("open bare");
    let base = repo.base(None).expect("base");
    let id = repo
        .commit_changes(
            base.commit,
            &[
                TreeChange::write("a.txt", "one\r\ntwo\r\n"),
                TreeChange::write("sub/run.bat", "x\r\n"),
            ],
            &info("t"),
        )
        .expect("commit")
        .expect("some");
    let theirs = witness_tree(&f, &[], |dir| {
        write_file(dir, "a.txt", b"one\r\ntwo\r\n");
        write_file(dir, "sub/run.bat", b"x\r\n");
    });
    let ours = f.git_in(&bare, &["rev-parse", &format!("{id}^{{tree}}")]);
    assert_eq!(ours, theirs);
}

#[test]
fn a_stored_blob_commits_the_same_tree_as_its_bytes() {
    // Runs store each new file's blob as it is computed; the commit must be the one the bytes
    // would have made, clean filters included.
    let f = Fixture::with_files(&[(".gitattributes", "*.txt text=auto\n"), ("a.txt", "a\n")]);
    let repo = f.open();
    let bytes: &[u8] = b"one\r\ntwo\r\n";
    let from_bytes = commit(&repo, &[TreeChange::write("a.txt", bytes)]);
    let id = repo
        .store_blob("a.txt", bytes, codefleet::git::FileMode::Regular)
        .expect("store");
    let stored = TreeChange::Blob {
        path: "a.txt".into(),
        id,
        mode: codefleet::git::FileMode::Regular,
    };
    let from_blob = commit(&repo, &[stored]);
    assert_eq!(tree_of(&f, from_blob), tree_of(&f, from_bytes));
    assert_eq!(
        f.git_bytes(&["cat-file", "blob", &format!("{from_blob}:a.txt")]),
        b"one\ntwo\n"
    );
}
