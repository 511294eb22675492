//! sea-orm entities, one file per table, mirroring `migrations/`.

pub mod blobs;
pub mod catalog_aliases;
pub mod catalog_candidate_sightings;
pub mod catalog_candidates;
pub mod catalog_fact_evidence;
pub mod catalog_facts;
pub mod catalog_mentions;
pub mod catalog_models;
pub mod catalog_revision;
pub mod catalog_source_links;
pub mod catalog_terms;
pub mod catalog_vendors;
pub mod changes;
pub mod checks;
pub mod metrics;
pub mod settings;
pub mod snapshots;
pub mod sources;
