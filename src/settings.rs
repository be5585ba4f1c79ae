//! Resolved settings and where each value came from: defaults < user config < repository
//! `.codefleet.yml` < profile < `CODEFLEET_*` environment < flags.
//!
//! The CLI builds one [`Settings`] per invocation with [`Settings::resolve`] and hands it to the
//! commands; the core never reads config files or the environment itself. Config files are read
//! with serde-saphyr; unknown keys and bad values are [`Error`]s with file, line and column.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{MessageFormatter, Spanned};

use crate::error::{Error, Place, closest};

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

/// `model.provider`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI, or any OpenAI-compatible server at `base_url`.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// A local Ollama server.
    Ollama,
}

/// `cache.mode`: how the model response cache is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Read cached responses and store new ones.
    ReadWrite,
    /// Read cached responses; store nothing.
    ReadOnly,
    /// Ignore cached responses and store fresh ones.
    Refresh,
    /// No cache.
    Off,
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
names!(Verbosity {
    Quiet => "quiet", Normal => "normal", Verbose => "verbose", Debug => "debug", Trace => "trace"
});
names!(Provider { Openai => "openai", Anthropic => "anthropic", Ollama => "ollama" });
names!(CacheMode {
    ReadWrite => "read-write", ReadOnly => "read-only", Refresh => "refresh", Off => "off"
});

/// The edit format names `model.edit_format` accepts.
pub const EDIT_FORMATS: &[&str] = &["auto", "diff", "diff-fenced", "udiff", "whole", "patch"];

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
    /// Edit format for model tasks (`auto` or a format name).
    pub model_edit_format: Value<String>,
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
        let cwd = std::env::current_dir()
            .map_err(|e| Error::new("E030", format!("cannot read the current directory: {e}")))?;
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

        Ok(Settings {
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
            default_branch_template: must!(default_branch_template),
            author: must!(author),
            user_config,
            repo_config,
            profile,
        })
    }

    /// Every setting as `(key, value, source)`, in a stable order, for display.
    pub fn entries(&self) -> Vec<(&'static str, Shown, &Source)> {
        fn text<T: fmt::Display>(v: &Value<T>) -> Shown {
            Shown::Text(v.value.to_string())
        }
        fn opt(v: &Value<Option<String>>) -> Shown {
            v.value.clone().map_or(Shown::Unset, Shown::Text)
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
}

impl fmt::Display for Shown {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shown::Text(t) => f.write_str(t),
            Shown::Number(n) => write!(f, "{n}"),
            Shown::Unset => f.write_str("(unset)"),
        }
    }
}

fn internal(field: &str) -> Error {
    Error::new(
        "E039",
        format!("internal: no default for setting `{field}`"),
    )
    .hint("this is a bug in codefleet; please report it")
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
    model_edit_format: Option<String>,
    model_concurrency: Option<usize>,
    cache_dir: Option<PathBuf>,
    cache_mode: Option<CacheMode>,
    github_api_url: Option<String>,
    github_token_env: Option<String>,
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
        model_edit_format: Some("auto".to_string()),
        model_concurrency: Some(8),
        cache_dir: Some(cache_dir),
        cache_mode: Some(CacheMode::ReadWrite),
        github_api_url: Some("https://api.github.com".to_string()),
        github_token_env: Some("GITHUB_TOKEN".to_string()),
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
fn read_config(path: &Path, shown: &Path, must_exist: bool) -> Result<Option<FileLayer>, Error> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            Error::new(
                "E030",
                format!("config file `{}` is not UTF-8", shown.display()),
            )
            .in_file(shown)
            .hint("save it as UTF-8 text")
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(Error::new(
                "E030",
                format!("config file `{}` does not exist", shown.display()),
            )
            .in_file(shown)
            .hint("check the --config flag or CODEFLEET_CONFIG"));
        }
        Err(e) => return Err(Error::io(shown, &e)),
    };
    parse_config(shown, &text).map(Some)
}

