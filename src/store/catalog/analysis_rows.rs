//! The rows an analysis adds for every new snapshot: its mentions, its
//! proposed facts and their evidence, a statement or two each however many
//! the text names.
//!
//! These run for every new page of a sweep, so each statement is written
//! out here rather than built by the query builder, which made each
//! condition, conflict clause and bound value an expression tree, cloned
//! and dropped: callgrind of a cold sweep (release, M instructions per
//! check) put the fact lookup, an OR of a dozen keys, at 0.86 and the
//! mentions' read and upsert at 0.56; written out here, 0.06 and 0.15
//! (issue 12). The rows are a [`values_cte`]: one JSON parameter (one
//! statement text for any number of rows).
//!
//! Concurrent checks analyse at once (PostgreSQL runs them in parallel):
//! every row behind a unique index is written "insert, or on conflict
//! update in place", never "read, then insert if missing", which loses the
//! whole transaction to a unique violation or a count to a lost update.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ConnectionTrait, DatabaseTransaction, DbBackend, Statement, Value};

use super::load::fact_row;
use super::{CatalogStoreError, stored_key};
use crate::catalog::{EntityRef, FactStatus, ProposedFact};
use crate::store::entity::catalog_facts;
use crate::store::source_update::{rows_per_statement, values_cte};
use crate::types::SourceId;

/// How many facts or evidence rows one statement writes or looks up.
const FACTS_PER_STATEMENT: usize = 100;

/// How many mention rows one statement writes.
const MENTIONS_PER_STATEMENT: usize = 200;

/// A fact's identity: (entity kind, entity id, attribute, value key), the
/// unique value index.
pub(super) type FactKey = (String, i64, String, String);

/// The columns of a fact's identity, with their PostgreSQL types.
const KEY_COLUMNS: [(&str, &str); 4] =
    [("entity_kind", "text"), ("entity_id", "bigint"), ("attribute", "text"), ("value_key", "text")];

/// A parameter after a [`values_cte`]'s (the `n`th of those, from 1),
/// numbered: a statement may name it more than once.
fn param(backend: DbBackend, values: &[Value], n: usize, ty: &str) -> String {
    match backend {
        DbBackend::Postgres => format!("${}::{ty}", values.len() + n),
        _ => format!("?{}", values.len() + n),
    }
}

/// The source, snapshot and time a text's rows share, bound after the
/// rows' values: their placeholders, in that order.
fn snapshot_params(
    backend: DbBackend,
    values: &mut Vec<Value>,
    source: SourceId,
    snapshot_id: i64,
    at: DateTime<Utc>,
) -> [String; 3] {
    let names = [
        param(backend, values, 1, "bigint"),
        param(backend, values, 2, "bigint"),
        param(backend, values, 3, "timestamptz"),
    ];
    values.extend([Value::from(source.0), Value::from(snapshot_id), Value::from(at)]);
    names
}

/// Stores what a text proposes: each value is a new proposed fact, or —
/// held already, whatever its status — more evidence for it; every proposal
/// leaves its sentence as evidence. In a few statements whatever the number
/// of figures in the text (a read of which values are held, one insert of
/// the new ones returning their ids, one insert of the evidence), never
/// reading the other values held beside them: a noisy entity can gather
/// thousands. Returns the new facts' ids and the number of corroborations.
///
/// Two checks proposing the same new value at once both insert it "or do
/// nothing" on the unique index, so the row is stored once; the one whose
/// insert did nothing reads its id (and may still count it as new: a log
/// line's figure, nothing stored).
pub(super) async fn record_proposals(
    txn: &DatabaseTransaction,
    proposed: &[(&ProposedFact, i64)],
    source: SourceId,
    snapshot_id: i64,
    at: DateTime<Utc>,
) -> Result<(Vec<i64>, u32), CatalogStoreError> {
    if proposed.is_empty() {
        return Ok((Vec::new(), 0));
    }
    let key = |f: &ProposedFact, id: i64| -> FactKey {
        (f.entity.kind.as_str().to_owned(), id, f.attribute.as_str().to_owned(), stored_key(&f.value))
    };
    let keys: Vec<FactKey> = proposed.iter().map(|(f, id)| key(f, *id)).collect();
    let mut held = fact_ids(txn, &keys).await?;
    let mut new_rows = Vec::new();
    let mut new_keys = Vec::new();
    let mut seen = HashSet::new();
    for ((f, id), k) in proposed.iter().zip(&keys) {
        if !held.contains_key(k) && seen.insert(k) {
            new_keys.push(k.clone());
            new_rows.push(fact_row(&f.entity, *id, f.attribute, &f.value, &f.raw, None, FactStatus::Proposed, at));
        }
    }
    let mut inserted = HashMap::with_capacity(new_rows.len());
    let per_statement = rows_per_statement(txn.get_database_backend(), FACTS_PER_STATEMENT);
    for chunk in new_rows.chunks(per_statement) {
        inserted.extend(insert_facts(txn, chunk).await?);
    }
    // Stored meanwhile by another transaction: its insert here did nothing.
    let raced: Vec<FactKey> = new_keys.iter().filter(|k| !inserted.contains_key(*k)).cloned().collect();
    if !raced.is_empty() {
        inserted.extend(fact_ids(txn, &raced).await?);
    }
    let new_facts: Vec<i64> = new_keys.iter().filter_map(|k| inserted.get(k).copied()).collect();
    held.extend(inserted);
    let mut evidence = Vec::with_capacity(proposed.len());
    for ((f, _), k) in proposed.iter().zip(&keys) {
        let fact_id = *held
            .get(k)
            .ok_or_else(|| CatalogStoreError::corrupt(format!("fact {k:?} was stored but cannot be found")))?;
        evidence.push([
            Value::from(fact_id),
            Value::from(f.sentence.as_str()),
            Value::from(f.extractor.as_str()),
            Value::from(f64::from(f.confidence)),
        ]);
    }
    for chunk in evidence.chunks(per_statement) {
        let stmt = evidence_statement(txn.get_database_backend(), chunk.iter().cloned(), source, snapshot_id, at);
        txn.execute_raw(stmt).await?;
    }
    let corroborations = u32::try_from(proposed.len() - new_facts.len()).unwrap_or(u32::MAX);
    Ok((new_facts, corroborations))
}

