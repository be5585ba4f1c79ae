//! The campaign after a run: the pull requests `codefleet run --pr` opened, one per repository
//! of a pipeline, tracked (`status`), merged (`merge`) and closed (`close`) in bulk.
//!
//! A campaign's members are the repositories the pipeline runs on (resolved by the CLI exactly
//! as `run` resolves them) with, for each, the run branch the plan names (`plan::build`, so the
//! branch is the one `run` pushes) and the forge repository its remote URL names (a local
//! checkout's `origin`). Everything else is read from the forge: the newest pull request from
//! the run branch decides the repository's row, and codefleet's marker in its body
//! (`forge::marker`) says which head codefleet pushed, so a head someone else moved is never
//! merged and a branch someone pushed to is never deleted.
//!
//! - [`status`] reads (one listing per repository, and per open pull request its
//!   mergeability, checks and review decision, in parallel on a bounded pool);
//! - [`merge`] merges (or enables auto-merge for) the eligible ones, one at a time;
//! - [`close`] closes the open ones, optionally commenting first and deleting the branch with a
//!   lease.
//!
//! What goes wrong for the whole command is a [`CampaignError`] (`E555`–`E559`); what goes
//! wrong for one repository is reported in its row and the others go on.

mod close;
mod merge;
mod status;

use std::path::PathBuf;

pub use close::{BranchOutcome, CloseOptions, CloseOutcome, CloseReport, CloseRow, close};
pub use merge::{MergeOptions, MergeOutcome, MergeReport, MergeRow, Require, merge};
pub use status::{
    CheckState, Mergeable, PrInfo, ReadOptions, Review, Row, State, StatusReport, Totals, Tracked,
    read, schema,
};

use crate::error::{Code, Error, Kind, codes};
use crate::exec::Target;
use crate::forge::{Forge, ForgeKind, Forges, RepoId};
use crate::pipeline::Pipeline;
use crate::pipeline::template::Var;
use crate::plan;

/// What stops a campaign command as a whole.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CampaignError {
    /// `E555`: the branch template uses something that changes every run.
    #[error(
        "pipeline `{pipeline}`: the run branch `{template}` changes every run (it uses \
         `{{{{ run_id }}}}`), so the campaign's branches cannot be found"
    )]
    BranchPerRun {
        /// The pipeline's name.
        pipeline: String,
        /// The branch template as written.
        template: String,
    },
    /// `E556`: a repository names no forge repository.
    #[error("{path}: {why}")]
    NoForgeRepo {
        /// The repository as named.
        path: String,
        /// Why (no `origin`, a URL without owner/name, not a repository).
        why: String,
    },
    /// `E557`: a merge the forge did not make.
    #[error("{repo}#{number}: {why}")]
    MergeFailed {
        /// The forge repository.
        repo: RepoId,
        /// The pull request.
        number: u64,
        /// What the forge said.
        why: String,
    },
    /// `E558`: the head codefleet pushed is unknown, so the branch is not deleted.
    #[error(
        "{repo}#{number}: the pull request carries no codefleet marker, so the head codefleet \
         pushed is unknown; `{branch}` is not deleted"
    )]
    PushedHeadUnknown {
        /// The forge repository.
        repo: RepoId,
        /// The pull request.
        number: u64,
        /// The run branch.
        branch: String,
    },
    /// `E559`: flags that do not go together or make no sense.
    #[error("{0}")]
    Flags(String),
}

impl Kind for CampaignError {
    fn code(&self) -> Code {
        match self {
            CampaignError::BranchPerRun { .. } => codes::BRANCH_PER_RUN,
            CampaignError::NoForgeRepo { .. } => codes::CAMPAIGN_REPO,
            CampaignError::MergeFailed { .. } => codes::MERGE_FAILED,
            CampaignError::PushedHeadUnknown { .. } => codes::PUSHED_HEAD_UNKNOWN,
            CampaignError::Flags(_) => codes::CAMPAIGN_FLAGS,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            CampaignError::BranchPerRun { .. } => {
                "give the pipeline a stable `branch:` (the default `codefleet/{{ pipeline }}` is)"
            }
            CampaignError::NoForgeRepo { .. } => {
                "a local checkout needs an `origin` remote on the forge (`git remote add origin \
                 URL`); a URL must name owner/name"
            }
            CampaignError::MergeFailed { .. } => {
                "see the forge's reason; `codefleet status` shows the pull request as it is now"
            }
            CampaignError::PushedHeadUnknown { .. } => {
                "delete the branch on the forge by hand if it is yours; a pull request opened by \
                 `codefleet run --pr` carries the marker"
            }
            CampaignError::Flags(_) => "see `codefleet help merge` and `codefleet help close`",
        };
        Some(hint.to_string())
    }
}

