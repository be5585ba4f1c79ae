//! Forges: where pull requests live. A small trait ([`Forge`]) that GitHub implements
//! (`github.rs`, REST over `ureq`) and GitLab can follow, and the one flow every forge shares:
//! open a pull request for a run branch, or update the open one on a re-run, or close it when
//! the change became empty. What goes wrong is a [`ForgeError`] (`E530`–`E533`), one set of
//! kinds for every forge.

mod github;
mod github_graphql;
pub mod marker;

pub use github::GitHub;
pub use github_graphql::GraphqlError;

use crate::error::{Code, Error, Kind, codes};

/// A repository on a forge: `owner/name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct RepoId {
    /// The owner (user or organisation; on a forge with nested namespaces, the namespace path).
    pub owner: String,
    /// The repository name.
    pub name: String,
}

impl RepoId {
    /// The owner and name from a remote URL: its last two path segments
    /// (`https://github.com/acme/billing.git`, `git@github.com:acme/billing.git`).
    pub fn from_url(url: &str) -> Option<RepoId> {
        let path = match url.split_once("://") {
            Some((_, rest)) => rest.split_once('/').map(|(_, p)| p)?,
            None => url.split_once(':').map(|(_, p)| p)?,
        };
        let mut parts = path.trim_end_matches('/').rsplit('/');
        let name = parts.next()?.trim_end_matches(".git");
        let owner = parts.next()?;
        (!name.is_empty() && !owner.is_empty()).then(|| RepoId {
            owner: owner.to_string(),
            name: name.to_string(),
        })
    }
}

impl std::fmt::Display for RepoId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.owner, self.name)
    }
}

/// Where a pull request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PrState {
    /// Open (a draft too: see [`PullRequest::draft`]).
    #[default]
    Open,
    /// Closed without being merged.
    Closed,
    /// Merged.
    Merged,
}

/// A pull request as a forge reports it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PullRequest {
    /// Its number.
    pub number: u64,
    /// Its web address.
    pub url: String,
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// Open, closed or merged.
    pub state: PrState,
    /// A draft.
    pub draft: bool,
    /// The commit its head branch points at (`head.sha`), as the forge last saw it.
    pub head_sha: String,
    /// The branch it merges into.
    pub base: String,
    /// Its labels' names.
    pub labels: Vec<String>,
    /// The forge's global id (GitHub's `node_id`, for GraphQL mutations); empty if unknown.
    pub node_id: String,
}

/// What a pull request should say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPullRequest {
    /// Title.
    pub title: String,
    /// Body.
    pub body: String,
    /// The branch with the changes.
    pub head: String,
    /// The branch it merges into.
    pub base: String,
    /// Open as a draft.
    pub draft: bool,
    /// Labels to add.
    pub labels: Vec<String>,
    /// Reviewers to request.
    pub reviewers: Vec<String>,
}

/// What [`Forge::create`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new pull request.
    New(PullRequest),
    /// One already exists for that branch (GitHub's 422).
    AlreadyExists,
}

/// Whose repositories a discovery lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An organisation's (`GET /orgs/{org}/repos`).
    Org(String),
    /// A user's (`GET /users/{user}/repos`).
    User(String),
}

/// A repository as a forge lists it (discovery, `--repo owner/name`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RemoteRepo {
    /// `owner/name`.
    pub id: RepoId,
    /// The https clone URL (`clone_url`).
    pub clone_url: String,
    /// The ssh clone URL (`ssh_url`).
    pub ssh_url: String,
    /// The default branch.
    pub default_branch: String,
    /// Archived (read-only).
    pub archived: bool,
    /// Disabled by the forge.
    pub disabled: bool,
    /// A fork of another repository.
    pub fork: bool,
    /// Topics.
    pub topics: Vec<String>,
    /// Merge methods the repository allows, when the forge said (a listing may not).
    pub merge_methods: Option<Vec<MergeMethod>>,
}

/// How a pull request is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeMethod {
    /// A merge commit.
    Merge,
    /// One squashed commit.
    Squash,
    /// The commits rebased onto the base branch.
    Rebase,
}

/// The checks of a commit, combined as the forge shows them (GitHub: check runs and commit
/// statuses together).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Checks {
    /// All passed (skipped and neutral count as passed).
    Success,
    /// At least one failed (or errored, was cancelled, timed out, needs action).
    Failure,
    /// None failed and at least one has not finished.
    Pending,
    /// No check ran.
    None,
}

