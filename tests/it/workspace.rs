//! `workspace::DirFiles` over real temp directories: listing, reading, confinement (with real
//! symlinks), the deny policy, and atomic writes that keep permissions.

use std::fs;
use std::path::Path;

use codefleet::coders::{Change, Files};
use codefleet::workspace::{DirFiles, Policy};
use tempfile::TempDir;

fn tree(files: &[(&str, &str)]) -> TempDir {
    let dir = TempDir::new().unwrap();
    for (path, text) in files {
        let p = dir.path().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }
    dir
}

fn write(path: &str, content: &str) -> Change {
    Change::Write {
        path: path.to_string(),
        content: content.as_bytes().to_vec(),
        created: false,
        renamed_from: None,
    }
}

fn apply_policy() -> Policy {
    Policy {
        allow_delete: true,
        ..Policy::default()
    }
}

#[test]
fn paths_lists_regular_files_sorted_without_git_or_secrets() {
    let dir = tree(&[
        ("b.txt", "b"),
        ("a/z.rs", "z"),
        ("a/b/c.py", "c"),
        (".git/config", "[core]"),
        ("sub/.git", "gitdir: ../.git/modules/sub"),
        (".env", "TOKEN=x"),
        (".github/workflows/ci.yml", "on: push"),
    ]);
    let files = DirFiles::new(dir.path(), Policy::default());
    assert_eq!(
        files.paths(),
        [".github/workflows/ci.yml", "a/b/c.py", "a/z.rs", "b.txt"]
    );
}

#[test]
fn read_is_confined_but_not_filtered_by_policy() {
    let dir = tree(&[
        ("a.txt", "hello\r\n"),
        (".env", "SECRET=1"),
        ("img.png", "PNG\0\0"),
    ]);
    let files = DirFiles::new(dir.path(), Policy::default());
    assert_eq!(files.read("a.txt"), Some(b"hello\r\n".to_vec()));
    assert_eq!(files.read("./a.txt"), Some(b"hello\r\n".to_vec()));
    assert_eq!(files.read("missing.txt"), None);
    assert_eq!(files.read("../a.txt"), None);
    assert_eq!(files.read("/etc/hostname"), None);
    // A denied file reads (so an edit to it fails with the policy's reason), but is not
    // listed, so nothing picks it up unasked.
    assert_eq!(files.read(".env"), Some(b"SECRET=1".to_vec()));
    assert!(files.check_write(".env").is_err());
    assert!(!files.paths().contains(&".env".to_string()));
}

#[test]
fn an_excluded_path_is_invisible_and_unwritable() {
    let dir = tree(&[("reply.md", "SEARCH text"), ("a.txt", "a")]);
    let mut files = DirFiles::new(dir.path(), Policy::default());
    files.exclude("./reply.md");
    assert_eq!(files.paths(), ["a.txt"]);
    assert_eq!(files.read("reply.md"), None);
    assert_eq!(
        files.check_write("reply.md"),
        Err("`reply.md` is the input being applied".to_string())
    );
    let results = files.apply(&[write("reply.md", "x")]);
    assert_eq!(
        results[0].result,
        Err("refused: `reply.md` is the input being applied".to_string())
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("reply.md")).unwrap(),
        "SEARCH text"
    );
}

