//! Path confinement: a path an edit names must stay inside the root, lexically (no `..`, no
//! absolute or drive paths, nothing in `.git`) and on disk (no existing component is a
//! symlink, so a link cannot carry a write outside).

use std::collections::HashSet;
use std::fs::Metadata;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Why a path may not be written. The text is what a user (or a model) reads as the reason an
/// edit failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// No path at all.
    #[error("the path is empty")]
    Empty,
    /// `/etc/passwd`, `C:\x`, `\\server\share`.
    #[error("`{0}` is an absolute path; paths are relative to the directory")]
    Absolute(String),
    /// `../x`, `a/../../x`.
    #[error("`{0}` is outside the directory")]
    Outside(String),
    /// `.git/config`, `sub/.git/hooks/x`, `.git`.
    #[error("`{0}` is inside `.git`")]
    GitDir(String),
    /// A NUL or other control character in the name.
    #[error("`{0}` holds a control character")]
    BadName(String),
    /// An existing component of the path is a symlink.
    #[error("`{path}` goes through the symlink `{link}`")]
    Symlink {
        /// The path as named.
        path: String,
        /// The component that is a link.
        link: String,
    },
    /// An existing component that should be a directory is a file.
    #[error("`{path}`: `{prefix}` is not a directory")]
    NotADirectory {
        /// The path as named.
        path: String,
        /// The component that is not a directory.
        prefix: String,
    },
    /// The path itself is a directory.
    #[error("`{0}` is a directory")]
    IsDirectory(String),
    /// A deny pattern of the policy matches.
    #[error("`{path}` is denied by policy (matches `{pattern}`)")]
    Denied {
        /// The path as named.
        path: String,
        /// The deny glob that matched.
        pattern: String,
    },
    /// Over `max_file_size`.
    #[error("`{path}` is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The path as named.
        path: String,
        /// Its size, existing or new.
        size: u64,
        /// The policy's limit.
        limit: u64,
    },
    /// A NUL byte in the first 8 KiB.
    #[error("`{0}` is a binary file")]
    Binary(String),
    /// Over the limit, by a size the writer did not read.
    #[error("`{path}` is larger than the policy's max_file_size ({limit} bytes)")]
    OverLimit {
        /// The path as named.
        path: String,
        /// The limit.
        limit: u64,
    },
    /// New content over the limit.
    #[error(
        "the new `{path}` would be {size} bytes, over the policy's max_file_size ({limit} bytes)"
    )]
    NewTooLarge {
        /// The path as named.
        path: String,
        /// The new content's size.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// Outside the task's `files:`.
    #[error("`{0}` is outside this task's `files:`")]
    OutsideFiles(String),
    /// Creating files is not allowed by policy.
    #[error("creating `{0}` is not allowed (policy `allow_create: false`)")]
    CreateNotAllowed(String),
    /// The input being applied (a reply file inside the directory).
    #[error("`{0}` is the input being applied")]
    Input(String),
    /// Deleting files is not allowed by policy.
    #[error("deleting `{0}` is not allowed by policy")]
    DeleteNotAllowed(String),
}

/// Checks a relative, `/`-separated path without touching the disk, and returns its normal
/// form (empty and `.` components dropped). `\` counts as a separator too, so a path written
/// for Windows cannot slip past.
pub fn check_relative(path: &str) -> Result<String, Refusal> {
    if path.is_empty() {
        return Err(Refusal::Empty);
    }
    if path.chars().any(char::is_control) {
        return Err(Refusal::BadName(path.escape_debug().to_string()));
    }
    let bytes = path.as_bytes();
    let drive = bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':';
    if path.starts_with('/') || path.starts_with('\\') || drive {
        return Err(Refusal::Absolute(path.to_string()));
    }
    let mut parts = Vec::new();
    for part in path.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." => return Err(Refusal::Outside(path.to_string())),
            _ if is_git_dir_name(part) => return Err(Refusal::GitDir(path.to_string())),
            _ => parts.push(part),
        }
    }
    if parts.is_empty() {
        return Err(Refusal::Empty);
    }
    Ok(parts.join("/"))
}

