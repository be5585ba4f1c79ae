//! GitLab's REST operations through `codefleet::forge::GitLab`, against the stateful fake
//! GitLab (`support/gitlab.rs`) whose projects are real bare git repositories served on the
//! API's own port: projects by full path (nested subgroups), a group's and a user's listings
//! across pages (`Link` and `X-Next-Page`), after 429s and 502s, filtered on the server;
//! merge requests opened, updated, labelled, reviewed, noted, closed and reopened; their
//! mergeability, pipelines and approvals; merging for real with the head read (`sha`), squashed,
//! and when the pipeline succeeds; errors in GitLab's words, the token never shown. Every
//! request and answer is checked against the vendored description
//! (`support/descriptions/gitlab.json`: GitLab's `doc/api/openapi/openapi_v2.yaml` where it
//! covers an operation, docs.gitlab.com/api where it does not, each operation marked).

use std::time::Duration;

use codefleet::forge::{
    self, Checks, Created, Forge, GitLab, Listing, MergeMethod, Merged, NewPullRequest, Owner,
    PrState, RepoId, ReviewDecision,
};
use codefleet::git::Secret;

use crate::support::fixture::Fixture;
use crate::support::github::commit_files;
use crate::support::gitlab::{FakeGitLab, Project, describe};

const TOKEN: &str = "glpat-ApiT0kenThatMustNeverBeShown";

fn client(gl: &FakeGitLab) -> GitLab {
    GitLab::new(&gl.api, Secret::new(TOKEN)).backoff(Duration::ZERO)
}

fn id(full: &str) -> RepoId {
    let (owner, name) = full.rsplit_once('/').expect("owner/name");
    RepoId {
        owner: owner.into(),
        name: name.into(),
    }
}

fn names(repos: &[codefleet::forge::RemoteRepo]) -> Vec<String> {
    repos.iter().map(|r| r.id.to_string()).collect()
}

fn start() -> (Fixture, FakeGitLab) {
    let f = Fixture::new();
    let gl = FakeGitLab::start(&f.path("srv"), TOKEN);
    (f, gl)
}

#[test]
fn the_vendored_description_says_where_each_part_comes_from() {
    let doc = describe::vendored();
    let head = &doc["x-vendored"];
    assert_eq!(head["repository"], "gitlabhq/gitlabhq");
    assert_eq!(head["path"], "doc/api/openapi/openapi_v2.yaml");
    assert_eq!(head["commit"].as_str().map(str::len), Some(40));
    assert!(head["licence"].as_str().unwrap().starts_with("MIT"));
    assert_eq!(doc["swagger"], "2.0");
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let source = op["x-source"].as_str().unwrap_or("");
            assert!(
                source.starts_with("openapi_v2.yaml")
                    || source.starts_with("https://docs.gitlab.com/"),
                "{method} {path}: no source ({source:?})"
            );
        }
    }
    for (name, def) in doc["definitions"].as_object().unwrap() {
        let source = def["x-source"].as_str().unwrap_or("openapi_v2.yaml");
        assert!(
            source.starts_with("openapi_v2.yaml") || source.starts_with("https://docs.gitlab.com/"),
            "{name}: {source:?}"
        );
    }
    // The glue's conversion: a body parameter becomes the request body, a query parameter's
    // type its schema, and the validator then rejects what GitLab would not take.
    assert!(describe::check_request("GET", "/api/v4/projects/a%2Fb", "").is_ok());
    let bad = describe::check_request(
        "GET",
        "/api/v4/projects/a%2Fb/merge_requests?state=open",
        "",
    );
    assert!(bad.unwrap_err()[0].contains("state"));
    let bad = describe::check_request(
        "POST",
        "/api/v4/projects/a%2Fb/merge_requests",
        r#"{"title":"t","source_branch":"x","target_branch":"main","draft":true}"#,
    );
    assert!(
        bad.unwrap_err()[0].contains("draft"),
        "GitLab's create has no `draft`"
    );
}

