//! Repositories from forges: a `repos:` entry `github:` (an organisation's or user's
//! repositories, narrowed by topics, a repository search, a code search, regexes and a limit),
//! `gitlab:` (a group's projects, its subgroups' too) and `gitea:` (an organisation's or user's),
//! each asked of the forge of its host; `--repo owner/name`, `--repo owner/*` and `--repo
//! HOST/path`. Read-only: the API is asked, nothing is cloned.
//! Archived, disabled and (unless asked for) forked repositories are dropped here, before
//! anything runs, and returned as [`Dropped`] so that `plan` and the report count them.

use std::collections::HashSet;

use regex::Regex;

use crate::error::Error;
use crate::exec::Target;
use crate::forge::{Forge, ForgeError, ForgeKind, Forges, Listing, Owner, RemoteRepo, RepoId};
use crate::git::RemoteSpec;
use crate::pipeline::{
    GitHubOwner, GitHubSelector, GitLabSelector, GiteaOwner, GiteaSelector, ListFilters,
};
use crate::report::{DropReason, Dropped};

use super::errors::PlanError;

/// What resolving forge entries needs: the forges by host, and which clone URL to run from.
#[derive(Clone, Copy, Default)]
pub struct Discovery<'a> {
    /// The forges of this invocation, by host; `None` when the command has none (a forge
    /// entry then fails).
    pub forge: Option<&'a Forges>,
    /// Clone over ssh (`ssh_url`) rather than https (`clone_url`): the setting
    /// `github.clone: ssh`.
    pub ssh: bool,
}

impl std::fmt::Debug for Discovery<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Discovery")
            .field("forge", &self.forge)
            .field("ssh", &self.ssh)
            .finish()
    }
}

/// Repositories found through the API: those to run on, sorted by `owner/name`, and those left
/// out.
#[derive(Debug, Default)]
pub struct Found {
    /// To run on.
    pub repos: Vec<RemoteRepo>,
    /// Left out (archived, disabled, forks).
    pub dropped: Vec<Dropped>,
}

impl Discovery<'_> {
    fn forges(&self) -> Result<&Forges, Error> {
        self.forge.ok_or_else(|| {
            ForgeError::Unsupported {
                forge: "this command",
                what: "repositories from a forge",
            }
            .into()
        })
    }

    /// GitHub's forge (github.com's, else the fallback).
    fn forge(&self) -> Result<&dyn Forge, Error> {
        Ok(self.forges()?.for_host("github.com"))
    }

    /// The remote target of a discovered repository: its default branch, cloned from
    /// `clone_url` (or `ssh_url`).
    pub fn target(&self, repo: &RemoteRepo) -> Target {
        let url = if self.ssh && !repo.ssh_url.is_empty() {
            &repo.ssh_url
        } else {
            &repo.clone_url
        };
        Target::Remote(RemoteSpec {
            url: url.clone(),
            git_ref: None,
            depth: None,
        })
    }

    /// The repositories a `github:` entry selects.
    pub fn select(&self, selector: &GitHubSelector) -> Result<Found, Error> {
        let forge = self.forge()?;
        let candidates = match &selector.search {
            Some(q) => forge.search_repos(&search_query(q, selector))?,
            None => list(forge, &selector.owner)?,
        };
        let hits: Option<HashSet<RepoId>> = match &selector.code_search {
            Some(q) => Some(
                forge
                    .code_search(&format!("{} {}", q.trim(), selector.owner.qualifier()))?
                    .into_iter()
                    .collect(),
            ),
            None => None,
        };
        let include = compile(selector.include.as_deref());
        let exclude = compile(selector.exclude.as_deref());
        let login = selector.owner.login();
        let chosen = candidates.into_iter().filter(|r| {
            let full = r.id.to_string();
            r.id.owner.eq_ignore_ascii_case(login)
                && selector.topics.iter().all(|t| r.topics.contains(t))
                && hits.as_ref().is_none_or(|h| h.contains(&r.id))
                && include.as_ref().is_none_or(|re| re.is_match(&full))
                && !exclude.as_ref().is_some_and(|re| re.is_match(&full))
        });
        let mut found = keep(chosen, selector.archived, selector.forks);
        if let Some(limit) = selector.limit {
            found.repos.truncate(limit);
        }
        Ok(found)
    }

    /// `--repo owner/name`: that repository, unless archived or disabled (a fork named
    /// explicitly is kept).
    pub fn one(&self, id: &RepoId) -> Result<Found, Error> {
        let repo = self.forge()?.repo(id).map_err(|e| {
            if not_found(&e) {
                PlanError::NoRepo {
                    repo: id.to_string(),
                }
                .into()
            } else {
                e
            }
        })?;
        Ok(keep(std::iter::once(repo), false, true))
    }

    /// `--repo 'owner/*'`: every repository of an organisation, or (when there is no
    /// organisation of that name) of a user; archived, disabled and forks dropped.
    pub fn everything_of(&self, owner: &str) -> Result<Found, Error> {
        let forge = self.forge()?;
        let repos =
            match forge.list_repos(&Owner::Org(owner.to_string())) {
                Err(e) if not_found(&e) => forge
                    .list_repos(&Owner::User(owner.to_string()))
                    .map_err(|e| {
                        if not_found(&e) {
                            PlanError::NoOwner {
                                owner: owner.to_string(),
                                what: "organisation or user",
                                other: None,
                            }
                            .into()
                        } else {
                            e
                        }
                    })?,
                other => other?,
            };
        let login = owner;
        Ok(keep(
            repos
                .into_iter()
                .filter(|r| r.id.owner.eq_ignore_ascii_case(login)),
            false,
            false,
        ))
    }
}

