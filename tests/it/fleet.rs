//! The fleet as a state machine (`proptest-state-machine`): two repositories, each a bare
//! `origin`, the user's checkout (with uncommitted work in it) and colleagues who push to the
//! run branch or to `main`; random sequences of runs of two pipelines sharing one `branch:`,
//! with and without `--push` and `--force`, fetches, pulls, rollbacks of runs and tasks,
//! SIGKILL at a random moment and two runs at once. After every step the `git` binary checks
//! what a fleet owner relies on (see `check_invariants`). `FLEET_CASES=N` runs N sequences
//! (default: a CI-sized 8); shrunk failures become the named tests at the end.

use crate::support::fixture;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use fixture::{Fixture, text};
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use serde_json::Value;

const REPOS: usize = 2;
const BRANCH: &str = "codefleet/greet";

/// Two pipelines on the same branch: `greet` (two tasks, so a task can be rolled back) and
/// `other`, whose commits `greet` must not silently replace, nor the other way round.
const PIPELINES: [(&str, &str); 2] = [
    (
        "greet",
        "version: 1\nname: greet\nbranch: codefleet/greet\ntasks:\n  - name: shout\n    \
         files: [\"*.txt\"]\n    replace: { find: hello, with: HELLO }\n  - name: capital\n    \
         files: [\"*.txt\"]\n    replace: { find: world, with: World }\n",
    ),
    (
        "other",
        "version: 1\nname: other\nbranch: codefleet/greet\ntasks:\n  - name: whisper\n    \
         files: [\"*.txt\"]\n    replace: { find: world, with: there }\n",
    ),
];

#[derive(Debug, Clone)]
enum Step {
    /// `codefleet run` of a pipeline over both repositories.
    Run {
        pipeline: usize,
        push: bool,
        force: bool,
    },
    /// A colleague pushes a commit of their own onto the remote run branch (when it exists).
    ColleagueOnRunBranch { repo: usize },
    /// A colleague pushes to `main`: a new file, or the pipeline's change itself (it "lands").
    ColleagueOnMain { repo: usize, lands: bool },
    /// The user fetches in every checkout.
    Fetch,
    /// The user pulls `main` in every checkout (the base moves).
    Pull,
    /// `codefleet rollback` of the `pick`-th run in `runs`, or of its first task.
    Rollback {
        repo: usize,
        pick: usize,
        task: bool,
    },
    /// A run killed with SIGKILL after `after_ms`.
    Kill {
        pipeline: usize,
        push: bool,
        after_ms: u64,
    },
    /// Two runs at the same time.
    Concurrent { pipelines: (usize, usize) },
}

/// The model: what the sequence has done so far, which the generator reads to keep steps
/// meaningful (a rollback needs a run, a colleague's run-branch commit a pushed branch).
#[derive(Debug, Clone, Default)]
struct Model {
    runs: usize,
    pushed: bool,
}

struct Fleet;

