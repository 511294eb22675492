//! The catalog step: after a new snapshot, the catalog learns from it, once.
//!
//! The matcher is built once per catalog revision (a counter in the
//! database every catalog edit bumps) and shared by every check; it follows
//! the catalog as [`MatcherRefresh`] says. The text is analysed once, off
//! the async threads when it is big; the analysis and the structured
//! source's facts are saved in one transaction. The store only saves.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;
use tokio::time::Instant;

use super::{Runner, blocking};
use crate::catalog::{Analysis, FactStatus, Matcher, StopList, analyse, structured};
use crate::excerpt::{Excerpt, LineKind};
use crate::sources::StructuredFact as RawStructuredFact;
use crate::sources::{KindChange, Observation};
use crate::store::Store;
use crate::store::catalog::{CatalogStoreError, CatalogWork, RecordedAnalysis, StructuredFact};
use crate::types::{SourceId, SourceKind};

/// Texts above this size are analysed on a blocking thread; below it the
/// analysis takes well under a millisecond.
const INLINE_TEXT_BYTES: usize = 16 * 1024;

/// The catalog analysis of `text`: a short text where it is, a long one on
/// the CPU threads (off the async threads).
pub(crate) async fn analyse_text(matcher: &Arc<Matcher>, text: &str) -> Result<Analysis, String> {
    if text.len() <= INLINE_TEXT_BYTES {
        return Ok(analyse(matcher, text));
    }
    let (m, text) = (matcher.clone(), text.to_owned());
    blocking(move || analyse(&m, &text)).await
}

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

/// How often the catalog's revision is read from the database for the
/// matcher while texts come: every new text read it before, a statement
/// each (on SQLite behind the record writer's whole batch on the one
/// connection), where a read a second serves every text of that second.
pub const REVISION_READ_EVERY: Duration = Duration::from_secs(1);

/// How soon the matcher follows the catalog.
///
/// What this process commits (a catalog edit in the web UI, a catalog step
/// that created entities or accepted facts) is used by the next text, which
/// waits for the matcher that knows it, as do the texts arriving meanwhile.
/// A change by another process (the CLI, another instance) is noticed by
/// the first text `read_every` after the last read of the revision: that
/// text reads it and, when it is newer, builds the matcher and analyses
/// with it, while the texts arriving meanwhile keep the previous one. So a
/// change committed elsewhere is used by every text that starts
/// `read_every` plus a build's time (42 M instructions, tens of
/// milliseconds) after its commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MatcherRefresh {
    pub read_every: Duration,
}

impl Default for MatcherRefresh {
    fn default() -> Self {
        MatcherRefresh { read_every: REVISION_READ_EVERY }
    }
}

/// The shared catalog step: its matcher cache and settings.
pub struct CatalogStep {
    store: Store,
    stop: StopList,
    promote_after_sources: u32,
    refresh: MatcherRefresh,
    state: std::sync::Mutex<MatcherState>,
    /// Held by a build that texts wait for (the first, or one after an
    /// edit of this process): the texts arriving meanwhile share it.
    building: Mutex<()>,
    builds: AtomicU64,
}

/// What the matcher cache knows; only held for a moment, never across an
/// await.
#[derive(Default)]
struct MatcherState {
    /// The matcher and the revision it was built for.
    built: Option<(i64, Arc<Matcher>)>,
    /// The last read of the revision.
    read: Option<Read>,
    /// A text is reading the revision (and building after it).
    reading: bool,
}

/// A read of the revision: this process's counts of changes before it,
/// and when.
#[derive(Clone, Copy)]
struct Read {
    edits: u64,
    steps: u64,
    at: Instant,
}

impl CatalogStep {
    pub fn new(store: Store, stop: StopList, promote_after_sources: u32) -> Self {
        Self::with_refresh(store, stop, promote_after_sources, MatcherRefresh::default())
    }

    /// [`CatalogStep::new`] reading the revision every `refresh.read_every`.
    pub fn with_refresh(store: Store, stop: StopList, promote_after_sources: u32, refresh: MatcherRefresh) -> Self {
        CatalogStep {
            store,
            stop,
            promote_after_sources,
            refresh,
            state: std::sync::Mutex::new(MatcherState::default()),
            building: Mutex::new(()),
            builds: AtomicU64::new(0),
        }
    }

