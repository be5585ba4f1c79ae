//! `codefleet runs`, `show` and `rollback`: read a repository's run journal, and put a run
//! branch back where it was, through `crate::git`.

use std::path::PathBuf;

use super::Out;
use super::args::{GlobalArgs, RollbackArgs, RunsArgs, ShowArgs};
use super::errors::{CliError, print_error};
use crate::error::{Error, Exit};
use crate::git::{Oid, Repo};

fn open(global: &GlobalArgs) -> Result<Repo, Error> {
    match global.repos.as_slice() {
        [] => Repo::open(&PathBuf::from(".")),
        [one] => Repo::open(one),
        _ => Err(CliError::OneRepository.into()),
    }
}

fn short(id: Oid) -> String {
    id.to_string().chars().take(10).collect()
}

fn io(e: std::io::Error) -> Error {
    CliError::Stream {
        what: "write the output",
        why: e.to_string(),
    }
    .into()
}

pub fn runs(global: &GlobalArgs, _args: &RunsArgs, out: &mut Out<'_>) -> Result<Exit, Error> {
    let repo = open(global)?;
    let runs = repo.journal().list()?;
    if global.json {
        let text = serde_json::to_string_pretty(&runs).map_err(|e| print_error("runs", &e))?;
        writeln!(out.stdout, "{text}").map_err(io)?;
        return Ok(Exit::Ok);
    }
    if runs.is_empty() {
        writeln!(
            out.stderr,
            "no codefleet runs in {}",
            repo.display_path().display()
        )
        .map_err(io)?;
        return Ok(Exit::Ok);
    }
    for run in &runs {
        let state = match run.rollbacks.last() {
            Some(r) if r.task.is_none() => " (rolled back)".to_string(),
            Some(r) => format!(
                " (rolled back to before `{}`)",
                r.task.as_deref().unwrap_or_default()
            ),
            None if run.finished_at.is_none() => " (stopped before it finished)".to_string(),
            None if interrupted(run) => " (interrupted)".to_string(),
            None if run.commits().is_empty() && run.moved_branch() => {
                " (moved the branch back to the base)".to_string()
            }
            None => String::new(),
        };
        writeln!(
            out.stdout,
            "{}  {}  {}  {} commits  {}{state}",
            run.run_id,
            run.pipeline,
            run.branch,
            run.commits().len(),
            run.started_at
        )
        .map_err(io)?;
    }
    Ok(Exit::Ok)
}

