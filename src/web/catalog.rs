//! The catalog: vendors, families with their versions, one entity with its
//! facts and evidence, and the review queue whose forms call the same store
//! operations as `catalog accept|reject|merge`.

use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;
use serde::Serialize;

use super::WebState;
use super::auth::{Visitor, authorize};
use super::error::PageError;
use super::form;
use crate::catalog::FactStatus;
use crate::store::catalog::{CandidateRow, CatalogStoreError, EntityDetail, FactRow, ModelRow, VendorRow};

fn catalog_error(e: CatalogStoreError) -> PageError {
    match e {
        CatalogStoreError::NotFound(m) => PageError::NotFound(m),
        CatalogStoreError::Invalid(m) => PageError::BadRequest(m),
        other => PageError::store(other),
    }
}

/// A family and its versions, or a model without a family.
#[derive(Serialize)]
struct Family {
    model: ModelRow,
    versions: Vec<ModelRow>,
}

#[derive(Serialize)]
struct IndexPage {
    title: &'static str,
    vendors: Vec<VendorRow>,
    families: Vec<Family>,
    pending: usize,
}

pub async fn index(State(state): State<WebState>, visitor: Visitor) -> Result<Response, PageError> {
    let store = state.store();
    let vendors = store.catalog_vendors().await.map_err(catalog_error)?;
    let models = store.catalog_models().await.map_err(catalog_error)?;
    let pending = store.catalog_facts(true, None).await.map_err(catalog_error)?.len();
    let is_version =
        |m: &ModelRow| m.family.as_ref().is_some_and(|f| *f != m.name && models.iter().any(|x| x.name == *f));
    let families = models
        .iter()
        .filter(|m| !is_version(m))
        .map(|m| Family {
            model: m.clone(),
            versions: models.iter().filter(|v| is_version(v) && v.family.as_ref() == Some(&m.name)).cloned().collect(),
        })
        .collect();
    state.inner.pages.render("catalog.html", &visitor, IndexPage { title: "Catalog", vendors, families, pending })
}

#[derive(Serialize)]
struct EntityPage {
    title: String,
    entity: EntityDetail,
}

pub async fn entity(
    State(state): State<WebState>,
    visitor: Visitor,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(raw.as_deref());
    let name = q.get("name").ok_or_else(|| PageError::BadRequest("name a vendor or model: ?name=…".to_owned()))?;
    let entity = state.store().catalog_show(name).await.map_err(catalog_error)?;
    state.inner.pages.render("entity.html", &visitor, EntityPage { title: entity.name.clone(), entity })
}

#[derive(Serialize)]
struct ReviewPage {
    title: &'static str,
    /// This page's share of each queue, and each queue's length.
    facts: Vec<FactRow>,
    facts_total: usize,
    candidates: Vec<CandidateRow>,
    candidates_total: usize,
    done: Option<String>,
    page: u64,
    prev: Option<String>,
    next: Option<String>,
}

/// Page `page` (1-based) of `rows`, `size` a page.
fn page_of<T>(mut rows: Vec<T>, page: u64, size: u64) -> Vec<T> {
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    let start = usize::try_from(page - 1).unwrap_or(usize::MAX).saturating_mul(size).min(rows.len());
    rows.drain(..start);
    rows.truncate(size);
    rows
}

pub async fn review(
    State(state): State<WebState>,
    visitor: Visitor,
    RawQuery(raw): RawQuery,
) -> Result<Response, PageError> {
    let q = form::query(raw.as_deref());
    let page = form::page(&q)?;
    let size = state.page_size();
    let store = state.store();
    let facts = store.catalog_facts(true, None).await.map_err(catalog_error)?;
    let candidates = store.catalog_candidates().await.map_err(catalog_error)?;
    let (facts_total, candidates_total) = (facts.len(), candidates.len());
    let more = (facts_total.max(candidates_total) as u64) > page * size;
    let mut without_done = q.clone();
    without_done.remove("done");
    let links = form::links(&without_done, page, more);
    let review = ReviewPage {
        title: "Review",
        facts: page_of(facts, page, size),
        facts_total,
        candidates: page_of(candidates, page, size),
        candidates_total,
        done: q.get("done").cloned(),
        prev: links.prev,
        next: links.next,
        page,
    };
    state.inner.pages.render("review.html", &visitor, review)
}

/// Back to where the form was, with what was done.
fn done(fields: &std::collections::HashMap<String, String>, what: &str) -> Response {
    let back = match fields.get("back").map(String::as_str) {
        Some(b) if b.starts_with("/catalog/show?") => b.to_owned(),
        _ => "/review".to_owned(),
    };
    let sep = if back.contains('?') { '&' } else { '?' };
    let done = url::form_urlencoded::Serializer::new(String::new()).append_pair("done", what).finish();
    let mut res = Redirect::to(&format!("{back}{sep}{done}")).into_response();
    *res.status_mut() = StatusCode::SEE_OTHER;
    res
}

async fn decide(
    state: &WebState,
    visitor: &Visitor,
    id: i64,
    body: &[u8],
    status: FactStatus,
) -> Result<Response, PageError> {
    let fields = authorize(visitor, body)?;
    state.store().catalog_decide(id, status, Utc::now()).await.map_err(catalog_error)?;
    tracing::info!(fact = id, status = status.as_str(), "Fact reviewed on the web");
    Ok(done(&fields, &format!("Fact #{id} {}.", status.as_str())))
}

pub async fn accept(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    decide(&state, &visitor, id, &body, FactStatus::Accepted).await
}

pub async fn reject_fact(
    State(state): State<WebState>,
    visitor: Visitor,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Response, PageError> {
    decide(&state, &visitor, id, &body, FactStatus::Rejected).await
}

/// Rejects a candidate or provisional entity by name, for good.
pub async fn reject_name(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Result<Response, PageError> {
    let fields = authorize(&visitor, &body)?;
    let name =
        fields.get("name").ok_or_else(|| PageError::BadRequest("the form names nothing to reject".to_owned()))?;
    let what = state.store().catalog_reject_name(name, Utc::now()).await.map_err(catalog_error)?;
    tracing::info!(name = %name, "Name rejected on the web");
    Ok(done(&fields, &what))
}

/// Merges entity `from` into `into` (`catalog merge FROM INTO`).
pub async fn merge(State(state): State<WebState>, visitor: Visitor, body: Bytes) -> Result<Response, PageError> {
    let fields = authorize(&visitor, &body)?;
    let (Some(from), Some(into)) = (fields.get("from"), fields.get("into")) else {
        return Err(PageError::BadRequest("a merge needs both names: from and into".to_owned()));
    };
    let e = state.store().catalog_merge(from, into).await.map_err(catalog_error)?;
    tracing::info!(from = %from, into = %e, "Entities merged on the web");
    Ok(done(&fields, &format!("Merged {from:?} into {e}.")))
}

#[cfg(test)]
mod tests {
    use super::page_of;

    #[test]
    fn pages_of_a_queue() {
        let rows: Vec<u32> = (1..=5).collect();
        assert_eq!(page_of(rows.clone(), 1, 2), vec![1, 2]);
        assert_eq!(page_of(rows.clone(), 3, 2), vec![5]);
        assert!(page_of(rows, 9, 2).is_empty());
    }
}
