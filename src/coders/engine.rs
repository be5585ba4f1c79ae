//! The one applying engine: takes parsed edits in reply order, applies each against the files as
//! the previous edits left them, and reports per edit how it fared. Every format's strategies
//! live here so all formats share the guarantees of docs/edit-formats.md.

use std::collections::{HashMap, HashSet};

use super::edit::{Chunk, Edit, Hunk, HunkLine, Op};
use super::matching::{
    Found, all_runs, common_indent, deindent, first_run, indent_match_at, last_start, matches_at,
    nearest, shift_indent,
};
use super::text::{FileText, basename, indent_of, is_blank, normalize_path, str_ratio};
use super::{Change, EditStatus, Files};

/// What a file holds while edits are applied.
#[derive(Debug, Clone)]
enum Content {
    Absent,
    Text(FileText),
    Bytes(Vec<u8>),
    /// Unchanged since it was read: the slot's `original`, decoded on first use.
    Original,
    /// Edited text no later edit names, encoded back to bytes (a large patch would otherwise
    /// hold every file it touches as lines at once); decoded again if an edit comes back to
    /// it. `default_crlf` is the style new lines took, which the bytes alone may not tell.
    Packed {
        bytes: Vec<u8>,
        default_crlf: bool,
    },
}

#[derive(Debug)]
struct Slot {
    original: Option<Vec<u8>>,
    content: Content,
    renamed_from: Option<String>,
}

impl Slot {
    /// A file as read (`None`: there is none), decoded when an edit first looks at it.
    fn read(original: Option<Vec<u8>>) -> Slot {
        Slot {
            content: match original {
                None => Content::Absent,
                Some(_) => Content::Original,
            },
            original,
            renamed_from: None,
        }
    }

    /// Turns [`Content::Original`] and [`Content::Packed`] into text (or bytes, for a file
    /// that is not UTF-8), so the edits see lines.
    fn unpack(&mut self) {
        let decode = |bytes: &[u8]| match FileText::decode(bytes) {
            Some(t) => Content::Text(t),
            None => Content::Bytes(bytes.to_vec()),
        };
        match &self.content {
            Content::Original => {
                self.content = match &self.original {
                    Some(bytes) => decode(bytes),
                    None => Content::Absent,
                };
            }
            Content::Packed {
                bytes,
                default_crlf,
            } => {
                let mut content = decode(bytes);
                if let Content::Text(t) = &mut content {
                    t.default_crlf = *default_crlf;
                }
                self.content = content;
            }
            Content::Absent | Content::Text(_) | Content::Bytes(_) => {}
        }
    }

    /// Gives up the lines of an edited text for its bytes ([`Content::Original`] again when
    /// the edits left it as it was).
    fn pack(&mut self) {
        if let Content::Text(t) = &self.content {
            let bytes = t.encode();
            self.content = if self.original.as_ref() == Some(&bytes) {
                Content::Original
            } else {
                Content::Packed {
                    bytes,
                    default_crlf: t.default_crlf,
                }
            };
        }
    }
}

/// The text a failed edit searched for, kept for the feedback to a model.
#[derive(Debug, Clone, Default)]
pub struct FailDetail {
    /// The file searched.
    pub file: Option<String>,
    /// The lines searched for.
    pub search: Vec<String>,
    /// The lines that would have replaced them.
    pub replace: Vec<String>,
}

/// Applies edits against a [`Files`] view, keeping an overlay of the changes.
pub struct Engine<'a> {
    files: &'a dyn Files,
    slots: HashMap<String, Slot>,
    order: Vec<String>,
    touched: HashSet<String>,
    /// Every known file, listed from `files` on first need (rescues, `whole`'s rules): a
    /// patch whose paths all exist never lists the directory.
    known: Option<(Vec<String>, HashSet<String>)>,
    /// Files created before the listing was loaded, added to it when it is.
    created: Vec<String>,
    rescue: Option<Vec<String>>,
    checks: HashMap<String, Result<(), String>>,
    hunk_offsets: HashMap<String, isize>,
    /// For each failed edit (by report index), what it searched for.
    pub details: HashMap<usize, FailDetail>,
    /// Whether a `whole` listing may drop more than half of a file's lines.
    pub allow_shrink: bool,
}

