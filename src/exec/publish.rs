//! The publish stage after a run (`--push`, `--pr`), working from the run's report: each run
//! branch pushed to its remote with a lease (a clone's: the tip fetched before the run; a local
//! checkout's: what codefleet last pushed there, see `Repo::push_lease`; pushes in parallel), then one pull request per repository opened or updated on the forge (in order,
//! spaced out, capped), or closed when the change became empty.

use std::path::PathBuf;
use std::sync::Arc;

use rayon::prelude::*;

use super::Target;
use crate::error::Error;
use crate::forge::{self, Forge, NewPullRequest, RepoId};
use crate::git::{CloneCache, Credentials, Pushed};
use crate::pipeline::Pipeline;
use crate::report::{
    Mode, PrAction, Publish, PullRequestReport, PushStatus, RepoReport, RepoStatus, RunReport,
};

/// Pull request settings of a publish.
pub struct PullRequests {
    /// The forge.
    pub forge: Box<dyn Forge>,
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
}

/// Where one repository is pushed.
struct Destination {
    path: PathBuf,
    url: String,
    expected: Option<git2::Oid>,
    base_branch: Option<String>,
    /// A local checkout (the lease is what codefleet last pushed; pushes are journaled).
    local: bool,
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
    let destinations: Vec<Option<Destination>> = pool.install(|| {
        work.par_iter_mut()
            .map(|(repo, target)| {
                if matches!(repo.status, RepoStatus::Skipped | RepoStatus::Interrupted)
                    || repo.branch.is_none()
                {
                    return None;
                }
                match destination(target, repo, options, &pipeline.name) {
                    Ok(d) => {
                        if let Some(why) = super::steps::held_back(&repo.tasks) {
                            repo.publish = Some(held_back(options, &d, creds, why));
                            return None;
                        }
                        if let Some(note) = archived(options, &d, creds) {
                            repo.publish = Some(note);
                            return None;
                        }
                        repo.publish = Some(push_one(repo, &d, creds));
                        Some(d)
                    }
                    Err(e) => {
                        repo.publish = Some(Publish {
                            remote: String::new(),
                            push: PushStatus::Failed,
                            message: Some(describe(&e, creds)),
                            pull_request: None,
                        });
                        None
                    }
                }
            })
            .collect()
    });
    if let Some(prs) = &options.pull_requests {
        let mut opened = 0;
        for ((repo, _), dest) in work.iter_mut().zip(destinations) {
            let Some(dest) = dest else { continue };
            let pr = pull_request(
                pipeline,
                &report.run_id,
                repo,
                &dest,
                prs,
                &mut opened,
                creds,
            );
            if let Some(p) = repo.publish.as_mut() {
                p.pull_request = Some(pr);
            }
        }
    }
    report.recount();
    Ok(())
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
                .ok_or_else(|| Error::new("E510", "not pushed: the repository was never cloned"))?;
            Ok(Destination {
                path: p.path,
                url: p.url,
                expected: p.remote_tip,
                base_branch: Some(p.base_branch),
                local: false,
            })
        }
        Target::Local(path) => {
            let git = git2::Repository::open(path).map_err(|e| {
                Error::new(
                    "E510",
                    format!("cannot open `{}`: {}", path.display(), e.message()),
                )
            })?;
            let url = git
                .find_remote("origin")
                .ok()
                .and_then(|r| {
                    r.pushurl()
                        .ok()
                        .flatten()
                        .or(r.url().ok())
                        .map(str::to_string)
                })
                .ok_or_else(|| {
                    Error::new(
                        "E511",
                        format!("`{}` has no `origin` remote to push to", path.display()),
                    )
                    .hint("add one with `git remote add origin URL`")
                })?;
            let branch = repo.branch.as_deref().unwrap_or_default();
            let expected = match repo.tip {
                Some(tip) => crate::git::Repo::open(path)?.push_lease(
                    &url,
                    branch,
                    pipeline,
                    tip,
                    options.force,
                )?,
                _ => None,
            };
            let base_branch = git
                .find_reference("refs/remotes/origin/HEAD")
                .ok()
                .and_then(|r| r.symbolic_target().ok().flatten().map(str::to_string))
                .map(|t| t.trim_start_matches("refs/remotes/origin/").to_string())
                .or_else(|| {
                    git.head()
                        .ok()
                        .filter(|h| h.is_branch())
                        .and_then(|h| h.shorthand().ok().map(str::to_string))
                });
            let path = git
                .workdir()
                .map_or_else(|| git.path().to_path_buf(), |p| p.to_path_buf());
            Ok(Destination {
                path,
                url,
                expected,
                base_branch,
                local: true,
            })
        }
        Target::Unsupported { .. } => Err(Error::new("E510", "not pushed: not run")),
    }
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
        remote: crate::git::redact_userinfo(&creds.redact(&dest.url)),
        push: PushStatus::NotPushed,
        pull_request: options.pull_requests.as_ref().map(|_| PullRequestReport {
            action: PrAction::Skipped,
            number: None,
            url: None,
            message: Some("not pushed: a check failed".into()),
        }),
        message: Some(why),
    }
}