#[test]
fn check_write_gives_the_reason() {
    let dir = tree(&[("a.txt", "a"), ("img.png", "PNG\0"), ("big.txt", "")]);
    fs::write(dir.path().join("big.txt"), vec![b'x'; 2 * 1024 * 1024]).unwrap();
    let files = DirFiles::new(dir.path(), Policy::default());
    assert_eq!(files.check_write("a.txt"), Ok(()));
    assert_eq!(files.check_write("new/dir/file.rs"), Ok(()));
    let cases = [
        ("../x", "`../x` is outside the directory"),
        (
            "/etc/passwd",
            "`/etc/passwd` is an absolute path; paths are relative to the directory",
        ),
        (
            "C:\\win.ini",
            "`C:\\win.ini` is an absolute path; paths are relative to the directory",
        ),
        (".git/config", "`.git/config` is inside `.git`"),
        ("vendor/.git/HEAD", "`vendor/.git/HEAD` is inside `.git`"),
        (".env", "`.env` is denied by policy (matches `**/.env`)"),
        (
            "keys/server.pem",
            "`keys/server.pem` is denied by policy (matches `**/*.pem`)",
        ),
        ("img.png", "`img.png` is a binary file"),
        (
            "big.txt",
            "`big.txt` is 2097152 bytes, over the 1048576-byte limit",
        ),
        ("a.txt/x", "`a.txt/x`: `a.txt` is not a directory"),
    ];
    for (path, reason) in cases {
        assert_eq!(files.check_write(path), Err(reason.to_string()), "{path}");
    }
}

#[cfg(unix)]
#[test]
fn symlinks_anywhere_in_the_path_are_refused() {
    let outside = tree(&[("target.txt", "outside")]);
    let dir = tree(&[("real/a.txt", "a")]);
    std::os::unix::fs::symlink(outside.path(), dir.path().join("out")).unwrap();
    std::os::unix::fs::symlink(
        outside.path().join("target.txt"),
        dir.path().join("link.txt"),
    )
    .unwrap();
    std::os::unix::fs::symlink("real", dir.path().join("inside")).unwrap();
    let files = DirFiles::new(dir.path(), apply_policy());
    assert_eq!(
        files.check_write("out/target.txt"),
        Err("`out/target.txt` goes through the symlink `out`".to_string())
    );
    assert_eq!(
        files.check_write("out/new.txt"),
        Err("`out/new.txt` goes through the symlink `out`".to_string())
    );
    assert_eq!(
        files.check_write("link.txt"),
        Err("`link.txt` goes through the symlink `link.txt`".to_string())
    );
    // Even a link that stays inside is refused: the check is on the path, not the target.
    assert!(files.check_write("inside/a.txt").is_err());
    assert_eq!(files.read("out/target.txt"), None);
    assert!(!files.paths().iter().any(|p| p.contains("target")));

    // And apply never writes through them, whatever the change list says.
    let results = files.apply(&[write("out/target.txt", "pwned"), write("link.txt", "pwned")]);
    assert!(results.iter().all(|r| r.result.is_err()));
    assert_eq!(
        fs::read_to_string(outside.path().join("target.txt")).unwrap(),
        "outside"
    );
}

#[test]
fn apply_writes_creates_and_deletes() {
    let dir = tree(&[
        ("a.txt", "old\n"),
        ("gone/only.txt", "x"),
        ("keep.txt", "k"),
    ]);
    let files = DirFiles::new(dir.path(), apply_policy());
    let results = files.apply(&[
        write("a.txt", "new\n"),
        Change::Write {
            path: "src/new.rs".into(),
            content: b"fn main() {}\n".to_vec(),
            created: true,
            renamed_from: None,
        },
        Change::Delete {
            path: "gone/only.txt".into(),
        },
    ]);
    let actions: Vec<_> = results
        .iter()
        .map(|r| (r.path.as_str(), r.action, r.result.clone()))
        .collect();
    assert_eq!(
        actions,
        vec![
            ("a.txt", "modified", Ok(())),
            ("src/new.rs", "created", Ok(())),
            ("gone/only.txt", "deleted", Ok(())),
        ]
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("a.txt")).unwrap(),
        "new\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("src/new.rs")).unwrap(),
        "fn main() {}\n"
    );
    assert!(
        !dir.path().join("gone").exists(),
        "an emptied directory is removed"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("keep.txt")).unwrap(),
        "k"
    );
    assert_no_temp_files(dir.path());
}

