//! The rows a batch of checks adds beside their sources' rows — raw bodies,
//! snapshots, snapshot pointers, changes — a few statements for the whole
//! batch, not a few per check.
//!
//! On PostgreSQL the record writer's time is round trips: a new snapshot
//! written alone cost a blob upsert, a snapshot insert (that sent the text
//! back: `RETURNING *`), a pointer update, a sequence reservation and a
//! change insert, one after the other, for every edited page. Here each is
//! one statement for every record of the batch, and inserts return only
//! the ids.
//!
//! The records must already have passed their sources' guarded update
//! ([`super::source_update`]): a superseded record never gets here, so
//! nothing written here needs undoing when one is dropped.

use std::collections::HashMap;

use chrono::Utc;
use sea_orm::sea_query::{OnConflict, Query};
use sea_orm::{ConnectionTrait, DbBackend, EntityTrait, QueryTrait, Set, Statement, Value};

use super::StoreError;
use super::entity::checks;
use super::entity::{blobs, changes, snapshots};
#[cfg(doc)]
use super::record::stored_text;
use super::record::{CheckRecord, Recorded, SnapshotPointer, SnapshotText, check_row};
use super::source_update::{by_id, rows_per_statement, to_i32, values_cte, write_source_states};

/// Rows per insert: each row binds at most 15 values, well under every
/// backend's limit on bound parameters.
const ROWS_PER_STATEMENT: usize = 64;

/// Raw bodies and texts per insert: tens of KB each, copied into the
/// statement's values and the driver's buffer while it is sent, so a few
/// at a time keep that transient memory to a few hundred KB.
const BODIES_PER_STATEMENT: usize = 8;

/// Writes the snapshots, pointers, metric points and changes of `records`
/// (each of another source, each past its guarded source update) and
/// returns what each recorded, in order. The caller inserts the check rows
/// and runs the catalog steps.
pub(crate) async fn write_rows<C: ConnectionTrait>(
    txn: &C,
    records: &[&CheckRecord],
) -> Result<Vec<Recorded>, StoreError> {
    upsert_blobs(txn, records).await?;
    let snapshot_ids = insert_snapshots(txn, records).await?;
    let pointers: Vec<(i64, i64)> = records
        .iter()
        .filter(|r| r.pointer == SnapshotPointer::New)
        .filter_map(|r| Some((r.source_id.0, *snapshot_ids.get(&r.source_id.0)?)))
        .collect();
    set_pointers(txn, &pointers).await?;
    for r in records.iter().filter(|r| !r.metrics.is_empty()) {
        super::metrics::insert_metrics(txn, r.source_id, r.started_at, &r.metrics).await?;
    }
    let mut change_ids = insert_changes(txn, records, &snapshot_ids).await?;
    Ok(records
        .iter()
        .map(|r| Recorded {
            snapshot_id: snapshot_ids.get(&r.source_id.0).copied(),
            change_ids: change_ids.remove(&r.source_id.0).unwrap_or_default(),
            catalog: None,
        })
        .collect())
}

/// Stores each raw body once. A body seen before (by any source) is
/// touched instead: the touch locks its row and makes it young, so a
/// concurrent prune (which deletes only old blobs) cannot delete the body a
/// snapshot here is about to refer to. A body twice in the batch is one row
/// (PostgreSQL refuses to upsert a row twice in one statement).
async fn upsert_blobs<C: ConnectionTrait>(txn: &C, records: &[&CheckRecord]) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    let rows: Vec<blobs::ActiveModel> = records
        .iter()
        .filter_map(|r| Some((r.started_at, r.snapshot.as_ref()?.raw.as_ref()?)))
        .filter(|(_, raw)| seen.insert(raw.hash.as_str()))
        .map(|(at, raw)| blobs::ActiveModel {
            hash: Set(raw.hash.clone()),
            data: Set(raw.zstd.clone()),
            size: Set(i64::try_from(raw.size).unwrap_or(i64::MAX)),
            created_at: Set(at),
        })
        .collect();
    for chunk in rows.chunks(BODIES_PER_STATEMENT) {
        blobs::Entity::insert_many(chunk.iter().cloned())
            .on_conflict(OnConflict::column(blobs::Column::Hash).update_column(blobs::Column::CreatedAt).to_owned())
            .exec_without_returning(txn)
            .await?;
    }
    Ok(())
}

