//! Gitea's API v1 through `codefleet::forge::Gitea`, against the stateful fake Gitea
//! (`support/gitea.rs`) whose repositories are real bare git repositories served on the API's
//! own port, and whose every request and answer is checked against Gitea's Swagger description
//! (vendored: `support/descriptions/gitea.json`). Discovery (one repository, an owner's, the
//! server-side search by owner id and topic), pull requests by branch (labels by id, a draft as
//! a `WIP:` title, a second one for the branch as 409), edits, closing and reopening, comments,
//! reviewers, mergeability and how far behind, combined statuses, reviews, merging for real with
//! `do` and `head_commit_id`, auto-merge; every listing across pages, after 429s and a 502; the
//! token never in an error.

use std::time::Duration;

use codefleet::forge::{
    Action, Checks, Created, Forge, ForgeKind, Gitea, Listing, MergeMethod, Merged, NewPullRequest,
    Owner, PrState, PullRequest, RepoId, ReviewDecision, open_or_update,
};
use codefleet::git::Secret;

use crate::support::fixture::Fixture;
use crate::support::gitea::{FakeGitea, Repo, swagger, tip};
use crate::support::github::commit_files;

const TOKEN: &str = "gta_T0kenThatMustNeverBeShown";

/// A client for the fake that does not wait between retries.
fn client(gt: &FakeGitea) -> Gitea {
    Gitea::new(&gt.api, Secret::new(TOKEN)).backoff(Duration::ZERO)
}

fn id(full: &str) -> RepoId {
    let (owner, name) = full.split_once('/').expect("owner/name");
    RepoId {
        owner: owner.into(),
        name: name.into(),
    }
}

fn names(repos: &[codefleet::forge::RemoteRepo]) -> Vec<String> {
    let mut n: Vec<String> = repos.iter().map(|r| r.id.to_string()).collect();
    n.sort();
    n
}

fn new_pr(head: &str, title: &str) -> NewPullRequest {
    NewPullRequest {
        title: title.into(),
        body: "the body".into(),
        head: head.into(),
        base: "main".into(),
        ..NewPullRequest::default()
    }
}

/// A fake with `acme/api` on git, a branch `feature` one commit ahead of `main`.
fn with_feature(f: &Fixture) -> (FakeGitea, std::path::PathBuf, String) {
    let gt = FakeGitea::start(TOKEN, &f.path("srv"));
    let bare = gt.add_with_git(Repo::new("acme/api"), &[("a.txt", "one\n")]);
    let head = commit_files(
        &bare,
        "feature",
        Some("main"),
        &[("b.txt", "two\n")],
        "add b",
    );
    (gt, bare, head)
}

