//! The sources aggregate: add, list, find, pause, remove, and claiming due
//! sources with a lease.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Cond, Expr, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, FromQueryResult, Iterable,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
};
use url::Url;

use super::convert::{schedule_columns, source_from_row};
use super::entity::sources::{self, Column, Entity};
use super::{Store, StoreError};
use crate::import::PageKey;
use crate::source::{Source, SourceRef};
use crate::types::{SourceId, SourceKind, SourceStatus};

// The validated source lives with the source rules; re-exported here
// because the store is where it is saved.
pub use crate::source::NewSource;

fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// The row of a new source, due at once.
pub(super) fn new_row(new: &NewSource, now: DateTime<Utc>) -> sources::ActiveModel {
    let (every, cron) = schedule_columns(new.schedule.as_ref());
    sources::ActiveModel {
        url: Set(new.url.to_string()),
        final_url: Set(None),
        kind: Set(new.kind.as_str().to_owned()),
        title: Set(new.title.clone()),
        tags: Set(json(&new.tags)),
        status: Set(SourceStatus::Pending.as_str().to_owned()),
        last_error_kind: Set(None),
        last_error: Set(None),
        pending_status: Set(None),
        pending_count: Set(0),
        consecutive_failures: Set(0),
        schedule_every_secs: Set(every),
        schedule_cron: Set(cron),
        options: Set(json(&new.options)),
        etag: Set(None),
        last_modified: Set(None),
        last_snapshot_id: Set(None),
        last_checked_at: Set(None),
        last_ok_at: Set(None),
        next_check_at: Set(now),
        lease_owner: Set(None),
        lease_until: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
        removed_at: Set(None),
        section: Set(None),
        doc_position: Set(None),
        ..Default::default()
    }
}

/// The rows, removed or not, that [`PageKey::rank`] takes for the key's
/// page: its URL as given, its clean form, and any row under the clean
/// address with a query (a coarse `LIKE`, whose `_` and `%` only widen
/// it); best first (by the key's rank, then the oldest row).
async fn page_rows(db: &impl ConnectionTrait, key: &PageKey) -> Result<Vec<sources::Model>, StoreError> {
    let rows = Entity::find()
        .filter(
            Cond::any()
                .add(Column::Url.eq(key.given()))
                .add(Column::Url.eq(key.clean().as_str()))
                .add(Column::Url.starts_with(key.tracked_prefix())),
        )
        .all(db)
        .await?;
    let mut ranked: Vec<(u8, sources::Model)> =
        rows.into_iter().filter_map(|r| key.rank(&r.url).map(|rank| (rank, r))).collect();
    ranked.sort_by_key(|(rank, r)| (*rank, r.id));
    Ok(ranked.into_iter().map(|(_, r)| r).collect())
}

impl Store {
    /// Adds a source, due at once. A URL already watched is refused; a URL
    /// that was removed (history kept) is watched again with its history.
    pub async fn add_source(&self, new: &NewSource, now: DateTime<Utc>) -> Result<Source, StoreError> {
        let txn = self.write_txn().await?;
        let source = add_in(&txn, new, now).await?;
        txn.commit().await?;
        Ok(source)
    }

    /// [`Store::add_source`], the page being found as `key` finds it: a row
    /// stored with tracking parameters (before they were dropped) is the
    /// same page, watched already or watched again with its history.
    pub async fn add_page(&self, new: &NewSource, key: &PageKey, now: DateTime<Utc>) -> Result<Source, StoreError> {
        let txn = self.write_txn().await?;
        let rows = page_rows(&txn, key).await?;
        if let Some(row) = rows.iter().find(|r| r.removed_at.is_none()) {
            return Err(StoreError::Duplicate { id: row.id, url: row.url.clone() });
        }
        let source = match rows.into_iter().next() {
            Some(removed) => rewatch(&txn, removed, new, now).await?,
            None => add_in(&txn, new, now).await?,
        };
        txn.commit().await?;
        Ok(source)
    }

