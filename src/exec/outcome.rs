//! A task's outcome in one repository's run, as typed values: which kind of step it was, the
//! commit it made, and what it did. Outcomes are the run's working state; they become the
//! report's task entries once, when the repository's run ends.

use crate::git::Oid;
use crate::pipeline::TaskKind;
use crate::report::{TaskReport, TaskStatus};

/// The kind of step an outcome is: a pipeline task's kind, or a fix round of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    Replace,
    Patch,
    Edits,
    Prompt,
    Ask,
    Run,
    Check,
    /// A model's round of `on_fail: fix` for a failed check.
    Fix,
}

impl Kind {
    pub fn of(kind: &TaskKind) -> Kind {
        match kind {
            TaskKind::Replace(_) => Kind::Replace,
            TaskKind::Patch { .. } => Kind::Patch,
            TaskKind::Edits { .. } => Kind::Edits,
            TaskKind::Prompt { .. } => Kind::Prompt,
            TaskKind::Ask { .. } => Kind::Ask,
            TaskKind::Run(_) => Kind::Run,
            TaskKind::Check { .. } => Kind::Check,
        }
    }

    /// The name the report gives it.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Replace => "replace",
            Kind::Patch => "patch",
            Kind::Edits => "edits",
            Kind::Prompt => "prompt",
            Kind::Ask => "ask",
            Kind::Run => "run",
            Kind::Check => "check",
            Kind::Fix => "fix",
        }
    }
}

/// What one task (or fix round) did in one repository.
#[derive(Debug)]
pub(super) struct TaskOutcome {
    pub kind: Kind,
    /// The commit it made; `None` when it made none, or its commit was reverted.
    pub commit: Option<Oid>,
    /// What it did: status, files, messages, model use, command. Its `kind` and `commit` are
    /// the typed fields above, written into it by [`TaskOutcome::report`].
    pub detail: TaskReport,
}

impl TaskOutcome {
    pub fn new(kind: Kind, detail: TaskReport) -> TaskOutcome {
        TaskOutcome {
            kind,
            commit: None,
            detail,
        }
    }

    /// A task that did not run, with its status and why.
    pub fn not_run(kind: Kind, name: &str, status: TaskStatus, why: Option<String>) -> Self {
        let mut detail = TaskReport::new(name, kind.name());
        detail.status = status;
        detail.message = why;
        TaskOutcome::new(kind, detail)
    }

    /// A task that panicked: a bug, said as such.
    pub fn internal_error(kind: Kind, name: &str, panic: &str) -> Self {
        let why = format!("internal error (a bug in codefleet): {panic}");
        TaskOutcome::not_run(kind, name, TaskStatus::Failed, Some(why))
    }

    /// The outcome as a report entry.
    pub fn report(self) -> TaskReport {
        TaskReport {
            kind: self.kind.name().to_string(),
            commit: self.commit,
            ..self.detail
        }
    }

    /// The report entry as it stands, for an event.
    pub fn snapshot(&self) -> TaskReport {
        TaskReport {
            kind: self.kind.name().to_string(),
            commit: self.commit,
            ..self.detail.clone()
        }
    }
}