/// Parses the text of a config file named `path` (for error places).
fn parse_config(path: &Path, text: &str) -> Result<FileLayer, Error> {
    // An empty file, or one holding only comments, is an empty config.
    let only_comments = text
        .lines()
        .all(|l| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim() == "---");
    if only_comments {
        return Ok(FileLayer::default());
    }
    let mut file: FileLayer =
        serde_saphyr::from_str(text).map_err(|e| yaml_error(path, text, &e))?;
    file.text = text.to_string();
    let profiles = file.profiles.iter_mut().flat_map(|m| m.value.iter_mut());
    for (name, profile) in profiles {
        profile.text = text.to_string();
        if let Some(nested) = &profile.profiles {
            return Err(Error::new(
                "E031",
                format!("profile `{name}` defines `profiles`; profiles do not nest"),
            )
            .at(spanned_place(path, text, nested, 1))
            .hint("move these profiles to the top level of the file"));
        }
    }
    Ok(file)
}

fn spanned_place<T>(path: &Path, text: &str, s: &Spanned<T>, width: usize) -> Place {
    let loc = s.referenced;
    Place::at(
        path,
        text,
        loc.line() as usize,
        loc.column() as usize,
        width,
    )
}

/// Turns a serde-saphyr error into codefleet's error, with the place and a did-you-mean.
fn yaml_error(path: &Path, text: &str, err: &serde_saphyr::Error) -> Error {
    use serde_saphyr::Error as E;
    let inner = err.without_snippet();
    let (line, column) = err
        .location()
        .map(|l| (l.line() as usize, l.column() as usize))
        .unwrap_or((0, 0));
    let (code, message, width, hint) = match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => {
            let hint = match closest(field, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("known keys: {}", expected.join(", ")),
            };
            (
                "E031",
                format!("unknown key `{field}`"),
                field.chars().count(),
                hint,
            )
        }
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => {
            let hint = match closest(variant, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("expected one of: {}", expected.join(", ")),
            };
            (
                "E032",
                format!("unknown value `{variant}`"),
                variant.chars().count(),
                hint,
            )
        }
        other => {
            let message = serde_saphyr::DefaultMessageFormatter.format_message(other);
            (
                "E032",
                format!("invalid config: {message}"),
                1,
                "see `codefleet config --help` for the keys and their values".to_string(),
            )
        }
    };
    let place = if line > 0 {
        Place::at(path, text, line, column, width)
    } else {
        Place::file(path)
    };
    Error::new(code, message).at(place).hint(hint)
}

