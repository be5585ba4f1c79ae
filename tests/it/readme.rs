//! The README stays true: its complete pipeline example validates, and the diagnostic it shows
//! is what `codefleet validate` prints for that fixture today.

use std::path::Path;
use std::process::Command;

fn readme() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("read README.md")
}

/// The body of the first fenced block with this info string after `heading`.
fn block_after(text: &str, heading: &str, info: &str) -> String {
    let start = text
        .find(heading)
        .unwrap_or_else(|| panic!("README has no `{heading}`"));
    let rest = &text[start..];
    let open = format!("```{info}\n");
    let body_start = rest
        .find(&open)
        .unwrap_or_else(|| panic!("no ```{info} block after {heading}"))
        + open.len();
    let body = &rest[body_start..];
    let end = body.find("\n```").expect("unclosed block");
    body[..end + 1].to_string()
}

#[test]
fn the_complete_pipeline_example_validates() {
    let yaml = block_after(&readme(), "## Pipelines", "yaml");
    let dir = tempfile::tempdir().expect("temp dir");
    // The files the example names, relative to the pipeline's directory.
    for (path, text) in [
        (
            "patches/timeouts.diff",
            "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n",
        ),
        (
            "edits/rename.md",
            "x\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n",
        ),
        ("repos.txt", "# repositories\n.\n"),
    ] {
        let p = dir.path().join(path);
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(p, text).expect("write");
    }
    let pipeline = dir.path().join("pipeline.yml");
    std::fs::write(&pipeline, yaml).expect("write pipeline");
    let out = Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .args(["validate", "--color", "never"])
        .arg(&pipeline)
        .env_remove("RUST_LOG")
        .output()
        .expect("run codefleet");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn the_diagnostic_shown_is_what_validate_prints() {
    let shown = block_after(
        &readme(),
        "`codefleet validate` reports every problem",
        "text",
    );
    let out = Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .args([
            "validate",
            "--color",
            "never",
            "tests/fixtures/invalid/02-unknown-field.yml",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("RUST_LOG")
        .output()
        .expect("run codefleet");
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(String::from_utf8_lossy(&out.stderr), shown);
}
