//! The fake GitHub's response bodies, in GitHub's shapes (the fields the OpenAPI description
//! requires, with plausible values), built from the fake's state.

use serde_json::{Value, json};

use super::{CheckRun, CommitStatus, OwnerKind, Pr, Repo, Review};

/// A timestamp GitHub would show; the fake's clock does not matter to codefleet.
pub const WHEN: &str = "2026-01-01T00:00:00Z";

/// An `issue`: the pull request as GitHub's issues API shows it (the answer to adding
/// assignees).
pub fn issue(p: &Pr, base: &str) -> Value {
    let api = format!("{base}/repos/{}", p.repo);
    let url = format!("{api}/issues/{}", p.number);
    json!({
        "id": p.id, "node_id": p.node_id, "url": url,
        "repository_url": api,
        "labels_url": format!("{url}/labels{{/name}}"),
        "comments_url": format!("{url}/comments"),
        "events_url": format!("{url}/events"),
        "html_url": format!("https://github.example/{}/pull/{}", p.repo, p.number),
        "number": p.number, "state": p.state, "title": p.title, "body": p.body,
        "user": user(&p.user, base, false),
        "labels": p.labels.iter().map(|l| label(l, &api)).collect::<Vec<_>>(),
        "assignee": p.assignees.first().map(|a| user(a, base, false)),
        "assignees": p.assignees.iter().map(|a| user(a, base, false)).collect::<Vec<_>>(),
        "milestone": null, "locked": false, "comments": p.comments.len(),
        "closed_at": (p.state == "closed").then_some(WHEN),
        "created_at": WHEN, "updated_at": WHEN,
        "author_association": "NONE",
    })
}

/// A `simple-user` (an organisation too, with `type: Organization`).
pub fn user(login: &str, base: &str, org: bool) -> Value {
    let u = format!("{base}/users/{login}");
    json!({
        "login": login, "id": id_of(login), "node_id": format!("U_{login}"),
        "avatar_url": "https://avatars.example/u/1", "gravatar_id": "",
        "url": u, "html_url": format!("https://github.example/{login}"),
        "followers_url": format!("{u}/followers"),
        "following_url": format!("{u}/following{{/other_user}}"),
        "gists_url": format!("{u}/gists{{/gist_id}}"),
        "starred_url": format!("{u}/starred{{/owner}}{{/repo}}"),
        "subscriptions_url": format!("{u}/subscriptions"),
        "organizations_url": format!("{u}/orgs"),
        "repos_url": format!("{u}/repos"), "events_url": format!("{u}/events{{/privacy}}"),
        "received_events_url": format!("{u}/received_events"),
        "type": if org { "Organization" } else { "User" }, "site_admin": false,
    })
}

/// A stable number for a name.
pub fn id_of(name: &str) -> u64 {
    name.bytes().fold(1469598103u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(1099511628211)
    }) % 1_000_000_000
}

