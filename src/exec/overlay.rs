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
    /// The size of `path` when it can be known without reading it whole (changed content, or
    /// the object header of a base blob).
    pub fn size(&self, repo: &Repo, path: &str) -> Option<u64> {
        if let Some(c) = self.overlay.changed.get(path) {
            return c.as_ref().map(|b| b.len() as u64);
        }
        let id = self.overlay.base_ids.get(path)?;
        let odb = repo.git2().odb().ok()?;
        odb.read_header(*id).ok().map(|(size, _)| size as u64)
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
