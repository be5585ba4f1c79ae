//! The model transport against a real HTTP server speaking each provider's wire format:
//! replies streamed and whole, usage normalised, retries and what is never retried, the circuit
//! breaker, budgets, the response cache and its modes, cut-off replies, keys kept out of sight.

use crate::support::model_server;

use std::sync::Arc;
use std::time::Duration;

use codefleet::llm::Provider;
use codefleet::llm::{
    Cache, CacheMode, Client, ClientConfig, Finish, Message, Meter, Price, Prices, Request,
    RetryPolicy, Usage,
};
use codefleet::pipeline::Budget;
use model_server::{ModelServer, Step, Wire};

const OPENAI_KEY: &str = "sk-test-openai-0123456789";
const ANTHROPIC_KEY: &str = "sk-ant-test-9876543210";

const PROVIDERS: [Provider; 3] = [Provider::Openai, Provider::Anthropic, Provider::Ollama];

fn env(name: &str) -> Option<String> {
    match name {
        "OPENAI_API_KEY" => Some(OPENAI_KEY.to_string()),
        "ANTHROPIC_API_KEY" => Some(ANTHROPIC_KEY.to_string()),
        _ => None,
    }
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_retries: 3,
        base_delay: Duration::from_millis(1),
        max_delay: Duration::from_millis(200),
        breaker_threshold: 0,
        breaker_cooldown: Duration::from_secs(600),
    }
}

fn config(provider: Provider, server: &ModelServer, stream: bool) -> ClientConfig {
    let mut c = ClientConfig::new(provider, "test-model");
    c.base_url = Some(server.base_url());
    c.stream = stream;
    c.retry = fast_retries();
    c
}

fn client(provider: Provider, server: &ModelServer, stream: bool) -> Client {
    Client::from_config(config(provider, server, stream), &env).expect("client")
}

fn request(text: &str) -> Request {
    Request {
        model: "test-model".to_string(),
        messages: vec![Message::system("You edit code."), Message::user(text)],
        temperature: Some(0.0),
        max_output_tokens: Some(100),
    }
}

#[test]
fn each_provider_answers_streamed_and_whole_with_usage_normalised() {
    for provider in PROVIDERS {
        for stream in [true, false] {
            let server = ModelServer::start(vec![
                Step::text("hello, world").usage(7, 3, 5).cache_write(2),
            ]);
            let client = client(provider, &server, stream);
            let done = client.complete(&request("say hi")).expect("completion");
            let what = format!("{provider} stream={stream}");
            assert_eq!(done.reply.text, "hello, world", "{what}");
            assert_eq!(done.reply.finish, Finish::Stop, "{what}");
            assert_eq!(done.reply.model, "test-model", "{what}");
            assert!(!done.cached, "{what}");
            assert_eq!(done.retries, 0, "{what}");
            let want = match provider {
                // prompt_tokens 10 includes cached_tokens 3.
                Provider::Openai => Usage {
                    input: 7,
                    cached_input: 3,
                    output: 5,
                },
                // cache writes are billed as input; cache reads are cached input.
                Provider::Anthropic => Usage {
                    input: 9,
                    cached_input: 3,
                    output: 5,
                },
                // prompt_eval_count / eval_count; no prompt cache.
                Provider::Ollama => Usage {
                    input: 7,
                    cached_input: 0,
                    output: 5,
                },
            };
            assert_eq!(done.reply.usage, want, "{what}");
            let totals = client.totals();
            assert_eq!(totals.requests, 1, "{what}");
            assert_eq!(totals.usage, want, "{what}");

            let sent = server.requests();
            assert_eq!(sent.len(), 1, "{what}");
            let r = &sent[0];
            assert_eq!(r.method, "POST");
            assert_eq!(r.stream(), stream, "{what}");
            let (path, wire) = match provider {
                Provider::Openai => ("/v1/chat/completions", Wire::OpenAi),
                Provider::Anthropic => ("/v1/messages", Wire::Anthropic),
                Provider::Ollama => ("/api/chat", Wire::Ollama),
            };
            assert_eq!(r.path, path, "{what}");
            assert_eq!(r.wire(), wire);
            assert_eq!(r.body["model"], "test-model", "{what}");
        }
    }
}

