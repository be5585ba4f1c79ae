//! `status`: each campaign repository's pull request as the forge has it now, and the totals.
//! Reads only. One listing per repository (the newest pull request from the run branch decides
//! the row); then, for open pull requests only, the calls a listing cannot answer:
//! mergeability (the pull request and a compare, for `behind_by`), checks (check runs and
//! commit statuses of the listed head) and the review decision. Calls run in parallel on a
//! pool of `jobs` threads; rows stay in campaign order.

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

use super::{Member, no_repo};
use crate::error::Error;
use crate::forge::{self, Forge, ForgeKind, Forges, PrState, PullRequest, RepoId, marker::Marker};

/// The version of the `--json` document; a change that removes or renames a field bumps it.
pub const VERSION: u32 = 1;

/// Where a repository's pull request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Open and ready for review.
    Open,
    /// Open as a draft.
    Draft,
    /// Merged.
    Merged,
    /// Closed without being merged.
    Closed,
    /// No pull request from the run branch.
    None,
    /// The forge could not be read for this repository (see `error`).
    Error,
}

impl State {
    /// The name the table and `--state` use.
    pub fn name(self) -> &'static str {
        match self {
            State::Open => "open",
            State::Draft => "draft",
            State::Merged => "merged",
            State::Closed => "closed",
            State::None => "none",
            State::Error => "error",
        }
    }
}

/// The checks of an open pull request's head: check runs and commit statuses combined, as
/// GitHub shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    /// All passed.
    Success,
    /// At least one failed.
    Failure,
    /// None failed, at least one has not finished.
    Pending,
    /// No check ran.
    None,
}

impl CheckState {
    /// The name the table and `--checks` use.
    pub fn name(self) -> &'static str {
        match self {
            CheckState::Success => "success",
            CheckState::Failure => "failure",
            CheckState::Pending => "pending",
            CheckState::None => "none",
        }
    }
}

impl From<forge::Checks> for CheckState {
    fn from(c: forge::Checks) -> CheckState {
        match c {
            forge::Checks::Success => CheckState::Success,
            forge::Checks::Failure => CheckState::Failure,
            forge::Checks::Pending => CheckState::Pending,
            forge::Checks::None => CheckState::None,
        }
    }
}

/// What the reviewers decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Review {
    /// Approved, and no reviewer's latest review requests changes.
    Approved,
    /// A reviewer's latest review requests changes.
    ChangesRequested,
    /// No decision yet.
    None,
}

impl Review {
    /// The name the table uses.
    pub fn name(self) -> &'static str {
        match self {
            Review::Approved => "approved",
            Review::ChangesRequested => "changes_requested",
            Review::None => "none",
        }
    }
}

impl From<forge::ReviewDecision> for Review {
    fn from(r: forge::ReviewDecision) -> Review {
        match r {
            forge::ReviewDecision::Approved => Review::Approved,
            forge::ReviewDecision::ChangesRequested => Review::ChangesRequested,
            forge::ReviewDecision::None => Review::None,
        }
    }
}

/// Whether an open pull request can merge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mergeable {
    /// It merges cleanly.
    Mergeable,
    /// It conflicts with its base.
    Conflicting,
    /// The forge has not computed it yet.
    Unknown,
}

impl Mergeable {
    /// The name the table uses.
    pub fn name(self) -> &'static str {
        match self {
            Mergeable::Mergeable => "mergeable",
            Mergeable::Conflicting => "conflicting",
            Mergeable::Unknown => "unknown",
        }
    }
}

/// A repository's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct PrInfo {
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
    /// The commit its head branch points at, as the forge lists it.
    pub head_sha: String,
    /// The commit codefleet pushed (from the marker in the body); absent without a marker.
    pub pushed_head: Option<String>,
    /// Its head is not the commit codefleet pushed (someone added commits), or it has no
    /// marker: `merge` skips it unless `--include-foreign`.
    pub foreign: bool,
}

/// One repository of the campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Row {
    /// The pipeline.
    pub pipeline: String,
    /// The repository as the pipeline (or `--repo`) names it.
    pub path: String,
    /// Its short name.
    pub name: String,
    /// The forge repository (`owner/name`); absent when it cannot be told.
    pub repo: Option<String>,
    /// The forge it is on (`github`, `gitlab`, `gitea`): the one of its remote's host.
    pub forge: ForgeKind,
    /// The run branch.
    pub branch: String,
    /// Where its newest pull request stands.
    pub state: State,
    /// The newest pull request from the run branch.
    pub pull_request: Option<PrInfo>,
    /// The checks of the head (open pull requests only).
    pub checks: Option<CheckState>,
    /// The review decision (open pull requests only).
    pub review: Option<Review>,
    /// Whether it can merge (open pull requests only).
    pub mergeable: Option<Mergeable>,
    /// Commits the base branch has that the head does not (open pull requests only).
    pub behind_by: Option<u64>,
    /// What could not be read (state `error`), or a per-pull-request read that failed.
    pub error: Option<String>,
}