/// Inserts the records' snapshots; returns each one's id by its source.
async fn insert_snapshots<C: ConnectionTrait>(
    txn: &C,
    records: &[&CheckRecord],
) -> Result<HashMap<i64, i64>, StoreError> {
    let rows: Vec<snapshots::ActiveModel> = records
        .iter()
        .filter_map(|r| {
            let snap = r.snapshot.as_ref()?;
            // A compressed text leaves `text` empty (see [`stored_text`]).
            let (text, text_zstd) = match &snap.text {
                SnapshotText::Plain(text) => (text.clone(), None),
                SnapshotText::Zstd(zstd) => (String::new(), Some(zstd.clone())),
            };
            Some(snapshots::ActiveModel {
                source_id: Set(r.source_id.0),
                created_at: Set(r.started_at),
                content_hash: Set(snap.content_hash.clone()),
                text: Set(text),
                text_zstd: Set(text_zstd),
                meta: Set(snap.meta.to_string()),
                raw_hash: Set(snap.raw.as_ref().map(|raw| raw.hash.clone())),
                http_status: Set(snap.http_status.map(i32::from)),
                final_url: Set(snap.final_url.clone()),
                ..Default::default()
            })
        })
        .collect();
    let mut ids = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(BODIES_PER_STATEMENT) {
        let mut insert = snapshots::Entity::insert_many(chunk.iter().cloned()).into_query();
        insert.returning(Query::returning().columns([snapshots::Column::Id, snapshots::Column::SourceId]));
        for row in txn.query_all(&insert).await? {
            ids.insert(row.try_get::<i64>("", "source_id")?, row.try_get::<i64>("", "id")?);
        }
    }
    Ok(ids)
}

/// Points each source at its new snapshot: `(source, snapshot)` pairs.
async fn set_pointers<C: ConnectionTrait>(txn: &C, pointers: &[(i64, i64)]) -> Result<(), StoreError> {
    for chunk in pointers.chunks(rows_per_statement(txn.get_database_backend(), ROWS_PER_STATEMENT * 4)) {
        txn.execute_raw(pointer_statement(txn.get_database_backend(), chunk)).await?;
    }
    Ok(())
}

/// `WITH v AS (VALUES …) UPDATE sources … FROM v`, as for the sources'
/// new states ([`values_cte`]), the rows named by id on PostgreSQL
/// ([`super::source_update::BY_ID`]: a record written alone, one row, was
/// a hash join over a scan of a table of 2,000 sources).
fn pointer_statement(backend: DbBackend, pointers: &[(i64, i64)]) -> Statement {
    const COLUMNS: [(&str, &str); 2] = [("source_id", "bigint"), ("snapshot_id", "bigint")];
    let rows = pointers.iter().map(|(source, snapshot)| [Value::from(*source), Value::from(*snapshot)]);
    let (mut sql, values) = values_cte(backend, &COLUMNS, rows);
    sql.push_str(" UPDATE sources SET last_snapshot_id = v.snapshot_id FROM v WHERE sources.id = v.source_id");
    sql.push_str(by_id(backend));
    Statement::from_sql_and_values(backend, sql, values)
}

