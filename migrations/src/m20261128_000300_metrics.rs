//! Metrics: numeric time series per source (GitHub stars and forks, Hugging
//! Face downloads and likes). They are observations, not changes, so they
//! live apart from `changes` and the digest reads week-over-week deltas.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Metrics {
    Table,
    Id,
    SourceId,
    Metric,
    Value,
    ObservedAt,
}

#[derive(DeriveIden)]
enum Sources {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Metrics::Table)
                    .col(big_pk_auto(Metrics::Id))
                    .col(big_integer(Metrics::SourceId))
                    .col(string(Metrics::Metric))
                    .col(double(Metrics::Value))
                    .col(timestamp_with_time_zone(Metrics::ObservedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Metrics::Table, Metrics::SourceId)
                            .to(Sources::Table, Sources::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // The digest asks "this metric of this source around a date".
        manager
            .create_index(
                Index::create()
                    .name("idx_metrics_source_metric_time")
                    .table(Metrics::Table)
                    .col(Metrics::SourceId)
                    .col(Metrics::Metric)
                    .col(Metrics::ObservedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Metrics::Table).to_owned()).await
    }
}
