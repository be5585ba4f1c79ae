//! Hostile edits: paths that escape the repository, go through symlinks, into `.git`, or at
//! denied and secret-looking files, sent by a model, written in an `edits:` file or a patch,
//! or given to `codefleet apply` — each refused when applied while the good edit beside it
//! lands; giant model outputs; and the pre-send secret scan.

use std::path::{Path, PathBuf};

use crate::support::fixture::{Fixture, exited_cleanly, said, snapshot};
use crate::support::model_server::{ModelServer, Step};

const PY: &[u8] = b"def add(a, b):\n    return a + b\n";
const PY_EDITED: &[u8] = b"def plus(a, b):\n    return a + b\n";

/// The hostile paths; `{outside}` is the absolute path of a directory beside the repository.
const PATHS: &[&str] = &[
    "../outside/target.txt",
    "../outside/new.txt",
    "../../escape.txt",
    "src/../../outside/new.txt",
    "src\\..\\..\\outside\\new.txt",
    "{outside}/new.txt",
    "{outside}/target.txt",
    ".git/config",
    ".git/hooks/pre-commit",
    ".GIT/hooks/post-checkout",
    ".git./hooks/post-merge",
    "sub/.git/config",
    "link_out/new.txt",
    "link_out/target.txt",
    "link_file",
    "link_dir/a.py",
    ".env",
    ".env.local",
    "config/.env.production",
    "certs/server.pem",
    "deploy/id_rsa",
    "deploy/id_ed25519.pub",
    "TLS.KEY",
    "store.p12",
    ".aws/credentials",
    "gcloud/credentials.json",
    ".netrc",
    "secrets/token.txt",
];

pub fn model_cases() -> usize {
    PATHS.len()
}
pub fn edits_cases() -> usize {
    PATHS.len()
}
pub fn patch_cases() -> usize {
    PATHS.len()
}
/// `apply` has no pipeline, so no user deny list: `secrets/**` is not denied there.
fn apply_paths() -> impl Iterator<Item = &'static str> {
    PATHS.iter().copied().filter(|p| !p.starts_with("secrets/"))
}
pub fn apply_cases() -> usize {
    apply_paths().count()
}

/// A repository with a good file, a denied `.env`, a user-denied file, and committed symlinks
/// that lead out of it (`link_out` → a directory beside it, `link_file` → a file there) or to a
/// directory inside it (`link_dir` → `src`).
fn hostile_repo(f: &Fixture, name: &str) -> (PathBuf, PathBuf) {
    let outside = f.path("outside");
    std::fs::create_dir_all(&outside).expect("outside");
    std::fs::write(outside.join("target.txt"), "untouched\n").expect("target");
    let repo = f.repo_bytes(
        name,
        &[
            ("src/a.py", PY),
            (".env", b"SECRET=1\n"),
            ("secrets/token.txt", b"tok\n"),
        ],
    );
    std::os::unix::fs::symlink("../outside", repo.join("link_out")).expect("symlink");
    std::os::unix::fs::symlink("../outside/target.txt", repo.join("link_file")).expect("symlink");
    std::os::unix::fs::symlink("src", repo.join("link_dir")).expect("symlink");
    f.git(&repo, &["add", "-A"]);
    f.git(&repo, &["commit", "-q", "-m", "links"]);
    (repo, outside)
}

fn resolve(path: &str, outside: &Path) -> String {
    path.replace("{outside}", &outside.display().to_string())
}

fn block(path: &str, search: &str, replace: &str) -> String {
    format!("{path}\n```\n<<<<<<< SEARCH\n{search}=======\n{replace}>>>>>>> REPLACE\n```\n")
}

/// A reply with the hostile edit first and a good one after it.
fn reply(path: &str) -> String {
    format!(
        "{}\n{}",
        block(path, "", "pwned\n"),
        block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n")
    )
}

