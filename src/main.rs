//! The `codefleet` binary: a thin shell around [`codefleet::cli::main_with_args`].

use std::io::Write;

fn main() {
    let code = codefleet::cli::main_with_args(
        std::env::args_os(),
        &mut std::io::stdout(),
        &mut std::io::stderr(),
    );
    let _ = std::io::stdout().flush();
    std::process::exit(code);
}
