//! One run branch for the length of one run in one repository: it takes the repository lock,
//! refuses a branch that holds commits this pipeline may not replace, keeps the run's journal
//! record, and at the end writes the journal, moves the branch with compare-and-swap, marks
//! the record finished and checks the branch out, in that order (see the protocol in
//! [`crate::git`]). Callers never do those steps by hand. After the run, [`BranchLease`] keeps
//! the push lease of the branch on a remote.

use std::time::SystemTime;

use crate::error::Error;

use super::base::Base;
use super::journal::{PushRecord, RunRecord, TaskRecord};
use super::lock::RepoLock;
use super::repo::Repo;
use super::run_id::rfc3339_utc;

/// How a run starts on its branch.
#[derive(Debug, Clone, Copy)]
pub struct RunStart<'a> {
    /// The run id (the journal file's name).
    pub run_id: &'a str,
    /// The pipeline's name, for the journal and the ownership check.
    pub pipeline: &'a str,
    /// Take the lock and move the branch at the end; a dry run or a check only reads.
    pub writes: bool,
    /// Replace a branch that holds commits codefleet did not make, or another pipeline's.
    pub force: bool,
    /// A clone whose remote run branch was found to hold only codefleet's commits: its local
    /// branch is not checked for foreign commits (see [`Repo::check_run_branch`]).
    pub remote_checked: bool,
}

/// A run branch while a run works on it. Dropping it (or [`RunBranch::abort`]) releases the
/// lock and leaves the branch and the journal as they were.
#[derive(Debug)]
pub struct RunBranch<'r> {
    repo: &'r Repo,
    record: RunRecord,
    writes: bool,
    _lock: Option<RepoLock>,
}

/// Where [`RunBranch::finish`] left the branch.
#[derive(Debug)]
pub struct Landed {
    /// The branch tip now: the run's tip once the branch moved, else where it was before.
    pub tip: Option<git2::Oid>,
    /// Why finishing stopped short (the branch moved under the run: `E205`; a checkout
    /// refused: `E207`; a journal write failed). The tip says whether the branch moved.
    pub error: Option<Error>,
}

