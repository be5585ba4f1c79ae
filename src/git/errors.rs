//! The git layer's errors: [`GitError`], one variant per stable code carrying the values its
//! message names, each with the hint a user needs. Codes are part of codefleet's interface;
//! never reuse a retired one. The functions below build the envelope for the callers.

use std::path::{Path, PathBuf};

use crate::error::{Code, Error, Exit, Kind, Place, codes};

/// Something the git layer refuses or fails at.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitError {
    /// `E200`: the path is not inside a git repository.
    #[error("`{}` is not inside a git repository", path.display())]
    NotARepo {
        /// The path given.
        path: PathBuf,
    },
    /// `E201`: the operation needs a working tree and the repository is bare.
    #[error("cannot {what}: `{}` is a bare repository without a working tree", path.display())]
    Bare {
        /// The repository.
        path: PathBuf,
        /// What needed the working tree.
        what: String,
    },
    /// `E202`: HEAD has no commit yet, so there is nothing to base a run on.
    #[error("`{}` has no commits yet (branch `{branch}` is unborn): nothing to base a run on", path.display())]
    Unborn {
        /// The repository.
        path: PathBuf,
        /// The unborn branch.
        branch: String,
    },
    /// `E203`: the base revision does not name a commit.
    #[error("base revision `{revision}` does not name a commit in `{}`: {why}", path.display())]
    BadRevision {
        /// The repository.
        path: PathBuf,
        /// The revision given.
        revision: String,
        /// What git said.
        why: String,
    },
    /// `E204`: libgit2 failed at something that should have worked.
    #[error("git failed to {what}: {why}")]
    Git {
        /// What was being done.
        what: String,
        /// libgit2's message.
        why: String,
    },
    /// `E205`: the branch is not where the caller expected it (compare-and-swap failed).
    #[error("branch `{branch}` moved while codefleet worked: expected {}, found {}", tip(*.expected), tip(*.actual))]
    BranchMoved {
        /// The branch.
        branch: String,
        /// Where it was expected.
        expected: Option<git2::Oid>,
        /// Where it is.
        actual: Option<git2::Oid>,
    },
    /// `E206`: not a valid branch name.
    #[error("`{name}` is not a valid branch name")]
    BadBranchName {
        /// The name given.
        name: String,
    },
    /// `E207`: the working tree has changes a checkout would clobber.
    #[error("refusing to check out: the working tree of `{}` has uncommitted changes ({})", path.display(), file_list(.files))]
    Dirty {
        /// The repository.
        path: PathBuf,
        /// The changed files.
        files: Vec<String>,
    },
    /// `E208`: a change names a path that cannot be written into a tree.
    #[error("cannot commit path `{path}`: {why}")]
    BadPath {
        /// The path as the change names it.
        path: String,
        /// What is wrong with it.
        why: String,
    },
    /// `E209`: no journal for that run id.
    #[error("no run `{run}` in this repository")]
    RunNotFound {
        /// The run id given.
        run: String,
        /// Where the journals are.
        dir: PathBuf,
    },
    /// `E210`: rollback refused because the branch is not where the run left it.
    #[error("refusing to roll back: branch `{branch}` is at {}, not at {} where codefleet left it", tip(*.actual), tip(*.expected))]
    RollbackMoved {
        /// The branch.
        branch: String,
        /// Where the run left it.
        expected: Option<git2::Oid>,
        /// Where it is.
        actual: Option<git2::Oid>,
    },
    /// `E211`: a journal file cannot be read or parsed.
    #[error("cannot read run journal `{}`: {why}", path.display())]
    BadJournal {
        /// The journal file.
        path: PathBuf,
        /// What is wrong.
        why: String,
    },
    /// `E212`: another codefleet holds the repository lock.
    #[error("repository `{}` is locked by another codefleet ({holder})", repo.display())]
    Locked {
        /// The repository.
        repo: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, as the lock file says.
        holder: String,
    },
    /// `E213`: the branch is checked out somewhere, so moving it would change a working tree's HEAD.
    #[error("refusing to move branch `{branch}`: it is checked out in `{}`", worktree.display())]
    CheckedOut {
        /// The branch.
        branch: String,
        /// The working tree that has it checked out.
        worktree: PathBuf,
    },
    /// `E214`: the path needs a clean filter driver that codefleet cannot run.
    #[error(
        "cannot commit `{path}`: it uses the `{driver}` filter driver, which codefleet cannot apply"
    )]
    FilterDriver {
        /// The path.
        path: String,
        /// The driver's name.
        driver: String,
    },
    /// `E215`: a rollback that has nothing to do.
    #[error("nothing to roll back in run `{run}`: {why}")]
    NothingToRollBack {
        /// The run id.
        run: String,
        /// Why there is nothing.
        why: String,
    },
    /// `E216`: an author or committer git refuses.
    #[error("invalid identity `{who}`: {why}")]
    BadIdentity {
        /// The identity given.
        who: String,
        /// libgit2's message.
        why: String,
    },
    /// `E302`: the branch (`place`: "branch `x`" or "the remote's branch `origin/x`, as last
    /// fetched") has commits codefleet did not make; `count` is capped, `capped` says so.
    #[error("{place} has {}{} commit{} codefleet did not make (newest {newest})", count, if *.capped { "+" } else { "" }, if *.count == 1 && !*.capped { "" } else { "s" })]
    Foreign {
        /// Which branch, in words.
        place: String,
        /// How many foreign commits were counted.
        count: usize,
        /// Whether counting stopped at the limit.
        capped: bool,
        /// The newest one, abbreviated (`?` when unknown).
        newest: String,
    },
    /// `E309`: the branch holds another pipeline's commits.
    #[error(
        "{place} holds commits of pipeline `{owner}` (newest {newest}); this pipeline would replace them"
    )]
    OtherPipeline {
        /// Which branch, in words.
        place: String,
        /// The branch's name.
        branch: String,
        /// The pipeline whose commits they are.
        owner: String,
        /// Its newest commit, abbreviated.
        newest: String,
    },
    /// `E305`: a named path lies inside another repository instead of being one.
    #[error("`{}` is not a repository: it is inside the repository at `{}`", path.display(), inside.display())]
    Nested {
        /// The path named.
        path: PathBuf,
        /// The repository it is inside.
        inside: PathBuf,
    },
}

