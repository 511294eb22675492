//! What one fetch of a source showed: one verdict ([`Observed`]) carrying
//! its own data, so a good response cannot also carry an error, and a 304
//! cannot carry text.

use std::time::Duration;

use bytes::Bytes;
use url::Url;

use crate::types::{ErrorKind, MetricPoint, SourceKind, SourceStatus};

/// The validators a good response came with. Both replace the stored ones
/// (an absent validator clears the stored one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A good response read by its kind: the text to hash, diff and snapshot.
#[derive(Debug, Clone)]
pub struct Fresh {
    /// Normalised text (what is hashed and diffed).
    pub text: String,
    pub title: Option<String>,
    /// The body as received, archived with the snapshot (pages, feeds, PDFs).
    pub raw: Option<Bytes>,
    pub validators: Validators,
    /// What the noise rules removed (shown by `check --dry-run`).
    pub removed: Vec<String>,
    /// Stars, forks, downloads, likes: recorded as metric points.
    pub metrics: Vec<MetricPoint>,
    /// A note for the check's message (e.g. GitHub's releases.atom fallback).
    pub note: Option<String>,
}

impl Fresh {
    pub fn new(text: String) -> Fresh {
        Fresh {
            text,
            title: None,
            raw: None,
            validators: Validators::default(),
            removed: Vec::new(),
            metrics: Vec::new(),
            note: None,
        }
    }
}

/// The verdict of one check, before liveness confirmation.
#[derive(Debug, Clone)]
pub enum Observed {
    Fresh(Box<Fresh>),
    /// 304 (or every API half unchanged): the stored snapshot is current.
    NotModified,
    /// 404/410.
    Gone {
        reason: String,
    },
    /// The page says it is gone (a 200 "not found" page).
    SoftGone {
        reason: String,
    },
    /// Permanently moved to a different page (the home page, another site).
    Redirected {
        reason: String,
    },
    Failed {
        kind: ErrorKind,
        message: String,
    },
}

impl Observed {
    /// The status this verdict argues for.
    pub fn status(&self) -> SourceStatus {
        match self {
            Observed::Fresh(_) | Observed::NotModified => SourceStatus::Ok,
            Observed::Gone { .. } => SourceStatus::Gone,
            Observed::SoftGone { .. } => SourceStatus::SoftGone,
            Observed::Redirected { .. } => SourceStatus::Redirected,
            Observed::Failed { .. } => SourceStatus::Failing,
        }
    }

    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            Observed::Failed { kind, .. } => Some(*kind),
            _ => None,
        }
    }

    /// Whether the source answered as it should (new content or a 304).
    pub fn is_ok(&self) -> bool {
        matches!(self, Observed::Fresh(_) | Observed::NotModified)
    }

    /// The error, the reason for a gone/soft-gone/redirected verdict, or a
    /// good response's note: what the check reports and stores as its message.
    pub fn message(&self) -> Option<&str> {
        match self {
            Observed::Fresh(f) => f.note.as_deref(),
            Observed::NotModified => None,
            Observed::Gone { reason } | Observed::SoftGone { reason } | Observed::Redirected { reason } => Some(reason),
            Observed::Failed { message, .. } => Some(message),
        }
    }

    pub fn fresh(&self) -> Option<&Fresh> {
        match self {
            Observed::Fresh(f) => Some(f),
            _ => None,
        }
    }
}

/// What one fetch of a source showed: the verdict and what every verdict has.
#[derive(Debug, Clone)]
pub struct Observation {
    pub observed: Observed,
    /// The kind the response was read as: the source's kind, or for a
    /// `page` source whose URL answers with a feed or a PDF, that kind.
    pub kind: SourceKind,
    /// Kind-specific state kept with the snapshot (the next check compares
    /// against it); page metadata for pages.
    pub meta: serde_json::Value,
    pub http_status: Option<u16>,
    pub final_url: Option<Url>,
    pub bytes: u64,
    /// A wait the server (or a spent API budget) asked for.
    pub retry_after: Option<Duration>,
}

impl Observation {
    /// An observation with nothing in it yet but its verdict.
    pub fn bare(observed: Observed, kind: SourceKind, status: Option<u16>, final_url: Option<Url>) -> Self {
        Observation {
            observed,
            kind,
            meta: serde_json::Value::Null,
            http_status: status,
            final_url,
            bytes: 0,
            retry_after: None,
        }
    }

    pub fn failed(kind: ErrorKind, message: String, status: Option<u16>, final_url: Option<Url>) -> Self {
        Observation::bare(Observed::Failed { kind, message }, SourceKind::Page, status, final_url)
    }

    /// The text of a good response.
    pub fn text(&self) -> Option<&str> {
        self.observed.fresh().map(|f| f.text.as_str())
    }

    /// The same fetch, judged a failure after all (content we could not
    /// compare): nothing of it is stored, the last good snapshot stays.
    pub fn into_failure(self, kind: ErrorKind, message: String) -> Self {
        Observation { observed: Observed::Failed { kind, message }, ..self }
    }
}
