//! `prompt` and `ask` tasks end to end: real git repositories in temp dirs, the real binary
//! talking to a real HTTP model server on 127.0.0.1 (OpenAI wire format, every request
//! recorded), and the results checked with the `git` CLI. Two properties that need control
//! over timing or the interrupt flag (the exact concurrency bound, Ctrl-C) run in process
//! through `codefleet::exec::run` with a real `Client` over a scripted backend.

use crate::support::fixture;

fixture::topic_fixture!();

use crate::support::model_server;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};

use codefleet::coders::{self, ApplyOptions, Fence, Format, MemFiles, UdiffInput};
use codefleet::error::Error;
use codefleet::exec::{Models, Observer, RunOptions, Silent};
use codefleet::llm::{Backend, Client, Finish, Reply, Request, Usage};
use codefleet::plan::Target;
use codefleet::report::{RunReport, TaskStatus};
use model_server::{ModelServer, Recorded, Step};

impl Fixture {
    fn pipeline_file(&self, yaml: &str) -> PathBuf {
        let path = self.dir.path().join("p.yml");
        std::fs::write(&path, yaml).expect("write pipeline");
        path
    }

    fn pipeline(&self, yaml: &str) -> codefleet::pipeline::Pipeline {
        let path = self.pipeline_file(yaml);
        match codefleet::pipeline::load(&path, &[]) {
            Ok(p) => p,
            Err(e) => panic!("pipeline: {e:?}"),
        }
    }

