//! The only module that speaks sea-orm. Queries are grouped per aggregate;
//! every multi-row write is one transaction.

pub mod admin;
pub mod archive;
pub mod batch;
mod batch_catalog;
mod batch_rows;
pub mod catalog;
pub mod change_seq;
pub mod changes;
mod check_rows;
mod convert;
mod crashes;
pub mod digest;
pub mod entity;
pub mod import;
pub mod lock;
mod loopback;
pub mod maintenance;
pub mod metrics;
mod own_connection;
pub mod record;
pub mod references;
pub mod settings;
mod source_update;
pub mod sources;
mod stable_limit;
mod state_only;
pub mod statement_log;

pub use crashes::{DeadOwners, QUARANTINE_AFTER, Recovery};

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use crate::config::redact_url;
use futures::StreamExt;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    SqliteTransactionMode, Statement, TransactionOptions, TransactionTrait,
};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the database {url}: {source}")]
    Connect {
        url: String,
        #[source]
        source: DbErr,
    },
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("the database {path} does not exist; run `modelwatch init` to create it")]
    Missing { path: String },
    #[error("database migration failed: {0}")]
    Migrate(#[source] DbErr),
    /// A newer release migrated the database (a rollback of the binary, or
    /// an older instance beside a newer one): refused before `up`, whose
    /// own words ("its file is missing") send the operator looking for a
    /// lost file.
    #[error(
        "the database was migrated by a newer modelwatch than this one ({version}): it has {unknown}, which this \
         release does not know; run that release (or a newer one), or restore the backup taken before the upgrade"
    )]
    NewerSchema { unknown: String, version: &'static str },
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("cannot open the database {url}: the server cannot be reached: {source}")]
    Unreachable {
        url: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{url} is already watched as source #{id}")]
    Duplicate { id: i64, url: String },
    #[error("no source {0}")]
    NotFound(String),
    #[error("source #{0} was checked concurrently; this check's result was dropped")]
    Superseded(i64),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the check-record writer has stopped")]
    WriterGone,
    #[error("cannot lock {path}: {source}")]
    LockFile {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StoreError {
    /// Whether the error is the user's input rather than the database failing.
    pub fn is_user_error(&self) -> bool {
        matches!(self, StoreError::Duplicate { .. } | StoreError::NotFound(_))
    }
}

/// This release's migrations, by name.
fn ours() -> HashSet<String> {
    Migrator::migrations().iter().map(|m| m.name().to_owned()).collect()
}

/// [`StoreError::NewerSchema`] when `applied` holds migrations this release
/// does not know.
fn newer_than_this_release(applied: &HashSet<String>) -> Result<(), StoreError> {
    let ours = ours();
    let mut unknown: Vec<&str> = applied.difference(&ours).map(String::as_str).collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    let unknown = match unknown.as_slice() {
        [one] => format!("migration {one}"),
        many => format!("migrations {}", many.join(", ")),
    };
    Err(StoreError::NewerSchema { unknown, version: env!("CARGO_PKG_VERSION") })
}

/// A handle on the database; cheap to clone.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// The catalog's entity ids at a revision, shared by every catalog step
    /// of this process (see [`catalog::Ids`]).
    catalog_ids: catalog::IdsCache,
    /// What this process committed that may change the matcher (see
    /// [`catalog::revision::LocalChanges`]).
    catalog_changes: catalog::revision::LocalChanges,
}

/// Whether opening the database may create it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpenMode {
    /// `init` and the daemon: a missing SQLite file (and its folder) is created.
    Create,
    /// Every other command: the database must exist already. Nothing is
    /// created — no folder, no file — and a missing SQLite file is
    /// [`StoreError::Missing`].
    Existing,
}

/// How to open the database.
#[derive(Debug, Clone, Copy)]
pub struct OpenOptions {
    pub mode: OpenMode,
    pub max_connections: u32,
    /// How long reaching a server may take before its cause is reported
    /// (`database.connect_timeout`).
    pub connect_timeout: Duration,
}

impl OpenOptions {
    pub fn new(mode: OpenMode, max_connections: u32) -> OpenOptions {
        OpenOptions { mode, max_connections, connect_timeout: DEFAULT_CONNECT_TIMEOUT }
    }
}

