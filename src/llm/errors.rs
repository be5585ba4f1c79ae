//! The transport's errors (codes E400–E449) and how a failed attempt is classified for retry.
//! Every message names the provider and, when it said one, the provider's own error text; none
//! ever carries an API key (see [`scrub`]).

use std::time::Duration;

use crate::error::{Error, Exit};

/// Whether a failed attempt is worth repeating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Repeating it would fail the same way (bad key, bad request, exhausted quota, budget).
    Never,
    /// A transient failure; the provider may have said how long to wait.
    After(Option<Duration>),
}

/// One failed attempt: the error a user would read, and whether to try again.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// What went wrong.
    pub error: Error,
    /// Whether to retry.
    pub retry: Retry,
}

impl Failure {
    /// A failure not worth repeating.
    pub fn fatal(error: Error) -> Failure {
        Failure {
            error,
            retry: Retry::Never,
        }
    }

    /// A transient failure, retried after `after` when the provider said so.
    pub fn transient(error: Error, after: Option<Duration>) -> Failure {
        Failure {
            error,
            retry: Retry::After(after),
        }
    }

    /// Classifies an error by its code: rate limits, server errors, dropped connections and
    /// timeouts are transient, everything else is not.
    pub fn classify(error: Error) -> Failure {
        match error.code {
            RATE_LIMITED | SERVER | CONNECTION | TIMEOUT => Failure::transient(error, None),
            _ => Failure::fatal(error),
        }
    }
}

pub(crate) const MISSING_KEY: &str = "E400";
pub(crate) const AUTH: &str = "E401";
pub(crate) const REJECTED: &str = "E402";
pub(crate) const QUOTA: &str = "E403";
pub(crate) const RATE_LIMITED: &str = "E404";
pub(crate) const SERVER: &str = "E405";
pub(crate) const CONNECTION: &str = "E406";
pub(crate) const TIMEOUT: &str = "E407";
pub(crate) const UNREADABLE: &str = "E408";
pub(crate) const STREAM_ERROR: &str = "E409";
pub(crate) const CIRCUIT_OPEN: &str = "E410";
pub(crate) const REPLAY_MISS: &str = "E411";
pub(crate) const SETTINGS: &str = "E412";
pub(crate) const INTERRUPTED: &str = "E413";
pub(crate) const PRICES: &str = "E414";
/// Budgets: the codes that stop every further request of a run.
pub(crate) const BUDGET_TOKENS: &str = "E440";
pub(crate) const BUDGET_REQUESTS: &str = "E441";
pub(crate) const BUDGET_TIME: &str = "E442";

/// A run-time failure: the task fails, the rest of the run goes on.
pub(crate) fn failed(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(code, message).exit(Exit::Failed)
}

/// Replaces every occurrence of `secret` in `text`, so a provider that echoes the key back in
/// an error body cannot leak it into a message.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(s) if s.len() >= 4 && text.contains(s) => text.replace(s, "[redacted]"),
        _ => text.to_string(),
    }
}

/// An HTTP error status, classified. `detail` is the provider's own error text, already
/// scrubbed; `quota` says the provider called it an exhausted quota or billing problem.
pub(crate) fn status_failure(
    provider: &str,
    status: u16,
    detail: &str,
    quota: bool,
    after: Option<Duration>,
) -> Failure {
    let said = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    match status {
        401 | 403 => Failure::fatal(
            failed(
                AUTH,
                format!("{provider} refused the credentials (HTTP {status}){said}"),
            )
            .hint("check the API key variable (model.api_key_env) and that the key is valid"),
        ),
        402 => Failure::fatal(
            failed(
                QUOTA,
                format!("{provider} says the quota or credit is exhausted (HTTP {status}){said}"),
            )
            .hint("check the account's billing and usage limits"),
        ),
        429 if quota => Failure::fatal(
            failed(
                QUOTA,
                format!("{provider} says the quota is exhausted (HTTP {status}){said}"),
            )
            .hint("check the account's billing and usage limits; retrying will not help"),
        ),
        429 => Failure::transient(
            failed(
                RATE_LIMITED,
                format!("{provider} rate limit reached (HTTP {status}){said}"),
            )
            .hint("lower model.concurrency, or wait and run again"),
            after,
        ),
        408 => Failure::transient(
            failed(
                TIMEOUT,
                format!("{provider} timed out the request (HTTP {status}){said}"),
            ),
            after,
        ),
        404 => Failure::fatal(
            failed(REJECTED, format!("{provider} answered HTTP 404{said}"))
                .hint("check model.name and model.base_url (the API root, with or without /v1)"),
        ),
        500..=599 => Failure::transient(
            failed(
                SERVER,
                format!("{provider} server error (HTTP {status}){said}"),
            )
            .hint("the provider is failing or overloaded; try again later"),
            after,
        ),
        _ => Failure::fatal(
            failed(
                REJECTED,
                format!("{provider} rejected the request (HTTP {status}){said}"),
            )
            .hint("the provider's message says what it did not accept"),
        ),
    }
}

/// A reply that is not the wire format the provider should speak.
pub(crate) fn unreadable(provider: &str, what: impl std::fmt::Display) -> Failure {
    Failure::fatal(
        failed(
            UNREADABLE,
            format!("{provider} sent a reply codefleet cannot read: {what}"),
        )
        .hint("check that model.provider matches the server at model.base_url"),
    )
}

/// The connection failed or closed before the reply ended.
pub(crate) fn connection(provider: &str, what: impl std::fmt::Display) -> Failure {
    Failure::transient(
        failed(
            CONNECTION,
            format!("connection to {provider} failed: {what}"),
        )
        .hint("check model.base_url and the network"),
        None,
    )
}

/// An error the provider reported inside a streamed reply. Overload and server errors are
/// transient; anything else is final.
pub(crate) fn stream_error(provider: &str, kind: &str, message: &str) -> Failure {
    let error = failed(
        STREAM_ERROR,
        format!(
            "{provider} reported an error mid-reply: {}",
            if kind.is_empty() {
                message.to_string()
            } else {
                format!("{message} ({kind})")
            }
        ),
    );
    let transient = ["overloaded", "server", "api_error", "rate_limit", "timeout"]
        .iter()
        .any(|k| kind.contains(k));
    if transient {
        Failure::transient(error, None)
    } else {
        Failure::fatal(error)
    }
}
