//! An in-process GitLab (REST API v4 under `/api/v4`, and git over HTTP on the same port) on
//! 127.0.0.1 that keeps state, so scenarios run end to end: projects in groups and subgroups
//! or owned by users (topics, archived, forks), each backed by a real bare repository served by
//! `git http-backend` at `http://127.0.0.1:P/group/sub/project.git`; users; merge requests
//! (opened, closed by a person or through the API, merged for real with git, set to merge when
//! the pipeline succeeds); pipelines per commit; reviewers' states and approvals. Listings
//! paginate (`Link`, `X-Next-Page`, `X-Total`); faults (429 with `Retry-After`, 5xx) can be
//! scripted per path. Every API request and answer is checked against the vendored description
//! (`support/descriptions/gitlab.json`, see `gitlab/describe.rs`); a violation fails the test
//! when the fake is dropped.
//!
//! ```ignore
//! let gl = FakeGitLab::start(&f.path("srv"), TOKEN);
//! gl.add_project(Project::new("acme/platform/api").topics(&["rust"]), &[("a.txt", "x\n")]);
//! let n = gl.open_mr("acme/platform/api", "feature", "main", "title"); // or through the client
//! gl.set_pipeline("acme/platform/api", &sha, "running");
//! gl.approve("acme/platform/api", n, "ann");
//! gl.close_mr("acme/platform/api", n);                                  // a person closes it
//! gl.fault("/api/v4/groups/acme/projects", 429, Some(0));
//! gl.lock().page_size = 2;
//! ```

#![allow(dead_code)]

pub mod describe;
mod routes;

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::{Value, json};

use super::git_http;
use super::github::git;

/// One project as the fake stores it.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: u64,
    /// The full path (`acme/platform/api`).
    pub path: String,
    /// Owned by a user (the namespace is the username), not a group.
    pub user: bool,
    pub description: String,
    pub topics: Vec<String>,
    pub archived: bool,
    /// The full path of the project it was forked from.
    pub forked_from: Option<String>,
    pub default_branch: String,
    /// The bare repository behind it, if any (made by [`FakeGitLab::add_project`]).
    pub git_dir: Option<PathBuf>,
}

impl Project {
    pub fn new(path: &str) -> Project {
        Project {
            id: 0,
            path: path.into(),
            user: false,
            description: String::new(),
            topics: Vec::new(),
            archived: false,
            forked_from: None,
            default_branch: "main".into(),
            git_dir: None,
        }
    }

    pub fn user(mut self) -> Project {
        self.user = true;
        self
    }

    pub fn topics(mut self, topics: &[&str]) -> Project {
        self.topics = topics.iter().map(|t| t.to_string()).collect();
        self
    }

    pub fn description(mut self, text: &str) -> Project {
        self.description = text.into();
        self
    }

    pub fn archived(mut self) -> Project {
        self.archived = true;
        self
    }

    pub fn fork_of(mut self, path: &str) -> Project {
        self.forked_from = Some(path.into());
        self
    }

    pub fn default_branch(mut self, branch: &str) -> Project {
        self.default_branch = branch.into();
        self
    }

    /// The namespace (`acme/platform`) and the project's own path (`api`).
    pub fn split(&self) -> (&str, &str) {
        self.path.rsplit_once('/').unwrap_or(("", &self.path))
    }
}

/// One merge request. `state` is GitLab's: `opened`, `closed`, `merged` (or `locked`).
#[derive(Debug, Clone, Default)]
pub struct Mr {
    pub project: String,
    pub iid: u64,
    pub id: u64,
    pub title: String,
    pub description: String,
    pub source_branch: String,
    pub target_branch: String,
    pub state: String,
    pub labels: Vec<String>,
    pub assignee_ids: Vec<u64>,
    pub reviewer_ids: Vec<u64>,
    /// The source branch's commit as last seen (read again from git whenever it exists).
    pub sha: String,
    pub merge_commit_sha: Option<String>,
    pub squash_commit_sha: Option<String>,
    pub remove_source_branch: bool,
    pub merge_when_pipeline_succeeds: bool,
    /// Squash when merged by the pipeline.
    pub squash: bool,
    pub author: String,
    /// Note bodies, oldest first.
    pub notes: Vec<String>,
    /// Who closed it (`a-maintainer` when a person did, see [`FakeGitLab::close_mr`]).
    pub closed_by: Option<String>,
    /// Forced `detailed_merge_status` (`None`: computed with git).
    pub merge_status: Option<String>,
}

