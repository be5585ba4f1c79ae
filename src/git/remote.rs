//! Talking to remotes through libgit2: credentials (a token for https, the ssh agent and keys,
//! the user's git credential helper), listing a remote's refs, fetching, and pushing a run
//! branch with a lease on the tip it had when we fetched. No secret ever reaches a message:
//! every text that leaves this module goes through [`Credentials::redact`].

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use crate::error::{Error, Exit};

/// A secret that never prints itself.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret; empty strings are no secret.
    pub fn new(value: impl Into<String>) -> Option<Secret> {
        let value = value.into();
        (!value.trim().is_empty()).then(|| Secret(value.trim().to_string()))
    }

    /// The secret itself, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// How codefleet authenticates to remotes: a token (sent as the password for https), else the
/// ssh agent and the usual key files for ssh, else the user's git credential helper.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    token: Option<Secret>,
}

impl Credentials {
    /// Credentials with an optional https token.
    pub fn new(token: Option<Secret>) -> Credentials {
        Credentials { token }
    }

    /// The token, if any.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// `text` with the token and any password written into a URL replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_userinfo(text);
        if let Some(t) = &self.token {
            out = out.replace(t.expose(), "***");
        }
        out
    }

    /// libgit2 callbacks that answer credential requests. libgit2 asks again after a refusal,
    /// so each kind is offered once and then the operation fails with the server's answer.
    pub(crate) fn callbacks<'a>(&'a self, tries: &'a Cell<u32>) -> git2::RemoteCallbacks<'a> {
        let mut cb = git2::RemoteCallbacks::new();
        cb.credentials(move |url, user_from_url, allowed| {
            let attempt = tries.get();
            tries.set(attempt + 1);
            if attempt > 6 {
                return Err(git2::Error::from_str("authentication failed"));
            }
            if allowed.contains(git2::CredentialType::USERNAME) {
                return git2::Cred::username(user_from_url.unwrap_or("git"));
            }
            if allowed.contains(git2::CredentialType::SSH_KEY) {
                let user = user_from_url.unwrap_or("git");
                if attempt == 0
                    && let Ok(c) = git2::Cred::ssh_key_from_agent(user)
                {
                    return Ok(c);
                }
                if let Some(home) = std::env::var_os("HOME") {
                    let ssh = Path::new(&home).join(".ssh");
                    let keys = ["id_ed25519", "id_ecdsa", "id_rsa"];
                    // attempt 0 was the agent; 1.. walk the key files that exist.
                    let existing: Vec<_> = keys
                        .iter()
                        .map(|k| ssh.join(k))
                        .filter(|p| p.is_file())
                        .collect();
                    if let Some(key) = existing.get((attempt as usize).saturating_sub(1)) {
                        return git2::Cred::ssh_key(user, None, key, None);
                    }
                }
                return Err(git2::Error::from_str(
                    "no ssh key was accepted (tried the ssh agent and ~/.ssh/id_*)",
                ));
            }
            if allowed.contains(git2::CredentialType::USER_PASS_PLAINTEXT) {
                if attempt == 0
                    && let Some(token) = &self.token
                {
                    return git2::Cred::userpass_plaintext("x-access-token", token.expose());
                }
                if attempt <= 1
                    && let Ok(config) = git2::Config::open_default()
                    && let Ok(c) = git2::Cred::credential_helper(&config, url, user_from_url)
                {
                    return Ok(c);
                }
                return Err(git2::Error::from_str(
                    "the server refused the credentials (set GITHUB_TOKEN or GH_TOKEN, or \
                     configure a git credential helper)",
                ));
            }
            if allowed.contains(git2::CredentialType::DEFAULT) {
                return git2::Cred::default();
            }
            Err(git2::Error::from_str("no usable credential type"))
        });
        cb
    }
}

/// Replaces `user:password@` in URLs within `text` by `***@`.
pub fn redact_userinfo(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '`' | '\'' | '"'))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str("***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// One ref a remote advertises.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteRef {
    /// Full name (`refs/heads/main`).
    pub name: String,
    /// Its commit.
    pub id: git2::Oid,
}

/// What a remote advertises: its refs and the branch its HEAD points at.
#[derive(Debug, Clone, Default)]
pub struct Advertised {
    /// Refs, without `HEAD` and peeled tags.
    pub refs: Vec<RemoteRef>,
    /// `refs/heads/…` HEAD points at, when the server says.
    pub head: Option<String>,
}

