//! GitLab's REST API (v4, gitlab.com and self-managed), over blocking `ureq`: the transport lives
//! here (`PRIVATE-TOKEN` or `JOB-TOKEN`, rate limits honoured through `Retry-After` on 429 and
//! `RateLimit-Remaining`/`RateLimit-Reset`, server errors retried, lists followed through `Link`
//! or `X-Next-Page`, the token never in an error); the operations live in `gitlab/`: projects and
//! discovery (`projects.rs`), merge requests (`merge_requests.rs`), and what the campaign reads
//! about them (`status.rs`). A project is named by its URL-encoded full path
//! (`group%2Fsub%2Fproject`), so nested subgroups need no id look-up.

mod merge_requests;
mod projects;
mod status;

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::github::pct;
use super::{
    ApiCommit, Checks, Created, Forge, ForgeError, ForgeKind, Listing, MergeMethod, Mergeability,
    Merged, NewPullRequest, Owner, PullRequest, RemoteRepo, RepoId, ReviewDecision,
};
use crate::error::{Code, Error, Kind, codes};
use crate::git::Secret;

/// A GitLab API client.
pub struct GitLab {
    agent: ureq::Agent,
    /// The API's base URL (`https://gitlab.com/api/v4`).
    pub(in crate::forge) api: String,
    token: Option<Secret>,
    job_token: bool,
    max_wait: Duration,
    backoff: Duration,
    blocked_until: Mutex<Option<SystemTime>>,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab").field("api", &self.api).finish()
    }
}

/// What only GitLab says wrong; everything else is a shared [`ForgeError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitLabError {
    /// `E565`: a reviewer or assignee names no GitLab user.
    #[error("{repo}: GitLab knows no user `{username}` (asked as {role})")]
    UnknownUser {
        /// The project.
        repo: RepoId,
        /// The username looked up (`GET /users?username=`).
        username: String,
        /// `a reviewer` or `an assignee`.
        role: &'static str,
    },
}

impl Kind for GitLabError {
    fn code(&self) -> Code {
        match self {
            GitLabError::UnknownUser { .. } => codes::GITLAB_UNKNOWN_USER,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            GitLabError::UnknownUser { .. } => {
                "use the person's GitLab username (the name after @ on their profile)".to_string()
            }
        })
    }
}

/// The HTTP methods the API is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::forge) enum Method {
    Get,
    Post,
    Put,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
        })
    }
}

/// A response: status, JSON body, and the next page's URL.
pub(in crate::forge) struct Reply {
    pub(in crate::forge) status: u16,
    pub(in crate::forge) body: Value,
    pub(in crate::forge) next: Option<String>,
}

/// What a response says about the rate limit.
struct RateLimit {
    /// `Retry-After`, in seconds.
    retry_after: Option<u64>,
    /// `RateLimit-Remaining`.
    remaining: Option<u64>,
    /// `RateLimit-Reset` (unix time).
    reset: Option<SystemTime>,
}

impl RateLimit {
    /// When to try again after a 429.
    fn until(&self) -> SystemTime {
        match (self.retry_after, self.reset) {
            (Some(s), _) => SystemTime::now() + Duration::from_secs(s),
            (None, Some(r)) => r,
            (None, None) => SystemTime::now() + Duration::from_secs(60),
        }
    }
}

impl GitLab {
    /// A client for the API at `api` (`https://gitlab.com/api/v4`, or
    /// `https://HOST/api/v4` for a self-managed instance), with the token if any (sent as
    /// `PRIVATE-TOKEN`: a personal, project or group access token).
    pub fn new(api: &str, token: Option<Secret>) -> GitLab {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(tls)
            .build()
            .into();
        GitLab {
            agent,
            api: api.trim_end_matches('/').to_string(),
            token,
            job_token: false,
            max_wait: Duration::from_secs(120),
            backoff: Duration::from_millis(500),
            blocked_until: Mutex::new(None),
        }
    }

    /// Sends the token as `JOB-TOKEN` (a CI job's `CI_JOB_TOKEN`) instead of `PRIVATE-TOKEN`.
    pub fn job_token(mut self) -> GitLab {
        self.job_token = true;
        self
    }

    /// The longest rate-limit wait honoured before giving up (default 2 min).
    pub fn max_wait(mut self, wait: Duration) -> GitLab {
        self.max_wait = wait;
        self
    }

    /// The first wait before retrying a server error or a network failure (default 500 ms; it
    /// doubles each time), also the first wait while GitLab checks mergeability.
    pub fn backoff(mut self, backoff: Duration) -> GitLab {
        self.backoff = backoff;
        self
    }