impl Discovery<'_> {
    /// The forge `host` is listed as, when it is of `kind`; else why not (`E576`). `what` names
    /// the entry or value in the message.
    pub fn forge_of(&self, host: &str, kind: ForgeKind, what: &str) -> Result<&dyn Forge, Error> {
        let forges = self.forges()?;
        if let Some((_, forge)) = forges
            .hosts(kind)
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
        {
            return Ok(forge);
        }
        let listed = [ForgeKind::GitHub, ForgeKind::GitLab, ForgeKind::Gitea]
            .into_iter()
            .find(|k| forges.hosts(*k).any(|(h, _)| h.eq_ignore_ascii_case(host)));
        let why = match listed {
            Some(other) => format!(
                "`{host}` is listed as a {} host, not {}",
                other.name(),
                kind.name()
            ),
            None => format!("`{host}` is not listed as a {} host", kind.name()),
        };
        Err(PlanError::ForgeHost {
            what: what.to_string(),
            why,
            setting: setting(kind),
        }
        .into())
    }

    /// The forge a known host is listed as (github.com always is GitHub), if any.
    pub fn known_host(&self, host: &str) -> Option<&dyn Forge> {
        let forges = self.forge?;
        let listed = [ForgeKind::GitHub, ForgeKind::GitLab, ForgeKind::Gitea]
            .into_iter()
            .find_map(|k| forges.hosts(k).find(|(h, _)| h.eq_ignore_ascii_case(host)));
        match listed {
            Some((_, forge)) => Some(forge),
            None if host.eq_ignore_ascii_case("github.com") => Some(forges.for_host(host)),
            None => None,
        }
    }

    /// The projects a `gitlab:` entry selects.
    pub fn select_gitlab(&self, selector: &GitLabSelector) -> Result<Found, Error> {
        let host = &selector.host;
        let forge = self.forge_of(
            host,
            ForgeKind::GitLab,
            &format!("`gitlab:` entry of host `{host}`"),
        )?;
        let listing = Listing {
            owner: Owner::Group {
                path: selector.group.clone(),
                subgroups: selector.subgroups,
            },
            topics: selector.filters.topics.clone(),
            search: selector.filters.search.clone(),
            // Archived ones are listed too, so that dropping them here counts them.
            archived: true,
        };
        let group = selector.group.to_ascii_lowercase();
        let within = |owner: &str| {
            let owner = owner.to_ascii_lowercase();
            owner == group || (selector.subgroups && owner.starts_with(&format!("{group}/")))
        };
        let repos = forge
            .list_matching(&listing)
            .map_err(|e| missing_owner(e, forge, host, &selector.group, "group", None))?;
        Ok(narrow(repos, |r| within(&r.id.owner), &selector.filters))
    }

    /// The repositories a `gitea:` entry selects; without `host`, the only host under
    /// `gitea.hosts`.
    pub fn select_gitea(&self, selector: &GiteaSelector) -> Result<Found, Error> {
        let host = match &selector.host {
            Some(h) => h.to_ascii_lowercase(),
            None => self.only_gitea_host()?,
        };
        let forge = self.forge_of(
            &host,
            ForgeKind::Gitea,
            &format!("`gitea:` entry of host `{host}`"),
        )?;
        let (owner, login, what, other) = match &selector.owner {
            GiteaOwner::Org(n) => (Owner::Org(n.clone()), n, "organisation", "user"),
            GiteaOwner::User(n) => (Owner::User(n.clone()), n, "user", "org"),
        };
        let listing = Listing {
            owner,
            topics: selector.filters.topics.clone(),
            search: selector.filters.search.clone(),
            // Archived ones are listed too, so that dropping them here counts them.
            archived: true,
        };
        let repos = forge
            .list_matching(&listing)
            .map_err(|e| missing_owner(e, forge, &host, login, what, Some(other)))?;
        Ok(narrow(
            repos,
            |r| r.id.owner.eq_ignore_ascii_case(login),
            &selector.filters,
        ))
    }

    /// The one host under `gitea.hosts`, for a `gitea:` entry without `host`.
    fn only_gitea_host(&self) -> Result<String, Error> {
        let hosts: Vec<&str> = self
            .forges()?
            .hosts(ForgeKind::Gitea)
            .map(|(h, _)| h)
            .collect();
        match hosts.as_slice() {
            [one] => Ok(one.to_string()),
            [] => Err(PlanError::ForgeHost {
                what: "a `gitea:` entry without `host`".to_string(),
                why: "no host is listed under `gitea.hosts`".to_string(),
                setting: "gitea.hosts",
            }
            .into()),
            many => Err(PlanError::ForgeHost {
                what: "a `gitea:` entry without `host`".to_string(),
                why: format!(
                    "{} hosts are listed under `gitea.hosts` ({}); say which",
                    many.len(),
                    many.join(", ")
                ),
                setting: "gitea.hosts",
            }
            .into()),
        }
    }

    /// `--repo HOST/path`: the repository `path` (`owner/name`, or a GitLab project's
    /// `group/sub/name`) of a known host's forge, unless archived or disabled (a fork named
    /// explicitly is kept). `None` when `host` is no known forge host.
    pub fn at_host(&self, text: &str, host: &str, path: &str) -> Option<Result<Found, Error>> {
        let forge = self.known_host(host)?;
        let (owner, name) = path.rsplit_once('/')?;
        let id = RepoId {
            owner: owner.to_string(),
            name: name.trim_end_matches(".git").to_string(),
        };
        Some(match forge.repo(&id) {
            Ok(repo) => Ok(keep(std::iter::once(repo), false, true)),
            Err(e) if not_found(&e) => Err(PlanError::NoForgeRepo {
                text: text.to_string(),
                forge: forge.name(),
                host: host.to_string(),
                repo: id.to_string(),
            }
            .into()),
            Err(e) => Err(e),
        })
    }
}

