//! The config files: the serde mirror of `config.yml` / `.codefleet.yml` (and of a profile in
//! them), checked into a layer; YAML errors become [`Error`]s with file:line:col.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::{MessageFormatter, Spanned};

use super::errors::SettingsError;
use super::{
    CacheMode, ColorMode, EditFormat, ForgeHost, GitHubClone, LogFormat, Partial, Provider,
    Verbosity,
};
use crate::error::{Error, Place, closest};

pub(super) fn read_config(
    path: &Path,
    shown: &Path,
    must_exist: bool,
) -> Result<Option<FileLayer>, Error> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| {
            Error::from(SettingsError::NotUtf8 {
                file: shown.to_path_buf(),
            })
        })?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && !must_exist => return Ok(None),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(SettingsError::Missing {
                file: shown.to_path_buf(),
            }
            .into());
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
            return Err(SettingsError::NestedProfiles {
                profile: name.clone(),
                place: spanned_place(path, text, nested, 1),
            }
            .into());
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
    let place = |width: usize| {
        if line > 0 {
            Place::at(path, text, line, column, width)
        } else {
            Place::file(path)
        }
    };
    let error = match inner {
        E::SerdeUnknownField {
            field, expected, ..
        } => SettingsError::UnknownKey {
            key: field.to_string(),
            hint: match closest(field, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("known keys: {}", expected.join(", ")),
            },
            place: place(field.chars().count()),
        },
        E::SerdeUnknownVariant {
            variant, expected, ..
        } => SettingsError::BadValue {
            message: format!("unknown value `{variant}`"),
            hint: match closest(variant, expected.iter().copied()) {
                Some(c) => format!("did you mean `{c}`?"),
                None => format!("expected one of: {}", expected.join(", ")),
            },
            place: place(variant.chars().count()),
        },
        other => SettingsError::BadValue {
            message: format!(
                "invalid config: {}",
                serde_saphyr::DefaultMessageFormatter.format_message(other)
            ),
            hint: "the keys and the values they take are listed in the README, under Configuration"
                .to_string(),
            place: place(1),
        },
    };
    error.into()
}

/// The serde mirror of a config file (and of one profile in it).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileLayer {
    jobs: Option<Spanned<usize>>,
    color: Option<ColorMode>,
    log_format: Option<LogFormat>,
    verbosity: Option<Verbosity>,
    model: Option<ModelFile>,
    cache: Option<CacheFile>,
    github: Option<GithubFile>,
    gitlab: Option<GitlabFile>,
    gitea: Option<GiteaFile>,
    default_branch_template: Option<Spanned<String>>,
    author: Option<Spanned<String>>,
    pub(super) profiles: Option<Spanned<BTreeMap<String, FileLayer>>>,
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
    clone: Option<GitHubClone>,
    hosts: Option<Vec<HostFile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GitlabFile {
    api_url: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
    hosts: Option<Vec<HostFile>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct GiteaFile {
    hosts: Option<Vec<HostFile>>,
}

/// One entry of `github.hosts`, `gitlab.hosts`, `gitea.hosts`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct HostFile {
    host: Spanned<String>,
    api_url: Option<Spanned<String>>,
    token_env: Option<Spanned<String>>,
}

/// What a forge's `hosts` entries default to.
struct HostDefaults {
    /// `github.hosts`.
    key: &'static str,
    /// The API's path on the host (`/api/v3`).
    api_path: &'static str,
    /// The token variable (`GITHUB_TOKEN`).
    token_env: &'static str,
    /// What its API URL looks like, for the hint.
    hint: &'static str,
}

