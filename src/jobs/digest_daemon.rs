//! The digest's part of the daemon: a run per cron tick, retries of pending
//! digests when their backoff is over, and the catch-up of a send missed
//! while the daemon was down.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::digest::{self as job, RunReport};
use crate::clock::{Clock, SharedClock};
use crate::config::Config;
use crate::digest::DigestSettings;
use crate::mail::Mailer;
use crate::schedule::CronExpr;
use crate::store::Store;

/// How often pending digests are looked at for a due retry.
const RETRY_POLL: Duration = Duration::from_secs(60);
/// The first wait before a build that failed on the database is tried
/// again; it doubles up to [`RETRY_POLL`].
const REBUILD_FIRST_WAIT: Duration = Duration::from_secs(1);

/// The last time the cron fired at or before `now` (searched a bounded
/// window back: long enough for any weekly or monthly schedule).
pub fn previous_fire(cron: &CronExpr, tz: Tz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let mut t = now - chrono::Duration::days(32);
    let mut last = None;
    // Bounded: a every-minute cron over 32 days is ~46k steps.
    for _ in 0..50_000 {
        match cron.next_after(t, tz) {
            Some(next) if next <= now => {
                last = Some(next);
                t = next;
            }
            _ => break,
        }
    }
    last
}

/// A send was missed: the cron fired after the last digest's period ended
/// (a run at `fire` ends its period at its own clock, which is not before
/// `fire`). A database without any digest has missed nothing (first start).
pub fn missed(last_period_end: Option<DateTime<Utc>>, previous_fire: Option<DateTime<Utc>>) -> bool {
    matches!((last_period_end, previous_fire), (Some(end), Some(fire)) if end < fire)
}

/// What the digest job works with: the daemon's store, mailer and clock.
pub struct DigestJob<M> {
    pub store: Store,
    pub mailer: M,
    pub clock: SharedClock,
}

/// Runs until `shutdown`. `ticks` receives one message per cron fire (the
/// scheduler's closure only enqueues).
pub async fn run<M: Mailer>(
    job: DigestJob<M>,
    config: Arc<Config>,
    mut ticks: mpsc::Receiver<()>,
    shutdown: CancellationToken,
) {
    let settings = match job::settings(&config.digest, &config.smtp, &config.web) {
        Ok(s) => s,
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "Digest disabled: cannot load its templates.");
            return;
        }
    };
    let DigestJob { store, mailer, clock } = job;
    let clock = clock.as_ref();

    // SQLite: the daemon lock proves no other daemon sends; a claim left
    // on a pending digest by a sender that is gone (`kill -9` mid-send) is
    // taken back now, not when its lease lapses. Sent again, it carries
    // the same Message-ID (see `store::digest::senders`).
    match store.digest_release_dead_claims().await {
        Ok(0) => {}
        Ok(n) => tracing::warn!(
            digests = n,
            "A previous run died while sending; its digests are sent again now (with the same Message-ID)."
        ),
        Err(e) => tracing::warn!(error = %e, "Cannot take back the digest claims of a previous run."),
    }
    let now = clock.now();
    let last_end = store.digest_last_period_end().await.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "Cannot read the digest outbox at start-up.");
        None
    });
    // Whether the period still has to be built: a send missed while the
    // daemon was down, a cron tick, or a build that failed for want of the
    // database (then tried again soon, not at next week's tick, which
    // would leave this week's digest unsent until then).
    let mut build = missed(last_end, previous_fire(&config.digest.cron, settings.timezone, now));
    if build {
        tracing::info!("A digest send was missed while the daemon was down; sending it now.");
    }
    let mut rebuild_wait = REBUILD_FIRST_WAIT;
    let mut retry = tokio::time::interval(RETRY_POLL);
    retry.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let outcome = run_logged(&store, &mailer, &settings, clock, build).await;
        let again = build && outcome == Outcome::DatabaseFailed;
        if !again {
            rebuild_wait = REBUILD_FIRST_WAIT;
        } else {
            tracing::warn!(
                retry_in = %crate::schedule::format_duration(rebuild_wait),
                "The digest could not be built (database); trying again."
            );
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            tick = ticks.recv() => {
                if tick.is_none() { break; }
                build = true;
            }
            _ = tokio::time::sleep(rebuild_wait), if again => {
                rebuild_wait = (rebuild_wait * 2).min(RETRY_POLL);
            }
            _ = retry.tick() => build = again,
        }
    }
}

