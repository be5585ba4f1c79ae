//! The blobs of a large task written as one pack, as `git fast-import` and `git fetch` write
//! theirs: thousands of loose files cost thousands of file creations (the largest share of a
//! kernel-wide replacement's system time), one pack costs two. Worker threads deflate and hash
//! their blobs in parallel ([`PackWriter::add`]) and append them under a lock; [`finish`]
//! writes the version-2 index and moves both files into `objects/pack/` (the index last: git
//! and libgit2 find a pack by its index), after which every object is readable. Until then
//! nothing is visible: a killed run leaves at most a `tmp_pack_*` file, which `git gc` removes.
//!
//! Objects are stored whole (no deltas), each deflated at git's loose-object level (1). The
//! ids are the ones `git hash-object` gives.
//!
//! [`finish`]: PackWriter::finish

use std::collections::HashSet;
use std::fs;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// A pack being written.
pub struct PackWriter {
    dir: PathBuf,
    loose_left: AtomicUsize,
    state: Mutex<State>,
}

impl std::fmt::Debug for PackWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PackWriter")
            .field("dir", &self.dir)
            .finish()
    }
}

struct State {
    file: Option<io::BufWriter<fs::File>>,
    tmp: PathBuf,
    offset: u64,
    /// Id, CRC-32 of the packed entry, offset.
    entries: Vec<(git2::Oid, u32, u64)>,
    seen: HashSet<git2::Oid>,
    failed: Option<String>,
}

/// What [`PackWriter::finish`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// Objects in the pack.
    pub objects: usize,
    /// The pack's path (`None` when no object was added: nothing is written).
    pub pack: Option<PathBuf>,
}

const HEADER_LEN: u64 = 12;

impl PackWriter {
    /// Blobs a task stores loose before it starts a pack.
    pub const LOOSE_FIRST: usize = 100;

    /// A pack for `objects/pack` of the repository whose common directory is `common_dir`;
    /// nothing is written until the first object.
    pub fn begin(common_dir: &Path) -> PackWriter {
        let dir = common_dir.join("objects").join("pack");
        let tmp = dir.join(format!(
            "tmp_pack_codefleet_{}_{}",
            std::process::id(),
            unique()
        ));
        PackWriter {
            dir,
            loose_left: AtomicUsize::new(Self::LOOSE_FIRST),
            state: Mutex::new(State {
                file: None,
                tmp,
                offset: HEADER_LEN,
                entries: Vec::new(),
                seen: HashSet::new(),
                failed: None,
            }),
        }
    }

    /// Whether the next blob should rather be stored loose: true for the first
    /// [`PackWriter::LOOSE_FIRST`] blobs offered, so that a task changing a few files makes no pack (git
    /// itself keeps fewer than 100 fetched objects loose, `fetch.unpackLimit`).
    pub fn loose_next(&self) -> bool {
        self.loose_left
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }

    /// Adds `content` as a blob (deflated and hashed on the calling thread); its id. A blob
    /// already added, or one `stored` says the repository has, is not added.
    pub fn add(&self, content: &[u8], stored: impl Fn(git2::Oid) -> bool) -> io::Result<git2::Oid> {
        let mut sha = openssl::sha::Sha1::new();
        sha.update(format!("blob {}\0", content.len()).as_bytes());
        sha.update(content);
        let id = git2::Oid::from_bytes(&sha.finish()).map_err(io::Error::other)?;
        if stored(id) {
            return Ok(id);
        }
        let entry =
            super::loose::deflate_after(&entry_header(3, content.len() as u64), &[content])?;
        let crc = zlib_rs::crc32::crc32(0, &entry);
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(why) = &state.failed {
            return Err(io::Error::other(why.clone()));
        }
        if !state.seen.insert(id) {
            return Ok(id);
        }
        let offset = state.offset;
        let written = state.open().and_then(|file| file.write_all(&entry));
        if let Err(e) = written {
            state.failed = Some(e.to_string());
            state.seen.remove(&id);
            return Err(e);
        }
        state.offset += entry.len() as u64;
        state.entries.push((id, crc, offset));
        Ok(id)
    }

