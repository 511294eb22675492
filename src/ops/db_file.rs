//! The SQLite file under a running daemon, deleted or replaced.
//!
//! The daemon keeps its database file open. Once the file is deleted (or
//! another one moved to its name, a restore done the wrong way), SQLite
//! goes on writing to the open, nameless file: every check succeeds,
//! `/readyz` says ready, and everything recorded from then on is gone when
//! the process ends. So the daemon looks at the file's identity (device and
//! inode) every sweep; when the name no longer leads to the file it opened,
//! it saves what it has (`VACUUM INTO` a copy beside the name, before the
//! open file is lost with the process), says where, and stops with a
//! failure, so the operator (or systemd) decides what runs next.

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::store::Store;

/// Which file a path leads to: its device and inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileId {
    dev: u64,
    ino: u64,
}

/// The file at `path` now, if any.
pub fn identify(path: &Path) -> Option<FileId> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt as _;
        std::fs::metadata(path).ok().map(|m| FileId { dev: m.dev(), ino: m.ino() })
    }
    #[cfg(not(unix))]
    {
        std::fs::metadata(path).ok().map(|_| FileId { dev: 0, ino: 0 })
    }
}

/// Where the rescued copy goes: beside the name, stamped with the time.
fn rescue_path(path: &Path, now: chrono::DateTime<chrono::Utc>) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(format!(".rescued-{}", now.format("%Y%m%dT%H%M%SZ")));
    PathBuf::from(name)
}

/// What happened to the file, said by [`watch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gone {
    pub path: PathBuf,
    /// `deleted`, or `replaced by another file`.
    pub what: &'static str,
}

/// Looks every `every` whether `path` still leads to the file `opened`;
/// when it does not, writes what happened into `gone` and cancels
/// `shutdown`. Runs until `shutdown`.
pub async fn watch(
    path: PathBuf,
    opened: FileId,
    every: Duration,
    shutdown: CancellationToken,
    gone: Arc<OnceLock<Gone>>,
) {
    let mut tick = tokio::time::interval(every.max(Duration::from_secs(1)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = identify(&path);
        if now == Some(opened) {
            continue;
        }
        let what = if now.is_none() { "deleted" } else { "replaced by another file" };
        tracing::error!(path = %path.display(), what, "The database file is gone from under the daemon; stopping");
        let _ = gone.set(Gone { path, what });
        shutdown.cancel();
        return;
    }
}

/// Once the daemon's work has stopped: saves everything the open file
/// holds beside its old name and returns the error to end with.
pub async fn rescue(store: &Store, gone: &Gone) -> String {
    let rescued = rescue_path(&gone.path, chrono::Utc::now());
    let saved = match store.sqlite_vacuum_into(&rescued).await {
        Ok(()) => {
            format!("everything it recorded is saved in {}: move it to that name to go on with it", rescued.display())
        }
        Err(e) => format!("saving a copy to {} failed: {}", rescued.display(), crate::error_chain(&e)),
    };
    format!(
        "the database file {} was {} while the daemon ran, which would have lost what it records from then on; \
         it stopped, and {saved}",
        gone.path.display(),
        gone.what
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_file_moved_to_the_name_is_another_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("mw.db");
        std::fs::write(&db, b"one").unwrap();
        let first = identify(&db).unwrap();
        assert_eq!(identify(&db), Some(first));
        let other = dir.path().join("restored.db");
        std::fs::write(&other, b"two").unwrap();
        std::fs::rename(&other, &db).unwrap();
        assert_ne!(identify(&db), Some(first));
        std::fs::remove_file(&db).unwrap();
        assert_eq!(identify(&db), None);
    }

    #[test]
    fn the_rescued_copy_sits_beside_the_name() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-06T09:50:00Z").unwrap().to_utc();
        assert_eq!(rescue_path(Path::new("/var/lib/mw.db"), at), Path::new("/var/lib/mw.db.rescued-20261206T095000Z"));
    }
}
