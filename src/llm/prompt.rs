//! Prompts per edit format, and the arithmetic of fitting files into a model's context. Pure:
//! strings in, messages out; no I/O. docs/edit-formats.md is the contract the examples follow.
//!
//! An edit request is a system message (the format's rules and a worked example, shown in the
//! fence chosen for the files) and one user message: the files, each in that fence under its
//! path, then the instruction, then a one-paragraph reminder of the format.

use crate::coders::{Fence, Format, choose_fence};

use super::Message;

/// A file shown to a model: its repository-relative path and its text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown<'a> {
    /// Repository-relative, `/`-separated.
    pub path: &'a str,
    /// The whole text.
    pub text: &'a str,
}

/// The fence for `files`: the first one no line of theirs starts with (docs/edit-formats.md,
/// Fences). The example in the system prompt uses it too, so the model copies it.
pub fn fence_for(files: &[Shown<'_>]) -> Fence {
    let texts: Vec<&str> = files.iter().map(|f| f.text).collect();
    let (open, close) = choose_fence(&texts);
    Fence { open, close }
}

/// The system prompt for edits in `format`, its example shown in `fence`.
pub fn system(format: Format, fence: &Fence) -> String {
    let (open, close) = (&fence.open, &fence.close);
    let rules = match format {
        Format::Diff => format!(
            "Describe each change as a SEARCH/REPLACE block. Put the file's path alone on a \
line, then open a fence ({open}), then `<<<<<<< SEARCH`, the exact lines to find (whole \
lines, copied character for character, including indentation and comments), `=======`, the \
lines to put there instead, `>>>>>>> REPLACE`, and close the fence ({close}).\n\
Keep each SEARCH short but unique in the file: the first match is replaced. Use several \
blocks for several changes, in file order. To create a file, use an empty SEARCH. To delete \
lines, use an empty REPLACE."
        ),
        Format::DiffFenced => format!(
            "Describe each change as a SEARCH/REPLACE block inside a fence: open the fence \
({open}), put the file's path alone on the first line inside it, then `<<<<<<< SEARCH`, the \
exact lines to find (whole lines, copied character for character), `=======`, the lines to \
put there instead, `>>>>>>> REPLACE`, and close the fence ({close}).\n\
Keep each SEARCH short but unique in the file: the first match is replaced. To create a \
file, use an empty SEARCH."
        ),
        Format::Udiff => "Describe the changes as a unified diff, like `diff -U0` would write \
it, in a fence opened with ```diff and closed with ```. Start each file with `--- PATH` and \
`+++ PATH` lines; start each change with a `@@ ... @@` line; mark removed lines with `-`, \
added lines with `+` and unchanged context lines with a space. Line numbers are not needed. \
Rewrite whole blocks (a whole function, a whole loop) rather than single lines scattered \
around, and include enough context lines to place each hunk."
            .to_string(),
        Format::Whole => format!(
            "For each file you change, reply with its path alone on a line, then the complete \
new content of the file in a fence ({open} … {close}). Never elide or abbreviate anything: \
the fence holds the whole file, every line of it, as it must be written. Do not list files \
you do not change."
        ),
        Format::Patch => "Describe the changes in the patch format: a line `*** Begin Patch`, \
then per file `*** Update File: PATH` followed by hunks, each an `@@` line (optionally with a \
line of the file that precedes the change, such as a function's signature), then the lines: \
` ` (a space) for context, `-` for removed, `+` for added. Give 3 lines of context around \
each change. `*** Add File: PATH` with every line prefixed by `+` creates a file. End with \
`*** End Patch`."
            .to_string(),
    };
    format!(
        "You are an expert software developer who edits source code precisely.\n\
Make the change the user asks for in the files they show you, and nothing else: keep the \
style, the formatting and the comments of the code around it. Only edit the files shown, \
unless the request needs a new file.\n\n\
# How to reply\n\n{rules}\n\n# Example\n\n{}",
        example(format, fence)
    )
}

/// The worked example of `format`: adding `import math` above Flask's import.
fn example(format: Format, fence: &Fence) -> String {
    let (open, close) = (&fence.open, &fence.close);
    let request = "Request: use `math.factorial` in mathweb/app.py.\n\nReply:\n\n";
    let body = match format {
        Format::Diff => format!(
            "mathweb/app.py\n{open}\n<<<<<<< SEARCH\nfrom flask import Flask\n=======\nimport \
math\nfrom flask import Flask\n>>>>>>> REPLACE\n{close}\n\nmathweb/app.py\n{open}\n<<<<<<< \
SEARCH\n    return str(factorial(n))\n=======\n    return str(math.factorial(n))\n>>>>>>> \
REPLACE\n{close}\n"
        ),
        Format::DiffFenced => format!(
            "{open}\nmathweb/app.py\n<<<<<<< SEARCH\nfrom flask import Flask\n=======\nimport \
math\nfrom flask import Flask\n>>>>>>> REPLACE\n{close}\n"
        ),
        Format::Udiff => "```diff\n--- mathweb/app.py\n+++ mathweb/app.py\n@@ ... @@\n-from \
flask import Flask\n+import math\n+from flask import Flask\n```\n"
            .to_string(),
        Format::Whole => format!(
            "mathweb/app.py\n{open}\nimport math\nfrom flask import Flask\n\napp = \
Flask(__name__)\n\n\n@app.route(\"/factorial/<int:n>\")\ndef get_factorial(n):\n    return \
str(math.factorial(n))\n{close}\n"
        ),
        Format::Patch => "*** Begin Patch\n*** Update File: mathweb/app.py\n@@\n-from flask \
import Flask\n+import math\n+from flask import Flask\n@@ def get_factorial(n):\n-    return \
str(factorial(n))\n+    return str(math.factorial(n))\n*** End Patch\n"
            .to_string(),
    };
    format!("{request}{body}")
}

/// The reminder closing each edit request.
pub fn reminder(format: Format) -> &'static str {
    match format {
        Format::Diff => {
            "Reply with SEARCH/REPLACE blocks only, each under its file's path, in the fence \
the files are shown in. SEARCH must copy existing lines exactly."
        }
        Format::DiffFenced => {
            "Reply with SEARCH/REPLACE blocks only, each in a fence whose first line is the \
file's path. SEARCH must copy existing lines exactly."
        }
        Format::Udiff => "Reply with the changes as a unified diff in a ```diff fence.",
        Format::Whole => {
            "Reply with the complete new content of each file you change, under its path, in \
the fence the files are shown in. Never elide anything."
        }
        Format::Patch => "Reply with one `*** Begin Patch` … `*** End Patch` block.",
    }
}