    /// Completes the pack: the object count in its header, its checksum, its index; then both
    /// are moved into place. With no object added, the temporary file is removed.
    pub fn finish(self) -> io::Result<Packed> {
        let mut state = self.state.into_inner().unwrap_or_else(|p| p.into_inner());
        let done = match state.file.take() {
            Some(file) => complete(&self.dir, &mut state, file),
            None => Ok(Packed {
                objects: 0,
                pack: None,
            }),
        };
        if !matches!(done, Ok(Packed { pack: Some(_), .. })) {
            let _ = fs::remove_file(&state.tmp);
        }
        done
    }
}

impl State {
    /// The temporary pack file, created with its provisional header on first use.
    fn open(&mut self) -> io::Result<&mut io::BufWriter<fs::File>> {
        if self.file.is_none() {
            let mut file = fs::OpenOptions::new()
                .write(true)
                .read(true)
                .create_new(true)
                .mode(0o444)
                .open(&self.tmp)?;
            file.write_all(&pack_header(0))?;
            self.file = Some(io::BufWriter::with_capacity(1 << 20, file));
        }
        self.file
            .as_mut()
            .ok_or_else(|| io::Error::other("the pack file is not open"))
    }
}

impl Drop for State {
    fn drop(&mut self) {
        // A writer dropped unfinished (a panic, an early return) leaves nothing behind.
        if self.file.is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

fn complete(dir: &Path, state: &mut State, file: io::BufWriter<fs::File>) -> io::Result<Packed> {
    if let Some(why) = &state.failed {
        return Err(io::Error::other(why.clone()));
    }
    let mut file = file.into_inner().map_err(|e| e.into_error())?;
    let objects = state.entries.len();
    if objects == 0 {
        return Ok(Packed {
            objects,
            pack: None,
        });
    }
    let count = u32::try_from(objects).map_err(|_| io::Error::other("too many objects"))?;
    file.seek(SeekFrom::Start(0))?;
    file.write_all(&pack_header(count))?;
    // The checksum covers the whole pack, header included: read it back once.
    file.seek(SeekFrom::Start(0))?;
    let mut sha = openssl::sha::Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        sha.update(&buf[..n]);
    }
    let checksum = sha.finish();
    file.seek(SeekFrom::End(0))?;
    file.write_all(&checksum)?;
    drop(file);
    state.entries.sort_unstable_by_key(|e| e.0);
    let index = index_bytes(&state.entries, &checksum);
    let name = format!("pack-{}", hex(&checksum));
    let idx_tmp = dir.join(format!(
        "tmp_idx_codefleet_{}_{}",
        std::process::id(),
        unique()
    ));
    let written = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o444)
        .open(&idx_tmp)
        .and_then(|mut f| f.write_all(&index));
    if let Err(e) = written {
        let _ = fs::remove_file(&idx_tmp);
        return Err(e);
    }
    let pack = dir.join(format!("{name}.pack"));
    let moved = fs::rename(&state.tmp, &pack)
        .and_then(|()| fs::rename(&idx_tmp, dir.join(format!("{name}.idx"))));
    if let Err(e) = moved {
        let _ = fs::remove_file(&idx_tmp);
        return Err(e);
    }
    Ok(Packed {
        objects,
        pack: Some(pack),
    })
}

/// `PACK`, version 2, the object count.
fn pack_header(count: u32) -> [u8; 12] {
    let mut h = [0u8; 12];
    h[..4].copy_from_slice(b"PACK");
    h[4..8].copy_from_slice(&2u32.to_be_bytes());
    h[8..].copy_from_slice(&count.to_be_bytes());
    h
}

/// An entry's header: the type in bits 4–6 of the first byte, the size in 4 bits there and 7
/// bits in each following byte, the high bit saying another byte follows.
fn entry_header(kind: u8, size: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(10);
    let mut byte = (kind << 4) | (size & 0x0f) as u8;
    let mut rest = size >> 4;
    while rest != 0 {
        out.push(byte | 0x80);
        byte = (rest & 0x7f) as u8;
        rest >>= 7;
    }
    out.push(byte);
    out
}

