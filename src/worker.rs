//! Long-lived threads for contained CPU work: a parse on a thread with a
//! known stack, a panic caught per job, and a wall-clock budget.
//!
//! A thread per page (32 MiB stack, created and torn down each time) cost
//! more kernel time than the parse it contained. A [`Pool`] keeps a fixed
//! number of workers and hands each job to the next free one. What the
//! thread per job gave is kept:
//!
//! - a panic is caught on the worker ([`JobError::Panicked`]); the worker
//!   lives on;
//! - a job running past its budget is given up ([`JobError::TimedOut`]):
//!   the caller stops waiting and a new worker takes the stuck one's place,
//!   so the pool keeps its capacity. The stuck worker exits when its job
//!   ends. Replacements are bounded ([`Pool::new`]'s `max_stuck`): past it
//!   a stuck worker is not replaced, comes back to the pool when its job
//!   ends, and until then the pool is smaller — one endless hostile input
//!   per worker can then make jobs wait, never make threads pile up;
//! - a job still queued after the pool's `max_queue_wait` is given up
//!   ([`JobError::Busy`]; the worker that would have run it skips it): a
//!   caller waits at most that plus its budget.
//!
//! A leaf module: it imports nothing of the crate, so both `extract` and
//! `contain` use it without a circle between them.

use std::sync::mpsc;
use std::sync::{Arc, LazyLock, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Stack of the shared parser workers: the walks are iterative, this is
/// margin for html5ever, the selector engine and the feed/JSON parsers,
/// known rather than inherited.
pub const PARSER_STACK: usize = 32 << 20;

/// How long a job of the shared pool may wait for a worker: a queue that
/// does not move for a minute has stuck workers past the limit.
const QUEUE_WAIT: Duration = Duration::from_secs(60);

/// The pool that HTML extraction and the in-process parsers share: one
/// worker per core (at least two), 32 MiB of stack each, four stuck
/// workers replaced per worker at most.
pub fn parsers() -> &'static Pool {
    static POOL: LazyLock<Pool> = LazyLock::new(|| {
        let cores = std::thread::available_parallelism().map(usize::from).unwrap_or(2).max(2);
        Pool::new(
            "parser",
            PoolSpec { workers: cores, stack: PARSER_STACK, max_stuck: 4 * cores, max_queue_wait: QUEUE_WAIT },
        )
    });
    &POOL
}

/// Why a job gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobError {
    #[error("panic: {0}")]
    Panicked(String),
    #[error("the job took longer than {0:?}")]
    TimedOut(Duration),
    #[error("no worker was free within {0:?}")]
    Busy(Duration),
    #[error("no worker thread could be started: {0}")]
    Unavailable(String),
}

type Job = Box<dyn FnOnce() -> Verdict + Send>;

/// What a worker does after a job.
#[derive(PartialEq, Eq)]
enum Verdict {
    Continue,
    /// Its job was given up and a replacement started: leave.
    Exit,
}

/// Where a job is, shared by the caller and the worker.
#[derive(Clone, Copy)]
enum Phase {
    Queued,
    Running(Instant),
    Done,
    /// The caller gave up; `replaced` says whether a new worker took the
    /// place of the one running it.
    Abandoned {
        replaced: bool,
    },
}

/// The shape of a [`Pool`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolSpec {
    pub workers: usize,
    /// Stack of each worker, in bytes.
    pub stack: usize,
    /// Stuck workers replaced at once, at most.
    pub max_stuck: usize,
    /// Longest wait for a free worker before a job is given up.
    pub max_queue_wait: Duration,
}

/// A fixed set of worker threads. Dropping the pool lets idle workers exit.
pub struct Pool {
    queue: Mutex<mpsc::Sender<Job>>,
    shared: Arc<Shared>,
    /// Workers started with the pool: with none, [`Pool::submit`] refuses
    /// at once instead of queueing for ever.
    started: usize,
}

/// What the workers hold.
struct Shared {
    name: String,
    stack: usize,
    jobs: Mutex<mpsc::Receiver<Job>>,
    /// Workers running a given-up job that were replaced.
    stuck: Mutex<usize>,
    max_stuck: usize,
    max_queue_wait: Duration,
}

impl Pool {
    /// Starts the workers, named `name-worker`. A worker that cannot be
    /// started is logged (the others serve; with none, jobs are given up
    /// in the queue).
    pub fn new(name: &str, spec: PoolSpec) -> Pool {
        let (tx, rx) = mpsc::channel();
        let shared = Arc::new(Shared {
            name: name.to_owned(),
            stack: spec.stack,
            jobs: Mutex::new(rx),
            stuck: Mutex::new(0),
            max_stuck: spec.max_stuck,
            max_queue_wait: spec.max_queue_wait,
        });
        let mut started = 0;
        for _ in 0..spec.workers.max(1) {
            match spawn_worker(&shared) {
                Ok(()) => started += 1,
                Err(e) => tracing::error!(pool = name, error = %e, "Cannot start a worker thread."),
            }
        }
        Pool { queue: Mutex::new(tx), shared, started }
    }