impl ReferenceStateMachine for Fleet {
    type State = Model;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<Model> {
        Just(Model::default()).boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Step> {
        let repo = 0..REPOS;
        let run = (0..2usize, any::<bool>(), prop::bool::weighted(0.15)).prop_map(
            |(pipeline, push, force)| Step::Run {
                pipeline,
                push,
                force,
            },
        );
        let mut steps = vec![
            (6, run.boxed()),
            (
                2,
                (repo.clone(), any::<bool>())
                    .prop_map(|(repo, lands)| Step::ColleagueOnMain { repo, lands })
                    .boxed(),
            ),
            (2, Just(Step::Fetch).boxed()),
            (2, Just(Step::Pull).boxed()),
            (
                1,
                (0..2usize, any::<bool>(), 0..120u64)
                    .prop_map(|(pipeline, push, after_ms)| Step::Kill {
                        pipeline,
                        push,
                        after_ms,
                    })
                    .boxed(),
            ),
            (
                1,
                (0..2usize, 0..2usize)
                    .prop_map(|pipelines| Step::Concurrent { pipelines })
                    .boxed(),
            ),
        ];
        if state.pushed {
            steps.push((
                3,
                repo.clone()
                    .prop_map(|repo| Step::ColleagueOnRunBranch { repo })
                    .boxed(),
            ));
        }
        if state.runs > 0 {
            steps.push((
                2,
                (repo, 0..3usize, any::<bool>())
                    .prop_map(|(repo, pick, task)| Step::Rollback { repo, pick, task })
                    .boxed(),
            ));
        }
        prop::strategy::Union::new_weighted(steps).boxed()
    }

    fn apply(mut state: Model, step: &Step) -> Model {
        match step {
            Step::Run { push, .. } | Step::Kill { push, .. } => {
                state.runs += 1;
                state.pushed |= *push;
            }
            Step::Concurrent { .. } => state.runs += 1,
            _ => {}
        }
        state
    }
}

/// The real fleet.
struct World {
    f: Fixture,
    bare: Vec<PathBuf>,
    checkout: Vec<PathBuf>,
    pipelines: Vec<PathBuf>,
    /// Commits people made that must stay reachable from some ref of the remote or of the
    /// user's checkout (a `--force` run releases the ones it replaced).
    precious: BTreeSet<String>,
    made: usize,
    /// What happened, for the failure message.
    log: Vec<String>,
}

/// What the user has in a checkout: HEAD, the index, and every file's bytes.
#[derive(Debug, PartialEq, Eq)]
struct Desk {
    head: String,
    index: String,
    files: BTreeMap<String, Vec<u8>>,
}

impl World {
    fn new() -> World {
        let f = Fixture::new();
        let mut w = World {
            bare: Vec::new(),
            checkout: Vec::new(),
            pipelines: Vec::new(),
            precious: BTreeSet::new(),
            made: 0,
            log: Vec::new(),
            f,
        };
        for k in 0..REPOS {
            let seed = w.f.repo(
                &format!("seed{k}"),
                &[
                    ("a.txt", "hello world\n"),
                    ("c.txt", "tracked\n"),
                    ("d.txt", "hello again\n"),
                ],
            );
            let bare = w.f.path(&format!("srv/r{k}.git"));
            std::fs::create_dir_all(w.f.path("srv")).expect("srv");
            w.f.git(
                w.f.dir.path(),
                &["clone", "-q", "--bare", s(&seed), s(&bare)],
            );
            let checkout = w.f.path(&format!("r{k}"));
            w.f.git(w.f.dir.path(), &["clone", "-q", s(&bare), s(&checkout)]);
            // Uncommitted work: a modified tracked file, a staged new one, an untracked one.
            std::fs::write(checkout.join("c.txt"), "my edit\n").expect("write");
            std::fs::write(checkout.join("s.txt"), "staged\n").expect("write");
            w.f.git(&checkout, &["add", "s.txt"]);
            std::fs::write(checkout.join("u.txt"), "untracked hello\n").expect("write");
            w.bare.push(bare);
            w.checkout.push(checkout);
        }
        for (name, yaml) in PIPELINES {
            let p = w.f.path(&format!("pipelines/{name}.yml"));
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(&p, yaml).expect("pipeline");
            w.pipelines.push(p);
        }
        w
    }

    fn git(&self, dir: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new("git");
        self.f.env(&mut cmd);
        cmd.args(args).current_dir(dir).output().expect("git")
    }

    fn line(&self, dir: &Path, args: &[&str]) -> Option<String> {
        let out = self.git(dir, args);
        out.status
            .success()
            .then(|| text(&out.stdout).trim().to_string())
    }

    fn tip(&self, dir: &Path, refname: &str) -> Option<String> {
        self.line(dir, &["rev-parse", "--verify", "-q", refname])
    }

    fn codefleet(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.f.env(&mut cmd);
        cmd.args(args).current_dir(self.f.dir.path());
        cmd
    }

    fn run_args(&self, pipeline: usize, push: bool, force: bool) -> Vec<String> {
        let mut args = vec!["run".to_string(), s(&self.pipelines[pipeline]).to_string()];
        for c in &self.checkout {
            args.push("--repo".into());
            args.push(s(c).to_string());
        }
        args.push("--json".into());
        if push {
            args.push("--push".into());
        }
        if force {
            args.push("--force".into());
        }
        args
    }

    fn desk(&self, repo: usize) -> Desk {
        let dir = &self.checkout[repo];
        let mut files = BTreeMap::new();
        for entry in std::fs::read_dir(dir).expect("ls").flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name != ".git" {
                files.insert(name, std::fs::read(entry.path()).expect("read"));
            }
        }
        Desk {
            head: format!(
                "{} {}",
                self.line(dir, &["symbolic-ref", "HEAD"])
                    .unwrap_or_default(),
                self.tip(dir, "HEAD").unwrap_or_default()
            ),
            index: self.line(dir, &["ls-files", "-s"]).unwrap_or_default(),
            files,
        }
    }

    fn desks(&self) -> Vec<Desk> {
        (0..REPOS).map(|k| self.desk(k)).collect()
    }

