//! Full GitHub answer shapes for the fake GitHub: GitHub's own examples from its OpenAPI
//! description (`#/components/examples`), with what the fake knows laid over them. The fake's
//! answers then carry every field the description marks `required` (a pull request has 50),
//! with GitHub's values where the fake has none of its own, and `support/openapi.rs` checks
//! the result like any other answer.

#![allow(dead_code)]

use serde_json::{Value, json};

use super::openapi;

/// GitHub's example `name` (`#/components/examples/NAME`); a list example gives its first item.
pub fn example(name: &str) -> Value {
    let value = &openapi::description()["components"]["examples"][name]["value"];
    assert!(
        !value.is_null(),
        "GitHub's description has no example {name:?}"
    );
    match value {
        Value::Array(items) => items.first().cloned().unwrap_or(Value::Null),
        v => v.clone(),
    }
}

/// `example` with `over` laid over it: objects merge key by key, anything else replaces.
pub fn shape(name: &str, over: Value) -> Value {
    let mut value = example(name);
    overlay(&mut value, over);
    value
}

fn overlay(base: &mut Value, over: Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(&k) {
                    Some(slot) => overlay(slot, v),
                    None => {
                        b.insert(k, v);
                    }
                }
            }
        }
        (slot, v) => *slot = v,
    }
}

/// A label, as GitHub answers it in a pull request or the labels of an issue.
pub fn label(name: &str) -> Value {
    shape("label-items", json!({ "name": name, "default": false }))
}

/// A repository as `GET /repos/{owner}/{repo}` answers it: not a fork (the example is one; its
/// `parent` and `source` go), `language` added (the example predates it being required).
pub fn full_repository(full_name: &str, over: Value) -> Value {
    let (owner, name) = full_name.split_once('/').unwrap_or((full_name, ""));
    let mut repo = shape(
        "full-repository-default-response",
        json!({
            "full_name": full_name,
            "name": name,
            "owner": {"login": owner},
            "language": null,
            "default_branch": "main",
            "fork": false,
        }),
    );
    if let Some(fields) = repo.as_object_mut() {
        fields.remove("parent");
        fields.remove("source");
    }
    overlay(&mut repo, over);
    repo
}
