//! The publish stage after a run (`--push`, `--pr`), working from the run's report: each run
//! branch pushed to its remote with a lease (a clone's: the tip fetched before the run; a local
//! checkout's: what codefleet last pushed there, see `git::BranchLease`; pushes in parallel),
//! then one pull request per repository opened or updated on the forge (in order, spaced out,
//! capped), or closed when the change became empty. Human decisions stand: a repository whose
//! newest pull request a person closed is neither pushed nor given a new one unless
//! `pr.recreate` says so, and a person's edits to an open one are kept (`forge::update`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rayon::prelude::*;

use super::Target;
use crate::error::{Code, Error, Kind, codes};
use crate::forge::{
    self, Forge, ForgeError, ForgeKind, Forges, NewPullRequest, PullRequest, RepoId, marker,
};
use crate::git::{BranchLease, CloneCache, Credentials, PushError, Pushed};
use crate::pipeline::{Pipeline, Recreate};
use crate::report::{
    Mode, PrAction, Publish, PullRequestReport, PushStatus, RepoReport, RepoStatus, RunReport,
};

/// Pull request settings of a publish.
pub struct PullRequests {
    /// The forges, by host: each repository's pull request goes to the forge of its remote
    /// URL's host.
    pub forges: Arc<Forges>,
    /// Close the open pull request of a repository whose change became empty.
    pub close_empty: bool,
    /// Pull requests opened at most in this run (`max_prs_per_run`).
    pub max: usize,
}

/// What to publish.
pub struct PublishOptions {
    /// Parallel pushes.
    pub jobs: usize,
    /// Push run branches.
    pub push: bool,
    /// Open or update pull requests (implies pushing).
    pub pull_requests: Option<PullRequests>,
    /// The run's clone cache, for remote repositories.
    pub remotes: Option<Arc<CloneCache>>,
    /// `--force`: a local checkout's push may replace what it last fetched of the remote
    /// branch, commits codefleet did not make included.
    pub force: bool,
    /// How to authenticate pushes of local repositories (remote ones use the cache's).
    pub credentials: Credentials,
    /// The forges that make the commits of a pipeline with `pr.commit_via: api` when no pull
    /// requests are asked (`--push` alone); with them, theirs do.
    pub api_forge: Option<Arc<Forges>>,
}

impl PullRequests {
    /// The forge of a remote URL's host.
    fn forge(&self, url: &str) -> &dyn Forge {
        self.forges.for_url(url)
    }
}

/// Why a repository is not pushed, or gets no pull request, before git or the forge is asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum PublishError {
    /// `E510`: a remote repository whose clone this run never prepared.
    #[error("not pushed: the repository was never cloned")]
    NeverCloned,
    /// `E510`: a target the run did not run.
    #[error("not pushed: not run")]
    NotRun,
    /// `E510`: a local checkout that cannot be opened.
    #[error("cannot open `{}`: {why}", .path.display())]
    Unopenable { path: PathBuf, why: String },
    /// `E510`: the clone (or checkout) to push from cannot be opened.
    #[error("cannot open the clone: {0}")]
    CloneUnopenable(String),
    /// `E511`: a local checkout without an `origin`.
    #[error("`{}` has no `origin` remote to push to", .0.display())]
    NoOrigin(PathBuf),
    /// `E534`: the forge cannot tell which repository the (redacted) URL names.
    #[error("cannot tell the owner and name of `{0}`")]
    NoRepoId(String),
    /// `E535`: neither `origin/HEAD` nor a checked-out branch says what to merge into.
    #[error("cannot tell which branch the pull request should target")]
    NoBaseBranch,
}

impl Kind for PublishError {
    fn code(&self) -> Code {
        match self {
            PublishError::NeverCloned
            | PublishError::NotRun
            | PublishError::Unopenable { .. }
            | PublishError::CloneUnopenable(_) => codes::NOT_PUBLISHABLE,
            PublishError::NoOrigin(_) => codes::NO_ORIGIN,
            PublishError::NoRepoId(_) => codes::FORGE_NAME,
            PublishError::NoBaseBranch => codes::PR_BASE,
        }
    }

