//! The response cache on disk: one JSON file per request, named by a 128-bit FNV-1a hash of
//! the canonical request (provider, API root, model, messages, temperature, output limit —
//! never a key or header), written atomically. The file keeps the request beside the reply, so
//! a hash collision reads as a miss, never as someone else's reply.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::errors::{self, failed};
use super::{Message, Reply, Request};
use crate::error::Error;

/// How the response cache is used (`cache.mode`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CacheMode {
    /// Read cached responses and store new ones.
    ReadWrite,
    /// Read cached responses; store nothing.
    ReadOnly,
    /// Ignore cached responses and store fresh ones.
    Refresh,
    /// No cache.
    Off,
    /// Read cached responses only; a miss is an error (reproducible CI runs).
    Replay,
}

impl CacheMode {
    /// Every accepted name, in documentation order.
    pub const NAMES: &'static [&'static str] =
        &["read-write", "read-only", "refresh", "off", "replay"];

    /// The name as written in config files and variables.
    pub fn name(self) -> &'static str {
        match self {
            CacheMode::ReadWrite => "read-write",
            CacheMode::ReadOnly => "read-only",
            CacheMode::Refresh => "refresh",
            CacheMode::Off => "off",
            CacheMode::Replay => "replay",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<CacheMode> {
        use CacheMode::*;
        [ReadWrite, ReadOnly, Refresh, Off, Replay]
            .into_iter()
            .find(|m| m.name() == name)
    }
}

impl std::fmt::Display for CacheMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Bumped when the file format or the key's contents change, so old entries read as misses.
const FORMAT: u32 = 1;

/// The response cache: a directory and how to use it.
#[derive(Debug, Clone)]
pub struct Cache {
    dir: PathBuf,
    mode: CacheMode,
}

/// What the key is made of, in a fixed field order.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Canonical {
    format: u32,
    provider: String,
    base_url: String,
    model: String,
    messages: Vec<Message>,
    temperature: Option<f64>,
    max_output_tokens: Option<u32>,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    request: Canonical,
    reply: Reply,
}

/// The cache key of `request` sent to `provider` at `base_url`: 32 hex digits.
pub fn cache_key(provider: &str, base_url: &str, request: &Request) -> String {
    key_of(&canonical(provider, base_url, request))
}

fn canonical(provider: &str, base_url: &str, request: &Request) -> Canonical {
    Canonical {
        format: FORMAT,
        provider: provider.to_string(),
        base_url: base_url.to_string(),
        model: request.model.clone(),
        messages: request.messages.clone(),
        temperature: request.temperature,
        max_output_tokens: request.max_output_tokens,
    }
}

fn key_of(canonical: &Canonical) -> String {
    let bytes = serde_json::to_vec(canonical).unwrap_or_default();
    format!("{:032x}", fnv1a_128(&bytes))
}

/// FNV-1a, 128-bit: stable across versions and platforms, and enough to name files whose
/// contents are checked on read.
fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes
        .iter()
        .fold(OFFSET, |h, &b| (h ^ u128::from(b)).wrapping_mul(PRIME))
}

impl Cache {
    /// A cache in `dir` (the `llm/` directory itself) used as `mode` says.
    pub fn new(dir: impl Into<PathBuf>, mode: CacheMode) -> Cache {
        Cache {
            dir: dir.into(),
            mode,
        }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The mode.
    pub fn mode(&self) -> CacheMode {
        self.mode
    }

    /// The file `key` is stored in.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir
            .join(&key[..2.min(key.len())])
            .join(format!("{key}.json"))
    }

    /// The cached reply, if the mode reads the cache and one is stored. In `replay` mode a
    /// miss is an error: the run must not reach the network.
    pub(crate) fn lookup(
        &self,
        provider: &str,
        base_url: &str,
        request: &Request,
    ) -> Result<Option<Reply>, Error> {
        if matches!(self.mode, CacheMode::Off | CacheMode::Refresh) {
            return Ok(None);
        }
        let wanted = canonical(provider, base_url, request);
        let key = key_of(&wanted);
        let path = self.path_of(&key);
        let found = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Entry>(&bytes).ok())
            .filter(|entry| entry.request == wanted)
            .map(|entry| entry.reply);
        match found {
            Some(reply) => {
                tracing::debug!(key, "model reply from cache");
                Ok(Some(reply))
            }
            None if self.mode == CacheMode::Replay => Err(failed(
                errors::REPLAY_MISS,
                format!(
                    "no cached reply for this {provider} request to `{}` (cache mode replay)",
                    request.model
                ),
            )
            .hint(format!(
                "run once with cache mode read-write to record replies (cache: {})",
                self.dir.display()
            ))),
            None => Ok(None),
        }
    }

    /// Stores `reply`, if the mode writes the cache. A failed write is logged, not fatal: the
    /// reply is good, only the next run will ask again.
    pub(crate) fn store(&self, provider: &str, base_url: &str, request: &Request, reply: &Reply) {
        if !matches!(self.mode, CacheMode::ReadWrite | CacheMode::Refresh) {
            return;
        }
        let entry = Entry {
            request: canonical(provider, base_url, request),
            reply: reply.clone(),
        };
        let path = self.path_of(&key_of(&entry.request));
        let written = serde_json::to_vec_pretty(&entry)
            .map_err(std::io::Error::other)
            .and_then(|bytes| write_atomic(&path, &bytes));
        if let Err(e) = written {
            tracing::warn!(path = %path.display(), error = %e, "cannot write the model response cache");
        }
    }
}

/// Writes `bytes` to `path` through a temporary file in the same directory and a rename, so a
/// reader (another run sharing the cache) sees the old entry or the new one, never half of it.
fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".codefleet-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv1a_128(b""), 0x6c62272e07bb014262b821756295c58d);
        assert_eq!(fnv1a_128(b"a"), 0xd228cb696f1a8caf78912b704e4a8964);
    }

    #[test]
    fn keys_are_stable_across_versions() {
        // Changing this key invalidates every cache on disk: bump FORMAT instead.
        let r = Request {
            model: "gpt-4o".into(),
            messages: vec![Message::system("s"), Message::user("u")],
            temperature: None,
            max_output_tokens: Some(1000),
        };
        assert_eq!(
            cache_key("openai", "https://api.openai.com", &r),
            "e6d4ae7819511f213ad828af6035541a"
        );
    }

    #[test]
    fn keys_depend_on_every_part_of_the_request() {
        let r = Request {
            model: "m".into(),
            messages: vec![Message::user("hi")],
            temperature: Some(0.0),
            max_output_tokens: None,
        };
        let k = cache_key("openai", "http://x", &r);
        assert_eq!(k.len(), 32);
        assert_eq!(k, cache_key("openai", "http://x", &r.clone()));
        assert_ne!(k, cache_key("anthropic", "http://x", &r));
        assert_ne!(k, cache_key("openai", "http://y", &r));
        let mut t = r.clone();
        t.temperature = Some(0.5);
        assert_ne!(k, cache_key("openai", "http://x", &t));
        let mut m = r.clone();
        m.max_output_tokens = Some(10);
        assert_ne!(k, cache_key("openai", "http://x", &m));
    }
}
