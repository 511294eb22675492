//! Rows → domain values. Stored strings that no longer parse are reported as
//! corruption rather than silently defaulted.

use url::Url;

use super::StoreError;
use super::entity::sources;
use crate::schedule::{CronExpr, Schedule};
use crate::source::{Source, SourceOptions};
use crate::types::{SourceId, SourceKind, SourceStatus};

fn corrupt(id: i64, what: &str, e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(format!("source #{id}: {what}: {e}"))
}

pub fn source_from_row(m: sources::Model) -> Result<Source, StoreError> {
    let id = m.id;
    let url = Url::parse(&m.url).map_err(|e| corrupt(id, "url", e))?;
    let kind: SourceKind = m.kind.parse().map_err(|e| corrupt(id, "kind", e))?;
    let status: SourceStatus = m.status.parse().map_err(|e| corrupt(id, "status", e))?;
    let schedule = match (m.schedule_every_secs, m.schedule_cron.as_deref()) {
        (_, Some(expr)) => Some(Schedule::Cron(CronExpr::parse(expr).map_err(|e| corrupt(id, "cron", e))?)),
        (Some(secs), None) => Some(Schedule::Every(std::time::Duration::from_secs(secs.max(60) as u64))),
        (None, None) => None,
    };
    let options: SourceOptions = serde_json::from_str(&m.options).map_err(|e| corrupt(id, "options", e))?;
    let tags: Vec<String> = serde_json::from_str(&m.tags).map_err(|e| corrupt(id, "tags", e))?;
    Ok(Source {
        id: SourceId(id),
        url,
        final_url: m.final_url.as_deref().and_then(|u| Url::parse(u).ok()),
        kind,
        title: m.title,
        tags,
        section: m.section,
        status,
        last_error_kind: m.last_error_kind.as_deref().and_then(|k| k.parse().ok()),
        schedule,
        options,
        etag: m.etag,
        last_modified: m.last_modified,
        last_snapshot_id: m.last_snapshot_id,
        pending_status: m.pending_status.as_deref().and_then(|s| s.parse().ok()),
        pending_count: m.pending_count.max(0) as u32,
        consecutive_failures: m.consecutive_failures.max(0) as u32,
        last_error: m.last_error,
        last_checked_at: m.last_checked_at,
        next_check_at: m.next_check_at,
        created_at: m.created_at,
        crash_count: m.crash_count.max(0) as u32,
        quarantined_at: m.quarantined_at,
    })
}

/// The stored columns of a schedule: (every_secs, cron).
pub fn schedule_columns(schedule: Option<&Schedule>) -> (Option<i64>, Option<String>) {
    match schedule {
        None => (None, None),
        Some(Schedule::Every(d)) => (Some(d.as_secs() as i64), None),
        Some(Schedule::Cron(c)) => (None, Some(c.six_fields().to_owned())),
    }
}
