//! The serde mirror of a pipeline file, field for field. The doc comments are the reference a
//! user reads: `codefleet schema` turns them into the JSON Schema, and the structural checker
//! walks that same schema, so the field lists live here and nowhere else. Cross-field rules
//! (one kind per task, `per:` needs `files:`) are checked when building [`super::Pipeline`].

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A codefleet pipeline: tasks run in order over files of one or more git repositories, one
/// commit per task on a run branch. Top-level fields starting with `x-` are ignored, so they can
/// hold YAML anchors (`x-rust: &rust ["**/*.rs"]`, then `files: *rust`).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "codefleet pipeline")]
#[schemars(extend("patternProperties" = { "^x-": {} }))]
pub struct PipelineFile {
    /// Format version of this file; `1` is the only version so far.
    pub version: Option<u32>,
    /// Name of the pipeline, used in the branch name and commit trailers: letters, digits,
    /// `-`, `_`, `.` and `/`.
    pub name: String,
    /// What the pipeline does, for people and for pull request bodies.
    pub description: Option<String>,
    /// Where the pipeline runs; default: the repository you stand in. Overridden by `--repo`.
    pub repos: Option<Vec<RepoEntry>>,
    /// Variables for templates, referenced as `{{ vars.NAME }}`; `--var NAME=VALUE` overrides.
    pub vars: Option<BTreeMap<String, VarValue>>,
    /// The run branch, a template; default `codefleet/{{ pipeline }}`. Stable, so a re-run
    /// updates the same branch.
    pub branch: Option<String>,
    /// How commits are written.
    pub commit: Option<CommitFile>,
    /// Model defaults for the tasks that talk to a model (`prompt`, `ask`, `check` with fixes).
    pub model: Option<ModelFile>,
    /// What edits may touch; safe defaults apply when absent.
    pub policy: Option<PolicyFile>,
    /// Pull requests opened with `--pr`.
    pub pr: Option<PrFile>,
    /// The tasks, run in order; each one's result is the next one's input.
    pub tasks: Vec<TaskFile>,
}

/// One entry of `repos:`: exactly one of `path`, `url`, `list`, `github`, `gitlab` or `gitea`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepoEntry {
    /// A local checkout, or a glob of checkouts (`../services/*`), relative to the pipeline
    /// file's directory.
    pub path: Option<String>,
    /// A git URL, cloned (shallow, cached) when needed.
    pub url: Option<String>,
    /// The branch, tag or commit to start from for `url:` entries; default: the remote's HEAD.
    #[serde(rename = "ref")]
    pub git_ref: Option<String>,
    /// How many commits of history to fetch for `url:` entries (0: all); default 1, or
    /// `codefleet run --depth N`.
    pub depth: Option<u32>,
    /// A file listing one path or URL a line (`#` starts a comment), relative to the pipeline
    /// file's directory.
    pub list: Option<String>,
    /// Repositories selected through GitHub's API (`github.api_url`, token from
    /// `github.token_env`): every repository of an organisation or user, narrowed by topics, a
    /// repository search, a code search and regexes. Archived, disabled and forked repositories
    /// are dropped before anything runs (and counted in the report). Each runs on a clone of its
    /// default branch (`clone_url`, or `ssh_url` with the setting `github.clone: ssh`).
    pub github: Option<GitHubEntry>,
    /// Projects selected through GitLab's API (gitlab.com, or a host under `gitlab.hosts`):
    /// every project of a group (its subgroups' too), narrowed by topics, a search and
    /// regexes. Archived projects and forks are dropped before anything runs (and counted in
    /// the report). Each runs on a clone of its default branch (`http_url_to_repo`, or
    /// `ssh_url_to_repo` with `github.clone: ssh`).
    pub gitlab: Option<GitLabEntry>,
    /// Repositories selected through a Gitea or Forgejo API (a host under `gitea.hosts`):
    /// every repository of an organisation or user, narrowed by topics, a search and regexes.
    /// Archived repositories and forks are dropped before anything runs (and counted).
    pub gitea: Option<GiteaEntry>,
}

