//! A request budget shared by every request that carries it (GitHub's API:
//! 60 requests an hour without a token, 5,000 with one). While it is spent,
//! requests are refused here without touching the network; the server's
//! rate-limit headers keep it current.
//!
//! A budget belongs to an account, not to a host: a spent budget never
//! pushes back the host's other requests (GitHub's web pages stay open).

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::header::HeaderMap;

use super::response::parse_retry_after;

/// A secondary limit without Retry-After: GitHub asks for at least a minute.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);

/// A hostile or broken server cannot park every budgeted source for longer
/// than this (GitHub's windows are an hour).
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(24 * 3600);

#[derive(Debug, Default)]
pub struct Budget {
    blocked_until: Mutex<Option<DateTime<Utc>>>,
}

impl Budget {
    /// When the budget is spent: the time it resets.
    pub fn blocked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let guard = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        guard.filter(|until| *until > now)
    }

    fn block(&self, until: DateTime<Utc>) {
        let mut guard = self.blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|u| u < until) {
            *guard = Some(until);
        }
    }

    /// Reads a response's rate-limit headers: `Some(until)` when this
    /// response refused us for the budget (403/429), and the budget is
    /// blocked until then. A last allowed request (`remaining: 0` on a 200)
    /// blocks the budget too, but the response itself stands.
    pub(super) fn observe(&self, headers: &HeaderMap, status: u16, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let limit = rate_limit(headers, status, now);
        let refused = match (status, limit) {
            (403 | 429, Some(until)) => Some(until),
            (429, None) => Some(now + chrono::Duration::seconds(DEFAULT_BACKOFF.as_secs() as i64)),
            _ => None,
        };
        if let Some(until) = limit.or(refused) {
            self.block(until);
        }
        refused
    }
}

/// The time a rate limit lifts, from `X-RateLimit-Remaining: 0` +
/// `X-RateLimit-Reset` (epoch seconds) or a 403/429 `Retry-After`.
fn rate_limit(headers: &HeaderMap, status: u16, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).map(str::trim);
    if matches!(status, 403 | 429)
        && let Some(ra) = text("retry-after").and_then(|v| parse_retry_after(v, now))
    {
        return Some(crate::schedule::after(now, ra.min(MAX_RATE_LIMIT_WAIT)));
    }
    if text("x-ratelimit-remaining").and_then(|v| v.parse::<u64>().ok()) == Some(0) {
        let reset = text("x-ratelimit-reset")
            .and_then(|v| v.parse::<i64>().ok())
            .and_then(|s| DateTime::<Utc>::from_timestamp(s, 0))
            .filter(|r| *r > now)
            .map(|r| r.min(crate::schedule::after(now, MAX_RATE_LIMIT_WAIT)))
            .unwrap_or(now + chrono::Duration::seconds(DEFAULT_BACKOFF.as_secs() as i64));
        return Some(reset);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use reqwest::header::HeaderValue;

    #[test]
    fn rate_limit_headers() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&(now.timestamp() + 600).to_string()).unwrap());
        assert_eq!(rate_limit(&h, 403, now), Some(now + chrono::Duration::seconds(600)));
        // The last request of the budget succeeded: still no further requests.
        assert_eq!(rate_limit(&h, 200, now), Some(now + chrono::Duration::seconds(600)));
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("4999"));
        assert_eq!(rate_limit(&h, 200, now), None);
        h.insert("retry-after", HeaderValue::from_static("30"));
        assert_eq!(rate_limit(&h, 403, now), Some(now + chrono::Duration::seconds(30)));
        assert_eq!(rate_limit(&h, 200, now), None);
    }

    #[test]
    fn a_refusal_blocks_the_budget_and_a_last_request_stands() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let reset = now + chrono::Duration::seconds(600);
        let mut h = HeaderMap::new();
        h.insert("x-ratelimit-remaining", HeaderValue::from_static("0"));
        h.insert("x-ratelimit-reset", HeaderValue::from_str(&reset.timestamp().to_string()).unwrap());
        let b = Budget::default();
        assert_eq!(b.observe(&h, 200, now), None, "the last allowed response is good");
        assert_eq!(b.blocked_until(now), Some(reset));
        assert_eq!(b.blocked_until(reset), None, "open again at the reset");

        let b = Budget::default();
        assert_eq!(b.observe(&h, 403, now), Some(reset));
        // A 403 without rate-limit headers is a refusal, not the budget.
        let b = Budget::default();
        assert_eq!(b.observe(&HeaderMap::new(), 403, now), None);
        assert_eq!(b.blocked_until(now), None);
        // A 429 without headers: the default minute.
        assert_eq!(b.observe(&HeaderMap::new(), 429, now), Some(now + chrono::Duration::seconds(60)));
    }
}
