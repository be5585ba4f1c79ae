//! What a task sees: the base tree's files with earlier tasks' changes laid over them, read
//! straight from the object database by the ids the tree listing gave.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;
use crate::git::{self, FileMode, Repo};
use crate::hash::PathMap;

use super::errors::WorkspaceError;

/// The files of the base tree as tasks have changed them so far.
pub(crate) struct Overlay {
    /// Every editable file: path → mode (deleted files removed, created ones added).
    pub paths: BTreeMap<String, FileMode>,
    /// The base tree's blob of each editable file.
    pub base_ids: PathMap<String, git::Oid>,
    /// Content changed by earlier tasks; `None` for deleted.
    pub changed: PathMap<String, Option<Stored>>,
    /// The base tree's entries that are not editable files: symlinks and submodules. No edit
    /// may write through them or over them.
    pub fixed: BTreeMap<String, FileMode>,
}

impl Overlay {
    /// Tree confinement for a write of `rel` (normal form): not through or over a symlink, a
    /// submodule or a file, and not over a directory.
    pub fn confine(&self, rel: &str) -> Result<(), super::Refusal> {
        use super::TreeKind;
        let kind = |p: &str| {
            if self.paths.contains_key(p) {
                return Some(TreeKind::File);
            }
            match self.fixed.get(p) {
                Some(FileMode::Symlink) => Some(TreeKind::Symlink),
                Some(_) => Some(TreeKind::Submodule),
                None => None,
            }
        };
        let is_dir = |p: &str| {
            let under = format!("{p}/");
            let first = |m: &BTreeMap<String, FileMode>| {
                m.range(under.clone()..)
                    .next()
                    .is_some_and(|(k, _)| k.starts_with(&under))
            };
            first(&self.paths) || first(&self.fixed)
        };
        super::confine_in_tree(rel, kind, is_dir)
    }
}

/// Content an earlier task changed: held in memory, or already stored as a blob (big runs
/// store each new file as soon as it is computed rather than holding them all).
#[derive(Debug)]
pub(crate) enum Stored {
    /// The bytes.
    Bytes(Vec<u8>),
    /// A blob in the repository's object database.
    Blob(git::Oid),
}

/// Reads the current content of a file for a task: the overlay first, then the base.
pub(crate) struct Reader<'a> {
    pub work_dir: &'a Path,
    pub overlay: &'a Overlay,
    /// The repository's index as the task's first handle loaded it, shared by the handles of
    /// worker threads.
    pub index: Option<git::IndexShare>,
}

impl Reader<'_> {
    /// The content of `path` as the task sees it, reading the base through `repo` (one per
    /// worker thread: a [`Repo`] is not shared across threads).
    /// Whether `path` is over `max` bytes, known without reading it whole: changed content by
    /// its length; a base file git staged within the limit is not (its real size is checked
    /// again once read), else by the blob's object header. Reading headers of
    /// every blob touches most of a pack, so it is kept to the files that look too large.
    pub fn too_large(&self, repo: &Repo, path: &str, max: u64) -> bool {
        match self.overlay.changed.get(path) {
            Some(None) => return false,
            Some(Some(Stored::Bytes(b))) => return b.len() as u64 > max,
            Some(Some(Stored::Blob(id))) => return blob_size(repo, *id).is_some_and(|s| s > max),
            None => {}
        }
        let Some(id) = self.overlay.base_ids.get(path) else {
            return false;
        };
        if repo.staged_size(path, *id).is_some_and(|size| size <= max) {
            return false;
        }
        blob_size(repo, *id).is_some_and(|size| size > max)
    }

    pub fn read(&self, repo: &Repo, path: &str) -> Result<Option<Vec<u8>>, Error> {
        match self.overlay.changed.get(path) {
            Some(None) => return Ok(None),
            Some(Some(Stored::Bytes(b))) => return Ok(Some(b.clone())),
            Some(Some(Stored::Blob(id))) => {
                let blob = repo.git2().find_blob(*id).map_err(|e| {
                    Error::from(WorkspaceError::ReadBack {
                        path: path.to_string(),
                        why: e.to_string(),
                    })
                })?;
                return Ok(Some(blob.content().to_vec()));
            }
            None => {}
        }
        // The blob id comes from the listing: `Repo::read_file` would look the path up from
        // the root tree for every file, which costs more than the blob itself on big trees.
        let Some(id) = self.overlay.base_ids.get(path) else {
            return Ok(None);
        };
        let Some(mode) = self.overlay.paths.get(path) else {
            return Ok(None);
        };
        // A clean working-tree copy is read instead of inflating the blob (see
        // `Repo::read_entry`); anything else comes from the object database.
        let entry = git::TreeEntry {
            path: path.to_string(),
            mode: *mode,
            id: *id,
        };
        Ok(repo.read_entry(&entry)?.map(|file| file.bytes))
    }

    /// A repository handle for a worker thread.
    pub fn open(&self) -> Option<Repo> {
        let repo = Repo::open(self.work_dir).ok()?;
        if let Some(index) = &self.index {
            repo.share_index(index);
        }
        Some(repo)
    }
}

/// A blob's size from its object header.
fn blob_size(repo: &Repo, id: git::Oid) -> Option<u64> {
    let odb = repo.git2().odb().ok()?;
    odb.read_header(id).ok().map(|(size, _)| size as u64)
}
