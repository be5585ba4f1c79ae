//! The deterministic task kinds over a task's files: each file read from the overlay or the
//! base (one repository handle per worker thread), edited in parallel, the interrupt flag
//! checked before each file and panics caught per file.

use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use std::path::Path;

use crate::coders::replace::{ReplaceOptions, Replacer};
use crate::coders::{self, ApplyOptions, Change, EditStatus, Files, Format, UdiffInput};
use crate::git::{FileMode, PackWriter, Repo};
use crate::pipeline::{Atomic, FileFilter, Policy, Replace};
use crate::workspace::{Found, Selects, Skip, WriteCheck, content_skip, is_binary};

use super::pool::catching;
use crate::workspace::{Reader, Stored};

/// What a task did to one file.
#[derive(Debug)]
pub(crate) enum FileOutcome {
    /// Left as it was.
    Unchanged,
    /// Left alone by policy.
    Skipped(Skip),
    /// Not looked at: the run was interrupted.
    Interrupted,
    /// Failed, with why and where.
    Failed {
        /// Why.
        message: String,
        /// The 1-based line, when known.
        line: Option<usize>,
    },
    /// Changed: content before (`None`: created; empty when not kept for a diff) and after
    /// (`None`: deleted; a stored blob when the run stores new files as it goes).
    Changed {
        old: Option<Vec<u8>>,
        new: Option<Stored>,
        replacements: Option<usize>,
    },
}

impl FileOutcome {
    /// Failed for `message`, at no particular line.
    fn failed(message: impl Into<String>) -> FileOutcome {
        FileOutcome::Failed {
            message: message.into(),
            line: None,
        }
    }
}

/// How each file of a task is handled.
#[derive(Clone, Copy)]
pub(crate) struct PerFile<'a> {
    /// Larger files are skipped.
    pub max_size: u64,
    /// Keep the old content (for diffs).
    pub keep_old: bool,
    /// Store each new file's blob as soon as it is computed (runs that write, in repositories
    /// with a working tree), so a big task does not hold every new file in memory.
    pub store: bool,
    /// Where stored blobs go when not loose (set by [`replace_files`] for a large task).
    pub pack: Option<&'a PackWriter>,
    /// Checked before each file.
    pub interrupt: &'a AtomicBool,
    /// Called after each file.
    pub done: &'a (dyn Fn(&str) + Sync),
}

/// Applies a find-and-replace to `files`, in parallel on the current pool (a few on this
/// thread, through `local`); results in file order. `done` is called after each file.
pub(crate) fn replace_files(
    reader: &Reader<'_>,
    local: &Repo,
    files: &[String],
    replace: &Replace,
    with: &str,
    how: &PerFile<'_>,
) -> Vec<(String, FileOutcome)> {
    let replacer = match replacer(replace, with) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("cannot compile `{}`: {e}", replace.find);
            return files
                .iter()
                .map(|p| (p.clone(), FileOutcome::failed(message.clone())))
                .collect();
        }
    };
    // A few files are done here, with the caller's handle: opening a handle per worker
    // costs more than the files (a fleet of small repositories is thousands of such tasks).
    if files.len() <= SEQUENTIAL_UP_TO {
        return files
            .iter()
            .map(|path| one_file(reader, Some(local), path, &replacer, how))
            .collect();
    }
    // One repository handle per worker thread, opened on first use and kept for the whole
    // task: rayon's `map_init` would open one per split, and each handle loads the index for
    // the working-tree fast path.
    let handles: Vec<Mutex<Option<Option<Repo>>>> = (0..rayon::current_num_threads().max(1))
        .map(|_| Mutex::new(None))
        .collect();
    // A large task's blobs go into one pack rather than thousands of loose files.
    let pack = (how.store && files.len() > PackWriter::LOOSE_FIRST)
        .then(|| PackWriter::begin(local.git2().commondir()));
    let how = &PerFile {
        pack: pack.as_ref(),
        ..*how
    };
    let outcomes = files
        .par_iter()
        .map(|path| {
            let slot = rayon::current_thread_index().unwrap_or(0) % handles.len();
            let mut guard = handles[slot].lock().unwrap_or_else(|p| p.into_inner());
            let repo = guard.get_or_insert_with(|| reader.open());
            one_file(reader, repo.as_ref(), path, &replacer, how)
        })
        .collect();
    match pack.map(PackWriter::finish) {
        Some(Err(e)) => unpacked(outcomes, &e.to_string()),
        _ => outcomes,
    }
}

