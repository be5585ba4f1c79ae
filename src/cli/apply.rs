//! `codefleet apply`: apply a model reply or a patch, in any edit format, to the files of a
//! directory, like `git apply`. The coders decide what changes; `workspace::DirFiles`
//! confines, checks and writes; this file reads the input and reports.
//!
//! Output: failures go to stderr as diagnostics pointing at the reply line; `--dry-run`
//! prints a unified diff per file on stdout and writes nothing; otherwise stdout lists each
//! file written (`modified src/app.py`). `--json` replaces stdout with JSON Lines: one
//! `{"kind":"edit",...}` object per edit in reply order, then one `{"kind":"change",...}`
//! per file, then one `{"kind":"command",...}` per suggested shell command.

use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::json;

use super::Out;
use super::args::{ApplyArgs, GlobalArgs};
use super::errors::{ApplyError, stream_error};
use super::logging::color_enabled;
use crate::coders::modes::ModeChange;
use crate::coders::{self, Change, EditStatus, Format, Outcome};
use crate::error::{Error, Exit, Place, closest};
use crate::settings::{Settings, Verbosity};
use crate::workspace::{Applied, DirFiles, Policy};

pub fn run(
    global: &GlobalArgs,
    settings: &Settings,
    args: &ApplyArgs,
    out: &mut Out<'_>,
) -> Result<Exit, Error> {
    let format = parse_format(&args.format)?;
    let dir = directory(args.dir.as_deref())?;
    let input = read_input(args.file.as_deref())?;
    let Some(format) = format.or_else(|| coders::detect_format(&input.text)) else {
        out.error(
            &ApplyError::NoEdits {
                input: input.name,
                format: None,
            }
            .into(),
        );
        return Ok(Exit::Failed);
    };
    tracing::info!(format = format.name(), dir = %dir.display(), "applying");

    // The user asked for exactly these edits, so deletes and renames are carried out; the
    // deny list still holds. No size limit, as with `git apply`: the limit protects a model's
    // context, and no model is involved.
    let policy = Policy {
        allow_delete: true,
        max_file_size: u64::MAX,
        ..Policy::default()
    };
    let mut files = DirFiles::new(dir, policy);
    // A reply saved inside the directory is not one of its files: no edit may land in it.
    if let Some(rel) = input_inside(&input.path, files.root()) {
        files.exclude(&rel);
    }
    let mut outcome = coders::parse_and_apply(
        format,
        &input.text,
        &files,
        &coders::ApplyOptions {
            allow_shrink: args.allow_shrink,
            ..coders::ApplyOptions::default()
        },
    );

    // The modes a git patch sets (`new file mode`, `new mode`): the engine carries content only.
    let modes = if format == Format::Udiff && !coders::udiff_is_reply(&input.text) {
        coders::modes::modes(&input.text)
    } else {
        Vec::new()
    };
    let bad_modes: Vec<&ModeChange> = modes
        .iter()
        .filter(|m| executable_bit(m.new).is_none())
        .collect();
    // A file the patch makes a symlink or submodule is not written as a plain file instead.
    outcome
        .changes
        .retain(|c| !bad_modes.iter().any(|m| m.path == c.path()));
    let failed_edits = !outcome.all_applied() || !bad_modes.is_empty();
    let nothing =
        outcome.edits.is_empty() && outcome.suggested_commands.is_empty() && modes.is_empty();
    let hold = args.all_or_nothing && failed_edits;
    let applied: Vec<Applied> = if args.dry_run || hold {
        Vec::new()
    } else {
        files.apply(&outcome.changes)
    };
    let moded: Vec<(Applied, u32)> = if args.dry_run || hold {
        Vec::new()
    } else {
        set_modes(&files, &modes, &applied)
    };
    let write_failed = applied
        .iter()
        .chain(moded.iter().map(|(a, _)| a))
        .any(|a| a.result.is_err());

    // stdout: the JSON records, or the diff, or the list of files written.
    let stdout_color = color_enabled(settings.color.value, is_terminal_stdout());
    let text = if global.json {
        json_lines(&outcome, &applied, args.dry_run || hold) + &mode_json(&moded)
    } else if args.dry_run {
        dry_run_diff(&files, &outcome.changes, stdout_color)
    } else if settings.verbosity.value > Verbosity::Quiet {
        written_list(&outcome.changes, &applied) + &mode_list(&moded)
    } else {
        String::new()
    };
    out.stdout
        .write_all(text.as_bytes())
        .map_err(|e| stream_error("write to stdout", &e))?;

    // stderr: every failure, then notes.
    let mut errors: Vec<Error> = outcome
        .edits
        .iter()
        .filter_map(|e| match &e.status {
            EditStatus::Failed { reason } => {
                Some(edit_failure(&input, e.index, &e.path, e.line, reason))
            }
            EditStatus::Applied { .. } => None,
        })
        .collect();
    errors.extend(bad_modes.iter().map(|m| {
        Error::from(ApplyError::ModeNotApplied {
            path: m.path.clone(),
            mode: m.new,
            place: Place::at(&input.path, &input.text, m.line, 0, 0),
        })
    }));
    errors.extend(
        applied
            .iter()
            .chain(moded.iter().map(|(a, _)| a))
            .filter_map(|a| {
                let reason = a.result.as_ref().err()?;
                Some(Error::from(ApplyError::NotWritten {
                    path: a.path.clone(),
                    reason: reason.to_string(),
                }))
            }),
    );
    if nothing {
        errors.push(
            ApplyError::NoEdits {
                input: input.name.clone(),
                format: Some(format.to_string()),
            }
            .into(),
        );
    }
    for (i, err) in errors.iter().enumerate() {
        if i > 0 {
            let _ = writeln!(out.stderr);
        }
        out.error(err);
    }
    let mut notes = Vec::new();
    for command in &outcome.suggested_commands {
        notes.push(format!("the reply suggests running `{command}` (not run)"));
    }
    if args.dry_run {
        for m in modes.iter().filter(|m| executable_bit(m.new).is_some()) {
            notes.push(format!("would set mode {:o} on `{}`", m.new, m.path));
        }
    }
    if hold {
        notes.push("nothing was written: some edits failed and --all-or-nothing is set".into());
    } else if args.dry_run {
        notes.push("dry run: nothing was written".into());
    }
    if settings.verbosity.value > Verbosity::Quiet || hold {
        for note in notes {
            let _ = writeln!(out.stderr, "{}", note_line(&note, out.color));
        }
    }

    if !errors.is_empty() || failed_edits || write_failed {
        Ok(Exit::Failed)
    } else {
        Ok(Exit::Ok)
    }
}

