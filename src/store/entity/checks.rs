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
    pub outcome: CheckOutcome,
    pub http_status: Option<i32>,
    pub error_kind: Option<String>,
    pub message: Option<String>,
    pub bytes: i64,
    pub snapshot_id: Option<i64>,
}

/// What one check observed, as `checks.outcome` has always stored it (the
/// words are the column's values; no migration maps them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
pub enum CheckOutcome {
    /// New content was read (changed or not).
    #[sea_orm(string_value = "ok")]
    Ok,
    /// 304: the validators still hold.
    #[sea_orm(string_value = "not_modified")]
    NotModified,
    #[sea_orm(string_value = "gone")]
    Gone,
    #[sea_orm(string_value = "soft_gone")]
    SoftGone,
    #[sea_orm(string_value = "redirected")]
    Redirected,
    #[sea_orm(string_value = "failing")]
    Failing,
    /// Not requested: the host asked us to wait. Stored as `pending`, the
    /// status a deferred observation argues for (nothing), since the start.
    #[sea_orm(string_value = "pending")]
    Deferred,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
