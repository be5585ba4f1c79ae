//! The `CODEFLEET_*` environment variables, one layer per variable set, so each value names
//! the variable it came from.

use std::path::Path;

use super::errors::SettingsError;
use super::file::{
    AUTHOR_HINT, BRANCH_HINT, check_author, check_branch_template, is_env_name, is_http_url,
};
use super::{
    CacheMode, ColorMode, EditFormat, GitHubClone, LogFormat, Partial, Provider, Source, Verbosity,
};
use crate::error::{Error, closest};

pub(super) fn env_layers(
    env: &dyn Fn(&str) -> Option<String>,
    cwd: &Path,
) -> Result<Vec<(Source, Partial)>, Error> {
    let mut out = Vec::new();
    let get = |var: &str| env(var).filter(|v| !v.is_empty());
    macro_rules! var {
        ($var:literal, $field:ident, $parse:expr) => {
            if let Some(raw) = get($var) {
                let parse: &dyn Fn(&str) -> EnvParse<_> = &$parse;
                let value = parse(raw.as_str()).map_err(|(what, hint)| {
                    Error::from(SettingsError::BadEnv {
                        var: $var,
                        raw: raw.clone(),
                        what,
                        hint,
                    })
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
    var!("CODEFLEET_JOBS", jobs, positive);
    var!("CODEFLEET_COLOR", color, ColorMode::parse_env);
    var!("CODEFLEET_LOG_FORMAT", log_format, LogFormat::parse_env);
    var!("CODEFLEET_VERBOSITY", verbosity, Verbosity::parse_env);
    var!("CODEFLEET_MODEL_PROVIDER", model_provider, |s| named(
        s,
        Provider::from_name,
        Provider::NAMES
    ));
    var!("CODEFLEET_MODEL", model_name, text);
    var!("CODEFLEET_MODEL_BASE_URL", model_base_url, |s| url(
        s,
        "write it like http://localhost:8080/v1"
    ));
    var!("CODEFLEET_EDIT_FORMAT", model_edit_format, |s| {
        named(s, EditFormat::from_name, EditFormat::NAMES)
    });
    var!("CODEFLEET_MODEL_CONCURRENCY", model_concurrency, positive);
    var!("CODEFLEET_CACHE_DIR", cache_dir, |s| Ok(cwd.join(s)));
    var!("CODEFLEET_CACHE", cache_mode, |s| {
        named(s, CacheMode::from_name, CacheMode::NAMES)
    });
    var!("CODEFLEET_GITHUB_API_URL", github_api_url, |s| url(
        s,
        "GitHub Enterprise uses https://HOST/api/v3"
    ));
    var!("CODEFLEET_GITHUB_TOKEN_ENV", github_token_env, |s| {
        if is_env_name(s) {
            Ok(s.to_string())
        } else {
            Err((
                "not an environment variable name".to_string(),
                "name the variable that holds the token, never the token".to_string(),
            ))
        }
    });
    var!("CODEFLEET_GITLAB_API_URL", gitlab_api_url, |s| url(
        s,
        "gitlab.com's API is https://gitlab.com/api/v4"
    )
    .map(|u| u.trim_end_matches('/').to_string()));
    var!("CODEFLEET_GITLAB_TOKEN_ENV", gitlab_token_env, |s| {
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
        "CODEFLEET_GITHUB_CLONE",
        github_clone,
        GitHubClone::parse_env
    );
    var!("CODEFLEET_BRANCH_TEMPLATE", default_branch_template, |s| {
        check_branch_template(s)
            .map(|()| s.to_string())
            .map_err(|what| (what, BRANCH_HINT.to_string()))
    });
    var!("CODEFLEET_AUTHOR", author, |s| {
        check_author(s)
            .map(|()| s.to_string())
            .map_err(|what| (what, AUTHOR_HINT.to_string()))
    });
    Ok(out)
}

/// A parsed environment value, or what is wrong with it and a hint.
pub(super) type EnvParse<T> = Result<T, (String, String)>;

fn text(s: &str) -> EnvParse<String> {
    Ok(s.to_string())
}

fn url(s: &str, hint: &str) -> EnvParse<String> {
    if is_http_url(s) {
        Ok(s.to_string())
    } else {
        Err(("not an http(s) URL".to_string(), hint.to_string()))
    }
}

fn positive(s: &str) -> EnvParse<usize> {
    match s.trim().parse::<usize>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err((
            "expected a whole number of at least 1".to_string(),
            "unset it or give a number like 4".to_string(),
        )),
    }
}

pub(super) fn named<T>(s: &str, parse: impl Fn(&str) -> Option<T>, names: &[&str]) -> EnvParse<T> {
    parse(s.trim()).ok_or_else(|| {
        let hint = match closest(s.trim(), names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!("expected one of: {}", names.join(", ")),
        };
        ("unknown value".to_string(), hint)
    })
}
