//! Projects: one by its full path, and a group's (its subgroups' too when asked) or a user's,
//! narrowed on the server by topics, a search text and archived state.

use serde_json::Value;

use super::{GitLab, Method, pct, repo_from_url};
use crate::error::Error;
use crate::forge::{Owner, RemoteRepo, RepoId};

impl GitLab {
    /// `GET /projects/:id`.
    pub(super) fn get_project(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        let reply = self.send(Method::Get, &self.url(repo, ""), None)?;
        if reply.status != 200 {
            return Err(self.refused("reading a project", repo, &reply));
        }
        Ok(parse_project(&reply.body))
    }

    /// `GET /groups/:id/projects` (an `Owner::Org` is a group without its subgroups) or
    /// `GET /users/:user_id/projects`, all pages, with `topic`, `search` and `archived=false`
    /// asked of the server; the topics are checked here too (every one must be present).
    pub(super) fn list_projects(
        &self,
        owner: &Owner,
        topics: &[String],
        search: Option<&str>,
        archived: bool,
    ) -> Result<Vec<RemoteRepo>, Error> {
        let (mut url, who) = match owner {
            Owner::Group { path, subgroups } => (
                format!(
                    "/groups/{}/projects?include_subgroups={subgroups}&per_page=100",
                    pct(path)
                ),
                path,
            ),
            Owner::Org(path) => (format!("/groups/{}/projects?per_page=100", pct(path)), path),
            Owner::User(name) => (format!("/users/{}/projects?per_page=100", pct(name)), name),
        };
        // `topic` is a group listing's filter (a user's projects are filtered here only).
        if !topics.is_empty() && !matches!(owner, Owner::User(_)) {
            let joined = topics.join(",");
            url.push_str(&format!("&topic={}", pct(&joined)));
        }
        if let Some(s) = search {
            url.push_str(&format!("&search={}", pct(s)));
        }
        if !archived {
            url.push_str("&archived=false");
        }
        let id = RepoId {
            owner: who.clone(),
            name: "*".into(),
        };
        let items = self.get_all(&self.api_url(&url), "listing projects", &id)?;
        let mut repos: Vec<RemoteRepo> = items.iter().map(parse_project).collect();
        repos.retain(|r| topics.iter().all(|t| r.topics.contains(t)) && (archived || !r.archived));
        Ok(repos)
    }
}

/// A project object: `path_with_namespace` names it, `forked_from_project` makes it a fork,
/// `topics` (older servers: `tag_list`).
pub(super) fn parse_project(v: &Value) -> RemoteRepo {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let full = s("path_with_namespace");
    let id = repo_from_url(&format!("x://h/{full}")).unwrap_or_else(|| RepoId {
        owner: String::new(),
        name: full.clone(),
    });
    let topics = v
        .get("topics")
        .or_else(|| v.get("tag_list"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    RemoteRepo {
        id,
        clone_url: s("http_url_to_repo"),
        ssh_url: s("ssh_url_to_repo"),
        default_branch: s("default_branch"),
        archived: v.get("archived").and_then(Value::as_bool) == Some(true),
        disabled: false,
        fork: v.get("forked_from_project").is_some_and(|f| !f.is_null()),
        topics,
        merge_methods: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_project_object_reads_as_a_repository() {
        let r = parse_project(&json!({
            "path_with_namespace": "acme/platform/api",
            "http_url_to_repo": "https://gitlab.example/acme/platform/api.git",
            "ssh_url_to_repo": "git@gitlab.example:acme/platform/api.git",
            "default_branch": "trunk", "archived": true, "topics": ["rust"],
            "forked_from_project": {"id": 1}
        }));
        assert_eq!(
            (r.id.owner.as_str(), r.id.name.as_str()),
            ("acme/platform", "api")
        );
        assert!(r.archived && r.fork);
        assert_eq!(r.topics, ["rust"]);
        assert_eq!(r.default_branch, "trunk");
        let plain =
            parse_project(&json!({"path_with_namespace": "a/b", "forked_from_project": null}));
        assert!(!plain.fork && !plain.archived);
    }
}
