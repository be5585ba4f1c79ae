//! One pipeline over repositories on three hosts, each a different forge: the forge is chosen
//! per repository from its remote URL's host (`github.hosts`, `gitlab.hosts`, `gitea.hosts`),
//! and each host gets its own API and its own token. Three git servers (`git http-backend` on
//! 127.0.0.1, each accepting one token) stand for the hosts: the fake GitHub is the API of the
//! GitHub Enterprise host (its git served apart), the fake GitLab and the fake Gitea serve
//! their API and git on one port each. Every request's credentials are recorded, so no token
//! can have reached another host.

use crate::support::fixture;
use fixture::{said, text};

fixture::topic_fixture!();

use crate::support::git_http::{self, GitHttp};
use crate::support::gitea::{self, FakeGitea};
use crate::support::github::{FakeGitHub, Repo};
use crate::support::gitlab::{FakeGitLab, Project};

use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;

const GHE_TOKEN: &str = "ghe_T0kenForTheEnterpriseHostOnly1";
const GITLAB_TOKEN: &str = "glpat-T0kenForTheGitLabHostOnly22";
const GITEA_TOKEN: &str = "gitea_T0kenForTheGiteaHostOnly333";
/// The GitHub token of github.com and unlisted hosts: listed hosts never see it.
const FALLBACK_TOKEN: &str = "ghp_FallbackT0kenNobodyHereMaySee4";

/// A host: a git server over `srv-<name>` that accepts only `token`.
struct Host {
    git: GitHttp,
    /// `127.0.0.1:PORT`.
    host: String,
}

struct World {
    f: Fixture,
    gh: FakeGitHub,
    ghe: Host,
    gitlab: FakeGitLab,
    gitea: FakeGitea,
    pipeline: PathBuf,
}

impl Fixture {
    /// `srv-<server>/<path>.git` holding `a.txt` = `hello`.
    fn bare(&self, server: &str, path: &str) -> PathBuf {
        let work = self.path(&format!("work/{server}/{path}"));
        std::fs::create_dir_all(&work).unwrap();
        self.git_line(&work, &["init", "-q", "-b", "main"]);
        std::fs::write(work.join("a.txt"), "hello\n").unwrap();
        self.git_line(&work, &["add", "-A"]);
        self.git_line(&work, &["commit", "-q", "-m", "init"]);
        let bare = self.path(&format!("srv-{server}/{path}.git"));
        std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
        let (work, dest) = (work.to_str().unwrap(), bare.to_str().unwrap());
        self.git_line(self.dir.path(), &["clone", "-q", "--bare", work, dest]);
        bare
    }

    fn host(&self, server: &str, token: &str) -> Host {
        std::fs::create_dir_all(self.path(&format!("srv-{server}"))).unwrap();
        let git = GitHttp::start(&self.path(&format!("srv-{server}")), token);
        let host = git.base.trim_start_matches("http://").to_string();
        Host { git, host }
    }
}

impl World {
    /// `acme/api` on the GitHub Enterprise host, `group/sub/web` on the GitLab host and
    /// `team/docs` on the Gitea host; the config lists each host under its forge.
    fn new() -> World {
        let f = Fixture::new();
        let ghe = f.host("ghe", GHE_TOKEN);
        let gitlab = FakeGitLab::start(&f.path("srv-gitlab"), GITLAB_TOKEN);
        let gitea = FakeGitea::start(GITEA_TOKEN, &f.path("srv-gitea"));
        let gh = FakeGitHub::start(GHE_TOKEN);
        let api = f.bare("ghe", "acme/api");
        let api_url = format!("{}/acme/api.git", ghe.git.base);
        gh.add_repo(Repo::new("acme/api").git(&api, &api_url));
        gitlab.add_project(Project::new("group/sub/web"), &[("a.txt", "hello\n")]);
        gitlab.add_user("ana");
        gitea.add_with_git(gitea::Repo::new("team/docs"), &[("a.txt", "hello\n")]);
        gitea.add_user("ana");
        let pipeline = f.path("p.yml");
        std::fs::write(
            &pipeline,
            format!(
                "version: 1\nname: greet\nrepos:\n  - url: {api_url}\n  - url: {}/group/sub/web.git\n  \
                 - url: {}/team/docs.git\npr:\n  title: greet\n  assignees: [ana]\n  \
                 remove_source_branch: true\ntasks:\n  - name: shout\n    replace: {{ find: hello, with: HELLO }}\n",
                gitlab.url, gitea.url
            ),
        )
        .unwrap();
        std::fs::write(
            f.path("config.yml"),
            format!(
                "github:\n  hosts:\n    - host: {}\n      api_url: {}\n      token_env: GHE_TOKEN\n\
                 gitlab:\n  hosts:\n    - host: {}\n      api_url: {}\n      token_env: CORP_GITLAB_TOKEN\n\
                 gitea:\n  hosts:\n    - {{ host: {}, api_url: {} }}\n",
                ghe.host,
                gh.url,
                gitlab.url.trim_start_matches("http://"),
                gitlab.api,
                gitea.url.trim_start_matches("http://"),
                gitea.api
            ),
        )
        .unwrap();
        World {
            f,
            gh,
            ghe,
            gitlab,
            gitea,
            pipeline,
        }
    }

