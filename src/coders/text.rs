//! File text as the engine sees it: lines without terminators, plus what it takes to write the
//! file back byte for byte (BOM, per-line CRLF, final newline). Also reply-text helpers shared
//! by the parsers: line splitting, fences, and path cleaning.

const BOM: &str = "\u{feff}";

/// A text file split into lines, remembering how to write it back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileText {
    /// Whether the file starts with a UTF-8 BOM (kept, never matched).
    pub bom: bool,
    /// The lines, without `\n` or `\r\n`.
    pub lines: Vec<String>,
    /// Per line: whether it ended with `\r\n`.
    pub crlf: Vec<bool>,
    /// The style new lines get: the file's majority style.
    pub default_crlf: bool,
    /// Whether the last line ends with a newline.
    pub final_newline: bool,
}

impl FileText {
    /// A new, empty file written with LF endings.
    pub fn empty() -> FileText {
        FileText {
            bom: false,
            lines: Vec::new(),
            crlf: Vec::new(),
            default_crlf: false,
            final_newline: true,
        }
    }

    /// A new file holding `lines`, LF, with a final newline.
    pub fn new_with(lines: Vec<String>) -> FileText {
        let crlf = vec![false; lines.len()];
        FileText {
            bom: false,
            lines,
            crlf,
            default_crlf: false,
            final_newline: true,
        }
    }

    /// Decodes bytes; `None` when they are not UTF-8.
    pub fn decode(bytes: &[u8]) -> Option<FileText> {
        let text = std::str::from_utf8(bytes).ok()?;
        let (bom, text) = match text.strip_prefix(BOM) {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let count = memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1;
        let mut lines = Vec::with_capacity(count);
        let mut crlf = Vec::with_capacity(count);
        let mut final_newline = true;
        let mut rest = text;
        while !rest.is_empty() {
            match memchr::memchr(b'\n', rest.as_bytes()) {
                Some(i) => {
                    let line = &rest[..i];
                    match line.strip_suffix('\r') {
                        Some(l) => {
                            lines.push(l.to_string());
                            crlf.push(true);
                        }
                        None => {
                            lines.push(line.to_string());
                            crlf.push(false);
                        }
                    }
                    rest = &rest[i + 1..];
                }
                None => {
                    lines.push(rest.to_string());
                    crlf.push(false);
                    final_newline = false;
                    rest = "";
                }
            }
        }
        let terminated = if final_newline {
            crlf.len()
        } else {
            crlf.len().saturating_sub(1)
        };
        let n_crlf = crlf[..terminated].iter().filter(|c| **c).count();
        let default_crlf = terminated > 0 && n_crlf * 2 > terminated
            || (n_crlf * 2 == terminated && terminated > 0 && crlf[0]);
        Some(FileText {
            bom,
            lines,
            crlf,
            default_crlf,
            final_newline,
        })
    }

    /// Encodes back to bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.lines.iter().map(|l| l.len() + 2).sum::<usize>() + 3);
        if self.bom {
            out.extend_from_slice(BOM.as_bytes());
        }
        let n = self.lines.len();
        for (i, line) in self.lines.iter().enumerate() {
            out.extend_from_slice(line.as_bytes());
            if i + 1 < n || self.final_newline {
                if self.crlf.get(i).copied().unwrap_or(self.default_crlf) {
                    out.extend_from_slice(b"\r\n");
                } else {
                    out.push(b'\n');
                }
            }
        }
        out
    }

    /// Replaces lines `start..end` with `new`. New lines take the file's style. A file without
    /// a final newline keeps none unless this adds lines after its last line.
    pub fn splice(&mut self, start: usize, end: usize, new: Vec<String>) {
        let len = self.lines.len();
        let (start, end) = (start.min(len), end.min(len).max(start.min(len)));
        if !self.final_newline && end == len && new.len() > end - start {
            self.final_newline = true;
            // The old last line gets a terminator now: the file's style.
            if start == len
                && let Some(last) = self.crlf.last_mut()
            {
                *last = self.default_crlf;
            }
        }
        let style = self.default_crlf;
        let count = new.len();
        self.lines.splice(start..end, new);
        self.crlf
            .splice(start..end, std::iter::repeat_n(style, count));
        if self.lines.is_empty() {
            self.final_newline = true;
        }
    }

