//! GitHub's published REST API description (npm `@octokit/openapi` 23.0.2, file
//! `generated/api.github.com.json`, installed by `.ci/run` into `target/github-openapi/`) and a
//! small OpenAPI 3.0 validator over it: the fake GitHub checks every request codefleet sends and
//! every answer it gives, so the fake cannot drift from what GitHub accepts and returns.
//!
//! What is checked: the path matches one of the description's templates (the fake is at the
//! server's root; a parameter marked `x-multi-segment` may span several segments, as `ref` in
//! `/repos/{owner}/{repo}/git/refs/{ref}` does), the method is an operation of it, every query
//! parameter is declared with a value of its type, the path parameters have their types, the
//! JSON body validates against the request body schema; an answer's status is declared and its
//! body validates against that response's schema. The schema keywords understood: `$ref`,
//! `type` (one or several), `nullable`, `enum`, `required`, `properties`,
//! `additionalProperties`, `items`, `allOf`, `anyOf`, `oneOf`, `minLength`/`maxLength`,
//! `minimum`/`maximum`, `minItems`/`maxItems`, `pattern`, and the formats `uri` and `date-time`
//! (loosely: a scheme, and a date with a time).
//!
//! Two deliberate departures from the letter of the description, both about GitHub as it is:
//! - `oneOf` is accepted when *at least* one branch matches. GitHub's description uses `oneOf`
//!   where branches overlap (an object whose fields are all optional matches several), so
//!   exactly-one would reject GitHub's own examples.
//! - Statuses GitHub answers on every operation without each operation listing them are
//!   accepted with a `basic-error` body: 401 (bad credentials), 403 and 429 (rate limits, see
//!   "Rate limits for the REST API"), 404 (a resource that does not exist or that the token
//!   cannot see), and any 5xx.

#![allow(dead_code)]

use std::fmt;
use std::sync::OnceLock;

use serde_json::Value;

/// The operation a request was matched to: its method (lower case, as the description keys
/// it) and its path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationRef {
    pub method: String,
    pub path: String,
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method.to_ascii_uppercase(), self.path)
    }
}

/// Where `.ci/run` puts the description.
pub fn description_path() -> String {
    format!(
        "{}/target/github-openapi/api.github.com.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

enum Seg {
    Lit(String),
    Param {
        name: String,
        multi: bool,
    },
    /// Parameters and text in one segment, as `{base}...{head}`: a pattern naming them.
    Mixed(regex::Regex),
}

fn segment(s: &str, multi: &[String]) -> Seg {
    if let Some(name) = s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))
        && !name.contains(['{', '}'])
    {
        return Seg::Param {
            name: name.to_string(),
            multi: multi.iter().any(|m| m == name),
        };
    }
    if !s.contains('{') {
        return Seg::Lit(s.to_string());
    }
    let mut pattern = String::from("^");
    let mut rest = s;
    while let Some(open) = rest.find('{') {
        let close = rest[open..].find('}').map_or(rest.len(), |c| open + c);
        pattern.push_str(&regex::escape(&rest[..open]));
        let name = &rest[(open + 1).min(close)..close];
        pattern.push_str(&format!("(?P<{name}>.+?)"));
        rest = rest.get(close + 1..).unwrap_or("");
    }
    pattern.push_str(&regex::escape(rest));
    pattern.push('$');
    regex::Regex::new(&pattern).map_or_else(|_| Seg::Lit(s.to_string()), Seg::Mixed)
}

struct Route {
    template: String,
    segs: Vec<Seg>,
}

/// A description made ready for checking: the document (OpenAPI 3 shapes) and its path
/// templates. GitHub's is [`spec`]; another forge's (converted to these shapes, see
/// `support/descriptions.rs`) is made with [`Spec::new`].
pub struct Spec {
    doc: Value,
    routes: Vec<Route>,
    /// The API's name in messages (`GitHub's REST API`).
    name: &'static str,
    /// The schema of an error body for the statuses answered on any operation.
    error: Value,
}

