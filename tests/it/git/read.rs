//! Reading base content: from the object database, or from the working tree only when the
//! file is provably clean. A modified or staged file must never leak into a run.

use codefleet::git::{FileMode, Source};

use crate::support::fixture::{Fixture, age_files, set_executable, symlink};

fn fixture() -> Fixture {
    let f = Fixture::empty();
    f.write("README.md", b"hello\n");
    f.write("src/main.rs", b"fn main() {}\n");
    f.write("bin/run.sh", b"#!/bin/sh\necho hi\n");
    set_executable(f.root(), "bin/run.sh");
    symlink(f.root(), "README.md", "link");
    f.commit_all("initial");
    f
}

#[test]
fn read_blob_equals_git_cat_file() {
    let f = fixture();
    let repo = f.open();
    let base = repo.base(None).expect("base");
    for path in ["README.md", "src/main.rs", "bin/run.sh", "link"] {
        assert_eq!(
            repo.read_blob(&base, path).expect("read"),
            Some(f.git_bytes(&["cat-file", "blob", &format!("HEAD:{path}")])),
            "{path}"
        );
    }
    assert_eq!(repo.read_blob(&base, "missing.txt").expect("read"), None);
    assert_eq!(repo.read_blob(&base, "src").expect("dir"), None);
}

#[test]
fn list_paths_matches_git_ls_tree_with_modes() {
    let f = fixture();
    // A submodule entry (gitlink), added to the index directly.
    let head = f.head();
    f.git_here(&[
        "update-index",
        "--add",
        "--cacheinfo",
        &format!("160000,{head},vendor/sub"),
    ]);
    f.git_here(&["commit", "-q", "-m", "add submodule"]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let ours: Vec<String> = repo
        .list_paths(&base)
        .expect("list")
        .into_iter()
        .map(|e| format!("{:o} {} {}", e.mode.bits(), e.id, e.path))
        .collect();
    let theirs: Vec<String> = f
        .git_here(&[
            "ls-tree",
            "-r",
            "--format=%(objectmode) %(objectname) %(path)",
            "HEAD",
        ])
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(ours, theirs);
    let modes: Vec<FileMode> = repo
        .list_paths(&base)
        .expect("list")
        .into_iter()
        .map(|e| e.mode)
        .collect();
    for mode in [
        FileMode::Regular,
        FileMode::Executable,
        FileMode::Symlink,
        FileMode::Submodule,
    ] {
        assert!(modes.contains(&mode), "{mode:?} missing from {modes:?}");
    }
}

#[test]
fn a_clean_file_is_read_from_the_working_tree() {
    let f = fixture();
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "src/main.rs")
        .expect("read")
        .expect("exists");
    assert_eq!(file.source, Source::WorkTree);
    assert_eq!(file.bytes, b"fn main() {}\n");
    assert_eq!(file.mode, FileMode::Regular);
    let exe = repo
        .read_file(&base, "bin/run.sh")
        .expect("read")
        .expect("exists");
    assert_eq!(exe.source, Source::WorkTree);
    assert_eq!(exe.mode, FileMode::Executable);
}

#[test]
fn a_modified_file_is_read_from_the_object_database() {
    let f = fixture();
    f.write("src/main.rs", b"fn main() { println!(\"local work\"); }\n");
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "src/main.rs")
        .expect("read")
        .expect("exists");
    assert_eq!(file.source, Source::ObjectDatabase);
    assert_eq!(file.bytes, b"fn main() {}\n");
}

#[test]
fn a_same_size_edit_with_the_old_mtime_is_still_caught() {
    // The racy case: same length, mtime put back to what the index recorded. The inode's
    // change time cannot be put back, and it is compared too.
    let f = fixture();
    let path = f.root().join("src/main.rs");
    let recorded = std::fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime");
    f.write("src/main.rs", b"fn mane() {}\n");
    std::fs::File::options()
        .write(true)
        .open(&path)
        .and_then(|file| file.set_modified(recorded))
        .expect("put mtime back");
    assert_eq!(
        std::fs::metadata(&path)
            .and_then(|m| m.modified())
            .expect("mtime"),
        recorded
    );
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "src/main.rs")
        .expect("read")
        .expect("exists");
    assert_eq!(file.bytes, b"fn main() {}\n");
    assert_eq!(file.source, Source::ObjectDatabase);
}

#[test]
fn a_staged_file_is_read_from_the_object_database() {
    let f = fixture();
    f.write("README.md", b"staged work\n");
    f.git_here(&["add", "README.md"]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "README.md")
        .expect("read")
        .expect("exists");
    assert_eq!(file.source, Source::ObjectDatabase);
    assert_eq!(file.bytes, b"hello\n");
}

#[test]
fn a_file_of_an_older_base_is_read_from_the_object_database() {
    let f = fixture();
    let first = f.head();
    f.write("README.md", b"newer\n");
    f.commit_all("second");
    let repo = f.open();
    let base = repo.base(Some(&first)).expect("base");
    let file = repo
        .read_file(&base, "README.md")
        .expect("read")
        .expect("exists");
    assert_eq!(file.source, Source::ObjectDatabase);
    assert_eq!(file.bytes, b"hello\n");
}

