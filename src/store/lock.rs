//! One daemon per SQLite file: a second `run` on the same file refuses to
//! start instead of racing the first one (PostgreSQL shares work with leases).

use std::fs::{File, OpenOptions, TryLockError};
use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error(
        "another modelwatch daemon is already running on {db} (lock file {lock} is held); \
         stop it first, or use PostgreSQL to run several instances"
    )]
    Held { db: String, lock: String },
    #[error("cannot open the lock file {lock}: {source}")]
    Io {
        lock: String,
        #[source]
        source: std::io::Error,
    },
}

/// Held for the daemon's lifetime; the OS releases it if the process dies.
#[derive(Debug)]
pub struct DaemonLock {
    _file: File,
    pub path: PathBuf,
}

/// Takes the daemon lock for a SQLite database file.
pub fn lock_sqlite(db_path: &str) -> Result<DaemonLock, LockError> {
    let path = PathBuf::from(format!("{db_path}.lock"));
    let lock = path.display().to_string();
    // On a fresh checkout `data/` does not exist yet: the lock comes first.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| LockError::Io { lock: lock.clone(), source })?;
    }
    let file = open_lock_file(&path).map_err(|source| LockError::Io { lock: lock.clone(), source })?;
    match file.try_lock() {
        Ok(()) => Ok(DaemonLock { _file: file, path }),
        Err(TryLockError::WouldBlock) => Err(LockError::Held { db: db_path.to_owned(), lock }),
        Err(TryLockError::Error(source)) => Err(LockError::Io { lock, source }),
    }
}

/// Opens (creating, never truncating) a file that is only ever locked:
/// the daemon's, the digest senders' (`store::digest::senders`).
pub(crate) fn open_lock_file(path: impl AsRef<std::path::Path>) -> std::io::Result<File> {
    OpenOptions::new().create(true).truncate(false).write(true).open(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_folder_is_created_on_a_fresh_checkout() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("data/nested/mw.db").display().to_string();
        assert!(lock_sqlite(&db).is_ok());
    }

    #[test]
    fn a_second_lock_on_the_same_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mw.db").display().to_string();
        let first = lock_sqlite(&db).unwrap();
        let err = lock_sqlite(&db).unwrap_err().to_string();
        assert!(err.contains("already running"), "{err}");
        drop(first);
        assert!(lock_sqlite(&db).is_ok());
    }
}