/// The campaign's totals. `open` counts drafts too; `green`, `red`, `pending` and
/// `without_checks` split the open ones by their checks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Totals {
    /// Repositories.
    pub repos: usize,
    /// Merged pull requests.
    pub merged: usize,
    /// Open pull requests (drafts included).
    pub open: usize,
    /// Of the open ones: drafts.
    pub drafts: usize,
    /// Of the open ones: checks passed.
    pub green: usize,
    /// Of the open ones: a check failed.
    pub red: usize,
    /// Of the open ones: checks not finished.
    pub pending: usize,
    /// Of the open ones: no check ran (or they could not be read).
    pub without_checks: usize,
    /// Closed without being merged.
    pub closed: usize,
    /// No pull request.
    pub none: usize,
    /// Not readable.
    pub errors: usize,
}

impl Totals {
    /// The totals of `rows`.
    pub fn of<'a>(rows: impl IntoIterator<Item = &'a Row>) -> Totals {
        let mut t = Totals::default();
        for r in rows {
            t.repos += 1;
            match r.state {
                State::Merged => t.merged += 1,
                State::Closed => t.closed += 1,
                State::None => t.none += 1,
                State::Error => t.errors += 1,
                State::Open | State::Draft => {
                    t.open += 1;
                    if r.state == State::Draft {
                        t.drafts += 1;
                    }
                    match r.checks {
                        Some(CheckState::Success) => t.green += 1,
                        Some(CheckState::Failure) => t.red += 1,
                        Some(CheckState::Pending) => t.pending += 1,
                        Some(CheckState::None) | None => t.without_checks += 1,
                    }
                }
            }
        }
        t
    }
}

impl std::fmt::Display for Totals {
    /// `212 repos: 139 merged, 53 open (41 green, 9 red, 3 pending), 12 closed, 8 none`, with
    /// open pull requests without checks, drafts and unreadable repositories added when any.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} repo{}: {} merged, {} open ({} green, {} red, {} pending",
            self.repos,
            if self.repos == 1 { "" } else { "s" },
            self.merged,
            self.open,
            self.green,
            self.red,
            self.pending
        )?;
        if self.without_checks > 0 {
            write!(f, ", {} without checks", self.without_checks)?;
        }
        if self.drafts > 0 {
            write!(f, "; {} draft{}", self.drafts, plural(self.drafts))?;
        }
        write!(f, "), {} closed, {} none", self.closed, self.none)?;
        if self.errors > 0 {
            write!(f, ", {} unreadable", self.errors)?;
        }
        Ok(())
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The `--json` document of `codefleet status` (`codefleet schema --status`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct StatusReport {
    /// The document's version (1).
    pub version: u32,
    /// The repositories shown (after `--state` and `--checks`), in campaign order.
    pub repos: Vec<Row>,
    /// The totals of the whole campaign (before filtering).
    pub totals: Totals,
}

/// The JSON Schema of [`StatusReport`].
pub fn schema() -> serde_json::Value {
    let schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<StatusReport>();
    serde_json::to_value(schema).unwrap_or(serde_json::Value::Null)
}

/// How to read the campaign.
#[derive(Debug, Clone, Copy)]
pub struct ReadOptions {
    /// API calls in flight at most.
    pub jobs: usize,
    /// Read the open pull requests' mergeability, checks and reviews (`close` needs none).
    pub details: bool,
}

/// A row with what `merge` and `close` act on.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// The repository.
    pub member: Member,
    /// Its newest pull request.
    pub pr: Option<PullRequest>,
    /// What `status` shows.
    pub row: Row,
}

impl Tracked {
    /// The forge repository, when known.
    pub fn repo(&self) -> Option<&RepoId> {
        self.member.repo.as_ref().ok()
    }
}

/// Reads the campaign: one listing per repository, then the details of the open pull requests
/// (with `details`), every call on a pool of `jobs` threads.
pub fn read(
    members: Vec<Member>,
    forges: &Forges,
    options: ReadOptions,
) -> Result<Vec<Tracked>, Error> {
    let pool = crate::exec::pool(options.jobs.max(1))?;
    pool.install(|| {
        let mut tracked: Vec<Tracked> = members
            .into_par_iter()
            .map(|m| {
                let forge = m.forge(forges);
                list(m, forge)
            })
            .collect();
        if options.details {
            let work: Vec<(usize, Detail)> = tracked
                .iter()
                .enumerate()
                .filter(|(_, t)| matches!(t.row.state, State::Open | State::Draft))
                .flat_map(|(i, _)| Detail::ALL.map(|d| (i, d)))
                .collect();
            let found: Vec<(usize, Result<Found, Error>)> = work
                .into_par_iter()
                .map(|(i, d)| (i, d.read(&tracked[i], tracked[i].member.forge(forges))))
                .collect();
            for (i, found) in found {
                found_into(&mut tracked[i].row, found);
            }
        }
        Ok(tracked)
    })
}

