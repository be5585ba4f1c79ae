//! `prompt` and `ask` tasks: the task's files shown to a model (one request per file, or per
//! repository in batches that fit the model's context), its replies parsed and applied by the
//! coders under the run's policy, failed edits sent back with the coders' feedback, and what
//! every request cost accounted for. Every request goes through the run's one [`Meter`], which
//! bounds the requests in flight run-wide (`model.concurrency`) and keeps the budget; a spent
//! budget stops every further request of the run, keeping what already landed.

use std::cell::{OnceCell, RefCell};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crate::coders::{self, ApplyOptions, Change, EditStatus, Files, Format, UdiffInput};
use crate::error::Error;
use crate::git::Repo;
use crate::llm::prompt::{self, Shown};
use crate::llm::{Client, Completion, Finish, Message, Meter, Request};
use crate::pipeline::{Model, Per, Policy, Task, TaskKind};
use crate::report::{Answer, EditOutcome, ModelUse, TaskReport, TaskStatus, Tokens};
use crate::secrets;
use crate::workspace::{Found, Selects, WriteCheck, is_binary};
use crate::workspace::{Skip, content_skip, select};

use super::errors::ExecError;
use super::observer::Observer;
use super::pool::catching;
use super::tasks::FileOutcome;
use crate::workspace::{Reader, Stored};

/// The function a run gets its model clients from.
pub type ClientFor = dyn Fn(&Model) -> Result<Arc<Client>, Error> + Send + Sync;

/// Where a run gets the [`Client`] for a task's model settings: the CLI builds real ones from
/// the pipeline and settings; tests and library users pass their own. A run asks once per
/// distinct client setting (provider, name, base URL, key, timeout, temperature) and shares
/// the client between every task and repository that uses it. The run's budget and
/// `model.concurrency` hold whatever meter a client was built with: requests are counted
/// against the run's.
#[derive(Clone)]
pub struct Models(Arc<ClientFor>);

impl Models {
    /// Clients from `f`.
    pub fn new(f: impl Fn(&Model) -> Result<Arc<Client>, Error> + Send + Sync + 'static) -> Models {
        Models(Arc::new(f))
    }

    /// No clients: every model task fails with E450 (what a run built in code gets by default).
    pub fn unavailable() -> Models {
        Models::new(|_| Err(ExecError::NoClient.into()))
    }

    /// The client for `model`.
    pub fn client(&self, model: &Model) -> Result<Arc<Client>, Error> {
        (self.0)(model)
    }
}

impl Default for Models {
    fn default() -> Self {
        Models::unavailable()
    }
}

impl fmt::Debug for Models {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Models(..)")
    }
}

/// A client made for some model settings (or why it could not be).
type Made = (Model, Result<Arc<Client>, Error>);

/// A run's model side: the clients made so far, the run's one [`Meter`] (its budget and
/// `model.concurrency`, enforced on every request whatever client sends it), and why requests
/// stopped.
pub(crate) struct Runtime<'a> {
    models: &'a Models,
    clients: Mutex<Vec<Made>>,
    meter: Meter,
    stopped: Mutex<Option<String>>,
    interrupt: &'a AtomicBool,
}

/// Why a request was not answered.
enum NotSent {
    /// Requests of the run have stopped (a budget), with why.
    Stopped(String),
    /// Ctrl-C.
    Interrupted,
    /// The request failed.
    Failed(Error),
}

/// Whether two model settings make the same client (so share it): the same endpoint, key,
/// timeout and default temperature. Edit format and reflections are the task's business.
fn same_endpoint(a: &Model, b: &Model) -> bool {
    a.provider == b.provider
        && a.name == b.name
        && a.base_url == b.base_url
        && a.api_key_env == b.api_key_env
        && a.timeout == b.timeout
        && a.temperature == b.temperature
}

impl<'a> Runtime<'a> {
    /// The model side of a run whose requests `meter` limits.
    pub fn new(models: &'a Models, meter: Meter, interrupt: &'a AtomicBool) -> Runtime<'a> {
        Runtime {
            models,
            clients: Mutex::new(Vec::new()),
            meter,
            stopped: Mutex::new(None),
            interrupt,
        }
    }

    /// Jobs of one task running at once: as many as requests may be in flight.
    fn job_threads(&self) -> usize {
        self.meter.concurrency().max(1)
    }

    fn client(&self, model: &Model) -> Result<Arc<Client>, Error> {
        let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, c)) = clients.iter().find(|(m, _)| same_endpoint(m, model)) {
            return c.clone();
        }
        let made = self.models.client(model);
        clients.push((model.clone(), made.clone()));
        made
    }

    fn stopped(&self) -> Option<String> {
        self.stopped
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Stops every further request of the run; returns the first reason given.
    fn stop(&self, why: String) -> String {
        let mut stopped = self.stopped.lock().unwrap_or_else(|p| p.into_inner());
        stopped.get_or_insert(why).clone()
    }

    /// Sends `request` through the run's meter, unless the run's requests have stopped.
    fn send(&self, client: &Client, request: &Request) -> Result<Completion, NotSent> {
        if let Some(why) = self.stopped() {
            return Err(NotSent::Stopped(why));
        }
        if self.interrupt.load(Ordering::SeqCst) {
            return Err(NotSent::Interrupted);
        }
        match client.complete_within(request, &self.meter, self.interrupt) {
            Ok(c) => Ok(c),
            Err(e) if e.is_interrupt() => Err(NotSent::Interrupted),
            Err(e) if e.stops_the_run() => {
                let why = Error::from(e).one_line();
                Err(NotSent::Stopped(self.stop(why)))
            }
            Err(e) => Err(NotSent::Failed(e.into())),
        }
    }
}

