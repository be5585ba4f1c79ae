//! The rules of pipeline validation (each a stable code of the catalogue, which the README
//! lists), and turning YAML places into [`Place`]s.

use std::path::Path;

use super::yaml::{Node, Span, value_position};
use crate::error::{Code, Error, Kind, Place, codes};

/// The rule a pipeline breaks: one per catalogue code of pipeline validation, so a caller
/// asks which rule failed, never which code string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rule {
    /// The file is not valid YAML (or not UTF-8).
    Yaml,
    /// The file is empty or holds more than one YAML document.
    Document,
    /// A field the format does not know.
    UnknownField,
    /// A value of the wrong type.
    WrongType,
    /// A required field is missing.
    MissingField,
    /// A value that is not one of the allowed names (provider, edit format, on_fail, per…).
    UnknownValue,
    /// A `version:` this codefleet does not read.
    Version,
    /// The same key twice in one mapping.
    DuplicateKey,
    /// A number out of its range (negative, zero where at least one is needed, too large).
    Range,
    /// The file passed the checks but could not be read into the pipeline types (a bug).
    Internal,
    /// A task with no kind.
    NoKind,
    /// A task with more than one kind.
    TwoKinds,
    /// Two tasks with the same name.
    DuplicateTask,
    /// `tasks:` is empty.
    NoTasks,
    /// A field that does not apply to the task's kind (`format:` without `edits:`…).
    NotApplicable,
    /// `per:` on a task without `files:`.
    PerWithoutFiles,
    /// An empty string where text is needed.
    Empty,
    /// A path that is absolute or leaves the repository.
    PathEscapes,
    /// A name that cannot be part of a git branch name.
    BadName,
    /// A `$name` in a regex `with:` that names no group of `find` (`$1_mod`).
    GroupRef,
    /// An invalid regular expression.
    Regex,
    /// An invalid glob.
    Glob,
    /// An invalid size.
    Size,
    /// An invalid duration.
    Duration,
    /// A template names an unknown or unavailable variable.
    TemplateVar,
    /// A template's `{{ … }}` is malformed.
    TemplateSyntax,
    /// A `repos:` entry with none or several of `path`, `url`, `list`.
    RepoEntry,
    /// A file the pipeline names (`edits:`, `patch:`, `prompt_file:`, `list:`) does not exist.
    MissingFile,
    /// A `--var` that is not `KEY=VALUE`, or names a variable the pipeline does not declare.
    VarArg,
    /// A commit author that is not `Name <email>`.
    Author,
}

impl Rule {
    /// The rule's entry in the catalogue of codes.
    pub fn code(self) -> Code {
        match self {
            Rule::Yaml => codes::YAML,
            Rule::Document => codes::DOCUMENT,
            Rule::UnknownField => codes::UNKNOWN_FIELD,
            Rule::WrongType => codes::WRONG_TYPE,
            Rule::MissingField => codes::MISSING_FIELD,
            Rule::UnknownValue => codes::UNKNOWN_VALUE,
            Rule::Version => codes::VERSION,
            Rule::DuplicateKey => codes::DUPLICATE_KEY,
            Rule::Range => codes::RANGE,
            Rule::Internal => codes::INTERNAL,
            Rule::NoKind => codes::NO_KIND,
            Rule::TwoKinds => codes::TWO_KINDS,
            Rule::DuplicateTask => codes::DUPLICATE_TASK,
            Rule::NoTasks => codes::NO_TASKS,
            Rule::NotApplicable => codes::NOT_APPLICABLE,
            Rule::PerWithoutFiles => codes::PER_WITHOUT_FILES,
            Rule::Empty => codes::EMPTY,
            Rule::PathEscapes => codes::PATH_ESCAPES,
            Rule::BadName => codes::BAD_NAME,
            Rule::GroupRef => codes::GROUP_REF,
            Rule::Regex => codes::REGEX,
            Rule::Glob => codes::GLOB,
            Rule::Size => codes::SIZE,
            Rule::Duration => codes::DURATION,
            Rule::TemplateVar => codes::TEMPLATE_VAR,
            Rule::TemplateSyntax => codes::TEMPLATE_SYNTAX,
            Rule::RepoEntry => codes::REPO_ENTRY,
            Rule::MissingFile => codes::MISSING_FILE,
            Rule::VarArg => codes::VAR_ARG,
            Rule::Author => codes::AUTHOR,
        }
    }

    /// An error breaking this rule, saying `message`; the place is attached by the caller.
    pub fn error(self, message: impl Into<String>) -> Error {
        Invalid {
            rule: self,
            message: message.into(),
        }
        .into()
    }
}

/// A problem with a pipeline: the rule it breaks and what the checker says about it. Messages
/// name the field and value at fault in many shapes, so the value carried is the sentence.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct Invalid {
    /// The rule broken.
    pub rule: Rule,
    /// What is wrong, in one sentence.
    pub message: String,
}

impl Kind for Invalid {
    fn code(&self) -> Code {
        self.rule.code()
    }
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
    pub fn error(&self, rule: Rule, message: impl Into<String>, node: &Node) -> Error {
        rule.error(message).at(self.place(node.span))
    }

    /// An error at characters `offset..offset+width` of a string node's value, when that maps
    /// back to the source (one line, known quoting); otherwise at the whole string.
    pub fn error_in(
        &self,
        rule: Rule,
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
        rule.error(message).at(place)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_carries_the_rule_it_breaks() {
        let text =
            "name: p\ntasks:\n  - name: t\n    replace: {find: a, with: b}\n    file: [\"*.rs\"]\n";
        let errors =
            crate::pipeline::load_str(text, Path::new("p.yml"), &[]).expect_err("an unknown field");
        let e = &errors[0];
        assert_eq!(e.code, "E012");
        assert_eq!(
            e.kind::<Invalid>().map(|i| i.rule),
            Some(Rule::UnknownField),
            "{e:?}"
        );
        assert_eq!(Rule::UnknownField.code(), codes::UNKNOWN_FIELD);
    }
}
