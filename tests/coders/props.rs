//! Property tests: unified diffs written by `similar` apply back (also with wrong `@@` line
//! numbers and CRLF files), SEARCH/REPLACE blocks cut from a unique region apply exactly, and no
//! parser panics on any text.

use codefleet::coders::{
    ApplyOptions, Format, MemFiles, UdiffInput, detect_format, parse_and_apply,
};
use proptest::prelude::*;
use similar::TextDiff;

fn patch_opts() -> ApplyOptions {
    ApplyOptions {
        udiff: UdiffInput::PatchFile,
        ..ApplyOptions::default()
    }
}

/// Applies `reply` to a single file `f.txt` holding `a`; returns the file afterwards.
fn apply_one(
    format: Format,
    a: &[u8],
    reply: &str,
    opts: &ApplyOptions,
) -> (Option<Vec<u8>>, bool) {
    let mut files = MemFiles::new().with("f.txt", a.to_vec());
    let outcome = parse_and_apply(format, reply, &files, opts);
    files.apply(&outcome.changes);
    (files.files.get("f.txt").cloned(), outcome.all_applied())
}

fn join(lines: &[String], final_newline: bool, eol: &str) -> String {
    let mut s = lines.join(eol);
    if final_newline && !lines.is_empty() {
        s.push_str(eol);
    }
    s
}

/// Lines drawn from a tiny vocabulary, so repeats and near-repeats are common.
fn lines_small() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        prop::sample::select(vec!["a", "b", "c", "", "  a", "}", "x y"]),
        0..30,
    )
    .prop_map(|v| v.into_iter().map(str::to_string).collect())
}

/// Distinct lines: every line is unique, so every region is unique.
fn lines_distinct() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec("[a-z]{1,6}", 1..40).prop_map(|v| {
        v.into_iter()
            .enumerate()
            .map(|(i, w)| format!("{w} {i}"))
            .collect()
    })
}

/// B: A with random deletions, insertions and changes (new lines are unique too).
fn edited(a: Vec<String>) -> impl Strategy<Value = (Vec<String>, Vec<String>)> {
    let n = a.len();
    prop::collection::vec((0..4u8, "[A-Z]{1,5}"), n).prop_map(move |ops| {
        let mut b = Vec::new();
        for (i, (op, w)) in ops.into_iter().enumerate() {
            match op {
                0 => {}
                1 => {
                    b.push(a[i].clone());
                    b.push(format!("new {w} {i}"));
                }
                2 => b.push(format!("changed {w} {i}")),
                _ => b.push(a[i].clone()),
            }
        }
        (a.clone(), b)
    })
}

