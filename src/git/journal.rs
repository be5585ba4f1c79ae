//! The run journal: one JSON file per run under `<git common dir>/codefleet/runs/<run-id>.json`,
//! and what codefleet last pushed of each branch to each remote under `codefleet/pushed/`, all
//! written atomically (temporary file + rename). `runs`, `show`, `rollback`, the foreign commit
//! check and the push lease read it. Unknown fields are kept (`extra`), so newer writers lose
//! nothing.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::Error;

use super::errors;
use super::repo::Repo;

/// One run in one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    /// The journal format version (1).
    #[serde(default = "one")]
    pub version: u32,
    /// The run id (file name without `.json`).
    pub run_id: String,
    /// The pipeline's name.
    pub pipeline: String,
    /// The base revision as given, e.g. `HEAD`.
    #[serde(default)]
    pub base_rev: String,
    /// The commit the run started from.
    #[serde(with = "oid_hex")]
    pub base: git2::Oid,
    /// The run branch (short name).
    pub branch: String,
    /// Where the branch pointed before the run; `None` when the run created it.
    #[serde(with = "opt_oid_hex")]
    pub previous_tip: Option<git2::Oid>,
    /// RFC 3339 UTC start time, to the millisecond.
    #[serde(default)]
    pub started_at: String,
    /// The run's place among this repository's runs (1, 2, …; 0 in journals of older
    /// versions): runs take the repository lock in turn, so this orders runs started in the
    /// same millisecond, or under a clock that stepped back.
    #[serde(default)]
    pub sequence: u64,
    /// Where the run left the branch (`None` in journals of older versions: the last commit).
    /// A run that made no commit can still have moved it, back to the base.
    #[serde(default, with = "opt_oid_hex", skip_serializing_if = "Option::is_none")]
    pub tip: Option<git2::Oid>,
    /// RFC 3339 UTC end time, when the run finished.
    #[serde(default)]
    pub finished_at: Option<String>,
    /// The tasks, in order.
    #[serde(default)]
    pub tasks: Vec<TaskRecord>,
    /// Rollbacks of this run, in order.
    #[serde(default)]
    pub rollbacks: Vec<RollbackRecord>,
    /// Anything else a writer recorded (tokens, requests, settings).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One task of a run.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TaskRecord {
    /// The task's name.
    pub name: String,
    /// The commit it made, `None` when it changed nothing (or failed).
    #[serde(default, with = "opt_oid_hex")]
    pub commit: Option<git2::Oid>,
    /// Paths it changed.
    #[serde(default)]
    pub files_changed: Vec<String>,
    /// Its edits, applied or failed.
    #[serde(default)]
    pub edits: Vec<EditRecord>,
    /// Durations in milliseconds by phase (`total`, `model`, `commit`…).
    #[serde(default)]
    pub timings_ms: BTreeMap<String, u64>,
    /// Why the task failed, when it did.
    #[serde(default)]
    pub error: Option<String>,
    /// Anything else (model, tokens, requests).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// One edit of a task.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct EditRecord {
    /// The file the edit named or changed.
    pub path: String,
    /// True when it applied.
    pub applied: bool,
    /// How it applied (the strategy) or why it failed.
    #[serde(default)]
    pub detail: String,
    /// Anything else (line, block, rescued path).
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

/// A rollback of (part of) a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RollbackRecord {
    /// RFC 3339 UTC time of the rollback.
    pub at: String,
    /// The task rolled back to before, `None` for the whole run.
    #[serde(default)]
    pub task: Option<String>,
    /// The branch tip before the rollback.
    #[serde(with = "oid_hex")]
    pub from: git2::Oid,
    /// The branch tip after it; `None` when the branch was deleted.
    #[serde(with = "opt_oid_hex")]
    pub to: Option<git2::Oid>,
}

fn one() -> u32 {
    1
}

impl RunRecord {
    /// A record for a run that is starting now, with no tasks yet.
    pub fn new(
        run_id: &str,
        pipeline: &str,
        base_rev: &str,
        base: git2::Oid,
        branch: &str,
        previous_tip: Option<git2::Oid>,
    ) -> RunRecord {
        RunRecord {
            version: 1,
            run_id: run_id.to_string(),
            pipeline: pipeline.to_string(),
            base_rev: base_rev.to_string(),
            base,
            branch: branch.to_string(),
            previous_tip,
            started_at: super::run_id::rfc3339_utc_millis(std::time::SystemTime::now()),
            sequence: 0,
            tip: None,
            finished_at: None,
            tasks: Vec::new(),
            rollbacks: Vec::new(),
            extra: BTreeMap::new(),
        }
    }

