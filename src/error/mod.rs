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
//!
//! and one line ([`Error::one_line`]) is how a report row or a summary shows it.
//!
//! Every code is listed once in [`codes`], the catalogue the README's table is checked against.
//! A module's errors are a `thiserror` enum whose variants carry the values; it implements
//! [`Kind`] (which catalogue entry each variant is, its hint, place and exit), and `?` or
//! `.into()` wraps it in the envelope. The envelope keeps the typed value, so control flow asks
//! for the type and never compares code strings:
//!
//! ```
//! use codefleet::error::{Code, Error, Kind, codes};
//!
//! #[derive(Debug, thiserror::Error)]
//! enum FetchError {
//!     #[error("the remote repository is empty")]
//!     Empty,
//! }
//!
//! impl Kind for FetchError {
//!     fn code(&self) -> Code {
//!         codes::EMPTY_REMOTE
//!     }
//! }
//!
//! let e = Error::from(FetchError::Empty);
//! assert_eq!(e.one_line(), "[E503] the remote repository is empty");
//! assert!(matches!(e.kind::<FetchError>(), Some(FetchError::Empty)));
//! ```
//!
//! Context added later (`.hint(…)`, `.at(…)`, `.exit(…)`) changes what is shown and keeps the
//! typed value. A message no module type carries yet is [`Error::of`] with a catalogue code;
//! [`Error::new`] with a literal code is what the typed kinds replace. Two errors are equal when
//! they show the same, however they were made.

use std::any::Any;
use std::cmp::Ordering;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub mod codes;

pub use codes::Code;

/// How a command ends; the numbers are part of codefleet's interface (see the README).
///
/// Exits are ordered by how bad they are, so the worst of several is their `max`: a run that
/// would change something (`Changes`) is outranked by a failure, a failure by a usage error
/// (nothing ran), and everything by an interruption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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

    /// The exit whose process status is `code`, if codefleet ever exits with it.
    pub fn from_code(code: i32) -> Option<Exit> {
        [
            Exit::Ok,
            Exit::Failed,
            Exit::Usage,
            Exit::Changes,
            Exit::Interrupted,
        ]
        .into_iter()
        .find(|e| e.code() == code)
    }

    /// The worst of `exits` (see the type's documentation); `Ok` when there are none.
    pub fn worst(exits: impl IntoIterator<Item = Exit>) -> Exit {
        exits.into_iter().max().unwrap_or(Exit::Ok)
    }

    fn rank(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Changes => 1,
            Exit::Failed => 2,
            Exit::Usage => 3,
            Exit::Interrupted => 4,
        }
    }
}

impl Ord for Exit {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for Exit {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An exit compares with the process status it stands for (`report.exit_code == 0`).
impl PartialEq<i32> for Exit {
    fn eq(&self, other: &i32) -> bool {
        self.code() == *other
    }
}

/// Shown as its process status.
impl fmt::Display for Exit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.code())
    }
}

/// Written as its process status, so a JSON report reads `"exit_code": 1`.
impl serde::Serialize for Exit {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_i32(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Exit {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let code = <i32 as serde::Deserialize>::deserialize(d)?;
        Exit::from_code(code).ok_or_else(|| {
            serde::de::Error::custom(format!("{code} is not an exit code of codefleet"))
        })
    }
}

/// The JSON Schema of an exit is that of its process status, an integer.
impl schemars::JsonSchema for Exit {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        <i32 as schemars::JsonSchema>::schema_name()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <i32 as schemars::JsonSchema>::json_schema(generator)
    }
}

/// A module's typed error: which catalogue entry it is, and what the envelope shows besides
/// its `Display` message. Wrapping it (`Error::from`, `?`) keeps the value for
/// [`Error::kind`].
pub trait Kind: std::error::Error + Any + Send + Sync {
    /// The catalogue entry: the code, and the exit unless [`Kind::exit`] says otherwise.
    fn code(&self) -> Code;

    /// How to fix it, when we can say.
    fn hint(&self) -> Option<String> {
        None
    }

    /// Where it applies, when it applies somewhere.
    fn place(&self) -> Option<Place> {
        None
    }

    /// The exit this error implies: the catalogue's, unless this one differs.
    fn exit(&self) -> Exit {
        self.code().exit
    }
}

impl<K: Kind> From<K> for Error {
    fn from(kind: K) -> Error {
        Error {
            code: kind.code().id,
            message: kind.to_string(),
            place: kind.place().map(Box::new),
            hint: kind.hint(),
            exit: kind.exit(),
            kind: Some(Arc::new(kind)),
        }
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
#[derive(Debug, Clone)]
pub struct Error {
    /// Stable code, `E` followed by three digits; listed in [`codes`] and the README.
    pub code: &'static str,
    /// What went wrong, in one sentence without a trailing period.
    pub message: String,
    /// Where it applies, when it applies somewhere.
    pub place: Option<Box<Place>>,
    /// How to fix it, when we can say.
    pub hint: Option<String>,
    /// The exit code this error implies when it ends the command.
    pub exit: Exit,
    /// The module's typed error this one was made from, for [`Error::kind`].
    kind: Option<Arc<dyn Kind>>,
}

/// Two errors are equal when a user sees the same: the typed value is how one was made.
impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        (self.code, &self.message, &self.place, &self.hint, self.exit)
            == (
                other.code,
                &other.message,
                &other.place,
                &other.hint,
                other.exit,
            )
    }
}

