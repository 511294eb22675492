//! Running the daemon for months: the ops endpoints (`/healthz` the process
//! answers, `/readyz` the database answers, `/metrics` in Prometheus text
//! format), the metrics themselves, and systemd's watchdog.
//!
//! The endpoints have their own listener with its own connection cap
//! (`crate::listener`), so a flood of the web view leaves `/healthz`
//! answering.

pub mod db_file;
pub mod metrics;
pub mod watchdog;

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use metrics_exporter_prometheus::PrometheusHandle;
use tokio_util::sync::CancellationToken;

use crate::listener::Limits;
use crate::store::Store;

#[derive(Clone)]
struct OpsState {
    store: Store,
    metrics: Option<PrometheusHandle>,
}

pub use metrics::install as install_metrics;

/// Serves the ops endpoints on `listener` until `shutdown`.
pub async fn serve(
    listener: tokio::net::TcpListener,
    store: Store,
    metrics: Option<PrometheusHandle>,
    shutdown: CancellationToken,
) {
    let app = Router::new()
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(ready))
        .route("/metrics", get(render_metrics))
        .with_state(OpsState { store, metrics });
    crate::listener::serve(listener, app, Limits::ops(), shutdown, "ops").await;
}

async fn ready(State(state): State<OpsState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}

async fn render_metrics(State(state): State<OpsState>) -> (StatusCode, String) {
    match &state.metrics {
        Some(handle) => (StatusCode::OK, handle.render()),
        None => (StatusCode::SERVICE_UNAVAILABLE, "metrics recorder not installed\n".to_owned()),
    }
}
