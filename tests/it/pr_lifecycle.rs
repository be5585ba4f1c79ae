//! A pull request's life across runs, through the real binary against the stateful fake GitHub
//! and bare remotes served by `git http-backend`: a pull request a person closed stays closed
//! (`pr.recreate: never`), is opened anew (`always`) or reopened when the change differs
//! (`if-changed`); codefleet's own close (the change became empty) and a merge never block a
//! new one; a person's edits of the title, body and labels stay unless the pipeline's values
//! change; the marker names the pushed head; `pr.body` shows the repository's results.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::git_http::GitHttp;
use crate::support::github::FakeGitHub;

use std::process::{Command, Output};

use codefleet::forge::marker::{self, Marker};

const TOKEN: &str = "ghp_LifecycleT0kenNeverShown7";
const REPO: &str = "acme/svc";
const BRANCH: &str = "codefleet/greet";

/// A remote `acme/svc` (served over http), the fake GitHub, and a pipeline over them.
struct World {
    f: Fixture,
    gh: FakeGitHub,
    url: String,
    _git: GitHttp,
}

impl World {
    /// `srv/acme/svc.git` with `a.txt` = `hello world` on `main`; `pr:` lines go in `pr`.
    fn new(pr: &str) -> World {
        let f = Fixture::new();
        let work = f.path("work/svc");
        std::fs::create_dir_all(&work).unwrap();
        f.git_line(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("a.txt"), "hello world\n").unwrap();
        std::fs::write(work.join("b.txt"), "hello b\nsame\n").unwrap();
        f.git_line(&work, &["add", "-A"]);
        f.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = f.path("srv/acme/svc.git");
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        f.git_line(
            f.dir.path(),
            &[
                "clone",
                "-q",
                "--bare",
                work.to_str().unwrap(),
                bare.to_str().unwrap(),
            ],
        );
        let git = GitHttp::start(&f.path("srv"), TOKEN);
        let url = format!("{}/acme/svc.git", git.base);
        let w = World {
            gh: FakeGitHub::start(TOKEN),
            f,
            url,
            _git: git,
        };
        w.pipeline(pr, "");
        w
    }

    /// Writes the pipeline: one `replace` task, then `extra` tasks.
    fn pipeline(&self, pr: &str, extra: &str) {
        let p = self.f.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                "version: 1\nname: greet\nrepos:\n  - url: {}\npr:\n  title: \"greet {{{{ repo.name }}}}\"\n  \
                 labels: [bot, chore]\n{pr}tasks:\n  - name: shout\n    files: [\"*.txt\"]\n    \
                 replace: {{ find: hello, with: HELLO }}\n{extra}",
                self.url
            ),
        )
        .unwrap();
    }

    /// Commits `content` as `a.txt` on the remote's main (upstream moves on).
    fn upstream(&self, content: &str) {
        self.upstream_files(&[("a.txt", content)]);
    }

    /// Commits files on the remote's main.
    fn upstream_files(&self, files: &[(&str, &str)]) {
        let work = self.f.path("work/svc");
        for (path, content) in files {
            std::fs::write(work.join(path), content).unwrap();
        }
        self.f.git_line(&work, &["commit", "-q", "-am", "upstream"]);
        let bare = self.f.path("srv/acme/svc.git");
        self.f
            .git_line(&work, &["push", "-q", bare.to_str().unwrap(), "main"]);
    }

    fn run(&self, extra: &[&str]) -> Output {
        let p = self.f.path("pipelines/p.yml");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.f.env(&mut cmd);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", &self.gh.url)
            .arg("run")
            .arg(&p)
            .arg("--pr")
            .args(extra)
            .current_dir(self.f.dir.path())
            .output()
            .expect("codefleet")
    }

    /// `run --pr --json`, which must exit 0; the repository's `publish`.
    fn publish(&self, extra: &[&str]) -> serde_json::Value {
        let mut args = vec!["--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
        report["repos"][0]["publish"].clone()
    }

    /// The remote run branch's tip.
    fn remote_tip(&self) -> String {
        let bare = self.f.path("srv/acme/svc.git");
        self.f.git_line(&bare, &["rev-parse", BRANCH])
    }

    fn remote_file(&self, rev: &str, path: &str) -> String {
        let bare = self.f.path("srv/acme/svc.git");
        self.f.git_line(&bare, &["show", &format!("{rev}:{path}")])
    }
}

