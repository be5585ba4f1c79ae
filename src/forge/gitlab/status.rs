//! What the campaign reads about an open merge request and how it merges one: mergeability
//! (`detailed_merge_status`, `has_conflicts`, `diverged_commits_count`), the newest pipeline of
//! a commit, the reviewers' decision (changes requested, approvals), and merging with the head
//! it was read at (`sha`), now or when the pipeline succeeds.

use serde_json::{Value, json};

use super::{GitLab, Method, message, pct};
use crate::error::Error;
use crate::forge::{
    Checks, ForgeError, MergeMethod, Mergeability, Merged, PullRequest, RepoId, ReviewDecision,
};

/// How many times the merge status is read while GitLab is still checking it.
const MERGE_STATUS_READS: u32 = 4;

/// `detailed_merge_status` values that mean GitLab has not checked yet.
const CHECKING: [&str; 4] = ["checking", "unchecked", "preparing", "approvals_syncing"];

impl GitLab {
    /// `GET /projects/:id/merge_requests/:merge_request_iid?include_diverged_commits_count=true`,
    /// read again with backoff while `detailed_merge_status` says GitLab is still checking (still
    /// checking after that is `None`); a conflict is `Some(false)`; `behind_by` is
    /// `diverged_commits_count`.
    pub(super) fn get_mergeability(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
    ) -> Result<Mergeability, Error> {
        let mut wait = self.backoff;
        let mut read = 0;
        let body = loop {
            read += 1;
            let body = self.get_merge_request(repo, pr.number, true)?;
            let status = body
                .get("detailed_merge_status")
                .and_then(Value::as_str)
                .unwrap_or("");
            if !CHECKING.contains(&status) || read == MERGE_STATUS_READS {
                break body;
            }
            std::thread::sleep(wait);
            wait *= 2;
        };
        let status = body
            .get("detailed_merge_status")
            .and_then(Value::as_str)
            .unwrap_or("");
        let conflict = status == "conflict"
            || body.get("has_conflicts").and_then(Value::as_bool) == Some(true);
        let mergeable = if conflict {
            Some(false)
        } else if CHECKING.contains(&status) {
            None
        } else {
            Some(true)
        };
        let behind_by = body
            .get("diverged_commits_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        Ok(Mergeability {
            mergeable,
            behind_by,
        })
    }

    /// `GET /projects/:id/pipelines?sha=…` (newest first): the newest pipeline's status, by
    /// [`pipeline_checks`]; no pipeline is [`Checks::None`].
    pub(super) fn get_pipeline(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
        let url = self.url(
            repo,
            &format!(
                "/pipelines?sha={}&order_by=id&sort=desc&per_page=1",
                pct(sha)
            ),
        );
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("reading pipelines", repo, &reply));
        }
        let newest = reply
            .body
            .as_array()
            .and_then(|a| a.first())
            .and_then(|p| p.get("status"))
            .and_then(Value::as_str);
        Ok(newest.map_or(Checks::None, pipeline_checks))
    }

    /// `GET …/merge_requests/:merge_request_iid/reviewers` (a reviewer whose state is
    /// `requested_changes` is a change request) and `GET …/approvals` (anyone in `approved_by`
    /// is an approval); a change request wins.
    pub(super) fn get_review_decision(
        &self,
        repo: &RepoId,
        number: u64,
    ) -> Result<ReviewDecision, Error> {
        let url = self.url(repo, &format!("/merge_requests/{number}/reviewers"));
        let reviewers = self.get_all(&url, "reading reviewers", repo)?;
        if reviewers
            .iter()
            .any(|r| r.get("state").and_then(Value::as_str) == Some("requested_changes"))
        {
            return Ok(ReviewDecision::ChangesRequested);
        }
        let url = self.url(repo, &format!("/merge_requests/{number}/approvals"));
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("reading approvals", repo, &reply));
        }
        let approved = reply
            .body
            .get("approved_by")
            .and_then(Value::as_array)
            .is_some_and(|a| !a.is_empty());
        Ok(if approved {
            ReviewDecision::Approved
        } else {
            ReviewDecision::None
        })
    }

    /// `PUT /projects/:id/merge_requests/:merge_request_iid/merge` with `sha` (GitLab answers
    /// 409 when the source branch moved since) and `squash` for a squash merge. GitLab's
    /// rebase-then-merge is two steps (`PUT …/rebase`, which runs in the background, then a
    /// merge), so a rebase merge is not offered.
    pub(super) fn put_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Merged, Error> {
        let body = merge_body(pr, method, false)?;
        let url = self.url(repo, &format!("/merge_requests/{}/merge", pr.number));
        let reply = self.send(Method::Put, &url, Some(&body))?;
        match reply.status {
            200 => {
                let sha = ["merge_commit_sha", "squash_commit_sha", "sha"]
                    .iter()
                    .find_map(|k| reply.body.get(*k).and_then(Value::as_str))
                    .unwrap_or("");
                Ok(Merged::Merged(sha.to_string()))
            }
            409 => Ok(Merged::HeadMoved),
            405 | 406 | 422 => Ok(Merged::NotMergeable(self.redact(&message(&reply.body)))),
            _ => Err(self.refused("merging a merge request", repo, &reply)),
        }
    }

    /// `PUT …/merge` with `merge_when_pipeline_succeeds`: GitLab merges once the pipeline
    /// succeeds (at once when there is none to wait for).
    pub(super) fn put_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        let body = merge_body(pr, method, true)?;
        let url = self.url(repo, &format!("/merge_requests/{}/merge", pr.number));
        let reply = self.send(Method::Put, &url, Some(&body))?;
        if reply.status != 200 {
            return Err(self.refused(
                "setting a merge request to merge when the pipeline succeeds",
                repo,
                &reply,
            ));
        }
        Ok(())
    }
}

