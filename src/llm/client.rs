//! [`Client`]: a backend with what a run needs around it — the response cache, the shared
//! budget and request slots ([`Meter`]), retries with jittered backoff that honour the
//! provider's `retry-after`, a circuit breaker, and token and cost accounting.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::errors::{self, Failure, LlmError, Retry, failed};
use super::{Backend, Cache, Completion, Finish, Meter, Prices, Reply, Request, Totals};
use crate::error::Error;

/// How failed attempts are retried, and when the client stops trying altogether.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts beyond the first, for transient failures (429, 5xx, 529, timeouts, dropped
    /// connections).
    pub max_retries: u32,
    /// The first backoff; each retry doubles it, with jitter.
    pub base_delay: Duration,
    /// No wait is longer, whatever the provider asks for.
    pub max_delay: Duration,
    /// Transient failures in a row (across requests) that open the circuit; 0 never opens it.
    pub breaker_threshold: u32,
    /// How long an open circuit fails requests fast before letting one through again.
    pub breaker_cooldown: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(60),
            breaker_threshold: 10,
            breaker_cooldown: Duration::from_secs(30),
        }
    }
}

#[derive(Debug, Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    last: String,
}

/// A backend with the accounting a run needs around it. `Sync`: one client serves every
/// thread of a task, and each request borrows it only for the call.
pub struct Client {
    /// Shared with the thread each attempt runs on (see [`attempt_unless`]).
    backend: Arc<dyn Backend>,
    totals: Mutex<Totals>,
    retry: RetryPolicy,
    cache: Option<Cache>,
    meter: Arc<Meter>,
    prices: Arc<Prices>,
    temperature: Option<f64>,
    breaker: Mutex<Breaker>,
    seed: AtomicU64,
}

impl Client {
    /// A client sending through `backend`: default retries, no cache, no budget, the built-in
    /// price table.
    pub fn new(backend: Box<dyn Backend>) -> Client {
        let seed = {
            use std::hash::{BuildHasher, Hasher};
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u64(0);
            h.finish()
        };
        Client {
            backend: Arc::from(backend),
            totals: Mutex::new(Totals::default()),
            retry: RetryPolicy::default(),
            cache: None,
            meter: Arc::new(Meter::unlimited()),
            prices: Arc::new(Prices::builtin()),
            temperature: None,
            breaker: Mutex::new(Breaker::default()),
            seed: AtomicU64::new(seed),
        }
    }

    /// Retries and circuit breaker as `policy` says.
    pub fn with_retry(mut self, policy: RetryPolicy) -> Client {
        self.retry = policy;
        self
    }

    /// Answers from, and stores into, `cache` as its mode says.
    pub fn with_cache(mut self, cache: Cache) -> Client {
        self.cache = Some(cache);
        self
    }

    /// Shares `meter` (budget, request slots, run totals) with the run's other clients.
    pub fn with_meter(mut self, meter: Arc<Meter>) -> Client {
        self.meter = meter;
        self
    }

    /// Prices costs with `prices`.
    pub fn with_prices(mut self, prices: Arc<Prices>) -> Client {
        self.prices = prices;
        self
    }

    /// The temperature for requests that leave it open.
    pub fn with_temperature(mut self, temperature: Option<f64>) -> Client {
        self.temperature = temperature;
        self
    }

    /// The provider's name.
    pub fn provider(&self) -> &str {
        self.backend.provider()
    }

    /// The API root requests go to.
    pub fn base_url(&self) -> &str {
        self.backend.base_url()
    }

    /// The meter this client counts against.
    pub fn meter(&self) -> &Arc<Meter> {
        &self.meter
    }

    /// Sends `request` (or answers it from the cache) and accounts for it. Transient failures
    /// are retried; a budget already spent, an open circuit, or a `replay` cache miss fail
    /// before any request is made.
    pub fn complete(&self, request: &Request) -> Result<Completion, Error> {
        self.complete_interruptible(request, &AtomicBool::new(false))
    }

    /// [`Client::complete`], giving up (`E413`) as soon as `interrupt` is set: before each
    /// attempt, while waiting to retry, and while a request is in flight (it is abandoned, not
    /// waited for: see [`attempt_unless`]).
    pub fn complete_interruptible(
        &self,
        request: &Request,
        interrupt: &AtomicBool,
    ) -> Result<Completion, Error> {
        self.complete_within(request, &self.meter, interrupt)
            .map_err(Error::from)
    }

