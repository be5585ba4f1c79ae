//! The checked pipeline: what the rest of codefleet works from. Every value here has been
//! validated: regexes compiled, globs built, durations and sizes parsed, paths resolved against
//! the pipeline file's directory, templates parsed. Plain pub structs, so later stages and tests
//! can also build pipelines in code.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use globset::GlobSet;
use regex::Regex;

pub use super::file::CommitVia;
use super::template::Template;
use crate::coders::Format;

pub use super::file::{
    AtomicName as Atomic, OnFailName as OnFail, PerName as Per, RecreateName as Recreate,
};
pub use crate::llm::{Budget, Provider};

/// A place in the pipeline file (1-based line and column; 0 when built in code).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Pos {
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
}

/// A validated pipeline.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The file it was read from (as given), or empty when built in code.
    pub path: PathBuf,
    /// The directory relative paths in the pipeline are resolved against.
    pub dir: PathBuf,
    /// The name: used in the branch name and trailers.
    pub name: String,
    /// The description, if any.
    pub description: Option<String>,
    /// Where it runs; empty means the repository the user stands in.
    pub repos: Vec<RepoSource>,
    /// Variables, after `--var` overrides.
    pub vars: BTreeMap<String, String>,
    /// The run branch.
    pub branch: Template,
    /// How commits are written.
    pub commit: Commit,
    /// Model defaults (tasks carry their merged settings in [`Task::model`]).
    pub model: Model,
    /// Budget for the whole run.
    pub budget: Budget,
    /// Requests in flight at most.
    pub model_concurrency: usize,
    /// What edits may touch.
    pub policy: Policy,
    /// Pull request settings.
    pub pr: PullRequest,
    /// The tasks, in order.
    pub tasks: Vec<Task>,
    /// Which defaultable fields the file set; the settings (`default_branch_template`,
    /// `author`, `model.concurrency`) fill only the others.
    pub explicit: Explicit,
}

/// The pipeline fields that have a setting as their default, and whether the file set them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Explicit {
    /// `branch:` was given.
    pub branch: bool,
    /// `commit.author` was given.
    pub author: bool,
    /// `model.concurrency` was given.
    pub model_concurrency: bool,
}

impl Pipeline {
    /// A pipeline with every default, for building pipelines in code: runs in the current
    /// repository, branch `codefleet/{{ pipeline }}`, one commit per task named after it.
    pub fn new(name: impl Into<String>, tasks: Vec<Task>) -> Pipeline {
        let name = name.into();
        Pipeline {
            path: PathBuf::new(),
            dir: PathBuf::from("."),
            description: None,
            repos: Vec::new(),
            vars: BTreeMap::new(),
            branch: Template::parse("codefleet/{{ pipeline }}").unwrap_or_default(),
            commit: Commit {
                message: Template::parse("{{ task }}").unwrap_or_default(),
                author: Author::default(),
            },
            model: Model::default(),
            budget: Budget::default(),
            model_concurrency: 8,
            policy: Policy::default(),
            pr: PullRequest {
                title: Template::parse("codefleet: {{ pipeline }}").unwrap_or_default(),
                body: Template::text(""),
                draft: false,
                labels: Vec::new(),
                reviewers: Vec::new(),
                assignees: Vec::new(),
                remove_source_branch: false,
                recreate: Recreate::Never,
                default_body: true,
                commit_via: CommitVia::Git,
            },
            tasks,
            name,
            explicit: Explicit::default(),
        }
    }

    /// The template context for `repo_name` and `task` in a run, with this pipeline's name and
    /// variables filled in.
    pub fn context<'a>(
        &'a self,
        run_id: &'a str,
        repo_name: Option<&'a str>,
        task: Option<&'a str>,
    ) -> super::template::Context<'a> {
        super::template::Context {
            pipeline: &self.name,
            task,
            run_id,
            repo_name,
            vars: Some(&self.vars),
            results: None,
        }
    }
}