impl<'r> RunBranch<'r> {
    /// Starts a run on `branch` from `base`: takes the lock when the run writes (`E212` when
    /// another run holds it), reads the branch tip, and unless `force` refuses a branch whose
    /// commits this pipeline may not replace (`E302`, `E309`).
    pub fn begin(
        repo: &'r Repo,
        branch: &str,
        base: &Base,
        start: &RunStart<'_>,
    ) -> Result<RunBranch<'r>, Error> {
        let lock = if start.writes {
            Some(repo.lock()?)
        } else {
            None
        };
        let previous = repo.branch_tip(branch)?;
        if !start.force {
            repo.check_run_branch(branch, base.commit, start.pipeline, start.remote_checked)?;
        }
        let record = RunRecord::new(
            start.run_id,
            start.pipeline,
            &base.rev,
            base.commit,
            branch,
            previous,
        );
        Ok(RunBranch {
            repo,
            record,
            writes: start.writes,
            _lock: lock,
        })
    }

    /// The branch's short name.
    pub fn name(&self) -> &str {
        &self.record.branch
    }

    /// Where the branch pointed when the run began (`None`: it did not exist).
    pub fn previous_tip(&self) -> Option<git2::Oid> {
        self.record.previous_tip
    }

    /// The journal record so far.
    pub fn record(&self) -> &RunRecord {
        &self.record
    }

    /// Journals a task that ran.
    pub fn record_task(&mut self, task: TaskRecord) {
        self.record.tasks.push(task);
    }

    /// Takes a reverted task's commit out of the journal record: it never reaches the branch,
    /// and `why` says so.
    pub fn drop_commit(&mut self, commit: git2::Oid, why: Option<String>) {
        if let Some(task) = self
            .record
            .tasks
            .iter_mut()
            .rev()
            .find(|t| t.commit == Some(commit))
        {
            task.commit = None;
            task.files_changed.clear();
            task.error = why;
        }
    }

    /// Records a fact about the run as a whole (`not_run`, `interrupted`).
    pub fn note(&mut self, key: &str, value: serde_json::Value) {
        self.record.extra.insert(key.to_string(), value);
    }

    /// Ends the run with the branch at `tip` (`checkout`: then check it out). A run that
    /// writes nothing, or changes nothing on a branch that does not exist, moves nothing.
    /// Otherwise the journal names the commits before the branch moves (unfinished: no
    /// `finished_at`), so a run killed right after the move left a branch whose commits are
    /// known, not foreign; the branch moves only from where it was when the run began; the
    /// record is finished once it has moved; the checkout comes last.
    pub fn finish(mut self, tip: git2::Oid, checkout: bool) -> Landed {
        let previous = self.record.previous_tip;
        if !self.writes || (tip == self.record.base && previous.is_none()) {
            return Landed {
                tip: previous,
                error: None,
            };
        }
        if let Err(error) = self.journal_unfinished(tip) {
            return Landed {
                tip: previous,
                error: Some(error),
            };
        }
        if let Err(error) = self.move_branch(tip) {
            return Landed {
                tip: previous,
                error: Some(error),
            };
        }
        self.record.finished_at = Some(rfc3339_utc(SystemTime::now()));
        let error = self
            .repo
            .journal()
            .write(&self.record)
            .and_then(|()| {
                if checkout {
                    self.repo.checkout_branch(&self.record.branch)
                } else {
                    Ok(())
                }
            })
            .err();
        Landed {
            tip: Some(tip),
            error,
        }
    }

    /// Ends the run without touching the branch or the journal; the lock is released.
    pub fn abort(self) {}

    /// Writes the record with the run's tip and its place among the repository's runs.
    fn journal_unfinished(&mut self, tip: git2::Oid) -> Result<(), Error> {
        let journal = self.repo.journal();
        self.record.tip = Some(tip);
        // Under the repository lock: no other run takes the same number.
        self.record.sequence = journal.next_sequence()?;
        journal.write(&self.record)
    }

    /// Moves the branch from where it was to `tip`; when that fails, the record goes, since it
    /// would claim commits that never landed.
    fn move_branch(&self, tip: git2::Oid) -> Result<(), Error> {
        let moved = self
            .repo
            .update_branch(&self.record.branch, tip, self.record.previous_tip);
        if moved.is_err() {
            let _ = self.repo.journal().remove(&self.record.run_id);
        }
        moved.map(|_| ())
    }
}

/// A run branch's push bookkeeping after its run: the lease a push of it to one remote may
/// expect, and the record of what was pushed there, which is the next push's lease.
#[derive(Debug, Clone, Copy)]
pub struct BranchLease<'r> {
    repo: &'r Repo,
    branch: &'r str,
    url: &'r str,
}

impl<'r> BranchLease<'r> {
    /// The lease of `branch` on the remote at `url`.
    pub fn new(repo: &'r Repo, branch: &'r str, url: &'r str) -> BranchLease<'r> {
        BranchLease { repo, branch, url }
    }

    /// What a push of `new_tip` may expect the remote to hold (`None`: absent); see
    /// [`Repo::push_lease`].
    pub fn expected(
        &self,
        pipeline: &str,
        new_tip: git2::Oid,
        force: bool,
    ) -> Result<Option<git2::Oid>, Error> {
        self.repo
            .push_lease(self.url, self.branch, pipeline, new_tip, force)
    }

    /// Records that the remote's branch is now at `tip`: without the record the next push
    /// refuses rather than overwrites.
    pub fn pushed(&self, tip: git2::Oid) -> Result<(), Error> {
        let record = PushRecord::new(self.url, self.branch, tip);
        self.repo.journal().record_push(&record)
    }
}
