//! The fake Gitea's checks against Gitea's Swagger 2.0 description (the vendored subset in
//! `support/descriptions/gitea.json`, see its README): every request codefleet sends and every
//! answer the fake gives. Schemas are validated by the OpenAPI validator of `support/openapi.rs`
//! (`validate_in`), which reads Swagger 2.0's schemas as well; what differs in Swagger 2.0 is
//! handled here: `basePath` (`/api/v1`), parameters typed on themselves (`type`, `enum`,
//! `minimum`, `items` with `collectionFormat: multi`), the body as an `in: body` parameter, and
//! `#/responses/...` holding the answer's `schema`.
//!
//! What is checked: the path fits one of the description's templates, the method is an operation
//! of it, every query parameter is declared and has a value of its type, path parameters have
//! their types, a JSON body is sent only to an operation that takes one and validates against it;
//! an answer's status is declared, a 2xx answer's body validates against its schema (or is empty
//! when the response has none).
//!
//! Three departures from the letter of the description, each about Gitea as it is:
//! - Swagger 2.0 cannot say a property may be null, and Gitea's Go structs answer `null` for
//!   unset pointers (`merged_at`, `milestone`): an answer's null properties are read as absent.
//! - Gitea's definitions do not forbid properties they do not list, but Gitea's answers are
//!   exactly its Go structs: every definition with `properties` is read as
//!   `additionalProperties: false`, so neither the fake's answers nor codefleet's requests can
//!   use a field the description lacks.
//! - Errors: Gitea declares `APIError`/`APIValidationError` with `headers`, but sends them as a
//!   JSON body (`message`, `url`); a 4xx/5xx answer is accepted with such a body, and 401, 403,
//!   404, 429 and 5xx on any operation (authentication, permissions, rate limits, server errors).

use std::sync::OnceLock;

use serde_json::{Map, Value};

const BASE: &str = "/api/v1";

/// The operation a request was matched to (`GET /repos/{owner}/{repo}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    pub method: String,
    pub path: String,
}

impl std::fmt::Display for Op {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method.to_ascii_uppercase(), self.path)
    }
}

/// The vendored description, definitions made strict (see the module's doc).
pub fn doc() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| {
        let text = include_str!("../descriptions/gitea.json");
        let mut doc: Value = serde_json::from_str(text).expect("gitea.json is JSON");
        if let Some(defs) = doc["definitions"].as_object_mut() {
            for def in defs.values_mut() {
                if def.get("properties").is_some() && def.get("additionalProperties").is_none() {
                    def["additionalProperties"] = Value::Bool(false);
                }
            }
        }
        doc
    })
}

/// A path template's fit to a request path: the bound parameters, or `None`.
fn bind(template: &str, path: &str) -> Option<Vec<(String, String)>> {
    let t: Vec<&str> = template.trim_start_matches('/').split('/').collect();
    let p: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // `{basehead}` may hold branch names with slashes ("including branch names that contain
    // slashes", says its description): at the end of a template it takes the rest.
    let last_takes_rest = t.last() == Some(&"{basehead}") && p.len() > t.len();
    if p.len() != t.len() && !last_takes_rest {
        return None;
    }
    let mut bound = Vec::new();
    for (i, seg) in t.iter().enumerate() {
        let value = if i + 1 == t.len() && last_takes_rest {
            p[i..].join("/")
        } else {
            p.get(i)?.to_string()
        };
        match seg.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
            Some(name) if !value.is_empty() => {
                bound.push((name.to_string(), super::super::github::decode(&value)))
            }
            Some(_) => return None,
            None if *seg == value => {}
            None => return None,
        }
    }
    Some(bound)
}

/// Checks one request and names its operation.
pub fn check_request(method: &str, target: &str, body: &str) -> Result<Op, Vec<String>> {
    let doc = doc();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let Some(path) = path.strip_prefix(BASE) else {
        return Err(vec![format!("{path}: not under the API's basePath {BASE}")]);
    };
    let lower = method.to_ascii_lowercase();
    let mut fits: Vec<(&String, Vec<(String, String)>)> = doc["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(t, _)| bind(t, path).map(|b| (t, b)))
        .collect();
    // The most literal template first (`/repos/search` before `/repos/{owner}/{repo}`).
    fits.sort_by_key(|(t, _)| t.matches('{').count());
    let Some((template, bound)) = fits
        .iter()
        .find(|(t, _)| doc["paths"][t.as_str()].get(&lower).is_some())
    else {
        return Err(vec![match fits.first() {
            Some((t, _)) => format!("{method} {t}: not an operation of the description"),
            None => format!("{path}: no path of the vendored Gitea description has this shape"),
        }]);
    };
    let op = Op {
        method: lower,
        path: template.to_string(),
    };
    let params = parameters(doc, &op);
    let mut errors = Vec::new();
    for (name, value) in bound {
        if let Some(p) = params
            .iter()
            .find(|p| p["name"] == *name && p["in"] == "path")
        {
            check_param(doc, p, value, &mut errors);
        }
    }
    check_query(doc, &params, query, &mut errors);
    check_body(doc, &params, body, &mut errors);
    if errors.is_empty() {
        Ok(op)
    } else {
        Err(errors.into_iter().map(|e| format!("{op}: {e}")).collect())
    }
}

fn parameters<'a>(doc: &'a Value, op: &Op) -> Vec<&'a Value> {
    let item = &doc["paths"][&op.path];
    item["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            item[&op.method]["parameters"]
                .as_array()
                .into_iter()
                .flatten(),
        )
        .collect()
}

