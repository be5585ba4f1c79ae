//! Running the real binary with a controlled environment.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of `codefleet` showed the user.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `codefleet --color never ARGS…` in `dir` with an empty environment (so no config,
/// colour or locale setting of the machine leaks in).
pub fn codefleet(dir: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_codefleet"))
        .current_dir(dir)
        .env_clear()
        .args(["--color", "never"])
        .args(args)
        .output()
        .expect("the codefleet binary runs");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `tests/fixtures/NAME`.
pub fn fixtures(name: &str) -> PathBuf {
    root().join("tests/fixtures").join(name)
}

/// The `.yml` files of a directory, sorted by name.
pub fn yml_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("directory is readable")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    files
}
