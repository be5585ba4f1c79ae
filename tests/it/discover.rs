//! Repositories from GitHub: `repos:` `github:` entries, `--repo owner/name`, `--repo 'owner/*'`
//! and `--repos-from`, against the stateful fake GitHub (`support/github.rs`) whose repositories
//! are real bare repositories served by `git http-backend` (`support/git_http.rs`); and the
//! `.codefleetignore` opt-out. The bare remotes, read with `git`, are the witness of what ran.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

use crate::support::fixture::{self, text};
use crate::support::git_http::GitHttp;
use crate::support::github::{FakeGitHub, Repo};

fixture::topic_fixture!(wrapper);

const TOKEN: &str = "ghp_D1sc0verT0kenForTests0123456789ab";

/// The org `acme` as the scenario tests see it: 30 repositories.
/// - `svc-00` … `svc-23`: ordinary; `svc-00`…`svc-07` have the topic `rust`, `svc-00`…`svc-03`
///   also `web`; `svc-00`, `svc-05`, `svc-10`, `svc-15`, `svc-20` call `log::info!` (code hits).
/// - `old-1` … `old-3`: archived (`old-1` has the topic `rust` and a code hit).
/// - `fork-1`, `fork-2`: forks (`fork-1` has the topic `rust`).
/// - `gone`: disabled.
///
/// And the user `jo` with `dots` and a fork `jo/fork`.
struct Fleet {
    f: Fixture,
    gh: FakeGitHub,
    git: GitHttp,
}

const DROPPED: [(&str, &str); 6] = [
    ("acme/fork-1", "fork"),
    ("acme/fork-2", "fork"),
    ("acme/gone", "disabled"),
    ("acme/old-1", "archived"),
    ("acme/old-2", "archived"),
    ("acme/old-3", "archived"),
];

fn svc(i: usize) -> String {
    format!("acme/svc-{i:02}")
}

impl Fixture {
    fn new() -> Fixture {
        Fixture(fixture::Fixture::new())
    }

    /// A work repository `work/<name>` with `files` on `main`, and its bare clone
    /// `srv/<full>.git`.
    fn bare(&self, full: &str, files: &[(&str, &str)]) -> PathBuf {
        let work = self.path(&format!("work/{full}"));
        std::fs::create_dir_all(&work).expect("work dir");
        self.git_line(&work, &["init", "-q", "-b", "main"]);
        for (p, content) in files {
            fixture::write_file(&work, p, content.as_bytes());
        }
        self.git_line(&work, &["add", "-A"]);
        self.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = self.path(&format!("srv/{full}.git"));
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

    /// A pipeline `pipelines/<name>.yml` with these `repos:` lines (YAML, indented by the
    /// caller) that shouts `hello` in every file.
    fn pipeline(&self, name: &str, repos: &str) -> PathBuf {
        let p = self.path(&format!("pipelines/{name}.yml"));
        std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &p,
            format!(
                "version: 1\nname: {name}\nrepos:\n{repos}tasks:\n  - name: shout\n    \
                 replace: {{ find: hello, with: HELLO }}\n"
            ),
        )
        .expect("write pipeline");
        p
    }
}

impl Fleet {
    fn new() -> Fleet {
        let f = Fixture::new();
        let gh = FakeGitHub::start(TOKEN);
        // Repositories the test did not add are unknown, as on GitHub.
        gh.lock().strict = true;
        let git = GitHttp::start(&f.path("srv"), TOKEN);
        Fleet { f, gh, git }
    }

