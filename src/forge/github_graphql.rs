//! GitHub's GraphQL API, for what REST cannot do: commits GitHub signs
//! (`createCommitOnBranch`) and auto-merge (`enablePullRequestAutoMerge`).

use super::github::{GitHub, todo};
use super::{ApiCommit, MergeMethod, PullRequest, RepoId};
use crate::error::Error;

impl GitHub {
    /// `enablePullRequestAutoMerge` for the pull request's `node_id`.
    pub(super) fn graphql_enable_auto_merge(
        &self,
        _repo: &RepoId,
        _pr: &PullRequest,
        _method: Option<MergeMethod>,
    ) -> Result<(), Error> {
        Err(todo("auto-merge"))
    }

    /// `createCommitOnBranch` with `expectedHeadOid` as the lease; the new commit's id.
    pub(super) fn graphql_create_commit(
        &self,
        _repo: &RepoId,
        _commit: &ApiCommit,
    ) -> Result<String, Error> {
        Err(todo("commits through the API"))
    }
}
