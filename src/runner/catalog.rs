//! The catalog step: after a new snapshot, the catalog learns from it, once.
//!
//! The matcher is built once per catalog revision (a counter in the
//! database every catalog edit bumps) and shared by every check; the text
//! is analysed once, off the async threads when it is big; the analysis and
//! the structured source's facts are saved in one transaction. The store
//! only saves.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::{Runner, blocking};
use crate::catalog::{FactStatus, Matcher, StopList, analyse, structured};
use crate::excerpt::{Excerpt, LineKind};
use crate::sources::StructuredFact as RawStructuredFact;
use crate::sources::{KindChange, Observation};
use crate::store::Store;
use crate::store::catalog::{CatalogStoreError, CatalogWork, RecordedAnalysis, StructuredFact};
use crate::types::{SourceId, SourceKind};

/// Texts above this size are analysed on a blocking thread; below it the
/// analysis takes well under a millisecond.
const INLINE_TEXT_BYTES: usize = 16 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CatalogStepError {
    #[error(transparent)]
    Store(#[from] CatalogStoreError),
    #[error("cannot build the catalog matcher: {0}")]
    Matcher(String),
    #[error("the catalog analysis failed: {0}")]
    Analysis(String),
}

/// What one new text is, for the catalog step.
pub struct NewText<'a> {
    pub source: SourceId,
    pub kind: SourceKind,
    pub snapshot_id: i64,
    pub text: &'a str,
    /// `sources::structured_facts` of a GitHub / Hugging Face observation.
    pub structured: Vec<RawStructuredFact>,
    pub at: DateTime<Utc>,
}

/// The shared catalog step: its matcher cache and settings.
pub struct CatalogStep {
    store: Store,
    stop: StopList,
    promote_after_sources: u32,
    cache: Mutex<Option<(i64, Arc<Matcher>)>>,
    builds: AtomicU64,
}

impl CatalogStep {
    pub fn new(store: Store, stop: StopList, promote_after_sources: u32) -> Self {
        CatalogStep { store, stop, promote_after_sources, cache: Mutex::new(None), builds: AtomicU64::new(0) }
    }

    /// How many matchers were built (one per catalog revision seen).
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// The matcher for the catalog as it is now: the cached one while the
    /// revision is unchanged, else loaded and built (once, whatever the
    /// number of checks waiting for it).
    pub async fn matcher(&self) -> Result<Arc<Matcher>, CatalogStepError> {
        // Read the revision before the catalog: an edit in between leaves a
        // newer catalog under an older revision, rebuilt next time. Read
        // before taking the cache, too: every new text reads it, and the
        // cache held across the read made each check's read wait for the
        // others' (on SQLite, behind the record writer's whole batch on
        // the one connection).
        let revision = self.store.catalog_revision().await?;
        let mut cache = self.cache.lock().await;
        // A matcher built for this revision or a later one (another check
        // read a newer revision meanwhile; revisions only grow) is current.
        if let Some((rev, m)) = cache.as_ref()
            && *rev >= revision
        {
            return Ok(m.clone());
        }
        let started = std::time::Instant::now();
        let catalog = self.store.load_catalog(&[FactStatus::Accepted]).await?;
        let stop = self.stop.clone();
        let matcher = blocking(move || Matcher::with_stoplist(&catalog, stop).map_err(|e| e.to_string()))
            .await
            .and_then(|r| r)
            .map_err(CatalogStepError::Matcher)?;
        let matcher = Arc::new(matcher);
        self.builds.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            revision,
            patterns = matcher.pattern_count(),
            duration_ms = started.elapsed().as_millis() as u64,
            "Catalog matcher built"
        );
        *cache = Some((revision, matcher.clone()));
        Ok(matcher)
    }

    /// Analyses a new text once: what the check writer saves with the
    /// check's new snapshot ([`CatalogWork`]).
    pub async fn prepare(
        &self,
        kind: SourceKind,
        text: &str,
        structured: &[RawStructuredFact],
        at: DateTime<Utc>,
    ) -> Result<CatalogWork, CatalogStepError> {
        let matcher = self.matcher().await?;
        let analysis = if text.len() <= INLINE_TEXT_BYTES {
            analyse(&matcher, text)
        } else {
            let (m, text) = (matcher.clone(), text.to_owned());
            blocking(move || analyse(&m, &text)).await.map_err(CatalogStepError::Analysis)?
        };
        Ok(CatalogWork {
            at,
            analysis,
            structured: resolve_structured(&matcher, kind, structured),
            structured_source: crate::sources::names_real_projects(kind),
            promote_after_sources: self.promote_after_sources,
        })
    }

    /// Analyses a snapshot's text once and saves what it says, with the
    /// structured source's facts, in a transaction of its own (the checks
    /// save theirs with the check: see [`Self::prepare`]).
    pub async fn observe(&self, t: NewText<'_>) -> Result<RecordedAnalysis, CatalogStepError> {
        let work = self.prepare(t.kind, t.text, &t.structured, t.at).await?;
        let record = work.record(t.source, t.snapshot_id);
        // Once more on failure: a concurrent check writing the same rows can
        // still abort a transaction (a serialization failure, a deadlock).
        match self.store.record_catalog_step(&record).await {
            Ok(r) => Ok(r),
            Err(e) => {
                tracing::debug!(error = %e, snapshot_id = t.snapshot_id, "Catalog step failed; retrying once");
                Ok(self.store.record_catalog_step(&record).await?)
            }
        }
    }
}

