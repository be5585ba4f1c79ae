//! Talking to remotes through libgit2: credentials (a token for https, the ssh agent and keys,
//! the user's git credential helper), listing a remote's refs, fetching, and pushing a run
//! branch with a lease on the tip it had when we fetched. No secret ever reaches a message:
//! every text that leaves this module goes through [`Credentials::redact`].

use std::cell::{Cell, RefCell};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::{Code, Error, Exit, Kind, codes};

use super::errors::RemoteError;

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
/// ssh agent and the usual key files for ssh, else the user's git credential helper. Each host
/// a forge is configured for has its own token and user name ([`Credentials::with_host`]); the
/// default token goes only to hosts not listed, so no forge's token reaches another's host.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    token: Option<Secret>,
    hosts: Vec<HostToken>,
}

/// The https credentials of one host: the user name its forge expects with a token, and the
/// token (none: the credential helper answers, never another host's token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostToken {
    /// The host, with its port when it has one (`gitlab.corp:8443`), lower-cased.
    pub host: String,
    /// The user name sent with the token (`x-access-token`, `oauth2`, `gitlab-ci-token`).
    pub user: String,
    /// The token.
    pub token: Option<Secret>,
}

impl Credentials {
    /// Credentials with an optional https token for every host not listed with its own.
    pub fn new(token: Option<Secret>) -> Credentials {
        Credentials {
            token,
            hosts: Vec::new(),
        }
    }

    /// `host` (as [`host_of`] names it) authenticates as `user` with `token` instead; a later
    /// entry for the same host replaces the earlier.
    pub fn with_host(mut self, host: &str, user: &str, token: Option<Secret>) -> Credentials {
        let host = host.to_ascii_lowercase();
        self.hosts.retain(|h| h.host != host);
        self.hosts.push(HostToken {
            host,
            user: user.to_string(),
            token,
        });
        self
    }

    /// The default token (for hosts not listed), if any.
    pub fn token(&self) -> Option<&Secret> {
        self.token.as_ref()
    }

    /// The user name and token sent to `url`'s host over https: its own when listed (maybe
    /// none), else the default token as `x-access-token`.
    pub fn for_url(&self, url: &str) -> Option<(&str, &Secret)> {
        let host = host_of(url);
        match self.hosts.iter().find(|h| Some(&h.host) == host.as_ref()) {
            Some(h) => h.token.as_ref().map(|t| (h.user.as_str(), t)),
            None => self.token.as_ref().map(|t| ("x-access-token", t)),
        }
    }

