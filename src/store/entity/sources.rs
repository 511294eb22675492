use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "sources")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    #[sea_orm(unique)]
    pub url: String,
    pub final_url: Option<String>,
    pub kind: String,
    pub title: Option<String>,
    /// JSON array of strings.
    pub tags: String,
    pub status: String,
    pub last_error_kind: Option<String>,
    pub last_error: Option<String>,
    pub pending_status: Option<String>,
    pub pending_count: i32,
    pub consecutive_failures: i32,
    pub schedule_every_secs: Option<i64>,
    pub schedule_cron: Option<String>,
    /// JSON `SourceOptions`.
    pub options: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_snapshot_id: Option<i64>,
    pub last_checked_at: Option<DateTimeUtc>,
    pub last_ok_at: Option<DateTimeUtc>,
    pub next_check_at: DateTimeUtc,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub removed_at: Option<DateTimeUtc>,
    /// The heading path above the link in the imported document.
    pub section: Option<String>,
    /// The link's rank in the imported document.
    pub doc_position: Option<i64>,
    /// Start-ups in a row that found a check of this source begun and
    /// never ended (the process died during it).
    pub crash_count: i32,
    /// Set after repeated crashes: no sweep claims the source until
    /// `sources resume`.
    pub quarantined_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
