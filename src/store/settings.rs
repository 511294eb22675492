//! Operator choices kept in the database, so a later command honours what
//! an earlier one was told (`init --no-seed-sources` → `run` and the next
//! `init` load no shipped sources).

use sea_orm::sea_query::OnConflict;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::entity::settings::{ActiveModel, Column, Entity};
use super::{Store, StoreError};

/// The key of the shipped-sources choice; its value is `on` or `off`.
const SEED_SOURCES: &str = "seed_sources";

impl Store {
    /// Whether the shipped sources (`sources.seed_file`) may be loaded into
    /// this database. On until an `init --no-seed-sources` turns it off.
    pub async fn seed_sources_enabled(&self) -> Result<bool, StoreError> {
        let row = Entity::find_by_id(SEED_SOURCES.to_owned()).one(self.db()).await?;
        Ok(row.is_none_or(|r| r.value != "off"))
    }

    /// Records whether the shipped sources may be loaded.
    pub async fn set_seed_sources(&self, enabled: bool) -> Result<(), StoreError> {
        let row = ActiveModel {
            key: Set(SEED_SOURCES.to_owned()),
            value: Set(if enabled { "on" } else { "off" }.to_owned()),
        };
        Entity::insert(row)
            .on_conflict(OnConflict::column(Column::Key).update_column(Column::Value).to_owned())
            .exec(self.db())
            .await?;
        Ok(())
    }
}
