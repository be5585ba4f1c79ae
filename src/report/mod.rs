//! The run report: what a run did, per repository, task and file, as plain values that
//! serialise to the `--json` document (schema: `codefleet schema --report`), and the renderers
//! the CLI prints them with (terminal table, Markdown step summary, CI annotations, diffs).

mod merge;
mod render;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Exit;

pub use merge::{MergeError, merge, read_reports};
pub use render::{
    annotations, answers, left_out, markdown, paint_diff, problems, published, summary_table,
    unified_diff,
};

/// The version of the report document; bumped when a field changes meaning.
pub const REPORT_VERSION: u32 = 1;

/// How a run was asked to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Commits and branch updates are written.
    Run,
    /// Nothing is written; diffs are shown.
    DryRun,
    /// Nothing is written; the exit code says whether anything would change.
    Check,
}

/// Everything one run did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RunReport {
    /// The report format version ([`REPORT_VERSION`]).
    pub version: u32,
    /// The run id, as in commit trailers and the journal.
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// How the run was asked to write.
    pub mode: Mode,
    /// True when Ctrl-C stopped the run before it finished.
    pub interrupted: bool,
    /// One entry per repository, in plan order.
    pub repos: Vec<RepoReport>,
    /// Sums over the repositories.
    pub totals: Totals,
    /// The process exit code the run implies (0, 1, 3 or 130).
    pub exit_code: Exit,
    /// What the run noticed that is not a failure but may be a mistake (a task's `files:`
    /// that matched no file in any repository).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<Warning>,
    /// Repositories a discovery (`repos:` `github:`, `--repo owner/*`) left out before anything
    /// ran: archived, disabled, and forks unless asked for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<Dropped>,
    /// When one command ran several pipelines: each pipeline's own report. The fields above
    /// then cover them all (`pipeline` and `run_id` joined with `+`, every repository,
    /// totals and exit code over everything).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pipelines: Vec<RunReport>,
}

/// A repository a discovery found and left out before the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Dropped {
    /// `owner/name`.
    pub repo: String,
    /// Why it was left out.
    pub reason: DropReason,
}

/// Why a discovered repository was left out before the run.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum DropReason {
    /// Archived (read-only); `archived: true` keeps it.
    Archived,
    /// Disabled by GitHub; never run.
    Disabled,
    /// A fork; `forks: true` keeps it.
    Fork,
}

impl DropReason {
    /// The reason in a sentence.
    pub fn words(self) -> &'static str {
        match self {
            DropReason::Archived => "archived",
            DropReason::Disabled => "disabled",
            DropReason::Fork => "fork",
        }
    }
}

/// `dropped` counted by reason, e.g. `3 dropped: 2 archived, 1 fork`; empty when none was.
pub fn dropped_summary(dropped: &[Dropped]) -> String {
    if dropped.is_empty() {
        return String::new();
    }
    let mut counts = std::collections::BTreeMap::new();
    for d in dropped {
        *counts.entry(d.reason).or_insert(0usize) += 1;
    }
    let parts: Vec<String> = counts
        .iter()
        .map(|(reason, n)| format!("{n} {}", reason.words()))
        .collect();
    format!("{} dropped: {}", dropped.len(), parts.join(", "))
}

/// Something a run noticed that is not a failure but may be a mistake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Warning {
    /// The pipeline it is about (in a report of several pipelines).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<String>,
    /// The task it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<String>,
    /// What was noticed.
    pub message: String,
}

impl std::fmt::Display for Warning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(p) = &self.pipeline {
            write!(f, "pipeline `{p}`: ")?;
        }
        if let Some(t) = &self.task {
            write!(f, "task `{t}`: ")?;
        }
        f.write_str(&self.message)
    }
}

