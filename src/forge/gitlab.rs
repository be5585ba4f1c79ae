//! GitLab's REST API (v4, gitlab.com and self-managed). Not built yet: every operation answers `E536`
//! until the `gitlab` work lands.

use super::{
    ApiCommit, Checks, Created, Forge, ForgeError, ForgeKind, MergeMethod, Mergeability, Merged,
    NewPullRequest, Owner, PullRequest, RemoteRepo, RepoId, ReviewDecision,
};
use crate::error::Error;
use crate::git::Secret;

/// A GitLab API client.
pub struct GitLab {
    /// The API's base URL (`https://gitlab.com/api/v4`).
    pub(in crate::forge) api: String,
    #[allow(dead_code)]
    token: Option<Secret>,
}

impl std::fmt::Debug for GitLab {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitLab").field("api", &self.api).finish()
    }
}

impl GitLab {
    /// A client for the API at `api` (`https://gitlab.com/api/v4`), with the token if any.
    pub fn new(api: &str, token: Option<Secret>) -> GitLab {
        GitLab {
            api: api.trim_end_matches('/').to_string(),
            token,
        }
    }

    /// The token is a CI job token (`CI_JOB_TOKEN`), sent as `JOB-TOKEN` rather than
    /// `PRIVATE-TOKEN`. (A stub until the GitLab client lands: it changes nothing yet.)
    pub fn job_token(self) -> GitLab {
        self
    }
}

fn todo<T>(what: &'static str) -> Result<T, Error> {
    Err(ForgeError::Unsupported {
        forge: "GitLab",
        what,
    }
    .into())
}

impl Forge for GitLab {
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitLab
    }
    fn repo_id(&self, url: &str) -> Option<RepoId> {
        RepoId::from_url(url)
    }
    fn repo(&self, _: &RepoId) -> Result<RemoteRepo, Error> {
        todo("reading a repository")
    }
    fn list_repos(&self, _: &Owner) -> Result<Vec<RemoteRepo>, Error> {
        todo("listing repositories")
    }
    fn search_repos(&self, _: &str) -> Result<Vec<RemoteRepo>, Error> {
        todo("searching repositories")
    }
    fn code_search(&self, _: &str) -> Result<Vec<RepoId>, Error> {
        todo("code search")
    }
    fn pull_requests(&self, _: &RepoId, _: &str) -> Result<Vec<PullRequest>, Error> {
        todo("listing merge requests")
    }
    fn create(&self, _: &RepoId, _: &NewPullRequest) -> Result<Created, Error> {
        todo("opening merge requests")
    }
    fn update(&self, _: &RepoId, _: u64, _: &str, _: &str) -> Result<PullRequest, Error> {
        todo("updating merge requests")
    }
    fn close(&self, _: &RepoId, _: u64, _: Option<&str>) -> Result<(), Error> {
        todo("closing merge requests")
    }
    fn reopen(&self, _: &RepoId, _: u64) -> Result<PullRequest, Error> {
        todo("reopening merge requests")
    }
    fn comment(&self, _: &RepoId, _: u64, _: &str) -> Result<(), Error> {
        todo("comments")
    }
    fn add_labels(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
        todo("labels")
    }
    fn request_reviewers(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
        todo("reviewers")
    }
    fn mergeability(&self, _: &RepoId, _: &PullRequest) -> Result<Mergeability, Error> {
        todo("mergeability")
    }
    fn checks(&self, _: &RepoId, _: &str) -> Result<Checks, Error> {
        todo("checks")
    }
    fn review_decision(&self, _: &RepoId, _: u64) -> Result<ReviewDecision, Error> {
        todo("reviews")
    }
    fn merge(&self, _: &RepoId, _: &PullRequest, _: Option<MergeMethod>) -> Result<Merged, Error> {
        todo("merging")
    }
    fn enable_auto_merge(
        &self,
        _: &RepoId,
        _: &PullRequest,
        _: Option<MergeMethod>,
    ) -> Result<(), Error> {
        todo("auto-merge")
    }
    fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
        todo("commits through the API")
    }
    fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
        todo("setting a branch")
    }
}
