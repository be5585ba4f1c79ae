//! The `diff` and `diff-fenced` formats: SEARCH/REPLACE blocks. Both placements of the path
//! (above the fence, or first inside it) parse the same, so one parser serves both.

use super::edit::{Edit, Item, Op, ParseFailure, Parsed};
use super::text::{
    Fence, FenceLine, clean_path, fence_line, info_path, is_blank, is_divider, is_head,
    is_shell_lang, is_tag_fence, is_tail, path_in_line, reply_lines,
};

const MISSING: &str = "missing filename: put the path alone on the line before the fence";

/// Parses SEARCH/REPLACE blocks.
pub fn parse(text: &str) -> (Vec<Edit>, Vec<ParseFailure>) {
    parse_items(text, None).split()
}

/// Parses SEARCH/REPLACE blocks, also accepting `fence` as a fence, knowing no files: a path
/// line holding whitespace is prose.
pub fn parse_items(text: &str, fence: Option<&Fence>) -> Parsed {
    parse_items_knowing(text, fence, &|_| false)
}

/// [`parse_items`], where `known` tells whether a path names a file the task knows: a path line
/// holding whitespace names one only then, or by its last word (docs/edit-formats.md, prose).
pub fn parse_items_knowing(
    text: &str,
    fence: Option<&Fence>,
    known: &dyn Fn(&str) -> bool,
) -> Parsed {
    let lines = reply_lines(text);
    let n = lines.len();
    let mut out = Parsed::default();
    let mut prev_path: Option<String> = None;
    let mut i = 0;
    while i < n {
        let line = &lines[i];
        if let Some(FenceLine::Ticks(ticks, info)) = fence_line(line, fence)
            && is_shell_lang(&info)
        {
            let close = (i + 1..n).find(|&j| {
                matches!(fence_line(&lines[j], fence), Some(FenceLine::Ticks(t, ref s)) if t >= ticks && s.is_empty())
            });
            let end = close.unwrap_or(n);
            if !lines[i + 1..end].iter().any(|l| is_head(l)) {
                let cmd = lines[i + 1..end].join("\n");
                if !cmd.trim().is_empty() {
                    out.suggested_commands.push(cmd.trim().to_string());
                }
                i = end + 1;
                continue;
            }
        }
        if !is_head(line) {
            i += 1;
            continue;
        }
        let head = i;
        let found = find_path(&lines, head, fence, known);
        let start = match &found {
            Some((_, p)) => {
                let mut s = *p;
                if s > 0
                    && matches!(
                        fence_line(&lines[s - 1], fence),
                        Some(FenceLine::Ticks(..) | FenceLine::TagOpen(_))
                    )
                    && s + 1 == head
                {
                    s -= 1;
                }
                s
            }
            None if head > 0
                && matches!(
                    fence_line(&lines[head - 1], fence),
                    Some(FenceLine::Ticks(..) | FenceLine::TagOpen(_))
                ) =>
            {
                head - 1
            }
            None => head,
        };
        let path = found.map(|(p, _)| p).or_else(|| prev_path.clone());
        // The divider. A head line before it is content (files such as prompts and docs hold
        // the markers); a tail means the divider is missing.
        let mut j = head + 1;
        while j < n && !is_divider(&lines[j]) && !is_tail(&lines[j]) {
            j += 1;
        }
        if j >= n || !is_divider(&lines[j]) {
            let at = if j >= n { n } else { j + 1 };
            let mut last = j.min(n);
            if j < n && is_tail(&lines[j]) {
                last = j + 1;
                if last < n && is_close(&lines[last], fence) {
                    last += 1;
                }
            }
            out.items.push(Item::Failure(ParseFailure {
                line: start + 1,
                path: path.unwrap_or_default(),
                block: lines[start..last].join("\n"),
                message: format!("line {at}: expected `=======`"),
            }));
            i = j + 1;
            continue;
        }
        // The tail, or a second divider. A head line is content when the tail comes before any
        // divider (the edited file holds the markers); else it starts the next block and this
        // one lacks its tail.
        let mut k = j + 1;
        // The same for every head up to that divider or tail: looked up once.
        let mut heads_are_content = None;
        while k < n && !is_tail(&lines[k]) && !is_divider(&lines[k]) {
            if is_head(&lines[k])
                && !*heads_are_content.get_or_insert_with(|| tail_before_divider(&lines[k + 1..]))
            {
                break;
            }
            k += 1;
        }
        if k >= n || is_head(&lines[k]) {
            let at = if k >= n { n } else { k + 1 };
            out.items.push(Item::Failure(ParseFailure {
                line: start + 1,
                path: path.unwrap_or_default(),
                block: lines[start..k.min(n)].join("\n"),
                message: format!("line {at}: expected `>>>>>>> REPLACE`"),
            }));
            i = k;
            continue;
        }
        let search = lines[head + 1..j].to_vec();
        let replace = lines[j + 1..k].to_vec();
        let mut end = k;
        if is_divider(&lines[k]) {
            // Text after a second divider, up to the next head, is ignored.
            while end + 1 < n && !is_head(&lines[end + 1]) {
                end += 1;
                if is_tail(&lines[end]) {
                    break;
                }
            }
        }
        if end + 1 < n && is_close(&lines[end + 1], fence) {
            end += 1;
        }
        let block = lines[start..=end].join("\n");
        i = end + 1;
        let Some(path) = path else {
            out.items.push(Item::Failure(ParseFailure {
                line: start + 1,
                path: String::new(),
                block,
                message: format!("line {}: {MISSING}", head + 1),
            }));
            continue;
        };
        prev_path = Some(path.clone());
        let bare = strip_wrapping(search.clone(), &path, fence);
        let unwrapped = (bare.len() < search.len() && !bare.is_empty())
            .then(|| (bare, strip_wrapping(replace.clone(), &path, fence)));
        out.items.push(Item::Edit(Edit {
            path,
            line: start + 1,
            block,
            op: Op::SearchReplace {
                search,
                replace,
                unwrapped,
            },
        }));
    }
    out
}