impl Eq for Error {}

impl Error {
    /// A usage-level error (exit code 2) with a code and message.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Error {
            code,
            message: message.into(),
            place: None,
            hint: None,
            exit: Exit::Usage,
            kind: None,
        }
    }

    /// An error with a catalogue code and its exit, for a message no typed kind carries.
    pub fn of(code: Code, message: impl Into<String>) -> Self {
        Error::new(code.id, message).exit(code.exit)
    }

    /// The module's typed error this one was made from, when it is a `K`.
    pub fn kind<K: Kind>(&self) -> Option<&K> {
        let kind: &dyn Any = self.kind.as_deref()?;
        kind.downcast_ref()
    }

    /// Whether this error carries the catalogue entry `code`. For an error that came from
    /// outside codefleet's typed kinds (a third-party model backend's plain `Error`), where the
    /// code is all there is to go by; codefleet's own control flow asks [`Error::kind`].
    pub fn has_code(&self, code: Code) -> bool {
        self.code == code.id
    }

    /// Whether this error was made from a `K`.
    pub fn is<K: Kind>(&self) -> bool {
        self.kind::<K>().is_some()
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
        Io {
            path: path.as_ref().to_path_buf(),
            why: err.to_string(),
        }
        .into()
    }

    /// The error on one line, as report rows and summaries show it: `[E302] message (hint)`,
    /// secrets redacted. A row keeps the code, so a user can look it up in the README.
    pub fn one_line(&self) -> String {
        self.line(self.hint.as_deref())
    }

    /// The code and message without the hint, `[E302] message`, secrets redacted: the start
    /// of `Display`, and what a line quoting another error keeps of it.
    pub fn headline(&self) -> String {
        self.line(None)
    }

    fn line(&self, hint: Option<&str>) -> String {
        let mut line = format!("[{}] {}", self.code, self.message);
        if let Some(h) = hint {
            line.push_str(&format!(" ({h})"));
        }
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
        f.write_str(&self.headline())?;
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

/// A file that cannot be read or written (`E001`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read or write `{}`: {why}", path.display())]
pub struct Io {
    /// The file, as the user named it.
    pub path: PathBuf,
    /// What the operating system said.
    pub why: String,
}

impl Kind for Io {
    fn code(&self) -> Code {
        codes::IO
    }

    fn place(&self) -> Option<Place> {
        Some(Place::file(&self.path))
    }
}

/// The worst exit among errors ([`Exit::worst`]); `Ok` when there are none.
pub fn worst_exit(errors: &[Error]) -> Exit {
    Exit::worst(errors.iter().map(|e| e.exit))
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
    fn an_exit_is_its_process_status_and_the_worst_wins() {
        for exit in [
            Exit::Ok,
            Exit::Failed,
            Exit::Usage,
            Exit::Changes,
            Exit::Interrupted,
        ] {
            assert_eq!(Exit::from_code(exit.code()), Some(exit));
        }
        assert_eq!(Exit::from_code(7), None);
        assert_eq!(Exit::worst([]), Exit::Ok);
        assert_eq!(Exit::worst([Exit::Changes, Exit::Ok]), Exit::Changes);
        // A failure outranks "would change", an interruption everything.
        assert_eq!(Exit::worst([Exit::Changes, Exit::Failed]), Exit::Failed);
        assert_eq!(Exit::worst([Exit::Failed, Exit::Usage]), Exit::Usage);
        assert_eq!(
            Exit::worst([Exit::Usage, Exit::Interrupted, Exit::Failed]),
            Exit::Interrupted
        );
        assert_eq!(Exit::Interrupted.to_string(), "130");
    }

    #[test]
    fn a_typed_error_keeps_its_value_and_shows_as_before() {
        let e = Error::io("a/b.txt", &std::io::Error::other("denied"));
        assert_eq!(e.code, "E001");
        assert_eq!(e.exit, Exit::Usage);
        assert_eq!(
            e.one_line(),
            "[E001] cannot read or write `a/b.txt`: denied"
        );
        assert_eq!(
            e.to_string(),
            "[E001] cannot read or write `a/b.txt`: denied at a/b.txt"
        );
        assert_eq!(e.kind::<Io>().map(|io| io.why.as_str()), Some("denied"));
        assert!(!Error::new("E001", "x").is::<Io>());
        // Equality is what a user sees, however the error was made.
        let same = Error::new("E001", "cannot read or write `a/b.txt`: denied").in_file("a/b.txt");
        assert_eq!(e, same);
        assert_eq!(
            e.clone().hint("h").one_line(),
            format!("{} (h)", e.headline())
        );
    }

    #[test]
    fn closest_finds_typos_only() {
        assert_eq!(closest("file", ["files", "exclude", "name"]), Some("files"));
        assert_eq!(closest("zzzzzz", ["files", "exclude"]), None);
    }
}
