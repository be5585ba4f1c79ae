//! GitHub's REST operations through `codefleet::forge::GitHub`, against the stateful fake
//! GitHub (`support/github.rs`) whose repositories are real bare git repositories: discovery
//! (one repository, an owner's, repository and code search), pull requests by branch,
//! mergeability, checks, reviews, merging for real, reopening, commenting, moving branches. Every
//! listing is read across several pages, after a secondary rate limit and after a 502.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codefleet::forge::{Forge, GitHub, MergeMethod, Owner, PrState, RepoId};
use codefleet::git::Secret;

use crate::support::fixture::Fixture;
use crate::support::github::{self, FakeGitHub, Repo};

const TOKEN: &str = "ghp_ApiT0kenThatMustNeverBeShown";

/// A client for the fake that does not wait between retries.
fn client(gh: &FakeGitHub) -> GitHub {
    GitHub::new(&gh.url, Secret::new(TOKEN))
        .pace(Duration::ZERO)
        .backoff(Duration::ZERO)
}

fn id(full: &str) -> RepoId {
    RepoId::from_url(&format!("https://github.example/{full}")).expect("owner/name")
}

fn names(repos: &[codefleet::forge::RemoteRepo]) -> Vec<String> {
    repos.iter().map(|r| r.id.to_string()).collect()
}

/// A bare repository under the fixture, registered with the fake.
fn with_git(gh: &FakeGitHub, root: &Path, repo: Repo, files: &[(&str, &str)]) -> PathBuf {
    let dir = github::bare_repo(root, &repo.full_name(), files);
    let url = format!("http://git.example/{}.git", repo.full_name());
    gh.add_repo(repo.git(&dir, &url));
    dir
}

/// The fault cases every listing must survive: (status, retry-after) answered first.
const FAULTS: &[&[(u16, Option<u64>)]] = &[
    &[],
    &[(403, Some(0))],
    &[(429, Some(0))],
    &[(502, None)],
    &[(403, Some(0)), (503, None)],
];

/// Runs `list` once per fault case (the faults scripted on `path`), with pages of `page_size`;
/// each result must equal the first.
fn across_faults<T: PartialEq + std::fmt::Debug>(
    gh: &FakeGitHub,
    path: &str,
    page_size: usize,
    list: impl Fn() -> T,
) -> T {
    gh.lock().page_size = page_size;
    let mut first = None;
    for faults in FAULTS {
        for (status, after) in *faults {
            gh.fault(path, *status, *after);
        }
        let got = list();
        assert!(
            gh.lock().path_faults.is_empty(),
            "the faults were met: {faults:?}"
        );
        match &first {
            None => first = Some(got),
            Some(f) => assert_eq!(&got, f, "after {faults:?}"),
        }
    }
    gh.lock().page_size = 100;
    first.expect("a result")
}

#[test]
fn repo_reads_one_repository_and_a_missing_one_is_refused() {
    let gh = FakeGitHub::start(TOKEN);
    gh.add_repo(
        Repo::new("acme/api")
            .topics(&["rust", "svc"])
            .default_branch("trunk")
            .merge_methods(false, true, false)
            .archived(),
    );
    gh.lock().strict = true;
    let r = client(&gh).repo(&id("acme/api")).unwrap();
    assert_eq!(r.id.to_string(), "acme/api");
    assert_eq!(r.default_branch, "trunk");
    assert_eq!(r.topics, ["rust", "svc"]);
    assert!(r.archived && !r.fork && !r.disabled);
    assert_eq!(r.merge_methods, Some(vec![MergeMethod::Squash]));
    assert_eq!(r.clone_url, "https://github.example/acme/api.git");
    assert_eq!(r.ssh_url, "git@github.example:acme/api.git");
    assert!(client(&gh).archived(&id("acme/api")).unwrap());
    let err = client(&gh).repo(&id("acme/gone")).unwrap_err();
    assert_eq!(err.code, "E532");
    assert!(err.message.contains("404"), "{}", err.message);
    assert_eq!(gh.calls("GET /repos/{owner}/{repo}"), 3);
}

