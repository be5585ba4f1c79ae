//! Running one shell command for a `run:` or `check:` task: its own process group (so a
//! timeout or Ctrl-C kills everything it started), a time limit, the interrupt flag polled
//! while it runs, and its output (stdout and stderr interleaved) captured with a cap that keeps
//! the first and the last lines, each line also handed to a callback for `-v`.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use crate::error::Error;

/// Bytes of output kept from the start of a command's output.
pub(crate) const HEAD_BYTES: usize = 4 * 1024;
/// Bytes of output kept from the end.
pub(crate) const TAIL_BYTES: usize = 28 * 1024;
/// How long the output pipes may stay open once the command's process group is gone (a
/// process that left the group may hold them); after that the output is cut off there.
const DRAIN_GRACE: Duration = Duration::from_secs(2);
/// How often the interrupt flag and the time limit are looked at while a command runs.
const POLL: Duration = Duration::from_millis(20);

use crate::pipeline::DEFAULT_SHELL;

use super::errors::ExecError;

/// One command to run.
pub(crate) struct Spec<'a> {
    /// The shell line (`bash -eo pipefail -c`, `sh`, `python3`...): split on whitespace; the
    /// command is its last argument, after `-c` unless the line already ends with it.
    pub shell: &'a str,
    /// The command text.
    pub command: &'a str,
    /// The directory it runs in.
    pub cwd: &'a Path,
    /// Extra environment.
    pub env: &'a BTreeMap<String, String>,
    /// Killed (with everything it started) after this long.
    pub timeout: Duration,
}

/// How a command ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Ended {
    /// It exited with this status code.
    Exited(i32),
    /// A signal ended it (not ours).
    Signal(i32),
    /// It ran past its time limit and was killed.
    TimedOut,
    /// The run was interrupted and it was killed.
    Interrupted,
}

/// What running a command gave.
#[derive(Debug, Clone)]
pub(crate) struct Finished {
    /// How it ended.
    pub ended: Ended,
    /// How long it took.
    pub took: Duration,
    /// Its output, cut in the middle when long (see [`Capture`]).
    pub output: String,
    /// True when the middle of the output was cut.
    pub truncated: bool,
}

impl Finished {
    /// Exit status 0.
    pub fn success(&self) -> bool {
        self.ended == Ended::Exited(0)
    }
}

/// Output kept with a cap: the first [`HEAD_BYTES`] and the last [`TAIL_BYTES`].
#[derive(Debug, Default)]
pub(crate) struct Capture {
    head: Vec<u8>,
    tail: std::collections::VecDeque<u8>,
    cut: usize,
}

impl Capture {
    fn push(&mut self, bytes: &[u8]) {
        let room = HEAD_BYTES.saturating_sub(self.head.len());
        let (to_head, rest) = bytes.split_at(room.min(bytes.len()));
        self.head.extend_from_slice(to_head);
        self.tail.extend(rest);
        let over = self.tail.len().saturating_sub(TAIL_BYTES);
        if over > 0 {
            self.tail.drain(..over);
            self.cut += over;
        }
    }

    /// The text kept, with a line saying how much was left out in the middle.
    fn text(&self) -> (String, bool) {
        if self.cut == 0 {
            let mut bytes = self.head.clone();
            bytes.extend(self.tail.iter());
            return (String::from_utf8_lossy(&bytes).into_owned(), false);
        }
        // Cut at line boundaries, so no line is shown half.
        let head_end = self
            .head
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(self.head.len(), |i| i + 1);
        let tail: Vec<u8> = self.tail.iter().copied().collect();
        let tail_start = tail.iter().position(|&b| b == b'\n').map_or(0, |i| i + 1);
        let left_out = self.head.len() - head_end + self.cut + tail_start;
        let mut bytes = self.head[..head_end].to_vec();
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(format!("[… {left_out} bytes of output left out …]\n").as_bytes());
        bytes.extend_from_slice(&tail[tail_start..]);
        (String::from_utf8_lossy(&bytes).into_owned(), true)
    }
}