    fn hint(&self) -> Option<String> {
        match self {
            PublishError::NoOrigin(_) => {
                Some("add one with `git remote add origin URL`".to_string())
            }
            _ => None,
        }
    }
}

/// Where one repository is pushed.
struct Destination {
    path: PathBuf,
    url: String,
    expected: Option<git2::Oid>,
    base_branch: Option<String>,
    /// A local checkout (the lease is what codefleet last pushed; pushes are journaled).
    local: bool,
    /// The pull request a person closed, reopened before the push (`pr.recreate: if-changed`
    /// and the change differs from the one closed), to update after it.
    reopen: Option<PullRequest>,
    /// Why it was reopened when that is worth saying (its closed head was not here to compare).
    reopen_note: Option<String>,
}

/// Pushes and opens pull requests for the repositories of `report` (in `targets` order, as
/// the run returned them), records the outcome in each repository's `publish`, and recounts
/// the report's totals and exit code. Nothing happens for dry runs and checks.
pub fn publish(
    pipeline: &Pipeline,
    report: &mut RunReport,
    targets: &[Target],
    options: &PublishOptions,
) -> Result<(), Error> {
    if report.mode != Mode::Run || !(options.push || options.pull_requests.is_some()) {
        return Ok(());
    }
    let pool = super::pool(options.jobs)?;
    let creds = options
        .remotes
        .as_ref()
        .map_or(&options.credentials, |c| c.credentials());
    let mut work: Vec<(&mut RepoReport, &Target)> = report.repos.iter_mut().zip(targets).collect();
    let forge = (options.pull_requests.as_ref().map(|p| p.forges.as_ref()))
        .or(options.api_forge.as_deref());
    let api = super::publish_api::Api::new(pipeline, forge, options.force);
    let destinations: Vec<Option<Destination>> = pool.install(|| {
        work.par_iter_mut()
            .map(|(repo, target)| push_repo(repo, target, options, pipeline, creds, api.as_ref()))
            .collect()
    });
    if let Some(prs) = &options.pull_requests {
        let mut opener = Opener {
            pipeline,
            run_id: &report.run_id,
            prs,
            creds,
            opened: 0,
        };
        for ((repo, _), dest) in work.iter_mut().zip(destinations) {
            let Some(dest) = dest else { continue };
            let pr = opener.pull_request(repo, &dest);
            if let Some(p) = repo.publish.as_mut() {
                p.pull_request = Some(pr);
            }
        }
    }
    if let Some(forges) = forge {
        name_forges(report, forges);
    }
    report.recount();
    Ok(())
}

/// Each pull request report names its forge: the one of the remote's host.
fn name_forges(report: &mut RunReport, forges: &Forges) {
    for repo in &mut report.repos {
        if let Some(publish) = repo.publish.as_mut()
            && let Some(pr) = publish.pull_request.as_mut()
        {
            pr.forge = Some(forges.kind_for_url(&publish.remote));
        }
    }
}

