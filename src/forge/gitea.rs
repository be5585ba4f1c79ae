//! Gitea's REST API (v1; Forgejo keeps the same API), over blocking `ureq`: the transport lives
//! here (`Authorization: token …`, lists followed through `page`/`limit` with `Link` and
//! `X-Total-Count`, `Retry-After` and 429 honoured, server errors and network failures
//! retried, the token never in an error); the operations live in `gitea/`: repositories and
//! discovery (`repos.rs`), pull requests (`pulls.rs`), and what the campaign reads about them
//! (`status.rs`). The description followed is Gitea's Swagger 2.0, vendored for the tests in
//! `tests/it/support/descriptions/gitea.json`.

mod pulls;
mod repos;
mod status;

use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::{
    ApiCommit, Checks, Created, Forge, ForgeError, ForgeKind, Listing, MergeMethod, Mergeability,
    Merged, NewPullRequest, Owner, PullRequest, RemoteRepo, RepoId, ReviewDecision,
};
use crate::error::{Code, Error, Kind, codes};
use crate::git::Secret;

/// The page size asked for (Gitea's default `MAX_RESPONSE_ITEMS` is 50; a server answers at
/// most its own maximum, and the `Link` header says where the next page is).
const PAGE: usize = 50;

/// A repository's labels: (name, id).
type LabelIds = Vec<(String, u64)>;

/// A Gitea API client.
pub struct Gitea {
    agent: ureq::Agent,
    /// The API's base URL (`https://codeberg.org/api/v1`).
    pub(in crate::forge) api: String,
    token: Option<Secret>,
    max_wait: Duration,
    backoff: Duration,
    /// Label ids by repository and name, read once per repository.
    labels: Mutex<Vec<(RepoId, LabelIds)>>,
}

impl std::fmt::Debug for Gitea {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gitea").field("api", &self.api).finish()
    }
}

/// What goes wrong only on Gitea (the rest are the shared [`ForgeError`] kinds).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiteaError {
    /// `E570`: labels to add that the repository does not have (Gitea adds labels by id, and
    /// does not create them).
    #[error("{repo}: Gitea has no label {} in the repository", names.join(", "))]
    UnknownLabels {
        /// The repository.
        repo: RepoId,
        /// The names it lacks, quoted.
        names: Vec<String>,
    },
}

impl Kind for GiteaError {
    fn code(&self) -> Code {
        match self {
            GiteaError::UnknownLabels { .. } => codes::GITEA_UNKNOWN_LABEL,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            GiteaError::UnknownLabels { .. } => Some(
                "create the labels in the repository's settings (Issues > Labels), or leave them \
                 out of `pr.labels`"
                    .into(),
            ),
        }
    }
}

/// The HTTP methods the API is called with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::forge) enum Method {
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

/// A response: status, JSON body (`Null` when empty or not JSON), the next page's URL, and
/// `X-Total-Count`.
pub(in crate::forge) struct Reply {
    pub(in crate::forge) status: u16,
    pub(in crate::forge) body: Value,
    pub(in crate::forge) next: Option<String>,
    pub(in crate::forge) total: Option<usize>,
}

impl Gitea {
    /// A client for the API at `api` (`https://codeberg.org/api/v1`), with the token if any.
    pub fn new(api: &str, token: Option<Secret>) -> Gitea {
        let tls = ureq::tls::TlsConfig::builder()
            .provider(ureq::tls::TlsProvider::NativeTls)
            .build();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .tls_config(tls)
            .build()
            .into();
        Gitea {
            agent,
            api: api.trim_end_matches('/').to_string(),
            token,
            max_wait: Duration::from_secs(120),
            backoff: Duration::from_millis(500),
            labels: Mutex::new(Vec::new()),
        }
    }

    /// The longest `Retry-After` honoured before giving up with `E531` (default 2 min).
    pub fn max_wait(mut self, wait: Duration) -> Gitea {
        self.max_wait = wait;
        self
    }