    /// The lines as string slices.
    pub fn line_refs(&self) -> Vec<&str> {
        self.lines.iter().map(String::as_str).collect()
    }
}

/// Splits reply text into lines after normalising CRLF (and a leading BOM) away.
pub fn reply_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::with_capacity(memchr::memchr_iter(b'\n', text.as_bytes()).count() + 1);
    lines.extend(reply_line_strs(text).map(str::to_string));
    if lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
    lines
}

/// The lines of [`reply_lines`], borrowed, with a final empty one when the text ends with a
/// newline: for a scan that keeps no line.
pub fn reply_line_strs(text: &str) -> impl Iterator<Item = &str> {
    let text = text.strip_prefix(BOM).unwrap_or(text);
    // Splitting on `\n` and dropping one `\r` before it is what turning every `\r\n` into
    // `\n` first would give, without the copy.
    text.split('\n').map(|l| l.strip_suffix('\r').unwrap_or(l))
}

/// Splits text into lines (a final newline does not make an extra empty line).
pub fn split_lines(text: &str) -> Vec<String> {
    reply_lines(text)
}

/// The leading whitespace of a line.
pub fn indent_of(line: &str) -> &str {
    &line[..line.len() - line.trim_start().len()]
}

/// Whether a line is empty or only whitespace.
pub fn is_blank(line: &str) -> bool {
    line.trim().is_empty()
}

/// A fence pair: what opens and what closes a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    /// The opening marker, e.g. ```` ``` ```` or `<source>`.
    pub open: String,
    /// The closing marker.
    pub close: String,
}

/// The fences a prompt may choose from, in order of preference.
pub const FENCES: [(&str, &str); 7] = [
    ("```", "```"),
    ("````", "````"),
    ("<source>", "</source>"),
    ("<code>", "</code>"),
    ("<pre>", "</pre>"),
    ("<codeblock>", "</codeblock>"),
    ("<sourcecode>", "</sourcecode>"),
];

/// The first fence that no line of any shown file starts with (docs/edit-formats.md, Fences).
pub fn choose_fence(files: &[&str]) -> (String, String) {
    for (open, close) in FENCES {
        let clash = files.iter().any(|f| {
            f.lines().any(|l| {
                let t = l.trim_start();
                if open.starts_with('`') {
                    // ```` ``` ```` clashes with any line of 3+ backticks; a 4-backtick fence only
                    // with 4+.
                    t.starts_with(open)
                } else {
                    t.starts_with(open) || t.starts_with(close)
                }
            })
        });
        if !clash {
            return (open.to_string(), close.to_string());
        }
    }
    // Every fence clashes: a fence longer than any backtick run in the files.
    let longest = files
        .iter()
        .flat_map(|f| f.lines())
        .map(|l| l.trim_start().bytes().take_while(|b| *b == b'`').count())
        .max()
        .unwrap_or(0);
    let f = "`".repeat(longest.max(4) + 1);
    (f.clone(), f)
}

/// What kind of fence line a reply line is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FenceLine {
    /// Opens (or, when bare, may close) a backtick fence: the backtick count and the info text.
    Ticks(usize, String),
    /// A tag fence that opens, with its info text (`<source>python`).
    TagOpen(String),
    /// A tag fence that closes.
    TagClose,
}

/// Classifies a reply line as a fence line, considering the chosen fence too.
pub fn fence_line(line: &str, chosen: Option<&Fence>) -> Option<FenceLine> {
    let t = line.trim();
    let ticks = t.bytes().take_while(|b| *b == b'`').count();
    if ticks >= 3 {
        let info = t[ticks..].trim();
        if !info.contains('`') {
            return Some(FenceLine::Ticks(ticks, info.to_string()));
        }
        return None;
    }
    if let Some(f) = chosen
        && !f.open.starts_with('`')
    {
        if t == f.close {
            return Some(FenceLine::TagClose);
        }
        if let Some(rest) = t.strip_prefix(f.open.as_str()) {
            return Some(FenceLine::TagOpen(rest.trim().to_string()));
        }
    }
    None
}

