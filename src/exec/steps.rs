//! `run:` and `check:` tasks in one repository: the current state (the commit of every earlier
//! task, or in a dry run an uncommitted object built from the overlay) is checked out into a
//! temporary linked worktree, the command runs there, and what it changed becomes the task's
//! changes, through the same policy as every other edit. A failing check reverts the task
//! before it, stops the repository, or has a model fix what its output names (the prompt of
//! each fix round is built here; `repo_run.rs` runs the rounds).

use std::sync::atomic::AtomicBool;

use crate::git::{self, CommitInfo, FileMode, Oid, Repo, TreeChange};
use crate::pipeline::{Command, FileFilter, Per, Pipeline, Task, TaskKind, Template};
use crate::report::{
    CommandReport, FileReport, FileStatus, Mode, TaskReport, TaskStatus, unified_diff,
};
use crate::workspace::worktree::{self, Kind, Rules, Worktree};

use super::observer::Observer;
use super::shell::{self, Ended, Gate};
use crate::workspace::{Overlay, Stored};

/// What a shell task needs from the run.
pub(super) struct Ctx<'a> {
    pub pipeline: &'a Pipeline,
    pub run_id: &'a str,
    pub repo_name: &'a str,
    pub display: &'a str,
    pub mode: Mode,
    pub observer: &'a dyn Observer,
    pub interrupt: &'a AtomicBool,
    /// The `concurrency:` gate of this task, shared by every repository.
    pub gate: Option<&'a Gate>,
}

/// The shell side of one repository's run: its worktree, made at the first shell task and
/// removed when this is dropped (also on a panic or an interrupt).
#[derive(Default)]
pub(super) struct Shell {
    worktree: Option<Worktree>,
}

impl Shell {
    /// Runs a `run` or `check` task over the current state (`parent` and the overlay): its
    /// report and, for `run`, the changes to commit.
    pub fn task(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &Repo,
        overlay: &Overlay,
        parent: Oid,
        task: &Task,
    ) -> (TaskReport, Vec<TreeChange>) {
        let mut report = TaskReport::new(&task.name, task.kind.name());
        let command = match &task.kind {
            TaskKind::Run(c) | TaskKind::Check { command: c, .. } => c,
            _ => return (report, Vec::new()),
        };
        ctx.observer.task_started(ctx.display, &task.name, 0);
        let _slot = match (ctx.gate, command.concurrency) {
            (Some(gate), Some(cap)) => match gate.enter(cap, ctx.interrupt) {
                Some(slot) => Some(slot),
                None => {
                    report.status = TaskStatus::Interrupted;
                    return (report, Vec::new());
                }
            },
            _ => None,
        };
        let worktree = match self.prepare(ctx, repo, overlay, parent) {
            Ok(w) => w,
            Err(e) => return failed(report, e.one_line()),
        };
        let done = match run_command(ctx, repo, worktree, task, command) {
            Ok(done) => done,
            Err(message) => return failed(report, message),
        };
        report.command = Some(done.report());
        match unfinished(&report, task, command, &done.finished) {
            Some(Unfinished::Interrupted) => {
                report.status = TaskStatus::Interrupted;
                return (report, Vec::new());
            }
            Some(Unfinished::Failed(message)) => return failed(report, message),
            None => {}
        }
        if let TaskKind::Check { .. } = task.kind {
            report.status = TaskStatus::Unchanged;
            return (report, Vec::new());
        }
        self.collect(ctx, repo, report)
    }

    /// The worktree, reset to the current state: made at the first shell task, reset
    /// afterwards, made again when a reset fails.
    fn prepare(
        &mut self,
        ctx: &Ctx<'_>,
        repo: &Repo,
        overlay: &Overlay,
        parent: Oid,
    ) -> Result<&Worktree, crate::error::Error> {
        let state = if ctx.mode == Mode::Run {
            parent
        } else {
            state_commit(repo, overlay, parent)?
        };
        // Always reset: the last command may have left changes (a failed or refused `run`, a
        // `check` that wrote files), even when the state did not move.
        let reused = self
            .worktree
            .as_mut()
            .is_some_and(|w| w.reset(state).is_ok());
        if !reused {
            // A worktree that cannot be reset is dropped (removed) before its replacement.
            self.worktree = None;
        }
        let worktree = match self.worktree.take() {
            Some(w) => w,
            None => Worktree::create(repo, ctx.run_id, state)?,
        };
        Ok(self.worktree.insert(worktree))
    }

