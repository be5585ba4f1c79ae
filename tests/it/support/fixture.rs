//! The one fixture every topic builds on: a temporary directory with its own HOME, config and
//! cache directories; `git` with no global or system configuration and a fixed identity (and
//! libgit2 in this process reading no user configuration either); repositories built from
//! `(path, bytes)` pairs; and the real binary run with a clean environment.
//!
//! Two shapes of test use it: fleet tests make repositories by name (`Fixture::new()`,
//! `f.repo("a", files)`, `f.git(&repo, args)`, `f.cli(...)`), git-layer tests work in the one
//! repository the fixture holds (`Fixture::with_files(files)`, `f.root()`, `f.git_here(args)`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

use codefleet::git::Repo;

/// The commit date of git-layer fixtures ([`Fixture::empty`]), in git's raw format.
pub const AUTHOR_DATE: &str = "1700000000 +0000";

/// Points libgit2's global, XDG and system config search paths at an empty directory once per
/// process, so no developer's `~/.gitconfig` changes what the tests see (as cargo's tests do).
/// Every fixture constructor calls it before a test can reach libgit2, and `Once` makes the
/// other threads wait until it is done: the setting is process-wide and not safe to change
/// while another thread reads configuration.
pub fn isolate_libgit2() {
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
            // SAFETY: runs once, inside `Once`, before any test opens a repository: every test
            // that uses libgit2 in-process makes a fixture first.
            unsafe { git2::opts::set_search_path(level, &empty) }.expect("set search path");
        }
    });
}

/// Who commits, and when, in the `git` commands a fixture runs.
struct Identity {
    author: (&'static str, &'static str),
    committer: (&'static str, &'static str),
    date: Option<&'static str>,
    /// `LC_ALL=C`, so git's messages are the ones the git-layer tests compare.
    c_locale: bool,
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// The fixture's own repository (`repo/`), which [`Fixture::empty`] creates.
    root: PathBuf,
    identity: Identity,
}

impl Fixture {
    /// An empty directory with a home: repositories are made by name with [`Fixture::repo`].
    pub fn new() -> Fixture {
        isolate_libgit2();
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Fixture {
            root: dir.path().join("repo"),
            dir,
            identity: Identity {
                author: ("Ada", "ada@example.com"),
                committer: ("Ada", "ada@example.com"),
                date: None,
                c_locale: false,
            },
        }
    }

    /// A fixture whose commits all carry the same date (2026-01-01), so identical commits have
    /// identical ids.
    pub fn dated() -> Fixture {
        let mut f = Fixture::new();
        f.identity.date = Some("2026-01-01T00:00:00Z");
        f
    }

    /// The git-layer fixture: one empty repository at [`Fixture::root`] (branch `main`, no
    /// commits), with distinct author and committer and a fixed clock.
    pub fn empty() -> Fixture {
        let mut f = Fixture::new();
        f.identity = Identity {
            author: ("Test Author", "author@example.com"),
            committer: ("Test Committer", "committer@example.com"),
            date: Some(AUTHOR_DATE),
            c_locale: true,
        };
        std::fs::create_dir_all(&f.root).expect("root");
        f.git_here(&["init", "-q", "-b", "main"]);
        f
    }

    /// [`Fixture::empty`] with one commit holding `files` (path, content).
    pub fn with_files(files: &[(&str, &str)]) -> Fixture {
        let f = Fixture::empty();
        for (path, content) in files {
            f.write(path, content.as_bytes());
        }
        f.commit_all("initial");
        f
    }

    /// `rel` under the fixture's directory.
    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// The fixture's own repository.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A directory next to the fixture's repository.
    pub fn sibling(&self, name: &str) -> PathBuf {
        self.path(name)
    }

