//! The fake GitHub's routes: each request matched to its OpenAPI route, then answered from
//! (and applied to) the state.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde_json::{Value, json};

use super::{State, decode, git, paginate, query, shapes};

/// The routes served, as the OpenAPI description names them. A `{ref}` or `{basehead}` last
/// takes the rest of the path (`heads/codefleet/x`).
const ROUTES: &[&str] = &[
    "GET /repos/{owner}/{repo}",
    "GET /orgs/{org}/repos",
    "GET /users/{username}/repos",
    "GET /search/repositories",
    "GET /search/code",
    "GET /repos/{owner}/{repo}/pulls",
    "POST /repos/{owner}/{repo}/pulls",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}",
    "PATCH /repos/{owner}/{repo}/pulls/{pull_number}",
    "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge",
    "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
    "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/labels",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees",
    "POST /repos/{owner}/{repo}/issues/{issue_number}/comments",
    "GET /repos/{owner}/{repo}/commits/{ref}/check-runs",
    "GET /repos/{owner}/{repo}/commits/{ref}/status",
    "GET /repos/{owner}/{repo}/compare/{basehead}",
    "GET /repos/{owner}/{repo}/git/ref/{ref}",
    "PATCH /repos/{owner}/{repo}/git/refs/{ref}",
    "DELETE /repos/{owner}/{repo}/git/refs/{ref}",
    "POST /repos/{owner}/{repo}/git/refs",
    "POST /graphql",
];

type Params = BTreeMap<String, String>;
type Answer = (u16, String, Value);

/// The OpenAPI route a request matches, and its path parameters (percent-decoded).
pub fn matched(method: &str, target: &str) -> Option<(String, Params)> {
    let path = target.split('?').next().unwrap_or("");
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    ROUTES.iter().find_map(|route| {
        let (m, pattern) = route.split_once(' ')?;
        if m != method {
            return None;
        }
        let parts: Vec<&str> = pattern.trim_matches('/').split('/').collect();
        let mut params = Params::new();
        for (i, part) in parts.iter().enumerate() {
            let greedy = i == parts.len() - 1 && matches!(*part, "{ref}" | "{basehead}");
            match (part.strip_prefix('{'), greedy) {
                (Some(_), true) if segs.len() > i => {
                    params.insert(
                        part.trim_matches(['{', '}']).into(),
                        decode(&segs[i..].join("/")),
                    );
                    return Some((route.to_string(), params));
                }
                (Some(_), false) if segs.get(i).is_some_and(|s| !s.is_empty()) => {
                    params.insert(part.trim_matches(['{', '}']).into(), decode(segs[i]));
                }
                (None, _) if segs.get(i) == Some(part) => {}
                _ => return None,
            }
        }
        (segs.len() == parts.len()).then(|| (route.to_string(), params))
    })
}

fn not_found() -> Answer {
    (404, String::new(), shapes::error("Not Found"))
}

fn ok(body: Value) -> Answer {
    (200, String::new(), body)
}

fn invalid(message: &str) -> Answer {
    (
        422,
        String::new(),
        json!({"message": "Validation Failed", "errors": [{"resource": "PullRequest",
               "code": "custom", "message": message}],
               "documentation_url": "https://docs.github.com/rest", "status": "422"}),
    )
}

/// Answers a request from the state.
pub fn route(st: &mut State, method: &str, target: &str, body: &str, base: &str) -> Answer {
    let Some((route, p)) = matched(method, target) else {
        return not_found();
    };
    let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    if route == "POST /graphql" {
        return super::super::github_graphql::handle(st, &input, base);
    }
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    let full = format!("{}/{}", get("owner"), get("repo"));
    let number: u64 = get("pull_number")
        .parse()
        .or_else(|_| get("issue_number").parse())
        .unwrap_or(0);
    match route.as_str() {
        "GET /orgs/{org}/repos" => owner_repos(st, target, base, &get("org"), true),
        "GET /users/{username}/repos" => owner_repos(st, target, base, &get("username"), false),
        "GET /search/repositories" => search_repos(st, target, base),
        "GET /search/code" => search_code(st, target, base),
        _ => {
            if st.repo(&full).is_none() {
                return not_found();
            }
            let req = Req {
                full: &full,
                number,
                params: &p,
                target,
                input: &input,
                base,
            };
            repo_route(st, &route, &req)
        }
    }
}

