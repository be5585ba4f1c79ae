//! The fake GitLab's operations: each API request to (status, extra header lines, JSON body).

use std::path::PathBuf;

use serde_json::{Value, json};

use super::{Mr, State, git};
use crate::support::github::{decode, query};

type Answer = (u16, String, Value);

const WHEN: &str = "2026-01-02T03:04:05.000Z";

fn ok(body: Value) -> Answer {
    (200, String::new(), body)
}

fn error(status: u16, message: Value) -> Answer {
    (status, String::new(), json!({ "message": message }))
}

fn not_found(what: &str) -> Answer {
    error(404, json!(format!("404 {what} Not Found")))
}

/// Routes a request under `/api/v4`.
pub fn route(st: &mut State, method: &str, target: &str, body: &str) -> Answer {
    let path = target.split('?').next().unwrap_or("");
    let segs: Vec<String> = path
        .trim_start_matches("/api/v4/")
        .split('/')
        .map(decode)
        .collect();
    let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let s: Vec<&str> = segs.iter().map(String::as_str).collect();
    match (method, s.as_slice()) {
        ("GET", ["users"]) => users(st, target),
        ("GET", ["users", user, "projects"]) => user_projects(st, user, target),
        ("GET", ["groups", group, "projects"]) => group_projects(st, group, target),
        (_, ["projects", id, rest @ ..]) => {
            let Some(p) = project_path(st, id) else {
                return not_found("Project");
            };
            project_route(st, method, &p, rest, target, &input)
        }
        _ => not_found(""),
    }
}

fn project_route(
    st: &mut State,
    method: &str,
    project: &str,
    rest: &[&str],
    target: &str,
    input: &Value,
) -> Answer {
    let iid = |s: &str| s.parse::<u64>().ok();
    match (method, rest) {
        ("GET", []) => ok(project_value(st, project)),
        ("GET", ["pipelines"]) => pipelines(st, project, target),
        ("GET", ["merge_requests"]) => list_mrs(st, project, target),
        ("POST", ["merge_requests"]) => create_mr(st, project, input),
        (_, ["merge_requests", n, more @ ..]) => {
            let Some(n) = iid(n).filter(|n| st.mr(project, *n).is_some()) else {
                return not_found("Merge Request");
            };
            match (method, more) {
                ("GET", []) => {
                    let diverged =
                        query(target, "include_diverged_commits_count").as_deref() == Some("true");
                    ok(mr_value(st, project, n, diverged))
                }
                ("PUT", []) => update_mr(st, project, n, input),
                ("GET", ["reviewers"]) => reviewers(st, project, n),
                ("GET", ["approvals"]) => approvals(st, project, n),
                ("POST", ["notes"]) => note(st, project, n, input),
                ("PUT", ["merge"]) => merge(st, project, n, input),
                _ => not_found(""),
            }
        }
        _ => not_found(""),
    }
}

/// A project's full path from its id in a path (the full path, or the numeric id).
fn project_path(st: &State, id: &str) -> Option<String> {
    st.projects
        .iter()
        .find(|p| p.path == id || p.id.to_string() == id)
        .map(|p| p.path.clone())
}

fn git_dir(st: &State, project: &str) -> Option<PathBuf> {
    st.project(project).and_then(|p| p.git_dir.clone())
}

fn user_value(st: &State, id: u64) -> Value {
    let name = st.username(id);
    json!({"id": id, "username": name, "name": name, "state": "active",
           "web_url": format!("{}/{name}", st.base)})
}

