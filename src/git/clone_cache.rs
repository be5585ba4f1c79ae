//! The clone cache, `<cache dir>/repos/<name>-<hash>.git`: one bare clone per remote URL,
//! shallow by default, fetched (never re-cloned) on later runs, and locked per entry so two
//! runs never work in one clone at once. Clones run on their own bounded set of threads
//! (`--clone-jobs`) ahead of the run, so the network overlaps the edits of other repositories.

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use crate::error::Error;

use super::errors::RemoteError;
use super::remote::{self, Advertised, Credentials};

/// A remote repository as a pipeline names it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteSpec {
    /// The URL (https, ssh, `file://`, or a path).
    pub url: String,
    /// The branch (or tag) to start from; `None` is the remote's default branch.
    pub git_ref: Option<String>,
    /// History depth to fetch (0: all); `None` is the cache's default (`--depth`).
    pub depth: Option<u32>,
}

impl RemoteSpec {
    /// The short name: the last path segment without `.git` (`billing` for
    /// `https://github.com/acme/billing.git`).
    pub fn name(&self) -> String {
        repo_name(&self.url)
    }
}

/// The last path segment of a URL without `.git`.
pub fn repo_name(url: &str) -> String {
    let trimmed = url.trim_end_matches('/');
    let last = trimmed
        .rsplit(['/', ':'])
        .next()
        .filter(|s| !s.is_empty())
        .unwrap_or(trimmed);
    last.strip_suffix(".git").unwrap_or(last).to_string()
}

/// A prepared clone: where it is and what the run and the push need to know about it.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// The bare clone in the cache.
    pub path: PathBuf,
    /// The URL it mirrors.
    pub url: String,
    /// The branch the run starts from (and a pull request targets).
    pub base_branch: String,
    /// The run branch's tip on the remote when fetched (the push lease), `None` when absent.
    pub remote_tip: Option<git2::Oid>,
    /// True when this run cloned it, false when an existing clone was fetched.
    pub cloned: bool,
    /// True when the remote's run branch holds only commits codefleet made (by their
    /// trailers): replacing them is safe even when this clone's journal never saw them (a
    /// fresh cache, another CI machine). False when the branch is absent or has others'.
    pub codefleet_only: bool,
}

/// How the cache clones.
#[derive(Debug, Clone)]
pub struct CloneOptions {
    /// The cache directory (`cache.dir`); clones go under `repos/`.
    pub cache_dir: PathBuf,
    /// History depth to fetch; 0 fetches everything.
    pub depth: u32,
    /// Clones at once.
    pub jobs: usize,
    /// How to authenticate.
    pub credentials: Credentials,
}

type Slot = Option<Result<(Prepared, EntryLock), Error>>;

/// The clone cache of one run: clones queued with [`CloneCache::start`] run on background
/// threads; [`CloneCache::take`] waits for one.
#[derive(Debug)]
pub struct CloneCache {
    options: CloneOptions,
    slots: Mutex<HashMap<String, Slot>>,
    ready: Condvar,
    prepared: Mutex<HashMap<String, Prepared>>,
    held: Mutex<Vec<EntryLock>>,
    /// Set by [`CloneCache::stop`]: no clone starts, and one under way is cancelled.
    stop: AtomicBool,
    /// The background cloning threads, joined by [`CloneCache::stop`].
    workers: Mutex<Vec<std::thread::JoinHandle<()>>>,
}

impl CloneCache {
    /// A cache with these options; nothing happens until [`CloneCache::start`].
    pub fn new(options: CloneOptions) -> Arc<CloneCache> {
        static TIMEOUTS: std::sync::Once = std::sync::Once::new();
        TIMEOUTS.call_once(|| {
            // A host that drops packets would otherwise hold a clone slot for minutes. libgit2
            // makes sockets non-blocking once a connect timeout is set, so reads need their
            // own (generous: a server may think a while before sending a pack).
            // SAFETY: process-wide libgit2 options, set once, before this cache starts any
            // network operation.
            unsafe {
                let _ = git2::opts::set_server_connect_timeout_in_milliseconds(15_000);
                let _ = git2::opts::set_server_timeout_in_milliseconds(300_000);
            }
        });
        Arc::new(CloneCache {
            options,
            slots: Mutex::new(HashMap::new()),
            ready: Condvar::new(),
            prepared: Mutex::new(HashMap::new()),
            held: Mutex::new(Vec::new()),
            stop: AtomicBool::new(false),
            workers: Mutex::new(Vec::new()),
        })
    }

