//! Property tests: unified diffs written by `similar` apply back (also with wrong `@@` line
//! numbers and CRLF files), SEARCH/REPLACE blocks cut from a unique region apply exactly, no
//! edit of any format is reported applied unless its text is in the result, and no parser
//! panics on any text.

use codefleet::coders::edit::Item;
use codefleet::coders::{
    ApplyOptions, EditStatus, Files, Format, MemFiles, Op, UdiffInput, detect_format, parse,
    parse_and_apply,
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
    fn diff_parser_never_panics(text in random_reply(), file in random_file()) {
        never_panics(Format::Diff, &text, file)?;
    }

    #[test]
    fn diff_fenced_parser_never_panics(text in random_reply(), file in random_file()) {
        never_panics(Format::DiffFenced, &text, file)?;
    }

    #[test]
    fn udiff_parser_never_panics(text in random_reply(), file in random_file()) {
        never_panics(Format::Udiff, &text, file)?;
    }

    #[test]
    fn whole_parser_never_panics(text in random_reply(), file in random_file()) {
        never_panics(Format::Whole, &text, file)?;
    }

    #[test]
    fn patch_parser_never_panics(text in random_reply(), file in random_file()) {
        never_panics(Format::Patch, &text, file)?;
    }

    #[test]
    fn detect_format_never_panics(text in random_reply()) {
        let _ = detect_format(&text);
    }
}

/// Text made of lines that mean something to some parser, mixed with arbitrary ones.
fn random_reply() -> impl Strategy<Value = String> {
    prop::collection::vec(
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
            Just("@@ -18446744073709551615,3 +1 @@".to_string()),
            Just("@@ ... @@".to_string()),
            Just("diff --git a/f.txt b/g.txt".to_string()),
            Just("new file mode 100644".to_string()),
            Just("deleted file mode 100644".to_string()),
            Just("rename from f.txt".to_string()),
            Just("rename to g.txt".to_string()),
            Just("copy from g.txt".to_string()),
            Just("copy to h.txt".to_string()),
            Just("\\ No newline at end of file".to_string()),
            Just("*** Begin Patch".to_string()),
            Just("*** End Patch".to_string()),
            Just("*** Update File: f.txt".to_string()),
            Just("*** Add File: n.txt".to_string()),
            Just("*** Delete File: f.txt".to_string()),
            Just("*** Move to: g.txt".to_string()),
            Just("*** End of File".to_string()),
            Just("f.txt".to_string()),
            Just("g.txt".to_string()),
            Just("path/to/g.txt".to_string()),
            Just("...".to_string()),
            Just("<source>".to_string()),
            Just("</source>".to_string()),
            "[ +\\-@a-c\t\r]{0,6}",
            any::<String>(),
        ],
        0..40,
    )
    .prop_map(|lines| lines.join("\n"))
}

fn random_file() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "[a-c\n\r ]{0,30}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..30),
    ]
}

/// Parses and applies in every udiff mode; the outcome must be coherent.
fn never_panics(format: Format, text: &str, file: Vec<u8>) -> Result<(), TestCaseError> {
    let files = MemFiles::new().with("f.txt", file).with("g.txt", "a\nb\n");
    for udiff in [UdiffInput::Auto, UdiffInput::Reply, UdiffInput::PatchFile] {
        let opts = ApplyOptions {
            udiff,
            ..ApplyOptions::default()
        };
        let outcome = parse_and_apply(format, text, &files, &opts);
        // Feedback exists exactly when something failed.
        prop_assert_eq!(outcome.feedback.is_some(), !outcome.all_applied());
        for (i, e) in outcome.edits.iter().enumerate() {
            prop_assert_eq!(e.index, i);
        }
    }
    Ok(())
}

/// One generated edit: which file, which lines of the original it replaces, what with, and how
/// the reply names the file and indents the text.
#[derive(Debug, Clone)]
struct GenEdit {
    file: usize,
    start: usize,
    len: usize,
    replace: Vec<String>,
    style: usize,
    dedent: bool,
    /// diff: a blank line after SEARCH and REPLACE that the file lacks; whole: the file listed
    /// a second time, under another name.
    extra: bool,
}

