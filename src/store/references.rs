//! The health of every watched reference, for `export references`: status,
//! since when, and the last good copy kept in the archive.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};

use super::convert::source_from_row;
use super::entity::{changes, snapshots, sources};
use super::{Store, StoreError};
use crate::source::Source;
use crate::types::ChangeKind;

/// Ids per `IN (…)` list: far below SQLite's bound-variable limit.
const CHUNK: usize = 500;

#[derive(Debug, Clone)]
pub struct ReferenceHealth {
    pub source: Source,
    /// The rank in the imported document (`None`: added by hand).
    pub position: Option<i64>,
    /// When the current status was recorded (the latest status change).
    pub since: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    /// The last good copy: the snapshot a dead source still points at.
    pub last_snapshot_at: Option<DateTime<Utc>>,
}

impl Store {
    /// Every active source, in document order (hand-added ones last, by id).
    pub async fn reference_health(&self) -> Result<Vec<ReferenceHealth>, StoreError> {
        let rows = sources::Entity::find()
            .filter(sources::Column::RemovedAt.is_null())
            .order_by_asc(sources::Column::Id)
            .all(self.db())
            .await?;
        let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
        let snapshot_ids: Vec<i64> = rows.iter().filter_map(|r| r.last_snapshot_id).collect();

        let mut since: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let found: Vec<(i64, DateTime<Utc>)> = changes::Entity::find()
                .select_only()
                .column(changes::Column::SourceId)
                .column(changes::Column::DetectedAt)
                .filter(changes::Column::Kind.eq(ChangeKind::Status.as_str()))
                .filter(changes::Column::SourceId.is_in(chunk.iter().copied()))
                .order_by_asc(changes::Column::Id)
                .into_tuple()
                .all(self.db())
                .await?;
            // Ascending ids: the last one seen per source is the latest.
            since.extend(found);
        }
        let mut taken: HashMap<i64, DateTime<Utc>> = HashMap::new();
        for chunk in snapshot_ids.chunks(CHUNK) {
            let found: Vec<(i64, DateTime<Utc>)> = snapshots::Entity::find()
                .select_only()
                .column(snapshots::Column::Id)
                .column(snapshots::Column::CreatedAt)
                .filter(snapshots::Column::Id.is_in(chunk.iter().copied()))
                .into_tuple()
                .all(self.db())
                .await?;
            taken.extend(found);
        }

        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            let (id, position, last_ok_at, snap) = (row.id, row.doc_position, row.last_ok_at, row.last_snapshot_id);
            out.push(ReferenceHealth {
                source: source_from_row(row)?,
                position,
                since: since.get(&id).copied(),
                last_ok_at,
                last_snapshot_at: snap.and_then(|s| taken.get(&s).copied()),
            });
        }
        out.sort_by_key(|r| (r.position.is_none(), r.position, r.source.id));
        Ok(out)
    }
}
