//! A source imported from the knowledge document keeps its place there: the
//! heading path above the link (`第三章 … / 本章参考`) and its rank in the
//! document, so `export references` can give the list back in the
//! document's own order and grouping.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sources {
    Table,
    Section,
    DocPosition,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One change per ALTER: SQLite refuses two in one statement.
        manager
            .alter_table(Table::alter().table(Sources::Table).add_column(text_null(Sources::Section)).to_owned())
            .await?;
        manager
            .alter_table(
                Table::alter().table(Sources::Table).add_column(big_integer_null(Sources::DocPosition)).to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Sources::Table).drop_column(Sources::DocPosition).to_owned()).await?;
        manager.alter_table(Table::alter().table(Sources::Table).drop_column(Sources::Section).to_owned()).await
    }
}
