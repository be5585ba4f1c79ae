//! The command line's own errors: flags that do not go together, output that cannot be written,
//! and `codefleet apply`'s input that cannot be read or applied. Each variant is an entry of the
//! catalogue (`crate::error::codes`); `?` wraps it in the `Error` envelope.

use std::path::PathBuf;

use crate::error::{Code, Error, Kind, Place, codes};

/// A command that cannot start, or cannot write what it made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    /// A standard stream cannot be read or written: `what` is e.g. "write to stdout".
    #[error("cannot {what}: {why}")]
    Stream {
        /// What was being done.
        what: &'static str,
        /// What the operating system said.
        why: String,
    },
    /// A value cannot be turned into JSON (a bug).
    #[error("cannot print the {what}: {why}")]
    Print {
        /// What was printed.
        what: &'static str,
        /// What serde said.
        why: String,
    },
    /// `codefleet init` never overwrites.
    #[error("`{}` already exists", path.display())]
    InitExists {
        /// The path given.
        path: PathBuf,
    },
    /// The pipelines have problems, already printed.
    #[error("{problems} problem{} in the pipeline; nothing ran", if *problems == 1 { "" } else { "s" })]
    PipelineInvalid {
        /// How many.
        problems: usize,
    },
    /// `--push`/`--pr` with `--dry-run`/`--check`.
    #[error("`--push` and `--pr` publish a real run; `--dry-run` and `--check` write nothing")]
    PublishWithoutRun,
    /// `--dry-run` with `--check`.
    #[error("`--dry-run` and `--check` exclude each other")]
    DryRunAndCheck,
    /// Several `--repo` for a command that reads one repository.
    #[error("this command works on one repository at a time")]
    OneRepository,
    /// A global flag the command does not read.
    #[error("`{flag}` does nothing for `codefleet {command}`")]
    UnreadFlag {
        /// The flag.
        flag: &'static str,
        /// The command given.
        command: String,
        /// The commands that read the flag.
        readers: Vec<&'static str>,
    },
    /// `--clone-jobs 0`.
    #[error("`--clone-jobs 0` would never clone")]
    CloneJobs,
    /// A run's thread panicked (a bug).
    #[error("the run stopped on an internal error")]
    RunInternal,
    /// A setting's value does not fit the pipeline it is merged into; `env` when it came
    /// from a `CODEFLEET_*` variable.
    #[error("setting `{key}` ({origin}): {what}")]
    Setting {
        /// The setting.
        key: String,
        /// Where its value came from, as `codefleet config` names it.
        origin: String,
        /// Whether that is the environment.
        env: bool,
        /// What is wrong.
        what: String,
    },
}

impl Kind for CliError {
    fn code(&self) -> Code {
        match self {
            CliError::Stream { .. } => codes::IO,
            CliError::Print { .. } => codes::INTERNAL,
            CliError::InitExists { .. } => codes::INIT_EXISTS,
            CliError::PipelineInvalid { .. } => codes::PIPELINE_INVALID,
            CliError::PublishWithoutRun => codes::PUBLISH_WITHOUT_RUN,
            CliError::DryRunAndCheck => codes::DRY_RUN_AND_CHECK,
            CliError::OneRepository => codes::ONE_REPOSITORY,
            CliError::UnreadFlag { .. } => codes::UNREAD_FLAG,
            CliError::CloneJobs => codes::CLONE_JOBS,
            CliError::RunInternal => codes::RUN_INTERNAL,
            CliError::Setting { env: true, .. } => codes::BAD_ENV,
            CliError::Setting { env: false, .. } => codes::CONFIG_BAD_VALUE,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            CliError::Stream { .. } | CliError::Print { .. } | CliError::Setting { .. } => {
                return None;
            }
            CliError::InitExists { .. } => {
                "codefleet init never overwrites; give another path, e.g. `codefleet init pipelines/new.yml`"
            }
            CliError::PipelineInvalid { .. } => "`codefleet validate` lists the same problems",
            CliError::PublishWithoutRun => {
                "leave out `--dry-run`/`--check`, or leave out `--push`/`--pr`"
            }
            CliError::DryRunAndCheck => {
                "`--check` writes nothing either; it only sets the exit code"
            }
            CliError::OneRepository => "give at most one `--repo PATH`",
            CliError::UnreadFlag { readers, .. } => {
                return Some(format!(
                    "leave it out; it applies to: {}",
                    readers.join(", ")
                ));
            }
            CliError::CloneJobs => "give at least 1 (default 4)",
            CliError::RunInternal => "this is a bug in codefleet; please report it",
        };
        Some(hint.to_string())
    }