#[test]
fn each_provider_gets_its_key_header_and_system_prompt_where_it_expects_them() {
    for provider in PROVIDERS {
        let server = ModelServer::start(vec![Step::text("ok")]);
        client(provider, &server, false)
            .complete(&request("task"))
            .expect("completion");
        let r = &server.requests()[0];
        match provider {
            Provider::Openai => {
                assert_eq!(
                    r.header("authorization"),
                    Some(format!("Bearer {OPENAI_KEY}").as_str())
                );
                assert_eq!(r.body["messages"][0]["role"], "system");
                assert_eq!(r.body["messages"][0]["content"], "You edit code.");
                assert_eq!(r.body["max_tokens"], 100);
                assert_eq!(r.body["temperature"], 0.0);
            }
            Provider::Anthropic => {
                assert_eq!(r.header("x-api-key"), Some(ANTHROPIC_KEY));
                assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
                assert_eq!(r.header("authorization"), None);
                // Anthropic takes the system prompt at the top level, never as a message.
                assert_eq!(r.body["system"], "You edit code.");
                let messages = r.body["messages"].as_array().expect("messages");
                assert_eq!(messages.len(), 1);
                assert_eq!(messages[0]["role"], "user");
                assert_eq!(r.body["max_tokens"], 100);
            }
            Provider::Ollama => {
                // A local server: no key asked for, none sent.
                assert_eq!(r.header("authorization"), None);
                assert_eq!(r.body["messages"][0]["role"], "system");
                assert_eq!(r.body["options"]["num_predict"], 100);
                assert_eq!(r.body["options"]["temperature"], 0.0);
                assert_eq!(r.body["stream"], false);
            }
        }
    }
}

#[test]
fn streams_skip_keep_alive_comments_and_ping_events() {
    // The server's streams carry `: keep-alive` comments (OpenAI, Anthropic) and an
    // `event: ping` (Anthropic) between the deltas; the text must come through whole.
    for provider in [Provider::Openai, Provider::Anthropic] {
        let server = ModelServer::start(vec![Step::text("abcdefghi")]);
        let done = client(provider, &server, true)
            .complete(&request("x"))
            .expect("completion");
        assert_eq!(done.reply.text, "abcdefghi", "{provider}");
    }
}

#[test]
fn a_server_that_ignores_stream_true_is_read_whole() {
    let openai = r#"{"model":"m","choices":[{"message":{"content":"whole"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1}}"#;
    let anthropic = r#"{"type":"message","model":"m","content":[{"type":"text","text":"whole"}],"stop_reason":"end_turn","usage":{"input_tokens":3,"output_tokens":1}}"#;
    for (provider, body) in [(Provider::Openai, openai), (Provider::Anthropic, anthropic)] {
        let server = ModelServer::start(vec![Step::status(200, body)]);
        let done = client(provider, &server, true)
            .complete(&request("x"))
            .expect("completion");
        assert!(server.requests()[0].stream());
        assert_eq!(done.reply.text, "whole", "{provider}");
        assert_eq!(done.reply.usage.total(), 4);
    }
}

#[test]
fn base_url_works_with_and_without_v1() {
    for provider in PROVIDERS {
        for suffix in ["", "/", "/v1", "/v1/"] {
            let server = ModelServer::start(vec![Step::text("ok")]);
            let mut c = config(provider, &server, false);
            c.base_url = Some(format!("{}{suffix}", server.base_url()));
            let client = Client::from_config(c, &env).expect("client");
            assert_eq!(client.base_url(), server.base_url());
            client.complete(&request("x")).expect("completion");
            let want = match provider {
                Provider::Openai => "/v1/chat/completions",
                Provider::Anthropic => "/v1/messages",
                Provider::Ollama => "/api/chat",
            };
            assert_eq!(server.requests()[0].path, want, "{provider} {suffix:?}");
        }
    }
}

#[test]
fn the_base_url_comes_from_the_providers_variable() {
    let server = ModelServer::start(vec![Step::text("a"), Step::text("b"), Step::text("c")]);
    let url = format!("{}/v1", server.base_url());
    for (provider, var) in [
        (Provider::Openai, "OPENAI_BASE_URL"),
        (Provider::Openai, "OPENAI_API_BASE"),
        (Provider::Anthropic, "ANTHROPIC_BASE_URL"),
    ] {
        let mut c = ClientConfig::new(provider, "test-model");
        c.stream = false;
        let lookup = |k: &str| if k == var { Some(url.clone()) } else { env(k) };
        let client = Client::from_config(c, &lookup).expect("client");
        assert_eq!(client.base_url(), server.base_url(), "{var}");
        client.complete(&request(var)).expect("completion");
    }
    assert_eq!(server.request_count(), 3);

    let ollama = ModelServer::start(vec![Step::text("o")]);
    let host = ollama.base_url().trim_start_matches("http://").to_string();
    let mut c = ClientConfig::new(Provider::Ollama, "llama3");
    c.stream = false;
    let lookup = |k: &str| (k == "OLLAMA_HOST").then(|| host.clone());
    let client = Client::from_config(c, &lookup).expect("client");
    client.complete(&request("o")).expect("completion");
    assert_eq!(ollama.request_count(), 1);
}

