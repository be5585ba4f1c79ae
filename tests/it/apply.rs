//! `codefleet apply`, through the real binary, in real temp directories: every edit format,
//! `--dry-run`, `--json`, `--all-or-nothing`, exit codes 0/1/2, refused paths (escape,
//! symlink, `.git/`, `.env`), and what is kept (permissions, CRLF).

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use crate::support::fixture;

// The shared fixture as a directory to apply in (`work/`), a separate home, and reply files.
fixture::topic_fixture!(wrapper);

impl Fixture {
    fn new(files: &[(&str, &str)]) -> Fixture {
        let f = Fixture(fixture::Fixture::new());
        fs::create_dir_all(f.path("work")).unwrap();
        for (path, text) in files {
            f.file(path, text);
        }
        f
    }

    fn dir(&self) -> PathBuf {
        self.path("work")
    }

    fn file(&self, path: &str, text: &str) {
        let p = self.dir().join(path);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, text).unwrap();
    }

    fn read(&self, path: &str) -> String {
        fs::read_to_string(self.dir().join(path)).unwrap_or_else(|e| panic!("reading {path}: {e}"))
    }

    fn exists(&self, path: &str) -> bool {
        self.dir().join(path).symlink_metadata().is_ok()
    }

    /// Writes `text` as a reply file outside the work directory and returns its path.
    fn reply(&self, text: &str) -> String {
        let p = self.path("reply.txt");
        fs::write(&p, text).unwrap();
        p.to_str().unwrap().to_string()
    }

    /// Every file under the work directory with its bytes, to compare before and after.
    fn snapshot(&self) -> BTreeMap<String, Vec<u8>> {
        let mut out = BTreeMap::new();
        let mut stack = vec![self.dir()];
        while let Some(d) = stack.pop() {
            for e in fs::read_dir(&d).unwrap() {
                let e = e.unwrap();
                let p = e.path();
                let t = e.file_type().unwrap();
                if t.is_dir() {
                    stack.push(p);
                } else if t.is_file() {
                    let rel = p
                        .strip_prefix(self.dir())
                        .unwrap()
                        .to_string_lossy()
                        .into_owned();
                    out.insert(rel, fs::read(&p).unwrap());
                }
            }
        }
        out
    }

    fn run(&self, args: &[&str]) -> Output {
        self.run_stdin(args, None)
    }

    fn run_stdin(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_codefleet"));
        cmd.env_clear()
            .env("HOME", self.path("home"))
            .current_dir(self.dir())
            .arg("apply")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap();
        let mut pipe = child.stdin.take().unwrap();
        if let Some(text) = stdin {
            pipe.write_all(text.as_bytes()).unwrap();
        }
        drop(pipe);
        child.wait_with_output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

const APP: &str =
    "from flask import Flask\n\napp = Flask(__name__)\n\n\ndef index():\n    return 'hi'\n";

const DIFF_REPLY: &str = "Here is the change:

src/app.py
```python
<<<<<<< SEARCH
from flask import Flask
=======
import math
from flask import Flask
>>>>>>> REPLACE
```
";

#[test]
fn diff_reply_applies() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let out = f.run(&["--format", "diff", &f.reply(DIFF_REPLY)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), format!("import math\n{APP}"));
    assert_eq!(stdout(&out), "modified src/app.py\n");
}

#[test]
fn auto_detects_the_format_and_reads_stdin() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let out = f.run_stdin(&["-"], Some(DIFF_REPLY));
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(f.read("src/app.py").starts_with("import math\n"));
    // No FILE at all also reads stdin.
    let f = Fixture::new(&[("src/app.py", APP)]);
    let out = f.run_stdin(&[], Some(DIFF_REPLY));
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(f.read("src/app.py").starts_with("import math\n"));
}