    fn place(&self) -> Option<Place> {
        match self {
            CliError::InitExists { path } => Some(Place::file(path)),
            _ => None,
        }
    }
}

/// A standard stream that cannot be read or written (`what`: "write to stdout").
pub fn stream_error(what: &'static str, e: &std::io::Error) -> Error {
    CliError::Stream {
        what,
        why: e.to_string(),
    }
    .into()
}

/// A value that cannot be printed as JSON (`what`: "plan").
pub fn print_error(what: &'static str, e: &serde_json::Error) -> Error {
    CliError::Print {
        what,
        why: e.to_string(),
    }
    .into()
}

/// Why `codefleet apply` cannot read its input or apply an edit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    /// `--format` names no edit format.
    #[error("unknown edit format `{name}`")]
    UnknownFormat {
        /// The name given.
        name: String,
        /// The closest name, or the list of them.
        hint: String,
    },
    /// The input is not UTF-8.
    #[error("{input} is not UTF-8 text")]
    NotUtf8 {
        /// The input, as messages name it.
        input: String,
        /// The first invalid byte.
        place: Place,
    },
    /// The current directory cannot be read.
    #[error("cannot read the current directory: {why}")]
    CurrentDir {
        /// What the operating system said.
        why: String,
    },
    /// `-C` names no directory.
    #[error("`{}` is not a directory", dir.display())]
    NotADirectory {
        /// The directory given.
        dir: PathBuf,
    },
    /// An edit was not applied; `reason` may run over several lines.
    #[error("edit {} (`{path}`) was not applied: {}", index + 1, indented(reason))]
    EditNotApplied {
        /// The edit's 0-based index in the reply.
        index: usize,
        /// The file it names.
        path: String,
        /// Why the coder refused it.
        reason: String,
        /// Its line in the reply, or the reply itself.
        place: Place,
    },
    /// A mode a patch sets that codefleet does not write.
    #[error(
        "`{path}`: mode {mode:o} was not applied: only regular (100644) and executable (100755) files are written"
    )]
    ModeNotApplied {
        /// The file.
        path: String,
        /// The mode the patch sets.
        mode: u32,
        /// The patch line that sets it.
        place: Place,
    },
    /// A change could not be written.
    #[error("`{path}` was not written: {reason}")]
    NotWritten {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// No edit was found; `format` is the one the input was read as, none when `auto`
    /// recognised none.
    #[error("found no edits in {input}")]
    NoEdits {
        /// The input, as messages name it.
        input: String,
        /// The format it was read as.
        format: Option<String>,
    },
    /// Standard input is a terminal and no file was given.
    #[error("no input: give a reply or patch FILE, or pipe one in")]
    NoInput,
}

/// The first line of `reason`, and the rest indented under it.
fn indented(reason: &str) -> String {
    let mut lines = reason.lines();
    let mut out = lines.next().unwrap_or("failed").to_string();
    for rest in lines {
        out.push_str("\n  ");
        out.push_str(rest);
    }
    out
}

