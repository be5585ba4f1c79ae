//! An in-process GitHub REST API on 127.0.0.1 for the pull request endpoints codefleet uses,
//! with GitHub's request and response shapes: list (filtered by `head`, paginated with a
//! `Link` header), create (422 "A pull request already exists for owner:branch."), update,
//! close, labels, requested reviewers; bearer-token auth; scripted 403 rate limits.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

/// One pull request as the fake stores it.
#[derive(Debug, Clone)]
pub struct Pr {
    pub repo: String,
    pub number: u64,
    pub title: String,
    pub body: String,
    pub head: String,
    pub base: String,
    pub draft: bool,
    pub state: String,
    pub labels: Vec<String>,
    pub reviewers: Vec<String>,
    pub team_reviewers: Vec<String>,
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub target: String,
    pub authorization: Option<String>,
    pub body: String,
}

#[derive(Default)]
pub struct State {
    pub prs: Vec<Pr>,
    pub requests: Vec<Seen>,
    /// Answers to give before serving normally: (status, retry-after seconds).
    pub faults: Vec<(u16, u64)>,
    /// Page size of list answers.
    pub page_size: usize,
    /// Answer lists without filtering by `head` (to exercise pagination).
    pub ignore_head_filter: bool,
    /// Repositories (`owner/name`) that are archived.
    pub archived: Vec<String>,
    /// The GraphQL endpoint's part (`github_graphql.rs`).
    pub graphql: super::github_graphql::GraphqlState,
}

pub struct FakeGitHub {
    pub url: String,
    pub state: Arc<Mutex<State>>,
}

impl FakeGitHub {
    pub fn start(token: &str) -> FakeGitHub {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            page_size: 30,
            ..State::default()
        }));
        let shared = Arc::clone(&state);
        let token = token.to_string();
        let base = url.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                let token = token.clone();
                let base = base.clone();
                std::thread::spawn(move || {
                    let _ = serve(stream, &shared, &token, &base);
                });
            }
        });
        FakeGitHub { url, state }
    }

    pub fn prs(&self) -> Vec<Pr> {
        self.state.lock().unwrap().prs.clone()
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.state.lock().unwrap().requests.clone()
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>, token: &str, base: &str) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let target = parts.next().unwrap_or("/").to_string();
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            reader.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
            }
        }
        let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
        let mut body = vec![
            0;
            get("content-length")
                .and_then(|v| v.parse().ok())
                .unwrap_or(0)
        ];
        reader.read_exact(&mut body)?;
        let body = String::from_utf8_lossy(&body).into_owned();
        let authorization = get("authorization");
        let (status, extra, reply) = {
            let mut st = state.lock().unwrap();
            st.requests.push(Seen {
                method: method.clone(),
                target: target.clone(),
                authorization: authorization.clone(),
                body: body.clone(),
            });
            if authorization.as_deref() != Some(&format!("Bearer {token}")) {
                (
                    401,
                    String::new(),
                    json!({"message": "Bad credentials", "documentation_url": "https://docs.github.com/rest"}),
                )
            } else if !st.faults.is_empty() {
                let (status, after) = st.faults.remove(0);
                (
                    status,
                    format!("retry-after: {after}\r\nx-ratelimit-remaining: 0\r\n"),
                    json!({"message": "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.", "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}),
                )
            } else {
                route(&mut st, &method, &target, &body, base)
            }
        };
        let text = reply.to_string();
        let reason = match status {
            200 => "OK",
            201 => "Created",
            401 => "Unauthorized",
            403 => "Forbidden",
            404 => "Not Found",
            422 => "Unprocessable Entity",
            _ => "Other",
        };
        write!(
            out,
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json; charset=utf-8\r\n\
             x-ratelimit-limit: 5000\r\n{extra}content-length: {}\r\n\r\n{text}",
            text.len()
        )?;
        out.flush()?;
    }
}

fn pr_json(pr: &Pr, base: &str) -> Value {
    let owner = pr.repo.split('/').next().unwrap_or("");
    json!({
        "url": format!("{base}/repos/{}/pulls/{}", pr.repo, pr.number),
        "html_url": format!("https://github.example/{}/pull/{}", pr.repo, pr.number),
        "number": pr.number,
        "state": pr.state,
        "title": pr.title,
        "body": pr.body,
        "draft": pr.draft,
        "head": {"label": format!("{owner}:{}", pr.head), "ref": pr.head},
        "base": {"label": format!("{owner}:{}", pr.base), "ref": pr.base},
        "labels": pr.labels.iter().map(|l| json!({"name": l})).collect::<Vec<_>>(),
    })
}

fn query(target: &str, key: &str) -> Option<String> {
    let q = target.split_once('?')?.1;
    q.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%2F", "/")
                .replace("%3a", ":")
                .replace("%2f", "/")
        })
    })
}

