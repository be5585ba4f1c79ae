//! The OpenAPI validator the fake GitHub runs on every request and answer
//! (`support/openapi.rs`): it accepts GitHub's own examples and the requests codefleet sends,
//! and rejects what GitHub would not accept or would never answer, saying where and why.
//!
//! Measured over the whole description (`check_response` on every JSON response example of
//! every operation, 1038 of them): 819 validate; the others predate their schema (a field made
//! required later, `null` for an object) — the validator is right about them, so the tests
//! below take examples of the operations codefleet uses. With `oneOf` read as exactly-one, 18
//! more fail (event payloads matching two or three branches): hence at-least-one.

use serde_json::{Value, json};

use crate::support::openapi::{self, OperationRef};

fn op(method: &str, path: &str) -> OperationRef {
    OperationRef {
        method: method.into(),
        path: path.into(),
    }
}

/// An example of a response, by the operation and status, `$ref`s followed.
fn example(method: &str, path: &str, status: &str, name: &str) -> Value {
    let doc = openapi::description();
    let follow = |v: &'static Value| match v["$ref"].as_str() {
        Some(r) => doc.pointer(&r[1..]).expect("the $ref resolves"),
        None => v,
    };
    let response = follow(&doc["paths"][path][method]["responses"][status]);
    let ex = follow(&response["content"]["application/json"]["examples"][name]);
    assert!(
        ex.get("value").is_some(),
        "{method} {path} {status} has no example {name}"
    );
    ex["value"].clone()
}

const PR: &str = "/repos/{owner}/{repo}/pulls/{pull_number}";
const PRS: &str = "/repos/{owner}/{repo}/pulls";

#[test]
fn github_s_own_response_examples_validate() {
    let table: &[(&str, &str, &str, &str)] = &[
        (
            "get",
            "/repos/{owner}/{repo}/pulls/{pull_number}/reviews",
            "200",
            "default",
        ),
        (
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            "200",
            "response-if-merge-was-successful",
        ),
        (
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            "405",
            "response-if-merge-cannot-be-performed",
        ),
        (
            "put",
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
            "409",
            "response-if-sha-was-provided-and-pull-request-head-did-not-match",
        ),
        (
            "post",
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
            "200",
            "default",
        ),
        (
            "post",
            "/repos/{owner}/{repo}/issues/{issue_number}/comments",
            "201",
            "default",
        ),
        (
            "get",
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
            "200",
            "default",
        ),
        (
            "get",
            "/repos/{owner}/{repo}/commits/{ref}/status",
            "200",
            "default",
        ),
        ("get", "/orgs/{org}/repos", "200", "default"),
        ("get", "/users/{username}/repos", "200", "default"),
        ("get", "/search/repositories", "200", "default"),
        ("get", "/search/code", "200", "default"),
        (
            "get",
            "/repos/{owner}/{repo}/compare/{basehead}",
            "200",
            "default",
        ),
        (
            "get",
            "/repos/{owner}/{repo}/contents/{path}",
            "200",
            "response-if-content-is-a-file",
        ),
        (
            "get",
            "/repos/{owner}/{repo}/git/ref/{ref}",
            "200",
            "default",
        ),
    ];
    for (method, path, status, name) in table {
        let body = example(method, path, status, name).to_string();
        let errors = openapi::check_response(&op(method, path), status.parse().unwrap(), &body);
        assert!(
            errors.is_empty(),
            "{method} {path} {status} {name}: {errors:#?}"
        );
    }
}

#[test]
fn the_pull_request_example_validates_but_for_the_team_type_added_after_it() {
    // GitHub's `pull-request` example predates `type` on teams; the one error says so.
    for (method, path, status) in [("post", PRS, 201), ("get", PR, 200), ("patch", PR, 200)] {
        let s = status.to_string();
        let mut pr = example(method, path, &s, "default");
        let errors = openapi::check_response(&op(method, path), status, &pr.to_string());
        assert_eq!(
            errors,
            [format!(
                "{} {path}: {status} answer body/requested_teams/0: required property \"type\" is missing",
                method.to_uppercase()
            )]
        );
        pr["requested_teams"][0]["type"] = json!("organization");
        let errors = openapi::check_response(&op(method, path), status, &pr.to_string());
        assert!(errors.is_empty(), "{errors:#?}");
    }
}