/// A version-2 pack index of `entries` (sorted by id).
fn index_bytes(entries: &[(git2::Oid, u32, u64)], pack_checksum: &[u8; 20]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + 1024 + entries.len() * 28 + 40);
    out.extend_from_slice(&[0xff, b't', b'O', b'c']);
    out.extend_from_slice(&2u32.to_be_bytes());
    let mut fanout = [0u32; 256];
    for (id, _, _) in entries {
        fanout[id.as_bytes()[0] as usize] += 1;
    }
    let mut total = 0u32;
    for n in fanout {
        total += n;
        out.extend_from_slice(&total.to_be_bytes());
    }
    for (id, _, _) in entries {
        out.extend_from_slice(id.as_bytes());
    }
    for (_, crc, _) in entries {
        out.extend_from_slice(&crc.to_be_bytes());
    }
    let mut large = Vec::new();
    for (_, _, offset) in entries {
        let small = if *offset < 0x8000_0000 {
            *offset as u32
        } else {
            large.push(*offset);
            0x8000_0000 | (large.len() as u32 - 1)
        };
        out.extend_from_slice(&small.to_be_bytes());
    }
    for offset in large {
        out.extend_from_slice(&offset.to_be_bytes());
    }
    out.extend_from_slice(pack_checksum);
    let mut sha = openssl::sha::Sha1::new();
    sha.update(&out);
    out.extend_from_slice(&sha.finish());
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A number no other pack of this process uses.
fn unique() -> u64 {
    use std::sync::atomic::AtomicU64;
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn git(dir: &Path, args: &[&str]) -> String {
        let out = std::process::Command::new("git")
            .args(args)
            .current_dir(dir)
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn git_verifies_the_pack_and_reads_every_blob() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let writer = PackWriter::begin(repo.commondir());
        let contents: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"hello\n".to_vec(),
            vec![b'x'; 20],
            (0..300_000u32).flat_map(|i| i.to_le_bytes()).collect(),
        ];
        let ids: Vec<_> = contents
            .iter()
            .map(|c| writer.add(c, |_| false).unwrap())
            .collect();
        assert_eq!(
            writer.add(&contents[1], |_| false).unwrap(),
            ids[1],
            "added once"
        );
        let packed = writer.finish().unwrap();
        assert_eq!(packed.objects, 4);
        let pack = packed.pack.unwrap();
        let verify = git(dir.path(), &["verify-pack", "-v", pack.to_str().unwrap()]);
        for (id, content) in ids.iter().zip(&contents) {
            assert_eq!(
                *id,
                git2::Oid::hash_object(git2::ObjectType::Blob, content).unwrap()
            );
            assert!(verify.contains(&id.to_string()), "{verify}");
            let shown = std::process::Command::new("git")
                .args(["cat-file", "blob", &id.to_string()])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert_eq!(&shown.stdout, content);
            assert_eq!(repo.find_blob(*id).unwrap().content(), &content[..]);
        }
        git(dir.path(), &["fsck", "--strict"]);
        let left: Vec<_> = fs::read_dir(repo.commondir().join("objects/pack"))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.starts_with("tmp_"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn an_empty_or_dropped_pack_leaves_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let packs = repo.commondir().join("objects/pack");
        let empty = PackWriter::begin(repo.commondir()).finish().unwrap();
        assert_eq!(
            empty,
            Packed {
                objects: 0,
                pack: None
            }
        );
        let dropped = PackWriter::begin(repo.commondir());
        dropped.add(b"x", |_| false).unwrap();
        let known = PackWriter::begin(repo.commondir());
        known.add(b"y", |_| true).unwrap();
        assert_eq!(known.finish().unwrap().objects, 0);
        drop(dropped);
        assert_eq!(fs::read_dir(&packs).unwrap().count(), 0);
    }

    #[test]
    fn sizes_are_encoded_as_git_reads_them() {
        assert_eq!(entry_header(3, 0), [0x30]);
        assert_eq!(entry_header(3, 15), [0x3f]);
        assert_eq!(entry_header(3, 16), [0xb0, 0x01]);
        assert_eq!(entry_header(3, 300_000), [0xb0, 0xbe, 0x92, 0x01]);
    }
}
