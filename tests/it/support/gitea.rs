//! An in-process Gitea (API v1) on 127.0.0.1 that keeps state, so scenarios run end to end:
//! users and organisations, repositories backed by real bare git directories served by
//! `git http-backend` on the same port (`http://127.0.0.1:P/owner/name.git`, as a Gitea's clone
//! URLs are), labels, pull requests (opened, edited, closed, reopened, merged for real with git,
//! set to merge when the checks succeed), commit statuses, reviews, comments. Every listing
//! pages by `page`/`limit` with `Link` and `X-Total-Count`; faults (429 with `Retry-After`,
//! 5xx) can be scripted per path; every request and every answer is checked against Gitea's
//! Swagger description (`support/gitea/swagger.rs`), and a violation fails the test when the fake
//! is dropped.
//!
//! Setting up a scenario:
//! ```ignore
//! let gt = FakeGitea::start(TOKEN, &f.path("srv"));
//! let bare = gt.add_with_git(Repo::new("acme/api").topics(&["rust"]), &[("a.txt", "x\n")]);
//! gt.add_label("acme/api", "bot");
//! let n = gt.open_pr("acme/api", "feature", "main", "title");   // a person opens one
//! gt.set_status("acme/api", &sha, "ci/build", "success");
//! gt.review("acme/api", n, "ann", "APPROVED");
//! gt.close_pr("acme/api", n);                                    // a person closes it
//! gt.fault("/api/v1/repos/acme/api/pulls", 429, Some(1));        // a rate limit
//! gt.lock().page_size = 2;                                       // small pages everywhere
//! assert_eq!(gt.calls("GET /repos/{owner}/{repo}/pulls"), 1);
//! ```

#![allow(dead_code)]

mod routes;
pub mod swagger;

use std::collections::BTreeMap;
use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use serde_json::json;

use super::git_http;
use super::github::git;

/// One repository as the fake stores it.
#[derive(Debug, Clone)]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub id: u64,
    pub description: String,
    pub topics: Vec<String>,
    /// Leave `topics` out of the repository object (as servers before Gitea 1.17 did): a client
    /// must read `GET …/topics`.
    pub omit_topics: bool,
    pub archived: bool,
    pub fork: bool,
    pub default_branch: String,
    pub allow_merge_commits: bool,
    pub allow_squash_merge: bool,
    pub allow_rebase: bool,
    /// `merge`, `rebase`, `squash`, ...: what a merge without `do`... uses in the web interface.
    pub default_merge_style: String,
    pub git_dir: Option<PathBuf>,
}

