//! GitHub's REST operations through `codefleet::forge::GitHub`, against the stateful fake
//! GitHub (`support/github.rs`) whose repositories are real bare git repositories: discovery
//! (one repository, an owner's, repository and code search), pull requests by branch,
//! mergeability, checks, reviews, merging for real, reopening, commenting, moving branches. Every
//! listing is read across several pages, after a secondary rate limit and after a 502.

use std::path::{Path, PathBuf};
use std::time::Duration;

use codefleet::forge::{
    Checks, Forge, GitHub, MergeMethod, Merged, Owner, PrState, PullRequest, RepoId, ReviewDecision,
};
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
    gh.add_with_git(root, "http://git.example", repo, files)
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

/// A repository `acme/svc` (a.txt, b.txt on `main`) with a branch `codefleet/x` that changes
/// b.txt, and a pull request for it opened through the client.
struct Scene {
    f: Fixture,
    gh: FakeGitHub,
    bare: PathBuf,
    repo: RepoId,
}

impl Scene {
    fn new(repo: Repo) -> Scene {
        let f = Fixture::new();
        let gh = FakeGitHub::start(TOKEN);
        let full = repo.full_name();
        let bare = with_git(
            &gh,
            &f.path("srv"),
            repo,
            &[("a.txt", "a\n"), ("b.txt", "b\n")],
        );
        Scene {
            f,
            gh,
            bare,
            repo: id(&full),
        }
    }

    /// A branch from `main` changing `files`, and its pull request (read back as listed).
    fn pr(&self, branch: &str, files: &[(&str, &str)]) -> PullRequest {
        github::commit_files(&self.bare, branch, Some("main"), files, branch);
        let c = client(&self.gh);
        let new = codefleet::forge::NewPullRequest {
            title: format!("change {branch}"),
            body: "body".into(),
            head: branch.into(),
            base: "main".into(),
            draft: false,
            labels: vec![],
            reviewers: vec![],
            ..Default::default()
        };
        assert!(matches!(
            c.create(&self.repo, &new).unwrap(),
            codefleet::forge::Created::New(_)
        ));
        c.find_open(&self.repo, branch).unwrap().expect("open")
    }

    fn tip(&self, branch: &str) -> String {
        self.f
            .git_line(&self.bare, &["rev-parse", &format!("refs/heads/{branch}")])
    }

    fn full(&self) -> String {
        self.repo.to_string()
    }
}

#[test]
fn mergeability_waits_while_github_computes_it_and_counts_commits_behind() {
    let s = Scene::new(Repo::new("acme/svc"));
    let pr = s.pr("codefleet/x", &[("b.txt", "B\n")]);
    s.gh.lock().mergeable_null_first = true;
    let c = client(&s.gh);
    let m = c.mergeability(&s.repo, &pr).unwrap();
    assert_eq!((m.mergeable, m.behind_by), (Some(true), 0));
    assert_eq!(
        s.gh.calls("GET /repos/{owner}/{repo}/pulls/{pull_number}"),
        2,
        "read again after null"
    );
    // The base moves on by two commits: still mergeable, two behind.
    github::commit_files(&s.bare, "main", None, &[("a.txt", "a2\n")], "up 1");
    github::commit_files(&s.bare, "main", None, &[("c.txt", "c\n")], "up 2");
    let m = c.mergeability(&s.repo, &pr).unwrap();
    assert_eq!((m.mergeable, m.behind_by), (Some(true), 2));
    // The base changes b.txt too: a conflict.
    github::commit_files(&s.bare, "main", None, &[("b.txt", "other\n")], "conflict");
    let m = c.mergeability(&s.repo, &pr).unwrap();
    assert_eq!((m.mergeable, m.behind_by), (Some(false), 3));
    let compare =
        s.gh.requests()
            .into_iter()
            .find(|r| r.route == "GET /repos/{owner}/{repo}/compare/{basehead}")
            .unwrap();
    assert_eq!(
        compare.target,
        format!("/repos/acme/svc/compare/main...{}?per_page=1", pr.head_sha)
    );
    // GitHub never finishes computing: unknown, after a few reads.
    s.gh.lock().mergeable_unknown = true;
    let before = s.gh.calls("GET /repos/{owner}/{repo}/pulls/{pull_number}");
    let m = c.mergeability(&s.repo, &pr).unwrap();
    assert_eq!(m.mergeable, None);
    assert_eq!(
        s.gh.calls("GET /repos/{owner}/{repo}/pulls/{pull_number}") - before,
        4
    );
}

