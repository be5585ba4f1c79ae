//! Blobs written as loose objects by codefleet itself, for the many blobs a large replacement
//! makes: hashed once with the CPU's SHA-1 instructions (OpenSSL's SHA-1, already linked for
//! https) instead of libgit2's collision-detecting SHA-1, which cost a third of the CPU of a
//! kernel-wide run, and deflated with zlib-rs at git's loose-object level (1, as libgit2 and
//! `core.looseCompression` use). The object id is the one `git hash-object` gives: the bytes
//! stored are the same as libgit2's (`blob <size>\0<content>`, deflated); only the compressed
//! encoding may differ, as between any two zlib builds.
//!
//! The file is written the way git writes one: a temporary file in the fan-out directory,
//! read-only, then linked into place (never replacing an object already there), so a reader never sees half an object and a killed run
//! leaves at most a `tmp_obj_*` file (`git gc` removes those). Not used for repositories whose
//! objects need what libgit2 does for them (`core.sharedRepository` permissions); those keep
//! the libgit2 path.

use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::{Compress, Compression, FlushCompress, Status};

/// Where a repository's loose objects go, when codefleet may write them itself.
#[derive(Debug, Clone)]
pub(super) struct Loose {
    objects: PathBuf,
}

impl Loose {
    /// The writer of `repo`'s objects directory, or `None` when libgit2 must write them
    /// (`core.sharedRepository` set: its permissions are libgit2's to apply).
    pub(super) fn of(repo: &git2::Repository) -> Option<Loose> {
        let shared = repo
            .config()
            .ok()
            .and_then(|c| c.get_string("core.sharedRepository").ok())
            .is_some_and(|v| {
                !matches!(
                    v.to_ascii_lowercase().as_str(),
                    "" | "false" | "umask" | "0"
                )
            });
        (!shared).then(|| Loose {
            objects: repo.commondir().join("objects"),
        })
    }

    /// Stores `content` as a blob; returns its id. An object already stored loose is not
    /// written again.
    pub(super) fn write_blob(&self, content: &[u8]) -> io::Result<git2::Oid> {
        let header = format!("blob {}\0", content.len());
        let mut sha = openssl::sha::Sha1::new();
        sha.update(header.as_bytes());
        sha.update(content);
        let digest = sha.finish();
        let id = git2::Oid::from_bytes(&digest).map_err(io::Error::other)?;
        let hex = id.to_string();
        let dir = self.objects.join(&hex[..2]);
        let path = dir.join(&hex[2..]);
        if path.exists() {
            return Ok(id);
        }
        let deflated = deflate(&[header.as_bytes(), content])?;
        let tmp = match write_temporary(&dir, &deflated) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                create_fan_out(&dir)?;
                write_temporary(&dir, &deflated)?
            }
            other => other?,
        };
        // Linked, not renamed, as git does: an object already there (another thread's, or a
        // concurrent git's) is never replaced, and the name appears only once whole.
        let linked = fs::hard_link(&tmp, &path);
        let _ = fs::remove_file(&tmp);
        match linked {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(id),
        }
    }
}

/// `parts` deflated as one zlib stream at level 1, by this thread's compressor (reused: a
/// deflate state per blob is a quarter of a megabyte allocated and freed thousands of times).
pub(super) fn deflate(parts: &[&[u8]]) -> io::Result<Vec<u8>> {
    deflate_after(&[], parts)
}

/// [`deflate`], the stream written after `prefix` in the same buffer (a pack entry's header).
pub(super) fn deflate_after(prefix: &[u8], parts: &[&[u8]]) -> io::Result<Vec<u8>> {
    thread_local! {
        static COMPRESS: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::new(1), true));
    }
    let len: usize = parts.iter().map(|p| p.len()).sum();
    let mut out = Vec::with_capacity(prefix.len() + len / 3 + 64);
    out.extend_from_slice(prefix);
    COMPRESS.with(|c| {
        let mut c = c.borrow_mut();
        c.reset();
        for (i, part) in parts.iter().enumerate() {
            let flush = if i + 1 == parts.len() {
                FlushCompress::Finish
            } else {
                FlushCompress::None
            };
            let mut input = *part;
            loop {
                if out.capacity() - out.len() < 64 {
                    out.reserve(out.capacity().max(4096));
                }
                let before = c.total_in();
                let status = c
                    .compress_vec(input, &mut out, flush)
                    .map_err(io::Error::other)?;
                input = &input[(c.total_in() - before) as usize..];
                match status {
                    Status::StreamEnd => return Ok(()),
                    _ if input.is_empty() && flush == FlushCompress::None => break,
                    _ => {}
                }
            }
        }
        if parts.is_empty() {
            return Err(io::Error::other("nothing to deflate"));
        }
        Ok(())
    })?;
    Ok(out)
}

/// A new read-only file `tmp_obj_<pid>_<n>` in `dir` holding `bytes`; its path.
fn write_temporary(dir: &Path, bytes: &[u8]) -> io::Result<PathBuf> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!("tmp_obj_{}_{n}", std::process::id()));
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(&tmp)?;
    if let Err(e) = file.write_all(bytes) {
        drop(file);
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(tmp)
}

/// The fan-out directory `objects/xx`, made as git makes it (0777 less the umask).
fn create_fan_out(dir: &Path) -> io::Result<()> {
    match fs::create_dir(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode_of(path: &Path) -> io::Result<u32> {
        Ok(fs::metadata(path)?.permissions().mode() & 0o777)
    }

    fn repo() -> (tempfile::TempDir, git2::Repository) {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        (dir, repo)
    }

    #[test]
    fn a_blob_gets_git_s_id_and_reads_back_through_libgit2() {
        let (_dir, repo) = repo();
        let loose = Loose::of(&repo).unwrap();
        for content in [&b""[..], b"hello\n", &vec![b'x'; 1 << 20]] {
            let id = loose.write_blob(content).unwrap();
            assert_eq!(
                id,
                git2::Oid::hash_object(git2::ObjectType::Blob, content).unwrap()
            );
            assert_eq!(repo.find_blob(id).unwrap().content(), content);
            let hex = id.to_string();
            let path = repo.path().join("objects").join(&hex[..2]).join(&hex[2..]);
            assert_eq!(mode_of(&path).unwrap(), 0o444);
            // Written again: the same id, nothing left behind.
            assert_eq!(loose.write_blob(content).unwrap(), id);
            let dir = path.parent().unwrap();
            let names: Vec<_> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().file_name())
                .collect();
            assert_eq!(names, [std::ffi::OsString::from(&hex[2..])]);
        }
    }

    #[test]
    fn deflated_parts_inflate_to_their_concatenation() {
        use std::io::Read;
        for parts in [
            vec![&b"blob 0\0"[..], b""],
            vec![b"a", &vec![7u8; 300_000][..], b"z"],
        ] {
            let deflated = deflate(&parts).unwrap();
            let mut back = Vec::new();
            flate2::read::ZlibDecoder::new(&deflated[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, parts.concat());
        }
    }

    #[test]
    fn a_shared_repository_keeps_libgit2_s_writer() {
        let (_dir, repo) = repo();
        repo.config()
            .unwrap()
            .set_str("core.sharedRepository", "group")
            .unwrap();
        assert!(Loose::of(&repo).is_none());
        repo.config()
            .unwrap()
            .set_str("core.sharedRepository", "false")
            .unwrap();
        assert!(Loose::of(&repo).is_some());
    }
}
