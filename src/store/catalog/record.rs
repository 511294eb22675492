//! What a new snapshot said, and facts from structured sources.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, Set,
    TryInsertResult,
};
use serde::Serialize;

use super::load::fact_row;
use super::{CatalogStoreError, Ids, stored_candidate_key, stored_key};
use crate::catalog::reconcile::{HeldFact, Outcome, reconcile_proposal, reconcile_structured};
use crate::catalog::{Analysis, Attribute, EntityRef, FactStatus, FactValue};
use crate::store::Store;
use crate::store::entity::{
    catalog_candidate_sightings, catalog_candidates, catalog_fact_evidence, catalog_facts, catalog_mentions,
    catalog_source_links,
};
use crate::types::SourceId;

/// What recording one analysis changed: the catalog events of the digest.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RecordedAnalysis {
    /// Entities this source mentions for the first time.
    pub new_mentions: Vec<EntityRef>,
    /// New proposed facts (ids).
    pub new_facts: Vec<i64>,
    /// Observations that matched a value already held (more evidence).
    pub corroborations: u32,
    /// Candidate names seen for the first time anywhere.
    pub new_candidates: Vec<String>,
}

/// A value read from a structured source (GitHub, Hugging Face), accepted
/// automatically with that source as evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct StructuredFact {
    pub entity: EntityRef,
    pub attribute: Attribute,
    pub value: FactValue,
    pub raw: String,
    /// What the source said (e.g. `config.json: num_parameters = 7241732096`).
    pub quote: String,
    /// `github:release`, `huggingface:card`, …
    pub extractor: String,
}

struct Evidence<'a> {
    source: SourceId,
    snapshot: Option<i64>,
    quote: &'a str,
    extractor: &'a str,
    confidence: f64,
    at: DateTime<Utc>,
}

async fn add_evidence(txn: &DatabaseTransaction, fact_id: i64, e: &Evidence<'_>) -> Result<(), CatalogStoreError> {
    catalog_fact_evidence::ActiveModel {
        fact_id: Set(fact_id),
        source_id: Set(Some(e.source.0)),
        source_name: Set(None),
        snapshot_id: Set(e.snapshot),
        quote: Set(e.quote.to_owned()),
        extractor: Set(e.extractor.to_owned()),
        confidence: Set(e.confidence),
        observed_at: Set(e.at),
        ..Default::default()
    }
    .insert(txn)
    .await?;
    Ok(())
}

/// The facts held for (entity, attribute), with the sources behind each.
async fn held(
    db: &impl ConnectionTrait,
    entity: &EntityRef,
    id: i64,
    attribute: Attribute,
) -> Result<Vec<HeldFact>, CatalogStoreError> {
    let facts = catalog_facts::Entity::find()
        .filter(catalog_facts::Column::EntityKind.eq(entity.kind.as_str()))
        .filter(catalog_facts::Column::EntityId.eq(id))
        .filter(catalog_facts::Column::Attribute.eq(attribute.as_str()))
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(facts.len());
    for f in facts {
        let mut source_ids: Vec<i64> = catalog_fact_evidence::Entity::find()
            .filter(catalog_fact_evidence::Column::FactId.eq(f.id))
            .all(db)
            .await?
            .into_iter()
            .filter_map(|e| e.source_id)
            .collect();
        source_ids.sort_unstable();
        source_ids.dedup();
        let status = FactStatus::parse(&f.status)
            .ok_or_else(|| CatalogStoreError::corrupt(format!("fact #{}: status {:?}", f.id, f.status)))?;
        out.push(HeldFact { id: f.id, value_key: f.value_key, status, source_ids });
    }
    Ok(out)
}

