//! The daemon: migrations, seed, the scheduler's jobs, the sweep loop, the
//! ops endpoints, and a time-boxed shutdown.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio_cron_scheduler::{Job, JobScheduler, JobSchedulerError};
use tokio_util::sync::CancellationToken;

use crate::clock::{SharedClock, SystemClock};
use crate::config::{Config, redact_url};
use crate::fetch::{FetchError, Fetcher};
use crate::jobs::digest_daemon::DigestJob;
use crate::mail::{SmtpMailer, SmtpSettings};
use crate::runner::Runner;
use crate::store::lock::{DaemonLock, LockError};
use crate::store::{OpenMode, OpenOptions, Store, StoreError};

mod tasks;
use tasks::Tasks;

/// Why the daemon could not start or run. [`AppError::is_usage`] tells the
/// operator's mistakes (exit code 2) from runtime failures (exit code 1).
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// Another daemon holds the SQLite file.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The database URL names nothing we can open (or its folder cannot be made).
    #[error("{0}")]
    Open(#[source] StoreError),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] StoreError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error("cannot listen on {addr} (ops.listen): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the ops listener's address: {source}")]
    LocalAddr {
        #[source]
        source: std::io::Error,
    },
    #[error("cannot listen on {addr} (web.listen): {source}")]
    WebListen {
        addr: std::net::SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the web view: {0}")]
    Web(#[from] crate::web::PageError),
    #[error("cannot start the scheduler: {0}")]
    Scheduler(#[from] JobSchedulerError),
    /// The SQLite file was deleted or replaced under the running daemon.
    #[error("{0}")]
    DatabaseFileGone(String),
}

impl AppError {
    /// Whether the operator's configuration is at fault, not the run.
    pub fn is_usage(&self) -> bool {
        matches!(self, AppError::Locked(_) | AppError::Open(_))
    }
}

/// Opens the configured database. A URL that cannot be opened is the
/// operator's to fix; other errors are runtime failures.
pub async fn open_store(config: &Config, mode: OpenMode) -> Result<Store, AppError> {
    let opts = OpenOptions {
        mode,
        max_connections: config.database.max_connections,
        connect_timeout: config.database.connect_timeout,
    };
    match Store::open(&config.database.url, opts).await {
        Ok(s) => Ok(s),
        Err(
            e @ (StoreError::Connect { .. }
            | StoreError::Folder { .. }
            | StoreError::Unreachable { .. }
            | StoreError::Missing { .. }),
        ) => Err(AppError::Open(e)),
        Err(e) => Err(AppError::Store(e)),
    }
}

/// What the daemon runs with. `main` builds them from the config
/// ([`Parts::from_config`]); a test builds its own, e.g. with a
/// [`crate::clock::ManualClock`] and an ops listener on port 0, and runs the
/// daemon in-process.
pub struct Parts {
    pub store: Store,
    pub fetcher: Fetcher,
    pub mailer: SmtpMailer,
    /// Where the ops endpoints are served; `None` serves none.
    pub ops_listener: Option<tokio::net::TcpListener>,
    pub clock: SharedClock,
    /// Held while the daemon runs: a second daemon on the same SQLite file
    /// refuses to start.
    pub lock: Option<DaemonLock>,
}

impl Parts {
    /// The parts the configuration names: the SQLite lock (taken first), the
    /// database, the HTTP client, the SMTP mailer, `ops.listen` bound, and
    /// the system clock.
    pub async fn from_config(config: &Config) -> Result<Parts, AppError> {
        let lock = match crate::store::sqlite_path(&config.database.url) {
            Some(path) => Some(crate::store::lock::lock_sqlite(&path)?),
            None => None,
        };
        let store = open_store(config, OpenMode::Create).await?;
        let fetcher = Fetcher::new(&config.fetch)?;
        let mailer = SmtpMailer::new(SmtpSettings::from_config(&config.smtp));
        let ops_listener = match config.ops.listen {
            Some(addr) => {
                Some(tokio::net::TcpListener::bind(addr).await.map_err(|source| AppError::Listen { addr, source })?)
            }
            None => None,
        };
        Ok(Parts { store, fetcher, mailer, ops_listener, clock: SystemClock::shared(), lock })
    }
}

/// How long shutdown waits for running checks before giving up on them.
const SHUTDOWN_DEADLINE: Duration = Duration::from_secs(30);

/// Runs the daemon with `parts` until SIGINT or SIGTERM.
pub async fn run_until_signal(config: Config, parts: Parts) -> Result<(), AppError> {
    let shutdown = CancellationToken::new();
    let signal = shutdown.clone();
    // Installed before anything runs: a SIGHUP that arrives before the
    // handler would still end the process.
    let signals = Signals::install();
    tokio::spawn(async move {
        signals.wait().await;
        tracing::info!("Shutdown requested");
        signal.cancel();
    });
    run(config, parts, shutdown).await
}

/// The signals the daemon answers. SIGINT and SIGTERM stop it cleanly.
/// SIGHUP is the operator's reflex for "reload the configuration" (and what
/// a closing terminal sends); its default action ends the process on the
/// spot, like a crash: no shutdown, no lease released, the checks in flight
/// counted as crashes of their sources at the next start. The configuration
/// is read once, at start, so SIGHUP only says so.
struct Signals {
    #[cfg(unix)]
    int: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    hup: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn install() -> Signals {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Signals {
                int: signal(SignalKind::interrupt()).ok(),
                term: signal(SignalKind::terminate()).ok(),
                hup: signal(SignalKind::hangup()).ok(),
            }
        }
        #[cfg(not(unix))]
        {
            Signals {}
        }
    }

    /// Returns when the daemon is asked to stop.
    async fn wait(mut self) {
        #[cfg(unix)]
        loop {
            tokio::select! {
                _ = next(&mut self.int) => return,
                _ = next(&mut self.term) => return,
                _ = next(&mut self.hup) => tracing::warn!(
                    "Received SIGHUP: the configuration is read only at start, nothing was reloaded; \
                     restart the daemon to apply a changed one (systemctl restart modelwatch). Still running."
                ),
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// The next delivery of a signal; never, for one whose handler could not
/// be installed.
#[cfg(unix)]
async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
    match signal.as_mut() {
        Some(s) => {
            s.recv().await;
        }
        None => std::future::pending().await,
    }
}

/// Runs the daemon with `parts` until `shutdown` is cancelled.
pub async fn run(config: Config, parts: Parts, shutdown: CancellationToken) -> Result<(), AppError> {
    let config = Arc::new(config);
    let Parts { store, fetcher, mailer, ops_listener, clock, lock: _lock } = parts;
    // Start-up and the first sweep query the database from several tasks.
    store.warm_up();
    store.migrate().await.map_err(AppError::Migrate)?;
    // An empty database gets the shipped sources, unless `init
    // --no-seed-sources` said never.
    if !store.has_sources().await? && store.seed_sources_enabled().await? {
        match crate::seed::load(&store, &config, clock.now()).await {
            Ok(n) => {
                tracing::info!(added = n, file = %config.sources_seed_file.display(), "Loaded the shipped sources")
            }
            Err(e) => tracing::warn!(error = %e, "Cannot load the shipped sources"),
        }
    }
    let runner = Runner::new(store.clone(), fetcher, config.clone(), clock.clone());
    let owner = instance_id();
    // Together: on PostgreSQL two connections, the count (a scan of the
    // sources) off the path to the first claim. Awaited before the log
    // line: a future that holds the line's arguments across an await is
    // not `Send`, and the daemon must be spawnable.
    let (recovered, sources) = tokio::join!(recover_after_crash(&runner), store.count_sources());
    recovered?;
    let sources = sources?;
    tracing::info!(
        instance = %owner,
        database = %redact_url(&config.database.url),
        sources,
        sweep_every = %crate::schedule::format_duration(config.schedule.sweep_every),
        "modelwatch started"
    );

    let tracker = Tasks::new();
    // Without the ops endpoints nothing reads the gauges: no refresh.
    let serving_metrics = ops_listener.is_some();
    if let Some(listener) = ops_listener {
        let local = listener.local_addr().map_err(|source| AppError::LocalAddr { source })?;
        let metrics = crate::ops::install_metrics();
        crate::ops::metrics::refresh_sources(&store).await;
        tracing::info!(listen = %local, "Ops endpoints ready");
        tracker.spawn("ops endpoints", crate::ops::serve(listener, store.clone(), metrics, shutdown.clone()));
    }
    if let Some(addr) = config.web.listen {
        let listener =
            tokio::net::TcpListener::bind(addr).await.map_err(|source| AppError::WebListen { addr, source })?;
        let local = listener.local_addr().map_err(|source| AppError::WebListen { addr, source })?;
        let state = crate::web::WebState::new(store.clone(), config.web.clone(), crate::web::LoginLimits::default())?;
        tracing::info!(
            address = %local,
            login = config.web.token.is_some(),
            login_to_read = config.web.login_to_read,
            "Web view ready"
        );
        tracker.spawn("web view", crate::web::serve(listener, state, crate::web::LIMITS, shutdown.clone()));
    }
    // SQLite: the daemon stops (after saving a copy) when its file is
    // deleted or replaced, instead of writing on into a nameless file.
    let db_file_gone = Arc::new(std::sync::OnceLock::new());
    if let Some(path) = crate::store::sqlite_path(&config.database.url).map(std::path::PathBuf::from)
        && let Some(opened) = crate::ops::db_file::identify(&path)
    {
        tracker.spawn(
            "database file watch",
            crate::ops::db_file::watch(
                path,
                opened,
                config.schedule.sweep_every,
                shutdown.clone(),
                db_file_gone.clone(),
            ),
        );
    }
    let heartbeat = crate::ops::watchdog::Heartbeat::new();
    heartbeat.beat();
    tracker.spawn(
        "systemd watchdog",
        crate::ops::watchdog::run(
            store.clone(),
            heartbeat.clone(),
            config.schedule.sweep_every + config.schedule.lease,
            shutdown.clone(),
        ),
    );

    // Cron closures only enqueue: the sweep runs in this task, so two sweeps
    // never overlap and a slow one simply absorbs the ticks that came during it.
    let (tick_tx, mut tick_rx) = mpsc::channel::<()>(1);
    let mut scheduler = JobScheduler::new().await?;
    let tx = tick_tx.clone();
    scheduler
        .add(Job::new_repeated_async(config.schedule.sweep_every, move |_id, _sched| {
            let tx = tx.clone();
            Box::pin(async move {
                let _ = tx.try_send(());
            })
        })?)
        .await?;
    // Daily maintenance at 03:30 in the configured time zone.
    let (maint_tx, mut maint_rx) = mpsc::channel::<()>(1);
    scheduler
        .add(Job::new_async_tz("0 30 3 * * *", config.schedule.timezone, move |_id, _sched| {
            let tx = maint_tx.clone();
            Box::pin(async move {
                let _ = tx.try_send(());
            })
        })?)
        .await?;
    {
        let store = store.clone();
        let retention = config.retention.clone();
        let cancel = shutdown.clone();
        let clock = clock.clone();
        tracker.spawn("daily maintenance", async move {
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    tick = maint_rx.recv() => {
                        if tick.is_none() { break; }
                        maintenance(&store, &retention, clock.now()).await;
                    }
                }
            }
        });
    }
    if config.digest.enabled {
        // The weekly digest: the cron closure only enqueues; the digest task
        // builds, stores and sends (and catches up a send missed while down).
        let (digest_tx, digest_rx) = mpsc::channel::<()>(1);
        let cron = config.digest.cron.six_fields().to_owned();
        scheduler
            .add(Job::new_async_tz(cron, config.digest.timezone, move |_id, _sched| {
                let tx = digest_tx.clone();
                Box::pin(async move {
                    let _ = tx.try_send(());
                })
            })?)
            .await?;
        let job = DigestJob { store: store.clone(), mailer, clock: clock.clone() };
        tracker.spawn(
            "digest (build or send)",
            crate::jobs::digest_daemon::run(job, config.clone(), digest_rx, shutdown.clone()),
        );
    }
    scheduler.start().await?;
    let _ = tick_tx.try_send(()); // first sweep at start-up
    let _ = sd_notify::notify(&[sd_notify::NotifyState::Ready]);
    check_suspects_once_reachable(&runner, &owner, &shutdown).await;

    // The checks: a pipeline that claims due sources as slots free up; the
    // sweep tick only wakes it to look for newly due sources. Each round of
    // its loop is a heartbeat for the systemd watchdog: a wedged loop stops
    // the pings.
    {
        let runner = runner.clone();
        let owner = owner.clone();
        let cancel = shutdown.clone();
        let heartbeat = heartbeat.clone();
        tracker.spawn("checks", async move {
            runner.run_pipeline(&owner, &mut tick_rx, &cancel, &|| heartbeat.beat()).await
        });
    }
    // `modelwatch_sources{status}` follows the database, whoever changed it.
    // Each refresh counts the sources by status (a scan of the table): at
    // start, beside the first claims, it was the largest statement of an
    // unchanged sweep on PostgreSQL (issue 12), for gauges nobody serves
    // when `ops.listen` is empty.
    if serving_metrics {
        let store = store.clone();
        let cancel = shutdown.clone();
        let every = config.schedule.sweep_every;
        tracker.spawn("metrics refresh", async move {
            // Refreshed once already, before the listener was served.
            let every = every.max(Duration::from_secs(1));
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = cancel.cancelled() => break,
                    _ = tick.tick() => crate::ops::metrics::refresh_sources(&store).await,
                }
            }
        });
    }
    shutdown.cancelled().await;

    let _ = sd_notify::notify(&[sd_notify::NotifyState::Stopping]);
    let _ = scheduler.shutdown().await;
    let still_running = tracker.wait(SHUTDOWN_DEADLINE).await;
    if !still_running.is_empty() {
        // The checks' task names no source: the leases this instance still
        // holds do (checks in flight, and any claimed but not started).
        let leased = store.leased_urls(&owner).await.unwrap_or_default();
        tracing::warn!(
            tasks = still_running.len(),
            still_running = %still_running.join(", "),
            sources_in_flight = %shown_urls(&leased),
            deadline_s = SHUTDOWN_DEADLINE.as_secs(),
            "Shutdown deadline passed with tasks still running"
        );
    }
    if let Err(e) = store.release_leases(&owner).await {
        tracing::warn!(error = %e, "Cannot release leases at shutdown");
    }
    if let Some(gone) = db_file_gone.get() {
        return Err(AppError::DatabaseFileGone(crate::ops::db_file::rescue(&store, gone).await));
    }
    tracing::info!("modelwatch stopped");
    Ok(())
}

/// At most [`SHOWN_URLS`] URLs, then how many more.
fn shown_urls(urls: &[String]) -> String {
    let mut shown = urls.iter().take(SHOWN_URLS).map(|u| redact_url(u)).collect::<Vec<_>>().join(" ");
    if urls.len() > SHOWN_URLS {
        shown.push_str(&format!(" (and {} more)", urls.len() - SHOWN_URLS));
    }
    if shown.is_empty() {
        shown.push('-');
    }
    shown
}

/// How many source URLs the shutdown warning names.
const SHOWN_URLS: usize = 10;

async fn maintenance(
    store: &crate::store::Store,
    retention: &crate::config::RetentionConfig,
    now: chrono::DateTime<chrono::Utc>,
) {
    let ago = |d: Duration| now - chrono::Duration::from_std(d).unwrap_or(chrono::Duration::days(90));
    match store.prune(ago(retention.raw_bodies), ago(retention.checks)).await {
        Ok(p) => tracing::info!(raw_bodies = p.raw_bodies, checks = p.checks, "Maintenance pruned old data"),
        Err(e) => tracing::error!(error = %e, "Maintenance failed"),
    }
    match store.prune_metrics(ago(retention.metrics)).await {
        Ok(n) => tracing::info!(metric_points = n, "Maintenance pruned old metric points"),
        Err(e) => tracing::error!(error = %e, "Metric maintenance failed"),
    }
}

/// Names this instance in leases: host and process id.
fn instance_id() -> String {
    format!("{}:{}", host_name(), std::process::id())
}

fn host_name() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_owned()).unwrap_or_else(|_| "localhost".to_owned())
}

