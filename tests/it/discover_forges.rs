//! Repositories from GitLab and Gitea: `repos:` entries `gitlab:` and `gitea:` (checked with
//! their place and a hint, documented by `codefleet schema`), each asked of the forge of its
//! host; `--repo HOST/owner/name` and `--repo gitlab.com/group/sub/project`; a host that is not
//! listed as that forge's stops before anything runs. The forges are the stateful fakes
//! (`support/github.rs`, `support/gitlab.rs`, `support/gitea.rs`).

use std::path::PathBuf;

use serde_json::Value;

use crate::support::fixture::{self, text};
use crate::support::gitea::{self as tea, FakeGitea};
use crate::support::github::{FakeGitHub, Repo};
use crate::support::gitlab::{FakeGitLab, Project};

fixture::topic_fixture!();

const TOKEN: &str = "ghp_D1sc0verF0rgesT0ken0123456789abcd";

impl Fixture {
    /// A pipeline `pipelines/<name>.yml` with these `repos:` lines.
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

    fn cmd(&self, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
        let mut cmd = self.binary(self.dir.path(), args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("codefleet")
    }
}

/// Each wrong `gitlab:`/`gitea:` entry is reported at its place with a hint, and nothing is
/// asked of any forge.
#[test]
fn gitlab_and_gitea_entries_are_checked_with_place_and_hint() {
    let f = Fixture::new();
    // Each row: the entry, what is said, and the text the place points at.
    for (entry, expected, at) in [
        (
            "gitlab: { topics: [rust] }",
            "a `gitlab` entry needs `group`",
            "{",
        ),
        (
            "gitlab: { group: -acme }",
            "`-acme` is not a GitLab group path",
            "-acme",
        ),
        (
            "gitlab: { group: acme//x }",
            "`acme//x` is not a GitLab group path",
            "acme//x",
        ),
        (
            "gitlab: { group: acme, host: 'https://gitlab.corp' }",
            "`host: https://gitlab.corp` is not a host, not a URL",
            "'https",
        ),
        (
            "gitlab: { group: acme, limit: 0 }",
            "`limit` must be at least 1",
            "0",
        ),
        (
            "gitlab: { group: acme, include: '(' }",
            "invalid regex in `include`",
            "'('",
        ),
        (
            "gitlab: { group: acme, search: ' ' }",
            "empty `search` text",
            "' '",
        ),
        (
            "gitlab: { group: acme, subgroups: true }",
            "subgroups",
            "subgroups",
        ),
        (
            "gitea: { org: acme, user: jo }",
            "a `gitea` entry has both `org` and `user`",
            "user",
        ),
        (
            "gitea: { topics: [x] }",
            "a `gitea` entry needs `org` or `user`",
            "{",
        ),
        (
            "gitea: { org: a..b }",
            "`a..b` is not a Gitea organisation name",
            "a..b",
        ),
        (
            "gitea: { user: acme, topics: [Rust] }",
            "`Rust` is not a Gitea topic",
            "Rust",
        ),
        (
            "gitea: { org: acme, host: 'git.corp/x' }",
            "is not a host, not a URL",
            "'git",
        ),
        (
            "gitlab: { group: acme }\n    gitea: { org: acme }",
            "a `repos` entry has both `gitlab` and `gitea`",
            "gitea:",
        ),
    ] {
        let p = f.pipeline("bad", &format!("  - {entry}\n"));
        let out = f.cmd(&["validate", p.to_str().expect("utf-8")], &[]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{entry}: {}",
            fixture::said(&out)
        );
        let said = text(&out.stderr);
        assert!(said.contains(expected), "{entry}: {said}");
        // `repos:` is line 3; the entry starts on line 4 after `  - `.
        let (line, col) = entry
            .lines()
            .enumerate()
            .find_map(|(n, l)| l.find(at).map(|c| (n, c)))
            .expect("marker");
        let col = if line == 0 { col + 5 } else { col + 1 };
        let place = format!("bad.yml:{}:{col}", 4 + line);
        assert!(said.contains(&place), "{entry}: the place {place}: {said}");
        assert!(said.contains("help:"), "{entry}: {said}");
    }
    let ok = f.pipeline(
        "ok",
        "  - gitlab: { group: acme/platform, include_subgroups: false, topics: [Rust API], \
         search: svc, include: '^acme/', exclude: 'old', archived: true, forks: true, limit: 3 }\n  \
         - gitea: { host: 'git.corp:3000', user: jo.doe, topics: [infra.k8s], limit: 1 }\n",
    );
    let out = f.cmd(&["validate", ok.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
}

/// `codefleet schema` documents both entries, field by field.
#[test]
fn the_schema_documents_the_gitlab_and_gitea_entries() {
    let f = Fixture::new();
    let out = f.cmd(&["schema"], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let schema: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let defs = &schema["$defs"];
    let entry = &defs["RepoEntry"]["properties"];
    assert!(
        entry["gitlab"].to_string().contains("GitLabEntry"),
        "{entry}"
    );
    assert!(entry["gitea"].to_string().contains("GiteaEntry"), "{entry}");
    let gitlab = &defs["GitLabEntry"]["properties"];
    for key in [
        "host",
        "group",
        "include_subgroups",
        "topics",
        "search",
        "include",
        "exclude",
        "archived",
        "forks",
        "limit",
    ] {
        let doc = gitlab[key]["description"].as_str().unwrap_or_default();
        assert!(!doc.is_empty(), "gitlab.{key} is documented: {gitlab}");
    }
    assert!(
        gitlab["host"]["description"]
            .to_string()
            .contains("gitlab.com")
    );
    let gitea = &defs["GiteaEntry"]["properties"];
    for key in [
        "host", "org", "user", "topics", "search", "include", "exclude", "archived", "forks",
        "limit",
    ] {
        let doc = gitea[key]["description"].as_str().unwrap_or_default();
        assert!(!doc.is_empty(), "gitea.{key} is documented: {gitea}");
    }
    assert!(
        gitea["host"]["description"]
            .to_string()
            .contains("gitea.hosts")
    );
}

/// A host that is not listed as the forge an entry names stops `plan` before anything runs
/// (exit 2, `E576`, the setting to list it under in the hint); so does `--repo HOST/a/b` for a
/// host no forge is listed for, while a local path of that name stays a path.
#[test]
fn hosts_not_listed_stop_before_anything_runs() {
    let f = Fixture::new();
    let gitlab = f.pipeline(
        "lab",
        "  - gitlab: { host: gitlab.corp.example, group: acme }\n",
    );
    let out = f.cmd(&["plan", gitlab.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(said.contains("E576"), "{said}");
    assert!(
        said.contains("`gitlab.corp.example` is not listed as a GitLab host"),
        "{said}"
    );
    assert!(said.contains("`gitlab.hosts`"), "{said}");

    let gitea = f.pipeline("tea", "  - gitea: { org: acme }\n");
    let out = f.cmd(&["plan", gitea.to_str().expect("utf-8")], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains("E576") && said.contains("no host is listed under `gitea.hosts`"),
        "{said}"
    );

    let any = f.pipeline("any", "  - path: .\n");
    let p = any.to_str().expect("utf-8");
    let out = f.cmd(&["plan", p, "--repo", "git.nowhere.example/acme/api"], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains("E576")
            && said.contains("`git.nowhere.example` is not listed as a forge host"),
        "{said}"
    );
    // The same value naming a local checkout is that checkout.
    let local = f.path("git.nowhere.example/acme/api");
    std::fs::create_dir_all(&local).expect("mkdir");
    f.git_line(&local, &["init", "-q"]);
    f.git_line(&local, &["commit", "-q", "--allow-empty", "-m", "init"]);
    let out = f.cmd(
        &[
            "plan",
            p,
            "--json",
            "--repo",
            "git.nowhere.example/acme/api",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let path = doc["repos"][0]["path"].as_str().expect("path");
    assert!(path.ends_with("git.nowhere.example/acme/api"), "{doc}");
}

/// `--repo github.com/owner/name` is GitHub's repository (asked of the API, cloned from its
/// `clone_url`), as `owner/name` is; a missing one is `E577`.
#[test]
fn github_com_owner_name_is_asked_of_github() {
    let f = Fixture::new();
    let gh = FakeGitHub::start(TOKEN);
    gh.lock().strict = true;
    gh.add_repo(Repo::new("acme/api"));
    let any = f.pipeline("any", "  - path: .\n");
    let p = any.to_str().expect("utf-8");
    let env = [
        ("GITHUB_TOKEN", TOKEN),
        ("CODEFLEET_GITHUB_API_URL", gh.url.as_str()),
    ];
    let out = f.cmd(
        &["plan", p, "--json", "--repo", "github.com/acme/api"],
        &env,
    );
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        doc["repos"][0]["path"], "https://github.example/acme/api.git",
        "{doc}"
    );
    assert_eq!(gh.calls("GET /repos/{owner}/{repo}"), 1);
    let out = f.cmd(&["plan", p, "--repo", "github.com/acme/nope"], &env);
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(said.contains("E577"), "{said}");
    assert!(
        said.contains("GitHub at `github.com` has no repository `acme/nope`"),
        "{said}"
    );
    gh.assert_conforms();
}

/// A `gitlab:` entry and `--repo HOST/group/sub/project` against the fake GitLab listed under
/// `gitlab.hosts`: the group's projects with its subgroup's (archived and forks dropped and
/// counted), narrowed on the server by topic and search; a missing group is `E575`, a missing
/// project `E577`.
#[test]
fn gitlab_groups_and_projects_by_full_path() {
    let f = Fixture::new();
    let lab = FakeGitLab::start(&f.path("srv"), TOKEN);
    for p in [
        Project::new("acme/web").topics(&["rust"]),
        Project::new("acme/platform/api").topics(&["rust"]),
        Project::new("acme/platform/db"),
        Project::new("acme/platform/old").archived(),
        Project::new("acme/platform/copy").fork_of("else/copy"),
        Project::new("acmeish/other"),
    ] {
        lab.add_listed(p);
    }
    let host = lab.url.trim_start_matches("http://").to_string();
    let config = f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "gitlab:\n  hosts:\n    - {{ host: '{host}', api_url: '{}' }}\n",
            lab.api
        ),
    )
    .expect("settings");
    let env = [("GITLAB_TOKEN", TOKEN)];
    let plan = |entry: &str| {
        let p = f.pipeline(
            "lab",
            &format!("  - gitlab: {{ host: '{host}', {entry} }}\n"),
        );
        f.cmd(&["plan", p.to_str().expect("utf-8"), "--json"], &env)
    };
    let out = plan("group: acme");
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let paths: Vec<&str> = doc["repos"]
        .as_array()
        .expect("repos")
        .iter()
        .map(|r| r["path"].as_str().expect("path"))
        .collect();
    assert_eq!(
        paths,
        [
            lab.clone_url("acme/web"),
            lab.clone_url("acme/platform/api"),
            lab.clone_url("acme/platform/db"),
        ]
    );
    assert_eq!(
        doc["dropped"],
        serde_json::json!([
            {"repo": "acme/platform/copy", "reason": "fork"},
            {"repo": "acme/platform/old", "reason": "archived"}
        ])
    );
    let out = plan("group: acme, include_subgroups: false");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["repos"].as_array().map(Vec::len), Some(1), "{doc}");
    let out = plan("group: acme/platform, topics: [rust], search: ap");
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        doc["repos"][0]["path"],
        lab.clone_url("acme/platform/api"),
        "{doc}"
    );
    assert_eq!(doc["repos"].as_array().map(Vec::len), Some(1), "{doc}");
    let asked = lab
        .requests()
        .iter()
        .any(|r| r.target.contains("topic=rust") && r.target.contains("search=ap"));
    assert!(asked, "topic and search asked of the server");

    let out = plan("group: nobody");
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    let said = text(&out.stderr);
    assert!(
        said.contains("E575") && said.contains("has no group `nobody`"),
        "{said}"
    );

    let any = f.pipeline("any", "  - path: .\n");
    let p = any.to_str().expect("utf-8");
    let value = format!("{host}/acme/platform/db");
    let out = f.cmd(&["plan", p, "--json", "--repo", &value], &env);
    assert_eq!(out.status.code(), Some(0), "{}", fixture::said(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(
        doc["repos"][0]["path"],
        lab.clone_url("acme/platform/db"),
        "{doc}"
    );
    let missing = format!("{host}/acme/platform/nope");
    let out = f.cmd(&["plan", p, "--repo", &missing], &env);
    assert_eq!(out.status.code(), Some(2), "{}", fixture::said(&out));
    assert!(
        text(&out.stderr).contains("E577"),
        "{}",
        fixture::said(&out)
    );
    lab.assert_conforms();
}

/// `gitea:` entries against the fake Gitea listed under `gitea.hosts`: an organisation's and a
/// user's repositories (archived ones and forks dropped and counted, or kept when asked), topics
/// and search asked of the server (`GET /repos/search` with the owner's `uid`), `include` /
/// `exclude` and `limit` applied to what was found, and an entry without `host` asking the
/// only host listed.
#[test]
fn gitea_orgs_users_topics_and_search() {
    let f = Fixture::new();
    let gt = FakeGitea::start(TOKEN, &f.path("srv"));
    gt.add_user("jo");
    for r in [
        tea::Repo::new("acme/api").topics(&["rust"]),
        tea::Repo::new("acme/web").topics(&["rust", "web"]),
        tea::Repo::new("acme/db").description("the api's store"),
        tea::Repo::new("acme/old").archived(),
        tea::Repo::new("acme/copy").fork(),
        tea::Repo::new("jo/tools").topics(&["rust"]),
        tea::Repo::new("acmeish/api"),
    ] {
        gt.add_repo(r);
    }
    let host = gt.url.trim_start_matches("http://").to_string();
    let config = f.path("config/codefleet/config.yml");
    std::fs::create_dir_all(config.parent().expect("parent")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "gitea:\n  hosts:\n    - {{ host: '{host}', api_url: '{}' }}\n",
            gt.api
        ),
    )
    .expect("settings");
    let env = [("GITEA_TOKEN", TOKEN)];
    let url = |full: &str| format!("{}/{full}.git", gt.url);
    // The repositories `plan --json` lists for `gitea: { ENTRY }`, sorted, and the document.
    let plan = |entry: &str| {
        let p = f.pipeline("tea", &format!("  - gitea: {{ {entry} }}\n"));
        let out = f.cmd(&["plan", p.to_str().expect("utf-8"), "--json"], &env);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{entry}: {}",
            fixture::said(&out)
        );
        let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
        let mut paths: Vec<String> = doc["repos"]
            .as_array()
            .expect("repos")
            .iter()
            .map(|r| r["path"].as_str().expect("path").to_string())
            .collect();
        paths.sort();
        (paths, doc)
    };
    let entry = |rest: &str| format!("host: '{host}', {rest}");

    let (paths, doc) = plan(&entry("org: acme"));
    assert_eq!(paths, [url("acme/api"), url("acme/db"), url("acme/web")]);
    assert_eq!(
        doc["dropped"],
        serde_json::json!([
            {"repo": "acme/copy", "reason": "fork"},
            {"repo": "acme/old", "reason": "archived"}
        ])
    );
    assert!(
        gt.calls("GET /orgs/{org}/repos") >= 1,
        "{:?}",
        gt.calls_by_route()
    );

    let (paths, _) = plan(&entry("user: jo"));
    assert_eq!(paths, [url("jo/tools")]);
    assert!(gt.calls("GET /users/{username}/repos") >= 1);

    // Topics: the first asked of the server, every one required.
    let (paths, _) = plan(&entry("org: acme, topics: [rust, web]"));
    assert_eq!(paths, [url("acme/web")]);
    let asked = gt
        .requests()
        .iter()
        .any(|r| r.target.contains("/repos/search?q=rust") && r.target.contains("topic=true"));
    assert!(asked, "the topic asked of the server: {:#?}", gt.requests());

    // Search: names and descriptions of the owner's repositories only (not `acmeish/api`).
    let (paths, _) = plan(&entry("org: acme, search: api"));
    assert_eq!(paths, [url("acme/api"), url("acme/db")]);
    let asked = gt.requests().iter().any(|r| {
        r.target.contains("q=api")
            && r.target.contains("uid=")
            && r.target.contains("exclusive=true")
    });
    assert!(
        asked,
        "the search asked of the server: {:#?}",
        gt.requests()
    );

    let (paths, _) = plan(&entry("org: acme, include: '/(api|web)$', exclude: 'web'"));
    assert_eq!(paths, [url("acme/api")]);

    let (paths, doc) = plan(&entry("org: acme, archived: true, forks: true"));
    assert_eq!(
        paths,
        [
            url("acme/api"),
            url("acme/copy"),
            url("acme/db"),
            url("acme/old"),
            url("acme/web")
        ]
    );
    let dropped = doc["dropped"].as_array().map_or(0, Vec::len);
    assert_eq!(dropped, 0, "nothing dropped: {doc}");

    let (paths, _) = plan(&entry("org: acme, limit: 2"));
    assert_eq!(paths.len(), 2, "{paths:?}");

    // Without `host`: the only host under `gitea.hosts`.
    let (paths, _) = plan("user: jo");
    assert_eq!(paths, [url("jo/tools")]);

    gt.assert_conforms();
}
