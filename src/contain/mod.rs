//! Containment for parsers of outside bytes that can take a process down.
//!
//! A stack overflow or an allocation failure aborts a Rust process;
//! `catch_unwind` sees neither, and a runaway loop in a thread cannot be
//! stopped. A parser that can do any of those runs here instead: in a child
//! process — `modelwatch` itself in a hidden mode ([`WORKER_ARG`]) — that
//! sets its own CPU-time, address-space and core-dump limits before reading
//! a byte, runs the parser on a thread with a known stack, and writes its
//! result as JSON. The parent gives it a wall-clock budget, kills it when
//! that runs out, and turns any death into a [`ContainError`] with a reason.
//!
//! The worker binary is named once per process with [`set_worker_exe`]
//! (`main` names itself). Library users and unit tests that never name one
//! get [`Containment::InProcess`]: the same parser on a thread with the same
//! stack, which catches panics but not aborts.

mod child;
mod thread;

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::mpsc;
use std::time::Duration;

pub use child::{WORKER_ARG, worker_main};
pub use thread::{ThreadLimits, on_thread};

/// Which parser a worker runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parser {
    Pdf,
}

impl Parser {
    fn arg(self) -> &'static str {
        match self {
            Parser::Pdf => "pdf",
        }
    }

    fn from_arg(s: &str) -> Option<Parser> {
        match s {
            "pdf" => Some(Parser::Pdf),
            _ => None,
        }
    }
}

/// What a worker may use. The defaults fit a 10 MiB report with room to
/// spare and stop a hostile one within a minute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// CPU seconds (RLIMIT_CPU): a runaway loop gets SIGXCPU.
    pub cpu: Duration,
    /// Address space in bytes (RLIMIT_AS): an allocation past it fails and
    /// the worker aborts, not the daemon.
    pub memory: u64,
    /// Wall-clock time before the parent kills the worker (a parse waiting
    /// on nothing uses no CPU).
    pub wall: Duration,
    /// Stack of the parsing thread.
    pub stack: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { cpu: Duration::from_secs(30), memory: 1 << 30, wall: Duration::from_secs(45), stack: 16 << 20 }
    }
}

/// Why a contained parse produced no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ContainError {
    #[error("the parser crashed on this input ({0})")]
    Died(String),
    #[error("the parser took longer than {0} s")]
    TimedOut(u64),
    #[error("cannot start the parser process: {0}")]
    Spawn(String),
    #[error("the parser process answered nonsense: {0}")]
    Protocol(String),
}

/// Where parsers run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Containment {
    /// A child process of this binary (the daemon and the CLI).
    Process(PathBuf),
    /// A thread of this process: panics are caught, aborts are not.
    InProcess,
}

static WORKER_EXE: OnceLock<PathBuf> = OnceLock::new();

/// Names the binary that serves [`WORKER_ARG`]. The first call wins.
pub fn set_worker_exe(path: PathBuf) {
    let _ = WORKER_EXE.set(path);
}

/// Where parsers run in this process.
pub fn containment() -> Containment {
    match WORKER_EXE.get() {
        Some(p) => Containment::Process(p.clone()),
        None => Containment::InProcess,
    }
}

/// Runs `parser` on `input` under `limits` and returns its JSON answer.
/// Blocking: call it off the async threads.
pub fn run(parser: Parser, input: &[u8], limits: Limits) -> Result<serde_json::Value, ContainError> {
    match containment() {
        Containment::Process(exe) => run_in_child(&exe, parser, input, limits),
        Containment::InProcess => run_on_thread(parser, input.to_vec(), limits),
    }
}

/// The in-process fallback: a thread with a known stack and a time budget.
fn run_on_thread(parser: Parser, input: Vec<u8>, limits: Limits) -> Result<serde_json::Value, ContainError> {
    on_thread("contained-parser", ThreadLimits { stack: limits.stack, wall: limits.wall }, move || {
        child::parse(parser, &input)
    })
}