/// Tasks over at most this many files run on the calling thread.
const SEQUENTIAL_UP_TO: usize = 16;

/// One file's replacement through `repo` (`None`: the worker could not open one), unless
/// interrupted; `how.done` is told.
fn one_file(
    reader: &Reader<'_>,
    repo: Option<&Repo>,
    path: &str,
    replacer: &Replacer,
    how: &PerFile<'_>,
) -> (String, FileOutcome) {
    if how.interrupt.load(Ordering::SeqCst) {
        return (path.to_string(), FileOutcome::Interrupted);
    }
    let outcome = catching(|| match repo {
        Some(repo) => replace_one(reader, repo, path, replacer, how),
        None => FileOutcome::failed("cannot open the repository from a worker thread"),
    })
    .unwrap_or_else(|msg| {
        FileOutcome::failed(format!("internal error (a bug in codefleet): {msg}"))
    });
    (how.done)(path);
    (path.to_string(), outcome)
}

/// The outcomes of a task whose pack could not be finished: each file stored in it failed.
fn unpacked(outcomes: Vec<(String, FileOutcome)>, why: &str) -> Vec<(String, FileOutcome)> {
    outcomes
        .into_iter()
        .map(|(path, outcome)| match outcome {
            FileOutcome::Changed {
                new: Some(Stored::Blob(_)),
                ..
            } => {
                let message = format!("cannot write the pack of the task's new files: {why}");
                (path, FileOutcome::failed(message))
            }
            other => (path, other),
        })
        .collect()
}

/// The find-and-replace of one file, read through `repo` (this worker thread's handle).
fn replace_one(
    reader: &Reader<'_>,
    repo: &Repo,
    path: &str,
    replacer: &Replacer,
    how: &PerFile<'_>,
) -> FileOutcome {
    // A file over the limit is skipped before it is read.
    if reader.too_large(repo, path, how.max_size) {
        return FileOutcome::Skipped(Skip::TooLarge);
    }
    let bytes = match reader.read(repo, path) {
        Ok(Some(b)) => b,
        Ok(None) => return FileOutcome::Unchanged,
        Err(e) => return FileOutcome::failed(e.message),
    };
    if let Some(skip) = content_skip(&bytes, how.max_size) {
        return FileOutcome::Skipped(skip);
    }
    let Some((new, count)) = replacer.replace(&bytes) else {
        return FileOutcome::Unchanged;
    };
    if new == bytes {
        return FileOutcome::Unchanged;
    }
    let new = if how.store {
        let mode = reader
            .overlay
            .paths
            .get(path)
            .copied()
            .unwrap_or(FileMode::Regular);
        let stored = match how.pack {
            Some(pack) => repo.store_blob_packed(pack, path, &new, mode),
            None => repo.store_blob(path, &new, mode),
        };
        match stored {
            Ok(id) => Stored::Blob(id),
            Err(e) => return FileOutcome::failed(e.message),
        }
    } else {
        Stored::Bytes(new)
    };
    FileOutcome::Changed {
        // Only a diff needs the old content; a big run should not hold it.
        old: Some(if how.keep_old { bytes } else { Vec::new() }),
        new: Some(new),
        replacements: Some(count),
    }
}

