//! systemd's watchdog: `WATCHDOG=1` only while the daemon really works.
//!
//! A process that is up but wedged (a sweep that never returns, a database
//! that stopped answering) looks alive to every other probe. With
//! `WatchdogSec=` in the unit, systemd restarts the service when the pings
//! stop; so the pings must stop exactly when the daemon is wedged:
//!
//! - the sweep loop beats a [`Heartbeat`] each time it goes round; it is
//!   stalled when it has not gone round for longer than `stall_after`
//!   (`schedule.sweep_every + schedule.lease`: a sweep's checks are claimed
//!   for one lease, so a sweep still running after it is stuck by the
//!   design's own definition);
//! - the database must answer a ping within the ping interval.
//!
//! Pings go out every half `WATCHDOG_USEC` (as sd_watchdog_enabled(3)
//! advises); without `WATCHDOG_USEC` this task does nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// When the sweep loop last went round.
#[derive(Debug)]
pub struct Heartbeat {
    start: Instant,
    /// Milliseconds after `start`.
    last: AtomicU64,
}

impl Heartbeat {
    pub fn new() -> Arc<Heartbeat> {
        Arc::new(Heartbeat { start: Instant::now(), last: AtomicU64::new(0) })
    }

    pub fn beat(&self) {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last.store(now, Ordering::Relaxed);
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let last = Duration::from_millis(self.last.load(Ordering::Relaxed));
        self.start.elapsed().saturating_sub(last)
    }
}

/// Why a ping is withheld; `None` when the daemon is healthy.
pub fn verdict(loop_age: Duration, stall_after: Duration, db: Result<(), String>) -> Option<String> {
    if loop_age > stall_after {
        return Some(format!(
            "the sweep loop has not gone round for {}s (limit {}s)",
            loop_age.as_secs(),
            stall_after.as_secs()
        ));
    }
    db.err().map(|e| format!("the database does not answer: {e}"))
}

/// Pings systemd's watchdog while the loop and the database are alive; runs
/// until `shutdown`. Returns at once when no watchdog is configured.
pub async fn run(store: Store, heartbeat: Arc<Heartbeat>, stall_after: Duration, shutdown: CancellationToken) {
    let Some(timeout) = sd_notify::watchdog_enabled() else { return };
    let every = (timeout / 2).max(Duration::from_millis(50));
    tracing::info!(watchdog_ms = timeout.as_millis() as u64, stall_after_s = stall_after.as_secs(), "Watchdog enabled");
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut withheld = false;
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let db = match tokio::time::timeout(every, store.ping()).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(crate::error_chain(&e)),
            Err(_) => Err(format!("no answer within {} ms", every.as_millis())),
        };
        match verdict(heartbeat.age(), stall_after, db) {
            None => {
                if withheld {
                    tracing::info!("Watchdog pings resumed");
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Status("running")]);
                    withheld = false;
                }
                let _ = sd_notify::notify(&[sd_notify::NotifyState::Watchdog]);
            }
            Some(why) => {
                if !withheld {
                    // Said once per episode: systemd restarts us if it lasts.
                    tracing::error!(reason = %why, "Watchdog ping withheld");
                    let status = format!("unhealthy: {why}");
                    let _ = sd_notify::notify(&[sd_notify::NotifyState::Status(&status)]);
                    withheld = true;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMIT: Duration = Duration::from_secs(60);

    #[test]
    fn a_live_loop_and_database_ping() {
        assert_eq!(verdict(Duration::from_secs(5), LIMIT, Ok(())), None);
    }

    #[test]
    fn a_stalled_loop_withholds_the_ping() {
        let why = verdict(Duration::from_secs(61), LIMIT, Ok(())).unwrap_or_default();
        assert!(why.contains("sweep loop") && why.contains("61s"), "{why}");
    }

    #[test]
    fn a_dead_database_withholds_the_ping() {
        let why = verdict(Duration::ZERO, LIMIT, Err("connection refused".into())).unwrap_or_default();
        assert!(why.contains("database") && why.contains("connection refused"), "{why}");
    }

    #[test]
    fn a_beat_resets_the_age() {
        let hb = Heartbeat::new();
        hb.beat();
        assert!(hb.age() < Duration::from_secs(1));
    }
}
