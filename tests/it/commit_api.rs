//! `pr.commit_via: api`: the run branch's commits made on the remote through GitHub's GraphQL
//! `createCommitOnBranch` (the fake GitHub carries each mutation out in a bare repository
//! served by `git http-backend`), the lease (`expectedHeadOid`), re-runs, a colleague's push,
//! what the API cannot express; the fake's schema validation; auto-merge.

use crate::support::fixture;
use fixture::text;

fixture::topic_fixture!();

use crate::support::git_http::GitHttp;
use crate::support::github::{FakeGitHub, Repo, State};
use crate::support::github_graphql::{Mutation, TypeRef, handle, schema};

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use codefleet::forge::{ApiCommit, FileChange, Forge, GitHub, MergeMethod, PullRequest, RepoId};
use codefleet::git::Secret;
use serde_json::{Value, json};

const TOKEN: &str = "ghp_CommitApiT0kenThatMustNeverBeShown7";
const BRANCH: &str = "codefleet/greet";

/// A bare remote served over http, the fake GitHub knowing it as `acme/svc`.
struct Remote {
    bare: PathBuf,
    url: String,
    gh: FakeGitHub,
    _http: GitHttp,
}

impl Fixture {
    /// `srv/acme/svc.git` with `a.txt` and `old.txt` on `main`, served over http.
    fn remote(&self) -> Remote {
        let work = self.path("work/svc");
        std::fs::create_dir_all(&work).unwrap();
        self.git_line(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("a.txt"), "hello world\n").unwrap();
        std::fs::write(work.join("old.txt"), "old\n").unwrap();
        self.git_line(&work, &["add", "-A"]);
        self.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = self.path("srv/acme/svc.git");
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        let (w, b) = (work.to_str().unwrap(), bare.to_str().unwrap());
        self.git_line(self.dir.path(), &["clone", "-q", "--bare", w, b]);
        self.git_line(&bare, &["config", "http.receivepack", "true"]);
        let http = GitHttp::start(&self.path("srv"), TOKEN);
        let gh = FakeGitHub::start(TOKEN);
        let url = format!("{}/acme/svc.git", http.base);
        gh.add_repo(Repo::new("acme/svc").git(&bare, &url));
        Remote {
            url,
            bare,
            gh,
            _http: http,
        }
    }

    /// A pipeline with `commit_via: api`: `hello` → `word` in `a.txt`, then `second` as a shell
    /// step.
    fn pipeline(&self, url: &str, word: &str, second: &str) -> PathBuf {
        let p = self.path("pipelines/p.yml");
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(
            &p,
            format!(
                "version: 1\nname: greet\nrepos:\n  - url: {url}\npolicy:\n  allow_delete: true\n\
                 pr:\n  title: greet\n  commit_via: api\ntasks:\n  - name: shout\n    \
                 replace: {{ find: hello, with: {word} }}\n  - name: tidy\n    run: \"{second}\"\n"
            ),
        )
        .unwrap();
        p
    }

    fn codefleet(&self, args: &[&str], api: &str) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        self.env(&mut cmd);
        cmd.env("GITHUB_TOKEN", TOKEN)
            .env("CODEFLEET_GITHUB_API_URL", api)
            .args(args)
            .current_dir(self.dir.path())
            .output()
            .expect("codefleet")
    }

    /// The clone the run worked in (the cache's one entry).
    fn clone_entry(&self) -> PathBuf {
        let mut out: Vec<PathBuf> = std::fs::read_dir(self.path("cache/codefleet/repos"))
            .map(|d| d.flatten().map(|e| e.path()).collect())
            .unwrap_or_default();
        out.retain(|p| p.extension().is_some_and(|e| e == "git"));
        assert_eq!(out.len(), 1, "{out:?}");
        out.remove(0)
    }

    fn show(&self, repo: &Path, format: &str, rev: &str) -> String {
        self.git(repo, &["show", "-s", &format!("--format={format}"), rev])
    }
}

fn report(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            text(&out.stdout),
            text(&out.stderr)
        )
    })
}

