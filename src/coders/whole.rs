//! The `whole` format: each file listed complete in a fence, its path alone on the line above.

use super::edit::{Edit, Item, Op, ParseFailure, Parsed};
use super::text::{
    Fence, FenceLine, clean_path, fence_line, indent_of, is_blank, is_head, is_marker,
    is_shell_lang, is_tail, normalize_path, path_in_line, reply_lines,
};

const EXTENSIONLESS: [&str; 14] = [
    "Makefile",
    "makefile",
    "GNUmakefile",
    "Dockerfile",
    "Containerfile",
    "Justfile",
    "justfile",
    "Rakefile",
    "Gemfile",
    "Procfile",
    "Vagrantfile",
    "Jenkinsfile",
    "LICENSE",
    "README",
];

const MISSING: &str = "missing filename: put the path alone on the line before the fence";

/// Parses whole-file listings, with no known files.
pub fn parse(text: &str) -> (Vec<Edit>, Vec<ParseFailure>) {
    parse_items(text, None, &[], &|_| false).split()
}

/// Parses whole-file listings; `known` are the files the model was given (for the only-file
/// rule and for recognising names in backticks); `exists` tells whether another path names
/// a file that exists (a backticked name is used only when it is known or exists).
pub fn parse_items(
    text: &str,
    fence: Option<&Fence>,
    known: &[String],
    exists: &dyn Fn(&str) -> bool,
) -> Parsed {
    let lines = reply_lines(text);
    let n = lines.len();
    let mut out = Parsed::default();
    // Paths listed so far (normalised: `./a` and `a` are one file): whether under their own
    // path line, and the item index.
    let mut seen: Vec<(String, bool, usize)> = Vec::new();
    let mut prose_start = 0;
    let mut i = 0;
    while i < n {
        let open = match fence_line(&lines[i], fence) {
            Some(f @ (FenceLine::Ticks(..) | FenceLine::TagOpen(_))) => f,
            _ => {
                i += 1;
                continue;
            }
        };
        let end = close_of(&lines, i, &open, fence).unwrap_or(n);
        let info = match &open {
            FenceLine::Ticks(_, s) | FenceLine::TagOpen(s) => s.clone(),
            FenceLine::TagClose => String::new(),
        };
        let content: Vec<String> = lines[i + 1..end].to_vec();
        let block = lines[path_line(&lines, i, prose_start, fence, known).map_or(i, |(_, j)| j)
            ..(end + 1).min(n)]
            .join("\n");
        let mut path = path_line(&lines, i, prose_start, fence, known).map(|(p, _)| p);
        if path.is_none() {
            path = super::text::info_path(&info);
        }
        if path.is_none() && is_shell_lang(&info) {
            let cmd = content.join("\n");
            if !cmd.trim().is_empty() {
                out.suggested_commands.push(cmd.trim().to_string());
            }
            prose_start = end + 1;
            i = end + 1;
            continue;
        }
        let explicit = path.is_some();
        if path.is_none() {
            path = named_in_backticks(&lines[prose_start..i], known, exists);
        }
        if path.is_none() && known.len() == 1 {
            path = Some(known[0].clone());
        }
        match path {
            Some(p) => {
                let edit = Item::Edit(Edit {
                    path: p.clone(),
                    line: i + 1,
                    block,
                    op: Op::Whole { lines: content },
                });
                let key = normalize_path(&p).unwrap_or_else(|_| p.clone());
                match seen.iter().position(|(q, _, _)| *q == key) {
                    // The first listing of a path wins, except that a listing under its own
                    // path line wins over one whose path was only inferred (an example shown
                    // before the real file).
                    Some(k) if explicit && !seen[k].1 => {
                        let at = seen[k].2;
                        out.items[at] = edit;
                        seen[k].1 = true;
                    }
                    Some(_) => {}
                    None => {
                        seen.push((key, explicit, out.items.len()));
                        out.items.push(edit);
                    }
                }
            }
            None => out.items.push(Item::Failure(ParseFailure {
                line: i + 1,
                path: String::new(),
                block,
                message: format!("line {}: {MISSING}", i + 1),
            })),
        }
        prose_start = end + 1;
        i = end + 1;
    }
    out
}