    /// The org of 30 and the user `jo`.
    fn acme() -> Fleet {
        let fleet = Fleet::new();
        for i in 0..24 {
            let mut files = vec![("a.txt", "hello world\n")];
            if i % 5 == 0 {
                files.push(("src/main.rs", "fn main() { log::info!(\"hi\"); }\n"));
            }
            let topics: &[&str] = match i {
                0..=3 => &["rust", "web"],
                4..=7 => &["rust"],
                _ => &[],
            };
            fleet.add(Repo::new(&svc(i)).topics(topics), &files);
        }
        let hit = [
            ("a.txt", "hello\n"),
            ("src/lib.rs", "log::info!(\"old\");\n"),
        ];
        fleet.add(Repo::new("acme/old-1").archived().topics(&["rust"]), &hit);
        fleet.add(Repo::new("acme/old-2").archived(), &[("a.txt", "hello\n")]);
        fleet.add(Repo::new("acme/old-3").archived(), &[("a.txt", "hello\n")]);
        fleet.add(
            Repo::new("acme/fork-1").fork().topics(&["rust"]),
            &[("a.txt", "hello\n")],
        );
        fleet.add(Repo::new("acme/fork-2").fork(), &[("a.txt", "hello\n")]);
        fleet.add(Repo::new("acme/gone").disabled(), &[("a.txt", "hello\n")]);
        fleet.add(Repo::new("jo/dots").user(), &[("a.txt", "hello jo\n")]);
        fleet.add(Repo::new("jo/fork").user().fork(), &[("a.txt", "hello\n")]);
        fleet
    }

    /// `repo`, backed by a bare repository holding `files` and served over http.
    fn add(&self, repo: Repo, files: &[(&str, &str)]) -> PathBuf {
        let full = repo.full_name();
        let bare = self.f.bare(&full, files);
        let url = format!("{}/{full}.git", self.git.base);
        self.gh.add_repo(repo.git(&bare, &url));
        bare
    }

    fn url(&self, full: &str) -> String {
        format!("{}/{full}.git", self.git.base)
    }

    fn bare(&self, full: &str) -> PathBuf {
        self.f.path(&format!("srv/{full}.git"))
    }

    /// codefleet in the fixture, with the fake's API and the token, plus `env`.
    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = self.f.binary(self.f.dir.path(), args);
        cmd.env("CODEFLEET_GITHUB_API_URL", &self.gh.url)
            .env("GITHUB_TOKEN", TOKEN);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.cmd(args, env).output().expect("run codefleet")
    }

    /// `plan --json` of `pipeline` (with extra arguments): the paths planned, and the dropped
    /// repositories with their reasons.
    fn plan(&self, pipeline: &Path, extra: &[&str]) -> (Vec<String>, Vec<(String, String)>) {
        let mut args = vec!["plan", pipeline.to_str().expect("utf8"), "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args, &[]);
        assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
        plan_of(&out)
    }

    /// The branch `codefleet/<pipeline>` of the bare remote of `full`, if pushed.
    fn pushed(&self, full: &str, pipeline: &str) -> Option<String> {
        self.f
            .tip(&self.bare(full), &format!("codefleet/{pipeline}"))
    }
}