/// Splits a shell line into program and arguments, `-c` last.
fn shell_words(shell: &str) -> Vec<String> {
    let mut words: Vec<String> = shell.split_whitespace().map(str::to_string).collect();
    if shell.trim() == DEFAULT_SHELL && !on_path("bash") {
        words = vec!["sh".into(), "-e".into()];
    }
    if words.last().is_none_or(|w| w != "-c") {
        words.push("-c".into());
    }
    words
}

/// Whether an executable named `name` is on `PATH`.
fn on_path(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| {
        std::env::split_paths(&paths).any(|dir| {
            let p = dir.join(name);
            std::fs::metadata(&p).is_ok_and(|m| m.is_file())
        })
    })
}

/// Runs `spec`, killing its process group on timeout or once `interrupt` is set; every line of
/// output goes to `line` as it arrives. `Err` only when the command cannot be started.
pub(crate) fn run(
    spec: &Spec<'_>,
    interrupt: &AtomicBool,
    line: &(dyn Fn(&str) + Sync),
) -> Result<Finished, Error> {
    let started = Instant::now();
    let mut child = spawn(spec)?;
    let _running = Running::register(child.id());
    let rx = read_output(&mut child);
    let mut output = Output {
        capture: Capture::default(),
        line,
    };
    let deadline = started + spec.timeout;
    let (killed, status) = watch(&mut child, &rx, &mut output, deadline, interrupt);
    let took = started.elapsed();
    // Whatever the command left running in its group goes with it: the worktree it ran in is
    // about to be reset or removed.
    kill_group(&mut child);
    let drain_until = Instant::now() + DRAIN_GRACE;
    loop {
        let left = drain_until.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(chunk) => output.take(chunk),
            Err(_) => break,
        }
    }
    let ended = match (killed, status) {
        (Some(k), _) => k,
        (None, Some(s)) => ended_by(s),
        (None, None) => Ended::Signal(0),
    };
    let (output, truncated) = output.capture.text();
    Ok(Finished {
        ended,
        took,
        output,
        truncated,
    })
}

/// Starts the command in its own process group, stdout and stderr piped.
fn spawn(spec: &Spec<'_>) -> Result<Child, Error> {
    let words = shell_words(spec.shell);
    let (program, args) = words
        .split_first()
        .ok_or_else(|| Error::from(ExecError::ShellEmpty))?;
    let mut cmd = Command::new(program);
    // Variables that would point git inside the command at another repository (set when
    // codefleet itself runs from a git hook); the task's `env:` may still set them.
    for var in [
        "GIT_DIR",
        "GIT_WORK_TREE",
        "GIT_INDEX_FILE",
        "GIT_PREFIX",
        "GIT_COMMON_DIR",
        "GIT_OBJECT_DIRECTORY",
    ] {
        cmd.env_remove(var);
    }
    cmd.args(args)
        .arg(spec.command)
        .current_dir(spec.cwd)
        .envs(spec.env)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    {
        use std::os::unix::process::CommandExt;
        // Its own group: a timeout kills what it started too, and the terminal's Ctrl-C reaches
        // codefleet only, which then stops the command itself.
        cmd.process_group(0);
    }
    cmd.spawn().map_err(|e| {
        Error::from(ExecError::ShellStart {
            program: program.to_string(),
            command: spec.command.to_string(),
            why: e.to_string(),
            missing: e.kind() == std::io::ErrorKind::NotFound,
        })
    })
}

/// Reads the child's stdout and stderr on threads of their own; the chunks arrive on the
/// channel, which disconnects once both pipes closed.
fn read_output(child: &mut Child) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel::<Vec<u8>>();
    let stdout = child
        .stdout
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    let stderr = child
        .stderr
        .take()
        .map(|p| Box::new(p) as Box<dyn Read + Send>);
    for pipe in [stdout, stderr].into_iter().flatten() {
        let tx = tx.clone();
        std::thread::spawn(move || read_lines(pipe, &tx));
    }
    rx
}

/// A command's output as it arrives: kept with a cap, each line handed on.
struct Output<'a> {
    capture: Capture,
    line: &'a (dyn Fn(&str) + Sync),
}

