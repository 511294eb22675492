//! Operator queries: the SQLite file's health (journal mode, quick check,
//! integrity check), a consistent online copy (`VACUUM INTO`), and counts
//! for the metrics. Used by `doctor`, `backup` and the ops endpoints.

use std::path::Path;

use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DbBackend, Statement};

use super::{Store, StoreError};

impl Store {
    /// SQLite's journal mode (`wal` for a database the daemon opened);
    /// `None` on PostgreSQL.
    pub async fn sqlite_journal_mode(&self) -> Result<Option<String>, StoreError> {
        if !self.is_sqlite() {
            return Ok(None);
        }
        Ok(self.pragma_rows("PRAGMA journal_mode").await?.into_iter().next())
    }

    /// `PRAGMA quick_check` (or the slower `integrity_check`): `["ok"]` for a
    /// sound file, otherwise the problems SQLite lists. Empty on PostgreSQL.
    pub async fn sqlite_check(&self, full: bool) -> Result<Vec<String>, StoreError> {
        if !self.is_sqlite() {
            return Ok(Vec::new());
        }
        self.pragma_rows(if full { "PRAGMA integrity_check" } else { "PRAGMA quick_check" }).await
    }

    async fn pragma_rows(&self, sql: &str) -> Result<Vec<String>, StoreError> {
        let rows = self.db().query_all_raw(Statement::from_string(DbBackend::Sqlite, sql.to_owned())).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(row.try_get_by_index::<String>(0)?);
        }
        Ok(out)
    }

    /// Writes a consistent copy of the SQLite database to `dest` (which must
    /// not exist) with `VACUUM INTO`: one read transaction, so the copy is a
    /// snapshot even while the daemon writes, compacted, without the WAL.
    pub async fn sqlite_vacuum_into(&self, dest: &Path) -> Result<(), StoreError> {
        let dest = dest
            .to_str()
            .ok_or_else(|| StoreError::Corrupt(format!("the backup path {} is not valid UTF-8", dest.display())))?;
        // A string literal: quotes are doubled, nothing else is special.
        let sql = format!("VACUUM INTO '{}'", dest.replace('\'', "''"));
        self.db().execute_unprepared(&sql).await?;
        Ok(())
    }

    /// Active (not removed) sources per status, for the metrics.
    pub async fn count_sources_by_status(&self) -> Result<Vec<(String, i64)>, StoreError> {
        let query = Query::select()
            .column(Alias::new("status"))
            .expr_as(Expr::cust("COUNT(*)"), Alias::new("n"))
            .from(Alias::new("sources"))
            .and_where(Expr::col(Alias::new("removed_at")).is_null())
            .group_by_col(Alias::new("status"))
            .to_owned();
        let rows = self.db().query_all(&query).await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push((row.try_get::<String>("", "status")?, row.try_get::<i64>("", "n")?));
        }
        Ok(out)
    }
}

/// Opens a SQLite file that is not the live database (a fresh backup) and
/// runs `PRAGMA integrity_check` on it. Rollback-journal mode, so checking a
/// copy leaves no `-wal`/`-shm` files beside it.
pub async fn check_sqlite_file(path: &Path) -> Result<Vec<String>, StoreError> {
    let url = format!("sqlite://{}?mode=rw", path.display());
    let mut opts = ConnectOptions::new(url.clone());
    opts.max_connections(1)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Delete));
    let db = Database::connect(opts).await.map_err(|source| StoreError::Connect { url, source })?;
    let store = Store { db, catalog_ids: super::catalog::IdsCache::default(), catalog_changes: Default::default() };
    let rows = store.sqlite_check(true).await;
    let _ = store.close().await;
    rows
}