/// What a model task needs from its repository and run.
pub(crate) struct TaskCtx<'a> {
    pub runtime: &'a Runtime<'a>,
    pub repo: &'a Repo,
    pub reader: &'a Reader<'a>,
    pub policy: &'a Policy,
    pub task: &'a Task,
    /// The prompt or question, rendered.
    pub text: String,
    pub display: &'a str,
    pub observer: &'a dyn Observer,
}

/// What a job needs from its task, shareable across the job threads (no repository handle:
/// a job opens its own when it needs one).
struct Shared<'a> {
    runtime: &'a Runtime<'a>,
    reader: &'a Reader<'a>,
    policy: &'a Policy,
    task: &'a Task,
    text: &'a str,
    display: &'a str,
    observer: &'a dyn Observer,
    /// One request per file (after a task without `files:` became per repository).
    per_file: bool,
}

/// A file read for a model.
struct Loaded {
    path: String,
    text: String,
}

/// One request's worth of files.
struct Job {
    files: Vec<usize>,
}

/// A path a job changed: the content before (`None`: created) and after (`None`: deleted).
type NetChange = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// What one job did.
#[derive(Default)]
struct JobResult {
    usage: ModelUse,
    edits: Vec<EditOutcome>,
    /// Net changes: path → new bytes (`None`: deleted), with the content before.
    changes: Vec<NetChange>,
    failures: Vec<(String, String)>,
    answer: Option<Answer>,
    format: Option<Format>,
    /// Why the job sent nothing (or stopped early): requests stopped.
    stopped: Option<String>,
    /// Requests it did not send because the run's requests had stopped.
    not_sent: bool,
    interrupted: bool,
    /// A request failed (not a budget): the error.
    failed: Option<String>,
    /// Shell commands its replies suggested: reported, never run.
    suggested: Vec<String>,
}

/// How a task asks: questions or edits, one request per file or per batch, and the edit
/// format it asked for (`None`: chosen per model and file size).
#[derive(Clone, Copy)]
struct Shape {
    ask: bool,
    per_file: bool,
    explicit: Option<Format>,
}

impl Shape {
    /// The shape of a `prompt` or `ask` task; `None` for other kinds.
    fn of(task: &Task) -> Option<Shape> {
        let (per, ask) = match &task.kind {
            TaskKind::Prompt { per, .. } => (*per, false),
            TaskKind::Ask { per, .. } => (*per, true),
            _ => return None,
        };
        // Without `files:` a task works on every file of the repository, in batches: `per`
        // needs `files:` (the pipeline checks), and one request per file of a whole repository
        // is rarely what anyone means.
        let per_file = task.files.is_some() && per == Per::File;
        let explicit = task.model.edit_format.explicit();
        Some(Shape {
            ask,
            per_file,
            explicit,
        })
    }
}

/// Runs a `prompt` or `ask` task: fills in `report` (model use, edits, answers, status and
/// message when the task fails as a whole) and returns each file's outcome.
pub(crate) fn task(ctx: &TaskCtx<'_>, report: &mut TaskReport) -> Vec<(String, FileOutcome)> {
    let Some(shape) = Shape::of(ctx.task) else {
        return Vec::new();
    };
    let (name, client) = match ready(ctx, report) {
        Ok(ready) => ready,
        Err(message) => {
            fail(report, message);
            return Vec::new();
        }
    };
    let (files, mut outcomes) = load_files(ctx, report);
    report.files_selected = files.len();
    ctx.observer
        .task_started(ctx.display, &ctx.task.name, files.len());
    let jobs = plan_jobs(ctx, shape, &name, &files, &mut outcomes);
    if jobs.is_empty() && outcomes.is_empty() {
        // Nothing to show the model (an empty repository, or `files:` matching nothing
        // here): no request, and the task is unchanged.
        return outcomes;
    }
    let results = run_jobs(ctx, &client, &name, &files, &jobs, shape);
    let mut merged = Merged {
        jobs: &jobs,
        files: &files,
        usage: report.model.clone().unwrap_or_default(),
        tally: Tally::default(),
        changed_by: HashMap::new(),
        outcomes,
    };
    for (j, result) in results.into_iter().enumerate() {
        merged.add(j, result, report);
    }
    merged.finish(shape, report)
}