/// A request to a repository's route.
struct Req<'a> {
    /// `owner/name`.
    full: &'a str,
    /// `{pull_number}` or `{issue_number}`, else 0.
    number: u64,
    params: &'a Params,
    target: &'a str,
    input: &'a Value,
    /// The server's address.
    base: &'a str,
}

fn repo_route(st: &mut State, route: &str, req: &Req) -> Answer {
    let Req {
        full,
        number,
        params: p,
        target,
        input,
        base,
    } = *req;
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    match route {
        "GET /repos/{owner}/{repo}" => {
            let r = st.repo(full).expect("repo").clone();
            ok(shapes::repo(&r, base))
        }
        "GET /repos/{owner}/{repo}/pulls" => list_prs(st, full, target, base),
        "POST /repos/{owner}/{repo}/pulls" => create_pr(st, full, input, base),
        "GET /repos/{owner}/{repo}/pulls/{pull_number}" => read_pr(st, full, number, base),
        "PATCH /repos/{owner}/{repo}/pulls/{pull_number}" => {
            patch_pr(st, full, number, input, base)
        }
        "PUT /repos/{owner}/{repo}/pulls/{pull_number}/merge" => merge(st, full, number, input),
        "GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews" => {
            let r = st.repo(full).expect("repo").clone();
            let items: Vec<Value> = st
                .reviews
                .iter()
                .filter(|v| v.repo == full && v.number == number)
                .map(|v| shapes::review(v, &r, base))
                .collect();
            let (link, page) = paginate(st, target, base, items);
            (200, link, Value::Array(page))
        }
        "POST /repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers" => {
            let Some(pr) = st.pr(full, number) else {
                return not_found();
            };
            for r in input["reviewers"].as_array().into_iter().flatten() {
                pr.reviewers.push(r.as_str().unwrap_or("").into());
            }
            for r in input["team_reviewers"].as_array().into_iter().flatten() {
                pr.team_reviewers.push(r.as_str().unwrap_or("").into());
            }
            let (_, _, reply) = read_pr(st, full, number, base);
            (201, String::new(), reply)
        }
        "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees" => {
            let Some(pr) = st.pr(full, number) else {
                return not_found();
            };
            for a in input["assignees"].as_array().into_iter().flatten() {
                let login = a.as_str().or_else(|| a["login"].as_str()).unwrap_or("");
                if !pr.assignees.iter().any(|x| x == login) {
                    pr.assignees.push(login.into());
                }
            }
            let pr = pr.clone();
            (201, String::new(), shapes::issue(&pr, base))
        }
        "POST /repos/{owner}/{repo}/issues/{issue_number}/labels" => {
            let Some(pr) = st.pr(full, number) else {
                return not_found();
            };
            for l in input["labels"].as_array().into_iter().flatten() {
                let l = l.as_str().unwrap_or("").to_string();
                if !pr.labels.contains(&l) {
                    pr.labels.push(l);
                }
            }
            let api = format!("{base}/repos/{full}");
            ok(Value::Array(
                pr.labels.iter().map(|l| shapes::label(l, &api)).collect(),
            ))
        }
        "POST /repos/{owner}/{repo}/issues/{issue_number}/comments" => {
            let login = st.login.clone();
            let id = st.id();
            let Some(pr) = st.pr(full, number) else {
                return not_found();
            };
            let text = input["body"].as_str().unwrap_or("").to_string();
            pr.comments.push(text.clone());
            let api = format!("{base}/repos/{full}");
            (
                201,
                String::new(),
                json!({"id": id, "node_id": format!("IC_{id}"), "body": text,
                       "url": format!("{api}/issues/comments/{id}"),
                       "html_url": format!("https://github.example/{full}/pull/{number}#issuecomment-{id}"),
                       "issue_url": format!("{api}/issues/{number}"),
                       "user": shapes::user(&login, base, false),
                       "created_at": shapes::WHEN, "updated_at": shapes::WHEN,
                       "author_association": "NONE"}),
            )
        }
        "GET /repos/{owner}/{repo}/commits/{ref}/check-runs" => {
            let r = st.repo(full).expect("repo").clone();
            let sha = resolve(&r.git_dir, &get("ref"));
            let items: Vec<Value> = st
                .checks
                .iter()
                .filter(|c| c.repo == full && c.sha == sha)
                .map(|c| shapes::check_run(c, &r, base))
                .collect();
            let total = items.len();
            let (link, page) = paginate(st, target, base, items);
            (200, link, json!({"total_count": total, "check_runs": page}))
        }
        "GET /repos/{owner}/{repo}/commits/{ref}/status" => {
            combined_status(st, full, &get("ref"), target, base)
        }
        "GET /repos/{owner}/{repo}/compare/{basehead}" => compare(st, full, &get("basehead"), base),
        "GET /repos/{owner}/{repo}/git/ref/{ref}" => {
            let r = st.repo(full).expect("repo").clone();
            let name = get("ref");
            let sha = r
                .git_dir
                .as_deref()
                .and_then(|d| git::branch(d, name.trim_start_matches("heads/")));
            match sha {
                Some(sha) => ok(shapes::git_ref(&format!("refs/{name}"), &sha, &r, base)),
                None => not_found(),
            }
        }
        "PATCH /repos/{owner}/{repo}/git/refs/{ref}" => {
            set_ref(st, full, &get("ref"), input, base, false)
        }
        "POST /repos/{owner}/{repo}/git/refs" => {
            let name = input["ref"].as_str().unwrap_or("");
            match name.strip_prefix("refs/") {
                Some(rest) if rest.contains('/') => set_ref(st, full, rest, input, base, true),
                _ => (
                    422,
                    String::new(),
                    shapes::error("Reference name is invalid"),
                ),
            }
        }
        "DELETE /repos/{owner}/{repo}/git/refs/{ref}" => {
            let r = st.repo(full).expect("repo").clone();
            let name = get("ref");
            let deleted = r.git_dir.as_deref().is_some_and(|d| {
                git::branch(d, name.trim_start_matches("heads/")).is_some()
                    && git::delete_branch(d, name.trim_start_matches("heads/"))
            });
            if deleted {
                (204, String::new(), Value::Null)
            } else {
                (
                    422,
                    String::new(),
                    shapes::error("Reference does not exist"),
                )
            }
        }
        _ => not_found(),
    }
}

