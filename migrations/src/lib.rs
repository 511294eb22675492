//! modelwatch's schema: one append-only migration set for SQLite and PostgreSQL.
//!
//! Files are named `mYYYYMMDD_HHMMSS_what.rs`; `DeriveMigrationName` takes the
//! migration's name from the file name, so one migration per file.

pub use sea_orm_migration::prelude::*;

mod m20261128_000001_core;
mod m20261128_000100_catalog;
pub mod m20261128_000200_digest;
mod m20261128_000300_metrics;
mod m20261128_000400_alias_ambiguous;
mod m20261205_020100_catalog_origin;
mod m20261205_020200_catalog_revision;
pub mod m20261205_030000_change_seq;
mod m20261205_050000_source_crashes;
mod m20261205_070000_source_section;
mod m20261206_020000_settings;
mod m20261206_030000_change_catalog_hits;
mod m20261206_090000_catalog_lookup_indexes;
mod m20261207_010000_mentions_by_source;
mod m20261208_010000_source_lease_indexes;
pub mod m20261209_010000_snapshot_text_lz4;
mod m20261210_010000_digest_deliveries;
mod m20261211_010000_mentions_unique_by_source;
mod m20261211_020000_snapshot_text_zstd;
mod m20261212_010000_unread_indexes;

pub struct Migrator;

impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261128_000001_core::Migration),
            Box::new(m20261128_000100_catalog::Migration),
            Box::new(m20261128_000200_digest::Migration),
            Box::new(m20261128_000300_metrics::Migration),
            Box::new(m20261128_000400_alias_ambiguous::Migration),
            Box::new(m20261205_020100_catalog_origin::Migration),
            Box::new(m20261205_020200_catalog_revision::Migration),
            Box::new(m20261205_030000_change_seq::Migration),
            Box::new(m20261205_050000_source_crashes::Migration),
            Box::new(m20261205_070000_source_section::Migration),
            Box::new(m20261206_020000_settings::Migration),
            Box::new(m20261206_030000_change_catalog_hits::Migration),
            Box::new(m20261206_090000_catalog_lookup_indexes::Migration),
            Box::new(m20261207_010000_mentions_by_source::Migration),
            Box::new(m20261208_010000_source_lease_indexes::Migration),
            Box::new(m20261209_010000_snapshot_text_lz4::Migration),
            Box::new(m20261210_010000_digest_deliveries::Migration),
            Box::new(m20261211_010000_mentions_unique_by_source::Migration),
            Box::new(m20261211_020000_snapshot_text_zstd::Migration),
            Box::new(m20261212_010000_unread_indexes::Migration),
        ]
    }
}