    /// The first wait before retrying a server error or a network failure (default 500 ms; it
    /// doubles each time).
    pub fn backoff(mut self, backoff: Duration) -> Gitea {
        self.backoff = backoff;
        self
    }

    pub(in crate::forge) fn redact(&self, text: &str) -> String {
        match &self.token {
            Some(t) if !t.expose().is_empty() => text.replace(t.expose(), "***"),
            _ => text.to_string(),
        }
    }

    /// Waits `secs` (a `Retry-After`), or fails with `E531` when that is longer than `max_wait`.
    fn wait_out(&self, secs: u64, why: &str) -> Result<(), Error> {
        let wait = Duration::from_secs(secs);
        if wait > self.max_wait {
            let at = (SystemTime::now() + wait)
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            return Err(ForgeError::RateLimited {
                forge: "Gitea",
                why: why.to_string(),
                wait_secs: secs,
                at,
            }
            .into());
        }
        tracing::warn!("Gitea rate limit: waiting {secs} s ({why})");
        std::thread::sleep(wait);
        Ok(())
    }

    /// Sends one request, waiting out `429`/`Retry-After` and retrying server errors and network
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
            attempt += 1;
            let resp = match self.call(method, url, body) {
                Ok(r) => r,
                Err(e) if attempt < 4 => {
                    tracing::warn!(
                        "Gitea {method} failed ({}), retrying",
                        self.redact(&e.to_string())
                    );
                    std::thread::sleep(backoff);
                    backoff *= 2;
                    continue;
                }
                Err(e) => return Err(self.unreachable(&e)),
            };
            let (reply, retry_after) = read_reply(resp);
            let status = reply.status;
            let limited = status == 429 || (status == 403 && retry_after.is_some());
            if limited && attempt < 4 {
                self.wait_out(retry_after.unwrap_or(1), &format!("{status} on {method}"))?;
                continue;
            }
            if status >= 500 && attempt < 4 {
                std::thread::sleep(backoff);
                backoff *= 2;
                continue;
            }
            return Ok(reply);
        }
    }

    /// Every item of a listing (a JSON array, or the array under `key`: `data` of a search),
    /// following `Link` pages on the same API host; stops early when `X-Total-Count` items are
    /// in, or a page comes back empty.
    pub(in crate::forge) fn get_all(
        &self,
        url: &str,
        key: Option<&str>,
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
            let page = match key {
                Some(k) => reply.body.get(k),
                None => Some(&reply.body),
            };
            let page: Vec<Value> = page.and_then(Value::as_array).cloned().unwrap_or_default();
            let empty = page.is_empty();
            items.extend(page);
            let complete = reply.total.is_some_and(|t| items.len() >= t);
            if empty || complete {
                break;
            }
            url = reply
                .next
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
            Method::Patch => self
                .headers(self.agent.patch(url))
                .header("content-type", "application/json")
                .send(body()),
        }
    }

    fn headers<B>(&self, req: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let req = req.header("accept", "application/json").header(
            "user-agent",
            concat!("codefleet/", env!("CARGO_PKG_VERSION")),
        );
        match &self.token {
            Some(t) => req.header("authorization", format!("token {}", t.expose())),
            None => req,
        }
    }

    /// `E530`: the API cannot be reached, after retries.
    fn unreachable(&self, e: &ureq::Error) -> Error {
        ForgeError::Unreachable {
            forge: "Gitea",
            api: self.api.clone(),
            why: self.redact(&e.to_string()),
            hint: "check the network and the host's entry under `gitea.hosts`",
        }
        .into()
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

    /// A refused request as `E532`, with Gitea's `message` (its `APIError`/`APIValidationError`
    /// body) redacted.
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
            .filter(|m| !m.is_empty())
            .unwrap_or("no message");
        let hint = match reply.status {
            401 => "the token is missing or invalid: set the host's token (see `gitea.hosts`)",
            403 | 404 => {
                "the token needs access to the repository (scopes write:repository, write:issue)"
            }
            423 => "the repository is archived",
            _ => "see Gitea's message above",
        };
        ForgeError::Refused {
            forge: "Gitea",
            repo: repo.clone(),
            status: reply.status,
            what,
            message: self.redact(message),
            hint,
        }
        .into()
    }
}

