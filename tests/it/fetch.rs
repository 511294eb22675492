//! Fetching against a real local HTTP server: charsets, caps, timeouts,
//! redirects, liveness through the CLI, politeness, robots.txt, Retry-After
//! and the SSRF guard. Every test stays well under 3 s.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::Response;
use axum::routing::get;
use bytes::Bytes;
use modelwatch::config::{Config, Overrides};
use modelwatch::fetch::charset;
use modelwatch::fetch::{FetchOutcome, FetchRequest, Fetched, Fetcher};
use modelwatch::types::ErrorKind;
use url::Url;

use crate::support::{Backend, Mw, Page, TestServer, init_crypto};

const ZH: &str = "通义千问发布新版本，参数量达到1750亿，支持多轮对话与长文本理解。";
const ZH_TW: &str = "人工智慧大型語言模型的發展與應用，臺灣廠商積極投入研發。";
const JA: &str = "大規模言語モデルの開発競争が激しくなっている。";

/// A fetcher on the test defaults plus `extra` TOML for `[fetch]`.
fn fetcher(extra: &str) -> Fetcher {
    init_crypto();
    let mut table: toml::Table = toml::from_str(
        "allow_private_networks = true\ntimeout = \"2s\"\nconnect_timeout = \"1s\"\n\
         per_host_interval = \"1ms\"\nretries = 0\nretry_min_delay = \"10ms\"\nretry_max_delay = \"2s\"\n\
         respect_robots = false",
    )
    .unwrap();
    table.extend(toml::from_str::<toml::Table>(extra).unwrap());
    let toml = format!("[fetch]\n{table}");
    let config = Config::from_toml(&toml, "test", std::env::temp_dir(), &Overrides::default()).unwrap();
    Fetcher::new(&config.fetch).unwrap()
}

async fn fetch(f: &Fetcher, url: &str) -> FetchOutcome {
    f.fetch(&FetchRequest::get(Url::parse(url).unwrap())).await
}

fn fetched(o: FetchOutcome) -> Fetched {
    match o {
        FetchOutcome::Fetched(f) => f,
        other => panic!("expected a body, got {other:?}"),
    }
}

fn failed(o: &FetchOutcome) -> (ErrorKind, Option<Duration>) {
    match o {
        FetchOutcome::Failed(f) => (f.kind, f.retry_after),
        other => panic!("expected a failure, got {other:?}"),
    }
}

/// A server for what the page harness cannot say: streams, bombs, counters.
struct Special {
    addr: SocketAddr,
    hits: Arc<Mutex<Vec<(String, Instant)>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
}

impl Special {
    fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
    fn hits(&self, prefix: &str) -> Vec<Instant> {
        self.hits.lock().unwrap().iter().filter(|(p, _)| p.starts_with(prefix)).map(|(_, t)| *t).collect()
    }
}

#[derive(Clone)]
struct St {
    hits: Arc<Mutex<Vec<(String, Instant)>>>,
    in_flight: Arc<AtomicUsize>,
    max_in_flight: Arc<AtomicUsize>,
    bomb: Bytes,
}

async fn special() -> Special {
    // 256 MiB of zeros gzip to ~250 KiB: a 1000:1 bomb.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..256 {
        gz.write_all(&zeros).unwrap();
    }
    let st = St {
        hits: Arc::default(),
        in_flight: Arc::default(),
        max_in_flight: Arc::default(),
        bomb: Bytes::from(gz.finish().unwrap()),
    };
    let app = Router::new()
        .route("/huge", get(|| async { huge(true) }))
        .route("/huge-chunked", get(|| async { huge(false) }))
        .route(
            "/bomb",
            get(|State(st): State<St>| async move {
                Response::builder()
                    .header("content-type", "text/html; charset=utf-8")
                    .header("content-encoding", "gzip")
                    .body(Body::from(st.bomb.clone()))
                    .unwrap()
            }),
        )
        .route("/endless", get(|| async { endless() }))
        .route("/slow/{n}", get(slow))
        .with_state(st.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Special { addr, hits: st.hits, in_flight: st.in_flight, max_in_flight: st.max_in_flight }
}

