// Shared by the edit-format targets: the input is split at the first 0xFF byte into the text of
// one known file (`src/app.py`, plus a CRLF twin and a file without a final newline) and the
// reply, so the fuzzer drives parsing and applying together against files it chooses.

use codefleet::coders::{ApplyOptions, Format, MemFiles, UdiffInput, parse_and_apply};

pub fn run(format: Format, udiff: UdiffInput, data: &[u8]) {
    let (file, reply) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    let reply = String::from_utf8_lossy(reply);
    let mut files = MemFiles::new();
    files.files.insert("src/app.py".to_string(), file.to_vec());
    let crlf: Vec<u8> = String::from_utf8_lossy(file).replace('\n', "\r\n").into_bytes();
    files.files.insert("src/crlf.txt".to_string(), crlf);
    let mut no_eol = file.to_vec();
    while no_eol.last() == Some(&b'\n') {
        no_eol.pop();
    }
    files.files.insert("lib/no_eol.rs".to_string(), no_eol);
    files.deny.push(".git/".to_string());
    let opts = ApplyOptions { udiff, ..ApplyOptions::default() };
    let outcome = parse_and_apply(format, &reply, &files, &opts);
    // Every report is consistent with the outcome: failures come with feedback.
    if !outcome.all_applied() {
        assert!(outcome.feedback.is_some(), "failed edits without feedback");
    }
}
