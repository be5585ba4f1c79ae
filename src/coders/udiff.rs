//! The `udiff` format: unified diffs, either fenced in a model reply (only ```` ```diff ````
//! fences are read) or a whole patch file as `git diff` or `diff -u` write it.

use super::edit::{Edit, Hunk, HunkLine, Item, Op, ParseFailure, Parsed};
use super::text::{FenceLine, fence_line, is_blank, is_shell_lang, reply_line_strs, reply_lines};

/// Parses a udiff text, deciding with [`is_reply`] whether it is a model reply or a patch file.
pub fn parse(text: &str) -> (Vec<Edit>, Vec<ParseFailure>) {
    if is_reply(text) {
        parse_reply(text).split()
    } else {
        parse_patch_file(text).split()
    }
}

/// Whether a udiff text is a model reply (it holds a ```` ```diff ```` fence) rather than a
/// patch file to read whole.
pub fn is_reply(text: &str) -> bool {
    reply_line_strs(text).any(|l| is_diff_fence(l).is_some())
}

fn is_diff_fence(line: &str) -> Option<usize> {
    match fence_line(line, None) {
        Some(FenceLine::Ticks(t, info)) if info.split_whitespace().next() == Some("diff") => {
            Some(t)
        }
        _ => None,
    }
}

/// Parses a model reply: only ```` ```diff ```` fences are read; an unclosed one runs to the end
/// of the text, its last line included.
pub fn parse_reply(text: &str) -> Parsed {
    let lines = reply_lines(text);
    let mut out = Parsed::default();
    let mut parser = Parser::new(true);
    let mut i = 0;
    while i < lines.len() {
        if let Some(ticks) = is_diff_fence(&lines[i]) {
            // Only an unindented fence closes: ` ``` ` is a context line holding a fence of
            // the edited file, and the hunks after it belong to this diff.
            let close = (i + 1..lines.len()).find(|&j| {
                lines[j].starts_with('`')
                    && matches!(fence_line(&lines[j], None), Some(FenceLine::Ticks(t, ref s)) if t >= ticks && s.is_empty())
            });
            let end = close.unwrap_or(lines.len());
            let from = out.items.len();
            parser.run(&lines[i + 1..end], i + 1, &mut out);
            if let Some(close) = close {
                cut_short(&lines, close, from, &mut out);
            }
            i = end + 1;
            continue;
        }
        if let Some(FenceLine::Ticks(ticks, info)) = fence_line(&lines[i], None) {
            let close = (i + 1..lines.len()).find(|&j| {
                matches!(fence_line(&lines[j], None), Some(FenceLine::Ticks(t, ref s)) if t >= ticks && s.is_empty())
            });
            let end = close.unwrap_or(lines.len());
            if is_shell_lang(&info) {
                let cmd = lines[i + 1..end].join("\n");
                if !cmd.trim().is_empty() {
                    out.suggested_commands.push(cmd.trim().to_string());
                }
            }
            i = end + 1;
            continue;
        }
        i += 1;
    }
    out
}

