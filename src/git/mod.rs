//! The git layer runs stand on: open a repository and resolve its base, read base content
//! without letting a dirty working tree leak in, build commits from objects (never the user's
//! index or working tree), move run branches with compare-and-swap, journal runs, roll them
//! back, lock a repository against concurrent runs, keep a cache of clones of remote
//! repositories, and push run branches with a lease.
//!
//! Everything here takes and returns plain values; errors are [`crate::error::Error`] values
//! with codes `E200`–`E216`, catalogued in `errors.rs` (and the run-branch ownership codes
//! `E302`/`E309` in `lease.rs`). A push fails with a typed [`PushError`] (`E520` the lease,
//! `E521` the server's refusal, `E522` the network), which callers match on and turn into an
//! `Error` with `?` or `Error::from`.
//!
//! A run in one repository goes like this:
//!
//! ```text
//! let repo = Repo::open(path)?;                  // E200 not a repo
//! let _lock = repo.lock()?;                      // E212 held; stale locks taken over
//! let base = repo.base(settings.base)?;          // E202 unborn, E203 bad revision
//! if !repo.foreign_commits(&branch)?.is_empty() && !force { stop }
//! let previous = repo.branch_tip(&branch)?;
//! let mut record = RunRecord::new(run_id, pipeline, &base.rev, base.commit, &branch, previous);
//! let mut tip = base.commit;
//! for task in tasks {                            // files: repo.read_file / list_paths
//!     let reuse = /* the previous run's commit of this task, if any */;
//!     if let Some(c) = repo.commit_changes_reusing(tip, &changes, &info, reuse)? { tip = c }
//!     record.tasks.push(TaskRecord { .. });
//! }
//! if tip != base.commit {
//!     repo.journal().write(&record)?;            // the commits, before the branch moves
//!     repo.update_branch(&branch, tip, previous)?; // E205 moved, E213
//!     record.finished_at = Some(now);
//!     repo.journal().write(&record)?;            // finished
//! }
//! ```

mod base;
mod branch;
mod change;
mod clone_cache;
mod commit;
mod errors;
mod journal;
mod lease;
mod lock;
mod message;
mod mode;
mod read;
mod remote;
mod repo;
mod rollback;
mod run_id;
mod tree_edit;

pub use base::Base;
pub use branch::BranchUpdate;
pub use change::TreeChange;
pub use clone_cache::{
    CloneCache, CloneOptions, EntryLock, Prepared, RemoteSpec, fnv1a, repo_name,
};
pub use commit::{CommitInfo, Identity, Trailers};
pub use git2::Oid;
pub use journal::{EditRecord, Journal, PushRecord, RollbackRecord, RunRecord, TaskRecord};
pub use lease::Claims;
pub use lock::{LockHolder, RepoLock};
pub use message::with_trailers;
pub use mode::{FileMode, TreeEntry};
pub use read::{BaseFile, IndexShare, Source};
pub use remote::{
    Advertised, Credentials, PushError, Pushed, RemoteRef, Secret, ls_remote, push_with_lease,
    redact_userinfo,
};
pub use repo::Repo;
pub use rollback::Rollback;
pub use run_id::RunId;
