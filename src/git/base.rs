//! [`Base`]: the commit a run starts from, and reading its tree (blobs, entries, the listing
//! of every path) straight from the object database.

use std::path::Path;

use crate::error::Error;

use super::errors;
use super::mode::{FileMode, TreeEntry};
use super::repo::Repo;

/// The commit a run starts from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    /// The revision as given (`HEAD` by default).
    pub rev: String,
    /// The commit it resolved to.
    pub commit: git2::Oid,
    /// That commit's tree.
    pub tree: git2::Oid,
}

impl Repo {
    /// Resolves the base of a run: `rev` (`--base`), or `HEAD` when `None`. A detached HEAD is
    /// fine; an unborn branch (no commit yet) is an error with a hint.
    pub fn base(&self, rev: Option<&str>) -> Result<Base, Error> {
        let commit = match rev {
            None => match self.inner.head() {
                Ok(head) => head
                    .peel_to_commit()
                    .map_err(|e| errors::bad_revision(self.display_path(), "HEAD", e.message()))?,
                Err(e) if e.code() == git2::ErrorCode::UnbornBranch => {
                    return Err(errors::unborn(
                        self.display_path(),
                        &self.unborn_branch_name(),
                    ));
                }
                Err(e) if e.code() == git2::ErrorCode::NotFound => {
                    return Err(errors::unborn(
                        self.display_path(),
                        &self.unborn_branch_name(),
                    ));
                }
                Err(e) => return Err(errors::git("read HEAD", &e)),
            },
            Some(rev) => {
                let obj = self
                    .inner
                    .revparse_single(rev)
                    .map_err(|e| errors::bad_revision(self.display_path(), rev, e.message()))?;
                obj.peel_to_commit()
                    .map_err(|e| errors::bad_revision(self.display_path(), rev, e.message()))?
            }
        };
        Ok(Base {
            rev: rev.unwrap_or("HEAD").to_string(),
            commit: commit.id(),
            tree: commit.tree_id(),
        })
    }

    fn unborn_branch_name(&self) -> String {
        std::fs::read_to_string(self.git_dir().join("HEAD"))
            .ok()
            .and_then(|s| {
                s.trim()
                    .strip_prefix("ref: refs/heads/")
                    .map(str::to_string)
            })
            .unwrap_or_else(|| "HEAD".to_string())
    }

    pub(super) fn tree(&self, id: git2::Oid) -> Result<git2::Tree<'_>, Error> {
        self.inner
            .find_tree(id)
            .map_err(|e| errors::git(&format!("read tree {}", errors::short(id)), &e))
    }

    /// The non-directory entry at `path` in the base tree, `None` when there is none (or it is
    /// a directory).
    pub fn entry(&self, base: &Base, path: &str) -> Result<Option<TreeEntry>, Error> {
        let tree = self.tree(base.tree)?;
        self.entry_in(&tree, path)
    }

    pub(super) fn entry_in(
        &self,
        tree: &git2::Tree<'_>,
        path: &str,
    ) -> Result<Option<TreeEntry>, Error> {
        if path.is_empty() {
            return Ok(None);
        }
        match tree.get_path(Path::new(path)) {
            Ok(e) => Ok(FileMode::from_bits(e.filemode()).map(|mode| TreeEntry {
                path: path.to_string(),
                mode,
                id: e.id(),
            })),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(e) => Err(errors::git(&format!("look up `{path}`"), &e)),
        }
    }

    /// The bytes of `path` in the base tree exactly as stored (after git's clean filters, so
    /// line endings are as committed); a symlink gives its target. `None` when the base has no
    /// such file; submodules have no content here and also give `None`.
    pub fn read_blob(&self, base: &Base, path: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.entry(base, path)? {
            Some(e) if e.mode != FileMode::Submodule => self.blob_bytes(e.id).map(Some),
            _ => Ok(None),
        }
    }

    pub(super) fn blob_bytes(&self, id: git2::Oid) -> Result<Vec<u8>, Error> {
        let blob = self
            .inner
            .find_blob(id)
            .map_err(|e| errors::git(&format!("read blob {}", errors::short(id)), &e))?;
        Ok(blob.content().to_vec())
    }

    /// Every non-directory path of the base tree with its mode, sorted as git sorts them.
    /// Paths that are not UTF-8 are left out (and logged): they stay untouched in every commit.
    pub fn list_paths(&self, base: &Base) -> Result<Vec<TreeEntry>, Error> {
        let mut out = Vec::new();
        let mut skipped = 0usize;
        self.walk(self.tree(base.tree)?, "", &mut out, &mut skipped)?;
        if skipped > 0 {
            tracing::warn!(
                skipped,
                repo = %self.display_path().display(),
                "paths that are not UTF-8 are left out of the file list"
            );
        }
        Ok(out)
    }

    fn walk(
        &self,
        tree: git2::Tree<'_>,
        prefix: &str,
        out: &mut Vec<TreeEntry>,
        skipped: &mut usize,
    ) -> Result<(), Error> {
        for entry in tree.iter() {
            let Ok(name) = std::str::from_utf8(entry.name_bytes()) else {
                *skipped += 1;
                continue;
            };
            let path = format!("{prefix}{name}");
            match FileMode::from_bits(entry.filemode()) {
                Some(mode) => out.push(TreeEntry {
                    path,
                    mode,
                    id: entry.id(),
                }),
                None => {
                    let sub = self.tree(entry.id())?;
                    self.walk(sub, &format!("{path}/"), out, skipped)?;
                }
            }
        }
        Ok(())
    }
}
