//! An in-process GitHub REST API on 127.0.0.1 that keeps state, so scenarios run end to end:
//! repositories (owner kind, topics, archived, fork, merge settings, a real bare git directory
//! served by `GitHttp` whose URL is the `clone_url`), pull requests (open, closed by a person or
//! by codefleet, merged for real in the bare repository), check runs, commit statuses, reviews.
//! Searches read the bare repositories (`git grep` on the default branch). Every listing
//! paginates with `Link` headers; faults (secondary rate limits, 5xx) can be scripted per path;
//! a latency knob makes it slow; every request is recorded with its OpenAPI route.
//!
//! Setting up a scenario:
//! ```ignore
//! let gh = FakeGitHub::start(TOKEN);
//! let git = GitHttp::start(&f.path("srv"), TOKEN);               // serves srv/<owner>/<name>.git
//! let bare = gh.add_with_git(&f.path("srv"), &git.base, Repo::new("acme/api").topics(&["rust"]),
//!                            &[("src/lib.rs", "legacy_call()\n")]);
//! github::commit_files(&bare, "main", None, &[("b.txt", "upstream\n")], "moves on");
//! let n = gh.open_pr("acme/api", "feature", "main", "title");  // or through `run --pr`
//! gh.set_check("acme/api", &sha, "build", "completed", Some("success"));
//! gh.review("acme/api", n, "ann", "APPROVED");
//! gh.close_pr("acme/api", n);                                   // a person closes it
//! gh.fault("/orgs/acme/repos", 403, Some(0));                   // a secondary rate limit
//! gh.lock().page_size = 2;                                      // small pages everywhere
//! assert_eq!(gh.calls("GET /repos/{owner}/{repo}/pulls"), 1);
//! ```
//!
//! The one place a request becomes a response is [`handle`] (method, target, body in; status,
//! extra headers, JSON body out): validation hooks go around it in [`serve`].

#![allow(dead_code)]

pub mod git;
mod routes;
pub mod shapes;

pub use git::{bare_repo, commit_files};

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};

/// Whether a repository's owner is an organisation or a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerKind {
    Org,
    User,
}

/// One repository as the fake stores it.
#[derive(Debug, Clone)]
pub struct Repo {
    pub owner: String,
    pub name: String,
    pub owner_kind: OwnerKind,
    pub id: u64,
    pub description: String,
    pub topics: Vec<String>,
    pub archived: bool,
    pub disabled: bool,
    pub fork: bool,
    pub default_branch: String,
    pub allow_merge_commit: bool,
    pub allow_squash_merge: bool,
    pub allow_rebase_merge: bool,
    /// `public`, `private` or `internal`.
    pub visibility: String,
    /// The bare repository behind it, if the test made one.
    pub git_dir: Option<PathBuf>,
    pub clone_url: String,
    pub ssh_url: String,
}

impl Repo {
    /// `owner/name`, owned by an organisation, `main`, every merge method allowed, public; no
    /// git directory (see [`Repo::git`]).
    pub fn new(full_name: &str) -> Repo {
        let (owner, name) = full_name.split_once('/').unwrap_or(("acme", full_name));
        Repo {
            owner: owner.into(),
            name: name.into(),
            owner_kind: OwnerKind::Org,
            id: shapes::id_of(full_name),
            description: String::new(),
            topics: Vec::new(),
            archived: false,
            disabled: false,
            fork: false,
            default_branch: "main".into(),
            allow_merge_commit: true,
            allow_squash_merge: true,
            allow_rebase_merge: true,
            visibility: "public".into(),
            git_dir: None,
            clone_url: format!("https://github.example/{full_name}.git"),
            ssh_url: format!("git@github.example:{full_name}.git"),
        }
    }

    /// Backed by the bare repository `dir`, cloned from `clone_url` (a `GitHttp` address).
    pub fn git(mut self, dir: &Path, clone_url: &str) -> Repo {
        self.git_dir = Some(dir.to_path_buf());
        self.clone_url = clone_url.into();
        self
    }

