//! Repositories: one (`GET /repos/{owner}/{repo}`), an owner's (`GET /orgs/{org}/repos`,
//! `GET /users/{username}/repos`), a repository search (`GET /search/repositories`) and a code
//! search (`GET /search/code`), every listing through all its pages.

use serde_json::Value;

use super::{GitHub, Method, pct};
use crate::error::Error;
use crate::forge::{ForgeError, MergeMethod, Owner, RemoteRepo, RepoId};

/// GitHub's searches answer the first 1,000 results and no more.
const SEARCH_CAP: usize = 1000;

impl GitHub {
    /// `GET /repos/{owner}/{repo}`.
    pub(super) fn get_repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        let reply = self.send(Method::Get, &self.url(repo, ""), None)?;
        if reply.status != 200 {
            return Err(self.refused("reading the repository", repo, &reply));
        }
        Ok(parse_repo(&reply.body))
    }

    /// `GET /orgs/{org}/repos?type=all` or `GET /users/{username}/repos?type=owner`, all pages.
    pub(super) fn list_owner_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        let (path, name) = match owner {
            Owner::Org(org) => (format!("/orgs/{}/repos?type=all", pct(org)), org),
            Owner::User(user) => (format!("/users/{}/repos?type=owner", pct(user)), user),
            Owner::Group { .. } => {
                return Err(ForgeError::Unsupported {
                    forge: "GitHub",
                    what: "groups (a GitLab listing)",
                }
                .into());
            }
        };
        let url = self.api_url(&format!("{path}&per_page=100"));
        let whose = RepoId {
            owner: name.clone(),
            name: "*".into(),
        };
        let (items, _) = self.get_all(&url, None, usize::MAX, "listing repositories", &whose)?;
        Ok(items.iter().map(parse_repo).collect())
    }

    /// `GET /search/repositories?q=…`, all pages up to the search's cap of 1,000 results (a
    /// warning says when more matched).
    pub(super) fn search_repositories(&self, query: &str) -> Result<Vec<RemoteRepo>, Error> {
        let items = self.search("repositories", query, "searching repositories")?;
        Ok(items.iter().map(parse_repo).collect())
    }

    /// `GET /search/code?q=…`: the repositories with a hit, each once, in the order found.
    /// Code search has its own stricter rate limit (10 requests a minute); the transport waits
    /// out its `retry-after` and `x-ratelimit-reset`.
    pub(super) fn search_code(&self, query: &str) -> Result<Vec<RepoId>, Error> {
        let items = self.search("code", query, "a code search")?;
        let mut repos: Vec<RepoId> = Vec::new();
        for item in &items {
            let Some(id) = item.get("repository").and_then(repo_id) else {
                continue;
            };
            if !repos.contains(&id) {
                repos.push(id);
            }
        }
        Ok(repos)
    }

    fn search(&self, kind: &str, query: &str, what: &'static str) -> Result<Vec<Value>, Error> {
        let url = self.api_url(&format!("/search/{kind}?q={}&per_page=100", pct(query)));
        let about = RepoId {
            owner: "search".into(),
            name: format!("{query:?}"),
        };
        let (items, first) = self.get_all(&url, Some("items"), SEARCH_CAP, what, &about)?;
        let total = first
            .get("total_count")
            .and_then(Value::as_u64)
            .unwrap_or(0);
        if total > SEARCH_CAP as u64 {
            tracing::warn!(
                "GitHub's {kind} search for {query:?} matched {total} results; it answers only \
                 the first {SEARCH_CAP}: narrow the query to see the rest"
            );
        }
        if first.get("incomplete_results").and_then(Value::as_bool) == Some(true) {
            tracing::warn!(
                "GitHub's {kind} search for {query:?} timed out: results are incomplete"
            );
        }
        Ok(items)
    }
}

/// `owner/name` of a repository object (`full_name`, else `owner.login` and `name`).
fn repo_id(v: &Value) -> Option<RepoId> {
    if let Some((owner, name)) = v
        .get("full_name")
        .and_then(Value::as_str)
        .and_then(|f| f.split_once('/'))
    {
        return Some(RepoId {
            owner: owner.into(),
            name: name.into(),
        });
    }
    Some(RepoId {
        owner: v.pointer("/owner/login")?.as_str()?.into(),
        name: v.get("name")?.as_str()?.into(),
    })
}

/// A repository object (full, minimal or a search item).
pub(super) fn parse_repo(v: &Value) -> RemoteRepo {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let b = |k: &str| v.get(k).and_then(Value::as_bool);
    let methods = [
        ("allow_merge_commit", MergeMethod::Merge),
        ("allow_squash_merge", MergeMethod::Squash),
        ("allow_rebase_merge", MergeMethod::Rebase),
    ];
    let merge_methods = methods.iter().any(|(k, _)| b(k).is_some()).then(|| {
        methods
            .iter()
            .filter(|(k, _)| b(k) == Some(true))
            .map(|(_, m)| *m)
            .collect()
    });
    RemoteRepo {
        id: repo_id(v).unwrap_or_default(),
        clone_url: s("clone_url"),
        ssh_url: s("ssh_url"),
        default_branch: s("default_branch"),
        archived: b("archived") == Some(true),
        disabled: b("disabled") == Some(true),
        fork: b("fork") == Some(true),
        topics: v
            .get("topics")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        merge_methods,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_repository_object_reads_with_or_without_merge_settings() {
        let full = json!({"full_name": "acme/api", "clone_url": "https://x/acme/api.git",
            "ssh_url": "git@x:acme/api.git", "default_branch": "trunk", "archived": false,
            "disabled": false, "fork": true, "topics": ["rust", "svc"],
            "allow_merge_commit": false, "allow_squash_merge": true, "allow_rebase_merge": true});
        let r = parse_repo(&full);
        assert_eq!(r.id.to_string(), "acme/api");
        assert_eq!(r.default_branch, "trunk");
        assert!(r.fork && !r.archived);
        assert_eq!(r.topics, ["rust", "svc"]);
        assert_eq!(
            r.merge_methods,
            Some(vec![MergeMethod::Squash, MergeMethod::Rebase])
        );
        let listed = json!({"name": "web", "owner": {"login": "acme"}, "archived": true});
        let r = parse_repo(&listed);
        assert_eq!(r.id.to_string(), "acme/web");
        assert!(r.archived);
        assert_eq!(r.merge_methods, None);
    }
}
