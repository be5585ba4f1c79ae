//! Issue 17's campaign end to end, through the real binary, as a fleet user lives it: discover
//! an org's repositories with a code search, `run --pr`, CI and reviewers do their part, `status`,
//! `merge`, a maintainer closes one and the scheduled re-run leaves it closed, `close
//! --delete-branch`. GitHub is the stateful fake (`support/github.rs`), which checks every
//! request and answer against GitHub's OpenAPI description when it is dropped; the remotes are
//! real bare repositories served by `git http-backend`, reached through the `clone_url` the API
//! returns, and `git` on them is the witness of what was pushed, merged and deleted.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Output, Stdio};

use codefleet::forge::marker::Marker;
use serde_json::Value;

use crate::support::fixture::{self, text};
use crate::support::git_http::GitHttp;
use crate::support::github::{FakeGitHub, Repo, commit_files};

fixture::topic_fixture!();

const TOKEN: &str = "ghp_Scenar1oT0kenThatMustNeverBeShown42";
/// The text the pipeline replaces, and what the code search looks for.
const OLD: &str = "legacy_call";
const BRANCH: &str = "codefleet/modernize";
/// `svc-00` … `svc-19` hold the text; `svc-20` … `svc-26` do not.
const HITS: usize = 20;

fn svc(i: usize) -> String {
    format!("acme/svc-{i:02}")
}

/// The org `acme`: 30 repositories, each a bare repository served over http.
/// - `svc-00` … `svc-26`: ordinary; `svc-00` … `svc-19` call `legacy_call()`; `svc-00` …
///   `svc-04` have the topic `rust`, `svc-20` … `svc-22` the topic `docs`.
/// - `old-1`, `old-2`: archived, both calling `legacy_call()`.
/// - `fork-1`: a fork calling `legacy_call()`.
struct Org {
    f: Fixture,
    gh: FakeGitHub,
    git: GitHttp,
    pipeline: PathBuf,
}

impl Org {
    fn new() -> Org {
        let f = Fixture::new();
        let srv = f.path("srv");
        std::fs::create_dir_all(&srv).expect("srv");
        let git = GitHttp::start(&srv, TOKEN);
        let gh = FakeGitHub::start(TOKEN);
        {
            let mut st = gh.lock();
            // Repositories the test did not add are unknown, as on GitHub; listings page.
            st.strict = true;
            st.page_size = 7;
            // GitHub answers `mergeable: null` while it computes it after a push or a merge.
            st.mergeable_null_first = true;
        }
        let hit = "fn main() {\n    legacy_call();\n}\n";
        let miss = "fn main() {\n    modern_call();\n}\n";
        for i in 0..27 {
            let topics: &[&str] = match i {
                0..=4 => &["rust"],
                20..=22 => &["docs"],
                _ => &[],
            };
            let body = if i < HITS { hit } else { miss };
            gh.add_with_git(
                &srv,
                &git.base,
                Repo::new(&svc(i)).topics(topics),
                &[("src/main.rs", body), ("README.md", "a service\n")],
            );
        }
        for name in ["acme/old-1", "acme/old-2"] {
            gh.add_with_git(
                &srv,
                &git.base,
                Repo::new(name).archived(),
                &[("a.rs", hit)],
            );
        }
        gh.add_with_git(
            &srv,
            &git.base,
            Repo::new("acme/fork-1").fork(),
            &[("a.rs", hit)],
        );
        let pipeline = f.path("pipelines/modernize.yml");
        std::fs::create_dir_all(pipeline.parent().expect("parent")).expect("mkdir");
        std::fs::write(
            &pipeline,
            format!(
                "version: 1\nname: modernize\nrepos:\n  - github: {{ org: acme, code_search: \
                 \"{OLD}\" }}\npr:\n  title: \"modernize {{{{ repo.name }}}}\"\n\
                 tasks:\n  - name: rename\n    replace: {{ find: {OLD}, with: modern_call }}\n"
            ),
        )
        .expect("pipeline");
        Org {
            f,
            gh,
            git,
            pipeline,
        }
    }

