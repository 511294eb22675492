//! A change remembers how many catalog entities (models, vendors) its
//! changed lines name, counted by the runner's catalog step when the change
//! is found: the digest ranks a model's new figure above a rewritten footer.
//! Rows written before this migration count 0, which is what the digest
//! assumed for every change until now.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Changes {
    Table,
    CatalogHits,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter().table(Changes::Table).add_column(integer(Changes::CatalogHits).default(0)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Changes::Table).drop_column(Changes::CatalogHits).to_owned()).await
    }
}
