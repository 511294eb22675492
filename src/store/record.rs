//! Writing the result of one check: the check row, the raw body, the
//! snapshot, the changes and the source's new state, in one transaction.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set};
use sha2::Digest as _;

pub use super::entity::checks::CheckOutcome;
use super::entity::{blobs, checks, snapshots};
use super::source_update::NewSourceState;
pub use super::source_update::SourceUpdate;
use super::{Store, StoreError};
use crate::types::{ChangeKind, ErrorKind, SourceId};

/// A raw body, already compressed (off the async threads) by the caller.
#[derive(Debug, Clone)]
pub struct CompressedBody {
    /// sha256 of the uncompressed body, hex.
    pub hash: String,
    pub zstd: Vec<u8>,
    pub size: u64,
}

/// zstd level for raw bodies (and texts on SQLite, [`SnapshotText`]):
/// level 3 is zstd's default balance. Lower
/// levels buy little on pages (bench pages, 78 KB on average): level 1
/// takes 1.41 M instructions a body instead of 1.56 M (-10%, ~0.02 ms
/// natively; callgrind over 100 pages) for 4% more stored bytes (15.0% of
/// the raw size instead of 14.4%, over 2,000); level 2, 1.44 M for 14.9%.
/// Any level reads back the same way.
const RAW_LEVEL: i32 = 3;

thread_local! {
    /// One compression context per thread, reused: a fresh context per body
    /// allocated (and zeroed) hundreds of KB each time.
    static COMPRESSOR: std::cell::RefCell<Option<zstd::bulk::Compressor<'static>>> =
        const { std::cell::RefCell::new(None) };
}

impl CompressedBody {
    /// Hashes and compresses a raw body (CPU work: call it off the async
    /// threads).
    pub fn compress(raw: &[u8]) -> std::io::Result<CompressedBody> {
        let zstd = compress(raw)?;
        Ok(CompressedBody { hash: hex::encode(sha2::Sha256::digest(raw)), zstd, size: raw.len() as u64 })
    }
}

/// zstd at [`RAW_LEVEL`] on this thread's context. The one-shot API knows
/// the input's size, so zstd sizes its window to it instead of allocating
/// for a stream of unknown length; the context is reused across calls on
/// this thread.
fn compress(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut zstd = COMPRESSOR.with(|cell| {
        let mut slot = cell.borrow_mut();
        let compressor = match slot.as_mut() {
            Some(c) => c,
            None => slot.insert(zstd::bulk::Compressor::new(RAW_LEVEL)?),
        };
        compressor.compress(bytes)
    })?;
    // zstd writes into a buffer of the worst case (the input's size and
    // more); the snapshot waits in the record writer's batch with it, so
    // give back what the compression saved.
    zstd.shrink_to_fit();
    Ok(zstd)
}

/// A new snapshot's CPU work: the raw body hashed and compressed, the text
/// in the form the store keeps it (`compress_text`: [`SnapshotText::for_store`]).
/// Call it off the async threads.
pub fn compress_snapshot(
    raw: Option<&[u8]>,
    text: String,
    compress_text: bool,
) -> std::io::Result<(Option<CompressedBody>, SnapshotText)> {
    let raw = raw.map(CompressedBody::compress).transpose()?;
    Ok((raw, SnapshotText::for_store(text, compress_text)?))
}

/// A new snapshot's normalised text, in the form the store writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotText {
    /// As it is (PostgreSQL compresses it itself, with lz4).
    Plain(String),
    /// zstd-compressed, into `snapshots.text_zstd` (SQLite, which has no
    /// column compression: see `m20261211_020000_snapshot_text_zstd`).
    Zstd(Vec<u8>),
}

impl SnapshotText {
    /// `text` as `store` keeps new texts ([`Store::compresses_texts`]). CPU
    /// work when it compresses (~0.07 ms for a 29 KB text): call it off the
    /// async threads, as [`CompressedBody::compress`].
    pub fn for_store(text: String, compressed: bool) -> std::io::Result<SnapshotText> {
        if compressed { Ok(SnapshotText::Zstd(compress(text.as_bytes())?)) } else { Ok(SnapshotText::Plain(text)) }
    }
}

