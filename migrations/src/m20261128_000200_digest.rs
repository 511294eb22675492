//! The digest outbox: one row per (period, audience), rendered and stored
//! before any SMTP traffic. The unique key on (period_key, audience) is what
//! makes a second build of the same period a no-op, across instances too.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum Digests {
    Table,
    Id,
    /// The local date the period ends on (`2026-11-30`).
    PeriodKey,
    /// `all` or a tag filter's key: recipients who get the same content.
    Audience,
    PeriodStart,
    PeriodEnd,
    /// JSON array of addresses.
    Recipients,
    Subject,
    BodyText,
    BodyHtml,
    /// pending | sent | failed
    Status,
    Attempts,
    NextAttemptAt,
    /// A sender's lease: while in the future, nobody else sends this row.
    ClaimedUntil,
    MessageId,
    LastError,
    CreatedAt,
    SentAt,
}

const UNIQUE_PERIOD: &str = "ux_digests_period_audience";
const DUE_INDEX: &str = "ix_digests_status_next_attempt";

pub fn create_table() -> TableCreateStatement {
    Table::create()
        .table(Digests::Table)
        .if_not_exists()
        .col(big_pk_auto(Digests::Id))
        .col(string_len(Digests::PeriodKey, 32))
        .col(string_len(Digests::Audience, 64))
        .col(timestamp_with_time_zone(Digests::PeriodStart))
        .col(timestamp_with_time_zone(Digests::PeriodEnd))
        .col(text(Digests::Recipients))
        .col(text(Digests::Subject))
        .col(text(Digests::BodyText))
        .col(text(Digests::BodyHtml))
        .col(string_len(Digests::Status, 16).default("pending"))
        .col(integer(Digests::Attempts).default(0))
        .col(timestamp_with_time_zone(Digests::NextAttemptAt))
        .col(timestamp_with_time_zone_null(Digests::ClaimedUntil))
        .col(string_len(Digests::MessageId, 255))
        .col(text_null(Digests::LastError))
        .col(timestamp_with_time_zone(Digests::CreatedAt))
        .col(timestamp_with_time_zone_null(Digests::SentAt))
        .to_owned()
}

pub fn create_unique_period() -> IndexCreateStatement {
    Index::create()
        .name(UNIQUE_PERIOD)
        .table(Digests::Table)
        .col(Digests::PeriodKey)
        .col(Digests::Audience)
        .unique()
        .if_not_exists()
        .to_owned()
}

pub fn create_due_index() -> IndexCreateStatement {
    Index::create()
        .name(DUE_INDEX)
        .table(Digests::Table)
        .col(Digests::Status)
        .col(Digests::NextAttemptAt)
        .if_not_exists()
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_table(create_table()).await?;
        manager.create_index(create_unique_period()).await?;
        manager.create_index(create_due_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Digests::Table).if_exists().to_owned()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn period_and_audience_are_unique_on_both_backends() {
        let sqlite = create_unique_period().to_string(SqliteQueryBuilder);
        let pg = create_unique_period().to_string(PostgresQueryBuilder);
        for sql in [&sqlite, &pg] {
            assert!(sql.contains("CREATE UNIQUE INDEX"), "{sql}");
            assert!(sql.contains(r#""period_key", "audience""#), "{sql}");
        }
    }

    #[test]
    fn table_has_the_outbox_columns() {
        let pg = create_table().to_string(PostgresQueryBuilder);
        for col in [
            "\"next_attempt_at\" timestamp with time zone NOT NULL",
            "\"claimed_until\" timestamp with time zone",
            "\"status\" varchar(16) NOT NULL DEFAULT 'pending'",
            "\"attempts\" integer NOT NULL DEFAULT 0",
        ] {
            assert!(pg.contains(col), "{col} missing in {pg}");
        }
        let sqlite = create_table().to_string(SqliteQueryBuilder);
        assert!(sqlite.contains("\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT"), "{sqlite}");
    }
}