    /// Owned by a user, not an organisation.
    pub fn user(mut self) -> Repo {
        self.owner_kind = OwnerKind::User;
        self
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

    pub fn disabled(mut self) -> Repo {
        self.disabled = true;
        self
    }

    pub fn fork(mut self) -> Repo {
        self.fork = true;
        self
    }

    pub fn default_branch(mut self, branch: &str) -> Repo {
        self.default_branch = branch.into();
        self
    }

    /// Which merge methods the repository allows (merge commit, squash, rebase).
    pub fn merge_methods(mut self, merge: bool, squash: bool, rebase: bool) -> Repo {
        (
            self.allow_merge_commit,
            self.allow_squash_merge,
            self.allow_rebase_merge,
        ) = (merge, squash, rebase);
        self
    }

    pub fn full_name(&self) -> String {
        format!("{}/{}", self.owner, self.name)
    }
}

/// One pull request as the fake stores it. `state` is GitHub's (`open` or `closed`); a merged
/// one is `closed` with `merged_at`.
#[derive(Debug, Clone, Default)]
pub struct Pr {
    pub repo: String,
    pub number: u64,
    pub id: u64,
    pub node_id: String,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub draft: bool,
    pub state: String,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
    /// Assigned people, by login (`POST .../issues/{issue_number}/assignees`).
    pub assignees: Vec<String>,
    /// Who opened it.
    pub user: String,
    /// The head commit as last seen (the branch is read again whenever it exists).
    pub head_sha: String,
    pub merged_at: Option<String>,
    pub merge_commit_sha: Option<String>,
    /// Who closed it (the token's user through the API, or a person: see `close_pr`).
    pub closed_by: Option<String>,
    /// Comment bodies, oldest first.
    pub comments: Vec<String>,
    /// Forced mergeability (`None`: computed with git, or `true` without a git directory).
    pub mergeable: Option<bool>,
    /// The (base, head) mergeability was last computed for (for `mergeable_null_first`).
    pub computed_for: Option<(String, String)>,
}

impl Pr {
    pub fn merged(&self) -> bool {
        self.merged_at.is_some()
    }
}

/// A check run on a commit.
#[derive(Debug, Clone)]
pub struct CheckRun {
    pub repo: String,
    pub sha: String,
    pub id: u64,
    pub name: String,
    /// `queued`, `in_progress` or `completed`.
    pub status: String,
    /// When completed: `success`, `failure`, `neutral`, `skipped`, `cancelled`, `timed_out`,
    /// `action_required`, `startup_failure`.
    pub conclusion: Option<String>,
}

/// A commit status (the latest per context counts).
#[derive(Debug, Clone)]
pub struct CommitStatus {
    pub repo: String,
    pub sha: String,
    pub id: u64,
    pub context: String,
    /// `success`, `failure`, `error` or `pending`.
    pub state: String,
}

/// A review of a pull request.
#[derive(Debug, Clone)]
pub struct Review {
    pub repo: String,
    pub number: u64,
    pub id: u64,
    pub user: String,
    /// `APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`, `DISMISSED`.
    pub state: String,
    pub commit_id: String,
}

/// One request as received, with the OpenAPI route it matched (`GET /repos/{owner}/{repo}`;
/// empty when none did).
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
    pub route: String,
}

/// A scripted failure for requests whose path starts with `path` (`""`: any): 403/429 with
/// `retry_after` is a secondary rate limit; 403/429 without it the primary one
/// (`x-ratelimit-remaining: 0`, reset in a second); 5xx a server error; 200 a normal answer
/// that spends the last request of the rate limit window (`x-ratelimit-remaining: 0`, reset in
/// a second), as a code search's tenth request in a minute does.
#[derive(Debug, Clone)]
pub struct Fault {
    pub path: String,
    pub status: u16,
    pub retry_after: Option<u64>,
}

pub struct State {
    /// Requests and answers GitHub's OpenAPI description does not allow (`support/openapi.rs`).
    pub violations: Vec<String>,
    pub repos: Vec<Repo>,
    pub prs: Vec<Pr>,
    pub checks: Vec<CheckRun>,
    pub statuses: Vec<CommitStatus>,
    pub reviews: Vec<Review>,
    pub requests: Vec<Seen>,
    /// Answers to give before serving anything normally: (status, retry-after seconds), a
    /// secondary rate limit each.
    pub faults: Vec<(u16, u64)>,
    /// Answers to give to the next requests under a path (each used once, in order).
    pub path_faults: Vec<Fault>,
    /// The largest page a listing answers (`per_page` is honoured below it).
    pub page_size: usize,
    /// Answer pull request lists without filtering by `head` (to exercise pagination).
    pub ignore_head_filter: bool,
    /// Repositories (`owner/name`) that are archived, for repositories made on first use.
    pub archived: Vec<String>,
    /// Unknown repositories answer 404 (otherwise they are made on first use, as
    /// `Repo::new`).
    pub strict: bool,
    /// `mergeable` is `null` on the first read after the base or head changed, as GitHub
    /// answers while it computes it.
    pub mergeable_null_first: bool,
    /// `mergeable` stays `null` (GitHub still computing it).
    pub mergeable_unknown: bool,
    /// Each answer is sent this long after the request (concurrent requests overlap).
    pub delay_ms: u64,
    /// Requests being answered now, and the most ever at once (concurrency, as a benchmark
    /// sees it).
    pub in_flight: usize,
    pub max_in_flight: usize,
    /// The login of the token's user.
    pub login: String,
    /// Results a search answers at most (GitHub: 1,000).
    pub search_cap: usize,
    pub next_id: u64,
    /// Code search hits by (bare repository, tip of its default branch, text).
    pub grep_cache: HashMap<(PathBuf, String, String), Vec<(String, String)>>,
    /// The GraphQL endpoint's part (`github_graphql.rs`).
    pub graphql: super::github_graphql::GraphqlState,
}

