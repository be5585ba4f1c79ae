//! A tiny HTTP server on 127.0.0.1 that runs `git http-backend` (a CGI) for each request,
//! behind basic auth with one password (a token): real smart-HTTP git over loopback for tests.
//! Every request's Authorization header is recorded so tests can check what clients sent.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// A running server; it stops with the test process.
pub struct GitHttp {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    /// Requests served: method and path.
    pub requests: Arc<Mutex<Vec<String>>>,
    /// This many push attempts are answered `502 Bad Gateway` first (a flaky proxy).
    pub fail_pushes: Arc<AtomicUsize>,
    /// The basic-auth `user:password` of every request that carried one, decoded.
    pub credentials: Arc<Mutex<Vec<String>>>,
}

impl GitHttp {
    /// Serves the bare repositories under `root` as `http://127.0.0.1:PORT/<path>`; requests
    /// must carry basic auth whose password is `token` (any user name).
    pub fn start(root: &Path, token: &str) -> GitHttp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let root = root.to_path_buf();
        let token = token.to_string();
        let seen = Arc::clone(&requests);
        let fail_pushes = Arc::new(AtomicUsize::new(0));
        let failing = Arc::clone(&fail_pushes);
        let credentials = Arc::new(Mutex::new(Vec::new()));
        let sent = Arc::clone(&credentials);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let root = root.clone();
                let token = token.clone();
                let seen = Arc::clone(&seen);
                let failing = Arc::clone(&failing);
                let sent = Arc::clone(&sent);
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &token, (&seen, &sent), &failing);
                });
            }
        });
        GitHttp {
            base,
            requests,
            fail_pushes,
            credentials,
        }
    }
}

/// One HTTP request as read from a connection.
pub struct Request {
    pub method: String,
    /// The path with its query string, as on the request line.
    pub target: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Request {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one request (a chunked body too); `None` when the client closed the connection.
pub fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or("").to_string();
    let target = parts.next().unwrap_or("/").to_string();
    let mut headers: Vec<(String, String)> = Vec::new();
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
    let mut req = Request {
        method,
        target,
        headers,
        body: Vec::new(),
    };
    if req
        .header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let n = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            reader.read_exact(&mut chunk)?;
            if n == 0 {
                break;
            }
            req.body.extend_from_slice(&chunk[..n]);
        }
    } else if let Some(n) = req
        .header("content-length")
        .and_then(|v| v.parse::<usize>().ok())
    {
        req.body.resize(n, 0);
        reader.read_exact(&mut req.body)?;
    }
    Ok(Some(req))
}

fn serve(
    stream: TcpStream,
    root: &Path,
    token: &str,
    (seen, sent): (&Mutex<Vec<String>>, &Mutex<Vec<String>>),
    failing: &AtomicUsize,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    while let Some(req) = read_request(&mut reader)? {
        seen.lock()
            .expect("lock")
            .push(format!("{} {}", req.method, req.target));
        if let Some(up) = basic_auth(&req) {
            sent.lock().expect("lock").push(up);
        }
        if req.target.ends_with("service=git-receive-pack")
            && authorized(&req, token)
            && failing
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok()
        {
            let msg = "bad gateway\n";
            write!(
                out,
                "HTTP/1.1 502 Bad Gateway\r\nContent-Length: {}\r\nContent-Type: text/plain\r\n\r\n{msg}",
                msg.len()
            )?;
            out.flush()?;
            continue;
        }
        let answer = git_answer(root, token, req)?;
        out.write_all(&answer)?;
        out.flush()?;
    }
    Ok(())
}

/// The request's basic auth, decoded (`user:password`).
pub fn basic_auth(req: &Request) -> Option<String> {
    req.header("authorization")
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(decode_base64)
}

/// Whether the request carries basic auth whose password is `token`.
pub fn authorized(req: &Request, token: &str) -> bool {
    basic_auth(req).is_some_and(|up| up.split_once(':').is_some_and(|(_, p)| p == token))
}

/// The whole HTTP answer to a git request for the bare repositories under `root`: 401 without
/// the token, else what `git http-backend` says.
pub fn git_answer(root: &Path, token: &str, req: Request) -> std::io::Result<Vec<u8>> {
    if !authorized(&req, token) {
        let msg = "authentication required\n";
        return Ok(format!(
            "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\n\
             Content-Length: {}\r\nContent-Type: text/plain\r\n\r\n{msg}",
            msg.len()
        )
        .into_bytes());
    }
    let Request {
        method,
        target,
        headers,
        body,
    } = req;
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("REMOTE_USER", "tester")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(ct) = get("content-type") {
        cgi.env("CONTENT_TYPE", ct);
    }
    if let Some(ce) = get("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", ce);
    }
    if let Some(gp) = get("git-protocol") {
        cgi.env("GIT_PROTOCOL", gp);
    }
    let mut child = cgi.spawn()?;
    let mut stdin = child.stdin.take().expect("stdin");
    let feeder = std::thread::spawn(move || {
        let _ = stdin.write_all(&body);
    });
    let output = child.wait_with_output()?;
    let _ = feeder.join();
    let raw = output.stdout;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|i| (i, 4))
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, payload) = match split {
        Some((i, n)) => (
            String::from_utf8_lossy(&raw[..i]).into_owned(),
            &raw[i + n..],
        ),
        None => (String::new(), &raw[..]),
    };
    let mut status = "200 OK".to_string();
    let mut response_headers = String::new();
    for h in head.lines() {
        if let Some(s) = h.strip_prefix("Status:") {
            status = s.trim().to_string();
        } else if !h.trim().is_empty() {
            response_headers.push_str(h.trim_end());
            response_headers.push_str("\r\n");
        }
    }
    let mut answer = format!(
        "HTTP/1.1 {status}\r\n{response_headers}Content-Length: {}\r\n\r\n",
        payload.len()
    )
    .into_bytes();
    answer.extend_from_slice(payload);
    Ok(answer)
}

pub fn decode_base64(text: &str) -> Option<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in text.trim().bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c)? as u32;
        bits = (bits << 6) | v;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
            bits &= (1 << n) - 1;
        }
    }
    String::from_utf8(out).ok()
}
