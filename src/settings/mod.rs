//! Resolved settings and where each value came from: defaults < user config < repository
//! `.codefleet.yml` < profile < `CODEFLEET_*` environment < flags.
//!
//! The CLI builds one [`Settings`] per invocation with [`Settings::resolve`] and hands it to the
//! commands; the core never reads config files or the environment itself. Config files are read
//! with serde-saphyr; unknown keys and bad values are [`Error`]s with file, line and column.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Place, closest};
pub use crate::llm::{CacheMode, Provider};
pub use crate::pipeline::EditFormat;

mod env;
mod errors;
mod file;

pub use errors::SettingsError;

use env::{EnvParse, env_layers, named};
use file::{FileLayer, read_config};

/// Where a resolved value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Built into codefleet.
    Default,
    /// The user config file (`~/.config/codefleet/config.yml`, or `--config`).
    UserConfig(PathBuf),
    /// The repository's `.codefleet.yml`.
    RepoConfig(PathBuf),
    /// A named profile, defined in this file.
    Profile {
        /// The profile name (`--profile NAME`).
        name: String,
        /// The config file that defines it.
        file: PathBuf,
    },
    /// A `CODEFLEET_*` environment variable.
    Env(&'static str),
    /// A command-line flag, such as `--jobs`.
    Flag(&'static str),
}

impl Source {
    /// A one-word kind, for JSON output: `default`, `user`, `repo`, `profile`, `env`, `flag`.
    pub fn kind(&self) -> &'static str {
        match self {
            Source::Default => "default",
            Source::UserConfig(_) => "user",
            Source::RepoConfig(_) => "repo",
            Source::Profile { .. } => "profile",
            Source::Env(_) => "env",
            Source::Flag(_) => "flag",
        }
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::UserConfig(p) => write!(f, "user config {}", p.display()),
            Source::RepoConfig(p) => write!(f, "repo config {}", p.display()),
            Source::Profile { name, file } => {
                write!(f, "profile {name} in {}", file.display())
            }
            Source::Env(var) => write!(f, "env {var}"),
            Source::Flag(flag) => write!(f, "flag {flag}"),
        }
    }
}

/// A resolved value and its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Value<T> {
    /// The value in effect.
    pub value: T,
    /// The layer that set it.
    pub source: Source,
}

/// `color`: when stderr is coloured. `NO_COLOR` is honoured under `auto`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ColorMode {
    /// Colour on a terminal unless `NO_COLOR` is set.
    Auto,
    /// Always colour.
    Always,
    /// Never colour.
    Never,
}

/// `github.clone`: how repositories found through GitHub's API are cloned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GitHubClone {
    /// Over https, from the API's `clone_url`, with the token (`github.token_env`).
    Https,
    /// Over ssh, from the API's `ssh_url`, with the ssh agent's keys.
    Ssh,
}

/// One host of a forge: an entry of `github.hosts`, `gitlab.hosts` or `gitea.hosts`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForgeHost {
    /// The host as clone URLs name it, with its port when it has one (`gitlab.corp`,
    /// `127.0.0.1:8080`), lower-cased.
    pub host: String,
    /// Its API's base URL (default `https://HOST/api/v3` on GitHub Enterprise, `/api/v4` on
    /// GitLab, `/api/v1` on Gitea).
    pub api_url: String,
    /// The environment variable holding its token (default the forge's: `GITHUB_TOKEN`,
    /// `GITLAB_TOKEN`, `GITEA_TOKEN`).
    pub token_env: String,
    /// Where the entry is written, for errors.
    pub place: Option<Place>,
}

impl fmt::Display for ForgeHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, ${})", self.host, self.api_url, self.token_env)
    }
}

/// `log_format`: how log lines on stderr look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// `verbosity`: how much is logged (`-q`, `-v`, `-vv`, `-vvv`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verbosity {
    /// Errors only.
    Quiet,
    /// Warnings and errors.
    Normal,
    /// Progress details.
    Verbose,
    /// Debugging.
    Debug,
    /// Everything.
    Trace,
}

impl Verbosity {
    /// The `tracing` level name this verbosity maps to.
    pub fn level(self) -> &'static str {
        match self {
            Verbosity::Quiet => "error",
            Verbosity::Normal => "warn",
            Verbosity::Verbose => "info",
            Verbosity::Debug => "debug",
            Verbosity::Trace => "trace",
        }
    }
}