    /// Whether any worker was started.
    pub fn has_workers(&self) -> bool {
        self.started > 0
    }

    /// Queues `f` for the next free worker and returns: no budget, no
    /// answer (the job sends its own, and catches its own panic — one that
    /// escapes is caught here and the worker serves on). For work that
    /// ends; [`Pool::run`] bounds work that may not.
    pub fn submit(&self, f: impl FnOnce() + Send + 'static) -> Result<(), JobError> {
        if self.started == 0 {
            return Err(JobError::Unavailable(format!("no {} worker could be started", self.shared.name)));
        }
        let job: Job = Box::new(move || {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
            Verdict::Continue
        });
        lock(&self.queue).send(job).map_err(|e| JobError::Unavailable(e.to_string()))
    }

    /// Runs `f` on a worker and waits for it, `wall` at most once it runs
    /// (and the pool's `max_queue_wait` at most before). Blocking: call it
    /// off the async threads.
    pub fn run<T: Send + 'static>(
        &self,
        wall: Duration,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, JobError> {
        let phase = Arc::new(Mutex::new(Phase::Queued));
        // The answer only. The job's start is not sent: the caller learns
        // it from `phase` when it next wakes (a message at each start woke
        // the caller once more per job, a futex wake-up and two context
        // switches per page parsed, for nothing the answer does not say).
        let (tx, rx) = mpsc::sync_channel(1);
        let job_phase = phase.clone();
        let job: Job = Box::new(move || {
            {
                let mut p = lock(&job_phase);
                if !matches!(*p, Phase::Queued) {
                    return Verdict::Continue; // given up before it started
                }
                *p = Phase::Running(Instant::now());
            }
            let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f))
                .map_err(|payload| JobError::Panicked(panic_message(payload.as_ref())));
            let mut p = lock(&job_phase);
            match *p {
                Phase::Abandoned { replaced: true } => Verdict::Exit,
                Phase::Abandoned { replaced: false } => Verdict::Continue,
                _ => {
                    *p = Phase::Done;
                    let _ = tx.send(out);
                    Verdict::Continue
                }
            }
        });
        lock(&self.queue).send(job).map_err(|e| JobError::Unavailable(e.to_string()))?;

        let queued = Instant::now();
        loop {
            let deadline = match *lock(&phase) {
                Phase::Running(started) => started + wall,
                // While queued, wake at the queue's limit, or a budget from
                // now if that comes first: a job that started meanwhile is
                // then held to its budget from its own start (the next
                // wait ends at `started + wall`), as if its start had been
                // sent.
                _ => (queued + self.shared.max_queue_wait).min(Instant::now() + wall),
            };
            match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
                Ok(out) => return out,
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(JobError::Panicked("the worker vanished".to_owned()));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            let mut p = lock(&phase);
            match *p {
                Phase::Queued if queued.elapsed() >= self.shared.max_queue_wait => {
                    *p = Phase::Abandoned { replaced: false };
                    return Err(JobError::Busy(self.shared.max_queue_wait));
                }
                Phase::Running(started) if started.elapsed() >= wall => {
                    let replaced = self.replace_stuck();
                    *p = Phase::Abandoned { replaced };
                    return Err(JobError::TimedOut(wall));
                }
                // Started late, or finished just now: wait on.
                _ => {}
            }
        }
    }

    /// Starts a worker in place of a stuck one, within `max_stuck`.
    fn replace_stuck(&self) -> bool {
        let mut stuck = lock(&self.shared.stuck);
        if *stuck >= self.shared.max_stuck {
            tracing::warn!(pool = %self.shared.name, stuck = *stuck, "A worker is stuck and not replaced: the limit of stuck workers is reached.");
            return false;
        }
        match spawn_worker(&self.shared) {
            Ok(()) => {
                *stuck += 1;
                tracing::warn!(pool = %self.shared.name, stuck = *stuck, "A worker is stuck past its budget; a new one took its place.");
                true
            }
            Err(e) => {
                tracing::error!(pool = %self.shared.name, error = %e, "Cannot start a worker in place of a stuck one.");
                false
            }
        }
    }
}

fn spawn_worker(shared: &Arc<Shared>) -> std::io::Result<()> {
    let worker = shared.clone();
    std::thread::Builder::new().name(format!("{}-worker", shared.name)).stack_size(shared.stack).spawn(move || {
        loop {
            // One idle worker waits on the queue, the others on the lock.
            let job = match lock(&worker.jobs).recv() {
                Ok(job) => job,
                Err(_) => return, // the pool is gone
            };
            if job() == Verdict::Exit {
                *lock(&worker.stuck) -= 1;
                return;
            }
        }
    })?;
    Ok(())
}

