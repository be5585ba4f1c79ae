//! Building a new tree from a parent tree and a set of path edits by rewriting only the
//! directories on the edited paths, bottom up, one `TreeBuilder` each: the cost follows the
//! number of changed paths, not the size of the tree.

use std::collections::BTreeMap;

use crate::error::Error;

use super::errors;
use super::mode::FileMode;
use super::repo::Repo;

const TREE_MODE: i32 = 0o040000;

/// The new state of one tree entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Leaf {
    Put(git2::Oid, FileMode),
    Remove,
}

/// The edits under one directory.
#[derive(Debug, Default)]
pub(super) struct DirEdit {
    leaves: BTreeMap<String, Leaf>,
    dirs: BTreeMap<String, DirEdit>,
}

impl DirEdit {
    /// Records the edit of `path` (already checked by [`check_path`]).
    pub(super) fn insert(&mut self, path: &str, leaf: Leaf) -> Result<(), Error> {
        let mut dir = self;
        let mut parts = path.split('/').peekable();
        while let Some(part) = parts.next() {
            if parts.peek().is_none() {
                if dir.leaves.insert(part.to_string(), leaf).is_some() {
                    return Err(errors::bad_path(path, "it is changed twice in one commit"));
                }
                return Ok(());
            }
            dir = dir.dirs.entry(part.to_string()).or_default();
        }
        Err(errors::bad_path(path, "the path is empty"))
    }
}

/// Checks that `path` can name a tree entry: relative, `/`-separated, no empty, `.`, `..` or
/// `.git` component, no NUL.
pub(super) fn check_path(path: &str) -> Result<(), Error> {
    if path.is_empty() {
        return Err(errors::bad_path(path, "the path is empty"));
    }
    if path.starts_with('/') {
        return Err(errors::bad_path(path, "the path is absolute"));
    }
    if path.contains('\0') {
        return Err(errors::bad_path(path, "the path contains a NUL byte"));
    }
    for part in path.split('/') {
        let why = match part {
            "" => "the path has an empty component",
            "." | ".." => "the path has a `.` or `..` component",
            p if p.eq_ignore_ascii_case(".git") => "git never stores a `.git` entry",
            _ => continue,
        };
        return Err(errors::bad_path(path, why));
    }
    Ok(())
}

impl Repo {
    /// Applies `edit` to `tree` (`None`: start from nothing) and writes the trees that changed.
    /// Returns the new root tree id; an emptied root is the empty tree.
    /// Trees are read from this repository and written through `target` (a handle on the same
    /// repository whose object database may buffer writes in memory).
    pub(super) fn edit_tree(
        &self,
        target: &git2::Repository,
        tree: Option<&git2::Tree<'_>>,
        edit: &DirEdit,
    ) -> Result<git2::Oid, Error> {
        match self.edit_dir(target, tree, edit, "")? {
            Some(id) => Ok(id),
            None => target
                .treebuilder(None)
                .and_then(|b| b.write())
                .map_err(|e| errors::git("write the empty tree", &e)),
        }
    }

    /// The new id of one directory, `None` when it ends up empty (git drops empty trees).
    fn edit_dir(
        &self,
        target: &git2::Repository,
        tree: Option<&git2::Tree<'_>>,
        edit: &DirEdit,
        prefix: &str,
    ) -> Result<Option<git2::Oid>, Error> {
        let mut builder = target
            .treebuilder(tree)
            .map_err(|e| errors::git("start a tree", &e))?;
        // Directories first: a file may replace a directory the same change empties, and a
        // directory may replace a file the same change deletes.
        for (name, sub) in &edit.dirs {
            let path = format!("{prefix}{name}");
            let leaf = edit.leaves.get(name);
            self.edit_subdir(target, &mut builder, name, sub, leaf, &path)?;
        }
        for (name, leaf) in &edit.leaves {
            if edit.dirs.contains_key(name) && matches!(leaf, Leaf::Remove) {
                // Handled above: the file made way for the directory.
                continue;
            }
            edit_leaf(&mut builder, name, *leaf, &format!("{prefix}{name}"))?;
        }
        if builder.is_empty() {
            return Ok(None);
        }
        builder
            .write()
            .map(Some)
            .map_err(|e| errors::git(&format!("write tree `{prefix}`"), &e))
    }

    /// Applies `sub` to the directory `name` of `builder` (at `path`), where `leaf` is the
    /// same change's edit of a file by that name, if any.
    fn edit_subdir(
        &self,
        target: &git2::Repository,
        builder: &mut git2::TreeBuilder<'_>,
        name: &str,
        sub: &DirEdit,
        leaf: Option<&Leaf>,
        path: &str,
    ) -> Result<(), Error> {
        let existing = entry(builder, name)?.map(|e| (e.filemode(), e.id()));
        let subtree = match (existing, leaf) {
            (Some((TREE_MODE, _)), Some(Leaf::Remove)) => {
                return Err(errors::bad_path(
                    path,
                    "it is a directory; delete the files in it",
                ));
            }
            (Some((TREE_MODE, id)), _) => Some(self.tree(id)?),
            (Some(_), Some(Leaf::Remove)) | (None, _) => None,
            (Some(_), _) => {
                return Err(errors::bad_path(
                    path,
                    "a file exists where a directory is needed; delete it in the same change",
                ));
            }
        };
        match self.edit_dir(target, subtree.as_ref(), sub, &format!("{path}/"))? {
            Some(_) if matches!(leaf, Some(Leaf::Put(..))) => Err(errors::bad_path(
                path,
                "it is written both as a file and as a directory",
            )),
            Some(id) => builder
                .insert(name, id, TREE_MODE)
                .map(drop)
                .map_err(|e| errors::git(&format!("add directory `{path}`"), &e)),
            None if existing.is_some() => builder
                .remove(name)
                .map_err(|e| errors::git(&format!("remove `{path}`"), &e)),
            None => Ok(()),
        }
    }
}

/// Puts or removes the file `name` of `builder` (at `path`); a directory there is refused.
fn edit_leaf(
    builder: &mut git2::TreeBuilder<'_>,
    name: &str,
    leaf: Leaf,
    path: &str,
) -> Result<(), Error> {
    let existing = entry(builder, name)?.map(|e| e.filemode());
    if existing == Some(TREE_MODE) {
        let why = match leaf {
            Leaf::Put(..) => "a directory exists at this path",
            Leaf::Remove => "it is a directory; delete the files in it",
        };
        return Err(errors::bad_path(path, why));
    }
    match leaf {
        Leaf::Put(id, mode) => builder
            .insert(name, id, mode.bits())
            .map(drop)
            .map_err(|e| errors::git(&format!("add `{path}` to its tree"), &e)),
        Leaf::Remove if existing.is_some() => builder
            .remove(name)
            .map_err(|e| errors::git(&format!("remove `{path}`"), &e)),
        Leaf::Remove => Ok(()),
    }
}

/// The entry `name` of `builder`, if any.
fn entry<'b>(
    builder: &'b git2::TreeBuilder<'_>,
    name: &str,
) -> Result<Option<git2::TreeEntry<'b>>, Error> {
    builder
        .get(name)
        .map_err(|e| errors::git("read a tree entry", &e))
}