/// A branch name or commit id to a commit id (as given when unknown).
fn resolve(git_dir: &Option<PathBuf>, name: &str) -> String {
    git_dir
        .as_deref()
        .and_then(|d| git::branch(d, name))
        .unwrap_or_else(|| name.to_string())
}

/// A made-up commit id for a repository without a git directory.
fn made_up_sha(seed: &str) -> String {
    let h = shapes::id_of(seed);
    format!("{h:010x}{h:010x}{h:010x}{h:010x}")
}

/// Stores a new open pull request; its number (numbers are per repository).
/// Stores `pr` (repository, head, base, title, body, draft, user) as a new open pull request,
/// numbered, with its head commit read from the branch; its number.
pub fn new_pr(st: &mut State, pr: super::Pr) -> u64 {
    let number = st.prs.iter().filter(|p| p.repo == pr.repo).count() as u64 + 1;
    let id = st.id();
    let git_dir = st.repo(&pr.repo).and_then(|r| r.git_dir.clone());
    let head_sha = git_dir
        .as_deref()
        .and_then(|d| git::branch(d, &pr.head))
        .unwrap_or_else(|| made_up_sha(&format!("{}:{}", pr.repo, pr.head)));
    st.prs.push(super::Pr {
        number,
        id,
        node_id: format!("PR_kw{id}"),
        state: "open".into(),
        head_sha,
        ..pr
    });
    number
}

