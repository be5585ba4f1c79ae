//! Issue 19's campaign, the same scenario once per forge (GitHub, GitLab, Gitea) from one
//! table: discover (a GitHub org, a GitLab group with a subgroup, a Gitea organisation), `run --pr`
//! opening pull/merge requests, CI and approvals, `status` (rows and `--json`), `merge`, a
//! person closes one and the scheduled re-run leaves it closed, `close --delete-branch`. Each
//! forge is its stateful fake, which checks requests and answers against the forge's published
//! description; the remotes are real bare repositories served by `git http-backend`, reached
//! through the clone URL each API returns, and `git` on them is the witness.

use std::path::PathBuf;
use std::process::{Command, Output};

use codefleet::forge::marker::Marker;
use serde_json::Value;

use crate::support::fixture::{self, text};
use crate::support::git_http::GitHttp;
use crate::support::gitea::{self as tea, FakeGitea};
use crate::support::github::{FakeGitHub, Repo, commit_files};
use crate::support::gitlab::{FakeGitLab, Project};

fixture::topic_fixture!();

const TOKEN: &str = "tok_F0rgesScenar1oThatMustNeverBeShown7";
const OLD: &str = "legacy_call";
const BRANCH: &str = "codefleet/modernize";
const HIT: &str = "fn main() {\n    legacy_call();\n}\n";
const FIXED: &str = "fn main() {\n    modern_call();\n}\n";

/// A pull request (merge request) as the test reads it from a fake, in GitHub's words.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Pr {
    number: u64,
    /// `open`, `closed` or `merged`.
    state: String,
    head: String,
    base: String,
    title: String,
    body: String,
    comments: Vec<String>,
}

/// How a repository is listed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Flag {
    Plain,
    Archived,
    Fork,
}

