//! A small YAML node tree with source places, built from `granit-parser` events. Serde stops at
//! the first error; this tree lets validation walk the whole document and report every problem
//! with its line and column before anything is deserialised.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle, Span as RawSpan};

/// A range in the source: 1-based line, 0-based character column, and character offsets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    /// 1-based line of the start.
    pub line: usize,
    /// 0-based column (in characters) of the start.
    pub col: usize,
    /// 1-based line of the end.
    pub end_line: usize,
    /// 0-based column (in characters) of the end (exclusive).
    pub end_col: usize,
}

impl Span {
    fn from_raw(span: &RawSpan) -> Self {
        Span {
            line: span.start.line(),
            col: span.start.col(),
            end_line: span.end.line(),
            end_col: span.end.col(),
        }
    }

    /// Characters the span covers on its first line, or `None` when it runs over several lines.
    pub fn width(&self) -> Option<usize> {
        (self.line == self.end_line && self.end_col > self.col).then(|| self.end_col - self.col)
    }
}

/// How a scalar was written, which decides how its text is typed and where its characters sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'…'`.
    Single,
    /// `"…"`.
    Double,
    /// `|` or `>` block.
    Block,
}

/// A YAML value, typed by the YAML 1.2 core schema.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// Any other scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, keys in source order (duplicates are kept for the checker to report).
    Map(Vec<(Node, Node)>),
}

/// A value and where it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: Value,
    /// Where it is.
    pub span: Span,
    /// How a scalar was written (`Plain` for collections).
    pub style: Style,
}

impl Node {
    /// The name of the node's kind, as a user reads it in "expected X, found Y".
    pub fn kind_name(&self) -> &'static str {
        match self.value {
            Value::Null => "nothing (null)",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }

    /// The string value, when the node is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The value of `key` in a mapping node.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The key node of `key` in a mapping node.
    pub fn key(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_str() == Some(key))
                .map(|(k, _)| k),
            _ => None,
        }
    }

    /// Converts to JSON for deserialising into the serde mirror. Null mapping values are left
    /// out, so `key:` with nothing after it means the same as no key (serde reads both as None).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .filter(|(_, v)| v.value != Value::Null)
                    .map(|(k, v)| (key_text(k), v.to_json()))
                    .collect(),
            ),
        }
    }
}

/// The text of a mapping key, whatever its type.
pub fn key_text(key: &Node) -> String {
    match &key.value {
        Value::Str(s) => s.clone(),
        Value::Null => String::new(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Seq(_) | Value::Map(_) => "<collection>".to_string(),
    }
}

/// Why the text is not a YAML document we can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    /// What the parser said.
    pub message: String,
    /// 1-based line.
    pub line: usize,
    /// 0-based column.
    pub col: usize,
}

/// Parses `text` into its documents. Comments are skipped; aliases are expanded (with a limit,
/// so a "billion laughs" document cannot exhaust memory).
pub fn parse(text: &str) -> Result<Vec<Node>, SyntaxError> {
    let mut builder = Builder::default();
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| SyntaxError {
            message: e.kind().to_string(),
            line: e.marker().line(),
            col: e.marker().col(),
        })?;
        builder.event(event, &span)?;
    }
    Ok(builder.documents)
}

/// Expanded alias nodes allowed per document; real pipelines use a handful.
const MAX_ALIAS_NODES: usize = 10_000;

#[derive(Default)]
struct Builder {
    documents: Vec<Node>,
    stack: Vec<Frame>,
    anchors: HashMap<usize, Node>,
    expanded: usize,
}

enum Frame {
    Seq(Vec<Node>, Span, usize),
    Map(Vec<(Node, Node)>, Option<Node>, Span, usize),
}