pub fn project_value(st: &State, path: &str) -> Value {
    let p = st.project(path).expect("project");
    let (ns, own) = p.split();
    let mut v = json!({
        "id": p.id,
        "name": own,
        "path": own,
        "path_with_namespace": p.path,
        "description": p.description,
        "default_branch": p.default_branch,
        "http_url_to_repo": format!("{}/{}.git", st.base, p.path),
        "ssh_url_to_repo": format!("git@gitlab.example:{}.git", p.path),
        "web_url": format!("{}/{}", st.base, p.path),
        "archived": p.archived,
        "topics": p.topics,
        "visibility": "private",
        "namespace": {"id": 1, "full_path": ns, "kind": if p.user { "user" } else { "group" }},
    });
    if let Some(from) = &p.forked_from {
        v["forked_from_project"] = json!({"id": 1, "path_with_namespace": from});
    }
    v
}

/// `GET /users?username=`.
fn users(st: &State, target: &str) -> Answer {
    let name = query(target, "username");
    let found: Vec<Value> = st
        .users
        .iter()
        .filter(|(_, n)| name.as_ref().is_none_or(|w| w.eq_ignore_ascii_case(n)))
        .map(|(id, _)| user_value(st, *id))
        .collect();
    ok(json!(found))
}

/// The projects of a listing narrowed by `archived`, `search` and `topic`, newest first.
fn narrowed(st: &State, target: &str, keep: impl Fn(&super::Project) -> bool) -> Vec<Value> {
    let archived = query(target, "archived").map(|a| a == "true");
    let search = query(target, "search").map(|s| s.to_lowercase());
    let topics: Vec<String> = query(target, "topic")
        .map(|t| t.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    let mut found: Vec<&super::Project> = st
        .projects
        .iter()
        .filter(|p| keep(p))
        .filter(|p| archived.is_none_or(|a| p.archived == a))
        .filter(|p| {
            search.as_ref().is_none_or(|s| {
                p.path.to_lowercase().contains(s) || p.description.to_lowercase().contains(s)
            })
        })
        .filter(|p| topics.iter().all(|t| p.topics.contains(t)))
        .collect();
    found.sort_by_key(|p| std::cmp::Reverse(p.id));
    found.iter().map(|p| project_value(st, &p.path)).collect()
}

/// `GET /groups/:id/projects`.
fn group_projects(st: &State, group: &str, target: &str) -> Answer {
    let nested = |p: &super::Project| {
        !p.user && (p.split().0 == group || p.split().0.starts_with(&format!("{group}/")))
    };
    let known = st.groups.iter().any(|g| g == group) || st.projects.iter().any(nested);
    if !known {
        return not_found("Group");
    }
    let subgroups = query(target, "include_subgroups").as_deref() == Some("true");
    let items = narrowed(st, target, |p| {
        !p.user && (p.split().0 == group || (subgroups && nested(p)))
    });
    page(st, target, items)
}

/// `GET /users/:user_id/projects`.
fn user_projects(st: &State, user: &str, target: &str) -> Answer {
    let known = st.users.iter().any(|(_, n)| n == user)
        || st.projects.iter().any(|p| p.user && p.split().0 == user);
    if !known {
        return not_found("User");
    }
    let items = narrowed(st, target, |p| p.user && p.split().0 == user);
    page(st, target, items)
}

/// One page of `items` as `per_page`/`page` ask (capped by `page_size`) with GitLab's
/// pagination headers (`Link` unless `no_link_header`, `X-Next-Page`, `X-Total`, ...).
fn page(st: &State, target: &str, items: Vec<Value>) -> Answer {
    let per_page = query(target, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(20)
        .clamp(1, 100)
        .min(st.page_size.max(1));
    let n = query(target, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let total = items.len();
    let last = total.div_ceil(per_page).max(1);
    let slice: Vec<Value> = items
        .into_iter()
        .skip((n - 1) * per_page)
        .take(per_page)
        .collect();
    let next = if n < last {
        (n + 1).to_string()
    } else {
        String::new()
    };
    let prev = if n > 1 {
        (n - 1).to_string()
    } else {
        String::new()
    };
    let mut extra = format!(
        "x-page: {n}\r\nx-per-page: {per_page}\r\nx-total: {total}\r\nx-total-pages: {last}\r\n\
         x-next-page: {next}\r\nx-prev-page: {prev}\r\n"
    );
    if !st.no_link_header {
        let (path, q) = target.split_once('?').unwrap_or((target, ""));
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
            .collect();
        let link = |p: usize, rel: &str| {
            format!(
                "<{}{path}?{}&page={p}>; rel=\"{rel}\"",
                st.base,
                kept.join("&")
            )
        };
        let mut links = Vec::new();
        if n > 1 {
            links.push(link(n - 1, "prev"));
        }
        if n < last {
            links.push(link(n + 1, "next"));
        }
        links.push(link(1, "first"));
        links.push(link(last, "last"));
        extra.push_str(&format!("link: {}\r\n", links.join(", ")));
    }
    (200, extra, json!(slice))
}

/// Stores a new merge request; its iid.
pub fn new_mr(st: &mut State, mut mr: Mr) -> u64 {
    mr.iid = st
        .mrs
        .iter()
        .filter(|m| m.project == mr.project)
        .map(|m| m.iid)
        .max()
        .unwrap_or(0)
        + 1;
    mr.id = st.id();
    mr.state = "opened".into();
    let iid = mr.iid;
    st.mrs.push(mr);
    iid
}

/// The source branch's commit now (from git when the branch exists).
fn head_of(st: &State, mr: &Mr) -> String {
    git_dir(st, &mr.project)
        .and_then(|d| git::branch(&d, &mr.source_branch))
        .unwrap_or_else(|| mr.sha.clone())
}

/// (`detailed_merge_status`, has conflicts, commits the target has that the source lacks).
fn merge_status(st: &State, mr: &Mr) -> (String, bool, u64) {
    let dir = git_dir(st, &mr.project);
    let head = head_of(st, mr);
    let (conflict, behind) = match &dir {
        Some(d) => match git::branch(d, &mr.target_branch) {
            Some(base) if !head.is_empty() => (
                git::merged_tree(d, &base, &head).is_none(),
                git::count(d, &head, &base),
            ),
            _ => (false, 0),
        },
        None => (false, 0),
    };
    let status = if let Some(forced) = &mr.merge_status {
        forced.clone()
    } else if mr.state != "opened" {
        "not_open".into()
    } else if is_draft(&mr.title) {
        "draft_status".into()
    } else if conflict {
        "conflict".into()
    } else {
        "mergeable".into()
    };
    let conflict = conflict || status == "conflict";
    (status, conflict, behind)
}

fn is_draft(title: &str) -> bool {
    let t = title.to_ascii_lowercase();
    t.starts_with("draft:") || t.starts_with("[draft]") || t.starts_with("(draft)")
}

pub fn mr_value(st: &mut State, project: &str, iid: u64, diverged: bool) -> Value {
    let mr = st.mr(project, iid).expect("merge request").clone();
    let head = head_of(st, &mr);
    let (status, conflict, behind) = merge_status(st, &mr);
    let project_id = st.project(project).map_or(0, |p| p.id);
    let author = st.user_id(&mr.author);
    let draft = is_draft(&mr.title);
    let mut v = json!({
        "id": mr.id,
        "iid": mr.iid,
        "project_id": project_id,
        "title": mr.title,
        "description": mr.description,
        "state": mr.state,
        "draft": draft,
        "work_in_progress": draft,
        "source_branch": mr.source_branch,
        "target_branch": mr.target_branch,
        "sha": head,
        "merge_commit_sha": mr.merge_commit_sha,
        "squash_commit_sha": mr.squash_commit_sha,
        "labels": mr.labels,
        "web_url": format!("{}/{project}/-/merge_requests/{iid}", st.base),
        "author": user_value(st, author),
        "assignees": mr.assignee_ids.iter().map(|u| user_value(st, *u)).collect::<Vec<_>>(),
        "reviewers": mr.reviewer_ids.iter().map(|u| user_value(st, *u)).collect::<Vec<_>>(),
        "merge_when_pipeline_succeeds": mr.merge_when_pipeline_succeeds,
        "detailed_merge_status": status,
        "has_conflicts": conflict,
        "squash": mr.squash,
        "force_remove_source_branch": mr.remove_source_branch,
        "created_at": WHEN,
        "updated_at": WHEN,
        "merged_at": (mr.state == "merged").then_some(WHEN),
        "closed_at": (mr.state == "closed").then_some(WHEN),
    });
    if diverged {
        v["diverged_commits_count"] = json!(behind);
    }
    v
}

fn list_mrs(st: &mut State, project: &str, target: &str) -> Answer {
    let state = query(target, "state").unwrap_or_else(|| "all".into());
    let source = query(target, "source_branch");
    let target_branch = query(target, "target_branch");
    let asc = query(target, "sort").as_deref() == Some("asc");
    let mut iids: Vec<u64> = st
        .mrs
        .iter()
        .filter(|m| m.project == project)
        .filter(|m| state == "all" || m.state == state)
        .filter(|m| source.as_ref().is_none_or(|s| *s == m.source_branch))
        .filter(|m| target_branch.as_ref().is_none_or(|t| *t == m.target_branch))
        .map(|m| m.iid)
        .collect();
    iids.sort_unstable();
    if !asc {
        iids.reverse();
    }
    let items = iids
        .into_iter()
        .map(|n| mr_value(st, project, n, false))
        .collect();
    page(st, target, items)
}

fn text(v: &Value, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

fn ids(v: &Value, k: &str) -> Option<Vec<u64>> {
    v.get(k)
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_u64).collect())
}

fn labels(list: &str) -> Vec<String> {
    list.split(',')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

fn create_mr(st: &mut State, project: &str, input: &Value) -> Answer {
    let source = text(input, "source_branch").unwrap_or_default();
    let target = text(input, "target_branch").unwrap_or_default();
    if let Some(open) = st.mrs.iter().find(|m| {
        m.project == project
            && m.state == "opened"
            && m.source_branch == source
            && m.target_branch == target
    }) {
        return error(
            409,
            json!([format!(
                "Another open merge request already exists for this source branch: !{}",
                open.iid
            )]),
        );
    }
    if let Some(d) = git_dir(st, project)
        && git::branch(&d, &source).is_none()
    {
        return error(
            422,
            json!({"source_branch": ["is invalid"], "base": [format!("Source branch \"{source}\" does not exist")]}),
        );
    }
    let login = st.login.clone();
    let iid = new_mr(
        st,
        Mr {
            project: project.into(),
            title: text(input, "title").unwrap_or_default(),
            description: text(input, "description").unwrap_or_default(),
            source_branch: source,
            target_branch: target,
            labels: text(input, "labels")
                .map(|l| labels(&l))
                .unwrap_or_default(),
            assignee_ids: ids(input, "assignee_ids").unwrap_or_default(),
            reviewer_ids: ids(input, "reviewer_ids").unwrap_or_default(),
            remove_source_branch: input["remove_source_branch"] == true,
            squash: input["squash"] == true,
            author: login,
            ..Mr::default()
        },
    );
    (201, String::new(), mr_value(st, project, iid, false))
}

fn update_mr(st: &mut State, project: &str, iid: u64, input: &Value) -> Answer {
    let login = st.login.clone();
    let mr = st.mr(project, iid).expect("merge request");
    match input["state_event"].as_str() {
        Some("close") if mr.state == "opened" => {
            mr.state = "closed".into();
            mr.closed_by = Some(login);
        }
        Some("reopen") if mr.state == "closed" => {
            mr.state = "opened".into();
            mr.closed_by = None;
        }
        Some(_) if mr.state == "merged" => {
            return error(
                422,
                json!("Cannot change the state of a merged merge request"),
            );
        }
        _ => {}
    }
    if let Some(t) = text(input, "title") {
        mr.title = t;
    }
    if let Some(d) = text(input, "description") {
        mr.description = d;
    }
    if let Some(l) = text(input, "labels") {
        mr.labels = labels(&l);
    }
    if let Some(l) = text(input, "add_labels") {
        for l in labels(&l) {
            if !mr.labels.contains(&l) {
                mr.labels.push(l);
            }
        }
    }
    if let Some(l) = text(input, "remove_labels") {
        let gone = labels(&l);
        mr.labels.retain(|x| !gone.contains(x));
    }
    if let Some(r) = ids(input, "reviewer_ids") {
        mr.reviewer_ids = r;
    }
    if let Some(a) = ids(input, "assignee_ids") {
        mr.assignee_ids = a;
    }
    if let Some(b) = input["remove_source_branch"].as_bool() {
        mr.remove_source_branch = b;
    }
    ok(mr_value(st, project, iid, false))
}

fn note(st: &mut State, project: &str, iid: u64, input: &Value) -> Answer {
    let body = text(input, "body").unwrap_or_default();
    st.mr(project, iid)
        .expect("merge request")
        .notes
        .push(body.clone());
    let id = st.id();
    let login = st.login.clone();
    let me = st.user_id(&login);
    (
        201,
        String::new(),
        json!({"id": id, "body": body, "author": user_value(st, me), "noteable_type": "MergeRequest",
               "noteable_iid": iid, "system": false}),
    )
}

fn reviewers(st: &mut State, project: &str, iid: u64) -> Answer {
    let mr = st.mr(project, iid).expect("merge request").clone();
    let list: Vec<Value> = mr
        .reviewer_ids
        .iter()
        .map(|u| {
            let state = st
                .reviews
                .iter()
                .find(|(p, i, r, _)| p == project && *i == iid && r == u)
                .map_or("unreviewed".to_string(), |(_, _, _, s)| s.clone());
            json!({"user": user_value(st, *u), "state": state, "created_at": WHEN})
        })
        .collect();
    ok(json!(list))
}

fn approvals(st: &mut State, project: &str, iid: u64) -> Answer {
    let mr = st.mr(project, iid).expect("merge request").clone();
    let by: Vec<Value> = st
        .approvals
        .iter()
        .filter(|(p, i, _)| p == project && *i == iid)
        .map(|(_, _, u)| json!({"user": user_value(st, *u)}))
        .collect();
    let project_id = st.project(project).map_or(0, |p| p.id);
    ok(
        json!({"id": mr.id, "iid": iid, "project_id": project_id, "approved": !by.is_empty(),
              "approvals_required": 0, "approvals_left": 0, "approved_by": by}),
    )
}

/// Whether the newest pipeline of `sha` has not finished.
fn pipeline_running(st: &State, project: &str, sha: &str) -> bool {
    st.pipelines
        .iter()
        .filter(|p| p.project == project && p.sha == sha)
        .max_by_key(|p| p.id)
        .is_some_and(|p| {
            !matches!(
                p.status.as_str(),
                "success" | "failed" | "canceled" | "skipped"
            )
        })
}

fn merge(st: &mut State, project: &str, iid: u64, input: &Value) -> Answer {
    let mr = st.mr(project, iid).expect("merge request").clone();
    if mr.state != "opened" || is_draft(&mr.title) {
        return error(405, json!("405 Method Not Allowed"));
    }
    let head = head_of(st, &mr);
    if input["sha"].as_str().is_some_and(|s| s != head) {
        return error(
            409,
            json!("SHA does not match HEAD of source branch: ".to_string() + &head),
        );
    }
    let squash = input["squash"].as_bool().unwrap_or(mr.squash);
    let auto = input["merge_when_pipeline_succeeds"] == true || input["auto_merge"] == true;
    if auto && pipeline_running(st, project, &head) {
        let m = st.mr(project, iid).expect("merge request");
        m.merge_when_pipeline_succeeds = true;
        m.squash = squash;
        return ok(mr_value(st, project, iid, false));
    }
    let remove = input["should_remove_source_branch"]
        .as_bool()
        .unwrap_or(mr.remove_source_branch);
    match merge_for_real(st, &mr, &head, squash, remove) {
        Ok(()) => ok(mr_value(st, project, iid, false)),
        Err(answer) => answer,
    }
}

/// Merges with git (a merge commit, or one squashed commit), moves the target branch, and
/// marks the merge request merged.
fn merge_for_real(
    st: &mut State,
    mr: &Mr,
    head: &str,
    squash: bool,
    remove: bool,
) -> Result<(), Answer> {
    let cannot = || error(406, json!("Branch cannot be merged"));
    let (merge_sha, squash_sha) = match git_dir(st, &mr.project) {
        Some(d) => {
            let base = git::branch(&d, &mr.target_branch).ok_or_else(cannot)?;
            let tree = git::merged_tree(&d, &base, head).ok_or_else(cannot)?;
            let squashed = if squash {
                Some(git::commit_tree(&d, &tree, &[&base], &mr.title).ok_or_else(cannot)?)
            } else {
                None
            };
            let tip = squashed.clone().unwrap_or_else(|| head.to_string());
            let message = format!(
                "Merge branch '{}' into '{}'\n\n{}\n\nSee merge request {}!{}",
                mr.source_branch, mr.target_branch, mr.title, mr.project, mr.iid
            );
            let merged =
                git::commit_tree(&d, &tree, &[&base, &tip], &message).ok_or_else(cannot)?;
            if !git::update_branch(&d, &mr.target_branch, &merged, &base) {
                return Err(cannot());
            }
            if remove {
                git::delete_branch(&d, &mr.source_branch);
            }
            (merged, squashed)
        }
        None => (format!("{:0>40}", mr.id), None),
    };
    let m = st.mr(&mr.project, mr.iid).expect("merge request");
    m.state = "merged".into();
    m.sha = head.to_string();
    m.merge_commit_sha = Some(merge_sha);
    m.squash_commit_sha = squash_sha;
    m.merge_when_pipeline_succeeds = false;
    Ok(())
}

/// Merges the merge requests waiting for `sha`'s pipeline (it succeeded).
pub fn merge_waiting(st: &mut State, project: &str, sha: &str) {
    let waiting: Vec<Mr> = st
        .mrs
        .iter()
        .filter(|m| m.project == project && m.state == "opened" && m.merge_when_pipeline_succeeds)
        .cloned()
        .collect();
    for mr in waiting {
        if head_of(st, &mr) == sha {
            let _ = merge_for_real(st, &mr, sha, mr.squash, mr.remove_source_branch);
        }
    }
}

fn pipelines(st: &State, project: &str, target: &str) -> Answer {
    let sha = query(target, "sha");
    let git_ref = query(target, "ref");
    let asc = query(target, "sort").as_deref() == Some("asc");
    let mut found: Vec<&super::Pipeline> = st
        .pipelines
        .iter()
        .filter(|p| p.project == project)
        .filter(|p| sha.as_ref().is_none_or(|s| *s == p.sha))
        .filter(|p| git_ref.as_ref().is_none_or(|r| *r == p.git_ref))
        .collect();
    found.sort_by_key(|p| p.id);
    if !asc {
        found.reverse();
    }
    let project_id = st.project(project).map_or(0, |p| p.id);
    let items = found
        .iter()
        .map(|p| {
            json!({"id": p.id, "iid": p.id, "project_id": project_id, "sha": p.sha, "ref": p.git_ref,
                   "status": p.status, "source": "push",
                   "web_url": format!("{}/{project}/-/pipelines/{}", st.base, p.id),
                   "created_at": WHEN, "updated_at": WHEN})
        })
        .collect();
    page(st, target, items)
}
