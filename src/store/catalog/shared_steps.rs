//! The catalog steps of a batch's new snapshots, written together: a few
//! statements for all of them, not a few per step.
//!
//! Most steps of a sweep only mention known entities and propose values
//! for them (no new version, no candidate name, no structured fact). Alone,
//! such a step was five round trips, one after the other in the record
//! writer (its mentions read and upsert, the lookup of the values it
//! proposes, their insert, their evidence): of the ~1,200 statements of
//! the 25 batches of an after-edits sweep of 2,000 pages, ~1,000 were
//! these (statement log, issue 12). Here a run of such steps is one
//! statement for all their mentions (the read of what each source
//! mentioned before rides in the upsert's statement: both see the table as
//! it was before it) and two or three for all their proposals.
//!
//! The outcome of each step is what writing the steps one after the other
//! gives: a value proposed by two steps of the run is a new fact for the
//! first and a corroboration for the second. The caller writes a run in
//! the batch's shared savepoint, and if anything fails there every step is
//! written again alone in a savepoint of its own ([`crate::store::batch`]),
//! so a failing step still rolls back alone.
//!
//! SQLite shares them too, among the steps of a savepoint
//! ([`crate::store::batch_catalog::SQLITE_STEPS_PER_SAVEPOINT`]): its
//! statements are calls into the process, not round trips, but each still
//! goes through sea-orm, sqlx and the connection's worker thread. There the
//! read of what the sources mentioned before is a statement of its own
//! (SQLite has no `INSERT` inside a `WITH`). The rows are bound as
//! [`crate::store::source_update::values_cte`] says, a few statement texts
//! for any run: shared steps whose `VALUES` lists had a text for each row
//! count cost more than the steps alone, each longer list a statement
//! prepared anew (callgrind, 300-page cold sweep: `sqlite3_prepare_v3`
//! 108 → 282 M instructions).

use std::collections::{HashMap, HashSet};

use sea_orm::{ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};

use super::analysis_rows::{FactKey, fact_ids, insert_facts};
use super::load::fact_row;
use super::{CatalogRecord, CatalogStoreError, Ids, RecordedAnalysis, stored_key};
use crate::catalog::{EntityRef, FactStatus};
use crate::store::source_update::{SQLITE_ROWS_PER_STATEMENT, json_recordset, rows_per_statement, sqlite_values};

/// Whether the step only mentions known entities and proposes values:
/// nothing it writes depends on another step's writes but a proposed
/// value's row, which [`write_shared_steps`] keeps in order.
pub(crate) fn is_shared(r: &CatalogRecord<'_>) -> bool {
    r.analysis.new_versions.is_empty() && r.analysis.candidates.is_empty() && r.structured.is_empty()
}

