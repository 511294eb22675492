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
use crate::sources::api::ApiClient;
use crate::sources::remote::{self, KindOutcome};
use crate::sources::{Structured, feed, pdf};
use crate::store::metrics::MetricPoint;
use crate::types::{ErrorKind, SourceKind};

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
    /// The kind the response was read as: the source's kind, or for a
    /// `page` source whose URL answers with a feed or a PDF, that kind.
    pub kind: SourceKind,
    /// Stars, forks, downloads, likes: recorded as metric points.
    pub metrics: Vec<MetricPoint>,
}

impl Observation {
    /// An observation with nothing in it yet but its verdict.
    fn bare(observed: Observed, status: Option<u16>, final_url: Option<Url>) -> Self {
        Observation {
            observed,
            text: None,
            meta: serde_json::Value::Null,
            title: None,
            http_status: status,
            raw: None,
            final_url,
            etag: None,
            last_modified: None,
            error: None,
            reason: None,
            retry_after: None,
            not_modified: false,
            bytes: 0,
            removed: Vec::new(),
            kind: SourceKind::Page,
            metrics: Vec::new(),
        }
    }

    pub(super) fn failed(kind: ErrorKind, message: String, status: Option<u16>, final_url: Option<Url>) -> Self {
        Observation { error: Some((kind, message)), ..Observation::bare(Observed::Failing(kind), status, final_url) }
    }

    /// A 304: the stored snapshot is current.
    fn not_modified(final_url: Option<Url>) -> Self {
        Observation { not_modified: true, ..Observation::bare(Observed::Ok, Some(304), final_url) }
    }

    /// A 404/410 (from a page or an API).
    fn gone(status: u16, final_url: Option<Url>, reason: String) -> Self {
        Observation { reason: Some(reason), ..Observation::bare(Observed::Gone, Some(status), final_url) }
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
        other => from_fetch_failure(other),
    }
}

impl Observation {
    /// The same fetch, judged a failure after all (content we could not
    /// compare): nothing of it is stored, the last good snapshot stays.
    pub(super) fn into_failure(self, kind: ErrorKind, message: String) -> Self {
        Observation {
            observed: Observed::Failing(kind),
            error: Some((kind, message)),
            text: None,
            raw: None,
            metrics: Vec::new(),
            ..self
        }
    }
}

async fn page_from_body(source: &Source, f: Fetched) -> Observation {
    // A `page` whose URL serves a feed or a PDF is read as one (the kind the
    // URL could not tell at `sources add`).
    if let Some(kind) = kind_from_response(&f) {
        return structured_from_body(source, f, kind).await;
    }
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
        kind: SourceKind::Page,
        metrics: Vec::new(),
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

/// Reads a source of any kind. `previous` is the last snapshot's metadata
/// (GitHub fills in the halves of a partial 304 from it).
pub async fn observe(
    fetcher: &Fetcher,
    apis: &ApiClient,
    source: &Source,
    conditional: bool,
    previous: Option<&serde_json::Value>,
) -> Observation {
    let send_validators = conditional && source.last_snapshot_id.is_some();
    match source.kind {
        SourceKind::Page => observe_page(fetcher, source, conditional).await,
        SourceKind::Feed | SourceKind::Pdf => observe_document(fetcher, source, send_validators).await,
        SourceKind::Github => {
            let etag = send_validators.then_some(source.etag.as_deref()).flatten();
            let previous = if send_validators { previous } else { None };
            from_kind(remote::observe_github(apis, &source.url, etag, previous).await, SourceKind::Github)
        }
        SourceKind::Huggingface => {
            let etag = send_validators.then_some(source.etag.as_deref()).flatten();
            from_kind(remote::observe_huggingface(apis, &source.url, etag).await, SourceKind::Huggingface)
        }
    }
}

/// Feeds and PDFs: fetched like pages, read by their kind's parser.
async fn observe_document(fetcher: &Fetcher, source: &Source, send_validators: bool) -> Observation {
    let mut req = request_for(source, fetcher.config().respect_robots);
    if !send_validators {
        req.etag = None;
        req.last_modified = None;
    }
    req.accept = Some(match source.kind {
        SourceKind::Pdf => "application/pdf,*/*;q=0.5".to_owned(),
        _ => {
            "application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.5".to_owned()
        }
    });
    match fetcher.fetch(&req).await {
        FetchOutcome::Fetched(f) => structured_from_body(source, f, source.kind).await,
        other => {
            let mut obs = from_fetch_failure(other);
            obs.kind = source.kind;
            obs
        }
    }
}

/// The non-body outcomes of a fetch, as for pages.
fn from_fetch_failure(outcome: FetchOutcome) -> Observation {
    match outcome {
        FetchOutcome::NotModified { final_url, .. } => Observation::not_modified(Some(final_url)),
        FetchOutcome::Gone { status, final_url, .. } => {
            Observation::gone(status, Some(final_url), format!("HTTP {status}"))
        }
        FetchOutcome::Failed(f) => {
            Observation { retry_after: f.retry_after, ..Observation::failed(f.kind, f.message, f.status, f.final_url) }
        }
        FetchOutcome::Fetched(f) => Observation::failed(
            ErrorKind::InvalidContent,
            "unexpected body".to_owned(),
            Some(f.status),
            Some(f.final_url),
        ),
    }
}

/// How long a feed or PDF may take to parse.
const PARSE_BUDGET: Duration = Duration::from_secs(60);

/// PDF parses at once, process-wide: bounds the threads a never-ending parse
/// of a hostile PDF can hold, however often that source is re-checked.
static PDF_PARSERS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| std::sync::Arc::new(tokio::sync::Semaphore::new(4)));

