//! The GitHub Action without GitHub: the composite steps of `action.yml` run as the runner runs
//! them (each `run:` script under `bash -eo pipefail`, its `env:` with the `${{ … }}`
//! expressions resolved, a fresh `GITHUB_OUTPUT` per step, `GITHUB_PATH` carried to the next
//! steps, `GITHUB_STEP_SUMMARY`, `RUNNER_*` pointed at temp dirs), the release assets served from
//! 127.0.0.1 by a small file server, the real binary packed as `release.yml` packs it, and real
//! git repositories. Also: `actionlint` (and `shellcheck`) over the action and the workflows.
#![cfg(unix)]

use crate::support::model_server;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use model_server::{ModelServer, Step};

const REPO: &str = "acme/codefleet";
const VERSION: &str = "9.9.9";
const TOKEN: &str = "ghs_TestToken0123456789";
const MODEL_KEY: &str = "sk-test-model-key-42";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// This machine as a runner: what GitHub would put in RUNNER_OS and RUNNER_ARCH.
fn host_runner() -> (&'static str, &'static str, &'static str) {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("macos", _) => ("macOS", "ARM64", "aarch64-apple-darwin"),
        (_, "aarch64") => ("Linux", "ARM64", "aarch64-unknown-linux-gnu"),
        _ => ("Linux", "X64", "x86_64-unknown-linux-gnu"),
    }
}

/// Serves the files under a directory over HTTP on 127.0.0.1, recording each request path.
struct FileServer {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

impl FileServer {
    fn start(dir: &Path) -> FileServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&requests);
        let dir = dir.to_path_buf();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().expect("clone"));
                let mut line = String::new();
                if reader.read_line(&mut line).is_err() {
                    continue;
                }
                // Headers up to the blank line.
                loop {
                    let mut h = String::new();
                    match reader.read_line(&mut h) {
                        Ok(0) | Err(_) => break,
                        Ok(_) if h == "\r\n" || h == "\n" => break,
                        Ok(_) => {}
                    }
                }
                let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
                seen.lock().expect("requests").push(path.clone());
                let file = dir.join(path.trim_start_matches('/'));
                let (status, body) = match std::fs::read(&file) {
                    Ok(bytes) if !path.contains("..") => ("200 OK", bytes),
                    _ => ("404 Not Found", b"not found".to_vec()),
                };
                let head = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        FileServer { url, requests }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().expect("requests").clone()
    }
}

fn sh(cwd: &Path, program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "Ada")
        .env("GIT_AUTHOR_EMAIL", "ada@example.com")
        .env("GIT_COMMITTER_NAME", "Ada")
        .env("GIT_COMMITTER_EMAIL", "ada@example.com")
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn sha256(file: &Path) -> String {
    let dir = file.parent().expect("parent");
    let path = file.to_str().expect("utf-8");
    let out = if cfg!(target_os = "macos") {
        sh(dir, "shasum", &["-a", "256", path])
    } else {
        sh(dir, "sha256sum", &[path])
    };
    out.split_whitespace().next().expect("hash").to_string()
}

/// A release as `release.yml` publishes it: `<base>/v<version>/codefleet-<version>-<target>.tar.gz`
/// (`.zip` on Windows) holding the binary in a top directory, and `<asset>.sha256`.
fn publish(base: &Path, target: &str, binary: &Path) -> PathBuf {
    let dir = base
        .join(REPO)
        .join("releases/download")
        .join(format!("v{VERSION}"));
    let stem = format!("codefleet-{VERSION}-{target}");
    let stage = base.join("stage").join(&stem);
    std::fs::create_dir_all(&stage).expect("stage");
    std::fs::create_dir_all(&dir).expect("release dir");
    let windows = target.contains("windows");
    let exe = if windows {
        "codefleet.exe"
    } else {
        "codefleet"
    };
    std::fs::copy(binary, stage.join(exe)).expect("copy binary");
    std::fs::write(stage.join("README.md"), "codefleet\n").expect("readme");
    let asset = if windows {
        let asset = dir.join(format!("{stem}.zip"));
        sh(
            &base.join("stage"),
            "zip",
            &["-q", "-r", asset.to_str().unwrap(), &stem],
        );
        asset
    } else {
        let asset = dir.join(format!("{stem}.tar.gz"));
        sh(
            &base.join("stage"),
            "tar",
            &["-czf", asset.to_str().unwrap(), &stem],
        );
        asset
    };
    let name = asset.file_name().unwrap().to_string_lossy().into_owned();
    std::fs::write(
        dir.join(format!("{name}.sha256")),
        format!("{}  {name}\n", sha256(&asset)),
    )
    .expect("checksum");
    asset
}

/// One composite step's result.
struct StepRun {
    id: String,
    code: i32,
    stdout: String,
    stderr: String,
}

/// A run of the whole action.
struct ActionRun {
    steps: Vec<StepRun>,
    /// The action's `outputs:`, resolved.
    outputs: BTreeMap<String, String>,
    summary: String,
}

impl ActionRun {
    fn step(&self, id: &str) -> &StepRun {
        self.steps
            .iter()
            .find(|s| s.id == id)
            .unwrap_or_else(|| panic!("step {id} did not run"))
    }

    /// Whether the action as a whole succeeded (every step that ran exited 0).
    fn ok(&self) -> bool {
        self.steps.iter().all(|s| s.code == 0)
    }

    fn log(&self) -> String {
        self.steps
            .iter()
            .map(|s| format!("--- {} ({})\n{}{}", s.id, s.code, s.stdout, s.stderr))
            .collect()
    }
}