/// Where hosts of `kind` are listed.
fn setting(kind: ForgeKind) -> &'static str {
    match kind {
        ForgeKind::GitHub => "github.hosts",
        ForgeKind::GitLab => "gitlab.hosts",
        ForgeKind::Gitea => "gitea.hosts",
    }
}

/// A 404 on a listing as the missing owner it means (`E575`); any other error as it is.
fn missing_owner(
    e: Error,
    forge: &dyn Forge,
    host: &str,
    owner: &str,
    what: &'static str,
    other: Option<&'static str>,
) -> Error {
    if !not_found(&e) {
        return e;
    }
    PlanError::NoForgeOwner {
        forge: forge.name(),
        host: host.to_string(),
        owner: owner.to_string(),
        what,
        other,
    }
    .into()
}

/// The listed repositories `owned` keeps that the regexes select, split into those kept and
/// those dropped, and cut to the limit.
fn narrow(
    repos: Vec<RemoteRepo>,
    owned: impl Fn(&RemoteRepo) -> bool,
    filters: &ListFilters,
) -> Found {
    let include = compile(filters.include.as_deref());
    let exclude = compile(filters.exclude.as_deref());
    let chosen = repos.into_iter().filter(|r| {
        let full = r.id.to_string();
        owned(r)
            && include.as_ref().is_none_or(|re| re.is_match(&full))
            && !exclude.as_ref().is_some_and(|re| re.is_match(&full))
    });
    let mut found = keep(chosen, filters.archived, filters.forks);
    if let Some(limit) = filters.limit {
        found.repos.truncate(limit);
    }
    found
}

