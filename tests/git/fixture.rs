//! A temporary git repository with isolated configuration: `git` runs with no global or system
//! config and a fixed identity and clock; libgit2 in this process reads no user config either.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

use codefleet::git::Repo;

pub const AUTHOR_DATE: &str = "1700000000 +0000";

/// Points libgit2's global, XDG and system config search paths at an empty directory once per
/// process, so no developer's `~/.gitconfig` changes what the tests see (as cargo's tests do).
fn isolate_libgit2() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let empty = std::env::temp_dir().join("codefleet-test-empty-git-config");
        std::fs::create_dir_all(&empty).expect("create empty config dir");
        for level in [
            git2::ConfigLevel::Global,
            git2::ConfigLevel::XDG,
            git2::ConfigLevel::System,
            git2::ConfigLevel::ProgramData,
        ] {
            // SAFETY: called once, before any test opens a repository through this Once.
            unsafe { git2::opts::set_search_path(level, &empty) }.expect("set search path");
        }
    });
}

pub struct Fixture {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    home: PathBuf,
}

impl Fixture {
    /// An empty repository (branch `main`, no commits).
    pub fn empty() -> Fixture {
        isolate_libgit2();
        let tmp = tempfile::tempdir().expect("tempdir");
        let home = tmp.path().join("home");
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&home).expect("home");
        std::fs::create_dir_all(&root).expect("root");
        let f = Fixture {
            _tmp: tmp,
            root,
            home,
        };
        f.git(&["init", "-q", "-b", "main"]);
        f
    }

    /// A repository with one commit holding `files` (path, content).
    pub fn with_files(files: &[(&str, &str)]) -> Fixture {
        let f = Fixture::empty();
        for (path, content) in files {
            f.write(path, content.as_bytes());
        }
        f.commit_all("initial");
        f
    }

    pub fn path(&self) -> &Path {
        &self.root
    }

    /// A sibling directory inside the fixture's temporary directory.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.root.parent().expect("parent").join(name)
    }

    pub fn open(&self) -> Repo {
        Repo::open(&self.root).expect("open fixture repo")
    }

    pub fn command(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Test Author")
            .env("GIT_AUTHOR_EMAIL", "author@example.com")
            .env("GIT_COMMITTER_NAME", "Test Committer")
            .env("GIT_COMMITTER_EMAIL", "committer@example.com")
            .env("GIT_AUTHOR_DATE", AUTHOR_DATE)
            .env("GIT_COMMITTER_DATE", AUTHOR_DATE)
            .env("LC_ALL", "C")
            .output()
            .expect("run git")
    }

    /// Runs git in `dir`, asserts success, returns trimmed stdout.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.command(dir, args);
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim_end().to_string()
    }

    pub fn git(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    /// Raw stdout bytes of a git command (for blob contents).
    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.command(&self.root, args);
        assert!(out.status.success(), "git {args:?} failed");
        out.stdout
    }

    pub fn write(&self, path: &str, bytes: &[u8]) {
        write_file(&self.root, path, bytes);
    }

    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.root.join(path)).expect("read file")
    }

    /// Stages everything and commits; file times are moved an hour back first, so the index
    /// records them as clean (not racy) and the working-tree fast path can be exercised.
    pub fn commit_all(&self, message: &str) -> String {
        age_files(&self.root);
        self.git(&["add", "-A"]);
        self.git(&["commit", "-q", "--allow-empty", "-m", message]);
        self.git(&["rev-parse", "HEAD"])
    }

    pub fn head(&self) -> String {
        self.git(&["rev-parse", "HEAD"])
    }

    /// What must not change when codefleet works without `--checkout`.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            status: self.git(&["status", "--porcelain=v1", "--untracked-files=all"]),
            index: std::fs::read(self.root.join(".git/index")).unwrap_or_default(),
            head_file: std::fs::read(self.root.join(".git/HEAD")).unwrap_or_default(),
            head: self.git(&["rev-parse", "HEAD"]),
            branch_list: self.git(&[
                "for-each-ref",
                "--format=%(refname) %(objectname)",
                "refs/heads/main",
            ]),
        }
    }
}

#[derive(Debug, PartialEq, Eq)]
pub struct Snapshot {
    status: String,
    index: Vec<u8>,
    head_file: Vec<u8>,
    head: String,
    branch_list: String,
}

pub fn write_file(root: &Path, path: &str, bytes: &[u8]) {
    let full = root.join(path);
    if let Some(parent) = full.parent() {
        std::fs::create_dir_all(parent).expect("create dirs");
    }
    std::fs::write(full, bytes).expect("write file");
}

/// Sets every regular file's mtime an hour back (symlinks and `.git` are left alone).
pub fn age_files(root: &Path) {
    let past = std::time::SystemTime::now() - std::time::Duration::from_secs(3600);
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read dir").flatten() {
            let path = entry.path();
            let kind = entry.file_type().expect("file type");
            if path.file_name().is_some_and(|n| n == ".git") {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                std::fs::File::options()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_modified(past))
                    .expect("set mtime");
            }
        }
    }
}

#[cfg(unix)]
pub fn set_executable(root: &Path, path: &str) {
    use std::os::unix::fs::PermissionsExt;
    let full = root.join(path);
    let mut perms = std::fs::metadata(&full).expect("meta").permissions();
    perms.set_mode(0o755);
    std::fs::set_permissions(full, perms).expect("chmod");
}

#[cfg(unix)]
pub fn symlink(root: &Path, target: &str, path: &str) {
    std::os::unix::fs::symlink(target, root.join(path)).expect("symlink");
}
