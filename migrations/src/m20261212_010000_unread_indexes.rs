//! Two indexes that every new page writes to and no check reads are
//! dropped (issue 12).
//!
//! `idx_catalog_mentions_first_seen` took an entry for each of the ~40
//! mentions of a new page: after a cold sweep of 2,000 bench pages it was
//! 4.1 MB, half the size of the mention rows themselves and 2.3 times their
//! unique index. Only the weekly digest and `catalog mentions --since` ask
//! for mentions by their first sighting; they now read the table (81,000
//! mentions: ~0.05–0.1 s on SQLite, once a week), and order what they keep.
//!
//! `idx_snapshots_hash` (source, content hash) was read by nothing: a
//! source's snapshots are looked up by `idx_snapshots_source` (source, id),
//! their hashes compared in the process.
//!
//! Going down makes both again.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogMentions {
    Table,
    FirstSeenAt,
}

#[derive(DeriveIden)]
enum Snapshots {
    Table,
    SourceId,
    ContentHash,
}

/// From `m20261128_000100_catalog`.
const MENTIONS_FIRST_SEEN: &str = "idx_catalog_mentions_first_seen";
/// From `m20261128_000001_core`.
const SNAPSHOTS_HASH: &str = "idx_snapshots_hash";

/// The two indexes as they were made.
fn indexes() -> [IndexCreateStatement; 2] {
    [
        Index::create()
            .name(MENTIONS_FIRST_SEEN)
            .table(CatalogMentions::Table)
            .col(CatalogMentions::FirstSeenAt)
            .to_owned(),
        Index::create()
            .name(SNAPSHOTS_HASH)
            .table(Snapshots::Table)
            .col(Snapshots::SourceId)
            .col(Snapshots::ContentHash)
            .to_owned(),
    ]
}

fn drops() -> [IndexDropStatement; 2] {
    [
        Index::drop().name(MENTIONS_FIRST_SEEN).table(CatalogMentions::Table).to_owned(),
        Index::drop().name(SNAPSHOTS_HASH).table(Snapshots::Table).to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for drop in drops() {
            manager.drop_index(drop).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    /// Down makes the indexes the older migrations made, on both backends.
    #[test]
    fn down_makes_the_indexes_as_they_were() {
        for index in indexes() {
            let (sqlite, pg) = (index.to_string(SqliteQueryBuilder), index.to_string(PostgresQueryBuilder));
            assert_eq!(sqlite, pg);
        }
        let [mentions, snapshots] = indexes();
        assert_eq!(
            mentions.to_string(SqliteQueryBuilder),
            r#"CREATE INDEX "idx_catalog_mentions_first_seen" ON "catalog_mentions" ("first_seen_at")"#
        );
        assert_eq!(
            snapshots.to_string(SqliteQueryBuilder),
            r#"CREATE INDEX "idx_snapshots_hash" ON "snapshots" ("source_id", "content_hash")"#
        );
        let [drop_mentions, _] = drops();
        assert_eq!(drop_mentions.to_string(PostgresQueryBuilder), r#"DROP INDEX "idx_catalog_mentions_first_seen""#);
    }
}
