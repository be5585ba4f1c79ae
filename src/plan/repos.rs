//! Where a pipeline runs: `repos:` entries (paths, globs of paths, list files, URLs) or `--repo`
//! overrides, resolved to local directories and remote repositories in a stable order without
//! duplicates; and the `--shard K/N` split of them.

use std::path::{Path, PathBuf};

use globset::GlobBuilder;

use crate::error::Error;
use crate::exec::Target;
use crate::forge::RepoId;
use crate::git::RemoteSpec;
use crate::pipeline::RepoSource;
use crate::report::Dropped;

use super::discover::{Discovery, Found};
use super::errors::PlanError;

impl Target {
    /// What `--shard` hashes, the same however the repository was spelled and wherever the
    /// job started: a local repository's real path (symlinks, `.` and `..` resolved) relative
    /// to `anchor`, the real directory of the pipeline (so machines laying out the pipeline
    /// and the fleet alike split alike, whatever their absolute paths); a URL normalised by
    /// [`url_identity`].
    pub fn identity(&self, anchor: &Path) -> String {
        match self {
            Target::Local(p) => relative_to(&real(p), &real(anchor)),
            Target::Remote(r) => url_identity(&r.url),
            Target::Unsupported { name, .. } => name.clone(),
        }
    }
}

/// `path` made absolute and resolved (`canonicalize`), or, for a path that does not exist,
/// made absolute against the current directory and cleaned of `.` and `..` by hand.
fn real(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    let abs = std::env::current_dir()
        .map(|cwd| cwd.join(path))
        .unwrap_or_else(|_| path.to_path_buf());
    let mut out = PathBuf::new();
    for c in abs.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// `path` relative to `base` (both absolute), `/`-separated, with `..` where it leaves `base`;
/// `.` for `base` itself.
fn relative_to(path: &Path, base: &Path) -> String {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_string(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// A repository URL reduced to what names the repository: no scheme and no user or token
/// (`https://x-access-token:…@github.com/a/b`, `ssh://git@github.com/a/b` and
/// `git@github.com:a/b` are one repository), the host in lower case, and no trailing `/` or
/// `.git`. The path keeps its case: servers may tell `A/b` from `a/b`.
pub fn url_identity(url: &str) -> String {
    let url = url.trim();
    let (rest, scp) = match url.find("://") {
        Some(i) => (&url[i + 3..], false),
        None => (url, true),
    };
    let (authority, path) = if scp {
        // `user@host:path`; a plain path (no `:` before any `/`) is kept whole.
        match rest.find(':') {
            Some(i) if !rest[..i].contains('/') => (&rest[..i], &rest[i + 1..]),
            _ => ("", rest),
        }
    } else {
        match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        }
    };
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, h)| h)
        .to_ascii_lowercase();
    let mut path = path.trim_end_matches('/');
    if let Some(p) = path.strip_suffix(".git") {
        path = p.trim_end_matches('/');
    }
    let path = path.trim_start_matches('/');
    if host.is_empty() {
        format!("/{path}")
    } else {
        format!("{host}/{path}")
    }
}

/// One `--repo` value or `--repos-from` line, and the directory a relative path in it is read
/// against (empty: the current directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoArg {
    /// As written.
    pub text: String,
    /// Where a relative path is read from.
    pub dir: PathBuf,
}

impl RepoArg {
    /// A `--repo` value (paths relative to the current directory).
    pub fn new(text: impl Into<String>) -> RepoArg {
        RepoArg {
            text: text.into(),
            dir: PathBuf::new(),
        }
    }
}

/// The repositories to run on, and those a discovery left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resolved {
    /// In run order, each once.
    pub targets: Vec<Target>,
    /// Found through GitHub and dropped before the run (archived, disabled, forks), each once.
    pub dropped: Vec<Dropped>,
}