    pub(in crate::forge) fn redact(&self, text: &str) -> String {
        match &self.token {
            Some(t) => text.replace(t.expose(), "***"),
            None => text.to_string(),
        }
    }

    fn sleep_until(&self, until: SystemTime, why: &str) -> Result<(), Error> {
        let wait = until
            .duration_since(SystemTime::now())
            .unwrap_or(Duration::ZERO);
        if wait > self.max_wait {
            let at = until
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Err(ForgeError::RateLimited {
                forge: "GitLab",
                why: why.to_string(),
                wait_secs: wait.as_secs(),
                at,
            }
            .into());
        }
        if !wait.is_zero() {
            tracing::warn!("GitLab rate limit: waiting {} s ({why})", wait.as_secs());
            std::thread::sleep(wait);
        }
        Ok(())
    }

    /// Sends one request, waiting out rate limits (429) and retrying server errors and network
    /// failures (three times, with backoff).
    pub(in crate::forge) fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Error> {
        let mut backoff = self.backoff;
        let mut attempt = 0;
        loop {
            let blocked = self
                .blocked_until
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .take();
            if let Some(until) = blocked {
                self.sleep_until(until, "RateLimit-Remaining was 0")?;
            }
            attempt += 1;
            let resp = match self.call(method, url, body) {
                Ok(r) => r,
                Err(e) if attempt < 4 => {
                    let why = self.redact(&e.to_string());
                    tracing::warn!("GitLab {method} failed ({why}), retrying");
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(e) => return Err(self.unreachable(&e)),
            };
            let (reply, limit) = read_reply(resp);
            let status = reply.status;
            if status == 429 && attempt < 4 {
                self.sleep_until(limit.until(), &format!("429 on {method}"))?;
                continue;
            }
            if status >= 500 && attempt < 4 {
                std::thread::sleep(backoff);
                backoff *= 2;
                continue;
            }
            if limit.remaining == Some(0)
                && let Some(r) = limit.reset
            {
                *self.blocked_until.lock().unwrap_or_else(|p| p.into_inner()) = Some(r);
            }
            return Ok(reply);
        }
    }

    /// Every item of a listing (a JSON array), following its next pages on the same API host
    /// (`Link: rel="next"`, else `X-Next-Page`).
    pub(in crate::forge) fn get_all(
        &self,
        url: &str,
        what: &'static str,
        repo: &RepoId,
    ) -> Result<Vec<Value>, Error> {
        let mut items = Vec::new();
        let mut url = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = url.take() {
            pages += 1;
            let reply = self.send(Method::Get, &u, None)?;
            if reply.status != 200 {
                return Err(self.refused(what, repo, &reply));
            }
            items.extend(reply.body.as_array().into_iter().flatten().cloned());
            url = reply
                .next
                .map(|n| with_page(&u, &n))
                .filter(|n| n.starts_with(&self.api) && pages < 1000);
        }
        Ok(items)
    }

    /// One HTTP exchange, JSON body for writes.
    fn call(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let body = || body.unwrap_or(&Value::Null).to_string();
        match method {
            Method::Get => self.headers(self.agent.get(url)).call(),
            Method::Post => self
                .headers(self.agent.post(url))
                .header("content-type", "application/json")
                .send(body()),
            Method::Put => self
                .headers(self.agent.put(url))
                .header("content-type", "application/json")
                .send(body()),
        }
    }

    fn headers<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let req = req.header("accept", "application/json").header(
            "user-agent",
            concat!("codefleet/", env!("CARGO_PKG_VERSION")),
        );
        match (&self.token, self.job_token) {
            (Some(t), false) => req.header("private-token", t.expose()),
            (Some(t), true) => req.header("job-token", t.expose()),
            (None, _) => req,
        }
    }

    /// `E530`: the API cannot be reached, after retries.
    fn unreachable(&self, e: &ureq::Error) -> Error {
        ForgeError::Unreachable {
            forge: "GitLab",
            api: self.redact(&self.api),
            why: self.redact(&e.to_string()),
            hint: "check the network and the `gitlab.hosts` entry's API address",
        }
        .into()
    }

    /// `{api}{path}`: an address outside a project (`/groups/acme%2Fplatform/projects`).
    pub(in crate::forge) fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// `{api}/projects/{url-encoded full path}{rest}`.
    pub(in crate::forge) fn url(&self, repo: &RepoId, rest: &str) -> String {
        format!("{}/projects/{}{rest}", self.api, project_id(repo))
    }

