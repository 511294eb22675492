//! Reading the archive: a source's snapshots, one snapshot whole, the one in
//! force at a date.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Serialize;

use super::entity::{blobs, snapshots, sources};
use super::record::stored_text;
use super::{Store, StoreError};
use crate::types::SourceId;

/// One snapshot in a listing (without its text).
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotInfo {
    pub id: i64,
    pub source_id: i64,
    pub created_at: DateTime<Utc>,
    pub content_hash: String,
    pub http_status: Option<i32>,
    pub final_url: Option<String>,
    /// Whether the raw body is still kept (old ones are pruned; the current
    /// one never is).
    pub raw_kept: bool,
    /// Uncompressed size of the raw body, when kept.
    pub raw_bytes: Option<i64>,
    /// The source's current snapshot: for a dead source, its last good copy.
    pub current: bool,
}

/// A snapshot with its text.
#[derive(Debug, Clone, Serialize)]
pub struct SnapshotFull {
    #[serde(flatten)]
    pub info: SnapshotInfo,
    pub meta: serde_json::Value,
    pub raw_hash: Option<String>,
    pub text: String,
}

type InfoRow = (i64, i64, DateTime<Utc>, String, Option<i32>, Option<String>, Option<String>);

impl Store {
    /// A source's snapshots, oldest first.
    pub async fn list_snapshots(&self, source: SourceId) -> Result<Vec<SnapshotInfo>, StoreError> {
        let rows: Vec<InfoRow> = snapshots::Entity::find()
            .select_only()
            .column(snapshots::Column::Id)
            .column(snapshots::Column::SourceId)
            .column(snapshots::Column::CreatedAt)
            .column(snapshots::Column::ContentHash)
            .column(snapshots::Column::HttpStatus)
            .column(snapshots::Column::FinalUrl)
            .column(snapshots::Column::RawHash)
            .filter(snapshots::Column::SourceId.eq(source.0))
            .order_by_asc(snapshots::Column::Id)
            .into_tuple()
            .all(self.db())
            .await?;
        let current = self.current_snapshot(source).await?;
        let mut hashes: Vec<String> = rows.iter().filter_map(|r| r.6.clone()).collect();
        hashes.sort_unstable();
        hashes.dedup();
        let mut sizes: HashMap<String, i64> = HashMap::new();
        for chunk in hashes.chunks(500) {
            let found: Vec<(String, i64)> = blobs::Entity::find()
                .select_only()
                .column(blobs::Column::Hash)
                .column(blobs::Column::Size)
                .filter(blobs::Column::Hash.is_in(chunk.iter().cloned()))
                .into_tuple()
                .all(self.db())
                .await?;
            sizes.extend(found);
        }
        Ok(rows.into_iter().map(|r| info(r, current, &sizes)).collect())
    }

    /// One snapshot, whole.
    pub async fn snapshot_full(&self, id: i64) -> Result<Option<SnapshotFull>, StoreError> {
        let Some(m) = snapshots::Entity::find_by_id(id).one(self.db()).await? else { return Ok(None) };
        let current = self.current_snapshot(SourceId(m.source_id)).await?;
        let mut sizes = HashMap::new();
        if let Some(hash) = &m.raw_hash
            && let Some(size) = blobs::Entity::find_by_id(hash.clone())
                .select_only()
                .column(blobs::Column::Size)
                .into_tuple::<i64>()
                .one(self.db())
                .await?
        {
            sizes.insert(hash.clone(), size);
        }
        let row: InfoRow =
            (m.id, m.source_id, m.created_at, m.content_hash, m.http_status, m.final_url, m.raw_hash.clone());
        Ok(Some(SnapshotFull {
            info: info(row, current, &sizes),
            meta: serde_json::from_str(&m.meta).unwrap_or(serde_json::Value::Null),
            raw_hash: m.raw_hash,
            text: stored_text(m.id, m.text, m.text_zstd)?,
        }))
    }

    /// The snapshot to show for a source: the one in force at `at` (the
    /// newest taken at or before it), else the current one (the last good
    /// copy of a dead source), else the newest.
    pub async fn snapshot_for(&self, source: SourceId, at: Option<DateTime<Utc>>) -> Result<Option<i64>, StoreError> {
        let newest = |q: sea_orm::Select<snapshots::Entity>| {
            q.select_only()
                .column(snapshots::Column::Id)
                .filter(snapshots::Column::SourceId.eq(source.0))
                .order_by_desc(snapshots::Column::Id)
                .into_tuple::<i64>()
        };
        if let Some(at) = at {
            return Ok(newest(snapshots::Entity::find().filter(snapshots::Column::CreatedAt.lte(at)))
                .one(self.db())
                .await?);
        }
        if let Some(id) = self.current_snapshot(source).await? {
            return Ok(Some(id));
        }
        Ok(newest(snapshots::Entity::find()).one(self.db()).await?)
    }

    async fn current_snapshot(&self, source: SourceId) -> Result<Option<i64>, StoreError> {
        let id: Option<Option<i64>> = sources::Entity::find_by_id(source.0)
            .select_only()
            .column(sources::Column::LastSnapshotId)
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(id.flatten())
    }
}

fn info(r: InfoRow, current: Option<i64>, sizes: &HashMap<String, i64>) -> SnapshotInfo {
    let raw_bytes = r.6.as_ref().and_then(|h| sizes.get(h).copied());
    SnapshotInfo {
        id: r.0,
        source_id: r.1,
        created_at: r.2,
        content_hash: r.3,
        http_status: r.4,
        final_url: r.5,
        raw_kept: raw_bytes.is_some(),
        raw_bytes,
        current: current == Some(r.0),
    }
}