/// With a forge: an archived repository is read-only, so it is reported and skipped.
fn archived(options: &PublishOptions, dest: &Destination, creds: &Credentials) -> Option<Publish> {
    let forge = &options.pull_requests.as_ref()?.forge;
    let id = RepoId::from_url(&dest.url)?;
    let remote = crate::git::redact_userinfo(&creds.redact(&dest.url));
    match forge.archived(&id) {
        Ok(false) => None,
        Ok(true) => Some(Publish {
            remote,
            push: PushStatus::NotPushed,
            message: Some(format!("{id} is archived (read-only): not pushed")),
            pull_request: Some(PullRequestReport {
                action: PrAction::Skipped,
                number: None,
                url: None,
                message: Some("the repository is archived".into()),
            }),
        }),
        Err(e) => Some(Publish {
            remote,
            push: PushStatus::NotPushed,
            message: None,
            pull_request: Some(PullRequestReport {
                action: PrAction::Failed,
                number: None,
                url: None,
                message: Some(describe(&e, creds)),
            }),
        }),
    }
}

fn push_one(repo: &RepoReport, dest: &Destination, creds: &Credentials) -> Publish {
    let remote = crate::git::redact_userinfo(&creds.redact(&dest.url));
    let mut out = Publish {
        remote,
        push: PushStatus::NotPushed,
        message: None,
        pull_request: None,
    };
    let branch = repo.branch.as_deref().unwrap_or_default();
    let Some(tip) = repo.tip else {
        out.message = Some("no run branch: nothing changed".into());
        return out;
    };
    let full = format!("refs/heads/{branch}");
    let result = git2::Repository::open(&dest.path)
        .map_err(|e| Error::new("E510", format!("cannot open the clone: {}", e.message())))
        .and_then(|git| {
            let pushed =
                crate::git::push_with_lease(&git, &dest.url, &full, &full, dest.expected, creds)
                    .map_err(|e| lease_hint(e, dest.local))?;
            // What we pushed is now what the remote has: the next lease starts here.
            let _ = git.reference(
                &format!("refs/remotes/origin/{branch}"),
                tip,
                true,
                "codefleet: pushed",
            );
            if dest.local {
                // Without the record the next push refuses (E520) rather than overwrites.
                let record = crate::git::PushRecord::new(&dest.url, branch, tip);
                if let Err(e) = crate::git::Repo::open(&dest.path)
                    .and_then(|r| r.journal().record_push(&record))
                {
                    tracing::warn!(error = %e, "the push is not journaled");
                }
            }
            Ok(pushed)
        });
    tracing::info!(
        "push of {branch} to {}: {}",
        out.remote,
        match &result {
            Ok(Pushed::Updated) => "pushed".to_string(),
            Ok(Pushed::UpToDate) => "up to date".to_string(),
            Err(e) => e.code.to_string(),
        }
    );
    match result {
        Ok(Pushed::Updated) => out.push = PushStatus::Pushed,
        Ok(Pushed::UpToDate) => out.push = PushStatus::UpToDate,
        Err(e) => {
            out.push = if e.code == "E520" {
                PushStatus::Refused
            } else {
                PushStatus::Failed
            };
            out.message = Some(describe(&e, creds));
        }
    }
    out
}