/// 200 MB of HTML, produced lazily so the server holds 64 KiB at a time.
fn huge(with_length: bool) -> Response<Body> {
    const TOTAL: usize = 200 * 1024 * 1024;
    const CHUNK: usize = 64 * 1024;
    let chunk = Bytes::from(vec![b'a'; CHUNK]);
    let stream = futures::stream::iter((0..TOTAL / CHUNK).map(move |_| Ok::<_, std::io::Error>(chunk.clone())));
    let mut b = Response::builder().header("content-type", "text/html");
    if with_length {
        b = b.header("content-length", TOTAL.to_string());
    }
    b.body(Body::from_stream(stream)).unwrap()
}

/// A response that never ends: a little HTML every 50 ms, forever.
fn endless() -> Response<Body> {
    let stream = futures::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(50)).await;
        Some((Ok::<_, std::io::Error>(Bytes::from_static("<p>更多内容加载中……</p>\n".as_bytes())), ()))
    });
    Response::builder().header("content-type", "text/html; charset=utf-8").body(Body::from_stream(stream)).unwrap()
}

async fn slow(State(st): State<St>, Path(n): Path<String>) -> String {
    st.hits.lock().unwrap().push((format!("/slow/{n}"), Instant::now()));
    let now = st.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
    st.max_in_flight.fetch_max(now, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(150)).await;
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
    format!("<html><body><p>第{n}篇：智谱AI发布GLM-4。</p></body></html>")
}

fn html(body: &str, meta: &str) -> String {
    format!("<html><head>{meta}<title>LLM news</title></head><body><article><p>{body}</p></article></body></html>")
}

fn encoded(enc: &'static encoding_rs::Encoding, text: &str) -> Vec<u8> {
    let (bytes, _, unmappable) = enc.encode(text);
    assert!(!unmappable, "{} cannot encode the test text", enc.name());
    bytes.into_owned()
}