/// One repository of a campaign: where it is, its run branch and its forge repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The pipeline's name.
    pub pipeline: String,
    /// The repository as named (a path, or a URL with any password redacted).
    pub path: String,
    /// Its short name, as branches and reports use it.
    pub name: String,
    /// The run branch, as `run` names it.
    pub branch: String,
    /// The forge repository, or why there is none.
    pub repo: Result<RepoId, String>,
    /// Where the branch is pushed (and deleted): the URL, or the checkout's `origin`. Never
    /// printed (it may hold a token).
    pub remote: Option<String>,
    /// The local checkout, for a local repository.
    pub checkout: Option<PathBuf>,
    /// The kind of forge of the remote's host.
    pub forge: ForgeKind,
}

impl Member {
    /// The forge of the remote's host (the fallback without a remote).
    pub fn forge<'a>(&self, forges: &'a Forges) -> &'a dyn Forge {
        match &self.remote {
            Some(url) => forges.for_url(url),
            None => forges.fallback(),
        }
    }
}

/// The campaign of `pipeline` over `targets` (resolved as `run` resolves them): each
/// repository's run branch, rendered by the plan as the run renders it, and its forge
/// repository, as the forge of its remote's host names it. Fails only when the branch cannot be
/// told (it changes every run).
pub fn members(
    pipeline: &Pipeline,
    targets: &[Target],
    forges: &Forges,
) -> Result<Vec<Member>, Error> {
    if pipeline.branch.vars().any(|v| *v == Var::RunId) {
        return Err(CampaignError::BranchPerRun {
            pipeline: pipeline.name.clone(),
            template: pipeline.branch.source.clone(),
        }
        .into());
    }
    // The run id is unused: the branch does not depend on it (checked above).
    let planned = plan::build(
        pipeline,
        targets,
        &plan::PlanOptions {
            base: None,
            run_id: String::new(),
            list_files: false,
        },
    );
    Ok(planned
        .repos
        .into_iter()
        .map(|rp| {
            let (remote, checkout) = match &rp.target {
                Target::Remote(spec) => (Ok(spec.url.clone()), None),
                Target::Local(path) => (origin_url(path), Some(path.clone())),
                Target::Unsupported { reason, .. } => (Err(reason.clone()), None),
            };
            let branch = rp.branch.clone().unwrap_or_default();
            let forge = match &remote {
                Ok(url) => forges.for_url(url),
                Err(_) => forges.fallback(),
            };
            let repo = match (&remote, &rp.branch) {
                (_, None) => Err(rp.error.clone().unwrap_or_else(|| "no run branch".into())),
                (Err(why), _) => Err(why.clone()),
                (Ok(url), Some(_)) => forge.repo_id(url).ok_or_else(|| {
                    format!(
                        "cannot tell the owner and name of `{}`",
                        crate::git::redact_userinfo(url)
                    )
                }),
            };
            Member {
                pipeline: pipeline.name.clone(),
                path: rp.path,
                name: rp.name,
                branch,
                repo,
                remote: remote.ok(),
                checkout,
                forge: forge.kind(),
            }
        })
        .collect())
}

/// A checkout's `origin` (its push URL, else its URL), as `run --push` pushes to it.
fn origin_url(path: &std::path::Path) -> Result<String, String> {
    let git = git2::Repository::open(path).map_err(|e| e.message().to_string())?;
    let origin = git
        .find_remote("origin")
        .map_err(|_| "no `origin` remote".to_string())?;
    origin
        .pushurl()
        .ok()
        .flatten()
        .or(origin.url().ok())
        .map(str::to_string)
        .ok_or_else(|| "`origin` has no URL".to_string())
}