type Res = Result<(String, &'static str), String>;

impl<'a> Engine<'a> {
    /// An engine over `files`; `known` is the listing of `files` when the caller already has
    /// it (else it is read on first need); `rescue` limits the wrong-file rescue to these files
    /// (the files the task gave the model), else every known file is tried.
    pub fn new(
        files: &'a dyn Files,
        known: Option<Vec<String>>,
        rescue: Option<Vec<String>>,
    ) -> Engine<'a> {
        Engine {
            files,
            slots: HashMap::new(),
            order: Vec::new(),
            touched: HashSet::new(),
            known: known.map(|k| {
                let set = k.iter().cloned().collect();
                (k, set)
            }),
            created: Vec::new(),
            rescue,
            checks: HashMap::new(),
            hunk_offsets: HashMap::new(),
            details: HashMap::new(),
            allow_shrink: false,
        }
    }

    fn slot(&mut self, path: &str) -> &mut Slot {
        let files = self.files;
        let slot = self
            .slots
            .entry(path.to_string())
            .or_insert_with(|| Slot::read(files.read(path)));
        slot.unpack();
        slot
    }

    /// Encodes the text of `path` (a path an edit named, as named) back to bytes: no later
    /// edit names it. Only memory changes; an edit that comes back to it still finds it.
    pub fn pack(&mut self, path: &str) {
        if let Ok(path) = normalize_path(path)
            && let Some(slot) = self.slots.get_mut(&path)
        {
            slot.pack();
        }
    }

    /// Whether `path` may hold `needle`: false only when the file, unedited, does not (or
    /// there is no such file). An edited file is not scanned: it may.
    fn might_hold(&self, path: &str, needle: &str) -> bool {
        let find = |bytes: &[u8]| memchr::memmem::find(bytes, needle.as_bytes()).is_some();
        match self.slots.get(path) {
            Some(slot) => match &slot.content {
                Content::Original => slot.original.as_deref().is_some_and(find),
                Content::Absent => false,
                Content::Text(_) | Content::Bytes(_) | Content::Packed { .. } => true,
            },
            None => self.files.read(path).is_some_and(|b| find(&b)),
        }
    }

    /// Reads the files `paths` name ahead of the edits, in parallel where the [`Files`] view
    /// can (what [`Engine::slot`] would otherwise do one file at a time, on first use;
    /// nothing writes in between, so the result is the same).
    pub fn preload<'p>(&mut self, paths: impl Iterator<Item = &'p str>) {
        let mut seen = HashSet::new();
        let wanted: Vec<String> = paths
            .filter_map(|p| normalize_path(p).ok())
            .filter(|p| !self.slots.contains_key(p) && seen.insert(p.clone()))
            .collect();
        if wanted.len() < 2 {
            return;
        }
        let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
        let read = self.files.read_many(&names);
        for (path, bytes) in wanted.into_iter().zip(read) {
            self.slots.insert(path, Slot::read(bytes));
        }
    }

    fn exists(&mut self, path: &str) -> bool {
        !matches!(self.slot(path).content, Content::Absent)
    }

    /// Edits a text file in place. `f` must change the text only when it returns `Ok`, so a
    /// failed edit leaves the file as it was; files are never copied per edit.
    fn edit_text<T>(
        &mut self,
        path: &str,
        f: impl FnOnce(&mut FileText) -> Result<T, String>,
    ) -> Result<T, String> {
        let result = match &mut self.slot(path).content {
            Content::Text(t) => f(t),
            Content::Bytes(_) => {
                return Err(format!("`{path}` is not UTF-8 text; it cannot be edited"));
            }
            Content::Absent => return Err(format!("no file `{path}`")),
            // `slot` has unpacked these.
            Content::Original | Content::Packed { .. } => {
                return Err(format!("`{path}` could not be decoded"));
            }
        };
        if result.is_ok() {
            self.touch(path);
        }
        result
    }

    fn touch(&mut self, path: &str) {
        if self.touched.insert(path.to_string()) {
            self.order.push(path.to_string());
        }
    }

    fn set(&mut self, path: &str, content: Content) {
        self.touch(path);
        let was_absent = matches!(self.slot(path).content, Content::Absent);
        let now_absent = matches!(content, Content::Absent);
        self.slot(path).content = content;
        if was_absent && !now_absent {
            match &mut self.known {
                Some((list, set)) => {
                    if set.insert(path.to_string()) {
                        list.push(path.to_string());
                    }
                }
                None => self.created.push(path.to_string()),
            }
        }
    }

    fn check(&mut self, path: &str) -> Result<(), String> {
        let files = self.files;
        self.checks
            .entry(path.to_string())
            .or_insert_with(|| files.check_write(path))
            .clone()
            .map_err(|why| format!("writing `{path}` is refused: {why}"))
    }

    /// The existing known files, in order. Files not loaded yet exist (they are listed); only
    /// loaded ones are checked, so this never reads the repository.
    fn existing_known(&mut self) -> Vec<String> {
        if self.known.is_none() {
            let mut list = self.files.paths();
            let mut set: HashSet<String> = list.iter().cloned().collect();
            for p in std::mem::take(&mut self.created) {
                if set.insert(p.clone()) {
                    list.push(p);
                }
            }
            self.known = Some((list, set));
        }
        let Some((known, _)) = &self.known else {
            return Vec::new();
        };
        known
            .iter()
            .filter(|p| {
                self.slots
                    .get(p.as_str())
                    .is_none_or(|s| !matches!(s.content, Content::Absent))
            })
            .cloned()
            .collect()
    }

    /// Resolves a named path that does not exist to a known file: the same basename when exactly
    /// one file has it, then the closest path with similarity of at least 0.8.
    fn rescue_path(&mut self, path: &str) -> Option<String> {
        let known = self.existing_known();
        let base = basename(path);
        let same: Vec<&String> = known.iter().filter(|k| basename(k) == base).collect();
        if same.len() == 1 {
            return Some(same[0].clone());
        }
        let mut best: Option<(f32, &String)> = None;
        let mut tie = false;
        for k in &known {
            let r = str_ratio(path, k);
            if r < 0.8 {
                continue;
            }
            match best {
                Some((b, _)) if r < b => {}
                Some((b, _)) if r == b => tie = true,
                _ => {
                    best = Some((r, k));
                    tie = false;
                }
            }
        }
        // Two equally close files: nothing picks one.
        best.filter(|_| !tie).map(|(_, k)| k.clone())
    }

    /// Applies one edit; `index` is its report index (for the failure details).
    pub fn apply(&mut self, index: usize, edit: &Edit) -> EditStatus {
        let result = self.apply_inner(index, edit);
        match result {
            Ok((file, strategy)) => EditStatus::Applied { file, strategy },
            Err(reason) => EditStatus::Failed { reason },
        }
    }

    fn apply_inner(&mut self, index: usize, edit: &Edit) -> Res {
        let path = normalize_path(&edit.path)?;
        match &edit.op {
            Op::SearchReplace {
                search,
                replace,
                unwrapped,
            } => self.search_replace(index, &path, search, replace, unwrapped.as_ref()),
            Op::Hunk(h) => self.hunk(index, &path, h),
            Op::Whole { lines } => self.whole(&path, edit.line, lines),
            Op::Create {
                lines,
                final_newline,
                append_if_exists,
            } => self.create(&path, edit.line, lines, *final_newline, *append_if_exists),
            Op::Delete => {
                if !self.exists(&path) {
                    return Err(format!(
                        "line {}: cannot delete `{path}`: no such file",
                        edit.line
                    ));
                }
                self.check(&path)?;
                self.set(&path, Content::Absent);
                Ok((path, "delete"))
            }
            Op::Rename { to } => {
                let to = normalize_path(to)?;
                self.rename(&path, &to, edit.line)?;
                Ok((to, "rename"))
            }
            Op::Copy { to } => {
                let to = normalize_path(to)?;
                if !self.exists(&path) {
                    return Err(format!(
                        "line {}: cannot copy `{path}`: no such file",
                        edit.line
                    ));
                }
                if self.exists(&to) {
                    return Err(format!(
                        "line {}: cannot copy to `{to}`: it already exists",
                        edit.line
                    ));
                }
                self.check(&to)?;
                let c = self.slot(&path).content.clone();
                self.set(&to, c);
                Ok((to, "copy"))
            }
            Op::PatchUpdate { chunks, move_to } => {
                if !self.exists(&path) {
                    return Err(format!(
                        "line {}: cannot update `{path}`: no such file",
                        edit.line
                    ));
                }
                self.check(&path)?;
                let target = match move_to {
                    Some(to) => {
                        let to = normalize_path(to)?;
                        if to != path && self.exists(&to) {
                            return Err(format!(
                                "line {}: cannot move `{path}` to `{to}`: it already exists",
                                edit.line
                            ));
                        }
                        self.check(&to)?;
                        to
                    }
                    None => path.clone(),
                };
                let mut failed = None;
                let strategy = self.edit_text(&path, |text| {
                    apply_chunks(text, chunks).map_err(|(why, chunk)| {
                        failed = Some(chunk);
                        why.replace("{path}", &path)
                    })
                });
                let strategy = match strategy {
                    Ok(s) => s,
                    Err(why) => {
                        if let Some(chunk) = failed {
                            self.details.insert(
                                index,
                                FailDetail {
                                    file: Some(path.clone()),
                                    search: chunk.old_lines(),
                                    replace: chunk.new_lines(),
                                },
                            );
                        }
                        return Err(why);
                    }
                };
                if target != path {
                    self.rename(&path, &target, edit.line)?;
                }
                Ok((target, strategy))
            }
        }
    }

    fn rename(&mut self, from: &str, to: &str, line: usize) -> Result<(), String> {
        if !self.exists(from) {
            return Err(format!("line {line}: cannot rename `{from}`: no such file"));
        }
        if from == to {
            return Ok(());
        }
        if self.exists(to) {
            return Err(format!(
                "line {line}: cannot rename `{from}` to `{to}`: it already exists"
            ));
        }
        self.check(from)?;
        self.check(to)?;
        let content = std::mem::replace(&mut self.slot(from).content, Content::Absent);
        let origin = self
            .slot(from)
            .renamed_from
            .clone()
            .or_else(|| self.slot(from).original.as_ref().map(|_| from.to_string()));
        self.set(from, Content::Absent);
        self.set(to, content);
        self.slot(to).renamed_from = origin;
        Ok(())
    }

    fn create(
        &mut self,
        path: &str,
        line: usize,
        lines: &[String],
        final_newline: bool,
        append: bool,
    ) -> Res {
        if self.exists(path) {
            if !append {
                return Err(format!(
                    "line {line}: cannot add `{path}`: it already exists"
                ));
            }
            self.check(path)?;
            self.edit_text(path, |text| {
                let len = text.lines.len();
                text.splice(len, len, lines.to_vec());
                if !final_newline {
                    text.final_newline = false;
                }
                Ok(())
            })?;
            return Ok((path.to_string(), "append"));
        }
        self.check(path)?;
        let mut text = FileText::new_with(lines.to_vec());
        text.final_newline = final_newline || lines.is_empty();
        self.set(path, Content::Text(text));
        Ok((path.to_string(), "create"))
    }

    fn whole(&mut self, path: &str, line: usize, lines: &[String]) -> Res {
        let mut target = path.to_string();
        if !self.exists(path)
            && let Some(rest) = path.strip_prefix("path/to/")
        {
            let base = basename(rest);
            let known = self.existing_known();
            let same: Vec<&String> = known.iter().filter(|k| basename(k) == base).collect();
            if same.len() == 1 {
                target = same[0].clone();
            }
        }
        self.check(&target)?;
        let allow_shrink = self.allow_shrink;
        let old = match &self.slot(&target).content {
            Content::Text(t) => Some(t.lines.as_slice()),
            _ => None,
        };
        if let Some(why) = super::whole::refusal(&target, lines, old, line + 1, allow_shrink) {
            return Err(why);
        }
        if !self.exists(&target) {
            self.set(&target, Content::Text(FileText::new_with(lines.to_vec())));
            return Ok((target, "create"));
        }
        self.edit_text(&target, |text| {
            if text.lines != lines {
                let len = text.lines.len();
                text.splice(0, len, lines.to_vec());
            }
            Ok(())
        })?;
        Ok((target, "whole"))
    }

    fn search_replace(
        &mut self,
        index: usize,
        path: &str,
        search: &[String],
        replace: &[String],
        unwrapped: Option<&(Vec<String>, Vec<String>)>,
    ) -> Res {
        if search.is_empty() {
            self.check(path)?;
            if !self.exists(path) {
                self.set(path, Content::Text(FileText::new_with(replace.to_vec())));
                return Ok((path.to_string(), "create"));
            }
            self.edit_text(path, |text| {
                let len = text.lines.len();
                text.splice(len, len, replace.to_vec());
                Ok(())
            })?;
            return Ok((path.to_string(), "append"));
        }
        let target = if self.exists(path) {
            Some(path.to_string())
        } else {
            self.rescue_path(path)
        };
        let mut why = match &target {
            Some(t) => format!("the SEARCH text matches no lines of `{t}`"),
            None => format!("no file `{path}`; to create it, use an empty SEARCH"),
        };
        if let Some(t) = &target {
            self.check(t)?;
            let mut specific = None;
            let result = self.edit_text(t, |text| {
                sr_or_unwrapped(text, search, replace, unwrapped).map_err(|w| {
                    specific = w;
                    String::new()
                })
            });
            match result {
                Ok(strategy) => return Ok((t.clone(), strategy)),
                Err(w) if !w.is_empty() => why = w,
                Err(_) => {
                    if let Some(w) = specific {
                        why = w;
                    }
                }
            }
        }
        // Wrong file: the other files the model was given, first match wins.
        let probe = search
            .iter()
            .find(|l| !is_blank(l) && l.trim() != "...")
            .map(|l| l.trim().to_string());
        let candidates = match &self.rescue {
            Some(r) => r.clone(),
            None => self.existing_known(),
        };
        for other in candidates {
            if Some(&other) == target.as_ref() || self.check(&other).is_err() {
                continue;
            }
            // A file not decoded yet is scanned raw first: most cannot match.
            if let Some(p) = &probe
                && !self.might_hold(&other, p)
            {
                continue;
            }
            let result = self.edit_text(&other, |text| {
                sr_or_unwrapped(text, search, replace, unwrapped).map_err(|_| String::new())
            });
            if let Ok(strategy) = result {
                return Ok((other, strategy));
            }
        }
        self.details.insert(
            index,
            FailDetail {
                file: target,
                search: search.to_vec(),
                replace: replace.to_vec(),
            },
        );
        Err(why)
    }

    /// A hunk's path that does not exist, resolved like `patch -pN`: leading directories are
    /// dropped one at a time (`new/src/x.c` → `src/x.c`), or a stripped `a/` or `b/` put back,
    /// until an existing file is named.
    fn strip_components(&mut self, path: &str) -> Option<String> {
        let parts: Vec<&str> = path.split('/').collect();
        for k in 1..parts.len() {
            let candidate = parts[k..].join("/");
            if self.exists(&candidate) {
                return Some(candidate);
            }
        }
        ["a/", "b/"]
            .iter()
            .map(|p| format!("{p}{path}"))
            .find(|c| self.exists(c))
    }

    fn hunk(&mut self, index: usize, path: &str, hunk: &Hunk) -> Res {
        let resolved;
        let path = if self.exists(path) {
            path
        } else if hunk.lines.iter().all(|l| matches!(l, HunkLine::Add(_)))
            || (hunk.new_file && !hunk.lines.iter().any(|l| matches!(l, HunkLine::Remove(_))))
        {
            // A hunk that only adds lines creates the file, as does a `--- /dev/null` one
            // without `-` lines (its context is the new file's too).
            let lines = hunk.new_lines();
            return self.create(path, 0, &lines, !hunk.new_no_newline, false);
        } else if let Some(p) = self.strip_components(path) {
            resolved = p;
            resolved.as_str()
        } else {
            self.details.insert(
                index,
                FailDetail {
                    file: None,
                    search: hunk.old_lines(),
                    replace: hunk.new_lines(),
                },
            );
            return Err(format!("no file `{path}`"));
        };
        self.check(path)?;
        let offset = self.hunk_offsets.get(path).copied().unwrap_or(0);
        let hint = hunk
            .old_start
            .map(|s| (s.saturating_sub(1) as isize + offset).max(0) as usize);
        match self.edit_text(path, |text| apply_hunk(text, hunk, hint)) {
            Ok((start, strategy)) => {
                if let Some(s) = hunk.old_start {
                    let (mut old_len, mut new_len) = (0isize, 0isize);
                    for l in &hunk.lines {
                        match l {
                            HunkLine::Context(_) => {
                                old_len += 1;
                                new_len += 1;
                            }
                            HunkLine::Remove(_) => old_len += 1,
                            HunkLine::Add(_) => new_len += 1,
                        }
                    }
                    let stated = s.saturating_sub(1) as isize;
                    self.hunk_offsets.insert(
                        path.to_string(),
                        start as isize - stated + new_len - old_len,
                    );
                }
                Ok((path.to_string(), strategy))
            }
            Err(why) => {
                self.details.insert(
                    index,
                    FailDetail {
                        file: Some(path.to_string()),
                        search: hunk.old_lines(),
                        replace: hunk.new_lines(),
                    },
                );
                Err(why.replace("{path}", path))
            }
        }
    }

    /// The current lines of a file, for feedback.
    pub fn current_lines(&mut self, path: &str) -> Option<Vec<String>> {
        match &self.slot(path).content {
            Content::Text(t) => Some(t.lines.clone()),
            _ => None,
        }
    }

    /// The net changes, in the order paths were first touched.
    pub fn into_changes(mut self) -> Vec<Change> {
        let mut out = Vec::new();
        for path in std::mem::take(&mut self.order) {
            let Some(Slot {
                original,
                content,
                renamed_from,
            }) = self.slots.remove(&path)
            else {
                continue;
            };
            let now = match content {
                Content::Original => continue,
                Content::Absent => None,
                Content::Text(t) => Some(t.encode()),
                Content::Bytes(b) | Content::Packed { bytes: b, .. } => Some(b),
            };
            match (original, now) {
                (Some(_), None) => out.push(Change::Delete { path }),
                (None, Some(content)) => out.push(Change::Write {
                    path,
                    content,
                    created: true,
                    renamed_from,
                }),
                (Some(old), Some(content)) => {
                    if old != content {
                        out.push(Change::Write {
                            path,
                            content,
                            created: false,
                            renamed_from,
                        });
                    }
                }
                (None, None) => {}
            }
        }
        out
    }
}