impl Spec {
    /// A description of `name` (`GitLab's REST API`) whose error bodies match `error`.
    pub fn new(doc: Value, name: &'static str, error: Value) -> Spec {
        let routes = routes(&doc);
        Spec {
            doc,
            routes,
            name,
            error,
        }
    }
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        let path = description_path();
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "GitHub's OpenAPI description is missing ({path}: {e}); run `.ci/run`, or: \
                 d=$(mktemp -d) && (cd $d && npm pack @octokit/openapi@23.0.2 && tar xzf \
                 octokit-openapi-23.0.2.tgz) && mkdir -p target/github-openapi && cp \
                 $d/package/generated/api.github.com.json target/github-openapi/"
            )
        });
        let doc: Value = serde_json::from_str(&text).expect("the description is JSON");
        Spec::new(
            doc,
            "GitHub's REST API",
            serde_json::json!({"$ref": "#/components/schemas/basic-error"}),
        )
    })
}

/// Loads the description now (a test thread's panic names the missing file; a server
/// thread's would only drop a connection).
pub fn load() {
    spec();
}

fn routes(doc: &Value) -> Vec<Route> {
    let Some(paths) = doc["paths"].as_object() else {
        return Vec::new();
    };
    paths
        .iter()
        .map(|(template, item)| {
            let multi = multi_segment_params(doc, item);
            let segs = template
                .trim_start_matches('/')
                .split('/')
                .map(|s| segment(s, &multi))
                .collect();
            Route {
                template: template.clone(),
                segs,
            }
        })
        .collect()
}

fn multi_segment_params(doc: &Value, item: &Value) -> Vec<String> {
    let mut names = Vec::new();
    let Some(item) = item.as_object() else {
        return names;
    };
    for (key, op) in item {
        let params = if key == "parameters" {
            op
        } else {
            &op["parameters"]
        };
        for p in params.as_array().into_iter().flatten() {
            let p = resolve(doc, p);
            if p["x-multi-segment"] == Value::Bool(true)
                && let Some(n) = p["name"].as_str()
            {
                names.push(n.to_string());
            }
        }
    }
    names
}

/// Follows `$ref`s (`#/components/...`) until a value that is not one.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..32 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else {
            return v;
        };
        match r.strip_prefix('#').and_then(|p| doc.pointer(p)) {
            Some(target) => v = target,
            None => return &Value::Null,
        }
    }
    v
}

