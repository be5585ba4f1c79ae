//! The coders: one module per edit format and task kind. Pure: text in, edits or failures out;
//! no file system, no git. The files a coder may read and the policy on writing them come in
//! through the [`Files`] trait, implemented outside this module.
//!
//! This file is the public contract used by `workspace/`, `exec/` and `cli/apply`:
//! [`Format`], [`Files`], [`parse_and_apply`], [`Outcome`], [`Change`], [`EditReport`].

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

pub mod diff;
pub mod diff_fenced;
pub mod edit;
mod engine;
mod feedback;
pub mod matching;
pub mod modes;
pub mod patch;
pub mod replace;
pub mod text;
pub mod udiff;
pub mod whole;

pub use edit::{Chunk, Edit, Hunk, HunkLine, Op, ParseFailure, Parsed};
pub use feedback::closest_window;
pub use replace::{ReplaceOptions, Replacer};
pub use text::{Fence, choose_fence};

/// The edit formats of docs/edit-formats.md.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// SEARCH/REPLACE blocks, path above the fence.
    Diff,
    /// SEARCH/REPLACE blocks, path as the first line inside the fence.
    DiffFenced,
    /// Unified diffs: fenced model replies or whole patch files.
    Udiff,
    /// Whole files in fences.
    Whole,
    /// The `*** Begin Patch` format.
    Patch,
}

impl Format {
    /// Every format, in the order documented.
    pub const ALL: [Format; 5] = [
        Format::Diff,
        Format::DiffFenced,
        Format::Udiff,
        Format::Whole,
        Format::Patch,
    ];

    /// The name used in pipelines and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::Diff => "diff",
            Format::DiffFenced => "diff-fenced",
            Format::Udiff => "udiff",
            Format::Whole => "whole",
            Format::Patch => "patch",
        }
    }

    /// Parses a format name.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Read access to the files a coder may edit, and the policy on writing them. `workspace/`
/// implements it over a directory or a git tree; tests implement it over a map.
pub trait Files {
    /// Every known file path, relative to the root, `/`-separated, sorted. Used for basename
    /// and close-match rescue and `whole`'s only-file rule.
    fn paths(&self) -> Vec<String>;
    /// The bytes of a file, or `None` when there is no such file.
    fn read(&self, path: &str) -> Option<Vec<u8>>;
    /// [`Files::read`] for many paths at once, in their order; a view that can read in
    /// parallel (a directory on disk) overrides it.
    fn read_many(&self, paths: &[&str]) -> Vec<Option<Vec<u8>>> {
        paths.iter().map(|p| self.read(p)).collect()
    }
    /// Whether an edit may create, change or delete `path`; `Err(reason)` refuses it, and the
    /// edit fails with that reason.
    fn check_write(&self, path: &str) -> Result<(), String>;
}

/// The net effect of applying a reply, one entry per path touched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Write these exact bytes (line endings, BOM and final newline already preserved).
    Write {
        /// The path written.
        path: String,
        /// The new content.
        content: Vec<u8>,
        /// True when the file did not exist before.
        created: bool,
        /// For a rename, the old path whose permissions the new file keeps.
        renamed_from: Option<String>,
    },
    /// Delete the file.
    Delete {
        /// The path deleted.
        path: String,
    },
}

impl Change {
    /// The path written or deleted.
    pub fn path(&self) -> &str {
        match self {
            Change::Write { path, .. } | Change::Delete { path } => path,
        }
    }
}

/// How one edit (block, hunk, file listing) fared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EditReport {
    /// 0-based position of the edit in the reply.
    pub index: usize,
    /// The path the edit named (after cleaning).
    pub path: String,
    /// 1-based line of the reply where the edit starts.
    pub line: usize,
    /// The edit as the model or user wrote it.
    pub block: String,
    /// Applied (and how) or failed (and why).
    pub status: EditStatus,
}

/// The result of one edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EditStatus {
    /// Applied to `file` (which differs from the named path when rescued) by `strategy`.
    Applied {
        /// The file actually changed.
        file: String,
        /// Which matching strategy worked (e.g. `exact`, `indentation`, `elision`).
        strategy: &'static str,
    },
    /// Not applied.
    Failed {
        /// Why, in words fit for both a user and a model.
        reason: String,
    },
}

/// Everything a reply did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The net changes, in the order paths were first touched.
    pub changes: Vec<Change>,
    /// One report per edit, in reply order.
    pub edits: Vec<EditReport>,
    /// Shell commands the reply suggested (reported, never run).
    pub suggested_commands: Vec<String>,
    /// Text to send back to a model when any edit failed (docs/edit-formats.md, Feedback).
    pub feedback: Option<String>,
}

