//! A batch's rows on PostgreSQL in two statements: one before its catalog
//! steps (the sources' new states, their snapshot pointers, the snapshots
//! and raw bodies) and one after them (the changes, with their sequence
//! numbers, and the check rows).
//!
//! In the record writer each statement is a round trip the next one waits
//! for, and on a loaded machine each costs scheduling delays on both sides
//! as well. A batch holding edited pages was BEGIN, the sources' update,
//! the bodies' upsert, the snapshots' insert, the pointers' update, the
//! sequence reservation, the changes' insert, the catalog steps' savepoint
//! and revision read, the steps, the check rows' insert and COMMIT: here
//! the seven row statements and the revision read are two (statement log
//! of an after-edits sweep, issue 12).
//!
//! The new snapshots' ids are taken from their sequence inside the first
//! statement (`nextval`, evaluated once in a `WITH`), so the guarded update
//! of the sources can point each source at its new snapshot in the same
//! statement that inserts it (a table may not be updated twice by one
//! statement). A superseded record still writes nothing: its snapshot and
//! body are inserted only for the sources the guarded update wrote. A
//! sequence number taken for it is lost, as a rolled-back insert's is.
//!
//! Bodies are tens of KB each, copied into the statement's JSON and the
//! driver's buffer while it is sent: the first statement carries at most
//! [`BODIES_PER_STATEMENT`] of them, and the rest follow that many at a
//! time (a cold sweep's batches), their ids already taken.
//!
//! The change sequence is reserved in the last statement, as late as the
//! batch allows: its row lock is held from there to the commit.

use std::collections::{HashMap, HashSet};

use chrono::Utc;
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::StoreError;
use super::entity::checks;
use super::record::{
    CHECK_COLUMNS, CheckRecord, Recorded, SnapshotPointer, SnapshotText, check_values, insert_checks_from,
};
use super::source_update::{COLUMNS, json_recordset, row, to_i32, update_from_v};

/// Raw bodies and texts one statement carries.
const BODIES_PER_STATEMENT: usize = 8;

/// What the first statement wrote.
pub(crate) struct Before {
    /// The sources written (the others' records were superseded).
    pub written: HashSet<i64>,
    /// Each written source's new snapshot.
    pub snapshot_ids: HashMap<i64, i64>,
    /// The catalog's revision, read in the same statement (`None` when no
    /// source was written).
    pub revision: Option<i64>,
}

/// Writes the sources' new states (guarded), their pointers, snapshots and
/// raw bodies, and the metric points of `records` (each of another source)
/// on `txn` (a PostgreSQL transaction).
pub(crate) async fn write_before<C: ConnectionTrait>(txn: &C, records: &[&CheckRecord]) -> Result<Before, StoreError> {
    let with_snapshot: Vec<&CheckRecord> = records.iter().copied().filter(|r| r.snapshot.is_some()).collect();
    let (first, rest) = with_snapshot.split_at(with_snapshot.len().min(BODIES_PER_STATEMENT));
    let mut before = Before { written: HashSet::new(), snapshot_ids: HashMap::new(), revision: None };
    for row in txn.query_all_raw(first_statement(records, &with_snapshot, first)).await? {
        let source: i64 = row.try_get("", "id")?;
        before.written.insert(source);
        if let Some(snapshot) = row.try_get::<Option<i64>>("", "snapshot_id")? {
            before.snapshot_ids.insert(source, snapshot);
        }
        before.revision = Some(row.try_get::<Option<i64>>("", "revision")?.unwrap_or(0));
    }
    let rest: Vec<(&CheckRecord, i64)> =
        rest.iter().filter_map(|r| Some((*r, *before.snapshot_ids.get(&r.source_id.0)?))).collect();
    for chunk in rest.chunks(BODIES_PER_STATEMENT) {
        txn.execute_raw(bodies_statement(chunk)).await?;
    }
    for r in records.iter().filter(|r| !r.metrics.is_empty() && before.written.contains(&r.source_id.0)) {
        super::metrics::insert_metrics(txn, r.source_id, r.started_at, &r.metrics).await?;
    }
    Ok(before)
}

