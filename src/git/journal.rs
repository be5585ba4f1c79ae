//! The run journal: one JSON file per run under `<git common dir>/codefleet/runs/<run-id>.json`,
//! written atomically (temporary file + rename). `runs`, `show`, `rollback` and the foreign
//! commit check read it. Unknown fields are kept (`extra`), so newer writers lose nothing.

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
    /// RFC 3339 UTC start time.
    #[serde(default)]
    pub started_at: String,
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
            started_at: super::run_id::rfc3339_utc(std::time::SystemTime::now()),
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

    /// Where codefleet last left the branch for this run: after its last rollback, else its
    /// last commit, else the previous tip.
    pub fn expected_tip(&self) -> Option<git2::Oid> {
        match self.rollbacks.last() {
            Some(r) => r.to,
            None => self.commits().last().copied().or(self.previous_tip),
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
        std::fs::create_dir_all(&self.dir).map_err(|e| errors::io(&self.dir, &e))?;
        let json = serde_json::to_string_pretty(record)
            .map_err(|e| errors::bad_journal(&path, &e.to_string()))?;
        // The journal keeps error text and model use: no key or token is written with it.
        let mut json = crate::secrets::redact(&json).into_owned().into_bytes();
        json.push(b'\n');
        let mut tmp = tempfile::Builder::new()
            .prefix(".run-")
            .suffix(".tmp")
            .tempfile_in(&self.dir)
            .map_err(|e| errors::io(&self.dir, &e))?;
        tmp.write_all(&json)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| errors::io(tmp.path(), &e))?;
        tmp.persist(&path)
            .map_err(|e| errors::io(&path, &e.error))?;
        Ok(())
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
        runs.sort_by(|a, b| (&b.started_at, &b.run_id).cmp(&(&a.started_at, &a.run_id)));
        Ok(runs)
    }
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
