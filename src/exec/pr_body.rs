//! A pull request's body for one repository: the pipeline's `pr.body` rendered with the
//! repository's results (`{{ diffstat }}`, `{{ files }}`, `{{ tasks }}`, `{{ answers }}`,
//! `{{ checks }}`), or the default body built from them when the pipeline has none. The diff
//! is read with git2 where the run branch lives (the clone, or the local checkout).

use std::path::Path;

use crate::pipeline::Pipeline;
use crate::pipeline::template::Results;
use crate::report::{RepoReport, TaskReport, TaskStatus};

/// The body for `repo`, whose run branch lives in the repository at `git_dir`.
pub(super) fn render(
    pipeline: &Pipeline,
    run_id: &str,
    repo: &RepoReport,
    git_dir: &Path,
) -> String {
    let results = results(repo, git_dir);
    let mut ctx = pipeline.context(run_id, Some(&repo.name), None);
    ctx.results = Some(&results);
    let body = pipeline.pr.body.render(&ctx);
    if pipeline.pr.default_body {
        default_body(pipeline, &body, &results)
    } else {
        body
    }
}

/// The results of one repository's run as the body's variables show them.
pub(super) fn results(repo: &RepoReport, git_dir: &Path) -> Results {
    let (diffstat, files) = match (repo.base, repo.tip) {
        (Some(base), Some(tip)) => diff(git_dir, base, tip).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "no diffstat for the pull request body");
            (String::new(), String::new())
        }),
        _ => (String::new(), String::new()),
    };
    Results {
        diffstat,
        files,
        tasks: tasks(&repo.tasks),
        answers: answers(&repo.tasks),
        checks: checks(&repo.tasks),
    }
}

/// `git diff --stat base tip` and the changed paths as a Markdown list.
fn diff(git_dir: &Path, base: git2::Oid, tip: git2::Oid) -> Result<(String, String), git2::Error> {
    let git = git2::Repository::open(git_dir)?;
    let old = git.find_commit(base)?.tree()?;
    let new = git.find_commit(tip)?.tree()?;
    let diff = git.diff_tree_to_tree(Some(&old), Some(&new), None)?;
    let stats = diff.stats()?;
    let stat = stats.to_buf(git2::DiffStatsFormat::FULL, 80)?;
    let mut files = String::new();
    for delta in diff.deltas() {
        let file = match delta.status() {
            git2::Delta::Deleted => delta.old_file(),
            _ => delta.new_file(),
        };
        if let Some(path) = file.path() {
            files.push_str(&format!("- `{}`\n", path.display()));
        }
    }
    let stat = String::from_utf8_lossy(&stat).trim_end().to_string();
    Ok((stat, files.trim_end().to_string()))
}

/// Each task and what it did, a Markdown list.
fn tasks(tasks: &[TaskReport]) -> String {
    let lines: Vec<String> = tasks
        .iter()
        .map(|t| format!("- {}: {}", t.name, did(t)))
        .collect();
    lines.join("\n")
}

fn did(t: &TaskReport) -> String {
    let why = |m: &Option<String>| m.as_ref().map(|m| format!(": {m}")).unwrap_or_default();
    match t.status {
        TaskStatus::Changed => format!("committed {}", plural(t.files_changed, "file")),
        TaskStatus::Unchanged if t.kind == "check" => "passed".to_string(),
        TaskStatus::Unchanged if t.kind == "ask" => "answered".to_string(),
        TaskStatus::Unchanged => "no change".to_string(),
        TaskStatus::Failed if t.files_changed > 0 => format!(
            "committed {}, {} failed",
            plural(t.files_changed, "file"),
            t.files_failed
        ),
        TaskStatus::Failed => format!("failed{}", why(&t.message)),
        TaskStatus::Skipped => format!("skipped{}", why(&t.message)),
        TaskStatus::Interrupted => "interrupted".to_string(),
        TaskStatus::Reverted => "reverted by a failing check".to_string(),
    }
}