#[test]
fn a_missing_key_names_the_variable_but_local_servers_need_none() {
    let nothing = |_: &str| None;
    let e = Client::from_config(ClientConfig::new(Provider::Openai, "gpt-4o"), &nothing)
        .err()
        .expect("no key is an error");
    assert_eq!(e.code, "E400");
    assert!(e.message.contains("`OPENAI_API_KEY`"), "{}", e.message);
    let e = Client::from_config(ClientConfig::new(Provider::Anthropic, "claude"), &nothing)
        .err()
        .expect("no key is an error");
    assert!(e.message.contains("`ANTHROPIC_API_KEY`"), "{}", e.message);
    let mut named = ClientConfig::new(Provider::Openai, "gpt-4o");
    named.api_key_env = Some("TEAM_KEY".into());
    let e = Client::from_config(named, &nothing).err().expect("error");
    assert!(e.message.contains("`TEAM_KEY`"), "{}", e.message);

    // An OpenAI-compatible server on this machine needs no key, and is sent none.
    let server = ModelServer::start(vec![Step::text("local")]);
    let mut local = config(Provider::Openai, &server, false);
    local.base_url = Some(format!("{}/v1", server.base_url()));
    let client = Client::from_config(local, &nothing).expect("local needs no key");
    assert_eq!(
        client.complete(&request("x")).expect("reply").reply.text,
        "local"
    );
    assert_eq!(server.requests()[0].header("authorization"), None);

    // A named variable is used for the key.
    let server = ModelServer::start(vec![Step::text("ok")]);
    let mut c = config(Provider::Openai, &server, false);
    c.api_key_env = Some("TEAM_KEY".into());
    let team = |k: &str| (k == "TEAM_KEY").then(|| "team-secret".to_string());
    Client::from_config(c, &team)
        .expect("client")
        .complete(&request("x"))
        .expect("reply");
    assert_eq!(
        server.requests()[0].header("authorization"),
        Some("Bearer team-secret")
    );
}

#[test]
fn transient_failures_are_retried_until_an_answer_comes() {
    let faults: Vec<(&str, Step)> = vec![
        (
            "429 with retry-after-ms",
            Step::status(
                429,
                r#"{"error":{"message":"slow down","type":"rate_limit_error"}}"#,
            )
            .header("retry-after-ms", "5"),
        ),
        (
            "529 overloaded",
            Step::status(
                529,
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            ),
        ),
        ("500", Step::status(500, "Internal Server Error")),
        ("503", Step::status(503, "")),
        ("dropped connection", Step::Drop),
        ("dropped mid-reply", Step::DropMidStream("partial".into())),
    ];
    for provider in PROVIDERS {
        for stream in [true, false] {
            for (name, fault) in &faults {
                let server =
                    ModelServer::start(vec![fault.clone(), fault.clone(), Step::text("done")]);
                let client = client(provider, &server, stream);
                let what = format!("{provider} stream={stream} {name}");
                let done = client
                    .complete(&request("x"))
                    .unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(done.reply.text, "done", "{what}");
                // A cut-off partial reply never leaks into the answer.
                assert_eq!(done.retries, 2, "{what}");
                assert_eq!(server.request_count(), 3, "{what}");
                let totals = client.totals();
                assert_eq!((totals.requests, totals.retries), (3, 2), "{what}");
            }
        }
    }
}

#[test]
fn retry_after_is_honoured() {
    // The backoff itself is 1 ms; only the provider's retry-after-ms explains a longer wait.
    let server = ModelServer::start(vec![
        Step::status(429, "{}").header("retry-after-ms", "80"),
        Step::text("ok"),
    ]);
    let done = client(Provider::Openai, &server, false)
        .complete(&request("x"))
        .expect("completion");
    assert_eq!(done.retries, 1);
    assert!(
        done.elapsed >= Duration::from_millis(80),
        "{:?}",
        done.elapsed
    );

    // A long retry-after is capped by the policy's max_delay (200 ms here), so this ends.
    let server = ModelServer::start(vec![
        Step::status(503, "{}").header("retry-after", "3600"),
        Step::text("ok"),
    ]);
    let done = client(Provider::Anthropic, &server, false)
        .complete(&request("x"))
        .expect("completion");
    assert_eq!(done.reply.text, "ok");
}

#[test]
fn retry_after_in_seconds_and_openais_reset_headers_are_honoured() {
    let server = ModelServer::start(vec![
        Step::status(429, "{}").header("retry-after", "1"),
        Step::status(429, "{}")
            .header("x-ratelimit-reset-requests", "120ms")
            .header("x-ratelimit-reset-tokens", "50ms"),
        Step::text("ok"),
    ]);
    let mut c = config(Provider::Openai, &server, true);
    c.retry.max_delay = Duration::from_secs(5);
    let done = Client::from_config(c, &env)
        .expect("client")
        .complete(&request("x"))
        .expect("completion");
    assert_eq!(done.retries, 2);
    // 1 s asked, then the longer of the two resets.
    assert!(
        done.elapsed >= Duration::from_millis(1120),
        "{:?}",
        done.elapsed
    );
}

