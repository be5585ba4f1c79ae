//! Model providers behind one trait, prompts per edit format, retries, cache and accounting.
//!
//! The layers, from the wire up: a [`Backend`] speaks one provider's wire format and makes one
//! attempt per call; a [`Client`] wraps a backend with everything a run needs around it
//! (retries, the response cache, token and cost accounting); a [`Meter`] is the one limiter of
//! a run (requests in flight and budgets). Tasks in `exec` only ever call
//! [`Client::complete_within`] with their run's meter. Everything here comes in as plain values
//! ([`ClientConfig`], [`Budget`], [`Provider`], [`CacheMode`]): `llm` reads neither the settings
//! nor the workspace.

mod anthropic;
mod cache;
mod client;
mod config;
mod errors;
mod http;
mod meter;
mod ollama;
mod openai;
mod price;
pub mod prompt;
mod sse;

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::Error;

pub use cache::{Cache, CacheMode, cache_key};
pub use client::{Client, RetryPolicy};
pub use config::{ClientConfig, DEFAULT_TIMEOUT, PRICES_VAR, llm_cache_dir, normalise_base_url};
pub use errors::{Failure, LlmError, Retry};
pub use meter::{Budget, Meter};
pub use price::{Price, Prices};

/// Who serves the model (`model.provider`, in the pipeline, a task and the settings alike).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// OpenAI, or any OpenAI-compatible server at `base_url`.
    Openai,
    /// Anthropic's Messages API.
    Anthropic,
    /// A local Ollama server.
    Ollama,
}

impl Provider {
    /// Every accepted name, in documentation order.
    pub const NAMES: &'static [&'static str] = &["openai", "anthropic", "ollama"];

    /// The name as written in pipelines, config files and variables.
    pub fn name(self) -> &'static str {
        match self {
            Provider::Openai => "openai",
            Provider::Anthropic => "anthropic",
            Provider::Ollama => "ollama",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Provider> {
        [Provider::Openai, Provider::Anthropic, Provider::Ollama]
            .into_iter()
            .find(|p| p.name() == name)
    }
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Who says a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Instructions for the model.
    System,
    /// The user's turn.
    User,
    /// The model's turn (earlier replies, when a failure is reflected back).
    Assistant,
}

/// One message of a conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Message {
    /// Who says it.
    pub role: Role,
    /// What is said.
    pub content: String,
}

impl Message {
    /// A system message.
    pub fn system(content: impl Into<String>) -> Message {
        Message {
            role: Role::System,
            content: content.into(),
        }
    }

    /// A user message.
    pub fn user(content: impl Into<String>) -> Message {
        Message {
            role: Role::User,
            content: content.into(),
        }
    }

    /// An assistant message.
    pub fn assistant(content: impl Into<String>) -> Message {
        Message {
            role: Role::Assistant,
            content: content.into(),
        }
    }
}

/// One request, whatever the provider: the backend turns it into its wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Request {
    /// The model name as the provider knows it.
    pub model: String,
    /// The conversation; a system message, if any, comes first.
    pub messages: Vec<Message>,
    /// Sampling temperature; `None` leaves the provider's default.
    pub temperature: Option<f64>,
    /// Output tokens at most; `None` leaves the provider's default (Anthropic requires one,
    /// so its backend fills in a default).
    pub max_output_tokens: Option<u32>,
}

/// Tokens used by one reply, normalised across providers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input tokens billed at the full rate.
    pub input: u64,
    /// Input tokens served from the provider's prompt cache.
    pub cached_input: u64,
    /// Output tokens.
    pub output: u64,
}

impl Usage {
    /// Every token counted.
    pub fn total(&self) -> u64 {
        self.input + self.cached_input + self.output
    }

    /// Adds `other` into `self`.
    pub fn add(&mut self, other: &Usage) {
        self.input += other.input;
        self.cached_input += other.cached_input;
        self.output += other.output;
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Finish {
    /// It finished its answer.
    Stop,
    /// It hit the output limit: the reply is cut off and must not be applied.
    Length,
    /// Anything else the provider said (content filter, tool call…), as it said it.
    Other(String),
}

/// A model's reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reply {
    /// The text.
    pub text: String,
    /// Why it stopped.
    pub finish: Finish,
    /// Tokens used.
    pub usage: Usage,
    /// The model that answered, as the provider names it.
    pub model: String,
}

/// One provider's wire format. A call is one attempt: errors come back classified (see
/// [`Failure`]) so the [`Client`] can decide whether to retry.
pub trait Backend: Send + Sync {
    /// The provider's name, for messages (`openai`, `anthropic`, `ollama`).
    fn provider(&self) -> &str;

    /// Sends `request` once and returns the whole reply.
    fn send(&self, request: &Request) -> Result<Reply, Error>;

    /// The API root the backend talks to; part of the response cache key. Empty when none.
    fn base_url(&self) -> &str {
        ""
    }

    /// Sends `request` once; a failure says whether, and after how long, to try again. The
    /// default classifies [`Backend::send`]'s error by its code (see [`Failure::classify`]).
    fn attempt(&self, request: &Request) -> Result<Reply, Failure> {
        self.send(request).map_err(Failure::classify)
    }
}

/// What [`Client::complete`] returns: the reply and what it cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Completion {
    /// The reply.
    pub reply: Reply,
    /// Answered from the response cache (no request made).
    pub cached: bool,
    /// Attempts beyond the first.
    pub retries: u32,
    /// Cost in US dollars; `None` when the model's price is unknown.
    pub cost_usd: Option<f64>,
    /// Wall time, retries included.
    pub elapsed: Duration,
}

/// What a client has done so far, for the report and the journal.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Totals {
    /// Requests sent (cache hits excluded, retries included).
    pub requests: u64,
    /// Replies served from the cache.
    pub cache_hits: u64,
    /// Retried attempts.
    pub retries: u64,
    /// Tokens used.
    pub usage: Usage,
    /// Cost in US dollars of the requests whose price is known.
    pub cost_usd: f64,
    /// Requests whose price is unknown.
    pub unpriced_requests: u64,
}
