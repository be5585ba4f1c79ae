//! Repositories: one (`GET /repos/{owner}/{repo}`, its topics from `GET …/topics` when the
//! object lacks them), an owner's (`GET /orgs/{org}/repos`, `GET /users/{username}/repos`), and
//! Gitea's repository search (`GET /repos/search`, narrowed to an owner by `uid`), every listing
//! through all its pages.

use serde_json::Value;

use super::{Gitea, Method, paged, pct};
use crate::error::Error;
use crate::forge::{ForgeError, Listing, MergeMethod, Owner, RemoteRepo, RepoId};

impl Gitea {
    /// `GET /repos/{owner}/{repo}`, and `GET /repos/{owner}/{repo}/topics` when the repository
    /// object has no `topics` (servers before Gitea 1.17 leave them out).
    pub(super) fn get_repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        let body = self.repo_object(repo)?;
        let mut found = parse_repo(&body);
        if body.get("topics").is_none_or(Value::is_null) {
            found.topics = self.topics(repo)?;
        }
        Ok(found)
    }

    /// The repository object itself (`default_merge_style` is read from it for a merge).
    pub(super) fn repo_object(&self, repo: &RepoId) -> Result<Value, Error> {
        let reply = self.send(Method::Get, &self.url(repo, ""), None)?;
        if reply.status != 200 {
            return Err(self.refused("reading the repository", repo, &reply));
        }
        Ok(reply.body)
    }

    /// `GET /repos/{owner}/{repo}/topics` (`TopicName`).
    fn topics(&self, repo: &RepoId) -> Result<Vec<String>, Error> {
        let url = self.url(repo, &paged("/topics"));
        let items = self.get_all(&url, Some("topics"), "reading topics", repo)?;
        Ok(items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect())
    }

    /// `GET /orgs/{org}/repos` or `GET /users/{username}/repos`, all pages.
    pub(super) fn list_owner_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        let (path, name) = match owner {
            Owner::Org(org) => (format!("/orgs/{}/repos", pct(org)), org),
            Owner::User(user) => (format!("/users/{}/repos", pct(user)), user),
            Owner::Group { .. } => return Err(groups()),
        };
        let whose = RepoId {
            owner: name.clone(),
            name: "*".into(),
        };
        let url = self.api_url(&paged(&path));
        let items = self.get_all(&url, None, "listing repositories", &whose)?;
        Ok(items.iter().map(parse_repo).collect())
    }

    /// A discovery's listing through `GET /repos/search`: the owner's id (`GET
    /// /users/{username}`, which answers for organisations too) as `uid` with `exclusive=true`
    /// (owned, not merely contributed to), the search text as `q` with `includeDesc=true`, or
    /// else the first topic as `q` with `topic=true`; `archived=false` unless archived ones are
    /// wanted. The other topics are kept here (all must be present). Without a text or topics,
    /// the owner's listing.
    pub(super) fn search_listing(&self, listing: &Listing) -> Result<Vec<RemoteRepo>, Error> {
        let name = match &listing.owner {
            Owner::Org(n) | Owner::User(n) => n,
            Owner::Group { .. } => return Err(groups()),
        };
        let (q, by_topic) = match (&listing.search, listing.topics.first()) {
            (Some(text), _) => (text.clone(), false),
            (None, Some(topic)) => (topic.clone(), true),
            (None, None) => {
                let mut all = self.list_owner_repos(&listing.owner)?;
                all.retain(|r| listing.archived || !r.archived);
                return Ok(all);
            }
        };
        let whose = RepoId {
            owner: name.clone(),
            name: "*".into(),
        };
        let uid = self.user_id(name, &whose)?;
        let mut query = format!("/repos/search?q={}&uid={uid}&exclusive=true", pct(&q));
        query.push_str(if by_topic {
            "&topic=true"
        } else {
            "&includeDesc=true"
        });
        if !listing.archived {
            query.push_str("&archived=false");
        }
        let url = self.api_url(&paged(&query));
        let items = self.get_all(&url, Some("data"), "searching repositories", &whose)?;
        let mut repos = Vec::new();
        for item in &items {
            let mut repo = parse_repo(item);
            if item.get("topics").is_none_or(Value::is_null) && !listing.topics.is_empty() {
                repo.topics = self.topics(&repo.id)?;
            }
            if listing.topics.iter().all(|t| repo.topics.contains(t)) {
                repos.push(repo);
            }
        }
        Ok(repos)
    }

    /// `GET /repos/search?q=…`, all pages: Gitea's keyword search over names (the text is
    /// passed as it is; GitHub's qualifiers such as `org:` mean nothing to Gitea).
    pub(super) fn search_text(&self, query: &str) -> Result<Vec<RemoteRepo>, Error> {
        let about = RepoId {
            owner: "search".into(),
            name: format!("{query:?}"),
        };
        let url = self.api_url(&paged(&format!("/repos/search?q={}", pct(query))));
        let items = self.get_all(&url, Some("data"), "searching repositories", &about)?;
        Ok(items.iter().map(parse_repo).collect())
    }

    /// `GET /users/{username}`: the id of a user or organisation.
    fn user_id(&self, name: &str, whose: &RepoId) -> Result<u64, Error> {
        let url = self.api_url(&format!("/users/{}", pct(name)));
        let reply = self.send(Method::Get, &url, None)?;
        if reply.status != 200 {
            return Err(self.refused("reading the owner", whose, &reply));
        }
        Ok(reply.body.get("id").and_then(Value::as_u64).unwrap_or(0))
    }
}

fn groups() -> Error {
    ForgeError::Unsupported {
        forge: "Gitea",
        what: "groups (a GitLab listing)",
    }
    .into()
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

/// A `Repository` object. Gitea's merge settings: `allow_merge_commits`, `allow_squash_merge`,
/// `allow_rebase` (and `allow_rebase_explicit`, a rebase with a merge commit, not mapped).
pub(super) fn parse_repo(v: &Value) -> RemoteRepo {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let b = |k: &str| v.get(k).and_then(Value::as_bool);
    let methods = [
        ("allow_merge_commits", MergeMethod::Merge),
        ("allow_squash_merge", MergeMethod::Squash),
        ("allow_rebase", MergeMethod::Rebase),
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
        disabled: false,
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
    fn a_gitea_repository_object_reads() {
        let r = parse_repo(
            &json!({"full_name": "acme/api", "clone_url": "https://x/acme/api.git",
            "ssh_url": "git@x:acme/api.git", "default_branch": "trunk", "archived": true,
            "fork": false, "topics": ["rust"], "allow_merge_commits": false,
            "allow_squash_merge": true, "allow_rebase": true}),
        );
        assert_eq!(r.id.to_string(), "acme/api");
        assert!(r.archived && !r.fork);
        assert_eq!(r.topics, ["rust"]);
        assert_eq!(
            r.merge_methods,
            Some(vec![MergeMethod::Squash, MergeMethod::Rebase])
        );
    }
}