#[test]
fn list_repos_reads_every_page_of_an_org_or_a_user() {
    let gh = FakeGitHub::start(TOKEN);
    for i in 0..7 {
        gh.add_repo(Repo::new(&format!("acme/svc-{i}")));
    }
    gh.add_repo(Repo::new("acme/old").archived());
    gh.add_repo(Repo::new("acme/copy").fork());
    gh.add_repo(Repo::new("bob/dotfiles").user());
    gh.add_repo(Repo::new("bob/notes").user());
    gh.add_repo(Repo::new("other/x"));
    let c = client(&gh);
    let org = across_faults(&gh, "/orgs/acme/repos", 2, || {
        names(&c.list_repos(&Owner::Org("acme".into())).unwrap())
    });
    let mut want: Vec<String> = (0..7).map(|i| format!("acme/svc-{i}")).collect();
    want.extend(["acme/old".into(), "acme/copy".into()]);
    assert_eq!(org, want);
    // Five pages a listing, five listings, and each fault one more request.
    assert_eq!(gh.calls("GET /orgs/{org}/repos"), 5 * 5 + 5);
    let first = gh
        .requests()
        .into_iter()
        .find(|r| r.route == "GET /orgs/{org}/repos")
        .unwrap();
    assert_eq!(first.target, "/orgs/acme/repos?type=all&per_page=100");
    let listed = c.list_repos(&Owner::Org("acme".into())).unwrap();
    assert!(listed[7].archived && listed[8].fork);

    let user = across_faults(&gh, "/users/bob/repos", 1, || {
        names(&c.list_repos(&Owner::User("bob".into())).unwrap())
    });
    assert_eq!(user, ["bob/dotfiles", "bob/notes"]);
    assert!(
        gh.requests()
            .iter()
            .any(|r| r.target == "/users/bob/repos?type=owner&per_page=100")
    );
    // An organisation that does not exist.
    let err = c.list_repos(&Owner::Org("nobody".into())).unwrap_err();
    assert_eq!(err.code, "E532");
}

#[test]
fn search_repos_applies_the_qualifiers_across_pages() {
    let gh = FakeGitHub::start(TOKEN);
    gh.add_repo(
        Repo::new("acme/billing")
            .topics(&["rust"])
            .description("Invoices"),
    );
    gh.add_repo(
        Repo::new("acme/web")
            .topics(&["js"])
            .description("The billing page"),
    );
    gh.add_repo(Repo::new("acme/ledger").topics(&["rust"]));
    gh.add_repo(Repo::new("acme/old-billing").topics(&["rust"]).archived());
    gh.add_repo(Repo::new("acme/billing-fork").topics(&["rust"]).fork());
    gh.add_repo(Repo::new("beta/billing").topics(&["rust"]));
    let c = client(&gh);
    let search = |q: &str| names(&c.search_repos(q).unwrap());
    let rust = across_faults(&gh, "/search/repositories", 1, || {
        search("org:acme topic:rust")
    });
    assert_eq!(rust, ["acme/billing", "acme/ledger", "acme/old-billing"]);
    assert_eq!(
        search("org:acme topic:rust archived:false"),
        ["acme/billing", "acme/ledger"]
    );
    assert_eq!(
        search("billing org:acme"),
        ["acme/billing", "acme/web", "acme/old-billing"]
    );
    assert_eq!(search("topic:rust fork:only"), ["acme/billing-fork"]);
    assert_eq!(search("user:beta"), ["beta/billing"]);
    let sent = gh
        .requests()
        .into_iter()
        .find(|r| r.route == "GET /search/repositories")
        .unwrap();
    assert_eq!(
        sent.target,
        "/search/repositories?q=org%3Aacme%20topic%3Arust&per_page=100"
    );
}

#[test]
fn a_search_stops_at_the_thousand_results_github_answers() {
    let gh = FakeGitHub::start(TOKEN);
    gh.lock()
        .repos
        .extend((0..1005).map(|i| Repo::new(&format!("big/r{i:04}"))));
    let found = client(&gh).search_repos("org:big").unwrap();
    assert_eq!(found.len(), 1000);
    assert_eq!(found[999].id.to_string(), "big/r0999");
    assert_eq!(
        gh.calls("GET /search/repositories"),
        10,
        "no request past the cap"
    );
}

