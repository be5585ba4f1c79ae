//! The transport's errors (codes E400–E449) and how a failed attempt is classified for retry.
//! Every message names the provider and, when it said one, the provider's own error text; none
//! ever carries an API key (see [`scrub`]). What a caller decides on (a spent budget stops the
//! run, an interrupt is not a failure) is a variant of [`LlmError`], never a code compared.

use std::time::Duration;

use crate::error::codes::{self, Code};
use crate::error::{Error, Exit};

/// Why [`Client::complete_within`](super::Client::complete_within) gave no reply.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LlmError {
    /// `model.budget.max_tokens` is spent: no request of the run may be sent any more.
    #[error(
        "budget spent: {used} tokens used of {limit} (model.budget.max_tokens); no request sent to {provider}"
    )]
    TokensSpent {
        /// The provider the refused request was for.
        provider: String,
        /// Tokens used by the run so far.
        used: u64,
        /// The limit.
        limit: u64,
    },
    /// `model.budget.max_requests` is spent.
    #[error(
        "budget spent: {limit} model requests made (model.budget.max_requests); no request sent to {provider}"
    )]
    RequestsSpent {
        /// The provider the refused request was for.
        provider: String,
        /// The limit.
        limit: u64,
    },
    /// `model.budget.max_wall_time` is reached.
    #[error(
        "budget spent: the run's wall time limit ({}) is reached; no request sent to {provider}",
        crate::pipeline::format_duration(*limit)
    )]
    WallTimeSpent {
        /// The provider the refused request was for.
        provider: String,
        /// The limit.
        limit: Duration,
    },
    /// The run was interrupted before the request was sent (or retried).
    #[error("interrupted: no further request sent to {provider}")]
    Interrupted {
        /// The provider.
        provider: String,
    },
    /// The run was interrupted while the request was in flight; it was abandoned.
    #[error("interrupted: the request in flight to {provider} was abandoned")]
    Abandoned {
        /// The provider.
        provider: String,
    },
    /// Any other failure: the provider's, the transport's, the cache's or the settings'. It
    /// fails the request; the run goes on.
    #[error("{}", .0.message)]
    Failed(Error),
}

impl LlmError {
    /// A spent budget: no further request of the run may be sent.
    pub fn stops_the_run(&self) -> bool {
        matches!(
            self,
            LlmError::TokensSpent { .. }
                | LlmError::RequestsSpent { .. }
                | LlmError::WallTimeSpent { .. }
        )
    }

    /// The run was interrupted (Ctrl-C): not a failure of the request.
    pub fn is_interrupt(&self) -> bool {
        matches!(
            self,
            LlmError::Interrupted { .. } | LlmError::Abandoned { .. }
        )
    }
}

impl From<Error> for LlmError {
    fn from(error: Error) -> LlmError {
        LlmError::Failed(error)
    }
}

impl From<LlmError> for Error {
    fn from(e: LlmError) -> Error {
        let message = e.to_string();
        let (code, key) = match e {
            LlmError::Failed(error) => return error,
            LlmError::Interrupted { .. } | LlmError::Abandoned { .. } => {
                return Error::new(INTERRUPTED.id, message).exit(Exit::Interrupted);
            }
            LlmError::TokensSpent { .. } => (BUDGET_TOKENS, "model.budget.max_tokens"),
            LlmError::RequestsSpent { .. } => (BUDGET_REQUESTS, "model.budget.max_requests"),
            LlmError::WallTimeSpent { .. } => (BUDGET_TIME, "model.budget.max_wall_time"),
        };
        failed(code, message).hint(format!("raise {key}; finished tasks keep their results"))
    }
}

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

    /// Classifies the plain [`Error`] a third-party [`Backend::send`](super::Backend::send)
    /// returns, whose code is all it says: the catalogue's rate-limit, server, connection and
    /// timeout entries are transient, everything else is not. (codefleet's own backends say
    /// it themselves through [`Failure::transient`] and [`Failure::fatal`].)
    pub fn classify(error: Error) -> Failure {
        if [RATE_LIMITED, SERVER, CONNECTION, TIMEOUT]
            .into_iter()
            .any(|code| error.has_code(code))
        {
            Failure::transient(error, None)
        } else {
            Failure::fatal(error)
        }
    }
}

// The transport's codes, from the one catalogue (budgets stop every further request of a run).
pub(crate) const MISSING_KEY: Code = codes::MISSING_KEY;
pub(crate) const AUTH: Code = codes::AUTH;
pub(crate) const REJECTED: Code = codes::REJECTED;
pub(crate) const QUOTA: Code = codes::QUOTA;
pub(crate) const RATE_LIMITED: Code = codes::RATE_LIMITED;
pub(crate) const SERVER: Code = codes::SERVER;
pub(crate) const CONNECTION: Code = codes::CONNECTION;
pub(crate) const TIMEOUT: Code = codes::TIMEOUT;
pub(crate) const UNREADABLE: Code = codes::UNREADABLE;
pub(crate) const STREAM_ERROR: Code = codes::STREAM_ERROR;
pub(crate) const CIRCUIT_OPEN: Code = codes::CIRCUIT_OPEN;
pub(crate) const REPLAY_MISS: Code = codes::REPLAY_MISS;
pub(crate) const SETTINGS: Code = codes::MODEL_SETTINGS;
pub(crate) const INTERRUPTED: Code = codes::MODEL_INTERRUPTED;
pub(crate) const PRICES: Code = codes::PRICES;
pub(crate) const BUDGET_TOKENS: Code = codes::BUDGET_TOKENS;
pub(crate) const BUDGET_REQUESTS: Code = codes::BUDGET_REQUESTS;
pub(crate) const BUDGET_TIME: Code = codes::BUDGET_TIME;

/// A run-time failure: the task fails, the rest of the run goes on.
pub(crate) fn failed(code: Code, message: impl Into<String>) -> Error {
    Error::new(code.id, message).exit(Exit::Failed)
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
