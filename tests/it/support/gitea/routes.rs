//! The fake Gitea's operations: a request (method, target under `/api/v1`, body) to an answer
//! (status, extra header lines, JSON body or none), over the stored state; the JSON shapes are
//! Gitea's definitions (`Repository`, `PullRequest`, `Label`, ...) with the fields codefleet and
//! a person would look at.

use serde_json::{Value, json};

use super::{Account, Pr, State, git};
use crate::support::github::{decode, query};

/// Status, extra header lines (each ending `\r\n`), body.
pub type Answer = (u16, String, Option<Value>);

const DATE: &str = "2026-01-02T03:04:05Z";

fn error(status: u16, message: &str) -> Answer {
    (
        status,
        String::new(),
        Some(json!({ "message": message, "url": "https://docs.gitea.com/api" })),
    )
}

fn ok(status: u16, v: Value) -> Answer {
    (status, String::new(), Some(v))
}

/// A scripted fault if one applies to the path, else the operation.
pub fn handle(st: &mut State, method: &str, target: &str, body: &str) -> Answer {
    let path = target.split('?').next().unwrap_or("");
    if let Some(i) = st.faults.iter().position(|f| path.starts_with(&f.path)) {
        let f = st.faults.remove(i);
        let extra = f
            .retry_after
            .map(|s| format!("retry-after: {s}\r\n"))
            .unwrap_or_default();
        let message = if f.status == 429 {
            "rate limit exceeded"
        } else {
            "bad gateway"
        };
        let (status, _, body) = error(f.status, message);
        return (status, extra, body);
    }
    let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let rest = path.strip_prefix("/api/v1").unwrap_or(path);
    let segs: Vec<String> = rest
        .trim_start_matches('/')
        .split('/')
        .map(decode)
        .collect();
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, s.as_slice()) {
        ("GET", ["users", login]) => user(st, login),
        ("GET", ["orgs", org, "repos"]) => owner_repos(st, org, true, target),
        ("GET", ["users", login, "repos"]) => owner_repos(st, login, false, target),
        ("GET", ["repos", "search"]) => search(st, target),
        ("GET", ["repos", o, r]) => match st.repo(&format!("{o}/{r}")) {
            Some(repo) => ok(200, repo_value(st, &repo.clone())),
            None => error(404, "The target couldn't be found."),
        },
        ("GET", ["repos", o, r, "compare", basehead @ ..]) => {
            compare(st, &format!("{o}/{r}"), &basehead.join("/"))
        }
        ("GET", ["repos", o, r, rest @ ..]) => get_in_repo(st, &format!("{o}/{r}"), rest, target),
        (_, ["repos", o, r, rest @ ..]) => {
            write_in_repo(st, method, &format!("{o}/{r}"), rest, &input)
        }
        _ => error(404, "not found"),
    }
}

fn get_in_repo(st: &mut State, full: &str, rest: &[&str], target: &str) -> Answer {
    let Some(repo) = st.repo(full).cloned() else {
        return error(404, "The target couldn't be found.");
    };
    match rest {
        ["topics"] => {
            let (extra, page) = paginate(st, target, repo.topics.clone());
            (200, extra, Some(json!({ "topics": page })))
        }
        ["labels"] => {
            let labels: Vec<Value> = st
                .labels
                .iter()
                .filter(|l| l.repo == full)
                .map(|l| label_value(st, l.id))
                .collect();
            let (extra, page) = paginate(st, target, labels);
            (200, extra, Some(Value::Array(page)))
        }
        ["pulls"] => {
            let state = query(target, "state").unwrap_or_else(|| "open".into());
            let mut numbers: Vec<u64> = st
                .prs
                .iter()
                .filter(|p| p.repo == full && (state == "all" || p.state == state))
                .map(|p| p.number)
                .collect();
            numbers.reverse();
            let (extra, numbers) = paginate(st, target, numbers);
            let page = numbers
                .iter()
                .filter_map(|n| pr_value(st, full, *n))
                .collect();
            (200, extra, Some(Value::Array(page)))
        }
        ["pulls", n] => match n.parse().ok().and_then(|n| pr_value(st, full, n)) {
            Some(v) => ok(200, v),
            None => error(404, "pull request does not exist"),
        },
        ["pulls", n, "reviews"] => {
            let n: u64 = n.parse().unwrap_or(0);
            let reviews: Vec<Value> = st
                .reviews
                .iter()
                .filter(|r| r.repo == full && r.number == n)
                .cloned()
                .collect::<Vec<_>>()
                .iter()
                .map(|r| review_value(st, full, r))
                .collect();
            let (extra, page) = paginate(st, target, reviews);
            (200, extra, Some(Value::Array(page)))
        }
        ["commits", reference @ ..] if reference.last() == Some(&"status") => {
            let reference = reference[..reference.len() - 1].join("/");
            combined_status(st, &repo, &reference, target)
        }
        _ => error(404, "not found"),
    }
}

