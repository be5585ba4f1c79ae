//! The clap mirror of the command line. These types never leave `cli/`: they are turned into
//! settings and options values before the core sees them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

const AFTER_HELP: &str = "\
Exit codes: 0 success; 1 some task, file or repository failed (the rest ran and is kept);
2 usage or pipeline error, nothing ran; 3 with --check, changes would be made; 130 interrupted.

Examples:
  codefleet init                         write a starter pipeline to pipelines/example.yml
  codefleet validate pipelines/*.yml     check pipelines, every problem with its place
  codefleet apply --format diff reply.md apply a model's SEARCH/REPLACE reply here
  codefleet config                       show the resolved settings and their sources
  codefleet plan p.yml --repo 'acme/*'   every repository of the GitHub org acme, not cloned
  codefleet run p.yml --repo acme/api    one GitHub repository, cloned into the cache
  gh repo list acme --json nameWithOwner -q '.[].nameWithOwner' | codefleet run p.yml --repos-from -
  codefleet status pipelines/x.yml       the campaign's pull requests: checks, reviews, totals";

/// Run coders over many files and git repositories; one commit per task on a branch.
#[derive(Debug, Parser)]
#[command(name = "codefleet", version, about, long_about = None, after_help = AFTER_HELP)]
#[command(propagate_version = true, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags accepted before or after any subcommand.
#[derive(Debug, Args, Clone, Default)]
pub struct GlobalArgs {
    /// Run on these repositories instead of the pipeline's `repos:` (repeatable): a local
    /// checkout or a glob of them, a git URL, a list file, `owner/name` (a GitHub repository),
    /// `owner/*` (every repository of a GitHub organisation or user; archived and forks left
    /// out) or `github:owner/name`. A value naming an existing local path is that path;
    /// `github:` always means GitHub.
    #[arg(long = "repo", value_name = "REPO", global = true)]
    pub repos: Vec<PathBuf>,
    /// Read `--repo` values from FILE, one a line (`#` comments; `-` reads standard input);
    /// relative paths are read against the file's directory.
    #[arg(long = "repos-from", value_name = "FILE", global = true)]
    pub repos_from: Option<PathBuf>,
    /// Worker threads (default: the number of cores).
    #[arg(long, short = 'j', value_name = "N", global = true)]
    pub jobs: Option<usize>,
    /// Run only shard K of N of the repositories (1-based, e.g. 2/4), for CI matrices.
    #[arg(long, value_name = "K/N", global = true)]
    pub shard: Option<String>,
    /// Set a pipeline variable, overriding `vars:` (repeatable).
    #[arg(long = "var", value_name = "KEY=VALUE", global = true)]
    pub vars: Vec<String>,
    /// Use a named profile from the config files.
    #[arg(long, value_name = "NAME", global = true)]
    pub profile: Option<String>,
    /// Write a machine-readable JSON report to stdout.
    #[arg(long, global = true)]
    pub json: bool,
    /// More output: -v for details, -vv for debugging.
    #[arg(long, short = 'v', action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less output: only errors.
    #[arg(long, short = 'q', global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// When to use colour (NO_COLOR is honoured under `auto`).
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub color: Option<ColorChoice>,
    /// Log line format on stderr [default: text].
    #[arg(long, value_enum, value_name = "FORMAT", global = true)]
    pub log_format: Option<LogFormat>,
    /// Use this config file instead of ~/.config/codefleet/config.yml [env: CODEFLEET_CONFIG].
    #[arg(long, value_name = "FILE", global = true)]
    pub config: Option<PathBuf>,
}

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour on a terminal unless NO_COLOR is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `--log-format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum LogFormat {
    /// Human-readable lines.
    #[default]
    Text,
    /// One JSON object per line.
    Json,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pipelines: one commit per task on the run branch of each repository.
    Run(RunArgs),
    /// Show which repositories, tasks and files a pipeline would touch
    ///
    /// The plan printed is the one `run` builds and executes: the same repositories, names,
    /// bases and branches. Nothing is written, not even the clone cache.
    Plan(PlanArgs),
    /// Check pipelines and report every problem with its place; exit 2 if any.
    Validate(ValidateArgs),
    /// Apply edits (a model reply or a patch) to the files in the current directory.
    #[command(after_help = "\
Exit codes: 0 every edit applied; 1 some edit failed or was refused (the others applied);
2 the input cannot be read.

Examples:
  codefleet apply --format diff reply.md      SEARCH/REPLACE blocks from a model reply
  git diff main | codefleet apply -C ../copy  a patch on stdin, applied in another directory
  codefleet apply --dry-run changes.diff      show what would change, write nothing
  codefleet apply --json reply.md | jq .      one JSON record per edit")]
    Apply(ApplyArgs),
    /// List past runs of this repository.
    Runs(RunsArgs),
    /// Show one run: tasks, commits, diffstat.
    Show(ShowArgs),
    /// Put the run branch back where it was before a run (or before one task).
    Rollback(RollbackArgs),
    /// Print the JSON Schema of the pipeline format.
    Schema(SchemaArgs),
    /// Write a commented starter pipeline.
    Init(InitArgs),
    /// Print the resolved settings and where each value came from.
    Config(ConfigArgs),
    /// Print shell completions.
    Completions(CompletionsArgs),
    /// Work with run reports (`report merge` joins the reports of shards).
    Report(ReportArgs),
    /// Show the campaign: each repository's pull request, checks, review, mergeability
    ///
    /// One row per repository of the pipelines (their `repos:` or `--repo`): the run branch,
    /// the newest pull request from it (number, URL), its state, and for open ones the checks
    /// (check runs and commit statuses combined), the review decision, whether it merges
    /// cleanly and how far its base moved ahead; then the totals. Reads only.
    #[command(after_help = STATUS_HELP)]
    Status(StatusArgs),
    /// Merge the campaign's green, approved pull requests (or enable auto-merge)
    ///
    /// Merges, one at a time in campaign order, the open pull requests that are mergeable,
    /// whose checks passed and whose review is approved (`--require`), and whose head is the
    /// commit codefleet pushed (a pull request someone added commits to is skipped and said
    /// so). The merge names the head it expects: a head that moves in between is refused.
    #[command(after_help = MERGE_HELP)]
    Merge(CampaignMergeArgs),
    /// Close the campaign's open pull requests (and delete their branches)
    ///
    /// Closes each open pull request of the campaign, after posting `--comment`;
    /// `--delete-branch` deletes the run branch on the remote only while it still points at the
    /// commit codefleet pushed (a lease), so a branch someone pushed to is kept.
    #[command(after_help = CLOSE_HELP)]
    Close(CloseArgs),
}

const STATUS_HELP: &str = "\
Exit codes: 0 read (whatever the pull requests' states); 1 some repository could not be read
(its row says why); 2 usage or pipeline error.

Examples:
  codefleet status pipelines/logging.yml                 the table and the totals line
  codefleet status pipelines/logging.yml --checks failure which pull requests are red
  codefleet status pipelines/logging.yml --state open -j 16
  codefleet status pipelines/logging.yml --json | jq '.totals'   (schema: codefleet schema --status)";

const MERGE_HELP: &str = "\
Exit codes: 0 every merge attempted succeeded (or nothing was eligible); 1 a merge attempted
failed (the forge refused, or the head moved); 2 usage or pipeline error.

Examples:
  codefleet merge pipelines/logging.yml --dry-run        what would be merged, and why not the rest
  codefleet merge pipelines/logging.yml --max 20 --method squash
  codefleet merge pipelines/logging.yml --auto           let GitHub merge each once it is green
  codefleet merge pipelines/logging.yml --require checks  no review needed";

const CLOSE_HELP: &str = "\
Exit codes: 0 closed (or nothing to close); 1 a close failed, or a branch was not deleted (it
moved since codefleet pushed it, or the pushed head is unknown); 2 usage or pipeline error.

Examples:
  codefleet close pipelines/logging.yml --dry-run
  codefleet close pipelines/logging.yml --comment 'Superseded by the v2 campaign.' --delete-branch";

/// `--state`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StateFilter {
    /// Open pull requests (drafts included).
    Open,
    /// Closed without being merged.
    Closed,
    /// Merged.
    Merged,
    /// Every repository (the default).
    All,
}

/// `--checks`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ChecksFilter {
    /// A check failed.
    Failure,
    /// All checks passed.
    Success,
    /// Checks not finished.
    Pending,
    /// No check ran.
    None,
}

/// `--method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// A merge commit.
    Merge,
    /// One squashed commit.
    Squash,
    /// The commits rebased onto the base branch.
    Rebase,
}

/// `codefleet status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Pipeline files.
    #[arg(required = true, value_name = "PIPELINE")]
    pub pipelines: Vec<PathBuf>,
    /// Show only repositories whose pull request is in this state (the totals stay whole).
    #[arg(long, value_enum, value_name = "STATE", default_value = "all")]
    pub state: StateFilter,
    /// Show only open pull requests whose checks are in this state.
    #[arg(long, value_enum, value_name = "STATE")]
    pub checks: Option<ChecksFilter>,
}

/// `codefleet merge`.
#[derive(Debug, Args)]
pub struct CampaignMergeArgs {
    /// Pipeline files.
    #[arg(required = true, value_name = "PIPELINE")]
    pub pipelines: Vec<PathBuf>,
    /// What a pull request needs to be merged: `checks` (passed), `review` (approved), both
    /// (`checks,review`), or `none` (merge what the forge accepts).
    #[arg(
        long,
        value_name = "WHAT",
        value_delimiter = ',',
        default_value = "checks,review"
    )]
    pub require: Vec<String>,
    /// The merge method (default: the repository's default, as the forge chooses).
    #[arg(long, value_enum, value_name = "METHOD")]
    pub method: Option<MethodArg>,
    /// Enable GitHub's auto-merge instead of merging now (pending checks and reviews then do
    /// not hold a pull request back; failed checks and requested changes still do).
    #[arg(long)]
    pub auto: bool,
    /// Merge (or enable auto-merge for) at most N pull requests.
    #[arg(long, value_name = "N")]
    pub max: Option<usize>,
    /// Seconds to wait between two merges (each merge moves the base branch).
    #[arg(long, value_name = "SECONDS", default_value_t = 3.0)]
    pub pause: f64,
    /// Say what would be merged and why the rest would not; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Also merge pull requests whose head is not the commit codefleet pushed.
    #[arg(long)]
    pub include_foreign: bool,
}

/// `codefleet close`.
#[derive(Debug, Args)]
pub struct CloseArgs {
    /// Pipeline files.
    #[arg(required = true, value_name = "PIPELINE")]
    pub pipelines: Vec<PathBuf>,
    /// Post this comment on each pull request before closing it.
    #[arg(long, value_name = "TEXT")]
    pub comment: Option<String>,
    /// Delete the run branch on the remote, only if it still points at the commit codefleet
    /// pushed (also for pull requests closed earlier).
    #[arg(long)]
    pub delete_branch: bool,
    /// Say what would be closed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// `codefleet run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipeline files.
    #[arg(required = true, value_name = "PIPELINE")]
    pub pipelines: Vec<PathBuf>,
    /// Show the diffs and the summary; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing; exit 3 if the run would change anything (for CI gates).
    #[arg(long)]
    pub check: bool,
    /// Start each repository from this revision (default HEAD).
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Move HEAD to the run branch at the end.
    #[arg(long)]
    pub checkout: bool,
    /// Update the run branch even if it has commits codefleet did not make.
    #[arg(long)]
    pub force: bool,
    /// Push each run branch to its remote (with a lease on the previous tip).
    #[arg(long)]
    pub push: bool,
    /// Open or update a pull request per repository (GitHub; pushes first).
    #[arg(long)]
    pub pr: bool,
    /// With --pr: close the open pull request of a repository whose change became empty.
    #[arg(long)]
    pub close_empty_prs: bool,
    /// With --pr: open at most this many new pull requests in this run.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub max_prs: usize,
    /// Remote repositories cloned or fetched at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub clone_jobs: usize,
    /// History depth fetched for remote repositories (0: everything).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub depth: u32,
    /// Where remote repositories are cloned (default: `cache.dir`, i.e.
    /// $XDG_CACHE_HOME/codefleet or ~/.cache/codefleet).
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// `codefleet report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(subcommand)]
    pub command: ReportCommand,
}

/// The `report` subcommands.
#[derive(Debug, Subcommand)]
pub enum ReportCommand {
    /// Join the `--json` reports of the shards of a run (`--shard K/N`) into one.
    #[command(after_help = "\
Prints the summary table of the whole run (or, with --json, the merged report), appends the
Markdown summary to $GITHUB_STEP_SUMMARY when set, and exits as the whole run would have.

Example:
  codefleet report merge shard-*.json")]
    Merge(MergeArgs),
}

/// `codefleet report merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Report files written by `codefleet run --json`.
    #[arg(required = true, value_name = "REPORT")]
    pub reports: Vec<PathBuf>,
}

/// `codefleet plan`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Pipeline file.
    #[arg(value_name = "PIPELINE")]
    pub pipeline: PathBuf,
    /// Plan each repository from this revision (default HEAD), as `run --base` starts it.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
}

/// `codefleet validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Pipeline files to check.
    #[arg(required = true, value_name = "PIPELINE")]
    pub pipelines: Vec<PathBuf>,
}

/// `codefleet apply`.
#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// The edit format: `diff` (SEARCH/REPLACE blocks), `diff-fenced`, `udiff` (a fenced model
    /// reply or a whole `git diff`/`diff -u` patch), `whole` (whole files), `patch`
    /// (`*** Begin Patch`), or `auto` to detect it from the text.
    #[arg(long, short = 'f', value_name = "FORMAT", default_value = "auto")]
    pub format: String,
    /// The reply or patch file; `-` or nothing reads standard input.
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print the unified diff of what would change; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write nothing unless every edit applies.
    #[arg(long)]
    pub all_or_nothing: bool,
    /// Let a whole-file listing drop more than half of a file's lines (else it is refused as
    /// not the whole file).
    #[arg(long)]
    pub allow_shrink: bool,
    /// Apply in this directory instead of the current one.
    #[arg(long, short = 'C', value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `codefleet runs`.
#[derive(Debug, Args)]
pub struct RunsArgs {}

/// `codefleet show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The run id (from `codefleet runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
}

/// `codefleet rollback`.
#[derive(Debug, Args)]
pub struct RollbackArgs {
    /// The run id (from `codefleet runs`).
    #[arg(value_name = "RUN")]
    pub run: String,
    /// Roll back to just before this task of the run.
    #[arg(long, value_name = "NAME")]
    pub task: Option<String>,
}

/// `codefleet schema`.
#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Print the schema of the `--json` run report instead of the pipeline's.
    #[arg(long, conflicts_with = "status")]
    pub report: bool,
    /// Print the schema of `codefleet status --json` instead of the pipeline's.
    #[arg(long)]
    pub status: bool,
}

/// `codefleet init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Where to write the starter pipeline.
    #[arg(value_name = "PATH", default_value = "pipelines/example.yml")]
    pub path: PathBuf,
}

/// `codefleet config`.
#[derive(Debug, Args)]
pub struct ConfigArgs {}

/// `codefleet completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to write completions for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}