#[test]
fn deletes_need_the_policy_to_allow_them() {
    let dir = tree(&[("a.txt", "a")]);
    let files = DirFiles::new(dir.path(), Policy::default());
    let results = files.apply(&[Change::Delete {
        path: "a.txt".into(),
    }]);
    assert_eq!(
        results[0].result,
        Err("refused: deleting `a.txt` is not allowed by policy".to_string())
    );
    assert!(dir.path().join("a.txt").exists());
}

#[cfg(unix)]
#[test]
fn permissions_are_kept_and_new_files_follow_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[
        ("run.sh", "#!/bin/sh\n"),
        ("old.sh", "#!/bin/sh\necho old\n"),
    ]);
    let mode = |p: &str| {
        fs::metadata(dir.path().join(p))
            .unwrap()
            .permissions()
            .mode()
            & 0o777
    };
    fs::set_permissions(dir.path().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    fs::set_permissions(dir.path().join("old.sh"), fs::Permissions::from_mode(0o750)).unwrap();
    // A file std creates gets 0666 less the umask: the mode a new file should have.
    fs::write(dir.path().join("reference"), "").unwrap();
    let files = DirFiles::new(dir.path(), apply_policy());
    // A rename as the coders report it: the old path's delete first, then the new file.
    let results = files.apply(&[
        write("run.sh", "#!/bin/sh\necho hi\n"),
        write("fresh.txt", "new\n"),
        Change::Delete {
            path: "old.sh".into(),
        },
        Change::Write {
            path: "bin/new.sh".into(),
            content: b"#!/bin/sh\necho old\n".to_vec(),
            created: true,
            renamed_from: Some("old.sh".into()),
        },
    ]);
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    assert_eq!(mode("run.sh"), 0o755);
    assert_eq!(mode("fresh.txt"), mode("reference"));
    assert_eq!(
        mode("bin/new.sh"),
        0o750,
        "a rename keeps the old file's mode"
    );
    assert!(
        !dir.path().join("old.sh").exists(),
        "the renamed file is gone"
    );
    assert_eq!(results[3].action, "renamed");
}

#[test]
fn refused_changes_write_nothing() {
    let dir = tree(&[(".env", "A=1"), ("a.txt", "a")]);
    let files = DirFiles::new(dir.path(), apply_policy());
    let results = files.apply(&[
        write(".env", "A=2"),
        write("../escape.txt", "x"),
        write(".git/config", "x"),
        write("a.txt", "b"),
    ]);
    let ok: Vec<bool> = results.iter().map(|r| r.result.is_ok()).collect();
    assert_eq!(ok, vec![false, false, false, true]);
    assert_eq!(fs::read_to_string(dir.path().join(".env")).unwrap(), "A=1");
    assert!(!dir.path().parent().unwrap().join("escape.txt").exists());
    assert!(!dir.path().join(".git").exists());
    assert_eq!(fs::read_to_string(dir.path().join("a.txt")).unwrap(), "b");
}

#[test]
fn bytes_are_written_exactly() {
    let dir = tree(&[("crlf.txt", "a\r\nb\r\n")]);
    let files = DirFiles::new(dir.path(), apply_policy());
    let bytes = b"\xEF\xBB\xBFa\r\nB\r\nno newline".to_vec();
    let results = files.apply(&[Change::Write {
        path: "crlf.txt".into(),
        content: bytes.clone(),
        created: false,
        renamed_from: None,
    }]);
    assert!(results[0].result.is_ok());
    assert_eq!(fs::read(dir.path().join("crlf.txt")).unwrap(), bytes);
}

fn assert_no_temp_files(dir: &Path) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        assert!(!name.starts_with(".codefleet-"), "temp file left: {name}");
        if entry.file_type().unwrap().is_dir() {
            assert_no_temp_files(&entry.path());
        }
    }
}