impl Default for State {
    fn default() -> State {
        State {
            violations: Vec::new(),
            repos: Vec::new(),
            prs: Vec::new(),
            checks: Vec::new(),
            statuses: Vec::new(),
            reviews: Vec::new(),
            requests: Vec::new(),
            faults: Vec::new(),
            path_faults: Vec::new(),
            page_size: 100,
            ignore_head_filter: false,
            archived: Vec::new(),
            strict: false,
            mergeable_null_first: false,
            mergeable_unknown: false,
            delay_ms: 0,
            in_flight: 0,
            max_in_flight: 0,
            login: "codefleet-bot".into(),
            search_cap: 1000,
            next_id: 1000,
            grep_cache: HashMap::new(),
            graphql: Default::default(),
        }
    }
}

impl State {
    /// A new id for a stored object.
    pub fn id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// The repository `owner/name`; unknown ones are made on first use unless `strict`.
    pub fn repo(&mut self, full_name: &str) -> Option<&mut Repo> {
        let i = match self.repos.iter().position(|r| r.full_name() == full_name) {
            Some(i) => i,
            None if self.strict => return None,
            None => {
                let mut r = Repo::new(full_name);
                r.archived = self.archived.iter().any(|a| a == full_name);
                self.repos.push(r);
                self.repos.len() - 1
            }
        };
        self.repos.get_mut(i)
    }

    /// A pull request by repository and number.
    pub fn pr(&mut self, repo: &str, number: u64) -> Option<&mut Pr> {
        self.prs
            .iter_mut()
            .find(|p| p.repo == repo && p.number == number)
    }
}