    /// [`Client::complete_interruptible`] counted against `meter` instead of the client's own:
    /// a run passes its one meter, so its budget and `model.concurrency` hold across every
    /// client it uses, however each was built. The error says, as a type, whether the budget
    /// is spent or the run interrupted.
    pub fn complete_within(
        &self,
        request: &Request,
        meter: &Meter,
        interrupt: &AtomicBool,
    ) -> Result<Completion, LlmError> {
        let started = Instant::now();
        let defaulted;
        let request = match (request.temperature, self.temperature) {
            (None, Some(t)) => {
                defaulted = Request {
                    temperature: Some(t),
                    ..request.clone()
                };
                &defaulted
            }
            _ => request,
        };
        let provider = self.backend.provider();
        let base_url = self.backend.base_url();
        if let Some(cache) = &self.cache
            && let Some(reply) = cache.lookup(provider, base_url, request)?
        {
            self.lock().cache_hits += 1;
            meter.record_cache_hit();
            return Ok(Completion {
                reply,
                cached: true,
                retries: 0,
                cost_usd: Some(0.0),
                elapsed: started.elapsed(),
            });
        }
        let mut retries = 0;
        loop {
            if interrupt.load(Ordering::SeqCst) {
                return Err(interrupted(self.backend.provider()));
            }
            self.check_breaker()?;
            let slot = meter.admit(provider)?;
            // The wait for a slot may have outlasted the run.
            if interrupt.load(Ordering::SeqCst) {
                return Err(interrupted(provider));
            }
            self.lock().requests += 1;
            let Some(result) = attempt_unless(&self.backend, request, interrupt) else {
                return Err(abandoned(provider));
            };
            drop(slot);
            let failure = match result {
                Ok(reply) => return Ok(self.accept(request, reply, retries, started, meter)),
                Err(failure) => failure,
            };
            let Failure { error, retry } = failure;
            let Retry::After(asked) = retry else {
                return Err(error.into());
            };
            let open = self.note_failure(&error);
            if retries >= self.retry.max_retries || open {
                return Err(gave_up(error, retries + 1).into());
            }
            let wait = self.delay(retries, asked);
            tracing::info!(
                provider,
                code = error.code,
                retry = retries + 1,
                wait_ms = wait.as_millis() as u64,
                "model request failed; retrying"
            );
            sleep_unless(wait, interrupt);
            retries += 1;
            self.lock().retries += 1;
            meter.record_retry();
        }
    }

    /// Accounts for a reply and caches it.
    fn accept(
        &self,
        request: &Request,
        reply: Reply,
        retries: u32,
        started: Instant,
        meter: &Meter,
    ) -> Completion {
        self.breaker_lock().failures = 0;
        let cost = self
            .prices
            .cost(&request.model, &reply.usage)
            .or_else(|| self.prices.cost(&reply.model, &reply.usage));
        {
            let mut totals = self.lock();
            totals.usage.add(&reply.usage);
            match cost {
                Some(c) => totals.cost_usd += c,
                None => totals.unpriced_requests += 1,
            }
        }
        meter.record_reply(&reply.usage, cost);
        // A cut-off reply is not worth keeping: the caller refuses it anyway.
        if let Some(cache) = &self.cache
            && reply.finish == Finish::Stop
        {
            cache.store(
                self.backend.provider(),
                self.backend.base_url(),
                request,
                &reply,
            );
        }
        Completion {
            reply,
            cached: false,
            retries,
            cost_usd: cost,
            elapsed: started.elapsed(),
        }
    }

    /// What this client has done so far.
    pub fn totals(&self) -> Totals {
        *self.lock()
    }

    fn lock(&self) -> MutexGuard<'_, Totals> {
        self.totals.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn breaker_lock(&self) -> MutexGuard<'_, Breaker> {
        self.breaker.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Fails fast while the circuit is open; after the cooldown one request may try again.
    fn check_breaker(&self) -> Result<(), Error> {
        let mut breaker = self.breaker_lock();
        let Some(until) = breaker.open_until else {
            return Ok(());
        };
        let now = Instant::now();
        if now >= until {
            // Half-open: one more failure reopens it.
            breaker.open_until = None;
            breaker.failures = self.retry.breaker_threshold.saturating_sub(1);
            return Ok(());
        }
        Err(failed(
            errors::CIRCUIT_OPEN,
            format!(
                "{}: {} requests failed in a row, so no more are sent for {}s; the last said: {}",
                self.backend.provider(),
                breaker.failures,
                (until - now).as_secs_f64().ceil() as u64,
                breaker.last
            ),
        )
        .hint("the provider is failing or unreachable; check it, then run again"))
    }

