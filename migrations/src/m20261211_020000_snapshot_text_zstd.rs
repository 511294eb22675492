//! A snapshot's text may be stored zstd-compressed, in `text_zstd`.
//!
//! SQLite has no column compression: a bench page's ~29 KB of normalised
//! text took 7 overflow pages, each written to the WAL at the commit and
//! again to the database at the checkpoint, a third of a cold sweep's page
//! writes (issue 12). The store now writes new texts there compressed, as
//! it does raw bodies (~4.5 KB, 1–2 pages), with `text` left empty.
//! PostgreSQL keeps writing `text` (the server compresses it with lz4,
//! `m20261209_010000_snapshot_text_lz4`), so the column stays NULL there.
//!
//! Rows written before keep their text as it is (`text_zstd` NULL); the
//! store reads both. Going down puts every compressed text back in `text`
//! before the column goes, so nothing is lost.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, Statement, Value};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Snapshots {
    Table,
    TextZstd,
}

pub fn add_column() -> TableAlterStatement {
    Table::alter().table(Snapshots::Table).add_column(blob_null(Snapshots::TextZstd)).to_owned()
}

/// Compressed texts put back per statement on the way down: a few MB of
/// text in memory at a time.
const TEXTS_PER_ROUND: u32 = 100;

/// Decompresses every compressed text into `text`, a round at a time.
async fn restore_texts<C: ConnectionTrait>(db: &C) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let (text, id) = match backend {
        sea_orm::DatabaseBackend::Postgres => ("$1", "$2"),
        _ => ("?", "?"),
    };
    loop {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                format!("SELECT id, text_zstd FROM snapshots WHERE text_zstd IS NOT NULL LIMIT {TEXTS_PER_ROUND}"),
            ))
            .await?;
        if rows.is_empty() {
            return Ok(());
        }
        for row in rows {
            let snapshot: i64 = row.try_get("", "id")?;
            let zstd: Vec<u8> = row.try_get("", "text_zstd")?;
            let plain = zstd::decode_all(zstd.as_slice())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or_else(|| DbErr::Migration(format!("snapshot #{snapshot}: its compressed text is unreadable")))?;
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                format!("UPDATE snapshots SET text = {text}, text_zstd = NULL WHERE id = {id}"),
                [Value::from(plain), Value::from(snapshot)],
            ))
            .await?;
        }
    }
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(add_column()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        restore_texts(manager.get_connection()).await?;
        manager.alter_table(Table::alter().table(Snapshots::Table).drop_column(Snapshots::TextZstd).to_owned()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm_migration::sea_query::{PostgresQueryBuilder, SqliteQueryBuilder};

    #[test]
    fn the_column_is_nullable_bytes_on_both_backends() {
        assert_eq!(
            add_column().to_string(SqliteQueryBuilder),
            r#"ALTER TABLE "snapshots" ADD COLUMN "text_zstd" blob NULL"#
        );
        assert_eq!(
            add_column().to_string(PostgresQueryBuilder),
            r#"ALTER TABLE "snapshots" ADD COLUMN "text_zstd" bytea NULL"#
        );
    }
}