impl Repo {
    /// `owner/name`, `main`, every merge style allowed, `merge` the default.
    pub fn new(full_name: &str) -> Repo {
        let (owner, name) = full_name.split_once('/').unwrap_or(("acme", full_name));
        Repo {
            owner: owner.into(),
            name: name.into(),
            id: 0,
            description: String::new(),
            topics: Vec::new(),
            omit_topics: false,
            archived: false,
            fork: false,
            default_branch: "main".into(),
            allow_merge_commits: true,
            allow_squash_merge: true,
            allow_rebase: true,
            default_merge_style: "merge".into(),
            git_dir: None,
        }
    }
    pub fn topics(mut self, topics: &[&str]) -> Repo {
        self.topics = topics.iter().map(|t| t.to_string()).collect();
        self
    }
    pub fn description(mut self, text: &str) -> Repo {
        self.description = text.into();
        self
    }
    pub fn archived(mut self) -> Repo {
        self.archived = true;
        self
    }
    pub fn fork(mut self) -> Repo {
        self.fork = true;
        self
    }
    pub fn omit_topics(mut self) -> Repo {
        self.omit_topics = true;
        self
    }
    pub fn default_merge_style(mut self, style: &str) -> Repo {
        self.default_merge_style = style.into();
        self
    }
    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// A user or an organisation (Gitea answers both at `GET /users/{username}`).
#[derive(Debug, Clone)]
pub struct Account {
    pub login: String,
    pub id: u64,
    pub org: bool,
}

/// A label of a repository.
#[derive(Debug, Clone)]
pub struct Label {
    pub repo: String,
    pub id: u64,
    pub name: String,
}

/// One pull request. `state` is `open` or `closed`; a merged one is `closed` and `merged`.
#[derive(Debug, Clone, Default)]
pub struct Pr {
    pub repo: String,
    pub number: u64,
    pub id: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub state: String,
    /// Label ids.
    pub labels: Vec<u64>,
    pub assignees: Vec<String>,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
    pub user: String,
    pub head_sha: String,
    pub merged: bool,
    pub merge_commit_sha: Option<String>,
    /// Merge style scheduled by `merge_when_checks_succeed`.
    pub auto_merge: Option<String>,
    pub closed_by: Option<String>,
    pub comments: Vec<String>,
    /// Forced mergeability (`None`: computed with git).
    pub mergeable: Option<bool>,
}

/// A commit status (the latest per context counts).
#[derive(Debug, Clone)]
pub struct Status {
    pub repo: String,
    pub sha: String,
    pub id: u64,
    pub context: String,
    /// `pending`, `success`, `error`, `failure`, `warning`, `skipped`.
    pub state: String,
}

/// A review of a pull request.
#[derive(Debug, Clone)]
pub struct Review {
    pub repo: String,
    pub number: u64,
    pub id: u64,
    pub user: String,
    /// `APPROVED`, `REQUEST_CHANGES`, `COMMENT`.
    pub state: String,
    pub dismissed: bool,
    pub commit_id: String,
}

/// One request as received, with the operation it matched (`GET /repos/{owner}/{repo}`; empty
/// when none did, and for git).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
    pub route: String,
}

