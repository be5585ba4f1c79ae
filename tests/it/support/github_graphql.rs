//! The fake GitHub's GraphQL endpoint (`POST /graphql`): the mutations codefleet sends.

#![allow(dead_code)]

use serde_json::{Value, json};

use super::github::State;

/// Answers one GraphQL request.
pub fn handle(_st: &mut State, _request: &Value, _base: &str) -> (u16, String, Value) {
    (
        200,
        String::new(),
        json!({"errors": [{"message": "not implemented"}]}),
    )
}
