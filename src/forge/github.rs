//! GitHub's REST API (and GitHub Enterprise's, at its own base URL) for pull requests, over
//! blocking `ureq`. Rate limits are honoured (`retry-after`, `x-ratelimit-remaining`/`-reset`),
//! pull request creation is spaced out as GitHub asks of content-creating requests, lists are
//! followed through their `Link` pages, and the token never appears in an error.

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
    pub(super) api: String,
    token: Option<Secret>,
    pace: Duration,
    max_wait: Duration,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
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
pub(super) enum Method {
    Get,
    Post,
    Patch,
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Patch => "PATCH",
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
pub(super) struct Reply {
    pub(super) status: u16,
    pub(super) body: Value,
    next: Option<String>,
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

    pub(super) fn redact(&self, text: &str) -> String {
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
    pub(super) fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<&Value>,
    ) -> Result<Reply, Error> {
        let mut backoff = Duration::from_millis(500);
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

    fn url(&self, repo: &RepoId, rest: &str) -> String {
        format!(
            "{}/repos/{}/{}{rest}",
            self.api,
            pct(&repo.owner),
            pct(&repo.name)
        )
    }

    /// A non-2xx reply as an error.
    pub(super) fn refused(&self, what: &'static str, repo: &RepoId, reply: &Reply) -> Error {
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

/// Not built yet (the campaign issue's helpers fill these in).
pub(super) fn todo(what: &'static str) -> Error {
    ForgeError::Unsupported {
        forge: "GitHub",
        what,
    }
    .into()
}

impl Forge for GitHub {
    fn archived(&self, repo: &RepoId) -> Result<bool, Error> {
        let reply = self.send(Method::Get, &self.url(repo, ""), None)?;
        if reply.status != 200 {
            return Err(self.refused("reading the repository", repo, &reply));
        }
        Ok(reply.body.get("archived").and_then(Value::as_bool) == Some(true))
    }

    fn repo(&self, _repo: &RepoId) -> Result<RemoteRepo, Error> {
        Err(todo("reading a repository"))
    }

    fn list_repos(&self, _owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        Err(todo("listing repositories"))
    }

    fn search_repos(&self, _query: &str) -> Result<Vec<RemoteRepo>, Error> {
        Err(todo("repository search"))
    }

    fn code_search(&self, _query: &str) -> Result<Vec<RepoId>, Error> {
        Err(todo("code search"))
    }

    fn pull_requests(&self, _repo: &RepoId, _head: &str) -> Result<Vec<PullRequest>, Error> {
        Err(todo("listing pull requests"))
    }

    fn reopen(&self, _repo: &RepoId, _number: u64) -> Result<PullRequest, Error> {
        Err(todo("reopening"))
    }

    fn comment(&self, _repo: &RepoId, _number: u64, _body: &str) -> Result<(), Error> {
        Err(todo("comments"))
    }

    fn mergeability(&self, _repo: &RepoId, _pr: &PullRequest) -> Result<Mergeability, Error> {
        Err(todo("mergeability"))
    }

    fn checks(&self, _repo: &RepoId, _sha: &str) -> Result<Checks, Error> {
        Err(todo("checks"))
    }

    fn review_decision(&self, _repo: &RepoId, _number: u64) -> Result<ReviewDecision, Error> {
        Err(todo("reviews"))
    }

    fn merge(
        &self,
        _repo: &RepoId,
        _pr: &PullRequest,
        _method: Option<MergeMethod>,
    ) -> Result<Merged, Error> {
        Err(todo("merging"))
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

    fn set_branch(
        &self,
        _repo: &RepoId,
        _branch: &str,
        _sha: &str,
        _force: bool,
    ) -> Result<(), Error> {
        Err(todo("setting a branch"))
    }

    fn find_open(&self, repo: &RepoId, head: &str) -> Result<Option<PullRequest>, Error> {
        let mut url = Some(self.url(
            repo,
            &format!(
                "/pulls?head={}%3A{}&state=open&per_page=100",
                pct(&repo.owner),
                pct(head)
            ),
        ));
        let mut pages = 0;
        while let Some(u) = url.take() {
            pages += 1;
            let reply = self.send(Method::Get, &u, None)?;
            if reply.status != 200 {
                return Err(self.refused("listing pull requests", repo, &reply));
            }
            for pr in reply.body.as_array().into_iter().flatten() {
                let head_ref = pr.pointer("/head/ref").and_then(Value::as_str);
                if head_ref.is_none_or(|r| r == head) {
                    return Ok(Some(parse_pr(pr)));
                }
            }
            // Follow pages only on the same API host: the token goes with each request.
            url = reply
                .next
                .filter(|n| n.starts_with(&self.api) && pages < 50);
        }
        Ok(None)
    }

    fn create(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
        let wait_until = self.state().last_create.map(|t| t + self.pace);
        if let Some(t) = wait_until {
            std::thread::sleep(t.saturating_duration_since(Instant::now()));
        }
        let body = json!({
            "title": pr.title,
            "body": pr.body,
            "head": pr.head,
            "base": pr.base,
            "draft": pr.draft,
        });
        let reply = self.send(Method::Post, &self.url(repo, "/pulls"), Some(&body))?;
        self.state().last_create = Some(Instant::now());
        match reply.status {
            201 | 200 => Ok(Created::New(parse_pr(&reply.body))),
            422 if reply.body.to_string().contains("already exists") => Ok(Created::AlreadyExists),
            _ => Err(self.refused("opening a pull request", repo, &reply)),
        }
    }

    fn update(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error> {
        let reply = self.send(
            Method::Patch,
            &self.url(repo, &format!("/pulls/{number}")),
            Some(&json!({ "title": title, "body": body })),
        )?;
        if reply.status != 200 {
            return Err(self.refused("updating a pull request", repo, &reply));
        }
        Ok(parse_pr(&reply.body))
    }

    fn close(&self, repo: &RepoId, number: u64, body: Option<&str>) -> Result<(), Error> {
        let mut patch = json!({ "state": "closed" });
        if let Some(b) = body {
            patch["body"] = json!(b);
        }
        let reply = self.send(
            Method::Patch,
            &self.url(repo, &format!("/pulls/{number}")),
            Some(&patch),
        )?;
        if reply.status != 200 {
            return Err(self.refused("closing a pull request", repo, &reply));
        }
        Ok(())
    }

    fn add_labels(&self, repo: &RepoId, number: u64, labels: &[String]) -> Result<(), Error> {
        let reply = self.send(
            Method::Post,
            &self.url(repo, &format!("/issues/{number}/labels")),
            Some(&json!({ "labels": labels })),
        )?;
        if reply.status != 200 {
            return Err(self.refused("adding labels", repo, &reply));
        }
        Ok(())
    }

    fn request_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error> {
        // `org/team` names a team; anything else a user.
        let (teams, users): (Vec<&String>, Vec<&String>) =
            reviewers.iter().partition(|r| r.contains('/'));
        let teams: Vec<&str> = teams.iter().filter_map(|t| t.rsplit('/').next()).collect();
        let reply = self.send(
            Method::Post,
            &self.url(repo, &format!("/pulls/{number}/requested_reviewers")),
            Some(&json!({ "reviewers": users, "team_reviewers": teams })),
        )?;
        if reply.status != 201 && reply.status != 200 {
            return Err(self.refused("requesting reviewers", repo, &reply));
        }
        Ok(())
    }
}

fn parse_pr(v: &Value) -> PullRequest {
    let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    PullRequest {
        number: v.get("number").and_then(Value::as_u64).unwrap_or(0),
        url: s("html_url"),
        title: s("title"),
        body: s("body"),
        ..PullRequest::default()
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
fn pct(s: &str) -> String {
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
