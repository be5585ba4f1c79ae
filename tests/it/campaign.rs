//! The campaign commands through the real binary: `codefleet run --pr` opens the pull requests
//! (so their markers are real) on the stateful fake GitHub, whose repositories are real bare
//! repositories served by `git http-backend`; the tests then set checks and reviews through the
//! fake's helpers and check what `status` shows, what `merge` merges (the bare repository's
//! `main` moved, checked with `git`) and what `close` closes and deletes.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::git_http::GitHttp;
use crate::support::github::{FakeGitHub, Repo};

use std::path::PathBuf;
use std::process::{Command, Output};

const TOKEN: &str = "ghp_CampaignT0kenThatMustNeverBeShown7";

/// A campaign's world: the fake GitHub, the git server, and the pipeline over `names`.
struct World {
    f: Fixture,
    gh: FakeGitHub,
    git: GitHttp,
    pipeline: PathBuf,
}

impl Fixture {
    /// `srv/acme/<name>.git` with `a.txt` on `main`.
    fn bare(&self, name: &str, content: &str) -> PathBuf {
        let work = self.path(&format!("work/{name}"));
        std::fs::create_dir_all(&work).unwrap();
        self.git_line(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("a.txt"), content).unwrap();
        self.git_line(&work, &["add", "-A"]);
        self.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = self.path(&format!("srv/acme/{name}.git"));
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        self.git_line(
            self.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        bare
    }
}

impl World {
    /// Repositories `acme/<name>` whose `a.txt` holds `content` (`hello` is what the pipeline
    /// changes; anything else leaves the repository without a change, so without a pull
    /// request).
    fn new(repos: &[(&str, &str)]) -> World {
        let f = Fixture::new();
        std::fs::create_dir_all(f.path("srv")).unwrap();
        let git = GitHttp::start(&f.path("srv"), TOKEN);
        let gh = FakeGitHub::start(TOKEN);
        let mut entries = String::new();
        for (name, content) in repos {
            let bare = f.bare(name, content);
            let url = format!("{}/acme/{name}.git", git.base);
            gh.add_repo(Repo::new(&format!("acme/{name}")).git(&bare, &url));
            entries.push_str(&format!("  - url: {url}\n"));
        }
        let pipeline = f.path("pipelines/p.yml");
        std::fs::create_dir_all(pipeline.parent().unwrap()).unwrap();
        std::fs::write(
            &pipeline,
            format!(
                "version: 1\nname: greet\nrepos:\n{entries}pr:\n  title: \"greet {{{{ repo.name }}}}\"\n\
                 tasks:\n  - name: shout\n    replace: {{ find: hello, with: HELLO }}\n"
            ),
        )
        .unwrap();
        World {
            f,
            gh,
            git,
            pipeline,
        }
    }

    fn codefleet(&self, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.f.env(&mut cmd);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", &self.gh.url)
            .args(args)
            .current_dir(self.f.dir.path())
            .output()
            .expect("codefleet")
    }

    /// `codefleet COMMAND <pipeline> ARGS`.
    fn cmd(&self, command: &str, args: &[&str]) -> Output {
        let mut all = vec![command, self.pipeline.to_str().unwrap()];
        all.extend_from_slice(args);
        self.codefleet(&all)
    }

    /// `run --pr`, which must succeed.
    fn run_pr(&self) {
        let out = self.cmd("run", &["--pr"]);
        assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    }

    fn bare(&self, name: &str) -> PathBuf {
        self.f.path(&format!("srv/acme/{name}.git"))
    }

    /// The commit `rev` names in the bare repository, if any.
    fn rev(&self, name: &str, rev: &str) -> Option<String> {
        let out = self
            .f
            .git_out(&self.bare(name), &["rev-parse", "--verify", "-q", rev]);
        out.status
            .success()
            .then(|| text(&out.stdout).trim().to_string())
    }

    /// The head commit of the run branch on the remote.
    fn head(&self, name: &str) -> String {
        self.rev(name, "refs/heads/codefleet/greet")
            .expect("run branch")
    }

    /// Green checks (a check run and a status) on the head of `name`'s run branch.
    fn green(&self, name: &str) {
        let repo = format!("acme/{name}");
        let head = self.head(name);
        self.gh
            .set_check(&repo, &head, "build", "completed", Some("success"));
        self.gh.set_status(&repo, &head, "ci/lint", "success");
    }

