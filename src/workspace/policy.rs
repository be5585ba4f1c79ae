//! The write policy: which paths are never read for a model nor edited (secret-looking files
//! by default), the size limit, whether edits may create or delete files, and what counts as
//! a binary file.

use globset::{Glob, GlobBuilder, GlobSet, GlobSetBuilder};

use super::path::Refusal;

/// Secret-looking files (and `.git`), denied whatever a policy adds: environment files, keys
/// and certificates, SSH identities, package-manager and cloud credentials, Terraform state.
/// Matched case-insensitively against the whole relative path; `*` does not cross `/`. The
/// pipeline's `policy.deny` adds to this list (`pipeline::BUILTIN_DENY` is this list).
pub const DEFAULT_DENY: &[&str] = &[
    "**/.git/**",
    "**/.env",
    "**/.env.*",
    "**/.envrc",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
    "**/*.jks",
    "**/*.keystore",
    "**/id_rsa*",
    "**/id_dsa*",
    "**/id_ecdsa*",
    "**/id_ed25519*",
    "**/.netrc",
    "**/.npmrc",
    "**/.pypirc",
    "**/.git-credentials",
    "**/.aws/credentials",
    "**/credentials",
    "**/credentials.json",
    "**/*.tfstate",
];

/// 1 MiB: larger files are neither shown to a model nor edited.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 1024 * 1024;

/// A deny pattern that is not a valid glob.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid deny pattern `{pattern}`: {reason}")]
pub struct PolicyError {
    /// The pattern as written.
    pub pattern: String,
    /// What globset said.
    pub reason: String,
}

/// What edits may touch: the one policy a pipeline's `policy:` becomes and `codefleet apply`
/// uses.
#[derive(Debug, Clone)]
pub struct Policy {
    /// Larger files are never sent to a model nor edited by one.
    pub max_file_size: u64,
    /// `max_file_size` was set (by the pipeline): only then does it bind deterministic tasks
    /// too (`replace`, `patch`, `edits`, `run`), which, like fastmod, have no limit by default.
    pub max_file_size_set: bool,
    /// Edits may create files.
    pub allow_create: bool,
    /// Edits may delete files.
    pub allow_delete: bool,
    /// Denied globs as written (built-in ones first).
    pub deny_patterns: Vec<String>,
    /// The compiled denied globs, one per pattern, in the same order.
    pub deny: GlobSet,
}

impl Default for Policy {
    /// The default deny list, 1 MiB, creating allowed, deleting not (pipelines opt in).
    fn default() -> Self {
        Policy::new(DEFAULT_DENY.iter().map(|s| s.to_string())).unwrap_or_else(|_| Policy {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_file_size_set: false,
            allow_create: true,
            allow_delete: false,
            deny_patterns: Vec::new(),
            deny: GlobSet::empty(),
        })
    }
}

impl Policy {
    /// A policy denying `patterns` (globs over the relative path; a pattern without `/`
    /// matches the file name in any directory, as in `.gitignore`).
    pub fn new(patterns: impl IntoIterator<Item = String>) -> Result<Policy, PolicyError> {
        let patterns: Vec<String> = patterns.into_iter().collect();
        let mut builder = GlobSetBuilder::new();
        for pattern in &patterns {
            builder.add(glob(pattern)?);
        }
        let deny = builder.build().map_err(|e| PolicyError {
            pattern: patterns.join(", "),
            reason: e.to_string(),
        })?;
        Ok(Policy {
            max_file_size: DEFAULT_MAX_FILE_SIZE,
            max_file_size_set: false,
            allow_create: true,
            allow_delete: false,
            deny_patterns: patterns,
            deny,
        })
    }

    /// The deny patterns, as given.
    pub fn patterns(&self) -> &[String] {
        &self.deny_patterns
    }

    /// The size limit of deterministic tasks: `max_file_size` when the pipeline set it,
    /// else none (a model's context is what the default limit protects).
    pub fn deterministic_max_file_size(&self) -> u64 {
        if self.max_file_size_set {
            self.max_file_size
        } else {
            u64::MAX
        }
    }

    /// Refuses `path` (normal form, `/`-separated) when a deny pattern matches it.
    pub fn check_path(&self, path: &str) -> Result<(), Refusal> {
        match self.deny.matches(path).first() {
            Some(&i) => Err(Refusal::Denied {
                path: path.to_string(),
                pattern: self.deny_patterns.get(i).cloned().unwrap_or_default(),
            }),
            None => Ok(()),
        }
    }

    /// Refuses a size over the limit.
    pub fn check_size(&self, path: &str, size: u64) -> Result<(), Refusal> {
        if size > self.max_file_size {
            return Err(Refusal::TooLarge {
                path: path.to_string(),
                size,
                limit: self.max_file_size,
            });
        }
        Ok(())
    }
}

fn glob(pattern: &str) -> Result<Glob, PolicyError> {
    let full = if pattern.contains('/') {
        pattern.trim_start_matches('/').to_string()
    } else {
        format!("**/{pattern}")
    };
    GlobBuilder::new(&full)
        .literal_separator(true)
        .case_insensitive(true)
        .build()
        .map_err(|e| PolicyError {
            pattern: pattern.to_string(),
            reason: e.kind().to_string(),
        })
}

/// Binary, as git decides it: a NUL byte in the first 8 KiB.
pub fn is_binary(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(8192)].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_policy_denies_secret_looking_files() {
        let p = Policy::default();
        for path in [
            ".env",
            ".env.local",
            "config/.env.production",
            "certs/server.pem",
            "tls.KEY",
            "home/.ssh/id_rsa",
            "id_ed25519.pub",
            "store.p12",
            ".aws/credentials",
            "deploy/credentials.json",
        ] {
            assert!(p.check_path(path).is_err(), "{path} should be denied");
        }
        for path in [
            "src/env.rs",
            "environment.md",
            "keys.rs",
            "src/key.rs.bak",
            "README.md",
        ] {
            assert_eq!(p.check_path(path), Ok(()), "{path} should be allowed");
        }
    }

    #[test]
    fn the_reason_names_the_pattern() {
        let p = Policy::default();
        assert_eq!(
            p.check_path("a/.env").unwrap_err().to_string(),
            "`a/.env` is denied by policy (matches `**/.env`)"
        );
    }

    #[test]
    fn user_patterns_anchor_at_the_root_when_they_hold_a_slash() {
        let p = Policy::new(["secrets/**".to_string(), "*.sqlite".to_string()]).unwrap();
        assert!(p.check_path("secrets/a/b.txt").is_err());
        assert!(p.check_path("app/secrets/x").is_ok());
        assert!(p.check_path("data/db.sqlite").is_err());
        let bad = Policy::new(["a[".to_string()]).unwrap_err();
        assert_eq!(bad.pattern, "a[");
    }

    #[test]
    fn sizes_and_binary() {
        let p = Policy::default();
        assert!(p.check_size("x", DEFAULT_MAX_FILE_SIZE).is_ok());
        assert!(p.check_size("x", DEFAULT_MAX_FILE_SIZE + 1).is_err());
        assert!(is_binary(b"PNG\0\x01"));
        assert!(!is_binary("héllo\n".as_bytes()));
        let mut late = vec![b'a'; 9000];
        late[8500] = 0;
        assert!(!is_binary(&late), "only the first 8 KiB are looked at");
    }
}