#[test]
fn checks_combine_check_runs_and_commit_statuses_as_github_shows_them() {
    type Run<'a> = (&'a str, Option<&'a str>);
    let table: &[(&[Run], &[&str], Checks)] = &[
        (&[], &[], Checks::None),
        (
            &[
                ("completed", Some("success")),
                ("completed", Some("skipped")),
            ],
            &["success"],
            Checks::Success,
        ),
        (&[("completed", Some("neutral"))], &[], Checks::Success),
        (&[], &["success", "success"], Checks::Success),
        (
            &[("in_progress", None), ("completed", Some("success"))],
            &[],
            Checks::Pending,
        ),
        (&[("queued", None)], &["success"], Checks::Pending),
        (
            &[("completed", Some("success"))],
            &["pending"],
            Checks::Pending,
        ),
        (
            &[("completed", Some("failure")), ("queued", None)],
            &["success"],
            Checks::Failure,
        ),
        (&[("completed", Some("timed_out"))], &[], Checks::Failure),
        (&[("completed", Some("cancelled"))], &[], Checks::Failure),
        (
            &[("completed", Some("action_required"))],
            &[],
            Checks::Failure,
        ),
        (
            &[("completed", Some("success"))],
            &["error"],
            Checks::Failure,
        ),
        (&[], &["pending", "failure"], Checks::Failure),
    ];
    let gh = FakeGitHub::start(TOKEN);
    gh.lock().page_size = 1;
    let c = client(&gh);
    for (i, (runs, statuses, want)) in table.iter().enumerate() {
        let sha = format!("{i:040x}");
        for (n, (status, conclusion)) in runs.iter().enumerate() {
            gh.set_check("acme/svc", &sha, &format!("job{n}"), status, *conclusion);
        }
        for (n, state) in statuses.iter().enumerate() {
            gh.set_status("acme/svc", &sha, &format!("ci/{n}"), state);
        }
        assert_eq!(c.checks(&id("acme/svc"), &sha).unwrap(), *want, "row {i}");
    }
    // Across pages, rate limits and server errors.
    let sha = format!("{:040x}", 7);
    let got = across_faults(&gh, "/repos/acme/svc/commits/", 1, || {
        c.checks(&id("acme/svc"), &sha).unwrap()
    });
    assert_eq!(got, Checks::Failure);
    // A later run of the same check replaces it.
    gh.set_check("acme/svc", &sha, "job0", "completed", Some("success"));
    assert_eq!(c.checks(&id("acme/svc"), &sha).unwrap(), Checks::Pending);
}

