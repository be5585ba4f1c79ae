//! Building the [`Plan`]: the one place where repositories are named, opened, based and
//! branched, and where each task's files are selected over the base tree. Read-only: opens
//! local repositories and reads their base trees; remote ones are listed without cloning.

use std::path::Path;

use crate::coders::{self, ApplyOptions, Change, Files, Format, UdiffInput};
use crate::exec::{ModelPlan, Plan, RepoPlan, Target, TaskPlan};
use crate::git::{Base, Repo};
use crate::pipeline::{Pipeline, Policy, Task, TaskKind};
use crate::report::SkippedFiles;
use crate::workspace::{Skip, content_skip, select};

/// How to plan.
#[derive(Debug, Clone)]
pub struct PlanOptions {
    /// The revision each repository starts from; `None` is `HEAD`.
    pub base: Option<String>,
    /// The run id branches and messages are rendered with (chosen before planning, so the
    /// plan and the run render the same branch).
    pub run_id: String,
    /// List each task's files over the base tree (what `codefleet plan` shows). A run selects
    /// them again over its overlay as tasks change it, so it skips reading every base file.
    pub list_files: bool,
}

impl Default for PlanOptions {
    /// From `HEAD`, with a fresh run id, files not listed.
    fn default() -> Self {
        PlanOptions {
            base: None,
            run_id: crate::git::RunId::new().as_str().to_string(),
            list_files: false,
        }
    }
}

/// Plans `pipeline` over `targets`, the repositories in parallel (opening one is a few dozen
/// system calls, and a fleet has hundreds), in the order given.
pub fn build(pipeline: &Pipeline, targets: &[Target], options: &PlanOptions) -> Plan {
    use rayon::prelude::*;
    Plan {
        pipeline: pipeline.name.clone(),
        run_id: options.run_id.clone(),
        base: options.base.clone(),
        repos: targets
            .par_iter()
            .map(|t| repo_plan(pipeline, t, options))
            .collect(),
        dropped: Vec::new(),
        definition: pipeline.clone(),
    }
}

/// The name a repository goes by in branches and reports: a local one's directory name (of
/// its real path, so `.` is named too), a remote one's last URL segment.
pub fn repo_name(target: &Target) -> String {
    match target {
        Target::Local(p) => dir_name(p),
        Target::Remote(r) => r.name(),
        Target::Unsupported { name, .. } => name.clone(),
    }
}

fn dir_name(p: &Path) -> String {
    std::fs::canonicalize(p)
        .ok()
        .and_then(|c| c.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| p.display().to_string())
}

fn repo_plan(pipeline: &Pipeline, target: &Target, options: &PlanOptions) -> RepoPlan {
    let name = repo_name(target);
    let mut plan = RepoPlan {
        path: target.display(),
        branch: None,
        error: None,
        base: None,
        note: None,
        tasks: Vec::new(),
        target: target.clone(),
        failure: None,
        start: None,
        opened: Default::default(),
        name,
    };
    let path = match target {
        Target::Local(p) => p,
        Target::Remote(remote) => {
            remote_plan(pipeline, options, remote, &mut plan);
            return plan;
        }
        Target::Unsupported { reason, .. } => {
            plan.error = Some(reason.clone());
            plan.failure = Some(reason.clone());
            return plan;
        }
    };
    let (repo, base) = match crate::git::open_based(path, options.base.as_deref()) {
        Ok(x) => x,
        Err(e) => {
            plan.failure = Some(e.one_line());
            plan.error = Some(match e.hint {
                Some(h) => format!("{} ({h})", e.message),
                None => e.message,
            });
            return plan;
        }
    };
    plan.base = Some(base.commit.to_string());
    plan.branch = Some(branch(pipeline, options, &plan.name));
    // The run reads the file again from the base it starts from; the plan only shows it.
    if let Some(why) = crate::exec::ignore::opted_out(&repo, &base, &pipeline.name) {
        plan.note = Some(format!("skipped: {why}"));
        plan.tasks = pipeline.tasks.iter().map(task_plan).collect();
        plan.start = Some(base);
        plan.opened = crate::exec::Opened::new(repo);
        return plan;
    }
    if options.list_files {
        match repo.list_paths(&base) {
            Ok(entries) => {
                let files: Vec<&str> = entries
                    .iter()
                    .filter(|e| e.mode.is_file())
                    .map(|e| e.path.as_str())
                    .collect();
                let base_tree = BaseTree {
                    repo: &repo,
                    base: &base,
                    files: &files,
                };
                plan.tasks = pipeline
                    .tasks
                    .iter()
                    .map(|task| base_tree.task(pipeline, options, &plan.name, task))
                    .collect();
            }
            Err(e) => {
                plan.failure = Some(e.one_line());
                plan.error = Some(e.message);
            }
        }
    } else {
        plan.tasks = pipeline.tasks.iter().map(task_plan).collect();
    }
    plan.start = Some(base);
    plan.opened = crate::exec::Opened::new(repo);
    plan
}