    /// A commit by a colleague on `branch` of repository `repo`'s remote, through a scratch
    /// clone that is gone afterwards (so only the remote and the user can still hold it).
    fn colleague(
        &mut self,
        repo: usize,
        branch: &str,
        write: impl FnOnce(&Path),
    ) -> Option<String> {
        let scratch = tempfile::tempdir_in(self.f.dir.path()).expect("scratch");
        let c = scratch.path().join("c");
        self.f
            .git(scratch.path(), &["clone", "-q", s(&self.bare[repo]), s(&c)]);
        self.tip(&c, &format!("refs/remotes/origin/{branch}"))?;
        self.f.git(
            &c,
            &["checkout", "-q", "-B", branch, &format!("origin/{branch}")],
        );
        write(&c);
        self.f.git(&c, &["add", "-A"]);
        self.made += 1;
        self.f.git(
            &c,
            &["commit", "-q", "-m", &format!("colleague {}", self.made)],
        );
        let out = self.git(&c, &["push", "-q", "origin", branch]);
        assert!(out.status.success(), "push: {}", text(&out.stderr));
        self.tip(&c, "HEAD")
    }

    /// Every ref tip of the remote and the user's checkout of `repo`.
    fn reachable(&self, repo: usize, commit: &str) -> bool {
        [&self.bare[repo], &self.checkout[repo]].iter().any(|dir| {
            self.line(dir, &["for-each-ref", "--contains", commit])
                .is_some_and(|l| !l.is_empty())
        })
    }

    fn which_repo(&self, commit: &str) -> Option<usize> {
        (0..REPOS).find(|k| {
            self.git(
                &self.bare[*k],
                &["cat-file", "-e", &format!("{commit}^{{commit}}")],
            )
            .status
            .success()
        })
    }

    /// Whether a non-forced run of `pipeline` must stop in `repo`: the fetched remote run
    /// branch holds a colleague's commit, or the run branch holds another pipeline's commits.
    fn must_stop(&self, repo: usize, pipeline: usize) -> bool {
        let dir = &self.checkout[repo];
        let tracking = format!("refs/remotes/origin/{BRANCH}");
        let foreign_fetched = self.tip(dir, &tracking).is_some_and(|_| {
            self.precious.iter().any(|c| {
                self.git(dir, &["merge-base", "--is-ancestor", c, &tracking])
                    .status
                    .success()
                    && !self
                        .git(dir, &["merge-base", "--is-ancestor", c, "HEAD"])
                        .status
                        .success()
            })
        });
        let mine = PIPELINES[pipeline].0;
        let owners = |revs: &[&str]| -> Vec<String> {
            let mut args = vec![
                "log",
                "--format=%(trailers:key=Codefleet-Pipeline,valueonly)",
                "^HEAD",
            ];
            args.extend_from_slice(revs);
            self.line(dir, &args)
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        };
        let local = format!("refs/heads/{BRANCH}");
        let local_tip = self.tip(dir, &local);
        let other_local = local_tip.is_some() && owners(&[&local]).iter().any(|o| o != mine);
        // The remote's branch as fetched, beyond what the local branch holds.
        let not_local = format!("^{local}");
        let fetched = self.tip(dir, &tracking);
        let other_fetched = fetched.is_some()
            && fetched != local_tip
            && owners(&if local_tip.is_some() {
                vec![tracking.as_str(), &not_local]
            } else {
                vec![tracking.as_str()]
            })
            .iter()
            .any(|o| o != mine);
        foreign_fetched || other_local || other_fetched
    }

