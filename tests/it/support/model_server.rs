//! A real HTTP/1.1 model server for tests, on 127.0.0.1 at a free port: it answers in each
//! provider's wire format (OpenAI `/v1/chat/completions`, Anthropic `/v1/messages`, Ollama
//! `/api/chat`), streamed or whole as the request asks, from a script of steps or a closure of
//! the request, with faults on demand (error statuses, dropped connections, mid-stream errors,
//! cut-off replies, latency). Every request is recorded (path, headers, JSON body).
//!
//! ```ignore
//! use crate::support::model_server::{ModelServer, Step};
//! let server = ModelServer::start(vec![Step::status(429, "{}").header("retry-after-ms", "5"), Step::text("hi")]);
//! // point a client at server.base_url() ...
//! assert_eq!(server.requests().len(), 2);
//! ```

#![allow(dead_code)]

use std::collections::VecDeque;
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{Value, json};

/// The wire format a request was made in, from its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire {
    OpenAi,
    Anthropic,
    Ollama,
    Unknown,
}

/// One request as the server received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names lowercased, in order.
    pub headers: Vec<(String, String)>,
    /// The body as JSON (`Null` when it was not JSON).
    pub body: Value,
    /// The body as received.
    pub raw: String,
}

impl Recorded {
    /// A header's value by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The wire format, from the path.
    pub fn wire(&self) -> Wire {
        if self.path.ends_with("/v1/chat/completions") {
            Wire::OpenAi
        } else if self.path.ends_with("/v1/messages") {
            Wire::Anthropic
        } else if self.path.ends_with("/api/chat") {
            Wire::Ollama
        } else {
            Wire::Unknown
        }
    }

    /// The request asked for a streamed reply.
    pub fn stream(&self) -> bool {
        self.body.get("stream").and_then(Value::as_bool) == Some(true)
    }
}

/// A normal answer, rendered in the request's wire format.
#[derive(Debug, Clone)]
pub struct Answer {
    pub text: String,
    /// Cut off by the output limit (`length`, `max_tokens`).
    pub truncated: bool,
    /// Input tokens at the full rate.
    pub input: u64,
    /// Input tokens read from the prompt cache.
    pub cached: u64,
    /// Anthropic's cache writes (`cache_creation_input_tokens`); ignored by the others.
    pub cache_write: u64,
    pub output: u64,
    pub model: String,
}

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Step {
    /// Answer normally.
    Answer(Answer),
    /// An error status with this body and extra headers.
    Status {
        status: u16,
        headers: Vec<(String, String)>,
        body: String,
    },
    /// Read the request, then close the connection without a word.
    Drop,
    /// Start a streamed answer with this text, then close the connection mid-stream (for a
    /// whole reply: promise a longer body than is sent).
    DropMidStream(String),
    /// Stream this text, then the provider's error event (`kind`, `message`).
    StreamError {
        text: String,
        kind: String,
        message: String,
    },
    /// Wait, then do the inner step.
    Slow(Duration, Box<Step>),
}

impl Step {
    /// An answer with `text`, 10 input and 5 output tokens, from `test-model`.
    pub fn text(text: &str) -> Step {
        Step::Answer(Answer {
            text: text.to_string(),
            truncated: false,
            input: 10,
            cached: 0,
            cache_write: 0,
            output: 5,
            model: "test-model".to_string(),
        })
    }

    /// An answer cut off by the output limit.
    pub fn truncated(text: &str) -> Step {
        match Step::text(text) {
            Step::Answer(a) => Step::Answer(Answer {
                truncated: true,
                ..a
            }),
            other => other,
        }
    }

    /// An answer with these token counts.
    pub fn usage(self, input: u64, cached: u64, output: u64) -> Step {
        match self {
            Step::Answer(a) => Step::Answer(Answer {
                input,
                cached,
                output,
                ..a
            }),
            other => other,
        }
    }

