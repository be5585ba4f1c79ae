//! The git side of a run's tasks: the journal record of a task, the previous run's commits an
//! identical re-run reuses, and a guard on the parent of commits built from large change sets.

use crate::git::{self, Repo, TaskRecord};
use crate::report::{FileReport, FileStatus, TaskReport};

/// The journal's record of a task that ran.
pub(super) fn task_record(
    report: &TaskReport,
    commit: Option<git::Oid>,
    took: std::time::Duration,
) -> TaskRecord {
    let changed = |f: &&FileReport| f.status != FileStatus::Failed;
    TaskRecord {
        name: report.name.clone(),
        commit,
        files_changed: if commit.is_some() {
            report
                .files
                .iter()
                .filter(changed)
                .map(|f| f.path.clone())
                .collect()
        } else {
            Vec::new()
        },
        edits: if report.edits.is_empty() {
            report
                .files
                .iter()
                .filter(|f| f.status == FileStatus::Failed)
                .map(|f| git::EditRecord {
                    path: f.path.clone(),
                    applied: false,
                    detail: f.message.clone().unwrap_or_default(),
                    ..git::EditRecord::default()
                })
                .collect()
        } else {
            // A model task: every edit the model sent, with the round and reply line.
            report
                .edits
                .iter()
                .map(|e| {
                    let mut extra = std::collections::BTreeMap::new();
                    extra.insert("round".to_string(), e.round.into());
                    extra.insert("line".to_string(), e.line.into());
                    if let Some(file) = &e.file {
                        extra.insert("file".to_string(), file.clone().into());
                    }
                    git::EditRecord {
                        path: e.path.clone(),
                        applied: e.applied,
                        detail: e.detail.clone(),
                        extra,
                    }
                })
                .chain(
                    report
                        .files
                        .iter()
                        .filter(|f| f.status == FileStatus::Failed)
                        .map(|f| git::EditRecord {
                            path: f.path.clone(),
                            applied: false,
                            detail: f.message.clone().unwrap_or_default(),
                            extra: [("file_failed".to_string(), true.into())].into(),
                        }),
                )
                .collect()
        },
        timings_ms: [("total".to_string(), took.as_millis() as u64)].into(),
        error: report.message.clone(),
        extra: match &report.model {
            // `model`: name, format, requests, cache hits, retries, tokens, cost (null when
            // unknown), as in the report.
            Some(m) => serde_json::to_value(m)
                .ok()
                .map(|v| [("model".to_string(), v)].into())
                .unwrap_or_default(),
            None => Default::default(),
        },
    }
}

/// A commit of the branch before this run, for reuse by an identical re-run.
pub(super) struct PreviousCommit {
    pub id: git::Oid,
    pub parent: Option<git::Oid>,
    pub task: String,
}

/// The first-parent chain of the branch tip, newest first, as long as its commits carry
/// codefleet trailers (at most 1000).
pub(super) fn previous_commits(repo: &Repo, tip: Option<git::Oid>) -> Vec<PreviousCommit> {
    let mut out = Vec::new();
    let mut next = tip;
    while let Some(id) = next {
        let Ok(c) = repo.git2().find_commit(id) else {
            break;
        };
        let message = c.message().unwrap_or_default();
        if !message.contains("\nCodefleet-Run: ") || out.len() >= 1000 {
            break;
        }
        let task = message
            .lines()
            .find_map(|l| l.strip_prefix("Codefleet-Task: "))
            .unwrap_or_default()
            .to_string();
        out.push(PreviousCommit {
            id,
            parent: c.parent_id(0).ok(),
            task,
        });
        next = c.parent_id(0).ok();
    }
    out
}
