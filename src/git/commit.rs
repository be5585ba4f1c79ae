//! Commits built from objects: blobs written as `git add` would store them, the tree edited
//! only along the changed paths, and a commit whose message carries codefleet's trailers. The
//! user's index, working tree and refs are never touched. Same parent, changes, identities and
//! time give the same commit id.

use std::io::Write;

use crate::error::Error;

use super::change::TreeChange;
use super::errors;
use super::message::with_trailers;
use super::mode::FileMode;
use super::repo::Repo;
use super::tree_edit::{DirEdit, Leaf, check_path};

/// A commit author or committer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// Display name.
    pub name: String,
    /// Email address, without angle brackets.
    pub email: String,
}

impl Identity {
    /// An identity from its parts.
    pub fn new(name: impl Into<String>, email: impl Into<String>) -> Identity {
        Identity {
            name: name.into(),
            email: email.into(),
        }
    }

    /// Parses `Name <email>`; `None` when it is not of that shape.
    pub fn parse(text: &str) -> Option<Identity> {
        let text = text.trim();
        let (name, rest) = text.split_once('<')?;
        let email = rest.strip_suffix('>')?;
        if email.contains(['<', '>']) || name.trim().is_empty() {
            return None;
        }
        Some(Identity::new(name.trim(), email.trim()))
    }

    /// `codefleet <codefleet@localhost>`, used when nothing else is configured.
    pub fn codefleet() -> Identity {
        Identity::new("codefleet", "codefleet@localhost")
    }
}

impl std::fmt::Display for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} <{}>", self.name, self.email)
    }
}

/// The trailers every codefleet commit carries.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Trailers {
    /// `Codefleet-Pipeline`: the pipeline name.
    pub pipeline: String,
    /// `Codefleet-Task`: the task name.
    pub task: String,
    /// `Codefleet-Run`: the run id.
    pub run: String,
    /// `Codefleet-Model`: the model that made the edits, for model tasks.
    pub model: Option<String>,
}

impl Trailers {
    /// The `(key, value)` pairs in the order written.
    pub fn pairs(&self) -> Vec<(&'static str, &str)> {
        let mut out = vec![
            ("Codefleet-Pipeline", self.pipeline.as_str()),
            ("Codefleet-Task", self.task.as_str()),
            ("Codefleet-Run", self.run.as_str()),
        ];
        if let Some(model) = &self.model {
            out.push(("Codefleet-Model", model.as_str()));
        }
        out
    }
}

/// Everything about a commit besides its tree and parent.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommitInfo {
    /// The message above the trailers; the task name is used when it is blank.
    pub message: String,
    /// The trailers appended to it.
    pub trailers: Trailers,
    /// The author; `None`: the repository's `user.name`/`user.email`, else codefleet's own.
    pub author: Option<Identity>,
    /// The committer; `None`: resolved like the author.
    pub committer: Option<Identity>,
    /// Seconds since the Unix epoch (UTC) for both signatures; `None`: now. Pass a fixed time
    /// to make re-runs reproduce the same commit ids.
    pub time: Option<i64>,
}

impl Repo {
    /// The identity from the repository's configuration (`user.name`, `user.email`), else
    /// `codefleet <codefleet@localhost>`.
    pub fn default_identity(&self) -> Identity {
        let from_config = self.inner.config().ok().and_then(|c| {
            let name = c.get_string("user.name").ok()?;
            let email = c.get_string("user.email").ok()?;
            (!name.trim().is_empty() && !email.trim().is_empty())
                .then(|| Identity::new(name.trim(), email.trim()))
        });
        from_config.unwrap_or_else(Identity::codefleet)
    }

    /// Writes a commit whose parent is `parent` and whose tree is the parent's tree with
    /// `changes` applied. Returns `None` — and writes no commit — when `changes` is empty or
    /// leaves the tree as it was. No ref moves: see [`Repo::update_branch`].
    ///
    /// Objects are written loose. (libgit2's pack builder searches for deltas, which made a
    /// 4,000-file commit on the kernel take a minute; a pack writer without delta search is the
    /// next step for big commits.)
    pub fn commit_changes(
        &self,
        parent: git2::Oid,
        changes: &[TreeChange],
        info: &CommitInfo,
    ) -> Result<Option<git2::Oid>, Error> {
        self.commit_changes_reusing(parent, changes, info, None)
    }

    /// Like [`Repo::commit_changes`], but gives back `reuse` instead of writing a new commit
    /// when `reuse` is equivalent: the same parent, tree, author and committer (name and email)
    /// and message apart from the `Codefleet-Run` trailer. A re-run whose result is identical
    /// passes the previous run's commit of the same task, and so leaves the branch tip exactly
    /// where it was.
    pub fn commit_changes_reusing(
        &self,
        parent: git2::Oid,
        changes: &[TreeChange],
        info: &CommitInfo,
        reuse: Option<git2::Oid>,
    ) -> Result<Option<git2::Oid>, Error> {
        if changes.is_empty() {
            return Ok(None);
        }
        for change in changes {
            check_path(change.path())?;
        }
        if !self.is_bare() {
            return self.write_commit(&self.inner, parent, changes, info, reuse);
        }
        let target = self.second_handle()?;
        self.stage_parent_attributes(&target, parent, changes)?;
        self.write_commit(&target, parent, changes, info, reuse)
    }

