//! A mention is unique per (source, entity) under the index led by the
//! source; the index led by the entity is dropped.
//!
//! Both indexes held the same three columns. The entity-led one was the
//! costliest thing a new page wrote on SQLite: a page names ~40 entities,
//! each row went to the last leaf of its entity's run, so every batch
//! rewrote a leaf for every entity its pages named (27% of a cold sweep's
//! WAL frames, issue 12). Led by the source, a page's mentions are one run
//! of the index, a leaf or two. The upserts' `ON CONFLICT` names the same
//! columns, which both backends match against this index whatever their
//! order.
//!
//! What needs the entity-led order is rare and interactive: one entity's
//! mentions (`catalog show`), merging or removing an entity. Those now
//! read the whole table (a few ms at 80,000 mentions on SQLite).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogMentions {
    Table,
    SourceId,
    EntityKind,
    EntityId,
}

/// The unique index this migration makes.
const UNIQUE_BY_SOURCE: &str = "ux_catalog_mentions_source_entity";
/// The plain index led by the source (`m20261207_010000_mentions_by_source`).
const BY_SOURCE: &str = "idx_catalog_mentions_source_entity";
/// The unique index led by the entity (`m20261128_000100_catalog`).
const UNIQUE_BY_ENTITY: &str = "ux_catalog_mentions_entity_source";

fn unique_by_source() -> IndexCreateStatement {
    Index::create()
        .name(UNIQUE_BY_SOURCE)
        .table(CatalogMentions::Table)
        .col(CatalogMentions::SourceId)
        .col(CatalogMentions::EntityKind)
        .col(CatalogMentions::EntityId)
        .unique()
        .to_owned()
}

fn by_source() -> IndexCreateStatement {
    Index::create()
        .name(BY_SOURCE)
        .table(CatalogMentions::Table)
        .col(CatalogMentions::SourceId)
        .col(CatalogMentions::EntityKind)
        .col(CatalogMentions::EntityId)
        .to_owned()
}

fn unique_by_entity() -> IndexCreateStatement {
    Index::create()
        .name(UNIQUE_BY_ENTITY)
        .table(CatalogMentions::Table)
        .col(CatalogMentions::EntityKind)
        .col(CatalogMentions::EntityId)
        .col(CatalogMentions::SourceId)
        .unique()
        .to_owned()
}

fn drop(name: &str) -> IndexDropStatement {
    Index::drop().name(name).table(CatalogMentions::Table).to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // The rows are already unique on these columns (the old index said
        // so), so the new one builds on any existing table; it is made
        // before the old one goes, so an upsert always has its target.
        manager.create_index(unique_by_source()).await?;
        manager.drop_index(drop(BY_SOURCE)).await?;
        manager.drop_index(drop(UNIQUE_BY_ENTITY)).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.create_index(unique_by_entity()).await?;
        manager.create_index(by_source()).await?;
        manager.drop_index(drop(UNIQUE_BY_SOURCE)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn the_unique_index_leads_with_the_source_on_both_backends() {
        let sqlite = unique_by_source().to_string(SqliteQueryBuilder);
        let pg = unique_by_source().to_string(PostgresQueryBuilder);
        let expected = r#"CREATE UNIQUE INDEX "ux_catalog_mentions_source_entity" ON "catalog_mentions" ("source_id", "entity_kind", "entity_id")"#;
        assert_eq!(sqlite, expected);
        assert_eq!(pg, expected);
    }
}
