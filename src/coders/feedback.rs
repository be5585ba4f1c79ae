//! The text sent back to a model when edits fail (docs/edit-formats.md, Feedback): how many failed,
//! each failed block as written, the closest lines of the file, and what already applied.

use super::matching::first_run;
use super::text::choose_fence;

/// The file a failed edit searched: its path, current lines, and the SEARCH/REPLACE lines.
pub type Searched<'a> = (&'a str, &'a [String], &'a [String], &'a [String]);

/// One failed edit, as the feedback needs it.
pub struct Failed<'a> {
    /// The path the edit named (or was rescued to).
    pub path: &'a str,
    /// 1-based reply line.
    pub line: usize,
    /// The block as written.
    pub block: &'a str,
    /// Why it failed.
    pub reason: &'a str,
    /// The file searched, its current lines, and the SEARCH/REPLACE lines.
    pub search: Option<Searched<'a>>,
}

/// Builds the feedback text. `applied` is how many edits succeeded.
pub fn render(failed: &[Failed<'_>], applied: usize) -> String {
    let n = failed.len();
    let mut out = format!(
        "# {n} {} failed to apply\n",
        if n == 1 { "block" } else { "blocks" }
    );
    for f in failed {
        out.push('\n');
        let place = if f.path.is_empty() {
            format!("reply line {}", f.line)
        } else {
            format!("{} (reply line {})", f.path, f.line)
        };
        out.push_str(&format!("## {place}: {}\n\n", f.reason));
        out.push_str(f.block.trim_end_matches('\n'));
        out.push('\n');
        if let Some((file, lines, search, replace)) = f.search {
            if let Some(window) = closest_window(lines, search) {
                let text = window.join("\n");
                let (open, close) = choose_fence(&[&text]);
                out.push_str(&format!(
                    "\ndid you mean these lines from {file}?\n\n{open}\n{text}\n{close}\n"
                ));
            }
            if !replace.iter().all(|l| l.trim().is_empty()) && first_run(lines, replace).is_some() {
                out.push_str(&format!(
                    "\nthe REPLACE text is already in {file}: is this block still needed?\n"
                ));
            }
        }
    }
    if applied > 0 {
        if applied == 1 {
            out.push_str("\nthe other 1 block was applied; do not send it again.\n");
        } else {
            out.push_str(&format!(
                "\nthe other {applied} blocks were applied; do not send them again.\n"
            ));
        }
    }
    out.push_str("Reply with fixed versions of the failed blocks only.\n");
    out
}

/// The window of the file most similar to `search` (similarity of its lines' text ≥ 0.6), with 5 lines of
/// context unless its first and last lines match SEARCH's.
pub fn closest_window(lines: &[String], search: &[String]) -> Option<Vec<String>> {
    let m = search.len();
    if m == 0 || lines.is_empty() {
        return None;
    }
    let m = m.min(lines.len());
    let needle = search.join("\n");
    // Character similarity of each window; windows sharing no line with SEARCH are skipped
    // when the file is large, so a failure never costs more than a few thousand diffs.
    let wanted: std::collections::HashSet<&str> = search.iter().map(|l| l.trim()).collect();
    let small = lines.len() * m <= 50_000;
    let mut best: Option<(f32, usize)> = None;
    for start in 0..=lines.len() - m {
        let window = &lines[start..start + m];
        if !small && !window.iter().any(|l| wanted.contains(l.trim())) {
            continue;
        }
        let ratio =
            similar::TextDiff::from_chars(needle.as_str(), window.join("\n").as_str()).ratio();
        if best.is_none_or(|(b, _)| ratio > b) {
            best = Some((ratio, start));
        }
    }
    let (ratio, start) = best?;
    if ratio < 0.6 {
        return None;
    }
    let end = start + m;
    let window = &lines[start..end];
    if window.first() == search.first() && window.last() == search.last() {
        return Some(window.to_vec());
    }
    let s = start.saturating_sub(5);
    let e = (end + 5).min(lines.len());
    Some(lines[s..e].to_vec())
}