    /// A non-2xx reply as an error: GitLab's `message` (a text, a list, or field → texts) or
    /// `error`.
    pub(in crate::forge) fn refused(
        &self,
        what: &'static str,
        repo: &RepoId,
        reply: &Reply,
    ) -> Error {
        let hint = match reply.status {
            401 => "the token is missing, invalid or expired: set the host's GitLab token",
            403 => "the token needs the `api` scope and at least the Developer role on the project",
            404 => {
                "GitLab answers 404 for a project the token cannot see: check the path and the token's access"
            }
            _ => "see GitLab's message above",
        };
        ForgeError::Refused {
            forge: "GitLab",
            repo: repo.clone(),
            status: reply.status,
            what,
            message: self.redact(&message(&reply.body)),
            hint,
        }
        .into()
    }
}

/// GitLab's error text: `message` as a string, a list, or an object of field → messages; else
/// `error`.
pub(in crate::forge) fn message(body: &Value) -> String {
    match body.get("message") {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join("; "),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| {
                let texts: Vec<String> = match v {
                    Value::Array(a) => a
                        .iter()
                        .map(|x| x.as_str().map_or_else(|| x.to_string(), str::to_string))
                        .collect(),
                    other => vec![
                        other
                            .as_str()
                            .map_or_else(|| other.to_string(), str::to_string),
                    ],
                };
                format!("{k} {}", texts.join(", "))
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => body
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or("no message")
            .to_string(),
    }
}

/// A project's id in a path: its full path, URL-encoded (`group%2Fsub%2Fproject`).
pub(in crate::forge) fn project_id(repo: &RepoId) -> String {
    if repo.owner.is_empty() {
        pct(&repo.name)
    } else {
        pct(&format!("{}/{}", repo.owner, repo.name))
    }
}

/// A response's status, JSON body, next page and rate limit.
fn read_reply(mut resp: ureq::http::Response<ureq::Body>) -> (Reply, RateLimit) {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    let number = |name: &str| header(name).and_then(|s| s.parse::<u64>().ok());
    let limit = RateLimit {
        retry_after: number("retry-after"),
        remaining: number("ratelimit-remaining"),
        reset: number("ratelimit-reset").map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    };
    let next = header("link").and_then(|l| next_link(&l)).or_else(|| {
        header("x-next-page")
            .filter(|p| !p.is_empty())
            .map(|p| format!("page={p}"))
    });
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (Reply { status, body, next }, limit)
}

/// The next page's URL: a full `Link` URL as it is, or `page=N` (from `X-Next-Page`) put in
/// place of the current URL's `page`.
fn with_page(current: &str, next: &str) -> String {
    let Some(page) = next.strip_prefix("page=") else {
        return next.to_string();
    };
    let (path, query) = current.split_once('?').unwrap_or((current, ""));
    let mut kept: Vec<&str> = query
        .split('&')
        .filter(|kv| !kv.is_empty() && !kv.starts_with("page="))
        .collect();
    let page = format!("page={page}");
    kept.push(&page);
    format!("{path}?{}", kept.join("&"))
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params
            .split(';')
            .any(|p| p.trim() == "rel=\"next\"")
            .then(|| {
                url.trim()
                    .trim_start_matches('<')
                    .trim_end_matches('>')
                    .to_string()
            })
    })
}

/// A remote URL's project: every path segment after the host, the last one the name and the
/// rest the namespace (`https://gitlab.com/acme/platform/api.git` → `acme/platform` + `api`).
pub(in crate::forge) fn repo_from_url(url: &str) -> Option<RepoId> {
    let path = match url.split_once("://") {
        Some((_, rest)) => rest.split_once('/').map(|(_, p)| p)?,
        None => url.split_once(':').map(|(_, p)| p)?,
    };
    let path = path.trim_matches('/');
    let path = path.strip_suffix(".git").unwrap_or(path);
    let (owner, name) = path.rsplit_once('/')?;
    let owner = owner.trim_matches('/');
    (!name.is_empty() && !owner.is_empty() && !owner.split('/').any(str::is_empty)).then(|| {
        RepoId {
            owner: owner.to_string(),
            name: name.to_string(),
        }
    })
}

fn unsupported<T>(what: &'static str) -> Result<T, Error> {
    Err(ForgeError::Unsupported {
        forge: "GitLab",
        what,
    }
    .into())
}