/// Where the fence opened at `open_at` closes. Inside a backtick fence, a fence line with a
/// language opens a nested fence whose bare close does not end the listing.
fn close_of(
    lines: &[String],
    open_at: usize,
    open: &FenceLine,
    fence: Option<&Fence>,
) -> Option<usize> {
    match open {
        FenceLine::Ticks(t, _) => {
            // Only a fence line no deeper than the opening one counts (unindented, for the
            // usual unindented listing): an indented ``` is the file's own content.
            let open_indent = indent_of(&lines[open_at]).len();
            let mut depth = 0usize;
            for (j, l) in lines.iter().enumerate().skip(open_at + 1) {
                if indent_of(l).len() > open_indent {
                    continue;
                }
                if let Some(FenceLine::Ticks(t2, info)) = fence_line(l, fence) {
                    if t2 < *t {
                        continue;
                    }
                    if !info.is_empty() {
                        depth += 1;
                    } else if depth == 0 {
                        return Some(j);
                    } else {
                        depth -= 1;
                    }
                }
            }
            None
        }
        _ => (open_at + 1..lines.len())
            .find(|&j| matches!(fence_line(&lines[j], fence), Some(FenceLine::TagClose))),
    }
}

/// The path on the line above the fence (blank lines skipped, not past the prose start).
fn path_line(
    lines: &[String],
    fence_at: usize,
    floor: usize,
    fence: Option<&Fence>,
    known: &[String],
) -> Option<(String, usize)> {
    let mut j = fence_at;
    while j > floor {
        j -= 1;
        let l = &lines[j];
        if is_blank(l) {
            continue;
        }
        if fence_line(l, fence).is_some() || is_marker(l) {
            return None;
        }
        let c = clean_path(l);
        // A lone word such as "Result:" is a path only when it names a known file or a
        // well-known file without an extension.
        let bare_word = !super::text::has_extension(&c) && !c.contains('/');
        if bare_word && !known.contains(&c) && !EXTENSIONLESS.contains(&c.as_str()) {
            return None;
        }
        return path_in_line(&c, &|p| known.iter().any(|k| k == p)).map(|c| (c, j));
    }
    None
}

/// The known file most recently named in backticks in the prose. Only known files: a fence
/// in follow-up prose ("run `setup.sh`:") must not create a file from a backticked word.
fn named_in_backticks(
    prose: &[String],
    known: &[String],
    exists: &dyn Fn(&str) -> bool,
) -> Option<String> {
    let mut last = None;
    for l in prose {
        let mut parts = l.split('`');
        parts.next();
        while let Some(inside) = parts.next() {
            let s = inside.trim();
            let pathlike = !s.is_empty()
                && !s.contains(char::is_whitespace)
                && (s.contains('/') || super::text::has_extension(s));
            if known.iter().any(|k| k == s) || (pathlike && exists(s)) {
                last = Some(s.to_string());
            }
            parts.next();
        }
    }
    last
}

