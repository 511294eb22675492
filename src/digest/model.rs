//! The built digest: what the templates render, section by section.
//!
//! Every field is plain serialisable data so templates (shipped or the
//! user's overrides) can lay it out without calling back into Rust.

use serde::Serialize;

use super::excerpt::ExcerptLine;
use super::inputs::{EntityKind, RepoEventKind};
use super::period::Period;
use crate::types::{ChangeKind, ErrorKind, SourceStatus};

#[derive(Debug, Clone, Serialize)]
pub struct Digest {
    pub period: Period,
    pub summary: Summary,
    pub catalog: Option<CatalogSection>,
    pub repos: Option<RepoSection>,
    /// Content changes grouped by the source's tag, most significant group
    /// first; at most [`super::build::MAX_ITEMS`] in all.
    pub content: Vec<ContentGroup>,
    /// The less significant content changes left out.
    pub content_more: Option<More>,
    pub health: Option<HealthSection>,
}

/// Items a list left out to keep the digest readable (and under SMTP size
/// limits), and the command that lists them all.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct More {
    pub count: usize,
    pub command: String,
}

impl Digest {
    /// Nothing to report: no section has anything in it.
    pub fn is_empty(&self) -> bool {
        self.catalog.is_none() && self.repos.is_none() && self.content.is_empty() && self.health.is_none()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Content changes (all kinds except status).
    pub changes: usize,
    /// Distinct sources those changes came from.
    pub sources: usize,
    pub new_models: usize,
    pub new_vendors: usize,
    pub dead_links: usize,
    pub empty: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Link {
    pub title: String,
    pub url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct CatalogSection {
    pub new_models: Vec<MentionItem>,
    pub new_models_more: Option<More>,
    pub new_vendors: Vec<MentionItem>,
    pub new_vendors_more: Option<More>,
    pub facts: Vec<FactItem>,
    pub facts_more: Option<More>,
    pub candidates: Vec<CandidateItem>,
    pub candidates_more: Option<More>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MentionItem {
    pub kind: EntityKind,
    pub name: String,
    pub vendor: Option<String>,
    /// The first source the entity was seen in.
    pub source: Link,
    /// How many sources mentioned it for the first time in the period.
    pub sources: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactItem {
    pub id: i64,
    pub subject: String,
    pub field: String,
    pub value: String,
    pub quote: String,
    pub source: Link,
    /// Its place in the web view's review queue (`web.base_url` set).
    pub page: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateItem {
    pub name: String,
    pub occurrences: u32,
    pub source: Link,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoSection {
    pub events: Vec<RepoEventItem>,
    pub movers: Vec<MoverItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct RepoEventItem {
    pub kind: RepoEventKind,
    pub repo: Link,
    pub detail: String,
    pub url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MoverItem {
    pub subject: String,
    pub metric: String,
    pub url: String,
    pub before: i64,
    pub after: i64,
    pub delta: i64,
    /// `delta` with its sign (`+1234`, `-56`).
    pub change: String,
    /// `+12.5%`, or empty when there was nothing before.
    pub percent: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ContentGroup {
    /// The source's first tag; empty for untagged sources.
    pub tag: String,
    pub changes: Vec<ChangeItem>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeItem {
    pub id: i64,
    pub kind: ChangeKind,
    pub link: Link,
    pub summary: String,
    /// Shown flat (`added`, `removed`, `modified`, `ratio`) to the templates.
    #[serde(flatten)]
    pub stats: crate::change::ChangeStats,
    /// Share of the text that changed, in whole percent.
    pub percent: u32,
    pub catalog_hits: u32,
    pub excerpt: Vec<ExcerptLine>,
    /// Its page in the web view, with the whole diff (`web.base_url` set).
    pub page: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthSection {
    pub died: Vec<HealthItem>,
    pub redirected: Vec<HealthItem>,
    pub recovered: Vec<HealthItem>,
    pub failing: Vec<HealthItem>,
    /// Items left out of the four lists together (capped in that order).
    pub more: Option<More>,
}

#[derive(Debug, Clone, Serialize)]
pub struct HealthItem {
    pub source_id: i64,
    pub link: Link,
    pub status: SourceStatus,
    pub error_kind: Option<ErrorKind>,
    /// Where a redirected source now points.
    pub final_url: Option<String>,
    /// Whole days a failing source has been failing.
    pub days: i64,
    /// The source's page in the web view, with its archived copies
    /// (`web.base_url` set).
    pub page: Option<String>,
}
