//! The daemon in-process: `app::run` with the parts a test chooses (a
//! manual clock, the ops endpoints on port 0), stopped through its
//! cancellation token instead of a signal.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use modelwatch::app::{self, AppError, Parts};
use modelwatch::clock::SharedClock;
use modelwatch::config::{Config, Overrides};
use tokio_util::sync::CancellationToken;

use super::Mw;

/// A running in-process daemon.
pub struct Daemon {
    pub ops: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), AppError>>,
}

impl Mw {
    /// This instance's configuration, loaded the way `main` loads it (the
    /// test's database URL over the file), without the process environment.
    pub fn load_config(&self) -> Config {
        let overrides = Overrides { env: BTreeMap::new(), database_url: Some(self.db.url.clone()) };
        Config::load(&self.config, &overrides).unwrap()
    }

    /// Starts the daemon in this process with `clock`, its ops endpoints
    /// on a port the system picks.
    pub async fn start_daemon(&self, clock: SharedClock) -> Daemon {
        let config = self.load_config();
        let mut parts = Parts::from_config(&config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ops = listener.local_addr().unwrap();
        parts.ops_listener = Some(listener);
        parts.clock = clock;
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app::run(config, parts, shutdown.clone()));
        Daemon { ops, shutdown, task }
    }
}

impl Daemon {
    /// Asks the daemon to stop and waits until it has: its start-up work
    /// (crash recovery, the digest's catch-up) and every running task have
    /// ended by then.
    pub async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().unwrap();
    }
}
