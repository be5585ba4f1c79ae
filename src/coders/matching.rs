//! Finding runs of lines in a file: exact, indentation-tolerant, and nearest-to-a-hint search.
//! Shared by every format's strategies; all searches are linear in the file for a given needle.

use super::text::{indent_of, is_blank};

/// Whether `needle` equals `hay[at..at + needle.len()]`.
pub fn matches_at<S: AsRef<str>, T: AsRef<str>>(hay: &[S], needle: &[T], at: usize) -> bool {
    at + needle.len() <= hay.len()
        && needle
            .iter()
            .zip(&hay[at..])
            .all(|(n, h)| n.as_ref() == h.as_ref())
}

/// Every start where `needle` occurs, in order.
pub fn all_runs<S: AsRef<str>, T: AsRef<str>>(hay: &[S], needle: &[T]) -> Vec<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return Vec::new();
    }
    (0..=hay.len() - needle.len())
        .filter(|&i| matches_at(hay, needle, i))
        .collect()
}

/// The first start where `needle` occurs.
pub fn first_run<S: AsRef<str>, T: AsRef<str>>(hay: &[S], needle: &[T]) -> Option<usize> {
    if needle.is_empty() || needle.len() > hay.len() {
        return None;
    }
    (0..=hay.len() - needle.len()).find(|&i| matches_at(hay, needle, i))
}

/// The longest whitespace prefix shared by the non-blank lines.
pub fn common_indent<T: AsRef<str>>(lines: &[T]) -> String {
    let mut common: Option<&str> = None;
    for l in lines.iter().map(AsRef::as_ref).filter(|l| !is_blank(l)) {
        let ind = indent_of(l);
        common = Some(match common {
            None => ind,
            Some(c) => {
                let n = c
                    .bytes()
                    .zip(ind.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &c[..n]
            }
        });
    }
    common.unwrap_or("").to_string()
}

/// Removes the lines' common indentation; blank lines become empty.
pub fn deindent<T: AsRef<str>>(lines: &[T]) -> Vec<String> {
    let common = common_indent(lines);
    lines
        .iter()
        .map(|l| {
            let l = l.as_ref();
            if is_blank(l) {
                String::new()
            } else {
                l.strip_prefix(common.as_str()).unwrap_or(l).to_string()
            }
        })
        .collect()
}

/// Adds `extra` before each non-blank line.
pub fn reindent<T: AsRef<str>>(lines: &[T], extra: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let l = l.as_ref();
            if is_blank(l) {
                l.to_string()
            } else {
                format!("{extra}{l}")
            }
        })
        .collect()
}

/// Moves each non-blank line from indentation `from` to `to`, keeping its offset to it: a line
/// that starts with `from` gets `to` in its place; one indented less (an outer-level line)
/// loses or gains what the others do, as far as its own indentation allows.
pub fn shift_indent<T: AsRef<str>>(lines: &[T], from: &str, to: &str) -> Vec<String> {
    lines
        .iter()
        .map(|l| {
            let l = l.as_ref();
            if is_blank(l) {
                return l.to_string();
            }
            if let Some(rest) = l.strip_prefix(from) {
                return format!("{to}{rest}");
            }
            if let Some(add) = to.strip_prefix(from) {
                return format!("{add}{l}");
            }
            if let Some(cut) = from.strip_prefix(to) {
                // Indented less than `from`: drop as much of `cut` as the line has.
                let n = l
                    .bytes()
                    .zip(cut.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                return l[n..].to_string();
            }
            // Tabs against spaces and the line outside `from`: at `to`, its offset unknown.
            format!("{to}{}", l.trim_start())
        })
        .collect()
}

/// Indentation-tolerant match of de-indented `needle` at `at`: every non-blank file line must be
/// the same whitespace `extra` followed by the needle line; blank lines match blank lines.
/// Returns `extra`.
pub fn indent_match_at<S: AsRef<str>, T: AsRef<str>>(
    hay: &[S],
    needle: &[T],
    at: usize,
) -> Option<String> {
    if at + needle.len() > hay.len() {
        return None;
    }
    let mut extra: Option<&str> = None;
    for (n, h) in needle.iter().zip(&hay[at..]) {
        let (n, h) = (n.as_ref(), h.as_ref());
        if is_blank(n) {
            if !is_blank(h) {
                return None;
            }
            continue;
        }
        match extra {
            Some(e) => {
                if h.len() != e.len() + n.len() || !h.starts_with(e) || !h.ends_with(n) {
                    return None;
                }
            }
            None => {
                let prefix = h.strip_suffix(n)?;
                if !prefix.chars().all(char::is_whitespace) {
                    return None;
                }
                extra = Some(prefix);
            }
        }
    }
    extra.map(str::to_string)
}

/// Where a search picked one place, found none, or found several with nothing to choose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found<T> {
    /// Exactly one place (or the nearest to the hint).
    One(usize, T),
    /// No place.
    None,
    /// Several places and nothing picks one; the count.
    Ambiguous(usize),
}

