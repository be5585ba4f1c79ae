//! The plan's errors: [`PlanError`], for repository lists and shards that name nothing
//! codefleet can run on; each variant is an entry of the catalogue (`crate::error::codes`).

use crate::error::{Code, Kind, codes};

/// A `repos:`/`--repo`/`--shard` value the plan cannot use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// `E301`: a `--repo` glob matches no repository.
    #[error("`--repo {glob}` matches no repository")]
    NoMatch {
        /// The glob given.
        glob: String,
    },
    /// `E301`: a repository glob that does not parse.
    #[error("invalid repository glob `{pattern}`: {why}")]
    BadGlob {
        /// The glob given.
        pattern: String,
        /// What globset said.
        why: String,
    },
    /// `E550`: neither an organisation nor a user of that name (or the token cannot see it).
    #[error("GitHub has no {what} `{owner}` (or the token cannot see it)")]
    NoOwner {
        /// The login given.
        owner: String,
        /// `organisation`, `user`, or `organisation or user`.
        what: &'static str,
        /// The other kind to try, for the hint (`user`, `org`), if any.
        other: Option<&'static str>,
    },
    /// `E551`: `--repo owner/name` names no GitHub repository and no local path.
    #[error(
        "no local path `{repo}`, and GitHub has no repository `{repo}` (or the token cannot see it)"
    )]
    NoRepo {
        /// `owner/name`.
        repo: String,
    },
    /// `E552`: an entry that names nothing codefleet can run on.
    #[error("`{text}` names no repository: {why}")]
    BadEntry {
        /// The entry as written.
        text: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// `E553`: `--repos-from` cannot be read.
    #[error("cannot read `--repos-from {from}`: {why}")]
    ReposFrom {
        /// The file, or `-`.
        from: String,
        /// The system's message.
        why: String,
    },
    /// `E575`: no GitLab group, or Gitea organisation or user, of that name on that host.
    #[error("{forge} at `{host}` has no {what} `{owner}` (or the token cannot see it)")]
    NoForgeOwner {
        /// `GitLab`, `Gitea`.
        forge: &'static str,
        /// The host asked.
        host: String,
        /// The group's path or the login.
        owner: String,
        /// `group`, `organisation`, `user`.
        what: &'static str,
        /// The other kind to try, for the hint (`user`, `org`), if any.
        other: Option<&'static str>,
    },
    /// `E576`: a host that is not listed as the forge asked for.
    #[error("{what}: {why}")]
    ForgeHost {
        /// The entry or value (`gitea: entry`, `--repo git.corp/acme/x`).
        what: String,
        /// What is wrong with its host.
        why: String,
        /// Where hosts are listed (`gitea.hosts`).
        setting: &'static str,
    },
    /// `E577`: `--repo HOST/path` names no repository on that host and no local path.
    #[error(
        "no local path `{text}`, and {forge} at `{host}` has no repository `{repo}` (or the \
         token cannot see it)"
    )]
    NoForgeRepo {
        /// The value as written.
        text: String,
        /// The forge's name.
        forge: &'static str,
        /// The host.
        host: String,
        /// The repository's path on the host.
        repo: String,
    },
    /// `E095`: `--shard` is not `K/N` with `1 <= K <= N`.
    #[error("`--shard {text}` is not K/N with 1 <= K <= N")]
    BadShard {
        /// The value given.
        text: String,
    },
}

impl Kind for PlanError {
    fn code(&self) -> Code {
        match self {
            PlanError::NoMatch { .. } | PlanError::BadGlob { .. } => codes::REPO_GLOB,
            PlanError::BadShard { .. } => codes::BAD_SHARD,
            PlanError::NoOwner { .. } => codes::NO_GITHUB_OWNER,
            PlanError::NoRepo { .. } => codes::NO_GITHUB_REPO,
            PlanError::BadEntry { .. } => codes::BAD_REPO_ENTRY,
            PlanError::ReposFrom { .. } => codes::REPOS_FROM,
            PlanError::NoForgeOwner { .. } => codes::NO_FORGE_OWNER,
            PlanError::ForgeHost { .. } => codes::FORGE_HOST,
            PlanError::NoForgeRepo { .. } => codes::NO_FORGE_REPO,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            PlanError::NoMatch { .. } | PlanError::BadGlob { .. } => {
                "a glob of local checkouts looks like `../services/*`".to_string()
            }
            PlanError::BadShard { .. } => {
                "shards count from 1: `--shard 1/4` … `--shard 4/4`".to_string()
            }
            PlanError::NoOwner {
                other: Some(other),
                owner,
                ..
            } => format!(
                "if `{owner}` is a{} {other}, write `{other}: {owner}`; else check the spelling, \
                 `github.api_url` and the token (`github.token_env`)",
                if *other == "org" { "n" } else { "" }
            ),
            PlanError::NoOwner { .. } | PlanError::NoRepo { .. } => {
                "check the spelling, `github.api_url`, and that the token (`github.token_env`) can \
                 read it; a local checkout is named by a path that exists"
                    .to_string()
            }
            PlanError::BadEntry { .. } => {
                "write a path, a URL, `owner/name`, `owner/*` or `github:owner/name`".to_string()
            }
            PlanError::NoForgeOwner {
                other: Some(other),
                owner,
                ..
            } => format!(
                "if `{owner}` is a{} {other}, write `{other}: {owner}`; else check the spelling \
                 and that the host's token (`gitea.hosts`' `token_env`) can read it",
                if *other == "org" { "n" } else { "" }
            ),
            PlanError::NoForgeOwner { .. } => "check the spelling (a subgroup is named by its \
                 full path, `acme/platform`) and that the host's token (`gitlab.token_env`, \
                 `gitlab.hosts`' `token_env`) can read it"
                .to_string(),
            PlanError::ForgeHost { setting, .. } => format!(
                "list the host under `{setting}` in the settings, with its `api_url` and \
                 `token_env`"
            ),
            PlanError::NoForgeRepo { .. } => {
                "check the spelling (a GitLab project is named by its full path, \
                 `gitlab.com/group/sub/project`) and that the host's token can read it; a local \
                 checkout is named by a path that exists"
                    .to_string()
            }
            PlanError::ReposFrom { .. } => {
                "one repository a line: a path, a URL, `owner/name` or `owner/*`; `-` reads \
                 standard input"
                    .to_string()
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{Error, Exit};

    #[test]
    fn a_plan_error_is_typed_and_shows_as_before() {
        let e = Error::from(PlanError::BadShard { text: "5/4".into() });
        assert!(e.is::<PlanError>());
        assert_eq!(e.code, "E095");
        assert_eq!(e.message, "`--shard 5/4` is not K/N with 1 <= K <= N");
        assert_eq!(
            e.hint.as_deref(),
            Some("shards count from 1: `--shard 1/4` … `--shard 4/4`")
        );
        assert_eq!(e.exit, Exit::Usage);
    }
}
