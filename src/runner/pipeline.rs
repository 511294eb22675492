//! The daemon's checks as a pipeline: due sources are claimed as check slots
//! free up, so one slow source (a 30 s timeout with retries, a host pushed
//! back by `Retry-After`) holds one slot, not a whole batch.
//!
//! Memory is bounded by `fetch.concurrency`, whatever the number of sources:
//! no more sources are claimed than there are free slots, and a few more
//! (`refill`) that wait for a slot while the next claim is on its way. A
//! check gives its slot back once its record is queued for the writer, and
//! waits for the commit among a second bound (see [`super::Slot`]). Leases
//! of running checks, and of claimed sources waiting for a slot, are
//! renewed, so a long check keeps its source; a crashed instance stops
//! renewing and its leases lapse.

use std::collections::{HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::{CheckMode, CheckReport, Outcome, Runner, Slot, panic_message};
use crate::source::Source;
use crate::store::StoreError;
use crate::types::SourceId;

/// A claim of due sources on its way.
type ClaimFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<Source>, StoreError>> + Send + 'a>>;

/// What the pipeline did since it was last idle (for the "Sweep finished" line).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SweepTally {
    pub checked: usize,
    pub changed: usize,
    pub failed: usize,
    pub gone: usize,
    /// Checks whose record could not be written (logged, counted in
    /// `modelwatch_unrecorded_checks_total`): not in the counts above.
    pub unrecorded: usize,
}

impl SweepTally {
    fn add(&mut self, r: &CheckReport) {
        self.checked += 1;
        if r.record_error.is_some() {
            self.unrecorded += 1;
            return;
        }
        self.changed += usize::from(r.outcome == Outcome::Changed);
        self.failed += usize::from(r.outcome == Outcome::Failed);
        self.gone += usize::from(r.outcome == Outcome::Gone);
    }
}

