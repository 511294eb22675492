//! A PostgreSQL connection of its own for each of the daemon's two busy
//! callers: the pipeline's claims and the record writer.
//!
//! The shared pool (sqlx) tests every connection it takes back with a
//! round trip (a `Sync`), and the connection is out of the pool meanwhile.
//! In a sweep the claims and the writer's statements follow each other
//! within that time, so a statement often found no connection idle and the
//! pool opened one more — on that statement's path (a TCP handshake and a
//! server process, which then parses and plans each statement afresh). An
//! unchanged daemon sweep of 2,000 pages ran on 7 server processes, 3 of
//! them opened mid-sweep, for at most 3 statements at a time (statement
//! log; issue 12). Each caller sends one statement at a time: with a pool
//! of one connection of its own, the next statement waits at most for the
//! previous one's test, and the same server process serves all of them
//! with its statements prepared and planned.
//!
//! The connection has the shared pool's settings (TLS, timeouts, the test
//! after an idle second, its buffers shrunk on release), and is opened at
//! once in the background. One that breaks is opened again by its next
//! statement, as in the shared pool. SQLite has one connection for
//! everything: the store is returned as it is.

use sea_orm::SqlxPostgresConnector;

use super::Store;

impl Store {
    /// A handle on the same database whose statements all go through one
    /// PostgreSQL connection of its own (see the module documentation),
    /// besides `database.max_connections`. SQLite: this store.
    pub fn with_own_connection(&self) -> Store {
        if self.is_sqlite() {
            return self.clone();
        }
        let shared = self.db.get_postgres_connection_pool();
        let pool = shared
            .options()
            .clone()
            .max_connections(1)
            .min_connections(1)
            .connect_lazy_with((*shared.connect_options()).clone());
        // Opened now, off the path of its first statement.
        let opening = pool.clone();
        tokio::spawn(async move {
            if let Err(e) = opening.acquire().await {
                tracing::debug!(error = %e, "Cannot open a database connection ahead of use");
            }
        });
        let mut db = SqlxPostgresConnector::from_sqlx_postgres_pool(pool);
        super::statement_log::install(&mut db);
        Store { db, catalog_ids: self.catalog_ids.clone(), catalog_changes: self.catalog_changes.clone() }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};

    use crate::store::Store;

    /// Statements sent one after the other through a store of its own run
    /// on one server process, and the shared pool opens nothing for them:
    /// through the shared pool, the next statement often found the last
    /// one's connection still being tested and the pool opened another (a
    /// sweep ran on 7 server processes; issue 12). PostgreSQL only
    /// (`MODELWATCH_TEST_POSTGRES_URL`); SQLite gets the same store back.
    #[tokio::test]
    async fn statements_one_after_another_share_one_server_process() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("own.db").display());
        let sqlite = Store::connect(&url, 1).await.unwrap();
        assert!(sqlite.with_own_connection().is_sqlite());
        sqlite.close().await.unwrap();
        let Some(url) = std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()) else {
            eprintln!("skipped on PostgreSQL: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        };
        let store = Store::connect(&url, 8).await.unwrap();
        let own = store.with_own_connection();
        let mut pids = std::collections::HashSet::new();
        for _ in 0..50 {
            let stmt = Statement::from_string(DbBackend::Postgres, "SELECT pg_backend_pid()".to_owned());
            let pid: i32 = own.db().query_one_raw(stmt).await.unwrap().unwrap().try_get_by_index(0).unwrap();
            pids.insert(pid);
        }
        assert_eq!(pids.len(), 1, "{pids:?}");
        let own_pool = own.db().get_postgres_connection_pool();
        assert_eq!((own_pool.size(), own_pool.options().get_max_connections()), (1, 1));
        assert_eq!(store.db().get_postgres_connection_pool().size(), 1, "the shared pool opened nothing more");
        store.close().await.unwrap();
        own.close().await.unwrap();
    }

    /// A statement of a few MB, through the shared pool or a connection of
    /// its own, leaves no buffer of its size behind once the connection is
    /// back in its pool (the driver's write buffer kept it for the
    /// process's life; see [`crate::store::Store::open`]). Measured in a
    /// child process, whose heap only this test uses. PostgreSQL only.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_large_statement_leaves_no_buffer_of_its_size_behind() {
        if std::env::var("MODELWATCH_TEST_POSTGRES_URL").ok().filter(|v| !v.is_empty()).is_none() {
            eprintln!("skipped on PostgreSQL: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        }
        let held: usize =
            crate::test_child::in_child("store::own_connection::tests::child_sends_large_statements", "child", "held=")
                .parse()
                .unwrap();
        // Without the shrink: 16.8 MB, ~8 MB a connection (its buffers).
        assert!(held < 512 << 10, "{held} bytes held after the statements");
    }

    /// Run by [`a_large_statement_leaves_no_buffer_of_its_size_behind`]
    /// only: sends three statements of 4 MB each through each pool, then a
    /// small one (which waits for the connection's return to its pool),
    /// and prints the heap grown meanwhile.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[tokio::test]
    #[ignore = "run in a child process by a_large_statement_leaves_no_buffer_of_its_size_behind"]
    async fn child_sends_large_statements() {
        let (Some(_), Ok(url)) = (crate::test_child::child_mode(), std::env::var("MODELWATCH_TEST_POSTGRES_URL"))
        else {
            return;
        };
        let store = Store::connect(&url, 1).await.unwrap();
        let own = store.with_own_connection();
        let small = || Statement::from_string(DbBackend::Postgres, "SELECT 1".to_owned());
        own.db().query_one_raw(small()).await.unwrap();
        store.db().query_one_raw(small()).await.unwrap();
        let before = crate::test_child::heap_in_use();
        for db in [own.db(), store.db()] {
            for _ in 0..3 {
                let text = "x".repeat(4 << 20);
                let stmt = Statement::from_sql_and_values(DbBackend::Postgres, "SELECT length($1)", [text.into()]);
                let n: i32 = db.query_one_raw(stmt).await.unwrap().unwrap().try_get_by_index(0).unwrap();
                assert_eq!(n, 4 << 20);
            }
            db.query_one_raw(small()).await.unwrap();
        }
        let after = crate::test_child::heap_in_use();
        println!("held={}", after.saturating_sub(before));
        own.close().await.unwrap();
        store.close().await.unwrap();
    }
}