#[test]
fn review_decision_counts_each_reviewers_latest_decision() {
    let table: &[(&[(&str, &str)], ReviewDecision)] = &[
        (&[], ReviewDecision::None),
        (&[("ann", "COMMENTED")], ReviewDecision::None),
        (&[("ann", "APPROVED")], ReviewDecision::Approved),
        (
            &[("ann", "APPROVED"), ("ann", "COMMENTED")],
            ReviewDecision::Approved,
        ),
        (
            &[("ann", "CHANGES_REQUESTED"), ("ann", "APPROVED")],
            ReviewDecision::Approved,
        ),
        (
            &[("ann", "APPROVED"), ("bob", "CHANGES_REQUESTED")],
            ReviewDecision::ChangesRequested,
        ),
        (
            &[
                ("ann", "APPROVED"),
                ("bob", "CHANGES_REQUESTED"),
                ("bob", "APPROVED"),
            ],
            ReviewDecision::Approved,
        ),
    ];
    let gh = FakeGitHub::start(TOKEN);
    gh.lock().page_size = 1;
    let c = client(&gh);
    for (i, (reviews, want)) in table.iter().enumerate() {
        let n = gh.open_pr("acme/svc", &format!("b{i}"), "main", "t");
        for (user, state) in reviews.iter() {
            gh.review("acme/svc", n, user, state);
        }
        assert_eq!(
            c.review_decision(&id("acme/svc"), n).unwrap(),
            *want,
            "row {i}"
        );
    }
    // A dismissed change request no longer counts.
    let n = gh.open_pr("acme/svc", "dismissed", "main", "t");
    gh.review("acme/svc", n, "ann", "APPROVED");
    gh.review("acme/svc", n, "bob", "CHANGES_REQUESTED");
    let path = format!("/repos/acme/svc/pulls/{n}/reviews");
    let before = across_faults(&gh, &path, 1, || {
        c.review_decision(&id("acme/svc"), n).unwrap()
    });
    assert_eq!(before, ReviewDecision::ChangesRequested);
    gh.dismiss("acme/svc", n, "bob");
    assert_eq!(
        c.review_decision(&id("acme/svc"), n).unwrap(),
        ReviewDecision::Approved
    );
}

#[test]
fn merge_moves_the_base_branch_of_the_repository_for_real() {
    let s = Scene::new(Repo::new("acme/svc"));
    let c = client(&s.gh);
    // Merge commit, the head containing the base: the head's tree, two parents.
    let base0 = s.tip("main");
    let pr = s.pr("m", &[("b.txt", "merged\n")]);
    let Merged::Merged(sha) = c.merge(&s.repo, &pr, Some(MergeMethod::Merge)).unwrap() else {
        panic!("not merged")
    };
    assert_eq!(s.tip("main"), sha);
    let parents =
        s.f.git_line(&s.bare, &["rev-list", "--parents", "-n1", &sha]);
    assert_eq!(parents, format!("{sha} {base0} {}", pr.head_sha));
    assert_eq!(s.f.git_line(&s.bare, &["show", "main:b.txt"]), "merged");
    let listed = c.pull_requests(&s.repo, "m").unwrap();
    assert_eq!(listed[0].state, PrState::Merged);
    assert_eq!(
        s.gh.pr(&s.full(), pr.number).merge_commit_sha.as_deref(),
        Some(sha.as_str())
    );

    // Squash, the base having moved on meanwhile: one parent, both changes.
    let pr = s.pr("sq", &[("c.txt", "squashed\n")]);
    github::commit_files(&s.bare, "main", None, &[("a.txt", "moved\n")], "upstream");
    let base1 = s.tip("main");
    let Merged::Merged(sha) = c.merge(&s.repo, &pr, Some(MergeMethod::Squash)).unwrap() else {
        panic!("not squashed")
    };
    let parents =
        s.f.git_line(&s.bare, &["rev-list", "--parents", "-n1", &sha]);
    assert_eq!(parents, format!("{sha} {base1}"));
    assert_eq!(s.f.git_line(&s.bare, &["show", "main:c.txt"]), "squashed");
    assert_eq!(s.f.git_line(&s.bare, &["show", "main:a.txt"]), "moved");

    // Rebase of a head that contains the base: a fast-forward.
    let pr = s.pr("rb", &[("d.txt", "rebased\n")]);
    let Merged::Merged(sha) = c.merge(&s.repo, &pr, Some(MergeMethod::Rebase)).unwrap() else {
        panic!("not rebased")
    };
    assert_eq!(
        (sha.as_str(), s.tip("main").as_str()),
        (pr.head_sha.as_str(), pr.head_sha.as_str())
    );

    // No method: the repository's default (a merge commit).
    let pr = s.pr("plain", &[("e.txt", "e\n")]);
    assert!(matches!(
        c.merge(&s.repo, &pr, None).unwrap(),
        Merged::Merged(_)
    ));
    let sent =
        s.gh.requests()
            .into_iter()
            .rfind(|r| r.method == "PUT")
            .unwrap();
    let body: serde_json::Value = serde_json::from_str(&sent.body).unwrap();
    assert_eq!(body, serde_json::json!({"sha": pr.head_sha}));
}