/// Whether the line opens or closes one of the tag fences of [`FENCES`] (`<source>python`,
/// `</source>`), whichever fence the prompt chose.
pub fn is_tag_fence(line: &str) -> bool {
    let t = line.trim();
    FENCES
        .iter()
        .filter(|(open, _)| open.starts_with('<'))
        .any(|(open, close)| t.starts_with(open) || t == *close)
}

/// Whether the line is any kind of fence line.
pub fn is_fence(line: &str, chosen: Option<&Fence>) -> bool {
    fence_line(line, chosen).is_some()
}

/// The tag fence a reply uses, for a reply no prompt chose a fence for (`codefleet apply`, an
/// `edits:` file): aider shows files holding ```` ``` ```` lines in `<source>`, `<code>`, …
/// and the model answers in kind. Decided by the reply's first fence line: a tag opening (with
/// its closing tag on a later line) picks that fence; a backtick line or none picks nothing.
pub fn reply_fence(text: &str) -> Option<Fence> {
    let mut lines = reply_line_strs(text);
    while let Some(line) = lines.next() {
        let t = line.trim();
        if t.starts_with("```") {
            return None;
        }
        let tag = FENCES.iter().skip(2).find(|(open, _)| {
            t.strip_prefix(open)
                .is_some_and(|info| !info.contains(['<', '>', ' ']))
        });
        if let Some((open, close)) = tag {
            return lines.any(|l| l.trim() == *close).then(|| Fence {
                open: open.to_string(),
                close: close.to_string(),
            });
        }
    }
    None
}

/// Languages whose fences are shell commands.
pub fn is_shell_lang(info: &str) -> bool {
    let lang = info
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    matches!(
        lang.as_str(),
        "bash"
            | "sh"
            | "shell"
            | "zsh"
            | "fish"
            | "ksh"
            | "csh"
            | "tcsh"
            | "powershell"
            | "pwsh"
            | "ps1"
            | "ps"
            | "cmd"
            | "bat"
            | "batch"
            | "console"
            | "shell-session"
            | "shellsession"
            | "terminal"
    )
}

/// Cleans a candidate path line: surrounding whitespace, `*`, backticks, leading `#`s and a
/// trailing `:` go; inner spaces stay; `\\` is read as `/`, so one file named both ways is one
/// file.
pub fn clean_path(line: &str) -> String {
    let mut s = line.trim();
    loop {
        let before = s;
        s = s.trim();
        s = s.trim_start_matches('#');
        s = s.strip_suffix(':').unwrap_or(s);
        s = s.trim_matches(|c: char| c == '*' || c == '`' || c.is_whitespace());
        // A label before the path: "File: src/app.py".
        for label in ["File:", "file:", "Filename:", "filename:", "Path:", "path:"] {
            if let Some(rest) = s.strip_prefix(label)
                && !rest.trim().is_empty()
            {
                s = rest;
            }
        }
        if s == before {
            break;
        }
    }
    s.replace('\\', "/")
}

/// The path a fence's info text names, if any: the text when it holds a `.` or `/`, without a
/// leading language word (```` ```python src/app.py ````).
pub fn info_path(info: &str) -> Option<String> {
    if !(info.contains('.') || info.contains('/')) {
        return None;
    }
    let mut text = info.trim();
    if let Some((first, rest)) = text.split_once(char::is_whitespace)
        && !first.contains('.')
        && !first.contains('/')
    {
        text = rest.trim();
    }
    let c = clean_path(text);
    looks_like_path(&c).then_some(c)
}

/// Whether a line marks a SEARCH/REPLACE block part.
pub fn is_marker(line: &str) -> bool {
    is_head(line) || is_divider(line) || is_tail(line)
}

fn run_of(t: &str, c: char) -> usize {
    t.chars().take_while(|x| *x == c).count()
}

/// `<<<<<<< SEARCH` (5 to 9 `<`, optional `>` after).
pub fn is_head(line: &str) -> bool {
    let t = line.trim();
    let n = run_of(t, '<');
    if !(5..=9).contains(&n) {
        return false;
    }
    let rest = &t[n..];
    rest == " SEARCH" || rest == " SEARCH>"
}