    fn step(&mut self, step: &Step) {
        self.log.push(format!("{step:?}"));
        match step {
            Step::Run {
                pipeline,
                push,
                force,
            } => self.run(*pipeline, *push, *force),
            Step::ColleagueOnRunBranch { repo } => {
                let n = self.made;
                if let Some(c) = self.colleague(*repo, BRANCH, |dir| {
                    std::fs::write(dir.join(format!("theirs{n}.md")), "theirs\n").expect("write")
                }) {
                    self.precious.insert(c);
                }
            }
            Step::ColleagueOnMain { repo, lands } => {
                let n = self.made;
                let lands = *lands;
                let c = self.colleague(*repo, "main", |dir| {
                    // Always something to commit, even when the change had landed already.
                    std::fs::write(dir.join(format!("note{n}.md")), "note\n").expect("write");
                    if lands {
                        let a = std::fs::read_to_string(dir.join("a.txt")).expect("a.txt");
                        std::fs::write(dir.join("a.txt"), a.replace("hello", "HELLO"))
                            .expect("write");
                    } else {
                        std::fs::write(dir.join(format!("b{n}.txt")), "hello b\n").expect("write");
                    }
                });
                self.precious.extend(c);
            }
            Step::Fetch => {
                for dir in &self.checkout {
                    let out = self.git(dir, &["fetch", "-q", "origin"]);
                    assert!(out.status.success(), "fetch: {}", text(&out.stderr));
                }
            }
            Step::Pull => {
                for dir in &self.checkout {
                    let out = self.git(dir, &["pull", "-q", "--ff-only"]);
                    assert!(out.status.success(), "pull: {}", text(&out.stderr));
                }
            }
            Step::Rollback { repo, pick, task } => self.rollback(*repo, *pick, *task),
            Step::Kill {
                pipeline,
                push,
                after_ms,
            } => {
                let desks = self.desks();
                let args = self.run_args(*pipeline, *push, false);
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                let mut child = self
                    .codefleet(&args)
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .expect("spawn");
                // Where the kill lands is wherever the run happens to be; nothing is timed.
                std::thread::sleep(std::time::Duration::from_millis(*after_ms));
                let _ = child.kill();
                let _ = child.wait();
                assert_eq!(
                    self.desks(),
                    desks,
                    "a killed run changed the user's checkout"
                );
            }
            Step::Concurrent { pipelines } => {
                let desks = self.desks();
                let spawn = |p: usize| {
                    let args = self.run_args(p, false, false);
                    let args: Vec<&str> = args.iter().map(String::as_str).collect();
                    self.codefleet(&args)
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .spawn()
                        .expect("spawn")
                };
                let a = spawn(pipelines.0);
                let b = spawn(pipelines.1);
                for out in [a, b].map(|c| c.wait_with_output().expect("wait")) {
                    let report = report_of(&out);
                    check_exit(&out, &report);
                }
                assert_eq!(
                    self.desks(),
                    desks,
                    "concurrent runs changed the user's checkout"
                );
            }
        }
    }

    fn run(&mut self, pipeline: usize, push: bool, force: bool) {
        let desks = self.desks();
        let stops: Vec<bool> = (0..REPOS).map(|k| self.must_stop(k, pipeline)).collect();
        let remote_before: Vec<Option<String>> = (0..REPOS)
            .map(|k| self.tip(&self.bare[k], &format!("refs/heads/{BRANCH}")))
            .collect();
        let local_before: Vec<Option<String>> = (0..REPOS)
            .map(|k| self.tip(&self.checkout[k], &format!("refs/heads/{BRANCH}")))
            .collect();
        let args = self.run_args(pipeline, push, force);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = self.codefleet(&args).output().expect("run codefleet");
        let report = report_of(&out);
        check_exit(&out, &report);
        assert_eq!(self.desks(), desks, "the run changed the user's checkout");
        for (k, r) in report["repos"]
            .as_array()
            .expect("repos")
            .iter()
            .enumerate()
        {
            let status = r["status"].as_str().unwrap_or_default();
            let local = self.tip(&self.checkout[k], &format!("refs/heads/{BRANCH}"));
            let remote = self.tip(&self.bare[k], &format!("refs/heads/{BRANCH}"));
            if !force {
                assert_eq!(
                    status == "skipped",
                    stops[k],
                    "repo {k}: skipped exactly when the branch holds what is not this \
                     pipeline's: {r}"
                );
            }
            if status == "skipped" {
                assert_eq!(
                    local, local_before[k],
                    "a skipped repository's branch moved"
                );
                assert_eq!(remote, remote_before[k], "a skipped repository was pushed");
                continue;
            }
            assert_eq!(
                r["tip"].as_str().map(str::to_string),
                local,
                "the report's tip is the branch's: {r}"
            );
            for t in r["tasks"].as_array().into_iter().flatten() {
                if let Some(c) = t["commit"].as_str() {
                    let ok = self
                        .git(
                            &self.checkout[k],
                            &["merge-base", "--is-ancestor", c, BRANCH],
                        )
                        .status
                        .success();
                    assert!(ok, "task commit {c} is not on the branch: {r}");
                }
            }
            match r["publish"]["push"].as_str() {
                Some("pushed" | "up_to_date") => {
                    assert_eq!(remote, local, "pushed, but the remote is elsewhere: {r}")
                }
                Some("refused" | "failed" | "not_pushed") => {
                    assert_eq!(remote, remote_before[k], "not pushed, but it moved: {r}")
                }
                Some(other) => panic!("push status {other}: {r}"),
                None => {
                    assert!(!push || local.is_none(), "--push said nothing: {r}");
                    assert_eq!(remote, remote_before[k], "pushed without --push");
                }
            }
        }
        if force {
            // `--force` may replace what others made; what it replaced is released.
            let gone: Vec<String> = self
                .precious
                .iter()
                .filter(|c| self.which_repo(c).is_none_or(|k| !self.reachable(k, c)))
                .cloned()
                .collect();
            for c in gone {
                self.precious.remove(&c);
            }
        }
    }