/// A runner: temp dirs for RUNNER_TEMP, the tool cache and the workspace.
struct Runner {
    dir: tempfile::TempDir,
    os: &'static str,
    arch: &'static str,
    releases: String,
    /// Directories put in front of PATH (a stub `cargo`).
    path_front: Vec<PathBuf>,
    /// A job's `env:`, which every step inherits.
    job_env: Vec<(String, String)>,
    /// Tools the runner lacks (`jq`): the system PATH is replaced by a directory holding all
    /// its other programs.
    hidden: Vec<&'static str>,
}

impl Runner {
    fn new(releases: &str) -> Runner {
        let dir = tempfile::tempdir().expect("tempdir");
        for d in ["temp", "tool-cache", "workspace", "home"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("dir");
        }
        let (os, arch, _) = host_runner();
        Runner {
            dir,
            os,
            arch,
            releases: releases.to_string(),
            path_front: Vec::new(),
            job_env: Vec::new(),
            hidden: Vec::new(),
        }
    }

    fn path(&self, p: &str) -> PathBuf {
        self.dir.path().join(p)
    }

    fn workspace(&self) -> PathBuf {
        self.path("workspace")
    }

    /// A git repository under the workspace.
    fn repo(&self, name: &str, files: &[(&str, &str)]) -> PathBuf {
        let dir = self.workspace().join(name);
        std::fs::create_dir_all(&dir).expect("repo");
        sh(&dir, "git", &["init", "-q", "-b", "main"]);
        for (path, text) in files {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).expect("mkdir");
            std::fs::write(p, text).expect("write");
        }
        sh(&dir, "git", &["add", "-A"]);
        sh(&dir, "git", &["commit", "-q", "-m", "init"]);
        dir
    }

    /// The system PATH, or with `hidden` tools, one directory of links to every other program
    /// on it (the first of each name, as PATH finds it).
    fn system_path(&self) -> Vec<PathBuf> {
        let system: Vec<PathBuf> =
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).collect();
        if self.hidden.is_empty() {
            return system;
        }
        let farm = self.path("path-without");
        if !farm.is_dir() {
            std::fs::create_dir_all(&farm).expect("farm");
            for dir in &system {
                for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
                    let name = e.file_name();
                    let link = farm.join(&name);
                    if self.hidden.iter().any(|h| name == *h) || link.exists() {
                        continue;
                    }
                    let _ = std::os::unix::fs::symlink(e.path(), link);
                }
            }
        }
        vec![farm]
    }

    /// Runs the composite action of `action.yml` with `inputs` over its defaults.
    fn action(&self, inputs: &[(&str, &str)], action_ref: &str) -> ActionRun {
        let text = std::fs::read_to_string(root().join("action.yml")).expect("action.yml");
        let action: serde_json::Value = serde_saphyr::from_str(&text).expect("action.yml is YAML");
        let mut ctx: BTreeMap<String, String> = BTreeMap::new();
        ctx.insert("github.token".into(), TOKEN.into());
        ctx.insert(
            "github.action_path".into(),
            root().to_string_lossy().into_owned(),
        );
        ctx.insert("github.action_repository".into(), REPO.into());
        ctx.insert("github.action_ref".into(), action_ref.into());
        ctx.insert(
            "runner.tool_cache".into(),
            self.path("tool-cache").to_string_lossy().into_owned(),
        );
        ctx.insert("runner.os".into(), self.os.into());
        ctx.insert("runner.arch".into(), self.arch.into());
        ctx.insert(
            "runner.temp".into(),
            self.path("temp").to_string_lossy().into_owned(),
        );
        let given: BTreeMap<&str, &str> = inputs.iter().copied().collect();
        for (name, spec) in action["inputs"].as_object().expect("inputs") {
            let value = match given.get(name.as_str()) {
                Some(v) => v.to_string(),
                None => resolve(spec["default"].as_str().unwrap_or(""), &ctx),
            };
            ctx.insert(format!("inputs.{name}"), value);
        }
        for name in given.keys() {
            assert!(
                ctx.contains_key(&format!("inputs.{name}")),
                "action.yml has no input {name}"
            );
        }

        let summary = self.path("summary.md");
        let path_file = self.path("path.txt");
        std::fs::write(&path_file, "").expect("GITHUB_PATH");
        let mut steps = Vec::new();
        let runs = action["runs"]["steps"].as_array().expect("steps");
        assert_eq!(action["runs"]["using"], "composite");
        for (i, step) in runs.iter().enumerate() {
            if let Some(uses) = step["uses"].as_str() {
                // actions/cache is GitHub's own; here the tool cache simply persists between
                // runs. It must cache where install.sh installs.
                assert!(uses.starts_with("actions/cache@"), "unexpected step {uses}");
                assert_eq!(
                    resolve(step["with"]["path"].as_str().unwrap_or(""), &ctx),
                    self.path("tool-cache/codefleet").to_string_lossy()
                );
                assert!(!resolve(step["with"]["key"].as_str().unwrap_or(""), &ctx).is_empty());
                continue;
            }
            let id = step["id"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("step{i}"));
            assert_eq!(step["shell"], "bash", "step {id} runs under bash");
            let output = self.path(&format!("output-{id}.txt"));
            std::fs::write(&output, "").expect("GITHUB_OUTPUT");
            let script = self.path(&format!("step-{id}.sh"));
            std::fs::write(&script, step["run"].as_str().expect("run")).expect("script");
            let mut path: Vec<PathBuf> = self.path_front.clone();
            // GITHUB_PATH entries, latest first, ahead of the system PATH.
            let added = std::fs::read_to_string(&path_file).expect("read GITHUB_PATH");
            path.extend(added.lines().rev().map(PathBuf::from));
            path.extend(self.system_path());
            let mut cmd = Command::new("bash");
            cmd.args(["--noprofile", "--norc", "-eo", "pipefail"])
                .arg(&script)
                .current_dir(self.workspace())
                .env_clear()
                .env("PATH", std::env::join_paths(path).expect("PATH"))
                .env("HOME", self.path("home"))
                .env("CI", "true")
                .env("GITHUB_ACTIONS", "true")
                .env("GITHUB_WORKSPACE", self.workspace())
                .env("GITHUB_OUTPUT", &output)
                .env("GITHUB_PATH", &path_file)
                .env("GITHUB_STEP_SUMMARY", &summary)
                .env("GITHUB_SERVER_URL", "https://github.invalid")
                .env("GITHUB_API_URL", &self.releases)
                .env(
                    "CODEFLEET_RELEASES_URL",
                    format!("{}/{REPO}/releases/download", self.releases),
                )
                .env("RUNNER_OS", self.os)
                .env("RUNNER_ARCH", self.arch)
                .env("RUNNER_TEMP", self.path("temp"))
                .env("RUNNER_TOOL_CACHE", self.path("tool-cache"))
                .env("XDG_CONFIG_HOME", self.path("home/config"))
                .env("XDG_CACHE_HOME", self.path("home/cache"))
                .env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1")
                .env("NO_COLOR", "1");
            for (k, v) in &self.job_env {
                cmd.env(k, v);
            }
            for (k, v) in step["env"].as_object().into_iter().flatten() {
                cmd.env(k, resolve(v.as_str().unwrap_or(""), &ctx));
            }
            let out = cmd.output().expect("bash");
            for (k, v) in parse_outputs(&std::fs::read_to_string(&output).expect("output")) {
                ctx.insert(format!("steps.{id}.outputs.{k}"), v);
            }
            let code = out.status.code().unwrap_or(-1);
            steps.push(StepRun {
                id,
                code,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            });
            if code != 0 {
                // A failed step ends the action: the rest have no `if: always()`.
                break;
            }
        }
        let outputs = action["outputs"]
            .as_object()
            .expect("outputs")
            .iter()
            .map(|(k, v)| {
                let value = v["value"].as_str().unwrap_or("");
                (k.clone(), resolve_lenient(value, &ctx))
            })
            .collect();
        ActionRun {
            steps,
            outputs,
            summary: std::fs::read_to_string(&summary).unwrap_or_default(),
        }
    }
}

