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
        codefleet(&[command, "--help"])
            .succeeds_quietly()
            .prints(&format!("Usage: codefleet {command}"));
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
        codefleet(args).exits(2).says(says).prints_nothing();
    }
}

#[test]
fn version_names_the_crate_version() {
    let ran = codefleet(&["--version"]).succeeds_quietly();
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
        let ran = codefleet(&["validate", arg(&path)])
            .exits(2)
            .prints_nothing();
        // The snapshots show paths relative to the fixtures directory, where the binary ran.
        let shown = ran.stderr.replace(&format!("{}/", arg(&dir)), "");
        assert_eq!(shown, want, "{name}");
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} invalid pipelines");
}

#[test]
fn the_valid_pipeline_validates() {
    codefleet(&["validate", arg(&fixtures("valid").join("all-kinds.yml"))]).exits(0);
}

#[test]
fn schema_prints_json_schemas_of_the_pipeline_and_the_report() {
    for args in [&["schema"][..], &["schema", "--report"][..]] {
        let ran = codefleet(args).succeeds_quietly();
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
    codefleet(&["init", arg(&pipeline)]).exits(0);
    let written = std::fs::read(&pipeline).expect("init wrote the pipeline");
    codefleet(&["validate", arg(&pipeline)]).exits(0);
    // A second init refuses to overwrite it.
    codefleet(&["init", arg(&pipeline)])
        .exits(2)
        .says("already exists");
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
    let ran = codefleet(&["apply", "--dry-run", "-C", arg(dir.path()), arg(&reply)])
        .exits(0)
        .says("note: dry run: nothing was written");
    assert_eq!(
        ran.stdout,
        "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,3 +1,4 @@\n+import math\n from flask import Flask\n \n app = Flask(__name__)\n"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("src/app.py")).expect("read"),
        app
    );
}