impl Kind for GitError {
    fn code(&self) -> Code {
        match self {
            GitError::NotARepo { .. } => codes::NOT_A_REPO,
            GitError::Bare { .. } => codes::BARE,
            GitError::Unborn { .. } => codes::UNBORN,
            GitError::BadRevision { .. } => codes::BAD_REVISION,
            GitError::Git { .. } => codes::GIT,
            GitError::BranchMoved { .. } => codes::BRANCH_MOVED,
            GitError::BadBranchName { .. } => codes::BAD_BRANCH_NAME,
            GitError::Dirty { .. } => codes::DIRTY,
            GitError::BadPath { .. } => codes::BAD_PATH,
            GitError::RunNotFound { .. } => codes::RUN_NOT_FOUND,
            GitError::RollbackMoved { .. } => codes::ROLLBACK_MOVED,
            GitError::BadJournal { .. } => codes::BAD_JOURNAL,
            GitError::Locked { .. } => codes::LOCKED,
            GitError::CheckedOut { .. } => codes::CHECKED_OUT,
            GitError::FilterDriver { .. } => codes::FILTER_DRIVER,
            GitError::NothingToRollBack { .. } => codes::NOTHING_TO_ROLL_BACK,
            GitError::BadIdentity { .. } => codes::BAD_IDENTITY,
            GitError::Foreign { .. } => codes::FOREIGN_COMMITS,
            GitError::OtherPipeline { .. } => codes::OTHER_PIPELINE,
            GitError::Nested { .. } => codes::NESTED_REPO,
        }
    }