#[test]
fn code_search_finds_exactly_the_repositories_whose_default_branch_has_the_text() {
    let f = Fixture::new();
    let root = f.path("srv");
    let gh = FakeGitHub::start(TOKEN);
    let needle = "legacy_billing::charge(";
    let call = format!("fn main() {{ {needle}1) }}\n");
    with_git(
        &gh,
        &root,
        Repo::new("acme/a"),
        &[("src/main.rs", &call), ("src/b.rs", &call)],
    );
    let b = with_git(
        &gh,
        &root,
        Repo::new("acme/b"),
        &[("README.md", "nothing\n")],
    );
    github::commit_files(
        &b,
        "feature",
        Some("main"),
        &[("src/x.rs", &call)],
        "only here",
    );
    let c = with_git(
        &gh,
        &root,
        Repo::new("acme/c").default_branch("trunk"),
        &[("x.rs", "old\n")],
    );
    github::commit_files(
        &c,
        "trunk",
        Some("main"),
        &[("lib/x.rs", &call)],
        "on trunk",
    );
    with_git(
        &gh,
        &root,
        Repo::new("acme/d"),
        &[("x.rs", "legacy_billing::refund(\n")],
    );
    with_git(&gh, &root, Repo::new("beta/e"), &[("x.rs", &call)]);
    with_git(
        &gh,
        &root,
        Repo::new("acme/f").archived(),
        &[("x.rs", &call)],
    );
    let client = client(&gh);
    let q = format!("\"{needle}\" org:acme");
    let found = across_faults(&gh, "/search/code", 1, || {
        let repos = client.code_search(&q).unwrap();
        repos.iter().map(|r| r.to_string()).collect::<Vec<_>>()
    });
    assert_eq!(found, ["acme/a", "acme/c", "acme/f"]);
    let one = client
        .code_search(&format!("\"{needle}\" repo:acme/c"))
        .unwrap();
    assert_eq!(one, [id("acme/c")]);
    let everywhere = client.code_search(&format!("\"{needle}\"")).unwrap();
    assert_eq!(everywhere.len(), 4, "{everywhere:?}");
    assert!(
        client
            .code_search("org:acme absent_text_xyz")
            .unwrap()
            .is_empty()
    );
}

#[test]
fn pull_requests_lists_every_state_of_a_branch_newest_first() {
    let f = Fixture::new();
    let gh = FakeGitHub::start(TOKEN);
    let bare = with_git(
        &gh,
        &f.path("srv"),
        Repo::new("acme/svc"),
        &[("a.txt", "a\n")],
    );
    let tip = github::commit_files(&bare, "codefleet/x", Some("main"), &[("a.txt", "b\n")], "x");
    let one = gh.open_pr("acme/svc", "codefleet/x", "main", "first");
    gh.close_pr("acme/svc", one);
    let two = gh.open_pr("acme/svc", "codefleet/x", "main", "second");
    {
        let mut st = gh.lock();
        let pr = st.pr("acme/svc", two).unwrap();
        pr.state = "closed".into();
        pr.merged_at = Some("2026-01-01T00:00:00Z".into());
    }
    github::commit_files(&bare, "other", Some("main"), &[("o.txt", "o\n")], "o");
    gh.open_pr("acme/svc", "other", "main", "not ours");
    let three = gh.open_pr("acme/svc", "codefleet/x", "main", "third");
    {
        let mut st = gh.lock();
        let pr = st.pr("acme/svc", three).unwrap();
        pr.draft = true;
        pr.labels = vec!["bot".into()];
    }
    let c = client(&gh);
    let prs = across_faults(&gh, "/repos/acme/svc/pulls", 1, || {
        c.pull_requests(&id("acme/svc"), "codefleet/x").unwrap()
    });
    let states: Vec<(u64, PrState)> = prs.iter().map(|p| (p.number, p.state)).collect();
    assert_eq!(
        states,
        [
            (three, PrState::Open),
            (two, PrState::Merged),
            (one, PrState::Closed)
        ]
    );
    let open = &prs[0];
    assert_eq!(open.head_sha, tip, "read from the branch");
    assert_eq!((open.base.as_str(), open.title.as_str()), ("main", "third"));
    assert!(open.draft);
    assert_eq!(open.labels, ["bot"]);
    assert!(open.node_id.starts_with("PR_"), "{}", open.node_id);
    assert_eq!(
        open.url,
        format!("https://github.example/acme/svc/pull/{three}")
    );
    let found = c
        .find_open(&id("acme/svc"), "codefleet/x")
        .unwrap()
        .unwrap();
    assert_eq!(found.number, three);
    let sent = gh
        .requests()
        .into_iter()
        .find(|r| r.route == "GET /repos/{owner}/{repo}/pulls")
        .unwrap();
    assert_eq!(
        sent.target,
        "/repos/acme/svc/pulls?head=acme%3Acodefleet%2Fx&state=all&per_page=100"
    );
    assert!(
        c.pull_requests(&id("acme/svc"), "codefleet/none")
            .unwrap()
            .is_empty()
    );
}
