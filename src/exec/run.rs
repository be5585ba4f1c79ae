//! One run: every repository in parallel on a dedicated pool, its tasks in order over an
//! in-memory overlay of the base tree, each changing task committed from objects, and the run
//! branch moved once at the end with compare-and-swap. Failures are results; the user's
//! working tree, index and HEAD are left alone (unless `checkout`).

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::git::{
    self, Base, CommitInfo, FileMode, Identity, Repo, RunRecord, Trailers, TreeChange,
};
use crate::pipeline::{Atomic, OnFail, Pipeline, Task, TaskKind};
use crate::report::{
    FileReport, FileStatus, Mode, RepoReport, RepoStatus, RunReport, TaskReport, TaskStatus,
    unified_diff,
};

use super::commits::{PreviousCommit, now_rfc3339, previous_commits, task_record};
use super::model::{self as model_tasks, Models};
use super::observer::Observer;
use super::planned::{Plan, RepoPlan, Target};
use super::pool::{Unit, catching, pool, run_units};
use super::shell::Gate;
use super::steps::{self, AfterCheck, Shell, Undo};
use super::tasks::{self, FileOutcome, OverlayFiles};
use crate::coders::{Format, UdiffInput};
use crate::workspace::worktree::Worktree;
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

/// Runs `plan` (see `codefleet::plan::build`): each repository as the plan names, bases and
/// branches it, and reports what happened.
/// Workers report progress to `observer`; once `interrupt` is set, no new file, task or
/// repository starts, unfinished tasks write nothing, and the report says so. Errors are
/// only for a run that cannot start (the worker pool); everything else is in the report.
///
/// A pipeline built in code, run with an observer of one's own:
///
/// ```
/// use std::sync::Mutex;
/// use std::sync::atomic::AtomicBool;
/// use codefleet::exec::{Observer, RunOptions, run};
/// use codefleet::pipeline::{Pipeline, Replace, Task, TaskKind};
/// use codefleet::plan::{PlanOptions, Target, build};
/// use codefleet::report::{Mode, TaskReport};
///
/// // A repository with one commit.
/// let dir = tempfile::tempdir().unwrap();
/// let repo = git2::Repository::init(dir.path()).unwrap();
/// std::fs::write(dir.path().join("a.txt"), "hello world\n").unwrap();
/// let mut index = repo.index().unwrap();
/// index.add_path("a.txt".as_ref()).unwrap();
/// let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
/// let sig = git2::Signature::now("me", "me@example.com").unwrap();
/// repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[]).unwrap();
///
/// /// Collects the names of finished tasks.
/// #[derive(Default)]
/// struct Tasks(Mutex<Vec<String>>);
/// impl Observer for Tasks {
///     fn task_finished(&self, _repo: &str, task: &TaskReport) {
///         self.0.lock().unwrap().push(task.name.clone());
///     }
/// }
///
/// let shout = Replace::literal("hello", "HELLO").unwrap();
/// let pipeline = Pipeline::new("greet", vec![Task::new("shout", TaskKind::Replace(shout))]);
/// let options = RunOptions { mode: Mode::Run, jobs: 1, ..RunOptions::default() };
/// let targets = [Target::Local(dir.path().to_path_buf())];
/// let plan = build(&pipeline, &targets, &PlanOptions::default());
/// let observer = Tasks::default();
/// let report = run(&plan, &options, &observer, &AtomicBool::new(false)).unwrap();
///
/// assert_eq!(report.exit_code, 0);
/// assert_eq!(report.totals.commits, 1);
/// assert_eq!(*observer.0.lock().unwrap(), ["shout"]);
/// let tip = repo.refname_to_id("refs/heads/codefleet/greet").unwrap();
/// let blob = repo.find_commit(tip).unwrap().tree().unwrap().get_name("a.txt").unwrap().id();
/// assert_eq!(repo.find_blob(blob).unwrap().content(), b"HELLO world\n");
/// ```
pub fn run(
    plan: &Plan,
    options: &RunOptions,
    observer: &dyn Observer,
    interrupt: &AtomicBool,
) -> Result<RunReport, Error> {
    let pipeline = &plan.definition;
    let run_id = plan.run_id.as_str();
    tune_libgit2();
    let workers = pool(options.jobs)?;
    observer.run_started(run_id, plan.repos.len());
    let models = model_tasks::Runtime::new(&options.models, pipeline.model_concurrency, interrupt);
    let gates: Vec<Gate> = pipeline.tasks.iter().map(|_| Gate::default()).collect();
    let ctx = RunCtx {
        pipeline,
        options,
        observer,
        interrupt,
        run_id,
        base: plan.base.as_deref(),
        gates: &gates,
        models: &models,
    };
    if let Some(cache) = &options.remotes {
        cache.start(super::remotes::clone_jobs(plan));
    }
    let units = workers.install(|| run_units(&plan.repos, interrupt, |r| ctx.repo(r)));
    if let Some(cache) = &options.remotes {
        cache.stop();
    }
    let repos: Vec<RepoReport> = units
        .into_iter()
        .zip(&plan.repos)
        .map(|(unit, planned)| {
            let (display, name) = (planned.path.clone(), planned.name.clone());
            let report = match unit {
                Unit::Done(r) => return r,
                Unit::Panicked(msg) => RepoReport {
                    status: RepoStatus::Failed,
                    ..RepoReport::skipped(
                        display,
                        name,
                        format!("internal error (a bug in codefleet): {msg}"),
                    )
                },
                Unit::Interrupted => RepoReport {
                    status: RepoStatus::Interrupted,
                    ..RepoReport::skipped(display, name, "not started: interrupted")
                },
            };
            // The worker reports the repositories it returns; these it never returned.
            observer.repo_finished(&report);
            report
        })
        .collect();
    let interrupted = interrupt.load(Ordering::SeqCst);
    let report = RunReport::new(
        run_id.to_string(),
        &pipeline.name,
        options.mode,
        interrupted,
        repos,
    );
    observer.run_finished(&report);
    Ok(report)
}