/// A `gitlab:` entry of `repos:`: a group, and optional filters (all must hold).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitLabEntry {
    /// The GitLab host, with its port if it has one (`gitlab.corp.example`); default
    /// `gitlab.com`. A host other than gitlab.com must be listed under `gitlab.hosts`.
    pub host: Option<String>,
    /// The group's full path (`acme` or `acme/platform`): its projects
    /// (`GET /groups/:id/projects`).
    pub group: Option<String>,
    /// Include the projects of the group's subgroups; default `true`.
    pub include_subgroups: Option<bool>,
    /// Only projects with every one of these topics.
    pub topics: Option<Vec<String>>,
    /// Only projects GitLab's search finds by this text (name, path, description).
    pub search: Option<String>,
    /// Only projects whose `group/.../name` matches this regex.
    pub include: Option<String>,
    /// Leave out projects whose `group/.../name` matches this regex.
    pub exclude: Option<String>,
    /// Include archived projects; default `false`. They are read-only, so a run on them
    /// cannot be pushed.
    pub archived: Option<bool>,
    /// Include forks; default `false`.
    pub forks: Option<bool>,
    /// At most this many projects (the first by path), after every filter.
    pub limit: Option<u32>,
}

/// A `gitea:` entry of `repos:`: exactly one of `org` or `user`, and optional filters (all
/// must hold).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GiteaEntry {
    /// The Gitea or Forgejo host, with its port if it has one (`git.corp.example`), listed
    /// under `gitea.hosts`; required unless exactly one host is listed there.
    pub host: Option<String>,
    /// An organisation: its repositories (`GET /orgs/{org}/repos`).
    pub org: Option<String>,
    /// A user: the repositories they own (`GET /users/{username}/repos`).
    pub user: Option<String>,
    /// Only repositories with every one of these topics.
    pub topics: Option<Vec<String>>,
    /// Only repositories Gitea's search finds by this text (`GET /repos/search?q=`).
    pub search: Option<String>,
    /// Only repositories whose `owner/name` matches this regex.
    pub include: Option<String>,
    /// Leave out repositories whose `owner/name` matches this regex.
    pub exclude: Option<String>,
    /// Include archived repositories; default `false`.
    pub archived: Option<bool>,
    /// Include forks; default `false`.
    pub forks: Option<bool>,
    /// At most this many repositories (the first by `owner/name`), after every filter.
    pub limit: Option<u32>,
}

/// A `github:` entry of `repos:`: exactly one of `org` or `user`, and optional filters (all
/// must hold).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GitHubEntry {
    /// An organisation: its repositories (`GET /orgs/{org}/repos`).
    pub org: Option<String>,
    /// A user: the repositories they own (`GET /users/{user}/repos`).
    pub user: Option<String>,
    /// Only repositories with every one of these topics.
    pub topics: Option<Vec<String>>,
    /// Only repositories a GitHub repository search finds, e.g. `language:rust stars:>10`
    /// (`org:`/`user:` and `topic:` qualifiers are added).
    pub search: Option<String>,
    /// Only repositories in which a GitHub code search finds a hit on the default branch,
    /// e.g. `"log::info!" language:rust` (the `org:`/`user:` qualifier is added).
    pub code_search: Option<String>,
    /// Only repositories whose `owner/name` matches this regex.
    pub include: Option<String>,
    /// Leave out repositories whose `owner/name` matches this regex.
    pub exclude: Option<String>,
    /// Include archived repositories; default `false`. They are read-only, so a run on them
    /// cannot be pushed.
    pub archived: Option<bool>,
    /// Include forks; default `false`.
    pub forks: Option<bool>,
    /// At most this many repositories (the first by `owner/name`), after every filter.
    pub limit: Option<u32>,
}

/// A variable's value; numbers and booleans are used as their text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum VarValue {
    /// Text.
    Text(String),
    /// An integer.
    Int(i64),
    /// A number.
    Float(f64),
    /// A boolean.
    Bool(bool),
}

impl VarValue {
    /// The value as template text.
    pub fn text(&self) -> String {
        match self {
            VarValue::Text(s) => s.clone(),
            VarValue::Int(i) => i.to_string(),
            VarValue::Float(f) => f.to_string(),
            VarValue::Bool(b) => b.to_string(),
        }
    }
}

/// How commits are written.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommitFile {
    /// The commit message, a template; default `{{ task }}`. Trailers naming the pipeline,
    /// task, run id and model are added automatically.
    pub message: Option<String>,
    /// The author, as `Name <email>`; default: `codefleet <codefleet@localhost>`.
    pub author: Option<String>,
}

/// A model provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProviderName {
    /// The OpenAI API, or any OpenAI-compatible server given by `base_url`.
    Openai,
    /// The Anthropic messages API.
    Anthropic,
    /// A local Ollama server.
    Ollama,
}

