//! `.codefleetignore`: a repository opts out of pipelines with a file at its root on the base
//! a run starts from. Empty (or only comments): every pipeline; otherwise one pipeline-name
//! glob a line (`#` comments), and the pipelines it matches. Such a repository is reported as
//! skipped, not failed.

use globset::Glob;

use crate::git::{Base, Repo};

/// The file's name, at the repository's root.
pub const FILE: &str = ".codefleetignore";

/// Why the repository at `base` opts out of the pipeline `pipeline`, if it does. An unreadable
/// file is read as absent: the repository runs.
pub fn opted_out(repo: &Repo, base: &Base, pipeline: &str) -> Option<String> {
    let bytes = repo.read_blob(base, FILE).ok().flatten()?;
    opts_out(&String::from_utf8_lossy(&bytes), pipeline)
}

/// Why a `.codefleetignore` holding `text` opts out of `pipeline`, if it does.
pub fn opts_out(text: &str, pipeline: &str) -> Option<String> {
    let patterns: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    if patterns.is_empty() {
        return Some(format!("opted out by `{FILE}` (empty: every pipeline)"));
    }
    patterns
        .into_iter()
        .find(|p| {
            // A line that is no glob names a pipeline as written.
            Glob::new(p).map_or(*p == pipeline, |g| g.compile_matcher().is_match(pipeline))
        })
        .map(|p| format!("opted out by `{FILE}` (`{p}`)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_opts_out_of_everything_and_globs_of_what_they_match() {
        assert!(opts_out("", "any").is_some());
        assert!(opts_out("# nothing but a comment\n\n", "any").is_some());
        let list = "# not these\nmigrate-*\nteam/{a,b}\n";
        assert_eq!(
            opts_out(list, "migrate-logging").as_deref(),
            Some("opted out by `.codefleetignore` (`migrate-*`)")
        );
        assert!(opts_out(list, "team/b").is_some());
        assert_eq!(opts_out(list, "rename-api"), None);
        assert_eq!(opts_out("[unclosed\n", "rename"), None);
        assert!(opts_out("[unclosed\n", "[unclosed").is_some());
    }
}