    /// The file at the tip of `branch`, or `None` when absent.
    fn at(&self, repo: &Path, branch: &str, path: &str) -> Option<String> {
        let out = Command::new("git")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args(["show", &format!("{branch}:{path}")])
            .current_dir(repo)
            .output()
            .expect("git show");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

type Answerer = dyn Fn(&Request, usize) -> Result<Reply, Error> + Send + Sync;

/// A backend that answers from a script and records every request. `gate`: each request waits
/// until that many are in flight (or every remaining one is), to show the run's bound holds.
struct Script {
    answer: Box<Answerer>,
    requests: Mutex<Vec<Request>>,
    in_flight: Mutex<usize>,
    changed: Condvar,
    max_in_flight: AtomicUsize,
    gate: Option<(usize, usize)>,
    done: AtomicUsize,
}

struct Wire(Arc<Script>);

impl Backend for Wire {
    fn provider(&self) -> &str {
        "script"
    }

    fn send(&self, request: &Request) -> Result<Reply, Error> {
        let s = &self.0;
        let n = {
            let mut r = s.requests.lock().unwrap();
            r.push(request.clone());
            r.len()
        };
        {
            let mut in_flight = s.in_flight.lock().unwrap();
            *in_flight += 1;
            s.max_in_flight.fetch_max(*in_flight, Ordering::SeqCst);
            s.changed.notify_all();
            if let Some((want, total)) = s.gate {
                while *in_flight < want && s.done.load(Ordering::SeqCst) + *in_flight < total {
                    // The timeout only guards against a hang if the run sent fewer requests.
                    let (guard, _) = s
                        .changed
                        .wait_timeout(in_flight, std::time::Duration::from_secs(20))
                        .unwrap();
                    in_flight = guard;
                }
            }
        }
        let result = (s.answer)(request, n);
        let mut in_flight = s.in_flight.lock().unwrap();
        *in_flight -= 1;
        s.done.fetch_add(1, Ordering::SeqCst);
        s.changed.notify_all();
        result
    }
}

impl Script {
    fn new(
        answer: impl Fn(&Request, usize) -> Result<Reply, Error> + Send + Sync + 'static,
    ) -> Arc<Script> {
        Script::gated(None, answer)
    }

    fn gated(
        gate: Option<(usize, usize)>,
        answer: impl Fn(&Request, usize) -> Result<Reply, Error> + Send + Sync + 'static,
    ) -> Arc<Script> {
        Arc::new(Script {
            answer: Box::new(answer),
            requests: Mutex::new(Vec::new()),
            in_flight: Mutex::new(0),
            changed: Condvar::new(),
            max_in_flight: AtomicUsize::new(0),
            gate,
            done: AtomicUsize::new(0),
        })
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }
}

fn scripted(text: &str) -> Result<Reply, Error> {
    Ok(Reply {
        text: text.to_string(),
        finish: Finish::Stop,
        usage: Usage {
            input: 100,
            cached_input: 10,
            output: 20,
        },
        model: "test-model".into(),
    })
}

/// Runs `yaml` in process over `repos`, the model client answering from `script`.
fn run_in(
    f: &Fixture,
    yaml: &str,
    repos: &[&Path],
    script: &Arc<Script>,
    jobs: usize,
    interrupt: &AtomicBool,
    observer: &dyn Observer,
) -> RunReport {
    let pipeline = f.pipeline(yaml);
    let client = Arc::new(Client::new(Box::new(Wire(script.clone()))));
    let options = RunOptions {
        jobs,
        models: Models::new(move |_| Ok(client.clone())),
        ..RunOptions::default()
    };
    let targets: Vec<Target> = repos
        .iter()
        .map(|r| Target::Local(r.to_path_buf()))
        .collect();
    let plan = codefleet::plan::build(
        &pipeline,
        &targets,
        &codefleet::plan::PlanOptions::default(),
    );
    codefleet::exec::run(&plan, &options, observer, interrupt).expect("run starts")
}

/// The report as `--json` prints it, checked against the report's JSON Schema.
fn json(report: &RunReport) -> serde_json::Value {
    let value = serde_json::to_value(report).unwrap();
    let schema = jsonschema::validator_for(&codefleet::report::schema()).unwrap();
    let problems: Vec<String> = schema.iter_errors(&value).map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "the report does not match its schema: {problems:?}"
    );
    value
}

const PY_A: &str = "def add(a, b):\n    return a + b\n";
const PY_B: &str = "def sub(a, b):\n    return a - b\n";

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

/// The messages of a recorded OpenAI request, as (role, content).
fn messages(r: &Recorded) -> Vec<(String, String)> {
    r.body["messages"]
        .as_array()
        .map(|m| {
            m.iter()
                .map(|m| {
                    (
                        m["role"].as_str().unwrap_or("").to_string(),
                        m["content"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first user message: the files and the instruction.
fn asked(r: &Recorded) -> String {
    messages(r).get(1).map(|m| m.1.clone()).unwrap_or_default()
}

/// Whether the request shows `path` (its path line above a fence).
fn shows(r: &Recorded, path: &str) -> bool {
    asked(r).contains(&format!("\n{path}\n```"))
}

/// The reply round a request is for: 1 for the first, 2 after one feedback…
fn round(r: &Recorded) -> usize {
    (messages(r).len() - 2) / 2 + 1
}

/// A pipeline whose `model:` points at `server`: `{url}` in `yaml` is its base URL.
fn with_server(yaml: &str, server: &ModelServer) -> String {
    yaml.replace("{url}", &server.base_url())
}

/// `model:` for the test server, with `extra` settings.
fn model_line(extra: &str) -> String {
    format!(
        "model: {{ provider: openai, name: test-model, base_url: \"{{url}}\", edit_format: diff{extra} }}\n"
    )
}

fn prompt_yaml(extra: &str) -> String {
    format!(
        "version: 1\nname: docs\n{}tasks:\n  - name: add docstrings\n    files: [\"src/**/*.py\"]\n    prompt: Add a docstring to every function.\n",
        model_line(extra)
    )
}

/// Runs `codefleet --json run` of `yaml` (against `server`) in `repo`: the exit code, the
/// report, and stderr.
fn run_json(
    f: &Fixture,
    repo: &Path,
    yaml: &str,
    server: &ModelServer,
) -> (i32, serde_json::Value) {
    run_json_env(f, repo, yaml, server, &[])
}

fn run_json_env(
    f: &Fixture,
    repo: &Path,
    yaml: &str,
    server: &ModelServer,
    env: &[(&str, &str)],
) -> (i32, serde_json::Value) {
    f.pipeline_file(&with_server(yaml, server));
    let p = f.dir.path().join("p.yml");
    let out = f.cli(repo, &["--json", "run", p.to_str().unwrap()], env);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    checked(&report);
    (out.status.code().unwrap_or(-1), report)
}

/// Checks a report against the report's JSON Schema.
fn checked(report: &serde_json::Value) {
    let schema = jsonschema::validator_for(&codefleet::report::schema()).unwrap();
    let problems: Vec<String> = schema.iter_errors(report).map(|e| e.to_string()).collect();
    assert!(
        problems.is_empty(),
        "the report does not match its schema: {problems:?}"
    );
}

fn text_reply(text: &str) -> Step {
    Step::text(text).usage(100, 10, 20)
}

/// A prompt pipeline for the in-process tests (no server: the client is injected).
fn local_yaml(extra: &str) -> String {
    format!(
        "version: 1\nname: docs\nmodel: {{ name: test-model, edit_format: diff{extra} }}\ntasks:\n  - name: add docstrings\n    files: [\"src/**/*.py\"]\n    prompt: Add a docstring to every function.\n"
    )
}

/// Counts the files reported done.
#[derive(Default)]
struct FilesDone(AtomicUsize);

impl Observer for FilesDone {
    fn file_done(&self, _repo: &str, _task: &str, _path: &str) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn requests_in_flight_never_exceed_the_concurrency_across_repositories() {
    let f = Fixture::new();
    let files: Vec<(String, String)> = (0..4)
        .map(|i| (format!("src/f{i}.py"), format!("x = {i}\n")))
        .collect();
    let files: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let repos: Vec<PathBuf> = (0..3).map(|i| f.repo(&format!("r{i}"), &files)).collect();
    let repos: Vec<&Path> = repos.iter().map(PathBuf::as_path).collect();
    // Each request waits until two are in flight, so the bound is reached, never passed.
    let script = Script::gated(Some((2, 12)), |_, _| scripted("Nothing to change."));
    let files_done = FilesDone::default();
    let yaml = local_yaml(", concurrency: 2");
    let no = AtomicBool::new(false);
    let report = run_in(&f, &yaml, &repos, &script, 3, &no, &files_done);
    assert_eq!(report.exit_code, 0, "{report:#?}");
    assert_eq!(script.requests().len(), 12);
    assert_eq!(json(&report)["totals"]["model"]["requests"], 12);
    assert_eq!(script.max_in_flight.load(Ordering::SeqCst), 2);
    // Progress: every file of every repository reported done once.
    assert_eq!(files_done.0.load(Ordering::SeqCst), 12);
}

/// The pipeline's budget is the run's, whatever meter the caller's client was built with:
/// the one client here has none, and still the second request is never sent.
#[test]
fn the_pipelines_budget_holds_for_a_client_built_without_one() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("src/b.py", PY_B)]);
    let script = Script::new(|_, _| scripted("Nothing to change."));
    let yaml = local_yaml(", concurrency: 1, budget: { max_requests: 1 }");
    let no = AtomicBool::new(false);
    let report = run_in(&f, &yaml, &[&repo], &script, 1, &no, &Silent);
    assert_eq!(
        script.requests().len(),
        1,
        "nothing is sent past the budget"
    );
    let task = &json(&report)["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed", "{task:#}");
    let why = task["message"].as_str().unwrap();
    assert!(
        why.starts_with("model requests stopped: [E441] budget spent: 1 model requests made"),
        "{why}"
    );
    assert!(why.ends_with("; 1 request not sent"), "{why}");
}

#[test]
fn ctrl_c_during_a_model_task_sends_no_further_request_and_writes_nothing() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.py", PY_A),
            ("src/b.py", PY_B),
            ("src/c.py", "c = 1\n"),
        ],
    );
    let interrupt = Arc::new(AtomicBool::new(false));
    let flag = interrupt.clone();
    let script = Script::new(move |_, _| {
        flag.store(true, Ordering::SeqCst);
        scripted(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
    });
    let yaml = local_yaml(", concurrency: 1");
    let report = run_in(&f, &yaml, &[&repo], &script, 1, &interrupt, &Silent);
    assert_eq!(report.exit_code, 130, "{report:#?}");
    assert_eq!(script.requests().len(), 1);
    assert_eq!(report.repos[0].tasks[0].status, TaskStatus::Interrupted);
    assert_eq!(f.at(&repo, "codefleet/docs", "src/a.py"), None);
}

/// Every lock file left under `root`: git's (`*.lock`), codefleet's repository locks
/// (`.git/codefleet/lock`, `lock.takeover`) and clone cache entry locks (`<entry>.lock`).
fn leftover_locks(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".lock") || name == "lock" || name == "lock.takeover" {
                out.push(path.clone());
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                dirs.push(path);
            }
        }
    }
    out
}

/// A local repository and a `url:` one (a bare remote over `file://`, so a clone cache entry
/// is locked too), and a pipeline over both whose model has `timeout: 1h`.
fn stalling_fleet(f: &Fixture, server: &ModelServer) -> (PathBuf, PathBuf, PathBuf) {
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let seed = f.repo("seed", &[("src/b.py", PY_B)]);
    let bare = f.dir.path().join("srv/billing.git");
    f.git(
        f.dir.path(),
        &[
            "clone",
            "-q",
            "--bare",
            seed.to_str().unwrap(),
            bare.to_str().unwrap(),
        ],
    );
    let yaml = format!(
        "version: 1\nname: docs\nrepos:\n  - path: svc\n  - url: file://{}\n{}tasks:\n  - name: add docstrings\n    files: [\"src/**/*.py\"]\n    prompt: Add a docstring to every function.\n",
        bare.display(),
        model_line(", timeout: 1h")
    );
    let p = f.pipeline_file(&with_server(&yaml, server));
    (repo, bare, p)
}

/// `codefleet run p` started in the fixture's directory, its stderr piped.
fn spawn_run(f: &Fixture, p: &Path) -> std::process::Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
    f.env(&mut cmd);
    cmd.args(["run", p.to_str().unwrap(), "--jobs", "1"])
        .current_dir(f.dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn codefleet")
}

fn sigint(child: &std::process::Child) {
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(sent.success());
}

#[test]
fn ctrl_c_during_a_stalled_model_request_exits_130_at_once_and_leaves_nothing_locked() {
    let f = Fixture::new();
    // The server takes the request, says so, and never answers within the test's life (the
    // model's timeout is an hour: only abandoning the request ends the run).
    let (arrived, requests) = std::sync::mpsc::channel::<()>();
    let arrived = Mutex::new(arrived);
    let stalled = ModelServer::with_handler(move |_| {
        let _ = arrived.lock().unwrap().send(());
        text_reply("never read").slow(std::time::Duration::from_secs(3600))
    });
    let (repo, _bare, p) = stalling_fleet(&f, &stalled);
    let child = spawn_run(&f, &p);
    requests.recv().expect("a model request arrives");
    sigint(&child);
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("codefleet: stopping (Ctrl-C)"), "{stderr}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("interrupted"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        leftover_locks(f.dir.path()),
        Vec::<PathBuf>::new(),
        "locks left"
    );
    assert_eq!(f.at(&repo, "codefleet/docs", "src/a.py"), None, "no branch");
    assert_eq!(
        f.git(&repo, &["status", "--porcelain"]),
        "",
        "the checkout is untouched"
    );

