use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "catalog_facts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub entity_kind: String,
    pub entity_id: i64,
    pub attribute: String,
    /// Normalised value (what equality uses); long texts are hashed.
    pub value_key: String,
    /// The typed value as JSON (`FactValue`).
    pub value: String,
    pub raw: String,
    pub unit: Option<String>,
    pub date_precision: Option<String>,
    pub as_of: Option<String>,
    /// proposed | accepted | rejected | superseded
    pub status: String,
    pub created_at: DateTimeUtc,
    pub decided_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
