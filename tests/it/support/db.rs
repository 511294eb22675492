//! Test databases: a SQLite file per test, or a fresh PostgreSQL database per
//! test on the server named by `MODELWATCH_TEST_POSTGRES_URL`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use sea_orm::{ConnectionTrait, Database};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const POSTGRES_ENV: &str = "MODELWATCH_TEST_POSTGRES_URL";

pub fn postgres_available() -> bool {
    std::env::var(POSTGRES_ENV).is_ok_and(|v| !v.is_empty())
}

pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    admin_url: Option<String>,
    name: Option<String>,
}

static COUNTER: AtomicU32 = AtomicU32::new(0);

impl TestDb {
    /// None when PostgreSQL is asked for but not configured.
    pub async fn create(backend: Backend, dir: &Path) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => Some(TestDb {
                backend,
                url: format!("sqlite://{}?mode=rwc", dir.join("modelwatch.db").display()),
                admin_url: None,
                name: None,
            }),
            Backend::Postgres => {
                let admin = std::env::var(POSTGRES_ENV).ok().filter(|v| !v.is_empty())?;
                let name = format!(
                    "mw_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    rand_suffix()
                );
                let conn = Database::connect(&admin).await.expect("connect to the PostgreSQL test server");
                conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create test database");
                conn.close().await.ok();
                let mut url = url::Url::parse(&admin).expect("MODELWATCH_TEST_POSTGRES_URL is a URL");
                url.set_path(&name);
                Some(TestDb { backend, url: url.to_string(), admin_url: Some(admin), name: Some(name) })
            }
        }
    }
}

fn rand_suffix() -> u32 {
    use std::time::{SystemTime, UNIX_EPOCH};
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0) % 100_000
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let (Some(admin), Some(name)) = (self.admin_url.clone(), self.name.clone()) else { return };
        // Best effort, on a thread of its own: Drop may run inside a runtime.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().ok()?;
            rt.block_on(async {
                let conn = Database::connect(&admin).await.ok()?;
                conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await.ok()?;
                conn.close().await.ok()
            })
        })
        .join();
    }
}
