//! Deleting a branch on a remote with a lease: the deletion is a push of nothing to the
//! branch, made only while the remote branch still points at the commit the caller expects
//! (the one codefleet pushed), so a branch someone pushed to since is never deleted. Like
//! [`push_with_lease`](super::push_with_lease), the check happens inside the push, on the refs
//! the server advertised for that connection, and the server refuses if the ref moves during
//! the push.

use std::cell::{Cell, RefCell};

use super::remote::{Credentials, PushError, retrying};

/// How a deletion ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deleted {
    /// The remote branch was at the expected commit and is now gone.
    Deleted,
    /// The remote had no such branch (someone deleted it already).
    AlreadyGone,
}

/// Deletes `remote_ref` (a full ref, `refs/heads/…`) on `url` only if it still points at
/// `expected`: a branch that moved is left alone ([`PushError::Moved`]). `repo` is any
/// repository (libgit2 pushes from one; nothing of it is sent).
pub fn delete_with_lease(
    repo: &git2::Repository,
    url: &str,
    remote_ref: &str,
    expected: git2::Oid,
    creds: &Credentials,
) -> Result<Deleted, PushError> {
    let seen: Cell<Option<git2::Oid>> = Cell::new(None);
    let moved: Cell<Option<git2::Oid>> = Cell::new(None);
    let rejected: RefCell<Option<String>> = RefCell::new(None);
    let result = retrying(url, creds, "branch deletion", || {
        seen.set(None);
        let tries = Cell::new(0);
        let mut cb = creds.callbacks(&tries);
        cb.push_negotiation(|updates| {
            for u in updates
                .iter()
                .filter(|u| u.dst_refname().ok() == Some(remote_ref))
            {
                seen.set(Some(u.src()));
                if u.src().is_zero() {
                    // Nothing to delete: stop here rather than ask the server.
                    return Err(git2::Error::from_str("the remote branch is already gone"));
                }
                if u.src() != expected {
                    moved.set(Some(u.src()));
                    return Err(git2::Error::from_str(
                        "lease refused: the remote branch moved",
                    ));
                }
            }
            Ok(())
        });
        cb.push_update_reference(|name, status| {
            if let Some(s) = status
                && name == remote_ref
            {
                *rejected.borrow_mut() = Some(s.to_string());
            }
            Ok(())
        });
        let mut opts = git2::PushOptions::new();
        opts.remote_callbacks(cb);
        let mut remote = repo.remote_anonymous(url)?;
        let spec = format!(":{remote_ref}");
        let out = remote.push(&[spec.as_str()], Some(&mut opts));
        if moved.get().is_some() || seen.get().is_some_and(|s| s.is_zero()) {
            // Not a network failure: do not retry.
            return Ok(());
        }
        out
    });
    if seen.get().is_some_and(|s| s.is_zero()) {
        return Ok(Deleted::AlreadyGone);
    }
    if let Some(now) = moved.get() {
        return Err(PushError::Moved {
            url: creds.redact(url),
            remote_ref: remote_ref.to_string(),
            expected: Some(expected),
            found: (!now.is_zero()).then_some(now),
        });
    }
    result.map_err(|e| PushError::Unreachable {
        url: creds.redact(url),
        why: creds.redact(e.message()),
    })?;
    if let Some(why) = rejected.into_inner() {
        return Err(PushError::Rejected {
            url: creds.redact(url),
            remote_ref: remote_ref.to_string(),
            why: creds.redact(&why),
        });
    }
    Ok(Deleted::Deleted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A commit on `refs/heads/{branch}` of `repo`, with `message`.
    fn commit(repo: &git2::Repository, branch: &str, message: &str) -> git2::Oid {
        let sig = git2::Signature::new("t", "t@localhost", &git2::Time::new(0, 0)).unwrap();
        let tree = repo.treebuilder(None).unwrap().write().unwrap();
        let tree = repo.find_tree(tree).unwrap();
        let refname = format!("refs/heads/{branch}");
        let parent = repo
            .refname_to_id(&refname)
            .ok()
            .and_then(|id| repo.find_commit(id).ok());
        let parents: Vec<&git2::Commit> = parent.iter().collect();
        repo.commit(Some(&refname), &sig, &sig, message, &tree, &parents)
            .unwrap()
    }

    #[test]
    fn a_branch_is_deleted_only_at_the_expected_commit() {
        let dir = tempfile::tempdir().unwrap();
        let remote = git2::Repository::init_bare(dir.path().join("remote.git")).unwrap();
        let local = git2::Repository::init_bare(dir.path().join("local.git")).unwrap();
        let url = format!("file://{}", dir.path().join("remote.git").display());
        let creds = Credentials::new(None);
        let pushed = commit(&remote, "cf/x", "codefleet's");
        let moved = commit(&remote, "cf/x", "a colleague's");
        let refused = delete_with_lease(&local, &url, "refs/heads/cf/x", pushed, &creds);
        assert!(
            matches!(refused, Err(PushError::Moved { found: Some(f), .. }) if f == moved),
            "{refused:?}"
        );
        assert_eq!(remote.refname_to_id("refs/heads/cf/x").unwrap(), moved);
        let deleted = delete_with_lease(&local, &url, "refs/heads/cf/x", moved, &creds);
        assert_eq!(deleted, Ok(Deleted::Deleted));
        assert!(remote.refname_to_id("refs/heads/cf/x").is_err());
        let again = delete_with_lease(&local, &url, "refs/heads/cf/x", moved, &creds);
        assert_eq!(again, Ok(Deleted::AlreadyGone));
    }
}
