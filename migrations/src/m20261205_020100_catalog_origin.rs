//! Where a catalog entity comes from (`document`, `reference`, `observed`),
//! whether it is provisional (created from sightings, awaiting review) and
//! the page that supports a reference entry. One change per ALTER: SQLite
//! takes no more.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden, Clone, Copy)]
enum CatalogVendors {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum CatalogModels {
    Table,
}

#[derive(DeriveIden, Clone, Copy)]
enum Col {
    Origin,
    Provisional,
    EvidenceUrl,
}

fn tables() -> [TableRef; 2] {
    [CatalogVendors::Table.into_table_ref(), CatalogModels::Table.into_table_ref()]
}

/// The ALTER statements of `up`, one column each.
pub fn up_statements() -> Vec<TableAlterStatement> {
    let mut out = Vec::new();
    for t in tables() {
        out.push(Table::alter().table(t.clone()).add_column(string(Col::Origin).default("document")).to_owned());
        out.push(Table::alter().table(t.clone()).add_column(boolean(Col::Provisional).default(false)).to_owned());
        out.push(Table::alter().table(t).add_column(string_null(Col::EvidenceUrl)).to_owned());
    }
    out
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for s in up_statements() {
            manager.alter_table(s).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for t in tables() {
            for c in [Col::EvidenceUrl, Col::Provisional, Col::Origin] {
                manager.alter_table(Table::alter().table(t.clone()).drop_column(c).to_owned()).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_column_per_alter_on_both_backends() {
        let sql: Vec<String> = up_statements().iter().map(|s| s.to_string(SqliteQueryBuilder)).collect();
        assert_eq!(sql.len(), 6);
        assert_eq!(sql[0], r#"ALTER TABLE "catalog_vendors" ADD COLUMN "origin" varchar NOT NULL DEFAULT 'document'"#);
        let pg: Vec<String> = up_statements().iter().map(|s| s.to_string(PostgresQueryBuilder)).collect();
        assert!(pg[4].contains(r#"ADD COLUMN "provisional" bool NOT NULL DEFAULT FALSE"#), "{}", pg[4]);
    }
}