#[test]
fn requests_codefleet_sends_are_matched_to_their_operation() {
    let table: &[(&str, &str, &str, &str)] = &[
        ("GET", "/repos/acme/svc", "", "/repos/{owner}/{repo}"),
        (
            "GET",
            "/repos/acme/svc/pulls?state=open&head=acme%3Acodefleet%2Fgreet&per_page=100&page=2",
            "",
            PRS,
        ),
        (
            "POST",
            "/repos/acme/svc/pulls",
            r#"{"title":"t","body":"b","head":"codefleet/greet","base":"main","draft":true}"#,
            PRS,
        ),
        (
            "PATCH",
            "/repos/acme/svc/pulls/1",
            r#"{"state":"closed"}"#,
            PR,
        ),
        (
            "POST",
            "/repos/acme/svc/issues/1/labels",
            r#"{"labels":["bot","chore"]}"#,
            "/repos/{owner}/{repo}/issues/{issue_number}/labels",
        ),
        (
            "PUT",
            "/repos/acme/svc/pulls/3/merge",
            r#"{"merge_method":"squash","sha":"0123456789abcdef0123456789abcdef01234567"}"#,
            "/repos/{owner}/{repo}/pulls/{pull_number}/merge",
        ),
        // A ref spans several segments (`x-multi-segment`), escaped or not.
        (
            "DELETE",
            "/repos/acme/svc/git/refs/heads/codefleet/greet",
            "",
            "/repos/{owner}/{repo}/git/refs/{ref}",
        ),
        (
            "GET",
            "/repos/acme/svc/commits/codefleet%2Fgreet/check-runs?per_page=100",
            "",
            "/repos/{owner}/{repo}/commits/{ref}/check-runs",
        ),
        (
            "GET",
            "/repos/acme/svc/commits/heads/codefleet/greet/status",
            "",
            "/repos/{owner}/{repo}/commits/{ref}/status",
        ),
        (
            "GET",
            "/search/code?q=TODO+org%3Aacme&per_page=100",
            "",
            "/search/code",
        ),
        (
            "GET",
            "/orgs/acme/repos?type=all&per_page=100",
            "",
            "/orgs/{org}/repos",
        ),
        (
            "GET",
            "/repos/acme/svc/compare/main...0123abc?per_page=1",
            "",
            "/repos/{owner}/{repo}/compare/{base}...{head}",
        ),
    ];
    for (method, target, body, path) in table {
        let got = openapi::check_request(method, target, body);
        assert_eq!(
            got,
            Ok(op(&method.to_lowercase(), path)),
            "{method} {target}"
        );
    }
}

#[test]
fn requests_github_would_not_accept_are_rejected_with_the_reason() {
    let table: &[(&str, &str, &str, &str)] = &[
        (
            "GET",
            "/nope/acme",
            "",
            "/nope/acme: no path of GitHub's REST API has this shape",
        ),
        (
            "GET",
            "/repos/acme/svc/pull",
            "",
            "no path of GitHub's REST API",
        ),
        (
            "DELETE",
            "/repos/acme/svc/pulls/1",
            "",
            "DELETE /repos/{owner}/{repo}/pulls/{pull_number}: not an operation (it has: GET, PATCH)",
        ),
        (
            "GET",
            "/repos/acme/svc/pulls?colour=red",
            "",
            "query parameter \"colour\" is not declared (declared: state, head, base, sort, direction, per_page, page)",
        ),
        (
            "GET",
            "/repos/acme/svc/pulls?state=bogus",
            "",
            "query parameter state = \"bogus\": \"bogus\" is not one of \"open\", \"closed\", \"all\"",
        ),
        (
            "GET",
            "/repos/acme/svc/pulls?per_page=many",
            "",
            "query parameter per_page = \"many\": expected integer, got string \"many\"",
        ),
        (
            "GET",
            "/repos/acme/svc/pulls/abc",
            "",
            "path parameter pull_number = \"abc\": expected integer",
        ),
        (
            "POST",
            "/repos/acme/svc/pulls",
            r#"{"title":"t","base":"main"}"#,
            "POST /repos/{owner}/{repo}/pulls: request body: required property \"head\" is missing",
        ),
        (
            "POST",
            "/repos/acme/svc/pulls",
            r#"{"title":"t","head":"h","base":"main","draft":"yes"}"#,
            "request body/draft: expected boolean, got string \"yes\"",
        ),
        (
            "POST",
            "/repos/acme/svc/pulls",
            "",
            "a request body is required, none was sent",
        ),
        (
            "POST",
            "/repos/acme/svc/pulls",
            "{not json",
            "the request body is not JSON",
        ),
        (
            "PUT",
            "/repos/acme/svc/pulls/1/merge",
            r#"{"merge_method":"fast-forward"}"#,
            "request body/merge_method: \"fast-forward\" is not one of \"merge\", \"squash\", \"rebase\"",
        ),
        (
            "POST",
            "/repos/acme/svc/issues/1/labels",
            r#"{"labels":[]}"#,
            "request body: matches none of the 1 oneOf alternatives (closest: /labels: at least 1 items, got 0)",
        ),
        (
            "PATCH",
            "/repos/acme/svc/pulls/1",
            r#"{"body":null}"#,
            "request body/body: expected string, got null",
        ),
        (
            "GET",
            "/repos/acme/svc/pulls",
            r#"{"state":"open"}"#,
            "the operation takes no request body, but one was sent",
        ),
        ("GET", "/search/code", "", "query parameter q is required"),
        // `additionalProperties: false`: a key the schema does not list.
        (
            "PATCH",
            "/repos/acme/svc/hooks/1/config",
            r#"{"url":"https://example.com","colour":"red"}"#,
            "request body/colour: property \"colour\" is not allowed (allowed: content_type, insecure_ssl, secret, url)",
        ),
    ];
    for (method, target, body, expected) in table {
        let errors = openapi::check_request(method, target, body)
            .expect_err(&format!("{method} {target} {body} is refused"));
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{method} {target} {body}: expected {expected:?} in {errors:#?}"
        );
    }
}