impl Outcome {
    /// True when every edit applied.
    pub fn all_applied(&self) -> bool {
        self.edits
            .iter()
            .all(|e| matches!(e.status, EditStatus::Applied { .. }))
    }
}

/// How `udiff` text is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UdiffInput {
    /// Decide with [`udiff_is_reply`]: a text holding ```` ```diff ```` fences is a reply.
    #[default]
    Auto,
    /// A model reply: only ```` ```diff ```` fences are read.
    Reply,
    /// A patch file, read whole (`git diff`, `diff -u`).
    PatchFile,
}

/// Options for [`parse_and_apply`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApplyOptions {
    /// Whether a `udiff` text is a model reply or a patch file.
    pub udiff: UdiffInput,
    /// The fence the prompt chose (see [`choose_fence`]); the plain triple fence is always
    /// accepted too.
    pub fence: Option<Fence>,
    /// The files the task gave the model: tried when a SEARCH matches nothing in its own file
    /// (wrong-file rescue), and `whole`'s only-file rule. `None`: every known file (what
    /// `codefleet apply` wants).
    pub given_files: Option<Vec<String>>,
    /// Whether a `whole` listing may drop more than half of an existing file's lines (a task
    /// that asks for removals); else such a listing is refused as not a whole file.
    pub allow_shrink: bool,
}

/// Whether a `udiff` text is a model reply (it holds ```` ```diff ```` fences) rather than a
/// patch file to read whole; what `apply --format udiff` uses to decide.
pub fn udiff_is_reply(text: &str) -> bool {
    udiff::is_reply(text)
}

/// Parses a reply in `format` into edits and failures, in reply order; `known` are the files
/// present (with [`ApplyOptions::given_files`], the files the task knows).
pub fn parse(format: Format, text: &str, known: &[String], opts: &ApplyOptions) -> Parsed {
    let given = opts.given_files.as_deref().unwrap_or(&[]);
    let knows = |p: &str| {
        let all = || known.iter().chain(given);
        names_known(p, |q| all().any(|k| k == q), |name| one_named(all(), name))
    };
    parse_knowing(format, text, known, &knows, opts)
}

/// Whether `path` names a file the task knows, for the prose rule of SEARCH/REPLACE paths: the
/// file itself (`exists`), or, for a bare file name, the one known file with that name
/// (`one_named`, asked only then: it may list the repository).
fn names_known(
    path: &str,
    exists: impl Fn(&str) -> bool,
    one_named: impl FnOnce(&str) -> bool,
) -> bool {
    let Ok(p) = text::normalize_path(path) else {
        return false;
    };
    exists(&p) || (!p.contains('/') && one_named(&p))
}

/// Whether exactly one of `paths` (duplicates aside) has the file name `name`.
fn one_named<'p>(paths: impl Iterator<Item = &'p String>, name: &str) -> bool {
    let named: HashSet<&str> = paths
        .filter(|k| text::basename(k) == name)
        .map(String::as_str)
        .collect();
    named.len() == 1
}

fn parse_knowing(
    format: Format,
    text: &str,
    known: &[String],
    knows: &dyn Fn(&str) -> bool,
    opts: &ApplyOptions,
) -> Parsed {
    // No prompt chose a fence (`codefleet apply`, an `edits:` file): the reply's own, if a tag.
    let detected = opts
        .fence
        .is_none()
        .then(|| text::reply_fence(text))
        .flatten();
    let fence = opts.fence.as_ref().or(detected.as_ref());
    match format {
        Format::Diff => diff::parse_items_knowing(text, fence, knows),
        Format::DiffFenced => diff_fenced::parse_items_knowing(text, fence, knows),
        Format::Udiff => {
            let reply = match opts.udiff {
                UdiffInput::Auto => udiff::is_reply(text),
                UdiffInput::Reply => true,
                UdiffInput::PatchFile => false,
            };
            if reply {
                udiff::parse_reply(text)
            } else {
                udiff::parse_patch_file(text)
            }
        }
        Format::Whole => whole::parse_items(
            text,
            fence,
            opts.given_files.as_deref().unwrap_or(known),
            knows,
        ),
        Format::Patch => patch::parse_items(text),
    }
}