/// Refreshes a pull request's head from its branch (if the branch exists); the pull request's
/// JSON with `mergeable` as GitHub would answer it now.
fn pr_value(
    st: &mut State,
    full: &str,
    number: u64,
    base: &str,
    with_mergeable: bool,
) -> Option<Value> {
    let repo = st.repo(full)?.clone();
    let null_first = st.mergeable_null_first;
    let unknown = st.mergeable_unknown;
    let pr = st.pr(full, number)?;
    let dir = repo.git_dir.as_deref();
    if pr.state == "open"
        && let Some(sha) = dir.and_then(|d| git::branch(d, &pr.head))
    {
        pr.head_sha = sha;
    }
    let base_sha = dir
        .and_then(|d| git::branch(d, &pr.base))
        .unwrap_or_else(|| made_up_sha(&format!("{full}:{}", pr.base)));
    let mut v = shapes::pr(pr, &repo, &pr.head_sha, &base_sha, base);
    if !with_mergeable || pr.state != "open" {
        return Some(v);
    }
    let key = (base_sha.clone(), pr.head_sha.clone());
    let mergeable = if unknown {
        None
    } else if null_first && pr.computed_for.as_ref() != Some(&key) {
        pr.computed_for = Some(key);
        None
    } else {
        pr.computed_for = Some(key);
        Some(pr.mergeable.unwrap_or_else(|| {
            dir.is_none_or(|d| git::merged_tree(d, &base_sha, &pr.head_sha).is_some())
        }))
    };
    v["mergeable"] = json!(mergeable);
    v["mergeable_state"] = json!(match mergeable {
        None => "unknown",
        Some(true) => "clean",
        Some(false) => "dirty",
    });
    Some(v)
}

fn list_prs(st: &mut State, full: &str, target: &str, base: &str) -> Answer {
    let owner = full.split('/').next().unwrap_or("");
    let state = query(target, "state").unwrap_or_else(|| "open".into());
    let head = query(target, "head");
    let base_filter = query(target, "base");
    let mut numbers: Vec<u64> = st
        .prs
        .iter()
        .filter(|p| p.repo == full && (state == "all" || p.state == state))
        .filter(|p| {
            st.ignore_head_filter
                || head
                    .as_deref()
                    .is_none_or(|h| h == format!("{owner}:{}", p.head))
        })
        .filter(|p| base_filter.as_deref().is_none_or(|b| b == p.base))
        .map(|p| p.number)
        .collect();
    // GitHub's default order: newest first.
    numbers.reverse();
    let (link, numbers) = paginate(st, target, base, numbers);
    let page: Vec<Value> = numbers
        .into_iter()
        .filter_map(|n| pr_value(st, full, n, base, false))
        .collect();
    (200, link, Value::Array(page))
}

fn create_pr(st: &mut State, full: &str, input: &Value, base: &str) -> Answer {
    let owner = full.split('/').next().unwrap_or("").to_string();
    let head = input["head"].as_str().unwrap_or("");
    let head = head
        .strip_prefix(&format!("{owner}:"))
        .unwrap_or(head)
        .to_string();
    let into = input["base"].as_str().unwrap_or("").to_string();
    if st
        .prs
        .iter()
        .any(|p| p.repo == full && p.head == head && p.state == "open")
    {
        return invalid(&format!(
            "A pull request already exists for {owner}:{head}."
        ));
    }
    let dir = st.repo(full).and_then(|r| r.git_dir.clone());
    if let Some(d) = dir.as_deref() {
        if git::branch(d, &head).is_none() {
            return invalid(&format!("head: `{head}` is not a branch"));
        }
        if git::branch(d, &into).is_none() {
            return invalid(&format!("base: `{into}` is not a branch"));
        }
    }
    let login = st.login.clone();
    let number = new_pr(
        st,
        super::Pr {
            repo: full.into(),
            head,
            base: into,
            title: input["title"].as_str().unwrap_or("").into(),
            body: input["body"].as_str().unwrap_or("").into(),
            draft: input["draft"].as_bool().unwrap_or(false),
            user: login,
            ..super::Pr::default()
        },
    );
    // GitHub starts computing mergeability when the pull request is opened: `null` now.
    let reply = pr_value(st, full, number, base, false).unwrap_or(Value::Null);
    (201, String::new(), reply)
}