fn fail(report: &mut TaskReport, message: String) {
    report.status = TaskStatus::Failed;
    report.message = Some(message);
}

/// What a task needs before it reads a file: the model's name and client, and a prompt that
/// may be sent. Notes the model in `report`; `Err` is why the task fails as a whole.
fn ready(ctx: &TaskCtx<'_>, report: &mut TaskReport) -> Result<(String, Arc<Client>), String> {
    let Some(name) = ctx.task.model.name.clone() else {
        return Err(Error::from(ExecError::NoModel).one_line());
    };
    report.model = Some(ModelUse {
        name: Some(name.clone()),
        ..ModelUse::default()
    });
    if let Some(why) = ctx.runtime.stopped() {
        return Err(format!("not run: model requests have stopped: {why}"));
    }
    let client = ctx
        .runtime
        .client(&ctx.task.model)
        .map_err(|e| e.one_line())?;
    if let Some(found) = secrets::scan(&ctx.text) {
        if !ctx.task.allow_secrets {
            let e = Error::from(ExecError::Secret {
                what: "the task's prompt".to_string(),
                found: found.to_string(),
            });
            return Err(e.one_line());
        }
        report
            .secrets_sent
            .push(format!("the task's prompt: {found}"));
    }
    Ok((name, client))
}

/// The task's requests: one per file, or the files in batches that fit the model's context
/// window. A file too large for the window on its own fails, in `outcomes`.
fn plan_jobs(
    ctx: &TaskCtx<'_>,
    shape: Shape,
    name: &str,
    files: &[Loaded],
    outcomes: &mut Vec<(String, FileOutcome)>,
) -> Vec<Job> {
    let window = prompt::context_window(name);
    let format = (!shape.ask).then_some(shape.explicit.unwrap_or(Format::Diff));
    let overhead = prompt::request_overhead(format, &ctx.text);
    let room = prompt::room_for_files(window, overhead);
    let tokens: Vec<u64> = files
        .iter()
        .map(|f| prompt::file_tokens(&f.path, f.text.len()))
        .collect();
    let (batches, big) = prompt::jobs(&tokens, room, shape.per_file);
    for i in big {
        outcomes.push(too_big(&files[i].path, tokens[i], room, name));
    }
    batches.into_iter().map(|files| Job { files }).collect()
}

/// A task's job results merged in job order: the first job to change a path keeps it.
struct Merged<'a> {
    jobs: &'a [Job],
    files: &'a [Loaded],
    usage: ModelUse,
    tally: Tally,
    /// Which job changed each path.
    changed_by: HashMap<String, usize>,
    outcomes: Vec<(String, FileOutcome)>,
}

impl Merged<'_> {
    /// The first file of job `j`, which stands for the job in messages.
    fn first(&self, j: usize) -> String {
        self.jobs[j]
            .files
            .first()
            .map(|&i| self.files[i].path.clone())
            .unwrap_or_default()
    }

    fn failed(&mut self, path: String, message: String) {
        let line = None;
        self.outcomes
            .push((path, FileOutcome::Failed { message, line }));
    }

    /// Takes in job `j`'s result (or the panic that ended it).
    fn add(&mut self, j: usize, result: Result<JobResult, String>, report: &mut TaskReport) {
        let result = match result {
            Ok(r) => r,
            Err(msg) => {
                let message = format!("internal error (a bug in codefleet): {msg}");
                return self.failed(self.first(j), message);
            }
        };
        self.usage.add(&result.usage);
        self.tally.add(&result);
        report.edits.extend(result.edits);
        report.answers.extend(result.answer);
        for command in result.suggested {
            if !report.suggested_commands.contains(&command) {
                report.suggested_commands.push(command);
            }
        }
        if result.interrupted {
            self.outcomes
                .push((self.first(j), FileOutcome::Interrupted));
        }
        for (path, message) in result.failures {
            self.failed(path, message);
        }
        for change in result.changes {
            self.change(j, change);
        }
    }

    fn change(&mut self, j: usize, (path, old, new): NetChange) {
        if let Some(&other) = self.changed_by.get(&path) {
            let message = format!(
                "the request for `{}` changed this file too; the change made for `{}` was kept",
                self.first(j),
                self.first(other)
            );
            return self.failed(path, message);
        }
        self.changed_by.insert(path.clone(), j);
        let new = new.map(Stored::Bytes);
        let replacements = None;
        self.outcomes.push((
            path,
            FileOutcome::Changed {
                old,
                new,
                replacements,
            },
        ));
    }

    /// The model use and, when the task fails as a whole, why, into `report`; the outcomes.
    fn finish(mut self, shape: Shape, report: &mut TaskReport) -> Vec<(String, FileOutcome)> {
        if !shape.ask {
            let formats: Vec<&str> = self.tally.formats.iter().copied().collect();
            self.usage.edit_format = Some(formats.join(", "));
        }
        report.model = Some(self.usage);
        if let Some(problems) = self.tally.problems() {
            fail(report, problems);
        }
        self.outcomes
    }
}

