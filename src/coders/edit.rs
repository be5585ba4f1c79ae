//! The one edit model every format parses into, and the parse failures that come with it.

/// One edit, as parsed from a reply or patch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    /// The path the edit names (cleaned, not yet rescued).
    pub path: String,
    /// 1-based line of the reply where the edit starts.
    pub line: usize,
    /// The edit as written.
    pub block: String,
    /// What to do.
    pub op: Op,
}

/// What an edit does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// SEARCH/REPLACE (`diff`, `diff-fenced`): lines without terminators.
    SearchReplace {
        /// The lines to find.
        search: Vec<String>,
        /// The lines to put in their place.
        replace: Vec<String>,
        /// SEARCH and REPLACE without the wrapping lines a model copied around them (a path
        /// line and a fence pair), when SEARCH has them: tried only when SEARCH as written
        /// matches nothing, since a Markdown file's own fences are content.
        unwrapped: Option<(Vec<String>, Vec<String>)>,
    },
    /// A unified-diff hunk.
    Hunk(Hunk),
    /// The complete new content of the file (`whole`).
    Whole {
        /// The lines of the file.
        lines: Vec<String>,
    },
    /// Create a file that must not exist yet (patch `Add File`, udiff `--- /dev/null`).
    Create {
        /// The lines of the new file.
        lines: Vec<String>,
        /// False when the patch says `\ No newline at end of file`.
        final_newline: bool,
        /// When the file exists already: append to it instead of failing (model replies).
        append_if_exists: bool,
    },
    /// Delete the file.
    Delete,
    /// Rename the file to `to`, keeping its content.
    Rename {
        /// The new path.
        to: String,
    },
    /// Copy the file to `to` (git's `copy from/to`).
    Copy {
        /// The new path.
        to: String,
    },
    /// A `*** Update File` of the patch format.
    PatchUpdate {
        /// The chunks, in order.
        chunks: Vec<Chunk>,
        /// `*** Move to:` target.
        move_to: Option<String>,
    },
}

/// One line of a unified-diff hunk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HunkLine {
    /// ` ` context.
    Context(String),
    /// `-` removed.
    Remove(String),
    /// `+` added.
    Add(String),
}

/// A unified-diff hunk.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hunk {
    /// The 1-based old start line of the `@@` header, when it had one (a hint only).
    pub old_start: Option<usize>,
    /// The body.
    pub lines: Vec<HunkLine>,
    /// `\ No newline at end of file` followed the last old line.
    pub old_no_newline: bool,
    /// `\ No newline at end of file` followed the last new line.
    pub new_no_newline: bool,
    /// The headers named no old file (`--- /dev/null`): on a missing file a hunk without `-`
    /// lines creates it; on an existing one it is an ordinary hunk.
    pub new_file: bool,
    /// A model reply's hunk read as if its context lines lost their diff space: each context
    /// line written with a leading space taken whole (`None` when there is none). Tried when
    /// the lines as parsed match nowhere exactly, so an added line is not shifted a column.
    pub whole_context: Option<Vec<HunkLine>>,
}

impl Hunk {
    /// Context and removed lines.
    pub fn old_lines(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                HunkLine::Context(s) | HunkLine::Remove(s) => Some(s.clone()),
                HunkLine::Add(_) => None,
            })
            .collect()
    }

    /// Context and added lines.
    pub fn new_lines(&self) -> Vec<String> {
        self.lines
            .iter()
            .filter_map(|l| match l {
                HunkLine::Context(s) | HunkLine::Add(s) => Some(s.clone()),
                HunkLine::Remove(_) => None,
            })
            .collect()
    }

    /// Whether the hunk changes anything.
    pub fn has_changes(&self) -> bool {
        self.lines
            .iter()
            .any(|l| !matches!(l, HunkLine::Context(_)))
    }
}

/// One chunk of a patch-format update.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Chunk {
    /// `@@ text` lines that narrow where the chunk is searched.
    pub contexts: Vec<String>,
    /// The body: context, removed and added lines.
    pub lines: Vec<HunkLine>,
    /// `*** End of File`: the chunk anchors at the end.
    pub end_of_file: bool,
    /// 1-based reply line where the chunk starts.
    pub line: usize,
}

impl Chunk {
    /// Context and removed lines.
    pub fn old_lines(&self) -> Vec<String> {
        Hunk {
            lines: self.lines.clone(),
            ..Hunk::default()
        }
        .old_lines()
    }

    /// Context and added lines.
    pub fn new_lines(&self) -> Vec<String> {
        Hunk {
            lines: self.lines.clone(),
            ..Hunk::default()
        }
        .new_lines()
    }
}

/// A part of the reply that could not be read as an edit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseFailure {
    /// 1-based line of the reply.
    pub line: usize,
    /// The path, when known.
    pub path: String,
    /// The text concerned, as written.
    pub block: String,
    /// What is wrong, e.g. "line 7: expected `=======`".
    pub message: String,
}

/// An edit or a failure, in reply order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    /// An edit to apply.
    Edit(Edit),
    /// A part that could not be read.
    Failure(ParseFailure),
}

/// The result of parsing a reply in any format.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Edits and failures in reply order.
    pub items: Vec<Item>,
    /// Shell commands suggested (never run).
    pub suggested_commands: Vec<String>,
}

impl Parsed {
    /// The edits, in order.
    pub fn edits(&self) -> Vec<Edit> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Edit(e) => Some(e.clone()),
                Item::Failure(_) => None,
            })
            .collect()
    }

    /// The failures, in order.
    pub fn failures(&self) -> Vec<ParseFailure> {
        self.items
            .iter()
            .filter_map(|i| match i {
                Item::Failure(f) => Some(f.clone()),
                Item::Edit(_) => None,
            })
            .collect()
    }

    /// `(edits, failures)` as the per-format `parse` functions return them.
    pub fn split(self) -> (Vec<Edit>, Vec<ParseFailure>) {
        (self.edits(), self.failures())
    }
}