    /// `text` with every token and any password written into a URL replaced by `***`.
    pub fn redact(&self, text: &str) -> String {
        let mut out = redact_userinfo(text);
        let tokens = self.hosts.iter().filter_map(|h| h.token.as_ref());
        for t in self.token.iter().chain(tokens) {
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
                    && let Some((user, token)) = self.for_url(url)
                {
                    return git2::Cred::userpass_plaintext(user, token.expose());
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

/// The host of a remote URL, with its port when it names one, lower-cased:
/// `https://user@gitlab.com:8443/g/p.git` → `gitlab.com:8443`, `git@host:g/p.git` → `host`,
/// `ssh://git@host:2222/g/p` → `host:2222`; `None` for a local path or `file://` URL.
pub fn host_of(url: &str) -> Option<String> {
    let authority = match url.split_once("://") {
        Some((scheme, rest)) => {
            if scheme.eq_ignore_ascii_case("file") {
                return None;
            }
            let authority = rest.split('/').next()?;
            // An ssh URL's port is part of the host's identity too; keep it.
            authority.rsplit('@').next()?.to_string()
        }
        None => {
            // scp-like `user@host:path`; a path with no `:` before any `/` is local.
            let (before, _) = url.split_once(':')?;
            if before.contains('/') || before.is_empty() {
                return None;
            }
            before.rsplit('@').next()?.to_string()
        }
    };
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
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
/// network failures; abandoned (and not retried) as soon as `cancel` is set.
pub fn fetch(
    repo: &git2::Repository,
    url: &str,
    refspecs: &[String],
    depth: u32,
    creds: &Credentials,
    cancel: &AtomicBool,
) -> Result<(), Error> {
    retrying(url, creds, "fetch", || {
        let tries = Cell::new(0);
        let mut remote = repo.find_remote("origin")?;
        let mut opts = git2::FetchOptions::new();
        let mut callbacks = creds.callbacks(&tries);
        callbacks.transfer_progress(|_| !cancel.load(Ordering::SeqCst));
        opts.remote_callbacks(callbacks);
        opts.download_tags(git2::AutotagOption::None);
        if depth > 0 && !is_local(url) {
            opts.depth(i32::try_from(depth).unwrap_or(i32::MAX));
        }
        remote.fetch(refspecs, Some(&mut opts), None)
    })
    .map_err(|e| {
        RemoteError::Fetch {
            url: creds.redact(url).to_string(),
            why: creds.redact(e.message()).to_string(),
            auth: auth_hint(url),
        }
        .into()
    })
}

/// libgit2's local transport cannot fetch shallow: `file://` and plain paths fetch in full
/// (cheap, they share the disk).
fn is_local(url: &str) -> bool {
    url.starts_with("file://") || url.starts_with('/') || url.starts_with('.')
}

/// How a push ended, with the tip pushed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pushed {
    /// The remote branch now points at the new tip.
    Updated(git2::Oid),
    /// The remote already had it.
    UpToDate(git2::Oid),
}

impl Pushed {
    /// The tip the remote branch now holds.
    pub fn tip(self) -> git2::Oid {
        match self {
            Pushed::Updated(tip) | Pushed::UpToDate(tip) => tip,
        }
    }
}

/// Why a push did not happen. Callers match on the kind (a lease refusal is reported as
/// refused, anything else as failed); `Error::from` gives the user its code, message and hint.
/// URLs and server texts are redacted when the error is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// `E204`: the local ref to push cannot be read.
    #[error("git failed to read `{local}`: {why}")]
    Unreadable {
        /// The full local ref.
        local: String,
        /// libgit2's message.
        why: String,
    },
    /// `E520`: the remote branch is not where the lease expected it.
    #[error(
        "not pushed: `{remote_ref}` on `{url}` moved (expected {}, found {})",
        tip_or(*.expected, "absent"),
        tip_or(*.found, "the branch deleted")
    )]
    Moved {
        /// The remote, redacted.
        url: String,
        /// The full remote ref.
        remote_ref: String,
        /// What the lease expected (`None`: absent).
        expected: Option<git2::Oid>,
        /// What the remote holds (`None`: the branch was deleted).
        found: Option<git2::Oid>,
    },
    /// `E521`: the server refused the update (protected branch, hooks, …).
    #[error("`{url}` refused the push of `{remote_ref}`: {why}")]
    Rejected {
        /// The remote, redacted.
        url: String,
        /// The full remote ref.
        remote_ref: String,
        /// The server's reason, redacted.
        why: String,
    },
    /// `E522`: the push failed on the way (network, authentication), after retries.
    #[error("cannot push `{url}`: {why}")]
    Unreachable {
        /// The remote, redacted; the hint depends on its scheme.
        url: String,
        /// libgit2's message, redacted.
        why: String,
    },
}

impl Kind for PushError {
    fn code(&self) -> Code {
        match self {
            PushError::Unreadable { .. } => codes::GIT,
            PushError::Moved { .. } => codes::LEASE_REFUSED,
            PushError::Rejected { .. } => codes::PUSH_REJECTED,
            PushError::Unreachable { .. } => codes::PUSH_FAILED,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            PushError::Unreadable { .. } => return None,
            PushError::Moved { .. } => {
                "someone else updated the branch; re-run to rebuild it from there, or `--force`"
            }
            PushError::Rejected { .. } => {
                "the server's rules (protected branch, hooks, an archived repository) refused it"
            }
            PushError::Unreachable { url, .. } => auth_hint(url),
        };
        Some(hint.to_string())
    }