/// One forge of the table: its fake, how the binary reaches it, and how CI and people act on it.
trait Side {
    /// The forge's name in `--json` (`github`, `gitlab`, `gitea`).
    fn forge(&self) -> &'static str;
    /// The `repos:` entry that discovers the scenario's repositories.
    fn entry(&self) -> String;
    /// The four repositories the scenario runs on, by their path on the forge (a GitLab
    /// group's subgroup holds two), then an archived one and a fork.
    fn names(&self) -> [&'static str; 6];
    /// Adds a repository backed by a bare repository whose `main` holds `src/main.rs`.
    fn add(&self, full: &str, flag: Flag);
    /// The bare repository behind `full`.
    fn bare(&self, full: &str) -> PathBuf;
    /// The clone URL the forge's API gives for `full`.
    fn url(&self, full: &str) -> String;
    /// Points the binary at the fake: environment and settings.
    fn prepare(&self, f: &Fixture, cmd: &mut Command);
    /// The only pull request of `full`.
    fn pr(&self, full: &str) -> Pr;
    /// How many pull requests the fake holds.
    fn count(&self) -> usize;
    /// CI reports on `sha`: passed (`Some(true)`), failed, or still running (`None`).
    fn ci(&self, full: &str, sha: &str, passed: Option<bool>);
    /// A maintainer approves.
    fn approve(&self, full: &str, number: u64);
    /// A person closes it in the web interface.
    fn close_by_person(&self, full: &str, number: u64);
    /// Every request and answer followed the forge's description.
    fn conforms(&self);
    /// How the forge's people name a pull request in text (`pull request #3`).
    fn pr_words(&self, number: u64) -> String;
}

/// GitHub: the fake API, and the remotes served by `git http-backend` under `srv`.
struct GitHubSide {
    gh: FakeGitHub,
    git: GitHttp,
    srv: PathBuf,
}

impl GitHubSide {
    fn start(f: &Fixture) -> GitHubSide {
        let srv = f.path("srv");
        std::fs::create_dir_all(&srv).expect("srv");
        let gh = FakeGitHub::start(TOKEN);
        // Repositories the test did not add are unknown, as on GitHub.
        gh.lock().strict = true;
        GitHubSide {
            gh,
            git: GitHttp::start(&srv, TOKEN),
            srv,
        }
    }
}

impl Side for GitHubSide {
    fn forge(&self) -> &'static str {
        "github"
    }
    fn entry(&self) -> String {
        "github: { org: acme }".into()
    }
    fn names(&self) -> [&'static str; 6] {
        [
            "acme/svc-0",
            "acme/svc-1",
            "acme/svc-2",
            "acme/svc-3",
            "acme/old",
            "acme/fork",
        ]
    }
    fn add(&self, full: &str, flag: Flag) {
        let repo = match flag {
            Flag::Plain => Repo::new(full),
            Flag::Archived => Repo::new(full).archived(),
            Flag::Fork => Repo::new(full).fork(),
        };
        self.gh
            .add_with_git(&self.srv, &self.git.base, repo, &[("src/main.rs", HIT)]);
    }
    fn bare(&self, full: &str) -> PathBuf {
        self.srv.join(format!("{full}.git"))
    }
    fn url(&self, full: &str) -> String {
        format!("{}/{full}.git", self.git.base)
    }
    fn prepare(&self, _: &Fixture, cmd: &mut Command) {
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", &self.gh.url);
    }
    fn pr(&self, full: &str) -> Pr {
        let prs: Vec<_> = self
            .gh
            .prs()
            .into_iter()
            .filter(|p| p.repo == full)
            .collect();
        assert_eq!(prs.len(), 1, "{full}: {prs:#?}");
        let p = prs.into_iter().next().expect("one");
        Pr {
            number: p.number,
            state: if p.merged() {
                "merged".into()
            } else {
                p.state.clone()
            },
            head: p.head.clone(),
            base: p.base.clone(),
            title: p.title.clone(),
            body: p.body.clone(),
            comments: p.comments.clone(),
        }
    }
    fn count(&self) -> usize {
        self.gh.prs().len()
    }
    fn ci(&self, full: &str, sha: &str, passed: Option<bool>) {
        match passed {
            Some(ok) => self.gh.set_check(
                full,
                sha,
                "build",
                "completed",
                Some(if ok { "success" } else { "failure" }),
            ),
            None => self.gh.set_check(full, sha, "build", "in_progress", None),
        }
    }
    fn approve(&self, full: &str, number: u64) {
        self.gh.review(full, number, "maintainer", "APPROVED");
    }
    fn close_by_person(&self, full: &str, number: u64) {
        self.gh.close_pr(full, number);
    }
    fn conforms(&self) {
        self.gh.assert_conforms();
    }
    fn pr_words(&self, number: u64) -> String {
        format!("pull request #{number}")
    }
}

/// GitLab: the fake (API and git on one port), listed under `gitlab.hosts`; the group `acme`
/// has a subgroup `acme/platform`.
struct GitLabSide {
    lab: FakeGitLab,
}

impl GitLabSide {
    fn start(f: &Fixture) -> GitLabSide {
        let lab = FakeGitLab::start(&f.path("srv"), TOKEN);
        lab.add_user("maintainer");
        GitLabSide { lab }
    }

    fn host(&self) -> &str {
        self.lab.url.trim_start_matches("http://")
    }
}