#[test]
fn repo_reads_a_project_by_its_full_path_and_a_missing_one_is_refused() {
    let (_f, gl) = start();
    gl.add_project(
        Project::new("acme/platform/api")
            .topics(&["rust", "svc"])
            .default_branch("trunk")
            .archived()
            .fork_of("upstream/api"),
        &[("a.txt", "a\n")],
    );
    let c = client(&gl);
    let repo = c
        .repo_id("https://gitlab.example/acme/platform/api.git")
        .unwrap();
    assert_eq!(
        (repo.owner.as_str(), repo.name.as_str()),
        ("acme/platform", "api")
    );
    let r = c.repo(&repo).unwrap();
    assert_eq!(r.id.to_string(), "acme/platform/api");
    assert_eq!(r.default_branch, "trunk");
    assert_eq!(r.topics, ["rust", "svc"]);
    assert!(r.archived && r.fork);
    assert_eq!(r.clone_url, gl.clone_url("acme/platform/api"));
    assert_eq!(r.ssh_url, "git@gitlab.example:acme/platform/api.git");
    assert!(c.archived(&repo).unwrap());
    let seen = gl.requests();
    assert_eq!(seen[0].target, "/api/v4/projects/acme%2Fplatform%2Fapi");
    assert_eq!(seen[0].private_token.as_deref(), Some(TOKEN));
    assert_eq!(seen[0].route, "GET /api/v4/projects/{id}");

    let err = c.repo(&id("acme/gone")).unwrap_err();
    assert_eq!(err.code, "E532");
    assert!(
        err.message
            .contains("GitLab answered 404 to reading a project: 404 Project Not Found"),
        "{}",
        err.message
    );
    // A CI job's token goes as JOB-TOKEN.
    client(&gl).job_token().repo(&repo).unwrap();
    let last = gl.requests().pop().unwrap();
    assert_eq!(
        (last.job_token.as_deref(), last.private_token),
        (Some(TOKEN), None)
    );
}

/// The fault cases every listing must survive, answered first: (status, retry-after).
const FAULTS: &[&[(u16, Option<u64>)]] = &[
    &[],
    &[(429, Some(0))],
    &[(429, None)],
    &[(502, None)],
    &[(429, Some(0)), (503, None)],
];

#[test]
fn list_repos_reads_every_page_of_a_group_its_subgroups_and_a_user() {
    let (_f, gl) = start();
    for i in 0..5 {
        gl.add_listed(Project::new(&format!("acme/svc-{i}")));
    }
    gl.add_listed(Project::new("acme/platform/api"));
    gl.add_listed(Project::new("acme/platform/db/pg").archived());
    gl.add_listed(Project::new("other/x"));
    gl.add_listed(Project::new("bob/dotfiles").user());
    gl.add_listed(Project::new("bob/notes").user());
    gl.lock().page_size = 2;
    let c = client(&gl);
    let group = Owner::Group {
        path: "acme".into(),
        subgroups: true,
    };
    let mut first = None;
    for no_link in [false, true] {
        gl.lock().no_link_header = no_link;
        for faults in FAULTS {
            for (status, after) in *faults {
                gl.fault("/api/v4/groups/acme/projects", *status, *after);
            }
            let got = names(&c.list_repos(&group).unwrap());
            assert!(
                gl.lock().faults.is_empty(),
                "the faults were met: {faults:?}"
            );
            match &first {
                None => first = Some(got),
                Some(f) => assert_eq!(&got, f, "after {faults:?}, no Link: {no_link}"),
            }
        }
    }
    assert_eq!(
        first.unwrap(),
        [
            "acme/platform/db/pg",
            "acme/platform/api",
            "acme/svc-4",
            "acme/svc-3",
            "acme/svc-2",
            "acme/svc-1",
            "acme/svc-0"
        ]
    );
    // Four pages a listing, ten listings, and each of the ten faults one more request.
    assert_eq!(gl.calls("GET /api/v4/groups/{id}/projects"), 4 * 10 + 10);
    assert!(gl.requests().iter().any(|r| r.target
        == "/api/v4/groups/acme/projects?include_subgroups=true&per_page=100"));
    let own = c
        .list_repos(&Owner::Group {
            path: "acme/platform".into(),
            subgroups: false,
        })
        .unwrap();
    assert_eq!(names(&own), ["acme/platform/api"]);
    assert!(gl.requests().iter().any(|r| {
        r.target
            .starts_with("/api/v4/groups/acme%2Fplatform/projects?include_subgroups=false")
    }));
    let user = c.list_repos(&Owner::User("bob".into())).unwrap();
    assert_eq!(names(&user), ["bob/notes", "bob/dotfiles"]);
    let err = c
        .list_repos(&Owner::Group {
            path: "nobody".into(),
            subgroups: true,
        })
        .unwrap_err();
    assert_eq!(err.code, "E532");
    assert!(
        err.message.contains("404 Group Not Found"),
        "{}",
        err.message
    );
}