fn percent_decode(s: &str, plus_is_space: bool) -> String {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| Some(hex(*bytes.get(i + 1)?)? * 16 + hex(*bytes.get(i + 2)?)?))
            .flatten();
        match (escaped, bytes[i]) {
            (Some(b), _) => {
                out.push(b);
                i += 3;
                continue;
            }
            (None, b'+') if plus_is_space => out.push(b' '),
            (None, b) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Binds a request's path segments to a template's, returning the parameters' values.
fn bind(segs: &[Seg], req: &[&str], out: &mut Vec<(String, String)>) -> bool {
    let Some((first, rest)) = segs.split_first() else {
        return req.is_empty();
    };
    match first {
        Seg::Lit(l) => req.first() == Some(&l.as_str()) && bind(rest, &req[1..], out),
        Seg::Mixed(re) => {
            let Some(caps) = req.first().and_then(|s| re.captures(s)) else {
                return false;
            };
            let mark = out.len();
            for name in re.capture_names().flatten() {
                out.push((name.to_string(), percent_decode(&caps[name], false)));
            }
            if bind(rest, &req[1..], out) {
                return true;
            }
            out.truncate(mark);
            false
        }
        Seg::Param { name, multi } => {
            let most = if *multi { req.len() } else { req.len().min(1) };
            for take in (1..=most).rev() {
                if req[..take].iter().any(|s| s.is_empty()) {
                    continue;
                }
                let value = req[..take]
                    .iter()
                    .map(|s| percent_decode(s, false))
                    .collect::<Vec<_>>()
                    .join("/");
                let mark = out.len();
                out.push((name.clone(), value));
                if bind(rest, &req[take..], out) {
                    return true;
                }
                out.truncate(mark);
            }
            false
        }
    }
}

/// Checks one request (`target` is the path with its query string, as on the request line)
/// and names the operation it is.
pub fn check_request(method: &str, target: &str, body: &str) -> Result<OperationRef, Vec<String>> {
    check_request_in(spec(), method, target, body)
}

/// [`check_request`] against another description.
pub fn check_request_in(
    spec: &Spec,
    method: &str,
    target: &str,
    body: &str,
) -> Result<OperationRef, Vec<String>> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let req: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    // Every template the path fits, the most literal first (`{base}...{head}` before `{basehead}`).
    let mut fits: Vec<(&Route, Vec<(String, String)>)> = spec
        .routes
        .iter()
        .filter_map(|r| {
            let mut bound = Vec::new();
            bind(&r.segs, &req, &mut bound).then_some((r, bound))
        })
        .collect();
    if fits.is_empty() {
        return Err(vec![format!(
            "{path}: no path of {} has this shape",
            spec.name
        )]);
    }
    let specific = |s: &Seg| match s {
        Seg::Lit(_) => 2,
        Seg::Mixed(_) => 1,
        Seg::Param { .. } => 0,
    };
    fits.sort_by_key(|(r, _)| std::cmp::Reverse(r.segs.iter().map(specific).sum::<usize>()));
    let lower = method.to_ascii_lowercase();
    let Some((route, bound)) = fits
        .iter()
        .find(|(r, _)| spec.doc["paths"][&r.template].get(&lower).is_some())
    else {
        let template = &fits[0].0.template;
        let item = &spec.doc["paths"][template];
        let methods: Vec<String> = item
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k.to_ascii_uppercase())
            .filter(|k| k != "PARAMETERS")
            .collect();
        return Err(vec![format!(
            "{method} {template}: not an operation (it has: {})",
            methods.join(", ")
        )]);
    };
    let op = OperationRef {
        method: lower,
        path: route.template.clone(),
    };
    let mut errors = Vec::new();
    check_parameters(spec, &op, bound, query, &mut errors);
    check_request_body(spec, &op, body, &mut errors);
    if errors.is_empty() {
        Ok(op)
    } else {
        Err(errors.into_iter().map(|e| format!("{op}: {e}")).collect())
    }
}

fn parameters<'a>(doc: &'a Value, op: &OperationRef) -> Vec<&'a Value> {
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
        .map(|p| resolve(doc, p))
        .collect()
}

fn check_parameters(
    spec: &Spec,
    op: &OperationRef,
    path_values: &[(String, String)],
    query: &str,
    errors: &mut Vec<String>,
) {
    let doc = &spec.doc;
    let declared = parameters(doc, op);
    let find = |name: &str, place: &str| {
        declared
            .iter()
            .find(|p| p["name"] == name && p["in"] == place)
            .copied()
    };
    for (name, value) in path_values {
        if let Some(p) = find(name, "path") {
            check_text(
                doc,
                &p["schema"],
                value,
                &format!("path parameter {name}"),
                errors,
            );
        }
    }
    let mut seen: Vec<String> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let (name, value) = (percent_decode(k, true), percent_decode(v, true));
        let Some(p) = find(&name, "query") else {
            let known: Vec<&str> = declared
                .iter()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str())
                .collect();
            errors.push(format!(
                "query parameter {name:?} is not declared (declared: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ));
            continue;
        };
        let schema = resolve(doc, &p["schema"]);
        if seen.contains(&name) && schema["type"] != "array" {
            errors.push(format!("query parameter {name} is given twice"));
        }
        seen.push(name.clone());
        let item = if schema["type"] == "array" {
            &schema["items"]
        } else {
            schema
        };
        check_text(
            doc,
            item,
            &value,
            &format!("query parameter {name}"),
            errors,
        );
    }
    for p in &declared {
        let name = p["name"].as_str().unwrap_or("");
        if p["in"] == "query" && p["required"] == true && !seen.iter().any(|s| s == name) {
            errors.push(format!("query parameter {name} is required"));
        }
    }
}

/// A parameter's text as the value its schema's type reads it as, then validated.
fn check_text(doc: &Value, schema: &Value, text: &str, place: &str, errors: &mut Vec<String>) {
    let schema = resolve(doc, schema);
    let value = coerce(doc, schema, text);
    let mut v = Validator::new(doc);
    v.check(schema, &value, "");
    errors.extend(v.errors.into_iter().map(|e| {
        let e = e.trim_start_matches(": ");
        format!("{place} = {text:?}: {e}")
    }));
}

