//! Group commit for check records: many checks per transaction, each one
//! still atomic.
//!
//! A transaction per check costs a commit each (an fsync on PostgreSQL,
//! a WAL append and lock round trip on SQLite) and a wake-up of the database
//! worker for BEGIN and COMMIT. The writer task takes whatever records are
//! waiting (up to `max_batch`), writes them one after the other — a
//! superseded record writes nothing, a failing one sends the batch back to
//! one transaction per record — and commits once. A check
//! learns its outcome only after the commit, so a check reported recorded
//! survives the daemon's death, and a process killed mid-batch loses only
//! checks nobody was told about: their sources keep their old state and
//! lease, and are checked again. Neither backend waits for the disk at each
//! commit (SQLite `synchronous = NORMAL`, PostgreSQL `synchronous_commit =
//! off` for these transactions, see [`super::SYNC_COMMIT_OFF`]): a power loss may
//! lose the last batches, whole, and their checks are made again.
//!
//! A record that stores a new snapshot carries its catalog step (what the
//! runner's analysis found in the text): it is written after the batch's
//! rows, in a savepoint, so the catalog learns from every recorded snapshot
//! exactly once, and a step that fails rolls back alone (see
//! [`super::batch_catalog`]).
//!
//! On PostgreSQL the writer's time is round trips, so the statements a
//! record needs are shared by its batch: one statement writes the sources'
//! new states (guarded), their pointers, snapshots and raw bodies before
//! the catalog steps, and one their changes and check rows after them
//! ([`super::batch_rows`]); the steps that only mention and propose share
//! their statements too ([`super::catalog`]). A batch of records that
//! write nothing but their sources' states and their check rows (a sweep
//! of unchanged pages) is one statement, without a transaction block
//! ([`super::state_only`]). SQLite, where a statement is a call into the
//! process, writes the states in one guarded update, the snapshots,
//! pointers and changes a few statements for the whole batch
//! ([`super::check_rows`]) and the check rows together at the end.
//!
//! Gathering: the first record waiting starts a batch, and the writer keeps
//! taking records for as long as they follow each other within [`GAP`]
//! (at most [`LINGER`] after the first, at most `max_batch`). A record that
//! comes alone waits only [`GAP`]; a sweep's records, which arrive every few
//! milliseconds, share one commit instead of taking one each. On SQLite a
//! commit appends every page the batch touched to the WAL, and a new page's
//! rows touch pages all over the mention, fact and evidence indexes: with
//! commits of one or two records, a cold sweep wrote ~100 WAL pages per
//! check for the ~14 its rows take (issue 12).

use std::collections::HashMap;
use std::time::Duration;

use sea_orm::DatabaseTransaction;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::batch_catalog::{BatchIds, CatalogStep, catalog_step, catalog_steps};
use super::batch_rows;
use super::check_rows::{write_check, write_rows};
use super::entity::checks;
use super::record::{CheckRecord, Recorded, check_row, insert_checks};
use super::source_update::write_source_states;
use super::state_only::{MAX_RECORDS as STATE_ONLY_MAX, write_state_only};
use super::{Store, StoreError};

/// How many records wait for the writer before `record` pushes back.
const QUEUE: usize = 256;

/// A batch keeps gathering while records follow each other within this.
pub const GAP: Duration = Duration::from_millis(5);

/// A batch gathers for at most this long after its first record.
///
/// Longer gathering was measured and not kept (issue 12): a gap of 20 ms
/// and a linger of 150 ms cut a 300-page cold `check --all`'s `futex`
/// calls by 23% and its `pwrite64` by 8% (`strace -f -c`), but the
/// 2,000-page cold daemon sweep's CPU per check moved within its noise
/// (7.60, 7.19 → 7.35, 7.07 ms, profiling builds, load 12–14), its wall
/// did not improve, and its peak RSS rose 1–3 MB (the records waiting).
pub const LINGER: Duration = Duration::from_millis(50);

struct Job {
    record: CheckRecord,
    reply: oneshot::Sender<Result<Recorded, StoreError>>,
}

/// A handle on the writer task; cheap to clone. The task ends when the last
/// handle is dropped, after writing what was queued.
#[derive(Clone)]
pub struct RecordWriter {
    tx: mpsc::Sender<Job>,
    max_batch: usize,
}

impl RecordWriter {
    /// Starts the writer task on the current runtime.
    ///
    /// A batch closes as soon as it holds `max_batch` records: a caller
    /// that bounds how many of its records can wait for their commit at
    /// once passes that bound, so a batch holding all of them (nothing
    /// more can come until it is committed) does not wait out [`GAP`].
    pub fn spawn(store: Store, max_batch: usize) -> RecordWriter {
        let max_batch = max_batch.max(1);
        let (tx, rx) = mpsc::channel(QUEUE);
        // One statement at a time, on a PostgreSQL connection of its own
        // (see [`Store::with_own_connection`]).
        tokio::spawn(run(store.with_own_connection(), rx, max_batch));
        RecordWriter { tx, max_batch }
    }

    /// The most records one transaction takes.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Records one check; returns once its batch is committed.
    pub async fn record(&self, record: CheckRecord) -> Result<Recorded, StoreError> {
        self.queue(record).await?.committed().await
    }

    /// Hands one check's record to the writer (waiting while its queue is
    /// full); [`Queued::committed`] then waits for the batch's commit. A
    /// check in between has finished its own work: the daemon gives its
    /// slot to the next check.
    pub async fn queue(&self, record: CheckRecord) -> Result<Queued, StoreError> {
        let (reply, answer) = oneshot::channel();
        self.tx.send(Job { record, reply }).await.map_err(|_| StoreError::WriterGone)?;
        Ok(Queued(answer))
    }
}

/// A record in the writer's hands, not yet known to be committed.
pub struct Queued(oneshot::Receiver<Result<Recorded, StoreError>>);

impl Queued {
    /// Waits until the record's batch is committed (or the record failed).
    pub async fn committed(self) -> Result<Recorded, StoreError> {
        self.0.await.map_err(|_| StoreError::WriterGone)?
    }
}

