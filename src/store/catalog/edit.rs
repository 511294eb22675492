//! Review edits: adding vendors, models and aliases, and merging duplicates.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use super::review::{NewModel, aliases_of};
use super::{CatalogStoreError, Ids, resolve};
use crate::catalog::{EntityKind, EntityRef};
use crate::store::Store;
use crate::store::entity::{
    catalog_aliases, catalog_candidates, catalog_fact_evidence, catalog_facts, catalog_mentions, catalog_models,
    catalog_source_links, catalog_vendors,
};

impl Store {
    pub async fn catalog_add_vendor(
        &self,
        name: &str,
        country: Option<&str>,
        aliases: &[String],
        at: DateTime<Utc>,
    ) -> Result<i64, CatalogStoreError> {
        let txn = self.write_txn().await?;
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
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(row.id)
    }

    pub async fn catalog_add_model(&self, m: &NewModel, at: DateTime<Utc>) -> Result<i64, CatalogStoreError> {
        let txn = self.write_txn().await?;
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
        let key = super::stored_candidate_key(&crate::catalog::candidate_key(&m.name));
        catalog_candidates::Entity::update_many()
            .col_expr(catalog_candidates::Column::Status, Expr::value("added"))
            .filter(catalog_candidates::Column::Key.eq(key))
            .exec(&txn)
            .await?;
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(row.id)
    }

    pub async fn catalog_add_alias(
        &self,
        name: &str,
        alias: &str,
        case_sensitive: bool,
    ) -> Result<EntityRef, CatalogStoreError> {
        let txn = self.write_txn().await?;
        let e = resolve(&txn, name).await?;
        if let Ok(other) = resolve(&txn, alias).await
            && other != e
        {
            return Err(CatalogStoreError::Invalid(format!("alias {alias:?} already names {other}")));
        }
        let id = Ids::load(&txn).await?.get(&e).unwrap_or(-1);
        insert_alias(&txn, e.kind, id, alias, case_sensitive).await?;
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(e)
    }

    /// Merges `from` into `into` (same kind): aliases (its name included),
    /// facts, mentions, links and a vendor's models move over; `from` is
    /// removed. A fact both hold keeps `into`'s row and gains `from`'s evidence.
    pub async fn catalog_merge(&self, from: &str, into: &str) -> Result<EntityRef, CatalogStoreError> {
        let txn = self.write_txn().await?;
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
        // Metric links move over; a link B already has is a duplicate.
        let b_links: std::collections::HashSet<(i64, String)> = catalog_source_links::Entity::find()
            .filter(catalog_source_links::Column::EntityKind.eq(kind))
            .filter(catalog_source_links::Column::EntityId.eq(bi))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| (l.source_id, l.metric))
            .collect();
        let a_links = catalog_source_links::Entity::find()
            .filter(catalog_source_links::Column::EntityKind.eq(kind))
            .filter(catalog_source_links::Column::EntityId.eq(ai))
            .all(&txn)
            .await?;
        for link in a_links {
            if b_links.contains(&(link.source_id, link.metric.clone())) {
                catalog_source_links::Entity::delete_by_id(link.id).exec(&txn).await?;
            } else {
                let mut l: catalog_source_links::ActiveModel = link.into();
                l.entity_id = Set(bi);
                l.update(&txn).await?;
            }
        }
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
                // A provisional version folded into its real entry: its
                // siblings that named it as family follow.
                catalog_models::Entity::update_many()
                    .col_expr(catalog_models::Column::Family, Expr::value(b.name.clone()))
                    .filter(catalog_models::Column::Family.eq(a.name.clone()))
                    .exec(&txn)
                    .await?;
                catalog_models::Entity::delete_by_id(ai).exec(&txn).await?;
            }
        }
        // Its name now names `into`: a candidate of that name is settled.
        catalog_candidates::Entity::update_many()
            .col_expr(catalog_candidates::Column::Status, Expr::value("added"))
            .filter(
                catalog_candidates::Column::Key
                    .eq(super::stored_candidate_key(&crate::catalog::candidate_key(&a.name))),
            )
            .exec(&txn)
            .await?;
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(b)
    }

    /// Rejects a name for good: a provisional entity of that name is
    /// removed (with its mentions and facts), an open candidate is closed,
    /// and the name never becomes a candidate or a new version again. A
    /// reviewed entity is not removed this way (merge it instead).
    pub async fn catalog_reject_name(&self, name: &str, at: DateTime<Utc>) -> Result<String, CatalogStoreError> {
        let name = name.trim();
        if name.is_empty() {
            return Err(CatalogStoreError::Invalid("a name to reject cannot be empty".into()));
        }
        let txn = self.write_txn().await?;
        let mut what = format!("{name:?} rejected: it will not be proposed again");
        let mut canonical = name.to_owned();
        if let Ok(e) = resolve(&txn, name).await {
            let ids = Ids::load(&txn).await?;
            let id = ids.get(&e).unwrap_or(-1);
            let provisional = match e.kind {
                EntityKind::Model => {
                    catalog_models::Entity::find_by_id(id).one(&txn).await?.is_some_and(|m| m.provisional)
                }
                EntityKind::Vendor => {
                    catalog_vendors::Entity::find_by_id(id).one(&txn).await?.is_some_and(|v| v.provisional)
                }
            };
            if !provisional {
                return Err(CatalogStoreError::Invalid(format!(
                    "{name:?} names {e}, a reviewed catalog entry; merge it into another instead"
                )));
            }
            remove_entity(&txn, &e, id).await?;
            what = format!("Provisional {e} removed and rejected: it will not be proposed again");
            canonical = e.name;
        }
        for n in [name, canonical.as_str()] {
            let key = super::stored_candidate_key(&crate::catalog::candidate_key(n));
            let row = catalog_candidates::ActiveModel {
                key: Set(key.clone()),
                name: Set(n.to_owned()),
                count: Set(0),
                status: Set(super::CANDIDATE_REJECTED.to_owned()),
                first_seen_at: Set(at),
                last_seen_at: Set(at),
                ..Default::default()
            };
            catalog_candidates::Entity::insert(row)
                .on_conflict_do_nothing_on([catalog_candidates::Column::Key])
                .exec(&txn)
                .await?;
            catalog_candidates::Entity::update_many()
                .col_expr(catalog_candidates::Column::Status, Expr::value(super::CANDIDATE_REJECTED))
                .filter(catalog_candidates::Column::Key.eq(key))
                .exec(&txn)
                .await?;
        }
        super::revision::bump(&txn).await?;
        txn.commit().await?;
        self.catalog_edited();
        Ok(what)
    }
}