    /// A bare repository has no working tree to read `.gitattributes` from, and libgit2 then
    /// looks in the index: give `target` an in-memory index holding the parent tree's
    /// attributes files on the changed paths, and the changed paths' old blobs (git's CRLF
    /// rule keeps CRs in a file whose indexed version has them).
    fn stage_parent_attributes(
        &self,
        target: &git2::Repository,
        parent: git2::Oid,
        changes: &[TreeChange],
    ) -> Result<(), Error> {
        let fail = |e: git2::Error| errors::git("prepare attributes for a bare repository", &e);
        let parent_tree = self
            .inner
            .find_commit(parent)
            .and_then(|c| c.tree())
            .map_err(fail)?;
        let mut paths: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for change in changes {
            let path = change.path();
            paths.insert(path.to_string());
            paths.insert(".gitattributes".to_string());
            for (i, _) in path.match_indices('/') {
                paths.insert(format!("{}/.gitattributes", &path[..i]));
            }
        }
        let mut index = git2::Index::new().map_err(fail)?;
        for path in &paths {
            let Some(entry) = self.entry_in(&parent_tree, path)? else {
                continue;
            };
            if !entry.mode.is_file() {
                continue;
            }
            let zero = git2::IndexTime::new(0, 0);
            index
                .add(&git2::IndexEntry {
                    ctime: zero,
                    mtime: zero,
                    dev: 0,
                    ino: 0,
                    mode: entry.mode.bits() as u32,
                    uid: 0,
                    gid: 0,
                    file_size: 0,
                    id: entry.id,
                    flags: path.len().min(0xfff) as u16,
                    flags_extended: 0,
                    path: path.as_bytes().to_vec(),
                })
                .map_err(fail)?;
        }
        target.set_index(&mut index).map_err(fail)
    }

    /// A new handle on the same repository (same working tree, so the same attributes).
    fn second_handle(&self) -> Result<git2::Repository, Error> {
        let path = self.work_dir().unwrap_or_else(|| self.git_dir());
        git2::Repository::open(path).map_err(|e| errors::git("reopen the repository", &e))
    }

    /// Stores `bytes` as the blob of `path` exactly as `git add` would (clean filters by
    /// path), for a later [`TreeChange::Blob`]. Not for bare repositories, whose attributes
    /// come from the parent tree at commit time: give those [`TreeChange::Write`].
    pub fn store_blob(&self, path: &str, bytes: &[u8], mode: FileMode) -> Result<git2::Oid, Error> {
        check_path(path)?;
        self.write_blob(&self.inner, path, bytes, mode)
    }

    /// [`Repo::store_blob`] into `pack` (a large task's blobs, readable once the pack is
    /// finished). Content that needs libgit2's filters is stored loose as before.
    pub fn store_blob_packed(
        &self,
        pack: &super::PackWriter,
        path: &str,
        bytes: &[u8],
        mode: FileMode,
    ) -> Result<git2::Oid, Error> {
        check_path(path)?;
        let fail = |e: std::io::Error| {
            errors::git(
                &format!("write the blob of `{path}`"),
                &git2::Error::from_str(&e.to_string()),
            )
        };
        if mode.is_file()
            && !pack.loose_next()
            && self.filter_driver_of(path).is_none()
            && !self.may_filter(bytes)
        {
            let odb = self
                .inner
                .odb()
                .map_err(|e| errors::git("open the object database", &e))?;
            return pack
                .add(bytes, |id| {
                    odb.exists_ext(id, git2::OdbLookupFlags::NO_REFRESH)
                })
                .map_err(fail);
        }
        self.write_blob(&self.inner, path, bytes, mode)
    }

    /// Whether the clean filters could change `bytes` (CRLF conversion, `ident`): only content
    /// holding `\r` or `$Id`, and only with attributes or settings that convert.
    fn may_filter(&self, bytes: &[u8]) -> bool {
        let may =
            memchr::memchr(b'\r', bytes).is_some() || memchr::memmem::find(bytes, b"$Id").is_some();
        may && self.converts() != Some(false)
    }