/// The edit format a model answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum EditFormatName {
    /// The format that suits the model best.
    Auto,
    /// SEARCH/REPLACE blocks, path above the fence.
    Diff,
    /// SEARCH/REPLACE blocks, path inside the fence.
    DiffFenced,
    /// Unified diffs.
    Udiff,
    /// Whole files.
    Whole,
    /// The `*** Begin Patch` format.
    Patch,
}

impl From<ProviderName> for crate::llm::Provider {
    fn from(name: ProviderName) -> Self {
        match name {
            ProviderName::Openai => crate::llm::Provider::Openai,
            ProviderName::Anthropic => crate::llm::Provider::Anthropic,
            ProviderName::Ollama => crate::llm::Provider::Ollama,
        }
    }
}

impl From<EditFormatName> for super::EditFormat {
    fn from(name: EditFormatName) -> Self {
        use super::EditFormat;
        use crate::coders::Format;
        match name {
            EditFormatName::Auto => EditFormat::Auto,
            EditFormatName::Diff => EditFormat::Format(Format::Diff),
            EditFormatName::DiffFenced => EditFormat::Format(Format::DiffFenced),
            EditFormatName::Udiff => EditFormat::Format(Format::Udiff),
            EditFormatName::Whole => EditFormat::Format(Format::Whole),
            EditFormatName::Patch => EditFormat::Format(Format::Patch),
        }
    }
}

/// A duration: `30s`, `10m`, `1h30m`, `500ms`, or plain seconds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DurationSpec {
    /// Seconds.
    Seconds(u64),
    /// Text such as `1h30m`.
    Text(String),
}

impl JsonSchema for DurationSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Duration".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A duration: `30s`, `10m`, `1h30m`, `500ms`, or plain seconds.",
            "type": ["string", "integer"],
            "minimum": 0
        })
    }
}

/// A size: `512KiB`, `1MiB`, `2MB`, or plain bytes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum SizeSpec {
    /// Bytes.
    Bytes(u64),
    /// Text such as `1MiB`.
    Text(String),
}

impl JsonSchema for SizeSpec {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Size".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "A size: `512KiB`, `1MiB`, `2MB` (1000-based), `10k`, or plain bytes.",
            "type": ["string", "integer"],
            "minimum": 0
        })
    }
}

/// Model settings for the whole pipeline.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ModelFile {
    /// Who serves the model.
    pub provider: Option<ProviderName>,
    /// The model's name, as the provider spells it (`gpt-4.1-mini`).
    pub name: Option<String>,
    /// The API's base URL, for OpenAI-compatible servers and proxies.
    pub base_url: Option<String>,
    /// The environment variable holding the API key; default: the provider's usual one
    /// (`OPENAI_API_KEY`, `ANTHROPIC_API_KEY`).
    pub api_key_env: Option<String>,
    /// The edit format the model answers in; default `auto`.
    pub edit_format: Option<EditFormatName>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// How long one request may take.
    pub timeout: Option<DurationSpec>,
    /// How often a reply whose edits failed to apply is sent back with the failures to fix;
    /// default 3.
    pub reflections: Option<u32>,
    /// Requests in flight at most; default 8.
    pub concurrency: Option<u32>,
    /// Hard limits for the whole run; the run stops cleanly when one is reached.
    pub budget: Option<BudgetFile>,
}

/// Model settings a task overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskModelFile {
    /// Who serves the model.
    pub provider: Option<ProviderName>,
    /// The model's name, as the provider spells it.
    pub name: Option<String>,
    /// The API's base URL, for OpenAI-compatible servers and proxies.
    pub base_url: Option<String>,
    /// The environment variable holding the API key.
    pub api_key_env: Option<String>,
    /// The edit format the model answers in.
    pub edit_format: Option<EditFormatName>,
    /// Sampling temperature.
    pub temperature: Option<f64>,
    /// How long one request may take.
    pub timeout: Option<DurationSpec>,
    /// How often a reply whose edits failed is sent back with the failures to fix.
    pub reflections: Option<u32>,
}

/// Hard limits on model use for a whole run.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetFile {
    /// Tokens (prompt plus completion) at most.
    pub max_tokens: Option<u64>,
    /// Model requests at most.
    pub max_requests: Option<u64>,
    /// Wall-clock time the model tasks may take in all.
    pub max_wall_time: Option<DurationSpec>,
}

