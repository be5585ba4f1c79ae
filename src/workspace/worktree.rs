//! Temporary linked worktrees for shell steps: created under the repository's git directory
//! (`<git dir>/codefleet/worktrees/NAME`, registered and locked in `<git dir>/worktrees/NAME`
//! like `git worktree add --detach --lock`), reset to a commit before each command, read back
//! as changes checked against the write rules, and removed on drop — or, after a killed run,
//! by the next one.

use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use globset::GlobSet;

use crate::error::Error;
use crate::git::{FileMode, LockHolder, Oid, Repo};

use super::errors::WorkspaceError;
use super::path::check_relative;

/// What a command may change in its worktree (the pipeline's `policy:`).
#[derive(Debug, Clone, Copy)]
pub struct Rules<'a> {
    /// Paths never written.
    pub deny: &'a GlobSet,
    /// Files may be created.
    pub allow_create: bool,
    /// Files may be deleted.
    pub allow_delete: bool,
    /// New content over this many bytes is refused.
    pub max_file_size: u64,
}

/// How a path changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// It is new.
    Created,
    /// Its content or mode changed.
    Modified,
    /// It is gone.
    Deleted,
}

/// New content and its mode (a symlink's content is its target).
pub type Content = (Vec<u8>, FileMode);

/// One changed path of a worktree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changed {
    /// Repository-relative, `/`-separated.
    pub path: String,
    /// How it changed.
    pub kind: Kind,
    /// Its blob in the commit the worktree was reset to (`None` when created).
    pub old: Option<Oid>,
    /// Its new content and mode (`None` when deleted; a symlink's content is its target).
    pub new: Option<Content>,
}

/// What a command changed: the changes the rules allow, and the refused paths with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Allowed changes, by path.
    pub changed: Vec<Changed>,
    /// Refused paths and the reason, by path.
    pub refused: Vec<(String, String)>,
}

/// A temporary linked worktree, removed (with its registration) when dropped.
#[derive(Debug)]
pub struct Worktree {
    dir: PathBuf,
    admin: PathBuf,
    head: Oid,
}

/// Worktrees made by this process, for unique names.
static MADE: AtomicUsize = AtomicUsize::new(0);

const PREFIX: &str = "codefleet-";

fn err(what: &str, why: impl std::fmt::Display) -> Error {
    WorkspaceError::Worktree {
        what: what.to_string(),
        why: why.to_string(),
    }
    .into()
}

fn read_err(what: &str, why: impl std::fmt::Display) -> Error {
    WorkspaceError::Changes {
        what: what.to_string(),
        why: why.to_string(),
    }
    .into()
}

impl Worktree {
    /// Checks out `commit` into a new worktree of `repo`, named after `run_id`.
    pub fn create(repo: &Repo, run_id: &str, commit: Oid) -> Result<Worktree, Error> {
        let common = std::fs::canonicalize(repo.common_dir())
            .map_err(|e| err("find the git directory", e))?;
        let n = MADE.fetch_add(1, Ordering::SeqCst);
        let name = format!("{PREFIX}{run_id}-{}-{n}", std::process::id());
        let parent = common.join("codefleet").join("worktrees");
        let dir = parent.join(&name);
        let admin = common.join("worktrees").join(&name);
        std::fs::create_dir_all(&parent)
            .and_then(|()| std::fs::create_dir_all(common.join("worktrees")))
            .map_err(|e| err("create its directories", e))?;
        std::fs::create_dir(&admin).map_err(|e| err(&admin.display().to_string(), e))?;
        // From here on, dropping `wt` removes whatever was made.
        let wt = Worktree {
            dir,
            admin,
            head: commit,
        };
        std::fs::create_dir(&wt.dir).map_err(|e| err(&wt.dir.display().to_string(), e))?;
        let holder = serde_json::to_string(&LockHolder::current()).unwrap_or_default();
        let files = [
            (
                wt.admin.join("gitdir"),
                format!("{}\n", wt.dir.join(".git").display()),
            ),
            (wt.admin.join("commondir"), "../..\n".to_string()),
            (wt.admin.join("HEAD"), format!("{commit}\n")),
            // `git worktree prune` leaves locked worktrees alone; the holder tells a later run
            // whether the process that made it still lives.
            (wt.admin.join("locked"), format!("codefleet run {holder}\n")),
            (
                wt.dir.join(".git"),
                format!("gitdir: {}\n", wt.admin.display()),
            ),
        ];
        for (path, text) in files {
            std::fs::write(&path, text).map_err(|e| err(&path.display().to_string(), e))?;
        }
        wt.checkout(commit, false)?;
        Ok(wt)
    }

    /// The working directory.
    pub fn path(&self) -> &Path {
        &self.dir
    }