/// Sums over a run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Totals {
    /// Repositories in the run.
    pub repos: usize,
    /// Repositories with at least one commit (or, without writing, one change).
    pub repos_changed: usize,
    /// Repositories that failed or were skipped.
    pub repos_failed: usize,
    /// Commits written (or that would be written).
    pub commits: usize,
    /// Files changed, summed over tasks.
    pub files_changed: usize,
    /// Files that failed, summed over tasks.
    pub files_failed: usize,
    /// Files tasks left alone by policy (denied, too large, binary), summed over tasks.
    #[serde(default)]
    pub files_skipped: usize,
    /// Tasks that failed, over all repositories.
    pub tasks_failed: usize,
    /// Tasks not run (a kind this version does not run), over all repositories.
    pub tasks_skipped: usize,
    /// Model use summed over every task.
    pub model: ModelUse,
    /// Pushes and pull requests that failed or were refused (`--push`, `--pr`).
    #[serde(default)]
    pub publish_failed: usize,
}

/// What happened in one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RepoStatus {
    /// Every task ran; at least one changed something.
    Changed,
    /// Every task ran; nothing changed.
    Unchanged,
    /// Every task ran and nothing is left to change (the change landed upstream), so the run
    /// branch moved back to the base; `previous_tip` is where it was, and `rollback` restores it.
    Reset,
    /// Some task or file failed; what succeeded is kept.
    Failed,
    /// The repository was not run (not a repository, foreign commits, locked...).
    Skipped,
    /// Ctrl-C stopped it; completed tasks are kept.
    Interrupted,
}

/// One repository's part of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RepoReport {
    /// The repository path as the user named it.
    pub path: String,
    /// A short name (the directory name), used in templates.
    pub name: String,
    /// The outcome.
    pub status: RepoStatus,
    /// Why it failed or was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The base commit id.
    #[serde(default, with = "commit_id", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub base: Option<git2::Oid>,
    /// The run branch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub branch: Option<String>,
    /// The branch tip before the run (absent when the branch did not exist).
    #[serde(default, with = "commit_id", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub previous_tip: Option<git2::Oid>,
    /// The branch tip after the run (absent when nothing was written and the branch is absent).
    #[serde(default, with = "commit_id", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub tip: Option<git2::Oid>,
    /// Tasks in pipeline order (those that ran or were stopped).
    pub tasks: Vec<TaskReport>,
    /// The push and pull request, with `--push`/`--pr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publish: Option<Publish>,
    /// Skipped because the repository opts out of the pipeline with a `.codefleetignore` on
    /// its base; not a failure.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub opted_out: bool,
}

/// What `--push` and `--pr` did for one repository.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Publish {
    /// The remote pushed to, without credentials.
    pub remote: String,
    /// The push's outcome.
    pub push: PushStatus,
    /// Why the push failed or was refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The pull request, with `--pr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_request: Option<PullRequestReport>,
    /// With `pr.commit_via: api`: each local commit of the run branch (oldest first) and the
    /// commit GitHub made of it on the remote branch.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub api_commits: Vec<ApiCommitIds>,
}

/// A local commit and the commit the forge's API made of it (`pr.commit_via: api`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ApiCommitIds {
    /// The local commit (the journal's).
    pub local: String,
    /// The commit on the remote, made (and signed) by the forge.
    pub remote: String,
}

impl Publish {
    /// The commit the remote branch was left at when the forge's API made the commits
    /// (`pr.commit_via: api`): the pull request's head, in place of the local tip.
    pub fn api_head(&self) -> Option<&str> {
        self.api_commits.last().map(|c| c.remote.as_str())
    }

    /// Whether the push or the pull request failed.
    pub fn failed(&self) -> bool {
        matches!(self.push, PushStatus::Refused | PushStatus::Failed)
            || self
                .pull_request
                .as_ref()
                .is_some_and(|p| p.action == PrAction::Failed)
    }
}

