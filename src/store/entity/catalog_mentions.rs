use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_mentions")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entity_kind: String,
    pub entity_id: i64,
    pub source_id: i64,
    pub first_snapshot_id: i64,
    pub last_snapshot_id: i64,
    pub first_seen_at: DateTimeUtc,
    pub last_seen_at: DateTimeUtc,
    /// Snapshots of the source that mentioned the entity.
    pub snapshot_count: i32,
    /// Occurrences in the last such snapshot.
    pub last_count: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