impl Advertised {
    /// The id of `name` (a full ref name).
    pub fn get(&self, name: &str) -> Option<git2::Oid> {
        self.refs.iter().find(|r| r.name == name).map(|r| r.id)
    }
}

/// Whether a libgit2 error is worth retrying (network trouble rather than a refusal).
pub(crate) fn transient(e: &git2::Error) -> bool {
    use git2::ErrorClass as C;
    let refused = e.code() == git2::ErrorCode::Auth
        || e.code() == git2::ErrorCode::Certificate
        || e.code() == git2::ErrorCode::NotFound
        || e.message().contains("404")
        || e.message().contains("401")
        || e.message().contains("403")
        || e.message().contains("authentication");
    !refused && matches!(e.class(), C::Net | C::Http | C::Ssh | C::Os | C::Ssl)
}

/// Lists `url`'s refs (`git ls-remote`).
pub fn ls_remote(url: &str, creds: &Credentials) -> Result<Advertised, Error> {
    let tries = Cell::new(0);
    let mut remote = git2::Remote::create_detached(url)
        .map_err(|e| unreachable_remote(url, creds, e.message()))?;
    let conn = remote
        .connect_auth(git2::Direction::Fetch, Some(creds.callbacks(&tries)), None)
        .map_err(|e| unreachable_remote(url, creds, e.message()))?;
    let mut out = Advertised {
        head: conn
            .default_branch()
            .ok()
            .and_then(|b| b.as_str().ok().map(str::to_string)),
        ..Advertised::default()
    };
    let heads = conn
        .list()
        .map_err(|e| unreachable_remote(url, creds, e.message()))?;
    for h in heads {
        let name = h.name();
        if name == "HEAD" || name.ends_with("^{}") {
            continue;
        }
        out.refs.push(RemoteRef {
            name: name.to_string(),
            id: h.oid(),
        });
    }
    Ok(out)
}

/// Fetches `refspecs` from the repository's `origin` (shallow when `depth > 0`), retrying
/// network failures.
pub fn fetch(
    repo: &git2::Repository,
    url: &str,
    refspecs: &[String],
    depth: u32,
    creds: &Credentials,
) -> Result<(), Error> {
    retrying(url, creds, "fetch", || {
        let tries = Cell::new(0);
        let mut remote = repo.find_remote("origin")?;
        let mut opts = git2::FetchOptions::new();
        opts.remote_callbacks(creds.callbacks(&tries));
        opts.download_tags(git2::AutotagOption::None);
        if depth > 0 && !is_local(url) {
            opts.depth(i32::try_from(depth).unwrap_or(i32::MAX));
        }
        remote.fetch(refspecs, Some(&mut opts), None)
    })
}

/// libgit2's local transport cannot fetch shallow: `file://` and plain paths fetch in full
/// (cheap, they share the disk).
fn is_local(url: &str) -> bool {
    url.starts_with("file://") || url.starts_with('/') || url.starts_with('.')
}

/// How a push ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points at the new tip.
    Updated,
    /// The remote already had it.
    UpToDate,
}