/// Where a pipeline runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoSource {
    /// A local checkout, resolved against the pipeline's directory.
    Path(PathBuf),
    /// A glob of local checkouts, resolved against the pipeline's directory (`/`-separated).
    Glob(String),
    /// A remote repository.
    Url {
        /// The URL.
        url: String,
        /// The revision to start from; `None` is the remote's HEAD.
        git_ref: Option<String>,
        /// History depth to fetch; `None` leaves it to `--depth`.
        depth: Option<u32>,
    },
    /// A file of paths and URLs, one a line.
    List(PathBuf),
    /// Repositories selected through GitHub's API.
    GitHub(GitHubSelector),
    /// Projects selected through a GitLab API.
    GitLab(GitLabSelector),
    /// Repositories selected through a Gitea or Forgejo API.
    Gitea(GiteaSelector),
}

/// Whose repositories a `github:` entry lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GitHubOwner {
    /// An organisation.
    Org(String),
    /// A user.
    User(String),
}

impl GitHubOwner {
    /// The owner's login.
    pub fn login(&self) -> &str {
        match self {
            GitHubOwner::Org(n) | GitHubOwner::User(n) => n,
        }
    }

    /// The search qualifier naming the owner: `org:NAME` or `user:NAME`.
    pub fn qualifier(&self) -> String {
        match self {
            GitHubOwner::Org(n) => format!("org:{n}"),
            GitHubOwner::User(n) => format!("user:{n}"),
        }
    }
}

/// A checked `github:` entry: whose repositories, and the filters that all must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitHubSelector {
    /// The organisation or user.
    pub owner: GitHubOwner,
    /// Topics every selected repository has.
    pub topics: Vec<String>,
    /// A repository search query (without the owner and topic qualifiers).
    pub search: Option<String>,
    /// A code search query (without the owner qualifier).
    pub code_search: Option<String>,
    /// A regex `owner/name` must match (checked).
    pub include: Option<String>,
    /// A regex `owner/name` must not match (checked).
    pub exclude: Option<String>,
    /// Keep archived repositories.
    pub archived: bool,
    /// Keep forks.
    pub forks: bool,
    /// At most this many, after every filter.
    pub limit: Option<usize>,
}

impl GitHubSelector {
    /// Every repository of `owner` that is neither archived nor a fork.
    pub fn all_of(owner: GitHubOwner) -> GitHubSelector {
        GitHubSelector {
            owner,
            topics: Vec::new(),
            search: None,
            code_search: None,
            include: None,
            exclude: None,
            archived: false,
            forks: false,
            limit: None,
        }
    }
}

/// The filters of a `gitlab:` or `gitea:` entry, all of which must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListFilters {
    /// Topics every selected repository has.
    pub topics: Vec<String>,
    /// A text the forge's own search matches.
    pub search: Option<String>,
    /// A regex the repository's full path must match (checked).
    pub include: Option<String>,
    /// A regex the repository's full path must not match (checked).
    pub exclude: Option<String>,
    /// Keep archived repositories.
    pub archived: bool,
    /// Keep forks.
    pub forks: bool,
    /// At most this many, after every filter.
    pub limit: Option<usize>,
}

/// A checked `gitlab:` entry: which host's group, and the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitLabSelector {
    /// The host, lower-case, with its port if any (`gitlab.com` by default).
    pub host: String,
    /// The group's full path.
    pub group: String,
    /// Include the subgroups' projects.
    pub subgroups: bool,
    /// What must hold.
    pub filters: ListFilters,
}

/// Whose repositories a `gitea:` entry lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GiteaOwner {
    /// An organisation.
    Org(String),
    /// A user.
    User(String),
}

/// A checked `gitea:` entry: which host (`None`: the only one under `gitea.hosts`), whose
/// repositories, and the filters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GiteaSelector {
    /// The host, lower-case, with its port if any.
    pub host: Option<String>,
    /// The organisation or user.
    pub owner: GiteaOwner,
    /// What must hold.
    pub filters: ListFilters,
}

/// A commit author.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    /// Name.
    pub name: String,
    /// Email address.
    pub email: String,
}

impl Author {
    /// Parses `Name <email>`, as `commit.author` and the `author` setting are written.
    pub fn parse(text: &str) -> Option<Author> {
        let rest = text.trim().strip_suffix('>')?;
        let (name, email) = rest.rsplit_once('<')?;
        let (name, email) = (name.trim(), email.trim());
        (!name.is_empty() && email.contains('@') && !email.contains(['<', '>', ' '])).then(|| {
            Author {
                name: name.to_string(),
                email: email.to_string(),
            }
        })
    }
}