/// Why a listing is not a whole file, if it is not (EDIT-FORMATS.md, `whole`): it holds
/// SEARCH/REPLACE markers or a diff hunk, an elision stands for omitted code, or (unless
/// `allow_shrink`) it drops more than half of the lines of the file it replaces. `old` is that
/// file's lines when it exists; `first_line` the reply line of the listing's first line. A
/// line the file already had is content, whatever it looks like, and so are hunks in a
/// `.diff` or `.patch` file. The reason is written for the model as much as for the user: it
/// is what a model task reflects.
pub fn refusal(
    path: &str,
    listing: &[String],
    old: Option<&[String]>,
    first_line: usize,
    allow_shrink: bool,
) -> Option<String> {
    let had: std::collections::HashSet<&str> =
        old.unwrap_or_default().iter().map(|l| l.trim()).collect();
    let new_here = |l: &str| !had.contains(l.trim());
    // Whether some line of the file is gone from the listing: a `...` line stands for code
    // only then (else it is, say, a new Python stub's body).
    let listed: std::collections::HashSet<&str> = listing.iter().map(|l| l.trim()).collect();
    let lost_code = old
        .unwrap_or_default()
        .iter()
        .any(|l| !is_blank(l) && !listed.contains(l.trim()));
    const RESEND: &str = "send the complete file, every line of it";
    for (k, l) in listing.iter().enumerate() {
        let at = first_line + k;
        if (is_head(l) || is_tail(l)) && new_here(l) {
            return Some(format!(
                "line {at}: the listing holds the SEARCH/REPLACE marker `{}`, so it is not a whole file; {RESEND}",
                l.trim()
            ));
        }
        let next = listing.get(k + 1).map_or("", String::as_str);
        let hunk_header =
            l.starts_with("@@ -") || l.trim_end() == "@@ @@" || l.trim_end() == "@@ ... @@";
        let file_headers = l.starts_with("--- ") && next.starts_with("+++ ");
        let patch_file = path.ends_with(".diff") || path.ends_with(".patch");
        if (hunk_header || file_headers) && new_here(l) && !patch_file {
            return Some(format!(
                "line {at}: the listing holds a diff hunk (`{}`), so it is not a whole file; {RESEND}",
                l.trim()
            ));
        }
        // An elision stands for code only where the file had code to leave out.
        let bare_dots = matches!(l.trim(), "..." | "…");
        if old.is_some_and(|o| !o.is_empty())
            && is_elision(l)
            && new_here(l)
            && (lost_code || !bare_dots)
        {
            return Some(format!(
                "line {at}: `{}` stands for omitted code, so the listing is not a whole file; {RESEND}, with nothing left out",
                l.trim()
            ));
        }
    }
    if let Some(old) = old
        && !allow_shrink
        && listing.len() * 2 < old.len()
    {
        let lines = |n: usize| format!("{n} line{}", if n == 1 { "" } else { "s" });
        return Some(format!(
            "the listing has {} where the file has {}: it drops more than half of the file, so it is probably not the whole file; {RESEND} (when removing that much is intended, the task sets `allow_shrink: true`)",
            lines(listing.len()),
            lines(old.len())
        ));
    }
    None
}

/// Whether a line is an elision standing for omitted code: only `...` or `…`, or a comment such
/// as `# ... rest of the file unchanged ...` or `// ... existing code ...`.
fn is_elision(line: &str) -> bool {
    let t = line.trim();
    if t == "..." || t == "…" {
        return true;
    }
    let Some(body) = ["<!--", "{/*", "/*", "//", "--", "#", ";", "%", "*"]
        .iter()
        .find_map(|lead| t.strip_prefix(lead))
    else {
        return false;
    };
    let body = ["-->", "*/}", "*/"]
        .iter()
        .find_map(|tail| body.trim_end().strip_suffix(tail))
        .unwrap_or(body)
        .trim()
        .to_lowercase();
    let dots = body.contains("...") || body.contains('…');
    let only_dots = body
        .chars()
        .all(|c| c == '.' || c == '…' || c.is_whitespace());
    const PHRASES: [&str; 12] = [
        "rest of",
        "existing",
        "unchanged",
        "remain",
        "same as",
        "as before",
        "omitted",
        "previous code",
        "original code",
        "other code",
        "other methods",
        "more code",
    ];
    let phrase = PHRASES.iter().any(|p| body.contains(p));
    let rest_unchanged = body.contains("rest of the")
        && ["unchanged", "the same", "remain"]
            .iter()
            .any(|w| body.contains(w));
    (dots && (only_dots || phrase)) || rest_unchanged || body.contains("existing code")
}

#[cfg(test)]
mod tests {
    use super::is_elision;

    #[test]
    fn elisions_are_told_from_code_and_comments() {
        for l in [
            "...",
            "  …",
            "# ... rest of the file unchanged ...",
            "    // ... existing code ...",
            "/* ... */",
            "<!-- ... rest of the page ... -->",
            "# rest of the code remains the same",
            "-- ... other code ...",
        ] {
            assert!(is_elision(l), "{l}");
        }
        for l in [
            "# Wait for the server...",
            "print('...')",
            "    ...args,",
            "// TODO: compute the hash code...",
            "---",
            "x = 1  # ...",
        ] {
            assert!(!is_elision(l), "{l}");
        }
    }
}
