//! `pr.commit_via: api`: the run branch's commits are made on the remote through the forge's
//! API (GitHub's `createCommitOnBranch`), so the forge signs them, instead of being pushed.
//! The local commits and the journal stay the source of truth; the report pairs each local
//! commit with the one the forge made ([`ApiCommitIds`]).
//!
//! One repository goes like this. Every commit from the base to the tip (oldest first, each
//! with one parent) becomes a list of whole-file additions and deletions; a change the API
//! cannot express (an executable bit, a symlink, a submodule, a file over GitHub's 100 MiB)
//! refuses the repository before anything is sent (`E547`). Then the remote branch is put at
//! the base: created when absent, or moved back when it holds what codefleet last made there
//! (the record this module keeps in the journal, or the open pull request's marker `head`),
//! else refused (`E548`) unless `--force`. That move is a git push of the base commit (already
//! on the remote) with a lease on the head just read, so a push in between is never lost.
//! Then one mutation per commit, each expecting the previous one's result as the branch head
//! (`expectedHeadOid`): a colleague's push in between stops the chain (`E546`).

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::json;

use crate::error::{Code, Error, Kind, codes};
use crate::forge::{ApiCommit, FileChange, Forge, Forges, GraphqlError, RepoId, marker::Marker};
use crate::git::{Credentials, Journal, PushError, PushRecord, Repo};
use crate::pipeline::{CommitVia, Pipeline};
use crate::report::{ApiCommitIds, Publish, PushStatus, RepoReport};

/// GitHub refuses files over 100 MiB (and warns over 50 MiB).
const MAX_FILE: usize = 100 * 1024 * 1024;

/// Why a run branch cannot be published through the API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
enum ApiCommitError {
    /// `E547`: a change the API has no way to say.
    #[error("commit {commit}: `{path}` {why}: a commit through the API cannot express it")]
    Inexpressible {
        commit: String,
        path: String,
        why: &'static str,
    },
    /// `E547`: a commit without exactly one parent between the base and the tip.
    #[error("commit {0} has no single parent: commits through the API are a straight line")]
    NotLinear(String),
    /// `E547`: the run branch's commits cannot be read.
    #[error("cannot read the run branch's commits: {0}")]
    Unreadable(String),
    /// `E548`: the remote branch holds something codefleet did not make there.
    #[error(
        "the remote's branch `{branch}` is at {found}, which codefleet did not make: not replaced"
    )]
    Foreign { branch: String, found: String },
    /// `E534`: the forge cannot tell the repository from the URL.
    #[error("cannot tell the owner and name of `{0}`")]
    NoRepoId(String),
    /// `E536`: no forge to make commits with.
    #[error("`pr.commit_via: api` needs a forge, and none is configured")]
    NoForge,
}

impl Kind for ApiCommitError {
    fn code(&self) -> Code {
        match self {
            ApiCommitError::Inexpressible { .. }
            | ApiCommitError::NotLinear(_)
            | ApiCommitError::Unreadable(_) => codes::API_COMMIT_INEXPRESSIBLE,
            ApiCommitError::Foreign { .. } => codes::API_BRANCH_FOREIGN,
            ApiCommitError::NoRepoId(_) => codes::FORGE_NAME,
            ApiCommitError::NoForge => codes::FORGE_UNSUPPORTED,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            ApiCommitError::Inexpressible { .. } | ApiCommitError::NotLinear(_) => {
                "keep such changes out of the pipeline, or use `pr.commit_via: git`"
            }
            ApiCommitError::Unreadable(_) => "check the repository (`git fsck`)",
            ApiCommitError::Foreign { .. } => {
                "someone pushed to the run branch: look at their commits; re-run with --force \
                 to replace them"
            }
            ApiCommitError::NoRepoId(_) | ApiCommitError::NoForge => {
                "commits through the API need a GitHub remote (`github.api_url`)"
            }
        };
        Some(hint.to_string())
    }
}

/// Publishing through the forge's API, when the pipeline asks for it.
pub(super) struct Api<'a> {
    /// The forges by host: each repository's commits are made by its own host's.
    forge: Option<&'a Forges>,
    force: bool,
}

