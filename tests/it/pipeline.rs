//! One page, end to end: init → add → check (baseline) → edit → check
//! (one change with the edit) → check (304, nothing new).
#![allow(clippy::unwrap_used)]

use crate::both_backends;
use crate::support::{Backend, Mw, Page, TestServer};

const V1: &str = r#"<html><head><title>商汤发布日日新大模型</title></head><body>
<nav><a href="/">首页</a> <a href="/news">新闻</a></nav>
<article><h1>商汤发布日日新大模型</h1>
<p>4月10日，商汤科技发布“日日新SenseNova”大模型体系，并推出对话机器人“商量SenseChat”。</p>
<p>商量基于千亿参数的自然语言处理模型，具备多轮对话和超长文本理解能力。</p>
</article><footer>版权所有</footer></body></html>"#;

async fn page_end_to_end(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/news/1.html", Page::html(V1));
    mw.init().await;
    let id = mw.add(&server.url("/news/1.html"), &["--tag", "业界大模型"]).await;

    let first = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(first[0]["outcome"], "baseline", "{first}");
    assert!(mw.changes(None).await.is_empty(), "the first check records no change");

    server.set("/news/1.html", Page::html(V1.replace("千亿参数", "1800亿参数")));
    let second = mw.run_async(&["check", &id.to_string()]).await.ok();
    assert!(second.stdout.contains("changed"), "{}", second.stdout);
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    for field in ["id", "source_id", "url", "kind", "detected_at", "summary", "added", "removed", "excerpt"] {
        assert!(c.get(field).is_some(), "changes JSON lacks {field}: {c}");
    }
    assert_eq!(c["kind"], "content");
    assert_eq!(c["source_id"], id);
    let excerpt = c["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("1800"), "the excerpt shows the edit: {excerpt}");
    assert!(!excerpt.contains("首页"), "navigation is not content: {excerpt}");
    chrono::DateTime::parse_from_rfc3339(c["detected_at"].as_str().unwrap()).expect("RFC 3339 detected_at");

    let third = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(third[0]["outcome"], "not_modified", "{third}");
    assert_eq!(mw.changes(None).await.len(), 1, "no new change after an unchanged check");
    let last = server.seen_path("/news/1.html").last().cloned().unwrap();
    assert_eq!(last.status, 304, "the third fetch was conditional and answered 304");
    assert!(last.headers.contains_key("if-none-match"));

    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    let s = &list[0];
    for field in [
        "id",
        "url",
        "final_url",
        "kind",
        "title",
        "tags",
        "status",
        "last_error_kind",
        "last_checked_at",
        "next_check_at",
    ] {
        assert!(s.get(field).is_some(), "sources list JSON lacks {field}: {s}");
    }
    assert_eq!(s["status"], "ok");
    assert_eq!(s["kind"], "page");
    assert_eq!(s["title"], "商汤发布日日新大模型");
    assert_eq!(s["tags"], serde_json::json!(["业界大模型"]));
}

both_backends!(page_end_to_end_on, page_end_to_end);

async fn page_flipping_back_is_reported_once(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    let a = "<html><body><article><p>今日推荐：文心一言插件上线。</p><p>正文不变的部分。</p></article></body></html>";
    let b = "<html><body><article><p>今日推荐：通义千问开放API。</p><p>正文不变的部分。</p></article></body></html>";
    server.set("/rot", Page::html(a));
    mw.init().await;
    let id = mw.add(&server.url("/rot"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(b));
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(a));
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(b));
    mw.run_async(&["check"]).await.ok();
    assert_eq!(mw.changes(Some(id)).await.len(), 1, "A→B→A→B is one change");
}

both_backends!(page_flip_on, page_flipping_back_is_reported_once);

async fn removed_source_keeps_history_unless_purged(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/p", Page::html("<html><body><p>版本一</p></body></html>"));
    mw.init().await;
    let id = mw.add(&server.url("/p"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/p", Page::html("<html><body><p>版本二</p></body></html>"));
    mw.run_async(&["check"]).await.ok();
    mw.run_async(&["sources", "remove", &id.to_string()]).await.ok();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert_eq!(mw.changes(None).await.len(), 1, "history is kept after remove");
    // Watching it again brings the history back; purge deletes it.
    let again = mw.add(&server.url("/p"), &[]).await;
    assert_eq!(again, id);
    mw.run_async(&["sources", "remove", &id.to_string(), "--purge"]).await.ok();
    assert!(mw.changes(None).await.is_empty(), "purge deletes the history");
}

both_backends!(remove_on, removed_source_keeps_history_unless_purged);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_text_noise_and_diff_and_writes_nothing() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    let page = |figure: &str| {
        format!(
            "<html><body><article><h1>星火大模型升级</h1><p>科大讯飞发布星火认知大模型V2.0，参数规模{figure}。</p>\
             <p>阅读 10万+</p><p>3小时前</p></article></body></html>"
        )
    };
    server.set("/spark", Page::html(page("千亿级")));
    mw.init().await;
    let id = mw.add(&server.url("/spark"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/spark", Page::html(page("1750亿")));
    let before = mw.source(id).await;
    let dry = mw.run_async(&["check", &id.to_string(), "--dry-run"]).await.ok();
    assert!(dry.stdout.contains("--- extracted text ---"), "{}", dry.stdout);
    assert!(dry.stdout.contains("科大讯飞发布星火认知大模型V2.0"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("--- removed by noise rules ---") && dry.stdout.contains("阅读10万+"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("1750亿"), "the diff against the stored snapshot: {}", dry.stdout);
    assert!(mw.changes(None).await.is_empty(), "a dry run records nothing");
    assert_eq!(mw.source(id).await["last_checked_at"], before["last_checked_at"], "a dry run writes nothing");
}
