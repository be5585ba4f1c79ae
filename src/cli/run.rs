//! `codefleet run`: loads the pipelines, runs them on a worker thread while this thread owns
//! the terminal (events arrive over a channel), then prints the report as a table, JSON, a
//! GitHub step summary and annotations, and returns the exit code the report implies.

use std::io::Write;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, OnceLock};

use super::Out;
use super::args::{GlobalArgs, RunArgs};
use super::errors::CliError;
use super::models::ModelDefaults;
use crate::error::{Error, Exit};
use crate::exec::{Observer, PublishOptions, PullRequests, RunOptions};
use crate::forge::GitHub;
use crate::git::{CloneCache, CloneOptions, Credentials, Secret};
use crate::pipeline::{self, Pipeline};
use crate::plan;
use crate::report::{self, FileReport, Mode, RepoReport, RunReport, TaskReport};
use crate::secrets::redact;
use crate::settings::{Settings, Verbosity};

/// The process-wide interrupt flag, set by Ctrl-C.
static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// Installs the SIGINT handler once (the `ctrlc` crate: one small, maintained crate that works
/// on Unix and Windows). The first Ctrl-C asks the run to stop at the next file; a second one
/// exits at once.
pub(super) fn interrupt_flag() -> &'static AtomicBool {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let result = ctrlc::set_handler(|| {
            if INTERRUPT.swap(true, Ordering::SeqCst) {
                // Shell steps run in their own process groups: stop them before leaving. The
                // locks this process holds name it, so the next run takes them over.
                crate::exec::kill_running();
                std::process::exit(Exit::Interrupted.code());
            }
            // The handler runs on a thread of its own (not in signal context): it may write.
            eprintln!(
                "codefleet: stopping (Ctrl-C): model requests in flight are abandoned, commands \
                 are stopped, nothing new starts; Ctrl-C again quits at once"
            );
        });
        if let Err(e) = result {
            tracing::warn!("Ctrl-C will not stop runs cleanly: {e}");
        }
    });
    &INTERRUPT
}

/// Loads every pipeline (all problems of all files reported), or fails with exit 2.
pub(super) fn load_pipelines(
    paths: &[&Path],
    global: &GlobalArgs,
    out: &mut Out<'_>,
) -> Result<Vec<Pipeline>, Error> {
    let vars = global
        .vars
        .iter()
        .map(|v| pipeline::parse_var(v))
        .collect::<Result<Vec<_>, _>>()?;
    let mut loaded = Vec::new();
    let mut failed = 0;
    for path in paths {
        match pipeline::load(path, &vars) {
            Ok(p) => loaded.push(p),
            Err(errors) => {
                failed += errors.len();
                for e in &errors {
                    out.error(e);
                }
            }
        }
    }
    if failed > 0 {
        return Err(CliError::PipelineInvalid { problems: failed }.into());
    }
    Ok(loaded)
}

/// The repositories of `pipeline`, as every command that works on them (`run`, `plan`,
/// `status`, `merge`, `close`) takes them: `--repo`/`--repos-from`, else `repos:`; GitHub
/// entries asked of the API the settings name (`github.api_url`, `github.token_env`,
/// `github.clone`); then `--shard`. What a discovery dropped comes back with them.
pub(super) fn targets(
    pipeline: &Pipeline,
    global: &GlobalArgs,
    settings: &Settings,
) -> Result<plan::Resolved, Error> {
    let mut overrides: Vec<plan::RepoArg> = global
        .repos
        .iter()
        .map(|p| plan::RepoArg::new(p.to_string_lossy()))
        .collect();
    if let Some(from) = &global.repos_from {
        overrides.extend(repos_from(from)?);
    }
    let github = GitHub::new(&github_api_url(settings), token(settings));
    let forges = crate::forge::Forges::new(Box::new(github));
    let discovery = plan::Discovery {
        forge: Some(&forges),
        ssh: settings.github_clone.value == crate::settings::GitHubClone::Ssh,
    };
    let mut all = plan::resolve(&pipeline.repos, &overrides, &discovery)?;
    if let Some(text) = &global.shard {
        let (k, n) = plan::parse_shard(text)?;
        all.targets = plan::shard(all.targets, k, n, &pipeline.dir);
    }
    Ok(all)
}