#[test]
fn merge_refuses_a_moved_head_a_conflict_and_a_method_the_repository_disallows() {
    let s = Scene::new(Repo::new("acme/svc").merge_methods(true, false, true));
    let c = client(&s.gh);
    let base = s.tip("main");
    // Someone pushed to the branch after codefleet read it.
    let pr = s.pr("moved", &[("b.txt", "mine\n")]);
    github::commit_files(&s.bare, "moved", None, &[("x.txt", "theirs\n")], "foreign");
    assert_eq!(
        c.merge(&s.repo, &pr, Some(MergeMethod::Merge)).unwrap(),
        Merged::HeadMoved
    );
    assert_eq!(s.tip("main"), base, "nothing merged");
    // A conflict with the base.
    let pr = s.pr("conflict", &[("a.txt", "left\n")]);
    github::commit_files(&s.bare, "main", None, &[("a.txt", "right\n")], "upstream");
    let base = s.tip("main");
    assert_eq!(
        c.merge(&s.repo, &pr, Some(MergeMethod::Merge)).unwrap(),
        Merged::NotMergeable("Pull Request is not mergeable".into())
    );
    assert_eq!(s.tip("main"), base);
    // Squash is not allowed here.
    let pr = s.pr("squash", &[("s.txt", "s\n")]);
    assert_eq!(
        c.merge(&s.repo, &pr, Some(MergeMethod::Squash)).unwrap(),
        Merged::NotMergeable("Squash merges are not allowed on this repository.".into())
    );
    // Closed already.
    s.gh.close_pr(&s.full(), pr.number);
    assert_eq!(
        c.merge(&s.repo, &pr, Some(MergeMethod::Merge)).unwrap(),
        Merged::NotMergeable("Pull Request is not mergeable".into())
    );
    assert_eq!(s.tip("main"), base);
}

#[test]
fn close_with_a_body_reopen_and_comment() {
    let s = Scene::new(Repo::new("acme/svc"));
    let c = client(&s.gh);
    let pr = s.pr("codefleet/x", &[("b.txt", "B\n")]);
    c.close(&s.repo, pr.number, Some("closed: the change is empty"))
        .unwrap();
    let stored = s.gh.pr(&s.full(), pr.number);
    assert_eq!(
        (stored.state.as_str(), stored.body.as_str()),
        ("closed", "closed: the change is empty")
    );
    assert_eq!(stored.closed_by.as_deref(), Some("codefleet-bot"));
    let sent =
        s.gh.requests()
            .into_iter()
            .rfind(|r| r.method == "PATCH")
            .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&sent.body).unwrap(),
        serde_json::json!({"state": "closed", "body": "closed: the change is empty"})
    );
    let reopened = c.reopen(&s.repo, pr.number).unwrap();
    assert_eq!(
        (reopened.state, reopened.number),
        (PrState::Open, pr.number)
    );
    assert_eq!(s.gh.pr(&s.full(), pr.number).state, "open");
    c.comment(&s.repo, pr.number, "Merged upstream; closing.")
        .unwrap();
    assert_eq!(
        s.gh.pr(&s.full(), pr.number).comments,
        ["Merged upstream; closing."]
    );
    // Closing without a body leaves the body.
    c.close(&s.repo, pr.number, None).unwrap();
    assert_eq!(
        s.gh.pr(&s.full(), pr.number).body,
        "closed: the change is empty"
    );
    // A pull request whose branch is gone cannot be reopened: GitHub's 422, with its message.
    s.f.git_line(&s.bare, &["update-ref", "-d", "refs/heads/codefleet/x"]);
    let err = c.reopen(&s.repo, pr.number).unwrap_err();
    assert_eq!(err.code, "E532");
    assert!(
        err.message.contains("422") && err.message.contains("head branch was deleted"),
        "{}",
        err.message
    );
    // Commenting on a pull request that does not exist.
    assert_eq!(c.comment(&s.repo, 99, "x").unwrap_err().code, "E532");
}