const GITHUB_HOSTS: HostDefaults = HostDefaults {
    key: "github.hosts",
    api_path: "/api/v3",
    token_env: "GITHUB_TOKEN",
    hint: "GitHub Enterprise Server's API is https://HOST/api/v3",
};
const GITLAB_HOSTS: HostDefaults = HostDefaults {
    key: "gitlab.hosts",
    api_path: "/api/v4",
    token_env: "GITLAB_TOKEN",
    hint: "GitLab's API is https://HOST/api/v4",
};
const GITEA_HOSTS: HostDefaults = HostDefaults {
    key: "gitea.hosts",
    api_path: "/api/v1",
    token_env: "GITEA_TOKEN",
    hint: "Gitea's and Forgejo's API is https://HOST/api/v1",
};

/// A host as clone URLs name it: letters, digits, `-` and `.`, then an optional `:port`.
pub(super) fn is_host(s: &str) -> bool {
    let (name, port) = match s.split_once(':') {
        Some((n, p)) => (n, Some(p)),
        None => (s, None),
    };
    let port_ok =
        port.is_none_or(|p| !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && !name.is_empty()
        && !name.starts_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
}

/// Checks a forge's `hosts` entries and fills in their defaults.
fn forge_hosts(
    entries: Option<&Vec<HostFile>>,
    defaults: &HostDefaults,
    path: &Path,
    text: &str,
) -> Result<Option<Vec<ForgeHost>>, Error> {
    let Some(entries) = entries else {
        return Ok(None);
    };
    let place = |s: &dyn SpanLike| {
        let (line, column) = s.line_col();
        Place::at(path, text, line, column, s.width())
    };
    let mut out: Vec<ForgeHost> = Vec::new();
    for (i, e) in entries.iter().enumerate() {
        let host = e.host.value.trim().to_ascii_lowercase();
        if !is_host(&host) {
            return Err(SettingsError::BadHost {
                key: defaults.key,
                host: e.host.value.clone(),
                place: place(&e.host),
            }
            .into());
        }
        if out.iter().any(|h| h.host == host) {
            return Err(SettingsError::HostTwice {
                host,
                first: defaults.key.to_string(),
                second: defaults.key.to_string(),
                place: Some(place(&e.host)),
            }
            .into());
        }
        let api_url = match &e.api_url {
            Some(u) if !is_http_url(&u.value) => {
                return Err(SettingsError::BadApiUrl {
                    key: format!("{}[{i}].api_url", defaults.key),
                    url: u.value.clone(),
                    hint: defaults.hint,
                    place: place(u),
                }
                .into());
            }
            Some(u) => u.value.trim_end_matches('/').to_string(),
            None => format!("https://{host}{}", defaults.api_path),
        };
        let token_env = match &e.token_env {
            Some(t) if !is_env_name(&t.value) => {
                return Err(SettingsError::BadTokenEnv {
                    key: format!("{}[{i}].token_env", defaults.key),
                    value: t.value.clone(),
                    place: place(t),
                }
                .into());
            }
            Some(t) => t.value.clone(),
            None => defaults.token_env.to_string(),
        };
        out.push(ForgeHost {
            host,
            api_url,
            token_env,
            place: Some(place(&e.host)),
        });
    }
    Ok(Some(out))
}

impl FileLayer {
    /// Checks the values and turns them into a layer; relative paths are relative to the file.
    pub(super) fn to_partial(&self, path: &Path, home: &Option<PathBuf>) -> Result<Partial, Error> {
        let text = self.text.as_str();
        let bad = |s: &dyn SpanLike, message: String, hint: &str| {
            let (line, column) = s.line_col();
            Error::from(SettingsError::BadValue {
                message,
                hint: hint.to_string(),
                place: Place::at(path, text, line, column, s.width()),
            })
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
            Some(f) => match EditFormat::from_name(&f.value) {
                Some(format) => Some(format),
                None => {
                    let names = EditFormat::NAMES;
                    let hint = match closest(&f.value, names.iter().copied()) {
                        Some(c) => format!("did you mean `{c}`?"),
                        None => format!("expected one of: {}", names.join(", ")),
                    };
                    return Err(bad(f, format!("unknown edit format `{}`", f.value), &hint));
                }
            },
            None => None,
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
        let gitlab = self.gitlab.as_ref();
        let gitlab_api_url = match gitlab.and_then(|g| g.api_url.as_ref()) {
            Some(u) if !is_http_url(&u.value) => {
                return Err(SettingsError::BadApiUrl {
                    key: "gitlab.api_url".into(),
                    url: u.value.clone(),
                    hint: "gitlab.com's API is https://gitlab.com/api/v4",
                    place: Place::at(path, text, u.line_col().0, u.line_col().1, u.width()),
                }
                .into());
            }
            u => u.map(|u| u.value.trim_end_matches('/').to_string()),
        };
        let gitlab_token_env = match gitlab.and_then(|g| g.token_env.as_ref()) {
            Some(t) if !is_env_name(&t.value) => {
                return Err(SettingsError::BadTokenEnv {
                    key: "gitlab.token_env".into(),
                    value: t.value.clone(),
                    place: Place::at(path, text, t.line_col().0, t.line_col().1, t.width()),
                }
                .into());
            }
            t => t.map(|t| t.value.clone()),
        };
        let github_hosts = forge_hosts(
            github.and_then(|g| g.hosts.as_ref()),
            &GITHUB_HOSTS,
            path,
            text,
        )?;
        let gitlab_hosts = forge_hosts(
            gitlab.and_then(|g| g.hosts.as_ref()),
            &GITLAB_HOSTS,
            path,
            text,
        )?;
        let gitea_hosts = forge_hosts(
            self.gitea.as_ref().and_then(|g| g.hosts.as_ref()),
            &GITEA_HOSTS,
            path,
            text,
        )?;
        if let Some(a) = &self.author
            && let Err(what) = check_author(&a.value)
        {
            return Err(bad(a, format!("`author`: {what}"), AUTHOR_HINT));
        }
        if let Some(t) = &self.default_branch_template
            && let Err(what) = check_branch_template(&t.value)
        {
            return Err(bad(
                t,
                format!("`default_branch_template`: {what}"),
                BRANCH_HINT,
            ));
        }
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
            github_clone: github.and_then(|g| g.clone),
            github_hosts,
            gitlab_api_url,
            gitlab_token_env,
            gitlab_hosts,
            gitea_hosts,
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

pub(super) const AUTHOR_HINT: &str = "write it like `codefleet <codefleet@localhost>`";
pub(super) const BRANCH_HINT: &str =
    "use letters, digits, `-`, `_`, `.`, `/` and `{{ pipeline }}`, e.g. `codefleet/{{ pipeline }}`";

/// `author` must be `Name <email>`, as a pipeline's `commit.author`.
pub(super) fn check_author(s: &str) -> Result<(), String> {
    match crate::pipeline::Author::parse(s) {
        Some(_) => Ok(()),
        None => Err(format!("`{s}` is not `Name <email>`")),
    }
}

/// `default_branch_template` must be a template that renders to a valid branch name. The
/// `{{ vars.NAME }}` it uses are checked against each pipeline when it runs.
pub(super) fn check_branch_template(s: &str) -> Result<(), String> {
    let template = crate::pipeline::Template::parse(s).map_err(|errors| {
        errors
            .first()
            .map(|e| e.message.clone())
            .unwrap_or_default()
    })?;
    let sample = template.render(&crate::pipeline::Context {
        pipeline: "pipeline",
        run_id: "run",
        repo_name: Some("repo"),
        ..crate::pipeline::Context::default()
    });
    match crate::pipeline::bad_ref_part(&sample) {
        Some(bad)
            if !template
                .vars()
                .any(|v| matches!(v, crate::pipeline::template::Var::Var(_))) =>
        {
            Err(format!("`{sample}` is not a valid git branch name: {bad}"))
        }
        _ => Ok(()),
    }
}

pub(super) fn is_http_url(s: &str) -> bool {
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.contains(char::is_whitespace))
}

pub(super) fn is_env_name(s: &str) -> bool {
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
