//! Reading a base file for a task, with a fast path: the working-tree copy is read instead of
//! inflating the blob only when git itself would call the file clean — the index entry holds the
//! base's blob id and mode, and its stat data (size, mtime, ctime, inode, device, owner) match
//! the file exactly and are not racy. Anything else (modified, staged, racy, filtered, skipped)
//! reads the object database, so a user's uncommitted work never leaks into a run.

use std::io::Read;
use std::path::Path;
use std::sync::Arc;

use crate::error::Error;
use crate::hash::PathMap;

use super::base::Base;
use super::index::{IndexShare, IndexSnapshot, IndexStat};
use super::mode::{FileMode, TreeEntry};
use super::repo::Repo;

/// Where a base file's bytes came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// The working-tree file, proven identical to the base blob.
    WorkTree,
    /// The object database.
    ObjectDatabase,
}

/// A file of the base tree with its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseFile {
    /// The content exactly as the base blob holds it.
    pub bytes: Vec<u8>,
    /// Its mode.
    pub mode: FileMode,
    /// The base blob id.
    pub id: git2::Oid,
    /// Where the bytes were read from.
    pub source: Source,
}

impl Repo {
    /// The base content of `path`, equal byte for byte to [`Repo::read_blob`], read from the
    /// working tree when that is provably the same and cheaper. `None` when the base has no
    /// such file; submodules give `None`; symlinks give their target from the object database.
    pub fn read_file(&self, base: &Base, path: &str) -> Result<Option<BaseFile>, Error> {
        match self.entry(base, path)? {
            Some(entry) => self.read_entry(&entry),
            None => Ok(None),
        }
    }

    /// [`Repo::read_file`] for an entry the caller already holds (from [`Repo::list_paths`]):
    /// no lookup of the path from the root tree, which costs more than the read itself on big
    /// trees. The same fast path and the same guarantee: the bytes are the blob's.
    pub fn read_entry(&self, entry: &TreeEntry) -> Result<Option<BaseFile>, Error> {
        if entry.mode == FileMode::Submodule {
            return Ok(None);
        }
        if entry.mode.is_file()
            && let Some(bytes) = self.read_clean_worktree_file(entry)
        {
            return Ok(Some(BaseFile {
                bytes,
                mode: entry.mode,
                id: entry.id,
                source: Source::WorkTree,
            }));
        }
        Ok(Some(BaseFile {
            bytes: self.blob_bytes(entry.id)?,
            mode: entry.mode,
            id: entry.id,
            source: Source::ObjectDatabase,
        }))
    }

    /// Forgets the loaded index, so the next [`Repo::read_file`] reloads it.
    pub fn reload_index(&self) {
        self.index.replace(None);
    }

    #[cfg(not(unix))]
    fn read_clean_worktree_file(&self, _entry: &TreeEntry) -> Option<Vec<u8>> {
        None
    }

    /// Without Unix stat data there is no working-tree fast path, so no index to load.
    #[cfg(not(unix))]
    fn load_index(&self) -> Option<IndexSnapshot> {
        None
    }

    /// The loaded index (loading it on first use), shared: worker threads' handles on the
    /// same repository take it with [`Repo::share_index`] instead of each reading and hashing
    /// the whole index file again.
    pub fn index_snapshot(&self) -> Option<IndexShare> {
        if self.index.borrow().is_none() {
            let snapshot = self.load_index()?;
            self.index.replace(Some(Arc::new(snapshot)));
        }
        self.index
            .borrow()
            .as_ref()
            .map(|s| IndexShare(Arc::clone(s)))
    }

    /// Whether anything may convert content between the working tree and blobs (attributes,
    /// `core.autocrlf`), as found when the index was loaded; `None` when it is not loaded.
    pub(super) fn converts(&self) -> Option<bool> {
        self.index.borrow().as_ref().map(|s| s.conversions)
    }

