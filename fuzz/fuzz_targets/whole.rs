#![no_main]
//! Fuzzes parsing and applying the `whole` edit format (see common.rs for the input layout).

#[path = "common.rs"]
mod common;

use codefleet::coders::{Format, UdiffInput};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| common::run(Format::Whole, UdiffInput::Auto, data));