/// A pipeline of a commit.
#[derive(Debug, Clone)]
pub struct Pipeline {
    pub project: String,
    pub id: u64,
    pub sha: String,
    pub git_ref: String,
    pub status: String,
}

/// One request as received, with the description's operation it matched (`GET
/// /api/v4/projects/{id}`; empty when none did, or for git).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub private_token: Option<String>,
    pub job_token: Option<String>,
    pub body: String,
    pub route: String,
}

/// A scripted failure for the next request whose path starts with `path`: 429 (with
/// `Retry-After` when given, else `RateLimit-Reset` a second away) or a 5xx.
#[derive(Debug, Clone)]
pub struct Fault {
    pub path: String,
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub struct State {
    /// Requests and answers the vendored description does not allow.
    pub violations: Vec<String>,
    pub projects: Vec<Project>,
    /// Groups made without a project (a project's namespaces exist anyway).
    pub groups: Vec<String>,
    /// (id, username).
    pub users: Vec<(u64, String)>,
    pub mrs: Vec<Mr>,
    pub pipelines: Vec<Pipeline>,
    /// (project, iid, user id, state) of reviewers who reviewed (`requested_changes`, ...).
    pub reviews: Vec<(String, u64, u64, String)>,
    /// (project, iid, user id) of approvals.
    pub approvals: Vec<(String, u64, u64)>,
    pub requests: Vec<Seen>,
    /// Git requests: (`METHOD target`, the basic auth `user:password` sent, decoded).
    pub git_requests: Vec<(String, Option<String>)>,
    pub faults: Vec<Fault>,
    /// The largest page a listing answers (`per_page` is honoured below it).
    pub page_size: usize,
    /// Listings say their next page only with `X-Next-Page` (no `Link`), as some proxies leave it.
    pub no_link_header: bool,
    /// The username of the token's user.
    pub login: String,
    pub next_id: u64,
    /// The address of the server (`http://127.0.0.1:P`).
    pub base: String,
}

impl State {
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn project(&self, path: &str) -> Option<&Project> {
        self.projects.iter().find(|p| p.path == path)
    }

    pub fn mr(&mut self, project: &str, iid: u64) -> Option<&mut Mr> {
        self.mrs
            .iter_mut()
            .find(|m| m.project == project && m.iid == iid)
    }

    pub fn user_id(&mut self, name: &str) -> u64 {
        if let Some((id, _)) = self.users.iter().find(|(_, n)| n == name) {
            return *id;
        }
        let id = self.id();
        self.users.push((id, name.to_string()));
        id
    }

