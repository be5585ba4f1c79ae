//! OpenAI Chat Completions (`POST {root}/v1/chat/completions`), which every OpenAI-compatible
//! server speaks too (vLLM, llama.cpp, LM Studio, OpenRouter, Azure's v1 API). Streamed replies
//! are server-sent events ending with `data: [DONE]`; usage comes in the last chunk.

use serde_json::{Value, json};

use super::errors::{self, Failure};
use super::http::{Endpoint, Wire, count_of, text_of};
use super::sse::Events;
use super::{Finish, Reply, Request, Role, Usage};

pub(crate) struct OpenAi {
    pub endpoint: Endpoint,
    pub stream: bool,
    /// OpenAI's own API wants `max_completion_tokens` (its reasoning models refuse
    /// `max_tokens`); compatible servers know `max_tokens`.
    pub official: bool,
}

impl OpenAi {
    fn body(&self, request: &Request) -> Value {
        let messages: Vec<Value> = request
            .messages
            .iter()
            .map(|m| json!({"role": role(m.role), "content": m.content}))
            .collect();
        let mut body = json!({"model": request.model, "messages": messages});
        if let Some(t) = request.temperature {
            body["temperature"] = json!(t);
        }
        if let Some(n) = request.max_output_tokens {
            let field = if self.official {
                "max_completion_tokens"
            } else {
                "max_tokens"
            };
            body[field] = json!(n);
        }
        if self.stream {
            body["stream"] = json!(true);
            body["stream_options"] = json!({"include_usage": true});
        }
        body
    }

    fn whole(&self, value: &Value) -> Result<Reply, Failure> {
        if let Some(e) = value.get("error").filter(|e| !e.is_null()) {
            return Err(self.endpoint.reported(e));
        }
        let choice = value
            .get("choices")
            .and_then(|c| c.get(0))
            .ok_or_else(|| errors::unreadable("openai", "no `choices` in the reply"))?;
        Ok(Reply {
            text: text_of(choice.get("message").and_then(|m| m.get("content"))).to_string(),
            finish: finish(text_of(choice.get("finish_reason"))),
            usage: usage(value.get("usage")),
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
        let mut finished = false;
        loop {
            let event = events
                .next_event()
                .map_err(|e| self.endpoint.read_failure(&e))?;
            let Some(event) = event else { break };
            if event.data.trim() == "[DONE]" {
                return if finished {
                    Ok(reply)
                } else {
                    Err(errors::unreadable(
                        "openai",
                        "the stream ended without a finish reason",
                    ))
                };
            }
            let chunk: Value =
                serde_json::from_str(&event.data).map_err(|e| errors::unreadable("openai", e))?;
            if let Some(e) = chunk.get("error").filter(|e| !e.is_null()) {
                return Err(self.endpoint.reported(e));
            }
            if event.name == "error" {
                return Err(self.endpoint.reported(&chunk));
            }
            if reply.model.is_empty() {
                reply.model = text_of(chunk.get("model")).to_string();
            }
            if let Some(choice) = chunk.get("choices").and_then(|c| c.get(0)) {
                if let Some(piece) = choice
                    .get("delta")
                    .and_then(|d| d.get("content"))
                    .and_then(Value::as_str)
                {
                    reply.text.push_str(piece);
                }
                let reason = text_of(choice.get("finish_reason"));
                if !reason.is_empty() {
                    reply.finish = finish(reason);
                    finished = true;
                }
            }
            if let Some(u) = chunk.get("usage").filter(|u| !u.is_null()) {
                reply.usage = usage(Some(u));
            }
        }
        Err(errors::connection(
            "openai",
            "the stream ended before `data: [DONE]`",
        ))
    }
}

impl Wire for OpenAi {
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

fn role(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn finish(reason: &str) -> Finish {
    match reason {
        "stop" => Finish::Stop,
        "length" => Finish::Length,
        other => Finish::Other(other.to_string()),
    }
}

/// `prompt_tokens` includes the cached ones (`prompt_tokens_details.cached_tokens`).
fn usage(value: Option<&Value>) -> Usage {
    let Some(u) = value else {
        return Usage::default();
    };
    let prompt = count_of(u.get("prompt_tokens"));
    let cached = count_of(
        u.get("prompt_tokens_details")
            .and_then(|d| d.get("cached_tokens")),
    )
    .min(prompt);
    Usage {
        input: prompt - cached,
        cached_input: cached,
        output: count_of(u.get("completion_tokens")),
    }
}
