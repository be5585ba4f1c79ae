//! Commit messages with codefleet's trailers appended the way `git interpret-trailers` reads
//! them: in the message's trailing trailer block if it has one, else after a blank line.

/// `message` with `trailers` (`(key, value)` pairs) appended. Values are made single-line;
/// the result ends with a newline. API keys and tokens are redacted.
pub fn with_trailers(message: &str, trailers: &[(&str, &str)]) -> String {
    // A token written into a task name or message template never lands in history.
    let message = crate::secrets::redact(message);
    let body = message.trim_end().trim_start_matches(['\n', '\r']);
    let mut out = body.to_string();
    if trailers.is_empty() {
        out.push('\n');
        return out;
    }
    if body.is_empty() {
        // Nothing to be a title: the trailers stand alone.
    } else if ends_with_trailer_block(body) {
        out.push('\n');
    } else {
        out.push_str("\n\n");
    }
    for (key, value) in trailers {
        let value: String = crate::secrets::redact(value)
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        out.push_str(key);
        out.push_str(": ");
        out.push_str(&value);
        out.push('\n');
    }
    out
}

/// True when the last paragraph, which must not be the title, consists of trailer lines
/// (`Token: value`, with indented continuation lines).
fn ends_with_trailer_block(body: &str) -> bool {
    let normalized = body.replace("\r\n", "\n");
    let Some((_, last)) = normalized.rsplit_once("\n\n") else {
        return false;
    };
    let last = last.trim_matches('\n');
    if last.is_empty() {
        return false;
    }
    let mut saw_trailer = false;
    for line in last.lines() {
        if line.starts_with([' ', '\t']) && saw_trailer {
            continue;
        }
        if !is_trailer_line(line) {
            return false;
        }
        saw_trailer = true;
    }
    saw_trailer
}

fn is_trailer_line(line: &str) -> bool {
    let Some((token, _)) = line.split_once(':') else {
        return false;
    };
    !token.is_empty() && token.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: &[(&str, &str)] = &[("Codefleet-Task", "rename"), ("Codefleet-Run", "r1")];

    #[test]
    fn blank_line_before_a_new_block() {
        assert_eq!(
            with_trailers("Rename things\n", T),
            "Rename things\n\nCodefleet-Task: rename\nCodefleet-Run: r1\n"
        );
    }

    #[test]
    fn joins_an_existing_trailer_block() {
        assert_eq!(
            with_trailers("Subject\n\nBody text.\n\nSigned-off-by: A <a@b>\n", T),
            "Subject\n\nBody text.\n\nSigned-off-by: A <a@b>\nCodefleet-Task: rename\nCodefleet-Run: r1\n"
        );
    }

    #[test]
    fn a_title_that_looks_like_a_trailer_is_still_a_title() {
        assert_eq!(
            with_trailers("fix: a bug", T),
            "fix: a bug\n\nCodefleet-Task: rename\nCodefleet-Run: r1\n"
        );
    }

    #[test]
    fn values_are_single_line() {
        assert_eq!(
            with_trailers("S", &[("Codefleet-Task", "two\nlines\r\n")]),
            "S\n\nCodefleet-Task: two lines\n"
        );
    }

    #[test]
    fn a_prose_paragraph_with_a_colon_is_not_a_block() {
        assert_eq!(
            with_trailers("S\n\nNote: this changes\nmore than one thing", T),
            "S\n\nNote: this changes\nmore than one thing\n\nCodefleet-Task: rename\nCodefleet-Run: r1\n"
        );
    }
}