    /// Counts a transient failure; true when the circuit is now open.
    fn note_failure(&self, error: &Error) -> bool {
        let mut breaker = self.breaker_lock();
        breaker.failures = breaker.failures.saturating_add(1);
        breaker.last = error.headline();
        let threshold = self.retry.breaker_threshold;
        if threshold > 0 && breaker.failures >= threshold {
            breaker.open_until = Some(Instant::now() + self.retry.breaker_cooldown);
            tracing::warn!(
                provider = self.backend.provider(),
                failures = breaker.failures,
                "circuit open: model requests fail fast for a while"
            );
            return true;
        }
        false
    }

    /// The wait before retry number `retries + 1`: what the provider asked for (capped), or
    /// exponential backoff with jitter (between half and all of `base · 2^retries`).
    fn delay(&self, retries: u32, asked: Option<Duration>) -> Duration {
        let cap = self.retry.max_delay;
        if let Some(asked) = asked {
            return asked.min(cap);
        }
        let exp = self
            .retry
            .base_delay
            .saturating_mul(1u32.checked_shl(retries).unwrap_or(u32::MAX))
            .min(cap);
        let fraction = self.random_fraction();
        exp / 2 + exp.mul_f64(fraction / 2.0)
    }

    /// A number in [0, 1): splitmix64 over a per-client counter.
    fn random_fraction(&self) -> f64 {
        let mut z = self
            .seed
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// How often an attempt in flight looks at the interrupt flag.
const INTERRUPT_POLL: Duration = Duration::from_millis(20);

/// Runs one attempt on a thread of its own and waits for it, or returns `None` as soon as
/// `interrupt` is set. A blocking HTTP read cannot be cancelled, so a request a Ctrl-C finds in
/// flight is abandoned: its thread ends with the request's timeout, or with the process (the
/// CLI exits right after an interrupted run), instead of holding the run for up to
/// `model.timeout`. A panic of the backend is raised again here, as if it ran inline.
fn attempt_unless(
    backend: &Arc<dyn Backend>,
    request: &Request,
    interrupt: &AtomicBool,
) -> Option<Result<Reply, Failure>> {
    let (tx, rx) = std::sync::mpsc::channel();
    let sender = Arc::clone(backend);
    let owned = request.clone();
    let spawned = std::thread::Builder::new()
        .name("codefleet-model-request".into())
        .spawn(move || {
            let _ = tx.send(sender.attempt(&owned));
        });
    let Ok(handle) = spawned else {
        // No thread to be had: send inline (uninterruptible, as before).
        return Some(backend.attempt(request));
    };
    loop {
        match rx.recv_timeout(INTERRUPT_POLL) {
            Ok(result) => return Some(result),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if interrupt.load(Ordering::SeqCst) {
                    return None;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                if let Err(panic) = handle.join() {
                    std::panic::resume_unwind(panic);
                }
                // The thread ended without an answer and without a panic: not possible, but
                // no reason to hang either.
                return Some(Err(Failure::fatal(failed(
                    errors::CONNECTION,
                    "the model request ended without an answer",
                ))));
            }
        }
    }
}

fn abandoned(provider: &str) -> LlmError {
    LlmError::Abandoned {
        provider: provider.to_string(),
    }
}

/// Sleeps `wait`, in short slices so that an interrupt ends it early.
fn sleep_unless(wait: Duration, interrupt: &AtomicBool) {
    const SLICE: Duration = Duration::from_millis(50);
    let until = Instant::now() + wait;
    loop {
        let now = Instant::now();
        if now >= until || interrupt.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep((until - now).min(SLICE));
    }
}

fn interrupted(provider: &str) -> LlmError {
    LlmError::Interrupted {
        provider: provider.to_string(),
    }
}

fn gave_up(mut error: Error, attempts: u32) -> Error {
    if attempts > 1 {
        error.message = format!("{} (gave up after {attempts} attempts)", error.message);
    }
    error
}
