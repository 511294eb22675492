use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "snapshots")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub source_id: i64,
    pub created_at: DateTimeUtc,
    /// sha256 of `text`, hex.
    pub content_hash: String,
    /// Normalised text: what diffs are computed on. Empty when the text is
    /// stored compressed in `text_zstd`: read it through
    /// [`crate::store::record::stored_text`].
    pub text: String,
    /// The text, zstd-compressed (SQLite writes texts so), else NULL.
    pub text_zstd: Option<Vec<u8>>,
    /// JSON: title, author, published, content type, charset, kind-specific fields.
    pub meta: String,
    pub raw_hash: Option<String>,
    pub http_status: Option<i32>,
    pub final_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
