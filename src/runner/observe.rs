//! One fetch, turned into what the check needs: the liveness observation and,
//! for a good response, the normalised text to snapshot. Source kinds plug in
//! here (each kind: fetch → observation).

use std::time::Duration;

use bytes::Bytes;
use url::Url;

use super::blocking;
use super::liveness::Observed;
use crate::extract::{self, ExtractOptions};
use crate::fetch::{FetchOutcome, FetchRequest, Fetched, Fetcher, charset};
use crate::source::Source;
use crate::types::ErrorKind;

/// What one fetch of a source showed.
#[derive(Debug, Clone)]
pub struct Observation {
    pub observed: Observed,
    /// Normalised text (what is hashed and diffed), for a good response.
    pub text: Option<String>,
    pub meta: serde_json::Value,
    pub title: Option<String>,
    pub http_status: Option<u16>,
    pub raw: Option<Bytes>,
    pub final_url: Option<Url>,
    pub etag: Option<Option<String>>,
    pub last_modified: Option<Option<String>>,
    pub error: Option<(ErrorKind, String)>,
    /// Why the page counts as redirected or soft-gone.
    pub reason: Option<String>,
    pub retry_after: Option<Duration>,
    /// 304: the stored snapshot is current.
    pub not_modified: bool,
    pub bytes: u64,
    /// What the noise rules removed (shown by `check --dry-run`).
    pub removed: Vec<String>,
}

impl Observation {
    fn failed(kind: ErrorKind, message: String, status: Option<u16>, final_url: Option<Url>) -> Self {
        Observation {
            observed: Observed::Failing(kind),
            text: None,
            meta: serde_json::Value::Null,
            title: None,
            http_status: status,
            raw: None,
            final_url,
            etag: None,
            last_modified: None,
            error: Some((kind, message)),
            reason: None,
            retry_after: None,
            not_modified: false,
            bytes: 0,
            removed: Vec::new(),
        }
    }
}

pub fn request_for(source: &Source, respect_robots_default: bool) -> FetchRequest {
    FetchRequest {
        url: source.url.clone(),
        etag: source.etag.clone(),
        last_modified: source.last_modified.clone(),
        headers: source.options.headers.clone(),
        timeout: source.options.timeout_secs.map(Duration::from_secs),
        accept: None,
        respect_robots: source.options.respect_robots.unwrap_or(respect_robots_default),
    }
}

fn extract_options(source: &Source) -> ExtractOptions {
    ExtractOptions {
        select: source.options.select.clone(),
        exclude: source.options.exclude.clone(),
        ignore: source.options.ignore.clone(),
        default_noise: source.options.default_noise.unwrap_or(true),
    }
}

/// Fetches and observes an HTML page. `conditional` sends the stored validators.
pub async fn observe_page(fetcher: &Fetcher, source: &Source, conditional: bool) -> Observation {
    let mut req = request_for(source, fetcher.config().respect_robots);
    if !conditional || source.last_snapshot_id.is_none() {
        req.etag = None;
        req.last_modified = None;
    }
    match fetcher.fetch(&req).await {
        FetchOutcome::Fetched(f) => page_from_body(source, f).await,
        FetchOutcome::NotModified { final_url, .. } => Observation {
            not_modified: true,
            http_status: Some(304),
            final_url: Some(final_url),
            ..Observation::failed(ErrorKind::HttpStatus, String::new(), None, None).into_ok()
        },
        FetchOutcome::Gone { status, final_url, .. } => Observation {
            observed: Observed::Gone,
            error: None,
            reason: Some(format!("HTTP {status}")),
            ..Observation::failed(ErrorKind::HttpStatus, String::new(), Some(status), Some(final_url))
        },
        FetchOutcome::Failed(f) => {
            Observation { retry_after: f.retry_after, ..Observation::failed(f.kind, f.message, f.status, f.final_url) }
        }
    }
}

impl Observation {
    fn into_ok(self) -> Self {
        Observation { observed: Observed::Ok, error: None, ..self }
    }
}

async fn page_from_body(source: &Source, f: Fetched) -> Observation {
    let opts = extract_options(source);
    let encoding = source.options.encoding.clone();
    let body = f.body.clone();
    let content_type = f.content_type.clone();
    let host = f.final_url.host_str().map(str::to_owned);
    let extracted = blocking(move || {
        let decoded = charset::decode(&body, content_type.as_deref(), encoding.as_deref(), host.as_deref());
        extract::extract_page(&decoded.text, &opts).map(|e| (e, decoded.encoding))
    })
    .await;
    let bytes = f.body.len() as u64;
    let base = Observation {
        observed: Observed::Ok,
        text: None,
        meta: serde_json::Value::Null,
        title: None,
        http_status: Some(f.status),
        raw: Some(f.body.clone()),
        final_url: Some(f.final_url.clone()),
        etag: Some(f.etag.clone()),
        last_modified: Some(f.last_modified.clone()),
        error: None,
        reason: None,
        retry_after: None,
        not_modified: false,
        bytes,
        removed: Vec::new(),
    };
    let (extracted, encoding) = match extracted {
        Ok(Ok(e)) => e,
        Ok(Err(e)) => {
            return Observation {
                bytes,
                ..Observation::failed(ErrorKind::InvalidContent, e.to_string(), Some(f.status), Some(f.final_url))
            };
        }
        Err(e) => {
            return Observation {
                bytes,
                ..Observation::failed(ErrorKind::InvalidContent, e, Some(f.status), Some(f.final_url))
            };
        }
    };
    let meta = serde_json::json!({
        "title": extracted.title,
        "author": extracted.author,
        "published": extracted.published,
        "content_type": f.content_type,
        "charset": encoding,
        "feed_links": extracted.feed_links,
    });
    if let Some(reason) = redirected_elsewhere(&source.url, &f) {
        return Observation { observed: Observed::Redirected, reason: Some(reason), meta, raw: None, ..base };
    }
    if let Some(reason) = extract::soft_gone_reason(&extracted) {
        return Observation { observed: Observed::SoftGone, reason: Some(reason), meta, raw: None, ..base };
    }
    Observation { text: Some(extracted.text), title: extracted.title, removed: extracted.removed, meta, ..base }
}

/// A redirect that lands on a different page: the site's home page (the
/// article is effectively gone) or another site. A redirect that keeps the
/// page (http→https, a trailing slash, www.) is not.
pub fn redirected_elsewhere(original: &Url, f: &Fetched) -> Option<String> {
    if f.redirects.is_empty() {
        return None;
    }
    let fin = &f.final_url;
    let is_home =
        |u: &Url| matches!(u.path(), "" | "/" | "/index.html" | "/index.htm" | "/index.php") && u.query().is_none();
    if is_home(fin) && !is_home(original) {
        return Some(format!("redirected to the site's home page {fin}"));
    }
    let bare = |u: &Url| u.host_str().map(|h| h.trim_start_matches("www.").to_owned());
    if bare(fin) != bare(original) && f.permanently_moved() {
        return Some(format!("permanently redirected to another site: {fin}"));
    }
    None
}
