//! The lighter containment: a parser on its own thread with a known stack
//! and a wall-clock budget. A panic becomes [`ContainError::Died`]; a parse
//! past its budget becomes [`ContainError::TimedOut`] (the thread is left
//! to finish on its own — the budget bounds how long the caller waits).
//!
//! For parsers that cannot abort the process on their own: a stack
//! overflow still aborts, so callers bound the nesting depth before they
//! parse (or use the child process of [`super::run`]).

use std::sync::mpsc;
use std::time::Duration;

use super::ContainError;

/// Stack and time for one contained parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadLimits {
    pub stack: usize,
    pub wall: Duration,
}

impl ThreadLimits {
    /// 32 MiB of stack and 30 s: far beyond a real feed, API answer or
    /// document, and short enough that a hostile one is given up quickly.
    pub const PARSER: ThreadLimits = ThreadLimits { stack: 32 << 20, wall: Duration::from_secs(30) };
}

/// Runs `f` on a thread named `name` under `limits`. Blocking: call it off
/// the async threads.
pub fn on_thread<T: Send + 'static>(
    name: &str,
    limits: ThreadLimits,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ContainError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name(name.to_owned())
        .stack_size(limits.stack)
        .spawn(move || {
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            let _ = tx.send(out);
        })
        .map_err(|e| ContainError::Spawn(e.to_string()))?;
    match rx.recv_timeout(limits.wall) {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(payload)) => Err(ContainError::Died(format!("panic: {}", panic_message(payload.as_ref())))),
        Err(mpsc::RecvTimeoutError::Timeout) => Err(ContainError::TimedOut(limits.wall.as_secs())),
        Err(mpsc::RecvTimeoutError::Disconnected) => Err(ContainError::Died("the parser thread vanished".to_owned())),
    }
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_a_panic_and_a_runaway_are_told_apart() {
        let limits = ThreadLimits { stack: 1 << 20, wall: Duration::from_millis(200) };
        assert_eq!(on_thread("t", limits, || 7).unwrap(), 7);
        let died = on_thread("t", limits, || -> u8 { panic!("hostile input") }).unwrap_err();
        assert_eq!(died, ContainError::Died("panic: hostile input".to_owned()));
        let slow = on_thread("t", limits, || std::thread::sleep(Duration::from_secs(2))).unwrap_err();
        assert_eq!(slow, ContainError::TimedOut(0));
    }

    #[test]
    fn the_stack_is_the_one_asked_for() {
        // 8 MiB of locals: would overflow a default 2 MiB thread.
        fn deep(n: u32) -> u64 {
            let pad = std::hint::black_box([n as u8; 4096]);
            if n == 0 { 0 } else { deep(n - 1) + u64::from(pad[100]) }
        }
        let expected: u64 = (1..=2048u64).map(|n| n % 256).sum();
        assert_eq!(on_thread("t", ThreadLimits::PARSER, || deep(2048)).unwrap(), expected);
    }
}