fn coerce(doc: &Value, schema: &Value, text: &str) -> Value {
    let schema = resolve(doc, schema);
    let types: Vec<&str> = match &schema["type"] {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    for t in &types {
        let v = match *t {
            "integer" => text.parse::<i64>().ok().map(Value::from),
            "number" => text.parse::<f64>().ok().map(Value::from),
            "boolean" => text.parse::<bool>().ok().map(Value::from),
            "string" => Some(Value::from(text)),
            _ => None,
        };
        if let Some(v) = v {
            return v;
        }
    }
    for key in ["oneOf", "anyOf"] {
        for branch in schema[key].as_array().into_iter().flatten() {
            let v = coerce(doc, branch, text);
            if Validator::new(doc).accepts(branch, &v) {
                return v;
            }
        }
    }
    Value::from(text)
}

fn check_request_body(spec: &Spec, op: &OperationRef, body: &str, errors: &mut Vec<String>) {
    let doc = &spec.doc;
    let request = resolve(doc, &doc["paths"][&op.path][&op.method]["requestBody"]);
    if request.is_null() {
        if !body.trim().is_empty() {
            errors.push("the operation takes no request body, but one was sent".into());
        }
        return;
    }
    if body.trim().is_empty() {
        if request["required"] == true {
            errors.push("a request body is required, none was sent".into());
        }
        return;
    }
    let schema = &request["content"]["application/json"]["schema"];
    if schema.is_null() {
        errors.push("the operation's request body is not application/json".into());
        return;
    }
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => {
            errors.push(format!("the request body is not JSON: {e}"));
            return;
        }
    };
    let mut v = Validator::new(doc);
    v.check(schema, &value, "");
    errors.extend(v.errors.into_iter().map(|e| format!("request body{e}")));
}

/// Statuses GitHub answers on any operation without each operation declaring them.
fn universal(status: u16) -> bool {
    matches!(status, 401 | 403 | 404 | 429) || (500..600).contains(&status)
}

/// Checks one answer to a request matched to `op`.
pub fn check_response(op: &OperationRef, status: u16, body: &str) -> Vec<String> {
    check_response_in(spec(), op, status, body)
}

/// [`check_response`] against another description.
pub fn check_response_in(spec: &Spec, op: &OperationRef, status: u16, body: &str) -> Vec<String> {
    let doc = &spec.doc;
    let responses = &doc["paths"][&op.path][&op.method]["responses"];
    let declared = responses
        .get(status.to_string())
        .or_else(|| responses.get("default"));
    let schema = match declared {
        Some(r) => {
            let r = resolve(doc, r);
            match r.get("content") {
                None => {
                    return if body.trim().is_empty() {
                        Vec::new()
                    } else {
                        vec![format!(
                            "{op}: a {status} answer has no body in the description, but one was sent: {}",
                            clip(body)
                        )]
                    };
                }
                Some(content) => match content.get("application/json") {
                    Some(json) => json["schema"].clone(),
                    // A diff, a patch, HTML: not JSON, not checked.
                    None => return Vec::new(),
                },
            }
        }
        None if universal(status) => spec.error.clone(),
        None => {
            let known: Vec<&String> = responses
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .collect();
            return vec![format!(
                "{op}: status {status} is not an answer of this operation (declared: {})",
                known
                    .iter()
                    .map(|k| k.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )];
        }
    };
    let value: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(e) => return vec![format!("{op}: the {status} answer's body is not JSON: {e}")],
    };
    let mut v = Validator::new(doc);
    v.check(&schema, &value, "");
    v.errors
        .into_iter()
        .map(|e| format!("{op}: {status} answer body{e}"))
        .collect()
}

/// Validates `value` against the schema at `pointer` (`#/components/schemas/...`); for the
/// validator's own tests.
pub fn check_value(pointer: &str, value: &Value) -> Vec<String> {
    let spec = spec();
    let mut v = Validator::new(&spec.doc);
    v.check(&serde_json::json!({ "$ref": pointer }), value, "");
    v.errors
}

