//! Metric points (stars, forks, downloads, likes): appended on every good
//! check of a structured source, read by the digest as week-over-week deltas.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::metrics;
use super::{Store, StoreError};
use crate::types::SourceId;

pub use crate::types::MetricPoint;

/// A stored point.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPoint {
    pub source_id: SourceId,
    pub metric: String,
    pub value: f64,
    pub observed_at: DateTime<Utc>,
}

/// A metric's change over a period: the last value at or before `since`
/// and the latest value.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricDelta {
    pub metric: String,
    pub before: Option<f64>,
    pub now: f64,
}

impl MetricDelta {
    pub fn delta(&self) -> Option<f64> {
        self.before.map(|b| self.now - b)
    }
}

impl Store {
    /// Appends `points` observed at `at`. Non-finite values are skipped:
    /// they cannot be compared and some databases refuse them.
    pub async fn record_metrics(
        &self,
        source: SourceId,
        at: DateTime<Utc>,
        points: &[MetricPoint],
    ) -> Result<usize, StoreError> {
        insert_metrics(self.db(), source, at, points).await
    }

    /// Every point of a source, oldest first (for `--json` output and tests).
    pub async fn metric_points(&self, source: SourceId) -> Result<Vec<StoredPoint>, StoreError> {
        let rows = metrics::Entity::find()
            .filter(metrics::Column::SourceId.eq(source.0))
            .order_by_asc(metrics::Column::ObservedAt)
            .order_by_asc(metrics::Column::Id)
            .all(self.db())
            .await?;
        Ok(rows
            .into_iter()
            .map(|m| StoredPoint {
                source_id: SourceId(m.source_id),
                metric: m.metric,
                value: m.value,
                observed_at: m.observed_at,
            })
            .collect())
    }

    /// For each metric of `source`: the latest value and the last value at
    /// or before `since` (None when the series starts after `since`).
    pub async fn metric_deltas(&self, source: SourceId, since: DateTime<Utc>) -> Result<Vec<MetricDelta>, StoreError> {
        let points = self.metric_points(source).await?;
        let mut out: Vec<MetricDelta> = Vec::new();
        for p in points {
            let before_since = p.observed_at <= since;
            match out.iter_mut().find(|d| d.metric == p.metric) {
                Some(d) => {
                    if before_since {
                        d.before = Some(p.value);
                    }
                    d.now = p.value;
                }
                None => {
                    out.push(MetricDelta { metric: p.metric, before: before_since.then_some(p.value), now: p.value })
                }
            }
        }
        Ok(out)
    }

    /// Retention: drops points older than `before`.
    pub async fn prune_metrics(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        let res = metrics::Entity::delete_many().filter(metrics::Column::ObservedAt.lt(before)).exec(self.db()).await?;
        Ok(res.rows_affected)
    }
}

/// Inserts metric points on any connection (a check's transaction included);
/// non-finite values are dropped.
pub(crate) async fn insert_metrics<C: sea_orm::ConnectionTrait>(
    conn: &C,
    source: SourceId,
    at: DateTime<Utc>,
    points: &[MetricPoint],
) -> Result<usize, StoreError> {
    let rows: Vec<metrics::ActiveModel> = points
        .iter()
        .filter(|p| p.value.is_finite())
        .map(|p| metrics::ActiveModel {
            source_id: Set(source.0),
            metric: Set(p.metric.clone()),
            value: Set(p.value),
            observed_at: Set(at),
            ..Default::default()
        })
        .collect();
    let n = rows.len();
    if n > 0 {
        metrics::Entity::insert_many(rows).exec(conn).await?;
    }
    Ok(n)
}