pub fn show(global: &GlobalArgs, args: &ShowArgs, out: &mut Out<'_>) -> Result<Exit, Error> {
    let repo = open(global)?;
    let run = repo.journal().read(&args.run)?;
    if global.json {
        let text = serde_json::to_string_pretty(&run).map_err(|e| print_error("run", &e))?;
        writeln!(out.stdout, "{text}").map_err(io)?;
        return Ok(Exit::Ok);
    }
    let mut text = format!(
        "run {}\npipeline {}\nbranch {}\nbase {} ({})\nprevious tip {}\nstarted {}\n",
        run.run_id,
        run.pipeline,
        run.branch,
        short(run.base),
        run.base_rev,
        run.previous_tip
            .map_or("none (the run created the branch)".into(), short),
        run.started_at,
    );
    for (i, task) in run.tasks.iter().enumerate() {
        let commit = task.commit.map_or("no commit".into(), short);
        text.push_str(&format!("\n{}. {}  {commit}\n", i + 1, task.name));
        if let Some(err) = &task.error {
            text.push_str(&format!("   error: {err}\n"));
        }
        if let Some(m) = task.extra.get("model") {
            // A model task's use, as the report's `model` object recorded it.
            let n = |k: &str| m.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
            let tokens = m.get("tokens").map_or(0, |t| {
                ["input", "cached_input", "output"]
                    .iter()
                    .filter_map(|k| t.get(*k).and_then(|v| v.as_u64()))
                    .sum()
            });
            let cost = m
                .get("cost_usd")
                .and_then(|v| v.as_f64())
                .map_or("cost unknown".to_string(), |c| format!("${c:.4}"));
            text.push_str(&format!(
                "   model {}: {} requests, {} cached, {tokens} tokens, {cost}\n",
                m.get("name").and_then(|v| v.as_str()).unwrap_or("?"),
                n("requests"),
                n("cache_hits"),
            ));
        }
        let stats = task.commit.and_then(|c| diffstat(&repo, c));
        for path in &task.files_changed {
            let stat = stats
                .as_ref()
                .and_then(|s| s.iter().find(|(p, _, _)| p == path))
                .map(|(_, add, del)| format!("  +{add} -{del}"))
                .unwrap_or_default();
            text.push_str(&format!("   {path}{stat}\n"));
        }
    }
    let not_run = run.extra.get("not_run").and_then(|v| v.as_array());
    for (i, t) in not_run.into_iter().flatten().enumerate() {
        text.push_str(&format!(
            "\n{}. {}  not run: {}\n",
            run.tasks.len() + i + 1,
            t.get("name").and_then(|v| v.as_str()).unwrap_or("?"),
            t.get("reason").and_then(|v| v.as_str()).unwrap_or("?"),
        ));
    }
    if interrupted(&run) {
        text.push_str("\ninterrupted: the tasks above with a commit are kept\n");
    } else if run.finished_at.is_none() {
        text.push_str("\nstopped before it finished\n");
    }
    for r in &run.rollbacks {
        text.push_str(&format!(
            "\nrolled back {} at {}: {} -> {}\n",
            r.task
                .as_deref()
                .map_or("the whole run".into(), |t| format!("to before `{t}`")),
            r.at,
            short(r.from),
            r.to.map_or("branch deleted".into(), short)
        ));
    }
    out.stdout.write_all(text.as_bytes()).map_err(io)?;
    Ok(Exit::Ok)
}

/// Whether Ctrl-C stopped the run (recorded by the run in its journal entry).
fn interrupted(run: &crate::git::RunRecord) -> bool {
    run.extra
        .get("interrupted")
        .and_then(|v| v.as_bool())
        .unwrap_or(false)
}

/// Lines added and removed per path by a commit against its first parent.
fn diffstat(repo: &Repo, commit: Oid) -> Option<Vec<(String, usize, usize)>> {
    let g = repo.git2();
    let c = g.find_commit(commit).ok()?;
    let parent = c.parent(0).ok()?.tree().ok()?;
    let diff = g
        .diff_tree_to_tree(Some(&parent), Some(&c.tree().ok()?), None)
        .ok()?;
    let mut out = Vec::new();
    for i in 0..diff.deltas().len() {
        let Ok(Some(patch)) = git2::Patch::from_diff(&diff, i) else {
            continue;
        };
        let Ok((_, add, del)) = patch.line_stats() else {
            continue;
        };
        let path = patch
            .delta()
            .new_file()
            .path()
            .or_else(|| patch.delta().old_file().path())
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default();
        out.push((path, add, del));
    }
    Some(out)
}

pub fn rollback(
    global: &GlobalArgs,
    args: &RollbackArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let repo = open(global)?;
    let done = repo.rollback(&args.run, args.task.as_deref())?;
    if global.json {
        let doc = serde_json::json!({
            "run_id": done.run_id,
            "branch": done.branch,
            "task": done.task,
            "from": done.from.to_string(),
            "to": done.to.map(|t| t.to_string()),
        });
        writeln!(out.stdout, "{doc}").map_err(io)?;
        return Ok(Exit::Ok);
    }
    let what = done
        .task
        .as_deref()
        .map_or("the whole run".to_string(), |t| {
            format!("to before task `{t}`")
        });
    let to = done
        .to
        .map_or("deleted (the run had created it)".to_string(), |t| {
            format!("now at {}", short(t))
        });
    writeln!(
        out.stdout,
        "rolled back {what} of run {}: branch `{}` was at {}, {to}",
        done.run_id,
        done.branch,
        short(done.from)
    )
    .map_err(io)?;
    Ok(Exit::Ok)
}