fn read_pr(st: &mut State, full: &str, number: u64, base: &str) -> Answer {
    match pr_value(st, full, number, base, true) {
        Some(v) => ok(v),
        None => not_found(),
    }
}

fn patch_pr(st: &mut State, full: &str, number: u64, input: &Value, base: &str) -> Answer {
    let login = st.login.clone();
    let dir = st.repo(full).and_then(|r| r.git_dir.clone());
    let Some(pr) = st.pr(full, number) else {
        return not_found();
    };
    if input["state"] == "open" && pr.state == "closed" {
        if pr.merged() {
            return invalid("state cannot be changed. The pull request has been merged.");
        }
        if dir
            .as_deref()
            .is_some_and(|d| git::branch(d, &pr.head).is_none())
        {
            return invalid("state cannot be changed. The head branch was deleted.");
        }
    }
    if let Some(t) = input["title"].as_str() {
        pr.title = t.into();
    }
    if let Some(b) = input["body"].as_str() {
        pr.body = b.into();
    }
    if let Some(b) = input["base"].as_str() {
        pr.base = b.into();
    }
    match input["state"].as_str() {
        Some("closed") if pr.state == "open" => {
            pr.state = "closed".into();
            pr.closed_by = Some(login);
        }
        Some("open") => {
            pr.state = "open".into();
            pr.closed_by = None;
        }
        _ => {}
    }
    read_pr(st, full, number, base)
}

/// `PUT .../pulls/{n}/merge`: the bare repository's base branch really moves.
fn merge(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let repo = st.repo(full).expect("repo").clone();
    let not_mergeable = (
        405,
        String::new(),
        shapes::error("Pull Request is not mergeable"),
    );
    let Some(pr) = st.pr(full, number).cloned() else {
        return not_found();
    };
    if pr.state != "open" {
        return not_mergeable;
    }
    let dir = repo.git_dir.as_deref();
    let head = dir
        .and_then(|d| git::branch(d, &pr.head))
        .unwrap_or(pr.head_sha.clone());
    if input["sha"].as_str().is_some_and(|s| s != head) {
        return (
            409,
            String::new(),
            shapes::error("Head branch was modified. Review and try the merge again."),
        );
    }
    let method = input["merge_method"].as_str().unwrap_or("merge");
    let (allowed, name) = match method {
        "squash" => (repo.allow_squash_merge, "Squash merges"),
        "rebase" => (repo.allow_rebase_merge, "Rebase merges"),
        _ => (repo.allow_merge_commit, "Merge commits"),
    };
    if !allowed {
        return (
            405,
            String::new(),
            shapes::error(&format!("{name} are not allowed on this repository.")),
        );
    }
    if pr.mergeable == Some(false) {
        return not_mergeable;
    }
    let sha = match dir {
        Some(d) => {
            let Some(base_sha) = git::branch(d, &pr.base) else {
                return not_mergeable;
            };
            let Some(tree) = git::merged_tree(d, &base_sha, &head) else {
                return not_mergeable;
            };
            let title = input["commit_title"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| {
                    format!(
                        "Merge pull request #{number} from {}/{}",
                        repo.owner, pr.head
                    )
                });
            let new = match method {
                "rebase" if git::is_ancestor(d, &base_sha, &head) => Some(head.clone()),
                "squash" | "rebase" => {
                    git::commit_tree(d, &tree, &[&base_sha], &format!("{} (#{number})", pr.title))
                }
                _ => git::commit_tree(d, &tree, &[&base_sha, &head], &title),
            };
            let Some(new) = new.filter(|n| git::update_branch(d, &pr.base, n, &base_sha)) else {
                return (
                    409,
                    String::new(),
                    shapes::error("Base branch was modified. Review and try the merge again."),
                );
            };
            new
        }
        None => made_up_sha(&format!("{full}#{number}")),
    };
    let pr = st.pr(full, number).expect("pull request");
    pr.state = "closed".into();
    pr.head_sha = head;
    pr.merged_at = Some(shapes::WHEN.into());
    pr.merge_commit_sha = Some(sha.clone());
    ok(json!({"sha": sha, "merged": true, "message": "Pull Request successfully merged"}))
}

