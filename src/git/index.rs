//! The index as the working-tree fast path loads it: plain data (stage-0 entries with their
//! stat data, the index file's mtime), held by a [`Repo`](super::Repo) and read by `read.rs`.

use std::sync::Arc;

use crate::hash::PathMap;

/// The stage-0 entries of the index as loaded for the fast path, with the index file's mtime
/// (for racy-clean checks). Plain data, so a [`Repo`](super::Repo) stays `Send`.
pub(crate) struct IndexSnapshot {
    pub(super) entries: PathMap<Vec<u8>, IndexStat>,
    pub(super) mtime: (i64, u32),
    /// Whether any attributes file mentions `working-tree-encoding`: a re-encoding on checkout
    /// may keep the length (ASCII to EBCDIC), so such paths are looked up one by one.
    pub(super) encodings: bool,
    /// Whether anything may convert content between the blob and the working tree (text, eol,
    /// crlf, ident, filter or encoding attributes, or core.autocrlf).
    pub(super) conversions: bool,
}

/// A loaded index, shareable between handles on one repository (see [`Repo::share_index`]).
#[derive(Clone)]
pub struct IndexShare(pub(super) Arc<IndexSnapshot>);

/// What git records about a working-tree file when it stages it.
pub(super) struct IndexStat {
    pub(super) id: git2::Oid,
    pub(super) mode: u32,
    pub(super) flags: u16,
    pub(super) flags_extended: u16,
    pub(super) mtime: (i32, u32),
    pub(super) ctime: (i32, u32),
    pub(super) dev: u32,
    pub(super) ino: u32,
    pub(super) uid: u32,
    pub(super) gid: u32,
    pub(super) size: u32,
}