#[test]
fn a_pull_request_a_person_closed_stays_closed_by_default() {
    let w = World::new("");
    assert_eq!(w.publish(&[])["pull_request"]["action"], "opened");
    let tip = w.remote_tip();
    w.gh.close_pr(REPO, 1);

    // The change differs (upstream moved), yet the person's decision stands.
    w.upstream("hello there\n");
    let p = w.publish(&[]);
    assert_eq!(p["push"], "not_pushed");
    assert_eq!(p["pull_request"]["action"], "skipped");
    assert_eq!(p["pull_request"]["number"], 1);
    assert_eq!(p["pull_request"]["message"], "pull request #1 was closed");
    assert_eq!(w.remote_tip(), tip, "the remote branch was not updated");
    assert_eq!(w.gh.prs().len(), 1, "no new pull request");
    assert_eq!(w.gh.pr(REPO, 1).state, "closed");

    // The summary says so, and it is not a failure.
    let out = w.run(&[]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("skipped: pull request #1 was closed"),
        "{stdout}"
    );
}

#[test]
fn recreate_always_opens_a_new_pull_request() {
    let w = World::new("  recreate: always\n");
    w.publish(&[]);
    w.gh.close_pr(REPO, 1);
    w.upstream("hello again\n");
    let p = w.publish(&[]);
    assert_eq!(p["push"], "pushed");
    assert_eq!(p["pull_request"]["action"], "opened");
    assert_eq!(p["pull_request"]["number"], 2);
    assert_eq!(w.gh.pr(REPO, 1).state, "closed");
    assert_eq!(w.gh.pr(REPO, 2).state, "open");
    assert_eq!(w.remote_file(BRANCH, "a.txt"), "HELLO again");
}

#[test]
fn recreate_if_changed_reopens_only_a_changed_change() {
    let w = World::new("  recreate: if-changed\n");
    w.publish(&[]);
    let tip = w.remote_tip();
    w.gh.close_pr(REPO, 1);

    // Nothing changed since the close: the same change stays closed.
    let p = w.publish(&[]);
    assert_eq!(p["push"], "not_pushed");
    assert_eq!(p["pull_request"]["action"], "skipped");
    assert_eq!(
        p["pull_request"]["message"],
        "pull request #1 was closed with the same change"
    );
    assert_eq!(w.remote_tip(), tip);
    assert_eq!(w.gh.pr(REPO, 1).state, "closed");

    // Upstream moved: the change differs, so the same pull request is reopened.
    w.upstream("hello there\n");
    let p = w.publish(&[]);
    assert_eq!(p["push"], "pushed");
    assert_eq!(p["pull_request"]["action"], "reopened");
    assert_eq!(p["pull_request"]["number"], 1);
    let pr = w.gh.pr(REPO, 1);
    assert_eq!(pr.state, "open");
    assert_eq!(w.gh.prs().len(), 1);
    let new_tip = w.remote_tip();
    assert_ne!(new_tip, tip);
    assert_eq!(w.remote_file(BRANCH, "a.txt"), "HELLO there");
    let m = Marker::read(&pr.body).expect("marker");
    assert_eq!(m.head.as_deref(), Some(new_tip.as_str()));
}

#[test]
fn codefleet_s_own_close_does_not_block_a_later_change() {
    let w = World::new("");
    w.publish(&[]);
    // Upstream made the change itself: codefleet closes, and its marker says why.
    w.upstream_files(&[("a.txt", "HELLO world\n"), ("b.txt", "HELLO b\nsame\n")]);
    let p = w.publish(&["--close-empty-prs"]);
    assert_eq!(p["pull_request"]["action"], "closed");
    let closed = w.gh.pr(REPO, 1);
    assert_eq!(closed.state, "closed");
    assert!(Marker::read(&closed.body).expect("marker").closed_empty);

    // A new change opens a new pull request.
    w.upstream("hello again\n");
    let p = w.publish(&[]);
    assert_eq!(p["pull_request"]["action"], "opened");
    assert_eq!(p["pull_request"]["number"], 2);
    assert_eq!(w.remote_file(BRANCH, "a.txt"), "HELLO again");
}

#[test]
fn a_merged_pull_request_does_not_block_a_new_one() {
    let w = World::new("");
    w.publish(&[]);
    {
        let mut st = w.gh.lock();
        let pr = st.pr(REPO, 1).expect("pull request");
        pr.state = "closed".into();
        pr.merged_at = Some("2026-01-01T00:00:00Z".into());
    }
    w.upstream("hello again\n");
    let p = w.publish(&[]);
    assert_eq!(p["push"], "pushed");
    assert_eq!(p["pull_request"]["action"], "opened");
    assert_eq!(p["pull_request"]["number"], 2);
}

