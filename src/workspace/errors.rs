//! The workspace's errors that reach the user: [`WorkspaceError`], for the overlay and the
//! temporary worktrees shell steps run in; each variant is an entry of the catalogue
//! (`crate::error::codes`). A deny pattern that is not a glob is [`PolicyError`](super::PolicyError).

use crate::error::{Code, Kind, codes};

/// The files a task sees cannot be read, or the worktree for a shell step cannot be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// `E303`: a file an earlier task wrote cannot be read back from the object database.
    #[error("cannot read the new `{path}` back: {why}")]
    ReadBack {
        /// The file.
        path: String,
        /// What git said.
        why: String,
    },
    /// `E602`: the temporary worktree cannot be made or reset.
    #[error("cannot prepare the temporary worktree: {what}: {why}")]
    Worktree {
        /// The step that failed.
        what: String,
        /// Why.
        why: String,
    },
    /// `E603`: what the command changed in the worktree cannot be read.
    #[error("cannot read what the command changed: {what}: {why}")]
    Changes {
        /// The step that failed.
        what: String,
        /// Why.
        why: String,
    },
}

impl Kind for WorkspaceError {
    fn code(&self) -> Code {
        match self {
            WorkspaceError::ReadBack { .. } => codes::BASE_IO,
            WorkspaceError::Worktree { .. } => codes::SHELL_WORKTREE,
            WorkspaceError::Changes { .. } => codes::SHELL_CHANGES,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            WorkspaceError::Worktree { .. } => Some(
                "check free space and permissions in the repository's git directory".to_string(),
            ),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Exit};

    #[test]
    fn a_workspace_error_is_typed_and_shows_as_before() {
        let e = Error::from(WorkspaceError::Worktree {
            what: "add it".into(),
            why: "disk full".into(),
        });
        assert!(e.is::<WorkspaceError>());
        assert_eq!(e.code, "E602");
        assert_eq!(
            e.message,
            "cannot prepare the temporary worktree: add it: disk full"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("check free space and permissions in the repository's git directory")
        );
        assert_eq!(e.exit, Exit::Failed);
    }
}
