//! The catalog steps of a batch of check records.
//!
//! Each step saves what the runner's analysis found in a new snapshot, in a
//! savepoint of the batch's transaction: a step that fails rolls back
//! alone and its check stays recorded. The steps of a batch first share one
//! savepoint and one read of the catalog's ids (on PostgreSQL, a savepoint,
//! its release and the revision read were three of a step's seven round
//! trips, serialized in the writer; on SQLite a few steps share one, see
//! [`SQLITE_STEPS_PER_SAVEPOINT`]); if any of them fails, that savepoint
//! is rolled back and each step is written again in a savepoint of its own,
//! so the failing one is the only one lost.

use sea_orm::{DatabaseTransaction, TransactionTrait};

use super::catalog::{
    CatalogRecord, CatalogStoreError, CatalogWork, Ids, RecordedAnalysis, is_shared, write_catalog_step,
    write_shared_steps,
};
use super::{Store, StoreError};
use crate::types::SourceId;

/// One step: the source, its new snapshot, what its text said.
pub(super) type CatalogStep<'a> = (SourceId, i64, &'a CatalogWork);

/// The entity ids as the batch's transaction sees them, once one of its
/// catalog steps created entities (and bumped the catalog revision). Until
/// then the shared cache answers; after, it must neither answer (it does
/// not know the new ids) nor learn from this transaction (they are not
/// committed and may yet be rolled back), so the batch carries its own.
#[derive(Default)]
pub(super) struct BatchIds(Option<Ids>);

/// On SQLite, the most catalog steps that share one savepoint. SQLite
/// keeps a savepoint's sub-journal (the original of every page the steps
/// change) in memory until the savepoint ends ([`super::TEMP_STORE`]), and
/// a new page's steps change pages all over the mention, fact and evidence
/// indexes: with a cold sweep's batches of 32 steps in one savepoint, ~12
/// MB of sub-journal were live at the sweep's heap peak (40 MB, heaptrack),
/// in the SQLite thread's own malloc arena. On SQLite a savepoint and a
/// revision read are two more statements for the in-process worker, not
/// server round trips: a cold sweep's instruction count did not move
/// (callgrind), its peak RSS fell by ~6 MB (README, Benchmarks).
/// PostgreSQL keeps savepoints on the server, where each is round trips:
/// all of a batch's steps share one there.
pub(super) const SQLITE_STEPS_PER_SAVEPOINT: usize = 8;

/// Writes `steps` (in order), sharing savepoints while they succeed (the
/// whole batch's on PostgreSQL, [`SQLITE_STEPS_PER_SAVEPOINT`] at a time on
/// SQLite); returns one outcome per step. The outer error is the
/// transaction's own failure: the batch fails with it.
pub(super) async fn catalog_steps(
    store: &Store,
    txn: &DatabaseTransaction,
    steps: Vec<CatalogStep<'_>>,
    ids: &mut BatchIds,
    mut revision: Option<i64>,
) -> Result<Vec<Result<RecordedAnalysis, CatalogStoreError>>, StoreError> {
    let per_savepoint = steps_per_savepoint(store.is_sqlite(), steps.len());
    let mut outcomes = Vec::with_capacity(steps.len());
    for shared in steps.chunks(per_savepoint) {
        // The revision read with the batch's rows serves the first
        // savepoint; a later one reads it again (a step may have bumped it).
        outcomes.extend(shared_savepoint(store, txn, shared, ids, revision.take()).await?);
    }
    Ok(outcomes)
}

/// How many of a batch's `steps` share a savepoint (at least one).
fn steps_per_savepoint(sqlite: bool, steps: usize) -> usize {
    let steps = steps.max(1);
    if sqlite { SQLITE_STEPS_PER_SAVEPOINT.min(steps) } else { steps }
}

/// Writes `steps` in one savepoint and one read of the catalog's ids; if
/// any of them fails, that savepoint is rolled back and each step is
/// written again in a savepoint of its own.
async fn shared_savepoint(
    store: &Store,
    txn: &DatabaseTransaction,
    steps: &[CatalogStep<'_>],
    ids: &mut BatchIds,
    revision: Option<i64>,
) -> Result<Vec<Result<RecordedAnalysis, CatalogStoreError>>, StoreError> {
    if steps.len() > 1 {
        let savepoint = txn.begin().await?;
        let together = async {
            let mut step_ids = match &ids.0 {
                Some(local) => local.clone(),
                None => store.catalog_ids.get_at(&savepoint, revision).await?,
            };
            let outs = write_steps(&savepoint, &mut step_ids, steps).await?;
            Ok::<_, CatalogStoreError>((outs, step_ids))
        };
        match together.await {
            Ok((outs, step_ids)) => {
                savepoint.commit().await?;
                if ids.0.is_some() || outs.iter().any(|out| !out.new_entities.is_empty()) {
                    ids.0 = Some(step_ids);
                }
                return Ok(outs.into_iter().map(Ok).collect());
            }
            Err(e) => {
                savepoint.rollback().await?;
                tracing::debug!(error = %e, steps = steps.len(), "A batch's catalog steps failed together; writing each in its own savepoint");
            }
        }
    }
    let mut outcomes = Vec::with_capacity(steps.len());
    for &(source, snapshot_id, work) in steps {
        outcomes.push(catalog_step(store, txn, (source, snapshot_id), work, ids).await?);
    }
    Ok(outcomes)
}

/// Writes `steps` in order on `txn` (a savepoint shared by them): each run
/// of steps that only mention and propose shares its statements
/// ([`write_shared_steps`]); any other step is written by itself, where it
/// falls.
async fn write_steps(
    txn: &DatabaseTransaction,
    ids: &mut Ids,
    steps: &[CatalogStep<'_>],
) -> Result<Vec<RecordedAnalysis>, CatalogStoreError> {
    let records: Vec<CatalogRecord<'_>> =
        steps.iter().map(|(source, snapshot_id, work)| work.record(*source, *snapshot_id)).collect();
    let mut outs = Vec::with_capacity(records.len());
    let mut rest = records.as_slice();
    while let Some(first) = rest.first() {
        let run = rest.iter().take_while(|r| is_shared(r)).count();
        if run > 0 {
            outs.extend(write_shared_steps(txn, ids, &rest[..run]).await?);
            rest = &rest[run..];
        } else {
            outs.push(write_catalog_step(txn, ids, first).await?);
            rest = &rest[1..];
        }
    }
    Ok(outs)
}

/// The catalog step in a savepoint: its failure rolls back the step alone
/// and the check stays recorded. Tried twice, as a concurrent writer (the
/// CLI, another instance) can abort it with a serialization failure or a
/// deadlock. The outer error is the transaction's own failure (a savepoint
/// that cannot be opened or rolled back): the record fails with it.
pub(super) async fn catalog_step(
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_shares_a_savepoint_among_a_few_steps_and_postgres_among_all() {
        assert_eq!(steps_per_savepoint(true, 32), SQLITE_STEPS_PER_SAVEPOINT);
        assert_eq!(steps_per_savepoint(true, 3), 3);
        assert_eq!(steps_per_savepoint(false, 32), 32);
        // Never zero: `chunks` panics on it.
        assert_eq!(steps_per_savepoint(true, 0), 1);
        assert_eq!(steps_per_savepoint(false, 0), 1);
    }
}