/// Process-wide libgit2 settings for runs, set once.
fn tune_libgit2() {
    // libgit2 re-hashes every object it reads by default; git itself does not, and on a big
    // run the SHA-1 of each blob read costs a third of the time. Integrity is git fsck's job.
    git2::opts::strict_hash_verification(false);
    // libgit2 maps packs in 1 GiB windows and never unmaps below 8 GiB, so every page a run
    // touches stays resident; smaller windows under a cap keep a big repository's run lean
    // (kernel run: 188 → 100 MB peak RSS).
    static PACK_WINDOWS: std::sync::Once = std::sync::Once::new();
    PACK_WINDOWS.call_once(|| {
        // SAFETY: two word-sized process-wide settings, written once per process through
        // `Once`; libgit2 only reads them when it maps a pack window, and they bound how much
        // it maps, never what it reads.
        unsafe {
            let _ = git2::opts::set_mwindow_size(32 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
        }
    });
}

struct RunCtx<'a> {
    pipeline: &'a Pipeline,
    options: &'a RunOptions,
    observer: &'a dyn Observer,
    interrupt: &'a AtomicBool,
    run_id: &'a str,
    /// The revision a remote repository's clone starts from (`None`: its `HEAD`).
    base: Option<&'a str>,
    /// Each task's `concurrency:` gate for shell steps, by task index.
    gates: &'a [Gate],
    models: &'a model_tasks::Runtime<'a>,
}