impl Default for Author {
    fn default() -> Self {
        Author {
            name: "codefleet".into(),
            email: "codefleet@localhost".into(),
        }
    }
}

/// How commits are written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commit {
    /// The message template.
    pub message: Template,
    /// The author (and committer).
    pub author: Author,
}

/// The edit format a model answers in (`model.edit_format`, in the pipeline, a task and the
/// settings alike): `auto`, or one of the coders' formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum EditFormat {
    /// Chosen per model (and per file size) when the request is made.
    #[default]
    Auto,
    /// This format.
    Format(Format),
}

impl EditFormat {
    /// Every accepted name, in documentation order.
    pub const NAMES: &'static [&'static str] =
        &["auto", "diff", "diff-fenced", "udiff", "whole", "patch"];

    /// The name as written in pipelines, config files and variables.
    pub fn name(self) -> &'static str {
        match self {
            EditFormat::Auto => "auto",
            EditFormat::Format(f) => f.name(),
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<EditFormat> {
        match name {
            "auto" => Some(EditFormat::Auto),
            other => Format::from_name(other).map(EditFormat::Format),
        }
    }

    /// The format asked for, if not `auto`.
    pub fn explicit(self) -> Option<Format> {
        match self {
            EditFormat::Auto => None,
            EditFormat::Format(f) => Some(f),
        }
    }
}

impl std::fmt::Display for EditFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Model settings, after task overrides are merged over the pipeline's.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// Who serves the model; `None` leaves it to settings.
    pub provider: Option<Provider>,
    /// The model name; `None` leaves it to settings.
    pub name: Option<String>,
    /// Base URL of the API.
    pub base_url: Option<String>,
    /// Environment variable with the API key.
    pub api_key_env: Option<String>,
    /// The edit format.
    pub edit_format: EditFormat,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// Per-request time limit.
    pub timeout: Option<Duration>,
    /// Times a failed reply is sent back with feedback.
    pub reflections: u32,
}

/// What edits may touch: the one policy type, which `workspace` enforces.
pub use crate::workspace::Policy;

/// Globs always denied, whatever the pipeline says: `.git` and the secret-looking files of
/// [`crate::workspace::DEFAULT_DENY`] (`.env*`, `*.pem`, `*.key`, `id_rsa*`, `*.p12`,
/// credentials files…), matched case-insensitively.
pub const BUILTIN_DENY: &[&str] = crate::workspace::DEFAULT_DENY;

/// Default largest file size: 1 MiB.
pub const DEFAULT_MAX_FILE_SIZE: u64 = crate::workspace::DEFAULT_MAX_FILE_SIZE;

/// Pull request settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullRequest {
    /// Title template.
    pub title: Template,
    /// Body template.
    pub body: Template,
    /// Open as draft.
    pub draft: bool,
    /// Labels.
    pub labels: Vec<String>,
    /// Reviewers.
    pub reviewers: Vec<String>,
    /// Assignees, by username.
    pub assignees: Vec<String>,
    /// Delete the source branch when the merge request merges (GitLab).
    pub remove_source_branch: bool,
    /// Whether a pull request a person closed is opened again.
    pub recreate: Recreate,
    /// The body is the default one (no `pr.body`): the description, then this repository's
    /// results.
    pub default_body: bool,
    /// How the run branch's commits reach the remote.
    pub commit_via: CommitVia,
}

/// Which files a task works on.
#[derive(Debug, Clone)]
pub struct FileFilter {
    /// Included globs as written; empty means every file.
    pub include_patterns: Vec<String>,
    /// Excluded globs as written.
    pub exclude_patterns: Vec<String>,
    /// Compiled includes.
    pub include: GlobSet,
    /// Compiled excludes.
    pub exclude: GlobSet,
}

/// Builds a glob set the way every codefleet glob matches: `*` stays within one path segment,
/// `**` crosses them.
pub fn glob_set(patterns: &[String]) -> Result<GlobSet, globset::Error> {
    let mut builder = globset::GlobSetBuilder::new();
    for p in patterns {
        builder.add(glob(p)?);
    }
    builder.build()
}

