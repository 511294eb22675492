//! Reading recorded changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::entity::{changes, sources};
use super::{Store, StoreError};
use crate::types::{ChangeKind, SourceId};

/// A change as the CLI and the digest see it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub id: i64,
    pub source_id: i64,
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub kind: ChangeKind,
    pub detected_at: DateTime<Utc>,
    pub summary: String,
    pub added: i32,
    pub removed: i32,
    pub modified: i32,
    pub ratio: f64,
    pub excerpt: String,
    pub details: serde_json::Value,
}

#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub source: Option<SourceId>,
    pub limit: Option<u64>,
}

impl Store {
    /// Changes oldest first, with their source's URL (removed sources too:
    /// their history is kept).
    pub async fn list_changes(&self, filter: &ChangeFilter) -> Result<Vec<ChangeRow>, StoreError> {
        let mut q = changes::Entity::find().order_by_asc(changes::Column::Id);
        if let Some(since) = filter.since {
            q = q.filter(changes::Column::DetectedAt.gte(since));
        }
        if let Some(until) = filter.until {
            q = q.filter(changes::Column::DetectedAt.lt(until));
        }
        if let Some(source) = filter.source {
            q = q.filter(changes::Column::SourceId.eq(source.0));
        }
        if let Some(limit) = filter.limit {
            q = q.limit(limit);
        }
        let rows = q.all(self.db()).await?;
        let mut ids: Vec<i64> = rows.iter().map(|r| r.source_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let srcs: HashMap<i64, sources::Model> = sources::Entity::find()
            .filter(sources::Column::Id.is_in(ids))
            .all(self.db())
            .await?
            .into_iter()
            .map(|s| (s.id, s))
            .collect();
        rows.into_iter()
            .map(|c| {
                let src = srcs.get(&c.source_id);
                let corrupt = |what: &str, e: serde_json::Error| {
                    StoreError::Corrupt(format!("change #{}: unreadable {what}: {e}", c.id))
                };
                let tags = match src {
                    Some(s) => serde_json::from_str(&s.tags).map_err(|e| corrupt("source tags", e))?,
                    None => Vec::new(),
                };
                let details = serde_json::from_str(&c.details).map_err(|e| corrupt("details", e))?;
                Ok(ChangeRow {
                    id: c.id,
                    source_id: c.source_id,
                    url: src.map(|s| s.url.clone()).unwrap_or_default(),
                    title: src.and_then(|s| s.title.clone()),
                    tags,
                    kind: c.kind.parse().map_err(|e| StoreError::Corrupt(format!("change #{}: {e}", c.id)))?,
                    detected_at: c.detected_at,
                    summary: c.summary,
                    added: c.added,
                    removed: c.removed,
                    modified: c.modified,
                    ratio: c.ratio,
                    excerpt: c.excerpt,
                    details,
                })
            })
            .collect()
    }
}