fn route(
    st: &mut State,
    method: &str,
    target: &str,
    body: &str,
    base: &str,
) -> (u16, String, Value) {
    let path = target.split('?').next().unwrap_or("");
    if method == "POST" && path == "/graphql" {
        let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        return super::github_graphql::handle(st, &input, base);
    }
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let input: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let not_found = (404, String::new(), json!({"message": "Not Found"}));
    if segs.len() == 3 && segs[0] == "repos" && method == "GET" {
        let repo = format!("{}/{}", segs[1], segs[2]);
        return (
            200,
            String::new(),
            json!({"full_name": repo, "name": segs[2], "owner": {"login": segs[1]},
                   "archived": st.archived.contains(&repo), "default_branch": "main"}),
        );
    }
    if segs.len() < 4 || segs[0] != "repos" {
        return not_found;
    }
    let repo = format!("{}/{}", segs[1], segs[2]);
    match (method, &segs[3..]) {
        ("GET", ["pulls"]) => {
            let head = query(target, "head");
            let page: usize = query(target, "page")
                .and_then(|p| p.parse().ok())
                .unwrap_or(1);
            let matching: Vec<&Pr> = st
                .prs
                .iter()
                .filter(|p| p.repo == repo && p.state == "open")
                .filter(|p| {
                    st.ignore_head_filter
                        || head
                            .as_deref()
                            .is_none_or(|h| h == format!("{}:{}", segs[1], p.head))
                })
                .collect();
            let size = st.page_size.max(1);
            let pages = matching.len().div_ceil(size).max(1);
            let items: Vec<Value> = matching
                .iter()
                .skip((page - 1) * size)
                .take(size)
                .map(|p| pr_json(p, base))
                .collect();
            let mut link = String::new();
            if page < pages {
                let bare = target.split("&page=").next().unwrap_or(target);
                link = format!(
                    "link: <{base}{bare}&page={}>; rel=\"next\", <{base}{bare}&page={pages}>; rel=\"last\"\r\n",
                    page + 1
                );
            }
            (200, link, Value::Array(items))
        }
        ("POST", ["pulls"]) => {
            let head = input["head"].as_str().unwrap_or("").to_string();
            if st
                .prs
                .iter()
                .any(|p| p.repo == repo && p.head == head && p.state == "open")
            {
                return (
                    422,
                    String::new(),
                    json!({
                        "message": "Validation Failed",
                        "errors": [{"resource": "PullRequest", "code": "custom",
                                    "message": format!("A pull request already exists for {}:{head}.", segs[1])}],
                        "documentation_url": "https://docs.github.com/rest/pulls/pulls#create-a-pull-request",
                        "status": "422"
                    }),
                );
            }
            let number = st.prs.len() as u64 + 1;
            let pr = Pr {
                repo,
                number,
                title: input["title"].as_str().unwrap_or("").into(),
                body: input["body"].as_str().unwrap_or("").into(),
                head,
                base: input["base"].as_str().unwrap_or("").into(),
                draft: input["draft"].as_bool().unwrap_or(false),
                state: "open".into(),
                labels: Vec::new(),
                reviewers: Vec::new(),
                team_reviewers: Vec::new(),
            };
            let reply = pr_json(&pr, base);
            st.prs.push(pr);
            (201, String::new(), reply)
        }
        ("PATCH", ["pulls", n]) => {
            let Some(pr) = st
                .prs
                .iter_mut()
                .find(|p| p.repo == repo && p.number.to_string() == *n)
            else {
                return not_found;
            };
            if let Some(t) = input["title"].as_str() {
                pr.title = t.into();
            }
            if let Some(b) = input["body"].as_str() {
                pr.body = b.into();
            }
            if let Some(s) = input["state"].as_str() {
                pr.state = s.into();
            }
            let reply = pr_json(pr, base);
            (200, String::new(), reply)
        }
        ("POST", ["issues", n, "labels"]) => {
            let Some(pr) = st
                .prs
                .iter_mut()
                .find(|p| p.repo == repo && p.number.to_string() == *n)
            else {
                return not_found;
            };
            for l in input["labels"].as_array().into_iter().flatten() {
                let l = l.as_str().unwrap_or("").to_string();
                if !pr.labels.contains(&l) {
                    pr.labels.push(l);
                }
            }
            let labels: Vec<Value> = pr.labels.iter().map(|l| json!({"name": l})).collect();
            (200, String::new(), Value::Array(labels))
        }
        ("POST", ["pulls", n, "requested_reviewers"]) => {
            let Some(pr) = st
                .prs
                .iter_mut()
                .find(|p| p.repo == repo && p.number.to_string() == *n)
            else {
                return not_found;
            };
            for r in input["reviewers"].as_array().into_iter().flatten() {
                pr.reviewers.push(r.as_str().unwrap_or("").into());
            }
            for r in input["team_reviewers"].as_array().into_iter().flatten() {
                pr.team_reviewers.push(r.as_str().unwrap_or("").into());
            }
            let reply = pr_json(pr, base);
            (201, String::new(), reply)
        }
        _ => not_found,
    }
}