fn combined_status(st: &mut State, full: &str, name: &str, target: &str, base: &str) -> Answer {
    let r = st.repo(full).expect("repo").clone();
    let sha = resolve(&r.git_dir, name);
    let statuses: Vec<&super::CommitStatus> = st
        .statuses
        .iter()
        .filter(|s| s.repo == full && s.sha == sha)
        .collect();
    let any = |state: &str| statuses.iter().any(|s| s.state == state);
    // GitHub: failure if any failed or errored; pending if any pending or none at all.
    let state = if any("failure") || any("error") {
        "failure"
    } else if any("pending") || statuses.is_empty() {
        "pending"
    } else {
        "success"
    };
    let items: Vec<Value> = statuses.iter().map(|s| shapes::status(s, base)).collect();
    let total = items.len();
    let (link, page) = paginate(st, target, base, items);
    let api = format!("{base}/repos/{full}");
    (
        200,
        link,
        json!({"state": state, "sha": sha, "total_count": total, "statuses": page,
               "repository": shapes::repo(&r, base),
               "commit_url": format!("{api}/commits/{sha}"),
               "url": format!("{api}/commits/{sha}/status")}),
    )
}

/// `GET .../compare/{base}...{head}`: real counts from the bare repository.
fn compare(st: &mut State, full: &str, basehead: &str, base: &str) -> Answer {
    let r = st.repo(full).expect("repo").clone();
    let Some((from, to)) = basehead.split_once("...") else {
        return not_found();
    };
    let (from, to) = (resolve(&r.git_dir, from), resolve(&r.git_dir, to));
    let (ahead, behind, merge_base) = match r.git_dir.as_deref() {
        Some(d) => {
            if !git::has_commit(d, &from) || !git::has_commit(d, &to) {
                return not_found();
            }
            let mb = git::run(d, &["merge-base", &from, &to]).unwrap_or_default();
            (git::count(d, &from, &to), git::count(d, &to, &from), mb)
        }
        None => (0, 0, from.clone()),
    };
    let status = match (ahead, behind) {
        (0, 0) => "identical",
        (_, 0) => "ahead",
        (0, _) => "behind",
        _ => "diverged",
    };
    let html = format!("https://github.example/{full}/compare/{basehead}");
    ok(json!({
        "url": format!("{base}/repos/{full}/compare/{basehead}"), "html_url": html,
        "permalink_url": html, "diff_url": format!("{html}.diff"),
        "patch_url": format!("{html}.patch"),
        "base_commit": shapes::commit(&from, &r, base),
        "merge_base_commit": shapes::commit(&merge_base, &r, base),
        "status": status, "ahead_by": ahead, "behind_by": behind, "total_commits": ahead,
        "commits": [], "files": [],
    }))
}