/// A response's status, JSON body, next page, total count and `Retry-After`.
fn read_reply(mut resp: ureq::http::Response<ureq::Body>) -> (Reply, Option<u64>) {
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.trim().to_string())
    };
    let retry_after = header("retry-after").and_then(|s| s.parse::<u64>().ok());
    let next = header("link").and_then(|l| next_link(&l));
    let total = header("x-total-count").and_then(|s| s.parse::<usize>().ok());
    let status = resp.status().as_u16();
    let text = resp.body_mut().read_to_string().unwrap_or_default();
    let body = serde_json::from_str(&text).unwrap_or(Value::Null);
    (
        Reply {
            status,
            body,
            next,
            total,
        },
        retry_after,
    )
}

impl Forge for Gitea {
    fn kind(&self) -> ForgeKind {
        ForgeKind::Gitea
    }
    fn repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error> {
        self.get_repo(repo)
    }
    fn list_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        self.list_owner_repos(owner)
    }
    fn list_matching(&self, listing: &Listing) -> Result<Vec<RemoteRepo>, Error> {
        self.search_listing(listing)
    }
    fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>, Error> {
        self.search_text(query)
    }
    fn code_search(&self, _: &str) -> Result<Vec<RepoId>, Error> {
        // Gitea's code search is per repository and only with its indexer turned on.
        Err(ForgeError::Unsupported {
            forge: "Gitea",
            what: "code search across repositories",
        }
        .into())
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
        self.update_pull(repo, number, title, body)
    }
    fn close(&self, repo: &RepoId, number: u64, body: Option<&str>) -> Result<(), Error> {
        let mut patch = serde_json::json!({ "state": "closed" });
        if let Some(b) = body {
            patch["body"] = b.into();
        }
        self.edit_pull(repo, number, patch, "closing a pull request")
            .map(|_| ())
    }
    fn reopen(&self, repo: &RepoId, number: u64) -> Result<PullRequest, Error> {
        self.edit_pull(
            repo,
            number,
            serde_json::json!({ "state": "open" }),
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
        self.post_merge(repo, pr, method)
    }
    fn enable_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        self.post_auto_merge(repo, pr, method)
    }
    fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
        Err(ForgeError::Unsupported {
            forge: "Gitea",
            what: "commits through the API (`pr.commit_via: api`)",
        }
        .into())
    }
    fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
        Err(ForgeError::Unsupported {
            forge: "Gitea",
            what: "moving a branch through the API",
        }
        .into())
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

/// `?limit={PAGE}` or `&limit={PAGE}` after `path`.
pub(in crate::forge) fn paged(path: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}limit={PAGE}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn link_headers_pages_and_label_errors() {
        let link = "<http://h/api/v1/repos/a/b/pulls?limit=2&page=2>; rel=\"next\",\
                    <http://h/api/v1/repos/a/b/pulls?limit=2&page=3>; rel=\"last\"";
        assert_eq!(
            next_link(link).as_deref(),
            Some("http://h/api/v1/repos/a/b/pulls?limit=2&page=2")
        );
        assert_eq!(paged("/x?state=all"), "/x?state=all&limit=50");
        assert_eq!(paged("/x"), "/x?limit=50");
        let e = Error::from(GiteaError::UnknownLabels {
            repo: RepoId {
                owner: "acme".into(),
                name: "api".into(),
            },
            names: vec!["`bot`".into()],
        });
        assert_eq!(e.code, "E570");
        assert!(e.one_line().contains("acme/api: Gitea has no label `bot`"));
    }
}
