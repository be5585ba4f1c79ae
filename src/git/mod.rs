//! The git layer runs stand on: open a repository and resolve its base, read base content
//! without letting a dirty working tree leak in, build commits from objects (never the user's
//! index or working tree), move run branches with compare-and-swap, journal runs, roll them
//! back, lock a repository against concurrent runs, keep a cache of clones of remote
//! repositories, and push run branches (or delete them) with a lease.
//!
//! Everything here takes and returns plain values; errors are [`crate::error::Error`] values
//! with codes `E200`–`E216`, catalogued in `errors.rs` (and the run-branch ownership codes
//! `E302`/`E309` in `lease.rs`). A push fails with a typed [`PushError`] (`E520` the lease,
//! `E521` the server's refusal, `E522` the network), which callers match on and turn into an
//! `Error` with `?` or `Error::from`.
//!
//! A run in one repository goes like this; [`RunBranch`] carries out the branch's part (the
//! lock, the ownership check, the journal, the compare-and-swap move and the checkout) in this
//! order:
//!
//! ```text
//! let repo = Repo::open(path)?;                  // E200 not a repo
//! let base = repo.base(settings.base)?;          // E202 unborn, E203 bad revision
//! let mut branch = RunBranch::begin(&repo, name, &base, &start)?;
//!     // lock (E212 held; stale locks taken over), previous tip, and unless --force the
//!     // ownership check (E302 foreign commits, E309 another pipeline's)
//! let mut tip = base.commit;
//! for task in tasks {                            // files: repo.read_file / list_paths
//!     let reuse = /* the previous run's commit of this task, if any */;
//!     if let Some(c) = repo.commit_changes_reusing(tip, &changes, &info, reuse)? { tip = c }
//!     branch.record_task(TaskRecord { .. });
//! }
//! let landed = branch.finish(tip, checkout);
//!     // unless nothing changed on a branch that does not exist:
//!     // journal.write(record)                   the commits, before the branch moves
//!     // repo.update_branch(name, tip, previous) E205 moved (the record is removed), E213
//!     // record.finished_at = now; journal.write(record)
//!     // repo.checkout_branch(name) with --checkout (E207 dirty)
//! ```

mod base;
mod branch;
mod change;
mod clone_cache;
mod commit;
mod delete;
mod errors;
mod index;
mod journal;
mod lease;
mod lock;
mod loose;
mod message;
mod mode;
mod open;
mod pack;
mod read;
mod remote;
mod repo;
mod rollback;
mod run_branch;
mod run_id;
mod tree_edit;

pub use base::Base;
pub use branch::BranchUpdate;
pub use change::TreeChange;
pub use clone_cache::{
    CloneCache, CloneOptions, EntryLock, Prepared, RemoteSpec, fnv1a, repo_name,
};
pub use commit::{CommitInfo, Identity, Trailers};
pub use delete::{Deleted, delete_with_lease};
pub use errors::{GitError, RemoteError};
pub use git2::Oid;
pub use index::IndexShare;
pub use journal::{EditRecord, Journal, PushRecord, RollbackRecord, RunRecord, TaskRecord};
pub use lease::Claims;
pub use lock::{LockHolder, RepoLock};
pub use message::with_trailers;
pub use mode::{FileMode, TreeEntry};
pub use open::{open_based, open_named};
pub use pack::{PackWriter, Packed};
pub use read::{BaseFile, Source};
pub use remote::{
    Advertised, Credentials, HostToken, PushError, Pushed, RemoteRef, Secret, host_of, ls_remote,
    push_with_lease, redact_userinfo,
};
pub use repo::Repo;
pub use rollback::Rollback;
pub use run_branch::{BranchLease, Landed, RunBranch, RunStart};
pub use run_id::RunId;