/// `${{ context.path }}` expressions replaced from `ctx`; any other expression fails the test,
/// so action.yml stays within what this test can vouch for.
fn resolve(text: &str, ctx: &BTreeMap<String, String>) -> String {
    substitute(text, &|expr| {
        ctx.get(expr)
            .cloned()
            .unwrap_or_else(|| panic!("unknown expression `{expr}` in action.yml"))
    })
}

/// Like `resolve`, but a step output that was never set is empty, as on GitHub.
fn resolve_lenient(text: &str, ctx: &BTreeMap<String, String>) -> String {
    substitute(text, &|expr| {
        assert!(expr.starts_with("steps."), "unknown expression `{expr}`");
        ctx.get(expr).cloned().unwrap_or_default()
    })
}

fn substitute(text: &str, value: &dyn Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("${{") {
        out.push_str(&rest[..start]);
        let end = rest[start..].find("}}").expect("unclosed ${{") + start;
        out.push_str(&value(rest[start + 3..end].trim()));
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    out
}

/// `name=value` lines and `name<<DELIM` … `DELIM` blocks, as GitHub reads GITHUB_OUTPUT.
fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((name, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((name.to_string(), value.join("\n")));
        } else if let Some((name, value)) = line.split_once('=') {
            out.push((name.to_string(), value.to_string()));
        }
    }
    out
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_codefleet"))
}