    fn bare(&self, full: &str) -> PathBuf {
        self.f.path(&format!("srv/{full}.git"))
    }

    fn url(&self, full: &str) -> String {
        format!("{}/{full}.git", self.git.base)
    }

    /// `codefleet ARGS` in the fixture against the fake's API, with the token.
    fn cli(&self, args: &[&str]) -> std::process::Command {
        let mut cmd = self.f.binary(self.f.dir.path(), args);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", &self.gh.url);
        cmd
    }

    /// `codefleet COMMAND <pipeline> ARGS`, run to its end; the token is never shown.
    fn cmd(&self, command: &str, args: &[&str]) -> Output {
        let mut all = vec![command, self.pipeline.to_str().expect("utf-8")];
        all.extend_from_slice(args);
        let out = self.cli(&all).output().expect("codefleet");
        assert!(
            !fixture::said(&out).contains(TOKEN),
            "{command} showed the token"
        );
        out
    }

    /// The commit `branch` names on the remote of `full`, if any.
    fn tip(&self, full: &str, branch: &str) -> Option<String> {
        self.f.tip(&self.bare(full), branch)
    }

    fn run_head(&self, i: usize) -> String {
        self.tip(&svc(i), BRANCH)
            .unwrap_or_else(|| panic!("{}: no run branch", svc(i)))
    }

    /// `src/main.rs` at `rev` on the remote of `full`.
    fn main_rs(&self, full: &str, rev: &str) -> String {
        self.f
            .git(&self.bare(full), &["show", &format!("{rev}:src/main.rs")])
    }

    /// The run branches `git ls-remote` shows on the remote of `svc-i`, over http.
    fn ls_remote(&self, i: usize) -> String {
        let out = self.f.git_out(
            self.f.dir.path(),
            &["ls-remote", "--heads", &self.authed(&svc(i)), BRANCH],
        );
        assert!(out.status.success(), "{}", fixture::said(&out));
        text(&out.stdout)
    }

    /// The http URL with the token, as a person with access would clone.
    fn authed(&self, full: &str) -> String {
        self.url(full)
            .replacen("http://", &format!("http://x-access-token:{TOKEN}@"), 1)
    }

    /// `svc-i`'s pull request (the only one of its repository).
    fn pr(&self, i: usize) -> crate::support::github::Pr {
        let prs: Vec<_> = self
            .gh
            .prs()
            .into_iter()
            .filter(|p| p.repo == svc(i))
            .collect();
        assert_eq!(prs.len(), 1, "{}: {prs:#?}", svc(i));
        prs.into_iter().next().expect("one")
    }

    /// CI passes on `svc-i`'s run branch head: a check run and a commit status.
    fn green(&self, i: usize) {
        let head = self.run_head(i);
        self.gh
            .set_check(&svc(i), &head, "build", "completed", Some("success"));
        self.gh.set_status(&svc(i), &head, "ci/lint", "success");
    }

    fn approve(&self, i: usize) {
        let number = self.pr(i).number;
        self.gh.review(&svc(i), number, "maintainer", "APPROVED");
    }
}

fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", fixture::said(out)))
}

/// The line of a table that starts with `full` and a space.
fn line<'a>(table: &'a str, full: &str) -> &'a str {
    let start = format!("{full} ");
    table
        .lines()
        .find(|l| l.starts_with(&start))
        .unwrap_or_else(|| panic!("no line for {full}:\n{table}"))
}

fn words(line: &str) -> Vec<&str> {
    line.split_whitespace().collect()
}

/// The `--json` status row of `full`.
fn row<'a>(doc: &'a Value, full: &str) -> &'a Value {
    doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .find(|r| r["repo"] == full)
        .unwrap_or_else(|| panic!("no row {full}: {doc}"))
}