impl Store {
    /// Stores what [`crate::catalog::analyse`] found in a new snapshot of
    /// `source`, in one transaction: mentions (one row per entity and
    /// source), proposed facts beside the ones held (never overwriting),
    /// and candidate sightings.
    pub async fn record_catalog_analysis(
        &self,
        source: SourceId,
        snapshot_id: i64,
        at: DateTime<Utc>,
        analysis: &Analysis,
    ) -> Result<RecordedAnalysis, CatalogStoreError> {
        let txn = self.write_txn().await?;
        let ids = Ids::load(&txn).await?;
        let mut out = RecordedAnalysis::default();
        for m in &analysis.mentions {
            let Some(id) = ids.get(&m.entity) else { continue };
            let count = i32::try_from(m.count).unwrap_or(i32::MAX);
            if record_mention(&txn, &m.entity, id, source, snapshot_id, count, at).await? {
                out.new_mentions.push(m.entity.clone());
            }
        }
        for f in &analysis.proposed_facts {
            let Some(id) = ids.get(&f.entity) else { continue };
            let evidence = Evidence {
                source,
                snapshot: Some(snapshot_id),
                quote: &f.sentence,
                extractor: &f.extractor,
                confidence: f64::from(f.confidence),
                at,
            };
            let held = held(&txn, &f.entity, id, f.attribute).await?;
            match reconcile_proposal(&held, &stored_key(&f.value)) {
                Outcome::Corroborates { id: fact_id, .. } => {
                    add_evidence(&txn, fact_id, &evidence).await?;
                    out.corroborations += 1;
                }
                Outcome::New { status, .. } => {
                    let row = fact_row(&f.entity, id, f.attribute, &f.value, &f.raw, None, status, at);
                    let (fact_id, inserted) = insert_fact(&txn, &f.entity, id, f.attribute, &f.value, row).await?;
                    add_evidence(&txn, fact_id, &evidence).await?;
                    if inserted {
                        out.new_facts.push(fact_id);
                    } else {
                        out.corroborations += 1;
                    }
                }
            }
        }
        for c in &analysis.candidates {
            let count = i32::try_from(c.count).unwrap_or(i32::MAX);
            let (candidate_id, inserted) = record_candidate(&txn, &c.key, &c.name, count, at).await?;
            if inserted {
                out.new_candidates.push(c.name.clone());
            }
            catalog_candidate_sightings::ActiveModel {
                candidate_id: Set(candidate_id),
                source_id: Set(source.0),
                snapshot_id: Set(snapshot_id),
                sentence: Set(c.sentence.clone()),
                count: Set(count),
                seen_at: Set(at),
                ..Default::default()
            }
            .insert(&txn)
            .await?;
        }
        txn.commit().await?;
        Ok(out)
    }

    /// Facts from a structured source (GitHub, Hugging Face), accepted
    /// automatically with the source as evidence, in one transaction. A value
    /// the same source gave before is superseded by its new one; values from
    /// elsewhere stay beside it; a rejected value stays rejected. Returns the
    /// ids of the facts now accepted.
    pub async fn record_structured_facts(
        &self,
        source: SourceId,
        snapshot_id: Option<i64>,
        at: DateTime<Utc>,
        facts: &[StructuredFact],
    ) -> Result<Vec<i64>, CatalogStoreError> {
        let txn = self.write_txn().await?;
        let ids = Ids::load(&txn).await?;
        let mut accepted = Vec::new();
        for f in facts {
            let id = ids.get(&f.entity).ok_or_else(|| CatalogStoreError::NotFound(format!("no {}", f.entity)))?;
            let evidence = Evidence {
                source,
                snapshot: snapshot_id,
                quote: &f.quote,
                extractor: &f.extractor,
                confidence: 1.0,
                at,
            };
            let held = held(&txn, &f.entity, id, f.attribute).await?;
            match reconcile_structured(&held, &stored_key(&f.value), source.0) {
                Outcome::Corroborates { id: fact_id, accept } => {
                    add_evidence(&txn, fact_id, &evidence).await?;
                    if accept {
                        set_status(&txn, &[fact_id], FactStatus::Accepted, at).await?;
                    }
                    if accept || held.iter().any(|h| h.id == fact_id && h.status == FactStatus::Accepted) {
                        accepted.push(fact_id);
                    }
                }
                Outcome::New { status, supersedes, .. } => {
                    let row = fact_row(&f.entity, id, f.attribute, &f.value, &f.raw, None, status, at);
                    let (fact_id, _) = insert_fact(&txn, &f.entity, id, f.attribute, &f.value, row).await?;
                    add_evidence(&txn, fact_id, &evidence).await?;
                    set_status(&txn, &supersedes, FactStatus::Superseded, at).await?;
                    accepted.push(fact_id);
                }
            }
        }
        txn.commit().await?;
        Ok(accepted)
    }

