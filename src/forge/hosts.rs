//! Which forge speaks for a repository: chosen from its remote URL's host. `github.com` and the
//! hosts under `github.hosts` are GitHub, `gitlab.com` and `gitlab.hosts` GitLab, `gitea.hosts`
//! Gitea/Forgejo; a host in none of them gets the fallback (the `github` settings, as before
//! forges were chosen per host), so one pipeline can span hosts.

use super::{Forge, ForgeKind};

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

    /// The hosts of one kind, in the order added.
    pub fn hosts(&self, kind: ForgeKind) -> impl Iterator<Item = (&str, &dyn Forge)> {
        self.by_host
            .iter()
            .filter(move |(_, f)| f.kind() == kind)
            .map(|(h, f)| (h.as_str(), f.as_ref()))
    }
}

/// The host of a remote URL, with its port when it names one, lower-cased:
/// `https://user@gitlab.com:8443/g/p.git` → `gitlab.com:8443`, `git@host:g/p.git` → `host`,
/// `ssh://git@host:2222/g/p` → `host:2222`; `None` for a local path or `file://` URL.
pub fn host_of(url: &str) -> Option<String> {
    let authority = match url.split_once("://") {
        Some((scheme, rest)) => {
            if scheme.eq_ignore_ascii_case("file") {
                return None;
            }
            let authority = rest.split('/').next()?;
            let authority = authority.rsplit('@').next()?;
            // An ssh URL's port is part of the host's identity too; keep it.
            authority.to_string()
        }
        None => {
            // scp-like `user@host:path`; a path with no `:` before any `/` is local.
            let (before, _) = url.split_once(':')?;
            if before.contains('/') || before.is_empty() {
                return None;
            }
            before.rsplit('@').next()?.to_string()
        }
    };
    (!authority.is_empty()).then(|| authority.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_host_comes_from_every_url_form() {
        let h = |u: &str| host_of(u);
        assert_eq!(
            h("https://gitlab.com/g/sub/p.git").as_deref(),
            Some("gitlab.com")
        );
        assert_eq!(
            h("https://oauth2:x@GitLab.Corp:8443/g/p").as_deref(),
            Some("gitlab.corp:8443")
        );
        assert_eq!(
            h("git@github.com:acme/x.git").as_deref(),
            Some("github.com")
        );
        assert_eq!(h("ssh://git@host:2222/g/p").as_deref(), Some("host:2222"));
        assert_eq!(
            h("http://127.0.0.1:3000/o/r.git").as_deref(),
            Some("127.0.0.1:3000")
        );
        assert_eq!(h("file:///srv/git/acme/x.git"), None);
        assert_eq!(h("/srv/git/x"), None);
        assert_eq!(h("./a:b/c"), None);
    }
}