/// [`sr_strategies`] on SEARCH/REPLACE as written, then without their wrapping lines (a path
/// line and a fence pair the model copied around them), reported as `unwrapped`.
fn sr_or_unwrapped(
    text: &mut FileText,
    search: &[String],
    replace: &[String],
    unwrapped: Option<&(Vec<String>, Vec<String>)>,
) -> Result<&'static str, Option<String>> {
    match sr_strategies(text, search, replace) {
        Ok(s) => Ok(s),
        Err(why) => match unwrapped {
            Some((s, r)) => sr_strategies(text, s, r)
                .map(|_| "unwrapped")
                .map_err(|w| why.or(w)),
            None => Err(why),
        },
    }
}

/// SEARCH/REPLACE strategies, first that works: exact, blank first line dropped, trailing
/// blank lines dropped; the same three indentation-tolerant; `...` elision. Every exact match
/// comes before any indentation-tolerant one: a SEARCH that matches as written once a blank
/// line at its end is dropped means those lines, not a re-indented copy of it elsewhere (which
/// would move the edit, or rewrite a kept whitespace-only line). `Err(Some(why))` carries a
/// specific reason.
fn sr_strategies(
    text: &mut FileText,
    search: &[String],
    replace: &[String],
) -> Result<&'static str, Option<String>> {
    let blank_first = search.len() >= 3 && is_blank(&search[0]);
    // Trailing blank lines the file does not have: the fewest first, and as many from
    // REPLACE's end where it has them. Models add one or two; past a few, all go at once, so
    // a long blank tail costs a few searches, not one per line.
    let s_blank = search.iter().rev().take_while(|l| is_blank(l)).count();
    let r_blank = replace.iter().rev().take_while(|l| is_blank(l)).count();
    let first = usize::from(blank_first);
    let drops: Vec<usize> = if s_blank > 0 && search.len() - s_blank > first {
        (1..=s_blank.min(3))
            .chain((s_blank > 3).then_some(s_blank))
            .collect()
    } else {
        Vec::new()
    };
    // A blank first line dropped from SEARCH goes from REPLACE too when REPLACE starts with
    // one: it was the same context line, and keeping it would add a blank line to the file.
    let without_first = |r: &'_ [String]| -> Vec<String> {
        match r.first() {
            Some(l) if is_blank(l) => r[1..].to_vec(),
            _ => r.to_vec(),
        }
    };
    for indent in [false, true] {
        if let Some(s) = exact_or_indent(text, search, replace, indent) {
            return Ok(s);
        }
        if blank_first
            && exact_or_indent(text, &search[1..], &without_first(replace), indent).is_some()
        {
            return Ok("blank-first-line");
        }
        for &drop in &drops {
            let r = &replace[..replace.len() - drop.min(r_blank)];
            let s = &search[..search.len() - drop];
            if exact_or_indent(text, s, r, indent).is_some()
                || (blank_first
                    && exact_or_indent(text, &s[1..], &without_first(r), indent).is_some())
            {
                return Ok("trailing-blank-lines");
            }
        }
    }
    if search.iter().any(|l| l.trim() == "...") || replace.iter().any(|l| l.trim() == "...") {
        return elision(text, search, replace)
            .map(|()| "elision")
            .map_err(Some);
    }
    Err(None)
}