/// The error of a member without a forge repository, as its row reports it.
fn no_repo(member: &Member, why: &str) -> Error {
    CampaignError::NoForgeRepo {
        path: member.path.clone(),
        why: why.to_string(),
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::forge::{
        ApiCommit, Checks, Created, MergeMethod, Mergeability, Merged, NewPullRequest, Owner,
        PrState, PullRequest, RemoteRepo, ReviewDecision, marker::Marker,
    };
    use std::sync::atomic::AtomicBool;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    /// A forge in memory: one pull request per repository named in `prs` (by repository
    /// name), every call recorded.
    #[derive(Clone)]
    struct Stub {
        prs: Vec<(String, PullRequest, Checks, ReviewDecision, Option<bool>)>,
        calls: Arc<Mutex<Vec<String>>>,
    }

    /// The forges of a test: the stub for every host (its calls stay shared).
    fn forges(stub: &Stub) -> Forges {
        Forges::new(Box::new(stub.clone()))
    }

    impl Stub {
        fn note(&self, call: String) {
            self.calls.lock().unwrap().push(call);
        }
        fn calls(&self, prefix: &str) -> Vec<String> {
            let calls = self.calls.lock().unwrap();
            calls
                .iter()
                .filter(|c| c.starts_with(prefix))
                .cloned()
                .collect()
        }
        fn find(
            &self,
            repo: &RepoId,
        ) -> Option<&(String, PullRequest, Checks, ReviewDecision, Option<bool>)> {
            self.prs.iter().find(|p| p.0 == repo.name)
        }
    }

    fn unused<T>() -> Result<T, Error> {
        Err(crate::forge::ForgeError::Unsupported {
            forge: "stub",
            what: "this",
        }
        .into())
    }

    impl Forge for Stub {
        fn repo(&self, _: &RepoId) -> Result<RemoteRepo, Error> {
            unused()
        }
        fn list_repos(&self, _: &Owner) -> Result<Vec<RemoteRepo>, Error> {
            unused()
        }
        fn search_repos(&self, _: &str) -> Result<Vec<RemoteRepo>, Error> {
            unused()
        }
        fn code_search(&self, _: &str) -> Result<Vec<RepoId>, Error> {
            unused()
        }
        fn pull_requests(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error> {
            self.note(format!("list {repo} {head}"));
            Ok(self.find(repo).map(|p| p.1.clone()).into_iter().collect())
        }
        fn create(&self, _: &RepoId, _: &NewPullRequest) -> Result<Created, Error> {
            unused()
        }
        fn update(&self, _: &RepoId, _: u64, _: &str, _: &str) -> Result<PullRequest, Error> {
            unused()
        }
        fn close(&self, repo: &RepoId, n: u64, _: Option<&str>) -> Result<(), Error> {
            self.note(format!("close {repo}#{n}"));
            Ok(())
        }
        fn reopen(&self, _: &RepoId, _: u64) -> Result<PullRequest, Error> {
            unused()
        }
        fn comment(&self, repo: &RepoId, n: u64, body: &str) -> Result<(), Error> {
            self.note(format!("comment {repo}#{n} {body}"));
            Ok(())
        }
        fn add_labels(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
            unused()
        }
        fn request_reviewers(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
            unused()
        }
        fn mergeability(&self, repo: &RepoId, _: &PullRequest) -> Result<Mergeability, Error> {
            self.note(format!("mergeability {repo}"));
            let mergeable = self.find(repo).and_then(|p| p.4);
            Ok(Mergeability {
                mergeable,
                behind_by: 2,
            })
        }
        fn checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error> {
            self.note(format!("checks {repo} {sha}"));
            Ok(self.find(repo).map_or(Checks::None, |p| p.2))
        }
        fn review_decision(&self, repo: &RepoId, _: u64) -> Result<ReviewDecision, Error> {
            self.note(format!("review {repo}"));
            Ok(self.find(repo).map_or(ReviewDecision::None, |p| p.3))
        }
        fn merge(
            &self,
            repo: &RepoId,
            pr: &PullRequest,
            method: Option<MergeMethod>,
        ) -> Result<Merged, Error> {
            self.note(format!("merge {repo} {} {method:?}", pr.head_sha));
            Ok(Merged::Merged("m".repeat(40)))
        }
        fn enable_auto_merge(
            &self,
            repo: &RepoId,
            _: &PullRequest,
            _: Option<MergeMethod>,
        ) -> Result<(), Error> {
            self.note(format!("auto {repo}"));
            Ok(())
        }
        fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
            unused()
        }
        fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
            unused()
        }
    }

    fn member(name: &str) -> Member {
        Member {
            pipeline: "p".into(),
            path: format!("https://github.example/acme/{name}.git"),
            name: name.into(),
            branch: "codefleet/p".into(),
            repo: Ok(RepoId {
                owner: "acme".into(),
                name: name.into(),
            }),
            remote: None,
            checkout: None,
            forge: ForgeKind::GitHub,
        }
    }

    fn pr(
        number: u64,
        state: PrState,
        draft: bool,
        head: &str,
        pushed: Option<&str>,
    ) -> PullRequest {
        let marker = Marker {
            head: pushed.map(str::to_string),
            ..Marker::default()
        };
        PullRequest {
            number,
            url: format!("https://github.example/pull/{number}"),
            state,
            draft,
            head_sha: head.into(),
            body: if pushed.is_some() {
                marker.write("Body")
            } else {
                "Body".into()
            },
            base: "main".into(),
            ..PullRequest::default()
        }
    }

    fn campaign() -> (Stub, Vec<Member>) {
        use Checks as C;
        use ReviewDecision as R;
        let ok = Some(true);
        let stub = Stub {
            prs: vec![
                (
                    "green".into(),
                    pr(1, PrState::Open, false, "a1", Some("a1")),
                    C::Success,
                    R::Approved,
                    ok,
                ),
                (
                    "red".into(),
                    pr(2, PrState::Open, false, "b1", Some("b1")),
                    C::Failure,
                    R::Approved,
                    ok,
                ),
                (
                    "foreign".into(),
                    pr(3, PrState::Open, false, "c2", Some("c1")),
                    C::Success,
                    R::Approved,
                    ok,
                ),
                (
                    "draft".into(),
                    pr(4, PrState::Open, true, "d1", Some("d1")),
                    C::Pending,
                    R::None,
                    ok,
                ),
                (
                    "merged".into(),
                    pr(5, PrState::Merged, false, "e1", Some("e1")),
                    C::Success,
                    R::Approved,
                    ok,
                ),
                (
                    "closed".into(),
                    pr(6, PrState::Closed, false, "f1", Some("f1")),
                    C::Success,
                    R::None,
                    ok,
                ),
                (
                    "green2".into(),
                    pr(7, PrState::Open, false, "g1", Some("g1")),
                    C::Success,
                    R::Approved,
                    ok,
                ),
            ],
            calls: Arc::new(Mutex::new(Vec::new())),
        };
        let names = [
            "green", "red", "foreign", "draft", "merged", "closed", "none", "green2",
        ];
        (stub, names.iter().map(|n| member(n)).collect())
    }

    #[test]
    fn status_lists_once_per_repository_and_reads_details_of_open_ones_only() {
        let (stub, members) = campaign();
        let tracked = read(
            members,
            &forges(&stub),
            ReadOptions {
                jobs: 3,
                details: true,
            },
        )
        .unwrap();
        let states: Vec<&str> = tracked.iter().map(|t| t.row.state.name()).collect();
        assert_eq!(
            states,
            [
                "open", "open", "open", "draft", "merged", "closed", "none", "open"
            ]
        );
        assert_eq!(stub.calls("list").len(), 8);
        // 5 open pull requests (the draft included), 3 detail reads each.
        assert_eq!(stub.calls("mergeability").len(), 5);
        assert_eq!(stub.calls("review").len(), 5);
        // The listed head is what the checks are read for.
        assert_eq!(stub.calls("checks acme/foreign c2").len(), 1);
        assert_eq!(stub.calls("").len(), 8 + 3 * 5);
        let foreign = &tracked[2].row.pull_request.as_ref().unwrap();
        assert!(foreign.foreign);
        assert_eq!(foreign.pushed_head.as_deref(), Some("c1"));
        assert_eq!(tracked[0].row.behind_by, Some(2));
        assert_eq!(
            Totals::of(tracked.iter().map(|t| &t.row)).to_string(),
            "8 repos: 1 merged, 5 open (3 green, 1 red, 1 pending; 1 draft), 1 closed, 1 none"
        );
        // Without details (close): listings only.
        let (stub, members) = campaign();
        read(
            members,
            &forges(&stub),
            ReadOptions {
                jobs: 8,
                details: false,
            },
        )
        .unwrap();
        assert_eq!(stub.calls("").len(), 8);
    }

    fn merge_options() -> MergeOptions {
        MergeOptions {
            require: Require {
                checks: true,
                review: true,
            },
            method: None,
            auto: false,
            max: None,
            pause: Duration::ZERO,
            dry_run: false,
            include_foreign: false,
        }
    }

    #[test]
    fn merge_merges_the_eligible_with_the_expected_head_and_honours_max_and_dry_run() {
        let never = AtomicBool::new(false);
        let (stub, members) = campaign();
        let tracked = read(
            members,
            &forges(&stub),
            ReadOptions {
                jobs: 2,
                details: true,
            },
        )
        .unwrap();
        let report = merge(tracked.clone(), &forges(&stub), &merge_options(), &never);
        assert_eq!(
            stub.calls("merge acme"),
            ["merge acme/green a1 None", "merge acme/green2 g1 None"]
        );
        assert_eq!(report.merged(), 2);
        assert!(!report.failed());
        match &report.repos[2].outcome {
            MergeOutcome::Skipped(why) => {
                assert!(why.contains("not the commit codefleet pushed"), "{why}")
            }
            other => panic!("{other:?}"),
        }
        let (stub, _) = campaign();
        let with = |f: &dyn Fn(&mut MergeOptions)| {
            let mut o = merge_options();
            f(&mut o);
            o
        };
        merge(
            tracked.clone(),
            &forges(&stub),
            &with(&|o| o.dry_run = true),
            &never,
        );
        assert!(
            stub.calls("merge acme").is_empty(),
            "a dry run merges nothing"
        );
        merge(
            tracked.clone(),
            &forges(&stub),
            &with(&|o| o.max = Some(1)),
            &never,
        );
        assert_eq!(stub.calls("merge acme").len(), 1);
        let (stub, _) = campaign();
        merge(
            tracked.clone(),
            &forges(&stub),
            &with(&|o| o.include_foreign = true),
            &never,
        );
        assert_eq!(stub.calls("merge acme").len(), 3);
        let (stub, _) = campaign();
        merge(
            tracked.clone(),
            &forges(&stub),
            &with(&|o| o.auto = true),
            &never,
        );
        assert_eq!(stub.calls("auto"), ["auto acme/green", "auto acme/green2"]);
        let (stub, _) = campaign();
        merge(
            tracked,
            &forges(&stub),
            &merge_options(),
            &AtomicBool::new(true),
        );
        assert!(
            stub.calls("merge acme").is_empty(),
            "an interrupt starts no merge"
        );
    }

    #[test]
    fn close_comments_then_closes_the_open_ones() {
        let (stub, members) = campaign();
        let tracked = read(
            members,
            &forges(&stub),
            ReadOptions {
                jobs: 2,
                details: false,
            },
        )
        .unwrap();
        let options = CloseOptions {
            comment: Some("bye".into()),
            delete_branch: false,
            dry_run: false,
            credentials: crate::git::Credentials::new(None),
        };
        let report = close(tracked, &forges(&stub), &options);
        let acts: Vec<String> = stub
            .calls("")
            .into_iter()
            .filter(|c| !c.starts_with("list"))
            .collect();
        assert_eq!(
            acts[..2],
            ["comment acme/green#1 bye", "close acme/green#1"]
        );
        assert_eq!(stub.calls("close").len(), 5);
        assert_eq!(report.repos[5].outcome, CloseOutcome::AlreadyClosed);
        assert_eq!(report.repos[4].outcome, CloseOutcome::Skipped);
        assert!(!report.failed());
    }

    #[test]
    fn campaign_errors_keep_their_codes_and_hints() {
        let e = Error::from(CampaignError::BranchPerRun {
            pipeline: "p".into(),
            template: "cf/{{ run_id }}".into(),
        });
        assert_eq!(e.code, "E555");
        assert!(e.message.contains("`{{ run_id }}`"), "{}", e.message);
        assert_eq!(e.exit, crate::error::Exit::Usage);
        let e = Error::from(CampaignError::Flags("x".into()));
        assert_eq!((e.code, e.exit), ("E559", crate::error::Exit::Usage));
        let repo = RepoId {
            owner: "a".into(),
            name: "b".into(),
        };
        let e = Error::from(CampaignError::MergeFailed {
            repo: repo.clone(),
            number: 3,
            why: "head moved".into(),
        });
        assert_eq!(
            e.one_line().split(" (").next(),
            Some("[E557] a/b#3: head moved")
        );
        let e = Error::from(CampaignError::PushedHeadUnknown {
            repo,
            number: 3,
            branch: "cf/x".into(),
        });
        assert_eq!(e.code, "E558");
        let e = Error::from(CampaignError::NoForgeRepo {
            path: "x".into(),
            why: "no `origin` remote".into(),
        });
        assert_eq!(e.code, "E556");
    }
}