macro_rules! names {
    ($t:ty { $($v:ident => $n:literal),* $(,)? }) => {
        impl $t {
            /// Every accepted name, in documentation order.
            pub const NAMES: &'static [&'static str] = &[$($n),*];
            /// The name as written in config files and flags.
            pub fn name(self) -> &'static str {
                match self { $(<$t>::$v => $n),* }
            }
            /// Parses a name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($n => Some(<$t>::$v),)* _ => None }
            }
            fn parse_env(s: &str) -> EnvParse<Self> {
                named(s, Self::from_name, Self::NAMES)
            }
        }
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

names!(ColorMode { Auto => "auto", Always => "always", Never => "never" });
names!(LogFormat { Text => "text", Json => "json" });
names!(GitHubClone { Https => "https", Ssh => "ssh" });
names!(Verbosity {
    Quiet => "quiet", Normal => "normal", Verbose => "verbose", Debug => "debug", Trace => "trace"
});

/// Every setting, resolved, each with its source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Worker threads.
    pub jobs: Value<usize>,
    /// When to colour stderr.
    pub color: Value<ColorMode>,
    /// Log line format.
    pub log_format: Value<LogFormat>,
    /// How much is logged.
    pub verbosity: Value<Verbosity>,
    /// Model provider.
    pub model_provider: Value<Provider>,
    /// Model name; unset means a pipeline must name one.
    pub model_name: Value<Option<String>>,
    /// Provider base URL; unset means the provider's default.
    pub model_base_url: Value<Option<String>>,
    /// Edit format for model tasks.
    pub model_edit_format: Value<EditFormat>,
    /// Model requests in flight at most.
    pub model_concurrency: Value<usize>,
    /// Where the response and clone caches live.
    pub cache_dir: Value<PathBuf>,
    /// How the response cache is used.
    pub cache_mode: Value<CacheMode>,
    /// GitHub API URL (GitHub Enterprise uses its own).
    pub github_api_url: Value<String>,
    /// The environment variable holding the GitHub token (never the token itself).
    pub github_token_env: Value<String>,
    /// How discovered repositories are cloned (`clone_url` or `ssh_url`).
    pub github_clone: Value<GitHubClone>,
    /// GitHub Enterprise Server hosts, each with its API URL and token variable.
    pub github_hosts: Value<Vec<ForgeHost>>,
    /// gitlab.com's API URL.
    pub gitlab_api_url: Value<String>,
    /// The environment variable holding the gitlab.com token (never the token itself).
    pub gitlab_token_env: Value<String>,
    /// Self-managed GitLab hosts.
    pub gitlab_hosts: Value<Vec<ForgeHost>>,
    /// Gitea and Forgejo hosts.
    pub gitea_hosts: Value<Vec<ForgeHost>>,
    /// The run branch name template when a pipeline has no `branch:`.
    pub default_branch_template: Value<String>,
    /// Commit author when a pipeline has no `commit.author`.
    pub author: Value<String>,
    /// The user config file consulted, and whether it exists.
    pub user_config: Option<(PathBuf, bool)>,
    /// The repository config file consulted, and whether it exists.
    pub repo_config: Option<(PathBuf, bool)>,
    /// The selected profile.
    pub profile: Option<String>,
}

/// What the command line said; `None`/`false` means "not given". Built by `cli/` from its clap
/// types, so this module never sees clap.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    /// `--config FILE`.
    pub config: Option<PathBuf>,
    /// `--profile NAME`.
    pub profile: Option<String>,
    /// `--jobs N`.
    pub jobs: Option<usize>,
    /// `--color WHEN`.
    pub color: Option<ColorMode>,
    /// `--log-format FORMAT`.
    pub log_format: Option<LogFormat>,
    /// `-v` count.
    pub verbose: u8,
    /// `-q`.
    pub quiet: bool,
}

/// Everything resolution reads besides files: the directory, the environment, the flags.
pub struct Inputs<'a> {
    /// The current directory; the repository config is found from here.
    pub cwd: PathBuf,
    /// Environment lookup (the process environment, or a map in tests).
    pub env: &'a dyn Fn(&str) -> Option<String>,
    /// The command line.
    pub flags: Flags,
}

