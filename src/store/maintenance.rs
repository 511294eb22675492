//! Daily maintenance: prune old raw bodies and old check rows.
//!
//! Normalised text is never pruned (it is what diffs and the digest read),
//! and the raw body of each source's current snapshot is always kept: for a
//! source that died, it is the user's archive of the last good copy.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entity::{blobs, checks, snapshots, sources};
use super::{Store, StoreError};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    pub raw_bodies: u64,
    pub checks: u64,
}

impl Store {
    /// Drops raw bodies of snapshots older than `raw_before` (except current
    /// snapshots) and check rows older than `checks_before`, in one transaction.
    pub async fn prune(&self, raw_before: DateTime<Utc>, checks_before: DateTime<Utc>) -> Result<Pruned, StoreError> {
        let txn = self.write_txn().await?;
        let mut current = Query::select();
        current
            .column(sources::Column::LastSnapshotId)
            .from(sources::Entity)
            .and_where(sources::Column::LastSnapshotId.is_not_null());
        snapshots::Entity::update_many()
            .col_expr(snapshots::Column::RawHash, Expr::value(Option::<String>::None))
            .filter(snapshots::Column::CreatedAt.lt(raw_before))
            .filter(snapshots::Column::RawHash.is_not_null())
            .filter(snapshots::Column::Id.not_in_subquery(current))
            .exec(&txn)
            .await?;
        // A body is shared by every snapshot with the same hash: delete it
        // only when no snapshot refers to it any more.
        let mut referenced = Query::select();
        referenced
            .column(snapshots::Column::RawHash)
            .from(snapshots::Entity)
            .and_where(snapshots::Column::RawHash.is_not_null());
        let raw = blobs::Entity::delete_many()
            .filter(blobs::Column::CreatedAt.lt(raw_before))
            .filter(blobs::Column::Hash.not_in_subquery(referenced))
            .exec(&txn)
            .await?;
        let old_checks =
            checks::Entity::delete_many().filter(checks::Column::StartedAt.lt(checks_before)).exec(&txn).await?;
        txn.commit().await?;
        Ok(Pruned { raw_bodies: raw.rows_affected, checks: old_checks.rows_affected })
    }
}
