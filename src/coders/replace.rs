//! The deterministic `replace` coder, like fastmod or sd: literal or regex find over bytes (so
//! files that are not UTF-8 work), `$1`/`${name}` captures, a first-N limit. A file that cannot
//! match costs one scan: literals go through `memchr::memmem`, and regexes use the regex
//! engine's own literal prefilter before any capture work.

use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};

/// How to find and replace.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReplaceOptions {
    /// `find` is a regular expression (else a literal string, and the replacement is literal).
    pub regex: bool,
    /// Match case-insensitively.
    pub case_insensitive: bool,
    /// `^` and `$` match at line boundaries (regex only); patterns may always span lines.
    pub multi_line: bool,
    /// `.` also matches `\n` (regex only).
    pub dot_all: bool,
    /// The replacement is taken literally: `$` is text (regex only; literal finds always are).
    pub literal_replacement: bool,
    /// Replace at most this many matches per file (`Some(1)`: the first only).
    pub max_count: Option<usize>,
}

enum Finder {
    Literal(Box<memmem::Finder<'static>>),
    Regex(Regex),
}

/// A compiled find-and-replace.
pub struct Replacer {
    finder: Finder,
    with: Vec<u8>,
    expand: bool,
    max: usize,
}

impl Replacer {
    /// Compiles `find`; `Err` holds why a regex is invalid.
    pub fn new(find: &str, with: &str, opts: ReplaceOptions) -> Result<Replacer, String> {
        if find.is_empty() {
            return Err("the text to find is empty".to_string());
        }
        let max = match opts.max_count {
            Some(0) => return Err("max_count must be at least 1".to_string()),
            Some(n) => n,
            None => usize::MAX,
        };
        let (finder, expand) = if !opts.regex && !opts.case_insensitive {
            (
                Finder::Literal(Box::new(memmem::Finder::new(find.as_bytes()).into_owned())),
                false,
            )
        } else {
            let pattern = if opts.regex {
                find.to_string()
            } else {
                regex::escape(find)
            };
            let re = RegexBuilder::new(&pattern)
                .case_insensitive(opts.case_insensitive)
                .multi_line(opts.multi_line)
                .dot_matches_new_line(opts.dot_all)
                .build()
                .map_err(|e| e.to_string())?;
            let expand = opts.regex && !opts.literal_replacement && with.contains('$');
            (Finder::Regex(re), expand)
        };
        Ok(Replacer {
            finder,
            with: with.as_bytes().to_vec(),
            expand,
            max,
        })
    }

    /// Whether `hay` holds a match (the cheap check).
    pub fn is_match(&self, hay: &[u8]) -> bool {
        match &self.finder {
            Finder::Literal(f) => f.find(hay).is_some(),
            Finder::Regex(re) => re.is_match(hay),
        }
    }

    /// The replaced bytes and the number of replacements, or `None` when nothing matched (so
    /// the caller writes nothing).
    pub fn replace(&self, hay: &[u8]) -> Option<(Vec<u8>, usize)> {
        let mut out: Vec<u8> = Vec::new();
        let mut last = 0;
        let mut count = 0;
        match &self.finder {
            Finder::Literal(f) => {
                let len = f.needle().len();
                for start in f.find_iter(hay) {
                    if count == self.max {
                        break;
                    }
                    if count == 0 {
                        out.reserve(hay.len() + self.with.len());
                    }
                    out.extend_from_slice(&hay[last..start]);
                    out.extend_from_slice(&self.with);
                    last = start + len;
                    count += 1;
                }
            }
            Finder::Regex(re) => {
                // The first match is found without captures: most files have none.
                re.find(hay)?;
                if self.expand {
                    // `captures_iter` locates each match before resolving its groups, so
                    // this costs little more than `find_iter`.
                    for caps in re.captures_iter(hay) {
                        if count == self.max {
                            break;
                        }
                        let Some(m) = caps.get(0) else { continue };
                        out.extend_from_slice(&hay[last..m.start()]);
                        caps.expand(&self.with, &mut out);
                        last = m.end();
                        count += 1;
                    }
                } else {
                    for m in re.find_iter(hay) {
                        if count == self.max {
                            break;
                        }
                        out.extend_from_slice(&hay[last..m.start()]);
                        out.extend_from_slice(&self.with);
                        last = m.end();
                        count += 1;
                    }
                }
            }
        }
        if count == 0 {
            return None;
        }
        out.extend_from_slice(&hay[last..]);
        Some((out, count))
    }
}
