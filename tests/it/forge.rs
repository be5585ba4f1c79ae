//! Pull requests against an in-process GitHub API on 127.0.0.1 (GitHub's REST shapes): open,
//! update on a re-run, close when the change became empty, 422 "already exists", 403 rate
//! limits with `retry-after`, pagination, the per-run cap; and the token never shown.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::github;

use std::path::PathBuf;
use std::process::{Command, Output};

use codefleet::forge::marker::{self, Marker};
use codefleet::forge::{Created, Forge, GitHub, NewPullRequest, RepoId, open_or_update};
use codefleet::git::Secret;

const TOKEN: &str = "ghp_ForgeT0kenThatMustNeverBeShown42";

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

    /// Commits `content` as `a.txt` on the remote's main.
    fn update_main(&self, name: &str, content: &str) {
        let work = self.path(&format!("work/{name}"));
        std::fs::write(work.join("a.txt"), content).unwrap();
        self.git_line(&work, &["commit", "-q", "-am", "upstream"]);
        let bare = self.path(&format!("srv/acme/{name}.git"));
        self.git_line(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    }

    fn pipeline(&self, names: &[&str]) -> PathBuf {
        let repos: String = names
            .iter()
            .map(|n| {
                format!(
                    "  - url: file://{}\n",
                    self.path(&format!("srv/acme/{n}.git")).display()
                )
            })
            .collect();
        let p = self.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                "version: 1\nname: greet\nrepos:\n{repos}pr:\n  title: \"greet {{{{ repo.name }}}}\"\n  \
                 body: \"Shouting in {{{{ repo.name }}}}.\"\n  draft: true\n  labels: [bot, chore]\n  \
                 reviewers: [octocat, acme/platform]\ntasks:\n  - name: shout\n    \
                 replace: {{ find: hello, with: HELLO }}\n"
            ),
        )
        .unwrap();
        p
    }

    fn run(&self, args: &[&str], api: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", api)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("codefleet")
    }
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

fn repo() -> RepoId {
    RepoId {
        owner: "acme".into(),
        name: "svc".into(),
    }
}

fn new_pr(head: &str) -> NewPullRequest {
    NewPullRequest {
        title: "t".into(),
        body: "b".into(),
        head: head.into(),
        base: "main".into(),
        draft: false,
        labels: vec![],
        reviewers: vec![],
        ..NewPullRequest::default()
    }
}

#[test]
fn run_pr_opens_then_updates_then_closes_when_the_change_becomes_empty() {
    let f = Fixture::new();
    f.bare("svc", "hello world\n");
    let gh = github::FakeGitHub::start(TOKEN);
    let p = f.pipeline(&["svc"]);
    let p = p.to_str().unwrap();

    let mut outputs = Vec::new();
    let out = f.run(&["run", p, "--pr", "--json"], &gh.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    outputs.push(out);
    let pr = &report["repos"][0]["publish"]["pull_request"];
    assert_eq!(pr["action"], "opened");
    assert_eq!(pr["number"], 1);
    assert_eq!(pr["url"], "https://github.example/acme/svc/pull/1");
    let prs = gh.prs();
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].title, "greet svc");
    assert_eq!(marker::strip(&prs[0].body), "Shouting in svc.");
    assert_eq!(
        (prs[0].head.as_str(), prs[0].base.as_str()),
        ("codefleet/greet", "main")
    );
    assert!(prs[0].draft);
    assert_eq!(prs[0].labels, ["bot", "chore"]);
    assert_eq!(prs[0].reviewers, ["octocat"]);
    assert_eq!(prs[0].team_reviewers, ["platform"]);
    // The branch the pull request names was pushed, and the marker names the pushed tip.
    let bare = f.path("srv/acme/svc.git");
    assert_eq!(
        f.git_line(&bare, &["show", "codefleet/greet:a.txt"]),
        "HELLO world"
    );
    let m = Marker::read(&prs[0].body).expect("a marker");
    assert_eq!(
        m.head.as_deref(),
        Some(
            f.git_line(&bare, &["rev-parse", "codefleet/greet"])
                .as_str()
        )
    );
    assert_eq!(m.title, Some(marker::text_digest("greet svc")));

    // Upstream moves on: the re-run updates the same pull request.
    f.update_main("svc", "hello there\n");
    let out = f.run(&["run", p, "--pr", "--json"], &gh.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        json(&out)["repos"][0]["publish"]["pull_request"]["action"],
        "updated"
    );
    assert_eq!(gh.prs().len(), 1, "no second pull request");
    assert_eq!(
        f.git_line(&bare, &["show", "codefleet/greet:a.txt"]),
        "HELLO there"
    );

    // Upstream made the change itself: the change is empty and the pull request is closed.
    f.update_main("svc", "HELLO there\n");
    let out = f.run(&["run", p, "--pr", "--close-empty-prs"], &gh.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("pull request #1 closed"), "{stdout}");
    assert_eq!(gh.prs()[0].state, "closed");
    outputs.push(out);

    // Every request carried the token; no output ever shows it.
    for r in gh.requests() {
        assert_eq!(
            r.authorization.as_deref(),
            Some(format!("Bearer {TOKEN}").as_str())
        );
    }
    for o in &outputs {
        assert!(!text(&o.stdout).contains(TOKEN) && !text(&o.stderr).contains(TOKEN));
    }
}