impl Store {
    /// Connects, creating a SQLite file and its folder if needed (tests and
    /// tools; commands use [`Store::open`]). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        Store::open(url, OpenOptions::new(OpenMode::Create, max_connections)).await
    }

    /// Connects as `opts` says. Does not migrate.
    pub async fn open(url: &str, opts: OpenOptions) -> Result<Store, StoreError> {
        let sqlite_file = sqlite_path(url);
        if let Some(path) = &sqlite_file {
            match opts.mode {
                OpenMode::Create => {
                    if let Some(dir) = Path::new(path).parent()
                        && !dir.as_os_str().is_empty()
                    {
                        std::fs::create_dir_all(dir)
                            .map_err(|source| StoreError::Folder { path: dir.display().to_string(), source })?;
                    }
                }
                OpenMode::Existing => {
                    if !Path::new(path).is_file() {
                        return Err(StoreError::Missing { path: path.clone() });
                    }
                }
            }
        }
        let sqlite = url.starts_with("sqlite:");
        if !sqlite {
            probe_server(url, opts.connect_timeout).await?;
        }
        let create = opts.mode == OpenMode::Create;
        let mut pool = ConnectOptions::new(url.to_owned());
        // SQLite has one writer: with several pooled connections, a
        // transaction that reads and then writes can be refused outright
        // ("database is locked") when another connection wrote meanwhile,
        // whatever the busy timeout. One connection per process serialises
        // our own writes; the busy timeout covers other processes (the CLI
        // beside the daemon).
        pool.max_connections(if sqlite { 1 } else { opts.max_connections })
            .min_connections(1)
            .connect_timeout(opts.connect_timeout)
            // A pool that cannot hand out a connection within the connect
            // timeout (plus time for a slow query to end) is down.
            .acquire_timeout(Duration::from_secs(60).max(opts.connect_timeout))
            .sqlx_logging(false)
            .map_sqlx_sqlite_opts(move |o| {
                // WAL with `synchronous = NORMAL`: a commit appends to the
                // WAL without an fsync (checkpoints sync). A crash of the
                // process loses nothing committed; a power loss may lose the
                // last commits but never corrupts the file — and a lost
                // check is simply made again. `mode=rwc` in the URL does not
                // override [`OpenMode::Existing`]: the file is never made here.
                o.busy_timeout(Duration::from_secs(30))
                    .journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                    .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    // Savepoint and statement journals in memory, not in
                    // files: see [`TEMP_STORE`].
                    .pragma("temp_store", TEMP_STORE)
                    .create_if_missing(create)
            });
        // The pool tests a connection before it hands it out only when it
        // has been idle a while: see [`PING_IF_IDLE`].
        if sqlite {
            pool.test_before_acquire(false);
        } else {
            pool.test_before_acquire_if_idle_for(PING_IF_IDLE);
        }
        if !sqlite {
            // The driver's buffers grow to the largest message a connection
            // sent or read and keep that size: the record writer's
            // connection kept one of its largest batch (a cold sweep's new
            // texts and bodies, ~0.8 MB) for the process's life, and the
            // others one of the largest text they read (heaptrack; issue
            // 12). They go back to their first size whenever a connection
            // returns to its pool; one that did not grow is left as it is.
            // Connections of their own ([`Store::with_own_connection`])
            // take the pool's options, this with them.
            pool.map_sqlx_postgres_pool_opts(|o| {
                o.after_release(|conn, _| {
                    sea_orm::sqlx::Connection::shrink_buffers(conn);
                    Box::pin(async { Ok(true) })
                })
            });
        }
        if !sqlite && loopback::plain_text_by_default(url, std::env::var("PGSSLMODE").ok().as_deref()) {
            // See [`loopback`]: no TLS to this machine unless the URL asks.
            pool.map_sqlx_postgres_opts(|o| o.ssl_mode(sea_orm::sqlx::postgres::PgSslMode::Disable));
        }
        let connecting = Database::connect(pool);
        // The pool's acquire timeout is long (a busy daemon's queries); a
        // server that accepts the connection and then says nothing must
        // still fail within the connect timeout. A SQLite file may wait on
        // another process's lock for its busy timeout instead.
        let limit = if sqlite { Duration::MAX } else { opts.connect_timeout + Duration::from_secs(1) };
        let mut db = match timeout_or_forever(limit, connecting).await {
            Ok(r) => r.map_err(|source| StoreError::Connect { url: redact_url(url), source })?,
            Err(_) => {
                return Err(StoreError::Unreachable {
                    url: redact_url(url),
                    source: std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "the server accepted the connection but did not complete the handshake within {}",
                            crate::schedule::format_duration(opts.connect_timeout)
                        ),
                    ),
                });
            }
        };
        statement_log::install(&mut db);
        Ok(Store { db, catalog_ids: catalog::IdsCache::default(), catalog_changes: Default::default() })
    }

    /// Opens the connections a daemon's sweep uses at once
    /// ([`WARM_CONNECTIONS`]) to a PostgreSQL server together, in the
    /// background. The pool opens one at connect and the rest on demand,
    /// one whenever a query finds none idle (a connection dropped a moment
    /// ago is not back in the pool yet): each a TCP and TLS handshake and a
    /// server process, 5-10 ms, on the path of the query that asked — at a
    /// daemon's start-up three in a row before its first claim. Opened
    /// together they cost about one. SQLite has one connection, opened
    /// already.
    pub fn warm_up(&self) {
        if self.is_sqlite() {
            return;
        }
        let store = self.clone();
        tokio::spawn(async move { store.open_warm_connections().await });
    }

    /// [`Store::warm_up`]'s work, awaited: opens connections until the pool
    /// holds [`WARM_CONNECTIONS`] (at most `max_connections`).
    pub(crate) async fn open_warm_connections(&self) {
        let pool = self.db.get_postgres_connection_pool().clone();
        let n = pool.options().get_max_connections().min(WARM_CONNECTIONS) as usize;
        // All acquired at once, so each is a connection of its own; each
        // goes back as soon as it is open: a query waiting for one is not
        // held up by the slowest handshake.
        futures::stream::iter(0..n)
            .for_each_concurrent(n, |_| {
                let pool = pool.clone();
                async move {
                    if let Err(e) = pool.acquire().await {
                        tracing::debug!(error = %e, "Cannot open a database connection ahead of use");
                    }
                }
            })
            .await;
    }

    /// Applies pending migrations.
    ///
    /// A database that has every migration of this binary (every start but
    /// the first after an upgrade) costs one read: sea-orm's `up` sends a
    /// `CREATE TABLE IF NOT EXISTS` of its bookkeeping table four times and
    /// then reads it, a round trip each on PostgreSQL, before any start-up
    /// of the daemon and any CLI command (issue 12). Anything else (the
    /// table missing, a migration pending, one this binary does not know)
    /// goes to `up`, which applies or refuses as before.
    pub async fn migrate(&self) -> Result<(), StoreError> {
        if let Some(applied) = self.applied_migrations().await {
            if applied == ours() {
                return Ok(());
            }
            newer_than_this_release(&applied)?;
        }
        Migrator::up(&self.db, None).await.map_err(StoreError::Migrate)
    }

    /// The migrations recorded in the database (any error reading them, the
    /// table missing on a new database included: none known).
    async fn applied_migrations(&self) -> Option<HashSet<String>> {
        let read = Statement::from_string(
            self.db.get_database_backend(),
            format!("SELECT version FROM {}", Migrator::migration_table_name()),
        );
        let rows = self.db.query_all_raw(read).await.ok()?;
        rows.iter().map(|row| row.try_get::<String>("", "version")).collect::<Result<HashSet<String>, DbErr>>().ok()
    }

    /// Rolls every migration back (tests of reversibility).
    pub async fn migrate_down_all(&self) -> Result<(), StoreError> {
        Migrator::down(&self.db, None).await.map_err(StoreError::Migrate)
    }

    /// Names of migrations not yet applied; an error naming them when a
    /// newer release applied migrations this one does not know.
    pub async fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        if let Some(applied) = self.applied_migrations().await {
            newer_than_this_release(&applied)?;
        }
        let pending = Migrator::get_pending_migrations(&self.db).await.map_err(StoreError::Migrate)?;
        Ok(pending.iter().map(|m| m.name().to_owned()).collect())
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await.map_err(StoreError::Db)
    }

    pub fn is_sqlite(&self) -> bool {
        self.db.get_database_backend() == DbBackend::Sqlite
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    /// Begins a transaction that will write. On SQLite it is `BEGIN
    /// IMMEDIATE`: the write lock is taken at the start, where the busy
    /// timeout applies. A deferred transaction that reads and then writes
    /// is refused at once ("database is locked") when another process wrote
    /// meanwhile — the busy timeout never applies to that upgrade.
    /// PostgreSQL ignores the mode.
    pub(crate) async fn write_txn(&self) -> Result<DatabaseTransaction, DbErr> {
        let opts = TransactionOptions {
            sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
            ..Default::default()
        };
        self.db.begin_with_options(opts).await
    }

    pub async fn close(self) -> Result<(), StoreError> {
        self.db.close().await.map_err(StoreError::Db)
    }
}