#[test]
fn list_matching_asks_the_server_for_topics_search_and_unarchived() {
    let (_f, gl) = start();
    gl.add_listed(
        Project::new("acme/billing")
            .topics(&["rust", "svc"])
            .description("invoices"),
    );
    gl.add_listed(Project::new("acme/platform/billing-api").topics(&["rust", "svc"]));
    gl.add_listed(
        Project::new("acme/platform/old-billing")
            .topics(&["rust", "svc"])
            .archived(),
    );
    gl.add_listed(Project::new("acme/ledger").topics(&["rust"]));
    let c = client(&gl);
    let listing = Listing {
        owner: Owner::Group {
            path: "acme".into(),
            subgroups: true,
        },
        topics: vec!["rust".into(), "svc".into()],
        search: Some("billing".into()),
        archived: false,
    };
    let got = c.list_matching(&listing).unwrap();
    assert_eq!(names(&got), ["acme/platform/billing-api", "acme/billing"]);
    let target = gl.requests().pop().unwrap().target;
    assert_eq!(
        target,
        "/api/v4/groups/acme/projects?include_subgroups=true&per_page=100&topic=rust%2Csvc\
         &search=billing&archived=false"
    );
    let all = c
        .list_matching(&Listing {
            search: None,
            archived: true,
            topics: vec!["svc".into()],
            ..listing
        })
        .unwrap();
    assert_eq!(all.len(), 3);
    assert!(c.search_repos("org:acme").unwrap_err().code == "E536");
    assert!(c.code_search("x").unwrap_err().code == "E536");
}

fn new_mr(head: &str) -> NewPullRequest {
    NewPullRequest {
        title: "Fix the thing".into(),
        body: "What ran.".into(),
        head: head.into(),
        base: "main".into(),
        draft: true,
        labels: vec!["bot".into(), "deps".into()],
        reviewers: vec!["ann".into()],
        assignees: vec!["@bob".into()],
        remove_source_branch: true,
    }
}

