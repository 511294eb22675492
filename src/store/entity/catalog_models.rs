use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_models")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub vendor_id: Option<i64>,
    pub kind: String,
    pub family: Option<String>,
    pub version: Option<String>,
    pub retired: bool,
    pub created_at: DateTimeUtc,
    /// document | reference | observed
    pub origin: String,
    pub provisional: bool,
    pub evidence_url: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