    // The next run, with a model that answers, runs both repositories to the end.
    let answering = ModelServer::with_handler(|r| {
        if shows(r, "src/a.py") {
            text_reply(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
        } else {
            text_reply(&block("src/b.py", "def sub(a, b):\n", "def minus(a, b):\n"))
        }
    });
    let (_, _, p) = stalling_fleet_again(&f, &answering);
    let out = spawn_run(&f, &p).wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    assert_eq!(leftover_locks(f.dir.path()), Vec::<PathBuf>::new());
}

/// The pipeline of [`stalling_fleet`] pointed at another server (the repositories exist).
fn stalling_fleet_again(f: &Fixture, server: &ModelServer) -> (PathBuf, PathBuf, PathBuf) {
    let bare = f.dir.path().join("srv/billing.git");
    let yaml = format!(
        "version: 1\nname: docs\nrepos:\n  - path: svc\n  - url: file://{}\n{}tasks:\n  - name: add docstrings\n    files: [\"src/**/*.py\"]\n    prompt: Add a docstring to every function.\n",
        bare.display(),
        model_line(", timeout: 1h")
    );
    let p = f.pipeline_file(&with_server(&yaml, server));
    (f.dir.path().join("svc"), bare, p)
}

#[test]
fn a_second_ctrl_c_quits_at_once_and_the_next_run_takes_over_what_it_held() {
    let f = Fixture::new();
    let (arrived, requests) = std::sync::mpsc::channel::<()>();
    let arrived = Mutex::new(arrived);
    let stalled = ModelServer::with_handler(move |_| {
        let _ = arrived.lock().unwrap().send(());
        text_reply("never read").slow(std::time::Duration::from_secs(3600))
    });
    let (repo, _bare, p) = stalling_fleet(&f, &stalled);
    let child = spawn_run(&f, &p);
    requests.recv().expect("a model request arrives");
    // Two presses in a row: the second may land while the first is still winding down, and
    // then the process leaves at once, its locks still on disk (naming a process now gone).
    sigint(&child);
    sigint(&child);
    let out = child.wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(130),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answering = ModelServer::with_handler(|r| {
        if shows(r, "src/a.py") {
            text_reply(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
        } else {
            text_reply(&block("src/b.py", "def sub(a, b):\n", "def minus(a, b):\n"))
        }
    });
    let (_, _, p) = stalling_fleet_again(&f, &answering);
    let out = spawn_run(&f, &p).wait_with_output().expect("wait");
    assert_eq!(
        out.status.code(),
        Some(0),
        "whatever the first run left locked is taken over: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    assert_eq!(leftover_locks(f.dir.path()), Vec::<PathBuf>::new());
}

#[test]
fn plan_estimates_the_requests_and_tokens_of_model_tasks() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[("src/a.py", PY_A), ("src/b.py", PY_B), (".env", "K=v\n")],
    );
    let p = f.pipeline_file(&format!(
        "{}  - name: survey\n    ask: What is this?\n",
        prompt_yaml(", reflections: 2")
    ));
    let out = f.cli(&repo, &["--json", "plan", p.to_str().unwrap()], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let tasks = &plan["repos"][0]["tasks"];
    let edit = &tasks[0]["model"];
    assert_eq!(edit["name"], "test-model");
    assert_eq!(edit["edit_format"], "diff");
    assert_eq!(edit["requests"], 2);
    assert_eq!(edit["max_requests"], 6);
    assert!(edit["input_tokens"].as_u64().unwrap() > 100);
    // A question without `files:` is one request over every file but the denied ones.
    let ask = &tasks[1]["model"];
    assert_eq!(ask["requests"], 1);
    assert!(ask.get("edit_format").is_none());
    assert_eq!(
        tasks[1]["files"],
        serde_json::json!(["src/a.py", "src/b.py"])
    );
    assert_eq!(tasks[1]["skipped"]["denied"], 1);

    let out = f.cli(&repo, &["plan", p.to_str().unwrap()], &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("model test-model: ~2 requests (up to 6 with feedback), ~"),
        "{text}"
    );
}

#[test]
fn a_per_file_prompt_edits_each_file_and_commits_with_the_model_trailer() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.py", PY_A),
            ("src/b.py", PY_B),
            ("README.md", "hi\n"),
        ],
    );
    let server = ModelServer::with_handler(|r| {
        if shows(r, "src/a.py") {
            text_reply(&block(
                "src/a.py",
                "def add(a, b):\n",
                "def add(a, b):\n    \"\"\"Add.\"\"\"\n",
            ))
        } else {
            text_reply(&format!(
                "Here you go:\n\n{}",
                block(
                    "src/b.py",
                    "def sub(a, b):\n",
                    "def sub(a, b):\n    \"\"\"Subtract.\"\"\"\n"
                )
            ))
        }
    });
    // Prices per million tokens: input 1, cached input 0.5, output 2 (US dollars).
    let prices = [("CODEFLEET_MODEL_PRICES", "test-model=1/0.5/2")];
    let (code, report) = run_json_env(&f, &repo, &prompt_yaml(""), &server, &prices);
    assert_eq!(code, 0, "{report:#}");

    let branch = "codefleet/docs";
    assert_eq!(
        f.at(&repo, branch, "src/a.py").unwrap(),
        "def add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n"
    );
    assert_eq!(
        f.at(&repo, branch, "src/b.py").unwrap(),
        "def sub(a, b):\n    \"\"\"Subtract.\"\"\"\n    return a - b\n"
    );
    let message = f.git(&repo, &["log", "-1", "--format=%B", branch]);
    assert!(message.starts_with("add docstrings\n"), "{message}");
    assert!(message.contains("Codefleet-Model: test-model"), "{message}");

    // One request per file, each showing only its file, the instruction and the reminder.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert_eq!(r.path, "/v1/chat/completions");
        assert_eq!(r.body["model"], "test-model");
        let m = messages(r);
        assert_eq!((m[0].0.as_str(), m[1].0.as_str()), ("system", "user"));
        assert!(m[0].1.contains("<<<<<<< SEARCH"));
        assert!(m[1].1.contains("Add a docstring to every function."));
        assert!(!m[1].1.contains("README.md"));
        assert_eq!(shows(r, "src/a.py"), !shows(r, "src/b.py"));
    }

    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "changed");
    assert_eq!(task["files_changed"], 2);
    let model = &task["model"];
    assert_eq!(model["name"], "test-model");
    assert_eq!(model["edit_format"], "diff");
    assert_eq!(model["requests"], 2);
    assert_eq!(model["cache_hits"], 0);
    assert_eq!(model["tokens"]["input"], 200);
    assert_eq!(model["tokens"]["cached_input"], 20);
    assert_eq!(model["tokens"]["output"], 40);
    let cost = model["cost_usd"]
        .as_f64()
        .unwrap_or_else(|| panic!("{model}"));
    assert!(
        (cost - (200.0 + 20.0 * 0.5 + 40.0 * 2.0) / 1e6).abs() < 1e-12,
        "{cost}"
    );
    assert_eq!(report["totals"]["model"]["requests"], 2);
    assert_eq!(task["edits"].as_array().unwrap().len(), 2);
    assert_eq!(task["edits"][0]["applied"], true);
    assert_eq!(task["edits"][0]["detail"], "exact");

    // The journal records the model use of the task, and `show` prints it.
    let run_id = report["run_id"].as_str().unwrap();
    let journal = repo.join(format!(".git/codefleet/runs/{run_id}.json"));
    let journal: serde_json::Value =
        serde_json::from_slice(&std::fs::read(journal).unwrap()).unwrap();
    assert_eq!(journal["tasks"][0]["model"]["requests"], 2);
    assert_eq!(journal["tasks"][0]["edits"][1]["applied"], true);
    let show = f.cli(&repo, &["show", run_id], &[]);
    let shown = String::from_utf8_lossy(&show.stdout);
    assert!(
        shown.contains("   model test-model: 2 requests, 0 cached, 260 tokens, $0.0003\n"),
        "{shown}"
    );

    // Run again: every reply comes from the response cache, and the commits are the same.
    let tip = f.git(&repo, &["rev-parse", branch]);
    let (code, again) = run_json(&f, &repo, &prompt_yaml(""), &server);
    assert_eq!(code, 0);
    assert_eq!(server.requests().len(), 2, "no request the second time");
    assert_eq!(again["totals"]["model"]["cache_hits"], 2);
    assert_eq!(again["totals"]["model"]["requests"], 0);
    assert_eq!(f.git(&repo, &["rev-parse", branch]), tip);
}

