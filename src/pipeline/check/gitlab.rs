//! The check of a `repos:` entry `gitlab:`: a host written as a host (default `gitlab.com`),
//! a group path GitLab accepts, and the shared filters (`listing.rs`).

use crate::pipeline::diag::Rule;
use crate::pipeline::file::GitLabEntry;
use crate::pipeline::model::{GitLabSelector, ListFilters};
use crate::pipeline::yaml::Node;

use super::Checker;
use super::listing::Topics;

/// GitLab's default host.
pub const GITLAB_COM: &str = "gitlab.com";

impl<'a> Checker<'a> {
    /// The checked selector of a `gitlab:` entry at `node`, or `None` after reporting why not.
    pub(super) fn gitlab(&mut self, entry: &GitLabEntry, node: &'a Node) -> Option<GitLabSelector> {
        let host = match &entry.host {
            Some(h) => self.forge_host(h, node, "gitlab"),
            None => Some(GITLAB_COM.to_string()),
        };
        let group = self.gitlab_group(entry, node);
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
            forge: "GitLab",
            valid: |t| !t.trim().is_empty() && t.len() <= 255,
            hint: "a topic is a non-empty name, e.g. `rust`",
        };
        let filters = self.list_filters(filters, node, &topics);
        Some(GitLabSelector {
            host: host?,
            group: group?,
            subgroups: entry.include_subgroups.unwrap_or(true),
            filters: filters?,
        })
    }

    fn gitlab_group(&mut self, entry: &GitLabEntry, node: &'a Node) -> Option<String> {
        let Some(group) = &entry.group else {
            if !super::node_has_reported_key(node, self.poisoned) {
                self.hint(
                    Rule::RepoEntry,
                    "a `gitlab` entry needs `group`",
                    node,
                    "e.g. `- gitlab: { group: acme/platform, topics: [rust] }`",
                );
            }
            return None;
        };
        let at = self.field(Some(node), "group")?;
        let group = group.trim_matches('/');
        if !valid_group_path(group) {
            self.hint(
                Rule::UnknownValue,
                format!("`{group}` is not a GitLab group path"),
                at,
                "a group's full path, its parts joined by `/` (`acme/platform`); each part is \
                 letters, digits, `_`, `-` and `.`, not starting with `-` or `.`",
            );
            return None;
        }
        Some(group.to_string())
    }
}

/// A GitLab namespace path: `/`-joined parts of letters, digits, `_`, `-` and `.`, none
/// starting with `-` or `.` nor ending in `.git` or `.atom`.
pub fn valid_group_path(path: &str) -> bool {
    !path.is_empty()
        && path.split('/').all(|part| {
            !part.is_empty()
                && part.len() <= 255
                && !part.starts_with(['-', '.'])
                && !part.ends_with(".git")
                && !part.ends_with(".atom")
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        })
}
