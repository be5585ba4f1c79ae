//! Quick tests of the commands that print and exit, called in-process through
//! `codefleet::cli::main_with_args` with byte buffers (no process to start): help and usage
//! errors, `validate`, `schema`, `init` and `apply --dry-run`. The real binary's behaviour is
//! the same code; the end-to-end topics keep running it.

use std::path::{Path, PathBuf};

use crate::support::in_process::{arg, codefleet};

const COMMANDS: [&str; 11] = [
    "run",
    "plan",
    "validate",
    "apply",
    "runs",
    "show",
    "rollback",
    "schema",
    "init",
    "config",
    "completions",
];

fn fixtures(dir: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(dir)
}

#[test]
fn every_command_has_help_naming_its_usage() {
    for command in COMMANDS {
        let ran = codefleet(&[command, "--help"]);
        assert_eq!(ran.code, 0, "{command} --help: {}", ran.stderr);
        assert!(
            ran.stdout.contains(&format!("Usage: codefleet {command}")),
            "{command} --help:\n{}",
            ran.stdout
        );
        assert!(ran.stderr.is_empty(), "{command} --help: {}", ran.stderr);
    }
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    for (args, says) in [
        (
            &["--no-such-flag"][..],
            "unexpected argument '--no-such-flag'",
        ),
        (&["frobnicate"][..], "unrecognized subcommand 'frobnicate'"),
        (&["validate"][..], "required arguments were not provided"),
        (
            &["apply", "--format"][..],
            "a value is required for '--format",
        ),
    ] {
        let ran = codefleet(args);
        assert_eq!(ran.code, 2, "{args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(says), "{args:?}:\n{}", ran.stderr);
        assert!(ran.stdout.is_empty(), "{args:?}: {}", ran.stdout);
    }
}

#[test]
fn version_names_the_crate_version() {
    let ran = codefleet(&["--version"]);
    assert_eq!(ran.code, 0);
    assert_eq!(
        ran.stdout,
        format!("codefleet {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn invalid_pipelines_print_their_snapshots() {
    let dir = fixtures("invalid");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).expect("fixtures").flatten() {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "yml") {
            continue;
        }
        let name = path
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        let want = std::fs::read_to_string(path.with_extension("stderr")).expect("snapshot");
        let ran = codefleet(&["validate", arg(&path)]);
        assert_eq!(ran.code, 2, "{name}: {}", ran.stderr);
        // The snapshots show paths relative to the fixtures directory, where the binary ran.
        let shown = ran.stderr.replace(&format!("{}/", arg(&dir)), "");
        assert_eq!(shown, want, "{name}");
        assert!(ran.stdout.is_empty(), "{name}: {}", ran.stdout);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} invalid pipelines");
}

#[test]
fn the_valid_pipeline_validates() {
    let ran = codefleet(&["validate", arg(&fixtures("valid").join("all-kinds.yml"))]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

#[test]
fn schema_prints_json_schemas_of_the_pipeline_and_the_report() {
    for args in [&["schema"][..], &["schema", "--report"][..]] {
        let ran = codefleet(args);
        assert_eq!(ran.code, 0, "{args:?}: {}", ran.stderr);
        let schema: serde_json::Value =
            serde_json::from_str(&ran.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert!(schema["$schema"].is_string(), "{args:?}: {schema}");
        assert!(schema["properties"].is_object(), "{args:?}: {schema}");
    }
}

#[test]
fn init_writes_a_starter_pipeline_that_validates_and_keeps_an_existing_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pipeline = dir.path().join("pipelines/example.yml");
    let ran = codefleet(&["init", arg(&pipeline)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let written = std::fs::read(&pipeline).expect("init wrote the pipeline");
    let ran = codefleet(&["validate", arg(&pipeline)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    // A second init refuses to overwrite it.
    let ran = codefleet(&["init", arg(&pipeline)]);
    assert_ne!(ran.code, 0, "init overwrote {}", pipeline.display());
    assert_eq!(std::fs::read(&pipeline).expect("still there"), written);
}

#[test]
fn apply_dry_run_prints_the_diff_and_writes_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = "from flask import Flask\n\napp = Flask(__name__)\n";
    std::fs::create_dir_all(dir.path().join("src")).expect("mkdir");
    std::fs::write(dir.path().join("src/app.py"), app).expect("write");
    let reply = dir.path().join("reply.md");
    std::fs::write(
        &reply,
        "src/app.py\n```python\n<<<<<<< SEARCH\nfrom flask import Flask\n=======\nimport math\nfrom flask import Flask\n>>>>>>> REPLACE\n```\n",
    )
    .expect("write reply");
    let ran = codefleet(&["apply", "--dry-run", "-C", arg(dir.path()), arg(&reply)]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert_eq!(
        ran.stdout,
        "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,3 +1,4 @@\n+import math\n from flask import Flask\n \n app = Flask(__name__)\n"
    );
    assert!(ran.stderr.contains("note: dry run: nothing was written"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/app.py")).expect("read"),
        app
    );
}