/// The columns of a new snapshot's row and its raw body (bytes in hex:
/// JSON has none), keyed by source.
const BODY_COLUMNS: [(&str, &str); 12] = [
    ("source_id", "bigint"),
    ("snapshot_id", "bigint"),
    ("created_at", "timestamptz"),
    ("content_hash", "text"),
    ("text", "text"),
    ("text_zstd", "text"),
    ("meta", "text"),
    ("raw_hash", "text"),
    ("http_status", "integer"),
    ("final_url", "text"),
    ("raw", "text"),
    ("raw_size", "bigint"),
];

fn body_row(r: &CheckRecord, snapshot_id: Option<i64>) -> [Value; 12] {
    let snap = r.snapshot.as_ref();
    let raw = snap.and_then(|s| s.raw.as_ref());
    // The text in the form it came: the runner compresses texts only for
    // SQLite ([`super::Store::compresses_texts`]); PostgreSQL compresses
    // plain ones itself (lz4).
    let (text, text_zstd) = match snap.map(|s| &s.text) {
        Some(SnapshotText::Plain(text)) => (Some(text.clone()), None),
        Some(SnapshotText::Zstd(zstd)) => (Some(String::new()), Some(hex::encode(zstd))),
        None => (None, None),
    };
    [
        r.source_id.0.into(),
        snapshot_id.into(),
        r.started_at.into(),
        snap.map(|s| s.content_hash.clone()).into(),
        text.into(),
        text_zstd.into(),
        snap.map(|s| s.meta.to_string()).into(),
        raw.map(|b| b.hash.clone()).into(),
        snap.and_then(|s| s.http_status).map(i32::from).into(),
        snap.and_then(|s| s.final_url.clone()).into(),
        raw.map(|b| hex::encode(&b.zstd)).into(),
        raw.map(|b| i64::try_from(b.size).unwrap_or(i64::MAX)).into(),
    ]
}

/// The inserts of the snapshots and bodies in `b`: in the first
/// statement, of the sources the guarded update `u` wrote, each snapshot
/// with the id `n` took for it; after it, all of them with their ids. A
/// body twice in the statement is one row (PostgreSQL refuses to upsert a
/// row twice in one statement); a body seen before (by any source) is
/// touched instead: the touch locks its row and makes it young, so a
/// concurrent prune (which deletes only old blobs) cannot delete the body
/// a snapshot here refers to.
fn insert_bodies(first: bool) -> String {
    let (id, from, written) = if first {
        ("n.snapshot_id", "b JOIN n ON n.source_id = b.source_id", "b.source_id IN (SELECT id FROM u) AND ")
    } else {
        ("b.snapshot_id", "b", "")
    };
    format!(
        "si AS (INSERT INTO snapshots (id, source_id, created_at, content_hash, text, text_zstd, meta, raw_hash, \
         http_status, final_url) SELECT {id}, b.source_id, b.created_at, b.content_hash, b.text, \
         decode(b.text_zstd, 'hex'), b.meta, b.raw_hash, b.http_status, b.final_url FROM {from} WHERE {written}true), \
         bi AS (INSERT INTO blobs (hash, data, size, created_at) SELECT DISTINCT ON (b.raw_hash) b.raw_hash, \
         decode(b.raw, 'hex'), b.raw_size, b.created_at FROM b WHERE {written}b.raw_hash IS NOT NULL \
         ORDER BY b.raw_hash ON CONFLICT (hash) DO UPDATE SET created_at = excluded.created_at)"
    )
}