#[test]
fn merge_requests_open_update_label_review_note_close_and_reopen() {
    let (_f, gl) = start();
    let bare = gl.add_project(Project::new("acme/platform/api"), &[("a.txt", "a\n")]);
    let head = commit_files(
        &bare,
        "codefleet/fix",
        Some("main"),
        &[("a.txt", "b\n")],
        "fix",
    );
    let ann = gl.add_user("ann");
    let bob = gl.add_user("bob");
    let c = client(&gl);
    let repo = id("acme/platform/api");
    let done = forge::open_or_update(&c, &repo, &new_mr("codefleet/fix"), &head).unwrap();
    assert_eq!(done.action, forge::Action::Opened);
    let mr = gl.mr("acme/platform/api", 1);
    assert_eq!(mr.title, "Draft: Fix the thing");
    assert_eq!(
        (mr.source_branch.as_str(), mr.target_branch.as_str()),
        ("codefleet/fix", "main")
    );
    assert!(mr.description.starts_with("What ran."));
    assert_eq!(mr.labels, ["bot", "deps"]);
    assert_eq!(
        (mr.reviewer_ids.clone(), mr.assignee_ids.clone()),
        (vec![ann], vec![bob])
    );
    assert!(mr.remove_source_branch);
    assert_eq!(
        done.pr.title, "Fix the thing",
        "read without the draft prefix"
    );
    assert!(done.pr.draft);
    assert_eq!(done.pr.head_sha, head);

    // A re-run with a new title updates it, still a draft; labels are not added again.
    let again = NewPullRequest {
        title: "Fix the thing, again".into(),
        ..new_mr("codefleet/fix")
    };
    let updated = forge::open_or_update(&c, &repo, &again, &head).unwrap();
    assert_eq!(updated.action, forge::Action::Updated);
    assert_eq!(
        gl.mr("acme/platform/api", 1).title,
        "Draft: Fix the thing, again"
    );
    // Labels and reviewers after opening (the shared flow's), then the update.
    assert_eq!(
        gl.calls("PUT /api/v4/projects/{id}/merge_requests/{merge_request_iid}"),
        3
    );

    // GitLab's 409 for a second one from the branch.
    assert_eq!(c.create(&repo, &again).unwrap(), Created::AlreadyExists);

    c.add_labels(&repo, 1, &["later".into()]).unwrap();
    assert_eq!(
        gl.mr("acme/platform/api", 1).labels,
        ["bot", "deps", "later"]
    );
    let carl = gl.add_user("carl");
    c.request_reviewers(&repo, 1, &["carl".into()]).unwrap();
    assert_eq!(gl.mr("acme/platform/api", 1).reviewer_ids, [ann, carl]);
    let err = c
        .request_reviewers(&repo, 1, &["nobody".into()])
        .unwrap_err();
    assert_eq!(err.code, "E565");
    assert!(
        err.message.contains("GitLab knows no user `nobody`"),
        "{}",
        err.message
    );

    c.comment(&repo, 1, "A note.").unwrap();
    assert_eq!(gl.mr("acme/platform/api", 1).notes, ["A note."]);
    c.close(&repo, 1, Some("closed: empty")).unwrap();
    let closed = gl.mr("acme/platform/api", 1);
    assert_eq!(
        (closed.state.as_str(), closed.description.as_str()),
        ("closed", "closed: empty")
    );
    assert_eq!(
        c.pull_requests(&repo, "codefleet/fix").unwrap()[0].state,
        PrState::Closed
    );
    assert_eq!(c.find_open(&repo, "codefleet/fix").unwrap(), None);
    let reopened = c.reopen(&repo, 1).unwrap();
    assert_eq!(reopened.state, PrState::Open);

    // Newest first, from that branch only.
    let other = gl.open_mr("acme/platform/api", "someone/else", "main", "Theirs");
    gl.close_mr("acme/platform/api", 1);
    gl.open_mr("acme/platform/api", "codefleet/fix", "main", "Mine again");
    let prs = c.pull_requests(&repo, "codefleet/fix").unwrap();
    let numbers: Vec<u64> = prs.iter().map(|p| p.number).collect();
    assert_eq!(numbers, [other + 1, 1]);
    assert_eq!(prs[1].state, PrState::Closed);
    assert!(gl.requests().iter().any(|r| r.target
        == "/api/v4/projects/acme%2Fplatform%2Fapi/merge_requests?source_branch=codefleet%2Ffix\
            &state=all&order_by=created_at&sort=desc&per_page=100"));
}

#[test]
fn mergeability_pipelines_and_reviews_read_as_the_campaign_needs() {
    let (_f, gl) = start();
    let bare = gl.add_project(
        Project::new("acme/api"),
        &[("a.txt", "a\n"), ("b.txt", "b\n")],
    );
    let head = commit_files(
        &bare,
        "feature",
        Some("main"),
        &[("a.txt", "mine\n")],
        "mine",
    );
    let n = gl.open_mr("acme/api", "feature", "main", "Feature");
    let c = client(&gl);
    let repo = id("acme/api");
    let pr = c.find_open(&repo, "feature").unwrap().unwrap();
    let m = c.mergeability(&repo, &pr).unwrap();
    assert_eq!((m.mergeable, m.behind_by), (Some(true), 0));
    commit_files(&bare, "main", None, &[("b.txt", "upstream\n")], "moves on");
    commit_files(&bare, "main", None, &[("c.txt", "more\n")], "moves on");
    assert_eq!(c.mergeability(&repo, &pr).unwrap().behind_by, 2);
    gl.set_merge_status("acme/api", n, Some("checking"));
    let before = gl.calls("GET /api/v4/projects/{id}/merge_requests/{merge_request_iid}");
    assert_eq!(c.mergeability(&repo, &pr).unwrap().mergeable, None);
    let reads = gl.calls("GET /api/v4/projects/{id}/merge_requests/{merge_request_iid}") - before;
    assert_eq!(reads, 4, "read again while GitLab is checking");
    gl.set_merge_status("acme/api", n, None);
    commit_files(&bare, "main", None, &[("a.txt", "theirs\n")], "conflicts");
    assert_eq!(c.mergeability(&repo, &pr).unwrap().mergeable, Some(false));

    assert_eq!(c.checks(&repo, &head).unwrap(), Checks::None);
    gl.set_pipeline("acme/api", &head, "running");
    assert_eq!(c.checks(&repo, &head).unwrap(), Checks::Pending);
    gl.set_pipeline("acme/api", &head, "failed");
    assert_eq!(c.checks(&repo, &head).unwrap(), Checks::Failure);
    gl.new_pipeline("acme/api", &head, "success");
    assert_eq!(
        c.checks(&repo, &head).unwrap(),
        Checks::Success,
        "the newest pipeline counts"
    );

    assert_eq!(c.review_decision(&repo, n).unwrap(), ReviewDecision::None);
    gl.approve("acme/api", n, "ann");
    assert_eq!(
        c.review_decision(&repo, n).unwrap(),
        ReviewDecision::Approved
    );
    gl.request_changes("acme/api", n, "bob");
    assert_eq!(
        c.review_decision(&repo, n).unwrap(),
        ReviewDecision::ChangesRequested
    );
}

