//! A check's place among the running checks.
//!
//! A check holds a working slot (one of `fetch.concurrency`) while it
//! fetches, extracts and compares. Once its record is in the record
//! writer's queue its own work is done: what is left is waiting for the
//! batch's commit, which is the database's time, not the check's. Holding
//! the working slot through that wait left the slots idle for most of an
//! unchanged sweep on PostgreSQL (a commit per batch, a round trip per
//! statement), so the check trades it for a place among the records
//! awaiting their commit, a second bound that keeps memory bounded
//! whatever the database's speed.
//!
//! The check itself is still running until its record is committed: its
//! source stays leased (and renewed) until then, and a crash before the
//! commit leaves it a crash suspect, as before.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// A running check's slot: see the module documentation.
#[derive(Debug)]
pub struct Slot {
    working: OwnedSemaphorePermit,
    awaiting_commit: Arc<Semaphore>,
}

impl Slot {
    /// A working slot; on queueing its record the check waits for a place
    /// in `awaiting_commit`.
    pub fn new(working: OwnedSemaphorePermit, awaiting_commit: Arc<Semaphore>) -> Slot {
        Slot { working, awaiting_commit }
    }

    /// Takes a place among the records awaiting their commit, waiting while
    /// they are all taken (the working slot still held, so the checks
    /// behind this one wait too). `None` once the bound is closed.
    pub(super) async fn awaiting_commit(&self) -> Option<OwnedSemaphorePermit> {
        self.awaiting_commit.clone().acquire_owned().await.ok()
    }

    /// Gives the working slot back.
    pub(super) fn release(self) {
        drop(self.working);
    }
}
