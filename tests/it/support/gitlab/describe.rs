//! The vendored GitLab description (`descriptions/gitlab.json`: the subset of GitLab's Swagger
//! 2.0 description codefleet uses, and the operations written from GitLab's documentation,
//! each marked with its source) made ready for `support/openapi.rs`'s validator: Swagger 2.0's
//! shapes become OpenAPI 3's (a parameter's `type` its `schema`, an `in: body` parameter the
//! request body, a response's `schema` its JSON content, `x-nullable` `nullable`), and an error
//! status declared without a body takes GitLab's error body (`Error`).

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::support::openapi::{self, OperationRef, Spec};

/// Where the vendored description is.
pub fn path() -> String {
    format!(
        "{}/tests/it/support/descriptions/gitlab.json",
        env!("CARGO_MANIFEST_DIR")
    )
}

/// The vendored description as the file has it.
pub fn vendored() -> Value {
    let text = std::fs::read_to_string(path()).expect("the vendored GitLab description");
    serde_json::from_str(&text).expect("the vendored GitLab description is JSON")
}

fn spec() -> &'static Spec {
    static SPEC: OnceLock<Spec> = OnceLock::new();
    SPEC.get_or_init(|| {
        Spec::new(
            convert(&vendored()),
            "GitLab's REST API (the vendored subset)",
            json!({"$ref": "#/definitions/Error"}),
        )
    })
}

/// Checks a request against the description.
pub fn check_request(method: &str, target: &str, body: &str) -> Result<OperationRef, Vec<String>> {
    openapi::check_request_in(spec(), method, target, body)
}

/// Checks an answer against the description.
pub fn check_response(op: &OperationRef, status: u16, body: &str) -> Vec<String> {
    openapi::check_response_in(spec(), op, status, body)
}

/// Swagger 2.0 to the OpenAPI 3 shapes the validator reads.
pub fn convert(doc: &Value) -> Value {
    let mut out = doc.clone();
    if let Some(defs) = out.get_mut("definitions") {
        nullable(defs);
    }
    let Some(paths) = out.get_mut("paths").and_then(Value::as_object_mut) else {
        return out;
    };
    for item in paths.values_mut() {
        let Some(item) = item.as_object_mut() else {
            continue;
        };
        for op in item.values_mut() {
            convert_operation(op);
        }
    }
    out
}

fn convert_operation(op: &mut Value) {
    let mut params = Vec::new();
    let mut body = None;
    for p in op["parameters"].as_array().cloned().unwrap_or_default() {
        if p["in"] == "body" {
            body = Some(json!({
                "required": p["required"] == true,
                "content": {"application/json": {"schema": p["schema"].clone()}},
            }));
            continue;
        }
        let mut schema = Map::new();
        let mut param = Map::new();
        for (k, v) in p.as_object().into_iter().flatten() {
            match k.as_str() {
                "type" | "format" | "enum" | "items" | "default" | "minimum" | "maximum" => {
                    schema.insert(k.clone(), v.clone());
                }
                _ => {
                    param.insert(k.clone(), v.clone());
                }
            }
        }
        param.insert("schema".into(), Value::Object(schema));
        params.push(Value::Object(param));
    }
    op["parameters"] = Value::Array(params);
    if let Some(b) = body {
        op["requestBody"] = b;
    }
    if let Some(responses) = op.get_mut("responses").and_then(Value::as_object_mut) {
        for (status, r) in responses.iter_mut() {
            let schema = r.get("schema").cloned().or_else(|| {
                (status.as_str() >= "400").then(|| json!({"$ref": "#/definitions/Error"}))
            });
            if let Some(mut schema) = schema {
                nullable(&mut schema);
                r["content"] = json!({"application/json": {"schema": schema}});
            }
        }
    }
}

/// `x-nullable: true` → `nullable: true`, everywhere below.
fn nullable(v: &mut Value) {
    match v {
        Value::Object(m) => {
            if m.get("x-nullable") == Some(&Value::Bool(true)) {
                m.insert("nullable".into(), Value::Bool(true));
            }
            for x in m.values_mut() {
                nullable(x);
            }
        }
        Value::Array(a) => a.iter_mut().for_each(nullable),
        _ => {}
    }
}
