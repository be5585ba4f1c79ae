//! One run: every repository in parallel on a dedicated pool, its tasks in order over an
//! in-memory overlay of the base tree, each changing task committed from objects, and the run
//! branch moved once at the end with compare-and-swap. Failures are results; the user's
//! working tree, index and HEAD are left alone (unless `checkout`).

use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::Error;
use crate::git::{self, Base, Repo};
use crate::report::{RepoReport, RepoStatus, RunReport};

use super::model as model_tasks;
use super::observer::Observer;
use super::planned::{Plan, RepoPlan, Target};
use super::pool::{Unit, pool, run_units};
use super::repo_run::{RepoRun, Where};
use super::run_ctx::RunCtx;
use super::shell::Gate;

pub use super::run_ctx::RunOptions;

/// Runs `plan` (see `codefleet::plan::build`): each repository as the plan names, bases and
/// branches it, and reports what happened.
/// Workers report progress to `observer`; once `interrupt` is set, no new file, task or
/// repository starts, unfinished tasks write nothing, and the report says so. Errors are
/// only for a run that cannot start (the worker pool); everything else is in the report.
///
/// A pipeline built in code, run with an observer of one's own:
///
/// ```
/// use std::sync::Mutex;
/// use std::sync::atomic::AtomicBool;
/// use codefleet::exec::{Observer, RunOptions, run};
/// use codefleet::pipeline::{Pipeline, Replace, Task, TaskKind};
/// use codefleet::plan::{PlanOptions, Target, build};
/// use codefleet::report::{Mode, TaskReport};
///
/// // A repository with one commit.
/// let dir = tempfile::tempdir().unwrap();
/// let repo = git2::Repository::init(dir.path()).unwrap();
/// std::fs::write(dir.path().join("a.txt"), "hello world\n").unwrap();
/// let mut index = repo.index().unwrap();
/// index.add_path("a.txt".as_ref()).unwrap();
/// let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
/// let sig = git2::Signature::now("me", "me@example.com").unwrap();
/// repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[]).unwrap();
///
/// /// Collects the names of finished tasks.
/// #[derive(Default)]
/// struct Tasks(Mutex<Vec<String>>);
/// impl Observer for Tasks {
///     fn task_finished(&self, _repo: &str, task: &TaskReport) {
///         self.0.lock().unwrap().push(task.name.clone());
///     }
/// }
///
/// let shout = Replace::literal("hello", "HELLO").unwrap();
/// let pipeline = Pipeline::new("greet", vec![Task::new("shout", TaskKind::Replace(shout))]);
/// let options = RunOptions { mode: Mode::Run, jobs: 1, ..RunOptions::default() };
/// let targets = [Target::Local(dir.path().to_path_buf())];
/// let plan = build(&pipeline, &targets, &PlanOptions::default());
/// let observer = Tasks::default();
/// let report = run(&plan, &options, &observer, &AtomicBool::new(false)).unwrap();
///
/// assert_eq!(report.exit_code, 0);
/// assert_eq!(report.totals.commits, 1);
/// assert_eq!(*observer.0.lock().unwrap(), ["shout"]);
/// let tip = repo.refname_to_id("refs/heads/codefleet/greet").unwrap();
/// let blob = repo.find_commit(tip).unwrap().tree().unwrap().get_name("a.txt").unwrap().id();
/// assert_eq!(repo.find_blob(blob).unwrap().content(), b"HELLO world\n");
/// ```
pub fn run(
    plan: &Plan,
    options: &RunOptions,
    observer: &dyn Observer,
    interrupt: &AtomicBool,
) -> Result<RunReport, Error> {
    let pipeline = &plan.definition;
    let run_id = plan.run_id.as_str();
    tune_libgit2();
    let workers = pool(options.jobs)?;
    observer.run_started(run_id, plan.repos.len());
    let meter = crate::llm::Meter::new(pipeline.budget, pipeline.model_concurrency.max(1));
    let models = model_tasks::Runtime::new(&options.models, meter, interrupt);
    let gates: Vec<Gate> = pipeline.tasks.iter().map(|_| Gate::default()).collect();
    let ctx = RunCtx {
        pipeline,
        options,
        observer,
        interrupt,
        run_id,
        base: plan.base.as_deref(),
        gates: &gates,
        models: &models,
    };
    if let Some(cache) = &options.remotes {
        cache.start(super::remotes::clone_jobs(plan));
    }
    let units = workers.install(|| run_units(&plan.repos, interrupt, |r| ctx.repo(r)));
    if let Some(cache) = &options.remotes {
        cache.stop();
    }
    let repos: Vec<RepoReport> = units
        .into_iter()
        .zip(&plan.repos)
        .map(|(unit, planned)| {
            let (display, name) = (planned.path.clone(), planned.name.clone());
            let report = match unit {
                Unit::Done(r) => return r,
                Unit::Panicked(msg) => RepoReport {
                    status: RepoStatus::Failed,
                    ..RepoReport::skipped(
                        display,
                        name,
                        format!("internal error (a bug in codefleet): {msg}"),
                    )
                },
                Unit::Interrupted => RepoReport {
                    status: RepoStatus::Interrupted,
                    ..RepoReport::skipped(display, name, "not started: interrupted")
                },
            };
            // The worker reports the repositories it returns; these it never returned.
            observer.repo_finished(&report);
            report
        })
        .collect();
    let interrupted = interrupt.load(Ordering::SeqCst);
    let mut report = RunReport::new(
        run_id.to_string(),
        &pipeline.name,
        options.mode,
        interrupted,
        repos,
    );
    report.dropped = plan.dropped.clone();
    observer.run_finished(&report);
    Ok(report)
}

