//! The structural check: walks the YAML node tree against the JSON Schema generated from the
//! serde mirror (so field names, types, required fields and allowed values have one source of
//! truth) and reports every unknown field, wrong type, missing field, unknown value and
//! duplicate key in one pass. It also yields a cleaned JSON value with the bad parts removed (and
//! missing required fields filled with empty values), so deserialisation and the semantic checks
//! still run and report what else is wrong. Nodes it reported are remembered as "poisoned" so
//! the semantic checks do not report them twice.

use std::collections::HashSet;

use serde_json::{Map, Value as J};

use super::diag::{Rule, Source};
use super::yaml::{Node, Value, key_text};
use crate::error::{Error, closest, edit_distance};

/// What the structural check found.
pub struct Checked {
    /// The problems.
    pub errors: Vec<Error>,
    /// The document with bad parts removed, ready to deserialise; `None` when the document is
    /// not a mapping at all.
    pub json: Option<J>,
    /// Start positions (line, column) of nodes already reported.
    pub poisoned: HashSet<(usize, usize)>,
}

/// Checks `root` against `schema` (the root schema with `$defs`).
pub fn check(root: &Node, schema: &J, src: Source<'_>) -> Checked {
    let mut walker = Walker {
        schema,
        src,
        errors: Vec::new(),
        poisoned: HashSet::new(),
    };
    let json = walker.walk(root, schema, &Where::Root);
    Checked {
        errors: walker.errors,
        json,
        poisoned: walker.poisoned,
    }
}

/// Where a node sits, for messages.
enum Where<'a> {
    Root,
    /// The value of a field (its key node).
    Field(&'a Node),
    /// An item of a list under a field; 0-based index.
    Item(&'a Node, usize),
}

impl Where<'_> {
    /// "in `model`", "in task `rename`", "" for the root.
    fn inside(&self, node: &Node) -> String {
        match self {
            Where::Root => String::new(),
            Where::Field(key) => format!(" in `{}`", key_text(key)),
            Where::Item(key, i) if key_text(key) == "tasks" => match node.get("name") {
                Some(Node {
                    value: Value::Str(name),
                    ..
                }) => format!(" in task `{name}`"),
                _ => format!(" in task {}", i + 1),
            },
            Where::Item(key, i) => format!(" in `{}` item {}", key_text(key), i + 1),
        }
    }

    fn field(&self) -> String {
        match self {
            Where::Root => "the pipeline".into(),
            Where::Field(key) => format!("`{}`", key_text(key)),
            Where::Item(key, i) => format!("`{}` item {}", key_text(key), i + 1),
        }
    }
}

struct Walker<'a> {
    schema: &'a J,
    src: Source<'a>,
    errors: Vec<Error>,
    poisoned: HashSet<(usize, usize)>,
}

impl<'a> Walker<'a> {
    fn resolve(&self, mut s: &'a J) -> &'a J {
        // References are local (`#/$defs/Name`); a bounded loop guards against cycles.
        for _ in 0..16 {
            let Some(r) = s.get("$ref").and_then(J::as_str) else {
                break;
            };
            let name = r.rsplit('/').next().unwrap_or("");
            match self.schema.get("$defs").and_then(|d| d.get(name)) {
                Some(next) => s = next,
                None => break,
            }
        }
        s
    }

    fn poison(&mut self, node: &Node, error: Error) {
        self.poisoned.insert((node.span.line, node.span.col));
        self.errors.push(error);
    }

    /// Checks `node`; returns its cleaned JSON, or `None` when it is unusable.
    fn walk(&mut self, node: &Node, schema: &'a J, at: &Where<'_>) -> Option<J> {
        let s = self.resolve(schema);
        let union = s.get("anyOf").or_else(|| s.get("oneOf"));
        if let (Some(J::Array(alternatives)), None, None) =
            (union, s.get("type"), s.get("properties"))
        {
            let alternatives: Vec<&'a J> = alternatives.iter().map(|a| self.resolve(a)).collect();
            let consts: Option<Vec<&str>> = alternatives
                .iter()
                .map(|a| a.get("const").and_then(J::as_str))
                .collect();
            if let Some(consts) = consts {
                return self.one_of(node, &consts, at);
            }
            let Some(alt) = alternatives.iter().find(|a| accepts(a, node)) else {
                let expected: Vec<&str> = alternatives.iter().flat_map(|a| types(a)).collect();
                self.wrong_type(node, &expected, at);
                return None;
            };
            return self.walk(node, alt, at);
        }
        if !accepts(s, node) {
            self.wrong_type(node, &types(s), at);
            return None;
        }
        match &node.value {
            Value::Map(entries) => Some(self.map(node, entries, s, at)),
            Value::Seq(items) => {
                let item_schema = s.get("items").unwrap_or(&J::Bool(true));
                let key = match at {
                    Where::Field(k) | Where::Item(k, _) => Some(*k),
                    Where::Root => None,
                };
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let here = match key {
                        Some(k) => Where::Item(k, i),
                        None => Where::Root,
                    };
                    if let Some(v) = self.walk(item, item_schema, &here) {
                        out.push(v);
                    }
                }
                Some(J::Array(out))
            }
            Value::Int(i) => self.integer(node, *i, s, at),
            _ => Some(node.to_json()),
        }
    }