impl Settings {
    /// Resolves settings from the process environment and the current directory.
    pub fn from_process(flags: Flags) -> Result<Settings, Error> {
        let cwd =
            std::env::current_dir().map_err(|e| SettingsError::NoCwd { why: e.to_string() })?;
        let env = |k: &str| std::env::var(k).ok();
        Settings::resolve(&Inputs {
            cwd,
            env: &env,
            flags,
        })
    }

    /// Resolves every setting through the layers, in order.
    pub fn resolve(inputs: &Inputs<'_>) -> Result<Settings, Error> {
        let env = inputs.env;
        let home = env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
        let flags = &inputs.flags;

        let mut layers: Vec<(Source, Partial)> = vec![(Source::Default, defaults(env, &home))];

        // The user file: --config / CODEFLEET_CONFIG replaces the default location, and then
        // must exist.
        let explicit = flags.config.clone().or_else(|| {
            env("CODEFLEET_CONFIG")
                .filter(|v| !v.is_empty())
                .map(PathBuf::from)
        });
        let user_path = match &explicit {
            Some(p) => Some(inputs.cwd.join(p)),
            None => user_config_path(env, &home),
        };
        let mut files: Vec<(PathBuf, FileLayer, Source)> = Vec::new();
        let mut user_config = None;
        if let Some(path) = user_path {
            let shown = explicit.clone().unwrap_or_else(|| path.clone());
            match read_config(&path, &shown, explicit.is_some())? {
                Some(file) => {
                    user_config = Some((shown.clone(), true));
                    files.push((shown.clone(), file, Source::UserConfig(shown)));
                }
                None => user_config = Some((shown, false)),
            }
        }
        let mut repo_config = None;
        if let Some(root) = repo_root(&inputs.cwd) {
            let path = root.join(".codefleet.yml");
            match read_config(&path, &path, false)? {
                Some(file) => {
                    repo_config = Some((path.clone(), true));
                    files.push((path.clone(), file, Source::RepoConfig(path)));
                }
                None => repo_config = Some((path, false)),
            }
        }
        for (path, file, source) in &files {
            layers.push((source.clone(), file.to_partial(path, &home)?));
        }

        let profile = flags
            .profile
            .clone()
            .or_else(|| env("CODEFLEET_PROFILE").filter(|v| !v.is_empty()));
        if let Some(name) = &profile {
            let mut found = false;
            for (path, file, _) in &files {
                if let Some(p) = file.profiles.as_ref().and_then(|m| m.value.get(name)) {
                    found = true;
                    let source = Source::Profile {
                        name: name.clone(),
                        file: path.clone(),
                    };
                    layers.push((source, p.to_partial(path, &home)?));
                }
            }
            if !found {
                return Err(unknown_profile(name, &files));
            }
        }

        layers.extend(env_layers(env, &inputs.cwd)?);
        layers.extend(flag_layers(flags));

        macro_rules! pick {
            ($field:ident) => {{
                let mut out = None;
                for (source, p) in &layers {
                    if let Some(v) = &p.$field {
                        out = Some(Value {
                            value: v.clone(),
                            source: source.clone(),
                        });
                    }
                }
                // Every field has a value in the defaults layer or is an Option there.
                out
            }};
        }
        macro_rules! must {
            ($field:ident) => {
                pick!($field).ok_or_else(|| internal(stringify!($field)))?
            };
        }
        macro_rules! maybe {
            ($field:ident) => {
                match pick!($field) {
                    Some(v) => Value {
                        value: Some(v.value),
                        source: v.source,
                    },
                    None => Value {
                        value: None,
                        source: Source::Default,
                    },
                }
            };
        }

        let settings = Settings {
            jobs: must!(jobs),
            color: must!(color),
            log_format: must!(log_format),
            verbosity: must!(verbosity),
            model_provider: must!(model_provider),
            model_name: maybe!(model_name),
            model_base_url: maybe!(model_base_url),
            model_edit_format: must!(model_edit_format),
            model_concurrency: must!(model_concurrency),
            cache_dir: must!(cache_dir),
            cache_mode: must!(cache_mode),
            github_api_url: must!(github_api_url),
            github_token_env: must!(github_token_env),
            github_clone: must!(github_clone),
            github_hosts: must!(github_hosts),
            gitlab_api_url: must!(gitlab_api_url),
            gitlab_token_env: must!(gitlab_token_env),
            gitlab_hosts: must!(gitlab_hosts),
            gitea_hosts: must!(gitea_hosts),
            default_branch_template: must!(default_branch_template),
            author: must!(author),
            user_config,
            repo_config,
            profile,
        };
        settings.check_hosts()?;
        Ok(settings)
    }