    /// The credentials remotes are reached with.
    pub fn credentials(&self) -> &Credentials {
        &self.options.credentials
    }

    /// Where the clone of `url` lives.
    pub fn entry(&self, url: &str) -> PathBuf {
        let name: String = repo_name(url)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let hash = fnv1a(url.trim_end_matches('/').as_bytes());
        self.options
            .cache_dir
            .join("repos")
            .join(format!("{name}-{:016x}.git", hash))
    }

    /// Starts cloning `jobs` (each a remote and the run branch it will get) on
    /// `--clone-jobs` background threads, in the order given.
    pub fn start(self: &Arc<Self>, jobs: Vec<(RemoteSpec, String)>) {
        let queue: VecDeque<_> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            jobs.into_iter()
                .filter(|(spec, _)| {
                    let fresh = !slots.contains_key(&spec.url);
                    slots.entry(spec.url.clone()).or_insert(None);
                    fresh
                })
                .collect()
        };
        let queue = Arc::new(Mutex::new(queue));
        for _ in 0..self.options.jobs.max(1) {
            let cache = Arc::clone(self);
            let queue = Arc::clone(&queue);
            let worker = std::thread::spawn(move || {
                loop {
                    let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                    let Some((spec, branch)) = next else { break };
                    let result = if cache.stop.load(Ordering::SeqCst) {
                        Err(RemoteError::Stopped {
                            why: "not cloned: the run stopped",
                        }
                        .into())
                    } else {
                        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            cache.prepare(&spec, &branch)
                        }))
                        .unwrap_or_else(|_| {
                            Err(RemoteError::Stopped {
                                why: "internal error while cloning (a bug)",
                            }
                            .into())
                        })
                    };
                    if let Ok((p, _)) = &result {
                        cache
                            .prepared
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(spec.url.clone(), p.clone());
                    }
                    cache
                        .slots
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(spec.url.clone(), Some(result));
                    cache.ready.notify_all();
                }
            });
            self.workers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(worker);
        }
    }

    /// Drops clones not started yet and cancels the ones under way (after an interrupt, or
    /// when the run ends), then waits for the cloning threads: once this returns, no clone is
    /// writing, so a process that exits next leaves no half-written entry or lock behind.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let workers = std::mem::take(&mut *self.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for worker in workers {
            let _ = worker.join();
        }
    }

    /// Waits for the clone of `spec` (cloning it on this thread when it was never queued)
    /// and hands over its lock: the entry stays locked until the returned guard drops.
    pub fn take(&self, spec: &RemoteSpec, branch: &str) -> Result<(Prepared, EntryLock), Error> {
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if !slots.contains_key(&spec.url) {
            drop(slots);
            let result = self.prepare(spec, branch);
            if let Ok((p, _)) = &result {
                self.prepared
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(spec.url.clone(), p.clone());
            }
            return result;
        }
        loop {
            match slots.get_mut(&spec.url) {
                Some(slot @ Some(_)) => {
                    return slot.take().unwrap_or_else(|| {
                        Err(RemoteError::Stopped {
                            why: "internal: clone taken twice",
                        }
                        .into())
                    });
                }
                Some(None) => {
                    slots = self.ready.wait(slots).unwrap_or_else(|p| p.into_inner());
                }
                None => {
                    return Err(RemoteError::Stopped {
                        why: "internal: clone slot vanished",
                    }
                    .into());
                }
            }
        }
    }

    /// Keeps an entry's lock until this cache is dropped, so the push after the run still
    /// finds the clone as the run left it.
    pub fn hold(&self, lock: EntryLock) {
        self.held
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(lock);
    }

    /// What was prepared for `url` in this run, for the push and pull request stages.
    pub fn prepared(&self, url: &str) -> Option<Prepared> {
        self.prepared
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(url)
            .cloned()
    }

    /// Clones or fetches one remote under the entry's lock: the base branch (shallow), and
    /// the run branch when the remote has it, which becomes the local run branch so a re-run
    /// on a fresh machine sees the commits already pushed.
    fn prepare(&self, spec: &RemoteSpec, branch: &str) -> Result<(Prepared, EntryLock), Error> {
        let creds = &self.options.credentials;
        let started = std::time::Instant::now();
        let path = self.entry(&spec.url);
        let parent = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, &e))?;
        let lock = EntryLock::take(&path.with_extension("lock"), &spec.url, creds)?;
        sweep_stale_clones(&path);
        let advertised = remote::ls_remote(&spec.url, creds)?;
        let (base_ref, base_branch) = pick_base(spec, &advertised, creds)?;
        let run_ref = format!("refs/heads/{branch}");
        let remote_tip = advertised.get(&run_ref);
        let mut refspecs = vec![format!(
            "+{base_ref}:refs/remotes/origin/{}",
            base_ref
                .trim_start_matches("refs/heads/")
                .trim_start_matches("refs/")
        )];
        if remote_tip.is_some() && run_ref != base_ref {
            refspecs.push(format!("+{run_ref}:refs/remotes/origin/{branch}"));
        }
        let depth = spec.depth.unwrap_or(self.options.depth);
        let cloned = !path.join("HEAD").is_file();
        let how = Fetch {
            refspecs: &refspecs,
            depth,
            creds,
            cancel: &self.stop,
        };
        let repo = if cloned {
            clone(&path, &spec.url, &how)?
        } else {
            fetch(&path, &spec.url, &how)?
        };
        let base = advertised.get(&base_ref).ok_or_else(|| {
            Error::from(RemoteError::Stopped {
                why: "internal: base ref vanished",
            })
        })?;
        let (base, codefleet_only) = settle(&repo, &path, base, &run_ref, remote_tip)?;
        tracing::info!(
            "{} {} ({base_branch} at {}) in {} ms",
            if cloned { "cloned" } else { "fetched" },
            creds.redact(&spec.url),
            &base.to_string()[..10],
            started.elapsed().as_millis()
        );
        Ok((
            Prepared {
                path,
                url: spec.url.clone(),
                base_branch,
                remote_tip,
                cloned,
                codefleet_only,
            },
            lock,
        ))
    }
}

