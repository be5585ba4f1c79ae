//! `merge`: merges the campaign's eligible pull requests, one at a time in campaign order,
//! with a pause between merges (a merge moves the base branch, and the forge recomputes every
//! other pull request's mergeability). Eligible: open, not a draft, its head the commit
//! codefleet pushed (unless `include_foreign`), mergeable, and, as `require` says, its checks
//! passed and its review approved. The merge call names the head it expects, so a head that
//! moves in between is refused by the forge, not merged.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use schemars::JsonSchema;
use serde::Serialize;

use super::{CampaignError, CheckState, Mergeable, Review, Row, State, Tracked};
use crate::error::Error;
use crate::forge::{Forge, Forges, MergeMethod, Merged};

/// What a pull request must have to be merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Require {
    /// Its checks passed (`success`; no checks at all counts as passed).
    pub checks: bool,
    /// Its review decision is `approved`.
    pub review: bool,
}

impl Require {
    /// Reads `--require`: `checks`, `review`, both (comma-separated), or `none`.
    pub fn parse(values: &[String]) -> Result<Require, Error> {
        let mut r = Require {
            checks: false,
            review: false,
        };
        let mut none = false;
        for v in values.iter().flat_map(|v| v.split(',')).map(str::trim) {
            match v {
                "checks" => r.checks = true,
                "review" => r.review = true,
                "none" => none = true,
                other => {
                    return Err(CampaignError::Flags(format!(
                        "`--require {other}`: expected `checks`, `review` or `none`"
                    ))
                    .into());
                }
            }
        }
        if none && (r.checks || r.review) {
            return Err(CampaignError::Flags(
                "`--require none` excludes `checks` and `review`".into(),
            )
            .into());
        }
        Ok(r)
    }
}

/// How to merge.
#[derive(Debug, Clone, Copy)]
pub struct MergeOptions {
    /// What a pull request must have.
    pub require: Require,
    /// The merge method; `None` lets the forge use the repository's default.
    pub method: Option<MergeMethod>,
    /// Enable the forge's auto-merge instead of merging now.
    pub auto: bool,
    /// Merge (or enable) at most this many.
    pub max: Option<usize>,
    /// The pause between two merges.
    pub pause: Duration,
    /// Say what would be merged; change nothing.
    pub dry_run: bool,
    /// Merge pull requests whose head is not the commit codefleet pushed.
    pub include_foreign: bool,
}

/// What happened to one repository's pull request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum MergeOutcome {
    /// Merged, as this commit.
    Merged(String),
    /// Auto-merge enabled: the forge merges it once its requirements are met.
    AutoMergeEnabled,
    /// `--dry-run`: it would be merged (or auto-merge enabled).
    WouldMerge,
    /// Not attempted, and why.
    Skipped(String),
    /// Attempted and not merged: the forge's reason.
    Failed(String),
}

/// One repository of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MergeRow {
    /// The repository as `status` shows it (before the merge).
    #[serde(flatten)]
    pub status: Row,
    /// What `merge` did.
    #[serde(flatten)]
    pub outcome: MergeOutcome,
}

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MergeReport {
    /// The document's version (1).
    pub version: u32,
    /// Each repository, in campaign order.
    pub repos: Vec<MergeRow>,
}

impl MergeReport {
    /// Some merge that was attempted failed.
    pub fn failed(&self) -> bool {
        self.repos
            .iter()
            .any(|r| matches!(r.outcome, MergeOutcome::Failed(_)))
    }

    /// How many were merged (or enabled, or would be).
    pub fn merged(&self) -> usize {
        self.repos
            .iter()
            .filter(|r| {
                matches!(
                    r.outcome,
                    MergeOutcome::Merged(_)
                        | MergeOutcome::AutoMergeEnabled
                        | MergeOutcome::WouldMerge
                )
            })
            .count()
    }
}

/// Merges the eligible pull requests of `tracked` (read with details), in order; stops
/// starting new merges once `interrupt` is set (the rest is reported skipped).
pub fn merge(
    tracked: Vec<Tracked>,
    forges: &Forges,
    options: &MergeOptions,
    interrupt: &AtomicBool,
) -> MergeReport {
    let mut attempted = 0usize;
    let mut repos = Vec::with_capacity(tracked.len());
    for t in tracked {
        let outcome = match why_not(&t.row, options) {
            Some(why) => MergeOutcome::Skipped(why),
            None if options.max.is_some_and(|m| attempted >= m) => {
                MergeOutcome::Skipped(format!("--max {} reached", options.max.unwrap_or(0)))
            }
            None if interrupt.load(Ordering::SeqCst) => MergeOutcome::Skipped("interrupted".into()),
            None if options.dry_run => {
                attempted += 1;
                MergeOutcome::WouldMerge
            }
            None => {
                if attempted > 0 && !options.pause.is_zero() {
                    std::thread::sleep(options.pause);
                }
                attempted += 1;
                merge_one(&t, t.member.forge(forges), options)
            }
        };
        repos.push(MergeRow {
            status: t.row,
            outcome,
        });
    }
    MergeReport {
        version: super::status::VERSION,
        repos,
    }
}

