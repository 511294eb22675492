//! The digest's cursor over changes: every change gets a sequence number in
//! commit order, and every digest remembers the range it covered.
//!
//! Ids are not enough: on PostgreSQL an id is taken when the row is inserted,
//! not when its transaction commits, so a digest reading "every id up to the
//! highest visible one" can step over a smaller id that commits a moment
//! later — lost to every digest. The sequence comes from a one-row counter
//! that a check's transaction updates just before it writes its changes; the
//! row lock holds until commit, so numbers become visible in order.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
pub enum ChangeSeq {
    Table,
    /// Always 1: the counter is one row.
    Id,
    /// The highest sequence number handed out.
    Value,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    /// Commit-ordered sequence number (the digest cursor).
    Seq,
}

#[derive(DeriveIden)]
enum Digests {
    Table,
    /// The cursor the digest started after (exclusive); NULL for a digest
    /// that covered a time window (before this migration, or the first one).
    SeqAfter,
    /// The highest change sequence the digest covered (inclusive).
    SeqThrough,
}

const SEQ_INDEX: &str = "ix_changes_seq";

pub fn create_counter() -> TableCreateStatement {
    Table::create()
        .table(ChangeSeq::Table)
        .if_not_exists()
        .col(integer(ChangeSeq::Id).primary_key())
        .col(big_integer(ChangeSeq::Value).default(0))
        .to_owned()
}

/// Existing changes keep their order: their id becomes their sequence, and
/// the counter continues after the highest one. Plain SQL that both
/// backends read the same way.
pub const SEED_COUNTER: &str = "INSERT INTO change_seq (id, value) SELECT 1, COALESCE(MAX(id), 0) FROM changes";
pub const BACKFILL_CHANGES: &str = "UPDATE changes SET seq = id";

pub fn create_seq_index() -> IndexCreateStatement {
    Index::create().name(SEQ_INDEX).table(Changes::Table).col(Changes::Seq).if_not_exists().to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per ALTER: SQLite refuses more.
        manager
            .alter_table(Table::alter().table(Changes::Table).add_column(big_integer_null(Changes::Seq)).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(Digests::Table).add_column(big_integer_null(Digests::SeqAfter)).to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter().table(Digests::Table).add_column(big_integer_null(Digests::SeqThrough)).to_owned(),
            )
            .await?;
        manager.create_table(create_counter()).await?;
        let db = manager.get_connection();
        db.execute_unprepared(SEED_COUNTER).await?;
        db.execute_unprepared(BACKFILL_CHANGES).await?;
        manager.create_index(create_seq_index()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_index(Index::drop().name(SEQ_INDEX).table(Changes::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ChangeSeq::Table).if_exists().to_owned()).await?;
        manager.alter_table(Table::alter().table(Digests::Table).drop_column(Digests::SeqThrough).to_owned()).await?;
        manager.alter_table(Table::alter().table(Digests::Table).drop_column(Digests::SeqAfter).to_owned()).await?;
        manager.alter_table(Table::alter().table(Changes::Table).drop_column(Changes::Seq).to_owned()).await
    }
}
