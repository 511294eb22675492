//! Running checks: claim due sources, bound concurrency, and run one check
//! per source (fetch → extract → diff → store).

pub mod catalog;
mod check;
mod compare;
pub mod liveness;
mod pipeline;
mod slot;

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use crate::blocking::blocking;
use crate::clock::SharedClock;
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::source::Source;
use crate::sources::api::Apis;
use crate::store::Store;
use crate::store::batch::RecordWriter;

/// At most this many check records share a transaction.
const RECORD_BATCH: usize = 64;

pub use catalog::{CatalogStep, CatalogStepError, NewText};
pub use check::{CheckMode, CheckReport, Outcome, Unconfirmed};
pub use pipeline::SweepTally;
pub use slot::Slot;

/// Everything a check needs; shared by the daemon and the CLI.
#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub fetcher: Fetcher,
    pub config: Arc<Config>,
    /// GitHub and Hugging Face request options; holds the shared GitHub budget.
    pub apis: Apis,
    /// Check records go through here: many checks per transaction.
    pub writer: RecordWriter,
    /// The catalog step with its matcher, built once per catalog revision.
    pub catalog: Arc<CatalogStep>,
    /// When a check started, which sources are due, when leases end.
    pub clock: SharedClock,
}

impl Runner {
    /// Starts the record writer, so it must be called on a tokio runtime.
    pub fn new(store: Store, fetcher: Fetcher, config: Arc<Config>, clock: SharedClock) -> Self {
        let apis = Apis::new(&config);
        // At most `fetch.concurrency` records wait for their commit (see
        // [`Slot`]): a batch that holds them all is written at once.
        let writer = RecordWriter::spawn(store.clone(), RECORD_BATCH.min(concurrency_limit(&config)));
        let stop = catalog::stoplist(&config.catalog.stoplist_file);
        let catalog = Arc::new(CatalogStep::new(store.clone(), stop, config.catalog.promote_after_sources));
        Runner { store, fetcher, config, apis, writer, catalog, clock }
    }

    /// Checks `sources` with at most `fetch.concurrency` in flight; per-host
    /// limits are the fetcher's. A cancelled token stops starting new checks;
    /// checks already running finish and are recorded.
    pub async fn check_all(
        &self,
        sources: Vec<Source>,
        mode: CheckMode,
        cancel: &CancellationToken,
    ) -> Vec<CheckReport> {
        self.check_all_with(sources, mode, cancel, |_| {}).await
    }

    /// [`Runner::check_all`], calling `on_done` as each check finishes (the
    /// CLI's progress bar).
    pub async fn check_all_with(
        &self,
        sources: Vec<Source>,
        mode: CheckMode,
        cancel: &CancellationToken,
        on_done: impl Fn(&CheckReport),
    ) -> Vec<CheckReport> {
        self.check_stream_with(futures::stream::iter(sources), mode, cancel, on_done).await
    }

    /// [`Runner::check_all_with`] over sources as they come: the stream is
    /// read as slots free up, so no more sources are held than the checks
    /// in flight and what the stream itself holds (`check --all` reads the
    /// table a page at a time).
    pub async fn check_stream_with(
        &self,
        sources: impl futures::Stream<Item = Source>,
        mode: CheckMode,
        cancel: &CancellationToken,
        on_done: impl Fn(&CheckReport),
    ) -> Vec<CheckReport> {
        let limit = concurrency_limit(&self.config);
        let (working, awaiting_commit) = slots(limit);
        sources
            .take_while(|_| std::future::ready(!cancel.is_cancelled()))
            .map(|source| {
                let mode = mode.clone();
                let (working, awaiting_commit) = (working.clone(), awaiting_commit.clone());
                async move {
                    // At most `limit` checks at work; those whose records
                    // wait for their commit have given their slots back.
                    let slot = working.acquire_owned().await.ok().map(|w| Slot::new(w, awaiting_commit));
                    // Each check on its own task: a panic on one hostile
                    // page is contained, recorded as that source's failure
                    // (with backoff, lease released), and the batch goes on.
                    let runner = self.clone();
                    let (task_source, task_mode) = (source.clone(), mode.clone());
                    match tokio::spawn(async move { runner.check_in(task_source, &task_mode, slot).await }).await {
                        Ok(report) => report,
                        Err(e) => self.record_panic(source, &mode, panic_message(e)).await,
                    }
                }
            })
            .buffer_unordered(2 * limit)
            .inspect(|report| on_done(report))
            .collect()
            .await
    }
}

/// How many checks work at once, and how many records can await their
/// commit (`fetch.concurrency`, at least one).
fn concurrency_limit(config: &Config) -> usize {
    config.fetch.concurrency.max(1) as usize
}

/// The working slots and the places for records awaiting their commit,
/// `limit` each (see [`Slot`]): at most twice `limit` checks in memory.
fn slots(limit: usize) -> (Arc<Semaphore>, Arc<Semaphore>) {
    (Arc::new(Semaphore::new(limit)), Arc::new(Semaphore::new(limit)))
}

fn panic_message(e: tokio::task::JoinError) -> String {
    match e.try_into_panic() {
        Ok(payload) => {
            let text = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            format!("the check panicked: {text}")
        }
        Err(e) => format!("the check was cancelled: {e}"),
    }
}

/// A small random delay, as a share of `interval`, so sources scheduled
/// together spread out.
fn jitter(interval: Duration, share: f64) -> Duration {
    if share <= 0.0 {
        return Duration::ZERO;
    }
    let max = interval.as_secs_f64() * share;
    Duration::from_secs_f64(rand::random::<f64>() * max)
}