    /// The commits the run made, in order.
    pub fn commits(&self) -> Vec<git2::Oid> {
        self.tasks.iter().filter_map(|t| t.commit).collect()
    }

    /// Where codefleet last left the branch for this run: after its last rollback, else where
    /// the run left it, else its last commit, else the previous tip.
    pub fn expected_tip(&self) -> Option<git2::Oid> {
        match self.rollbacks.last() {
            Some(r) => r.to,
            None => self
                .tip
                .or_else(|| self.commits().last().copied())
                .or(self.previous_tip),
        }
    }

    /// Whether the run moved its branch (made commits, or reset it to the base).
    pub fn moved_branch(&self) -> bool {
        self.tip
            .map_or(!self.commits().is_empty(), |t| Some(t) != self.previous_tip)
    }
}

/// What codefleet last pushed of one branch to one remote: the lease of its next push there,
/// so a remote-tracking ref that a `git fetch` moved never decides what may be overwritten.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushRecord {
    /// The remote's URL, credentials removed.
    pub remote: String,
    /// The branch (short name).
    pub branch: String,
    /// The commit the remote branch was left at.
    #[serde(with = "oid_hex")]
    pub tip: git2::Oid,
    /// RFC 3339 UTC time of the push.
    #[serde(default)]
    pub at: String,
    /// Anything else a writer recorded.
    #[serde(flatten)]
    pub extra: BTreeMap<String, serde_json::Value>,
}

impl PushRecord {
    /// A push of `branch` to `remote` that left it at `tip`, now.
    pub fn new(remote: &str, branch: &str, tip: git2::Oid) -> PushRecord {
        PushRecord {
            remote: super::redact_userinfo(remote),
            branch: branch.to_string(),
            tip,
            at: super::run_id::rfc3339_utc_millis(std::time::SystemTime::now()),
            extra: BTreeMap::new(),
        }
    }
}

/// The journal directory of one repository.
#[derive(Debug, Clone)]
pub struct Journal {
    dir: PathBuf,
}

impl Repo {
    /// This repository's run journal.
    pub fn journal(&self) -> Journal {
        Journal {
            dir: self.codefleet_dir().join("runs"),
        }
    }
}

impl Journal {
    /// The journal over a directory (normally [`Repo::journal`]).
    pub fn at(dir: impl Into<PathBuf>) -> Journal {
        Journal { dir: dir.into() }
    }

    /// The directory holding the run files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file of one run. `None` for an id that is not a safe file name.
    pub fn path_of(&self, run_id: &str) -> Option<PathBuf> {
        let safe = !run_id.is_empty()
            && !run_id.starts_with('.')
            && run_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        safe.then(|| self.dir.join(format!("{run_id}.json")))
    }

