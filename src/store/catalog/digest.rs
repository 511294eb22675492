//! The catalog's part of the weekly digest: first mentions, facts proposed
//! and candidates seen in a period, as the digest's plain input values.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use super::CatalogStoreError;
use crate::catalog::{EntityKind, FactStatus};
use crate::digest::inputs::{self, CandidateInput, FactInput, MentionInput, SourceRef};
use crate::store::Store;
use crate::store::entity::{catalog_candidate_sightings, catalog_candidates, catalog_facts, sources};
use crate::types::SourceId;

/// The catalog sections' inputs for `[start, end)`.
#[derive(Debug, Clone, Default)]
pub struct CatalogDigestInputs {
    pub new_mentions: Vec<MentionInput>,
    pub proposed_facts: Vec<FactInput>,
    pub candidates: Vec<CandidateInput>,
}

impl Store {
    pub async fn catalog_digest_inputs(
        &self,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
    ) -> Result<CatalogDigestInputs, CatalogStoreError> {
        let db = self.db();
        let refs: HashMap<i64, SourceRef> = sources::Entity::find()
            .all(db)
            .await?
            .into_iter()
            .map(|s| {
                let tags = serde_json::from_str(&s.tags).unwrap_or_default();
                (s.id, SourceRef { id: SourceId(s.id), url: s.url, title: s.title, tags })
            })
            .collect();
        let mut out = CatalogDigestInputs::default();

        let vendors = self.catalog_vendors().await?;
        let vendor_of: HashMap<String, String> =
            vendors.iter().flat_map(|v| v.models.iter().map(move |m| (m.clone(), v.name.clone()))).collect();
        for m in self.catalog_mentions(Some(start), None).await? {
            let Some(source) = refs.get(&m.source_id) else { continue };
            if m.first_seen_at >= end {
                continue;
            }
            let (entity_kind, vendor) = match m.entity_kind {
                EntityKind::Model => (inputs::EntityKind::Model, vendor_of.get(&m.name).cloned()),
                EntityKind::Vendor => (inputs::EntityKind::Vendor, None),
            };
            out.new_mentions.push(MentionInput {
                entity_kind,
                name: m.name,
                vendor,
                source: source.clone(),
                first_seen_at: m.first_seen_at,
            });
        }

        let fresh: Vec<i64> = catalog_facts::Entity::find()
            .filter(catalog_facts::Column::Status.eq(FactStatus::Proposed.as_str()))
            .filter(catalog_facts::Column::CreatedAt.gte(start))
            .filter(catalog_facts::Column::CreatedAt.lt(end))
            .all(db)
            .await?
            .into_iter()
            .map(|f| f.id)
            .collect();
        if !fresh.is_empty() {
            for f in self.catalog_facts(true, None).await?.into_iter().filter(|f| fresh.contains(&f.id)) {
                let Some(ev) = f.evidence.iter().find(|e| e.source_id.is_some()) else { continue };
                let Some(source) = ev.source_id.and_then(|id| refs.get(&id)) else { continue };
                out.proposed_facts.push(FactInput {
                    id: f.id,
                    subject: f.entity,
                    field: f.attribute,
                    value: f.value,
                    quote: ev.quote.clone(),
                    source: source.clone(),
                });
            }
        }

        let sightings = catalog_candidate_sightings::Entity::find()
            .filter(catalog_candidate_sightings::Column::SeenAt.gte(start))
            .filter(catalog_candidate_sightings::Column::SeenAt.lt(end))
            .order_by_asc(catalog_candidate_sightings::Column::Id)
            .all(db)
            .await?;
        let open: HashMap<i64, String> = catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Status.eq("open"))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.id, c.name))
            .collect();
        // One row per candidate: where it was first seen, occurrences summed.
        let mut rows: Vec<CandidateInput> = Vec::new();
        let mut index: HashMap<i64, usize> = HashMap::new();
        for s in sightings {
            let (Some(name), Some(source)) = (open.get(&s.candidate_id), refs.get(&s.source_id)) else { continue };
            let n = u32::try_from(s.count).unwrap_or(0);
            match index.get(&s.candidate_id) {
                Some(&i) => rows[i].occurrences += n,
                None => {
                    index.insert(s.candidate_id, rows.len());
                    rows.push(CandidateInput { name: name.clone(), occurrences: n, source: source.clone() });
                }
            }
        }
        out.candidates = rows;
        Ok(out)
    }
}