/// Resolves the repositories to run on: `overrides` (from `--repo` and `--repos-from`) when
/// given, else the pipeline's `sources`, else the current directory (shown as `.`).
/// Repositories from GitHub are asked of `discovery`'s forge; what it drops is returned too.
pub fn resolve(
    sources: &[RepoSource],
    overrides: &[RepoArg],
    discovery: &Discovery<'_>,
) -> Result<Resolved, Error> {
    let mut out = Resolved::default();
    if !overrides.is_empty() {
        // `--repo` takes what `repos:` takes: a URL, a glob of checkouts, a list file (a
        // regular file), a checkout, or a GitHub repository or owner.
        for arg in overrides {
            entry(&arg.text, &arg.dir, true, discovery, &mut out)?;
        }
    } else if sources.is_empty() {
        out.targets.push(Target::Local(PathBuf::from(".")));
    } else {
        for source in sources {
            match source {
                RepoSource::Path(p) => out.targets.push(Target::Local(p.clone())),
                RepoSource::Glob(pattern) => out.targets.extend(expand(pattern)?),
                RepoSource::List(file) => read_list(file, discovery, &mut out)?,
                RepoSource::Url {
                    url,
                    git_ref,
                    depth,
                } => out.targets.push(Target::Remote(RemoteSpec {
                    url: url.clone(),
                    git_ref: git_ref.clone(),
                    depth: *depth,
                })),
                RepoSource::GitHub(selector) => {
                    let found = discovery.select(selector)?;
                    add(found, discovery, &mut out);
                }
                RepoSource::GitLab(selector) => {
                    let found = discovery.select_gitlab(selector)?;
                    add(found, discovery, &mut out);
                }
                RepoSource::Gitea(selector) => {
                    let found = discovery.select_gitea(selector)?;
                    add(found, discovery, &mut out);
                }
            }
        }
    }
    // The same directory named twice runs once (first mention wins the order).
    let mut seen = std::collections::HashSet::new();
    let mut urls = std::collections::HashSet::new();
    out.targets.retain(|t| match t {
        Target::Local(p) => seen.insert(std::fs::canonicalize(p).unwrap_or_else(|_| p.clone())),
        Target::Remote(r) => urls.insert(url_identity(&r.url)),
        Target::Unsupported { .. } => true,
    });
    // A repository one entry drops and another keeps (`forks: true`) runs. A dropped one is
    // named by its path on its forge (`owner/name`, a GitLab project's `group/sub/name`),
    // which ends the identity of the URL it would run from.
    let kept: Vec<String> = out
        .targets
        .iter()
        .filter_map(|t| match t {
            Target::Remote(r) => Some(url_identity(&r.url).to_ascii_lowercase()),
            _ => None,
        })
        .collect();
    let mut named = std::collections::HashSet::new();
    out.dropped.retain(|d| {
        let tail = format!("/{}", d.repo.to_ascii_lowercase());
        !kept.iter().any(|k| k.ends_with(&tail)) && named.insert(d.repo.clone())
    });
    Ok(out)
}

/// Adds what a discovery found.
fn add(found: Found, discovery: &Discovery<'_>, out: &mut Resolved) {
    out.targets
        .extend(found.repos.iter().map(|r| discovery.target(r)));
    out.dropped.extend(found.dropped);
}

