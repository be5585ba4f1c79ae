//! The settings' errors: [`SettingsError`], one variant per way a config file, a profile or a
//! `CODEFLEET_*` variable is refused, each an entry of the catalogue (`crate::error::codes`).

use std::path::PathBuf;

use crate::error::{Code, Kind, Place, codes};

/// A config file, profile or environment variable codefleet cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    /// `E050`: the config file is not UTF-8.
    #[error("config file `{}` is not UTF-8", file.display())]
    NotUtf8 {
        /// The file, as shown.
        file: PathBuf,
    },
    /// `E050`: a config file named explicitly does not exist.
    #[error("config file `{}` does not exist", file.display())]
    Missing {
        /// The file, as shown.
        file: PathBuf,
    },
    /// `E050`: the current directory, where config files are looked for, cannot be read.
    #[error("cannot read the current directory: {why}")]
    NoCwd {
        /// What the operating system said.
        why: String,
    },
    /// `E051`: a key the config file does not have.
    #[error("unknown key `{key}`")]
    UnknownKey {
        /// The key.
        key: String,
        /// A did-you-mean, or the known keys.
        hint: String,
        /// Where it is.
        place: Place,
    },
    /// `E051`: a profile that defines profiles.
    #[error("profile `{profile}` defines `profiles`; profiles do not nest")]
    NestedProfiles {
        /// The profile.
        profile: String,
        /// Where its `profiles` is.
        place: Place,
    },
    /// `E052`: a value the key does not take; `message` says which and why.
    #[error("{message}")]
    BadValue {
        /// What is wrong, naming the key or value.
        message: String,
        /// What it takes.
        hint: String,
        /// Where it is.
        place: Place,
    },
    /// `E053`: `--profile` names no profile of the config files.
    #[error("unknown profile `{name}`")]
    UnknownProfile {
        /// The name given.
        name: String,
        /// A did-you-mean, or the known profiles.
        hint: String,
    },
    /// `E054`: a `CODEFLEET_*` variable's value does not parse.
    #[error("{var}={raw}: {what}")]
    BadEnv {
        /// The variable.
        var: &'static str,
        /// Its value.
        raw: String,
        /// What is wrong.
        what: String,
        /// What it takes.
        hint: String,
    },
    /// `E560`: a host listed under two forges.
    #[error("host `{host}` is listed under `{first}` and `{second}`")]
    HostTwice {
        /// The host.
        host: String,
        /// The key of the first listing (`github.hosts`, or `github.com` built in).
        first: String,
        /// The key of the second.
        second: String,
        /// Where the second is.
        place: Option<Place>,
    },
    /// `E561`: a `*.hosts` entry whose `host` is not a host name.
    #[error("`{key}`: `{host}` is not a host name")]
    BadHost {
        /// The key (`gitlab.hosts`).
        key: &'static str,
        /// What it says.
        host: String,
        /// Where it is.
        place: Place,
    },
    /// `E562`: a forge's `api_url` that is not an http(s) URL.
    #[error("`{key}` is not an http(s) URL: `{url}`")]
    BadApiUrl {
        /// The key (`gitlab.api_url`, `gitea.hosts[0].api_url`).
        key: String,
        /// What it says.
        url: String,
        /// What the forge's API URL looks like.
        hint: &'static str,
        /// Where it is.
        place: Place,
    },
    /// `E563`: a forge's `token_env` that is not an environment variable name.
    #[error("`{key}` is not an environment variable name: `{value}`")]
    BadTokenEnv {
        /// The key (`gitlab.token_env`, `gitea.hosts[0].token_env`).
        key: String,
        /// What it says.
        value: String,
        /// Where it is.
        place: Place,
    },
    /// `E059`: a setting without a default (a bug).
    #[error("internal: no default for setting `{field}`")]
    NoDefault {
        /// The setting.
        field: &'static str,
    },
}

impl Kind for SettingsError {
    fn code(&self) -> Code {
        match self {
            SettingsError::NotUtf8 { .. }
            | SettingsError::Missing { .. }
            | SettingsError::NoCwd { .. } => codes::CONFIG_UNREADABLE,
            SettingsError::UnknownKey { .. } | SettingsError::NestedProfiles { .. } => {
                codes::CONFIG_UNKNOWN_KEY
            }
            SettingsError::BadValue { .. } => codes::CONFIG_BAD_VALUE,
            SettingsError::UnknownProfile { .. } => codes::UNKNOWN_PROFILE,
            SettingsError::BadEnv { .. } => codes::BAD_ENV,
            SettingsError::NoDefault { .. } => codes::SETTINGS_INTERNAL,
            SettingsError::HostTwice { .. } => codes::FORGE_HOST_TWICE,
            SettingsError::BadHost { .. } => codes::FORGE_HOST_BAD,
            SettingsError::BadApiUrl { .. } => codes::FORGE_API_URL,
            SettingsError::BadTokenEnv { .. } => codes::FORGE_TOKEN_ENV,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            SettingsError::NotUtf8 { .. } => "save it as UTF-8 text",
            SettingsError::Missing { .. } => "check the --config flag or CODEFLEET_CONFIG",
            SettingsError::NoCwd { .. } => return None,
            SettingsError::NestedProfiles { .. } => {
                "move these profiles to the top level of the file"
            }
            SettingsError::UnknownKey { hint, .. }
            | SettingsError::BadValue { hint, .. }
            | SettingsError::UnknownProfile { hint, .. }
            | SettingsError::BadEnv { hint, .. } => hint,
            SettingsError::NoDefault { .. } => "this is a bug in codefleet; please report it",
            SettingsError::HostTwice { .. } => {
                "a host runs one forge: keep it under one of `github.hosts`, `gitlab.hosts`, \
                 `gitea.hosts`"
            }
            SettingsError::BadHost { .. } => {
                "write the host as it appears in clone URLs, with its port if it has one: \
                 `gitlab.corp.example` or `127.0.0.1:8080` (no scheme, no path)"
            }
            SettingsError::BadApiUrl { hint, .. } => hint,
            SettingsError::BadTokenEnv { .. } => {
                "name the variable that holds the token (like GITLAB_TOKEN), never the token"
            }
        };
        Some(hint.to_string())
    }

    fn place(&self) -> Option<Place> {
        match self {
            SettingsError::NotUtf8 { file } | SettingsError::Missing { file } => {
                Some(Place::file(file))
            }
            SettingsError::UnknownKey { place, .. }
            | SettingsError::NestedProfiles { place, .. }
            | SettingsError::BadValue { place, .. }
            | SettingsError::BadHost { place, .. }
            | SettingsError::BadApiUrl { place, .. }
            | SettingsError::BadTokenEnv { place, .. } => Some(place.clone()),
            SettingsError::HostTwice { place, .. } => place.clone(),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Exit};

    #[test]
    fn a_settings_error_is_typed_and_shows_as_before() {
        let e = Error::from(SettingsError::BadEnv {
            var: "CODEFLEET_JOBS",
            raw: "0".into(),
            what: "must be at least 1".into(),
            hint: "give a positive number".into(),
        });
        assert!(e.is::<SettingsError>());
        assert_eq!(e.code, "E054");
        assert_eq!(e.message, "CODEFLEET_JOBS=0: must be at least 1");
        assert_eq!(e.hint.as_deref(), Some("give a positive number"));
        assert_eq!(e.exit, Exit::Usage);
        assert_eq!(e.place, None);
    }
}
