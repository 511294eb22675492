//! After a new snapshot: the catalog learns from it. Article text gives
//! mentions, proposed facts and candidates; a structured source (a Hugging
//! Face card) gives facts accepted with the source as evidence.

use chrono::Utc;

use super::{Runner, blocking};
use crate::catalog::{FactStatus, Matcher, structured};
use crate::source::Source;
use crate::sources::Observation;
use crate::store::catalog::StructuredFact;

impl Runner {
    /// Never fails the check: the check is recorded already, and a catalog
    /// failure is logged for the next snapshot to retry.
    pub(super) async fn catalog_hook(&self, source: &Source, snapshot_id: i64, text: &str, obs: &Observation) {
        let at = Utc::now();
        // Once more on failure: a concurrent check writing the same rows can
        // still abort a transaction (a serialization failure, a deadlock).
        let mut recorded = self.store.catalog_observe_snapshot(source.id, snapshot_id, text.to_owned(), at).await;
        if let Err(e) = &recorded {
            tracing::debug!(error = %e, snapshot_id, "Catalog analysis failed; retrying once");
            recorded = self.store.catalog_observe_snapshot(source.id, snapshot_id, text.to_owned(), at).await;
        }
        match recorded {
            Ok(r) => tracing::info!(
                new_mentions = r.new_mentions.len(),
                new_facts = r.new_facts.len(),
                corroborations = r.corroborations,
                new_candidates = r.new_candidates.len(),
                "Catalog updated from the snapshot"
            ),
            Err(e) => tracing::warn!(error = %e, snapshot_id, "Catalog analysis failed"),
        }
        let facts = crate::sources::structured_facts(obs.kind, &obs.meta);
        if facts.is_empty() {
            return;
        }
        let catalog = match self.store.load_catalog(&[FactStatus::Accepted]).await {
            Ok(c) => c,
            Err(e) => return tracing::warn!(error = %e, "Cannot load the catalog for structured facts"),
        };
        // Building the matcher is CPU work (~9 ms for 5,000 aliases): off the
        // async threads, like the article analysis.
        let kind = source.kind;
        let resolved = blocking(move || {
            let matcher = Matcher::new(&catalog).map_err(|e| e.to_string())?;
            Ok::<_, String>(
                facts
                    .iter()
                    .filter_map(|f| {
                        let (entity, attribute, value) = structured::resolve(&matcher, &f.subject, &f.field, &f.value)?;
                        Some(StructuredFact {
                            entity,
                            attribute,
                            value,
                            raw: f.value.clone(),
                            quote: format!("{}: {} = {}", f.subject, f.field, f.value),
                            extractor: format!("{kind}:{}", f.field),
                        })
                    })
                    .collect::<Vec<_>>(),
            )
        })
        .await
        .and_then(|r| r);
        let resolved = match resolved {
            Ok(r) => r,
            Err(e) => return tracing::warn!(error = %e, "Cannot resolve structured facts"),
        };
        if resolved.is_empty() {
            return;
        }
        match self.store.record_structured_facts(source.id, Some(snapshot_id), at, &resolved).await {
            Ok(ids) => tracing::info!(accepted = ids.len(), "Catalog accepted facts from a structured source"),
            Err(e) => tracing::warn!(error = %e, "Cannot record structured facts"),
        }
    }
}
