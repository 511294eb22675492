//! The integration harness: a real HTTP server on 127.0.0.1:0, real SQLite
//! files and PostgreSQL databases, and the real `modelwatch` binary.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod daemon;
pub mod db;
pub mod http;
pub mod records;
pub mod silent;
pub mod webdriver;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Once;

pub use db::{Backend, TestDb};
pub use http::{Page, TestServer};

static CRYPTO: Once = Once::new();

/// reqwest is built without a default crypto provider: every test binary
/// installs ring once, as `main` does.
pub fn init_crypto() {
    CRYPTO.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// A configured instance of the real binary: its own folder, config and database.
pub struct Mw {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    pub db: TestDb,
    pub env: Vec<(String, String)>,
}

/// The result of one CLI call.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn ok(self) -> Self {
        assert_eq!(self.code, 0, "expected success\nstdout:\n{}\nstderr:\n{}", self.stdout, self.stderr);
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout, self.stderr))
    }
}

/// The test config: loopback allowed, no ops listener, tiny spacing, an
/// empty seed so `init` loads nothing unless a test asks.
pub const TEST_CONFIG: &str = r#"
[fetch]
allow_private_networks = true
timeout = "5s"
connect_timeout = "2s"
per_host_interval = "10ms"
retries = 0
respect_robots = false
[schedule]
jitter = 0.0
[ops]
listen = ""
[web]
listen = ""
"#;

impl Mw {
    pub async fn new(backend: Backend) -> Option<Mw> {
        Self::with_config(backend, TEST_CONFIG).await
    }

    /// An instance with `extra` TOML appended to the test config... or None
    /// when the backend is not available (PostgreSQL without its variable).
    pub async fn with_config(backend: Backend, config_toml: &str) -> Option<Mw> {
        init_crypto();
        let dir = tempfile::tempdir().unwrap();
        let db = TestDb::create(backend, dir.path()).await?;
        let config = dir.path().join("modelwatch.toml");
        std::fs::write(&config, config_toml).unwrap();
        std::fs::write(dir.path().join("sources.toml"), "").unwrap();
        Some(Mw { dir, config, db, env: Vec::new() })
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_modelwatch"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("MODELWATCH_CONFIG", &self.config)
            .env("MODELWATCH_DATABASE_URL", &self.db.url)
            .env("RUST_LOG", "info,sqlx=warn")
            .current_dir(self.dir.path());
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd
    }

    /// Runs the CLI to completion.
    pub fn run(&self, args: &[&str]) -> Run {
        let out: Output = self.command(args).output().expect("run modelwatch");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Runs the CLI off the async threads (tests that also serve HTTP).
    pub async fn run_async(&self, args: &[&str]) -> Run {
        let mut cmd = self.command(args);
        let out = tokio::task::spawn_blocking(move || cmd.output().expect("run modelwatch")).await.unwrap();
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// `init --no-seed-sources`, asserted.
    pub async fn init(&self) {
        self.run_async(&["init", "--no-seed-sources"]).await.ok();
    }

    /// Adds a source and returns its id.
    pub async fn add(&self, url: &str, extra: &[&str]) -> i64 {
        let mut args = vec!["sources", "add", url];
        args.extend_from_slice(extra);
        let r = self.run_async(&args).await.ok();
        r.stdout.trim().parse().unwrap_or_else(|_| panic!("no id in {:?}", r.stdout))
    }

    /// `check ID --format json`: that source's report.
    pub async fn check_one(&self, id: i64) -> serde_json::Value {
        self.run_async(&["check", &id.to_string(), "--format", "json"]).await.ok().json()[0].clone()
    }

    /// The text of the source's current snapshot (`snapshot show --text`).
    pub async fn current_text(&self, id: i64) -> String {
        self.run_async(&["snapshot", "show", "--source", &id.to_string(), "--text"]).await.ok().stdout
    }

    /// `sources show ID --format json`.
    pub async fn source(&self, id: i64) -> serde_json::Value {
        self.run_async(&["sources", "show", &id.to_string(), "--format", "json"]).await.ok().json()
    }

    /// `changes --format json` (optionally for one source).
    pub async fn changes(&self, source: Option<i64>) -> Vec<serde_json::Value> {
        let id = source.map(|s| s.to_string());
        let mut args = vec!["changes", "--format", "json"];
        if let Some(id) = &id {
            args.extend_from_slice(&["--source", id]);
        }
        self.run_async(&args).await.ok().json().as_array().cloned().unwrap_or_default()
    }
}

/// Generates a SQLite test and a PostgreSQL test from one async body taking a `Backend`.
#[macro_export]
macro_rules! both_backends {
    ($name:ident, $body:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$body($crate::support::Backend::Sqlite).await;
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if !$crate::support::db::postgres_available() {
                    eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
                    return;
                }
                super::$body($crate::support::Backend::Postgres).await;
            }
        }
    };
}
