//! Who owns a run branch's commits, before codefleet replaces them: commits it did not make
//! (E302), commits another pipeline made on the same `branch:` (E309), on the local branch and
//! on the remote's as last fetched; and the lease of a push, which is what codefleet itself last
//! pushed there, never a remote-tracking ref a `git fetch` can move under it.

use std::collections::HashSet;

use crate::error::Error;

use super::errors::{self, GitError};
use super::repo::Repo;

/// What a branch tip holds beyond what may be replaced freely.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Claims {
    /// Commits codefleet did not make, newest first (at most 100).
    pub foreign: Vec<git2::Oid>,
    /// Another pipeline that made commits there, with its newest such commit.
    pub other_pipeline: Option<(String, git2::Oid)>,
}

const LIMIT: usize = 100;

/// Whether a commit message carries codefleet's run trailer.
pub(crate) fn made_by_codefleet(message: &str) -> bool {
    message.contains("\nCodefleet-Run: ")
}

fn trailer<'m>(message: &'m str, key: &str) -> Option<&'m str> {
    message
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
        .map(str::trim)
}

impl Repo {
    /// The commits of `tip` that `hide` (and every run's base in the journal) do not reach:
    /// those codefleet did not make — neither journaled here nor carrying its `Codefleet-Run`
    /// trailer (a clone of the remote made them on another machine) — and the newest one made
    /// by a pipeline other than `pipeline`.
    pub fn claims(
        &self,
        tip: git2::Oid,
        hide: &[git2::Oid],
        pipeline: &str,
    ) -> Result<Claims, Error> {
        let runs = self.journal().list()?;
        let known: HashSet<git2::Oid> = runs.iter().flat_map(|r| r.commits()).collect();
        let fail = |e: git2::Error| errors::git("walk a run branch", &e);
        let mut walk = self.inner.revwalk().map_err(fail)?;
        walk.push(tip).map_err(fail)?;
        for stop in hide.iter().chain(runs.iter().map(|r| &r.base)) {
            // A stop point missing from the object database cannot hide anything.
            let _ = walk.hide(*stop);
        }
        let mut out = Claims::default();
        for id in walk {
            let id = id.map_err(fail)?;
            let commit = self.inner.find_commit(id).map_err(fail)?;
            let message = commit.message().unwrap_or_default();
            let ours = known.contains(&id) || made_by_codefleet(message);
            if !ours {
                if out.foreign.len() < LIMIT {
                    out.foreign.push(id);
                }
            } else if out.other_pipeline.is_none()
                && let Some(p) = trailer(message, "Codefleet-Pipeline")
                && p != pipeline
            {
                out.other_pipeline = Some((p.to_string(), id));
            }
            if out.foreign.len() >= LIMIT && out.other_pipeline.is_some() {
                break;
            }
        }
        Ok(out)
    }

    /// Refuses to run over a run branch whose commits are not all this pipeline's: commits
    /// codefleet did not make on the local branch (E302; skipped when `remote_checked`, a
    /// clone whose remote branch was found to hold only codefleet's commits), commits of
    /// another pipeline there (E309), and the same on the remote's branch as last fetched,
    /// which the run's push would replace.
    pub fn check_run_branch(
        &self,
        branch: &str,
        base: git2::Oid,
        pipeline: &str,
        remote_checked: bool,
    ) -> Result<(), Error> {
        let local = self.branch_tip(branch)?;
        if !remote_checked {
            let foreign = self.foreign_commits(branch)?;
            if !foreign.is_empty() {
                return Err(self::foreign(&format!("branch `{branch}`"), &foreign));
            }
        }
        if let Some(tip) = local
            && let Some((owner, newest)) = self.claims(tip, &[base], pipeline)?.other_pipeline
        {
            return Err(other_pipeline(
                &format!("branch `{branch}`"),
                branch,
                &owner,
                newest,
            ));
        }
        let Some(fetched) = self.fetched_tip(branch).filter(|f| Some(*f) != local) else {
            return Ok(());
        };
        let tracking = format!("refs/remotes/origin/{branch}");
        let hide: Vec<git2::Oid> = self
            .remote_branch_tips(&tracking)
            .into_iter()
            .chain([base])
            .chain(local)
            .collect();
        let claims = self.claims(fetched, &hide, pipeline)?;
        let where_ = format!("the remote's branch `origin/{branch}` (as last fetched)");
        if !claims.foreign.is_empty() {
            return Err(self::foreign(&where_, &claims.foreign)
                .hint("look at them (`git log origin/BRANCH`); re-run with --force to replace them on the remote, or pick another `branch:`".replace("BRANCH", branch)));
        }
        if let Some((owner, newest)) = claims.other_pipeline {
            return Err(other_pipeline(&where_, branch, &owner, newest));
        }
        Ok(())
    }

    /// The remote's `branch` as this repository last fetched it (`refs/remotes/origin/…`).
    pub fn fetched_tip(&self, branch: &str) -> Option<git2::Oid> {
        self.inner
            .refname_to_id(&format!("refs/remotes/origin/{branch}"))
            .ok()
    }

    /// What a push of `branch` to `url` may expect the remote to hold (`None`: absent): the
    /// tip codefleet last pushed there; or what was last fetched when that holds only
    /// codefleet's commits of this `pipeline` beyond `new_tip`, the base and the remote's
    /// other branches (an earlier run on another machine); with `force`, what was last
    /// fetched, like `git push --force-with-lease`.
    pub fn push_lease(
        &self,
        url: &str,
        branch: &str,
        pipeline: &str,
        new_tip: git2::Oid,
        force: bool,
    ) -> Result<Option<git2::Oid>, Error> {
        let pushed = self.journal().last_push(url, branch).map(|p| p.tip);
        let Some(fetched) = self.fetched_tip(branch) else {
            return Ok(pushed);
        };
        if force || Some(fetched) == pushed {
            return Ok(Some(fetched));
        }
        // What the push keeps reachable on the remote: the new tip and its other branches.
        let hide: Vec<git2::Oid> = self
            .remote_branch_tips(&format!("refs/remotes/origin/{branch}"))
            .into_iter()
            .chain([new_tip])
            .collect();
        let claims = self.claims(fetched, &hide, pipeline)?;
        Ok(
            if claims.foreign.is_empty() && claims.other_pipeline.is_none() {
                Some(fetched)
            } else {
                pushed
            },
        )
    }

    /// The tips of `refs/remotes/origin/*` but `except`.
    pub fn remote_branch_tips(&self, except: &str) -> Vec<git2::Oid> {
        let Ok(refs) = self.inner.references_glob("refs/remotes/origin/*") else {
            return Vec::new();
        };
        refs.flatten()
            .filter(|r| r.name().ok() != Some(except))
            .filter_map(|r| r.resolve().ok()?.target())
            .collect()
    }
}

/// `E302`: `branch` (where: "branch `x`" or "the remote's branch `origin/x`, as last fetched")
/// has commits codefleet did not make.
pub(crate) fn foreign(where_: &str, foreign: &[git2::Oid]) -> Error {
    GitError::Foreign {
        place: where_.to_string(),
        count: foreign.len().min(LIMIT),
        capped: foreign.len() >= LIMIT,
        newest: foreign.first().map_or("?".into(), |c| errors::short(*c)),
    }
    .into()
}

/// `E309`: `branch` holds another pipeline's commits.
pub(crate) fn other_pipeline(where_: &str, branch: &str, owner: &str, newest: git2::Oid) -> Error {
    GitError::OtherPipeline {
        place: where_.to_string(),
        branch: branch.to_string(),
        owner: owner.to_string(),
        newest: errors::short(newest),
    }
    .into()
}
