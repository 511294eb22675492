use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_terms")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `chip` or `framework`.
    pub kind: String,
    pub name: String,
    pub vendor_id: Option<i64>,
    /// JSON array of strings.
    pub aliases: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