/// Green: every hit but `svc-10` (red) and `svc-11` (pending). Approved: `svc-00` … `svc-08`,
/// `svc-10` and `svc-11`. `svc-08` conflicts with its base.
const RED: usize = 10;
const PENDING: usize = 11;
const CONFLICTING: usize = 8;
/// A colleague pushes to this eligible one before `merge`.
const FOREIGN: usize = 3;
/// A maintainer closes this one.
const CLOSED: usize = 10;

#[test]
fn a_campaign_from_discovery_to_close() {
    let org = Org::new();
    let hits: Vec<usize> = (0..HITS).collect();
    let p = org.pipeline.to_str().expect("utf-8");

    // The first search request meets a secondary rate limit (`retry-after: 0`), its retry a
    // server error: both waited out and retried.
    org.gh.fault("/search/code", 403, Some(0));
    org.gh.fault("/search/code", 502, None);
    // 1. `plan` lists exactly the repositories with a hit, minus the archived ones (the fork is
    //    not searched: GitHub's code search leaves forks out), and says what it dropped.
    let out = org.cli(&["plan", p, "--json"]).output().expect("plan");
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc = json(&out);
    let planned: Vec<&str> = doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    let want: Vec<String> = hits.iter().map(|&i| org.url(&svc(i))).collect();
    assert_eq!(planned, want);
    // 22 hits (the archived ones' too) in pages of 7: 4 pages, and the two refused answers.
    assert_eq!(org.gh.calls("GET /search/code"), 6);
    assert_eq!(
        doc["dropped"],
        serde_json::json!([
            {"repo": "acme/old-1", "reason": "archived"},
            {"repo": "acme/old-2", "reason": "archived"}
        ])
    );
    let out = org.cmd("plan", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let shown = text(&out.stdout);
    assert!(
        shown.contains("20 repositories to run; 2 dropped: 2 archived"),
        "{shown}"
    );
    assert!(
        shown.contains("  acme/old-1 (archived)") && shown.contains("  acme/old-2 (archived)"),
        "{shown}"
    );
    assert!(
        !shown.contains("fork-1") && !shown.contains("svc-20"),
        "{shown}"
    );

    // 2. `run --pr`: a commit on each hit's run branch, and a pull request with the marker.
    let out = org.cmd("run", &["--pr", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    assert_eq!(org.gh.prs().len(), HITS, "{:#?}", org.gh.prs());
    for &i in &hits {
        let head = org.run_head(i);
        assert_eq!(
            org.main_rs(&svc(i), &head),
            "fn main() {\n    modern_call();\n}\n"
        );
        let pr = org.pr(i);
        assert_eq!(
            (pr.state.as_str(), pr.head.as_str(), pr.base.as_str()),
            ("open", BRANCH, "main")
        );
        assert_eq!(pr.title, format!("modernize svc-{i:02}"));
        let m = Marker::read(&pr.body).unwrap_or_else(|| panic!("no marker: {}", pr.body));
        assert_eq!(m.head.as_deref(), Some(head.as_str()), "{}", svc(i));
    }
    for full in (HITS..27)
        .map(svc)
        .chain(["acme/old-1", "acme/old-2", "acme/fork-1"].map(String::from))
    {
        assert_eq!(org.tip(&full, BRANCH), None, "{full} was not touched");
    }

    // 3. CI and reviewers.
    for &i in &hits {
        if i != RED && i != PENDING {
            org.green(i);
        }
    }
    let red = org.run_head(RED);
    org.gh
        .set_check(&svc(RED), &red, "build", "completed", Some("failure"));
    org.gh.set_status(&svc(RED), &red, "ci/lint", "success");
    let pending = org.run_head(PENDING);
    org.gh
        .set_check(&svc(PENDING), &pending, "build", "in_progress", None);
    for i in (0..=8).chain([RED, PENDING]) {
        org.approve(i);
    }
    org.gh
        .set_mergeable(&svc(CONFLICTING), org.pr(CONFLICTING).number, Some(false));

    // 4. `status`: exact counts, as JSON and in the totals line.
    let before = org.gh.requests().len();
    let out = org.cmd("status", &["--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc = json(&out);
    assert_eq!(
        doc["totals"],
        serde_json::json!({"repos": 20, "merged": 0, "open": 20, "drafts": 0, "green": 18,
            "red": 1, "pending": 1, "without_checks": 0, "closed": 0, "none": 0, "errors": 0})
    );
    assert_eq!(row(&doc, &svc(RED))["checks"], "failure");
    assert_eq!(row(&doc, &svc(PENDING))["checks"], "pending");
    assert_eq!(row(&doc, &svc(0))["review"], "approved");
    assert_eq!(row(&doc, &svc(9))["review"], "none");
    assert_eq!(row(&doc, &svc(CONFLICTING))["mergeable"], "conflicting");
    let writes: Vec<_> = org.gh.requests()[before..]
        .iter()
        .filter(|r| r.method != "GET")
        .cloned()
        .collect();
    assert!(writes.is_empty(), "status only reads: {writes:#?}");
    let out = org.cmd("status", &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let table = text(&out.stdout);
    assert!(
        table.ends_with(
            "20 repos: 0 merged, 20 open (18 green, 1 red, 1 pending), 0 closed, 0 none\n"
        ),
        "{table}"
    );
    assert_eq!(
        words(line(&table, &svc(RED)))[1..5],
        [BRANCH, "#1", "open", "failure"],
        "{table}"
    );

    // 5. `merge`: exactly the green, approved and mergeable ones; a colleague's commit on one
    //    of them makes `merge` skip it.
    let foreign_pr = org.pr(FOREIGN).number;
    let mains: Vec<String> = hits
        .iter()
        .map(|&i| org.tip(&svc(i), "main").expect("main"))
        .collect();
    let colleague = commit_files(
        &org.bare(&svc(FOREIGN)),
        BRANCH,
        None,
        &[("NOTES.md", "mine\n")],
        "a colleague's commit",
    );
    org.green(FOREIGN);
    let eligible = [0, 1, 2, 4, 5, 6, 7];
    let heads: Vec<String> = eligible.iter().map(|&i| org.run_head(i)).collect();
    let out = org.cmd("merge", &["--pause", "0"]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let table = text(&out.stdout);
    assert!(
        table.contains("merged 7 of 20 repositories; 0 failed"),
        "{table}"
    );
    for (k, &i) in eligible.iter().enumerate() {
        assert_eq!(words(line(&table, &svc(i)))[2], "merged", "{table}");
        let main = org.tip(&svc(i), "main").expect("main");
        assert_ne!(main, mains[i], "{}: main moved", svc(i));
        assert_eq!(
            org.main_rs(&svc(i), "main"),
            "fn main() {\n    modern_call();\n}\n"
        );
        let contains = org.f.git_out(
            &org.bare(&svc(i)),
            &["merge-base", "--is-ancestor", &heads[k], "main"],
        );
        assert!(
            contains.status.success(),
            "{}: the run commit is in main",
            svc(i)
        );
        assert!(org.pr(i).merged(), "{}", svc(i));
    }
    let reasons = [
        (FOREIGN, "is not the commit codefleet pushed"),
        (CONFLICTING, "conflicting"),
        (9, "not approved"),
        (RED, "checks failed"),
        (PENDING, "checks pending"),
    ];
    for (i, why) in reasons {
        assert!(line(&table, &svc(i)).contains(why), "{}: {table}", svc(i));
    }
    for i in (8..HITS).chain([FOREIGN]) {
        assert_eq!(
            org.tip(&svc(i), "main").expect("main"),
            mains[i],
            "{}",
            svc(i)
        );
        assert_eq!(org.pr(i).state, "open", "{}", svc(i));
    }
    assert_eq!(org.tip(&svc(FOREIGN), BRANCH), Some(colleague.clone()));
    // The person who owns that branch merges it on purpose.
    let out = org.cmd("merge", &["--pause", "0", "--include-foreign"]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    assert!(org.gh.pr(&svc(FOREIGN), foreign_pr).merged());
    assert_eq!(
        org.f
            .git_line(&org.bare(&svc(FOREIGN)), &["show", "main:NOTES.md"]),
        "mine"
    );

    // 6. A maintainer closes one; upstream moves on; the scheduled re-run leaves it closed and
    //    its branch where it was.
    let closed_number = org.pr(CLOSED).number;
    org.gh.close_pr(&svc(CLOSED), closed_number);
    let closed_tip = org.run_head(CLOSED);
    commit_files(
        &org.bare(&svc(CLOSED)),
        "main",
        None,
        &[("src/extra.rs", "pub fn f() { legacy_call(); }\n")],
        "upstream: another call",
    );
    let prs_before = org.gh.prs().len();
    let out = org.cmd("run", &["--pr"]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let shown = text(&out.stdout);
    assert!(
        shown.contains(&format!(
            "skipped: pull request #{closed_number} was closed"
        )),
        "{shown}"
    );
    assert_eq!(
        org.run_head(CLOSED),
        closed_tip,
        "no push to the closed one's branch"
    );
    assert_eq!(org.gh.pr(&svc(CLOSED), closed_number).state, "closed");
    assert_eq!(org.gh.prs().len(), prs_before, "nothing recreated");

    // 7. `close`: the rest of the campaign's pull requests closed with a comment, their run
    //    branches deleted on the remotes.
    let open: Vec<usize> = (8..HITS).filter(|&i| i != CLOSED).collect();
    let out = org.cmd(
        "close",
        &[
            "--comment",
            "Superseded by the v2 migration.",
            "--delete-branch",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    for &i in &open {
        let pr = org.pr(i);
        assert_eq!(pr.state, "closed", "{}", svc(i));
        assert!(!pr.merged(), "{}", svc(i));
        assert_eq!(
            pr.comments,
            ["Superseded by the v2 migration."],
            "{}",
            svc(i)
        );
    }
    for i in open.iter().copied().chain([CLOSED]) {
        assert_eq!(org.ls_remote(i), "", "{}: run branch deleted", svc(i));
    }
    assert!(
        org.pr(CLOSED).comments.is_empty(),
        "closed earlier: no comment"
    );

    // 8. Every request and answer followed GitHub's OpenAPI description (checked again when
    //    the fake is dropped).
    org.gh.assert_conforms();
}

/// `--repo 'acme/*'` and `--repos-from -` together: every repository of the org, plus the
/// lines read from standard input (a fork named by hand runs; comments are skipped).
#[test]
fn repo_glob_and_repos_from_stdin() {
    let org = Org::new();
    let p = org.pipeline.to_str().expect("utf-8");
    // A server error on the org's listing: retried.
    org.gh.fault("/orgs/acme/repos", 502, None);
    let mut child = org
        .cli(&["plan", p, "--json", "--repo", "acme/*", "--repos-from", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"# by hand\nacme/fork-1\n\nacme/svc-03\n")
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc = json(&out);
    let planned: Vec<&str> = doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    let mut want: Vec<String> = (0..27).map(|i| org.url(&svc(i))).collect();
    // In the order given: the org's (by name), then the lines read; `svc-03` once.
    want.push(org.url("acme/fork-1"));
    assert_eq!(planned, want);
    let dropped: Vec<&str> = doc["dropped"]
        .as_array()
        .expect("dropped")
        .iter()
        .map(|d| d["repo"].as_str().expect("repo"))
        .collect();
    assert_eq!(dropped, ["acme/old-1", "acme/old-2"]);
    // 30 repositories in pages of 7: 5 pages, and the refused answer.
    assert_eq!(org.gh.calls("GET /orgs/{org}/repos"), 6);
}
