//! Remote targets in a run: which clones to start ahead of the work (each with the run branch
//! the plan gave it, so a branch already pushed is fetched too), and handing a clone to the
//! repository worker with its cache entry locked.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::Error;
use crate::git::{CloneCache, EntryLock, RemoteSpec};

use super::errors::ExecError;
use super::planned::{Plan, Target};

/// The clones a run needs, in plan order, each with the run branch the plan gave it.
pub(super) fn clone_jobs(plan: &Plan) -> Vec<(RemoteSpec, String)> {
    plan.repos
        .iter()
        .filter_map(|r| match (&r.target, &r.branch) {
            (Target::Remote(spec), Some(branch)) => Some((spec.clone(), branch.clone())),
            _ => None,
        })
        .collect()
}

/// An entry's lock while a worker runs in it; afterwards handed back to the cache, which keeps
/// it until the run is published and the cache dropped.
pub(super) struct Held {
    lock: Option<EntryLock>,
    cache: Arc<CloneCache>,
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(lock) = self.lock.take() {
            self.cache.hold(lock);
        }
    }
}

/// The clone of `spec` in the run's clone `cache`, ready to run in on `branch`, whether its
/// run branch holds only codefleet's commits, and the lock on it.
pub(super) fn prepared(
    cache: Option<&Arc<CloneCache>>,
    spec: &RemoteSpec,
    branch: &str,
) -> Result<(PathBuf, bool, Held), Error> {
    let Some(cache) = cache else {
        return Err(ExecError::NoCloneCache {
            url: spec.url.clone(),
        }
        .into());
    };
    let (p, lock) = cache.take(spec, branch)?;
    let held = Held {
        lock: Some(lock),
        cache: Arc::clone(cache),
    };
    Ok((p.path, p.codefleet_only, held))
}
