//! [`DirFiles`]: the files of a plain directory (a checkout or not) as the coders see them,
//! like `git apply` does: every regular file outside `.git`, read lazily, and writes checked
//! against confinement and the policy, then carried out atomically.

use std::collections::{HashMap, HashSet};
use std::fs::{self, Metadata, Permissions};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, OnceLock};

use rayon::prelude::*;

use super::check::{Found, WriteCheck};
use super::path::{Refusal, check_relative, confine};
use super::policy::{Policy, is_binary};
use super::write::{delete_file, write_atomic_over};
use crate::coders::{Change, Files};

/// The files under one directory.
#[derive(Debug)]
pub struct DirFiles {
    root: PathBuf,
    policy: Policy,
    excluded: HashSet<String>,
    listing: OnceLock<Vec<String>>,
    /// What this `DirFiles` has already looked at, so a bulk apply does not repeat a `stat`
    /// per directory level and a read of each file's head for every check (the last
    /// component of a path is still looked at before every read and write): relative
    /// directories found to be real directories (not symlinks)...
    dirs: Mutex<HashSet<String>>,
    /// ...and whether files whose content passed through here are binary.
    binary: Mutex<HashMap<String, bool>>,
}

/// What happened to one [`Change`] when it was carried out.
#[derive(Debug)]
pub struct Applied {
    /// The path written or deleted (normal form).
    pub path: String,
    /// `created`, `modified`, `renamed` or `deleted`.
    pub action: &'static str,
    /// For a rename, the old path.
    pub from: Option<String>,
    /// Done, or why not: a refusal or an I/O error text.
    pub result: Result<(), String>,
}

impl DirFiles {
    /// The files under `root`, governed by `policy`.
    pub fn new(root: impl Into<PathBuf>, policy: Policy) -> DirFiles {
        DirFiles {
            root: root.into(),
            policy,
            excluded: HashSet::new(),
            listing: OnceLock::new(),
            dirs: Mutex::default(),
            binary: Mutex::default(),
        }
    }

    /// Leaves `path` (relative to the root) out: not listed, not read, never written. `apply`
    /// uses it for the reply file when it lies inside the directory, so no edit lands in it.
    pub fn exclude(&mut self, path: &str) {
        if let Ok(rel) = check_relative(path) {
            self.excluded.insert(rel);
        }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The policy.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Confinement and the deny list: the normal form of `path` and where it is on disk.
    pub fn resolve(&self, path: &str) -> Result<(String, PathBuf), Refusal> {
        self.locate(path).map(|(rel, abs, _)| (rel, abs))
    }

    /// [`DirFiles::resolve`], with the file's metadata (`None`: it does not exist).
    fn locate(&self, path: &str) -> Result<(String, PathBuf, Option<Metadata>), Refusal> {
        let rel = check_relative(path)?;
        if self.excluded.contains(&rel) {
            return Err(Refusal::Input(rel));
        }
        self.policy.check_path(&rel)?;
        let (abs, meta) = confine(&self.root, &rel, &self.dirs)?;
        Ok((rel, abs, meta))
    }

    fn binary(&self) -> MutexGuard<'_, HashMap<String, bool>> {
        self.binary.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Everything [`Files::check_write`] checks, as a [`Refusal`].
    pub fn check(&self, path: &str) -> Result<(), Refusal> {
        self.checked(path).map(drop)
    }

    /// The one write check over this directory: the normal form of `path`, where it is on
    /// disk, and its metadata (`None`: it does not exist).
    fn checked(&self, path: &str) -> Result<(String, PathBuf, Option<Metadata>), Refusal> {
        let (rel, (abs, meta)) = WriteCheck::new(&self.policy).check(
            path,
            |rel| {
                if self.excluded.contains(rel) {
                    return Err(Refusal::Input(rel.to_string()));
                }
                confine(&self.root, rel, &self.dirs)
            },
            |rel, (abs, meta)| self.found(rel, abs, meta.as_ref()),
        )?;
        Ok((rel, abs, meta))
    }

    /// What a write finds at `rel` (at `abs`, with `meta` when it exists).
    fn found(&self, rel: &str, abs: &Path, meta: Option<&Metadata>) -> Found {
        let Some(meta) = meta else {
            return Found::Missing;
        };
        if meta.len() > self.policy.max_file_size {
            return Found::TooLarge(Some(meta.len()));
        }
        let known = self.binary().get(rel).copied();
        if known.unwrap_or_else(|| head_is_binary(abs)) {
            Found::Binary
        } else {
            Found::Text
        }
    }

    /// Turns the executable bit of `path` on or off, as a patch's `new mode`/`new file mode`
    /// says (git tracks only that bit): on, it is set wherever the file is readable, as git
    /// checks files out; off, it is cleared. Confined and checked like a write; the file must
    /// exist (written by the patch or already there).
    pub fn set_mode(&self, path: &str, executable: bool) -> Applied {
        let result = (|| {
            let (rel, abs, meta) = self.checked(path).map_err(refused)?;
            let Some(meta) = meta.filter(Metadata::is_file) else {
                return Err(format!("cannot change the mode of `{rel}`: no such file"));
            };
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let bits = meta.permissions().mode() & 0o7777;
                let new = if executable {
                    bits | ((bits & 0o444) >> 2)
                } else {
                    bits & !0o111
                };
                if new != bits {
                    fs::set_permissions(&abs, Permissions::from_mode(new))
                        .map_err(|e| format!("cannot change the mode of `{rel}`: {e}"))?;
                }
            }
            #[cfg(not(unix))]
            let _ = (meta, executable);
            Ok(())
        })();
        Applied {
            path: path.to_string(),
            action: "mode",
            from: None,
            result,
        }
    }

