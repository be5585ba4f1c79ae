//! `codefleet status`, `merge` and `close`: the campaign's repositories resolved as `run`
//! resolves them (`run::targets`), read and acted on through `crate::campaign`, printed as a
//! table (or `--json`).

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::Out;
use super::args::{
    CampaignMergeArgs, ChecksFilter, CloseArgs, GlobalArgs, MethodArg, StateFilter, StatusArgs,
};
use super::errors::{print_error, stream_error};
use super::run::{interrupt_flag, load_pipelines, targets, with_settings};
use crate::campaign::{
    self, BranchOutcome, CampaignError, CheckState, CloseOptions, CloseOutcome, MergeOptions,
    MergeOutcome, ReadOptions, Require, Row, State, StatusReport, Totals, Tracked,
};
use crate::error::{Error, Exit};
use crate::forge::{Forges, MergeMethod};
use crate::secrets::redact;
use crate::settings::{Settings, Source};

/// API calls in flight when `--jobs` is not given: GitHub counts concurrent requests against
/// its secondary rate limit, so not the number of cores.
const DEFAULT_API_JOBS: usize = 8;

/// The campaign's repositories, every pipeline's in order.
fn read(
    paths: &[std::path::PathBuf],
    global: &GlobalArgs,
    settings: &Settings,
    details: bool,
    out: &mut Out<'_>,
) -> Result<(Forges, Vec<Tracked>), Error> {
    let paths: Vec<&Path> = paths.iter().map(|p| p.as_path()).collect();
    let mut pipelines = load_pipelines(&paths, global, out)?;
    let forges = super::hosts::forges(settings);
    let mut members = Vec::new();
    for p in &mut pipelines {
        with_settings(p, settings)?;
        let targets = targets(p, global, settings, &forges)?.targets;
        members.extend(campaign::members(p, &targets, &forges)?);
    }
    let jobs = match settings.jobs.source {
        Source::Default => DEFAULT_API_JOBS,
        _ => settings.jobs.value,
    };
    let tracked = campaign::read(members, &forges, ReadOptions { jobs, details })?;
    Ok((forges, tracked))
}

/// The name a row goes by: the forge repository, else the repository as named.
fn shown(row: &Row) -> String {
    row.repo.clone().unwrap_or_else(|| row.path.clone())
}

fn pr_cell(row: &Row) -> String {
    row.pull_request
        .as_ref()
        .map_or("-".into(), |p| row.forge.number(p.number))
}

fn json_out<T: serde::Serialize>(
    value: &T,
    what: &'static str,
    out: &mut Out<'_>,
) -> Result<(), Error> {
    let text = serde_json::to_string_pretty(value).map_err(|e| print_error(what, &e))?;
    writeln!(out.stdout, "{}", redact(&text)).map_err(|e| stream_error("write to stdout", &e))
}

/// Columns padded to their widest cell; the last one is not padded.
fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let last = cells.len().saturating_sub(1);
        let mut s = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  ", w = widths[i]));
            }
        }
        s.trim_end().to_string() + "\n"
    };
    let mut text = line(header.to_vec());
    for r in rows {
        text.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    text
}

fn opt<T>(v: Option<T>, name: impl Fn(T) -> String) -> String {
    v.map_or("-".into(), name)
}

pub fn status(
    global: &GlobalArgs,
    settings: &Settings,
    args: &StatusArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let (_, tracked) = read(&args.pipelines, global, settings, true, out)?;
    let rows: Vec<Row> = tracked.into_iter().map(|t| t.row).collect();
    let totals = Totals::of(&rows);
    let exit = if rows.iter().any(|r| r.error.is_some()) {
        Exit::Failed
    } else {
        Exit::Ok
    };
    let shown_rows: Vec<Row> = rows
        .into_iter()
        .filter(|r| state_matches(args.state, r.state) && checks_match(args.checks, r))
        .collect();
    if global.json {
        let report = StatusReport {
            version: 1,
            repos: shown_rows,
            totals,
        };
        json_out(&report, "status", out)?;
        return Ok(exit);
    }
    let cells: Vec<Vec<String>> = shown_rows
        .iter()
        .map(|r| {
            vec![
                shown(r),
                r.branch.clone(),
                pr_cell(r),
                r.state.name().to_string(),
                opt(r.checks, |c| c.name().into()),
                opt(r.review, |v| v.name().into()),
                opt(r.mergeable, |m| m.name().into()),
                opt(r.behind_by, |b| b.to_string()),
                r.pull_request
                    .as_ref()
                    .map_or(String::new(), |p| p.url.clone()),
            ]
        })
        .collect();
    let mut text = table(
        &[
            "REPOSITORY",
            "BRANCH",
            "PR",
            "STATE",
            "CHECKS",
            "REVIEW",
            "MERGEABLE",
            "BEHIND",
            "URL",
        ],
        &cells,
    );
    for r in shown_rows.iter().filter(|r| r.error.is_some()) {
        text.push_str(&format!(
            "{}: {}\n",
            shown(r),
            r.error.as_deref().unwrap_or("")
        ));
    }
    if shown_rows.len() != totals.repos {
        text.push_str(&format!(
            "showing {} of {} repositories\n",
            shown_rows.len(),
            totals.repos
        ));
    }
    text.push_str(&format!("{totals}\n"));
    out.stdout
        .write_all(redact(&text).as_bytes())
        .map_err(|e| stream_error("write to stdout", &e))?;
    Ok(exit)
}

fn state_matches(filter: StateFilter, state: State) -> bool {
    match filter {
        StateFilter::All => true,
        StateFilter::Open => matches!(state, State::Open | State::Draft),
        StateFilter::Closed => state == State::Closed,
        StateFilter::Merged => state == State::Merged,
    }
}