#[test]
fn merging_sends_the_head_read_and_merges_for_real() {
    let (_f, gl) = start();
    let bare = gl.add_project(Project::new("acme/api"), &[("a.txt", "a\n")]);
    let head = commit_files(&bare, "one", Some("main"), &[("one.txt", "1\n")], "one");
    gl.open_mr("acme/api", "one", "main", "One");
    let c = client(&gl);
    let repo = id("acme/api");
    let pr = c.find_open(&repo, "one").unwrap().unwrap();
    // Someone pushes after it was read.
    let moved = commit_files(&bare, "one", None, &[("one.txt", "2\n")], "two");
    assert_eq!(c.merge(&repo, &pr, None).unwrap(), Merged::HeadMoved);
    let pr = c.find_open(&repo, "one").unwrap().unwrap();
    assert_eq!(pr.head_sha, moved);
    let Merged::Merged(sha) = c.merge(&repo, &pr, Some(MergeMethod::Merge)).unwrap() else {
        panic!("not merged")
    };
    let main = crate::support::github::git::branch(&bare, "main").unwrap();
    assert_eq!(sha, main);
    let parents =
        crate::support::github::git::run(&bare, &["rev-list", "--parents", "-n1", &main]).unwrap();
    assert!(
        parents.ends_with(&moved),
        "a merge commit of the head: {parents}"
    );
    assert_eq!(
        c.pull_requests(&repo, "one").unwrap()[0].state,
        PrState::Merged
    );
    let again = c.merge(&repo, &pr, None).unwrap();
    assert!(
        matches!(again, Merged::NotMergeable(ref m) if m.contains("405")),
        "{again:?}"
    );
    let _ = head;

    // Squashed: one commit with the merge request's title, then the merge commit.
    commit_files(&bare, "two", Some("main"), &[("t.txt", "1\n")], "t1");
    commit_files(&bare, "two", None, &[("t.txt", "2\n")], "t2");
    gl.open_mr("acme/api", "two", "main", "Two");
    let pr = c.find_open(&repo, "two").unwrap().unwrap();
    assert!(matches!(
        c.merge(&repo, &pr, Some(MergeMethod::Squash)).unwrap(),
        Merged::Merged(_)
    ));
    let squashed = gl.mr("acme/api", 2).squash_commit_sha.expect("squashed");
    let subject =
        crate::support::github::git::run(&bare, &["log", "-1", "--format=%s", &squashed]).unwrap();
    assert_eq!(subject, "Two");
    let body: serde_json::Value = serde_json::from_str(&gl.requests().pop().unwrap().body).unwrap();
    assert_eq!(body["squash"], true);
    assert_eq!(body["sha"], pr.head_sha.as_str());
    // GitLab's rebase is not one call.
    assert_eq!(
        c.merge(&repo, &pr, Some(MergeMethod::Rebase))
            .unwrap_err()
            .code,
        "E536"
    );
}