    /// Reads what a successful `run` command changed into the task's changes and report.
    fn collect(
        &self,
        ctx: &Ctx<'_>,
        repo: &Repo,
        mut report: TaskReport,
    ) -> (TaskReport, Vec<TreeChange>) {
        let Some(worktree) = self.worktree.as_ref() else {
            return failed(report, "the worktree is gone".into());
        };
        let policy = &ctx.pipeline.policy;
        let rules = Rules {
            deny: &policy.deny,
            allow_create: policy.allow_create,
            allow_delete: policy.allow_delete,
            max_file_size: policy.deterministic_max_file_size(),
        };
        let found = match worktree.changes(&rules) {
            Ok(f) => f,
            Err(e) => return failed(report, e.one_line()),
        };
        if !found.refused.is_empty() {
            return refused(ctx, report, found.refused);
        }
        let store = ctx.mode == Mode::Run && repo.work_dir().is_some();
        let mut changes = Vec::new();
        report.files_selected = found.changed.len();
        for c in found.changed {
            let (change, file) = match changed_file(repo, c, store, ctx.mode == Mode::DryRun) {
                Ok(done) => done,
                Err(message) => return failed(report, message),
            };
            changes.push(change);
            ctx.observer
                .file_done(ctx.display, &report.name, &file.path);
            report.files.push(file);
        }
        report.files_changed = changes.len();
        report.status = if changes.is_empty() {
            TaskStatus::Unchanged
        } else {
            TaskStatus::Changed
        };
        (report, changes)
    }
}

/// A command that ran, and the text it ran.
struct Done {
    text: String,
    finished: shell::Finished,
}

impl Done {
    fn report(&self) -> CommandReport {
        let done = &self.finished;
        CommandReport {
            command: self.text.clone(),
            exit_code: match done.ended {
                Ended::Exited(c) => Some(c),
                _ => None,
            },
            signal: match done.ended {
                Ended::Signal(s) if s != 0 => Some(s),
                _ => None,
            },
            timed_out: done.ended == Ended::TimedOut,
            duration_ms: done.took.as_millis() as u64,
            output: done.output.clone(),
            output_truncated: done.truncated,
        }
    }
}

/// Runs the task's command in the worktree, in its `cwd:` (which must stay inside the
/// worktree, followed through symlinks), with the run's variables in its environment.
fn run_command(
    ctx: &Ctx<'_>,
    repo: &Repo,
    worktree: &Worktree,
    task: &Task,
    command: &Command,
) -> Result<Done, String> {
    let text = command.command.render(&ctx.pipeline.context(
        ctx.run_id,
        Some(ctx.repo_name),
        Some(&task.name),
    ));
    let cwd = worktree.path().join(&command.cwd);
    let inside = match (
        std::fs::canonicalize(&cwd),
        std::fs::canonicalize(worktree.path()),
    ) {
        (Ok(c), Ok(root)) => c.starts_with(root),
        _ => false,
    };
    if !cwd.is_dir() || !inside {
        return Err(format!(
            "`cwd: {}` is not a directory inside the repository",
            command.cwd.display()
        ));
    }
    let mut env = command.env.clone();
    let repo_path = repo.display_path().display().to_string();
    for (key, value) in [
        ("CODEFLEET_RUN_ID", ctx.run_id),
        ("CODEFLEET_REPO", repo_path.as_str()),
        ("CODEFLEET_REPO_NAME", ctx.repo_name),
        ("CODEFLEET_TASK", &task.name),
    ] {
        env.entry(key.to_string())
            .or_insert_with(|| value.to_string());
    }
    let spec = shell::Spec {
        shell: &command.shell,
        command: &text,
        cwd: &cwd,
        env: &env,
        timeout: command.timeout,
    };
    let line = |l: &str| ctx.observer.command_output(ctx.display, &task.name, l);
    let finished = shell::run(&spec, ctx.interrupt, &line).map_err(|e| e.one_line())?;
    Ok(Done { text, finished })
}

/// How a command that did not succeed ends its task.
enum Unfinished {
    Interrupted,
    Failed(String),
}

