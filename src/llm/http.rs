//! The HTTP side every provider shares: one ureq agent per backend (connections are pooled and
//! reused), JSON posts, error statuses turned into classified failures with the provider's own
//! message, and the wait the provider asks for (`retry-after`, `retry-after-ms`, OpenAI's
//! `x-ratelimit-reset-*`).

use std::io::{self, BufReader, Read};
use std::time::Duration;

use serde_json::Value;
use ureq::http::{HeaderMap, Response};

use super::errors::{self, Failure, failed, scrub};
use super::{Backend, Reply, Request};
use crate::error::Error;

/// Error bodies are read up to this size; the rest says nothing more useful.
const ERROR_BODY_LIMIT: u64 = 64 * 1024;

/// Idle connections kept for reuse.
const IDLE_CONNECTIONS: usize = 64;

/// Whole (non-streamed) replies are read up to this size.
const REPLY_LIMIT: u64 = 64 * 1024 * 1024;

/// A provider's wire format over its [`Endpoint`]: all that differs between the providers.
/// Every `Wire` is a [`Backend`] named after its endpoint's provider.
pub(crate) trait Wire: Send + Sync {
    /// Where requests go.
    fn endpoint(&self) -> &Endpoint;
    /// Sends `request` once and reads the reply, streamed or whole.
    fn exchange(&self, request: &Request) -> Result<Reply, Failure>;
}

impl<T: Wire> Backend for T {
    fn provider(&self) -> &str {
        self.endpoint().provider
    }

    fn base_url(&self) -> &str {
        &self.endpoint().root
    }

    fn send(&self, request: &Request) -> Result<Reply, Error> {
        self.exchange(request).map_err(|f| f.error)
    }

    fn attempt(&self, request: &Request) -> Result<Reply, Failure> {
        self.exchange(request)
    }
}