/// Largest answer read from a worker (the text of a 1,000-page report is a
/// few MB); a longer one is cut and fails to parse as JSON.
const MAX_ANSWER: u64 = 256 << 20;

/// Longest stderr tail kept from a dying worker, for its reason.
const STDERR_TAIL: usize = 2048;

fn run_in_child(
    exe: &std::path::Path,
    parser: Parser,
    input: &[u8],
    limits: Limits,
) -> Result<serde_json::Value, ContainError> {
    let mut child = Command::new(exe)
        .arg(WORKER_ARG)
        .arg(parser.arg())
        .arg(limits.cpu.as_secs().max(1).to_string())
        .arg(limits.memory.to_string())
        .arg(limits.stack.to_string())
        // The worker needs nothing from our environment (secrets included).
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ContainError::Spawn(format!("{}: {e}", exe.display())))?;
    let (Some(mut stdin), Some(mut stdout), Some(mut stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        let _ = child.kill();
        let _ = child.wait();
        return Err(ContainError::Spawn("the worker's pipes are missing".to_owned()));
    };
    // Input, output and error each on their own thread: a worker that stops
    // reading or writes a lot must not deadlock us against a full pipe.
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        // A worker that dies early closes its stdin: not our error to report.
        let _ = stdin.write_all(&input);
    });
    let errors = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut stderr).take(1 << 20).read_to_end(&mut buf);
        let start = buf.len().saturating_sub(STDERR_TAIL);
        String::from_utf8_lossy(&buf[start..]).into_owned()
    });
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let r = (&mut stdout).take(MAX_ANSWER).read_to_end(&mut buf).map(|_| buf);
        let _ = tx.send(r);
    });
    let answer = rx.recv_timeout(limits.wall);
    let timed_out = matches!(answer, Err(mpsc::RecvTimeoutError::Timeout));
    if timed_out {
        let _ = child.kill();
    }
    let status = child.wait().map_err(|e| ContainError::Spawn(e.to_string()))?;
    let _ = writer.join();
    let stderr_tail = errors.join().unwrap_or_default();
    if timed_out {
        return Err(ContainError::TimedOut(limits.wall.as_secs()));
    }
    if !status.success() {
        return Err(ContainError::Died(death_reason(status, &stderr_tail)));
    }
    let bytes = match answer {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return Err(ContainError::Protocol(e.to_string())),
        Err(_) => return Err(ContainError::Protocol("no answer".to_owned())),
    };
    serde_json::from_slice(&bytes).map_err(|e| ContainError::Protocol(e.to_string()))
}

/// A short, honest description of how a worker ended.
fn death_reason(status: std::process::ExitStatus, stderr: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    let cause = if stderr.contains("overflowed its stack") {
        Some("stack overflow")
    } else if stderr.contains("memory allocation") {
        Some("memory limit reached")
    } else {
        None
    };
    let how = match status.signal() {
        Some(24) => "CPU time limit reached (SIGXCPU)".to_owned(),
        Some(9) => "killed (SIGKILL)".to_owned(),
        Some(6) => "aborted (SIGABRT)".to_owned(),
        Some(11) => "segmentation fault (SIGSEGV)".to_owned(),
        Some(n) => format!("signal {n}"),
        None => format!("exit code {}", status.code().unwrap_or(-1)),
    };
    match cause {
        Some(c) => format!("{c}: {how}"),
        None => how,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_in_process_fallback_answers_and_keeps_its_budget() {
        let pdf = crate::sources::pdf::write_test_pdf("t", &["Hello contained world"]).unwrap();
        let v = run_on_thread(Parser::Pdf, pdf, Limits::default()).unwrap();
        assert!(v["ok"]["text"].as_str().unwrap().contains("Hello contained world"), "{v}");
    }

    #[test]
    fn parser_names_round_trip() {
        assert_eq!(Parser::from_arg(Parser::Pdf.arg()), Some(Parser::Pdf));
        assert_eq!(Parser::from_arg("html"), None);
    }
}