/// A diff fence closed at `lines[close]` while its last hunk was not over: the lines right
/// after the fence go on with the hunk (the fence line was most likely a line of the edited
/// file that lost its diff space), or the hunk's `@@` counts say more lines were due. The
/// closing rule stands, so the rest of the hunk is not read: the hunk (the last item read
/// since `from`) becomes a failure instead of applying a part of it.
fn cut_short(lines: &[String], close: usize, from: usize, out: &mut Parsed) {
    let run = lines[close + 1..]
        .iter()
        .take_while(|l| is_hunk_line(l))
        .count();
    let after = &lines[close + 1..close + 1 + run];
    let goes_on = after.iter().any(|l| !is_bullet(l));
    // The last item read, when it is the hunk the fence closed.
    let last = match out.items.last() {
        Some(Item::Edit(e)) if out.items.len() > from => Some(e),
        _ => None,
    };
    let mut counted = false;
    let mut block: Vec<&str> = Vec::new();
    if let Some(e) = last {
        block = e.block.split('\n').collect();
        if let Some(header) = block.iter().rposition(|l| l.starts_with("@@")) {
            let body = &block[header + 1..];
            let ends_at_fence = e.line + body.len() == close;
            if ends_at_fence {
                let old = body.iter().filter(|l| !l.starts_with(['+', '\\'])).count();
                let new = body.iter().filter(|l| !l.starts_with(['-', '\\'])).count();
                counted = parse_counts(block[header]).is_some_and(|(_, b, d)| {
                    (old < b || new < d)
                        && completes(&lines[close..], b - old.min(b), d - new.min(d))
                });
            } else {
                block.clear();
            }
        } else {
            block.clear();
        }
    }
    if !counted && !goes_on {
        return;
    }
    let why = if goes_on {
        format!(
            "the lines after it (line {} on) go on with the hunk and are not read",
            close + 2
        )
    } else {
        "its `@@` line counts the lines after it too, which are not read".to_string()
    };
    let (line, path) = match last {
        Some(e) if !block.is_empty() => (e.line, e.path.clone()),
        Some(e) => (close + 1, e.path.clone()),
        None => (close + 1, String::new()),
    };
    let replace = !block.is_empty();
    block.extend(lines[close..close + 1 + run].iter().map(String::as_str));
    let failure = Item::Failure(ParseFailure {
        line,
        path,
        block: block.join("\n"),
        message: format!(
            "line {line}: the hunk is cut short: the fence at line {} closes the diff, but {why}; a line of the file that is a fence needs its diff prefix (` ``` ` for context)",
            close + 1
        ),
    });
    match out.items.last_mut() {
        Some(item) if replace => *item = failure,
        _ => out.items.push(failure),
    }
}

/// Whether the fence line `rest[0]`, read as a context line, and the lines after it make up
/// exactly the `old` and `new` lines a hunk's counts still want, one of them past the fence
/// and not blank: then the counts, hints that are often off by a line, are clearly the
/// hunk's and the fence cut it.
fn completes(rest: &[String], mut old: usize, mut new: usize) -> bool {
    let mut past_fence = false;
    for (k, l) in rest.iter().enumerate() {
        if old == 0 && new == 0 {
            break;
        }
        let (o, n) = match l.chars().next() {
            _ if k == 0 => (1, 1),
            Some('\\') => continue,
            Some('-') => (1, 0),
            Some('+') => (0, 1),
            Some(' ') | None => (1, 1),
            Some(_) => return false,
        };
        if old < o || new < n {
            return false;
        }
        old -= o;
        new -= n;
        past_fence |= k > 0 && !is_blank(l);
    }
    old == 0 && new == 0 && past_fence
}

/// A line that reads as a hunk line: `@@`, or a diff prefix before some text.
fn is_hunk_line(line: &str) -> bool {
    let rule = line.len() >= 3 && line.trim_end().bytes().all(|b| b == b'-');
    line.starts_with("@@") || (line.starts_with([' ', '+', '-']) && !is_blank(line) && !rule)
}

/// A Markdown list item (`- text`, `+ text`) as prose right under a fence would start.
fn is_bullet(line: &str) -> bool {
    let mut chars = line.chars();
    matches!(chars.next(), Some('-' | '+'))
        && chars.next() == Some(' ')
        && chars
            .next()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '*' | '`' | '_'))
}

/// Parses a patch file read whole (several files, git headers, `\ No newline at end of file`).
pub fn parse_patch_file(text: &str) -> Parsed {
    let lines = reply_lines(text);
    let mut out = Parsed::default();
    Parser::new(false).run(&lines, 0, &mut out);
    out
}

/// One file's header state.
#[derive(Default)]
struct Section {
    old: Option<String>,
    new: Option<String>,
    git_a: Option<String>,
    git_b: Option<String>,
    new_file: bool,
    deleted: bool,
    rename_from: Option<String>,
    rename_to: Option<String>,
    copy_from: Option<String>,
    copy_to: Option<String>,
    header_line: usize,
    header_text: Vec<String>,
    emitted: bool,
    hunks: usize,
    created: bool,
}