    /// Anthropic cache writes on an answer.
    pub fn cache_write(self, tokens: u64) -> Step {
        match self {
            Step::Answer(a) => Step::Answer(Answer {
                cache_write: tokens,
                ..a
            }),
            other => other,
        }
    }

    /// An error status with a body.
    pub fn status(status: u16, body: &str) -> Step {
        Step::Status {
            status,
            headers: Vec::new(),
            body: body.to_string(),
        }
    }

    /// Adds a header to an error status.
    pub fn header(self, name: &str, value: &str) -> Step {
        match self {
            Step::Status {
                status,
                mut headers,
                body,
            } => {
                headers.push((name.to_string(), value.to_string()));
                Step::Status {
                    status,
                    headers,
                    body,
                }
            }
            other => other,
        }
    }

    /// This step after a delay.
    pub fn slow(self, delay: Duration) -> Step {
        Step::Slow(delay, Box::new(self))
    }
}

type Handler = dyn Fn(&Recorded) -> Step + Send + Sync;

struct Shared {
    script: Mutex<VecDeque<Step>>,
    handler: Option<Box<Handler>>,
    requests: Mutex<Vec<Recorded>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    stop: AtomicBool,
}

/// The server; stops when dropped.
pub struct ModelServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl ModelServer {
    /// A server answering requests with `steps` in order; once they run out it answers
    /// `418 script exhausted` (an error no client retries).
    pub fn start(steps: Vec<Step>) -> ModelServer {
        ModelServer::spawn(steps.into(), None)
    }

    /// A server answering each request with what `handler` returns for it.
    pub fn with_handler(
        handler: impl Fn(&Recorded) -> Step + Send + Sync + 'static,
    ) -> ModelServer {
        ModelServer::spawn(VecDeque::new(), Some(Box::new(handler)))
    }

    fn spawn(script: VecDeque<Step>, handler: Option<Box<Handler>>) -> ModelServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let shared = Arc::new(Shared {
            script: Mutex::new(script),
            handler,
            requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let accept = Arc::clone(&shared);
        thread::spawn(move || {
            for stream in listener.incoming() {
                if accept.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let conn = Arc::clone(&accept);
                thread::spawn(move || serve(stream, &conn));
            }
        });
        ModelServer { addr, shared }
    }

    /// `http://127.0.0.1:PORT`: the API root, without `/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests.lock().expect("requests").clone()
    }

    /// How many requests arrived.
    pub fn request_count(&self) -> usize {
        self.shared.requests.lock().expect("requests").len()
    }

    /// The most requests ever answered at once.
    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }

    /// Steps appended to the script.
    pub fn push(&self, step: Step) {
        self.shared.script.lock().expect("script").push_back(step);
    }
}

impl Drop for ModelServer {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
    }
}

fn serve(stream: TcpStream, shared: &Shared) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut out = stream;
    // Keep-alive: answer requests on this connection until the client closes it.
    while let Some(request) = read_request(&mut reader) {
        shared
            .requests
            .lock()
            .expect("requests")
            .push(request.clone());
        let step = match &shared.handler {
            Some(h) => h(&request),
            None => shared
                .script
                .lock()
                .expect("script")
                .pop_front()
                .unwrap_or_else(|| {
                    Step::status(418, r#"{"error":{"message":"script exhausted"}}"#)
                }),
        };
        let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let keep = answer(&mut out, &request, step);
        shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        if !keep {
            let _ = out.shutdown(Shutdown::Both);
            return;
        }
    }
}

fn read_request(reader: &mut impl BufRead) -> Option<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 {
            return None;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    let len: usize = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    let raw = String::from_utf8_lossy(&body).into_owned();
    Some(Recorded {
        method,
        path,
        headers,
        body: serde_json::from_str(&raw).unwrap_or(Value::Null),
        raw,
    })
}

