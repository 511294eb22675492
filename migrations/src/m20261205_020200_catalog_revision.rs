//! The catalog's revision: one row whose counter every catalog edit bumps in
//! its own transaction, so the runner rebuilds its matcher only when the
//! catalog changed (one small read per new text instead of a full load).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogRevision {
    Table,
    Id,
    Revision,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(CatalogRevision::Table)
                    .col(big_integer(CatalogRevision::Id).primary_key())
                    .col(big_integer(CatalogRevision::Revision).default(0))
                    .to_owned(),
            )
            .await?;
        let insert = Query::insert()
            .into_table(CatalogRevision::Table)
            .columns([CatalogRevision::Id, CatalogRevision::Revision])
            .values([1.into(), 0.into()])
            .map_err(|e| DbErr::Custom(e.to_string()))?
            .to_owned();
        manager.exec_stmt(insert).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(CatalogRevision::Table).to_owned()).await
    }
}
