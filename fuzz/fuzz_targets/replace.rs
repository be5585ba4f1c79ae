#![no_main]
//! Fuzzes the replace coder: the input holds a pattern, a replacement and a haystack separated
//! by 0xFF bytes; the first byte picks literal or regex and a max count.

use codefleet::coders::replace::{ReplaceOptions, Replacer};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let mut parts = rest.splitn(3, |&b| b == 0xFF);
    let (Some(find), Some(with), Some(hay)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let opts = ReplaceOptions {
        regex: mode & 1 == 1,
        case_insensitive: mode & 2 == 2,
        max_count: if mode & 4 == 4 { Some(usize::from(mode >> 4)) } else { None },
        ..ReplaceOptions::default()
    };
    let (find, with) = (String::from_utf8_lossy(find), String::from_utf8_lossy(with));
    if let Ok(r) = Replacer::new(&find, &with, opts) {
        if let Some((_, count)) = r.replace(hay) {
            assert!(count > 0, "a result with zero replacements");
        }
    }
});