fn write_in_repo(st: &mut State, method: &str, full: &str, rest: &[&str], input: &Value) -> Answer {
    if st.repo(full).is_none() {
        return error(404, "The target couldn't be found.");
    }
    let number = |s: &str| s.parse::<u64>().unwrap_or(0);
    match (method, rest) {
        ("POST", ["pulls"]) => create_pr(st, full, input),
        ("PATCH", ["pulls", n]) => edit_pr(st, full, number(n), input),
        ("POST", ["pulls", n, "merge"]) => merge(st, full, number(n), input),
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            request_reviews(st, full, number(n), input)
        }
        ("POST", ["issues", n, "comments"]) => comment(st, full, number(n), input),
        ("POST", ["issues", n, "labels"]) => add_labels(st, full, number(n), input),
        _ => error(404, "not found"),
    }
}

/// One page of `items` as `page`/`limit` ask (Gitea's default limit is 30, capped by
/// `page_size`), with `X-Total-Count` and a `Link` header (next, last, first, prev).
pub fn paginate<T>(st: &State, target: &str, items: Vec<T>) -> (String, Vec<T>) {
    let limit = query(target, "limit")
        .and_then(|l| l.parse::<usize>().ok())
        .filter(|l| *l > 0)
        .unwrap_or(30)
        .min(st.page_size.max(1));
    let page = query(target, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(limit).max(1);
    let slice: Vec<T> = items
        .into_iter()
        .skip((page - 1) * limit)
        .take(limit)
        .collect();
    let mut extra = format!("x-total-count: {total}\r\n");
    if last > 1 {
        let (path, q) = target.split_once('?').unwrap_or((target, ""));
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("page=") && !kv.starts_with("limit="))
            .collect();
        let link = |n: usize, rel: &str| {
            let mut q = kept.clone();
            let (page, limit) = (format!("page={n}"), format!("limit={limit}"));
            q.push(&limit);
            q.push(&page);
            format!("<{}{path}?{}>; rel=\"{rel}\"", st.base, q.join("&"))
        };
        let mut links = Vec::new();
        if page < last {
            links.push(link(page + 1, "next"));
            links.push(link(last, "last"));
        }
        if page > 1 {
            links.push(link(1, "first"));
            links.push(link(page - 1, "prev"));
        }
        extra.push_str(&format!("link: {}\r\n", links.join(",")));
    }
    (extra, slice)
}

fn user_value(st: &State, login: &str) -> Value {
    let id = st
        .accounts
        .iter()
        .find(|a| a.login == login)
        .map_or(1, |a| a.id);
    json!({
        "id": id,
        "login": login,
        "login_name": "",
        "source_id": 0,
        "full_name": "",
        "email": format!("{login}@noreply.gitea.example"),
        "avatar_url": format!("{}/avatars/{login}", st.base),
        "html_url": format!("{}/{login}", st.base),
        "language": "",
        "is_admin": false,
        "last_login": DATE,
        "created": DATE,
        "restricted": false,
        "active": true,
        "prohibit_login": false,
        "location": "",
        "website": "",
        "description": "",
        "visibility": "public",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
    })
}

fn user(st: &mut State, login: &str) -> Answer {
    match st.accounts.iter().any(|a: &Account| a.login == login) {
        true => ok(200, user_value(st, login)),
        false => error(404, "user redirect does not exist"),
    }
}