/// A remote repository, listed without cloning: `plan` writes nothing, not even the clone
/// cache.
fn remote_plan(
    pipeline: &Pipeline,
    options: &PlanOptions,
    remote: &crate::git::RemoteSpec,
    plan: &mut RepoPlan,
) {
    plan.branch = Some(branch(pipeline, options, &plan.name));
    plan.note = Some(format!(
        "remote repository ({}); not cloned by `plan`, so its files are not listed",
        remote
            .git_ref
            .as_deref()
            .map_or("its default branch".to_string(), |r| format!("ref `{r}`"))
    ));
    plan.tasks = pipeline
        .tasks
        .iter()
        .map(|task| TaskPlan {
            note: Some("files are known once `codefleet run` clones it".into()),
            ..task_plan(task)
        })
        .collect();
}

/// The run branch of the repository called `name`.
fn branch(pipeline: &Pipeline, options: &PlanOptions, name: &str) -> String {
    pipeline
        .branch
        .render(&pipeline.context(&options.run_id, Some(name), None))
}

/// A task's entry before its files are looked at.
fn task_plan(task: &Task) -> TaskPlan {
    TaskPlan {
        name: task.name.clone(),
        kind: task.kind.name().to_string(),
        files: Vec::new(),
        skipped: SkippedFiles::default(),
        note: None,
        model: None,
    }
}

/// What a `run` or `check` task running `line` does.
fn shell_note(kind: &TaskKind, line: &str) -> String {
    match kind {
        TaskKind::Check { on_fail, .. } => format!(
            "checks `{line}`; on failure: {}",
            serde_json::to_value(on_fail)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
        _ => format!("runs `{line}` in a temporary worktree; what it changes is the commit"),
    }
}

/// A local repository's base tree, which tasks' files are selected over.
struct BaseTree<'a> {
    repo: &'a Repo,
    base: &'a Base,
    /// The base tree's editable files, sorted.
    files: &'a [&'a str],
}

