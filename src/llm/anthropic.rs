//! Anthropic Messages (`POST {root}/v1/messages`): system prompts go in the top-level `system`
//! field, `max_tokens` is required, and a streamed reply is a sequence of named events
//! (`message_start`, `content_block_delta`, `message_delta`, `message_stop`, `ping`, `error`).

use serde_json::{Value, json};

use super::errors::{self, Failure};
use super::http::{Endpoint, Wire, count_of, text_of};
use super::sse::Events;
use super::{Finish, Reply, Request, Role, Usage};

/// Output tokens asked for when the request leaves it open (the API requires a number).
pub(crate) const DEFAULT_MAX_TOKENS: u32 = 8192;

/// The API version this backend speaks.
pub(crate) const VERSION: &str = "2023-06-01";

pub(crate) struct Anthropic {
    pub endpoint: Endpoint,
    pub stream: bool,
}

impl Anthropic {
    fn body(&self, request: &Request) -> Value {
        let system: Vec<&str> = request
            .messages
            .iter()
            .filter(|m| m.role == Role::System)
            .map(|m| m.content.as_str())
            .collect();
        let messages: Vec<Value> = request
            .messages
            .iter()
            .filter(|m| m.role != Role::System)
            .map(|m| {
                let role = if m.role == Role::Assistant {
                    "assistant"
                } else {
                    "user"
                };
                json!({"role": role, "content": m.content})
            })
            .collect();
        let mut body = json!({
            "model": request.model,
            "messages": messages,
            "max_tokens": request.max_output_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
        });
        if !system.is_empty() {
            body["system"] = json!(system.join("\n\n"));
        }
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if self.stream {
            body["stream"] = json!(true);
        }
        body
    }

    fn whole(&self, value: &Value) -> Result<Reply, Failure> {
        if text_of(value.get("type")) == "error" {
            return Err(self.endpoint.reported(value.get("error").unwrap_or(value)));
        }
        let content = value
            .get("content")
            .and_then(Value::as_array)
            .ok_or_else(|| errors::unreadable("anthropic", "no `content` in the reply"))?;
        let text: String = content
            .iter()
            .filter(|b| text_of(b.get("type")) == "text")
            .map(|b| text_of(b.get("text")))
            .collect();
        let mut usage = Usage::default();
        add_usage(&mut usage, value.get("usage"));
        Ok(Reply {
            text,
            finish: finish(text_of(value.get("stop_reason"))),
            usage,
            model: text_of(value.get("model")).to_string(),
        })
    }

    fn streamed(&self, events: &mut Events<impl std::io::BufRead>) -> Result<Reply, Failure> {
        let mut reply = Reply {
            text: String::new(),
            finish: Finish::Other(String::new()),
            usage: Usage::default(),
            model: String::new(),
        };
        let mut stopped = false;
        loop {
            let event = events
                .next_event()
                .map_err(|e| self.endpoint.read_failure(&e))?;
            let Some(event) = event else { break };
            let data: Value = serde_json::from_str(&event.data)
                .map_err(|e| errors::unreadable("anthropic", e))?;
            let kind = if event.name.is_empty() {
                text_of(data.get("type")).to_string()
            } else {
                event.name.clone()
            };
            match kind.as_str() {
                "message_start" => {
                    let message = data.get("message");
                    reply.model = text_of(message.and_then(|m| m.get("model"))).to_string();
                    add_usage(&mut reply.usage, message.and_then(|m| m.get("usage")));
                }
                "content_block_delta" => {
                    let delta = data.get("delta");
                    if text_of(delta.and_then(|d| d.get("type"))) == "text_delta" {
                        reply
                            .text
                            .push_str(text_of(delta.and_then(|d| d.get("text"))));
                    }
                }
                "message_delta" => {
                    let reason = text_of(data.get("delta").and_then(|d| d.get("stop_reason")));
                    if !reason.is_empty() {
                        reply.finish = finish(reason);
                        stopped = true;
                    }
                    // The final output count; input counts here repeat message_start's.
                    if let Some(out) = data
                        .get("usage")
                        .and_then(|u| u.get("output_tokens"))
                        .and_then(Value::as_u64)
                    {
                        reply.usage.output = out;
                    }
                }
                "message_stop" => {
                    return if stopped {
                        Ok(reply)
                    } else {
                        Err(errors::unreadable(
                            "anthropic",
                            "the stream stopped without a stop reason",
                        ))
                    };
                }
                "error" => return Err(self.endpoint.reported(data.get("error").unwrap_or(&data))),
                _ => {}
            }
        }
        Err(errors::connection(
            "anthropic",
            "the stream ended before `message_stop`",
        ))
    }
}

impl Wire for Anthropic {
    fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    fn exchange(&self, request: &Request) -> Result<Reply, Failure> {
        let response = self.endpoint.post(&self.body(request))?;
        if self.stream && !Endpoint::is_whole(&response) {
            self.streamed(&mut Events::new(self.endpoint.reader(response)))
        } else {
            self.whole(&self.endpoint.read_json(response)?)
        }
    }
}

fn finish(reason: &str) -> Finish {
    match reason {
        "end_turn" | "stop_sequence" => Finish::Stop,
        "max_tokens" => Finish::Length,
        other => Finish::Other(other.to_string()),
    }
}

/// Cache writes are billed as input (at a premium the price table folds in); cache reads are
/// the cached input.
fn add_usage(usage: &mut Usage, value: Option<&Value>) {
    let Some(u) = value else { return };
    usage.input += count_of(u.get("input_tokens")) + count_of(u.get("cache_creation_input_tokens"));
    usage.cached_input += count_of(u.get("cache_read_input_tokens"));
    usage.output += count_of(u.get("output_tokens"));
}