    pub fn username(&self, id: u64) -> String {
        self.users
            .iter()
            .find(|(i, _)| *i == id)
            .map(|(_, n)| n.clone())
            .unwrap_or_default()
    }
}

pub struct FakeGitLab {
    /// `http://127.0.0.1:P` (git is served here; the API is under `/api/v4`).
    pub url: String,
    /// `http://127.0.0.1:P/api/v4`.
    pub api: String,
    /// Where the bare repositories are (`{root}/{full path}.git`).
    pub root: PathBuf,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitLab {
    /// Serves on a free port of 127.0.0.1, one thread per connection: the API wants
    /// `PRIVATE-TOKEN: {token}` (or `JOB-TOKEN`), git wants basic auth with `token` as password.
    pub fn start(root: &Path, token: &str) -> FakeGitLab {
        std::fs::create_dir_all(root).expect("mkdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            violations: Vec::new(),
            projects: Vec::new(),
            groups: Vec::new(),
            users: vec![(1, "codefleet-bot".into())],
            mrs: Vec::new(),
            pipelines: Vec::new(),
            reviews: Vec::new(),
            approvals: Vec::new(),
            requests: Vec::new(),
            git_requests: Vec::new(),
            faults: Vec::new(),
            page_size: 100,
            no_link_header: false,
            login: "codefleet-bot".into(),
            next_id: 100,
            base: url.clone(),
        }));
        let shared = Arc::clone(&state);
        let token = token.to_string();
        let dir = root.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                let token = token.clone();
                let dir = dir.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared, &token, &dir);
                });
            }
        });
        FakeGitLab {
            api: format!("{url}/api/v4"),
            url,
            root: root.to_path_buf(),
            state,
        }
    }

    /// Panics when a request or an answer broke the vendored description.
    pub fn assert_conforms(&self) {
        let violations = std::mem::take(&mut self.lock().violations);
        assert!(
            violations.is_empty(),
            "the fake GitLab saw what GitLab's description does not allow:\n{}",
            violations.join("\n")
        );
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.lock().requests.clone()
    }

    /// How many requests matched an operation (`GET /api/v4/projects/{id}`).
    pub fn calls(&self, route: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.route == route)
            .count()
    }

    pub fn calls_by_route(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in &self.lock().requests {
            *out.entry(r.route.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Adds a project backed by a new bare repository `{root}/{path}.git` whose default branch
    /// holds `files`; the bare repository's path.
    pub fn add_project(&self, project: Project, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.root.join(format!("{}.git", project.path));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let branch = project.default_branch.clone();
        git::run(&dir, &["init", "-q", "--bare", "-b", &branch]).expect("git init");
        git::commit_files(&dir, &branch, None, files, "init");
        let mut st = self.lock();
        let id = st.id();
        st.projects.retain(|p| p.path != project.path);
        st.projects.push(Project {
            id,
            git_dir: Some(dir.clone()),
            ..project
        });
        dir
    }

    /// Adds a project without a git directory (for listings).
    pub fn add_listed(&self, project: Project) {
        let mut st = self.lock();
        let id = st.id();
        st.projects.retain(|p| p.path != project.path);
        st.projects.push(Project { id, ..project });
    }

    /// A user GitLab knows; their id.
    pub fn add_user(&self, username: &str) -> u64 {
        self.lock().user_id(username)
    }

    /// The clone address of a project (`http://127.0.0.1:P/acme/platform/api.git`).
    pub fn clone_url(&self, path: &str) -> String {
        format!("{}/{path}.git", self.url)
    }

    pub fn mr(&self, project: &str, iid: u64) -> Mr {
        self.lock()
            .mr(project, iid)
            .cloned()
            .expect("merge request")
    }

    pub fn mrs(&self) -> Vec<Mr> {
        self.lock().mrs.clone()
    }

    /// A person opens a merge request from `source` into `target`; its iid.
    pub fn open_mr(&self, project: &str, source: &str, target: &str, title: &str) -> u64 {
        let mut st = self.lock();
        routes::new_mr(
            &mut st,
            Mr {
                project: project.into(),
                source_branch: source.into(),
                target_branch: target.into(),
                title: title.into(),
                author: "a-person".into(),
                ..Mr::default()
            },
        )
    }

    /// A person closes a merge request in the web interface.
    pub fn close_mr(&self, project: &str, iid: u64) {
        let mut st = self.lock();
        let mr = st.mr(project, iid).expect("merge request");
        mr.state = "closed".into();
        mr.closed_by = Some("a-maintainer".into());
    }

    /// Forces `detailed_merge_status` (`None`: computed with git again).
    pub fn set_merge_status(&self, project: &str, iid: u64, status: Option<&str>) {
        self.lock()
            .mr(project, iid)
            .expect("merge request")
            .merge_status = status.map(str::to_string);
    }

    /// Sets the status of the newest pipeline of `sha` (a new pipeline when it has none or
    /// when `new` is asked); a merge request set to merge when the pipeline succeeds merges.
    pub fn set_pipeline(&self, project: &str, sha: &str, status: &str) {
        let mut st = self.lock();
        let found = st
            .pipelines
            .iter_mut()
            .rev()
            .find(|p| p.project == project && p.sha == sha);
        match found {
            Some(p) => p.status = status.into(),
            None => {
                let id = st.id();
                st.pipelines.push(Pipeline {
                    project: project.into(),
                    id,
                    sha: sha.into(),
                    git_ref: "main".into(),
                    status: status.into(),
                });
            }
        }
        if status == "success" {
            routes::merge_waiting(&mut st, project, sha);
        }
    }

    /// A new pipeline for `sha` (a re-run), newer than any before.
    pub fn new_pipeline(&self, project: &str, sha: &str, status: &str) {
        let mut st = self.lock();
        let id = st.id();
        st.pipelines.push(Pipeline {
            project: project.into(),
            id,
            sha: sha.into(),
            git_ref: "main".into(),
            status: status.into(),
        });
    }

    /// `user` approves a merge request.
    pub fn approve(&self, project: &str, iid: u64, user: &str) {
        let mut st = self.lock();
        let id = st.user_id(user);
        st.approvals.push((project.into(), iid, id));
    }

    /// `user`, a reviewer, requests changes (GitLab 17's "Request changes").
    pub fn request_changes(&self, project: &str, iid: u64, user: &str) {
        let mut st = self.lock();
        let id = st.user_id(user);
        if let Some(mr) = st.mr(project, iid)
            && !mr.reviewer_ids.contains(&id)
        {
            mr.reviewer_ids.push(id);
        }
        st.reviews
            .retain(|(p, i, u, _)| !(p == project && *i == iid && *u == id));
        st.reviews
            .push((project.into(), iid, id, "requested_changes".into()));
    }

    /// The next request under `path` answers `status` (see [`Fault`]).
    pub fn fault(&self, path: &str, status: u16, retry_after: Option<u64>) {
        self.lock().faults.push(Fault {
            path: path.into(),
            status,
            retry_after,
        });
    }
}

impl Drop for FakeGitLab {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_conforms();
        }
    }
}