/// Searches positions `0..=last` with `test`. With a hint, the nearest match wins (a tie at equal
/// distance is ambiguous); without, exactly one match must exist.
pub fn nearest<T>(
    last: Option<usize>,
    hint: Option<usize>,
    test: impl Fn(usize) -> Option<T>,
) -> Found<T> {
    let Some(last) = last else {
        return Found::None;
    };
    match hint {
        Some(h) => {
            let h = h.min(last);
            let max_d = h.max(last - h);
            for d in 0..=max_d {
                let below = if d <= h {
                    test(h - d).map(|t| (h - d, t))
                } else {
                    None
                };
                let above = if d > 0 && h + d <= last {
                    test(h + d).map(|t| (h + d, t))
                } else {
                    None
                };
                match (below, above) {
                    (Some(_), Some(_)) => return Found::Ambiguous(2),
                    (Some((i, t)), None) | (None, Some((i, t))) => return Found::One(i, t),
                    (None, None) => {}
                }
            }
            Found::None
        }
        None => {
            let mut found = None;
            let mut count = 0;
            for i in 0..=last {
                if let Some(t) = test(i) {
                    count += 1;
                    if found.is_none() {
                        found = Some((i, t));
                    }
                }
            }
            match (count, found) {
                (1, Some((i, t))) => Found::One(i, t),
                (0, _) | (_, None) => Found::None,
                (n, _) => Found::Ambiguous(n),
            }
        }
    }
}

/// The last start position for a needle of `len` lines in `hay_len` lines.
pub fn last_start(hay_len: usize, len: usize) -> Option<usize> {
    hay_len.checked_sub(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn nearest_prefers_the_hint_and_calls_ties_ambiguous() {
        let hay = v(&["a", "x", "a", "y", "a"]);
        let needle = v(&["a"]);
        let test = |i: usize| matches_at(&hay, &needle, i).then_some(());
        assert_eq!(nearest(Some(4), Some(2), test), Found::One(2, ()));
        assert_eq!(nearest(Some(4), Some(3), test), Found::Ambiguous(2));
        assert_eq!(nearest(Some(4), Some(4), test), Found::One(4, ()));
        assert_eq!(nearest(Some(4), None, test), Found::Ambiguous(3));
        let once = |i: usize| (i == 3).then_some(());
        assert_eq!(nearest(Some(4), None, once), Found::One(3, ()));
        assert_eq!(nearest(None, Some(0), once), Found::None);
    }

    #[test]
    fn indentation_match_needs_one_uniform_extra_indent() {
        let hay = v(&["\tif x {", "\t\ty()", "", "\t}"]);
        assert_eq!(
            indent_match_at(&hay, &v(&["if x {", "\ty()", "", "}"]), 0),
            Some("\t".to_string())
        );
        assert_eq!(indent_match_at(&hay, &v(&["if x {", "y()"]), 0), None);
        assert_eq!(
            deindent(&v(&["    a", "", "      b"])),
            v(&["a", "", "  b"])
        );
        assert_eq!(
            reindent(&v(&["a", "", "  b"]), "\t"),
            v(&["\ta", "", "\t  b"])
        );
        assert_eq!(
            shift_indent(&v(&["  a", "", "b", "    c"]), "  ", "      "),
            v(&["      a", "", "    b", "        c"])
        );
        assert_eq!(
            shift_indent(&v(&["        a", "  b", "c"]), "        ", "    "),
            v(&["    a", "b", "c"])
        );
        assert_eq!(
            shift_indent(&v(&["    a", "  b"]), "    ", "\t"),
            v(&["\ta", "\tb"])
        );
    }
}