/// Publishes one repository's run branch, unless it did not run, is held back or archived;
/// records the outcome in `repo.publish` and returns where it went, for its pull request.
fn push_repo(
    repo: &mut RepoReport,
    target: &Target,
    options: &PublishOptions,
    pipeline: &Pipeline,
    creds: &Credentials,
    api: Option<&super::publish_api::Api<'_>>,
) -> Option<Destination> {
    if matches!(repo.status, RepoStatus::Skipped | RepoStatus::Interrupted) || repo.branch.is_none()
    {
        return None;
    }
    let mut dest = match destination(target, repo, options, &pipeline.name) {
        Ok(d) => d,
        Err(e) => {
            repo.publish = Some(Publish {
                api_commits: Vec::new(),
                remote: String::new(),
                push: PushStatus::Failed,
                message: Some(describe(&e, creds)),
                pull_request: None,
            });
            return None;
        }
    };
    if let Some(why) = super::steps::held_back(&repo.tasks) {
        repo.publish = Some(held_back(options, &dest, creds, why));
        return None;
    }
    if let Some(note) = archived(options, &dest, creds) {
        repo.publish = Some(note);
        return None;
    }
    if let Some(prs) = &options.pull_requests
        && has_change(repo)
    {
        match prior(prs.forge(&dest.url), pipeline.pr.recreate, repo, &dest) {
            Prior::Proceed => {}
            Prior::Reopen(id, closed, note) => {
                match reopen_first(prs.forge(&dest.url), &id, &closed) {
                    Ok(reopened) => (dest.reopen, dest.reopen_note) = (Some(reopened), note),
                    Err(stop) => {
                        repo.publish = Some(not_pushed(&dest, stop, creds));
                        return None;
                    }
                }
            }
            Prior::Stop(stop) => {
                repo.publish = Some(not_pushed(&dest, stop, creds));
                return None;
            }
        }
    }
    let publish = match api {
        // `pr.commit_via: api`: the forge makes the commits instead of a push.
        Some(api) => api.publish(repo, &dest.path, &dest.url, creds),
        None => push_one(repo, &dest, creds),
    };
    if let (Some(reopened), Some(prs)) = (&dest.reopen, &options.pull_requests)
        && !matches!(publish.push, PushStatus::Pushed | PushStatus::UpToDate)
    {
        // The push failed: the person's decision stands again.
        reclose(prs.forge(&dest.url), &dest, reopened);
    }
    repo.publish = Some(publish);
    Some(dest)
}

/// A repository that is not pushed, for the reason its pull request report gives.
fn not_pushed(dest: &Destination, pull_request: PullRequestReport, creds: &Credentials) -> Publish {
    Publish {
        remote: crate::git::redact_userinfo(&creds.redact(&dest.url)),
        push: PushStatus::NotPushed,
        message: None,
        pull_request: Some(redacted(pull_request, creds)),
        api_commits: Vec::new(),
    }
}

/// Reopens the pull request a person closed, before the push: GitHub reopens a pull request
/// only while its branch still points where it did when it was closed (or at a descendant).
fn reopen_first(
    forge: &dyn Forge,
    id: &RepoId,
    closed: &PullRequest,
) -> Result<PullRequest, PullRequestReport> {
    forge
        .reopen(id, closed.number)
        .map_err(|e| PullRequestReport {
            forge: None,
            action: PrAction::Failed,
            number: Some(closed.number),
            url: Some(closed.url.clone()),
            message: Some(format!(
                "not pushed: cannot reopen pull request #{}: {}",
                closed.number,
                e.one_line()
            )),
            kept: Vec::new(),
        })
}

/// Closes again a pull request reopened for a push that then failed.
fn reclose(forge: &dyn Forge, dest: &Destination, reopened: &PullRequest) {
    let Some(id) = forge.repo_id(&dest.url) else {
        return;
    };
    if let Err(e) = forge.close(&id, reopened.number, None) {
        tracing::warn!(error = %e.one_line(), "pull request #{} stays reopened", reopened.number);
    }
}

/// The run branch holds a change to publish (not nothing, not the base itself).
fn has_change(repo: &RepoReport) -> bool {
    repo.tip.is_some() && repo.tip != repo.base
}

/// What the run branch's earlier pull requests say about publishing it again.
enum Prior {
    /// No pull request a person closed stands in the way.
    Proceed,
    /// Reopen this one, then push (`if-changed`, and the change differs from it).
    Reopen(RepoId, PullRequest, Option<String>),
    /// Neither push nor open: a person closed it (or the forge could not say).
    Stop(PullRequestReport),
}

