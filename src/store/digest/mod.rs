//! The digest outbox table: insert-once per period, claim with a lease,
//! record each recipient's delivery and each attempt's outcome.
//!
//! Every function takes any connection (`&impl ConnectionTrait`), so callers
//! may run them inside a transaction.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, TryInsertResult,
};

use super::{Store, StoreError};

use crate::digest::deliveries::Deliveries;
use crate::digest::outbox::{AttemptOutcome, NO_AUDIENCE, OutboxStatus};
use crate::digest::period::{Cursor, Previous};

mod inputs;
mod senders;
pub use inputs::load_inputs;
pub use senders::Sending;

pub mod entity {
    use sea_orm::entity::prelude::*;

    use crate::digest::outbox::OutboxStatus;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "digests")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
        pub period_key: String,
        pub audience: String,
        pub period_start: DateTimeUtc,
        pub period_end: DateTimeUtc,
        /// JSON array of addresses.
        pub recipients: String,
        pub subject: String,
        pub body_text: String,
        pub body_html: String,
        pub status: Status,
        pub attempts: i32,
        pub next_attempt_at: DateTimeUtc,
        pub claimed_until: Option<DateTimeUtc>,
        pub message_id: String,
        pub last_error: Option<String>,
        pub created_at: DateTimeUtc,
        pub sent_at: Option<DateTimeUtc>,
        /// The change cursor the digest started after (exclusive).
        pub seq_after: Option<i64>,
        /// The highest change sequence it covered (inclusive).
        pub seq_through: Option<i64>,
        /// JSON list of each recipient's delivery ([`crate::digest::deliveries`]);
        /// NULL: nobody delivered yet (unless `sent`).
        pub deliveries: Option<String>,
    }

    /// `digests.status`: [`OutboxStatus`] as the column stores it (the
    /// words it always held; no migration maps them).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
    #[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
    pub enum Status {
        #[sea_orm(string_value = "pending")]
        Pending,
        #[sea_orm(string_value = "sent")]
        Sent,
        #[sea_orm(string_value = "failed")]
        Failed,
        #[sea_orm(string_value = "skipped")]
        Skipped,
    }

    impl From<OutboxStatus> for Status {
        fn from(s: OutboxStatus) -> Status {
            match s {
                OutboxStatus::Pending => Status::Pending,
                OutboxStatus::Sent => Status::Sent,
                OutboxStatus::Failed => Status::Failed,
                OutboxStatus::Skipped => Status::Skipped,
            }
        }
    }

    impl From<Status> for OutboxStatus {
        fn from(s: Status) -> OutboxStatus {
            match s {
                Status::Pending => OutboxStatus::Pending,
                Status::Sent => OutboxStatus::Sent,
                Status::Failed => OutboxStatus::Failed,
                Status::Skipped => OutboxStatus::Skipped,
            }
        }
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use entity::{ActiveModel, Column, Entity, Status};

/// One outbox row, as the sender and `digest list` see it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DigestRow {
    pub id: i64,
    pub period_key: String,
    pub audience: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub recipients: Vec<String>,
    pub subject: String,
    #[serde(skip)]
    pub body_text: String,
    #[serde(skip)]
    pub body_html: String,
    pub status: OutboxStatus,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub message_id: String,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
    /// The changes covered: sequence numbers in `(seq_after, seq_through]`.
    pub seq_after: Option<i64>,
    pub seq_through: Option<i64>,
    /// Each recipient's outcome so far, by envelope address.
    pub deliveries: Deliveries,
}

impl TryFrom<entity::Model> for DigestRow {
    type Error = DbErr;

    /// Recipients that are not a JSON list are corrupt data: an error, not
    /// a digest that silently goes to nobody; deliveries likewise, not a
    /// digest sent again to everyone.
    fn try_from(m: entity::Model) -> Result<Self, DbErr> {
        let recipients = serde_json::from_str(&m.recipients)
            .map_err(|e| DbErr::Json(format!("digest #{}: unreadable recipients: {e}", m.id)))?;
        let deliveries = match m.deliveries.as_deref() {
            None => Deliveries::default(),
            Some(json) => serde_json::from_str(json)
                .map_err(|e| DbErr::Json(format!("digest #{}: unreadable deliveries: {e}", m.id)))?,
        };
        let status = OutboxStatus::from(m.status);
        Ok(DigestRow {
            id: m.id,
            period_key: m.period_key,
            audience: m.audience,
            period_start: m.period_start,
            period_end: m.period_end,
            recipients,
            subject: m.subject,
            body_text: m.body_text,
            body_html: m.body_html,
            status,
            attempts: m.attempts,
            next_attempt_at: m.next_attempt_at,
            message_id: m.message_id,
            last_error: m.last_error,
            created_at: m.created_at,
            sent_at: m.sent_at,
            seq_after: m.seq_after,
            seq_through: m.seq_through,
            deliveries,
        })
    }
}