impl Output<'_> {
    fn take(&mut self, chunk: Vec<u8>) {
        self.capture.push(&chunk);
        let text = String::from_utf8_lossy(&chunk);
        for l in text.lines() {
            (self.line)(l);
        }
    }
}

/// Waits for the command to exit, taking its output meanwhile, and kills its group once
/// `interrupt` is set or `deadline` passed; returns why it was killed (if it was) and its
/// status (`None` when it cannot be waited for).
fn watch(
    child: &mut Child,
    rx: &mpsc::Receiver<Vec<u8>>,
    output: &mut Output<'_>,
    deadline: Instant,
    interrupt: &AtomicBool,
) -> (Option<Ended>, Option<ExitStatus>) {
    let mut killed = None;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return (killed, Some(status)),
            Ok(None) => {}
            Err(_) => return (killed, None),
        }
        if killed.is_none() {
            if interrupt.load(Ordering::SeqCst) {
                kill_group(child);
                killed = Some(Ended::Interrupted);
            } else if Instant::now() >= deadline {
                kill_group(child);
                killed = Some(Ended::TimedOut);
            }
        }
        match rx.recv_timeout(POLL) {
            Ok(chunk) => {
                output.take(chunk);
                // Keep up with a fast writer: everything already sent, then look again.
                while let Ok(more) = rx.try_recv() {
                    output.take(more);
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            // Both pipes closed: only the process itself is left to wait for.
            Err(mpsc::RecvTimeoutError::Disconnected) => std::thread::sleep(POLL),
        }
    }
}

/// Process groups of the commands running now, for [`kill_running`].
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A command's entry in [`RUNNING`], removed on drop (after its group was killed and reaped).
struct Running(u32);

impl Running {
    fn register(pid: u32) -> Running {
        RUNNING.lock().unwrap_or_else(|p| p.into_inner()).push(pid);
        Running(pid)
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|&p| p != self.0);
    }
}

/// Kills the process groups of every command running now. For a process about to exit at
/// once (a second Ctrl-C): commands run in their own process groups, so nothing else would
/// stop them.
pub fn kill_running() {
    let running = RUNNING.lock().unwrap_or_else(|p| p.into_inner()).clone();
    for pid in running {
        signal_group(pid);
    }
}

/// Sends SIGKILL to the process group `pid` leads (Unix only).
fn signal_group(pid: u32) {
    #[cfg(unix)]
    {
        if let Ok(pgid) = libc::pid_t::try_from(pid) {
            // SAFETY: kill(2) takes plain integers and touches no memory of ours. The group id
            // is the command's pid (`process_group(0)`); while the command is unreaped, or any
            // process of its group lives, the id cannot be reused, and once all are gone the
            // call finds no group.
            unsafe {
                libc::kill(-pgid, libc::SIGKILL);
            }
        }
    }
    #[cfg(not(unix))]
    let _ = pid;
}

/// Sends a pipe's output in whole lines, as many as each read brings (a line longer than
/// 8 KiB goes in pieces).
fn read_lines(mut pipe: Box<dyn Read + Send>, tx: &mpsc::Sender<Vec<u8>>) {
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = [0u8; 8192];
    loop {
        let n = match pipe.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        pending.extend_from_slice(&buf[..n]);
        let cut = match pending.iter().rposition(|&b| b == b'\n') {
            Some(i) => i + 1,
            None if pending.len() >= 8192 => pending.len(),
            None => continue,
        };
        let rest = pending.split_off(cut);
        if tx.send(std::mem::replace(&mut pending, rest)).is_err() {
            return;
        }
    }
    if !pending.is_empty() {
        pending.push(b'\n');
        let _ = tx.send(pending);
    }
}

fn ended_by(status: ExitStatus) -> Ended {
    if let Some(code) = status.code() {
        return Ended::Exited(code);
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            return Ended::Signal(sig);
        }
    }
    Ended::Signal(0)
}

/// Kills the command's whole process group (on Unix; elsewhere the command itself), and reaps
/// the command. A group already gone is fine.
fn kill_group(child: &mut Child) {
    signal_group(child.id());
    let _ = child.kill();
    let _ = child.wait();
}