pub struct FakeGitHub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    /// Serves on a free port of 127.0.0.1, one thread per connection; requests must carry
    /// `Authorization: Bearer {token}`.
    pub fn start(token: &str) -> FakeGitHub {
        super::openapi::load();
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        let token = token.to_string();
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                let token = token.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared, &token, &base);
                });
            }
        });
        FakeGitHub { url, state }
    }

    /// Panics when a request or an answer broke GitHub's OpenAPI description.
    pub fn assert_conforms(&self) {
        let violations = std::mem::take(&mut self.lock().violations);
        assert!(
            violations.is_empty(),
            "the fake GitHub saw what GitHub's OpenAPI description does not allow:\n{}",
            violations.join("\n")
        );
    }

    pub fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn prs(&self) -> Vec<Pr> {
        self.lock().prs.clone()
    }

    pub fn pr(&self, repo: &str, number: u64) -> Pr {
        self.lock().pr(repo, number).cloned().expect("pull request")
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.lock().requests.clone()
    }

    /// How many requests matched an OpenAPI route (`GET /repos/{owner}/{repo}/pulls`).
    pub fn calls(&self, route: &str) -> usize {
        self.lock()
            .requests
            .iter()
            .filter(|r| r.route == route)
            .count()
    }

    /// Requests per route.
    pub fn calls_by_route(&self) -> BTreeMap<String, usize> {
        let mut out = BTreeMap::new();
        for r in &self.lock().requests {
            *out.entry(r.route.clone()).or_insert(0) += 1;
        }
        out
    }

    /// Adds (or replaces) a repository.
    pub fn add_repo(&self, repo: Repo) {
        let mut st = self.lock();
        st.repos.retain(|r| r.full_name() != repo.full_name());
        st.repos.push(repo);
    }

    /// Adds `repo` backed by a new bare repository `root/{owner}/{name}.git` whose `main` holds
    /// `files`, cloned from `{git_base}/{owner}/{name}.git` (a `GitHttp` serving `root`); the
    /// bare repository's path.
    pub fn add_with_git(
        &self,
        root: &Path,
        git_base: &str,
        repo: Repo,
        files: &[(&str, &str)],
    ) -> PathBuf {
        let full = repo.full_name();
        let dir = bare_repo(root, &full, files);
        self.add_repo(repo.git(&dir, &format!("{git_base}/{full}.git")));
        dir
    }

    /// Opens a pull request as a person would (from `head` into `base`); its number.
    pub fn open_pr(&self, repo: &str, head: &str, base: &str, title: &str) -> u64 {
        let mut st = self.lock();
        st.repo(repo).expect("repository");
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

    /// Someone pushes: the pull request's head commit as GitHub last saw it (for a repository
    /// without a git directory; with one, the branch is read).
    pub fn set_head(&self, repo: &str, number: u64, sha: &str) {
        self.lock().pr(repo, number).expect("pull request").head_sha = sha.into();
    }

    /// Forces mergeability (`None`: computed again).
    pub fn set_mergeable(&self, repo: &str, number: u64, mergeable: Option<bool>) {
        self.lock()
            .pr(repo, number)
            .expect("pull request")
            .mergeable = mergeable;
    }

    /// Sets a check run by name on a commit: `status` `queued`/`in_progress`/`completed`,
    /// `conclusion` when completed.
    pub fn set_check(
        &self,
        repo: &str,
        sha: &str,
        name: &str,
        status: &str,
        conclusion: Option<&str>,
    ) {
        let mut st = self.lock();
        st.checks
            .retain(|c| !(c.repo == repo && c.sha == sha && c.name == name));
        let id = st.id();
        st.checks.push(CheckRun {
            repo: repo.into(),
            sha: sha.into(),
            id,
            name: name.into(),
            status: status.into(),
            conclusion: conclusion.map(str::to_string),
        });
    }

    /// Sets the commit status of a context on a commit.
    pub fn set_status(&self, repo: &str, sha: &str, context: &str, state: &str) {
        let mut st = self.lock();
        st.statuses
            .retain(|s| !(s.repo == repo && s.sha == sha && s.context == context));
        let id = st.id();
        st.statuses.push(CommitStatus {
            repo: repo.into(),
            sha: sha.into(),
            id,
            context: context.into(),
            state: state.into(),
        });
    }

    /// `user` reviews a pull request (`APPROVED`, `CHANGES_REQUESTED`, `COMMENTED`).
    pub fn review(&self, repo: &str, number: u64, user: &str, state: &str) {
        let mut st = self.lock();
        let commit_id = st.pr(repo, number).expect("pull request").head_sha.clone();
        let id = st.id();
        st.reviews.push(Review {
            repo: repo.into(),
            number,
            id,
            user: user.into(),
            state: state.into(),
            commit_id,
        });
    }

    /// Dismisses `user`'s reviews of a pull request.
    pub fn dismiss(&self, repo: &str, number: u64, user: &str) {
        for r in self.lock().reviews.iter_mut() {
            if r.repo == repo && r.number == number && r.user == user {
                r.state = "DISMISSED".into();
            }
        }
    }

    /// The next request under `path` (`""`: any) answers `status` (see [`Fault`]).
    pub fn fault(&self, path: &str, status: u16, retry_after: Option<u64>) {
        self.lock().path_faults.push(Fault {
            path: path.into(),
            status,
            retry_after,
        });
    }
}

/// Every test that starts the fake is checked against the description when it ends.
impl Drop for FakeGitHub {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_conforms();
        }
    }
}

/// One connection: requests in, answers out, until the client closes it.
fn serve(stream: TcpStream, state: &Mutex<State>, token: &str, base: &str) -> std::io::Result<()> {
    stream.set_nodelay(true)?;
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let length = get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let authorization = get("authorization");
        // GraphQL is outside the REST description.
        let checked = (!target.starts_with("/graphql"))
            .then(|| super::openapi::check_request(&method, &target, &body))
            .transpose();
        let delay = {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            st.requests.push(Seen {
                method: method.clone(),
                target: target.clone(),
                authorization: authorization.clone(),
                body: body.clone(),
                route: routes::matched(&method, &target)
                    .map(|(r, _)| r)
                    .unwrap_or_default(),
            });
            if let Err(problems) = &checked {
                st.violations.extend(problems.iter().cloned());
            }
            st.in_flight += 1;
            st.max_in_flight = st.max_in_flight.max(st.in_flight);
            st.delay_ms
        };
        let (status, extra, reply) = if authorization.as_deref() != Some(&format!("Bearer {token}"))
        {
            (401, String::new(), shapes::error("Bad credentials"))
        } else if let Err(problems) = &checked {
            let message = format!(
                "request not allowed by GitHub's OpenAPI description: {}",
                problems.join("; ")
            );
            (400, String::new(), json!({ "message": message }))
        } else {
            let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
            handle(&mut st, &method, &target, &body, base)
        };
        let text = if status == 204 {
            String::new()
        } else {
            reply.to_string()
        };
        if let Ok(Some(op)) = &checked {
            let problems = super::openapi::check_response(op, status, &text);
            state
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .violations
                .extend(problems);
        }
        if delay > 0 {
            std::thread::sleep(Duration::from_millis(delay));
        }
        state.lock().unwrap_or_else(|p| p.into_inner()).in_flight -= 1;
        // One write: small writes meet Nagle's algorithm and delayed acknowledgements.
        let answer = format!(
            "HTTP/1.1 {status} {}\r\ncontent-type: application/json; charset=utf-8\r\n\
             x-ratelimit-limit: 5000\r\n{extra}content-length: {}\r\n\r\n{text}",
            reason(status),
            text.len()
        );
        out.write_all(answer.as_bytes())?;
        out.flush()?;
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        201 => "Created",
        204 => "No Content",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Other",
    }
}