    /// The sources measuring an entity's metrics: (source, metric), by source.
    pub async fn catalog_source_links(&self, entity: &EntityRef) -> Result<Vec<(SourceId, String)>, CatalogStoreError> {
        let ids = Ids::load(self.db()).await?;
        let id = ids.get(entity).ok_or_else(|| CatalogStoreError::NotFound(format!("no {entity}")))?;
        let rows = catalog_source_links::Entity::find()
            .filter(catalog_source_links::Column::EntityKind.eq(entity.kind.as_str()))
            .filter(catalog_source_links::Column::EntityId.eq(id))
            .order_by_asc(catalog_source_links::Column::SourceId)
            .order_by_asc(catalog_source_links::Column::Metric)
            .all(self.db())
            .await?;
        Ok(rows.into_iter().map(|l| (SourceId(l.source_id), l.metric)).collect())
    }

    /// Links a source to the entity whose metrics it measures (a repo's
    /// stars, a model card's downloads). Idempotent.
    pub async fn link_catalog_source(
        &self,
        entity: &EntityRef,
        source: SourceId,
        metric: &str,
        at: DateTime<Utc>,
    ) -> Result<(), CatalogStoreError> {
        let ids = Ids::load(self.db()).await?;
        let id = ids.get(entity).ok_or_else(|| CatalogStoreError::NotFound(format!("no {entity}")))?;
        let exists = catalog_source_links::Entity::find()
            .filter(catalog_source_links::Column::EntityKind.eq(entity.kind.as_str()))
            .filter(catalog_source_links::Column::EntityId.eq(id))
            .filter(catalog_source_links::Column::SourceId.eq(source.0))
            .filter(catalog_source_links::Column::Metric.eq(metric))
            .one(self.db())
            .await?;
        if exists.is_none() {
            catalog_source_links::ActiveModel {
                entity_kind: Set(entity.kind.as_str().to_owned()),
                entity_id: Set(id),
                source_id: Set(source.0),
                metric: Set(metric.to_owned()),
                created_at: Set(at),
                ..Default::default()
            }
            .insert(self.db())
            .await?;
        }
        Ok(())
    }
}

// Concurrent checks analyse at once (PostgreSQL runs them in parallel): every
// row behind a unique index is written "insert, or on conflict update in
// place", never "read, then insert if missing", which loses the whole
// transaction to a unique violation or a count to a lost update.

/// Inserts or updates the mention of an entity by a source; true when the
/// source mentions it for the first time.
async fn record_mention(
    txn: &DatabaseTransaction,
    entity: &EntityRef,
    id: i64,
    source: SourceId,
    snapshot_id: i64,
    count: i32,
    at: DateTime<Utc>,
) -> Result<bool, CatalogStoreError> {
    let row = catalog_mentions::ActiveModel {
        entity_kind: Set(entity.kind.as_str().to_owned()),
        entity_id: Set(id),
        source_id: Set(source.0),
        first_snapshot_id: Set(snapshot_id),
        last_snapshot_id: Set(snapshot_id),
        first_seen_at: Set(at),
        last_seen_at: Set(at),
        snapshot_count: Set(1),
        last_count: Set(count),
        ..Default::default()
    };
    let inserted = catalog_mentions::Entity::insert(row)
        .on_conflict_do_nothing_on([
            catalog_mentions::Column::EntityKind,
            catalog_mentions::Column::EntityId,
            catalog_mentions::Column::SourceId,
        ])
        .exec(txn)
        .await?;
    if matches!(inserted, TryInsertResult::Inserted(_)) {
        return Ok(true);
    }
    catalog_mentions::Entity::update_many()
        .col_expr(catalog_mentions::Column::LastSnapshotId, Expr::value(snapshot_id))
        .col_expr(catalog_mentions::Column::LastSeenAt, Expr::value(at))
        .col_expr(catalog_mentions::Column::SnapshotCount, Expr::col(catalog_mentions::Column::SnapshotCount).add(1))
        .col_expr(catalog_mentions::Column::LastCount, Expr::value(count))
        .filter(catalog_mentions::Column::EntityKind.eq(entity.kind.as_str()))
        .filter(catalog_mentions::Column::EntityId.eq(id))
        .filter(catalog_mentions::Column::SourceId.eq(source.0))
        .exec(txn)
        .await?;
    Ok(false)
}

