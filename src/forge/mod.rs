//! Forges: where pull requests live. A small trait ([`Forge`]) that GitHub implements
//! (`github.rs`, REST over `ureq`) and GitLab can follow, and the one flow every forge shares:
//! open a pull request for a run branch, or update the open one on a re-run, or close it when
//! the change became empty. What goes wrong is a [`ForgeError`] (`E530`–`E533`), one set of
//! kinds for every forge.

mod gitea;
mod github;
mod github_graphql;
mod gitlab;
mod hosts;
pub mod marker;

pub use gitea::{Gitea, GiteaError};
pub use github::GitHub;
pub use github_graphql::GraphqlError;
pub use gitlab::{GitLab, GitLabError};
pub use hosts::{Forges, host_of};

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
#[derive(Debug, Clone, PartialEq, Eq, Default)]
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
    /// People to assign, by username (a forge without assignees ignores them).
    pub assignees: Vec<String>,
    /// Delete the head branch when the pull request merges (GitLab's `remove_source_branch`;
    /// a forge that decides this per repository ignores it).
    pub remove_source_branch: bool,
}

/// What [`Forge::create`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Created {
    /// A new pull request.
    New(PullRequest),
    /// One already exists for that branch (GitHub's 422).
    AlreadyExists,
}

/// Which kind of forge a host runs: what speaks to its API, and the words its people use.
/// In JSON: `github`, `gitlab`, `gitea`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ForgeKind {
    /// GitHub (github.com and GitHub Enterprise Server).
    #[default]
    GitHub,
    /// GitLab (gitlab.com and self-managed).
    GitLab,
    /// Gitea and Forgejo.
    Gitea,
}

impl ForgeKind {
    /// The forge's name in messages (`GitHub`, `GitLab`, `Gitea`).
    pub fn name(self) -> &'static str {
        match self {
            ForgeKind::GitHub => "GitHub",
            ForgeKind::GitLab => "GitLab",
            ForgeKind::Gitea => "Gitea",
        }
    }

    /// What the forge calls a pull request, in human text (`pull request`, `merge request`);
    /// JSON keys stay the same on every forge.
    pub fn pull_request(self) -> &'static str {
        match self {
            ForgeKind::GitLab => "merge request",
            ForgeKind::GitHub | ForgeKind::Gitea => "pull request",
        }
    }

    /// What the forge calls the checks of a commit, in human text (`checks`, `pipeline`).
    pub fn checks(self) -> &'static str {
        match self {
            ForgeKind::GitLab => "pipeline",
            ForgeKind::GitHub | ForgeKind::Gitea => "checks",
        }
    }
}

/// Whose repositories a discovery lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Owner {
    /// An organisation's (GitHub `GET /orgs/{org}/repos`, Gitea `GET /orgs/{org}/repos`).
    Org(String),
    /// A user's (GitHub `GET /users/{user}/repos`, Gitea `GET /users/{user}/repos`).
    User(String),
    /// A GitLab group's (`GET /groups/:id/projects`), its subgroups' too when asked.
    Group {
        /// The group's full path (`acme/platform`).
        path: String,
        /// Include the projects of its subgroups (`include_subgroups=true`).
        subgroups: bool,
    },
}

/// A discovery's listing: an owner's repositories narrowed by topics (all must be present)
/// and a search text. Forges that can filter on the server do
/// ([`Forge::list_matching`]); the default filters the whole listing here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listing {
    /// Whose repositories.
    pub owner: Owner,
    /// Topics every repository must have.
    pub topics: Vec<String>,
    /// A text the forge's own search matches (names, paths, descriptions).
    pub search: Option<String>,
    /// Include archived repositories (a forge may skip them on the server when false).
    pub archived: bool,
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
    /// Which kind of forge this is.
    fn kind(&self) -> ForgeKind {
        ForgeKind::GitHub
    }
    /// The forge's name in messages (`GitHub`).
    fn name(&self) -> &'static str {
        self.kind().name()
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
    /// The repositories a discovery's listing selects (all pages). The default lists the
    /// owner's repositories and keeps those with every topic; a forge that searches on the
    /// server overrides it, and one that cannot search says so for `search`.
    fn list_matching(&self, listing: &Listing) -> Result<Vec<RemoteRepo>, Error> {
        if listing.search.is_some() {
            return Err(ForgeError::Unsupported {
                forge: self.name(),
                what: "a search within a listing",
            }
            .into());
        }
        let mut repos = self.list_repos(&listing.owner)?;
        repos.retain(|r| listing.topics.iter().all(|t| r.topics.contains(t)));
        Ok(repos)
    }
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

