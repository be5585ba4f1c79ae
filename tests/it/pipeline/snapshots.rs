//! Every `tests/fixtures/invalid/NN-name.yml` is validated by the real binary; its stderr must
//! equal `NN-name.stderr`, the exit code must be 2, stdout empty, and the number of diagnostics
//! must be the `# problems: N` on the fixture's first line (one diagnostic per problem).
//! `BLESS=1 cargo test --test it pipeline::` rewrites the snapshots.

use std::fmt::Write as _;

use super::util::{codefleet, fixtures, yml_files};

#[test]
fn invalid_pipelines_match_their_snapshots() {
    let dir = fixtures("invalid");
    let bless = std::env::var_os("BLESS").is_some_and(|v| v == "1");
    let files = yml_files(&dir);
    assert!(files.len() >= 20, "expected at least 20 broken pipelines");
    let mut failures = String::new();
    for file in &files {
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        let bytes = std::fs::read(file).unwrap();
        let first_line = String::from_utf8_lossy(bytes.split(|b| *b == b'\n').next().unwrap());
        let expected_problems: usize = first_line
            .strip_prefix("# problems: ")
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or_else(|| panic!("{name}: first line must be `# problems: N`"));

        let run = codefleet(&dir, &["validate", &name]);
        if run.code != 2 {
            writeln!(failures, "{name}: exit code {} instead of 2", run.code).unwrap();
        }
        if !run.stdout.is_empty() {
            writeln!(failures, "{name}: unexpected stdout: {}", run.stdout).unwrap();
        }
        if run.stderr.contains("panicked") {
            writeln!(failures, "{name}: panicked:\n{}", run.stderr).unwrap();
        }
        let diagnostics = run
            .stderr
            .lines()
            .filter(|l| l.starts_with("error["))
            .count();
        if diagnostics != expected_problems {
            writeln!(
                failures,
                "{name}: {diagnostics} diagnostics, expected {expected_problems}:\n{}",
                run.stderr
            )
            .unwrap();
        }
        let s = if expected_problems == 1 { "" } else { "s" };
        let summary = format!("error: {expected_problems} problem{s} in 1 pipeline\n");
        if !run.stderr.ends_with(&summary) {
            writeln!(failures, "{name}: stderr does not end with `{summary}`").unwrap();
        }

        let snapshot = file.with_extension("stderr");
        if bless {
            std::fs::write(&snapshot, &run.stderr).unwrap();
            continue;
        }
        match std::fs::read_to_string(&snapshot) {
            Ok(expected) if expected == run.stderr => {}
            Ok(expected) => writeln!(
                failures,
                "{name}: stderr differs from {}\n--- expected\n{expected}--- actual\n{}",
                snapshot.display(),
                run.stderr
            )
            .unwrap(),
            Err(_) => writeln!(
                failures,
                "{name}: snapshot {} is missing (run with BLESS=1 to write it)",
                snapshot.display()
            )
            .unwrap(),
        }
    }
    assert!(failures.is_empty(), "{failures}");
}

#[test]
fn every_snapshot_has_its_pipeline() {
    let dir = fixtures("invalid");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "stderr") {
            assert!(
                path.with_extension("yml").exists(),
                "{} has no pipeline; delete it",
                path.display()
            );
        }
    }
}

#[test]
fn one_pass_reports_every_problem_in_source_order() {
    let dir = fixtures("invalid");
    let run = codefleet(&dir, &["validate", "24-many-problems.yml"]);
    let codes: Vec<&str> = run
        .stderr
        .lines()
        .filter_map(|l| l.strip_prefix("error[")?.split(']').next())
        .collect();
    assert_eq!(
        codes,
        [
            "E016", "E012", "E032", "E030", "E022", "E020", "E034", "E024", "E015"
        ]
    );
    let lines: Vec<usize> = run
        .stderr
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("--> 24-many-problems.yml:"))
        .map(|rest| rest.split(':').next().unwrap().parse().unwrap())
        .collect();
    let mut sorted = lines.clone();
    sorted.sort();
    assert_eq!(lines, sorted);
}