/// What edits may touch.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyFile {
    /// Files larger than this are neither sent to a model nor edited; default `1MiB`.
    pub max_file_size: Option<SizeSpec>,
    /// Whether edits may create files; default true.
    pub allow_create: Option<bool>,
    /// Whether edits may delete files; default false.
    pub allow_delete: Option<bool>,
    /// Globs of files never read for a model and never edited, on top of the built-in ones
    /// (`**/.env`, `**/*.pem`, `**/.git/**`).
    pub deny: Option<Vec<String>>,
}

/// Pull requests opened with `--pr`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrFile {
    /// Title, a template; default `codefleet: {{ pipeline }}`.
    pub title: Option<String>,
    /// Body, a template. Besides `{{ pipeline }}`, `{{ run_id }}`, `{{ repo.name }}` and
    /// `{{ vars.NAME }}` it may use this repository's results: `{{ diffstat }}` (as `git diff
    /// --stat` from the base to the run branch), `{{ files }}` (the changed paths, a Markdown
    /// list), `{{ tasks }}` (each task and what it did), `{{ answers }}` (the `ask` tasks'
    /// answers) and `{{ checks }}` (the `check` tasks and how they ended). Default: the
    /// pipeline's description, then the tasks, checks, answers and diffstat.
    pub body: Option<String>,
    /// Open as a draft; default false.
    pub draft: Option<bool>,
    /// Labels to add.
    pub labels: Option<Vec<String>>,
    /// Reviewers to request.
    pub reviewers: Option<Vec<String>>,
    /// People to assign, by username (GitHub, GitLab and Gitea all take assignees).
    pub assignees: Option<Vec<String>>,
    /// Delete the run branch once the pull request merges: GitLab's merge request option
    /// `remove_source_branch`. GitHub and Gitea decide this per repository (their setting to
    /// delete head branches), so there it changes nothing. Default false.
    pub remove_source_branch: Option<bool>,
    /// What a re-run does when a person closed the run branch's pull request without merging
    /// it: `never` (default) leaves it closed and neither pushes nor opens one (reported as
    /// skipped), `always` opens a new one, `if-changed` reopens it when the change differs
    /// from the one closed. A merged pull request never blocks a new one.
    pub recreate: Option<RecreateName>,
    /// How the run branch's commits reach the remote (`--push`, `--pr`): `git` pushes them;
    /// `api` makes each one through GitHub's GraphQL API (`createCommitOnBranch`), so GitHub
    /// signs them and repositories that require signed commits accept them. Default `git`.
    pub commit_via: Option<CommitVia>,
}

/// `recreate:` whether a pull request a person closed is opened again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum RecreateName {
    /// Never: the person's decision stands.
    #[default]
    Never,
    /// Always: a new pull request is opened.
    Always,
    /// Reopen the closed one when the change differs from what was closed.
    IfChanged,
}

/// How the run branch's commits reach the remote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum CommitVia {
    /// A git push, with a lease on what codefleet last pushed.
    #[default]
    Git,
    /// One `createCommitOnBranch` mutation per commit, with `expectedHeadOid` as the lease:
    /// signed by GitHub. Files must be plain (no executable bit, symlink or submodule).
    Api,
}

/// `replace:` a deterministic find and replace, like fastmod or sd.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplaceFile {
    /// What to find: literal text, or a regular expression with `regex: true`. A template of
    /// `{{ vars.NAME }}`, `{{ pipeline }}` and `{{ task }}`; values are matched as written.
    pub find: String,
    /// The replacement, a template; with `regex: true`, `$1`/`${name}` insert capture groups.
    pub with: String,
    /// Treat `find` as a regular expression (Rust `regex` syntax); default false.
    pub regex: Option<bool>,
    /// Match letters regardless of case; default false.
    pub case_insensitive: Option<bool>,
    /// At most this many replacements per file; default: all.
    pub max_count: Option<u64>,
}

/// `per:` how a model task splits its work into requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PerName {
    /// One request per matching file.
    File,
    /// One request per repository, with all matching files.
    Repo,
}

/// What a failing `check:` does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFailName {
    /// Undo every change since the last passing check in this repository, check again, and
    /// go on; a check still failing then keeps the repository from being pushed.
    Revert,
    /// Stop this repository's run here, keeping the commits made so far (never pushed).
    Stop,
    /// Send the output to the model to fix, `fix.attempts` times, then revert.
    Fix,
}

/// `fix:` how a model repairs a failing check.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FixFile {
    /// How many fix rounds at most; default 2.
    pub attempts: Option<u32>,
}