#[test]
fn a_failed_edit_goes_back_with_the_coders_feedback_and_the_second_reply_fixes_it() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let wrong = block(
        "src/a.py",
        "def add(x, y):\n",
        "def add(x, y):\n    \"\"\"Add.\"\"\"\n",
    );
    let right = block(
        "src/a.py",
        "def add(a, b):\n",
        "def add(a, b):\n    \"\"\"Add.\"\"\"\n",
    );
    let (w, r2) = (wrong.clone(), right.clone());
    let server =
        ModelServer::with_handler(move |r| text_reply(if round(r) == 1 { &w } else { &r2 }));
    let (code, report) = run_json(&f, &repo, &prompt_yaml(""), &server);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n"
    );

    // The second request is the first conversation, the model's reply, and exactly the
    // feedback the coders write for that reply.
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    let expected = coders::parse_and_apply(
        Format::Diff,
        &wrong,
        &MemFiles::new().with("src/a.py", PY_A),
        &ApplyOptions {
            udiff: UdiffInput::Reply,
            fence: Some(Fence {
                open: "```".into(),
                close: "```".into(),
            }),
            given_files: Some(vec!["src/a.py".into()]),
            allow_shrink: false,
        },
    )
    .feedback
    .unwrap();
    let (first, second) = (messages(&requests[0]), messages(&requests[1]));
    assert_eq!(second.len(), 4);
    assert_eq!(second[..2], first[..]);
    assert_eq!(second[2], ("assistant".to_string(), wrong));
    assert_eq!(second[3], ("user".to_string(), expected.clone()));
    assert!(
        expected.starts_with("# 1 block failed to apply"),
        "{expected}"
    );

    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "changed");
    let edits = task["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    assert_eq!(
        (&edits[0]["round"], &edits[0]["applied"]),
        (&1.into(), &false.into())
    );
    assert_eq!(
        (&edits[1]["round"], &edits[1]["applied"]),
        (&2.into(), &true.into())
    );
}

