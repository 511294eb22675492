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
//! one long-lived thread per core: the same throughput, and every CPU
//! job's allocations in the same few arenas.

use std::panic::AssertUnwindSafe;
use std::sync::{Arc, LazyLock, Mutex, PoisonError, mpsc};

use tokio::sync::oneshot;

type Job = Box<dyn FnOnce() + Send>;

/// The CPU threads: one per core (at least two, so one long job never
/// stalls the rest). `None` when no thread could be started.
static CPU: LazyLock<Option<Mutex<mpsc::Sender<Job>>>> = LazyLock::new(|| {
    let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
    let (tx, rx) = mpsc::channel::<Job>();
    let rx = Arc::new(Mutex::new(rx));
    let mut started = 0;
    for _ in 0..cores {
        let rx = rx.clone();
        let spawned = std::thread::Builder::new().name("cpu-worker".to_owned()).spawn(move || {
            loop {
                // One idle thread waits on the queue, the others on the lock.
                let job = match rx.lock().unwrap_or_else(PoisonError::into_inner).recv() {
                    Ok(job) => job,
                    Err(_) => return,
                };
                job();
            }
        });
        match spawned {
            Ok(_) => started += 1,
            Err(e) => tracing::error!(error = %e, "Cannot start a CPU worker thread."),
        }
    }
    (started > 0).then(|| Mutex::new(tx))
});

/// Runs a blocking closure on a CPU thread, after the jobs queued before
/// it. Not for work that may never end (a hostile PDF): it would keep its
/// thread — use [`unpooled`] behind a pool of its own. A job whose caller
/// stopped waiting still runs; its answer is dropped.
pub(crate) async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, String> {
    let Some(queue) = CPU.as_ref() else {
        // No CPU thread could be started: tokio's pool still serves.
        return unpooled(f).await;
    };
    let (tx, rx) = oneshot::channel();
    let job: Job = Box::new(move || {
        // A panic is this job's answer; the thread serves on.
        let _ = tx.send(std::panic::catch_unwind(AssertUnwindSafe(f)));
    });
    queue
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .send(job)
        .map_err(|_| "the CPU threads are gone".to_owned())?;
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