/// Whether a person closed the run branch's newest pull request, and what `recreate` makes of
/// it. A forge that cannot list pull requests cannot tell: the push goes ahead.
fn prior(forge: &dyn Forge, recreate: Recreate, repo: &RepoReport, dest: &Destination) -> Prior {
    let Some(id) = forge.repo_id(&dest.url) else {
        return Prior::Proceed; // the pull request step reports it
    };
    let branch = repo.branch.as_deref().unwrap_or_default();
    let prs = match forge.pull_requests(&id, branch) {
        Ok(prs) => prs,
        Err(e) if matches!(e.kind::<ForgeError>(), Some(ForgeError::Unsupported { .. })) => {
            tracing::warn!(error = %e.one_line(), "cannot tell whether a person closed a pull request");
            return Prior::Proceed;
        }
        Err(e) => {
            return Prior::Stop(PullRequestReport {
                forge: None,
                action: PrAction::Failed,
                number: None,
                url: None,
                message: Some(format!("not pushed: {}", e.one_line())),
                kept: Vec::new(),
            });
        }
    };
    let Some(closed) = forge::closed_by_person(&prs) else {
        return Prior::Proceed;
    };
    match recreate {
        Recreate::Always => Prior::Proceed,
        Recreate::Never => Prior::Stop(closed_skip(forge.kind(), closed, "")),
        Recreate::IfChanged => match same_change(dest, repo, closed) {
            Some(true) => Prior::Stop(closed_skip(forge.kind(), closed, " with the same change")),
            Some(false) => Prior::Reopen(id, closed.clone(), None),
            None => {
                let kind = forge.kind();
                let note = format!(
                    "the head of closed {} {} is not in the clone: treated as changed",
                    kind.pull_request(),
                    kind.number(closed.number)
                );
                tracing::warn!("{note}");
                Prior::Reopen(id, closed.clone(), Some(note))
            }
        },
    }
}

/// The report for a pull request a person closed, in the forge's words: `merge request !1 was
/// closed` on GitLab, `pull request #1 was closed` elsewhere.
fn closed_skip(kind: ForgeKind, closed: &PullRequest, how: &str) -> PullRequestReport {
    PullRequestReport {
        forge: None,
        action: PrAction::Skipped,
        number: Some(closed.number),
        url: Some(closed.url.clone()),
        message: Some(format!(
            "{} {} was closed{how}",
            kind.pull_request(),
            kind.number(closed.number)
        )),
        kept: Vec::new(),
    }
}

/// Whether the run branch's new tip has the tree of the closed pull request's head (the
/// marker's `head`, else the forge's `head_sha`); `None` when that commit is not here.
fn same_change(dest: &Destination, repo: &RepoReport, closed: &PullRequest) -> Option<bool> {
    let head = marker::Marker::read(&closed.body)
        .and_then(|m| m.head)
        .unwrap_or_else(|| closed.head_sha.clone());
    let git = git2::Repository::open(&dest.path).ok()?;
    let tree = |id: git2::Oid| git.find_commit(id).ok().map(|c| c.tree_id());
    let old = tree(git2::Oid::from_str(&head).ok()?)?;
    let new = tree(repo.tip?)?;
    Some(old == new)
}

fn redacted(mut pr: PullRequestReport, creds: &Credentials) -> PullRequestReport {
    pr.message = pr.message.map(|m| creds.redact(&m).to_string());
    pr
}

fn describe(e: &Error, creds: &Credentials) -> String {
    creds.redact(&e.one_line())
}

fn destination(
    target: &Target,
    repo: &RepoReport,
    options: &PublishOptions,
    pipeline: &str,
) -> Result<Destination, Error> {
    match target {
        Target::Remote(spec) => {
            let p = options
                .remotes
                .as_ref()
                .and_then(|c| c.prepared(&spec.url))
                .ok_or(PublishError::NeverCloned)?;
            Ok(Destination {
                path: p.path,
                url: p.url,
                expected: p.remote_tip,
                base_branch: Some(p.base_branch),
                local: false,
                reopen: None,
                reopen_note: None,
            })
        }
        Target::Local(path) => local_destination(path, repo, options, pipeline),
        Target::Unsupported { .. } => Err(PublishError::NotRun.into()),
    }
}