    /// Each host runs one forge: a host listed under two forges' `hosts` (or github.com and
    /// gitlab.com, which are built in, under another forge's) is refused.
    fn check_hosts(&self) -> Result<(), Error> {
        let mut seen: Vec<(&str, String)> = vec![
            ("github.com", "github.com (built in)".to_string()),
            ("gitlab.com", "gitlab.com (built in)".to_string()),
        ];
        let lists = [
            ("github.hosts", &self.github_hosts.value),
            ("gitlab.hosts", &self.gitlab_hosts.value),
            ("gitea.hosts", &self.gitea_hosts.value),
        ];
        for (key, hosts) in lists {
            for h in hosts {
                let builtin = match h.host.as_str() {
                    "github.com" => key == "github.hosts",
                    "gitlab.com" => key == "gitlab.hosts",
                    _ => false,
                };
                let first = seen.iter().find(|(host, _)| *host == h.host);
                if let Some((_, first)) = first.filter(|_| !builtin) {
                    return Err(SettingsError::HostTwice {
                        host: h.host.clone(),
                        first: first.clone(),
                        second: key.to_string(),
                        place: h.place.clone(),
                    }
                    .into());
                }
                seen.push((h.host.as_str(), key.to_string()));
            }
        }
        Ok(())
    }

    /// Every setting as `(key, value, source)`, in a stable order, for display.
    pub fn entries(&self) -> Vec<(&'static str, Shown, &Source)> {
        fn text<T: fmt::Display>(v: &Value<T>) -> Shown {
            Shown::Text(v.value.to_string())
        }
        fn opt(v: &Value<Option<String>>) -> Shown {
            v.value.clone().map_or(Shown::Unset, Shown::Text)
        }
        fn list(v: &Value<Vec<ForgeHost>>) -> Shown {
            Shown::List(v.value.iter().map(ToString::to_string).collect())
        }
        vec![
            ("jobs", Shown::Number(self.jobs.value), &self.jobs.source),
            ("color", text(&self.color), &self.color.source),
            (
                "log_format",
                text(&self.log_format),
                &self.log_format.source,
            ),
            ("verbosity", text(&self.verbosity), &self.verbosity.source),
            (
                "model.provider",
                text(&self.model_provider),
                &self.model_provider.source,
            ),
            ("model.name", opt(&self.model_name), &self.model_name.source),
            (
                "model.base_url",
                opt(&self.model_base_url),
                &self.model_base_url.source,
            ),
            (
                "model.edit_format",
                text(&self.model_edit_format),
                &self.model_edit_format.source,
            ),
            (
                "model.concurrency",
                Shown::Number(self.model_concurrency.value),
                &self.model_concurrency.source,
            ),
            (
                "cache.dir",
                Shown::Text(self.cache_dir.value.display().to_string()),
                &self.cache_dir.source,
            ),
            (
                "cache.mode",
                text(&self.cache_mode),
                &self.cache_mode.source,
            ),
            (
                "github.api_url",
                text(&self.github_api_url),
                &self.github_api_url.source,
            ),
            (
                "github.token_env",
                text(&self.github_token_env),
                &self.github_token_env.source,
            ),
            (
                "github.clone",
                text(&self.github_clone),
                &self.github_clone.source,
            ),
            (
                "github.hosts",
                list(&self.github_hosts),
                &self.github_hosts.source,
            ),
            (
                "gitlab.api_url",
                text(&self.gitlab_api_url),
                &self.gitlab_api_url.source,
            ),
            (
                "gitlab.token_env",
                text(&self.gitlab_token_env),
                &self.gitlab_token_env.source,
            ),
            (
                "gitlab.hosts",
                list(&self.gitlab_hosts),
                &self.gitlab_hosts.source,
            ),
            (
                "gitea.hosts",
                list(&self.gitea_hosts),
                &self.gitea_hosts.source,
            ),
            (
                "default_branch_template",
                text(&self.default_branch_template),
                &self.default_branch_template.source,
            ),
            ("author", text(&self.author), &self.author.source),
        ]
    }
}