/// The coders' [`Replacer`] for a checked `replace:`: a plain literal keeps the fast literal
/// search; otherwise the pipeline's pattern (escaping included) is compiled again with the
/// task's flags, with `$1` expanding only for a regex `find`.
pub(crate) fn replacer(replace: &Replace, with: &str) -> Result<Replacer, String> {
    let plain_literal = !replace.is_regex
        && !replace.case_insensitive
        && replace.regex.as_str() == regex::escape(&replace.find);
    if plain_literal {
        return Replacer::new(
            &replace.find,
            with,
            ReplaceOptions {
                max_count: replace.max_count,
                ..ReplaceOptions::default()
            },
        );
    }
    Replacer::new(
        replace.regex.as_str(),
        with,
        ReplaceOptions {
            regex: true,
            case_insensitive: replace.case_insensitive,
            literal_replacement: !replace.is_regex,
            max_count: replace.max_count,
            ..ReplaceOptions::default()
        },
    )
}

/// The [`Files`] a `patch` or `edits` task sees: the overlay over the base tree, writes
/// confined by the task's `files:`, the deny globs and `allow_create`.
pub(crate) struct OverlayFiles<'a> {
    pub repo: &'a Repo,
    pub reader: &'a Reader<'a>,
    pub filter: Option<&'a FileFilter>,
    pub policy: &'a Policy,
}

impl OverlayFiles<'_> {
    /// The rules a deterministic task writes under: the size limit binds only when the
    /// pipeline set it.
    fn write_check(&self) -> WriteCheck<'_> {
        WriteCheck {
            policy: self.policy,
            limit: self.policy.deterministic_max_file_size(),
            scope: self.filter.map(|f| f as &dyn Selects),
        }
    }
}

impl Files for OverlayFiles<'_> {
    fn paths(&self) -> Vec<String> {
        self.reader.overlay.paths.keys().cloned().collect()
    }

    fn read(&self, path: &str) -> Option<Vec<u8>> {
        // Denied files read as absent, as they do for a model: an edit of one then fails on
        // the policy, with that reason.
        if !self.reader.overlay.paths.contains_key(path) || self.policy.deny.is_match(path) {
            return None;
        }
        self.reader.read(self.repo, path).ok().flatten()
    }

    fn check_write(&self, path: &str) -> Result<(), String> {
        let check = self.write_check();
        let overlay = self.reader.overlay;
        check
            .check(
                path,
                |p| overlay.confine(p),
                |p, _| {
                    if !overlay.paths.contains_key(p) {
                        Found::Missing
                    } else if self.reader.too_large(self.repo, p, check.limit) {
                        Found::TooLarge(None)
                    } else if self.read(p).is_some_and(|b| is_binary(&b)) {
                        Found::Binary
                    } else {
                        Found::Text
                    }
                },
            )
            .map(drop)
            .map_err(|r| format!("refused: {r}"))
    }
}

/// What a `patch:` or `edits:` file did: each file's outcome, and the mode each written file
/// gets where it is not simply the mode it had (a patch's `new file mode`/`new mode`, a
/// renamed file's old mode).
pub(crate) struct Edited {
    pub outcomes: Vec<(String, FileOutcome)>,
    pub modes: std::collections::BTreeMap<String, FileMode>,
}