/// The entries of `--repos-from FILE` (`-`: standard input, read once per process), each
/// read against the file's directory.
fn repos_from(from: &Path) -> Result<Vec<plan::RepoArg>, Error> {
    static STDIN: OnceLock<Result<String, String>> = OnceLock::new();
    let failed = |why: String| {
        Error::from(crate::plan::PlanError::ReposFrom {
            from: from.display().to_string(),
            why,
        })
    };
    let (text, dir) = if from == Path::new("-") {
        let read = STDIN.get_or_init(|| {
            let mut text = String::new();
            std::io::Read::read_to_string(&mut std::io::stdin(), &mut text)
                .map(|_| text)
                .map_err(|e| e.to_string())
        });
        (read.clone().map_err(failed)?, std::path::PathBuf::new())
    } else {
        let text = std::fs::read_to_string(from).map_err(|e| failed(e.to_string()))?;
        (
            text,
            from.parent().map(Path::to_path_buf).unwrap_or_default(),
        )
    };
    Ok(plan::list_lines(&text)
        .map(|line| plan::RepoArg {
            text: line.to_string(),
            dir: dir.clone(),
        })
        .collect())
}

/// What the run thread tells the terminal thread.
enum Event {
    /// A log line (with `-v`, or in CI).
    Line(String),
    /// The run started on this many repositories.
    Repos(usize),
    /// A task started on this many files.
    Files(usize),
    /// One file is done.
    FileDone,
    /// One repository is done.
    RepoDone,
}

/// Sends events to the thread that owns the terminal.
struct ChannelObserver {
    tx: Mutex<mpsc::Sender<Event>>,
    verbose: bool,
    ci: bool,
    progress: bool,
}

impl ChannelObserver {
    fn send(&self, event: Event) {
        if let Ok(tx) = self.tx.lock() {
            let _ = tx.send(event);
        }
    }

    fn line(&self, line: String) {
        self.send(Event::Line(line));
    }
}

/// Closes the observer's channel when the run ends, even by a panic, which ends the loop that
/// prints events.
struct CloseOnDrop<'a>(&'a ChannelObserver);

impl Drop for CloseOnDrop<'_> {
    fn drop(&mut self) {
        if let Ok(mut tx) = self.0.tx.lock() {
            *tx = mpsc::channel().0;
        }
    }
}

impl Observer for ChannelObserver {
    fn run_started(&self, run_id: &str, repos: usize) {
        if self.progress {
            self.send(Event::Repos(repos));
        }
        if self.verbose || self.ci {
            self.line(format!("run {run_id}: {repos} repositories"));
        }
    }

    fn task_started(&self, repo: &str, task: &str, files: usize) {
        if self.progress {
            self.send(Event::Files(files));
        }
        if self.verbose {
            // Shell steps (and tasks without files) start on no file list.
            self.line(if files == 0 {
                format!("{repo}: task `{task}` started")
            } else {
                format!("{repo}: task `{task}` started on {files} files")
            });
        }
    }

    fn file_done(&self, _repo: &str, _task: &str, _path: &str) {
        if self.progress {
            self.send(Event::FileDone);
        }
    }

    fn file_failed(&self, repo: &str, task: &str, file: &FileReport) {
        if self.verbose {
            self.line(format!(
                "{repo}: task `{task}`: {} failed: {}",
                file.path,
                file.message.as_deref().unwrap_or("")
            ));
        }
    }

    fn command_output(&self, repo: &str, task: &str, line: &str) {
        if self.verbose {
            self.line(format!("{repo}: `{task}` | {line}"));
        }
    }

    fn task_finished(&self, repo: &str, task: &TaskReport) {
        if self.verbose {
            for f in &task.skipped.files {
                self.line(format!(
                    "{repo}: task `{}`: {} skipped: {}",
                    task.name,
                    f.path,
                    f.reason.words()
                ));
            }
            self.line(format!(
                "{repo}: task `{}` {}: {} files changed, {} failed, {} skipped",
                task.name,
                serde_json::to_value(task.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                task.files_changed,
                task.files_failed,
                task.skipped.total()
            ));
        }
    }

    fn repo_finished(&self, repo: &RepoReport) {
        if self.progress {
            self.send(Event::RepoDone);
        }
        if self.verbose || self.ci {
            self.line(format!(
                "{}: {}, {} commits, {} files changed",
                repo.path,
                serde_json::to_value(repo.status)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default(),
                repo.commits(),
                repo.files_changed()
            ));
        }
    }
}

/// How often CI logs get a progress line.
const CI_PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(10);

/// Repositories and files done so far.
#[derive(Default)]
struct Counts {
    repos: usize,
    repos_done: usize,
    files: usize,
    files_done: usize,
}

impl Counts {
    fn add(&mut self, event: &Event) {
        match event {
            Event::Repos(n) => self.repos = *n,
            Event::Files(n) => self.files += n,
            Event::FileDone => self.files_done += 1,
            Event::RepoDone => self.repos_done += 1,
            Event::Line(_) => {}
        }
    }
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "repos {}/{}, files {}/{}",
            self.repos_done, self.repos, self.files_done, self.files
        )
    }
}