/// What one `--repo` value or list line names, read against `dir`: `github:owner/name` or
/// `github:owner/*`; a URL; an existing path (a file: a list, when `lists`); a glob of local
/// checkouts, unless it is `owner/*` and `owner` is no local directory; `owner/name` when no
/// such path exists; else a local path.
fn entry(
    text: &str,
    dir: &Path,
    lists: bool,
    discovery: &Discovery<'_>,
    out: &mut Resolved,
) -> Result<(), Error> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix("github:") {
        let Some(named) = github_name(rest) else {
            return Err(PlanError::BadEntry {
                text: text.to_string(),
                why: "`github:` is followed by `owner/name` or `owner/*`",
            }
            .into());
        };
        return github(named, discovery, out);
    }
    if is_url(text) {
        out.targets.push(url_target(text, None));
        return Ok(());
    }
    if text.is_empty() {
        return Err(PlanError::BadEntry {
            text: text.to_string(),
            why: "it is empty",
        }
        .into());
    }
    let path = dir.join(text);
    if path.exists() {
        if lists && path.is_file() {
            read_list(&path, discovery, out)?;
        } else {
            out.targets.push(Target::Local(path));
        }
        return Ok(());
    }
    if let Some((host, rest)) = host_form(text) {
        return match discovery.at_host(text, host, rest) {
            Some(found) => {
                add(found?, discovery, out);
                Ok(())
            }
            None => Err(PlanError::ForgeHost {
                what: format!("`{text}`"),
                why: format!("it names no local path, and `{host}` is not listed as a forge host"),
                setting: "gitlab.hosts`, `gitea.hosts` or `github.hosts",
            }
            .into()),
        };
    }
    if let Some(named @ GitHubName::Owner(owner)) = github_name(text)
        && !dir.join(owner).is_dir()
    {
        return github(named, discovery, out).map_err(|e| read_as_github(e, text));
    }
    if is_glob(text) {
        let pattern = path.to_string_lossy().replace('\\', "/");
        let found = expand(&pattern)?;
        if found.is_empty() {
            return Err(PlanError::NoMatch {
                glob: text.to_string(),
            }
            .into());
        }
        out.targets.extend(found);
        return Ok(());
    }
    match github_name(text) {
        Some(named @ GitHubName::Repo(_)) => {
            github(named, discovery, out).map_err(|e| read_as_github(e, text))
        }
        _ => {
            out.targets.push(Target::Local(path));
            Ok(())
        }
    }
}

/// `HOST/owner/name` (or a GitLab project's `HOST/group/sub/name`): the host and the path on
/// it, when the first part is a host name (with a `.` or a port) and at least two parts follow.
fn host_form(text: &str) -> Option<(&str, &str)> {
    let (host, rest) = text.split_once('/')?;
    let parts: Vec<&str> = rest.trim_end_matches('/').split('/').collect();
    let named = parts.len() >= 2
        && parts
            .iter()
            .all(|p| !p.is_empty() && *p != "." && *p != ".." && !is_glob(p));
    (named && host.contains(['.', ':']) && crate::pipeline::valid_host(host))
        .then(|| (host, rest.trim_end_matches('/')))
}

/// An error about `text`, a value that names no local path and was therefore read as GitHub's:
/// the hint says so, since the user may have meant a path.
fn read_as_github(e: Error, text: &str) -> Error {
    let before = e.hint.clone().map(|h| format!("{h}; ")).unwrap_or_default();
    e.hint(format!(
        "{before}`{text}` names no local path, so it was read as a GitHub name (write \
         `./{text}` for a path, `github:{text}` to say GitHub)"
    ))
}

/// A repository or owner on GitHub, as `--repo` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum GitHubName<'a> {
    /// `owner/name`.
    Repo(RepoId),
    /// `owner/*`.
    Owner(&'a str),
}

/// `owner/name` or `owner/*` with a valid owner login and repository name.
fn github_name(text: &str) -> Option<GitHubName<'_>> {
    let (owner, name) = text.split_once('/')?;
    if !crate::pipeline::valid_github_login(owner) {
        return None;
    }
    if name == "*" {
        return Some(GitHubName::Owner(owner));
    }
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name.len() <= 100
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| {
        GitHubName::Repo(RepoId {
            owner: owner.to_string(),
            name: name.trim_end_matches(".git").to_string(),
        })
    })
}

fn github(
    named: GitHubName<'_>,
    discovery: &Discovery<'_>,
    out: &mut Resolved,
) -> Result<(), Error> {
    let found = match named {
        GitHubName::Repo(id) => discovery.one(&id)?,
        GitHubName::Owner(owner) => discovery.everything_of(owner)?,
    };
    add(found, discovery, out);
    Ok(())
}

/// A URL rather than a path: `scheme://…` or scp-like `git@host:path`.
fn is_url(text: &str) -> bool {
    text.contains("://") || text.starts_with("git@")
}

