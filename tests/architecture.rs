//! The direction of dependencies, enforced: `cli` is imported by nobody, and `coders` touches
//! neither the file system, processes, nor git (README.md, Design notes).

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Lines of code, without comment lines (doc comments may mention anything).
fn code_lines(path: &Path) -> Vec<(usize, String)> {
    let text = std::fs::read_to_string(path).expect("read source");
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim_start().starts_with("//"))
        .map(|(i, l)| (i + 1, l.to_string()))
        .collect()
}

#[test]
fn nothing_outside_cli_depends_on_cli() {
    let cli = src().join("cli");
    let mut offenders = Vec::new();
    for file in rust_files(&src()) {
        if file.starts_with(&cli) || file.ends_with("main.rs") {
            continue;
        }
        for (n, line) in code_lines(&file) {
            if line.contains("crate::cli") || line.contains("super::cli") {
                offenders.push(format!("{}:{n}: {}", file.display(), line.trim()));
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "modules outside cli/ import it:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn coders_are_pure() {
    let forbidden = [
        "std::fs",
        "std::process",
        "std::net",
        "std::env",
        "git2",
        "tempfile",
        "ignore::",
        "crate::workspace",
        "crate::git",
        "crate::exec",
        "crate::plan",
        "crate::llm",
        "crate::cli",
        "File::open",
        "File::create",
    ];
    let mut offenders = Vec::new();
    for file in rust_files(&src().join("coders")) {
        for (n, line) in code_lines(&file) {
            for f in forbidden {
                if line.contains(f) {
                    offenders.push(format!("{}:{n}: uses `{f}`", file.display()));
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "coders/ must stay pure:\n{}",
        offenders.join("\n")
    );
}

#[test]
fn the_checker_sees_every_module() {
    // Guards the two tests above against walking an empty or wrong tree.
    let files = rust_files(&src());
    for module in [
        "cli",
        "coders",
        "pipeline",
        "workspace",
        "git",
        "exec",
        "plan",
        "llm",
        "report",
    ] {
        assert!(
            files.iter().any(|f| f.starts_with(src().join(module))),
            "no source file found under src/{module}"
        );
    }
}