/// One request to one answer: a scripted fault if one applies, else the route's handler.
/// Returns the status, extra header lines (each ending `\r\n`) and the JSON body.
pub fn handle(
    st: &mut State,
    method: &str,
    target: &str,
    body: &str,
    base: &str,
) -> (u16, String, Value) {
    match take_fault(st, target) {
        Some((200, limit, _)) => {
            let (status, extra, reply) = routes::route(st, method, target, body, base);
            (status, format!("{extra}{limit}"), reply)
        }
        Some(fault) => fault,
        None => routes::route(st, method, target, body, base),
    }
}

/// `x-ratelimit-remaining: 0` and a reset a second from now.
fn spent_limit() -> String {
    let reset = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() + 1)
        .unwrap_or(0);
    format!("x-ratelimit-remaining: 0\r\nx-ratelimit-reset: {reset}\r\n")
}

fn take_fault(st: &mut State, target: &str) -> Option<(u16, String, Value)> {
    let (status, retry_after) = if !st.faults.is_empty() {
        let (s, after) = st.faults.remove(0);
        (s, Some(after))
    } else {
        let path = target.split('?').next().unwrap_or("");
        let i = st
            .path_faults
            .iter()
            .position(|f| path.starts_with(&f.path))?;
        let f = st.path_faults.remove(i);
        (f.status, f.retry_after)
    };
    let limited = matches!(status, 403 | 429);
    Some(match (limited, retry_after) {
        (true, Some(after)) => (
            status,
            format!("retry-after: {after}\r\n"),
            shapes::error(
                "You have exceeded a secondary rate limit. Please wait a few minutes before you \
                 try again.",
            ),
        ),
        (true, None) => (
            status,
            spent_limit(),
            shapes::error("API rate limit exceeded for user ID 1."),
        ),
        (false, _) if status == 200 => (200, spent_limit(), Value::Null),
        (false, _) => (status, String::new(), json!({"message": "Server Error"})),
    })
}

/// The value of a query parameter, percent-decoded (`+` is a space).
pub fn query(target: &str, key: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == key).then(|| decode(&v.replace('+', " ")))
    })
}

/// Percent-decoding.
pub fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = b
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        if b[i] == b'%'
            && let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// One page of `items` as `per_page`/`page` ask (capped by `page_size`), and the `Link` header
/// (first, prev, next, last) as GitHub writes it.
pub fn paginate<T>(st: &State, target: &str, base: &str, items: Vec<T>) -> (String, Vec<T>) {
    let per_page = query(target, "per_page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(30)
        .clamp(1, 100)
        .min(st.page_size.max(1));
    let page = query(target, "page")
        .and_then(|p| p.parse::<usize>().ok())
        .unwrap_or(1)
        .max(1);
    let last = items.len().div_ceil(per_page).max(1);
    let slice: Vec<T> = items
        .into_iter()
        .skip((page - 1) * per_page)
        .take(per_page)
        .collect();
    if last == 1 {
        return (String::new(), slice);
    }
    let bare: String = {
        let (path, q) = target.split_once('?').unwrap_or((target, ""));
        let kept: Vec<&str> = q
            .split('&')
            .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
            .collect();
        format!("{path}?{}", kept.join("&"))
    };
    let link = |n: usize, rel: &str| format!("<{base}{bare}&page={n}>; rel=\"{rel}\"");
    let mut links = Vec::new();
    if page > 1 {
        links.push(link(page - 1, "prev"));
    }
    if page < last {
        links.push(link(page + 1, "next"));
        links.push(link(last, "last"));
    }
    if page > 1 {
        links.push(link(1, "first"));
    }
    (format!("link: {}\r\n", links.join(", ")), slice)
}
