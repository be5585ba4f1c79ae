//! The `replace` coder: literal and regex, captures, limits, bytes that are not UTF-8.

use codefleet::coders::{ReplaceOptions, Replacer};

fn regex() -> ReplaceOptions {
    ReplaceOptions {
        regex: true,
        ..ReplaceOptions::default()
    }
}

fn run(find: &str, with: &str, opts: ReplaceOptions, hay: &[u8]) -> Option<(String, usize)> {
    let r = Replacer::new(find, with, opts).expect("valid pattern");
    r.replace(hay)
        .map(|(b, n)| (String::from_utf8_lossy(&b).into_owned(), n))
}

#[test]
fn literal_replaces_every_occurrence_and_counts() {
    assert_eq!(
        run(
            "foo",
            "bar",
            ReplaceOptions::default(),
            b"foo x foo y foofoo"
        ),
        Some(("bar x bar y barbar".to_string(), 4))
    );
}

#[test]
fn literal_find_treats_regex_characters_and_dollar_as_text() {
    assert_eq!(
        run("a.b(", "$1 $x", ReplaceOptions::default(), b"a.b( axb("),
        Some(("$1 $x axb(".to_string(), 1))
    );
}

#[test]
fn no_match_returns_none() {
    assert_eq!(run("zzz", "y", ReplaceOptions::default(), b"abc"), None);
    assert_eq!(run(r"\d+", "n", regex(), b"abc"), None);
    assert_eq!(run("abcd", "y", ReplaceOptions::default(), b"abc"), None);
}

#[test]
fn empty_find_is_an_error() {
    assert!(Replacer::new("", "x", ReplaceOptions::default()).is_err());
}

#[test]
fn invalid_regex_says_why() {
    let err = Replacer::new("(unclosed", "x", regex())
        .err()
        .expect("invalid regex must fail");
    assert!(err.contains("unclosed"), "{err}");
}

#[test]
fn numbered_captures() {
    assert_eq!(
        run(
            r"\blog::(info|warn)!",
            "tracing::$1!",
            regex(),
            b"log::info!(x); log::warn!(y); blog::info!(z);"
        ),
        Some((
            "tracing::info!(x); tracing::warn!(y); blog::info!(z);".to_string(),
            2
        ))
    );
}

#[test]
fn braced_numbered_capture_before_text() {
    assert_eq!(
        run(r"(\d+)", "${1}px", regex(), b"w: 10; h: 20"),
        Some(("w: 10px; h: 20px".to_string(), 2))
    );
}

#[test]
fn named_captures() {
    assert_eq!(
        run(r"(?P<k>\w+)=(?P<v>\w+)", "${v}=${k}", regex(), b"a=1, b=2"),
        Some(("1=a, 2=b".to_string(), 2))
    );
}

#[test]
fn literal_replacement_mode_keeps_dollar() {
    let opts = ReplaceOptions {
        literal_replacement: true,
        ..regex()
    };
    assert_eq!(
        run(r"(\d+)", "$1", opts, b"cost 5"),
        Some(("cost $1".to_string(), 1))
    );
}

#[test]
fn max_count_one_replaces_first_only() {
    let opts = ReplaceOptions {
        max_count: Some(1),
        ..ReplaceOptions::default()
    };
    assert_eq!(
        run("a", "b", opts.clone(), b"aaa"),
        Some(("baa".to_string(), 1))
    );
    let re = ReplaceOptions {
        regex: true,
        ..opts
    };
    assert_eq!(
        run("a+", "b", re, b"aa x aa"),
        Some(("b x aa".to_string(), 1))
    );
}

#[test]
fn max_count_two_with_captures() {
    let opts = ReplaceOptions {
        max_count: Some(2),
        ..regex()
    };
    assert_eq!(
        run(r"(\w)", "<$1>", opts, b"abc"),
        Some(("<a><b>c".to_string(), 2))
    );
}

#[test]
fn max_count_zero_is_an_error() {
    let opts = ReplaceOptions {
        max_count: Some(0),
        ..ReplaceOptions::default()
    };
    assert!(Replacer::new("a", "b", opts).is_err());
}