    fn hint(&self) -> Option<String> {
        let hint = match self {
            GitError::NotARepo { .. } => {
                "run codefleet inside a git checkout, pass `--repo PATH`, or create one with `git init`"
            }
            GitError::Bare { .. } => {
                "use a non-bare clone, or leave out the option that needs a working tree"
            }
            GitError::Unborn { .. } => {
                "make a first commit (`git commit --allow-empty -m init`) or pass `--base REV`"
            }
            GitError::BadRevision { .. } => {
                "pass a branch, tag or commit id that `git rev-parse --verify REV^{commit}` accepts"
            }
            GitError::Git { .. } => {
                "check that the repository is healthy with `git fsck`; rerun with `-v` for details"
            }
            GitError::BranchMoved { .. } => {
                "someone else updated the branch; inspect it with `git log`, then rerun"
            }
            GitError::BadBranchName { .. } => {
                "branch names follow `git check-ref-format --branch`: no spaces, `..`, `~`, `^`, `:` or trailing `/`"
            }
            GitError::Dirty { .. } => {
                "commit or stash your changes first (`git stash`), or run without `--checkout`"
            }
            GitError::BadPath { .. } => {
                "paths are relative to the repository root, `/`-separated, without `.`, `..` or `.git`"
            }
            GitError::RunNotFound { dir, .. } => {
                return Some(format!(
                    "`codefleet runs` lists the runs journaled under `{}`",
                    dir.display()
                ));
            }
            GitError::RollbackMoved { .. } => {
                "the branch has commits codefleet did not make; move it yourself with `git branch -f`"
            }
            GitError::BadJournal { .. } => {
                "the file may be damaged; move it aside to let codefleet continue"
            }
            GitError::Locked { lock, .. } => {
                return Some(format!(
                    "wait for that run to finish; if no codefleet is running, delete `{}`",
                    lock.display()
                ));
            }
            GitError::CheckedOut { .. } => {
                "switch that working tree to another branch first, or use another run branch name"
            }
            GitError::FilterDriver { driver, .. } => {
                return Some(format!(
                    "exclude the path from the task, or unset `filter.{driver}.clean`/`.process` for this repository"
                ));
            }
            GitError::NothingToRollBack { .. } => {
                "`codefleet show RUN` lists the run's tasks and commits"
            }
            GitError::BadIdentity { .. } => {
                "write identities as `Name <email>`, without `<`, `>` or newlines in the name"
            }
            GitError::Foreign { .. } => {
                "re-run with --force to replace them, or pick another `branch:`"
            }
            GitError::OtherPipeline { branch, owner, .. } => {
                return Some(format!(
                    "give the two pipelines different `branch:` values, roll back `{owner}`'s run on \
                     `{branch}`, or re-run with --force to replace its commits"
                ));
            }
            GitError::Nested { inside, .. } => {
                return Some(format!(
                    "name `{}` to run on that repository, or `git init` the directory",
                    inside.display()
                ));
            }
        };
        Some(hint.to_string())
    }

    fn place(&self) -> Option<Place> {
        match self {
            GitError::BadJournal { path, .. } => Some(Place::file(path)),
            GitError::Locked { lock, .. } => Some(Place::file(lock)),
            _ => None,
        }
    }
}

/// A remote repository or the clone cache that mirrors it fails. URLs are redacted already.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RemoteError {
    /// `E501`: the remote cannot be reached or listed; `auth` is the hint for its URL scheme.
    #[error("cannot reach `{url}`: {why}")]
    Unreachable {
        /// The URL, redacted.
        url: String,
        /// What git said, redacted.
        why: String,
        /// How to get access.
        auth: &'static str,
    },
    /// `E502`: fetching into the clone cache failed.
    #[error("cannot fetch `{url}`: {why}")]
    Fetch {
        /// The URL, redacted.
        url: String,
        /// What git said, redacted.
        why: String,
        /// How to get access.
        auth: &'static str,
    },
    /// `E503`: the remote has no refs at all.
    #[error("`{url}` is an empty repository: nothing to run on")]
    Empty {
        /// The URL, redacted.
        url: String,
    },
    /// `E504`: `ref:` names nothing the remote has.
    #[error("`{url}` has no branch or tag `{git_ref}`")]
    NoRef {
        /// The URL, redacted.
        url: String,
        /// The `ref:` given.
        git_ref: String,
    },
    /// `E504`: no `ref:`, and the remote names no default branch.
    #[error("`{url}` does not say which branch is its default")]
    NoDefault {
        /// The URL, redacted.
        url: String,
    },
    /// `E505`: git fails inside a clone cache entry.
    #[error("the clone cache entry `{}` failed: {why}", entry.display())]
    Damaged {
        /// The entry's directory.
        entry: PathBuf,
        /// libgit2's message.
        why: String,
    },
    /// `E506`: another live codefleet holds the entry's lock.
    #[error("the clone of `{url}` is in use by another codefleet run (pid {holder})")]
    InUse {
        /// The URL, redacted.
        url: String,
        /// The holder's pid, as the lock file says.
        holder: String,
        /// The lock file.
        lock: PathBuf,
    },
    /// `E506`: the lock was taken over twice while trying to take it.
    #[error("the clone cache lock changed hands")]
    LockChanged,
    /// `E509`: a clone was not made: `why` says it (the run stopped, or a bug).
    #[error("{why}")]
    Stopped {
        /// What happened.
        why: &'static str,
    },
}