/// Why a pull request is not merged, or `None` when it is eligible.
fn why_not(row: &Row, options: &MergeOptions) -> Option<String> {
    let pr = match (row.state, &row.pull_request) {
        (State::Open, Some(pr)) => pr,
        (State::Draft, _) => return Some("a draft".into()),
        (State::Error, _) => return Some(row.error.clone().unwrap_or_default()),
        (state, _) => return Some(format!("no open pull request ({})", state.name())),
    };
    if pr.foreign && !options.include_foreign {
        return Some(match &pr.pushed_head {
            Some(pushed) => format!(
                "head {} is not the commit codefleet pushed ({}): someone added commits \
                 (--include-foreign merges it)",
                short(&pr.head_sha),
                short(pushed)
            ),
            None => "no codefleet marker in the pull request: its head is not known to be \
                     codefleet's (--include-foreign merges it)"
                .into(),
        });
    }
    if let Some(e) = &row.error {
        return Some(format!("not fully read: {e}"));
    }
    let forced = !options.require.checks && !options.require.review;
    // Auto-merge waits for checks and reviews itself: only a known-bad state holds it back.
    match row.mergeable {
        Some(Mergeable::Conflicting) => return Some("conflicting".into()),
        Some(Mergeable::Unknown) if !forced && !options.auto => {
            return Some("mergeability not computed yet by the forge; re-run shortly".into());
        }
        _ => {}
    }
    if options.require.checks {
        match row.checks {
            Some(CheckState::Failure) => return Some("checks failed".into()),
            Some(CheckState::Pending) if !options.auto => {
                return Some("checks pending".into());
            }
            _ => {}
        }
    }
    if options.require.review {
        match row.review {
            Some(Review::ChangesRequested) => return Some("changes requested".into()),
            Some(Review::None) | None if !options.auto => return Some("not approved".into()),
            _ => {}
        }
    }
    None
}

fn merge_one(t: &Tracked, forge: &dyn Forge, options: &MergeOptions) -> MergeOutcome {
    let (Some(repo), Some(pr)) = (t.repo(), t.pr.as_ref()) else {
        return MergeOutcome::Skipped("no pull request".into());
    };
    let failed = |why: String| {
        let e = Error::from(CampaignError::MergeFailed {
            repo: repo.clone(),
            number: pr.number,
            why,
        });
        MergeOutcome::Failed(e.one_line())
    };
    if options.auto {
        return match forge.enable_auto_merge(repo, pr, options.method) {
            Ok(()) => MergeOutcome::AutoMergeEnabled,
            Err(e) => MergeOutcome::Failed(e.one_line()),
        };
    }
    match forge.merge(repo, pr, options.method) {
        Ok(Merged::Merged(sha)) => MergeOutcome::Merged(sha),
        Ok(Merged::HeadMoved) => failed(format!(
            "the head moved since {} was read: not merged",
            short(&pr.head_sha)
        )),
        Ok(Merged::NotMergeable(why)) => failed(format!("not mergeable: {why}")),
        Err(e) => MergeOutcome::Failed(e.one_line()),
    }
}

/// A commit id as messages show it.
pub(super) fn short(sha: &str) -> &str {
    sha.get(..12).unwrap_or(sha)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::campaign::PrInfo;

    fn open(checks: CheckState, review: Review, mergeable: Mergeable, foreign: bool) -> Row {
        Row {
            pipeline: "p".into(),
            path: "x".into(),
            name: "x".into(),
            repo: Some("a/x".into()),
            forge: crate::forge::ForgeKind::GitHub,
            branch: "b".into(),
            state: State::Open,
            pull_request: Some(PrInfo {
                number: 1,
                url: "u".into(),
                head_sha: "abc".into(),
                pushed_head: Some(if foreign { "def" } else { "abc" }.into()),
                foreign,
            }),
            checks: Some(checks),
            review: Some(review),
            mergeable: Some(mergeable),
            behind_by: Some(0),
            error: None,
        }
    }

    fn options(require: &str, auto: bool) -> MergeOptions {
        MergeOptions {
            require: Require::parse(&[require.to_string()]).unwrap(),
            method: None,
            auto,
            max: None,
            pause: Duration::ZERO,
            dry_run: false,
            include_foreign: false,
        }
    }

    #[test]
    fn eligibility_follows_require_auto_and_the_head() {
        use CheckState as C;
        use Mergeable as M;
        use Review as R;
        let both = options("checks,review", false);
        let green = open(C::Success, R::Approved, M::Mergeable, false);
        assert_eq!(why_not(&green, &both), None);
        let cases = [
            (
                open(C::Failure, R::Approved, M::Mergeable, false),
                "checks failed",
            ),
            (
                open(C::Pending, R::Approved, M::Mergeable, false),
                "checks pending",
            ),
            (
                open(C::Success, R::None, M::Mergeable, false),
                "not approved",
            ),
            (
                open(C::Success, R::ChangesRequested, M::Mergeable, false),
                "changes requested",
            ),
            (
                open(C::Success, R::Approved, M::Conflicting, false),
                "conflicting",
            ),
        ];
        for (row, why) in &cases {
            assert_eq!(why_not(row, &both).as_deref(), Some(*why));
        }
        let foreign = open(C::Success, R::Approved, M::Mergeable, true);
        assert!(
            why_not(&foreign, &both)
                .unwrap()
                .contains("--include-foreign")
        );
        let forced = options("none", false);
        assert_eq!(why_not(&cases[0].0, &forced), None);
        assert_eq!(why_not(&cases[2].0, &forced), None);
        // Auto-merge waits for pending checks and reviews, not for failed ones.
        let auto = options("checks,review", true);
        assert_eq!(why_not(&cases[1].0, &auto), None);
        assert_eq!(why_not(&cases[2].0, &auto), None);
        assert_eq!(
            why_not(&cases[0].0, &auto).as_deref(),
            Some("checks failed")
        );
        assert!(Require::parse(&["none,checks".into()]).is_err());
        assert!(Require::parse(&["tests".into()]).is_err());
    }
}
