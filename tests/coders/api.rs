//! The public API other modules call: `detect_format`, `udiff_is_reply`, `choose_fence`, the
//! per-format `parse` functions, `Outcome` contents, policy refusals, and big patches.

use codefleet::coders::{
    self, ApplyOptions, Change, EditStatus, Format, MemFiles, UdiffInput, choose_fence,
    detect_format, parse_and_apply, udiff_is_reply,
};

#[test]
fn detect_format_recognises_each_format() {
    assert_eq!(
        detect_format("x.py\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n"),
        Some(Format::Diff)
    );
    assert_eq!(
        detect_format("*** Begin Patch\n*** Delete File: a\n*** End Patch\n"),
        Some(Format::Patch)
    );
    assert_eq!(
        detect_format("diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n"),
        Some(Format::Udiff)
    );
    assert_eq!(
        detect_format("--- x\n+++ x\n@@ -1 +1 @@\n-a\n+b\n"),
        Some(Format::Udiff)
    );
    assert_eq!(
        detect_format("Sure:\n```diff\n@@ @@\n-a\n+b\n```\n"),
        Some(Format::Udiff)
    );
    assert_eq!(
        detect_format("src/a.py\n```python\nx = 1\n```\n"),
        Some(Format::Whole)
    );
    assert_eq!(detect_format("just words\n"), None);
    assert_eq!(detect_format(""), None);
}

#[test]
fn udiff_reply_or_patch_file() {
    assert!(udiff_is_reply("Here:\n```diff\n--- a\n+++ a\n```\n"));
    assert!(udiff_is_reply("````diff\n@@ @@\n````\n"));
    assert!(!udiff_is_reply("diff --git a/x b/x\n--- a/x\n+++ b/x\n"));
    assert!(!udiff_is_reply("```\n--- a\n+++ a\n```\n"));
}

#[test]
fn choose_fence_avoids_lines_of_the_files() {
    assert_eq!(
        choose_fence(&["plain\n"]),
        ("```".to_string(), "```".to_string())
    );
    assert_eq!(
        choose_fence(&["a\n", "```rust\nx\n```\n"]),
        ("````".to_string(), "````".to_string())
    );
    assert_eq!(
        choose_fence(&["````\n"]),
        ("<source>".to_string(), "</source>".to_string())
    );
    assert_eq!(
        choose_fence(&["```\n", "<source>\n"]),
        ("````".to_string(), "````".to_string())
    );
    assert_eq!(
        choose_fence(&["````\n", "<source>\n"]),
        ("<code>".to_string(), "</code>".to_string())
    );
    assert_eq!(
        choose_fence(&["````\n<source>\n<code>\n"]),
        ("<pre>".to_string(), "</pre>".to_string())
    );
}

#[test]
fn per_format_parse_functions_name_lines() {
    let (edits, failures) = coders::diff::parse("x\n```\n<<<<<<< SEARCH\na\n```\n");
    assert!(edits.is_empty());
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].message, "line 5: expected `=======`");

    let (edits, failures) =
        coders::patch::parse("*** Begin Patch\n*** Update File: a\n?x\n*** End Patch\n");
    assert!(edits.is_empty());
    assert!(
        failures[0].message.starts_with("line 3: "),
        "{}",
        failures[0].message
    );

    let (edits, failures) = coders::udiff::parse("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
    assert_eq!((edits.len(), failures.len()), (1, 0));
    assert_eq!(edits[0].path, "x");

    let (edits, failures) = coders::whole::parse("x.txt\n```\nbody\n```\n");
    assert_eq!((edits.len(), failures.len()), (1, 0));
    assert_eq!(
        edits[0].op,
        coders::Op::Whole {
            lines: vec!["body".to_string()]
        }
    );
}