/// After a run: the good edit is the branch's only change, the checkout and the directory
/// beside the repository are as they were, nothing escaped above the fixture.
fn check_run(
    f: &Fixture,
    repo: &Path,
    branch: &str,
    before: &std::collections::BTreeMap<String, Vec<u8>>,
    outside_before: &std::collections::BTreeMap<String, Vec<u8>>,
    case: &str,
    out: &std::process::Output,
) {
    assert!(exited_cleanly(out), "{case}: {}", said(out));
    assert_eq!(out.status.code(), Some(1), "{case}: {}", said(out));
    assert!(
        f.tip(repo, branch).is_some(),
        "{case}: no branch: {}",
        said(out)
    );
    assert_eq!(
        f.git(repo, &["diff", "--name-only", "main", branch]),
        "src/a.py\n",
        "{case}: only the good edit lands"
    );
    assert_eq!(
        f.at(repo, branch, "src/a.py").as_deref(),
        Some(PY_EDITED),
        "{case}"
    );
    assert_eq!(&snapshot(repo), before, "{case}: the checkout changed");
    assert_eq!(
        &snapshot(&f.path("outside")),
        outside_before,
        "{case}: outside changed"
    );
    assert!(!f.path("escape.txt").exists(), "{case}");
    assert!(!f.dir.path().parent().unwrap().join("escape.txt").exists());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("refused")
            || stdout.contains("outside")
            || stdout.contains("symlink")
            || stdout.contains("denied")
            || stdout.contains("invalid")
            || stdout.contains("path"),
        "{case}: no reason given: {}",
        said(out)
    );
}

#[test]
fn hostile_paths_in_model_replies_are_refused_and_the_good_edit_lands() {
    let mut tried = 0;
    for (i, path) in PATHS.iter().enumerate() {
        let f = Fixture::new();
        let (repo, outside) = hostile_repo(&f, "svc");
        let hostile = resolve(path, &outside);
        let text = reply(&hostile);
        let server = ModelServer::with_handler(move |_| Step::text(&text));
        let yaml = format!(
            "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff, reflections: 0 }}\npolicy: {{ deny: [\"secrets/**\"] }}\ntasks:\n  - name: edit\n    prompt: Tidy up.\n",
            server.base_url()
        );
        let p = f.file("p.yml", yaml.as_bytes());
        let before = snapshot(&repo);
        let outside_before = snapshot(&outside);
        let out = f.run(&repo, &["run", p.to_str().unwrap()]);
        let case = format!("model case {i} `{hostile}`");
        check_run(
            &f,
            &repo,
            "codefleet/t",
            &before,
            &outside_before,
            &case,
            &out,
        );
        tried += 1;
    }
    assert_eq!(tried, model_cases());
}

#[test]
fn hostile_paths_in_edits_files_are_refused_and_the_good_edit_lands() {
    let mut tried = 0;
    for (i, path) in PATHS.iter().enumerate() {
        let f = Fixture::new();
        let (repo, outside) = hostile_repo(&f, "svc");
        let hostile = resolve(path, &outside);
        f.file("pipes/edits.md", reply(&hostile).as_bytes());
        let p = f.file(
            "pipes/p.yml",
            b"version: 1\nname: t\npolicy: { deny: [\"secrets/**\"] }\ntasks:\n  - name: edit\n    edits: edits.md\n    format: diff\n",
        );
        let before = snapshot(&repo);
        let outside_before = snapshot(&outside);
        let out = f.run(&repo, &["run", p.to_str().unwrap()]);
        let case = format!("edits case {i} `{hostile}`");
        check_run(
            &f,
            &repo,
            "codefleet/t",
            &before,
            &outside_before,
            &case,
            &out,
        );
        tried += 1;
    }
    assert_eq!(tried, edits_cases());
}

fn patch(path: &str) -> String {
    format!(
        "--- /dev/null\n+++ b/{path}\n@@ -0,0 +1 @@\n+pwned\n--- a/src/a.py\n+++ b/src/a.py\n@@ -1,2 +1,2 @@\n-def add(a, b):\n+def plus(a, b):\n     return a + b\n"
    )
}

#[test]
fn hostile_paths_in_patches_are_refused_and_the_good_hunk_lands() {
    let mut tried = 0;
    for (i, path) in PATHS.iter().enumerate() {
        let f = Fixture::new();
        let (repo, outside) = hostile_repo(&f, "svc");
        let hostile = resolve(path, &outside);
        f.file("pipes/x.diff", patch(&hostile).as_bytes());
        // A patch is all-or-nothing by default (`atomic: task`); per file, the good hunk lands.
        let p = f.file(
            "pipes/p.yml",
            b"version: 1\nname: t\npolicy: { deny: [\"secrets/**\"] }\ntasks:\n  - name: edit\n    patch: x.diff\n    atomic: file\n",
        );
        let before = snapshot(&repo);
        let outside_before = snapshot(&outside);
        let out = f.run(&repo, &["run", p.to_str().unwrap()]);
        let case = format!("patch case {i} `{hostile}`");
        check_run(
            &f,
            &repo,
            "codefleet/t",
            &before,
            &outside_before,
            &case,
            &out,
        );
        tried += 1;
    }
    assert_eq!(tried, patch_cases());
}