/// `PATCH .../git/refs/{ref}` (`create`: `POST .../git/refs`) on the bare repository.
fn set_ref(
    st: &mut State,
    full: &str,
    name: &str,
    input: &Value,
    base: &str,
    create: bool,
) -> Answer {
    let r = st.repo(full).expect("repo").clone();
    let Some(dir) = r.git_dir.as_deref() else {
        return (
            422,
            String::new(),
            shapes::error("Reference does not exist"),
        );
    };
    let Some(branch) = name.strip_prefix("heads/") else {
        return (
            422,
            String::new(),
            shapes::error("Reference name is invalid"),
        );
    };
    let sha = input["sha"].as_str().unwrap_or("");
    if !git::has_commit(dir, sha) {
        return (422, String::new(), shapes::error("Object does not exist"));
    }
    let old = git::branch(dir, branch);
    match (&old, create) {
        (Some(_), true) => {
            return (
                422,
                String::new(),
                shapes::error("Reference already exists"),
            );
        }
        (None, false) => {
            return (
                422,
                String::new(),
                shapes::error("Reference does not exist"),
            );
        }
        _ => {}
    }
    let old = old.unwrap_or_default();
    let force = input["force"].as_bool().unwrap_or(false);
    if !create && !force && !git::is_ancestor(dir, &old, sha) {
        return (
            422,
            String::new(),
            shapes::error("Update is not a fast forward"),
        );
    }
    if !git::update_branch(dir, branch, sha, &old) {
        return (409, String::new(), shapes::error("Reference update failed"));
    }
    let status = if create { 201 } else { 200 };
    (
        status,
        String::new(),
        shapes::git_ref(&format!("refs/{name}"), sha, &r, base),
    )
}

