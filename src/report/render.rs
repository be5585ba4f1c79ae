//! Renderers of a [`RunReport`]: the terminal summary table, the Markdown step summary, GitHub
//! Actions annotations, and unified diffs for `--dry-run`. All return strings; the CLI decides
//! where they go.

use std::fmt::Write as _;

use super::{FileStatus, Mode, PrAction, PushStatus, RepoReport, RepoStatus, RunReport};

fn short(id: &Option<git2::Oid>) -> String {
    id.map(|id| id.to_string()[..10].to_string())
        .unwrap_or_else(|| "-".into())
}

fn status_word(r: &RepoReport) -> &'static str {
    match r.status {
        RepoStatus::Changed => "changed",
        RepoStatus::Unchanged => "unchanged",
        RepoStatus::Reset => "reset",
        RepoStatus::Failed => "failed",
        RepoStatus::Skipped => "skipped",
        RepoStatus::Interrupted => "interrupted",
    }
}

/// The human summary: one row per repository (repo, status, branch, commits, files changed,
/// failures), then the failures spelled out, then a totals line.
pub fn summary_table(report: &RunReport, color: bool) -> String {
    let (red, green, dim, reset) = if color {
        ("\x1b[31m", "\x1b[32m", "\x1b[2m", "\x1b[0m")
    } else {
        ("", "", "", "")
    };
    let header = [
        "repo", "status", "branch", "tip", "commits", "files", "failed",
    ];
    let rows: Vec<[String; 7]> = report
        .repos
        .iter()
        .map(|r| {
            [
                r.path.clone(),
                status_word(r).to_string(),
                r.branch.clone().unwrap_or_else(|| "-".into()),
                short(&r.tip),
                r.commits().to_string(),
                r.files_changed().to_string(),
                (r.files_failed()
                    + r.tasks
                        .iter()
                        .filter(|t| t.status == super::TaskStatus::Failed && t.files_failed == 0)
                        .count())
                .to_string(),
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let line = |cells: &[String], out: &mut String, paint: (&str, &str)| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            if i > 0 {
                text.push_str("  ");
            }
            // Numbers right-aligned, words left-aligned.
            if i >= 4 {
                let _ = write!(text, "{cell:>w$}");
            } else {
                let _ = write!(text, "{cell:<w$}");
            }
        }
        let _ = writeln!(out, "{}{}{}", paint.0, text.trim_end(), paint.1);
    };
    let head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    line(&head, &mut out, (dim, reset));
    for (row, r) in rows.iter().zip(&report.repos) {
        let paint = match r.status {
            RepoStatus::Skipped if r.opted_out => (dim, reset),
            RepoStatus::Failed | RepoStatus::Skipped | RepoStatus::Interrupted => (red, reset),
            RepoStatus::Changed => (green, reset),
            RepoStatus::Unchanged | RepoStatus::Reset => ("", ""),
        };
        line(row, &mut out, paint);
    }
    let published = published(report);
    if !published.is_empty() {
        out.push('\n');
        for p in published {
            let _ = writeln!(out, "{p}");
        }
    }
    let left_out = left_out(report);
    if !left_out.is_empty() {
        out.push('\n');
        for line in left_out {
            let _ = writeln!(out, "{dim}{line}{reset}");
        }
    }
    let problems = problems(report);
    if !problems.is_empty() {
        out.push('\n');
        for p in problems {
            let _ = writeln!(out, "{red}{p}{reset}");
        }
    }
    if !report.warnings.is_empty() {
        out.push('\n');
        for w in &report.warnings {
            let _ = writeln!(out, "warning: {w}");
        }
    }
    for r in &report.repos {
        for t in r
            .tasks
            .iter()
            .filter(|t| t.status == super::TaskStatus::Failed)
        {
            let Some(c) = &t.command else { continue };
            let tail = c.tail(TERMINAL_TAIL_LINES);
            if tail.is_empty() {
                continue;
            }
            let _ = writeln!(
                out,
                "\n{}: task `{}`: `{}`, {}; last lines of its output:",
                r.path,
                t.name,
                c.command.trim(),
                c.ending()
            );
            for line in tail.lines() {
                let _ = writeln!(out, "{dim}  | {reset}{line}");
            }
        }
    }
    out.push_str(&suggested(report));
    let answered = answers(report);
    if !answered.is_empty() {
        out.push('\n');
        out.push_str(&answered);
    }
    let t = &report.totals;
    let verb = match report.mode {
        Mode::Run => "",
        Mode::DryRun | Mode::Check => " (would be written; nothing was)",
    };
    let _ = write!(out, "\n{}{verb}", totals_line(t));
    if report.interrupted {
        out.push_str("; interrupted: unfinished tasks wrote nothing");
    }
    out.push('\n');
    out
}

/// The repositories left out on purpose: those a discovery dropped before the run (counted by
/// reason, and named when there are few) and those that opt out with a `.codefleetignore`.
pub fn left_out(report: &RunReport) -> Vec<String> {
    /// Dropped repositories named one by one up to this many.
    const NAMED: usize = 10;
    let mut out = Vec::new();
    if !report.dropped.is_empty() {
        let mut line = format!("{} before the run", super::dropped_summary(&report.dropped));
        if report.dropped.len() <= NAMED {
            let names: Vec<String> = report
                .dropped
                .iter()
                .map(|d| format!("{} ({})", d.repo, d.reason.words()))
                .collect();
            line.push_str(&format!(": {}", names.join(", ")));
        }
        out.push(line);
    }
    for r in report.repos.iter().filter(|r| r.opted_out) {
        let why = r.message.as_deref().unwrap_or(".codefleetignore");
        out.push(format!("{}: skipped: {why}", r.path));
    }
    out
}

/// The one-line totals shared by the terminal summary and the Markdown summary.
fn totals_line(t: &super::Totals) -> String {
    let skipped = match t.files_skipped {
        0 => String::new(),
        1 => ", 1 file skipped".to_string(),
        n => format!(", {n} files skipped"),
    };
    format!(
        "{} repos, {} changed, {} failed; {} commits, {} files changed, {} files failed{skipped}{}",
        t.repos,
        t.repos_changed,
        t.repos_failed,
        t.commits,
        t.files_changed,
        t.files_failed,
        not_run(t)
    ) + &model_line(t)
}

/// One line per file a task left alone: `repo: task `t`: path: reason`.
pub fn skipped(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for r in &report.repos {
        for t in &r.tasks {
            for f in &t.skipped.files {
                out.push(format!(
                    "{}: task `{}`: {} skipped: {}",
                    r.path,
                    t.name,
                    f.path,
                    f.reason.words()
                ));
            }
        }
    }
    out
}

/// `; model: N requests, T tokens, $C` when a model was used.
fn model_line(t: &super::Totals) -> String {
    let m = &t.model;
    if m.is_empty() {
        return String::new();
    }
    let mut out = format!(
        "; model: {} request{}",
        m.requests,
        if m.requests == 1 { "" } else { "s" }
    );
    if m.cache_hits > 0 {
        let _ = write!(out, " (+{} cached)", m.cache_hits);
    }
    let _ = write!(out, ", {} tokens", m.tokens.total());
    match m.cost_usd {
        Some(c) => {
            let _ = write!(out, ", ${c:.4}");
        }
        None => out.push_str(", cost unknown"),
    }
    out
}

/// The answers of `ask` tasks, each under a `repo · task [· file]` heading, indented.
pub fn answers(report: &RunReport) -> String {
    let mut out = String::new();
    for r in &report.repos {
        for t in &r.tasks {
            for a in &t.answers {
                let about = a
                    .path
                    .as_deref()
                    .map(|p| format!(" · {p}"))
                    .unwrap_or_default();
                let cut = if a.truncated {
                    " (cut off at the output limit)"
                } else {
                    ""
                };
                let _ = writeln!(out, "# {} · {}{about}{cut}", r.path, t.name);
                for line in a.text.trim_end().lines() {
                    let _ = writeln!(out, "  {line}");
                }
                out.push('\n');
            }
        }
    }
    out
}

fn not_run(t: &super::Totals) -> String {
    let mut out = match t.tasks_skipped {
        0 => String::new(),
        1 => "; 1 task not run".into(),
        n => format!("; {n} tasks not run"),
    };
    match t.publish_failed {
        0 => {}
        1 => out.push_str("; 1 push or pull request failed"),
        n => out.push_str(&format!("; {n} pushes or pull requests failed")),
    }
    out
}

/// One line per repository that was pushed or got a pull request (`--push`, `--pr`).
pub fn published(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for r in &report.repos {
        let Some(p) = &r.publish else { continue };
        let push = match p.push {
            PushStatus::Pushed => format!("pushed to {}", p.remote),
            PushStatus::UpToDate => format!("up to date on {}", p.remote),
            PushStatus::Refused => "push refused".to_string(),
            PushStatus::Failed => "push failed".to_string(),
            // A repository held back (a failed check its revert did not make good) says why.
            PushStatus::NotPushed => match &p.message {
                Some(m) if m.starts_with("not pushed: ") => m.clone(),
                _ => "not pushed".to_string(),
            },
        };
        let pr = p.pull_request.as_ref().map(|pr| {
            let word = match pr.action {
                PrAction::Opened => "opened",
                PrAction::Updated => "updated",
                PrAction::Reopened => "reopened",
                PrAction::Closed => "closed",
                PrAction::Skipped => "not opened",
                PrAction::Failed => "failed",
            };
            // A pull request a person closed: `skipped: pull request #N was closed`.
            if let (PrAction::Skipped, Some(_), Some(m)) = (pr.action, pr.number, &pr.message) {
                return format!("; skipped: {m}");
            }
            // Each forge's own words: `merge request !7` on GitLab, `pull request #7` elsewhere.
            let kind = pr.forge.unwrap_or_default();
            let noun = kind.pull_request();
            let number = pr
                .number
                .map(|n| format!(" {}", kind.number(n)))
                .unwrap_or_default();
            let url = pr.url.as_ref().map(|u| format!(" {u}")).unwrap_or_default();
            let kept = match &pr.kept[..] {
                [] => String::new(),
                k => format!(" (kept a person's edits: {})", k.join(", ")),
            };
            format!("; {noun}{number} {word}{url}{kept}")
        });
        out.push(format!("{}: {push}{}", r.path, pr.unwrap_or_default()));
    }
    out
}

/// One line per failure: a skipped or failed repository, a failed task, a failed file, a
/// failed push or pull request.
pub fn problems(report: &RunReport) -> Vec<String> {
    let mut out = Vec::new();
    for r in &report.repos {
        if let Some(p) = &r.publish {
            if let (PushStatus::Refused | PushStatus::Failed, Some(m)) = (p.push, &p.message) {
                out.push(format!("{}: push: {m}", r.path));
            }
            if let Some(pr) = &p.pull_request
                && pr.action == PrAction::Failed
            {
                let m = pr.message.as_deref().unwrap_or("failed");
                let noun = pr.forge.unwrap_or_default().pull_request();
                out.push(format!("{}: {noun}: {m}", r.path));
            }
        }
        if let (RepoStatus::Skipped | RepoStatus::Failed, Some(m)) = (r.status, &r.message)
            && !r.opted_out
        {
            out.push(format!("{}: {}: {m}", r.path, status_word(r)));
        }
        if r.status == RepoStatus::Interrupted && r.tasks.is_empty() {
            out.push(format!("{}: interrupted before it started", r.path));
        } else if r.status == RepoStatus::Interrupted {
            let names = |done: bool| {
                let list: Vec<String> = r
                    .tasks
                    .iter()
                    .filter(|t| (t.status != super::TaskStatus::Interrupted) == done)
                    .map(|t| format!("`{}`", t.name))
                    .collect();
                if list.is_empty() {
                    "none".to_string()
                } else {
                    list.join(", ")
                }
            };
            out.push(format!(
                "{}: interrupted: finished {}; not run {}",
                r.path,
                names(true),
                names(false)
            ));
        }
        for t in &r.tasks {
            if let Some(m) = &t.message {
                out.push(format!("{}: task `{}`: {m}", r.path, t.name));
            }
            if t.partial {
                let half: Vec<&str> = t
                    .files
                    .iter()
                    .filter(|f| f.status != FileStatus::Failed && f.message.is_some())
                    .map(|f| f.path.as_str())
                    .collect();
                let half = if half.is_empty() {
                    String::new()
                } else {
                    format!("; left half-edited: {}", half.join(", "))
                };
                out.push(format!(
                    "{}: task `{}`: partly applied: {} files changed, {} failed{half}",
                    r.path, t.name, t.files_changed, t.files_failed
                ));
            }
            for f in t.files.iter().filter(|f| f.status == FileStatus::Failed) {
                let at = f.line.map(|l| format!(":{l}")).unwrap_or_default();
                out.push(format!(
                    "{}: task `{}`: {}{at}: {}",
                    r.path,
                    t.name,
                    f.path,
                    f.message.as_deref().unwrap_or("failed")
                ));
            }
        }
    }
    out
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|").replace('\n', " ")
}

/// The Markdown summary appended to `$GITHUB_STEP_SUMMARY`.
pub fn markdown(report: &RunReport) -> String {
    let mut out = String::new();
    let mode = match report.mode {
        Mode::Run => "",
        Mode::DryRun => " (dry run)",
        Mode::Check => " (check)",
    };
    let _ = writeln!(
        out,
        "### codefleet: `{}`{mode}\n\nRun `{}`{}\n",
        md_cell(&report.pipeline),
        report.run_id,
        if report.interrupted {
            ", **interrupted**"
        } else {
            ""
        }
    );
    failed_checks(report, &mut out);
    for w in &report.warnings {
        let _ = writeln!(out, "> **Warning**: {}\n", md_cell(&w.to_string()));
    }
    for line in left_out(report) {
        let _ = writeln!(out, "> {}\n", md_cell(&line));
    }
    out.push_str("| repo | status | branch | commits | files changed | failed |\n");
    out.push_str("| --- | --- | --- | ---: | ---: | ---: |\n");
    for r in &report.repos {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            md_cell(&r.path),
            status_word(r),
            r.branch
                .as_deref()
                .map(|b| format!("`{}`", md_cell(b)))
                .unwrap_or_else(|| "-".into()),
            r.commits(),
            r.files_changed(),
            r.files_failed()
        );
    }
    let published = published(report);
    if !published.is_empty() {
        out.push_str("\n**Published**\n\n");
        for p in published {
            let _ = writeln!(out, "- {}", md_cell(&p));
        }
    }
    let problems = problems(report);
    if !problems.is_empty() {
        out.push_str("\n**Failures**\n\n");
        for p in problems {
            let _ = writeln!(out, "- {}", md_cell(&p));
        }
    }
    let skipped = skipped(report);
    if !skipped.is_empty() {
        let _ = writeln!(
            out,
            "\n<details><summary><b>Skipped files</b> ({})</summary>\n",
            skipped.len()
        );
        for line in skipped {
            let _ = writeln!(out, "- {}", md_cell(&line));
        }
        out.push_str("\n</details>\n");
    }
    let commands = suggested(report);
    if !commands.is_empty() {
        let fence = fence_for(&commands);
        let _ = write!(
            out,
            "\n**Commands the model suggested**\n\n{fence}text{commands}{fence}\n"
        );
    }
    let mut any = false;
    for r in &report.repos {
        for t in &r.tasks {
            for a in &t.answers {
                if !any {
                    out.push_str("\n**Answers**\n");
                    any = true;
                }
                let about = a
                    .path
                    .as_deref()
                    .map(|p| format!(" · `{}`", md_cell(p)))
                    .unwrap_or_default();
                let cut = if a.truncated {
                    " (cut off at the output limit)"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "\n<details><summary>{} · {}{about}{cut}</summary>\n\n{}\n\n</details>",
                    md_cell(&r.path),
                    md_cell(&t.name),
                    a.text.trim_end()
                );
            }
        }
    }
    let t = &report.totals;
    let _ = writeln!(out, "\n{}\n", totals_line(t));
    out
}

