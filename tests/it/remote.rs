//! Remote repositories against real git servers on 127.0.0.1: bare repositories over
//! `file://`, `git http-backend` behind basic auth (a token), and `git daemon`. Clone, fetch,
//! push, the lease, locks, unreachable and empty repositories, shards and `report merge`; the
//! `git` CLI is the independent witness.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::git_http;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const TOKEN: &str = "ghp_T0pS3cretT0kenForTests0123456789";

impl Fixture {
    /// A bare repository `srv/<name>.git` whose `main` holds `files`.
    fn bare(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let work = self.path(&format!("work/{name}"));
        std::fs::create_dir_all(&work).expect("work dir");
        self.git_line(&work, &["init", "-q", "-b", "main"]);
        for (p, text) in files {
            let p = work.join(p);
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        self.git_line(&work, &["add", "-A"]);
        self.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = self.path(&format!("srv/{name}.git"));
        std::fs::create_dir_all(bare.parent().expect("parent")).expect("srv");
        self.git_line(
            self.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().expect("utf8"),
                bare.to_str().expect("utf8"),
            ],
        );
        bare
    }

    /// A commit on `branch` of the bare repository `bare`, made through a scratch clone.
    fn push_commit(&self, bare: &Path, branch: &str, file: &str, text: &str) -> String {
        let scratch = tempfile::tempdir_in(self.dir.path()).expect("scratch");
        let url = bare.to_str().expect("utf8");
        self.git_line(scratch.path(), &["clone", "-q", url, "c"]);
        let c = scratch.path().join("c");
        let has = self.git_line(
            &c,
            &["ls-remote", "origin", &format!("refs/heads/{branch}")],
        );
        if has.is_empty() {
            self.git_line(&c, &["checkout", "-q", "-b", branch]);
        } else {
            self.git_line(&c, &["checkout", "-q", branch]);
        }
        std::fs::write(c.join(file), text).expect("write");
        self.git_line(&c, &["add", "-A"]);
        self.git_line(&c, &["commit", "-q", "-m", "by hand"]);
        self.git_line(&c, &["push", "-q", "origin", branch]);
        self.git_line(&c, &["rev-parse", "HEAD"])
    }

    fn pipeline(&self, repos: &[String]) -> PathBuf {
        let list: String = repos.iter().map(|u| format!("  - url: {u}\n")).collect();
        let p = self.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &p,
            format!(
                "version: 1\nname: greet\nrepos:\n{list}tasks:\n  - name: shout\n    \
                 replace: {{ find: hello, with: HELLO }}\n"
            ),
        )
        .expect("write pipeline");
        p
    }

    fn run(&self, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        for (k, v) in extra_env {
            cmd.env(k, v);
        }
        cmd.args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("run codefleet")
    }

    fn tip(&self, bare: &Path, branch: &str) -> Option<String> {
        let mut cmd = Command::new("git");
        self.env(&mut cmd);
        let out = cmd
            .args([
                "rev-parse",
                "--verify",
                "-q",
                &format!("refs/heads/{branch}"),
            ])
            .current_dir(bare)
            .output()
            .expect("git");
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
    }

    fn cache_entries(&self, root: &Path) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(root.join("repos"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.retain(|p| p.extension().is_some_and(|e| e == "git"));
        out.sort();
        out
    }
}