fn pipeline(name: &str) -> String {
    root()
        .join("pipelines")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

/// A served release of the real binary for this host, and a runner pointed at it.
fn released() -> (tempfile::TempDir, FileServer, Runner) {
    let srv = tempfile::tempdir().expect("tempdir");
    publish(srv.path(), host_runner().2, &binary());
    let server = FileServer::start(srv.path());
    let runner = Runner::new(&server.url);
    (srv, server, runner)
}

#[test]
fn installs_the_checked_release_runs_the_pipeline_and_sets_the_outputs() {
    let (_srv, server, runner) = released();
    let repo = runner.repo("svc", &[("src/a.py", "fetch_user(1)\nfetch_users()\n")]);
    let run = runner.action(
        &[
            ("pipeline", &pipeline("rename-api.yml")),
            ("working-directory", "svc"),
            ("model-api-key", MODEL_KEY),
        ],
        &format!("v{VERSION}"),
    );
    assert!(run.ok(), "{}", run.log());
    let target = host_runner().2;
    let asset = format!("/{REPO}/releases/download/v{VERSION}/codefleet-{VERSION}-{target}.tar.gz");
    assert_eq!(
        server.requests(),
        [asset.clone(), format!("{asset}.sha256")]
    );
    let install = run.step("install");
    assert!(install.stdout.contains("sha256 "), "{}", run.log());

    // The binary sits in the tool cache, and later steps find it on PATH.
    let cached = runner
        .path("tool-cache")
        .join(format!("codefleet/{VERSION}/{target}/bin/codefleet"));
    assert_eq!(
        std::fs::read(&cached).expect("cached binary"),
        std::fs::read(binary()).expect("binary")
    );

    // Secrets are masked before anything else is printed.
    let out = &run.step("run").stdout;
    assert!(
        out.starts_with(&format!("::add-mask::{TOKEN}\n::add-mask::{MODEL_KEY}\n")),
        "{out}"
    );

    // The outputs, against the report they come from and the repository itself.
    let report_path = &run.outputs["report"];
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(report_path).expect("report")).expect("json");
    assert_eq!(run.outputs["run-id"], report["run_id"].as_str().unwrap());
    assert!(run.outputs["run-id"].len() > 10);
    assert_eq!(run.outputs["branch"], "codefleet/rename-api");
    assert_eq!(run.outputs["changed"], "true");
    assert_eq!(run.outputs["repos-changed"], "1");
    assert_eq!(run.outputs["failures"], "0");
    assert_eq!(run.outputs["exit-code"], "0");
    assert_eq!(
        sh(&repo, "git", &["show", "codefleet/rename-api:src/a.py"]),
        "load_user(1)\nfetch_users()\n"
    );
    // codefleet wrote the step summary (once: the action adds no copy of its own).
    assert_eq!(
        run.summary.matches("| repo |").count(),
        1,
        "{}",
        run.summary
    );
    assert!(
        run.summary.contains("`codefleet/rename-api`"),
        "{}",
        run.summary
    );
    // The tokens are in no file codefleet wrote.
    for text in [&run.summary, &std::fs::read_to_string(report_path).unwrap()] {
        assert!(!text.contains(TOKEN) && !text.contains(MODEL_KEY));
    }

    // A second job on the same runner: the tool cache serves it, nothing is downloaded.
    let again = runner.action(
        &[
            ("pipeline", &pipeline("rename-api.yml")),
            ("working-directory", "svc"),
        ],
        &format!("v{VERSION}"),
    );
    assert!(again.ok(), "{}", again.log());
    assert_eq!(server.requests().len(), 2);
    assert!(again.step("install").stdout.contains("from the tool cache"));
}

#[test]
fn a_tampered_binary_or_a_missing_checksum_is_refused() {
    let (srv, server, runner) = released();
    runner.repo("svc", &[("a.py", "fetch_user()\n")]);
    let target = host_runner().2;
    let dir = srv
        .path()
        .join(REPO)
        .join("releases/download")
        .join(format!("v{VERSION}"));
    let asset = dir.join(format!("codefleet-{VERSION}-{target}.tar.gz"));
    // Someone swapped the archive; the published checksum is the original's.
    let mut bytes = std::fs::read(&asset).expect("asset");
    bytes.extend_from_slice(b"tampered");
    std::fs::write(&asset, &bytes).expect("tamper");
    let inputs = [
        ("pipeline", pipeline("rename-api.yml")),
        ("working-directory", "svc".into()),
    ];
    let inputs: Vec<(&str, &str)> = inputs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let run = runner.action(&inputs, &format!("v{VERSION}"));
    let install = run.step("install");
    assert_eq!(install.code, 1, "{}", run.log());
    assert!(
        install
            .stdout
            .contains("::error title=codefleet install::checksum mismatch for codefleet-"),
        "{}",
        run.log()
    );
    assert_eq!(run.steps.len(), 1, "nothing runs after a refused install");
    assert!(!runner.path("tool-cache/codefleet").join(VERSION).exists());
    assert_eq!(
        std::fs::read_to_string(runner.path("path.txt")).unwrap(),
        ""
    );
    assert!(run.outputs["run-id"].is_empty());

    // No checksum published at all: refused too, not installed unchecked.
    std::fs::remove_file(dir.join(format!("codefleet-{VERSION}-{target}.tar.gz.sha256")))
        .expect("rm");
    let run = runner.action(&inputs, &format!("v{VERSION}"));
    assert_eq!(run.step("install").code, 1);
    assert!(
        run.step("install").stdout.contains("has no checksum"),
        "{}",
        run.log()
    );
    assert!(server.requests().len() >= 4);
    assert!(!runner.path("tool-cache/codefleet").join(VERSION).exists());
}

/// Runs only the install script, for a runner that need not be this machine.
fn install_only(runner: &Runner, version: &str) -> (i32, String, BTreeMap<String, String>) {
    let output = runner.path("install-output.txt");
    std::fs::write(&output, "").unwrap();
    let mut path: Vec<PathBuf> = runner.path_front.clone();
    path.extend(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    ));
    let out = Command::new("bash")
        .arg(root().join("action/install.sh"))
        .env_clear()
        .env("PATH", std::env::join_paths(path).unwrap())
        .env("HOME", runner.path("home"))
        .env("INPUT_VERSION", version)
        .env("ACTION_PATH", root())
        .env("ACTION_REPOSITORY", REPO)
        .env("ACTION_REF", "main")
        .env("RUNNER_OS", runner.os)
        .env("RUNNER_ARCH", runner.arch)
        .env("RUNNER_TEMP", runner.path("temp"))
        .env("RUNNER_TOOL_CACHE", runner.path("tool-cache"))
        .env("GITHUB_OUTPUT", &output)
        .env("GITHUB_PATH", runner.path("path.txt"))
        .env("GITHUB_API_URL", &runner.releases)
        .env(
            "CODEFLEET_RELEASES_URL",
            format!("{}/{REPO}/releases/download", runner.releases),
        )
        .output()
        .expect("bash");
    let outputs = parse_outputs(&std::fs::read_to_string(&output).unwrap())
        .into_iter()
        .collect();
    (
        out.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
        outputs,
    )
}