/// Parses `text` in `format` and applies its edits, in reply order, against `files`. Nothing is
/// written: the net effect comes back as [`Outcome::changes`].
///
/// The strategies an [`EditStatus::Applied`] names: `diff`: `exact`, `indentation`,
/// `blank-first-line`, `trailing-blank-lines`, `elision`, `unwrapped` (without a wrapping fence
/// pair), `create`, `append`; `udiff`: `exact`, `nearest`, `blank-lines`, `whole-line-context`,
/// `relative-indentation`, `context-shrinking`, `insert`; `whole`: `whole`, `create`;
/// `patch`: `exact`, `rstrip`, `strip`; any format: `create`, `append`, `delete`, `rename`,
/// `copy`.
pub fn parse_and_apply(
    format: Format,
    text: &str,
    files: &dyn Files,
    opts: &ApplyOptions,
) -> Outcome {
    // Only `whole` needs the listing to parse (its only-file rule); other formats list the
    // files on first need, so a patch whose paths all exist never walks the directory.
    let known = (format == Format::Whole && opts.given_files.is_none()).then(|| files.paths());
    // SEARCH/REPLACE paths written as prose ask whether a file is known: given, or present.
    let given = opts.given_files.as_deref().unwrap_or(&[]);
    let listing = std::cell::OnceCell::new();
    let knows = |p: &str| {
        names_known(
            p,
            |q| given.iter().any(|g| g == q) || files.read(q).is_some(),
            |name| {
                one_named(
                    listing.get_or_init(|| files.paths()).iter().chain(given),
                    name,
                )
            },
        )
    };
    let parsed = parse_knowing(format, text, known.as_deref().unwrap_or(&[]), &knows, opts);
    let mut engine = engine::Engine::new(files, known, opts.given_files.clone());
    engine.allow_shrink = opts.allow_shrink;
    engine.preload(parsed.items.iter().filter_map(|item| match item {
        edit::Item::Edit(e) => Some(e.path.as_str()),
        edit::Item::Failure(_) => None,
    }));
    // Where each named path is named for the last time: past it, its text is packed.
    let last: HashMap<&str, usize> = parsed
        .items
        .iter()
        .enumerate()
        .filter_map(|(index, item)| match item {
            edit::Item::Edit(e) => Some((e.path.as_str(), index)),
            edit::Item::Failure(_) => None,
        })
        .collect();
    let mut edits = Vec::with_capacity(parsed.items.len());
    for (index, item) in parsed.items.iter().enumerate() {
        let report = match item {
            edit::Item::Edit(e) => {
                let status = engine.apply(index, e);
                if last.get(e.path.as_str()) == Some(&index) {
                    engine.pack(&e.path);
                    if let EditStatus::Applied { file, .. } = &status {
                        engine.pack(file);
                    }
                }
                EditReport {
                    index,
                    path: e.path.clone(),
                    line: e.line,
                    block: e.block.clone(),
                    status,
                }
            }
            edit::Item::Failure(f) => EditReport {
                index,
                path: f.path.clone(),
                line: f.line,
                block: f.block.clone(),
                status: EditStatus::Failed {
                    reason: f.message.clone(),
                },
            },
        };
        edits.push(report);
    }
    let feedback = feedback_for(&edits, &mut engine);
    let changes = engine.into_changes();
    Outcome {
        changes,
        edits,
        suggested_commands: parsed.suggested_commands,
        feedback,
    }
}

fn feedback_for(edits: &[EditReport], engine: &mut engine::Engine<'_>) -> Option<String> {
    let failed: Vec<&EditReport> = edits
        .iter()
        .filter(|e| matches!(e.status, EditStatus::Failed { .. }))
        .collect();
    if failed.is_empty() {
        return None;
    }
    let applied = edits.len() - failed.len();
    let mut files: Vec<(String, Vec<String>)> = Vec::new();
    for e in &failed {
        if let Some(d) = engine.details.get(&e.index)
            && let Some(f) = d.file.clone()
            && !files.iter().any(|(p, _)| *p == f)
            && let Some(lines) = engine.current_lines(&f)
        {
            files.push((f, lines));
        }
    }
    let items: Vec<feedback::Failed<'_>> = failed
        .iter()
        .map(|e| {
            let reason = match &e.status {
                EditStatus::Failed { reason } => reason.as_str(),
                EditStatus::Applied { .. } => "",
            };
            let search = engine.details.get(&e.index).and_then(|d| {
                let f = d.file.as_ref()?;
                let (p, lines) = files.iter().find(|(p, _)| p == f)?;
                Some((
                    p.as_str(),
                    lines.as_slice(),
                    d.search.as_slice(),
                    d.replace.as_slice(),
                ))
            });
            feedback::Failed {
                path: &e.path,
                line: e.line,
                block: &e.block,
                reason,
                search,
            }
        })
        .collect();
    Some(feedback::render(&items, applied))
}