    fn approve(&self, name: &str) {
        self.gh
            .review(&format!("acme/{name}"), 1, "reviewer", "APPROVED");
    }

    /// A colleague pushes a commit of their own to `name`'s run branch.
    fn colleague_pushes(&self, name: &str) {
        let work = self.f.path(&format!("colleague/{name}"));
        let bare = self.bare(name);
        self.f.git_line(
            self.f.dir.path(),
            &[
                "clone",
                "-q",
                "-b",
                "codefleet/greet",
                bare.to_str().unwrap(),
                work.to_str().unwrap(),
            ],
        );
        std::fs::write(work.join("b.txt"), "mine\n").unwrap();
        self.f.git_line(&work, &["add", "-A"]);
        self.f
            .git_line(&work, &["commit", "-q", "-m", "a colleague's"]);
        self.f
            .git_line(&work, &["push", "-q", "origin", "codefleet/greet"]);
    }
}

fn said(out: &Output) -> String {
    format!("{}\n{}", text(&out.stdout), text(&out.stderr))
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", said(out)))
}

/// The `--json` row of `name`.
fn row<'a>(doc: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    doc["repos"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no row {name}: {doc}"))
}

/// The line of the table that starts with `acme/<name>`.
fn line<'a>(table: &'a str, name: &str) -> &'a str {
    let start = format!("acme/{name} ");
    table
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no line for {name}:\n{table}"))
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// A campaign of every kind of row: green, red and pending pull requests, a conflicting one, a
/// draft, a merged and a closed one, and a repository without a change (no pull request).
fn mixed() -> World {
    let hello = "hello world\n";
    let w = World::new(&[
        ("green", hello),
        ("red", hello),
        ("pending", hello),
        ("conflict", hello),
        ("draft", hello),
        ("merged", hello),
        ("closed", hello),
        ("nothing", "nothing to change\n"),
    ]);
    w.run_pr();
    w.green("green");
    w.approve("green");
    let red = w.head("red");
    w.gh.set_check("acme/red", &red, "build", "completed", Some("failure"));
    w.gh.set_status("acme/red", &red, "ci/lint", "success");
    let pending = w.head("pending");
    w.gh.set_check("acme/pending", &pending, "build", "in_progress", None);
    w.green("conflict");
    w.gh.set_mergeable("acme/conflict", 1, Some(false));
    w.green("draft");
    w.gh.lock().pr("acme/draft", 1).unwrap().draft = true;
    w.green("merged");
    w.approve("merged");
    let out = w.codefleet(&[
        "merge",
        w.pipeline.to_str().unwrap(),
        "--repo",
        &format!("{}/acme/merged.git", w.git.base),
        "--pause",
        "0",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    w.gh.close_pr("acme/closed", 1);
    w
}

#[test]
fn status_shows_each_repository_its_pull_request_and_the_totals() {
    let w = mixed();
    let before = w.gh.requests().len();
    let out = w.cmd("status", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let table = text(&out.stdout);
    let cases = [
        ("green", "open", "success", "approved", "mergeable"),
        ("red", "open", "failure", "none", "mergeable"),
        ("pending", "open", "pending", "none", "mergeable"),
        ("conflict", "open", "success", "none", "conflicting"),
        ("draft", "draft", "success", "none", "mergeable"),
    ];
    for (name, state, checks, review, mergeable) in cases {
        let w = words(line(&table, name));
        assert_eq!(
            w[1..8],
            [
                "codefleet/greet",
                "#1",
                state,
                checks,
                review,
                mergeable,
                "0"
            ],
            "{name}:\n{table}"
        );
        assert_eq!(
            w[8],
            format!("https://github.example/acme/{name}/pull/1"),
            "{table}"
        );
    }
    assert_eq!(words(line(&table, "merged"))[3], "merged", "{table}");
    assert_eq!(words(line(&table, "closed"))[3], "closed", "{table}");
    assert_eq!(
        words(line(&table, "nothing"))[1..4],
        ["codefleet/greet", "-", "none"],
        "{table}"
    );
    assert!(
        table.ends_with(
            "8 repos: 1 merged, 5 open (3 green, 1 red, 1 pending; 1 draft), 1 closed, 1 none\n"
        ),
        "{table}"
    );
    // One listing per repository; the per-pull-request reads for the 5 open ones only.
    let calls: Vec<_> = w.gh.requests()[before..].to_vec();
    let count = |route: &str| calls.iter().filter(|r| r.route == route).count();
    assert_eq!(count("GET /repos/{owner}/{repo}/pulls"), 8);
    assert_eq!(count("GET /repos/{owner}/{repo}/pulls/{pull_number}"), 5);
    assert_eq!(count("GET /repos/{owner}/{repo}/compare/{basehead}"), 5);
    assert_eq!(
        count("GET /repos/{owner}/{repo}/commits/{ref}/check-runs"),
        5
    );
    assert_eq!(count("GET /repos/{owner}/{repo}/commits/{ref}/status"), 5);
    assert_eq!(
        count("GET /repos/{owner}/{repo}/pulls/{pull_number}/reviews"),
        5
    );
    assert_eq!(calls.len(), 8 + 5 * 5, "{calls:#?}");
    assert!(calls.iter().all(|r| r.method == "GET"), "status only reads");
    assert!(!said(&out).contains(TOKEN));
}

#[test]
fn status_filters_and_its_json_follows_its_schema() {
    let w = mixed();
    let out = w.cmd("status", &["--state", "open"]);
    let table = text(&out.stdout);
    let shown: Vec<&str> = table
        .lines()
        .filter(|l| l.starts_with("acme/"))
        .map(|l| words(l)[0])
        .collect();
    assert_eq!(
        shown,
        [
            "acme/green",
            "acme/red",
            "acme/pending",
            "acme/conflict",
            "acme/draft"
        ]
    );
    assert!(table.contains("showing 5 of 8 repositories"), "{table}");
    let out = w.cmd("status", &["--checks", "failure"]);
    let table = text(&out.stdout);
    let shown: Vec<&str> = table.lines().filter(|l| l.starts_with("acme/")).collect();
    assert_eq!(shown.len(), 1, "{table}");
    assert!(shown[0].starts_with("acme/red "));
    let out = w.cmd("status", &["--state", "merged", "--json"]);
    let doc = json(&out);
    assert_eq!(doc["repos"].as_array().unwrap().len(), 1);
    assert_eq!(row(&doc, "merged")["state"], "merged");
    let out = w.cmd("status", &["--json"]);
    let doc = json(&out);
    let schema_out = w.codefleet(&["schema", "--status"]);
    assert_eq!(schema_out.status.code(), Some(0));
    let schema: serde_json::Value = serde_json::from_slice(&schema_out.stdout).unwrap();
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let problems: Vec<String> = validator.iter_errors(&doc).map(|e| e.to_string()).collect();
    assert!(problems.is_empty(), "{problems:?}\n{doc}");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["totals"]["repos"], 8);
    assert_eq!(doc["totals"]["green"], 3);
    let green = row(&doc, "green");
    assert_eq!(green["repo"], "acme/green");
    assert_eq!(green["checks"], "success");
    assert_eq!(green["review"], "approved");
    assert_eq!(green["behind_by"], 0);
    let pr = &green["pull_request"];
    assert_eq!(pr["number"], 1);
    assert_eq!(pr["head_sha"], w.head("green").as_str());
    assert_eq!(pr["pushed_head"], w.head("green").as_str());
    assert_eq!(pr["foreign"], false);
    assert_eq!(
        row(&doc, "nothing")["pull_request"],
        serde_json::Value::Null
    );
}

/// A campaign for `merge`: `green` and `green2` green and approved, `red` approved with a
/// failed check, `unreviewed` green, `foreign` green and approved but a colleague pushed to it.
fn merge_world() -> World {
    let hello = "hello world\n";
    let w = World::new(&[
        ("green", hello),
        ("red", hello),
        ("unreviewed", hello),
        ("foreign", hello),
        ("green2", hello),
    ]);
    w.run_pr();
    for name in ["green", "unreviewed", "green2"] {
        w.green(name);
    }
    for name in ["green", "red", "foreign", "green2"] {
        w.approve(name);
    }
    let red = w.head("red");
    w.gh.set_check("acme/red", &red, "build", "completed", Some("failure"));
    w.colleague_pushes("foreign");
    w.green("foreign");
    w
}

fn merge_requests(w: &World) -> Vec<crate::support::github::Seen> {
    w.gh.requests()
        .into_iter()
        .filter(|r| r.method == "PUT")
        .collect()
}

#[test]
fn merge_merges_exactly_the_eligible_ones_and_skips_foreign_heads() {
    let w = merge_world();
    let mains: Vec<String> = ["green", "red", "unreviewed", "foreign", "green2"]
        .iter()
        .map(|n| w.rev(n, "main").unwrap())
        .collect();
    let dry = w.cmd("merge", &["--dry-run", "--pause", "0"]);
    assert_eq!(dry.status.code(), Some(0), "{}", said(&dry));
    let table = text(&dry.stdout);
    assert_eq!(words(line(&table, "green"))[2..4], ["would", "merge"]);
    assert!(merge_requests(&w).is_empty(), "a dry run merges nothing");
    assert_eq!(w.rev("green", "main").unwrap(), mains[0]);

    let heads: Vec<String> = ["green", "green2"].iter().map(|n| w.head(n)).collect();
    let out = w.cmd("merge", &["--pause", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let table = text(&out.stdout);
    for name in ["green", "green2"] {
        assert_eq!(words(line(&table, name))[2], "merged", "{table}");
    }
    assert!(line(&table, "red").contains("checks failed"), "{table}");
    assert!(
        line(&table, "unreviewed").contains("not approved"),
        "{table}"
    );
    let foreign = line(&table, "foreign");
    assert!(
        foreign.contains("is not the commit codefleet pushed")
            && foreign.contains("--include-foreign"),
        "{table}"
    );
    assert!(
        table.contains("merged 2 of 5 repositories; 0 failed"),
        "{table}"
    );
    // The bare repositories' main moved for the merged ones only, to commits holding the change.
    for (i, name) in ["green", "green2"].iter().enumerate() {
        let main = w.rev(name, "main").unwrap();
        assert_ne!(main, mains[i * 4]);
        assert_eq!(
            w.f.git_line(&w.bare(name), &["show", "main:a.txt"]),
            "HELLO world"
        );
        let merged = w.f.git_out(
            &w.bare(name),
            &["merge-base", "--is-ancestor", &heads[i], "main"],
        );
        assert!(merged.status.success(), "{name}: the head is in main");
    }
    for (i, name) in ["red", "unreviewed", "foreign"].iter().enumerate() {
        assert_eq!(w.rev(name, "main").unwrap(), mains[i + 1], "{name}");
    }
    // Each merge named the head codefleet expected; no method: the repository's default.
    for r in merge_requests(&w) {
        let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
        assert!(
            heads.contains(&body["sha"].as_str().unwrap().to_string()),
            "{body}"
        );
        assert!(body.get("merge_method").is_none(), "{body}");
    }

    // --include-foreign merges the head a colleague moved.
    let out = w.cmd("merge", &["--include-foreign", "--pause", "0", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let doc = json(&out);
    assert_eq!(row(&doc, "foreign")["outcome"], "merged");
    assert_eq!(
        w.f.git_line(&w.bare("foreign"), &["show", "main:b.txt"]),
        "mine"
    );
}

#[test]
fn merge_max_require_none_and_squash() {
    let w = merge_world();
    let out = w.cmd("merge", &["--max", "1", "--pause", "0", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let doc = json(&out);
    assert_eq!(row(&doc, "green")["outcome"], "merged");
    assert_eq!(row(&doc, "green2")["outcome"], "skipped");
    assert_eq!(row(&doc, "green2")["detail"], "--max 1 reached");
    assert_eq!(merge_requests(&w).len(), 1);

    // --require none merges the red and the unreviewed ones too; squash makes one commit.
    let red_main = w.rev("red", "main").unwrap();
    let out = w.cmd(
        "merge",
        &[
            "--require",
            "none",
            "--method",
            "squash",
            "--pause",
            "0",
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let doc = json(&out);
    for name in ["red", "unreviewed", "green2"] {
        assert_eq!(row(&doc, name)["outcome"], "merged", "{name}: {doc}");
    }
    assert_eq!(row(&doc, "foreign")["outcome"], "skipped");
    let parents = w.f.git_line(
        &w.bare("red"),
        &["rev-list", "--parents", "-n", "1", "main"],
    );
    assert_eq!(
        words(&parents)[1..],
        [red_main.as_str()],
        "a squash has one parent"
    );
    assert!(
        merge_requests(&w)[1..]
            .iter()
            .all(|r| r.body.contains("\"merge_method\":\"squash\""))
    );
}

#[test]
fn merge_auto_enables_auto_merge_instead_of_merging() {
    let w = merge_world();
    let out = w.cmd("merge", &["--auto", "--pause", "0", "--json"]);
    let doc = json(&out);
    assert_eq!(row(&doc, "green")["outcome"], "auto_merge_enabled", "{doc}");
    // Auto-merge waits for reviews itself: the unreviewed one is enabled too, the red is not.
    assert_eq!(row(&doc, "unreviewed")["outcome"], "auto_merge_enabled");
    assert_eq!(row(&doc, "red")["outcome"], "skipped");
    assert!(merge_requests(&w).is_empty(), "nothing merged now");
    let graphql: Vec<_> =
        w.gh.requests()
            .into_iter()
            .filter(|r| r.target == "/graphql")
            .collect();
    assert_eq!(graphql.len(), 3, "{graphql:#?}");
    assert!(
        graphql
            .iter()
            .all(|r| r.body.contains("enablePullRequestAutoMerge"))
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
}

#[test]
fn a_merge_the_forge_refuses_exits_1() {
    let w = merge_world();
    w.gh.fault("/repos/acme/green/pulls/1/merge", 405, None);
    let out = w.cmd("merge", &["--pause", "0"]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let table = text(&out.stdout);
    assert_eq!(words(line(&table, "green"))[2], "failed", "{table}");
    assert!(line(&table, "green").contains("E557"), "{table}");
    // The others still merged.
    assert_eq!(words(line(&table, "green2"))[2], "merged", "{table}");
}

#[test]
fn close_comments_closes_and_deletes_branches_with_a_lease() {
    let hello = "hello world\n";
    let w = World::new(&[("a", hello), ("b", hello), ("moved", hello)]);
    w.run_pr();
    w.colleague_pushes("moved");
    let dry = w.cmd("close", &["--dry-run", "--delete-branch"]);
    assert_eq!(dry.status.code(), Some(0), "{}", said(&dry));
    assert!(
        w.gh.prs().iter().all(|p| p.state == "open"),
        "a dry run closes nothing"
    );
    assert!(w.rev("a", "refs/heads/codefleet/greet").is_some());

    let out = w.cmd("close", &["--comment", "Superseded.", "--delete-branch"]);
    // The branch that moved is kept, and that is a failure to report.
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    let table = text(&out.stdout);
    for p in w.gh.prs() {
        assert_eq!(p.state, "closed", "{}", p.repo);
        assert_eq!(p.comments, ["Superseded."], "{}", p.repo);
    }
    for name in ["a", "b"] {
        assert_eq!(w.rev(name, "refs/heads/codefleet/greet"), None, "{name}");
        assert!(line(&table, name).contains("deleted"), "{table}");
    }
    assert!(w.rev("moved", "refs/heads/codefleet/greet").is_some());
    let moved = line(&table, "moved");
    assert!(
        moved.contains("kept (refused)") && moved.contains("E520"),
        "{table}"
    );
    assert!(!said(&out).contains(TOKEN));
}

/// `status` over many repositories' pull requests with the fake answering every call after a
/// delay: wall time against the ideal (API calls ÷ concurrency) × delay, and the calls made.
/// Driven by `bench/campaign-status.sh` (`STATUS_BENCH_REPOS`, `STATUS_BENCH_JOBS`,
/// `STATUS_BENCH_DELAY_MS`).
#[test]
#[ignore]
fn status_benchmark() {
    let var = |k: &str, d: u64| {
        std::env::var(k)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(d)
    };
    let repos = var("STATUS_BENCH_REPOS", 500);
    let jobs = var("STATUS_BENCH_JOBS", 8);
    let delay = var("STATUS_BENCH_DELAY_MS", 50);
    let f = Fixture::new();
    let gh = FakeGitHub::start(TOKEN);
    let mut entries = String::new();
    for i in 0..repos {
        let full = format!("acme/r{i:03}");
        gh.add_repo(Repo::new(&full));
        entries.push_str(&format!("  - url: https://github.example/{full}.git\n"));
        // Three in five have an open pull request, one in five a merged one, the rest none.
        match i % 5 {
            0..=2 => {
                gh.open_pr(&full, "codefleet/greet", "main", "greet");
            }
            3 => {
                let n = gh.open_pr(&full, "codefleet/greet", "main", "greet");
                let mut st = gh.lock();
                let pr = st.pr(&full, n).unwrap();
                pr.state = "closed".into();
                pr.merged_at = Some("2026-01-01T00:00:00Z".into());
            }
            _ => {}
        }
    }
    let pipeline = f.path("pipelines/p.yml");
    std::fs::create_dir_all(pipeline.parent().unwrap()).unwrap();
    std::fs::write(
        &pipeline,
        format!(
            "version: 1\nname: greet\nrepos:\n{entries}tasks:\n  - name: shout\n    \
             replace: {{ find: hello, with: HELLO }}\n"
        ),
    )
    .unwrap();
    gh.lock().delay_ms = delay;
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
    f.env(&mut cmd);
    cmd.env("GITHUB_TOKEN", TOKEN)
        .env("CODEFLEET_GITHUB_API_URL", &gh.url)
        .args([
            "status",
            pipeline.to_str().unwrap(),
            "-j",
            &jobs.to_string(),
        ])
        .current_dir(f.dir.path());
    let started = std::time::Instant::now();
    let out = cmd.output().expect("codefleet");
    let wall = started.elapsed();
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let calls = gh.requests().len() as u64;
    let open = (0..repos).filter(|i| i % 5 <= 2).count() as u64;
    let ideal = std::time::Duration::from_millis(calls * delay / jobs);
    println!(
        "repos {repos}  open {open}  jobs {jobs}  delay {delay} ms  calls {calls} (formula R + 5*O = {})  \
         wall {:.2} s  ideal {:.2} s  ratio {:.2}",
        repos + 5 * open,
        wall.as_secs_f64(),
        ideal.as_secs_f64(),
        wall.as_secs_f64() / ideal.as_secs_f64()
    );
    println!("{}", text(&out.stdout).lines().last().unwrap_or(""));
}

// ---------------------------------------------------------------------------------------------
// The knob rows of these commands' flags (`tests/it/knobs.rs` calls them): each shows the
// flag's effect against the fake GitHub.

type Knob = Result<(), String>;

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

/// Two repositories with green, approved pull requests opened by `run --pr`.
fn two_green() -> World {
    let w = World::new(&[("a", "hello\n"), ("b", "hello\n")]);
    w.run_pr();
    for n in ["a", "b"] {
        w.green(n);
        w.approve(n);
    }
    w
}

fn puts(w: &World) -> usize {
    merge_requests(w).len()
}

pub(crate) fn knob_status_state() -> Knob {
    let w = World::new(&[("a", "hello\n"), ("b", "hello\n")]);
    w.run_pr();
    w.gh.close_pr("acme/b", 1);
    let all = text(&w.cmd("status", &[]).stdout);
    let closed = text(&w.cmd("status", &["--state", "closed"]).stdout);
    ensure!(all.contains("acme/a ") && all.contains("acme/b "), "{all}");
    ensure!(
        !closed.contains("acme/a ") && closed.contains("acme/b "),
        "{closed}"
    );
    Ok(())
}

pub(crate) fn knob_status_checks() -> Knob {
    let w = two_green();
    let head = w.head("b");
    w.gh.set_check("acme/b", &head, "build", "completed", Some("failure"));
    let red = text(&w.cmd("status", &["--checks", "failure"]).stdout);
    ensure!(!red.contains("acme/a ") && red.contains("acme/b "), "{red}");
    Ok(())
}

pub(crate) fn knob_schema_status() -> Knob {
    let w = World::new(&[]);
    let has_totals = |args: &[&str]| {
        let out = w.codefleet(args);
        serde_json::from_slice::<serde_json::Value>(&out.stdout)
            .ok()
            .and_then(|v| {
                v["properties"]
                    .as_object()
                    .map(|m| m.contains_key("totals"))
            })
    };
    ensure!(
        has_totals(&["schema", "--status"]) == Some(true),
        "no totals in --status"
    );
    ensure!(
        has_totals(&["schema"]) == Some(false),
        "the pipeline schema changed"
    );
    Ok(())
}

pub(crate) fn knob_merge_require() -> Knob {
    let w = World::new(&[("a", "hello\n")]);
    w.run_pr();
    w.green("a");
    let out = w.cmd("merge", &["--pause", "0"]);
    ensure!(puts(&w) == 0, "merged without approval: {}", said(&out));
    let out = w.cmd("merge", &["--pause", "0", "--require", "checks"]);
    ensure!(puts(&w) == 1, "--require checks merges it: {}", said(&out));
    Ok(())
}

pub(crate) fn knob_merge_method() -> Knob {
    let w = two_green();
    let out = w.cmd("merge", &["--pause", "0", "--method", "squash"]);
    let bodies: Vec<String> = merge_requests(&w).into_iter().map(|r| r.body).collect();
    ensure!(
        bodies.len() == 2
            && bodies
                .iter()
                .all(|b| b.contains("\"merge_method\":\"squash\"")),
        "{bodies:?} {}",
        said(&out)
    );
    Ok(())
}

pub(crate) fn knob_merge_auto() -> Knob {
    let w = two_green();
    let out = w.cmd("merge", &["--pause", "0", "--auto"]);
    let graphql =
        w.gh.requests()
            .iter()
            .filter(|r| r.target == "/graphql" && r.body.contains("enablePullRequestAutoMerge"))
            .count();
    ensure!(graphql == 2 && puts(&w) == 0, "{}", said(&out));
    Ok(())
}

pub(crate) fn knob_merge_max() -> Knob {
    let w = two_green();
    let out = w.cmd("merge", &["--pause", "0", "--max", "1"]);
    ensure!(puts(&w) == 1, "{}", said(&out));
    Ok(())
}

pub(crate) fn knob_merge_pause() -> Knob {
    let w = two_green();
    let out = w.cmd("merge", &["--pause=-1"]);
    ensure!(
        out.status.code() == Some(2) && text(&out.stderr).contains("E559"),
        "{}",
        said(&out)
    );
    let out = w.cmd("merge", &["--pause", "0.01"]);
    ensure!(puts(&w) == 2, "{}", said(&out));
    Ok(())
}

pub(crate) fn knob_merge_dry_run() -> Knob {
    let w = two_green();
    let main = w.rev("a", "main");
    let out = w.cmd("merge", &["--dry-run"]);
    ensure!(
        puts(&w) == 0 && w.rev("a", "main") == main && text(&out.stdout).contains("would merge"),
        "{}",
        said(&out)
    );
    Ok(())
}

pub(crate) fn knob_merge_include_foreign() -> Knob {
    let w = World::new(&[("a", "hello\n")]);
    w.run_pr();
    w.colleague_pushes("a");
    w.green("a");
    w.approve("a");
    let out = w.cmd("merge", &["--pause", "0"]);
    ensure!(puts(&w) == 0, "a foreign head merged: {}", said(&out));
    let out = w.cmd("merge", &["--pause", "0", "--include-foreign"]);
    ensure!(puts(&w) == 1, "{}", said(&out));
    Ok(())
}

pub(crate) fn knob_close_comment() -> Knob {
    let w = World::new(&[("a", "hello\n")]);
    w.run_pr();
    let out = w.cmd("close", &["--comment", "Bye."]);
    let pr = w.gh.pr("acme/a", 1);
    ensure!(
        pr.state == "closed" && pr.comments == ["Bye."],
        "{}",
        said(&out)
    );
    Ok(())
}

pub(crate) fn knob_close_delete_branch() -> Knob {
    let w = World::new(&[("a", "hello\n"), ("b", "hello\n")]);
    w.run_pr();
    w.cmd("close", &[]);
    ensure!(
        w.rev("a", "refs/heads/codefleet/greet").is_some(),
        "deleted without the flag"
    );
    let out = w.cmd("close", &["--delete-branch"]);
    ensure!(
        w.rev("a", "refs/heads/codefleet/greet").is_none(),
        "{}",
        said(&out)
    );
    Ok(())
}

pub(crate) fn knob_close_dry_run() -> Knob {
    let w = World::new(&[("a", "hello\n")]);
    w.run_pr();
    let out = w.cmd("close", &["--dry-run", "--delete-branch"]);
    ensure!(
        w.gh.pr("acme/a", 1).state == "open"
            && w.rev("a", "refs/heads/codefleet/greet").is_some()
            && text(&out.stdout).contains("would close"),
        "{}",
        said(&out)
    );
    Ok(())
}
