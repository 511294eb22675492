//! A source's new state after its check: one guarded UPDATE for any number
//! of checked sources.
//!
//! An unchanged page's record is this update and nothing else (its check
//! row is inserted with its batch's), so on PostgreSQL, where the writer's
//! time is round trips, a batch of unchanged pages costs one statement
//! instead of one per page. The statement is the same on both backends:
//! a `WITH v(…) AS (…)` of the new states ([`values_cte`]) and an
//! `UPDATE … FROM v`, which SQLite has since 3.33 and its `RETURNING` since
//! 3.35.
//!
//! The guard is the source's current snapshot: a row is updated only if its
//! `last_snapshot_id` is still the one its check started from, and the ids
//! returned are the records that were written. A record whose id is missing
//! was superseded (another check of the source was recorded since this one
//! started) and writes nothing.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DbBackend, Statement, Value};

use super::StoreError;
use crate::types::{ErrorKind, SourceId, SourceKind, SourceStatus};

/// The source's state after a check.
#[derive(Debug, Clone)]
pub struct SourceUpdate {
    pub status: SourceStatus,
    pub last_error_kind: Option<ErrorKind>,
    pub last_error: Option<String>,
    pub pending_status: Option<SourceStatus>,
    pub pending_count: u32,
    pub consecutive_failures: u32,
    /// `None` keeps the stored value.
    pub etag: Option<Option<String>>,
    pub last_modified: Option<Option<String>>,
    pub final_url: Option<String>,
    /// Set only when the source has no title yet.
    pub title: Option<String>,
    /// The kind the response showed, when it differs from the stored one
    /// (a `page` URL that serves a feed or a PDF): the source becomes that kind.
    pub kind: Option<SourceKind>,
    pub succeeded: bool,
    pub next_check_at: DateTime<Utc>,
}

/// One source's row to write after its check.
pub(crate) struct NewSourceState<'a> {
    pub source: SourceId,
    pub checked_at: DateTime<Utc>,
    pub update: &'a SourceUpdate,
    /// The check ran under a lease: release it.
    pub release_lease: bool,
    /// The snapshot the check started from: the row is written only if it
    /// is still the source's current one.
    pub expected_snapshot: Option<i64>,
    /// The snapshot the source now points at, when that is decided before
    /// the update (an older snapshot the page returned to); `None` keeps it.
    pub pointer: Option<i64>,
}

/// The columns of `v`, each with its PostgreSQL type: a `VALUES` list of
/// bound parameters has no types of its own there (a column of NULLs would
/// be text, and text is not assignable to a timestamp).
pub(crate) const COLUMNS: [(&str, &str); 20] = [
    ("source_id", "bigint"),
    ("status", "text"),
    ("last_error_kind", "text"),
    ("last_error", "text"),
    ("pending_status", "text"),
    ("pending_count", "integer"),
    ("consecutive_failures", "integer"),
    ("checked_at", "timestamptz"),
    ("next_check_at", "timestamptz"),
    ("set_etag", "boolean"),
    ("etag", "text"),
    ("set_last_modified", "boolean"),
    ("last_modified", "text"),
    ("final_url", "text"),
    ("succeeded", "boolean"),
    ("kind", "text"),
    ("pointer", "bigint"),
    ("clear_lease", "boolean"),
    ("title", "text"),
    ("expected", "bigint"),
];

/// Rows per statement: on PostgreSQL one JSON value for all of them; on
/// SQLite [`SQLITE_ROWS_PER_STATEMENT`].
const ROWS_PER_STATEMENT: usize = 500;

/// On SQLite, the most rows one statement's `VALUES` list binds
/// ([`sqlite_values`]); more go in further statements.
///
/// SQLite compiles each row of such a list into the statement's program,
/// and the driver keeps every statement text it prepared (a few per kind:
/// the lists are padded to a power of two) for the connection's life: a
/// cold sweep's batches of 8 new pages upserted ~320 mentions in one list
/// of 512 rows, a prepared statement of 257 KB, beside its 256-, 128- and
/// 64-row forms; 76 statements held ~1.9 MB of SQLite's ~4.9 MB at the
/// sweep's heap peak (heaptrack, issue 12). 64 rows of 4 values take 37
/// KB. The price is a statement per 64 rows instead of one per list.
pub(crate) const SQLITE_ROWS_PER_STATEMENT: usize = 64;

/// How many rows one statement on `backend` takes, given `max` for
/// PostgreSQL (where the rows are one JSON value and the statement one
/// text whatever their number): [`SQLITE_ROWS_PER_STATEMENT`] at most on
/// SQLite.
pub(crate) fn rows_per_statement(backend: DbBackend, max: usize) -> usize {
    let max = max.max(1);
    if backend == DbBackend::Postgres { max } else { max.min(SQLITE_ROWS_PER_STATEMENT) }
}

