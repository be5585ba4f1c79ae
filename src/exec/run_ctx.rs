//! What every repository's run shares (the pipeline, the options, the observer, the interrupt
//! flag, the shell gates, the model runtime), and one file task (replace, patch, edits, prompt,
//! ask) run over a repository's overlay: its report and the changes to commit.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::AtomicBool;

use crate::coders::{Format, UdiffInput};
use crate::git::{self, FileMode, Repo, TreeChange};
use crate::pipeline::{Atomic, Pipeline, Replace, Task, TaskKind};
use crate::report::{FileReport, FileStatus, Mode, TaskReport, TaskStatus, unified_diff};

use super::model::{self as model_tasks, Models};
use super::observer::Observer;
use super::shell::Gate;
use super::tasks::{self, FileOutcome, OverlayFiles};
use crate::workspace::{Overlay, Reader, Stored, select};

/// How a run behaves; the library face of `codefleet run`'s flags.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Worker threads; 0 means the number of cores.
    pub jobs: usize,
    /// Write commits and branches, or only show (dry run) or test (check) what would change.
    pub mode: Mode,
    /// Overwrite a run branch that holds commits codefleet did not make.
    pub force: bool,
    /// Check out the run branch at the end (moves HEAD and the working tree).
    pub checkout: bool,
    /// Where `prompt` and `ask` tasks get their model clients.
    pub models: Models,
    /// The clone cache remote targets run in (its entries stay locked while it lives);
    /// without one they are skipped.
    pub remotes: Option<std::sync::Arc<git::CloneCache>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            jobs: 0,
            mode: Mode::Run,
            force: false,
            checkout: false,
            models: Models::unavailable(),
            remotes: None,
        }
    }
}

/// What every repository's run shares.
pub(super) struct RunCtx<'a> {
    pub pipeline: &'a Pipeline,
    pub options: &'a RunOptions,
    pub observer: &'a dyn Observer,
    pub interrupt: &'a AtomicBool,
    pub run_id: &'a str,
    /// The revision a remote repository's clone starts from (`None`: its `HEAD`).
    pub base: Option<&'a str>,
    /// Each task's `concurrency:` gate for shell steps, by task index.
    pub gates: &'a [Gate],
    pub models: &'a model_tasks::Runtime<'a>,
}

/// The repository a file task runs in, and its files as the tasks before left them.
pub(super) struct Scope<'a> {
    pub repo: &'a Repo,
    /// The repository's short name (templates).
    pub name: &'a str,
    /// The repository as the user named it (events).
    pub display: &'a str,
    pub work_dir: &'a Path,
    pub overlay: &'a Overlay,
}

/// What a task's kind produced: each file's outcome, and the modes a patch sets (every other
/// file keeps the mode it has).
type Produced = (Vec<(String, FileOutcome)>, BTreeMap<String, FileMode>);