/// A repository: a superset of `full-repository`, `repository`, `minimal-repository` and
/// `repo-search-result-item`.
pub fn repo(r: &Repo, base: &str) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let mut v = json!({
        "id": r.id, "node_id": format!("R_{}", r.id), "name": r.name, "full_name": full,
        "owner": user(&r.owner, base, r.owner_kind == OwnerKind::Org),
        "private": r.visibility != "public", "visibility": r.visibility,
        "html_url": format!("https://github.example/{full}"),
        "description": r.description, "fork": r.fork, "url": api,
        "clone_url": r.clone_url, "ssh_url": r.ssh_url,
        "git_url": format!("git://github.example/{full}.git"),
        "svn_url": format!("https://github.example/{full}"),
        "mirror_url": null, "homepage": null, "language": null, "license": null,
        "default_branch": r.default_branch, "topics": r.topics,
        "archived": r.archived, "disabled": r.disabled,
    });
    let counts = json!({
        "forks": 0, "forks_count": 0, "stargazers_count": 0, "watchers": 0, "watchers_count": 0,
        "open_issues": 0, "open_issues_count": 0, "size": 1, "network_count": 0,
        "subscribers_count": 0, "score": 1.0,
        "has_issues": true, "has_projects": false, "has_wiki": false, "has_pages": false,
        "has_downloads": false, "has_discussions": false, "is_template": false,
        "allow_merge_commit": r.allow_merge_commit, "allow_squash_merge": r.allow_squash_merge,
        "allow_rebase_merge": r.allow_rebase_merge,
        "pushed_at": WHEN, "created_at": WHEN, "updated_at": WHEN,
        "permissions": {"admin": false, "maintain": false, "push": true, "triage": true, "pull": true},
    });
    for (k, x) in counts.as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    let plain = [
        "contributors",
        "deployments",
        "downloads",
        "events",
        "forks",
        "hooks",
        "languages",
        "merges",
        "stargazers",
        "subscribers",
        "subscription",
        "tags",
        "teams",
    ];
    for stem in plain {
        v[format!("{stem}_url")] = json!(format!("{api}/{stem}"));
    }
    let templated = [
        ("archive", "{archive_format}{/ref}"),
        ("assignees", "{/user}"),
        ("blobs", "{/sha}"),
        ("branches", "{/branch}"),
        ("collaborators", "{/collaborator}"),
        ("comments", "{/number}"),
        ("commits", "{/sha}"),
        ("compare", "{base}...{head}"),
        ("contents", "{+path}"),
        ("git_commits", "{/sha}"),
        ("git_refs", "{/sha}"),
        ("git_tags", "{/sha}"),
        ("issue_comment", "{/number}"),
        ("issue_events", "{/number}"),
        ("issues", "{/number}"),
        ("keys", "{/key_id}"),
        ("labels", "{/name}"),
        ("milestones", "{/number}"),
        ("notifications", "{?since,all,participating}"),
        ("pulls", "{/number}"),
        ("releases", "{/id}"),
        ("statuses", "/{sha}"),
        ("trees", "{/sha}"),
    ];
    for (stem, tail) in templated {
        let path = stem.replace('_', "/");
        let path = if stem == "issue_comment" {
            "issues/comments".into()
        } else {
            path
        };
        v[format!("{stem}_url")] = json!(format!("{api}/{path}{tail}"));
    }
    v
}

/// A pull request: `pull-request` (a superset of `pull-request-simple`).
pub fn pr(p: &Pr, r: &Repo, head_sha: &str, base_sha: &str, base: &str) -> Value {
    let full = r.full_name();
    let api = format!("{base}/repos/{full}");
    let html = format!("https://github.example/{full}/pull/{}", p.number);
    let side = |branch: &str, sha: &str| {
        json!({"label": format!("{}:{branch}", r.owner), "ref": branch, "sha": sha,
               "user": user(&r.owner, base, r.owner_kind == OwnerKind::Org),
               "repo": repo(r, base)})
    };
    let href = |h: String| json!({ "href": h });
    let links = json!({
        "self": href(format!("{api}/pulls/{}", p.number)), "html": href(html.clone()),
        "issue": href(format!("{api}/issues/{}", p.number)),
        "comments": href(format!("{api}/issues/{}/comments", p.number)),
        "review_comments": href(format!("{api}/pulls/{}/comments", p.number)),
        "review_comment": href(format!("{api}/pulls/comments{{/number}}")),
        "commits": href(format!("{api}/pulls/{}/commits", p.number)),
        "statuses": href(format!("{api}/statuses/{head_sha}")),
    });
    let mut v = json!({
        "url": format!("{api}/pulls/{}", p.number), "id": p.id, "node_id": p.node_id,
        "html_url": html, "diff_url": format!("{html}.diff"), "patch_url": format!("{html}.patch"),
        "issue_url": format!("{api}/issues/{}", p.number),
        "commits_url": format!("{api}/pulls/{}/commits", p.number),
        "review_comments_url": format!("{api}/pulls/{}/comments", p.number),
        "review_comment_url": format!("{api}/pulls/comments{{/number}}"),
        "comments_url": format!("{api}/issues/{}/comments", p.number),
        "statuses_url": format!("{api}/statuses/{head_sha}"),
        "number": p.number, "state": p.state, "locked": false, "title": p.title,
        "user": user(&p.user, base, false), "body": p.body,
        "labels": p.labels.iter().map(|l| label(l, &api)).collect::<Vec<_>>(),
        "milestone": null, "active_lock_reason": null,
        "created_at": WHEN, "updated_at": WHEN,
        "closed_at": (p.state == "closed").then_some(WHEN),
        "merged_at": p.merged_at, "merge_commit_sha": p.merge_commit_sha,
        "assignee": p.assignees.first().map(|a| user(a, base, false)),
        "assignees": p.assignees.iter().map(|a| user(a, base, false)).collect::<Vec<_>>(),
        "requested_reviewers": p.reviewers.iter().map(|u| user(u, base, false)).collect::<Vec<_>>(),
        "requested_teams": [],
        "head": side(&p.head, head_sha), "base": side(&p.base, base_sha),
        "_links": links,
    });
    let more = json!({
        "author_association": "NONE", "auto_merge": null, "draft": p.draft,
        "merged": p.merged_at.is_some(), "mergeable": null, "rebaseable": null,
        "mergeable_state": "unknown",
        "merged_by": p.merged_at.as_ref().map(|_| user(&p.user, base, false)),
        "comments": p.comments.len(), "review_comments": 0, "maintainer_can_modify": false,
        "commits": 1, "additions": 1, "deletions": 1, "changed_files": 1,
    });
    for (k, x) in more.as_object().into_iter().flatten() {
        v[k] = x.clone();
    }
    v
}