struct Parser {
    reply: bool,
    prev_path: Option<String>,
}

const DEV_NULL: &str = "/dev/null";

impl Parser {
    fn new(reply: bool) -> Parser {
        Parser {
            reply,
            prev_path: None,
        }
    }

    fn run(&mut self, lines: &[String], base: usize, out: &mut Parsed) {
        let mut sec = Section::default();
        let mut i = 0;
        let n = lines.len();
        while i < n {
            let line = &lines[i];
            if let Some(rest) = line.strip_prefix("diff --git ") {
                self.flush(&mut sec, out);
                sec = Section {
                    header_line: base + i + 1,
                    header_text: vec![line.clone()],
                    ..Section::default()
                };
                let (a, b) = split_git_header(rest);
                sec.git_a = a;
                sec.git_b = b;
                i += 1;
                continue;
            }
            if line.starts_with("--- ") && i + 1 < n && lines[i + 1].starts_with("+++ ") {
                if sec.hunks > 0 || sec.old.is_some() {
                    self.flush(&mut sec, out);
                    sec = Section::default();
                }
                if sec.header_text.is_empty() {
                    sec.header_line = base + i + 1;
                }
                sec.header_text.push(line.clone());
                sec.header_text.push(lines[i + 1].clone());
                let old = header_path(&line[4..], "a/");
                let new = header_path(&lines[i + 1][4..], "b/");
                if old == DEV_NULL {
                    sec.new_file = true;
                }
                if new == DEV_NULL {
                    sec.deleted = true;
                }
                sec.old = Some(old);
                sec.new = Some(new);
                i += 2;
                continue;
            }
            if line.starts_with("@@") {
                i = self.hunk(lines, i, base, &mut sec, out);
                continue;
            }
            if !sec.header_text.is_empty() && sec.hunks == 0 {
                let mut header = true;
                if line.starts_with("new file mode") {
                    sec.new_file = true;
                } else if line.starts_with("deleted file mode") {
                    sec.deleted = true;
                } else if let Some(p) = line.strip_prefix("rename from ") {
                    sec.rename_from = Some(unquote(p));
                } else if let Some(p) = line.strip_prefix("rename to ") {
                    sec.rename_to = Some(unquote(p));
                } else if let Some(p) = line.strip_prefix("copy from ") {
                    sec.copy_from = Some(unquote(p));
                } else if let Some(p) = line.strip_prefix("copy to ") {
                    sec.copy_to = Some(unquote(p));
                } else if line.starts_with("GIT binary patch") || line.starts_with("Binary files ")
                {
                    let path = self.section_path(&sec).unwrap_or_default();
                    out.items.push(Item::Failure(ParseFailure {
                        line: base + i + 1,
                        path,
                        block: line.clone(),
                        message: format!("line {}: binary patches are not supported", base + i + 1),
                    }));
                    sec.emitted = true;
                    sec.hunks = usize::MAX / 2;
                } else if !(line.starts_with("index ")
                    || line.starts_with("old mode")
                    || line.starts_with("new mode")
                    || line.starts_with("similarity index")
                    || line.starts_with("dissimilarity index"))
                {
                    header = false;
                }
                if header {
                    sec.header_text.push(line.clone());
                }
            }
            i += 1;
        }
        self.flush(&mut sec, out);
    }

    fn section_path(&self, sec: &Section) -> Option<String> {
        let pick = |p: &Option<String>| p.clone().filter(|p| p != DEV_NULL);
        pick(&sec.new)
            .or_else(|| sec.rename_to.clone())
            .or_else(|| sec.copy_to.clone())
            .or_else(|| sec.git_b.clone())
            .or_else(|| pick(&sec.old))
            .or_else(|| sec.git_a.clone())
    }

