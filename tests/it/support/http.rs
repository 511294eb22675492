//! A real HTTP server on 127.0.0.1:0 whose pages a test sets and changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Request, Response, StatusCode};
use sha2::{Digest, Sha256};

/// What the server answers for one path.
#[derive(Debug, Clone)]
pub struct Page {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// Send an ETag derived from the body and answer 304 to a matching
    /// If-None-Match, as a well-behaved server does.
    pub etag: bool,
}

impl Page {
    pub fn html(body: impl Into<String>) -> Page {
        Page {
            status: 200,
            headers: vec![("content-type".into(), "text/html; charset=utf-8".into())],
            body: body.into().into_bytes(),
            etag: true,
        }
    }

    pub fn bytes(content_type: &str, body: Vec<u8>) -> Page {
        Page { status: 200, headers: vec![("content-type".into(), content_type.into())], body, etag: false }
    }

    pub fn status(status: u16) -> Page {
        Page { status, headers: Vec::new(), body: format!("status {status}").into_bytes(), etag: false }
    }

    pub fn redirect(status: u16, to: &str) -> Page {
        Page { status, headers: vec![("location".into(), to.into())], body: Vec::new(), etag: false }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Page {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn without_etag(mut self) -> Page {
        self.etag = false;
        self
    }
}

/// One request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub path: String,
    pub headers: HeaderMap,
    pub status: u16,
}

#[derive(Default)]
struct Shared {
    pages: Mutex<HashMap<String, Page>>,
    seen: Mutex<Vec<Seen>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
}

pub struct TestServer {
    pub addr: SocketAddr,
    shared: Arc<Shared>,
    _task: tokio::task::JoinHandle<()>,
}

impl TestServer {
    pub async fn start() -> TestServer {
        let shared = Arc::new(Shared::default());
        let app = Router::new().fallback(handle).with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        TestServer { addr, shared, _task: task }
    }

    /// The absolute URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn set(&self, path: &str, page: Page) {
        self.shared.pages.lock().unwrap().insert(path.to_owned(), page);
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.shared.seen.lock().unwrap().clone()
    }

    pub fn seen_path(&self, path: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.path == path).collect()
    }

    pub fn max_in_flight(&self) -> usize {
        self.shared.max_in_flight.load(Ordering::SeqCst)
    }
}

async fn handle(State(shared): State<Arc<Shared>>, req: Request<Body>) -> Response<Body> {
    let now = shared.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    shared.max_in_flight.fetch_max(now, Ordering::SeqCst);
    let path = req.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let page = shared.pages.lock().unwrap().get(&path).cloned();
    let response = match page {
        None => Response::builder().status(404).body(Body::from("not found")).unwrap(),
        Some(page) => respond(&page, req.headers()),
    };
    shared.seen.lock().unwrap().push(Seen { path, headers: req.headers().clone(), status: response.status().as_u16() });
    shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    response
}

fn respond(page: &Page, headers: &HeaderMap) -> Response<Body> {
    let mut builder = Response::builder().status(StatusCode::from_u16(page.status).unwrap());
    for (k, v) in &page.headers {
        builder = builder.header(k, v);
    }
    if page.etag {
        let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&page.body))[..16]);
        if headers.get("if-none-match").and_then(|v| v.to_str().ok()) == Some(etag.as_str()) {
            return Response::builder().status(304).header("etag", etag).body(Body::empty()).unwrap();
        }
        builder = builder.header("etag", etag);
    }
    builder.body(Body::from(page.body.clone())).unwrap()
}