impl Kind for RemoteError {
    fn code(&self) -> Code {
        match self {
            RemoteError::Unreachable { .. } => codes::UNREACHABLE,
            RemoteError::Fetch { .. } => codes::FETCH,
            RemoteError::Empty { .. } => codes::EMPTY_REMOTE,
            RemoteError::NoRef { .. } | RemoteError::NoDefault { .. } => codes::NO_REF,
            RemoteError::Damaged { .. } => codes::DAMAGED_CACHE,
            RemoteError::InUse { .. } | RemoteError::LockChanged => codes::CACHE_LOCKED,
            RemoteError::Stopped { .. } => codes::CLONE_STOPPED,
        }
    }

    fn hint(&self) -> Option<String> {
        Some(match self {
            RemoteError::Unreachable { auth, .. } | RemoteError::Fetch { auth, .. } => {
                auth.to_string()
            }
            RemoteError::Empty { .. } => {
                "push a first commit to it, or remove it from `repos:`".to_string()
            }
            RemoteError::NoRef { url, .. } => {
                format!("`git ls-remote {url}` lists what it has; fix `ref:`")
            }
            RemoteError::NoDefault { .. } => "name the branch with `ref:`".to_string(),
            RemoteError::Damaged { .. } => {
                "delete the entry; the next run clones it again".to_string()
            }
            RemoteError::InUse { lock, .. } => format!(
                "wait for it to finish; a lock left by a crash is `{}`",
                lock.display()
            ),
            RemoteError::LockChanged | RemoteError::Stopped { .. } => return None,
        })
    }
}

/// `E200`: the path is not inside a git repository.
pub(crate) fn not_a_repo(path: &Path) -> Error {
    GitError::NotARepo {
        path: path.to_path_buf(),
    }
    .into()
}

/// `E201`: the operation needs a working tree and the repository is bare.
pub(crate) fn bare(path: &Path, what: &str) -> Error {
    GitError::Bare {
        path: path.to_path_buf(),
        what: what.to_string(),
    }
    .into()
}

/// `E202`: HEAD has no commit yet, so there is nothing to base a run on.
pub(crate) fn unborn(path: &Path, branch: &str) -> Error {
    GitError::Unborn {
        path: path.to_path_buf(),
        branch: branch.to_string(),
    }
    .into()
}

/// `E203`: the base revision does not name a commit.
pub(crate) fn bad_revision(path: &Path, rev: &str, why: &str) -> Error {
    GitError::BadRevision {
        path: path.to_path_buf(),
        revision: rev.to_string(),
        why: why.to_string(),
    }
    .into()
}

/// `E204`: libgit2 failed at something that should have worked.
pub(crate) fn git(what: &str, err: &git2::Error) -> Error {
    GitError::Git {
        what: what.to_string(),
        why: err.message().to_string(),
    }
    .into()
}

/// `E205`: the branch is not where the caller expected it (compare-and-swap failed).
pub(crate) fn branch_moved(
    branch: &str,
    expected: Option<git2::Oid>,
    actual: Option<git2::Oid>,
) -> Error {
    GitError::BranchMoved {
        branch: branch.to_string(),
        expected,
        actual,
    }
    .into()
}

/// `E206`: not a valid branch name.
pub(crate) fn bad_branch_name(name: &str) -> Error {
    GitError::BadBranchName {
        name: name.to_string(),
    }
    .into()
}

/// `E207`: the working tree has changes a checkout would clobber.
pub(crate) fn dirty(path: &Path, files: &[String]) -> Error {
    GitError::Dirty {
        path: path.to_path_buf(),
        files: files.to_vec(),
    }
    .into()
}

/// `E208`: a change names a path that cannot be written into a tree.
pub(crate) fn bad_path(path: &str, why: &str) -> Error {
    GitError::BadPath {
        path: path.to_string(),
        why: why.to_string(),
    }
    .into()
}

/// `E209`: no journal for that run id.
pub(crate) fn run_not_found(run: &str, dir: &Path) -> Error {
    GitError::RunNotFound {
        run: run.to_string(),
        dir: dir.to_path_buf(),
    }
    .into()
}

/// `E210`: rollback refused because the branch is not where the run left it.
pub(crate) fn rollback_moved(
    branch: &str,
    expected: Option<git2::Oid>,
    actual: Option<git2::Oid>,
) -> Error {
    GitError::RollbackMoved {
        branch: branch.to_string(),
        expected,
        actual,
    }
    .into()
}