/// A local checkout pushes to its `origin`, with the lease `git::BranchLease` works out, and
/// its pull request targets the branch `origin/HEAD` names (else the checked-out branch).
fn local_destination(
    path: &Path,
    repo: &RepoReport,
    options: &PublishOptions,
    pipeline: &str,
) -> Result<Destination, Error> {
    let git = git2::Repository::open(path).map_err(|e| PublishError::Unopenable {
        path: path.to_path_buf(),
        why: e.message().to_string(),
    })?;
    let url = origin_url(&git).ok_or_else(|| PublishError::NoOrigin(path.to_path_buf()))?;
    let branch = repo.branch.as_deref().unwrap_or_default();
    let expected = match repo.tip {
        Some(_) => lease(path, &url, branch, pipeline, options.force)?,
        None => None,
    };
    let path = git
        .workdir()
        .map_or_else(|| git.path().to_path_buf(), |p| p.to_path_buf());
    Ok(Destination {
        path,
        url,
        expected,
        base_branch: base_branch(&git),
        local: true,
        reopen: None,
        reopen_note: None,
    })
}

/// What a push of the run branch may expect `origin` to hold (see `git::BranchLease`), for the
/// tip the run left the branch at.
fn lease(
    path: &Path,
    url: &str,
    branch: &str,
    pipeline: &str,
    force: bool,
) -> Result<Option<git2::Oid>, Error> {
    let checkout = crate::git::Repo::open(path)?;
    match checkout.branch_tip(branch)? {
        Some(tip) => BranchLease::new(&checkout, branch, url).expected(pipeline, tip, force),
        None => Ok(None),
    }
}

/// Where `origin` is pushed to: its push URL, else its URL.
fn origin_url(git: &git2::Repository) -> Option<String> {
    let origin = git.find_remote("origin").ok()?;
    origin
        .pushurl()
        .ok()
        .flatten()
        .or(origin.url().ok())
        .map(str::to_string)
}

/// The branch `origin/HEAD` points at, else the checked-out branch.
fn base_branch(git: &git2::Repository) -> Option<String> {
    git.find_reference("refs/remotes/origin/HEAD")
        .ok()
        .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
        .map(|t| t.trim_start_matches("refs/remotes/origin/").to_string())
        .or_else(|| {
            git.head()
                .ok()
                .filter(|h| h.is_branch())
                .and_then(|h| h.shorthand().ok().map(str::to_string))
        })
}

/// A repository held back because a failed check was not made good by a revert: neither
/// pushed nor given a pull request.
fn held_back(
    options: &PublishOptions,
    dest: &Destination,
    creds: &Credentials,
    why: String,
) -> Publish {
    Publish {
        api_commits: Vec::new(),
        remote: crate::git::redact_userinfo(&creds.redact(&dest.url)),
        push: PushStatus::NotPushed,
        pull_request: options.pull_requests.as_ref().map(|_| PullRequestReport {
            forge: None,
            action: PrAction::Skipped,
            number: None,
            url: None,
            message: Some("not pushed: a check failed".into()),
            kept: Vec::new(),
        }),
        message: Some(why),
    }
}

/// With a forge: an archived repository is read-only, so it is reported and skipped.
fn archived(options: &PublishOptions, dest: &Destination, creds: &Credentials) -> Option<Publish> {
    let forge = options.pull_requests.as_ref()?.forge(&dest.url);
    let id = forge.repo_id(&dest.url)?;
    let remote = crate::git::redact_userinfo(&creds.redact(&dest.url));
    match forge.archived(&id) {
        Ok(false) => None,
        // A forge that cannot say goes ahead; its pull request step reports what it lacks.
        Err(e) if matches!(e.kind::<ForgeError>(), Some(ForgeError::Unsupported { .. })) => None,
        Ok(true) => Some(Publish {
            api_commits: Vec::new(),
            remote,
            push: PushStatus::NotPushed,
            message: Some(format!("{id} is archived (read-only): not pushed")),
            pull_request: Some(PullRequestReport {
                forge: None,
                action: PrAction::Skipped,
                number: None,
                url: None,
                message: Some("the repository is archived".into()),
                kept: Vec::new(),
            }),
        }),
        Err(e) => Some(Publish {
            api_commits: Vec::new(),
            remote,
            push: PushStatus::NotPushed,
            message: None,
            pull_request: Some(PullRequestReport {
                forge: None,
                action: PrAction::Failed,
                number: None,
                url: None,
                message: Some(describe(&e, creds)),
                kept: Vec::new(),
            }),
        }),
    }
}

