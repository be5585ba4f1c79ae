//! A fast, non-cryptographic hasher for the maps keyed by repository paths that a run looks up
//! once or more per file (the overlay, the index snapshot). std's SipHash resists crafted
//! collisions at several times the cost; these maps hold paths of the repositories being
//! edited, looked up tens of thousands of times per task, where that cost shows.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A `HashMap` with [`PathHasher`].
pub type PathMap<K, V> = HashMap<K, V, BuildHasherDefault<PathHasher>>;

/// Multiply-rotate hashing over 8-byte words (the scheme of rustc's FxHasher).
#[derive(Debug, Default, Clone, Copy)]
pub struct PathHasher(u64);

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl PathHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for PathHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, n: u8) {
        self.add(u64::from(n));
    }

    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_that_differ_in_any_byte_hash_apart() {
        let hash = |s: &str| {
            let mut h = PathHasher::default();
            h.write(s.as_bytes());
            h.finish()
        };
        let paths = [
            "a",
            "b",
            "src/main.rs",
            "src/main.rt",
            "src/mainXrs",
            "12345678",
            "123456789",
        ];
        for (i, a) in paths.iter().enumerate() {
            for b in &paths[i + 1..] {
                assert_ne!(hash(a), hash(b), "{a} {b}");
            }
        }
        let mut map: PathMap<String, usize> = PathMap::default();
        for (i, p) in paths.iter().enumerate() {
            map.insert(p.to_string(), i);
        }
        assert_eq!(map.get("src/main.rt"), Some(&3));
    }
}
