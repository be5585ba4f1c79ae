//! No input panics the loader, and every problem it reports renders as a diagnostic.

use std::path::Path;

use proptest::prelude::*;

use super::util::fixtures;

fn assert_renders(result: Result<codefleet::pipeline::Pipeline, Vec<codefleet::error::Error>>) {
    if let Err(errors) = result {
        assert!(!errors.is_empty());
        for e in errors {
            let text = e.render(false);
            assert!(text.starts_with(&format!("error[{}]: ", e.code)), "{text}");
            if let Some(place) = &e.place
                && place.line > 0
            {
                assert!(place.source_line.is_some(), "{text}");
            }
        }
    }
}

fn yamlish() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "name: ",
        "tasks:",
        "\n",
        "  ",
        "- ",
        "replace: ",
        "{ find: ",
        "with: ",
        "}",
        "[",
        "]",
        "'",
        "\"",
        "\\",
        "{{ ",
        " }}",
        "vars.",
        "regex: true",
        "files: ",
        "**/*.rs",
        "per: file",
        "prompt: ",
        "run: ",
        "check: ",
        "&a ",
        "*a",
        "---\n",
        "#",
        ": ",
        ", ",
        "(",
        "é",
        "\t",
        "1MiB",
        "10m",
        "version: 1\n",
        "model:",
        "budget:",
        "~",
        "null",
        "<<: *a",
        "!!str ",
        "|\n",
        ">\n",
        "? ",
        "%YAML 1.2\n",
        "\r\n",
        "0x1F",
        "-1",
        "1e400",
    ]);
    prop::collection::vec(pieces, 0..60).prop_map(|v| v.concat())
}

/// A valid pipeline with random characters inserted and deleted.
fn mutated() -> impl Strategy<Value = String> {
    let base = std::fs::read_to_string(fixtures("valid").join("all-kinds.yml")).unwrap();
    let len = base.chars().count();
    prop::collection::vec((0..len, prop::option::of(any::<char>())), 1..8).prop_map(move |edits| {
        let mut chars: Vec<char> = base.chars().collect();
        for (at, c) in edits {
            let at = at.min(chars.len().saturating_sub(1));
            match c {
                Some(c) => chars.insert(at, c),
                None if !chars.is_empty() => {
                    chars.remove(at);
                }
                None => {}
            }
        }
        chars.into_iter().collect()
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn yamlish_text_never_panics(text in yamlish()) {
        assert_renders(codefleet::pipeline::load_str(&text, Path::new("fuzz.yml"), &[]));
    }

    #[test]
    fn mutated_pipelines_never_panic(text in mutated()) {
        let path = fixtures("valid").join("mutated.yml");
        assert_renders(codefleet::pipeline::load_str(&text, &path, &[]));
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("bytes.yml");
        std::fs::write(&path, &bytes).unwrap();
        assert_renders(codefleet::pipeline::load(&path, &[]));
    }
}