    /// Carries out `changes` in order, each checked again just before it is written, so a
    /// refused path is never touched whatever produced the change. A rename's old file is
    /// removed unless another change writes or deletes it.
    ///
    /// When no two changes touch the same path or a path and a directory above it, order
    /// cannot matter between plain writes: those run in parallel (a large patch spends most
    /// of its time creating, writing and renaming files), then deletes and renames follow in
    /// order, so a directory a delete prunes is never one a write is filling.
    pub fn apply(&self, changes: &[Change]) -> Vec<Applied> {
        let mentioned: HashSet<&str> = changes.iter().map(Change::path).collect();
        // A rename may arrive as a delete of the old path before the write of the new one:
        // take the old files' modes first.
        let modes: HashMap<&str, Permissions> = changes
            .iter()
            .filter_map(|c| match c {
                Change::Write {
                    renamed_from: Some(old),
                    ..
                } => {
                    let (_, abs) = self.resolve(old).ok()?;
                    let meta = fs::symlink_metadata(abs).ok().filter(|m| m.is_file())?;
                    Some((old.as_str(), meta.permissions()))
                }
                _ => None,
            })
            .collect();
        let one = |change: &Change| match change {
            Change::Write {
                path,
                content,
                created,
                renamed_from,
            } => {
                let from = renamed_from.as_deref();
                let mode = from.and_then(|f| modes.get(f)).cloned();
                self.apply_write(path, content, *created, from, mode, &mentioned)
            }
            Change::Delete { path } => self.apply_delete(path),
        };
        if !independent(changes) {
            return changes.iter().map(one).collect();
        }
        let plain = |c: &Change| {
            matches!(
                c,
                Change::Write {
                    renamed_from: None,
                    ..
                }
            )
        };
        let mut done: Vec<Option<Applied>> = changes
            .par_iter()
            .map(|c| plain(c).then(|| one(c)))
            .collect();
        for (slot, change) in done.iter_mut().zip(changes) {
            if slot.is_none() {
                *slot = Some(one(change));
            }
        }
        done.into_iter().flatten().collect()
    }

    fn apply_write(
        &self,
        path: &str,
        content: &[u8],
        created: bool,
        from: Option<&str>,
        mode: Option<Permissions>,
        mentioned: &HashSet<&str>,
    ) -> Applied {
        let exists_before = matches!(self.locate(path), Ok((_, _, Some(_))));
        let action = match (from, created || !exists_before) {
            (Some(_), _) => "renamed",
            (None, true) => "created",
            (None, false) => "modified",
        };
        let result = (|| {
            let (rel, abs, meta) = self.checked(path).map_err(refused)?;
            self.policy
                .check_size(&rel, content.len() as u64)
                .map_err(refused)?;
            let old = match from {
                Some(old) => {
                    let (old_rel, old_abs) = self.resolve(old).map_err(refused)?;
                    if !self.policy.allow_delete {
                        return Err(refused(Refusal::DeleteNotAllowed(old_rel)));
                    }
                    Some(old_abs)
                }
                None => None,
            };
            write_atomic_over(&abs, content, mode, meta.as_ref())
                .map_err(|e| format!("cannot write `{rel}`: {e}"))?;
            self.binary().insert(rel.clone(), is_binary(content));
            if let (Some(old_abs), Some(old)) = (old, from)
                && !mentioned.contains(old)
                && old_abs != abs
            {
                delete_file(&old_abs).map_err(|e| format!("cannot delete `{old}`: {e}"))?;
                self.prune_empty_dirs(&old_abs);
            }
            Ok(())
        })();
        Applied {
            path: path.to_string(),
            action,
            from: from.map(str::to_string),
            result,
        }
    }

    fn apply_delete(&self, path: &str) -> Applied {
        let result = (|| {
            let (rel, abs) = self.resolve(path).map_err(refused)?;
            if !self.policy.allow_delete {
                return Err(refused(Refusal::DeleteNotAllowed(rel)));
            }
            delete_file(&abs).map_err(|e| format!("cannot delete `{rel}`: {e}"))?;
            self.binary().remove(&rel);
            self.prune_empty_dirs(&abs);
            Ok(())
        })();
        Applied {
            path: path.to_string(),
            action: "deleted",
            from: None,
            result,
        }
    }

