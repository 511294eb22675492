//! The lighter containment: a parser on a worker thread with a known stack
//! and a wall-clock budget ([`crate::worker`]). A panic becomes
//! [`ContainError::Died`]; a parse past its budget becomes
//! [`ContainError::TimedOut`] (the worker is left to finish on its own and
//! replaced — the budget bounds how long the caller waits).
//!
//! For parsers that cannot abort the process on their own: a stack
//! overflow still aborts, so callers bound the nesting depth before they
//! parse (or use the child process of [`super::run`]).

use std::time::Duration;

use super::ContainError;
use crate::worker::{JobError, PARSER_STACK, Pool, PoolSpec, parsers};

/// Stack and time for one contained parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThreadLimits {
    pub stack: usize,
    pub wall: Duration,
}

impl ThreadLimits {
    /// 32 MiB of stack and 30 s: far beyond a real feed, API answer or
    /// document, and short enough that a hostile one is given up quickly.
    pub const PARSER: ThreadLimits = ThreadLimits { stack: PARSER_STACK, wall: Duration::from_secs(30) };
}

/// Runs `f` under `limits`: on the shared parser pool when its stack is
/// enough, else on a thread of its own named `name`. Blocking: call it off
/// the async threads.
pub fn on_thread<T: Send + 'static>(
    name: &str,
    limits: ThreadLimits,
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ContainError> {
    let out = if limits.stack <= PARSER_STACK {
        parsers().run(limits.wall, f)
    } else {
        // A pool of one, gone with this call (its worker once the job ends).
        let spec = PoolSpec { workers: 1, stack: limits.stack, max_stuck: 0, max_queue_wait: limits.wall };
        Pool::new(name, spec).run(limits.wall, f)
    };
    out.map_err(|e| match e {
        JobError::Panicked(message) => ContainError::Died(format!("panic: {message}")),
        JobError::TimedOut(_) => ContainError::TimedOut(limits.wall.as_secs()),
        JobError::Busy(waited) => ContainError::TimedOut(waited.as_secs()),
        JobError::Unavailable(e) => ContainError::Spawn(e),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_a_panic_and_a_runaway_are_told_apart() {
        // A generous budget where time is not the point: the panic hook
        // prints a backtrace, which takes long in a loaded test binary.
        let limits = ThreadLimits { stack: 1 << 20, wall: Duration::from_secs(30) };
        assert_eq!(on_thread("t", limits, || 7).unwrap(), 7);
        let died = on_thread("t", limits, || -> u8 { panic!("hostile input") }).unwrap_err();
        assert_eq!(died, ContainError::Died("panic: hostile input".to_owned()));
        let limits = ThreadLimits { wall: Duration::from_millis(200), ..limits };
        let slow = on_thread("t", limits, || std::thread::sleep(Duration::from_secs(2))).unwrap_err();
        assert_eq!(slow, ContainError::TimedOut(0));
    }

    #[test]
    fn a_stack_beyond_the_pools_gets_a_thread_of_its_own() {
        // 40 MiB of locals at least: past the shared pool's 32 MiB workers (whose
        // stack `worker`'s tests check), within the 256 MiB asked for (a debug
        // build's frames are larger; only touched pages cost).
        fn deep(n: u32) -> u64 {
            let pad = std::hint::black_box([n as u8; 4096]);
            if n == 0 { 0 } else { deep(n - 1) + u64::from(pad[100]) }
        }
        let limits = ThreadLimits { stack: 256 << 20, wall: Duration::from_secs(30) };
        let expected: u64 = (1..=10_000u64).map(|n| n % 256).sum();
        assert_eq!(on_thread("t", limits, || deep(10_000)).unwrap(), expected);
    }
}
