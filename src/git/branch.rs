//! Run branches: reading a tip, moving it with compare-and-swap, deleting it, and the one
//! explicit operation that touches the working tree, [`Repo::checkout_branch`]. Moving a branch
//! that some working tree has checked out is refused: it would change that tree's HEAD.

use std::path::{Path, PathBuf};

use crate::error::Error;

use super::errors;
use super::repo::Repo;

/// What [`Repo::update_branch`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BranchUpdate {
    /// The branch did not exist and now points at the new tip.
    Created,
    /// The branch moved from `from` to the new tip.
    Moved {
        /// The previous tip.
        from: git2::Oid,
    },
    /// The branch already pointed at the new tip; nothing was written.
    Unchanged,
}

const REFLOG: &str = "codefleet: update run branch";

fn full_name(name: &str) -> Result<String, Error> {
    let full = format!("refs/heads/{name}");
    if name.starts_with('-') || name.starts_with("refs/") || !git2::Reference::is_valid_name(&full)
    {
        return Err(errors::bad_branch_name(name));
    }
    Ok(full)
}

impl Repo {
    /// The commit `refs/heads/NAME` points at, `None` when there is no such branch.
    pub fn branch_tip(&self, name: &str) -> Result<Option<git2::Oid>, Error> {
        let full = full_name(name)?;
        match self.inner.refname_to_id(&full) {
            Ok(id) => Ok(Some(id)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(errors::git(&format!("read branch `{name}`"), &e)),
        }
    }

    /// Points branch `name` at `new_tip` if and only if it currently points at `expected_old`
    /// (`None`: the branch must not exist). Fails with `E205` when it moved, `E213` when a
    /// working tree has it checked out. Never touches HEAD, the index or the working tree.
    pub fn update_branch(
        &self,
        name: &str,
        new_tip: git2::Oid,
        expected_old: Option<git2::Oid>,
    ) -> Result<BranchUpdate, Error> {
        let full = full_name(name)?;
        let current = self.branch_tip(name)?;
        if current != expected_old {
            return Err(errors::branch_moved(name, expected_old, current));
        }
        if current == Some(new_tip) {
            return Ok(BranchUpdate::Unchanged);
        }
        if let Some(place) = self.checked_out_in(name) {
            return Err(errors::checked_out(name, &place));
        }
        self.inner
            .find_commit(new_tip)
            .map_err(|e| errors::git(&format!("find commit {}", errors::short(new_tip)), &e))?;
        let result = match expected_old {
            None => self.inner.reference(&full, new_tip, false, REFLOG),
            Some(old) => self
                .inner
                .reference_matching(&full, new_tip, true, old, REFLOG),
        };
        match result {
            Ok(_) => Ok(match expected_old {
                None => BranchUpdate::Created,
                Some(from) => BranchUpdate::Moved { from },
            }),
            Err(e) => {
                // A concurrent writer is the likely cause; say so when the ref shows it.
                let now = self.branch_tip(name)?;
                if now != expected_old {
                    Err(errors::branch_moved(name, expected_old, now))
                } else {
                    Err(errors::git(&format!("update branch `{name}`"), &e))
                }
            }
        }
    }

    /// Deletes branch `name` if it points at `expected`.
    pub fn delete_branch(&self, name: &str, expected: git2::Oid) -> Result<(), Error> {
        let full = full_name(name)?;
        let current = self.branch_tip(name)?;
        if current != Some(expected) {
            return Err(errors::branch_moved(name, Some(expected), current));
        }
        if let Some(place) = self.checked_out_in(name) {
            return Err(errors::checked_out(name, &place));
        }
        let mut reference = self
            .inner
            .find_reference(&full)
            .map_err(|e| errors::git(&format!("find branch `{name}`"), &e))?;
        if reference.target() != Some(expected) {
            return Err(errors::branch_moved(
                name,
                Some(expected),
                reference.target(),
            ));
        }
        reference
            .delete()
            .map_err(|e| errors::git(&format!("delete branch `{name}`"), &e))
    }

    /// The working tree that has branch `name` checked out, if any (the main one or a linked
    /// worktree). A bare repository's HEAD checks nothing out.
    pub fn checked_out_in(&self, name: &str) -> Option<PathBuf> {
        let wanted = format!("ref: refs/heads/{name}");
        let points_here =
            |head: &Path| std::fs::read_to_string(head).is_ok_and(|s| s.trim_end() == wanted);
        let common = self.common_dir();
        if points_here(&common.join("HEAD"))
            && let Ok(main) = git2::Repository::open(common)
            && let Some(workdir) = main.workdir()
        {
            return Some(workdir.to_path_buf());
        }
        let linked = std::fs::read_dir(common.join("worktrees")).ok()?;
        for entry in linked.flatten() {
            let dir = entry.path();
            if points_here(&dir.join("HEAD")) {
                // `gitdir` holds the path of the worktree's `.git` file.
                let place = std::fs::read_to_string(dir.join("gitdir"))
                    .ok()
                    .map(|s| PathBuf::from(s.trim_end()))
                    .and_then(|p| p.parent().map(Path::to_path_buf))
                    .unwrap_or(dir);
                return Some(place);
            }
        }
        None
    }

    /// Checks out branch `name` (for `--checkout`): updates the working tree and index to its
    /// tip and points HEAD at it. Refuses when the working tree or index has uncommitted
    /// changes to tracked files (`E207`), and when the repository is bare (`E201`).
    pub fn checkout_branch(&self, name: &str) -> Result<(), Error> {
        let full = full_name(name)?;
        if self.is_bare() {
            return Err(errors::bare(self.display_path(), "check out a branch"));
        }
        let Some(tip) = self.branch_tip(name)? else {
            return Err(errors::bad_revision(
                self.display_path(),
                name,
                "there is no such branch",
            ));
        };
        let dirty = self.dirty_paths()?;
        if !dirty.is_empty() {
            return Err(errors::dirty(self.display_path(), &dirty));
        }
        let commit = self
            .inner
            .find_commit(tip)
            .map_err(|e| errors::git(&format!("find commit {}", errors::short(tip)), &e))?;
        let mut options = git2::build::CheckoutBuilder::new();
        options.safe();
        self.inner
            .checkout_tree(commit.as_object(), Some(&mut options))
            .map_err(|e| errors::git(&format!("check out `{name}`"), &e))?;
        self.inner
            .set_head(&full)
            .map_err(|e| errors::git(&format!("point HEAD at `{name}`"), &e))?;
        self.reload_index();
        Ok(())
    }

    /// Tracked paths with staged or unstaged changes (untracked and ignored files do not count).
    pub fn dirty_paths(&self) -> Result<Vec<String>, Error> {
        let mut options = git2::StatusOptions::new();
        options
            .include_untracked(false)
            .include_ignored(false)
            .exclude_submodules(true);
        let statuses = self
            .inner
            .statuses(Some(&mut options))
            .map_err(|e| errors::git("read the working tree status", &e))?;
        Ok(statuses
            .iter()
            .filter(|s| s.status() != git2::Status::CURRENT)
            .map(|s| String::from_utf8_lossy(s.path_bytes()).into_owned())
            .collect())
    }
}