/// What a clone or fetch of an entry takes: the refs, the depth, the credentials, and the flag
/// that cancels it.
struct Fetch<'a> {
    refspecs: &'a [String],
    depth: u32,
    creds: &'a Credentials,
    cancel: &'a AtomicBool,
}

/// The prefix of the temporary directories `clone` makes for the entry at `path`.
fn clone_prefix(path: &Path) -> String {
    let name = path.file_name().map(|n| n.to_string_lossy().into_owned());
    format!(".clone-{}-", name.unwrap_or_default())
}

/// Removes the temporary clones of the entry at `path` that a process killed mid-clone left
/// (the caller holds the entry's lock, so no live clone of it is among them).
fn sweep_stale_clones(path: &Path) {
    let (Some(parent), prefix) = (path.parent(), clone_prefix(path)) else {
        return;
    };
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// A new entry at `path`: cloned into a temporary directory and renamed into place, so a failed
/// clone never leaves a half entry behind.
fn clone(path: &Path, url: &str, how: &Fetch) -> Result<git2::Repository, Error> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let tmp = tempfile::Builder::new()
        .prefix(&clone_prefix(path))
        .tempdir_in(parent)
        .map_err(|e| Error::io(parent, &e))?;
    let repo = git2::Repository::init_bare(tmp.path()).map_err(|e| git(path, &e))?;
    repo.remote_with_fetch("origin", url, "+refs/heads/*:refs/remotes/origin/*")
        .map_err(|e| git(path, &e))?;
    remote::fetch(&repo, url, how.refspecs, how.depth, how.creds, how.cancel)?;
    drop(repo);
    let tmp = tmp.keep();
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, &e))?;
    git2::Repository::open_bare(path).map_err(|e| git(path, &e))
}

/// The existing entry at `path`, fetched again.
fn fetch(path: &Path, url: &str, how: &Fetch) -> Result<git2::Repository, Error> {
    let repo = git2::Repository::open_bare(path).map_err(|e| git(path, &e))?;
    if repo.find_remote("origin").is_err() {
        repo.remote("origin", url).map_err(|e| git(path, &e))?;
    }
    remote::fetch(&repo, url, how.refspecs, how.depth, how.creds, how.cancel)?;
    Ok(repo)
}

/// Points the fetched entry's HEAD at the base commit and its run branch at the remote's
/// (`remote_tip`); returns the base commit and whether that branch holds only codefleet's
/// commits.
fn settle(
    repo: &git2::Repository,
    path: &Path,
    base: git2::Oid,
    run_ref: &str,
    remote_tip: Option<git2::Oid>,
) -> Result<(git2::Oid, bool), Error> {
    let base = repo
        .find_object(base, None)
        .and_then(|o| o.peel_to_commit())
        .map_err(|e| git(path, &e))?
        .id();
    repo.set_head_detached(base).map_err(|e| git(path, &e))?;
    let Some(tip) = remote_tip else {
        return Ok((base, false));
    };
    // The remote's run branch is the truth: someone's commits there must be seen.
    repo.reference(run_ref, tip, true, "codefleet: the remote's run branch")
        .map_err(|e| git(path, &e))?;
    Ok((base, only_codefleet_commits(repo, tip, base)))
}

