//! The campaign after a run: the pull requests `codefleet run --pr` opened, one per repository
//! of a pipeline, tracked (`status`), merged (`merge`) and closed (`close`) in bulk.
//!
//! A campaign's members are the repositories the pipeline runs on (resolved by the CLI exactly
//! as `run` resolves them) with, for each, the run branch the plan names (`plan::build`, so the
//! branch is the one `run` pushes) and the forge repository its remote URL names (a local
//! checkout's `origin`). Everything else is read from the forge: the newest pull request from
//! the run branch decides the repository's row, and codefleet's marker in its body
//! (`forge::marker`) says which head codefleet pushed, so a head someone else moved is never
//! merged and a branch someone pushed to is never deleted.
//!
//! - [`status`] reads (one listing per repository, and per open pull request its
//!   mergeability, checks and review decision, in parallel on a bounded pool);
//! - [`merge`] merges (or enables auto-merge for) the eligible ones, one at a time;
//! - [`close`] closes the open ones, optionally commenting first and deleting the branch with a
//!   lease.
//!
//! What goes wrong for the whole command is a [`CampaignError`] (`E555`–`E559`); what goes
//! wrong for one repository is reported in its row and the others go on.

mod close;
mod merge;
mod status;

use std::path::PathBuf;

pub use close::{BranchOutcome, CloseOptions, CloseOutcome, CloseReport, CloseRow, close};
pub use merge::{MergeOptions, MergeOutcome, MergeReport, MergeRow, Require, merge};
pub use status::{
    CheckState, Mergeable, PrInfo, ReadOptions, Review, Row, State, StatusReport, Totals, Tracked,
    read, schema,
};

use crate::error::{Code, Error, Kind, codes};
use crate::exec::Target;
use crate::forge::{Forge, RepoId};
use crate::pipeline::Pipeline;
use crate::pipeline::template::Var;
use crate::plan;

/// What stops a campaign command as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    /// `E555`: the branch template uses something that changes every run.
    #[error(
        "pipeline `{pipeline}`: the run branch `{template}` changes every run (it uses \
         `{{{{ run_id }}}}`), so the campaign's branches cannot be found"
    )]
    BranchPerRun {
        /// The pipeline's name.
        pipeline: String,
        /// The branch template as written.
        template: String,
    },
    /// `E556`: a repository names no forge repository.
    #[error("{path}: {why}")]
    NoForgeRepo {
        /// The repository as named.
        path: String,
        /// Why (no `origin`, a URL without owner/name, not a repository).
        why: String,
    },
    /// `E557`: a merge the forge did not make.
    #[error("{repo}#{number}: {why}")]
    MergeFailed {
        /// The forge repository.
        repo: RepoId,
        /// The pull request.
        number: u64,
        /// What the forge said.
        why: String,
    },
    /// `E558`: the head codefleet pushed is unknown, so the branch is not deleted.
    #[error(
        "{repo}#{number}: the pull request carries no codefleet marker, so the head codefleet \
         pushed is unknown; `{branch}` is not deleted"
    )]
    PushedHeadUnknown {
        /// The forge repository.
        repo: RepoId,
        /// The pull request.
        number: u64,
        /// The run branch.
        branch: String,
    },
    /// `E559`: flags that do not go together or make no sense.
    #[error("{0}")]
    Flags(String),
}

impl Kind for CampaignError {
    fn code(&self) -> Code {
        match self {
            CampaignError::BranchPerRun { .. } => codes::BRANCH_PER_RUN,
            CampaignError::NoForgeRepo { .. } => codes::CAMPAIGN_REPO,
            CampaignError::MergeFailed { .. } => codes::MERGE_FAILED,
            CampaignError::PushedHeadUnknown { .. } => codes::PUSHED_HEAD_UNKNOWN,
            CampaignError::Flags(_) => codes::CAMPAIGN_FLAGS,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            CampaignError::BranchPerRun { .. } => {
                "give the pipeline a stable `branch:` (the default `codefleet/{{ pipeline }}` is)"
            }
            CampaignError::NoForgeRepo { .. } => {
                "a local checkout needs an `origin` remote on the forge (`git remote add origin \
                 URL`); a URL must name owner/name"
            }
            CampaignError::MergeFailed { .. } => {
                "see the forge's reason; `codefleet status` shows the pull request as it is now"
            }
            CampaignError::PushedHeadUnknown { .. } => {
                "delete the branch on the forge by hand if it is yours; a pull request opened by \
                 `codefleet run --pr` carries the marker"
            }
            CampaignError::Flags(_) => "see `codefleet help merge` and `codefleet help close`",
        };
        Some(hint.to_string())
    }
}