/// What [`open_or_update`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Opened or updated.
    pub action: Action,
    /// The pull request as the forge last answered.
    pub pr: PullRequest,
    /// The fields a person edited that were kept (`title`, `body`, `labels`), in that order.
    pub kept: Vec<&'static str>,
}

/// The newest of `prs` (newest first, as [`Forge::pull_requests`] lists them) when a person
/// closed it without merging: a re-run must not simply open another. One codefleet closed
/// because the change became empty (`closed=empty` in its marker) does not count, nor does a
/// merged or an open one.
pub fn closed_by_person(prs: &[PullRequest]) -> Option<&PullRequest> {
    let newest = prs.first()?;
    let ours = marker::Marker::read(&newest.body).is_some_and(|m| m.closed_empty);
    (newest.state == PrState::Closed && !ours).then_some(newest)
}

/// Opens a pull request for `pr.head`, or updates the one already open for it (also when the
/// forge says one exists that the first look did not find). `head` is the commit codefleet
/// pushed; the body gets the marker (see [`marker`]) saying so, with digests of the title,
/// body and labels set.
pub fn open_or_update(
    forge: &dyn Forge,
    repo: &RepoId,
    pr: &NewPullRequest,
    head: &str,
) -> Result<Outcome, Error> {
    if let Some(open) = forge.find_open(repo, &pr.head)? {
        return update(forge, repo, open, pr, head);
    }
    let marked = NewPullRequest {
        body: written(pr, head).write(&pr.body),
        ..pr.clone()
    };
    match forge.create(repo, &marked)? {
        Created::New(made) => {
            if !pr.labels.is_empty() {
                forge.add_labels(repo, made.number, &pr.labels)?;
            }
            if !pr.reviewers.is_empty() {
                forge.request_reviewers(repo, made.number, &pr.reviewers)?;
            }
            Ok(Outcome {
                action: Action::Opened,
                pr: made,
                kept: Vec::new(),
            })
        }
        Created::AlreadyExists => match forge.find_open(repo, &pr.head)? {
            Some(open) => update(forge, repo, open, pr, head),
            None => Err(ForgeError::NoOpenPullRequest {
                repo: repo.clone(),
                head: pr.head.clone(),
            }
            .into()),
        },
    }
}

/// Updates an open pull request to what the pipeline says now, keeping what a person edited
/// unless the pipeline's value changed since codefleet last set it: the title and the body
/// (without the marker) each stay as they are when they differ from the marker's digest (a
/// person edited them) and the pipeline's new value has that digest (it did not change); the
/// labels are added again only when the pipeline's set changed (so one a person removed stays
/// removed). A body without a marker counts as unedited. The marker is always written anew.
pub fn update(
    forge: &dyn Forge,
    repo: &RepoId,
    open: PullRequest,
    pr: &NewPullRequest,
    head: &str,
) -> Result<Outcome, Error> {
    let last = marker::Marker::read(&open.body).unwrap_or_default();
    let mut kept = Vec::new();
    let title = choose(
        &open.title,
        &pr.title,
        last.title.as_deref(),
        "title",
        &mut kept,
    );
    let current = marker::strip(&open.body);
    let body = choose(current, &pr.body, last.body.as_deref(), "body", &mut kept);
    let body = written(pr, head).write(body);
    let updated = if open.title == title && open.body == body {
        open
    } else {
        forge.update(repo, open.number, title, &body)?
    };
    let labels = marker::labels_digest(&pr.labels);
    if last.labels.as_deref() != Some(labels.as_str()) {
        if !pr.labels.is_empty() {
            forge.add_labels(repo, updated.number, &pr.labels)?;
        }
    } else if pr.labels.iter().any(|l| !updated.labels.contains(l)) {
        kept.push("labels");
    }
    Ok(Outcome {
        action: Action::Updated,
        pr: updated,
        kept,
    })
}

