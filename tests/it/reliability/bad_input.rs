//! Bad input to every parser, through the real binary: pipeline YAML, edit replies given to
//! `apply`, patch files, model responses, file contents, and unusual repository states. Each
//! gets a clear error (or a sensible result), never a panic or a crash, and nothing of the
//! user's changes.

use std::path::Path;

use crate::support::fixture::{Fixture, exited_cleanly, said, snapshot};
use crate::support::model_server::{ModelServer, Step};

pub const YAML_CASES: usize = 20;
pub const REPLY_CASES: usize = 16;
pub const PATCH_CASES: usize = 12;
pub const RESPONSE_CASES: usize = 10;
pub const CONTENT_CASES: usize = 8;
pub const REPO_STATE_CASES: usize = 7;

#[test]
fn bad_pipeline_yaml_is_an_error_with_a_code_never_a_panic() {
    let laughs = {
        let mut y = String::from(
            "version: 1\nname: x\na0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n",
        );
        for i in 1..10 {
            let prev = format!("*a{}", i - 1);
            y.push_str(&format!(
                "a{i}: &a{i} [{}]\n",
                [prev.as_str(); 9].join(", ")
            ));
        }
        y.push_str("tasks: *a9\n");
        y.into_bytes()
    };
    let cases: [(&str, Vec<u8>); YAML_CASES] = [
        ("an empty file", b"".to_vec()),
        ("only a comment", b"# nothing here\n".to_vec()),
        ("a scalar", b"hello\n".to_vec()),
        ("a list", b"- a\n- b\n".to_vec()),
        ("tab indentation", b"version: 1\nname: x\ntasks:\n\t- name: a\n".to_vec()),
        ("an unclosed quote", b"version: 1\nname: \"x\ntasks: []\n".to_vec()),
        ("an unclosed flow map", b"version: 1\nname: x\ntasks: [{name: a, replace: {find: a\n".to_vec()),
        ("tasks of the wrong type", b"version: 1\nname: x\ntasks: 5\n".to_vec()),
        ("an unknown field", b"version: 1\nname: x\nbogus: 1\ntasks:\n  - name: a\n    replace: { find: a, with: b }\n".to_vec()),
        ("a duplicate key", b"version: 1\nname: x\nname: y\ntasks:\n  - name: a\n    replace: { find: a, with: b }\n".to_vec()),
        ("an unknown version", b"version: 2\nname: x\ntasks:\n  - name: a\n    replace: { find: a, with: b }\n".to_vec()),
        ("two kinds in one task", b"version: 1\nname: x\ntasks:\n  - name: a\n    replace: { find: a, with: b }\n    patch: x.diff\n".to_vec()),
        ("an invalid regex", b"version: 1\nname: x\ntasks:\n  - name: a\n    replace: { find: '(', with: b, regex: true }\n".to_vec()),
        ("an invalid glob", b"version: 1\nname: x\ntasks:\n  - name: a\n    files: ['a[']\n    replace: { find: a, with: b }\n".to_vec()),
        ("invalid UTF-8", b"version: 1\nname: \xff\xfe\ntasks: []\n".to_vec()),
        ("a NUL byte", b"version: 1\nname: a\0b\ntasks: []\n".to_vec()),
        ("100 000 nested brackets", format!("version: 1\nname: x\ntasks: {}", "[".repeat(100_000)).into_bytes()),
        ("a billion laughs", laughs),
        ("a number too big", b"version: 99999999999999999999999999999\nname: x\ntasks: []\n".to_vec()),
        ("a 5 MB line", format!("version: 1\nname: x\ntasks: [{}]\n", "a".repeat(5 << 20)).into_bytes()),
    ];
    let f = Fixture::new();
    let mut tried = 0;
    for (name, bytes) in cases {
        let p = f.file("p.yml", &bytes);
        let out = f.run(f.dir.path(), &["validate", p.to_str().expect("utf8")]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        assert_eq!(out.status.code(), Some(2), "{name}: {}", said(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("error[E"),
            "{name}: no error code: {stderr}"
        );
        tried += 1;
    }
    assert_eq!(tried, YAML_CASES);
}

#[test]
fn bad_edit_replies_to_apply_change_nothing_and_never_panic() {
    // (name, reply, the file after: `None` when the reply is refused and changes nothing)
    type Case<'a> = (&'a str, Vec<u8>, Option<&'a [u8]>);
    let cases: [Case; REPLY_CASES] = [
        ("empty", b"".to_vec(), None),
        ("whitespace", b"  \n\n\t\n".to_vec(), None),
        (
            "prose only",
            b"I think the code looks fine as it is.\n".to_vec(),
            None,
        ),
        (
            "an unterminated SEARCH",
            b"a.txt\n```\n<<<<<<< SEARCH\nhello\n".to_vec(),
            None,
        ),
        (
            "SEARCH without REPLACE",
            b"a.txt\n```\n<<<<<<< SEARCH\nhello\n=======\nbye\n```\n".to_vec(),
            None,
        ),
        ("a divider alone", b"=======\n".to_vec(), None),
        (
            "marker soup",
            b">>>>>>> REPLACE\n=======\n<<<<<<< SEARCH\n>>>>>>> REPLACE\n".to_vec(),
            None,
        ),
        (
            "a fence never closed",
            b"a.txt\n```\n<<<<<<< SEARCH\nhello\n=======\nbye\n>>>>>>> REPLACE\n".to_vec(),
            Some(&b"bye\n"[..]),
        ),
        (
            "a search that is not there",
            b"a.txt\n```\n<<<<<<< SEARCH\nnot in the file\n=======\nbye\n>>>>>>> REPLACE\n```\n"
                .to_vec(),
            None,
        ),
        (
            "a udiff with a bad hunk header (hunks match by content)",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -x,y +z @@\n-hello\n+bye\n".to_vec(),
            Some(&b"bye\n"[..]),
        ),
        (
            "a udiff whose context is absent",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1,1 +1,1 @@\n-nothing like it\n+bye\n".to_vec(),
            None,
        ),
        (
            "a patch without its end",
            b"*** Begin Patch\n*** Update File: a.txt\n@@\n-hello\n+bye\n".to_vec(),
            Some(&b"bye\n"[..]),
        ),
        (
            "invalid UTF-8",
            b"a.txt\n```\n<<<<<<< SEARCH\nhel\xfflo\n=======\nbye\n>>>>>>> REPLACE\n```\n".to_vec(),
            None,
        ),
        (
            "NUL bytes",
            b"a.txt\n```\n<<<<<<< SEARCH\n\0\0\0\n=======\nbye\n>>>>>>> REPLACE\n```\n".to_vec(),
            None,
        ),
        (
            "a 10 MB line",
            format!(
                "a.txt\n```\n<<<<<<< SEARCH\n{}\n=======\nbye\n>>>>>>> REPLACE\n```\n",
                "q".repeat(10 << 20)
            )
            .into_bytes(),
            None,
        ),
        (
            "20 000 empty blocks",
            "a.txt\n```\n<<<<<<< SEARCH\n=======\n>>>>>>> REPLACE\n```\n"
                .repeat(20_000)
                .into_bytes(),
            // Empty blocks change nothing: a no-op, not an error.
            Some(&b"hello\n"[..]),
        ),
    ];
    let mut tried = 0;
    for (name, bytes, after) in cases {
        let f = Fixture::new();
        let dir = f.path("work");
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(dir.join("a.txt"), "hello\n").expect("a");
        let reply = f.file("reply.md", &bytes);
        let out = f.run(&dir, &["apply", reply.to_str().expect("utf8")]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        let now = std::fs::read(dir.join("a.txt")).expect("a");
        match after {
            Some(want) => {
                // Complete edits in a sloppy wrapper (no closing fence, a garbled hunk
                // header, no `*** End Patch`)
                // still apply.
                assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
                assert_eq!(now, want, "{name}");
            }
            None => {
                assert_ne!(out.status.code(), Some(0), "{name}: {}", said(&out));
                assert!(
                    String::from_utf8_lossy(&out.stderr).contains("error[E"),
                    "{name}: {}",
                    said(&out)
                );
                assert_eq!(now, b"hello\n", "{name}");
            }
        }
        tried += 1;
    }
    assert_eq!(tried, REPLY_CASES);
}

#[test]
fn bad_patch_files_fail_their_task_and_never_panic() {
    let cases: [(&str, Vec<u8>); PATCH_CASES] = [
        ("empty", b"".to_vec()),
        ("garbage", b"this is not a patch at all\n".to_vec()),
        ("headers only", b"--- a/a.txt\n+++ b/a.txt\n".to_vec()),
        (
            "a bad hunk header",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @\n-hello\n+bye\n".to_vec(),
        ),
        (
            "wrong hunk counts",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1,9 +1,9 @@\n-hello\n+bye\n".to_vec(),
        ),
        (
            "context that is not there",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-goodbye\n+bye\n".to_vec(),
        ),
        (
            "cut off mid-hunk",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1,3 +1,3 @@\n-hel".to_vec(),
        ),
        (
            "a binary patch",
            b"diff --git a/a.txt b/a.txt\nGIT binary patch\nliteral 5\nMcmZ?wbmCx\n\nliteral 0\n"
                .to_vec(),
        ),
        (
            "invalid UTF-8",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-hello\n+\xff\xfe\n".to_vec(),
        ),
        (
            "NUL bytes",
            b"--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-hello\n+\0\0\n".to_vec(),
        ),
        (
            "a delete of a file that differs",
            b"--- a/a.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-not this\n".to_vec(),
        ),
        (
            "a 10 MB added line",
            format!(
                "--- a/a.txt\n+++ b/a.txt\n@@ -1 +1,2 @@\n hello\n+{}\n",
                "z".repeat(10 << 20)
            )
            .into_bytes(),
        ),
    ];
    let mut tried = 0;
    for (name, bytes) in cases {
        let f = Fixture::new();
        let repo = f.repo_bytes("svc", &[("a.txt", b"hello\n")]);
        f.file("pipes/x.diff", &bytes);
        let p = f.file(
            "pipes/p.yml",
            b"version: 1\nname: t\ntasks:\n  - name: patch\n    patch: x.diff\n",
        );
        let before = snapshot(&repo);
        let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        // A patch that does not apply fails the task, and so does one with nothing in it.
        let code = out.status.code();
        assert!(code == Some(0) || code == Some(1), "{name}: {}", said(&out));
        if code == Some(1) {
            assert!(
                said(&out).contains("task `patch`"),
                "{name}: no reason: {}",
                said(&out)
            );
        }
        let fsck = f.git_out(&repo, &["fsck", "--full", "--strict", "--no-progress"]);
        assert!(fsck.status.success(), "{name}: {}", said(&fsck));
        assert_eq!(snapshot(&repo), before, "{name}");
        tried += 1;
    }
    assert_eq!(tried, PATCH_CASES);
}

#[test]
fn bad_model_responses_fail_the_task_with_a_code_and_write_nothing() {
    let huge = format!(
        "{{\"choices\": [{{\"message\": {{\"content\": \"{}\"",
        "x".repeat(8 << 20)
    );
    let cases: [(&str, Step); RESPONSE_CASES] = [
        ("invalid JSON", Step::status(200, "{not json")),
        (
            "an HTML page",
            Step::status(200, "<html><body>Bad gateway</body></html>"),
        ),
        ("JSON without choices", Step::status(200, "{\"id\": \"x\"}")),
        ("empty choices", Step::status(200, "{\"choices\": []}")),
        (
            "content of the wrong type",
            Step::status(200, "{\"choices\": [{\"message\": {\"content\": 42}}]}"),
        ),
        (
            "a refused key",
            Step::status(401, "{\"error\": {\"message\": \"invalid api key\"}}"),
        ),
        ("an 8 MB unterminated body", Step::status(200, &huge)),
        ("a dropped connection", Step::Drop),
        ("a body cut short", Step::DropMidStream("def plus".into())),
        (
            "an error status with a provider message",
            Step::status(400, "{\"error\": {\"message\": \"context too long\"}}"),
        ),
    ];
    let mut tried = 0;
    for (name, step) in cases {
        let f = Fixture::new();
        let repo = f.repo_bytes(
            "svc",
            &[("src/a.py", b"def add(a, b):\n    return a + b\n")],
        );
        let server = ModelServer::with_handler(move |_| step.clone());
        let yaml = format!(
            "version: 1\nname: t\nmodel: {{ provider: openai, name: test-model, base_url: \"{}\", edit_format: diff, reflections: 0 }}\ntasks:\n  - name: edit\n    files: [\"src/*.py\"]\n    prompt: Tidy up.\n",
            server.base_url()
        );
        let p = f.file("p.yml", yaml.as_bytes());
        let before = snapshot(&repo);
        let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        assert_eq!(out.status.code(), Some(1), "{name}: {}", said(&out));
        let text = said(&out);
        assert!(
            text.contains("[E4") || text.contains("the model stopped"),
            "{name}: no reason: {text}"
        );
        assert_eq!(f.tip(&repo, "codefleet/t"), None, "{name}");
        assert_eq!(snapshot(&repo), before, "{name}");
        tried += 1;
    }
    assert_eq!(tried, RESPONSE_CASES);
}

#[test]
fn odd_file_contents_are_skipped_or_edited_exactly() {
    let long = format!("alpha{}\n", "-".repeat(4 << 20));
    // (name, content, whether the replace edits it)
    let cases: [(&str, Vec<u8>, bool); CONTENT_CASES] = [
        ("invalid UTF-8", b"alpha \xff\xfe\n".to_vec(), true),
        ("NUL bytes", b"alpha\0\0\n".to_vec(), false),
        (
            "a 100 MB file",
            {
                let mut v = b"alpha\n".to_vec();
                v.resize(100 << 20, b'x');
                v
            },
            false,
        ),
        ("a 4 MB line (over max_file_size)", long.into_bytes(), false),
        (
            "a 900 KB line",
            format!("alpha{}\n", "-".repeat(900 << 10)).into_bytes(),
            true,
        ),
        ("CRLF line endings", b"alpha\r\nalpha\r\n".to_vec(), true),
        ("a byte order mark", b"\xef\xbb\xbfalpha\n".to_vec(), true),
        ("no final newline", b"alpha".to_vec(), true),
    ];
    let mut tried = 0;
    for (name, bytes, edited) in cases {
        let f = Fixture::new();
        let repo = f.repo_bytes("svc", &[("data.txt", &bytes)]);
        // Deterministic tasks have no size limit unless the pipeline sets one; this one does.
        let p = f.file("p.yml", b"version: 1\nname: t\npolicy: { max_file_size: 1MiB }\ntasks:\n  - name: r\n    replace: { find: alpha, with: omega }\n");
        let before = snapshot(&repo);
        let out = f.run(&repo, &["run", p.to_str().expect("utf8")]);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
        let on_branch = f.at(&repo, "codefleet/t", "data.txt");
        if edited {
            let want = replace_bytes(&bytes, b"alpha", b"omega");
            assert!(
                on_branch.as_deref() == Some(want.as_slice()),
                "{name}: not edited exactly"
            );
        } else {
            assert!(
                on_branch.is_none(),
                "{name}: edited although it should be skipped"
            );
        }
        assert_eq!(snapshot(&repo), before, "{name}");
        tried += 1;
    }
    assert_eq!(tried, CONTENT_CASES);
}

fn replace_bytes(hay: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < hay.len() {
        if hay[i..].starts_with(from) {
            out.extend_from_slice(to);
            i += from.len();
        } else {
            out.push(hay[i]);
            i += 1;
        }
    }
    out
}

/// Runs a replace task in `repo`: exit code and output.
fn replace_run(f: &Fixture, repo: &Path) -> std::process::Output {
    let p = f.file(
        "p.yml",
        b"version: 1\nname: t\ntasks:\n  - name: r\n    replace: { find: alpha, with: omega }\n",
    );
    f.run(repo, &["run", p.to_str().expect("utf8")])
}

#[test]
fn unusual_repository_states_run_or_fail_clearly() {
    let mut tried = 0;
    type Setup = fn(&Fixture) -> std::path::PathBuf;
    let setups: [(&str, Setup, Option<&str>); REPO_STATE_CASES] = [
        (
            "a detached HEAD",
            |f| {
                let r = f.repo_bytes("r", &[("a.txt", b"alpha\n")]);
                f.git(&r, &["checkout", "-q", "--detach"]);
                r
            },
            None,
        ),
        (
            "an unborn branch",
            |f| {
                let r = f.path("r");
                std::fs::create_dir_all(&r).expect("dir");
                f.git(&r, &["init", "-q", "-b", "main"]);
                std::fs::write(r.join("a.txt"), "alpha\n").expect("a");
                r
            },
            Some("no commits yet"),
        ),
        (
            "a shallow clone",
            |f| {
                let up = f.repo_bytes("up", &[("a.txt", b"alpha\n")]);
                std::fs::write(up.join("b.txt"), "alpha b\n").expect("b");
                f.git(&up, &["add", "-A"]);
                f.git(&up, &["commit", "-q", "-m", "two"]);
                let url = format!("file://{}", up.display());
                f.git(f.dir.path(), &["clone", "-q", "--depth", "1", &url, "r"]);
                f.path("r")
            },
            None,
        ),
        (
            "a submodule",
            |f| {
                let sub = f.repo_bytes("sub", &[("s.txt", b"alpha in sub\n")]);
                let r = f.repo_bytes("r", &[("a.txt", b"alpha\n")]);
                f.git(
                    &r,
                    &[
                        "-c",
                        "protocol.file.allow=always",
                        "submodule",
                        "add",
                        "-q",
                        sub.to_str().expect("utf8"),
                        "vendor/sub",
                    ],
                );
                f.git(&r, &["commit", "-q", "-m", "sub"]);
                r
            },
            None,
        ),
        (
            "LFS pointer files",
            |f| {
                f.repo_bytes("r", &[
                (".gitattributes", b"*.bin filter=lfs diff=lfs merge=lfs -text\n"),
                ("a.txt", b"alpha\n"),
                ("big.bin", b"version https://git-lfs.github.com/spec/v1\noid sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393\nsize 12345\n"),
            ])
            },
            None,
        ),
        (
            "a merge in progress",
            |f| {
                let r = f.repo_bytes("r", &[("a.txt", b"alpha\n"), ("m.txt", b"base\n")]);
                f.git(&r, &["checkout", "-q", "-b", "other"]);
                std::fs::write(r.join("m.txt"), "other\n").expect("m");
                f.git(&r, &["commit", "-qam", "other"]);
                f.git(&r, &["checkout", "-q", "main"]);
                std::fs::write(r.join("m.txt"), "mine\n").expect("m");
                f.git(&r, &["commit", "-qam", "mine"]);
                let _ = f.git_out(&r, &["merge", "other"]);
                assert!(r.join(".git/MERGE_HEAD").exists());
                r
            },
            None,
        ),
        (
            "a bare repository (runs: nothing to check out)",
            |f| {
                let up = f.repo_bytes("up", &[("a.txt", b"alpha\n")]);
                f.git(
                    f.dir.path(),
                    &["clone", "-q", "--bare", up.to_str().expect("utf8"), "r.git"],
                );
                f.path("r.git")
            },
            None,
        ),
    ];
    for (name, setup, error) in setups {
        let f = Fixture::new();
        let repo = setup(&f);
        let before = snapshot(&repo);
        let out = replace_run(&f, &repo);
        assert!(exited_cleanly(&out), "{name}: {}", said(&out));
        match error {
            None => {
                assert_eq!(out.status.code(), Some(0), "{name}: {}", said(&out));
                assert_eq!(
                    f.at(&repo, "codefleet/t", "a.txt").as_deref(),
                    Some(&b"omega\n"[..]),
                    "{name}"
                );
            }
            Some(code) => {
                assert_ne!(out.status.code(), Some(0), "{name}");
                assert!(said(&out).contains(code), "{name}: {}", said(&out));
            }
        }
        if name.contains("bare") {
            // No working tree: the git directory is the repository; HEAD stays.
            assert_eq!(snapshot(&repo).get("HEAD"), before.get("HEAD"), "{name}");
        } else {
            assert_eq!(snapshot(&repo), before, "{name}");
        }
        tried += 1;
    }
    assert_eq!(tried, REPO_STATE_CASES);
}
