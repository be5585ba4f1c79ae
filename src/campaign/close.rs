//! `close`: closes the campaign's open pull requests, in campaign order: a comment first when
//! asked, then the close. With `delete_branch`, the run branch is deleted on the remote with a
//! lease: only while it still points at the head codefleet pushed (the marker's `head`), so a
//! branch someone pushed to is left alone and said so. A pull request closed earlier (not
//! merged) has its branch deleted the same way, so a re-run finishes what a refusal left.
//! Nothing else is written.

use schemars::JsonSchema;
use serde::Serialize;

use super::merge::short;
use super::{CampaignError, Row, State, Tracked};
use crate::error::Error;
use crate::forge::{Forge, Forges, marker::Marker};
use crate::git::{Credentials, Deleted, PushError};

/// How to close.
#[derive(Debug, Clone)]
pub struct CloseOptions {
    /// A comment posted on each pull request before it is closed.
    pub comment: Option<String>,
    /// Delete the run branch on the remote (with the lease).
    pub delete_branch: bool,
    /// Say what would be done; change nothing.
    pub dry_run: bool,
    /// How to authenticate the deletion push.
    pub credentials: Credentials,
}

/// What happened to one repository's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseOutcome {
    /// Closed now.
    Closed,
    /// `--dry-run`: it would be closed.
    WouldClose,
    /// Already closed (not merged): only its branch is looked at.
    AlreadyClosed,
    /// Nothing to close (merged, no pull request, not readable).
    Skipped,
    /// The comment or the close failed.
    Failed,
}

/// What happened to the run branch.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BranchOutcome {
    /// Deleted on the remote.
    Deleted,
    /// `--dry-run`: it would be deleted (if still at the head codefleet pushed).
    WouldDelete,
    /// The remote had no such branch.
    AlreadyGone,
    /// Not deleted: it moved since codefleet pushed it, or the pushed head is unknown.
    Refused,
    /// The deletion failed (network, permissions).
    Failed,
}

/// One repository of a close.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CloseRow {
    /// The repository as `status` showed it before the close.
    #[serde(flatten)]
    pub status: Row,
    /// What `close` did to the pull request.
    pub outcome: CloseOutcome,
    /// What `close --delete-branch` did to the run branch (absent without the flag, or when
    /// nothing was closed).
    pub branch_outcome: Option<BranchOutcome>,
    /// Why, for skips, refusals and failures.
    pub message: Option<String>,
}

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CloseReport {
    /// The document's version (1).
    pub version: u32,
    /// Each repository, in campaign order.
    pub repos: Vec<CloseRow>,
}

impl CloseReport {
    /// Some close, comment or branch deletion failed or was refused.
    pub fn failed(&self) -> bool {
        self.repos.iter().any(|r| {
            r.outcome == CloseOutcome::Failed
                || matches!(
                    r.branch_outcome,
                    Some(BranchOutcome::Failed | BranchOutcome::Refused)
                )
        })
    }
}

/// Closes the open pull requests of `tracked` (read without details), in order.
pub fn close(tracked: Vec<Tracked>, forges: &Forges, options: &CloseOptions) -> CloseReport {
    let repos = tracked
        .into_iter()
        .map(|t| {
            let mut row = close_pr(&t, t.member.forge(forges), options);
            let closed = matches!(
                row.outcome,
                CloseOutcome::Closed | CloseOutcome::WouldClose | CloseOutcome::AlreadyClosed
            );
            if options.delete_branch && closed {
                let (outcome, message) = delete_branch(&t, options);
                row.branch_outcome = Some(outcome);
                if message.is_some() {
                    row.message = message;
                }
            }
            row
        })
        .collect();
    CloseReport {
        version: super::status::VERSION,
        repos,
    }
}

fn close_pr(t: &Tracked, forge: &dyn Forge, options: &CloseOptions) -> CloseRow {
    let mut row = CloseRow {
        status: t.row.clone(),
        outcome: CloseOutcome::Skipped,
        branch_outcome: None,
        message: None,
    };
    let (repo, pr) = match (t.repo(), &t.pr, t.row.state) {
        (Some(repo), Some(pr), State::Open | State::Draft) => (repo, pr),
        (_, _, State::Closed) => {
            row.outcome = CloseOutcome::AlreadyClosed;
            return row;
        }
        (_, _, state) => {
            row.message = Some(match &t.row.error {
                Some(e) => e.clone(),
                None => format!("no open pull request ({})", state.name()),
            });
            return row;
        }
    };
    if options.dry_run {
        row.outcome = CloseOutcome::WouldClose;
        return row;
    }
    let done = options
        .comment
        .as_deref()
        .map_or(Ok(()), |c| forge.comment(repo, pr.number, c))
        .and_then(|()| forge.close(repo, pr.number, None));
    match done {
        Ok(()) => row.outcome = CloseOutcome::Closed,
        Err(e) => {
            row.outcome = CloseOutcome::Failed;
            row.message = Some(e.one_line());
        }
    }
    row
}

/// Deletes the run branch if it is still at the head codefleet pushed.
fn delete_branch(t: &Tracked, options: &CloseOptions) -> (BranchOutcome, Option<String>) {
    let (Some(repo), Some(pr)) = (t.repo(), &t.pr) else {
        return (BranchOutcome::Failed, None);
    };
    let pushed = Marker::read(&pr.body)
        .and_then(|m| m.head)
        .and_then(|h| git2::Oid::from_str(&h).ok());
    let Some(pushed) = pushed else {
        let e = Error::from(CampaignError::PushedHeadUnknown {
            repo: repo.clone(),
            number: pr.number,
            branch: t.member.branch.clone(),
        });
        return (BranchOutcome::Refused, Some(e.one_line()));
    };
    if options.dry_run {
        return (BranchOutcome::WouldDelete, None);
    }
    let Some(url) = t.member.remote.as_deref() else {
        return (BranchOutcome::Failed, Some("no remote URL".into()));
    };
    let full = format!("refs/heads/{}", t.member.branch);
    let deleted = with_repository(t, |git| {
        crate::git::delete_with_lease(git, url, &full, pushed, &options.credentials)
            .map_err(Error::from)
    });
    match deleted {
        Ok(Deleted::Deleted) => (BranchOutcome::Deleted, None),
        Ok(Deleted::AlreadyGone) => (BranchOutcome::AlreadyGone, None),
        Err(e) if matches!(e.kind::<PushError>(), Some(PushError::Moved { .. })) => (
            BranchOutcome::Refused,
            Some(format!(
                "{} (codefleet pushed {}; not deleted)",
                e.one_line(),
                short(&pushed.to_string())
            )),
        ),
        Err(e) => (BranchOutcome::Failed, Some(e.one_line())),
    }
}

/// Runs `f` with a repository to push from: the checkout for a local repository, else an
/// empty temporary one (a deletion sends no objects).
fn with_repository<T>(
    t: &Tracked,
    f: impl FnOnce(&git2::Repository) -> Result<T, Error>,
) -> Result<T, Error> {
    if let Some(git) = t
        .member
        .checkout
        .as_ref()
        .and_then(|p| git2::Repository::open(p).ok())
    {
        return f(&git);
    }
    let dir = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), &e))?;
    let git = git2::Repository::init_bare(dir.path())
        .map_err(|e| Error::io(dir.path(), &std::io::Error::other(e.message().to_string())))?;
    f(&git)
}