/// The progress bar on a terminal: repositories done, and files done of those started.
struct Progress {
    bar: indicatif::ProgressBar,
    counts: Counts,
}

impl Progress {
    fn new() -> Progress {
        let bar = indicatif::ProgressBar::with_draw_target(
            Some(0),
            indicatif::ProgressDrawTarget::stderr_with_hz(10),
        );
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "{spinner} [{elapsed}] repos {pos}/{len} · files {msg}",
        ) {
            bar.set_style(style);
        }
        // Keeps the spinner turning while a big commit is written.
        bar.enable_steady_tick(std::time::Duration::from_millis(120));
        Progress {
            bar,
            counts: Counts::default(),
        }
    }

    fn handle(&mut self, event: &Event) {
        self.counts.add(event);
        match event {
            Event::Repos(n) => self.bar.set_length(*n as u64),
            Event::RepoDone => self.bar.inc(1),
            Event::Line(line) => self.bar.println(format!("codefleet: {line}")),
            Event::Files(_) | Event::FileDone => self
                .bar
                .set_message(format!("{}/{}", self.counts.files_done, self.counts.files)),
        }
    }
}

pub fn run(
    global: &GlobalArgs,
    settings: &Settings,
    args: &RunArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    if args.dry_run && args.check {
        return Err(CliError::DryRunAndCheck.into());
    }
    if (args.push || args.pr) && (args.dry_run || args.check) {
        return Err(CliError::PublishWithoutRun.into());
    }
    if args.clone_jobs == 0 {
        return Err(CliError::CloneJobs.into());
    }
    let paths: Vec<&Path> = args.pipelines.iter().map(|p| p.as_path()).collect();
    let mut pipelines = load_pipelines(&paths, global, out)?;
    for p in &mut pipelines {
        with_settings(p, settings)?;
    }
    let mode = if args.check {
        Mode::Check
    } else if args.dry_run {
        Mode::DryRun
    } else {
        Mode::Run
    };
    let credentials = Credentials::new(token(settings));
    let clone_options = CloneOptions {
        cache_dir: args
            .cache_dir
            .clone()
            .unwrap_or_else(|| settings.cache_dir.value.clone()),
        depth: args.depth,
        jobs: args.clone_jobs,
        credentials: credentials.clone(),
    };
    let mut options = RunOptions {
        jobs: settings.jobs.value,
        mode,
        force: args.force,
        checkout: args.checkout,
        models: crate::exec::Models::unavailable(),
        remotes: None,
    };
    let publish_options = |cache: &Arc<CloneCache>| PublishOptions {
        jobs: args.clone_jobs,
        push: args.push || args.pr,
        pull_requests: args.pr.then(|| PullRequests {
            forge: Box::new(GitHub::new(
                &github_api_url(settings),
                credentials.token().cloned(),
            )),
            close_empty: args.close_empty_prs,
            max: args.max_prs,
        }),
        remotes: Some(Arc::clone(cache)),
        credentials: credentials.clone(),
        force: args.force,
        // Only `pr.commit_via: api` pipelines use it, with `--push` alone.
        api_forge: (args.push && !args.pr).then(|| {
            Box::new(GitHub::new(
                &github_api_url(settings),
                credentials.token().cloned(),
            )) as Box<dyn crate::forge::Forge>
        }),
    };
    let interrupt = interrupt_flag();
    // In-process callers (tests) may run again after an interrupted run.
    interrupt.store(false, Ordering::SeqCst);
    let verbose = settings.verbosity.value >= Verbosity::Verbose;
    let quiet = settings.verbosity.value == Verbosity::Quiet;
    let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty()) && !quiet;
    let json_logs = settings.log_format.value == crate::settings::LogFormat::Json;
    // A bar only on a terminal (never in CI, where plain lines are logged instead), and never
    // among JSON log lines.
    let show_progress =
        !quiet && !ci && !json_logs && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let models = ModelDefaults::from_settings(settings).clients();
    let mut reports = Vec::new();
    for pipeline in &pipelines {
        let resolved = targets(pipeline, global, settings)?;
        let targets = resolved.targets;
        // The run id is chosen before planning, so the plan renders the branch the run uses.
        let mut plan = plan::build(
            pipeline,
            &targets,
            &plan::PlanOptions {
                base: args.base.clone(),
                run_id: crate::git::RunId::new().as_str().to_string(),
                list_files: false,
            },
        );
        plan.dropped = resolved.dropped;
        options.models = models.clone();
        // One clone cache per pipeline: it holds the entries' locks until the run is published
        // (dropped with `options.remotes` and `cache` at the end of this iteration).
        let cache = CloneCache::new(clone_options.clone());
        options.remotes = Some(Arc::clone(&cache));
        let (tx, rx) = mpsc::channel();
        let observer = ChannelObserver {
            tx: Mutex::new(tx),
            verbose,
            ci,
            progress: show_progress || ci,
        };
        let mut progress = show_progress.then(Progress::new);
        let mut counts = Counts::default();
        let mut last_line = std::time::Instant::now();
        let result = std::thread::scope(|s| {
            let worker = s.spawn(|| {
                let _close = CloseOnDrop(&observer);
                crate::exec::run(&plan, &options, &observer, interrupt)
            });
            for event in rx.iter() {
                counts.add(&event);
                match (&mut progress, event) {
                    (Some(p), event) => p.handle(&event),
                    (None, Event::Line(line)) => {
                        progress_line(out, &line, json_logs);
                    }
                    (None, _) => {
                        // In CI: a plain progress line now and then instead of a bar.
                        if ci && last_line.elapsed() >= CI_PROGRESS_EVERY {
                            last_line = std::time::Instant::now();
                            progress_line(out, &format!("progress: {counts}"), json_logs);
                        }
                    }
                }
            }
            if let Some(p) = &progress {
                p.bar.finish_and_clear();
            }
            worker.join()
        });
        let mut report = match result {
            Ok(r) => r?,
            Err(_) => {
                return Err(CliError::RunInternal.into());
            }
        };
        report.warn_unmatched_files(
            pipeline
                .tasks
                .iter()
                .filter(|t| t.files.is_some())
                .map(|t| t.name.as_str()),
        );
        if !interrupt.load(Ordering::SeqCst) {
            crate::exec::publish(pipeline, &mut report, &targets, &publish_options(&cache))?;
        }
        options.remotes = None;
        reports.push(report);
        if interrupt.load(Ordering::SeqCst) {
            break;
        }
    }
    print_reports(&reports, mode, global.json, quiet, true, out);
    Ok(Exit::worst(reports.iter().map(|r| r.exit_code)))
}