pub fn repo_value(st: &State, r: &super::Repo) -> Value {
    let full = r.full_name();
    let mut v = json!({
        "id": r.id,
        "owner": user_value(st, &r.owner),
        "name": r.name,
        "full_name": full,
        "description": r.description,
        "empty": false,
        "private": false,
        "fork": r.fork,
        "template": false,
        "mirror": false,
        "size": 1,
        "language": "",
        "html_url": format!("{}/{full}", st.base),
        "url": format!("{}/api/v1/repos/{full}", st.base),
        "link": "",
        "ssh_url": format!("ssh://git@127.0.0.1:2222/{full}.git"),
        "clone_url": format!("{}/{full}.git", st.base),
        "original_url": "",
        "website": "",
        "stars_count": 0,
        "forks_count": 0,
        "watchers_count": 1,
        "open_issues_count": 0,
    });
    let more = json!({
        "open_pr_counter": st.prs.iter().filter(|p| p.repo == full && p.state == "open").count(),
        "release_counter": 0,
        "default_branch": r.default_branch,
        "archived": r.archived,
        "created_at": DATE,
        "updated_at": DATE,
        "archived_at": if r.archived { DATE } else { "1970-01-01T00:00:00Z" },
        "permissions": { "admin": true, "push": true, "pull": true },
        "has_issues": true,
        "has_wiki": false,
        "has_pull_requests": true,
        "has_projects": false,
        "has_releases": true,
        "has_packages": false,
        "has_actions": true,
        "ignore_whitespace_conflicts": false,
        "allow_merge_commits": r.allow_merge_commits,
        "allow_rebase": r.allow_rebase,
        "allow_rebase_explicit": r.allow_rebase,
        "allow_squash_merge": r.allow_squash_merge,
        "allow_fast_forward_only_merge": false,
        "allow_rebase_update": true,
        "default_delete_branch_after_merge": false,
        "default_merge_style": r.default_merge_style,
        "default_allow_maintainer_edit": false,
        "avatar_url": "",
        "internal": false,
        "mirror_interval": "",
        "object_format_name": "sha1",
        "mirror_updated": DATE,
        "licenses": [],
    });
    if let (Some(m), Value::Object(extra)) = (v.as_object_mut(), more) {
        m.extend(extra);
    }
    if !r.omit_topics {
        v["topics"] = json!(r.topics);
    }
    v
}

fn owner_repos(st: &mut State, login: &str, org: bool, target: &str) -> Answer {
    match st.accounts.iter().find(|a| a.login == login) {
        Some(a) if a.org == org || !org => {}
        _ => return error(404, "GetUserByName"),
    }
    let repos: Vec<Value> = st
        .repos
        .iter()
        .filter(|r| r.owner == login)
        .map(|r| repo_value(st, r))
        .collect();
    let (extra, page) = paginate(st, target, repos);
    (200, extra, Some(Value::Array(page)))
}

/// `GET /repos/search`: `q` in the name (and the description with `includeDesc`), or an exact
/// topic with `topic=true`; `uid` with `exclusive` keeps the owner's; `archived` filters.
fn search(st: &mut State, target: &str) -> Answer {
    let q = query(target, "q").unwrap_or_default().to_lowercase();
    let flag = |k: &str| query(target, k).map(|v| v == "true");
    let uid = query(target, "uid").and_then(|u| u.parse::<u64>().ok());
    let owner = uid.and_then(|id| {
        st.accounts
            .iter()
            .find(|a| a.id == id)
            .map(|a| a.login.clone())
    });
    let repos: Vec<Value> = st
        .repos
        .iter()
        .filter(|r| {
            let text = if flag("topic") == Some(true) {
                q.is_empty() || r.topics.iter().any(|t| t.to_lowercase() == q)
            } else {
                r.name.to_lowercase().contains(&q)
                    || (flag("includeDesc") == Some(true)
                        && r.description.to_lowercase().contains(&q))
            };
            let owned = uid.is_none() || owner.as_deref() == Some(r.owner.as_str());
            let archived = flag("archived").is_none_or(|a| a == r.archived);
            text && owned && archived
        })
        .map(|r| repo_value(st, r))
        .collect();
    let (extra, page) = paginate(st, target, repos);
    (200, extra, Some(json!({ "ok": true, "data": page })))
}

fn label_value(st: &State, id: u64) -> Value {
    let l = st.labels.iter().find(|l| l.id == id);
    let name = l.map_or("", |l| l.name.as_str());
    let repo = l.map_or("", |l| l.repo.as_str());
    json!({
        "id": id,
        "name": name,
        "exclusive": false,
        "is_archived": false,
        "color": "e11d21",
        "description": "",
        "url": format!("{}/api/v1/repos/{repo}/labels/{id}", st.base),
    })
}

