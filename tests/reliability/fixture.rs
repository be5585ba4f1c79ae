//! Real repositories in a temp dir with isolated git configuration, the real binary, and the
//! `git` CLI as the witness.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Fixture {
    pub dir: tempfile::TempDir,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Fixture { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("home/config"))
            .env("XDG_CACHE_HOME", self.path("home/cache"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("NO_COLOR", "1");
    }

    /// `git` in `repo`; panics when it fails.
    pub fn git(&self, repo: &Path, args: &[&str]) -> String {
        let out = self.git_out(repo, args);
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn git_out(&self, repo: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        cmd.args(args).current_dir(repo).output().expect("run git")
    }

    /// A repository `name` with `files` committed on `main`.
    pub fn repo(&self, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).expect("repo dir");
        self.git(&dir, &["init", "-q", "-b", "main"]);
        for (path, bytes) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, bytes).expect("write");
        }
        self.git(&dir, &["add", "-A"]);
        self.git(&dir, &["commit", "-q", "-m", "init"]);
        dir
    }

    /// Writes `text` to `rel` under the fixture (a pipeline, an edits file…).
    pub fn file(&self, rel: &str, text: &[u8]) -> PathBuf {
        let p = self.path(rel);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(&p, text).expect("write");
        p
    }

    pub fn command(&self, cwd: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.args(args).current_dir(cwd);
        cmd
    }

    pub fn cli(&self, cwd: &Path, args: &[&str]) -> Output {
        self.command(cwd, args).output().expect("run codefleet")
    }

    /// The commit `refs/heads/branch` names, if any.
    pub fn tip(&self, repo: &Path, branch: &str) -> Option<String> {
        let out = self.git_out(
            repo,
            &[
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ],
        );
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    /// The blob at `rev:path`, or `None`.
    pub fn at(&self, repo: &Path, rev: &str, path: &str) -> Option<Vec<u8>> {
        let out = self.git_out(repo, &["show", &format!("{rev}:{path}")]);
        out.status.success().then_some(out.stdout)
    }
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
