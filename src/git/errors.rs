//! The catalogue of the git layer's errors: one constructor per stable code, each with the
//! hint a user needs. Codes are part of codefleet's interface; never reuse a retired one.

use std::path::Path;

use crate::error::{Error, Exit};

/// `E200`: the path is not inside a git repository.
pub(crate) fn not_a_repo(path: &Path) -> Error {
    Error::new(
        "E200",
        format!("`{}` is not inside a git repository", path.display()),
    )
    .hint("run codefleet inside a git checkout, pass `--repo PATH`, or create one with `git init`")
}

/// `E201`: the operation needs a working tree and the repository is bare.
pub(crate) fn bare(path: &Path, what: &str) -> Error {
    Error::new(
        "E201",
        format!(
            "cannot {what}: `{}` is a bare repository without a working tree",
            path.display()
        ),
    )
    .hint("use a non-bare clone, or leave out the option that needs a working tree")
    .exit(Exit::Failed)
}

/// `E202`: HEAD has no commit yet, so there is nothing to base a run on.
pub(crate) fn unborn(path: &Path, branch: &str) -> Error {
    Error::new(
        "E202",
        format!(
            "`{}` has no commits yet (branch `{branch}` is unborn): nothing to base a run on",
            path.display()
        ),
    )
    .hint("make a first commit (`git commit --allow-empty -m init`) or pass `--base REV`")
    .exit(Exit::Failed)
}

/// `E203`: the base revision does not name a commit.
pub(crate) fn bad_revision(path: &Path, rev: &str, why: &str) -> Error {
    Error::new(
        "E203",
        format!(
            "base revision `{rev}` does not name a commit in `{}`: {why}",
            path.display()
        ),
    )
    .hint("pass a branch, tag or commit id that `git rev-parse --verify REV^{commit}` accepts")
    .exit(Exit::Failed)
}

/// `E204`: libgit2 failed at something that should have worked.
pub(crate) fn git(what: &str, err: &git2::Error) -> Error {
    Error::new("E204", format!("git failed to {what}: {}", err.message()))
        .hint("check that the repository is healthy with `git fsck`; rerun with `-v` for details")
        .exit(Exit::Failed)
}

/// `E205`: the branch is not where the caller expected it (compare-and-swap failed).
pub(crate) fn branch_moved(
    branch: &str,
    expected: Option<git2::Oid>,
    actual: Option<git2::Oid>,
) -> Error {
    Error::new(
        "E205",
        format!(
            "branch `{branch}` moved while codefleet worked: expected {}, found {}",
            tip(expected),
            tip(actual)
        ),
    )
    .hint("someone else updated the branch; inspect it with `git log`, then rerun")
    .exit(Exit::Failed)
}

/// `E206`: not a valid branch name.
pub(crate) fn bad_branch_name(name: &str) -> Error {
    Error::new("E206", format!("`{name}` is not a valid branch name"))
        .hint("branch names follow `git check-ref-format --branch`: no spaces, `..`, `~`, `^`, `:` or trailing `/`")
}

/// `E207`: the working tree has changes a checkout would clobber.
pub(crate) fn dirty(path: &Path, files: &[String]) -> Error {
    let mut list = files.iter().take(5).cloned().collect::<Vec<_>>().join(", ");
    if files.len() > 5 {
        list.push_str(&format!(" and {} more", files.len() - 5));
    }
    Error::new(
        "E207",
        format!(
            "refusing to check out: the working tree of `{}` has uncommitted changes ({list})",
            path.display()
        ),
    )
    .hint("commit or stash your changes first (`git stash`), or run without `--checkout`")
    .exit(Exit::Failed)
}

/// `E208`: a change names a path that cannot be written into a tree.
pub(crate) fn bad_path(path: &str, why: &str) -> Error {
    Error::new("E208", format!("cannot commit path `{path}`: {why}"))
        .hint(
            "paths are relative to the repository root, `/`-separated, without `.`, `..` or `.git`",
        )
        .exit(Exit::Failed)
}

/// `E209`: no journal for that run id.
pub(crate) fn run_not_found(run: &str, dir: &Path) -> Error {
    Error::new("E209", format!("no run `{run}` in this repository")).hint(format!(
        "`codefleet runs` lists the runs journaled under `{}`",
        dir.display()
    ))
}

/// `E210`: rollback refused because the branch is not where the run left it.
pub(crate) fn rollback_moved(
    branch: &str,
    expected: Option<git2::Oid>,
    actual: Option<git2::Oid>,
) -> Error {
    Error::new(
        "E210",
        format!(
            "refusing to roll back: branch `{branch}` is at {}, not at {} where codefleet left it",
            tip(actual),
            tip(expected)
        ),
    )
    .hint("the branch has commits codefleet did not make; move it yourself with `git branch -f`")
    .exit(Exit::Failed)
}

/// `E211`: a journal file cannot be read or parsed.
pub(crate) fn bad_journal(path: &Path, why: &str) -> Error {
    Error::new(
        "E211",
        format!("cannot read run journal `{}`: {why}", path.display()),
    )
    .in_file(path)
    .hint("the file may be damaged; move it aside to let codefleet continue")
    .exit(Exit::Failed)
}

/// `E212`: another codefleet holds the repository lock.
pub(crate) fn locked(repo: &Path, lock: &Path, holder: &str) -> Error {
    Error::new(
        "E212",
        format!(
            "repository `{}` is locked by another codefleet ({holder})",
            repo.display()
        ),
    )
    .in_file(lock)
    .hint(format!(
        "wait for that run to finish; if no codefleet is running, delete `{}`",
        lock.display()
    ))
    .exit(Exit::Failed)
}

/// `E213`: the branch is checked out somewhere, so moving it would change a working tree's HEAD.
pub(crate) fn checked_out(branch: &str, where_: &Path) -> Error {
    Error::new(
        "E213",
        format!(
            "refusing to move branch `{branch}`: it is checked out in `{}`",
            where_.display()
        ),
    )
    .hint("switch that working tree to another branch first, or use another run branch name")
    .exit(Exit::Failed)
}

/// `E214`: the path needs a clean filter driver that codefleet cannot run.
pub(crate) fn filter_driver(path: &str, driver: &str) -> Error {
    Error::new(
        "E214",
        format!("cannot commit `{path}`: it uses the `{driver}` filter driver, which codefleet cannot apply"),
    )
    .hint(format!(
        "exclude the path from the task, or unset `filter.{driver}.clean`/`.process` for this repository"
    ))
    .exit(Exit::Failed)
}

/// `E215`: a rollback that has nothing to do.
pub(crate) fn nothing_to_roll_back(run: &str, why: &str) -> Error {
    Error::new(
        "E215",
        format!("nothing to roll back in run `{run}`: {why}"),
    )
    .hint("`codefleet show RUN` lists the run's tasks and commits")
}

/// `E216`: an author or committer git refuses.
pub(crate) fn bad_identity(who: &str, err: &git2::Error) -> Error {
    Error::new(
        "E216",
        format!("invalid identity `{who}`: {}", err.message()),
    )
    .hint("write identities as `Name <email>`, without `<`, `>` or newlines in the name")
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
