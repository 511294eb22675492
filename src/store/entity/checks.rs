use sea_orm::entity::prelude::*;

/// One row per check attempt.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "checks")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    pub started_at: DateTimeUtc,
    pub duration_ms: i64,
    pub outcome: String,
    pub http_status: Option<i32>,
    pub error_kind: Option<String>,
    pub message: Option<String>,
    pub bytes: i64,
    pub snapshot_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
