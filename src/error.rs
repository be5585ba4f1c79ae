//! The one error type every layer returns to the user: a stable code, a message, the place it
//! applies (file, line, column, the source line), a hint, and the exit code it implies. One
//! renderer ([`Error::render`]) writes every error the same way, like a compiler does:
//!
//! ```text
//! error[E012]: unknown field `file`
//!   --> pipelines/rename.yml:7:5
//!    |
//!  7 |     file: ["**/*.rs"]
//!    |     ^^^^
//!    = help: did you mean `files`?
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

/// How a command ends; the numbers are part of codefleet's interface (see the README).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Exit {
    /// Everything succeeded.
    Ok = 0,
    /// Some task, file, edit or repository failed; the rest ran and their results are kept.
    Failed = 1,
    /// Usage or pipeline error, or unreadable input: nothing ran.
    Usage = 2,
    /// `--check`: changes would be made.
    Changes = 3,
    /// Interrupted (Ctrl-C).
    Interrupted = 130,
}

impl Exit {
    /// The process exit status.
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// Where an error applies: a file, and optionally a 1-based line and column with the text of
/// that line, and how many characters the caret underlines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// The file, as the user named it (relative paths stay relative).
    pub path: PathBuf,
    /// 1-based line; 0 when only the file is known.
    pub line: usize,
    /// 1-based column, in characters; 0 when unknown.
    pub column: usize,
    /// The text of `line`, without its line ending, when known.
    pub source_line: Option<String>,
    /// How many characters the caret underlines (at least 1 when shown).
    pub width: usize,
}

impl Place {
    /// A place naming only a file.
    pub fn file(path: impl Into<PathBuf>) -> Self {
        Place {
            path: path.into(),
            line: 0,
            column: 0,
            source_line: None,
            width: 0,
        }
    }

    /// A place at `line:column` of `path`, whose text is taken from `source` (the whole file).
    pub fn at(
        path: impl Into<PathBuf>,
        source: &str,
        line: usize,
        column: usize,
        width: usize,
    ) -> Self {
        let source_line = if line > 0 {
            source
                .lines()
                .nth(line - 1)
                .map(|l| l.trim_end_matches('\r').to_string())
        } else {
            None
        };
        Place {
            path: path.into(),
            line,
            column,
            source_line,
            width,
        }
    }
}

/// An error a user reads: see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    /// Stable code, `E` followed by three digits; listed in the README.
    pub code: &'static str,
    /// What went wrong, in one sentence without a trailing period.
    pub message: String,
    /// Where it applies, when it applies somewhere.
    pub place: Option<Box<Place>>,
    /// How to fix it, when we can say.
    pub hint: Option<String>,
    /// The exit code this error implies when it ends the command.
    pub exit: Exit,
}