/// Whether the first divider or tail line of `lines` is a tail.
fn tail_before_divider(lines: &[String]) -> bool {
    lines
        .iter()
        .find(|l| is_divider(l) || is_tail(l))
        .is_some_and(|l| is_tail(l))
}

/// The path on the nearest of the up to three lines above the head marker, looking past fence
/// lines and blank lines; with the index of its line.
fn find_path(
    lines: &[String],
    head: usize,
    fence: Option<&Fence>,
    known: &dyn Fn(&str) -> bool,
) -> Option<(String, usize)> {
    let mut j = head;
    let mut looked = 0;
    while j > 0 && looked < 3 {
        j -= 1;
        looked += 1;
        let l = &lines[j];
        if is_blank(l) {
            continue;
        }
        match fence_line(l, fence) {
            Some(FenceLine::Ticks(_, info)) | Some(FenceLine::TagOpen(info)) => {
                if let Some(c) = info_path(&info) {
                    return Some((c, j));
                }
            }
            Some(FenceLine::TagClose) => {}
            None => {
                if is_head(l) || is_divider(l) || is_tail(l) {
                    return None;
                }
                // A tag fence of another prompt (`<source>` when this one chose ```): looked
                // past like a fence, never a path.
                if is_tag_fence(l) {
                    continue;
                }
                return path_in_line(&clean_path(l), known).map(|c| (c, j));
            }
        }
    }
    None
}

/// Strips a wrapping first line equal to the path followed by a fence, and a wrapping fence
/// pair; no other line. The engine uses the result only when the lines as written match
/// nothing.
fn strip_wrapping(mut lines: Vec<String>, path: &str, fence: Option<&Fence>) -> Vec<String> {
    if lines.len() >= 2 && clean_path(&lines[0]) == path && fence_line(&lines[1], fence).is_some() {
        lines.remove(0);
    }
    if lines.len() >= 2
        && matches!(
            fence_line(&lines[0], fence),
            Some(FenceLine::Ticks(..) | FenceLine::TagOpen(_))
        )
        && is_close(&lines[lines.len() - 1], fence)
    {
        lines.pop();
        lines.remove(0);
    }
    lines
}

/// A bare fence line that can close a listing.
pub(crate) fn is_close(line: &str, fence: Option<&Fence>) -> bool {
    matches!(fence_line(line, fence), Some(FenceLine::Ticks(_, ref s)) if s.is_empty())
        || matches!(fence_line(line, fence), Some(FenceLine::TagClose))
}
