//! What codefleet last wrote to a pull request, kept in the pull request itself as an HTML
//! comment at the end of its body (invisible on the forge's page):
//!
//! ```text
//! <!-- codefleet: head=3f2a… title=9c1e… body=47b0… labels=e69d… -->
//! ```
//!
//! `head` is the commit codefleet pushed (the campaign's `merge` refuses a head that moved
//! past it: someone added commits); `title`, `body` and `labels` are digests of the values
//! codefleet last set, so a re-run tells a person's edit (the value differs from its digest)
//! from its own, and keeps the person's edit unless the pipeline's value changed;
//! `closed=empty` says codefleet closed it because the change became empty (not a person's
//! decision, so a later change may open a new one). Living in the pull request, it needs no
//! local state: any machine, any CI job reads it.

/// The fields of the marker; absent ones are `None`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Marker {
    /// The commit codefleet last pushed to the head branch.
    pub head: Option<String>,
    /// Digest of the title codefleet last set.
    pub title: Option<String>,
    /// Digest of the body codefleet last set (without the marker).
    pub body: Option<String>,
    /// Digest of the labels codefleet last added (see [`labels_digest`]).
    pub labels: Option<String>,
    /// codefleet closed it because the change became empty.
    pub closed_empty: bool,
}

const OPEN: &str = "<!-- codefleet:";
const CLOSE: &str = "-->";

impl Marker {
    /// The marker in a pull request's body, if it has one (the last one, if several).
    pub fn read(body: &str) -> Option<Marker> {
        let start = body.rfind(OPEN)?;
        let rest = &body[start + OPEN.len()..];
        let inner = &rest[..rest.find(CLOSE)?];
        let mut m = Marker::default();
        for field in inner.split_whitespace() {
            match field.split_once('=') {
                Some(("head", v)) => m.head = Some(v.to_string()),
                Some(("title", v)) => m.title = Some(v.to_string()),
                Some(("body", v)) => m.body = Some(v.to_string()),
                Some(("labels", v)) => m.labels = Some(v.to_string()),
                Some(("closed", "empty")) => m.closed_empty = true,
                _ => {}
            }
        }
        Some(m)
    }

    /// `body` with this marker as its last line, in place of any marker it had.
    pub fn write(&self, body: &str) -> String {
        let text = strip(body).trim_end();
        let mut fields = Vec::new();
        for (k, v) in [
            ("head", &self.head),
            ("title", &self.title),
            ("body", &self.body),
            ("labels", &self.labels),
        ] {
            if let Some(v) = v {
                fields.push(format!("{k}={v}"));
            }
        }
        if self.closed_empty {
            fields.push("closed=empty".to_string());
        }
        let line = format!("{OPEN} {} {CLOSE}", fields.join(" "));
        if text.is_empty() {
            line
        } else {
            format!("{text}\n\n{line}\n")
        }
    }
}

/// `body` without its marker (and the blank lines before it).
pub fn strip(body: &str) -> &str {
    match body.rfind(OPEN) {
        Some(start) if body[start..].contains(CLOSE) => body[..start].trim_end(),
        _ => body,
    }
}

/// A short, stable digest of a text (the first 12 hex digits of its git blob id).
pub fn digest(text: &str) -> String {
    let oid = git2::Oid::hash_object(git2::ObjectType::Blob, text.as_bytes())
        .map(|o| o.to_string())
        .unwrap_or_default();
    oid.chars().take(12).collect()
}

/// The digest of a title or body as a person would see it: line endings (a forge's web editor
/// writes `\r\n`) and trailing white space do not count.
pub fn text_digest(text: &str) -> String {
    digest(text.replace("\r\n", "\n").trim_end())
}

/// `body` with its marker saying that codefleet closed the pull request because the change
/// became empty (its other fields kept; a body without a marker gets one).
pub fn closed_empty(body: &str) -> String {
    let marker = Marker {
        closed_empty: true,
        ..Marker::read(body).unwrap_or_default()
    };
    marker.write(body)
}

/// The digest of a set of labels: order and repeats do not matter.
pub fn labels_digest(labels: &[String]) -> String {
    let mut sorted: Vec<&str> = labels.iter().map(String::as_str).collect();
    sorted.sort_unstable();
    sorted.dedup();
    digest(&sorted.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_marker_round_trips_and_replaces_the_old_one() {
        let m = Marker {
            head: Some("abc".into()),
            title: Some(digest("T")),
            body: None,
            labels: Some(labels_digest(&["b".into(), "a".into()])),
            closed_empty: true,
        };
        let body = m.write("Hello\n");
        assert!(body.starts_with("Hello\n\n<!-- codefleet: head=abc title="));
        assert_eq!(Marker::read(&body), Some(m.clone()));
        assert_eq!(strip(&body), "Hello");
        let again = Marker::default().write(&body);
        assert_eq!(again, "Hello\n\n<!-- codefleet:  -->\n");
        assert_eq!(Marker::read(&again), Some(Marker::default()));
        assert_eq!(Marker::read("no marker"), None);
        assert_eq!(
            strip("text <!-- codefleet: unterminated"),
            "text <!-- codefleet: unterminated"
        );
        assert_eq!(
            labels_digest(&["a".into(), "b".into(), "a".into()]),
            labels_digest(&["b".into(), "a".into()])
        );
        assert_ne!(digest("x"), digest("y"));
        assert_eq!(digest("").len(), 12);
    }
}
