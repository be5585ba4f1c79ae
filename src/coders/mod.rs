//! The coders: one module per edit format and task kind. Pure: text in, edits or failures out;
//! no file system, no git. The files a coder may read and the policy on writing them come in
//! through the [`Files`] trait, implemented outside this module.
//!
//! This file is the public contract used by `workspace/`, `exec/` and `cli/apply`:
//! [`Format`], [`Files`], [`parse_and_apply`], [`Outcome`], [`Change`], [`EditReport`].

use std::fmt;

/// The edit formats of EDIT-FORMATS.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// SEARCH/REPLACE blocks, path above the fence.
    Diff,
    /// SEARCH/REPLACE blocks, path as the first line inside the fence.
    DiffFenced,
    /// Unified diffs: fenced model replies or whole patch files.
    Udiff,
    /// Whole files in fences.
    Whole,
    /// The `*** Begin Patch` format.
    Patch,
}

impl Format {
    /// Every format, in the order documented.
    pub const ALL: [Format; 5] = [
        Format::Diff,
        Format::DiffFenced,
        Format::Udiff,
        Format::Whole,
        Format::Patch,
    ];

    /// The name used in pipelines and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Diff => "diff",
            Format::DiffFenced => "diff-fenced",
            Format::Udiff => "udiff",
            Format::Whole => "whole",
            Format::Patch => "patch",
        }
    }

    /// Parses a format name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Read access to the files a coder may edit, and the policy on writing them. `workspace/`
/// implements it over a directory or a git tree; tests implement it over a map.
pub trait Files {
    /// Every known file path, relative to the root, `/`-separated, sorted. Used for basename
    /// and close-match rescue and `whole`'s only-file rule.
    fn paths(&self) -> Vec<String>;
    /// The bytes of a file, or `None` when there is no such file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// Whether an edit may create, change or delete `path`; `Err(reason)` refuses it, and the
    /// edit fails with that reason.
    fn check_write(&self, path: &str) -> Result<(), String>;
}

/// The net effect of applying a reply, one entry per path touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write these exact bytes (line endings, BOM and final newline already preserved).
    Write {
        /// The path written.
        path: String,
        /// The new content.
        content: Vec<u8>,
        /// True when the file did not exist before.
        created: bool,
        /// For a rename, the old path whose permissions the new file keeps.
        renamed_from: Option<String>,
    },
    /// Delete the file.
    Delete {
        /// The path deleted.
        path: String,
    },
}

/// How one edit (block, hunk, file listing) fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditReport {
    /// 0-based position of the edit in the reply.
    pub index: usize,
    /// The path the edit named (after cleaning).
    pub path: String,
    /// 1-based line of the reply where the edit starts.
    pub line: usize,
    /// The edit as the model or user wrote it.
    pub block: String,
    /// Applied (and how) or failed (and why).
    pub status: EditStatus,
}

/// The result of one edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditStatus {
    /// Applied to `file` (which differs from the named path when rescued) by `strategy`.
    Applied {
        /// The file actually changed.
        file: String,
        /// Which matching strategy worked (e.g. `exact`, `indentation`, `elision`).
        strategy: &'static str,
    },
    /// Not applied.
    Failed {
        /// Why, in words fit for both a user and a model.
        reason: String,
    },
}

/// Everything a reply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The net changes, in the order paths were first touched.
    pub changes: Vec<Change>,
    /// One report per edit, in reply order.
    pub edits: Vec<EditReport>,
    /// Shell commands the reply suggested (reported, never run).
    pub suggested_commands: Vec<String>,
    /// Text to send back to a model when any edit failed (EDIT-FORMATS.md, Feedback).
    pub feedback: Option<String>,
}

impl Outcome {
    /// True when every edit applied.
    pub fn all_applied(&self) -> bool {
        self.edits
            .iter()
            .all(|e| matches!(e.status, EditStatus::Applied { .. }))
    }
}