/// A Markdown code fence longer than any backtick run in `text`, so the text shows verbatim.
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

/// The shell commands models suggested, per task, each line under a `$`: codefleet reports
/// them and never runs them. Empty when there are none.
fn suggested(report: &RunReport) -> String {
    let mut out = String::new();
    for r in &report.repos {
        for t in r.tasks.iter().filter(|t| !t.suggested_commands.is_empty()) {
            let _ = writeln!(
                out,
                "\n{}: task `{}`: the model suggested these commands; codefleet does not run them:",
                r.path, t.name
            );
            for command in &t.suggested_commands {
                for (i, line) in command.lines().enumerate() {
                    let _ = writeln!(out, "  {} {line}", if i == 0 { "$" } else { " " });
                }
            }
        }
    }
    out
}

/// Lines of a failed command's output shown in the terminal summary.
const TERMINAL_TAIL_LINES: usize = 10;

/// Lines of a failed check's output shown in the step summary.
const CHECK_TAIL_LINES: usize = 30;

/// The failed checks, each with how it ended and the end of its output: what a CI reader
/// looks for first.
fn failed_checks(report: &RunReport, out: &mut String) {
    let failed: Vec<(&RepoReport, &super::TaskReport)> = report
        .repos
        .iter()
        .flat_map(|r| r.tasks.iter().map(move |t| (r, t)))
        .filter(|(_, t)| t.kind == "check" && t.status == super::TaskStatus::Failed)
        .collect();
    if failed.is_empty() {
        return;
    }
    out.push_str("**Failed checks**\n\n");
    for (r, t) in failed {
        let (ending, took, tail) = match &t.command {
            Some(c) => (
                c.ending(),
                format!(" after {:.1} s", c.duration_ms as f64 / 1000.0),
                c.tail(CHECK_TAIL_LINES),
            ),
            None => (
                t.message.clone().unwrap_or_else(|| "failed".into()),
                String::new(),
                String::new(),
            ),
        };
        let reverted = if t.reverted.is_empty() {
            String::new()
        } else {
            let names: Vec<String> = t
                .reverted
                .iter()
                .map(|name| format!("`{}`", md_cell(name)))
                .collect();
            format!("; reverted {}", names.join(", "))
        };
        let _ = writeln!(
            out,
            "- {}: `{}`: {}{took}{reverted}",
            md_cell(&r.path),
            md_cell(&t.name),
            md_cell(&ending)
        );
        if !tail.is_empty() {
            let fence = fence_for(&tail);
            let _ = writeln!(
                out,
                "\n  <details><summary>output</summary>\n\n{fence}text\n{tail}\n{fence}\n\n  </details>\n"
            );
        }
    }
    out.push('\n');
}

