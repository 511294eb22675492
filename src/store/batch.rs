//! Group commit for check records: many checks per transaction, each one
//! still atomic.
//!
//! A transaction per check costs a commit each (an fsync on PostgreSQL,
//! a WAL append and lock round trip on SQLite) and a wake-up of the database
//! worker for BEGIN and COMMIT. The writer task takes whatever records are
//! waiting (up to `max_batch`), writes them one after the other — a
//! superseded record writes nothing, a failing one sends the batch back to
//! one transaction per record — and commits once. A check
//! learns its outcome only after the commit, so a check reported recorded is
//! durable, and a process killed mid-batch loses only checks nobody was told
//! about: their sources keep their old state and lease, and are checked again.
//!
//! A record that stores a new snapshot carries its catalog step (what the
//! runner's analysis found in the text): it is written right after the
//! check's rows, in a savepoint, so the catalog learns from every recorded
//! snapshot exactly once, and a step that fails rolls back alone.
//!
//! On PostgreSQL the writer's time is round trips, so the statements a
//! record needs are shared by its batch where they can be: the records that
//! change nothing but their source's row (an unchanged page, a failed fetch)
//! write their sources' new states in one statement for the batch, and the
//! batch's check rows are inserted together at its end.
//!
//! No timer: the first record waiting starts a transaction at once (no added
//! latency when idle), and records that arrive while it is written form the
//! next batch, so under load batches fill by themselves.

use std::collections::HashMap;

use sea_orm::{DatabaseTransaction, TransactionTrait};
use tokio::sync::{mpsc, oneshot};

use super::catalog::{CatalogStoreError, CatalogWork, Ids, RecordedAnalysis, write_catalog_step};
use super::entity::checks;
use super::record::{CheckRecord, Recorded, SnapshotPointer, check_row, insert_checks, write_check};
use super::source_update::write_source_states;
use super::{Store, StoreError};
use crate::types::SourceId;

/// How many records wait for the writer before `record` pushes back.
const QUEUE: usize = 256;

struct Job {
    record: CheckRecord,
    reply: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// A handle on the writer task; cheap to clone. The task ends when the last
/// handle is dropped, after writing what was queued.
#[derive(Clone)]
pub struct RecordWriter {
    tx: mpsc::Sender<Job>,
}

impl RecordWriter {
    /// Starts the writer task on the current runtime.
    pub fn spawn(store: Store, max_batch: usize) -> RecordWriter {
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(run(store, rx, max_batch.max(1)));
        RecordWriter { tx }
    }

    /// Records one check; returns once its batch is committed.
    pub async fn record(&self, record: CheckRecord) -> Result<Recorded, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { record, reply }).await.map_err(|_| StoreError::WriterGone)?;
        answer.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        let results = write_batch(&store, &jobs).await;
        for (job, result) in jobs.drain(..).zip(results) {
            // A check that stopped waiting (its task was cancelled) is fine:
            // its record is written all the same.
            let _ = job.reply.send(result);
        }
    }
}

/// Writes `jobs` in one transaction. Returns one result per job, in order.
///
/// A superseded record writes nothing (see [`write_check`]), so it is simply
/// reported. Any other failure inside the batch rolls the whole transaction
/// back and each record is then written alone, in its own transaction: the
/// bad one fails by itself and the rest are recorded.
async fn write_batch(store: &Store, jobs: &[Job]) -> Vec<Result<Recorded, StoreError>> {
    match write_together(store, jobs).await {
        Ok(results) => results,
        Err(e) => {
            tracing::debug!(error = %e, records = jobs.len(), "A batch of check records failed; writing them one by one");
            let mut results = Vec::with_capacity(jobs.len());
            for job in jobs {
                results.push(store.record_check(job.record.clone()).await);
            }
            results
        }
    }
}

async fn write_together(store: &Store, jobs: &[Job]) -> Result<Vec<Result<Recorded, StoreError>>, StoreError> {
    let txn = store.write_txn().await?;
    let plain = plain_records(jobs);
    let states: Vec<_> =
        jobs.iter().zip(&plain).filter(|(_, p)| **p).map(|(job, _)| job.record.new_source_state(None)).collect();
    let written = write_source_states(&txn, &states).await?;

    let mut results = Vec::with_capacity(jobs.len());
    let mut checks = Vec::with_capacity(jobs.len());
    let mut ids = BatchIds::default();
    for (job, plain) in jobs.iter().zip(plain) {
        let rec = &job.record;
        let written = if !plain {
            write_one(store, &txn, rec, &mut ids).await
        } else if written.contains(&rec.source_id.0) {
            Ok((Recorded::default(), check_row(rec, None)))
        } else {
            Err(StoreError::Superseded(rec.source_id.0))
        };
        match written {
            Err(e @ StoreError::Superseded(_)) => results.push(Err(e)),
            other => {
                let (recorded, check) = other?;
                checks.push(check);
                results.push(Ok(recorded));
            }
        }
    }
    insert_checks(&txn, checks).await?;
    txn.commit().await?;
    Ok(results)
}