/// One task. It has a `name` and exactly one kind: `replace`, `patch`, `edits`, `prompt` (or
/// `prompt_file`), `ask`, `run` or `check`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(extend("oneOf" = [
    {"required": ["replace"]}, {"required": ["patch"]}, {"required": ["edits"]},
    {"required": ["prompt"]}, {"required": ["prompt_file"]}, {"required": ["ask"]},
    {"required": ["run"]}, {"required": ["check"]}
]))]
pub struct TaskFile {
    /// The task's name, unique in the pipeline; the default commit message.
    pub name: String,
    /// Globs of the files the task works on, relative to the repository root; default: every
    /// file git does not ignore.
    pub files: Option<Vec<String>>,
    /// Globs of files left out even when `files` matches them.
    pub exclude: Option<Vec<String>>,
    /// Kind `replace`: a deterministic find and replace in every matching file.
    pub replace: Option<ReplaceFile>,
    /// Kind `patch`: a unified diff file to apply, with flexible matching; relative to the
    /// pipeline file's directory.
    pub patch: Option<String>,
    /// Kind `edits`: a file of edits in an edit format (SEARCH/REPLACE blocks by default),
    /// relative to the pipeline file's directory.
    pub edits: Option<String>,
    /// The edit format of the `edits:` file; default: detected from its text.
    pub format: Option<EditFormatName>,
    /// Kind `prompt`: an instruction a model carries out by editing the files; a template.
    pub prompt: Option<String>,
    /// Kind `prompt`, read from a file relative to the pipeline file's directory; a template.
    pub prompt_file: Option<String>,
    /// Kind `ask`: a question a model answers into the report; no edits.
    pub ask: Option<String>,
    /// For `prompt` and `ask` with `files`: one request per `file` (default) or per `repo`.
    pub per: Option<PerName>,
    /// Kind `run`: a shell command run in a temporary worktree; what it changes is committed.
    pub run: Option<String>,
    /// Kind `check`: a shell command that must succeed; see `on_fail`.
    pub check: Option<String>,
    /// For `check`: what a failure does; default `fix` when `fix` is given, else `revert`.
    pub on_fail: Option<OnFailName>,
    /// For `check`: how a model fixes a failure.
    pub fix: Option<FixFile>,
    /// For `run` and `check`: environment variables added for the command.
    pub env: Option<BTreeMap<String, String>>,
    /// For `run` and `check`: the directory to run in, relative to the repository root.
    pub cwd: Option<String>,
    /// For `run` and `check`: how long the command may take; default `10m`.
    pub timeout: Option<DurationSpec>,
    /// For `run` and `check`: the shell that runs the command (with `-c` added unless it ends
    /// with it); default `bash -eo pipefail -c`, or `sh -e -c` where bash is missing.
    pub shell: Option<String>,
    /// For `run` and `check`: how many repositories run the command at once; default: all
    /// workers.
    pub concurrency: Option<u32>,
    /// Model settings for this task, over the pipeline's `model:`.
    pub model: Option<TaskModelFile>,
    /// For tasks that send files to a model: send text that looks like a private key or a
    /// cloud credential anyway (reported); default `false`, such files are refused.
    pub allow_secrets: Option<bool>,
    /// Kinds `prompt` and `edits`: a whole-file listing (a model's reply, or a reviewed edits
    /// file) may drop more than half of a file's lines (the removal is meant); default
    /// `false`, such a listing is refused as not the whole file.
    pub allow_shrink: Option<bool>,
    /// For `replace`, `patch`, `edits` and `prompt`: what an edit that fails takes down with
    /// it. `task`: the whole task commits nothing (default for `patch`, as `git apply`);
    /// `file`: that file keeps none of the task's edits, the other files are committed
    /// (default for the others: no file is ever left half-edited); `none`: whatever applied
    /// is committed. Anything short of the whole task shows as `partial` (exit 1).
    pub atomic: Option<AtomicName>,
}

/// `atomic:` the unit that applies whole or not at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AtomicName {
    /// One failed edit and the task commits nothing.
    Task,
    /// One failed edit and its file keeps none of the task's edits; other files are committed.
    File,
    /// Whatever applied is committed, even part of a file's edits.
    None,
}

/// The JSON Schema of the pipeline format (JSON Schema 2020-12), generated from these types.
pub fn schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<PipelineFile>();
    serde_json::to_value(&schema).unwrap_or_default()
}