#[test]
fn when_reflections_run_out_the_task_fails_and_the_other_files_are_kept() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("src/b.py", PY_B)]);
    let server = ModelServer::with_handler(|r| {
        if shows(r, "src/a.py") {
            text_reply(&block("src/a.py", "nothing like this\n", "x\n"))
        } else {
            text_reply(&block("src/b.py", "def sub(a, b):\n", "def minus(a, b):\n"))
        }
    });
    let (code, report) = run_json(&f, &repo, &prompt_yaml(", reflections: 1"), &server);
    assert_eq!(code, 1);
    let requests = server.requests();
    assert_eq!(requests.iter().filter(|r| shows(r, "src/a.py")).count(), 2);
    assert_eq!(requests.iter().filter(|r| shows(r, "src/b.py")).count(), 1);
    assert_eq!(f.at(&repo, "codefleet/docs", "src/a.py").unwrap(), PY_A);
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/b.py").unwrap(),
        "def minus(a, b):\n    return a - b\n"
    );
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed");
    assert!(task["commit"].is_string());
    let failed: Vec<&serde_json::Value> = task["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["path"], "src/a.py");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(message.contains("round 2"), "{message}");
    assert!(
        message.contains("still failing after 1 rounds of feedback"),
        "{message}"
    );
}

#[test]
fn a_failed_edit_stays_failed_when_the_reply_to_its_feedback_has_no_edit() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("src/b.py", PY_B)]);
    // One request for both files: the edit of a.py applies, the edit of b.py does not; the
    // answer to the feedback is words without an edit.
    let server = ModelServer::with_handler(|r| {
        if round(r) == 1 {
            text_reply(&format!(
                "{}{}",
                block(
                    "src/a.py",
                    "def add(a, b):\n",
                    "def add(a, b):\n    \"\"\"Add.\"\"\"\n"
                ),
                block("src/b.py", "def nothing_like_this():\n", "x\n")
            ))
        } else {
            text_reply("Sorry, I cannot find that block; the file looks fine as it is.")
        }
    });
    let yaml = format!(
        "version: 1\nname: docs\n{}tasks:\n  - name: add docstrings\n    files: [\"src/**/*.py\"]\n    per: repo\n    prompt: Add a docstring to every function.\n",
        model_line(", reflections: 2")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1, "a failed edit fails the run: {report:#}");
    assert_eq!(server.requests().len(), 2, "the feedback was sent once");
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed", "{task:#}");
    assert_eq!(task["files_failed"], 1, "{task:#}");
    assert_eq!(task["files_changed"], 1, "{task:#}");
    let edits = task["edits"].as_array().unwrap();
    let b_edit: Vec<_> = edits.iter().filter(|e| e["path"] == "src/b.py").collect();
    assert_eq!(b_edit.len(), 1, "{edits:#?}");
    assert_eq!(b_edit[0]["applied"], false);
    assert_eq!(b_edit[0]["round"], 1);
    let failed: Vec<&serde_json::Value> = task["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["status"] == "failed")
        .collect();
    assert_eq!(failed.len(), 1, "{task:#}");
    assert_eq!(failed[0]["path"], "src/b.py");
    let message = failed[0]["message"].as_str().unwrap();
    assert!(
        message.contains("round 1") && message.contains("no edit of `src/b.py`"),
        "{message}"
    );
    // What did apply is kept, and the untouched file is as it was.
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n"
    );
    assert_eq!(f.at(&repo, "codefleet/docs", "src/b.py").unwrap(), PY_B);

    // The summary says so too, and the exit code.
    let p = f.dir.path().join("p.yml");
    let out = f.cli(&repo, &["run", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let summary = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        summary.contains("src/b.py") && summary.contains("no edit of `src/b.py`"),
        "{summary}"
    );
}

#[test]
fn a_reply_cut_off_at_the_output_limit_is_not_applied() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let server = ModelServer::with_handler(|_| {
        Step::truncated(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
    });
    let (code, report) = run_json(&f, &repo, &prompt_yaml(""), &server);
    assert_eq!(code, 1);
    assert_eq!(
        server.requests().len(),
        1,
        "a cut-off reply is not reflected"
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py"),
        None,
        "no branch: nothing changed"
    );
    let file = &report["repos"][0]["tasks"][0]["files"][0];
    assert_eq!(file["path"], "src/a.py");
    assert!(
        file["message"]
            .as_str()
            .unwrap()
            .contains("cut off at the model's output limit"),
        "{file}"
    );
}

#[test]
fn denied_files_never_reach_a_model_even_when_it_asks_for_them() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.py", PY_A),
            (".env", "SECRET=hunter2\n"),
            ("secrets/key.txt", "token-swordfish\n"),
            ("logo.png", "\u{0}PNG binary\u{0}"),
        ],
    );
    // The model tries to edit the denied files it was never shown, in every round.
    let server = ModelServer::with_handler(|_| {
        text_reply(&format!(
            "{}{}",
            block(".env", "SECRET=\n", "SECRET=x\n"),
            block("secrets/key.txt", "token\n", "x\n")
        ))
    });
    let yaml = format!(
        "version: 1\nname: docs\n{}policy: {{ deny: [\"secrets/**\"] }}\ntasks:\n  - name: all\n    files: [\"**/*\"]\n    per: repo\n    prompt: Tidy up.\n",
        model_line(", reflections: 2")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1);
    let requests = server.requests();
    assert_eq!(requests.len(), 3, "two rounds of feedback");
    let wire: String = requests.iter().map(|r| r.raw.as_str()).collect();
    assert!(wire.contains("def add(a, b)"), "the allowed file is shown");
    for secret in ["hunter2", "swordfish", "PNG binary"] {
        assert!(!wire.contains(secret), "{secret} reached the model");
    }
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["skipped"]["denied"], 2);
    assert_eq!(task["skipped"]["binary"], 1);
    assert_eq!(task["files_selected"], 1);
    let messages: Vec<&str> = task["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`.env` is denied by policy")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`secrets/key.txt` is denied by policy")),
        "{messages:?}"
    );
    assert_eq!(f.at(&repo, "codefleet/docs", ".env"), None, "no branch");
}

