//! Reading recorded changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LikeExpr};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::entity::{changes, sources};
use super::{Store, StoreError};
use crate::change::ChangeStats;
use crate::types::{ChangeKind, SourceId};

/// A change as the CLI and the digest see it.
#[derive(Debug, Clone, Serialize)]
pub struct ChangeRow {
    pub id: i64,
    /// Position in commit order (the digest cursor).
    pub seq: Option<i64>,
    pub source_id: i64,
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub kind: ChangeKind,
    pub detected_at: DateTime<Utc>,
    pub summary: String,
    #[serde(flatten)]
    pub stats: ChangeStats,
    /// Catalog entities (models, vendors) the changed lines name.
    pub catalog_hits: u32,
    pub excerpt: String,
    pub details: serde_json::Value,
    /// The snapshots the change is measured between (`changes show` diffs them).
    pub from_snapshot_id: Option<i64>,
    pub to_snapshot_id: Option<i64>,
}

#[derive(Debug, Clone, Default)]
pub struct ChangeFilter {
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub source: Option<SourceId>,
    pub limit: Option<u64>,
    /// Only changes with a sequence above this one (exclusive).
    pub after_seq: Option<i64>,
    /// Only changes with a sequence up to this one (inclusive).
    pub through_seq: Option<i64>,
    /// Only changes of this kind.
    pub kind: Option<ChangeKind>,
    /// Only changes of sources carrying this tag.
    pub tag: Option<String>,
    /// Newest first (the web view) instead of oldest first.
    pub newest_first: bool,
    /// Rows skipped before `limit` applies (pages of a list).
    pub offset: Option<u64>,
}

/// The highest change sequence committed so far (0 when there is none): a
/// digest built now covers changes up to it.
pub async fn max_committed_seq(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = changes::Entity::find()
        .select_only()
        .column_as(changes::Column::Seq.max(), "max_seq")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

impl Store {
    pub async fn max_committed_change_seq(&self) -> Result<i64, StoreError> {
        Ok(max_committed_seq(self.db()).await?)
    }

    /// Changes oldest first, with their source's URL (removed sources too:
    /// their history is kept).
    pub async fn list_changes(&self, filter: &ChangeFilter) -> Result<Vec<ChangeRow>, StoreError> {
        let mut q = if filter.newest_first {
            changes::Entity::find().order_by_desc(changes::Column::Id)
        } else {
            changes::Entity::find().order_by_asc(changes::Column::Id)
        };
        if let Some(kind) = filter.kind {
            q = q.filter(changes::Column::Kind.eq(kind.as_str()));
        }
        if let Some(tag) = &filter.tag {
            q = q.filter(changes::Column::SourceId.is_in(self.source_ids_tagged(tag).await?));
        }
        if let Some(since) = filter.since {
            q = q.filter(changes::Column::DetectedAt.gte(since));
        }
        if let Some(until) = filter.until {
            q = q.filter(changes::Column::DetectedAt.lt(until));
        }
        if let Some(after) = filter.after_seq {
            q = q.filter(changes::Column::Seq.gt(after));
        }
        if let Some(through) = filter.through_seq {
            q = q.filter(changes::Column::Seq.lte(through));
        }
        if let Some(source) = filter.source {
            q = q.filter(changes::Column::SourceId.eq(source.0));
        }
        if let Some(limit) = filter.limit {
            q = q.limit(limit);
        }
        if let Some(offset) = filter.offset {
            q = q.offset(offset);
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
                change_row(c, src)
            })
            .collect()
    }

    /// Ids of the sources (removed ones too) carrying `tag`. Tags are a JSON
    /// list per source: a LIKE narrows the rows, the parse decides.
    async fn source_ids_tagged(&self, tag: &str) -> Result<Vec<i64>, StoreError> {
        let needle = serde_json::to_string(tag).unwrap_or_default();
        let pattern = format!("%{}%", needle.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        let rows: Vec<(i64, String)> = sources::Entity::find()
            .select_only()
            .column(sources::Column::Id)
            .column(sources::Column::Tags)
            .filter(Expr::col((sources::Entity, sources::Column::Tags)).like(LikeExpr::new(pattern).escape('\\')))
            .into_tuple()
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .filter(|(_, tags)| serde_json::from_str::<Vec<String>>(tags).is_ok_and(|t| t.iter().any(|x| x == tag)))
            .map(|(id, _)| id)
            .collect())
    }

    /// The snapshots a change is measured between, with their text: what
    /// `changes show` and the web view's change page diff.
    pub async fn change_snapshots(
        &self,
        change: &ChangeRow,
    ) -> Result<(Option<super::record::Snapshot>, Option<super::record::Snapshot>), StoreError> {
        let from = match change.from_snapshot_id {
            Some(id) => self.get_snapshot(id).await?,
            None => None,
        };
        let to = match change.to_snapshot_id {
            Some(id) => self.get_snapshot(id).await?,
            None => None,
        };
        Ok((from, to))
    }

    /// One change, with its source's URL.
    pub async fn get_change(&self, id: i64) -> Result<Option<ChangeRow>, StoreError> {
        let Some(c) = changes::Entity::find_by_id(id).one(self.db()).await? else { return Ok(None) };
        let src = sources::Entity::find_by_id(c.source_id).one(self.db()).await?;
        change_row(c, src.as_ref()).map(Some)
    }
}

fn change_row(c: changes::Model, src: Option<&sources::Model>) -> Result<ChangeRow, StoreError> {
    let corrupt =
        |what: &str, e: serde_json::Error| StoreError::Corrupt(format!("change #{}: unreadable {what}: {e}", c.id));
    let tags = match src {
        Some(s) => serde_json::from_str(&s.tags).map_err(|e| corrupt("source tags", e))?,
        None => Vec::new(),
    };
    let details = serde_json::from_str(&c.details).map_err(|e| corrupt("details", e))?;
    Ok(ChangeRow {
        id: c.id,
        seq: c.seq,
        source_id: c.source_id,
        url: src.map(|s| s.url.clone()).unwrap_or_default(),
        title: src.and_then(|s| s.title.clone()),
        tags,
        kind: c.kind.parse().map_err(|e| StoreError::Corrupt(format!("change #{}: {e}", c.id)))?,
        detected_at: c.detected_at,
        summary: c.summary,
        stats: ChangeStats {
            added: u32::try_from(c.added).unwrap_or(0),
            removed: u32::try_from(c.removed).unwrap_or(0),
            modified: u32::try_from(c.modified).unwrap_or(0),
            ratio: c.ratio,
        },
        catalog_hits: u32::try_from(c.catalog_hits).unwrap_or(0),
        excerpt: c.excerpt,
        details,
        from_snapshot_id: c.from_snapshot_id,
        to_snapshot_id: c.to_snapshot_id,
    })
}