/// Files of unique lines (some indented), and edits of disjoint regions with fresh lines.
fn generated() -> impl Strategy<Value = (Vec<Vec<String>>, Vec<GenEdit>)> {
    let file = prop::collection::vec((0..3usize, "[a-z]{1,6}"), 4..30);
    (
        prop::collection::vec(file, 1..3),
        prop::collection::vec(
            (
                0..2usize,
                0..30usize,
                1..4usize,
                0..4usize,
                0..6usize,
                any::<bool>(),
                any::<bool>(),
            ),
            1..6,
        ),
    )
        .prop_map(|(files, raw)| {
            let files: Vec<Vec<String>> = files
                .into_iter()
                .enumerate()
                .map(|(f, lines)| {
                    lines
                        .into_iter()
                        .enumerate()
                        .map(|(i, (depth, w))| format!("{}{w} f{f}l{i}", "    ".repeat(depth)))
                        .collect()
                })
                .collect();
            let mut edits: Vec<GenEdit> = Vec::new();
            for (e, (file, start, len, n_new, style, dedent, extra)) in raw.into_iter().enumerate()
            {
                let file = file % files.len();
                let lines = &files[file];
                let start = start % lines.len();
                let len = len.min(lines.len() - start);
                let overlaps = edits
                    .iter()
                    .any(|o| o.file == file && start < o.start + o.len && o.start < start + len);
                if overlaps {
                    continue;
                }
                // At the region's own indentation: a REPLACE at the file's indentation while
                // SEARCH lost it is read as written, so the region's common indent keeps the
                // meaning unambiguous.
                let indent = lines[start..start + len]
                    .iter()
                    .map(|l| indent(l))
                    .min_by_key(String::len)
                    .unwrap_or_default();
                let replace = (0..n_new)
                    .map(|j| format!("{indent}new e{e}n{j}"))
                    .collect();
                edits.push(GenEdit {
                    file,
                    start,
                    len,
                    replace,
                    style,
                    dedent,
                    extra,
                });
            }
            (files, edits)
        })
}

fn indent(line: &str) -> String {
    line[..line.len() - line.trim_start().len()].to_string()
}

const GEN_PATHS: [&str; 2] = ["src/f.txt", "g.txt"];

/// The path as a reply names it, in the styles models use.
fn styled(path: &str, style: usize, path_line: bool) -> String {
    match style {
        1 => path.replace('/', "\\"),
        2 => format!("./{path}"),
        3 if path_line => format!("`{path}`"),
        4 if path_line => format!("**{path}**:"),
        5 if path_line => format!("## {path}"),
        _ => path.to_string(),
    }
}

/// The lines without their common indentation.
fn dedented(lines: &[String]) -> Vec<String> {
    let common = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| indent(l).len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| l.get(common..).unwrap_or(l.trim_start()).to_string())
        .collect()
}

/// The files after every edit, as meant.
fn intended(files: &[Vec<String>], edits: &[GenEdit]) -> Vec<Vec<String>> {
    let mut out = files.to_vec();
    let mut sorted: Vec<&GenEdit> = edits.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse((e.file, e.start)));
    for e in sorted {
        out[e.file].splice(e.start..e.start + e.len, e.replace.iter().cloned());
    }
    out
}