impl Runner {
    /// Runs checks until `cancel`: claims due sources as slots free up (one
    /// claim in flight at a time, a little ahead of them), and looks for due
    /// sources again on every `wake` (the sweep tick). Returns after the
    /// checks running at cancellation have ended (the caller bounds that
    /// wait) and this instance's leases are released.
    pub async fn run_pipeline(
        &self,
        owner: &str,
        wake: &mut mpsc::Receiver<()>,
        cancel: &CancellationToken,
        alive: &(dyn Fn() + Send + Sync),
    ) {
        let limit = super::concurrency_limit(&self.config);
        let batch = (self.config.schedule.batch_size.max(1) as usize).min(limit);
        // Claim again once this many slots are free (not at every single
        // free slot: one claim query per check would be a cost of its own).
        let refill = (limit / 4).clamp(1, batch);
        // Sources claimed ahead of the free slots, waiting in `queue` for a
        // slot: the next claim is on its way while the checks run, so a
        // freed slot finds a source at hand instead of waiting for a claim's
        // round trip (PostgreSQL: ~140 claims per sweep of 2,000 pages, each
        // on the checks' path; issue 12). Only `refill` ahead: a source
        // claimed ahead is one another instance sharing the database cannot
        // take meanwhile, and waits here about one check's time.
        let ahead = refill;
        let lease = self.config.schedule.lease;
        // The claims, one at a time, on a PostgreSQL connection of their
        // own (see [`crate::store::Store::with_own_connection`]).
        let claims = self.store.with_own_connection();
        let (slots, awaiting_commit) = super::slots(limit);
        let running: Arc<Mutex<HashSet<SourceId>>> = Arc::default();
        let mut tasks: JoinSet<CheckReport> = JoinSet::new();
        let mut queue: VecDeque<Source> = VecDeque::new();
        // The claim in flight (one at a time) and how many it asked for.
        let mut claim: Option<(ClaimFuture<'_>, usize)> = None;
        let mut tally = SweepTally::default();
        let mut started = Instant::now();
        // Renew well before a lease could lapse; the first renewal one
        // period from now (an interval's first tick is at once: a renewal
        // round trip in the loop right after the first claim, of leases
        // just taken).
        let every = (lease / 3).max(Duration::from_secs(1));
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mode = CheckMode { lease_owner: Some(owner.to_owned()), ..CheckMode::default() };
        // Whether the last claim found everything that was due.
        let mut drained = false;

        while !cancel.is_cancelled() {
            alive();
            // Queued sources into the free slots.
            while !queue.is_empty() {
                let Ok(permit) = slots.clone().try_acquire_owned() else { break };
                if let Some(source) = queue.pop_front() {
                    self.spawn_check(&mut tasks, source, permit, &awaiting_commit, &mode, &running);
                }
            }
            // What the free slots and the queue's room could take.
            let wanted = slots.available_permits() + ahead.saturating_sub(queue.len());
            if claim.is_none() && !drained && wanted >= refill {
                let want = wanted.min(batch);
                claim = Some((Box::pin(claims.claim_due(self.clock.now(), owner, lease, want as u32)), want));
            }
            if tasks.is_empty() && queue.is_empty() && claim.is_none() && tally.checked > 0 {
                metrics::histogram!("modelwatch_sweep_duration_seconds").record(started.elapsed().as_secs_f64());
                tracing::info!(
                    checked = tally.checked,
                    changed = tally.changed,
                    failed = tally.failed,
                    gone = tally.gone,
                    unrecorded = tally.unrecorded,
                    duration_ms = started.elapsed().as_millis() as u64,
                    "Sweep finished"
                );
                tally = SweepTally::default();
            }
            let claimed = async {
                match claim.as_mut() {
                    Some((future, _)) => future.await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = cancel.cancelled() => break,
                due = claimed => {
                    let want = claim.take().map_or(0, |(_, want)| want);
                    match due {
                        Ok(due) => {
                            drained = due.len() < want;
                            if tally.checked == 0 && tasks.is_empty() && queue.is_empty() && !due.is_empty() {
                                started = Instant::now();
                            }
                            // Leased from now on: renewed while they wait.
                            if let Ok(mut ids) = running.lock() {
                                ids.extend(due.iter().map(|s| s.id));
                            }
                            queue.extend(due);
                        }
                        Err(e) => {
                            tracing::error!(error = %e, "Cannot claim due sources");
                            drained = true;
                        }
                    }
                }
                Some(done) = tasks.join_next(), if !tasks.is_empty() => {
                    if let Ok(report) = done {
                        tally.add(&report);
                    }
                }
                tick = wake.recv() => {
                    if tick.is_none() {
                        break;
                    }
                    drained = false;
                }
                _ = renew.tick() => self.renew_running(owner, &running).await,
                // A check gives its slot back once its record is queued, and
                // its task ends only with the batch's commit: waiting for
                // tasks alone left the freed slots idle while the writer
                // gathered and committed the batch (PostgreSQL: most of a
                // sweep's time between claims; SQLite: each batch's
                // gathering gap, during which the writer does not hold the
                // one connection; issue 12).
                permit = slots.clone().acquire_owned(), if !queue.is_empty() => {
                    if let (Ok(permit), Some(source)) = (permit, queue.pop_front()) {
                        self.spawn_check(&mut tasks, source, permit, &awaiting_commit, &mode, &running);
                    }
                }
            }
        }

        // Shutdown: no new claims, and the one in flight is awaited (its
        // leases are released below with the rest); queued sources are not
        // started, running checks finish and are recorded (the caller's
        // deadline bounds the wait).
        if let Some((future, _)) = claim.take() {
            drop(future.await);
        }
        queue.clear();
        while let Some(done) = tasks.join_next().await {
            if let Ok(report) = done {
                tally.add(&report);
            }
        }
        if let Err(e) = self.store.release_leases(owner).await {
            tracing::warn!(error = %e, "Cannot release leases");
        }
    }

    /// Starts the check of a claimed source in its slot.
    fn spawn_check(
        &self,
        tasks: &mut JoinSet<CheckReport>,
        source: Source,
        permit: OwnedSemaphorePermit,
        awaiting_commit: &Arc<Semaphore>,
        mode: &CheckMode,
        running: &Arc<Mutex<HashSet<SourceId>>>,
    ) {
        let (runner, mode, running) = (self.clone(), mode.clone(), running.clone());
        // The slot goes back once the check's record is queued; the task
        // (and the lease renewal) lasts until it is committed.
        let slot = Slot::new(permit, awaiting_commit.clone());
        tasks.spawn(async move {
            let id = source.id;
            // A panic on one hostile page is contained in its own task and
            // recorded as its failure.
            let task_source = source.clone();
            let task_runner = runner.clone();
            let task_mode = mode.clone();
            let report = match tokio::spawn(
                async move { task_runner.check_in(task_source, &task_mode, Some(slot)).await },
            )
            .await
            {
                Ok(report) => report,
                Err(e) => runner.record_panic(source, &mode, panic_message(e)).await,
            };
            if let Ok(mut ids) = running.lock() {
                ids.remove(&id);
            }
            report
        });
    }

    async fn renew_running(&self, owner: &str, running: &Mutex<HashSet<SourceId>>) {
        let ids: Vec<SourceId> = match running.lock() {
            Ok(ids) => ids.iter().copied().collect(),
            Err(_) => return,
        };
        if ids.is_empty() {
            return;
        }
        let until = self.clock.now() + chrono::Duration::from_std(self.config.schedule.lease).unwrap_or_default();
        match self.store.renew_leases(owner, &ids, until).await {
            Ok(n) => tracing::debug!(renewed = n, "Renewed the leases of running checks"),
            Err(e) => tracing::warn!(error = %e, "Cannot renew leases"),
        }
    }
}
