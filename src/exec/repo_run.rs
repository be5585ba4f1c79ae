//! One repository's run as one value: its repository, base, run branch, overlay, parent commit,
//! undo stack, shell worktree and the typed outcomes so far. Its methods run a task, settle it
//! (commit, journal, lay the changes over the overlay), run a check's gate and fix rounds, and
//! finish: the run branch moves (see [`git::RunBranch`]) and the outcomes become the
//! repository's report, once.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::error::Error;
use crate::git::{
    self, Base, CommitInfo, Identity, Oid, Repo, RunBranch, RunStart, Trailers, TreeChange,
};
use crate::pipeline::{OnFail, Task, TaskKind};
use crate::report::{RepoReport, RepoStatus, TaskReport, TaskStatus};
use crate::workspace::worktree::Worktree;

use super::commits::{PreviousCommit, previous_commits, task_record};
use super::outcome::{Kind, TaskOutcome};
use super::pool::catching;
use super::run_ctx::{RunCtx, Scope};
use super::steps::{self, Shell, Undo, note};
use crate::workspace::{Overlay, Stored};

/// The repository a run works in, and its names.
pub(super) struct Where<'r> {
    pub repo: &'r Repo,
    /// The short name (templates).
    pub name: &'r str,
    /// As the user named it (events, the report).
    pub display: &'r str,
}

/// One repository's run.
pub(super) struct RepoRun<'r, 'c> {
    ctx: &'r RunCtx<'c>,
    repo: &'r Repo,
    name: &'r str,
    display: &'r str,
    base: Oid,
    branch: RunBranch<'r>,
    /// The files as the tasks so far left them.
    overlay: Overlay,
    /// The commit the next task's commit goes on.
    parent: Oid,
    /// The branch's commits before this run, which an identical re-run reuses.
    previous: Vec<PreviousCommit>,
    /// How to take back every commit since the last passing check (or the base), which a
    /// failing check takes back whole.
    since_gate: Vec<Undo>,
    /// Shell steps' worktree, removed when this goes, whatever happens.
    shell: Shell,
    work_dir: PathBuf,
    outcomes: Vec<TaskOutcome>,
    /// Why the remaining tasks are not run, after `on_fail: stop`.
    stopped: Option<String>,
}

/// What a failed check does to the repository's run.
enum AfterCheck {
    /// Go on with the next task.
    Continue,
    /// It reverted: run the check again on the reverted state, then go on.
    Recheck,
    /// Stop the repository here, with this reason for the tasks not run.
    Stop(String),
}

impl<'r, 'c> RepoRun<'r, 'c> {
    /// Begins the run on `branch` from `base` (`remote_checked`: a clone whose remote run
    /// branch holds only codefleet's commits): the branch's lock and ownership check, then
    /// the overlay of the base tree.
    pub fn begin(
        ctx: &'r RunCtx<'c>,
        at: Where<'r>,
        base: &Base,
        branch: &str,
        remote_checked: bool,
    ) -> Result<RepoRun<'r, 'c>, Error> {
        let start = RunStart {
            run_id: ctx.run_id,
            pipeline: &ctx.pipeline.name,
            writes: ctx.writes(),
            force: ctx.options.force,
            remote_checked,
        };
        let branch = RunBranch::begin(at.repo, branch, base, &start)?;
        ctx.observer.repo_started(at.display);
        let (entries, fixed): (Vec<git::TreeEntry>, Vec<git::TreeEntry>) = at
            .repo
            .list_paths(base)?
            .into_iter()
            .partition(|e| e.mode.is_file());
        let overlay = Overlay {
            paths: entries.iter().map(|e| (e.path.clone(), e.mode)).collect(),
            base_ids: entries.into_iter().map(|e| (e.path, e.id)).collect(),
            changed: Default::default(),
            fixed: fixed.into_iter().map(|e| (e.path, e.mode)).collect(),
        };
        let previous = previous_commits(at.repo, branch.previous_tip());
        Worktree::remove_stale(at.repo);
        Ok(RepoRun {
            ctx,
            repo: at.repo,
            name: at.name,
            display: at.display,
            base: base.commit,
            branch,
            overlay,
            parent: base.commit,
            previous,
            since_gate: Vec::new(),
            shell: Shell::default(),
            work_dir: at.repo.display_path().to_path_buf(),
            outcomes: Vec::new(),
            stopped: None,
        })
    }

    /// Runs every task in order, then finishes.
    pub fn run(mut self) -> RepoReport {
        for (index, task) in self.ctx.pipeline.tasks.iter().enumerate() {
            self.step(index, task);
        }
        self.finish()
    }

    fn interrupted(&self) -> bool {
        self.ctx.interrupt.load(Ordering::SeqCst)
    }

