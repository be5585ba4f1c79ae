//! Server-sent events as OpenAI and Anthropic stream them: `event:` names, `data:` lines
//! (several join with newlines), `:` comments (keep-alives) skipped, a blank line ends an event.

use std::io::{self, BufRead};

/// One event.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Event {
    /// The `event:` name; empty when the server gave none.
    pub name: String,
    /// The `data:` lines, joined with `\n`.
    pub data: String,
}

/// Reads events from a byte stream.
pub(crate) struct Events<R> {
    reader: R,
    line: Vec<u8>,
}

impl<R: BufRead> Events<R> {
    pub(crate) fn new(reader: R) -> Self {
        Events {
            reader,
            line: Vec::with_capacity(256),
        }
    }

    /// The next event; `None` at the end of the stream. An event cut off by the end of the
    /// stream (no blank line after it) is still returned: the caller decides from its content
    /// whether the reply was complete.
    pub(crate) fn next_event(&mut self) -> io::Result<Option<Event>> {
        let mut event = Event::default();
        let mut has_data = false;
        loop {
            self.line.clear();
            let n = self.reader.read_until(b'\n', &mut self.line)?;
            if n == 0 {
                return Ok(has_data.then_some(event));
            }
            let mut line = self.line.as_slice();
            if let Some(rest) = line.strip_suffix(b"\n") {
                line = rest;
            }
            if let Some(rest) = line.strip_suffix(b"\r") {
                line = rest;
            }
            if line.is_empty() {
                if has_data {
                    return Ok(Some(event));
                }
                event.name.clear();
                continue;
            }
            if line[0] == b':' {
                continue;
            }
            let text = String::from_utf8_lossy(line);
            let (field, value) = match text.split_once(':') {
                Some((f, v)) => (f, v.strip_prefix(' ').unwrap_or(v)),
                None => (text.as_ref(), ""),
            };
            match field {
                "event" => event.name = value.to_string(),
                "data" => {
                    if has_data {
                        event.data.push('\n');
                    }
                    event.data.push_str(value);
                    has_data = true;
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(text: &str) -> Vec<Event> {
        let mut events = Events::new(text.as_bytes());
        let mut out = Vec::new();
        while let Some(e) = events.next_event().expect("read") {
            out.push(e);
        }
        out
    }

    #[test]
    fn names_comments_and_multiline_data() {
        let got = all(": keep-alive\n\nevent: ping\ndata: {}\n\r\ndata: a\ndata:b\n\n: x\n");
        assert_eq!(
            got,
            vec![
                Event {
                    name: "ping".into(),
                    data: "{}".into()
                },
                Event {
                    name: String::new(),
                    data: "a\nb".into()
                }
            ]
        );
    }

    #[test]
    fn an_event_cut_off_by_the_end_is_returned() {
        let got = all("data: [DONE]");
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].data, "[DONE]");
    }
}
