//! The [`Plan`] value: for each repository, its base and run branch, and for each task the
//! files it would work on and those the policy leaves alone. Read-only: opens repositories and
//! reads their base trees, writes nothing.

use schemars::JsonSchema;
use serde::Serialize;

use crate::pipeline::{Pipeline, TaskKind};
use crate::report::SkippedFiles;

use super::repos::Target;
use super::select::{content_skip, select};

/// What a run of a pipeline would work on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Plan {
    /// The pipeline's name.
    pub pipeline: String,
    /// One entry per repository, in run order.
    pub repos: Vec<RepoPlan>,
}

/// One repository of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RepoPlan {
    /// The repository as named.
    pub path: String,
    /// Why it cannot run (not a repository, no commit, a URL...).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The base commit id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// The run branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// A remark on the whole repository (a remote one is not cloned by `plan`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Tasks in order.
    pub tasks: Vec<TaskPlan>,
}

/// One task in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TaskPlan {
    /// The task name.
    pub name: String,
    /// Its kind.
    pub kind: String,
    /// The files it would read and may edit, sorted (for kinds that select files).
    pub files: Vec<String>,
    /// Files the policy leaves alone.
    pub skipped: SkippedFiles,
    /// A remark (e.g. the files come from the edits file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What a `prompt` or `ask` task would ask of its model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelPlan>,
}

/// The model requests a task would make, estimated before it runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ModelPlan {
    /// The model, when named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The edit format (`auto` picks per model and file size); absent for `ask`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_format: Option<String>,
    /// Requests of the first round: one per file, or per batch that fits the context window.
    pub requests: u64,
    /// Requests at most, every round of feedback (`reflections`) included.
    pub max_requests: u64,
    /// Input tokens of the first round, estimated at ~4 bytes a token.
    pub input_tokens: u64,
    /// Files too large for the model's context window; they would fail.
    pub too_large_for_context: usize,
}

/// Plans `pipeline` over `targets`, each from `base` (`None`: HEAD).
pub fn build(pipeline: &Pipeline, targets: &[Target], base: Option<&str>) -> Plan {
    Plan {
        pipeline: pipeline.name.clone(),
        repos: targets
            .iter()
            .map(|t| repo_plan(pipeline, t, base))
            .collect(),
    }
}

