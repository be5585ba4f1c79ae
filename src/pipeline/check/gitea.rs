//! The check of a `repos:` entry `gitea:`: a host written as a host (required unless one host
//! is listed under `gitea.hosts`, which `plan` checks), exactly one of `org` or `user` with a
//! name Gitea accepts, and the shared filters (`listing.rs`).

use crate::pipeline::diag::Rule;
use crate::pipeline::file::GiteaEntry;
use crate::pipeline::model::{GiteaOwner, GiteaSelector, ListFilters};
use crate::pipeline::yaml::Node;

use super::Checker;
use super::listing::Topics;

impl<'a> Checker<'a> {
    /// The checked selector of a `gitea:` entry at `node`, or `None` after reporting why not.
    pub(super) fn gitea(&mut self, entry: &GiteaEntry, node: &'a Node) -> Option<GiteaSelector> {
        let host = match &entry.host {
            Some(h) => self.forge_host(h, node, "gitea").map(Some),
            None => Some(None),
        };
        let owner = self.gitea_owner(entry, node);
        let filters = ListFilters {
            topics: entry.topics.clone().unwrap_or_default(),
            search: entry.search.clone(),
            include: entry.include.clone(),
            exclude: entry.exclude.clone(),
            archived: entry.archived.unwrap_or(false),
            forks: entry.forks.unwrap_or(false),
            limit: entry.limit.map(|l| l as usize),
        };
        let topics = Topics {
            forge: "Gitea",
            valid: valid_topic,
            hint: "topics are lower-case letters, digits, `-` and `.`, starting with a letter \
                   or digit, at most 35 characters",
        };
        let filters = self.list_filters(filters, node, &topics);
        Some(GiteaSelector {
            host: host?,
            owner: owner?,
            filters: filters?,
        })
    }

    fn gitea_owner(&mut self, entry: &GiteaEntry, node: &'a Node) -> Option<GiteaOwner> {
        let (key, name) = match (&entry.org, &entry.user) {
            (Some(_), Some(_)) => {
                let at = node.key("user").unwrap_or(node);
                self.hint(
                    Rule::RepoEntry,
                    "a `gitea` entry has both `org` and `user`",
                    at,
                    "give each owner its own `- gitea:` entry",
                );
                return None;
            }
            (None, None) => {
                if !super::node_has_reported_key(node, self.poisoned) {
                    self.hint(
                        Rule::RepoEntry,
                        "a `gitea` entry needs `org` or `user`",
                        node,
                        "e.g. `- gitea: { host: git.corp.example, org: acme }`",
                    );
                }
                return None;
            }
            (Some(n), None) => ("org", n),
            (None, Some(n)) => ("user", n),
        };
        let at = self.field(Some(node), key)?;
        if !valid_name(name) {
            self.hint(
                Rule::UnknownValue,
                format!(
                    "`{name}` is not a Gitea {} name",
                    if key == "org" { "organisation" } else { "user" }
                ),
                at,
                "names are letters, digits, `-`, `_` and `.`, starting and ending with a letter \
                 or digit, with no two of `-_.` in a row",
            );
            return None;
        }
        Some(if key == "org" {
            GiteaOwner::Org(name.clone())
        } else {
            GiteaOwner::User(name.clone())
        })
    }
}

/// A Gitea user or organisation name: letters, digits, `-`, `_` and `.`, starting and ending
/// with a letter or digit, no two non-alphanumeric characters in a row.
pub fn valid_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !name.is_empty()
        && name.len() <= 40
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
        && !bytes
            .windows(2)
            .any(|w| !w[0].is_ascii_alphanumeric() && !w[1].is_ascii_alphanumeric())
}

/// A Gitea topic: lower-case letters, digits, `-` and `.`, starting with a letter or digit, at
/// most 35 characters.
fn valid_topic(topic: &str) -> bool {
    topic.len() <= 35
        && topic.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        && topic
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, '-' | '.'))
}