impl RunCtx<'_> {
    fn writes(&self) -> bool {
        self.options.mode == Mode::Run
    }

    fn repo(&self, planned: &RepoPlan) -> RepoReport {
        let report = match self.opened(planned) {
            Ok(r) => r,
            Err(why) => RepoReport::skipped(planned.path.clone(), planned.name.clone(), why),
        };
        self.observer.repo_finished(&report);
        report
    }

    /// Opens the planned repository (a remote one cloned first) at its base, and runs it;
    /// `Err` is why it did not run.
    fn opened(&self, planned: &RepoPlan) -> Result<RepoReport, String> {
        if let Some(why) = &planned.failure {
            return Err(why.clone());
        }
        let branch = planned.branch.as_deref().unwrap_or_default();
        let line = |e: Error| e.one_line();
        match (&planned.target, &planned.start) {
            (Target::Local(path), Some(base)) => {
                let repo = git::open_named(path).map_err(line)?;
                self.local_repo(repo, base.clone(), planned, false)
                    .map_err(line)
            }
            (Target::Remote(spec), _) => {
                // The entry stays locked while the run works in it. A remote run branch of
                // codefleet's own commits is replaced even if this clone's journal is new.
                let (path, codefleet_only, _lock) =
                    super::remotes::prepared(self.options.remotes.as_ref(), spec, branch)
                        .map_err(line)?;
                let (repo, base) = git::open_based(&path, self.base).map_err(line)?;
                self.local_repo(repo, base, planned, codefleet_only)
                    .map_err(line)
            }
            (Target::Unsupported { reason, .. }, _) => Err(reason.clone()),
            (Target::Local(_), None) => Err("not planned: no base".to_string()),
        }
    }

    /// `remote_checked`: a clone whose remote run branch holds only codefleet's commits.
    fn local_repo(
        &self,
        repo: Repo,
        base: Base,
        planned: &RepoPlan,
        remote_checked: bool,
    ) -> Result<RepoReport, Error> {
        let (display, name) = (planned.path.as_str(), planned.name.as_str());
        let branch = planned.branch.clone().unwrap_or_default();
        let _lock = if self.writes() {
            Some(repo.lock()?)
        } else {
            None
        };
        let previous_tip = repo.branch_tip(&branch)?;
        if !self.options.force {
            repo.check_run_branch(&branch, base.commit, &self.pipeline.name, remote_checked)?;
        }
        self.observer.repo_started(display);
        let mut report = RepoReport {
            path: display.to_string(),
            name: name.to_string(),
            status: RepoStatus::Unchanged,
            message: None,
            base: Some(base.commit.to_string()),
            branch: Some(branch.clone()),
            previous_tip: previous_tip.map(|t| t.to_string()),
            tip: previous_tip.map(|t| t.to_string()),
            tasks: Vec::new(),
            publish: None,
        };
        let (entries, fixed): (Vec<git::TreeEntry>, Vec<git::TreeEntry>) = repo
            .list_paths(&base)?
            .into_iter()
            .partition(|e| e.mode.is_file());
        let mut overlay = Overlay {
            paths: entries.iter().map(|e| (e.path.clone(), e.mode)).collect(),
            base_ids: entries.into_iter().map(|e| (e.path, e.id)).collect(),
            changed: Default::default(),
            fixed: fixed.into_iter().map(|e| (e.path, e.mode)).collect(),
        };
        let previous = previous_commits(&repo, previous_tip);
        let mut record = RunRecord::new(
            self.run_id,
            &self.pipeline.name,
            &base.rev,
            base.commit,
            &branch,
            previous_tip,
        );
        let mut parent = base.commit;
        let work_dir = repo.display_path().to_path_buf();
        // Shell steps' worktree (removed when this goes, whatever happens), the undo of every
        // commit since the last passing check (or the base), which a failing check takes back
        // whole, and why the rest is not run after `on_fail: stop`.
        let mut shell = Shell::default();
        Worktree::remove_stale(&repo);
        let mut since_gate: Vec<Undo> = Vec::new();
        let mut stopped: Option<String> = None;
        for (index, task) in self.pipeline.tasks.iter().enumerate() {
            if self.interrupt.load(Ordering::SeqCst) {
                let mut t = TaskReport::new(&task.name, task.kind.name());
                t.status = TaskStatus::Interrupted;
                report.tasks.push(t);
                continue;
            }
            if let Some(why) = &stopped {
                let mut t = TaskReport::new(&task.name, task.kind.name());
                t.status = TaskStatus::Skipped;
                t.message = Some(why.clone());
                report.tasks.push(t);
                continue;
            }
            let started = std::time::Instant::now();
            let step = steps::Ctx {
                pipeline: self.pipeline,
                run_id: self.run_id,
                repo_name: name,
                display,
                mode: self.options.mode,
                observer: self.observer,
                interrupt: self.interrupt,
                gate: self.gates.get(index),
            };
            let (mut task_report, changes) = match catching(|| match &task.kind {
                TaskKind::Run(_) | TaskKind::Check { .. } => {
                    shell.task(&step, &repo, &overlay, parent, task)
                }
                _ => self.task(&repo, display, &work_dir, &overlay, task, name),
            }) {
                Ok(r) => r,
                Err(msg) => {
                    let mut t = TaskReport::new(&task.name, task.kind.name());
                    t.status = TaskStatus::Failed;
                    t.message = Some(format!("internal error (a bug in codefleet): {msg}"));
                    (t, Vec::new())
                }
            };
            let undo = self.settle(
                &repo,
                task,
                name,
                &previous,
                (&mut parent, &mut overlay, &mut record),
                &mut task_report,
                changes,
                started.elapsed(),
                report.tasks.len(),
            );
            since_gate.extend(undo);
            if !matches!(task.kind, TaskKind::Check { .. }) {
                self.observer.task_finished(display, &task_report);
                report.tasks.push(task_report);
                continue;
            }
            // A check guards everything since the last one that passed: whatever it does
            // (pass, revert, stop), the next check starts afresh.
            let mut undos = std::mem::take(&mut since_gate);
            undos.extend(self.fix_check(
                &mut shell,
                &step,
                (&repo, &work_dir, name, &previous),
                task,
                (&mut parent, &mut overlay, &mut record),
                &mut report.tasks,
                &mut task_report,
            ));
            match steps::after_check(
                task,
                &mut task_report,
                undos,
                &mut overlay,
                &mut parent,
                &mut report.tasks,
                &mut record,
            ) {
                AfterCheck::Stop(why) => stopped = Some(why),
                AfterCheck::Recheck => steps::recheck(
                    &mut shell,
                    &step,
                    (&repo, &overlay, parent),
                    task,
                    &mut task_report,
                ),
                AfterCheck::Continue => {}
            }
            self.observer.task_finished(display, &task_report);
            report.tasks.push(task_report);
        }
        drop(shell);
        // `runs` and `show` say what this run did not do: the tasks Ctrl-C or `on_fail: stop`
        // kept from running, and whether it was interrupted.
        let not_run: Vec<serde_json::Value> = report
            .tasks
            .iter()
            .filter(|t| matches!(t.status, TaskStatus::Interrupted | TaskStatus::Skipped))
            .map(|t| {
                let why = match t.status {
                    TaskStatus::Interrupted => "interrupted".to_string(),
                    _ => t.message.clone().unwrap_or_else(|| "skipped".into()),
                };
                serde_json::json!({ "name": t.name, "reason": why })
            })
            .collect();
        if !not_run.is_empty() {
            record.extra.insert("not_run".into(), not_run.into());
        }
        if self.interrupt.load(Ordering::SeqCst) {
            record.extra.insert("interrupted".into(), true.into());
        }
        let mut finish_error = None;
        if self.writes() && (parent != base.commit || previous_tip.is_some()) {
            // The branch reflects this run's result from the current base; a run that changes
            // nothing creates no branch. The journal names the commits before the branch moves
            // (unfinished: no `finished_at`), so a run killed right after the move left a
            // branch whose commits are known, not foreign; it is finished once it has moved.
            let journal = repo.journal();
            record.tip = Some(parent);
            // Under the repository lock: no other run takes the same number.
            let finished = journal
                .next_sequence()
                .and_then(|n| {
                    record.sequence = n;
                    journal.write(&record)
                })
                .and_then(|()| {
                    repo.update_branch(&branch, parent, previous_tip)
                        .inspect_err(|_| {
                            // Nothing moved: the record would claim commits that never landed.
                            let _ = journal.remove(&record.run_id);
                        })
                })
                .and_then(|_| {
                    report.tip = Some(parent.to_string());
                    record.finished_at = Some(now_rfc3339());
                    journal.write(&record)
                })
                .and_then(|()| {
                    if self.options.checkout {
                        repo.checkout_branch(&branch)
                    } else {
                        Ok(())
                    }
                });
            if let Err(e) = finished {
                finish_error = Some(e.one_line());
            }
        }
        if let Some(message) = finish_error {
            report.status = RepoStatus::Failed;
            report.message = Some(message);
            return Ok(report);
        }
        let interrupted = report
            .tasks
            .iter()
            .any(|t| t.status == TaskStatus::Interrupted);
        let failed = report.tasks.iter().any(|t| t.status == TaskStatus::Failed);
        report.status = if interrupted {
            RepoStatus::Interrupted
        } else if failed {
            RepoStatus::Failed
        } else if report.commits() > 0 {
            RepoStatus::Changed
        } else if self.writes() && previous_tip.is_some() && previous_tip != Some(parent) {
            // Nothing left to change (it landed upstream): the branch went back to the base.
            report.message = Some(format!(
                "nothing left to change: branch `{branch}` moved back to the base (it was at {}; \
                 `codefleet rollback {}` puts it back)",
                previous_tip.map_or_else(String::new, |t| t.to_string()[..10].to_string()),
                self.run_id
            ));
            RepoStatus::Reset
        } else {
            RepoStatus::Unchanged
        };
        Ok(report)
    }

    /// `on_fail: fix` for a failed check: rounds of a model editing what the check's output
    /// names (each round a task `NAME (fix N)` and a commit) and the check run again, until it
    /// passes or `attempts` rounds are spent. `check` ends as the last run of the check;
    /// returns the rounds' undos, oldest first.
    #[allow(clippy::too_many_arguments)]
    fn fix_check(
        &self,
        shell: &mut Shell,
        step: &steps::Ctx<'_>,
        (repo, work_dir, name, previous): (&Repo, &Path, &str, &[PreviousCommit]),
        task: &Task,
        (parent, overlay, record): (&mut git::Oid, &mut Overlay, &mut RunRecord),
        tasks: &mut Vec<TaskReport>,
        check: &mut TaskReport,
    ) -> Vec<Undo> {
        let TaskKind::Check {
            on_fail: OnFail::Fix,
            fix_attempts,
            ..
        } = &task.kind
        else {
            return Vec::new();
        };
        if check.status != TaskStatus::Failed || check.command.is_none() {
            return Vec::new();
        }
        let display = step.display;
        let internal = |name: &str, kind: &str, msg: String| {
            let mut t = TaskReport::new(name, kind);
            t.status = TaskStatus::Failed;
            t.message = Some(format!("internal error (a bug in codefleet): {msg}"));
            (t, Vec::new())
        };
        let mut undos = Vec::new();
        let mut rounds = 0;
        while rounds < *fix_attempts
            && check.status == TaskStatus::Failed
            && !self.interrupt.load(Ordering::SeqCst)
        {
            rounds += 1;
            let fix = match steps::fix_task(task, check, overlay, rounds) {
                Ok(fix) => fix,
                Err(why) => {
                    steps::note(check, &format!("no fix round: {why}"));
                    break;
                }
            };
            let started = std::time::Instant::now();
            let (mut fix_report, changes) =
                catching(|| self.task(repo, display, work_dir, overlay, &fix, name))
                    .unwrap_or_else(|msg| internal(&fix.name, "fix", msg));
            fix_report.kind = "fix".into();
            let why = fix_report
                .message
                .clone()
                .or_else(|| fix_report.files.iter().find_map(|f| f.message.clone()))
                .unwrap_or_else(|| "the model changed nothing".into());
            // Kept in the report either way: what the round cost, and why it did nothing.
            let undo = self.settle(
                repo,
                &fix,
                name,
                previous,
                (&mut *parent, &mut *overlay, &mut *record),
                &mut fix_report,
                changes,
                started.elapsed(),
                tasks.len(),
            );
            self.observer.task_finished(display, &fix_report);
            tasks.push(fix_report);
            let Some(undo) = undo else {
                steps::note(check, &format!("fix round {rounds} changed nothing: {why}"));
                break;
            };
            undos.push(undo);
            *check = catching(|| shell.task(step, repo, overlay, *parent, task))
                .map(|(report, _)| report)
                .unwrap_or_else(|msg| internal(&task.name, task.kind.name(), msg).0);
            let outcome = if check.status == TaskStatus::Failed {
                format!("still failing after {rounds} fix round(s)")
            } else {
                format!("passes after {rounds} fix round(s)")
            };
            steps::note(check, &outcome);
        }
        if check.status == TaskStatus::Failed && self.interrupt.load(Ordering::SeqCst) {
            // Ctrl-C during the fix rounds: the check did not get its chance to pass.
            check.status = TaskStatus::Interrupted;
            steps::note(check, "interrupted during its fix rounds");
        }
        if check.status == TaskStatus::Interrupted {
            // An interrupted check reverts nothing; the rounds so far stay.
            return Vec::new();
        }
        undos
    }

    /// Commits a task's changes on `parent` (when the run writes), journals the task, and
    /// lays the changes over the overlay. Returns how to take that back when it changed
    /// anything (`index`: where the task's report goes in the repository's report).
    #[allow(clippy::too_many_arguments)]
    fn settle(
        &self,
        repo: &Repo,
        task: &Task,
        repo_name: &str,
        previous: &[PreviousCommit],
        (parent, overlay, record): (&mut git::Oid, &mut Overlay, &mut RunRecord),
        task_report: &mut TaskReport,
        changes: Vec<TreeChange>,
        took: std::time::Duration,
        index: usize,
    ) -> Option<Undo> {
        let mut commit = None;
        let parent_before = *parent;
        if self.writes() && task_report.status != TaskStatus::Interrupted && !changes.is_empty() {
            match self.commit(repo, *parent, &changes, task, repo_name, previous) {
                Ok(id) => commit = id,
                Err(e) => {
                    task_report.status = TaskStatus::Failed;
                    task_report.message = Some(e.message);
                }
            }
        }
        if let Some(id) = commit {
            *parent = id;
            task_report.commit = Some(id.to_string());
        }
        if task_report.status != TaskStatus::Interrupted {
            record.tasks.push(task_record(task_report, commit, took));
        }
        let committed = commit.is_some() || (!self.writes() && task_report.makes_commit());
        if !committed {
            return None;
        }
        let undo = Undo::capture(index, parent_before, overlay, &changes);
        for change in changes {
            match change {
                TreeChange::Write { path, bytes, mode } => {
                    overlay.paths.insert(path.clone(), mode);
                    overlay.changed.insert(path, Some(Stored::Bytes(bytes)));
                }
                TreeChange::Blob { path, id, mode } => {
                    overlay.paths.insert(path.clone(), mode);
                    overlay.changed.insert(path, Some(Stored::Blob(id)));
                }
                TreeChange::Delete { path } => {
                    overlay.paths.remove(&path);
                    overlay.changed.insert(path, None);
                }
            }
        }
        Some(undo)
    }

    /// Runs one task over the overlay: its report and the changes to commit.
    fn task(
        &self,
        repo: &Repo,
        display: &str,
        work_dir: &Path,
        overlay: &Overlay,
        task: &Task,
        repo_name: &str,
    ) -> (TaskReport, Vec<TreeChange>) {
        let mut report = TaskReport::new(&task.name, task.kind.name());
        let policy = &self.pipeline.policy;
        let reader = Reader {
            work_dir,
            overlay,
            index: repo.index_snapshot(),
        };
        // Modes a patch sets; every other file keeps the mode it has.
        let mut modes = std::collections::BTreeMap::new();
        let outcomes: Vec<(String, FileOutcome)> = match &task.kind {
            TaskKind::Replace(r) => {
                let with = r.replacement(&self.pipeline.context(
                    self.run_id,
                    Some(repo_name),
                    Some(&task.name),
                ));
                let files = select(
                    overlay.paths.keys().map(String::as_str),
                    task.files.as_ref(),
                    &policy.deny,
                    &mut report.skipped,
                );
                report.files_selected = files.len();
                self.observer.task_started(display, &task.name, files.len());
                tasks::replace_files(
                    &reader,
                    &files,
                    r,
                    &with,
                    &tasks::PerFile {
                        max_size: policy.deterministic_max_file_size(),
                        keep_old: self.options.mode == Mode::DryRun,
                        store: self.writes() && repo.work_dir().is_some(),
                        interrupt: self.interrupt,
                        done: &|path| self.observer.file_done(display, &task.name, path),
                    },
                )
            }
            TaskKind::Patch { path } | TaskKind::Edits { path, .. } => {
                let (format, udiff) = match &task.kind {
                    TaskKind::Edits { format, .. } => (*format, UdiffInput::Auto),
                    _ => (Some(Format::Udiff), UdiffInput::PatchFile),
                };
                let files = OverlayFiles {
                    repo,
                    reader: &reader,
                    filter: task.files.as_ref(),
                    policy,
                };
                self.observer.task_started(display, &task.name, 0);
                match tasks::edit_files(&files, path, format, udiff, task.allow_shrink) {
                    Ok(edited) => {
                        let paths: std::collections::BTreeSet<&str> =
                            edited.outcomes.iter().map(|(p, _)| p.as_str()).collect();
                        report.files_selected = paths.len();
                        modes = edited.modes;
                        edited.outcomes
                    }
                    Err(message) => {
                        report.status = TaskStatus::Failed;
                        report.message = Some(message);
                        return (report, Vec::new());
                    }
                }
            }
            TaskKind::Prompt { prompt: text, .. } | TaskKind::Ask { question: text, .. } => {
                let text = text.render(&self.pipeline.context(
                    self.run_id,
                    Some(repo_name),
                    Some(&task.name),
                ));
                let ctx = model_tasks::TaskCtx {
                    runtime: self.models,
                    repo,
                    reader: &reader,
                    policy,
                    task,
                    text,
                    display,
                    observer: self.observer,
                };
                model_tasks::task(&ctx, &mut report)
            }
            // `run` and `check` are shell steps (see `steps`), dispatched before this.
            other => {
                report.status = TaskStatus::Skipped;
                report.message = Some(format!(
                    "`{}` tasks are not run by this version",
                    other.name()
                ));
                return (report, Vec::new());
            }
        };
        let mut outcomes = outcomes;
        let held = tasks::hold_back(task.atomic, &mut outcomes);
        let mut changes = Vec::new();
        let diffs = self.options.mode == Mode::DryRun;
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
                    self.observer.file_failed(display, &task.name, &file);
                    report.files_failed += 1;
                    report.files.push(file);
                }
                FileOutcome::Changed {
                    old,
                    new,
                    replacements,
                } => {
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
                    let diff = diffs.then(|| unified_diff(&path, old.as_deref(), new_bytes));
                    report.files_changed += 1;
                    let mode = modes
                        .get(&path)
                        .or_else(|| overlay.paths.get(&path))
                        .copied()
                        .unwrap_or(FileMode::Regular);
                    changes.push(match new {
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
                    });
                    let message = held.half_edited.contains(&path).then(|| {
                        "partly edited: some of its edits failed and `atomic: none` keeps the others"
                            .to_string()
                    });
                    report.files.push(FileReport {
                        path,
                        status,
                        replacements,
                        message,
                        line: None,
                        diff,
                    });
                }
            }
        }
        if report.status == TaskStatus::Interrupted {
            return (report, Vec::new());
        }
        report.files.sort_by(|a, b| a.path.cmp(&b.path));
        if !held.held.is_empty() {
            let why = match task.atomic {
                Atomic::Task => format!(
                    "nothing of this task was committed: {} of its files failed, and `atomic: task` holds back the changes to {}",
                    report.files_failed,
                    plural(held.held.len(), "file")
                ),
                _ => format!(
                    "{} that failed keep none of this task's edits (`atomic: file`): {}",
                    plural(held.held.len(), "file"),
                    held.held.join(", ")
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
        (report, changes)
    }

    /// Writes the task's commit on `parent`. When the previous run left a commit with the same
    /// parent, tree and message (but for the run id), that commit is reused, so an identical
    /// re-run leaves the branch exactly where it was.
    fn commit(
        &self,
        repo: &Repo,
        parent: git::Oid,
        changes: &[TreeChange],
        task: &Task,
        repo_name: &str,
        previous: &[PreviousCommit],
    ) -> Result<Option<git::Oid>, Error> {
        let message = self.pipeline.commit.message.render(&self.pipeline.context(
            self.run_id,
            Some(repo_name),
            Some(&task.name),
        ));
        let author = &self.pipeline.commit.author;
        let info = CommitInfo {
            message,
            trailers: Trailers {
                pipeline: self.pipeline.name.clone(),
                task: task.name.clone(),
                run: self.run_id.to_string(),
                model: match task.kind {
                    TaskKind::Prompt { .. } => task.model.name.clone(),
                    _ => None,
                },
            },
            author: Some(Identity::new(&author.name, &author.email)),
            committer: None,
            time: None,
        };
        // The previous run's commit of this task on the same parent: reused when identical.
        let reuse = previous
            .iter()
            .find(|p| p.parent == Some(parent) && p.task == task.name)
            .map(|p| p.id);
        repo.commit_changes_reusing(parent, changes, &info, reuse)
    }
}

/// `1 file`, `2 files`.
fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::pipeline::{Replace, Task, TaskKind};

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Log {
        fn push(&self, s: String) {
            if let Ok(mut v) = self.0.lock() {
                v.push(s);
            }
        }
    }

    impl Observer for Log {
        fn run_started(&self, _: &str, repos: usize) {
            self.push(format!("run {repos}"));
        }
        fn repo_started(&self, _: &str) {
            self.push("repo".into());
        }
        fn task_started(&self, _: &str, task: &str, files: usize) {
            self.push(format!("task {task} {files}"));
        }
        fn file_done(&self, _: &str, _: &str, path: &str) {
            self.push(format!("file {path}"));
        }
        fn task_finished(&self, _: &str, task: &TaskReport) {
            self.push(format!("done {} {}", task.name, task.files_changed));
        }
        fn repo_finished(&self, repo: &RepoReport) {
            self.push(format!("repo done {:?}", repo.status));
        }
        fn run_finished(&self, report: &RunReport) {
            self.push(format!("run done {}", report.exit_code));
        }
    }

    fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let mut index = repo.index().unwrap();
        for (path, text) in files {
            std::fs::write(dir.path().join(path), text).unwrap();
            index.add_path(Path::new(path)).unwrap();
        }
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        dir
    }

    /// The plan of `pipeline` over the repository at `dir`, from its HEAD, as `plan::build`
    /// makes it (exec does not call `plan`, so its tests write the value out).
    fn one_repo_plan(pipeline: &Pipeline, dir: &Path) -> Plan {
        let (_, base) = git::open_based(dir, None).unwrap();
        Plan {
            pipeline: pipeline.name.clone(),
            run_id: "r1".into(),
            base: None,
            repos: vec![RepoPlan {
                path: dir.display().to_string(),
                name: "repo".into(),
                error: None,
                base: Some(base.commit.to_string()),
                branch: Some(format!("codefleet/{}", pipeline.name)),
                note: None,
                tasks: Vec::new(),
                target: Target::Local(dir.to_path_buf()),
                failure: None,
                start: Some(base),
            }],
            definition: pipeline.clone(),
        }
    }

    #[test]
    fn events_arrive_in_order_and_the_interrupt_flag_stops_everything() {
        let dir = repo_with(&[("a.txt", "x\n"), ("b.txt", "y\n")]);
        let task = Task::new("t", TaskKind::Replace(Replace::literal("x", "z").unwrap()));
        let pipeline = Pipeline::new("p", vec![task.clone(), Task::new("u", task.kind.clone())]);
        let options = RunOptions {
            jobs: 1,
            mode: Mode::DryRun,
            ..RunOptions::default()
        };
        let plan = one_repo_plan(&pipeline, dir.path());
        let log = Log::default();
        let report = run(&plan, &options, &log, &AtomicBool::new(false)).unwrap();
        assert_eq!(report.exit_code, 0);
        let events = log.0.into_inner().unwrap();
        assert_eq!(
            events,
            [
                "run 1",
                "repo",
                "task t 2",
                "file a.txt",
                "file b.txt",
                "done t 1",
                "task u 2",
                "file a.txt",
                "file b.txt",
                "done u 0",
                "repo done Changed",
                "run done 0"
            ]
        );

        let stopped = run(&plan, &options, &Log::default(), &AtomicBool::new(true));
        let stopped = stopped.unwrap();
        assert!(stopped.interrupted);
        assert_eq!(stopped.exit_code, 130);
        assert_eq!(stopped.repos[0].status, RepoStatus::Interrupted);
    }
}
