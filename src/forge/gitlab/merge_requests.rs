//! Merge requests: listed by source branch, opened (a draft by GitLab's `Draft:` title prefix;
//! assignees and reviewers by username, looked up as ids), edited (title, description, state
//! events, labels, reviewers), and noted.

use serde_json::{Value, json};

use super::{GitLab, GitLabError, Method, pct};
use crate::error::Error;
use crate::forge::{Created, NewPullRequest, PrState, PullRequest, RepoId};

/// The title prefix that makes a merge request a draft.
const DRAFT: &str = "Draft: ";

impl GitLab {
    /// `GET /projects/:id/merge_requests?source_branch=…&state=all`, all pages: every merge
    /// request from the branch, newest first.
    pub(super) fn list_merge_requests(
        &self,
        repo: &RepoId,
        head: &str,
    ) -> Result<Vec<PullRequest>, Error> {
        let url = self.url(
            repo,
            &format!(
                "/merge_requests?source_branch={}&state=all&order_by=created_at&sort=desc&per_page=100",
                pct(head)
            ),
        );
        let items = self.get_all(&url, "listing merge requests", repo)?;
        let mut prs: Vec<PullRequest> = items
            .iter()
            // The filter is GitLab's; a merge request from another branch is never ours.
            .filter(|v| {
                v.get("source_branch")
                    .and_then(Value::as_str)
                    .is_none_or(|b| b == head)
            })
            .map(parse_mr)
            .collect();
        prs.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(prs)
    }

    /// `POST /projects/:id/merge_requests`; GitLab's 409 (another open merge request for the
    /// branch) is [`Created::AlreadyExists`].
    pub(super) fn create_merge_request(
        &self,
        repo: &RepoId,
        pr: &NewPullRequest,
    ) -> Result<Created, Error> {
        let title = if pr.draft {
            format!("{DRAFT}{}", pr.title)
        } else {
            pr.title.clone()
        };
        let mut body = json!({
            "source_branch": pr.head,
            "target_branch": pr.base,
            "title": title,
            "description": pr.body,
            "remove_source_branch": pr.remove_source_branch,
        });
        // Labels and reviewers are added after opening, by the shared flow (`open_or_update`).
        if !pr.assignees.is_empty() {
            body["assignee_ids"] = json!(self.user_ids(repo, &pr.assignees, "an assignee")?);
        }
        let reply = self.send(
            Method::Post,
            &self.url(repo, "/merge_requests"),
            Some(&body),
        )?;
        match reply.status {
            201 | 200 => Ok(Created::New(parse_mr(&reply.body))),
            409 => Ok(Created::AlreadyExists),
            _ => Err(self.refused("opening a merge request", repo, &reply)),
        }
    }

    /// `PUT /projects/:id/merge_requests/:merge_request_iid` with `title` and `description`;
    /// a draft stays one (its title keeps GitLab's `Draft:` prefix).
    pub(super) fn update_merge_request(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        let current = self.get_merge_request(repo, number, false)?;
        let draft = current.get("draft").and_then(Value::as_bool) == Some(true);
        let title = if draft {
            format!("{DRAFT}{title}")
        } else {
            title.to_string()
        };
        let put = json!({ "title": title, "description": body });
        self.put_merge_request(repo, number, &put, "updating a merge request")
    }

