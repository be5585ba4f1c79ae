//! [`Repo`]: an opened repository and the facts about it the other parts of this module need
//! (its git directories, whether it is bare or shallow, which clean filter drivers it defines).

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use crate::error::Error;

use super::errors;
use std::sync::Arc;

use super::index::IndexSnapshot;

/// An opened repository. Not `Sync`: open one per thread (opening is cheap).
pub struct Repo {
    pub(super) inner: git2::Repository,
    /// Names of `filter.<name>` drivers with a `clean` or `process` command: libgit2 cannot run
    /// them, so a path that uses one cannot be committed faithfully.
    pub(super) filter_drivers: Vec<String>,
    /// The index as loaded for the working-tree fast path, loaded on first use.
    pub(super) index: RefCell<Option<Arc<IndexSnapshot>>>,
    /// The writer of loose blobs, chosen on first use (see `loose.rs`).
    pub(super) loose: std::cell::OnceCell<Option<super::loose::Loose>>,
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo")
            .field("git_dir", &self.git_dir())
            .finish()
    }
}

impl Repo {
    /// Opens the repository that contains `path` (a directory or file inside a working tree, or
    /// a git directory). Bare, shallow and detached-HEAD repositories open fine.
    pub fn open(path: &Path) -> Result<Repo, Error> {
        if let Err(e) = std::fs::metadata(path) {
            return Err(errors::io(path, &e));
        }
        let inner = match git2::Repository::discover(path) {
            Ok(r) => r,
            Err(e) if e.code() == git2::ErrorCode::NotFound => {
                return Err(errors::not_a_repo(path));
            }
            Err(e) => return Err(errors::git(&format!("open `{}`", path.display()), &e)),
        };
        Ok(Repo::from_git2(inner))
    }

    /// Wraps an already opened libgit2 repository.
    pub fn from_git2(inner: git2::Repository) -> Repo {
        let filter_drivers = configured_filter_drivers(&inner);
        Repo {
            inner,
            filter_drivers,
            index: RefCell::new(None),
            loose: std::cell::OnceCell::new(),
        }
    }

    /// Another handle on the same repository, for another thread (a `Repo` is `Send`, not
    /// `Sync`).
    pub fn reopen(&self) -> Result<Repo, Error> {
        let path = self.work_dir().unwrap_or_else(|| self.git_dir());
        git2::Repository::open(path)
            .map(Repo::from_git2)
            .map_err(|e| errors::git(&format!("reopen `{}`", path.display()), &e))
    }

    /// The libgit2 handle, for what this module does not wrap.
    pub fn git2(&self) -> &git2::Repository {
        &self.inner
    }

    /// The git directory (`.git`, or `.git/worktrees/NAME` in a linked worktree).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// The git directory shared by all worktrees: journals and the lock live here.
    pub fn common_dir(&self) -> &Path {
        self.inner.commondir()
    }

    /// `<common dir>/codefleet`: codefleet's own state in this repository.
    pub fn codefleet_dir(&self) -> PathBuf {
        self.common_dir().join("codefleet")
    }

    /// The working tree, `None` for a bare repository.
    pub fn work_dir(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// The directory to name in messages: the working tree, else the git directory.
    pub fn display_path(&self) -> &Path {
        self.work_dir().unwrap_or_else(|| self.git_dir())
    }

    /// True for a bare repository.
    pub fn is_bare(&self) -> bool {
        self.inner.is_bare()
    }

    /// True for a shallow clone (fine to run on: a base needs only its own commit).
    pub fn is_shallow(&self) -> bool {
        self.inner.is_shallow()
    }
}

/// `filter.<name>.clean` / `filter.<name>.process` entries in the repository's configuration.
fn configured_filter_drivers(repo: &git2::Repository) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(config) = repo.config() else {
        return out;
    };
    let Ok(mut entries) = config.entries(Some(r"^filter\..*\.(clean|process)$")) else {
        return out;
    };
    while let Some(Ok(entry)) = entries.next() {
        if let Ok(name) = entry.name() {
            let driver = name
                .strip_prefix("filter.")
                .and_then(|r| r.rsplit_once('.'))
                .map(|(d, _)| d.to_string());
            if let Some(d) = driver
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
    }
    out
}
