//! Rollback of a journaled run (the whole run, or back to before one task), and the check a
//! re-run makes first: does the run branch hold commits codefleet did not make?

use std::collections::HashSet;

use crate::error::Error;

use super::errors;
use super::journal::{RollbackRecord, RunRecord};
use super::repo::Repo;
use super::run_id::rfc3339_utc;

/// What a rollback did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollback {
    /// The run rolled back.
    pub run_id: String,
    /// Its branch.
    pub branch: String,
    /// The task rolled back to before, `None` for the whole run.
    pub task: Option<String>,
    /// The branch tip before.
    pub from: git2::Oid,
    /// The branch tip after; `None`: the branch was deleted (the run had created it).
    pub to: Option<git2::Oid>,
}

/// At most this many foreign commits are reported (one is enough to stop a run).
const FOREIGN_LIMIT: usize = 100;

impl Repo {
    /// Puts a run's branch back where it was before the run — its previous tip, or no branch
    /// at all when the run created it — or, with `task` (a name, or a 1-based number), to the
    /// parent of that task's commit. Refuses (`E210`) when the branch is not where codefleet
    /// left it. Takes the repository lock and journals the rollback in the run's record.
    pub fn rollback(&self, run_id: &str, task: Option<&str>) -> Result<Rollback, Error> {
        let _lock = self.lock()?;
        let journal = self.journal();
        let mut run = journal.read(run_id)?;
        if !run.moved_branch() {
            return Err(errors::nothing_to_roll_back(
                run_id,
                "it made no commits and left the branch where it was",
            ));
        }
        let expected = run.expected_tip();
        if run.rollbacks.last().is_some_and(|r| r.task.is_none()) || expected == run.previous_tip {
            return Err(errors::nothing_to_roll_back(
                run_id,
                "it is already rolled back",
            ));
        }
        let (task_name, target) = self.rollback_target(&run, task)?;
        let current = self.branch_tip(&run.branch)?;
        // A run killed after it journaled its commits and before it moved the branch made
        // nothing to take back.
        if run.finished_at.is_none() && run.rollbacks.is_empty() && current == run.previous_tip {
            return Err(errors::nothing_to_roll_back(
                run_id,
                "it was stopped before it moved the branch",
            ));
        }
        // A rollback killed after it moved the branch and before it wrote the journal left the
        // branch exactly where this one would put it: finish that one by recording it.
        let interrupted = current == target && current != expected;
        let Some(from) = current
            .filter(|c| Some(*c) == expected)
            .or(expected.filter(|_| interrupted))
        else {
            return Err(self.not_where_left(&run, current)?);
        };
        match target {
            _ if interrupted => {}
            Some(to) => {
                self.update_branch(&run.branch, to, Some(from))?;
            }
            None => self.delete_branch(&run.branch, from)?,
        }
        run.rollbacks.push(RollbackRecord {
            at: rfc3339_utc(std::time::SystemTime::now()),
            task: task_name.clone(),
            from,
            to: target,
        });
        journal.write(&run)?;
        Ok(Rollback {
            run_id: run.run_id.clone(),
            branch: run.branch.clone(),
            task: task_name,
            from,
            to: target,
        })
    }

    /// Where a rollback of `run` puts its branch (with the task rolled back to before, if any):
    /// the run's previous tip, or the parent of `task`'s commit while that commit is still on
    /// the branch.
    fn rollback_target(
        &self,
        run: &RunRecord,
        task: Option<&str>,
    ) -> Result<(Option<String>, Option<git2::Oid>), Error> {
        let Some(wanted) = task else {
            return Ok((None, run.previous_tip));
        };
        let (name, commit) = find_task(run, wanted)?;
        let commits = run.commits();
        // Tasks after the expected tip were rolled back already.
        let live = match run.expected_tip() {
            Some(tip) => commits
                .iter()
                .position(|c| *c == tip)
                .map_or(&commits[..0], |i| &commits[..=i]),
            None => &commits[..0],
        };
        if !live.contains(&commit) {
            return Err(errors::nothing_to_roll_back(
                &run.run_id,
                &format!("task `{name}` is already rolled back"),
            ));
        }
        let parent = self
            .inner
            .find_commit(commit)
            .and_then(|c| c.parent_id(0))
            .map_err(|e| errors::git("read the task's parent commit", &e))?;
        Ok((Some(name), Some(parent)))
    }

    /// `E210` for a branch found at `current`, not where `run` left it; it names the later run
    /// of codefleet that moved it, when one did.
    fn not_where_left(&self, run: &RunRecord, current: Option<git2::Oid>) -> Result<Error, Error> {
        let err = errors::rollback_moved(&run.branch, run.expected_tip(), current);
        let later = self.journal().list()?.into_iter().find(|r| {
            r.run_id != run.run_id && r.branch == run.branch && r.expected_tip() == current
        });
        Ok(match later {
            Some(r) => err.hint(format!(
                "run `{}` moved the branch since; roll it back first",
                r.run_id
            )),
            None => err,
        })
    }

    /// Commits on `branch` that no journaled run of this branch made: walking from the tip,
    /// stopping at the runs' bases and commits. Empty when the branch does not exist or holds
    /// only codefleet's commits; at most 100 are returned, newest first.
    pub fn foreign_commits(&self, branch: &str) -> Result<Vec<git2::Oid>, Error> {
        let Some(tip) = self.branch_tip(branch)? else {
            return Ok(Vec::new());
        };
        let runs: Vec<RunRecord> = self
            .journal()
            .list()?
            .into_iter()
            .filter(|r| r.branch == branch)
            .collect();
        let known: HashSet<git2::Oid> = runs.iter().flat_map(|r| r.commits()).collect();
        if known.contains(&tip) {
            return Ok(Vec::new());
        }
        let fail = |e: git2::Error| errors::git(&format!("walk branch `{branch}`"), &e);
        let mut walk = self.inner.revwalk().map_err(fail)?;
        walk.push(tip).map_err(fail)?;
        for stop in runs.iter().map(|r| r.base).chain(known.iter().copied()) {
            // A stop point missing from the object database (pruned) cannot hide anything.
            let _ = walk.hide(stop);
        }
        let mut out = Vec::new();
        for id in walk {
            let id = id.map_err(fail)?;
            if !known.contains(&id) {
                out.push(id);
                if out.len() == FOREIGN_LIMIT {
                    break;
                }
            }
        }
        Ok(out)
    }
}

/// The task named `wanted`, or numbered so (1-based), with its commit.
fn find_task(run: &RunRecord, wanted: &str) -> Result<(String, git2::Oid), Error> {
    let by_name = run.tasks.iter().find(|t| t.name == wanted);
    let by_number = || {
        wanted
            .parse::<usize>()
            .ok()
            .and_then(|n| n.checked_sub(1))
            .and_then(|i| run.tasks.get(i))
    };
    let Some(task) = by_name.or_else(by_number) else {
        let names = run
            .tasks
            .iter()
            .map(|t| format!("`{}`", t.name))
            .collect::<Vec<_>>()
            .join(", ");
        return Err(errors::nothing_to_roll_back(
            &run.run_id,
            &format!("it has no task `{wanted}` (its tasks: {names})"),
        ));
    };
    match task.commit {
        Some(c) => Ok((task.name.clone(), c)),
        None => Err(errors::nothing_to_roll_back(
            &run.run_id,
            &format!("task `{}` made no commit", task.name),
        )),
    }
}
