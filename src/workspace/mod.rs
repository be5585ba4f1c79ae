//! The files a task sees: which files a task selects (its globs, then the policy), the overlay
//! of earlier tasks' changes over the base tree, path confinement, the write policy (denied
//! secrets, size limit, binary files), atomic writes that keep permissions, and [`DirFiles`],
//! the [`Files`](crate::coders::Files) view of a plain directory that `codefleet apply` uses,
//! and the temporary linked worktrees shell steps run in.

mod check;
mod dir;
mod errors;
mod overlay;
mod path;
mod policy;
mod select;
pub mod worktree;
mod write;

pub use check::{Found, Selects, WriteCheck};
pub use dir::{Applied, DirFiles};
pub use errors::WorkspaceError;
pub(crate) use overlay::{Overlay, Reader, Stored};
pub use path::{Refusal, TreeKind, check_no_symlink, check_relative, confine, confine_in_tree};
pub use policy::{DEFAULT_DENY, DEFAULT_MAX_FILE_SIZE, Policy, PolicyError, is_binary};
pub use select::{Skip, content_skip, select};
pub use write::{delete_file, write_atomic, write_atomic_over};