#[test]
fn diff_fenced_reply_applies() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let reply = "```\nsrc/app.py\n<<<<<<< SEARCH\n    return 'hi'\n=======\n    return 'hello'\n>>>>>>> REPLACE\n```\n";
    let out = f.run(&["--format", "diff-fenced", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), APP.replace("'hi'", "'hello'"));
}

#[test]
fn udiff_patch_file_with_new_deleted_and_renamed_files() {
    let f = Fixture::new(&[
        ("a.txt", "one\ntwo\nthree\n"),
        ("old.txt", "bye\n"),
        ("docs/before.md", "# Title\n\nbody\n"),
    ]);
    let patch = "diff --git a/a.txt b/a.txt
index 1111111..2222222 100644
--- a/a.txt
+++ b/a.txt
@@ -1,3 +1,3 @@
 one
-two
+TWO
 three
diff --git a/new.txt b/new.txt
new file mode 100644
index 0000000..3333333
--- /dev/null
+++ b/new.txt
@@ -0,0 +1,2 @@
+hello
+world
diff --git a/old.txt b/old.txt
deleted file mode 100644
index 4444444..0000000
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/docs/before.md b/docs/after.md
similarity index 100%
rename from docs/before.md
rename to docs/after.md
";
    let out = f.run(&["--format", "udiff", &f.reply(patch)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("a.txt"), "one\nTWO\nthree\n");
    assert_eq!(f.read("new.txt"), "hello\nworld\n");
    assert!(!f.exists("old.txt"), "deleted");
    assert!(!f.exists("docs/before.md"), "renamed away");
    assert_eq!(f.read("docs/after.md"), "# Title\n\nbody\n");
}

#[test]
fn udiff_fenced_reply_applies() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let reply = "Change the greeting:\n\n```diff\n--- a/src/app.py\n+++ b/src/app.py\n@@ -6,2 +6,2 @@\n def index():\n-    return 'hi'\n+    return 'hey'\n```\n";
    let out = f.run(&["--format", "udiff", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), APP.replace("'hi'", "'hey'"));
}

#[test]
fn whole_reply_replaces_the_file() {
    let f = Fixture::new(&[("src/app.py", APP), ("README.md", "readme\n")]);
    let new = APP.replace("'hi'", "'new'");
    let reply = format!("src/app.py\n```python\n{new}```\n");
    let out = f.run(&["--format", "whole", &f.reply(&reply)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), new);
    assert_eq!(f.read("README.md"), "readme\n");
}

/// aider shows files holding ```` ``` ```` lines in `<source>` (or `<code>`, `<pre>`…) fences
/// and the model answers in kind; `apply` has no prompt, so it reads the fence the reply uses.
#[test]
fn aider_tag_fences_are_read_without_a_prompt() {
    let doc = "# Use\n\n```\nrun\n```\n";
    let f = Fixture::new(&[("doc.md", doc), ("src/app.py", APP)]);
    let new_doc = "# Use\n\n```\nrun --fast\n```\n";
    let new_app = APP.replace("'hi'", "'new'");
    let whole = format!(
        "doc.md\n<source>\n{new_doc}</source>\n\nsrc/app.py\n<source>python\n{new_app}</source>\n"
    );
    for format in ["whole", "auto"] {
        f.file("doc.md", doc);
        f.file("src/app.py", APP);
        let out = f.run(&["--format", format, &f.reply(&whole)]);
        assert_eq!(code(&out), 0, "{format}: stderr: {}", stderr(&out));
        assert_eq!(f.read("doc.md"), new_doc, "{format}");
        assert_eq!(f.read("src/app.py"), new_app, "{format}");
        assert!(!f.exists("<source>"), "{format}: the fence is not a path");
    }
    let diff = "doc.md\n<source>markdown\n<<<<<<< SEARCH\n```\nrun --fast\n```\n=======\n```\nrun --slow\n```\n>>>>>>> REPLACE\n</source>\n";
    let out = f.run(&["--format", "diff", &f.reply(diff)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("doc.md"), "# Use\n\n```\nrun --slow\n```\n");
    assert_eq!(f.snapshot().len(), 2, "no other file is written");
}

#[test]
fn a_whole_listing_that_is_not_the_whole_file_is_refused() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let elided = "src/app.py\n```python\nfrom flask import Flask\n\n# ... rest of the file unchanged ...\n```\n";
    let out = f.run(&["--json", "--format", "whole", &f.reply(elided)]);
    assert_eq!(code(&out), 1, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), APP, "nothing is written");
    let record: serde_json::Value =
        serde_json::from_str(stdout(&out).lines().next().unwrap()).unwrap();
    assert_eq!(record["status"], "failed");
    assert!(
        record["reason"].as_str().is_some_and(
            |r| r.contains("`# ... rest of the file unchanged ...` stands for omitted code")
        ),
        "{record}"
    );
}

