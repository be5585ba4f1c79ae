//! The `patch` format: `*** Begin Patch` … `*** End Patch` with Add, Update (optionally Move
//! to) and Delete File sections. Prose before `*** Begin Patch` is skipped.

use super::edit::{Chunk, Edit, HunkLine, Item, Op, ParseFailure, Parsed};
use super::text::reply_lines;

/// Parses a `*** Begin Patch` text.
pub fn parse(text: &str) -> (Vec<Edit>, Vec<ParseFailure>) {
    parse_items(text).split()
}

enum Section {
    Add(Vec<String>),
    Update(Vec<Chunk>, Option<String>),
    Delete,
}

/// Parses a `*** Begin Patch` text into edits and failures.
pub fn parse_items(text: &str) -> Parsed {
    let lines = reply_lines(text);
    let n = lines.len();
    let mut out = Parsed::default();
    let Some(begin) = lines.iter().position(|l| l.trim() == "*** Begin Patch") else {
        out.items.push(Item::Failure(ParseFailure {
            line: 1,
            path: String::new(),
            block: lines.iter().take(5).cloned().collect::<Vec<_>>().join("\n"),
            message: "line 1: expected `*** Begin Patch`: no patch found".to_string(),
        }));
        return out;
    };
    let mut i = begin + 1;
    while i < n {
        let line = lines[i].trim_end();
        if is_end(line) {
            break;
        }
        if line.trim().is_empty() {
            i += 1;
            continue;
        }
        let header_at = i;
        let (path, mut section) = if let Some(p) = line.strip_prefix("*** Add File: ") {
            (p.trim().to_string(), Section::Add(Vec::new()))
        } else if let Some(p) = line.strip_prefix("*** Update File: ") {
            (p.trim().to_string(), Section::Update(Vec::new(), None))
        } else if let Some(p) = line.strip_prefix("*** Delete File: ") {
            (p.trim().to_string(), Section::Delete)
        } else {
            let next = next_header(&lines, i + 1);
            out.items.push(Item::Failure(ParseFailure {
                line: i + 1,
                path: String::new(),
                block: lines[i..next].join("\n"),
                message: format!(
                    "line {}: expected `*** Add File:`, `*** Update File:`, `*** Delete File:` or `*** End Patch`, found `{line}`",
                    i + 1
                ),
            }));
            i = next;
            continue;
        };
        i += 1;
        let mut error: Option<String> = None;
        match &mut section {
            Section::Delete => {}
            Section::Add(content) => {
                while i < n && !is_header(&lines[i]) {
                    match lines[i].strip_prefix('+') {
                        Some(rest) => content.push(rest.to_string()),
                        None if error.is_none() => {
                            error = Some(format!(
                                "line {}: expected a line starting with `+` in `*** Add File: {path}`, found `{}`",
                                i + 1,
                                lines[i]
                            ));
                        }
                        None => {}
                    }
                    i += 1;
                }
            }
            Section::Update(chunks, move_to) => {
                if i < n
                    && let Some(p) = lines[i].strip_prefix("*** Move to: ")
                {
                    *move_to = Some(p.trim().to_string());
                    i += 1;
                }
                let mut cur = Chunk::default();
                while i < n && !is_header(&lines[i]) {
                    let l = &lines[i];
                    if cur.line == 0 {
                        cur.line = i + 1;
                    }
                    if l.trim_end() == "*** End of File" {
                        cur.end_of_file = true;
                        chunks.push(std::mem::take(&mut cur));
                        i += 1;
                        continue;
                    }
                    if let Some(rest) = l.strip_prefix("@@") {
                        if !cur.lines.is_empty() {
                            chunks.push(std::mem::take(&mut cur));
                        }
                        let ctx = rest.trim_start_matches(' ');
                        if !ctx.trim().is_empty() {
                            cur.contexts.push(ctx.to_string());
                        }
                        i += 1;
                        continue;
                    }
                    match l.chars().next() {
                        Some(' ') => cur.lines.push(HunkLine::Context(l[1..].to_string())),
                        Some('-') => cur.lines.push(HunkLine::Remove(l[1..].to_string())),
                        Some('+') => cur.lines.push(HunkLine::Add(l[1..].to_string())),
                        None => cur.lines.push(HunkLine::Context(String::new())),
                        Some(_) => {
                            if error.is_none() {
                                error = Some(format!(
                                    "line {}: expected a line starting with ` `, `+`, `-` or `@@` in `*** Update File: {path}`, found `{l}`",
                                    i + 1
                                ));
                            }
                        }
                    }
                    i += 1;
                }
                if !cur.lines.is_empty() || !cur.contexts.is_empty() {
                    // Blank lines before the next header are layout.
                    while matches!(cur.lines.last(), Some(HunkLine::Context(c)) if c.is_empty()) {
                        cur.lines.pop();
                    }
                    chunks.push(cur);
                }
                if chunks.is_empty() && error.is_none() {
                    error = Some(format!(
                        "line {}: `*** Update File: {path}` changes nothing",
                        header_at + 1
                    ));
                }
            }
        }
        let block = lines[header_at..i].join("\n");
        if let Some(message) = error {
            out.items.push(Item::Failure(ParseFailure {
                line: header_at + 1,
                path,
                block,
                message,
            }));
            continue;
        }
        let op = match section {
            Section::Add(content) => Op::Create {
                lines: content,
                final_newline: true,
                append_if_exists: false,
            },
            Section::Delete => Op::Delete,
            Section::Update(chunks, move_to) => {
                // Two updates of one file merge into one.
                let earlier = out.items.iter_mut().find_map(|it| match it {
                    Item::Edit(e) if e.path == path && matches!(e.op, Op::PatchUpdate { .. }) => {
                        Some(e)
                    }
                    _ => None,
                });
                if let Some(e) = earlier
                    && let Op::PatchUpdate {
                        chunks: first,
                        move_to: first_move,
                    } = &mut e.op
                {
                    first.extend(chunks);
                    if first_move.is_none() {
                        *first_move = move_to;
                    }
                    e.block.push('\n');
                    e.block.push_str(&block);
                    continue;
                }
                Op::PatchUpdate { chunks, move_to }
            }
        };
        out.items.push(Item::Edit(Edit {
            path,
            line: header_at + 1,
            block,
            op,
        }));
    }
    out
}

fn is_header(line: &str) -> bool {
    let t = line.trim_end();
    t.starts_with("*** Add File: ")
        || t.starts_with("*** Update File: ")
        || t.starts_with("*** Delete File: ")
        || is_end(t)
}

/// The end sentinel, unprefixed: inside a chunk every line carries a prefix, so ` *** End
/// Patch` is a context line of a file that holds the sentinel (aider's own patch prompts).
fn is_end(line: &str) -> bool {
    line.trim_end() == "*** End Patch"
}

fn next_header(lines: &[String], from: usize) -> usize {
    (from..lines.len())
        .find(|&j| is_header(&lines[j]))
        .unwrap_or(lines.len())
}
