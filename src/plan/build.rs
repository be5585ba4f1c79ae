//! Building the [`Plan`]: the one place where repositories are named, opened, based and
//! branched, and where each task's files are selected over the base tree. Read-only: opens
//! local repositories and reads their base trees; remote ones are listed without cloning.

use std::path::Path;

use crate::exec::{ModelPlan, Plan, RepoPlan, Target, TaskPlan};
use crate::git::{Base, Repo};
use crate::pipeline::{Pipeline, Task, TaskKind};
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

/// Plans `pipeline` over `targets`.
pub fn build(pipeline: &Pipeline, targets: &[Target], options: &PlanOptions) -> Plan {
    Plan {
        pipeline: pipeline.name.clone(),
        run_id: options.run_id.clone(),
        base: options.base.clone(),
        repos: targets
            .iter()
            .map(|t| repo_plan(pipeline, t, options))
            .collect(),
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
        name,
    };
    let path = match target {
        Target::Local(p) => p,
        Target::Remote(remote) => {
            // Listed without cloning: `plan` writes nothing, not even the clone cache.
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
    plan
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

/// A local repository's base tree, which tasks' files are selected over.
struct BaseTree<'a> {
    repo: &'a Repo,
    base: &'a Base,
    /// The base tree's editable files, sorted.
    files: &'a [&'a str],
}

impl BaseTree<'_> {
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
                t.model = model_plan(pipeline, options, task, name, &t.files, &sizes);
            }
            TaskKind::Replace(_) => {
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
            TaskKind::Run(c) | TaskKind::Check { command: c, .. } => {
                let line = c.command.render(&pipeline.context(
                    &options.run_id,
                    Some(name),
                    Some(&task.name),
                ));
                t.note = Some(match &task.kind {
                    TaskKind::Check { on_fail, .. } => format!(
                        "checks `{}`; on failure: {}",
                        line.trim(),
                        serde_json::to_value(on_fail)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_string))
                            .unwrap_or_default()
                    ),
                    _ => format!(
                        "runs `{}` in a temporary worktree; what it changes is the commit",
                        line.trim()
                    ),
                });
            }
            other => {
                t.note = Some(format!(
                    "`{}` tasks are not run by this version",
                    other.name()
                ));
            }
        }
        t
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