fn unfinished(
    report: &TaskReport,
    task: &Task,
    command: &Command,
    done: &shell::Finished,
) -> Option<Unfinished> {
    match &done.ended {
        Ended::Interrupted => Some(Unfinished::Interrupted),
        Ended::TimedOut => Some(Unfinished::Failed(format!(
            "timed out after {}; the command and everything it started were killed",
            crate::pipeline::format_duration(command.timeout)
        ))),
        _ if !done.success() => {
            let ending = report
                .command
                .as_ref()
                .map(CommandReport::ending)
                .unwrap_or_default();
            let what = if matches!(task.kind, TaskKind::Check { .. }) {
                "check failed"
            } else {
                "the command failed"
            };
            Some(Unfinished::Failed(format!("{what}: {ending}")))
        }
        _ => None,
    }
}

/// A `run` command that wrote paths the policy refuses: nothing of it is committed.
fn refused(
    ctx: &Ctx<'_>,
    mut report: TaskReport,
    refused: Vec<(String, String)>,
) -> (TaskReport, Vec<TreeChange>) {
    for (path, why) in refused {
        let file = FileReport {
            path,
            status: FileStatus::Failed,
            replacements: None,
            message: Some(format!("refused: {why}")),
            line: None,
            diff: None,
        };
        ctx.observer.file_failed(ctx.display, &report.name, &file);
        report.files_failed += 1;
        report.files.push(file);
    }
    let n = report.files_failed;
    failed(
        report,
        format!(
            "the command wrote {n} path{} the policy refuses; nothing of it is committed",
            if n == 1 { "" } else { "s" }
        ),
    )
}

/// The change and the report of one file a `run` command changed (`store`: as a blob now;
/// `diff`: with its diff).
fn changed_file(
    repo: &Repo,
    c: worktree::Changed,
    store: bool,
    diff: bool,
) -> Result<(TreeChange, FileReport), String> {
    let status = match c.kind {
        Kind::Created => FileStatus::Created,
        Kind::Modified => FileStatus::Modified,
        Kind::Deleted => FileStatus::Deleted,
    };
    let diff = diff.then(|| {
        let old = c
            .old
            .and_then(|id| repo.git2().find_blob(id).ok())
            .map(|b| b.content().to_vec());
        unified_diff(
            &c.path,
            old.as_deref(),
            c.new.as_ref().map(|(b, _)| b.as_slice()),
        )
    });
    let change = match c.new {
        None => TreeChange::Delete {
            path: c.path.clone(),
        },
        Some((bytes, mode)) if store && mode != FileMode::Symlink => {
            let id = repo
                .store_blob(&c.path, &bytes, mode)
                .map_err(|e| e.one_line())?;
            TreeChange::Blob {
                path: c.path.clone(),
                id,
                mode,
            }
        }
        Some((bytes, mode)) => TreeChange::Write {
            path: c.path.clone(),
            bytes,
            mode,
        },
    };
    let file = FileReport {
        path: c.path,
        status,
        replacements: None,
        message: None,
        line: None,
        diff,
    };
    Ok((change, file))
}

fn failed(mut report: TaskReport, message: String) -> (TaskReport, Vec<TreeChange>) {
    report.status = TaskStatus::Failed;
    report.files_changed = 0;
    report.message = Some(message);
    (report, Vec::new())
}

/// A commit of the overlay's state on `base` (a dry run commits nothing, so its worktree is
/// checked out from this unreferenced object; git's gc removes it later).
fn state_commit(repo: &Repo, overlay: &Overlay, base: Oid) -> Result<Oid, crate::error::Error> {
    let mut changes: Vec<TreeChange> = Vec::new();
    for (path, stored) in &overlay.changed {
        let mode = overlay
            .paths
            .get(path)
            .copied()
            .unwrap_or(FileMode::Regular);
        changes.push(match stored {
            None => TreeChange::Delete { path: path.clone() },
            Some(Stored::Bytes(b)) => TreeChange::Write {
                path: path.clone(),
                bytes: b.clone(),
                mode,
            },
            Some(Stored::Blob(id)) => TreeChange::Blob {
                path: path.clone(),
                id: *id,
                mode,
            },
        });
    }
    let info = CommitInfo {
        message: "codefleet: the state a shell step runs on (not on any branch)".into(),
        trailers: git::Trailers::default(),
        author: None,
        committer: None,
        time: None,
    };
    Ok(repo.commit_changes(base, &changes, &info)?.unwrap_or(base))
}