fn file_url(p: &Path) -> String {
    format!("file://{}", p.display())
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

#[test]
fn a_file_remote_is_cloned_run_pushed_and_fetched_on_the_next_run() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(&[file_url(&bare)]);
    let out = f.run(&["run", p.to_str().unwrap(), "--push"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let stdout = text(&out.stdout);
    assert!(stdout.contains("svc.git: pushed to file://"), "{stdout}");
    let tip = f.tip(&bare, "codefleet/greet").expect("branch pushed");
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:a.txt")]),
        "HELLO world"
    );
    // The user's base branch is untouched.
    assert_eq!(f.git_line(&bare, &["show", "main:a.txt"]), "hello world");
    let entries = f.cache_entries(&f.path("cache/codefleet"));
    assert_eq!(entries.len(), 1, "one clone in ~/.cache/codefleet/repos");
    // The run's journal lives in the clone's git directory.
    assert!(entries[0].join("codefleet").is_dir());
    std::fs::write(entries[0].join("marker"), "kept").unwrap();

    // A new commit on main: the next run fetches it into the same clone and rebuilds.
    let main = f.push_commit(&bare, "main", "b.txt", "hello again\n");
    let out = f.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        entries[0].join("marker").exists(),
        "the clone was fetched, not re-cloned"
    );
    let report = json(&out);
    assert_eq!(report["repos"][0]["base"], main.as_str());
    assert_eq!(report["repos"][0]["publish"]["push"], "pushed");
    let tip = f.tip(&bare, "codefleet/greet").unwrap();
    assert_eq!(f.git_line(&bare, &["rev-parse", &format!("{tip}^")]), main);
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:b.txt")]),
        "HELLO again"
    );

    // Nothing new: the push finds the remote up to date.
    let out = f.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(json(&out)["repos"][0]["publish"]["push"], "up_to_date");
}

#[test]
fn ref_picks_the_base_branch_and_cache_dir_moves_the_cache() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello main\n")]);
    f.push_commit(&bare, "release", "a.txt", "hello release\n");
    let p = f.path("pipelines/p.yml");
    std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    std::fs::write(
        &p,
        format!(
            "version: 1\nname: greet\nrepos:\n  - url: {}\n    ref: release\ntasks:\n  - name: \
             shout\n    replace: {{ find: hello, with: HELLO }}\n",
            file_url(&bare)
        ),
    )
    .unwrap();
    let cache = f.path("elsewhere");
    let out = f.run(
        &[
            "run",
            p.to_str().unwrap(),
            "--push",
            "--cache-dir",
            cache.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let tip = f.tip(&bare, "codefleet/greet").unwrap();
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:a.txt")]),
        "HELLO release"
    );
    assert_eq!(f.cache_entries(&cache).len(), 1);
    assert!(!f.path("cache/codefleet/repos").exists());
}

#[test]
fn commits_someone_pushed_to_the_run_branch_stop_that_repository() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(&[file_url(&bare)]);
    let out = f.run(&["run", p.to_str().unwrap(), "--push"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Someone adds a commit of their own to the run branch; a fresh machine runs again.
    let theirs = f.push_commit(&bare, "codefleet/greet", "mine.txt", "mine\n");
    std::fs::remove_dir_all(f.path("cache")).unwrap();
    let out = f.run(&["run", p.to_str().unwrap(), "--push"], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("skipped"), "{stdout}");
    assert!(stdout.contains("codefleet did not make"), "{stdout}");
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(theirs.as_str())
    );
}

