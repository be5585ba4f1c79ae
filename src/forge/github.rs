//! GitHub's REST API (and GitHub Enterprise's, at its own base URL), over blocking `ureq`: the
//! transport lives here (rate limits honoured through `retry-after` and
//! `x-ratelimit-remaining`/`-reset`, server errors retried, content-creating requests spaced
//! out as GitHub asks, lists followed through their `Link` pages, the token never in an error);
//! the operations live in `github/`: repositories and discovery (`repos.rs`), pull requests
//! (`pulls.rs`), and what the campaign reads about them (`status.rs`).

mod pulls;
mod repos;
mod status;

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::{
    ApiCommit, Checks, Created, Forge, ForgeError, MergeMethod, Mergeability, Merged,
    NewPullRequest, Owner, PullRequest, RemoteRepo, RepoId, ReviewDecision,
};
use crate::error::Error;
use crate::git::Secret;

/// A GitHub API client.
pub struct GitHub {
    agent: ureq::Agent,
    pub(in crate::forge) api: String,
    token: Option<Secret>,
    pace: Duration,
    max_wait: Duration,
    backoff: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// When the last content-creating request (POST, PATCH, PUT, DELETE) was sent.
    last_create: Option<Instant>,
    blocked_until: Option<SystemTime>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub").field("api", &self.api).finish()
    }
}

/// The HTTP methods the API is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::forge) enum Method {
    Get,
    Post,
    Patch,
    Put,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
            Method::Put => "PUT",
        })
    }
}

/// What a response says about the rate limit.
struct RateLimit {
    /// `retry-after`, in seconds.
    retry_after: Option<u64>,
    /// `x-ratelimit-remaining`.
    remaining: Option<u64>,
    /// `x-ratelimit-reset`.
    reset: Option<SystemTime>,
}

impl RateLimit {
    /// Whether a response with `status` was refused for the rate limit (not for permissions).
    fn limited(&self, status: u16) -> bool {
        matches!(status, 403 | 429) && (self.retry_after.is_some() || self.remaining == Some(0))
    }

    /// When to try again.
    fn until(&self) -> SystemTime {
        match (self.retry_after, self.reset) {
            (Some(s), _) => SystemTime::now() + Duration::from_secs(s),
            (None, Some(r)) => r,
            (None, None) => SystemTime::now() + Duration::from_secs(60),
        }
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
        remaining: number("x-ratelimit-remaining"),
        reset: number("x-ratelimit-reset").map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    };
    let next = header("link").and_then(|l| next_link(&l));
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (Reply { status, body, next }, limit)
}

/// A response: status, JSON body, and the next page's URL.
pub(in crate::forge) struct Reply {
    pub(in crate::forge) status: u16,
    pub(in crate::forge) body: Value,
    pub(in crate::forge) next: Option<String>,
}

impl GitHub {
    /// A client for the API at `api_url` (`https://api.github.com`, or
    /// `https://HOST/api/v3` for GitHub Enterprise), authenticating with `token`.
    pub fn new(api_url: &str, token: Option<Secret>) -> GitHub {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(tls)
            .build()
            .into();
        GitHub {
            agent,
            api: api_url.trim_end_matches('/').to_string(),
            token,
            pace: Duration::from_secs(1),
            max_wait: Duration::from_secs(120),
            backoff: Duration::from_millis(500),
            state: Mutex::new(State::default()),
        }
    }

    /// The least time between two pull request creations (default 1 s).
    pub fn pace(mut self, pace: Duration) -> GitHub {
        self.pace = pace;
        self
    }

    /// The longest rate-limit wait honoured before giving up (default 2 min).
    pub fn max_wait(mut self, wait: Duration) -> GitHub {
        self.max_wait = wait;
        self
    }

