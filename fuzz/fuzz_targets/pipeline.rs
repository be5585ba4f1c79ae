#![no_main]
//! Fuzzes the pipeline loader: any bytes load or give errors that render, never a panic.

use std::path::Path;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(errors) =
        codefleet::pipeline::load_str(&text, Path::new("/nonexistent/fuzz.yml"), &[])
    {
        for e in errors {
            let _ = e.render(false);
        }
    }
});