#[test]
fn an_edit_outside_the_tasks_files_fails_and_writes_nothing_there() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("setup.py", "name = 'x'\n")]);
    let server = ModelServer::with_handler(|_| {
        text_reply(&format!(
            "{}{}",
            block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"),
            block("setup.py", "name = 'x'\n", "name = 'y'\n")
        ))
    });
    let (code, report) = run_json(&f, &repo, &prompt_yaml(", reflections: 0"), &server);
    assert_eq!(code, 1);
    assert_eq!(
        f.at(&repo, "codefleet/docs", "setup.py").unwrap(),
        "name = 'x'\n"
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    let files = report["repos"][0]["tasks"][0]["files"]
        .as_array()
        .unwrap()
        .clone();
    let failed = files.iter().find(|f| f["path"] == "setup.py").unwrap();
    assert!(
        failed["message"]
            .as_str()
            .unwrap()
            .contains("refused: `setup.py` is outside this task's `files:`"),
        "{failed}"
    );
}

#[test]
fn per_repo_requests_split_the_files_into_batches_that_fit_the_context() {
    let f = Fixture::new();
    // An unknown model has a 32k-token window: two 40 KB files fit in one request, not three.
    let big = |c: char| format!("{}\n", c.to_string().repeat(79)).repeat(500);
    let (a, b, c) = (big('a'), big('b'), big('c'));
    let repo = f.repo(
        "svc",
        &[
            ("a.txt", &a),
            ("b.txt", &b),
            ("c.txt", &c),
            ("d.txt", "small\n"),
        ],
    );
    let server = ModelServer::with_handler(|_| text_reply("No change is needed."));
    let yaml = "version: 1\nname: docs\nmodel: { provider: ollama, name: some-local-model, base_url: \"{url}\", edit_format: diff }\ntasks:\n  - name: all\n    files: [\"*.txt\"]\n    per: repo\n    prompt: Check the files.\n";
    let (code, report) = run_json(&f, &repo, yaml, &server);
    assert_eq!(code, 0, "{report:#}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    assert!(requests.iter().all(|r| r.path == "/api/chat"));
    let shown = |r: &Recorded| -> Vec<&str> {
        ["a.txt", "b.txt", "c.txt", "d.txt"]
            .into_iter()
            .filter(|p| asked(r).contains(&format!("{p}\n```\n")))
            .collect()
    };
    let mut batches: Vec<Vec<&str>> = requests.iter().map(shown).collect();
    batches.sort();
    assert_eq!(batches, [vec!["a.txt", "b.txt"], vec!["c.txt", "d.txt"]]);
    assert_eq!(report["repos"][0]["tasks"][0]["status"], "unchanged");
}

#[test]
fn ask_answers_land_in_the_report_and_the_summaries_and_nothing_is_committed() {
    let f = Fixture::new();
    let one = f.repo("billing", &[("src/pay.py", "legacy_billing.charge()\n")]);
    let two = f.repo("web", &[("src/app.py", "print('hi')\n")]);
    let server = ModelServer::with_handler(|r| {
        if asked(r).contains("legacy_billing") {
            text_reply("Yes: src/pay.py line 1 calls legacy_billing.charge().")
        } else {
            text_reply("No.")
        }
    });
    let yaml = format!(
        "version: 1\nname: survey\nrepos: [{{ path: billing }}, {{ path: web }}]\n{}tasks:\n  - name: legacy\n    ask: Does this repository call the legacy billing API? Where?\n  - name: each\n    files: [\"src/*.py\"]\n    ask: What does this file do?\n",
        model_line("")
    );
    let (code, report) = run_json(&f, f.dir.path(), &yaml, &server);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["totals"]["commits"], 0);
    assert_eq!(f.at(&one, "codefleet/survey", "src/pay.py"), None);
    assert_eq!(f.at(&two, "codefleet/survey", "src/app.py"), None);
    let answer = &report["repos"][0]["tasks"][0]["answers"][0];
    assert_eq!(
        answer["text"],
        "Yes: src/pay.py line 1 calls legacy_billing.charge()."
    );
    assert_eq!(answer["files"][0], "src/pay.py");
    assert!(answer.get("path").is_none());
    assert_eq!(report["repos"][1]["tasks"][0]["answers"][0]["text"], "No.");
    // `per: file` (the default with `files:`): one answer per file, naming it.
    assert_eq!(
        report["repos"][0]["tasks"][1]["answers"][0]["path"],
        "src/pay.py"
    );
    assert_eq!(report["totals"]["model"]["requests"], 4);
    // `test-model` has no price: its cost is unknown, never a made-up 0.
    assert!(report["totals"]["model"]["cost_usd"].is_null());
    assert!(report["repos"][0]["tasks"][0]["model"]["cost_usd"].is_null());
    let question = asked(&server.requests()[0]);
    assert!(question.contains("# Question\n\n"), "{question}");

    // The terminal summary and the GitHub step summary show the answers (from the cache now).
    let summary = f.dir.path().join("summary.md");
    let p = f.dir.path().join("p.yml");
    let out = f.cli(
        f.dir.path(),
        &["run", p.to_str().unwrap()],
        &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())],
    );
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(server.requests().len(), 4, "answered from the cache");
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table.contains("billing · legacy\n  Yes: src/pay.py line 1"),
        "{table}"
    );
    assert!(table.contains("model: 0 requests (+4 cached)"), "{table}");
    let md = std::fs::read_to_string(summary).unwrap();
    assert!(
        md.contains("**Answers**") && md.contains("calls legacy_billing.charge()"),
        "{md}"
    );
}

