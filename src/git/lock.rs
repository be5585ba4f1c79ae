//! The per-repository lock, `<git common dir>/codefleet/lock`: one codefleet run (or rollback)
//! per repository at a time. The file names its holder (pid, host, start time); a lock whose
//! process is gone from this host is stale and taken over with a warning. Released on drop.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::error::Error;

use super::errors;
use super::repo::Repo;
use super::run_id::rfc3339_utc;

/// Who holds a lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    /// Process id.
    pub pid: u32,
    /// Host name.
    pub host: String,
    /// RFC 3339 UTC time the lock was taken.
    pub started: String,
    /// The process's start time in clock ticks since boot (Linux), to tell a reused pid apart.
    #[serde(default)]
    pub process_start: Option<u64>,
}

impl std::fmt::Display for LockHolder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "pid {} on host `{}` since {}",
            self.pid, self.host, self.started
        )
    }
}

impl LockHolder {
    /// This process, now.
    pub fn current() -> LockHolder {
        LockHolder {
            pid: std::process::id(),
            host: host_name(),
            started: rfc3339_utc(SystemTime::now()),
            process_start: process_start(std::process::id()),
        }
    }

    /// True when the holder ran on this host and its process is gone (or its pid now belongs
    /// to a process started at another time). Other hosts' holders are never stale.
    pub fn is_stale(&self) -> bool {
        is_stale(self)
    }
}

/// A held repository lock; dropping it releases the lock.
#[derive(Debug)]
pub struct RepoLock {
    path: PathBuf,
    holder: LockHolder,
    /// The stale holder this lock replaced, for the caller to report.
    pub took_over_from: Option<LockHolder>,
}

impl RepoLock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// This process's entry in the lock file.
    pub fn holder(&self) -> &LockHolder {
        &self.holder
    }
}

impl Drop for RepoLock {
    fn drop(&mut self) {
        // Remove the file only while it is still ours.
        if read_holder(&self.path).is_some_and(|h| h == self.holder) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

impl Repo {
    /// Takes this repository's lock, or fails with `E212` naming the holder. A stale lock (its
    /// process no longer runs on this host) is taken over with a warning.
    pub fn lock(&self) -> Result<RepoLock, Error> {
        let dir = self.codefleet_dir();
        std::fs::create_dir_all(&dir).map_err(|e| errors::io(&dir, &e))?;
        let path = dir.join("lock");
        let me = LockHolder::current();
        if create_with(&path, &me)? {
            sweep_temporaries(&dir);
            return Ok(RepoLock {
                path,
                holder: me,
                took_over_from: None,
            });
        }
        // A lock file is linked into place whole, so one that cannot be read was not written
        // by a running codefleet: it is as stale as a dead holder's.
        let seen = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            // Released between the two looks: try again.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return self.lock(),
            Err(e) => return Err(errors::io(&path, &e)),
        };
        let holder: Option<LockHolder> = serde_json::from_slice(&seen).ok();
        if let Some(h) = &holder
            && !is_stale(h)
        {
            return Err(errors::locked(self.display_path(), &path, &h.to_string()));
        }
        self.take_over(&dir, &path, &me, &seen)?;
        sweep_temporaries(&dir);
        let holder = holder.unwrap_or_else(|| LockHolder {
            pid: 0,
            host: "?".into(),
            started: "an unreadable lock file".into(),
            process_start: None,
        });
        tracing::warn!(
            lock = %path.display(),
            stale = %holder,
            "took over a stale codefleet lock: its process no longer runs"
        );
        clear_ref_locks(self.common_dir());
        Ok(RepoLock {
            path,
            holder: me,
            took_over_from: Some(holder),
        })
    }

    /// Replaces the stale lock file at `path`, whose content was `seen`, by `me`'s. Through a
    /// guard file, so two processes finding the same stale lock do not both remove it and one
    /// of them remove the other's fresh lock. A guard left by a process killed while taking
    /// over is itself stale.
    fn take_over(
        &self,
        dir: &Path,
        path: &Path,
        me: &LockHolder,
        seen: &[u8],
    ) -> Result<(), Error> {
        let guard = dir.join("lock.takeover");
        if !create_with(&guard, me)? {
            let stale_guard = read_holder(&guard).is_none_or(|h| is_stale(&h));
            if !stale_guard || {
                let _ = std::fs::remove_file(&guard);
                !create_with(&guard, me)?
            } {
                return Err(errors::locked(
                    self.display_path(),
                    &guard,
                    "another process is taking over a stale lock",
                ));
            }
        }
        let result = (|| {
            if std::fs::read(path).unwrap_or_default() != seen {
                return Err(errors::locked(
                    self.display_path(),
                    path,
                    "the lock changed hands while checking it",
                ));
            }
            std::fs::remove_file(path).map_err(|e| errors::io(path, &e))?;
            if !create_with(path, me)? {
                return Err(errors::locked(
                    self.display_path(),
                    path,
                    "another process took the lock",
                ));
            }
            Ok(())
        })();
        let _ = std::fs::remove_file(&guard);
        result
    }
}

/// Creates `path` with the holder's JSON in it, atomically: the content is written to a
/// temporary file first and hard-linked into place, so no reader ever sees an empty lock.
/// `Ok(false)` when the file already exists.
fn create_with(path: &Path, holder: &LockHolder) -> Result<bool, Error> {
    let dir = path.parent().unwrap_or(Path::new("."));
    // The pid in the name lets a later run tell a temporary file of a killed process.
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".lock-{}-", std::process::id()))
        .tempfile_in(dir)
        .map_err(|e| errors::io(dir, &e))?;
    let json = serde_json::to_vec(holder).unwrap_or_default();
    // Not synced: a lock only matters while its holder lives, and after a crash it is stale
    // whatever it holds (the next run takes it over by the holder's pid).
    tmp.write_all(&json)
        .map_err(|e| errors::io(tmp.path(), &e))?;
    match std::fs::hard_link(tmp.path(), path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(errors::io(path, &e)),
    }
}

