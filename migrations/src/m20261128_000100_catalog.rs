//! The model/vendor catalog: vendors, models, aliases, chips/frameworks,
//! append-only facts with their evidence, mentions per (entity, source),
//! unknown-model candidates and links from sources to catalog entities.
//!
//! Entities are referenced as (`entity_kind`, `entity_id`) with kind
//! `vendor` or `model`, so facts, aliases and mentions serve both.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum CatalogVendors {
    Table,
    Id,
    Name,
    Country,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CatalogModels {
    Table,
    Id,
    Name,
    VendorId,
    Kind,
    Family,
    Version,
    Retired,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CatalogAliases {
    Table,
    Id,
    EntityKind,
    EntityId,
    Alias,
    CaseSensitive,
}

#[derive(DeriveIden)]
enum CatalogTerms {
    Table,
    Id,
    Kind,
    Name,
    VendorId,
    Aliases,
}

#[derive(DeriveIden)]
enum CatalogFacts {
    Table,
    Id,
    EntityKind,
    EntityId,
    Attribute,
    ValueKey,
    Value,
    Raw,
    Unit,
    DatePrecision,
    AsOf,
    Status,
    CreatedAt,
    DecidedAt,
}

#[derive(DeriveIden)]
enum CatalogFactEvidence {
    Table,
    Id,
    FactId,
    SourceId,
    SourceName,
    SnapshotId,
    Quote,
    Extractor,
    Confidence,
    ObservedAt,
}

#[derive(DeriveIden)]
enum CatalogMentions {
    Table,
    Id,
    EntityKind,
    EntityId,
    SourceId,
    FirstSnapshotId,
    LastSnapshotId,
    FirstSeenAt,
    LastSeenAt,
    SnapshotCount,
    LastCount,
}

#[derive(DeriveIden)]
enum CatalogCandidates {
    Table,
    Id,
    Key,
    Name,
    Count,
    Status,
    FirstSeenAt,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum CatalogCandidateSightings {
    Table,
    Id,
    CandidateId,
    SourceId,
    SnapshotId,
    Sentence,
    Count,
    SeenAt,
}

#[derive(DeriveIden)]
enum CatalogSourceLinks {
    Table,
    Id,
    EntityKind,
    EntityId,
    SourceId,
    Metric,
    CreatedAt,
}

fn cascade_to_source(from: (CatalogTable, SourceCol)) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from.0, from.1)
        .to(Sources::Table, Sources::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

type CatalogTable = DynIden;
type SourceCol = DynIden;

pub(crate) fn tables() -> Vec<TableCreateStatement> {
    vec![
        Table::create()
            .table(CatalogVendors::Table)
            .col(big_pk_auto(CatalogVendors::Id))
            .col(string(CatalogVendors::Name).unique_key())
            .col(string_null(CatalogVendors::Country))
            .col(timestamp_with_time_zone(CatalogVendors::CreatedAt))
            .to_owned(),
        Table::create()
            .table(CatalogModels::Table)
            .col(big_pk_auto(CatalogModels::Id))
            .col(string(CatalogModels::Name).unique_key())
            .col(big_integer_null(CatalogModels::VendorId))
            .col(string(CatalogModels::Kind))
            .col(string_null(CatalogModels::Family))
            .col(string_null(CatalogModels::Version))
            .col(boolean(CatalogModels::Retired).default(false))
            .col(timestamp_with_time_zone(CatalogModels::CreatedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogModels::Table, CatalogModels::VendorId)
                    .to(CatalogVendors::Table, CatalogVendors::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned(),
        Table::create()
            .table(CatalogAliases::Table)
            .col(big_pk_auto(CatalogAliases::Id))
            .col(string(CatalogAliases::EntityKind))
            .col(big_integer(CatalogAliases::EntityId))
            .col(string(CatalogAliases::Alias))
            .col(boolean(CatalogAliases::CaseSensitive).default(false))
            .to_owned(),
        Table::create()
            .table(CatalogTerms::Table)
            .col(big_pk_auto(CatalogTerms::Id))
            .col(string(CatalogTerms::Kind))
            .col(string(CatalogTerms::Name))
            .col(big_integer_null(CatalogTerms::VendorId))
            .col(text(CatalogTerms::Aliases))
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogTerms::Table, CatalogTerms::VendorId)
                    .to(CatalogVendors::Table, CatalogVendors::Id)
                    .on_delete(ForeignKeyAction::SetNull),
            )
            .to_owned(),
        Table::create()
            .table(CatalogFacts::Table)
            .col(big_pk_auto(CatalogFacts::Id))
            .col(string(CatalogFacts::EntityKind))
            .col(big_integer(CatalogFacts::EntityId))
            .col(string(CatalogFacts::Attribute))
            .col(string(CatalogFacts::ValueKey))
            .col(text(CatalogFacts::Value))
            .col(text(CatalogFacts::Raw))
            .col(string_null(CatalogFacts::Unit))
            .col(string_null(CatalogFacts::DatePrecision))
            .col(string_null(CatalogFacts::AsOf))
            .col(string(CatalogFacts::Status))
            .col(timestamp_with_time_zone(CatalogFacts::CreatedAt))
            .col(timestamp_with_time_zone_null(CatalogFacts::DecidedAt))
            .to_owned(),
        Table::create()
            .table(CatalogFactEvidence::Table)
            .col(big_pk_auto(CatalogFactEvidence::Id))
            .col(big_integer(CatalogFactEvidence::FactId))
            .col(big_integer_null(CatalogFactEvidence::SourceId))
            .col(string_null(CatalogFactEvidence::SourceName))
            .col(big_integer_null(CatalogFactEvidence::SnapshotId))
            .col(text(CatalogFactEvidence::Quote))
            .col(string(CatalogFactEvidence::Extractor))
            .col(double(CatalogFactEvidence::Confidence))
            .col(timestamp_with_time_zone(CatalogFactEvidence::ObservedAt))
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogFactEvidence::Table, CatalogFactEvidence::FactId)
                    .to(CatalogFacts::Table, CatalogFacts::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(&mut cascade_to_source((
                CatalogFactEvidence::Table.into_iden(),
                CatalogFactEvidence::SourceId.into_iden(),
            )))
            .to_owned(),
        Table::create()
            .table(CatalogMentions::Table)
            .col(big_pk_auto(CatalogMentions::Id))
            .col(string(CatalogMentions::EntityKind))
            .col(big_integer(CatalogMentions::EntityId))
            .col(big_integer(CatalogMentions::SourceId))
            .col(big_integer(CatalogMentions::FirstSnapshotId))
            .col(big_integer(CatalogMentions::LastSnapshotId))
            .col(timestamp_with_time_zone(CatalogMentions::FirstSeenAt))
            .col(timestamp_with_time_zone(CatalogMentions::LastSeenAt))
            .col(integer(CatalogMentions::SnapshotCount).default(1))
            .col(integer(CatalogMentions::LastCount).default(0))
            .foreign_key(&mut cascade_to_source((
                CatalogMentions::Table.into_iden(),
                CatalogMentions::SourceId.into_iden(),
            )))
            .to_owned(),
        Table::create()
            .table(CatalogCandidates::Table)
            .col(big_pk_auto(CatalogCandidates::Id))
            .col(string(CatalogCandidates::Key).unique_key())
            .col(string(CatalogCandidates::Name))
            .col(integer(CatalogCandidates::Count).default(0))
            .col(string(CatalogCandidates::Status))
            .col(timestamp_with_time_zone(CatalogCandidates::FirstSeenAt))
            .col(timestamp_with_time_zone(CatalogCandidates::LastSeenAt))
            .to_owned(),
        Table::create()
            .table(CatalogCandidateSightings::Table)
            .col(big_pk_auto(CatalogCandidateSightings::Id))
            .col(big_integer(CatalogCandidateSightings::CandidateId))
            .col(big_integer(CatalogCandidateSightings::SourceId))
            .col(big_integer(CatalogCandidateSightings::SnapshotId))
            .col(text(CatalogCandidateSightings::Sentence))
            .col(integer(CatalogCandidateSightings::Count).default(1))
            .col(timestamp_with_time_zone(CatalogCandidateSightings::SeenAt))
            .foreign_key(
                ForeignKey::create()
                    .from(CatalogCandidateSightings::Table, CatalogCandidateSightings::CandidateId)
                    .to(CatalogCandidates::Table, CatalogCandidates::Id)
                    .on_delete(ForeignKeyAction::Cascade),
            )
            .foreign_key(&mut cascade_to_source((
                CatalogCandidateSightings::Table.into_iden(),
                CatalogCandidateSightings::SourceId.into_iden(),
            )))
            .to_owned(),
        Table::create()
            .table(CatalogSourceLinks::Table)
            .col(big_pk_auto(CatalogSourceLinks::Id))
            .col(string(CatalogSourceLinks::EntityKind))
            .col(big_integer(CatalogSourceLinks::EntityId))
            .col(big_integer(CatalogSourceLinks::SourceId))
            .col(string(CatalogSourceLinks::Metric))
            .col(timestamp_with_time_zone(CatalogSourceLinks::CreatedAt))
            .foreign_key(&mut cascade_to_source((
                CatalogSourceLinks::Table.into_iden(),
                CatalogSourceLinks::SourceId.into_iden(),
            )))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create()
            .name("ux_catalog_aliases_entity_alias")
            .table(CatalogAliases::Table)
            .col(CatalogAliases::EntityKind)
            .col(CatalogAliases::EntityId)
            .col(CatalogAliases::Alias)
            .unique()
            .to_owned(),
        Index::create()
            .name("ux_catalog_terms_kind_name")
            .table(CatalogTerms::Table)
            .col(CatalogTerms::Kind)
            .col(CatalogTerms::Name)
            .unique()
            .to_owned(),
        // One fact per value: the same value again is more evidence.
        Index::create()
            .name("ux_catalog_facts_value")
            .table(CatalogFacts::Table)
            .col(CatalogFacts::EntityKind)
            .col(CatalogFacts::EntityId)
            .col(CatalogFacts::Attribute)
            .col(CatalogFacts::ValueKey)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_catalog_facts_status")
            .table(CatalogFacts::Table)
            .col(CatalogFacts::Status)
            .to_owned(),
        Index::create()
            .name("idx_catalog_evidence_fact")
            .table(CatalogFactEvidence::Table)
            .col(CatalogFactEvidence::FactId)
            .to_owned(),
        Index::create()
            .name("ux_catalog_mentions_entity_source")
            .table(CatalogMentions::Table)
            .col(CatalogMentions::EntityKind)
            .col(CatalogMentions::EntityId)
            .col(CatalogMentions::SourceId)
            .unique()
            .to_owned(),
        Index::create()
            .name("idx_catalog_mentions_first_seen")
            .table(CatalogMentions::Table)
            .col(CatalogMentions::FirstSeenAt)
            .to_owned(),
        Index::create()
            .name("idx_catalog_sightings_candidate")
            .table(CatalogCandidateSightings::Table)
            .col(CatalogCandidateSightings::CandidateId)
            .to_owned(),
        Index::create()
            .name("ux_catalog_links")
            .table(CatalogSourceLinks::Table)
            .col(CatalogSourceLinks::EntityKind)
            .col(CatalogSourceLinks::EntityId)
            .col(CatalogSourceLinks::SourceId)
            .col(CatalogSourceLinks::Metric)
            .unique()
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in tables() {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children before parents (foreign keys).
        for table in [
            CatalogSourceLinks::Table.into_iden(),
            CatalogCandidateSightings::Table.into_iden(),
            CatalogCandidates::Table.into_iden(),
            CatalogMentions::Table.into_iden(),
            CatalogFactEvidence::Table.into_iden(),
            CatalogFacts::Table.into_iden(),
            CatalogTerms::Table.into_iden(),
            CatalogAliases::Table.into_iden(),
            CatalogModels::Table.into_iden(),
            CatalogVendors::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_orm::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    /// The rendered DDL per backend: foreign keys and the fact value index
    /// are what the store's idempotent loading relies on.
    #[test]
    fn renders_for_both_backends() {
        let facts = tables().into_iter().find(|t| t.to_string(SqliteQueryBuilder).contains("\"catalog_facts\""));
        let facts = facts.map(|t| (t.to_string(SqliteQueryBuilder), t.to_string(PostgresQueryBuilder)));
        let (sqlite, pg) = facts.unwrap_or_default();
        assert!(sqlite.contains("\"value_key\" varchar NOT NULL"), "{sqlite}");
        assert!(pg.contains("\"id\" bigint GENERATED BY DEFAULT AS IDENTITY"), "{pg}");
        let evidence: Vec<String> = tables().iter().map(|t| t.to_string(PostgresQueryBuilder)).collect();
        assert!(evidence.iter().any(|s| s.contains("REFERENCES \"sources\" (\"id\") ON DELETE CASCADE")));
        let ux = indexes().iter().map(|i| i.to_string(PostgresQueryBuilder)).collect::<Vec<_>>().join("\n");
        assert!(ux.contains("CREATE UNIQUE INDEX \"ux_catalog_facts_value\""), "{ux}");
    }
}
