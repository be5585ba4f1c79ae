//! Pull requests: listed by head branch, opened (labels by id, a draft as Gitea marks one: a
//! `WIP:` title), edited (title, body, state), commented, labelled, reviewers requested, and
//! merged (`Do` and `head_commit_id`), or set to merge when the checks succeed.

use serde_json::{Value, json};

use super::{Gitea, GiteaError, Method, paged};
use crate::error::Error;
use crate::forge::{Created, MergeMethod, Merged, NewPullRequest, PrState, PullRequest, RepoId};

/// The title prefix Gitea reads as work in progress (the first of its default
/// `[repository.pull-request] WORK_IN_PROGRESS_PREFIXES`, `WIP:,[WIP]`): its drafts.
const WIP: &str = "WIP: ";

impl Gitea {
    /// `GET /repos/{owner}/{repo}/pulls?state=all`, all pages, kept when `head.ref` is the
    /// branch (Gitea's list has no head filter): every pull request from it, newest first.
    pub(super) fn list_pulls(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error> {
        let url = self.url(repo, &paged("/pulls?state=all"));
        let items = self.get_all(&url, None, "listing pull requests", repo)?;
        let mut prs: Vec<PullRequest> = items
            .iter()
            .filter(|v| v.pointer("/head/ref").and_then(Value::as_str) == Some(head))
            .map(parse_pr)
            .collect();
        prs.sort_by_key(|p| std::cmp::Reverse(p.number));
        Ok(prs)
    }

    /// `POST /repos/{owner}/{repo}/pulls` with the labels as ids and the assignees; a draft's
    /// title gets the `WIP: ` prefix. Gitea answers 409 when one is open for the branch (older
    /// servers 422 "pull request already exists").
    pub(super) fn create_pull(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        let title = if pr.draft && !is_wip(&pr.title) {
            format!("{WIP}{}", pr.title)
        } else {
            pr.title.clone()
        };
        let mut body = json!({
            "title": title,
            "body": pr.body,
            "head": pr.head,
            "base": pr.base,
        });
        if !pr.labels.is_empty() {
            body["labels"] = json!(self.label_ids(repo, &pr.labels)?);
        }
        if !pr.assignees.is_empty() {
            body["assignees"] = json!(pr.assignees);
        }
        let reply = self.send(Method::Post, &self.url(repo, "/pulls"), Some(&body))?;
        match reply.status {
            201 | 200 => Ok(Created::New(parse_pr(&reply.body))),
            409 => Ok(Created::AlreadyExists),
            422 if reply.body.to_string().contains("already exists") => Ok(Created::AlreadyExists),
            _ => Err(self.refused("opening a pull request", repo, &reply)),
        }
    }

    /// Sets the title and body, keeping a draft a draft: Gitea's draft is its title's `WIP:`
    /// prefix, so the title sent keeps the prefix the pull request has now (read first with
    /// `GET …/pulls/{index}`); one a person marked ready stays ready.
    pub(super) fn update_pull(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        let now = self.get_pull(repo, number)?;
        let draft = now.get("title").and_then(Value::as_str).is_some_and(is_wip);
        let title = if draft && !is_wip(title) {
            format!("{WIP}{title}")
        } else {
            title.to_string()
        };
        self.edit_pull(
            repo,
            number,
            json!({ "title": title, "body": body }),
            "updating a pull request",
        )
    }

    /// `PATCH /repos/{owner}/{repo}/pulls/{index}` with `patch` (Gitea answers 201).
    pub(super) fn edit_pull(
        &self,
        repo: &RepoId,
        number: u64,
        patch: Value,
        what: &'static str,
    ) -> Result<PullRequest, Error> {
        let url = self.url(repo, &format!("/pulls/{number}"));
        let reply = self.send(Method::Patch, &url, Some(&patch))?;
        if !matches!(reply.status, 200 | 201) {
            return Err(self.refused(what, repo, &reply));
        }
        Ok(parse_pr(&reply.body))
    }

    /// `GET /repos/{owner}/{repo}/pulls/{index}`.
    pub(super) fn get_pull(&self, repo: &RepoId, number: u64) -> Result<Value, Error> {
        let url = self.url(repo, &format!("/pulls/{number}"));
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("reading a pull request", repo, &reply));
        }
        Ok(reply.body)
    }

    /// `POST /repos/{owner}/{repo}/issues/{index}/comments`.
    pub(super) fn post_comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error> {
        let url = self.url(repo, &format!("/issues/{number}/comments"));
        let reply = self.send(Method::Post, &url, Some(&json!({ "body": body })))?;
        if !matches!(reply.status, 200 | 201) {
            return Err(self.refused("commenting on a pull request", repo, &reply));
        }
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/issues/{index}/labels` with the labels' ids.
    pub(super) fn post_labels(
        &self,
        repo: &RepoId,
        number: u64,
        labels: &[String],
    ) -> Result<(), Error> {
        let ids = self.label_ids(repo, labels)?;
        let url = self.url(repo, &format!("/issues/{number}/labels"));
        let reply = self.send(Method::Post, &url, Some(&json!({ "labels": ids })))?;
        if reply.status != 200 {
            return Err(self.refused("adding labels", repo, &reply));
        }
        Ok(())
    }

    /// The ids of labels by name, from `GET /repos/{owner}/{repo}/labels` (all pages, read once
    /// per repository); `E570` names the ones the repository lacks.
    fn label_ids(&self, repo: &RepoId, names: &[String]) -> Result<Vec<u64>, Error> {
        let cached = {
            let cache = self.labels.lock().unwrap_or_else(|p| p.into_inner());
            cache
                .iter()
                .find(|(r, _)| r == repo)
                .map(|(_, l)| l.clone())
        };
        let known = match cached {
            Some(known) => known,
            None => {
                let url = self.url(repo, &paged("/labels"));
                let items = self.get_all(&url, None, "reading labels", repo)?;
                let known: Vec<(String, u64)> = items
                    .iter()
                    .filter_map(|l| {
                        Some((l.get("name")?.as_str()?.to_string(), l.get("id")?.as_u64()?))
                    })
                    .collect();
                let mut cache = self.labels.lock().unwrap_or_else(|p| p.into_inner());
                cache.push((repo.clone(), known.clone()));
                known
            }
        };
        let mut ids = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            match known.iter().find(|(n, _)| n == name) {
                Some((_, id)) => ids.push(*id),
                None => missing.push(format!("`{name}`")),
            }
        }
        if !missing.is_empty() {
            return Err(GiteaError::UnknownLabels {
                repo: repo.clone(),
                names: missing,
            }
            .into());
        }
        Ok(ids)
    }

    /// `POST /repos/{owner}/{repo}/pulls/{index}/requested_reviewers`; `org/team` names a team,
    /// anything else a user.
    pub(super) fn post_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        let (teams, users): (Vec<&String>, Vec<&String>) =
            reviewers.iter().partition(|r| r.contains('/'));
        let teams: Vec<&str> = teams.iter().filter_map(|t| t.rsplit('/').next()).collect();
        let mut body = json!({ "reviewers": users });
        if !teams.is_empty() {
            body["team_reviewers"] = json!(teams);
        }
        let url = self.url(repo, &format!("/pulls/{number}/requested_reviewers"));
        let reply = self.send(Method::Post, &url, Some(&body))?;
        if !matches!(reply.status, 200 | 201) {
            return Err(self.refused("requesting reviewers", repo, &reply));
        }
        Ok(())
    }

    /// `POST /repos/{owner}/{repo}/pulls/{index}/merge` with `do` (the method, or the
    /// repository's `default_merge_style`) and `head_commit_id` (the head the caller read: Gitea
    /// answers 409 "head out of date" when it moved). The merge commit is then read from the
    /// pull request (`merge_commit_sha`): Gitea's answer has no body.
    pub(super) fn post_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Merged, Error> {
        let body = self.merge_form(repo, pr, method)?;
        let url = self.url(repo, &format!("/pulls/{}/merge", pr.number));
        let reply = self.send(Method::Post, &url, Some(&body))?;
        let message = || {
            let m = reply.body.get("message").and_then(Value::as_str);
            self.redact(m.unwrap_or("no message"))
        };
        match reply.status {
            200 => {
                let merged = self.get_pull(repo, pr.number)?;
                let sha = merged.get("merge_commit_sha").and_then(Value::as_str);
                Ok(Merged::Merged(sha.unwrap_or("").to_string()))
            }
            409 if message().contains("head out of date") => Ok(Merged::HeadMoved),
            405 | 409 => Ok(Merged::NotMergeable(message())),
            _ => Err(self.refused("merging a pull request", repo, &reply)),
        }
    }

    /// The same request with `merge_when_checks_succeed: true`: Gitea merges now if the checks
    /// already succeeded (200), else schedules the merge (201); one already scheduled (409) is
    /// left as it is.
    pub(super) fn post_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        let mut body = self.merge_form(repo, pr, method)?;
        body["merge_when_checks_succeed"] = json!(true);
        let url = self.url(repo, &format!("/pulls/{}/merge", pr.number));
        let reply = self.send(Method::Post, &url, Some(&body))?;
        let scheduled = reply
            .body
            .get("message")
            .and_then(Value::as_str)
            .is_some_and(|m| m.contains("already scheduled"));
        match reply.status {
            200 | 201 => Ok(()),
            409 if scheduled => Ok(()),
            _ => Err(self.refused(
                "setting a pull request to merge when checks succeed",
                repo,
                &reply,
            )),
        }
    }

    /// `MergePullRequestOption`: `do` and `head_commit_id` (the description spells the field
    /// `do`; Go's JSON decoding matches field names case-insensitively, so older servers'
    /// `Do` reads it too).
    fn merge_form(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Value, Error> {
        let style = match method {
            Some(MergeMethod::Merge) => "merge".to_string(),
            Some(MergeMethod::Squash) => "squash".to_string(),
            Some(MergeMethod::Rebase) => "rebase".to_string(),
            None => self
                .repo_object(repo)?
                .get("default_merge_style")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .unwrap_or("merge")
                .to_string(),
        };
        let mut body = json!({ "do": style });
        if !pr.head_sha.is_empty() {
            body["head_commit_id"] = json!(pr.head_sha);
        }
        Ok(body)
    }
}

/// Whether a title carries one of Gitea's default work-in-progress prefixes.
fn is_wip(title: &str) -> bool {
    without_wip(title).is_some()
}

/// The title without its work-in-progress prefix, if it has one.
fn without_wip(title: &str) -> Option<&str> {
    let t = title.trim_start();
    ["WIP:", "[WIP]"].iter().find_map(|p| {
        let head = t.get(..p.len())?;
        head.eq_ignore_ascii_case(p)
            .then(|| t[p.len()..].trim_start())
    })
}

/// A `PullRequest` object: `state` and `merged` make its state; a draft is a work-in-progress
/// title (Gitea's `draft` says the same), read without its prefix (codefleet's title is what the
/// pipeline set; the prefix is how Gitea keeps the draft, see [`Gitea::update_pull`]).
pub(super) fn parse_pr(v: &Value) -> PullRequest {
    let s = |p: &str| {
        v.pointer(p)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let merged = v.get("merged").and_then(Value::as_bool) == Some(true)
        || v.get("merged_at").is_some_and(|m| !m.is_null());
    let state = match (s("/state").as_str(), merged) {
        (_, true) => PrState::Merged,
        ("open", _) => PrState::Open,
        _ => PrState::Closed,
    };
    let raw = s("/title");
    let wip = without_wip(&raw);
    PullRequest {
        number: v.get("number").and_then(Value::as_u64).unwrap_or(0),
        url: s("/html_url"),
        draft: v.get("draft").and_then(Value::as_bool) == Some(true) || wip.is_some(),
        title: wip.unwrap_or(&raw).to_string(),
        body: s("/body"),
        state,
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
        node_id: String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_gitea_pull_request_reads() {
        let pr = |state: &str, merged: bool, title: &str| {
            parse_pr(
                &json!({"number": 3, "state": state, "merged": merged, "title": title,
                "head": {"ref": "x", "sha": "abc"}, "base": {"ref": "main"}, "body": "b",
                "labels": [{"name": "bot"}], "html_url": "http://h/a/b/pulls/3"}),
            )
        };
        assert_eq!(pr("open", false, "t").state, PrState::Open);
        assert_eq!(pr("closed", false, "t").state, PrState::Closed);
        let merged = pr("closed", true, "WIP: t");
        assert_eq!(merged.state, PrState::Merged);
        assert!(merged.draft);
        assert_eq!(merged.title, "t");
        assert_eq!(
            (
                merged.head_sha.as_str(),
                merged.base.as_str(),
                merged.labels
            ),
            ("abc", "main", vec!["bot".to_string()])
        );
        assert_eq!(without_wip("[wip] x"), Some("x"));
        assert!(!is_wip("wipe") && !is_wip(""));
    }
}