/// `=======` (5 to 9 `=`).
pub fn is_divider(line: &str) -> bool {
    let t = line.trim();
    let n = run_of(t, '=');
    (5..=9).contains(&n) && n == t.len()
}

/// `>>>>>>> REPLACE` (5 to 9 `>`).
pub fn is_tail(line: &str) -> bool {
    let t = line.trim();
    let n = run_of(t, '>');
    (5..=9).contains(&n) && &t[n..] == " REPLACE"
}

/// Whether a cleaned candidate is a path rather than prose (docs/edit-formats.md, prose is not
/// a path).
pub fn looks_like_path(cleaned: &str) -> bool {
    if cleaned.is_empty() || cleaned == "..." || cleaned.chars().all(|c| c == '.') {
        return false;
    }
    if is_marker(cleaned) || cleaned.contains('`') {
        return false;
    }
    // Nor a fence, nor a tag such as `<source>` or `<details>`.
    if cleaned.starts_with("```") || cleaned.starts_with('<') {
        return false;
    }
    // Sentence punctuation at the end is prose ("Done.", "Next,"), never a file name.
    if cleaned.ends_with(['.', ',', '!', '?', ';']) {
        return false;
    }
    // Inner whitespace: a path only when it names a known file, which [`path_in_line`] asks.
    !cleaned.chars().any(char::is_whitespace)
}

/// The path a cleaned candidate line names, if any (docs/edit-formats.md, prose is not a path):
/// a line without inner whitespace that [`looks_like_path`]; a line with it only when `known`
/// says it names a file the task knows; else its last word when that names a known file ("Here
/// is the updated app.py:" → `app.py`); else it is prose and names nothing, so never creates a
/// file.
pub fn path_in_line(cleaned: &str, known: &dyn Fn(&str) -> bool) -> Option<String> {
    if !cleaned.chars().any(char::is_whitespace) {
        return looks_like_path(cleaned).then(|| cleaned.to_string());
    }
    if !cleaned.contains('`') && known(cleaned) {
        return Some(cleaned.to_string());
    }
    let last = cleaned.split_whitespace().next_back()?;
    let word = clean_path(last.trim_end_matches(['.', ',', '!', '?', ';', ')']));
    (looks_like_path(&word) && known(&word)).then_some(word)
}

/// Whether the text ends in a file extension such as `.py`.
pub fn has_extension(s: &str) -> bool {
    match s.rfind('.') {
        Some(i) if i > 0 => {
            let ext = &s[i + 1..];
            (1..=10).contains(&ext.len())
                && ext.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && ext.chars().any(|c| c.is_ascii_alphabetic())
                && !s[..i].ends_with(char::is_whitespace)
        }
        _ => false,
    }
}

/// Normalises a path named in a reply: `\\` is read as `/` (replies from Windows users name
/// one file both ways, and edits are grouped by this form), `./` prefixes and repeated slashes
/// go. Returns an error when it is empty, absolute, or climbs out with `..`.
pub fn normalize_path(path: &str) -> Result<String, String> {
    let p = path.trim();
    if p.is_empty() {
        return Err("empty path".to_string());
    }
    let slashed = p.replace('\\', "/");
    let b = slashed.as_bytes();
    let drive = b.len() >= 2
        && b[0].is_ascii_alphabetic()
        && b[1] == b':'
        && (b.len() == 2 || b[2] == b'/');
    if slashed.starts_with('/') || drive {
        return Err(format!(
            "refused: `{p}` is absolute; paths must be relative to the repository root"
        ));
    }
    let mut parts = Vec::new();
    for part in slashed.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(format!("refused: `{p}` escapes the repository root"));
            }
            ".git" => {
                return Err(format!(
                    "refused: `{p}` is inside `.git`, which is never edited"
                ));
            }
            other => parts.push(other),
        }
    }
    if parts.is_empty() {
        return Err(format!("`{p}` names no file"));
    }
    Ok(parts.join("/"))
}