/// How one push went, before it becomes the report's [`PushStatus`].
enum Push {
    Done(Pushed),
    /// `E520`: the remote branch moved since the lease was taken.
    Refused(Error),
    Failed(Error),
}

fn push_one(repo: &RepoReport, dest: &Destination, creds: &Credentials) -> Publish {
    let remote = crate::git::redact_userinfo(&creds.redact(&dest.url));
    let mut out = Publish {
        api_commits: Vec::new(),
        remote,
        push: PushStatus::NotPushed,
        message: None,
        pull_request: None,
    };
    let branch = repo.branch.as_deref().unwrap_or_default();
    if repo.tip.is_none() {
        out.message = Some("no run branch: nothing changed".into());
        return out;
    }
    let push = push_branch(dest, branch, creds);
    tracing::info!(
        "push of {branch} to {}: {}",
        out.remote,
        match &push {
            Push::Done(Pushed::Updated(_)) => "pushed",
            Push::Done(Pushed::UpToDate(_)) => "up to date",
            Push::Refused(e) | Push::Failed(e) => e.code,
        }
    );
    let (status, error) = match push {
        Push::Done(Pushed::Updated(_)) => (PushStatus::Pushed, None),
        Push::Done(Pushed::UpToDate(_)) => (PushStatus::UpToDate, None),
        Push::Refused(e) => (PushStatus::Refused, Some(e)),
        Push::Failed(e) => (PushStatus::Failed, Some(e)),
    };
    out.push = status;
    out.message = error.map(|e| describe(&e, creds));
    out
}

/// Pushes the run branch from `dest.path` with the lease, and remembers what was pushed.
fn push_branch(dest: &Destination, branch: &str, creds: &Credentials) -> Push {
    let git = match git2::Repository::open(&dest.path) {
        Ok(git) => git,
        Err(e) => {
            let e = PublishError::CloneUnopenable(e.message().to_string());
            return Push::Failed(e.into());
        }
    };
    let full = format!("refs/heads/{branch}");
    match crate::git::push_with_lease(&git, &dest.url, &full, &full, dest.expected, creds) {
        Ok(pushed) => {
            remember(&git, dest, branch, pushed.tip());
            Push::Done(pushed)
        }
        Err(e @ PushError::Moved { .. }) => {
            Push::Refused(Error::from(e).hint(moved_hint(dest.local)))
        }
        Err(e) => Push::Failed(e.into()),
    }
}

/// What was pushed is now what the remote has: the next lease starts there.
fn remember(git: &git2::Repository, dest: &Destination, branch: &str, tip: git2::Oid) {
    let _ = git.reference(
        &format!("refs/remotes/origin/{branch}"),
        tip,
        true,
        "codefleet: pushed",
    );
    if dest.local {
        // Without the record the next push refuses (E520) rather than overwrites.
        let recorded = crate::git::Repo::open(&dest.path)
            .and_then(|r| BranchLease::new(&r, branch, &dest.url).pushed(tip));
        if let Err(e) = recorded {
            tracing::warn!(error = %e, "the push is not journaled");
        }
    }
}

/// What resolves a moved remote branch (`E520`) where the repository lives.
fn moved_hint(local: bool) -> &'static str {
    if local {
        "someone pushed to the branch since codefleet last did: `git fetch origin`, then \
         re-run (it stops with E302 if the branch holds commits codefleet did not make), or \
         re-run with --force after the fetch to replace what you fetched"
    } else {
        "the branch moved during the run: re-run (it fetches the branch again and stops \
         with E302 if it holds commits codefleet did not make), or re-run with --force to \
         replace them"
    }
}

