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
        if moved.get().is_some() {
            // Not a network failure: do not retry.
            return Ok(());
        }
        out
    });
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
    // libgit2 leaves a ref the remote does not have out of the negotiation.
    Ok(match seen.get() {
        Some(_) => Deleted::Deleted,
        None => Deleted::AlreadyGone,
    })
}