/// What went wrong across a task's jobs, for the task's one-line message.
#[derive(Default)]
struct Tally {
    formats: BTreeSet<&'static str>,
    stopped: Option<String>,
    not_sent: usize,
    failed_requests: Vec<String>,
    truncated_answers: usize,
}

impl Tally {
    fn add(&mut self, r: &JobResult) {
        if let Some(f) = r.format {
            self.formats.insert(f.name());
        }
        if let Some(why) = &r.stopped {
            self.stopped.get_or_insert_with(|| why.clone());
        }
        self.not_sent += usize::from(r.not_sent);
        self.failed_requests.extend(r.failed.clone());
        self.truncated_answers += usize::from(r.answer.as_ref().is_some_and(|a| a.truncated));
    }

    /// Why the task fails as a whole, if it does.
    fn problems(&self) -> Option<String> {
        let plural = |n: usize, one: &str, many: &str| {
            if n == 1 {
                one.to_string()
            } else {
                many.to_string()
            }
        };
        let mut out = Vec::new();
        if let Some(why) = &self.stopped {
            let not_sent = match self.not_sent {
                0 => String::new(),
                n => format!("; {n} {} not sent", plural(n, "request", "requests")),
            };
            out.push(format!("model requests stopped: {why}{not_sent}"));
        }
        if let Some(first) = self.failed_requests.first() {
            let n = self.failed_requests.len();
            out.push(format!(
                "{n} model {} failed: {first}",
                plural(n, "request", "requests")
            ));
        }
        if self.truncated_answers > 0 {
            let n = self.truncated_answers;
            out.push(format!(
                "{n} {} cut off at the output limit",
                plural(n, "answer was", "answers were")
            ));
        }
        (!out.is_empty()).then(|| out.join("; "))
    }
}

fn too_big(path: &str, tokens: u64, room: u64, model: &str) -> (String, FileOutcome) {
    (
        path.to_string(),
        FileOutcome::Failed {
            message: format!(
                "too large for `{model}`'s context window (about {tokens} tokens; {room} fit with the prompt and room for the reply)"
            ),
            line: None,
        },
    )
}

/// The task's files as a model may see them: selected by `files:`, never denied ones, and
/// never a file over `max_file_size`, binary or not UTF-8 (counted as skipped). A file that
/// cannot be read is a failure.
fn load_files(
    ctx: &TaskCtx<'_>,
    report: &mut TaskReport,
) -> (Vec<Loaded>, Vec<(String, FileOutcome)>) {
    let overlay = ctx.reader.overlay;
    let selected = select(
        overlay.paths.keys().map(String::as_str),
        ctx.task.files.as_ref(),
        &ctx.policy.deny,
        &mut report.skipped,
    );
    let mut out = Vec::new();
    let mut failed = Vec::new();
    for path in selected {
        if ctx
            .reader
            .too_large(ctx.repo, &path, ctx.policy.max_file_size)
        {
            Skip::TooLarge.count(&path, &mut report.skipped);
            continue;
        }
        let bytes = match ctx.reader.read(ctx.repo, &path) {
            Ok(Some(b)) => b,
            Ok(None) => continue,
            Err(e) => {
                failed.push((
                    path,
                    FileOutcome::Failed {
                        message: e.message,
                        line: None,
                    },
                ));
                continue;
            }
        };
        if let Some(skip) = content_skip(&bytes, ctx.policy.max_file_size) {
            skip.count(&path, &mut report.skipped);
            continue;
        }
        let text = match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(_) => {
                Skip::Binary.count(&path, &mut report.skipped);
                continue;
            }
        };
        // The pre-send scan: a file that looks like it holds a private key or a credential
        // is not sent, unless the task allows it (and then the report says so).
        if let Some(found) = secrets::scan(&text) {
            if !ctx.task.allow_secrets {
                failed.push((
                    path.clone(),
                    FileOutcome::Failed {
                        message: secret_refusal(&format!("`{path}`"), &found),
                        line: Some(found.line),
                    },
                ));
                continue;
            }
            report.secrets_sent.push(format!("{path}: {found}"));
        }
        out.push(Loaded { path, text });
    }
    (out, failed)
}

