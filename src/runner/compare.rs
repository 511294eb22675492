//! A good observation against the source's history: unchanged, back to a
//! recent version (A→B→A), a first baseline, or changed — with the changes
//! in the kind's own terms (text diff for pages and PDFs).

use sha2::{Digest, Sha256};

use super::{Runner, blocking};
use crate::diff::{self, DiffOptions, TextChange};
use crate::source::Source;
use crate::sources::{self, KindChange, Observation};
use crate::store::StoreError;
use crate::store::record::{CompressedBody, NewSnapshot};
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
    #[error("cannot compress the raw body: {0}")]
    Compress(#[source] std::io::Error),
    #[error("cannot read the source's history: {0}")]
    History(#[source] StoreError),
    /// A hashing or diff worker panicked or was cancelled.
    #[error("{0}")]
    Worker(String),
}

/// The raw body as archived: zstd-compressed, keyed by its own hash.
fn compress(raw: &[u8]) -> Result<CompressedBody, CompareError> {
    Ok(CompressedBody {
        hash: sha256_hex(raw),
        zstd: zstd::encode_all(raw, 3).map_err(CompareError::Compress)?,
        size: raw.len() as u64,
    })
}

/// What the content comparison decided.
pub(super) enum Content {
    None,
    Unchanged,
    Baseline {
        snapshot: NewSnapshot,
    },
    Reverted {
        to: i64,
    },
    /// `changes` is empty when the snapshot moved on with nothing worth
    /// reporting (a feed entry dropped off the end).
    Changed {
        snapshot: NewSnapshot,
        changes: Vec<KindChange>,
        from: i64,
    },
}

/// A page's text diff as a change.
fn text_change(c: TextChange, title: Option<&str>) -> KindChange {
    KindChange {
        kind: ChangeKind::Content,
        summary: c.summary,
        excerpt: c.excerpt,
        added: c.added,
        removed: c.removed,
        modified: c.modified,
        ratio: c.ratio,
        details: serde_json::json!({ "title": title }),
    }
}

impl Runner {
    /// Compares the observed text with the source's history.
    pub(super) async fn compare(&self, source: &Source, obs: &Observation) -> Result<Content, CompareError> {
        let Some(fresh) = obs.observed.fresh() else { return Ok(Content::None) };
        let text = fresh.text.clone();
        let raw = fresh.raw.clone();
        // Hashing and compression are CPU work: off the async threads.
        let (hash, compressed) = blocking(move || {
            let hash = sha256_hex(text.as_bytes());
            let compressed = raw.map(|r| compress(&r)).transpose();
            (hash, compressed)
        })
        .await
        .map_err(CompareError::Worker)?;
        let compressed = compressed?;
        let snapshot = NewSnapshot {
            content_hash: hash.clone(),
            text: fresh.text.clone(),
            meta: obs.meta.clone(),
            raw: compressed,
            http_status: obs.http_status,
            final_url: obs.final_url.as_ref().map(ToString::to_string),
        };
        let Some(last_id) = source.last_snapshot_id else { return Ok(Content::Baseline { snapshot }) };
        let window = source.options.history_window().max(1);
        let recent = self.store.recent_snapshot_hashes(source.id, window + 1).await.map_err(CompareError::History)?;
        let last_hash = self.store.get_snapshot(last_id).await.map_err(CompareError::History)?;
        let Some(last) = last_hash else { return Ok(Content::Baseline { snapshot }) };
        if last.content_hash == hash {
            return Ok(Content::Unchanged);
        }
        if source.options.history_window() > 0
            && let Some((id, _)) = recent.iter().find(|(id, h)| *h == hash && *id != last_id)
        {
            return Ok(Content::Reverted { to: *id });
        }
        // Structured kinds say what changed in their own terms, when the
        // last snapshot was read as the same kind.
        let same_kind = last.meta.get("kind") == obs.meta.get("kind");
        if sources::is_structured(obs.kind) && same_kind {
            let (kind, old, new) = (obs.kind, last.meta.clone(), obs.meta.clone());
            let changes =
                blocking(move || sources::describe_changes(kind, &old, &new)).await.map_err(CompareError::Worker)?;
            return Ok(Content::Changed { snapshot, changes, from: last_id });
        }
        let old = last.text.clone();
        let new = snapshot.text.clone();
        let change = blocking(move || diff::diff_text(&old, &new, &DiffOptions::default()))
            .await
            .map_err(CompareError::Worker)?;
        match change {
            Some(change) => Ok(Content::Changed {
                snapshot,
                changes: vec![text_change(change, fresh.title.as_deref())],
                from: last_id,
            }),
            // Same text under another hash cannot happen; treat as unchanged.
            None => Ok(Content::Unchanged),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_archived_body_is_the_body_under_its_own_hash() {
        let raw = "<html>模型发布</html>".repeat(100);
        let c = compress(raw.as_bytes()).unwrap();
        assert_eq!(c.hash, sha256_hex(raw.as_bytes()));
        assert_eq!(c.size, raw.len() as u64);
        assert_eq!(zstd::decode_all(c.zstd.as_slice()).unwrap(), raw.as_bytes());
    }
}
