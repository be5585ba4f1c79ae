//! The differential test against aider, its fixed CI sample: 288 cases (replies generated from
//! the files of the pinned aider venv, aider's own test inputs, real replies from aider's chat
//! history) applied by aider 0.86.2's own coder code and by the real binary
//! (`fuzz/aider-diff/harness.py`). Wherever aider brings a case to its intended result,
//! codefleet must too, unless the case is listed in `fuzz/aider-diff/intended-differences.md`
//! (a **fix** of docs/edit-formats.md) or `fuzz/aider-diff/pending.txt` (an open bug of issue 15).
//!
//! `.ci/run` installs the venv into `target/aider-venv` (`fuzz/aider-diff/install.sh`).
//! Without it the test says so and passes, except under CI (`CI` set), where it fails.
//! The full run is `bench/aider-diff.sh`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::support::fixture;
use fixture::Fixture;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> Option<PathBuf> {
    let venv = root().join("target/aider-venv");
    let ready = venv.join("bin/python").exists() && venv.join("aider-sdist/tests").is_dir();
    ready.then_some(venv)
}

/// Runs a script of the harness with the venv's python in the fixture's clean environment;
/// returns its stdout.
fn python(fx: &Fixture, venv: &Path, script: &str, args: &[&str]) -> String {
    let mut cmd = Command::new(venv.join("bin/python"));
    fx.env(&mut cmd);
    cmd.arg(root().join("fuzz/aider-diff").join(script))
        .args(args)
        .current_dir(root());
    let out = cmd.output().expect("run the venv's python");
    assert!(
        out.status.success(),
        "{script} failed ({}):\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

/// Case ids listed in a file (the first word of a line or of a Markdown list item, backticks
/// ignored), each with the rest of its line.
fn listed(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).expect("read the list");
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim().trim_start_matches("- ").replace('`', " ");
        let mut words = line.split_whitespace();
        let Some(id) = words.next() else {
            continue;
        };
        if ["gen-", "aider-test-", "chat-history-"]
            .iter()
            .any(|p| id.starts_with(p))
        {
            out.insert(id.to_string(), words.collect::<Vec<_>>().join(" "));
        }
    }
    out
}

#[test]
fn codefleet_gets_the_intended_edit_wherever_aider_does() {
    let Some(venv) = venv() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the differential test against aider needs target/aider-venv: run fuzz/aider-diff/install.sh (bash .ci/run does)"
        );
        eprintln!("skipped: no target/aider-venv (fuzz/aider-diff/install.sh installs it)");
        return;
    };
    let fx = Fixture::new();
    let venv_arg = venv.to_str().expect("utf-8 path");
    // The sample: generated from the venv's pinned files only, so it is the same everywhere.
    let mut cases = python(
        &fx,
        &venv,
        "gen.py",
        &[
            "--only-venv",
            "--seed",
            "7",
            "--count",
            "40",
            "--venv",
            venv_arg,
        ],
    );
    cases += &python(
        &fx,
        &venv,
        "inputs.py",
        &["--venv", venv_arg, "--history", "60", "--seed", "7"],
    );
    let cases_path = fx.path("cases.jsonl");
    std::fs::write(&cases_path, &cases).expect("write the cases");
    let results_path = fx.path("results.jsonl");
    let disagreements = fx.path("disagreements.md");
    let summary = python(
        &fx,
        &venv,
        "harness.py",
        &[
            cases_path.to_str().unwrap(),
            "--codefleet",
            env!("CARGO_BIN_EXE_codefleet"),
            "--results",
            results_path.to_str().unwrap(),
            "--disagreements",
            disagreements.to_str().unwrap(),
        ],
    );
    eprintln!("{summary}");

    let results: Vec<Value> = std::fs::read_to_string(&results_path)
        .expect("read the results")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON result"))
        .collect();
    // The sample measures something: every format, and many cases aider gets right.
    assert_eq!(results.len(), 288, "the sample changed size:\n{summary}");
    for format in ["diff", "diff-fenced", "udiff", "whole", "patch"] {
        assert!(
            results.iter().any(|r| r["format"] == format),
            "no {format} case"
        );
    }
    let aider_right = results.iter().filter(|r| r["aider_ok"] == true).count();
    assert!(aider_right > 200, "aider right on only {aider_right} cases");

    let intended = listed(&root().join("fuzz/aider-diff/intended-differences.md"));
    let pending = listed(&root().join("fuzz/aider-diff/pending.txt"));
    let unexplained: Vec<String> = results
        .iter()
        .filter(|r| r["aider_ok"] == true && r["codefleet_ok"] == false)
        .map(|r| r["id"].as_str().expect("id").to_string())
        .filter(|id| !intended.contains_key(id) && !pending.contains_key(id))
        .collect();
    let report = format!(
        "\n{}",
        std::fs::read_to_string(&disagreements).unwrap_or_default()
    );
    assert!(
        unexplained.is_empty(),
        "aider applies the intended edit and codefleet does not, in {} case(s): {}\n\
         fix codefleet, or list the case in fuzz/aider-diff/intended-differences.md (with the \
         **fix** of docs/edit-formats.md it follows) or in fuzz/aider-diff/pending.txt (with its bug)\n\n{}",
        unexplained.len(),
        unexplained.join(", "),
        unexplained
            .iter()
            .filter_map(|id| report.split("\n## ").find(|s| s.starts_with(id.as_str())))
            .collect::<Vec<_>>()
            .join("\n## ")
    );
}