/// How a push ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushStatus {
    /// The remote branch now holds the run's result.
    Pushed,
    /// The remote branch already held it.
    UpToDate,
    /// The remote branch moved since it was fetched: not overwritten.
    Refused,
    /// The push failed (network, permissions, server rules).
    Failed,
    /// Nothing to push (no run branch) or not asked to.
    NotPushed,
}

/// What happened to a repository's pull request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PrAction {
    /// A new pull request.
    Opened,
    /// The open one was updated.
    Updated,
    /// The one a person closed was reopened and updated (`pr.recreate: if-changed`, and the
    /// change differs from the one closed).
    Reopened,
    /// Closed: the change became empty (with `--close-empty-prs`).
    Closed,
    /// Not opened (no change, the push failed, `max_prs_per_run` reached, or a person closed
    /// the branch's pull request: `pr.recreate`).
    Skipped,
    /// The forge refused or failed.
    Failed,
}

/// One repository's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct PullRequestReport {
    /// What was done.
    pub action: PrAction,
    /// Its number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number: Option<u64>,
    /// Its web address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Why it was skipped or failed, or which edits of a person were kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The fields a person edited that the update kept (`title`, `body`, `labels`): the
    /// pipeline's values for them did not change since codefleet last set them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<String>,
    /// The forge it is on (`github`, `gitlab`, `gitea`): the one of the remote's host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forge: Option<crate::forge::ForgeKind>,
}

impl RepoReport {
    /// A repository that did not run, with the reason.
    pub fn skipped(
        path: impl Into<String>,
        name: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        RepoReport {
            path: path.into(),
            name: name.into(),
            status: RepoStatus::Skipped,
            message: Some(why.into()),
            base: None,
            branch: None,
            previous_tip: None,
            tip: None,
            tasks: Vec::new(),
            publish: None,
            opted_out: false,
        }
    }

    /// A repository that opts out of the pipeline (`.codefleetignore`): skipped, and not a
    /// failure.
    pub fn opted_out(
        path: impl Into<String>,
        name: impl Into<String>,
        why: impl Into<String>,
    ) -> Self {
        RepoReport {
            opted_out: true,
            ..RepoReport::skipped(path, name, why)
        }
    }

    /// Commits written (or that would be).
    pub fn commits(&self) -> usize {
        self.tasks.iter().filter(|t| t.makes_commit()).count()
    }

    /// Files changed over all tasks (a reverted task's no longer count).
    pub fn files_changed(&self) -> usize {
        self.tasks
            .iter()
            .filter(|t| t.status != TaskStatus::Reverted)
            .map(|t| t.files_changed)
            .sum()
    }

    /// Files failed over all tasks.
    pub fn files_failed(&self) -> usize {
        self.tasks.iter().map(|t| t.files_failed).sum()
    }
}

/// What happened to one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TaskStatus {
    /// It changed files: one commit.
    Changed,
    /// It changed nothing: no commit.
    Unchanged,
    /// It failed as a whole, or some of its files failed (what its `atomic:` lets through of
    /// the others is committed, and `partial` says so).
    Failed,
    /// Not run (a kind this version does not run, or an earlier stop).
    Skipped,
    /// Ctrl-C stopped it; nothing of it was written.
    Interrupted,
    /// It changed files, but the failing `check` after it reverted them: no commit.
    Reverted,
}

/// Files a task left alone, by reason.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedFiles {
    /// Matched a deny glob of the policy.
    pub denied: usize,
    /// Larger than the policy's `max_file_size`.
    pub too_large: usize,
    /// Binary (a NUL byte in the first 8 KiB).
    pub binary: usize,
    /// Each file left alone and why, sorted by path: a skip is never silent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<SkippedFile>,
}

impl SkippedFiles {
    /// The sum.
    pub fn total(&self) -> usize {
        self.denied + self.too_large + self.binary
    }
}

/// One file a task left alone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SkippedFile {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// Why.
    pub reason: SkipReason,
}