#[test]
fn an_interrupt_ends_the_wait_for_a_retry() {
    use std::sync::atomic::{AtomicBool, Ordering};
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&interrupt);
    // The server answers "come back in an hour", and Ctrl-C arrives meanwhile.
    let server = ModelServer::with_handler(move |_| {
        flag.store(true, Ordering::SeqCst);
        Step::status(503, "{}").header("retry-after", "3600")
    });
    let mut c = config(Provider::Anthropic, &server, false);
    c.retry.max_delay = Duration::from_secs(3600);
    let e = Client::from_config(c, &env)
        .expect("client")
        .complete_interruptible(&request("x"), &interrupt)
        .expect_err("interrupted");
    assert_eq!(e.code, "E413");
    assert_eq!(e.exit, codefleet::error::Exit::Interrupted);
    assert_eq!(server.request_count(), 1);
}

#[test]
fn an_interrupt_abandons_a_request_in_flight_over_every_wire() {
    use std::sync::atomic::{AtomicBool, Ordering};
    for provider in PROVIDERS {
        for stream in [false, true] {
            let interrupt = Arc::new(AtomicBool::new(false));
            let flag = Arc::clone(&interrupt);
            // The request arrives, Ctrl-C follows, and the answer would take an hour; the
            // client's own timeout is an hour too, so only the interrupt can end the wait.
            let server = ModelServer::with_handler(move |_| {
                flag.store(true, Ordering::SeqCst);
                Step::text("late").slow(Duration::from_secs(3600))
            });
            let mut c = config(provider, &server, stream);
            c.timeout = Duration::from_secs(3600);
            let e = Client::from_config(c, &env)
                .expect("client")
                .complete_interruptible(&request("x"), &interrupt)
                .expect_err("interrupted");
            assert_eq!(e.code, "E413", "{provider:?} stream {stream}: {e:?}");
            assert_eq!(e.exit, codefleet::error::Exit::Interrupted);
            assert!(e.message.contains("abandoned"), "{}", e.message);
            assert_eq!(server.request_count(), 1, "sent once, never retried");
        }
    }
}

