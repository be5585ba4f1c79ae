//! The command-line surface: version, help, global flags in any position, completions, and the
//! commands that later releases build, which must say so and exit 2.

use std::process::{Command, Output};

fn codefleet(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .args(args)
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run codefleet")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn version_names_the_crate_version() {
    let out = codefleet(&["--version"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        format!("codefleet {}\n", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn help_lists_every_command_and_the_exit_codes() {
    let out = codefleet(&["--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for cmd in [
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
    ] {
        assert!(
            help.contains(&format!("\n  {cmd} ")),
            "`{cmd}` missing from --help:\n{help}"
        );
    }
    assert!(
        help.contains("3 with --check"),
        "exit codes missing from --help:\n{help}"
    );
}

#[test]
fn run_help_shows_its_flags() {
    let out = codefleet(&["run", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = text(&out.stdout);
    for flag in [
        "--dry-run",
        "--check",
        "--base",
        "--checkout",
        "--force",
        "--push",
        "--pr",
    ] {
        assert!(help.contains(flag), "`{flag}` missing from run --help");
    }
}

#[test]
fn push_and_pr_refuse_a_run_that_writes_nothing() {
    for args in [
        &["run", "--push", "--dry-run", "p.yml"][..],
        &["run", "--pr", "--check", "p.yml"],
    ] {
        let out = codefleet(args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = text(&out.stderr);
        assert!(
            err.starts_with("error[E092]: `--push` and `--pr` publish a real run"),
            "{args:?}: {err}"
        );
        assert!(err.contains("help: "), "{args:?} has no hint: {err}");
    }
}

#[test]
fn global_flags_go_before_or_after_the_subcommand() {
    let before = codefleet(&[
        "-q", "--jobs", "3", "--color", "never", "run", "--push", "p.yml",
    ]);
    let after = codefleet(&[
        "run", "--push", "p.yml", "-q", "--jobs", "3", "--color", "never",
    ]);
    assert_eq!(before.status.code(), Some(2));
    assert_eq!(text(&before.stderr), text(&after.stderr));
    assert_eq!(before.status.code(), after.status.code());
}

#[test]
fn unknown_flags_are_usage_errors() {
    let out = codefleet(&["run", "--dry-runn", "p.yml"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--dry-run"),
        "no suggestion: {}",
        text(&out.stderr)
    );
}

#[test]
fn completions_are_generated_for_each_shell() {
    for (shell, marker) in [
        ("bash", "_codefleet()"),
        ("zsh", "#compdef codefleet"),
        ("fish", "complete -c codefleet"),
    ] {
        let out = codefleet(&["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(
            text(&out.stdout).contains(marker),
            "{shell} completions lack `{marker}`"
        );
    }
}