impl RunCtx<'_> {
    pub fn writes(&self) -> bool {
        self.options.mode == Mode::Run
    }

    /// Runs one file task over the overlay: its report and the changes to commit.
    pub fn task(&self, at: &Scope<'_>, task: &Task) -> (TaskReport, Vec<TreeChange>) {
        let mut report = TaskReport::new(&task.name, task.kind.name());
        let reader = Reader {
            work_dir: at.work_dir,
            overlay: at.overlay,
            index: at.repo.index_snapshot(),
        };
        let produced = match &task.kind {
            TaskKind::Replace(r) => Some(self.replace(at, &reader, task, r, &mut report)),
            TaskKind::Patch { .. } | TaskKind::Edits { .. } => {
                self.edits(at, &reader, task, &mut report)
            }
            TaskKind::Prompt { prompt: text, .. } | TaskKind::Ask { question: text, .. } => {
                let text = text.render(&self.pipeline.context(
                    self.run_id,
                    Some(at.name),
                    Some(&task.name),
                ));
                let ctx = model_tasks::TaskCtx {
                    runtime: self.models,
                    repo: at.repo,
                    reader: &reader,
                    policy: &self.pipeline.policy,
                    task,
                    text,
                    display: at.display,
                    observer: self.observer,
                };
                Some((model_tasks::task(&ctx, &mut report), BTreeMap::new()))
            }
            // `run` and `check` are shell steps (see `steps`), dispatched before this.
            other => {
                report.status = TaskStatus::Skipped;
                report.message = Some(format!(
                    "`{}` tasks are not run by this version",
                    other.name()
                ));
                None
            }
        };
        match produced {
            Some(produced) => self.changes(at, task, report, produced),
            None => (report, Vec::new()),
        }
    }

    /// A `replace` task over the files it selects.
    fn replace(
        &self,
        at: &Scope<'_>,
        reader: &Reader<'_>,
        task: &Task,
        r: &Replace,
        report: &mut TaskReport,
    ) -> Produced {
        let policy = &self.pipeline.policy;
        let with = r.replacement(&self.pipeline.context(
            self.run_id,
            Some(at.name),
            Some(&task.name),
        ));
        let files = select(
            at.overlay.paths.keys().map(String::as_str),
            task.files.as_ref(),
            &policy.deny,
            &mut report.skipped,
        );
        report.files_selected = files.len();
        self.observer
            .task_started(at.display, &task.name, files.len());
        let outcomes = tasks::replace_files(
            reader,
            at.repo,
            &files,
            r,
            &with,
            &tasks::PerFile {
                max_size: policy.deterministic_max_file_size(),
                keep_old: self.options.mode == Mode::DryRun,
                store: self.writes() && at.repo.work_dir().is_some(),
                pack: None,
                interrupt: self.interrupt,
                done: &|path| self.observer.file_done(at.display, &task.name, path),
            },
        );
        (outcomes, BTreeMap::new())
    }

    /// A `patch` or `edits` task: the edits of a file, over the files they name. `None` when
    /// the file cannot be used (the report says why).
    fn edits(
        &self,
        at: &Scope<'_>,
        reader: &Reader<'_>,
        task: &Task,
        report: &mut TaskReport,
    ) -> Option<Produced> {
        let (path, format, udiff) = match &task.kind {
            TaskKind::Edits { path, format } => (path, *format, UdiffInput::Auto),
            TaskKind::Patch { path } => (path, Some(Format::Udiff), UdiffInput::PatchFile),
            _ => return None,
        };
        let files = OverlayFiles {
            repo: at.repo,
            reader,
            filter: task.files.as_ref(),
            policy: &self.pipeline.policy,
        };
        self.observer.task_started(at.display, &task.name, 0);
        match tasks::edit_files(&files, path, format, udiff, task.allow_shrink) {
            Ok(edited) => {
                let paths: std::collections::BTreeSet<&str> =
                    edited.outcomes.iter().map(|(p, _)| p.as_str()).collect();
                report.files_selected = paths.len();
                Some((edited.outcomes, edited.modes))
            }
            Err(message) => {
                report.status = TaskStatus::Failed;
                report.message = Some(message);
                None
            }
        }
    }

    /// Turns each file's outcome into the report and the changes to commit, holding back what
    /// the task's `atomic:` says a failure takes with it.
    fn changes(
        &self,
        at: &Scope<'_>,
        task: &Task,
        mut report: TaskReport,
        (mut outcomes, modes): Produced,
    ) -> (TaskReport, Vec<TreeChange>) {
        let held = tasks::hold_back(task.atomic, &mut outcomes);
        let mut changes = Vec::new();
        for (path, outcome) in outcomes {
            match outcome {
                FileOutcome::Unchanged => {}
                FileOutcome::Skipped(skip) => skip.count(&path, &mut report.skipped),
                FileOutcome::Interrupted => report.status = TaskStatus::Interrupted,
                FileOutcome::Failed { message, line } => {
                    let file = FileReport {
                        path,
                        status: FileStatus::Failed,
                        replacements: None,
                        message: Some(message),
                        line,
                        diff: None,
                    };
                    self.observer.file_failed(at.display, &task.name, &file);
                    report.files_failed += 1;
                    report.files.push(file);
                }
                FileOutcome::Changed {
                    old,
                    new,
                    replacements,
                } => {
                    let mode = modes
                        .get(&path)
                        .or_else(|| at.overlay.paths.get(&path))
                        .copied()
                        .unwrap_or(FileMode::Regular);
                    let half = held.half_edited.contains(&path);
                    let (change, mut file) = self.changed_file(path, old, new, mode, half);
                    file.replacements = replacements;
                    report.files_changed += 1;
                    changes.push(change);
                    report.files.push(file);
                }
            }
        }
        if report.status == TaskStatus::Interrupted {
            return (report, Vec::new());
        }
        report.files.sort_by(|a, b| a.path.cmp(&b.path));
        conclude(task, &mut report, &held.held, &changes);
        (report, changes)
    }

    /// The change and the report of one changed file (`half`: some of its edits failed and
    /// `atomic: none` keeps the others).
    fn changed_file(
        &self,
        path: String,
        old: Option<Vec<u8>>,
        new: Option<Stored>,
        mode: FileMode,
        half: bool,
    ) -> (TreeChange, FileReport) {
        let status = match (&old, &new) {
            (None, _) => FileStatus::Created,
            (_, None) => FileStatus::Deleted,
            _ => FileStatus::Modified,
        };
        // Dry runs never store blobs, so their new content is always at hand.
        let new_bytes = match &new {
            Some(Stored::Bytes(b)) => Some(b.as_slice()),
            _ => None,
        };
        let diff = (self.options.mode == Mode::DryRun)
            .then(|| unified_diff(&path, old.as_deref(), new_bytes));
        let change = match new {
            Some(Stored::Bytes(bytes)) => TreeChange::Write {
                mode,
                path: path.clone(),
                bytes,
            },
            Some(Stored::Blob(id)) => TreeChange::Blob {
                mode,
                path: path.clone(),
                id,
            },
            None => TreeChange::Delete { path: path.clone() },
        };
        let message = half.then(|| {
            "partly edited: some of its edits failed and `atomic: none` keeps the others"
                .to_string()
        });
        let file = FileReport {
            path,
            status,
            replacements: None,
            message,
            line: None,
            diff,
        };
        (change, file)
    }
}

/// The task's status, and what its message says about the files `atomic:` held back.
fn conclude(task: &Task, report: &mut TaskReport, held: &[String], changes: &[TreeChange]) {
    if !held.is_empty() {
        let why = match task.atomic {
            Atomic::Task => format!(
                "nothing of this task was committed: {} of its files failed, and `atomic: task` holds back the changes to {}",
                report.files_failed,
                plural(held.len(), "file")
            ),
            _ => format!(
                "{} that failed keep none of this task's edits (`atomic: file`): {}",
                plural(held.len(), "file"),
                held.join(", ")
            ),
        };
        report.message = Some(match report.message.take() {
            Some(m) => format!("{m}; {why}"),
            None => why,
        });
    }
    report.partial = !changes.is_empty() && report.files_failed > 0;
    // A model task that failed as a whole (a budget, a request) keeps what it changed.
    report.status = if report.files_failed > 0 || report.status == TaskStatus::Failed {
        TaskStatus::Failed
    } else if changes.is_empty() {
        TaskStatus::Unchanged
    } else {
        TaskStatus::Changed
    };
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}
