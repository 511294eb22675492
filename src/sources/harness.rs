//! The HTTP documents (page, feed, PDF): one fetch through the fetcher,
//! then the kind's pure read run off the async threads, bounded in time
//! and, for PDFs, in parallel parses. A parser panic or a parse that never
//! ends is this source's failure, never the daemon's.

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use tokio::sync::Semaphore;

use super::observation::{Fresh, Observation, Observed, Validators};
use super::{Structured, feed, page, pdf};
use crate::blocking::{blocking, unpooled};
use crate::fetch::{FetchOutcome, Fetched, Fetcher};
use crate::source::Source;
use crate::types::{ErrorKind, SourceKind};

/// How long a feed or PDF may take to parse.
const PARSE_BUDGET: Duration = Duration::from_secs(60);

/// PDF parses at once, process-wide: bounds the threads a never-ending parse
/// of a hostile PDF can hold, however often that source is re-checked.
static PDF_PARSERS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(4)));

/// The Accept header a kind asks with (pages: the fetcher's default).
fn accept(kind: SourceKind) -> Option<&'static str> {
    match kind {
        SourceKind::Pdf => Some(pdf::ACCEPT),
        SourceKind::Feed => Some(feed::ACCEPT),
        _ => None,
    }
}

/// Fetches and reads a page, feed or PDF source.
pub async fn observe(fetcher: &Fetcher, source: &Source, send_validators: bool) -> Observation {
    let mut req = page::request(source, fetcher.config().respect_robots, send_validators);
    req.accept = accept(source.kind).map(str::to_owned);
    let outcome = fetcher.fetch(&req).await;
    let mut obs = match outcome {
        FetchOutcome::Fetched(f) => return read(source, f, Some(fetcher)).await,
        other => from_fetch(other),
    };
    obs.kind = source.kind;
    obs
}

/// A body, read by the kind it turned out to be. A page that is a
/// client-side redirect stub to the article's new address is followed once
/// through `follow` (`None`: this is the followed page).
async fn read(source: &Source, f: Fetched, follow: Option<&Fetcher>) -> Observation {
    // A `page` whose URL serves a feed or a PDF is read as one.
    let kind = match source.kind {
        SourceKind::Page => page::sniff(&f).unwrap_or(SourceKind::Page),
        kind => kind,
    };
    if kind != SourceKind::Page {
        return structured(source, f, kind).await;
    }
    let spec = page::PageSpec::of(source);
    let (status, final_url, bytes) = (f.status, f.final_url.clone(), f.body.len() as u64);
    let read = match blocking(move || page::read_or_follow(&spec, &f)).await {
        Ok(read) => read,
        Err(e) => {
            return Observation {
                bytes,
                ..Observation::failed(ErrorKind::InvalidContent, e, Some(status), Some(final_url))
            };
        }
    };
    match (read, follow) {
        (page::PageRead::Follow { to, bytes: stub_bytes, .. }, Some(fetcher)) => {
            Box::pin(follow_stub(fetcher, source, to, stub_bytes)).await
        }
        (read, _) => read.unfollowed(status, &final_url),
    }
}

/// Follows a client-side redirect to the article's new address: one GET,
/// through the same guard, robots and politeness as any fetch, without the
/// stored validators (they belong to the stub's address). The followed
/// page is read as the source's answer, its address the final URL. Its
/// validators are not kept either: a 304 of the stub would say nothing of
/// the article, so the stub is fetched whole and followed on every check.
async fn follow_stub(fetcher: &Fetcher, source: &Source, to: url::Url, stub_bytes: u64) -> Observation {
    let mut req = page::request(source, fetcher.config().respect_robots, false);
    req.url = to;
    let mut obs = match fetcher.fetch(&req).await {
        FetchOutcome::Fetched(f) => read(source, f, None).await,
        other => Observation { kind: source.kind, ..from_fetch(other) },
    };
    if let Observed::Fresh(fresh) = &mut obs.observed {
        fresh.validators = Validators::default();
    }
    obs.bytes += stub_bytes;
    obs
}

/// The non-body outcomes of a fetch: 304, gone, failed.
pub fn from_fetch(outcome: FetchOutcome) -> Observation {
    match outcome {
        FetchOutcome::NotModified { final_url, .. } => {
            Observation::bare(Observed::NotModified, SourceKind::Page, Some(304), Some(final_url))
        }
        FetchOutcome::Gone { status, final_url, .. } => Observation::bare(
            Observed::Gone { reason: format!("HTTP {status}") },
            SourceKind::Page,
            Some(status),
            Some(final_url),
        ),
        // A 403/503 challenge is already `blocked` (`fetch::challenge`).
        FetchOutcome::Failed(f) => {
            Observation { retry_after: f.retry_after, ..Observation::failed(f.kind, f.message, f.status, f.final_url) }
        }
        FetchOutcome::Deferred { wait, final_url } => Observation::deferred(wait, SourceKind::Page, Some(final_url)),
        FetchOutcome::Fetched(f) => Observation::failed(
            ErrorKind::InvalidContent,
            "unexpected body".to_owned(),
            Some(f.status),
            Some(f.final_url),
        ),
    }
}

/// Parses a feed or PDF body off the async threads (PDF parsing is CPU work
/// and may panic; both are contained).
async fn structured(source: &Source, f: Fetched, kind: SourceKind) -> Observation {
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
        let job = move || {
            let _permit = permit;
            match kind {
                SourceKind::Pdf => pdf::parse(&body).map_err(|e| e.to_string()),
                // A feed parses on a thread with a known stack and its own
                // time budget (feed-rs and quick-xml on hostile nesting or
                // entities), like a page's extraction.
                _ => crate::contain::on_thread("feed-parse", crate::contain::ThreadLimits::PARSER, move || {
                    feed::parse(&body, content_type.as_deref(), encoding.as_deref()).map_err(|e| e.to_string())
                })
                .map_err(|e| e.to_string())
                .and_then(|r| r),
            }
        };
        // A PDF parse may never end: it must not hold a CPU thread (its own
        // permits bound it); feeds share the CPU threads with pages.
        let parsed = if kind == SourceKind::Pdf { unpooled(job).await } else { blocking(job).await };
        parsed.and_then(|r| r)
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
            let validators = Validators { etag: f.etag.clone(), last_modified: f.last_modified.clone() };
            let mut obs = from_structured(s, kind, f.status, bytes, validators);
            if let Observed::Fresh(fresh) = &mut obs.observed {
                fresh.raw = Some(f.body.clone());
            }
            obs.final_url = Some(f.final_url.clone());
            obs
        }
        Err(reason) => Observation {
            bytes,
            kind,
            ..Observation::failed(ErrorKind::InvalidContent, reason, Some(f.status), Some(f.final_url))
        },
    }
}

/// A structured read as a fresh observation of `kind` (the kind is stored in
/// the metadata: the next check compares in the kind's terms only against a
/// snapshot read as the same kind).
pub fn from_structured(
    s: Structured,
    kind: SourceKind,
    status: u16,
    bytes: u64,
    validators: Validators,
) -> Observation {
    let mut meta = s.meta;
    if let Some(m) = meta.as_object_mut() {
        m.insert(super::SnapshotMeta::KIND_KEY.to_owned(), serde_json::json!(kind));
    }
    let fresh = Fresh { title: s.title, validators, metrics: s.metrics, ..Fresh::new(s.text) };
    Observation {
        observed: Observed::Fresh(Box::new(fresh)),
        kind,
        meta,
        http_status: Some(status),
        final_url: None,
        bytes,
        retry_after: None,
    }
}