/// A setting's value for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// Text.
    Text(String),
    /// A count.
    Number(usize),
    /// Not set.
    Unset,
    /// A list (of hosts), each item as text.
    List(Vec<String>),
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Text(t) => f.write_str(t),
            Shown::Number(n) => write!(f, "{n}"),
            Shown::Unset => f.write_str("(unset)"),
            Shown::List(items) if items.is_empty() => f.write_str("(none)"),
            Shown::List(items) => f.write_str(&items.join(", ")),
        }
    }
}

fn internal(field: &'static str) -> Error {
    SettingsError::NoDefault { field }.into()
}

/// One layer's values; `None` means the layer leaves the key alone.
#[derive(Debug, Clone, Default)]
struct Partial {
    jobs: Option<usize>,
    color: Option<ColorMode>,
    log_format: Option<LogFormat>,
    verbosity: Option<Verbosity>,
    model_provider: Option<Provider>,
    model_name: Option<String>,
    model_base_url: Option<String>,
    model_edit_format: Option<EditFormat>,
    model_concurrency: Option<usize>,
    cache_dir: Option<PathBuf>,
    cache_mode: Option<CacheMode>,
    github_api_url: Option<String>,
    github_token_env: Option<String>,
    github_clone: Option<GitHubClone>,
    github_hosts: Option<Vec<ForgeHost>>,
    gitlab_api_url: Option<String>,
    gitlab_token_env: Option<String>,
    gitlab_hosts: Option<Vec<ForgeHost>>,
    gitea_hosts: Option<Vec<ForgeHost>>,
    default_branch_template: Option<String>,
    author: Option<String>,
}

fn defaults(env: &dyn Fn(&str) -> Option<String>, home: &Option<PathBuf>) -> Partial {
    let jobs = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let cache_dir = match (env("XDG_CACHE_HOME").filter(|v| !v.is_empty()), home) {
        (Some(x), _) => PathBuf::from(x).join("codefleet"),
        (None, Some(h)) => h.join(".cache").join("codefleet"),
        (None, None) => std::env::temp_dir().join("codefleet-cache"),
    };
    Partial {
        jobs: Some(jobs),
        color: Some(ColorMode::Auto),
        log_format: Some(LogFormat::Text),
        verbosity: Some(Verbosity::Normal),
        model_provider: Some(Provider::Openai),
        model_name: None,
        model_base_url: None,
        model_edit_format: Some(EditFormat::Auto),
        model_concurrency: Some(8),
        cache_dir: Some(cache_dir),
        cache_mode: Some(CacheMode::ReadWrite),
        github_api_url: Some("https://api.github.com".to_string()),
        github_token_env: Some("GITHUB_TOKEN".to_string()),
        github_clone: Some(GitHubClone::Https),
        github_hosts: Some(Vec::new()),
        gitlab_api_url: Some("https://gitlab.com/api/v4".to_string()),
        gitlab_token_env: Some("GITLAB_TOKEN".to_string()),
        gitlab_hosts: Some(Vec::new()),
        gitea_hosts: Some(Vec::new()),
        default_branch_template: Some("codefleet/{{ pipeline }}".to_string()),
        author: Some("codefleet <codefleet@localhost>".to_string()),
    }
}

/// `$XDG_CONFIG_HOME/codefleet/config.yml`, else `$HOME/.config/codefleet/config.yml`.
fn user_config_path(
    env: &dyn Fn(&str) -> Option<String>,
    home: &Option<PathBuf>,
) -> Option<PathBuf> {
    // XDG says a relative XDG_CONFIG_HOME is invalid and must be ignored.
    let xdg = env("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    match (xdg, home) {
        (Some(x), _) => Some(x.join("codefleet").join("config.yml")),
        (None, Some(h)) => Some(h.join(".config").join("codefleet").join("config.yml")),
        (None, None) => None,
    }
}

/// The top of the git working tree holding `dir`: the nearest ancestor with a `.git` entry
/// (a directory, or a file for linked worktrees and submodules).
pub fn repo_root(dir: &Path) -> Option<PathBuf> {
    dir.ancestors()
        .find(|d| d.join(".git").symlink_metadata().is_ok())
        .map(Path::to_path_buf)
}