/// `application/pdf` → pdf; RSS/Atom/JSON Feed types or roots → feed.
fn kind_from_response(f: &Fetched) -> Option<SourceKind> {
    let ct = f.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/pdf") || f.body.starts_with(b"%PDF-") {
        return Some(SourceKind::Pdf);
    }
    feed::looks_like_feed(f.content_type.as_deref(), &f.body).then_some(SourceKind::Feed)
}

/// Parses a feed or PDF body off the async threads (PDF parsing is CPU work
/// and may panic; both are contained).
async fn structured_from_body(source: &Source, f: Fetched, kind: SourceKind) -> Observation {
    let body = f.body.clone();
    let content_type = f.content_type.clone();
    let encoding = source.options.encoding.clone();
    let parse = async move {
        // A permit travels with the worker and is released only when the
        // parse really ends: a PDF that never finishes keeps its permit, so
        // stuck parser threads are bounded by the permits, not by re-checks.
        let permit = match kind {
            SourceKind::Pdf => Some(
                PDF_PARSERS.clone().acquire_owned().await.map_err(|_| "the PDF parser pool is closed".to_owned())?,
            ),
            _ => None,
        };
        blocking(move || {
            let _permit = permit;
            match kind {
                SourceKind::Pdf => pdf::parse(&body).map_err(|e| e.to_string()),
                _ => feed::parse(&body, content_type.as_deref(), encoding.as_deref()).map_err(|e| e.to_string()),
            }
        })
        .await
        .and_then(|r| r)
    };
    // A hostile PDF can also be slow: the check gives up waiting (the
    // worker thread finishes on its own, holding its permit until then).
    let parsed = match tokio::time::timeout(PARSE_BUDGET, parse).await {
        Ok(r) => r,
        Err(_) => Err(format!("parsing took longer than {} s (or every PDF parser was busy)", PARSE_BUDGET.as_secs())),
    };
    let bytes = f.body.len() as u64;
    match parsed {
        Ok(s) => {
            let mut obs = from_structured(s, kind, f.status, bytes);
            obs.raw = Some(f.body.clone());
            obs.final_url = Some(f.final_url.clone());
            obs.etag = Some(f.etag.clone());
            obs.last_modified = Some(f.last_modified.clone());
            obs
        }
        Err(reason) => Observation {
            bytes,
            kind,
            ..Observation::failed(ErrorKind::InvalidContent, reason, Some(f.status), Some(f.final_url))
        },
    }
}

fn from_structured(s: Structured, kind: SourceKind, status: u16, bytes: u64) -> Observation {
    let mut meta = s.meta;
    if let Some(m) = meta.as_object_mut() {
        m.insert("kind".to_owned(), serde_json::json!(kind));
    }
    Observation {
        observed: Observed::Ok,
        text: Some(s.text),
        meta,
        title: s.title,
        http_status: Some(status),
        raw: None,
        final_url: None,
        etag: None,
        last_modified: None,
        error: None,
        reason: None,
        retry_after: None,
        not_modified: false,
        bytes,
        removed: Vec::new(),
        kind,
        metrics: s.metrics,
    }
}

fn from_kind(outcome: KindOutcome, kind: SourceKind) -> Observation {
    let mut obs = match outcome {
        KindOutcome::Observed { structured, etag, status, bytes, note, until } => {
            let mut obs = from_structured(structured, kind, status, bytes);
            obs.retry_after = until.and_then(|u| (u - chrono::Utc::now()).to_std().ok());
            // The API validators replace the stored ones, even when absent.
            obs.etag = Some(etag);
            obs.reason = note;
            obs
        }
        KindOutcome::NotModified => Observation::not_modified(None),
        KindOutcome::Gone { status } => Observation::gone(status, None, format!("HTTP {status} from the API")),
        KindOutcome::Failed { kind: ek, message, status, until } => Observation {
            retry_after: until.and_then(|u| (u - chrono::Utc::now()).to_std().ok()),
            ..Observation::failed(ek, message, status, None)
        },
    };
    obs.kind = kind;
    obs
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
