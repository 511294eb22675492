//! References: the document's reference list with each link's health — the
//! same rows as `export references` (`crate::references`), grouped by
//! heading path in document order.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;

use super::WebState;
use super::auth::Visitor;
use super::error::PageError;
use crate::references::{Health, ReferenceJson, reference_json};

#[derive(Serialize)]
struct Group {
    heading: String,
    rows: Vec<ReferenceJson>,
}

#[derive(Serialize)]
struct ReferencesPage {
    title: &'static str,
    groups: Vec<Group>,
    total: usize,
    attention: usize,
}

pub async fn list(State(state): State<WebState>, visitor: Visitor) -> Result<Response, PageError> {
    let rows: Vec<ReferenceJson> =
        state.store().reference_health().await.map_err(PageError::store)?.iter().map(reference_json).collect();
    let total = rows.len();
    let attention = rows.iter().filter(|r| !matches!(r.health, Health::Ok | Health::Pending | Health::Paused)).count();
    let mut groups: Vec<Group> = Vec::new();
    for r in rows {
        let heading = r.section.clone().unwrap_or_else(|| "Other sources (not from the document)".to_owned());
        match groups.last_mut() {
            Some(g) if g.heading == heading => g.rows.push(r),
            _ => groups.push(Group { heading, rows: vec![r] }),
        }
    }
    state.inner.pages.render(
        "references.html",
        &visitor,
        ReferencesPage { title: "References", groups, total, attention },
    )
}