    /// The first wait before retrying a server error or a network failure (default 500 ms;
    /// it doubles each time), also the first wait while GitHub computes mergeability.
    pub fn backoff(mut self, backoff: Duration) -> GitHub {
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
                forge: "GitHub",
                why: why.to_string(),
                wait_secs: wait.as_secs(),
                at,
            }
            .into());
        }
        if !wait.is_zero() {
            tracing::warn!("GitHub rate limit: waiting {} s ({why})", wait.as_secs());
            std::thread::sleep(wait);
        }
        Ok(())
    }

    /// Sends one request, waiting out rate limits and retrying server errors and network
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
            let blocked = self.state().blocked_until.take();
            if let Some(until) = blocked {
                self.sleep_until(until, "x-ratelimit-remaining was 0")?;
            }
            attempt += 1;
            let resp = match self.call(method, url, body) {
                Ok(r) => r,
                Err(e) if attempt < 4 => {
                    tracing::warn!(
                        "GitHub {method} failed ({}), retrying",
                        self.redact(&e.to_string())
                    );
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(e) => return Err(self.unreachable(&e)),
            };
            let (reply, limit) = read_reply(resp);
            let status = reply.status;
            if limit.limited(status) && attempt < 4 {
                self.sleep_until(limit.until(), &format!("{status} on {method}"))?;
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
                self.state().blocked_until = Some(r);
            }
            return Ok(reply);
        }
    }

    /// Waits until `pace` has passed since the last pull request creation, and claims the slot
    /// (GitHub asks for a second between content-creating requests; creations come in bursts).
    pub(in crate::forge) fn wait_pace(&self) {
        let wait = {
            let mut st = self.state();
            let now = Instant::now();
            let at = st.last_create.map_or(now, |t| (t + self.pace).max(now));
            st.last_create = Some(at);
            at - now
        };
        if !wait.is_zero() {
            std::thread::sleep(wait);
        }
    }

    /// Every item of a listing, following its `Link` pages on the same API host (the token
    /// goes with each request): a JSON array, or the array under `key` (`items` of a search,
    /// `check_runs`), up to `cap` items. Also the first page's body.
    pub(in crate::forge) fn get_all(
        &self,
        url: &str,
        key: Option<&str>,
        cap: usize,
        what: &'static str,
        repo: &RepoId,
    ) -> Result<(Vec<Value>, Value), Error> {
        let mut items = Vec::new();
        let mut first = None;
        let mut url = Some(url.to_string());
        let mut pages = 0;
        while let Some(u) = url.take() {
            pages += 1;
            let reply = self.send(Method::Get, &u, None)?;
            if reply.status != 200 {
                return Err(self.refused(what, repo, &reply));
            }
            let page = match key {
                Some(k) => reply.body.get(k),
                None => Some(&reply.body),
            };
            items.extend(
                page.and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
            if items.len() >= cap {
                items.truncate(cap);
                first.get_or_insert(reply.body);
                break;
            }
            url = reply
                .next
                .filter(|n| n.starts_with(&self.api) && pages < 1000);
            first.get_or_insert(reply.body);
        }
        Ok((items, first.unwrap_or(Value::Null)))
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
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
            Method::Patch => self
                .headers(self.agent.patch(url))
                .header("content-type", "application/json")
                .send(body()),
            Method::Put => self
                .headers(self.agent.put(url))
                .header("content-type", "application/json")
                .send(body()),
        }
    }

    /// `E530`: the API cannot be reached, after retries.
    fn unreachable(&self, e: &ureq::Error) -> Error {
        ForgeError::Unreachable {
            forge: "GitHub",
            api: self.api.clone(),
            why: self.redact(&e.to_string()),
            hint: "check the network, `github.api_url` or GITHUB_API_URL",
        }
        .into()
    }

    fn headers<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let req = req
            .header("accept", "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
            .header(
                "user-agent",
                concat!("codefleet/", env!("CARGO_PKG_VERSION")),
            );
        match &self.token {
            Some(t) => req.header("authorization", format!("Bearer {}", t.expose())),
            None => req,
        }
    }

    /// `{api}{path}`: an address outside a repository (`/orgs/acme/repos`).
    pub(in crate::forge) fn api_url(&self, path: &str) -> String {
        format!("{}{path}", self.api)
    }

    /// `{api}/repos/{owner}/{name}{rest}`.
    pub(in crate::forge) fn url(&self, repo: &RepoId, rest: &str) -> String {
        format!(
            "{}/repos/{}/{}{rest}",
            self.api,
            pct(&repo.owner),
            pct(&repo.name)
        )
    }

    /// A non-2xx reply as an error.
    pub(in crate::forge) fn refused(
        &self,
        what: &'static str,
        repo: &RepoId,
        reply: &Reply,
    ) -> Error {
        let message = reply
            .body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no message");
        let details: Vec<&str> = reply
            .body
            .get("errors")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.get("message").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        let detail = if details.is_empty() {
            String::new()
        } else {
            format!(" ({})", details.join("; "))
        };
        let hint = match reply.status {
            401 => "the token is missing or invalid: set GITHUB_TOKEN or GH_TOKEN",
            403 | 404 => "the token needs access to the repository (contents and pull requests)",
            _ => "see GitHub's message above",
        };
        ForgeError::Refused {
            forge: "GitHub",
            repo: repo.clone(),
            status: reply.status,
            what,
            message: self.redact(&format!("{message}{detail}")),
            hint,
        }
        .into()
    }
}

