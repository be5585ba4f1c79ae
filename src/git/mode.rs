//! File modes as git stores them in trees, and the entries of a base tree listing.

use serde::{Deserialize, Serialize};

/// The mode of a non-directory tree entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// `100644`: a regular file.
    Regular,
    /// `100755`: an executable file.
    Executable,
    /// `120000`: a symbolic link; the blob holds the link target.
    Symlink,
    /// `160000`: a submodule; the id is a commit in another repository.
    Submodule,
}

impl FileMode {
    /// The mode as git writes it in a tree.
    pub fn bits(self) -> i32 {
        match self {
            FileMode::Regular => 0o100644,
            FileMode::Executable => 0o100755,
            FileMode::Symlink => 0o120000,
            FileMode::Submodule => 0o160000,
        }
    }

    /// The mode of a tree entry; `None` for trees. Old repositories may hold `100664` or
    /// `100600`, which git reads as regular files.
    pub fn from_bits(bits: i32) -> Option<FileMode> {
        match bits {
            0o100755 => Some(FileMode::Executable),
            0o120000 => Some(FileMode::Symlink),
            0o160000 => Some(FileMode::Submodule),
            b if b & 0o170000 == 0o100000 => Some(FileMode::Regular),
            _ => None,
        }
    }

    /// True for regular and executable files: content a coder may edit.
    pub fn is_file(self) -> bool {
        matches!(self, FileMode::Regular | FileMode::Executable)
    }
}

/// One non-directory entry of a base tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TreeEntry {
    /// Relative, `/`-separated path.
    pub path: String,
    /// Its mode.
    pub mode: FileMode,
    /// The blob id (the commit id for a submodule).
    pub id: git2::Oid,
}