impl Side for GitLabSide {
    fn forge(&self) -> &'static str {
        "gitlab"
    }
    fn entry(&self) -> String {
        format!("gitlab: {{ host: '{}', group: acme }}", self.host())
    }
    fn names(&self) -> [&'static str; 6] {
        [
            "acme/svc-0",
            "acme/svc-1",
            "acme/platform/svc-2",
            "acme/platform/svc-3",
            "acme/old",
            "acme/platform/fork",
        ]
    }
    fn add(&self, full: &str, flag: Flag) {
        let project = match flag {
            Flag::Plain => Project::new(full),
            Flag::Archived => Project::new(full).archived(),
            Flag::Fork => Project::new(full).fork_of("upstream/svc"),
        };
        self.lab.add_project(project, &[("src/main.rs", HIT)]);
    }
    fn bare(&self, full: &str) -> PathBuf {
        self.lab.root.join(format!("{full}.git"))
    }
    fn url(&self, full: &str) -> String {
        self.lab.clone_url(full)
    }
    fn prepare(&self, f: &Fixture, cmd: &mut Command) {
        let config = f.path("config/codefleet/config.yml");
        std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &config,
            format!(
                "gitlab:\n  hosts:\n    - {{ host: '{}', api_url: '{}' }}\n",
                self.host(),
                self.lab.api
            ),
        )
        .expect("settings");
        cmd.env("GITLAB_TOKEN", TOKEN);
    }
    fn pr(&self, full: &str) -> Pr {
        let mrs: Vec<_> = self
            .lab
            .mrs()
            .into_iter()
            .filter(|m| m.project == full)
            .collect();
        assert_eq!(mrs.len(), 1, "{full}: {mrs:#?}");
        let m = mrs.into_iter().next().expect("one");
        Pr {
            number: m.iid,
            state: match m.state.as_str() {
                "opened" => "open".into(),
                other => other.into(),
            },
            head: m.source_branch,
            base: m.target_branch,
            title: m.title,
            body: m.description,
            comments: m.notes,
        }
    }
    fn count(&self) -> usize {
        self.lab.mrs().len()
    }
    fn ci(&self, full: &str, sha: &str, passed: Option<bool>) {
        let status = match passed {
            Some(true) => "success",
            Some(false) => "failed",
            None => "running",
        };
        self.lab.set_pipeline(full, sha, status);
    }
    fn approve(&self, full: &str, number: u64) {
        self.lab.approve(full, number, "maintainer");
    }
    fn close_by_person(&self, full: &str, number: u64) {
        self.lab.close_mr(full, number);
    }
    fn conforms(&self) {
        self.lab.assert_conforms();
    }
    fn pr_words(&self, number: u64) -> String {
        format!("merge request !{number}")
    }
}

/// Gitea: the fake (API and git on one port), listed under `gitea.hosts`; the organisation
/// `acme` holds the scenario's repositories.
struct GiteaSide {
    gt: FakeGitea,
}

impl GiteaSide {
    fn start(f: &Fixture) -> GiteaSide {
        let gt = FakeGitea::start(TOKEN, &f.path("srv"));
        gt.add_user("maintainer");
        GiteaSide { gt }
    }

    fn host(&self) -> &str {
        self.gt.url.trim_start_matches("http://")
    }
}

impl Side for GiteaSide {
    fn forge(&self) -> &'static str {
        "gitea"
    }
    fn entry(&self) -> String {
        format!("gitea: {{ host: '{}', org: acme }}", self.host())
    }
    fn names(&self) -> [&'static str; 6] {
        [
            "acme/svc-0",
            "acme/svc-1",
            "acme/svc-2",
            "acme/svc-3",
            "acme/old",
            "acme/fork",
        ]
    }
    fn add(&self, full: &str, flag: Flag) {
        let repo = match flag {
            Flag::Plain => tea::Repo::new(full),
            Flag::Archived => tea::Repo::new(full).archived(),
            Flag::Fork => tea::Repo::new(full).fork(),
        };
        self.gt.add_with_git(repo, &[("src/main.rs", HIT)]);
    }
    fn bare(&self, full: &str) -> PathBuf {
        self.gt.root.join(format!("{full}.git"))
    }
    fn url(&self, full: &str) -> String {
        format!("{}/{full}.git", self.gt.url)
    }
    fn prepare(&self, f: &Fixture, cmd: &mut Command) {
        let config = f.path("config/codefleet/config.yml");
        std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &config,
            format!(
                "gitea:\n  hosts:\n    - {{ host: '{}', api_url: '{}' }}\n",
                self.host(),
                self.gt.api
            ),
        )
        .expect("settings");
        cmd.env("GITEA_TOKEN", TOKEN);
    }
    fn pr(&self, full: &str) -> Pr {
        let prs: Vec<_> = self
            .gt
            .prs()
            .into_iter()
            .filter(|p| p.repo == full)
            .collect();
        assert_eq!(prs.len(), 1, "{full}: {prs:#?}");
        let p = prs.into_iter().next().expect("one");
        Pr {
            number: p.number,
            state: if p.merged { "merged".into() } else { p.state },
            head: p.head,
            base: p.base,
            title: p.title,
            body: p.body,
            comments: p.comments,
        }
    }
    fn count(&self) -> usize {
        self.gt.prs().len()
    }
    fn ci(&self, full: &str, sha: &str, passed: Option<bool>) {
        let state = match passed {
            Some(true) => "success",
            Some(false) => "failure",
            None => "pending",
        };
        self.gt.set_status(full, sha, "build", state);
    }
    fn approve(&self, full: &str, number: u64) {
        self.gt.review(full, number, "maintainer", "APPROVED");
    }
    fn close_by_person(&self, full: &str, number: u64) {
        self.gt.close_pr(full, number);
    }
    fn conforms(&self) {
        self.gt.assert_conforms();
    }
    fn pr_words(&self, number: u64) -> String {
        format!("pull request #{number}")
    }
}

