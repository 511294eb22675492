use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_source_links")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entity_kind: String,
    pub entity_id: i64,
    pub source_id: i64,
    /// What the source measures for the entity (`stars`, `downloads`, `releases`).
    pub metric: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