/// Takes back what a crashed run left: its leases (at once, not after
/// `schedule.lease`), counting each as a crash of that source's check, and
/// then checks the suspects one at a time (see `store::crashes`).
async fn recover_after_crash(runner: &Runner) -> Result<(), StoreError> {
    let store = &runner.store;
    let dead = if store.is_sqlite() {
        crate::store::DeadOwners::All
    } else {
        // This host's instances whose process is gone; a live one keeps
        // its leases, and other hosts' leases lapse as before.
        let owners = store.lease_owners_on(&host_name()).await?;
        crate::store::DeadOwners::Named(
            owners
                .into_iter()
                .filter(|o| {
                    o.rsplit(':').next().and_then(|p| p.parse::<u32>().ok()).is_none_or(|pid| {
                        pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
                    })
                })
                .collect(),
        )
    };
    let recovery = store.recover_after_crash(&dead, runner.clock.now()).await?;
    if !recovery.released.is_empty() {
        tracing::warn!(released = recovery.released.len(), "Released the checks a previous run began and never ended");
    }
    for id in &recovery.quarantined {
        tracing::error!(
            source_id = id.0,
            crashes = crate::store::QUARANTINE_AFTER,
            "Quarantined a source: the process died during its checks; `sources resume` lifts it"
        );
    }
    Ok(())
}