impl Error {
    /// A usage-level error (exit code 2) with a code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            place: None,
            hint: None,
            exit: Exit::Usage,
        }
    }

    /// The error as a JSON object (`code`, `message`, `file`, `line`, `column`, `hint`), for
    /// commands whose `--json` output lists problems.
    pub fn to_json(&self) -> serde_json::Value {
        let place = self.place.as_deref();
        serde_json::json!({
            "code": self.code,
            "message": self.message,
            "file": place.map(|p| p.path.display().to_string()),
            "line": place.map(|p| p.line).filter(|l| *l > 0),
            "column": place.map(|p| p.column).filter(|c| *c > 0),
            "hint": self.hint,
        })
    }

    /// Attaches the place the error applies to.
    pub fn at(mut self, place: Place) -> Self {
        self.place = Some(Box::new(place));
        self
    }

    /// Attaches a file as the place.
    pub fn in_file(self, path: impl AsRef<Path>) -> Self {
        self.at(Place::file(path.as_ref()))
    }

    /// Attaches a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the exit code.
    pub fn exit(mut self, exit: Exit) -> Self {
        self.exit = exit;
        self
    }

    /// An I/O error on a path, with code `E001`.
    pub fn io(path: impl AsRef<Path>, err: &std::io::Error) -> Self {
        let path = path.as_ref();
        Error::new(
            "E001",
            format!("cannot read or write `{}`: {}", path.display(), err),
        )
        .in_file(path)
    }

    /// The error on one line, as report rows and summaries show it: `[E302] message (hint)`,
    /// secrets redacted. A row keeps the code, so a user can look it up in the README.
    pub fn one_line(&self) -> String {
        let line = match &self.hint {
            Some(h) => format!("[{}] {} ({h})", self.code, self.message),
            None => format!("[{}] {}", self.code, self.message),
        };
        crate::secrets::redact(&line).into_owned()
    }

    /// Renders the error as codefleet prints it; `color` adds ANSI styling.
    pub fn render(&self, color: bool) -> String {
        let (red, blue, bold, reset) = if color {
            ("\x1b[1;31m", "\x1b[1;34m", "\x1b[1m", "\x1b[0m")
        } else {
            ("", "", "", "")
        };
        let mut out = format!(
            "{red}error[{}]{reset}{bold}: {}{reset}\n",
            self.code, self.message
        );
        let gutter = match &self.place {
            Some(p) if p.line > 0 => p.line.to_string().len(),
            _ => 1,
        };
        let pad = " ".repeat(gutter);
        if let Some(place) = &self.place {
            let mut loc = place.path.display().to_string();
            if place.line > 0 {
                loc.push_str(&format!(":{}", place.line));
                if place.column > 0 {
                    loc.push_str(&format!(":{}", place.column));
                }
            }
            out.push_str(&format!("{pad}{blue}-->{reset} {loc}\n"));
            if let (Some(text), true) = (&place.source_line, place.line > 0) {
                out.push_str(&format!("{pad} {blue}|{reset}\n"));
                out.push_str(&format!(
                    "{blue}{}{reset} {blue}|{reset} {}\n",
                    place.line, text
                ));
                if place.column > 0 {
                    // Tabs in the source line keep the caret aligned.
                    let lead: String = text
                        .chars()
                        .take(place.column - 1)
                        .map(|c| if c == '\t' { '\t' } else { ' ' })
                        .collect();
                    let carets = "^".repeat(place.width.max(1));
                    out.push_str(&format!(
                        "{pad} {blue}|{reset} {lead}{red}{carets}{reset}\n"
                    ));
                }
            }
        }
        if let Some(hint) = &self.hint {
            out.push_str(&format!("{pad} {blue}={reset} {bold}help{reset}: {hint}\n"));
        }
        // An API key or token quoted back by a provider or a tool never reaches the terminal.
        crate::secrets::redact(&out).into_owned()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{}] {}",
            self.code,
            crate::secrets::redact(&self.message)
        )?;
        if let Some(place) = &self.place {
            write!(f, " at {}", place.path.display())?;
            if place.line > 0 {
                write!(f, ":{}:{}", place.line, place.column)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for Error {}

/// The largest exit code among errors wins, except that any error means at least `Failed`.
pub fn worst_exit(errors: &[Error]) -> Exit {
    errors.iter().map(|e| e.exit).max().unwrap_or(Exit::Ok)
}

/// The closest candidate to `word` by edit distance, if it is close enough to be a likely typo.
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(2);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_like_a_compiler() {
        let src = "name: x\ntasks:\n  - nme: y\n";
        let e = Error::new("E012", "unknown field `nme`")
            .at(Place::at("p.yml", src, 3, 5, 3))
            .hint("did you mean `name`?");
        assert_eq!(
            e.render(false),
            "error[E012]: unknown field `nme`\n --> p.yml:3:5\n  |\n3 |   - nme: y\n  |     ^^^\n  = help: did you mean `name`?\n"
        );
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("file", ["files", "exclude", "name"]), Some("files"));
        assert_eq!(closest("zzzzzz", ["files", "exclude"]), None);
    }
}
