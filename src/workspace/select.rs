//! Which files a task works on: the task's `files:`/`exclude:` globs over the repository's
//! tracked files, then the policy (deny globs, size limit, binary files), each left-out file
//! counted by reason.

use globset::GlobSet;

use super::check::Selects;
use super::policy::is_binary;
use crate::report::{SkipReason, SkippedFile, SkippedFiles};

/// Why the policy leaves a file alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    /// A deny glob matches it.
    Denied,
    /// Larger than the size limit.
    TooLarge,
    /// Binary content.
    Binary,
}

impl Skip {
    /// Counts one skip of `path` and lists it with its reason.
    pub fn count(self, path: &str, into: &mut SkippedFiles) {
        let reason = match self {
            Skip::Denied => {
                into.denied += 1;
                SkipReason::Denied
            }
            Skip::TooLarge => {
                into.too_large += 1;
                SkipReason::TooLarge
            }
            Skip::Binary => {
                into.binary += 1;
                SkipReason::Binary
            }
        };
        let at = into.files.partition_point(|f| f.path.as_str() < path);
        into.files.insert(
            at,
            SkippedFile {
                path: path.to_string(),
                reason,
            },
        );
    }
}

/// The paths of `universe` (sorted, `/`-separated) that `filter` selects, with denied paths
/// removed and counted. `None` as the filter selects every path.
pub fn select<'a, F: Selects + ?Sized>(
    universe: impl IntoIterator<Item = &'a str>,
    filter: Option<&F>,
    deny: &GlobSet,
    skipped: &mut SkippedFiles,
) -> Vec<String> {
    let mut out = Vec::new();
    for path in universe {
        if !filter.is_none_or(|f| f.selects(path)) {
            continue;
        }
        if deny.is_match(path) {
            Skip::Denied.count(path, skipped);
            continue;
        }
        out.push(path.to_string());
    }
    out
}

/// Whether the content of a selected file is left alone: larger than `max_size`, or binary.
pub fn content_skip(bytes: &[u8], max_size: u64) -> Option<Skip> {
    if bytes.len() as u64 > max_size {
        Some(Skip::TooLarge)
    } else if is_binary(bytes) {
        Some(Skip::Binary)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use globset::{Glob, GlobSet, GlobSetBuilder};

    fn glob_set(patterns: &[&str]) -> GlobSet {
        let mut b = GlobSetBuilder::new();
        for p in patterns {
            b.add(Glob::new(p).unwrap());
        }
        b.build().unwrap()
    }

    /// Included and excluded globs, as a task's `files:` and `exclude:`.
    struct Filter(GlobSet, GlobSet);

    impl Selects for Filter {
        fn selects(&self, path: &str) -> bool {
            self.0.is_match(path) && !self.1.is_match(path)
        }
    }

    #[test]
    fn globs_then_deny() {
        let deny = glob_set(&["**/*.pem"]);
        let files = [
            "a.rs",
            "src/b.rs",
            "vendor/c.rs",
            "key.pem",
            "src/x.pem",
            "README.md",
        ];
        let mut skipped = SkippedFiles::default();
        let f = Filter(glob_set(&["**/*.rs", "**/*.pem"]), glob_set(&["vendor/**"]));
        let got = select(files, Some(&f), &deny, &mut skipped);
        assert_eq!(got, ["a.rs", "src/b.rs"]);
        assert_eq!(skipped.denied, 2);
        let mut skipped = SkippedFiles::default();
        assert_eq!(select::<Filter>(files, None, &deny, &mut skipped).len(), 4);
    }

    #[test]
    fn size_then_binary() {
        assert_eq!(content_skip(b"hello", 4), Some(Skip::TooLarge));
        assert_eq!(content_skip(b"he\0llo", 100), Some(Skip::Binary));
        assert_eq!(content_skip(b"hello", 5), None);
    }
}
