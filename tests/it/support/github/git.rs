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
    let tree = run(dir, &["ls-tree", "-r", &rev]).unwrap_or_default();
    let blobs: std::collections::HashMap<&str, &str> = tree
        .lines()
        .filter_map(|l| {
            let (meta, path) = l.split_once('\t')?;
            Some((path, meta.split_whitespace().nth(2)?))
        })
        .collect();
    paths
        .lines()
        .filter_map(|l| l.strip_prefix(&format!("{rev}:")))
        .map(|path| (path.to_string(), blobs.get(path).unwrap_or(&"").to_string()))
        .collect()
}

/// Commits `files` (path, text) over the tip of `branch` (or of `from` when the branch does
/// not exist yet; neither: a first commit) in a bare repository, and moves the branch there;
/// the new commit. Works on git objects only, with a temporary index.
pub fn commit_files(
    dir: &Path,
    branch: &str,
    from: Option<&str>,
    files: &[(&str, &str)],
    message: &str,
) -> String {
    let parent = branch_or(dir, branch, from);
    let index = tempfile::NamedTempFile::new().expect("index");
    let with_index = |args: &[&str]| {
        let out = git(dir)
            .env("GIT_INDEX_FILE", index.path())
            .args(args)
            .output()
            .expect("git");
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    };
    // An empty file is not a valid index: start without one.
    std::fs::remove_file(index.path()).expect("remove index");
    if let Some(p) = &parent {
        with_index(&["read-tree", p]);
    }
    for (path, text) in files {
        let tmp = tempfile::NamedTempFile::new().expect("blob");
        std::fs::write(tmp.path(), text).expect("write blob");
        let blob = with_index(&["hash-object", "-w", tmp.path().to_str().expect("utf-8")]);
        with_index(&[
            "update-index",
            "--add",
            "--cacheinfo",
            &format!("100644,{blob},{path}"),
        ]);
    }
    let tree = with_index(&["write-tree"]);
    let parents: Vec<&str> = parent.iter().map(String::as_str).collect();
    let commit = commit_tree(dir, &tree, &parents, message).expect("commit-tree");
    let old = self::branch(dir, branch).unwrap_or_default();
    assert!(update_branch(dir, branch, &commit, &old), "update {branch}");
    commit
}

fn branch_or(dir: &Path, name: &str, from: Option<&str>) -> Option<String> {
    branch(dir, name).or_else(|| {
        from.and_then(|f| branch(dir, f).or_else(|| run(dir, &["rev-parse", "--verify", f])))
    })
}

/// A new bare repository `root/{owner}/{name}.git` whose `main` holds `files` in one commit.
pub fn bare_repo(root: &Path, full_name: &str, files: &[(&str, &str)]) -> std::path::PathBuf {
    let dir = root.join(format!("{full_name}.git"));
    std::fs::create_dir_all(&dir).expect("mkdir");
    run(&dir, &["init", "-q", "--bare", "-b", "main"]).expect("git init");
    commit_files(&dir, "main", None, files, "init");
    dir
}
