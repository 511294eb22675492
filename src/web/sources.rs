//! Sources: the list with their health, one source with its history of
//! changes and statuses, and its archived snapshots (text and raw body).

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::WebState;
use super::auth::Visitor;
use super::error::PageError;
use super::form;
use crate::source::{Source, SourceRef};
use crate::store::StoreError;
use crate::store::archive::{SnapshotFull, SnapshotInfo};
use crate::store::changes::{ChangeFilter, ChangeRow};
use crate::types::{ChangeKind, SourceId, SourceStatus};

/// The most of a raw body shown on its page.
const MAX_RAW_SHOWN: usize = 2 * 1024 * 1024;

/// A source as the pages show it.
#[derive(Serialize)]
struct SourceView {
    id: i64,
    url: String,
    final_url: Option<String>,
    kind: &'static str,
    title: Option<String>,
    tags: Vec<String>,
    section: Option<String>,
    status: &'static str,
    last_error_kind: Option<&'static str>,
    last_error: Option<String>,
    last_checked_at: Option<DateTime<Utc>>,
    next_check_at: DateTime<Utc>,
    quarantined_at: Option<DateTime<Utc>>,
    healthy: bool,
}

impl From<&Source> for SourceView {
    fn from(s: &Source) -> Self {
        SourceView {
            id: s.id.0,
            url: s.url.to_string(),
            final_url: s.final_url.as_ref().map(ToString::to_string).filter(|f| *f != s.url.as_str()),
            kind: s.kind.as_str(),
            title: s.title.clone(),
            tags: s.tags.clone(),
            section: s.section.clone(),
            status: s.status.as_str(),
            last_error_kind: s.last_error_kind.map(|k| k.as_str()),
            last_error: s.last_error.clone(),
            last_checked_at: s.last_checked_at,
            next_check_at: s.next_check_at,
            quarantined_at: s.quarantined_at,
            healthy: matches!(s.status, SourceStatus::Ok | SourceStatus::Pending | SourceStatus::Paused),
        }
    }
}

#[derive(Serialize)]
struct ListPage {
    title: &'static str,
    sources: Vec<SourceView>,
    statuses: Vec<&'static str>,
    filter: std::collections::HashMap<String, String>,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(raw.as_deref());
    let page = form::page(&q)?;
    let status = match q.get("status") {
        Some(s) => Some(s.parse::<SourceStatus>().map_err(|e| PageError::BadRequest(e.to_string()))?),
        None => None,
    };
    let size = state.page_size();
    let mut rows = state.store().sources_page(status, (page - 1) * size, size + 1).await.map_err(PageError::store)?;
    let links = form::pager(&q, page, size, &mut rows);
    let list = ListPage {
        title: "Sources",
        sources: rows.iter().map(SourceView::from).collect(),
        statuses: SourceStatus::ALL.iter().map(|s| s.as_str()).collect(),
        prev: links.prev,
        next: links.next,
        filter: q,
        page,
    };
    state.inner.pages.render("sources.html", &visitor, list)
}

#[derive(Serialize)]
struct SourcePage {
    title: String,
    source: SourceView,
    statuses: Vec<ChangeRow>,
    changes: Vec<ChangeRow>,
    /// Newest first.
    snapshots: Vec<SnapshotInfo>,
    snapshots_total: usize,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

pub async fn show(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(raw.as_deref());
    let page = form::page(&q)?;
    let store = state.store();
    let source = match store.get_source(&SourceRef::Id(SourceId(id))).await {
        Ok(s) => s,
        Err(StoreError::NotFound(_)) => return Err(PageError::NotFound(format!("There is no source #{id}."))),
        Err(e) => return Err(PageError::store(e)),
    };
    let size = state.page_size();
    let statuses = store
        .list_changes(&ChangeFilter {
            source: Some(source.id),
            kind: Some(ChangeKind::Status),
            newest_first: true,
            limit: Some(size),
            ..ChangeFilter::default()
        })
        .await
        .map_err(PageError::store)?;
    let mut changes = store
        .list_changes(&ChangeFilter {
            source: Some(source.id),
            newest_first: true,
            offset: Some((page - 1) * size),
            limit: Some(size + 1),
            ..ChangeFilter::default()
        })
        .await
        .map_err(PageError::store)?;
    let links = form::pager(&q, page, size, &mut changes);
    let mut snapshots = store.list_snapshots(source.id).await.map_err(PageError::store)?;
    snapshots.reverse();
    let snapshots_total = snapshots.len();
    snapshots.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    let view = SourceView::from(&source);
    let page = SourcePage {
        title: source.title.clone().unwrap_or_else(|| view.url.clone()),
        source: view,
        statuses,
        changes,
        snapshots,
        snapshots_total,
        prev: links.prev,
        next: links.next,
        page,
    };
    state.inner.pages.render("source.html", &visitor, page)
}

#[derive(Serialize)]
struct SnapshotPage {
    title: String,
    snapshot: SnapshotFull,
    /// The raw body, when asked for and kept (lossy UTF-8, capped).
    raw: Option<String>,
    raw_cut: bool,
}

async fn snapshot_page(state: &WebState, visitor: &Visitor, id: i64, raw: bool) -> Result<Response, PageError> {
    let store = state.store();
    let snapshot = store
        .snapshot_full(id)
        .await
        .map_err(PageError::store)?
        .ok_or_else(|| PageError::NotFound(format!("There is no snapshot #{id}.")))?;
    let (mut body, mut raw_cut) = (None, false);
    if raw {
        let hash = snapshot
            .raw_hash
            .clone()
            .ok_or_else(|| PageError::NotFound(format!("Snapshot #{id} kept no raw body.")))?;
        let bytes = store
            .raw_body(&hash)
            .await
            .map_err(PageError::store)?
            .ok_or_else(|| PageError::NotFound(format!("The raw body of snapshot #{id} was pruned.")))?;
        raw_cut = bytes.len() > MAX_RAW_SHOWN;
        body = Some(String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_RAW_SHOWN)]).into_owned());
    }
    let page = SnapshotPage {
        title: format!("Snapshot #{id}{}", if raw { " (raw)" } else { "" }),
        snapshot,
        raw: body,
        raw_cut,
    };
    state.inner.pages.render("snapshot.html", visitor, page)
}

pub async fn snapshot(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    snapshot_page(&state, &visitor, id, false).await
}

pub async fn raw(State(state): State<WebState>, visitor: Visitor, Path(id): Path<i64>) -> Result<Response, PageError> {
    snapshot_page(&state, &visitor, id, true).await
}