    /// Deletes a run's record; one that is not there is fine.
    pub fn remove(&self, run_id: &str) -> Result<(), Error> {
        let Some(path) = self.path_of(run_id) else {
            return Ok(());
        };
        match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(errors::io(&path, &e)),
            _ => Ok(()),
        }
    }

    /// Writes (or replaces) a run's record atomically.
    pub fn write(&self, record: &RunRecord) -> Result<(), Error> {
        let path = self
            .path_of(&record.run_id)
            .ok_or_else(|| errors::bad_journal(&self.dir, "the run id is not a safe file name"))?;
        write_json(&self.dir, &path, record)
    }

    /// The sequence number of a run starting now: one past the highest in the journal. Call
    /// it under the repository lock, which keeps two runs from taking the same one.
    pub fn next_sequence(&self) -> Result<u64, Error> {
        Ok(self.list()?.iter().map(|r| r.sequence).max().unwrap_or(0) + 1)
    }

    fn pushes_dir(&self) -> PathBuf {
        self.dir.with_file_name("pushed")
    }

    fn push_path(&self, remote: &str, branch: &str) -> PathBuf {
        let key = format!("{}\n{branch}", super::redact_userinfo(remote));
        self.pushes_dir()
            .join(format!("{:016x}.json", super::fnv1a(key.as_bytes())))
    }

    /// What codefleet last pushed of `branch` to `remote`, `None` when it never did (or the
    /// record is unreadable: then no lease is assumed, which refuses rather than overwrites).
    pub fn last_push(&self, remote: &str, branch: &str) -> Option<PushRecord> {
        let path = self.push_path(remote, branch);
        let bytes = std::fs::read(&path).ok()?;
        let record: PushRecord = match serde_json::from_slice(&bytes) {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(file = %path.display(), error = %e, "unreadable push record");
                return None;
            }
        };
        let remote = super::redact_userinfo(remote);
        (record.remote == remote && record.branch == branch).then_some(record)
    }

    /// Records a push (replacing the previous record of that remote and branch).
    pub fn record_push(&self, record: &PushRecord) -> Result<(), Error> {
        let path = self.push_path(&record.remote, &record.branch);
        write_json(&self.pushes_dir(), &path, record)
    }

    /// Reads one run's record (`E209` when there is none, `E211` when it is damaged).
    pub fn read(&self, run_id: &str) -> Result<RunRecord, Error> {
        let Some(path) = self.path_of(run_id) else {
            return Err(errors::run_not_found(run_id, &self.dir));
        };
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(errors::run_not_found(run_id, &self.dir));
            }
            Err(e) => return Err(errors::io(&path, &e)),
        };
        serde_json::from_slice(&bytes).map_err(|e| errors::bad_journal(&path, &e.to_string()))
    }

    /// Every readable run, newest first. Damaged files are skipped with a warning, so one bad
    /// file does not hide the others.
    pub fn list(&self) -> Result<Vec<RunRecord>, Error> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(errors::io(&self.dir, &e)),
        };
        let mut runs = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| errors::io(&self.dir, &e))?;
            let name = entry.file_name();
            let Some(id) = name.to_str().and_then(|n| n.strip_suffix(".json")) else {
                continue;
            };
            if id.starts_with('.') {
                continue;
            }
            match self.read(id) {
                Ok(run) => runs.push(run),
                Err(e) => tracing::warn!(error = %e, "skipping an unreadable run journal"),
            }
        }
        runs.sort_by(|a, b| order_key(b).cmp(&order_key(a)));
        Ok(runs)
    }
}

/// Newest last: by sequence (older journals have 0), then start time (`…56Z` of older
/// journals is `…56.000Z`), then id.
fn order_key(run: &RunRecord) -> (u64, String, &str) {
    let time = match run.started_at.strip_suffix('Z') {
        Some(t) if !t.contains('.') => format!("{t}.000Z"),
        _ => run.started_at.clone(),
    };
    (run.sequence, time, &run.run_id)
}

/// `value` as pretty JSON in `path` (inside `dir`), written atomically: a temporary file in
/// `dir`, renamed over `path`.
fn write_json(dir: &Path, path: &Path, value: &impl Serialize) -> Result<(), Error> {
    std::fs::create_dir_all(dir).map_err(|e| errors::io(dir, &e))?;
    let json = serde_json::to_string_pretty(value)
        .map_err(|e| errors::bad_journal(path, &e.to_string()))?;
    // The journal keeps error text and model use: no key or token is written with it.
    let mut json = crate::secrets::redact(&json).into_owned().into_bytes();
    json.push(b'\n');
    let mut tmp = tempfile::Builder::new()
        .prefix(".run-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| errors::io(dir, &e))?;
    // Renamed into place, never synced: like the run branch's ref (libgit2 syncs nothing by
    // default) and git's loose objects. A killed run leaves the old record or the new one,
    // never half of one; only a power loss could leave a damaged record, which `runs` skips
    // with a warning. A sync per record cost two disk flushes per repository.
    tmp.write_all(&json)
        .map_err(|e| errors::io(tmp.path(), &e))?;
    tmp.persist(path).map_err(|e| errors::io(path, &e.error))?;
    Ok(())
}

mod oid_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(oid: &git2::Oid, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&oid.to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<git2::Oid, D::Error> {
        let text = String::deserialize(d)?;
        git2::Oid::from_str(&text)
            .map_err(|_| serde::de::Error::custom(format!("`{text}` is not an object id")))
    }
}

mod opt_oid_hex {
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(oid: &Option<git2::Oid>, s: S) -> Result<S::Ok, S::Error> {
        match oid {
            Some(o) => s.serialize_some(&o.to_string()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<git2::Oid>, D::Error> {
        let text = Option::<String>::deserialize(d)?;
        text.map(|t| {
            git2::Oid::from_str(&t)
                .map_err(|_| serde::de::Error::custom(format!("`{t}` is not an object id")))
        })
        .transpose()
    }
}