/// A search query's terms: free text and `key:value` qualifiers (quotes group words).
fn terms(q: &str) -> (Vec<String>, Vec<(String, String)>) {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for ch in q.chars() {
        match ch {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    let mut text = Vec::new();
    let mut quals = Vec::new();
    for w in words {
        match w.split_once(':') {
            Some((k, v)) if !k.is_empty() && k.chars().all(|c| c.is_ascii_alphabetic()) => {
                quals.push((k.to_ascii_lowercase(), v.to_string()));
            }
            _ => text.push(w),
        }
    }
    (text, quals)
}

/// One page of a search's results (at most `search_cap` of them).
fn search_page<T>(
    st: &State,
    target: &str,
    base: &str,
    items: Vec<T>,
    to_json: impl Fn(T) -> Value,
) -> Answer {
    let total = items.len();
    let per_page: usize = query(target, "per_page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(30);
    let page: usize = query(target, "page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1);
    if page.saturating_sub(1) * per_page.clamp(1, 100).min(st.page_size.max(1)) >= st.search_cap
        && page > 1
    {
        return (
            422,
            String::new(),
            shapes::error(
                "Cannot access beyond the first 1000 results, or the first 1000 results of a search.",
            ),
        );
    }
    let items: Vec<T> = items.into_iter().take(st.search_cap).collect();
    let (link, page) = paginate(st, target, base, items);
    let page: Vec<Value> = page.into_iter().map(to_json).collect();
    (
        200,
        link,
        json!({"total_count": total, "incomplete_results": false, "items": page}),
    )
}

fn search_repos(st: &State, target: &str, base: &str) -> Answer {
    let q = query(target, "q").unwrap_or_default();
    let (text, quals) = terms(&q);
    let items: Vec<&super::Repo> = st
        .repos
        .iter()
        .filter(|r| {
            let forks = quals
                .iter()
                .find(|(k, _)| k == "fork")
                .map(|(_, v)| v.as_str());
            let fork_ok = match forks {
                Some("true") => true,
                Some("only") => r.fork,
                _ => !r.fork,
            };
            fork_ok
                && quals.iter().all(|(k, v)| match k.as_str() {
                    "org" | "user" => r.owner.eq_ignore_ascii_case(v),
                    "repo" => r.full_name().eq_ignore_ascii_case(v),
                    "topic" => r.topics.iter().any(|t| t == v),
                    "archived" => r.archived == (v == "true"),
                    "is" => v != "archived" || r.archived,
                    _ => true,
                })
                && text.iter().all(|t| {
                    let t = t.to_lowercase();
                    r.name.to_lowercase().contains(&t)
                        || r.description.to_lowercase().contains(&t)
                        || r.topics.iter().any(|x| x.to_lowercase() == t)
                })
        })
        .collect();
    search_page(st, target, base, items, |r| shapes::repo(r, base))
}

fn search_code(st: &mut State, target: &str, base: &str) -> Answer {
    let q = query(target, "q").unwrap_or_default();
    let (text, quals) = terms(&q);
    let needle = text.join(" ");
    if needle.is_empty() {
        return (
            422,
            String::new(),
            json!({"message": "Validation Failed", "errors": [{"resource": "Search",
                   "field": "q", "code": "missing"}],
                   "documentation_url": "https://docs.github.com/rest/search/search#search-code"}),
        );
    }
    let qual = |k: &'static str| {
        quals
            .iter()
            .filter(move |(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let mut found: Vec<(usize, String, String)> = Vec::new();
    let mut fresh = Vec::new();
    for (i, r) in st.repos.iter().enumerate() {
        let owners: Vec<&str> = qual("org").chain(qual("user")).collect();
        let repos: Vec<&str> = qual("repo").collect();
        if (!owners.is_empty() && !owners.iter().any(|o| r.owner.eq_ignore_ascii_case(o)))
            || (!repos.is_empty() && !repos.iter().any(|n| r.full_name().eq_ignore_ascii_case(n)))
            || (r.fork && qual("fork").next().is_none())
        {
            continue;
        }
        let Some(dir) = r.git_dir.as_deref() else {
            continue;
        };
        let Some(tip) = git::branch(dir, &r.default_branch) else {
            continue;
        };
        let key = (dir.to_path_buf(), tip, needle.clone());
        let hits = match st.grep_cache.get(&key) {
            Some(hits) => hits.clone(),
            None => git::grep(dir, &r.default_branch, &needle),
        };
        for (path, blob) in &hits {
            let name = path.rsplit('/').next().unwrap_or(path).to_string();
            let keep = qual("path").all(|p| path.starts_with(p.trim_start_matches('/')))
                && qual("filename").all(|f| name == f)
                && qual("extension").all(|e| name.ends_with(&format!(".{e}")));
            if keep {
                found.push((i, path.clone(), blob.clone()));
            }
        }
        fresh.push((key, hits));
    }
    st.grep_cache.extend(fresh);
    let repos = &st.repos;
    search_page(st, target, base, found, |(i, path, blob)| {
        let r = &repos[i];
        let api = format!("{base}/repos/{}", r.full_name());
        let name = path.rsplit('/').next().unwrap_or(&path).to_string();
        json!({
            "name": name, "path": path, "sha": blob,
            "url": format!("{api}/contents/{path}?ref={}", r.default_branch),
            "git_url": format!("{api}/git/blobs/{blob}"),
            "html_url": format!("https://github.example/{}/blob/{}/{path}", r.full_name(), r.default_branch),
            "repository": shapes::repo(r, base), "score": 1.0,
        })
    })
}

fn owner_repos(st: &State, target: &str, base: &str, owner: &str, org: bool) -> Answer {
    let kind = if org {
        super::OwnerKind::Org
    } else {
        super::OwnerKind::User
    };
    let mine: Vec<&super::Repo> = st
        .repos
        .iter()
        .filter(|r| r.owner.eq_ignore_ascii_case(owner) && (!org || r.owner_kind == kind))
        .collect();
    if mine.is_empty() && org {
        return not_found();
    }
    let kind_filter = query(target, "type").unwrap_or_else(|| "all".into());
    let items: Vec<&super::Repo> = mine
        .into_iter()
        .filter(|r| match kind_filter.as_str() {
            "forks" => r.fork,
            "sources" => !r.fork,
            "public" => r.visibility == "public",
            "private" => r.visibility != "public",
            _ => true,
        })
        .collect();
    let (link, page) = paginate(st, target, base, items);
    let page = page.into_iter().map(|r| shapes::repo(r, base)).collect();
    (200, link, Value::Array(page))
}