/// The ids of the facts with these keys, those that exist.
///
/// Each key must be one lookup of the unique index on all four columns,
/// whatever the planner's statistics say. The keys are the outer loop of
/// the join: on SQLite a `CROSS JOIN` keeps them there (a SEARCH of the
/// covering index per key); PostgreSQL would factor the columns the keys
/// share out of an OR (every key a `model`'s `parameters`) and scan all
/// those facts (12 ms a lookup at 20,000 facts), so there each key is
/// looked up by a LATERAL subquery that LIMIT keeps from being flattened
/// into a join.
pub(super) async fn fact_ids(
    txn: &DatabaseTransaction,
    keys: &[FactKey],
) -> Result<HashMap<FactKey, i64>, CatalogStoreError> {
    let mut out = HashMap::with_capacity(keys.len());
    for chunk in keys.chunks(rows_per_statement(txn.get_database_backend(), FACTS_PER_STATEMENT)) {
        let stmt = fact_ids_statement(txn.get_database_backend(), chunk);
        for row in txn.query_all_raw(stmt).await? {
            let (key, id) = fact_id(&row)?;
            out.insert(key, id);
        }
    }
    Ok(out)
}

/// A row of `id, entity_kind, entity_id, attribute, value_key`.
fn fact_id(row: &sea_orm::QueryResult) -> Result<(FactKey, i64), sea_orm::DbErr> {
    let key = (
        row.try_get("", "entity_kind")?,
        row.try_get("", "entity_id")?,
        row.try_get("", "attribute")?,
        row.try_get("", "value_key")?,
    );
    Ok((key, row.try_get("", "id")?))
}

fn fact_ids_statement(backend: DbBackend, keys: &[FactKey]) -> Statement {
    let rows = keys.iter().map(|(kind, id, attribute, value_key)| {
        [Value::from(kind.as_str()), Value::from(*id), Value::from(attribute.as_str()), Value::from(value_key.as_str())]
    });
    let (mut sql, values) = values_cte(backend, &KEY_COLUMNS, rows);
    const COLUMNS: &str = "f.id, f.entity_kind, f.entity_id, f.attribute, f.value_key";
    const SAME: &str = "f.entity_kind = v.entity_kind AND f.entity_id = v.entity_id \
                        AND f.attribute = v.attribute AND f.value_key = v.value_key";
    if backend == DbBackend::Postgres {
        sql.push_str(&format!(
            " SELECT {COLUMNS} FROM v CROSS JOIN LATERAL (SELECT {COLUMNS} FROM catalog_facts f WHERE {SAME} LIMIT 1) f"
        ));
    } else {
        sql.push_str(&format!(" SELECT {COLUMNS} FROM v CROSS JOIN catalog_facts f ON {SAME}"));
    }
    Statement::from_sql_and_values(backend, sql, values)
}