/// Stores a new open pull request with its head read from the branch; its number.
pub fn new_pr(st: &mut State, pr: Pr) -> u64 {
    let number = st.prs.iter().filter(|p| p.repo == pr.repo).count() as u64 + 1;
    let id = st.id();
    let dir = st.repo(&pr.repo).and_then(|r| r.git_dir.clone());
    let head_sha = dir
        .as_deref()
        .and_then(|d| git::branch(d, &pr.head))
        .unwrap_or_else(|| format!("{:040x}", id));
    st.prs.push(Pr {
        number,
        id,
        state: "open".into(),
        head_sha,
        ..pr
    });
    number
}

fn branch_info(st: &State, repo: &super::Repo, branch: &str, sha: &str) -> Value {
    json!({
        "label": branch,
        "ref": branch,
        "sha": sha,
        "repo_id": repo.id,
        "repo": repo_value(st, repo),
    })
}

/// A pull request as Gitea answers it now (an open one's head read again from its branch).
pub fn pr_value(st: &mut State, full: &str, number: u64) -> Option<Value> {
    let repo = st.repo(full)?.clone();
    let dir = repo.git_dir.clone();
    let pr = st.pr(full, number)?;
    if pr.state == "open"
        && let Some(sha) = dir.as_deref().and_then(|d| git::branch(d, &pr.head))
    {
        pr.head_sha = sha;
    }
    let pr = pr.clone();
    let base_sha = dir
        .as_deref()
        .and_then(|d| git::branch(d, &pr.base))
        .unwrap_or_default();
    let mergeable = pr.mergeable.unwrap_or_else(|| {
        dir.as_deref()
            .is_none_or(|d| git::merged_tree(d, &base_sha, &pr.head_sha).is_some())
    });
    let wip = {
        let t = pr.title.to_ascii_uppercase();
        t.starts_with("WIP:") || t.starts_with("[WIP]")
    };
    let users =
        |names: &[String]| -> Vec<Value> { names.iter().map(|n| user_value(st, n)).collect() };
    Some(json!({
        "id": pr.id,
        "url": format!("{}/api/v1/repos/{full}/pulls/{number}", st.base),
        "number": number,
        "user": user_value(st, &pr.user),
        "title": pr.title,
        "body": pr.body,
        "labels": pr.labels.iter().map(|id| label_value(st, *id)).collect::<Vec<_>>(),
        "milestone": null,
        "assignee": pr.assignees.first().map(|a| user_value(st, a)),
        "assignees": users(&pr.assignees),
        "requested_reviewers": users(&pr.reviewers),
        "requested_reviewers_teams": [],
        "state": pr.state,
        "draft": wip,
        "is_locked": false,
        "comments": pr.comments.len(),
        "review_comments": 0,
        "additions": 1,
        "deletions": 0,
        "changed_files": 1,
        "html_url": format!("{}/{full}/pulls/{number}", st.base),
        "diff_url": format!("{}/{full}/pulls/{number}.diff", st.base),
        "patch_url": format!("{}/{full}/pulls/{number}.patch", st.base),
        "mergeable": pr.state == "open" && mergeable,
        "merged": pr.merged,
        "merged_at": pr.merged.then_some(DATE),
        "merge_commit_sha": pr.merge_commit_sha,
        "merged_by": pr.merged.then(|| user_value(st, &st.login)),
        "allow_maintainer_edit": false,
        "base": branch_info(st, &repo, &pr.base, &base_sha),
        "head": branch_info(st, &repo, &pr.head, &pr.head_sha),
        "merge_base": base_sha,
        "due_date": null,
        "created_at": DATE,
        "updated_at": DATE,
        "closed_at": (pr.state == "closed").then_some(DATE),
        "pin_order": 0,
    }))
}