    /// An unreadable local ref has always ended a push with the usage exit, unlike `E204`
    /// elsewhere; kept so the exit code does not change.
    fn exit(&self) -> Exit {
        match self {
            PushError::Unreadable { .. } => Exit::Usage,
            _ => self.code().exit,
        }
    }
}

/// A lease's tip as messages show it: 12 hex digits, or what its absence means.
fn tip_or(tip: Option<git2::Oid>, absent: &str) -> String {
    tip.map_or_else(|| absent.to_string(), |o| o.to_string()[..12].to_string())
}

/// Pushes `local` (a full ref in `repo`) to `remote_ref` on `url`, only if the remote ref is
/// still `expected` (`None`: absent): a branch someone moved since we fetched is never
/// overwritten ([`PushError::Moved`]). The check happens inside the push, on the refs the
/// server advertised for that very connection, and the server itself refuses if the ref moves
/// during the push.
pub fn push_with_lease(
    repo: &git2::Repository,
    url: &str,
    local: &str,
    remote_ref: &str,
    expected: Option<git2::Oid>,
    creds: &Credentials,
) -> Result<Pushed, PushError> {
    let new = repo
        .refname_to_id(local)
        .map_err(|e| PushError::Unreadable {
            local: local.to_string(),
            why: e.message().to_string(),
        })?;
    let lease = Lease {
        remote_ref,
        expected,
        new,
        moved: Cell::new(None),
        rejected: RefCell::new(None),
        up_to_date: Cell::new(false),
    };
    let result = retrying(url, creds, "push", || {
        let tries = Cell::new(0);
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(lease.callbacks(creds.callbacks(&tries)));
        let mut remote = repo.remote_anonymous(url)?;
        let spec = format!("+{local}:{remote_ref}");
        let out = remote.push(&[spec.as_str()], Some(&mut opts));
        if lease.moved.get().is_some() {
            // Not a network failure: do not retry.
            return Ok(());
        }
        out
    });
    if let Some(now) = lease.moved.get() {
        return Err(PushError::Moved {
            url: creds.redact(url),
            remote_ref: remote_ref.to_string(),
            expected,
            found: (!now.is_zero()).then_some(now),
        });
    }
    result.map_err(|e| PushError::Unreachable {
        url: creds.redact(url),
        why: creds.redact(e.message()),
    })?;
    if let Some(why) = lease.rejected.into_inner() {
        return Err(PushError::Rejected {
            url: creds.redact(url),
            remote_ref: remote_ref.to_string(),
            why: creds.redact(&why),
        });
    }
    Ok(if lease.up_to_date.get() {
        Pushed::UpToDate(new)
    } else {
        Pushed::Updated(new)
    })
}

/// One push's lease and what the server said about it, filled in by libgit2's callbacks.
struct Lease<'a> {
    remote_ref: &'a str,
    expected: Option<git2::Oid>,
    new: git2::Oid,
    /// The remote's tip when it was not the expected one (zero: deleted).
    moved: Cell<Option<git2::Oid>>,
    /// The server's reason for refusing the update.
    rejected: RefCell<Option<String>>,
    up_to_date: Cell<bool>,
}