/// One progress line on stderr: `codefleet: …`, or with `--log-format json` a JSON object
/// shaped like the log records (`level`, `fields.message`, `target`).
fn progress_line(out: &mut Out<'_>, line: &str, json: bool) {
    let _ = if json {
        let record = serde_json::json!({
            "level": "INFO",
            "fields": { "message": redact(line) },
            "target": "codefleet::progress",
        });
        writeln!(out.stderr, "{record}")
    } else {
        writeln!(out.stderr, "codefleet: {line}")
    };
    let _ = out.stderr.flush();
}

/// Fills what the pipeline leaves to the settings: the run branch (`default_branch_template`),
/// the commit author (`author`), and the model defaults ([`ModelDefaults::apply`]). A
/// pipeline's own `branch:`, `commit.author` and `model:` always win.
pub(super) fn with_settings(pipeline: &mut Pipeline, settings: &Settings) -> Result<(), Error> {
    use crate::pipeline::{Author, Scope, Template};
    let setting_error = |key: &str, source: &crate::settings::Source, what: String| {
        Error::from(CliError::Setting {
            key: key.to_string(),
            origin: source.to_string(),
            env: matches!(source, crate::settings::Source::Env(_)),
            what,
        })
    };
    if !pipeline.explicit.branch {
        let v = &settings.default_branch_template;
        let template =
            Template::parse_and_check(&v.value, Scope::REPO, &pipeline.vars).map_err(|errors| {
                let first = errors.first();
                let what = first.map(|e| e.message.clone()).unwrap_or_default();
                let hint = first.and_then(|e| e.hint.clone()).unwrap_or_default();
                setting_error("default_branch_template", &v.source, what).hint(format!(
                    "{hint}{}set `branch:` in the pipeline `{}`, or change the setting",
                    if hint.is_empty() { "" } else { "; or " },
                    pipeline.name
                ))
            })?;
        pipeline.branch = template;
    }
    if !pipeline.explicit.author {
        let v = &settings.author;
        pipeline.commit.author = Author::parse(&v.value).ok_or_else(|| {
            setting_error(
                "author",
                &v.source,
                format!("`{}` is not `Name <email>`", v.value),
            )
            .hint("write it like `codefleet <codefleet@localhost>`")
        })?;
    }
    ModelDefaults::from_settings(settings).apply(pipeline);
    Ok(())
}