/// What each column becomes. A pause that came in during the check wins;
/// `None` fields of the update keep the stored value; the title is set only
/// when the source has none; the check ended, so whatever took the process
/// down before was not this source's check (`crash_count = 0`).
const SET: &str = "status = CASE WHEN sources.status = 'paused' THEN sources.status ELSE v.status END, \
    last_error_kind = v.last_error_kind, \
    last_error = v.last_error, \
    pending_status = v.pending_status, \
    pending_count = v.pending_count, \
    consecutive_failures = v.consecutive_failures, \
    last_checked_at = v.checked_at, \
    crash_count = 0, \
    next_check_at = v.next_check_at, \
    updated_at = v.checked_at, \
    etag = CASE WHEN v.set_etag THEN v.etag ELSE sources.etag END, \
    last_modified = CASE WHEN v.set_last_modified THEN v.last_modified ELSE sources.last_modified END, \
    final_url = COALESCE(v.final_url, sources.final_url), \
    last_ok_at = CASE WHEN v.succeeded THEN v.checked_at ELSE sources.last_ok_at END, \
    kind = COALESCE(v.kind, sources.kind), \
    last_snapshot_id = COALESCE(v.pointer, sources.last_snapshot_id), \
    lease_owner = CASE WHEN v.clear_lease THEN NULL ELSE sources.lease_owner END, \
    lease_until = CASE WHEN v.clear_lease THEN NULL ELSE sources.lease_until END, \
    title = COALESCE(sources.title, v.title)";

/// The guard: the source's current snapshot is still the one the check
/// started from (both may be "none yet").
const CURRENT: &str = "(sources.last_snapshot_id = v.expected \
    OR (sources.last_snapshot_id IS NULL AND v.expected IS NULL))";