/// Inserts the records' changes, numbered in record order from one
/// reservation of the sequence; returns each source's change ids in order.
async fn insert_changes<C: ConnectionTrait>(
    txn: &C,
    records: &[&CheckRecord],
    snapshot_ids: &HashMap<i64, i64>,
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    let total: usize = records.iter().map(|r| r.changes.len()).sum();
    if total == 0 {
        return Ok(HashMap::new());
    }
    let n = u32::try_from(total).map_err(|_| StoreError::Corrupt("too many changes in one batch".to_owned()))?;
    // Sequence numbers in commit order: the digest's cursor (issue 13).
    // Reserved as late as the batch allows: the counter's row lock is held
    // from here to commit.
    let first = super::change_seq::reserve_seq(txn, n).await?;
    // A change is dated when it is written, not when its check started: a
    // digest reads its period up to shortly before it runs, and a slow check
    // must not land in a period that was already sent.
    let written_at = Utc::now();
    let mut rows = Vec::with_capacity(total);
    // The source of each sequence number, to hand the ids back.
    let mut by_seq = HashMap::with_capacity(total);
    let mut seq = first;
    for r in records {
        let to = r.pointer.target(snapshot_ids.get(&r.source_id.0).copied());
        for change in &r.changes {
            rows.push(changes::ActiveModel {
                source_id: Set(r.source_id.0),
                detected_at: Set(written_at.max(r.started_at)),
                kind: Set(change.kind.as_str().to_owned()),
                from_snapshot_id: Set(change.from_snapshot_id),
                to_snapshot_id: Set(to),
                summary: Set(change.summary.clone()),
                added: Set(to_i32(change.stats.added)),
                removed: Set(to_i32(change.stats.removed)),
                modified: Set(to_i32(change.stats.modified)),
                ratio: Set(change.stats.ratio),
                catalog_hits: Set(to_i32(change.catalog_hits)),
                excerpt: Set(change.excerpt.clone()),
                details: Set(change.details.to_string()),
                seq: Set(Some(seq)),
                ..Default::default()
            });
            by_seq.insert(seq, r.source_id.0);
            seq += 1;
        }
    }
    let mut ids: Vec<(i64, i64)> = Vec::with_capacity(total);
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let mut insert = changes::Entity::insert_many(chunk.iter().cloned()).into_query();
        insert.returning(Query::returning().columns([changes::Column::Id, changes::Column::Seq]));
        for row in txn.query_all(&insert).await? {
            ids.push((row.try_get::<i64>("", "seq")?, row.try_get::<i64>("", "id")?));
        }
    }
    // In sequence order, so each source's ids come in its changes' order.
    ids.sort_unstable();
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (seq, id) in ids {
        if let Some(source) = by_seq.get(&seq) {
            out.entry(*source).or_default().push(id);
        }
    }
    Ok(out)
}

/// One check's rows written, but for its check row: the caller inserts the
/// check rows of a batch together ([`insert_checks`]), in the same
/// transaction.
pub(crate) struct Written {
    pub recorded: Recorded,
    pub check: checks::ActiveModel,
}

