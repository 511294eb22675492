use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_fact_evidence")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub fact_id: i64,
    pub source_id: Option<i64>,
    /// For evidence that is not a watched source (the seed document).
    pub source_name: Option<String>,
    pub snapshot_id: Option<i64>,
    pub quote: String,
    pub extractor: String,
    pub confidence: f64,
    pub observed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