#[test]
fn auth_and_validation_errors_are_not_retried_and_name_the_providers_error() {
    let cases = [
        (
            Provider::Openai,
            Step::status(
                401,
                &format!(
                    r#"{{"error":{{"message":"Incorrect API key provided: {OPENAI_KEY}","type":"invalid_request_error","code":"invalid_api_key"}}}}"#
                ),
            ),
            "E401",
            "invalid_api_key",
        ),
        (
            Provider::Anthropic,
            Step::status(
                400,
                r#"{"type":"error","error":{"type":"invalid_request_error","message":"max_tokens: must be positive"}}"#,
            ),
            "E402",
            "max_tokens: must be positive (invalid_request_error)",
        ),
        (
            Provider::Ollama,
            Step::status(404, r#"{"error":"model 'nope' not found"}"#),
            "E402",
            "model 'nope' not found",
        ),
        (
            Provider::Openai,
            Step::status(
                429,
                r#"{"error":{"message":"You exceeded your current quota","type":"insufficient_quota","code":"insufficient_quota"}}"#,
            ),
            "E403",
            "You exceeded your current quota",
        ),
    ];
    for (provider, step, code, said) in cases {
        let server = ModelServer::start(vec![step, Step::text("never")]);
        let e = client(provider, &server, true)
            .complete(&request("x"))
            .expect_err("must fail");
        assert_eq!(e.code, code, "{provider}: {e}");
        assert!(e.message.contains(said), "{provider}: {}", e.message);
        assert!(e.message.contains(&provider.to_string()), "{}", e.message);
        assert!(
            !e.message.contains(OPENAI_KEY),
            "the key leaked: {}",
            e.message
        );
        assert!(e.hint.is_some());
        assert_eq!(
            server.request_count(),
            1,
            "{provider} must not retry {code}"
        );
    }
}

#[test]
fn retries_give_up_with_the_last_error() {
    let server =
        ModelServer::with_handler(|_| Step::status(500, r#"{"error":{"message":"boom"}}"#));
    let e = client(Provider::Openai, &server, false)
        .complete(&request("x"))
        .expect_err("must fail");
    assert_eq!(e.code, "E405");
    assert!(e.message.contains("boom"), "{}", e.message);
    assert!(
        e.message.contains("gave up after 4 attempts"),
        "{}",
        e.message
    );
    assert_eq!(server.request_count(), 4);
}

#[test]
fn the_circuit_opens_after_repeated_failures_and_then_fails_fast() {
    let server = ModelServer::with_handler(|_| Step::status(503, "unavailable"));
    let mut c = config(Provider::Openai, &server, false);
    c.retry.max_retries = 1;
    c.retry.breaker_threshold = 3;
    let client = Client::from_config(c, &env).expect("client");
    // 2 attempts, then 1 more opens the circuit (3 in a row).
    assert_eq!(
        client.complete(&request("a")).expect_err("fails").code,
        "E405"
    );
    assert_eq!(
        client.complete(&request("b")).expect_err("fails").code,
        "E405"
    );
    assert_eq!(server.request_count(), 3);
    let e = client.complete(&request("c")).expect_err("fails fast");
    assert_eq!(e.code, "E410");
    assert!(
        e.message.contains("3 requests failed in a row"),
        "{}",
        e.message
    );
    assert!(e.message.contains("unavailable"), "{}", e.message);
    assert_eq!(server.request_count(), 3, "an open circuit sends nothing");
}

#[test]
fn a_success_resets_the_breaker_count() {
    let server = ModelServer::start(vec![
        Step::status(500, ""),
        Step::text("one"),
        Step::status(500, ""),
        Step::text("two"),
    ]);
    let mut c = config(Provider::Openai, &server, false);
    c.retry.breaker_threshold = 2;
    let client = Client::from_config(c, &env).expect("client");
    assert_eq!(
        client.complete(&request("a")).expect("ok").reply.text,
        "one"
    );
    assert_eq!(
        client.complete(&request("b")).expect("ok").reply.text,
        "two"
    );
}

#[test]
fn the_request_budget_is_shared_by_clients_and_fails_closed() {
    let server = ModelServer::with_handler(|_| Step::text("ok"));
    let meter = Arc::new(Meter::new(
        Budget {
            max_requests: Some(2),
            ..Budget::default()
        },
        4,
    ));
    let mut a = config(Provider::Openai, &server, false);
    a.meter = Arc::clone(&meter);
    let mut b = config(Provider::Anthropic, &server, true);
    b.meter = Arc::clone(&meter);
    let a = Client::from_config(a, &env).expect("client");
    let b = Client::from_config(b, &env).expect("client");
    a.complete(&request("1")).expect("first");
    b.complete(&request("2")).expect("second");
    let e = a.complete(&request("3")).expect_err("over budget");
    assert_eq!(e.code, "E441");
    assert!(e.message.contains("2 model requests"), "{}", e.message);
    assert_eq!(
        b.complete(&request("4")).expect_err("over budget").code,
        "E441"
    );
    assert_eq!(server.request_count(), 2, "no request past the budget");
    assert_eq!(meter.totals().requests, 2);
    assert_eq!(meter.totals().usage.total(), 30);
}

#[test]
fn the_token_budget_stops_the_next_request() {
    let server = ModelServer::with_handler(|_| Step::text("ok").usage(100, 0, 60));
    let mut c = config(Provider::Ollama, &server, true);
    c.meter = Arc::new(Meter::new(
        Budget {
            max_tokens: Some(150),
            ..Budget::default()
        },
        0,
    ));
    let client = Client::from_config(c, &env).expect("client");
    client.complete(&request("1")).expect("first fits");
    let e = client.complete(&request("2")).expect_err("budget spent");
    assert_eq!(e.code, "E440");
    assert!(
        e.message.contains("160 tokens used of 150"),
        "{}",
        e.message
    );
    assert_eq!(server.request_count(), 1);
}

#[test]
fn the_wall_time_budget_fails_closed() {
    let server = ModelServer::start(vec![Step::text("never")]);
    let mut c = config(Provider::Openai, &server, false);
    c.meter = Arc::new(Meter::new(
        Budget {
            max_wall_time: Some(Duration::ZERO),
            ..Budget::default()
        },
        0,
    ));
    let e = Client::from_config(c, &env)
        .expect("client")
        .complete(&request("x"))
        .expect_err("no time");
    assert_eq!(e.code, "E442");
    assert_eq!(server.request_count(), 0);
}

#[test]
fn a_cut_off_reply_is_reported_as_length_and_not_cached() {
    for provider in PROVIDERS {
        for stream in [true, false] {
            let dir = tempfile::tempdir().expect("temp dir");
            let server = ModelServer::start(vec![
                Step::truncated("half an ans"),
                Step::truncated("half"),
            ]);
            let mut c = config(provider, &server, stream);
            c.cache = Some(Cache::new(dir.path(), CacheMode::ReadWrite));
            let client = Client::from_config(c, &env).expect("client");
            let done = client.complete(&request("x")).expect("completion");
            assert_eq!(done.reply.finish, Finish::Length, "{provider} {stream}");
            assert_eq!(done.reply.text, "half an ans");
            client.complete(&request("x")).expect("asked again");
            assert_eq!(server.request_count(), 2, "a cut-off reply is not cached");
        }
    }
}

fn cache_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for shard in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        for f in std::fs::read_dir(shard.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            out.push(f.path());
        }
    }
    out
}

#[test]
fn read_write_cache_answers_a_repeated_request_without_http() {
    for provider in PROVIDERS {
        let dir = tempfile::tempdir().expect("temp dir");
        let server = ModelServer::with_handler(|_| Step::text("cached answer"));
        let mut c = config(provider, &server, true);
        c.cache = Some(Cache::new(dir.path(), CacheMode::ReadWrite));
        let client = Client::from_config(c, &env).expect("client");
        let first = client.complete(&request("same")).expect("first");
        assert!(!first.cached);
        let second = client.complete(&request("same")).expect("second");
        assert!(second.cached);
        assert_eq!(second.reply, first.reply);
        assert_eq!(
            server.request_count(),
            1,
            "{provider}: the repeat made no request"
        );
        assert_eq!(client.totals().cache_hits, 1);
        assert_eq!(client.totals().requests, 1);

        // Anything that changes the request misses.
        let mut warmer = request("same");
        warmer.temperature = Some(0.7);
        assert!(!client.complete(&warmer).expect("third").cached);
        assert_eq!(server.request_count(), 2);

        let files = cache_files(dir.path());
        assert_eq!(files.len(), 2);
        for f in files {
            let text = std::fs::read_to_string(&f).expect("cache file");
            assert!(text.contains("cached answer"));
            assert!(
                !text.contains(OPENAI_KEY) && !text.contains(ANTHROPIC_KEY),
                "key in {f:?}"
            );
        }
    }
}

#[test]
fn a_fresh_client_reads_what_an_earlier_one_cached() {
    let dir = tempfile::tempdir().expect("temp dir");
    let server = ModelServer::with_handler(|_| Step::text("from disk"));
    let make = |mode| {
        let mut c = config(Provider::Anthropic, &server, false);
        c.cache = Some(Cache::new(dir.path(), mode));
        Client::from_config(c, &env).expect("client")
    };
    make(CacheMode::ReadWrite)
        .complete(&request("q"))
        .expect("record");
    assert_eq!(server.request_count(), 1);

    // read-only: hits are served, misses go out but are not stored.
    let ro = make(CacheMode::ReadOnly);
    assert!(ro.complete(&request("q")).expect("hit").cached);
    assert!(!ro.complete(&request("other")).expect("miss").cached);
    assert_eq!(server.request_count(), 2);
    assert_eq!(cache_files(dir.path()).len(), 1, "read-only stores nothing");

    // replay: hits are served, a miss is an error and makes no request.
    let replay = make(CacheMode::Replay);
    assert_eq!(
        replay.complete(&request("q")).expect("hit").reply.text,
        "from disk"
    );
    let e = replay
        .complete(&request("unseen"))
        .expect_err("replay miss");
    assert_eq!(e.code, "E411");
    assert!(e.message.contains("replay"), "{}", e.message);
    assert_eq!(server.request_count(), 2);

    // refresh: always asks, and stores.
    let refresh = make(CacheMode::Refresh);
    assert!(!refresh.complete(&request("q")).expect("asks").cached);
    assert!(!refresh.complete(&request("new")).expect("asks").cached);
    assert_eq!(server.request_count(), 4);
    assert_eq!(cache_files(dir.path()).len(), 2);

    // off: never reads.
    let off = make(CacheMode::Off);
    assert!(!off.complete(&request("q")).expect("asks").cached);
    assert_eq!(server.request_count(), 5);
}

#[test]
fn a_mid_stream_error_is_reported_or_retried_as_the_provider_says() {
    // A final error (invalid request) names the provider's message and is not retried.
    for provider in PROVIDERS {
        let server = ModelServer::start(vec![
            Step::StreamError {
                text: "par".into(),
                kind: "invalid_request_error".into(),
                message: "context too long".into(),
            },
            Step::text("never"),
        ]);
        let e = client(provider, &server, true)
            .complete(&request("x"))
            .expect_err("must fail");
        assert_eq!(e.code, "E409", "{provider}: {e}");
        assert!(e.message.contains("context too long"), "{}", e.message);
        assert_eq!(server.request_count(), 1, "{provider}");
    }
    // Anthropic's overloaded_error mid-stream is transient.
    let server = ModelServer::start(vec![
        Step::StreamError {
            text: "par".into(),
            kind: "overloaded_error".into(),
            message: "Overloaded".into(),
        },
        Step::text("whole answer"),
    ]);
    let done = client(Provider::Anthropic, &server, true)
        .complete(&request("x"))
        .expect("retried");
    assert_eq!(done.reply.text, "whole answer");
    assert_eq!(done.retries, 1);
}

#[test]
fn a_slow_server_times_out_as_a_transient_failure() {
    let server = ModelServer::start(vec![
        Step::text("late").slow(Duration::from_secs(3)),
        Step::text("on time"),
    ]);
    let mut c = config(Provider::Openai, &server, true);
    c.timeout = Duration::from_millis(300);
    let done = Client::from_config(c, &env)
        .expect("client")
        .complete(&request("x"))
        .expect("the retry answers");
    assert_eq!(done.reply.text, "on time");
    assert_eq!(done.retries, 1);

    let server = ModelServer::with_handler(|_| Step::text("late").slow(Duration::from_secs(3)));
    let mut c = config(Provider::Ollama, &server, false);
    c.timeout = Duration::from_millis(300);
    c.retry.max_retries = 0;
    let e = Client::from_config(c, &env)
        .expect("client")
        .complete(&request("x"))
        .expect_err("times out");
    assert_eq!(e.code, "E407");
}

#[test]
fn costs_come_from_the_price_table_and_unknown_stays_unknown() {
    let server =
        ModelServer::with_handler(|_| Step::text("ok").usage(1_000_000, 2_000_000, 500_000));
    let unpriced = client(Provider::Openai, &server, false);
    let done = unpriced.complete(&request("x")).expect("reply");
    assert_eq!(done.cost_usd, None, "test-model has no price");
    assert_eq!(unpriced.totals().unpriced_requests, 1);
    assert_eq!(unpriced.totals().cost_usd, 0.0);

    let mut prices = Prices::empty();
    prices.set(
        "test-*",
        Price {
            input: 1.0,
            cached_input: 0.5,
            output: 2.0,
        },
    );
    let mut c = config(Provider::Openai, &server, false);
    c.prices = Arc::new(prices);
    let priced = Client::from_config(c, &env).expect("client");
    let done = priced.complete(&request("x")).expect("reply");
    assert_eq!(done.cost_usd, Some(3.0));
    assert_eq!(priced.totals().cost_usd, 3.0);
    assert_eq!(priced.totals().unpriced_requests, 0);
}

#[test]
fn prices_can_be_overridden_from_the_environment() {
    let server = ModelServer::with_handler(|_| Step::text("ok").usage(1_000_000, 0, 1_000_000));
    let lookup = |k: &str| match k {
        "CODEFLEET_MODEL_PRICES" => Some("test-model=1/0.5/2".to_string()),
        _ => env(k),
    };
    let client =
        Client::from_config(config(Provider::Openai, &server, true), &lookup).expect("client");
    assert_eq!(
        client.complete(&request("x")).expect("reply").cost_usd,
        Some(3.0)
    );

    let bad = |k: &str| match k {
        "CODEFLEET_MODEL_PRICES" => Some("test-model=cheap".to_string()),
        _ => env(k),
    };
    let e = Client::from_config(config(Provider::Openai, &server, true), &bad)
        .err()
        .expect("bad prices");
    assert_eq!(e.code, "E414");
    assert!(
        e.message.contains("CODEFLEET_MODEL_PRICES"),
        "{}",
        e.message
    );
}

#[test]
fn concurrency_is_bounded_across_threads_sharing_one_client() {
    let server = ModelServer::with_handler(|r| {
        let text = r.body["messages"][1]["content"]
            .as_str()
            .unwrap_or("")
            .to_string();
        Step::text(&text).slow(Duration::from_millis(20))
    });
    let mut c = config(Provider::Openai, &server, true);
    c.meter = Arc::new(Meter::new(Budget::default(), 2));
    let client = Client::from_config(c, &env).expect("client");
    std::thread::scope(|s| {
        for i in 0..8 {
            let client = &client;
            s.spawn(move || {
                let done = client.complete(&request(&format!("n{i}"))).expect("reply");
                assert_eq!(done.reply.text, format!("n{i}"));
            });
        }
    });
    assert_eq!(server.request_count(), 8);
    assert!(server.max_in_flight() <= 2, "{}", server.max_in_flight());
    assert_eq!(client.totals().requests, 8);
}

#[test]
fn settings_and_the_pipelines_model_section_resolve_to_a_working_client() {
    use codefleet::cli::models::ModelDefaults;
    use codefleet::pipeline::Model;
    use codefleet::settings::{Flags, Inputs, Settings};

    let server = ModelServer::with_handler(|_| Step::text("resolved"));
    let home = tempfile::tempdir().expect("temp dir");
    let cache_home = home.path().join("cache");
    let url = format!("{}/v1", server.base_url());
    let vars = |k: &str| -> Option<String> {
        match k {
            "HOME" => Some(home.path().display().to_string()),
            "XDG_CACHE_HOME" => Some(cache_home.display().to_string()),
            "CODEFLEET_MODEL_PROVIDER" => Some("openai".into()),
            "CODEFLEET_MODEL" => Some("test-model".into()),
            "CODEFLEET_MODEL_BASE_URL" => Some(url.clone()),
            _ => env(k),
        }
    };
    let settings = Settings::resolve(&Inputs {
        cwd: home.path().to_path_buf(),
        env: &vars,
        flags: Flags::default(),
    })
    .expect("settings");
    let defaults = ModelDefaults::from_settings(&settings);
    let mut model = Model {
        temperature: Some(0.25),
        timeout: Some(Duration::from_secs(5)),
        ..Model::default()
    };
    defaults.merge(&mut model);
    let meter = Arc::new(Meter::new(
        Budget::default(),
        settings.model_concurrency.value,
    ));
    let mut config = defaults.client_config(&model).expect("config");
    config.meter = Arc::clone(&meter);
    assert_eq!(config.model, "test-model");
    assert_eq!(config.timeout, Duration::from_secs(5));
    let mut open = request("x");
    open.temperature = None;
    let first = Client::from_config(config.clone(), &vars).expect("client");
    assert_eq!(first.complete(&open).expect("reply").reply.text, "resolved");
    assert_eq!(server.requests()[0].body["temperature"], 0.25);
    // The default cache lives in $XDG_CACHE_HOME/codefleet/llm; a new client reads it.
    assert_eq!(
        cache_files(&cache_home.join("codefleet").join("llm")).len(),
        1
    );
    let second = Client::from_config(config, &vars).expect("client");
    assert!(second.complete(&open).expect("reply").cached);
    assert_eq!(server.request_count(), 1);
    assert_eq!(meter.totals().cache_hits, 1);

    // A task that switches provider does not inherit the other provider's model name.
    let mut other = Model {
        provider: Some(codefleet::pipeline::Provider::Anthropic),
        ..Model::default()
    };
    defaults.merge(&mut other);
    let e = defaults.client_config(&other).expect_err("no name");
    assert_eq!(e.code, "E412");
    assert!(e.message.contains("anthropic"), "{}", e.message);
}

#[test]
fn a_client_is_shared_across_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Client>();
    shared::<Meter>();
}