    /// A clean environment: no user configuration, no credentials, no colour, the fixture's
    /// identity and clock.
    pub fn env(&self, cmd: &mut Command) {
        let id = &self.identity;
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", id.author.0)
            .env("GIT_AUTHOR_EMAIL", id.author.1)
            .env("GIT_COMMITTER_NAME", id.committer.0)
            .env("GIT_COMMITTER_EMAIL", id.committer.1)
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("NO_COLOR", "1");
        if let Some(date) = id.date {
            cmd.env("GIT_AUTHOR_DATE", date)
                .env("GIT_COMMITTER_DATE", date);
        }
        if id.c_locale {
            cmd.env("LC_ALL", "C");
        }
    }

    /// The real binary in `cwd` with an isolated environment (no user config, a private cache,
    /// no API keys, no git identity) plus `env`.
    pub fn cli(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("NO_COLOR", "1")
            .args(args)
            .current_dir(cwd);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("run codefleet")
    }

    /// The real binary in `cwd`, in [`Fixture::env`] (the git identity included), to be
    /// started or spawned by the test.
    pub fn binary(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.args(args).current_dir(cwd);
        cmd
    }

    /// [`Fixture::binary`], run to its end.
    pub fn run(&self, cwd: &Path, args: &[&str]) -> Output {
        self.binary(cwd, args).output().expect("run codefleet")
    }

    /// `git ARGS` in `dir`, whatever it returns.
    pub fn git_out(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        cmd.args(args).current_dir(dir).output().expect("run git")
    }

    /// `git ARGS` in `dir`, which must succeed: its standard output.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.git_out(dir, args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// [`Fixture::git`], trimmed.
    pub fn git_line(&self, dir: &Path, args: &[&str]) -> String {
        self.git(dir, args).trim().to_string()
    }

    /// [`Fixture::git`] without trailing whitespace.
    pub fn git_in(&self, dir: &Path, args: &[&str]) -> String {
        self.git(dir, args).trim_end().to_string()
    }

    /// [`Fixture::git_in`] in the fixture's repository.
    pub fn git_here(&self, args: &[&str]) -> String {
        self.git_in(&self.root, args)
    }

    /// Raw stdout bytes of a git command in the fixture's repository (for blob contents).
    pub fn git_bytes(&self, args: &[&str]) -> Vec<u8> {
        let out = self.git_out(&self.root, args);
        assert!(out.status.success(), "git {args:?} failed");
        out.stdout
    }

    /// A repository `name` with `files` committed on `main`.
    pub fn repo(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let files: Vec<(&str, &[u8])> = files.iter().map(|(p, t)| (*p, t.as_bytes())).collect();
        self.repo_bytes(name, &files)
    }