/// A failure after some commits may have been made: those are reported too.
struct Failure {
    error: Error,
    made: Vec<ApiCommitIds>,
}

impl From<Error> for Failure {
    fn from(error: Error) -> Failure {
        Failure {
            error,
            made: Vec::new(),
        }
    }
}

/// What the record in the journal says codefleet last made on the remote branch.
struct Made {
    /// The remote branch's head it left.
    remote: git2::Oid,
    /// The local commit that head stands for.
    local: Option<String>,
    /// The pairs.
    pairs: Vec<ApiCommitIds>,
}

impl<'a> Api<'a> {
    /// `Some` when the pipeline's `pr.commit_via` is `api`; the forge of each repository's
    /// host makes the commits.
    pub(super) fn new(
        pipeline: &Pipeline,
        forge: Option<&'a Forges>,
        force: bool,
    ) -> Option<Api<'a>> {
        (pipeline.pr.commit_via == CommitVia::Api).then_some(Api { forge, force })
    }

    /// Makes the run branch's commits on the remote at `url` through the API, from the
    /// repository at `path`; the outcome for the report.
    pub(super) fn publish(
        &self,
        repo: &RepoReport,
        path: &Path,
        url: &str,
        creds: &Credentials,
    ) -> Publish {
        let mut out = Publish {
            remote: crate::git::redact_userinfo(&creds.redact(url)),
            push: PushStatus::NotPushed,
            message: None,
            pull_request: None,
            api_commits: Vec::new(),
        };
        let branch = repo.branch.as_deref().unwrap_or_default();
        let (Some(base), Some(tip)) = (repo.base, repo.tip) else {
            out.message = Some("no run branch: nothing changed".into());
            return out;
        };
        let target = Target {
            path,
            url,
            branch,
            base,
            tip,
        };
        match self.run(&target, creds) {
            Ok((status, made)) => {
                out.push = status;
                out.api_commits = made;
            }
            Err(Failure { error, made }) => {
                out.push = if refused(&error) {
                    PushStatus::Refused
                } else {
                    PushStatus::Failed
                };
                out.message = Some(creds.redact(&error.one_line()));
                out.api_commits = made;
            }
        }
        tracing::info!(
            "commits of {branch} through the API to {}: {:?}",
            out.remote,
            out.push
        );
        out
    }

    fn run(
        &self,
        t: &Target<'_>,
        creds: &Credentials,
    ) -> Result<(PushStatus, Vec<ApiCommitIds>), Failure> {
        let forges = self.forge.ok_or(ApiCommitError::NoForge).map_err(fail)?;
        let forge = forges.for_url(t.url);
        let id = forge
            .repo_id(t.url)
            .ok_or_else(|| fail(ApiCommitError::NoRepoId(creds.redact(t.url))))?;
        let git = git2::Repository::open(t.path)
            .map_err(|e| fail(ApiCommitError::Unreadable(e.message().to_string())))?;
        // Everything is read and checked before anything is sent.
        let commits = api_commits(&git, t.base, t.tip, t.branch).map_err(fail)?;
        let journal = Repo::open(t.path)?.journal();
        let recorded = read_record(&journal, t.url, t.branch);
        let remote = crate::git::ls_remote(t.url, creds)?.get(&format!("refs/heads/{}", t.branch));
        if let Some(r) = &recorded
            && Some(r.remote) == remote
            && r.local.as_deref() == Some(t.tip.to_string().as_str())
        {
            return Ok((PushStatus::UpToDate, r.pairs.clone()));
        }
        if commits.is_empty() && remote == Some(t.base) {
            return Ok((PushStatus::UpToDate, Vec::new()));
        }
        if remote != Some(t.base) {
            if let Some(found) = remote
                && !self.force
                && recorded.as_ref().map(|r| r.remote) != Some(found)
                && !marker_head_is(forge, &id, t.branch, found)
            {
                return Err(fail(ApiCommitError::Foreign {
                    branch: t.branch.to_string(),
                    found: found.to_string(),
                }));
            }
            reset_to_base(&git, t, remote, creds)?;
        }
        let mut made = Vec::new();
        let mut head = t.base.to_string();
        for (local, mut commit) in commits {
            commit.expected_head = head;
            match forge.create_commit(&id, &commit) {
                Ok(remote) => {
                    head = remote.clone();
                    made.push(ApiCommitIds {
                        local: local.to_string(),
                        remote,
                    });
                    // Recorded as it goes: a re-run after a failure knows the head is ours.
                    record(&journal, t.url, t.branch, &made);
                }
                Err(error) => return Err(Failure { error, made }),
            }
        }
        Ok((PushStatus::Pushed, made))
    }
}