fn url_target(url: &str, git_ref: Option<String>) -> Target {
    Target::Remote(RemoteSpec {
        url: url.to_string(),
        git_ref,
        depth: None,
    })
}

fn is_glob(s: &str) -> bool {
    s.contains(['*', '?', '[', '{'])
}

/// Expands a glob of checkouts (`../services/*`), component by component; results sorted.
fn expand(pattern: &str) -> Result<Vec<Target>, Error> {
    let mut roots = vec![PathBuf::new()];
    let mut started = false;
    for comp in pattern.split('/') {
        if !started {
            started = true;
            if comp.is_empty() {
                roots = vec![PathBuf::from("/")];
                continue;
            }
        }
        if comp.is_empty() || comp == "." {
            continue;
        }
        if !is_glob(comp) {
            for r in &mut roots {
                r.push(comp);
            }
            continue;
        }
        let matcher = GlobBuilder::new(comp)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                Error::from(PlanError::BadGlob {
                    pattern: pattern.to_string(),
                    why: e.to_string(),
                })
            })?
            .compile_matcher();
        let mut next = Vec::new();
        for r in &roots {
            let dir = if r.as_os_str().is_empty() {
                Path::new(".")
            } else {
                r
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<_> = entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|n| !n.starts_with('.') && matcher.is_match(n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| r.join(n)));
        }
        roots = next;
    }
    // A glob names checkouts: directories that are not repositories (docs/, a stray build
    // dir) are left out rather than reported as failures.
    Ok(roots
        .into_iter()
        .filter(|d| is_checkout(d))
        .map(Target::Local)
        .collect())
}

/// A working tree (`.git` directory or file) or a bare repository (`HEAD` and `objects/`).
fn is_checkout(dir: &Path) -> bool {
    dir.join(".git").exists() || (dir.join("HEAD").is_file() && dir.join("objects").is_dir())
}

/// Reads a list file: one entry a line, as `--repo` takes them (a path, a URL, `owner/name`,
/// `owner/*`, `github:…`), `#` comments, blank lines ignored; relative paths resolve against
/// the list file's directory.
fn read_list(file: &Path, discovery: &Discovery<'_>, out: &mut Resolved) -> Result<(), Error> {
    let text = std::fs::read_to_string(file).map_err(|e| Error::io(file, &e))?;
    let dir = file.parent().unwrap_or(Path::new("."));
    for line in list_lines(&text) {
        entry(line, dir, false, discovery, out)?;
    }
    Ok(())
}