/// Whether a git mode makes a file executable; `None` for modes `apply` does not write
/// (symlinks, submodules).
fn executable_bit(mode: u32) -> Option<bool> {
    match mode {
        0o100755 => Some(true),
        m if m & 0o170000 == 0o100000 => Some(false),
        _ => None,
    }
}

/// Sets the modes a patch names, after its writes: not on a path whose write failed (that
/// failure is reported) or that the patch deleted.
fn set_modes(files: &DirFiles, modes: &[ModeChange], applied: &[Applied]) -> Vec<(Applied, u32)> {
    let mut out = Vec::new();
    for m in modes {
        let Some(executable) = executable_bit(m.new) else {
            continue;
        };
        let touched: Vec<&Applied> = applied.iter().filter(|a| a.path == m.path).collect();
        if touched
            .iter()
            .any(|a| a.result.is_err() || a.action == "deleted")
        {
            continue;
        }
        out.push((files.set_mode(&m.path, executable), m.new));
    }
    out
}

/// `mode 100755 path` for each mode set.
fn mode_list(moded: &[(Applied, u32)]) -> String {
    moded
        .iter()
        .filter(|(a, _)| a.result.is_ok())
        .map(|(a, mode)| format!("mode {mode:o} {}\n", a.path))
        .collect()
}

/// One JSON Lines record per mode a patch sets.
fn mode_json(moded: &[(Applied, u32)]) -> String {
    moded
        .iter()
        .map(|(a, mode)| {
            let record = match &a.result {
                Ok(()) => json!({
                    "kind": "mode", "path": a.path, "mode": format!("{mode:o}"), "status": "applied",
                }),
                Err(reason) => json!({
                    "kind": "mode", "path": a.path, "mode": format!("{mode:o}"), "status": "failed",
                    "reason": reason,
                }),
            };
            record.to_string() + "\n"
        })
        .collect()
}

/// Old paths of renames: the coders also report them as deletes, which the output folds
/// into the rename.
fn rename_sources(changes: &[Change]) -> HashSet<&str> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Write {
                renamed_from: Some(old),
                ..
            } => Some(old.as_str()),
            _ => None,
        })
        .collect()
}