    fn codefleet(&self, args: &[&str]) -> Output {
        let config = self.f.path("config.yml");
        self.f.cli(
            self.f.dir.path(),
            args,
            &[
                ("CODEFLEET_CONFIG", config.to_str().unwrap()),
                // The fallback (github.com and unlisted hosts) is not reachable: nothing here
                // may go to it.
                ("CODEFLEET_GITHUB_API_URL", "http://127.0.0.1:9"),
                ("GITHUB_TOKEN", FALLBACK_TOKEN),
                ("GHE_TOKEN", GHE_TOKEN),
                ("CORP_GITLAB_TOKEN", GITLAB_TOKEN),
                ("GITEA_TOKEN", GITEA_TOKEN),
                ("GIT_AUTHOR_NAME", "t"),
                ("GIT_AUTHOR_EMAIL", "t@example.com"),
                ("GIT_COMMITTER_NAME", "t"),
                ("GIT_COMMITTER_EMAIL", "t@example.com"),
            ],
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = vec!["run", self.pipeline.to_str().unwrap()];
        all.extend_from_slice(args);
        self.codefleet(&all)
    }

    /// The run branch's tip in a bare repository, if it was pushed.
    fn pushed(&self, server: &str, path: &str) -> Option<String> {
        let bare = self.f.path(&format!("srv-{server}/{path}.git"));
        let out = self.f.git_out(
            &bare,
            &["rev-parse", "--verify", "-q", "refs/heads/codefleet/greet"],
        );
        out.status
            .success()
            .then(|| text(&out.stdout).trim().to_string())
    }
}

/// The report's repository whose path ends with `suffix`.
fn repo<'a>(report: &'a Value, suffix: &str) -> &'a Value {
    report["repos"]
        .as_array()
        .and_then(|r| {
            r.iter()
                .find(|r| r["path"].as_str().is_some_and(|p| p.ends_with(suffix)))
        })
        .unwrap_or_else(|| panic!("no repository {suffix} in {report}"))
}

/// The distinct `user:password` pairs a git server received.
fn sent(host: &Host) -> Vec<String> {
    distinct(host.git.credentials.lock().unwrap().clone())
}

fn distinct(mut all: Vec<String>) -> Vec<String> {
    all.sort();
    all.dedup();
    all
}

/// The distinct `user:password` pairs the fake GitLab's git received.
fn sent_gitlab(gl: &FakeGitLab) -> Vec<String> {
    distinct(
        gl.lock()
            .git_requests
            .iter()
            .filter_map(|(_, c)| c.clone())
            .collect(),
    )
}

/// The distinct `user:password` pairs the fake Gitea's git received.
fn sent_gitea(gt: &FakeGitea) -> Vec<String> {
    let basic = gt
        .requests()
        .into_iter()
        .filter(|r| !r.target.starts_with("/api/"))
        .filter_map(|r| r.authorization)
        .filter_map(|a| a.strip_prefix("Basic ").and_then(git_http::decode_base64))
        .collect();
    distinct(basic)
}