/// Replaces the first run of SEARCH: exactly, or (with `indent`) indentation-tolerantly.
fn exact_or_indent(
    text: &mut FileText,
    search: &[String],
    replace: &[String],
    indent: bool,
) -> Option<&'static str> {
    if !indent {
        let i = first_run(&text.lines, search)?;
        text.splice(i, i + search.len(), replace.to_vec());
        return Some("exact");
    }
    let s = deindent(search);
    if s.iter().all(|l| l.is_empty()) {
        return None;
    }
    let last = last_start(text.lines.len(), s.len())?;
    for i in 0..=last {
        if let Some(extra) = indent_match_at(&text.lines, &s, i) {
            // REPLACE moves with SEARCH, keeping its offset to it (a line it adds at an outer
            // level stays there), unless it already sits at the file's indentation and only
            // SEARCH lost it.
            let from = common_indent(search);
            let as_written = from != extra
                && replace_at_file_indent(search, replace, &text.lines[i..i + s.len()])
                    .unwrap_or_else(|| common_indent(replace) == extra);
            let mut new = if as_written {
                replace.to_vec()
            } else {
                shift_indent(replace, &from, &extra)
            };
            keep_edge_blanks(&mut new, search, &text.lines[i..i + s.len()]);
            text.splice(i, i + s.len(), new);
            return Some("indentation");
        }
    }
    None
}

