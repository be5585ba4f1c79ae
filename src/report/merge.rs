//! `codefleet report merge`: the `--json` reports of the shards of one run (a CI matrix) joined
//! into one report per pipeline, as if one process had run every repository.

use std::path::Path;

use crate::error::{Error, Exit};

use super::{REPORT_VERSION, RunReport};

/// Reads one `--json` output of `codefleet run`: a report, or a list of them (one per pipeline).
pub fn read_reports(path: &Path) -> Result<Vec<RunReport>, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, &e))?;
    let bad = |e: serde_json::Error| {
        Error::new(
            "E540",
            format!("`{}` is not a codefleet run report: {e}", path.display()),
        )
        .in_file(path)
        .hint("pass the `--json` output of `codefleet run`")
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
            return Err(Error::new(
                "E541",
                format!(
                    "`{}` is report version {}; this codefleet reads version {REPORT_VERSION}",
                    path.display(),
                    r.version
                ),
            )
            .hint("merge reports written by the same codefleet version"));
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
            return Err(Error::new(
                "E542",
                format!(
                    "the reports of `{}` mix modes (a dry run and a real run)",
                    r.pipeline
                ),
            )
            .hint("merge the shards of one run")
            .exit(Exit::Usage));
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
        return Err(Error::new(
            "E542",
            format!(
                "the reports mix modes: `{}` is a {} and `{}` a {}",
                out[0].pipeline,
                mode_word(out[0].mode),
                other.pipeline,
                mode_word(other.mode)
            ),
        )
        .hint("merge the shards of one run")
        .exit(Exit::Usage));
    }
    for r in &mut out {
        r.recount();
        // A shard that matched files answers another shard's "matched nothing".
        r.warn_unmatched_files(std::iter::empty());
    }
    Ok(out)
}

fn mode_word(mode: super::Mode) -> &'static str {
    match mode {
        super::Mode::Run => "run",
        super::Mode::DryRun => "dry run",
        super::Mode::Check => "check",
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
        assert_eq!(merge(vec![a.clone(), b.clone()]).unwrap_err().code, "E542");
        // Nor across pipelines: the merged document has one mode.
        b.pipeline = "other".into();
        assert_eq!(merge(vec![a, b]).unwrap_err().code, "E542");
    }
}