/// The columns of a fact row as [`fact_row`] fills them, with their
/// PostgreSQL types.
const FACT_COLUMNS: [(&str, &str); 12] = [
    ("entity_kind", "text"),
    ("entity_id", "bigint"),
    ("attribute", "text"),
    ("value_key", "text"),
    ("value", "text"),
    ("raw", "text"),
    ("unit", "text"),
    ("date_precision", "text"),
    ("as_of", "text"),
    ("status", "text"),
    ("created_at", "timestamptz"),
    ("decided_at", "timestamptz"),
];

/// Inserts facts unless held (by another transaction meanwhile); returns
/// the ids of those inserted, by key.
pub(super) async fn insert_facts(
    txn: &DatabaseTransaction,
    rows: &[catalog_facts::ActiveModel],
) -> Result<HashMap<FactKey, i64>, CatalogStoreError> {
    let stmt = insert_facts_statement(txn.get_database_backend(), rows);
    let mut out = HashMap::with_capacity(rows.len());
    for row in txn.query_all_raw(stmt).await? {
        let (key, id) = fact_id(&row)?;
        out.insert(key, id);
    }
    Ok(out)
}

fn insert_facts_statement(backend: DbBackend, rows: &[catalog_facts::ActiveModel]) -> Statement {
    use catalog_facts::Column as C;
    const SET: [catalog_facts::Column; 12] = [
        C::EntityKind,
        C::EntityId,
        C::Attribute,
        C::ValueKey,
        C::Value,
        C::Raw,
        C::Unit,
        C::DatePrecision,
        C::AsOf,
        C::Status,
        C::CreatedAt,
        C::DecidedAt,
    ];
    let rows = rows.iter().map(|r| SET.map(|column| r.get(column).into_value().unwrap_or(Value::String(None))));
    let (mut sql, values) = values_cte(backend, &FACT_COLUMNS, rows);
    let names = FACT_COLUMNS.map(|(name, _)| name).join(", ");
    sql.push_str(&format!(
        " INSERT INTO catalog_facts ({names}) SELECT {names} FROM v WHERE true \
         ON CONFLICT (entity_kind, entity_id, attribute, value_key) DO NOTHING \
         RETURNING id, entity_kind, entity_id, attribute, value_key"
    ));
    Statement::from_sql_and_values(backend, sql, values)
}

/// The columns of an evidence row that differ between a text's proposals.
const EVIDENCE_COLUMNS: [(&str, &str); 4] =
    [("fact_id", "bigint"), ("quote", "text"), ("extractor", "text"), ("confidence", "double precision")];

/// Evidence from one snapshot: `(fact, quote, extractor, confidence)` rows.
fn evidence_statement(
    backend: DbBackend,
    rows: impl ExactSizeIterator<Item = [Value; 4]>,
    source: SourceId,
    snapshot_id: i64,
    at: DateTime<Utc>,
) -> Statement {
    let (mut sql, mut values) = values_cte(backend, &EVIDENCE_COLUMNS, rows);
    let [s, n, t] = snapshot_params(backend, &mut values, source, snapshot_id, at);
    sql.push_str(&format!(
        " INSERT INTO catalog_fact_evidence (fact_id, source_id, snapshot_id, quote, extractor, confidence, observed_at) \
         SELECT fact_id, {s}, {n}, quote, extractor, confidence, {t} FROM v"
    ));
    Statement::from_sql_and_values(backend, sql, values)
}

/// [`record_mention`] for every entity a text names, in two statements
/// instead of one or two per entity (an article names dozens): a read of
/// which of them this source mentioned before, then one upsert. Returns
/// the entities the source mentions for the first time.
///
/// The rows themselves are safe against concurrent writers (an upsert on
/// the unique index, never "read, then insert if missing"). Only the answer
/// "first time" comes from the read before: a source is checked under its
/// lease, so only a promotion crediting other sources' earlier sightings
/// could race another check of that source, and its answer is not used.
/// (The upsert could tell it instead, returning each row's count; SQLite
/// runs a RETURNING clause as a trigger on each row, and that cost more
/// than the read, which finds nothing for a page checked the first time.)
pub(super) async fn record_mentions(
    txn: &DatabaseTransaction,
    mentioned: &[(&EntityRef, i64, i32)],
    source: SourceId,
    snapshot_id: i64,
    at: DateTime<Utc>,
) -> Result<Vec<EntityRef>, CatalogStoreError> {
    let mut seen = HashSet::new();
    let mentioned: Vec<_> = mentioned.iter().filter(|(e, id, _)| seen.insert((e.kind, *id))).collect();
    if mentioned.is_empty() {
        return Ok(Vec::new());
    }
    let backend = txn.get_database_backend();
    // Everything this source mentioned before, by the index led by the
    // source: a few dozen rows, however many mentions the table holds.
    let read = Statement::from_sql_and_values(
        backend,
        format!(
            "SELECT entity_kind, entity_id FROM catalog_mentions WHERE source_id = {}",
            param(backend, &[], 1, "bigint")
        ),
        [Value::from(source.0)],
    );
    let mut before = HashSet::new();
    for row in txn.query_all_raw(read).await? {
        before.insert((row.try_get::<String>("", "entity_kind")?, row.try_get::<i64>("", "entity_id")?));
    }
    for chunk in mentioned.chunks(rows_per_statement(backend, MENTIONS_PER_STATEMENT)) {
        let rows =
            chunk.iter().map(|(e, id, count)| [Value::from(e.kind.as_str()), Value::from(*id), Value::from(*count)]);
        txn.execute_raw(mentions_statement(backend, rows, source, snapshot_id, at)).await?;
    }
    Ok(mentioned
        .into_iter()
        .filter(|(e, id, _)| !before.contains(&(e.kind.as_str().to_owned(), *id)))
        .map(|(e, _, _)| (*e).clone())
        .collect())
}