/// Why a file was not sent: what it looks like, and how to send it anyway.
fn secret_refusal(what: &str, found: &secrets::Finding) -> String {
    ExecError::Secret {
        what: what.to_string(),
        found: found.to_string(),
    }
    .to_string()
}

/// Runs the jobs on scoped threads, at most `model.concurrency` of them for this task (the
/// run-wide slots bound requests across repositories). Results in job order; a panic is the
/// job's result.
fn run_jobs(
    ctx: &TaskCtx<'_>,
    client: &Client,
    name: &str,
    files: &[Loaded],
    jobs: &[Job],
    shape: Shape,
) -> Vec<Result<JobResult, String>> {
    let shared = Shared {
        runtime: ctx.runtime,
        reader: ctx.reader,
        policy: ctx.policy,
        task: ctx.task,
        text: &ctx.text,
        display: ctx.display,
        observer: ctx.observer,
        per_file: shape.per_file,
    };
    let ctx = &shared;
    let results: Vec<Mutex<Option<Result<JobResult, String>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let threads = ctx.runtime.job_threads().min(jobs.len());
    let work = || {
        loop {
            let j = next.fetch_add(1, Ordering::SeqCst);
            let Some(job) = jobs.get(j) else { break };
            let shown: Vec<&Loaded> = job.files.iter().map(|&i| &files[i]).collect();
            let result = catching(|| {
                if shape.ask {
                    ask_job(ctx, client, name, &shown)
                } else {
                    edit_job(ctx, client, name, &shown, shape.explicit)
                }
            });
            // Progress as each request's files finish, not when the whole task does.
            for f in &shown {
                ctx.observer.file_done(ctx.display, &ctx.task.name, &f.path);
            }
            if let Ok(mut slot) = results[j].lock() {
                *slot = Some(result);
            }
        }
    };
    if threads <= 1 {
        work();
    } else {
        std::thread::scope(|s| {
            for _ in 0..threads {
                s.spawn(work);
            }
        });
    }
    results
        .into_iter()
        .map(|m| {
            m.into_inner()
                .unwrap_or_else(|p| p.into_inner())
                .unwrap_or_else(|| Err("a job did not finish".into()))
        })
        .collect()
}

/// Adds one completion to `usage`.
fn account(usage: &mut ModelUse, c: &Completion) {
    let u = &c.reply.usage;
    usage.add(&ModelUse {
        requests: if c.cached {
            0
        } else {
            1 + u64::from(c.retries)
        },
        cache_hits: u64::from(c.cached),
        retries: u64::from(c.retries),
        tokens: Tokens {
            input: u.input,
            cached_input: u.cached_input,
            output: u.output,
        },
        cost_usd: c.cost_usd,
        ..ModelUse::default()
    });
}

/// Sends `request`, recording a refusal in `result`; `None` when there is no reply to use.
fn send(
    ctx: &Shared<'_>,
    client: &Client,
    request: &Request,
    result: &mut JobResult,
) -> Option<Completion> {
    match ctx.runtime.send(client, request) {
        Ok(c) => {
            account(&mut result.usage, &c);
            Some(c)
        }
        Err(NotSent::Stopped(why)) => {
            result.stopped = Some(why);
            result.not_sent = true;
            None
        }
        Err(NotSent::Interrupted) => {
            result.interrupted = true;
            None
        }
        Err(NotSent::Failed(e)) => {
            result.usage.requests += 1;
            result.failed = Some(e.one_line());
            None
        }
    }
}

fn request(ctx: &Shared<'_>, name: &str, messages: Vec<Message>) -> Request {
    Request {
        model: name.to_string(),
        messages,
        temperature: ctx.task.model.temperature,
        max_output_tokens: None,
    }
}

fn ask_job(ctx: &Shared<'_>, client: &Client, name: &str, shown: &[&Loaded]) -> JobResult {
    let mut result = JobResult::default();
    let list: Vec<Shown<'_>> = shown
        .iter()
        .map(|f| Shown {
            path: &f.path,
            text: &f.text,
        })
        .collect();
    let messages = prompt::ask_request(ctx.text, &list);
    let Some(c) = send(ctx, client, &request(ctx, name, messages), &mut result) else {
        return result;
    };
    result.answer = Some(Answer {
        path: ctx
            .per_file
            .then(|| shown.first().map(|f| f.path.clone()))
            .flatten(),
        files: shown.iter().map(|f| f.path.clone()).collect(),
        text: c.reply.text,
        truncated: c.reply.finish == Finish::Length,
    });
    result
}