    /// The commit it was last reset to.
    pub fn head(&self) -> Oid {
        self.head
    }

    fn open(&self) -> Result<git2::Repository, Error> {
        git2::Repository::open(&self.dir).map_err(|e| err("open it", e.message()))
    }

    /// Resets the worktree to `commit`: tracked files as committed, untracked files removed,
    /// ignored files (build caches) kept.
    pub fn reset(&mut self, commit: Oid) -> Result<(), Error> {
        self.checkout(commit, true)?;
        self.head = commit;
        Ok(())
    }

    fn checkout(&self, commit: Oid, clean: bool) -> Result<(), Error> {
        let repo = self.open()?;
        let object = repo
            .find_commit(commit)
            .map_err(|e| err("read the commit", e.message()))?;
        let mut how = git2::build::CheckoutBuilder::new();
        how.force().remove_untracked(clean);
        repo.checkout_tree(object.as_object(), Some(&mut how))
            .map_err(|e| err("check out", e.message()))?;
        repo.set_head_detached(commit)
            .map_err(|e| err("set HEAD", e.message()))
    }

    /// What differs between the worktree and the commit it was reset to — tracked changes and
    /// new files git does not ignore — split into what `rules` allow and what they refuse.
    pub fn changes(&self, rules: &Rules<'_>) -> Result<Changes, Error> {
        let repo = git2::Repository::open(&self.dir).map_err(|e| read_err("open", e.message()))?;
        let tree = repo
            .find_commit(self.head)
            .and_then(|c| c.tree())
            .map_err(|e| read_err("read the commit", e.message()))?;
        let mut opts = git2::DiffOptions::new();
        opts.include_untracked(true)
            .recurse_untracked_dirs(true)
            .include_typechange(true)
            .ignore_submodules(true);
        let diff = repo
            .diff_tree_to_workdir_with_index(Some(&tree), Some(&mut opts))
            .map_err(|e| read_err("compare", e.message()))?;
        let mut out = Changes::default();
        for delta in diff.deltas() {
            let file = match delta.status() {
                git2::Delta::Deleted => delta.old_file(),
                _ => delta.new_file(),
            };
            let Some(raw) = file.path() else { continue };
            let Some(path) = raw.to_str().map(str::to_string) else {
                out.refused.push((
                    raw.display().to_string(),
                    "the name is not UTF-8".to_string(),
                ));
                continue;
            };
            let kind = match delta.status() {
                git2::Delta::Added | git2::Delta::Untracked => Kind::Created,
                git2::Delta::Deleted => Kind::Deleted,
                git2::Delta::Modified | git2::Delta::Typechange => Kind::Modified,
                _ => continue,
            };
            let old = (kind != Kind::Created).then(|| delta.old_file().id());
            match self.read_change(&path, kind, rules) {
                Ok((kind, new)) => out.changed.push(Changed {
                    path,
                    kind,
                    old,
                    new,
                }),
                Err(why) => out.refused.push((path, why)),
            }
        }
        out.changed.sort_by(|a, b| a.path.cmp(&b.path));
        out.refused.sort();
        Ok(out)
    }

    /// Reads one changed path and checks it against the rules; `Err` is why it is refused.
    fn read_change(
        &self,
        path: &str,
        kind: Kind,
        rules: &Rules<'_>,
    ) -> Result<(Kind, Option<Content>), String> {
        if path.ends_with('/') {
            return Err(format!(
                "`{path}` is a nested git repository; its files are not committed"
            ));
        }
        let path = check_relative(path).map_err(|r| r.to_string())?;
        if rules.deny.is_match(&path) {
            return Err(format!("`{path}` is denied by policy"));
        }
        let full = self.dir.join(&path);
        let meta = match std::fs::symlink_metadata(&full) {
            Ok(m) => Some(m),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(format!("cannot read `{path}`: {e}")),
        };
        let Some(meta) = meta else {
            if !rules.allow_delete {
                return Err(format!(
                    "deleting `{path}` is not allowed (policy `allow_delete: false`)"
                ));
            }
            return Ok((Kind::Deleted, None));
        };
        // Listed as deleted but there after all (it came back while being read): a change.
        let kind = if kind == Kind::Deleted {
            Kind::Modified
        } else {
            kind
        };
        if kind == Kind::Created && !rules.allow_create {
            return Err(format!(
                "creating `{path}` is not allowed (policy `allow_create: false`)"
            ));
        }
        let new = if meta.file_type().is_symlink() {
            let target = std::fs::read_link(&full).map_err(|e| format!("`{path}`: {e}"))?;
            if escapes(&path, &target) {
                return Err(format!(
                    "`{path}` is a symlink to `{}`, outside the repository",
                    target.display()
                ));
            }
            let Some(text) = target.to_str() else {
                return Err(format!("`{path}` is a symlink whose target is not UTF-8"));
            };
            (text.as_bytes().to_vec(), FileMode::Symlink)
        } else if meta.is_file() {
            if meta.len() > rules.max_file_size {
                return Err(format!(
                    "`{path}` is {} bytes, over the policy's max_file_size ({} bytes)",
                    meta.len(),
                    rules.max_file_size
                ));
            }
            let bytes = std::fs::read(&full).map_err(|e| format!("cannot read `{path}`: {e}"))?;
            (bytes, mode_of(&meta))
        } else {
            return Err(format!("`{path}` is not a file"));
        };
        Ok((kind, Some(new)))
    }