#[test]
fn one_pipeline_spans_three_hosts_each_with_its_own_forge_api_and_token() {
    let w = World::new();
    let out = w.run(&["--pr", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("a JSON report");

    // Every repository was pushed to its own host, with that host's token.
    for (server, path) in [
        ("ghe", "acme/api"),
        ("gitlab", "group/sub/web"),
        ("gitea", "team/docs"),
    ] {
        assert!(w.pushed(server, path).is_some(), "{path}: {}", said(&out));
    }
    assert_eq!(sent(&w.ghe), [format!("x-access-token:{GHE_TOKEN}")]);
    assert_eq!(sent_gitlab(&w.gitlab), [format!("oauth2:{GITLAB_TOKEN}")]);
    assert_eq!(sent_gitea(&w.gitea), [format!("oauth2:{GITEA_TOKEN}")]);

    // The Enterprise host's pull request went to its API, with its token, and only its.
    let api = repo(&report, "acme/api.git");
    let pr = &api["publish"]["pull_request"];
    assert_eq!(
        (pr["action"].as_str(), pr["forge"].as_str()),
        (Some("opened"), Some("github")),
        "{api}"
    );
    let prs = w.gh.prs();
    assert_eq!(prs.len(), 1, "{prs:?}");
    assert_eq!(
        (prs[0].repo.as_str(), prs[0].title.as_str()),
        ("acme/api", "greet")
    );
    let requests = w.gh.requests();
    assert!(!requests.is_empty());
    for r in &requests {
        let expected = format!("Bearer {GHE_TOKEN}");
        assert_eq!(r.authorization.as_deref(), Some(expected.as_str()), "{r:?}");
        assert!(
            !r.target.contains("web") && !r.target.contains("docs"),
            "{r:?}"
        );
    }
    w.gh.assert_conforms();

    // The GitLab and Gitea repositories were given to their own forges, with their tokens.
    for (suffix, forge) in [("group/sub/web.git", "gitlab"), ("team/docs.git", "gitea")] {
        let pr = &repo(&report, suffix)["publish"]["pull_request"];
        assert_eq!(
            (pr["forge"].as_str(), pr["action"].as_str()),
            (Some(forge), Some("opened")),
            "{pr}"
        );
    }
    assert_eq!(w.gitlab.mrs().len(), 1);
    assert_eq!(w.gitea.prs().len(), 1);
    for r in w.gitlab.requests() {
        assert_eq!(r.private_token.as_deref(), Some(GITLAB_TOKEN), "{r:?}");
    }
    let gitea_api = format!("token {GITEA_TOKEN}");
    for r in w
        .gitea
        .requests()
        .iter()
        .filter(|r| r.target.starts_with("/api/"))
    {
        assert_eq!(
            r.authorization.as_deref(),
            Some(gitea_api.as_str()),
            "{r:?}"
        );
    }

    // No token appears in anything printed.
    let all = said(&out);
    for token in [GHE_TOKEN, GITLAB_TOKEN, GITEA_TOKEN, FALLBACK_TOKEN] {
        assert!(!all.contains(token), "{all}");
    }
}

#[test]
fn the_summary_status_and_report_use_each_forge_s_words_and_name_it() {
    let w = World::new();
    let first = w.run(&["--pr"]);
    assert_eq!(first.status.code(), Some(0), "{}", said(&first));
    let human = said(&first);
    let web = human
        .lines()
        .find(|l| l.contains("group/sub/web.git:") && l.contains("merge request !1 opened"))
        .unwrap_or_else(|| panic!("a merge request line for the GitLab repository:\n{human}"));
    assert!(!web.contains("pull request"), "{web}");
    assert!(
        human
            .lines()
            .any(|l| l.contains("acme/api.git") && l.contains("pull request #1 opened")),
        "{human}"
    );
    assert!(
        human
            .lines()
            .any(|l| l.contains("team/docs.git:") && l.contains("pull request #1 opened")),
        "{human}"
    );

    let status = w.codefleet(&["status", w.pipeline.to_str().unwrap(), "--json"]);
    let rows: Value = serde_json::from_slice(&status.stdout).expect("status JSON");
    let row = |name: &str| {
        rows["repos"]
            .as_array()
            .and_then(|r| r.iter().find(|r| r["name"] == name).cloned())
            .unwrap_or_else(|| panic!("no row {name}: {rows}"))
    };
    let (api, web, docs) = (row("api"), row("web"), row("docs"));
    assert_eq!(
        (api["forge"].as_str(), api["state"].as_str()),
        (Some("github"), Some("open")),
        "{api}"
    );
    assert_eq!(web["forge"].as_str(), Some("gitlab"), "{web}");
    assert_eq!(docs["forge"].as_str(), Some("gitea"), "{docs}");
    for row in [&web, &docs] {
        assert_eq!(row["state"].as_str(), Some("open"), "{row}");
    }
    // The table writes GitHub's number as `#1`.
    let table = w.codefleet(&["status", w.pipeline.to_str().unwrap()]);
    let table = text(&table.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.contains("acme/api") && l.contains("#1")),
        "{table}"
    );
}

/// `codefleet config` with `config.yml` holding `yaml`.
fn config(yaml: &str, env: &[(&str, &str)]) -> (Output, Fixture) {
    let f = Fixture::new();
    std::fs::write(f.path("config.yml"), yaml).unwrap();
    let config = f.path("config.yml");
    let mut all = vec![("CODEFLEET_CONFIG", config.to_str().unwrap())];
    all.extend_from_slice(env);
    let out = f.cli(f.dir.path(), &["config", "--json"], &all);
    (out, f)
}

#[test]
fn each_host_gets_its_forge_s_defaults_and_config_shows_where_it_came_from() {
    let (out, _f) = config(
        "github:\n  hosts: [{ host: GHE.corp }]\ngitlab:\n  hosts: [{ host: gitlab.corp:8443 }]\n\
         gitea:\n  hosts: [{ host: 127.0.0.1:3000, api_url: http://127.0.0.1:3000/api/v1/, token_env: MY_GITEA }]\n",
        &[
            ("CODEFLEET_GITLAB_API_URL", "https://gitlab.example/api/v4"),
            ("CODEFLEET_GITLAB_TOKEN_ENV", "CORP_TOKEN"),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["settings"];
    assert_eq!(
        s["github.hosts"]["value"],
        serde_json::json!(["ghe.corp (https://ghe.corp/api/v3, $GITHUB_TOKEN)"])
    );
    assert_eq!(
        s["gitlab.hosts"]["value"],
        serde_json::json!(["gitlab.corp:8443 (https://gitlab.corp:8443/api/v4, $GITLAB_TOKEN)"])
    );
    assert_eq!(
        s["gitea.hosts"]["value"],
        serde_json::json!(["127.0.0.1:3000 (http://127.0.0.1:3000/api/v1, $MY_GITEA)"])
    );
    assert_eq!(s["gitea.hosts"]["kind"], "user");
    assert_eq!(
        s["gitlab.api_url"]["value"],
        "https://gitlab.example/api/v4"
    );
    assert_eq!(
        s["gitlab.api_url"]["source"],
        "env CODEFLEET_GITLAB_API_URL"
    );
    assert_eq!(s["gitlab.token_env"]["value"], "CORP_TOKEN");

    let (out, _f) = config("", &[]);
    let json: Value = serde_json::from_slice(&out.stdout).unwrap();
    let s = &json["settings"];
    assert_eq!(s["gitlab.api_url"]["value"], "https://gitlab.com/api/v4");
    assert_eq!(s["gitlab.token_env"]["value"], "GITLAB_TOKEN");
    assert_eq!(s["gitea.hosts"]["value"], serde_json::json!([]));
    assert_eq!(s["gitea.hosts"]["kind"], "default");
}

#[test]
fn a_host_under_two_forges_and_bad_host_entries_are_refused_with_their_place() {
    let cases: &[(&str, &str, &str, &str)] = &[
        (
            "github:\n  hosts: [{ host: git.corp }]\ngitlab:\n  hosts:\n    - host: Git.Corp\n",
            "E560",
            "config.yml:5:13",
            "`git.corp` is listed under `github.hosts` and `gitlab.hosts`",
        ),
        (
            "gitea:\n  hosts:\n    - host: gitlab.com\n",
            "E560",
            "config.yml:3:",
            "gitlab.com (built in)",
        ),
        (
            "gitlab:\n  hosts:\n    - host: https://gitlab.corp/\n",
            "E561",
            "config.yml:3:",
            "`gitlab.hosts`: `https://gitlab.corp/` is not a host name",
        ),
        (
            "gitea:\n  hosts:\n    - host: gitea.corp\n      api_url: gitea.corp/api/v1\n",
            "E562",
            "config.yml:4:",
            "`gitea.hosts[0].api_url` is not an http(s) URL",
        ),
        (
            "gitlab:\n  token_env: glpat-abc\n",
            "E563",
            "config.yml:2:",
            "`gitlab.token_env` is not an environment variable name",
        ),
    ];
    for (yaml, code, place, message) in cases {
        let (out, _f) = config(yaml, &[]);
        let err = said(&out);
        assert_eq!(out.status.code(), Some(2), "{yaml}\n{err}");
        assert!(err.contains(code), "{code}: {err}");
        assert!(err.contains(place), "{place}: {err}");
        assert!(err.contains(message), "{message}: {err}");
    }
    let (out, _f) = config("", &[("CODEFLEET_GITLAB_API_URL", "gitlab.corp")]);
    assert_eq!(out.status.code(), Some(2), "{}", said(&out));
    assert!(
        said(&out).contains("CODEFLEET_GITLAB_API_URL"),
        "{}",
        said(&out)
    );
}
