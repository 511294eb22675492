//! The catalog's revision counter: every edit of entities, aliases, rejected
//! names or accepted facts bumps it inside its own transaction, so a reader
//! that saw revision N and sees N again knows its matcher is current.

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
    Ok(catalog_revision::Entity::find_by_id(1).one(db).await?.map_or(0, |r| r.revision))
}

impl Store {
    /// The catalog's current revision (0 before any edit).
    pub async fn catalog_revision(&self) -> Result<i64, CatalogStoreError> {
        current(self.db()).await
    }
}