/// The scenario's world: the fixture, one forge, the pipeline.
struct World<'a> {
    f: &'a Fixture,
    side: &'a dyn Side,
    pipeline: PathBuf,
}

impl World<'_> {
    fn bare(&self, full: &str) -> PathBuf {
        self.side.bare(full)
    }

    fn url(&self, full: &str) -> String {
        self.side.url(full)
    }

    /// `codefleet COMMAND <pipeline> ARGS`, run to its end; the token is never shown.
    fn cmd(&self, command: &str, args: &[&str]) -> Output {
        let mut all = vec![command, self.pipeline.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        let mut cmd = self.f.binary(self.f.dir.path(), &all);
        self.side.prepare(self.f, &mut cmd);
        let out = cmd.output().expect("codefleet");
        let said = fixture::said(&out);
        assert!(!said.contains(TOKEN), "{command} showed the token: {said}");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {command}: {said}",
            self.side.forge()
        );
        out
    }

    fn tip(&self, full: &str, branch: &str) -> Option<String> {
        self.f.tip(&self.bare(full), branch)
    }

    fn main_rs(&self, full: &str, rev: &str) -> String {
        self.f
            .git(&self.bare(full), &["show", &format!("{rev}:src/main.rs")])
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", fixture::said(out)))
}

fn row<'a>(doc: &'a Value, full: &str) -> &'a Value {
    doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .find(|r| r["repo"] == full)
        .unwrap_or_else(|| panic!("no row {full}: {doc}"))
}

