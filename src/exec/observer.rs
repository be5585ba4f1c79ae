//! Events from a run. Workers never print: they call an [`Observer`], which the CLI implements
//! to own the terminal (progress bars, log lines) and a library user implements as they like.
//! Calls come from worker threads, in any order across repositories.

use crate::report::{FileReport, RepoReport, RunReport, TaskReport};

/// Receives a run's events. Every method has an empty default, so an observer implements only
/// what it shows.
pub trait Observer: Sync {
    /// The run is about to start `repos` repositories.
    fn run_started(&self, _run_id: &str, _repos: usize) {}
    /// A repository started (after it was opened and its base resolved).
    fn repo_started(&self, _repo: &str) {}
    /// A task started in a repository, over `files` selected files.
    fn task_started(&self, _repo: &str, _task: &str, _files: usize) {}
    /// One file of a task was processed (changed or not).
    fn file_done(&self, _repo: &str, _task: &str, _path: &str) {}
    /// One file of a task failed.
    fn file_failed(&self, _repo: &str, _task: &str, _file: &FileReport) {}
    /// A line of output from a `run` or `check` task's command, as it arrives.
    fn command_output(&self, _repo: &str, _task: &str, _line: &str) {}
    /// A task finished (its commit, if any, is written).
    fn task_finished(&self, _repo: &str, _task: &TaskReport) {}
    /// A repository finished, failed, was skipped or was interrupted.
    fn repo_finished(&self, _repo: &RepoReport) {}
    /// The run is over; this is the report [`crate::exec::run`] returns.
    fn run_finished(&self, _report: &RunReport) {}
}

/// An observer that ignores everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Observer for Silent {}