impl BaseTree<'_> {
    /// What `task` would work on in this tree.
    fn task(
        &self,
        pipeline: &Pipeline,
        options: &PlanOptions,
        name: &str,
        task: &Task,
    ) -> TaskPlan {
        let mut t = task_plan(task);
        let policy = &pipeline.policy;
        match &task.kind {
            TaskKind::Prompt { .. } | TaskKind::Ask { .. } => {
                let sizes = self.model_files(task, policy, &mut t);
                t.model = model_plan(pipeline, options, task, name, &t.files, &sizes);
            }
            TaskKind::Replace(_) => self.replace_files(task, policy, &mut t),
            TaskKind::Run(c) | TaskKind::Check { command: c, .. } => {
                let line = c.command.render(&pipeline.context(
                    &options.run_id,
                    Some(name),
                    Some(&task.name),
                ));
                t.note = Some(shell_note(&task.kind, line.trim()));
            }
            TaskKind::Patch { path } | TaskKind::Edits { path, .. } => {
                let (format, udiff) = match &task.kind {
                    TaskKind::Edits { format, .. } => (*format, UdiffInput::Auto),
                    _ => (Some(Format::Udiff), UdiffInput::PatchFile),
                };
                match self.edited(path, format, udiff, task) {
                    Ok(files) => t.files = files,
                    Err(why) => t.note = Some(why),
                }
            }
        }
        t
    }

    /// The files a model task would send (text within the size limit), into `t`; their sizes.
    fn model_files(&self, task: &Task, policy: &Policy, t: &mut TaskPlan) -> Vec<usize> {
        let selected = select(
            self.files.iter().copied(),
            task.files.as_ref(),
            &policy.deny,
            &mut t.skipped,
        );
        let mut sizes = Vec::new();
        for path in selected {
            if let Ok(Some(bytes)) = self.repo.read_blob(self.base, &path) {
                match content_skip(&bytes, policy.max_file_size) {
                    Some(skip) => skip.count(&path, &mut t.skipped),
                    None if std::str::from_utf8(&bytes).is_err() => {
                        Skip::Binary.count(&path, &mut t.skipped)
                    }
                    None => {
                        sizes.push(bytes.len());
                        t.files.push(path);
                    }
                }
            }
        }
        sizes
    }

    /// The files a `replace` task would read, into `t`.
    fn replace_files(&self, task: &Task, policy: &Policy, t: &mut TaskPlan) {
        let selected = select(
            self.files.iter().copied(),
            task.files.as_ref(),
            &policy.deny,
            &mut t.skipped,
        );
        for path in selected {
            match self.repo.read_blob(self.base, &path) {
                Ok(Some(bytes)) => {
                    match content_skip(&bytes, policy.deterministic_max_file_size()) {
                        Some(skip) => skip.count(&path, &mut t.skipped),
                        None => t.files.push(path),
                    }
                }
                _ => t.files.push(path),
            }
        }
    }

    /// The files a `patch:` or `edits:` file names, as its edits apply to the base tree:
    /// those it would change and those whose edits would fail, sorted. A run applies the
    /// same file to the overlay, so it changes no other file.
    fn edited(
        &self,
        source: &Path,
        format: Option<Format>,
        udiff: UdiffInput,
        task: &Task,
    ) -> Result<Vec<String>, String> {
        let text = std::fs::read_to_string(source)
            .map_err(|e| format!("cannot read `{}`: {e}", source.display()))?;
        let format = format
            .or_else(|| coders::detect_format(&text))
            .ok_or_else(|| format!("cannot tell the edit format of `{}`", source.display()))?;
        let options = ApplyOptions {
            udiff,
            allow_shrink: task.allow_shrink,
            ..ApplyOptions::default()
        };
        let outcome = coders::parse_and_apply(format, &text, self, &options);
        let mut files = std::collections::BTreeSet::new();
        for change in outcome.changes {
            match change {
                Change::Write {
                    path, renamed_from, ..
                } => files.extend(std::iter::once(path).chain(renamed_from)),
                Change::Delete { path } => {
                    files.insert(path);
                }
            }
        }
        files.extend(outcome.edits.into_iter().map(|e| e.path));
        if format == Format::Udiff && !coders::udiff_is_reply(&text) {
            files.extend(coders::modes::modes(&text).into_iter().map(|m| m.path));
        }
        files.remove("");
        Ok(files.into_iter().collect())
    }
}

/// The base tree as an edit file's edits see it (writes are not checked: the plan lists what
/// they name, and the run says what its policy refuses).
impl Files for BaseTree<'_> {
    fn paths(&self) -> Vec<String> {
        self.files.iter().map(|p| p.to_string()).collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.repo.read_blob(self.base, path).ok().flatten()
    }

    fn check_write(&self, _path: &str) -> Result<(), String> {
        Ok(())
    }
}

/// The estimate of a model task over `files` (with their sizes), as `exec` would split them.
fn model_plan(
    pipeline: &Pipeline,
    options: &PlanOptions,
    task: &Task,
    repo_name: &str,
    files: &[String],
    sizes: &[usize],
) -> Option<ModelPlan> {
    use crate::pipeline::{EditFormat, Per};
    let (text, per, ask) = match &task.kind {
        TaskKind::Prompt { prompt, per } => (prompt, *per, false),
        TaskKind::Ask { question, per } => (question, *per, true),
        _ => return None,
    };
    let text = text.render(&pipeline.context(&options.run_id, Some(repo_name), Some(&task.name)));
    let name = task.model.name.clone();
    let format = match task.model.edit_format {
        EditFormat::Format(f) => Some(f),
        // `auto` picks per file; the estimate takes the largest prompt.
        EditFormat::Auto => Some(crate::coders::Format::Diff),
    };
    let per_file = task.files.is_some() && per == Per::File;
    let shown: Vec<(&str, usize)> = files
        .iter()
        .map(String::as_str)
        .zip(sizes.iter().copied())
        .collect();
    let estimate = crate::llm::prompt::estimate(
        name.as_deref().unwrap_or(""),
        (!ask).then_some(format).flatten(),
        &text,
        &shown,
        per_file,
    );
    let rounds = if ask {
        1
    } else {
        1 + u64::from(task.model.reflections)
    };
    Some(ModelPlan {
        name,
        edit_format: (!ask).then(|| match task.model.edit_format {
            EditFormat::Format(f) => f.name().to_string(),
            EditFormat::Auto => "auto".to_string(),
        }),
        requests: estimate.requests,
        max_requests: estimate.requests * rounds,
        input_tokens: estimate.input_tokens,
        too_large_for_context: estimate.too_large,
    })
}