/// Guesses the format of a text for `--format auto`: `patch` for `*** Begin Patch`, `diff` for
/// SEARCH/REPLACE markers, `udiff` for `diff --git` or `---`/`+++`/`@@` headers or a
/// ```` ```diff ```` fence, `whole` for a fence under a path line; else `None`.
pub fn detect_format(text: &str) -> Option<Format> {
    let lines: Vec<&str> = text::reply_line_strs(text).collect();
    if lines.iter().any(|l| l.trim() == "*** Begin Patch") {
        return Some(Format::Patch);
    }
    // A SEARCH head without its divider is a broken (cut off) diff reply, not whole files:
    // read as whole files it would write the markers into the file.
    if lines.iter().any(|l| text::is_head(l)) {
        return Some(Format::Diff);
    }
    let git = lines.iter().any(|l| l.starts_with("diff --git "));
    let headers = lines
        .windows(3)
        .any(|w| w[0].starts_with("--- ") && w[1].starts_with("+++ ") && w[2].starts_with("@@"));
    if git || headers || udiff::is_reply(text) {
        return Some(Format::Udiff);
    }
    let parsed = whole::parse_items(text, text::reply_fence(text).as_ref(), &[], &|_| false);
    if !parsed.edits().is_empty() {
        return Some(Format::Whole);
    }
    None
}

/// An in-memory [`Files`]: for tests and fuzzing. Paths in `deny` (exact, or a prefix ending in
/// `/`) are refused by `check_write`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MemFiles {
    /// The files, by path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// Refused paths: exact paths, or directory prefixes ending in `/`.
    pub deny: Vec<String>,
}

impl MemFiles {
    /// An empty set of files.
    pub fn new() -> MemFiles {
        MemFiles::default()
    }

    /// Adds a file.
    pub fn with(mut self, path: &str, content: impl Into<Vec<u8>>) -> MemFiles {
        self.files.insert(path.to_string(), content.into());
        self
    }

    /// Applies the changes of an [`Outcome`].
    pub fn apply(&mut self, changes: &[Change]) {
        for c in changes {
            match c {
                Change::Write { path, content, .. } => {
                    self.files.insert(path.clone(), content.clone());
                }
                Change::Delete { path } => {
                    self.files.remove(path);
                }
            }
        }
    }
}

impl Files for MemFiles {
    fn paths(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        self.files.get(path).cloned()
    }

    fn check_write(&self, path: &str) -> Result<(), String> {
        let denied = self
            .deny
            .iter()
            .any(|d| d == path || (d.ends_with('/') && path.starts_with(d.as_str())));
        if denied {
            Err("denied by policy".to_string())
        } else {
            Ok(())
        }
    }
}

/// Files shorter than this are edited with `whole` whatever the model (docs/edit-formats.md,
/// Choosing a format).
pub const WHOLE_BELOW_LINES: usize = 100;

/// The built-in choice of format for `edit_format: auto` by model name (config may extend it):
/// `patch` for GPT-4.1 and later OpenAI models, `udiff` for GPT-4 Turbo, `diff-fenced` for the
/// Gemini family, `diff` for other strong models, `whole` for small local and unknown models.
/// `max_file_lines` is the longest file the task edits, when known: under
/// [`WHOLE_BELOW_LINES`] it is always `whole`.
pub fn format_for_model(model: &str, max_file_lines: Option<usize>) -> Format {
    if max_file_lines.is_some_and(|n| n < WHOLE_BELOW_LINES) {
        return Format::Whole;
    }
    let m = model.to_ascii_lowercase();
    let name = m.rsplit('/').next().unwrap_or(&m);
    let has = |s: &str| name.contains(s);
    if has("gemini") {
        Format::DiffFenced
    } else if has("gpt-4-turbo") || has("gpt-4-1106") || has("gpt-4-0125") {
        Format::Udiff
    } else if has("gpt-4.1")
        || has("gpt-4.5")
        || has("gpt-5")
        || name.starts_with("o3")
        || name.starts_with("o4")
        || has("codex")
    {
        Format::Patch
    } else if has("claude")
        || has("gpt-4o")
        || name == "gpt-4"
        || has("deepseek")
        || has("qwen3-coder")
        || has("qwen2.5-coder-32b")
        || has("grok")
        || has("mistral-large")
        || has("codestral")
        || has("kimi")
        || has("glm-4")
        || has("o1")
    {
        Format::Diff
    } else {
        Format::Whole
    }
}
