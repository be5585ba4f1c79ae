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
  gh repo list acme --json nameWithOwner -q '.[].nameWithOwner' | codefleet run p.yml --repos-from -";

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
    #[arg(long)]
    pub report: bool,
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
