//! Running checks: claim due sources, bound concurrency, and run one check
//! per source (fetch → extract → diff → store).

mod catalog;
mod check;
mod compare;
pub mod liveness;

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use futures::StreamExt;
use tokio_util::sync::CancellationToken;

use crate::blocking::blocking;
use crate::config::Config;
use crate::fetch::Fetcher;
use crate::source::Source;
use crate::sources::api::Apis;
use crate::store::{Store, StoreError};

pub use check::{CheckMode, CheckReport, Outcome};

/// Everything a check needs; shared by the daemon and the CLI.
#[derive(Clone)]
pub struct Runner {
    pub store: Store,
    pub fetcher: Fetcher,
    pub config: Arc<Config>,
    /// GitHub and Hugging Face request options; holds the shared GitHub budget.
    pub apis: Apis,
}

impl Runner {
    pub fn new(store: Store, fetcher: Fetcher, config: Arc<Config>) -> Self {
        let apis = Apis::new(&config);
        Runner { store, fetcher, config, apis }
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
        let limit = self.config.fetch.concurrency.max(1) as usize;
        futures::stream::iter(sources)
            .take_while(|_| std::future::ready(!cancel.is_cancelled()))
            .map(|source| {
                let mode = mode.clone();
                async move {
                    // Each check on its own task: a panic on one hostile
                    // page is contained, recorded as that source's failure
                    // (with backoff, lease released), and the batch goes on.
                    let runner = self.clone();
                    let (task_source, task_mode) = (source.clone(), mode.clone());
                    match tokio::spawn(async move { runner.check(task_source, &task_mode).await }).await {
                        Ok(report) => report,
                        Err(e) => self.record_panic(source, &mode, panic_message(e)).await,
                    }
                }
            })
            .buffer_unordered(limit)
            .collect()
            .await
    }

    /// One sweep of the daemon: claim what is due and check it.
    pub async fn sweep(&self, owner: &str, cancel: &CancellationToken) -> Result<Vec<CheckReport>, StoreError> {
        let sched = &self.config.schedule;
        let due = self.store.claim_due(Utc::now(), owner, sched.lease, sched.batch_size).await?;
        if due.is_empty() {
            return Ok(Vec::new());
        }
        tracing::info!(due = due.len(), "Sweep claimed due sources");
        let mode = CheckMode { lease_owner: Some(owner.to_owned()), dry_run: false };
        let reports = self.check_all(due, mode, cancel).await;
        // Leases of checks that never started (cancelled) lapse with time;
        // release them now so another instance can take them at once.
        if cancel.is_cancelled() {
            self.store.release_leases(owner).await?;
        }
        Ok(reports)
    }
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