/// What reviewers decided, as GitHub's `reviewDecision` would say it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewDecision {
    /// At least one approval and no outstanding request for changes (each reviewer's latest
    /// approving or change-requesting review counts).
    Approved,
    /// A reviewer's latest review requests changes.
    ChangesRequested,
    /// No decision yet.
    None,
}

/// What a forge says about merging an open pull request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mergeability {
    /// `Some(true)` mergeable, `Some(false)` conflicting, `None` not computed yet.
    pub mergeable: Option<bool>,
    /// Commits the base branch has that the head does not.
    pub behind_by: u64,
}

/// What [`Forge::merge`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Merged {
    /// Merged, as this commit.
    Merged(String),
    /// The head moved since it was read (`sha` no longer matched): not merged.
    HeadMoved,
    /// The forge refused for a reason it gave (not mergeable, checks required, ...).
    NotMergeable(String),
}

/// One file of a commit made through the forge's API ([`Forge::create_commit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileChange {
    /// Added or changed, with its whole new content.
    Put {
        /// Path from the repository root.
        path: String,
        /// The bytes.
        contents: Vec<u8>,
    },
    /// Deleted.
    Delete {
        /// Path from the repository root.
        path: String,
    },
}

/// A commit to make through the forge's API on a branch, which must point at `expected_head`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiCommit {
    /// The branch.
    pub branch: String,
    /// The commit the branch must point at now (the lease).
    pub expected_head: String,
    /// First line of the message.
    pub headline: String,
    /// The rest of the message.
    pub body: String,
    /// What changes.
    pub changes: Vec<FileChange>,
}

/// The operations codefleet needs from a forge. The pull request operations open, update and
/// close; the campaign operations (`status`, `merge`, `close`) read states, checks and reviews
/// and merge; discovery lists repositories. GitHub implements all of them; a forge that lacks
/// one returns [`ForgeError::Unsupported`].
pub trait Forge: Send + Sync {
    /// The forge's name in messages (`GitHub`).
    fn name(&self) -> &'static str {
        "GitHub"
    }
    /// The repository a remote URL names on this forge. The default is the URL's last two
    /// path segments ([`RepoId::from_url`]); a forge with nested namespaces (GitLab's
    /// subgroups) reads the whole path.
    fn repo_id(&self, url: &str) -> Option<RepoId> {
        RepoId::from_url(url)
    }
    /// Whether the repository is archived (read-only): it is then skipped, not pushed.
    fn archived(&self, repo: &RepoId) -> Result<bool, Error> {
        Ok(self.repo(repo)?.archived)
    }
    /// One repository.
    fn repo(&self, repo: &RepoId) -> Result<RemoteRepo, Error>;
    /// Every repository of an organisation or user (all pages).
    fn list_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error>;
    /// The repositories a repository search finds (`q` as GitHub's search syntax, the owner's
    /// qualifier included by the caller), all pages up to the search's own cap.
    fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>, Error>;
    /// The repositories in which a code search finds a hit (each once, in the order found).
    fn code_search(&self, query: &str) -> Result<Vec<RepoId>, Error>;
    /// The open pull request from `head` (a branch of the same repository), if any.
    fn find_open(&self, repo: &RepoId, head: &str) -> Result<Option<PullRequest>, Error> {
        Ok(self
            .pull_requests(repo, head)?
            .into_iter()
            .find(|p| p.state == PrState::Open))
    }
    /// Every pull request from `head` (open, closed and merged), newest first.
    fn pull_requests(&self, repo: &RepoId, head: &str) -> Result<Vec<PullRequest>, Error>;
    /// Opens a pull request.
    fn create(&self, repo: &RepoId, pr: &NewPullRequest) -> Result<Created, Error>;
    /// Sets the title and body of a pull request.
    fn update(
        &self,
        repo: &RepoId,
        number: u64,
        title: &str,
        body: &str,
    ) -> Result<PullRequest, Error>;
    /// Closes a pull request, setting its body in the same request when `body` is given.
    fn close(&self, repo: &RepoId, number: u64, body: Option<&str>) -> Result<(), Error>;
    /// Reopens a closed pull request.
    fn reopen(&self, repo: &RepoId, number: u64) -> Result<PullRequest, Error>;
    /// Comments on a pull request.
    fn comment(&self, repo: &RepoId, number: u64, body: &str) -> Result<(), Error>;
    /// Adds labels.
    fn add_labels(&self, repo: &RepoId, number: u64, labels: &[String]) -> Result<(), Error>;
    /// Requests reviews.
    fn request_reviewers(
        &self,
        repo: &RepoId,
        number: u64,
        reviewers: &[String],
    ) -> Result<(), Error>;
    /// Whether an open pull request can merge, and how far its head is behind its base.
    fn mergeability(&self, repo: &RepoId, pr: &PullRequest) -> Result<Mergeability, Error>;
    /// The checks of a commit, combined.
    fn checks(&self, repo: &RepoId, sha: &str) -> Result<Checks, Error>;
    /// The review decision of a pull request.
    fn review_decision(&self, repo: &RepoId, number: u64) -> Result<ReviewDecision, Error>;
    /// Merges a pull request whose head must still be `sha`; `None` uses the repository's
    /// default method.
    fn merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<Merged, Error>;
    /// Turns on the forge's auto-merge: it merges once the requirements are met.
    fn enable_auto_merge(
        &self,
        repo: &RepoId,
        pr: &PullRequest,
        method: Option<MergeMethod>,
    ) -> Result<(), Error>;
    /// Makes a commit through the forge's API (signed by the forge); returns its id.
    fn create_commit(&self, repo: &RepoId, commit: &ApiCommit) -> Result<String, Error>;
    /// Points `branch` at `sha`, creating it if absent (`force` lets it move backwards).
    fn set_branch(&self, repo: &RepoId, branch: &str, sha: &str, force: bool) -> Result<(), Error>;
}

