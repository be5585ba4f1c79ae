#![no_main]
//! Fuzzes parsing and applying unified diffs, both as a model reply (fenced) and as a patch
//! file read whole; the first byte chooses which.

#[path = "common.rs"]
mod common;

use codefleet::coders::{Format, UdiffInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else { return };
    let input = if first & 1 == 0 { UdiffInput::Reply } else { UdiffInput::PatchFile };
    common::run(Format::Udiff, input, rest);
});