    /// Uses an index another handle on the same repository loaded.
    pub fn share_index(&self, index: &IndexShare) {
        self.index.replace(Some(Arc::clone(&index.0)));
    }

    /// The size git recorded when it staged `path`, when the index holds it with blob `id`:
    /// what a clean working-tree copy (the one [`Repo::read_entry`] reads) measures, known
    /// without a `stat`.
    pub fn staged_size(&self, path: &str, id: git2::Oid) -> Option<u64> {
        let index = self.index_snapshot()?;
        let ie = index.0.entries.get(path.as_bytes())?;
        (ie.id == id).then_some(u64::from(ie.size))
    }

    #[cfg(unix)]
    fn read_clean_worktree_file(&self, entry: &TreeEntry) -> Option<Vec<u8>> {
        use std::os::unix::fs::{MetadataExt, OpenOptionsExt};

        let workdir = self.work_dir()?;
        let snapshot = self.index_snapshot()?.0;
        let ie = snapshot.entries.get(entry.path.as_bytes())?;
        // assume-unchanged (0x8000) and skip-worktree (extended 0x4000) make git trust or skip
        // the working tree without looking: those files prove nothing.
        if ie.id != entry.id
            || ie.mode != entry.mode.bits() as u32
            || ie.flags & 0x8000 != 0
            || ie.flags_extended & 0x4000 != 0
        {
            return None;
        }
        let racy = (i64::from(ie.mtime.0), ie.mtime.1) >= snapshot.mtime;
        if racy {
            return None;
        }
        if self.uses_filter_driver(&entry.path) {
            return None;
        }
        if snapshot.encodings
            && !matches!(
                self.inner.get_attr(
                    Path::new(&entry.path),
                    "working-tree-encoding",
                    git2::AttrCheckFlags::default()
                ),
                Ok(None)
            )
        {
            return None;
        }
        // Never through a symlink in the last component; a link or another file anywhere on
        // the way shows in the stat data compared below (inode, ctime).
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(workdir.join(&entry.path))
            .ok()?;
        // Read what the index says the file holds, in one `read`: a file that grew or shrank
        // fails the size checks below.
        let expected = ie.size as usize;
        let mut bytes = Vec::with_capacity(expected);
        (&mut file)
            .take(expected as u64)
            .read_to_end(&mut bytes)
            .ok()?;
        // Stat the open file after reading, so a write during the read shows as a change.
        let meta = file.metadata().ok()?;
        let executable = meta.mode() & 0o111 != 0;
        let same = meta.file_type().is_file()
            && meta.len() == bytes.len() as u64
            && meta.len() as u32 == ie.size
            && (meta.mtime() as i32, meta.mtime_nsec() as u32) == ie.mtime
            && (meta.ctime() as i32, meta.ctime_nsec() as u32) == ie.ctime
            && meta.ino() as u32 == ie.ino
            && meta.dev() as u32 == ie.dev
            && meta.uid() == ie.uid
            && meta.gid() == ie.gid
            && executable == (entry.mode == FileMode::Executable);
        if !same {
            return None;
        }
        // A checkout filter (CRLF, ident, encoding) that changed the bytes changed their
        // length too; equal lengths mean the working-tree copy is the blob itself.
        if snapshot.conversions {
            let odb = self.inner.odb().ok()?;
            let (size, kind) = odb.read_header(entry.id).ok()?;
            if kind != git2::ObjectType::Blob || size != bytes.len() {
                return None;
            }
        }
        Some(bytes)
    }