    /// Removes stale worktrees of earlier runs in `repo`: those whose process no longer runs,
    /// and working directories left without their registration. Returns how many.
    pub fn remove_stale(repo: &Repo) -> usize {
        let Ok(common) = std::fs::canonicalize(repo.common_dir()) else {
            return 0;
        };
        let mut removed = 0;
        let registered = common.join("worktrees");
        for entry in read_dir_names(&registered) {
            if !entry.starts_with(PREFIX) {
                continue;
            }
            let admin = registered.join(&entry);
            let holder = std::fs::read_to_string(admin.join("locked"))
                .ok()
                .and_then(|t| {
                    let json = t.trim().strip_prefix("codefleet run ")?.to_string();
                    serde_json::from_str::<LockHolder>(&json).ok()
                });
            // Without a readable holder it may be one being made right now: stale only once
            // it is a minute old.
            let stale = match holder {
                Some(h) => h.is_stale(),
                None => !young(&admin),
            };
            if stale {
                tracing::warn!(worktree = %entry, "removed a temporary worktree a killed run left");
                remove_tree(&common.join("codefleet").join("worktrees").join(&entry));
                remove_tree(&admin);
                removed += 1;
            }
        }
        let work = common.join("codefleet").join("worktrees");
        for entry in read_dir_names(&work) {
            let dir = work.join(&entry);
            if entry.starts_with(PREFIX) && !registered.join(&entry).exists() && !young(&dir) {
                remove_tree(&dir);
                removed += 1;
            }
        }
        removed
    }
}

impl Drop for Worktree {
    fn drop(&mut self) {
        remove_tree(&self.dir);
        remove_tree(&self.admin);
    }
}

/// Made less than a minute ago (or of unknown age): perhaps still being set up by another
/// process.
fn young(path: &Path) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .and_then(|t| t.elapsed().ok())
        .is_none_or(|age| age.as_secs() <= 60)
}

fn read_dir_names(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .map(|it| {
            it.filter_map(|e| e.ok())
                .filter_map(|e| e.file_name().to_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Removes a directory tree, making read-only directories writable first when that is what
/// stops it (tools such as Go's module cache create them).
fn remove_tree(dir: &Path) {
    if std::fs::symlink_metadata(dir).is_err() || std::fs::remove_dir_all(dir).is_ok() {
        return;
    }
    make_writable(dir);
    if let Err(e) = std::fs::remove_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), "cannot remove a temporary worktree: {e}");
    }
}

fn make_writable(dir: &Path) {
    let Ok(meta) = std::fs::symlink_metadata(dir) else {
        return;
    };
    if !meta.is_dir() {
        return;
    }
    let mut perms = meta.permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    let _ = std::fs::set_permissions(dir, perms);
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            make_writable(&e.path());
        }
    }
}

#[cfg(unix)]
fn mode_of(meta: &std::fs::Metadata) -> FileMode {
    use std::os::unix::fs::PermissionsExt;
    if meta.permissions().mode() & 0o111 != 0 {
        FileMode::Executable
    } else {
        FileMode::Regular
    }
}

#[cfg(not(unix))]
fn mode_of(_meta: &std::fs::Metadata) -> FileMode {
    FileMode::Regular
}

/// Whether a symlink at `path` with `target` points outside the repository.
fn escapes(path: &str, target: &Path) -> bool {
    if target.is_absolute() {
        return true;
    }
    // Depth of the link's directory below the root, then walk the target.
    let mut depth: i64 = path.matches('/').count() as i64;
    for c in target.components() {
        match c {
            Component::ParentDir => depth -= 1,
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::RootDir | Component::Prefix(_) => return true,
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symlinks_that_leave_the_root_are_caught() {
        assert!(escapes("a", Path::new("/etc/passwd")));
        assert!(escapes("a", Path::new("../x")));
        assert!(escapes("d/a", Path::new("../../x")));
        assert!(escapes("d/a", Path::new("e/../../../x")));
        assert!(!escapes("d/a", Path::new("../x")));
        assert!(!escapes("a", Path::new("b/c")));
        assert!(!escapes("a", Path::new("./b")));
    }
}
