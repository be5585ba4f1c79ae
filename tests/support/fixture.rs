//! The fixture the end-to-end tests share: a temporary directory with its own HOME, config and
//! cache directories, git with isolated configuration and a fixed identity, repositories built
//! from `(path, text)` pairs, and commands run with a clean environment.

#![allow(dead_code)] // each test binary uses its own part

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Fixture {
    pub dir: tempfile::TempDir,
    /// Commit dates fixed at 2026-01-01, so identical commits have identical ids.
    fixed_dates: bool,
}

impl Fixture {
    pub fn new() -> Fixture {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("home")).expect("home");
        Fixture {
            dir,
            fixed_dates: false,
        }
    }

    /// A fixture whose commits all carry the same date.
    pub fn dated() -> Fixture {
        Fixture {
            fixed_dates: true,
            ..Fixture::new()
        }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A clean environment: no user configuration, no credentials, no colour.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.path("home"))
            .env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_CACHE_HOME", self.path("cache"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_AUTHOR_NAME", "Ada")
            .env("GIT_AUTHOR_EMAIL", "ada@example.com")
            .env("GIT_COMMITTER_NAME", "Ada")
            .env("GIT_COMMITTER_EMAIL", "ada@example.com")
            .env("GIT_TERMINAL_PROMPT", "0")
            .env("NO_COLOR", "1");
        if self.fixed_dates {
            cmd.env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
                .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z");
        }
    }

    /// The real binary in `cwd` with an isolated environment (no user config, a private cache,
    /// no API keys) plus `env`.
    pub fn cli(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .env("XDG_CONFIG_HOME", self.dir.path().join("config"))
            .env("XDG_CACHE_HOME", self.dir.path().join("cache"))
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

    /// `git ARGS` in `dir`, which must succeed: its standard output.
    pub fn git(&self, dir: &Path, args: &[&str]) -> String {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd.args(args).current_dir(dir).output().expect("run git");
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

    /// A repository `name` with `files` committed on `main`.
    pub fn repo(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.path(name);
        std::fs::create_dir_all(&dir).expect("repo dir");
        self.git(&dir, &["init", "-q", "-b", "main"]);
        self.commit_files(&dir, files, "init");
        dir
    }

    /// Writes `files` into `repo` and commits them all.
    pub fn commit_files(&self, repo: &Path, files: &[(&str, &str)], message: &str) {
        for (path, text) in files {
            let p = repo.join(path);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        self.git(repo, &["add", "-A"]);
        self.git(repo, &["commit", "-q", "-m", message]);
    }
}

/// Bytes as text, for messages and comparisons.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
