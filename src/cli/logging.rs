//! Logging setup: `tracing` to stderr, `-v`/`-vv`/`-q`, `RUST_LOG`, `--log-format json`, and the
//! colour decision (`--color`, `NO_COLOR`, whether stderr is a terminal).

use tracing_subscriber::EnvFilter;

use super::args::{ColorChoice, GlobalArgs, LogFormat};

/// Whether to colour stderr: `--color always|never` wins; under `auto`, colour only on a
/// terminal and only when `NO_COLOR` is unset or empty.
pub fn color_enabled(choice: Option<ColorChoice>, terminal: bool) -> bool {
    match choice.unwrap_or(ColorChoice::Auto) {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
    }
}

/// Installs the global subscriber once; later calls (tests running in-process) are no-ops.
pub fn init(global: &GlobalArgs, color: bool) {
    let default = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    // RUST_LOG wins over -v/-q when set, as users of tracing expect.
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("codefleet={default}")));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    let _ = match global.log_format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.with_ansi(color).without_time().try_init(),
    };
}