/// Applies a `patch:` or `edits:` file through the coders. `Err` is a failure of the whole task
/// (the file cannot be read, its format not recognised).
pub(crate) fn edit_files(
    files: &OverlayFiles<'_>,
    source: &Path,
    format: Option<Format>,
    udiff: UdiffInput,
    allow_shrink: bool,
) -> Result<Edited, String> {
    let (text, format) = read_edits(source, format)?;
    let options = ApplyOptions {
        udiff,
        allow_shrink,
        ..ApplyOptions::default()
    };
    let outcome = coders::parse_and_apply(format, &text, files, &options);
    // A file with nothing readable in it is a mistake (most often the wrong `format:`), not a
    // task with nothing to do: `codefleet apply` says E065 for the same input.
    let patch_file = format == Format::Udiff && !coders::udiff_is_reply(&text);
    if outcome.edits.is_empty()
        && outcome.changes.is_empty()
        && outcome.suggested_commands.is_empty()
        && (!patch_file || coders::modes::modes(&text).is_empty())
    {
        return Err(no_edits(source, format, udiff));
    }
    let mut edited = Edited {
        outcomes: Vec::new(),
        modes: std::collections::BTreeMap::new(),
    };
    for edit in &outcome.edits {
        if let EditStatus::Failed { reason } = &edit.status {
            let message = format!(
                "edit {} (line {} of {}): {reason}",
                edit.index + 1,
                edit.line,
                source.display()
            );
            edited
                .outcomes
                .push((edit.path.clone(), FileOutcome::failed(message)));
        }
    }
    for change in outcome.changes {
        edited.take(files, change);
    }
    if patch_file {
        patch_modes(
            files,
            &text,
            source,
            &mut edited.outcomes,
            &mut edited.modes,
        );
    }
    Ok(edited)
}

/// The text of an edits file and its format (`None`: told from the text).
fn read_edits(source: &Path, format: Option<Format>) -> Result<(String, Format), String> {
    let bytes =
        std::fs::read(source).map_err(|e| format!("cannot read `{}`: {e}", source.display()))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| format!("`{}` is not UTF-8 text", source.display()))?;
    match format.or_else(|| coders::detect_format(&text)) {
        Some(f) => Ok((text, f)),
        None => Err(format!(
            "cannot tell the edit format of `{}`; set `format:` on the task",
            source.display()
        )),
    }
}

/// Why an edits file with nothing readable in it fails its task.
fn no_edits(source: &Path, format: Format, udiff: UdiffInput) -> String {
    if udiff == UdiffInput::PatchFile {
        format!(
            "found no edits in `{}`: a `patch:` file is a unified diff (as `git diff` \
             writes it); for another edit format use an `edits:` task with `format:`",
            source.display()
        )
    } else {
        format!(
            "found no edits in `{}` read as `{format}`; if it is written in another format, \
             set the task's `format:` to it (diff, diff-fenced, udiff, whole, patch)",
            source.display()
        )
    }
}

impl Edited {
    /// Takes in one change the coders computed, refused when the policy forbids it.
    fn take(&mut self, files: &OverlayFiles<'_>, change: Change) {
        let check = files.write_check();
        match change {
            Change::Write {
                path,
                content,
                renamed_from,
                ..
            } => {
                if let Err(r) = check.check_content(&path, content.len()) {
                    let message = format!("refused: {r}");
                    self.outcomes.push((path, FileOutcome::failed(message)));
                    return;
                }
                // A renamed file keeps its mode unless the patch sets one (below).
                if let Some(mode) = renamed_from
                    .as_ref()
                    .and_then(|from| files.reader.overlay.paths.get(from))
                {
                    self.modes.insert(path.clone(), *mode);
                }
                let old = files.read(&path);
                let new = Some(Stored::Bytes(content));
                let replacements = None;
                let changed = FileOutcome::Changed {
                    old,
                    new,
                    replacements,
                };
                self.outcomes.push((path, changed));
            }
            Change::Delete { path } if !files.policy.allow_delete => {
                let message = format!(
                    "refused: deleting `{path}` is not allowed (policy `allow_delete: false`)"
                );
                self.outcomes.push((path, FileOutcome::failed(message)));
            }
            Change::Delete { path } => {
                let old = files.read(&path);
                let changed = FileOutcome::Changed {
                    old,
                    new: None,
                    replacements: None,
                };
                self.outcomes.push((path, changed));
            }
        }
    }
}

