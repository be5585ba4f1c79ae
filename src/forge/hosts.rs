//! Which forge speaks for a repository: chosen from its remote URL's host. `github.com` and the
//! hosts under `github.hosts` are GitHub, `gitlab.com` and `gitlab.hosts` GitLab, `gitea.hosts`
//! Gitea/Forgejo; a host in none of them gets the fallback (the `github` settings, as before
//! forges were chosen per host), so one pipeline can span hosts.

use super::{Forge, ForgeKind};
pub use crate::git::host_of;

impl ForgeKind {
    /// How people write a pull request's number on this forge, in human text: `!7` for a
    /// GitLab merge request, `#7` elsewhere.
    pub fn number(self, n: u64) -> String {
        match self {
            ForgeKind::GitLab => format!("!{n}"),
            ForgeKind::GitHub | ForgeKind::Gitea => format!("#{n}"),
        }
    }
}

/// The forges of one invocation, by host.
pub struct Forges {
    by_host: Vec<(String, Box<dyn Forge>)>,
    fallback: Box<dyn Forge>,
}

impl std::fmt::Debug for Forges {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forges")
            .field(
                "hosts",
                &self
                    .by_host
                    .iter()
                    .map(|(h, f)| (h.as_str(), f.name()))
                    .collect::<Vec<_>>(),
            )
            .field("fallback", &self.fallback.name())
            .finish()
    }
}

impl Forges {
    /// Forges with `fallback` for every host not added.
    pub fn new(fallback: Box<dyn Forge>) -> Forges {
        Forges {
            by_host: Vec::new(),
            fallback,
        }
    }

    /// `host` (`gitlab.corp.example`, or `127.0.0.1:8080` with its port) is served by `forge`;
    /// a later entry for the same host replaces the earlier.
    pub fn add(&mut self, host: &str, forge: Box<dyn Forge>) {
        let host = host.to_ascii_lowercase();
        self.by_host.retain(|(h, _)| *h != host);
        self.by_host.push((host, forge));
    }

    /// The forge of a host (the fallback for a host not added).
    pub fn for_host(&self, host: &str) -> &dyn Forge {
        self.by_host
            .iter()
            .find(|(h, _)| h.eq_ignore_ascii_case(host))
            .map_or(self.fallback.as_ref(), |(_, f)| f.as_ref())
    }

    /// The forge of a remote URL's host (the fallback when the URL has none: a local path).
    pub fn for_url(&self, url: &str) -> &dyn Forge {
        match host_of(url) {
            Some(host) => self.for_host(&host),
            None => self.fallback.as_ref(),
        }
    }

    /// The kind of forge that speaks for a remote URL's repository.
    pub fn kind_for_url(&self, url: &str) -> ForgeKind {
        self.for_url(url).kind()
    }

    /// The forge of github.com (`github:` discovery entries, `owner/name` repositories): the
    /// one added for `github.com`, else the fallback.
    pub fn github_com(&self) -> &dyn Forge {
        self.for_host("github.com")
    }

    /// The fallback forge, for hosts not added.
    pub fn fallback(&self) -> &dyn Forge {
        self.fallback.as_ref()
    }

    /// The hosts of one kind, in the order added.
    pub fn hosts(&self, kind: ForgeKind) -> impl Iterator<Item = (&str, &dyn Forge)> {
        self.by_host
            .iter()
            .filter(move |(_, f)| f.kind() == kind)
            .map(|(h, f)| (h.as_str(), f.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::forge::{GitHub, GitLab, Gitea};

    #[test]
    fn a_url_gets_the_forge_of_its_host_and_others_the_fallback() {
        let mut forges = Forges::new(Box::new(GitHub::new("https://api.github.com", None)));
        forges.add(
            "gitlab.com",
            Box::new(GitLab::new("https://gitlab.com/api/v4", None)),
        );
        forges.add(
            "Gitea.Corp:3000",
            Box::new(Gitea::new("https://gitea.corp:3000/api/v1", None)),
        );
        let kind = |u: &str| forges.kind_for_url(u);
        assert_eq!(kind("https://gitlab.com/g/sub/p.git"), ForgeKind::GitLab);
        assert_eq!(kind("git@gitlab.com:g/p.git"), ForgeKind::GitLab);
        assert_eq!(kind("http://gitea.corp:3000/o/r.git"), ForgeKind::Gitea);
        assert_eq!(kind("http://gitea.corp/o/r.git"), ForgeKind::GitHub);
        assert_eq!(kind("/srv/git/x"), ForgeKind::GitHub);
        assert_eq!(forges.github_com().kind(), ForgeKind::GitHub);
        let gitlab: Vec<&str> = forges.hosts(ForgeKind::GitLab).map(|(h, _)| h).collect();
        assert_eq!(gitlab, ["gitlab.com"]);
    }
}