fn create_pr(st: &mut State, full: &str, input: &Value) -> Answer {
    let text = |k: &str| input[k].as_str().unwrap_or("").to_string();
    let (head, base) = (text("head"), text("base"));
    if st.repo(full).is_some_and(|r| r.archived) {
        return error(423, "repo is archived");
    }
    if st
        .prs
        .iter()
        .any(|p| p.repo == full && p.head == head && p.base == base && p.state == "open")
    {
        return error(
            409,
            &format!(
                "pull request already exists for these targets [id: 1, issue_id: 1, head_repo_id: 1, base_repo_id: 1, head_branch: {head}, base_branch: {base}]"
            ),
        );
    }
    let dir = st.repo(full).and_then(|r| r.git_dir.clone());
    if let Some(d) = dir.as_deref()
        && (git::branch(d, &head).is_none() || git::branch(d, &base).is_none())
    {
        return error(404, "The target couldn't be found.");
    }
    let labels: Vec<u64> = input["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    if labels
        .iter()
        .any(|id| !st.labels.iter().any(|l| l.id == *id && l.repo == full))
    {
        return error(422, "label does not exist");
    }
    let login = st.login.clone();
    let names = |k: &str| -> Vec<String> {
        input[k]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect()
    };
    let number = new_pr(
        st,
        Pr {
            repo: full.into(),
            title: text("title"),
            body: text("body"),
            head,
            base,
            labels,
            assignees: names("assignees"),
            user: login,
            ..Pr::default()
        },
    );
    (201, String::new(), pr_value(st, full, number))
}

fn edit_pr(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let login = st.login.clone();
    let Some(pr) = st.pr(full, number) else {
        return error(404, "pull request does not exist");
    };
    if let Some(t) = input["title"].as_str() {
        pr.title = t.into();
    }
    if let Some(b) = input["body"].as_str() {
        pr.body = b.into();
    }
    match input["state"].as_str() {
        Some("closed") if !pr.merged => {
            pr.state = "closed".into();
            pr.closed_by = Some(login);
        }
        Some("open") if !pr.merged => {
            pr.state = "open".into();
            pr.closed_by = None;
        }
        _ => {}
    }
    (201, String::new(), pr_value(st, full, number))
}

fn comment(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let text = input["body"].as_str().unwrap_or("").to_string();
    let id = st.id();
    let Some(pr) = st.pr(full, number) else {
        return error(404, "issue does not exist");
    };
    pr.comments.push(text.clone());
    let login = st.login.clone();
    ok(
        201,
        json!({
            "id": id,
            "html_url": format!("{}/{full}/pulls/{number}#issuecomment-{id}", st.base),
            "pull_request_url": format!("{}/{full}/pulls/{number}", st.base),
            "issue_url": "",
            "user": user_value(st, &login),
            "original_author": "",
            "original_author_id": 0,
            "body": text,
            "assets": [],
            "created_at": DATE,
            "updated_at": DATE,
        }),
    )
}

fn add_labels(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let ids: Vec<u64> = input["labels"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_u64)
        .collect();
    if ids
        .iter()
        .any(|id| !st.labels.iter().any(|l| l.id == *id && l.repo == full))
    {
        return error(422, "label does not exist");
    }
    let Some(pr) = st.pr(full, number) else {
        return error(404, "issue does not exist");
    };
    for id in ids {
        if !pr.labels.contains(&id) {
            pr.labels.push(id);
        }
    }
    let now = pr.labels.clone();
    ok(
        200,
        Value::Array(now.iter().map(|id| label_value(st, *id)).collect()),
    )
}

fn review_value(st: &State, full: &str, r: &super::Review) -> Value {
    json!({
        "id": r.id,
        "user": user_value(st, &r.user),
        "body": "",
        "commit_id": r.commit_id,
        "stale": false,
        "official": true,
        "dismissed": r.dismissed,
        "comments_count": 0,
        "submitted_at": DATE,
        "updated_at": DATE,
        "html_url": format!("{}/{full}/pulls/{}#issuecomment-{}", st.base, r.number, r.id),
        "pull_request_url": format!("{}/{full}/pulls/{}", st.base, r.number),
        "state": r.state,
    })
}

fn request_reviews(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let names: Vec<String> = input["reviewers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    if let Some(unknown) = names
        .iter()
        .find(|n| !st.accounts.iter().any(|a| &a.login == *n && !a.org))
    {
        return error(
            422,
            &format!("user does not exist [uid: 0, name: {unknown}]"),
        );
    }
    let teams: Vec<String> = input["team_reviewers"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_string)
        .collect();
    let Some(pr) = st.pr(full, number) else {
        return error(404, "pull request does not exist");
    };
    let head = pr.head_sha.clone();
    for n in &names {
        if !pr.reviewers.contains(n) {
            pr.reviewers.push(n.clone());
        }
    }
    pr.team_reviewers.extend(teams);
    let mut made = Vec::new();
    for n in &names {
        let id = st.id();
        made.push(super::Review {
            repo: full.into(),
            number,
            id,
            user: n.clone(),
            state: "REQUEST_REVIEW".into(),
            dismissed: false,
            commit_id: head.clone(),
        });
    }
    let values = made.iter().map(|r| review_value(st, full, r)).collect();
    st.reviews.extend(made);
    ok(201, Value::Array(values))
}

/// `GET …/compare/{base}...{head}`: the commits `head` has that `base` has not.
fn compare(st: &mut State, full: &str, basehead: &str) -> Answer {
    let Some(dir) = st.repo(full).and_then(|r| r.git_dir.clone()) else {
        return error(404, "The target couldn't be found.");
    };
    let Some((base, head)) = basehead.split_once("...") else {
        return error(400, "invalid basehead");
    };
    let resolve =
        |r: &str| git::branch(&dir, r).or_else(|| git::has_commit(&dir, r).then(|| r.to_string()));
    let (Some(b), Some(h)) = (resolve(base), resolve(head)) else {
        return error(404, "The target couldn't be found.");
    };
    let list = git::run(&dir, &["rev-list", "--reverse", &format!("{b}..{h}")]).unwrap_or_default();
    let commits: Vec<Value> = list
        .lines()
        .map(|sha| {
            json!({
                "sha": sha,
                "url": format!("{}/api/v1/repos/{full}/git/commits/{sha}", st.base),
                "html_url": format!("{}/{full}/commit/{sha}", st.base),
                "created": DATE,
            })
        })
        .collect();
    ok(
        200,
        json!({ "total_commits": commits.len(), "commits": commits }),
    )
}

fn combined_status(st: &mut State, repo: &super::Repo, reference: &str, target: &str) -> Answer {
    let full = repo.full_name();
    let sha = repo
        .git_dir
        .as_deref()
        .and_then(|d| git::branch(d, reference))
        .unwrap_or_else(|| reference.to_string());
    let statuses: Vec<super::Status> = st
        .statuses
        .iter()
        .filter(|s| s.repo == full && s.sha == sha)
        .cloned()
        .collect();
    let (extra, page) = paginate(st, target, statuses);
    // Gitea combines the page it answers, not every status.
    let state = combine(page.iter().map(|s| s.state.as_str()));
    let values: Vec<Value> = page
        .iter()
        .map(|s| {
            json!({
                "id": s.id,
                "status": s.state,
                "target_url": format!("{}/ci/{}", st.base, s.id),
                "description": "",
                "url": format!("{}/api/v1/repos/{full}/statuses/{sha}", st.base),
                "context": s.context,
                "creator": user_value(st, "ci-bot"),
                "created_at": DATE,
                "updated_at": DATE,
            })
        })
        .collect();
    let mut v = json!({
        "sha": sha,
        "total_count": values.len(),
        "statuses": values,
        "commit_url": format!("{}/api/v1/repos/{full}/commits/{sha}", st.base),
        "url": format!("{}/api/v1/repos/{full}/commits/{sha}/status", st.base),
    });
    if let Some(s) = state {
        v["state"] = json!(s);
    }
    (200, extra, Some(v))
}

/// Gitea's combined state: the worst of the statuses (`None` for none).
fn combine<'a>(states: impl Iterator<Item = &'a str>) -> Option<&'static str> {
    let rank = |s: &str| match s {
        "error" => 5,
        "failure" => 4,
        "pending" => 3,
        "warning" => 2,
        "success" => 1,
        _ => 0,
    };
    let worst = states.map(rank).max()?;
    Some(match worst {
        5 => "error",
        4 => "failure",
        3 => "pending",
        2 => "warning",
        1 => "success",
        _ => "skipped",
    })
}

