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
            | SettingsError::BadValue { place, .. } => Some(place.clone()),
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
