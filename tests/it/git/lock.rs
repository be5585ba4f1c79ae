//! The per-repository lock: contention names the holder; a dead holder's lock is taken over.

use codefleet::git::LockHolder;

use crate::support::fixture::Fixture;

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .expect("hostname")
}

#[test]
fn a_held_lock_names_its_holder_and_is_released_on_drop() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let repo = f.open();
    let lock = repo.lock().expect("first lock");
    let path = f.root().join(".git/codefleet/lock");
    assert_eq!(lock.path(), path.as_path());
    let holder: LockHolder =
        serde_json::from_slice(&std::fs::read(&path).expect("read")).expect("json");
    assert_eq!(holder.pid, std::process::id());

    let err = f.open().lock().expect_err("contended");
    assert_eq!(err.code, "E212");
    assert!(
        err.message
            .contains(&format!("pid {} on host `{}`", std::process::id(), host())),
        "{}",
        err.message
    );
    assert!(
        err.hint
            .as_deref()
            .is_some_and(|h| h.contains("codefleet/lock"))
    );

    drop(lock);
    assert!(!path.exists());
    let again = repo.lock().expect("lock after release");
    assert!(again.took_over_from.is_none());
}

#[cfg(target_os = "linux")]
#[test]
fn a_lock_whose_process_is_gone_is_taken_over() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let mut child = std::process::Command::new("true").spawn().expect("spawn");
    let dead_pid = child.id();
    child.wait().expect("wait");
    let dir = f.root().join(".git/codefleet");
    std::fs::create_dir_all(&dir).expect("dir");
    let stale = LockHolder {
        pid: dead_pid,
        host: host(),
        started: "2026-11-24T00:00:00Z".into(),
        process_start: None,
    };
    std::fs::write(dir.join("lock"), serde_json::to_vec(&stale).expect("json")).expect("write");
    let lock = f.open().lock().expect("take over");
    assert_eq!(lock.took_over_from, Some(stale));
    assert_eq!(lock.holder().pid, std::process::id());
}

#[test]
fn a_lock_from_another_host_is_respected() {
    let f = Fixture::with_files(&[("a", "1\n")]);
    let dir = f.root().join(".git/codefleet");
    std::fs::create_dir_all(&dir).expect("dir");
    let other = LockHolder {
        pid: 1,
        host: "build-agent-7".into(),
        started: "2026-11-24T00:00:00Z".into(),
        process_start: None,
    };
    std::fs::write(dir.join("lock"), serde_json::to_vec(&other).expect("json")).expect("write");
    let err = f.open().lock().expect_err("held elsewhere");
    assert_eq!(err.code, "E212");
    assert!(err.message.contains("build-agent-7"), "{}", err.message);
    assert!(dir.join("lock").exists());
}