/// Inserts a fact unless another transaction just stored the same value;
/// returns its id and whether this call inserted it.
async fn insert_fact(
    txn: &DatabaseTransaction,
    entity: &EntityRef,
    entity_id: i64,
    attribute: Attribute,
    value: &FactValue,
    row: catalog_facts::ActiveModel,
) -> Result<(i64, bool), CatalogStoreError> {
    let inserted = catalog_facts::Entity::insert(row)
        .on_conflict_do_nothing_on([
            catalog_facts::Column::EntityKind,
            catalog_facts::Column::EntityId,
            catalog_facts::Column::Attribute,
            catalog_facts::Column::ValueKey,
        ])
        .exec(txn)
        .await?;
    if let TryInsertResult::Inserted(r) = inserted {
        return Ok((r.last_insert_id, true));
    }
    let existing = catalog_facts::Entity::find()
        .filter(catalog_facts::Column::EntityKind.eq(entity.kind.as_str()))
        .filter(catalog_facts::Column::EntityId.eq(entity_id))
        .filter(catalog_facts::Column::Attribute.eq(attribute.as_str()))
        .filter(catalog_facts::Column::ValueKey.eq(stored_key(value)))
        .one(txn)
        .await?
        .ok_or_else(|| CatalogStoreError::corrupt("a fact conflicted on insert but cannot be found"))?;
    Ok((existing.id, false))
}

/// Adds `count` sightings to the candidate `key`, creating it if new;
/// returns its id and whether this call created it.
async fn record_candidate(
    txn: &DatabaseTransaction,
    key: &str,
    name: &str,
    count: i32,
    at: DateTime<Utc>,
) -> Result<(i64, bool), CatalogStoreError> {
    let key = &stored_candidate_key(key);
    let row = catalog_candidates::ActiveModel {
        key: Set(key.to_owned()),
        name: Set(name.to_owned()),
        count: Set(count),
        status: Set("open".to_owned()),
        first_seen_at: Set(at),
        last_seen_at: Set(at),
        ..Default::default()
    };
    let inserted = catalog_candidates::Entity::insert(row)
        .on_conflict_do_nothing_on([catalog_candidates::Column::Key])
        .exec(txn)
        .await?;
    if let TryInsertResult::Inserted(r) = inserted {
        return Ok((r.last_insert_id, true));
    }
    // One statement: the database adds to the count as it stands now.
    catalog_candidates::Entity::update_many()
        .col_expr(catalog_candidates::Column::Count, Expr::col(catalog_candidates::Column::Count).add(count))
        .col_expr(catalog_candidates::Column::LastSeenAt, Expr::value(at))
        .filter(catalog_candidates::Column::Key.eq(key))
        .exec(txn)
        .await?;
    let existing =
        catalog_candidates::Entity::find().filter(catalog_candidates::Column::Key.eq(key)).one(txn).await?.ok_or_else(
            || CatalogStoreError::corrupt(format!("candidate {key:?} conflicted on insert but cannot be found")),
        )?;
    Ok((existing.id, false))
}

pub(super) async fn set_status(
    db: &impl ConnectionTrait,
    ids: &[i64],
    status: FactStatus,
    at: DateTime<Utc>,
) -> Result<(), CatalogStoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    catalog_facts::Entity::update_many()
        .col_expr(catalog_facts::Column::Status, Expr::value(status.as_str()))
        .col_expr(catalog_facts::Column::DecidedAt, Expr::value(at))
        .filter(catalog_facts::Column::Id.is_in(ids.to_vec()))
        .exec(db)
        .await?;
    Ok(())
}
