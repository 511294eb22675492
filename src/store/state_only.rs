//! Records that write only their source's new state and their check row,
//! in one PostgreSQL statement.
//!
//! Most records of a sweep are such: an unchanged page (a 304, or a body
//! whose text did not change), a failed fetch whose status stays, a page
//! whose noise alone moved. In a transaction of its own, a batch of them
//! was five round trips, one after the other in the record writer (BEGIN,
//! `SET LOCAL synchronous_commit`, the sources' update, the checks' insert,
//! COMMIT), and the commit waited for the server's WAL flush. Here it is
//! one statement, in the implicit transaction the server gives it:
//!
//! ```sql
//! WITH v AS (…the new states…),
//!      u AS (UPDATE sources … FROM v WHERE … guard … RETURNING id, set_config(…)),
//!      c AS (…the check rows…),
//!      i AS (INSERT INTO checks … SELECT … FROM c WHERE source_id IN (SELECT id FROM u))
//! SELECT id FROM u
//! ```
//!
//! Each record stays atomic: its source's row and its check row are
//! written by one statement, so both or neither. A superseded record (its
//! source's current snapshot is no longer the one its check started from)
//! writes nothing: the guard keeps its source's row out of `u`, and its
//! check row is inserted only if its source is in `u`. The statement
//! commits without waiting for the WAL flush (`set_config(…, true)` is
//! `SET LOCAL`, and the statement's transaction is its own), the durability
//! of every record transaction (see [`super::SYNC_COMMIT_OFF`]).
//!
//! SQLite has no data-modifying `WITH`: it writes these records in the
//! batch's transaction, where BEGIN and COMMIT are no network round trip.

use std::collections::HashSet;

use sea_orm::{ConnectionTrait, DbBackend, Statement};

use super::StoreError;
use super::entity::checks;
use super::record::{CHECK_COLUMNS, CheckRecord, SnapshotPointer, check_values, insert_checks_from};
use super::source_update::{COLUMNS, NewSourceState, json_recordset, row, update_from_v};

/// The most records one statement takes: its two JSON parameters grow
/// with it. A record writer's batch (at most `fetch.concurrency`, capped at
/// 64) is far below.
pub(crate) const MAX_RECORDS: usize = 500;

impl CheckRecord {
    /// Whether the record writes nothing but its source's new state and its
    /// check row: no snapshot, change, metric point or catalog step (a
    /// pointer moved back to an older snapshot is part of the state).
    pub(crate) fn is_state_only(&self) -> bool {
        self.snapshot.is_none()
            && self.pointer != SnapshotPointer::New
            && self.changes.is_empty()
            && self.metrics.is_empty()
            && self.catalog.is_none()
    }
}

/// Writes `records` (at most [`MAX_RECORDS`], each
/// [`CheckRecord::is_state_only`], each of another source) on PostgreSQL in
/// one statement, its own transaction: all of them or, on an error, none.
/// Returns the ids of the sources written (a record whose source is
/// missing was superseded and wrote nothing).
pub(crate) async fn write_state_only<C: ConnectionTrait>(
    db: &C,
    records: &[&CheckRecord],
) -> Result<HashSet<i64>, StoreError> {
    debug_assert!(records.len() <= MAX_RECORDS);
    let mut written = HashSet::with_capacity(records.len());
    for row in db.query_all_raw(statement(records)).await? {
        written.insert(row.try_get::<i64>("", "id")?);
    }
    Ok(written)
}

/// The one statement of `records`.
fn statement(records: &[&CheckRecord]) -> Statement {
    let states: Vec<NewSourceState<'_>> = records.iter().map(|r| r.new_source_state(r.pointer.decided())).collect();
    let checks: Vec<checks::ActiveModel> = records.iter().map(|r| super::record::check_row(r, None)).collect();
    let (v, states) = json_recordset("v", 1, &COLUMNS, states.iter().map(row));
    let (c, checks) = json_recordset("c", 2, &CHECK_COLUMNS, check_values(&checks));
    let sql = format!(
        "WITH {v}, u AS ({}), {c}, i AS ({}) SELECT id FROM u",
        update_from_v(DbBackend::Postgres),
        insert_checks_from("c", Some("u")),
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [states, checks])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One text whatever the number of records (parsed once per
    /// connection), the guard and the setting in it.
    #[test]
    fn one_statement_text_for_any_batch() {
        let sql = statement(&[]).sql;
        assert!(
            sql.starts_with("WITH v AS (SELECT * FROM jsonb_to_recordset($1::jsonb) AS v(source_id bigint, "),
            "{sql}"
        );
        assert!(sql.contains("u AS (UPDATE sources SET "), "{sql}");
        assert!(sql.contains("AND (sources.last_snapshot_id = v.expected"), "{sql}");
        assert!(sql.contains("RETURNING id, set_config('synchronous_commit', 'off', true))"), "{sql}");
        assert!(
            sql.ends_with(
                "i AS (INSERT INTO checks (source_id, started_at, duration_ms, outcome, http_status, error_kind, \
                 message, bytes, snapshot_id) SELECT source_id, started_at, duration_ms, outcome, http_status, \
                 error_kind, message, bytes, snapshot_id FROM c WHERE source_id IN (SELECT id FROM u)) SELECT id FROM u"
            ),
            "{sql}"
        );
    }

    /// The sources written are read by their primary key, not by a scan of
    /// the whole table: the planner takes `jsonb_to_recordset` for 100 rows,
    /// and with a table of 2,000 sources a hash join over all of them
    /// looked cheaper than 100 lookups (issue 12). PostgreSQL only
    /// (`MODELWATCH_TEST_POSTGRES_URL`).
    #[tokio::test]
    async fn sources_are_read_by_id_not_scanned_on_postgres() {
        use crate::store::batch::tests::{edited, explain, fill_sources, finish, open};

        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(true, dir.path()).await else { return };
        // The bench's 2,000 pages; a few hundred rows are a few pages, which
        // the planner rightly scans.
        let sources = fill_sources(&store, 2000).await;
        store.db().execute_unprepared("ANALYZE sources").await.unwrap();
        let records: Vec<CheckRecord> = sources[..32]
            .iter()
            .map(|id| {
                let mut rec = edited(*id, None, "");
                rec.snapshot = None;
                rec.pointer = SnapshotPointer::Keep;
                rec.http_status = Some(304);
                assert!(rec.is_state_only());
                rec
            })
            .collect();
        let stmt = statement(&records.iter().collect::<Vec<_>>());
        let plan = explain(&store, stmt).await;
        assert!(!plan.contains("Seq Scan on sources"), "{plan}");
        assert!(plan.contains("sources_pkey"), "{plan}");
        // And the statement writes them.
        assert_eq!(write_state_only(store.db(), &records.iter().collect::<Vec<_>>()).await.unwrap().len(), 32);
        finish(store, pg).await;
    }
}
