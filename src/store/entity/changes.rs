use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "changes")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    pub detected_at: DateTimeUtc,
    pub kind: String,
    pub from_snapshot_id: Option<i64>,
    pub to_snapshot_id: Option<i64>,
    pub summary: String,
    pub added: i32,
    pub removed: i32,
    pub modified: i32,
    pub ratio: f64,
    pub excerpt: String,
    /// JSON object with kind-specific details (old/new status, release tag, …).
    pub details: String,
    /// Commit-ordered sequence number: the digest's cursor. NULL only for a
    /// row written by an older version after the migration ran (none do).
    pub seq: Option<i64>,
    /// Catalog entities the changed lines name (0 for rows written before
    /// the runner counted them).
    pub catalog_hits: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