/// The owner's repositories; a 404 says which owner is missing, and suggests the other kind.
fn list(forge: &dyn Forge, owner: &GitHubOwner) -> Result<Vec<RemoteRepo>, Error> {
    let (query, what, other) = match owner {
        GitHubOwner::Org(n) => (Owner::Org(n.clone()), "organisation", "user"),
        GitHubOwner::User(n) => (Owner::User(n.clone()), "user", "org"),
    };
    forge.list_repos(&query).map_err(|e| {
        if not_found(&e) {
            PlanError::NoOwner {
                owner: owner.login().to_string(),
                what,
                other: Some(other),
            }
            .into()
        } else {
            e
        }
    })
}

/// The repository search query: the user's, with the owner's and the topics' qualifiers (and
/// `fork:true` when forks are wanted: GitHub's search leaves them out by default).
fn search_query(user: &str, selector: &GitHubSelector) -> String {
    let mut q = vec![user.trim().to_string(), selector.owner.qualifier()];
    q.extend(selector.topics.iter().map(|t| format!("topic:{t}")));
    if selector.forks {
        q.push("fork:true".to_string());
    }
    q.join(" ")
}

/// A regex the pipeline check compiled already; `None` if absent.
fn compile(pattern: Option<&str>) -> Option<Regex> {
    pattern.and_then(|p| Regex::new(p).ok())
}

/// Whether `e` is the forge's 404.
fn not_found(e: &Error) -> bool {
    matches!(
        e.kind::<ForgeError>(),
        Some(ForgeError::Refused { status: 404, .. })
    )
}

