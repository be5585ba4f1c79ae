//! Walks `tests/fixtures/coders/<format>/<case>/`: `before/` files, a `reply.md` or
//! `reply.diff`, and `after/` files and/or `expected.txt` (the report, as rendered below). An
//! optional `options.txt` holds `udiff: reply|patch-file`, `deny: PATH`, `fence: OPEN CLOSE`
//! and `allow_shrink: true` lines. Every fixture is checked; failures name the fixture and what
//! differed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use codefleet::coders::{
    ApplyOptions, Change, EditStatus, Fence, Format, MemFiles, Outcome, UdiffInput, parse_and_apply,
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/coders")
}

/// Every file under `dir`, by `/`-separated relative path (`.keep` placeholders skipped).
fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.is_dir() {
        return out;
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read fixture dir") {
            let path = entry.expect("fixture entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.file_name().is_some_and(|n| n != ".keep") {
                let rel = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(rel, std::fs::read(&path).expect("read fixture file"));
            }
        }
    }
    out
}

/// The report as `expected.txt` holds it.
pub fn render(outcome: &Outcome) -> String {
    let mut s = String::new();
    for e in &outcome.edits {
        match &e.status {
            EditStatus::Applied { file, strategy } => s.push_str(&format!(
                "edit {} (line {}) {}: applied to {file} by {strategy}\n",
                e.index, e.line, e.path
            )),
            EditStatus::Failed { reason } => s.push_str(&format!(
                "edit {} (line {}) {}: failed: {reason}\n",
                e.index, e.line, e.path
            )),
        }
    }
    for c in &outcome.changes {
        match c {
            Change::Write {
                path,
                created,
                renamed_from,
                ..
            } => {
                s.push_str(&format!("write {path}"));
                if *created {
                    s.push_str(" (created)");
                }
                if let Some(from) = renamed_from {
                    s.push_str(&format!(" (renamed from {from})"));
                }
                s.push('\n');
            }
            Change::Delete { path } => s.push_str(&format!("delete {path}\n")),
        }
    }
    for c in &outcome.suggested_commands {
        s.push_str(&format!("suggested command:\n{c}\n"));
    }
    if let Some(f) = &outcome.feedback {
        s.push_str("--- feedback\n");
        s.push_str(f);
    }
    s
}

fn show(bytes: &[u8]) -> String {
    format!("{:?}", String::from_utf8_lossy(bytes))
}

/// Runs one fixture; `Err` says what differed.
fn run_fixture(format: Format, dir: &Path) -> Result<(), String> {
    let reply_path = ["reply.md", "reply.diff"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .ok_or("no reply.md or reply.diff")?;
    let reply = std::fs::read_to_string(&reply_path).map_err(|e| e.to_string())?;
    let mut files = MemFiles::new();
    files.files = read_tree(&dir.join("before"));
    let mut opts = ApplyOptions::default();
    if let Ok(o) = std::fs::read_to_string(dir.join("options.txt")) {
        for line in o.lines() {
            match line.split_once(": ") {
                Some(("udiff", "reply")) => opts.udiff = UdiffInput::Reply,
                Some(("udiff", "patch-file")) => opts.udiff = UdiffInput::PatchFile,
                Some(("deny", p)) => files.deny.push(p.to_string()),
                Some(("allow_shrink", "true")) => opts.allow_shrink = true,
                Some(("fence", f)) => {
                    let (open, close) = f.split_once(' ').ok_or("fence: OPEN CLOSE")?;
                    opts.fence = Some(Fence {
                        open: open.to_string(),
                        close: close.to_string(),
                    });
                }
                _ => return Err(format!("bad options line `{line}`")),
            }
        }
    }
    let outcome = parse_and_apply(format, &reply, &files, &opts);
    let rendered = render(&outcome);
    let after_dir = dir.join("after");
    let expected_path = dir.join("expected.txt");
    if !after_dir.exists() && !expected_path.exists() {
        return Err(format!(
            "neither after/ nor expected.txt; the report was:\n{rendered}"
        ));
    }
    let mut problems = Vec::new();
    if after_dir.exists() {
        files.apply(&outcome.changes);
        let want = read_tree(&after_dir);
        for (path, bytes) in &want {
            match files.files.get(path) {
                None => problems.push(format!("{path}: missing, expected {}", show(bytes))),
                Some(got) if got != bytes => problems.push(format!(
                    "{path}:\n  expected {}\n  got      {}",
                    show(bytes),
                    show(got)
                )),
                Some(_) => {}
            }
        }
        for path in files.files.keys() {
            if !want.contains_key(path) {
                problems.push(format!("{path}: exists but after/ does not have it"));
            }
        }
    }
    if expected_path.exists() {
        let want = std::fs::read_to_string(&expected_path).map_err(|e| e.to_string())?;
        // A new fixture may hold `BLESS` to have its report written once, for review.
        if want == "BLESS\n" && std::env::var_os("CODERS_BLESS").is_some() {
            std::fs::write(&expected_path, &rendered).map_err(|e| e.to_string())?;
        } else if want != rendered {
            problems.push(format!(
                "report differs.\n--- expected\n{want}\n--- got\n{rendered}"
            ));
        }
    } else if !outcome.all_applied() {
        problems.push(format!(
            "an edit failed but there is no expected.txt:\n{rendered}"
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("\n"))
    }
}

fn fixture_dirs() -> Vec<(Format, PathBuf)> {
    let mut out = Vec::new();
    for format in Format::ALL {
        let dir = root().join(format.name());
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut cases: Vec<PathBuf> = entries
            .map(|e| e.expect("fixture entry").path())
            .filter(|p| p.is_dir())
            .collect();
        cases.sort();
        out.extend(cases.into_iter().map(|c| (format, c)));
    }
    out
}

/// Runs the fixture `format/case` and panics with what differed.
pub fn check(spec: &str) {
    let (format, case) = spec.split_once('/').expect("format/case");
    let format = Format::from_name(format).expect("a format directory");
    if let Err(why) = run_fixture(format, &root().join(format.name()).join(case)) {
        panic!("fixture {spec} failed:\n{why}");
    }
}

macro_rules! fixture {
    ($test:ident, $spec:literal) => {
        #[test]
        #[allow(non_snake_case)]
        fn $test() {
            super::fixtures::check($spec);
        }
    };
}
pub(crate) use fixture;

#[test]
fn every_fixture_dir_is_listed() {
    // The string literals of the list (rustfmt may wrap a `fixture!` call over lines).
    let listed: Vec<String> = include_str!("fixture_list.rs")
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .flat_map(|l| {
            l.split('"')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    let mut missing = Vec::new();
    for (format, dir) in fixture_dirs() {
        let spec = format!(
            "{}/{}",
            format.name(),
            dir.file_name().unwrap_or_default().to_string_lossy()
        );
        if !listed.contains(&spec) {
            missing.push(format!(
                "fixture!({}__{}, \"{spec}\");",
                format.name().replace('-', "_"),
                dir.file_name().unwrap_or_default().to_string_lossy()
            ));
        }
    }
    assert!(
        missing.is_empty(),
        "add these lines to tests/it/coders/fixture_list.rs:\n{}",
        missing.join("\n")
    );
    assert_eq!(
        listed.len(),
        fixture_dirs().len(),
        "a listed fixture has no directory"
    );
}

#[test]
fn there_are_enough_fixtures() {
    let dirs = fixture_dirs();
    assert!(dirs.len() >= 120, "only {} fixtures", dirs.len());
    for format in Format::ALL {
        let n = dirs.iter().filter(|(f, _)| *f == format).count();
        assert!(n >= 10, "only {n} fixtures for {format}");
    }
}