/// The overlay entries and parent a task's changes replace, to put back when a failing check
/// reverts that task (with every other task since the last passing check).
pub(super) struct Undo {
    /// Index of the task's report in the repository's report.
    pub task: usize,
    /// The parent before the task's commit.
    pub parent: Oid,
    entries: Vec<(String, Option<FileMode>, Option<Option<Stored>>)>,
}

impl Undo {
    /// Takes the overlay entries `changes` are about to replace (the caller writes the new
    /// ones right after).
    pub fn capture(
        task: usize,
        parent: Oid,
        overlay: &mut Overlay,
        changes: &[TreeChange],
    ) -> Undo {
        let entries = changes
            .iter()
            .map(|c| {
                let path = c.path().to_string();
                let mode = overlay.paths.get(&path).copied();
                let old = overlay.changed.remove(&path);
                (path, mode, old)
            })
            .collect();
        Undo {
            task,
            parent,
            entries,
        }
    }

    /// Puts the overlay entries back.
    pub fn apply(self, overlay: &mut Overlay) {
        for (path, mode, old) in self.entries {
            match mode {
                Some(m) => overlay.paths.insert(path.clone(), m),
                None => overlay.paths.remove(&path),
            };
            match old {
                Some(v) => overlay.changed.insert(path, v),
                None => overlay.changed.remove(&path),
            };
        }
    }
}

/// Appends `text` to a task's message.
pub(super) fn note(report: &mut TaskReport, text: &str) {
    let m = report.message.get_or_insert_with(String::new);
    if !m.is_empty() {
        m.push_str("; ");
    }
    m.push_str(text);
}

/// Runs a failed check again after its revert: only a check that passes on the reverted state
/// makes the revert good (the state of the last passing check was never checked by this one).
/// The failing run's report stays the check's; the new one adds a note, and `held_back` when
/// the check still fails.
pub(super) fn recheck(
    shell: &mut Shell,
    ctx: &Ctx<'_>,
    (repo, overlay, parent): (&Repo, &Overlay, Oid),
    task: &Task,
    report: &mut TaskReport,
) {
    let again = super::pool::catching(|| shell.task(ctx, repo, overlay, parent, task))
        .map(|(r, _)| r.status)
        .unwrap_or(TaskStatus::Failed);
    match again {
        TaskStatus::Unchanged => note(report, "passes again after the revert"),
        TaskStatus::Interrupted => {
            note(report, "interrupted while checking again after the revert");
            report.held_back = Some("the check was interrupted after the revert".into());
        }
        _ => {
            note(report, "still fails after the revert");
            report.held_back = Some("it still fails after the revert".into());
        }
    }
}

/// Why a repository must not be published: a check failed and the revert did not make it
/// good (see [`TaskReport::held_back`]). `None` when every failed check passes again after
/// its revert.
pub(crate) fn held_back(tasks: &[TaskReport]) -> Option<String> {
    tasks.iter().find_map(|t| {
        t.held_back
            .as_ref()
            .map(|why| format!("not pushed: check `{}` failed and {why}", t.name))
    })
}

/// Files fix prompts show at most.
const FIX_FILES: usize = 8;

/// The prompt task of fix round `round` for a failed check: the command, how it ended and the
/// end of its output, over the repository's files the output names (by path relative to the
/// root, or by a path inside the worktree). `Err` says why there is none: a model shown no
/// file (or the whole repository) is no way to fix a check.
pub(super) fn fix_task(
    check: &Task,
    failed: &TaskReport,
    overlay: &Overlay,
    round: u32,
) -> Result<Task, String> {
    let (command, ending, output) = match &failed.command {
        Some(c) => (c.command.clone(), c.ending(), c.output.clone()),
        None => (String::new(), "failed".to_string(), String::new()),
    };
    let named = named_files(&output, overlay);
    let text = format!(
        "The check `{}` runs `{}` and failed ({ending}). Fix the code so that the check \
         passes; change only what that needs.\n\nThe check's output:\n\n```text\n{}\n```\n",
        check.name,
        command.trim(),
        output.trim_end()
    );
    if named.is_empty() {
        return Err(
            "the check's output names no file of the repository, so there is nothing to show a model"
                .into(),
        );
    }
    let globs: Vec<String> = named.iter().map(|p| globset::escape(p)).collect();
    let globs: Vec<&str> = globs.iter().map(String::as_str).collect();
    let files =
        FileFilter::new(&globs, &[]).map_err(|e| format!("cannot select the files: {e}"))?;
    Ok(Task {
        name: format!("{} (fix {round})", check.name),
        pos: check.pos,
        files: Some(files),
        kind: TaskKind::Prompt {
            prompt: Template::text(text),
            per: Per::Repo,
        },
        model: check.model.clone(),
        allow_secrets: check.allow_secrets,
        // A fix repairs a failing check; it has no business removing most of a file.
        allow_shrink: false,
        atomic: crate::pipeline::Atomic::File,
    })
}