/// A stored snapshot's text, from its row's `text` and `text_zstd`: every
/// reader of a snapshot's text goes through this, so rows written before
/// texts were compressed (and PostgreSQL's, never compressed) read the
/// same as new ones. A compressed text that does not decompress to UTF-8
/// is corrupt data, reported as such rather than read as empty.
pub(crate) fn stored_text(snapshot: i64, text: String, zstd: Option<Vec<u8>>) -> Result<String, StoreError> {
    let Some(zstd) = zstd else { return Ok(text) };
    zstd::decode_all(zstd.as_slice())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .ok_or_else(|| StoreError::Corrupt(format!("snapshot #{snapshot}: its compressed text is unreadable")))
}

#[derive(Debug, Clone)]
pub struct NewSnapshot {
    /// sha256 of the text (uncompressed), hex.
    pub content_hash: String,
    pub text: SnapshotText,
    pub meta: serde_json::Value,
    pub raw: Option<CompressedBody>,
    pub http_status: Option<u16>,
    pub final_url: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewChange {
    pub kind: ChangeKind,
    pub summary: String,
    pub stats: crate::change::ChangeStats,
    /// Catalog entities the changed lines name.
    pub catalog_hits: u32,
    pub excerpt: String,
    pub details: serde_json::Value,
    /// The snapshot the change is measured from.
    pub from_snapshot_id: Option<i64>,
}

/// Where the source's "current snapshot" pointer goes after the check.
#[derive(Debug, Clone, PartialEq)]
pub enum SnapshotPointer {
    /// Unchanged.
    Keep,
    /// The snapshot inserted by this record.
    New,
    /// An older snapshot the page returned to (A→B→A).
    Existing(i64),
}

impl SnapshotPointer {
    /// Where the source's row points once the check is recorded, when that
    /// is known before the record's rows are written (`None`: kept, or the
    /// snapshot about to be inserted).
    pub(crate) fn decided(&self) -> Option<i64> {
        match self {
            SnapshotPointer::Existing(id) => Some(*id),
            SnapshotPointer::Keep | SnapshotPointer::New => None,
        }
    }