/// One glob, compiled the way [`glob_set`] compiles each.
pub(super) fn glob(pattern: &str) -> Result<globset::Glob, globset::Error> {
    // The built-in secret patterns ignore case (`TLS.KEY` is a key too); the user's do not.
    globset::GlobBuilder::new(pattern)
        .literal_separator(true)
        .backslash_escape(true)
        .case_insensitive(BUILTIN_DENY.contains(&pattern))
        .build()
}

impl FileFilter {
    /// Builds a filter from include and exclude globs (empty `include`: every file).
    pub fn new(include: &[&str], exclude: &[&str]) -> Result<FileFilter, globset::Error> {
        let include_patterns: Vec<String> = include.iter().map(|s| s.to_string()).collect();
        let exclude_patterns: Vec<String> = exclude.iter().map(|s| s.to_string()).collect();
        Ok(FileFilter {
            include: glob_set(&include_patterns)?,
            exclude: glob_set(&exclude_patterns)?,
            include_patterns,
            exclude_patterns,
        })
    }

    /// Whether a repository-relative, `/`-separated path is selected.
    pub fn matches(&self, path: &str) -> bool {
        (self.include_patterns.is_empty() || self.include.is_match(path))
            && !self.exclude.is_match(path)
    }
}

impl crate::workspace::Selects for FileFilter {
    fn selects(&self, path: &str) -> bool {
        self.matches(path)
    }
}

/// A validated task.
#[derive(Debug, Clone)]
pub struct Task {
    /// Unique name.
    pub name: String,
    /// Position of the task in the pipeline file.
    pub pos: Pos,
    /// Which files it works on; `None` when `files:` is absent (every file, or none for kinds
    /// that take no files).
    pub files: Option<FileFilter>,
    /// What it does.
    pub kind: TaskKind,
    /// Model settings merged over the pipeline's.
    pub model: Model,
    /// Send files that look like they hold a private key or credential to the model anyway.
    pub allow_secrets: bool,
    /// A `whole` listing may drop more than half of a file's lines (`prompt` and `edits`
    /// tasks).
    pub allow_shrink: bool,
    /// What a failed edit takes down with it (`atomic:`; see [`TaskKind::default_atomic`]).
    pub atomic: Atomic,
}

impl Task {
    /// A task with default model settings and no file filter, for building pipelines in code.
    pub fn new(name: impl Into<String>, kind: TaskKind) -> Task {
        let kind_atomic = kind.default_atomic();
        Task {
            name: name.into(),
            pos: Pos::default(),
            files: None,
            kind,
            model: Model {
                reflections: 3,
                ..Model::default()
            },
            allow_secrets: false,
            allow_shrink: false,
            atomic: kind_atomic,
        }
    }

    /// The same task working only on files matched by `filter`.
    pub fn with_files(mut self, filter: FileFilter) -> Task {
        self.files = Some(filter);
        self
    }
}

/// What a task does.
#[derive(Debug, Clone)]
pub enum TaskKind {
    /// Deterministic find and replace.
    Replace(Replace),
    /// Apply a unified diff file.
    Patch {
        /// The diff file, resolved against the pipeline's directory.
        path: PathBuf,
    },
    /// Apply a file of edits in an edit format.
    Edits {
        /// The edits file, resolved against the pipeline's directory.
        path: PathBuf,
        /// Its format; `None` detects it.
        format: Option<Format>,
    },
    /// A model edits the files.
    Prompt {
        /// The instruction (from `prompt:` or the `prompt_file:`).
        prompt: Template,
        /// One request per file or per repository.
        per: Per,
    },
    /// A model answers a question into the report.
    Ask {
        /// The question.
        question: Template,
        /// One request per file or per repository.
        per: Per,
    },
    /// A shell command whose changes are committed.
    Run(Command),
    /// A shell command that must succeed.
    Check {
        /// The command.
        command: Command,
        /// What a failure does.
        on_fail: OnFail,
        /// Fix rounds when `on_fail` is `fix`.
        fix_attempts: u32,
    },
}

impl TaskKind {
    /// `atomic:` when the task does not say: `task` for a patch (like `git apply`, a patch is
    /// one change that applies whole or not at all); `file` for the others, whose edits are
    /// usually independent per file, so what applies lands, yet no file is left half-edited
    /// (a file with half its edits rarely builds).
    pub fn default_atomic(&self) -> Atomic {
        match self {
            TaskKind::Patch { .. } => Atomic::Task,
            _ => Atomic::File,
        }
    }