/// The entries of a list: one a line, `#` comments (whole lines, or after a space), blank lines
/// ignored.
pub fn list_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(|line| line.split_once(" #").map_or(line, |(a, _)| a).trim())
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_lists_and_overrides() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for d in [
            "svc/b/.git",
            "svc/a/.git",
            "svc/.hidden/.git",
            "svc/docs",
            "other",
        ] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        std::fs::write(root.join("svc/file"), "").unwrap();
        std::fs::write(
            root.join("repos.txt"),
            "# mine\nother\n\nhttps://example.com/x.git\nsvc/a # again\n",
        )
        .unwrap();
        let glob = format!("{}/svc/*", root.display());
        let sources = [
            RepoSource::Glob(glob),
            RepoSource::List(root.join("repos.txt")),
        ];
        let none = Discovery::default();
        let run = |over: &[&str]| {
            let over: Vec<RepoArg> = over.iter().map(|t| RepoArg::new(*t)).collect();
            resolve(&sources, &over, &none).unwrap().targets
        };
        let got = run(&[]);
        let names: Vec<String> = got
            .iter()
            .map(|t| t.display().replace(&root.display().to_string(), ""))
            .collect();
        assert_eq!(
            names,
            ["/svc/a", "/svc/b", "/other", "https://example.com/x.git"]
        );
        assert!(matches!(&got[3], Target::Remote(r) if r.git_ref.is_none()));
        let other = root.join("other");
        let over = run(&[other.to_str().unwrap()]);
        assert_eq!(over, vec![Target::Local(root.join("other"))]);
        let remote = run(&["git@github.com:acme/x.git"]);
        assert!(matches!(&remote[0], Target::Remote(r) if r.url == "git@github.com:acme/x.git"));
        assert_eq!(
            resolve(&[], &[], &none).unwrap().targets,
            vec![Target::Local(PathBuf::from("."))]
        );
        // A GitHub name needs the API; a path that exists stays a path.
        let e = resolve(&[], &[RepoArg::new("acme/x")], &none).unwrap_err();
        assert_eq!(e.code, "E536");
        let here = RepoArg {
            text: "svc/a".into(),
            dir: root.to_path_buf(),
        };
        assert_eq!(
            resolve(&[], &[here], &none).unwrap().targets,
            vec![Target::Local(root.join("svc/a"))]
        );
        let star = RepoArg {
            text: "svc/*".into(),
            dir: root.to_path_buf(),
        };
        assert_eq!(
            resolve(&[], &[star], &none).unwrap().targets.len(),
            2,
            "`svc/*` with a local `svc` directory is a glob of checkouts"
        );
        let bad = resolve(&[], &[RepoArg::new("github:acme")], &none).unwrap_err();
        assert_eq!(bad.code, "E552");
    }

    #[test]
    fn github_names_are_told_from_paths() {
        assert!(
            matches!(github_name("acme/api"), Some(GitHubName::Repo(r)) if r.to_string() == "acme/api")
        );
        assert!(
            matches!(github_name("acme/api.git"), Some(GitHubName::Repo(r)) if r.name == "api")
        );
        assert_eq!(github_name("acme/*"), Some(GitHubName::Owner("acme")));
        for not in [
            "./api", "../x/y", "acme/a/b", "-x/y", "acme/", "/abs", "a b/c", "acme/..",
        ] {
            assert_eq!(github_name(not), None, "{not}");
        }
    }

    #[test]
    fn host_forms_name_a_host_and_a_path_on_it() {
        assert_eq!(
            host_form("gitlab.com/acme/platform/api"),
            Some(("gitlab.com", "acme/platform/api"))
        );
        assert_eq!(
            host_form("127.0.0.1:3000/ops/deploy/"),
            Some(("127.0.0.1:3000", "ops/deploy"))
        );
        for not in [
            "acme/api",
            "gitlab.com/acme",
            "../x/y",
            "./a.b/c/d",
            "services/api/v2",
            "gitlab.com/acme/*",
            "gitlab.com//x",
            "https://gitlab.com/a/b",
        ] {
            assert_eq!(host_form(not), None, "{not}");
        }
    }
}

/// Parses `--shard K/N` (1-based: `1/4` … `4/4`).
pub fn parse_shard(text: &str) -> Result<(usize, usize), Error> {
    let parsed = text.split_once('/').and_then(|(k, n)| {
        Some((
            k.trim().parse::<usize>().ok()?,
            n.trim().parse::<usize>().ok()?,
        ))
    });
    match parsed {
        Some((k, n)) if n >= 1 && (1..=n).contains(&k) => Ok((k, n)),
        _ => Err(PlanError::BadShard {
            text: text.to_string(),
        }
        .into()),
    }
}

/// Shard `k` of `n` of the targets, in resolved order. A repository's shard depends only on
/// a stable hash of its [`Target::identity`] (against `anchor`, the pipeline's directory) and
/// `n`, never on its position or spelling: the shards are disjoint, cover everything, and
/// adding or removing a repository moves no other one.
pub fn shard(targets: Vec<Target>, k: usize, n: usize, anchor: &Path) -> Vec<Target> {
    targets
        .into_iter()
        .filter(|t| shard_of(t, n, anchor) == k)
        .collect()
}

/// The 1-based shard of `n` that `target` falls in.
pub fn shard_of(target: &Target, n: usize, anchor: &Path) -> usize {
    let n = n.max(1) as u64;
    // The high bits of FNV-1a mix better than its low ones.
    let h = crate::git::fnv1a(target.identity(anchor).as_bytes());
    ((h ^ (h >> 32)) % n) as usize + 1
}