/// The files in `fence`, each under its path, as the user message shows them.
pub fn files_block(files: &[Shown<'_>], fence: &Fence) -> String {
    let mut out = String::new();
    for f in files {
        out.push_str(f.path);
        out.push('\n');
        out.push_str(&fence.open);
        out.push('\n');
        out.push_str(f.text);
        if !f.text.is_empty() && !f.text.ends_with('\n') {
            out.push('\n');
        }
        out.push_str(&fence.close);
        out.push_str("\n\n");
    }
    out
}

/// The messages of an edit request: `instruction` over `files`, to be answered in `format`.
/// Returns the fence chosen, which the reply's parser must be told.
pub fn edit_request(
    format: Format,
    instruction: &str,
    files: &[Shown<'_>],
) -> (Vec<Message>, Fence) {
    let fence = fence_for(files);
    let intro = if files.len() == 1 {
        "Here is the file to edit:\n\n"
    } else {
        "Here are the files to edit:\n\n"
    };
    let user = format!(
        "{intro}{}# Request\n\n{}\n\n{}\n",
        files_block(files, &fence),
        instruction.trim_end(),
        reminder(format)
    );
    (
        vec![Message::system(system(format, &fence)), Message::user(user)],
        fence,
    )
}

/// The system prompt of a question (`ask:`).
pub const ASK_SYSTEM: &str = "You are an expert software developer answering questions about \
a code base. Answer from the files shown: be specific, name the files (and lines, where it \
helps) your answer rests on, and say so plainly when the files do not tell. Do not propose \
edits unless asked.";

/// The messages of a question about `files`.
pub fn ask_request(question: &str, files: &[Shown<'_>]) -> Vec<Message> {
    let fence = fence_for(files);
    let shown = if files.is_empty() {
        String::new()
    } else {
        format!("# Files\n\n{}", files_block(files, &fence))
    };
    vec![
        Message::system(ASK_SYSTEM),
        Message::user(format!("{shown}# Question\n\n{}\n", question.trim_end())),
    ]
}

/// The rough token count of `bytes` bytes of text: ~4 bytes a token, rounded up.
pub fn estimate_tokens(bytes: usize) -> u64 {
    (bytes as u64).div_ceil(4)
}

/// Tokens of context when the model is not in [`context_window`]'s table.
pub const DEFAULT_CONTEXT_WINDOW: u64 = 32_768;

/// The context window of a model, in tokens, from a small built-in table by name (the last
/// `/` segment, lower case); [`DEFAULT_CONTEXT_WINDOW`] for names it does not know.
pub fn context_window(model: &str) -> u64 {
    let m = model.to_ascii_lowercase();
    let name = m.rsplit('/').next().unwrap_or(&m);
    let has = |s: &str| name.contains(s);
    if has("gpt-4.1") || has("gemini") {
        1_000_000
    } else if has("gpt-5") {
        400_000
    } else if has("claude") || name.starts_with("o1") || name.starts_with("o3") || has("o4-") {
        200_000
    } else if has("gpt-4o") || has("gpt-4-turbo") || has("deepseek") || has("mistral-large") {
        128_000
    } else if has("qwen") || has("codestral") || has("llama3") || has("llama-3") {
        32_768
    } else if name == "gpt-4" {
        8_192
    } else {
        DEFAULT_CONTEXT_WINDOW
    }
}

/// Tokens of `window` kept free for the reply: a quarter, at most 16k.
pub fn output_reserve(window: u64) -> u64 {
    (window / 4).min(16_384)
}

/// Tokens the files of one request may take: the window less the reply's reserve and the
/// prompt around the files (`overhead`, e.g. [`request_overhead`]).
pub fn room_for_files(window: u64, overhead: u64) -> u64 {
    window.saturating_sub(output_reserve(window) + overhead)
}

/// The estimated tokens of an edit (or question) request without its files.
pub fn request_overhead(format: Option<Format>, instruction: &str) -> u64 {
    let fence = Fence {
        open: "```".into(),
        close: "```".into(),
    };
    let fixed = match format {
        Some(f) => system(f, &fence).len() + reminder(f).len(),
        None => ASK_SYSTEM.len(),
    };
    estimate_tokens(fixed + instruction.len() + 64)
}

/// The tokens one shown file takes: its text plus its path and fence lines.
pub fn file_tokens(path: &str, text_bytes: usize) -> u64 {
    estimate_tokens(text_bytes + path.len() + 16)
}

/// Splits files (their token counts, in order) into consecutive batches of at most `room`
/// tokens each. A file larger than `room` alone fits no batch: it is returned in the second
/// list (by index) and left out of the batches.
pub fn batches(tokens: &[u64], room: u64) -> (Vec<Vec<usize>>, Vec<usize>) {
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut too_big = Vec::new();
    let mut current: Vec<usize> = Vec::new();
    let mut used = 0u64;
    for (i, &t) in tokens.iter().enumerate() {
        if t > room {
            too_big.push(i);
            continue;
        }
        if !current.is_empty() && used + t > room {
            out.push(std::mem::take(&mut current));
            used = 0;
        }
        current.push(i);
        used += t;
    }
    if !current.is_empty() {
        out.push(current);
    }
    (out, too_big)
}

/// The requests a task's files take: one per file (`per_file`), or consecutive batches that fit
/// `room` tokens; files larger than `room` go in no request and are returned by index.
pub fn jobs(tokens: &[u64], room: u64, per_file: bool) -> (Vec<Vec<usize>>, Vec<usize>) {
    if !per_file {
        return batches(tokens, room);
    }
    let (fit, big): (Vec<usize>, Vec<usize>) = (0..tokens.len()).partition(|&i| tokens[i] <= room);
    (fit.into_iter().map(|i| vec![i]).collect(), big)
}

/// What a model task is expected to ask, before it runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Estimate {
    /// Requests of the first round.
    pub requests: u64,
    /// Input tokens of those requests, estimated at ~4 bytes a token.
    pub input_tokens: u64,
    /// Files too large for the model's context window (sent nowhere).
    pub too_large: usize,
}

/// Estimates the requests of a task over files of these (path, byte length), answered by
/// `model` in `format` (`None`: a question), one request per file or in batches.
pub fn estimate(
    model: &str,
    format: Option<Format>,
    text: &str,
    files: &[(&str, usize)],
    per_file: bool,
) -> Estimate {
    let overhead = request_overhead(format, text);
    let room = room_for_files(context_window(model), overhead);
    let tokens: Vec<u64> = files.iter().map(|(p, n)| file_tokens(p, *n)).collect();
    let (jobs, big) = jobs(&tokens, room, per_file);
    Estimate {
        requests: jobs.len() as u64,
        input_tokens: jobs
            .iter()
            .map(|j| overhead + j.iter().map(|&i| tokens[i]).sum::<u64>())
            .sum(),
        too_large: big.len(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coders::{ApplyOptions, MemFiles, UdiffInput, parse_and_apply};

    const APP: &str = "from flask import Flask\n\napp = Flask(__name__)\n\n\n\
@app.route(\"/factorial/<int:n>\")\ndef get_factorial(n):\n    return str(factorial(n))\n";

    /// Each format's example, cut from the system prompt, applies to the file it describes:
    /// a model that imitates it writes a reply the coders read.
    #[test]
    fn every_example_applies_with_the_coders() {
        for format in Format::ALL {
            let fence = fence_for(&[Shown {
                path: "mathweb/app.py",
                text: APP,
            }]);
            let example = example(format, &fence);
            let reply = example.split("Reply:\n\n").nth(1).unwrap();
            let files = MemFiles::new().with("mathweb/app.py", APP);
            let outcome = parse_and_apply(
                format,
                reply,
                &files,
                &ApplyOptions {
                    udiff: UdiffInput::Reply,
                    fence: Some(fence.clone()),
                    given_files: Some(vec!["mathweb/app.py".into()]),
                    allow_shrink: false,
                },
            );
            assert!(
                outcome.all_applied() && !outcome.edits.is_empty(),
                "{format}: {outcome:?}"
            );
            let mut after = files.clone();
            after.apply(&outcome.changes);
            let text = String::from_utf8(after.files["mathweb/app.py"].clone()).unwrap();
            assert!(
                text.starts_with("import math\nfrom flask"),
                "{format}: {text}"
            );
            assert!(system(format, &fence).contains(&example));
        }
    }

    #[test]
    fn files_are_shown_in_a_fence_none_of_their_lines_starts_with() {
        let readme = "# Usage\n\n```sh\nmake\n```\n";
        let files = [
            Shown {
                path: "README.md",
                text: readme,
            },
            Shown {
                path: "a.py",
                text: "x = 1",
            },
        ];
        let (messages, fence) = edit_request(Format::Whole, "Fix typos.", &files);
        assert_eq!(fence.open, "````");
        assert_eq!(messages.len(), 2);
        let user = &messages[1].content;
        assert!(user.contains("README.md\n````\n# Usage\n\n```sh\nmake\n```\n````\n"));
        // A file without a final newline still closes its fence on a line of its own.
        assert!(user.contains("a.py\n````\nx = 1\n````\n"));
        assert!(user.contains("# Request\n\nFix typos.\n\n"));
        assert!(user.ends_with(&format!("{}\n", reminder(Format::Whole))));
        // The system prompt's example uses the same fence.
        assert!(messages[0].content.contains("mathweb/app.py\n````\n"));
    }

    #[test]
    fn questions_show_the_files_then_the_question() {
        let m = ask_request(
            "Where is main?",
            &[Shown {
                path: "src/main.rs",
                text: "fn main() {}\n",
            }],
        );
        assert_eq!(m[0].content, ASK_SYSTEM);
        assert_eq!(
            m[1].content,
            "# Files\n\nsrc/main.rs\n```\nfn main() {}\n```\n\n# Question\n\nWhere is main?\n"
        );
    }

    #[test]
    fn batches_pack_in_order_and_set_aside_what_fits_nowhere() {
        assert_eq!(
            batches(&[40, 50, 20, 200, 90, 10], 100),
            (vec![vec![0, 1], vec![2], vec![4, 5]], vec![3])
        );
        assert_eq!(batches(&[], 100), (Vec::<Vec<usize>>::new(), vec![]));
        assert_eq!(estimate_tokens(9), 3);
        assert_eq!(context_window("openai/gpt-4.1-mini"), 1_000_000);
        assert_eq!(context_window("some-local-model"), DEFAULT_CONTEXT_WINDOW);
        assert!(room_for_files(DEFAULT_CONTEXT_WINDOW, 1000) < DEFAULT_CONTEXT_WINDOW);
        assert_eq!(
            jobs(&[5, 500, 6], 100, true),
            (vec![vec![0], vec![2]], vec![1])
        );
    }

    #[test]
    fn estimates_count_requests_and_input_tokens() {
        let files = [("a.py", 4000), ("b.py", 400)];
        let per_file = estimate("gpt-4.1", Some(Format::Patch), "Do it.", &files, true);
        let overhead = request_overhead(Some(Format::Patch), "Do it.");
        assert_eq!(per_file.requests, 2);
        assert_eq!(
            per_file.input_tokens,
            2 * overhead + file_tokens("a.py", 4000) + file_tokens("b.py", 400)
        );
        let per_repo = estimate("gpt-4.1", Some(Format::Patch), "Do it.", &files, false);
        assert_eq!(per_repo.requests, 1);
        assert_eq!(estimate("x", None, "Why?", &[], false).requests, 0);
    }
}
