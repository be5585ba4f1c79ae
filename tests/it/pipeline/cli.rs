//! `codefleet validate`, `init` and `schema` as a user runs them.

use super::util::{codefleet, fixtures, root, yml_files};

#[test]
fn every_shipped_pipeline_validates() {
    let files = yml_files(&root().join("pipelines"));
    assert!(files.len() >= 3, "pipelines/ holds at least three examples");
    let names: Vec<String> = files
        .iter()
        .map(|f| format!("pipelines/{}", f.file_name().unwrap().to_string_lossy()))
        .collect();
    let mut args = vec!["validate"];
    args.extend(names.iter().map(String::as_str));
    let run = codefleet(&root(), &args);
    assert_eq!(run.stderr, format!("ok: {} pipelines valid\n", files.len()));
    assert_eq!(run.code, 0);
    assert_eq!(run.stdout, "");
}

#[test]
fn the_fixture_with_every_kind_validates() {
    let run = codefleet(&fixtures("valid"), &["validate", "all-kinds.yml"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "ok: 1 pipeline valid\n")
    );
}

#[test]
fn init_writes_a_starter_that_validates_and_never_overwrites() {
    let tmp = tempfile::tempdir().unwrap();
    let run = codefleet(tmp.path(), &["init"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "created pipelines/example.yml\ncheck it with: codefleet validate pipelines/example.yml\n"
    );
    let written = tmp.path().join("pipelines/example.yml");
    let text = std::fs::read_to_string(&written).unwrap();
    assert_eq!(text, codefleet::pipeline::STARTER);
    assert!(text.starts_with("# A codefleet pipeline"));

    let run = codefleet(tmp.path(), &["validate", "pipelines/example.yml"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "ok: 1 pipeline valid\n")
    );

    std::fs::write(&written, "name: mine\n").unwrap();
    let run = codefleet(tmp.path(), &["init"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error[E040]: `pipelines/example.yml` already exists\n --> pipelines/example.yml\n  = help: codefleet init never overwrites; give another path, e.g. `codefleet init pipelines/new.yml`\n"
    );
    assert_eq!(std::fs::read_to_string(&written).unwrap(), "name: mine\n");
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path().join("pipelines"))
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(leftovers.len(), 1, "no temporary files left: {leftovers:?}");
}

#[test]
fn init_creates_parent_directories_for_a_given_path() {
    let tmp = tempfile::tempdir().unwrap();
    let run = codefleet(tmp.path(), &["init", "ci/fleet/rename.yml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let run = codefleet(tmp.path(), &["validate", "ci/fleet/rename.yml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
}

#[test]
fn an_unreadable_pipeline_is_an_io_error() {
    let tmp = tempfile::tempdir().unwrap();
    let run = codefleet(tmp.path(), &["validate", "missing.yml"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error[E001]: cannot read or write `missing.yml`: No such file or directory (os error 2)\n --> missing.yml\n\nerror: 1 problem in 1 pipeline\n"
    );
}

#[test]
fn summary_counts_problems_across_pipelines() {
    let run = codefleet(
        &root(),
        &[
            "validate",
            "tests/fixtures/valid/all-kinds.yml",
            "tests/fixtures/invalid/03-wrong-type.yml",
            "tests/fixtures/invalid/10-bad-regex.yml",
        ],
    );
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .ends_with("\nerror: 4 problems in 2 of 3 pipelines\n"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains(" --> tests/fixtures/invalid/10-bad-regex.yml:5:28\n")
    );
}

#[test]
fn var_flags_override_declared_variables_and_refuse_undeclared_ones() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("p.yml"),
        "name: bump\nvars: { from: '1.0', to: '' }\ntasks:\n  - name: bump\n    replace: { find: '{{ vars.from }}', with: '{{ vars.to }}' }\n",
    )
    .unwrap();
    let run = codefleet(tmp.path(), &["validate", "p.yml", "--var", "to=2.0"]);
    assert_eq!(
        (run.code, run.stderr.as_str()),
        (0, "ok: 1 pipeline valid\n")
    );

    // A typo is a usage error naming the declared variables, not a silent new variable.
    let run = codefleet(tmp.path(), &["validate", "p.yml", "--var", "too=2.0"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "error[E038]: `--var too=2.0`: the pipeline `bump` declares no variable `too`\n --> p.yml:2:7\n"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("= help: did you mean `to`? declared variables: `from`, `to`\n"),
        "{}",
        run.stderr
    );
    // A variable a template uses must be declared: --var cannot introduce one.
    std::fs::write(
        tmp.path().join("q.yml"),
        "name: q\ntasks:\n  - name: t\n    replace: { find: a, with: '{{ vars.x }}' }\n",
    )
    .unwrap();
    let run = codefleet(tmp.path(), &["validate", "q.yml", "--var", "x=1"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("declares no variables; add `vars: { x: ... }`"),
        "{}",
        run.stderr
    );

    let run = codefleet(tmp.path(), &["--var", "to", "validate", "p.yml"]);
    assert_eq!(run.code, 2);
    assert_eq!(
        run.stderr,
        "error[E038]: `--var to` is not KEY=VALUE\n  = help: write it like `--var version=2.0.1`\n"
    );
}

/// `$1_mod` in a regex `with:` asks for a group named `1_mod`, which the regex crate expands
/// to nothing: validation says so and suggests `${1}_mod`.
#[test]
fn a_group_reference_glued_to_a_name_is_refused_with_the_braced_form() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(
        tmp.path().join("p.yml"),
        "name: g\ntasks:\n  - name: t\n    replace: { find: '(\\w+)_old', with: '$1_mod', regex: true }\n",
    )
    .unwrap();
    let run = codefleet(tmp.path(), &["validate", "p.yml"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.starts_with(
            "error[E029]: `$1_mod` in `with` names no group of `find`, so it would be empty\n"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("write `${1}_mod`"), "{}", run.stderr);
    for good in ["${1}_mod", "$1", "$$1_mod", "x$1 y"] {
        std::fs::write(
            tmp.path().join("p.yml"),
            format!("name: g\ntasks:\n  - name: t\n    replace: {{ find: '(\\w+)_old', with: '{good}', regex: true }}\n"),
        )
        .unwrap();
        let run = codefleet(tmp.path(), &["validate", "p.yml"]);
        assert_eq!(run.code, 0, "{good}: {}", run.stderr);
    }
    // Without `regex: true`, `$` is plain text.
    std::fs::write(
        tmp.path().join("p.yml"),
        "name: g\ntasks:\n  - name: t\n    replace: { find: a, with: '$1_mod' }\n",
    )
    .unwrap();
    assert_eq!(codefleet(tmp.path(), &["validate", "p.yml"]).code, 0);
}

/// `validate --json` and `init --json` print one JSON object.
#[test]
fn validate_and_init_print_json_when_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let run = codefleet(tmp.path(), &["init", "--json"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(
        doc,
        serde_json::json!({ "created": "pipelines/example.yml" })
    );

    std::fs::write(tmp.path().join("bad.yml"), "name: b\ntasks: []\n").unwrap();
    let run = codefleet(
        tmp.path(),
        &["validate", "pipelines/example.yml", "bad.yml", "--json"],
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["valid"], false);
    assert_eq!(doc["problems"], 1);
    assert_eq!(doc["pipelines"][0]["valid"], true);
    assert_eq!(doc["pipelines"][0]["path"], "pipelines/example.yml");
    let problem = &doc["pipelines"][1]["problems"][0];
    assert_eq!(problem["file"], "bad.yml");
    assert_eq!(problem["line"], 2);
    assert!(
        problem["code"].as_str().unwrap().starts_with('E'),
        "{problem}"
    );

    let run = codefleet(tmp.path(), &["validate", "pipelines/example.yml", "--json"]);
    assert_eq!(run.code, 0);
    let doc: serde_json::Value = serde_json::from_str(&run.stdout).expect("json");
    assert_eq!(doc["valid"], true);
}

#[test]
fn quiet_hides_the_ok_line_and_verbose_names_each_pipeline() {
    let dir = fixtures("valid");
    let run = codefleet(&dir, &["-q", "validate", "all-kinds.yml"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    let run = codefleet(&dir, &["-v", "validate", "all-kinds.yml"]);
    assert_eq!(
        run.stderr,
        "ok: all-kinds.yml: 8 tasks\nok: 1 pipeline valid\n"
    );
}

#[test]
fn schema_prints_the_generated_schema() {
    let run = codefleet(&root(), &["schema"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed, codefleet::pipeline::schema());
    assert_eq!(printed["title"], "codefleet pipeline");
    assert_eq!(
        printed["$defs"]["TaskFile"]["properties"]["files"]["description"],
        "Globs of the files the task works on, relative to the repository root; default: every\nfile git does not ignore."
    );
}

#[test]
fn schema_report_prints_the_run_report_schema() {
    let run = codefleet(&root(), &["schema", "--report"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let printed: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(printed, codefleet::report::schema());
    assert_eq!(printed["title"], "RunReport");
}

#[test]
fn colour_marks_the_code_and_caret() {
    let dir = fixtures("invalid");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .current_dir(&dir)
        .env_clear()
        .args(["--color", "always", "validate", "10-bad-regex.yml"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.starts_with("\x1b[1;31merror[E030]\x1b[0m"),
        "{stderr}"
    );
    assert!(stderr.contains("\x1b[1;31merror\x1b[0m\x1b[1m: 1 problem in 1 pipeline\x1b[0m"));
}