/// Deletes an entity with its aliases, mentions, facts (and their
/// evidence) and metric links.
async fn remove_entity(db: &impl ConnectionTrait, e: &EntityRef, id: i64) -> Result<(), CatalogStoreError> {
    let kind = e.kind.as_str();
    let facts: Vec<i64> = catalog_facts::Entity::find()
        .filter(catalog_facts::Column::EntityKind.eq(kind))
        .filter(catalog_facts::Column::EntityId.eq(id))
        .all(db)
        .await?
        .into_iter()
        .map(|f| f.id)
        .collect();
    if !facts.is_empty() {
        catalog_fact_evidence::Entity::delete_many()
            .filter(catalog_fact_evidence::Column::FactId.is_in(facts.clone()))
            .exec(db)
            .await?;
        catalog_facts::Entity::delete_many().filter(catalog_facts::Column::Id.is_in(facts)).exec(db).await?;
    }
    catalog_aliases::Entity::delete_many()
        .filter(catalog_aliases::Column::EntityKind.eq(kind))
        .filter(catalog_aliases::Column::EntityId.eq(id))
        .exec(db)
        .await?;
    catalog_mentions::Entity::delete_many()
        .filter(catalog_mentions::Column::EntityKind.eq(kind))
        .filter(catalog_mentions::Column::EntityId.eq(id))
        .exec(db)
        .await?;
    catalog_source_links::Entity::delete_many()
        .filter(catalog_source_links::Column::EntityKind.eq(kind))
        .filter(catalog_source_links::Column::EntityId.eq(id))
        .exec(db)
        .await?;
    match e.kind {
        EntityKind::Model => {
            catalog_models::Entity::delete_by_id(id).exec(db).await?;
        }
        EntityKind::Vendor => {
            catalog_models::Entity::update_many()
                .col_expr(catalog_models::Column::VendorId, Expr::value(Option::<i64>::None))
                .filter(catalog_models::Column::VendorId.eq(id))
                .exec(db)
                .await?;
            catalog_vendors::Entity::delete_by_id(id).exec(db).await?;
        }
    }
    Ok(())
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
            ambiguous: Set(false),
            ..Default::default()
        }
        .insert(db)
        .await?;
    }
    Ok(())
}