/// How a run ended, for the loop: a build that failed on the database is
/// tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Done,
    DatabaseFailed,
    /// Anything else (a template that does not render): the next tick.
    Failed,
}

/// A whole run (`build`), or only the delivery of due retries.
async fn run_logged<M: Mailer>(
    store: &Store,
    mailer: &M,
    settings: &DigestSettings,
    clock: &dyn Clock,
    build: bool,
) -> Outcome {
    let result = if build {
        job::run_once(store, mailer, settings, clock, false).await
    } else {
        let mut report = RunReport::default();
        job::deliver(store, mailer, settings, clock, false, &mut report).await.map(|()| report)
    };
    match result {
        Ok(r) if r == RunReport::default() => Outcome::Done,
        Ok(r) => {
            tracing::info!(
                built = r.built.len(),
                sent = r.sent.len(),
                retrying = r.retrying.len(),
                failed = r.failed.len(),
                "Digest run finished"
            );
            Outcome::Done
        }
        Err(e) => {
            tracing::error!(error = %crate::error_chain(&e), "Digest run failed");
            match e {
                job::DigestError::Store(_) => Outcome::DatabaseFailed,
                job::DigestError::Render(_) => Outcome::Failed,
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn previous_fire_is_last_monday_eight_in_shanghai() {
        let cron = CronExpr::parse("0 0 8 * * Mon").unwrap();
        // Wednesday 2026-12-02 03:00 UTC → Monday 2026-11-30 08:00 +08:00.
        let now = Utc.with_ymd_and_hms(2026, 12, 2, 3, 0, 0).unwrap();
        let fire = previous_fire(&cron, chrono_tz::Asia::Shanghai, now).unwrap();
        assert_eq!(fire, Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
        // Exactly at the fire time counts as fired.
        assert_eq!(previous_fire(&cron, chrono_tz::Asia::Shanghai, fire), Some(fire));
    }

    #[test]
    fn a_cron_in_the_dst_hour_fires_once_on_both_changes() {
        // Europe/Berlin: 02:30 happens twice on 2026-10-25 and not at all
        // on 2027-03-28. The digest fires once each Sunday all the same
        // (the first 02:30; 03:00 when 02:30 does not exist).
        let tz = chrono_tz::Europe::Berlin;
        let cron = CronExpr::parse("0 30 2 * * Sun").unwrap();
        let fires = |from: DateTime<Utc>| {
            let mut t = from;
            (0..2)
                .map(|_| {
                    t = cron.next_after(t, tz).unwrap();
                    t
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            fires(Utc.with_ymd_and_hms(2026, 10, 24, 0, 0, 0).unwrap()),
            [
                Utc.with_ymd_and_hms(2026, 10, 25, 0, 30, 0).unwrap(),
                Utc.with_ymd_and_hms(2026, 11, 1, 1, 30, 0).unwrap()
            ]
        );
        assert_eq!(
            fires(Utc.with_ymd_and_hms(2027, 3, 27, 0, 0, 0).unwrap()),
            [Utc.with_ymd_and_hms(2027, 3, 28, 1, 0, 0).unwrap(), Utc.with_ymd_and_hms(2027, 4, 4, 0, 30, 0).unwrap()]
        );
    }

    #[test]
    fn a_send_is_missed_only_when_the_cron_fired_after_the_last_period() {
        let fire = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let week_before = fire - chrono::Duration::days(7);
        assert!(missed(Some(week_before), Some(fire)));
        assert!(!missed(Some(fire), Some(fire)));
        // The run at `fire` ended its period a moment after it: not a miss.
        assert!(!missed(Some(fire + chrono::Duration::milliseconds(300)), Some(fire)));
        assert!(!missed(None, Some(fire)), "a fresh database has missed nothing");
        assert!(!missed(Some(week_before), None));
    }
}