/// The records that change nothing but their source's row — no snapshot,
/// no change, no metric: an unchanged page, a failed fetch. Their sources'
/// rows are written by one statement for the batch. A source with two
/// records in the batch is left to the one-by-one path, which keeps their
/// order (the second is then superseded by the first).
fn plain_records(jobs: &[Job]) -> Vec<bool> {
    let mut per_source: HashMap<i64, usize> = HashMap::with_capacity(jobs.len());
    for job in jobs {
        *per_source.entry(job.record.source_id.0).or_default() += 1;
    }
    jobs.iter()
        .map(|job| {
            let rec = &job.record;
            rec.snapshot.is_none()
                && rec.changes.is_empty()
                && rec.metrics.is_empty()
                && rec.pointer == SnapshotPointer::Keep
                && per_source[&rec.source_id.0] == 1
        })
        .collect()
}

impl Store {
    /// Records one check, with its catalog step, in its own transaction.
    /// The daemon and `check` write through a [`RecordWriter`] instead (many
    /// checks per transaction, each still atomic).
    pub async fn record_check(&self, rec: CheckRecord) -> Result<Recorded, StoreError> {
        let txn = self.write_txn().await?;
        let (recorded, check) = write_one(self, &txn, &rec, &mut BatchIds::default()).await?;
        insert_checks(&txn, vec![check]).await?;
        txn.commit().await?;
        Ok(recorded)
    }
}

/// The entity ids as the batch's transaction sees them, once one of its
/// catalog steps created entities (and bumped the catalog revision). Until
/// then the shared cache answers; after, it must neither answer (it does
/// not know the new ids) nor learn from this transaction (they are not
/// committed and may yet be rolled back), so the batch carries its own.
#[derive(Default)]
struct BatchIds(Option<Ids>);

/// Writes one check's rows and then, when it stored a new snapshot, its
/// catalog step, on `txn`; returns its check row for the caller to insert
/// with the batch's (the caller commits).
async fn write_one(
    store: &Store,
    txn: &DatabaseTransaction,
    rec: &CheckRecord,
    ids: &mut BatchIds,
) -> Result<(Recorded, checks::ActiveModel), StoreError> {
    let written = write_check(txn, rec).await?;
    let mut recorded = written.recorded;
    if let (Some(snapshot_id), Some(work)) = (recorded.snapshot_id, &rec.catalog) {
        let step = catalog_step(store, txn, (rec.source_id, snapshot_id), work, ids).await?;
        recorded.catalog = Some(step.map_err(|e| e.to_string()));
    }
    Ok((recorded, written.check))
}

/// The catalog step in a savepoint: its failure rolls back the step alone
/// and the check stays recorded. Tried twice, as a concurrent writer (the
/// CLI, another instance) can abort it with a serialization failure or a
/// deadlock. The outer error is the transaction's own failure (a savepoint
/// that cannot be opened or rolled back): the record fails with it.
async fn catalog_step(
    store: &Store,
    txn: &DatabaseTransaction,
    (source, snapshot_id): (SourceId, i64),
    work: &CatalogWork,
    ids: &mut BatchIds,
) -> Result<Result<RecordedAnalysis, CatalogStoreError>, StoreError> {
    let mut tries = 1;
    loop {
        let savepoint = txn.begin().await?;
        let step = async {
            let mut step_ids = match &ids.0 {
                Some(local) => local.clone(),
                None => store.catalog_ids.get(&savepoint).await?,
            };
            let out = write_catalog_step(&savepoint, &mut step_ids, &work.record(source, snapshot_id)).await?;
            Ok::<_, CatalogStoreError>((out, step_ids))
        };
        match step.await {
            Ok((out, step_ids)) => {
                savepoint.commit().await?;
                if ids.0.is_some() || !out.new_entities.is_empty() {
                    ids.0 = Some(step_ids);
                }
                return Ok(Ok(out));
            }
            Err(e) => {
                savepoint.rollback().await?;
                if tries == 2 {
                    return Ok(Err(e));
                }
                tracing::debug!(error = %e, snapshot_id, "Catalog step failed; its savepoint is rolled back, trying once more");
                tries += 1;
            }
        }
    }
}
