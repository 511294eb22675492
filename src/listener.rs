//! The HTTP listener the web view and the ops endpoints are served on,
//! bounded against clients that hold sockets open on purpose.
//!
//! `axum::serve` starts hyper without a timer, so hyper's header-read timeout
//! never runs, and it accepts every connection: a client that sends its
//! headers one byte a minute (slowloris) keeps a socket and a task forever,
//! and enough of them use up the process's file descriptors, after which
//! `/healthz` cannot accept either and a watchdog kills a healthy daemon.
//! Here each connection is hyper's HTTP/1 connection with tokio's timer,
//! and:
//!
//! - the request head must arrive within [`Limits::header_read`] of the
//!   connection being accepted — or, on a kept-alive connection, of the
//!   previous response (hyper starts the same timer when it waits for the
//!   next request), so it is the idle keep-alive timeout too;
//! - a request body must arrive whole within [`Limits::body_read`] (a total,
//!   not a gap between bytes: a body that trickles is refused with 408);
//! - a connection lives at most [`Limits::lifetime`]: then it is asked to
//!   close after its current response, and dropped if that response is not
//!   out within [`Limits::header_read`] (reading is bounded by the timeouts
//!   above, writing is not: a client that stops reading its responses
//!   would otherwise hold the connection for ever);
//! - at most [`Limits::max_connections`] connections are open at once per
//!   listener, and never more than a quarter of the file descriptors the
//!   process may open (so a flood of one listener leaves room for the
//!   other, the fetcher and the database); past it, accepting waits for a
//!   connection to close, and the kernel's backlog holds the rest without
//!   costing us a descriptor.
//!
//! Each request carries the peer's address as axum's `ConnectInfo`.
//! Shutdown stops accepting, asks every open connection to finish its
//! request and close, and returns once they have (the timeouts bound it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower::ServiceExt;

/// How long a client may take to send a request's headers, and how long a
/// kept-alive connection may sit idle. A browser sends its headers in one
/// packet; 10 s is generous for a slow phone link and short enough that
/// held connections free up quickly.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a whole request body. The largest
/// body the web view takes is 16 KiB (a review form is a few hundred
/// bytes), so 10 s asks for less than 2 KB/s.
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one connection may live. A page view takes well under a
/// second, and a browser that keeps its connection longer simply opens
/// another one.
pub const CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Connections open at once on the web view. One analyst's browser opens
/// six; the cap keeps a flood inside the usual soft limit of 1,024 file
/// descriptors, which the fetcher, the database pool and the ops listener
/// share (a lower limit lowers the cap, see [`connection_cap`]).
pub const WEB_MAX_CONNECTIONS: usize = 256;

/// Connections open at once on the ops listener: a Prometheus scraper and
/// a health probe or two.
pub const OPS_MAX_CONNECTIONS: usize = 32;

/// How often a full listener says so.
const FULL_WARNING_EVERY: Duration = Duration::from_secs(60);

/// What one listener allows a client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// From accept (or the previous response) to the end of the request head.
    pub header_read: Duration,
    /// For a whole request body.
    pub body_read: Duration,
    /// For a whole connection, kept alive or not.
    pub lifetime: Duration,
    /// The largest request body read; past it, 413.
    pub max_body: usize,
    /// Connections open at once.
    pub max_connections: usize,
}

impl Limits {
    /// The web view's limits (`max_body` is its forms' cap).
    pub const fn web(max_body: usize) -> Limits {
        Limits {
            header_read: HEADER_READ_TIMEOUT,
            body_read: BODY_READ_TIMEOUT,
            lifetime: CONNECTION_LIFETIME,
            max_body,
            max_connections: WEB_MAX_CONNECTIONS,
        }
    }

    /// The ops endpoints' limits: GETs only, so no body worth reading.
    pub const fn ops() -> Limits {
        Limits {
            header_read: HEADER_READ_TIMEOUT,
            body_read: BODY_READ_TIMEOUT,
            lifetime: CONNECTION_LIFETIME,
            max_body: 1024,
            max_connections: OPS_MAX_CONNECTIONS,
        }
    }
}

