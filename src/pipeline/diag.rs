//! The error codes of pipeline validation, and turning YAML places into [`Place`]s. Codes are
//! stable: tests and users rely on them, the README lists them.

use std::path::Path;

use super::yaml::{Node, Span, value_position};
use crate::error::{Error, Place};

/// The stable codes of pipeline problems.
pub mod code {
    /// The file is not valid YAML (or not UTF-8).
    pub const YAML: &str = "E010";
    /// The file is empty or holds more than one YAML document.
    pub const DOCUMENT: &str = "E011";
    /// A field the format does not know.
    pub const UNKNOWN_FIELD: &str = "E012";
    /// A value of the wrong type.
    pub const WRONG_TYPE: &str = "E013";
    /// A required field is missing.
    pub const MISSING_FIELD: &str = "E014";
    /// A value that is not one of the allowed names (provider, edit format, on_fail, per…).
    pub const UNKNOWN_VALUE: &str = "E015";
    /// A `version:` this codefleet does not read.
    pub const VERSION: &str = "E016";
    /// The same key twice in one mapping.
    pub const DUPLICATE_KEY: &str = "E017";
    /// A number out of its range (negative, zero where at least one is needed, too large).
    pub const RANGE: &str = "E018";
    /// The file passed the checks but could not be read into the pipeline types (a bug).
    pub const INTERNAL: &str = "E019";
    /// A task with no kind.
    pub const NO_KIND: &str = "E020";
    /// A task with more than one kind.
    pub const TWO_KINDS: &str = "E021";
    /// Two tasks with the same name.
    pub const DUPLICATE_TASK: &str = "E022";
    /// `tasks:` is empty.
    pub const NO_TASKS: &str = "E023";
    /// A field that does not apply to the task's kind (`format:` without `edits:`…).
    pub const NOT_APPLICABLE: &str = "E024";
    /// `per:` on a task without `files:`.
    pub const PER_WITHOUT_FILES: &str = "E025";
    /// An empty string where text is needed.
    pub const EMPTY: &str = "E026";
    /// A path that is absolute or leaves the repository.
    pub const PATH_ESCAPES: &str = "E027";
    /// A name that cannot be part of a git branch name.
    pub const BAD_NAME: &str = "E028";
    /// A `$name` in a regex `with:` that names no group of `find` (`$1_mod`).
    pub const GROUP_REF: &str = "E029";
    /// An invalid regular expression.
    pub const REGEX: &str = "E030";
    /// An invalid glob.
    pub const GLOB: &str = "E031";
    /// An invalid size.
    pub const SIZE: &str = "E032";
    /// An invalid duration.
    pub const DURATION: &str = "E033";
    /// A template names an unknown or unavailable variable.
    pub const TEMPLATE_VAR: &str = "E034";
    /// A template's `{{ … }}` is malformed.
    pub const TEMPLATE_SYNTAX: &str = "E035";
    /// A `repos:` entry with none or several of `path`, `url`, `list`.
    pub const REPO_ENTRY: &str = "E036";
    /// A file the pipeline names (`edits:`, `patch:`, `prompt_file:`, `list:`) does not exist.
    pub const MISSING_FILE: &str = "E037";
    /// A `--var` that is not `KEY=VALUE`, or names a variable the pipeline does not declare.
    pub const VAR_ARG: &str = "E038";
    /// A commit author that is not `Name <email>`.
    pub const AUTHOR: &str = "E039";
}

/// A pipeline's text and the path it is shown under.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    /// The path as the user gave it.
    pub path: &'a Path,
    /// The whole text.
    pub text: &'a str,
}

impl<'a> Source<'a> {
    /// The text of 1-based line `n`.
    pub fn line(&self, n: usize) -> &'a str {
        self.text
            .lines()
            .nth(n.saturating_sub(1))
            .unwrap_or("")
            .trim_end_matches('\r')
    }

    /// A place covering `span`; a span over several lines underlines the rest of its first line.
    pub fn place(&self, span: Span) -> Place {
        let width = span.width().unwrap_or_else(|| {
            let line = self.line(span.line);
            line.chars()
                .skip(span.col)
                .collect::<String>()
                .trim_end()
                .chars()
                .count()
        });
        at_end_too(Place::at(
            self.path,
            self.text,
            span.line,
            span.col + 1,
            width.max(1),
        ))
    }

    /// A place at 0-based column `col` of `line`.
    pub fn place_at(&self, line: usize, col: usize, width: usize) -> Place {
        at_end_too(Place::at(self.path, self.text, line, col + 1, width.max(1)))
    }

    /// An error at a node.
    pub fn error(&self, code: &'static str, message: impl Into<String>, node: &Node) -> Error {
        Error::new(code, message).at(self.place(node.span))
    }

    /// An error at characters `offset..offset+width` of a string node's value, when that maps
    /// back to the source (one line, known quoting); otherwise at the whole string.
    pub fn error_in(
        &self,
        code: &'static str,
        message: impl Into<String>,
        node: &Node,
        offset: usize,
        width: usize,
    ) -> Error {
        let line = self.line(node.span.line);
        let place = match (
            value_position(node, line, offset),
            value_position(node, line, offset + width.saturating_sub(1)),
        ) {
            (Some(start), Some(end)) if end >= start => {
                self.place_at(node.span.line, start, end - start + 1)
            }
            _ => match self.find_in_lines(node, offset, width) {
                Some((line, col)) => self.place_at(line, col, width),
                None => self.place(node.span),
            },
        };
        Error::new(code, message).at(place)
    }

    /// For a scalar over several lines (a `|` block, say): finds the source line and column of
    /// the value's characters `offset..offset+width` by looking for that text, counting earlier
    /// occurrences, among the scalar's source lines. Block scalars have no escapes, so the text
    /// appears as written unless it was folded across lines.
    fn find_in_lines(&self, node: &Node, offset: usize, width: usize) -> Option<(usize, usize)> {
        let value = node.as_str()?;
        let snippet: String = value.chars().skip(offset).take(width).collect();
        if snippet.is_empty() || snippet.contains('\n') {
            return None;
        }
        let before: String = value.chars().take(offset).collect();
        let mut wanted = before.matches(snippet.as_str()).count();
        for line_no in node.span.line..=node.span.end_line {
            let line = self.line(line_no);
            let skip = if line_no == node.span.line {
                node.span.col
            } else {
                0
            };
            let tail: String = line.chars().skip(skip).collect();
            for (byte, _) in tail.match_indices(snippet.as_str()) {
                if wanted == 0 {
                    return Some((line_no, skip + tail[..byte].chars().count()));
                }
                wanted -= 1;
            }
        }
        None
    }
}

/// A place at a character offset of a whole file's text (for prompt files).
pub fn place_in_text(path: &Path, text: &str, offset: usize, width: usize) -> Place {
    let mut line = 1;
    let mut col = 0;
    for c in text.chars().take(offset) {
        if c == '\n' {
            line += 1;
            col = 0;
        } else {
            col += 1;
        }
    }
    at_end_too(Place::at(path, text, line, col + 1, width.max(1)))
}

/// A place on the empty line after the last one (a problem found at the end of the file) shows
/// that empty line, so the caret still has a line to sit under.
fn at_end_too(mut place: Place) -> Place {
    if place.line > 0 && place.source_line.is_none() {
        place.source_line = Some(String::new());
    }
    place
}