impl<'a> Lease<'a> {
    /// `cb` plus the lease check on the advertised refs and the server's per-ref answer.
    fn callbacks<'c>(&'c self, mut cb: git2::RemoteCallbacks<'c>) -> git2::RemoteCallbacks<'c> {
        cb.push_negotiation(|updates| {
            for u in updates {
                if u.dst_refname().ok() != Some(self.remote_ref) {
                    continue;
                }
                let current = (!u.src().is_zero()).then(|| u.src());
                if current == Some(self.new) {
                    self.up_to_date.set(true);
                }
                if current != self.expected && current != Some(self.new) {
                    self.moved.set(Some(u.src()));
                    return Err(git2::Error::from_str(
                        "lease refused: the remote branch moved",
                    ));
                }
            }
            Ok(())
        });
        cb.push_update_reference(|name, status| {
            if let Some(s) = status
                && name == self.remote_ref
            {
                *self.rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        cb
    }
}

/// Runs a network operation, retrying transient failures with backoff (0.5 s, 1 s, 2 s);
/// returns the last failure.
pub(super) fn retrying(
    url: &str,
    creds: &Credentials,
    what: &str,
    mut op: impl FnMut() -> Result<(), git2::Error>,
) -> Result<(), git2::Error> {
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
            Err(e) => return Err(e),
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
    RemoteError::Unreachable {
        url: creds.redact(url).to_string(),
        why: creds.redact(why).to_string(),
        auth: auth_hint(url),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn push_errors_keep_their_codes_messages_and_hints() {
        let found = git2::Oid::from_str("0123456789abcdef0123456789abcdef01234567").unwrap();
        let moved = |found| PushError::Moved {
            url: "https://***@host/x.git".into(),
            remote_ref: "refs/heads/codefleet/a".into(),
            expected: None,
            found,
        };
        let e = Error::from(moved(Some(found)));
        assert!(matches!(
            e.kind::<PushError>(),
            Some(PushError::Moved { .. })
        ));
        assert_eq!(e.code, "E520");
        assert_eq!(
            e.message,
            "not pushed: `refs/heads/codefleet/a` on `https://***@host/x.git` moved \
             (expected absent, found 0123456789ab)"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("someone else updated the branch; re-run to rebuild it from there, or `--force`")
        );
        assert_eq!(e.exit, Exit::Failed);
        assert!(
            Error::from(moved(None))
                .message
                .ends_with("found the branch deleted)")
        );
        let e = Error::from(PushError::Unreachable {
            url: "https://host/x.git".into(),
            why: "timed out".into(),
        });
        assert_eq!(
            (e.code, e.message.as_str()),
            ("E522", "cannot push `https://host/x.git`: timed out")
        );
        assert!(e.hint.unwrap().contains("GITHUB_TOKEN"));
        let e = Error::from(PushError::Unreadable {
            local: "refs/heads/x".into(),
            why: "not found".into(),
        });
        assert_eq!((e.code, e.exit, e.hint), ("E204", Exit::Usage, None));
    }

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
            "Credentials { token: Some(Secret(***)), hosts: [] }"
        );
        assert!(Secret::new("  ").is_none());
    }

    #[test]
    fn each_host_gets_its_own_token_and_no_other() {
        let creds = Credentials::new(Secret::new("ghp_default"))
            .with_host("GitLab.Corp:8443", "oauth2", Secret::new("glpat_x"))
            .with_host("gitea.corp", "codefleet", None);
        let sent = |url: &str| creds.for_url(url).map(|(u, t)| (u, t.expose()));
        assert_eq!(
            sent("https://gitlab.corp:8443/g/sub/p.git"),
            Some(("oauth2", "glpat_x"))
        );
        assert_eq!(sent("https://gitea.corp/o/r.git"), None);
        assert_eq!(
            sent("https://github.com/o/r.git"),
            Some(("x-access-token", "ghp_default"))
        );
        let out = creds.redact("glpat_x and ghp_default");
        assert_eq!(out, "*** and ***");
    }

    #[test]
    fn the_host_comes_from_every_url_form() {
        let h = |u: &str| host_of(u);
        assert_eq!(
            h("https://gitlab.com/g/sub/p.git").as_deref(),
            Some("gitlab.com")
        );
        assert_eq!(
            h("https://oauth2:x@GitLab.Corp:8443/g/p").as_deref(),
            Some("gitlab.corp:8443")
        );
        assert_eq!(
            h("git@github.com:acme/x.git").as_deref(),
            Some("github.com")
        );
        assert_eq!(h("ssh://git@host:2222/g/p").as_deref(), Some("host:2222"));
        assert_eq!(
            h("http://127.0.0.1:3000/o/r.git").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(h("file:///srv/git/acme/x.git"), None);
        assert_eq!(h("/srv/git/x"), None);
        assert_eq!(h("./a:b/c"), None);
    }
}