/// Pushes `local` (a full ref in `repo`) to `remote_ref` on `url`, only if the remote ref is
/// still `expected` (`None`: absent): a branch someone moved since we fetched is never
/// overwritten (`E520`). The check happens inside the push, on the refs the server advertised
/// for that very connection, and the server itself refuses if the ref moves during the push.
pub fn push_with_lease(
    repo: &git2::Repository,
    url: &str,
    local: &str,
    remote_ref: &str,
    expected: Option<git2::Oid>,
    creds: &Credentials,
) -> Result<Pushed, Error> {
    let new = repo.refname_to_id(local).map_err(|e| {
        Error::new(
            "E204",
            format!("git failed to read `{local}`: {}", e.message()),
        )
    })?;
    let moved: Cell<Option<git2::Oid>> = Cell::new(None);
    let rejected: std::cell::RefCell<Option<String>> = std::cell::RefCell::new(None);
    let up_to_date = Cell::new(false);
    let result = retrying(url, creds, "push", || {
        let tries = Cell::new(0);
        let mut cb = creds.callbacks(&tries);
        cb.push_negotiation(|updates| {
            for u in updates {
                if u.dst_refname().ok() != Some(remote_ref) {
                    continue;
                }
                let current = (!u.src().is_zero()).then(|| u.src());
                if current == Some(new) {
                    up_to_date.set(true);
                }
                if current != expected && current != Some(new) {
                    moved.set(Some(u.src()));
                    return Err(git2::Error::from_str(
                        "lease refused: the remote branch moved",
                    ));
                }
            }
            Ok(())
        });
        cb.push_update_reference(|name, status| {
            if let Some(s) = status
                && name == remote_ref
            {
                *rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(cb);
        let mut remote = repo.remote_anonymous(url)?;
        let spec = format!("+{local}:{remote_ref}");
        let out = remote.push(&[spec.as_str()], Some(&mut opts));
        if moved.get().is_some() {
            // Not a network failure: do not retry.
            return Ok(());
        }
        out
    });
    if let Some(now) = moved.get() {
        return Err(lease_refused(url, creds, remote_ref, expected, now));
    }
    result?;
    if let Some(why) = rejected.into_inner() {
        return Err(Error::new(
            "E521",
            format!(
                "`{}` refused the push of `{remote_ref}`: {}",
                creds.redact(url),
                creds.redact(&why)
            ),
        )
        .hint("the server's rules (protected branch, hooks, an archived repository) refused it")
        .exit(Exit::Failed));
    }
    Ok(if up_to_date.get() {
        Pushed::UpToDate
    } else {
        Pushed::Updated
    })
}

/// Runs a network operation, retrying transient failures with backoff (0.5 s, 1 s, 2 s).
fn retrying(
    url: &str,
    creds: &Credentials,
    what: &str,
    mut op: impl FnMut() -> Result<(), git2::Error>,
) -> Result<(), Error> {
    let mut wait = Duration::from_millis(500);
    let mut attempt = 0;
    loop {
        match op() {
            Ok(()) => return Ok(()),
            Err(e) if attempt < 3 && transient(&e) => {
                tracing::warn!(
                    url = %creds.redact(url),
                    error = %creds.redact(e.message()),
                    "{what} failed, retrying in {wait:?}"
                );
                std::thread::sleep(wait);
                wait *= 2;
                attempt += 1;
            }
            Err(e) => {
                let code = if what == "push" { "E522" } else { "E502" };
                return Err(Error::new(
                    code,
                    format!(
                        "cannot {what} `{}`: {}",
                        creds.redact(url),
                        creds.redact(e.message())
                    ),
                )
                .hint(auth_hint(url))
                .exit(Exit::Failed));
            }
        }
    }
}

fn auth_hint(url: &str) -> &'static str {
    if url.starts_with("http") {
        "check the URL and that GITHUB_TOKEN or GH_TOKEN (or a git credential helper) grants access"
    } else if url.starts_with("ssh") || url.contains('@') {
        "check the URL and that the ssh agent or ~/.ssh holds a key the server accepts"
    } else {
        "check that the URL names a git repository"
    }
}

/// `E501`: the remote cannot be reached or listed.
fn unreachable_remote(url: &str, creds: &Credentials, why: &str) -> Error {
    Error::new(
        "E501",
        format!(
            "cannot reach `{}`: {}",
            creds.redact(url),
            creds.redact(why)
        ),
    )
    .hint(auth_hint(url))
    .exit(Exit::Failed)
}

/// `E520`: the remote branch is not where we left it.
fn lease_refused(
    url: &str,
    creds: &Credentials,
    remote_ref: &str,
    expected: Option<git2::Oid>,
    now: git2::Oid,
) -> Error {
    let short = |o: git2::Oid| o.to_string()[..12].to_string();
    let expected = expected.map_or_else(|| "absent".to_string(), short);
    Error::new(
        "E520",
        format!(
            "not pushed: `{remote_ref}` on `{}` moved (expected {expected}, found {})",
            creds.redact(url),
            if now.is_zero() {
                "the branch deleted".to_string()
            } else {
                short(now)
            }
        ),
    )
    .hint("someone else updated the branch; re-run to rebuild it from there, or `--force`")
    .exit(Exit::Failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_tokens_and_url_passwords() {
        let creds = Credentials::new(Secret::new("ghp_abc123"));
        let text =
            "failed https://user:ghp_abc123@host/x.git and token ghp_abc123 in `https://a@b/c`";
        let out = creds.redact(text);
        assert!(!out.contains("ghp_abc123"), "{out}");
        assert!(out.contains("https://***@host/x.git"), "{out}");
        assert!(out.contains("https://***@b/c"), "{out}");
        assert_eq!(redact_userinfo("file:///tmp/x"), "file:///tmp/x");
        assert_eq!(
            format!("{:?}", creds),
            "Credentials { token: Some(Secret(***)) }"
        );
        assert!(Secret::new("  ").is_none());
    }
}
