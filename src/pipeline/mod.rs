//! The pipeline format: the serde mirror of the YAML (with its JSON Schema), templating, and
//! validation into a checked model with source places.
//!
//! Reading a pipeline goes through four stages, each collecting every problem it finds:
//! 1. [`yaml`]: the text becomes a node tree with line and column (granit-parser events);
//! 2. `structure`: the tree is checked against the JSON Schema generated from
//!    [`file`](mod@file) (unknown fields, types, required fields, allowed values), and bad parts
//!    are cut out so the later stages still run;
//! 3. the rest is deserialised into the serde mirror [`file::PipelineFile`];
//! 4. `check`: cross-field rules, regexes, globs, units, templates and named files, building
//!    the checked [`Pipeline`].
//!
//! [`load`] runs them all and returns the pipeline or every problem, ready to render with
//! [`Error::render`]. Later stages use the checked model ([`Pipeline`], [`Task`], [`TaskKind`]),
//! [`Template::render`] with a [`Context`] (see [`Pipeline::context`]), and
//! [`Replace::replacement`]; [`Pipeline::new`] and [`Task::new`] build pipelines in code.

mod check;
pub mod diag;
pub mod file;
pub mod model;
mod structure;
pub mod template;
pub mod units;
pub mod yaml;

use std::path::Path;

pub use check::{GITLAB_COM, bad_ref_part, valid_github_login, valid_host};
pub use diag::{Invalid, Rule};
pub use model::glob_set;
pub use model::*;
pub use template::{Context, Scope, Template};
pub use units::{format_duration, parse_duration, parse_size};

use crate::error::{Error, Place};
use diag::Source;

/// The starter pipeline `codefleet init` writes; it validates as written.
pub const STARTER: &str = include_str!("starter.yml");

/// The JSON Schema of the pipeline format, generated from the serde mirror.
pub fn schema() -> serde_json::Value {
    file::schema()
}

/// Reads and validates the pipeline at `path`. `vars` are `--var` overrides. Relative paths in
/// the pipeline resolve against the file's directory. On failure, every problem found, in
/// source order.
pub fn load(path: &Path, vars: &[(String, String)]) -> Result<Pipeline, Vec<Error>> {
    let bytes = std::fs::read(path).map_err(|e| vec![Error::io(path, &e)])?;
    let text = String::from_utf8(bytes).map_err(|e| {
        vec![
            Rule::Yaml
                .error(format!(
                    "`{}` is not UTF-8 text (invalid byte at offset {})",
                    path.display(),
                    e.utf8_error().valid_up_to()
                ))
                .in_file(path)
                .hint("save the pipeline as UTF-8"),
        ]
    })?;
    load_str(&text, path, vars)
}

/// Validates pipeline `text` as if read from `path`: messages name `path`, and relative paths
/// resolve against its directory.
pub fn load_str(
    text: &str,
    path: &Path,
    vars: &[(String, String)],
) -> Result<Pipeline, Vec<Error>> {
    let shown_dir = path.parent().unwrap_or(Path::new(""));
    let dir = if shown_dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        shown_dir
    };
    let src = Source { path, text };
    let text_no_bom = text.strip_prefix('\u{feff}').unwrap_or(text);
    let docs = match yaml::parse(text_no_bom) {
        Ok(docs) => docs,
        Err(e) => {
            let line = src.line(e.line);
            let col = e.col.min(line.chars().count());
            let mut err = Rule::Yaml
                .error(format!("invalid YAML: {}", e.message))
                .at(src.place_at(e.line.max(1), col, 1));
            if line.starts_with(|c: char| c.is_whitespace()) && line.contains('\t') {
                err = err.hint("YAML indents with spaces, not tabs");
            } else if e.message.contains("flow") {
                err = err.hint("a `{` or `[` before this point is not closed");
            } else if e.message.contains("mapping values") {
                err = err.hint("quote a value that contains `: `, e.g. `name: \"a: b\"`");
            }
            return Err(vec![err]);
        }
    };
    let root = match docs.as_slice() {
        []
        | [
            yaml::Node {
                value: yaml::Value::Null,
                ..
            },
        ] => {
            return Err(vec![
                Rule::Document
                    .error("the pipeline file is empty")
                    .at(Place::file(path))
                    .hint("`codefleet init` writes a starter pipeline"),
            ]);
        }
        [root] => root,
        [_, second, ..] => {
            return Err(vec![
                src.error(
                    Rule::Document,
                    format!("the pipeline file holds {} YAML documents", docs.len()),
                    second,
                )
                .hint("one pipeline per file; remove the `---` separators"),
            ]);
        }
    };
    let schema = schema();
    let structural = structure::check(root, &schema, src);
    let mut errors = structural.errors;
    let Some(json) = structural.json else {
        return Err(sorted(errors));
    };
    let mirror: file::PipelineFile = match serde_json::from_value(json) {
        Ok(m) => m,
        Err(e) => {
            errors.push(
                Rule::Internal
                    .error(format!("cannot read the pipeline: {e}"))
                    .in_file(path)
                    .hint("this is a bug in codefleet; please report it with the pipeline"),
            );
            return Err(sorted(errors));
        }
    };
    let name = mirror.name.clone();
    let mut checker = check::Checker {
        pipeline_name: &name,
        src,
        root,
        dir,
        shown_dir,
        poisoned: &structural.poisoned,
        errors: Vec::new(),
    };
    let pipeline = checker.pipeline(mirror, path, vars);
    errors.extend(checker.errors);
    if errors.is_empty() {
        Ok(pipeline)
    } else {
        Err(sorted(errors))
    }
}

/// Errors in source order (stable for equal places: the order they were found).
fn sorted(mut errors: Vec<Error>) -> Vec<Error> {
    errors.sort_by_key(|e| {
        e.place
            .as_ref()
            .map_or((usize::MAX, 0), |p| (p.line, p.column))
    });
    errors
}

/// Parses a `--var KEY=VALUE` argument.
pub fn parse_var(arg: &str) -> Result<(String, String), Error> {
    match arg.split_once('=') {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
        _ => Err(Rule::VarArg
            .error(format!("`--var {arg}` is not KEY=VALUE"))
            .hint("write it like `--var version=2.0.1`")),
    }
}