fn is_folded(change: &Change, sources: &HashSet<&str>) -> bool {
    matches!(change, Change::Delete { path } if sources.contains(path.as_str()))
}

/// The input text and how to name it in messages.
struct Input {
    text: String,
    name: String,
    path: PathBuf,
}

/// The input file's path relative to `dir`, when it lies inside it.
fn input_inside(input: &Path, dir: &Path) -> Option<String> {
    let input = input.canonicalize().ok()?;
    let dir = dir.canonicalize().ok()?;
    let rel = input.strip_prefix(&dir).ok()?;
    let parts: Option<Vec<&str>> = rel.components().map(|c| c.as_os_str().to_str()).collect();
    Some(parts?.join("/"))
}

fn parse_format(name: &str) -> Result<Option<Format>, Error> {
    if name == "auto" {
        return Ok(None);
    }
    Format::from_name(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Format::ALL
            .iter()
            .map(|f| f.name())
            .chain(["auto"])
            .collect();
        let hint = match closest(name, names.iter().copied()) {
            Some(c) => format!("did you mean `{c}`?"),
            None => format!("the formats are: {}", names.join(", ")),
        };
        ApplyError::UnknownFormat {
            name: name.to_string(),
            hint,
        }
        .into()
    })
}

fn directory(dir: Option<&Path>) -> Result<PathBuf, Error> {
    let cwd = std::env::current_dir().map_err(|e| ApplyError::CurrentDir { why: e.to_string() })?;
    let Some(dir) = dir else {
        return Ok(cwd);
    };
    let full = cwd.join(dir);
    if !full.is_dir() {
        return Err(ApplyError::NotADirectory {
            dir: dir.to_path_buf(),
        }
        .into());
    }
    Ok(full)
}

fn read_input(file: Option<&Path>) -> Result<Input, Error> {
    let (bytes, name, path) = match file {
        None => read_stdin()?,
        Some(p) if p == Path::new("-") => read_stdin()?,
        Some(p) => {
            let bytes = std::fs::read(p).map_err(|e| {
                Error::io(p, &e).hint("give the reply or patch file, or `-` to read standard input")
            })?;
            (bytes, format!("`{}`", p.display()), p.to_path_buf())
        }
    };
    match String::from_utf8(bytes) {
        Ok(text) => Ok(Input { text, name, path }),
        Err(e) => {
            let bytes = e.as_bytes();
            let bad = e.utf8_error().valid_up_to();
            let before = &bytes[..bad];
            let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1);
            let column = String::from_utf8_lossy(&before[line_start..])
                .chars()
                .count()
                + 1;
            let lossy = String::from_utf8_lossy(bytes);
            Err(ApplyError::NotUtf8 {
                input: name,
                place: Place::at(&path, &lossy, line, column, 1),
            }
            .into())
        }
    }
}

fn read_stdin() -> Result<(Vec<u8>, String, PathBuf), Error> {
    use std::io::IsTerminal;
    // Waiting on a terminal for a reply to be typed is never what was meant.
    if std::io::stdin().is_terminal() {
        return Err(ApplyError::NoInput.into());
    }
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| stream_error("read standard input", &e))?;
    Ok((
        bytes,
        "standard input".to_string(),
        PathBuf::from("<stdin>"),
    ))
}

fn edit_failure(input: &Input, index: usize, path: &str, line: usize, reason: &str) -> Error {
    let place = if line > 0 {
        Place::at(&input.path, &input.text, line, 0, 0)
    } else {
        Place::file(&input.path)
    };
    ApplyError::EditNotApplied {
        index,
        path: path.to_string(),
        reason: reason.to_string(),
        place,
    }
    .into()
}

fn note_line(note: &str, color: bool) -> String {
    if color {
        format!("\x1b[1;36mnote\x1b[0m: {note}")
    } else {
        format!("note: {note}")
    }
}

fn written_list(changes: &[Change], applied: &[Applied]) -> String {
    let sources = rename_sources(changes);
    let mut text = String::new();
    let shown = changes
        .iter()
        .zip(applied)
        .filter(|(c, _)| !is_folded(c, &sources));
    for (_, a) in shown.filter(|(_, a)| a.result.is_ok()) {
        match &a.from {
            Some(from) => text.push_str(&format!("{} {from} -> {}\n", a.action, a.path)),
            None => text.push_str(&format!("{} {}\n", a.action, a.path)),
        }
    }
    text
}