/// Whether every commit on `tip` that `base` lacks (as far as a shallow clone has them) carries
/// codefleet's `Codefleet-Run` trailer.
fn only_codefleet_commits(repo: &git2::Repository, tip: git2::Oid, base: git2::Oid) -> bool {
    let Ok(mut walk) = repo.revwalk() else {
        return false;
    };
    if walk.push(tip).is_err() {
        return false;
    }
    let _ = walk.hide(base);
    let mut seen = 0;
    for id in walk {
        let Ok(commit) = id.and_then(|id| repo.find_commit(id)) else {
            return false;
        };
        if !commit
            .message()
            .unwrap_or_default()
            .contains("\nCodefleet-Run: ")
        {
            return false;
        }
        seen += 1;
        if seen > 1000 {
            return false;
        }
    }
    true
}

/// The ref to start from: `ref:` as a branch or tag, else the remote's HEAD.
fn pick_base(
    spec: &RemoteSpec,
    advertised: &Advertised,
    creds: &Credentials,
) -> Result<(String, String), Error> {
    let url = creds.redact(&spec.url);
    if advertised.refs.is_empty() {
        return Err(RemoteError::Empty {
            url: url.to_string(),
        }
        .into());
    }
    if let Some(r) = &spec.git_ref {
        let short = r.trim_start_matches("refs/heads/");
        for candidate in [
            format!("refs/heads/{short}"),
            format!("refs/tags/{short}"),
            r.clone(),
        ] {
            if advertised.get(&candidate).is_some() {
                return Ok((candidate, short.to_string()));
            }
        }
        return Err(RemoteError::NoRef {
            url: url.to_string(),
            git_ref: r.clone(),
        }
        .into());
    }
    let head = advertised
        .head
        .clone()
        .filter(|h| advertised.get(h).is_some())
        .or_else(|| {
            ["refs/heads/main", "refs/heads/master"]
                .iter()
                .find(|n| advertised.get(n).is_some())
                .map(|n| n.to_string())
        })
        .ok_or_else(|| {
            Error::from(RemoteError::NoDefault {
                url: url.to_string(),
            })
        })?;
    let short = head.trim_start_matches("refs/heads/").to_string();
    Ok((head, short))
}

fn git(path: &Path, e: &git2::Error) -> Error {
    RemoteError::Damaged {
        entry: path.to_path_buf(),
        why: e.message().to_string(),
    }
    .into()
}

/// FNV-1a, 64 bits: a stable hash (std's is seeded per process).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The lock on one cache entry, `<entry>.lock`, holding the owner's pid; released on drop. A
/// lock whose process is gone from this host is taken over.
#[derive(Debug)]
pub struct EntryLock {
    path: PathBuf,
    pid: String,
}

impl EntryLock {
    fn take(path: &Path, url: &str, creds: &Credentials) -> Result<EntryLock, Error> {
        let pid = format!("{}\n", std::process::id());
        for _ in 0..2 {
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(path)
            {
                Ok(mut f) => {
                    use std::io::Write;
                    f.write_all(pid.as_bytes())
                        .map_err(|e| Error::io(path, &e))?;
                    return Ok(EntryLock {
                        path: path.to_path_buf(),
                        pid,
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                    let holder = std::fs::read_to_string(path).unwrap_or_default();
                    let alive = holder.trim().parse::<u32>().ok().is_none_or(|p| {
                        !cfg!(target_os = "linux") || Path::new(&format!("/proc/{p}")).exists()
                    });
                    if alive {
                        return Err(RemoteError::InUse {
                            url: creds.redact(url).to_string(),
                            holder: holder.trim().to_string(),
                            lock: path.to_path_buf(),
                        }
                        .into());
                    }
                    let _ = std::fs::remove_file(path);
                }
                Err(e) => return Err(Error::io(path, &e)),
            }
        }
        Err(RemoteError::LockChanged.into())
    }
}

impl Drop for EntryLock {
    fn drop(&mut self) {
        if std::fs::read_to_string(&self.path).is_ok_and(|s| s == self.pid) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_last_segment() {
        assert_eq!(repo_name("https://github.com/acme/billing.git"), "billing");
        assert_eq!(repo_name("git@github.com:acme/api"), "api");
        assert_eq!(repo_name("file:///srv/git/x.git/"), "x");
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
    }
}
