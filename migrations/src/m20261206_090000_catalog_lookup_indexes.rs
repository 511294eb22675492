//! The catalog step asks "which sources gave evidence for this fact" and
//! "in how many sources was this name seen" on every new snapshot. With the
//! source in the index next to its fact or candidate, both are answered
//! from the index alone, however many rows of evidence and sightings pile
//! up (each carries its quoted sentence). The new indexes start with the
//! old ones' column, so those are dropped.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogFactEvidence {
    Table,
    FactId,
    SourceId,
}

#[derive(DeriveIden)]
enum CatalogCandidateSightings {
    Table,
    CandidateId,
    SourceId,
}

const EVIDENCE_OLD: &str = "idx_catalog_evidence_fact";
const EVIDENCE_NEW: &str = "idx_catalog_evidence_fact_source";
const SIGHTINGS_OLD: &str = "idx_catalog_sightings_candidate";
const SIGHTINGS_NEW: &str = "idx_catalog_sightings_candidate_source";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(EVIDENCE_NEW)
                    .table(CatalogFactEvidence::Table)
                    .col(CatalogFactEvidence::FactId)
                    .col(CatalogFactEvidence::SourceId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(EVIDENCE_OLD).table(CatalogFactEvidence::Table).to_owned()).await?;
        manager
            .create_index(
                Index::create()
                    .name(SIGHTINGS_NEW)
                    .table(CatalogCandidateSightings::Table)
                    .col(CatalogCandidateSightings::CandidateId)
                    .col(CatalogCandidateSightings::SourceId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(SIGHTINGS_OLD).table(CatalogCandidateSightings::Table).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(SIGHTINGS_OLD)
                    .table(CatalogCandidateSightings::Table)
                    .col(CatalogCandidateSightings::CandidateId)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_index(Index::drop().name(SIGHTINGS_NEW).table(CatalogCandidateSightings::Table).to_owned())
            .await?;
        manager
            .create_index(
                Index::create()
                    .name(EVIDENCE_OLD)
                    .table(CatalogFactEvidence::Table)
                    .col(CatalogFactEvidence::FactId)
                    .to_owned(),
            )
            .await?;
        manager.drop_index(Index::drop().name(EVIDENCE_NEW).table(CatalogFactEvidence::Table).to_owned()).await
    }
}