#[test]
fn an_exhausted_budget_stops_every_further_request_and_keeps_what_landed() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.py", PY_A),
            ("src/b.py", PY_B),
            ("src/c.py", "c = 1\n"),
        ],
    );
    let server = ModelServer::with_handler(|r| {
        assert!(
            shows(r, "src/a.py"),
            "requests go in file order with one slot"
        );
        text_reply(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
    });
    let yaml = format!(
        "{}  - name: again\n    prompt: And again.\n",
        prompt_yaml(", concurrency: 1, budget: { max_requests: 1 }")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1);
    assert_eq!(
        server.requests().len(),
        1,
        "nothing is sent past the budget"
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    assert_eq!(f.at(&repo, "codefleet/docs", "src/b.py").unwrap(), PY_B);
    let tasks = &report["repos"][0]["tasks"];
    assert_eq!(tasks[0]["status"], "failed");
    assert!(tasks[0]["commit"].is_string(), "what landed is committed");
    let why = tasks[0]["message"].as_str().unwrap();
    assert!(
        why.starts_with("model requests stopped: [E441] budget spent"),
        "{why}"
    );
    assert!(why.ends_with("; 2 requests not sent"), "{why}");
    assert_eq!(tasks[1]["status"], "failed");
    assert!(
        tasks[1]["message"]
            .as_str()
            .unwrap()
            .starts_with("not run: model requests have stopped: [E441]")
    );
}

#[test]
fn a_task_without_a_model_name_fails_with_a_hint_and_sends_nothing() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let server = ModelServer::with_handler(|_| text_reply(""));
    let yaml = "version: 1\nname: docs\nmodel: { base_url: \"{url}\" }\ntasks:\n  - name: t\n    prompt: Do it.\n";
    let (code, report) = run_json(&f, &repo, yaml, &server);
    assert_eq!(code, 1);
    assert_eq!(server.request_count(), 0);
    let why = report["repos"][0]["tasks"][0]["message"].as_str().unwrap();
    assert!(why.contains("[E451] no model is named"), "{why}");
}

#[test]
fn auto_answers_small_files_whole_and_a_dry_run_shows_the_diff_and_writes_nothing() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let server = ModelServer::with_handler(|r| {
        // `auto` with a file under 100 lines: the whole-file format, in its example and reminder.
        assert!(asked(r).contains("complete new content"), "{}", asked(r));
        text_reply("src/a.py\n```\ndef add(a, b):\n    \"\"\"Add.\"\"\"\n    return a + b\n```\n")
    });
    let yaml = "version: 1\nname: docs\nmodel: { name: some-local-model, base_url: \"{url}\" }\ntasks:\n  - name: t\n    files: [\"src/*.py\"]\n    prompt: Document.\n";
    let p = f.pipeline_file(&with_server(yaml, &server));
    let out = f.cli(&repo, &["run", "--dry-run", p.to_str().unwrap()], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py"),
        None,
        "a dry run writes nothing"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("+    \"\"\"Add.\"\"\""), "{stdout}");
    assert_eq!(server.request_count(), 1);
}

#[test]
fn a_whole_reply_that_drops_most_of_a_file_is_refused_unless_the_task_allows_shrink() {
    const LONG: &str = "def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n";
    const SHORT: &str = "def add(a, b):\n    return a + b\n";
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", LONG)]);
    // `auto` answers a file under 100 lines whole; the model drops `sub` every time.
    let server = ModelServer::with_handler(|_| text_reply(&format!("src/a.py\n```\n{SHORT}```\n")));
    let yaml = |extra: &str| {
        format!(
            "version: 1\nname: docs\nmodel: {{ name: some-local-model, base_url: \"{{url}}\", reflections: 1 }}\ntasks:\n  - name: t\n    files: [\"src/*.py\"]\n{extra}    prompt: Remove sub.\n"
        )
    };

    let (code, report) = run_json(&f, &repo, &yaml(""), &server);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(
        server.request_count(),
        2,
        "the refusal went back to the model once"
    );
    let feedback = &messages(&server.requests()[1])[3].1;
    assert!(
        feedback.contains("it drops more than half of the file"),
        "{feedback}"
    );
    assert!(
        matches!(
            f.at(&repo, "codefleet/docs", "src/a.py").as_deref(),
            None | Some(LONG)
        ),
        "the short listing is not committed"
    );
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed");
    let message = task["files"][0]["message"].as_str().unwrap();
    assert!(message.contains("allow_shrink: true"), "{message}");

    let repo = f.repo("svc2", &[("src/a.py", LONG)]);
    let (code, report) = run_json(&f, &repo, &yaml("    allow_shrink: true\n"), &server);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(f.at(&repo, "codefleet/docs", "src/a.py").unwrap(), SHORT);
}

#[test]
fn a_failed_request_or_a_cut_off_answer_fails_the_task_and_the_rest_still_runs() {
    let f = Fixture::new();
    let repo = f.repo(
        "svc",
        &[
            ("src/a.py", PY_A),
            ("src/b.py", PY_B),
            ("src/c.py", "c = 1\n"),
        ],
    );
    let server = ModelServer::with_handler(|r| {
        let text = asked(r);
        if text.contains("def add") {
            Step::status(400, r#"{"error":{"message":"bad request, no"}}"#)
        } else if text.contains("def sub") {
            Step::truncated("It subtracts, and then")
        } else {
            Step::text("It sets c.")
        }
    });
    let yaml = format!(
        "version: 1\nname: q\n{}tasks:\n  - name: what\n    files: [\"src/*.py\"]\n    ask: What does it do?\n",
        model_line("")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1);
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["status"], "failed");
    let why = task["message"].as_str().unwrap();
    assert!(why.starts_with("1 model request failed: [E402]"), "{why}");
    assert!(why.contains("bad request, no"), "{why}");
    assert!(
        why.ends_with("; 1 answer was cut off at the output limit"),
        "{why}"
    );
    let answers: Vec<(&str, &str, bool)> = task["answers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["path"].as_str().unwrap(),
                a["text"].as_str().unwrap(),
                a["truncated"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        answers,
        [
            ("src/b.py", "It subtracts, and then", true),
            ("src/c.py", "It sets c.", false)
        ]
    );
    assert_eq!(
        task["model"]["requests"], 3,
        "the failed request counts as sent"
    );
}

#[test]
fn the_policy_refuses_a_models_deletes_and_creations_and_keeps_its_other_edits() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("src/b.py", PY_B)]);
    let server = ModelServer::with_handler(|_| {
        text_reply(
            "*** Begin Patch\n*** Update File: src/a.py\n@@\n-def add(a, b):\n+def plus(a, b):\n*** Delete File: src/b.py\n*** Add File: src/c.py\n+c = 1\n*** End Patch\n",
        )
    });
    let yaml = format!(
        "version: 1\nname: docs\n{}policy: {{ allow_create: false }}\ntasks:\n  - name: t\n    files: [\"src/*.py\"]\n    per: repo\n    prompt: Tidy.\n",
        model_line(", reflections: 0").replace("edit_format: diff", "edit_format: patch")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1, "{report:#}");
    let branch = "codefleet/docs";
    assert_eq!(
        f.at(&repo, branch, "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    assert_eq!(f.at(&repo, branch, "src/b.py").unwrap(), PY_B);
    assert_eq!(f.at(&repo, branch, "src/c.py"), None);
    let messages: Vec<String> = report["repos"][0]["tasks"][0]["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| {
            Some(format!(
                "{}: {}",
                f["path"].as_str()?,
                f["message"].as_str()?
            ))
        })
        .collect();
    assert!(
        messages.iter().any(|m| m.starts_with(
            "src/b.py: refused: deleting `src/b.py` is not allowed (policy `allow_delete: false`)"
        )),
        "{messages:?}"
    );
    assert!(
        messages.iter().any(|m| m.starts_with("src/c.py: ")
            && m.contains(
                "refused: creating `src/c.py` is not allowed (policy `allow_create: false`)"
            )),
        "{messages:?}"
    );
}