#[test]
fn the_vendored_description_catches_what_gitea_would_refuse() {
    assert!(
        swagger::check_request("GET", "/api/v1/repos/acme/api/pulls?state=all&limit=2", "").is_ok()
    );
    let bad = swagger::check_request(
        "GET",
        "/api/v1/repos/acme/api/pulls?state=every&per_page=2",
        "",
    )
    .unwrap_err()
    .join("\n");
    assert!(bad.contains("per_page") && bad.contains("every"), "{bad}");
    let merge = swagger::check_request(
        "POST",
        "/api/v1/repos/a/b/pulls/3/merge",
        r#"{"Do":"merge"}"#,
    );
    assert!(merge.unwrap_err().join(" ").contains("\"do\""));
    let search = swagger::check_request("GET", "/api/v1/repos/search?q=x&uid=7", "").unwrap();
    assert_eq!(search.path, "/repos/search");
    let cmp =
        swagger::check_request("GET", "/api/v1/repos/a/b/compare/abc...feature/x", "").unwrap();
    assert_eq!(cmp.path, "/repos/{owner}/{repo}/compare/{basehead}");
    let repo = swagger::check_request("GET", "/api/v1/repos/a/b", "").unwrap();
    let answer = serde_json::json!({"id": 1, "name": "b", "archived_at": null, "invented": true});
    let problems = swagger::check_response(&repo, 200, &answer.to_string());
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("/invented: property"), "{problems:?}");
    assert!(swagger::check_response(&repo, 404, r#"{"message":"not found","url":"x"}"#).is_empty());
    assert!(!swagger::check_response(&repo, 409, "{}").is_empty());
    let header = &swagger::doc()["x-vendored"];
    assert_eq!(header["repository"], "go-gitea/gitea");
    assert!(header["licence"].as_str().unwrap_or("").starts_with("MIT"));
}

#[test]
fn repo_reads_clone_urls_topics_and_flags_and_a_missing_one_is_refused() {
    let f = Fixture::empty();
    let gt = FakeGitea::start(TOKEN, &f.path("srv"));
    gt.add_with_git(
        Repo::new("acme/api").topics(&["rust", "svc"]),
        &[("a", "1\n")],
    );
    gt.add_repo(
        Repo::new("acme/old")
            .archived()
            .fork()
            .omit_topics()
            .topics(&["legacy"]),
    );
    let forge = client(&gt);
    assert_eq!(forge.kind(), ForgeKind::Gitea);
    let api = forge.repo(&id("acme/api")).unwrap();
    assert_eq!(api.clone_url, format!("{}/acme/api.git", gt.url));
    assert!(api.ssh_url.ends_with("acme/api.git"));
    assert_eq!(
        (api.default_branch.as_str(), api.archived, api.fork),
        ("main", false, false)
    );
    assert_eq!(api.topics, ["rust", "svc"]);
    assert_eq!(gt.calls("GET /repos/{owner}/{repo}/topics"), 0);
    // A server that leaves topics out of the repository object: read from …/topics.
    let old = forge.repo(&id("acme/old")).unwrap();
    assert!(old.archived && old.fork);
    assert_eq!(old.topics, ["legacy"]);
    assert_eq!(gt.calls("GET /repos/{owner}/{repo}/topics"), 1);
    let e = forge.repo(&id("acme/none")).unwrap_err();
    assert_eq!(e.code, "E532");
    assert!(e.message.contains("Gitea answered 404"), "{}", e.message);
    let sent = gt.requests();
    assert!(
        sent.iter()
            .all(|r| r.authorization.as_deref() == Some(&format!("token {TOKEN}") as &str))
    );
}

#[test]
fn listings_and_searches_read_every_page_and_narrow_on_the_server() {
    let f = Fixture::empty();
    let gt = FakeGitea::start(TOKEN, &f.path("srv"));
    for i in 0..5 {
        let topics: &[&str] = if i % 2 == 0 {
            &["rust", "svc"]
        } else {
            &["go"]
        };
        gt.add_repo(
            Repo::new(&format!("acme/r{i}"))
                .topics(topics)
                .description(&format!("service {i}")),
        );
    }
    gt.add_repo(Repo::new("acme/gone").topics(&["rust", "svc"]).archived());
    gt.add_repo(Repo::new("ann/dotfiles").topics(&["rust"]));
    gt.lock()
        .accounts
        .iter_mut()
        .for_each(|a| a.org = a.login != "ann");
    gt.lock().page_size = 2;
    let forge = client(&gt);
    let org = forge.list_repos(&Owner::Org("acme".into())).unwrap();
    assert_eq!(org.len(), 6);
    assert_eq!(gt.calls("GET /orgs/{org}/repos"), 3, "three pages of two");
    let user = forge.list_repos(&Owner::User("ann".into())).unwrap();
    assert_eq!(names(&user), ["ann/dotfiles"]);
    let listing = |topics: &[&str], search: Option<&str>, archived: bool| Listing {
        owner: Owner::Org("acme".into()),
        topics: topics.iter().map(|t| t.to_string()).collect(),
        search: search.map(str::to_string),
        archived,
    };
    let rust = forge
        .list_matching(&listing(&["rust", "svc"], None, false))
        .unwrap();
    assert_eq!(names(&rust), ["acme/r0", "acme/r2", "acme/r4"]);
    let with_archived = forge
        .list_matching(&listing(&["rust"], None, true))
        .unwrap();
    assert_eq!(with_archived.len(), 4);
    let text = forge
        .list_matching(&listing(&[], Some("service 3"), false))
        .unwrap();
    assert_eq!(names(&text), ["acme/r3"]);
    let search = gt
        .requests()
        .into_iter()
        .filter(|r| r.route == "GET /repos/search")
        .map(|r| r.target)
        .collect::<Vec<_>>();
    assert!(
        search[0].contains("q=rust") && search[0].contains("topic=true"),
        "{search:?}"
    );
    assert!(search[0].contains("exclusive=true") && search[0].contains("archived=false"));
    assert!(search.iter().all(|s| s.contains("uid=")), "{search:?}");
    let everything = forge.search_repos("r").unwrap();
    assert_eq!(names(&everything)[..2], ["acme/r0", "acme/r1"], "by name");
    assert_eq!(everything.len(), 5, "r0..r4");
    let e = forge.code_search("x").unwrap_err();
    assert_eq!(e.code, "E536");
}

#[test]
fn a_pull_request_opens_with_label_ids_as_a_wip_draft_and_a_second_is_already_there() {
    let f = Fixture::empty();
    let (gt, _bare, head) = with_feature(&f);
    let bot = gt.add_label("acme/api", "bot");
    gt.add_label("acme/api", "other");
    gt.add_user("ann");
    let forge = client(&gt);
    let want = NewPullRequest {
        draft: true,
        labels: vec!["bot".into()],
        assignees: vec!["ann".into()],
        ..new_pr("feature", "Fix it")
    };
    let Created::New(pr) = forge.create(&id("acme/api"), &want).unwrap() else {
        panic!("a new pull request")
    };
    assert_eq!((pr.number, pr.state, pr.draft), (1, PrState::Open, true));
    assert_eq!(
        pr.title, "Fix it",
        "read without the prefix that makes it a draft"
    );
    assert_eq!(gt.pr("acme/api", 1).title, "WIP: Fix it");
    assert_eq!(pr.head_sha, head);
    assert_eq!(pr.labels, ["bot"]);
    let stored = gt.pr("acme/api", 1);
    assert_eq!(
        (stored.labels, stored.assignees),
        (vec![bot], vec!["ann".to_string()])
    );
    let sent = gt
        .requests()
        .into_iter()
        .find(|r| r.route == "POST /repos/{owner}/{repo}/pulls")
        .unwrap();
    assert!(
        sent.body.contains(&format!("\"labels\":[{bot}]")),
        "{}",
        sent.body
    );
    assert_eq!(
        forge
            .create(&id("acme/api"), &new_pr("feature", "again"))
            .unwrap(),
        Created::AlreadyExists
    );
    let e = forge
        .add_labels(&id("acme/api"), 1, &["bot".into(), "nope".into()])
        .unwrap_err();
    assert_eq!(e.code, "E570");
    assert!(
        e.message.contains("`nope`") && !e.message.contains("`bot`"),
        "{}",
        e.message
    );
    assert_eq!(
        gt.calls("GET /repos/{owner}/{repo}/labels"),
        1,
        "label ids read once"
    );
}

#[test]
fn pull_requests_by_branch_across_pages_edit_close_reopen_comment_and_review_requests() {
    let f = Fixture::empty();
    let (gt, bare, _) = with_feature(&f);
    commit_files(&bare, "other", Some("main"), &[("c.txt", "3\n")], "c");
    for _ in 0..3 {
        gt.open_pr("acme/api", "other", "main", "someone else's");
        let n = gt.prs().len() as u64;
        gt.close_pr("acme/api", n);
    }
    let first = gt.open_pr("acme/api", "feature", "main", "first");
    gt.close_pr("acme/api", first);
    gt.lock().page_size = 2;
    let forge = client(&gt);
    let repo = id("acme/api");
    let Created::New(made) = forge.create(&repo, &new_pr("feature", "second")).unwrap() else {
        panic!("new")
    };
    let found = forge.pull_requests(&repo, "feature").unwrap();
    let numbers: Vec<(u64, PrState)> = found.iter().map(|p| (p.number, p.state)).collect();
    assert_eq!(
        numbers,
        [(made.number, PrState::Open), (first, PrState::Closed)]
    );
    assert_eq!(
        forge.find_open(&repo, "feature").unwrap().unwrap().number,
        made.number
    );
    let edited = forge.update(&repo, made.number, "T2", "B2").unwrap();
    assert_eq!((edited.title.as_str(), edited.body.as_str()), ("T2", "B2"));
    forge
        .close(&repo, made.number, Some("closed body"))
        .unwrap();
    let closed = gt.pr("acme/api", made.number);
    assert_eq!(
        (closed.state.as_str(), closed.body.as_str()),
        ("closed", "closed body")
    );
    let back = forge.reopen(&repo, made.number).unwrap();
    assert_eq!(back.state, PrState::Open);
    forge.comment(&repo, made.number, "a note").unwrap();
    assert_eq!(gt.pr("acme/api", made.number).comments, ["a note"]);
    gt.add_user("ann");
    forge
        .request_reviewers(&repo, made.number, &["ann".into(), "acme/core".into()])
        .unwrap();
    let pr = gt.pr("acme/api", made.number);
    assert_eq!(
        (pr.reviewers, pr.team_reviewers),
        (vec!["ann".to_string()], vec!["core".to_string()])
    );
}

#[test]
fn mergeability_statuses_and_reviews_are_read_as_gitea_reports_them() {
    let f = Fixture::empty();
    let (gt, bare, head) = with_feature(&f);
    let forge = client(&gt);
    let repo = id("acme/api");
    let Created::New(pr) = forge.create(&repo, &new_pr("feature", "t")).unwrap() else {
        panic!("new")
    };
    let m = forge.mergeability(&repo, &pr).unwrap();
    assert_eq!((m.mergeable, m.behind_by), (Some(true), 0));
    commit_files(&bare, "main", None, &[("m1", "1\n")], "m1");
    commit_files(&bare, "main", None, &[("m2", "2\n")], "m2");
    assert_eq!(forge.mergeability(&repo, &pr).unwrap().behind_by, 2);
    gt.set_mergeable("acme/api", pr.number, Some(false));
    assert_eq!(
        forge.mergeability(&repo, &pr).unwrap().mergeable,
        Some(false)
    );

    assert_eq!(forge.checks(&repo, &head).unwrap(), Checks::None);
    gt.lock().page_size = 1;
    gt.set_status("acme/api", &head, "ci/build", "success");
    gt.set_status("acme/api", &head, "ci/lint", "pending");
    assert_eq!(
        forge.checks(&repo, &head).unwrap(),
        Checks::Pending,
        "over every page"
    );
    gt.set_status("acme/api", &head, "ci/lint", "failure");
    assert_eq!(forge.checks(&repo, &head).unwrap(), Checks::Failure);
    gt.set_status("acme/api", &head, "ci/lint", "warning");
    assert_eq!(forge.checks(&repo, &head).unwrap(), Checks::Success);

    assert_eq!(
        forge.review_decision(&repo, pr.number).unwrap(),
        ReviewDecision::None
    );
    gt.review("acme/api", pr.number, "ann", "REQUEST_CHANGES");
    gt.review("acme/api", pr.number, "bob", "APPROVED");
    assert_eq!(
        forge.review_decision(&repo, pr.number).unwrap(),
        ReviewDecision::ChangesRequested
    );
    gt.review("acme/api", pr.number, "ann", "APPROVED");
    gt.review("acme/api", pr.number, "ann", "COMMENT");
    assert_eq!(
        forge.review_decision(&repo, pr.number).unwrap(),
        ReviewDecision::Approved
    );
    gt.dismiss("acme/api", pr.number, "ann");
    gt.dismiss("acme/api", pr.number, "bob");
    assert_eq!(
        forge.review_decision(&repo, pr.number).unwrap(),
        ReviewDecision::None
    );
}

#[test]
fn merging_is_real_a_moved_head_is_refused_and_auto_merge_waits_for_the_checks() {
    let f = Fixture::empty();
    let (gt, bare, head) = with_feature(&f);
    let forge = client(&gt);
    let repo = id("acme/api");
    let Created::New(pr) = forge.create(&repo, &new_pr("feature", "t")).unwrap() else {
        panic!("new")
    };
    // Someone pushes after codefleet read the head.
    let moved = commit_files(&bare, "feature", None, &[("late", "x\n")], "late");
    assert_eq!(
        forge.merge(&repo, &pr, Some(MergeMethod::Squash)).unwrap(),
        Merged::HeadMoved
    );
    assert_eq!(tip(&bare, "main").unwrap().len(), 40);
    let fresh = PullRequest {
        head_sha: moved.clone(),
        ..pr.clone()
    };
    let Merged::Merged(sha) = forge.merge(&repo, &fresh, None).unwrap() else {
        panic!("merged")
    };
    assert_eq!(tip(&bare, "main").as_deref(), Some(sha.as_str()));
    let parents =
        crate::support::github::git::run(&bare, &["rev-list", "--parents", "-n1", &sha]).unwrap();
    assert!(
        parents.contains(&moved),
        "the repository's default style, a merge commit: {parents}"
    );
    assert!(gt.pr("acme/api", pr.number).merged);
    let sent = gt
        .requests()
        .into_iter()
        .rfind(|r| r.route.ends_with("/merge"))
        .unwrap();
    assert!(
        sent.body.contains("\"do\":\"merge\"") && sent.body.contains(&moved),
        "{}",
        sent.body
    );
    assert!(head != moved);

    // Auto-merge: scheduled while the checks run, merged when they succeed.
    commit_files(&bare, "next", Some("main"), &[("n", "n\n")], "n");
    let Created::New(next) = forge.create(&repo, &new_pr("next", "n")).unwrap() else {
        panic!("new")
    };
    gt.set_status("acme/api", &next.head_sha, "ci", "pending");
    forge
        .enable_auto_merge(&repo, &next, Some(MergeMethod::Squash))
        .unwrap();
    forge
        .enable_auto_merge(&repo, &next, Some(MergeMethod::Squash))
        .unwrap();
    assert_eq!(
        gt.pr("acme/api", next.number).auto_merge.as_deref(),
        Some("squash")
    );
    assert!(!gt.pr("acme/api", next.number).merged);
    gt.set_status("acme/api", &next.head_sha, "ci", "success");
    assert!(gt.pr("acme/api", next.number).merged);
    // Not mergeable: Gitea's 405 with its reason.
    commit_files(&bare, "third", Some("main"), &[("t", "t\n")], "t");
    let Created::New(third) = forge.create(&repo, &new_pr("third", "t")).unwrap() else {
        panic!("new")
    };
    gt.set_mergeable("acme/api", third.number, Some(false));
    assert_eq!(
        forge
            .merge(&repo, &third, Some(MergeMethod::Rebase))
            .unwrap(),
        Merged::NotMergeable("Please try again later".into())
    );
}

#[test]
fn rate_limits_and_server_errors_are_waited_out_and_the_token_never_shows() {
    let f = Fixture::empty();
    let (gt, _, _) = with_feature(&f);
    gt.open_pr("acme/api", "feature", "main", "t");
    let forge = client(&gt);
    let repo = id("acme/api");
    gt.fault("/api/v1/repos/acme/api/pulls", 429, Some(0));
    gt.fault("/api/v1/repos/acme/api/pulls", 502, None);
    gt.fault("/api/v1/repos/acme/api/pulls", 429, None);
    assert_eq!(forge.pull_requests(&repo, "feature").unwrap().len(), 1);
    assert!(gt.lock().faults.is_empty(), "every fault was met");
    // A wait longer than the client accepts: E531, with how long.
    gt.fault("/api/v1/repos/acme/api", 429, Some(3600));
    let e = forge.repo(&repo).unwrap_err();
    assert_eq!(e.code, "E531");
    assert!(e.message.contains("3600 s"), "{}", e.message);
    // A wrong token: refused, and the token is not in the error.
    let wrong = Gitea::new(&gt.api, Secret::new("not-the-token")).backoff(Duration::ZERO);
    let e = wrong.repo(&repo).unwrap_err();
    assert_eq!(e.code, "E532");
    assert!(e.message.contains("401"), "{}", e.message);
    assert!(!e.one_line().contains("not-the-token"));
    // Nothing answers: E530 names the API, not the token.
    let gone = Gitea::new("http://127.0.0.1:9/api/v1", Secret::new(TOKEN)).backoff(Duration::ZERO);
    let e = gone.repo(&repo).unwrap_err();
    assert_eq!(e.code, "E530");
    assert!(!e.one_line().contains(TOKEN));
}

#[test]
fn git_is_served_on_the_api_port_with_the_token() {
    let f = Fixture::empty();
    let (gt, _, head) = with_feature(&f);
    let url = format!(
        "{}/acme/api.git",
        gt.url.replace("http://", &format!("http://x:{TOKEN}@"))
    );
    let out = f.git_out(f.root(), &["ls-remote", &url, "refs/heads/feature"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).starts_with(&head));
}

#[test]
fn a_re_run_updates_the_open_draft_and_it_stays_a_draft_until_a_person_says_ready() {
    let f = Fixture::empty();
    let (gt, _, head) = with_feature(&f);
    gt.add_label("acme/api", "bot");
    let forge = client(&gt);
    let repo = id("acme/api");
    let want = |body: &str| NewPullRequest {
        draft: true,
        body: body.into(),
        labels: vec!["bot".into()],
        ..new_pr("feature", "Fix it")
    };
    let first = open_or_update(&forge, &repo, &want("one"), &head).unwrap();
    assert_eq!(first.action, Action::Opened);
    let again = open_or_update(&forge, &repo, &want("two"), &head).unwrap();
    assert_eq!((again.action, again.kept.len()), (Action::Updated, 0));
    assert!(again.pr.draft);
    let stored = gt.pr("acme/api", first.pr.number);
    assert_eq!(stored.title, "WIP: Fix it");
    assert!(stored.body.starts_with("two"), "{}", stored.body);
    assert_eq!(gt.label_names("acme/api", first.pr.number), ["bot"]);
    // A person marks it ready (removes the prefix): a re-run leaves it ready.
    gt.lock().pr("acme/api", first.pr.number).unwrap().title = "Fix it".into();
    let third = open_or_update(&forge, &repo, &want("three"), &head).unwrap();
    assert!(!third.pr.draft);
    assert_eq!(gt.pr("acme/api", first.pr.number).title, "Fix it");
}
