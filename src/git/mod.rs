//! The git layer runs stand on: open a repository and resolve its base, read base content
//! without letting a dirty working tree leak in, build commits from objects (never the user's
//! index or working tree), move run branches with compare-and-swap, journal runs, roll them
//! back, and lock a repository against concurrent runs. Clone cache and push come later.
//!
//! Everything here takes and returns plain values; errors are [`crate::error::Error`] values
//! with codes `E200`–`E216`, catalogued in `errors.rs`.

mod base;
mod branch;
mod change;
mod commit;
mod errors;
mod journal;
mod lock;
mod message;
mod mode;
mod read;
mod repo;
mod rollback;
mod run_id;
mod tree_edit;

pub use base::Base;
pub use branch::BranchUpdate;
pub use change::TreeChange;
pub use commit::{CommitInfo, Identity, Trailers};
pub use git2::Oid;
pub use journal::{EditRecord, Journal, RollbackRecord, RunRecord, TaskRecord};
pub use lock::{LockHolder, RepoLock};
pub use message::with_trailers;
pub use mode::{FileMode, TreeEntry};
pub use read::{BaseFile, Source};
pub use repo::Repo;
pub use rollback::Rollback;
pub use run_id::RunId;