/// The first statement: every record's new state, the new snapshots' ids
/// (all of them) and the pointers to them, the bodies of `first`, and the
/// catalog's revision.
fn first_statement(records: &[&CheckRecord], with_snapshot: &[&CheckRecord], first: &[&CheckRecord]) -> Statement {
    let states: Vec<_> = records.iter().map(|r| r.new_source_state(r.pointer.decided())).collect();
    let (j, states) = json_recordset("j", 1, &COLUMNS, states.iter().map(row));
    const NEW: [(&str, &str); 2] = [("source_id", "bigint"), ("point", "boolean")];
    let new = with_snapshot.iter().map(|r| [r.source_id.0.into(), (r.pointer == SnapshotPointer::New).into()]);
    let (p, new) = json_recordset("p", 2, &NEW, new);
    let (b, bodies) = json_recordset("b", 3, &BODY_COLUMNS, first.iter().map(|r| body_row(r, None)));
    // `v` is `j` with each pointer to a new snapshot filled in.
    let v_columns: Vec<String> = COLUMNS
        .iter()
        .map(|(name, _)| {
            if *name == "pointer" {
                "CASE WHEN n.point THEN n.snapshot_id ELSE j.pointer END AS pointer".to_owned()
            } else {
                format!("j.{name}")
            }
        })
        .collect();
    let sql = format!(
        "WITH {j}, {p}, {b}, \
         n AS (SELECT source_id, point, nextval(pg_get_serial_sequence('snapshots', 'id')) AS snapshot_id FROM p), \
         v AS (SELECT {} FROM j LEFT JOIN n ON n.source_id = j.source_id), \
         u AS ({}), {} \
         SELECT u.id, n.snapshot_id, (SELECT revision FROM catalog_revision WHERE id = 1) AS revision \
         FROM u LEFT JOIN n ON n.source_id = u.id",
        v_columns.join(", "),
        update_from_v(DbBackend::Postgres),
        insert_bodies(true),
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [states, new, bodies])
}

/// The snapshots and bodies of records whose sources were written, with
/// the ids the first statement took for them.
fn bodies_statement(records: &[(&CheckRecord, i64)]) -> Statement {
    let (b, bodies) = json_recordset("b", 1, &BODY_COLUMNS, records.iter().map(|(r, id)| body_row(r, Some(*id))));
    let sql = format!("WITH {b}, {} SELECT 1", insert_bodies(false));
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [bodies])
}

/// The columns of a change row, numbered in the batch (`ord`, from 1).
const CHANGE_COLUMNS: [(&str, &str); 14] = [
    ("ord", "bigint"),
    ("source_id", "bigint"),
    ("detected_at", "timestamptz"),
    ("kind", "text"),
    ("from_snapshot_id", "bigint"),
    ("to_snapshot_id", "bigint"),
    ("summary", "text"),
    ("added", "integer"),
    ("removed", "integer"),
    ("modified", "integer"),
    ("ratio", "double precision"),
    ("catalog_hits", "integer"),
    ("excerpt", "text"),
    ("details", "text"),
];

/// Inserts the changes of `records` (written, with their new snapshots in
/// `snapshot_ids`), numbered in record order from one reservation of the
/// sequence, and the check rows `checks`, in one statement; returns each
/// source's change ids in order.
pub(crate) async fn write_after<C: ConnectionTrait>(
    txn: &C,
    records: &[&CheckRecord],
    snapshot_ids: &HashMap<i64, i64>,
    checks: &[checks::ActiveModel],
) -> Result<HashMap<i64, Vec<i64>>, StoreError> {
    // A change is dated when it is written, not when its check started: a
    // digest reads its period up to shortly before it runs, and a slow check
    // must not land in a period that was already sent.
    let written_at = Utc::now();
    let mut rows = Vec::new();
    let mut by_ord = HashMap::new();
    for r in records {
        let to = r.pointer.target(snapshot_ids.get(&r.source_id.0).copied());
        for c in &r.changes {
            let ord = i64::try_from(rows.len() + 1).unwrap_or(i64::MAX);
            by_ord.insert(ord, r.source_id.0);
            rows.push([
                ord.into(),
                r.source_id.0.into(),
                written_at.max(r.started_at).into(),
                c.kind.as_str().into(),
                c.from_snapshot_id.into(),
                to.into(),
                c.summary.clone().into(),
                to_i32(c.stats.added).into(),
                to_i32(c.stats.removed).into(),
                to_i32(c.stats.modified).into(),
                c.stats.ratio.into(),
                to_i32(c.catalog_hits).into(),
                c.excerpt.clone().into(),
                c.details.to_string().into(),
            ]);
        }
    }
    if rows.is_empty() && checks.is_empty() {
        return Ok(HashMap::new());
    }
    let total = i64::try_from(rows.len()).unwrap_or(i64::MAX);
    let mut ids: Vec<(i64, i64)> = Vec::with_capacity(rows.len());
    for row in txn.query_all_raw(after_statement(rows.into_iter(), total, checks)).await? {
        ids.push((row.try_get::<i64>("", "seq")?, row.try_get::<i64>("", "id")?));
    }
    if ids.len() != by_ord.len() {
        return Err(StoreError::Corrupt("the change_seq counter row is missing (migration not run?)".to_owned()));
    }
    // In sequence order, so each source's ids come in its changes' order.
    ids.sort_unstable();
    let first = ids.first().map_or(0, |(seq, _)| *seq);
    let mut out: HashMap<i64, Vec<i64>> = HashMap::new();
    for (seq, id) in ids {
        if let Some(source) = by_ord.get(&(seq - first + 1)) {
            out.entry(*source).or_default().push(id);
        }
    }
    Ok(out)
}