/// Whether every status of a commit has succeeded (and there is one).
fn checks_succeeded(st: &State, full: &str, sha: &str) -> bool {
    let states: Vec<&str> = st
        .statuses
        .iter()
        .filter(|s| s.repo == full && s.sha == sha)
        .map(|s| s.state.as_str())
        .collect();
    !states.is_empty()
        && states
            .iter()
            .all(|s| matches!(*s, "success" | "skipped" | "warning"))
}

/// `POST …/pulls/{index}/merge`: `do` as the style, `head_commit_id` must be the head (409
/// "head out of date" otherwise), merged for real in the bare repository;
/// `merge_when_checks_succeed` schedules it (201) unless the checks already succeeded.
fn merge(st: &mut State, full: &str, number: u64, input: &Value) -> Answer {
    let Some(pr) = st.pr(full, number).cloned() else {
        return error(404, "pull request does not exist");
    };
    let _ = pr_value(st, full, number);
    let pr = st.pr(full, number).cloned().unwrap_or(pr);
    if pr.merged {
        return error(405, "PR already merged");
    }
    if pr.state != "open" {
        return error(404, "pull request is closed");
    }
    let style = input["do"].as_str().unwrap_or("merge").to_string();
    if let Some(h) = input["head_commit_id"].as_str()
        && !h.is_empty()
        && h != pr.head_sha
    {
        return error(409, "head out of date");
    }
    if input["merge_when_checks_succeed"] == true && !checks_succeeded(st, full, &pr.head_sha) {
        if pr.auto_merge.is_some() {
            return error(
                409,
                "pull request is already scheduled to auto merge when checks succeed",
            );
        }
        st.pr(full, number).expect("pr").auto_merge = Some(style);
        return (201, String::new(), None);
    }
    match do_merge(st, full, number, &style) {
        Ok(()) => (200, String::new(), None),
        Err(answer) => answer,
    }
}

