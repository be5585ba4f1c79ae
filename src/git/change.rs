//! [`TreeChange`]: one path's new state in a commit — new bytes (or a stored blob) with a
//! mode, or deleted.
//! A rename is a delete of the old path plus a write of the new one.

use super::mode::FileMode;

/// What happens to one path in a commit built from objects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TreeChange {
    /// Write `bytes` at `path` with `mode` (regular, executable or symlink; a symlink's bytes
    /// are its target). The bytes pass through the repository's clean filters, as `git add`.
    Write {
        /// Relative, `/`-separated path.
        path: String,
        /// The new content, in working-tree form or already normalized.
        bytes: Vec<u8>,
        /// The mode to store.
        mode: FileMode,
    },
    /// Put a blob already stored with [`Repo::store_blob`](super::Repo::store_blob) at `path`:
    /// large runs write each file's blob as soon as it is computed, in parallel, instead of
    /// holding every new file in memory until the commit.
    Blob {
        /// Relative, `/`-separated path.
        path: String,
        /// The stored blob.
        id: git2::Oid,
        /// The mode to store.
        mode: FileMode,
    },
    /// Delete the file at `path` (deleting a path the parent lacks is a no-op). Directories
    /// left empty disappear, as in git.
    Delete {
        /// Relative, `/`-separated path.
        path: String,
    },
}

impl TreeChange {
    /// A write of a regular file.
    pub fn write(path: impl Into<String>, bytes: impl Into<Vec<u8>>) -> TreeChange {
        TreeChange::Write {
            path: path.into(),
            bytes: bytes.into(),
            mode: FileMode::Regular,
        }
    }

    /// A write with an explicit mode.
    pub fn write_mode(
        path: impl Into<String>,
        bytes: impl Into<Vec<u8>>,
        mode: FileMode,
    ) -> TreeChange {
        TreeChange::Write {
            path: path.into(),
            bytes: bytes.into(),
            mode,
        }
    }

    /// A deletion.
    pub fn delete(path: impl Into<String>) -> TreeChange {
        TreeChange::Delete { path: path.into() }
    }

    /// The path changed.
    pub fn path(&self) -> &str {
        match self {
            TreeChange::Write { path, .. }
            | TreeChange::Blob { path, .. }
            | TreeChange::Delete { path } => path,
        }
    }
}