    /// `GET /projects/:id/merge_requests/:merge_request_iid` (with
    /// `include_diverged_commits_count=true` when `diverged`): the object as GitLab sent it.
    pub(super) fn get_merge_request(
        &self,
        repo: &RepoId,
        number: u64,
        diverged: bool,
    ) -> Result<Value, Error> {
        let query = if diverged {
            "?include_diverged_commits_count=true"
        } else {
            ""
        };
        let url = self.url(repo, &format!("/merge_requests/{number}{query}"));
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("reading a merge request", repo, &reply));
        }
        Ok(reply.body)
    }

    /// `PUT /projects/:id/merge_requests/:merge_request_iid` with `put`.
    pub(super) fn put_merge_request(
        &self,
        repo: &RepoId,
        number: u64,
        put: &Value,
        what: &'static str,
    ) -> Result<PullRequest, Error> {
        let url = self.url(repo, &format!("/merge_requests/{number}"));
        let reply = self.send(Method::Put, &url, Some(put))?;
        if reply.status != 200 {
            return Err(self.refused(what, repo, &reply));
        }
        Ok(parse_mr(&reply.body))
    }

    /// `POST /projects/:id/merge_requests/:merge_request_iid/notes`.
    pub(super) fn post_note(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error> {
        let url = self.url(repo, &format!("/merge_requests/{number}/notes"));
        let reply = self.send(Method::Post, &url, Some(&json!({ "body": body })))?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("commenting on a merge request", repo, &reply));
        }
        Ok(())
    }

    /// The merge request's reviewers with `reviewers` added: `reviewer_ids` replaces the list,
    /// so the current one is read first.
    pub(super) fn add_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        let current = self.get_merge_request(repo, number, false)?;
        let mut ids: Vec<u64> = current
            .get("reviewers")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|u| u.get("id").and_then(Value::as_u64))
            .collect();
        for id in self.user_ids(repo, reviewers, "a reviewer")? {
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        let put = json!({ "reviewer_ids": ids });
        self.put_merge_request(repo, number, &put, "requesting reviewers")
            .map(|_| ())
    }

    /// `GET /users?username=…` for each name (a leading `@` is dropped): their ids, in order;
    /// a name GitLab does not know is `E565`.
    fn user_ids(
        &self,
        repo: &RepoId,
        names: &[String],
        role: &'static str,
    ) -> Result<Vec<u64>, Error> {
        let mut ids = Vec::new();
        for name in names {
            let name = name.trim_start_matches('@');
            let url = self.api_url(&format!("/users?username={}", pct(name)));
            let reply = self.send(Method::Get, &url, None)?;
            if reply.status != 200 {
                return Err(self.refused("looking up a user", repo, &reply));
            }
            let id = reply
                .body
                .as_array()
                .into_iter()
                .flatten()
                .find(|u| {
                    u.get("username")
                        .and_then(Value::as_str)
                        .is_some_and(|n| n.eq_ignore_ascii_case(name))
                })
                .and_then(|u| u.get("id").and_then(Value::as_u64));
            match id {
                Some(id) => ids.push(id),
                None => {
                    return Err(GitLabError::UnknownUser {
                        repo: repo.clone(),
                        username: name.to_string(),
                        role,
                    }
                    .into());
                }
            }
        }
        Ok(ids)
    }
}

/// A merge request object: `iid` is its number, `state` `opened` (or `locked`, merging) is open,
/// a draft's title is read without GitLab's draft prefix.
pub(super) fn parse_mr(v: &Value) -> PullRequest {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let state = match s("state").as_str() {
        "merged" => PrState::Merged,
        "closed" => PrState::Closed,
        _ => PrState::Open,
    };
    let draft = v.get("draft").and_then(Value::as_bool) == Some(true)
        || v.get("work_in_progress").and_then(Value::as_bool) == Some(true);
    let title = s("title");
    let title = if draft { undrafted(&title) } else { title };
    PullRequest {
        number: v.get("iid").and_then(Value::as_u64).unwrap_or(0),
        url: s("web_url"),
        title,
        body: s("description"),
        state,
        draft,
        head_sha: s("sha"),
        base: s("target_branch"),
        labels: v
            .get("labels")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|l| l.as_str().or_else(|| l.get("name").and_then(Value::as_str)))
            .map(str::to_string)
            .collect(),
        node_id: v
            .get("id")
            .and_then(Value::as_u64)
            .map(|id| format!("gid://gitlab/MergeRequest/{id}"))
            .unwrap_or_default(),
    }
}

/// A title without the draft markers GitLab recognises (`Draft:`, `[Draft]`, `(Draft)`, any
/// case, at the start).
fn undrafted(title: &str) -> String {
    let lower = title.to_ascii_lowercase();
    for prefix in ["draft:", "[draft]", "(draft)"] {
        if lower.starts_with(prefix) {
            return title[prefix.len()..].trim_start().to_string();
        }
    }
    title.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_merge_request_reads_as_a_pull_request() {
        let pr = |state: &str| {
            parse_mr(&json!({"id": 77, "iid": 3, "state": state, "draft": true,
                "title": "Draft: Fix it", "description": null, "sha": "abc",
                "target_branch": "main", "labels": ["bot"], "web_url": "http://x/-/merge_requests/3"}))
        };
        assert_eq!(pr("opened").state, PrState::Open);
        assert_eq!(pr("locked").state, PrState::Open);
        assert_eq!(pr("closed").state, PrState::Closed);
        let merged = pr("merged");
        assert_eq!(merged.state, PrState::Merged);
        assert_eq!(
            (merged.number, merged.title.as_str(), merged.body.as_str()),
            (3, "Fix it", "")
        );
        assert!(merged.draft);
        assert_eq!(
            (merged.head_sha.as_str(), merged.base.as_str()),
            ("abc", "main")
        );
        assert_eq!(merged.labels, ["bot"]);
        assert_eq!(merged.node_id, "gid://gitlab/MergeRequest/77");
        assert_eq!(undrafted("[Draft] x"), "x");
        assert_eq!(undrafted("Drafty"), "Drafty");
    }
}
