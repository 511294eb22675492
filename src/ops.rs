//! `/healthz` (the process answers), `/readyz` (the database answers).

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use tokio_util::sync::CancellationToken;

use crate::store::Store;

pub async fn serve(listener: tokio::net::TcpListener, store: Store, shutdown: CancellationToken) {
    let app = Router::new().route("/healthz", get(|| async { "ok\n" })).route("/readyz", get(ready)).with_state(store);
    if let Err(e) = axum::serve(listener, app).with_graceful_shutdown(shutdown.cancelled_owned()).await {
        tracing::error!(error = %e, "Ops server failed");
    }
}

async fn ready(State(store): State<Store>) -> (StatusCode, &'static str) {
    match store.ping().await {
        Ok(()) => (StatusCode::OK, "ready\n"),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable\n"),
    }
}