#[test]
fn hostile_paths_given_to_apply_are_refused_on_disk_and_the_good_edit_lands() {
    let mut tried = 0;
    for (i, path) in apply_paths().enumerate() {
        let f = Fixture::new();
        let (repo, outside) = hostile_repo(&f, "svc");
        let hostile = resolve(path, &outside);
        // `apply` works on the directory, where the links are real.
        let mut policy_dir = snapshot(&repo);
        let reply_file = f.file("reply.md", reply(&hostile).as_bytes());
        let outside_before = snapshot(&outside);
        let out = f.run(
            &repo,
            &["apply", "-f", "diff", reply_file.to_str().unwrap()],
        );
        let case = format!("apply case {i} `{hostile}`");
        assert!(exited_cleanly(&out), "{case}: {}", said(&out));
        assert_eq!(out.status.code(), Some(1), "{case}: {}", said(&out));
        assert_eq!(
            std::fs::read(repo.join("src/a.py")).unwrap(),
            PY_EDITED,
            "{case}"
        );
        policy_dir.insert("src/a.py".into(), PY_EDITED.to_vec());
        let mut after = snapshot(&repo);
        after.remove(".git/index");
        policy_dir.remove(".git/index");
        assert_eq!(after, policy_dir, "{case}: only src/a.py changed");
        assert_eq!(
            snapshot(&outside),
            outside_before,
            "{case}: outside changed"
        );
        assert!(!f.path("escape.txt").exists(), "{case}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("E063"),
            "{case}: {}",
            said(&out)
        );
        tried += 1;
    }
    assert_eq!(tried, apply_cases());
}

pub const GIANT_CASES: usize = 3;