#[tokio::test]
async fn every_charset_variant_decodes_through_http() {
    let server = TestServer::start().await;
    // GB18030 beyond GBK: 𠮷 (U+20BB7) needs a four-byte sequence.
    let gb18030_text = format!("{ZH}𠮷");
    let cases: Vec<(&str, Page, String)> = vec![
        ("/gbk-header", Page::bytes("text/html; charset=GBK", encoded(encoding_rs::GBK, &html(ZH, ""))), ZH.to_owned()),
        (
            "/gb2312-meta",
            Page::bytes(
                "text/html",
                encoded(
                    encoding_rs::GBK,
                    &html(ZH, r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#),
                ),
            ),
            ZH.to_owned(),
        ),
        (
            "/gb18030",
            Page::bytes("text/html; charset=gb18030", encoded(encoding_rs::GB18030, &html(&gb18030_text, ""))),
            gb18030_text.clone(),
        ),
        ("/big5", Page::bytes("text/html", encoded(encoding_rs::BIG5, &html(&ZH_TW.repeat(3), ""))), ZH_TW.to_owned()),
        (
            "/shift-jis",
            Page::bytes(
                "text/html",
                encoded(encoding_rs::SHIFT_JIS, &html(&JA.repeat(3), r#"<meta charset="Shift_JIS">"#)),
            ),
            JA.to_owned(),
        ),
        ("/utf8-undeclared", Page::bytes("text/html", html(ZH, "").into_bytes()), ZH.to_owned()),
        (
            "/utf8-header-gbk-bytes",
            Page::bytes("text/html; charset=utf-8", encoded(encoding_rs::GBK, &html(&ZH.repeat(3), ""))),
            ZH.to_owned(),
        ),
    ];
    for (path, page, _) in &cases {
        server.set(path, page.clone());
    }
    let f = fetcher("");
    for (path, _, expected) in &cases {
        let got = fetched(fetch(&f, &server.url(path)).await);
        let decoded = charset::decode(&got.body, got.content_type.as_deref(), None, got.final_url.host_str());
        assert!(
            decoded.text.contains(expected.as_str()),
            "{path}: decoded as {} to {}",
            decoded.encoding,
            decoded.text
        );
        assert!(!decoded.had_errors, "{path}: replacement characters in {}", decoded.text);
    }
}

#[tokio::test]
async fn huge_bodies_and_bombs_end_as_too_large() {
    let s = special().await;
    let f = fetcher("max_body_bytes = 2097152");
    for path in ["/huge", "/huge-chunked", "/bomb"] {
        let started = Instant::now();
        let o = fetch(&f, &s.url(path)).await;
        assert_eq!(failed(&o).0, ErrorKind::TooLarge, "{path}: {o:?}");
        // Reading stopped at the cap: nowhere near the time 200 MB would take.
        assert!(started.elapsed() < Duration::from_secs(2), "{path} took {:?}", started.elapsed());
    }
}

#[tokio::test]
async fn a_never_ending_response_ends_at_the_timeout() {
    let s = special().await;
    let f = fetcher("timeout = \"1s\"");
    let started = Instant::now();
    let o = fetch(&f, &s.url("/endless")).await;
    assert_eq!(failed(&o).0, ErrorKind::Timeout, "{o:?}");
    let took = started.elapsed();
    assert!(took >= Duration::from_millis(950) && took < Duration::from_millis(1800), "took {took:?}");
}

#[tokio::test]
async fn status_and_redirect_outcomes() {
    let server = TestServer::start().await;
    server.set("/loop/a", Page::redirect(302, "/loop/b"));
    server.set("/loop/b", Page::redirect(302, "/loop/a"));
    server.set("/deleted", Page::status(410));
    server.set("/busy", Page::status(503));
    server.set("/forbidden", Page::status(403));
    let f = fetcher("");
    assert_eq!(failed(&fetch(&f, &server.url("/loop/a")).await).0, ErrorKind::RedirectLoop);
    assert!(matches!(fetch(&f, &server.url("/missing")).await, FetchOutcome::Gone { status: 404, .. }));
    assert!(matches!(fetch(&f, &server.url("/deleted")).await, FetchOutcome::Gone { status: 410, .. }));
    assert_eq!(failed(&fetch(&f, &server.url("/busy")).await).0, ErrorKind::HttpStatus);

    // Connection refused: a port that was just free.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let o = fetch(&f, &format!("http://127.0.0.1:{port}/news/1.html")).await;
    assert_eq!(failed(&o).0, ErrorKind::Connect, "{o:?}");

    // With retries on: a 503 is tried again, a 403 is not.
    let f = fetcher("retries = 2");
    assert_eq!(failed(&fetch(&f, &server.url("/busy")).await).0, ErrorKind::HttpStatus);
    assert_eq!(server.seen_path("/busy").len(), 1 + 3, "one plain attempt, then 1 + 2 retries");
    assert_eq!(failed(&fetch(&f, &server.url("/forbidden")).await).0, ErrorKind::HttpStatus);
    assert_eq!(server.seen_path("/forbidden").len(), 1, "a 403 is never retried");
}

/// A 503 that is an anti-bot challenge is the site refusing us, not a
/// passing overload: asking again within seconds gets the same challenge
/// and only looks more like a bot. It was retried like any 503 (and the
/// harness named the challenge only after the retries); now it is one
/// request and a `blocked` failure, from every source kind's fetch. An
/// overloaded 503 is still retried.
#[tokio::test]
async fn a_challenge_answered_503_is_not_asked_again() {
    let server = TestServer::start().await;
    let challenge = "<!DOCTYPE html><html><head><title>Just a moment...</title></head><body>\
        <h2>Checking if the site connection is secure</h2>\
        <script>window._cf_chl_opt={cType:'managed'};</script></body></html>";
    let mut by_header = Page::html("<html><body>one moment</body></html>").with_header("cf-mitigated", "challenge");
    by_header.status = 503;
    let mut by_body = Page::html(challenge);
    by_body.status = 503;
    let mut overloaded = Page::html("<html><head><title>503 Service Temporarily Unavailable</title></head></html>");
    overloaded.status = 503;
    server.set("/by-header", by_header);
    server.set("/by-body", by_body);
    server.set("/overloaded", overloaded);
    let f = fetcher("retries = 2");
    for path in ["/by-header", "/by-body"] {
        match fetch(&f, &server.url(path)).await {
            FetchOutcome::Failed(e) => {
                assert_eq!((e.kind, e.status), (ErrorKind::Blocked, Some(503)), "{path}: {e:?}");
                assert!(e.message.starts_with("HTTP 503: an anti-bot verification page"), "{path}: {}", e.message);
            }
            other => panic!("{path}: expected a failure, got {other:?}"),
        }
        assert_eq!(server.seen_path(path).len(), 1, "{path}: a challenge is asked once");
    }
    assert_eq!(failed(&fetch(&f, &server.url("/overloaded")).await).0, ErrorKind::HttpStatus);
    assert_eq!(server.seen_path("/overloaded").len(), 3, "an overloaded 503 is still retried");
}

#[tokio::test]
async fn a_transient_failure_inside_one_check_is_retried_away() {
    let server = TestServer::start().await;
    server.set("/flaky", Page::status(502));
    let f = fetcher("retries = 2\nretry_min_delay = \"300ms\"");
    let f2 = f.clone();
    let url = server.url("/flaky");
    let task = tokio::spawn(async move { fetch(&f2, &url).await });
    // The first attempt fails; the page is back before the retry.
    tokio::time::sleep(Duration::from_millis(150)).await;
    server.set("/flaky", Page::html(html(ZH, "")));
    let got = fetched(task.await.unwrap());
    assert!(String::from_utf8_lossy(&got.body).contains(ZH));
    assert_eq!(server.seen_path("/flaky").len(), 2);
}

#[tokio::test]
async fn retry_after_pushes_the_whole_host_back() {
    let server = TestServer::start().await;
    server.set("/api/1", Page::status(429).with_header("retry-after", "120"));
    server.set("/api/2", Page::html(html(ZH, "")));
    let f = fetcher("retries = 2");
    let (kind, retry_after) = failed(&fetch(&f, &server.url("/api/1")).await);
    assert_eq!((kind, retry_after), (ErrorKind::RateLimited, Some(Duration::from_secs(120))));
    assert_eq!(server.seen_path("/api/1").len(), 1, "a 2-minute Retry-After is not waited out inside a check");
    // Another URL on the same host is not even asked: deferred, not failed
    // (issue 13).
    match fetch(&f, &server.url("/api/2")).await {
        FetchOutcome::Deferred { wait, .. } => assert!(wait > Duration::from_secs(115), "{wait:?}"),
        other => panic!("expected a deferral, got {other:?}"),
    }
    assert!(server.seen_path("/api/2").is_empty());

    // A short Retry-After is honoured inside the check: the retry waits it out.
    let server = TestServer::start().await;
    server.set("/short", Page::status(503).with_header("retry-after", "1"));
    let f = fetcher("retries = 1");
    let started = Instant::now();
    assert_eq!(failed(&fetch(&f, &server.url("/short")).await).0, ErrorKind::HttpStatus);
    assert_eq!(server.seen_path("/short").len(), 2);
    assert!(started.elapsed() >= Duration::from_secs(1), "{:?}", started.elapsed());
}

#[tokio::test]
async fn one_host_gets_at_most_its_limit_and_its_spacing() {
    let s = special().await;
    let f = fetcher("per_host_concurrency = 2\nper_host_interval = \"100ms\"");
    let started = Instant::now();
    let all = futures::future::join_all((0..6).map(|i| {
        let f = f.clone();
        let url = s.url(&format!("/slow/{i}"));
        async move { fetch(&f, &url).await }
    }))
    .await;
    for o in all {
        fetched(o);
    }
    assert_eq!(s.max_in_flight.load(Ordering::SeqCst), 2, "never more than two at once, and two were used");
    let mut starts = s.hits("/slow/");
    starts.sort();
    // The server sees the starts with the scheduler's jitter: a request sent
    // late arrives close to the next one, sent on time (84 and 39 ms apart
    // on a machine at load 8). The spacing shows over the whole run (five
    // gaps of 100 ms, less one late start), and no two requests come
    // together, as two at once without spacing would.
    let span = starts[starts.len() - 1] - starts[0];
    assert!(span >= Duration::from_millis(400), "6 requests over {span:?}");
    for pair in starts.windows(2) {
        let gap = pair[1] - pair[0];
        assert!(gap >= Duration::from_millis(15), "requests {gap:?} apart");
    }
    // Two at once is asserted above; this only catches a limiter that
    // waits far past its spacing (a loaded test machine took 2 s).
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
    assert_eq!(s.in_flight.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn robots_txt_is_honoured_cached_and_switchable() {
    let server = TestServer::start().await;
    server.set(
        "/robots.txt",
        Page::bytes(
            "text/plain",
            b"User-agent: *\nDisallow: /search\n\nUser-agent: modelwatch\nDisallow: /private/\n".to_vec(),
        ),
    );
    server.set("/private/report.html", Page::html(html(ZH, "")));
    server.set("/news/1.html", Page::html(html(ZH, "")));
    let f = fetcher("respect_robots = true");
    let url = Url::parse(&server.url("/private/report.html")).unwrap();
    let mut req = FetchRequest::get(url.clone());
    let o = f.fetch(&req).await;
    assert_eq!(failed(&o).0, ErrorKind::Blocked, "{o:?}");
    assert!(server.seen_path("/private/report.html").is_empty(), "a disallowed page is never requested");
    fetched(fetch(&f, &server.url("/news/1.html")).await);
    assert_eq!(server.seen_path("/robots.txt").len(), 1, "robots.txt is cached per host");
    let ua = server.seen_path("/robots.txt")[0].headers["user-agent"].to_str().unwrap().to_owned();
    assert!(ua.starts_with("modelwatch/"), "{ua}");
    // The per-source switch.
    req.respect_robots = false;
    fetched(f.fetch(&req).await);
}

#[tokio::test]
async fn the_ssrf_guard_refuses_internal_destinations_before_connecting() {
    // A long connect timeout: a refusal must come from the guard, not from it.
    let f = fetcher("allow_private_networks = false\nconnect_timeout = \"10s\"\ntimeout = \"20s\"");
    let server = TestServer::start().await;
    server.set("/", Page::html(html(ZH, "")));
    let port = server.addr.port();
    for url in [
        format!("http://127.0.0.1:{port}/"),
        "http://10.0.0.1/admin".to_owned(),
        format!("http://[::1]:{port}/"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        format!("http://localhost:{port}/"),
        format!("http://localhost.:{port}/"),
        "file:///etc/passwd".to_owned(),
    ]
    .into_iter()
    .chain(loopback_alias().map(|name| format!("http://{name}:{port}/")))
    {
        let started = Instant::now();
        let o = fetch(&f, &url).await;
        assert_eq!(failed(&o).0, ErrorKind::Blocked, "{url}: {o:?}");
        assert!(started.elapsed() < Duration::from_secs(1), "{url} took {:?}", started.elapsed());
    }
    assert!(server.seen().is_empty(), "nothing reached the local server");
}

/// A public-looking name that resolves to 127.0.0.1 (an /etc/hosts alias
/// such as the machine's own name): only the resolver-time check can catch
/// it, as it catches DNS rebinding. None where the machine has no alias.
fn loopback_alias() -> Option<String> {
    let hosts = std::fs::read_to_string("/etc/hosts").ok()?;
    let name = hosts.lines().find_map(|line| {
        let mut words = line.split('#').next()?.split_whitespace();
        (words.next()? == "127.0.0.1").then(|| words.find(|w| !w.contains("localhost")).map(str::to_owned))?
    });
    if name.is_none() {
        eprintln!("no /etc/hosts alias for 127.0.0.1: the resolver-time case is not exercised here");
    }
    name
}

// ---- Liveness through the real binary ------------------------------------

const ARTICLE: &str = "<html><head><title>百度发布文心一言4.0</title></head><body><nav>首页 新闻</nav>\
    <article><h1>百度发布文心一言4.0</h1><p>10月17日，百度世界大会发布文心大模型4.0，理解、生成、逻辑和记忆能力显著提升。</p>\
    <p>文心一言用户规模已达4500万，开发者5.4万。</p></article></body></html>";

const HOME: &str = "<html><head><title>科技频道</title></head><body><nav>首页 新闻 财经</nav>\
    <ul><li><a href='/a/1'>今日要闻</a></li><li><a href='/a/2'>大模型周报</a></li></ul></body></html>";

const NOT_FOUND: &str = "<html><head><title>404-页面不存在</title></head><body>\
    <p>抱歉，您访问的页面不存在或已被删除</p><a href='/'>返回首页</a></body></html>";

async fn status(mw: &Mw, id: i64) -> String {
    mw.source(id).await["status"].as_str().unwrap_or_default().to_owned()
}

/// Each dead-page variant: baseline ok, one odd answer changes nothing,
/// the second confirms it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_pages_get_their_documented_status() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    server.set("/", Page::html(HOME));
    mw.init().await;
    let cases: Vec<(&str, Page, &str)> = vec![
        ("/news/404.html", Page::status(404), "gone"),
        ("/news/410.html", Page::status(410), "gone"),
        ("/news/soft.html", Page::html(NOT_FOUND), "soft_gone"),
        ("/news/home.html", Page::redirect(301, "/"), "redirected"),
    ];
    for (path, dead, want) in cases {
        server.set(path, Page::html(ARTICLE));
        let id = mw.add(&server.url(path), &[]).await;
        assert_eq!(mw.check_one(id).await["outcome"], "baseline");
        server.set(path, dead);
        mw.check_one(id).await;
        assert_eq!(status(&mw, id).await, "ok", "{path}: one odd answer flips nothing");
        mw.check_one(id).await;
        assert_eq!(status(&mw, id).await, want, "{path}");
        let changes = mw.changes(Some(id)).await;
        assert_eq!(changes.len(), 1, "{path}: {changes:?}");
        assert_eq!(changes[0]["kind"], "status");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_and_outages_report_their_error_kind() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    server.set("/limited", Page::status(429).with_header("retry-after", "3600"));
    server.set("/down", Page::status(503));
    let limited = mw.add(&server.url("/limited"), &[]).await;
    let r = mw.check_one(limited).await;
    assert_eq!(r["error_kind"], "rate_limited", "{r}");
    let next = mw.source(limited).await["next_check_at"].as_str().unwrap().to_owned();
    let next = chrono::DateTime::parse_from_rfc3339(&next).unwrap();
    assert!(next > chrono::Utc::now() + chrono::Duration::minutes(59), "Retry-After honoured: {next}");
    let down = mw.add(&server.url("/down"), &[]).await;
    let r = mw.check_one(down).await;
    assert_eq!(r["error_kind"], "http_status", "{r}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flapping_server_changes_nothing() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    server.set("/news/flap.html", Page::html(ARTICLE));
    let id = mw.add(&server.url("/news/flap.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    server.set("/news/flap.html", Page::status(500));
    let r = mw.check_one(id).await;
    assert_eq!(r["error_kind"], "http_status", "{r}");
    assert_eq!(status(&mw, id).await, "ok");
    server.set("/news/flap.html", Page::html(ARTICLE));
    let r = mw.check_one(id).await;
    assert!(matches!(r["outcome"].as_str(), Some("unchanged" | "not_modified")), "{r}");
    assert_eq!(status(&mw, id).await, "ok");
    assert!(mw.changes(Some(id)).await.is_empty(), "no status change, no content change");
}

/// An API token goes to the request's own origin only: a redirect to another
/// host never carries it.
#[tokio::test]
async fn a_bearer_token_never_follows_a_redirect_to_another_origin() {
    let api = TestServer::start().await;
    let elsewhere = TestServer::start().await;
    elsewhere.set("/landing", Page::html(html(ZH, "")));
    api.set("/repos/a/b", Page::redirect(302, &elsewhere.url("/landing")));
    api.set("/repos/c/d", Page::html(html(ZH, "")));
    let f = fetcher("");
    let request = |url: String| {
        let mut req = FetchRequest::get(Url::parse(&url).unwrap());
        req.bearer = Some(modelwatch::config::Secret::new("ghp_fetchTestToken".to_owned()));
        req
    };
    fetched(f.fetch(&request(api.url("/repos/c/d"))).await);
    let seen = api.seen_path("/repos/c/d");
    assert_eq!(seen[0].headers["authorization"].to_str().unwrap(), "Bearer ghp_fetchTestToken");

    fetched(f.fetch(&request(api.url("/repos/a/b"))).await);
    assert!(api.seen_path("/repos/a/b")[0].headers.contains_key("authorization"));
    let landed = elsewhere.seen_path("/landing");
    assert_eq!(landed.len(), 1);
    assert!(!landed[0].headers.contains_key("authorization"), "the token stays with its origin");
}

/// Bytes the allocator has handed out and not had back, over all arenas and
/// mapped blocks (glibc's `mallinfo2`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn heap_in_use() -> usize {
    // SAFETY: `mallinfo2` takes no pointer and only reads counters.
    let info = unsafe { libc::mallinfo2() };
    info.uordblks + info.hblkhd
}

/// The body the keep-alive server of [`child_keeps_pages_fetched_on_one_connection`] answers.
const KEPT_BODY: usize = 100_000;

/// A fetched page held by its check (while it waits for a parser, say)
/// holds its body and no more: not the connection's read buffer (hyper
/// parses a response's head in place, and a kept header map shared the
/// buffer its values were read into, which hyper grows towards ~400 KB a
/// connection), nor the room a body of unknown length (chunked) grew into
/// by doubling. Measured in a process of its own: this binary's other
/// tests allocate meanwhile.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_kept_page_holds_its_body_and_no_more() {
    let out = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "fetch::child_keeps_pages_fetched_on_one_connection", "--ignored", "--nocapture"])
        .env("MODELWATCH_FETCH_TEST_CHILD", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for framing in ["length", "chunked"] {
        let held: usize = stdout
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{framing}: held_per_page=")))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The body and a few small strings (URL, validators): well under 16 KB more.
        assert!(held < KEPT_BODY + 16 * 1024, "{framing}: each kept page holds {held} bytes for a body of {KEPT_BODY}");
    }
}

/// Run by [`a_kept_page_holds_its_body_and_no_more`] only: fetches 50 pages
/// in a row over one keep-alive connection, with a `Content-Length` and then
/// chunked, keeps them, closes the connection and prints what each kept
/// page holds.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
#[ignore = "run in a child process by a_kept_page_holds_its_body_and_no_more"]
fn child_keeps_pages_fetched_on_one_connection() {
    use std::io::{BufRead, BufReader};
    if std::env::var_os("MODELWATCH_FETCH_TEST_CHILD").is_none() {
        return;
    }
    const PAGES: usize = 50;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    // The answers are made once, so the server allocates nothing per request.
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\netag: \"v1\"\r\n";
    let with_length =
        [format!("{head}content-length: {KEPT_BODY}\r\n\r\n").into_bytes(), vec![b'a'; KEPT_BODY]].concat();
    // Ten chunks of 10,000 bytes: the client learns the size at the end.
    let chunk =
        [format!("{:x}\r\n", KEPT_BODY / 10).into_bytes(), vec![b'a'; KEPT_BODY / 10], b"\r\n".to_vec()].concat();
    let chunked =
        [format!("{head}transfer-encoding: chunked\r\n\r\n").into_bytes(), chunk.repeat(10), b"0\r\n\r\n".to_vec()]
            .concat();
    // One connection at a time, each answered until the client closes it.
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            'requests: loop {
                let mut answer = &with_length;
                loop {
                    line.clear();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 {
                        break 'requests;
                    }
                    if line.starts_with("GET /chunked") {
                        answer = &chunked;
                    }
                    if line == "\r\n" {
                        break;
                    }
                }
                if stream.write_all(answer).is_err() {
                    break;
                }
            }
        }
    });
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for framing in ["length", "chunked"] {
            let url = format!("http://{addr}/{framing}");
            let f = fetcher("");
            // The client's and the connection's own allocations, made once.
            drop(fetched(fetch(&f, &url).await));
            let before = heap_in_use();
            let mut kept = Vec::new();
            for _ in 0..PAGES {
                kept.push(fetched(fetch(&f, &url).await));
            }
            assert!(kept.iter().all(|p| p.body.len() == KEPT_BODY));
            // The connection and its read buffer go with the client.
            drop(f);
            tokio::time::sleep(Duration::from_millis(100)).await;
            let held = heap_in_use().saturating_sub(before);
            println!("{framing}: held_per_page={}", held / PAGES);
            drop(kept);
        }
    });
}
