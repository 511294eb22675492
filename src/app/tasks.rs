//! The daemon's long-running tasks, each with a name, so a shutdown that
//! passes its deadline can say what was still running ("tasks=1" named
//! nothing an operator could act on).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio_util::task::TaskTracker;

/// A [`TaskTracker`] that remembers which of its tasks are running.
#[derive(Debug, Default)]
pub struct Tasks {
    tracker: TaskTracker,
    running: Arc<Mutex<BTreeMap<u64, &'static str>>>,
    next: AtomicU64,
}

/// Removes its task's name when the task ends (or is dropped).
struct Running {
    id: u64,
    running: Arc<Mutex<BTreeMap<u64, &'static str>>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.id);
        }
    }
}

impl Tasks {
    pub fn new() -> Tasks {
        Tasks::default()
    }

    /// Spawns `task`, known as `name` while it runs.
    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        if let Ok(mut running) = self.running.lock() {
            running.insert(id, name);
        }
        let guard = Running { id, running: self.running.clone() };
        self.tracker.spawn(async move {
            let _guard = guard;
            task.await
        });
    }

    /// Waits up to `deadline` for every task to end; the names of those
    /// still running after it (empty when all ended).
    pub async fn wait(&self, deadline: Duration) -> Vec<&'static str> {
        self.tracker.close();
        if tokio::time::timeout(deadline, self.tracker.wait()).await.is_ok() {
            return Vec::new();
        }
        self.running.lock().map(|r| r.values().copied().collect()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_tasks_still_running_at_the_deadline_are_named() {
        let tasks = Tasks::new();
        tasks.spawn("quick", async {});
        tasks.spawn("stuck", std::future::pending::<()>());
        tasks.spawn("slow", tokio::time::sleep(Duration::from_secs(60)));
        assert_eq!(tasks.wait(Duration::from_millis(200)).await, ["stuck", "slow"]);
        let done = Tasks::new();
        done.spawn("quick", async {});
        assert!(done.wait(Duration::from_secs(10)).await.is_empty());
    }
}
