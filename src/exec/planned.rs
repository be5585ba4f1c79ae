//! The [`Plan`] value `exec` runs: for each repository, where it is, its name, base and run
//! branch, and for each task the files it would work on. `crate::plan` builds it (and
//! `codefleet plan` prints it); `exec` takes it as it is and works nothing of it out again.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use schemars::JsonSchema;
use serde::Serialize;

use crate::git::{Base, RemoteSpec, Repo};
use crate::pipeline::Pipeline;
use crate::report::{Dropped, SkippedFiles};

/// A repository target as resolved, before it is opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A local directory.
    Local(PathBuf),
    /// A remote repository, run on its clone in the clone cache.
    Remote(RemoteSpec),
    /// Something this version cannot run on, with the reason (e.g. a URL).
    Unsupported {
        /// What the user wrote.
        name: String,
        /// Why it is not run.
        reason: String,
    },
}

impl Target {
    /// The name shown to the user.
    pub fn display(&self) -> String {
        match self {
            Target::Local(p) => p.display().to_string(),
            // A password written into the URL is never shown.
            Target::Remote(r) => crate::git::redact_userinfo(&r.url),
            Target::Unsupported { name, .. } => name.clone(),
        }
    }
}

/// What a run of a pipeline works on, decided before it starts.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Plan {
    /// The pipeline's name.
    pub pipeline: String,
    /// The run id the branches and commit messages are rendered with.
    pub run_id: String,
    /// The revision each repository starts from, as asked (`--base`); absent: `HEAD`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<String>,
    /// One entry per repository, in run order.
    pub repos: Vec<RepoPlan>,
    /// Repositories a discovery found and left out (archived, disabled, forks).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
    /// The pipeline planned: its tasks, templates and policy, which the run executes.
    #[serde(skip)]
    pub definition: Pipeline,
}

/// One repository of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RepoPlan {
    /// The repository as named.
    pub path: String,
    /// Its short name (the directory's or the URL's last part), as branches and reports use it.
    pub name: String,
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
    /// Where the repository is.
    #[serde(skip)]
    pub target: Target,
    /// Why it cannot run, as the run's report says it.
    #[serde(skip)]
    pub failure: Option<String>,
    /// The commit a local repository starts from (a remote one is based once cloned).
    #[serde(skip)]
    pub start: Option<Base>,
    /// The repository as the plan opened it, handed to the run so that it is not opened twice
    /// (a fleet of small repositories pays for every open).
    #[serde(skip)]
    pub opened: Opened,
}

/// A repository the plan opened, taken once by the run that works in it. Clones of a plan share
/// it; two plans compare equal whatever they hold.
#[derive(Clone, Default)]
pub struct Opened(Arc<Mutex<Option<Repo>>>);

impl Opened {
    /// Holds `repo` for the run.
    pub fn new(repo: Repo) -> Opened {
        Opened(Arc::new(Mutex::new(Some(repo))))
    }

    /// The repository, the first time it is asked for.
    pub fn take(&self) -> Option<Repo> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).take()
    }
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Opened")
    }
}

impl PartialEq for Opened {
    fn eq(&self, _: &Opened) -> bool {
        true
    }
}

impl Eq for Opened {}

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

impl Plan {
    /// The plan as text: repositories, tasks with their file counts, and the files.
    pub fn render(&self, list_files: bool) -> String {
        let mut out = format!("pipeline `{}`\n", self.pipeline);
        if !self.dropped.is_empty() {
            out.push_str(&format!(
                "{} repositories to run; {} before anything runs:\n",
                self.repos.len(),
                crate::report::dropped_summary(&self.dropped)
            ));
            for d in &self.dropped {
                out.push_str(&format!("  {} ({})\n", d.repo, d.reason.words()));
            }
        }
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
