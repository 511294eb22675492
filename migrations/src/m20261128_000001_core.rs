//! Sources, snapshots (with deduplicated raw bodies), checks and changes.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
    Url,
    FinalUrl,
    Kind,
    Title,
    Tags,
    Status,
    LastErrorKind,
    LastError,
    PendingStatus,
    PendingCount,
    ConsecutiveFailures,
    ScheduleEverySecs,
    ScheduleCron,
    Options,
    Etag,
    LastModified,
    LastSnapshotId,
    LastCheckedAt,
    LastOkAt,
    NextCheckAt,
    LeaseOwner,
    LeaseUntil,
    CreatedAt,
    UpdatedAt,
    RemovedAt,
}

#[derive(DeriveIden)]
enum Blobs {
    Table,
    Hash,
    Data,
    Size,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Snapshots {
    Table,
    Id,
    SourceId,
    CreatedAt,
    ContentHash,
    Text,
    Meta,
    RawHash,
    HttpStatus,
    FinalUrl,
}

#[derive(DeriveIden)]
enum Checks {
    Table,
    Id,
    SourceId,
    StartedAt,
    DurationMs,
    Outcome,
    HttpStatus,
    ErrorKind,
    Message,
    Bytes,
    SnapshotId,
}

#[derive(DeriveIden)]
enum Changes {
    Table,
    Id,
    SourceId,
    DetectedAt,
    Kind,
    FromSnapshotId,
    ToSnapshotId,
    Summary,
    Added,
    Removed,
    Modified,
    Ratio,
    Excerpt,
    Details,
}

fn sources() -> TableCreateStatement {
    Table::create()
        .table(Sources::Table)
        .col(big_pk_auto(Sources::Id))
        .col(string(Sources::Url).unique_key())
        .col(text_null(Sources::FinalUrl))
        .col(string(Sources::Kind))
        .col(text_null(Sources::Title))
        .col(text(Sources::Tags))
        .col(string(Sources::Status))
        .col(string_null(Sources::LastErrorKind))
        .col(text_null(Sources::LastError))
        .col(string_null(Sources::PendingStatus))
        .col(integer(Sources::PendingCount).default(0))
        .col(integer(Sources::ConsecutiveFailures).default(0))
        .col(big_integer_null(Sources::ScheduleEverySecs))
        .col(string_null(Sources::ScheduleCron))
        .col(text(Sources::Options))
        .col(text_null(Sources::Etag))
        .col(text_null(Sources::LastModified))
        .col(big_integer_null(Sources::LastSnapshotId))
        .col(timestamp_with_time_zone_null(Sources::LastCheckedAt))
        .col(timestamp_with_time_zone_null(Sources::LastOkAt))
        .col(timestamp_with_time_zone(Sources::NextCheckAt))
        .col(string_null(Sources::LeaseOwner))
        .col(timestamp_with_time_zone_null(Sources::LeaseUntil))
        .col(timestamp_with_time_zone(Sources::CreatedAt))
        .col(timestamp_with_time_zone(Sources::UpdatedAt))
        .col(timestamp_with_time_zone_null(Sources::RemovedAt))
        .to_owned()
}

fn blobs() -> TableCreateStatement {
    Table::create()
        .table(Blobs::Table)
        .col(string_len(Blobs::Hash, 64).primary_key())
        .col(blob(Blobs::Data))
        .col(big_integer(Blobs::Size))
        .col(timestamp_with_time_zone(Blobs::CreatedAt))
        .to_owned()
}

fn snapshots() -> TableCreateStatement {
    Table::create()
        .table(Snapshots::Table)
        .col(big_pk_auto(Snapshots::Id))
        .col(big_integer(Snapshots::SourceId))
        .col(timestamp_with_time_zone(Snapshots::CreatedAt))
        .col(string_len(Snapshots::ContentHash, 64))
        .col(text(Snapshots::Text))
        .col(text(Snapshots::Meta))
        .col(string_len_null(Snapshots::RawHash, 64))
        .col(integer_null(Snapshots::HttpStatus))
        .col(text_null(Snapshots::FinalUrl))
        .foreign_key(
            ForeignKey::create()
                .from(Snapshots::Table, Snapshots::SourceId)
                .to(Sources::Table, Sources::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn checks() -> TableCreateStatement {
    Table::create()
        .table(Checks::Table)
        .col(big_pk_auto(Checks::Id))
        .col(big_integer(Checks::SourceId))
        .col(timestamp_with_time_zone(Checks::StartedAt))
        .col(big_integer(Checks::DurationMs))
        .col(string(Checks::Outcome))
        .col(integer_null(Checks::HttpStatus))
        .col(string_null(Checks::ErrorKind))
        .col(text_null(Checks::Message))
        .col(big_integer(Checks::Bytes))
        .col(big_integer_null(Checks::SnapshotId))
        .foreign_key(
            ForeignKey::create()
                .from(Checks::Table, Checks::SourceId)
                .to(Sources::Table, Sources::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn changes() -> TableCreateStatement {
    Table::create()
        .table(Changes::Table)
        .col(big_pk_auto(Changes::Id))
        .col(big_integer(Changes::SourceId))
        .col(timestamp_with_time_zone(Changes::DetectedAt))
        .col(string(Changes::Kind))
        .col(big_integer_null(Changes::FromSnapshotId))
        .col(big_integer_null(Changes::ToSnapshotId))
        .col(text(Changes::Summary))
        .col(integer(Changes::Added).default(0))
        .col(integer(Changes::Removed).default(0))
        .col(integer(Changes::Modified).default(0))
        .col(double(Changes::Ratio).default(0.0))
        .col(text(Changes::Excerpt))
        .col(text(Changes::Details))
        .foreign_key(
            ForeignKey::create()
                .from(Changes::Table, Changes::SourceId)
                .to(Sources::Table, Sources::Id)
                .on_delete(ForeignKeyAction::Cascade),
        )
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        Index::create().name("idx_sources_next_check").table(Sources::Table).col(Sources::NextCheckAt).to_owned(),
        Index::create()
            .name("idx_snapshots_source")
            .table(Snapshots::Table)
            .col(Snapshots::SourceId)
            .col(Snapshots::Id)
            .to_owned(),
        Index::create()
            .name("idx_snapshots_hash")
            .table(Snapshots::Table)
            .col(Snapshots::SourceId)
            .col(Snapshots::ContentHash)
            .to_owned(),
        Index::create()
            .name("idx_checks_source")
            .table(Checks::Table)
            .col(Checks::SourceId)
            .col(Checks::StartedAt)
            .to_owned(),
        Index::create().name("idx_changes_detected").table(Changes::Table).col(Changes::DetectedAt).to_owned(),
        Index::create()
            .name("idx_changes_source")
            .table(Changes::Table)
            .col(Changes::SourceId)
            .col(Changes::Id)
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [sources(), blobs(), snapshots(), checks(), changes()] {
            manager.create_table(table).await?;
        }
        for index in indexes() {
            manager.create_index(index).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Children first: foreign keys point at sources.
        for table in [
            Changes::Table.into_iden(),
            Checks::Table.into_iden(),
            Snapshots::Table.into_iden(),
            Blobs::Table.into_iden(),
            Sources::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}