/// One repository of a campaign: where it is, its run branch and its forge repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pipeline's name.
    pub pipeline: String,
    /// The repository as named (a path, or a URL with any password redacted).
    pub path: String,
    /// Its short name, as branches and reports use it.
    pub name: String,
    /// The run branch, as `run` names it.
    pub branch: String,
    /// The forge repository, or why there is none.
    pub repo: Result<RepoId, String>,
    /// Where the branch is pushed (and deleted): the URL, or the checkout's `origin`. Never
    /// printed (it may hold a token).
    pub remote: Option<String>,
    /// The local checkout, for a local repository.
    pub checkout: Option<PathBuf>,
}

/// The campaign of `pipeline` over `targets` (resolved as `run` resolves them): each
/// repository's run branch, rendered by the plan as the run renders it, and its forge
/// repository. Fails only when the branch cannot be told (it changes every run).
pub fn members(
    pipeline: &Pipeline,
    targets: &[Target],
    forge: &dyn Forge,
) -> Result<Vec<Member>, Error> {
    if pipeline.branch.vars().any(|v| *v == Var::RunId) {
        return Err(CampaignError::BranchPerRun {
            pipeline: pipeline.name.clone(),
            template: pipeline.branch.source.clone(),
        }
        .into());
    }
    // The run id is unused: the branch does not depend on it (checked above).
    let planned = plan::build(
        pipeline,
        targets,
        &plan::PlanOptions {
            base: None,
            run_id: String::new(),
            list_files: false,
        },
    );
    Ok(planned
        .repos
        .into_iter()
        .map(|rp| {
            let (remote, checkout) = match &rp.target {
                Target::Remote(spec) => (Ok(spec.url.clone()), None),
                Target::Local(path) => (origin_url(path), Some(path.clone())),
                Target::Unsupported { reason, .. } => (Err(reason.clone()), None),
            };
            let branch = rp.branch.clone().unwrap_or_default();
            let repo = match (&remote, &rp.branch) {
                (_, None) => Err(rp.error.clone().unwrap_or_else(|| "no run branch".into())),
                (Err(why), _) => Err(why.clone()),
                (Ok(url), Some(_)) => forge.repo_id(url).ok_or_else(|| {
                    format!(
                        "cannot tell the owner and name of `{}`",
                        crate::git::redact_userinfo(url)
                    )
                }),
            };
            Member {
                pipeline: pipeline.name.clone(),
                path: rp.path,
                name: rp.name,
                branch,
                repo,
                remote: remote.ok(),
                checkout,
            }
        })
        .collect())
}

/// A checkout's `origin` (its push URL, else its URL), as `run --push` pushes to it.
fn origin_url(path: &std::path::Path) -> Result<String, String> {
    let git = git2::Repository::open(path).map_err(|e| e.message().to_string())?;
    let origin = git
        .find_remote("origin")
        .map_err(|_| "no `origin` remote".to_string())?;
    origin
        .pushurl()
        .ok()
        .flatten()
        .or(origin.url().ok())
        .map(str::to_string)
        .ok_or_else(|| "`origin` has no URL".to_string())
}

/// The error of a member without a forge repository, as its row reports it.
fn no_repo(member: &Member, why: &str) -> Error {
    CampaignError::NoForgeRepo {
        path: member.path.clone(),
        why: why.to_string(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn campaign_errors_keep_their_codes_and_hints() {
        let e = Error::from(CampaignError::BranchPerRun {
            pipeline: "p".into(),
            template: "cf/{{ run_id }}".into(),
        });
        assert_eq!(e.code, "E555");
        assert!(e.message.contains("`{{ run_id }}`"), "{}", e.message);
        assert_eq!(e.exit, crate::error::Exit::Usage);
        let e = Error::from(CampaignError::Flags("x".into()));
        assert_eq!((e.code, e.exit), ("E559", crate::error::Exit::Usage));
        let repo = RepoId {
            owner: "a".into(),
            name: "b".into(),
        };
        let e = Error::from(CampaignError::MergeFailed {
            repo: repo.clone(),
            number: 3,
            why: "head moved".into(),
        });
        assert_eq!(
            e.one_line().split(" (").next(),
            Some("[E557] a/b#3: head moved")
        );
        let e = Error::from(CampaignError::PushedHeadUnknown {
            repo,
            number: 3,
            branch: "cf/x".into(),
        });
        assert_eq!(e.code, "E558");
        let e = Error::from(CampaignError::NoForgeRepo {
            path: "x".into(),
            why: "no `origin` remote".into(),
        });
        assert_eq!(e.code, "E556");
    }
}