#[test]
fn answers_github_would_never_give_are_rejected_with_the_reason() {
    let mut headless = example("post", PRS, "201", "default");
    headless.as_object_mut().unwrap().remove("head");
    let mut wrong_type = example("get", PR, "200", "default");
    wrong_type["number"] = json!("1");
    let mut wrong_enum = example("get", PR, "200", "default");
    wrong_enum["state"] = json!("merged");
    let post_prs = op("post", PRS);
    let labels = op("post", "/repos/{owner}/{repo}/issues/{issue_number}/labels");
    let delete_ref = op("delete", "/repos/{owner}/{repo}/git/refs/{ref}");
    let get_pr = op("get", PR);
    let table: Vec<(&OperationRef, u16, String, &str)> = vec![
        (
            &post_prs,
            201,
            headless.to_string(),
            "201 answer body: required property \"head\" is missing",
        ),
        (
            &get_pr,
            200,
            wrong_type.to_string(),
            "200 answer body/number: expected integer, got string \"1\"",
        ),
        (
            &get_pr,
            200,
            wrong_enum.to_string(),
            "200 answer body/state: \"merged\" is not one of \"open\", \"closed\"",
        ),
        (
            &post_prs,
            418,
            "{}".into(),
            "status 418 is not an answer of this operation (declared: 201, 403, 422)",
        ),
        (
            &labels,
            200,
            r#"{"name":"bot"}"#.into(),
            "200 answer body: expected array, got object",
        ),
        (
            &labels,
            200,
            r#"[{"name":"bot"}]"#.into(),
            "200 answer body/0: required property \"id\" is missing",
        ),
        (
            &delete_ref,
            204,
            "null".into(),
            "a 204 answer has no body in the description, but one was sent: null",
        ),
        (
            &post_prs,
            422,
            r#"{"message":"Validation Failed","errors":"many"}"#.into(),
            "422 answer body/errors: expected array",
        ),
        (
            &post_prs,
            201,
            "<html>".into(),
            "the 201 answer's body is not JSON",
        ),
    ];
    for (op, status, body, expected) in table {
        let errors = openapi::check_response(op, status, &body);
        assert!(
            errors.iter().any(|e| e.contains(expected)),
            "{op} {status}: expected {expected:?} in {errors:#?}"
        );
    }
}

