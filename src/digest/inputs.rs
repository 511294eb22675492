//! What the digest is built from: plain values the store fills in.
//!
//! These structs are deliberately flat and owned: the store maps its rows into
//! them, tests write them by hand, and `build` never sees a database.

use chrono::{DateTime, Utc};

use crate::change::ChangeStats;
use crate::types::{ChangeKind, ErrorKind, SourceId, SourceStatus};

/// Everything that happened in a period, unsorted and unfiltered.
#[derive(Debug, Clone, Default)]
pub struct DigestInputs {
    /// Content (and metadata) changes detected in the period.
    pub changes: Vec<ChangeInput>,
    /// Status transitions detected in the period (`ok → gone`, `gone → ok`…).
    pub status_changes: Vec<StatusChangeInput>,
    /// Sources currently failing, whenever they started.
    pub failing: Vec<FailingInput>,
    /// Models and vendors mentioned for the first time in the period.
    pub new_mentions: Vec<MentionInput>,
    /// Facts proposed by the catalog rules, waiting for review.
    pub proposed_facts: Vec<FactInput>,
    /// Names that look like models but are not in the catalog.
    pub candidates: Vec<CandidateInput>,
    /// Releases, renames and archives of watched repositories.
    pub repo_events: Vec<RepoEventInput>,
    /// Stars/downloads at the start and the end of the period.
    pub metrics: Vec<MetricInput>,
}

/// The source a row is about, as the reader should see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRef {
    pub id: SourceId,
    pub url: String,
    pub title: Option<String>,
    pub tags: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct ChangeInput {
    pub id: i64,
    pub source: SourceRef,
    pub kind: ChangeKind,
    pub detected_at: DateTime<Utc>,
    pub summary: String,
    /// Lines added, removed, changed in place (the `~ ` lines); the share of
    /// the normalised text that changed, 0.0–1.0.
    pub stats: ChangeStats,
    /// Catalog entities (models, vendors) the changed lines mention.
    pub catalog_hits: u32,
    /// The bounded diff excerpt in `diff.rs`'s marker format.
    pub excerpt: String,
}

#[derive(Debug, Clone)]
pub struct StatusChangeInput {
    pub source: SourceRef,
    pub from: SourceStatus,
    pub to: SourceStatus,
    pub at: DateTime<Utc>,
    /// Where a redirected source now points.
    pub final_url: Option<String>,
    pub error_kind: Option<ErrorKind>,
}

#[derive(Debug, Clone)]
pub struct FailingInput {
    pub source: SourceRef,
    pub since: DateTime<Utc>,
    pub error_kind: ErrorKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EntityKind {
    Model,
    Vendor,
}

#[derive(Debug, Clone)]
pub struct MentionInput {
    pub entity_kind: EntityKind,
    pub name: String,
    /// The vendor of a model, when the catalog knows it.
    pub vendor: Option<String>,
    pub source: SourceRef,
    pub first_seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct FactInput {
    pub id: i64,
    pub subject: String,
    pub field: String,
    pub value: String,
    /// The sentence the fact was read from, quoted verbatim to the reviewer.
    pub quote: String,
    pub source: SourceRef,
}

#[derive(Debug, Clone)]
pub struct CandidateInput {
    pub name: String,
    pub occurrences: u32,
    pub source: SourceRef,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RepoEventKind {
    Release,
    Rename,
    Archive,
}

#[derive(Debug, Clone)]
pub struct RepoEventInput {
    pub kind: RepoEventKind,
    pub source: SourceRef,
    /// Release tag, new `owner/name`, or empty for an archive.
    pub detail: String,
    pub url: Option<String>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct MetricInput {
    /// `owner/repo` or a model id.
    pub subject: String,
    /// `stars`, `downloads`…
    pub metric: String,
    pub source: SourceRef,
    pub before: Option<i64>,
    pub after: i64,
}