    /// [`Fixture::repo`] with files given as bytes.
    pub fn repo_bytes(&self, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).expect("repo dir");
        self.git(&dir, &["init", "-q", "-b", "main"]);
        for (path, bytes) in files {
            write_file(&dir, path, bytes);
        }
        self.git(&dir, &["add", "-A"]);
        self.git(&dir, &["commit", "-q", "-m", "init"]);
        dir
    }

    /// Writes `files` into `repo` and commits them all.
    pub fn commit_files(&self, repo: &Path, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            write_file(repo, path, text.as_bytes());
        }
        self.git(repo, &["add", "-A"]);
        self.git(repo, &["commit", "-q", "-m", message]);
    }

    /// Writes `bytes` to `rel` under the fixture (a pipeline, an edits file…).
    pub fn file(&self, rel: &str, bytes: &[u8]) -> PathBuf {
        write_file(self.dir.path(), rel, bytes);
        self.path(rel)
    }

    /// The commit `refs/heads/branch` names in `repo`, if any.
    pub fn tip(&self, repo: &Path, branch: &str) -> Option<String> {
        let branch = format!("refs/heads/{branch}");
        let out = self.git_out(repo, &["rev-parse", "--verify", "-q", &branch]);
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The blob at `rev:path` in `repo`, or `None`.
    pub fn at(&self, repo: &Path, rev: &str, path: &str) -> Option<Vec<u8>> {
        let out = self.git_out(repo, &["show", &format!("{rev}:{path}")]);
        out.status.success().then_some(out.stdout)
    }

    /// The fixture's repository through codefleet's git layer.
    pub fn open(&self) -> Repo {
        Repo::open(&self.root).expect("open fixture repo")
    }

    /// Writes a file of the fixture's repository.
    pub fn write(&self, path: &str, bytes: &[u8]) {
        write_file(&self.root, path, bytes);
    }

    /// Reads a file of the fixture's repository.
    pub fn read(&self, path: &str) -> Vec<u8> {
        std::fs::read(self.root.join(path)).expect("read file")
    }

    /// Stages everything in the fixture's repository and commits; file times are moved an hour
    /// back first, so the index records them as clean (not racy) and the working-tree fast
    /// path can be exercised.
    pub fn commit_all(&self, message: &str) -> String {
        age_files(&self.root);
        self.git_here(&["add", "-A"]);
        self.git_here(&["commit", "-q", "--allow-empty", "-m", message]);
        self.head()
    }

    /// The commit HEAD of the fixture's repository names.
    pub fn head(&self) -> String {
        self.git_here(&["rev-parse", "HEAD"])
    }

    /// What must not change in the fixture's repository when codefleet works without
    /// `--checkout`.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            status: self.git_here(&["status", "--porcelain=v1", "--untracked-files=all"]),
            index: std::fs::read(self.root.join(".git/index")).unwrap_or_default(),
            head_file: std::fs::read(self.root.join(".git/HEAD")).unwrap_or_default(),
            head: self.git_here(&["rev-parse", "HEAD"]),
            branch_list: self.git_here(&[
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

/// Bytes as text, for messages and comparisons.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Stdout and stderr of `out` as text, for messages.
pub fn said(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// No panic, no crash by signal: exit 0–3 or 130.
pub fn exited_cleanly(out: &Output) -> bool {
    let stderr = String::from_utf8_lossy(&out.stderr);
    matches!(out.status.code(), Some(0..=3)) && !stderr.contains("panicked")
}

/// The user's side of a repository, byte for byte: every file of the working tree (symlinks
/// as their targets), and the index file. Nothing but codefleet runs between two snapshots,
/// so not even `git status` refreshes the index in between.
pub fn snapshot(repo: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    walk(repo, repo, &mut out);
    out.insert(
        ".git/index".into(),
        std::fs::read(repo.join(".git/index")).unwrap_or_default(),
    );
    out.insert(
        ".git/HEAD".into(),
        std::fs::read(repo.join(".git/HEAD")).unwrap_or_default(),
    );
    out
}

fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let rel = path
            .strip_prefix(root)
            .expect("under root")
            .to_string_lossy()
            .into_owned();
        if rel == ".git" {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&path).expect("readlink");
            out.insert(
                format!("{rel} -> link"),
                target.to_string_lossy().into_owned().into_bytes(),
            );
        } else if meta.is_dir() {
            walk(root, &path, out);
        } else {
            out.insert(rel, std::fs::read(&path).expect("read"));
        }
    }
}

/// Writes `bytes` to `root/path`, making its directories.
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

/// A topic's own `Fixture`: the shared one (through `Deref`) plus the helpers the topic adds in
/// its own `impl Fixture` block. A type has one inherent method of a name in a crate, and the
/// topics name their helpers alike (`pipeline`, `run`, `tip`), so a topic with helpers wraps
/// the shared fixture instead of extending it; its helpers come first, the shared methods after.
macro_rules! topic_fixture {
    () => {
        $crate::support::fixture::topic_fixture!(wrapper);

        #[allow(dead_code)]
        impl Fixture {
            pub fn new() -> Fixture {
                Fixture($crate::support::fixture::Fixture::new())
            }

            pub fn dated() -> Fixture {
                Fixture($crate::support::fixture::Fixture::dated())
            }
        }
    };
    // The wrapper alone, for a topic with constructors of its own.
    (wrapper) => {
        /// The shared fixture, with this topic's helpers.
        pub struct Fixture(pub $crate::support::fixture::Fixture);

        impl std::ops::Deref for Fixture {
            type Target = $crate::support::fixture::Fixture;

            fn deref(&self) -> &Self::Target {
                &self.0
            }
        }
    };
}
pub(crate) use topic_fixture;