/// Serves `router` on `listener` within `limits` until `shutdown`, then
/// waits for the open connections to finish. `what` names the listener
/// in log lines.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: CancellationToken,
    what: &'static str,
) {
    let router = router.layer(middleware::from_fn_with_state(limits, read_body));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    let cap = connection_cap(limits.max_connections);
    tracing::debug!(listener = %what, max_connections = cap, "Listener limits");
    let slots = Arc::new(Semaphore::new(cap));
    let connections = TaskTracker::new();
    let mut warned_full: Option<Instant> = None;
    loop {
        let slot = match slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => {
                // Said at most once a minute: a flood would otherwise flood the log too.
                if warned_full.is_none_or(|at| at.elapsed() >= FULL_WARNING_EVERY) {
                    warned_full = Some(Instant::now());
                    tracing::warn!(listener = %what, max_connections = cap, "Listener full; new connections wait");
                }
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    slot = slots.clone().acquire_owned() => match slot {
                        Ok(slot) => slot,
                        Err(_) => break, // never closed
                    },
                }
            }
        };
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    accept_failed(what, &e, &shutdown).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
            req.extensions_mut().insert(ConnectInfo(peer));
            router.clone().oneshot(req.map(Body::new))
        });
        let conn = http.serve_connection(TokioIo::new(stream), service);
        let shutdown = shutdown.clone();
        connections.spawn(async move {
            let mut conn = std::pin::pin!(conn);
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = shutdown.cancelled() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
                _ = tokio::time::sleep(limits.lifetime) => {
                    conn.as_mut().graceful_shutdown();
                    match tokio::time::timeout(limits.header_read, conn).await {
                        Ok(result) => result,
                        Err(_) => {
                            tracing::debug!(listener = %what, %peer, "Connection dropped: its client does not read");
                            Ok(())
                        }
                    }
                }
            };
            if let Err(e) = result {
                // Timeouts and clients that hang up are routine: not a warning.
                tracing::debug!(listener = %what, %peer, error = %e, "Connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    connections.close();
    connections.wait().await;
}

/// The connections a listener may hold: `max`, but at most a quarter of
/// the file descriptors this process may open.
fn connection_cap(max: usize) -> usize {
    let fds = rlimit::getrlimit(rlimit::Resource::NOFILE).map_or(1024, |(soft, _hard)| soft);
    max.min(usize::try_from(fds / 4).unwrap_or(usize::MAX)).max(1)
}

/// After a failed accept: a connection that died in the backlog is
/// nothing; anything else (out of file descriptors) is logged and waited
/// out for a second rather than retried in a hot loop.
async fn accept_failed(what: &'static str, e: &std::io::Error, shutdown: &CancellationToken) {
    use std::io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::warn!(listener = %what, error = %e, "Cannot accept a connection");
    tokio::select! {
        _ = shutdown.cancelled() => {}
        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
    }
}

/// Reads the whole request body within `limits.body_read` and
/// `limits.max_body` before the handler runs, so no handler waits on a
/// client. A body too slow is 408, too large 413; both close the
/// connection, since the rest of the body may still be on the wire.
async fn read_body(State(limits): State<Limits>, req: Request, next: Next) -> Response {
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(limits.body_read, axum::body::to_bytes(body, limits.max_body)).await {
        Ok(Ok(bytes)) => next.run(Request::from_parts(parts, Body::from(bytes))).await,
        Ok(Err(e)) if is_length_limit(&e) => refuse(StatusCode::PAYLOAD_TOO_LARGE, "Request body too large.\n"),
        Ok(Err(_)) => refuse(StatusCode::BAD_REQUEST, "The request body could not be read.\n"),
        Err(_) => refuse(StatusCode::REQUEST_TIMEOUT, "The request body did not arrive in time.\n"),
    }
}

fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

fn refuse(status: StatusCode, message: &'static str) -> Response {
    let mut res = (status, message).into_response();
    res.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    res
}

/// The peer of a request served by [`serve`]; `None` when it was not.
pub fn peer(req: &axum::http::request::Parts) -> Option<SocketAddr> {
    req.extensions.get::<ConnectInfo<SocketAddr>>().map(|c| c.0)
}
