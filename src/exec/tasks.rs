//! The deterministic task kinds over a task's files: each file read from the overlay or the
//! base (one repository handle per worker thread), edited in parallel, the interrupt flag
//! checked before each file and panics caught per file.

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;

use crate::pipeline::Replace;
use crate::plan::{Skip, content_skip};

use super::pool::catching;
use super::run::Reader;

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
    /// Changed: content before (`None`: created) and after (`None`: deleted).
    Changed {
        old: Option<Vec<u8>>,
        new: Option<Vec<u8>>,
        replacements: Option<usize>,
    },
}

/// Applies a find-and-replace to `files`, in parallel on the current pool; results in file
/// order. `done` is called after each file.
pub(crate) fn replace_files(
    reader: &Reader<'_>,
    files: &[String],
    replace: &Replace,
    with: &str,
    max_size: u64,
    interrupt: &AtomicBool,
    done: &(dyn Fn(&str) + Sync),
) -> Vec<(String, FileOutcome)> {
    // The checked pipeline holds a text regex; files are bytes (not all UTF-8), so the same
    // pattern is compiled once for bytes.
    let regex = match regex::bytes::Regex::new(replace.regex.as_str()) {
        Ok(r) => r,
        Err(e) => {
            let message = format!("cannot compile `{}`: {e}", replace.find);
            return files
                .iter()
                .map(|p| {
                    let m = message.clone();
                    (
                        p.clone(),
                        FileOutcome::Failed {
                            message: m,
                            line: None,
                        },
                    )
                })
                .collect();
        }
    };
    let limit = replace.max_count.unwrap_or(0);
    files
        .par_iter()
        .map_init(
            || reader.open(),
            |repo, path| {
                if interrupt.load(Ordering::SeqCst) {
                    return (path.clone(), FileOutcome::Interrupted);
                }
                let outcome = catching(|| {
                    let Some(repo) = repo.as_ref() else {
                        return FileOutcome::Failed {
                            message: "cannot open the repository from a worker thread".into(),
                            line: None,
                        };
                    };
                    let bytes = match reader.read(repo, path) {
                        Ok(Some(b)) => b,
                        Ok(None) => return FileOutcome::Unchanged,
                        Err(e) => {
                            return FileOutcome::Failed {
                                message: e.message,
                                line: None,
                            };
                        }
                    };
                    if let Some(skip) = content_skip(&bytes, max_size) {
                        return FileOutcome::Skipped(skip);
                    }
                    let count = regex
                        .find_iter(&bytes)
                        .take(if limit == 0 { usize::MAX } else { limit })
                        .count();
                    if count == 0 {
                        return FileOutcome::Unchanged;
                    }
                    let new = if replace.is_regex {
                        regex.replacen(&bytes, limit, with.as_bytes())
                    } else {
                        regex.replacen(&bytes, limit, regex::bytes::NoExpand(with.as_bytes()))
                    }
                    .into_owned();
                    if new == bytes {
                        return FileOutcome::Unchanged;
                    }
                    FileOutcome::Changed {
                        old: Some(bytes),
                        new: Some(new),
                        replacements: Some(count),
                    }
                })
                .unwrap_or_else(|msg| FileOutcome::Failed {
                    message: format!("internal error (a bug in codefleet): {msg}"),
                    line: None,
                });
                done(path);
                (path.clone(), outcome)
            },
        )
        .collect()
}