/// `.git`, also as case-insensitive file systems and Windows see it (`.GIT`, `.git.`, `.git `).
fn is_git_dir_name(part: &str) -> bool {
    part.trim_end_matches(['.', ' '])
        .eq_ignore_ascii_case(".git")
}

/// Checks every existing component of `root/rel` (a path [`check_relative`] returned) with
/// `symlink_metadata`: none may be a symlink, and all but the last must be directories. The
/// part that does not exist yet is fine: it will be created as plain directories.
pub fn check_no_symlink(root: &Path, rel: &str) -> Result<PathBuf, Refusal> {
    confine(root, rel, &Mutex::new(HashSet::new())).map(|(abs, _)| abs)
}

/// [`check_no_symlink`] for many paths under one root: directories already found to be real
/// directories (`verified`, relative prefixes) are not looked at again, and the last
/// component's metadata is returned (`None`: it does not exist), so a caller needs no second
/// `stat`. The last component is always looked at. `verified` is shared by the threads of a
/// parallel apply and held only to look up or record a prefix, never across a `stat`.
pub fn confine(
    root: &Path,
    rel: &str,
    verified: &Mutex<HashSet<String>>,
) -> Result<(PathBuf, Option<Metadata>), Refusal> {
    let verified = || verified.lock().unwrap_or_else(|p| p.into_inner());
    let mut here = root.to_path_buf();
    let mut start = 0;
    while start <= rel.len() {
        let end = rel[start..].find('/').map_or(rel.len(), |i| start + i);
        let part = &rel[start..end];
        let last = end == rel.len();
        here.push(part);
        let prefix = &rel[..end];
        if !last && verified().contains(prefix) {
            start = end + 1;
            continue;
        }
        match here.symlink_metadata() {
            Ok(meta) if meta.file_type().is_symlink() => {
                return Err(Refusal::Symlink {
                    path: rel.to_string(),
                    link: prefix.to_string(),
                });
            }
            Ok(meta) if !last && !meta.is_dir() => {
                return Err(Refusal::NotADirectory {
                    path: rel.to_string(),
                    prefix: prefix.to_string(),
                });
            }
            Ok(meta) if last && meta.is_dir() => {
                return Err(Refusal::IsDirectory(rel.to_string()));
            }
            Ok(meta) if last => return Ok((here, Some(meta))),
            Ok(_) => {
                verified().insert(prefix.to_string());
            }
            // Missing from here on: nothing below can be a link.
            Err(_) => {
                if !last {
                    here.push(&rel[end + 1..]);
                }
                return Ok((here, None));
            }
        }
        start = end + 1;
    }
    Ok((here, None))
}

/// What a tree being edited (a git tree, not a directory on disk) holds at a path that is not
/// a plain file, for [`confine_in_tree`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TreeKind {
    /// A regular or executable file.
    File,
    /// A symbolic link: nothing may be written through it, nor over it.
    Symlink,
    /// A submodule: its content is another repository.
    Submodule,
}

