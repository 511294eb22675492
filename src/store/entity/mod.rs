//! sea-orm entities, one file per table, mirroring `migrations/`.

pub mod blobs;
pub mod changes;
pub mod checks;
pub mod snapshots;
pub mod sources;