/// The scenario on one forge, in the fixture `f` its fake was started in.
fn campaign(f: &Fixture, side: &dyn Side) {
    let names = side.names();
    let [a, b, c, d, old, fork] = names;
    for full in [a, b, c, d] {
        side.add(full, Flag::Plain);
    }
    side.add(old, Flag::Archived);
    side.add(fork, Flag::Fork);
    let pipeline = f.path("pipelines/modernize.yml");
    std::fs::create_dir_all(pipeline.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &pipeline,
        format!(
            "version: 1\nname: modernize\nrepos:\n  - {}\npr:\n  title: \"modernize {{{{ \
             repo.name }}}}\"\ntasks:\n  - name: rename\n    replace: {{ find: {OLD}, with: \
             modern_call }}\n",
            side.entry()
        ),
    )
    .expect("pipeline");
    let w = World { f, side, pipeline };
    let forge = side.forge();

    // 1. `plan`: the four, from the clone URLs the API gave; the archived one and the fork
    //    dropped and counted.
    let doc = json(&w.cmd("plan", &["--json"]));
    let planned: Vec<&str> = doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    let mut want: Vec<String> = [a, b, c, d].iter().map(|n| w.url(n)).collect();
    want.sort();
    let mut got: Vec<String> = planned.iter().map(|s| s.to_string()).collect();
    got.sort();
    assert_eq!(got, want, "{forge}");
    let mut dropped = vec![(fork, "fork"), (old, "archived")];
    dropped.sort();
    let dropped: Vec<Value> = dropped
        .into_iter()
        .map(|(repo, reason)| serde_json::json!({"repo": repo, "reason": reason}))
        .collect();
    assert_eq!(doc["dropped"], Value::Array(dropped), "{forge}");

    // 2. `run --pr`: a commit on each run branch and a pull request with the marker.
    w.cmd("run", &["--pr"]);
    assert_eq!(side.count(), 4, "{forge}");
    let mut heads = Vec::new();
    for full in [a, b, c, d] {
        let head = w
            .tip(full, BRANCH)
            .unwrap_or_else(|| panic!("{forge} {full}: no run branch"));
        assert_eq!(w.main_rs(full, &head), FIXED, "{forge} {full}");
        let pr = side.pr(full);
        assert_eq!(
            (pr.state.as_str(), pr.head.as_str(), pr.base.as_str()),
            ("open", BRANCH, "main"),
            "{forge} {full}"
        );
        let name = full.rsplit('/').next().expect("name");
        assert_eq!(pr.title, format!("modernize {name}"), "{forge}");
        let m = Marker::read(&pr.body).unwrap_or_else(|| panic!("no marker: {}", pr.body));
        assert_eq!(m.head.as_deref(), Some(head.as_str()), "{forge} {full}");
        heads.push(head);
    }
    for full in [old, fork] {
        assert_eq!(w.tip(full, BRANCH), None, "{forge} {full} untouched");
    }

    // 3. CI: `a`, `b`, `d` pass, `c` fails; `a`, `b`, `c` approved.
    for (full, head, passed) in [
        (a, &heads[0], Some(true)),
        (b, &heads[1], Some(true)),
        (c, &heads[2], Some(false)),
        (d, &heads[3], Some(true)),
    ] {
        side.ci(full, head, passed);
    }
    for full in [a, b, c] {
        side.approve(full, side.pr(full).number);
    }

    // 4. `status`: the rows and the totals.
    let doc = json(&w.cmd("status", &["--json"]));
    assert_eq!(doc["totals"]["repos"], 4, "{forge}: {doc}");
    for full in [a, b, c, d] {
        assert_eq!(row(&doc, full)["forge"], forge, "{forge} {full}: {doc}");
    }
    assert_eq!(doc["totals"]["open"], 4, "{forge}: {doc}");
    assert_eq!(doc["totals"]["green"], 3, "{forge}: {doc}");
    assert_eq!(doc["totals"]["red"], 1, "{forge}: {doc}");
    assert_eq!(row(&doc, c)["checks"], "failure", "{forge}");
    assert_eq!(row(&doc, a)["review"], "approved", "{forge}");
    assert_eq!(row(&doc, d)["review"], "none", "{forge}");
    let table = text(&w.cmd("status", &[]).stdout);
    assert!(
        table.contains("4 repos: 0 merged, 4 open (3 green, 1 red, 0 pending), 0 closed, 0 none"),
        "{forge}: {table}"
    );

    // 5. `merge`: exactly the green and approved ones.
    let mains: Vec<String> = [a, b, c, d]
        .iter()
        .map(|n| w.tip(n, "main").expect("main"))
        .collect();
    let out = w.cmd("merge", &["--pause", "0"]);
    let table = text(&out.stdout);
    assert!(
        table.contains("merged 2 of 4 repositories; 0 failed"),
        "{forge}: {table}"
    );
    for (k, full) in [a, b].into_iter().enumerate() {
        assert_eq!(side.pr(full).state, "merged", "{forge} {full}");
        assert_eq!(w.main_rs(full, "main"), FIXED, "{forge} {full}");
        let contains = w.f.git_out(
            &w.bare(full),
            &["merge-base", "--is-ancestor", &heads[k], "main"],
        );
        assert!(
            contains.status.success(),
            "{forge} {full}: run commit in main"
        );
    }
    for (k, full) in [(2, c), (3, d)] {
        assert_eq!(side.pr(full).state, "open", "{forge} {full}");
        assert_eq!(
            w.tip(full, "main").as_ref(),
            Some(&mains[k]),
            "{forge} {full}"
        );
    }

    // 6. A person closes `c`'s; upstream moves on; the scheduled re-run leaves it closed.
    let closed = side.pr(c).number;
    side.close_by_person(c, closed);
    let closed_tip = w.tip(c, BRANCH).expect("branch");
    commit_files(
        &w.bare(c),
        "main",
        None,
        &[("src/extra.rs", "pub fn f() { legacy_call(); }\n")],
        "upstream: another call",
    );
    let before = side.count();
    let shown = text(&w.cmd("run", &["--pr"]).stdout);
    assert!(
        shown.contains(&format!("skipped: {} was closed", side.pr_words(closed))),
        "{forge}: {shown}"
    );
    assert_eq!(w.tip(c, BRANCH), Some(closed_tip), "{forge}: no push");
    assert_eq!(side.pr(c).state, "closed", "{forge}");
    assert_eq!(side.count(), before, "{forge}: nothing recreated");

    // 7. `close --delete-branch`: `d`'s closed with the comment; the run branches of `c` and
    //    `d` deleted on the remotes.
    w.cmd(
        "close",
        &[
            "--comment",
            "Superseded by the v2 migration.",
            "--delete-branch",
        ],
    );
    let pr = side.pr(d);
    assert_eq!(pr.state, "closed", "{forge}");
    assert_eq!(pr.comments, ["Superseded by the v2 migration."], "{forge}");
    for full in [c, d] {
        assert_eq!(
            w.tip(full, BRANCH),
            None,
            "{forge} {full}: run branch deleted"
        );
    }
    side.conforms();
}

