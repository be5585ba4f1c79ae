//! What a task sees: the base tree's files with earlier tasks' changes laid over them, read
//! straight from the object database by the ids the tree listing gave.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use crate::error::Error;
use crate::git::{self, FileMode, Repo};

/// The files of the base tree as tasks have changed them so far.
pub(crate) struct Overlay {
    /// Every editable file: path → mode (deleted files removed, created ones added).
    pub paths: BTreeMap<String, FileMode>,
    /// The base tree's blob of each editable file.
    pub base_ids: HashMap<String, git::Oid>,
    /// Content changed by earlier tasks; `None` for deleted.
    pub changed: HashMap<String, Option<Vec<u8>>>,
}

/// Reads the current content of a file for a task: the overlay first, then the base.
pub(crate) struct Reader<'a> {
    pub work_dir: &'a Path,
    pub overlay: &'a Overlay,
}

impl Reader<'_> {
    /// The content of `path` as the task sees it, reading the base through `repo` (one per
    /// worker thread: a [`Repo`] is not shared across threads).
    /// Whether `path` is over `max` bytes, known without reading it whole: changed content by
    /// its length; a base file whose working-tree copy is within the limit is not (its real
    /// size is checked again once read), else by the blob's object header. Reading headers of
    /// every blob touches most of a pack, so it is kept to the files that look too large.
    pub fn too_large(&self, repo: &Repo, path: &str, max: u64) -> bool {
        if let Some(c) = self.overlay.changed.get(path) {
            return c.as_ref().is_some_and(|b| b.len() as u64 > max);
        }
        if std::fs::symlink_metadata(self.work_dir.join(path)).is_ok_and(|m| m.len() <= max) {
            return false;
        }
        let Some(id) = self.overlay.base_ids.get(path) else {
            return false;
        };
        repo.git2()
            .odb()
            .ok()
            .and_then(|odb| odb.read_header(*id).ok())
            .is_some_and(|(size, _)| size as u64 > max)
    }

    pub fn read(&self, repo: &Repo, path: &str) -> Result<Option<Vec<u8>>, Error> {
        if let Some(c) = self.overlay.changed.get(path) {
            return Ok(c.clone());
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
        Repo::open(self.work_dir).ok()
    }
}
