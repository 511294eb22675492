//! Politeness towards the sites we watch: a global limit on requests in
//! flight, a per-host limit, a minimum spacing between two requests to one
//! host, and a host-wide push-back after a 429/503 `Retry-After`.
//!
//! It lives inside the fetcher (not the runner) so every source kind, every
//! redirect hop and every robots.txt request pays it, whoever asked.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use url::Url;

/// Shared by every clone of a fetcher.
pub struct Politeness {
    global: Arc<Semaphore>,
    per_host: usize,
    interval: Duration,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

struct Host {
    slots: Arc<Semaphore>,
    /// Earliest start of the next request; pushed forward by spacing and by
    /// `Retry-After`.
    next_start: Mutex<Instant>,
    /// The part of `next_start` that a server asked for (Retry-After), which
    /// is reported rather than waited out when it is long.
    pushed_until: Mutex<Option<Instant>>,
}

/// Held while a request to a host is in flight (headers and body).
#[derive(Debug)]
pub struct Permit {
    _host: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

/// The host asked us to stay away for this much longer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PushedBack(pub Duration);

impl Politeness {
    pub fn new(global: u32, per_host: u32, interval: Duration) -> Self {
        Politeness {
            global: Arc::new(Semaphore::new(global.max(1) as usize)),
            per_host: per_host.max(1) as usize,
            interval,
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// Waits for a slot on `url`'s host and for its spacing. A host pushed
    /// back by `Retry-After` for longer than `max_wait` is not waited for:
    /// the caller gets the remaining time and reports `rate_limited`.
    pub async fn acquire(&self, url: &Url, max_wait: Duration) -> Result<Permit, PushedBack> {
        let host = self.host(url);
        if let Some(left) = host.pushed_left()
            && left > max_wait
        {
            return Err(PushedBack(left));
        }
        // A closed semaphore is impossible (we never close them); treat it as
        // "no limit" rather than panicking.
        let host_permit = match host.slots.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return Err(PushedBack(Duration::ZERO)),
        };
        // The request ahead of us in the slot may have been the one the host
        // answered with a Retry-After: look again before queueing up.
        if let Some(left) = host.pushed_left()
            && left > max_wait
        {
            return Err(PushedBack(left));
        }
        // Reserve our start time under the lock, then sleep outside it, so
        // concurrent callers queue up one interval apart.
        let start = {
            let mut next = lock(&host.next_start);
            let start = (*next).max(Instant::now());
            *next = start + self.interval;
            start
        };
        tokio::time::sleep_until(start).await;
        let global = match self.global.clone().acquire_owned().await {
            Ok(p) => p,
            Err(_) => return Err(PushedBack(Duration::ZERO)),
        };
        Ok(Permit { _host: host_permit, _global: global })
    }

    /// Keeps every request to `url`'s host back for `wait` (a 429/503
    /// `Retry-After`), not only requests to this URL.
    pub fn push_back(&self, url: &Url, wait: Duration) {
        let host = self.host(url);
        let until = Instant::now() + wait;
        {
            let mut next = lock(&host.next_start);
            *next = (*next).max(until);
        }
        let mut pushed = lock(&host.pushed_until);
        *pushed = Some(pushed.map_or(until, |p| p.max(until)));
        tracing::info!(host = %host_key(url), wait_ms = wait.as_millis() as u64, "Host asked us to back off");
    }

    fn host(&self, url: &Url) -> Arc<Host> {
        let mut hosts = lock(&self.hosts);
        hosts
            .entry(host_key(url))
            .or_insert_with(|| {
                Arc::new(Host {
                    slots: Arc::new(Semaphore::new(self.per_host)),
                    next_start: Mutex::new(Instant::now()),
                    pushed_until: Mutex::new(None),
                })
            })
            .clone()
    }
}

impl Host {
    fn pushed_left(&self) -> Option<Duration> {
        let pushed = *lock(&self.pushed_until);
        pushed.and_then(|p| p.checked_duration_since(Instant::now())).filter(|d| !d.is_zero())
    }
}

/// Politeness is per host name (and port), not per resolved address:
/// a site's limits follow its name.
pub fn host_key(url: &Url) -> String {
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    match url.port_or_known_default() {
        Some(p) => format!("{host}:{p}"),
        None => host,
    }
}

/// A poisoned lock only means another task panicked mid-update of a plain
/// value; the value is still usable.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[tokio::test]
    async fn spacing_queues_requests_to_one_host() {
        let p = Politeness::new(8, 2, Duration::from_millis(200));
        let t0 = Instant::now();
        let a = p.acquire(&url("https://news.sina.com.cn/a"), Duration::ZERO).await.unwrap();
        let b = p.acquire(&url("https://news.sina.com.cn/b"), Duration::ZERO).await.unwrap();
        let waited = Instant::now() - t0;
        assert!(waited >= Duration::from_millis(195) && waited < Duration::from_millis(400), "{waited:?}");
        // Another host is not held back.
        let t1 = Instant::now();
        let _c = p.acquire(&url("https://www.36kr.com/p/1"), Duration::ZERO).await.unwrap();
        assert!(Instant::now() - t1 < Duration::from_millis(50));
        drop((a, b));
    }

    #[tokio::test]
    async fn push_back_covers_the_whole_host() {
        let p = Politeness::new(8, 2, Duration::ZERO);
        p.push_back(&url("https://api.github.com/repos/a/b"), Duration::from_secs(60));
        let err = p.acquire(&url("https://api.github.com/repos/c/d"), Duration::from_secs(5)).await.unwrap_err();
        assert!(err.0 > Duration::from_secs(59), "{err:?}");
        // A short push-back is waited out.
        p.push_back(&url("https://huggingface.co/x"), Duration::from_millis(300));
        let t0 = Instant::now();
        p.acquire(&url("https://huggingface.co/y"), Duration::from_secs(5)).await.unwrap();
        assert!(Instant::now() - t0 >= Duration::from_millis(290));
    }

    #[test]
    fn hosts_are_keyed_by_name_and_port() {
        assert_eq!(host_key(&url("https://News.Sina.com.cn/a")), "news.sina.com.cn:443");
        assert_eq!(host_key(&url("http://127.0.0.1:8080/x")), "127.0.0.1:8080");
    }
}