/// The scenario on each forge, from one table.
#[test]
fn one_campaign_on_every_forge() {
    type Start = fn(&Fixture) -> Box<dyn Side>;
    let table: [(&str, Start); 3] = [
        ("github", |f| Box::new(GitHubSide::start(f))),
        ("gitea", |f| Box::new(GiteaSide::start(f))),
        ("gitlab", |f| Box::new(GitLabSide::start(f))),
    ];
    for (name, start) in table {
        let f = Fixture::new();
        let side = start(&f);
        assert_eq!(side.forge(), name);
        campaign(&f, side.as_ref());
    }
}

/// `examples/gitlab-ci/.gitlab-ci.yml` is valid GitLab CI (GitLab's schema, as check-jsonschema
/// vendors it), runs only from a schedule or the web, and every `codefleet` line in it uses a
/// command and flags the binary accepts.
#[test]
fn the_gitlab_ci_example_is_valid_and_its_commands_parse() {
    let f = Fixture::new();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let example = root.join("examples/gitlab-ci/.gitlab-ci.yml");
    let yaml = std::fs::read_to_string(&example).expect("the example");
    assert!(
        yaml.contains("$CI_PIPELINE_SOURCE == \"schedule\""),
        "runs on a schedule"
    );
    assert!(yaml.contains("CI_JOB_TOKEN") && yaml.contains("GITLAB_TOKEN"));
    let lines: Vec<&str> = yaml
        .lines()
        .filter_map(|l| l.trim().strip_prefix("- codefleet "))
        .collect();
    let mut seen = Vec::new();
    for line in &lines {
        let command = line.split(['>', '|']).next().expect("command");
        let mut args: Vec<String> = command
            .split_whitespace()
            .map(|a| a.trim_matches('"').replace("$PIPELINE", "p.yml"))
            .collect();
        seen.push(args.join(" "));
        args.push("--help".into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = f.run(f.dir.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{line}: {}",
            fixture::said(&out)
        );
    }
    for want in [
        "run p.yml --pr --json",
        "status p.yml",
        "merge p.yml --auto",
    ] {
        assert!(seen.iter().any(|s| s == want), "{want}: {seen:?}");
    }
    let Some(check) = lint_tool("check-jsonschema") else {
        return;
    };
    let out = Command::new(check)
        .args(["--builtin-schema", "vendor.gitlab-ci"])
        .arg(&example)
        .output()
        .expect("check-jsonschema");
    assert!(out.status.success(), "{}", fixture::said(&out));
}

/// A lint tool `.ci/run` installs into `target/actionlint-venv`, or one on PATH; under CI it
/// must be there, elsewhere its check is skipped with a message.
fn lint_tool(name: &str) -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let venv = root.join("target/actionlint-venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing under CI: .ci/run installs it into target/actionlint-venv"
        );
        eprintln!("skipped: {name} is not installed (bash .ci/run installs it)");
    }
    found
}