    fn rollback(&mut self, repo: usize, pick: usize, task: bool) {
        let dir = self.checkout[repo].clone();
        let out = self
            .codefleet(&["runs", "--json", "--repo", s(&dir)])
            .output()
            .expect("runs");
        assert!(out.status.success(), "runs: {}", text(&out.stderr));
        let runs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("runs json");
        let Some(run) = runs.get(pick % runs.len().max(1)) else {
            return;
        };
        let id = run["run_id"].as_str().expect("id").to_string();
        let desks = self.desks();
        let before = self.tip(&dir, &format!("refs/heads/{BRANCH}"));
        let mut args = vec!["rollback", id.as_str(), "--repo", s(&dir)];
        let first_task = run["tasks"]
            .as_array()
            .and_then(|t| t.iter().find(|t| t["commit"].is_string()))
            .and_then(|t| t["name"].as_str())
            .map(str::to_string);
        if task && let Some(name) = &first_task {
            args.extend(["--task", name.as_str()]);
        }
        let out = self.codefleet(&args).output().expect("rollback");
        assert_eq!(
            self.desks(),
            desks,
            "the rollback changed the user's checkout"
        );
        let after = self.tip(&dir, &format!("refs/heads/{BRANCH}"));
        let code = out.status.code();
        assert!(
            matches!(code, Some(0..=2)),
            "rollback exit {code:?}: {}",
            text(&out.stderr)
        );
        if code == Some(0) {
            assert_ne!(before, after, "a rollback that succeeded moved nothing");
        } else {
            assert_eq!(before, after, "a refused rollback moved the branch");
        }
        // The newest run, where codefleet left the branch, can always be taken back.
        let expected = expected_tip(run);
        let newest = pick.is_multiple_of(runs.len());
        let untouched = run["rollbacks"].as_array().is_none_or(Vec::is_empty);
        let moved = expected != run["previous_tip"].as_str().map(str::to_string);
        if newest && untouched && moved && expected == before && !(task && first_task.is_none()) {
            assert_eq!(
                code,
                Some(0),
                "the newest run could not be rolled back: {}{}",
                text(&out.stdout),
                text(&out.stderr)
            );
            if !task {
                assert_eq!(
                    after,
                    run["previous_tip"].as_str().map(str::to_string),
                    "the rollback did not restore the tip before the run"
                );
            }
        }
    }
}

/// Where a journaled run left its branch (as `RunRecord::expected_tip`).
fn expected_tip(run: &Value) -> Option<String> {
    let s = |v: &Value| v.as_str().map(str::to_string);
    if let Some(last) = run["rollbacks"].as_array().and_then(|r| r.last()) {
        return s(&last["to"]);
    }
    s(&run["tip"])
        .or_else(|| {
            run["tasks"]
                .as_array()
                .and_then(|t| t.iter().rev().find_map(|t| s(&t["commit"])))
        })
        .or_else(|| s(&run["previous_tip"]))
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf8 path")
}

fn report_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not a JSON report ({e}), exit {:?}: {}{}",
            out.status.code(),
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

/// The exit code is non-zero exactly when the report says something failed.
fn check_exit(out: &Output, report: &Value) {
    let repos = report["repos"].as_array().expect("repos");
    let failed = repos.iter().any(|r| {
        matches!(
            r["status"].as_str(),
            Some("failed" | "skipped" | "interrupted")
        ) || matches!(r["publish"]["push"].as_str(), Some("refused" | "failed"))
    });
    let code = out.status.code();
    assert_eq!(
        code,
        Some(if failed { 1 } else { 0 }),
        "exit code against the report: {report}\n{}",
        text(&out.stderr)
    );
    assert_eq!(report["exit_code"].as_i64(), code.map(i64::from));
}

impl StateMachineTest for World {
    type SystemUnderTest = World;
    type Reference = Fleet;

    fn init_test(_: &Model) -> World {
        World::new()
    }