/// A lock whose holder panicked is still good here: every critical
/// section leaves its data whole.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "no message".to_owned())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The budget of a job meant to run out of it.
    const SHORT: Duration = Duration::from_millis(200);
    /// The budget of a job meant to finish: time is not the point (the
    /// panic hook's backtrace alone is slow in a loaded test binary).
    const LONG: Duration = Duration::from_secs(30);

    fn pool(workers: usize, max_stuck: usize) -> Pool {
        Pool::new("t", PoolSpec { workers, stack: 1 << 20, max_stuck, max_queue_wait: LONG })
    }

    /// A job that runs until the test lets it go (or drops the sender).
    fn endless(release: mpsc::Receiver<()>) -> impl FnOnce() -> u8 + Send + 'static {
        move || {
            let _ = release.recv();
            0
        }
    }

    #[test]
    fn a_panic_is_an_error_and_the_worker_serves_on() {
        let pool = pool(1, 1);
        assert_eq!(
            pool.run(LONG, || -> u8 { panic!("hostile input") }),
            Err(JobError::Panicked("hostile input".into()))
        );
        assert_eq!(pool.run(LONG, || 7), Ok(7));
    }

    /// A submitted job runs with no caller waiting; a panic that escapes
    /// one does not end its worker (with one worker, the second job would
    /// never run).
    #[test]
    fn submitted_jobs_run_and_a_panic_does_not_end_the_worker() {
        let pool = pool(1, 1);
        assert!(pool.has_workers());
        pool.submit(|| panic!("hostile input")).unwrap();
        let (tx, rx) = mpsc::channel();
        pool.submit(move || tx.send(7).unwrap()).unwrap();
        assert_eq!(rx.recv_timeout(LONG), Ok(7));
    }

    /// A job that waits in the queue has its whole budget from its own
    /// start, not from the call: it finishes within its budget although
    /// the call took three; one that runs past its budget after waiting
    /// is given up all the same.
    #[test]
    fn a_job_that_starts_late_is_held_to_its_budget_from_its_start() {
        let pool = pool(1, 1);
        pool.submit(|| std::thread::sleep(SHORT * 3)).unwrap();
        let called = Instant::now();
        let answer = pool.run(SHORT, || {
            std::thread::sleep(SHORT / 2);
            7
        });
        assert_eq!(answer, Ok(7));
        assert!(called.elapsed() >= SHORT * 3, "it waited for the busy worker");

        pool.submit(|| std::thread::sleep(SHORT * 3)).unwrap();
        let (go, release) = mpsc::channel();
        let called = Instant::now();
        assert_eq!(pool.run(SHORT, endless(release)), Err(JobError::TimedOut(SHORT)));
        assert!(called.elapsed() >= SHORT * 4, "its budget ran from its start");
        go.send(()).unwrap();
    }

    #[test]
    fn an_endless_job_times_out_and_its_worker_is_replaced() {
        let pool = pool(1, 1);
        let (go, release) = mpsc::channel();
        assert_eq!(pool.run(SHORT, endless(release)), Err(JobError::TimedOut(SHORT)));
        // The only worker is still stuck; its replacement answers.
        assert_eq!(pool.run(LONG, || 7), Ok(7));
        assert_eq!(*lock(&pool.shared.stuck), 1);
        go.send(()).unwrap();
        // The stuck worker leaves once its job ends.
        while *lock(&pool.shared.stuck) != 0 {
            std::thread::yield_now();
        }
        assert_eq!(pool.run(LONG, || 8), Ok(8));
    }

    #[test]
    fn past_the_stuck_limit_jobs_wait_and_are_given_up_instead_of_threads_piling_up() {
        let pool = Pool::new("t", PoolSpec { workers: 1, stack: 1 << 20, max_stuck: 0, max_queue_wait: SHORT });
        let (go, release) = mpsc::channel();
        assert_eq!(pool.run(SHORT, endless(release)), Err(JobError::TimedOut(SHORT)));
        // No replacement: the next job is given up in the queue and skipped.
        assert_eq!(pool.run(LONG, || 7), Err(JobError::Busy(SHORT)));
        go.send(()).unwrap();
        // The stuck worker came back to the pool (the skipped job before it
        // in the queue).
        let mut answer = pool.run(LONG, || 8);
        while answer == Err(JobError::Busy(SHORT)) {
            answer = pool.run(LONG, || 8);
        }
        assert_eq!(answer, Ok(8));
    }

    #[test]
    fn many_concurrent_jobs_each_get_their_own_answer() {
        let pool = Arc::new(pool(3, 3));
        let callers: Vec<_> = (0..8u64)
            .map(|c| {
                let pool = pool.clone();
                std::thread::spawn(move || {
                    (0..50u64)
                        .map(|i| pool.run(Duration::from_secs(30), move || c * 1000 + i).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for (c, caller) in callers.into_iter().enumerate() {
            let expected: Vec<u64> = (0..50).map(|i| c as u64 * 1000 + i).collect();
            assert_eq!(caller.join().unwrap(), expected);
        }
    }

    #[test]
    fn the_stack_is_the_one_asked_for() {
        // 8 MiB of locals: would overflow a default 2 MiB thread.
        fn deep(n: u32) -> u64 {
            let pad = std::hint::black_box([n as u8; 4096]);
            if n == 0 { 0 } else { deep(n - 1) + u64::from(pad[100]) }
        }
        let expected: u64 = (1..=2048u64).map(|n| n % 256).sum();
        assert_eq!(parsers().run(Duration::from_secs(30), || deep(2048)), Ok(expected));
    }
}