/// What went wrong talking to a forge, by kind; `Error::from` gives the user its code, message
/// and hint. Texts a forge sent back are redacted when the error is made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ForgeError {
    /// `E530`: the API cannot be reached, after retries.
    #[error("cannot reach the {forge} API at `{api}`: {why}")]
    Unreachable {
        /// The forge's name (`GitHub`).
        forge: &'static str,
        /// The API's base URL.
        api: String,
        /// The transport's message.
        why: String,
        /// Where the API's address is set.
        hint: &'static str,
    },
    /// `E531`: the rate limit lasts longer than codefleet waits.
    #[error(
        "{forge}'s rate limit is exhausted ({why}); it resets in {wait_secs} s (at unix time {at})"
    )]
    RateLimited {
        /// The forge's name.
        forge: &'static str,
        /// What said so.
        why: String,
        /// Seconds until it resets.
        wait_secs: u64,
        /// When it resets, in seconds since the epoch.
        at: u64,
    },
    /// `E532`: the forge refused a request.
    #[error("{repo}: {forge} answered {status} to {what}: {message}")]
    Refused {
        /// The forge's name.
        forge: &'static str,
        /// The repository.
        repo: RepoId,
        /// The HTTP status.
        status: u16,
        /// What was asked (`opening a pull request`).
        what: &'static str,
        /// The forge's message and details.
        message: String,
        /// What usually resolves that status.
        hint: &'static str,
    },
    /// `E536`: this forge cannot do what was asked.
    #[error("{forge} does not support {what}")]
    Unsupported {
        /// The forge's name.
        forge: &'static str,
        /// What was asked (`auto-merge`).
        what: &'static str,
    },
    /// `E533`: the forge says a pull request for the branch exists, and none is open.
    #[error("{repo}: the forge says a pull request for `{head}` exists, but none is open")]
    NoOpenPullRequest {
        /// The repository.
        repo: RepoId,
        /// The run branch.
        head: String,
    },
}

impl Kind for ForgeError {
    fn code(&self) -> Code {
        match self {
            ForgeError::Unreachable { .. } => codes::GITHUB_UNREACHABLE,
            ForgeError::RateLimited { .. } => codes::GITHUB_RATE_LIMIT,
            ForgeError::Refused { .. } => codes::GITHUB_REFUSED,
            ForgeError::NoOpenPullRequest { .. } => codes::PR_NOT_OPEN,
            ForgeError::Unsupported { .. } => codes::FORGE_UNSUPPORTED,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            ForgeError::Unreachable { hint, .. } | ForgeError::Refused { hint, .. } => *hint,
            ForgeError::RateLimited { .. } => {
                "re-run later, or lower `--max-prs`; pushes already made are kept"
            }
            ForgeError::NoOpenPullRequest { .. } => {
                "check the repository's pull requests; a re-run retries"
            }
            ForgeError::Unsupported { .. } => "use a forge that supports it, or leave it out",
        };
        Some(hint.to_string())
    }
}