    fn map(&mut self, node: &Node, entries: &[(Node, Node)], s: &'a J, at: &Where<'_>) -> J {
        let properties = s.get("properties").and_then(J::as_object);
        let names = || {
            properties
                .into_iter()
                .flat_map(|p| p.keys().map(String::as_str))
        };
        let additional = s.get("additionalProperties");
        let mut out = Map::new();
        let mut seen: Vec<&Node> = Vec::new();
        let mut unknown: Vec<&Node> = Vec::new();
        for (key, value) in entries {
            let name = key_text(key);
            if let Some(first) = seen.iter().find(|k| key_text(k) == name) {
                let e = self
                    .src
                    .error(
                        Rule::DuplicateKey,
                        format!("`{name}` is given twice{}", at.inside(node)),
                        key,
                    )
                    .hint(format!(
                        "the first `{name}` is on line {}; keep one",
                        first.span.line
                    ));
                self.poison(key, e);
                continue;
            }
            seen.push(key);
            if matches!(key.value, Value::Seq(_) | Value::Map(_)) {
                let e = self.src.error(
                    Rule::WrongType,
                    format!("keys must be text; found {}", key.kind_name()),
                    key,
                );
                self.poison(key, e);
                continue;
            }
            // Extension fields (`x-…` at the top level) hold anchors; they are not data.
            if pattern_matches(s, &name) {
                continue;
            }
            let field_schema = match properties.and_then(|p| p.get(&name)) {
                Some(p) => Some(p),
                None => match additional {
                    Some(J::Bool(false)) => None,
                    Some(J::Object(_)) => additional,
                    _ => Some(&J::Bool(true)),
                },
            };
            let Some(field_schema) = field_schema else {
                unknown.push(key);
                continue;
            };
            let required = s
                .get("required")
                .and_then(J::as_array)
                .is_some_and(|r| r.iter().any(|x| x.as_str() == Some(&name)));
            if value.value == Value::Null && !required {
                continue;
            }
            if let Some(v) = self.walk(value, field_schema, &Where::Field(key)) {
                out.insert(name, v);
            }
        }
        let mut missing: Vec<&str> = Vec::new();
        for required in s
            .get("required")
            .and_then(J::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = required.as_str() else {
                continue;
            };
            if seen.iter().any(|k| key_text(k) == name) {
                if !out.contains_key(name) {
                    // Reported already (wrong type); fill in so deserialising still works.
                    out.insert(name.to_string(), self.filler(properties, name));
                }
                continue;
            }
            out.insert(name.to_string(), self.filler(properties, name));
            missing.push(name);
        }
        // An unknown key with no close spelling while a required field is missing is most
        // likely that field under another name: one problem, reported once.
        for key in unknown {
            let name = key_text(key);
            let mut e = self.src.error(
                Rule::UnknownField,
                format!("unknown field `{name}`{}", at.inside(node)),
                key,
            );
            e = match suggest(&name, names()) {
                _ if name == "<<" => e.hint(
                    "YAML merge keys (`<<`) are not supported in pipelines; write the fields out",
                ),
                Some(close) => {
                    missing.retain(|m| *m != close);
                    e.hint(format!("did you mean `{close}`?"))
                }
                None if !missing.is_empty() => {
                    let instead = missing.remove(0);
                    e.hint(format!(
                        "did you mean `{instead}`? it is required and missing"
                    ))
                }
                None => e.hint(format!(
                    "known fields here: {}",
                    names()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.poison(key, e);
        }
        for name in missing {
            let place_node = match at {
                Where::Field(key) => *key,
                _ => match &node.value {
                    Value::Map(entries) if !entries.is_empty() => &entries[0].0,
                    _ => node,
                },
            };
            let mut e = self.src.error(
                Rule::MissingField,
                format!("missing field `{name}`{}", at.inside(node)),
                place_node,
            );
            if let Some(d) = properties
                .and_then(|p| p.get(name))
                .map(|p| self.resolve(p))
                .and_then(|p| p.get("description"))
                .and_then(J::as_str)
            {
                e = e.hint(format!("add `{name}:`: {}", first_sentence(d)));
            }
            self.errors.push(e);
        }
        J::Object(out)
    }

    fn filler(&self, properties: Option<&'a Map<String, J>>, name: &str) -> J {
        match properties.and_then(|p| p.get(name)) {
            Some(p) => filler(self.resolve(p)),
            None => J::String(String::new()),
        }
    }

    fn one_of(&mut self, node: &Node, allowed: &[&str], at: &Where<'_>) -> Option<J> {
        let Value::Str(text) = &node.value else {
            self.wrong_type(node, &["string"], at);
            return None;
        };
        if allowed.contains(&text.as_str()) {
            return Some(J::String(text.clone()));
        }
        let list = allowed
            .iter()
            .map(|a| format!("`{a}`"))
            .collect::<Vec<_>>()
            .join(", ");
        let hint = match suggest(text, allowed.iter().copied()) {
            Some(close) => format!("did you mean `{close}`? {} takes one of {list}", at.field()),
            None => format!("{} takes one of {list}", at.field()),
        };
        let e = self
            .src
            .error(
                Rule::UnknownValue,
                format!("unknown value `{text}` for {}", at.field()),
                node,
            )
            .hint(hint);
        self.poison(node, e);
        None
    }

    fn integer(&mut self, node: &Node, i: i64, s: &J, at: &Where<'_>) -> Option<J> {
        let minimum = s.get("minimum").and_then(J::as_i64);
        let maximum = match s.get("format").and_then(J::as_str) {
            Some("uint32") => Some(i64::from(u32::MAX)),
            Some("uint16") => Some(i64::from(u16::MAX)),
            Some("uint8") => Some(i64::from(u8::MAX)),
            _ => None,
        };
        let problem = if minimum.is_some_and(|m| i < m) {
            Some(format!("{} must not be negative", at.field()))
        } else if maximum.is_some_and(|m| i > m) {
            Some(format!("{} is too large", at.field()))
        } else {
            None
        };
        match problem {
            Some(message) => {
                let e = self.src.error(Rule::Range, message, node);
                self.poison(node, e);
                None
            }
            None => Some(J::from(i)),
        }
    }

    fn wrong_type(&mut self, node: &Node, expected: &[&str], at: &Where<'_>) {
        let mut names: Vec<&str> = expected
            .iter()
            .filter(|t| **t != "null")
            .map(|t| type_name(t))
            .collect();
        names.dedup();
        let expected_text = match names.as_slice() {
            [] => "something else".to_string(),
            [one] => (*one).to_string(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        };
        let mut e = self.src.error(
            Rule::WrongType,
            format!(
                "{} expects {expected_text}, found {}",
                at.field(),
                node.kind_name()
            ),
            node,
        );
        let scalar = matches!(node.value, Value::Int(_) | Value::Float(_) | Value::Bool(_));
        if scalar && expected.contains(&"string") {
            let text = self.src.line(node.span.line);
            let raw: String = text
                .chars()
                .skip(node.span.col)
                .take(node.span.width().unwrap_or(0))
                .collect();
            e = e.hint(format!("quote it to make it text: `\"{raw}\"`"));
        } else if matches!(at, Where::Root) {
            e = e.hint("a pipeline is a mapping with `name:` and `tasks:` at the top level");
        } else if matches!(node.value, Value::Str(_)) && expected.contains(&"array") {
            e = e.hint("write a list: `[\"…\"]`, or one `- item` per line");
        }
        self.poison(node, e);
    }
}

/// A likely intended spelling of `word`: close by edit distance, and not a whole rewrite of a
/// short word (`1` is not a typo of `pr`).
fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    closest(word, candidates).filter(|c| edit_distance(word, c) < word.chars().count())
}

/// Whether a `patternProperties` pattern of `s` matches `name`; such fields are accepted and
/// left out of the data.
fn pattern_matches(s: &J, name: &str) -> bool {
    s.get("patternProperties")
        .and_then(J::as_object)
        .is_some_and(|patterns| {
            patterns
                .keys()
                .any(|p| regex::Regex::new(p).is_ok_and(|re| re.is_match(name)))
        })
}

fn types(s: &J) -> Vec<&str> {
    match s.get("type") {
        Some(J::String(t)) => vec![t.as_str()],
        Some(J::Array(ts)) => ts.iter().filter_map(J::as_str).collect(),
        _ => Vec::new(),
    }
}

fn accepts(s: &J, node: &Node) -> bool {
    let ts = types(s);
    if ts.is_empty() {
        return true;
    }
    ts.iter().any(|t| {
        matches!(
            (*t, &node.value),
            ("null", Value::Null)
                | ("boolean", Value::Bool(_))
                | ("integer", Value::Int(_))
                | ("number", Value::Int(_) | Value::Float(_))
                | ("string", Value::Str(_))
                | ("array", Value::Seq(_))
                | ("object", Value::Map(_))
        )
    })
}

fn type_name(t: &str) -> &'static str {
    match t {
        "boolean" => "a boolean (`true` or `false`)",
        "integer" => "an integer",
        "number" => "a number",
        "string" => "a string",
        "array" => "a list",
        "object" => "a mapping",
        _ => "a value",
    }
}

/// An empty value of the schema's type, standing in for a missing or bad required field.
fn filler(s: &J) -> J {
    match types(s).first().copied() {
        Some("array") => J::Array(Vec::new()),
        Some("object") => J::Object(Map::new()),
        Some("integer" | "number") => J::from(0),
        Some("boolean") => J::Bool(false),
        _ => J::String(String::new()),
    }
}

fn first_sentence(d: &str) -> String {
    let d = d.replace('\n', " ");
    match d.find(". ") {
        Some(i) => d[..i].to_string(),
        None => d.trim_end_matches('.').to_string(),
    }
}