/// Repository files named in `output`, in order of first mention, at most [`FIX_FILES`].
fn named_files(output: &str, overlay: &Overlay) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let tokens = output.split(|c: char| {
        c.is_whitespace() || matches!(c, '\'' | '"' | '`' | '(' | ')' | ',' | '<' | '>')
    });
    for token in tokens {
        // `src/lib.rs:12:5` and `./src/lib.rs` name `src/lib.rs`; an absolute path into the
        // worktree names its part below the worktree's directory.
        let path = token.split(':').next().unwrap_or("");
        let path = path.trim_start_matches("./");
        let path = match path.split_once("/codefleet/worktrees/") {
            Some((_, inside)) => inside.split_once('/').map_or(inside, |(_, p)| p),
            None => path,
        };
        let found = if overlay.paths.contains_key(path) {
            Some(path.to_string())
        } else {
            path.match_indices('/')
                .map(|(i, _)| &path[i + 1..])
                .find(|p| overlay.paths.contains_key(*p) && p.contains('/'))
                .map(str::to_string)
        };
        if let Some(p) = found
            && !out.contains(&p)
        {
            out.push(p);
            if out.len() == FIX_FILES {
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::pipeline::OnFail;

    fn overlay(paths: &[&str]) -> Overlay {
        Overlay {
            paths: paths
                .iter()
                .map(|p| (p.to_string(), FileMode::Regular))
                .collect::<BTreeMap<_, _>>(),
            base_ids: Default::default(),
            changed: Default::default(),
            fixed: Default::default(),
        }
    }

    #[test]
    fn fix_prompts_name_the_files_the_output_points_at() {
        let o = overlay(&["src/lib.rs", "src/main.rs", "README.md", "Cargo.toml"]);
        let output = "error[E0308]: mismatched types\n --> src/lib.rs:12:5\n  at ./README.md line 3\n/tmp/r/.git/codefleet/worktrees/codefleet-x-1-0/Cargo.toml: bad\nsee (src/lib.rs) and `nope.rs`\n";
        assert_eq!(
            named_files(output, &o),
            ["src/lib.rs", "README.md", "Cargo.toml"]
        );
    }

    #[test]
    fn a_fix_task_is_a_prompt_over_the_named_files() {
        let o = overlay(&["src/a[1].rs", "b.rs"]);
        let check = Task::new(
            "build",
            TaskKind::Check {
                command: crate::pipeline::Command::new("make"),
                on_fail: OnFail::Fix,
                fix_attempts: 2,
            },
        );
        let mut failed = TaskReport::new("build", "check");
        failed.command = Some(CommandReport {
            command: "make".into(),
            exit_code: Some(2),
            signal: None,
            timed_out: false,
            duration_ms: 5,
            output: "src/a[1].rs:3: error\n".into(),
            output_truncated: false,
        });
        let fix = fix_task(&check, &failed, &o, 2).unwrap();
        assert_eq!(fix.name, "build (fix 2)");
        let TaskKind::Prompt { prompt, per } = &fix.kind else {
            panic!("not a prompt")
        };
        assert_eq!(*per, Per::Repo);
        let text =
            prompt.render(&crate::pipeline::Pipeline::new("p", vec![]).context("r", None, None));
        assert!(text.contains("`make`"), "{text}");
        assert!(text.contains("exit status 2"), "{text}");
        assert!(text.contains("src/a[1].rs:3: error"), "{text}");
        let files = fix.files.expect("a file filter");
        assert!(files.matches("src/a[1].rs"));
        assert!(!files.matches("b.rs"));
    }
}
