//! The checks `gitlab:` and `gitea:` entries share: a host written as a host, regexes that
//! compile, no empty search or topic, a `limit` of at least 1.

use crate::pipeline::diag::Rule;
use crate::pipeline::model::ListFilters;
use crate::pipeline::yaml::Node;

use super::Checker;

/// What a forge accepts as a topic, and how to say it.
pub(super) struct Topics {
    /// The forge's name (`GitLab`).
    pub forge: &'static str,
    /// Whether a topic is one the forge can hold.
    pub valid: fn(&str) -> bool,
    /// The hint for one that is not.
    pub hint: &'static str,
}

impl<'a> Checker<'a> {
    /// `filters` as written in the entry at `node`, or `None` after reporting every problem.
    pub(super) fn list_filters(
        &mut self,
        filters: ListFilters,
        node: &'a Node,
        topics: &Topics,
    ) -> Option<ListFilters> {
        let mut ok = true;
        for (key, pattern) in [("include", &filters.include), ("exclude", &filters.exclude)] {
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
                    "the regex is matched against the full path, e.g. `^acme/(api|web)-`",
                );
                ok = false;
            }
        }
        if let (Some(t), Some(n)) = (&filters.search, self.field(Some(node), "search"))
            && t.trim().is_empty()
        {
            self.hint(
                Rule::Empty,
                "empty `search` text",
                n,
                "leave it out to keep every repository of the owner",
            );
            ok = false;
        }
        let topic_nodes = self.items(self.field(Some(node), "topics"));
        for (topic, n) in filters.topics.iter().zip(topic_nodes) {
            if !(topics.valid)(topic) {
                self.hint(
                    Rule::UnknownValue,
                    format!("`{topic}` is not a {} topic", topics.forge),
                    n,
                    topics.hint,
                );
                ok = false;
            }
        }
        if let (Some(0), Some(n)) = (filters.limit, self.field(Some(node), "limit")) {
            self.hint(
                Rule::Range,
                "`limit` must be at least 1",
                n,
                "leave it out to keep every repository selected",
            );
            ok = false;
        }
        ok.then_some(filters)
    }

    /// The `host` of the entry at `node`, lower-case, or `None` after reporting it (`forge`
    /// names where hosts are listed: `gitlab`, `gitea`).
    pub(super) fn forge_host(
        &mut self,
        host: &str,
        node: &'a Node,
        forge: &'static str,
    ) -> Option<String> {
        let at = self.field(Some(node), "host").unwrap_or(node);
        if valid_host(host) {
            return Some(host.to_ascii_lowercase());
        }
        let why = if host.contains("://") || host.contains('/') {
            "a host, not a URL"
        } else {
            "a host name, with a port if it has one"
        };
        self.hint(
            Rule::UnknownValue,
            format!("`host: {host}` is not {why}"),
            at,
            format!(
                "write the host alone, e.g. `{forge}.corp.example` or `127.0.0.1:3000`; its API \
                 URL is set under `{forge}.hosts` in the settings"
            ),
        );
        None
    }
}

/// A host name (letters, digits, `-`, `.`) with an optional `:port`.
pub fn valid_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) => (name, Some(port)),
        None => (host, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 253
        && !name.starts_with(['-', '.'])
        && !name.ends_with(['-', '.'])
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.');
    name_ok && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

#[cfg(test)]
mod tests {
    use super::valid_host;

    #[test]
    fn hosts_are_names_with_an_optional_port() {
        for ok in [
            "gitlab.com",
            "git.corp-1.example",
            "127.0.0.1:3000",
            "localhost",
        ] {
            assert!(valid_host(ok), "{ok}");
        }
        for bad in [
            "",
            "https://gitlab.com",
            "gitlab.com/acme",
            "host:0",
            "host:x",
            "-a.b",
            "a b",
        ] {
            assert!(!valid_host(bad), "{bad}");
        }
    }
}
