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

/// An index of `catalog_mentions` on the same three columns, in `order`.
fn mentions_index(name: &str, order: [CatalogMentions; 3], unique: bool) -> IndexCreateStatement {
    let mut index = Index::create();
    index.name(name).table(CatalogMentions::Table);
    for column in order {
        index.col(column);
    }
    if unique {
        index.unique();
    }
    index.to_owned()
}

fn unique_by_source() -> IndexCreateStatement {
    use CatalogMentions::{EntityId, EntityKind, SourceId};
    mentions_index(UNIQUE_BY_SOURCE, [SourceId, EntityKind, EntityId], true)
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
        use CatalogMentions::{EntityId, EntityKind, SourceId};
        manager.create_index(mentions_index(UNIQUE_BY_ENTITY, [EntityKind, EntityId, SourceId], true)).await?;
        manager.create_index(mentions_index(BY_SOURCE, [SourceId, EntityKind, EntityId], false)).await?;
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