impl Builder {
    fn event(&mut self, event: Event<'_>, raw: &RawSpan) -> Result<(), SyntaxError> {
        let span = Span::from_raw(raw);
        match event {
            Event::Scalar(text, style, anchor, tag) => {
                let tagged_str = tag.as_ref().is_some_and(|t| t.suffix() == "str");
                let (value, style) = scalar(&text, style, tagged_str);
                self.push(Node { value, span, style }, anchor)?;
            }
            Event::SequenceStart(_, anchor, _) => self.stack.push(Frame::Seq(vec![], span, anchor)),
            Event::MappingStart(_, anchor, _) => {
                self.stack.push(Frame::Map(vec![], None, span, anchor))
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq(items, start, anchor)) = self.stack.pop() {
                    let span = Span {
                        end_line: span.end_line,
                        end_col: span.end_col,
                        ..start
                    };
                    let node = Node {
                        value: Value::Seq(items),
                        span,
                        style: Style::Plain,
                    };
                    self.push(node, anchor)?;
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map(entries, _, start, anchor)) = self.stack.pop() {
                    let span = Span {
                        end_line: span.end_line,
                        end_col: span.end_col,
                        ..start
                    };
                    let node = Node {
                        value: Value::Map(entries),
                        span,
                        style: Style::Plain,
                    };
                    self.push(node, anchor)?;
                }
            }
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| SyntaxError {
                    message: "alias to an unknown anchor".into(),
                    line: span.line,
                    col: span.col,
                })?;
                self.expanded += count(&node);
                if self.expanded > MAX_ALIAS_NODES {
                    return Err(SyntaxError {
                        message: "aliases expand to too many nodes".into(),
                        line: span.line,
                        col: span.col,
                    });
                }
                self.push(node, 0)?;
            }
            Event::DocumentStart(..) => self.anchors.clear(),
            _ => {}
        }
        Ok(())
    }

    fn push(&mut self, node: Node, anchor: usize) -> Result<(), SyntaxError> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.documents.push(node),
            Some(Frame::Seq(items, ..)) => items.push(node),
            Some(Frame::Map(entries, pending, ..)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

fn count(node: &Node) -> usize {
    match &node.value {
        Value::Seq(items) => 1 + items.iter().map(count).sum::<usize>(),
        Value::Map(entries) => {
            1 + entries
                .iter()
                .map(|(k, v)| count(k) + count(v))
                .sum::<usize>()
        }
        _ => 1,
    }
}

/// Types a scalar by the YAML 1.2 core schema: only plain scalars can be null, bool or numbers.
fn scalar(text: &str, style: ScalarStyle, tagged_str: bool) -> (Value, Style) {
    let style = match style {
        ScalarStyle::Plain => Style::Plain,
        ScalarStyle::SingleQuoted => Style::Single,
        ScalarStyle::DoubleQuoted => Style::Double,
        _ => Style::Block,
    };
    if style != Style::Plain || tagged_str {
        return (Value::Str(text.to_string()), style);
    }
    let value = match text {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" | "True" | "TRUE" => Value::Bool(true),
        "false" | "False" | "FALSE" => Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => Value::Float(f64::NAN),
        _ => int(text)
            .map(Value::Int)
            .or_else(|| float(text).map(Value::Float))
            .unwrap_or_else(|| Value::Str(text.to_string())),
    };
    (value, style)
}

fn int(text: &str) -> Option<i64> {
    if let Some(hex) = text.strip_prefix("0x") {
        return i64::from_str_radix(hex, 16).ok();
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return i64::from_str_radix(oct, 8).ok();
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn float(text: &str) -> Option<f64> {
    // The core schema's float: [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?
    let body = text.strip_prefix(['-', '+']).unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(i) => (&body[..i], Some(&body[i + 1..])),
        None => (body, None),
    };
    let (whole, frac) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match frac {
        Some(f) => digits(whole) && digits(f) && !(whole.is_empty() && f.is_empty()),
        None => !whole.is_empty() && digits(whole),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    (mantissa_ok && exponent_ok && (frac.is_some() || exponent.is_some()))
        .then(|| text.parse().ok())
        .flatten()
}

/// The 1-based source line and 0-based column of character `offset` of a scalar's value, when
/// the scalar sits on one line and its quoting lets us map value characters back to source
/// characters; `None` otherwise (the caller then points at the whole scalar).
pub fn value_position(node: &Node, source_line: &str, offset: usize) -> Option<usize> {
    if node.span.line != node.span.end_line {
        return None;
    }
    let src: Vec<char> = source_line.chars().collect();
    let start = node.span.col;
    match node.style {
        Style::Plain => Some(start + offset),
        Style::Block => None,
        Style::Single => {
            // Skip the opening quote; `''` is one character of the value.
            let mut i = start + 1;
            let mut n = 0;
            while n < offset {
                if src.get(i) == Some(&'\'') && src.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else {
                    i += 1;
                }
                n += 1;
            }
            (i < src.len()).then_some(i)
        }
        Style::Double => {
            let mut i = start + 1;
            let mut n = 0;
            while n < offset {
                if src.get(i) == Some(&'\\') {
                    i += match src.get(i + 1) {
                        Some('x') => 4,
                        Some('u') => 6,
                        Some('U') => 10,
                        _ => 2,
                    };
                } else {
                    i += 1;
                }
                n += 1;
            }
            (i < src.len()).then_some(i)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        parse(text).unwrap().remove(0)
    }

    #[test]
    fn types_scalars_by_the_core_schema() {
        let n = doc("a: 1\nb: '1'\nc: 1.5\nd: true\ne:\nf: x\ng: !!str 2\nh: 1e3\ni: .5\n");
        assert_eq!(n.get("a").unwrap().value, Value::Int(1));
        assert_eq!(n.get("b").unwrap().value, Value::Str("1".into()));
        assert_eq!(n.get("c").unwrap().value, Value::Float(1.5));
        assert_eq!(n.get("d").unwrap().value, Value::Bool(true));
        assert_eq!(n.get("e").unwrap().value, Value::Null);
        assert_eq!(n.get("f").unwrap().value, Value::Str("x".into()));
        assert_eq!(n.get("g").unwrap().value, Value::Str("2".into()));
        assert_eq!(n.get("h").unwrap().value, Value::Float(1000.0));
        assert_eq!(n.get("i").unwrap().value, Value::Float(0.5));
        assert_eq!(doc("1.2.3").value, Value::Str("1.2.3".into()));
    }

    #[test]
    fn records_places() {
        let n = doc("name: x\ntasks:\n  - nme: 'y'\n");
        let tasks = n.get("tasks").unwrap();
        let Value::Seq(items) = &tasks.value else {
            panic!("not a list")
        };
        let key = items[0].key("nme").unwrap();
        assert_eq!(
            (key.span.line, key.span.col, key.span.width()),
            (3, 4, Some(3))
        );
        let v = items[0].get("nme").unwrap();
        assert_eq!((v.span.line, v.span.col, v.span.width()), (3, 9, Some(3)));
    }

    #[test]
    fn maps_value_offsets_through_quotes() {
        let line = r#"  find: "a\\b(" "#;
        let n = doc(line.trim_start());
        let v = n.get("find").unwrap();
        // In the value `a\b(`, offset 3 is `(`; in the source it sits after `a\\b`.
        let col = value_position(v, "find: \"a\\\\b(\" ", 3).unwrap();
        assert_eq!(col, 11);
        let n = doc("find: 'it''s('\n");
        let col = value_position(n.get("find").unwrap(), "find: 'it''s('", 4).unwrap();
        assert_eq!(col, 12);
    }

    #[test]
    fn aliases_expand_and_are_bounded() {
        let n = doc("a: &x [1, 2]\nb: *x\n");
        assert_eq!(n.get("b").unwrap().to_json(), serde_json::json!([1, 2]));
        let mut bomb = String::from("a: &a [x,x,x,x,x,x,x,x,x,x]\n");
        for i in 0..6 {
            let prev = (b'a' + i) as char;
            let next = (b'a' + i + 1) as char;
            bomb.push_str(&format!(
                "{next}: &{next} [*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev},*{prev}]\n"
            ));
        }
        assert!(parse(&bomb).is_err());
    }

    #[test]
    fn syntax_errors_have_places() {
        let e = parse("a: [1, 2\nb: 3\n").unwrap_err();
        assert!(e.line >= 1, "{e:?}");
    }
}
