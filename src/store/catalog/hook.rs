//! The runner's catalog hook: analyse a new snapshot against the catalog as
//! held now and record what it said.

use chrono::{DateTime, Utc};

use super::{CatalogStoreError, RecordedAnalysis};
use crate::catalog::{FactStatus, Matcher, analyse};
use crate::store::Store;
use crate::types::SourceId;

impl Store {
    /// Loads the catalog, matches the text off the async threads (it is CPU
    /// work) and records mentions, proposed facts and candidates in one
    /// transaction. The matcher is rebuilt per call: the catalog changes
    /// under review, and building it takes a fraction of a millisecond
    /// per hundred aliases.
    pub async fn catalog_observe_snapshot(
        &self,
        source: SourceId,
        snapshot_id: i64,
        text: String,
        at: DateTime<Utc>,
    ) -> Result<RecordedAnalysis, CatalogStoreError> {
        let catalog = self.load_catalog(&[FactStatus::Accepted]).await?;
        let analysis = tokio::task::spawn_blocking(move || {
            Matcher::new(&catalog).map(|m| analyse(&m, &text)).map_err(|e| e.to_string())
        })
        .await
        .map_err(|e| CatalogStoreError::Analysis(e.to_string()))?
        .map_err(CatalogStoreError::Analysis)?;
        self.record_catalog_analysis(source, snapshot_id, at, &analysis).await
    }
}
