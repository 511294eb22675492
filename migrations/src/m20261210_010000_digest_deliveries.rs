//! Each recipient's delivery of a digest: a digest goes out as one SMTP
//! envelope per recipient, and each outcome (delivered, refused, deferred)
//! is recorded before the next, so one refused address costs nobody else
//! the week's digest and a resend skips whoever already has it.
//!
//! A JSON list on the digest's row, written in the same conditional UPDATE
//! that checks (and extends) the sender's lease. NULL on rows built before:
//! nobody delivered yet, unless the row is `sent`.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Digests {
    Table,
    /// `[{"address", "status", "detail", "at"}]`, one entry per envelope
    /// address, in the order they were tried.
    Deliveries,
}

pub fn add_column() -> TableAlterStatement {
    Table::alter().table(Digests::Table).add_column(text_null(Digests::Deliveries)).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(add_column()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Digests::Table).drop_column(Digests::Deliveries).to_owned()).await
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn the_column_is_nullable_text_on_both_backends() {
        let sqlite = add_column().to_string(SqliteQueryBuilder);
        let pg = add_column().to_string(PostgresQueryBuilder);
        assert_eq!(sqlite, r#"ALTER TABLE "digests" ADD COLUMN "deliveries" text NULL"#);
        assert_eq!(pg, r#"ALTER TABLE "digests" ADD COLUMN "deliveries" text NULL"#);
    }
}