/// Why the policy left a file alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A deny glob of the policy matches it.
    Denied,
    /// Larger than the policy's `max_file_size`.
    TooLarge,
    /// Binary content.
    Binary,
}

impl SkipReason {
    /// The reason in words, for the summaries.
    pub fn words(self) -> &'static str {
        match self {
            SkipReason::Denied => "denied by the policy",
            SkipReason::TooLarge => "larger than the policy's max_file_size",
            SkipReason::Binary => "binary",
        }
    }
}

/// One task in one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TaskReport {
    /// The task name.
    pub name: String,
    /// Its kind (`replace`, `patch`, `edits`...).
    pub kind: String,
    /// The outcome.
    pub status: TaskStatus,
    /// Why it failed or was skipped, when it is one reason.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The commit written for it.
    #[serde(default, with = "commit_id", skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<String>")]
    pub commit: Option<git2::Oid>,
    /// Files the task looked at.
    pub files_selected: usize,
    /// Files it changed.
    pub files_changed: usize,
    /// Files it failed on.
    pub files_failed: usize,
    /// True when what the task changed was committed (or, without writing, would be) while
    /// some of its files failed: the task applied only in part (see the task's `atomic:`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    /// Files left alone by policy.
    pub skipped: SkippedFiles,
    /// Changed and failed files, sorted by path.
    pub files: Vec<FileReport>,
    /// The model and what it cost (`prompt` and `ask` tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelUse>,
    /// Each edit a model sent, applied or failed, in the order they were read (`prompt`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edits: Vec<EditOutcome>,
    /// The answers (`ask`): one per repository, per batch of files, or per file.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<Answer>,
    /// The command of a `run` or `check` task and how it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<CommandReport>,
    /// For a failed `check` that reverted tasks: every one of them (all since the last passing
    /// check, and any fix rounds), oldest first; each shows as `reverted`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reverted: Vec<String>,
    /// For a failed `check` the revert did not make good (`on_fail: stop`, nothing to revert,
    /// or the check still failing after the revert): why the repository is neither pushed nor
    /// given a pull request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_back: Option<String>,
    /// Shell commands the model's replies suggested (`prompt`): reported, never run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub suggested_commands: Vec<String>,
    /// What was sent to a model although it looks like a secret (the task set
    /// `allow_secrets: true`): `path: what it looks like (line n)`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secrets_sent: Vec<String>,
}

/// A shell command a task ran.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CommandReport {
    /// The command line, as run.
    pub command: String,
    /// Its exit status; absent when it was killed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exit_code: Option<i32>,
    /// The signal that ended it, when one did (not codefleet's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signal: Option<i32>,
    /// True when it ran past its `timeout:` and was killed with everything it started.
    pub timed_out: bool,
    /// How long it ran, in milliseconds.
    pub duration_ms: u64,
    /// Its output (stdout and stderr interleaved); long output keeps its first 4 KiB and its
    /// last 28 KiB.
    pub output: String,
    /// True when the middle of the output was left out.
    pub output_truncated: bool,
}

impl CommandReport {
    /// How it ended, in words: `exit status 1`, `timed out`, `killed by signal 9`...
    pub fn ending(&self) -> String {
        match (self.exit_code, self.signal, self.timed_out) {
            (_, _, true) => "timed out".to_string(),
            (Some(code), _, _) => format!("exit status {code}"),
            (None, Some(sig), _) => format!("killed by signal {sig}"),
            (None, None, false) => "stopped".to_string(),
        }
    }