    /// Adds many sources in one transaction: all of them or, when the
    /// database fails, none (`sources import`). A URL already watched is
    /// an [`StoreError::Duplicate`] in its slot, not a failure.
    pub async fn add_sources(
        &self,
        news: &[NewSource],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Source, StoreError>>, StoreError> {
        let txn = self.write_txn().await?;
        let mut out = Vec::with_capacity(news.len());
        for new in news {
            match add_in(&txn, new, now).await {
                Err(e @ StoreError::Duplicate { .. }) => out.push(Err(e)),
                Err(e) => return Err(e),
                Ok(s) => out.push(Ok(s)),
            }
        }
        txn.commit().await?;
        Ok(out)
    }
}

/// Adds one source inside `txn` (see [`Store::add_source`]).
async fn add_in(txn: &DatabaseTransaction, new: &NewSource, now: DateTime<Utc>) -> Result<Source, StoreError> {
    let existing = Entity::find().filter(Column::Url.eq(new.url.as_str())).one(txn).await?;
    match existing {
        Some(row) if row.removed_at.is_none() => Err(StoreError::Duplicate { id: row.id, url: row.url }),
        Some(row) => rewatch(txn, row, new, now).await,
        None => source_from_row(new_row(new, now).insert(txn).await?),
    }
}

/// Watches a removed source again, with its history and `new`'s settings.
async fn rewatch(
    txn: &DatabaseTransaction,
    row: sources::Model,
    new: &NewSource,
    now: DateTime<Utc>,
) -> Result<Source, StoreError> {
    let (every, cron) = schedule_columns(new.schedule.as_ref());
    let mut am: sources::ActiveModel = row.into();
    am.removed_at = Set(None);
    am.kind = Set(new.kind.as_str().to_owned());
    am.title = Set(new.title.clone());
    am.tags = Set(json(&new.tags));
    am.schedule_every_secs = Set(every);
    am.schedule_cron = Set(cron);
    am.options = Set(json(&new.options));
    am.next_check_at = Set(now);
    am.updated_at = Set(now);
    source_from_row(am.update(txn).await?)
}

impl Store {
    /// Every active (not removed) source by id, `page` at a time, each read
    /// when the stream is polled for it: `check --all`, `sources list` and
    /// `doctor` walk the table this way; nothing reads it whole. A failed
    /// read is the stream's last item.
    pub fn source_pages(&self, page: u64) -> impl futures::Stream<Item = Result<Vec<Source>, StoreError>> + use<> {
        let store = self.clone();
        futures::stream::unfold(Some(None), move |after: Option<Option<SourceId>>| {
            let store = store.clone();
            async move {
                let after = after?;
                match store.sources_after(after, page).await {
                    Ok(rows) if rows.is_empty() => None,
                    Ok(rows) => {
                        let next = rows.last().map(|s| s.id);
                        Some((Ok(rows), Some(next)))
                    }
                    Err(e) => Some((Err(e), None)),
                }
            }
        })
    }

    /// Up to `limit` active (not removed) sources with an id above `after`,
    /// by id: a page of [`Store::source_pages`].
    pub async fn sources_after(&self, after: Option<SourceId>, limit: u64) -> Result<Vec<Source>, StoreError> {
        let mut query = Entity::find().filter(Column::RemovedAt.is_null());
        if let Some(after) = after {
            query = query.filter(Column::Id.gt(after.0));
        }
        let rows = query.order_by_asc(Column::Id).limit(limit).all(self.db()).await?;
        rows.into_iter().map(source_from_row).collect()
    }

    /// A page of active sources by id, optionally of one status: the web
    /// view's list.
    pub async fn sources_page(
        &self,
        status: Option<SourceStatus>,
        offset: u64,
        limit: u64,
    ) -> Result<Vec<Source>, StoreError> {
        let mut query = Entity::find().filter(Column::RemovedAt.is_null());
        if let Some(status) = status {
            query = query.filter(Column::Status.eq(status.as_str()));
        }
        let rows = query.order_by_asc(Column::Id).offset(offset).limit(limit).all(self.db()).await?;
        rows.into_iter().map(source_from_row).collect()
    }

    pub async fn count_sources(&self) -> Result<u64, StoreError> {
        Ok(Entity::find().filter(Column::RemovedAt.is_null()).count(self.db()).await?)
    }

    /// Whether any source is active: the first row answers, where a count
    /// reads them all.
    pub async fn has_sources(&self) -> Result<bool, StoreError> {
        let first: Option<i64> = Entity::find()
            .select_only()
            .column(Column::Id)
            .filter(Column::RemovedAt.is_null())
            .limit(1)
            .into_tuple()
            .one(self.db())
            .await?;
        Ok(first.is_some())
    }