#[test]
fn assignees_are_added_with_one_post_after_the_pull_request_opens() {
    let s = Scene::new(Repo::new("acme/svc"));
    let c = client(&s.gh);
    github::commit_files(
        &s.bare,
        "codefleet/a",
        Some("main"),
        &[("b.txt", "B\n")],
        "a",
    );
    let new = codefleet::forge::NewPullRequest {
        title: "assigned".into(),
        body: "body".into(),
        head: "codefleet/a".into(),
        base: "main".into(),
        assignees: vec!["ann".into(), "bob".into()],
        remove_source_branch: true,
        ..Default::default()
    };
    let codefleet::forge::Created::New(opened) = c.create(&s.repo, &new).unwrap() else {
        panic!("a new pull request")
    };
    assert_eq!(s.gh.pr(&s.full(), opened.number).assignees, ["ann", "bob"]);
    let sent: Vec<_> =
        s.gh.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .collect();
    let routes: Vec<&str> = sent.iter().map(|r| r.route.as_str()).collect();
    assert_eq!(
        routes,
        [
            "POST /repos/{owner}/{repo}/pulls",
            "POST /repos/{owner}/{repo}/issues/{issue_number}/assignees"
        ]
    );
    let body = |i: usize| serde_json::from_str::<serde_json::Value>(&sent[i].body).unwrap();
    assert_eq!(body(1), serde_json::json!({"assignees": ["ann", "bob"]}));
    assert!(
        body(0).get("remove_source_branch").is_none(),
        "GitHub decides branch deletion per repository: {}",
        sent[0].body
    );
    // Without assignees, only the pull request is posted.
    github::commit_files(
        &s.bare,
        "codefleet/b",
        Some("main"),
        &[("a.txt", "A\n")],
        "b",
    );
    let plain = codefleet::forge::NewPullRequest {
        head: "codefleet/b".into(),
        assignees: vec![],
        ..new
    };
    c.create(&s.repo, &plain).unwrap();
    let posts =
        s.gh.requests()
            .into_iter()
            .filter(|r| r.method == "POST")
            .count();
    assert_eq!(posts, 3);
    s.gh.assert_conforms();
}

#[test]
fn set_branch_creates_moves_forward_and_moves_back_only_when_forced() {
    let s = Scene::new(Repo::new("acme/svc"));
    let c = client(&s.gh);
    let base = s.tip("main");
    // Absent: GitHub says so to the update, and the branch is created.
    c.set_branch(&s.repo, "codefleet/x", &base, false).unwrap();
    assert_eq!(s.tip("codefleet/x"), base);
    let writes: Vec<(String, String)> =
        s.gh.requests()
            .into_iter()
            .filter(|r| r.method != "GET")
            .map(|r| (r.method, r.target))
            .collect();
    assert_eq!(
        writes,
        [
            (
                "PATCH".into(),
                "/repos/acme/svc/git/refs/heads/codefleet/x".into()
            ),
            ("POST".into(), "/repos/acme/svc/git/refs".into()),
        ]
    );
    // Forward.
    let ahead = github::commit_files(&s.bare, "work", Some("main"), &[("n.txt", "n\n")], "n");
    c.set_branch(&s.repo, "codefleet/x", &ahead, false).unwrap();
    assert_eq!(s.tip("codefleet/x"), ahead);
    // Back: refused without force, done with it.
    let err = c
        .set_branch(&s.repo, "codefleet/x", &base, false)
        .unwrap_err();
    assert_eq!(err.code, "E532");
    assert!(
        err.message.contains("Update is not a fast forward"),
        "{}",
        err.message
    );
    assert_eq!(s.tip("codefleet/x"), ahead);
    c.set_branch(&s.repo, "codefleet/x", &base, true).unwrap();
    assert_eq!(s.tip("codefleet/x"), base);
    // A commit the repository does not have.
    let err = c
        .set_branch(&s.repo, "codefleet/x", &"e".repeat(40), true)
        .unwrap_err();
    assert!(
        err.message.contains("Object does not exist"),
        "{}",
        err.message
    );
}

