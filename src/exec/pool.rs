//! The scheduler's mechanics over abstract units of work: a dedicated rayon pool (so `--jobs 1`
//! is sequential and deterministic), panics caught per unit and turned into results, and an
//! interrupt flag checked before each unit starts.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::error::Error;

use super::errors::ExecError;

/// How one unit of work ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unit<R> {
    /// It returned.
    Done(R),
    /// It panicked; the message, when the panic carried one.
    Panicked(String),
    /// The interrupt flag was set before it started; it did nothing.
    Interrupted,
}

/// A pool of `jobs` worker threads (0 means the number of cores).
pub fn pool(jobs: usize) -> Result<rayon::ThreadPool, Error> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(jobs)
        .thread_name(|i| format!("codefleet-{i}"))
        .build()
        .map_err(|e| ExecError::Threads { why: e.to_string() }.into())
}

/// Runs `f`, turning a panic into `Err(message)`.
pub fn catching<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

/// Runs `f` on every item in parallel (on the current rayon pool), results in item order. A
/// panic in one unit is that unit's result; once `interrupt` is set, units not yet started
/// are [`Unit::Interrupted`].
pub fn run_units<T, R, F>(items: &[T], interrupt: &AtomicBool, f: F) -> Vec<Unit<R>>
where
    T: Sync,
    R: Send,
    F: Fn(&T) -> R + Sync,
{
    items
        .par_iter()
        .map(|item| {
            if interrupt.load(Ordering::SeqCst) {
                return Unit::Interrupted;
            }
            match catching(|| f(item)) {
                Ok(r) => Unit::Done(r),
                Err(msg) => Unit::Panicked(msg),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_unit_is_a_result_and_the_others_finish() {
        let pool = pool(2).unwrap();
        let flag = AtomicBool::new(false);
        let out = pool.install(|| {
            run_units(&[1, 2, 3, 4], &flag, |&n| {
                if n == 3 {
                    panic!("unit {n} broke");
                }
                n * 10
            })
        });
        assert_eq!(
            out,
            vec![
                Unit::Done(10),
                Unit::Done(20),
                Unit::Panicked("unit 3 broke".into()),
                Unit::Done(40)
            ]
        );
    }

    #[test]
    fn after_an_interrupt_no_unit_starts() {
        let pool = pool(1).unwrap();
        let flag = AtomicBool::new(false);
        let out = pool.install(|| {
            run_units(&[1, 2, 3], &flag, |&n| {
                if n == 1 {
                    flag.store(true, Ordering::SeqCst);
                }
                n
            })
        });
        assert_eq!(
            out,
            vec![Unit::Done(1), Unit::Interrupted, Unit::Interrupted]
        );
    }
}