/// Removes the ref lock files (`refs/**.lock`, `packed-refs.lock`) a codefleet killed while
/// moving a branch leaves behind: git (and libgit2) refuse to touch that ref again while one
/// exists. Called only on taking over a dead holder's lock, so the process that made them is
/// gone; a git command of the user's holds such a lock for milliseconds at most.
fn clear_ref_locks(common: &Path) {
    fn walk(dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            match entry.file_type() {
                Ok(t) if t.is_dir() => walk(&path),
                Ok(t) if t.is_file() && path.extension().is_some_and(|e| e == "lock") => {
                    tracing::warn!(file = %path.display(), "removed a ref lock a killed run left");
                    let _ = std::fs::remove_file(&path);
                }
                _ => {}
            }
        }
    }
    walk(&common.join("refs"));
    let packed = common.join("packed-refs.lock");
    if packed.exists() {
        tracing::warn!(file = %packed.display(), "removed a ref lock a killed run left");
        let _ = std::fs::remove_file(&packed);
    }
}

/// Removes the temporary lock files (`.lock-PID-…`) of processes that no longer run: a process
/// killed between writing one and linking it into place leaves it behind. Called with the
/// lock held; files without a pid in the name go once they are an hour old.
fn sweep_temporaries(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name.to_str().and_then(|n| n.strip_prefix(".lock-")) else {
            continue;
        };
        let dead = match rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) {
            Some(pid) => pid != std::process::id() && process_alive(pid) == Some(false),
            None => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age.as_secs() > 3600),
        };
        if dead {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn read_holder(path: &Path) -> Option<LockHolder> {
    let bytes = std::fs::read(path).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// A lock is stale when it was taken on this host by a process that no longer runs (or whose
/// pid now belongs to a process started at another time). Locks from other hosts are never
/// stale: we cannot see their processes.
fn is_stale(holder: &LockHolder) -> bool {
    if holder.host != host_name() {
        return false;
    }
    match process_alive(holder.pid) {
        Some(false) => true,
        Some(true) => match (holder.process_start, process_start(holder.pid)) {
            (Some(then), Some(now)) => then != now,
            _ => false,
        },
        None => false,
    }
}

/// Whether a process runs on this host; `None` when this platform cannot tell.
fn process_alive(pid: u32) -> Option<bool> {
    if cfg!(target_os = "linux") {
        Some(Path::new(&format!("/proc/{pid}")).exists())
    } else {
        None
    }
}

/// Field 22 of `/proc/PID/stat`: when the process started, in clock ticks since boot.
fn process_start(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses; fields after it follow
    // the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            std::fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
        })
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "localhost".to_string())
}