#[test]
fn auto_merge_waits_for_the_pipeline() {
    let (_f, gl) = start();
    let bare = gl.add_project(Project::new("acme/api"), &[("a.txt", "a\n")]);
    let head = commit_files(&bare, "feature", Some("main"), &[("f.txt", "f\n")], "f");
    gl.open_mr("acme/api", "feature", "main", "Feature");
    gl.set_pipeline("acme/api", &head, "running");
    let c = client(&gl);
    let repo = id("acme/api");
    let pr = c.find_open(&repo, "feature").unwrap().unwrap();
    c.enable_auto_merge(&repo, &pr, None).unwrap();
    let mr = gl.mr("acme/api", 1);
    assert!(mr.merge_when_pipeline_succeeds && mr.state == "opened");
    gl.set_pipeline("acme/api", &head, "success");
    assert_eq!(gl.mr("acme/api", 1).state, "merged");
    let body: serde_json::Value = serde_json::from_str(
        &gl.requests()
            .iter()
            .rfind(|r| r.route.ends_with("/merge"))
            .unwrap()
            .body,
    )
    .unwrap();
    assert_eq!(body["merge_when_pipeline_succeeds"], true);
}

#[test]
fn errors_say_gitlab_and_never_show_the_token() {
    let (_f, gl) = start();
    gl.add_listed(Project::new("acme/api"));
    let wrong = GitLab::new(&gl.api, Secret::new("glpat-wrong")).backoff(Duration::ZERO);
    let refused = wrong.repo(&id("acme/api")).unwrap_err();
    let err = refused.clone();
    assert_eq!(err.code, "E532");
    assert!(
        err.message.contains("GitLab answered 401"),
        "{}",
        err.message
    );
    assert!(err.hint.as_deref().unwrap_or("").contains("token"));
    // A rate limit longer than codefleet waits.
    gl.fault("/api/v4/projects", 429, Some(3600));
    let limited = client(&gl).repo(&id("acme/api")).unwrap_err();
    let err = limited.clone();
    assert_eq!(err.code, "E531");
    assert!(
        err.message.starts_with("GitLab's rate limit"),
        "{}",
        err.message
    );
    // Nothing listens: after retries, E530; the token is in no message.
    let gone = GitLab::new(
        &format!("http://127.0.0.1:9/{TOKEN}/api/v4"),
        Secret::new(TOKEN),
    )
    .backoff(Duration::ZERO);
    let err = gone.repo(&id("acme/api")).unwrap_err();
    assert_eq!(err.code, "E530");
    for e in [&refused, &limited, &err] {
        let text = format!("{} {}", e.message, e.hint.clone().unwrap_or_default());
        assert!(!text.contains(TOKEN), "{text}");
    }
    assert!(gl.requests().iter().all(|r| !r.target.contains(TOKEN)));
}

#[test]
fn git_is_served_on_the_api_s_port_and_a_pushed_branch_becomes_a_merge_request() {
    let (f, gl) = start();
    let bare = gl.add_project(Project::new("acme/platform/api"), &[("a.txt", "a\n")]);
    let url = gl
        .clone_url("acme/platform/api")
        .replace("http://", &format!("http://oauth2:{TOKEN}@"));
    let work = f.path("work");
    f.git(&f.path(""), &["clone", "-q", &url, work.to_str().unwrap()]);
    std::fs::write(work.join("a.txt"), "pushed\n").unwrap();
    f.git(&work, &["commit", "-qam", "pushed"]);
    f.git(
        &work,
        &["push", "-q", "origin", "HEAD:refs/heads/codefleet/x"],
    );
    let tip = f.git_line(&work, &["rev-parse", "HEAD"]);
    assert_eq!(
        crate::support::github::git::branch(&bare, "codefleet/x").as_deref(),
        Some(tip.as_str())
    );
    assert!(gl.lock().git_requests.iter().all(|(_, auth)| {
        auth.as_deref()
            .is_none_or(|a| a == format!("oauth2:{TOKEN}"))
    }));
    gl.add_user("bob");
    let c = client(&gl);
    let repo = id("acme/platform/api");
    let new = NewPullRequest {
        draft: false,
        ..new_mr("codefleet/x")
    };
    let Created::New(pr) = c.create(&repo, &new).unwrap() else {
        panic!("not opened")
    };
    assert_eq!((pr.head_sha.as_str(), pr.draft), (tip.as_str(), false));
    // A branch GitLab does not have cannot be a merge request's source.
    let err = c.create(&repo, &new_mr("codefleet/none")).unwrap_err();
    assert!(err.message.contains("422"), "{}", err.message);
}