#[test]
fn the_cap_limits_new_pull_requests_and_github_api_url_is_honoured() {
    let f = Fixture::new();
    for n in ["a", "b", "c"] {
        f.bare(n, "hello\n");
    }
    let gh = github::FakeGitHub::start(TOKEN);
    let p = f.pipeline(&["a", "b", "c"]);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
    f.env(&mut cmd);
    // As GitHub Actions sets it on GitHub Enterprise.
    let out = cmd
        .env("GH_TOKEN", TOKEN)
        .env("GITHUB_API_URL", &gh.url)
        .args([
            "run",
            p.to_str().unwrap(),
            "--pr",
            "--max-prs",
            "2",
            "--json",
        ])
        .current_dir(f.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    let actions: Vec<String> = report["repos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r["publish"]["pull_request"]["action"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(actions, ["opened", "opened", "skipped"]);
    assert!(
        report["repos"][2]["publish"]["pull_request"]["message"]
            .as_str()
            .unwrap()
            .contains("max_prs_per_run (2)")
    );
    assert_eq!(gh.prs().len(), 2);
    // All three branches were pushed all the same.
    assert_eq!(report["repos"][2]["publish"]["push"], "pushed");
}

#[test]
fn an_archived_repository_is_reported_and_skipped() {
    let f = Fixture::new();
    f.bare("old", "hello\n");
    f.bare("new", "hello\n");
    let gh = github::FakeGitHub::start(TOKEN);
    gh.state.lock().unwrap().archived.push("acme/old".into());
    let p = f.pipeline(&["old", "new"]);
    let out = f.run(&["run", p.to_str().unwrap(), "--pr", "--json"], &gh.url);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let report = json(&out);
    assert_eq!(report["repos"][0]["publish"]["push"], "not_pushed");
    assert!(
        report["repos"][0]["publish"]["message"]
            .as_str()
            .unwrap()
            .contains("archived")
    );
    assert_eq!(
        report["repos"][1]["publish"]["pull_request"]["action"],
        "opened"
    );
    let bare = f.path("srv/acme/old.git");
    let mut cmd = Command::new("git");
    f.env(&mut cmd);
    let has = cmd
        .args(["rev-parse", "-q", "--verify", "refs/heads/codefleet/greet"])
        .current_dir(&bare)
        .output()
        .unwrap();
    assert!(
        !has.status.success(),
        "nothing pushed to the archived repository"
    );
}

#[test]
fn a_bad_token_fails_the_pull_request_with_a_hint_and_without_the_token() {
    let f = Fixture::new();
    f.bare("svc", "hello\n");
    let gh = github::FakeGitHub::start("the-right-token");
    let p = f.pipeline(&["svc"]);
    let out = f.run(&["run", p.to_str().unwrap(), "--pr"], &gh.url);
    assert_eq!(out.status.code(), Some(1));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("E532") && stdout.contains("401"),
        "{stdout}"
    );
    assert!(stdout.contains("Bad credentials"), "{stdout}");
    assert!(!stdout.contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
}

#[test]
fn create_answers_already_exists_on_422_and_open_or_update_recovers() {
    let gh = github::FakeGitHub::start(TOKEN);
    let client = GitHub::new(&gh.url, Secret::new(TOKEN)).pace(std::time::Duration::ZERO);
    let first = client.create(&repo(), &new_pr("codefleet/x")).unwrap();
    assert!(matches!(first, Created::New(ref p) if p.number == 1));
    assert_eq!(
        client.create(&repo(), &new_pr("codefleet/x")).unwrap(),
        Created::AlreadyExists
    );
    // The flow finds the open one and updates it instead of failing.
    let mut changed = new_pr("codefleet/x");
    changed.title = "new title".into();
    let done = open_or_update(&client, &repo(), &changed, "abc123").unwrap();
    assert_eq!(done.action, codefleet::forge::Action::Updated);
    assert_eq!(done.pr.number, 1);
    assert_eq!(gh.prs()[0].title, "new title");
    assert_eq!(gh.prs().len(), 1);
}

#[test]
fn a_403_with_retry_after_is_waited_out_and_retried() {
    let gh = github::FakeGitHub::start(TOKEN);
    gh.state.lock().unwrap().faults.push((403, 1));
    let client = GitHub::new(&gh.url, Secret::new(TOKEN));
    let made = client.create(&repo(), &new_pr("codefleet/y")).unwrap();
    assert!(matches!(made, Created::New(_)));
    let posts = gh.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 2, "the rate-limited request was sent again");
    assert_eq!(gh.prs().len(), 1);
}

#[test]
fn a_rate_limit_longer_than_the_wait_allowed_fails_with_e531() {
    let gh = github::FakeGitHub::start(TOKEN);
    gh.state.lock().unwrap().faults.push((429, 3600));
    let client = GitHub::new(&gh.url, Secret::new(TOKEN));
    let err = client.find_open(&repo(), "codefleet/z").unwrap_err();
    assert_eq!(err.code, "E531");
    assert!(err.message.contains("resets in"), "{}", err.message);
    assert!(!err.message.contains(TOKEN));
}

#[test]
fn lists_are_followed_through_link_pages() {
    let gh = github::FakeGitHub::start(TOKEN);
    let client = GitHub::new(&gh.url, Secret::new(TOKEN)).pace(std::time::Duration::ZERO);
    for i in 0..5 {
        client
            .create(&repo(), &new_pr(&format!("other/{i}")))
            .unwrap();
    }
    client.create(&repo(), &new_pr("codefleet/wanted")).unwrap();
    {
        let mut st = gh.state.lock().unwrap();
        st.page_size = 2;
        st.ignore_head_filter = true;
    }
    let found = client
        .find_open(&repo(), "codefleet/wanted")
        .unwrap()
        .expect("found");
    assert_eq!(found.number, 6);
    let pages: Vec<String> = gh
        .requests()
        .into_iter()
        .filter(|r| r.method == "GET")
        .map(|r| r.target)
        .collect();
    assert_eq!(pages.len(), 3, "{pages:?}");
    assert!(pages[2].ends_with("&page=3"), "{pages:?}");
    assert!(
        pages[0].contains("head=acme%3Acodefleet%2Fwanted"),
        "{pages:?}"
    );
    assert!(
        client
            .find_open(&repo(), "codefleet/absent")
            .unwrap()
            .is_none()
    );
}
