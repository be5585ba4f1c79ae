//! Pull requests: listed by head branch, opened, edited (title, body, state), commented,
//! labelled, reviewers requested, merged; and a branch pointed at a commit through the API.

use serde_json::{Value, json};

use super::{GitHub, Method, pct};
use crate::error::Error;
use crate::forge::{Created, MergeMethod, Merged, NewPullRequest, PrState, PullRequest, RepoId};

impl GitHub {
    /// `GET /repos/{owner}/{repo}/pulls?head={owner}:{branch}&state=all`, all pages: every pull
    /// request from the branch, newest first.
    pub(super) fn list_pulls(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error> {
        let url = self.url(
            repo,
            &format!(
                "/pulls?head={}%3A{}&state=all&per_page=100",
                pct(&repo.owner),
                pct(head)
            ),
        );
        let (items, _) = self.get_all(&url, None, usize::MAX, "listing pull requests", repo)?;
        let mut prs: Vec<PullRequest> = items
            .iter()
            // The filter is GitHub's; a pull request from another branch is never ours.
            .filter(|v| {
                v.pointer("/head/ref")
                    .and_then(Value::as_str)
                    .is_none_or(|r| r == head)
            })
            .map(parse_pr)
            .collect();
        prs.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(prs)
    }

    /// `POST /repos/{owner}/{repo}/pulls`, spaced `pace` after the previous one; then, when
    /// there are assignees, one `POST /repos/{owner}/{repo}/issues/{issue_number}/assignees`
    /// (GitHub's create takes none; `remove_source_branch` is a repository setting there).
    pub(super) fn create_pull(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        let created = self.post_pull(repo, pr)?;
        if let Created::New(opened) = &created
            && !pr.assignees.is_empty()
        {
            self.post_assignees(repo, opened.number, &pr.assignees)?;
        }
        Ok(created)
    }

    /// `POST /repos/{owner}/{repo}/issues/{issue_number}/assignees`.
    fn post_assignees(&self, repo: &RepoId, number: u64, people: &[String]) -> Result<(), Error> {
        let url = self.url(repo, &format!("/issues/{number}/assignees"));
        let reply = self.send(Method::Post, &url, Some(&json!({ "assignees": people })))?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("assigning people", repo, &reply));
        }
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/pulls`.
    fn post_pull(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        self.wait_pace();
        let body = json!({
            "title": pr.title,
            "body": pr.body,
            "head": pr.head,
            "base": pr.base,
            "draft": pr.draft,
        });
        let reply = self.send(Method::Post, &self.url(repo, "/pulls"), Some(&body))?;
        match reply.status {
            201 | 200 => Ok(Created::New(parse_pr(&reply.body))),
            422 if reply.body.to_string().contains("already exists") => Ok(Created::AlreadyExists),
            _ => Err(self.refused("opening a pull request", repo, &reply)),
        }
    }

    /// `PATCH /repos/{owner}/{repo}/pulls/{pull_number}` with `patch`.
    pub(super) fn patch_pull(
        &self,
        repo: &RepoId,
        number: u64,
        patch: Value,
        what: &'static str,
    ) -> Result<PullRequest, Error> {
        let url = self.url(repo, &format!("/pulls/{number}"));
        let reply = self.send(Method::Patch, &url, Some(&patch))?;
        if reply.status != 200 {
            return Err(self.refused(what, repo, &reply));
        }
        Ok(parse_pr(&reply.body))
    }

    /// `POST /repos/{owner}/{repo}/issues/{issue_number}/comments`.
    pub(super) fn post_comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error> {
        let url = self.url(repo, &format!("/issues/{number}/comments"));
        let reply = self.send(Method::Post, &url, Some(&json!({ "body": body })))?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("commenting on a pull request", repo, &reply));
        }
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/issues/{issue_number}/labels`.
    pub(super) fn post_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), Error> {
        let reply = self.send(
            Method::Post,
            &self.url(repo, &format!("/issues/{number}/labels")),
            Some(&json!({ "labels": labels })),
        )?;
        if reply.status != 200 {
            return Err(self.refused("adding labels", repo, &reply));
        }
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers`; `org/team` names
    /// a team, anything else a user.
    pub(super) fn post_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        let (teams, users): (Vec<&String>, Vec<&String>) =
            reviewers.iter().partition(|r| r.contains('/'));
        let teams: Vec<&str> = teams.iter().filter_map(|t| t.rsplit('/').next()).collect();
        let reply = self.send(
            Method::Post,
            &self.url(repo, &format!("/pulls/{number}/requested_reviewers")),
            Some(&json!({ "reviewers": users, "team_reviewers": teams })),
        )?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("requesting reviewers", repo, &reply));
        }
        Ok(())
    }

    /// `PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge` with `sha` (the head the caller
    /// read: GitHub refuses with 409 when the head moved since) and `merge_method` when given.
    pub(super) fn put_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Merged, Error> {
        let mut body = json!({});
        if !pr.head_sha.is_empty() {
            body["sha"] = json!(pr.head_sha);
        }
        if let Some(m) = method {
            body["merge_method"] = json!(match m {
                MergeMethod::Merge => "merge",
                MergeMethod::Squash => "squash",
                MergeMethod::Rebase => "rebase",
            });
        }
        let url = self.url(repo, &format!("/pulls/{}/merge", pr.number));
        let reply = self.send(Method::Put, &url, Some(&body))?;
        let message = || {
            let m = reply.body.get("message").and_then(Value::as_str);
            self.redact(m.unwrap_or("no message"))
        };
        match reply.status {
            200 => Ok(Merged::Merged(
                reply
                    .body
                    .get("sha")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string(),
            )),
            409 => Ok(Merged::HeadMoved),
            405 | 422 => Ok(Merged::NotMergeable(message())),
            _ => Err(self.refused("merging a pull request", repo, &reply)),
        }
    }

    /// `PATCH /repos/{owner}/{repo}/git/refs/heads/{branch}` (`force` lets it move backwards);
    /// when GitHub answers that the reference does not exist, `POST /repos/{owner}/{repo}/git/refs`.
    pub(super) fn put_branch(
        &self,
        repo: &RepoId,
        branch: &str,
        sha: &str,
        force: bool,
    ) -> Result<(), Error> {
        let path: Vec<String> = branch.split('/').map(pct).collect();
        let url = self.url(repo, &format!("/git/refs/heads/{}", path.join("/")));
        let reply = self.send(
            Method::Patch,
            &url,
            Some(&json!({ "sha": sha, "force": force })),
        )?;
        if reply.status == 200 {
            return Ok(());
        }
        let absent = reply.status == 422
            && reply
                .body
                .get("message")
                .and_then(Value::as_str)
                .is_some_and(|m| m.contains("Reference does not exist"));
        if !absent {
            return Err(self.refused("moving a branch", repo, &reply));
        }
        let reply = self.send(
            Method::Post,
            &self.url(repo, "/git/refs"),
            Some(&json!({ "ref": format!("refs/heads/{branch}"), "sha": sha })),
        )?;
        if reply.status != 201 {
            return Err(self.refused("creating a branch", repo, &reply));
        }
        Ok(())
    }
}

/// A pull request object (full or as listed): `state` and `merged_at` make its state.
pub(super) fn parse_pr(v: &Value) -> PullRequest {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let merged = v.get("merged_at").is_some_and(|m| !m.is_null())
        || v.get("merged").and_then(Value::as_bool) == Some(true);
    let state = match (s("/state").as_str(), merged) {
        ("open", _) => PrState::Open,
        (_, true) => PrState::Merged,
        _ => PrState::Closed,
    };
    PullRequest {
        number: v.get("number").and_then(Value::as_u64).unwrap_or(0),
        url: s("/html_url"),
        title: s("/title"),
        body: s("/body"),
        state,
        draft: v.get("draft").and_then(Value::as_bool) == Some(true),
        head_sha: s("/head/sha"),
        base: s("/base/ref"),
        labels: v
            .get("labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
        node_id: s("/node_id"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_state_comes_from_state_and_merged_at() {
        let pr = |state: &str, merged_at: Value| {
            parse_pr(
                &json!({"number": 3, "state": state, "merged_at": merged_at, "draft": true,
                "head": {"ref": "x", "sha": "abc"}, "base": {"ref": "main"}, "body": null,
                "labels": [{"name": "bot"}], "node_id": "PR_1"}),
            )
        };
        assert_eq!(pr("open", Value::Null).state, PrState::Open);
        assert_eq!(pr("closed", Value::Null).state, PrState::Closed);
        let merged = pr("closed", json!("2026-01-01T00:00:00Z"));
        assert_eq!(merged.state, PrState::Merged);
        assert_eq!(
            (
                merged.head_sha.as_str(),
                merged.base.as_str(),
                merged.body.as_str()
            ),
            ("abc", "main", "")
        );
        assert!(merged.draft);
        assert_eq!(merged.labels, ["bot"]);
        assert_eq!(merged.node_id, "PR_1");
    }
}