/// Validates `value` against `schema` inside another description `doc` (its `$ref`s resolve in
/// `doc`: `#/definitions/...` of a Swagger 2.0 one too); errors as `"{json pointer}: {what}"`.
/// The fake Gitea's checks (`support/gitea/swagger.rs`) go through this.
pub fn validate_in(doc: &Value, schema: &Value, value: &Value) -> Vec<String> {
    let mut v = Validator::new(doc);
    v.check(schema, value, "");
    v.errors
}

/// The description itself, for tests that read its examples.
pub fn description() -> &'static Value {
    &spec().doc
}

fn clip(s: &str) -> String {
    let mut s = s.to_string();
    if s.len() > 200 {
        let mut end = 200;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

fn is_type(v: &Value, t: &str) -> bool {
    match t {
        "integer" => v.is_i64() || v.is_u64() || v.as_f64().is_some_and(|f| f.fract() == 0.0),
        "number" => v.is_number(),
        "string" => v.is_string(),
        "boolean" => v.is_boolean(),
        "object" => v.is_object(),
        "array" => v.is_array(),
        "null" => v.is_null(),
        _ => true,
    }
}

fn short(v: &Value) -> String {
    clip(&v.to_string())
}

/// The schema validator: errors are `"{json pointer}: {what was expected}"`.
struct Validator<'a> {
    doc: &'a Value,
    errors: Vec<String>,
}

impl<'a> Validator<'a> {
    fn new(doc: &'a Value) -> Self {
        Validator {
            doc,
            errors: Vec::new(),
        }
    }

    fn accepts(&self, schema: &Value, value: &Value) -> bool {
        let mut v = Validator::new(self.doc);
        v.check(schema, value, "");
        v.errors.is_empty()
    }

    fn fail(&mut self, at: &str, what: String) {
        self.errors.push(format!("{at}: {what}"));
    }

    fn check(&mut self, schema: &Value, value: &Value, at: &str) {
        let schema = resolve(self.doc, schema);
        if !schema.is_object() {
            return;
        }
        if value.is_null() && schema["nullable"] == true {
            return;
        }
        if !self.check_type(schema, value, at) {
            return;
        }
        if let Some(allowed) = schema["enum"].as_array()
            && !allowed.contains(value)
        {
            let list: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            self.fail(
                at,
                format!("{} is not one of {}", short(value), list.join(", ")),
            );
        }
        for branch in schema["allOf"].as_array().into_iter().flatten() {
            self.check(branch, value, at);
        }
        for key in ["anyOf", "oneOf"] {
            if let Some(branches) = schema[key].as_array() {
                self.check_alternatives(key, branches, value, at);
            }
        }
        match value {
            Value::Object(map) => self.check_object(schema, map, at),
            Value::Array(items) => self.check_array(schema, items, at),
            Value::String(s) => self.check_string(schema, s, at),
            Value::Number(n) => self.check_number(schema, n.as_f64().unwrap_or(0.0), at),
            _ => {}
        }
    }

    /// False when the value has none of the schema's types (nothing deeper is worth saying).
    fn check_type(&mut self, schema: &Value, value: &Value, at: &str) -> bool {
        let types: Vec<&str> = match &schema["type"] {
            Value::String(t) => vec![t.as_str()],
            Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
            _ => return true,
        };
        if types.iter().any(|t| is_type(value, t)) {
            return true;
        }
        let nullable = if schema["nullable"] == true {
            " or null"
        } else {
            ""
        };
        self.fail(
            at,
            format!(
                "expected {}{nullable}, got {} {}",
                types.join(" or "),
                kind(value),
                short(value)
            ),
        );
        false
    }

    fn check_alternatives(&mut self, key: &str, branches: &[Value], value: &Value, at: &str) {
        let mut best: Option<Vec<String>> = None;
        for branch in branches {
            let mut v = Validator::new(self.doc);
            v.check(branch, value, at);
            if v.errors.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| v.errors.len() < b.len()) {
                best = Some(v.errors);
            }
        }
        let closest = best.unwrap_or_default().join("; ");
        self.fail(
            at,
            format!(
                "matches none of the {} {key} alternatives (closest: {closest})",
                branches.len()
            ),
        );
    }

    fn check_object(&mut self, schema: &Value, map: &serde_json::Map<String, Value>, at: &str) {
        let props = schema["properties"].as_object();
        for name in schema["required"].as_array().into_iter().flatten() {
            if let Some(name) = name.as_str()
                && !map.contains_key(name)
            {
                self.fail(at, format!("required property {name:?} is missing"));
            }
        }
        for (key, value) in map {
            let here = format!("{at}/{}", key.replace('~', "~0").replace('/', "~1"));
            match props.and_then(|p| p.get(key)) {
                Some(s) => self.check(s, value, &here),
                None => match &schema["additionalProperties"] {
                    Value::Bool(false) => {
                        let known: Vec<&String> =
                            props.into_iter().flatten().map(|(k, _)| k).collect();
                        self.fail(
                            &here,
                            format!(
                                "property {key:?} is not allowed (allowed: {})",
                                known
                                    .iter()
                                    .map(|k| k.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            ),
                        );
                    }
                    extra @ Value::Object(_) => self.check(extra, value, &here),
                    _ => {}
                },
            }
        }
        if let Some(max) = schema["maxProperties"].as_u64()
            && map.len() as u64 > max
        {
            self.fail(at, format!("at most {max} properties, got {}", map.len()));
        }
    }

    fn check_array(&mut self, schema: &Value, items: &[Value], at: &str) {
        if let Some(min) = schema["minItems"].as_u64()
            && (items.len() as u64) < min
        {
            self.fail(at, format!("at least {min} items, got {}", items.len()));
        }
        if let Some(max) = schema["maxItems"].as_u64()
            && items.len() as u64 > max
        {
            self.fail(at, format!("at most {max} items, got {}", items.len()));
        }
        if let Some(item) = schema.get("items") {
            for (i, v) in items.iter().enumerate() {
                self.check(item, v, &format!("{at}/{i}"));
            }
        }
    }

    fn check_string(&mut self, schema: &Value, s: &str, at: &str) {
        let len = s.chars().count() as u64;
        if let Some(min) = schema["minLength"].as_u64()
            && len < min
        {
            self.fail(at, format!("at least {min} characters, got {len}"));
        }
        if let Some(max) = schema["maxLength"].as_u64()
            && len > max
        {
            self.fail(at, format!("at most {max} characters, got {len}"));
        }
        if let Some(p) = schema["pattern"].as_str()
            && let Ok(re) = regex::Regex::new(p)
            && !re.is_match(s)
        {
            self.fail(at, format!("{s:?} does not match the pattern {p:?}"));
        }
        match schema["format"].as_str() {
            Some("uri") if !looks_like_uri(s) => {
                self.fail(at, format!("{s:?} is not a URI (format uri)"));
            }
            Some("date-time") if !looks_like_date_time(s) => {
                self.fail(
                    at,
                    format!("{s:?} is not a date-time like 2011-01-26T19:01:12Z"),
                );
            }
            _ => {}
        }
    }

    fn check_number(&mut self, schema: &Value, n: f64, at: &str) {
        if let Some(min) = schema["minimum"].as_f64()
            && n < min
        {
            self.fail(at, format!("{n} is below the minimum {min}"));
        }
        if let Some(max) = schema["maximum"].as_f64()
            && n > max
        {
            self.fail(at, format!("{n} is above the maximum {max}"));
        }
    }
}

/// A scheme and something after it (GitHub's URIs include templates like `{/sha}`).
fn looks_like_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once(':') else {
        return false;
    };
    !rest.is_empty()
        && scheme
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
}

/// `YYYY-MM-DDTHH:MM` at the start (seconds, fractions and zone vary).
fn looks_like_date_time(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 16
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[5..7].iter().all(u8::is_ascii_digit)
        && b[7] == b'-'
        && b[8..10].iter().all(u8::is_ascii_digit)
        && (b[10] == b'T' || b[10] == b't' || b[10] == b' ')
        && b[11..13].iter().all(u8::is_ascii_digit)
        && b[13] == b':'
        && b[14..16].iter().all(u8::is_ascii_digit)
}