/// A label.
pub fn label(name: &str, api: &str) -> Value {
    json!({"id": id_of(name), "node_id": format!("LA_{}", id_of(name)),
           "url": format!("{api}/labels/{name}"), "name": name, "description": "",
           "color": "ededed", "default": false})
}

/// A check run.
pub fn check_run(c: &CheckRun, r: &Repo, base: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({
        "id": c.id, "node_id": format!("CR_{}", c.id), "head_sha": c.sha, "name": c.name,
        "external_id": "", "url": format!("{api}/check-runs/{}", c.id),
        "html_url": format!("https://github.example/{}/runs/{}", r.full_name(), c.id),
        "details_url": null, "status": c.status, "conclusion": c.conclusion,
        "started_at": WHEN, "completed_at": (c.status == "completed").then_some(WHEN),
        "output": {"title": null, "summary": null, "text": null, "annotations_count": 0,
                   "annotations_url": format!("{api}/check-runs/{}/annotations", c.id)},
        "check_suite": {"id": c.id}, "app": null, "pull_requests": [],
    })
}

/// A commit status, as the combined status lists it.
pub fn status(s: &CommitStatus, base: &str) -> Value {
    json!({
        "id": s.id, "node_id": format!("SC_{}", s.id), "state": s.state, "context": s.context,
        "description": null, "target_url": null, "avatar_url": null,
        "url": format!("{base}/statuses/{}", s.id), "created_at": WHEN, "updated_at": WHEN,
    })
}

/// A review.
pub fn review(rv: &Review, r: &Repo, base: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    let html = format!(
        "https://github.example/{}/pull/{}",
        r.full_name(),
        rv.number
    );
    json!({
        "id": rv.id, "node_id": format!("PRR_{}", rv.id), "user": user(&rv.user, base, false),
        "body": "", "state": rv.state, "commit_id": rv.commit_id,
        "html_url": format!("{html}#pullrequestreview-{}", rv.id),
        "pull_request_url": format!("{api}/pulls/{}", rv.number),
        "_links": {"html": {"href": html}, "pull_request": {"href": format!("{api}/pulls/{}", rv.number)}},
        "submitted_at": WHEN, "author_association": "MEMBER",
    })
}

/// A commit as `compare` lists it.
pub fn commit(sha: &str, r: &Repo, base: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    let person = json!({"name": "dev", "email": "dev@example.com", "date": WHEN});
    json!({
        "url": format!("{api}/commits/{sha}"), "sha": sha, "node_id": format!("C_{sha}"),
        "html_url": format!("https://github.example/{}/commit/{sha}", r.full_name()),
        "comments_url": format!("{api}/commits/{sha}/comments"),
        "commit": {"url": format!("{api}/git/commits/{sha}"), "author": person,
                   "committer": person, "message": "", "comment_count": 0,
                   "tree": {"sha": sha, "url": format!("{api}/git/trees/{sha}")}},
        "author": null, "committer": null, "parents": [],
    })
}

/// A git reference.
pub fn git_ref(name: &str, sha: &str, r: &Repo, base: &str) -> Value {
    let api = format!("{base}/repos/{}", r.full_name());
    json!({"ref": name, "node_id": format!("REF_{}", id_of(name)),
           "url": format!("{api}/git/{name}"),
           "object": {"type": "commit", "sha": sha, "url": format!("{api}/git/commits/{sha}")}})
}

/// GitHub's error body.
pub fn error(message: &str) -> Value {
    json!({"message": message, "documentation_url": "https://docs.github.com/rest"})
}