/// Writes each source's new state, guarded; returns the ids of the sources
/// written.
///
/// Each source may appear once: with two states for one source, which one
/// its row takes would be up to the database.
pub(crate) async fn write_source_states<C: ConnectionTrait>(
    txn: &C,
    records: &[NewSourceState<'_>],
) -> Result<HashSet<i64>, StoreError> {
    let backend = txn.get_database_backend();
    let mut written = HashSet::with_capacity(records.len());
    for chunk in records.chunks(rows_per_statement(backend, ROWS_PER_STATEMENT)) {
        let stmt = statement(backend, chunk);
        for row in txn.query_all_raw(stmt).await? {
            written.insert(row.try_get::<i64>("", "id")?);
        }
    }
    Ok(written)
}

fn statement(backend: DbBackend, records: &[NewSourceState<'_>]) -> Statement {
    let (mut sql, values) = values_cte(backend, &COLUMNS, records.iter().map(row));
    sql.push(' ');
    sql.push_str(&update_from_v(backend));
    Statement::from_sql_and_values(backend, sql, values)
}

/// The guarded `UPDATE sources … FROM v … RETURNING id` of the states in
/// `v`. On PostgreSQL each row written also turns `synchronous_commit` off
/// for its transaction ([`super::SYNC_COMMIT_OFF`]): a record's transaction
/// begins with this statement, so the setting costs no round trip of its own.
/// The rows of `sources` it writes are named by id ([`BY_ID`]): every
/// batch of a sweep of 2,000 sources read all 2,000 rows before
/// (auto_explain, unchanged daemon sweep: 1.2 of a statement's 2.1 ms).
pub(crate) fn update_from_v(backend: DbBackend) -> String {
    let sync_off = if backend == DbBackend::Postgres { format!(", {}", super::SYNC_COMMIT_OFF) } else { String::new() };
    let by_id = by_id(backend);
    format!(
        "UPDATE sources SET {SET} FROM v WHERE sources.id = v.source_id{by_id} AND {CURRENT} RETURNING id{sync_off}"
    )
}

/// The condition an `UPDATE sources … FROM v WHERE sources.id =
/// v.source_id` adds on PostgreSQL so that the planner reads the rows it
/// writes by the primary key: an `id = ANY(ARRAY(…))` of `v`'s ids, which
/// it takes for a few rows (and reads by the index, but for a table of a
/// few pages). It takes `jsonb_to_recordset` for 100 rows, and against
/// 100 lookups by id a hash join over a scan of the whole table looked
/// cheaper up to some 10,000 sources (issue 12). SQLite: nothing (it
/// looks each row of `v` up by id).
pub(crate) const BY_ID: &str = " AND sources.id = ANY(ARRAY(SELECT source_id FROM v))";

/// [`BY_ID`] on PostgreSQL, nothing on SQLite.
pub(crate) fn by_id(backend: DbBackend) -> &'static str {
    if backend == DbBackend::Postgres { BY_ID } else { "" }
}

/// `WITH v (name, …) AS (…)` over `rows` (each in the order of `columns`),
/// and its bound values: the table an `UPDATE … FROM v` of many rows reads.
///
/// A statement has one of a few texts whatever its number of rows, so that
/// it is prepared once per connection and then found in the driver's
/// statement cache. A `VALUES` list of bound parameters was a new statement
/// for each row count: on PostgreSQL parsed, described and planned anew,
/// binding its hundreds of parameters costing more than the update itself
/// (issue 12); on SQLite prepared anew, ~3,700 instructions a value (a
/// batch's states, a new page's mentions: 0.5-1 M a statement).
///
/// PostgreSQL: the rows as one JSON parameter read by `jsonb_to_recordset`
/// with the types `columns` name. SQLite: [`sqlite_values`], whose rows
/// SQLite reads for the cost of binding them; the same rows as JSON read
/// by `json_each` cost 4x what binding a cached list does (bundled SQLite
/// 3.51, 20 rows of 6 values: 356,000 instructions against 81,000, and
/// 531,000 for a list prepared anew).
pub(crate) fn values_cte<const N: usize>(
    backend: DbBackend,
    columns: &[(&str, &str); N],
    rows: impl ExactSizeIterator<Item = [Value; N]>,
) -> (String, Vec<Value>) {
    if backend == DbBackend::Postgres {
        return json_recordset_cte(columns, rows);
    }
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let (list, values) = sqlite_values(N, rows);
    (format!("WITH v ({}) AS (SELECT * FROM ({list}) WHERE column1 IS NOT NULL)", names.join(", ")), values)
}

/// SQLite: `VALUES (?, …), …` of `rows`, padded with rows of NULLs up to
/// the next power of two, and its values. The padding keeps the texts to
/// a few per statement (a batch of 1 to 64 records: seven); a reader drops
/// it by the first column, which a real row never leaves NULL.
pub(crate) fn sqlite_values<R: IntoIterator<Item = Value>>(
    columns: usize,
    rows: impl ExactSizeIterator<Item = R>,
) -> (String, Vec<Value>) {
    let padded = rows.len().max(1).next_power_of_two();
    let row = format!("({})", vec!["?"; columns].join(", "));
    let list = format!("VALUES {}", vec![row.as_str(); padded].join(", "));
    let mut values: Vec<Value> = Vec::with_capacity(padded * columns);
    for row in rows {
        let start = values.len();
        values.extend(row);
        debug_assert_eq!(values.len() - start, columns, "a row of another width");
        debug_assert!(!values.get(start).is_some_and(is_null), "a row whose first value is NULL reads as padding");
    }
    values.resize(padded * columns, Value::String(None));
    (list, values)
}

/// Whether a bound value is SQL NULL.
fn is_null(value: &Value) -> bool {
    json_value(value.clone()).is_null()
}

/// PostgreSQL's [`values_cte`]: `WITH v AS (SELECT * FROM
/// jsonb_to_recordset($1) AS v(name type, …))`, the rows one JSON array of
/// objects keyed by column name.
fn json_recordset_cte<const N: usize>(
    columns: &[(&str, &str); N],
    rows: impl ExactSizeIterator<Item = [Value; N]>,
) -> (String, Vec<Value>) {
    let (sql, value) = json_recordset("v", 1, columns, rows);
    (format!("WITH {sql}"), vec![value])
}

/// `name AS (SELECT * FROM jsonb_to_recordset($param::jsonb) AS name(column
/// type, …))`, a table of a statement's `WITH`, and the one value bound to
/// `$param`: `rows` as the text of a JSON array of objects keyed by column
/// name (see [`json_rows`]).
pub(crate) fn json_recordset<const N: usize>(
    name: &str,
    param: usize,
    columns: &[(&str, &str); N],
    rows: impl ExactSizeIterator<Item = [Value; N]>,
) -> (String, Value) {
    let types: Vec<String> = columns.iter().map(|(name, ty)| format!("{name} {ty}")).collect();
    let sql = format!("{name} AS (SELECT * FROM jsonb_to_recordset(${param}::jsonb) AS {name}({}))", types.join(", "));
    (sql, Value::String(Some(json_rows(columns, rows))))
}

/// `rows` as JSON text, `[{"column": value, …}, …]`, each row written as it
/// comes and dropped.
///
/// Not a `serde_json::Value` tree: a tree holds a map and the column names
/// anew for every row, and sea-orm copies the bound value whole before the
/// driver serialises it. At a cold PostgreSQL sweep's heap peak one
/// batch's mention rows held 1.6 MB as a tree and its copy, and a cold
/// sweep made 10.2 M allocation calls, 7.0 M without the trees
/// (heaptrack; issue 12). Bound as text, cast by the statement
/// (`$n::jsonb`): the server reads the same JSON either way.
fn json_rows<const N: usize>(columns: &[(&str, &str); N], rows: impl ExactSizeIterator<Item = [Value; N]>) -> String {
    let names: usize = columns.iter().map(|(name, _)| name.len() + 4).sum();
    let mut out: Vec<u8> = Vec::with_capacity(2 + rows.len() * (names + 8 * N));
    out.push(b'[');
    for (n, row) in rows.enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (k, ((name, _), value)) in columns.iter().zip(row).enumerate() {
            if k > 0 {
                out.push(b',');
            }
            debug_assert!(name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'), "a column name to escape");
            out.push(b'"');
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b"\":");
            // Writing to a `Vec` cannot fail, nor can a JSON scalar's
            // serialisation.
            if serde_json::to_writer(&mut out, &json_value(value)).is_err() {
                debug_assert!(false, "a JSON value that did not serialise");
            }
        }
        out.push(b'}');
    }
    out.push(b']');
    // serde_json writes UTF-8, the names are ASCII.
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// A bound value as the JSON `jsonb_to_recordset` reads back into its
/// column's type. Times keep the microseconds PostgreSQL stores (the
/// driver truncates a bound time's nanoseconds the same way).
pub(crate) fn json_value(value: Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Bool(b) => b.map_or(J::Null, J::Bool),
        Value::TinyInt(n) => n.map_or(J::Null, J::from),
        Value::SmallInt(n) => n.map_or(J::Null, J::from),
        Value::Int(n) => n.map_or(J::Null, J::from),
        Value::BigInt(n) => n.map_or(J::Null, J::from),
        Value::TinyUnsigned(n) => n.map_or(J::Null, J::from),
        Value::SmallUnsigned(n) => n.map_or(J::Null, J::from),
        Value::Unsigned(n) => n.map_or(J::Null, J::from),
        Value::BigUnsigned(n) => n.map_or(J::Null, J::from),
        // A float that JSON cannot hold (NaN, infinite) is stored as NULL.
        Value::Double(d) => d.map_or(J::Null, J::from),
        Value::String(s) => s.map_or(J::Null, J::String),
        Value::ChronoDateTimeUtc(t) => {
            t.map_or(J::Null, |t| J::String(t.to_rfc3339_opts(chrono::SecondsFormat::Micros, true)))
        }
        Value::Json(j) => j.map_or(J::Null, |j| *j),
        // The rows written this way bind none of the other kinds (bytes,
        // other time types); a column of one needs its case here.
        other => {
            debug_assert!(false, "no JSON form for {other:?}");
            J::Null
        }
    }
}