    #[cfg(unix)]
    fn load_index(&self) -> Option<IndexSnapshot> {
        use std::os::unix::fs::MetadataExt;
        let meta = std::fs::metadata(self.git_dir().join("index")).ok()?;
        let mtime = (meta.mtime(), meta.mtime_nsec() as u32);
        // Opened on its own rather than through the repository, which would keep its copy of
        // every entry in memory for the whole run next to the snapshot built here.
        let index = git2::Index::open(&self.git_dir().join("index")).ok()?;
        let entries = index
            .iter()
            // Stage bits (0x3000) set: a conflict entry, never clean.
            .filter(|e| e.flags & 0x3000 == 0)
            .map(|e| {
                let stat = IndexStat {
                    id: e.id,
                    mode: e.mode,
                    flags: e.flags,
                    flags_extended: e.flags_extended,
                    mtime: (e.mtime.seconds(), e.mtime.nanoseconds()),
                    ctime: (e.ctime.seconds(), e.ctime.nanoseconds()),
                    dev: e.dev,
                    ino: e.ino,
                    uid: e.uid,
                    gid: e.gid,
                    size: e.file_size,
                };
                (e.path, stat)
            })
            .collect::<PathMap<_, _>>();
        let encodings = self.attributes_mention(&entries, &[b"working-tree-encoding"]);
        // Without attributes that convert content and without core.autocrlf, a clean
        // working-tree file is the blob byte for byte; otherwise its length is compared with
        // the blob's (reading the blob's header, which touches the pack).
        let autocrlf = self
            .inner
            .config()
            .ok()
            .and_then(|c| c.get_string("core.autocrlf").ok())
            .is_some_and(|v| !v.eq_ignore_ascii_case("false"));
        let conversions = autocrlf
            || self.attributes_mention(
                &entries,
                &[b"text", b"eol", b"crlf", b"ident", b"filter", b"encoding"],
            );
        Some(IndexSnapshot {
            entries,
            mtime,
            encodings,
            conversions,
        })
    }

    /// True when any attributes file git would read mentions `word`: every `.gitattributes`
    /// in the index (working-tree copy, else the staged blob), `info/attributes`, and the
    /// user's attributes file. Unreadable files count as mentioning it.
    #[cfg(unix)]
    fn attributes_mention(&self, entries: &PathMap<Vec<u8>, IndexStat>, words: &[&[u8]]) -> bool {
        let has = |bytes: &[u8]| {
            words
                .iter()
                .any(|word| bytes.windows(word.len()).any(|w| w == *word))
        };
        let workdir = self.work_dir();
        for (path, stat) in entries {
            if !(path == b".gitattributes" || path.ends_with(b"/.gitattributes")) {
                continue;
            }
            let on_disk = std::str::from_utf8(path)
                .ok()
                .and_then(|p| std::fs::read(workdir?.join(p)).ok());
            let bytes = on_disk.or_else(|| self.blob_bytes(stat.id).ok());
            if bytes.is_none_or(|b| has(&b)) {
                return true;
            }
        }
        let mut files = vec![self.common_dir().join("info/attributes")];
        let config = self.inner.config().ok();
        match config
            .as_ref()
            .and_then(|c| c.get_path("core.attributesFile").ok())
        {
            Some(p) => files.push(p),
            None => {
                if let Some(xdg) = std::env::var_os("XDG_CONFIG_HOME").filter(|v| !v.is_empty()) {
                    files.push(std::path::PathBuf::from(xdg).join("git/attributes"));
                } else if let Some(home) = std::env::var_os("HOME") {
                    files.push(std::path::PathBuf::from(home).join(".config/git/attributes"));
                }
            }
        }
        files
            .iter()
            .any(|f| std::fs::read(f).is_ok_and(|b| has(&b)))
    }

    /// True when `path` names a filter driver that has a clean or process command.
    pub(super) fn uses_filter_driver(&self, path: &str) -> bool {
        self.filter_driver_of(path).is_some()
    }

    pub(super) fn filter_driver_of(&self, path: &str) -> Option<String> {
        if self.filter_drivers.is_empty() {
            return None;
        }
        let value = self
            .inner
            .get_attr(Path::new(path), "filter", git2::AttrCheckFlags::default())
            .ok()??;
        self.filter_drivers
            .iter()
            .find(|d| d.as_str() == value)
            .cloned()
    }
}
