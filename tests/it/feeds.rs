//! Feeds through the binary at their limits: a feed of 30,000 entries keeps
//! its newest, and what answers a feed URL instead of a feed (an HTML page,
//! a JSON error, an empty or cut-off body) is a failed check that names it,
//! the last snapshot kept.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelwatch::sources::feed::cap::KEEP;

use crate::both_backends;
use crate::support::{Backend, Mw, Page, TestServer};

const FEED: &str = include_str!("../fixtures/kinds/qbitai-feed.xml");

const NEW_ITEM: &str = "<item>\n<title>智谱发布GLM-4</title>\n<link>https://www.qbitai.com/2024/01/110001.html</link>\n<guid isPermaLink=\"false\">qbitai-110001</guid>\n<pubDate>Tue, 16 Jan 2024 09:00:00 +0800</pubDate>\n<description>新一代基座大模型。</description>\n</item>\n";

fn rss(body: &str) -> Page {
    Page::bytes("application/rss+xml; charset=utf-8", body.as_bytes().to_vec())
}

/// Entry `i` of an archive feed: entry 0 is the oldest, one hour apart.
fn item(i: usize) -> String {
    let t = chrono::DateTime::from_timestamp(1_600_000_000 + 3600 * i as i64, 0).unwrap().to_rfc2822();
    format!(
        "<item><title>帖子 {i}</title><link>https://blog.example.cn/p/{i}</link><guid>p-{i}</guid>\
         <pubDate>{t}</pubDate><description>第 {i} 篇</description></item>\n"
    )
}

/// An "all posts" archive feed of entries `0..n`, newest first (or oldest
/// first: `reversed`).
fn archive(n: usize, reversed: bool) -> String {
    let mut items: Vec<String> = (0..n).map(item).collect();
    if !reversed {
        items.reverse();
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<rss version=\"2.0\"><channel><title>全部文章</title>\
         <link>https://blog.example.cn/</link>\n{}</channel></rss>\n",
        items.concat()
    )
}

fn content_changes(changes: &[serde_json::Value]) -> Vec<&serde_json::Value> {
    changes.iter().filter(|c| c["kind"] == "content").collect()
}

