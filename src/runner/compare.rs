//! A good observation against the source's history: unchanged, back to a
//! recent version (A→B→A), a first baseline, or changed — with the changes
//! in the kind's own terms (text diff for pages and PDFs).

use sha2::{Digest, Sha256};

use super::{Runner, blocking};
use crate::diff::{self, DiffOptions, TextChange};
use crate::source::Source;
use crate::sources::suspect::{closes_document, replaced_reason, truncated_reason};
use crate::sources::{self, KindChange, Observation};
use crate::store::StoreError;
use crate::store::record::{NewSnapshot, Snapshot, compress_snapshot};
use crate::types::ChangeKind;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Why a good response could not be compared with the history: this
/// source's failure (recorded with backoff), not the run's.
#[derive(Debug, thiserror::Error)]
pub(super) enum CompareError {
    /// Never store an empty blob under the real body's hash: the archive
    /// would claim a copy it does not have.
    #[error("cannot compress the raw body or text: {0}")]
    Compress(#[source] std::io::Error),
    #[error("cannot read the source's history: {0}")]
    History(#[source] StoreError),
    /// A hashing or diff worker panicked or was cancelled.
    #[error("{0}")]
    Worker(String),
}

/// What the content comparison decided.
pub(super) enum Content {
    None,
    /// The page now shows a different article: a suspect outcome, judged
    /// by liveness like a redirect, never stored as content.
    Replaced {
        reason: String,
    },
    /// The body ended mid-document: a cut-off answer, not an edit (see
    /// [`truncated_reason`]).
    Truncated {
        reason: String,
    },
    /// A structured answer with nothing in it where the last had content
    /// (see [`sources::emptied_reason`]): a failed check, not a snapshot.
    Emptied {
        reason: String,
    },
    Unchanged,
    Baseline {
        snapshot: NewSnapshot,
    },
    Reverted {
        to: i64,
    },
    /// `changes` is empty when the snapshot moved on with nothing worth
    /// reporting (a feed entry dropped off the end). `catalog_hits` (one per
    /// change, filled by the catalog step before recording; empty until then)
    /// counts the catalog entities each change's lines name.
    Changed {
        snapshot: NewSnapshot,
        changes: Vec<KindChange>,
        from: i64,
        catalog_hits: Vec<u32>,
    },
}

/// A page's text diff as a change.
fn text_change(c: TextChange, title: Option<&str>) -> KindChange {
    KindChange {
        kind: ChangeKind::Content,
        summary: c.summary,
        excerpt: c.excerpt,
        stats: c.stats,
        details: serde_json::json!({ "title": title }),
    }
}

impl Runner {
    /// Compares the observed text with the source's history.
    ///
    /// The hash decides most checks (the text is unchanged): the previous
    /// text is loaded, and the raw body compressed, only when a snapshot is
    /// actually going to be written or diffed.
    /// `accept_rewrite`: the user says a page that looks replaced by another
    /// article is a rewrite of the same one (`check --accept-rewrite`).
    pub(super) async fn compare(
        &self,
        source: &Source,
        obs: &Observation,
        accept_rewrite: bool,
    ) -> Result<Content, CompareError> {
        let Some(fresh) = obs.observed.fresh() else { return Ok(Content::None) };
        // Hashing tens of KB takes tens of microseconds: not worth a trip
        // to the CPU threads.
        let hash = sha256_hex(fresh.text.as_bytes());
        let Some(last_id) = source.last_snapshot_id else {
            return Ok(Content::Baseline { snapshot: new_snapshot(obs, hash, self.store.compresses_texts()).await? });
        };
        let window = source.options.history_window().max(1);
        let recent = self.store.recent_snapshot_hashes(source.id, window + 1).await.map_err(CompareError::History)?;
        let last_hash = match recent.iter().find(|(id, _)| *id == last_id) {
            Some((_, h)) => Some(h.clone()),
            // The current snapshot is older than the recent ones (a revert).
            None => self.store.snapshot_hash(last_id).await.map_err(CompareError::History)?,
        };
        let Some(last_hash) = last_hash else {
            return Ok(Content::Baseline { snapshot: new_snapshot(obs, hash, self.store.compresses_texts()).await? });
        };
        if last_hash == hash {
            return Ok(Content::Unchanged);
        }
        if source.options.history_window() > 0
            && let Some((id, _)) = recent.iter().find(|(id, h)| *h == hash && *id != last_id)
        {
            return Ok(Content::Reverted { to: *id });
        }
        let snapshot = new_snapshot(obs, hash, self.store.compresses_texts()).await?;
        let Some(last) = self.store.get_snapshot(last_id).await.map_err(CompareError::History)? else {
            return Ok(Content::Baseline { snapshot });
        };
        // Structured kinds say what changed in their own terms, when the
        // last snapshot was read as the same kind.
        let same_kind = last.meta.get("kind") == obs.meta.get("kind");
        if sources::is_structured(obs.kind) && same_kind {
            if let Some(reason) = sources::emptied_reason(obs.kind, &last.meta, &obs.meta) {
                return Ok(Content::Emptied { reason });
            }
            let (kind, old, new) = (obs.kind, last.meta.clone(), obs.meta.clone());
            let changes =
                blocking(move || sources::describe_changes(kind, &old, &new)).await.map_err(CompareError::Worker)?;
            return Ok(Content::Changed { snapshot, changes, from: last_id, catalog_hits: Vec::new() });
        }
        // The last text as today's code and options read its stored body:
        // what the page changed, not what an upgrade or the source's new
        // rules read differently. The same text is no change: the snapshot
        // moves on to today's reading, nothing is reported.
        let last_raw = last.raw_hash.clone();
        let old_text = match self.read_again(source, obs, &last).await {
            Some(text) if sha256_hex(text.as_bytes()) == snapshot.content_hash => {
                tracing::info!(
                    source_id = source.id.0,
                    snapshot_id = last_id,
                    "The page reads as before: its text differed only by how it was read (an upgrade or the source's rules)"
                );
                return Ok(Content::Changed { snapshot, changes: Vec::new(), from: last_id, catalog_hits: Vec::new() });
            }
            Some(text) => text,
            None => last.text,
        };
        // A page that now shows another article is a liveness outcome, not
        // a rewrite: its text must not become the snapshot (issue 13).
        if sources::may_be_replaced(obs.kind) && !accept_rewrite {
            let old_title = last.meta.get("title").and_then(|t| t.as_str());
            if let Some(reason) = replaced_reason(&old_text, &fresh.text, old_title, fresh.title.as_deref()) {
                return Ok(Content::Replaced { reason });
            }
        }
        // A cut-off answer only on a page whose previous answer closed its
        // document: some pages never do, and there a shorter text is an edit.
        if let Some(reason) = truncated_reason(&old_text, &fresh.text, fresh.raw.as_deref())
            && self.last_answer_closed(source, last_id, last_raw.as_deref()).await
        {
            return Ok(Content::Truncated { reason });
        }
        let old = old_text;
        let new = fresh.text.clone();
        let change = blocking(move || diff::diff_text(&old, &new, &DiffOptions::default()))
            .await
            .map_err(CompareError::Worker)?;
        match change {
            Some(change) => Ok(Content::Changed {
                snapshot,
                changes: vec![text_change(change, fresh.title.as_deref())],
                from: last_id,
                catalog_hits: Vec::new(),
            }),
            // Same text under another hash cannot happen; treat as unchanged.
            None => Ok(Content::Unchanged),
        }
    }
}

impl Runner {
    /// The last snapshot's text as today's reading would give it, when it
    /// was read with another stamp ([`sources::read_differently`]: an older
    /// release, other options) and its raw body is still kept; `None` when
    /// its stamp is today's, it is not a page, or its body is gone (then
    /// the stored text is compared, as before).
    async fn read_again(&self, source: &Source, obs: &Observation, last: &Snapshot) -> Option<String> {
        if !sources::read_differently(obs.kind, &last.meta, &obs.meta) {
            return None;
        }
        let body = match self.store.raw_body(last.raw_hash.as_deref()?).await {
            Ok(body) => body?,
            Err(e) => {
                tracing::warn!(source_id = source.id.0, snapshot_id = last.id, error = %e, "Cannot read the last raw body again");
                return None;
            }
        };
        let (source, meta) = (source.clone(), last.meta.clone());
        blocking(move || sources::read_again(&source, &meta, body)).await.ok().flatten()
    }
}

impl Runner {
    /// Whether the last snapshot's raw body closed its HTML document; read
    /// only when an answer looks cut off. A body that is not kept (or not
    /// readable) says nothing, and the answer is taken for content: the
    /// suspect rules err towards content.
    async fn last_answer_closed(&self, source: &Source, snapshot_id: i64, raw_hash: Option<&str>) -> bool {
        let Some(hash) = raw_hash else { return false };
        match self.store.raw_body(hash).await {
            Ok(body) => body.is_some_and(|b| closes_document(&b)),
            Err(e) => {
                tracing::warn!(source_id = source.id.0, snapshot_id, error = %e, "Cannot read the last raw body");
                false
            }
        }
    }
}

/// The snapshot to write: the text under its hash (compressed when the
/// store keeps texts so, `compress_text`), the raw body compressed (CPU
/// work, off the async threads). Never an empty blob under the real
/// body's hash: a compression failure is the check's failure.
async fn new_snapshot(obs: &Observation, hash: String, compress_text: bool) -> Result<NewSnapshot, CompareError> {
    let fresh = obs.observed.fresh();
    let raw = fresh.and_then(|f| f.raw.clone());
    let text = fresh.map(|f| f.text.clone()).unwrap_or_default();
    let (compressed, text) = blocking(move || compress_snapshot(raw.as_deref(), text, compress_text))
        .await
        .map_err(CompareError::Worker)?
        .map_err(CompareError::Compress)?;
    Ok(NewSnapshot {
        content_hash: hash,
        text,
        meta: obs.meta.clone(),
        raw: compressed,
        http_status: obs.http_status,
        final_url: obs.final_url.as_ref().map(|u| crate::redact::redact_url(u.as_str())),
    })
}
