//! Source kinds, one module each: [`page`], [`feed`], [`pdf`], [`github`],
//! [`huggingface`]. A kind says what to fetch (its fetch spec: URL, headers,
//! validators, budget) and reads the response into an [`Observation`]
//! (pure; [`harness`] runs the CPU-heavy reads off the async threads). A
//! structured kind's read gives a [`Structured`] value (the text to
//! snapshot, kind-specific metadata kept with the snapshot, metric points)
//! and, given the previous and the new metadata, says what changed in its
//! own terms ([`KindChange`]).
//!
//! [`observe`] is the one dispatch on the kind: the runner calls it and
//! knows no kind by name.

pub mod api;
pub mod feed;
pub mod github;
pub mod harness;
pub mod huggingface;
pub mod observation;
pub mod page;
pub mod pdf;
pub mod remote;

use crate::fetch::Fetcher;
use crate::source::Source;
use crate::types::{ChangeKind, MetricPoint, SourceKind};

pub use observation::{Fresh, Observation, Observed, Validators};

/// Fetches and reads `source` by its kind. `conditional` sends the stored
/// validators (when there is a snapshot to fall back on); `previous` is the
/// last snapshot's metadata for kinds that build on it
/// ([`builds_on_previous`]).
pub async fn observe(
    fetcher: &Fetcher,
    apis: &api::Apis,
    source: &Source,
    conditional: bool,
    previous: Option<&serde_json::Value>,
) -> Observation {
    let send_validators = conditional && source.last_snapshot_id.is_some();
    match source.kind {
        SourceKind::Page | SourceKind::Feed | SourceKind::Pdf => {
            harness::observe(fetcher, source, send_validators).await
        }
        SourceKind::Github => {
            let etag = send_validators.then_some(source.etag.as_deref()).flatten();
            let previous = if send_validators { previous } else { None };
            remote::observe_github(fetcher, apis, &source.url, etag, previous).await
        }
        SourceKind::Huggingface => {
            let etag = send_validators.then_some(source.etag.as_deref()).flatten();
            remote::observe_huggingface(fetcher, apis, &source.url, etag).await
        }
    }
}

/// Whether a kind's read builds on the last snapshot's metadata (GitHub
/// fills in the half of a partial 304 from it, and the repository half of
/// its releases.atom fallback): only then does the runner load it.
pub fn builds_on_previous(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::Github)
}

/// What one good fetch of a structured source showed.
#[derive(Debug, Clone, PartialEq)]
pub struct Structured {
    /// Canonical text: hashed to decide "changed at all", diffed for display.
    /// Volatile numbers (stars, downloads) are never in it.
    pub text: String,
    /// Kind-specific state kept with the snapshot; the next check compares
    /// against it.
    pub meta: serde_json::Value,
    pub title: Option<String>,
    pub metrics: Vec<MetricPoint>,
}

/// One change in a kind's own terms (a new feed entry, a release, a rename).
#[derive(Debug, Clone, PartialEq)]
pub struct KindChange {
    pub kind: ChangeKind,
    pub summary: String,
    pub excerpt: String,
    pub added: u32,
    pub removed: u32,
    pub modified: u32,
    /// Share of the text that changed (0 for metadata changes).
    pub ratio: f64,
    pub details: serde_json::Value,
}

impl KindChange {
    fn metadata(summary: String, details: serde_json::Value) -> Self {
        KindChange {
            kind: ChangeKind::Metadata,
            excerpt: summary.clone(),
            summary,
            added: 0,
            removed: 0,
            modified: 1,
            ratio: 0.0,
            details,
        }
    }
}

/// Whether `kind` snapshots structured data described by [`describe_changes`]
/// rather than page text.
pub fn is_structured(kind: SourceKind) -> bool {
    !matches!(kind, SourceKind::Page)
}

/// The changes between two snapshots' metadata, in the kind's terms. An
/// empty list means the snapshot moved on without anything worth reporting
/// (a feed entry dropped off the end, a reorder).
pub fn describe_changes(kind: SourceKind, old: &serde_json::Value, new: &serde_json::Value) -> Vec<KindChange> {
    match kind {
        SourceKind::Page => Vec::new(),
        SourceKind::Feed => feed::changes(old, new),
        SourceKind::Pdf => pdf::changes(old, new),
        SourceKind::Github => github::changes(old, new),
        SourceKind::Huggingface => huggingface::changes(old, new),
    }
}

/// Facts a structured source states with authority (a parameter count, a
/// release date): the catalog may accept them without review. The catalog
/// hook consumes these.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredFact {
    /// The model or repository the fact is about (`Qwen/Qwen2.5-72B`).
    pub subject: String,
    /// `parameters`, `release_date`, `release_tag`, `license`, `pipeline_tag`.
    pub field: String,
    pub value: String,
}

/// The facts in a structured source's metadata.
pub fn structured_facts(kind: SourceKind, meta: &serde_json::Value) -> Vec<StructuredFact> {
    match kind {
        SourceKind::Github => github::facts(meta),
        SourceKind::Huggingface => huggingface::facts(meta),
        _ => Vec::new(),
    }
}

/// Cuts `s` to at most `max` chars, marking the cut.
pub(crate) fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