async fn run(store: Store, mut rx: mpsc::Receiver<Job>, max_batch: usize) {
    let mut jobs = Vec::with_capacity(max_batch);
    while rx.recv_many(&mut jobs, max_batch).await > 0 {
        gather(&mut rx, &mut jobs, max_batch, GAP, LINGER).await;
        let results = write_batch(&store, &jobs).await;
        for (job, result) in jobs.drain(..).zip(results) {
            // A check that stopped waiting (its task was cancelled) is fine:
            // its record is written all the same.
            let _ = job.reply.send(result);
        }
    }
}

/// Takes more records into `jobs` while they follow each other within
/// `gap` ([`GAP`]), until `linger` ([`LINGER`]) from now or `max_batch`
/// records.
async fn gather(rx: &mut mpsc::Receiver<Job>, jobs: &mut Vec<Job>, max_batch: usize, gap: Duration, linger: Duration) {
    let deadline = Instant::now() + linger;
    while jobs.len() < max_batch {
        let until = (Instant::now() + gap).min(deadline);
        match tokio::time::timeout_at(until, rx.recv_many(jobs, max_batch - jobs.len())).await {
            Ok(n) if n > 0 => {}
            // Closed, or nothing within the gap (or the linger is over).
            _ => return,
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
    let together = shared_records(jobs);
    if !store.is_sqlite()
        && jobs.len() <= STATE_ONLY_MAX
        && together.iter().all(|t| *t)
        && jobs.iter().all(|job| job.record.is_state_only())
    {
        let records: Vec<&CheckRecord> = jobs.iter().map(|job| &job.record).collect();
        let written = write_state_only(store.db(), &records).await?;
        return Ok(records
            .iter()
            .map(|rec| {
                if written.contains(&rec.source_id.0) {
                    Ok(Recorded::default())
                } else {
                    Err(StoreError::Superseded(rec.source_id.0))
                }
            })
            .collect());
    }
    let txn = store.write_txn().await?;
    let records: Vec<&CheckRecord> =
        jobs.iter().zip(&together).filter(|(_, t)| **t).map(|(job, _)| &job.record).collect();
    // On PostgreSQL the rows are two statements, one on each side of the
    // catalog steps ([`batch_rows`]); the second writes the changes.
    let (current, mut recorded, revision, snapshot_ids) = if store.is_sqlite() {
        let states: Vec<_> = records.iter().map(|rec| rec.new_source_state(rec.pointer.decided())).collect();
        let written = write_source_states(&txn, &states).await?;
        let current: Vec<&CheckRecord> = records.into_iter().filter(|rec| written.contains(&rec.source_id.0)).collect();
        let recorded = write_rows(&txn, &current).await?;
        (current, recorded, None, None)
    } else {
        let before = batch_rows::write_before(&txn, &records).await?;
        let current: Vec<&CheckRecord> =
            records.into_iter().filter(|rec| before.written.contains(&rec.source_id.0)).collect();
        let recorded = batch_rows::recorded(&current, &before);
        (current, recorded, before.revision, Some(before.snapshot_ids))
    };
    let mut ids = BatchIds::default();
    let steps: Vec<(usize, CatalogStep<'_>)> = current
        .iter()
        .zip(&recorded)
        .enumerate()
        .filter_map(|(n, (rec, done))| Some((n, (rec.source_id, done.snapshot_id?, rec.catalog.as_ref()?))))
        .collect();
    let outcomes =
        catalog_steps(store, &txn, steps.iter().map(|(_, step)| *step).collect(), &mut ids, revision).await?;
    for ((n, _), outcome) in steps.iter().zip(outcomes) {
        recorded[*n].catalog = Some(outcome.map_err(|e| e.to_string()));
    }
    let mut shared: HashMap<i64, Recorded> = current.iter().map(|rec| rec.source_id.0).zip(recorded).collect();

    let mut results = Vec::with_capacity(jobs.len());
    let mut checks = Vec::with_capacity(jobs.len());
    for (job, together) in jobs.iter().zip(&together) {
        let rec = &job.record;
        let written = if !*together {
            write_one(store, &txn, rec, &mut ids).await
        } else if let Some(recorded) = shared.remove(&rec.source_id.0) {
            let check = check_row(rec, recorded.snapshot_id);
            Ok((recorded, check))
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
    if let Some(snapshot_ids) = snapshot_ids {
        let mut change_ids = batch_rows::write_after(&txn, &current, &snapshot_ids, &checks).await?;
        for ((job, together), result) in jobs.iter().zip(&together).zip(&mut results) {
            if let (true, Ok(recorded)) = (*together, result) {
                recorded.change_ids = change_ids.remove(&job.record.source_id.0).unwrap_or_default();
            }
        }
    } else {
        insert_checks(&txn, checks).await?;
    }
    txn.commit().await?;
    store.catalog_stepped(results.iter().any(|r| {
        r.as_ref().is_ok_and(|r| r.catalog.as_ref().is_some_and(|c| c.as_ref().is_ok_and(|c| c.may_change_matcher())))
    }));
    Ok(results)
}

/// The records written together: one guarded update of their sources'
/// rows, then their snapshots, pointers and changes a few statements for
/// all of them ([`write_rows`]). A source with two records in the batch is
/// left to the one-by-one path, which keeps their order (the second is
/// then superseded by the first).
fn shared_records(jobs: &[Job]) -> Vec<bool> {
    let mut per_source: HashMap<i64, usize> = HashMap::with_capacity(jobs.len());
    for job in jobs {
        *per_source.entry(job.record.source_id.0).or_default() += 1;
    }
    jobs.iter().map(|job| per_source[&job.record.source_id.0] == 1).collect()
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
        self.catalog_stepped(
            recorded.catalog.as_ref().is_some_and(|c| c.as_ref().is_ok_and(|c| c.may_change_matcher())),
        );
        Ok(recorded)
    }
}

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
    catalog_of(store, txn, rec, &mut recorded, ids).await?;
    Ok((recorded, written.check))
}

/// Saves the catalog step of a record that stored a new snapshot, right
/// after its rows (see [`catalog_step`]).
async fn catalog_of(
    store: &Store,
    txn: &DatabaseTransaction,
    rec: &CheckRecord,
    recorded: &mut Recorded,
    ids: &mut BatchIds,
) -> Result<(), StoreError> {
    if let (Some(snapshot_id), Some(work)) = (recorded.snapshot_id, &rec.catalog) {
        let step = catalog_step(store, txn, (rec.source_id, snapshot_id), work, ids).await?;
        recorded.catalog = Some(step.map_err(|e| e.to_string()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(super) mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use chrono::Utc;
    use sea_orm::ConnectionTrait;
    use sha2::Digest as _;

    use super::*;
    use crate::source::{NewSource, SourceOptions, normalize_url};
    use crate::store::record::{
        CheckOutcome, CompressedBody, NewChange, NewSnapshot, SnapshotPointer, SnapshotText, SourceUpdate,
    };
    use crate::types::SourceId;
    use crate::types::{ChangeKind, SourceKind, SourceStatus};

    /// A fresh database: SQLite, or PostgreSQL on the server named by
    /// `MODELWATCH_TEST_POSTGRES_URL` (dropped by the caller).
    pub(in crate::store) async fn open(
        postgres: bool,
        dir: &std::path::Path,
    ) -> Option<(Store, Option<(String, String)>)> {
        if !postgres {
            let url = format!("sqlite://{}?mode=rwc", dir.join("batch.db").display());
            let store = Store::connect(&url, 2).await.unwrap();
            store.migrate().await.unwrap();
            return Some((store, None));
        }
        let Some(admin) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped on PostgreSQL: MODELWATCH_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("mw_unit_batch_{}_{}", std::process::id(), Utc::now().timestamp_subsec_nanos());
        let conn = sea_orm::Database::connect(&admin).await.unwrap();
        conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
        conn.close().await.unwrap();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&name);
        let store = Store::connect(url.as_str(), 2).await.unwrap();
        store.migrate().await.unwrap();
        Some((store, Some((admin, name))))
    }

    /// `n` page sources added by one statement (the store adds a source
    /// at a time, which for the bench's 2,000 would take a while); their
    /// ids in order. PostgreSQL only.
    pub(in crate::store) async fn fill_sources(store: &Store, n: u32) -> Vec<SourceId> {
        let rows = store
            .db()
            .query_all_raw(sea_orm::Statement::from_sql_and_values(
                sea_orm::DbBackend::Postgres,
                "INSERT INTO sources (url, kind, tags, status, pending_count, consecutive_failures, options, \
                 next_check_at, created_at, updated_at) SELECT 'https://www.qbitai.com/2024/06/' || i || '.html', \
                 'page', '[]', 'pending', 0, 0, '{}', now(), now(), now() FROM generate_series(1, $1) AS i \
                 RETURNING id",
                [sea_orm::Value::from(i64::from(n))],
            ))
            .await
            .unwrap();
        let mut ids: Vec<SourceId> = rows.iter().map(|row| SourceId(row.try_get("", "id").unwrap())).collect();
        ids.sort_unstable_by_key(|id| id.0);
        ids
    }

    /// The plan PostgreSQL makes for `stmt` (`EXPLAIN`, not run), one line
    /// a node.
    pub(in crate::store) async fn explain(store: &Store, stmt: sea_orm::Statement) -> String {
        let explain = sea_orm::Statement::from_sql_and_values(
            sea_orm::DbBackend::Postgres,
            format!("EXPLAIN {}", stmt.sql),
            stmt.values.map(|v| v.0).unwrap_or_default(),
        );
        let rows = store.db().query_all_raw(explain).await.unwrap();
        rows.iter().map(|row| row.try_get_by_index::<String>(0).unwrap()).collect::<Vec<_>>().join("\n")
    }

    /// Closes `store` and drops its database when it is PostgreSQL's.
    pub(in crate::store) async fn finish(store: Store, pg: Option<(String, String)>) {
        if let Some((admin, name)) = pg {
            store.close().await.unwrap();
            drop_database(&admin, &name).await;
        }
    }

    pub(in crate::store) async fn drop_database(admin: &str, name: &str) {
        let conn = sea_orm::Database::connect(admin).await.unwrap();
        conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.unwrap();
        conn.close().await.unwrap();
    }

    /// A check of `source` that stores `body` as its new snapshot, with a
    /// content change when it started from a snapshot.
    pub(in crate::store) fn edited(source: SourceId, from: Option<i64>, body: &str) -> CheckRecord {
        let now = Utc::now();
        CheckRecord {
            source_id: source,
            started_at: now,
            duration_ms: 3,
            outcome: CheckOutcome::Ok,
            http_status: Some(200),
            error_kind: None,
            message: None,
            bytes: body.len() as u64,
            snapshot: Some(NewSnapshot {
                content_hash: hex::encode(sha2::Sha256::digest(body.as_bytes())),
                text: SnapshotText::Plain(body.to_owned()),
                meta: serde_json::Value::Null,
                raw: Some(CompressedBody::compress(body.as_bytes()).unwrap()),
                http_status: Some(200),
                final_url: None,
            }),
            pointer: SnapshotPointer::New,
            changes: from
                .map(|from| NewChange {
                    kind: ChangeKind::Content,
                    summary: "正文改了".to_owned(),
                    stats: crate::change::ChangeStats::default(),
                    catalog_hits: 0,
                    excerpt: body.to_owned(),
                    details: serde_json::Value::Null,
                    from_snapshot_id: Some(from),
                })
                .into_iter()
                .collect(),
            update: SourceUpdate {
                status: SourceStatus::Ok,
                last_error_kind: None,
                last_error: None,
                pending_status: None,
                pending_count: 0,
                consecutive_failures: 0,
                etag: None,
                last_modified: None,
                final_url: None,
                title: None,
                kind: None,
                succeeded: true,
                next_check_at: now,
            },
            metrics: vec![],
            lease_owner: None,
            expected_snapshot: from,
            catalog: None,
        }
    }

    /// A page source at `url`.
    pub(in crate::store) async fn add_page(store: &Store, url: &str) -> crate::source::Source {
        let new = NewSource {
            url: normalize_url(url).unwrap(),
            kind: SourceKind::Page,
            title: None,
            tags: vec![],
            schedule: None,
            options: SourceOptions::default(),
        };
        store.add_source(&new, Utc::now()).await.unwrap()
    }

    /// Writes `records` as one batch through `store`; returns the results
    /// and how many statements the batch sent.
    /// `count` pages under `path`, each with a first snapshot recorded:
    /// their sources and those snapshots.
    async fn pages_with_a_snapshot(store: &Store, path: &str, count: usize) -> Vec<(SourceId, Option<i64>)> {
        let mut bases = Vec::with_capacity(count);
        for n in 0..count {
            let source = add_page(store, &format!("https://www.qbitai.com/{path}/{n}.html")).await;
            let base = store.record_check(edited(source.id, None, &format!("基线 {n}"))).await.unwrap();
            bases.push((source.id, base.snapshot_id));
        }
        bases
    }

    async fn batch_of(store: &Store, records: Vec<CheckRecord>) -> (Vec<Result<Recorded, StoreError>>, usize) {
        batch_counting(store, records, |_| true).await
    }

    /// [`batch_of`], counting only the statements whose SQL `counts`.
    async fn batch_counting(
        store: &Store,
        records: Vec<CheckRecord>,
        counts: fn(&str) -> bool,
    ) -> (Vec<Result<Recorded, StoreError>>, usize) {
        let count = Arc::new(AtomicUsize::new(0));
        let mut db = store.db().clone();
        let seen = count.clone();
        db.set_metric_callback(move |info| {
            if counts(&info.statement.sql) {
                seen.fetch_add(1, Ordering::Relaxed);
            }
        });
        let counting = Store { db, catalog_ids: Default::default(), catalog_changes: Default::default() };
        let jobs: Vec<Job> = records.into_iter().map(|record| Job { record, reply: oneshot::channel().0 }).collect();
        let results = write_together(&counting, &jobs).await.unwrap();
        (results, count.load(Ordering::Relaxed))
    }

    /// A job for the writer's queue (its answer is not awaited).
    fn job(n: i64) -> Job {
        Job { record: edited(SourceId(n), None, "正文"), reply: oneshot::channel().0 }
    }

    /// Sends `count` jobs, `every` apart, from a task of their own.
    fn send_every(tx: mpsc::Sender<Job>, count: i64, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            for n in 0..count {
                tokio::time::sleep(every).await;
                if tx.send(job(n)).await.is_err() {
                    return;
                }
            }
        })
    }

    /// Records that follow each other within the gap join the batch; the
    /// batch closes once the gap passes with none.
    #[tokio::test]
    async fn records_following_within_the_gap_share_a_batch() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let mut jobs = vec![job(100)];
        let sender = send_every(tx.clone(), 5, Duration::from_millis(10));
        let (gap, linger) = (Duration::from_millis(400), Duration::from_secs(30));
        let started = Instant::now();
        gather(&mut rx, &mut jobs, 64, gap, linger).await;
        sender.await.unwrap();
        assert_eq!(jobs.len(), 6, "the first record and the five that followed it");
        assert!(started.elapsed() >= gap, "closed only once the gap passed empty");
        // What comes after the batch closed is the next batch's.
        tx.send(job(200)).await.unwrap();
        assert_eq!(rx.try_recv().map(|j| j.record.source_id), Ok(SourceId(200)));
    }

    /// A record that comes alone waits only the gap, not the linger.
    #[tokio::test]
    async fn a_lone_record_waits_only_the_gap() {
        let (_tx, mut rx) = mpsc::channel::<Job>(QUEUE);
        let mut jobs = vec![job(1)];
        let started = Instant::now();
        gather(&mut rx, &mut jobs, 64, Duration::from_millis(20), Duration::from_secs(60)).await;
        assert_eq!(jobs.len(), 1);
        assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    }

    /// A steady stream of records cannot hold a batch open past the
    /// linger, and a batch never passes `max_batch`.
    #[tokio::test]
    async fn the_linger_and_max_batch_bound_a_batch() {
        let (tx, mut rx) = mpsc::channel(QUEUE);
        let mut jobs = vec![job(0)];
        let sender = send_every(tx.clone(), 1_000, Duration::from_millis(20));
        let (gap, linger) = (Duration::from_secs(5), Duration::from_millis(300));
        let started = Instant::now();
        gather(&mut rx, &mut jobs, 64, gap, linger).await;
        let took = started.elapsed();
        assert!(took >= linger && took < gap, "closed by the linger: {took:?}");
        assert!((2..64).contains(&jobs.len()), "{} records", jobs.len());

        // Already waiting: taken up to max_batch at once, the rest left.
        sender.abort();
        while rx.try_recv().is_ok() {}
        for n in 0..10 {
            tx.send(job(1_000 + n)).await.unwrap();
        }
        let mut jobs = vec![job(0)];
        gather(&mut rx, &mut jobs, 4, gap, Duration::from_secs(30)).await;
        assert_eq!(jobs.len(), 4);
        assert_eq!(rx.try_recv().map(|j| j.record.source_id), Ok(SourceId(1_003)));
    }

    /// On PostgreSQL the writer's time is round trips: a batch of edited
    /// pages sends as many statements as one edited page (its snapshot,
    /// blob, pointer, change and sequence rows are shared), where each
    /// record used to cost six of its own.
    async fn edited_pages_share_their_statements(postgres: bool) {
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let bases = pages_with_a_snapshot(&store, "2024/01", 9).await;
        let edit = |n: usize| edited(bases[n].0, bases[n].1, &format!("第 {n} 篇改过了"));
        let (one, alone) = batch_of(&store, vec![edit(0)]).await;
        let (eight, together) = batch_of(&store, (1..9).map(edit).collect()).await;
        assert!(one.iter().chain(&eight).all(|r| r.as_ref().is_ok_and(|r| r.change_ids.len() == 1)), "{eight:?}");
        assert_eq!(together, alone, "eight edited pages cost what one does ({alone} statements)");
        finish(store, pg).await;
    }

    /// `count` records of new pages (under `https://www.qbitai.com/{path}/`),
    /// each with a catalog step of an empty analysis.
    async fn new_pages_with_catalog_steps(store: &Store, path: &str, count: usize) -> Vec<CheckRecord> {
        let mut records = Vec::new();
        for n in 0..count {
            let source = add_page(store, &format!("https://www.qbitai.com/{path}/{n}.html")).await;
            let mut rec = edited(source.id, None, &format!("第 {n} 篇"));
            rec.catalog = Some(crate::store::catalog::CatalogWork {
                at: Utc::now(),
                analysis: crate::catalog::Analysis::default(),
                structured: vec![],
                structured_source: false,
                promote_after_sources: 2,
            });
            records.push(rec);
        }
        records
    }

    /// The catalog steps of a batch share one savepoint and one read of the
    /// catalog's revision (three of a step's round trips on PostgreSQL);
    /// each step still gets its own outcome.
    async fn catalog_steps_share_their_revision_read(postgres: bool) {
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let records = new_pages_with_catalog_steps(&store, "2024/02", 4).await;
        let (results, revision_reads) = batch_counting(&store, records, |sql| sql.contains("catalog_revision")).await;
        for r in &results {
            assert!(r.as_ref().is_ok_and(|r| matches!(r.catalog, Some(Ok(_)))), "{r:?}");
        }
        assert_eq!(revision_reads, 1, "one revision read for the batch's four steps");
        finish(store, pg).await;
    }

    /// On SQLite a batch's catalog steps share a savepoint (and its revision
    /// read) a few at a time, so the savepoint's sub-journal, held in
    /// memory until the savepoint ends, covers a few steps' pages instead of
    /// a whole batch's (issue 12: peak memory of a cold sweep); on
    /// PostgreSQL, where a savepoint is round trips, all of them share one.
    /// Every step still gets its own outcome.
    async fn catalog_steps_share_a_savepoint_a_few_at_a_time(postgres: bool) {
        use super::super::batch_catalog::SQLITE_STEPS_PER_SAVEPOINT;
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let steps = 2 * SQLITE_STEPS_PER_SAVEPOINT + 3;
        let records = new_pages_with_catalog_steps(&store, "2024/04", steps).await;
        let (results, revision_reads) = batch_counting(&store, records, |sql| sql.contains("catalog_revision")).await;
        assert_eq!(results.len(), steps);
        for r in &results {
            assert!(r.as_ref().is_ok_and(|r| matches!(r.catalog, Some(Ok(_)))), "{r:?}");
        }
        let savepoints = if postgres { 1 } else { 3 };
        assert_eq!(revision_reads, savepoints, "{steps} steps, {savepoints} savepoints");
        finish(store, pg).await;
    }

    /// `count` models named `prefix0`, `prefix1`, … added to the catalog.
    async fn add_models(store: &Store, prefix: &str, count: usize) -> Vec<crate::catalog::EntityRef> {
        let mut models = Vec::with_capacity(count);
        for n in 0..count {
            let name = format!("{prefix}{n}");
            let model = crate::store::catalog::NewModel {
                name: name.clone(),
                vendor: None,
                kind: crate::catalog::ModelKind::Model,
                family: None,
                version: None,
                aliases: vec![],
            };
            store.catalog_add_model(&model, Utc::now()).await.unwrap();
            models.push(crate::catalog::EntityRef::model(name));
        }
        models
    }

    /// An analysis naming each of `names` `count` times and proposing
    /// `figure` as a feature of each.
    fn naming(names: &[crate::catalog::EntityRef], figure: &str, count: u32) -> crate::catalog::Analysis {
        use crate::catalog::{Analysis, Attribute, FactValue, MentionCount, ProposedFact};
        Analysis {
            mentions: names
                .iter()
                .map(|e| MentionCount { entity: e.clone(), count, direct: count, sentence: "一句".to_owned() })
                .collect(),
            proposed_facts: names
                .iter()
                .map(|e| ProposedFact {
                    entity: e.clone(),
                    attribute: Attribute::Features,
                    value: FactValue::text(figure),
                    raw: figure.to_owned(),
                    sentence: format!("{}支持{figure}", e.name),
                    extractor: "rule:features".to_owned(),
                    confidence: 0.8,
                })
                .collect(),
            ..Default::default()
        }
    }

    /// A new page's catalog step sends as many statements whatever its text
    /// names: its mentions, the facts it proposes and their evidence are a
    /// statement or two each, not one per entity or figure (issue 12); the
    /// mentions a source makes for the first time are still told apart.
    async fn catalog_steps_cost_the_same_for_any_text(postgres: bool) {
        use crate::catalog::{Analysis, EntityRef};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let models = add_models(&store, "测试模型", 12).await;
        let mut sources = Vec::new();
        for n in 0..2 {
            sources.push(add_page(&store, &format!("https://www.qbitai.com/2024/03/{n}.html")).await.id);
        }
        let step = |source: SourceId, from: Option<i64>, analysis: Analysis| {
            let mut rec = edited(source, from, &format!("{source:?} {}", analysis.mentions.len()));
            rec.catalog = Some(crate::store::catalog::CatalogWork {
                at: Utc::now(),
                analysis,
                structured: vec![],
                structured_source: false,
                promote_after_sources: 2,
            });
            rec
        };
        let (few, one_named) = batch_of(&store, vec![step(sources[0], None, naming(&models[..1], "长文本", 2))]).await;
        let (many, twelve_named) = batch_of(&store, vec![step(sources[1], None, naming(&models, "长文本", 2))]).await;
        assert_eq!(twelve_named, one_named, "twelve entities and figures cost what one does");
        let saved = |r: &[Result<Recorded, StoreError>]| r[0].as_ref().unwrap().catalog.clone().unwrap().unwrap();
        assert_eq!(saved(&few).new_mentions, models[..1]);
        assert_eq!(saved(&many).new_mentions, models);
        assert_eq!((saved(&many).new_facts.len(), saved(&many).corroborations), (11, 1));

        // The next snapshot names six of them again and one more.
        let again: Vec<EntityRef> = models[6..].iter().cloned().chain(models[..1].iter().cloned()).collect();
        let (next, _) =
            batch_of(&store, vec![step(sources[0], few[0].as_ref().unwrap().snapshot_id, naming(&again, "x", 2))])
                .await;
        assert_eq!(saved(&next).new_mentions, models[6..], "{:?}", saved(&next));
        finish(store, pg).await;
    }

    /// The catalog steps of a batch's new snapshots that only mention known
    /// entities and propose values share their statements: six steps cost
    /// what two do (they were five statements each, round trips on
    /// PostgreSQL). Each step's outcome is what writing them one after the
    /// other gives: a value two steps propose is new for the first and
    /// corroborated by the second, and a source's first mentions are told
    /// from its earlier ones.
    async fn shared_catalog_steps_cost_the_same_for_any_batch(postgres: bool) {
        use crate::catalog::EntityRef;
        use sea_orm::{EntityTrait, PaginatorTrait};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let models = add_models(&store, "共享模型", 4).await;
        let step = |source: SourceId, from: Option<i64>, names: &[EntityRef], n: usize| {
            let mut rec = edited(source, from, &format!("第 {n} 篇 {}", names.len()));
            rec.catalog = Some(crate::store::catalog::CatalogWork {
                at: Utc::now(),
                analysis: naming(names, if (2..8).contains(&n) { "长上下文" } else { "多模态" }, 1),
                structured: vec![],
                structured_source: false,
                promote_after_sources: 2,
            });
            rec
        };
        let mut sources = Vec::new();
        for n in 0..8 {
            sources.push(add_page(&store, &format!("https://www.qbitai.com/2024/07/{n}.html")).await.id);
        }
        let saved = |r: &Result<Recorded, StoreError>| r.as_ref().unwrap().catalog.clone().unwrap().unwrap();
        let (two, two_cost) = batch_of(&store, (0..2).map(|n| step(sources[n], None, &models[..3], n)).collect()).await;
        let (six, six_cost) = batch_of(&store, (2..8).map(|n| step(sources[n], None, &models[..3], n)).collect()).await;
        // On SQLite too, while the six fit in one savepoint.
        const { assert!(6 <= super::super::batch_catalog::SQLITE_STEPS_PER_SAVEPOINT) };
        assert_eq!(six_cost, two_cost, "six steps cost what two do");
        // Each batch proposes values new to the catalog, the first step of
        // each the first to.
        for batch in [&two[..], &six[..]] {
            assert_eq!((saved(&batch[0]).new_facts.len(), saved(&batch[0]).corroborations), (3, 0));
            for r in &batch[1..] {
                assert_eq!((saved(r).new_facts.len(), saved(r).corroborations), (0, 3), "the first step's values");
            }
        }
        for r in two.iter().chain(&six) {
            assert_eq!(saved(r).new_mentions, models[..3], "{r:?}");
        }
        let evidence = crate::store::entity::catalog_fact_evidence::Entity::find().count(store.db()).await.unwrap();
        assert_eq!(evidence, 24, "every proposal leaves its sentence");

        // The next snapshots of the first two name one entity more.
        let next: Vec<CheckRecord> =
            (0..2).map(|n| step(sources[n], two[n].as_ref().unwrap().snapshot_id, &models[1..], n + 10)).collect();
        let (next, _) = batch_of(&store, next).await;
        for r in &next {
            assert_eq!(saved(r).new_mentions, models[3..], "{r:?}");
        }
        assert_eq!((saved(&next[0]).new_facts.len(), saved(&next[0]).corroborations), (1, 2));
        assert_eq!((saved(&next[1]).new_facts.len(), saved(&next[1]).corroborations), (0, 3));
        finish(store, pg).await;
    }

    /// On PostgreSQL a batch of edited pages is two statements (besides
    /// BEGIN and COMMIT): the states, pointers, snapshots and bodies, then
    /// the changes and check rows; more than eight bodies follow eight at a
    /// time. A superseded record in it writes nothing (no snapshot, body,
    /// change or check row), and each record gets its change ids in order.
    async fn edited_pages_are_two_statements(postgres: bool) {
        use crate::store::entity::{blobs, changes, snapshots};
        use sea_orm::{EntityTrait, PaginatorTrait};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let bases = pages_with_a_snapshot(&store, "2024/08", 12).await;
        // Another check of source 0 was recorded after this batch's started.
        store.record_check(edited(bases[0].0, bases[0].1, "别处改过了")).await.unwrap();
        let counts = || async {
            (
                snapshots::Entity::find().count(store.db()).await.unwrap(),
                blobs::Entity::find().count(store.db()).await.unwrap(),
                changes::Entity::find().count(store.db()).await.unwrap(),
                checks::Entity::find().count(store.db()).await.unwrap(),
            )
        };
        let edit = |n: usize| {
            let mut rec = edited(bases[n].0, bases[n].1, &format!("第 {n} 篇改过了"));
            // Two changes for source 1, to see their ids come in order.
            if n == 1 {
                let mut second = rec.changes[0].clone();
                second.summary = "第二处".to_owned();
                rec.changes.push(second);
            }
            rec
        };
        let before = counts().await;
        let (three, three_cost) = batch_of(&store, (0..3).map(edit).collect()).await;
        assert!(matches!(three[0], Err(StoreError::Superseded(id)) if id == bases[0].0.0), "{three:?}");
        let after = counts().await;
        assert_eq!(
            after,
            (before.0 + 2, before.1 + 2, before.2 + 3, before.3 + 2),
            "the superseded record wrote nothing"
        );
        let ids = &three[1].as_ref().unwrap().change_ids;
        assert_eq!(ids.len(), 2);
        assert!(ids[0] < ids[1], "{ids:?}");
        let summaries: Vec<String> = futures::future::join_all(
            ids.iter()
                .map(|id| async { changes::Entity::find_by_id(*id).one(store.db()).await.unwrap().unwrap().summary }),
        )
        .await;
        assert_eq!(summaries, ["正文改了", "第二处"]);
        let (nine, nine_cost) = batch_of(&store, (3..12).map(edit).collect()).await;
        for (n, r) in (3..12).zip(&nine) {
            let r = r.as_ref().unwrap();
            assert_eq!(r.change_ids.len(), 1, "{r:?}");
            let source = store.get_source(&crate::source::SourceRef::Id(bases[n].0)).await.unwrap();
            assert_eq!(source.last_snapshot_id, r.snapshot_id, "the source points at its new snapshot");
            let snapshot = store.get_snapshot(r.snapshot_id.unwrap()).await.unwrap().unwrap();
            assert_eq!(snapshot.text, format!("第 {n} 篇改过了"));
            let raw = crate::store::record::CompressedBody::compress(snapshot.text.as_bytes()).unwrap();
            assert_eq!(store.raw_body(&raw.hash).await.unwrap().unwrap(), snapshot.text.as_bytes());
        }
        if postgres {
            assert_eq!(three_cost, 2, "three edited pages, one superseded");
            assert_eq!(nine_cost, 3, "nine edited pages: eight bodies in the first statement");
        }
        finish(store, pg).await;
    }

    /// On SQLite the rows of a savepoint's steps go a few dozen to a
    /// statement ([`crate::store::source_update::SQLITE_ROWS_PER_STATEMENT`]):
    /// one list of a batch's ~320 mentions was a prepared statement of 257
    /// KB kept for the connection's life (issue 12). Every row is written,
    /// and each step's outcome is what one statement gave.
    async fn many_rows_are_written_a_few_dozen_a_statement(postgres: bool) {
        use crate::store::entity::{catalog_fact_evidence, catalog_facts, catalog_mentions};
        use crate::store::source_update::SQLITE_ROWS_PER_STATEMENT;
        use sea_orm::{EntityTrait, PaginatorTrait};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let models = add_models(&store, "成行模型", 20).await;
        let facts_before = catalog_facts::Entity::find().count(store.db()).await.unwrap();
        let steps = 8;
        let mut records = new_pages_with_catalog_steps(&store, "2024/09", steps).await;
        for (n, rec) in records.iter_mut().enumerate() {
            let work = rec.catalog.as_mut().unwrap();
            // The first four share their figure: new for the first, more
            // evidence for the other three.
            let figure = if n < 4 { "长上下文".to_owned() } else { format!("{n}号特性") };
            work.analysis = naming(&models, &figure, 1);
        }
        let (results, mention_statements) =
            batch_counting(&store, records, |sql| sql.contains("INSERT INTO catalog_mentions")).await;
        let rows = (steps * models.len()) as u64;
        for (n, r) in results.iter().enumerate() {
            let saved = r.as_ref().unwrap().catalog.clone().unwrap().unwrap();
            assert_eq!(saved.new_mentions, models, "step {n}");
            let expected = if (1..4).contains(&n) { (0, 20) } else { (20, 0) };
            assert_eq!((saved.new_facts.len(), saved.corroborations), expected, "step {n}");
        }
        assert_eq!(catalog_mentions::Entity::find().count(store.db()).await.unwrap(), rows);
        assert_eq!(catalog_fact_evidence::Entity::find().count(store.db()).await.unwrap(), rows);
        assert_eq!(catalog_facts::Entity::find().count(store.db()).await.unwrap(), facts_before + 5 * 20);
        let expected = if postgres { 1 } else { rows.div_ceil(SQLITE_ROWS_PER_STATEMENT as u64) as usize };
        assert_eq!(mention_statements, expected, "{rows} mentions");
        finish(store, pg).await;
    }

    #[tokio::test]
    async fn many_rows_are_written_a_few_dozen_a_statement_on_sqlite() {
        many_rows_are_written_a_few_dozen_a_statement(false).await;
    }

    #[tokio::test]
    async fn many_rows_are_written_a_few_dozen_a_statement_on_postgres() {
        many_rows_are_written_a_few_dozen_a_statement(true).await;
    }

    #[tokio::test]
    async fn edited_pages_are_two_statements_on_sqlite() {
        edited_pages_are_two_statements(false).await;
    }

    #[tokio::test]
    async fn edited_pages_are_two_statements_on_postgres() {
        edited_pages_are_two_statements(true).await;
    }

    #[tokio::test]
    async fn shared_catalog_steps_cost_the_same_for_any_batch_on_sqlite() {
        shared_catalog_steps_cost_the_same_for_any_batch(false).await;
    }

    #[tokio::test]
    async fn shared_catalog_steps_cost_the_same_for_any_batch_on_postgres() {
        shared_catalog_steps_cost_the_same_for_any_batch(true).await;
    }

    #[tokio::test]
    async fn catalog_steps_cost_the_same_for_any_text_on_sqlite() {
        catalog_steps_cost_the_same_for_any_text(false).await;
    }

    #[tokio::test]
    async fn catalog_steps_cost_the_same_for_any_text_on_postgres() {
        catalog_steps_cost_the_same_for_any_text(true).await;
    }

    #[tokio::test]
    async fn catalog_steps_share_their_revision_read_on_sqlite() {
        catalog_steps_share_their_revision_read(false).await;
    }

    #[tokio::test]
    async fn catalog_steps_share_their_revision_read_on_postgres() {
        catalog_steps_share_their_revision_read(true).await;
    }

    #[tokio::test]
    async fn catalog_steps_share_a_savepoint_a_few_at_a_time_on_sqlite() {
        catalog_steps_share_a_savepoint_a_few_at_a_time(false).await;
    }

    #[tokio::test]
    async fn catalog_steps_share_a_savepoint_a_few_at_a_time_on_postgres() {
        catalog_steps_share_a_savepoint_a_few_at_a_time(true).await;
    }

    #[tokio::test]
    async fn edited_pages_share_their_statements_on_sqlite() {
        edited_pages_share_their_statements(false).await;
    }

    #[tokio::test]
    async fn edited_pages_share_their_statements_on_postgres() {
        edited_pages_share_their_statements(true).await;
    }

    /// A check that found its page unchanged (a 304): it writes its
    /// source's new state and its check row, nothing else.
    fn unchanged(source: SourceId, from: Option<i64>) -> CheckRecord {
        let mut rec = edited(source, from, "");
        rec.snapshot = None;
        rec.pointer = SnapshotPointer::Keep;
        rec.changes.clear();
        rec.http_status = Some(304);
        rec.bytes = 0;
        rec.update.etag = Some(Some("\"v2\"".to_owned()));
        rec.update.next_check_at = Utc::now() + chrono::Duration::hours(6);
        assert!(rec.is_state_only());
        rec
    }

    /// How many check rows `source` has, and its stored etag.
    async fn checks_and_etag(store: &Store, source: SourceId) -> (u64, Option<String>) {
        use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
        let checks =
            checks::Entity::find().filter(checks::Column::SourceId.eq(source.0)).count(store.db()).await.unwrap();
        let row = crate::store::entity::sources::Entity::find_by_id(source.0).one(store.db()).await.unwrap().unwrap();
        (checks, row.etag)
    }

    /// A batch of unchanged pages is one statement on PostgreSQL, in its
    /// own implicit transaction: no BEGIN, SET LOCAL or COMMIT round trips
    /// (issue 12). SQLite writes it in a transaction (two statements). A
    /// superseded record in it writes nothing, neither its source's row nor
    /// its check row, and the others are recorded.
    async fn unchanged_pages_are_one_statement(postgres: bool) {
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(postgres, dir.path()).await else { return };
        let bases = pages_with_a_snapshot(&store, "2024/05", 5).await;
        // Another check of source 0 (the CLI beside the daemon) recorded an
        // edit after this batch's check of it started from the old snapshot.
        store.record_check(edited(bases[0].0, bases[0].1, "改过了")).await.unwrap();

        let (results, statements) =
            batch_of(&store, bases.iter().map(|(id, from)| unchanged(*id, *from)).collect()).await;
        assert!(matches!(results[0], Err(StoreError::Superseded(id)) if id == bases[0].0.0), "{results:?}");
        assert!(results[1..].iter().all(|r| r.as_ref().is_ok_and(|r| r.snapshot_id.is_none())), "{results:?}");
        assert_eq!(statements, if postgres { 1 } else { 2 }, "statements for five unchanged pages");
        assert_eq!(checks_and_etag(&store, bases[0].0).await, (2, None), "the superseded record wrote nothing");
        for (id, _) in &bases[1..] {
            assert_eq!(checks_and_etag(&store, *id).await, (2, Some("\"v2\"".to_owned())));
        }

        // A batch that also holds an edited page takes the transaction
        // (on PostgreSQL its two statements, see `edited_pages_are_two_statements`).
        let from = store.get_source(&crate::source::SourceRef::Id(bases[0].0)).await.unwrap().last_snapshot_id;
        let mixed = vec![edited(bases[0].0, from, "又改了"), unchanged(bases[1].0, bases[1].1)];
        let (results, statements) = batch_of(&store, mixed).await;
        assert!(results.iter().all(|r| r.is_ok()), "{results:?}");
        if postgres {
            assert_eq!(statements, 2);
        } else {
            assert!(statements > 2, "{statements}");
        }
        finish(store, pg).await;
    }

    #[tokio::test]
    async fn unchanged_pages_are_one_statement_on_sqlite() {
        unchanged_pages_are_one_statement(false).await;
    }

    #[tokio::test]
    async fn unchanged_pages_are_one_statement_on_postgres() {
        unchanged_pages_are_one_statement(true).await;
    }

    /// A record's statements turn `synchronous_commit` off for their
    /// transaction (the `SET LOCAL` that was a round trip of its own): the
    /// sources' update that begins a batch's transaction, and the one
    /// statement of unchanged pages, whose implicit transaction commits
    /// with the setting it made. PostgreSQL only.
    #[tokio::test]
    async fn record_statements_turn_synchronous_commit_off_on_postgres() {
        use crate::store::source_update::write_source_states;
        use crate::store::state_only::write_state_only;
        let dir = tempfile::tempdir().unwrap();
        let Some((store, Some((admin, name)))) = open(true, dir.path()).await else { return };
        let source = add_page(&store, "https://www.qbitai.com/2024/06/1.html").await;
        async fn setting(txn: &DatabaseTransaction) -> String {
            let show = sea_orm::Statement::from_string(sea_orm::DbBackend::Postgres, "SHOW synchronous_commit");
            txn.query_one_raw(show).await.unwrap().unwrap().try_get_by_index::<String>(0).unwrap()
        }
        let rec = unchanged(source.id, None);
        let txn = store.write_txn().await.unwrap();
        assert_eq!(setting(&txn).await, "on");
        assert_eq!(write_source_states(&txn, &[rec.new_source_state(None)]).await.unwrap().len(), 1);
        assert_eq!(setting(&txn).await, "off");
        txn.rollback().await.unwrap();

        let txn = store.write_txn().await.unwrap();
        assert_eq!(write_state_only(&txn, &[&rec]).await.unwrap().len(), 1);
        assert_eq!(setting(&txn).await, "off");
        txn.rollback().await.unwrap();
        store.close().await.unwrap();
        drop_database(&admin, &name).await;
    }
}
