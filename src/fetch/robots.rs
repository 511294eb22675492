//! robots.txt: fetched once per origin, cached for `fetch.robots_cache_ttl`,
//! matched for our product token.
//!
//! The fetch itself is the fetcher's (same guard, caps and politeness); this
//! module owns the cache and the policy for what an unusable robots.txt means.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use texting_robots::Robot;
use tokio::time::Instant;
use url::Url;

use super::FetchOutcome;

/// The token robots.txt groups are matched against (`User-agent: modelwatch`).
pub const PRODUCT_TOKEN: &str = "modelwatch";

/// The biggest robots.txt we read; Google stops at 500 KiB too.
pub const MAX_ROBOTS_BYTES: usize = 512 * 1024;

/// An origin's rules, or none (everything allowed).
#[derive(Clone)]
pub struct Rules(Option<Arc<Robot>>);

impl Rules {
    pub fn allows(&self, url: &Url) -> bool {
        self.0.as_ref().is_none_or(|r| r.allowed(url.as_str()))
    }
}

struct Entry {
    rules: Rules,
    expires: Instant,
}

/// The per-origin cache. One async lock per origin, so concurrent checks of
/// one site fetch its robots.txt once.
#[derive(Default)]
pub struct RobotsCache {
    origins: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Option<Entry>>>>>,
}

/// How long an answer we could not use (a failure, a 5xx) is kept: short, so
/// a site that was down briefly gets its real rules soon.
const RETRY_UNUSABLE_AFTER: Duration = Duration::from_secs(300);

impl RobotsCache {
    /// The rules for `url`'s origin, calling `fetch` (with the robots.txt
    /// URL) when they are missing or stale.
    pub async fn rules<F, Fut>(&self, url: &Url, ttl: Duration, fetch: F) -> Rules
    where
        F: FnOnce(Url) -> Fut,
        Fut: Future<Output = FetchOutcome>,
    {
        let Ok(robots_url) = url.join("/robots.txt") else {
            return Rules(None);
        };
        let slot = {
            let mut origins = self.origins.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            origins.entry(url.origin().ascii_serialization()).or_default().clone()
        };
        let mut entry = slot.lock().await;
        if let Some(e) = entry.as_ref()
            && e.expires > Instant::now()
        {
            return e.rules.clone();
        }
        let (rules, keep) = interpret(fetch(robots_url.clone()).await, ttl);
        tracing::debug!(robots = %robots_url, restricted = rules.0.is_some(), "Fetched robots.txt");
        *entry = Some(Entry { rules: rules.clone(), expires: Instant::now() + keep });
        rules
    }
}

/// RFC 9309: 2xx → its rules; 4xx → no rules. A server error or an
/// unreachable host would mean "disallow everything" by the RFC; we allow
/// instead and ask again soon, because the page fetch that follows meets the
/// same outage and reports it as what it is (timeout, http_status), which is
/// more useful to a watcher than `blocked`.
fn interpret(outcome: FetchOutcome, ttl: Duration) -> (Rules, Duration) {
    match outcome {
        FetchOutcome::Fetched(f) => match Robot::new(PRODUCT_TOKEN, &f.body[..f.body.len().min(MAX_ROBOTS_BYTES)]) {
            Ok(robot) => (Rules(Some(Arc::new(robot))), ttl),
            // Unparseable robots.txt: nothing we can honour.
            Err(_) => (Rules(None), ttl),
        },
        FetchOutcome::Gone { .. } => (Rules(None), ttl),
        FetchOutcome::Failed(f) if f.status.is_some_and(|s| (400..500).contains(&s)) && f.status != Some(429) => {
            (Rules(None), ttl)
        }
        FetchOutcome::NotModified { .. } | FetchOutcome::Failed(_) | FetchOutcome::Deferred { .. } => {
            (Rules(None), RETRY_UNUSABLE_AFTER.min(ttl))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn our_group_is_matched() {
        let txt = b"User-agent: *\nDisallow: /private/\n\nUser-agent: modelwatch\nDisallow: /news/archive/\n";
        let rules = Rules(Some(Arc::new(Robot::new(PRODUCT_TOKEN, txt).unwrap())));
        assert!(!rules.allows(&Url::parse("https://news.example.cn/news/archive/2024/1.html").unwrap()));
        // Our own group replaces `*`, as RFC 9309 says.
        assert!(rules.allows(&Url::parse("https://news.example.cn/private/x").unwrap()));
        assert!(rules.allows(&Url::parse("https://news.example.cn/news/2026/ai.html").unwrap()));
    }
}