/// `SET LOCAL synchronous_commit = off` as an expression, for PostgreSQL
/// statements to carry: the transaction that evaluates it commits without
/// waiting for the WAL flush, be it a transaction block or a statement's
/// own implicit one. Check records carry it in their guarded source update
/// (the first statement of a record's transaction, or the one statement of
/// a batch of unchanged pages: [`source_update::update_from_v`]), claims in
/// their update. Evaluated per row returned, so a statement that wrote
/// nothing may commit as usual: it has nothing to make durable. A `SET
/// LOCAL` of its own was a round trip per batch.
///
/// The WAL flush was the largest part of the record writer's time (an
/// unchanged sweep of 2,000 pages: 130 commits, 270 ms of the server's
/// time). Not waiting for it is the durability the SQLite file has
/// (`synchronous = NORMAL`): once committed, a record survives the daemon's
/// death (`kill -9`), since the server has it; only a crash of the server
/// or the machine can lose the last commits (at most 3 ×
/// `wal_writer_delay`, 0.6 s by default), each whole, never corrupted:
/// those sources keep their previous state and are checked again, their
/// changes found then. Other writes (the digest outbox, the catalog's
/// edits) keep the server's setting.
pub(crate) const SYNC_COMMIT_OFF: &str = "set_config('synchronous_commit', 'off', true)";

