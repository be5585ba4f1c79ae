//! The command line: clap types, turning them into settings, and the only place that prints.
//! Nothing else in the crate depends on this module.

mod apply;
mod args;
mod campaign;
mod config;
mod errors;
mod history;
mod hosts;
mod init;
mod logging;
pub mod models;
mod plan;
mod report;
mod run;
mod schema;
mod validate;

use std::ffi::OsString;
use std::io::Write;

use clap::{CommandFactory, Parser};

pub use args::{Cli, Command, GlobalArgs};

use crate::error::{Error, Exit};
use crate::settings::{ColorMode, Settings};
use errors::CliError;

/// Where a command writes: stdout for results, stderr for diagnostics, and whether colour is on
/// for each.
pub struct Out<'a> {
    /// Results (reports, schemas, JSON).
    pub stdout: &'a mut dyn Write,
    /// Diagnostics and progress.
    pub stderr: &'a mut dyn Write,
    /// Colour on stderr.
    pub color: bool,
}

impl Out<'_> {
    /// Prints an error as codefleet renders errors.
    pub fn error(&mut self, err: &Error) {
        let _ = self.stderr.write_all(err.render(self.color).as_bytes());
    }
}

/// The real entry point: parses `args`, runs the command, writes to the given writers and
/// returns the process exit code. `main` is a call to this; tests call it in-process.
pub fn main_with_args<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let code = if err.use_stderr() {
                Exit::Usage.code()
            } else {
                Exit::Ok.code()
            };
            let text = if err.use_stderr() {
                err.render().ansi().to_string()
            } else {
                err.render().to_string()
            };
            let text = if logging::color_enabled(ColorMode::Auto, false) {
                text
            } else {
                strip_ansi(&text)
            };
            let target: &mut dyn Write = if err.use_stderr() { stderr } else { stdout };
            let _ = target.write_all(text.as_bytes());
            return code;
        }
    };
    // Settings are resolved once, here, and handed to the commands.
    let settings = match Settings::from_process(config::flags(&cli.global)) {
        Ok(settings) => settings,
        Err(err) => {
            let mode = config::flags(&cli.global).color.unwrap_or(ColorMode::Auto);
            let color = logging::color_enabled(mode, is_terminal_stderr());
            let _ = stderr.write_all(err.render(color).as_bytes());
            return err.exit.code();
        }
    };
    let color = logging::color_enabled(settings.color.value, is_terminal_stderr());
    logging::init(&settings, color);
    tracing::debug!(
        user_config = ?settings.user_config,
        repo_config = ?settings.repo_config,
        profile = ?settings.profile,
        jobs = settings.jobs.value,
        "settings resolved"
    );
    let mut stdout = PipeAware {
        inner: stdout,
        closed: false,
    };
    let mut out = Out {
        stdout: &mut stdout,
        stderr: &mut *stderr,
        color,
    };
    let result = dispatch(cli, &settings, &mut out);
    let closed = stdout.closed;
    let mut out = Out {
        stdout: &mut stdout,
        stderr,
        color,
    };
    let exit = match result {
        Ok(exit) => exit,
        // The reader went away (`codefleet runs | head`): what it wanted was written, so
        // stop quietly, as ripgrep does, instead of reporting the closed pipe.
        Err(_) if closed => Exit::Ok,
        Err(err) => {
            out.error(&err);
            err.exit
        }
    };
    exit.code()
}

/// Standard output that remembers whether its reader closed the pipe.
struct PipeAware<'a> {
    inner: &'a mut dyn Write,
    closed: bool,
}

impl PipeAware<'_> {
    fn note<T>(&mut self, result: std::io::Result<T>) -> std::io::Result<T> {
        if let Err(e) = &result
            && e.kind() == std::io::ErrorKind::BrokenPipe
        {
            self.closed = true;
        }
        result
    }
}

impl Write for PipeAware<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.note(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.note(r)
    }
}

/// The global flags that are not settings, and the commands that read each: any other command
/// refuses them rather than accept a flag that would do nothing (`codefleet schema --shard`).
fn unread_global(command: &Command, global: &GlobalArgs) -> Result<(), Error> {
    let name = match command {
        Command::Run(_) => "run",
        Command::Plan(_) => "plan",
        Command::Validate(_) => "validate",
        Command::Apply(_) => "apply",
        Command::Runs(_) => "runs",
        Command::Show(_) => "show",
        Command::Rollback(_) => "rollback",
        Command::Schema(_) => "schema",
        Command::Init(_) => "init",
        Command::Config(_) => "config",
        Command::Completions(_) => "completions",
        Command::Report(_) => "report merge",
        Command::Status(_) => "status",
        Command::Merge(_) => "merge",
        Command::Close(_) => "close",
    };
    let readers: [(&str, bool, &[&str]); 5] = [
        (
            "--repo",
            !global.repos.is_empty(),
            &[
                "run", "plan", "runs", "show", "rollback", "status", "merge", "close",
            ],
        ),
        (
            "--shard",
            global.shard.is_some(),
            &["run", "plan", "status", "merge", "close"],
        ),
        (
            "--repos-from",
            global.repos_from.is_some(),
            &["run", "plan", "status", "merge", "close"],
        ),
        (
            "--var",
            !global.vars.is_empty(),
            &["run", "plan", "validate", "status", "merge", "close"],
        ),
        (
            "--json",
            global.json,
            &[
                "run",
                "plan",
                "validate",
                "apply",
                "runs",
                "show",
                "rollback",
                "schema",
                "init",
                "config",
                "report merge",
                "status",
                "merge",
                "close",
            ],
        ),
    ];
    for (flag, given, commands) in readers {
        if given && !commands.contains(&name) {
            return Err(CliError::UnreadFlag {
                flag,
                command: name.to_string(),
                readers: commands.to_vec(),
            }
            .into());
        }
    }
    Ok(())
}

fn dispatch(cli: Cli, settings: &Settings, out: &mut Out<'_>) -> Result<Exit, Error> {
    let global = cli.global;
    unread_global(&cli.command, &global)?;
    match cli.command {
        Command::Validate(a) => validate::run(&global, &a, out),
        Command::Schema(a) => schema::run(&a, out),
        Command::Init(a) => init::run(&a, global.json, out),
        Command::Config(a) => config::run(&global, settings, &a, out),
        Command::Apply(a) => apply::run(&global, settings, &a, out),
        Command::Completions(a) => {
            // Generated into memory first: clap_complete panics on a write error such as a
            // closed pipe (`codefleet completions bash | head`).
            let mut buf = Vec::new();
            clap_complete::generate(a.shell, &mut Cli::command(), "codefleet", &mut buf);
            let _ = out.stdout.write_all(&buf);
            Ok(Exit::Ok)
        }
        Command::Run(a) => run::run(&global, settings, &a, out),
        Command::Plan(a) => plan::run(&global, settings, &a, out),
        Command::Runs(a) => history::runs(&global, &a, out),
        Command::Show(a) => history::show(&global, &a, out),
        Command::Rollback(a) => history::rollback(&global, &a, out),
        Command::Report(a) => report::run(&global, &a, out),
        Command::Status(a) => campaign::status(&global, settings, &a, out),
        Command::Merge(a) => campaign::merge(&global, settings, &a, out),
        Command::Close(a) => campaign::close(&global, settings, &a, out),
    }
}

fn is_terminal_stderr() -> bool {
    use std::io::IsTerminal;
    std::io::stderr().is_terminal()
}

/// Removes ANSI escape sequences (for clap output when colour is off).
fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