/// The body of `PUT …/merge`.
fn merge_body(pr: &PullRequest, method: Option<MergeMethod>, auto: bool) -> Result<Value, Error> {
    let mut body = json!({});
    if !pr.head_sha.is_empty() {
        body["sha"] = json!(pr.head_sha);
    }
    match method {
        Some(MergeMethod::Squash) => body["squash"] = json!(true),
        Some(MergeMethod::Merge) => body["squash"] = json!(false),
        Some(MergeMethod::Rebase) => {
            return Err(ForgeError::Unsupported {
                forge: "GitLab",
                what: "a rebase merge in one step (GitLab rebases with `PUT …/rebase` in the \
                       background; set the project's merge method to fast-forward, or merge \
                       or squash)",
            }
            .into());
        }
        None => {}
    }
    if auto {
        body["merge_when_pipeline_succeeds"] = json!(true);
    }
    Ok(body)
}

/// A pipeline's `status` as checks: `success` and `skipped` passed; `failed`, `canceled` and
/// `canceling` failed; anything else (`created`, `waiting_for_resource`, `preparing`,
/// `pending`, `running`, `scheduled`, `manual`) has not finished.
pub(super) fn pipeline_checks(status: &str) -> Checks {
    match status {
        "success" | "skipped" => Checks::Success,
        "failed" | "canceled" | "canceling" => Checks::Failure,
        _ => Checks::Pending,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pipeline_statuses_read_as_checks() {
        for (s, want) in [
            ("success", Checks::Success),
            ("skipped", Checks::Success),
            ("failed", Checks::Failure),
            ("canceled", Checks::Failure),
            ("running", Checks::Pending),
            ("pending", Checks::Pending),
            ("manual", Checks::Pending),
            ("created", Checks::Pending),
        ] {
            assert_eq!(pipeline_checks(s), want, "{s}");
        }
    }

    #[test]
    fn a_merge_sends_the_head_and_squash() {
        let pr = PullRequest {
            head_sha: "abc".into(),
            ..PullRequest::default()
        };
        let b = merge_body(&pr, Some(MergeMethod::Squash), true).unwrap();
        assert_eq!(
            b,
            json!({"sha": "abc", "squash": true, "merge_when_pipeline_succeeds": true})
        );
        let err = merge_body(&pr, Some(MergeMethod::Rebase), false).unwrap_err();
        assert_eq!(err.code, "E536");
    }
}
