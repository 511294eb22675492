//! The catalog's tables: seed loading, what a snapshot said (mentions,
//! proposed facts, candidates), structured facts, and the review queries.
//! Every multi-row write is one transaction.

mod analysis_rows;
mod digest;
mod edit;
mod load;
mod record;
mod review;
pub(crate) mod revision;
mod shared_steps;

use std::collections::HashMap;

use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};
use sha2::{Digest, Sha256};

pub use digest::CatalogDigestInputs;
pub use load::SeedReport;
pub(crate) use record::write_catalog_step;
pub use record::{CatalogRecord, CatalogWork, RecordedAnalysis, StructuredFact};
pub use review::{CandidateRow, EntityDetail, EvidenceRow, FactRow, MentionRow, ModelRow, NewModel, VendorRow};
pub(crate) use shared_steps::{is_shared, write_shared_steps};

use super::StoreError;
use super::entity::{catalog_aliases, catalog_models, catalog_vendors};
use crate::catalog::{EntityKind, EntityRef, FactValue};

#[derive(Debug, thiserror::Error)]
pub enum CatalogStoreError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("database error: {0}")]
    Db(#[from] DbErr),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error("catalog analysis failed: {0}")]
    Analysis(String),
}

impl CatalogStoreError {
    /// The user's input rather than the database failing (exit code 2).
    pub fn is_user_error(&self) -> bool {
        matches!(self, CatalogStoreError::NotFound(_) | CatalogStoreError::Invalid(_))
    }

    fn corrupt(what: impl Into<String>) -> Self {
        CatalogStoreError::Store(StoreError::Corrupt(what.into()))
    }
}

/// Candidate statuses: still to review, rejected for good (`catalog reject
/// NAME`), promoted to a provisional entity, added by hand.
pub(crate) const CANDIDATE_OPEN: &str = "open";
pub(crate) const CANDIDATE_REJECTED: &str = "rejected";
pub(crate) const CANDIDATE_PROMOTED: &str = "promoted";

/// The stored key of a value: short keys as they are, long texts hashed so
/// the unique index stays within every backend's key size.
pub(crate) fn stored_key(value: &FactValue) -> String {
    short_key(value.key())
}

/// The stored key of a candidate, hashed when long like [`stored_key`]: the
/// analysis drops long names, this keeps the index safe whatever it gets.
pub(crate) fn stored_candidate_key(key: &str) -> String {
    short_key(key.to_owned())
}

fn short_key(key: String) -> String {
    if key.len() <= 190 {
        return key;
    }
    format!("sha256:{}", hex::encode(Sha256::digest(key.as_bytes())))
}

/// Canonical names → ids, for both kinds.
#[derive(Debug, Clone, Default)]
pub(crate) struct Ids {
    vendors: HashMap<String, i64>,
    models: HashMap<String, i64>,
}

impl Ids {
    pub(crate) async fn load(db: &impl ConnectionTrait) -> Result<Ids, DbErr> {
        // Names and ids only: this runs once per catalog step.
        let vendors: Vec<(String, i64)> = catalog_vendors::Entity::find()
            .select_only()
            .column(catalog_vendors::Column::Name)
            .column(catalog_vendors::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        let models: Vec<(String, i64)> = catalog_models::Entity::find()
            .select_only()
            .column(catalog_models::Column::Name)
            .column(catalog_models::Column::Id)
            .into_tuple()
            .all(db)
            .await?;
        Ok(Ids { vendors: vendors.into_iter().collect(), models: models.into_iter().collect() })
    }

    pub(crate) fn get(&self, e: &EntityRef) -> Option<i64> {
        match e.kind {
            EntityKind::Vendor => self.vendors.get(&e.name).copied(),
            EntityKind::Model => self.models.get(&e.name).copied(),
        }
    }

    pub(crate) fn insert(&mut self, e: &EntityRef, id: i64) {
        match e.kind {
            EntityKind::Vendor => self.vendors.insert(e.name.clone(), id),
            EntityKind::Model => self.models.insert(e.name.clone(), id),
        };
    }
}

/// The ids of one catalog revision, kept between catalog steps: every edit
/// that adds or renames an entity bumps the revision, so a step that reads
/// the same revision in its transaction can reuse them instead of reading
/// every vendor and model again (hundreds of rows per new snapshot).
#[derive(Clone, Default)]
pub(crate) struct IdsCache(std::sync::Arc<std::sync::Mutex<Option<(i64, Ids)>>>);

impl IdsCache {
    /// The ids as of the revision `db` sees now.
    pub(crate) async fn get(&self, db: &impl ConnectionTrait) -> Result<Ids, CatalogStoreError> {
        self.get_at(db, None).await
    }

    /// [`IdsCache::get`], the revision already read by the caller's
    /// transaction when `known` (the record writer reads it with a batch's
    /// rows, saving a round trip).
    pub(crate) async fn get_at(&self, db: &impl ConnectionTrait, known: Option<i64>) -> Result<Ids, CatalogStoreError> {
        let revision = match known {
            Some(revision) => revision,
            None => revision::current(db).await?,
        };
        if let Ok(cache) = self.0.lock()
            && let Some((rev, ids)) = cache.as_ref()
            && *rev == revision
        {
            return Ok(ids.clone());
        }
        let ids = Ids::load(db).await?;
        if let Ok(mut cache) = self.0.lock() {
            *cache = Some((revision, ids.clone()));
        }
        Ok(ids)
    }
}

/// Finds an entity by canonical name, then by alias (any case).
pub(crate) async fn resolve(db: &impl ConnectionTrait, name: &str) -> Result<EntityRef, CatalogStoreError> {
    if let Some(v) = catalog_vendors::Entity::find().filter(catalog_vendors::Column::Name.eq(name)).one(db).await? {
        return Ok(EntityRef::vendor(v.name));
    }
    if let Some(m) = catalog_models::Entity::find().filter(catalog_models::Column::Name.eq(name)).one(db).await? {
        return Ok(EntityRef::model(m.name));
    }
    let lower = name.to_lowercase();
    let aliases = catalog_aliases::Entity::find().all(db).await?;
    let Some(a) = aliases.into_iter().find(|a| a.alias.to_lowercase() == lower) else {
        return Err(CatalogStoreError::NotFound(format!("no vendor or model named {name:?}")));
    };
    entity_by_id(db, &a.entity_kind, a.entity_id).await
}

pub(crate) async fn entity_by_id(
    db: &impl ConnectionTrait,
    kind: &str,
    id: i64,
) -> Result<EntityRef, CatalogStoreError> {
    let kind = EntityKind::parse(kind).ok_or_else(|| CatalogStoreError::corrupt(format!("entity kind {kind:?}")))?;
    let name = match kind {
        EntityKind::Vendor => catalog_vendors::Entity::find_by_id(id).one(db).await?.map(|v| v.name),
        EntityKind::Model => catalog_models::Entity::find_by_id(id).one(db).await?.map(|m| m.name),
    };
    name.map(|name| EntityRef { kind, name })
        .ok_or_else(|| CatalogStoreError::corrupt(format!("{kind} #{id} is referenced but missing")))
}