/// Writes the answer; false when the connection must close.
fn answer(out: &mut TcpStream, request: &Recorded, step: Step) -> bool {
    match step {
        Step::Slow(delay, inner) => {
            thread::sleep(delay);
            answer(out, request, *inner)
        }
        Step::Drop => false,
        Step::Status {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n",
                body.len()
            );
            for (n, v) in headers {
                head.push_str(&format!("{n}: {v}\r\n"));
            }
            head.push_str("\r\n");
            write_all(out, &[head.as_bytes(), body.as_bytes()].concat())
        }
        Step::Answer(a) => {
            if request.stream() {
                let mut chunks = stream_start(request.wire(), &a);
                chunks.extend(stream_end(request.wire(), &a));
                write_chunked(out, &chunks, true)
            } else {
                let body = whole(request.wire(), &a).to_string();
                write_json(out, &body)
            }
        }
        Step::DropMidStream(text) => {
            let a = match Step::text(&text) {
                Step::Answer(a) => a,
                _ => unreachable!(),
            };
            if request.stream() {
                write_chunked(out, &stream_start(request.wire(), &a), false);
            } else {
                let body = whole(request.wire(), &a).to_string();
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                    body.len() + 100
                );
                write_all(out, &[head.as_bytes(), body.as_bytes()].concat());
            }
            false
        }
        Step::StreamError {
            text,
            kind,
            message,
        } => {
            let a = match Step::text(&text) {
                Step::Answer(a) => a,
                _ => unreachable!(),
            };
            if !request.stream() {
                let body = json!({"error": {"message": message, "type": kind}}).to_string();
                return answer(
                    out,
                    request,
                    Step::Status {
                        status: 500,
                        headers: Vec::new(),
                        body,
                    },
                );
            }
            let mut chunks = stream_start(request.wire(), &a);
            chunks.push(match request.wire() {
                Wire::Anthropic => sse(
                    Some("error"),
                    &json!({"type": "error", "error": {"type": kind, "message": message}}),
                ),
                Wire::Ollama => format!("{}\n", json!({"error": message})),
                _ => sse(None, &json!({"error": {"message": message, "type": kind}})),
            });
            write_chunked(out, &chunks, true);
            false
        }
    }
}

fn write_all(out: &mut TcpStream, bytes: &[u8]) -> bool {
    out.write_all(bytes).and_then(|_| out.flush()).is_ok()
}

fn write_json(out: &mut TcpStream, body: &str) -> bool {
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    write_all(out, &[head.as_bytes(), body.as_bytes()].concat())
}

/// Each piece is one chunk, flushed on its own as a real stream would be; `end` writes the
/// terminating chunk.
fn write_chunked(out: &mut TcpStream, pieces: &[String], end: bool) -> bool {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n";
    if !write_all(out, head.as_bytes()) {
        return false;
    }
    for p in pieces {
        if !write_all(out, format!("{:x}\r\n{p}\r\n", p.len()).as_bytes()) {
            return false;
        }
    }
    end && write_all(out, b"0\r\n\r\n")
}

fn sse(event: Option<&str>, data: &Value) -> String {
    match event {
        Some(e) => format!("event: {e}\ndata: {data}\n\n"),
        None => format!("data: {data}\n\n"),
    }
}

/// The text in three pieces, so a stream has several deltas.
fn pieces(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let n = chars.len().div_ceil(3).max(1);
    chars.chunks(n).map(|c| c.iter().collect()).collect()
}

fn whole(wire: Wire, a: &Answer) -> Value {
    match wire {
        Wire::Anthropic => json!({
            "id": "msg_1", "type": "message", "role": "assistant", "model": a.model,
            "content": [{"type": "text", "text": a.text}],
            "stop_reason": if a.truncated { "max_tokens" } else { "end_turn" },
            "usage": {"input_tokens": a.input, "cache_read_input_tokens": a.cached,
                      "cache_creation_input_tokens": a.cache_write, "output_tokens": a.output},
        }),
        Wire::Ollama => json!({
            "model": a.model, "message": {"role": "assistant", "content": a.text},
            "done": true, "done_reason": if a.truncated { "length" } else { "stop" },
            "prompt_eval_count": a.input, "eval_count": a.output,
        }),
        _ => json!({
            "id": "chatcmpl-1", "object": "chat.completion", "model": a.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": a.text},
                         "finish_reason": if a.truncated { "length" } else { "stop" }}],
            "usage": {"prompt_tokens": a.input + a.cached, "completion_tokens": a.output,
                      "total_tokens": a.input + a.cached + a.output,
                      "prompt_tokens_details": {"cached_tokens": a.cached}},
        }),
    }
}

