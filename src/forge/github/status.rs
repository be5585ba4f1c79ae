//! What the campaign reads about an open pull request: whether it can merge and how far behind
//! its base it is, its head commit's checks (check runs and commit statuses, combined), and
//! what its reviewers decided.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{GitHub, Method, pct};
use crate::error::Error;
use crate::forge::{Checks, Mergeability, PullRequest, RepoId, ReviewDecision};

/// How many times `mergeable` is read while GitHub has not computed it yet.
const MERGEABLE_READS: u32 = 4;

impl GitHub {
    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}` for `mergeable` (read again with backoff
    /// while GitHub computes it; still unknown after that is `None`), and
    /// `GET /repos/{owner}/{repo}/compare/{base}...{head}` for `behind_by`.
    pub(super) fn get_mergeability(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
    ) -> Result<Mergeability, Error> {
        let url = self.url(repo, &format!("/pulls/{}", pr.number));
        let mut wait = self.backoff;
        let mut read = 0;
        let body = loop {
            read += 1;
            let reply = self.send(Method::Get, &url, None)?;
            if reply.status != 200 {
                return Err(self.refused("reading a pull request", repo, &reply));
            }
            let computed = !reply.body.get("mergeable").is_none_or(Value::is_null);
            if computed || read == MERGEABLE_READS {
                break reply.body;
            }
            std::thread::sleep(wait);
            wait *= 2;
        };
        let mergeable = body.get("mergeable").and_then(Value::as_bool);
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("");
        let base = if pr.base.is_empty() {
            text("/base/ref")
        } else {
            &pr.base
        };
        let head = if pr.head_sha.is_empty() {
            text("/head/sha")
        } else {
            &pr.head_sha
        };
        let basehead = format!("{}...{}", path(base), path(head));
        let url = self.url(repo, &format!("/compare/{basehead}?per_page=1"));
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("comparing with the base branch", repo, &reply));
        }
        let behind_by = reply
            .body
            .get("behind_by")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(Mergeability {
            mergeable,
            behind_by,
        })
    }

    /// `GET /repos/{owner}/{repo}/commits/{ref}/check-runs` and
    /// `GET /repos/{owner}/{repo}/commits/{ref}/status`, all pages, combined by [`combine`].
    pub(super) fn get_checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
        let runs_url = self.url(
            repo,
            &format!("/commits/{}/check-runs?per_page=100", pct(sha)),
        );
        let (runs, _) = self.get_all(
            &runs_url,
            Some("check_runs"),
            usize::MAX,
            "reading check runs",
            repo,
        )?;
        let status_url = self.url(repo, &format!("/commits/{}/status?per_page=100", pct(sha)));
        let (statuses, _) = self.get_all(
            &status_url,
            Some("statuses"),
            usize::MAX,
            "reading commit statuses",
            repo,
        )?;
        let field = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let runs: Vec<(String, String)> = runs
            .iter()
            .map(|r| (field(r, "status"), field(r, "conclusion")))
            .collect();
        let statuses: Vec<String> = statuses.iter().map(|s| field(s, "state")).collect();
        Ok(combine(&runs, &statuses))
    }

    /// `GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews`, all pages, decided by
    /// [`decide`].
    pub(super) fn get_review_decision(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ReviewDecision, Error> {
        let url = self.url(repo, &format!("/pulls/{number}/reviews?per_page=100"));
        let (reviews, _) = self.get_all(&url, None, usize::MAX, "reading reviews", repo)?;
        let reviews: Vec<(String, String)> = reviews
            .iter()
            .map(|r| {
                let s = |p: &str| {
                    r.pointer(p)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .to_string()
                };
                (s("/user/login"), s("/state"))
            })
            .collect();
        Ok(decide(&reviews))
    }
}

/// A branch name or commit in a path: each `/`-separated part percent-encoded.
fn path(name: &str) -> String {
    name.split('/').map(pct).collect::<Vec<_>>().join("/")
}

/// Check runs (`status`, `conclusion`) and commit statuses (`state`) combined as GitHub shows
/// them on a pull request:
/// - a run concluded `failure`, `timed_out`, `cancelled`, `action_required` or
///   `startup_failure`, or a status `failure` or `error`: [`Checks::Failure`];
/// - else a run not `completed` (queued, in progress, waiting) or a status `pending`:
///   [`Checks::Pending`];
/// - else no runs and no statuses: [`Checks::None`];
/// - else (every run succeeded, was neutral or skipped, every status `success`):
///   [`Checks::Success`].
pub(super) fn combine(runs: &[(String, String)], statuses: &[String]) -> Checks {
    const FAILED: [&str; 5] = [
        "failure",
        "timed_out",
        "cancelled",
        "action_required",
        "startup_failure",
    ];
    let run_failed = runs
        .iter()
        .any(|(status, conclusion)| status == "completed" && FAILED.contains(&conclusion.as_str()));
    let status_failed = statuses.iter().any(|s| s == "failure" || s == "error");
    if run_failed || status_failed {
        return Checks::Failure;
    }
    let pending = runs.iter().any(|(status, _)| status != "completed")
        || statuses.iter().any(|s| s == "pending");
    if pending {
        Checks::Pending
    } else if runs.is_empty() && statuses.is_empty() {
        Checks::None
    } else {
        Checks::Success
    }
}

/// Reviews (reviewer, state), oldest first, decided as GitHub's `reviewDecision`: each
/// reviewer's latest `APPROVED` or `CHANGES_REQUESTED` review counts (a later `COMMENTED` one
/// does not override it; `DISMISSED` withdraws it); any change request wins over approvals.
pub(super) fn decide(reviews: &[(String, String)]) -> ReviewDecision {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for (user, state) in reviews {
        match state.as_str() {
            "APPROVED" | "CHANGES_REQUESTED" => {
                latest.insert(user, state);
            }
            "DISMISSED" => {
                latest.remove(user.as_str());
            }
            _ => {}
        }
    }
    if latest.values().any(|s| *s == "CHANGES_REQUESTED") {
        ReviewDecision::ChangesRequested
    } else if latest.values().any(|s| *s == "APPROVED") {
        ReviewDecision::Approved
    } else {
        ReviewDecision::None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn checks_combine_as_github_shows_them() {
        type Row<'a> = (&'a [(&'a str, &'a str)], &'a [&'a str], Checks);
        let table: &[Row] = &[
            (&[], &[], Checks::None),
            (&[("completed", "success")], &[], Checks::Success),
            (
                &[("completed", "skipped"), ("completed", "neutral")],
                &["success"],
                Checks::Success,
            ),
            (&[], &["success"], Checks::Success),
            (&[("completed", "success")], &["pending"], Checks::Pending),
            (&[("in_progress", "")], &["success"], Checks::Pending),
            (&[("queued", "")], &[], Checks::Pending),
            (
                &[("completed", "failure"), ("in_progress", "")],
                &[],
                Checks::Failure,
            ),
            (&[("completed", "timed_out")], &[], Checks::Failure),
            (&[("completed", "cancelled")], &[], Checks::Failure),
            (&[("completed", "action_required")], &[], Checks::Failure),
            (&[("completed", "startup_failure")], &[], Checks::Failure),
            (&[("completed", "success")], &["error"], Checks::Failure),
            (&[], &["failure", "pending"], Checks::Failure),
        ];
        for (runs, statuses, want) in table {
            let statuses: Vec<String> = statuses.iter().map(|s| s.to_string()).collect();
            assert_eq!(
                combine(&pairs(runs), &statuses),
                *want,
                "{runs:?} {statuses:?}"
            );
        }
    }

    #[test]
    fn each_reviewers_latest_decision_counts() {
        let table: &[(&[(&str, &str)], ReviewDecision)] = &[
            (&[], ReviewDecision::None),
            (&[("a", "COMMENTED")], ReviewDecision::None),
            (&[("a", "APPROVED")], ReviewDecision::Approved),
            (
                &[("a", "APPROVED"), ("a", "COMMENTED")],
                ReviewDecision::Approved,
            ),
            (
                &[("a", "CHANGES_REQUESTED"), ("a", "APPROVED")],
                ReviewDecision::Approved,
            ),
            (
                &[("a", "APPROVED"), ("b", "CHANGES_REQUESTED")],
                ReviewDecision::ChangesRequested,
            ),
            (
                &[("a", "CHANGES_REQUESTED"), ("a", "DISMISSED")],
                ReviewDecision::None,
            ),
            (
                &[("a", "APPROVED"), ("a", "DISMISSED"), ("b", "APPROVED")],
                ReviewDecision::Approved,
            ),
        ];
        for (reviews, want) in table {
            assert_eq!(decide(&pairs(reviews)), *want, "{reviews:?}");
        }
    }
}
