//! What a new snapshot said, and facts from structured sources.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, QueryTrait, Set, TryInsertResult,
};
use serde::Serialize;

use super::analysis_rows::{record_mention, record_mentions, record_proposals};
use super::load::fact_row;
use super::{
    CANDIDATE_OPEN, CANDIDATE_PROMOTED, CANDIDATE_REJECTED, CatalogStoreError, Ids, revision, stored_candidate_key,
    stored_key,
};
use crate::catalog::reconcile::{HeldFact, Outcome, reconcile_structured};
use crate::catalog::{
    Analysis, Attribute, EntityKind, EntityRef, FactStatus, FactValue, ModelKind, NewVersion, Origin, ProposedFact,
};
use crate::store::Store;
use crate::store::entity::{
    catalog_aliases, catalog_candidate_sightings, catalog_candidates, catalog_fact_evidence, catalog_facts,
    catalog_models, catalog_source_links, catalog_vendors,
};
use crate::store::stable_limit::{first, stable_limit};
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
    /// Provisional entities created (new versions, promoted candidates).
    pub new_entities: Vec<EntityRef>,
    /// Facts of the structured source now accepted (ids).
    pub accepted_facts: Vec<i64>,
}

impl RecordedAnalysis {
    /// Whether saving it may have raised the catalog's revision: it created
    /// entities or accepted facts (possibly accepted before, which changes
    /// nothing: a reader then reads the revision once for nothing).
    pub(crate) fn may_change_matcher(&self) -> bool {
        !self.new_entities.is_empty() || !self.accepted_facts.is_empty()
    }
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
    // Not `.insert()`: that reads the whole row (its quote) back.
    catalog_fact_evidence::Entity::insert(evidence_row(fact_id, e)).exec_without_returning(txn).await?;
    Ok(())
}

fn evidence_row(fact_id: i64, e: &Evidence<'_>) -> catalog_fact_evidence::ActiveModel {
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
}

/// The facts held for (entity, attribute), with the distinct sources behind
/// each (a structured source supersedes only its own values).
///
/// Evidence grows by a row per corroborating snapshot, so it is never read
/// whole here: the sources are distinct ids read from an index, not rows
/// with their quotes.
async fn held(
    db: &impl ConnectionTrait,
    entity: &EntityRef,
    id: i64,
    attribute: Attribute,
) -> Result<Vec<HeldFact>, CatalogStoreError> {
    let facts: Vec<(i64, String, String)> = catalog_facts::Entity::find()
        .select_only()
        .column(catalog_facts::Column::Id)
        .column(catalog_facts::Column::ValueKey)
        .column(catalog_facts::Column::Status)
        .filter(catalog_facts::Column::EntityKind.eq(entity.kind.as_str()))
        .filter(catalog_facts::Column::EntityId.eq(id))
        .filter(catalog_facts::Column::Attribute.eq(attribute.as_str()))
        .into_tuple()
        .all(db)
        .await?;
    let mut out = Vec::with_capacity(facts.len());
    for (fact_id, value_key, status) in facts {
        let source_ids: Vec<i64> = catalog_fact_evidence::Entity::find()
            .select_only()
            .column(catalog_fact_evidence::Column::SourceId)
            .distinct()
            .filter(catalog_fact_evidence::Column::FactId.eq(fact_id))
            .filter(catalog_fact_evidence::Column::SourceId.is_not_null())
            .order_by_asc(catalog_fact_evidence::Column::SourceId)
            .into_tuple()
            .all(db)
            .await?;
        let status = FactStatus::parse(&status)
            .ok_or_else(|| CatalogStoreError::corrupt(format!("fact #{fact_id}: status {status:?}")))?;
        out.push(HeldFact { id: fact_id, value_key, status, source_ids });
    }
    Ok(out)
}

/// One catalog step's result, saved in one transaction: what a new text
/// said (the analysis) and what a structured source states.
#[derive(Debug, Clone)]
pub struct CatalogRecord<'a> {
    pub source: SourceId,
    pub snapshot_id: i64,
    pub at: DateTime<Utc>,
    pub analysis: &'a Analysis,
    pub structured: &'a [StructuredFact],
    /// A GitHub or Hugging Face source: its candidates are promoted at once.
    pub structured_source: bool,
    /// `catalog.promote_after_sources`: a candidate seen in this many
    /// sources becomes a provisional entity.
    pub promote_after_sources: u32,
}

