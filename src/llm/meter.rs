//! The run's budget and request slots, shared by every client of one run (hold it in an
//! `Arc`): limits on tokens, requests and wall time are checked before each request and fail
//! closed; `model.concurrency` bounds the requests in flight across all clients.

use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::errors::LlmError;
use super::{Totals, Usage};

/// Hard limits on model use for a run (`model.budget`); `None` is unlimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    /// Tokens at most.
    pub max_tokens: Option<u64>,
    /// Requests at most.
    pub max_requests: Option<u64>,
    /// Wall time at most.
    pub max_wall_time: Option<Duration>,
}

/// Budget, request slots and run-wide totals.
#[derive(Debug)]
pub struct Meter {
    budget: Budget,
    concurrency: usize,
    started: Instant,
    state: Mutex<State>,
    freed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    in_flight: usize,
    totals: Totals,
}

/// A request slot, released when dropped.
pub(crate) struct Slot<'a> {
    meter: &'a Meter,
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut state = self.meter.lock();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.meter.freed.notify_one();
    }
}

impl Meter {
    /// A meter enforcing `budget`, with at most `concurrency` requests in flight (0: no bound).
    /// Wall time counts from now.
    pub fn new(budget: Budget, concurrency: usize) -> Meter {
        Meter {
            budget,
            concurrency,
            started: Instant::now(),
            state: Mutex::new(State::default()),
            freed: Condvar::new(),
        }
    }

    /// No limits at all.
    pub fn unlimited() -> Meter {
        Meter::new(Budget::default(), 0)
    }

    /// What every client sharing this meter has done so far.
    pub fn totals(&self) -> Totals {
        self.lock().totals
    }

    /// Requests in flight at most (0: no bound).
    pub fn concurrency(&self) -> usize {
        self.concurrency
    }

    /// Waits for a request slot, then checks the budget and counts the request. A budget
    /// already spent is an error and no request is made.
    pub(crate) fn admit(&self, provider: &str) -> Result<Slot<'_>, LlmError> {
        let mut state = self.lock();
        while self.concurrency > 0 && state.in_flight >= self.concurrency {
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
        let provider = provider.to_string();
        if let Some(limit) = self.budget.max_wall_time
            && self.started.elapsed() >= limit
        {
            return Err(LlmError::WallTimeSpent { provider, limit });
        }
        if let Some(limit) = self.budget.max_requests
            && state.totals.requests >= limit
        {
            return Err(LlmError::RequestsSpent { provider, limit });
        }
        let used = state.totals.usage.total();
        if let Some(limit) = self.budget.max_tokens
            && used >= limit
        {
            return Err(LlmError::TokensSpent {
                provider,
                used,
                limit,
            });
        }
        state.totals.requests += 1;
        state.in_flight += 1;
        Ok(Slot { meter: self })
    }

    pub(crate) fn record_reply(&self, usage: &Usage, cost: Option<f64>) {
        let mut state = self.lock();
        state.totals.usage.add(usage);
        match cost {
            Some(c) => state.totals.cost_usd += c,
            None => state.totals.unpriced_requests += 1,
        }
    }

    pub(crate) fn record_retry(&self) {
        self.lock().totals.retries += 1;
    }

    pub(crate) fn record_cache_hit(&self) {
        self.lock().totals.cache_hits += 1;
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_hand_out_at_most_n_at_once() {
        let meter = Meter::new(Budget::default(), 2);
        let in_flight = || meter.lock().in_flight;
        let one = meter.admit("p").ok();
        let two = meter.admit("p").ok();
        assert_eq!(in_flight(), 2);
        let admitted = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                let third = meter.admit("p").ok();
                admitted.store(true, std::sync::atomic::Ordering::SeqCst);
                drop(third);
            });
            std::thread::sleep(std::time::Duration::from_millis(50));
            assert!(!admitted.load(std::sync::atomic::Ordering::SeqCst));
            drop(one);
        });
        assert!(admitted.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(in_flight(), 1);
        drop(two);
        assert_eq!(in_flight(), 0);
    }

    #[test]
    fn a_spent_budget_is_a_variant_and_keeps_its_code_and_hint() {
        let budget = Budget {
            max_requests: Some(1),
            ..Budget::default()
        };
        let meter = Meter::new(budget, 0);
        drop(meter.admit("openai"));
        let Err(e) = meter.admit("openai") else {
            panic!("the second request is over the budget");
        };
        assert!(e.stops_the_run() && !e.is_interrupt());
        let e = crate::error::Error::from(e);
        assert_eq!(e.code, "E441");
        assert_eq!(
            e.message,
            "budget spent: 1 model requests made (model.budget.max_requests); no request sent to openai"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("raise model.budget.max_requests; finished tasks keep their results")
        );
    }
}
