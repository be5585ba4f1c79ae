//! The check of a `repos:` entry `github:`: exactly one of `org` or `user`, names GitHub
//! accepts, regexes that compile, a `limit` of at least 1, no empty query or topic.

use crate::pipeline::diag::Rule;
use crate::pipeline::file::GitHubEntry;
use crate::pipeline::model::{GitHubOwner, GitHubSelector};
use crate::pipeline::yaml::Node;

use super::Checker;

impl<'a> Checker<'a> {
    /// The checked selector of a `github:` entry at `node`, or `None` after reporting why not.
    pub(super) fn github(&mut self, entry: &GitHubEntry, node: &'a Node) -> Option<GitHubSelector> {
        let owner = self.github_owner(entry, node);
        let mut ok = owner.is_some();
        for (key, pattern) in [("include", &entry.include), ("exclude", &entry.exclude)] {
            if let (Some(p), Some(n)) = (pattern, self.field(Some(node), key))
                && let Err(e) = regex::Regex::new(p)
            {
                let msg = e.to_string();
                let short = msg
                    .lines()
                    .last()
                    .unwrap_or(&msg)
                    .trim_start_matches("error: ");
                self.hint(
                    Rule::Regex,
                    format!("invalid regex in `{key}`: {short}"),
                    n,
                    "the regex is matched against `owner/name`, e.g. `^acme/(api|web)-`",
                );
                ok = false;
            }
        }
        for key in ["search", "code_search"] {
            let text = if key == "search" {
                &entry.search
            } else {
                &entry.code_search
            };
            if let (Some(t), Some(n)) = (text, self.field(Some(node), key))
                && t.trim().is_empty()
            {
                self.hint(
                    Rule::Empty,
                    format!("empty `{key}` query"),
                    n,
                    "leave it out to keep every repository of the owner",
                );
                ok = false;
            }
        }
        let topic_nodes = self.items(self.field(Some(node), "topics"));
        for (topic, n) in entry.topics.iter().flatten().zip(topic_nodes) {
            if !valid_topic(topic) {
                self.hint(
                    Rule::UnknownValue,
                    format!("`{topic}` is not a GitHub topic"),
                    n,
                    "topics are lower-case letters, digits and `-`, e.g. `rust` or `web-api`",
                );
                ok = false;
            }
        }
        if let (Some(0), Some(n)) = (entry.limit, self.field(Some(node), "limit")) {
            self.hint(
                Rule::Range,
                "`limit` must be at least 1",
                n,
                "leave it out to keep every repository selected",
            );
            ok = false;
        }
        let owner = owner.filter(|_| ok)?;
        Some(GitHubSelector {
            owner,
            topics: entry.topics.clone().unwrap_or_default(),
            search: entry.search.clone(),
            code_search: entry.code_search.clone(),
            include: entry.include.clone(),
            exclude: entry.exclude.clone(),
            archived: entry.archived.unwrap_or(false),
            forks: entry.forks.unwrap_or(false),
            limit: entry.limit.map(|l| l as usize),
        })
    }

    fn github_owner(&mut self, entry: &GitHubEntry, node: &'a Node) -> Option<GitHubOwner> {
        match (&entry.org, &entry.user) {
            (Some(_), Some(_)) => {
                let at = node.key("user").unwrap_or(node);
                self.hint(
                    Rule::RepoEntry,
                    "a `github` entry has both `org` and `user`",
                    at,
                    "give each owner its own `- github:` entry",
                );
                None
            }
            (None, None) => {
                if !super::node_has_reported_key(node, self.poisoned) {
                    self.hint(
                        Rule::RepoEntry,
                        "a `github` entry needs `org` or `user`",
                        node,
                        "e.g. `- github: { org: acme, topics: [rust] }`",
                    );
                }
                None
            }
            (Some(name), None) | (None, Some(name)) => {
                let key = if entry.org.is_some() { "org" } else { "user" };
                let at = self.field(Some(node), key)?;
                if !valid_login(name) {
                    self.hint(
                        Rule::UnknownValue,
                        format!(
                            "`{name}` is not a GitHub {} name",
                            if key == "org" { "organisation" } else { "user" }
                        ),
                        at,
                        "names are letters, digits and single `-`, not starting or ending with `-`",
                    );
                    return None;
                }
                Some(if key == "org" {
                    GitHubOwner::Org(name.clone())
                } else {
                    GitHubOwner::User(name.clone())
                })
            }
        }
    }
}

/// A GitHub login: letters, digits and `-`, not at either end (GitHub Enterprise also allows
/// `_`).
pub fn valid_login(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && !name.starts_with('-')
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// A GitHub topic: lower-case letters, digits and `-`, at most 50 characters.
fn valid_topic(topic: &str) -> bool {
    !topic.is_empty()
        && topic.len() <= 50
        && !topic.starts_with('-')
        && topic
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}