#[test]
fn a_fresh_cache_runs_again_over_the_branch_codefleet_pushed() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(&[file_url(&bare)]);
    let out = f.run(&["run", p.to_str().unwrap(), "--push"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let first = f.tip(&bare, "codefleet/greet").unwrap();
    // Another CI machine: no cache, so no journal; upstream moved on meanwhile.
    std::fs::remove_dir_all(f.path("cache")).unwrap();
    let main = f.push_commit(&bare, "main", "b.txt", "hello b\n");
    let out = f.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = json(&out);
    assert_eq!(report["repos"][0]["previous_tip"], first.as_str());
    assert_eq!(report["repos"][0]["publish"]["push"], "pushed");
    let tip = f.tip(&bare, "codefleet/greet").unwrap();
    assert_eq!(f.git_line(&bare, &["rev-parse", &format!("{tip}^")]), main);
}

#[test]
fn a_half_clone_left_by_a_killed_run_is_swept_by_the_next_clone_of_that_repository() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let p = f.pipeline(&[file_url(&bare)]);
    let out = f.run(&["run", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let entry = f.cache_entries(&f.path("cache/codefleet")).remove(0);
    let name = entry.file_name().unwrap().to_string_lossy().into_owned();
    // What a process killed in the middle of cloning leaves: a temporary clone holding a lock,
    // for this entry and for another repository's.
    let repos = entry.parent().unwrap();
    let ours = repos.join(format!(".clone-{name}-Xa1b2c"));
    let theirs = repos.join(".clone-other-0123abcd.git-Yd3e4f");
    for dir in [&ours, &theirs] {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("config.lock"), "").unwrap();
    }
    std::fs::remove_dir_all(&entry).unwrap();
    let out = f.run(&["run", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(entry.join("HEAD").is_file(), "cloned again");
    assert!(!ours.exists(), "the stale clone of this entry is gone");
    assert!(
        theirs.join("config.lock").exists(),
        "another entry's clone is not this run's to remove"
    );
}

#[test]
fn the_lease_refuses_to_push_over_a_branch_that_moved_during_the_run() {
    use codefleet::exec::{PublishOptions, RunOptions, Silent, publish, run};
    use codefleet::git::{CloneCache, CloneOptions, Credentials};
    use std::sync::atomic::AtomicBool;

    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    // The run branch exists on the remote from an earlier run of someone else's.
    let earlier = f.push_commit(&bare, "codefleet/greet", "theirs.txt", "theirs\n");
    let pipeline_path = f.pipeline(&[file_url(&bare)]);
    let pipeline = codefleet::pipeline::load(&pipeline_path, &[]).expect("pipeline");
    let targets = codefleet::plan::resolve(&pipeline.repos, &[]).expect("targets");
    let cache = CloneCache::new(CloneOptions {
        cache_dir: f.path("cache"),
        depth: 1,
        jobs: 1,
        credentials: Credentials::default(),
    });
    let options = RunOptions {
        jobs: 1,
        force: true,
        remotes: Some(cache.clone()),
        ..RunOptions::default()
    };
    let plan = codefleet::plan::build(
        &pipeline,
        &targets,
        &codefleet::plan::PlanOptions::default(),
    );
    let mut report = run(&plan, &options, &Silent, &AtomicBool::new(false)).expect("run");
    assert_eq!(
        report.repos[0].status,
        codefleet::report::RepoStatus::Changed
    );
    // While the run worked, the branch moved on the server.
    let moved = f.push_commit(&bare, "codefleet/greet", "late.txt", "late\n");
    assert_ne!(moved, earlier);
    let publish_options = PublishOptions {
        jobs: 1,
        push: true,
        pull_requests: None,
        remotes: Some(cache),
        credentials: Credentials::default(),
        force: false,
        api_forge: None,
    };
    publish(&pipeline, &mut report, &targets, &publish_options).expect("publish");
    let p = report.repos[0].publish.as_ref().expect("published");
    assert_eq!(p.push, codefleet::report::PushStatus::Refused);
    assert!(p.message.as_deref().unwrap_or("").contains("E520"), "{p:?}");
    assert_eq!(report.exit_code, 1);
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(moved.as_str())
    );
}

#[test]
fn unreachable_empty_and_locked_repositories_are_reported_and_the_rest_runs() {
    let f = Fixture::new();
    let good = f.bare("good", &[("a.txt", "hello\n")]);
    let empty = f.path("srv/empty.git");
    f.git_line(
        f.dir.path(),
        &["init", "-q", "--bare", empty.to_str().unwrap()],
    );
    let locked = f.bare("locked", &[("a.txt", "hello\n")]);
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let down = format!("http://127.0.0.1:{port}/gone.git");
    let p = f.pipeline(&[
        file_url(&good),
        down.clone(),
        file_url(&empty),
        file_url(&locked),
    ]);
    let out = f.run(&["run", p.to_str().unwrap(), "--json"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = json(&out);
    // Now another run holds the clone of `locked` (this test process is alive).
    let entry = f
        .cache_entries(&f.path("cache/codefleet"))
        .into_iter()
        .find(|e| {
            e.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("locked-")
        })
        .expect("locked cloned");
    std::fs::write(
        entry.with_extension("lock"),
        format!("{}\n", std::process::id()),
    )
    .unwrap();
    let out = f.run(&["run", p.to_str().unwrap(), "--json", "--push"], &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report2 = json(&out);
    for r in [&report, &report2] {
        assert_eq!(r["repos"][0]["status"], "changed");
        assert_eq!(r["repos"][1]["status"], "skipped");
        assert!(
            r["repos"][1]["message"]
                .as_str()
                .unwrap()
                .contains("cannot reach"),
            "{r}"
        );
        assert_eq!(r["repos"][2]["status"], "skipped");
        assert!(
            r["repos"][2]["message"]
                .as_str()
                .unwrap()
                .contains("empty repository"),
            "{r}"
        );
    }
    assert_eq!(report["repos"][3]["status"], "changed");
    assert_eq!(report2["repos"][3]["status"], "skipped");
    assert!(
        report2["repos"][3]["message"]
            .as_str()
            .unwrap()
            .contains("in use by another codefleet run"),
        "{report2}"
    );
    assert_eq!(report2["repos"][0]["publish"]["push"], "pushed");
    assert!(f.tip(&good, "codefleet/greet").is_some());
    assert!(f.tip(&locked, "codefleet/greet").is_none());
}

#[test]
fn https_with_a_token_clones_shallow_and_pushes_and_the_token_never_shows() {
    let f = Fixture::new();
    let bare = f.bare("acme/svc", &[("a.txt", "hello world\n")]);
    // Two commits, so a shallow clone is visibly shallow.
    f.push_commit(&bare, "main", "b.txt", "hello b\n");
    let server = git_http::GitHttp::start(&f.path("srv"), TOKEN);
    let url = format!("{}/acme/svc.git", server.base);
    let p = f.pipeline(std::slice::from_ref(&url));

    // Without a token the server refuses: reported, not fatal.
    let out = f.run(&["run", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("skipped"), "{stdout}");
    assert!(
        stdout.contains("GITHUB_TOKEN"),
        "the hint names the variable: {stdout}"
    );

    let out = f.run(
        &["run", p.to_str().unwrap(), "--push", "--json", "-v"],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["repos"][0]["publish"]["push"], "pushed");
    let tip = f.tip(&bare, "codefleet/greet").expect("pushed over http");
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:b.txt")]),
        "HELLO b"
    );
    let entry = f.cache_entries(&f.path("cache/codefleet")).remove(0);
    assert!(entry.join("shallow").is_file(), "the clone is shallow");
    // `depth: 0` fetches the whole history.
    let full = f.path("pipelines/full.yml");
    std::fs::write(
        &full,
        format!(
            "version: 1\nname: greet\nrepos:\n  - url: {url}\n    depth: 0\ntasks:\n  - name: \
             shout\n    replace: {{ find: hello, with: HELLO }}\n"
        ),
    )
    .unwrap();
    let other = f.path("full-cache");
    let out3 = f.run(
        &[
            "run",
            full.to_str().unwrap(),
            "--cache-dir",
            other.to_str().unwrap(),
        ],
        &[("GITHUB_TOKEN", TOKEN)],
    );
    assert_eq!(
        out3.status.code(),
        Some(0),
        "{}{}",
        text(&out3.stdout),
        text(&out3.stderr)
    );
    let entry = f.cache_entries(&other).remove(0);
    assert!(!entry.join("shallow").exists(), "depth: 0 is a full clone");
    assert!(
        server
            .requests
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("git-receive-pack"))
    );

    // GH_TOKEN works as well; the re-run fetches over http, and a push that meets a flaky
    // proxy twice is retried until it goes through.
    f.push_commit(&bare, "main", "c.txt", "hello c\n");
    server
        .fail_pushes
        .store(2, std::sync::atomic::Ordering::SeqCst);
    let out2 = f.run(
        &["run", p.to_str().unwrap(), "--push"],
        &[("GH_TOKEN", TOKEN)],
    );
    assert_eq!(
        out2.status.code(),
        Some(0),
        "{}{}",
        text(&out2.stdout),
        text(&out2.stderr)
    );
    assert_eq!(
        server.fail_pushes.load(std::sync::atomic::Ordering::SeqCst),
        0
    );
    let tip = f.tip(&bare, "codefleet/greet").unwrap();
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:c.txt")]),
        "HELLO c"
    );

    // The token appears nowhere: outputs, the cache (config, journal, refs), the lock files.
    let mut seen = vec![
        text(&out.stdout),
        text(&out.stderr),
        text(&out2.stdout),
        text(&out2.stderr),
    ];
    for e in walk(&f.path("cache")) {
        if let Ok(bytes) = std::fs::read(&e) {
            seen.push(format!("{}: {}", e.display(), text(&bytes)));
        }
    }
    for s in &seen {
        assert!(
            !s.contains(TOKEN),
            "the token leaked: {}",
            &s[..s.len().min(300)]
        );
    }
}

#[test]
fn git_daemon_serves_clone_fetch_and_push() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello daemon\n")]);
    let daemon = Daemon::start(&f.path("srv"));
    let url = format!("git://127.0.0.1:{}/svc.git", daemon.port);
    let p = f.pipeline(&[url]);
    let out = f.run(&["run", p.to_str().unwrap(), "--push"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tip = f.tip(&bare, "codefleet/greet").expect("pushed over git://");
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:a.txt")]),
        "HELLO daemon"
    );
    let main = f.push_commit(&bare, "main", "c.txt", "hello c\n");
    let out = f.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(json(&out)["repos"][0]["base"], main.as_str());
}

#[test]
fn shards_split_by_repository_and_report_merge_joins_them() {
    let f = Fixture::new();
    let urls: Vec<String> = (0..6)
        .map(|i| file_url(&f.bare(&format!("r{i}"), &[("a.txt", "hello\n")])))
        .collect();
    let p = f.pipeline(&urls);
    let mut files = Vec::new();
    let mut seen = Vec::new();
    for k in 1..=3 {
        let out = f.run(
            &[
                "run",
                p.to_str().unwrap(),
                "--json",
                "--shard",
                &format!("{k}/3"),
            ],
            &[],
        );
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let path = f.path(&format!("shard-{k}.json"));
        std::fs::write(&path, &out.stdout).unwrap();
        for r in json(&out)["repos"].as_array().unwrap() {
            seen.push(r["path"].as_str().unwrap().to_string());
        }
        files.push(path);
    }
    seen.sort();
    let mut all = urls.clone();
    all.sort();
    assert_eq!(seen, all, "every repository in exactly one shard");

    let names: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["report", "merge"];
    args.extend(&names);
    let out = f.run(&args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let table = text(&out.stdout);
    assert!(
        table.contains("6 repos, 6 changed, 0 failed; 6 commits"),
        "{table}"
    );

    args.push("--json");
    let summary = f.path("summary.md");
    let out = f.run(&args, &[("GITHUB_STEP_SUMMARY", summary.to_str().unwrap())]);
    let merged = json(&out);
    assert_eq!(merged["totals"]["repos"], 6);
    assert_eq!(merged["repos"].as_array().unwrap().len(), 6);
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("| repo | status |") && md.contains("6 repos"),
        "{md}"
    );

    std::fs::write(f.path("bad.json"), "{\"not\": \"a report\"}").unwrap();
    let out = f.run(
        &["report", "merge", f.path("bad.json").to_str().unwrap()],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("E540"), "{}", text(&out.stderr));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// `git daemon` on a free loopback port, killed on drop.
struct Daemon {
    child: std::process::Child,
    port: u16,
}

impl Daemon {
    fn start(root: &Path) -> Daemon {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        // `git daemon` runs `git-daemon` as a child: start that one, so killing it stops it.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .expect("git");
        let exec_path = PathBuf::from(text(&exec_path.stdout).trim());
        let child = Command::new(exec_path.join("git-daemon"))
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .args([
                "--export-all",
                "--enable=receive-pack",
                "--reuseaddr",
                "--listen=127.0.0.1",
                &format!("--port={port}"),
                &format!("--base-path={}", root.display()),
                &root.display().to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("git daemon");
        // Ready once it accepts connections (a readiness check, not a timing assumption).
        for _ in 0..500 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        Daemon { child, port }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_local_checkout_pushes_to_its_origin_with_a_lease_like_force_with_lease() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let url = bare.to_str().unwrap();
    f.git_line(f.dir.path(), &["clone", "-q", url, "checkout"]);
    let checkout = f.path("checkout");
    let p = f.pipeline(&[]);
    let args = [
        "run",
        p.to_str().unwrap(),
        "--repo",
        checkout.to_str().unwrap(),
        "--push",
    ];
    let out = f.run(&args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tip = f.tip(&bare, "codefleet/greet").expect("pushed to origin");
    assert_eq!(
        f.git_line(&bare, &["show", &format!("{tip}:a.txt")]),
        "HELLO world"
    );
    // The remote-tracking ref records what was pushed: the next lease starts there.
    assert_eq!(
        f.git_line(
            &checkout,
            &["rev-parse", "refs/remotes/origin/codefleet/greet"]
        ),
        tip
    );

    // Someone else moves the remote branch; this checkout has not fetched it.
    let theirs = f.push_commit(&bare, "codefleet/greet", "x.txt", "theirs\n");
    f.git_line(
        &checkout,
        &["commit", "-q", "--allow-empty", "-m", "local work"],
    );
    let out = f.run(&args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("push refused"), "{stdout}");
    assert!(stdout.contains("E520"), "{stdout}");
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(theirs.as_str())
    );
}

/// A local checkout `checkout` cloned from `bare`, and the `--push` run of the greet pipeline
/// there.
fn local_push_args(f: &Fixture, bare: &Path, name: &str) -> (PathBuf, Vec<String>) {
    f.git_line(f.dir.path(), &["clone", "-q", bare.to_str().unwrap(), name]);
    let checkout = f.path(name);
    let p = f.pipeline(&[]);
    let args = vec![
        "run".to_string(),
        p.display().to_string(),
        "--repo".into(),
        checkout.display().to_string(),
        "--push".into(),
    ];
    (checkout, args)
}

fn run_args(f: &Fixture, args: &[String], extra: &[&str]) -> Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    f.run(&all, &[])
}

/// Whether `commit` is reachable from some ref of `repo` (`git for-each-ref --contains`).
fn reachable(f: &Fixture, repo: &Path, commit: &str) -> bool {
    !f.git_line(repo, &["for-each-ref", "--contains", commit])
        .is_empty()
}

#[test]
fn a_fetch_never_lets_a_push_overwrite_a_colleagues_commit_on_the_run_branch() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let (checkout, args) = local_push_args(&f, &bare, "checkout");
    let out = run_args(&f, &args, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let ours = f.tip(&bare, "codefleet/greet").expect("pushed");
    // A colleague adds a commit on the run branch; we fetch it; upstream moves on.
    let theirs = f.push_commit(&bare, "codefleet/greet", "theirs.txt", "theirs\n");
    f.git_line(&checkout, &["fetch", "-q", "origin"]);
    f.push_commit(&bare, "main", "b.txt", "hello b\n");
    f.git_line(&checkout, &["pull", "-q", "--ff-only"]);

    let out = run_args(&f, &args, &[]);
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains("codefleet did not make"), "{stdout}");
    assert!(stdout.contains("origin/codefleet/greet"), "{stdout}");
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(theirs.as_str())
    );
    // Our branch was not rebuilt either: it is where codefleet left it.
    assert_eq!(
        f.git_line(&checkout, &["rev-parse", "refs/heads/codefleet/greet"]),
        ours
    );

    // `--force` is what replaces their commit, and only then.
    let out = run_args(&f, &args, &["--force"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tip = f.tip(&bare, "codefleet/greet").expect("pushed");
    assert_ne!(tip, theirs);
    assert!(!reachable(&f, &bare, &theirs));
}

#[test]
fn the_lease_is_what_codefleet_last_pushed_not_what_a_fetch_brought() {
    use codefleet::exec::{PublishOptions, RunOptions, Silent, publish, run};
    use codefleet::git::Credentials;
    use codefleet::plan::Target;
    use std::sync::atomic::AtomicBool;

    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let (checkout, args) = local_push_args(&f, &bare, "checkout");
    assert_eq!(run_args(&f, &args, &[]).status.code(), Some(0));
    assert!(checkout.join(".git/codefleet/pushed").is_dir());
    f.push_commit(&bare, "main", "b.txt", "hello b\n");
    f.git_line(&checkout, &["pull", "-q", "--ff-only"]);

    let pipeline = codefleet::pipeline::load(&f.pipeline(&[]), &[]).expect("pipeline");
    let targets = [Target::Local(checkout.clone())];
    let options = RunOptions {
        jobs: 1,
        ..RunOptions::default()
    };
    let plan = codefleet::plan::build(
        &pipeline,
        &targets,
        &codefleet::plan::PlanOptions::default(),
    );
    let mut report = run(&plan, &options, &Silent, &AtomicBool::new(false)).expect("run");
    assert_eq!(
        report.repos[0].status,
        codefleet::report::RepoStatus::Changed
    );
    // Between the run and its push, a colleague pushes and a `git fetch` brings it in.
    let theirs = f.push_commit(&bare, "codefleet/greet", "theirs.txt", "theirs\n");
    f.git_line(&checkout, &["fetch", "-q", "origin"]);
    let publish_options = PublishOptions {
        jobs: 1,
        push: true,
        pull_requests: None,
        remotes: None,
        credentials: Credentials::default(),
        force: false,
        api_forge: None,
    };
    publish(&pipeline, &mut report, &targets, &publish_options).expect("publish");
    let p = report.repos[0].publish.as_ref().expect("published");
    assert_eq!(p.push, codefleet::report::PushStatus::Refused, "{p:?}");
    let message = p.message.as_deref().unwrap_or_default();
    assert!(message.contains("E520"), "{message}");
    assert!(message.contains("git fetch origin"), "{message}");
    assert_eq!(report.exit_code, 1);
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(theirs.as_str())
    );
}

#[test]
fn another_machines_codefleet_push_is_refused_until_fetched_then_replaced() {
    let f = Fixture::new();
    let bare = f.bare("svc", &[("a.txt", "hello world\n")]);
    let (mine, my_args) = local_push_args(&f, &bare, "mine");
    assert_eq!(run_args(&f, &my_args, &[]).status.code(), Some(0));
    // A second machine runs the same pipeline on a newer base and pushes.
    f.push_commit(&bare, "main", "b.txt", "hello b\n");
    let (_, other_args) = local_push_args(&f, &bare, "other");
    let out = run_args(&f, &other_args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let others = f.tip(&bare, "codefleet/greet").expect("pushed");

    // Not fetched: the remote is not where this machine last pushed it.
    f.git_line(&mine, &["pull", "-q", "--ff-only", "origin", "main"]);
    let out = run_args(&f, &my_args, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert!(text(&out.stdout).contains("E520"));
    assert_eq!(
        f.tip(&bare, "codefleet/greet").as_deref(),
        Some(others.as_str())
    );
    // Fetched: it holds only codefleet's commits, so the push replaces them.
    f.git_line(&mine, &["fetch", "-q", "origin"]);
    let out = run_args(&f, &my_args, &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let tip = f.tip(&bare, "codefleet/greet").expect("pushed");
    assert_eq!(
        f.git_line(&mine, &["rev-parse", "refs/heads/codefleet/greet"]),
        tip
    );
}
