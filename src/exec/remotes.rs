//! Remote targets in a run: which clones to start ahead of the work (each with the run branch
//! it will get, so a branch already pushed is fetched too), and handing a clone to the repository
//! worker with its cache entry locked.

use std::path::PathBuf;
use std::sync::Arc;

use crate::error::{Error, Exit};
use crate::git::{CloneCache, EntryLock, RemoteSpec};
use crate::pipeline::Pipeline;
use crate::plan::Target;

use super::RunOptions;

/// The run branch of a repository called `name`.
pub(super) fn run_branch(pipeline: &Pipeline, run_id: &str, name: &str) -> String {
    pipeline
        .branch
        .render(&pipeline.context(run_id, Some(name), None))
}

/// The clones a run needs, in plan order.
pub(super) fn clone_jobs(
    pipeline: &Pipeline,
    run_id: &str,
    targets: &[Target],
) -> Vec<(RemoteSpec, String)> {
    targets
        .iter()
        .filter_map(|t| match t {
            Target::Remote(spec) => {
                Some((spec.clone(), run_branch(pipeline, run_id, &spec.name())))
            }
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

/// The cached clone of `spec`, ready to run in, whether its run branch holds only codefleet's
/// commits, and the lock on it.
pub(super) fn prepared(
    options: &RunOptions,
    pipeline: &Pipeline,
    run_id: &str,
    spec: &RemoteSpec,
) -> Result<(PathBuf, bool, Held), Error> {
    let Some(cache) = &options.remotes else {
        return Err(Error::new(
            "E500",
            format!("`{}` is remote and this run has no clone cache", spec.url),
        )
        .hint("run it with `codefleet run`, or give RunOptions a CloneCache")
        .exit(Exit::Failed));
    };
    let branch = run_branch(pipeline, run_id, &spec.name());
    let (p, lock) = cache.take(spec, &branch)?;
    let held = Held {
        lock: Some(lock),
        cache: Arc::clone(cache),
    };
    Ok((p.path, p.codefleet_only, held))
}