#[test]
fn a_model_task_whose_files_match_nothing_sends_nothing_and_changes_nothing() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("README.md", "hi\n")]);
    let server = ModelServer::with_handler(|_| text_reply("unused"));
    let yaml = format!(
        "{}  - name: survey\n    files: [\"src/**\"]\n    ask: Why?\n",
        prompt_yaml("")
    );
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(server.request_count(), 0);
    for t in report["repos"][0]["tasks"].as_array().unwrap() {
        assert_eq!(t["status"], "unchanged");
        assert_eq!(t["files_selected"], 0);
        assert!(t.get("message").is_none(), "{t}");
    }
}

#[test]
fn the_same_task_runs_over_the_anthropic_wire() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A)]);
    let server = ModelServer::with_handler(|_| {
        text_reply(&block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"))
    });
    let yaml = prompt_yaml("").replace("provider: openai", "provider: anthropic");
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 0, "{report:#}");
    let r = &server.requests()[0];
    assert_eq!(r.path, "/v1/messages");
    // Anthropic takes the system prompt apart from the messages.
    assert!(
        r.body["system"].to_string().contains("<<<<<<< SEARCH"),
        "{}",
        r.body
    );
    assert!(
        r.body["messages"][0]["content"]
            .to_string()
            .contains("src/a.py")
    );
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
}

/// A whole `codefleet run` of a per-file prompt task over 200 files against a server that
/// answers each request after 200 ms with an edit that applies, `RUN_BENCH_CONCURRENCY`
/// (default 8) requests at a time: the wall time against the ideal
/// `ceil(200 / concurrency) × 200 ms`, and what codefleet adds per request. Not part of the
/// suite: `bench/model-run.sh` runs it in release mode.
#[test]
#[ignore = "benchmark; run by bench/model-run.sh"]
fn run_benchmark() {
    let n: usize = std::env::var("RUN_BENCH_CONCURRENCY")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8);
    let total = 200;
    let latency = std::time::Duration::from_millis(200);
    let f = Fixture::new();
    let files: Vec<(String, String)> = (0..total)
        .map(|i| (format!("src/m{i:03}.py"), format!("VALUE = {i}\n")))
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(p, t)| (p.as_str(), t.as_str()))
        .collect();
    let repo = f.repo("bench", &refs);
    let server = ModelServer::with_handler(move |r| {
        let text = asked(r);
        let i = (0..total)
            .find(|i| text.contains(&format!("\nsrc/m{i:03}.py\n")))
            .unwrap_or(0);
        let path = format!("src/m{i:03}.py");
        Step::text(&block(
            &path,
            &format!("VALUE = {i}\n"),
            &format!("VALUE = {}\n", i + 1),
        ))
        .slow(latency)
    });
    let yaml = format!(
        "version: 1\nname: bench\n{}tasks:\n  - name: bump\n    files: [\"src/*.py\"]\n    per: file\n    prompt: Add one to VALUE.\n",
        model_line(&format!(", concurrency: {n}"))
    );
    let started = std::time::Instant::now();
    let (code, report) = run_json_env(&f, &repo, &yaml, &server, &[("CODEFLEET_CACHE", "off")]);
    let wall = started.elapsed();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["totals"]["files_changed"], total);
    assert_eq!(server.request_count(), total);
    let ideal = latency * total.div_ceil(n) as u32;
    println!(
        "concurrency {n}: {total} file requests at {} ms: run {:.2} s, ideal {:.2} s ({:+.1}%), overhead {:.2} ms/request, max in flight {}",
        latency.as_millis(),
        wall.as_secs_f64(),
        ideal.as_secs_f64(),
        (wall.as_secs_f64() / ideal.as_secs_f64() - 1.0) * 100.0,
        wall.saturating_sub(ideal).as_secs_f64() * 1000.0 / total as f64,
        server.max_in_flight(),
    );
}

#[test]
fn a_models_half_applied_file_is_kept_whole_or_not_at_all_and_atomic_none_says_so() {
    let f = Fixture::new();
    let repo = f.repo("svc", &[("src/a.py", PY_A), ("src/b.py", PY_B)]);
    let server = ModelServer::with_handler(|r| {
        if shows(r, "src/a.py") {
            // The first block applies, the second never does.
            text_reply(&format!(
                "{}\n{}",
                block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n"),
                block("src/a.py", "nothing like this\n", "x\n")
            ))
        } else {
            text_reply(&block("src/b.py", "def sub(a, b):\n", "def minus(a, b):\n"))
        }
    });
    let minus = "def minus(a, b):\n    return a - b\n";
    let (code, report) = run_json(&f, &repo, &prompt_yaml(", reflections: 1"), &server);
    assert_eq!(code, 1);
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        PY_A,
        "no file is left half-edited by default"
    );
    assert_eq!(f.at(&repo, "codefleet/docs", "src/b.py").unwrap(), minus);
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["partial"], true, "{task}");
    assert_eq!(task["files_changed"], 1);

    let yaml = prompt_yaml(", reflections: 1") + "    atomic: none\n";
    let (code, report) = run_json(&f, &repo, &yaml, &server);
    assert_eq!(code, 1);
    assert_eq!(
        f.at(&repo, "codefleet/docs", "src/a.py").unwrap(),
        "def plus(a, b):\n    return a + b\n"
    );
    let task = &report["repos"][0]["tasks"][0];
    assert_eq!(task["partial"], true, "{task}");
    let half = task["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["path"] == "src/a.py" && f["status"] == "modified")
        .expect("a.py committed");
    assert!(
        half["message"]
            .as_str()
            .unwrap()
            .starts_with("partly edited"),
        "{half}"
    );
}
