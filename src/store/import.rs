//! Importing a document's references: one transaction that de-duplicates
//! against every source already known, adds the new ones and records each
//! one's place in the document.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, Set};

use super::entity::sources::{self, Column, Entity};
use super::sources::{NewSource, new_row};
use super::{Store, StoreError};

/// One reference of the document, as a source to add.
#[derive(Debug, Clone)]
pub struct ImportItem {
    pub new: NewSource,
    /// The heading path, `第三章 … / 本章参考`.
    pub section: Option<String>,
    /// Rank in the document (0-based).
    pub position: i64,
}

/// What happened to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportOutcome {
    Added(i64),
    WouldAdd,
    /// Already watched (its place in the document is brought up to date).
    Exists(i64),
    /// The user removed this source earlier: an import does not overrule
    /// that (`sources add` does).
    Removed(i64),
}

/// The result of [`Store::import_sources`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Imported {
    Done(Vec<ImportOutcome>),
    /// More new sources than allowed; nothing was written.
    TooMany {
        new: usize,
        max: usize,
    },
}

type Known = (i64, String, Option<DateTime<Utc>>, Option<String>, Option<i64>);

impl Store {
    /// Adds `items` that are not known yet, in one transaction; `on_item`
    /// is called after each item (progress).
    ///
    /// A stored URL is the same page as an item when `same_page` maps it to
    /// the item's URL: sources added before tracking parameters were
    /// dropped (`?fr=aladdin`) are found under their clean URL.
    pub async fn import_sources(
        &self,
        items: &[ImportItem],
        same_page: impl Fn(&str) -> Option<String>,
        dry_run: bool,
        max_new: usize,
        now: DateTime<Utc>,
        on_item: &(dyn Fn() + Send + Sync),
    ) -> Result<Imported, StoreError> {
        let txn = self.write_txn().await?;
        let rows: Vec<Known> = Entity::find()
            .select_only()
            .column(Column::Id)
            .column(Column::Url)
            .column(Column::RemovedAt)
            .column(Column::Section)
            .column(Column::DocPosition)
            .into_tuple()
            .all(&txn)
            .await?;
        let mut known: HashMap<String, &Known> = HashMap::with_capacity(rows.len() * 2);
        for row in &rows {
            // The exact URL wins over a row that only maps to it.
            if let Some(key) = same_page(&row.1) {
                known.entry(key).or_insert(row);
            }
        }
        for row in &rows {
            known.insert(row.1.clone(), row);
        }
        let plan: Vec<Option<&Known>> = items.iter().map(|i| known.get(i.new.url.as_str()).copied()).collect();
        let new = plan.iter().filter(|p| p.is_none()).count();
        if new > max_new {
            return Ok(Imported::TooMany { new, max: max_new });
        }
        let mut out = Vec::with_capacity(items.len());
        for (item, found) in items.iter().zip(plan) {
            let outcome = match found {
                Some((id, _, Some(_), _, _)) => ImportOutcome::Removed(*id),
                Some((id, _, None, section, position)) => {
                    if !dry_run && (section != &item.section || *position != Some(item.position)) {
                        Entity::update_many()
                            .col_expr(Column::Section, Expr::value(item.section.clone()))
                            .col_expr(Column::DocPosition, Expr::value(item.position))
                            .filter(Column::Id.eq(*id))
                            .exec(&txn)
                            .await?;
                    }
                    ImportOutcome::Exists(*id)
                }
                None if dry_run => ImportOutcome::WouldAdd,
                None => {
                    let mut row = new_row(&item.new, now);
                    row.section = Set(item.section.clone());
                    row.doc_position = Set(Some(item.position));
                    let inserted: sources::Model = row.insert(&txn).await?;
                    ImportOutcome::Added(inserted.id)
                }
            };
            out.push(outcome);
            on_item();
        }
        if dry_run {
            txn.rollback().await?;
        } else {
            txn.commit().await?;
            if out.iter().any(|o| matches!(o, ImportOutcome::Added(_))) {
                self.refresh_source_statistics().await;
            }
        }
        Ok(Imported::Done(out))
    }

    /// PostgreSQL plans the claim of due sources from the table's
    /// statistics, which autovacuum refreshes a minute or more after a bulk
    /// import. Until then a freshly imported table reads as holding no due
    /// source, and every claim of the first sweep scans and sorts the whole
    /// table (1.9 ms at 2,000 sources) instead of walking the due index to
    /// its first rows (0.5 ms). So an import that added sources refreshes
    /// them at once; a failure is only logged (autovacuum still will).
    /// SQLite plans without statistics unless asked to keep them.
    async fn refresh_source_statistics(&self) {
        if self.is_sqlite() {
            return;
        }
        if let Err(e) = self.db().execute_unprepared("ANALYZE sources").await {
            tracing::warn!(error = %e, "Cannot refresh the sources table's statistics after the import; autovacuum will.");
        }
    }
}
