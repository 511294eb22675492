//! Reading recorded changes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
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
}

/// Hands out `n` change sequence numbers inside the caller's transaction and
/// returns the first; the caller numbers its `n` changes from there.
///
/// The counter is one row, updated in place: on PostgreSQL the row lock is
/// held until the transaction ends, so a second writer waits here until the
/// first has committed (or rolled back, which gives its numbers back). Numbers
/// therefore become visible in the order they were handed out, and "every
/// change up to the highest visible number" never skips one still in flight.
/// On SQLite the single writer gives the same order. Call it as late in the
/// transaction as possible: the wait is from here to commit.
pub async fn reserve_seq(db: &impl ConnectionTrait, n: u32) -> Result<i64, DbErr> {
    let value = Alias::new("value");
    let stmt = Query::update()
        .table(Alias::new("change_seq"))
        .value(value.clone(), Expr::col(value.clone()).add(i64::from(n)))
        .and_where(Expr::col(Alias::new("id")).eq(1))
        .returning(Query::returning().column(value))
        .to_owned();
    let row = db
        .query_one(&stmt)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("the change_seq counter row (migration not run?)".to_owned()))?;
    let last: i64 = row.try_get("", "value")?;
    Ok(last - i64::from(n) + 1)
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
        let mut q = changes::Entity::find().order_by_asc(changes::Column::Id);
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