    /// The last `n` lines of the output.
    pub fn tail(&self, n: usize) -> String {
        let lines: Vec<&str> = self.output.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

impl TaskReport {
    /// Whether the task's changes become a commit: files changed and not interrupted (a task
    /// with some failed files still commits the others).
    pub fn makes_commit(&self) -> bool {
        self.files_changed > 0 && matches!(self.status, TaskStatus::Changed | TaskStatus::Failed)
    }

    /// A task with nothing done yet.
    pub fn new(name: impl Into<String>, kind: impl Into<String>) -> Self {
        TaskReport {
            name: name.into(),
            kind: kind.into(),
            status: TaskStatus::Unchanged,
            message: None,
            commit: None,
            files_selected: 0,
            files_changed: 0,
            files_failed: 0,
            partial: false,
            skipped: SkippedFiles::default(),
            files: Vec::new(),
            model: None,
            edits: Vec::new(),
            answers: Vec::new(),
            command: None,
            reverted: Vec::new(),
            held_back: None,
            suggested_commands: Vec::new(),
            secrets_sent: Vec::new(),
        }
    }
}

/// Tokens, as the provider counted them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Tokens {
    /// Input tokens billed at the full rate.
    pub input: u64,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input: u64,
    /// Output tokens.
    pub output: u64,
}

impl Tokens {
    /// Every token counted.
    pub fn total(&self) -> u64 {
        self.input + self.cached_input + self.output
    }
}

/// What a task (or a run) asked of a model and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ModelUse {
    /// The model, as named in the pipeline or settings (absent in run totals).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The edit format its replies were read in (`prompt` tasks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edit_format: Option<String>,
    /// Requests sent (answers from the response cache excluded, retries included).
    pub requests: u64,
    /// Answers served from the response cache.
    pub cache_hits: u64,
    /// Attempts retried after a transient error.
    pub retries: u64,
    /// Tokens used.
    pub tokens: Tokens,
    /// Cost in US dollars; `null` when any request's price is unknown (never a guessed 0).
    pub cost_usd: Option<f64>,
}

impl Default for ModelUse {
    /// Nothing asked yet: no request, and a known cost of 0.
    fn default() -> Self {
        ModelUse {
            name: None,
            edit_format: None,
            requests: 0,
            cache_hits: 0,
            retries: 0,
            tokens: Tokens::default(),
            cost_usd: Some(0.0),
        }
    }
}

impl ModelUse {
    /// Adds `other`'s counts into `self`; the cost stays known only if both are.
    pub fn add(&mut self, other: &ModelUse) {
        self.requests += other.requests;
        self.cache_hits += other.cache_hits;
        self.retries += other.retries;
        self.tokens.input += other.tokens.input;
        self.tokens.cached_input += other.tokens.cached_input;
        self.tokens.output += other.tokens.output;
        self.cost_usd = match (self.cost_usd, other.cost_usd) {
            (Some(a), Some(b)) => Some(a + b),
            _ => None,
        };
    }

    /// No request made and none answered from the cache.
    pub fn is_empty(&self) -> bool {
        self.requests == 0 && self.cache_hits == 0
    }
}

/// One edit a model sent (a SEARCH/REPLACE block, a hunk, a file listing).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct EditOutcome {
    /// The file the edit named.
    pub path: String,
    /// Which reply of the conversation it came in: 1 for the first, 2 after one round of
    /// feedback…
    pub round: u32,
    /// 1-based line of the reply where the edit starts.
    pub line: usize,
    /// Whether it applied.
    pub applied: bool,
    /// The file it changed, when a rescue moved it to another file than it named.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// How it applied (the matching strategy) or why it failed.
    pub detail: String,
}

/// A model's answer to an `ask` task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Answer {
    /// The file asked about (`per: file`); absent for a repository.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The files shown with the question.
    pub files: Vec<String>,
    /// The answer as the model wrote it.
    pub text: String,
    /// True when the model hit its output limit: the answer is cut off.
    pub truncated: bool,
}

/// What happened to one file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Content changed.
    Modified,
    /// Created.
    Created,
    /// Deleted.
    Deleted,
    /// An edit on it failed.
    Failed,
}

/// One file in one task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct FileReport {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// The outcome.
    pub status: FileStatus,
    /// Replacements made (for `replace`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replacements: Option<usize>,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The 1-based line the failure points at (in the file, or in the edits file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    /// The unified diff (with `--dry-run`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