fn json_lines(outcome: &Outcome, applied: &[Applied], held: bool) -> String {
    let mut lines = Vec::new();
    for e in &outcome.edits {
        let record = match &e.status {
            EditStatus::Applied { file, strategy } => json!({
                "kind": "edit", "index": e.index, "path": e.path, "line": e.line,
                "status": "applied", "file": file, "strategy": strategy,
            }),
            EditStatus::Failed { reason } => json!({
                "kind": "edit", "index": e.index, "path": e.path, "line": e.line,
                "status": "failed", "reason": reason,
            }),
        };
        lines.push(record);
    }
    let sources = rename_sources(&outcome.changes);
    for (i, change) in outcome.changes.iter().enumerate() {
        if is_folded(change, &sources) {
            continue;
        }
        let (path, action, from) = match change {
            Change::Write {
                path,
                created,
                renamed_from,
                ..
            } => {
                let action = match (renamed_from, created) {
                    (Some(_), _) => "renamed",
                    (None, true) => "created",
                    (None, false) => "modified",
                };
                (path, action, renamed_from.clone())
            }
            Change::Delete { path } => (path, "deleted", None),
        };
        let result = applied.get(i).map(|a| &a.result);
        let mut record = json!({
            "kind": "change", "path": path, "action": action,
            "written": matches!(result, Some(Ok(()))),
        });
        if let Some(from) = from {
            record["from"] = json!(from);
        }
        if let Some(Err(reason)) = result {
            record["error"] = json!(reason);
        } else if held {
            record["written"] = json!(false);
        }
        lines.push(record);
    }
    for command in &outcome.suggested_commands {
        lines.push(json!({ "kind": "command", "command": command }));
    }
    lines.iter().map(|l| format!("{l}\n")).collect()
}

/// One unified diff per change, old text from the directory, new text from the change.
fn dry_run_diff(files: &DirFiles, changes: &[Change], color: bool) -> String {
    let sources = rename_sources(changes);
    let mut text = String::new();
    for change in changes.iter().filter(|c| !is_folded(c, &sources)) {
        let (old_path, new_path, old, new) = match change {
            Change::Write {
                path,
                content,
                created,
                renamed_from,
            } => {
                let source = renamed_from.as_deref().unwrap_or(path);
                let old = if *created && renamed_from.is_none() {
                    None
                } else {
                    std::fs::read(files.root().join(source)).ok()
                };
                let old_path = match &old {
                    Some(_) => format!("a/{source}"),
                    None => "/dev/null".to_string(),
                };
                (
                    old_path,
                    format!("b/{path}"),
                    old.unwrap_or_default(),
                    content.clone(),
                )
            }
            Change::Delete { path } => {
                let old = std::fs::read(files.root().join(path)).unwrap_or_default();
                (
                    format!("a/{path}"),
                    "/dev/null".to_string(),
                    old,
                    Vec::new(),
                )
            }
        };
        let old = String::from_utf8_lossy(&old);
        let new = String::from_utf8_lossy(&new);
        let diff = similar::TextDiff::from_lines(old.as_ref(), new.as_ref());
        let body = diff
            .unified_diff()
            .context_radius(3)
            .header(&old_path, &new_path)
            .to_string();
        if let Change::Write {
            path,
            renamed_from: Some(from),
            ..
        } = change
        {
            // As git shows it; a pure rename has no diff body to show.
            for line in [format!("rename from {from}"), format!("rename to {path}")] {
                text.push_str(&if color {
                    format!("\x1b[1m{line}\x1b[0m\n")
                } else {
                    format!("{line}\n")
                });
            }
        }
        if body.is_empty() {
            continue;
        }
        if color {
            for line in body.split_inclusive('\n') {
                text.push_str(&paint(line));
            }
        } else {
            text.push_str(&body);
        }
    }
    text
}

fn paint(line: &str) -> String {
    let (body, end) = match line.strip_suffix('\n') {
        Some(b) => (b, "\n"),
        None => (line, ""),
    };
    let style = if body.starts_with("+++") || body.starts_with("---") {
        "\x1b[1m"
    } else if body.starts_with('+') {
        "\x1b[32m"
    } else if body.starts_with('-') {
        "\x1b[31m"
    } else if body.starts_with("@@") {
        "\x1b[36m"
    } else {
        return line.to_string();
    };
    format!("{style}{body}\x1b[0m{end}")
}

fn is_terminal_stdout() -> bool {
    use std::io::IsTerminal;
    std::io::stdout().is_terminal()
}
