//! The seed file into the database (idempotent), and the database back into
//! a [`Catalog`] for matching and export.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};
use serde::Serialize;

use super::{CatalogStoreError, Ids, stored_key};
use crate::catalog::{
    Alias, Attribute, Catalog, EntityRef, Fact, FactStatus, FactValue, Model, ModelKind, Origin, PartialDate, Seed,
    Term, TermKind, Vendor,
};
use crate::store::Store;
use crate::store::entity::{
    catalog_aliases, catalog_candidates, catalog_fact_evidence, catalog_facts, catalog_models, catalog_terms,
    catalog_vendors,
};

/// What a seed load added (zero everywhere on a reload).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SeedReport {
    pub vendors: u32,
    pub models: u32,
    pub aliases: u32,
    pub terms: u32,
    pub facts: u32,
}

impl Store {
    /// Loads the seed in one transaction. Only what is missing is added:
    /// entities, aliases and facts already present (whatever their review
    /// status) are left untouched, so reviewed facts are never overwritten.
    pub async fn load_catalog_seed(&self, seed: &Seed, now: DateTime<Utc>) -> Result<SeedReport, CatalogStoreError> {
        let txn = self.write_txn().await?;
        let mut report = SeedReport::default();
        let mut ids = Ids::load(&txn).await?;
        let c = &seed.catalog;
        let origin = seed.origin.as_str().to_owned();
        // A provisional entity the file now names is adopted: it becomes
        // the file's entry (its mentions and evidence stay).
        let provisional_models: HashSet<String> = catalog_models::Entity::find()
            .filter(catalog_models::Column::Provisional.eq(true))
            .all(&txn)
            .await?
            .into_iter()
            .map(|m| m.name)
            .collect();
        for v in &c.vendors {
            let e = EntityRef::vendor(&v.name);
            if ids.get(&e).is_none() {
                let row = catalog_vendors::ActiveModel {
                    name: Set(v.name.clone()),
                    country: Set(v.country.clone()),
                    created_at: Set(now),
                    origin: Set(origin.clone()),
                    provisional: Set(false),
                    evidence_url: Set(v.evidence_url.clone()),
                    ..Default::default()
                }
                .insert(&txn)
                .await?;
                ids.insert(&e, row.id);
                report.vendors += 1;
            }
        }
        for m in &c.models {
            let e = EntityRef::model(&m.name);
            let vendor_id = m.vendor.as_ref().and_then(|v| ids.get(&EntityRef::vendor(v)));
            let mut row = catalog_models::ActiveModel {
                name: Set(m.name.clone()),
                vendor_id: Set(vendor_id),
                kind: Set(m.kind.as_str().to_owned()),
                family: Set(m.family.clone()),
                version: Set(m.version.clone()),
                retired: Set(m.retired),
                created_at: Set(now),
                origin: Set(origin.clone()),
                provisional: Set(false),
                evidence_url: Set(m.evidence_url.clone()),
                ..Default::default()
            };
            match ids.get(&e) {
                None => {
                    let row = row.insert(&txn).await?;
                    ids.insert(&e, row.id);
                    report.models += 1;
                }
                Some(id) if provisional_models.contains(&m.name) => {
                    row.id = Set(id);
                    row.created_at = sea_orm::ActiveValue::NotSet;
                    row.update(&txn).await?;
                    report.models += 1;
                }
                Some(_) => {}
            }
        }
        let mut have: HashSet<(String, i64, String)> = catalog_aliases::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .map(|a| (a.entity_kind, a.entity_id, a.alias))
            .collect();
        let entities = c
            .vendors
            .iter()
            .map(|v| (EntityRef::vendor(&v.name), &v.aliases))
            .chain(c.models.iter().map(|m| (EntityRef::model(&m.name), &m.aliases)))
            .chain(seed.extra_aliases.iter().map(|x| (x.entity.clone(), &x.aliases)));
        for (e, aliases) in entities {
            let Some(id) = ids.get(&e) else { continue };
            for a in aliases {
                if have.insert((e.kind.as_str().to_owned(), id, a.text.clone())) {
                    catalog_aliases::ActiveModel {
                        entity_kind: Set(e.kind.as_str().to_owned()),
                        entity_id: Set(id),
                        alias: Set(a.text.clone()),
                        case_sensitive: Set(a.case_sensitive),
                        ambiguous: Set(a.ambiguous),
                        ..Default::default()
                    }
                    .insert(&txn)
                    .await?;
                    report.aliases += 1;
                }
            }
        }
        let terms: HashSet<(String, String)> =
            catalog_terms::Entity::find().all(&txn).await?.into_iter().map(|t| (t.kind, t.name)).collect();
        for t in &c.terms {
            if terms.contains(&(t.kind.as_str().to_owned(), t.name.clone())) {
                continue;
            }
            catalog_terms::ActiveModel {
                kind: Set(t.kind.as_str().to_owned()),
                name: Set(t.name.clone()),
                vendor_id: Set(t.vendor.as_ref().and_then(|v| ids.get(&EntityRef::vendor(v)))),
                aliases: Set(serde_json::to_string(&t.aliases).unwrap_or_else(|_| "[]".into())),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            report.terms += 1;
        }
        // Aliases the seed marks as everyday words: flag existing rows too,
        // so a database seeded before the flag existed picks it up.
        let ambiguous: Vec<String> = c
            .vendors
            .iter()
            .flat_map(|v| &v.aliases)
            .chain(c.models.iter().flat_map(|m| &m.aliases))
            .chain(seed.extra_aliases.iter().flat_map(|x| &x.aliases))
            .filter(|a| a.ambiguous)
            .map(|a| a.text.clone())
            .collect();
        if !ambiguous.is_empty() {
            catalog_aliases::Entity::update_many()
                .col_expr(catalog_aliases::Column::Ambiguous, sea_orm::sea_query::Expr::value(true))
                .filter(catalog_aliases::Column::Alias.is_in(ambiguous))
                .exec(&txn)
                .await?;
        }
        let facts: HashSet<(String, i64, String, String)> = catalog_facts::Entity::find()
            .all(&txn)
            .await?
            .into_iter()
            .map(|f| (f.entity_kind, f.entity_id, f.attribute, f.value_key))
            .collect();
        let observed_at = seed_date(&seed.document.observed_at).unwrap_or(now);
        for f in &c.facts {
            let Some(id) = ids.get(&f.entity) else { continue };
            let key = stored_key(&f.value);
            let k = (f.entity.kind.as_str().to_owned(), id, f.attribute.as_str().to_owned(), key.clone());
            if facts.contains(&k) {
                continue;
            }
            let row = fact_row(&f.entity, id, f.attribute, &f.value, &f.raw, f.as_of, FactStatus::Accepted, now)
                .insert(&txn)
                .await?;
            catalog_fact_evidence::ActiveModel {
                fact_id: Set(row.id),
                source_id: Set(None),
                source_name: Set(Some(seed.document.name.clone())),
                snapshot_id: Set(None),
                quote: Set(f.evidence.clone().unwrap_or_else(|| f.raw.clone())),
                extractor: Set("seed".to_owned()),
                confidence: Set(1.0),
                observed_at: Set(observed_at),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
            report.facts += 1;
        }
        if report != SeedReport::default() {
            super::revision::bump(&txn).await?;
        }
        txn.commit().await?;
        self.catalog_edited();
        Ok(report)
    }

    /// The catalog as held now: every entity, alias and term, and the facts
    /// with one of `statuses` (export: accepted only) with their first quote.
    pub async fn load_catalog(&self, statuses: &[FactStatus]) -> Result<Catalog, CatalogStoreError> {
        let db = self.db();
        let vendors = catalog_vendors::Entity::find().order_by_asc(catalog_vendors::Column::Id).all(db).await?;
        let models = catalog_models::Entity::find().order_by_asc(catalog_models::Column::Id).all(db).await?;
        let aliases = catalog_aliases::Entity::find().order_by_asc(catalog_aliases::Column::Id).all(db).await?;
        let terms = catalog_terms::Entity::find().order_by_asc(catalog_terms::Column::Id).all(db).await?;
        let vendor_names: HashMap<i64, String> = vendors.iter().map(|v| (v.id, v.name.clone())).collect();
        let model_names: HashMap<i64, String> = models.iter().map(|m| (m.id, m.name.clone())).collect();
        let mut alias_map: HashMap<(String, i64), Vec<Alias>> = HashMap::new();
        for a in aliases {
            alias_map.entry((a.entity_kind, a.entity_id)).or_default().push(Alias {
                text: a.alias,
                case_sensitive: a.case_sensitive,
                ambiguous: a.ambiguous,
            });
        }
        let mut catalog = Catalog::default();
        for v in vendors {
            let aliases = alias_map.remove(&("vendor".to_owned(), v.id)).unwrap_or_default();
            let origin = Origin::parse(&v.origin)
                .ok_or_else(|| CatalogStoreError::corrupt(format!("vendor #{}: origin {:?}", v.id, v.origin)))?;
            catalog.vendors.push(Vendor {
                name: v.name,
                country: v.country,
                aliases,
                origin,
                provisional: v.provisional,
                evidence_url: v.evidence_url,
            });
        }
        for m in models {
            let aliases = alias_map.remove(&("model".to_owned(), m.id)).unwrap_or_default();
            let kind = ModelKind::parse(&m.kind)
                .ok_or_else(|| CatalogStoreError::corrupt(format!("model #{}: kind {:?}", m.id, m.kind)))?;
            catalog.models.push(Model {
                name: m.name,
                vendor: m.vendor_id.and_then(|id| vendor_names.get(&id).cloned()),
                kind,
                family: m.family,
                version: m.version,
                retired: m.retired,
                aliases,
                origin: Origin::parse(&m.origin)
                    .ok_or_else(|| CatalogStoreError::corrupt(format!("model #{}: origin {:?}", m.id, m.origin)))?,
                provisional: m.provisional,
                evidence_url: m.evidence_url,
            });
        }
        catalog.rejected = catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Status.eq(super::CANDIDATE_REJECTED))
            .order_by_asc(catalog_candidates::Column::Id)
            .all(db)
            .await?
            .into_iter()
            .map(|c| c.name)
            .collect();
        for t in terms {
            let Some(kind) = TermKind::parse(&t.kind) else { continue };
            catalog.terms.push(Term {
                kind,
                name: t.name,
                vendor: t.vendor_id.and_then(|id| vendor_names.get(&id).cloned()),
                aliases: serde_json::from_str(&t.aliases).unwrap_or_default(),
            });
        }
        let status_names: Vec<&str> = statuses.iter().map(|s| s.as_str()).collect();
        let facts = catalog_facts::Entity::find()
            .filter(catalog_facts::Column::Status.is_in(status_names))
            .order_by_asc(catalog_facts::Column::Id)
            .all(db)
            .await?;
        let ids: Vec<i64> = facts.iter().map(|f| f.id).collect();
        let mut quotes: HashMap<i64, String> = HashMap::new();
        for chunk in ids.chunks(500) {
            let rows = catalog_fact_evidence::Entity::find()
                .filter(catalog_fact_evidence::Column::FactId.is_in(chunk.to_vec()))
                .order_by_asc(catalog_fact_evidence::Column::Id)
                .all(db)
                .await?;
            for e in rows {
                quotes.entry(e.fact_id).or_insert(e.quote);
            }
        }
        for f in facts {
            let entity = match f.entity_kind.as_str() {
                "vendor" => vendor_names.get(&f.entity_id).map(EntityRef::vendor),
                _ => model_names.get(&f.entity_id).map(EntityRef::model),
            };
            let Some(entity) = entity else { continue };
            catalog.facts.push(fact_from_row(entity, &f, quotes.remove(&f.id))?);
        }
        Ok(catalog)
    }
}

/// `2023-4-1` (the seed's document date) as midnight UTC.
fn seed_date(s: &str) -> Option<DateTime<Utc>> {
    let rules = crate::catalog::rules::DateRules::new().ok()?;
    let d = rules.parse_value(s)?;
    Some(d.date.and_time(NaiveTime::MIN).and_utc())
}

#[allow(clippy::too_many_arguments)]
pub(super) fn fact_row(
    entity: &EntityRef,
    entity_id: i64,
    attribute: Attribute,
    value: &FactValue,
    raw: &str,
    as_of: Option<PartialDate>,
    status: FactStatus,
    now: DateTime<Utc>,
) -> catalog_facts::ActiveModel {
    catalog_facts::ActiveModel {
        entity_kind: Set(entity.kind.as_str().to_owned()),
        entity_id: Set(entity_id),
        attribute: Set(attribute.as_str().to_owned()),
        value_key: Set(stored_key(value)),
        value: Set(serde_json::to_string(value).unwrap_or_default()),
        raw: Set(raw.to_owned()),
        unit: Set(value.unit().map(str::to_owned)),
        date_precision: Set(value.date_precision().map(|p| p.as_str().to_owned())),
        as_of: Set(as_of.and_then(|d| serde_json::to_string(&d).ok())),
        status: Set(status.as_str().to_owned()),
        created_at: Set(now),
        decided_at: Set((status == FactStatus::Accepted).then_some(now)),
        ..Default::default()
    }
}

pub(super) fn fact_from_row(
    entity: EntityRef,
    f: &catalog_facts::Model,
    evidence: Option<String>,
) -> Result<Fact, CatalogStoreError> {
    let attribute = Attribute::parse(&f.attribute)
        .ok_or_else(|| CatalogStoreError::corrupt(format!("fact #{}: attribute {:?}", f.id, f.attribute)))?;
    let value: FactValue = serde_json::from_str(&f.value)
        .map_err(|e| CatalogStoreError::corrupt(format!("fact #{}: value: {e}", f.id)))?;
    let as_of = f.as_of.as_deref().and_then(|s| serde_json::from_str(s).ok());
    Ok(Fact { entity, attribute, value, raw: f.raw.clone(), as_of, evidence })
}