impl Forge for GitHub {
    fn repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        self.get_repo(repo)
    }

    fn list_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        self.list_owner_repos(owner)
    }

    fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>, Error> {
        self.search_repositories(query)
    }

    fn code_search(&self, query: &str) -> Result<Vec<RepoId>, Error> {
        self.search_code(query)
    }

    fn pull_requests(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error> {
        self.list_pulls(repo, head)
    }

    fn create(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        self.create_pull(repo, pr)
    }

    fn update(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        self.patch_pull(
            repo,
            number,
            json!({ "title": title, "body": body }),
            "updating a pull request",
        )
    }

    fn close(&self, repo: &RepoId, number: u64, body: Option<&str>) -> Result<(), Error> {
        let mut patch = json!({ "state": "closed" });
        if let Some(b) = body {
            patch["body"] = json!(b);
        }
        self.patch_pull(repo, number, patch, "closing a pull request")
            .map(|_| ())
    }

    fn reopen(&self, repo: &RepoId, number: u64) -> Result<PullRequest, Error> {
        self.patch_pull(
            repo,
            number,
            json!({ "state": "open" }),
            "reopening a pull request",
        )
    }

    fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error> {
        self.post_comment(repo, number, body)
    }

    fn add_labels(&self, repo: &RepoId, number: u64, labels: &[String]) -> Result<(), Error> {
        self.post_labels(repo, number, labels)
    }

    fn request_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        self.post_reviewers(repo, number, reviewers)
    }

    fn mergeability(&self, repo: &RepoId, pr: &PullRequest) -> Result<Mergeability, Error> {
        self.get_mergeability(repo, pr)
    }

    fn checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
        self.get_checks(repo, sha)
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
        self.graphql_enable_auto_merge(repo, pr, method)
    }

    fn create_commit(&self, repo: &RepoId, commit: &ApiCommit) -> Result<String, Error> {
        self.graphql_create_commit(repo, commit)
    }

    fn set_branch(&self, repo: &RepoId, branch: &str, sha: &str, force: bool) -> Result<(), Error> {
        self.put_branch(repo, branch, sha, force)
    }
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

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub(in crate::forge) fn pct(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_and_encoding() {
        let link = "<https://api.github.com/repositories/1/pulls?page=2>; rel=\"next\", \
                    <https://api.github.com/repositories/1/pulls?page=5>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("https://api.github.com/repositories/1/pulls?page=2")
        );
        assert_eq!(next_link("<x>; rel=\"prev\""), None);
        assert_eq!(pct("codefleet/fix it"), "codefleet%2Ffix%20it");
    }
}
