//! The one write check every writer goes through (the deterministic tasks, a model's replies,
//! `codefleet apply`): a relative path, not denied, inside the task's `files:`, confined to
//! the tree it writes, and then by what is there: created only when the policy allows it,
//! never over the size limit, never over a binary file.

use super::path::{Refusal, check_relative};
use super::policy::Policy;

/// Whether a task selects a path (its `files:` and `exclude:`).
pub trait Selects {
    /// Whether the repository-relative, `/`-separated `path` is selected.
    fn selects(&self, path: &str) -> bool;
}

/// What a write of a path finds there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Found {
    /// No file: the write creates one.
    Missing,
    /// A text file within the limit.
    Text,
    /// A file over the limit, with its size when the writer knows it.
    TooLarge(Option<u64>),
    /// A binary file.
    Binary,
}

/// The rules one writer writes under.
#[derive(Clone, Copy)]
pub struct WriteCheck<'a> {
    /// The policy.
    pub policy: &'a Policy,
    /// The size limit that binds this writer: the policy's, or for deterministic tasks
    /// [`Policy::deterministic_max_file_size`].
    pub limit: u64,
    /// The task's files, when its writes are confined to them.
    pub scope: Option<&'a dyn Selects>,
}

impl<'a> WriteCheck<'a> {
    /// Writes under `policy` with its `max_file_size`, anywhere.
    pub fn new(policy: &'a Policy) -> WriteCheck<'a> {
        WriteCheck {
            policy,
            limit: policy.max_file_size,
            scope: None,
        }
    }

    /// Checks a write of `path`; its normal form when allowed, with what `confine` found.
    /// `confine` confines the normal form to the writer's tree (and says what it found on the
    /// way); `found` says what is at the path, asked only once everything else allows the
    /// write.
    pub fn check<C>(
        &self,
        path: &str,
        confine: impl FnOnce(&str) -> Result<C, Refusal>,
        found: impl FnOnce(&str, &C) -> Found,
    ) -> Result<(String, C), Refusal> {
        let path = check_relative(path)?;
        self.policy.check_path(&path)?;
        if self.scope.is_some_and(|s| !s.selects(&path)) {
            return Err(Refusal::OutsideFiles(path));
        }
        let confined = confine(&path)?;
        match found(&path, &confined) {
            Found::Missing if !self.policy.allow_create => Err(Refusal::CreateNotAllowed(path)),
            Found::Missing | Found::Text => Ok((path, confined)),
            Found::TooLarge(Some(size)) => Err(Refusal::TooLarge {
                path,
                size,
                limit: self.limit,
            }),
            Found::TooLarge(None) => Err(Refusal::OverLimit {
                path,
                limit: self.limit,
            }),
            Found::Binary => Err(Refusal::Binary(path)),
        }
    }
}

impl WriteCheck<'_> {
    /// Checks new content of `len` bytes for `path` (already checked) against the limit.
    pub fn check_content(&self, path: &str, len: usize) -> Result<(), Refusal> {
        if len as u64 > self.limit {
            return Err(Refusal::NewTooLarge {
                path: path.to_string(),
                size: len as u64,
                limit: self.limit,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Only(&'static str);

    impl Selects for Only {
        fn selects(&self, path: &str) -> bool {
            path.starts_with(self.0)
        }
    }

    fn ok(_: &str) -> Result<(), Refusal> {
        Ok(())
    }

    #[test]
    fn each_refusal_in_order() {
        let policy = Policy {
            allow_create: false,
            ..Policy::default()
        };
        let scope = Only("src/");
        let check = WriteCheck {
            policy: &policy,
            limit: 10,
            scope: Some(&scope),
        };
        let text = |_: &str, _: &()| Found::Text;
        let refusal = |path: &str, found: Found| {
            check
                .check(path, ok, |_, _| found)
                .map_err(|r| r.to_string())
        };
        assert_eq!(check.check("src/./a.rs", ok, text).unwrap().0, "src/a.rs");
        assert!(check.check("../a", ok, text).is_err());
        assert!(
            refusal("src/.env", Found::Text)
                .unwrap_err()
                .contains("denied by policy")
        );
        assert_eq!(
            refusal("docs/a.md", Found::Text).unwrap_err(),
            "`docs/a.md` is outside this task's `files:`"
        );
        assert_eq!(
            refusal("src/new.rs", Found::Missing).unwrap_err(),
            "creating `src/new.rs` is not allowed (policy `allow_create: false`)"
        );
        assert_eq!(
            refusal("src/big.rs", Found::TooLarge(None)).unwrap_err(),
            "`src/big.rs` is larger than the policy's max_file_size (10 bytes)"
        );
        assert_eq!(
            refusal("src/big.rs", Found::TooLarge(Some(11))).unwrap_err(),
            "`src/big.rs` is 11 bytes, over the 10-byte limit"
        );
        assert_eq!(
            refusal("src/x.bin", Found::Binary).unwrap_err(),
            "`src/x.bin` is a binary file"
        );
        assert_eq!(
            check.check_content("src/a.rs", 11).unwrap_err().to_string(),
            "the new `src/a.rs` would be 11 bytes, over the policy's max_file_size (10 bytes)"
        );
        assert!(check.check_content("src/a.rs", 10).is_ok());
        let confined = check.check("src/a.rs", |p| Err(Refusal::IsDirectory(p.into())), text);
        assert!(confined.is_err());
    }
}