/// A structured source's `field = value` facts, for the catalog models
/// they name exactly.
fn resolve_structured(matcher: &Matcher, kind: SourceKind, facts: &[RawStructuredFact]) -> Vec<StructuredFact> {
    facts
        .iter()
        .filter_map(|f| {
            let (entity, attribute, value) = structured::resolve(matcher, &f.subject, &f.field, &f.value)?;
            Some(StructuredFact {
                entity,
                attribute,
                value,
                raw: f.value.clone(),
                quote: format!("{}: {} = {}", f.subject, f.field, f.value),
                extractor: format!("{kind}:{}", f.field),
            })
        })
        .collect()
}

/// The configured stop list: the file, the built-in list when it is missing,
/// and the built-in list with a warning when it is broken (`config check`
/// and `init` refuse a broken file; a running daemon keeps going).
pub fn stoplist(path: &std::path::Path) -> StopList {
    match std::fs::read_to_string(path) {
        Ok(text) => StopList::parse(&text).unwrap_or_else(|e| {
            tracing::warn!(path = %path.display(), error = %e, "Stop list unusable; using the built-in one");
            StopList::shipped()
        }),
        Err(_) => StopList::shipped(),
    }
}

/// How many distinct catalog entities the changed lines of a change's
/// excerpt name: removed, added and modified lines count (a model dropped
/// from a page matters as much as one added); context lines do not.
pub fn changed_line_hits(matcher: &Matcher, excerpt: &str) -> u32 {
    let mut entities: HashSet<usize> = HashSet::new();
    for line in Excerpt::parse(excerpt).lines {
        if matches!(line.kind, LineKind::Context | LineKind::Gap) {
            continue;
        }
        let text: String = line.segments.iter().map(|s| s.text.as_str()).collect();
        entities.extend(matcher.find(&text).into_iter().map(|m| m.entity));
    }
    u32::try_from(entities.len()).unwrap_or(u32::MAX)
}

impl Runner {
    /// [`changed_line_hits`] of each change, with the cached matcher. A
    /// catalog that cannot be loaded counts 0 (logged): the ranking loses
    /// a hint, the check is still recorded.
    pub(super) async fn catalog_hits(&self, changes: &[KindChange]) -> Vec<u32> {
        if changes.is_empty() {
            return Vec::new();
        }
        match self.catalog.matcher().await {
            Ok(m) => changes.iter().map(|c| changed_line_hits(&m, &c.excerpt)).collect(),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot count the catalog entities of the changed lines");
                vec![0; changes.len()]
            }
        }
    }

    /// What the new text of a check says, for the writer to save with the
    /// check. Never fails the check: a catalog that cannot be read or a text
    /// that cannot be analysed is logged, and the check is recorded without.
    pub(super) async fn catalog_work(&self, text: &str, obs: &Observation) -> Option<CatalogWork> {
        let structured = crate::sources::structured_facts(obs.kind, &obs.meta);
        match self.catalog.prepare(obs.kind, text, &structured, self.clock.now()).await {
            Ok(work) => Some(work),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot analyse the new text for the catalog; the check is recorded without its catalog step");
                None
            }
        }
    }
}

/// Logs what the writer's catalog step saved (or why it failed).
pub(super) fn log_catalog_step(snapshot_id: i64, step: &Result<RecordedAnalysis, String>) {
    match step {
        Ok(r) => tracing::info!(
            new_mentions = r.new_mentions.len(),
            new_facts = r.new_facts.len(),
            corroborations = r.corroborations,
            new_candidates = r.new_candidates.len(),
            new_entities = r.new_entities.len(),
            accepted = r.accepted_facts.len(),
            "Catalog updated from the snapshot"
        ),
        Err(e) => tracing::warn!(error = %e, snapshot_id, "Catalog step failed"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::seed_tests::seed_matcher as matcher;

    #[test]
    fn only_the_changed_lines_count_each_entity_once() {
        let m = matcher();
        // The context names 百度 and 文心一言; the changed lines name
        // 文心一言 twice (counted once), GPT-4 (added) and 通义千问 (removed).
        let excerpt = "  百度发布文心一言，面向企业开放。\n\
                       ~ 文心一言的参数规模为[-千亿级-]{+2600亿+}，对标文心一言上一代\n\
                       + 据介绍，其能力接近GPT-4。\n\
                       …\n\
                       - 通义千问暂未公布参数规模。";
        assert_eq!(changed_line_hits(&m, excerpt), 3);
        assert_eq!(changed_line_hits(&m, "  文心一言\n  GPT-4"), 0, "context only: nothing changed there");
        assert_eq!(changed_line_hits(&m, "~ 页脚版权[-2023-]{+2024+}年"), 0, "a footer names no model");
        assert_eq!(changed_line_hits(&m, ""), 0);
    }
}
