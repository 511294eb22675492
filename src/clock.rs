//! The clock seam: what time it is, for every decision that depends on it.
//!
//! The runner (when a check started, which sources are due, lease ends), the
//! daemon (crash recovery, retention), and the digest job (which week, when
//! a claim's lease ends, when to retry) ask a [`Clock`] instead of
//! `Utc::now()`. Production passes [`SystemClock`]; tests pass a
//! [`ManualClock`] and move it forward instead of backdating rows with SQL or
//! sleeping. Timestamps that only label a log line or an export read the
//! system time directly.
//!
//! Waiting is not part of the seam: the daemon's intervals and cron ticks
//! run on tokio's timer, and what they trigger reads this clock.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

/// The current instant.
///
/// Called by the runner, the daemon and the digest job whenever a time
/// decides behaviour. It cannot fail. Successive calls on one clock never go
/// backwards unless a test sets it back on purpose.
pub trait Clock: Send + Sync + Debug {
    fn now(&self) -> DateTime<Utc>;
}

/// A clock shared by the parts of one daemon or command.
pub type SharedClock = Arc<dyn Clock>;

/// The operating system's clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

impl SystemClock {
    /// The system clock as a [`SharedClock`].
    pub fn shared() -> SharedClock {
        Arc::new(SystemClock)
    }
}

/// A clock that stands still until it is told to move: tests (and
/// simulations) set the day of the week or let a fortnight pass at once.
#[derive(Debug)]
pub struct ManualClock {
    now: Mutex<DateTime<Utc>>,
}

impl ManualClock {
    pub fn new(at: DateTime<Utc>) -> Arc<ManualClock> {
        Arc::new(ManualClock { now: Mutex::new(at) })
    }

    /// Sets the time (forwards or back).
    pub fn set(&self, at: DateTime<Utc>) {
        *self.lock() = at;
    }

    /// Moves the time forward by `by` (back when negative).
    pub fn advance(&self, by: chrono::Duration) {
        let mut now = self.lock();
        *now = now.checked_add_signed(by).unwrap_or(DateTime::<Utc>::MAX_UTC);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, DateTime<Utc>> {
        // A panic while holding the lock cannot leave a half-written instant.
        self.now.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Clock for ManualClock {
    fn now(&self) -> DateTime<Utc> {
        *self.lock()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_manual_clock_stands_still_until_moved() {
        let t0 = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let clock = ManualClock::new(t0);
        let shared: SharedClock = clock.clone();
        assert_eq!(shared.now(), t0);
        assert_eq!(shared.now(), t0, "no time passes by itself");
        clock.advance(chrono::Duration::days(14));
        assert_eq!(shared.now(), t0 + chrono::Duration::days(14));
        clock.set(t0);
        assert_eq!(shared.now(), t0);
        clock.advance(chrono::Duration::MAX);
        assert_eq!(shared.now(), DateTime::<Utc>::MAX_UTC, "saturates instead of panicking");
    }

    #[test]
    fn the_system_clock_follows_the_system_time() {
        let before = Utc::now();
        let now = SystemClock::shared().now();
        assert!(now >= before && now <= Utc::now());
    }
}