fn plural(n: usize, word: &str) -> String {
    format!("{n} {word}{}", if n == 1 { "" } else { "s" })
}

/// The `ask` tasks' answers: a heading per task, the file asked about when per file.
fn answers(tasks: &[TaskReport]) -> String {
    let mut out = Vec::new();
    for t in tasks.iter().filter(|t| !t.answers.is_empty()) {
        let mut part = format!("#### {}\n", t.name);
        for a in &t.answers {
            if let Some(path) = &a.path {
                part.push_str(&format!("\n`{path}`:\n"));
            }
            part.push('\n');
            part.push_str(a.text.trim_end());
            if a.truncated {
                part.push_str(" …(cut off)");
            }
            part.push('\n');
        }
        out.push(part.trim_end().to_string());
    }
    out.join("\n\n")
}

/// The `check` tasks, their commands and how they ended, a Markdown list.
fn checks(tasks: &[TaskReport]) -> String {
    let lines: Vec<String> = tasks
        .iter()
        .filter(|t| t.kind == "check")
        .map(|t| {
            let command = t
                .command
                .as_ref()
                .map(|c| format!(" (`{}`)", c.command))
                .unwrap_or_default();
            let ended = match t.status {
                TaskStatus::Failed => match &t.held_back {
                    Some(_) => "failed",
                    None => "failed; the changes before it were reverted",
                },
                TaskStatus::Changed => "passed after fixes",
                TaskStatus::Skipped | TaskStatus::Interrupted => "did not run",
                _ => "passed",
            };
            format!("- {}{command}: {ended}", t.name)
        })
        .collect();
    lines.join("\n")
}

/// The body when the pipeline has no `pr.body`: its description, what ran, the checks, the
/// answers, and the diffstat.
fn default_body(pipeline: &Pipeline, description: &str, r: &Results) -> String {
    let mut parts = Vec::new();
    if !description.trim().is_empty() {
        parts.push(description.trim_end().to_string());
    }
    // No run id: a body that differs on every run would never keep a person's edit.
    parts.push(format!("Made by codefleet pipeline `{}`.", pipeline.name));
    if !r.tasks.is_empty() {
        parts.push(format!("### Tasks\n\n{}", r.tasks));
    }
    if !r.checks.is_empty() {
        parts.push(format!("### Checks\n\n{}", r.checks));
    }
    if !r.answers.is_empty() {
        parts.push(format!("### Answers\n\n{}", r.answers));
    }
    if !r.diffstat.is_empty() {
        parts.push(format!("### Changes\n\n```\n{}\n```", r.diffstat));
    }
    parts.join("\n\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tasks_checks_and_answers_read_as_lists() {
        let mut edit = TaskReport::new("rename", "replace");
        edit.status = TaskStatus::Changed;
        edit.files_changed = 2;
        let mut same = TaskReport::new("format", "run");
        same.status = TaskStatus::Unchanged;
        let mut build = TaskReport::new("build", "check");
        build.status = TaskStatus::Unchanged;
        build.command = Some(crate::report::CommandReport {
            command: "cargo check".into(),
            exit_code: Some(0),
            signal: None,
            timed_out: false,
            duration_ms: 1,
            output: String::new(),
            output_truncated: false,
        });
        let mut ask = TaskReport::new("survey", "ask");
        ask.status = TaskStatus::Unchanged;
        ask.answers.push(crate::report::Answer {
            path: None,
            files: vec![],
            text: "No legacy calls.\n".into(),
            truncated: false,
        });
        let all = [edit, same, build, ask];
        assert_eq!(
            tasks(&all),
            "- rename: committed 2 files\n- format: no change\n- build: passed\n- survey: answered"
        );
        assert_eq!(checks(&all), "- build (`cargo check`): passed");
        assert_eq!(answers(&all), "#### survey\n\nNo legacy calls.");
    }
}
