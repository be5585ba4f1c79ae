//! What the campaign reads about an open pull request on Gitea: whether it can merge and how
//! far behind its base it is, its head commit's statuses combined, and what its reviewers
//! decided.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{Gitea, paged, pct};
use crate::error::Error;
use crate::forge::{Checks, Mergeability, PullRequest, RepoId, ReviewDecision};

impl Gitea {
    /// `GET /repos/{owner}/{repo}/pulls/{index}` for `mergeable`, and
    /// `GET /repos/{owner}/{repo}/compare/{head}...{base}` for how far behind: the commits the
    /// base has since the merge base (`total_commits`; Gitea's compare has no `behind_by`).
    pub(super) fn get_mergeability(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
    ) -> Result<Mergeability, Error> {
        let body = self.get_pull(repo, pr.number)?;
        let mergeable = body.get("mergeable").and_then(Value::as_bool);
        let text = |p: &str| body.pointer(p).and_then(Value::as_str).unwrap_or("");
        let base = if text("/base/ref").is_empty() {
            pr.base.as_str()
        } else {
            text("/base/ref")
        };
        let head = if text("/head/sha").is_empty() {
            pr.head_sha.as_str()
        } else {
            text("/head/sha")
        };
        let basehead = format!("{}...{}", path(head), path(base));
        let url = self.url(repo, &format!("/compare/{basehead}"));
        let reply = self.send(super::Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("comparing with the base branch", repo, &reply));
        }
        let behind_by = reply
            .body
            .get("total_commits")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(Mergeability {
            mergeable,
            behind_by,
        })
    }

    /// `GET /repos/{owner}/{repo}/commits/{ref}/status`, all pages (Gitea combines `state` over
    /// one page only), combined by [`combine`].
    pub(super) fn get_checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
        let url = self.url(repo, &paged(&format!("/commits/{}/status", pct(sha))));
        let statuses = self.get_all(&url, Some("statuses"), "reading commit statuses", repo)?;
        let states: Vec<&str> = statuses
            .iter()
            .filter_map(|s| s.get("status").and_then(Value::as_str))
            .collect();
        Ok(combine(&states))
    }

    /// `GET /repos/{owner}/{repo}/pulls/{index}/reviews`, all pages, decided by [`decide`].
    pub(super) fn get_review_decision(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ReviewDecision, Error> {
        let url = self.url(repo, &paged(&format!("/pulls/{number}/reviews")));
        let reviews = self.get_all(&url, None, "reading reviews", repo)?;
        let reviews: Vec<(String, String, bool)> = reviews
            .iter()
            .map(|r| {
                let s = |p: &str| r.pointer(p).and_then(Value::as_str).unwrap_or("");
                let dismissed = r.get("dismissed").and_then(Value::as_bool) == Some(true);
                (
                    s("/user/login").to_string(),
                    s("/state").to_string(),
                    dismissed,
                )
            })
            .collect();
        Ok(decide(&reviews))
    }
}

/// A branch name or commit in a path: each `/`-separated part percent-encoded.
fn path(name: &str) -> String {
    name.split('/').map(pct).collect::<Vec<_>>().join("/")
}

/// Commit statuses (each context's latest, as Gitea lists them) combined as Gitea shows them:
/// any `failure` or `error` is [`Checks::Failure`]; else any `pending` is [`Checks::Pending`];
/// else none is [`Checks::None`]; else (`success`, `warning`, `skipped`) [`Checks::Success`].
pub(super) fn combine(states: &[&str]) -> Checks {
    if states.iter().any(|s| matches!(*s, "failure" | "error")) {
        Checks::Failure
    } else if states.contains(&"pending") {
        Checks::Pending
    } else if states.is_empty() {
        Checks::None
    } else {
        Checks::Success
    }
}

/// Reviews (reviewer, state, dismissed), oldest first: each reviewer's latest `APPROVED` or
/// `REQUEST_CHANGES` review that is not dismissed counts (`COMMENT`, `PENDING` and
/// `REQUEST_REVIEW` do not override it); any change request wins over approvals.
pub(super) fn decide(reviews: &[(String, String, bool)]) -> ReviewDecision {
    let mut latest: BTreeMap<&str, &str> = BTreeMap::new();
    for (user, state, dismissed) in reviews {
        match (state.as_str(), dismissed) {
            ("APPROVED" | "REQUEST_CHANGES", false) => {
                latest.insert(user, state);
            }
            ("APPROVED" | "REQUEST_CHANGES", true) => {
                latest.remove(user.as_str());
            }
            _ => {}
        }
    }
    if latest.values().any(|s| *s == "REQUEST_CHANGES") {
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

    #[test]
    fn statuses_combine_and_each_reviewers_latest_counts() {
        assert_eq!(combine(&[]), Checks::None);
        assert_eq!(combine(&["success", "warning", "skipped"]), Checks::Success);
        assert_eq!(combine(&["success", "pending"]), Checks::Pending);
        assert_eq!(combine(&["pending", "error"]), Checks::Failure);
        assert_eq!(combine(&["failure"]), Checks::Failure);
        let r = |u: &str, s: &str, d: bool| (u.to_string(), s.to_string(), d);
        assert_eq!(decide(&[]), ReviewDecision::None);
        assert_eq!(
            decide(&[r("a", "APPROVED", false), r("a", "COMMENT", false)]),
            ReviewDecision::Approved
        );
        assert_eq!(
            decide(&[r("a", "REQUEST_CHANGES", false), r("a", "APPROVED", false)]),
            ReviewDecision::Approved
        );
        assert_eq!(
            decide(&[r("a", "APPROVED", false), r("b", "REQUEST_CHANGES", false)]),
            ReviewDecision::ChangesRequested
        );
        assert_eq!(
            decide(&[r("a", "REQUEST_CHANGES", true)]),
            ReviewDecision::None
        );
    }
}