fn edit_job(
    ctx: &Shared<'_>,
    client: &Client,
    name: &str,
    shown: &[&Loaded],
    explicit: Option<Format>,
) -> JobResult {
    let mut result = JobResult::default();
    let longest = shown.iter().map(|f| f.text.lines().count()).max();
    let format = explicit.unwrap_or_else(|| coders::format_for_model(name, longest));
    result.format = Some(format);
    let list: Vec<Shown<'_>> = shown
        .iter()
        .map(|f| Shown {
            path: &f.path,
            text: &f.text,
        })
        .collect();
    let (mut messages, fence) = prompt::edit_request(format, ctx.text, &list);
    let given: Vec<String> = shown.iter().map(|f| f.path.clone()).collect();
    let files = JobFiles::new(ctx, shown);
    let options = ApplyOptions {
        udiff: UdiffInput::Reply,
        fence: Some(fence),
        given_files: Some(given.clone()),
        allow_shrink: ctx.task.allow_shrink,
    };
    let first = given.first().cloned().unwrap_or_default();
    let rounds = ctx.task.model.reflections + 1;
    // Failed edits not yet made good: a failure stays until a later edit of its file applies,
    // so a reply to the feedback that holds no edit leaves it failed, not forgotten.
    let mut pending = Pending::default();
    for round in 1..=rounds {
        let request = request(ctx, name, messages.clone());
        let Some(reply) = usable_reply(ctx, client, &request, round, &given, &mut result) else {
            break;
        };
        let outcome = coders::parse_and_apply(format, &reply, &files, &options);
        let refused = files.record_allowed(&outcome.changes);
        record_round(&mut result, &files, &outcome.edits, round, &refused);
        pending.round(&files, &outcome.edits, round, &refused, &first);
        result.suggested.extend(outcome.suggested_commands);
        let Some(feedback) = outcome.feedback else {
            break;
        };
        if round == rounds {
            break;
        }
        messages.push(Message::assistant(reply));
        messages.push(Message::user(feedback));
    }
    pending.into_failures(&mut result);
    result.changes = files.net_changes();
    result
}

/// Sends round `round`'s request and returns the reply's text when it may be applied: a failed
/// request fails every file of the job (`given`), a reply cut off or stopped for another reason
/// fails the first, and none of it is applied.
fn usable_reply(
    ctx: &Shared<'_>,
    client: &Client,
    request: &Request,
    round: u32,
    given: &[String],
    result: &mut JobResult,
) -> Option<String> {
    let Some(c) = send(ctx, client, request, result) else {
        if let Some(e) = &result.failed {
            for path in given {
                let message = format!("the model request failed: {e}");
                result.failures.push((path.clone(), message));
            }
        }
        return None;
    };
    let why = match &c.reply.finish {
        Finish::Stop => return Some(c.reply.text),
        Finish::Length => format!(
            "the reply (round {round}) was cut off at the model's output limit; none of it was applied"
        ),
        Finish::Other(why) => {
            format!("the model stopped ({why}) in round {round}; none of its reply was applied")
        }
    };
    let first = given.first().cloned().unwrap_or_default();
    result.failures.push((first, why));
    None
}

/// Why new content over `max_file_size` is not written.
pub(crate) fn too_large_new(path: &str, len: usize, policy: &Policy) -> String {
    match WriteCheck::new(policy).check_content(path, len) {
        Err(refusal) => format!("refused: {refusal}"),
        Ok(()) => String::new(),
    }
}

/// Records how a round's edits fared, and the changes the policy refused (path, reason).
fn record_round(
    result: &mut JobResult,
    files: &JobFiles<'_>,
    edits: &[coders::EditReport],
    round: u32,
    refused: &[(String, String)],
) {
    let refusal = |path: &str| refused.iter().find(|(p, _)| p == path).map(|(_, r)| r);
    for e in edits {
        let (applied, file, detail) = match &e.status {
            EditStatus::Applied { file, .. } if refusal(file).is_some() => {
                (false, None, refusal(file).cloned().unwrap_or_default())
            }
            EditStatus::Applied { file, strategy } => (
                true,
                (file != &e.path).then(|| file.clone()),
                strategy.to_string(),
            ),
            EditStatus::Failed { reason } => (false, None, files.reason(&e.path, reason)),
        };
        result.edits.push(EditOutcome {
            path: e.path.clone(),
            round,
            line: e.line,
            applied,
            file,
            detail,
        });
    }
    for (path, why) in refused {
        result.failures.push((path.clone(), why.clone()));
    }
}

/// The failed edits of a job not made good by a later round: each with its file, the round
/// it failed in, and why.
#[derive(Default)]
struct Pending {
    failed: Vec<(String, u32, String)>,
    /// The last round whose reply was read.
    last: u32,
}