/// A check's catalog step before its snapshot exists: what the text says,
/// saved by the check writer with the check itself (in a savepoint of the
/// same transaction), so the catalog learns from every recorded snapshot
/// exactly once — a process killed between the two cannot record the
/// snapshot and lose what it said.
#[derive(Debug, Clone)]
pub struct CatalogWork {
    pub at: DateTime<Utc>,
    pub analysis: Analysis,
    pub structured: Vec<StructuredFact>,
    pub structured_source: bool,
    pub promote_after_sources: u32,
}

impl CatalogWork {
    /// The step for the snapshot `snapshot_id` of `source`.
    pub fn record(&self, source: SourceId, snapshot_id: i64) -> CatalogRecord<'_> {
        CatalogRecord {
            source,
            snapshot_id,
            at: self.at,
            analysis: &self.analysis,
            structured: &self.structured,
            structured_source: self.structured_source,
            promote_after_sources: self.promote_after_sources,
        }
    }
}

impl Store {
    /// Stores what [`crate::catalog::analyse`] found in a new snapshot of
    /// `source` (no structured facts, the default promotion threshold).
    pub async fn record_catalog_analysis(
        &self,
        source: SourceId,
        snapshot_id: i64,
        at: DateTime<Utc>,
        analysis: &Analysis,
    ) -> Result<RecordedAnalysis, CatalogStoreError> {
        let record = CatalogRecord {
            source,
            snapshot_id,
            at,
            analysis,
            structured: &[],
            structured_source: false,
            promote_after_sources: 2,
        };
        self.record_catalog_step(&record).await
    }