#[test]
fn giant_model_outputs_fail_cleanly_and_write_nothing_wrong() {
    let huge_garbage = "lorem ipsum dolor sit amet\n".repeat(1 << 20); // 27 MiB
    let oversize = block(
        "src/a.py",
        "def add(a, b):\n",
        &"# padding padding padding padding padding padding padding pad\n".repeat(40_000),
    );
    let many = block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n").repeat(20_000);
    // (name, reply, the file on the branch after, the exit code)
    let cases: [(&str, String, Option<&[u8]>, i32); GIANT_CASES] = [
        ("27 MiB of prose without an edit", huge_garbage, None, 0),
        ("a 2.5 MB file over max_file_size", oversize, None, 1),
        // The first block applies and the other 19 999 fail on the edited text: by default
        // (`atomic: file`) the file keeps none of them rather than half its edits.
        ("20 000 edit blocks", many, None, 1),
    ];
    let mut tried = 0;
    for (name, text, landed, code) in cases {
        let f = Fixture::new();
        let repo = f.repo_bytes("svc", &[("src/a.py", PY)]);
        let server = ModelServer::with_handler(move |_| Step::text(&text));
        let yaml = format!(
            "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff, reflections: 0 }}\ntasks:\n  - name: edit\n    files: [\"src/*.py\"]\n    prompt: Tidy up.\n",
            server.base_url()
        );
        let p = f.file("p.yml", yaml.as_bytes());
        let before = snapshot(&repo);
        let out = f.run(&repo, &["run", p.to_str().unwrap()]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        assert_eq!(snapshot(&repo), before, "{name}");
        let on_branch = f.at(&repo, "codefleet/t", "src/a.py");
        assert!(
            on_branch.as_deref() == landed,
            "{name}: src/a.py on the branch is {:?} bytes: {}",
            on_branch.map(|b| b.len()),
            said(&out)
        );
        assert_eq!(out.status.code(), Some(code), "{name}: {}", said(&out));
        tried += 1;
    }
    assert_eq!(tried, GIANT_CASES);
}

pub const SECRET_CASES: usize = 9;

#[test]
fn secret_looking_text_is_never_sent_unless_the_task_allows_it() {
    // Built at run time, so the repository holds no secret-shaped literal.
    let key = format!(
        "-----BEGIN RSA {}-----\nMIIEabc\n-----END RSA PRIVATE KEY-----\n",
        "PRIVATE KEY"
    );
    let aws = format!(
        "aws_access_key_id = AKIA{}\naws_secret_access_key = {}\n",
        "IOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    );
    let shapes: Vec<(&str, String)> = vec![
        ("PEM private key", key.clone()),
        ("AWS key pair", aws),
        (
            "GitHub token",
            format!("TOKEN = \"ghp_{}\"\n", "a1".repeat(18)),
        ),
        (
            "Slack token",
            format!("hook = \"xoxb-{}-x\"\n", "12345678901"),
        ),
        (
            "Google API key",
            format!("KEY = \"AIza{}\"\n", "Q".repeat(35)),
        ),
        (
            "OpenAI key",
            format!("OPENAI = \"sk-proj-{}\"\n", "k".repeat(40)),
        ),
        (
            "Stripe key",
            format!("STRIPE = \"sk_live_{}\"\n", "s".repeat(24)),
        ),
    ];
    let mut tried = 0;
    for (name, secret) in &shapes {
        let f = Fixture::new();
        let config = format!("# settings\n{secret}");
        let repo = f.repo_bytes(
            "svc",
            &[("src/a.py", PY), ("src/config.py", config.as_bytes())],
        );
        let good = block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n");
        let server = ModelServer::with_handler(move |_| Step::text(&good));
        let yaml = format!(
            "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff, reflections: 0 }}\ntasks:\n  - name: edit\n    files: [\"src/*.py\"]\n    prompt: Tidy up.\n",
            server.base_url()
        );
        let p = f.file("p.yml", yaml.as_bytes());
        let out = f.run(&repo, &["--json", "run", p.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(1), "{name}: {}", said(&out));
        let wire: String = server.requests().iter().map(|r| r.raw.clone()).collect();
        assert!(wire.contains("def add"), "{name}: the clean file is sent");
        assert!(
            !wire.contains("# settings"),
            "{name}: the secret file was sent"
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        let files = report["repos"][0]["tasks"][0]["files"].to_string();
        assert!(
            files.contains("src/config.py") && files.contains("allow_secrets: true"),
            "{name}: {files}"
        );
        assert_eq!(
            f.at(&repo, "codefleet/t", "src/a.py").as_deref(),
            Some(PY_EDITED),
            "{name}: the other file's edit lands"
        );
        tried += 1;
    }

    // A prompt holding a secret fails the task with E800 and sends nothing.
    let f = Fixture::new();
    let repo = f.repo_bytes("svc", &[("src/a.py", PY)]);
    let server = ModelServer::start(vec![]);
    let yaml = format!(
        "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\" }}\ntasks:\n  - name: edit\n    files: [\"src/*.py\"]\n    prompt: \"Use the token ghp_{}\"\n",
        server.base_url(),
        "b2".repeat(18)
    );
    let p = f.file("p.yml", yaml.as_bytes());
    let out = f.run(&repo, &["run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", said(&out));
    assert!(said(&out).contains("E800"), "{}", said(&out));
    assert_eq!(server.request_count(), 0);
    tried += 1;

    // `allow_secrets: true` sends it, and the report says so.
    let f = Fixture::new();
    let repo = f.repo_bytes("svc", &[("src/a.py", PY), ("src/key.py", key.as_bytes())]);
    let good = block("src/a.py", "def add(a, b):\n", "def plus(a, b):\n");
    let server = ModelServer::with_handler(move |r| {
        Step::text(if r.raw.contains("def add") {
            &good
        } else {
            "Nothing to change."
        })
    });
    let yaml = format!(
        "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff, reflections: 0 }}\ntasks:\n  - name: edit\n    files: [\"src/*.py\"]\n    allow_secrets: true\n    prompt: Tidy up.\n",
        server.base_url()
    );
    let p = f.file("p.yml", yaml.as_bytes());
    let out = f.run(&repo, &["--json", "run", p.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", said(&out));
    let wire: String = server.requests().iter().map(|r| r.raw.clone()).collect();
    assert!(wire.contains("MIIEabc"), "allowed, so sent");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(
        report["repos"][0]["tasks"][0]["secrets_sent"],
        serde_json::json!(["src/key.py: a PEM private key block (line 1)"])
    );
    tried += 1;
    assert_eq!(tried, SECRET_CASES);
}