fn check_query(doc: &Value, params: &[&Value], query: &str, errors: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let name = super::super::github::decode(&k.replace('+', " "));
        let value = super::super::github::decode(&v.replace('+', " "));
        let Some(p) = params
            .iter()
            .find(|p| p["name"] == name && p["in"] == "query")
        else {
            let known: Vec<&str> = params
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            errors.push(format!(
                "query parameter {name:?} is not declared (declared: {})",
                known.join(", ")
            ));
            continue;
        };
        if seen.contains(&name) && p["type"] != "array" {
            errors.push(format!("query parameter {name} is given twice"));
        }
        seen.push(name);
        let item = if p["type"] == "array" {
            &p["items"]
        } else {
            *p
        };
        check_param(doc, item, &value, errors);
    }
    for p in params {
        let name = p["name"].as_str().unwrap_or("");
        if p["in"] == "query" && p["required"] == true && !seen.iter().any(|s| s == name) {
            errors.push(format!("query parameter {name} is required"));
        }
    }
}

/// A parameter's text read as its `type`, then validated against the parameter itself (in
/// Swagger 2.0 it carries `type`, `enum`, `minimum` and `format` like a schema).
fn check_param(doc: &Value, p: &Value, text: &str, errors: &mut Vec<String>) {
    let value = match p["type"].as_str() {
        Some("integer") => text.parse::<i64>().map_or(Value::from(text), Value::from),
        Some("boolean") => text.parse::<bool>().map_or(Value::from(text), Value::from),
        _ => Value::from(text),
    };
    let mut schema = Map::new();
    for key in ["type", "enum", "minimum", "maximum", "items"] {
        if let Some(v) = p.get(key) {
            schema.insert(key.into(), v.clone());
        }
    }
    let name = p["name"].as_str().unwrap_or("an item");
    for e in super::super::openapi::validate_in(doc, &Value::Object(schema), &value) {
        errors.push(format!("parameter {name} = {text:?}{e}"));
    }
}

fn check_body(doc: &Value, params: &[&Value], body: &str, errors: &mut Vec<String>) {
    let Some(p) = params.iter().find(|p| p["in"] == "body") else {
        if !body.trim().is_empty() {
            errors.push("the operation takes no body, but one was sent".into());
        }
        return;
    };
    if body.trim().is_empty() {
        if p["required"] == true {
            errors.push("a body is required, none was sent".into());
        }
        return;
    }
    match serde_json::from_str::<Value>(body) {
        Ok(value) => {
            for e in super::super::openapi::validate_in(doc, &p["schema"], &value) {
                errors.push(format!("request body{e}"));
            }
        }
        Err(e) => errors.push(format!("the request body is not JSON: {e}")),
    }
}

/// Statuses Gitea answers on any operation without each declaring them.
fn universal(status: u16) -> bool {
    matches!(status, 401 | 403 | 404 | 429) || (500..600).contains(&status)
}

/// Checks one answer to a request matched to `op`.
pub fn check_response(op: &Op, status: u16, body: &str) -> Vec<String> {
    let doc = doc();
    let responses = &doc["paths"][&op.path][&op.method]["responses"];
    let declared = responses.get(status.to_string()).map(|r| resolve(doc, r));
    if declared.is_none() && !universal(status) {
        let known: Vec<&str> = responses
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.as_str())
            .collect();
        return vec![format!(
            "{op}: status {status} is not an answer of this operation (declared: {})",
            known.join(", ")
        )];
    }
    if status >= 400 {
        return error_body(op, status, body);
    }
    let schema = declared.and_then(|r| r.get("schema"));
    let Some(schema) = schema else {
        return if body.trim().is_empty() {
            Vec::new()
        } else {
            vec![format!(
                "{op}: a {status} answer has no body in the description, but one was sent"
            )]
        };
    };
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return vec![format!("{op}: the {status} answer's body is not JSON: {e}")],
    };
    super::super::openapi::validate_in(doc, schema, &without_nulls(value))
        .into_iter()
        .map(|e| format!("{op}: {status} answer body{e}"))
        .collect()
}

/// An error answer: a JSON object whose `message` and `url` are strings when present.
fn error_body(op: &Op, status: u16, body: &str) -> Vec<String> {
    let ok = serde_json::from_str::<Value>(body).is_ok_and(|v| {
        v.as_object().is_some_and(|m| {
            ["message", "url"]
                .iter()
                .all(|k| m.get(*k).is_none_or(Value::is_string))
        })
    });
    if ok {
        Vec::new()
    } else {
        vec![format!(
            "{op}: a {status} answer is not an APIError object: {body}"
        )]
    }
}

fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..8 {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                v = r
                    .strip_prefix('#')
                    .and_then(|p| doc.pointer(p))
                    .unwrap_or(&Value::Null)
            }
            None => break,
        }
    }
    v
}

/// The value with every null property removed, recursively (Go's unset pointers).
fn without_nulls(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.into_iter().map(without_nulls).collect()),
        other => other,
    }
}
