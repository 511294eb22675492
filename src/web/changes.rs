//! Changes: the list (newest first; tag, kind, source and period filters)
//! and one change with its whole diff.

use axum::extract::{Path, RawQuery, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::WebState;
use super::auth::Visitor;
use super::error::PageError;
use super::form;
use crate::excerpt::ExcerptLine;
use crate::store::changes::{ChangeFilter, ChangeRow};
use crate::types::{ChangeKind, SourceId};

#[derive(Serialize)]
struct ListPage {
    title: &'static str,
    changes: Vec<ChangeRow>,
    kinds: Vec<&'static str>,
    filter: std::collections::HashMap<String, String>,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

/// `since` / `until`: a date (midnight UTC) or an RFC 3339 instant.
fn instant(key: &str, q: &std::collections::HashMap<String, String>) -> Result<Option<DateTime<Utc>>, PageError> {
    let Some(v) = q.get(key) else { return Ok(None) };
    if let Ok(t) = DateTime::parse_from_rfc3339(v) {
        return Ok(Some(t.with_timezone(&Utc)));
    }
    chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Some(d.and_utc()))
        .ok_or_else(|| PageError::BadRequest(format!("{key} must be a date such as 2026-11-23, got {v:?}")))
}

/// `until` is inclusive: a date runs to its end.
fn until(q: &std::collections::HashMap<String, String>) -> Result<Option<DateTime<Utc>>, PageError> {
    Ok(match instant("until", q)? {
        Some(t) if q.get("until").is_some_and(|v| !v.contains('T')) => Some(t + chrono::Duration::days(1)),
        other => other,
    })
}

pub async fn list(
    State(state): State<WebState>,
    visitor: Visitor,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(raw.as_deref());
    let page = form::page(&q)?;
    let kind = match q.get("kind") {
        Some(k) => Some(k.parse::<ChangeKind>().map_err(|e| PageError::BadRequest(e.to_string()))?),
        None => None,
    };
    let source = match q.get("source") {
        Some(s) => Some(SourceId(
            s.parse().map_err(|_| PageError::BadRequest(format!("source must be a source id, got {s:?}")))?,
        )),
        None => None,
    };
    let size = state.page_size();
    let filter = ChangeFilter {
        since: instant("since", &q)?,
        until: until(&q)?,
        kind,
        source,
        tag: q.get("tag").cloned(),
        newest_first: true,
        offset: Some((page - 1) * size),
        // One more than shown: whether there is a next page.
        limit: Some(size + 1),
        ..ChangeFilter::default()
    };
    let mut changes = state.store().list_changes(&filter).await.map_err(PageError::store)?;
    let links = form::pager(&q, page, size, &mut changes);
    let list = ListPage {
        title: "Changes",
        changes,
        kinds: ChangeKind::ALL.iter().map(|k| k.as_str()).collect(),
        prev: links.prev,
        next: links.next,
        filter: q,
        page,
    };
    state.inner.pages.render("changes.html", &visitor, list)
}

#[derive(Serialize)]
struct ChangePage {
    title: String,
    change: ChangeRow,
    before: Option<DateTime<Utc>>,
    after: Option<DateTime<Utc>>,
    /// The whole diff as marked lines; `None` when a snapshot is missing
    /// (status changes, pruned history).
    diff: Option<Vec<ExcerptLine>>,
    excerpt: Vec<ExcerptLine>,
    details: Option<String>,
}

pub async fn show(State(state): State<WebState>, visitor: Visitor, Path(id): Path<i64>) -> Result<Response, PageError> {
    let store = state.store();
    let change = store
        .get_change(id)
        .await
        .map_err(PageError::store)?
        .ok_or_else(|| PageError::NotFound(format!("There is no change #{id}.")))?;
    let (from, to) = store.change_snapshots(&change).await.map_err(PageError::store)?;
    let (before, after) = (from.as_ref().map(|s| s.created_at), to.as_ref().map(|s| s.created_at));
    let diff = match (from, to) {
        (Some(old), Some(new)) => {
            let lines = tokio::task::spawn_blocking(move || crate::diff::whole_diff_lines(&old.text, &new.text))
                .await
                .map_err(|e| PageError::Store(format!("the diff failed: {e}")))?;
            Some(lines)
        }
        _ => None,
    };
    let details = (!change.details.is_null() && change.details != serde_json::json!({}))
        .then(|| serde_json::to_string_pretty(&change.details).unwrap_or_default());
    let page = ChangePage {
        title: format!("Change #{id}"),
        excerpt: crate::excerpt::parse(&change.excerpt),
        change,
        before,
        after,
        diff,
        details,
    };
    state.inner.pages.render("change.html", &visitor, page)
}