/// [`confine`] for a tree being edited in memory: `rel` (a path [`check_relative`] returned)
/// may not go through a symlink, a submodule or a file (`kind` of each prefix), may not be a
/// symlink or a submodule itself, and may not be a directory (`is_dir`: other paths lie under
/// it). Refused here, the edit fails on its own; let through, it would fail the whole commit.
pub fn confine_in_tree(
    rel: &str,
    kind: impl Fn(&str) -> Option<TreeKind>,
    is_dir: impl Fn(&str) -> bool,
) -> Result<(), Refusal> {
    for (i, _) in rel.match_indices('/') {
        let prefix = &rel[..i];
        match kind(prefix) {
            Some(TreeKind::Symlink) => {
                return Err(Refusal::Symlink {
                    path: rel.to_string(),
                    link: prefix.to_string(),
                });
            }
            Some(TreeKind::File | TreeKind::Submodule) => {
                return Err(Refusal::NotADirectory {
                    path: rel.to_string(),
                    prefix: prefix.to_string(),
                });
            }
            None => {}
        }
    }
    match kind(rel) {
        Some(TreeKind::Symlink) => Err(Refusal::Symlink {
            path: rel.to_string(),
            link: rel.to_string(),
        }),
        Some(TreeKind::Submodule) => Err(Refusal::IsDirectory(rel.to_string())),
        _ if is_dir(rel) => Err(Refusal::IsDirectory(rel.to_string())),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_are_normalised() {
        assert_eq!(check_relative("src/main.rs").unwrap(), "src/main.rs");
        assert_eq!(check_relative("./src//a.rs").unwrap(), "src/a.rs");
        assert_eq!(check_relative("a b/c.txt").unwrap(), "a b/c.txt");
        assert_eq!(check_relative(".github/x.yml").unwrap(), ".github/x.yml");
        assert_eq!(check_relative(".gitignore").unwrap(), ".gitignore");
    }

    #[test]
    fn escapes_are_refused() {
        for p in ["../x", "a/../../x", "a/..", "..", "src\\..\\..\\x"] {
            assert_eq!(
                check_relative(p),
                Err(Refusal::Outside(p.to_string())),
                "{p}"
            );
        }
        for p in [
            "/etc/passwd",
            "\\x",
            "C:\\x",
            "c:/x",
            "C:x",
            "\\\\server\\share",
        ] {
            assert_eq!(
                check_relative(p),
                Err(Refusal::Absolute(p.to_string())),
                "{p}"
            );
        }
        for p in [
            ".git/config",
            "sub/.git/hooks/pre-commit",
            ".git",
            ".GIT/x",
            ".git./x",
            "a\\.git\\x",
        ] {
            assert_eq!(
                check_relative(p),
                Err(Refusal::GitDir(p.to_string())),
                "{p}"
            );
        }
        assert_eq!(check_relative(""), Err(Refusal::Empty));
        assert_eq!(check_relative("./"), Err(Refusal::Empty));
        assert!(matches!(check_relative("a\0b"), Err(Refusal::BadName(_))));
    }

    proptest::proptest! {
        #[test]
        fn accepted_paths_stay_inside(path in "([a-zA-Z.]{0,4}[/\\\\]?){0,6}") {
            if let Ok(rel) = check_relative(&path) {
                proptest::prop_assert!(!rel.starts_with('/') && !rel.is_empty());
                for part in rel.split(['/', '\\']) {
                    proptest::prop_assert!(part != ".." && part != "." && !part.is_empty());
                    proptest::prop_assert!(!is_git_dir_name(part));
                }
            }
        }

        #[test]
        fn never_panics(path in "\\PC*") {
            let _ = check_relative(&path);
        }
    }

    #[test]
    fn tree_paths_may_not_go_through_links_files_or_submodules() {
        let kind = |p: &str| match p {
            "link" => Some(TreeKind::Symlink),
            "file.txt" => Some(TreeKind::File),
            "vendor/sub" => Some(TreeKind::Submodule),
            _ => None,
        };
        let is_dir = |p: &str| p == "src";
        let refused = |p: &str| confine_in_tree(p, kind, is_dir).unwrap_err().to_string();
        assert_eq!(
            refused("link/x"),
            "`link/x` goes through the symlink `link`"
        );
        assert_eq!(refused("link"), "`link` goes through the symlink `link`");
        assert_eq!(
            refused("file.txt/x"),
            "`file.txt/x`: `file.txt` is not a directory"
        );
        assert_eq!(
            refused("vendor/sub/x"),
            "`vendor/sub/x`: `vendor/sub` is not a directory"
        );
        assert_eq!(refused("vendor/sub"), "`vendor/sub` is a directory");
        assert_eq!(refused("src"), "`src` is a directory");
        assert_eq!(confine_in_tree("src/new.rs", kind, is_dir), Ok(()));
        assert_eq!(confine_in_tree("file.txt", kind, is_dir), Ok(()));
    }

    #[test]
    fn refusal_text_reads_as_a_reason() {
        assert_eq!(
            check_relative("../x").unwrap_err().to_string(),
            "`../x` is outside the directory"
        );
    }
}