#[cfg(test)]
mod shard_tests {
    use super::*;

    #[test]
    fn shards_are_disjoint_and_cover_everything() {
        let all: Vec<Target> = (0..7)
            .map(|i| Target::Local(PathBuf::from(format!("r{i}"))))
            .collect();
        let mut seen = Vec::new();
        for k in 1..=3 {
            seen.extend(shard(all.clone(), k, 3, Path::new(".")));
        }
        seen.sort_by_key(Target::display);
        assert_eq!(seen, all);
        assert_eq!(parse_shard("2/4").unwrap(), (2, 4));
        assert_eq!(shard(all.clone(), 1, 1, Path::new(".")), all);
        for bad in ["0/4", "5/4", "x", "1/0", "2"] {
            assert_eq!(parse_shard(bad).unwrap_err().code, "E095", "{bad}");
        }
    }
}

#[cfg(test)]
mod shard_stability {
    use super::*;

    fn urls(n: usize) -> Vec<Target> {
        (0..n)
            .map(|i| url_target(&format!("https://github.com/acme/repo-{i}.git"), None))
            .collect()
    }

    #[test]
    fn adding_a_repository_moves_no_other_one() {
        let before = urls(800);
        let mut after = before.clone();
        after.insert(17, url_target("https://github.com/acme/new.git", None));
        for n in [2, 3, 8] {
            for k in 1..=n {
                let old = shard(before.clone(), k, n, Path::new("."));
                let new: Vec<Target> = shard(after.clone(), k, n, Path::new("."))
                    .into_iter()
                    .filter(|t| t.identity(Path::new(".")) != "github.com/acme/new")
                    .collect();
                assert_eq!(old, new, "shard {k}/{n} changed");
            }
        }
    }

    #[test]
    fn shards_are_balanced() {
        let all = urls(800);
        for k in 1..=4 {
            let size = shard(all.clone(), k, 4, Path::new(".")).len();
            assert!((150..=250).contains(&size), "shard {k}/4 has {size} of 800");
        }
    }

    #[test]
    fn one_repository_spelled_many_ways_has_one_identity() {
        let one = "github.com/acme/x";
        for url in [
            "https://github.com/acme/x",
            "https://github.com/acme/x.git",
            "https://github.com/acme/x/",
            "https://github.com/acme/x.git/",
            "HTTPS://GitHub.COM/acme/x.git",
            "https://x-access-token:secret@github.com/acme/x.git",
            "ssh://git@github.com/acme/x.git",
            "git@github.com:acme/x.git",
        ] {
            assert_eq!(url_identity(url), one, "{url}");
        }
        assert_ne!(url_identity("https://github.com/acme/X"), one);
        assert_eq!(url_identity("file:///srv/git/x.git"), "/srv/git/x");
        assert_eq!(
            url_identity("http://127.0.0.1:8080/x.git"),
            "127.0.0.1:8080/x"
        );
    }

    #[test]
    fn local_identities_are_relative_to_the_anchor() {
        let dir = tempfile::tempdir().unwrap();
        let root = std::fs::canonicalize(dir.path()).unwrap();
        std::fs::create_dir_all(root.join("fleet/a")).unwrap();
        std::fs::create_dir_all(root.join("pipelines")).unwrap();
        let anchor = root.join("pipelines");
        for spelling in [
            root.join("fleet/a"),
            root.join("fleet/./a/"),
            root.join("pipelines/../fleet/a"),
        ] {
            assert_eq!(
                Target::Local(spelling.clone()).identity(&anchor),
                "../fleet/a",
                "{}",
                spelling.display()
            );
        }
        assert_eq!(Target::Local(anchor.clone()).identity(&anchor), ".");
        assert_eq!(
            Target::Local(root.join("gone/../missing")).identity(&anchor),
            "../missing"
        );
    }
}