/// One state's values, in the order of [`COLUMNS`].
pub(crate) fn row(state: &NewSourceState<'_>) -> [Value; 20] {
    let u = state.update;
    [
        state.source.0.into(),
        u.status.as_str().into(),
        u.last_error_kind.map(|k| k.as_str()).into(),
        u.last_error.clone().into(),
        u.pending_status.map(|s| s.as_str()).into(),
        to_i32(u.pending_count).into(),
        to_i32(u.consecutive_failures).into(),
        state.checked_at.into(),
        u.next_check_at.into(),
        u.etag.is_some().into(),
        u.etag.clone().flatten().into(),
        u.last_modified.is_some().into(),
        u.last_modified.clone().flatten().into(),
        u.final_url.clone().into(),
        u.succeeded.into(),
        u.kind.map(|k| k.as_str()).into(),
        state.pointer.into(),
        state.release_lease.into(),
        u.title.clone().into(),
        state.expected_snapshot.into(),
    ]
}

pub(crate) fn to_i32(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    /// On SQLite a statement of 3 or 4 rows is one text, of 5 another; the
    /// rows read are the rows given, in order, without the padding.
    #[tokio::test]
    async fn sqlite_rows_are_padded_to_a_few_texts_and_read_without_the_padding() {
        const COLUMNS: [(&str, &str); 2] = [("k", "bigint"), ("s", "text")];
        let rows = |n: i64| (0..n).map(|k| [Value::from(k), Value::from(format!("第{k}行"))]).collect::<Vec<_>>();
        let text = |n| values_cte(DbBackend::Sqlite, &COLUMNS, rows(n).into_iter()).0;
        assert_eq!(text(3), text(4));
        assert_ne!(text(4), text(5));
        assert_eq!(text(1), text(0));
        let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
        for n in [0, 1, 3, 4, 5, 64, 100] {
            let (mut sql, values) = values_cte(DbBackend::Sqlite, &COLUMNS, rows(n).into_iter());
            assert_eq!(values.len(), 2 * (n.max(1) as usize).next_power_of_two());
            sql.push_str(" SELECT k, s FROM v");
            let read = db.query_all_raw(Statement::from_sql_and_values(DbBackend::Sqlite, sql, values)).await.unwrap();
            let read: Vec<(i64, String)> =
                read.iter().map(|r| (r.try_get("", "k").unwrap(), r.try_get("", "s").unwrap())).collect();
            let want: Vec<(i64, String)> = (0..n).map(|k| (k, format!("第{k}行"))).collect();
            assert_eq!(read, want, "{n} rows");
        }
    }

    /// Texts that need escaping, NULLs, numbers, booleans and times, as the
    /// JSON text `jsonb_to_recordset` reads: parsed back here the same, and
    /// on PostgreSQL (`MODELWATCH_TEST_POSTGRES_URL`) read back as the
    /// values bound, through the statement text the writer sends.
    #[tokio::test]
    async fn json_rows_read_back_as_the_values_bound() {
        const COLUMNS: [(&str, &str); 5] =
            [("k", "bigint"), ("s", "text"), ("b", "boolean"), ("t", "timestamptz"), ("n", "integer")];
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-07T05:01:02.123456Z").unwrap().with_timezone(&Utc);
        let texts = ["第一行\n\t\"引号\" \\ 反斜杠", "\u{1}\u{1f}\u{7f} 😀 </script>", "", "'; DROP TABLE sources; --"];
        let rows = || {
            texts.iter().enumerate().map(move |(k, s)| {
                let k = k as i64;
                [
                    Value::from(k),
                    Value::from((*s).to_owned()),
                    Value::from(k % 2 == 0),
                    Value::from(at),
                    Value::Int(None),
                ]
            })
        };
        let rows = || {
            rows()
                .chain(std::iter::once([
                    Value::from(9i64),
                    Value::String(None),
                    Value::Bool(None),
                    Value::ChronoDateTimeUtc(None),
                    Value::from(-3i32),
                ]))
                .collect::<Vec<_>>()
        };
        let (sql, value) = json_recordset("v", 1, &COLUMNS, rows().into_iter());
        let Value::String(Some(text)) = &value else { panic!("bound as {value:?}") };
        let parsed: Vec<serde_json::Value> = serde_json::from_str(text).unwrap();
        assert_eq!(parsed.len(), texts.len() + 1);
        for (k, s) in texts.iter().enumerate() {
            let want =
                serde_json::json!({"k": k, "s": s, "b": k % 2 == 0, "t": "2026-12-07T05:01:02.123456Z", "n": null});
            assert_eq!(parsed[k], want);
        }
        assert_eq!(parsed[texts.len()], serde_json::json!({"k": 9, "s": null, "b": null, "t": null, "n": -3}));
        assert_eq!(json_rows(&COLUMNS, std::iter::empty()), "[]");

        let Some(url) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped on PostgreSQL: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        };
        let db = sea_orm::Database::connect(&url).await.unwrap();
        let stmt = Statement::from_sql_and_values(
            DbBackend::Postgres,
            format!("WITH {sql} SELECT k, s, b, t, n FROM v ORDER BY k"),
            [value],
        );
        let read = db.query_all_raw(stmt).await.unwrap();
        type Row = (i64, Option<String>, Option<bool>, Option<chrono::DateTime<Utc>>, Option<i32>);
        let read: Vec<Row> = read
            .iter()
            .map(|r| {
                (
                    r.try_get("", "k").unwrap(),
                    r.try_get("", "s").unwrap(),
                    r.try_get("", "b").unwrap(),
                    r.try_get("", "t").unwrap(),
                    r.try_get("", "n").unwrap(),
                )
            })
            .collect();
        let mut want: Vec<Row> = texts
            .iter()
            .enumerate()
            .map(|(k, s)| (k as i64, Some((*s).to_owned()), Some(k % 2 == 0), Some(at), None))
            .collect();
        want.push((9, None, None, None, Some(-3)));
        assert_eq!(read, want);
        db.close().await.unwrap();
    }
}
