//! The public API other modules call: `detect_format`, `udiff_is_reply`, `choose_fence`, the
//! per-format `parse` functions, `Outcome` contents, policy refusals, and big patches; and the
//! examples of docs/edit-formats.md, which must apply as the page says.

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
        given_files: Some(vec!["a.py".to_string(), "c.py".to_string()]),
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

#[test]
fn format_for_model_follows_the_table() {
    use codefleet::coders::format_for_model;
    assert_eq!(format_for_model("claude-sonnet-4-5", None), Format::Diff);
    assert_eq!(
        format_for_model("anthropic/claude-opus-4", Some(500)),
        Format::Diff
    );
    assert_eq!(format_for_model("gemini-2.5-pro", None), Format::DiffFenced);
    assert_eq!(
        format_for_model("gpt-4-turbo-2024-04-09", None),
        Format::Udiff
    );
    assert_eq!(format_for_model("gpt-4.1-mini", None), Format::Patch);
    assert_eq!(format_for_model("gpt-5", None), Format::Patch);
    assert_eq!(format_for_model("llama3.2:3b", None), Format::Whole);
    assert_eq!(format_for_model("some-unknown-model", None), Format::Whole);
    // Small files: whole, whatever the model.
    assert_eq!(
        format_for_model("claude-sonnet-4-5", Some(99)),
        Format::Whole
    );
    assert_eq!(
        format_for_model("claude-sonnet-4-5", Some(100)),
        Format::Diff
    );
}

#[test]
fn whole_only_file_rule_uses_the_given_files() {
    let files = MemFiles::new().with("a.py", "a\n").with("b.py", "b\n");
    let reply = "Updated:\n```python\nB\n```\n";
    let opts = ApplyOptions {
        given_files: Some(vec!["b.py".to_string()]),
        ..ApplyOptions::default()
    };
    let out = parse_and_apply(Format::Whole, reply, &files, &opts);
    assert!(out.all_applied(), "{:?}", out.edits);
    assert_eq!(
        out.changes,
        vec![Change::Write {
            path: "b.py".to_string(),
            content: b"B\n".to_vec(),
            created: false,
            renamed_from: None,
        }]
    );
    // Without it, two known files: no way to tell.
    let out = parse_and_apply(Format::Whole, reply, &files, &ApplyOptions::default());
    assert!(!out.all_applied());
}

#[test]
fn replacer_is_shareable_across_threads() {
    fn shareable<T: Send + Sync>() {}
    shareable::<codefleet::coders::Replacer>();
    shareable::<MemFiles>();
}

/// The first example after `heading` in docs/edit-formats.md: the body of the first block
/// fenced with `fence`.
fn doc_example(heading: &str, fence: &str) -> String {
    let docs = include_str!("../../../docs/edit-formats.md");
    let rest = &docs[docs
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"))..];
    let open = rest
        .lines()
        .position(|l| l.starts_with(fence))
        .unwrap_or_else(|| panic!("no {fence} block after {heading}"));
    let body: Vec<&str> = rest
        .lines()
        .skip(open + 1)
        .take_while(|l| *l != fence)
        .collect();
    body.join("\n") + "\n"
}

/// What a file holds after `reply` in `format` is applied to `files`; every edit must apply.
fn after_doc_example(format: Format, reply: &str, files: &[(&str, &str)], path: &str) -> String {
    let mut mem = MemFiles::new();
    for (p, text) in files {
        mem = mem.with(p, *text);
    }
    let outcome = parse_and_apply(format, reply, &mem, &ApplyOptions::default());
    assert!(outcome.all_applied(), "{format}: {:?}", outcome.edits);
    mem.apply(&outcome.changes);
    String::from_utf8(mem.files.get(path).cloned().unwrap_or_default()).expect("UTF-8")
}

#[test]
fn the_examples_of_the_edit_formats_page_apply_as_it_says() {
    let app = "from flask import Flask\n\napp = Flask(__name__)\n";
    let want = "import math\nfrom flask import Flask\n\napp = Flask(__name__)\n";
    for (heading, format) in [
        ("## `diff`: SEARCH/REPLACE blocks", Format::Diff),
        ("## `diff-fenced`", Format::DiffFenced),
    ] {
        let reply = doc_example(heading, "````");
        let got = after_doc_example(format, &reply, &[("src/app.py", app)], "src/app.py");
        assert_eq!(got, want, "{heading}");
    }
    let reply = doc_example("## `udiff`: unified diffs", "````");
    let got = after_doc_example(
        Format::Udiff,
        &reply,
        &[("src/app.py", "a\nb\nc\n")],
        "src/app.py",
    );
    assert_eq!(got, "a\nB\nc\n");
    let reply = doc_example("## `patch`: the `*** Begin Patch` format", "```");
    let main = "import math\n\ndef get_factorial(self, n):\n    return str(factorial(n))\n";
    let files = [("src/main.py", main), ("src/old.py", "old\n")];
    let got = after_doc_example(Format::Patch, &reply, &files, "src/main.py");
    assert_eq!(got, main.replace("str(factorial", "str(math.factorial"));
    let got = after_doc_example(Format::Patch, &reply, &files, "src/hello.py");
    assert_eq!(got, "print(\"hello\")\n");
    assert_eq!(
        after_doc_example(Format::Patch, &reply, &files, "src/old.py"),
        ""
    );
}