#[test]
fn answers_github_gives_on_every_operation_are_accepted() {
    let post_prs = op("post", PRS);
    let table: &[(&OperationRef, u16, &str)] = &[
        // Declared by the operation: the fake's "already exists".
        (
            &post_prs,
            422,
            r#"{"message":"Validation Failed","errors":[{"resource":"PullRequest","code":"custom","message":"A pull request already exists for acme:codefleet/greet."}],"documentation_url":"https://docs.github.com/rest/pulls/pulls#create-a-pull-request","status":"422"}"#,
        ),
        // Not declared by each operation, answered by GitHub on all of them.
        (
            &post_prs,
            401,
            r#"{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}"#,
        ),
        (
            &op("get", PRS),
            429,
            r#"{"message":"You have exceeded a secondary rate limit."}"#,
        ),
        (&op("get", PRS), 404, r#"{"message":"Not Found"}"#),
        (&op("get", PRS), 502, r#"{"message":"Server Error"}"#),
        (
            &op("delete", "/repos/{owner}/{repo}/git/refs/{ref}"),
            204,
            "",
        ),
    ];
    for (op, status, body) in table {
        let errors = openapi::check_response(op, *status, body);
        assert!(errors.is_empty(), "{op} {status}: {errors:#?}");
    }
}

#[test]
fn schema_keywords_behave_as_openapi_3_0_says() {
    // `nullable`, `oneOf` (at least one branch: GitHub's branches overlap), `allOf`, formats.
    let table: &[(&str, Value, Option<&str>)] = &[
        (
            "#/components/schemas/nullable-simple-user",
            Value::Null,
            None,
        ),
        (
            "#/components/schemas/simple-user",
            Value::Null,
            Some(": expected object, got null"),
        ),
        (
            "#/components/schemas/basic-error",
            json!({"message": 1}),
            Some("/message: expected string, got integer 1"),
        ),
        (
            "#/components/schemas/label",
            json!({"id": 1, "node_id": "x", "url": "not a uri", "name": "bot", "description": null, "color": "fff", "default": false}),
            Some("/url: \"not a uri\" is not a URI"),
        ),
        (
            "#/components/schemas/label",
            json!({"id": 1, "node_id": "x", "url": "https://api.github.com/l", "name": "bot", "description": null, "color": "fff", "default": false}),
            None,
        ),
        (
            "#/components/schemas/issue-comment",
            json!({"created_at": "yesterday"}),
            Some("/created_at: \"yesterday\" is not a date-time"),
        ),
    ];
    for (pointer, value, expected) in table {
        let errors = openapi::check_value(pointer, value);
        match expected {
            None => assert!(errors.is_empty(), "{pointer}: {errors:#?}"),
            Some(e) => assert!(
                errors.iter().any(|x| x.contains(e)),
                "{pointer}: expected {e:?} in {errors:#?}"
            ),
        }
    }
}

/// One request to the fake over a raw connection: (status, body).
fn send(url: &str, method: &str, target: &str, body: &str) -> (u16, String) {
    use std::io::{BufRead, BufReader, Read, Write};
    let addr = url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\nauthorization: Bearer t0ken\r\n\
         content-length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    let status = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    let mut length = 0;
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).unwrap();
        if h.trim().is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut text = vec![0; length];
    reader.read_exact(&mut text).unwrap();
    (status, String::from_utf8(text).unwrap())
}

#[test]
fn the_fake_answers_a_request_github_would_refuse_with_400_and_the_test_fails() {
    let gh = crate::support::github::FakeGitHub::start("t0ken");
    let (status, body) = send(&gh.url, "GET", "/repos/acme/svc/pulls?state=bogus", "");
    assert_eq!(status, 400);
    let message = serde_json::from_str::<Value>(&body).unwrap()["message"].clone();
    assert_eq!(
        message,
        "request not allowed by GitHub's OpenAPI description: GET /repos/{owner}/{repo}/pulls: \
         query parameter state = \"bogus\": \"bogus\" is not one of \"open\", \"closed\", \"all\""
    );
    // A request the description allows is served as before.
    let (status, body) = send(&gh.url, "GET", "/repos/acme/svc/pulls?state=open", "");
    assert_eq!((status, body.as_str()), (200, "[]"));

    let failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| gh.assert_conforms()));
    let panic = failed.expect_err("the violation fails the test");
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(text.contains("state = \"bogus\""), "{text}");
    // assert_conforms took the violations: the fake now drops quietly.
}

#[test]
fn a_fake_that_saw_a_violation_fails_the_test_when_it_is_dropped() {
    let gh = crate::support::github::FakeGitHub::start("t0ken");
    let (status, _) = send(&gh.url, "POST", "/repos/acme/svc/pulls", r#"{"title":"t"}"#);
    assert_eq!(status, 400);
    let dropped = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(gh)));
    let panic = dropped.expect_err("dropping the fake fails the test");
    let text = panic.downcast_ref::<String>().unwrap();
    assert!(
        text.contains("request body: required property \"head\" is missing"),
        "{text}"
    );
}