/// Opens, updates or closes the pull requests of a publish, in repository order, counting the
/// ones it opens against `max_prs_per_run`.
struct Opener<'a> {
    pipeline: &'a Pipeline,
    run_id: &'a str,
    prs: &'a PullRequests,
    creds: &'a Credentials,
    opened: usize,
}

impl Opener<'_> {
    /// The pull request of one pushed repository: closed when its change became empty (with
    /// `close_empty`), reopened when `pr.recreate: if-changed` said so, else opened or updated.
    fn pull_request(&mut self, repo: &RepoReport, dest: &Destination) -> PullRequestReport {
        let pushed = repo
            .publish
            .as_ref()
            .is_some_and(|p| matches!(p.push, PushStatus::Pushed | PushStatus::UpToDate));
        let empty = !has_change(repo);
        if !pushed && !empty {
            return skipped("the push did not succeed");
        }
        let forge = self.prs.forge(&dest.url);
        let Some(id) = forge.repo_id(&dest.url) else {
            let url = self.creds.redact(&dest.url);
            return self.failed(PublishError::NoRepoId(url).into());
        };
        let branch = repo.branch.clone().unwrap_or_default();
        if empty {
            return self.close_empty(forge, &id, &branch);
        }
        let Some(base) = dest.base_branch.clone() else {
            return self.failed(PublishError::NoBaseBranch.into());
        };
        let new = self.new_pull_request(repo, dest, branch, base);
        let head = pushed_head(repo);
        match &dest.reopen {
            Some(reopened) => {
                let mut report = self.reopened(forge, &id, reopened, &new, &head);
                if let Some(note) = &dest.reopen_note {
                    report.message = Some(match report.message {
                        Some(m) => format!("{note}; {m}"),
                        None => note.clone(),
                    });
                }
                report
            }
            None => self.open_or_update(forge, &id, &new, &head),
        }
    }

    /// A repository whose change became empty: its open pull request is closed, if asked to,
    /// its marker saying `closed=empty` (codefleet's decision, not a person's: a later change
    /// may open a new one).
    fn close_empty(&self, forge: &dyn Forge, id: &RepoId, branch: &str) -> PullRequestReport {
        if !self.prs.close_empty {
            return skipped("no change");
        }
        match forge.find_open(id, branch) {
            Ok(Some(open)) => {
                let body = marker::closed_empty(&open.body);
                match forge.close(id, open.number, Some(&body)) {
                    Ok(()) => PullRequestReport {
                        forge: None,
                        action: PrAction::Closed,
                        number: Some(open.number),
                        url: Some(open.url),
                        message: Some("the change became empty".into()),
                        kept: Vec::new(),
                    },
                    Err(e) => self.failed(e),
                }
            }
            Ok(None) => skipped("no change"),
            Err(e) => self.failed(e),
        }
    }

    /// What the pipeline's `pr:` says for this repository, its body rendered with the
    /// repository's results.
    fn new_pull_request(
        &self,
        repo: &RepoReport,
        dest: &Destination,
        head: String,
        base: String,
    ) -> NewPullRequest {
        let pipeline = self.pipeline;
        let ctx = pipeline.context(self.run_id, Some(&repo.name), None);
        NewPullRequest {
            title: pipeline.pr.title.render(&ctx),
            body: super::pr_body::render(pipeline, self.run_id, repo, &dest.path),
            head,
            base,
            draft: pipeline.pr.draft,
            labels: pipeline.pr.labels.clone(),
            reviewers: pipeline.pr.reviewers.clone(),
            assignees: pipeline.pr.assignees.clone(),
            remove_source_branch: pipeline.pr.remove_source_branch,
        }
    }

    fn open_or_update(
        &mut self,
        forge: &dyn Forge,
        id: &RepoId,
        new: &NewPullRequest,
        head: &str,
    ) -> PullRequestReport {
        // An update costs no quota; only new pull requests count against the cap.
        let open = match forge.find_open(id, &new.head) {
            Ok(open) => open,
            Err(e) => return self.failed(e),
        };
        if open.is_none() && self.opened >= self.prs.max {
            return skipped(&format!("max_prs_per_run ({}) reached", self.prs.max));
        }
        match forge::open_or_update(forge, id, new, head) {
            Ok(done) => {
                let action = match done.action {
                    forge::Action::Opened => PrAction::Opened,
                    forge::Action::Updated => PrAction::Updated,
                };
                if action == PrAction::Opened {
                    self.opened += 1;
                }
                report_of(action, done)
            }
            Err(e) => self.failed(e),
        }
    }

    /// Updates the pull request reopened before the push (the change differs from the one a
    /// person closed, and `pr.recreate: if-changed`) as an open one.
    fn reopened(
        &self,
        forge: &dyn Forge,
        id: &RepoId,
        reopened: &PullRequest,
        new: &NewPullRequest,
        head: &str,
    ) -> PullRequestReport {
        match forge::update(forge, id, reopened.clone(), new, head) {
            Ok(done) => report_of(PrAction::Reopened, done),
            Err(e) => self.failed(e),
        }
    }

    fn failed(&self, e: Error) -> PullRequestReport {
        PullRequestReport {
            forge: None,
            action: PrAction::Failed,
            number: None,
            url: None,
            message: Some(describe(&e, self.creds)),
            kept: Vec::new(),
        }
    }
}

