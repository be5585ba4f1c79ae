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
        tasks: Vec::new(),
    };
    let path = match target {
        Target::Local(p) => p,
        Target::Remote(_) => {
            plan.error = Some("a remote repository: cloned when `codefleet run` starts".into());
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
        };
        match &task.kind {
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
                            match content_skip(&bytes, pipeline.policy.max_file_size) {
                                Some(skip) => skip.count(&mut t.skipped),
                                None => t.files.push(path),
                            }
                        }
                        _ => t.files.push(path),
                    }
                }
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