impl RunReport {
    /// Builds the report, computing totals and the exit code from the repositories.
    pub fn new(
        run_id: impl Into<String>,
        pipeline: impl Into<String>,
        mode: Mode,
        interrupted: bool,
        repos: Vec<RepoReport>,
    ) -> Self {
        let (totals, exit_code) = Self::tally(&repos, mode, interrupted);
        RunReport {
            version: REPORT_VERSION,
            run_id: run_id.into(),
            pipeline: pipeline.into(),
            mode,
            interrupted,
            repos,
            totals,
            exit_code,
            warnings: Vec::new(),
            dropped: Vec::new(),
            pipelines: Vec::new(),
        }
    }

    /// The one document for the reports of one command: the report itself when there is one;
    /// for several pipelines, a report over all of them holding each under `pipelines`.
    pub fn combine(mut reports: Vec<RunReport>) -> Option<RunReport> {
        if reports.len() <= 1 {
            return reports.pop();
        }
        let join = |f: fn(&RunReport) -> &str| reports.iter().map(f).collect::<Vec<_>>().join("+");
        let mut all = RunReport::new(
            join(|r| &r.run_id),
            join(|r| &r.pipeline),
            reports[0].mode,
            reports.iter().any(|r| r.interrupted),
            reports
                .iter()
                .flat_map(|r| r.repos.iter().cloned())
                .collect(),
        );
        all.warnings = reports
            .iter()
            .flat_map(|r| {
                r.warnings.iter().map(|w| Warning {
                    pipeline: Some(r.pipeline.clone()),
                    ..w.clone()
                })
            })
            .collect();
        for d in reports.iter().flat_map(|r| &r.dropped) {
            if !all.dropped.contains(d) {
                all.dropped.push(d.clone());
            }
        }
        all.pipelines = reports;
        Some(all)
    }

    /// Warns about each of `tasks` (the tasks with a `files:` list) that ran somewhere yet
    /// matched no file in any repository of the report, and drops such warnings that no longer
    /// hold (a merged shard matched files).
    pub fn warn_unmatched_files<'a>(&mut self, tasks: impl IntoIterator<Item = &'a str>) {
        const MESSAGE: &str = "`files:` matched no file in any repository";
        let matched = |name: &str| -> Option<bool> {
            let runs: Vec<&TaskReport> = self
                .repos
                .iter()
                .flat_map(|r| r.tasks.iter().filter(|t| t.name == name))
                // A task that did not run selected nothing, and says why already.
                .filter(|t| !matches!(t.status, TaskStatus::Skipped | TaskStatus::Interrupted))
                .collect();
            (!runs.is_empty()).then(|| {
                runs.iter()
                    .any(|t| t.files_selected + t.skipped.total() > 0)
            })
        };
        let mut kept: Vec<Warning> = std::mem::take(&mut self.warnings)
            .into_iter()
            .filter(|w| w.message != MESSAGE || w.task.as_deref().and_then(matched) != Some(true))
            .collect();
        for name in tasks {
            let known = kept
                .iter()
                .any(|w| w.message == MESSAGE && w.task.as_deref() == Some(name));
            if !known && matched(name) == Some(false) {
                kept.push(Warning {
                    pipeline: None,
                    task: Some(name.to_string()),
                    message: MESSAGE.to_string(),
                });
            }
        }
        self.warnings = kept;
    }

    /// The per-pipeline reports a document holds: itself, or those under `pipelines`.
    pub fn split(self) -> Vec<RunReport> {
        if self.pipelines.is_empty() {
            vec![self]
        } else {
            self.pipelines
        }
    }

    /// Computes totals and the exit code again, after the repositories changed (a publish
    /// stage, a merge of shard reports).
    pub fn recount(&mut self) {
        (self.totals, self.exit_code) = Self::tally(&self.repos, self.mode, self.interrupted);
    }

    fn tally(repos: &[RepoReport], mode: Mode, interrupted: bool) -> (Totals, Exit) {
        let mut totals = Totals {
            repos: repos.len(),
            ..Totals::default()
        };
        for r in repos {
            if r.commits() > 0 {
                totals.repos_changed += 1;
            }
            if matches!(r.status, RepoStatus::Failed | RepoStatus::Skipped) && !r.opted_out {
                totals.repos_failed += 1;
            }
            totals.commits += r.commits();
            totals.files_changed += r.files_changed();
            totals.files_failed += r.files_failed();
            totals.files_skipped += r.tasks.iter().map(|t| t.skipped.total()).sum::<usize>();
            totals.tasks_failed += r
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Failed)
                .count();
            totals.tasks_skipped += r
                .tasks
                .iter()
                .filter(|t| t.status == TaskStatus::Skipped)
                .count();
            for m in r.tasks.iter().filter_map(|t| t.model.as_ref()) {
                totals.model.add(m);
            }
            totals.publish_failed += usize::from(r.publish.as_ref().is_some_and(Publish::failed));
        }
        let exit_code = if interrupted {
            Exit::Interrupted
        } else if totals.repos_failed > 0
            || totals.tasks_failed > 0
            || totals.tasks_skipped > 0
            || totals.files_failed > 0
            || totals.publish_failed > 0
        {
            Exit::Failed
        } else if mode == Mode::Check && totals.commits > 0 {
            Exit::Changes
        } else {
            Exit::Ok
        };
        (totals, exit_code)
    }
}