    /// Saves one catalog step in one transaction: new versions and promoted
    /// candidates as provisional entities (with the sentence as their first
    /// evidence), mentions (one row per entity and source), proposed facts
    /// beside the ones held (never overwriting), candidate sightings, and
    /// the structured source's facts. Bumps the catalog revision when an
    /// entity was created.
    pub async fn record_catalog_step(&self, r: &CatalogRecord<'_>) -> Result<RecordedAnalysis, CatalogStoreError> {
        let txn = self.write_txn().await?;
        let mut ids = self.catalog_ids.get(&txn).await?;
        let out = write_catalog_step(&txn, &mut ids, r).await?;
        txn.commit().await?;
        self.catalog_stepped(out.may_change_matcher());
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
        let ids = self.catalog_ids.get(&txn).await?;
        let accepted = structured_facts(&txn, &ids, source, snapshot_id, at, facts).await?;
        txn.commit().await?;
        self.catalog_stepped(!accepted.is_empty());
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

/// [`Store::record_catalog_step`] on the caller's transaction (the caller
/// commits): the check writer saves a check's catalog step with the check
/// itself, in a savepoint of its batch. `ids` are the entity ids as `txn`
/// sees them, and so they stay: the entities the step creates are added.
pub(crate) async fn write_catalog_step(
    txn: &DatabaseTransaction,
    ids: &mut Ids,
    r: &CatalogRecord<'_>,
) -> Result<RecordedAnalysis, CatalogStoreError> {
    let mut out = RecordedAnalysis::default();
    let (source, snapshot_id, at) = (r.source, r.snapshot_id, r.at);
    for v in &r.analysis.new_versions {
        let entity = EntityRef::model(&v.name);
        let id = match ids.get(&entity) {
            Some(id) => id,
            None => {
                let Some(created) = create_version(txn, ids, v, at).await? else { continue };
                ids.insert(&entity, created);
                out.new_entities.push(entity.clone());
                created
            }
        };
        let (candidate, status, _) =
            sighting(txn, &v.key, &v.name, CANDIDATE_PROMOTED, v.count, (source, snapshot_id, &v.sentence, at)).await?;
        // Seen as an unknown name before its family was known: settled.
        if status == CANDIDATE_OPEN {
            catalog_candidates::Entity::update_many()
                .col_expr(catalog_candidates::Column::Status, Expr::value(CANDIDATE_PROMOTED))
                .filter(catalog_candidates::Column::Id.eq(candidate))
                .exec(txn)
                .await?;
        }
        let count = i32::try_from(v.count).unwrap_or(i32::MAX);
        if record_mention(txn, &entity, id, source, snapshot_id, count, at).await? {
            out.new_mentions.push(entity);
        }
    }
    let mentioned: Vec<(&EntityRef, i64, i32)> = r
        .analysis
        .mentions
        .iter()
        .filter_map(|m| Some((&m.entity, ids.get(&m.entity)?, i32::try_from(m.count).unwrap_or(i32::MAX))))
        .collect();
    out.new_mentions.extend(record_mentions(txn, &mentioned, source, snapshot_id, at).await?);
    let proposed: Vec<(&ProposedFact, i64)> =
        r.analysis.proposed_facts.iter().filter_map(|f| Some((f, ids.get(&f.entity)?))).collect();
    let (new_facts, corroborations) = record_proposals(txn, &proposed, source, snapshot_id, at).await?;
    out.new_facts.extend(new_facts);
    out.corroborations += corroborations;
    for c in &r.analysis.candidates {
        let (candidate_id, status, inserted) =
            sighting(txn, &c.key, &c.name, CANDIDATE_OPEN, c.count, (source, snapshot_id, &c.sentence, at)).await?;
        if status == CANDIDATE_REJECTED {
            continue;
        }
        if inserted {
            out.new_candidates.push(c.name.clone());
        }
        if status == CANDIDATE_OPEN
            && let Some(e) = promote(txn, ids, candidate_id, &c.name, r, at).await?
        {
            out.new_entities.push(e.clone());
            out.new_mentions.push(e);
        }
        // Promoted while this text was being analysed (the matcher did
        // not know the entity yet): from then on it counts as a mention.
        if status == CANDIDATE_PROMOTED {
            let find = |ids: &Ids| {
                [EntityRef::model(&c.name), EntityRef::vendor(&c.name)]
                    .into_iter()
                    .find_map(|e| ids.get(&e).map(|id| (e, id)))
            };
            let mut found = find(ids);
            if found.is_none() {
                // Committed by another check after this one loaded its ids.
                *ids = Ids::load(txn).await?;
                found = find(ids);
            }
            if let Some((e, id)) = found {
                let count = i32::try_from(c.count).unwrap_or(i32::MAX);
                if record_mention(txn, &e, id, source, snapshot_id, count, at).await? {
                    out.new_mentions.push(e);
                }
            }
        }
    }
    if !out.new_entities.is_empty() {
        revision::bump(txn).await?;
    }
    out.accepted_facts = structured_facts(txn, ids, source, Some(snapshot_id), at, r.structured).await?;
    Ok(out)
}

async fn structured_facts(
    txn: &DatabaseTransaction,
    ids: &Ids,
    source: SourceId,
    snapshot_id: Option<i64>,
    at: DateTime<Utc>,
    facts: &[StructuredFact],
) -> Result<Vec<i64>, CatalogStoreError> {
    let mut accepted = Vec::new();
    // Whether a value became accepted now (not merely corroborated).
    let mut newly_accepted = false;
    for f in facts {
        let id = ids.get(&f.entity).ok_or_else(|| CatalogStoreError::NotFound(format!("no {}", f.entity)))?;
        let evidence =
            Evidence { source, snapshot: snapshot_id, quote: &f.quote, extractor: &f.extractor, confidence: 1.0, at };
        let held = held(txn, &f.entity, id, f.attribute).await?;
        match reconcile_structured(&held, &stored_key(&f.value), source.0) {
            Outcome::Corroborates { id: fact_id, accept } => {
                add_evidence(txn, fact_id, &evidence).await?;
                if accept {
                    set_status(txn, &[fact_id], FactStatus::Accepted, at).await?;
                    newly_accepted = true;
                }
                if accept || held.iter().any(|h| h.id == fact_id && h.status == FactStatus::Accepted) {
                    accepted.push(fact_id);
                }
            }
            Outcome::New { status, supersedes, .. } => {
                let row = fact_row(&f.entity, id, f.attribute, &f.value, &f.raw, None, status, at);
                let (fact_id, _) = insert_fact(txn, &f.entity, id, f.attribute, &f.value, row).await?;
                add_evidence(txn, fact_id, &evidence).await?;
                set_status(txn, &supersedes, FactStatus::Superseded, at).await?;
                accepted.push(fact_id);
                newly_accepted = true;
            }
        }
    }
    if newly_accepted {
        // Accepted facts feed the matcher's known terms; a value accepted
        // before and merely seen again changes nothing (a bump would rebuild
        // the matcher after every check of a repository).
        revision::bump(txn).await?;
    }
    Ok(accepted)
}

/// A new version of a known family, as a provisional model of the family's
/// vendor; `None` when the name was rejected for good.
async fn create_version(
    txn: &DatabaseTransaction,
    ids: &Ids,
    v: &NewVersion,
    at: DateTime<Utc>,
) -> Result<Option<i64>, CatalogStoreError> {
    let rejected = first(
        catalog_candidates::Entity::find()
            .filter(catalog_candidates::Column::Key.eq(stored_candidate_key(&v.key)))
            .filter(catalog_candidates::Column::Status.eq(CANDIDATE_REJECTED)),
        txn,
    )
    .await?;
    if rejected.is_some() {
        return Ok(None);
    }
    let family_id = ids.get(&v.family);
    let family = match family_id {
        Some(id) => catalog_models::Entity::find_by_id(id).one(txn).await?,
        None => None,
    };
    let row = catalog_models::ActiveModel {
        name: Set(v.name.clone()),
        vendor_id: Set(family.as_ref().and_then(|f| f.vendor_id)),
        kind: Set(ModelKind::Model.as_str().to_owned()),
        family: Set(Some(v.family.name.clone())),
        version: Set(Some(v.version.clone())),
        retired: Set(false),
        created_at: Set(at),
        origin: Set(Origin::Observed.as_str().to_owned()),
        provisional: Set(true),
        evidence_url: Set(None),
        ..Default::default()
    };
    create_entity(txn, EntityKind::Model, &v.name, Some(row), None).await
}

/// Inserts a provisional entity and its name as alias, unless another
/// transaction just did; returns its id.
async fn create_entity(
    txn: &DatabaseTransaction,
    kind: EntityKind,
    name: &str,
    model: Option<catalog_models::ActiveModel>,
    vendor: Option<catalog_vendors::ActiveModel>,
) -> Result<Option<i64>, CatalogStoreError> {
    let id = match (model, vendor) {
        (Some(row), _) => {
            let inserted = catalog_models::Entity::insert(row)
                .on_conflict_do_nothing_on([catalog_models::Column::Name])
                .exec(txn)
                .await?;
            match inserted {
                TryInsertResult::Inserted(r) => r.last_insert_id,
                _ => {
                    return Ok(catalog_models::Entity::find()
                        .filter(catalog_models::Column::Name.eq(name))
                        .one(txn)
                        .await?
                        .map(|m| m.id));
                }
            }
        }
        (None, Some(row)) => {
            let inserted = catalog_vendors::Entity::insert(row)
                .on_conflict_do_nothing_on([catalog_vendors::Column::Name])
                .exec(txn)
                .await?;
            match inserted {
                TryInsertResult::Inserted(r) => r.last_insert_id,
                _ => {
                    return Ok(catalog_vendors::Entity::find()
                        .filter(catalog_vendors::Column::Name.eq(name))
                        .one(txn)
                        .await?
                        .map(|m| m.id));
                }
            }
        }
        (None, None) => return Ok(None),
    };
    catalog_aliases::Entity::insert(catalog_aliases::ActiveModel {
        entity_kind: Set(kind.as_str().to_owned()),
        entity_id: Set(id),
        alias: Set(name.to_owned()),
        case_sensitive: Set(false),
        ambiguous: Set(false),
        ..Default::default()
    })
    .on_conflict_do_nothing_on([
        catalog_aliases::Column::EntityKind,
        catalog_aliases::Column::EntityId,
        catalog_aliases::Column::Alias,
    ])
    .exec(txn)
    .await?;
    Ok(Some(id))
}

/// Promotes an open candidate to a provisional entity when it was seen in
/// `promote_after_sources` sources, or once in a structured source; every
/// source that sighted it then mentions the entity.
async fn promote(
    txn: &DatabaseTransaction,
    ids: &mut Ids,
    candidate_id: i64,
    name: &str,
    r: &CatalogRecord<'_>,
    at: DateTime<Utc>,
) -> Result<Option<EntityRef>, CatalogStoreError> {
    // Company shapes (星海智能, Acme Labs) become vendors, model shapes
    // models; a name of neither shape stays a candidate for a reviewer.
    let Some(kind) = crate::catalog::candidates::promotable_kind(name) else { return Ok(None) };
    // The distinct sources only (an index read), not every sighting with
    // its sentence: a name seen often must not cost more each time.
    let needed = std::cmp::max(r.promote_after_sources, 1);
    if !r.structured_source {
        let sources = catalog_candidate_sightings::Entity::find()
            .select_only()
            .column(catalog_candidate_sightings::Column::SourceId)
            .distinct()
            .filter(catalog_candidate_sightings::Column::CandidateId.eq(candidate_id))
            .limit(u64::from(needed))
            .build(txn.get_database_backend());
        let sources = txn.query_all_raw(stable_limit(sources)).await?;
        if u32::try_from(sources.len()).unwrap_or(u32::MAX) < needed {
            return Ok(None);
        }
    }
    let entity = EntityRef { kind, name: name.to_owned() };
    if ids.get(&entity).is_some() {
        return Ok(None);
    }
    let sightings = catalog_candidate_sightings::Entity::find()
        .filter(catalog_candidate_sightings::Column::CandidateId.eq(candidate_id))
        .order_by_asc(catalog_candidate_sightings::Column::Id)
        .all(txn)
        .await?;
    let origin = Origin::Observed.as_str().to_owned();
    let id = match kind {
        EntityKind::Model => {
            let row = catalog_models::ActiveModel {
                name: Set(name.to_owned()),
                vendor_id: Set(None),
                kind: Set(ModelKind::Model.as_str().to_owned()),
                family: Set(None),
                version: Set(None),
                retired: Set(false),
                created_at: Set(at),
                origin: Set(origin),
                provisional: Set(true),
                evidence_url: Set(None),
                ..Default::default()
            };
            create_entity(txn, kind, name, Some(row), None).await?
        }
        EntityKind::Vendor => {
            let row = catalog_vendors::ActiveModel {
                name: Set(name.to_owned()),
                country: Set(None),
                created_at: Set(at),
                origin: Set(origin),
                provisional: Set(true),
                evidence_url: Set(None),
                ..Default::default()
            };
            create_entity(txn, kind, name, None, Some(row)).await?
        }
    };
    let Some(id) = id else { return Ok(None) };
    ids.insert(&entity, id);
    catalog_candidates::Entity::update_many()
        .col_expr(catalog_candidates::Column::Status, Expr::value(CANDIDATE_PROMOTED))
        .filter(catalog_candidates::Column::Id.eq(candidate_id))
        .exec(txn)
        .await?;
    // Counted as a mention from now on, and where it was seen before.
    for s in &sightings {
        record_mention(txn, &entity, id, SourceId(s.source_id), s.snapshot_id, s.count, std::cmp::min(s.seen_at, at))
            .await?;
    }
    Ok(Some(entity))
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

/// Adds `count` sightings of `key` by a source (creating the candidate with
/// `status` if new); a rejected name gets no more sightings. Returns its
/// id, status and whether this call created it.
async fn sighting(
    txn: &DatabaseTransaction,
    key: &str,
    name: &str,
    status: &str,
    count: u32,
    (source, snapshot_id, sentence, at): (SourceId, i64, &str, DateTime<Utc>),
) -> Result<(i64, String, bool), CatalogStoreError> {
    let count = i32::try_from(count).unwrap_or(i32::MAX);
    let key = &stored_candidate_key(key);
    let row = catalog_candidates::ActiveModel {
        key: Set(key.to_owned()),
        name: Set(name.to_owned()),
        count: Set(count),
        status: Set(status.to_owned()),
        first_seen_at: Set(at),
        last_seen_at: Set(at),
        ..Default::default()
    };
    let inserted = catalog_candidates::Entity::insert(row)
        .on_conflict_do_nothing_on([catalog_candidates::Column::Key])
        .exec(txn)
        .await?;
    let (id, status, created) = match inserted {
        TryInsertResult::Inserted(r) => (r.last_insert_id, status.to_owned(), true),
        _ => {
            let existing =
                first(catalog_candidates::Entity::find().filter(catalog_candidates::Column::Key.eq(key)), txn)
                    .await?
                    .ok_or_else(|| {
                    CatalogStoreError::corrupt(format!("candidate {key:?} conflicted on insert but cannot be found"))
                })?;
            if existing.status == CANDIDATE_REJECTED {
                return Ok((existing.id, existing.status, false));
            }
            // One statement: the database adds to the count as it stands now.
            catalog_candidates::Entity::update_many()
                .col_expr(catalog_candidates::Column::Count, Expr::col(catalog_candidates::Column::Count).add(count))
                .col_expr(catalog_candidates::Column::LastSeenAt, Expr::value(at))
                .filter(catalog_candidates::Column::Id.eq(existing.id))
                .exec(txn)
                .await?;
            (existing.id, existing.status, false)
        }
    };
    let row = catalog_candidate_sightings::ActiveModel {
        candidate_id: Set(id),
        source_id: Set(source.0),
        snapshot_id: Set(snapshot_id),
        sentence: Set(sentence.to_owned()),
        count: Set(count),
        seen_at: Set(at),
        ..Default::default()
    };
    catalog_candidate_sightings::Entity::insert(row).exec_without_returning(txn).await?;
    Ok((id, status, created))
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