/// One repository's listing: its newest pull request from the run branch.
fn list(member: Member, forge: &dyn Forge) -> Tracked {
    let mut row = Row {
        pipeline: member.pipeline.clone(),
        path: member.path.clone(),
        name: member.name.clone(),
        repo: member.repo.as_ref().ok().map(ToString::to_string),
        forge: member.forge,
        branch: member.branch.clone(),
        state: State::Error,
        pull_request: None,
        checks: None,
        review: None,
        mergeable: None,
        behind_by: None,
        error: None,
    };
    let repo = match &member.repo {
        Ok(repo) => repo,
        Err(why) => {
            row.error = Some(no_repo(&member, why).one_line());
            return Tracked {
                member,
                pr: None,
                row,
            };
        }
    };
    let pr = match forge.pull_requests(repo, &member.branch) {
        Ok(prs) => prs.into_iter().next(),
        Err(e) => {
            row.error = Some(e.one_line());
            return Tracked {
                member,
                pr: None,
                row,
            };
        }
    };
    row.state = match &pr {
        None => State::None,
        Some(p) => match p.state {
            PrState::Open if p.draft => State::Draft,
            PrState::Open => State::Open,
            PrState::Closed => State::Closed,
            PrState::Merged => State::Merged,
        },
    };
    row.pull_request = pr.as_ref().map(|p| {
        let pushed_head = Marker::read(&p.body).and_then(|m| m.head);
        PrInfo {
            number: p.number,
            url: p.url.clone(),
            head_sha: p.head_sha.clone(),
            foreign: pushed_head.as_deref() != Some(p.head_sha.as_str()),
            pushed_head,
        }
    });
    Tracked { member, pr, row }
}

/// The per-pull-request reads of an open pull request.
#[derive(Debug, Clone, Copy)]
enum Detail {
    Mergeability,
    Checks,
    Review,
}

enum Found {
    Mergeability(forge::Mergeability),
    Checks(forge::Checks),
    Review(forge::ReviewDecision),
}

impl Detail {
    const ALL: [Detail; 3] = [Detail::Mergeability, Detail::Checks, Detail::Review];

    fn read(self, t: &Tracked, forge: &dyn Forge) -> Result<Found, Error> {
        let (Some(repo), Some(pr)) = (t.repo(), t.pr.as_ref()) else {
            return Err(no_repo(&t.member, "no pull request"));
        };
        Ok(match self {
            Detail::Mergeability => Found::Mergeability(forge.mergeability(repo, pr)?),
            Detail::Checks => Found::Checks(forge.checks(repo, &pr.head_sha)?),
            Detail::Review => Found::Review(forge.review_decision(repo, pr.number)?),
        })
    }
}

fn found_into(row: &mut Row, found: Result<Found, Error>) {
    match found {
        Ok(Found::Mergeability(m)) => {
            row.mergeable = Some(match m.mergeable {
                Some(true) => Mergeable::Mergeable,
                Some(false) => Mergeable::Conflicting,
                None => Mergeable::Unknown,
            });
            row.behind_by = Some(m.behind_by);
        }
        Ok(Found::Checks(c)) => row.checks = Some(c.into()),
        Ok(Found::Review(r)) => row.review = Some(r.into()),
        Err(e) => {
            let line = e.one_line();
            row.error = Some(match row.error.take() {
                Some(before) => format!("{before}; {line}"),
                None => line,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(state: State, checks: Option<CheckState>) -> Row {
        Row {
            pipeline: "p".into(),
            path: "x".into(),
            name: "x".into(),
            repo: None,
            forge: ForgeKind::GitHub,
            branch: "b".into(),
            state,
            pull_request: None,
            checks,
            review: None,
            mergeable: None,
            behind_by: None,
            error: None,
        }
    }

    #[test]
    fn the_totals_line_reads_as_the_issue_writes_it() {
        let mut rows = Vec::new();
        rows.extend((0..139).map(|_| row(State::Merged, None)));
        rows.extend((0..41).map(|_| row(State::Open, Some(CheckState::Success))));
        rows.extend((0..9).map(|_| row(State::Open, Some(CheckState::Failure))));
        rows.extend((0..3).map(|_| row(State::Open, Some(CheckState::Pending))));
        rows.extend((0..12).map(|_| row(State::Closed, None)));
        rows.extend((0..8).map(|_| row(State::None, None)));
        assert_eq!(
            Totals::of(&rows).to_string(),
            "212 repos: 139 merged, 53 open (41 green, 9 red, 3 pending), 12 closed, 8 none"
        );
        rows.push(row(State::Draft, Some(CheckState::None)));
        rows.push(row(State::Error, None));
        assert_eq!(
            Totals::of(&rows).to_string(),
            "214 repos: 139 merged, 54 open (41 green, 9 red, 3 pending, 1 without checks; \
             1 draft), 12 closed, 8 none, 1 unreadable"
        );
    }

    #[test]
    fn the_schema_names_every_field() {
        let s = schema().to_string();
        for field in [
            "totals",
            "pull_request",
            "behind_by",
            "pushed_head",
            "foreign",
        ] {
            assert!(s.contains(field), "{field}");
        }
    }
}
