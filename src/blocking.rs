//! CPU work (parsing, diffing, hashing, compression) off the async threads,
//! at most one job per core at a time, with a panic on one hostile input
//! turned into a message instead of a crashed task.
//!
//! `spawn_blocking` alone let every running check start its own thread: 32
//! checks in flight meant up to 32 threads parsing pages on 2 cores, each
//! holding a parsed DOM (megabytes) and its own malloc arena, while fetches
//! waited for a core. A permit per core in front of `spawn_blocking` kept
//! the jobs to one per core, but not the threads: a job's permit was free
//! before its thread was idle again, so the next job often found no idle
//! thread and tokio started one — 11 blocking threads in a 2,000-page
//! sweep, each with its own glibc arena (memory freed on one thread is
//! not reused by another) and its own zstd context. The jobs now run on
//! one long-lived thread per core — a [`crate::worker::Pool`], the parsers'
//! mechanism, given jobs without a budget: the same throughput, and every
//! CPU job's allocations in the same few arenas.

use std::panic::AssertUnwindSafe;
use std::sync::LazyLock;
use std::time::Duration;

use tokio::sync::oneshot;

use crate::worker::{Pool, PoolSpec};

/// Stack of the CPU threads: what tokio's blocking threads had (the
/// deep parses run on the parser pool, `crate::worker::parsers`).
const CPU_STACK: usize = 2 << 20;

/// The CPU threads: one per core (at least two, so one long job never
/// stalls the rest), named `cpu-worker`.
static CPU: LazyLock<Pool> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
    // Jobs here are submitted, not run under a budget: the queue wait and
    // the stuck-worker limit apply only to `Pool::run`, not used here.
    Pool::new(
        "cpu",
        PoolSpec { workers: cores, stack: CPU_STACK, max_stuck: 0, max_queue_wait: Duration::from_secs(60) },
    )
});

/// Runs a blocking closure on a CPU thread, after the jobs queued before
/// it. Not for work that may never end (a hostile PDF): it would keep its
/// thread — use [`unpooled`] behind a pool of its own. A job whose caller
/// stopped waiting still runs; its answer is dropped.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    if !CPU.has_workers() {
        // No CPU thread could be started: tokio's pool still serves.
        return unpooled(f).await;
    }
    let (tx, rx) = oneshot::channel();
    CPU.submit(move || {
        // A panic is this job's answer; the thread serves on.
        let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
    })
    .map_err(|e| e.to_string())?;
    match rx.await {
        Ok(Ok(out)) => Ok(out),
        Ok(Err(_)) => Err("the worker panicked on this input".to_owned()),
        Err(_) => Err("the CPU thread ended before the job".to_owned()),
    }
}

/// Runs a blocking closure on tokio's blocking pool without a CPU permit
/// (the caller bounds it).
pub(crate) async fn unpooled<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| if e.is_panic() { "the worker panicked on this input".to_owned() } else { e.to_string() })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_jobs_run_at_once_than_there_are_cores() {
        let limit = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let jobs: Vec<_> = (0..limit * 4)
            .map(|_| {
                let (now, peak) = (now.clone(), peak.clone());
                tokio::spawn(blocking(move || {
                    let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(n, Ordering::SeqCst);
                    std::thread::sleep(std::time::Duration::from_millis(20));
                    now.fetch_sub(1, Ordering::SeqCst);
                }))
            })
            .collect();
        for j in jobs {
            j.await.unwrap().unwrap();
        }
        assert!(peak.load(Ordering::SeqCst) <= limit, "peak {} > {limit}", peak.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn a_panicking_job_is_an_error_and_its_thread_serves_on() {
        let limit = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
        for _ in 0..limit + 1 {
            assert!(blocking(|| panic!("hostile page")).await.is_err());
        }
        // Had the panics ended the threads, this would wait forever.
        assert_eq!(blocking(|| 7).await.unwrap(), 7);
    }

    /// Every job runs on the same few threads (one per core), whatever the
    /// number of jobs: their allocations stay in those threads' arenas.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn jobs_share_one_thread_per_core() {
        let limit = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
        let jobs: Vec<_> = (0..limit * 20)
            .map(|_| {
                tokio::spawn(blocking(|| {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                    let me = std::thread::current();
                    (me.id(), me.name().map(str::to_owned))
                }))
            })
            .collect();
        let mut threads = std::collections::HashSet::new();
        for j in jobs {
            let (id, name) = j.await.unwrap().unwrap();
            assert_eq!(name.as_deref(), Some("cpu-worker"));
            threads.insert(id);
        }
        assert!(threads.len() <= limit, "{} threads for {limit} cores", threads.len());
    }
}