/// `$3` changes numbered from the counter's value before this statement
/// (which takes the counter's row lock only when there are changes).
fn after_statement(
    changes: impl ExactSizeIterator<Item = [Value; 14]>,
    total: i64,
    checks: &[checks::ActiveModel],
) -> Statement {
    let (c, checks) = json_recordset("c", 1, &CHECK_COLUMNS, check_values(checks));
    let (ch, changes) = json_recordset("ch", 2, &CHANGE_COLUMNS, changes);
    let names: Vec<&str> = CHANGE_COLUMNS[1..].iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let sql = format!(
        "WITH {c}, {ch}, \
         q AS (UPDATE change_seq SET value = value + $3::bigint WHERE id = 1 AND $3::bigint > 0 RETURNING value), \
         ic AS (INSERT INTO changes ({names}, seq) SELECT {names}, q.value - $3::bigint + ch.ord FROM ch CROSS JOIN q \
         RETURNING id, seq), \
         i AS ({}) \
         SELECT id, seq FROM ic",
        insert_checks_from("c", None),
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [checks, changes, Value::from(total)])
}

/// What each record recorded, in order, once both statements are written.
pub(crate) fn recorded(records: &[&CheckRecord], before: &Before) -> Vec<Recorded> {
    records
        .iter()
        .map(|r| Recorded {
            snapshot_id: before.snapshot_ids.get(&r.source_id.0).copied(),
            change_ids: Vec::new(),
            catalog: None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One text for any batch: the rows ride in JSON parameters.
    #[test]
    fn one_text_for_any_batch() {
        let first = first_statement(&[], &[], &[]).sql;
        assert!(first.contains("nextval(pg_get_serial_sequence('snapshots', 'id'))"), "{first}");
        assert!(first.contains("CASE WHEN n.point THEN n.snapshot_id ELSE j.pointer END AS pointer"), "{first}");
        assert!(
            first.contains(
                "FROM b JOIN n ON n.source_id = b.source_id WHERE b.source_id IN (SELECT id FROM u) AND true)"
            ),
            "{first}"
        );
        assert!(
            first.contains("FROM b WHERE b.source_id IN (SELECT id FROM u) AND b.raw_hash IS NOT NULL ORDER BY"),
            "{first}"
        );
        let bodies = bodies_statement(&[]).sql;
        assert!(bodies.contains("SELECT b.snapshot_id, b.source_id,"), "{bodies}");
        assert!(bodies.contains("FROM b WHERE b.raw_hash IS NOT NULL ORDER BY"), "{bodies}");
        let after = after_statement(std::iter::empty::<[Value; 14]>().collect::<Vec<_>>().into_iter(), 0, &[]);
        assert!(after.sql.contains("WHERE id = 1 AND $3::bigint > 0"), "{}", after.sql);
        assert_eq!(after.values.map(|v| v.0.len()), Some(3));
    }
}