/// Writes `steps` (each [`is_shared`], each of another source) on `txn`:
/// what each recorded, in order, as if each had been written alone one
/// after the other.
pub(crate) async fn write_shared_steps(
    txn: &DatabaseTransaction,
    ids: &Ids,
    steps: &[CatalogRecord<'_>],
) -> Result<Vec<RecordedAnalysis>, CatalogStoreError> {
    debug_assert!(steps.iter().all(is_shared));
    let mut out = vec![RecordedAnalysis::default(); steps.len()];
    let first = mentions(txn, ids, steps).await?;
    for (step, new) in out.iter_mut().zip(first) {
        step.new_mentions = new;
    }
    proposals(txn, ids, steps, &mut out).await?;
    Ok(out)
}

/// The columns of a mention row, each step's source, snapshot and time
/// with it, with their PostgreSQL types.
const MENTION_COLUMNS: [(&str, &str); 6] = [
    ("entity_kind", "text"),
    ("entity_id", "bigint"),
    ("last_count", "integer"),
    ("source_id", "bigint"),
    ("snapshot_id", "bigint"),
    ("seen_at", "timestamptz"),
];

/// Upserts every step's mentions in one statement; returns, per step, the
/// entities its source mentions for the first time (in the order its
/// analysis names them), as [`super::analysis_rows::record_mentions`].
async fn mentions(
    txn: &DatabaseTransaction,
    ids: &Ids,
    steps: &[CatalogRecord<'_>],
) -> Result<Vec<Vec<EntityRef>>, CatalogStoreError> {
    let mut per_step: Vec<Vec<(&EntityRef, i64)>> = Vec::with_capacity(steps.len());
    // (step, [kind, entity, count]) of every mention naming a known entity.
    let mut rows: Vec<(usize, [Value; 3])> = Vec::new();
    for (n, r) in steps.iter().enumerate() {
        let mut seen = HashSet::new();
        let mut named = Vec::new();
        for m in &r.analysis.mentions {
            let Some(id) = ids.get(&m.entity) else { continue };
            if !seen.insert((m.entity.kind, id)) {
                continue;
            }
            named.push((&m.entity, id));
            rows.push((
                n,
                [
                    Value::from(m.entity.kind.as_str()),
                    Value::from(id),
                    Value::from(i32::try_from(m.count).unwrap_or(i32::MAX)),
                ],
            ));
        }
        per_step.push(named);
    }
    if rows.is_empty() {
        return Ok(per_step.iter().map(|_| Vec::new()).collect());
    }
    let mut before: HashSet<(i64, String, i64)> = HashSet::new();
    let mut remember = |rows: Vec<sea_orm::QueryResult>| -> Result<(), sea_orm::DbErr> {
        for row in rows {
            before.insert((
                row.try_get("", "source_id")?,
                row.try_get("", "entity_kind")?,
                row.try_get("", "entity_id")?,
            ));
        }
        Ok(())
    };
    if txn.get_database_backend() == DbBackend::Postgres {
        let rows: Vec<[Value; 6]> = rows
            .into_iter()
            .map(|(n, [kind, id, count])| {
                let r = &steps[n];
                [kind, id, count, Value::from(r.source.0), Value::from(r.snapshot_id), Value::from(r.at)]
            })
            .collect();
        remember(txn.query_all_raw(mentions_statement(rows.into_iter())).await?)?;
    } else {
        // What the sources mentioned before, then the upsert: read by the
        // index led by the source, a few dozen rows a source.
        let sources: Vec<i64> = steps.iter().map(|r| r.source.0).collect();
        remember(txn.query_all_raw(sqlite_mentioned_before(&sources)).await?)?;
        for chunk in sqlite_chunks(rows) {
            txn.execute_raw(sqlite_mentions_statement(steps, chunk)).await?;
        }
    }
    Ok(steps
        .iter()
        .zip(per_step)
        .map(|(r, named)| {
            named
                .into_iter()
                .filter(|(e, id)| !before.contains(&(r.source.0, e.kind.as_str().to_owned(), *id)))
                .map(|(e, _)| e.clone())
                .collect()
        })
        .collect())
}

/// The upsert of mention rows, selecting what the rows' sources mentioned
/// before it: every part of one statement sees the tables as they were
/// when it began, so the `SELECT` does not see the upsert's rows. Each
/// source's earlier mentions are read by the index led by the source
/// (`OFFSET 0` keeps the planner from turning the lookups into a scan of
/// every mention).
fn mentions_statement(rows: impl ExactSizeIterator<Item = [Value; 6]>) -> Statement {
    let (v, value) = json_recordset("v", 1, &MENTION_COLUMNS, rows);
    let sql = format!(
        "WITH {v}, \
         up AS (INSERT INTO catalog_mentions (entity_kind, entity_id, source_id, first_snapshot_id, \
         last_snapshot_id, first_seen_at, last_seen_at, snapshot_count, last_count) \
         SELECT entity_kind, entity_id, source_id, snapshot_id, snapshot_id, seen_at, seen_at, 1, last_count FROM v \
         ON CONFLICT (source_id, entity_kind, entity_id) DO UPDATE SET \
         last_snapshot_id = excluded.last_snapshot_id, last_seen_at = excluded.last_seen_at, \
         last_count = excluded.last_count, snapshot_count = catalog_mentions.snapshot_count + 1) \
         SELECT s.source_id, m.entity_kind, m.entity_id FROM (SELECT DISTINCT source_id FROM v) s \
         CROSS JOIN LATERAL (SELECT entity_kind, entity_id FROM catalog_mentions m \
         WHERE m.source_id = s.source_id OFFSET 0) m"
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [value])
}

/// What the sources of a run mentioned before it (SQLite).
fn sqlite_mentioned_before(sources: &[i64]) -> Statement {
    let (list, values) = sqlite_values(1, sources.iter().map(|s| [Value::from(*s)]));
    Statement::from_sql_and_values(
        DbBackend::Sqlite,
        format!("SELECT source_id, entity_kind, entity_id FROM catalog_mentions WHERE source_id IN ({list})"),
        values,
    )
}

/// SQLite: `s (n, source_id, snapshot_id, at) AS (…)`, the source,
/// snapshot and time of each of `steps` by its index `n`, bound once a
/// step: the rows of the step name it by `n`. (Bound with each row, the
/// time alone was formatted and copied once per mention and proposal.)
fn sqlite_steps_table(steps: &[CatalogRecord<'_>]) -> (String, Vec<Value>) {
    let rows = steps.iter().enumerate().map(|(n, r)| {
        [
            Value::from(i64::try_from(n).unwrap_or(i64::MAX)),
            Value::from(r.source.0),
            Value::from(r.snapshot_id),
            Value::from(r.at),
        ]
    });
    let (list, values) = sqlite_values(4, rows);
    (format!("s (n, source_id, snapshot_id, at) AS (SELECT * FROM ({list}) WHERE column1 IS NOT NULL)"), values)
}

/// `rows` in statements of [`SQLITE_ROWS_PER_STATEMENT`] at most, in order.
fn sqlite_chunks<T>(rows: Vec<T>) -> Vec<Vec<T>> {
    let mut chunks = Vec::with_capacity(rows.len().div_ceil(SQLITE_ROWS_PER_STATEMENT));
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        chunks.push(rows.by_ref().take(SQLITE_ROWS_PER_STATEMENT).collect());
    }
    chunks
}

/// `v (columns…, n) AS (…)` of `rows`, each with the index of its step
/// appended (SQLite).
fn sqlite_step_rows<const N: usize>(columns: &[&str; N], rows: Vec<(usize, [Value; N])>) -> (String, Vec<Value>) {
    let rows =
        rows.into_iter().map(|(n, row)| row.into_iter().chain([Value::from(i64::try_from(n).unwrap_or(i64::MAX))]));
    let (list, values) = sqlite_values(N + 1, rows);
    (format!("v ({}, n) AS (SELECT * FROM ({list}) WHERE column1 IS NOT NULL)", columns.join(", ")), values)
}

/// The upsert of mention rows of several sources (SQLite), as
/// [`super::analysis_rows`] writes one source's.
fn sqlite_mentions_statement(steps: &[CatalogRecord<'_>], rows: Vec<(usize, [Value; 3])>) -> Statement {
    let (s, mut values) = sqlite_steps_table(steps);
    let (v, rows) = sqlite_step_rows(&["entity_kind", "entity_id", "last_count"], rows);
    values.extend(rows);
    // SQLite reads `ON` after `FROM v` as a join's unless a WHERE ends the
    // SELECT. The rows drive the join, in step order (their ids).
    let sql = format!(
        "WITH {s}, {v} INSERT INTO catalog_mentions (entity_kind, entity_id, source_id, first_snapshot_id, \
         last_snapshot_id, first_seen_at, last_seen_at, snapshot_count, last_count) \
         SELECT v.entity_kind, v.entity_id, s.source_id, s.snapshot_id, s.snapshot_id, s.at, s.at, 1, v.last_count \
         FROM v CROSS JOIN s ON s.n = v.n WHERE true \
         ON CONFLICT (source_id, entity_kind, entity_id) DO UPDATE SET \
         last_snapshot_id = excluded.last_snapshot_id, last_seen_at = excluded.last_seen_at, \
         last_count = excluded.last_count, snapshot_count = catalog_mentions.snapshot_count + 1"
    );
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

/// Stores every step's proposals, as
/// [`super::analysis_rows::record_proposals`] does one step's: one lookup
/// of the values held, one insert of the new ones, one insert of all the
/// evidence. A value new to the catalog is a new fact of the first step
/// that proposes it; every other proposal of it corroborates.
async fn proposals(
    txn: &DatabaseTransaction,
    ids: &Ids,
    steps: &[CatalogRecord<'_>],
    out: &mut [RecordedAnalysis],
) -> Result<(), CatalogStoreError> {
    // (step, proposal, entity id, key) of every proposal naming a known entity.
    let mut proposed = Vec::new();
    for (n, r) in steps.iter().enumerate() {
        for f in &r.analysis.proposed_facts {
            let Some(id) = ids.get(&f.entity) else { continue };
            let key: FactKey =
                (f.entity.kind.as_str().to_owned(), id, f.attribute.as_str().to_owned(), stored_key(&f.value));
            proposed.push((n, f, id, key));
        }
    }
    if proposed.is_empty() {
        return Ok(());
    }
    let mut unique = HashSet::new();
    let keys: Vec<FactKey> = proposed.iter().map(|p| &p.3).filter(|k| unique.insert(*k)).cloned().collect();
    let mut held = fact_ids(txn, &keys).await?;
    let mut new_rows = Vec::new();
    // The step each new value is first proposed by, by key, in order.
    let mut new_keys: Vec<(usize, FactKey)> = Vec::new();
    let mut seen = HashSet::new();
    for (n, f, id, k) in &proposed {
        if !held.contains_key(k) && seen.insert(k) {
            new_keys.push((*n, k.clone()));
            let at = steps[*n].at;
            new_rows.push(fact_row(&f.entity, *id, f.attribute, &f.value, &f.raw, None, FactStatus::Proposed, at));
        }
    }
    let mut inserted = HashMap::with_capacity(new_rows.len());
    // One statement on PostgreSQL; on SQLite a few rows at a time.
    for chunk in new_rows.chunks(rows_per_statement(txn.get_database_backend(), new_rows.len())) {
        inserted.extend(insert_facts(txn, chunk).await?);
    }
    // Stored meanwhile by another transaction: its insert here did nothing.
    let raced: Vec<FactKey> =
        new_keys.iter().filter(|(_, k)| !inserted.contains_key(k)).map(|(_, k)| k.clone()).collect();
    if !raced.is_empty() {
        inserted.extend(fact_ids(txn, &raced).await?);
    }
    for (n, k) in &new_keys {
        if let Some(id) = inserted.get(k) {
            out[*n].new_facts.push(*id);
        }
    }
    held.extend(inserted);
    let mut evidence = Vec::with_capacity(proposed.len());
    let mut per_step = vec![0usize; steps.len()];
    for (n, f, _, k) in &proposed {
        let fact_id = *held
            .get(k)
            .ok_or_else(|| CatalogStoreError::corrupt(format!("fact {k:?} was stored but cannot be found")))?;
        evidence.push((
            *n,
            [
                Value::from(fact_id),
                Value::from(f.sentence.as_str()),
                Value::from(f.extractor.as_str()),
                Value::from(f64::from(f.confidence)),
            ],
        ));
        per_step[*n] += 1;
    }
    if txn.get_database_backend() == DbBackend::Postgres {
        let rows: Vec<[Value; 7]> = evidence
            .into_iter()
            .map(|(n, [fact, quote, extractor, confidence])| {
                let r = &steps[n];
                [
                    fact,
                    quote,
                    extractor,
                    confidence,
                    Value::from(r.source.0),
                    Value::from(r.snapshot_id),
                    Value::from(r.at),
                ]
            })
            .collect();
        txn.execute_raw(evidence_statement(rows.into_iter())).await?;
    } else {
        for chunk in sqlite_chunks(evidence) {
            txn.execute_raw(sqlite_evidence_statement(steps, chunk)).await?;
        }
    }
    for (step, count) in out.iter_mut().zip(per_step) {
        step.corroborations += u32::try_from(count - step.new_facts.len()).unwrap_or(u32::MAX);
    }
    Ok(())
}

/// The columns of an evidence row, each step's source, snapshot and time
/// with it.
const EVIDENCE_COLUMNS: [(&str, &str); 7] = [
    ("fact_id", "bigint"),
    ("quote", "text"),
    ("extractor", "text"),
    ("confidence", "double precision"),
    ("source_id", "bigint"),
    ("snapshot_id", "bigint"),
    ("observed_at", "timestamptz"),
];

/// The evidence rows of several snapshots (SQLite), in step order.
fn sqlite_evidence_statement(steps: &[CatalogRecord<'_>], rows: Vec<(usize, [Value; 4])>) -> Statement {
    let (s, mut values) = sqlite_steps_table(steps);
    let (v, rows) = sqlite_step_rows(&["fact_id", "quote", "extractor", "confidence"], rows);
    values.extend(rows);
    let sql = format!(
        "WITH {s}, {v} INSERT INTO catalog_fact_evidence (fact_id, source_id, snapshot_id, quote, extractor, \
         confidence, observed_at) SELECT v.fact_id, s.source_id, s.snapshot_id, v.quote, v.extractor, v.confidence, \
         s.at FROM v CROSS JOIN s ON s.n = v.n"
    );
    Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)
}

fn evidence_statement(rows: impl ExactSizeIterator<Item = [Value; 7]>) -> Statement {
    let (v, value) = json_recordset("v", 1, &EVIDENCE_COLUMNS, rows);
    let sql = format!(
        "WITH {v} INSERT INTO catalog_fact_evidence (fact_id, source_id, snapshot_id, quote, extractor, confidence, \
         observed_at) SELECT fact_id, source_id, snapshot_id, quote, extractor, confidence, observed_at FROM v"
    );
    Statement::from_sql_and_values(DbBackend::Postgres, sql, [value])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One statement text for any number of steps and rows.
    #[test]
    fn one_text_for_any_run() {
        let row = |n: i64| {
            [
                Value::from("model"),
                Value::from(n),
                Value::from(1),
                Value::from(n),
                Value::from(n),
                Value::from(chrono::Utc::now()),
            ]
        };
        let one = mentions_statement(vec![row(1)].into_iter());
        let three = mentions_statement(vec![row(1), row(2), row(3)].into_iter());
        assert_eq!(one.sql, three.sql);
        assert_eq!(three.values.map(|v| v.0.len()), Some(1));
        assert!(one.sql.contains("OFFSET 0"), "{}", one.sql);
        let ev = |n: usize| {
            let rows = (0..n).map(|n| {
                let n = n as i64;
                [
                    Value::from(n),
                    Value::from("q"),
                    Value::from("rule"),
                    Value::from(0.5),
                    Value::from(n),
                    Value::from(n),
                    Value::from(chrono::Utc::now()),
                ]
            });
            evidence_statement(rows.collect::<Vec<_>>().into_iter())
        };
        assert_eq!(ev(1).sql, ev(5).sql);
    }
}