    /// Emits the file-level operations of a section (delete, rename, copy, empty new file) once.
    fn emit_header_ops(&mut self, sec: &mut Section, out: &mut Parsed) {
        if sec.emitted {
            return;
        }
        sec.emitted = true;
        let block = sec.header_text.join("\n");
        let line = sec.header_line.max(1);
        if let (Some(from), Some(to)) = (&sec.rename_from, &sec.rename_to) {
            out.items.push(Item::Edit(Edit {
                path: from.clone(),
                line,
                block: block.clone(),
                op: Op::Rename { to: to.clone() },
            }));
        }
        if let (Some(from), Some(to)) = (&sec.copy_from, &sec.copy_to) {
            out.items.push(Item::Edit(Edit {
                path: from.clone(),
                line,
                block: block.clone(),
                op: Op::Copy { to: to.clone() },
            }));
        }
        if sec.deleted {
            let path = sec
                .old
                .clone()
                .filter(|p| p != DEV_NULL)
                .or_else(|| sec.git_a.clone());
            if let Some(path) = path {
                out.items.push(Item::Edit(Edit {
                    path,
                    line,
                    block,
                    op: Op::Delete,
                }));
            }
        }
    }

    fn flush(&mut self, sec: &mut Section, out: &mut Parsed) {
        if sec.header_text.is_empty() {
            return;
        }
        self.emit_header_ops(sec, out);
        if sec.new_file
            && sec.hunks == 0
            && !sec.deleted
            && let Some(path) = self.section_path(sec)
        {
            {
                out.items.push(Item::Edit(Edit {
                    path,
                    line: sec.header_line.max(1),
                    block: sec.header_text.join("\n"),
                    op: Op::Create {
                        lines: Vec::new(),
                        final_newline: true,
                        append_if_exists: false,
                    },
                }));
            }
        }
        if let Some(p) = self.section_path(sec) {
            self.prev_path = Some(p);
        }
    }