/// Commit ids: typed in the report's values, hex strings in its JSON.
mod commit_id {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(id: &Option<git2::Oid>, s: S) -> Result<S::Ok, S::Error> {
        match id {
            Some(id) => s.serialize_some(&id.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<git2::Oid>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|t| {
                git2::Oid::from_str(&t)
                    .map_err(|_| serde::de::Error::custom(format!("`{t}` is not a commit id")))
            })
            .transpose()
    }
}

/// The JSON Schema of [`RunReport`], for `codefleet schema --report`.
pub fn schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<RunReport>();
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn task(status: TaskStatus, changed: usize, failed: usize) -> TaskReport {
        TaskReport {
            status,
            files_changed: changed,
            files_failed: failed,
            ..TaskReport::new("t", "replace")
        }
    }

    fn repo(status: RepoStatus, tasks: Vec<TaskReport>) -> RepoReport {
        RepoReport {
            status,
            tasks,
            ..RepoReport::skipped("r", "r", "")
        }
    }

    #[test]
    fn exit_codes_follow_the_worst_outcome() {
        let ok = repo(RepoStatus::Changed, vec![task(TaskStatus::Changed, 2, 0)]);
        let bad = repo(RepoStatus::Failed, vec![task(TaskStatus::Failed, 1, 1)]);
        assert_eq!(
            RunReport::new("r", "p", Mode::Run, false, vec![ok.clone()]).exit_code,
            0
        );
        assert_eq!(
            RunReport::new("r", "p", Mode::Check, false, vec![ok.clone()]).exit_code,
            3
        );
        let both = RunReport::new("r", "p", Mode::Check, false, vec![ok.clone(), bad]);
        assert_eq!(both.exit_code, 1);
        assert_eq!(
            both.totals.commits, 2,
            "a task with a failed file commits the rest"
        );
        assert_eq!(both.totals.files_changed, 3);
        assert_eq!(
            RunReport::new("r", "p", Mode::Run, true, vec![ok]).exit_code,
            130
        );
    }

