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
pub mod client_redirect;
pub mod feed;
pub mod github;
pub mod harness;
pub mod huggingface;
pub mod interstitial;
pub mod meta;
pub mod observation;
pub mod page;
pub mod pdf;
pub mod remote;
pub mod suspect;

use crate::fetch::Fetcher;
use crate::source::Source;
use crate::types::{ChangeKind, MetricPoint, SourceKind};

pub use meta::SnapshotMeta;
pub use observation::{Fresh, Observation, Observed, Validators};

/// Whether a good response of this kind can be another article under the
/// same address (a page; feeds and PDFs are compared in their own terms).
pub fn may_be_replaced(kind: SourceKind) -> bool {
    kind == SourceKind::Page
}

/// Whether the last snapshot's text was read by other code or options
/// than the new observation's (a page's reading stamp,
/// [`page::read_stamp`]): its stored body is then read again
/// ([`read_again`]) before the two texts are compared.
pub fn read_differently(kind: SourceKind, last_meta: &serde_json::Value, now_meta: &serde_json::Value) -> bool {
    let key = meta::PageMeta::READ_WITH_KEY;
    kind == SourceKind::Page && now_meta.get(key).is_some_and(|now| last_meta.get(key) != Some(now))
}

/// The text a snapshot's stored body (with the snapshot's `meta`) reads as
/// today for `source`: `None` when it reads as no article (pure, CPU work).
pub fn read_again(source: &Source, last_meta: &serde_json::Value, body: Vec<u8>) -> Option<String> {
    let content_type = last_meta.get("content_type").and_then(|t| t.as_str()).map(str::to_owned);
    page::reread(&page::PageSpec::of(source), body, content_type)
}

/// The kind a source becomes after a good response: a `page` URL that
/// serves a feed or a PDF is that kind from now on. `None`: unchanged.
pub fn detected_kind(stored: SourceKind, read_as: SourceKind) -> Option<SourceKind> {
    (stored == SourceKind::Page && read_as != SourceKind::Page).then_some(read_as)
}

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

/// The title `source` takes after `obs`, when its title follows what it
/// watches: a renamed GitHub repository's (see [`github::followed_title`]).
/// `None`: the title stays.
pub fn followed_title(source: &Source, obs: &Observation) -> Option<String> {
    match source.kind {
        SourceKind::Github => {
            let now = obs.observed.fresh()?.title.as_deref()?;
            let names = [remote::two_segments(&source.url), source.final_url.as_ref().and_then(remote::two_segments)];
            github::followed_title(source.title.as_deref(), &names, now)
        }
        _ => None,
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
    /// Paragraphs added, removed, modified; the share of text that changed
    /// (0 for metadata changes).
    pub stats: crate::change::ChangeStats,
    pub details: serde_json::Value,
}

impl KindChange {
    fn metadata(summary: String, change: crate::change::MetadataChange) -> Self {
        KindChange {
            kind: ChangeKind::Metadata,
            excerpt: summary.clone(),
            summary,
            stats: crate::change::ChangeStats::ONE_MODIFIED,
            details: crate::change::ChangeDetails::Metadata(change).to_json(),
        }
    }
}

/// Whether `kind` snapshots structured data described by [`describe_changes`]
/// rather than page text.
/// A repository or model registry (GitHub, Hugging Face): a name seen there
/// is a real project, so one sighting is enough to promote a candidate.
pub fn names_real_projects(kind: SourceKind) -> bool {
    matches!(kind, SourceKind::Github | SourceKind::Huggingface)
}

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

/// Why a structured answer, good as a response, is no snapshot to compare
/// with: for now a feed that lists no entries where it listed some. The
/// check fails (`invalid_content`) and the last snapshot stays.
pub fn emptied_reason(kind: SourceKind, old: &serde_json::Value, new: &serde_json::Value) -> Option<String> {
    match kind {
        SourceKind::Feed => feed::emptied_reason(old, new),
        _ => None,
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{SourceKind, read_differently};

    /// A page snapshot is read again only when its stamp is not the new
    /// reading's: the same stamp (every check between upgrades) costs no
    /// second read; a missing one (a snapshot from before stamps) or
    /// another one does; other kinds never.
    #[test]
    fn only_a_page_read_with_another_stamp_is_read_again() {
        let now = json!({"title": "t", "read_with": "aa"});
        assert!(!read_differently(SourceKind::Page, &json!({"read_with": "aa"}), &now));
        assert!(read_differently(SourceKind::Page, &json!({"read_with": "bb"}), &now));
        assert!(read_differently(SourceKind::Page, &json!({"title": "t"}), &now));
        assert!(!read_differently(SourceKind::Feed, &json!({}), &json!({"read_with": "aa"})));
        assert!(!read_differently(SourceKind::Page, &json!({"read_with": "aa"}), &json!({})));
    }
}
