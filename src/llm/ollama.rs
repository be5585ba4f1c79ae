//! Ollama's native chat API (`POST {root}/api/chat`): options carry temperature and
//! `num_predict`; a streamed reply is newline-delimited JSON ending with a `"done": true` line
//! that holds the counts (`prompt_eval_count`, `eval_count`) and `done_reason`.

use std::io::BufRead;

use serde_json::{Value, json};

use super::errors::{self, Failure};
use super::http::{Endpoint, Wire, count_of, text_of};
use super::{Finish, Reply, Request, Role, Usage};

pub(crate) struct Ollama {
    pub endpoint: Endpoint,
    pub stream: bool,
}

impl Ollama {
    fn body(&self, request: &Request) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| {
                let role = match m.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let mut options = serde_json::Map::new();
        if let Some(t) = request.temperature {
            options.insert("temperature".into(), json!(t));
        }
        if let Some(n) = request.max_output_tokens {
            options.insert("num_predict".into(), json!(n));
        }
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "stream": self.stream,
        });
        if !options.is_empty() {
            body["options"] = Value::Object(options);
        }
        body
    }

    /// Folds one JSON object (the whole reply, or one line of a stream) into `reply`; true when
    /// it was the last.
    fn fold(&self, reply: &mut Reply, value: &Value) -> Result<bool, Failure> {
        if let Some(e) = value.get("error").filter(|e| !e.is_null()) {
            return Err(self.endpoint.reported(e));
        }
        if reply.model.is_empty() {
            reply.model = text_of(value.get("model")).to_string();
        }
        reply
            .text
            .push_str(text_of(value.get("message").and_then(|m| m.get("content"))));
        let done = value.get("done").and_then(Value::as_bool).unwrap_or(false);
        if done {
            reply.finish = match text_of(value.get("done_reason")) {
                "stop" | "" => Finish::Stop,
                "length" => Finish::Length,
                other => Finish::Other(other.to_string()),
            };
            reply.usage = Usage {
                input: count_of(value.get("prompt_eval_count")),
                cached_input: 0,
                output: count_of(value.get("eval_count")),
            };
        }
        Ok(done)
    }
}

impl Wire for Ollama {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn exchange(&self, request: &Request) -> Result<Reply, Failure> {
        let response = self.endpoint.post(&self.body(request))?;
        let mut reply = Reply {
            text: String::new(),
            finish: Finish::Other(String::new()),
            usage: Usage::default(),
            model: String::new(),
        };
        if !self.stream {
            let value = self.endpoint.read_json(response)?;
            if !self.fold(&mut reply, &value)? {
                return Err(errors::unreadable("ollama", "the reply is not marked done"));
            }
            return Ok(reply);
        }
        let mut reader = self.endpoint.reader(response);
        let mut line = String::new();
        loop {
            line.clear();
            let n = reader
                .read_line(&mut line)
                .map_err(|e| self.endpoint.read_failure(&e))?;
            if n == 0 {
                return Err(errors::connection(
                    "ollama",
                    "the stream ended before the line marked done",
                ));
            }
            if line.trim().is_empty() {
                continue;
            }
            let value: Value =
                serde_json::from_str(line.trim()).map_err(|e| errors::unreadable("ollama", e))?;
            if self.fold(&mut reply, &value)? {
                return Ok(reply);
            }
        }
    }
}