/// Whether a pull request was opened or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// A new one.
    Opened,
    /// The open one, updated.
    Updated,
}

/// Opens a pull request for `pr.head`, or updates the one already open for it (also when the
/// forge says one exists that the first look did not find).
pub fn open_or_update(
    forge: &dyn Forge,
    repo: &RepoId,
    pr: &NewPullRequest,
) -> Result<(Action, PullRequest), Error> {
    if let Some(open) = forge.find_open(repo, &pr.head)? {
        return update(forge, repo, open, pr);
    }
    match forge.create(repo, pr)? {
        Created::New(made) => {
            if !pr.labels.is_empty() {
                forge.add_labels(repo, made.number, &pr.labels)?;
            }
            if !pr.reviewers.is_empty() {
                forge.request_reviewers(repo, made.number, &pr.reviewers)?;
            }
            Ok((Action::Opened, made))
        }
        Created::AlreadyExists => match forge.find_open(repo, &pr.head)? {
            Some(open) => update(forge, repo, open, pr),
            None => Err(ForgeError::NoOpenPullRequest {
                repo: repo.clone(),
                head: pr.head.clone(),
            }
            .into()),
        },
    }
}

fn update(
    forge: &dyn Forge,
    repo: &RepoId,
    open: PullRequest,
    pr: &NewPullRequest,
) -> Result<(Action, PullRequest), Error> {
    let updated = if open.title == pr.title && open.body == pr.body {
        open
    } else {
        forge.update(repo, open.number, &pr.title, &pr.body)?
    };
    if !pr.labels.is_empty() {
        forge.add_labels(repo, updated.number, &pr.labels)?;
    }
    Ok((Action::Updated, updated))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Exit;

    #[test]
    fn forge_errors_keep_their_codes_messages_and_hints() {
        let repo = RepoId::from_url("https://github.com/acme/billing").unwrap();
        let e = Error::from(ForgeError::Refused {
            forge: "GitHub",
            repo: repo.clone(),
            status: 401,
            what: "opening a pull request",
            message: "Bad credentials (x; y)".into(),
            hint: "set a token",
        });
        assert_eq!(
            e.one_line(),
            "[E532] acme/billing: GitHub answered 401 to opening a pull request: \
             Bad credentials (x; y) (set a token)"
        );
        assert_eq!(e.exit, Exit::Failed);
        assert!(e.is::<ForgeError>());
        let e = Error::from(ForgeError::RateLimited {
            forge: "GitHub",
            why: "403 on GET".into(),
            wait_secs: 300,
            at: 1700000000,
        });
        assert_eq!(
            (e.code, e.message.as_str()),
            (
                "E531",
                "GitHub's rate limit is exhausted (403 on GET); it resets in 300 s (at unix time \
                 1700000000)"
            )
        );
        let e = Error::from(ForgeError::NoOpenPullRequest {
            repo,
            head: "codefleet/x".into(),
        });
        assert_eq!(
            e.one_line(),
            "[E533] acme/billing: the forge says a pull request for `codefleet/x` exists, but \
             none is open (check the repository's pull requests; a re-run retries)"
        );
        let e = Error::from(ForgeError::Unreachable {
            forge: "GitHub",
            api: "http://127.0.0.1:9".into(),
            why: "refused".into(),
            hint: "check the network",
        });
        assert_eq!(
            e.one_line(),
            "[E530] cannot reach the GitHub API at `http://127.0.0.1:9`: refused (check the network)"
        );
    }

    #[test]
    fn owner_and_name_come_from_the_url() {
        let id = |u: &str| RepoId::from_url(u).map(|r| r.to_string());
        assert_eq!(
            id("https://github.com/acme/billing.git").as_deref(),
            Some("acme/billing")
        );
        assert_eq!(
            id("git@github.com:acme/api.git").as_deref(),
            Some("acme/api")
        );
        assert_eq!(id("ssh://git@ghe.corp/acme/x").as_deref(), Some("acme/x"));
        assert_eq!(id("file:///srv/git/acme/x.git").as_deref(), Some("acme/x"));
        assert_eq!(id("https://github.com/"), None);
    }
}
