//! Source kinds other than HTML pages. Each kind turns a response into a
//! [`Structured`] observation (the text to snapshot, kind-specific metadata
//! kept with the snapshot, and metric points) and, given the previous and
//! the new metadata, says what changed in its own terms ([`KindChange`]).
//!
//! Parsing and comparing are pure; the HTTP side lives in `runner::observe`
//! and [`github`]'s API client.

pub mod api;
pub mod feed;
pub mod github;
pub mod huggingface;
pub mod pdf;
pub mod remote;

use crate::store::metrics::MetricPoint;
use crate::types::{ChangeKind, SourceKind};

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