/// A scripted answer for the next request whose path starts with `path`: 429 (with
/// `Retry-After` when given) or a 5xx.
#[derive(Debug, Clone)]
pub struct Fault {
    pub path: String,
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub struct State {
    /// Requests and answers the vendored description does not allow.
    pub violations: Vec<String>,
    pub accounts: Vec<Account>,
    pub repos: Vec<Repo>,
    pub labels: Vec<Label>,
    pub prs: Vec<Pr>,
    pub statuses: Vec<Status>,
    pub reviews: Vec<Review>,
    pub requests: Vec<Seen>,
    pub faults: Vec<Fault>,
    /// The largest page a listing answers (Gitea's `MAX_RESPONSE_ITEMS`, 50 by default).
    pub page_size: usize,
    /// The token's user.
    pub login: String,
    pub next_id: u64,
    /// The web address (`http://127.0.0.1:P`).
    pub base: String,
}

impl State {
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The account of a login, made on first use (an organisation unless it is the token's user
    /// or `org` says otherwise).
    pub fn account(&mut self, login: &str, org: bool) -> Account {
        if let Some(a) = self.accounts.iter().find(|a| a.login == login) {
            return a.clone();
        }
        let id = self.id();
        let a = Account {
            login: login.into(),
            id,
            org,
        };
        self.accounts.push(a.clone());
        a
    }

    pub fn repo(&self, full_name: &str) -> Option<&Repo> {
        self.repos.iter().find(|r| r.full_name() == full_name)
    }

    pub fn pr(&mut self, repo: &str, number: u64) -> Option<&mut Pr> {
        self.prs
            .iter_mut()
            .find(|p| p.repo == repo && p.number == number)
    }
}

pub struct FakeGitea {
    /// `http://127.0.0.1:P` (the web and git address).
    pub url: String,
    /// `http://127.0.0.1:P/api/v1`.
    pub api: String,
    /// Where the bare repositories are (`{root}/{owner}/{name}.git`).
    pub root: PathBuf,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitea {
    /// Serves on a free port of 127.0.0.1; API requests must carry `Authorization: token
    /// {token}`, git requests basic auth with `token` as the password. Bare repositories live
    /// under `root`.
    pub fn start(token: &str, root: &Path) -> FakeGitea {
        swagger::doc();
        std::fs::create_dir_all(root).expect("mkdir");
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            violations: Vec::new(),
            accounts: Vec::new(),
            repos: Vec::new(),
            labels: Vec::new(),
            prs: Vec::new(),
            statuses: Vec::new(),
            reviews: Vec::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            page_size: 50,
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
        FakeGitea {
            api: format!("{url}/api/v1"),
            url,
            root: root.to_path_buf(),
            state,
        }
    }

    /// Panics when a request or an answer broke the description.
    pub fn assert_conforms(&self) {
        let violations = std::mem::take(&mut self.lock().violations);
        assert!(
            violations.is_empty(),
            "the fake Gitea saw what Gitea's Swagger description does not allow:\n{}",
            violations.join("\n")
        );
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn pr(&self, repo: &str, number: u64) -> Pr {
        self.lock().pr(repo, number).cloned().expect("pull request")
    }

    pub fn prs(&self) -> Vec<Pr> {
        self.lock().prs.clone()
    }

    /// The names of a pull request's labels.
    pub fn label_names(&self, repo: &str, number: u64) -> Vec<String> {
        let st = self.lock();
        let pr = st.prs.iter().find(|p| p.repo == repo && p.number == number);
        pr.map(|p| {
            p.labels
                .iter()
                .filter_map(|id| st.labels.iter().find(|l| l.id == *id))
                .map(|l| l.name.clone())
                .collect()
        })
        .unwrap_or_default()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.lock().requests.clone()
    }

    /// How many requests matched an operation (`GET /repos/{owner}/{repo}/pulls`).
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

    /// Adds (or replaces) a repository without git (its owner made an organisation on first
    /// use).
    pub fn add_repo(&self, mut repo: Repo) {
        let mut st = self.lock();
        st.account(&repo.owner.clone(), true);
        repo.id = st.id();
        st.repos.retain(|r| r.full_name() != repo.full_name());
        st.repos.push(repo);
    }

    /// Adds `repo` backed by a new bare repository `{root}/{owner}/{name}.git` whose `main`
    /// holds `files`; the bare repository's path. Its clone URL is `{url}/{owner}/{name}.git`.
    pub fn add_with_git(&self, mut repo: Repo, files: &[(&str, &str)]) -> PathBuf {
        let dir = super::github::bare_repo(&self.root, &repo.full_name(), files);
        repo.git_dir = Some(dir.clone());
        self.add_repo(repo);
        dir
    }

    /// A user account (not an organisation).
    pub fn add_user(&self, login: &str) {
        self.lock().account(login, false);
    }

    /// A label of a repository; its id.
    pub fn add_label(&self, repo: &str, name: &str) -> u64 {
        let mut st = self.lock();
        let id = st.id();
        st.labels.push(Label {
            repo: repo.into(),
            id,
            name: name.into(),
        });
        id
    }

    /// A person opens a pull request from `head` into `base`; its number.
    pub fn open_pr(&self, repo: &str, head: &str, base: &str, title: &str) -> u64 {
        let mut st = self.lock();
        routes::new_pr(
            &mut st,
            Pr {
                repo: repo.into(),
                head: head.into(),
                base: base.into(),
                title: title.into(),
                user: "a-person".into(),
                ..Pr::default()
            },
        )
    }

    /// A person closes a pull request in the web interface.
    pub fn close_pr(&self, repo: &str, number: u64) {
        let mut st = self.lock();
        let pr = st.pr(repo, number).expect("pull request");
        pr.state = "closed".into();
        pr.closed_by = Some("a-maintainer".into());
    }

    /// Forces mergeability (`None`: computed with git again).
    pub fn set_mergeable(&self, repo: &str, number: u64, mergeable: Option<bool>) {
        self.lock()
            .pr(repo, number)
            .expect("pull request")
            .mergeable = mergeable;
    }

    /// Sets the status of a context on a commit; a pull request set to merge when its checks
    /// succeed merges once they all have.
    pub fn set_status(&self, repo: &str, sha: &str, context: &str, state: &str) {
        let mut st = self.lock();
        st.statuses
            .retain(|s| !(s.repo == repo && s.sha == sha && s.context == context));
        let id = st.id();
        st.statuses.push(Status {
            repo: repo.into(),
            sha: sha.into(),
            id,
            context: context.into(),
            state: state.into(),
        });
        routes::run_auto_merges(&mut st, repo);
    }

    /// `user` reviews a pull request (`APPROVED`, `REQUEST_CHANGES`, `COMMENT`).
    pub fn review(&self, repo: &str, number: u64, user: &str, state: &str) {
        let mut st = self.lock();
        let commit_id = st.pr(repo, number).expect("pull request").head_sha.clone();
        let id = st.id();
        st.account(user, false);
        st.reviews.push(Review {
            repo: repo.into(),
            number,
            id,
            user: user.into(),
            state: state.into(),
            dismissed: false,
            commit_id,
        });
    }

    /// Dismisses `user`'s reviews of a pull request.
    pub fn dismiss(&self, repo: &str, number: u64, user: &str) {
        for r in self.lock().reviews.iter_mut() {
            if r.repo == repo && r.number == number && r.user == user {
                r.dismissed = true;
            }
        }
    }

    /// The next request under `path` (the full request path, `/api/v1/...`) answers `status`.
    pub fn fault(&self, path: &str, status: u16, retry_after: Option<u64>) {
        self.lock().faults.push(Fault {
            path: path.into(),
            status,
            retry_after,
        });
    }
}

impl Drop for FakeGitea {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_conforms();
        }
    }
}

/// One connection: API requests to [`routes::route`], anything else to `git http-backend`.
fn serve(stream: TcpStream, state: &Mutex<State>, token: &str, root: &Path) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(req) = git_http::read_request(&mut reader)? {
        let lock = || state.lock().unwrap_or_else(|p| p.into_inner());
        let authorization = req.header("authorization").map(str::to_string);
        let body = String::from_utf8_lossy(&req.body).into_owned();
        if !req.target.starts_with("/api/") {
            lock().requests.push(Seen {
                method: req.method.clone(),
                target: req.target.clone(),
                authorization,
                body: String::new(),
                route: String::new(),
            });
            out.write_all(&git_http::git_answer(root, token, req)?)?;
            out.flush()?;
            continue;
        }
        let checked = swagger::check_request(&req.method, &req.target, &body);
        {
            let mut st = lock();
            st.requests.push(Seen {
                method: req.method.clone(),
                target: req.target.clone(),
                authorization: authorization.clone(),
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
        let (status, extra, reply) = if authorization.as_deref() != Some(&format!("token {token}"))
        {
            (
                401,
                String::new(),
                Some(json!({"message": "user does not exist", "url": ""})),
            )
        } else if let Err(problems) = &checked {
            let message = format!(
                "not allowed by Gitea's description: {}",
                problems.join("; ")
            );
            (
                422,
                String::new(),
                Some(json!({ "message": message, "url": "" })),
            )
        } else {
            routes::handle(&mut lock(), &req.method, &req.target, &body)
        };
        let text = reply.map(|v| v.to_string()).unwrap_or_default();
        if let Ok(op) = &checked {
            let problems = swagger::check_response(op, status, &text);
            lock().violations.extend(problems);
        }
        let answer = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json;charset=utf-8\r\n\
             {extra}content-length: {}\r\n\r\n{text}",
            reason(status),
            text.len()
        );
        out.write_all(answer.as_bytes())?;
        out.flush()?;
    }
    Ok(())
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        423 => "Locked",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        _ => "Other",
    }
}

/// The sha a branch points at in a repository's git directory.
pub fn tip(dir: &Path, branch: &str) -> Option<String> {
    git::branch(dir, branch)
}
