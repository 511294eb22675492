//! Digest senders on one SQLite file, so a daemon that starts after a
//! `kill -9` mid-send takes the dead sender's claim at once instead of
//! waiting out its lease (5 minutes or more).
//!
//! A claim names no sender. On SQLite the daemon lock proves that no other
//! daemon runs, but `modelwatch digest send` may be sending beside it. So
//! every sender holds `FILE.digest-send.lock` shared while it claims and
//! sends, and the daemon at start takes it exclusively: when it can, no
//! sender is alive (the OS drops the lock of a dead process), and every
//! claim left on a pending digest is a dead sender's. Released, the digest
//! is sent again with the same Message-ID: the promise is "at least once,
//! one Message-ID". On PostgreSQL several instances send: claims lapse
//! with their lease, as before.

use std::fs::{File, TryLockError};

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, Statement};

use super::entity::{Column, Entity, Status};
use crate::store::{Store, StoreError};

/// Held (shared) while this process claims and sends digests; `None` on
/// PostgreSQL and for an in-memory database.
#[derive(Debug)]
pub struct Sending {
    _file: File,
}

impl Store {
    /// Marks this process as a digest sender until the guard drops.
    pub async fn digest_sending(&self) -> Result<Option<Sending>, StoreError> {
        let Some((file, path)) = self.senders_file().await? else { return Ok(None) };
        // Waits only while a starting daemon releases dead claims.
        let locked = tokio::task::spawn_blocking(move || file.lock_shared().map(|()| file))
            .await
            .unwrap_or_else(|e| Err(std::io::Error::other(e)));
        match locked {
            Ok(file) => Ok(Some(Sending { _file: file })),
            Err(source) => Err(StoreError::LockFile { path, source }),
        }
    }

    /// SQLite, at the daemon's start (the daemon lock held): releases the
    /// claims of pending digests when no sender is alive. Returns how many
    /// were released; 0 when a `digest send` is sending now (its claims
    /// stand) or on PostgreSQL.
    pub async fn digest_release_dead_claims(&self) -> Result<u64, StoreError> {
        let Some((file, path)) = self.senders_file().await? else { return Ok(0) };
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Ok(0),
            Err(TryLockError::Error(source)) => return Err(StoreError::LockFile { path, source }),
        }
        // Held (the file open) until the update is done: a sender that
        // starts meanwhile waits, then claims as usual.
        let released = Entity::update_many()
            .col_expr(Column::ClaimedUntil, Expr::value(Option::<DateTime<Utc>>::None))
            .filter(Column::Status.eq(Status::Pending))
            .filter(Column::ClaimedUntil.is_not_null())
            .exec(self.db())
            .await?
            .rows_affected;
        drop(file);
        Ok(released)
    }

    /// The senders' lock file of this SQLite database, opened, and its path.
    async fn senders_file(&self) -> Result<Option<(File, String)>, StoreError> {
        if !self.is_sqlite() {
            return Ok(None);
        }
        let row = self
            .db()
            .query_one_raw(Statement::from_string(
                DbBackend::Sqlite,
                "SELECT file FROM pragma_database_list WHERE name = 'main'",
            ))
            .await?;
        let path: String = match row {
            Some(r) => r.try_get("", "file")?,
            None => return Ok(None),
        };
        if path.is_empty() {
            return Ok(None);
        }
        let lock = format!("{path}.digest-send.lock");
        match crate::store::lock::open_lock_file(&lock) {
            Ok(file) => Ok(Some((file, lock))),
            Err(source) => Err(StoreError::LockFile { path: lock, source }),
        }
    }
}
