//! `codefleet report merge`: the `--json` reports of the shards of one run (a CI matrix) joined
//! into one report per pipeline, as if one process had run every repository.

use std::path::{Path, PathBuf};

use crate::error::{Code, Error, Kind, Place, codes};

use super::{Mode, REPORT_VERSION, RunReport};

/// Why reports cannot be merged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MergeError {
    /// The file is not JSON a run report reads from.
    #[error("`{}` is not a codefleet run report: {why}", path.display())]
    NotAReport {
        /// The file.
        path: PathBuf,
        /// What the JSON reader said.
        why: String,
    },
    /// A report written by a codefleet of another report version.
    #[error(
        "`{}` is report version {found}; this codefleet reads version {}",
        path.display(),
        REPORT_VERSION
    )]
    Version {
        /// The file.
        path: PathBuf,
        /// The version it holds.
        found: u32,
    },
    /// The shards of one pipeline ran in different modes.
    #[error("the reports of `{pipeline}` mix modes (a dry run and a real run)")]
    PipelineModes {
        /// The pipeline.
        pipeline: String,
    },
    /// Two pipelines' reports ran in different modes, so no one document holds both.
    #[error("the reports mix modes: `{first}` is a {} and `{other}` a {}", mode_word(*first_mode), mode_word(*other_mode))]
    Modes {
        /// The first report's pipeline.
        first: String,
        /// Its mode.
        first_mode: Mode,
        /// A pipeline of another mode.
        other: String,
        /// That mode.
        other_mode: Mode,
    },
}

impl Kind for MergeError {
    fn code(&self) -> Code {
        match self {
            MergeError::NotAReport { .. } => codes::NOT_A_REPORT,
            MergeError::Version { .. } => codes::REPORT_VERSION,
            MergeError::PipelineModes { .. } | MergeError::Modes { .. } => codes::REPORT_MODES,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(
            match self {
                MergeError::NotAReport { .. } => "pass the `--json` output of `codefleet run`",
                MergeError::Version { .. } => "merge reports written by the same codefleet version",
                MergeError::PipelineModes { .. } | MergeError::Modes { .. } => {
                    "merge the shards of one run"
                }
            }
            .to_string(),
        )
    }

    fn place(&self) -> Option<Place> {
        match self {
            MergeError::NotAReport { path, .. } => Some(Place::file(path)),
            _ => None,
        }
    }
}

/// Reads one `--json` output of `codefleet run`: a report, or a list of them (one per pipeline).
pub fn read_reports(path: &Path) -> Result<Vec<RunReport>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
    let bad = |e: serde_json::Error| -> Error {
        MergeError::NotAReport {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
        .into()
    };
    let value: serde_json::Value = serde_json::from_str(&text).map_err(bad)?;
    // Earlier versions printed a list for several pipelines; both are read.
    let documents: Vec<RunReport> = if value.is_array() {
        serde_json::from_value(value).map_err(bad)?
    } else {
        vec![serde_json::from_value(value).map_err(bad)?]
    };
    let reports: Vec<RunReport> = documents.into_iter().flat_map(RunReport::split).collect();
    for r in &reports {
        if r.version != REPORT_VERSION {
            return Err(MergeError::Version {
                path: path.to_path_buf(),
                found: r.version,
            }
            .into());
        }
    }
    Ok(reports)
}

/// Joins reports: one merged report per pipeline, in order of first appearance; repositories
/// in the order the reports list them, a repository named twice kept once (the later report
/// wins: a shard re-run replaces the first attempt). Totals and the exit code are recomputed.
pub fn merge(reports: Vec<RunReport>) -> Result<Vec<RunReport>, Error> {
    let mut out: Vec<RunReport> = Vec::new();
    for r in reports {
        let Some(into) = out.iter_mut().find(|m| m.pipeline == r.pipeline) else {
            out.push(r);
            continue;
        };
        if into.mode != r.mode {
            return Err(MergeError::PipelineModes {
                pipeline: r.pipeline,
            }
            .into());
        }
        if !into.run_id.split('+').any(|id| id == r.run_id) {
            into.run_id = format!("{}+{}", into.run_id, r.run_id);
        }
        into.interrupted |= r.interrupted;
        for w in r.warnings {
            if !into.warnings.contains(&w) {
                into.warnings.push(w);
            }
        }
        // Every shard discovers the whole fleet, so each lists the same dropped repositories.
        for d in r.dropped {
            if !into.dropped.contains(&d) {
                into.dropped.push(d);
            }
        }
        for repo in r.repos {
            if let Some(i) = into.repos.iter().position(|x| x.path == repo.path) {
                into.repos[i] = repo;
            } else {
                into.repos.push(repo);
            }
        }
    }
    // One document holds them all (`RunReport::combine`), under one mode.
    if let Some(other) = out.iter().find(|r| r.mode != out[0].mode) {
        return Err(MergeError::Modes {
            first: out[0].pipeline.clone(),
            first_mode: out[0].mode,
            other: other.pipeline.clone(),
            other_mode: other.mode,
        }
        .into());
    }
    for r in &mut out {
        r.recount();
        // A shard that matched files answers another shard's "matched nothing".
        r.warn_unmatched_files(std::iter::empty());
    }
    Ok(out)
}

fn mode_word(mode: Mode) -> &'static str {
    match mode {
        Mode::Run => "run",
        Mode::DryRun => "dry run",
        Mode::Check => "check",
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Mode, RepoReport, RepoStatus, TaskReport, TaskStatus};
    use super::*;