    /// Removes directories a delete left empty, up to the root, as `git apply` does.
    fn prune_empty_dirs(&self, deleted: &Path) {
        let mut dir = deleted.parent();
        while let Some(d) = dir {
            if d == self.root || !d.starts_with(&self.root) || fs::remove_dir(d).is_err() {
                break;
            }
            // Gone: whatever takes its place is looked at afresh.
            if let Ok(rel) = d.strip_prefix(&self.root) {
                let rel = rel.to_string_lossy().replace('\\', "/");
                self.dirs
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&rel);
            }
            dir = d.parent();
        }
    }

    fn walk(&self) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![(self.root.clone(), String::new())];
        while let Some((dir, prefix)) = stack.pop() {
            let Ok(entries) = fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let Ok(name) = entry.file_name().into_string() else {
                    continue; // not UTF-8: no edit can name it
                };
                if name == ".git" {
                    continue;
                }
                let rel = if prefix.is_empty() {
                    name
                } else {
                    format!("{prefix}/{name}")
                };
                // file_type() does not follow symlinks, so links are neither listed nor
                // descended into.
                match entry.file_type() {
                    Ok(t) if t.is_dir() => stack.push((entry.path(), rel)),
                    Ok(t)
                        if t.is_file()
                            && self.policy.check_path(&rel).is_ok()
                            && !self.excluded.contains(&rel) =>
                    {
                        out.push(rel);
                    }
                    _ => {}
                }
            }
        }
        out.sort();
        out
    }
}

/// Whether no two of `changes` name the same path (written, deleted or renamed from), nor a
/// path and a directory above it, as relative paths normalised the way every change is
/// checked and compared without case (a case-insensitive file system sees `A` and `a` as one
/// file); a path that does not normalise makes the answer no (it is refused, in order).
fn independent(changes: &[Change]) -> bool {
    let mut paths = HashSet::with_capacity(changes.len());
    for change in changes {
        let from = match change {
            Change::Write { renamed_from, .. } => renamed_from.as_deref(),
            Change::Delete { .. } => None,
        };
        for p in std::iter::once(change.path()).chain(from) {
            let Ok(rel) = check_relative(p) else {
                return false;
            };
            if !paths.insert(rel.to_lowercase()) {
                return false;
            }
        }
    }
    paths
        .iter()
        .all(|p| p.match_indices('/').all(|(i, _)| !paths.contains(&p[..i])))
}

fn refused(r: Refusal) -> String {
    format!("refused: {r}")
}

fn head_is_binary(path: &Path) -> bool {
    let mut head = Vec::with_capacity(8192);
    match fs::File::open(path) {
        Ok(f) => f.take(8192).read_to_end(&mut head).is_ok() && is_binary(&head),
        Err(_) => false,
    }
}

impl Files for DirFiles {
    fn paths(&self) -> Vec<String> {
        self.listing.get_or_init(|| self.walk()).clone()
    }

    /// Any regular file inside the directory reads, never one outside it or behind a symlink.
    /// Policy is for writes: a denied file reads, so an edit naming it fails with the policy's
    /// reason rather than "no such file" (denied files are not in [`Files::paths`], so no
    /// rescue or prompt picks them up).
    fn read(&self, path: &str) -> Option<Vec<u8>> {
        let rel = check_relative(path).ok()?;
        if self.excluded.contains(&rel) {
            return None;
        }
        let (abs, meta) = confine(&self.root, &rel, &self.dirs).ok()?;
        let meta = meta.filter(Metadata::is_file)?;
        let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0));
        fs::File::open(&abs).ok()?.read_to_end(&mut bytes).ok()?;
        self.binary().insert(rel, is_binary(&bytes));
        Some(bytes)
    }

    /// In parallel: a large patch reads hundreds of files before it changes one.
    fn read_many(&self, paths: &[&str]) -> Vec<Option<Vec<u8>>> {
        paths.par_iter().map(|p| self.read(p)).collect()
    }

    fn check_write(&self, path: &str) -> Result<(), String> {
        self.check(path).map_err(|r| r.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &str, from: Option<&str>) -> Change {
        Change::Write {
            path: path.into(),
            content: Vec::new(),
            created: false,
            renamed_from: from.map(Into::into),
        }
    }

    fn delete(path: &str) -> Change {
        Change::Delete { path: path.into() }
    }

    #[test]
    fn changes_are_independent_only_when_no_path_meets_another() {
        assert!(independent(&[
            write("a", None),
            write("b/c", None),
            delete("b/d")
        ]));
        for (case, changes) in [
            ("same path", vec![write("a", None), write("./a", None)]),
            (
                "same path but case",
                vec![write("A.txt", None), write("a.txt", None)],
            ),
            ("a file and below it", vec![delete("a/x"), write("a", None)]),
            ("rename source", vec![write("b", Some("a")), delete("a")]),
            ("refused path", vec![write("../x", None), write("y", None)]),
        ] {
            assert!(!independent(&changes), "{case}");
        }
    }
}