/// A `cargo` on PATH that records its arguments and "installs" a script where `--root` says:
/// building the crate for real would take minutes; what is checked is the script's call.
fn stub_cargo(runner: &mut Runner) -> PathBuf {
    let bin = runner.path("stub-bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = runner.path("cargo-args.txt");
    let script = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nwhile [ $# -gt 0 ]; do [ \"$1\" = --root ] && root=$2; shift; done\nmkdir -p \"$root/bin\" && printf '#!/bin/sh\\necho built\\n' > \"$root/bin/codefleet\" && chmod +x \"$root/bin/codefleet\"\n",
        log.display()
    );
    let cargo = bin.join("cargo");
    std::fs::write(&cargo, script).unwrap();
    sh(&bin, "chmod", &["+x", "cargo"]);
    runner.path_front.push(bin);
    log
}

#[test]
fn each_runner_gets_the_asset_release_yml_builds_and_others_build_from_source() {
    let srv = tempfile::tempdir().unwrap();
    let dummy = srv.path().join("dummy");
    std::fs::write(&dummy, "#!/bin/sh\n").unwrap();
    let release =
        std::fs::read_to_string(root().join(".github/workflows/release.yml")).expect("release.yml");
    let runners = [
        ("Linux", "X64", "x86_64-unknown-linux-gnu", "tar.gz"),
        ("Linux", "ARM64", "aarch64-unknown-linux-gnu", "tar.gz"),
        ("macOS", "ARM64", "aarch64-apple-darwin", "tar.gz"),
        ("Windows", "X64", "x86_64-pc-windows-msvc", "zip"),
    ];
    for (_, _, target, _) in runners {
        publish(srv.path(), target, &dummy);
        assert!(
            release.contains(target),
            "release.yml does not build {target}"
        );
    }
    assert!(
        release.contains("codefleet-${VERSION}-${TARGET}"),
        "release.yml names assets otherwise"
    );
    let server = FileServer::start(srv.path());
    for (os, arch, target, ext) in runners {
        let mut runner = Runner::new(&server.url);
        runner.os = os;
        runner.arch = arch;
        let (code, log, outputs) = install_only(&runner, VERSION);
        assert_eq!(code, 0, "{os} {arch}: {log}");
        assert_eq!(outputs["target"], target);
        assert_eq!(outputs["source"], "false");
        let exe = if os == "Windows" {
            "codefleet.exe"
        } else {
            "codefleet"
        };
        let dir = runner
            .path("tool-cache")
            .join(format!("codefleet/{VERSION}/{target}/bin"));
        assert_eq!(std::fs::read(dir.join(exe)).unwrap(), b"#!/bin/sh\n");
        assert_eq!(outputs["path"], dir.to_string_lossy());
        assert!(
            server.requests().contains(&format!(
                "/{REPO}/releases/download/v{VERSION}/codefleet-{VERSION}-{target}.{ext}"
            )),
            "{os} {arch}"
        );
    }

    // An Intel Mac has no release binary: built from the action's checkout.
    let mut runner = Runner::new(&server.url);
    runner.os = "macOS";
    runner.arch = "X64";
    let args = stub_cargo(&mut runner);
    let (code, log, outputs) = install_only(&runner, VERSION);
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["source"], "true");
    let args = std::fs::read_to_string(args).expect("cargo ran");
    let args: Vec<&str> = args.lines().collect();
    assert_eq!(
        &args[..4],
        ["install", "--locked", "--path", root().to_str().unwrap()]
    );
    assert_eq!(args[4], "--root");
    assert_eq!(format!("{}/bin", args[5]), outputs["path"]);
    assert!(log.contains("no release binary for macOS X64"), "{log}");
}

#[test]
fn a_missing_release_or_version_source_builds_and_latest_asks_the_api() {
    let srv = tempfile::tempdir().unwrap();
    let dummy = srv.path().join("dummy");
    std::fs::write(&dummy, "#!/bin/sh\n").unwrap();
    let (_, _, target) = host_runner();
    publish(srv.path(), target, &dummy);
    // The API's answer for `latest`.
    let api = srv.path().join(format!("repos/{REPO}/releases"));
    std::fs::create_dir_all(&api).unwrap();
    std::fs::write(
        api.join("latest"),
        format!("{{\n  \"url\": \"x\",\n  \"tag_name\": \"v{VERSION}\",\n  \"name\": \"v{VERSION}\"\n}}\n"),
    )
    .unwrap();
    let server = FileServer::start(srv.path());

    let runner = Runner::new(&server.url);
    let (code, log, outputs) = install_only(&runner, "latest");
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["version"], VERSION);
    assert_eq!(outputs["source"], "false");

    // A version with no release: a warning, then a build from source.
    let mut runner = Runner::new(&server.url);
    let args = stub_cargo(&mut runner);
    let (code, log, outputs) = install_only(&runner, "v1.0.0");
    assert_eq!(code, 0, "{log}");
    assert!(
        log.contains("::warning title=codefleet install::no release asset"),
        "{log}"
    );
    assert_eq!(outputs["source"], "true");
    assert!(
        std::fs::read_to_string(&args)
            .unwrap()
            .starts_with("install\n--locked\n")
    );

    // `source` never downloads.
    let before = server.requests().len();
    let mut runner = Runner::new(&server.url);
    stub_cargo(&mut runner);
    let (code, log, outputs) = install_only(&runner, "source");
    assert_eq!(code, 0, "{log}");
    assert_eq!(outputs["version"], "source");
    assert_eq!(server.requests().len(), before);
}

