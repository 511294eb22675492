//! Check records for store-level tests, as the runner would write them.

use chrono::{DateTime, Utc};
use modelwatch::source::{SourceOptions, normalize_url};
use modelwatch::store::metrics::MetricPoint;
use modelwatch::store::record::{
    CheckOutcome, CheckRecord, CompressedBody, NewChange, NewSnapshot, SnapshotPointer, SnapshotText, SourceUpdate,
};
use modelwatch::store::sources::NewSource;
use modelwatch::types::{SourceId, SourceKind, SourceStatus};

/// A successful check at `at` that stores `body` as a new snapshot (its raw
/// body hashed by length, so tests can find it again).
pub fn ok_record(source: SourceId, at: DateTime<Utc>, body: &str) -> CheckRecord {
    let raw = body.as_bytes().to_vec();
    CheckRecord {
        source_id: source,
        started_at: at,
        duration_ms: 5,
        outcome: CheckOutcome::Ok,
        http_status: Some(200),
        error_kind: None,
        message: None,
        bytes: raw.len() as u64,
        snapshot: Some(NewSnapshot {
            content_hash: format!("{:064}", raw.len()),
            text: SnapshotText::Plain(body.into()),
            meta: serde_json::Value::Null,
            raw: Some(CompressedBody {
                hash: raw_hash(body),
                zstd: zstd::encode_all(raw.as_slice(), 1).unwrap(),
                size: raw.len() as u64,
            }),
            http_status: Some(200),
            final_url: None,
        }),
        pointer: SnapshotPointer::New,
        changes: vec![],
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
            succeeded: true,
            kind: None,
            next_check_at: at,
        },
        metrics: vec![],
        lease_owner: None,
        expected_snapshot: None,
        catalog: None,
    }
}

/// The blob key `ok_record` uses for `body`.
pub fn raw_hash(body: &str) -> String {
    format!("{:064x}", body.len())
}

pub fn with_metrics(mut r: CheckRecord, points: &[(&str, f64)]) -> CheckRecord {
    r.metrics = points.iter().map(|(m, v)| MetricPoint { metric: (*m).to_owned(), value: *v }).collect();
    r
}

/// The record of a check that started from snapshot `current`.
pub fn after_snapshot(mut r: CheckRecord, current: Option<i64>) -> CheckRecord {
    r.expected_snapshot = current;
    r
}

pub fn with_change(mut r: CheckRecord, change: NewChange) -> CheckRecord {
    r.changes.push(change);
    r
}

/// The `n`th article page of a news site, as a new source.
pub fn page_source(n: usize) -> NewSource {
    NewSource {
        url: normalize_url(&format!("https://www.qbitai.com/2023/05/{n}.html")).unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    }
}

/// The record of a check that found its page as it was (no snapshot, no
/// change), started from snapshot `current`.
pub fn unchanged_record(source: SourceId, at: DateTime<Utc>, current: Option<i64>) -> CheckRecord {
    let mut r = after_snapshot(ok_record(source, at, ""), current);
    r.snapshot = None;
    r.pointer = SnapshotPointer::Keep;
    r.bytes = 0;
    r
}