/// A rendered digest for one audience, ready to be stored.
#[derive(Debug, Clone)]
pub struct NewDigest {
    pub period_key: String,
    pub audience: String,
    pub period_start: DateTime<Utc>,
    pub period_end: DateTime<Utc>,
    pub recipients: Vec<String>,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub message_id: String,
    /// The period's change cursor (`None` for a time window).
    pub cursor: Option<Cursor>,
}

/// Stores the digest as `pending` unless its (period, audience) is already
/// there — built by another instance or an earlier run. Returns the new id,
/// or `None` for "already there".
pub async fn insert_if_absent(
    db: &impl ConnectionTrait,
    d: NewDigest,
    now: DateTime<Utc>,
) -> Result<Option<i64>, DbErr> {
    let row = ActiveModel {
        id: NotSet,
        period_key: Set(d.period_key),
        audience: Set(d.audience),
        period_start: Set(d.period_start),
        period_end: Set(d.period_end),
        recipients: Set(serde_json::to_string(&d.recipients).unwrap_or_else(|_| "[]".to_owned())),
        subject: Set(d.subject),
        body_text: Set(d.body_text),
        body_html: Set(d.body_html),
        status: Set(Status::Pending),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        message_id: Set(d.message_id),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        seq_after: Set(d.cursor.and_then(|c| c.after)),
        seq_through: Set(d.cursor.map(|c| c.through)),
        deliveries: Set(None),
    };
    let result = Entity::insert(row)
        .on_conflict(OnConflict::columns([Column::PeriodKey, Column::Audience]).do_nothing().to_owned())
        .try_insert()
        .exec(db)
        .await?;
    Ok(match result {
        TryInsertResult::Inserted(r) => Some(r.last_insert_id),
        TryInsertResult::Empty | TryInsertResult::Conflicted => None,
    })
}