/// The modes a git patch sets: recorded for the files it writes; a file whose mode alone
/// changes becomes a change of its own (same content, new mode), checked by the same policy.
/// Only regular and executable files: a patch that makes a symlink or a submodule fails
/// that file rather than writing a plain file in its place.
fn patch_modes(
    files: &OverlayFiles<'_>,
    text: &str,
    source: &Path,
    out: &mut Vec<(String, FileOutcome)>,
    modes: &mut std::collections::BTreeMap<String, FileMode>,
) {
    let written: std::collections::BTreeSet<String> = out
        .iter()
        .filter(|(_, o)| matches!(o, FileOutcome::Changed { new: Some(_), .. }))
        .map(|(p, _)| p.clone())
        .collect();
    let deleted = |p: &str| {
        out.iter()
            .any(|(q, o)| q == p && matches!(o, FileOutcome::Changed { new: None, .. }))
    };
    let mut extra = Vec::new();
    let mut unwritable = Vec::new();
    for m in coders::modes::modes(text) {
        let fail = |message: String| {
            (
                m.path.clone(),
                FileOutcome::Failed {
                    message,
                    line: None,
                },
            )
        };
        let mode = match FileMode::from_bits(m.new as i32) {
            Some(mode @ (FileMode::Regular | FileMode::Executable)) => mode,
            _ => {
                extra.push(fail(format!(
                    "mode {:o} (line {} of {}) is not a regular or executable file; a patch task writes only those",
                    m.new,
                    m.line,
                    source.display()
                )));
                unwritable.push(m.path);
                continue;
            }
        };
        if deleted(&m.path) {
            continue;
        }
        if written.contains(&m.path) {
            modes.insert(m.path, mode);
            continue;
        }
        // A mode-only change of a file the patch does not otherwise touch.
        if files.reader.overlay.paths.get(&m.path) == Some(&mode) {
            continue;
        }
        if let Err(why) = files.check_write(&m.path) {
            extra.push(fail(why));
            continue;
        }
        let Some(bytes) = files.read(&m.path) else {
            extra.push(fail(format!(
                "cannot change the mode of `{}` (line {} of {}): no such file",
                m.path,
                m.line,
                source.display()
            )));
            continue;
        };
        modes.insert(m.path.clone(), mode);
        extra.push((
            m.path,
            FileOutcome::Changed {
                old: Some(bytes.clone()),
                new: Some(Stored::Bytes(bytes)),
                replacements: None,
            },
        ));
    }
    // Whatever `atomic:` says, such a file is never written as a plain file instead.
    out.retain(|(p, o)| !(unwritable.contains(p) && matches!(o, FileOutcome::Changed { .. })));
    out.extend(extra);
}

/// What a task's `atomic:` held back when some of its files failed.
#[derive(Debug, Default)]
pub(crate) struct HeldBack {
    /// Files whose changes are not committed because an edit failed.
    pub held: Vec<String>,
    /// Files committed although some of their edits failed (`atomic: none`).
    pub half_edited: Vec<String>,
}

/// Applies `atomic` to a task's outcomes: with any failure, `task` drops every change, `file`
/// drops the changes of each file that also failed, `none` keeps them (and names the files
/// left half-edited).
pub(crate) fn hold_back(atomic: Atomic, outcomes: &mut Vec<(String, FileOutcome)>) -> HeldBack {
    let failed: std::collections::BTreeSet<String> = outcomes
        .iter()
        .filter(|(_, o)| matches!(o, FileOutcome::Failed { .. }))
        .map(|(p, _)| p.clone())
        .collect();
    let mut out = HeldBack::default();
    if failed.is_empty() {
        return out;
    }
    outcomes.retain(|(path, outcome)| {
        if !matches!(outcome, FileOutcome::Changed { .. }) {
            return true;
        }
        let drop = match atomic {
            Atomic::Task => true,
            Atomic::File => failed.contains(path),
            Atomic::None => {
                if failed.contains(path) {
                    out.half_edited.push(path.clone());
                }
                false
            }
        };
        if drop {
            out.held.push(path.clone());
        }
        !drop
    });
    out
}