    /// Reads the hunk starting at `lines[at]`; returns the index after it.
    fn hunk(
        &mut self,
        lines: &[String],
        at: usize,
        base: usize,
        sec: &mut Section,
        out: &mut Parsed,
    ) -> usize {
        let header = &lines[at];
        let counts = parse_counts(header);
        let mut h = Hunk {
            // Line numbers are hints; absurd ones are clamped so arithmetic on them is safe.
            old_start: counts.map(|(a, b, _)| {
                let a = a.min(1 << 40);
                if b == 0 { a + 1 } else { a }
            }),
            ..Hunk::default()
        };
        let mut i = at + 1;
        let n = lines.len();
        let counted = counts.filter(|_| !self.reply);
        let (mut old_left, mut new_left) = counted.map_or((0, 0), |(_, b, d)| (b, d));
        let mut early: Option<usize> = None;
        // The reading where space-prefixed context lines lost their diff space (reply only).
        let mut whole: Vec<HunkLine> = Vec::new();
        let mut spaced = false;
        while i < n {
            let l = &lines[i];
            if l.starts_with('\\') {
                match h.lines.last() {
                    Some(HunkLine::Remove(_)) => h.old_no_newline = true,
                    Some(HunkLine::Add(_)) => h.new_no_newline = true,
                    Some(HunkLine::Context(_)) => {
                        h.old_no_newline = true;
                        h.new_no_newline = true;
                    }
                    None => {}
                }
                i += 1;
                continue;
            }
            if counted.is_some() {
                if old_left == 0 && new_left == 0 {
                    break;
                }
                let kind = l.chars().next();
                match kind {
                    Some(' ') | None if old_left > 0 && new_left > 0 => {
                        h.lines
                            .push(HunkLine::Context(l.get(1..).unwrap_or("").to_string()));
                        old_left -= 1;
                        new_left -= 1;
                    }
                    Some('-') if old_left > 0 => {
                        h.lines.push(HunkLine::Remove(l[1..].to_string()));
                        old_left -= 1;
                    }
                    Some('+') if new_left > 0 => {
                        h.lines.push(HunkLine::Add(l[1..].to_string()));
                        new_left -= 1;
                    }
                    _ => {
                        early = Some(i);
                        break;
                    }
                }
                i += 1;
                continue;
            }
            // Prefix-driven: until a line that starts something else.
            if l.starts_with("@@")
                || l.starts_with("diff --git ")
                || (l.starts_with("--- ") && i + 1 < n && lines[i + 1].starts_with("+++ "))
            {
                break;
            }
            let line = match l.chars().next() {
                Some(' ') => {
                    if self.reply && !is_blank(l) {
                        spaced = true;
                        whole.push(HunkLine::Context(l.clone()));
                    } else {
                        whole.push(HunkLine::Context(l[1..].to_string()));
                    }
                    h.lines.push(HunkLine::Context(l[1..].to_string()));
                    i += 1;
                    continue;
                }
                Some('-') => HunkLine::Remove(l[1..].to_string()),
                Some('+') => HunkLine::Add(l[1..].to_string()),
                None => HunkLine::Context(String::new()),
                // A line without a diff prefix is context, whole (the model dropped the space).
                Some(_) if self.reply => HunkLine::Context(l.clone()),
                Some(_) => break,
            };
            whole.push(line.clone());
            h.lines.push(line);
            i += 1;
        }
        if counted.is_some() && early.is_none() && (old_left > 0 || new_left > 0) {
            early = Some(i);
        }
        if counted.is_none() {
            // Blank lines trailing a hunk are layout, not context.
            while matches!(h.lines.last(), Some(HunkLine::Context(c)) if c.is_empty()) {
                h.lines.pop();
            }
            if spaced {
                whole.truncate(h.lines.len());
                h.whole_context = Some(whole);
            }
        }
        let mut block_lines = Vec::new();
        if sec.hunks == 0 || self.reply {
            block_lines.extend(
                sec.header_text
                    .iter()
                    .filter(|l| l.starts_with("--- ") || l.starts_with("+++ "))
                    .cloned(),
            );
        }
        block_lines.extend(lines[at..i.min(n)].iter().cloned());
        let block = block_lines.join("\n");
        let line = base + at + 1;
        self.emit_header_ops(sec, out);
        sec.hunks += 1;
        let path = self.section_path(sec).or_else(|| self.prev_path.clone());
        if let Some(e) = early {
            out.items.push(Item::Failure(ParseFailure {
                line,
                path: path.unwrap_or_default(),
                block,
                message: format!(
                    "line {}: the hunk ends early: expected {old_left} more old and {new_left} more new lines",
                    base + e + 1
                ),
            }));
            return i;
        }
        if sec.deleted {
            return i;
        }
        let Some(path) = path else {
            out.items.push(Item::Failure(ParseFailure {
                line,
                path: String::new(),
                block,
                message: format!(
                    "line {line}: missing filename: start the diff with `--- PATH` and `+++ PATH` lines"
                ),
            }));
            return i;
        };
        self.prev_path = Some(path.clone());
        if !h.has_changes() {
            return i;
        }
        let pure_addition = h.lines.iter().all(|l| matches!(l, HunkLine::Add(_)));
        let op = if sec.new_file && !sec.created && !pure_addition {
            // `--- /dev/null` with context or `-` lines: the file exists in the model's mind;
            // an ordinary hunk on the `+++` path, its `-0,0` line numbers no hint.
            sec.created = true;
            h.new_file = true;
            h.old_start = None;
            Op::Hunk(h)
        } else if sec.new_file && !sec.created {
            sec.created = true;
            Op::Create {
                lines: h.new_lines(),
                final_newline: !h.new_no_newline,
                append_if_exists: self.reply,
            }
        } else {
            Op::Hunk(h)
        };
        out.items.push(Item::Edit(Edit {
            path,
            line,
            block,
            op,
        }));
        i
    }
}