impl Forge for GitLab {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitLab
    }
    fn repo_id(&self, url: &str) -> Option<RepoId> {
        repo_from_url(url)
    }
    fn repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        self.get_project(repo)
    }
    fn list_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        self.list_projects(owner, &[], None, true)
    }
    fn list_matching(&self, listing: &Listing) -> Result<Vec<RemoteRepo>, Error> {
        self.list_projects(
            &listing.owner,
            &listing.topics,
            listing.search.as_deref(),
            listing.archived,
        )
    }
    fn search_repos(&self, _: &str) -> Result<Vec<RemoteRepo>, Error> {
        unsupported("GitHub's repository search syntax (list a group with topics or a search)")
    }
    fn code_search(&self, _: &str) -> Result<Vec<RepoId>, Error> {
        unsupported("code search")
    }
    fn pull_requests(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error> {
        self.list_merge_requests(repo, head)
    }
    fn create(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        self.create_merge_request(repo, pr)
    }
    fn update(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        self.update_merge_request(repo, number, title, body)
    }
    fn close(&self, repo: &RepoId, number: u64, body: Option<&str>) -> Result<(), Error> {
        let mut put = serde_json::json!({ "state_event": "close" });
        if let Some(b) = body {
            put["description"] = Value::from(b);
        }
        self.put_merge_request(repo, number, &put, "closing a merge request")
            .map(|_| ())
    }
    fn reopen(&self, repo: &RepoId, number: u64) -> Result<PullRequest, Error> {
        let put = serde_json::json!({ "state_event": "reopen" });
        self.put_merge_request(repo, number, &put, "reopening a merge request")
    }
    fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error> {
        self.post_note(repo, number, body)
    }
    fn add_labels(&self, repo: &RepoId, number: u64, labels: &[String]) -> Result<(), Error> {
        let put = serde_json::json!({ "add_labels": labels.join(",") });
        self.put_merge_request(repo, number, &put, "adding labels")
            .map(|_| ())
    }
    fn request_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        self.add_reviewers(repo, number, reviewers)
    }
    fn mergeability(&self, repo: &RepoId, pr: &PullRequest) -> Result<Mergeability, Error> {
        self.get_mergeability(repo, pr)
    }
    fn checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
        self.get_pipeline(repo, sha)
    }
    fn review_decision(&self, repo: &RepoId, number: u64) -> Result<ReviewDecision, Error> {
        self.get_review_decision(repo, number)
    }
    fn merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Merged, Error> {
        self.put_merge(repo, pr, method)
    }
    fn enable_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        self.put_auto_merge(repo, pr, method)
    }
    fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
        unsupported("commits through the API (not built for GitLab yet)")
    }
    fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
        unsupported("moving a branch through the API (not built for GitLab yet)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_remote_url_names_the_whole_namespace() {
        let id = |u: &str| repo_from_url(u).map(|r| (r.owner, r.name));
        let want = Some(("acme/platform".to_string(), "api".to_string()));
        assert_eq!(id("https://gitlab.com/acme/platform/api.git"), want);
        assert_eq!(id("git@gitlab.com:acme/platform/api.git"), want);
        assert_eq!(id("ssh://git@gitlab.example:2222/acme/platform/api"), want);
        assert_eq!(
            id("http://127.0.0.1:8080/a/b.git"),
            Some(("a".to_string(), "b".to_string()))
        );
        assert_eq!(id("https://gitlab.com/solo"), None);
        assert_eq!(id("https://gitlab.com/"), None);
        let repo = repo_from_url("https://gitlab.com/acme/platform/api").unwrap();
        assert_eq!(project_id(&repo), "acme%2Fplatform%2Fapi");
    }

    #[test]
    fn next_pages_come_from_link_or_x_next_page() {
        let link = "<https://gitlab.example/api/v4/groups/1/projects?page=2&per_page=2>; \
                    rel=\"next\", <https://gitlab.example/api/v4/groups/1/projects?page=1>; rel=\"first\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://gitlab.example/api/v4/groups/1/projects?page=2&per_page=2")
        );
        assert_eq!(
            with_page("http://h/api/v4/x?per_page=2&page=1", "page=2"),
            "http://h/api/v4/x?per_page=2&page=2"
        );
        assert_eq!(
            with_page("http://h/api/v4/x", "page=3"),
            "http://h/api/v4/x?page=3"
        );
    }

    #[test]
    fn messages_read_every_shape_gitlab_answers() {
        use serde_json::json;
        assert_eq!(
            message(&json!({"message": "404 Project Not Found"})),
            "404 Project Not Found"
        );
        assert_eq!(
            message(&json!({"message": ["Another open merge request already exists"]})),
            "Another open merge request already exists"
        );
        assert_eq!(
            message(&json!({"message": {"title": ["can't be blank"]}})),
            "title can't be blank"
        );
        assert_eq!(message(&json!({"error": "invalid_token"})), "invalid_token");
    }
}
