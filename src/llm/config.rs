//! From a [`ClientConfig`] (plain values: the caller has merged the settings and the pipeline)
//! to a ready [`Client`]: which API root (the configured one, else the provider's conventional
//! variables: `OPENAI_BASE_URL`/`OPENAI_API_BASE`, `ANTHROPIC_BASE_URL`, `OLLAMA_HOST`), which
//! key (`model.api_key_env`, or `OPENAI_API_KEY`/`ANTHROPIC_API_KEY`; local servers need none),
//! and the cache, budget and retry settings around it. The environment is passed in, so tests
//! never touch the process's.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::anthropic::{self, Anthropic};
use super::errors::{self, failed};
use super::http::Endpoint;
use super::ollama::Ollama;
use super::openai::OpenAi;
use super::{Backend, Cache, CacheMode, Client, Meter, Prices, Provider, RetryPolicy};
use crate::error::{Error, Exit};

/// The variable with price overrides (see [`Prices::set_from`]).
pub const PRICES_VAR: &str = "CODEFLEET_MODEL_PRICES";

/// The per-request time limit when `model.timeout` is not set.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(600);

/// Everything a [`Client`] is built from.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// Who serves the model.
    pub provider: Provider,
    /// The model name.
    pub model: String,
    /// The API root, with or without a trailing `/v1`; `None`: the provider's variable or
    /// default.
    pub base_url: Option<String>,
    /// The variable holding the API key; `None`: the provider's conventional one.
    pub api_key_env: Option<String>,
    /// Per-request time limit, reading the whole reply included.
    pub timeout: Duration,
    /// Temperature for requests that leave it open.
    pub temperature: Option<f64>,
    /// Stream replies (the default) or read them whole.
    pub stream: bool,
    /// Retries and circuit breaker.
    pub retry: RetryPolicy,
    /// The response cache; `None`: no cache.
    pub cache: Option<Cache>,
    /// The budget and request slots [`Client::complete`] counts against, shared by every
    /// client given the same one (a run passes its own to [`Client::complete_within`]).
    pub meter: Arc<Meter>,
    /// Prices.
    pub prices: Arc<Prices>,
}

impl ClientConfig {
    /// `model` at `provider`, with defaults: streaming, the default timeout and retries, no
    /// cache, no budget, the built-in prices.
    pub fn new(provider: Provider, model: impl Into<String>) -> ClientConfig {
        ClientConfig {
            provider,
            model: model.into(),
            base_url: None,
            api_key_env: None,
            timeout: DEFAULT_TIMEOUT,
            temperature: None,
            stream: true,
            retry: RetryPolicy::default(),
            cache: None,
            meter: Arc::new(Meter::unlimited()),
            prices: Arc::new(Prices::builtin()),
        }
    }

    /// [`ClientConfig::new`] for the model a task names; a usage error when it names none
    /// (a model name for one provider means nothing to another, so none is guessed).
    pub fn named(provider: Provider, model: Option<&str>) -> Result<ClientConfig, Error> {
        match model.filter(|n| !n.trim().is_empty()) {
            Some(name) => Ok(ClientConfig::new(provider, name)),
            None => Err(
                settings_error(format!("no model name for provider {provider}"))
                    .hint("set model.name in the pipeline, or CODEFLEET_MODEL"),
            ),
        }
    }

    /// The API root requests go to: `base_url`, else the provider's variable, else its public
    /// endpoint; without a trailing `/` or `/v1`.
    pub fn root(&self, env: &dyn Fn(&str) -> Option<String>) -> String {
        let var = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        let chosen = match self.provider {
            Provider::Openai => self
                .base_url
                .clone()
                .or_else(|| var("OPENAI_BASE_URL"))
                .or_else(|| var("OPENAI_API_BASE"))
                .unwrap_or_else(|| "https://api.openai.com".to_string()),
            Provider::Anthropic => self
                .base_url
                .clone()
                .or_else(|| var("ANTHROPIC_BASE_URL"))
                .unwrap_or_else(|| "https://api.anthropic.com".to_string()),
            Provider::Ollama => self
                .base_url
                .clone()
                .or_else(|| var("OLLAMA_HOST").map(|h| ollama_host(&h)))
                .unwrap_or_else(|| "http://127.0.0.1:11434".to_string()),
        };
        normalise_base_url(&chosen)
    }
}