/// `E211`: a journal file cannot be read or parsed.
pub(crate) fn bad_journal(path: &Path, why: &str) -> Error {
    GitError::BadJournal {
        path: path.to_path_buf(),
        why: why.to_string(),
    }
    .into()
}

/// `E212`: another codefleet holds the repository lock.
pub(crate) fn locked(repo: &Path, lock: &Path, holder: &str) -> Error {
    GitError::Locked {
        repo: repo.to_path_buf(),
        lock: lock.to_path_buf(),
        holder: holder.to_string(),
    }
    .into()
}

/// `E213`: the branch is checked out somewhere, so moving it would change a working tree's HEAD.
pub(crate) fn checked_out(branch: &str, where_: &Path) -> Error {
    GitError::CheckedOut {
        branch: branch.to_string(),
        worktree: where_.to_path_buf(),
    }
    .into()
}

/// `E214`: the path needs a clean filter driver that codefleet cannot run.
pub(crate) fn filter_driver(path: &str, driver: &str) -> Error {
    GitError::FilterDriver {
        path: path.to_string(),
        driver: driver.to_string(),
    }
    .into()
}

/// `E215`: a rollback that has nothing to do.
pub(crate) fn nothing_to_roll_back(run: &str, why: &str) -> Error {
    GitError::NothingToRollBack {
        run: run.to_string(),
        why: why.to_string(),
    }
    .into()
}

/// `E216`: an author or committer git refuses.
pub(crate) fn bad_identity(who: &str, err: &git2::Error) -> Error {
    GitError::BadIdentity {
        who: who.to_string(),
        why: err.message().to_string(),
    }
    .into()
}

/// The 12-character abbreviation used in messages.
pub(crate) fn short(oid: git2::Oid) -> String {
    let mut s = oid.to_string();
    s.truncate(12);
    s
}

/// Wraps an I/O error on a file under the git directory (`E001`, exit 1).
pub(crate) fn io(path: &Path, err: &std::io::Error) -> Error {
    Error::io(path, err).exit(Exit::Failed)
}

/// A branch tip as errors show it: a short id, or `absent`.
fn tip(o: Option<git2::Oid>) -> String {
    o.map_or("absent".to_string(), |o| short(o).to_string())
}

/// The first five changed files, and how many more, as `E207` lists them.
fn file_list(files: &[String]) -> String {
    let mut list = files.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if files.len() > 5 {
        list.push_str(&format!(" and {} more", files.len() - 5));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_git_error_is_typed_and_shows_as_before() {
        let e = locked(Path::new("repo"), Path::new("repo/.git/lock"), "pid 7");
        assert!(e.is::<GitError>());
        assert_eq!(e.code, "E212");
        assert_eq!(
            e.message,
            "repository `repo` is locked by another codefleet (pid 7)"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some(
                "wait for that run to finish; if no codefleet is running, delete `repo/.git/lock`"
            )
        );
        assert_eq!(e.exit, Exit::Failed);
        assert_eq!(e.place.as_deref(), Some(&Place::file("repo/.git/lock")));
        assert_eq!(bad_branch_name("a b").exit, Exit::Usage);
    }

    #[test]
    fn a_remote_error_is_typed_and_shows_as_before() {
        let e = Error::from(RemoteError::NoRef {
            url: "https://example.com/r.git".into(),
            git_ref: "v9".into(),
        });
        assert!(e.is::<RemoteError>());
        assert_eq!(e.code, "E504");
        assert_eq!(
            e.message,
            "`https://example.com/r.git` has no branch or tag `v9`"
        );
        assert_eq!(
            e.hint.as_deref(),
            Some("`git ls-remote https://example.com/r.git` lists what it has; fix `ref:`")
        );
        assert_eq!(e.exit, Exit::Failed);
    }

    #[test]
    fn foreign_commits_are_counted_as_before() {
        let one = Error::from(GitError::Foreign {
            place: "branch `b`".into(),
            count: 1,
            capped: false,
            newest: "abc".into(),
        });
        assert_eq!(
            one.message,
            "branch `b` has 1 commit codefleet did not make (newest abc)"
        );
        let many = Error::from(GitError::Foreign {
            place: "branch `b`".into(),
            count: 100,
            capped: true,
            newest: "abc".into(),
        });
        assert_eq!(
            many.message,
            "branch `b` has 100+ commits codefleet did not make (newest abc)"
        );
        assert_eq!(many.exit, Exit::Failed);
    }
}