impl Pending {
    /// Takes in round `round`'s edits: an applied edit (not refused by the policy) makes good
    /// the earlier failures of its file; a failed edit (of `first`, the job's first file, when
    /// it named none) is a failure until one does, and stands for its file's earlier ones
    /// (the model's retry of them failed too).
    fn round(
        &mut self,
        files: &JobFiles<'_>,
        edits: &[coders::EditReport],
        round: u32,
        refused: &[(String, String)],
        first: &str,
    ) {
        self.last = round;
        let path_of = |e: &coders::EditReport| {
            if e.path.is_empty() {
                first.to_string()
            } else {
                e.path.clone()
            }
        };
        for e in edits {
            match &e.status {
                EditStatus::Applied { file, .. } if !refused.iter().any(|(p, _)| p == file) => {
                    self.failed.retain(|(p, _, _)| p != file && p != &e.path);
                }
                EditStatus::Failed { .. } => {
                    let path = path_of(e);
                    self.failed.retain(|(p, _, _)| *p != path);
                }
                EditStatus::Applied { .. } => {}
            }
        }
        let tries = if round == 1 {
            String::new()
        } else {
            format!(" (still failing after {} rounds of feedback)", round - 1)
        };
        for e in edits {
            if let EditStatus::Failed { reason } = &e.status {
                self.failed.push((
                    path_of(e),
                    round,
                    format!(
                        "edit {} (reply line {}, round {round}): {}{tries}",
                        e.index + 1,
                        e.line,
                        files.reason(&e.path, reason)
                    ),
                ));
            }
        }
    }

    /// The failures left, as failures of their files (a file already failed for another
    /// reason, such as a failed request, keeps that one).
    fn into_failures(self, result: &mut JobResult) {
        let last = self.last;
        let already: BTreeSet<String> = result.failures.iter().map(|(p, _)| p.clone()).collect();
        for (path, round, mut message) in self.failed {
            if already.contains(&path) {
                continue;
            }
            if round < last {
                message.push_str(&format!(
                    "; the feedback was sent, and no edit of `{path}` in the model's later \
                     replies (up to round {last}) applied"
                ));
            }
            result.failures.push((path, message));
        }
    }
}

/// What a job's replies see: the task's overlay, this job's changes so far over it, and the
/// policy. Denied, binary and over-size files read as absent, so no part of them reaches a
/// model (not even in feedback); writes are confined by the policy and the task's `files:`.
struct JobFiles<'a> {
    ctx: &'a Shared<'a>,
    given: HashMap<&'a str, &'a [u8]>,
    /// A repository handle for files outside the job, opened on first need.
    repo: OnceCell<Option<Repo>>,
    loaded: RefCell<HashMap<String, Base>>,
    changes: RefCell<BTreeMap<String, Option<Vec<u8>>>>,
}

/// A file as the task found it.
#[derive(Clone)]
enum Base {
    Missing,
    TooLarge,
    Binary,
    Text(Vec<u8>),
}