    /// Finds an active source by id or URL (with or without its tracking
    /// parameters: see [`PageKey`]).
    pub async fn get_source(&self, r: &SourceRef) -> Result<Source, StoreError> {
        let row = match r {
            SourceRef::Id(id) => {
                Entity::find().filter(Column::RemovedAt.is_null()).filter(Column::Id.eq(id.0)).one(self.db()).await?
            }
            SourceRef::Url(key) => {
                let rows = page_rows(self.db(), key).await?;
                rows.into_iter().find(|r| r.removed_at.is_none())
            }
        };
        let what = match r {
            SourceRef::Id(id) => format!("#{id}"),
            SourceRef::Url(key) => key.given().to_owned(),
        };
        source_from_row(row.ok_or(StoreError::NotFound(what))?)
    }

    /// Sets a source's title to `to` if it is still `from`: a title that
    /// follows what the source watches (a renamed repository); a title
    /// changed since the check read it stays.
    pub async fn follow_title(&self, id: SourceId, from: &str, to: &str) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::Title, Expr::value(to))
            .filter(Column::Id.eq(id.0))
            .filter(Column::Title.eq(from))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Stops watching a source. Its snapshots and changes are kept unless
    /// `purge`, which deletes the source and (by cascade) all its history.
    pub async fn remove_source(&self, id: SourceId, purge: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        if purge {
            Entity::delete_by_id(id.0).exec(self.db()).await?;
        } else {
            Entity::update_many()
                .col_expr(Column::RemovedAt, Expr::value(now))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(id.0))
                .exec(self.db())
                .await?;
        }
        Ok(())
    }

    /// Pauses a source, or resumes it (due at once, status from its history).
    pub async fn set_paused(&self, source: &Source, paused: bool, now: DateTime<Utc>) -> Result<(), StoreError> {
        // While paused, `pending_status` keeps the status from before the
        // pause: resuming a dead source must not make it `ok` and then record
        // its death a second time.
        if !paused && source.quarantined_at.is_some() {
            // `resume` is also how a user lifts a crash quarantine.
            Entity::update_many()
                .col_expr(Column::QuarantinedAt, Expr::value(Option::<DateTime<Utc>>::None))
                .col_expr(Column::CrashCount, Expr::value(0))
                .col_expr(Column::NextCheckAt, Expr::value(now))
                .col_expr(Column::UpdatedAt, Expr::value(now))
                .filter(Column::Id.eq(source.id.0))
                .exec(self.db())
                .await?;
        }
        let (status, remembered) = match (paused, source.status) {
            (true, SourceStatus::Paused) => return Ok(()),
            (true, before) => (SourceStatus::Paused, Some(before)),
            (false, SourceStatus::Paused) => {
                let restored = source.pending_status.filter(|s| *s != SourceStatus::Paused).unwrap_or(
                    if source.last_snapshot_id.is_some() { SourceStatus::Ok } else { SourceStatus::Pending },
                );
                (restored, None)
            }
            (false, _) => return Ok(()),
        };
        let mut update = Entity::update_many()
            .col_expr(Column::Status, Expr::value(status.as_str()))
            .col_expr(Column::PendingStatus, Expr::value(remembered.map(|s| s.as_str())))
            .col_expr(Column::PendingCount, Expr::value(0))
            .col_expr(Column::UpdatedAt, Expr::value(now));
        if !paused {
            update = update.col_expr(Column::NextCheckAt, Expr::value(now));
        }
        update.filter(Column::Id.eq(source.id.0)).exec(self.db()).await?;
        Ok(())
    }

    /// Points a source at a feed URL (kind `feed`), keeping its history; the
    /// next check stores a new baseline. A URL watched already is refused.
    pub async fn switch_to_feed(&self, id: SourceId, url: &Url, now: DateTime<Utc>) -> Result<(), StoreError> {
        let txn = self.write_txn().await?;
        if let Some(other) = Entity::find().filter(Column::Url.eq(url.as_str())).one(&txn).await?
            && other.id != id.0
        {
            return Err(StoreError::Duplicate { id: other.id, url: other.url });
        }
        Entity::update_many()
            .col_expr(Column::Url, Expr::value(url.as_str()))
            .col_expr(Column::Kind, Expr::value(SourceKind::Feed.as_str()))
            .col_expr(Column::FinalUrl, Expr::value(Option::<String>::None))
            .col_expr(Column::Etag, Expr::value(Option::<String>::None))
            .col_expr(Column::LastModified, Expr::value(Option::<String>::None))
            .col_expr(Column::LastSnapshotId, Expr::value(Option::<i64>::None))
            .col_expr(Column::Status, Expr::value(SourceStatus::Pending.as_str()))
            .col_expr(Column::PendingStatus, Expr::value(Option::<String>::None))
            .col_expr(Column::PendingCount, Expr::value(0))
            .col_expr(Column::ConsecutiveFailures, Expr::value(0))
            .col_expr(Column::NextCheckAt, Expr::value(now))
            .col_expr(Column::UpdatedAt, Expr::value(now))
            .filter(Column::Id.eq(id.0))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(())
    }

    /// Claims up to `limit` due sources for `owner` until `now + lease`.
    ///
    /// On PostgreSQL the candidate rows are locked with `FOR UPDATE SKIP
    /// LOCKED`, so instances sweeping at the same moment never claim the same
    /// source; a crashed instance's leases simply expire.
    pub async fn claim_due(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease: std::time::Duration,
        limit: u32,
    ) -> Result<Vec<Source>, StoreError> {
        let rows = self.db().query_all_raw(self.claim_statement(now, owner, lease, limit)).await?;
        let mut sources = rows
            .iter()
            .map(|row| sources::Model::from_query_result(row, "").map_err(StoreError::Db).and_then(source_from_row))
            .collect::<Result<Vec<_>, _>>()?;
        sources.sort_by_key(|s| s.next_check_at);
        Ok(sources)
    }

    /// [`Store::claim_due`]'s one statement.
    fn claim_statement(
        &self,
        now: DateTime<Utc>,
        owner: &str,
        lease: std::time::Duration,
        limit: u32,
    ) -> sea_orm::Statement {
        let until = now + chrono::Duration::from_std(lease).unwrap_or(chrono::Duration::minutes(10));
        let mut due = Query::select();
        due.column(Column::Id)
            .from(Entity)
            .and_where(Column::RemovedAt.is_null())
            .and_where(Column::Status.ne(SourceStatus::Paused.as_str()))
            .and_where(Column::QuarantinedAt.is_null())
            .and_where(Column::NextCheckAt.lte(now))
            .cond_where(Cond::any().add(Column::LeaseUntil.is_null()).add(Column::LeaseUntil.lt(now)))
            .order_by(Column::NextCheckAt, sea_orm::Order::Asc)
            .limit(u64::from(limit));
        if !self.is_sqlite() {
            due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
        }
        // On PostgreSQL the claimed rows are named by an array of ids, so
        // they are read by the primary key whatever the planner guesses of
        // the subquery: as `id IN (…)`, with a table of a few thousand
        // sources, every claim was a hash join over a scan of the whole
        // table, its dead row versions included (~140 claims in an
        // unchanged sweep of 2,000 pages; issue 12). SQLite has no arrays,
        // and reads an `IN` list by rowid.
        let claimed = if self.is_sqlite() {
            Column::Id.in_subquery(due)
        } else {
            Expr::cust_with_exprs(
                "$1 = ANY(ARRAY($2))",
                [Expr::col((Entity, Column::Id)), Expr::SubQuery(None, Box::new(due.into()))],
            )
        };
        let mut claim = Entity::update_many()
            .col_expr(Column::LeaseOwner, Expr::value(owner))
            .col_expr(Column::LeaseUntil, Expr::value(until))
            .filter(claimed)
            .into_query();
        let backend = self.db().get_database_backend();
        let mut returning: Vec<Expr> = Column::iter().map(|c| c.select_as(c.into_returning_expr(backend))).collect();
        // On PostgreSQL the claim commits without waiting for the server's
        // WAL flush (a wait of 3-4 ms per claim here, ~130 claims in a
        // sweep of 2,000 pages, each on the pipeline's path; issue 12). A
        // lease is no record: one a server crash loses lets another
        // instance (or this one) check the source again meanwhile, and the
        // record's guard (its source's current snapshot) keeps one of the
        // two results, as for an expired lease.
        if !self.is_sqlite() {
            returning.push(Expr::cust(super::SYNC_COMMIT_OFF));
        }
        claim.returning(Query::returning().exprs(returning));
        super::stable_limit::stable_limit(backend.build(&claim))
    }

    /// Extends `owner`'s leases on `ids` to `until`: a check that runs longer
    /// than the lease (a slow host, retries) keeps its source, so no other
    /// instance checks it at the same time.
    pub async fn renew_leases(&self, owner: &str, ids: &[SourceId], until: DateTime<Utc>) -> Result<u64, StoreError> {
        if ids.is_empty() {
            return Ok(0);
        }
        let done = Entity::update_many()
            .col_expr(Column::LeaseUntil, Expr::value(until))
            .filter(Column::LeaseOwner.eq(owner))
            .filter(Column::Id.is_in(ids.iter().map(|id| id.0)))
            .exec(self.db())
            .await?;
        Ok(done.rows_affected)
    }

    /// The URLs of the sources `owner` holds a lease on, for the shutdown
    /// warning.
    pub async fn leased_urls(&self, owner: &str) -> Result<Vec<String>, StoreError> {
        Ok(Entity::find()
            .select_only()
            .column(Column::Url)
            .filter(Column::LeaseOwner.eq(owner))
            .order_by_asc(Column::Id)
            .into_tuple::<String>()
            .all(self.db())
            .await?)
    }

    /// Releases a lease early (after a check, or at shutdown).
    pub async fn release_leases(&self, owner: &str) -> Result<(), StoreError> {
        Entity::update_many()
            .col_expr(Column::LeaseOwner, Expr::value(Option::<String>::None))
            .col_expr(Column::LeaseUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(Column::LeaseOwner.eq(owner))
            .exec(self.db())
            .await?;
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::time::Duration;

    use sea_orm::ConnectionTrait;

    use crate::store::batch::tests::{explain, fill_sources, finish, open};

    /// A claim reads the sources it leases by their primary key, never by a
    /// scan of the whole table: with `id IN (subquery)` and 2,000 sources,
    /// PostgreSQL planned every claim as a hash join over all of them (and
    /// their dead row versions), ~140 times in an unchanged sweep (issue
    /// 12). Both with the daemon's 2,000 due sources and with 100,000
    /// more that are not due. PostgreSQL only (`MODELWATCH_TEST_POSTGRES_URL`).
    #[tokio::test]
    async fn a_claim_reads_sources_by_id_not_by_a_scan_on_postgres() {
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = open(true, dir.path()).await else { return };
        fill_sources(&store, 2000).await;
        let now = chrono::Utc::now() + chrono::Duration::seconds(1);
        let lease = Duration::from_secs(600);
        for idle in [0, 100_000] {
            if idle > 0 {
                store
                    .db()
                    .execute_unprepared(&format!(
                        "INSERT INTO sources (url, kind, tags, status, pending_count, consecutive_failures, \
                         options, next_check_at, created_at, updated_at) SELECT 'https://idle.example/' || i, \
                         'page', '[]', 'ok', 0, 0, '{{}}', now() + interval '10 years', now(), now() \
                         FROM generate_series(1, {idle}) AS i"
                    ))
                    .await
                    .unwrap();
            }
            store.db().execute_unprepared("ANALYZE sources").await.unwrap();
            for limit in [8, 32] {
                let plan = explain(&store, store.claim_statement(now, "me", lease, limit)).await;
                assert!(!plan.contains("Seq Scan"), "{idle} idle, limit {limit}:\n{plan}");
                assert!(plan.contains("Index Scan using sources_pkey on sources"), "{idle} idle:\n{plan}");
                assert!(plan.contains("idx_sources_next_check"), "{idle} idle:\n{plan}");
            }
        }
        // And it claims: each due source once, up to the limit.
        let first = store.claim_due(now, "me", lease, 32).await.unwrap();
        let second = store.claim_due(now, "other", lease, 32).await.unwrap();
        assert_eq!((first.len(), second.len()), (32, 32));
        assert!(first.iter().all(|s| second.iter().all(|t| t.id != s.id)));
        finish(store, pg).await;
    }
}