/// `@@ -a,b +c,d @@` → `(a, b, d)`; counts default to 1.
fn parse_counts(header: &str) -> Option<(usize, usize, usize)> {
    let body = header.strip_prefix("@@")?.trim_start();
    let mut parts = body.split_whitespace();
    let old = parts.next()?.strip_prefix('-')?;
    let new = parts.next()?.strip_prefix('+')?;
    let range = |s: &str| -> Option<(usize, usize)> {
        match s.split_once(',') {
            Some((a, b)) => Some((a.parse().ok()?, b.parse().ok()?)),
            None => Some((s.parse().ok()?, 1)),
        }
    };
    let (a, b) = range(old)?;
    let (_, d) = range(new)?;
    Some((a, b, d))
}

/// The path of a `---`/`+++` line: quotes and a trailing timestamp go, and the git prefix.
pub(crate) fn header_path(raw: &str, prefix: &str) -> String {
    let raw = raw.trim_end();
    let p = if raw.starts_with('"') {
        unquote(raw)
    } else {
        raw.split('\t').next().unwrap_or(raw).trim_end().to_string()
    };
    if p == DEV_NULL {
        return p;
    }
    p.strip_prefix(prefix).map(str::to_string).unwrap_or(p)
}

/// Splits `a/X b/Y` of a `diff --git` line, preferring the split where X equals Y.
pub(crate) fn split_git_header(rest: &str) -> (Option<String>, Option<String>) {
    if rest.starts_with('"') {
        let parts = split_quoted(rest);
        if parts.len() == 2 {
            let strip = |s: &str, p: &str| s.strip_prefix(p).unwrap_or(s).to_string();
            return (Some(strip(&parts[0], "a/")), Some(strip(&parts[1], "b/")));
        }
        return (None, None);
    }
    let candidates: Vec<usize> = rest.match_indices(" b/").map(|(i, _)| i).collect();
    for &i in &candidates {
        let a = rest[..i].strip_prefix("a/").unwrap_or(&rest[..i]);
        let b = &rest[i + 3..];
        if a == b {
            return (Some(a.to_string()), Some(b.to_string()));
        }
    }
    match candidates.first() {
        Some(&i) => (
            Some(
                rest[..i]
                    .strip_prefix("a/")
                    .unwrap_or(&rest[..i])
                    .to_string(),
            ),
            Some(rest[i + 3..].to_string()),
        ),
        None => (None, None),
    }
}

fn split_quoted(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        if rest.starts_with('"') {
            let bytes = rest.as_bytes();
            let mut j = 1;
            while j < bytes.len() && bytes[j] != b'"' {
                if bytes[j] == b'\\' {
                    j += 1;
                }
                j += 1;
            }
            let end = (j + 1).min(rest.len());
            out.push(unquote(&rest[..end]));
            rest = rest[end..].trim_start();
        } else {
            let end = rest.find(' ').unwrap_or(rest.len());
            out.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    out
}

/// Undoes git's C-style quoting of a path.
pub(crate) fn unquote(s: &str) -> String {
    let s = s.trim();
    let Some(inner) = s.strip_prefix('"').and_then(|r| r.strip_suffix('"')) else {
        return s.to_string();
    };
    let mut bytes = Vec::new();
    let mut it = inner.bytes().peekable();
    while let Some(b) = it.next() {
        if b != b'\\' {
            bytes.push(b);
            continue;
        }
        match it.next() {
            Some(b'n') => bytes.push(b'\n'),
            Some(b't') => bytes.push(b'\t'),
            Some(b'"') => bytes.push(b'"'),
            Some(b'\\') => bytes.push(b'\\'),
            Some(d @ b'0'..=b'7') => {
                let mut v = u32::from(d - b'0');
                for _ in 0..2 {
                    if let Some(&n @ b'0'..=b'7') = it.peek() {
                        v = v * 8 + u32::from(n - b'0');
                        it.next();
                    }
                }
                bytes.push((v & 0xff) as u8);
            }
            Some(o) => bytes.push(o),
            None => {}
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