/// The last `/`-separated part of a path.
pub fn basename(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Character similarity of two strings, 0..=1 (difflib's ratio, via `similar`).
pub fn str_ratio(a: &str, b: &str) -> f32 {
    similar::TextDiff::from_chars(a, b).ratio()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decode_encode_round_trips() {
        for bytes in [
            &b""[..],
            b"a",
            b"a\n",
            b"a\r\nb\r\n",
            b"a\r\nb",
            b"\xef\xbb\xbfx\ny",
            b"mixed\r\nlf\n",
            b"\n\n",
            b"a\r",
        ] {
            let t = FileText::decode(bytes).unwrap();
            assert_eq!(t.encode(), bytes, "{bytes:?}");
        }
    }

    #[test]
    fn prose_is_not_a_path() {
        assert!(!looks_like_path(&clean_path("Then add a line at the end.")));
        assert!(!looks_like_path(&clean_path("Here is the new `app.py`")));
        // Inner whitespace: a path only when it names a known file.
        assert!(!looks_like_path(&clean_path("my dir/app file.py")));
        let known = |p: &str| p == "my dir/app file.py" || p == "src/app.py";
        assert_eq!(
            path_in_line(&clean_path("my dir/app file.py"), &known),
            Some("my dir/app file.py".to_string())
        );
        assert_eq!(
            path_in_line(&clean_path("Here is the updated src/app.py:"), &known),
            Some("src/app.py".to_string())
        );
        assert_eq!(
            path_in_line(&clean_path("Then I changed `src/app.py`."), &known),
            Some("src/app.py".to_string())
        );
        assert_eq!(
            path_in_line(&clean_path("Here is the updated main.py:"), &known),
            None
        );
        assert_eq!(
            path_in_line(&clean_path("**src/new.py**"), &known),
            Some("src/new.py".to_string())
        );
        assert!(looks_like_path(&clean_path("**src/app.py**:")));
        assert!(looks_like_path(&clean_path("Makefile")));
        assert!(!looks_like_path(&clean_path("...")));
        assert!(!looks_like_path(&clean_path("<source>python")));
        assert!(is_tag_fence("<source>python") && is_tag_fence(" </code>"));
        assert!(!is_tag_fence("src/app.py"));
        assert_eq!(clean_path("**File: `src/app.py`**"), "src/app.py");
        assert_eq!(
            info_path("python src/app.py"),
            Some("src/app.py".to_string())
        );
        assert_eq!(info_path("src/app.py"), Some("src/app.py".to_string()));
        assert_eq!(info_path("python"), None);
    }

    #[test]
    fn paths_are_normalised_or_refused() {
        assert_eq!(normalize_path("./src//a.py"), Ok("src/a.py".to_string()));
        assert_eq!(normalize_path("a:b.txt"), Ok("a:b.txt".to_string()));
        assert!(normalize_path("/etc/passwd").is_err());
        assert!(normalize_path("C:/x").is_err());
        assert!(normalize_path("C:\\x").is_err());
        assert!(normalize_path("a/../../b").is_err());
        assert!(normalize_path(".git/config").is_err());
        assert!(normalize_path("sub/.git/HEAD").is_err());
        assert!(normalize_path("").is_err());
        assert!(normalize_path("./").is_err());
        assert_eq!(normalize_path("a\\b.txt"), Ok("a/b.txt".to_string()));
        assert!(normalize_path("a\\..\\..\\b").is_err());
        assert!(normalize_path(".git\\config").is_err());
    }

    #[test]
    fn fences_are_chosen() {
        assert_eq!(choose_fence(&["a\n"]).0, "```");
        assert_eq!(choose_fence(&["```\n"]).0, "````");
        assert_eq!(choose_fence(&["````\n"]).0, "<source>");
    }

    #[test]
    fn a_reply_fence_is_its_first_fence_line() {
        let source = Some(Fence {
            open: "<source>".into(),
            close: "</source>".into(),
        });
        assert_eq!(reply_fence("a.md\n<source>\n```\n</source>\n"), source);
        assert_eq!(reply_fence("a.md\n<source>python\nx\n</source>\n"), source);
        assert_eq!(reply_fence("a.md\n```\n<source>\n</source>\n```\n"), None);
        assert_eq!(reply_fence("a.md\n<source>\nno close\n"), None);
        assert_eq!(reply_fence("<source> and prose\n</source>\n"), None);
    }
}