#[test]
fn a_crlf_checkout_gives_the_committed_bytes() {
    let f = Fixture::empty();
    f.write(".gitattributes", b"*.txt text eol=crlf\n");
    f.write("a.txt", b"one\ntwo\n");
    f.commit_all("initial");
    // Check out again so the working tree holds the CRLF form.
    std::fs::remove_file(f.root().join("a.txt")).expect("rm");
    f.git_here(&["checkout", "--", "a.txt"]);
    assert_eq!(f.read("a.txt"), b"one\r\ntwo\r\n");
    age_files(f.root());
    f.git_here(&["update-index", "--refresh"]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "a.txt")
        .expect("read")
        .expect("exists");
    assert_eq!(file.bytes, b"one\ntwo\n");
    assert_eq!(file.source, Source::ObjectDatabase);
}

#[test]
fn a_symlink_gives_its_target_and_a_deleted_file_its_base_bytes() {
    let f = fixture();
    std::fs::remove_file(f.root().join("README.md")).expect("rm");
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let link = repo
        .read_file(&base, "link")
        .expect("read")
        .expect("exists");
    assert_eq!(link.bytes, b"README.md");
    assert_eq!(link.mode, FileMode::Symlink);
    let gone = repo
        .read_file(&base, "README.md")
        .expect("read")
        .expect("exists");
    assert_eq!(gone.bytes, b"hello\n");
    assert_eq!(gone.source, Source::ObjectDatabase);
}

#[cfg(target_os = "linux")]
#[test]
fn paths_that_are_not_utf8_are_listed_out_and_kept_in_commits() {
    use std::os::unix::ffi::OsStrExt;
    let f = Fixture::empty();
    f.write("ok.txt", b"ok\n");
    let odd = std::ffi::OsStr::from_bytes(b"caf\xe9");
    std::fs::create_dir_all(f.root().join(odd)).expect("mkdir");
    std::fs::write(f.root().join(odd).join("menu.txt"), b"m\n").expect("write");
    std::fs::write(
        f.root().join(std::ffi::OsStr::from_bytes(b"na\xefve.txt")),
        b"n\n",
    )
    .expect("write");
    f.commit_all("initial");
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let paths: Vec<String> = repo
        .list_paths(&base)
        .expect("list")
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(paths, ["ok.txt"]);
    let id = repo
        .commit_changes(
            base.commit,
            &[codefleet::git::TreeChange::write("ok.txt", "changed\n")],
            &codefleet::git::CommitInfo::default(),
        )
        .expect("commit")
        .expect("some");
    let changed = f.git_here(&["diff", "--name-only", "HEAD", &id.to_string()]);
    assert_eq!(changed, "ok.txt");
}

#[test]
fn a_working_tree_encoding_path_is_read_from_the_object_database() {
    // git re-encodes such files on checkout, here without changing the length: "a中" is four
    // bytes in UTF-8 and in UTF-16LE.
    let f = Fixture::empty();
    f.write(
        ".gitattributes",
        b"*.utf16 working-tree-encoding=UTF-16LE\n",
    );
    f.write("a.utf16", &[0x61, 0x00, 0x2d, 0x4e]);
    f.write("plain.txt", b"plain\n");
    f.commit_all("initial");
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_file(&base, "a.utf16")
        .expect("read")
        .expect("exists");
    assert_eq!(file.bytes, "a中".as_bytes());
    assert_eq!(
        file.bytes,
        f.git_bytes(&["cat-file", "blob", "HEAD:a.utf16"])
    );
    assert_eq!(file.source, Source::ObjectDatabase);
    let plain = repo
        .read_file(&base, "plain.txt")
        .expect("read")
        .expect("exists");
    assert_eq!(plain.source, Source::WorkTree);
}

#[test]
fn core_autocrlf_alone_still_gives_the_committed_bytes() {
    // No attributes file at all: only the repository's core.autocrlf converts on checkout, so
    // the fast path must still compare lengths with the blob.
    let f = Fixture::empty();
    f.write("a.txt", b"one\ntwo\n");
    f.commit_all("initial");
    f.git_here(&["config", "core.autocrlf", "true"]);
    std::fs::remove_file(f.root().join("a.txt")).expect("rm");
    f.git_here(&["checkout", "--", "a.txt"]);
    assert_eq!(f.read("a.txt"), b"one\r\ntwo\r\n");
    age_files(f.root());
    f.git_here(&["update-index", "--refresh"]);
    let repo = f.open();
    let base = repo.base(None).expect("base");
    let file = repo
        .read_entry(&repo.entry(&base, "a.txt").expect("entry").expect("exists"))
        .expect("read")
        .expect("exists");
    assert_eq!(file.bytes, b"one\ntwo\n");
    assert_eq!(file.source, Source::ObjectDatabase);
}
