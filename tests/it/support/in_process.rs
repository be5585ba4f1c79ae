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

/// Expectations that read as sentences: `codefleet(&[..]).exits(2).says("…")`. Each returns
/// the value, so they chain; a failed one shows the whole output.
impl Ran {
    /// Exit code `code`.
    pub fn exits(self, code: i32) -> Ran {
        assert_eq!(self.code, code, "exit code\n{self}");
        self
    }

    /// Exit 0 with nothing on stderr.
    pub fn succeeds_quietly(self) -> Ran {
        assert!(self.code == 0 && self.stderr.is_empty(), "{self}");
        self
    }

    /// Stderr contains `text`.
    pub fn says(self, text: &str) -> Ran {
        assert!(self.stderr.contains(text), "stderr lacks {text:?}\n{self}");
        self
    }

    /// Stdout contains `text`.
    pub fn prints(self, text: &str) -> Ran {
        assert!(self.stdout.contains(text), "stdout lacks {text:?}\n{self}");
        self
    }

    /// Stdout is empty.
    pub fn prints_nothing(self) -> Ran {
        assert!(self.stdout.is_empty(), "{self}");
        self
    }
}

impl std::fmt::Display for Ran {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\nstdout:\n{}\nstderr:\n{}",
            self.code, self.stdout, self.stderr
        )
    }
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