/// The stream up to and including the text deltas, with a keep-alive comment and (Anthropic)
/// a ping on the way.
fn stream_start(wire: Wire, a: &Answer) -> Vec<String> {
    let mut out = Vec::new();
    match wire {
        Wire::Anthropic => {
            out.push(sse(
                Some("message_start"),
                &json!({"type": "message_start", "message": {"id": "msg_1", "type": "message",
                    "role": "assistant", "model": a.model, "content": [], "stop_reason": null,
                    "usage": {"input_tokens": a.input, "cache_read_input_tokens": a.cached,
                              "cache_creation_input_tokens": a.cache_write, "output_tokens": 1}}}),
            ));
            out.push(sse(
                Some("content_block_start"),
                &json!({"type": "content_block_start", "index": 0,
                        "content_block": {"type": "text", "text": ""}}),
            ));
            out.push(sse(Some("ping"), &json!({"type": "ping"})));
            out.push(": keep-alive\n\n".to_string());
            for p in pieces(&a.text) {
                out.push(sse(
                    Some("content_block_delta"),
                    &json!({"type": "content_block_delta", "index": 0,
                            "delta": {"type": "text_delta", "text": p}}),
                ));
            }
        }
        Wire::Ollama => {
            for p in pieces(&a.text) {
                out.push(format!(
                    "{}\n",
                    json!({"model": a.model, "message": {"role": "assistant", "content": p}, "done": false})
                ));
            }
        }
        _ => {
            out.push(": keep-alive\n\n".to_string());
            out.push(sse(
                None,
                &json!({"id": "c1", "object": "chat.completion.chunk", "model": a.model,
                        "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                     "finish_reason": null}]}),
            ));
            for p in pieces(&a.text) {
                out.push(sse(
                    None,
                    &json!({"id": "c1", "object": "chat.completion.chunk", "model": a.model,
                            "choices": [{"index": 0, "delta": {"content": p}, "finish_reason": null}]}),
                ));
            }
        }
    }
    out
}

fn stream_end(wire: Wire, a: &Answer) -> Vec<String> {
    match wire {
        Wire::Anthropic => vec![
            sse(
                Some("content_block_stop"),
                &json!({"type": "content_block_stop", "index": 0}),
            ),
            sse(
                Some("message_delta"),
                &json!({"type": "message_delta",
                        "delta": {"stop_reason": if a.truncated { "max_tokens" } else { "end_turn" },
                                  "stop_sequence": null},
                        "usage": {"output_tokens": a.output}}),
            ),
            sse(Some("message_stop"), &json!({"type": "message_stop"})),
        ],
        Wire::Ollama => vec![format!(
            "{}\n",
            json!({"model": a.model, "message": {"role": "assistant", "content": ""},
                   "done": true, "done_reason": if a.truncated { "length" } else { "stop" },
                   "prompt_eval_count": a.input, "eval_count": a.output})
        )],
        _ => vec![
            sse(
                None,
                &json!({"id": "c1", "object": "chat.completion.chunk", "model": a.model,
                        "choices": [{"index": 0, "delta": {},
                                     "finish_reason": if a.truncated { "length" } else { "stop" }}]}),
            ),
            sse(
                None,
                &json!({"id": "c1", "object": "chat.completion.chunk", "model": a.model,
                        "choices": [],
                        "usage": {"prompt_tokens": a.input + a.cached, "completion_tokens": a.output,
                                  "total_tokens": a.input + a.cached + a.output,
                                  "prompt_tokens_details": {"cached_tokens": a.cached}}}),
            ),
            "data: [DONE]\n\n".to_string(),
        ],
    }
}
