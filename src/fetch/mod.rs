//! HTTP fetching: every response, failure and refusal becomes a
//! [`FetchOutcome`]; nothing here returns `Err` for a bad page.
//!
//! Redirects are followed by hand so that each hop is checked by the SSRF
//! guard, loops are detected, and the caller learns the whole chain.

mod budget;
pub mod challenge;
pub mod charset;
mod guard;
mod politeness;
mod response;
mod retry;
mod robots;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::Retryable;
use bytes::Bytes;

use reqwest::header::{self, HeaderName, HeaderValue};
use url::Url;

use crate::config::{FetchConfig, Secret};
use crate::types::ErrorKind;

pub use budget::Budget;
pub use guard::{BlockedAddress, is_forbidden_ip};
pub use politeness::host_key;
use politeness::{Politeness, PushedBack};
use response::classify;
pub use response::{parse_retry_after, read_capped};
pub use robots::PRODUCT_TOKEN as ROBOTS_TOKEN;
use robots::RobotsCache;

/// What to fetch and how.
#[derive(Debug, Clone)]
pub struct FetchRequest {
    pub url: Url,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub headers: Vec<(String, String)>,
    pub timeout: Option<Duration>,
    /// The Accept header; pages by default.
    pub accept: Option<String>,
    /// Honour robots.txt for this request.
    pub respect_robots: bool,
    /// A bearer token (an API's), sent to the request's own origin only,
    /// never to a host a redirect names.
    pub bearer: Option<Secret>,
    /// A shared request budget (GitHub's API): while spent, the request is
    /// refused without a request; rate-limit headers keep it current.
    pub budget: Option<Arc<Budget>>,
}

impl FetchRequest {
    pub fn get(url: Url) -> Self {
        FetchRequest {
            url,
            etag: None,
            last_modified: None,
            headers: Vec::new(),
            timeout: None,
            accept: None,
            respect_robots: true,
            bearer: None,
            budget: None,
        }
    }
}

/// One hop of a redirect chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redirect {
    pub status: u16,
    pub to: Url,
}

/// A response that carried a body we want.
#[derive(Debug, Clone)]
pub struct Fetched {
    pub status: u16,
    pub final_url: Url,
    pub redirects: Vec<Redirect>,
    pub content_type: Option<String>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub body: Bytes,
}

impl Fetched {
    /// Whether every hop of the redirect chain was permanent (301/308).
    pub fn permanently_moved(&self) -> bool {
        !self.redirects.is_empty() && self.redirects.iter().all(|r| matches!(r.status, 301 | 308))
    }
}

/// A failure, classified.
#[derive(Debug, Clone)]
pub struct FetchFailure {
    pub kind: ErrorKind,
    pub message: String,
    pub status: Option<u16>,
    pub final_url: Option<Url>,
    /// From a 429/503 `Retry-After`, already capped.
    pub retry_after: Option<Duration>,
}

/// How much of a 403/503 answer's body is read for what it is (a challenge
/// or block page says so in its first few KB).
pub const ERROR_BODY_BYTES: usize = 32 * 1024;