/// The marker of what codefleet sets: the pushed head and the digests of the pipeline's values
/// (a person's kept edit keeps being told apart by them).
fn written(pr: &NewPullRequest, head: &str) -> marker::Marker {
    marker::Marker {
        head: Some(head.to_string()),
        title: Some(marker::text_digest(&pr.title)),
        body: Some(marker::text_digest(&pr.body)),
        labels: Some(marker::labels_digest(&pr.labels)),
        closed_empty: false,
    }
}

/// The current value when a person edited it and the pipeline's did not change, else the new.
fn choose<'a>(
    current: &'a str,
    new: &'a str,
    recorded: Option<&str>,
    field: &'static str,
    kept: &mut Vec<&'static str>,
) -> &'a str {
    match recorded {
        Some(d) if marker::text_digest(current) != d && marker::text_digest(new) == d => {
            kept.push(field);
            current
        }
        _ => new,
    }
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

    /// Pull requests in memory: just what `open_or_update` needs.
    #[derive(Default)]
    struct Memory {
        prs: std::sync::Mutex<Vec<PullRequest>>,
        label_calls: std::sync::Mutex<usize>,
    }

    fn unsupported<T>() -> Result<T, Error> {
        Err(ForgeError::Unsupported {
            forge: "memory",
            what: "this",
        }
        .into())
    }

    impl Forge for Memory {
        fn repo(&self, _: &RepoId) -> Result<RemoteRepo, Error> {
            unsupported()
        }
        fn list_repos(&self, _: &Owner) -> Result<Vec<RemoteRepo>, Error> {
            unsupported()
        }
        fn search_repos(&self, _: &str) -> Result<Vec<RemoteRepo>, Error> {
            unsupported()
        }
        fn code_search(&self, _: &str) -> Result<Vec<RepoId>, Error> {
            unsupported()
        }
        fn pull_requests(&self, _: &RepoId, _: &str) -> Result<Vec<PullRequest>, Error> {
            Ok(self.prs.lock().unwrap().iter().rev().cloned().collect())
        }
        fn create(&self, _: &RepoId, pr: &NewPullRequest) -> Result<Created, Error> {
            let mut prs = self.prs.lock().unwrap();
            let made = PullRequest {
                number: prs.len() as u64 + 1,
                title: pr.title.clone(),
                body: pr.body.clone(),
                ..PullRequest::default()
            };
            prs.push(made.clone());
            Ok(Created::New(made))
        }
        fn update(
            &self,
            _: &RepoId,
            n: u64,
            title: &str,
            body: &str,
        ) -> Result<PullRequest, Error> {
            let mut prs = self.prs.lock().unwrap();
            let pr = &mut prs[n as usize - 1];
            pr.title = title.into();
            pr.body = body.into();
            Ok(pr.clone())
        }
        fn close(&self, _: &RepoId, _: u64, _: Option<&str>) -> Result<(), Error> {
            unsupported()
        }
        fn reopen(&self, _: &RepoId, _: u64) -> Result<PullRequest, Error> {
            unsupported()
        }
        fn comment(&self, _: &RepoId, _: u64, _: &str) -> Result<(), Error> {
            unsupported()
        }
        fn add_labels(&self, _: &RepoId, n: u64, labels: &[String]) -> Result<(), Error> {
            *self.label_calls.lock().unwrap() += 1;
            let mut prs = self.prs.lock().unwrap();
            let pr = &mut prs[n as usize - 1];
            for l in labels {
                if !pr.labels.contains(l) {
                    pr.labels.push(l.clone());
                }
            }
            Ok(())
        }
        fn request_reviewers(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
            Ok(())
        }
        fn mergeability(&self, _: &RepoId, _: &PullRequest) -> Result<Mergeability, Error> {
            unsupported()
        }
        fn checks(&self, _: &RepoId, _: &str) -> Result<Checks, Error> {
            unsupported()
        }
        fn review_decision(&self, _: &RepoId, _: u64) -> Result<ReviewDecision, Error> {
            unsupported()
        }
        fn merge(
            &self,
            _: &RepoId,
            _: &PullRequest,
            _: Option<MergeMethod>,
        ) -> Result<Merged, Error> {
            unsupported()
        }
        fn enable_auto_merge(
            &self,
            _: &RepoId,
            _: &PullRequest,
            _: Option<MergeMethod>,
        ) -> Result<(), Error> {
            unsupported()
        }
        fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
            unsupported()
        }
        fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
            unsupported()
        }
    }

    fn wanted(title: &str, body: &str, labels: &[&str]) -> NewPullRequest {
        NewPullRequest {
            title: title.into(),
            body: body.into(),
            head: "codefleet/x".into(),
            base: "main".into(),
            draft: false,
            labels: labels.iter().map(|l| l.to_string()).collect(),
            reviewers: vec![],
            ..NewPullRequest::default()
        }
    }

    #[test]
    fn a_person_s_edits_are_kept_until_the_pipeline_changes_the_value() {
        let forge = Memory::default();
        let repo = RepoId::default();
        let first = open_or_update(&forge, &repo, &wanted("T", "B", &["bot", "x"]), "h1").unwrap();
        assert_eq!(first.action, Action::Opened);
        let m = marker::Marker::read(&first.pr.body).unwrap();
        assert_eq!(m.head.as_deref(), Some("h1"));
        assert_eq!(marker::strip(&first.pr.body), "B");
        // A person edits the title and the body (keeping the marker) and removes a label.
        {
            let mut prs = forge.prs.lock().unwrap();
            prs[0].title = "Mine".into();
            prs[0].body = m.write("My body\r\n");
            prs[0].labels = vec!["bot".into()];
        }
        let again = update_from(&forge, &wanted("T", "B", &["x", "bot"]), "h2");
        assert_eq!(again.kept, ["title", "body", "labels"]);
        assert_eq!(again.pr.title, "Mine");
        assert_eq!(marker::strip(&again.pr.body), "My body");
        assert_eq!(again.pr.labels, ["bot"]);
        let m2 = marker::Marker::read(&again.pr.body).unwrap();
        assert_eq!((m2.head.as_deref(), &m2.title), (Some("h2"), &m.title));
        assert_eq!(
            *forge.label_calls.lock().unwrap(),
            1,
            "labels not added again"
        );
        // The pipeline's title changes: set; its body did not: still the person's.
        let third = update_from(&forge, &wanted("T2", "B", &["bot", "x", "y"]), "h3");
        assert_eq!(third.kept, ["body"]);
        assert_eq!(third.pr.title, "T2");
        assert_eq!(forge.prs.lock().unwrap()[0].labels, ["bot", "x", "y"]);
        // A body without a marker counts as unedited.
        forge.prs.lock().unwrap()[0].body = "old codefleet".into();
        let fourth = update_from(&forge, &wanted("T2", "B", &["bot", "x", "y"]), "h4");
        assert_eq!(marker::strip(&fourth.pr.body), "B");
    }

    fn update_from(forge: &Memory, pr: &NewPullRequest, head: &str) -> Outcome {
        let done = open_or_update(forge, &RepoId::default(), pr, head).unwrap();
        assert_eq!(done.action, Action::Updated);
        done
    }

    #[test]
    fn only_a_person_s_close_blocks() {
        let pr = |state, body: &str| PullRequest {
            state,
            body: body.into(),
            ..PullRequest::default()
        };
        let ours = marker::closed_empty("text");
        assert!(closed_by_person(&[pr(PrState::Closed, "x")]).is_some());
        assert!(closed_by_person(&[pr(PrState::Closed, &ours)]).is_none());
        assert!(closed_by_person(&[pr(PrState::Merged, "x")]).is_none());
        assert!(closed_by_person(&[pr(PrState::Open, "x"), pr(PrState::Closed, "x")]).is_none());
        assert!(closed_by_person(&[]).is_none());
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