/// Shifts every `@@ -a,b +c,d @@` header's line numbers by `k` (never below 1).
fn shift_headers(diff: &str, k: i64) -> String {
    diff.lines()
        .map(|l| {
            let Some(rest) = l.strip_prefix("@@ -") else {
                return l.to_string();
            };
            let Some((old, rest)) = rest.split_once(" +") else {
                return l.to_string();
            };
            let Some((new, tail)) = rest.split_once(" @@") else {
                return l.to_string();
            };
            let shift = |r: &str| -> String {
                let (s, c) = r.split_once(',').map_or((r, None), |(s, c)| (s, Some(c)));
                let s: i64 = s.parse().unwrap_or(1);
                let s = (s + k).max(1);
                match c {
                    Some(c) => format!("{s},{c}"),
                    None => s.to_string(),
                }
            };
            format!("@@ -{} +{} @@{tail}", shift(old), shift(new))
        })
        .map(|l| l + "\n")
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn unified_diff_applies_back(a in lines_small(), b in lines_small(), fa in any::<bool>(), fb in any::<bool>()) {
        let (ta, tb) = (join(&a, fa, "\n"), join(&b, fb, "\n"));
        let diff = TextDiff::from_lines(ta.as_str(), tb.as_str())
            .unified_diff()
            .header("a/f.txt", "b/f.txt")
            .to_string();
        let (got, ok) = apply_one(Format::Udiff, ta.as_bytes(), &diff, &patch_opts());
        prop_assert!(ok, "diff:\n{diff}");
        prop_assert_eq!(String::from_utf8_lossy(&got.unwrap_or_default()).into_owned(), tb, "diff:\n{}", diff);
    }

    #[test]
    fn unified_diff_with_wrong_line_numbers_applies(
        (a, b) in lines_distinct().prop_flat_map(edited),
        k in -20i64..20,
    ) {
        let (ta, tb) = (join(&a, true, "\n"), join(&b, true, "\n"));
        let diff = TextDiff::from_lines(ta.as_str(), tb.as_str())
            .unified_diff()
            .header("a/f.txt", "b/f.txt")
            .to_string();
        let diff = shift_headers(&diff, k);
        let (got, ok) = apply_one(Format::Udiff, ta.as_bytes(), &diff, &patch_opts());
        prop_assert!(ok, "diff:\n{diff}");
        prop_assert_eq!(String::from_utf8_lossy(&got.unwrap_or_default()).into_owned(), tb, "diff:\n{}", diff);
    }

    #[test]
    fn lf_diff_applies_to_crlf_file((a, b) in lines_distinct().prop_flat_map(edited)) {
        let diff = TextDiff::from_lines(join(&a, true, "\n").as_str(), join(&b, true, "\n").as_str())
            .unified_diff()
            .header("a/f.txt", "b/f.txt")
            .to_string();
        let (got, ok) = apply_one(Format::Udiff, join(&a, true, "\r\n").as_bytes(), &diff, &patch_opts());
        prop_assert!(ok);
        let want = if b.is_empty() { String::new() } else { join(&b, true, "\r\n") };
        prop_assert_eq!(String::from_utf8_lossy(&got.unwrap_or_default()).into_owned(), want);
    }

    #[test]
    fn search_replace_from_unique_region_applies(
        a in lines_distinct(),
        range in (0usize..40, 1usize..6),
        replace in prop::collection::vec("[a-z]{1,5}( [a-z]{1,5})?", 0..5),
        crlf in any::<bool>(),
    ) {
        let start = range.0 % a.len();
        let end = (start + range.1).min(a.len());
        let search = &a[start..end];
        let reply = format!(
            "f.txt\n```\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n```\n",
            join(search, true, "\n"),
            join(&replace, true, "\n"),
        );
        let eol = if crlf { "\r\n" } else { "\n" };
        let mut want: Vec<String> = a[..start].to_vec();
        want.extend(replace.iter().cloned());
        want.extend(a[end..].iter().cloned());
        for format in [Format::Diff, Format::DiffFenced] {
            let (got, ok) = apply_one(format, join(&a, true, eol).as_bytes(), &reply, &ApplyOptions::default());
            prop_assert!(ok);
            prop_assert_eq!(String::from_utf8_lossy(&got.unwrap_or_default()).into_owned(), join(&want, true, eol));
        }
    }

    #[test]
    fn no_parser_panics_on_random_text(lines in prop::collection::vec(
        prop_oneof![
            Just("<<<<<<< SEARCH".to_string()),
            Just("=======".to_string()),
            Just(">>>>>>> REPLACE".to_string()),
            Just("```".to_string()),
            Just("````".to_string()),
            Just("```diff".to_string()),
            Just("```bash".to_string()),
            Just("--- a/f.txt".to_string()),
            Just("+++ b/f.txt".to_string()),
            Just("--- /dev/null".to_string()),
            Just("+++ /dev/null".to_string()),
            Just("@@ -1,2 +1,3 @@".to_string()),
            Just("@@ -0,0 +0,0 @@".to_string()),
            Just("@@ -99999999999999999999 +1 @@".to_string()),
            Just("@@ ... @@".to_string()),
            Just("diff --git a/f.txt b/g.txt".to_string()),
            Just("rename from f.txt".to_string()),
            Just("rename to g.txt".to_string()),
            Just("\\ No newline at end of file".to_string()),
            Just("*** Begin Patch".to_string()),
            Just("*** End Patch".to_string()),
            Just("*** Update File: f.txt".to_string()),
            Just("*** Add File: n.txt".to_string()),
            Just("*** Delete File: f.txt".to_string()),
            Just("*** Move to: g.txt".to_string()),
            Just("*** End of File".to_string()),
            Just("f.txt".to_string()),
            Just("...".to_string()),
            Just("<source>".to_string()),
            Just("</source>".to_string()),
            "[ +\\-@a-c\t\r]{0,6}",
            any::<String>(),
        ],
        0..40,
    ), file in "[a-c\n\r ]{0,30}") {
        let text = lines.join("\n");
        let files = MemFiles::new().with("f.txt", file.into_bytes()).with("g.txt", "a\nb\n");
        for format in Format::ALL {
            for udiff in [UdiffInput::Reply, UdiffInput::PatchFile] {
                let opts = ApplyOptions { udiff, ..ApplyOptions::default() };
                let outcome = parse_and_apply(format, &text, &files, &opts);
                // Feedback exists exactly when something failed.
                prop_assert_eq!(outcome.feedback.is_some(), !outcome.all_applied());
            }
        }
        let _ = detect_format(&text);
    }
}