fn repo_plan(pipeline: &Pipeline, target: &Target, base: Option<&str>) -> RepoPlan {
    let mut plan = RepoPlan {
        path: target.display(),
        error: None,
        base: None,
        branch: None,
        note: None,
        tasks: Vec::new(),
    };
    let path = match target {
        Target::Local(p) => p,
        Target::Remote(remote) => {
            // Listed without cloning: `plan` writes nothing, not even the clone cache.
            let name = crate::git::repo_name(&remote.url);
            plan.branch = Some(
                pipeline
                    .branch
                    .render(&pipeline.context("", Some(&name), None)),
            );
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
                    name: task.name.clone(),
                    kind: task.kind.name().to_string(),
                    files: Vec::new(),
                    skipped: SkippedFiles::default(),
                    note: Some("files are known once `codefleet run` clones it".into()),
                    model: None,
                })
                .collect();
            return plan;
        }
        Target::Unsupported { reason, .. } => {
            plan.error = Some(reason.clone());
            return plan;
        }
    };
    let opened = super::repos::open(path).and_then(|repo| {
        let base = repo.base(base)?;
        let paths = repo.list_paths(&base)?;
        Ok((repo, base, paths))
    });
    let (repo, base, entries) = match opened {
        Ok(x) => x,
        Err(e) => {
            plan.error = Some(match e.hint {
                Some(h) => format!("{} ({h})", e.message),
                None => e.message,
            });
            return plan;
        }
    };
    let name = std::fs::canonicalize(path)
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_default();
    plan.base = Some(base.commit.to_string());
    plan.branch = Some(
        pipeline
            .branch
            .render(&pipeline.context("", Some(&name), None)),
    );
    let files: Vec<&str> = entries
        .iter()
        .filter(|e| e.mode.is_file())
        .map(|e| e.path.as_str())
        .collect();
    for task in &pipeline.tasks {
        let mut t = TaskPlan {
            name: task.name.clone(),
            kind: task.kind.name().to_string(),
            files: Vec::new(),
            skipped: SkippedFiles::default(),
            note: None,
            model: None,
        };
        match &task.kind {
            TaskKind::Prompt { .. } | TaskKind::Ask { .. } => {
                let selected = select(
                    files.iter().copied(),
                    task.files.as_ref(),
                    &pipeline.policy.deny,
                    &mut t.skipped,
                );
                let mut sizes = Vec::new();
                for path in selected {
                    if let Ok(Some(bytes)) = repo.read_blob(&base, &path) {
                        match content_skip(&bytes, pipeline.policy.max_file_size) {
                            Some(skip) => skip.count(&path, &mut t.skipped),
                            None if std::str::from_utf8(&bytes).is_err() => {
                                super::Skip::Binary.count(&path, &mut t.skipped)
                            }
                            None => {
                                sizes.push(bytes.len());
                                t.files.push(path);
                            }
                        }
                    }
                }
                t.model = model_plan(pipeline, task, &name, &t.files, &sizes);
            }
            TaskKind::Replace(_) => {
                let selected = select(
                    files.iter().copied(),
                    task.files.as_ref(),
                    &pipeline.policy.deny,
                    &mut t.skipped,
                );
                for path in selected {
                    match repo.read_blob(&base, &path) {
                        Ok(Some(bytes)) => {
                            match content_skip(
                                &bytes,
                                pipeline.policy.deterministic_max_file_size(),
                            ) {
                                Some(skip) => skip.count(&path, &mut t.skipped),
                                None => t.files.push(path),
                            }
                        }
                        _ => t.files.push(path),
                    }
                }
            }
            TaskKind::Run(c) | TaskKind::Check { command: c, .. } => {
                let line = c
                    .command
                    .render(&pipeline.context("", Some(&name), Some(&task.name)));
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
        plan.tasks.push(t);
    }
    plan
}

/// The estimate of a model task over `files` (with their sizes), as `exec` would split them.
fn model_plan(
    pipeline: &Pipeline,
    task: &crate::pipeline::Task,
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
    let text = text.render(&pipeline.context("", Some(repo_name), Some(&task.name)));
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

impl Plan {
    /// The plan as text: repositories, tasks with their file counts, and the files.
    pub fn render(&self, list_files: bool) -> String {
        let mut out = format!("pipeline `{}`\n", self.pipeline);
        for r in &self.repos {
            out.push_str(&format!("\n{}", r.path));
            if let Some(e) = &r.error {
                out.push_str(&format!(": not run: {e}\n"));
                continue;
            }
            if let Some(n) = &r.note {
                out.push_str(&format!(
                    "  branch {}\n  {n}\n",
                    r.branch.as_deref().unwrap_or("-")
                ));
                for t in &r.tasks {
                    out.push_str(&format!("  task `{}` ({})\n", t.name, t.kind));
                }
                continue;
            }
            let base: String = r.base.as_deref().unwrap_or("").chars().take(10).collect();
            out.push_str(&format!(
                "  base {base}  branch {}\n",
                r.branch.as_deref().unwrap_or("-")
            ));
            for t in &r.tasks {
                out.push_str(&format!("  task `{}` ({})", t.name, t.kind));
                if let Some(n) = &t.note {
                    out.push_str(&format!(": {n}\n"));
                    continue;
                }
                let s = &t.skipped;
                out.push_str(&format!(
                    ": {} files; skipped {} denied, {} too large, {} binary\n",
                    t.files.len(),
                    s.denied,
                    s.too_large,
                    s.binary
                ));
                if let Some(m) = &t.model {
                    out.push_str(&format!(
                        "    model {}: ~{} request{}{}, ~{} input tokens{}\n",
                        m.name.as_deref().unwrap_or("(unnamed)"),
                        m.requests,
                        if m.requests == 1 { "" } else { "s" },
                        if m.max_requests > m.requests {
                            format!(" (up to {} with feedback)", m.max_requests)
                        } else {
                            String::new()
                        },
                        m.input_tokens,
                        match m.too_large_for_context {
                            0 => String::new(),
                            n => format!("; {n} files too large for its context"),
                        }
                    ));
                }
                if list_files {
                    for f in &t.files {
                        out.push_str(&format!("    {f}\n"));
                    }
                }
            }
        }
        out
    }
}
