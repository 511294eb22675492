//! The last hop's response: status → outcome, and the body read to the cap.

use std::time::Duration;

use futures::StreamExt;
use reqwest::header;
use url::Url;

use bytes::Bytes;

use super::{BlockedAddress, ERROR_BODY_BYTES, FetchFailure, FetchOutcome, Fetched, Fetcher, Redirect, challenge};
use crate::types::ErrorKind;

impl Fetcher {
    pub(super) async fn finish(
        &self,
        response: reqwest::Response,
        final_url: Url,
        redirects: Vec<Redirect>,
    ) -> FetchOutcome {
        let status = response.status().as_u16();
        match status {
            304 => return FetchOutcome::NotModified { final_url, redirects },
            404 | 410 => return FetchOutcome::Gone { status, final_url, redirects },
            429 | 503 => {
                let retry_after = text_header(response.headers(), header::RETRY_AFTER)
                    .and_then(|v| parse_retry_after(&v, chrono::Utc::now()))
                    .map(|d| d.min(self.cfg.max_retry_after));
                if status == 503
                    && let Some(reason) = challenge_in_answer(response, status).await
                {
                    return blocked(reason, status, final_url, retry_after);
                }
                let kind = if status == 429 { ErrorKind::RateLimited } else { ErrorKind::HttpStatus };
                return FetchOutcome::Failed(FetchFailure {
                    kind,
                    message: format!("HTTP {status}"),
                    status: Some(status),
                    final_url: Some(final_url),
                    retry_after,
                });
            }
            200..=299 => {}
            _ => {
                if status == 403
                    && let Some(reason) = challenge_in_answer(response, status).await
                {
                    return blocked(reason, status, final_url, None);
                }
                return FetchOutcome::Failed(FetchFailure {
                    kind: ErrorKind::HttpStatus,
                    message: format!("HTTP {status}"),
                    status: Some(status),
                    final_url: Some(final_url),
                    retry_after: None,
                });
            }
        }
        let cap = self.cfg.max_body_bytes;
        if let Some(len) = response.content_length()
            && len > cap
            && !response.headers().contains_key(header::CONTENT_ENCODING)
        {
            return too_large(cap, status, final_url);
        }
        // Owned copies of the few headers kept, not the header map: hyper
        // parses a response's head in place, so each header value shares its
        // bytes with the connection's read buffer. A kept map held that
        // whole buffer (hyper grows it towards ~400 KB on a page) for as long
        // as the check ran, the wait for a parser included, and made the
        // connection allocate another for its next read.
        let content_type = text_header(response.headers(), header::CONTENT_TYPE);
        let etag = text_header(response.headers(), header::ETAG);
        let last_modified = text_header(response.headers(), header::LAST_MODIFIED);
        // Counted after decompression: reqwest decodes gzip/br/deflate/zstd
        // in the stream, so a bomb stops at the cap, not at the end.
        let mut body = Vec::with_capacity(response.content_length().unwrap_or(64 * 1024).min(cap) as usize);
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            match chunk {
                Ok(c) => {
                    let needed = body.len() as u64 + c.len() as u64;
                    if needed > cap {
                        return too_large(cap, status, final_url);
                    }
                    // Grow by doubling but never past the cap, so memory is
                    // bounded by the cap and not by twice the cap.
                    if needed > body.capacity() as u64 {
                        let target = (body.capacity() as u64 * 2).max(needed).min(cap) as usize;
                        body.reserve_exact(target - body.len());
                    }
                    body.extend_from_slice(&c);
                }
                Err(e) => {
                    let (kind, message) = classify(&e);
                    return FetchOutcome::Failed(FetchFailure {
                        kind,
                        message,
                        status: Some(status),
                        final_url: Some(final_url),
                        retry_after: None,
                    });
                }
            }
        }
        // A body of unknown length (chunked, or decoded from gzip and the
        // like) grew by doubling: kept as it is, up to half of it would be
        // spare room for as long as the check runs.
        body.shrink_to_fit();
        FetchOutcome::Fetched(Fetched {
            status,
            content_type,
            etag,
            last_modified,
            final_url,
            redirects,
            body: Bytes::from(body),
        })
    }
}

/// A header's value as text, owned (see [`Fetcher::finish`]).
fn text_header(headers: &header::HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// A 403/503 answer that is an anti-bot challenge or block page: why
/// ([`challenge::in_error_answer`]; a body that cannot be read is an empty
/// one, judged by its headers alone).
async fn challenge_in_answer(response: reqwest::Response, status: u16) -> Option<String> {
    let mitigated = response.headers().get("cf-mitigated").and_then(|v| v.to_str().ok()).map(str::to_owned);
    let body = read_capped(response, ERROR_BODY_BYTES).await.unwrap_or_default();
    challenge::in_error_answer(status, mitigated.as_deref(), &body)
}

/// The site refused us with a challenge: `blocked`, which is never retried
/// within the check ([`super::retry::is_transient`]); the source backs off
/// between checks instead, a `Retry-After` included.
fn blocked(reason: String, status: u16, final_url: Url, retry_after: Option<Duration>) -> FetchOutcome {
    FetchOutcome::Failed(FetchFailure {
        kind: ErrorKind::Blocked,
        message: reason,
        status: Some(status),
        final_url: Some(final_url),
        retry_after,
    })
}

fn too_large(cap: u64, status: u16, final_url: Url) -> FetchOutcome {
    FetchOutcome::Failed(FetchFailure {
        kind: ErrorKind::TooLarge,
        message: format!("body larger than {cap} bytes"),
        status: Some(status),
        final_url: Some(final_url),
        retry_after: None,
    })
}

/// Maps a reqwest error to an error kind and a message without secrets.
pub(super) fn classify(e: &reqwest::Error) -> (ErrorKind, String) {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(b) = err.downcast_ref::<BlockedAddress>() {
            return (ErrorKind::Blocked, b.to_string());
        }
        source = err.source();
    }
    let detail = crate::error_chain(e);
    if e.is_timeout() {
        (ErrorKind::Timeout, format!("timed out: {detail}"))
    } else if e.is_connect() {
        (ErrorKind::Connect, format!("cannot connect: {detail}"))
    } else if e.is_decode() || e.is_body() {
        (ErrorKind::Decode, format!("cannot read the body: {detail}"))
    } else {
        (ErrorKind::Connect, detail)
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    (when.with_timezone(&chrono::Utc) - now).to_std().ok()
}

/// Reads at most `max` bytes of a body a caller outside the fetcher got (an
/// admin probe of our own daemon or an API): the rest is dropped, never
/// buffered, so no answer can grow the process.
pub async fn read_capped(mut response: reqwest::Response, max: usize) -> Result<Vec<u8>, reqwest::Error> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        let room = max.saturating_sub(body.len());
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if body.len() >= max {
            break;
        }
    }
    Ok(body)
}
