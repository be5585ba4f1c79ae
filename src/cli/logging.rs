//! Logging setup: `tracing` to stderr at the resolved verbosity (`-v`/`-vv`/`-q`, config,
//! `CODEFLEET_VERBOSITY`), `RUST_LOG`, `--log-format json`, and the colour decision
//! (`--color`, `NO_COLOR`, whether the stream is a terminal).

use std::ffi::OsStr;

use tracing_subscriber::EnvFilter;

use crate::settings::{ColorMode, LogFormat, Settings};

/// Whether to colour a stream: `always`/`never` win; under `auto`, colour only on a terminal
/// and only when `NO_COLOR` is unset or empty (https://no-color.org).
pub fn color_enabled(mode: ColorMode, terminal: bool) -> bool {
    color_decision(mode, terminal, std::env::var_os("NO_COLOR").as_deref())
}

/// The decision itself, with `NO_COLOR`'s value passed in. A config file or flag saying
/// `always` overrides `NO_COLOR`, as no-color.org asks.
fn color_decision(mode: ColorMode, terminal: bool, no_color: Option<&OsStr>) -> bool {
    match mode {
        ColorMode::Always => true,
        ColorMode::Never => false,
        ColorMode::Auto => terminal && no_color.is_none_or(|v| v.is_empty()),
    }
}

/// Log output with API keys and tokens replaced by `[redacted]` (the formatter writes each
/// record whole, so a token is never split between two writes).
struct Redacting<W>(W);

impl<W: std::io::Write> std::io::Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        self.0.write_all(crate::secrets::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.0.flush()
    }
}

/// Installs the global subscriber once; later calls (tests running in-process) are no-ops.
pub fn init(settings: &Settings, color: bool) {
    let default = settings.verbosity.value.level();
    // RUST_LOG wins over -v/-q when set, as users of tracing expect.
    let mut filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("codefleet={default}")));
    // The HTTP client's debug and trace records dump raw request bytes, API keys included:
    // they are never shown, whatever RUST_LOG asks.
    for quiet in ["ureq=info", "ureq_proto=info"] {
        if let Ok(directive) = quiet.parse() {
            filter = filter.add_directive(directive);
        }
    }
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| Redacting(std::io::stderr()))
        .with_target(false);
    let _ = match settings.log_format.value {
        LogFormat::Json => builder.json().with_ansi(false).try_init(),
        LogFormat::Text => builder.with_ansi(color).without_time().try_init(),
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_color_turns_auto_off_on_a_terminal() {
        assert!(color_decision(ColorMode::Auto, true, None));
        assert!(color_decision(ColorMode::Auto, true, Some(OsStr::new(""))));
        assert!(!color_decision(
            ColorMode::Auto,
            true,
            Some(OsStr::new("1"))
        ));
        assert!(!color_decision(ColorMode::Auto, false, None));
    }

    #[test]
    fn explicit_choices_override_no_color() {
        assert!(color_decision(
            ColorMode::Always,
            false,
            Some(OsStr::new("1"))
        ));
        assert!(!color_decision(ColorMode::Never, true, None));
    }
}