/// The transport's own overhead: 200 requests against a server answering each after 200 ms,
/// `LLM_BENCH_CONCURRENCY` (default 8) at a time, streamed; then the same requests again from
/// the cache. Not part of the suite: `bench/llm-overhead.sh` runs it in release mode.
#[test]
#[ignore = "benchmark; run by bench/llm-overhead.sh"]
fn overhead_benchmark() {
    let n: usize = std::env::var("LLM_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let total = 200;
    let latency = Duration::from_millis(200);
    let server =
        ModelServer::with_handler(move |_| Step::text("a reply of a few words").slow(latency));
    let dir = tempfile::tempdir().expect("temp dir");
    let mut c = config(Provider::Openai, &server, true);
    c.meter = Arc::new(Meter::new(Budget::default(), n));
    c.cache = Some(Cache::new(dir.path(), CacheMode::ReadWrite));
    let client = Client::from_config(c, &env).expect("client");
    let next = std::sync::atomic::AtomicUsize::new(0);
    let pass = || {
        let started = std::time::Instant::now();
        std::thread::scope(|s| {
            for _ in 0..n {
                s.spawn(|| {
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        if i >= total {
                            break;
                        }
                        client
                            .complete(&request(&format!("request {i}")))
                            .expect("reply");
                    }
                });
            }
        });
        next.store(0, std::sync::atomic::Ordering::SeqCst);
        started.elapsed()
    };
    let cold = pass();
    let warm = pass();
    let ideal = latency * total.div_ceil(n) as u32;
    let overhead = cold.saturating_sub(ideal) / total as u32;
    println!(
        "concurrency {n}: {total} requests at {} ms: {:.2} s (ideal {:.2} s, overhead {:.2} ms/request, max in flight {}); cached pass {:.1} ms ({:.0} µs/request)",
        latency.as_millis(),
        cold.as_secs_f64(),
        ideal.as_secs_f64(),
        overhead.as_secs_f64() * 1000.0,
        server.max_in_flight(),
        warm.as_secs_f64() * 1000.0,
        warm.as_secs_f64() * 1e6 / total as f64,
    );
    assert_eq!(server.request_count(), total);
    assert_eq!(client.totals().cache_hits, total as u64);
}