/// Blank lines that open or close both SEARCH and REPLACE stand for the file's own, which may
/// hold whitespace the model dropped: those lines of REPLACE become the matched file lines, so
/// a tolerant match changes no blank line it was not asked to.
fn keep_edge_blanks(new: &mut [String], search: &[String], run: &[String]) {
    let edge = |lines: &[String], from_end: bool| {
        let blank = |l: &&String| is_blank(l);
        if from_end {
            lines.iter().rev().take_while(blank).count()
        } else {
            lines.iter().take_while(blank).count()
        }
    };
    let lead = edge(search, false).min(edge(new, false));
    new[..lead].clone_from_slice(&run[..lead]);
    if lead < search.len() && lead < new.len() {
        let trail = edge(search, true).min(edge(new, true));
        let (n, r) = (new.len(), run.len());
        for k in 1..=trail.min(n - lead).min(r - lead) {
            new[n - k] = run[r - k].clone();
        }
    }
}

/// Whether REPLACE sits at the file's indentation rather than at SEARCH's, judged by the lines
/// it keeps from SEARCH: each is indented as the matched file line, or as the SEARCH line.
/// `None` when no kept line tells (then REPLACE's common indent is compared with the file's).
/// A REPLACE that adds a line at an outer level has a smaller common indent, so the kept lines
/// are the better witness.
fn replace_at_file_indent(search: &[String], replace: &[String], run: &[String]) -> Option<bool> {
    let (mut file, mut searched) = (false, false);
    for r in replace.iter().filter(|r| !is_blank(r)) {
        let Some(j) = search.iter().position(|s| s.trim() == r.trim()) else {
            continue;
        };
        let indent = indent_of(r);
        if indent == indent_of(&run[j]) {
            file = true;
        } else if indent == indent_of(&search[j]) {
            searched = true;
        }
    }
    match (file, searched) {
        (_, true) => Some(false),
        (true, false) => Some(true),
        (false, false) => None,
    }
}