    /// The kind's name as written in a pipeline.
    pub fn name(&self) -> &'static str {
        match self {
            TaskKind::Replace(_) => "replace",
            TaskKind::Patch { .. } => "patch",
            TaskKind::Edits { .. } => "edits",
            TaskKind::Prompt { .. } => "prompt",
            TaskKind::Ask { .. } => "ask",
            TaskKind::Run(_) => "run",
            TaskKind::Check { .. } => "check",
        }
    }

    /// Whether the task talks to a model (a `check` does only when it fixes).
    pub fn uses_model(&self) -> bool {
        matches!(
            self,
            TaskKind::Prompt { .. }
                | TaskKind::Ask { .. }
                | TaskKind::Check {
                    on_fail: OnFail::Fix,
                    ..
                }
        )
    }
}

/// A find-and-replace.
#[derive(Debug, Clone)]
pub struct Replace {
    /// `find` as written.
    pub find: String,
    /// The compiled pattern (literal text is escaped; case-insensitivity is compiled in).
    pub regex: Regex,
    /// Whether `find` was a regular expression (so `$1` in `with` expands).
    pub is_regex: bool,
    /// The replacement template. Rendered, it expands `$1` only when `is_regex`; otherwise it
    /// is inserted as written (`regex::NoExpand`).
    pub with: Template,
    /// At most this many replacements per file.
    pub max_count: Option<usize>,
    /// Match case-insensitively (`case_insensitive: true`). `regex` is compiled with it, but
    /// its `as_str()` does not carry the flag, so whoever recompiles the pattern must pass it.
    pub case_insensitive: bool,
}

impl Replace {
    /// The replacement text for one repository and task. In a regex replacement, `$1` in the
    /// template expands, but a `$` inside a variable's value is kept as written; pass the result
    /// to `Regex::replacen` when `is_regex`, else wrap it in `regex::NoExpand`.
    pub fn replacement(&self, ctx: &super::template::Context<'_>) -> String {
        if self.is_regex {
            self.with.render_with(ctx, |v| v.replace('$', "$$"))
        } else {
            self.with.render(ctx)
        }
    }

    /// Replaces the literal text `find` with the literal text `with` (fails only when `find`
    /// is too large to compile).
    pub fn literal(find: &str, with: &str) -> Result<Replace, regex::Error> {
        Ok(Replace {
            find: find.to_string(),
            regex: Regex::new(&regex::escape(find))?,
            is_regex: false,
            with: Template::text(with),
            max_count: None,
            case_insensitive: false,
        })
    }

    /// Replaces matches of the regular expression `find` with `with` (`$1` expands).
    pub fn regex(find: &str, with: &str) -> Result<Replace, regex::Error> {
        Ok(Replace {
            find: find.to_string(),
            regex: Regex::new(find)?,
            is_regex: true,
            with: Template::text(with),
            max_count: None,
            case_insensitive: false,
        })
    }
}

/// A shell step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command line template.
    pub command: Template,
    /// The shell line that runs it: split on whitespace, the command is its last argument,
    /// after `-c` unless the line ends with it.
    pub shell: String,
    /// Extra environment.
    pub env: BTreeMap<String, String>,
    /// Directory relative to the repository root (`""` is the root).
    pub cwd: PathBuf,
    /// Time limit.
    pub timeout: Duration,
    /// Repositories running it at once, at most; `None` is all workers.
    pub concurrency: Option<usize>,
}

impl Command {
    /// `command` run by the default shell at the repository root with the default time limit.
    pub fn new(command: &str) -> Command {
        Command {
            command: Template::text(command),
            shell: DEFAULT_SHELL.into(),
            env: BTreeMap::new(),
            cwd: PathBuf::new(),
            timeout: DEFAULT_COMMAND_TIMEOUT,
            concurrency: None,
        }
    }
}

/// Default shell of `run` and `check` commands; where `bash` is missing, `sh -e -c` runs.
pub const DEFAULT_SHELL: &str = "bash -eo pipefail -c";

/// Default time limit of `run` and `check` commands.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);
