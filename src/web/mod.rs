//! The analyst's web view: the week's changes with their whole diffs, source
//! health and archived copies, the catalog with its review queue, and the
//! references — server-rendered HTML on `web.listen`, no JavaScript.
//!
//! Every page reads the database through the same `Store` queries as the
//! CLI, and every review action calls the same store operation as its
//! `catalog accept|reject|merge` command. Page text is hostile input: the
//! templates escape everything (autoescape on for every template) and the
//! response headers forbid scripts, framing and sniffing.

mod auth;
mod catalog;
mod changes;
mod error;
mod form;
mod login_budget;
mod pages;
mod references;
mod sources;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderValue, header};
use axum::middleware;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;

use crate::config::WebConfig;
use crate::listener::Limits;
use crate::store::Store;

pub use auth::SESSION_COOKIE;
pub use error::PageError;
pub use login_budget::LoginLimits;

/// The largest request body read (a review form is a few hundred bytes).
const MAX_BODY_BYTES: usize = 16 * 1024;

/// What the web view's listener allows a client.
pub const LIMITS: Limits = Limits::web(MAX_BODY_BYTES);

/// What every handler sees; cheap to clone.
#[derive(Clone)]
pub struct WebState {
    inner: Arc<Inner>,
}

struct Inner {
    store: Store,
    config: WebConfig,
    pages: pages::Pages,
    sessions: auth::Sessions,
    login_budget: login_budget::LoginBudget,
}

impl WebState {
    /// The web view's state; `login` sizes each client's budget of failed
    /// logins (`LoginLimits::default()` in the daemon).
    pub fn new(store: Store, config: WebConfig, login: LoginLimits) -> Result<WebState, PageError> {
        let sessions = auth::Sessions::new(config.session_ttl);
        let login_budget = login_budget::LoginBudget::new(login);
        Ok(WebState { inner: Arc::new(Inner { store, pages: pages::Pages::new()?, sessions, login_budget, config }) })
    }

    fn store(&self) -> &Store {
        &self.inner.store
    }

    fn config(&self) -> &WebConfig {
        &self.inner.config
    }

    fn page_size(&self) -> u64 {
        u64::from(self.inner.config.page_size)
    }
}

/// The routes, the limits and the security headers.
pub fn router(state: WebState) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/changes") }))
        .route("/changes", get(changes::list))
        .route("/changes/{id}", get(changes::show))
        .route("/sources", get(sources::list))
        .route("/sources/{id}", get(sources::show))
        .route("/snapshots/{id}", get(sources::snapshot))
        .route("/snapshots/{id}/raw", get(sources::raw))
        .route("/catalog", get(catalog::index))
        .route("/catalog/show", get(catalog::entity))
        .route("/review", get(catalog::review))
        .route("/review/facts/{id}/accept", post(catalog::accept))
        .route("/review/facts/{id}/reject", post(catalog::reject_fact))
        .route("/review/reject", post(catalog::reject_name))
        .route("/review/merge", post(catalog::merge))
        .route("/references", get(references::list))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/static/style.css", get(style))
        .fallback(|| async { PageError::NotFound("no such page".to_owned()).into_response() })
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_login_to_read))
        .layer(middleware::from_fn(security_headers))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}

/// Serves the web view on `listener` within `limits` ([`LIMITS`] in the
/// daemon) until `shutdown`.
pub async fn serve(listener: tokio::net::TcpListener, state: WebState, limits: Limits, shutdown: CancellationToken) {
    crate::listener::serve(listener, router(state), limits, shutdown, "web").await;
}

const STYLE: &str = include_str!("templates/style.css");

async fn style() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8"), (header::CACHE_CONTROL, "max-age=3600")], STYLE)
        .into_response()
}

/// No script runs (none is served, inline ones are refused), nothing frames
/// the pages, types are not sniffed, and no URL leaks to the sites the
/// pages link to.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
                   base-uri 'none'; frame-ancestors 'none'";

async fn security_headers(req: axum::extract::Request, next: middleware::Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    h.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
    h.entry(header::CACHE_CONTROL).or_insert(HeaderValue::from_static("no-store"));
    res
}