/// Escapes a GitHub Actions workflow-command property or message.
fn gh_escape(text: &str, property: bool) -> String {
    let mut s = text
        .replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A");
    if property {
        s = s.replace(':', "%3A").replace(',', "%2C");
    }
    s
}

/// GitHub shows at most this many error annotations per step; the rest are counted in one
/// warning line instead of being dropped silently.
pub const MAX_ANNOTATIONS: usize = 10;

/// `::error file=…,line=…::` lines for failed files, failed tasks and failed repositories, for
/// GitHub Actions. File paths are relative to the repository. At most [`MAX_ANNOTATIONS`]
/// errors, then one `::warning::` line saying how many more failures the step summary lists.
pub fn annotations(report: &RunReport) -> String {
    let mut errors: Vec<String> = Vec::new();
    for r in &report.repos {
        if let (RepoStatus::Skipped | RepoStatus::Failed, Some(m)) = (r.status, &r.message) {
            errors.push(format!(
                "::error title={}::{}",
                gh_escape(&format!("codefleet {}", r.path), true),
                gh_escape(m, false)
            ));
        }
        for t in &r.tasks {
            let title = gh_escape(&format!("codefleet task {}", t.name), true);
            let failed: Vec<_> = t
                .files
                .iter()
                .filter(|f| f.status == FileStatus::Failed)
                .collect();
            if let (super::TaskStatus::Failed, Some(c)) = (t.status, &t.command) {
                // A failed command (a check, most often): one annotation with how it ended and
                // the last lines of its output.
                errors.push(format!(
                    "::error title={}::{}",
                    gh_escape(
                        &format!("codefleet {} `{}` in {}", t.kind, t.name, r.path),
                        true
                    ),
                    gh_escape(
                        &format!("`{}`: {}\n{}", c.command.trim(), c.ending(), c.tail(10)),
                        false
                    )
                ));
            } else if failed.is_empty()
                && t.status == super::TaskStatus::Failed
                && let Some(m) = &t.message
            {
                errors.push(format!(
                    "::error title={title}::{}",
                    gh_escape(&format!("{}: {m}", r.path), false)
                ));
            }
            for f in failed {
                let file = if r.path == "." {
                    f.path.clone()
                } else {
                    format!("{}/{}", r.path.trim_end_matches('/'), f.path)
                };
                let line = f.line.map(|l| format!(",line={l}")).unwrap_or_default();
                errors.push(format!(
                    "::error file={}{line},title={title}::{}",
                    gh_escape(&file, true),
                    gh_escape(f.message.as_deref().unwrap_or("edit failed"), false)
                ));
            }
        }
    }
    let more = errors.len().saturating_sub(MAX_ANNOTATIONS);
    let mut out = String::new();
    for e in errors.iter().take(MAX_ANNOTATIONS) {
        let _ = writeln!(out, "{e}");
    }
    if more > 0 {
        let _ = writeln!(
            out,
            "::warning title=codefleet::{more} more failures not shown as annotations (GitHub shows {MAX_ANNOTATIONS} per step); the step summary and the JSON report list them all"
        );
    }
    out
}