#[test]
fn fail_on_decides_whether_a_failed_or_changing_run_fails_the_step() {
    let (_srv, _server, runner) = released();
    // tools/stamp.py is not there: the reviewed edits fail, exit 1.
    runner.repo("svc", &[("src/a.py", "fetch_user(1)\n")]);
    let failing = pipeline("migrate-utcnow.yml");
    let run = runner.action(
        &[("pipeline", &failing), ("working-directory", "svc")],
        &format!("v{VERSION}"),
    );
    let step = run.step("run");
    assert_eq!(step.code, 1, "{}", run.log());
    assert_eq!(run.outputs["exit-code"], "1");
    assert_eq!(run.outputs["changed"], "false");
    assert_ne!(run.outputs["failures"], "0");
    // codefleet's annotation for the failed file, on the step's output.
    assert!(
        step.stderr
            .contains("::error file=tools/stamp.py,title=codefleet task migrate utcnow::"),
        "{}",
        run.log()
    );
    assert!(run.summary.contains("failed"), "{}", run.summary);

    let run = runner.action(
        &[
            ("pipeline", &failing),
            ("working-directory", "svc"),
            ("fail-on", "never"),
        ],
        &format!("v{VERSION}"),
    );
    assert!(run.ok(), "{}", run.log());
    assert_eq!(run.outputs["exit-code"], "1");

    // `change`: a run that changes something fails the step (a gate), one that does not passes.
    let rename = pipeline("rename-api.yml");
    let run = runner.action(
        &[
            ("pipeline", &rename),
            ("working-directory", "svc"),
            ("fail-on", "change"),
            ("args", "--dry-run"),
        ],
        &format!("v{VERSION}"),
    );
    assert_eq!(run.step("run").code, 3, "{}", run.log());
    assert!(run.step("run").stdout.contains("(fail-on: change)"));
    let run = runner.action(
        &[
            ("pipeline", &rename),
            ("working-directory", "svc"),
            ("fail-on", "change"),
            ("args", "--dry-run --var old=nothing_like_it"),
        ],
        &format!("v{VERSION}"),
    );
    assert!(run.ok(), "{}", run.log());
    assert_eq!(run.outputs["changed"], "false");

    // A usage error: exit 2, said as an annotation, fails the step.
    let run = runner.action(
        &[("pipeline", "no-such.yml"), ("working-directory", "svc")],
        &format!("v{VERSION}"),
    );
    assert_eq!(run.step("run").code, 2, "{}", run.log());
    assert!(
        run.step("run")
            .stdout
            .contains("::error title=codefleet::codefleet exited 2")
    );
    let run = runner.action(
        &[
            ("pipeline", &rename),
            ("working-directory", "svc"),
            ("fail-on", "sometimes"),
        ],
        &format!("v{VERSION}"),
    );
    assert_eq!(run.step("run").code, 2);
}

#[test]
fn repos_become_repo_flags_and_args_split_like_shell_words_without_expansion() {
    let (_srv, _server, runner) = released();
    let a = runner.repo("a", &[("x.py", "fetch_user(1)\n")]);
    let b = runner.repo("b", &[("y.js", "fetch_user(2);\n")]);
    let run = runner.action(
        &[
            ("pipeline", &pipeline("rename-api.yml")),
            ("repos", "a\n  b\n"),
            ("args", "--var 'new=$HOME' --var \"old=fetch_user\""),
        ],
        &format!("v{VERSION}"),
    );
    assert!(run.ok(), "{}", run.log());
    assert_eq!(run.outputs["repos-changed"], "2");
    assert_eq!(
        sh(&a, "git", &["show", "codefleet/rename-api:x.py"]),
        "$HOME(1)\n"
    );
    assert_eq!(
        sh(&b, "git", &["show", "codefleet/rename-api:y.js"]),
        "$HOME(2);\n"
    );
    // The summary has a row per repository.
    assert!(
        run.summary.contains("| a |") && run.summary.contains("| b |"),
        "{}",
        run.summary
    );
    // Unbalanced quotes: refused, not run with the words silently dropped.
    let run = runner.action(
        &[
            ("pipeline", &pipeline("rename-api.yml")),
            ("repos", "a"),
            ("args", "--var \"new=x"),
        ],
        &format!("v{VERSION}"),
    );
    assert_eq!(run.step("run").code, 2, "{}", run.log());
    assert!(
        run.step("run")
            .stdout
            .contains("::error title=codefleet::cannot split the input `args`"),
        "{}",
        run.log()
    );
}

/// Finds a tool installed by .ci/run (its venv) or on PATH. Under CI it must be there; on a
/// developer's machine without it the check is skipped with a message.
fn tool(name: &str) -> Option<PathBuf> {
    let venv = root().join("target/actionlint-venv/bin").join(name);
    if venv.is_file() {
        return Some(venv);
    }
    let found = std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
        .map(|d| d.join(name))
        .find(|p| p.is_file());
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{name} is missing under CI: .ci/run installs it into target/actionlint-venv"
        );
        eprintln!("skipped: {name} is not installed (bash .ci/run installs it)");
    }
    found
}

