//! Checks that took the process down: how many in a row a source was in
//! flight for, and when it was quarantined for it (issue 14).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    CrashCount,
    QuarantinedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per ALTER: SQLite refuses two in one statement.
        manager
            .alter_table(
                Table::alter().table(Sources::Table).add_column(integer(Sources::CrashCount).default(0)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Sources::Table)
                    .add_column(timestamp_with_time_zone_null(Sources::QuarantinedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(Sources::Table).drop_column(Sources::QuarantinedAt).to_owned())
            .await?;
        manager.alter_table(Table::alter().table(Sources::Table).drop_column(Sources::CrashCount).to_owned()).await
    }
}