#[cfg(unix)]
#[test]
fn a_rename_without_a_delete_removes_the_old_file() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tree(&[("old.sh", "x\n")]);
    fs::set_permissions(dir.path().join("old.sh"), fs::Permissions::from_mode(0o700)).unwrap();
    let files = DirFiles::new(dir.path(), apply_policy());
    let results = files.apply(&[Change::Write {
        path: "new.sh".into(),
        content: b"x\n".to_vec(),
        created: true,
        renamed_from: Some("old.sh".into()),
    }]);
    assert_eq!(results[0].result, Ok(()));
    assert!(!dir.path().join("old.sh").exists());
    let mode = fs::metadata(dir.path().join("new.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o700);
}

fn delete(path: &str) -> Change {
    Change::Delete {
        path: path.to_string(),
    }
}

/// A bulk apply: hundreds of files over many directories, modified and created, and a
/// delete emptying a directory next to a new file in it. Results come back in order and
/// every file holds its bytes.
#[test]
fn a_bulk_apply_writes_every_file_and_reports_in_order() {
    let mut before = vec![("d0/gone.txt", "bye\n")];
    let names: Vec<String> = (0..300).map(|i| format!("d{}/f{i}.txt", i % 17)).collect();
    before.extend(names.iter().map(|n| (n.as_str(), "old\n")));
    let dir = tree(&before);
    let files = DirFiles::new(dir.path(), apply_policy());
    let mut changes: Vec<Change> = names
        .iter()
        .map(|n| write(n, &format!("new {n}\n")))
        .collect();
    changes.insert(100, delete("d0/gone.txt"));
    changes.push(Change::Write {
        path: "fresh/deep/x.txt".into(),
        content: b"x\n".to_vec(),
        created: true,
        renamed_from: None,
    });
    let results = files.apply(&changes);
    let paths: Vec<&str> = results.iter().map(|r| r.path.as_str()).collect();
    let want: Vec<&str> = changes.iter().map(Change::path).collect();
    assert_eq!(paths, want);
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    for n in &names {
        assert_eq!(
            fs::read_to_string(dir.path().join(n)).unwrap(),
            format!("new {n}\n")
        );
    }
    assert!(!dir.path().join("d0/gone.txt").exists());
    assert_eq!(
        fs::read_to_string(dir.path().join("fresh/deep/x.txt")).unwrap(),
        "x\n"
    );
    assert_no_temp_files(dir.path());
}

/// A delete that empties a directory and a write that creates a file in it: the directory
/// stays, with the new file, whichever order the two come in.
#[test]
fn a_delete_emptying_a_directory_and_a_new_file_in_it_both_land() {
    for delete_first in [true, false] {
        let dir = tree(&[("a/x.txt", "x\n"), ("b.txt", "b\n")]);
        let files = DirFiles::new(dir.path(), apply_policy());
        let mut changes = vec![write("a/y.txt", "y\n"), write("b.txt", "bb\n")];
        changes.insert(usize::from(!delete_first), delete("a/x.txt"));
        let results = files.apply(&changes);
        assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
        assert!(!dir.path().join("a/x.txt").exists());
        assert_eq!(
            fs::read_to_string(dir.path().join("a/y.txt")).unwrap(),
            "y\n"
        );
        assert_eq!(
            fs::read_to_string(dir.path().join("b.txt")).unwrap(),
            "bb\n"
        );
    }
}

/// A file taking the place of a directory whose only file is deleted first: the order of
/// the changes decides, so they are carried out in order.
#[test]
fn a_file_replacing_a_directory_is_written_after_the_delete() {
    let dir = tree(&[("a/x.txt", "x\n"), ("c.txt", "c\n")]);
    let files = DirFiles::new(dir.path(), apply_policy());
    let results = files.apply(&[
        delete("a/x.txt"),
        write("c.txt", "cc\n"),
        Change::Write {
            path: "a".into(),
            content: b"now a file\n".to_vec(),
            created: true,
            renamed_from: None,
        },
    ]);
    assert!(results.iter().all(|r| r.result.is_ok()), "{results:?}");
    assert_eq!(
        fs::read_to_string(dir.path().join("a")).unwrap(),
        "now a file\n"
    );
    assert_eq!(
        fs::read_to_string(dir.path().join("c.txt")).unwrap(),
        "cc\n"
    );
}