/// A cap on how many repositories run one task's command at once (`concurrency:`), shared by
/// the workers of a run.
#[derive(Debug, Default)]
pub(crate) struct Gate {
    running: Mutex<usize>,
    freed: Condvar,
}

/// A place taken in a [`Gate`]; dropping it frees the place.
pub(crate) struct Slot<'a>(&'a Gate);

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        let mut running = self.0.running.lock().unwrap_or_else(|p| p.into_inner());
        *running = running.saturating_sub(1);
        self.0.freed.notify_one();
    }
}

impl Gate {
    /// Waits for a place among `cap`; `None` when `interrupt` was set while waiting.
    pub fn enter(&self, cap: usize, interrupt: &AtomicBool) -> Option<Slot<'_>> {
        let mut running = self.running.lock().unwrap_or_else(|p| p.into_inner());
        while *running >= cap.max(1) {
            if interrupt.load(Ordering::SeqCst) {
                return None;
            }
            running = match self.freed.wait_timeout(running, POLL * 5) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        *running += 1;
        Some(Slot(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec<'a>(command: &'a str, cwd: &'a Path, env: &'a BTreeMap<String, String>) -> Spec<'a> {
        Spec {
            shell: "sh",
            command,
            cwd,
            env,
            timeout: Duration::from_secs(60),
        }
    }

    #[test]
    fn output_and_exit_status_are_captured() {
        let dir = tempfile::tempdir().unwrap();
        let env = BTreeMap::from([("GREETING".to_string(), "hi".to_string())]);
        let lines = Mutex::new(Vec::new());
        let done = run(
            &spec(
                "echo $GREETING; echo oops >&2; pwd; exit 3",
                dir.path(),
                &env,
            ),
            &AtomicBool::new(false),
            &|l| lines.lock().unwrap().push(l.to_string()),
        )
        .unwrap();
        assert_eq!(done.ended, Ended::Exited(3));
        assert!(done.output.contains("hi\n"), "{}", done.output);
        assert!(done.output.contains("oops\n"), "{}", done.output);
        let lines = lines.into_inner().unwrap();
        assert!(lines.contains(&"hi".to_string()), "{lines:?}");
        let cwd = std::fs::canonicalize(dir.path()).unwrap();
        assert!(lines.contains(&cwd.display().to_string()), "{lines:?}");
        assert!(!done.truncated);
    }

    #[test]
    fn long_output_keeps_its_start_and_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let env = BTreeMap::new();
        let done = run(
            &spec(
                "i=0; while [ $i -lt 5000 ]; do echo line $i; i=$((i+1)); done",
                dir.path(),
                &env,
            ),
            &AtomicBool::new(false),
            &|_| {},
        )
        .unwrap();
        assert!(done.success());
        assert!(done.truncated);
        assert!(done.output.starts_with("line 0\nline 1\n"));
        assert!(done.output.ends_with("line 4998\nline 4999\n"));
        assert!(done.output.contains("bytes of output left out"));
        assert!(done.output.len() < HEAD_BYTES + TAIL_BYTES + 100);
    }

    #[test]
    fn a_missing_shell_is_an_error_with_a_hint() {
        let dir = tempfile::tempdir().unwrap();
        let env = BTreeMap::new();
        let mut s = spec("true", dir.path(), &env);
        s.shell = "no-such-shell-codefleet";
        let e = run(&s, &AtomicBool::new(false), &|_| {}).unwrap_err();
        assert_eq!(e.code, "E601");
        assert!(e.hint.unwrap().contains("shell"));
    }

    #[test]
    fn shell_lines_get_dash_c_once() {
        assert_eq!(shell_words("sh"), ["sh", "-c"]);
        assert_eq!(shell_words("bash -e -c"), ["bash", "-e", "-c"]);
        assert_eq!(shell_words("python3"), ["python3", "-c"]);
    }

    #[test]
    fn a_gate_lets_cap_holders_in() {
        let gate = Gate::default();
        let flag = AtomicBool::new(false);
        let one = gate.enter(1, &flag).unwrap();
        flag.store(true, Ordering::SeqCst);
        assert!(gate.enter(1, &flag).is_none(), "full, and interrupted");
        drop(one);
        assert!(gate.enter(1, &flag).is_some());
    }
}
