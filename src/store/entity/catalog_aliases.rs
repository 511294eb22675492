use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_aliases")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// `vendor` or `model`.
    pub entity_kind: String,
    pub entity_id: i64,
    pub alias: String,
    pub case_sensitive: bool,
    /// Also an everyday word: matches only where used as a name.
    pub ambiguous: bool,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