impl Client {
    /// The client `config` describes. `env` looks up variables (pass
    /// `&|k| std::env::var(k).ok()` for the process's). A missing key is an error naming the
    /// variable, unless the server is local (Ollama, or any provider at localhost).
    pub fn from_config(
        config: ClientConfig,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Client, Error> {
        if config.model.trim().is_empty() {
            return Err(
                settings_error("the model name is empty".to_string()).hint("set model.name")
            );
        }
        let root = config.root(env);
        if !(root.starts_with("http://") || root.starts_with("https://")) {
            return Err(settings_error(format!(
                "model.base_url `{root}` is not an http:// or https:// URL"
            ))
            .hint("write the API root, e.g. https://api.openai.com/v1"));
        }
        let key = api_key(&config, &root, env)?;
        let backend = config.backend(root, key);
        let mut prices = config.prices;
        if let Some(spec) = env(PRICES_VAR).filter(|s| !s.trim().is_empty()) {
            let mut own = (*prices).clone();
            own.set_from(&spec).map_err(|mut e| {
                e.message = format!("{} in {PRICES_VAR}", e.message);
                e
            })?;
            prices = Arc::new(own);
        }
        let mut client = Client::new(backend)
            .with_retry(config.retry)
            .with_meter(config.meter)
            .with_prices(prices)
            .with_temperature(config.temperature);
        if let Some(cache) = config.cache
            && cache.mode() != CacheMode::Off
        {
            client = client.with_cache(cache);
        }
        Ok(client)
    }
}

impl ClientConfig {
    /// The provider's wire format at `root`, sending `key` the way the provider expects it.
    fn backend(&self, root: String, key: Option<String>) -> Box<dyn Backend> {
        let timeout = self.timeout;
        let stream = self.stream;
        let mut headers: Vec<(&'static str, String)> = Vec::new();
        match self.provider {
            Provider::Openai => {
                if let Some(k) = &key {
                    if host_of(&root).ends_with(".azure.com") {
                        headers.push(("api-key", k.clone()));
                    } else {
                        headers.push(("authorization", format!("Bearer {k}")));
                    }
                }
                let official = host_of(&root) == "api.openai.com";
                let path = "/v1/chat/completions";
                let endpoint = Endpoint::new("openai", root, path, timeout, headers, key);
                Box::new(OpenAi {
                    endpoint,
                    stream,
                    official,
                })
            }
            Provider::Anthropic => {
                if let Some(k) = &key {
                    headers.push(("x-api-key", k.clone()));
                }
                headers.push(("anthropic-version", anthropic::VERSION.to_string()));
                let endpoint =
                    Endpoint::new("anthropic", root, "/v1/messages", timeout, headers, key);
                Box::new(Anthropic { endpoint, stream })
            }
            Provider::Ollama => {
                if let Some(k) = &key {
                    headers.push(("authorization", format!("Bearer {k}")));
                }
                let endpoint = Endpoint::new("ollama", root, "/api/chat", timeout, headers, key);
                Box::new(Ollama { endpoint, stream })
            }
        }
    }
}

/// The API root: trimmed, without trailing slashes or a trailing `/v1` (each provider adds its
/// own path, `/v1/...` or `/api/chat`).
pub fn normalise_base_url(url: &str) -> String {
    let mut root = url.trim().trim_end_matches('/');
    if let Some(stripped) = root.strip_suffix("/v1") {
        root = stripped.trim_end_matches('/');
    }
    root.to_string()
}

/// `OLLAMA_HOST` as Ollama's own client reads it: a scheme and port are optional, and
/// `0.0.0.0` (the address a server listens on) means this machine.
fn ollama_host(value: &str) -> String {
    let value = value.trim();
    let (scheme, rest) = match value.split_once("://") {
        Some((s, r)) => (s.to_string(), r),
        None => ("http".to_string(), value),
    };
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let has_port = match host.rfind(':') {
        Some(i) => !host.ends_with(']') && host[i + 1..].chars().all(|c| c.is_ascii_digit()),
        None => false,
    };
    let host = if has_port {
        host.to_string()
    } else {
        format!("{host}:11434")
    };
    let host = host.replacen("0.0.0.0", "127.0.0.1", 1);
    format!("{scheme}://{host}{path}")
}

/// The host of an `http(s)://host[:port]/...` URL, lowercased, without port or brackets.
fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    let authority = rest.split('/').next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = authority.strip_prefix('[') {
        v6.split(']').next().unwrap_or("")
    } else {
        authority.split(':').next().unwrap_or("")
    };
    host.to_ascii_lowercase()
}

/// A server on this machine, which needs no key.
fn is_local(root: &str) -> bool {
    let host = host_of(root);
    host == "localhost"
        || host.ends_with(".localhost")
        || host == "::1"
        || host == "0.0.0.0"
        || host.starts_with("127.")
}

fn api_key(
    config: &ClientConfig,
    root: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<String>, Error> {
    let conventional = match config.provider {
        Provider::Openai => Some("OPENAI_API_KEY"),
        Provider::Anthropic => Some("ANTHROPIC_API_KEY"),
        Provider::Ollama => None,
    };
    let var = config.api_key_env.as_deref().or(conventional);
    let key = var
        .and_then(env)
        .map(|k| k.trim().to_string())
        .filter(|k| !k.is_empty());
    if key.is_some() {
        return Ok(key);
    }
    let explicit = config.api_key_env.is_some();
    if !explicit && (config.provider == Provider::Ollama || is_local(root)) {
        return Ok(None);
    }
    let var = var.unwrap_or("OPENAI_API_KEY");
    Err(Error::new(
        errors::MISSING_KEY.id,
        format!(
            "no API key for {}: the environment variable `{var}` is not set",
            config.provider
        ),
    )
    .hint(format!(
        "export {var}=…, or name another variable with model.api_key_env"
    )))
}

/// A configuration that cannot make a client: a usage error, nothing is sent.
fn settings_error(message: String) -> Error {
    failed(errors::SETTINGS, message).exit(Exit::Usage)
}

/// Where the response cache lives for a cache root (settings' `cache.dir`).
pub fn llm_cache_dir(cache_root: &std::path::Path) -> PathBuf {
    cache_root.join("llm")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_lose_slashes_and_v1() {
        assert_eq!(normalise_base_url("http://h:1/v1/"), "http://h:1");
        assert_eq!(normalise_base_url("http://h:1"), "http://h:1");
        assert_eq!(
            normalise_base_url("https://openrouter.ai/api/v1"),
            "https://openrouter.ai/api"
        );
    }

    #[test]
    fn ollama_hosts() {
        assert_eq!(ollama_host("0.0.0.0"), "http://127.0.0.1:11434");
        assert_eq!(ollama_host("example.com:8080"), "http://example.com:8080");
        assert_eq!(ollama_host("https://o.example"), "https://o.example:11434");
    }

    #[test]
    fn local_hosts() {
        assert!(is_local("http://127.0.0.1:8080"));
        assert!(is_local("http://localhost"));
        assert!(is_local("http://[::1]:80/x"));
        assert!(!is_local("https://api.openai.com"));
    }

    #[test]
    fn keys_come_from_the_named_variable() {
        let env = |k: &str| (k == "MY_KEY").then(|| "sk-123".to_string());
        let mut c = ClientConfig::new(Provider::Openai, "gpt-4o");
        let e = api_key(&c, "https://api.openai.com", &env).unwrap_err();
        assert_eq!(e.code, "E400");
        assert!(e.message.contains("OPENAI_API_KEY"), "{}", e.message);
        c.api_key_env = Some("MY_KEY".into());
        assert_eq!(
            api_key(&c, "https://api.openai.com", &env).ok().flatten(),
            Some("sk-123".to_string())
        );
        let local = ClientConfig::new(Provider::Openai, "m");
        assert_eq!(
            api_key(&local, "http://127.0.0.1:8000", &env).ok(),
            Some(None)
        );
    }
}