/// Process-wide libgit2 settings for runs, set once.
fn tune_libgit2() {
    // libgit2 re-hashes every object it reads by default; git itself does not, and on a big
    // run the SHA-1 of each blob read costs a third of the time. Integrity is git fsck's job.
    git2::opts::strict_hash_verification(false);
    // libgit2 maps packs in 1 GiB windows and never unmaps below 8 GiB, so every page a run
    // touches stays resident; smaller windows under a cap keep a big repository's run lean
    // (kernel run: 188 → 100 MB peak RSS).
    static PACK_WINDOWS: std::sync::Once = std::sync::Once::new();
    PACK_WINDOWS.call_once(|| {
        // SAFETY: two word-sized process-wide settings, written once per process through
        // `Once`; libgit2 only reads them when it maps a pack window, and they bound how much
        // it maps, never what it reads.
        unsafe {
            let _ = git2::opts::set_mwindow_size(32 << 20);
            let _ = git2::opts::set_mwindow_mapped_limit(64 << 20);
        }
    });
}

impl RunCtx<'_> {
    fn repo(&self, planned: &RepoPlan) -> RepoReport {
        let report = match self.opened(planned) {
            Ok(r) => r,
            Err(why) => RepoReport::skipped(planned.path.clone(), planned.name.clone(), why),
        };
        self.observer.repo_finished(&report);
        report
    }

    /// Opens the planned repository (a remote one cloned first) at its base, and runs it;
    /// `Err` is why it did not run.
    fn opened(&self, planned: &RepoPlan) -> Result<RepoReport, String> {
        if let Some(why) = &planned.failure {
            return Err(why.clone());
        }
        let branch = planned.branch.as_deref().unwrap_or_default();
        let line = |e: Error| e.one_line();
        match (&planned.target, &planned.start) {
            (Target::Local(path), Some(base)) => {
                let repo = match planned.opened.take() {
                    Some(repo) => repo,
                    None => git::open_named(path).map_err(line)?,
                };
                self.local_repo(repo, base.clone(), planned, false)
                    .map_err(line)
            }
            (Target::Remote(spec), _) => {
                // The entry stays locked while the run works in it. A remote run branch of
                // codefleet's own commits is replaced even if this clone's journal is new.
                let (path, codefleet_only, _lock) =
                    super::remotes::prepared(self.options.remotes.as_ref(), spec, branch)
                        .map_err(line)?;
                let (repo, base) = git::open_based(&path, self.base).map_err(line)?;
                self.local_repo(repo, base, planned, codefleet_only)
                    .map_err(line)
            }
            (Target::Unsupported { reason, .. }, _) => Err(reason.clone()),
            (Target::Local(_), None) => Err("not planned: no base".to_string()),
        }
    }

    /// `remote_checked`: a clone whose remote run branch holds only codefleet's commits.
    fn local_repo(
        &self,
        repo: Repo,
        base: Base,
        planned: &RepoPlan,
        remote_checked: bool,
    ) -> Result<RepoReport, Error> {
        let at = Where {
            repo: &repo,
            name: &planned.name,
            display: &planned.path,
        };
        if let Some(why) = super::ignore::opted_out(&repo, &base, &self.pipeline.name) {
            let report = RepoReport::opted_out(planned.path.clone(), planned.name.clone(), why);
            return Ok(RepoReport {
                base: Some(base.commit),
                ..report
            });
        }
        let branch = planned.branch.as_deref().unwrap_or_default();
        Ok(RepoRun::begin(self, at, &base, branch, remote_checked)?.run())
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Mutex;

    use super::*;
    use crate::pipeline::{Pipeline, Replace, Task, TaskKind};
    use crate::report::{Mode, TaskReport};

    #[derive(Default)]
    struct Log(Mutex<Vec<String>>);

    impl Log {
        fn push(&self, s: String) {
            if let Ok(mut v) = self.0.lock() {
                v.push(s);
            }
        }
    }

    impl Observer for Log {
        fn run_started(&self, _: &str, repos: usize) {
            self.push(format!("run {repos}"));
        }
        fn repo_started(&self, _: &str) {
            self.push("repo".into());
        }
        fn task_started(&self, _: &str, task: &str, files: usize) {
            self.push(format!("task {task} {files}"));
        }
        fn file_done(&self, _: &str, _: &str, path: &str) {
            self.push(format!("file {path}"));
        }
        fn task_finished(&self, _: &str, task: &TaskReport) {
            self.push(format!("done {} {}", task.name, task.files_changed));
        }
        fn repo_finished(&self, repo: &RepoReport) {
            self.push(format!("repo done {:?}", repo.status));
        }
        fn run_finished(&self, report: &RunReport) {
            self.push(format!("run done {}", report.exit_code));
        }
    }

    fn repo_with(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        let repo = git2::Repository::init(dir.path()).unwrap();
        let mut index = repo.index().unwrap();
        for (path, text) in files {
            std::fs::write(dir.path().join(path), text).unwrap();
            index.add_path(Path::new(path)).unwrap();
        }
        let tree = repo.find_tree(index.write_tree().unwrap()).unwrap();
        let sig = git2::Signature::now("t", "t@example.com").unwrap();
        repo.commit(Some("HEAD"), &sig, &sig, "init", &tree, &[])
            .unwrap();
        dir
    }

    /// The plan of `pipeline` over the repository at `dir`, from its HEAD, as `plan::build`
    /// makes it (exec does not call `plan`, so its tests write the value out).
    fn one_repo_plan(pipeline: &Pipeline, dir: &Path) -> Plan {
        let (repo, base) = git::open_based(dir, None).unwrap();
        Plan {
            pipeline: pipeline.name.clone(),
            run_id: "r1".into(),
            base: None,
            repos: vec![RepoPlan {
                path: dir.display().to_string(),
                name: "repo".into(),
                error: None,
                base: Some(base.commit.to_string()),
                branch: Some(format!("codefleet/{}", pipeline.name)),
                note: None,
                tasks: Vec::new(),
                target: Target::Local(dir.to_path_buf()),
                failure: None,
                start: Some(base),
                opened: super::super::Opened::new(repo),
            }],
            dropped: Vec::new(),
            definition: pipeline.clone(),
        }
    }

    #[test]
    fn a_plan_runs_again_after_its_opened_repository_was_taken() {
        let dir = repo_with(&[("a.txt", "x\n")]);
        let task = Task::new("t", TaskKind::Replace(Replace::literal("x", "z").unwrap()));
        let pipeline = Pipeline::new("p", vec![task]);
        let options = RunOptions {
            jobs: 1,
            mode: Mode::DryRun,
            ..RunOptions::default()
        };
        let plan = one_repo_plan(&pipeline, dir.path());
        for round in 0..2 {
            let report = run(&plan, &options, &Log::default(), &AtomicBool::new(false)).unwrap();
            assert_eq!(report.totals.files_changed, 1, "round {round}");
            assert_eq!(report.repos[0].status, RepoStatus::Changed, "round {round}");
        }
        assert!(
            plan.repos[0].opened.take().is_none(),
            "the first run took it"
        );
    }

    #[test]
    fn events_arrive_in_order_and_the_interrupt_flag_stops_everything() {
        let dir = repo_with(&[("a.txt", "x\n"), ("b.txt", "y\n")]);
        let task = Task::new("t", TaskKind::Replace(Replace::literal("x", "z").unwrap()));
        let pipeline = Pipeline::new("p", vec![task.clone(), Task::new("u", task.kind.clone())]);
        let options = RunOptions {
            jobs: 1,
            mode: Mode::DryRun,
            ..RunOptions::default()
        };
        let plan = one_repo_plan(&pipeline, dir.path());
        let log = Log::default();
        let report = run(&plan, &options, &log, &AtomicBool::new(false)).unwrap();
        assert_eq!(report.exit_code, 0);
        let events = log.0.into_inner().unwrap();
        assert_eq!(
            events,
            [
                "run 1",
                "repo",
                "task t 2",
                "file a.txt",
                "file b.txt",
                "done t 1",
                "task u 2",
                "file a.txt",
                "file b.txt",
                "done u 0",
                "repo done Changed",
                "run done 0"
            ]
        );

        let stopped = run(&plan, &options, &Log::default(), &AtomicBool::new(true));
        let stopped = stopped.unwrap();
        assert!(stopped.interrupted);
        assert_eq!(stopped.exit_code, 130);
        assert_eq!(stopped.repos[0].status, RepoStatus::Interrupted);
    }
}