fn checks_match(filter: Option<ChecksFilter>, row: &Row) -> bool {
    let Some(filter) = filter else { return true };
    let want = match filter {
        ChecksFilter::Failure => CheckState::Failure,
        ChecksFilter::Success => CheckState::Success,
        ChecksFilter::Pending => CheckState::Pending,
        ChecksFilter::None => CheckState::None,
    };
    row.checks == Some(want)
}

pub fn merge(
    global: &GlobalArgs,
    settings: &Settings,
    args: &CampaignMergeArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let require = Require::parse(&args.require)?;
    if args.max == Some(0) {
        return Err(CampaignError::Flags("`--max 0` would merge nothing".into()).into());
    }
    if !args.pause.is_finite() || args.pause < 0.0 {
        return Err(CampaignError::Flags(format!(
            "`--pause {}`: expected a number of seconds, 0 or more",
            args.pause
        ))
        .into());
    }
    let options = MergeOptions {
        require,
        method: args.method.map(|m| match m {
            MethodArg::Merge => MergeMethod::Merge,
            MethodArg::Squash => MergeMethod::Squash,
            MethodArg::Rebase => MergeMethod::Rebase,
        }),
        auto: args.auto,
        max: args.max,
        pause: Duration::from_secs_f64(args.pause),
        dry_run: args.dry_run,
        include_foreign: args.include_foreign,
    };
    let (forge, tracked) = read(&args.pipelines, global, settings, true, out)?;
    let interrupt = interrupt_flag();
    interrupt.store(false, Ordering::SeqCst);
    let report = campaign::merge(tracked, &forge, &options, interrupt);
    let exit = if report.failed() {
        Exit::Failed
    } else {
        Exit::Ok
    };
    if global.json {
        json_out(&report, "merge report", out)?;
        return Ok(exit);
    }
    let cells: Vec<Vec<String>> = report
        .repos
        .iter()
        .map(|r| {
            let (result, why) = match &r.outcome {
                MergeOutcome::Merged(sha) => ("merged".to_string(), format!("as {}", short(sha))),
                MergeOutcome::AutoMergeEnabled => ("auto-merge enabled".into(), String::new()),
                MergeOutcome::WouldMerge if args.auto => {
                    ("would enable auto-merge".into(), String::new())
                }
                MergeOutcome::WouldMerge => ("would merge".into(), String::new()),
                MergeOutcome::Skipped(why) => ("skipped".into(), why.clone()),
                MergeOutcome::Failed(why) => ("failed".into(), why.clone()),
            };
            vec![shown(&r.status), pr_cell(&r.status), result, why]
        })
        .collect();
    let mut text = table(&["REPOSITORY", "PR", "RESULT", "WHY"], &cells);
    let failed = report
        .repos
        .iter()
        .filter(|r| matches!(r.outcome, MergeOutcome::Failed(_)))
        .count();
    let verb = match (args.dry_run, args.auto) {
        (true, true) => "would enable auto-merge for",
        (true, false) => "would merge",
        (false, true) => "auto-merge enabled for",
        (false, false) => "merged",
    };
    text.push_str(&format!(
        "{verb} {} of {} repositories; {failed} failed\n",
        report.merged(),
        report.repos.len()
    ));
    out.stdout
        .write_all(redact(&text).as_bytes())
        .map_err(|e| stream_error("write to stdout", &e))?;
    Ok(exit)
}

fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

pub fn close(
    global: &GlobalArgs,
    settings: &Settings,
    args: &CloseArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let (forge, tracked) = read(&args.pipelines, global, settings, false, out)?;
    let options = CloseOptions {
        comment: args.comment.clone(),
        delete_branch: args.delete_branch,
        dry_run: args.dry_run,
        credentials: super::hosts::credentials(settings),
    };
    let report = campaign::close(tracked, &forge, &options);
    let exit = if report.failed() {
        Exit::Failed
    } else {
        Exit::Ok
    };
    if global.json {
        json_out(&report, "close report", out)?;
        return Ok(exit);
    }
    let cells: Vec<Vec<String>> = report
        .repos
        .iter()
        .map(|r| {
            let result = match r.outcome {
                CloseOutcome::Closed => "closed",
                CloseOutcome::WouldClose => "would close",
                CloseOutcome::AlreadyClosed => "already closed",
                CloseOutcome::Skipped => "skipped",
                CloseOutcome::Failed => "failed",
            };
            let branch = match r.branch_outcome {
                None => "-",
                Some(BranchOutcome::Deleted) => "deleted",
                Some(BranchOutcome::WouldDelete) => "would delete",
                Some(BranchOutcome::AlreadyGone) => "already gone",
                Some(BranchOutcome::Refused) => "kept (refused)",
                Some(BranchOutcome::Failed) => "failed",
            };
            vec![
                shown(&r.status),
                pr_cell(&r.status),
                result.to_string(),
                format!("{} {branch}", r.status.branch),
                r.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let mut text = table(&["REPOSITORY", "PR", "RESULT", "BRANCH", "WHY"], &cells);
    let closed = report
        .repos
        .iter()
        .filter(|r| matches!(r.outcome, CloseOutcome::Closed | CloseOutcome::WouldClose))
        .count();
    text.push_str(&format!(
        "{} {closed} of {} repositories' pull requests\n",
        if args.dry_run {
            "would close"
        } else {
            "closed"
        },
        report.repos.len()
    ));
    out.stdout
        .write_all(redact(&text).as_bytes())
        .map_err(|e| stream_error("write to stdout", &e))?;
    Ok(exit)
}
