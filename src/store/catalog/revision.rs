//! The catalog's revision counter: every edit of entities, aliases, rejected
//! names or accepted facts bumps it inside its own transaction, so a reader
//! that saw revision N and sees N again knows its matcher is current.
//!
//! Beside it, in the process, counts of what this process committed that
//! may raise it ([`LocalChanges`]): the matcher reads the revision from the
//! database every so often (`runner::catalog`), and what happened here
//! need not wait for that read.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

use super::CatalogStoreError;
use crate::store::Store;
use crate::store::entity::catalog_revision;

/// Adds one to the revision (inside the caller's transaction).
pub(crate) async fn bump(db: &impl ConnectionTrait) -> Result<(), CatalogStoreError> {
    catalog_revision::Entity::update_many()
        .col_expr(catalog_revision::Column::Revision, Expr::col(catalog_revision::Column::Revision).add(1))
        .filter(catalog_revision::Column::Id.eq(1))
        .exec(db)
        .await?;
    Ok(())
}

/// The revision as `db` (a transaction, say) sees it.
pub(crate) async fn current(db: &impl ConnectionTrait) -> Result<i64, CatalogStoreError> {
    let read = catalog_revision::Entity::find_by_id(1);
    Ok(crate::store::stable_limit::first(read, db).await?.map_or(0, |r| r.revision))
}

/// What this process (any clone of its [`Store`]) committed that may
/// change the matcher, counted after each commit: a reader that sees a
/// count move and then reads the revision sees the change.
#[derive(Clone, Default)]
pub(crate) struct LocalChanges {
    /// Catalog edits (`catalog …`, the web UI, seeds).
    edits: Arc<AtomicU64>,
    /// Catalog steps that created entities or accepted facts.
    steps: Arc<AtomicU64>,
}

impl Store {
    /// The catalog's current revision (0 before any edit).
    pub async fn catalog_revision(&self) -> Result<i64, CatalogStoreError> {
        current(self.db()).await
    }

    /// How many catalog edits this process has committed so far.
    pub fn catalog_edits(&self) -> u64 {
        self.catalog_changes.edits.load(Ordering::Acquire)
    }

    /// How many of this process's committed catalog steps may have raised
    /// the revision (new entities, accepted facts).
    pub fn catalog_step_changes(&self) -> u64 {
        self.catalog_changes.steps.load(Ordering::Acquire)
    }

    /// Counts a committed catalog edit: call after its commit.
    pub(crate) fn catalog_edited(&self) {
        self.catalog_changes.edits.fetch_add(1, Ordering::Release);
    }

    /// Counts committed catalog steps that may have raised the revision
    /// (see [`super::RecordedAnalysis::may_change_matcher`]) when `changed`:
    /// call after their commit.
    pub(crate) fn catalog_stepped(&self, changed: bool) {
        if changed {
            self.catalog_changes.steps.fetch_add(1, Ordering::Release);
        }
    }
}
