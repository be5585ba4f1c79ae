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
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                PlanError::NoMatch { .. } | PlanError::BadGlob { .. } => {
                    "a glob of local checkouts looks like `../services/*`"
                }
                PlanError::BadShard { .. } => "shards count from 1: `--shard 1/4` … `--shard 4/4`",
            }
            .to_string(),
        )
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