    #[test]
    fn model_use_sums_and_an_unknown_cost_stays_unknown() {
        let priced = ModelUse {
            requests: 2,
            tokens: Tokens {
                input: 10,
                cached_input: 2,
                output: 3,
            },
            cost_usd: Some(0.5),
            ..ModelUse::default()
        };
        let unpriced = ModelUse {
            requests: 1,
            cost_usd: None,
            ..ModelUse::default()
        };
        let mut t = task(TaskStatus::Changed, 1, 0);
        t.model = Some(priced.clone());
        let mut u = task(TaskStatus::Changed, 1, 0);
        u.model = Some(priced);
        let known = RunReport::new(
            "r",
            "p",
            Mode::Run,
            false,
            vec![repo(RepoStatus::Changed, vec![t.clone(), u])],
        );
        assert_eq!(known.totals.model.requests, 4);
        assert_eq!(known.totals.model.tokens.total(), 30);
        assert_eq!(known.totals.model.cost_usd, Some(1.0));
        let mut v = task(TaskStatus::Changed, 1, 0);
        v.model = Some(unpriced);
        let unknown = RunReport::new(
            "r",
            "p",
            Mode::Run,
            false,
            vec![repo(RepoStatus::Changed, vec![t, v])],
        );
        assert_eq!(unknown.totals.model.requests, 3);
        assert_eq!(unknown.totals.model.cost_usd, None);
        // No model task at all: nothing spent, and that is known.
        let none = RunReport::new("r", "p", Mode::Run, false, vec![]);
        assert_eq!(none.totals.model.cost_usd, Some(0.0));
        let json = serde_json::to_value(&unknown).unwrap();
        assert!(json["totals"]["model"]["cost_usd"].is_null());
    }

    #[test]
    fn the_schema_names_the_report_fields() {
        let text = schema().to_string();
        for field in [
            "run_id",
            "repos",
            "files_changed",
            "exit_code",
            "interrupted",
        ] {
            assert!(text.contains(field), "{field} missing from the schema");
        }
        // The exit is a type in code and the process status in JSON, as before it was a type.
        let exit = &schema()["properties"]["exit_code"];
        assert_eq!(exit["type"], "integer", "{exit}");
    }

    #[test]
    fn opting_out_is_no_failure_and_drops_are_counted_by_reason() {
        let out = RepoReport::opted_out("r", "r", "opted out by `.codefleetignore`");
        let report = RunReport::new("r", "p", Mode::Run, false, vec![out]);
        assert_eq!(report.exit_code, 0);
        assert_eq!(report.totals.repos_failed, 0);
        let drop = |repo: &str, reason| Dropped {
            repo: repo.into(),
            reason,
        };
        let mut a = report.clone();
        a.dropped = vec![
            drop("o/x", DropReason::Fork),
            drop("o/y", DropReason::Archived),
        ];
        let mut b = report;
        b.pipeline = "q".into();
        b.dropped = vec![
            drop("o/y", DropReason::Archived),
            drop("o/z", DropReason::Archived),
        ];
        let all = RunReport::combine(vec![a, b]).unwrap();
        assert_eq!(all.dropped.len(), 3, "each repository once");
        assert_eq!(
            dropped_summary(&all.dropped),
            "3 dropped: 2 archived, 1 fork"
        );
        assert_eq!(dropped_summary(&[]), "");
        let json = serde_json::to_value(&all).unwrap();
        assert_eq!(json["dropped"][0]["reason"], "fork");
        assert_eq!(json["repos"][0]["opted_out"], true);
    }

    #[test]
    fn the_exit_is_written_and_read_as_its_process_status() {
        let ok = repo(RepoStatus::Changed, vec![task(TaskStatus::Changed, 1, 0)]);
        let report = RunReport::new("r", "p", Mode::Check, false, vec![ok]);
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["exit_code"], 3);
        let back: RunReport = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(back.exit_code, Exit::Changes);
        let mut odd = json;
        odd["exit_code"] = 7.into();
        let err = serde_json::from_value::<RunReport>(odd).unwrap_err();
        assert!(err.to_string().contains("7 is not an exit code"), "{err}");
    }
}