/// Reads and parses a config file; `Ok(None)` when it does not exist and need not.
fn unknown_profile(name: &str, files: &[(PathBuf, FileLayer, Source)]) -> Error {
    let mut known: Vec<&str> = files
        .iter()
        .flat_map(|(_, f, _)| f.profiles.iter().flat_map(|m| m.value.keys()))
        .map(String::as_str)
        .collect();
    known.sort_unstable();
    known.dedup();
    let hint = if known.is_empty() {
        "no profiles are defined; add one under `profiles:` in a config file".to_string()
    } else {
        let list = known
            .iter()
            .map(|k| format!("`{k}`"))
            .collect::<Vec<_>>()
            .join(", ");
        match closest(name, known.iter().copied()) {
            Some(c) => format!("did you mean `{c}`? known profiles: {list}"),
            None => format!("known profiles: {list}"),
        }
    };
    SettingsError::UnknownProfile {
        name: name.to_string(),
        hint,
    }
    .into()
}

/// One layer per `CODEFLEET_*` variable set, so each value names its own variable.
fn flag_layers(flags: &Flags) -> Vec<(Source, Partial)> {
    let mut out = Vec::new();
    if let Some(jobs) = flags.jobs {
        out.push((
            Source::Flag("--jobs"),
            Partial {
                jobs: Some(jobs),
                ..Partial::default()
            },
        ));
    }
    if let Some(color) = flags.color {
        out.push((
            Source::Flag("--color"),
            Partial {
                color: Some(color),
                ..Partial::default()
            },
        ));
    }
    if let Some(log_format) = flags.log_format {
        out.push((
            Source::Flag("--log-format"),
            Partial {
                log_format: Some(log_format),
                ..Partial::default()
            },
        ));
    }
    let verbosity = match (flags.quiet, flags.verbose) {
        (true, _) => Some((Verbosity::Quiet, "-q")),
        (false, 0) => None,
        (false, 1) => Some((Verbosity::Verbose, "-v")),
        (false, 2) => Some((Verbosity::Debug, "-vv")),
        (false, _) => Some((Verbosity::Trace, "-vvv")),
    };
    if let Some((v, flag)) = verbosity {
        out.push((
            Source::Flag(flag),
            Partial {
                verbosity: Some(v),
                ..Partial::default()
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve(vars: &[(&str, &str)], flags: Flags) -> Result<Settings, Error> {
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", &e))?;
        let home = dir.path().to_string_lossy().into_owned();
        let env = |k: &str| {
            if k == "HOME" {
                return Some(home.clone());
            }
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        };
        Settings::resolve(&Inputs {
            cwd: dir.path().to_path_buf(),
            env: &env,
            flags,
        })
    }

    #[test]
    fn flags_beat_the_environment() {
        let s = resolve(
            &[("CODEFLEET_JOBS", "3"), ("CODEFLEET_COLOR", "always")],
            Flags {
                jobs: Some(5),
                ..Flags::default()
            },
        )
        .unwrap();
        assert_eq!(s.jobs.value, 5);
        assert_eq!(s.jobs.source, Source::Flag("--jobs"));
        assert_eq!(s.color.value, ColorMode::Always);
        assert_eq!(s.color.source, Source::Env("CODEFLEET_COLOR"));
        assert_eq!(s.model_name.value, None);
        assert_eq!(s.model_name.source, Source::Default);
    }

    #[test]
    fn verbosity_flags_map_to_levels() {
        let level = |verbose, quiet| {
            let flags = Flags {
                verbose,
                quiet,
                ..Flags::default()
            };
            let s = resolve(&[("CODEFLEET_VERBOSITY", "trace")], flags).unwrap();
            (s.verbosity.value.level(), s.verbosity.source.to_string())
        };
        assert_eq!(level(0, false), ("trace", "env CODEFLEET_VERBOSITY".into()));
        assert_eq!(level(1, false), ("info", "flag -v".into()));
        assert_eq!(level(2, false), ("debug", "flag -vv".into()));
        assert_eq!(level(0, true), ("error", "flag -q".into()));
    }

    #[test]
    fn empty_env_values_count_as_unset() {
        let s = resolve(&[("CODEFLEET_JOBS", "")], Flags::default()).unwrap();
        assert_eq!(s.jobs.source, Source::Default);
    }
}
