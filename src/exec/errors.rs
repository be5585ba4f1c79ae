//! The run's own errors: [`ExecError`], for what stops a run or a task before any file is
//! touched (no threads, no model, no clone cache, an empty shell, a secret in a prompt); each
//! variant is an entry of the catalogue (`crate::error::codes`).

use crate::error::{Code, Kind, codes};

/// A run or a task that cannot start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExecError {
    /// `E300`: the worker threads cannot be started.
    #[error("cannot start worker threads: {why}")]
    Threads {
        /// What rayon said.
        why: String,
    },
    /// `E450`: a run built in code without model clients reaches a model task.
    #[error("no model client is available to this run")]
    NoClient,
    /// `E451`: a model task names no model.
    #[error("no model is named for this task")]
    NoModel,
    /// `E800`: `what` (the task's prompt, or a file) looks like it holds a secret.
    #[error(
        "refused: {what} was not sent to the model: it looks like it holds {found}; set `allow_secrets: true` on the task to send it"
    )]
    Secret {
        /// What was not sent.
        what: String,
        /// What the scan found.
        found: String,
    },
    /// `E500`: a remote target in a run that has no clone cache (library use).
    #[error("`{url}` is remote and this run has no clone cache")]
    NoCloneCache {
        /// The remote's URL.
        url: String,
    },
    /// `E600`: a shell step whose `shell:` is empty.
    #[error("the `shell:` of the task is empty")]
    ShellEmpty,
    /// `E601`: the shell cannot be started; `missing` when it is not installed.
    #[error("cannot start `{program}` for `{command}`: {why}")]
    ShellStart {
        /// The shell.
        program: String,
        /// The task's command.
        command: String,
        /// What the operating system said.
        why: String,
        /// Whether the shell was not found.
        missing: bool,
    },
}

impl Kind for ExecError {
    fn code(&self) -> Code {
        match self {
            ExecError::Threads { .. } => codes::THREADS,
            ExecError::NoClient => codes::NO_CLIENT,
            ExecError::NoModel => codes::NO_MODEL,
            ExecError::Secret { .. } => codes::SECRET_IN_PROMPT,
            ExecError::NoCloneCache { .. } => codes::NO_CLONE_CACHE,
            ExecError::ShellEmpty => codes::SHELL_EMPTY,
            ExecError::ShellStart { .. } => codes::SHELL_START,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            ExecError::Threads { .. } => return None,
            ExecError::NoClient => {
                "pass `RunOptions::models` (the CLI builds them from `model:` and settings)"
            }
            ExecError::NoModel => {
                "set `model: { name: … }` in the pipeline, or `model.name` in the settings"
            }
            ExecError::Secret { .. } => {
                "remove the secret from the prompt, or set `allow_secrets: true`"
            }
            ExecError::NoCloneCache { .. } => {
                "run it with `codefleet run`, or give RunOptions a CloneCache"
            }
            ExecError::ShellEmpty => "set `shell:` or remove it",
            ExecError::ShellStart { missing: true, .. } => {
                "the shell is not installed or not on PATH; set `shell:`"
            }
            ExecError::ShellStart { missing: false, .. } => "check the task's `shell:` and `cwd:`",
        };
        Some(hint.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Exit};

    #[test]
    fn an_exec_error_is_typed_and_shows_as_before() {
        let e = Error::from(ExecError::NoCloneCache {
            url: "https://example.com/r.git".into(),
        });
        assert!(e.is::<ExecError>());
        assert_eq!(e.code, "E500");
        assert_eq!(
            e.message,
            "`https://example.com/r.git` is remote and this run has no clone cache"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("run it with `codefleet run`, or give RunOptions a CloneCache")
        );
        assert_eq!(e.exit, Exit::Failed);
        assert_eq!(Error::from(ExecError::ShellEmpty).exit, Exit::Usage);
    }
}
