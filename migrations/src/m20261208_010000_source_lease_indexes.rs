//! Start-up and shutdown read the sources that hold a lease (a dead run's
//! checks to take back, this instance's leases to release) and those under
//! crash suspicion. Both are a handful of rows, but without an index each
//! read scanned the whole table: with 100,000 idle sources, four such scans
//! added 55 ms to every start (SQLite), and they grow with the table.
//! Partial indexes hold only those few rows, so they cost nothing to keep
//! for the idle majority.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    LeaseOwner,
    CrashCount,
}

const LEASED: &str = "idx_sources_leased";
const CRASH_SUSPECTS: &str = "idx_sources_crash_suspects";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(LEASED)
                    .table(Sources::Table)
                    .col(Sources::LeaseOwner)
                    .and_where(Expr::col(Sources::LeaseOwner).is_not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(CRASH_SUSPECTS)
                    .table(Sources::Table)
                    .col(Sources::Id)
                    .and_where(Expr::col(Sources::CrashCount).gt(0))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for name in [CRASH_SUSPECTS, LEASED] {
            manager.drop_index(Index::drop().name(name).table(Sources::Table).to_owned()).await?;
        }
        Ok(())
    }
}