#[test]
fn allow_shrink_lets_a_whole_listing_drop_most_of_a_file() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let reply = f.reply("src/app.py\n```python\nprint('new')\n```\n");
    let out = f.run(&["--format", "whole", "--color", "never", &reply]);
    assert_eq!(code(&out), 1);
    assert_eq!(f.read("src/app.py"), APP, "refused: nothing is written");
    let err = stderr(&out);
    assert!(
        err.contains("the listing has 1 line where the file has 7 lines: it drops more"),
        "{err}"
    );
    assert!(err.contains("pass --allow-shrink"), "{err}");
    let out = f.run(&["--format", "whole", "--allow-shrink", &reply]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.read("src/app.py"), "print('new')\n");
}

#[test]
fn patch_format_updates_adds_moves_and_deletes() {
    let f = Fixture::new(&[
        ("src/main.py", "def f(n):\n    return str(factorial(n))\n"),
        ("src/old.py", "x = 1\n"),
        ("src/move_me.py", "a = 1\nb = 2\n"),
    ]);
    let reply = "Sure.\n*** Begin Patch
*** Update File: src/main.py
@@ def f(n):
-    return str(factorial(n))
+    return str(math.factorial(n))
*** Add File: src/hello.py
+print(\"hello\")
*** Delete File: src/old.py
*** Update File: src/move_me.py
*** Move to: lib/moved.py
@@
 a = 1
-b = 2
+b = 3
*** End Patch
";
    let out = f.run(&["--format", "patch", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(
        f.read("src/main.py"),
        "def f(n):\n    return str(math.factorial(n))\n"
    );
    assert_eq!(f.read("src/hello.py"), "print(\"hello\")\n");
    assert!(!f.exists("src/old.py"));
    assert!(!f.exists("src/move_me.py"));
    assert_eq!(f.read("lib/moved.py"), "a = 1\nb = 3\n");
}

#[test]
fn dry_run_prints_a_diff_and_writes_nothing() {
    let f = Fixture::new(&[("src/app.py", APP), ("other.txt", "x\n")]);
    let before = f.snapshot();
    let reply = f.reply(DIFF_REPLY);
    let out = f.run(&["--dry-run", "--color", "never", &reply]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert_eq!(f.snapshot(), before, "dry run changed files");
    assert_eq!(
        stdout(&out),
        "--- a/src/app.py\n+++ b/src/app.py\n@@ -1,3 +1,4 @@\n+import math\n from flask import Flask\n \n app = Flask(__name__)\n"
    );
    assert!(stderr(&out).contains("note: dry run: nothing was written"));

    let out = f.run(&["--dry-run", "--color", "always", &reply]);
    assert!(
        stdout(&out).contains("\x1b[32m+import math\x1b[0m"),
        "{:?}",
        stdout(&out)
    );
    assert_eq!(f.snapshot(), before);
}

#[test]
fn dry_run_shows_new_files_against_dev_null() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let reply = "new.txt\n```\n<<<<<<< SEARCH\n=======\nfresh\n>>>>>>> REPLACE\n```\n";
    let out = f.run(&["--dry-run", "--format", "diff", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "stderr: {}", stderr(&out));
    assert!(!f.exists("new.txt"));
    assert!(
        stdout(&out).starts_with("--- /dev/null\n+++ b/new.txt\n@@ -0,0 +1 @@\n+fresh\n"),
        "{}",
        stdout(&out)
    );
}

const TWO_BLOCKS_ONE_BAD: &str = "src/app.py
```
<<<<<<< SEARCH
no such line
=======
whatever
>>>>>>> REPLACE
```

src/app.py
```
<<<<<<< SEARCH
    return 'hi'
=======
    return 'ok'
>>>>>>> REPLACE
```
";

#[test]
fn a_failed_edit_exits_1_and_the_rest_still_applies() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let reply = f.reply(TWO_BLOCKS_ONE_BAD);
    let out = f.run(&["--format", "diff", "--color", "never", &reply]);
    assert_eq!(code(&out), 1);
    assert_eq!(f.read("src/app.py"), APP.replace("'hi'", "'ok'"));
    let err = stderr(&out);
    assert!(
        err.contains("error[E063]: edit 1 (`src/app.py`) was not applied"),
        "{err}"
    );
    assert!(
        err.contains(&format!("--> {reply}:1")),
        "names the reply line: {err}"
    );
}

#[test]
fn all_or_nothing_writes_nothing_when_an_edit_fails() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let before = f.snapshot();
    let out = f.run(&[
        "--format",
        "diff",
        "--all-or-nothing",
        &f.reply(TWO_BLOCKS_ONE_BAD),
    ]);
    assert_eq!(code(&out), 1);
    assert_eq!(f.snapshot(), before);
    assert!(
        stderr(&out).contains("nothing was written: some edits failed and --all-or-nothing is set")
    );
    // And with every edit good, it writes.
    let out = f.run(&["--format", "diff", "--all-or-nothing", &f.reply(DIFF_REPLY)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(f.read("src/app.py").starts_with("import math\n"));
}

#[test]
fn json_lines_describe_each_edit_and_change() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let out = f.run(&["--json", "--format", "diff", &f.reply(TWO_BLOCKS_ONE_BAD)]);
    assert_eq!(code(&out), 1);
    let records: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(records.len(), 3, "{records:?}");
    let failed = &records[0];
    assert_eq!(failed["kind"], "edit");
    assert_eq!(failed["index"], 0);
    assert_eq!(failed["path"], "src/app.py");
    assert_eq!(failed["line"], 1);
    assert_eq!(failed["status"], "failed");
    assert!(failed["reason"].as_str().is_some_and(|r| !r.is_empty()));
    let applied = &records[1];
    assert_eq!(applied["index"], 1);
    assert_eq!(applied["status"], "applied");
    assert_eq!(applied["file"], "src/app.py");
    assert_eq!(applied["strategy"], "exact");
    assert_eq!(applied["line"], 10);
    let change = &records[2];
    assert_eq!(change["kind"], "change");
    assert_eq!(change["path"], "src/app.py");
    assert_eq!(change["action"], "modified");
    assert_eq!(change["written"], true);
}

#[test]
fn unreadable_input_exits_2() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let out = f.run(&["--format", "diff", "missing-reply.md"]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(
        err.starts_with("error[E001]: cannot read or write `missing-reply.md`"),
        "{err}"
    );
    assert!(err.contains("help: give the reply or patch file"), "{err}");

    let bad = f.path("latin1.txt");
    fs::write(&bad, b"a.txt\n```\n<<<<<<< SEARCH\ncaf\xe9\n").unwrap();
    let out = f.run(&["--format", "diff", bad.to_str().unwrap()]);
    assert_eq!(code(&out), 2);
    let err = stderr(&out);
    assert!(err.contains("error[E061]"), "{err}");
    assert!(err.contains("is not UTF-8 text"), "{err}");
    assert!(err.contains(&format!("--> {}:4:4", bad.display())), "{err}");
    assert_eq!(f.read("a.txt"), "a\n");
}

#[test]
fn usage_errors_exit_2() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let reply = f.reply(DIFF_REPLY);
    let out = f.run(&["--format", "udif", &reply]);
    assert_eq!(code(&out), 2);
    assert_eq!(
        stderr(&out),
        "error[E060]: unknown edit format `udif`\n  = help: did you mean `udiff`?\n"
    );
    let out = f.run(&["-C", "no/such/dir", &reply]);
    assert_eq!(code(&out), 2);
    assert!(stderr(&out).contains("error[E062]: `no/such/dir` is not a directory"));
}

#[test]
fn dash_c_applies_in_another_directory() {
    let f = Fixture::new(&[("sub/src/app.py", APP)]);
    let out = f.run(&["-C", "sub", "--format", "diff", &f.reply(DIFF_REPLY)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(f.read("sub/src/app.py").starts_with("import math\n"));
}

fn create_block(path: &str) -> String {
    format!("{path}\n```\n<<<<<<< SEARCH\n=======\npwned\n>>>>>>> REPLACE\n```\n")
}

#[test]
fn escaping_paths_are_refused_and_nothing_is_written_for_them() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let before = f.snapshot();
    let out = f.run(&[
        "--format",
        "diff",
        "--color",
        "never",
        &f.reply(&create_block("../escape.txt")),
    ]);
    assert_eq!(code(&out), 1);
    assert!(!f.path("escape.txt").exists());
    assert_eq!(f.snapshot(), before);
    let err = stderr(&out);
    assert!(
        err.contains("error[E063]: edit 1 (`../escape.txt`) was not applied"),
        "{err}"
    );
}

#[test]
fn git_dir_and_secrets_are_refused() {
    let f = Fixture::new(&[
        ("a.txt", "a\n"),
        (".git/config", "[core]\n"),
        (".env", "TOKEN=1\n"),
    ]);
    let before = f.snapshot();
    for path in [".git/config", ".env", "config/.env.local", "keys/id_rsa"] {
        let out = f.run(&["--format", "diff", &f.reply(&create_block(path))]);
        assert_eq!(code(&out), 1, "{path}: {}", stderr(&out));
        assert!(stderr(&out).contains("refused"), "{path}: {}", stderr(&out));
        assert_eq!(f.snapshot(), before, "{path} was written");
    }
    // A udiff into .git is refused too.
    let patch =
        "--- a/.git/config\n+++ b/.git/config\n@@ -1 +1,2 @@\n [core]\n+\thooksPath = /tmp/evil\n";
    let out = f.run(&["--format", "udiff", &f.reply(patch)]);
    assert_eq!(code(&out), 1);
    assert_eq!(f.read(".git/config"), "[core]\n");
}

#[cfg(unix)]
#[test]
fn symlink_to_outside_is_refused() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let outside = f.path("outside");
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("target.txt"), "safe\n").unwrap();
    std::os::unix::fs::symlink(&outside, f.dir().join("link")).unwrap();
    std::os::unix::fs::symlink(outside.join("target.txt"), f.dir().join("file-link.txt")).unwrap();
    for path in ["link/target.txt", "link/new.txt", "file-link.txt"] {
        let reply =
            format!("{path}\n```\n<<<<<<< SEARCH\nsafe\n=======\npwned\n>>>>>>> REPLACE\n```\n");
        let out = f.run(&["--format", "diff", &f.reply(&reply)]);
        assert_eq!(code(&out), 1, "{path}: {}", stderr(&out));
        let out = f.run(&["--format", "diff", &f.reply(&create_block(path))]);
        assert_eq!(code(&out), 1, "{path}: {}", stderr(&out));
    }
    assert_eq!(
        fs::read_to_string(outside.join("target.txt")).unwrap(),
        "safe\n"
    );
    assert!(!outside.join("new.txt").exists());
}

#[cfg(unix)]
#[test]
fn executable_bit_is_kept() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(&[("run.sh", "#!/bin/sh\necho hi\n")]);
    fs::set_permissions(f.dir().join("run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    let reply =
        "run.sh\n```sh\n<<<<<<< SEARCH\necho hi\n=======\necho hello\n>>>>>>> REPLACE\n```\n";
    let out = f.run(&["--format", "diff", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.read("run.sh"), "#!/bin/sh\necho hello\n");
    let mode = fs::metadata(f.dir().join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);
}

#[test]
fn crlf_file_stays_crlf() {
    let f = Fixture::new(&[("win.txt", "one\r\ntwo\r\nthree\r\n")]);
    let reply =
        "win.txt\n```\n<<<<<<< SEARCH\ntwo\n=======\nTWO\nand a half\n>>>>>>> REPLACE\n```\n";
    let out = f.run(&["--format", "diff", &f.reply(reply)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        fs::read(f.dir().join("win.txt")).unwrap(),
        b"one\r\nTWO\r\nand a half\r\nthree\r\n"
    );
}

#[test]
fn suggested_commands_are_notes_not_failures() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let reply = format!("{DIFF_REPLY}\nThen run:\n\n```bash\npip install flask\n```\n");
    let out = f.run(&["--format", "diff", "--color", "never", &f.reply(&reply)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("note: the reply suggests running `pip install flask` (not run)"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn input_without_edits_is_a_failure() {
    let f = Fixture::new(&[("a.txt", "a\n")]);
    let out = f.run(&[
        "--format",
        "diff",
        &f.reply("I could not find anything to change.\n"),
    ]);
    assert_eq!(code(&out), 1);
    assert!(
        stderr(&out).contains("error[E065]: found no edits in"),
        "{}",
        stderr(&out)
    );
    assert_eq!(f.read("a.txt"), "a\n");
}

#[test]
fn quiet_prints_nothing_on_success() {
    let f = Fixture::new(&[("src/app.py", APP)]);
    let out = f.run(&["-q", "--format", "diff", &f.reply(DIFF_REPLY)]);
    assert_eq!(code(&out), 0);
    assert_eq!(stdout(&out), "");
    assert_eq!(stderr(&out), "");
}

#[test]
fn a_reply_inside_the_directory_is_never_edited() {
    // The failing block's SEARCH text occurs in the reply itself; wrong-file rescue must not
    // find it there.
    let f = Fixture::new(&[("src/app.py", APP)]);
    f.file("reply.md", TWO_BLOCKS_ONE_BAD);
    let out = f.run(&["--format", "diff", "reply.md"]);
    assert_eq!(code(&out), 1, "{}", stderr(&out));
    assert_eq!(f.read("reply.md"), TWO_BLOCKS_ONE_BAD);
    assert_eq!(f.read("src/app.py"), APP.replace("'hi'", "'ok'"));
}

#[test]
fn editing_a_denied_file_fails_with_the_policy_reason() {
    let f = Fixture::new(&[(".env", "A=1\n"), ("a.txt", "a\n")]);
    let reply = ".env\n```\n<<<<<<< SEARCH\nA=1\n=======\nA=2\n>>>>>>> REPLACE\n```\n";
    let out = f.run(&["--format", "diff", "--color", "never", &f.reply(reply)]);
    assert_eq!(code(&out), 1);
    let err = stderr(&out);
    assert!(
        err.contains("`.env` is denied by policy (matches `**/.env`)"),
        "{err}"
    );
    assert!(
        err.contains("help: nothing was written for this path"),
        "{err}"
    );
    assert_eq!(f.read(".env"), "A=1\n");
}

#[test]
fn dry_run_and_json_of_a_patch_with_delete_and_rename() {
    let f = Fixture::new(&[("old.txt", "bye\n"), ("docs/before.md", "# T\n")]);
    let before = f.snapshot();
    let patch = "diff --git a/old.txt b/old.txt
deleted file mode 100644
--- a/old.txt
+++ /dev/null
@@ -1 +0,0 @@
-bye
diff --git a/docs/before.md b/docs/after.md
similarity index 100%
rename from docs/before.md
rename to docs/after.md
";
    let reply = f.reply(patch);
    let out = f.run(&["--dry-run", "--format", "udiff", &reply]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "--- a/old.txt\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\nrename from docs/before.md\nrename to docs/after.md\n"
    );
    let out = f.run(&["--dry-run", "--json", "--format", "udiff", &reply]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let changes: Vec<serde_json::Value> = stdout(&out)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|r| r["kind"] == "change")
        .collect();
    assert_eq!(
        changes.len(),
        2,
        "the rename's delete is folded into it: {changes:?}"
    );
    assert_eq!(changes[0]["action"], "deleted");
    assert_eq!(changes[1]["action"], "renamed");
    assert_eq!(changes[1]["from"], "docs/before.md");
    assert_eq!(changes[1]["path"], "docs/after.md");
    assert!(changes.iter().all(|c| c["written"] == false));
    assert_eq!(f.snapshot(), before);

    let out = f.run(&["--format", "udiff", &reply]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(
        stdout(&out),
        "deleted old.txt\nrenamed docs/before.md -> docs/after.md\n"
    );
}

/// Runs git in `dir` with no user or system config.
fn git(dir: &std::path::Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {}", stderr(&out));
    stdout(&out)
}

#[test]
fn a_git_diff_round_trips_in_a_real_repository() {
    let f = Fixture::new(&[
        (
            "src/lib.rs",
            "pub fn a() -> u32 {\n    1\n}\n\npub fn b() -> u32 {\n    2\n}\n",
        ),
        ("README.md", "# demo\n"),
        ("old/name.txt", "moved\n"),
    ]);
    let dir = f.dir();
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    // Make changes with ordinary tools, record them as git sees them, then undo them.
    f.file(
        "src/lib.rs",
        "pub fn a() -> u32 {\n    10\n}\n\npub fn b() -> u32 {\n    2\n}\n\npub fn c() {}\n",
    );
    f.file("NEW.md", "new\n");
    fs::remove_file(dir.join("README.md")).unwrap();
    git(&dir, &["mv", "old/name.txt", "new-name.txt"]);
    git(&dir, &["add", "-A"]);
    let patch = git(&dir, &["diff", "--cached", "-M", "HEAD"]);
    git(&dir, &["reset", "-q", "--hard", "HEAD"]);
    assert_eq!(git(&dir, &["status", "--porcelain"]), "");

    let out = f.run(&[&f.reply(&patch)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    git(&dir, &["add", "-A"]);
    assert_eq!(git(&dir, &["diff", "--cached", "-M", "HEAD"]), patch);
    assert_eq!(
        git(&dir, &["fsck", "--no-progress"]),
        "",
        "the repository is intact"
    );
}

/// Every file under `dir` (outside `.git`) with its bytes and whether it is executable.
fn files_and_modes(dir: &std::path::Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    use std::os::unix::fs::PermissionsExt;
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if rel == ".git" {
                continue;
            }
            let meta = fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                let exec = meta.permissions().mode() & 0o111 != 0;
                out.insert(rel, (fs::read(&p).unwrap(), exec));
            }
        }
    }
    out
}

#[test]
fn modes_round_trip_through_git_diff_and_match_git_apply() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(&[
        ("plain.txt", "a\n"),
        ("tool.sh", "echo old\n"),
        ("keep.sh", "echo keep\n"),
    ]);
    let dir = f.dir();
    let chmod =
        |p: &str, m: u32| fs::set_permissions(dir.join(p), fs::Permissions::from_mode(m)).unwrap();
    chmod("tool.sh", 0o755);
    chmod("keep.sh", 0o755);
    git(&dir, &["init", "-q", "-b", "main"]);
    git(&dir, &["add", "-A"]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    // A new executable file, a mode-only change, a mode and content change, a rename.
    f.file("new.sh", "echo new\n");
    chmod("new.sh", 0o755);
    chmod("plain.txt", 0o755);
    f.file("tool.sh", "echo older\n");
    chmod("tool.sh", 0o644);
    git(&dir, &["mv", "keep.sh", "moved.sh"]);
    git(&dir, &["add", "-A"]);
    let patch = git(&dir, &["diff", "--cached", "-M", "HEAD"]);
    assert!(patch.contains("new file mode 100755") && patch.contains("old mode 100644"));
    git(&dir, &["reset", "-q", "--hard", "HEAD"]);
    assert_eq!(git(&dir, &["status", "--porcelain"]), "");
    let witness = f.path("witness");
    let copied = Command::new("cp")
        .args(["-a", dir.to_str().unwrap(), witness.to_str().unwrap()])
        .status()
        .unwrap();
    assert!(copied.success());

    let out = f.run(&[&f.reply(&patch)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let listed = stdout(&out);
    assert!(listed.contains("mode 100755 plain.txt\n"), "{listed}");
    git(&dir, &["add", "-A"]);
    assert_eq!(git(&dir, &["diff", "--cached", "-M", "HEAD"]), patch);

    git(&witness, &["apply", f.path("reply.txt").to_str().unwrap()]);
    assert_eq!(
        files_and_modes(&dir),
        files_and_modes(&witness),
        "as git apply leaves it"
    );
}

#[test]
fn a_mode_only_patch_is_not_empty_and_a_symlink_mode_fails_loudly() {
    use std::os::unix::fs::PermissionsExt;
    let f = Fixture::new(&[("run.sh", "echo\n")]);
    let out =
        f.run(&[&f.reply("diff --git a/run.sh b/run.sh\nold mode 100644\nnew mode 100755\n")]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let mode = fs::metadata(f.dir().join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0o111, "{mode:o}");

    let out = f.run(&[
        "--json",
        &f.reply("diff --git a/run.sh b/run.sh\nold mode 100755\nnew mode 100644\n"),
    ]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert!(
        stdout(&out).contains(r#""kind":"mode""#),
        "{}",
        stdout(&out)
    );
    let mode = fs::metadata(f.dir().join("run.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o111, 0, "{mode:o}");

    let link = "diff --git a/link b/link\nnew file mode 120000\n--- /dev/null\n+++ b/link\n@@ -0,0 +1 @@\n+/etc/passwd\n\\ No newline at end of file\n";
    for args in [&["--all-or-nothing"][..], &[]] {
        let mut args = args.to_vec();
        let reply = f.reply(link);
        args.push(&reply);
        let out = f.run(&args);
        assert_eq!(code(&out), 1, "{}", stderr(&out));
        assert!(stderr(&out).contains("mode 120000"), "{}", stderr(&out));
        assert!(!f.exists("link"), "no plain file is written in its place");
    }
}

#[test]
fn a_file_over_a_models_size_limit_is_patched_as_git_apply_would() {
    let big = "let x = y.unwrap();\n".repeat(131_072);
    assert!(big.len() > 2_500_000);
    let f = Fixture::new(&[("big.rs", &big)]);
    let patch = "--- a/big.rs\n+++ b/big.rs\n@@ -1,2 +1,2 @@\n-let x = y.unwrap();\n+let x = y?;\n let x = y.unwrap();\n";
    let out = f.run(&[&f.reply(patch)]);
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    assert_eq!(f.read("big.rs"), big.replacen("y.unwrap()", "y?", 1));
}