/// A unified diff of one file (`a/PATH` → `b/PATH`; `/dev/null` for a created or deleted
/// side). Binary or non-UTF-8 content gives a one-line note instead.
pub fn unified_diff(path: &str, old: Option<&[u8]>, new: Option<&[u8]>) -> String {
    let (Ok(old_text), Ok(new_text)) = (
        std::str::from_utf8(old.unwrap_or_default()),
        std::str::from_utf8(new.unwrap_or_default()),
    ) else {
        return format!("Binary files a/{path} and b/{path} differ\n");
    };
    let a = if old.is_some() {
        format!("a/{path}")
    } else {
        "/dev/null".into()
    };
    let b = if new.is_some() {
        format!("b/{path}")
    } else {
        "/dev/null".into()
    };
    let diff = similar::TextDiff::from_lines(old_text, new_text);
    let text = diff
        .unified_diff()
        .context_radius(3)
        .header(&a, &b)
        .to_string();
    format!("diff --git a/{path} b/{path}\n{text}")
}

/// Colours a unified diff for a terminal (`color` false returns it as is).
pub fn paint_diff(diff: &str, color: bool) -> String {
    if !color {
        return diff.to_string();
    }
    diff.split_inclusive('\n')
        .map(|line| {
            let paint = if line.starts_with("+++")
                || line.starts_with("---")
                || line.starts_with("diff ")
            {
                "\x1b[1m"
            } else if line.starts_with('+') {
                "\x1b[32m"
            } else if line.starts_with('-') {
                "\x1b[31m"
            } else if line.starts_with("@@") {
                "\x1b[36m"
            } else {
                return line.to_string();
            };
            let body = line.strip_suffix('\n').unwrap_or(line);
            let end = if line.ends_with('\n') { "\n" } else { "" };
            format!("{paint}{body}\x1b[0m{end}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::{FileReport, TaskReport, TaskStatus};
    use super::*;

    fn report() -> RunReport {
        let mut t = TaskReport::new("rename", "replace");
        t.status = TaskStatus::Failed;
        t.files_changed = 1;
        t.files_failed = 1;
        t.files = vec![FileReport {
            path: "src/a,b.rs".into(),
            status: FileStatus::Failed,
            replacements: None,
            message: Some("SEARCH not found\nat all".into()),
            line: Some(3),
            diff: None,
        }];
        let repo = RepoReport {
            status: RepoStatus::Failed,
            branch: Some("codefleet/p".into()),
            tip: Some(git2::Oid::from_str("0123456789abcdef").expect("an id")),
            tasks: vec![t],
            message: None,
            ..RepoReport::skipped("svc", "svc", "")
        };
        RunReport::new("r1", "p", Mode::Run, false, vec![repo])
    }

    #[test]
    fn annotations_stop_at_ten_and_count_the_rest() {
        let mut r = report();
        let file = r.repos[0].tasks[0].files[0].clone();
        r.repos[0].tasks[0].files = (0..13)
            .map(|i| FileReport {
                path: format!("f{i}.rs"),
                ..file.clone()
            })
            .collect();
        let text = annotations(&r);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 11, "{text}");
        assert!(
            lines[..10]
                .iter()
                .all(|l| l.starts_with("::error file=svc/f"))
        );
        assert!(lines[9].starts_with("::error file=svc/f9.rs,"), "{text}");
        assert!(
            lines[10].starts_with("::warning title=codefleet::3 more failures not shown"),
            "{text}"
        );
        // Ten exactly: no summary line.
        r.repos[0].tasks[0].files.truncate(10);
        assert_eq!(annotations(&r).lines().count(), 10);
    }

    #[test]
    fn a_failed_task_without_failed_files_is_annotated() {
        let mut r = report();
        r.repos[0].tasks[0].files.clear();
        r.repos[0].tasks[0].message = Some("`cargo check` exited 101".into());
        assert_eq!(
            annotations(&r),
            "::error title=codefleet task rename::svc: `cargo check` exited 101\n"
        );
    }

    #[test]
    fn the_table_lists_repos_and_failures() {
        let text = summary_table(&report(), false);
        let mut lines = text.lines();
        assert_eq!(
            lines.next(),
            Some("repo  status  branch       tip         commits  files  failed")
        );
        assert_eq!(
            lines.next(),
            Some("svc   failed  codefleet/p  0123456789        1      1       1")
        );
        assert!(text.contains("svc: task `rename`: src/a,b.rs:3: SEARCH not found"));
        assert!(text.ends_with(
            "1 repos, 1 changed, 1 failed; 1 commits, 1 files changed, 1 files failed\n"
        ));
    }

    #[test]
    fn annotations_escape_github_syntax() {
        assert_eq!(
            annotations(&report()),
            "::error file=svc/src/a%2Cb.rs,line=3,title=codefleet task rename::SEARCH not found%0Aat all\n"
        );
    }

    #[test]
    fn pushes_and_pull_requests_are_listed_and_failures_counted() {
        use super::super::{Publish, PullRequestReport};
        let mut r = report();
        r.repos[0].publish = Some(Publish {
            api_commits: Vec::new(),
            remote: "https://github.com/acme/svc.git".into(),
            push: PushStatus::Refused,
            message: Some("E520: not pushed: it moved".into()),
            pull_request: Some(PullRequestReport {
                forge: None,
                action: PrAction::Skipped,
                number: None,
                url: None,
                message: Some("the push did not succeed".into()),
                kept: Vec::new(),
            }),
        });
        let mut ok = r.repos[0].clone();
        ok.path = "api".into();
        ok.publish = Some(Publish {
            api_commits: Vec::new(),
            remote: "https://github.com/acme/api.git".into(),
            push: PushStatus::Pushed,
            message: None,
            pull_request: Some(PullRequestReport {
                forge: None,
                action: PrAction::Opened,
                number: Some(7),
                url: Some("https://github.com/acme/api/pull/7".into()),
                message: None,
                kept: Vec::new(),
            }),
        });
        r.repos.push(ok);
        r.recount();
        assert_eq!(r.totals.publish_failed, 1);
        let text = summary_table(&r, false);
        assert!(
            text.contains("api: pushed to https://github.com/acme/api.git; pull request #7 opened https://github.com/acme/api/pull/7"),
            "{text}"
        );
        assert!(
            text.contains("svc: push: E520: not pushed: it moved"),
            "{text}"
        );
        assert!(text.contains("; 1 push or pull request failed"), "{text}");
        assert!(markdown(&r).contains("**Published**"));
    }

    #[test]
    fn markdown_has_a_table_row_per_repo() {
        let md = markdown(&report());
        assert!(
            md.contains("| svc | failed | `codefleet/p` | 1 | 1 | 1 |"),
            "{md}"
        );
    }

    #[test]
    fn diffs_are_unified_and_coloured_on_request() {
        let d = unified_diff("a.txt", Some(b"x\ny\n"), Some(b"x\nz\n"));
        assert_eq!(
            d,
            "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1,2 +1,2 @@\n x\n-y\n+z\n"
        );
        let c = paint_diff(&d, true);
        assert!(c.contains("\x1b[31m-y\x1b[0m\n"));
        assert_eq!(
            unified_diff("b", Some(b"\xff"), None),
            "Binary files a/b and b/b differ\n"
        );
    }
}
