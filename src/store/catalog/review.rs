//! The review side: lists, one entity with its evidence, decisions,
//! additions, merges and candidates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set, TransactionTrait,
};
use serde::Serialize;

use super::record::set_status;
use super::{CatalogStoreError, Ids, entity_by_id, resolve};
use crate::catalog::{EntityKind, EntityRef, FactStatus, FactValue, ModelKind};
use crate::store::Store;
use crate::store::entity::{
    catalog_aliases, catalog_candidate_sightings, catalog_candidates, catalog_fact_evidence, catalog_facts,
    catalog_mentions, catalog_models, catalog_source_links, catalog_vendors, sources,
};

#[derive(Debug, Clone, Serialize)]
pub struct VendorRow {
    pub id: i64,
    pub name: String,
    pub country: Option<String>,
    pub aliases: Vec<String>,
    pub models: Vec<String>,
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
    pub status: String,
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

async fn aliases_of(db: &impl ConnectionTrait) -> Result<HashMap<(String, i64), Vec<String>>, CatalogStoreError> {
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
            })
            .collect())
    }

    pub async fn catalog_models(&self) -> Result<Vec<ModelRow>, CatalogStoreError> {
        let db = self.db();
        let aliases = aliases_of(db).await?;
        let vendors: HashMap<i64, String> =
            catalog_vendors::Entity::find().all(db).await?.into_iter().map(|v| (v.id, v.name)).collect();
        let rows = catalog_models::Entity::find().order_by_asc(catalog_models::Column::Id).all(db).await?;
        Ok(rows
            .into_iter()
            .map(|m| ModelRow {
                aliases: aliases.get(&("model".into(), m.id)).cloned().unwrap_or_default(),
                vendor: m.vendor_id.and_then(|id| vendors.get(&id).cloned()),
                id: m.id,
                name: m.name,
                kind: m.kind,
                family: m.family,
                version: m.version,
                retired: m.retired,
            })
            .collect())
    }

    /// Mentions first seen at or after `since`, oldest first.
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
        let db = self.db();
        if catalog_facts::Entity::find_by_id(fact_id).one(db).await?.is_none() {
            return Err(CatalogStoreError::NotFound(format!("no fact #{fact_id}")));
        }
        set_status(db, &[fact_id], status, at).await
    }

    pub async fn catalog_add_vendor(
        &self,
        name: &str,
        country: Option<&str>,
        aliases: &[String],
        at: DateTime<Utc>,
    ) -> Result<i64, CatalogStoreError> {
        let txn = self.db().begin().await?;
        if resolve(&txn, name).await.is_ok() {
            return Err(CatalogStoreError::Invalid(format!("{name:?} already names a catalog entity")));
        }
        let row = catalog_vendors::ActiveModel {
            name: Set(name.to_owned()),
            country: Set(country.map(str::to_owned)),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for a in std::iter::once(name.to_owned()).chain(aliases.iter().cloned()) {
            insert_alias(&txn, EntityKind::Vendor, row.id, &a, false).await?;
        }
        txn.commit().await?;
        Ok(row.id)
    }

    pub async fn catalog_add_model(&self, m: &NewModel, at: DateTime<Utc>) -> Result<i64, CatalogStoreError> {
        let txn = self.db().begin().await?;
        if resolve(&txn, &m.name).await.is_ok() {
            return Err(CatalogStoreError::Invalid(format!("{:?} already names a catalog entity", m.name)));
        }
        let vendor_id = match &m.vendor {
            Some(v) => match resolve(&txn, v).await? {
                e if e.kind == EntityKind::Vendor => Ids::load(&txn).await?.get(&e),
                e => return Err(CatalogStoreError::Invalid(format!("{v:?} is {e}, not a vendor"))),
            },
            None => None,
        };
        let row = catalog_models::ActiveModel {
            name: Set(m.name.clone()),
            vendor_id: Set(vendor_id),
            kind: Set(m.kind.as_str().to_owned()),
            family: Set(m.family.clone()),
            version: Set(m.version.clone()),
            retired: Set(false),
            created_at: Set(at),
            ..Default::default()
        }
        .insert(&txn)
        .await?;
        for a in std::iter::once(m.name.clone()).chain(m.aliases.iter().cloned()) {
            insert_alias(&txn, EntityKind::Model, row.id, &a, false).await?;
        }
        // A candidate of that name is now known.
        let key = crate::catalog::candidate_key(&m.name);
        catalog_candidates::Entity::update_many()
            .col_expr(catalog_candidates::Column::Status, Expr::value("added"))
            .filter(catalog_candidates::Column::Key.eq(key))
            .exec(&txn)
            .await?;
        txn.commit().await?;
        Ok(row.id)
    }

    pub async fn catalog_add_alias(
        &self,
        name: &str,
        alias: &str,
        case_sensitive: bool,
    ) -> Result<EntityRef, CatalogStoreError> {
        let txn = self.db().begin().await?;
        let e = resolve(&txn, name).await?;
        if let Ok(other) = resolve(&txn, alias).await
            && other != e
        {
            return Err(CatalogStoreError::Invalid(format!("alias {alias:?} already names {other}")));
        }
        let id = Ids::load(&txn).await?.get(&e).unwrap_or(-1);
        insert_alias(&txn, e.kind, id, alias, case_sensitive).await?;
        txn.commit().await?;
        Ok(e)
    }

    /// Merges `from` into `into` (same kind): aliases (its name included),
    /// facts, mentions, links and a vendor's models move over; `from` is
    /// removed. A fact both hold keeps `into`'s row and gains `from`'s evidence.
    pub async fn catalog_merge(&self, from: &str, into: &str) -> Result<EntityRef, CatalogStoreError> {
        let txn = self.db().begin().await?;
        let a = resolve(&txn, from).await?;
        let b = resolve(&txn, into).await?;
        if a == b {
            return Err(CatalogStoreError::Invalid(format!("{from:?} and {into:?} are the same {}", a.kind)));
        }
        if a.kind != b.kind {
            return Err(CatalogStoreError::Invalid(format!("cannot merge {a} into {b}: different kinds")));
        }
        let ids = Ids::load(&txn).await?;
        let (ai, bi) = (ids.get(&a).unwrap_or(-1), ids.get(&b).unwrap_or(-1));
        let kind = a.kind.as_str();
        let b_aliases: Vec<String> = aliases_of(&txn).await?.remove(&(kind.to_owned(), bi)).unwrap_or_default();
        for al in catalog_aliases::Entity::find()
            .filter(catalog_aliases::Column::EntityKind.eq(kind))
            .filter(catalog_aliases::Column::EntityId.eq(ai))
            .all(&txn)
            .await?
        {
            if b_aliases.contains(&al.alias) {
                catalog_aliases::Entity::delete_by_id(al.id).exec(&txn).await?;
            } else {
                let mut al: catalog_aliases::ActiveModel = al.into();
                al.entity_id = Set(bi);
                al.update(&txn).await?;
            }
        }
        if !b_aliases.contains(&a.name) {
            insert_alias(&txn, a.kind, bi, &a.name, false).await?;
        }
        let b_facts: HashMap<(String, String), i64> = catalog_facts::Entity::find()
            .filter(catalog_facts::Column::EntityKind.eq(kind))
            .filter(catalog_facts::Column::EntityId.eq(bi))
            .all(&txn)
            .await?
            .into_iter()
            .map(|f| ((f.attribute, f.value_key), f.id))
            .collect();
        for f in catalog_facts::Entity::find()
            .filter(catalog_facts::Column::EntityKind.eq(kind))
            .filter(catalog_facts::Column::EntityId.eq(ai))
            .all(&txn)
            .await?
        {
            match b_facts.get(&(f.attribute.clone(), f.value_key.clone())) {
                Some(&target) => {
                    catalog_fact_evidence::Entity::update_many()
                        .col_expr(catalog_fact_evidence::Column::FactId, Expr::value(target))
                        .filter(catalog_fact_evidence::Column::FactId.eq(f.id))
                        .exec(&txn)
                        .await?;
                    catalog_facts::Entity::delete_by_id(f.id).exec(&txn).await?;
                }
                None => {
                    let mut f: catalog_facts::ActiveModel = f.into();
                    f.entity_id = Set(bi);
                    f.update(&txn).await?;
                }
            }
        }
        let b_sources: HashMap<i64, catalog_mentions::Model> = catalog_mentions::Entity::find()
            .filter(catalog_mentions::Column::EntityKind.eq(kind))
            .filter(catalog_mentions::Column::EntityId.eq(bi))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| (m.source_id, m))
            .collect();
        for m in catalog_mentions::Entity::find()
            .filter(catalog_mentions::Column::EntityKind.eq(kind))
            .filter(catalog_mentions::Column::EntityId.eq(ai))
            .all(&txn)
            .await?
        {
            match b_sources.get(&m.source_id) {
                Some(keep) => {
                    let mut k: catalog_mentions::ActiveModel = keep.clone().into();
                    if m.first_seen_at < keep.first_seen_at {
                        k.first_seen_at = Set(m.first_seen_at);
                        k.first_snapshot_id = Set(m.first_snapshot_id);
                    }
                    k.snapshot_count = Set(keep.snapshot_count.max(m.snapshot_count));
                    k.update(&txn).await?;
                    catalog_mentions::Entity::delete_by_id(m.id).exec(&txn).await?;
                }
                None => {
                    let mut m: catalog_mentions::ActiveModel = m.into();
                    m.entity_id = Set(bi);
                    m.update(&txn).await?;
                }
            }
        }
        catalog_source_links::Entity::delete_many()
            .filter(catalog_source_links::Column::EntityKind.eq(kind))
            .filter(catalog_source_links::Column::EntityId.eq(ai))
            .exec(&txn)
            .await?;
        match a.kind {
            EntityKind::Vendor => {
                catalog_models::Entity::update_many()
                    .col_expr(catalog_models::Column::VendorId, Expr::value(bi))
                    .filter(catalog_models::Column::VendorId.eq(ai))
                    .exec(&txn)
                    .await?;
                catalog_vendors::Entity::delete_by_id(ai).exec(&txn).await?;
            }
            EntityKind::Model => {
                catalog_models::Entity::delete_by_id(ai).exec(&txn).await?;
            }
        }
        txn.commit().await?;
        Ok(b)
    }

    /// Unknown-model candidates still open, most seen first, with where.
    pub async fn catalog_candidates(&self) -> Result<Vec<CandidateRow>, CatalogStoreError> {
        let db = self.db();
        let rows = catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Status.eq("open"))
            .order_by_desc(catalog_candidates::Column::Count)
            .order_by_asc(catalog_candidates::Column::Id)
            .all(db)
            .await?;
        let urls = urls(db).await?;
        let mut out = Vec::with_capacity(rows.len());
        for c in rows {
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
                name: c.name,
                count: c.count,
                status: c.status,
                first_seen_at: c.first_seen_at,
                last_seen_at: c.last_seen_at,
                sources,
            });
        }
        Ok(out)
    }
}

async fn insert_alias(
    db: &impl ConnectionTrait,
    kind: EntityKind,
    id: i64,
    alias: &str,
    case_sensitive: bool,
) -> Result<(), CatalogStoreError> {
    let alias = alias.trim();
    if alias.is_empty() {
        return Err(CatalogStoreError::Invalid("an alias cannot be empty".into()));
    }
    let exists = catalog_aliases::Entity::find()
        .filter(catalog_aliases::Column::EntityKind.eq(kind.as_str()))
        .filter(catalog_aliases::Column::EntityId.eq(id))
        .filter(catalog_aliases::Column::Alias.eq(alias))
        .one(db)
        .await?;
    if exists.is_none() {
        catalog_aliases::ActiveModel {
            entity_kind: Set(kind.as_str().to_owned()),
            entity_id: Set(id),
            alias: Set(alias.to_owned()),
            case_sensitive: Set(case_sensitive),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