#[test]
fn refused_write_writes_nothing_and_says_why() {
    let mut files = MemFiles::new()
        .with("a.txt", "a\n")
        .with("vendor/v.txt", "v\n");
    files.deny.push("vendor/".to_string());
    let reply = "vendor/v.txt\n```\n<<<<<<< SEARCH\nv\n=======\nw\n>>>>>>> REPLACE\n```\n\
                 a.txt\n```\n<<<<<<< SEARCH\na\n=======\nb\n>>>>>>> REPLACE\n```\n";
    let out = parse_and_apply(Format::Diff, reply, &files, &ApplyOptions::default());
    assert_eq!(
        out.edits[0].status,
        EditStatus::Failed {
            reason: "writing `vendor/v.txt` is refused: denied by policy".to_string()
        }
    );
    assert_eq!(
        out.changes,
        vec![Change::Write {
            path: "a.txt".to_string(),
            content: b"b\n".to_vec(),
            created: false,
            renamed_from: None,
        }]
    );
    assert!(out.feedback.is_some());
}

#[test]
fn rename_is_delete_plus_write_with_origin() {
    let files = MemFiles::new().with("old.txt", "x\n");
    let out = parse_and_apply(
        Format::Patch,
        "*** Begin Patch\n*** Update File: old.txt\n*** Move to: new.txt\n-x\n+y\n*** End Patch\n",
        &files,
        &ApplyOptions::default(),
    );
    assert_eq!(
        out.changes,
        vec![
            Change::Delete {
                path: "old.txt".to_string()
            },
            Change::Write {
                path: "new.txt".to_string(),
                content: b"y\n".to_vec(),
                created: true,
                renamed_from: Some("old.txt".to_string()),
            },
        ]
    );
    assert!(out.all_applied());
    assert_eq!(out.feedback, None);
}

#[test]
fn wrong_file_rescue_limited_to_the_files_given() {
    let files = MemFiles::new()
        .with("a.py", "x\n")
        .with("b.py", "y\n")
        .with("c.py", "y\n");
    let reply = "a.py\n```\n<<<<<<< SEARCH\ny\n=======\nz\n>>>>>>> REPLACE\n```\n";
    let opts = ApplyOptions {
        rescue_files: Some(vec!["a.py".to_string(), "c.py".to_string()]),
        ..ApplyOptions::default()
    };
    let out = parse_and_apply(Format::Diff, reply, &files, &opts);
    assert_eq!(
        out.edits[0].status,
        EditStatus::Applied {
            file: "c.py".to_string(),
            strategy: "exact"
        }
    );
}

#[test]
fn thousands_of_hunks_apply() {
    let n = 60_000;
    let before: String = (0..n).map(|i| format!("line {i}\n")).collect();
    let mut patch = String::from("--- a/big.txt\n+++ b/big.txt\n");
    let mut after = Vec::new();
    for i in 0..n {
        after.push(if i % 20 == 10 {
            format!("LINE {i}")
        } else {
            format!("line {i}")
        });
    }
    for i in (10..n).step_by(20) {
        // The hunk starts at 0-based line i - 2, 1-based i - 1; every tenth hunk states a wrong
        // line number, and its context still finds it.
        let stated = if i % 200 == 10 { i + 7 } else { i - 1 };
        patch.push_str(&format!(
            "@@ -{stated},5 +{stated},5 @@\n line {}\n line {}\n-line {i}\n+LINE {i}\n line {}\n line {}\n",
            i - 2,
            i - 1,
            i + 1,
            i + 2
        ));
    }
    let files = MemFiles::new().with("big.txt", before);
    let opts = ApplyOptions {
        udiff: UdiffInput::PatchFile,
        ..ApplyOptions::default()
    };
    let out = parse_and_apply(Format::Udiff, &patch, &files, &opts);
    assert!(out.all_applied());
    assert_eq!(out.edits.len(), n / 20);
    let want: String = after.iter().map(|l| format!("{l}\n")).collect();
    match &out.changes[..] {
        [Change::Write { content, .. }] => assert!(*content == want.as_bytes(), "content differs"),
        other => panic!("unexpected changes: {}", other.len()),
    }
}