    /// The snapshot this record's changes lead to: `new`, the id its own
    /// snapshot got, or the older one the page returned to (`None`: kept).
    pub(crate) fn target(&self, new: Option<i64>) -> Option<i64> {
        match self {
            SnapshotPointer::New => new,
            SnapshotPointer::Existing(id) => Some(*id),
            SnapshotPointer::Keep => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct CheckRecord {
    pub source_id: SourceId,
    pub started_at: DateTime<Utc>,
    pub duration_ms: u64,
    pub outcome: CheckOutcome,
    pub http_status: Option<u16>,
    pub error_kind: Option<ErrorKind>,
    pub message: Option<String>,
    pub bytes: u64,
    pub snapshot: Option<NewSnapshot>,
    pub pointer: SnapshotPointer,
    pub changes: Vec<NewChange>,
    pub update: SourceUpdate,
    /// Metric points observed by this check (stars, downloads, …).
    pub metrics: Vec<super::metrics::MetricPoint>,
    /// The lease to release, if the check ran under one.
    pub lease_owner: Option<String>,
    /// The source's current snapshot when the check started. The record is
    /// written only if it is still current: two checks of one source at once
    /// (the CLI beside the daemon, an expired lease) record one result, not
    /// the same change twice.
    pub expected_snapshot: Option<i64>,
    /// What the new snapshot's text says, for the catalog: saved with the
    /// check (see [`super::batch`]).
    pub catalog: Option<super::catalog::CatalogWork>,
}

impl CheckRecord {
    /// The source's row this record writes, the source then pointing at
    /// `pointer` (`None`: where it pointed).
    pub(crate) fn new_source_state(&self, pointer: Option<i64>) -> NewSourceState<'_> {
        NewSourceState {
            source: self.source_id,
            checked_at: self.started_at,
            update: &self.update,
            release_lease: self.lease_owner.is_some(),
            expected_snapshot: self.expected_snapshot,
            pointer,
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Recorded {
    pub snapshot_id: Option<i64>,
    pub change_ids: Vec<i64>,
    /// The catalog step's outcome, when the record carried one. A failed
    /// step leaves the check recorded (its savepoint alone is rolled back).
    pub catalog: Option<Result<super::catalog::RecordedAnalysis, String>>,
}

/// A stored snapshot.
#[derive(Debug, Clone)]
pub struct Snapshot {
    pub id: i64,
    pub source_id: SourceId,
    pub created_at: DateTime<Utc>,
    pub content_hash: String,
    pub text: String,
    pub meta: serde_json::Value,
    /// The hash of its raw body in the blobs ([`Store::raw_body`]), while kept.
    pub raw_hash: Option<String>,
}

impl Store {
    /// Whether new snapshot texts are written compressed
    /// ([`SnapshotText::Zstd`]): on SQLite, which has no column compression.
    /// PostgreSQL compresses them itself (lz4), server-side.
    pub fn compresses_texts(&self) -> bool {
        self.is_sqlite()
    }

    pub async fn get_snapshot(&self, id: i64) -> Result<Option<Snapshot>, StoreError> {
        let row = super::stable_limit::first(snapshots::Entity::find_by_id(id), self.db()).await?;
        row.map(snapshot_from_row).transpose()
    }

    /// A snapshot's content hash alone (no text): what most comparisons need.
    pub async fn snapshot_hash(&self, id: i64) -> Result<Option<String>, StoreError> {
        let hash: Option<String> = snapshots::Entity::find_by_id(id)
            .select_only()
            .column(snapshots::Column::ContentHash)
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(hash)
    }

    /// The ids and hashes of a source's most recent snapshots, newest first.
    pub async fn recent_snapshot_hashes(&self, source: SourceId, n: u32) -> Result<Vec<(i64, String)>, StoreError> {
        let recent = snapshots::Entity::find()
            .select_only()
            .column(snapshots::Column::Id)
            .column(snapshots::Column::ContentHash)
            .filter(snapshots::Column::SourceId.eq(source.0))
            .order_by_desc(snapshots::Column::Id)
            .limit(u64::from(n))
            .build(self.db().get_database_backend());
        let rows = self.db().query_all_raw(super::stable_limit::stable_limit(recent)).await?;
        Ok(rows
            .iter()
            .map(|row| Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?)))
            .collect::<Result<_, sea_orm::DbErr>>()?)
    }

    /// The decompressed raw body of a snapshot, if it was kept.
    pub async fn raw_body(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(blob) = blobs::Entity::find_by_id(hash.to_owned()).one(self.db()).await? else {
            return Ok(None);
        };
        zstd::decode_all(blob.data.as_slice()).map(Some).map_err(|e| StoreError::Corrupt(format!("blob {hash}: {e}")))
    }
}

/// How many check rows one statement inserts (9 values each: well under
/// every backend's limit on bound parameters).
const CHECKS_PER_STATEMENT: usize = 500;

/// Inserts a batch's check rows, a few statements for all of them: an
/// unchanged page's check is otherwise two round trips (its source, its
/// check row), and on PostgreSQL the writer spends its time on round trips.
/// The rows go as one JSON parameter, so the statement is the same for
/// every batch size (see [`super::source_update::values_cte`]): on SQLite
/// an `insert_many` of each batch size was a statement prepared anew.
pub(crate) async fn insert_checks<C: ConnectionTrait>(
    txn: &C,
    rows: Vec<checks::ActiveModel>,
) -> Result<(), StoreError> {
    let per_statement = super::source_update::rows_per_statement(txn.get_database_backend(), CHECKS_PER_STATEMENT);
    for chunk in rows.chunks(per_statement) {
        txn.execute_raw(checks_statement(txn.get_database_backend(), chunk)).await?;
    }
    Ok(())
}

/// The columns of a check row, with their PostgreSQL types.
pub(crate) const CHECK_COLUMNS: [(&str, &str); 9] = [
    ("source_id", "bigint"),
    ("started_at", "timestamptz"),
    ("duration_ms", "bigint"),
    ("outcome", "text"),
    ("http_status", "integer"),
    ("error_kind", "text"),
    ("message", "text"),
    ("bytes", "bigint"),
    ("snapshot_id", "bigint"),
];

/// The insert of check rows: `INSERT … SELECT` from the rows' JSON (one
/// text for any number of rows).
fn checks_statement(backend: sea_orm::DbBackend, rows: &[checks::ActiveModel]) -> sea_orm::Statement {
    let (cte, values) = super::source_update::values_cte(backend, &CHECK_COLUMNS, check_values(rows));
    sea_orm::Statement::from_sql_and_values(backend, format!("{cte} {}", insert_checks_from("v", None)), values)
}

/// `INSERT INTO checks (…) SELECT … FROM table` of check rows in `table`
/// (with [`CHECK_COLUMNS`]), only those whose source is in `only` (a
/// table with an `id` column) when given.
pub(crate) fn insert_checks_from(table: &str, only: Option<&str>) -> String {
    let names: Vec<&str> = CHECK_COLUMNS.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let only = only.map(|only| format!(" WHERE source_id IN (SELECT id FROM {only})")).unwrap_or_default();
    format!("INSERT INTO checks ({names}) SELECT {names} FROM {table}{only}")
}

/// Each check row's values, in the order of [`CHECK_COLUMNS`].
pub(crate) fn check_values(rows: &[checks::ActiveModel]) -> impl ExactSizeIterator<Item = [sea_orm::Value; 9]> + '_ {
    use checks::Column as C;
    use sea_orm::ActiveModelTrait;
    rows.iter().map(|r| {
        [
            C::SourceId,
            C::StartedAt,
            C::DurationMs,
            C::Outcome,
            C::HttpStatus,
            C::ErrorKind,
            C::Message,
            C::Bytes,
            C::SnapshotId,
        ]
        .map(|column| r.get(column).into_value().unwrap_or(sea_orm::Value::String(None)))
    })
}

/// The check row of `rec`, pointing at the snapshot it stored, if any.
pub(crate) fn check_row(rec: &CheckRecord, snapshot_id: Option<i64>) -> checks::ActiveModel {
    checks::ActiveModel {
        source_id: Set(rec.source_id.0),
        started_at: Set(rec.started_at),
        duration_ms: Set(i64::try_from(rec.duration_ms).unwrap_or(i64::MAX)),
        outcome: Set(rec.outcome),
        http_status: Set(rec.http_status.map(i32::from)),
        error_kind: Set(rec.error_kind.map(|k| k.as_str().to_owned())),
        message: Set(rec.message.clone()),
        bytes: Set(i64::try_from(rec.bytes).unwrap_or(i64::MAX)),
        snapshot_id: Set(snapshot_id),
        ..Default::default()
    }
}

/// A snapshot row; metadata that is not JSON is corrupt data, reported as
/// such rather than read as "no metadata" (which would make the next
/// comparison see every field as new).
fn snapshot_from_row(m: snapshots::Model) -> Result<Snapshot, StoreError> {
    let meta = serde_json::from_str(&m.meta)
        .map_err(|e| StoreError::Corrupt(format!("snapshot #{}: unreadable meta: {e}", m.id)))?;
    Ok(Snapshot {
        id: m.id,
        source_id: SourceId(m.source_id),
        created_at: m.created_at,
        content_hash: m.content_hash,
        meta,
        text: stored_text(m.id, m.text, m.text_zstd)?,
        raw_hash: m.raw_hash,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn compressed_bodies_round_trip_on_a_reused_context() {
        for body in ["<html>通义千问</html>".repeat(500), String::new(), "x".repeat(3)] {
            let c = CompressedBody::compress(body.as_bytes()).unwrap();
            assert_eq!(zstd::decode_all(c.zstd.as_slice()).unwrap(), body.as_bytes());
            assert_eq!(c.size, body.len() as u64);
            assert_eq!(c.hash, hex::encode(sha2::Sha256::digest(body.as_bytes())));
        }
    }

    /// Texts stored as they are and compressed read the same; a compressed
    /// text that is not zstd, or not UTF-8 inside, is an error.
    #[test]
    fn stored_texts_read_in_both_shapes() {
        let text = "月之暗面发布Kimi K2，总参数一万亿。\n".repeat(200);
        assert_eq!(stored_text(1, text.clone(), None).unwrap(), text);
        let Ok(SnapshotText::Zstd(zstd)) = SnapshotText::for_store(text.clone(), true) else { panic!("compressed") };
        assert!(zstd.len() < text.len() / 4, "{} of {}", zstd.len(), text.len());
        assert_eq!(stored_text(2, String::new(), Some(zstd)).unwrap(), text);
        assert_eq!(SnapshotText::for_store(text.clone(), false).unwrap(), SnapshotText::Plain(text));
        for bad in [b"not zstd".to_vec(), zstd::encode_all(&[0xff, 0xfe][..], 3).unwrap()] {
            let err = stored_text(3, String::new(), Some(bad)).unwrap_err();
            assert!(matches!(err, StoreError::Corrupt(ref m) if m.contains("#3")), "{err}");
        }
    }

    #[test]
    fn a_compressed_body_holds_no_more_memory_than_its_bytes() {
        let body = "<p>通义千问发布新版本</p>".repeat(4000);
        let c = CompressedBody::compress(body.as_bytes()).unwrap();
        assert!(c.zstd.len() < body.len() / 10, "{} of {}", c.zstd.len(), body.len());
        assert_eq!(c.zstd.capacity(), c.zstd.len());
    }
}