/// Records that `period` had nothing to report: a `skipped` row (no
/// recipients, nothing to send) whose end is where the next period starts.
/// A second empty run on the same local day moves that end forward.
pub async fn record_skipped(
    db: &impl ConnectionTrait,
    period_key: &str,
    period_start: DateTime<Utc>,
    period_end: DateTime<Utc>,
    cursor: Option<Cursor>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = ActiveModel {
        id: NotSet,
        period_key: Set(period_key.to_owned()),
        audience: Set(NO_AUDIENCE.to_owned()),
        period_start: Set(period_start),
        period_end: Set(period_end),
        recipients: Set("[]".to_owned()),
        subject: Set(String::new()),
        body_text: Set(String::new()),
        body_html: Set(String::new()),
        status: Set(Status::Skipped),
        attempts: Set(0),
        next_attempt_at: Set(now),
        claimed_until: Set(None),
        message_id: Set(String::new()),
        last_error: Set(None),
        created_at: Set(now),
        sent_at: Set(None),
        seq_after: Set(cursor.and_then(|c| c.after)),
        seq_through: Set(cursor.map(|c| c.through)),
        deliveries: Set(None),
    };
    Entity::insert(row)
        .on_conflict(
            OnConflict::columns([Column::PeriodKey, Column::Audience])
                .update_columns([Column::PeriodEnd, Column::CreatedAt, Column::SeqThrough])
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Where the next period starts: the end of the latest digest ever built,
/// whatever its status (a pending or failed digest still covers its period).
pub async fn last_period_end(db: &impl ConnectionTrait) -> Result<Option<DateTime<Utc>>, DbErr> {
    let last = Entity::find().order_by_desc(Column::PeriodEnd).one(db).await?;
    Ok(last.map(|m| m.period_end))
}

/// What the digests built so far covered: the latest end, and the highest
/// change cursor any of them reached (whatever its status: a pending or
/// failed digest still covers its changes; a skipped one found nothing to
/// report in them). `None` when no digest was ever built.
pub async fn previous(db: &impl ConnectionTrait) -> Result<Option<Previous>, DbErr> {
    use sea_orm::QuerySelect;
    let Some(end) = last_period_end(db).await? else { return Ok(None) };
    let through: Option<Option<i64>> =
        Entity::find().select_only().column_as(Column::SeqThrough.max(), "through").into_tuple().one(db).await?;
    Ok(Some(Previous { end, through: through.flatten() }))
}

/// Whether a digest was built for this period key (any audience). A
/// `skipped` row does not count: a later run the same day (with news, or with
/// `send_empty` on) may still build one.
pub async fn exists_for_period(db: &impl ConnectionTrait, period_key: &str) -> Result<bool, DbErr> {
    Ok(Entity::find()
        .filter(Column::PeriodKey.eq(period_key))
        .filter(Column::Status.ne(Status::Skipped))
        .one(db)
        .await?
        .is_some())
}

/// Pending rows whose next attempt is due (or all pending rows when
/// `ignore_backoff`: an explicit `digest send`), oldest period first.
pub async fn pending(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    ignore_backoff: bool,
) -> Result<Vec<DigestRow>, DbErr> {
    let mut q = Entity::find().filter(Column::Status.eq(Status::Pending));
    if !ignore_backoff {
        q = q.filter(Column::NextAttemptAt.lte(now));
    }
    let rows = q.order_by_asc(Column::PeriodEnd).order_by_asc(Column::Id).all(db).await?;
    rows.into_iter().map(DigestRow::try_from).collect()
}

/// Takes the row for one attempt: succeeds for exactly one caller while the
/// row is pending and nobody else holds an unexpired lease. The conditional
/// UPDATE is atomic on SQLite and PostgreSQL alike, so two instances (or two
/// racing `digest send`) never both send it.
pub async fn claim(
    db: &impl ConnectionTrait,
    id: i64,
    now: DateTime<Utc>,
    lease_until: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(lease_until))
        .col_expr(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(Status::Pending))
        .filter(Column::ClaimedUntil.is_null().or(Column::ClaimedUntil.lt(now)))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Records the recipients' outcomes so far, mid-attempt, and extends the
/// lease to `next_lease` (from now on the claim's token): only if the row is
/// still pending and still claimed by us (`lease_until`). One conditional
/// UPDATE, so a recipient is recorded delivered only under a live claim,
/// and the lease always covers the next envelope's send. Returns false
/// when the row is no longer ours: the caller stops sending.
pub async fn record_deliveries(
    db: &impl ConnectionTrait,
    id: i64,
    lease_until: DateTime<Utc>,
    next_lease: DateTime<Utc>,
    deliveries: &Deliveries,
) -> Result<bool, DbErr> {
    let json = serde_json::to_string(deliveries).map_err(|e| DbErr::Json(e.to_string()))?;
    let result = Entity::update_many()
        .col_expr(Column::Deliveries, Expr::value(json))
        .col_expr(Column::ClaimedUntil, Expr::value(next_lease))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(Status::Pending))
        .filter(Column::ClaimedUntil.eq(lease_until))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Writes an attempt's outcome and releases the lease, only if the row is
/// still pending and still claimed by us (`lease_until` is the value our
/// claim wrote). Returns false when it was not: our lease lapsed and another
/// sender took the row over, whose outcome must not be overwritten.
pub async fn record(
    db: &impl ConnectionTrait,
    id: i64,
    lease_until: DateTime<Utc>,
    outcome: &AttemptOutcome,
) -> Result<bool, DbErr> {
    let mut q = Entity::update_many()
        .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(Column::Id.eq(id))
        .filter(Column::Status.eq(Status::Pending))
        .filter(Column::ClaimedUntil.eq(lease_until));
    q = match outcome {
        AttemptOutcome::Sent { at } => q
            .col_expr(Column::Status, Expr::value(Status::Sent))
            .col_expr(Column::SentAt, Expr::value(*at))
            .col_expr(Column::LastError, Expr::value(Option::<String>::None)),
        AttemptOutcome::Retry { next_attempt_at, error } => q
            .col_expr(Column::NextAttemptAt, Expr::value(*next_attempt_at))
            .col_expr(Column::LastError, Expr::value(error.clone())),
        AttemptOutcome::Failed { error } => q
            .col_expr(Column::Status, Expr::value(Status::Failed))
            .col_expr(Column::LastError, Expr::value(error.clone())),
    };
    Ok(q.exec(db).await?.rows_affected == 1)
}

/// `digest send --retry-failed`: failed rows become pending again, with a
/// fresh attempt budget, addressed to their audience's recipients as
/// configured now (`current_recipients(audience key)`): the usual cause of a
/// failure is a rejected address the user has since fixed. A row whose
/// audience is no longer configured keeps its stored recipients. The
/// Message-ID is kept, and so are its deliveries: whoever has the digest
/// does not get it again; refusals are forgotten (tried again). Returns how
/// many rows were made pending.
pub async fn retry_failed(
    db: &impl ConnectionTrait,
    now: DateTime<Utc>,
    current_recipients: impl Fn(&str) -> Option<Vec<String>>,
) -> Result<u64, DbErr> {
    let failed = Entity::find().filter(Column::Status.eq(Status::Failed)).all(db).await?;
    let mut n = 0;
    for row in failed {
        let id = row.id;
        let recipients_json = row.recipients.clone();
        let audience = row.audience.clone();
        let deliveries = DigestRow::try_from(row)?.deliveries.for_retry();
        let deliveries = serde_json::to_string(&deliveries).map_err(|e| DbErr::Json(e.to_string()))?;
        let mut q = Entity::update_many()
            .col_expr(Column::Status, Expr::value(Status::Pending))
            .col_expr(Column::Deliveries, Expr::value(deliveries))
            .col_expr(Column::Attempts, Expr::value(0))
            .col_expr(Column::NextAttemptAt, Expr::value(now))
            .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(Column::Id.eq(id))
            .filter(Column::Status.eq(Status::Failed));
        if let Some(recipients) = current_recipients(&audience).filter(|r| !r.is_empty()) {
            let json = serde_json::to_string(&recipients).unwrap_or(recipients_json);
            q = q.col_expr(Column::Recipients, Expr::value(json));
        }
        n += q.exec(db).await?.rows_affected;
    }
    Ok(n)
}

/// Every digest, newest period first (`digest list`).
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<DigestRow>, DbErr> {
    let rows = Entity::find().order_by_desc(Column::PeriodEnd).order_by_desc(Column::Id).all(db).await?;
    rows.into_iter().map(DigestRow::try_from).collect()
}

/// The outbox as the rest of the program sees it: the same queries on the
/// store's connection, with the store's error type.
impl Store {
    /// Stores one period's digests (one per audience) in one transaction.
    /// Returns how many were new; 0 means the period was already there.
    pub async fn digest_enqueue(&self, digests: Vec<NewDigest>, now: DateTime<Utc>) -> Result<usize, StoreError> {
        let txn = self.write_txn().await?;
        let mut inserted = 0;
        for d in digests {
            if insert_if_absent(&txn, d, now).await?.is_some() {
                inserted += 1;
            }
        }
        txn.commit().await?;
        Ok(inserted)
    }

    pub async fn digest_record_skipped(
        &self,
        period_key: &str,
        period_start: DateTime<Utc>,
        period_end: DateTime<Utc>,
        cursor: Option<Cursor>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        Ok(record_skipped(self.db(), period_key, period_start, period_end, cursor, now).await?)
    }

    pub async fn digest_previous(&self) -> Result<Option<Previous>, StoreError> {
        Ok(previous(self.db()).await?)
    }

    pub async fn digest_last_period_end(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(last_period_end(self.db()).await?)
    }

    pub async fn digest_exists_for_period(&self, period_key: &str) -> Result<bool, StoreError> {
        Ok(exists_for_period(self.db(), period_key).await?)
    }

    pub async fn digest_pending(&self, now: DateTime<Utc>, ignore_backoff: bool) -> Result<Vec<DigestRow>, StoreError> {
        Ok(pending(self.db(), now, ignore_backoff).await?)
    }

    pub async fn digest_claim(
        &self,
        id: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(claim(self.db(), id, now, lease_until).await?)
    }

    pub async fn digest_record_deliveries(
        &self,
        id: i64,
        lease_until: DateTime<Utc>,
        next_lease: DateTime<Utc>,
        deliveries: &Deliveries,
    ) -> Result<bool, StoreError> {
        Ok(record_deliveries(self.db(), id, lease_until, next_lease, deliveries).await?)
    }

    pub async fn digest_record(
        &self,
        id: i64,
        lease_until: DateTime<Utc>,
        outcome: &AttemptOutcome,
    ) -> Result<bool, StoreError> {
        Ok(record(self.db(), id, lease_until, outcome).await?)
    }

    pub async fn digest_retry_failed(
        &self,
        now: DateTime<Utc>,
        current_recipients: impl Fn(&str) -> Option<Vec<String>>,
    ) -> Result<u64, StoreError> {
        Ok(retry_failed(self.db(), now, current_recipients).await?)
    }

    pub async fn digest_list(&self) -> Result<Vec<DigestRow>, StoreError> {
        Ok(list(self.db()).await?)
    }

    pub async fn digest_count_failed(&self) -> Result<u64, StoreError> {
        Ok(count_failed(self.db()).await?)
    }
}

/// Failed digests, for the `modelwatch_digest_failed` gauge.
pub async fn count_failed(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    use sea_orm::PaginatorTrait;
    Entity::find().filter(Column::Status.eq(Status::Failed)).count(db).await
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use sea_orm::Database;

    async fn db() -> sea_orm::DatabaseConnection {
        let db = Database::connect("sqlite::memory:").await.unwrap();
        // The whole schema: the outbox's cursor columns come from a later migration.
        use migration::MigratorTrait;
        migration::Migrator::up(&db, None).await.unwrap();
        db
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, h, 0, 0).unwrap()
    }

    fn new(key: &str, audience: &str) -> NewDigest {
        NewDigest {
            period_key: key.to_owned(),
            audience: audience.to_owned(),
            period_start: at(0) - chrono::Duration::days(7),
            period_end: at(0),
            recipients: vec!["研究组 <team@example.com>".to_owned()],
            subject: "modelwatch 周报：3 处内容变更".to_owned(),
            body_text: "本期共 3 处变更。".to_owned(),
            body_html: "<p>本期共 3 处变更。</p>".to_owned(),
            message_id: format!("<modelwatch.digest.{key}.{audience}@example.com>"),
            cursor: None,
        }
    }

    #[tokio::test]
    async fn a_period_is_stored_once_per_audience() {
        let db = db().await;
        assert!(insert_if_absent(&db, new("2026-11-30", "all"), at(0)).await.unwrap().is_some());
        assert!(insert_if_absent(&db, new("2026-11-30", "all"), at(1)).await.unwrap().is_none());
        assert!(insert_if_absent(&db, new("2026-11-30", "tags-0123456789ab"), at(1)).await.unwrap().is_some());
        let rows = list(&db).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].recipients, ["研究组 <team@example.com>"]);
        assert_eq!(last_period_end(&db).await.unwrap(), Some(at(0)));
        assert!(exists_for_period(&db, "2026-11-30").await.unwrap());
        assert!(!exists_for_period(&db, "2026-12-07").await.unwrap());
    }

    #[tokio::test]
    async fn an_empty_period_is_recorded_as_skipped_and_moves_the_next_start() {
        let db = db().await;
        let week_before = at(0) - chrono::Duration::days(7);
        let last_week = NewDigest { period_end: week_before, ..new("2026-11-23", "all") };
        let id = insert_if_absent(&db, last_week, week_before).await.unwrap().unwrap();
        assert!(claim(&db, id, week_before, at(1)).await.unwrap());
        assert!(record(&db, id, at(1), &AttemptOutcome::Sent { at: week_before }).await.unwrap());
        assert_eq!(last_period_end(&db).await.unwrap(), Some(week_before));
        // Monday's run found nothing to report.
        record_skipped(&db, "2026-11-30", week_before, at(0), None, at(0)).await.unwrap();
        assert_eq!(last_period_end(&db).await.unwrap(), Some(at(0)));
        // A second empty run that day moves the end, and still builds nothing.
        record_skipped(&db, "2026-11-30", week_before, at(3), None, at(3)).await.unwrap();
        assert_eq!(last_period_end(&db).await.unwrap(), Some(at(3)));
        assert!(!exists_for_period(&db, "2026-11-30").await.unwrap(), "a later run may still build one");
        assert!(pending(&db, at(5), true).await.unwrap().is_empty(), "nothing to send");
        let rows = list(&db).await.unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].status.as_str(), rows[0].audience.as_str()), ("skipped", NO_AUDIENCE));
        // A build later the same day (news came in) is stored next to it.
        assert!(insert_if_absent(&db, new("2026-11-30", "all"), at(6)).await.unwrap().is_some());
        assert!(exists_for_period(&db, "2026-11-30").await.unwrap());
    }

    #[tokio::test]
    async fn the_next_digest_starts_after_the_highest_cursor_any_digest_reached() {
        let db = db().await;
        assert_eq!(previous(&db).await.unwrap(), None);
        let cursor = |after, through| Some(Cursor { after, through, not_before: None });
        let built = NewDigest { cursor: cursor(None, 7), ..new("2026-11-23", "all") };
        insert_if_absent(&db, built, at(0)).await.unwrap();
        assert_eq!(previous(&db).await.unwrap(), Some(Previous { end: at(0), through: Some(7) }));
        // An empty run moves the cursor too: its changes had nothing to report.
        record_skipped(&db, "2026-11-30", at(0), at(2), cursor(Some(7), 9), at(2)).await.unwrap();
        assert_eq!(previous(&db).await.unwrap(), Some(Previous { end: at(2), through: Some(9) }));
        let row = &list(&db).await.unwrap()[0];
        assert_eq!((row.seq_after, row.seq_through), (Some(7), Some(9)));
    }

    #[tokio::test]
    async fn a_claim_is_exclusive_until_its_lease_lapses() {
        let db = db().await;
        let id = insert_if_absent(&db, new("2026-11-30", "all"), at(0)).await.unwrap().unwrap();
        assert!(claim(&db, id, at(0), at(1)).await.unwrap());
        assert!(!claim(&db, id, at(0), at(1)).await.unwrap(), "second claimer must lose");
        // The first claimer died; after the lease another one takes over.
        assert!(claim(&db, id, at(2), at(3)).await.unwrap());
        assert_eq!(list(&db).await.unwrap()[0].attempts, 2);
        assert!(record(&db, id, at(3), &AttemptOutcome::Sent { at: at(2) }).await.unwrap());
        assert!(!claim(&db, id, at(5), at(6)).await.unwrap(), "a sent digest is never claimed again");
        assert!(pending(&db, at(5), true).await.unwrap().is_empty());
        let row = &list(&db).await.unwrap()[0];
        assert_eq!((row.status.as_str(), row.sent_at), ("sent", Some(at(2))));
    }

    #[tokio::test]
    async fn a_sender_whose_lease_lapsed_does_not_overwrite_the_new_claimers_outcome() {
        let db = db().await;
        let id = insert_if_absent(&db, new("2026-11-30", "all"), at(0)).await.unwrap().unwrap();
        // A claims, its send hangs past the lease; B takes over and is refused.
        assert!(claim(&db, id, at(0), at(1)).await.unwrap());
        assert!(claim(&db, id, at(2), at(4)).await.unwrap());
        let refused = AttemptOutcome::Failed { error: "550 5.1.1 Recipient address rejected".to_owned() };
        assert!(record(&db, id, at(4), &refused).await.unwrap());
        // A finally returns: the row is B's outcome, not A's.
        assert!(!record(&db, id, at(1), &AttemptOutcome::Sent { at: at(3) }).await.unwrap());
        let row = &list(&db).await.unwrap()[0];
        assert_eq!((row.status.as_str(), row.sent_at), ("failed", None));
        // Still pending but claimed by someone else: not ours either.
        assert_eq!(retry_failed(&db, at(5), |_| None).await.unwrap(), 1);
        assert!(claim(&db, id, at(5), at(6)).await.unwrap());
        let retry = AttemptOutcome::Retry { next_attempt_at: at(9), error: "timeout".to_owned() };
        assert!(!record(&db, id, at(1), &retry).await.unwrap());
        assert!(record(&db, id, at(6), &AttemptOutcome::Sent { at: at(6) }).await.unwrap());
    }

    #[tokio::test]
    async fn deliveries_are_recorded_only_under_the_claim_and_move_its_lease() {
        use crate::digest::deliveries::{Delivery, DeliveryStatus};
        use sea_orm::ConnectionTrait;
        let db = db().await;
        let id = insert_if_absent(&db, new("2026-11-30", "all"), at(0)).await.unwrap().unwrap();
        assert!(list(&db).await.unwrap()[0].deliveries.is_empty(), "nobody delivered yet");
        let delivery = |address: &str, status| Delivery {
            address: address.to_owned(),
            status,
            detail: "250 OK".to_owned(),
            at: at(0),
        };
        let mut done = Deliveries::default();
        done.set(delivery("a@example.com", DeliveryStatus::Delivered));
        assert!(claim(&db, id, at(0), at(1)).await.unwrap());
        assert!(record_deliveries(&db, id, at(1), at(2), &done).await.unwrap());
        assert_eq!(list(&db).await.unwrap()[0].deliveries, done);
        // The lease moved to at(2): the old token is stale, and nobody else
        // may claim before at(2).
        assert!(!record_deliveries(&db, id, at(1), at(2), &done).await.unwrap());
        assert!(!claim(&db, id, at(1), at(9)).await.unwrap());
        // Our sender hangs past the new lease; another takes over, and the
        // late recorder is refused.
        assert!(claim(&db, id, at(3), at(4)).await.unwrap());
        let mut late = done.clone();
        late.set(delivery("b@example.com", DeliveryStatus::Delivered));
        assert!(!record_deliveries(&db, id, at(2), at(5), &late).await.unwrap());
        // The new sender: b refused for good; the row fails.
        done.set(delivery("b@example.com", DeliveryStatus::Refused));
        assert!(record_deliveries(&db, id, at(4), at(5), &done).await.unwrap());
        assert!(record(&db, id, at(5), &AttemptOutcome::Failed { error: "refused b".to_owned() }).await.unwrap());
        // `--retry-failed`: a is kept (never sent again), b's refusal forgotten.
        assert_eq!(retry_failed(&db, at(6), |_| None).await.unwrap(), 1);
        let row = &pending(&db, at(6), false).await.unwrap()[0];
        assert_eq!(row.deliveries.as_slice(), &[delivery("a@example.com", DeliveryStatus::Delivered)]);
        // Unreadable deliveries are corrupt data, not "nobody has it".
        db.execute_unprepared("UPDATE digests SET deliveries = 'not json'").await.unwrap();
        let err = list(&db).await.unwrap_err();
        assert!(err.to_string().contains("unreadable deliveries"), "{err}");
    }

    #[tokio::test]
    async fn retries_wait_for_their_time_and_failed_rows_can_be_retried() {
        let db = db().await;
        let id = insert_if_absent(&db, new("2026-11-30", "all"), at(0)).await.unwrap().unwrap();
        assert!(claim(&db, id, at(0), at(1)).await.unwrap());
        let retry = AttemptOutcome::Retry { next_attempt_at: at(4), error: "connection refused".to_owned() };
        assert!(record(&db, id, at(1), &retry).await.unwrap());
        assert!(pending(&db, at(3), false).await.unwrap().is_empty());
        assert_eq!(pending(&db, at(3), true).await.unwrap().len(), 1);
        assert_eq!(pending(&db, at(4), false).await.unwrap()[0].last_error.as_deref(), Some("connection refused"));
        assert!(claim(&db, id, at(4), at(5)).await.unwrap());
        let failed = AttemptOutcome::Failed { error: "550 5.1.1 Recipient address rejected".to_owned() };
        assert!(record(&db, id, at(5), &failed).await.unwrap());
        assert_eq!(count_failed(&db).await.unwrap(), 1);
        assert!(pending(&db, at(6), true).await.unwrap().is_empty());
        // The user fixed the rejected address in the config meanwhile.
        let fixed = |audience: &str| (audience == "all").then(|| vec!["研究组 <research@example.com>".to_owned()]);
        assert_eq!(retry_failed(&db, at(7), fixed).await.unwrap(), 1);
        let row = &pending(&db, at(7), false).await.unwrap()[0];
        assert_eq!((row.status.as_str(), row.attempts), ("pending", 0));
        assert_eq!(row.recipients, ["研究组 <research@example.com>"]);
        assert_eq!(row.message_id, "<modelwatch.digest.2026-11-30.all@example.com>", "same Message-ID");
    }
}
