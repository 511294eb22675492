//! Which failures are worth another attempt inside one check, and how long
//! to wait before it. One place decides, so every source kind agrees.

use std::time::Duration;

use backon::ExponentialBuilder;

use super::FetchFailure;
use crate::config::FetchConfig;
use crate::types::ErrorKind;

/// Timeouts, refused or reset connections, truncated bodies, 5xx and 429 are
/// transient. Other 4xx, refusals (`blocked`), caps and loops are not: asking
/// again gives the same answer and only loads the site.
pub fn is_transient(f: &FetchFailure) -> bool {
    match f.kind {
        ErrorKind::Timeout | ErrorKind::Connect | ErrorKind::Decode | ErrorKind::RateLimited => true,
        ErrorKind::HttpStatus => f.status.is_none_or(|s| s >= 500 && s != 501),
        // A refusal (ours, or a site's challenge or login wall) answers the
        // same right away: the source backs off between checks instead.
        ErrorKind::TooLarge | ErrorKind::RedirectLoop | ErrorKind::Blocked | ErrorKind::InvalidContent => false,
    }
}

/// Exponential backoff with jitter, `fetch.retries` extra attempts.
pub fn policy(cfg: &FetchConfig) -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(cfg.retry_min_delay)
        .with_max_delay(cfg.retry_max_delay.max(cfg.retry_min_delay))
        .with_max_times(cfg.retries as usize)
        .with_jitter()
}

/// The wait before the next attempt: never shorter than the server's
/// `Retry-After`; no next attempt when that is longer than `max_wait` (the
/// check ends and the host stays pushed back instead).
pub fn adjust(f: &FetchFailure, backoff: Option<Duration>, max_wait: Duration) -> Option<Duration> {
    let backoff = backoff?;
    match f.retry_after {
        Some(ra) if ra > max_wait => None,
        Some(ra) => Some(ra.max(backoff)),
        None => Some(backoff),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(kind: ErrorKind, status: Option<u16>, retry_after: Option<u64>) -> FetchFailure {
        FetchFailure {
            kind,
            message: String::new(),
            status,
            final_url: None,
            retry_after: retry_after.map(Duration::from_secs),
        }
    }

    #[test]
    fn only_transient_failures_are_retried() {
        assert!(is_transient(&failure(ErrorKind::HttpStatus, Some(503), None)));
        assert!(is_transient(&failure(ErrorKind::HttpStatus, Some(502), None)));
        assert!(is_transient(&failure(ErrorKind::RateLimited, Some(429), Some(1))));
        assert!(is_transient(&failure(ErrorKind::Connect, None, None)));
        assert!(!is_transient(&failure(ErrorKind::HttpStatus, Some(403), None)));
        assert!(!is_transient(&failure(ErrorKind::HttpStatus, Some(451), None)));
        assert!(!is_transient(&failure(ErrorKind::Blocked, None, None)));
        assert!(!is_transient(&failure(ErrorKind::TooLarge, Some(200), None)));
    }

    #[test]
    fn retry_after_stretches_or_stops_the_backoff() {
        let max = Duration::from_secs(30);
        let d = Some(Duration::from_secs(1));
        assert_eq!(adjust(&failure(ErrorKind::RateLimited, Some(429), Some(5)), d, max), Some(Duration::from_secs(5)));
        assert_eq!(adjust(&failure(ErrorKind::RateLimited, Some(429), Some(3600)), d, max), None);
        assert_eq!(adjust(&failure(ErrorKind::Timeout, None, None), d, max), d);
        assert_eq!(adjust(&failure(ErrorKind::Timeout, None, None), None, max), None);
    }
}
