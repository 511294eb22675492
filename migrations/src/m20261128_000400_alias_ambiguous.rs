//! Aliases that are also everyday words (商量 "to discuss", 星火 in 星火燎原)
//! match only where they are used as a name.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum CatalogAliases {
    Table,
    Ambiguous,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(CatalogAliases::Table)
                    .add_column(boolean(CatalogAliases::Ambiguous).default(false))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(Table::alter().table(CatalogAliases::Table).drop_column(CatalogAliases::Ambiguous).to_owned())
            .await
    }
}