/// One connection: API requests answered from the state, anything else served as git.
fn serve(stream: TcpStream, state: &Mutex<State>, token: &str, root: &Path) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(req) = git_http::read_request(&mut reader)? {
        if !req.target.starts_with("/api/v4/") {
            let seen = (
                format!("{} {}", req.method, req.target),
                git_http::basic_auth(&req),
            );
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .git_requests
                .push(seen);
            let answer = git_http::git_answer(root, token, req)?;
            out.write_all(&answer)?;
            out.flush()?;
            continue;
        }
        let answer = api(state, token, &req);
        out.write_all(answer.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

/// One API request to the whole HTTP answer, checked both ways against the description.
fn api(state: &Mutex<State>, token: &str, req: &git_http::Request) -> String {
    let body = String::from_utf8_lossy(&req.body).into_owned();
    let checked = describe::check_request(&req.method, &req.target, &body);
    let private = req.header("private-token").map(str::to_string);
    let job = req.header("job-token").map(str::to_string);
    let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
    {
        let mut st = lock();
        st.requests.push(Seen {
            method: req.method.clone(),
            target: req.target.clone(),
            private_token: private.clone(),
            job_token: job.clone(),
            body: body.clone(),
            route: checked
                .as_ref()
                .map(|op| op.to_string())
                .unwrap_or_default(),
        });
        if let Err(problems) = &checked {
            st.violations.extend(problems.iter().cloned());
        }
    }
    let authorized = private.as_deref() == Some(token) || job.as_deref() == Some(token);
    let (status, extra, reply) = if !authorized {
        (401, String::new(), json!({"message": "401 Unauthorized"}))
    } else if let Err(problems) = &checked {
        let message = format!(
            "request not allowed by GitLab's description: {}",
            problems.join("; ")
        );
        (400, String::new(), json!({ "message": message }))
    } else {
        let mut st = lock();
        match take_fault(&mut st, &req.target) {
            Some(f) => f,
            None => routes::route(&mut st, &req.method, &req.target, &body),
        }
    };
    let text = if status == 204 {
        String::new()
    } else {
        reply.to_string()
    };
    if let Ok(op) = &checked {
        let problems = describe::check_response(op, status, &text);
        lock().violations.extend(problems);
    }
    format!(
        "HTTP/1.1 {status} {}\r\ncontent-type: application/json\r\nratelimit-limit: 2000\r\n\
         {extra}content-length: {}\r\n\r\n{text}",
        reason(status),
        text.len()
    )
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        406 => "Not Acceptable",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

fn take_fault(st: &mut State, target: &str) -> Option<(u16, String, Value)> {
    let path = target.split('?').next().unwrap_or("");
    let i = st.faults.iter().position(|f| path.starts_with(&f.path))?;
    let f = st.faults.remove(i);
    Some(match (f.status, f.retry_after) {
        (429, Some(after)) => (
            429,
            format!("retry-after: {after}\r\nratelimit-remaining: 0\r\n"),
            json!({"message": "Retry later"}),
        ),
        (429, None) => {
            let reset = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() + 1)
                .unwrap_or(0);
            (
                429,
                format!("ratelimit-remaining: 0\r\nratelimit-reset: {reset}\r\n"),
                json!({"message": "Retry later"}),
            )
        }
        (s, _) => (s, String::new(), json!({"message": "502 Bad Gateway"})),
    })
}
