//! Atomic writes and deletes. A write goes to a temporary file in the same directory and is
//! renamed over the target, so a reader (or a crash) sees the old file or the new one, never
//! half of one. The target keeps its permissions (the executable bit); a new file gets
//! 0666 less the umask, as `git checkout` would create it.

use std::fs::{self, Metadata, Permissions};
use std::io::{self, Write};
use std::path::Path;

/// Writes `content` to `path` atomically. Permissions are `keep` when given (a rename's old
/// file's, read before it was deleted), else the existing file's, else the umask default.
/// Missing parent directories are created.
pub fn write_atomic(path: &Path, content: &[u8], keep: Option<Permissions>) -> io::Result<()> {
    let existing = fs::symlink_metadata(path).ok().filter(|m| m.is_file());
    write_atomic_over(path, content, keep, existing.as_ref())
}

/// [`write_atomic`] when the caller has just looked the target up: `existing` is its metadata
/// (`None`: no file there yet, and parent directories may be missing). Saves the lookups a
/// bulk apply would otherwise repeat for every file.
pub fn write_atomic_over(
    path: &Path,
    content: &[u8],
    keep: Option<Permissions>,
    existing: Option<&Metadata>,
) -> io::Result<()> {
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if existing.is_none() {
        fs::create_dir_all(parent)?;
    }
    let keep = keep.or_else(|| existing.map(Metadata::permissions));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".codefleet-").suffix(".tmp");
    #[cfg(unix)]
    let new_file_mode = {
        use std::os::unix::fs::PermissionsExt;
        Permissions::from_mode(0o666)
    };
    #[cfg(unix)]
    builder.permissions(new_file_mode);
    let mut tmp = builder.tempfile_in(parent)?;
    tmp.write_all(content)?;
    tmp.flush()?;
    if let Some(perms) = keep
        && !created_with(tmp.as_file(), &perms)
    {
        tmp.as_file().set_permissions(perms)?;
    }
    if existing.is_some() && exchange(tmp.path(), path)? {
        // The temporary name now holds what was there: the old file, which dropping `tmp`
        // deletes. A directory put there since the caller looked goes back, untouched.
        if fs::symlink_metadata(tmp.path()).is_ok_and(|m| m.is_dir()) {
            exchange(tmp.path(), path)?;
            return Err(io::Error::new(
                io::ErrorKind::IsADirectory,
                "it became a directory while it was being written",
            ));
        }
        return Ok(());
    }
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// Swaps `tmp` and `target` in one step (`renameat2(RENAME_EXCHANGE)`): a reader still sees
/// the old file or the new one, never neither. Over a plain rename it saves ext4 the
/// `auto_da_alloc` flush that replacing a file by rename starts (that flush made a bulk
/// apply slower than `git apply`, which unlinks and creates). `Ok(false)`: the file system
/// or kernel cannot exchange, or the target has gone; the caller renames instead.
#[cfg(target_os = "linux")]
fn exchange(tmp: &Path, target: &Path) -> io::Result<bool> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let (Ok(from), Ok(to)) = (
        CString::new(tmp.as_os_str().as_bytes()),
        CString::new(target.as_os_str().as_bytes()),
    ) else {
        return Ok(false);
    };
    // SAFETY: both paths are NUL-terminated and outlive the call; the syscall only reads them.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_renameat2,
            libc::AT_FDCWD,
            from.as_ptr(),
            libc::AT_FDCWD,
            to.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        return Ok(true);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EINVAL | libc::ENOSYS | libc::ENOENT | libc::EPERM | libc::EOPNOTSUPP) => {
            Ok(false)
        }
        _ => Err(err),
    }
}

#[cfg(not(target_os = "linux"))]
fn exchange(_tmp: &Path, _target: &Path) -> io::Result<bool> {
    Ok(false)
}

/// Whether a temporary file was created with `perms` already: 0666 less the umask, learnt
/// from the first file this process creates (the umask never changes here), so the common
/// case of keeping a 0644 file's mode costs no `chmod`.
#[cfg(unix)]
fn created_with(file: &fs::File, perms: &Permissions) -> bool {
    use std::os::unix::fs::PermissionsExt;
    use std::sync::OnceLock;
    static CREATED: OnceLock<Option<u32>> = OnceLock::new();
    let created = CREATED.get_or_init(|| file.metadata().ok().map(|m| m.permissions().mode()));
    created.is_some_and(|mode| mode & 0o7777 == perms.mode() & 0o7777)
}

#[cfg(not(unix))]
fn created_with(_file: &fs::File, _perms: &Permissions) -> bool {
    false
}

/// Deletes a file; a file that is already gone is not an error (the end state is the same).
pub fn delete_file(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        fs::write(&path, "old\n").unwrap();
        write_atomic(&path, b"new\n", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["a.txt"]);
    }

    #[test]
    fn creates_parent_directories() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x/y/z.txt");
        write_atomic(&path, b"z", None).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"z");
    }

    #[cfg(unix)]
    #[test]
    fn keeps_the_executable_bit_and_takes_a_renamed_files_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("run.sh");
        fs::write(&script, "#!/bin/sh\n").unwrap();
        fs::set_permissions(&script, Permissions::from_mode(0o755)).unwrap();
        write_atomic(&script, b"#!/bin/sh\necho hi\n", None).unwrap();
        assert_eq!(
            fs::metadata(&script).unwrap().permissions().mode() & 0o777,
            0o755
        );

        let moved = dir.path().join("bin/run");
        let mode = fs::metadata(&script).unwrap().permissions();
        write_atomic(&moved, b"#!/bin/sh\n", Some(mode)).unwrap();
        assert_eq!(
            fs::metadata(&moved).unwrap().permissions().mode() & 0o777,
            0o755
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_private_file_stays_private_after_a_default_one() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let (plain, private) = (dir.path().join("a"), dir.path().join("b"));
        write_atomic(&plain, b"a", None).unwrap();
        let default = fs::metadata(&plain).unwrap().permissions().mode() & 0o777;
        fs::write(&private, "b").unwrap();
        fs::set_permissions(&private, Permissions::from_mode(0o600)).unwrap();
        for _ in 0..2 {
            write_atomic(&plain, b"aa", None).unwrap();
            write_atomic(&private, b"bb", None).unwrap();
        }
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&plain), mode(&private)), (default, 0o600));
    }

    #[test]
    fn a_file_that_became_a_directory_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a");
        fs::write(&path, "old\n").unwrap();
        let looked = fs::symlink_metadata(&path).unwrap();
        fs::remove_file(&path).unwrap();
        fs::create_dir(&path).unwrap();
        fs::write(path.join("inside"), "kept\n").unwrap();
        assert!(write_atomic_over(&path, b"new\n", None, Some(&looked)).is_err());
        assert_eq!(fs::read(path.join("inside")).unwrap(), b"kept\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["a"]);
    }

    #[test]
    fn deleting_a_missing_file_is_fine() {
        let dir = tempfile::tempdir().unwrap();
        delete_file(&dir.path().join("gone")).unwrap();
    }
}