/// The reply that makes `edits` in `format`.
fn render_reply(format: Format, files: &[Vec<String>], edits: &[GenEdit]) -> String {
    let mut r = String::from("Here are the changes.\n\n");
    if format == Format::Patch {
        r.push_str("*** Begin Patch\n");
    }
    if format == Format::Whole {
        let want = intended(files, edits);
        let mut done = Vec::new();
        for e in edits {
            if done.contains(&e.file) {
                // The file again, under another name: the first listing wins.
                if e.extra {
                    r.push_str(&format!(
                        "{}\n```\n{}```\n\n",
                        styled(GEN_PATHS[e.file], e.style + 1, true),
                        join(&e.replace, true, "\n")
                    ));
                }
                continue;
            }
            done.push(e.file);
            r.push_str(&format!(
                "{}\n```\n{}```\n\n",
                styled(GEN_PATHS[e.file], e.style, true),
                join(&want[e.file], true, "\n")
            ));
        }
        return r;
    }
    for e in edits {
        let path = GEN_PATHS[e.file];
        let mut search = files[e.file][e.start..e.start + e.len].to_vec();
        let mut replace = e.replace.clone();
        if e.dedent && matches!(format, Format::Diff | Format::DiffFenced | Format::Udiff) {
            let both: Vec<String> = search.iter().chain(&replace).cloned().collect();
            let d = dedented(&both);
            search = d[..search.len()].to_vec();
            replace = d[search.len()..].to_vec();
        }
        // A stray blank line after SEARCH and REPLACE, which no line of the file is.
        if e.extra && matches!(format, Format::Diff | Format::DiffFenced) {
            search.push(String::new());
            replace.push(String::new());
        }
        match format {
            Format::Diff => r.push_str(&format!(
                "{}\n```\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n```\n\n",
                styled(path, e.style, true),
                join(&search, true, "\n"),
                join(&replace, true, "\n")
            )),
            Format::DiffFenced => r.push_str(&format!(
                "```\n{}\n<<<<<<< SEARCH\n{}=======\n{}>>>>>>> REPLACE\n```\n\n",
                styled(path, e.style, true),
                join(&search, true, "\n"),
                join(&replace, true, "\n")
            )),
            Format::Udiff => {
                let p = styled(path, e.style, false);
                r.push_str(&format!("```diff\n--- a/{p}\n+++ b/{p}\n@@ ... @@\n"));
                for l in &search {
                    r.push_str(&format!("-{l}\n"));
                }
                for l in &replace {
                    r.push_str(&format!("+{l}\n"));
                }
                r.push_str("```\n\n");
            }
            Format::Patch => {
                r.push_str(&format!(
                    "*** Update File: {}\n@@\n",
                    styled(path, e.style, false)
                ));
                for l in &search {
                    r.push_str(&format!("-{l}\n"));
                }
                for l in &replace {
                    r.push_str(&format!("+{l}\n"));
                }
            }
            Format::Whole => {}
        }
    }
    if format == Format::Patch {
        r.push_str("*** End Patch\n");
    }
    r
}

/// The runs of lines an edit applied by `strategy` puts into its file.
fn new_runs(op: &Op, strategy: &str) -> Vec<Vec<String>> {
    match op {
        Op::SearchReplace {
            unwrapped: Some((_, replace)),
            ..
        } if strategy == "unwrapped" => vec![replace.clone()],
        Op::SearchReplace { replace, .. } => vec![replace.clone()],
        Op::Hunk(h) => vec![h.new_lines()],
        Op::Whole { lines } | Op::Create { lines, .. } => vec![lines.clone()],
        Op::PatchUpdate { chunks, .. } => chunks.iter().map(|c| c.new_lines()).collect(),
        Op::Delete | Op::Rename { .. } | Op::Copy { .. } => Vec::new(),
    }
}

/// Whether `run` occurs in `lines`, compared without surrounding whitespace (matching may
/// re-indent) and without blank lines at its ends (matching may drop them).
fn holds(lines: &[String], run: &[String]) -> bool {
    let t = |s: &String| s.trim().to_string();
    let mut run: Vec<String> = run.iter().map(t).collect();
    while run.last().is_some_and(String::is_empty) {
        run.pop();
    }
    let lead = run.iter().take_while(|l| l.is_empty()).count();
    run.drain(..lead);
    run.is_empty()
        || lines
            .windows(run.len())
            .any(|w| w.iter().map(t).eq(run.iter().cloned()))
}