/// Merges for real: a merge commit, one squashed commit, or the head rebased (fast-forward when
/// it contains the base, else one commit on the base).
fn do_merge(st: &mut State, full: &str, number: u64, style: &str) -> Result<(), Answer> {
    let repo = st
        .repo(full)
        .cloned()
        .ok_or_else(|| error(404, "not found"))?;
    let pr = st
        .pr(full, number)
        .cloned()
        .ok_or_else(|| error(404, "not found"))?;
    let allowed = match style {
        "merge" => repo.allow_merge_commits,
        "squash" => repo.allow_squash_merge,
        "rebase" => repo.allow_rebase,
        _ => false,
    };
    if !allowed {
        return Err(error(405, &format!("merge style {style} is not allowed")));
    }
    if pr.mergeable == Some(false) {
        return Err(error(405, "Please try again later"));
    }
    let sha = match repo.git_dir.as_deref() {
        None => format!("{:040x}", pr.id + 7),
        Some(d) => {
            let base = git::branch(d, &pr.base).unwrap_or_default();
            let tree = git::merged_tree(d, &base, &pr.head_sha)
                .ok_or_else(|| error(409, "merge conflicts: cannot merge"))?;
            let message = format!("{} (#{number})", pr.title);
            let made = match style {
                "merge" => git::commit_tree(d, &tree, &[&base, &pr.head_sha], &message),
                "rebase" if git::is_ancestor(d, &base, &pr.head_sha) => Some(pr.head_sha.clone()),
                _ => git::commit_tree(d, &tree, &[&base], &message),
            }
            .ok_or_else(|| error(500, "git failed"))?;
            if !git::update_branch(d, &pr.base, &made, &base) {
                return Err(error(409, "merge push out of date"));
            }
            made
        }
    };
    let login = st.login.clone();
    let pr = st.pr(full, number).expect("pr");
    pr.merged = true;
    pr.state = "closed".into();
    pr.merge_commit_sha = Some(sha);
    pr.closed_by = Some(login);
    pr.auto_merge = None;
    Ok(())
}

/// Merges the pull requests of `repo` scheduled to merge once their checks succeeded.
pub fn run_auto_merges(st: &mut State, full: &str) {
    let due: Vec<(u64, String)> = st
        .prs
        .iter()
        .filter(|p| p.repo == full && p.state == "open")
        .filter_map(|p| Some((p.number, p.auto_merge.clone()?, p.head_sha.clone())))
        .filter(|(_, _, sha)| checks_succeeded(st, full, sha))
        .map(|(n, style, _)| (n, style))
        .collect();
    for (n, style) in due {
        let _ = do_merge(st, full, n, &style);
    }
}