/// An `E520` says what resolves it where the repository lives.
fn lease_hint(e: Error, local: bool) -> Error {
    if e.code != "E520" {
        return e;
    }
    if local {
        e.hint(
            "someone pushed to the branch since codefleet last did: `git fetch origin`, then \
             re-run (it stops with E302 if the branch holds commits codefleet did not make), or \
             re-run with --force after the fetch to replace what you fetched",
        )
    } else {
        e.hint(
            "the branch moved during the run: re-run (it fetches the branch again and stops \
             with E302 if it holds commits codefleet did not make), or re-run with --force to \
             replace them",
        )
    }
}

fn pull_request(
    pipeline: &Pipeline,
    run_id: &str,
    repo: &RepoReport,
    dest: &Destination,
    prs: &PullRequests,
    opened: &mut usize,
    creds: &Credentials,
) -> PullRequestReport {
    let skipped = |why: &str| PullRequestReport {
        action: PrAction::Skipped,
        number: None,
        url: None,
        message: Some(why.to_string()),
    };
    let failed = |e: Error| PullRequestReport {
        action: PrAction::Failed,
        number: None,
        url: None,
        message: Some(describe(&e, creds)),
    };
    let pushed = repo
        .publish
        .as_ref()
        .is_some_and(|p| matches!(p.push, PushStatus::Pushed | PushStatus::UpToDate));
    let empty = repo.tip.is_none() || repo.tip == repo.base;
    if !pushed && !empty {
        return skipped("the push did not succeed");
    }
    let Some(id) = RepoId::from_url(&dest.url) else {
        return failed(Error::new(
            "E534",
            format!(
                "cannot tell the owner and name of `{}`",
                creds.redact(&dest.url)
            ),
        ));
    };
    let branch = repo.branch.clone().unwrap_or_default();
    if empty {
        if !prs.close_empty {
            return skipped("no change");
        }
        return match prs.forge.find_open(&id, &branch) {
            Ok(Some(open)) => match prs.forge.close(&id, open.number) {
                Ok(()) => PullRequestReport {
                    action: PrAction::Closed,
                    number: Some(open.number),
                    url: Some(open.url),
                    message: Some("the change became empty".into()),
                },
                Err(e) => failed(e),
            },
            Ok(None) => skipped("no change"),
            Err(e) => failed(e),
        };
    }
    let Some(base) = dest.base_branch.clone() else {
        return failed(Error::new(
            "E535",
            "cannot tell which branch the pull request should target",
        ));
    };
    let ctx = pipeline.context(run_id, Some(&repo.name), None);
    let mut body = pipeline.pr.body.render(&ctx);
    if body.trim().is_empty() {
        body = default_body(pipeline, run_id, repo);
    }
    let new = NewPullRequest {
        title: pipeline.pr.title.render(&ctx),
        body,
        head: branch,
        base,
        draft: pipeline.pr.draft,
        labels: pipeline.pr.labels.clone(),
        reviewers: pipeline.pr.reviewers.clone(),
    };
    // An update costs no quota; only new pull requests count against the cap.
    let open = match prs.forge.find_open(&id, &new.head) {
        Ok(open) => open,
        Err(e) => return failed(e),
    };
    if open.is_none() && *opened >= prs.max {
        return skipped(&format!("max_prs_per_run ({}) reached", prs.max));
    }
    match forge::open_or_update(prs.forge.as_ref(), &id, &new) {
        Ok((action, pr)) => {
            if action == forge::Action::Opened {
                *opened += 1;
            }
            PullRequestReport {
                action: match action {
                    forge::Action::Opened => PrAction::Opened,
                    forge::Action::Updated => PrAction::Updated,
                },
                number: Some(pr.number),
                url: Some(pr.url),
                message: None,
            }
        }
        Err(e) => failed(e),
    }
}

/// The body when the pipeline's `pr.body` is empty: what ran and what it changed.
fn default_body(pipeline: &Pipeline, run_id: &str, repo: &RepoReport) -> String {
    let mut out = format!(
        "Made by codefleet pipeline `{}` (run `{run_id}`).\n\n",
        pipeline.name
    );
    for t in repo.tasks.iter().filter(|t| t.makes_commit()) {
        out.push_str(&format!(
            "- {}: {} file{} changed\n",
            t.name,
            t.files_changed,
            if t.files_changed == 1 { "" } else { "s" }
        ));
    }
    out
}