#[test]
fn code_search_waits_out_its_primary_rate_limit_until_the_reset() {
    let f = Fixture::new();
    let gh = FakeGitHub::start(TOKEN);
    with_git(
        &gh,
        &f.path("srv"),
        Repo::new("acme/a"),
        &[("x.rs", "needle\n")],
    );
    // `x-ratelimit-remaining: 0` with a reset a second away, no `retry-after`.
    gh.fault("/search/code", 403, None);
    let found = client(&gh).code_search("needle org:acme").unwrap();
    assert_eq!(found, [id("acme/a")]);
    assert_eq!(gh.calls("GET /search/code"), 2);
    // The answer that spends the window's last request: the next page waits for the reset.
    with_git(
        &gh,
        &f.path("srv"),
        Repo::new("acme/b"),
        &[("y.rs", "needle\n")],
    );
    gh.lock().page_size = 1;
    gh.fault("/search/code", 200, None);
    let found = client(&gh).code_search("needle org:acme").unwrap();
    assert_eq!(found, [id("acme/a"), id("acme/b")]);
    assert_eq!(gh.calls("GET /search/code"), 4);
    // A reset further away than the client waits is an error, with the time it resets.
    let mut st = gh.lock();
    st.faults.push((429, 3600));
    drop(st);
    let err = client(&gh)
        .max_wait(Duration::from_secs(5))
        .code_search("needle")
        .unwrap_err();
    assert_eq!(err.code, "E531");
    assert!(!err.message.contains(TOKEN));
}

#[test]
fn the_clone_url_github_returns_serves_the_repository_over_http() {
    let f = Fixture::new();
    let root = f.path("srv");
    let gh = FakeGitHub::start(TOKEN);
    let git = crate::support::git_http::GitHttp::start(&root, TOKEN);
    gh.add_with_git(
        &root,
        &git.base,
        Repo::new("acme/api"),
        &[("a.txt", "served\n")],
    );
    let listed = client(&gh).list_repos(&Owner::Org("acme".into())).unwrap();
    assert_eq!(listed[0].clone_url, format!("{}/acme/api.git", git.base));
    let with_token = listed[0]
        .clone_url
        .replace("http://", &format!("http://x-access-token:{TOKEN}@"));
    let out = f.path("clone");
    f.git_line(
        f.dir.path(),
        &["clone", "-q", &with_token, out.to_str().unwrap()],
    );
    assert_eq!(
        std::fs::read_to_string(out.join("a.txt")).unwrap(),
        "served\n"
    );
}

#[test]
fn a_slow_github_answers_concurrent_requests_side_by_side() {
    let gh = FakeGitHub::start(TOKEN);
    gh.lock().delay_ms = 1000;
    let c = client(&gh);
    let barrier = std::sync::Barrier::new(4);
    std::thread::scope(|scope| {
        for i in 0..4 {
            let (c, barrier) = (&c, &barrier);
            scope.spawn(move || {
                barrier.wait();
                c.repo(&id(&format!("acme/r{i}"))).unwrap();
            });
        }
    });
    let st = gh.lock();
    assert_eq!((st.max_in_flight, st.in_flight), (4, 0));
}
