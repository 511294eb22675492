//! Fills [`DigestInputs`] for a period: changes (content, status, releases
//! and repository events), failing sources, the catalog's news (first
//! mentions, proposed facts, candidates) and metric deltas.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use crate::change::{ChangeDetails, MetadataChange};
use crate::digest::Period;
use crate::digest::inputs::{
    ChangeInput, DigestInputs, FailingInput, MetricInput, RepoEventInput, RepoEventKind, SourceRef, StatusChangeInput,
};
use crate::store::catalog::CatalogStoreError;
use crate::store::changes::{ChangeFilter, ChangeRow};
use crate::store::entity::sources;
use crate::store::{Store, StoreError};
use crate::types::{ChangeKind, ErrorKind, SourceId, SourceKind, SourceStatus};

/// Everything the period covers: the changes in its cursor (or, for an
/// explicit time window, recorded in `[period.start, period.end)`), the
/// catalog's news and metric movement in its time span, failing sources now.
pub async fn load_inputs(store: &Store, period: &Period) -> Result<DigestInputs, StoreError> {
    let filter = match period.cursor {
        Some(c) => ChangeFilter {
            since: c.not_before,
            after_seq: c.after,
            through_seq: Some(c.through),
            ..ChangeFilter::default()
        },
        None => ChangeFilter { since: Some(period.start), until: Some(period.end), ..ChangeFilter::default() },
    };
    let rows = store.list_changes(&filter).await?;
    let mut inputs = DigestInputs::default();
    for row in rows {
        match row.kind {
            ChangeKind::Status => inputs.status_changes.extend(status_change(&row)),
            ChangeKind::Release | ChangeKind::Metadata => match repo_event(&row) {
                Some(event) => inputs.repo_events.push(event),
                None => inputs.changes.push(content_change(row)),
            },
            ChangeKind::Content => inputs.changes.push(content_change(row)),
        }
    }
    inputs.failing = failing_sources(store).await?;
    let catalog = store.catalog_digest_inputs(period.start, period.end).await.map_err(|e| match e {
        CatalogStoreError::Store(e) => e,
        CatalogStoreError::Db(e) => StoreError::Db(e),
        other => StoreError::Corrupt(other.to_string()),
    })?;
    inputs.new_mentions = catalog.new_mentions;
    inputs.proposed_facts = catalog.proposed_facts;
    inputs.candidates = catalog.candidates;
    inputs.metrics = metric_inputs(store, period).await?;
    Ok(inputs)
}

/// Releases, renames and archives of watched repositories.
fn repo_event(row: &ChangeRow) -> Option<RepoEventInput> {
    let (kind, detail, url) = match details(row)? {
        ChangeDetails::Release(r) => (RepoEventKind::Release, r.release.tag, r.release.url),
        ChangeDetails::Metadata(MetadataChange::FullName { to, .. }) => (RepoEventKind::Rename, to, None),
        ChangeDetails::Metadata(MetadataChange::Archived { to: true, .. }) => {
            (RepoEventKind::Archive, String::new(), None)
        }
        _ => return None,
    };
    Some(RepoEventInput {
        kind,
        source: source_ref(row),
        detail,
        url: url.or_else(|| Some(row.url.clone())),
        at: row.detected_at,
    })
}

/// A row's typed details; JSON that is not what its kind stores is left
/// out of the typed reading (the row still counts as a plain change).
fn details(row: &ChangeRow) -> Option<ChangeDetails> {
    ChangeDetails::read(row.kind, &row.details)
        .map_err(|e| tracing::debug!(change_id = row.id, error = %e, "Change details of another shape"))
        .ok()
}

/// Week-over-week metric movement (stars, forks, downloads, likes) of the
/// watched repositories and models.
async fn metric_inputs(store: &Store, period: &Period) -> Result<Vec<MetricInput>, StoreError> {
    let rows = sources::Entity::find()
        .filter(sources::Column::Kind.is_in([SourceKind::Github.as_str(), SourceKind::Huggingface.as_str()]))
        .filter(sources::Column::RemovedAt.is_null())
        .all(store.db())
        .await?;
    let mut out = Vec::new();
    for s in rows {
        let subject = url::Url::parse(&s.url)
            .ok()
            .map(|u| u.path().trim_matches('/').to_owned())
            .filter(|p| !p.is_empty())
            .unwrap_or_else(|| s.url.clone());
        let source =
            SourceRef { id: SourceId(s.id), url: s.url.clone(), title: s.title.clone(), tags: tags_of(s.id, &s.tags)? };
        for d in store.metric_deltas(SourceId(s.id), period.start).await? {
            out.push(MetricInput {
                subject: subject.clone(),
                metric: d.metric.clone(),
                source: source.clone(),
                before: d.before.map(|b| b.round() as i64),
                after: d.now.round() as i64,
            });
        }
    }
    Ok(out)
}

fn source_ref(row: &ChangeRow) -> SourceRef {
    SourceRef { id: SourceId(row.source_id), url: row.url.clone(), title: row.title.clone(), tags: row.tags.clone() }
}

fn content_change(row: ChangeRow) -> ChangeInput {
    // A content change's details carry the page title at the time.
    let title = match details(&row) {
        Some(ChangeDetails::Content(c)) => c.title,
        _ => None,
    };
    let mut source = source_ref(&row);
    if source.title.as_deref().is_none_or(str::is_empty) {
        source.title = title;
    }
    ChangeInput {
        id: row.id,
        source,
        kind: row.kind,
        detected_at: row.detected_at,
        summary: row.summary,
        stats: row.stats,
        catalog_hits: row.catalog_hits,
        excerpt: row.excerpt,
    }
}

/// A status change's details: `{"from", "to", "error_kind", "final_url"}`.
/// A row whose statuses do not parse is skipped (logged), not fatal.
fn status_change(row: &ChangeRow) -> Option<StatusChangeInput> {
    let Some(ChangeDetails::Status(d)) = details(row) else {
        tracing::warn!(change_id = row.id, "Status change without readable from/to; left out of the digest.");
        return None;
    };
    Some(StatusChangeInput {
        source: source_ref(row),
        from: d.from,
        to: d.to,
        at: row.detected_at,
        final_url: d.final_url,
        error_kind: d.error_kind,
    })
}

/// A source's stored tags; a value that is not a JSON list is corrupt data.
fn tags_of(id: i64, tags: &str) -> Result<Vec<String>, StoreError> {
    serde_json::from_str(tags).map_err(|e| StoreError::Corrupt(format!("source #{id}: unreadable tags: {e}")))
}

/// Sources failing now, with when they were last fine.
async fn failing_sources(store: &Store) -> Result<Vec<FailingInput>, StoreError> {
    let rows = sources::Entity::find()
        .filter(sources::Column::Status.eq(SourceStatus::Failing.as_str()))
        .filter(sources::Column::RemovedAt.is_null())
        .all(store.db())
        .await?;
    let mut out = Vec::new();
    for s in rows {
        let since: DateTime<Utc> = s.last_ok_at.unwrap_or(s.created_at);
        let error_kind = s.last_error_kind.as_deref().and_then(|k| k.parse().ok()).unwrap_or(ErrorKind::Connect);
        out.push(FailingInput {
            source: SourceRef { id: SourceId(s.id), url: s.url, title: s.title, tags: tags_of(s.id, &s.tags)? },
            since,
            error_kind,
        });
    }
    Ok(out)
}