#[test]
fn a_person_s_edits_stay_until_the_pipeline_changes_that_value() {
    let w = World::new("");
    w.publish(&[]);
    {
        let mut st = w.gh.lock();
        let pr = st.pr(REPO, 1).expect("pull request");
        pr.title = "Greeting, reviewed".into();
        // The web editor keeps the hidden marker and writes CRLF.
        let m = Marker::read(&pr.body).expect("marker");
        pr.body = m.write("Please read the notes first.\r\nThanks.");
        pr.labels.retain(|l| l != "chore");
    }
    w.upstream("hello there\n");
    let p = w.publish(&[]);
    assert_eq!(p["pull_request"]["action"], "updated");
    assert_eq!(
        p["pull_request"]["kept"],
        serde_json::json!(["title", "body", "labels"])
    );
    let pr = w.gh.pr(REPO, 1);
    assert_eq!(pr.title, "Greeting, reviewed");
    assert_eq!(
        marker::strip(&pr.body),
        "Please read the notes first.\r\nThanks."
    );
    assert_eq!(pr.labels, ["bot"], "the removed label stays removed");
    // The marker is refreshed: it names the new head.
    let m = Marker::read(&pr.body).expect("marker");
    assert_eq!(m.head.as_deref(), Some(w.remote_tip().as_str()));
    let out = w.run(&[]);
    assert!(
        text(&out.stdout).contains("kept a person's edits: title, body, labels"),
        "{}",
        text(&out.stdout)
    );

    // The pipeline's title and labels change: they are set; the body's did not: kept.
    let p = w.f.path("pipelines/p.yml");
    let yaml = std::fs::read_to_string(&p)
        .unwrap()
        .replace("greet {{ repo.name }}", "Shout in {{ repo.name }}")
        .replace("[bot, chore]", "[bot, chore, loud]");
    std::fs::write(&p, yaml).unwrap();
    let p = w.publish(&[]);
    assert_eq!(p["pull_request"]["kept"], serde_json::json!(["body"]));
    let pr = w.gh.pr(REPO, 1);
    assert_eq!(pr.title, "Shout in svc");
    assert_eq!(pr.labels, ["bot", "chore", "loud"]);
    assert_eq!(
        marker::strip(&pr.body),
        "Please read the notes first.\r\nThanks."
    );
}

#[test]
fn the_body_shows_the_repository_s_diffstat_files_tasks_and_checks() {
    let w = World::new("");
    w.pipeline(
        "  body: \"{{ tasks }}\\n\\nChecks:\\n{{ checks }}\\n\\n{{ files }}\\n\\n```\\n{{ diffstat }}\\n```\"\n",
        "  - name: nothing here\n    files: [a.txt]\n    replace: { find: zzz, with: y }\n  \
         - name: build\n    check: test -f a.txt\n",
    );
    let p = w.publish(&[]);
    assert_eq!(p["pull_request"]["action"], "opened");
    let bare = w.f.path("srv/acme/svc.git");
    let stat = w.f.git_in(&bare, &["diff", "--stat", "main", BRANCH]);
    let body = w.gh.pr(REPO, 1).body;
    let expected = format!(
        "- shout: committed 2 files\n- nothing here: no change\n- build: passed\n\nChecks:\n\
         - build (`test -f a.txt`): passed\n\n- `a.txt`\n- `b.txt`\n\n```\n{stat}\n```"
    );
    assert_eq!(marker::strip(&body), expected);
    let m = Marker::read(&body).expect("marker");
    assert_eq!(m.head.as_deref(), Some(w.remote_tip().as_str()));
}

#[test]
fn the_default_body_lists_tasks_and_the_diffstat() {
    let w = World::new("");
    w.publish(&[]);
    let body = w.gh.pr(REPO, 1).body;
    let bare = w.f.path("srv/acme/svc.git");
    let stat = w.f.git_in(&bare, &["diff", "--stat", "main", BRANCH]);
    assert!(
        body.starts_with("Made by codefleet pipeline `greet`"),
        "{body}"
    );
    assert!(
        body.contains("### Tasks\n\n- shout: committed 2 files\n"),
        "{body}"
    );
    assert!(body.contains(&format!("```\n{stat}\n```")), "{body}");
}

#[test]
fn result_variables_are_rejected_outside_the_body() {
    let w = World::new("");
    let p = w.f.path("pipelines/p.yml");
    let yaml = std::fs::read_to_string(&p)
        .unwrap()
        .replace("greet {{ repo.name }}", "greet {{ diffstat }}");
    std::fs::write(&p, yaml).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
    w.f.env(&mut cmd);
    let out = cmd
        .arg("validate")
        .arg(&p)
        .current_dir(w.f.dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let all = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        all.contains("`{{ diffstat }}` is only available in `pr.body`"),
        "{all}"
    );
}