/// Where one repository's run branch is published from and to.
struct Target<'a> {
    path: &'a Path,
    url: &'a str,
    branch: &'a str,
    base: git2::Oid,
    tip: git2::Oid,
}

fn fail(e: ApiCommitError) -> Failure {
    Failure::from(Error::from(e))
}

/// Whether an error means "the remote branch is not what codefleet may replace" (the report's
/// `refused`) rather than a failure.
fn refused(e: &Error) -> bool {
    matches!(e.kind::<GraphqlError>(), Some(GraphqlError::Stale { .. }))
        || matches!(
            e.kind::<ApiCommitError>(),
            Some(ApiCommitError::Foreign { .. })
        )
        || matches!(e.kind::<PushError>(), Some(PushError::Moved { .. }))
}

/// Whether the open pull request for `branch` says codefleet last left it at `head`.
fn marker_head_is(forge: &dyn Forge, id: &RepoId, branch: &str, head: git2::Oid) -> bool {
    match forge.find_open(id, branch) {
        Ok(Some(pr)) => Marker::read(&pr.body).and_then(|m| m.head) == Some(head.to_string()),
        Ok(None) => false,
        Err(e) => {
            tracing::warn!(error = %e.one_line(), "cannot read the pull request's marker");
            false
        }
    }
}

/// Puts the remote branch at the base: a push of the base commit with a lease on `found`.
fn reset_to_base(
    git: &git2::Repository,
    t: &Target<'_>,
    found: Option<git2::Oid>,
    creds: &Credentials,
) -> Result<(), Error> {
    let temp = format!("refs/codefleet/api-base/{}", t.branch);
    let unreadable = |e: git2::Error| Error::from(ApiCommitError::Unreadable(e.message().into()));
    git.reference(
        &temp,
        t.base,
        true,
        "codefleet: the base, for an API publish",
    )
    .map_err(unreadable)?;
    let pushed = crate::git::push_with_lease(
        git,
        t.url,
        &temp,
        &format!("refs/heads/{}", t.branch),
        found,
        creds,
    );
    if let Ok(mut r) = git.find_reference(&temp) {
        let _ = r.delete();
    }
    pushed.map(|_| ()).map_err(Error::from)
}

/// The commits from `base` (excluded) to `tip`, oldest first, each as the commit the API is
/// to make (its `expected_head` is filled in as the chain goes).
fn api_commits(
    git: &git2::Repository,
    base: git2::Oid,
    tip: git2::Oid,
    branch: &str,
) -> Result<Vec<(git2::Oid, ApiCommit)>, ApiCommitError> {
    let unreadable = |e: git2::Error| ApiCommitError::Unreadable(e.message().to_string());
    let mut chain = Vec::new();
    let mut at = tip;
    while at != base {
        let commit = git.find_commit(at).map_err(unreadable)?;
        if commit.parent_count() != 1 {
            return Err(ApiCommitError::NotLinear(at.to_string()));
        }
        chain.push(commit.clone());
        at = commit.parent_id(0).map_err(unreadable)?;
    }
    chain.reverse();
    let mut out = Vec::with_capacity(chain.len());
    for commit in chain {
        let parent = commit.parent(0).map_err(unreadable)?;
        let changes = changes(git, &parent, &commit)?;
        let message = String::from_utf8_lossy(commit.message_bytes()).into_owned();
        let (headline, body) = split_message(&message);
        out.push((
            commit.id(),
            ApiCommit {
                branch: branch.to_string(),
                expected_head: String::new(),
                headline,
                body,
                changes,
            },
        ));
    }
    Ok(out)
}