/// The commit the pull request's marker names as pushed: the run branch's tip, or the last
/// commit GitHub made of it (`pr.commit_via: api`).
fn pushed_head(repo: &RepoReport) -> String {
    let api = repo.publish.as_ref().and_then(Publish::api_head);
    api.map(str::to_string)
        .or_else(|| repo.tip.map(|t| t.to_string()))
        .unwrap_or_default()
}

/// The report of an opened, updated or reopened pull request; the fields a person edited that
/// were kept are listed and said.
fn report_of(action: PrAction, done: forge::Outcome) -> PullRequestReport {
    let kept: Vec<String> = done.kept.iter().map(|k| k.to_string()).collect();
    PullRequestReport {
        forge: None,
        action,
        number: Some(done.pr.number),
        url: Some(done.pr.url),
        message: (!kept.is_empty()).then(|| format!("kept a person's edits: {}", kept.join(", "))),
        kept,
    }
}

fn skipped(why: &str) -> PullRequestReport {
    PullRequestReport {
        forge: None,
        action: PrAction::Skipped,
        number: None,
        url: None,
        message: Some(why.to_string()),
        kept: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pull_request_a_person_closed_is_named_in_the_forges_words() {
        let closed = PullRequest {
            number: 1,
            ..PullRequest::default()
        };
        let said = |kind, how| closed_skip(kind, &closed, how).message.unwrap_or_default();
        assert_eq!(said(ForgeKind::GitLab, ""), "merge request !1 was closed");
        assert_eq!(said(ForgeKind::GitHub, ""), "pull request #1 was closed");
        assert_eq!(
            said(ForgeKind::Gitea, " with the same change"),
            "pull request #1 was closed with the same change"
        );
    }

    #[test]
    fn publish_errors_keep_their_codes_messages_and_hints() {
        let e = Error::from(PublishError::NoOrigin(PathBuf::from("/r/x")));
        assert!(e.is::<PublishError>());
        assert_eq!(
            (e.code, e.message.as_str(), e.hint.as_deref()),
            (
                "E511",
                "`/r/x` has no `origin` remote to push to",
                Some("add one with `git remote add origin URL`")
            )
        );
        let e = Error::from(PublishError::Unopenable {
            path: PathBuf::from("/r/y"),
            why: "gone".into(),
        });
        assert_eq!(
            (e.code, e.message.as_str()),
            ("E510", "cannot open `/r/y`: gone")
        );
        let e = Error::from(PublishError::NoRepoId("https://h/".into()));
        assert_eq!(
            e.one_line(),
            "[E534] cannot tell the owner and name of `https://h/`"
        );
        assert_eq!(Error::from(PublishError::NoBaseBranch).code, "E535");
        assert_eq!(
            Error::from(PublishError::NeverCloned).one_line(),
            "[E510] not pushed: the repository was never cloned"
        );
    }
}