fn commit_mutations(gh: &FakeGitHub) -> Vec<Value> {
    gh.mutations()
        .into_iter()
        .filter(|(name, _)| name == "createCommitOnBranch")
        .map(|(_, input)| input)
        .collect()
}

const SECOND: &str = "rm old.txt && printf 'new\\\\n' > new.txt";

#[test]
fn two_tasks_become_two_commits_made_by_github_with_the_local_trees_and_messages() {
    let f = Fixture::new();
    let r = f.remote();
    let p = f.pipeline(&r.url, "HELLO", SECOND);
    let out = f.codefleet(&["run", p.to_str().unwrap(), "--pr", "--json"], &r.gh.url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let report = report(&out);
    let publish = &report["repos"][0]["publish"];
    assert_eq!(publish["push"], "pushed", "{publish}");
    let pairs = publish["api_commits"].as_array().expect("api_commits");
    assert_eq!(pairs.len(), 2, "{publish}");

    let clone = f.clone_entry();
    let main = f.git_line(&r.bare, &["rev-parse", "main"]);
    let made = f.git(
        &r.bare,
        &["rev-list", "--reverse", &format!("main..{BRANCH}")],
    );
    let made: Vec<&str> = made.lines().collect();
    assert_eq!(made.len(), 2);
    for (pair, remote) in pairs.iter().zip(&made) {
        let (local, remote_id) = (
            pair["local"].as_str().unwrap(),
            pair["remote"].as_str().unwrap(),
        );
        assert_eq!(remote_id, *remote);
        assert_ne!(local, remote_id, "GitHub made a commit of its own");
        assert_eq!(
            f.show(&r.bare, "%T", remote_id),
            f.show(&clone, "%T", local),
            "the same tree"
        );
        assert_eq!(
            f.show(&r.bare, "%B", remote_id).trim_end(),
            f.show(&clone, "%B", local).trim_end(),
            "the same message, trailers included"
        );
        assert_eq!(
            f.show(&r.bare, "%cn <%ce>", remote_id).trim(),
            "GitHub <noreply@github.com>"
        );
    }
    assert_eq!(
        report["repos"][0]["tip"].as_str(),
        pairs[1]["local"].as_str(),
        "the local tip is the last local commit"
    );
    // A file deleted and a file made, as the API says them.
    let tree = f.git(&r.bare, &["ls-tree", "-r", "--name-only", BRANCH]);
    assert_eq!(tree.lines().collect::<Vec<_>>(), ["a.txt", "new.txt"]);
    assert_eq!(
        f.git_line(&r.bare, &["show", &format!("{BRANCH}:a.txt")]),
        "HELLO world"
    );
    let inputs = commit_mutations(&r.gh);
    assert_eq!(inputs.len(), 2);
    assert_eq!(
        inputs[0]["expectedHeadOid"],
        main.as_str(),
        "the first expects the base"
    );
    assert_eq!(
        inputs[1]["expectedHeadOid"], made[0],
        "the next expects the previous"
    );
    assert_eq!(
        inputs[1]["fileChanges"],
        json!({"additions": [{"path": "new.txt", "contents": "bmV3Cg=="}],
               "deletions": [{"path": "old.txt"}]})
    );
    assert_eq!(inputs[0]["message"]["headline"], "shout");
    let prs = r.gh.prs();
    assert_eq!(prs.len(), 1);
    assert_eq!(prs[0].head, BRANCH);
}

#[test]
fn a_rerun_remakes_the_commits_from_the_base_and_refuses_over_a_colleagues_push() {
    let f = Fixture::new();
    let r = f.remote();
    let p = f.pipeline(&r.url, "HELLO", SECOND);
    let out = f.codefleet(&["run", p.to_str().unwrap(), "--pr", "--json"], &r.gh.url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let first = f.git_line(&r.bare, &["rev-parse", BRANCH]);

    // The pipeline changed: the branch goes back to the base and the commits are made again.
    let p = f.pipeline(&r.url, "HOWDY", SECOND);
    let out = f.codefleet(&["run", p.to_str().unwrap(), "--pr", "--json"], &r.gh.url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let again = report(&out);
    let publish = &again["repos"][0]["publish"];
    assert_eq!(publish["push"], "pushed", "{publish}");
    let second = f.git_line(&r.bare, &["rev-parse", BRANCH]);
    assert_ne!(first, second);
    assert_eq!(publish["api_commits"][1]["remote"], second.as_str());
    let made = f.git(&r.bare, &["rev-list", &format!("main..{BRANCH}")]);
    assert_eq!(
        made.lines().count(),
        2,
        "made again from the base, not on top"
    );
    assert_eq!(
        f.git_line(&r.bare, &["show", &format!("{BRANCH}:a.txt")]),
        "HOWDY world"
    );
    let main = f.git_line(&r.bare, &["rev-parse", "main"]);
    assert_eq!(commit_mutations(&r.gh)[2]["expectedHeadOid"], main.as_str());
    assert_eq!(r.gh.prs().len(), 1, "the same pull request");

    // A colleague pushes to the branch: the next run replaces nothing.
    let theirs = colleague_pushes(&f, &r.bare);
    let p = f.pipeline(&r.url, "HI", SECOND);
    let out = f.codefleet(&["run", p.to_str().unwrap(), "--pr", "--json"], &r.gh.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    assert_eq!(f.git_line(&r.bare, &["rev-parse", BRANCH]), theirs);
    assert_eq!(commit_mutations(&r.gh).len(), 4, "no commit made");
    let said = text(&out.stdout);
    assert!(said.contains("E302") || said.contains("E548"), "{said}");

    // `--force` replaces them.
    let out = f.codefleet(
        &["run", p.to_str().unwrap(), "--pr", "--json", "--force"],
        &r.gh.url,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stdout));
    let made = f.git(&r.bare, &["rev-list", &format!("main..{BRANCH}")]);
    assert_eq!(made.lines().count(), 2);
    assert!(!made.contains(&theirs));
    assert_eq!(
        f.git_line(&r.bare, &["show", &format!("{BRANCH}:a.txt")]),
        "HI world"
    );
}

/// A commit of a person's own on the run branch of `bare`; its id.
fn colleague_pushes(f: &Fixture, bare: &Path) -> String {
    let c = f.path("colleague");
    f.git_line(
        f.dir.path(),
        &[
            "clone",
            "-q",
            "-b",
            BRANCH,
            bare.to_str().unwrap(),
            c.to_str().unwrap(),
        ],
    );
    std::fs::write(c.join("mine.txt"), "mine\n").unwrap();
    f.git_line(&c, &["add", "-A"]);
    f.git_line(&c, &["commit", "-q", "-m", "by hand"]);
    f.git_line(&c, &["push", "-q", "origin", BRANCH]);
    f.git_line(&c, &["rev-parse", "HEAD"])
}

#[test]
fn an_executable_file_is_refused_before_anything_is_made() {
    let f = Fixture::new();
    let r = f.remote();
    let p = f.pipeline(
        &r.url,
        "HELLO",
        "printf 'echo hi\\\\n' > tool.sh && chmod +x tool.sh",
    );
    let out = f.codefleet(&["run", p.to_str().unwrap(), "--pr", "--json"], &r.gh.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let report = report(&out);
    let publish = &report["repos"][0]["publish"];
    assert_eq!(publish["push"], "failed", "{publish}");
    let message = publish["message"].as_str().unwrap_or_default();
    assert!(message.contains("E547"), "{message}");
    assert!(message.contains("`tool.sh` is executable"), "{message}");
    assert!(r.gh.mutations().is_empty(), "no mutation sent");
    assert!(r.gh.prs().is_empty(), "no pull request");
    let branches = f.git(&r.bare, &["branch", "--list", BRANCH]);
    assert!(branches.trim().is_empty(), "the remote branch was not made");
    assert!(!text(&out.stdout).contains(TOKEN) && !text(&out.stderr).contains(TOKEN));
}

fn client(gh: &FakeGitHub) -> GitHub {
    GitHub::new(&gh.url, Secret::new(TOKEN))
}

fn svc() -> RepoId {
    RepoId {
        owner: "acme".into(),
        name: "svc".into(),
    }
}

#[test]
fn a_commit_whose_expected_head_is_stale_is_refused_with_github_s_words() {
    let f = Fixture::new();
    let r = f.remote();
    let main = f.git_line(&r.bare, &["rev-parse", "main"]);
    let commit = |expected: &str| ApiCommit {
        branch: "main".into(),
        expected_head: expected.into(),
        headline: "edit".into(),
        body: "Why.".into(),
        changes: vec![FileChange::Put {
            path: "dir/b.txt".into(),
            contents: vec![0, 159, 146, 150],
        }],
    };
    let e = client(&r.gh)
        .create_commit(&svc(), &commit(&"0".repeat(40)))
        .expect_err("stale");
    assert_eq!(e.code, "E546");
    assert!(e.message.contains("Pull and try again."), "{}", e.message);
    assert_eq!(
        f.git_line(&r.bare, &["rev-parse", "main"]),
        main,
        "not moved"
    );
    let made = client(&r.gh)
        .create_commit(&svc(), &commit(&main))
        .expect("made");
    assert_eq!(f.git_line(&r.bare, &["rev-parse", "main"]), made);
    assert_eq!(f.show(&r.bare, "%B", &made).trim_end(), "edit\n\nWhy.");
    let bytes = f
        .git_out(&r.bare, &["show", &format!("{made}:dir/b.txt")])
        .stdout;
    assert_eq!(bytes, [0, 159, 146, 150], "binary bytes through base64");
}

fn request(document: &str, input: Value) -> Value {
    let mut st = State::default();
    handle(
        &mut st,
        &json!({"query": document, "variables": {"input": input}}),
        "",
    )
    .2
}

const CREATE: &str = "mutation($input: CreateCommitOnBranchInput!) { createCommitOnBranch(input: $input) { commit { oid url } } }";

#[test]
fn the_fake_checks_mutation_inputs_against_github_s_schema() {
    let s = schema();
    let fields = &s.inputs["CreateCommitOnBranchInput"];
    assert!(fields.contains(&(
        "expectedHeadOid".to_string(),
        TypeRef::parse("GitObjectID!")
    )));
    assert_eq!(
        s.enums["PullRequestMergeMethod"],
        ["MERGE", "REBASE", "SQUASH"]
    );
    let good = json!({
        "branch": {"repositoryNameWithOwner": "acme/svc", "branchName": "b"},
        "expectedHeadOid": "a".repeat(40),
        "message": {"headline": "h"},
        "fileChanges": {"additions": [{"path": "a", "contents": "aGk="}], "deletions": []},
    });
    let m = Mutation::read(CREATE).expect("read");
    assert_eq!(s.validate(&m, &good), Ok(()));

    let cases: &[(&str, Value, &str)] = &[
        (
            "no lease",
            json!({"branch": good["branch"], "message": {"headline": "h"}}),
            "expectedHeadOid",
        ),
        (
            "an unknown field",
            {
                let mut v = good.clone();
                v["fileChanges"]["additions"][0]["mode"] = json!("100755");
                v
            },
            "Field is not defined on FileAddition",
        ),
        (
            "contents not base64",
            {
                let mut v = good.clone();
                v["fileChanges"]["additions"][0]["contents"] = json!("not base64!");
                v
            },
            "Base64String",
        ),
        (
            "a short oid",
            {
                let mut v = good.clone();
                v["expectedHeadOid"] = json!("abc");
                v
            },
            "GitObjectID",
        ),
        (
            "a headline missing",
            {
                let mut v = good.clone();
                v["message"] = json!({"body": "b"});
                v
            },
            "Expected value to not be null",
        ),
    ];
    for (what, input, expected) in cases {
        let answer = request(CREATE, input.clone());
        let said = answer.to_string();
        assert!(answer["errors"].is_array(), "{what}: {said}");
        assert!(said.contains(expected), "{what}: {said}");
        assert!(answer.get("data").is_none(), "{what}: nothing done");
    }
    let wrong_type = CREATE.replace("CreateCommitOnBranchInput!", "CreateCommitOnBranchInput");
    assert!(
        request(&wrong_type, good.clone())
            .to_string()
            .contains("Type mismatch")
    );
    let auto = "mutation($input: EnablePullRequestAutoMergeInput!) { enablePullRequestAutoMerge(input: $input) { pullRequest { number } } }";
    let said = request(
        auto,
        json!({"pullRequestId": "PR_1", "mergeMethod": "FAST_FORWARD"}),
    );
    assert!(
        said.to_string()
            .contains("to be one of: MERGE, REBASE, SQUASH"),
        "{said}"
    );
}

#[test]
fn auto_merge_is_enabled_on_the_fake_and_refused_where_the_repository_does_not_allow_it() {
    let gh = FakeGitHub::start(TOKEN);
    let seven = gh.open_pr("acme/svc", "codefleet/a", "main", "a");
    let other = gh.open_pr("acme/strict", "codefleet/b", "main", "b");
    gh.lock()
        .graphql
        .auto_merge_disallowed
        .push("acme/strict".into());
    let pr = |repo: &str, n: u64| PullRequest {
        number: n,
        node_id: gh.pr(repo, n).node_id,
        ..PullRequest::default()
    };
    client(&gh)
        .enable_auto_merge(&svc(), &pr("acme/svc", seven), Some(MergeMethod::Squash))
        .expect("enabled");
    assert_eq!(gh.auto_merge("acme/svc", seven).as_deref(), Some("SQUASH"));
    let strict = RepoId {
        owner: "acme".into(),
        name: "strict".into(),
    };
    let e = client(&gh)
        .enable_auto_merge(&strict, &pr("acme/strict", other), None)
        .expect_err("not allowed");
    assert_eq!(e.code, "E549");
    assert!(
        e.message.contains(&format!("#{other}")) && e.message.contains("not allowed"),
        "{}",
        e.message
    );
    assert!(e.hint.as_deref().unwrap_or("").contains("Allow auto-merge"));
    assert_eq!(gh.auto_merge("acme/strict", other), None);
    let unknown = PullRequest {
        number: 9,
        ..PullRequest::default()
    };
    let e = client(&gh)
        .enable_auto_merge(&svc(), &unknown, None)
        .expect_err("no node id");
    assert_eq!(e.code, "E549");
    let requests = gh.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.target == "/graphql" && r.method == "POST")
    );
    assert_eq!(requests.len(), 2, "no request without a node id");
}

#[test]
fn a_checkout_whose_remote_branch_a_colleague_moved_is_refused_before_any_commit() {
    let f = Fixture::new();
    let r = f.remote();
    let checkout = f.path("checkout");
    let bare = r.bare.to_str().unwrap();
    f.git_line(
        f.dir.path(),
        &["clone", "-q", bare, checkout.to_str().unwrap()],
    );
    f.git_line(&checkout, &["remote", "set-url", "origin", &r.url]);
    let p = f
        .pipeline("../checkout", "HELLO", SECOND)
        .to_str()
        .unwrap()
        .to_string();
    let yaml = std::fs::read_to_string(&p)
        .unwrap()
        .replace("  - url: ../checkout", "  - path: ../checkout");
    std::fs::write(&p, yaml).unwrap();
    let out = f.codefleet(&["run", &p, "--pr", "--json"], &r.gh.url);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(report(&out)["repos"][0]["publish"]["push"], "pushed");

    // Someone adds a commit on top of what GitHub made; the checkout never fetched it.
    let theirs = colleague_pushes(&f, &r.bare);
    let p2 = std::fs::read_to_string(&p)
        .unwrap()
        .replace("with: HELLO", "with: HOWDY");
    std::fs::write(&p, p2).unwrap();
    let out = f.codefleet(&["run", &p, "--pr", "--json"], &r.gh.url);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let publish = &report(&out)["repos"][0]["publish"];
    assert_eq!(publish["push"], "refused", "{publish}");
    let message = publish["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("E548") && message.contains(&theirs),
        "{message}"
    );
    assert_eq!(
        f.git_line(&r.bare, &["rev-parse", BRANCH]),
        theirs,
        "not moved"
    );
    assert_eq!(commit_mutations(&r.gh).len(), 2, "no commit made");
}