/// A commit's diff to its parent as whole-file additions and deletions.
fn changes(
    git: &git2::Repository,
    parent: &git2::Commit<'_>,
    commit: &git2::Commit<'_>,
) -> Result<Vec<FileChange>, ApiCommitError> {
    let unreadable = |e: git2::Error| ApiCommitError::Unreadable(e.message().to_string());
    let old = parent.tree().map_err(unreadable)?;
    let new = commit.tree().map_err(unreadable)?;
    let diff = git
        .diff_tree_to_tree(Some(&old), Some(&new), None)
        .map_err(unreadable)?;
    let id = commit.id().to_string()[..12].to_string();
    let mut out = Vec::new();
    for delta in diff.deltas() {
        let file = match delta.status() {
            git2::Delta::Deleted => delta.old_file(),
            _ => delta.new_file(),
        };
        let path = file
            .path()
            .and_then(Path::to_str)
            .ok_or_else(|| ApiCommitError::Inexpressible {
                commit: id.clone(),
                path: String::from_utf8_lossy(file.path_bytes().unwrap_or_default()).into(),
                why: "is not UTF-8",
            })?
            .to_string();
        let inexpressible = |why| ApiCommitError::Inexpressible {
            commit: id.clone(),
            path: path.clone(),
            why,
        };
        if delta.status() == git2::Delta::Deleted {
            out.push(FileChange::Delete { path });
            continue;
        }
        match file.mode() {
            git2::FileMode::Blob => {}
            git2::FileMode::BlobExecutable => return Err(inexpressible("is executable")),
            git2::FileMode::Link => return Err(inexpressible("is a symlink")),
            git2::FileMode::Commit => return Err(inexpressible("is a submodule")),
            _ => return Err(inexpressible("has a file mode the API lacks")),
        }
        if delta.old_file().mode() == git2::FileMode::BlobExecutable {
            return Err(inexpressible("loses its executable bit"));
        }
        let blob = git.find_blob(file.id()).map_err(unreadable)?;
        if blob.size() > MAX_FILE {
            return Err(inexpressible("is over GitHub's 100 MiB file limit"));
        }
        out.push(FileChange::Put {
            path,
            contents: blob.content().to_vec(),
        });
    }
    Ok(out)
}

/// A commit message as the API takes it: the first line, and the rest after the blank line.
fn split_message(message: &str) -> (String, String) {
    let (headline, rest) = message.split_once('\n').unwrap_or((message, ""));
    (
        headline.trim_end().to_string(),
        rest.trim_start_matches('\n').trim_end().to_string(),
    )
}

/// The journal's record of what codefleet last made on the remote branch through the API.
fn read_record(journal: &Journal, url: &str, branch: &str) -> Option<Made> {
    let record = journal.last_push(url, branch)?;
    let pairs: Vec<ApiCommitIds> = record
        .extra
        .get("api_commits")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    Some(Made {
        remote: record.tip,
        local: record
            .extra
            .get("api_local")
            .and_then(|v| v.as_str())
            .map(str::to_string),
        pairs,
    })
}

/// Records the remote branch's head after API commits (the journal's push record, which a
/// later git push takes as its lease too).
fn record(journal: &Journal, url: &str, branch: &str, made: &[ApiCommitIds]) {
    let Some(last) = made.last() else { return };
    let Ok(tip) = git2::Oid::from_str(&last.remote) else {
        return;
    };
    let mut record = PushRecord::new(url, branch, tip);
    record.extra = BTreeMap::from([
        ("api_local".to_string(), json!(last.local)),
        ("api_commits".to_string(), json!(made)),
    ]);
    if let Err(e) = journal.record_push(&record) {
        tracing::warn!(error = %e.one_line(), "the commits made through the API are not journaled");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_split_into_headline_and_body() {
        assert_eq!(
            split_message("shout\n\nCodefleet-Run: r1\n"),
            ("shout".to_string(), "Codefleet-Run: r1".to_string())
        );
        assert_eq!(split_message("one"), ("one".to_string(), String::new()));
        let e = Error::from(ApiCommitError::Inexpressible {
            commit: "abc".into(),
            path: "run.sh".into(),
            why: "is executable",
        });
        assert_eq!(e.code, "E547");
        assert!(e.one_line().contains("`run.sh` is executable"));
    }
}