impl<'a> JobFiles<'a> {
    /// The files a job's replies see, `shown` being the ones its request showed.
    fn new(ctx: &'a Shared<'a>, shown: &[&'a Loaded]) -> JobFiles<'a> {
        JobFiles {
            ctx,
            given: shown
                .iter()
                .map(|f| (f.path.as_str(), f.text.as_bytes()))
                .collect(),
            repo: OnceCell::new(),
            loaded: RefCell::new(HashMap::new()),
            changes: RefCell::new(BTreeMap::new()),
        }
    }

    /// Records a reply's changes that the policy allows; returns the others, each with why
    /// it was refused (path, reason).
    fn record_allowed(&self, changes: &[Change]) -> Vec<(String, String)> {
        let policy = self.ctx.policy;
        let mut refused: Vec<(String, String)> = Vec::new();
        for change in changes {
            match change {
                Change::Delete { path } if !policy.allow_delete => {
                    refused.push((
                        path.clone(),
                        format!(
                            "refused: deleting `{path}` is not allowed (policy `allow_delete: false`)"
                        ),
                    ));
                    continue;
                }
                Change::Write { path, content, .. }
                    if content.len() as u64 > policy.max_file_size =>
                {
                    refused.push((path.clone(), too_large_new(path, content.len(), policy)));
                    continue;
                }
                _ => {}
            }
            self.record(change);
        }
        refused
    }

    fn base(&self, path: &str) -> Base {
        if let Some(b) = self.loaded.borrow().get(path) {
            return b.clone();
        }
        let base = if let Some(bytes) = self.given.get(path) {
            Base::Text(bytes.to_vec())
        } else if !self.ctx.reader.overlay.paths.contains_key(path) {
            Base::Missing
        } else {
            match self.repo.get_or_init(|| self.ctx.reader.open()) {
                None => Base::Missing,
                Some(repo) => {
                    let max = self.ctx.policy.max_file_size;
                    if self.ctx.reader.too_large(repo, path, max) {
                        Base::TooLarge
                    } else {
                        match self.ctx.reader.read(repo, path) {
                            Ok(Some(b)) if b.len() as u64 > max => Base::TooLarge,
                            Ok(Some(b)) if is_binary(&b) || std::str::from_utf8(&b).is_err() => {
                                Base::Binary
                            }
                            Ok(Some(b)) => Base::Text(b),
                            Ok(None) | Err(_) => Base::Missing,
                        }
                    }
                }
            }
        };
        self.loaded
            .borrow_mut()
            .insert(path.to_string(), base.clone());
        base
    }

    fn denied(&self, path: &str) -> bool {
        self.ctx.policy.deny.is_match(path)
    }

    /// Why an edit of `path` failed, for the report: a denied file reads as absent to the
    /// coders (and so to the model), but the user is told the policy refused it.
    fn reason(&self, path: &str, reason: &str) -> String {
        if !path.is_empty() && self.denied(path) {
            format!("refused: `{path}` is denied by policy")
        } else {
            reason.to_string()
        }
    }

    fn record(&self, change: &Change) {
        let mut changes = self.changes.borrow_mut();
        match change {
            Change::Write { path, content, .. } => {
                changes.insert(path.clone(), Some(content.clone()));
            }
            Change::Delete { path } => {
                changes.insert(path.clone(), None);
            }
        }
    }

    /// The job's changes against the task's files: (path, content before, content after).
    fn net_changes(&self) -> Vec<NetChange> {
        let changes = std::mem::take(&mut *self.changes.borrow_mut());
        changes
            .into_iter()
            .filter_map(|(path, new)| {
                let old = match self.base(&path) {
                    Base::Text(b) => Some(b),
                    _ => None,
                };
                if old == new {
                    return None;
                }
                Some((path, old, new))
            })
            .collect()
    }
}

impl Files for JobFiles<'_> {
    fn paths(&self) -> Vec<String> {
        let changes = self.changes.borrow();
        let mut all: BTreeSet<String> = self
            .ctx
            .reader
            .overlay
            .paths
            .keys()
            .filter(|p| !self.denied(p))
            .cloned()
            .collect();
        for (path, new) in changes.iter() {
            if new.is_some() {
                all.insert(path.clone());
            } else {
                all.remove(path);
            }
        }
        all.into_iter().collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        if self.denied(path) {
            return None;
        }
        if let Some(new) = self.changes.borrow().get(path) {
            return new.clone();
        }
        match self.base(path) {
            Base::Text(b) => Some(b),
            _ => None,
        }
    }

    fn check_write(&self, path: &str) -> Result<(), String> {
        let check = WriteCheck {
            scope: self.ctx.task.files.as_ref().map(|f| f as &dyn Selects),
            ..WriteCheck::new(self.ctx.policy)
        };
        let overlay = &self.ctx.reader.overlay;
        check
            .check(
                path,
                |p| overlay.confine(p),
                |p, _| match self.changes.borrow().get(p) {
                    Some(Some(_)) => Found::Text,
                    Some(None) => Found::Missing,
                    None => match self.base(p) {
                        Base::Text(_) => Found::Text,
                        Base::Missing => Found::Missing,
                        Base::TooLarge => Found::TooLarge(None),
                        Base::Binary => Found::Binary,
                    },
                },
            )
            .map(drop)
            .map_err(|r| format!("refused: {r}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pipeline::EditFormat;

    #[test]
    fn the_task_message_names_each_kind_of_trouble_once() {
        let mut tally = Tally::default();
        assert_eq!(tally.problems(), None);
        for r in [
            JobResult {
                stopped: Some("[E441] budget spent".into()),
                not_sent: true,
                ..JobResult::default()
            },
            JobResult {
                stopped: Some("[E440] later".into()),
                not_sent: true,
                failed: Some("[E402] rejected".into()),
                ..JobResult::default()
            },
        ] {
            tally.add(&r);
        }
        assert_eq!(
            tally.problems().as_deref(),
            Some(
                "model requests stopped: [E441] budget spent; 2 requests not sent; 1 model request failed: [E402] rejected"
            )
        );
    }

    #[test]
    fn tasks_share_a_client_only_for_the_same_endpoint_and_temperature() {
        let a = Model {
            name: Some("m".into()),
            reflections: 3,
            ..Model::default()
        };
        let b = Model {
            reflections: 0,
            edit_format: EditFormat::Format(Format::Whole),
            ..a.clone()
        };
        assert!(same_endpoint(&a, &b));
        let hot = Model {
            temperature: Some(0.9),
            ..a.clone()
        };
        assert!(!same_endpoint(&a, &hot));
        let other = Model {
            base_url: Some("http://127.0.0.1:1".into()),
            ..a.clone()
        };
        assert!(!same_endpoint(&a, &other));
    }
}