/// Prints reports: JSON or the summary (with diffs for a dry run), the Markdown step summary
/// when `GITHUB_STEP_SUMMARY` is set, and, with `annotate`, annotations under GitHub Actions.
pub(super) fn print_reports(
    reports: &[RunReport],
    mode: Mode,
    json: bool,
    quiet: bool,
    annotate: bool,
    out: &mut Out<'_>,
) {
    if json {
        // Serialised from the structs, so fields keep their documented order.
        // One document, whatever the number of pipelines (`codefleet schema --report`).
        let document = RunReport::combine(reports.to_vec());
        if let Some(Ok(text)) = document.as_ref().map(serde_json::to_string_pretty) {
            // Reports quote model answers, command output and error text: no key or token
            // leaves through them.
            let _ = writeln!(out.stdout, "{}", redact(&text));
        }
    } else {
        let color = out.color && std::io::IsTerminal::is_terminal(&std::io::stdout());
        for r in reports {
            if mode == Mode::DryRun {
                for repo in &r.repos {
                    for task in &repo.tasks {
                        for file in &task.files {
                            if let Some(diff) = &file.diff {
                                let label = format!("# {} · {}\n", repo.path, task.name);
                                let _ = out.stdout.write_all(label.as_bytes());
                                let _ = out
                                    .stdout
                                    .write_all(report::paint_diff(diff, color).as_bytes());
                            }
                        }
                    }
                }
            }
            if quiet {
                // Only errors: the failures, on stderr.
                for line in report::problems(r) {
                    let _ = writeln!(out.stderr, "{}", redact(&line));
                }
            } else {
                let _ = out
                    .stdout
                    .write_all(redact(&report::summary_table(r, out.color)).as_bytes());
            }
        }
    }
    if let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) {
        let text: String = reports.iter().map(report::markdown).collect();
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(redact(&text).as_bytes()));
        if let Err(e) = written {
            out.error(&Error::io(&path, &e).exit(Exit::Failed));
        }
    }
    if annotate && std::env::var_os("GITHUB_ACTIONS").is_some_and(|v| v == "true") {
        for r in reports {
            let _ = out
                .stderr
                .write_all(redact(&report::annotations(r)).as_bytes());
        }
    }
}

/// The token for https remotes and the GitHub API: the variable `github.token_env` names
/// (default GITHUB_TOKEN), else GH_TOKEN (the GitHub CLI's), else GITHUB_TOKEN.
pub(super) fn token(settings: &Settings) -> Option<Secret> {
    [
        settings.github_token_env.value.as_str(),
        "GH_TOKEN",
        "GITHUB_TOKEN",
    ]
    .iter()
    .find_map(|var| std::env::var(var).ok().and_then(Secret::new))
}

/// `github.api_url`; when left at its default, GITHUB_API_URL as GitHub Actions sets it (on
/// GitHub Enterprise it names the server's API).
pub(super) fn github_api_url(settings: &Settings) -> String {
    if settings.github_api_url.source == crate::settings::Source::Default
        && let Some(url) = std::env::var("GITHUB_API_URL")
            .ok()
            .filter(|u| u.starts_with("http"))
    {
        return url;
    }
    settings.github_api_url.value.clone()
}