/// The planned paths and dropped repositories of a `plan --json` output.
fn plan_of(out: &Output) -> (Vec<String>, Vec<(String, String)>) {
    let v: Value = serde_json::from_slice(&out.stdout).expect("plan JSON");
    let paths = v["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["path"].as_str().expect("path").to_string())
        .collect();
    let dropped = v["dropped"]
        .as_array()
        .map(|d| {
            d.iter()
                .map(|d| {
                    (
                        d["repo"].as_str().expect("repo").to_string(),
                        d["reason"].as_str().expect("reason").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    (paths, dropped)
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

impl Fleet {
    fn urls(&self, names: &[String]) -> Vec<String> {
        names.iter().map(|n| self.url(n)).collect()
    }

    fn svcs(&self, which: impl IntoIterator<Item = usize>) -> Vec<String> {
        self.urls(&which.into_iter().map(svc).collect::<Vec<_>>())
    }
}

#[test]
fn plan_lists_the_org_without_cloning_and_counts_what_it_drops() {
    let fleet = Fleet::acme();
    let p = fleet.f.pipeline("greet", "  - github: { org: acme }\n");
    let (paths, dropped) = fleet.plan(&p, &[]);
    assert_eq!(paths, fleet.svcs(0..24), "sorted by owner/name");
    assert_eq!(dropped, owned(&DROPPED));

    let out = fleet.run(&["plan", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("24 repositories to run; 6 dropped: 3 archived, 1 disabled, 2 fork"),
        "{shown}"
    );
    assert!(shown.contains("  acme/gone (disabled)"), "{shown}");
    assert!(
        !fleet.f.path("cache/codefleet/repos").exists(),
        "plan clones nothing"
    );
    let uploads = fleet
        .git
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains("upload-pack"))
        .count();
    assert_eq!(uploads, 0, "plan fetched nothing");
}

#[test]
fn run_commits_in_exactly_the_discovered_repositories() {
    let fleet = Fleet::acme();
    let p = fleet
        .f
        .pipeline("greet", "  - github: { org: acme, topics: [rust] }\n");
    let out = fleet.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    assert_eq!(report["totals"]["repos"], 8);
    assert_eq!(report["totals"]["commits"], 8);
    assert_eq!(
        report["dropped"],
        serde_json::json!([
            {"repo": "acme/fork-1", "reason": "fork"},
            {"repo": "acme/old-1", "reason": "archived"}
        ])
    );
    for i in 0..24 {
        let tip = fleet.pushed(&svc(i), "greet");
        assert_eq!(tip.is_some(), i < 8, "{}", svc(i));
        if let Some(tip) = tip {
            let bare = fleet.bare(&svc(i));
            assert_eq!(
                fleet.f.git_line(&bare, &["show", &format!("{tip}:a.txt")]),
                "HELLO world"
            );
        }
    }
    for (dropped, _) in DROPPED {
        assert_eq!(fleet.pushed(dropped, "greet"), None, "{dropped}");
    }

    // The human summary counts them too.
    let out = fleet.run(&["run", p.to_str().unwrap(), "--dry-run"], &[]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains("2 dropped: 1 archived, 1 fork before the run: acme/fork-1 (fork), acme/old-1 (archived)"),
        "{shown}"
    );
}

#[test]
fn each_filter_changes_the_selection() {
    let fleet = Fleet::acme();
    let plan = |name: &str, entry: &str| {
        let p = fleet.f.pipeline(name, &format!("  - github: {entry}\n"));
        fleet.plan(&p, &[])
    };
    let (paths, _) = plan(
        "inc",
        "{ org: acme, include: 'svc-0[0-4]$', exclude: '-03$' }",
    );
    assert_eq!(paths, fleet.svcs([0, 1, 2, 4]));
    let (paths, _) = plan("lim", "{ org: acme, limit: 3 }");
    assert_eq!(paths, fleet.svcs(0..3), "the first by owner/name");
    let (paths, dropped) = plan(
        "forks",
        "{ org: acme, forks: true, include: '^acme/(fork|old)' }",
    );
    assert_eq!(
        paths,
        fleet.urls(&["acme/fork-1".into(), "acme/fork-2".into()])
    );
    assert_eq!(
        dropped,
        owned(&[
            ("acme/old-1", "archived"),
            ("acme/old-2", "archived"),
            ("acme/old-3", "archived")
        ])
    );
    let (paths, _) = plan(
        "arch",
        "{ org: acme, archived: true, include: '^acme/(fork|old)' }",
    );
    assert_eq!(
        paths,
        fleet.urls(&[
            "acme/old-1".into(),
            "acme/old-2".into(),
            "acme/old-3".into()
        ])
    );
    let (paths, _) = plan("topics", "{ org: acme, topics: [rust, web] }");
    assert_eq!(paths, fleet.svcs(0..4), "every topic must match");
    let (paths, dropped) = plan("code", "{ org: acme, code_search: 'info!' }");
    assert_eq!(paths, fleet.svcs([0, 5, 10, 15, 20]));
    assert_eq!(dropped, owned(&[("acme/old-1", "archived")]));
    let (paths, _) = plan("search", "{ org: acme, search: 'svc-1', topics: [] }");
    assert_eq!(paths, fleet.svcs(10..20));

    let searches: Vec<String> = fleet
        .gh
        .requests()
        .into_iter()
        .filter(|r| r.target.starts_with("/search/"))
        .map(|r| r.target)
        .collect();
    assert!(
        searches
            .iter()
            .any(|t| t.starts_with("/search/code?") && t.contains("org%3Aacme")),
        "{searches:?}"
    );
}

#[test]
fn the_command_line_takes_owners_repositories_and_lists() {
    let fleet = Fleet::acme();
    // `repos:` names something else; `--repo` replaces it.
    let p = fleet.f.pipeline("greet", "  - path: .\n");
    let (paths, dropped) = fleet.plan(&p, &["--repo", "acme/*"]);
    assert_eq!(paths, fleet.svcs(0..24));
    assert_eq!(dropped, owned(&DROPPED));
    // A user: the org listing answers 404, the user listing follows.
    let (paths, dropped) = fleet.plan(&p, &["--repo", "jo/*"]);
    assert_eq!(paths, fleet.urls(&["jo/dots".into()]));
    assert_eq!(dropped, owned(&[("jo/fork", "fork")]));
    // One repository, and the explicit form; a fork named by hand runs.
    let (paths, _) = fleet.plan(&p, &["--repo", "acme/svc-07", "--repo", "github:jo/fork"]);
    assert_eq!(paths, fleet.urls(&[svc(7), "jo/fork".into()]));
    // An archived repository named by hand is still dropped.
    let (paths, dropped) = fleet.plan(&p, &["--repo", "acme/old-2"]);
    assert!(paths.is_empty());
    assert_eq!(dropped, owned(&[("acme/old-2", "archived")]));

    // A file with comments, mixing forms; the same repository twice runs once.
    let list = fleet.f.path("lists/fleet.txt");
    fixture::write_file(
        &fleet.f.path("lists"),
        "fleet.txt",
        format!(
            "# the web services\nacme/svc-01\nacme/svc-02   # again below\n\n{}\ngithub:acme/svc-02\n",
            fleet.url("acme/svc-03")
        )
        .as_bytes(),
    );
    let (paths, _) = fleet.plan(&p, &["--repos-from", list.to_str().unwrap()]);
    assert_eq!(paths, fleet.svcs([1, 2, 3]));

    // Standard input.
    let mut child = fleet
        .cmd(
            &["plan", p.to_str().unwrap(), "--json", "--repos-from", "-"],
            &[],
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"jo/dots\n# nothing else\nacme/svc-09\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let (paths, _) = plan_of(&out);
    assert_eq!(
        paths,
        fleet.urls(&["jo/dots".into(), svc(9)]),
        "in the order given"
    );

    // A local directory of that name stays a path.
    let local = fleet.f.repo("acme/svc-05", &[("a.txt", "hello\n")]);
    let out = fleet.run(
        &[
            "plan",
            p.to_str().unwrap(),
            "--json",
            "--repo",
            "acme/svc-05",
        ],
        &[],
    );
    let (paths, _) = plan_of(&out);
    assert_eq!(paths, ["acme/svc-05"], "{}", local.display());
}

#[test]
fn github_clone_ssh_runs_from_the_ssh_url() {
    let fleet = Fleet::acme();
    let p = fleet
        .f
        .pipeline("greet", "  - github: { org: acme, limit: 2 }\n");
    let out = fleet.run(
        &["plan", p.to_str().unwrap(), "--json"],
        &[("CODEFLEET_GITHUB_CLONE", "ssh")],
    );
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let (paths, _) = plan_of(&out);
    assert_eq!(
        paths,
        [
            "git@github.example:acme/svc-00.git",
            "git@github.example:acme/svc-01.git"
        ]
    );
    let out = fleet.run(&["config"], &[("CODEFLEET_GITHUB_CLONE", "ssh")]);
    let shown = text(&out.stdout);
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("github.clone") && l.contains("ssh")),
        "{shown}"
    );
}

#[test]
fn a_codefleetignore_opts_a_repository_out() {
    let fleet = Fleet::new();
    let plain = [("a.txt", "hello\n")];
    fleet.add(
        Repo::new("acme/all-out"),
        &[("a.txt", "hello\n"), (".codefleetignore", "")],
    );
    fleet.add(
        Repo::new("acme/greet-out"),
        &[
            ("a.txt", "hello\n"),
            (".codefleetignore", "# not these\ngre?t*\n"),
        ],
    );
    fleet.add(
        Repo::new("acme/other-out"),
        &[("a.txt", "hello\n"), (".codefleetignore", "migrate-*\n")],
    );
    fleet.add(Repo::new("acme/plain"), &plain);
    let p = fleet.f.pipeline("greet", "  - github: { org: acme }\n");
    let out = fleet.run(&["run", p.to_str().unwrap(), "--push", "--json"], &[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "opting out is no failure: {}",
        fixture::said(&out)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("report");
    let status = |i: usize| {
        let r = &report["repos"][i];
        (
            r["name"].as_str().unwrap().to_string(),
            r["status"].as_str().unwrap().to_string(),
            r["message"].as_str().unwrap_or("").to_string(),
        )
    };
    assert_eq!(status(0).1, "skipped");
    assert!(status(0).2.contains(".codefleetignore"), "{:?}", status(0));
    assert_eq!(status(1).1, "skipped");
    assert!(status(1).2.contains("`gre?t*`"), "{:?}", status(1));
    assert_eq!(status(2).1, "changed");
    assert_eq!(status(3).1, "changed");
    assert_eq!(report["totals"]["repos_failed"], 0);
    assert_eq!(fleet.pushed("acme/all-out", "greet"), None);
    assert_eq!(fleet.pushed("acme/greet-out", "greet"), None);
    assert!(fleet.pushed("acme/other-out", "greet").is_some());
    assert!(fleet.pushed("acme/plain", "greet").is_some());

    let out = fleet.run(&["run", p.to_str().unwrap(), "--dry-run"], &[]);
    let shown = text(&out.stdout);
    assert!(
        shown.contains(
            "all-out.git: skipped: opted out by `.codefleetignore` (empty: every pipeline)"
        ),
        "{shown}"
    );

    // `plan` shows it for a local repository, which it opens.
    let local = fleet.f.repo(
        "local",
        &[("a.txt", "hello\n"), (".codefleetignore", "greet\n")],
    );
    let out = fleet.run(
        &[
            "plan",
            p.to_str().unwrap(),
            "--repo",
            local.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    assert!(
        text(&out.stdout).contains("skipped: opted out by `.codefleetignore` (`greet`)"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn unknown_owners_and_bad_entries_are_errors_with_their_place_and_a_hint() {
    let fleet = Fleet::acme();
    let p = fleet.f.pipeline("greet", "  - github: { org: nobody }\n");
    let out = fleet.run(&["plan", p.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(said.contains("E550"), "{said}");
    assert!(
        said.contains("GitHub has no organisation `nobody`"),
        "{said}"
    );
    assert!(said.contains("write `user: nobody`"), "{said}");

    let out = fleet.run(
        &["plan", p.to_str().unwrap(), "--repo", "acme/nothing"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(said.contains("E551"), "{said}");
    assert!(
        said.contains("no local path `acme/nothing`, and GitHub has no repository `acme/nothing`"),
        "{said}"
    );

    let both = fleet
        .f
        .pipeline("both", "  - github:\n      org: acme\n      user: jo\n");
    let out = fleet.run(&["validate", both.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    let said = text(&out.stderr);
    assert!(
        said.contains("a `github` entry has both `org` and `user`"),
        "{said}"
    );
    assert!(said.contains("both.yml:6:7"), "the place of `user`: {said}");
    assert!(said.contains("give each owner its own"), "{said}");

    for (entry, expected) in [
        ("{ org: acme, limit: 0 }", "`limit` must be at least 1"),
        ("{ org: acme, include: '(' }", "invalid regex in `include`"),
        ("{ org: acme, topic: [rust] }", "topic"),
        ("{ topics: [rust] }", "needs `org` or `user`"),
    ] {
        let bad = fleet.f.pipeline("bad", &format!("  - github: {entry}\n"));
        let out = fleet.run(&["validate", bad.to_str().unwrap()], &[]);
        assert_eq!(out.status.code(), Some(2), "{entry}");
        assert!(
            text(&out.stderr).contains(expected),
            "{entry}: {}",
            text(&out.stderr)
        );
    }
    // Nothing was asked of GitHub for a pipeline that does not validate.
    let out = fleet.run(&["plan", both.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
}