    fn apply(mut world: World, _: &Model, step: Step) -> World {
        world.step(&step);
        world
    }

    fn check_invariants(world: &World, _: &Model) {
        for c in &world.precious {
            let repo = world.which_repo(c).expect("a precious commit's repository");
            assert!(
                world.reachable(repo, c),
                "commit {c} someone else made is gone from every ref, without --force; steps: {:#?}",
                world.log
            );
        }
        for k in 0..REPOS {
            for dir in [&world.bare[k], &world.checkout[k]] {
                let out = world.git(dir, &["fsck", "--full", "--no-dangling", "--no-progress"]);
                assert!(
                    out.status.success(),
                    "git fsck in {}: {}{}",
                    dir.display(),
                    text(&out.stdout),
                    text(&out.stderr)
                );
            }
            // Every state the journal knows still exists, so rollback can reach it.
            let out = world
                .codefleet(&["runs", "--json", "--repo", s(&world.checkout[k])])
                .output()
                .expect("runs");
            assert!(out.status.success(), "runs: {}", text(&out.stderr));
            let runs: Vec<Value> = serde_json::from_slice(&out.stdout).expect("runs json");
            for run in &runs {
                let mut ids: Vec<&str> = vec![run["base"].as_str().unwrap_or_default()];
                ids.extend(run["previous_tip"].as_str());
                ids.extend(run["tip"].as_str());
                for t in run["tasks"].as_array().into_iter().flatten() {
                    ids.extend(t["commit"].as_str());
                }
                for id in ids {
                    let ok = world
                        .git(
                            &world.checkout[k],
                            &["cat-file", "-e", &format!("{id}^{{commit}}")],
                        )
                        .status
                        .success();
                    assert!(ok, "run {} names {id}, which is gone", run["run_id"]);
                }
            }
        }
    }
}

fn cases() -> u32 {
    std::env::var("FLEET_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(8)
}

prop_state_machine! {
    #![proptest_config(Config {
        cases: cases(),
        max_shrink_iters: 200,
        failure_persistence: None,
        .. Config::default()
    })]

    #[test]
    fn the_fleet_keeps_its_promises_over_random_sequences(sequential 1..14 => World);
}

/// One fixed sequence, checked as the state machine checks a random one.
fn replay(steps: &[Step]) {
    let model = Model::default();
    let mut world = World::new();
    World::check_invariants(&world, &model);
    for step in steps {
        world.step(step);
        World::check_invariants(&world, &model);
    }
}

fn run(pipeline: usize, push: bool, force: bool) -> Step {
    Step::Run {
        pipeline,
        push,
        force,
    }
}

/// Issue 14's bug 1: the lease took the remote-tracking ref, which the fetch had moved onto the
/// colleague's commit, and the push replaced it.
#[test]
fn a_colleagues_fetched_commit_on_the_run_branch_survives_the_next_push() {
    replay(&[
        run(0, true, false),
        Step::ColleagueOnRunBranch { repo: 0 },
        Step::Fetch,
        Step::ColleagueOnMain {
            repo: 0,
            lands: false,
        },
        Step::Pull,
        run(0, true, false),
    ]);
}

/// Found shrunk with the lease of bug 1 put back: another pipeline's branch, forced over
/// locally, then a colleague's commit on the remote branch, a fetch, and a push.
#[test]
fn a_colleagues_commit_survives_a_push_after_another_pipeline_was_forced_over_the_branch() {
    replay(&[
        run(0, true, false),
        run(1, false, true),
        Step::ColleagueOnRunBranch { repo: 0 },
        Step::Fetch,
        run(1, true, false),
    ]);
}

/// Found shrunk with the check of the fetched branch taken out: a branch another pipeline
/// pushed stops a run of this one until `--force`.
#[test]
fn a_branch_another_pipeline_pushed_stops_the_next_run_until_forced() {
    replay(&[
        run(0, true, false),
        run(1, false, true),
        run(1, false, false),
    ]);
}

/// Issue 14's bug 10: the change lands upstream, the re-run moves the branch back to the base,
/// and that run is the newest one `rollback` must be able to take back.
#[test]
fn a_branch_reset_because_the_change_landed_is_rolled_back_by_its_run() {
    replay(&[
        run(0, true, false),
        Step::ColleagueOnMain {
            repo: 1,
            lands: true,
        },
        Step::Pull,
        run(0, true, false),
        Step::Rollback {
            repo: 1,
            pick: 0,
            task: false,
        },
        run(0, true, false),
    ]);
}