/// How many PostgreSQL connections [`Store::warm_up`] opens ahead of use:
/// what a daemon's sweep runs at once (the pipeline's claim, the record
/// writer's batch, one more for a renewal or a check's read). More are
/// opened on demand, up to `database.max_connections`, when more queries
/// do run at once (a cold sweep's snapshot reads and catalog steps).
///
/// Not all of them: the pool hands out its idle connections first in,
/// first out, so every open connection takes its turn, and a server
/// process runs a statement's first execution with cold caches (its
/// catalog lookups, planning). With all 8 opened at start, an unchanged
/// sweep of 2,000 pages spread its 70 record batches and 130 claims over 8
/// processes: ~65 ms of the server's 530 ms went to first executions, and
/// 8 processes shared the machine's 2 cores with the daemon and the web
/// server (issue 12; figures in the README's Benchmarks section).
pub const WARM_CONNECTIONS: u32 = 3;

/// How long a PostgreSQL connection sits idle in the pool before the pool
/// tests it (a round trip) when a query asks for it. The pool tested every
/// connection it handed out: a round trip before each claim, each record
/// batch, each read, on the path of every query (an unchanged sweep of
/// 2,000 pages: ~200 of them; issue 12). A connection used within the last
/// second is handed out as it is: it was tested when it came back (the pool
/// tests each connection it takes back, off the path of any query), so only
/// one the server or the network dropped in that second fails its next
/// query, which then fails as any database error does (the check is made
/// again; nothing is lost). One idle longer, such as every connection
/// between two sweeps, is tested first and replaced if it is gone. A SQLite
/// connection is a file, never dropped: never tested before use.
pub const PING_IF_IDLE: Duration = Duration::from_secs(1);

/// SQLite's temporary storage: `memory`. The record writer's catalog steps
/// run in a savepoint, and its multi-row upserts each open a statement
/// journal: SQLite copies every page they touch into a sub-journal, and
/// past 64 KiB it spills that to a deleted file in /var/tmp, two writes
/// per page (its number, then the page). A cold sweep of 2,000 pages made
/// 324,442 such writes, two thirds of its 501,688 `pwrite64` (issue 12).
/// In memory, a sub-journal lives as long as its transaction: a batch's
/// pages, freed at its commit. Nothing durable is there: a transaction
/// rolled back or cut by `kill -9` never needed it.
const TEMP_STORE: &str = "memory";

/// How long reaching a database server may take before its cause is
/// reported, unless `database.connect_timeout` says otherwise (the pool
/// alone said "pool timed out" after 68 s).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens a TCP connection to a server URL's host and port, so a refused
/// or unreachable server is reported with its cause within `timeout`.
/// Socket-path URLs (no host) are left to the driver.
async fn probe_server(url: &str, timeout: Duration) -> Result<(), StoreError> {
    let Ok(u) = url::Url::parse(url) else { return Ok(()) };
    let Some(host) = u.host_str().filter(|h| !h.is_empty()) else { return Ok(()) };
    let host = host.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = u.port().unwrap_or(5432);
    let fail = |source| StoreError::Unreachable { url: redact_url(url), source };
    match tokio::time::timeout(timeout, tokio::net::TcpStream::connect((host.as_str(), port))).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(fail(e)),
        Err(_) => Err(fail(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no answer within {} (database.connect_timeout)", crate::schedule::format_duration(timeout)),
        ))),
    }
}