#[derive(Debug, Clone)]
pub enum FetchOutcome {
    Fetched(Fetched),
    /// 304: the stored snapshot is current.
    NotModified {
        final_url: Url,
        redirects: Vec<Redirect>,
    },
    /// 404 or 410.
    Gone {
        status: u16,
        final_url: Url,
        redirects: Vec<Redirect>,
    },
    Failed(FetchFailure),
    /// Not requested: the host asked us (429/503 `Retry-After`, to this or
    /// another of its URLs) to stay away for `wait` more, longer than this
    /// request may wait. A deferral, not a failure: nothing was asked.
    Deferred {
        wait: Duration,
        final_url: Url,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("cannot build the HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

/// The HTTP client. Cheap to clone; clones share politeness and the
/// robots.txt cache, so every source kind and every check is counted together.
#[derive(Clone)]
pub struct Fetcher {
    client: reqwest::Client,
    cfg: Arc<FetchConfig>,
    politeness: Arc<Politeness>,
    robots: Arc<RobotsCache>,
}

/// The result of one request (one redirect hop).
enum Hop {
    Redirect(Redirect),
    Done(Box<FetchOutcome>),
}

impl Fetcher {
    pub fn new(cfg: &FetchConfig) -> Result<Fetcher, FetchError> {
        let mut builder = reqwest::Client::builder()
            .user_agent(cfg.user_agent.clone())
            .connect_timeout(cfg.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(Duration::from_secs(30))
            .tls_backend_rustls();
        if !cfg.allow_private_networks {
            builder = builder.dns_resolver(Arc::new(guard::GuardedResolver));
        }
        // Environment proxies would carry requests past the guard (the
        // resolver then only sees the proxy's name): ignored unless the
        // config names a proxy, and then each target is checked in `follow`.
        builder = match &cfg.proxy {
            Some(p) => builder.proxy(reqwest::Proxy::all(p.as_str()).map_err(FetchError::Client)?),
            None => builder.no_proxy(),
        };
        let client = builder.build().map_err(FetchError::Client)?;
        let politeness = Politeness::new(cfg.concurrency, cfg.per_host_concurrency, cfg.per_host_interval);
        Ok(Fetcher {
            client,
            cfg: Arc::new(cfg.clone()),
            politeness: Arc::new(politeness),
            robots: Arc::new(RobotsCache::default()),
        })
    }

    pub fn config(&self) -> &FetchConfig {
        &self.cfg
    }

    /// Fetches `req`: robots.txt, politeness, redirects, caps, and bounded
    /// retries of transient failures (see [`retry`]). Never `Err`: every
    /// result is an outcome.
    pub async fn fetch(&self, req: &FetchRequest) -> FetchOutcome {
        let started = std::time::Instant::now();
        let outcome = self.fetch_with_retries(req).await;
        metrics::histogram!("modelwatch_fetch_duration_seconds").record(started.elapsed().as_secs_f64());
        outcome
    }

    async fn fetch_with_retries(&self, req: &FetchRequest) -> FetchOutcome {
        let attempt = || async {
            match self.follow(req).await {
                FetchOutcome::Failed(f) => Err(f),
                other => Ok(other),
            }
        };
        // Retries wait (a Retry-After included) within the request's budget.
        let max_wait = self.cfg.retry_max_delay.min(req.timeout.unwrap_or(self.cfg.timeout));
        let result = attempt
            .retry(retry::policy(&self.cfg))
            .sleep(tokio::time::sleep)
            .when(retry::is_transient)
            .adjust(|f, d| retry::adjust(f, d, max_wait))
            .notify(|f, wait| {
                tracing::debug!(url = %req.url, error_kind = %f.kind, wait_ms = wait.as_millis() as u64, "Retrying after a transient failure");
            })
            .await;
        result.unwrap_or_else(FetchOutcome::Failed)
    }

    /// One attempt: every hop checked by the guard and robots.txt and paced
    /// by politeness. The timeout counts time on the wire (connect, headers,
    /// body, over all hops), not time queued behind other requests to the
    /// same host, so a busy host does not turn into false timeouts.
    async fn follow(&self, req: &FetchRequest) -> FetchOutcome {
        let mut url = req.url.clone();
        let mut redirects: Vec<Redirect> = Vec::new();
        let mut budget = req.timeout.unwrap_or(self.cfg.timeout);
        let fail = |kind, message: String, status, url: &Url| {
            FetchOutcome::Failed(FetchFailure {
                kind,
                message,
                status,
                final_url: Some(url.clone()),
                retry_after: None,
            })
        };
        loop {
            if !matches!(url.scheme(), "http" | "https") {
                return fail(ErrorKind::Blocked, format!("refusing the {} scheme", url.scheme()), None, &url);
            }
            if !self.cfg.allow_private_networks
                && let Some(reason) = guard::forbidden_literal_host(&url)
            {
                return fail(ErrorKind::Blocked, reason, None, &url);
            }
            // Through a proxy our resolver never sees the target: resolve
            // and judge it here (every hop, redirects included).
            if self.cfg.proxy.is_some()
                && !self.cfg.allow_private_networks
                && let Some(reason) = guard::forbidden_target(&url).await
            {
                return fail(ErrorKind::Blocked, reason, None, &url);
            }
            if req.respect_robots && !self.robots_allow(&url).await {
                return fail(ErrorKind::Blocked, format!("robots.txt disallows {url} for us"), None, &url);
            }
            if let Some(until) = req.budget.as_ref().and_then(|b| b.blocked_until(chrono::Utc::now())) {
                return FetchOutcome::Failed(budget_spent(until, None, &url));
            }
            // A host's push-back is waited out only within this request's own
            // budget: a source with a 10 s timeout never sits 2 minutes in a
            // queue; it is deferred instead (issue 13).
            let max_wait = self.cfg.retry_max_delay.min(budget);
            // Held until this hop's outcome is handled: a Retry-After must
            // push the host back before the next request to it gets the slot.
            let _permit = match self.politeness.acquire(&url, max_wait).await {
                Ok(p) => p,
                Err(PushedBack(left)) => return FetchOutcome::Deferred { wait: left, final_url: url },
            };
            let started = Instant::now();
            let hop = tokio::time::timeout(budget, self.hop(req, &url)).await;
            budget = budget.saturating_sub(started.elapsed());
            let hop = match hop {
                Ok(h) => h,
                Err(_) => {
                    let total = req.timeout.unwrap_or(self.cfg.timeout);
                    return fail(
                        ErrorKind::Timeout,
                        format!("no complete response within {}", crate::schedule::format_duration(total)),
                        None,
                        &url,
                    );
                }
            };
            match hop {
                Hop::Done(outcome) => {
                    let outcome = *outcome;
                    // A spent budget is the account's, not the host's: the
                    // host's other requests go on.
                    if let FetchOutcome::Failed(FetchFailure { retry_after: Some(wait), .. }) = &outcome
                        && req.budget.is_none()
                    {
                        self.politeness.push_back(&url, *wait);
                    }
                    return match outcome {
                        FetchOutcome::Fetched(f) => FetchOutcome::Fetched(Fetched { final_url: url, redirects, ..f }),
                        FetchOutcome::NotModified { .. } => FetchOutcome::NotModified { final_url: url, redirects },
                        FetchOutcome::Gone { status, .. } => FetchOutcome::Gone { status, final_url: url, redirects },
                        other @ (FetchOutcome::Failed(_) | FetchOutcome::Deferred { .. }) => other,
                    };
                }
                Hop::Redirect(next) => {
                    if next.to == url || redirects.iter().any(|r| r.to == next.to) || next.to == req.url {
                        return fail(
                            ErrorKind::RedirectLoop,
                            format!("redirect loop at {}", next.to),
                            Some(next.status),
                            &url,
                        );
                    }
                    if redirects.len() >= self.cfg.max_redirects as usize {
                        return fail(
                            ErrorKind::RedirectLoop,
                            format!("more than {} redirects", self.cfg.max_redirects),
                            Some(next.status),
                            &url,
                        );
                    }
                    url = next.to.clone();
                    redirects.push(next);
                }
            }
        }
    }

    /// One request: a redirect to follow, or the final outcome with its body.
    async fn hop(&self, req: &FetchRequest, url: &Url) -> Hop {
        let fail = |kind, message: String, status| {
            Hop::Done(Box::new(FetchOutcome::Failed(FetchFailure {
                kind,
                message,
                status,
                final_url: Some(url.clone()),
                retry_after: None,
            })))
        };
        let started = Instant::now();
        let response = match self.send(req, url).await {
            Ok(r) => r,
            Err(e) => {
                let (kind, message) = classify(&e);
                tracing::debug!(url = %url, ms = started.elapsed().as_millis() as u64, error = %message, "Request failed");
                return fail(kind, message, None);
            }
        };
        let status = response.status().as_u16();
        if response.status().is_redirection() && status != 304 {
            let Some(location) = response.headers().get(header::LOCATION).and_then(|v| v.to_str().ok()) else {
                return fail(ErrorKind::HttpStatus, format!("HTTP {status} without a Location"), Some(status));
            };
            return match url.join(location) {
                Ok(to) => Hop::Redirect(Redirect { status, to }),
                Err(e) => fail(ErrorKind::HttpStatus, format!("bad redirect Location {location:?}: {e}"), Some(status)),
            };
        }
        if let Some(budget) = &req.budget
            && let Some(until) = budget.observe(response.headers(), status, chrono::Utc::now())
        {
            return Hop::Done(Box::new(FetchOutcome::Failed(budget_spent(until, Some(status), url))));
        }
        Hop::Done(Box::new(self.finish(response, url.clone(), Vec::new()).await))
    }

    /// Whether robots.txt lets us fetch `url`.
    async fn robots_allow(&self, url: &Url) -> bool {
        let rules =
            self.robots.rules(url, self.cfg.robots_cache_ttl, |robots_url| self.fetch_robots_txt(robots_url)).await;
        rules.allows(url)
    }

    /// robots.txt through the same guard, caps and politeness, following a
    /// few redirects (http→https is common), without retries. Its own small
    /// loop rather than `follow`, which would recurse into robots checks.
    async fn fetch_robots_txt(&self, robots_url: Url) -> FetchOutcome {
        let mut req = FetchRequest::get(robots_url);
        req.respect_robots = false;
        req.accept = Some("text/plain,*/*;q=0.5".to_owned());
        let mut url = req.url.clone();
        for _ in 0..5 {
            if !matches!(url.scheme(), "http" | "https")
                || (!self.cfg.allow_private_networks && guard::forbidden_literal_host(&url).is_some())
            {
                break;
            }
            let Ok(_permit) = self.politeness.acquire(&url, Duration::ZERO).await else {
                break;
            };
            let budget = self.cfg.timeout.min(Duration::from_secs(10));
            match tokio::time::timeout(budget, self.hop(&req, &url)).await {
                Ok(Hop::Redirect(r)) => url = r.to,
                Ok(Hop::Done(outcome)) => return *outcome,
                Err(_) => break,
            }
        }
        FetchOutcome::Failed(FetchFailure {
            kind: ErrorKind::Connect,
            message: "robots.txt unavailable".to_owned(),
            status: None,
            final_url: Some(url),
            retry_after: None,
        })
    }

    async fn send(&self, req: &FetchRequest, url: &Url) -> Result<reqwest::Response, reqwest::Error> {
        let mut r = self.client.get(url.clone());
        let accept = req.accept.as_deref().unwrap_or("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8");
        r = r.header(header::ACCEPT, accept);
        r = r.header(header::ACCEPT_LANGUAGE, "zh-CN,zh;q=0.9,en;q=0.8");
        // Validators belong to the URL they were stored for; after a redirect
        // they still describe the same resource, so send them on every hop.
        // The source's own headers (cookies, tokens) go only to the origin
        // they were configured for, never to a host a redirect names.
        let same_origin = url.origin() == req.url.origin();
        if let Some(etag) = &req.etag {
            r = r.header(header::IF_NONE_MATCH, etag);
        }
        if let Some(lm) = &req.last_modified {
            r = r.header(header::IF_MODIFIED_SINCE, lm);
        }
        for (name, value) in req.headers.iter().filter(|_| same_origin) {
            if let (Ok(n), Ok(v)) = (HeaderName::try_from(name.as_str()), HeaderValue::try_from(value.as_str())) {
                r = r.header(n, v);
            }
        }
        if let Some(token) = req.bearer.as_ref().filter(|_| same_origin) {
            r = r.bearer_auth(token.expose());
        }
        r.send().await
    }
}

/// A request refused for a spent budget (by the server, or here before any
/// request): rate limited until the reset.
fn budget_spent(until: chrono::DateTime<chrono::Utc>, status: Option<u16>, url: &Url) -> FetchFailure {
    FetchFailure {
        kind: ErrorKind::RateLimited,
        message: format!("API rate limit: no requests until {}", until.to_rfc3339()),
        status,
        final_url: Some(url.clone()),
        retry_after: (until - chrono::Utc::now()).to_std().ok(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn retry_after_forms() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(parse_retry_after("Sat, 28 Nov 2026 12:01:00 GMT", now), Some(Duration::from_secs(60)));
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