fn elision(text: &mut FileText, search: &[String], replace: &[String]) -> Result<(), String> {
    let split = |lines: &[String]| -> Vec<Vec<String>> {
        let mut pieces = vec![Vec::new()];
        for l in lines {
            if l.trim() == "..." {
                pieces.push(Vec::new());
            } else if let Some(p) = pieces.last_mut() {
                p.push(l.clone());
            }
        }
        pieces
    };
    let (sp, rp) = (split(search), split(replace));
    if sp.len() != rp.len() {
        return Err("the `...` lines of SEARCH and REPLACE do not pair up".to_string());
    }
    let mut work = text.clone();
    for (s, r) in sp.iter().zip(&rp) {
        if s.is_empty() {
            if r.is_empty() {
                continue;
            }
            return Err(
                "a REPLACE piece between `...` lines has no SEARCH piece to replace".to_string(),
            );
        }
        let runs = all_runs(&work.lines, s);
        match runs.len() {
            0 => return Err("a SEARCH piece between `...` lines matches no lines".to_string()),
            1 => work.splice(runs[0], runs[0] + s.len(), r.clone()),
            n => {
                return Err(format!(
                    "a SEARCH piece between `...` lines occurs {n} times; it must occur once"
                ));
            }
        }
    }
    *text = work;
    Ok(())
}

/// Builds the replacement for hunk lines matched at `at`: context lines are the file's own,
/// added lines pass through `add`.
fn build_new(
    lines: &[HunkLine],
    file: &[String],
    at: usize,
    add: &dyn Fn(&str) -> String,
) -> Vec<String> {
    let mut out = Vec::new();
    let mut i = at;
    for l in lines {
        match l {
            HunkLine::Context(c) => {
                out.push(file.get(i).cloned().unwrap_or_else(|| c.clone()));
                i += 1;
            }
            HunkLine::Remove(_) => i += 1,
            HunkLine::Add(a) => out.push(add(a)),
        }
    }
    out
}

fn old_of(lines: &[HunkLine]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| match l {
            HunkLine::Context(s) | HunkLine::Remove(s) => Some(s.clone()),
            HunkLine::Add(_) => None,
        })
        .collect()
}

/// Where `lines` (a hunk or part of one) apply: exact at the hint, else exact nearest to it.
/// Returns the start, the new lines and whether it was at the hint.
fn locate_exact(file: &[String], lines: &[HunkLine], hint: Option<usize>) -> Found<Vec<String>> {
    let old = old_of(lines);
    nearest(last_start(file.len(), old.len()), hint, |i| {
        matches_at(file, &old, i).then(|| build_new(lines, file, i, &|a| a.to_string()))
    })
}