/// The columns of a mention row that differ between a text's entities.
const MENTION_COLUMNS: [(&str, &str); 3] =
    [("entity_kind", "text"), ("entity_id", "bigint"), ("last_count", "integer")];

/// The upsert of one snapshot's mentions: `(kind, entity, count)` rows.
fn mentions_statement(
    backend: DbBackend,
    rows: impl ExactSizeIterator<Item = [Value; 3]>,
    source: SourceId,
    snapshot_id: i64,
    at: DateTime<Utc>,
) -> Statement {
    let (mut sql, mut values) = values_cte(backend, &MENTION_COLUMNS, rows);
    let [s, n, t] = snapshot_params(backend, &mut values, source, snapshot_id, at);
    // SQLite reads `ON` after `FROM v` as a join's unless a WHERE ends the
    // SELECT.
    sql.push_str(&format!(
        " INSERT INTO catalog_mentions (entity_kind, entity_id, source_id, first_snapshot_id, last_snapshot_id, \
         first_seen_at, last_seen_at, snapshot_count, last_count) \
         SELECT entity_kind, entity_id, {s}, {n}, {n}, {t}, {t}, 1, last_count FROM v WHERE true \
         ON CONFLICT (source_id, entity_kind, entity_id) DO UPDATE SET \
         last_snapshot_id = excluded.last_snapshot_id, last_seen_at = excluded.last_seen_at, \
         last_count = excluded.last_count, snapshot_count = catalog_mentions.snapshot_count + 1"
    ));
    Statement::from_sql_and_values(backend, sql, values)
}

/// Inserts or updates the mention of an entity by a source; true when the
/// source mentions it for the first time. [`record_mentions`] for one.
pub(super) async fn record_mention(
    txn: &DatabaseTransaction,
    entity: &EntityRef,
    id: i64,
    source: SourceId,
    snapshot_id: i64,
    count: i32,
    at: DateTime<Utc>,
) -> Result<bool, CatalogStoreError> {
    Ok(!record_mentions(txn, &[(entity, id, count)], source, snapshot_id, at).await?.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL reads the rows from one JSON parameter: one statement
    /// text for any number of entities or figures, parsed once per
    /// connection; SQLite has a text per power of two of rows, and names
    /// the parameters after the rows by number, as the mentions' snapshot
    /// and time appear twice.
    #[test]
    fn a_texts_statements_are_a_few_texts() {
        let key = |n: i64| ("model".to_owned(), n, "parameters".to_owned(), format!("{n}"));
        let (one, three) = (vec![key(1)], vec![key(1), key(2), key(3)]);
        let pg = DbBackend::Postgres;
        assert_eq!(fact_ids_statement(pg, &one).sql, fact_ids_statement(pg, &three).sql);
        assert_eq!(fact_ids_statement(pg, &three).values.map(|v| v.0.len()), Some(1));
        let mentions = |backend, n: i64| {
            let rows = (0..n).map(|id| [Value::from("model"), Value::from(id), Value::from(1)]);
            mentions_statement(backend, rows.collect::<Vec<_>>().into_iter(), SourceId(7), 9, Utc::now())
        };
        assert_eq!(mentions(pg, 1).sql, mentions(pg, 40).sql);
        assert_eq!(mentions(pg, 40).values.map(|v| v.0.len()), Some(4));
        let lite = DbBackend::Sqlite;
        assert_eq!(mentions(lite, 33).sql, mentions(lite, 40).sql);
        assert_eq!(mentions(lite, 40).values.map(|v| v.0.len()), Some(64 * 3 + 3));
        let two = mentions(lite, 2);
        assert!(two.sql.contains("SELECT entity_kind, entity_id, ?7, ?8, ?8, ?9, ?9, 1, last_count"), "{}", two.sql);
    }
}
