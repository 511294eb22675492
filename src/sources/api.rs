//! The HTTP side of the API-backed kinds (GitHub, Hugging Face): one client,
//! JSON requests with ETags, and GitHub's rate budget shared by every
//! GitHub source of the process.
//!
//! API bases come from the operator's config, not from users, so these
//! requests skip the page fetcher's SSRF guard and robots rules; they keep
//! its timeout and user agent.

use futures::StreamExt;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use reqwest::header::{self, HeaderMap};
use url::Url;

use crate::config::{Config, Secret};
use crate::fetch::parse_retry_after;
use crate::types::ErrorKind;

/// Which API a request goes to: only GitHub's counts against the shared budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Github,
    Huggingface,
    /// A plain web resource (GitHub's releases.atom): no budget, no token.
    Web,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ApiResponse {
    Ok {
        body: Bytes,
        etag: Option<String>,
        status: u16,
    },
    NotModified,
    NotFound {
        status: u16,
    },
    /// Refused by the server or by the spent budget (then no request was made).
    RateLimited {
        until: DateTime<Utc>,
    },
    Failed {
        kind: ErrorKind,
        message: String,
        status: Option<u16>,
    },
}

/// A secondary limit without Retry-After: GitHub asks for at least a minute.
const DEFAULT_BACKOFF: Duration = Duration::from_secs(60);
/// Bodies larger than this are not repository or model objects.
const MAX_BODY: usize = 8 << 20;

#[derive(Clone)]
pub struct ApiClient {
    client: Result<reqwest::Client, String>,
    github_token: Option<Secret>,
    pub github_api: Url,
    pub github_web: Url,
    pub hf_api: Url,
    /// GitHub requests are refused until then (shared by clones).
    github_blocked_until: Arc<Mutex<Option<DateTime<Utc>>>>,
}

impl std::fmt::Debug for ApiClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("github_api", &self.github_api).field("hf_api", &self.hf_api).finish()
    }
}

impl ApiClient {
    pub fn new(config: &Config) -> ApiClient {
        let client = reqwest::Client::builder()
            .user_agent(config.fetch.user_agent.clone())
            .connect_timeout(config.fetch.connect_timeout)
            .timeout(config.fetch.timeout)
            .redirect(reqwest::redirect::Policy::limited(5))
            .tls_backend_rustls()
            .build()
            .map_err(|e| format!("cannot build the API client: {e}"));
        ApiClient {
            client,
            github_token: config.github.token.clone(),
            github_api: config.github.api_base.clone(),
            github_web: config.github.web_base.clone(),
            hf_api: config.huggingface.api_base.clone(),
            github_blocked_until: Arc::new(Mutex::new(None)),
        }
    }

    pub fn has_github_token(&self) -> bool {
        self.github_token.is_some()
    }

    /// When the GitHub budget is spent: the time it resets.
    pub fn github_blocked_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let guard = self.github_blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        guard.filter(|until| *until > now)
    }

    fn block_github(&self, until: DateTime<Utc>) {
        let mut guard = self.github_blocked_until.lock().unwrap_or_else(|e| e.into_inner());
        if guard.is_none_or(|u| u < until) {
            *guard = Some(until);
        }
    }

    /// `base` joined with `path` (the base may carry a path prefix).
    pub fn join(base: &Url, path: &str) -> Url {
        let mut u = base.clone();
        let prefix = u.path().trim_end_matches('/').to_owned();
        u.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
        u
    }

    /// GET `url` as JSON (or Atom for [`Api::Web`]), conditional on `etag`.
    pub async fn get(&self, api: Api, url: &Url, etag: Option<&str>) -> ApiResponse {
        let now = Utc::now();
        if api == Api::Github
            && let Some(until) = self.github_blocked_until(now)
        {
            return ApiResponse::RateLimited { until };
        }
        let client = match &self.client {
            Ok(c) => c,
            Err(e) => return ApiResponse::Failed { kind: ErrorKind::Connect, message: e.clone(), status: None },
        };
        let mut req = client.get(url.clone());
        req = match api {
            Api::Github => {
                req.header(header::ACCEPT, "application/vnd.github+json").header("X-GitHub-Api-Version", "2022-11-28")
            }
            Api::Huggingface => req.header(header::ACCEPT, "application/json"),
            Api::Web => req.header(header::ACCEPT, "application/atom+xml, application/xml;q=0.9"),
        };
        if api == Api::Github
            && let Some(token) = &self.github_token
        {
            req = req.bearer_auth(token.expose());
        }
        if let Some(e) = etag {
            req = req.header(header::IF_NONE_MATCH, e);
        }
        let resp = match req.send().await {
            Ok(r) => r,
            Err(e) => {
                let kind = if e.is_timeout() { ErrorKind::Timeout } else { ErrorKind::Connect };
                // Without the URL: it may carry nothing secret, but the
                // token never travels in it either way.
                return ApiResponse::Failed { kind, message: crate::error_chain(&e.without_url()), status: None };
            }
        };
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let limit = rate_limit(&headers, status, now);
        if api == Api::Github
            && let Some(until) = limit
        {
            self.block_github(until);
        }
        match status {
            304 => return ApiResponse::NotModified,
            404 | 410 => return ApiResponse::NotFound { status },
            403 | 429 => {
                return match limit {
                    Some(until) => ApiResponse::RateLimited { until },
                    None if status == 429 => {
                        let until = now + chrono::Duration::seconds(DEFAULT_BACKOFF.as_secs() as i64);
                        if api == Api::Github {
                            self.block_github(until);
                        }
                        ApiResponse::RateLimited { until }
                    }
                    None => ApiResponse::Failed {
                        kind: ErrorKind::HttpStatus,
                        message: "HTTP 403: access refused".to_owned(),
                        status: Some(status),
                    },
                };
            }
            200..=299 => {}
            _ => {
                return ApiResponse::Failed {
                    kind: ErrorKind::HttpStatus,
                    message: format!("HTTP {status}"),
                    status: Some(status),
                };
            }
        }
        let etag = headers.get(header::ETAG).and_then(|v| v.to_str().ok()).map(str::to_owned);
        // Read to the cap, not to the end: a broken mirror cannot stream
        // gigabytes into memory.
        let mut body = Vec::new();
        let mut stream = resp.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) if body.len() + c.len() > MAX_BODY => {
                    return ApiResponse::Failed {
                        kind: ErrorKind::TooLarge,
                        message: format!("API body larger than {MAX_BODY} bytes"),
                        status: Some(status),
                    };
                }
                Ok(c) => body.extend_from_slice(&c),
                Err(e) => {
                    return ApiResponse::Failed {
                        kind: ErrorKind::Decode,
                        message: format!("cannot read the API body: {}", crate::error_chain(&e.without_url())),
                        status: Some(status),
                    };
                }
            }
        }
        ApiResponse::Ok { body: bytes::Bytes::from(body), etag, status }
    }
}

/// A hostile or broken server cannot park every API source for longer than
/// this (GitHub's windows are an hour).
const MAX_RATE_LIMIT_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

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
#[allow(clippy::unwrap_used, clippy::expect_used)]
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
    fn join_keeps_a_base_path() {
        let b = Url::parse("http://127.0.0.1:9/gh/").unwrap();
        assert_eq!(ApiClient::join(&b, "/repos/a/b").as_str(), "http://127.0.0.1:9/gh/repos/a/b");
        let b = Url::parse("https://api.github.com").unwrap();
        assert_eq!(ApiClient::join(&b, "repos/a/b").as_str(), "https://api.github.com/repos/a/b");
    }
}