/// One provider endpoint: agent, URL, headers, and the key to keep out of messages.
pub(crate) struct Endpoint {
    pub provider: &'static str,
    pub root: String,
    pub url: String,
    agent: ureq::Agent,
    headers: Vec<(&'static str, String)>,
    secret: Option<String>,
}

impl Endpoint {
    /// `headers` may carry the key (it is sent, never shown); `secret` is scrubbed from every
    /// message.
    pub(crate) fn new(
        provider: &'static str,
        root: String,
        path: &str,
        timeout: Duration,
        headers: Vec<(&'static str, String)>,
        secret: Option<String>,
    ) -> Endpoint {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            // Every request goes to one host, up to model.concurrency at once: keep that many
            // connections warm instead of ureq's 3 (each new one costs a TLS handshake).
            .max_idle_connections(IDLE_CONNECTIONS)
            .max_idle_connections_per_host(IDLE_CONNECTIONS)
            .user_agent(concat!("codefleet/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let url = format!("{root}{path}");
        Endpoint {
            provider,
            root,
            url,
            agent,
            headers,
            secret,
        }
    }

    /// Posts `body` as JSON. A success status returns the response for the caller to read; an
    /// error status is read and classified here.
    pub(crate) fn post(&self, body: &Value) -> Result<Response<ureq::Body>, Failure> {
        let bytes = serde_json::to_vec(body).map_err(|e| errors::unreadable(self.provider, e))?;
        let mut request = self
            .agent
            .post(&self.url)
            .header("content-type", "application/json");
        for (name, value) in &self.headers {
            request = request.header(*name, value);
        }
        tracing::debug!(provider = self.provider, url = %self.url, bytes = bytes.len(), "model request");
        let response = request.send(&bytes[..]).map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        if status < 400 {
            return Ok(response);
        }
        let after = wait_asked(response.headers(), status);
        let mut body = response.into_body();
        let text = body
            .with_config()
            .limit(ERROR_BODY_LIMIT)
            .read_to_string()
            .unwrap_or_default();
        let (detail, quota) = provider_error(&text);
        let detail = scrub(&detail, self.secret.as_deref());
        tracing::debug!(provider = self.provider, status, detail = %detail, "model error status");
        Err(errors::status_failure(
            self.provider,
            status,
            &detail,
            quota,
            after,
        ))
    }

    /// The failure an error object in a reply stands for (its type and message, the key
    /// scrubbed from the message).
    pub(crate) fn reported(&self, error: &Value) -> Failure {
        let (kind, message) = kind_and_message(error);
        errors::stream_error(self.provider, &kind, &self.scrubbed(&message))
    }

    /// Whether the response is one JSON document: a server that ignores `stream: true`
    /// answers so, and is read whole.
    pub(crate) fn is_whole(response: &Response<ureq::Body>) -> bool {
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.trim_start().starts_with("application/json"))
    }

    /// Reads a whole JSON reply.
    pub(crate) fn read_json(&self, response: Response<ureq::Body>) -> Result<Value, Failure> {
        let mut body = response.into_body();
        let text = body
            .with_config()
            .limit(REPLY_LIMIT)
            .read_to_string()
            .map_err(|e| self.transport(e))?;
        serde_json::from_str(&text).map_err(|e| errors::unreadable(self.provider, e))
    }

    /// The reply body as a buffered reader, for streams.
    pub(crate) fn reader(&self, response: Response<ureq::Body>) -> BufReader<impl Read + use<>> {
        BufReader::with_capacity(16 * 1024, response.into_body().into_reader())
    }

    /// A read error in the middle of a stream.
    pub(crate) fn read_failure(&self, e: &io::Error) -> Failure {
        if e.kind() == io::ErrorKind::TimedOut {
            timeout(self.provider)
        } else {
            errors::connection(self.provider, scrub(&e.to_string(), self.secret.as_deref()))
        }
    }

    /// The provider's own message from an error object in a reply body.
    pub(crate) fn scrubbed(&self, text: &str) -> String {
        scrub(text, self.secret.as_deref())
    }

    fn transport(&self, e: ureq::Error) -> Failure {
        match e {
            ureq::Error::Timeout(_) => timeout(self.provider),
            ureq::Error::Io(io) if io.kind() == io::ErrorKind::TimedOut => timeout(self.provider),
            ureq::Error::BadUri(uri) => Failure::fatal(
                failed(
                    errors::SETTINGS,
                    format!("invalid model.base_url for {}: {uri}", self.provider),
                )
                .hint("write the API root, e.g. https://api.openai.com/v1"),
            ),
            other => errors::connection(
                self.provider,
                scrub(&other.to_string(), self.secret.as_deref()),
            ),
        }
    }
}

fn timeout(provider: &str) -> Failure {
    Failure::transient(
        failed(
            errors::TIMEOUT,
            format!("{provider} did not answer within the time limit"),
        )
        .hint("raise model.timeout, or ask for a shorter reply"),
        None,
    )
}

/// The provider's error text from an error body (OpenAI's `error.message`/`type`/`code`,
/// Anthropic's `error.type`/`message`, Ollama's `error` string), and whether it says the quota
/// is exhausted (a 429 not worth retrying).
pub(crate) fn provider_error(body: &str) -> (String, bool) {
    let Ok(value) = serde_json::from_str::<Value>(body) else {
        let text: String = body.trim().chars().take(300).collect();
        return (text, false);
    };
    let error = value.get("error").unwrap_or(&value);
    match error {
        Value::String(s) => (s.clone(), false),
        Value::Object(o) => {
            let field = |k: &str| {
                o.get(k)
                    .map(|v| match v {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    })
                    .unwrap_or_default()
            };
            let (message, kind, code) = (field("message"), field("type"), field("code"));
            let quota = [&kind, &code]
                .iter()
                .any(|s| s.contains("insufficient_quota") || s.contains("billing"));
            let mut tags: Vec<&str> = Vec::new();
            for t in [&kind, &code] {
                if !t.is_empty() && !tags.contains(&t.as_str()) {
                    tags.push(t);
                }
            }
            let text = match (message.is_empty(), tags.is_empty()) {
                (false, false) => format!("{message} ({})", tags.join(", ")),
                (false, true) => message,
                (true, false) => tags.join(", "),
                (true, true) => error.to_string(),
            };
            (text, quota)
        }
        other => (other.to_string(), false),
    }
}

/// How long the provider asks us to wait before retrying, from its headers: `retry-after-ms`,
/// `retry-after` (seconds), or on a 429 OpenAI's `x-ratelimit-reset-requests`/`-tokens`.
pub(crate) fn wait_asked(headers: &HeaderMap, status: u16) -> Option<Duration> {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(ms) = header("retry-after-ms").and_then(|v| v.trim().parse::<f64>().ok())
        && ms.is_finite()
        && ms >= 0.0
    {
        return Some(Duration::from_secs_f64(ms / 1000.0));
    }
    if let Some(s) = header("retry-after").and_then(|v| v.trim().parse::<f64>().ok())
        && s.is_finite()
        && s >= 0.0
    {
        return Some(Duration::from_secs_f64(s));
    }
    if status == 429 {
        return ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"]
            .iter()
            .filter_map(|h| header(h).and_then(parse_reset))
            .max();
    }
    None
}

/// OpenAI's reset durations: `1s`, `6m0s`, `20ms`, `1h2m3.5s`.
fn parse_reset(text: &str) -> Option<Duration> {
    let mut total = 0.0_f64;
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (0.001, 2)
        } else if rest.starts_with('s') {
            (1.0, 1)
        } else if rest.starts_with('m') {
            (60.0, 1)
        } else if rest.starts_with('h') {
            (3600.0, 1)
        } else {
            return None;
        };
        total += number * unit;
        rest = &rest[len..];
    }
    Some(Duration::from_secs_f64(total))
}

/// The type (and code) and the message of an error object a provider put in a reply.
pub(crate) fn kind_and_message(error: &Value) -> (String, String) {
    if let Value::String(s) = error {
        return (String::new(), s.clone());
    }
    let field = |k: &str| match error.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let kind = [field("type"), field("code")]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ");
    (kind, field("message"))
}

/// A JSON field as text, or empty.
pub(crate) fn text_of(value: Option<&Value>) -> &str {
    value.and_then(Value::as_str).unwrap_or("")
}

/// A JSON field as a count, or 0.
pub(crate) fn count_of(value: Option<&Value>) -> u64 {
    value.and_then(Value::as_u64).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_durations() {
        assert_eq!(parse_reset("20ms"), Some(Duration::from_millis(20)));
        assert_eq!(parse_reset("6m0s"), Some(Duration::from_secs(360)));
        assert_eq!(parse_reset("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_reset("soon"), None);
    }

    #[test]
    fn provider_errors_name_type_and_code() {
        let openai = r#"{"error":{"message":"Incorrect API key","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        assert_eq!(
            provider_error(openai),
            (
                "Incorrect API key (invalid_request_error, invalid_api_key)".to_string(),
                false
            )
        );
        let quota = r#"{"error":{"message":"You exceeded your quota","type":"insufficient_quota","code":"insufficient_quota"}}"#;
        assert!(provider_error(quota).1);
        let anthropic =
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#;
        assert_eq!(provider_error(anthropic).0, "Overloaded (overloaded_error)");
        assert_eq!(
            provider_error(r#"{"error":"model not found"}"#).0,
            "model not found"
        );
        assert_eq!(provider_error("Bad Gateway").0, "Bad Gateway");
    }
}
