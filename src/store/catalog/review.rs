//! The review side: lists, one entity with its evidence, decisions and
//! candidates. Edits live in `edit`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Serialize;

use super::record::set_status;
use super::{CatalogStoreError, Ids, entity_by_id, resolve};
use crate::catalog::{EntityKind, EntityRef, FactStatus, FactValue, ModelKind};
use crate::store::Store;
use crate::store::entity::{
    catalog_aliases, catalog_candidate_sightings, catalog_candidates, catalog_fact_evidence, catalog_facts,
    catalog_mentions, catalog_models, catalog_vendors, sources,
};

#[derive(Debug, Clone, Serialize)]
pub struct VendorRow {
    pub id: i64,
    pub name: String,
    pub country: Option<String>,
    pub aliases: Vec<String>,
    pub models: Vec<String>,
    /// `document`, `reference` or `observed`.
    pub origin: String,
    pub provisional: bool,
    pub evidence_url: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelRow {
    pub id: i64,
    pub name: String,
    pub vendor: Option<String>,
    pub kind: String,
    pub family: Option<String>,
    pub version: Option<String>,
    pub retired: bool,
    pub aliases: Vec<String>,
    /// `document`, `reference` or `observed`.
    pub origin: String,
    /// Created from sightings, awaiting review (`catalog candidates`).
    pub provisional: bool,
    pub evidence_url: Option<String>,
    /// For a family, its versions (models whose family is this name).
    pub versions: Vec<String>,
}

/// `catalog mentions` JSON: `entity_kind, name, source_id, url, first_seen_at` (+ more).
#[derive(Debug, Clone, Serialize)]
pub struct MentionRow {
    pub entity_kind: EntityKind,
    pub name: String,
    pub source_id: i64,
    pub url: String,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub first_snapshot_id: i64,
    pub last_snapshot_id: i64,
    pub snapshot_count: i32,
    pub last_count: i32,
}

#[derive(Debug, Clone, Serialize)]
pub struct EvidenceRow {
    pub source_id: Option<i64>,
    pub url: Option<String>,
    pub source_name: Option<String>,
    pub snapshot_id: Option<i64>,
    pub quote: String,
    pub extractor: String,
    pub confidence: f64,
    pub observed_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FactRow {
    pub id: i64,
    pub entity_kind: EntityKind,
    pub entity: String,
    pub attribute: String,
    /// Display form (`1750亿`, `2023-3`).
    pub value: String,
    pub value_key: String,
    pub raw: String,
    pub unit: Option<String>,
    pub date_precision: Option<String>,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub evidence: Vec<EvidenceRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct EntityDetail {
    pub entity_kind: EntityKind,
    pub name: String,
    pub aliases: Vec<String>,
    pub vendor: Option<String>,
    pub model_kind: Option<String>,
    pub facts: Vec<FactRow>,
    pub mentions: Vec<MentionRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateSource {
    pub source_id: i64,
    pub url: String,
    pub sentence: String,
    pub seen_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CandidateRow {
    pub id: i64,
    pub name: String,
    pub count: i32,
    /// `open`, or `provisional` for an entity created from sightings.
    pub status: String,
    /// For a provisional entity: `model` or `vendor`, and its family.
    pub entity_kind: Option<EntityKind>,
    pub family: Option<String>,
    pub first_seen_at: DateTime<Utc>,
    pub last_seen_at: DateTime<Utc>,
    pub sources: Vec<CandidateSource>,
}

#[derive(Debug, Clone)]
pub struct NewModel {
    pub name: String,
    pub vendor: Option<String>,
    pub kind: ModelKind,
    pub family: Option<String>,
    pub version: Option<String>,
    pub aliases: Vec<String>,
}

pub(super) async fn aliases_of(
    db: &impl ConnectionTrait,
) -> Result<HashMap<(String, i64), Vec<String>>, CatalogStoreError> {
    let mut out: HashMap<(String, i64), Vec<String>> = HashMap::new();
    for a in catalog_aliases::Entity::find().order_by_asc(catalog_aliases::Column::Id).all(db).await? {
        out.entry((a.entity_kind, a.entity_id)).or_default().push(a.alias);
    }
    Ok(out)
}

async fn urls(db: &impl ConnectionTrait) -> Result<HashMap<i64, String>, CatalogStoreError> {
    Ok(sources::Entity::find().all(db).await?.into_iter().map(|s| (s.id, s.url)).collect())
}

impl Store {
    pub async fn catalog_vendors(&self) -> Result<Vec<VendorRow>, CatalogStoreError> {
        let db = self.db();
        let aliases = aliases_of(db).await?;
        let models = catalog_models::Entity::find().order_by_asc(catalog_models::Column::Id).all(db).await?;
        let rows = catalog_vendors::Entity::find().order_by_asc(catalog_vendors::Column::Id).all(db).await?;
        Ok(rows
            .into_iter()
            .map(|v| VendorRow {
                aliases: aliases.get(&("vendor".into(), v.id)).cloned().unwrap_or_default(),
                models: models.iter().filter(|m| m.vendor_id == Some(v.id)).map(|m| m.name.clone()).collect(),
                id: v.id,
                name: v.name,
                country: v.country,
                origin: v.origin,
                provisional: v.provisional,
                evidence_url: v.evidence_url,
            })
            .collect())
    }

    pub async fn catalog_models(&self) -> Result<Vec<ModelRow>, CatalogStoreError> {
        let db = self.db();
        let aliases = aliases_of(db).await?;
        let vendors: HashMap<i64, String> =
            catalog_vendors::Entity::find().all(db).await?.into_iter().map(|v| (v.id, v.name)).collect();
        let rows = catalog_models::Entity::find().order_by_asc(catalog_models::Column::Id).all(db).await?;
        let mut versions: HashMap<String, Vec<String>> = HashMap::new();
        for m in rows.iter().filter(|m| m.version.is_some()) {
            if let Some(f) = m.family.as_ref().filter(|f| **f != m.name) {
                versions.entry(f.clone()).or_default().push(m.name.clone());
            }
        }
        Ok(rows
            .into_iter()
            .map(|m| ModelRow {
                aliases: aliases.get(&("model".into(), m.id)).cloned().unwrap_or_default(),
                vendor: m.vendor_id.and_then(|id| vendors.get(&id).cloned()),
                versions: versions.remove(&m.name).unwrap_or_default(),
                id: m.id,
                name: m.name,
                kind: m.kind,
                family: m.family,
                version: m.version,
                retired: m.retired,
                origin: m.origin,
                provisional: m.provisional,
                evidence_url: m.evidence_url,
            })
            .collect())
    }

    /// Mentions first seen at or after `since`, oldest first.
    ///
    /// A read of the whole table, sorted: no index holds the first
    /// sightings, which every new page would write ~40 entries to for this
    /// weekly question (`m20261212_010000_unread_indexes`).
    pub async fn catalog_mentions(
        &self,
        since: Option<DateTime<Utc>>,
        entity: Option<&EntityRef>,
    ) -> Result<Vec<MentionRow>, CatalogStoreError> {
        let db = self.db();
        let mut q = catalog_mentions::Entity::find();
        if let Some(since) = since {
            q = q.filter(catalog_mentions::Column::FirstSeenAt.gte(since));
        }
        if let Some(e) = entity {
            let ids = Ids::load(db).await?;
            let id = ids.get(e).unwrap_or(-1);
            q = q
                .filter(catalog_mentions::Column::EntityKind.eq(e.kind.as_str()))
                .filter(catalog_mentions::Column::EntityId.eq(id));
        }
        let rows = q
            .order_by_asc(catalog_mentions::Column::FirstSeenAt)
            .order_by_asc(catalog_mentions::Column::Id)
            .all(db)
            .await?;
        let urls = urls(db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for m in rows {
            let e = entity_by_id(db, &m.entity_kind, m.entity_id).await?;
            out.push(MentionRow {
                entity_kind: e.kind,
                name: e.name,
                url: urls.get(&m.source_id).cloned().unwrap_or_default(),
                source_id: m.source_id,
                first_seen_at: m.first_seen_at,
                last_seen_at: m.last_seen_at,
                first_snapshot_id: m.first_snapshot_id,
                last_snapshot_id: m.last_snapshot_id,
                snapshot_count: m.snapshot_count,
                last_count: m.last_count,
            })
        }
        Ok(out)
    }

    /// Facts (optionally only proposed ones, or one entity's), oldest first,
    /// each with its evidence.
    pub async fn catalog_facts(
        &self,
        pending_only: bool,
        entity: Option<&EntityRef>,
    ) -> Result<Vec<FactRow>, CatalogStoreError> {
        let db = self.db();
        let mut q = catalog_facts::Entity::find();
        if pending_only {
            q = q.filter(catalog_facts::Column::Status.eq(FactStatus::Proposed.as_str()));
        }
        if let Some(e) = entity {
            let id = Ids::load(db).await?.get(e).unwrap_or(-1);
            q = q
                .filter(catalog_facts::Column::EntityKind.eq(e.kind.as_str()))
                .filter(catalog_facts::Column::EntityId.eq(id));
        }
        let facts = q.order_by_asc(catalog_facts::Column::Id).all(db).await?;
        let urls = urls(db).await?;
        let mut out = Vec::with_capacity(facts.len());
        for f in facts {
            let e = entity_by_id(db, &f.entity_kind, f.entity_id).await?;
            let evidence = catalog_fact_evidence::Entity::find()
                .filter(catalog_fact_evidence::Column::FactId.eq(f.id))
                .order_by_asc(catalog_fact_evidence::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .map(|x| EvidenceRow {
                    url: x.source_id.and_then(|id| urls.get(&id).cloned()),
                    source_id: x.source_id,
                    source_name: x.source_name,
                    snapshot_id: x.snapshot_id,
                    quote: x.quote,
                    extractor: x.extractor,
                    confidence: x.confidence,
                    observed_at: x.observed_at,
                })
                .collect();
            let value = serde_json::from_str::<FactValue>(&f.value).map(|v| v.display()).unwrap_or(f.raw.clone());
            out.push(FactRow {
                id: f.id,
                entity_kind: e.kind,
                entity: e.name,
                attribute: f.attribute,
                value,
                value_key: f.value_key,
                raw: f.raw,
                unit: f.unit,
                date_precision: f.date_precision,
                status: f.status,
                created_at: f.created_at,
                evidence,
            });
        }
        Ok(out)
    }

    /// One entity by name or alias, with every fact and its evidence.
    pub async fn catalog_show(&self, name: &str) -> Result<EntityDetail, CatalogStoreError> {
        let db = self.db();
        let e = resolve(db, name).await?;
        let id = Ids::load(db).await?.get(&e).unwrap_or(-1);
        let aliases = aliases_of(db).await?.remove(&(e.kind.as_str().to_owned(), id)).unwrap_or_default();
        let (vendor, model_kind) = match e.kind {
            EntityKind::Model => {
                let m = catalog_models::Entity::find_by_id(id).one(db).await?;
                let vendor = match m.as_ref().and_then(|m| m.vendor_id) {
                    Some(v) => catalog_vendors::Entity::find_by_id(v).one(db).await?.map(|v| v.name),
                    None => None,
                };
                (vendor, m.map(|m| m.kind))
            }
            EntityKind::Vendor => (None, None),
        };
        let facts = self.catalog_facts(false, Some(&e)).await?;
        let mentions = self.catalog_mentions(None, Some(&e)).await?;
        Ok(EntityDetail { entity_kind: e.kind, name: e.name, aliases, vendor, model_kind, facts, mentions })
    }

    /// Accepts or rejects a fact. Only the status changes; the value and its
    /// evidence stay as observed.
    pub async fn catalog_decide(
        &self,
        fact_id: i64,
        status: FactStatus,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogStoreError> {
        let txn = self.write_txn().await?;
        if catalog_facts::Entity::find_by_id(fact_id).one(&txn).await?.is_none() {
            return Err(CatalogStoreError::NotFound(format!("no fact #{fact_id}")));
        }
        set_status(&txn, &[fact_id], status, at).await?;
        // Accepted chips and frameworks are known terms of the matcher.
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(())
    }

    /// What awaits review: provisional entities (created from sightings,
    /// with the sentences that named them as evidence), then the candidates
    /// still open, most seen first.
    pub async fn catalog_candidates(&self) -> Result<Vec<CandidateRow>, CatalogStoreError> {
        let db = self.db();
        let provisional_models = catalog_models::Entity::find()
            .filter(catalog_models::Column::Provisional.eq(true))
            .order_by_asc(catalog_models::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|m| (EntityKind::Model, m.name, m.family, m.created_at));
        let provisional_vendors = catalog_vendors::Entity::find()
            .filter(catalog_vendors::Column::Provisional.eq(true))
            .order_by_asc(catalog_vendors::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|v| (EntityKind::Vendor, v.name, None, v.created_at));
        let provisional: Vec<_> = provisional_models.chain(provisional_vendors).collect();
        let keys: Vec<String> =
            provisional.iter().map(|p| super::stored_candidate_key(&crate::catalog::candidate_key(&p.1))).collect();
        let promoted: HashMap<String, catalog_candidates::Model> = catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Key.is_in(keys))
            .all(db)
            .await?
            .into_iter()
            .map(|c| (c.key.clone(), c))
            .collect();
        let mut rows = Vec::new();
        for (kind, name, family, created_at) in provisional {
            let key = super::stored_candidate_key(&crate::catalog::candidate_key(&name));
            let c = promoted.get(&key).cloned().unwrap_or(catalog_candidates::Model {
                id: 0,
                key,
                name: name.clone(),
                count: 0,
                status: String::new(),
                first_seen_at: created_at,
                last_seen_at: created_at,
            });
            rows.push((c, "provisional".to_owned(), Some(kind), family, name));
        }
        let open = catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Status.eq(super::CANDIDATE_OPEN))
            .order_by_desc(catalog_candidates::Column::Count)
            .order_by_asc(catalog_candidates::Column::Id)
            .all(db)
            .await?;
        rows.extend(open.into_iter().map(|c| {
            let name = c.name.clone();
            let status = c.status.clone();
            (c, status, None, None, name)
        }));
        let urls = urls(db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for (c, status, entity_kind, family, name) in rows {
            let sources = catalog_candidate_sightings::Entity::find()
                .filter(catalog_candidate_sightings::Column::CandidateId.eq(c.id))
                .order_by_asc(catalog_candidate_sightings::Column::Id)
                .all(db)
                .await?
                .into_iter()
                .map(|s| CandidateSource {
                    url: urls.get(&s.source_id).cloned().unwrap_or_default(),
                    source_id: s.source_id,
                    sentence: s.sentence,
                    seen_at: s.seen_at,
                })
                .collect();
            out.push(CandidateRow {
                id: c.id,
                name,
                count: c.count,
                status,
                entity_kind,
                family,
                first_seen_at: c.first_seen_at,
                last_seen_at: c.last_seen_at,
                sources,
            });
        }
        Ok(out)
    }
}