/// The serde mirror of a config file (and of one profile in it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileLayer {
    jobs: Option<Spanned<usize>>,
    color: Option<ColorMode>,
    log_format: Option<LogFormat>,
    verbosity: Option<Verbosity>,
    model: Option<ModelFile>,
    cache: Option<CacheFile>,
    github: Option<GithubFile>,
    default_branch_template: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    profiles: Option<Spanned<BTreeMap<String, FileLayer>>>,
    /// The file's text, for error places; not a key.
    #[serde(skip)]
    text: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ModelFile {
    provider: Option<Provider>,
    name: Option<String>,
    base_url: Option<Spanned<String>>,
    edit_format: Option<Spanned<String>>,
    concurrency: Option<Spanned<usize>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CacheFile {
    dir: Option<String>,
    mode: Option<CacheMode>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GithubFile {
    api_url: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
}

impl FileLayer {
    /// Checks the values and turns them into a layer; relative paths are relative to the file.
    fn to_partial(&self, path: &Path, home: &Option<PathBuf>) -> Result<Partial, Error> {
        let text = self.text.as_str();
        let bad = |s: &dyn SpanLike, message: String, hint: &str| {
            let (line, column) = s.line_col();
            Error::new("E032", message)
                .at(Place::at(path, text, line, column, s.width()))
                .hint(hint.to_string())
        };
        let model = self.model.as_ref();
        let cache = self.cache.as_ref();
        let github = self.github.as_ref();

        let jobs = match &self.jobs {
            Some(j) if j.value == 0 => {
                return Err(bad(
                    j,
                    "`jobs` must be at least 1".into(),
                    "use 1 for sequential runs",
                ));
            }
            j => j.as_ref().map(|j| j.value),
        };
        let concurrency = match model.and_then(|m| m.concurrency.as_ref()) {
            Some(c) if c.value == 0 => {
                return Err(bad(
                    c,
                    "`model.concurrency` must be at least 1".into(),
                    "it is the number of model requests in flight at most",
                ));
            }
            c => c.map(|c| c.value),
        };
        let base_url = match model.and_then(|m| m.base_url.as_ref()) {
            Some(u) if !is_http_url(&u.value) => {
                return Err(bad(
                    u,
                    format!("`model.base_url` is not an http(s) URL: `{}`", u.value),
                    "write it like http://localhost:8080/v1",
                ));
            }
            u => u.map(|u| u.value.clone()),
        };
        let edit_format = match model.and_then(|m| m.edit_format.as_ref()) {
            Some(f) if !EDIT_FORMATS.contains(&f.value.as_str()) => {
                let hint = match closest(&f.value, EDIT_FORMATS.iter().copied()) {
                    Some(c) => format!("did you mean `{c}`?"),
                    None => format!("expected one of: {}", EDIT_FORMATS.join(", ")),
                };
                return Err(bad(f, format!("unknown edit format `{}`", f.value), &hint));
            }
            f => f.map(|f| f.value.clone()),
        };
        let api_url = match github.and_then(|g| g.api_url.as_ref()) {
            Some(u) if !is_http_url(&u.value) => {
                return Err(bad(
                    u,
                    format!("`github.api_url` is not an http(s) URL: `{}`", u.value),
                    "GitHub Enterprise uses https://HOST/api/v3",
                ));
            }
            u => u.map(|u| u.value.clone()),
        };
        let token_env = match github.and_then(|g| g.token_env.as_ref()) {
            Some(t) if !is_env_name(&t.value) => {
                return Err(bad(
                    t,
                    format!(
                        "`github.token_env` is not an environment variable name: `{}`",
                        t.value
                    ),
                    "name the variable that holds the token (like GITHUB_TOKEN), never the token",
                ));
            }
            t => t.map(|t| t.value.clone()),
        };
        let base = path.parent().unwrap_or(Path::new("."));
        Ok(Partial {
            jobs,
            color: self.color,
            log_format: self.log_format,
            verbosity: self.verbosity,
            model_provider: model.and_then(|m| m.provider),
            model_name: model.and_then(|m| m.name.clone()),
            model_base_url: base_url,
            model_edit_format: edit_format,
            model_concurrency: concurrency,
            cache_dir: cache
                .and_then(|c| c.dir.as_deref())
                .map(|d| expand_path(d, base, home)),
            cache_mode: cache.and_then(|c| c.mode),
            github_api_url: api_url,
            github_token_env: token_env,
            default_branch_template: self
                .default_branch_template
                .as_ref()
                .map(|s| s.value.clone()),
            author: self.author.as_ref().map(|s| s.value.clone()),
        })
    }
}

/// The location of a spanned value, whatever its type.
trait SpanLike {
    fn line_col(&self) -> (usize, usize);
    fn width(&self) -> usize;
}

impl<T: fmt::Debug> SpanLike for Spanned<T> {
    fn line_col(&self) -> (usize, usize) {
        (
            self.referenced.line() as usize,
            self.referenced.column() as usize,
        )
    }
    fn width(&self) -> usize {
        let shown = format!("{:?}", self.value);
        shown.trim_matches('"').chars().count().max(1)
    }
}

fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

fn is_env_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `~/x` is under HOME; a relative path is relative to `base`.
fn expand_path(raw: &str, base: &Path, home: &Option<PathBuf>) -> PathBuf {
    if let (Some(rest), Some(home)) = (raw.strip_prefix("~/"), home) {
        return home.join(rest);
    }
    if raw == "~"
        && let Some(home) = home
    {
        return home.clone();
    }
    base.join(raw)
}

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
    Error::new("E033", format!("unknown profile `{name}`")).hint(hint)
}

/// One layer per `CODEFLEET_*` variable set, so each value names its own variable.
fn env_layers(
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<Vec<(Source, Partial)>, Error> {
    let mut out = Vec::new();
    let get = |var: &str| env(var).filter(|v| !v.is_empty());
    macro_rules! var {
        ($var:literal, $field:ident, $parse:expr) => {
            if let Some(raw) = get($var) {
                let value = $parse(raw.as_str()).map_err(|(what, hint): (String, String)| {
                    Error::new("E034", format!("{}={raw}: {what}", $var)).hint(hint)
                })?;
                out.push((
                    Source::Env($var),
                    Partial {
                        $field: Some(value),
                        ..Partial::default()
                    },
                ));
            }
        };
    }
    var!("CODEFLEET_JOBS", jobs, |s: &str| positive(s));
    var!("CODEFLEET_COLOR", color, |s: &str| named::<ColorMode>(
        s,
        ColorMode::from_name,
        ColorMode::NAMES
    ));
    var!("CODEFLEET_LOG_FORMAT", log_format, |s: &str| named::<
        LogFormat,
    >(
        s,
        LogFormat::from_name,
        LogFormat::NAMES
    ));
    var!(
        "CODEFLEET_VERBOSITY",
        verbosity,
        |s: &str| named::<Verbosity>(s, Verbosity::from_name, Verbosity::NAMES)
    );
    var!("CODEFLEET_MODEL_PROVIDER", model_provider, |s: &str| {
        named::<Provider>(s, Provider::from_name, Provider::NAMES)
    });
    var!("CODEFLEET_MODEL", model_name, |s: &str| Ok::<
        _,
        (String, String),
    >(s.to_string()));
    var!("CODEFLEET_MODEL_BASE_URL", model_base_url, |s: &str| {
        if is_http_url(s) {
            Ok(s.to_string())
        } else {
            Err((
                "not an http(s) URL".to_string(),
                "write it like http://localhost:8080/v1".to_string(),
            ))
        }
    });
    var!("CODEFLEET_EDIT_FORMAT", model_edit_format, |s: &str| {
        named::<&str>(
            s,
            |n| EDIT_FORMATS.iter().copied().find(|f| *f == n),
            EDIT_FORMATS,
        )
        .map(str::to_string)
    });
    var!(
        "CODEFLEET_MODEL_CONCURRENCY",
        model_concurrency,
        |s: &str| positive(s)
    );
    var!("CODEFLEET_CACHE_DIR", cache_dir, |s: &str| Ok::<
        _,
        (String, String),
    >(
        cwd.join(s)
    ));
    var!("CODEFLEET_CACHE", cache_mode, |s: &str| named::<CacheMode>(
        s,
        CacheMode::from_name,
        CacheMode::NAMES
    ));
    var!("CODEFLEET_GITHUB_API_URL", github_api_url, |s: &str| {
        if is_http_url(s) {
            Ok(s.to_string())
        } else {
            Err((
                "not an http(s) URL".to_string(),
                "GitHub Enterprise uses https://HOST/api/v3".to_string(),
            ))
        }
    });
    var!("CODEFLEET_GITHUB_TOKEN_ENV", github_token_env, |s: &str| {
        if is_env_name(s) {
            Ok(s.to_string())
        } else {
            Err((
                "not an environment variable name".to_string(),
                "name the variable that holds the token, never the token".to_string(),
            ))
        }
    });
    var!(
        "CODEFLEET_BRANCH_TEMPLATE",
        default_branch_template,
        |s: &str| Ok::<_, (String, String)>(s.to_string())
    );
    var!("CODEFLEET_AUTHOR", author, |s: &str| Ok::<
        _,
        (String, String),
    >(s.to_string()));
    Ok(out)
}

fn positive(s: &str) -> Result<usize, (String, String)> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err((
            "expected a whole number of at least 1".to_string(),
            "unset it or give a number like 4".to_string(),
        )),
    }
}

fn named<T>(
    s: &str,
    parse: impl Fn(&str) -> Option<T>,
    names: &[&str],
) -> Result<T, (String, String)> {
    parse(s.trim()).ok_or_else(|| {
        let hint = match closest(s.trim(), names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!("expected one of: {}", names.join(", ")),
        };
        ("unknown value".to_string(), hint)
    })
}

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