/// Applies `reply` to `files`; every edit reported applied names a normalised path and its
/// text is in that file afterwards. Returns the files afterwards and whether all applied.
fn applied_is_present(
    format: Format,
    reply: &str,
    mut files: MemFiles,
    opts: &ApplyOptions,
) -> Result<(MemFiles, bool), TestCaseError> {
    let outcome = parse_and_apply(format, reply, &files, opts);
    let parsed = parse(format, reply, &files.paths(), opts);
    files.apply(&outcome.changes);
    for report in &outcome.edits {
        let EditStatus::Applied { file, strategy } = &report.status else {
            continue;
        };
        prop_assert!(
            !file.contains('\\') && !file.starts_with("./"),
            "reported file `{}`",
            file
        );
        let Some(Item::Edit(edit)) = parsed.items.get(report.index) else {
            return Err(TestCaseError::fail(format!(
                "report {} has no parsed edit",
                report.index
            )));
        };
        if matches!(edit.op, Op::Delete | Op::Rename { .. } | Op::Copy { .. }) {
            continue;
        }
        let text = files
            .files
            .get(file)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        let lines: Vec<String> = text
            .as_deref()
            .unwrap_or("")
            .lines()
            .map(str::to_string)
            .collect();
        prop_assert!(
            text.is_some(),
            "edit {} applied to `{}`, which is gone\n{}",
            report.index,
            file,
            reply
        );
        for run in new_runs(&edit.op, strategy) {
            prop_assert!(
                holds(&lines, &run),
                "edit {} reported applied to `{}` but {:?} is not in it:\n{}\nreply:\n{}",
                report.index,
                file,
                run,
                text.unwrap_or_default(),
                reply
            );
        }
    }
    Ok((files, outcome.all_applied()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Reported applied ⇒ present in the result, for every format; and on these well-formed
    /// replies (disjoint regions, fresh lines, paths in every style, missing indentation, a
/// trailing blank line the file lacks, a file listed twice) every
    /// edit applies and the files are as meant.
    #[test]
    fn applied_edits_are_in_the_result((files, edits) in generated(), format in prop::sample::select(Format::ALL.to_vec())) {
        let reply = render_reply(format, &files, &edits);
        let mut mem = MemFiles::new();
        for (i, lines) in files.iter().enumerate() {
            mem = mem.with(GEN_PATHS[i], join(lines, true, "\n"));
        }
        // The edits may delete most of a small file: meant, so a whole listing may shrink it.
        let opts = ApplyOptions {
            allow_shrink: true,
            ..ApplyOptions::default()
        };
        let (after, all) = applied_is_present(format, &reply, mem, &opts)?;
        prop_assert!(all, "not every edit applied; reply:\n{}", reply);
        let want = intended(&files, &edits);
        for (i, lines) in want.iter().enumerate() {
            let got = after.files.get(GEN_PATHS[i]).map(|b| String::from_utf8_lossy(b).into_owned());
            let want = join(lines, true, "\n");
            prop_assert_eq!(got.as_deref(), Some(want.as_str()), "{}; reply:\n{}", GEN_PATHS[i], reply);
        }
        prop_assert_eq!(after.files.len(), files.len(), "files: {:?}", after.files.keys().collect::<Vec<_>>());
    }

    /// Reported applied ⇒ present in the result, on arbitrary texts where a later edit cannot
    /// undo an earlier one: each file is edited by one block at most.
    #[test]
    fn applied_is_present_on_random_replies(text in random_reply(), file in random_file(), format in prop::sample::select(Format::ALL.to_vec())) {
        let files = MemFiles::new().with("f.txt", file).with("g.txt", "a\nb\n");
        let opts = ApplyOptions::default();
        let parsed = parse(format, &text, &files.paths(), &opts);
        let mut named = std::collections::HashSet::new();
        let once = parsed.items.iter().all(|i| match i {
            Item::Edit(e) => named.insert(e.path.replace('\\', "/").trim_start_matches("./").to_string()),
            Item::Failure(_) => true,
        });
        if once && parsed.items.len() <= 1 {
            applied_is_present(format, &text, files, &opts)?;
        }
    }
}