#[test]
fn multi_line_patterns_span_lines() {
    assert_eq!(
        run(
            "fn a\\(\\) \\{\n    old\n\\}",
            "fn a() {\n    new\n}",
            regex(),
            b"fn a() {\n    old\n}\n"
        ),
        Some(("fn a() {\n    new\n}\n".to_string(), 1))
    );
    let literal = run(
        "one\ntwo",
        "1\n2",
        ReplaceOptions::default(),
        b"zero\none\ntwo\n",
    );
    assert_eq!(literal, Some(("zero\n1\n2\n".to_string(), 1)));
}

#[test]
fn multi_line_mode_anchors_at_each_line() {
    let opts = ReplaceOptions {
        multi_line: true,
        ..regex()
    };
    assert_eq!(
        run("^#", "//", opts, b"# a\n# b\nc # d\n"),
        Some(("// a\n// b\nc # d\n".to_string(), 2))
    );
    // Without it, `^` is the start of the file only.
    assert_eq!(
        run("^#", "//", regex(), b"# a\n# b\n"),
        Some(("// a\n# b\n".to_string(), 1))
    );
}

#[test]
fn case_insensitive_literal_and_regex() {
    let opts = ReplaceOptions {
        case_insensitive: true,
        ..ReplaceOptions::default()
    };
    assert_eq!(
        run("hello", "bye", opts.clone(), b"Hello HELLO hello"),
        Some(("bye bye bye".to_string(), 3))
    );
    // A literal stays literal when case-insensitive: `.` is not a wildcard, `$` is text.
    assert_eq!(
        run("a.c", "$0", opts.clone(), b"abc A.C"),
        Some(("abc $0".to_string(), 1))
    );
    let re = ReplaceOptions {
        regex: true,
        ..opts
    };
    assert_eq!(
        run("h(e)llo", "[$1]", re, b"HELLO"),
        Some(("[E]".to_string(), 1))
    );
}

#[test]
fn bytes_that_are_not_utf8_survive() {
    let hay = b"\xff\xfeold\x00\x80 old";
    let r = Replacer::new("old", "new", ReplaceOptions::default()).expect("literal");
    assert_eq!(
        r.replace(hay),
        Some((b"\xff\xfenew\x00\x80 new".to_vec(), 2))
    );
    let r = Replacer::new(r"o(l)d", "N${1}W", regex()).expect("regex");
    assert_eq!(
        r.replace(hay),
        Some((b"\xff\xfeNlW\x00\x80 NlW".to_vec(), 2))
    );
}

#[test]
fn is_match_agrees_with_replace() {
    let r = Replacer::new(r"\bfoo\b", "bar", regex()).expect("regex");
    assert!(r.is_match(b"a foo b"));
    assert!(!r.is_match(b"afoob"));
    assert_eq!(r.replace(b"afoob"), None);
}

#[test]
fn crlf_content_is_just_bytes() {
    assert_eq!(
        run("a\r\nb", "c", ReplaceOptions::default(), b"a\r\nb\r\n"),
        Some(("c\r\n".to_string(), 1))
    );
}

// Differential: fastmod `-i` and `rg -i` build their matcher with the `regex` crate's
// case-insensitive flag (simple Unicode case folding). Neither binary is installed here, so
// the reference is that crate with `(?i)` over the escaped literal, applied to texts mixing
// ASCII and non-ASCII case pairs (`ß`, the Kelvin sign, `É`).
proptest::proptest! {
    #[test]
    fn case_insensitive_literal_agrees_with_the_regex_crate(
        find in "[aAkKéÉ.\u{212A}]{1,3}",
        hay in "[aAkKéÉßs.\u{212A} ]{0,40}",
    ) {
        let opts = ReplaceOptions { case_insensitive: true, ..ReplaceOptions::default() };
        let ours = Replacer::new(&find, "<$0>", opts).expect("literal").replace(hay.as_bytes());
        let re = regex::bytes::Regex::new(&format!("(?i){}", regex::escape(&find))).expect("re");
        let count = re.find_iter(hay.as_bytes()).count();
        let theirs = re.replace_all(hay.as_bytes(), regex::bytes::NoExpand(b"<$0>")).into_owned();
        match ours {
            None => proptest::prop_assert_eq!(count, 0),
            Some((bytes, n)) => {
                proptest::prop_assert_eq!(n, count);
                proptest::prop_assert_eq!(bytes, theirs);
            }
        }
    }
}
