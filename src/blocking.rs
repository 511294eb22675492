//! CPU work (parsing, diffing, hashing, compression) off the async threads,
//! at most one job per core at a time, with a panic on one hostile input
//! turned into a message instead of a crashed task.
//!
//! `spawn_blocking` alone let every running check start its own thread: 32
//! checks in flight meant up to 32 threads parsing pages on 2 cores, each
//! holding a parsed DOM (megabytes) and its own malloc arena, while fetches
//! waited for a core. A permit per core keeps the CPU work queued instead —
//! the same throughput, a fraction of the memory — and the async threads
//! free to keep fetches and database writes flowing.

use std::sync::{Arc, LazyLock};

use tokio::sync::Semaphore;

/// One permit per core (at least two, so one long job never stalls the rest).
static CPU: LazyLock<Arc<Semaphore>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
    Arc::new(Semaphore::new(cores.max(2)))
});

/// Runs a blocking closure on tokio's blocking pool once a CPU permit is
/// free. Not for work that may never end (a hostile PDF): it would keep its
/// permit — use [`unpooled`] behind a pool of its own.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    // The semaphore is never closed; if it were, run unbounded.
    let permit = CPU.clone().acquire_owned().await.ok();
    unpooled(move || {
        let _permit = permit;
        f()
    })
    .await
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
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_jobs_run_at_once_than_there_are_permits() {
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
    async fn a_panicking_job_is_an_error_and_frees_its_permit() {
        let limit = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
        for _ in 0..limit + 1 {
            assert!(blocking(|| panic!("hostile page")).await.is_err());
        }
        // Had the panics kept their permits, this would wait forever.
        assert_eq!(blocking(|| 7).await.unwrap(), 7);
    }
}