/// Writes one check's rows on `txn` but for its check row, returned to be
/// inserted by [`super::record::insert_checks`] (the caller commits).
///
/// The source's guarded update comes first: a superseded check (another
/// check of the source recorded since this one started) is refused before
/// it has written anything, so a batch needs no savepoint per check to drop
/// it. Any other error leaves rows behind: the caller rolls back.
pub(crate) async fn write_check<C: ConnectionTrait>(txn: &C, rec: &CheckRecord) -> Result<Written, StoreError> {
    if !write_source_states(txn, &[rec.new_source_state(rec.pointer.decided())]).await?.contains(&rec.source_id.0) {
        return Err(StoreError::Superseded(rec.source_id.0));
    }

    let recorded = write_rows(txn, &[rec]).await?.pop().unwrap_or_default();
    let check = check_row(rec, recorded.snapshot_id);
    Ok(Written { recorded, check })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL reads the rows from one typed JSON parameter: the same
    /// statement text for any number of rows (issue 12); SQLite binds a
    /// `VALUES` list.
    #[test]
    fn pointer_statements_are_one_text_on_postgres() {
        let pg = pointer_statement(DbBackend::Postgres, &[(1, 10), (2, 20)]);
        assert_eq!(
            pg.sql,
            "WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(source_id bigint, snapshot_id bigint)) \
             UPDATE sources SET last_snapshot_id = v.snapshot_id FROM v WHERE sources.id = v.source_id \
             AND sources.id = ANY(ARRAY(SELECT source_id FROM v))"
        );
        assert_eq!(pointer_statement(DbBackend::Postgres, &[(3, 30)]).sql, pg.sql);
        let values = pg.values.map(|v| v.0).unwrap_or_default();
        let [Value::String(Some(json))] = values.as_slice() else { panic!("bound {values:?}") };
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(json).unwrap(),
            serde_json::json!([
                {"source_id": 1, "snapshot_id": 10},
                {"source_id": 2, "snapshot_id": 20}
            ])
        );
        // SQLite: bound rows, padded to a power of two (one text for 3 or 4).
        let lite = pointer_statement(DbBackend::Sqlite, &[(1, 10)]);
        assert!(
            lite.sql.starts_with(
                "WITH v (source_id, snapshot_id) AS (SELECT * FROM (VALUES (?, ?)) WHERE column1 IS NOT NULL) UPDATE"
            ),
            "{}",
            lite.sql
        );
        assert!(lite.sql.ends_with("FROM v WHERE sources.id = v.source_id"), "{}", lite.sql);
        assert_eq!(lite.values.map(|v| v.0.len()), Some(2));
        let three = pointer_statement(DbBackend::Sqlite, &[(1, 10), (2, 20), (3, 30)]);
        assert_eq!(three.sql, pointer_statement(DbBackend::Sqlite, &[(1, 10), (2, 20), (3, 30), (4, 40)]).sql);
        assert_eq!(three.values.map(|v| v.0.len()), Some(8));
    }

    /// The sources pointed at their new snapshots are read by their primary
    /// key, not by a scan of the whole table (a record written alone, one
    /// row, was a hash join over all 2,000 sources: the planner takes
    /// `jsonb_to_recordset` for 100 rows; issue 12). PostgreSQL only
    /// (`MODELWATCH_TEST_POSTGRES_URL`).
    #[tokio::test]
    async fn pointers_read_sources_by_id_not_scanned_on_postgres() {
        use crate::store::batch::tests::{explain, fill_sources, finish, open};

        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(true, dir.path()).await else { return };
        let sources = fill_sources(&store, 2000).await;
        // A snapshot for each of a batch's sources, none pointed at yet.
        let mut pointers = Vec::new();
        for id in &sources[..32] {
            let row = store
                .db()
                .query_one_raw(Statement::from_sql_and_values(
                    DbBackend::Postgres,
                    "INSERT INTO snapshots (source_id, created_at, content_hash, text, meta) \
                     VALUES ($1, now(), 'h', 't', '{}') RETURNING id",
                    [Value::from(id.0)],
                ))
                .await
                .unwrap()
                .unwrap();
            pointers.push((id.0, row.try_get::<i64>("", "id").unwrap()));
        }
        store.db().execute_unprepared("ANALYZE sources").await.unwrap();
        for batch in [&pointers[..1], &pointers[..]] {
            let plan = explain(&store, pointer_statement(DbBackend::Postgres, batch)).await;
            assert!(!plan.contains("Seq Scan on sources"), "{plan}");
            assert!(plan.contains("sources_pkey"), "{plan}");
        }
        // And the statement points each source at its snapshot, and no other.
        set_pointers(store.db(), &pointers).await.unwrap();
        let rows = store
            .db()
            .query_all_raw(Statement::from_string(
                DbBackend::Postgres,
                "SELECT id, last_snapshot_id FROM sources WHERE last_snapshot_id IS NOT NULL ORDER BY id",
            ))
            .await
            .unwrap();
        let pointed: Vec<(i64, i64)> = rows
            .iter()
            .map(|row| (row.try_get("", "id").unwrap(), row.try_get("", "last_snapshot_id").unwrap()))
            .collect();
        assert_eq!(pointed, pointers);
        finish(store, pg).await;
    }
}