    /// Runs task `index` (or says why not), settles it, and for a check runs its gate.
    fn step(&mut self, index: usize, task: &Task) {
        let kind = Kind::of(&task.kind);
        if self.interrupted() {
            let outcome = TaskOutcome::not_run(kind, &task.name, TaskStatus::Interrupted, None);
            self.outcomes.push(outcome);
            return;
        }
        if let Some(why) = &self.stopped {
            let why = Some(why.clone());
            let outcome = TaskOutcome::not_run(kind, &task.name, TaskStatus::Skipped, why);
            self.outcomes.push(outcome);
            return;
        }
        let started = Instant::now();
        let (detail, changes) = self.run_task(index, task);
        let mut outcome = TaskOutcome::new(kind, detail);
        let undo = self.settle(task, &mut outcome, changes, started.elapsed());
        self.since_gate.extend(undo);
        if kind == Kind::Check {
            self.check(index, task, &mut outcome.detail);
        }
        self.ctx
            .observer
            .task_finished(self.display, &outcome.snapshot());
        self.outcomes.push(outcome);
    }

    /// What a shell step of task `index` needs from the run.
    fn step_ctx(&self, index: usize) -> steps::Ctx<'r> {
        let ctx: &'r RunCtx<'c> = self.ctx;
        steps::Ctx {
            pipeline: ctx.pipeline,
            run_id: ctx.run_id,
            repo_name: self.name,
            display: self.display,
            mode: ctx.options.mode,
            observer: ctx.observer,
            interrupt: ctx.interrupt,
            gate: ctx.gates.get(index),
        }
    }

    fn scope(&self) -> Scope<'_> {
        Scope {
            repo: self.repo,
            name: self.name,
            display: self.display,
            work_dir: &self.work_dir,
            overlay: &self.overlay,
        }
    }

    /// Runs task `index` over the current state: a panic is a failed task, not a lost run.
    fn run_task(&mut self, index: usize, task: &Task) -> (TaskReport, Vec<TreeChange>) {
        let ran = match &task.kind {
            TaskKind::Run(_) | TaskKind::Check { .. } => {
                let step = self.step_ctx(index);
                let (repo, overlay, parent) = (self.repo, &self.overlay, self.parent);
                let shell = &mut self.shell;
                catching(|| shell.task(&step, repo, overlay, parent, task))
            }
            _ => {
                let scope = self.scope();
                catching(|| self.ctx.task(&scope, task))
            }
        };
        ran.unwrap_or_else(|panic| {
            let kind = Kind::of(&task.kind);
            let failed = TaskOutcome::internal_error(kind, &task.name, &panic);
            (failed.detail, Vec::new())
        })
    }

    /// Commits a task's changes on the parent (when the run writes), journals the task, and
    /// lays the changes over the overlay. Returns how to take that back when it changed
    /// anything.
    fn settle(
        &mut self,
        task: &Task,
        outcome: &mut TaskOutcome,
        changes: Vec<TreeChange>,
        took: Duration,
    ) -> Option<Undo> {
        // Where the outcome goes among the repository's (fix rounds go before their check).
        let index = self.outcomes.len();
        let report = &mut outcome.detail;
        let writes = self.ctx.writes();
        let parent_before = self.parent;
        if writes && report.status != TaskStatus::Interrupted && !changes.is_empty() {
            match self.commit(&changes, task) {
                Ok(id) => outcome.commit = id,
                Err(e) => {
                    report.status = TaskStatus::Failed;
                    report.message = Some(e.message);
                }
            }
        }
        if let Some(id) = outcome.commit {
            self.parent = id;
        }
        if report.status != TaskStatus::Interrupted {
            let record = task_record(report, outcome.commit, took);
            self.branch.record_task(record);
        }
        let committed = outcome.commit.is_some() || (!writes && report.makes_commit());
        if !committed {
            return None;
        }
        let undo = Undo::capture(index, parent_before, &mut self.overlay, &changes);
        lay_over(&mut self.overlay, changes);
        Some(undo)
    }

    /// Writes the task's commit on the parent. When the previous run left a commit with the
    /// same parent, tree and message (but for the run id), that commit is reused, so an
    /// identical re-run leaves the branch exactly where it was.
    fn commit(&self, changes: &[TreeChange], task: &Task) -> Result<Option<Oid>, Error> {
        let pipeline = self.ctx.pipeline;
        let context = pipeline.context(self.ctx.run_id, Some(self.name), Some(&task.name));
        let author = &pipeline.commit.author;
        let info = CommitInfo {
            message: pipeline.commit.message.render(&context),
            trailers: Trailers {
                pipeline: pipeline.name.clone(),
                task: task.name.clone(),
                run: self.ctx.run_id.to_string(),
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
        let reuse = self
            .previous
            .iter()
            .find(|p| p.parent == Some(self.parent) && p.task == task.name)
            .map(|p| p.id);
        self.repo
            .commit_changes_reusing(self.parent, changes, &info, reuse)
    }

    /// The gate of check `index`, which ran and left `check`: a check guards everything since
    /// the last one that passed, and whatever it does (pass, fix, revert, stop), the next check
    /// starts afresh.
    fn check(&mut self, index: usize, task: &Task, check: &mut TaskReport) {
        let mut undos = std::mem::take(&mut self.since_gate);
        undos.extend(self.fix_check(index, task, check));
        match self.after_check(task, check, undos) {
            AfterCheck::Stop(why) => self.stopped = Some(why),
            AfterCheck::Recheck => {
                let step = self.step_ctx(index);
                let state = (self.repo, &self.overlay, self.parent);
                steps::recheck(&mut self.shell, &step, state, task, check);
            }
            AfterCheck::Continue => {}
        }
    }

    /// `on_fail: fix` for a failed check: rounds of a model editing what the check's output
    /// names (each round a task `NAME (fix N)` and a commit) and the check run again, until it
    /// passes or `attempts` rounds are spent. `check` ends as the last run of the check;
    /// returns the rounds' undos, oldest first.
    fn fix_check(&mut self, index: usize, task: &Task, check: &mut TaskReport) -> Vec<Undo> {
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
        let mut undos = Vec::new();
        let mut round = 0;
        while round < *fix_attempts && check.status == TaskStatus::Failed && !self.interrupted() {
            round += 1;
            match self.fix_round(index, task, check, round) {
                Some(undo) => undos.push(undo),
                None => break,
            }
        }
        if check.status == TaskStatus::Failed && self.interrupted() {
            // Ctrl-C during the fix rounds: the check did not get its chance to pass.
            check.status = TaskStatus::Interrupted;
            note(check, "interrupted during its fix rounds");
        }
        if check.status == TaskStatus::Interrupted {
            // An interrupted check reverts nothing; the rounds so far stay.
            return Vec::new();
        }
        undos
    }

    /// Fix round `round`: the model's edits, settled as their own outcome, and the check run
    /// again. `None` when the round changed nothing (the check says why).
    fn fix_round(
        &mut self,
        index: usize,
        task: &Task,
        check: &mut TaskReport,
        round: u32,
    ) -> Option<Undo> {
        let fix = match steps::fix_task(task, check, &self.overlay, round) {
            Ok(fix) => fix,
            Err(why) => {
                note(check, &format!("no fix round: {why}"));
                return None;
            }
        };
        let started = Instant::now();
        let scope = self.scope();
        let (detail, changes) = catching(|| self.ctx.task(&scope, &fix)).unwrap_or_else(|panic| {
            let failed = TaskOutcome::internal_error(Kind::Fix, &fix.name, &panic);
            (failed.detail, Vec::new())
        });
        let mut outcome = TaskOutcome::new(Kind::Fix, detail);
        let why = (outcome.detail.message.clone())
            .or_else(|| outcome.detail.files.iter().find_map(|f| f.message.clone()))
            .unwrap_or_else(|| "the model changed nothing".into());
        // Kept in the report either way: what the round cost, and why it did nothing.
        let undo = self.settle(&fix, &mut outcome, changes, started.elapsed());
        self.ctx
            .observer
            .task_finished(self.display, &outcome.snapshot());
        self.outcomes.push(outcome);
        let Some(undo) = undo else {
            note(check, &format!("fix round {round} changed nothing: {why}"));
            return None;
        };
        let step = self.step_ctx(index);
        let (repo, overlay, parent) = (self.repo, &self.overlay, self.parent);
        let shell = &mut self.shell;
        *check = catching(|| shell.task(&step, repo, overlay, parent, task))
            .map(|(report, _)| report)
            .unwrap_or_else(|panic| {
                TaskOutcome::internal_error(Kind::Check, &task.name, &panic).detail
            });
        let outcome = if check.status == TaskStatus::Failed {
            format!("still failing after {round} fix round(s)")
        } else {
            format!("passes after {round} fix round(s)")
        };
        note(check, &outcome);
        Some(undo)
    }

    /// After a `check` task: when it failed, revert (`on_fail: revert`, and `fix` once its
    /// rounds are spent) or stop (`stop`). `undos` are what a revert takes back, oldest first:
    /// every commit since the last check that passed (or the base), then any fix rounds; a
    /// check guards all of them, not only the task right before it (which may be a formatter
    /// with nothing to do).
    fn after_check(
        &mut self,
        task: &Task,
        report: &mut TaskReport,
        undos: Vec<Undo>,
    ) -> AfterCheck {
        let TaskKind::Check { on_fail, .. } = &task.kind else {
            return AfterCheck::Continue;
        };
        if report.status != TaskStatus::Failed {
            return AfterCheck::Continue;
        }
        if *on_fail == OnFail::Stop {
            note(report, "the repository stops here (`on_fail: stop`)");
            report.held_back =
                Some("`on_fail: stop` keeps what the check guards on the run branch".into());
            return AfterCheck::Stop(format!(
                "not run: check `{}` failed (`on_fail: stop`)",
                task.name
            ));
        }
        if undos.is_empty() {
            note(
                report,
                "nothing to revert: no task changed anything since the last passing check",
            );
            report.held_back = Some(
                "nothing since the last passing check could be reverted, so the run branch still fails it"
                    .into(),
            );
            return AfterCheck::Continue;
        }
        let names = self.revert(undos, &format!("reverted: check `{}` failed", task.name));
        let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
        note(report, &format!("reverted {}", quoted.join(", ")));
        report.reverted = names;
        AfterCheck::Recheck
    }

    /// Takes back `undos` (newest first): their outcomes are reverted, their commits leave the
    /// journal, and the parent and overlay go back. Returns the reverted tasks' names, oldest
    /// first.
    fn revert(&mut self, undos: Vec<Undo>, why: &str) -> Vec<String> {
        let mut names = Vec::new();
        for undo in undos.into_iter().rev() {
            if let Some(previous) = self.outcomes.get_mut(undo.task) {
                names.push(previous.detail.name.clone());
                let dropped = previous.commit.take();
                previous.detail.status = TaskStatus::Reverted;
                note(&mut previous.detail, why);
                if let Some(dropped) = dropped {
                    self.branch
                        .drop_commit(dropped, previous.detail.message.clone());
                }
            }
            self.parent = undo.parent;
            undo.apply(&mut self.overlay);
        }
        names.reverse();
        names
    }

    /// Ends the run: the shell worktree goes, the run branch finishes (journal, move,
    /// checkout), and the outcomes become the repository's report.
    fn finish(mut self) -> RepoReport {
        drop(std::mem::take(&mut self.shell));
        self.journal_what_did_not_run();
        let previous_tip = self.branch.previous_tip();
        let branch = self.branch.name().to_string();
        let landed = self.branch.finish(self.parent, self.ctx.options.checkout);
        let mut report = RepoReport {
            path: self.display.to_string(),
            name: self.name.to_string(),
            status: RepoStatus::Unchanged,
            message: None,
            base: Some(self.base),
            branch: Some(branch),
            previous_tip,
            tip: landed.tip,
            tasks: self.outcomes.into_iter().map(TaskOutcome::report).collect(),
            publish: None,
            opted_out: false,
        };
        if let Some(e) = landed.error {
            report.status = RepoStatus::Failed;
            report.message = Some(e.one_line());
            return report;
        }
        let reset =
            self.ctx.writes() && previous_tip.is_some() && previous_tip != Some(self.parent);
        status(&mut report, reset, self.ctx.run_id);
        report
    }

    /// `runs` and `show` say what this run did not do: the tasks Ctrl-C or `on_fail: stop`
    /// kept from running, and whether it was interrupted.
    fn journal_what_did_not_run(&mut self) {
        let not_run: Vec<serde_json::Value> = self
            .outcomes
            .iter()
            .map(|o| &o.detail)
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
            self.branch.note("not_run", not_run.into());
        }
        if self.interrupted() {
            self.branch.note("interrupted", true.into());
        }
    }
}

/// The repository's status from its tasks (`reset`: the branch moved back to the base).
fn status(report: &mut RepoReport, reset: bool, run_id: &str) {
    let any = |s: TaskStatus| report.tasks.iter().any(|t| t.status == s);
    report.status = if any(TaskStatus::Interrupted) {
        RepoStatus::Interrupted
    } else if any(TaskStatus::Failed) {
        RepoStatus::Failed
    } else if report.commits() > 0 {
        RepoStatus::Changed
    } else if reset {
        // Nothing left to change (it landed upstream): the branch went back to the base.
        report.message = Some(format!(
            "nothing left to change: branch `{}` moved back to the base (it was at {}; \
             `codefleet rollback {run_id}` puts it back)",
            report.branch.as_deref().unwrap_or_default(),
            report
                .previous_tip
                .map_or_else(String::new, |t| t.to_string()[..10].to_string()),
        ));
        RepoStatus::Reset
    } else {
        RepoStatus::Unchanged
    };
}

/// Lays a task's changes over the overlay.
fn lay_over(overlay: &mut Overlay, changes: Vec<TreeChange>) {
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
}