fn locate_indent(file: &[String], lines: &[HunkLine], hint: Option<usize>) -> Found<Vec<String>> {
    let old = old_of(lines);
    let common = super::matching::common_indent(&old);
    let d = deindent(&old);
    if d.iter().all(|l| l.is_empty()) {
        return Found::None;
    }
    nearest(last_start(file.len(), d.len()), hint, |i| {
        indent_match_at(file, &d, i).map(|extra| {
            build_new(lines, file, i, &|a| {
                if is_blank(a) {
                    String::new()
                } else {
                    let base = a.strip_prefix(common.as_str()).unwrap_or(a.trim_start());
                    format!("{extra}{base}")
                }
            })
        })
    })
}

/// How many ways of shrinking one change's context are tried before giving up.
const MAX_SHRINK_TRIES: usize = 1024;

fn ambiguous(n: usize) -> String {
    format!(
        "the hunk's lines occur {n} times in `{{path}}` and nothing picks one; add context lines or a line number"
    )
}

/// Applies a hunk with the udiff strategies. Returns where and how.
fn apply_hunk(
    text: &mut FileText,
    hunk: &Hunk,
    hint: Option<usize>,
) -> Result<(usize, &'static str), String> {
    let old = hunk.old_lines();
    let at_end_before = |start: usize, len: usize, text: &FileText| start + len >= text.lines.len();
    if old.is_empty() {
        let pos = hint.map_or(text.lines.len(), |h| h.min(text.lines.len()));
        let new = hunk.new_lines();
        let reaches_end = pos == text.lines.len();
        text.splice(pos, pos, new);
        if reaches_end && hunk.new_no_newline {
            text.final_newline = false;
        }
        return Ok((pos, "insert"));
    }
    let finish = |text: &mut FileText, start: usize, old_len: usize, new: Vec<String>| {
        let end_reached = at_end_before(start, old_len, text);
        text.splice(start, start + old_len, new);
        if end_reached {
            if hunk.new_no_newline {
                text.final_newline = false;
            } else if hunk.old_no_newline {
                text.final_newline = true;
            }
        }
    };
    // 1-3 on the lines as parsed, then on a reply's context lines read whole (the model
    // dropped their diff space: read as parsed they are a column short, and the relative
    // indentation below would shift the added lines by that column).
    let readings = std::iter::once(&hunk.lines).chain(hunk.whole_context.as_ref());
    for (k, lines) in readings.enumerate() {
        // 1-2. Exact at the stated line, else exact anywhere nearest to it.
        match locate_exact(&text.lines, lines, hint) {
            Found::One(i, new) => {
                finish(text, i, old.len(), new);
                let at_hint = hint.is_none_or(|h| h == i);
                let strategy = match (k, at_hint) {
                    (0, true) => "exact",
                    (0, false) => "nearest",
                    _ => "whole-line-context",
                };
                return Ok((i, strategy));
            }
            Found::Ambiguous(n) => return Err(ambiguous(n)),
            Found::None => {}
        }
        // 3. Ignoring leading and trailing blank context lines.
        let lead = lines
            .iter()
            .take_while(|l| matches!(l, HunkLine::Context(c) if is_blank(c)))
            .count();
        let trail = lines[lead..]
            .iter()
            .rev()
            .take_while(|l| matches!(l, HunkLine::Context(c) if is_blank(c)))
            .count();
        if lead + trail > 0 && lead + trail < lines.len() {
            let inner = &lines[lead..lines.len() - trail];
            let h = hint.map(|h| h + lead);
            let inner_old = old_of(inner).len();
            match locate_exact(&text.lines, inner, h) {
                Found::One(i, new) => {
                    finish(text, i, inner_old, new);
                    let strategy = if k == 0 {
                        "blank-lines"
                    } else {
                        "whole-line-context"
                    };
                    return Ok((i, strategy));
                }
                Found::Ambiguous(n) => return Err(ambiguous(n)),
                Found::None => {}
            }
        }
    }
    let lines = &hunk.lines;
    // 4. Indentation relative to the first line.
    match locate_indent(&text.lines, lines, hint) {
        Found::One(i, new) => {
            finish(text, i, old.len(), new);
            return Ok((i, "relative-indentation"));
        }
        Found::Ambiguous(n) => return Err(ambiguous(n)),
        Found::None => {}
    }
    // 5. Context shrunk step by step around each change.
    let mut work = text.clone();
    let mut first = None;
    let groups = change_groups(lines);
    let mut shift: isize = 0;
    for (gstart, gend, lead_ctx, trail_ctx) in groups {
        let mut placed = false;
        // Each side shrinks on its own, least context dropped first: a wrong line next to the
        // change on one side is dropped while the other side still places the change. The
        // tries are bounded so a hunk of thousands of context lines stays linear-ish.
        let mut tries = 0usize;
        // At each amount dropped, every exact split before any re-indented one: a context
        // line a column off (it lost its diff space but still starts with a space) would
        // otherwise place the change by itself and shift the added lines by that column.
        'shrink: for (dropped, indent) in
            (0..=lead_ctx + trail_ctx).flat_map(|d| [(d, false), (d, true)])
        {
            for dl in dropped.saturating_sub(trail_ctx)..=dropped.min(lead_ctx) {
                let dt = dropped - dl;
                tries += 1;
                if tries > MAX_SHRINK_TRIES {
                    break 'shrink;
                }
                let part = &lines[gstart + dl..gend - dt];
                let part_old = old_of(part);
                if part_old.is_empty() {
                    continue;
                }
                let old_before = old_of(&lines[..gstart + dl]).len() as isize;
                let h = hint.map(|h| (h as isize + old_before + shift).max(0) as usize);
                let found = if indent {
                    locate_indent(&work.lines, part, h)
                } else {
                    locate_exact(&work.lines, part, h)
                };
                match found {
                    Found::One(i, new) => {
                        let new_len = new.len() as isize;
                        let end_reached = at_end_before(i, part_old.len(), &work);
                        work.splice(i, i + part_old.len(), new);
                        if end_reached && hunk.new_no_newline {
                            work.final_newline = false;
                        }
                        shift += new_len - part_old.len() as isize;
                        first.get_or_insert(i);
                        placed = true;
                        break 'shrink;
                    }
                    Found::Ambiguous(n) => return Err(ambiguous(n)),
                    Found::None => {}
                }
            }
        }
        if !placed {
            return Err(
                "the hunk's context and removed lines match no lines of `{path}`".to_string(),
            );
        }
    }
    *text = work;
    Ok((first.unwrap_or(0), "context-shrinking"))
}

