//! Opening the repository a user named, and resolving the commit its run starts from: the one
//! way `plan` opens a local repository and `exec` opens a fresh clone of a remote one.

use std::path::Path;

use crate::error::Error;

use super::base::Base;
use super::errors::GitError;
use super::repo::Repo;

/// Opens the repository named by `path`. A named directory must be the top of a working tree
/// (or a git directory): a directory inside some other repository would silently run on that
/// whole repository. `.` — where the user stands — opens the enclosing repository, as git does.
pub fn open_named(path: &Path) -> Result<Repo, Error> {
    let repo = Repo::open(path)?;
    if path == Path::new(".") {
        return Ok(repo);
    }
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf());
    let named = canonical(path);
    let top = repo.work_dir().map(canonical);
    if top.as_ref() != Some(&named) && canonical(repo.git_dir()) != named {
        let inside = top.unwrap_or_else(|| repo.git_dir().to_path_buf());
        return Err(GitError::Nested {
            path: path.to_path_buf(),
            inside,
        }
        .into());
    }
    Ok(repo)
}

/// Opens the repository named by `path` (as [`open_named`]) and resolves `rev` (`None`:
/// `HEAD`) to the commit a run of it starts from.
pub fn open_based(path: &Path, rev: Option<&str>) -> Result<(Repo, Base), Error> {
    let repo = open_named(path)?;
    let base = repo.base(rev)?;
    Ok((repo, base))
}