impl Kind for ApplyError {
    fn code(&self) -> Code {
        match self {
            ApplyError::UnknownFormat { .. } => codes::UNKNOWN_EDIT_FORMAT,
            ApplyError::NotUtf8 { .. } => codes::NOT_UTF8,
            ApplyError::CurrentDir { .. } | ApplyError::NotADirectory { .. } => {
                codes::BAD_DIRECTORY
            }
            ApplyError::EditNotApplied { .. } | ApplyError::ModeNotApplied { .. } => {
                codes::EDIT_NOT_APPLIED
            }
            ApplyError::NotWritten { .. } => codes::CHANGE_NOT_WRITTEN,
            ApplyError::NoEdits { .. } => codes::NO_EDITS,
            ApplyError::NoInput => codes::NO_INPUT,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            ApplyError::UnknownFormat { hint, .. } => Some(hint.clone()),
            ApplyError::NotUtf8 { .. } => Some(
                "edits are read as UTF-8; convert the file (e.g. with iconv) first".to_string(),
            ),
            ApplyError::NotADirectory { .. } => {
                Some("-C takes the directory to apply the edits in".to_string())
            }
            ApplyError::EditNotApplied { reason, .. } if reason.contains("refused") => {
                Some("nothing was written for this path".to_string())
            }
            ApplyError::EditNotApplied { reason, .. } if reason.contains("allow_shrink") => {
                Some("if removing that much is intended, pass --allow-shrink".to_string())
            }
            ApplyError::NoEdits { format: None, .. } => Some(
                "--format auto recognised no edit format; name it with --format (diff, diff-fenced, udiff, whole, patch)"
                    .to_string(),
            ),
            ApplyError::NoEdits {
                format: Some(format),
                ..
            } => Some(format!(
                "the input was read as `{format}`; choose another with --format (diff, diff-fenced, udiff, whole, patch)"
            )),
            ApplyError::NoInput => Some(
                "codefleet apply --format diff reply.md   or   pbpaste | codefleet apply -"
                    .to_string(),
            ),
            _ => None,
        }
    }

    fn place(&self) -> Option<Place> {
        match self {
            ApplyError::NotUtf8 { place, .. }
            | ApplyError::EditNotApplied { place, .. }
            | ApplyError::ModeNotApplied { place, .. } => Some(place.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn cli_errors_read_as_before() {
        let e = Error::from(CliError::PipelineInvalid { problems: 2 });
        assert_eq!(
            e.one_line(),
            "[E091] 2 problems in the pipeline; nothing ran (`codefleet validate` lists the same problems)"
        );
        let e = Error::from(CliError::UnreadFlag {
            flag: "--repo",
            command: "init".into(),
            readers: vec!["run", "plan"],
        });
        assert_eq!(
            e.one_line(),
            "[E096] `--repo` does nothing for `codefleet init` (leave it out; it applies to: run, plan)"
        );
        let setting = |env| {
            Error::from(CliError::Setting {
                key: "author".into(),
                origin: "env CODEFLEET_AUTHOR".into(),
                env,
                what: "bad".into(),
            })
        };
        assert_eq!(setting(true).code, "E054");
        assert_eq!(setting(false).code, "E052");
        assert_eq!(
            setting(false).message,
            "setting `author` (env CODEFLEET_AUTHOR): bad"
        );
        let e = Error::from(CliError::RunInternal);
        assert_eq!((e.code, e.exit), ("E304", Exit::Failed));
        assert!(matches!(e.kind::<CliError>(), Some(CliError::RunInternal)));
    }

    #[test]
    fn apply_errors_read_as_before() {
        let e = Error::from(ApplyError::EditNotApplied {
            index: 1,
            path: "a.rs".into(),
            reason: "refused: denied\nsecond line".into(),
            place: Place::file("reply.md"),
        });
        assert_eq!(
            e.message,
            "edit 2 (`a.rs`) was not applied: refused: denied\n  second line"
        );
        assert_eq!(e.hint.as_deref(), Some("nothing was written for this path"));
        assert_eq!(e.exit, Exit::Failed);
        let e = Error::from(ApplyError::NoEdits {
            input: "`r.md`".into(),
            format: Some("udiff".into()),
        });
        assert_eq!(
            e.one_line(),
            "[E065] found no edits in `r.md` (the input was read as `udiff`; choose another with --format (diff, diff-fenced, udiff, whole, patch))"
        );
        assert_eq!(e.exit, Exit::Failed);
    }
}