/// `fut` within `limit`; `Duration::MAX` is no limit.
async fn timeout_or_forever<T>(limit: Duration, fut: impl Future<Output = T>) -> Result<T, ()> {
    if limit == Duration::MAX { Ok(fut.await) } else { tokio::time::timeout(limit, fut).await.map_err(|_| ()) }
}

/// The file path of a SQLite URL, if it is one and not in-memory.
pub fn sqlite_path(url: &str) -> Option<String> {
    let rest = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or_default();
    if path.is_empty() || path == ":memory:" { None } else { Some(path.to_owned()) }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_paths() {
        assert_eq!(sqlite_path("sqlite://data/modelwatch.db?mode=rwc").as_deref(), Some("data/modelwatch.db"));
        assert_eq!(sqlite_path("sqlite:///var/lib/mw.db").as_deref(), Some("/var/lib/mw.db"));
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x/y"), None);
    }

    /// Warming up opens the connections a sweep uses at once, not the
    /// whole pool: the pool hands its idle connections out in turn, so
    /// every one opened would serve the sweep's claims and batches with a
    /// cold server process (issue 12). PostgreSQL only
    /// (`MODELWATCH_TEST_POSTGRES_URL`).
    #[tokio::test]
    async fn warm_up_opens_what_a_sweep_uses_not_the_whole_pool() {
        let Some(url) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        };
        for (max, warm) in [(8, WARM_CONNECTIONS), (2, 2)] {
            let store = Store::connect(&url, max).await.unwrap();
            store.open_warm_connections().await;
            let pool = store.db().get_postgres_connection_pool();
            assert_eq!(pool.size(), warm, "max_connections = {max}");
            assert_eq!(pool.options().get_max_connections(), max, "more stay available on demand");
            store.close().await.unwrap();
        }
    }

    /// A server on this machine is reached without TLS unless the URL asks
    /// for it (see [`loopback`]): TLS there was a handshake per connection
    /// and encryption of every message, for nothing (issue 12). Needs a
    /// loopback `MODELWATCH_TEST_POSTGRES_URL` without `sslmode`, and a
    /// server with TLS on for the second half.
    #[tokio::test]
    async fn a_loopback_server_is_reached_without_tls_unless_asked() {
        let Some(url) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        };
        if !loopback::plain_text_by_default(&url, std::env::var("PGSSLMODE").ok().as_deref()) {
            eprintln!("skipped: {} is not a loopback URL without sslmode", redact_url(&url));
            return;
        }
        // (whether this connection uses TLS, whether the server offers it)
        let ssl = |store: Store| async move {
            let stmt = Statement::from_string(
                DbBackend::Postgres,
                "SELECT ssl, current_setting('ssl') = 'on' FROM pg_stat_ssl WHERE pid = pg_backend_pid()".to_owned(),
            );
            let row = store.db().query_one_raw(stmt).await.unwrap().unwrap();
            let on: (bool, bool) = (row.try_get_by_index(0).unwrap(), row.try_get_by_index(1).unwrap());
            store.close().await.unwrap();
            on
        };
        let (tls, server_offers_tls) = ssl(Store::connect(&url, 1).await.unwrap()).await;
        assert!(!tls, "plain text by default");
        if server_offers_tls {
            let sep = if url.contains('?') { '&' } else { '?' };
            let asked = format!("{url}{sep}sslmode=require");
            assert!(ssl(Store::connect(&asked, 1).await.unwrap()).await.0, "TLS when the URL asks for it");
        }
    }

    /// WAL with `synchronous = NORMAL`: commits append to the WAL without
    /// an fsync each.
    #[tokio::test]
    async fn sqlite_runs_in_wal_with_normal_sync() {
        use sea_orm::{ConnectionTrait, Statement};
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("pragma.db").display());
        let store = Store::connect(&url, 4).await.unwrap();
        let pragma = |name: &str| {
            let stmt = Statement::from_string(DbBackend::Sqlite, format!("PRAGMA {name}"));
            let db = store.db().clone();
            async move { db.query_one_raw(stmt).await.unwrap().unwrap() }
        };
        let mode: String = pragma("journal_mode").await.try_get_by_index(0).unwrap();
        assert_eq!(mode, "wal");
        // 1 = NORMAL (2 = FULL, the default).
        let sync: i32 = pragma("synchronous").await.try_get_by_index(0).unwrap();
        assert_eq!(sync, 1);
        // 2 = MEMORY (0, the default, is the compile-time choice: files).
        let temp: i32 = pragma("temp_store").await.try_get_by_index(0).unwrap();
        assert_eq!(temp, 2);
    }

    /// A savepoint that rewrites more than 64 KiB of pages keeps their old
    /// copies in memory: SQLite opens no temporary file for its journal
    /// (issue 12: a cold sweep wrote more to such files than to the WAL).
    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn sqlite_savepoint_journals_stay_in_memory() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("journal.db").display());
        let store = Store::connect(&url, 1).await.unwrap();
        store
            .db()
            .execute_unprepared(
                "CREATE TABLE t (x BLOB); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100) \
                 INSERT INTO t SELECT zeroblob(3000) FROM n",
            )
            .await
            .unwrap();
        // SQLite names its temporary files etilqs_*, deleted while open.
        let temp_files = || {
            std::fs::read_dir("/proc/self/fd")
                .unwrap()
                .filter_map(|e| std::fs::read_link(e.unwrap().path()).ok())
                .filter(|p| p.to_string_lossy().contains("etilqs_"))
                .count()
        };
        let txn = store.write_txn().await.unwrap();
        let savepoint = txn.begin().await.unwrap();
        // ~100 pages, each first copied into the savepoint's journal.
        savepoint.execute_unprepared("UPDATE t SET x = zeroblob(3001)").await.unwrap();
        assert_eq!(temp_files(), 0);
        savepoint.commit().await.unwrap();
        txn.commit().await.unwrap();
    }

    /// A database with every migration costs one read to "migrate" (sea-orm's
    /// `up` sent five statements before finding nothing to do: issue 12);
    /// one that records a migration this binary does not know is still
    /// refused, by `up`.
    async fn a_migrated_database_is_one_read(postgres: bool) {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicUsize, Ordering};
        let dir = tempfile::tempdir().unwrap();
        let Some((store, pg)) = batch::tests::open(postgres, dir.path()).await else { return };
        let count = Arc::new(AtomicUsize::new(0));
        let mut db = store.db().clone();
        let seen = count.clone();
        db.set_metric_callback(move |_| {
            seen.fetch_add(1, Ordering::Relaxed);
        });
        let counting = Store { db, catalog_ids: Default::default(), catalog_changes: Default::default() };
        counting.migrate().await.unwrap();
        assert_eq!(count.load(Ordering::Relaxed), 1);
        assert!(store.pending_migrations().await.unwrap().is_empty());

        store
            .db()
            .execute_unprepared(
                "INSERT INTO seaql_migrations (version, applied_at) VALUES ('m29991231_000000_future', 0)",
            )
            .await
            .unwrap();
        let refused = store.migrate().await.unwrap_err();
        assert!(matches!(refused, StoreError::NewerSchema { .. }), "{refused:?}");
        let said = refused.to_string();
        assert!(said.contains("migrated by a newer modelwatch") && said.contains("m29991231_000000_future"), "{said}");
        assert!(!said.contains("missing"), "not a lost file: {said}");
        batch::tests::finish(store, pg).await;
    }

    #[tokio::test]
    async fn a_migrated_database_is_one_read_on_sqlite() {
        a_migrated_database_is_one_read(false).await;
    }

    #[tokio::test]
    async fn a_migrated_database_is_one_read_on_postgres() {
        a_migrated_database_is_one_read(true).await;
    }

    /// The pool tests a connection before handing it out only after it sat
    /// idle (PostgreSQL: [`PING_IF_IDLE`]), or never (SQLite): a test was a
    /// round trip before every claim, batch and read (issue 12).
    #[tokio::test]
    async fn the_pool_tests_only_idle_connections() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("ping.db").display());
        let store = Store::connect(&url, 1).await.unwrap();
        assert!(!store.db().get_sqlite_connection_pool().options().get_test_before_acquire());
        store.close().await.unwrap();
        let Some(url) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped on PostgreSQL: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        };
        let store = Store::connect(&url, 2).await.unwrap();
        assert!(!store.db().get_postgres_connection_pool().options().get_test_before_acquire());
        store.ping().await.unwrap();
        store.close().await.unwrap();
    }
}