/// [`check_suspects`], waiting for the database if it fails meanwhile.
/// READY=1 and a green `/readyz` come before this, so a database outage
/// that begins now used to end the daemon (`scripts/faults`' outage
/// scenario, one run in three): the sweeps after it wait out an outage, and
/// so does this.
async fn check_suspects_once_reachable(runner: &Runner, owner: &str, cancel: &CancellationToken) {
    let mut wait = Duration::from_secs(1);
    while let Err(e) = check_suspects(runner, owner, cancel).await {
        tracing::warn!(
            error = %e,
            retry_in = %crate::schedule::format_duration(wait),
            "Cannot check the sources of an interrupted run yet"
        );
        tokio::select! {
            _ = cancel.cancelled() => return,
            _ = tokio::time::sleep(wait) => {}
        }
        wait = (wait * 2).min(Duration::from_secs(30));
    }
}

/// Checks crash suspects one at a time, before the first sweep.
async fn check_suspects(runner: &Runner, owner: &str, cancel: &CancellationToken) -> Result<(), StoreError> {
    let store = &runner.store;
    let suspects = store.crash_suspects().await?;
    if !suspects.is_empty() {
        tracing::info!(suspects = suspects.len(), "Checking the sources of an interrupted run one at a time");
    }
    let mode = crate::runner::CheckMode { lease_owner: Some(owner.to_owned()), ..Default::default() };
    for id in suspects {
        if cancel.is_cancelled() {
            break;
        }
        let lease = runner.config.schedule.lease;
        if let Some(source) = store.claim_one(id, owner, runner.clock.now(), lease).await? {
            runner.check_all(vec![source], mode.clone(), cancel).await;
        }
    }
    Ok(())
}