    /// Writes blobs, trees and the commit through `target`.
    fn write_commit(
        &self,
        target: &git2::Repository,
        parent: git2::Oid,
        changes: &[TreeChange],
        info: &CommitInfo,
        reuse: Option<git2::Oid>,
    ) -> Result<Option<git2::Oid>, Error> {
        // Looked up through `target`: libgit2 silently drops a parent that belongs to another
        // repository handle, and for a bare repository `target` is a second handle.
        let parent_commit = target
            .find_commit(parent)
            .map_err(|e| errors::git(&format!("read commit {}", errors::short(parent)), &e))?;
        let parent_tree = self.tree(parent_commit.tree_id())?;
        let mut edit = DirEdit::default();
        for change in changes {
            let leaf = match change {
                TreeChange::Write { path, bytes, mode } => {
                    Leaf::Put(self.write_blob(target, path, bytes, *mode)?, *mode)
                }
                TreeChange::Blob { id, mode, .. } => Leaf::Put(*id, *mode),
                TreeChange::Delete { .. } => Leaf::Remove,
            };
            edit.insert(change.path(), leaf)?;
        }
        let tree_id = self.edit_tree(target, Some(&parent_tree), &edit)?;
        if tree_id == parent_tree.id() {
            return Ok(None);
        }
        let tree = target
            .find_tree(tree_id)
            .map_err(|e| errors::git("read the new tree", &e))?;
        let fallback = self.default_identity();
        let when = git2::Time::new(info.time.unwrap_or_else(now), 0);
        let author = signature(info.author.as_ref().unwrap_or(&fallback), &when)?;
        let committer = signature(
            info.committer
                .as_ref()
                .or(info.author.as_ref())
                .unwrap_or(&fallback),
            &when,
        )?;
        let title = if info.message.trim().is_empty() {
            info.trailers.task.as_str()
        } else {
            info.message.as_str()
        };
        let message = with_trailers(title, &info.trailers.pairs());
        if let Some(old) = reuse
            && self.equivalent(old, parent, tree_id, &author, &committer, &message)
        {
            return Ok(Some(old));
        }
        target
            .commit(
                None,
                &author,
                &committer,
                &message,
                &tree,
                &[&parent_commit],
            )
            .map(Some)
            .map_err(|e| errors::git("write the commit", &e))
    }

    /// True when commit `old` could stand for the commit about to be written.
    fn equivalent(
        &self,
        old: git2::Oid,
        parent: git2::Oid,
        tree: git2::Oid,
        author: &git2::Signature<'_>,
        committer: &git2::Signature<'_>,
        message: &str,
    ) -> bool {
        let Ok(c) = self.inner.find_commit(old) else {
            return false;
        };
        let same_person = |a: &git2::Signature<'_>, b: &git2::Signature<'_>| {
            a.name_bytes() == b.name_bytes() && a.email_bytes() == b.email_bytes()
        };
        let without_run = |m: &[u8]| -> Vec<u8> {
            m.split(|b| *b == b'\n')
                .filter(|l| !l.starts_with(b"Codefleet-Run:"))
                .flat_map(|l| l.iter().copied().chain([b'\n']))
                .collect()
        };
        c.parent_ids().collect::<Vec<_>>() == [parent]
            && c.tree_id() == tree
            && same_person(&c.author(), author)
            && same_person(&c.committer(), committer)
            && without_run(c.message_raw_bytes()) == without_run(message.as_bytes())
    }

    /// Writes `bytes` as the blob `git add` would store at `path`: symlink targets raw, file
    /// content through the clean filters `.gitattributes` and `core.autocrlf` select. Those
    /// filters (CRLF, ident) can only change content holding `\r` or `$Id`, so other content
    /// skips libgit2's filtering stream, which writes a temporary file per blob.
    fn write_blob(
        &self,
        target: &git2::Repository,
        path: &str,
        bytes: &[u8],
        mode: FileMode,
    ) -> Result<git2::Oid, Error> {
        let fail = |e: git2::Error| errors::git(&format!("write the blob of `{path}`"), &e);
        match mode {
            FileMode::Symlink => return target.blob(bytes).map_err(fail),
            FileMode::Submodule => {
                return Err(errors::bad_path(
                    path,
                    "submodules cannot be written as files",
                ));
            }
            FileMode::Regular | FileMode::Executable => {}
        }
        if let Some(driver) = self.filter_driver_of(path) {
            return Err(errors::filter_driver(path, &driver));
        }
        // Without attributes or settings that convert content (as the loaded index found),
        // the filters are a no-op, and loading them would load the whole index once more.
        if !self.may_filter(bytes) {
            return match self
                .loose
                .get_or_init(|| super::loose::Loose::of(&self.inner))
            {
                Some(loose) => loose
                    .write_blob(bytes)
                    .map_err(|e| fail(git2::Error::from_str(&e.to_string()))),
                None => target.blob(bytes).map_err(fail),
            };
        }
        let mut writer = target
            .blob_writer(Some(std::path::Path::new(path)))
            .map_err(fail)?;
        writer
            .write_all(bytes)
            .map_err(|e| fail(git2::Error::from_str(&e.to_string())))?;
        writer.commit().map_err(fail)
    }
}

fn signature(who: &Identity, when: &git2::Time) -> Result<git2::Signature<'static>, Error> {
    git2::Signature::new(&who.name, &who.email, when)
        .map_err(|e| errors::bad_identity(&who.to_string(), &e))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}
