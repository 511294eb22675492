//! PostgreSQL compresses snapshot texts with lz4 instead of pglz.
//!
//! A snapshot's text (~29 KB in the bench's pages) is stored out of line
//! and compressed by the server. pglz, PostgreSQL's default, was the
//! largest cost of a cold sweep's writes there: inserting 2,200 bench
//! texts took 1.8–2.0 s of server CPU with pglz and 0.33–0.42 s with lz4,
//! for 7.2 KB stored per text instead of 6.0 KB (issue 12). SQLite stores
//! texts as they are; it has no column compression, so it is left alone.
//!
//! Texts stored before keep their pglz form (PostgreSQL reads both); only
//! new values are compressed with lz4. A server built without lz4 (or one
//! older than 14, which has no per-column compression) keeps pglz: the
//! migration then changes nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Sets the compression of `snapshots.text` to `method`, unless the server
/// cannot: `feature_not_supported` (no lz4), `syntax_error` (before 14).
fn set_text_compression(method: &str) -> String {
    format!(
        "DO $$ BEGIN \
         EXECUTE 'ALTER TABLE snapshots ALTER COLUMN text SET COMPRESSION {method}'; \
         EXCEPTION WHEN feature_not_supported OR syntax_error THEN NULL; \
         END $$"
    )
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(&set_text_compression("lz4")).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() != sea_orm::DatabaseBackend::Postgres {
            return Ok(());
        }
        manager.get_connection().execute_unprepared(&set_text_compression("DEFAULT")).await?;
        Ok(())
    }
}