/// A feed of 30,000 entries keeps its newest [`KEEP`]; one more on top is
/// exactly one new entry; the same feed listed oldest first is unchanged.
async fn a_huge_feed_keeps_its_newest_entries(backend: Backend) {
    const N: usize = 30_000;
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/all.xml", rss(&archive(N, false)));
    mw.init().await;
    let id = mw.add(&server.url("/all.xml"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let text = mw.current_text(id).await;
    let kept = text.matches("https://blog.example.cn/p/").count();
    assert_eq!(kept, KEEP, "the snapshot keeps the newest {KEEP}");
    assert!(text.contains(&format!("/p/{}\n", N - 1)) && text.contains(&format!("/p/{}\n", N - KEEP)));
    assert!(!text.contains(&format!("/p/{}\n", N - KEEP - 1)), "the next older one falls off");

    server.set("/all.xml", rss(&archive(N + 1, false)));
    let r = mw.check_one(id).await;
    assert_eq!(r["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["summary"], format!("New entry: 帖子 {N}"));
    assert_eq!(changes[0]["added"], 1, "{changes:?}");

    server.set("/all.xml", rss(&archive(N + 1, true)));
    let r = mw.check_one(id).await;
    assert_eq!(r["outcome"], "unchanged", "the same feed, oldest first: {r}");
    assert_eq!(mw.changes(Some(id)).await.len(), 1);
}

both_backends!(a_huge_feed_keeps_its_newest_entries_on, a_huge_feed_keeps_its_newest_entries);

/// The archive as a JSON Feed (`application/feed+json`), ~7 MB at 30,000
/// items.
fn json_archive(n: usize) -> Page {
    let items: Vec<String> = (0..n)
        .rev()
        .map(|i| {
            let t = chrono::DateTime::from_timestamp(1_600_000_000 + 3600 * i as i64, 0).unwrap().to_rfc3339();
            format!(
                r#"{{"id":"p-{i}","url":"https://blog.example.cn/p/{i}","title":"帖子 {i}","date_published":"{t}","content_html":"<p>第 {i} 篇：{}</p>"}}"#,
                "一段正文".repeat(8)
            )
        })
        .collect();
    let body = format!(
        r#"{{"version":"https://jsonfeed.org/version/1.1","title":"全部文章","home_page_url":"https://blog.example.cn/","items":[{}]}}"#,
        items.join(",\n")
    );
    Page::bytes("application/feed+json", body.into_bytes())
}

/// A JSON Feed of 30,000 items keeps its newest [`KEEP`], read a batch of
/// items at a time as a large XML feed is (it was one model of the whole
/// document: ~5 times the XML path's peak memory), and one more item on
/// top is exactly one new entry.
#[tokio::test]
async fn a_huge_json_feed_keeps_its_newest_entries() {
    const N: usize = 30_000;
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    server.set("/feed.json", json_archive(N));
    mw.init().await;
    let id = mw.add(&server.url("/feed.json"), &["--kind", "feed"]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let text = mw.current_text(id).await;
    assert!(text.starts_with("全部文章\n"), "{}", &text[..200]);
    assert_eq!(text.matches("https://blog.example.cn/p/").count(), KEEP);
    assert!(text.contains(&format!("/p/{}\n", N - 1)) && text.contains(&format!("/p/{}\n", N - KEEP)));
    assert!(!text.contains(&format!("/p/{}\n", N - KEEP - 1)), "the next older one falls off");

    server.set("/feed.json", json_archive(N + 1));
    let r = mw.check_one(id).await;
    assert_eq!(r["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["summary"], format!("New entry: 帖子 {N}"));
}

/// The cut-off copy of the feed: it stops inside its second entry's title.
fn cut_off_feed() -> String {
    let cut = FEED.find("<title>斯坦福").unwrap() + "<title>斯坦福".len();
    FEED[..cut].to_owned()
}

/// What answers a feed URL instead of the feed fails the check with
/// `invalid_content`, naming what came; the last snapshot stays, so the
/// feed's return with one new entry is that one entry.
async fn what_came_instead_of_a_feed_is_named(backend: Backend) {
    let bad_gateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n";
    let login = "<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"></head><body><div class=\"box\"><h2>用户登录</h2><form><input name=\"u\"><br></form></div></body></html>";
    let cases: Vec<(Page, String)> = vec![
        (Page::html(bad_gateway), "not a feed: an HTML page (\"502 Bad Gateway\") came instead (text/html; charset=utf-8)".into()),
        (Page::html(login), "not a feed: an HTML page (\"用户登录\") came instead (text/html; charset=utf-8)".into()),
        (
            Page::bytes("application/json", r#"{"code":500,"msg":"服务器繁忙，请稍后再试"}"#.as_bytes().to_vec()),
            "not a feed: a JSON document ({\"code\":500,\"msg\":\"服务器繁忙，请稍后再试\"}) came instead (application/json)".into(),
        ),
        (rss(""), "not a feed: an empty body came instead (application/rss+xml; charset=utf-8)".into()),
        (
            rss(&cut_off_feed()),
            format!(
                "the feed ends mid-document after {} bytes (<rss>, <channel>, <item>, <title> not closed): a cut-off answer",
                cut_off_feed().len()
            ),
        ),
    ];
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/feed.xml", rss(FEED));
    mw.init().await;
    let id = mw.add(&server.url("/feed.xml"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let baseline = mw.current_text(id).await;
    for (page, message) in cases {
        server.set("/feed.xml", page);
        let r = mw.check_one(id).await;
        assert_eq!((&r["outcome"], &r["error_kind"]), (&"failed".into(), &"invalid_content".into()), "{r}");
        assert_eq!(r["message"], message.as_str(), "{r}");
        assert_eq!(mw.current_text(id).await, baseline, "the last snapshot stays");
    }
    assert!(content_changes(&mw.changes(Some(id)).await).is_empty());

    server.set("/feed.xml", rss(&FEED.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    assert_eq!(mw.check_one(id).await["outcome"], "changed");
    let changes = mw.changes(Some(id)).await;
    let content = content_changes(&changes);
    assert_eq!(content.len(), 1, "{changes:?}");
    assert_eq!(content[0]["summary"], "New entry: 智谱发布GLM-4");
}

both_backends!(what_came_instead_of_a_feed_is_named_on, what_came_instead_of_a_feed_is_named);