/// Splits `repos` into those kept and those dropped (disabled always; archived and forks
/// unless kept), each sorted by `owner/name` and without duplicates.
fn keep(repos: impl Iterator<Item = RemoteRepo>, archived: bool, forks: bool) -> Found {
    let mut found = Found::default();
    for r in repos {
        let reason = if r.disabled {
            Some(DropReason::Disabled)
        } else if r.archived && !archived {
            Some(DropReason::Archived)
        } else if r.fork && !forks {
            Some(DropReason::Fork)
        } else {
            None
        };
        match reason {
            Some(reason) => found.dropped.push(Dropped {
                repo: r.id.to_string(),
                reason,
            }),
            None => found.repos.push(r),
        }
    }
    found.repos.sort_by(|a, b| a.id.cmp(&b.id));
    found.repos.dedup_by(|a, b| a.id == b.id);
    found.dropped.sort_by(|a, b| a.repo.cmp(&b.repo));
    found.dropped.dedup();
    found
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::forge::{
        ApiCommit, Checks, Created, MergeMethod, Mergeability, Merged, NewPullRequest, PullRequest,
        ReviewDecision,
    };

    /// What a fake forge was asked.
    type Log = Arc<Mutex<Vec<String>>>;

    /// A forge that answers discovery from a list, and records the queries.
    #[derive(Default)]
    struct Fake {
        repos: Vec<RemoteRepo>,
        /// Owners that are users (the org listing 404s for them).
        users: Vec<String>,
        /// Repositories a code search hits.
        code_hits: Vec<&'static str>,
        asked: Log,
        /// The kind it says it is (GitHub by default).
        kind: ForgeKind,
    }

    fn repo(full: &str, flags: &str, topics: &[&str]) -> RemoteRepo {
        let (owner, name) = full.rsplit_once('/').unwrap();
        RemoteRepo {
            id: RepoId {
                owner: owner.into(),
                name: name.into(),
            },
            clone_url: format!("https://github.example/{full}.git"),
            ssh_url: format!("git@github.example:{full}.git"),
            default_branch: "main".into(),
            archived: flags.contains('a'),
            disabled: flags.contains('d'),
            fork: flags.contains('f'),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            merge_methods: None,
        }
    }

    fn missing() -> Error {
        ForgeError::Refused {
            forge: "GitHub",
            repo: RepoId::default(),
            status: 404,
            what: "listing",
            message: "Not Found".into(),
            hint: "",
        }
        .into()
    }

    impl Fake {
        fn log(&self, s: String) {
            self.asked.lock().unwrap().push(s);
        }
    }

    impl Forge for Fake {
        fn kind(&self) -> ForgeKind {
            self.kind
        }
        fn list_matching(&self, listing: &Listing) -> Result<Vec<RemoteRepo>, Error> {
            self.log(format!("matching {listing:?}"));
            let (path, subgroups) = match &listing.owner {
                Owner::Group { path, subgroups } => (path, *subgroups),
                Owner::Org(_) | Owner::User(_) => return self.list_repos(&listing.owner),
            };
            let prefix = format!("{path}/");
            let mut repos: Vec<RemoteRepo> = self
                .repos
                .iter()
                .filter(|r| &r.id.owner == path || (subgroups && r.id.owner.starts_with(&prefix)))
                .filter(|r| listing.topics.iter().all(|t| r.topics.contains(t)))
                .filter(|r| {
                    listing
                        .search
                        .as_ref()
                        .is_none_or(|q| r.id.name.contains(q.as_str()))
                })
                .cloned()
                .collect();
            if repos.is_empty() {
                return Err(missing());
            }
            repos.reverse();
            Ok(repos)
        }
        fn repo(&self, id: &RepoId) -> Result<RemoteRepo, Error> {
            self.log(format!("repo {id}"));
            self.repos
                .iter()
                .find(|r| &r.id == id)
                .cloned()
                .ok_or_else(missing)
        }
        fn list_repos(&self, owner: &Owner) -> Result<Vec<RemoteRepo>, Error> {
            let (login, is_user) = match owner {
                Owner::Org(o) => (o, false),
                Owner::User(u) => (u, true),
                Owner::Group { path, .. } => (path, false),
            };
            self.log(format!("list {login} {is_user}"));
            let known = self.repos.iter().any(|r| &r.id.owner == login);
            if !known || self.users.contains(login) != is_user {
                return Err(missing());
            }
            Ok(self
                .repos
                .iter()
                .rev()
                .filter(|r| &r.id.owner == login)
                .cloned()
                .collect())
        }
        fn search_repos(&self, query: &str) -> Result<Vec<RemoteRepo>, Error> {
            self.log(format!("search {query}"));
            Ok(self
                .repos
                .iter()
                .filter(|r| {
                    query
                        .split(' ')
                        .next()
                        .is_some_and(|w| r.id.name.contains(w))
                })
                .cloned()
                .collect())
        }
        fn code_search(&self, query: &str) -> Result<Vec<RepoId>, Error> {
            self.log(format!("code {query}"));
            Ok(self
                .code_hits
                .iter()
                .map(|h| RepoId::from_url(&format!("https://x/{h}")).unwrap())
                .collect())
        }
        fn pull_requests(&self, _: &RepoId, _: &str) -> Result<Vec<PullRequest>, Error> {
            unreachable!()
        }
        fn create(&self, _: &RepoId, _: &NewPullRequest) -> Result<Created, Error> {
            unreachable!()
        }
        fn update(&self, _: &RepoId, _: u64, _: &str, _: &str) -> Result<PullRequest, Error> {
            unreachable!()
        }
        fn close(&self, _: &RepoId, _: u64, _: Option<&str>) -> Result<(), Error> {
            unreachable!()
        }
        fn reopen(&self, _: &RepoId, _: u64) -> Result<PullRequest, Error> {
            unreachable!()
        }
        fn comment(&self, _: &RepoId, _: u64, _: &str) -> Result<(), Error> {
            unreachable!()
        }
        fn add_labels(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
            unreachable!()
        }
        fn request_reviewers(&self, _: &RepoId, _: u64, _: &[String]) -> Result<(), Error> {
            unreachable!()
        }
        fn mergeability(&self, _: &RepoId, _: &PullRequest) -> Result<Mergeability, Error> {
            unreachable!()
        }
        fn checks(&self, _: &RepoId, _: &str) -> Result<Checks, Error> {
            unreachable!()
        }
        fn review_decision(&self, _: &RepoId, _: u64) -> Result<ReviewDecision, Error> {
            unreachable!()
        }
        fn merge(
            &self,
            _: &RepoId,
            _: &PullRequest,
            _: Option<MergeMethod>,
        ) -> Result<Merged, Error> {
            unreachable!()
        }
        fn enable_auto_merge(
            &self,
            _: &RepoId,
            _: &PullRequest,
            _: Option<MergeMethod>,
        ) -> Result<(), Error> {
            unreachable!()
        }
        fn create_commit(&self, _: &RepoId, _: &ApiCommit) -> Result<String, Error> {
            unreachable!()
        }
        fn set_branch(&self, _: &RepoId, _: &str, _: &str, _: bool) -> Result<(), Error> {
            unreachable!()
        }
    }

    fn fleet() -> Fake {
        Fake {
            repos: vec![
                repo("acme/web", "", &["rust", "web"]),
                repo("acme/api", "", &["rust"]),
                repo("acme/old", "a", &["rust"]),
                repo("acme/mirror", "f", &[]),
                repo("acme/gone", "d", &[]),
                repo("acme/docs", "", &[]),
                repo("jo/dots", "", &[]),
                repo("jo/fork", "f", &[]),
            ],
            users: vec!["jo".into()],
            code_hits: vec!["acme/web", "acme/docs", "acme/old"],
            ..Fake::default()
        }
    }

    fn names(found: &Found) -> Vec<String> {
        found.repos.iter().map(|r| r.id.to_string()).collect()
    }

    fn dropped(found: &Found) -> Vec<String> {
        found
            .dropped
            .iter()
            .map(|d| format!("{} {}", d.repo, d.reason.words()))
            .collect()
    }

    fn org(name: &str) -> GitHubSelector {
        GitHubSelector::all_of(GitHubOwner::Org(name.into()))
    }

    #[test]
    fn an_org_is_listed_sorted_and_archived_disabled_and_forks_are_dropped() {
        let fake = fleet();
        let forges = Forges::new(Box::new(fake));
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let found = d.select(&org("acme")).unwrap();
        assert_eq!(names(&found), ["acme/api", "acme/docs", "acme/web"]);
        assert_eq!(
            dropped(&found),
            [
                "acme/gone disabled",
                "acme/mirror fork",
                "acme/old archived"
            ]
        );
        let all = d
            .select(&GitHubSelector {
                archived: true,
                forks: true,
                ..org("acme")
            })
            .unwrap();
        assert_eq!(
            names(&all),
            [
                "acme/api",
                "acme/docs",
                "acme/mirror",
                "acme/old",
                "acme/web"
            ]
        );
        assert_eq!(dropped(&all), ["acme/gone disabled"]);
    }

    #[test]
    fn filters_narrow_the_selection() {
        let fake = fleet();
        let asked = fake.asked.clone();
        let forges = Forges::new(Box::new(fake));
        let d = Discovery {
            forge: Some(&forges),
            ssh: true,
        };
        let topics = d
            .select(&GitHubSelector {
                topics: vec!["rust".into()],
                ..org("acme")
            })
            .unwrap();
        assert_eq!(names(&topics), ["acme/api", "acme/web"]);
        assert_eq!(dropped(&topics), ["acme/old archived"], "only what matched");
        let code = d
            .select(&GitHubSelector {
                code_search: Some("\"log::info!\"".into()),
                ..org("acme")
            })
            .unwrap();
        assert_eq!(names(&code), ["acme/docs", "acme/web"]);
        let regexes = d
            .select(&GitHubSelector {
                include: Some("^acme/(a|d|w)".into()),
                exclude: Some("docs$".into()),
                limit: Some(1),
                ..org("acme")
            })
            .unwrap();
        assert_eq!(names(&regexes), ["acme/api"]);
        let searched = d
            .select(&GitHubSelector {
                search: Some("we".into()),
                topics: vec!["web".into()],
                ..org("acme")
            })
            .unwrap();
        assert_eq!(names(&searched), ["acme/web"]);
        let asked = asked.lock().unwrap().clone();
        assert!(
            asked.contains(&"code \"log::info!\" org:acme".to_string()),
            "{asked:?}"
        );
        assert!(
            asked.contains(&"search we org:acme topic:web".to_string()),
            "{asked:?}"
        );
        match d.target(&topics.repos[0]) {
            Target::Remote(r) => assert_eq!(r.url, "git@github.example:acme/api.git"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn owner_star_falls_back_to_the_user_and_names_what_is_missing() {
        let fake = fleet();
        let asked = fake.asked.clone();
        let forges = Forges::new(Box::new(fake));
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let jo = d.everything_of("jo").unwrap();
        assert_eq!(names(&jo), ["jo/dots"]);
        assert_eq!(dropped(&jo), ["jo/fork fork"]);
        assert_eq!(*asked.lock().unwrap(), ["list jo false", "list jo true"]);
        let e = d.everything_of("nobody").unwrap_err();
        assert_eq!(e.code, "E550");
        let e = d
            .select(&GitHubSelector::all_of(GitHubOwner::Org("jo".into())))
            .unwrap_err();
        assert_eq!(e.code, "E550");
        assert!(e.hint.unwrap().contains("write `user: jo`"));
        let e = d
            .one(&RepoId {
                owner: "acme".into(),
                name: "nope".into(),
            })
            .unwrap_err();
        assert_eq!(e.code, "E551");
        let fork = d.one(&RepoId::from_url("x:jo/fork").unwrap()).unwrap();
        assert_eq!(names(&fork), ["jo/fork"], "a fork named explicitly is kept");
        let old = d.one(&RepoId::from_url("x:acme/old").unwrap()).unwrap();
        assert_eq!(dropped(&old), ["acme/old archived"]);
        let none = Discovery::default().everything_of("acme").unwrap_err();
        assert_eq!(none.code, "E536");
    }

    /// A GitLab at `gitlab.corp` with a group `acme` and its subgroup `acme/platform`, and a
    /// Gitea at `git.corp:3000` with the org `ops`; github.com is the fallback.
    fn three() -> (Forges, Log, Log) {
        let gitlab = Fake {
            repos: vec![
                repo("acme/web", "", &["rust"]),
                repo("acme/platform/api", "", &["rust"]),
                repo("acme/platform/old", "a", &["rust"]),
                repo("acme/platform/mirror", "f", &["rust"]),
                repo("acme/platform/deep/db", "", &[]),
                repo("acmex/other", "", &["rust"]),
            ],
            kind: ForgeKind::GitLab,
            ..Fake::default()
        };
        let gitea = Fake {
            repos: vec![
                repo("ops/deploy", "", &["infra"]),
                repo("ops/old", "a", &[]),
                repo("jo/dots", "", &[]),
            ],
            users: vec!["jo".into()],
            kind: ForgeKind::Gitea,
            ..Fake::default()
        };
        let (lab, tea) = (gitlab.asked.clone(), gitea.asked.clone());
        let mut forges = Forges::new(Box::new(fleet()));
        forges.add("gitlab.corp", Box::new(gitlab));
        forges.add("git.corp:3000", Box::new(gitea));
        (forges, lab, tea)
    }

    fn group(group: &str, subgroups: bool) -> GitLabSelector {
        GitLabSelector {
            host: "gitlab.corp".into(),
            group: group.into(),
            subgroups,
            filters: ListFilters::default(),
        }
    }

    #[test]
    fn a_gitlab_group_is_listed_with_its_subgroups_and_filtered() {
        let (forges, asked, _) = three();
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let all = d.select_gitlab(&group("acme", true)).unwrap();
        // Sorted by namespace, then name.
        assert_eq!(
            names(&all),
            ["acme/web", "acme/platform/api", "acme/platform/deep/db"]
        );
        assert_eq!(
            dropped(&all),
            ["acme/platform/mirror fork", "acme/platform/old archived"]
        );
        let top = d.select_gitlab(&group("acme", false)).unwrap();
        assert_eq!(names(&top), ["acme/web"]);
        let narrowed = d
            .select_gitlab(&GitLabSelector {
                filters: ListFilters {
                    topics: vec!["rust".into()],
                    search: Some("a".into()),
                    exclude: Some("web$".into()),
                    forks: true,
                    limit: Some(1),
                    ..ListFilters::default()
                },
                ..group("acme/platform", true)
            })
            .unwrap();
        assert_eq!(names(&narrowed), ["acme/platform/api"]);
        let asked = asked.lock().unwrap().clone();
        assert!(
            asked
                .iter()
                .any(|a| a.contains("path: \"acme/platform\", subgroups: true")
                    && a.contains("topics: [\"rust\"], search: Some(\"a\"), archived: true")),
            "{asked:?}"
        );
        let e = d.select_gitlab(&group("nobody", true)).unwrap_err();
        assert_eq!(e.code, "E575");
        assert!(
            e.message
                .contains("GitLab at `gitlab.corp` has no group `nobody`"),
            "{}",
            e.message
        );
        let e = d
            .select_gitlab(&GitLabSelector {
                host: "git.corp:3000".into(),
                ..group("acme", true)
            })
            .unwrap_err();
        assert_eq!(e.code, "E576");
        assert!(
            e.message.contains("listed as a Gitea host, not GitLab"),
            "{}",
            e.message
        );
        assert!(e.hint.unwrap().contains("`gitlab.hosts`"));
    }

    #[test]
    fn a_gitea_owner_is_listed_on_the_only_host_or_the_one_named() {
        let (forges, _, asked) = three();
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let org = |host: Option<&str>, owner| GiteaSelector {
            host: host.map(String::from),
            owner,
            filters: ListFilters::default(),
        };
        let ops = d
            .select_gitea(&org(None, GiteaOwner::Org("ops".into())))
            .unwrap();
        assert_eq!(names(&ops), ["ops/deploy"]);
        assert_eq!(dropped(&ops), ["ops/old archived"]);
        let jo = d
            .select_gitea(&org(Some("GIT.corp:3000"), GiteaOwner::User("jo".into())))
            .unwrap();
        assert_eq!(names(&jo), ["jo/dots"]);
        let e = d
            .select_gitea(&org(None, GiteaOwner::Org("jo".into())))
            .unwrap_err();
        assert_eq!(e.code, "E575");
        assert!(e.hint.unwrap().contains("write `user: jo`"));
        let e = d
            .select_gitea(&org(Some("gitlab.corp"), GiteaOwner::Org("ops".into())))
            .unwrap_err();
        assert_eq!(e.code, "E576");
        assert!(!asked.lock().unwrap().is_empty());
        // Two Gitea hosts: an entry must say which.
        let (mut forges, _, _) = three();
        forges.add(
            "forgejo.corp",
            Box::new(Fake {
                kind: ForgeKind::Gitea,
                ..Fake::default()
            }),
        );
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let e = d
            .select_gitea(&org(None, GiteaOwner::Org("ops".into())))
            .unwrap_err();
        assert_eq!(e.code, "E576");
        assert!(
            e.message.contains(
                "2 hosts are listed under `gitea.hosts` (git.corp:3000, forgejo.corp); say which"
            ),
            "{}",
            e.message
        );
    }

    #[test]
    fn a_repository_at_a_host_is_asked_of_that_host_s_forge() {
        let (forges, lab, _) = three();
        let d = Discovery {
            forge: Some(&forges),
            ssh: false,
        };
        let found = d
            .at_host(
                "gitlab.corp/acme/platform/api",
                "gitlab.corp",
                "acme/platform/api",
            )
            .unwrap()
            .unwrap();
        assert_eq!(names(&found), ["acme/platform/api"]);
        assert_eq!(*lab.lock().unwrap(), ["repo acme/platform/api"]);
        let gh = d
            .at_host("github.com/acme/web", "github.com", "acme/web")
            .unwrap()
            .unwrap();
        assert_eq!(names(&gh), ["acme/web"]);
        let e = d
            .at_host("git.corp:3000/ops/nope", "git.corp:3000", "ops/nope")
            .unwrap()
            .unwrap_err();
        assert_eq!(e.code, "E577");
        assert!(
            e.message
                .contains("Gitea at `git.corp:3000` has no repository `ops/nope`")
        );
        assert!(d.at_host("x.example/a/b", "x.example", "a/b").is_none());
    }
}