    fn shard(run_id: &str, repos: &[(&str, RepoStatus)]) -> RunReport {
        let repos = repos
            .iter()
            .map(|(p, status)| {
                let mut t = TaskReport::new("t", "replace");
                if *status == RepoStatus::Changed {
                    t.status = TaskStatus::Changed;
                    t.files_changed = 2;
                }
                RepoReport {
                    status: *status,
                    message: None,
                    tasks: vec![t],
                    ..RepoReport::skipped(*p, *p, "")
                }
            })
            .collect();
        RunReport::new(run_id, "p", Mode::Run, false, repos)
    }

    #[test]
    fn shards_join_into_one_report_with_recomputed_totals() {
        let a = shard(
            "r1",
            &[("a", RepoStatus::Changed), ("b", RepoStatus::Unchanged)],
        );
        let b = shard(
            "r2",
            &[("c", RepoStatus::Changed), ("d", RepoStatus::Skipped)],
        );
        let merged = merge(vec![a.clone(), b]).unwrap();
        assert_eq!(merged.len(), 1);
        let m = &merged[0];
        assert_eq!(m.run_id, "r1+r2");
        let paths: Vec<&str> = m.repos.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(paths, ["a", "b", "c", "d"]);
        assert_eq!(m.totals.repos, 4);
        assert_eq!(m.totals.commits, 2);
        assert_eq!(m.totals.files_changed, 4);
        assert_eq!(m.totals.repos_failed, 1);
        assert_eq!(m.exit_code, 1);
        // A report round-trips through its JSON.
        let text = serde_json::to_string(&a).unwrap();
        let back: RunReport = serde_json::from_str(&text).unwrap();
        assert_eq!(back, a);
    }

    #[test]
    fn mixed_modes_do_not_merge() {
        let a = shard("r1", &[("a", RepoStatus::Changed)]);
        let mut b = shard("r2", &[("b", RepoStatus::Changed)]);
        b.mode = Mode::DryRun;
        let e = merge(vec![a.clone(), b.clone()]).unwrap_err();
        assert_eq!(e.code, "E542");
        assert_eq!(e.exit, crate::error::Exit::Usage);
        assert_eq!(
            e.one_line(),
            "[E542] the reports of `p` mix modes (a dry run and a real run) (merge the shards of one run)"
        );
        assert!(matches!(
            e.kind::<MergeError>(),
            Some(MergeError::PipelineModes { .. })
        ));
        // Nor across pipelines: the merged document has one mode.
        b.pipeline = "other".into();
        let e = merge(vec![a, b]).unwrap_err();
        assert_eq!(e.code, "E542");
        assert_eq!(
            e.message,
            "the reports mix modes: `p` is a run and `other` a dry run"
        );
    }

    #[test]
    fn a_file_that_is_not_a_report_or_of_another_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.json");
        std::fs::write(&path, "{}").unwrap();
        let e = read_reports(&path).unwrap_err();
        assert_eq!(e.code, "E540");
        assert!(
            e.message.starts_with(&format!(
                "`{}` is not a codefleet run report: missing field",
                path.display()
            )),
            "{}",
            e.message
        );
        assert_eq!(e.place.as_deref(), Some(&Place::file(&path)));
        assert_eq!(
            e.hint.as_deref(),
            Some("pass the `--json` output of `codefleet run`")
        );
        let mut old = serde_json::to_value(shard("r1", &[("a", RepoStatus::Changed)])).unwrap();
        old["version"] = 0.into();
        std::fs::write(&path, old.to_string()).unwrap();
        let e = read_reports(&path).unwrap_err();
        assert_eq!(
            e.one_line(),
            format!(
                "[E541] `{}` is report version 0; this codefleet reads version {REPORT_VERSION} (merge reports written by the same codefleet version)",
                path.display()
            )
        );
        assert!(matches!(
            e.kind::<MergeError>(),
            Some(MergeError::Version { found: 0, .. })
        ));
    }
}
