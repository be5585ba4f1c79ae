//! `codefleet` called in this process through `codefleet::cli::main_with_args`, with byte
//! buffers for stdout and stderr: for quick tests of commands that print and exit, where
//! starting the binary would be most of the time. End-to-end tests keep the real binary.

use std::path::Path;

/// What one in-process call showed the user.
pub struct Ran {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// `codefleet ARGS…` in-process. Every path in `args` should be absolute: the process's
/// current directory is shared by every test. `--config` names an empty file so no user
/// configuration on the machine changes the result, and libgit2 reads none either.
pub fn codefleet(args: &[&str]) -> Ran {
    super::fixture::isolate_libgit2();
    let config = tempfile::NamedTempFile::new().expect("empty config file");
    let mut argv = vec!["codefleet", "--color", "never", "--config"];
    argv.push(config.path().to_str().expect("utf-8 temp path"));
    argv.extend_from_slice(args);
    let (mut stdout, mut stderr) = (Vec::new(), Vec::new());
    let code = codefleet::cli::main_with_args(argv, &mut stdout, &mut stderr);
    Ran {
        code,
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// A path as an argument.
pub fn arg(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}
