//! What the fake GitHub does in its repositories' bare git directories, with the `git` binary
//! (isolated from the user's configuration): read branches, count commits, merge, search files.

use std::path::Path;
use std::process::Command;

/// `git` in `dir`, isolated from any configuration, with a fixed identity.
fn git(dir: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "GitHub")
        .env("GIT_AUTHOR_EMAIL", "noreply@github.com")
        .env("GIT_COMMITTER_NAME", "GitHub")
        .env("GIT_COMMITTER_EMAIL", "noreply@github.com");
    cmd
}

/// Runs git; its trimmed stdout when it exits 0.
pub fn run(dir: &Path, args: &[&str]) -> Option<String> {
    let out = git(dir).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The commit a branch points at (read from the ref files: fast, no process).
pub fn branch(dir: &Path, name: &str) -> Option<String> {
    let full = format!("refs/heads/{name}");
    if let Ok(text) = std::fs::read_to_string(dir.join(&full)) {
        return Some(text.trim().to_string());
    }
    let packed = std::fs::read_to_string(dir.join("packed-refs")).ok()?;
    packed.lines().find_map(|l| {
        let (sha, r) = l.split_once(' ')?;
        (r == full).then(|| sha.to_string())
    })
}

/// Commits reachable from `to` and not from `from`.
pub fn count(dir: &Path, from: &str, to: &str) -> u64 {
    run(dir, &["rev-list", "--count", &format!("{from}..{to}")])
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Whether `a` is an ancestor of `b`.
pub fn is_ancestor(dir: &Path, a: &str, b: &str) -> bool {
    git(dir)
        .args(["merge-base", "--is-ancestor", a, b])
        .status()
        .is_ok_and(|s| s.success())
}

/// The tree of merging `head` into `base`: the head's own tree when it contains the base,
/// else a real three-way merge (`None` on a conflict).
pub fn merged_tree(dir: &Path, base: &str, head: &str) -> Option<String> {
    if is_ancestor(dir, base, head) {
        return run(dir, &["rev-parse", &format!("{head}^{{tree}}")]);
    }
    let out = run(dir, &["merge-tree", "--write-tree", base, head])?;
    out.lines().next().map(str::to_string)
}

/// A commit of `tree` with `parents` and `message`.
pub fn commit_tree(dir: &Path, tree: &str, parents: &[&str], message: &str) -> Option<String> {
    let mut args = vec!["commit-tree", tree, "-m", message];
    for p in parents {
        args.extend(["-p", p]);
    }
    run(dir, &args)
}

/// Moves `refs/heads/{name}` to `new` if it still points at `old` (empty `old`: creates it).
pub fn update_branch(dir: &Path, name: &str, new: &str, old: &str) -> bool {
    let full = format!("refs/heads/{name}");
    let old = if old.is_empty() {
        "0000000000000000000000000000000000000000"
    } else {
        old
    };
    run(dir, &["update-ref", &full, new, old]).is_some()
}

/// Deletes a branch.
pub fn delete_branch(dir: &Path, name: &str) -> bool {
    run(dir, &["update-ref", "-d", &format!("refs/heads/{name}")]).is_some()
}

/// Whether an object is a commit of this repository.
pub fn has_commit(dir: &Path, sha: &str) -> bool {
    run(dir, &["cat-file", "-e", &format!("{sha}^{{commit}}")]).is_some()
}

/// The files of `branch` containing `text` (a plain substring): (path, blob id).
pub fn grep(dir: &Path, branch: &str, text: &str) -> Vec<(String, String)> {
    let rev = format!("refs/heads/{branch}");
    let Some(paths) = run(dir, &["grep", "-l", "-F", "-I", "-e", text, &rev, "--"]) else {
        return Vec::new();
    };
    paths
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{rev}:")))
        .map(|path| {
            let blob = run(dir, &["rev-parse", &format!("{rev}:{path}")]).unwrap_or_default();
            (path.to_string(), blob)
        })
        .collect()
}