#[test]
fn actionlint_and_shellcheck_accept_the_action_and_the_workflows() {
    let Some(actionlint) = tool("actionlint") else {
        return;
    };
    let mut files: Vec<PathBuf> = Vec::new();
    for dir in [".github/workflows", "examples/workflows"] {
        for e in std::fs::read_dir(root().join(dir)).expect(dir) {
            let p = e.expect("entry").path();
            if p.extension().is_some_and(|x| x == "yml") {
                files.push(p);
            }
        }
    }
    assert!(files.len() >= 6, "{files:?}");
    let mut cmd = Command::new(&actionlint);
    // shellcheck from the same venv checks every `run:` script too.
    if let Some(sc) = tool("shellcheck") {
        cmd.arg("-shellcheck").arg(sc);
    }
    let out = cmd
        .args(&files)
        .current_dir(root())
        .output()
        .expect("actionlint");
    assert!(
        out.status.success(),
        "actionlint:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if let Some(sc) = tool("shellcheck") {
        let out = Command::new(sc)
            .args(["action/install.sh", "action/run.sh"])
            .current_dir(root())
            .output()
            .expect("shellcheck");
        assert!(
            out.status.success(),
            "shellcheck:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// The workflow the README offers to copy.
fn readme_workflow() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let section = readme
        .split("### Use in GitHub Actions")
        .nth(1)
        .expect("README has a \"Use in GitHub Actions\" section");
    let start = section.find("```yaml\n").expect("a yaml block") + "```yaml\n".len();
    let end = section[start..].find("```").expect("closed block") + start;
    section[start..end].to_string()
}

#[test]
fn the_readme_workflow_uses_real_inputs_and_outputs_and_lints() {
    let workflow = readme_workflow();
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let wf: serde_json::Value = serde_saphyr::from_str(&workflow).expect("the workflow is YAML");
    let step = wf["jobs"]["run"]["steps"]
        .as_array()
        .expect("steps")
        .iter()
        .find(|s| s["id"] == "fleet")
        .expect("the codefleet step");
    for name in step["with"].as_object().expect("with").keys() {
        assert!(action["inputs"].get(name).is_some(), "no input {name}");
    }
    for out in [
        "changed",
        "branch",
        "pull-request-operation",
        "pull-request-url",
        "pull-requests",
        "forge",
    ] {
        assert!(action["outputs"].get(out).is_some(), "no output {out}");
    }
    let Some(actionlint) = tool("actionlint") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let wf_dir = dir.path().join(".github/workflows");
    std::fs::create_dir_all(&wf_dir).unwrap();
    std::fs::write(wf_dir.join("codefleet.yml"), &workflow).unwrap();
    let out = Command::new(actionlint)
        .arg(".github/workflows/codefleet.yml")
        .current_dir(dir.path())
        .output()
        .expect("actionlint");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn the_model_key_reaches_the_model_and_is_masked() {
    let (_srv, _server, mut runner) = released();
    runner.repo("svc", &[("src/a.py", "def fetch_user(i):\n    return i\n")]);
    let model = ModelServer::with_handler(|_| Step::text("yes\nsrc/a.py:1 def fetch_user(i):"));
    runner
        .job_env
        .push(("CODEFLEET_MODEL_BASE_URL".into(), model.base_url()));
    let run = runner.action(
        &[
            ("pipeline", &pipeline("survey.yml")),
            ("working-directory", "svc"),
            ("model-api-key", MODEL_KEY),
        ],
        &format!("v{VERSION}"),
    );
    assert!(run.ok(), "{}", run.log());
    let requests = model.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {MODEL_KEY}").as_str())
    );
    assert!(
        run.step("run")
            .stdout
            .contains(&format!("::add-mask::{MODEL_KEY}\n"))
    );
    let report = std::fs::read_to_string(&run.outputs["report"]).unwrap();
    assert!(report.contains("src/a.py:1 def fetch_user(i):"), "{report}");
    assert!(!report.contains(MODEL_KEY) && !run.summary.contains(MODEL_KEY));
    assert_eq!(run.outputs["changed"], "false");
}

#[test]
fn every_example_workflow_documents_its_permissions_and_the_token_limits() {
    let dir = root().join("examples/workflows");
    let mut names = Vec::new();
    for e in std::fs::read_dir(&dir).expect("examples/workflows") {
        let path = e.expect("entry").path();
        let text = std::fs::read_to_string(&path).expect("read");
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        for needle in [
            "contents: write",
            "pull-requests: write",
            "GitHub App",
            "GITHUB_TOKEN",
        ] {
            assert!(text.contains(needle), "{name} does not mention {needle}");
        }
        assert!(text.starts_with("# "), "{name} opens with what it does");
        let wf: serde_json::Value = serde_saphyr::from_str(&text).expect("YAML");
        assert!(wf["jobs"].is_object(), "{name}");
        names.push(name);
    }
    names.sort();
    assert_eq!(
        names,
        [
            "campaign-status.yml",
            "dispatch-pipeline.yml",
            "model-docstrings.yml",
            "org-refactor-sharded.yml",
            "scheduled-maintenance.yml"
        ]
    );
}

/// A remote `srv/acme/<name>.git` under the runner with `a.txt` on `main`; its `file://` URL.
/// The fake GitHub knows it as `acme/<name>`.
fn remote(runner: &Runner, name: &str, content: &str) -> String {
    let work = runner.repo(&format!("upstream-{name}"), &[("a.txt", content)]);
    let bare = runner.path(&format!("srv/acme/{name}.git"));
    std::fs::create_dir_all(bare.parent().unwrap()).unwrap();
    sh(
        &work,
        "git",
        &["clone", "-q", "--bare", ".", bare.to_str().unwrap()],
    );
    format!("file://{}", bare.display())
}

/// Upstream commits `content` as `a.txt` on the remote's `main`.
fn upstream(runner: &Runner, name: &str, content: &str) {
    let work = runner.workspace().join(format!("upstream-{name}"));
    std::fs::write(work.join("a.txt"), content).unwrap();
    sh(&work, "git", &["commit", "-q", "-am", "upstream"]);
    let bare = runner.path(&format!("srv/acme/{name}.git"));
    sh(
        &work,
        "git",
        &["push", "-q", bare.to_str().unwrap(), "main"],
    );
}

/// A pipeline shouting `hello` in `a.txt` of `repos`, with a pull request.
fn greet_pipeline(runner: &Runner, repos: &[&str]) -> String {
    let list: String = repos.iter().map(|r| format!("  - url: {r}\n")).collect();
    let p = runner.path("greet.yml");
    std::fs::write(
        &p,
        format!(
            "version: 1\nname: greet\nrepos:\n{list}pr:\n  title: \"greet {{{{ repo.name }}}}\"\n\
             tasks:\n  - name: shout\n    replace: {{ find: hello, with: HELLO }}\n"
        ),
    )
    .unwrap();
    p.to_string_lossy().into_owned()
}

fn pull_requests(run: &ActionRun) -> serde_json::Value {
    serde_json::from_str(&run.outputs["pull-requests"])
        .unwrap_or_else(|e| panic!("pull-requests is not JSON ({e}): {}", run.log()))
}

/// The pull request outputs, as peter-evans/create-pull-request names them: through a real
/// run against the fake GitHub (checked against GitHub's OpenAPI description) and real remotes.
fn pull_request_outputs_follow_the_pull_request(hidden: &[&'static str]) {
    let (_srv, _server, mut runner) = released();
    runner.hidden = hidden.to_vec();
    let gh = crate::support::github::FakeGitHub::start(TOKEN);
    runner
        .job_env
        .push(("CODEFLEET_GITHUB_API_URL".into(), gh.url.clone()));
    let a = remote(&runner, "a", "hello a\n");
    let b = remote(&runner, "b", "hello b\n");
    let fleet = greet_pipeline(&runner, &[&a, &b]);
    let v = format!("v{VERSION}");
    let number_of = |repo: &str| {
        gh.prs()
            .iter()
            .find(|p| p.repo == repo)
            .map(|p| p.number)
            .expect("a pull request")
    };

    // One repository: created.
    let run = runner.action(&[("pipeline", &fleet), ("repos", &a), ("pr", "true")], &v);
    assert!(run.ok(), "{}", run.log());
    let n = number_of("acme/a");
    assert_eq!(run.outputs["pull-request-operation"], "created");
    assert_eq!(run.outputs["pull-request-number"], n.to_string());
    let url = run.outputs["pull-request-url"].clone();
    assert!(url.ends_with(&format!("/acme/a/pull/{n}")), "{url}");
    assert_eq!(
        pull_requests(&run),
        serde_json::json!([{"repo": "acme/a", "number": n, "url": url, "operation": "created", "forge": "github"}])
    );
    assert_eq!(run.outputs["forge"], "github");

    // A fleet: `pull-requests` lists each; the single-repository outputs say nothing.
    upstream(&runner, "a", "hello there\n");
    let run = runner.action(&[("pipeline", &fleet), ("pr", "true")], &v);
    assert!(run.ok(), "{}", run.log());
    let m = number_of("acme/b");
    let listed = pull_requests(&run);
    let entries = listed.as_array().expect("an array");
    assert_eq!(entries.len(), 2, "{listed}");
    assert_eq!(
        entries[0],
        serde_json::json!({"repo": "acme/a", "number": n, "url": url, "operation": "updated", "forge": "github"})
    );
    assert_eq!(
        (
            &entries[1]["repo"],
            &entries[1]["number"],
            &entries[1]["operation"]
        ),
        (
            &serde_json::json!("acme/b"),
            &serde_json::json!(m),
            &serde_json::json!("created")
        )
    );
    assert!(
        entries[1]["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/acme/b/pull/{m}"))
    );
    assert_eq!(run.outputs["pull-request-operation"], "none");
    assert_eq!(run.outputs["pull-request-number"], "");
    assert_eq!(run.outputs["pull-request-url"], "");

    // Upstream made the change itself: the empty change's pull request is closed.
    upstream(&runner, "a", "HELLO there\n");
    let run = runner.action(
        &[
            ("pipeline", &fleet),
            ("repos", &a),
            ("pr", "true"),
            ("args", "--close-empty-prs"),
        ],
        &v,
    );
    assert!(run.ok(), "{}", run.log());
    assert_eq!(run.outputs["pull-request-operation"], "closed");
    assert_eq!(run.outputs["pull-request-number"], n.to_string());
    let closed = gh
        .prs()
        .into_iter()
        .find(|p| p.number == n && p.repo == "acme/a");
    assert_eq!(closed.expect("the pull request").state, "closed");

    // Nothing to do: no pull request, operation none.
    let run = runner.action(&[("pipeline", &fleet), ("repos", &a), ("pr", "true")], &v);
    assert!(run.ok(), "{}", run.log());
    assert_eq!(run.outputs["pull-request-operation"], "none");
    assert_eq!(run.outputs["pull-request-number"], "");
    let listed = pull_requests(&run);
    assert!(
        listed
            .as_array()
            .expect("an array")
            .iter()
            .all(|e| e["operation"] == "none"),
        "{listed}"
    );
}

#[test]
fn pull_request_outputs_name_what_happened_to_each_pull_request() {
    pull_request_outputs_follow_the_pull_request(&[]);
}

#[test]
fn pull_request_outputs_are_the_same_without_jq() {
    pull_request_outputs_follow_the_pull_request(&["jq"]);
}