/// Splits hunk lines into groups around each run of changes: `(start, end, leading context,
/// trailing context)`; neighbouring groups share the context between them.
fn change_groups(lines: &[HunkLine]) -> Vec<(usize, usize, usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if matches!(lines[i], HunkLine::Context(_)) {
            i += 1;
            continue;
        }
        let s = i;
        while i < lines.len() && !matches!(lines[i], HunkLine::Context(_)) {
            i += 1;
        }
        runs.push((s, i));
    }
    let mut out = Vec::new();
    for (k, &(s, e)) in runs.iter().enumerate() {
        let gs = if k == 0 { 0 } else { runs[k - 1].1 };
        let ge = if k + 1 == runs.len() {
            lines.len()
        } else {
            runs[k + 1].0
        };
        out.push((gs, ge, s - gs, ge - e));
    }
    out
}

/// Applies the chunks of a patch-format update. On failure, the reason and the chunk.
fn apply_chunks<'c>(
    text: &mut FileText,
    chunks: &'c [Chunk],
) -> Result<&'static str, (String, &'c Chunk)> {
    // Every chunk is located against the file as it was, then all are spliced, last first.
    let mut cursor = 0usize;
    let mut loosest = 0usize;
    let mut edits: Vec<(usize, usize, Vec<String>, usize)> = Vec::new();
    let lines = &text.lines;
    for (ci, chunk) in chunks.iter().enumerate() {
        for ctx in &chunk.contexts {
            let found = seek(lines, std::slice::from_ref(ctx), cursor, false)
                .or_else(|| seek(lines, std::slice::from_ref(ctx), 0, false));
            match found {
                Some((i, _)) => cursor = i + 1,
                None => {
                    return Err((
                        format!(
                            "line {}: cannot find the `@@ {ctx}` line in `{{path}}`",
                            chunk.line
                        ),
                        chunk,
                    ));
                }
            }
        }
        let old = chunk.old_lines();
        if old.is_empty() {
            let pos = if chunk.contexts.is_empty() || chunk.end_of_file {
                lines.len()
            } else {
                cursor
            };
            edits.push((pos, 0, chunk.new_lines(), ci));
            continue;
        }
        let found = seek(lines, &old, cursor, chunk.end_of_file)
            .or_else(|| seek(lines, &old, 0, chunk.end_of_file));
        let Some((i, level)) = found else {
            return Err((
                format!(
                    "line {}: the chunk's context and removed lines match no lines of `{{path}}`",
                    chunk.line
                ),
                chunk,
            ));
        };
        loosest = loosest.max(level);
        // Context lines keep the file's own text (whitespace included).
        let new = build_new(&chunk.lines, lines, i, &|a| a.to_string());
        edits.push((i, old.len(), new, ci));
        cursor = i + old.len();
    }
    edits.sort_by_key(|e| (e.0, e.3));
    for w in edits.windows(2) {
        if w[0].0 + w[0].1 > w[1].0 {
            let c = &chunks[w[1].3];
            return Err((
                format!("line {}: two chunks change the same lines", c.line),
                c,
            ));
        }
    }
    for (start, len, new, _) in edits.into_iter().rev() {
        text.splice(start, start + len, new);
    }
    Ok(["exact", "rstrip", "strip"][loosest.min(2)])
}

type Cmp = dyn Fn(&str, &str) -> bool;

/// The patch format's search: exact, then ignoring trailing whitespace, then ignoring all
/// surrounding whitespace; from `start` forward, or at the end for `*** End of File`.
fn seek(lines: &[String], pat: &[String], start: usize, eof: bool) -> Option<(usize, usize)> {
    if pat.len() > lines.len() {
        return None;
    }
    let last = lines.len() - pat.len();
    let cmps: [&Cmp; 3] = [
        &|a, b| a == b,
        &|a, b| a.trim_end() == b.trim_end(),
        &|a, b| a.trim() == b.trim(),
    ];
    for (level, cmp) in cmps.into_iter().enumerate() {
        let at = |i: usize| pat.iter().zip(&lines[i..]).all(|(p, l)| cmp(l, p));
        if eof {
            if at(last) {
                return Some((last, level));
            }
            continue;
        }
        if start > last {
            continue;
        }
        if let Some(i) = (start..=last).find(|&i| at(i)) {
            return Some((i, level));
        }
    }
    None
}