    /// How many matchers were built.
    pub fn builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MatcherState> {
        // Each update of the state is a few assignments: a panic elsewhere
        // while it was held leaves it usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The matcher to analyse a text with now ([`MatcherRefresh`] says how
    /// soon it follows the catalog).
    pub async fn matcher(&self) -> Result<Arc<Matcher>, CatalogStepError> {
        // The counts before the read: a change counted after its commit is
        // in what the read sees.
        let (edits, steps) = (self.store.catalog_edits(), self.store.catalog_step_changes());
        let previous = {
            let mut state = self.lock();
            match (state.built.as_ref().map(|(_, m)| m.clone()), state.read) {
                (Some(m), Some(read)) if (read.edits, read.steps) == (edits, steps) => {
                    if read.at.elapsed() < self.refresh.read_every || state.reading {
                        return Ok(m);
                    }
                    state.reading = true;
                    Some(m)
                }
                _ => None,
            }
        };
        match previous {
            // This text reads; the others go on with `previous` meanwhile.
            Some(previous) => {
                let reading = Reading(self);
                let found = self.read_and_build(edits, steps).await;
                drop(reading);
                match found {
                    Ok(found) => Ok(found.unwrap_or(previous)),
                    // The matcher in hand still serves; a later text tries
                    // again.
                    Err(e) => {
                        tracing::warn!(error = %e, "Cannot follow the catalog; keeping the matcher");
                        Ok(previous)
                    }
                }
            }
            // No matcher yet, or a change of ours since the last read: texts
            // wait for the one that knows the catalog as it is now (a text
            // analysed with the previous one is recorded right, but a cold
            // sweep's new versions then cost a candidate sighting on every
            // page naming them until the rebuild: callgrind, 300 pages,
            // 312 sightings waiting, 1,343 not).
            None => {
                let _building = self.building.lock().await;
                // Built meanwhile by the text that held the lock.
                {
                    let state = self.lock();
                    if let (Some((_, m)), Some(read)) = (&state.built, state.read)
                        && (read.edits, read.steps) == (edits, steps)
                    {
                        return Ok(m.clone());
                    }
                }
                let built = self.read_and_build(edits, steps).await?;
                let state = self.lock();
                built.or_else(|| state.built.as_ref().map(|(_, m)| m.clone())).ok_or_else(|| {
                    CatalogStepError::Matcher("no matcher was built for the current revision".to_owned())
                })
            }
        }
    }

    /// Reads the revision and builds its matcher when the cache holds none
    /// as new; returns the matcher built, if one was.
    async fn read_and_build(&self, edits: u64, steps: u64) -> Result<Option<Arc<Matcher>>, CatalogStepError> {
        // Read the revision before the catalog: an edit in between leaves a
        // newer catalog under an older revision, rebuilt next time.
        let revision = self.store.catalog_revision().await?;
        let read = Read { edits, steps, at: Instant::now() };
        {
            let mut state = self.lock();
            // Revisions only grow: a matcher built for this one or a later
            // one (by another text meanwhile) is current.
            if state.built.as_ref().is_some_and(|(built, _)| *built >= revision) {
                state.read = Some(read);
                return Ok(None);
            }
        }
        let matcher = self.build(revision).await?;
        let mut state = self.lock();
        // Only now: a text that saw this read before the build ended would
        // take the previous matcher for current.
        state.read = Some(read);
        match &state.built {
            Some((built, newer)) if *built > revision => Ok(Some(newer.clone())),
            _ => {
                state.built = Some((revision, matcher.clone()));
                Ok(Some(matcher))
            }
        }
    }

    /// Loads the catalog and builds its matcher off the async threads.
    async fn build(&self, revision: i64) -> Result<Arc<Matcher>, CatalogStepError> {
        let started = std::time::Instant::now();
        let catalog = self.store.load_catalog(&[FactStatus::Accepted]).await?;
        let stop = self.stop.clone();
        let matcher = blocking(move || Matcher::with_stoplist(&catalog, stop).map_err(|e| e.to_string()))
            .await
            .and_then(|r| r)
            .map_err(CatalogStepError::Matcher)?;
        self.builds.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(
            revision,
            patterns = matcher.pattern_count(),
            duration_ms = started.elapsed().as_millis() as u64,
            "Catalog matcher built"
        );
        Ok(Arc::new(matcher))
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
        let analysis = analyse_text(&matcher, text).await.map_err(CatalogStepError::Analysis)?;
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
        let store = &self.store;
        match store.record_catalog_step(&record).await {
            Ok(r) => Ok(r),
            Err(e) => {
                tracing::debug!(error = %e, snapshot_id = t.snapshot_id, "Catalog step failed; retrying once");
                Ok(store.record_catalog_step(&record).await?)
            }
        }
    }
}

/// A text reading the revision: over when dropped, the text cancelled
/// included (else no text would read again).
struct Reading<'a>(&'a CatalogStep);

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.0.lock().reading = false;
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
