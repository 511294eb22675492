//! Source kinds end to end against a local server serving responses in the
//! APIs' documented shapes: feeds, PDF reports, GitHub repositories and
//! Hugging Face models.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use modelwatch::sources::pdf::write_test_pdf;
use modelwatch::store::Store;
use modelwatch::types::SourceId;

use crate::both_backends;
use crate::support::{Backend, Mw, Page, TEST_CONFIG, TestServer};

const FEED: &str = include_str!("../fixtures/kinds/qbitai-feed.xml");
const REPO: &str = include_str!("../fixtures/kinds/github-repo-autogpt.json");
const RELEASE: &str = include_str!("../fixtures/kinds/github-release-autogpt.json");
const QWEN: &str = include_str!("../fixtures/kinds/hf-model-qwen.json");

/// A JSON API response with an ETag the server honours (304 on a match).
fn json(body: &str) -> Page {
    Page { etag: true, ..Page::bytes("application/json; charset=utf-8", body.as_bytes().to_vec()) }
}

fn rss(body: &str) -> Page {
    Page::bytes("application/rss+xml; charset=utf-8", body.as_bytes().to_vec())
}

/// The feed with its items in reverse order.
fn reversed_items(feed: &str) -> String {
    let start = feed.find("<item>").unwrap();
    let end = feed.rfind("</item>").unwrap() + "</item>".len();
    let mut items: Vec<String> = feed[start..end]
        .split("<item>")
        .filter(|s| !s.trim().is_empty())
        .map(|s| format!("<item>{}", s.trim_end()))
        .collect();
    items.reverse();
    format!("{}{}{}", &feed[..start], items.join("\n"), &feed[end..])
}

const NEW_ITEM: &str = "<item>\n<title>AutoGPT 更名：Significant-Gravitas/Auto-GPT 迁至 AutoGPT</title>\n<link>https://www.qbitai.com/2023/10/90001.html</link>\n<guid isPermaLink=\"false\">qbitai-90001</guid>\n<pubDate>Mon, 02 Oct 2023 09:00:00 +0800</pubDate>\n<description>项目更名。</description>\n</item>\n";

async fn check_json(mw: &Mw, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    mw.run_async(&all).await.ok().json()
}

async fn feed_changes_are_new_entries(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/feed.xml", rss(FEED));
    mw.init().await;
    let id = mw.add(&server.url("/feed.xml"), &[]).await;
    assert_eq!(mw.source(id).await["kind"], "feed");
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");

    let reordered = reversed_items(FEED);
    assert_ne!(reordered, FEED);
    server.set("/feed.xml", rss(&reordered));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "unchanged", "a reorder is not a change: {r}");
    assert!(mw.changes(Some(id)).await.is_empty());

    server.set("/feed.xml", rss(&reordered.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["summary"], "New entry: AutoGPT 更名：Significant-Gravitas/Auto-GPT 迁至 AutoGPT");
    let excerpt = changes[0]["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("https://www.qbitai.com/2023/10/90001.html"), "{excerpt}");
    assert!(!excerpt.contains("文心一言"), "old entries are not listed: {excerpt}");
    assert_eq!(mw.source(id).await["title"], "量子位");
}

both_backends!(feed_changes_are_new_entries_on, feed_changes_are_new_entries);

/// The feed with every guid suffixed, as feeds that stamp each render do.
fn rotated_guids(feed: &str, round: u32) -> String {
    feed.replace("</guid>", &format!("-r{round}</guid>"))
}

/// A feed whose generator stamps a fresh guid on every render (a session or
/// a timestamp in it) repeats the same entries: not a new entry each check.
/// An entry whose guid changed and whose text changed is an edit.
async fn a_guid_that_changes_on_every_fetch_is_the_same_entry(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/feed.xml", rss(&rotated_guids(FEED, 1)));
    mw.init().await;
    let id = mw.add(&server.url("/feed.xml"), &[]).await;
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");
    server.set("/feed.xml", rss(&reversed_items(&rotated_guids(FEED, 2))));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "unchanged", "new guids on the same entries: {r}");
    assert!(mw.changes(Some(id)).await.is_empty(), "{:?}", mw.changes(Some(id)).await);

    let edited = rotated_guids(FEED, 3).replace("首批企业用户接入", "首批企业用户已接入");
    server.set("/feed.xml", rss(&edited.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    check_json(&mw, &[]).await;
    let changes = mw.changes(Some(id)).await;
    let summaries: Vec<&str> = changes.iter().map(|c| c["summary"].as_str().unwrap()).collect();
    assert_eq!(summaries.len(), 2, "{summaries:?}");
    assert!(summaries.iter().any(|s| s.starts_with("New entry: AutoGPT 更名")), "{summaries:?}");
    assert!(summaries.iter().any(|s| s.starts_with("Entry edited: 百度文心一言")), "{summaries:?}");
}

both_backends!(
    a_guid_that_changes_on_every_fetch_is_the_same_entry_on,
    a_guid_that_changes_on_every_fetch_is_the_same_entry
);

/// A feed that answers once with no entries (a generator glitch, a cache
/// emptied) and then with its entries and one more has one new entry: the
/// empty answer is a failed check, not the window the next one is compared
/// with.
async fn an_empty_answer_does_not_make_every_entry_new(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/feed.xml", rss(FEED));
    mw.init().await;
    let id = mw.add(&server.url("/feed.xml"), &[]).await;
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");
    let start = FEED.find("<item>").unwrap();
    let end = FEED.rfind("</item>").unwrap() + "</item>".len();
    let empty = format!("{}{}", &FEED[..start], &FEED[end..]);
    server.set("/feed.xml", rss(&empty));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "failed", "{r}");
    assert_eq!(r[0]["error_kind"], "invalid_content", "{r}");
    assert!(r[0]["message"].as_str().unwrap().contains("no entries"), "{r}");
    server.set("/feed.xml", rss(&FEED.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0]["summary"].as_str().unwrap().starts_with("New entry: AutoGPT 更名"), "{changes:?}");
}

both_backends!(an_empty_answer_does_not_make_every_entry_new_on, an_empty_answer_does_not_make_every_entry_new);

/// An Atom feed whose generator stamps every entry's `<updated>` with the
/// build time: the entries say what they said, nothing was edited. A
/// changed summary is an edit.
async fn a_refreshed_timestamp_alone_is_not_an_edit(backend: Backend) {
    let atom = |stamp: &str, second: &str| {
        let entry = |i: u32, title: &str, summary: &str| {
            format!(
                "<entry><id>tag:jiqizhixin.com,2023:{i}</id><title>{title}</title>\
                 <link href=\"https://www.jiqizhixin.com/articles/{i}\"/><updated>{stamp}</updated>\
                 <summary>{summary}</summary></entry>"
            )
        };
        let body = format!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><feed xmlns=\"http://www.w3.org/2005/Atom\">\
             <title>机器之心</title><id>tag:jiqizhixin.com,2023:feed</id><updated>{stamp}</updated>{}{}</feed>",
            entry(1, "GPT-4 发布", "OpenAI 发布多模态大模型 GPT-4。"),
            entry(2, "文心一言开放测试", second)
        );
        Page::bytes("application/atom+xml", body.into_bytes())
    };
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/feed.atom", atom("2023-04-01T00:00:00Z", "百度发布文心一言。"));
    mw.init().await;
    let id = mw.add(&server.url("/feed.atom"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    server.set("/feed.atom", atom("2023-04-02T10:00:00Z", "百度发布文心一言。"));
    let r = mw.check_one(id).await;
    assert_eq!(r["outcome"], "unchanged", "only the stamps moved: {r}");
    assert!(mw.changes(Some(id)).await.is_empty(), "{:?}", mw.changes(Some(id)).await);
    server.set("/feed.atom", atom("2023-04-03T10:00:00Z", "百度发布文心一言，企业用户可申请测试。"));
    assert_eq!(mw.check_one(id).await["outcome"], "changed");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["summary"], "Entry edited: 文心一言开放测试", "{changes:?}");
}

both_backends!(a_refreshed_timestamp_alone_is_not_an_edit_on, a_refreshed_timestamp_alone_is_not_an_edit);

/// A URL with nothing feed-like in it that answers with RSS is read as a feed.
async fn page_answering_rss_is_read_as_a_feed(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/news/latest", rss(FEED));
    mw.init().await;
    let id = mw.add(&server.url("/news/latest"), &[]).await;
    assert_eq!(mw.source(id).await["kind"], "page");
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");
    server.set("/news/latest", rss(&FEED.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    check_json(&mw, &[]).await;
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0]["summary"].as_str().unwrap().starts_with("New entry: AutoGPT 更名"), "{changes:?}");
}

both_backends!(page_answering_rss_is_read_as_a_feed_on, page_answering_rss_is_read_as_a_feed);

const P1: &str = "AIGC Industry Research Report 2023\nChapter 1 Overview";
const P2: &str = "Chapter 2 Foundation models\nGPT-4, ERNIE Bot, SenseNova";
const P3: &str = "Chapter 3 Market size\nThe AIGC market reached 10 billion yuan in 2022.";

async fn pdf_changes_name_their_page(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    let pdf = |p3: &str| Page::bytes("application/pdf", write_test_pdf("AIGC report 2023", &[P1, P2, p3]).unwrap());
    server.set("/reports/aigc-2023.pdf", pdf(P3));
    server.set("/reports/broken.pdf", Page::bytes("application/pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog".to_vec()));
    mw.init().await;
    let id = mw.add(&server.url("/reports/aigc-2023.pdf"), &[]).await;
    let broken = mw.add(&server.url("/reports/broken.pdf"), &[]).await;
    assert_eq!(mw.source(id).await["kind"], "pdf");

    let r = check_json(&mw, &[&id.to_string()]).await;
    assert_eq!(r[0]["outcome"], "baseline", "{r}");
    assert_eq!(mw.source(id).await["title"], "AIGC report 2023");

    server.set("/reports/aigc-2023.pdf", pdf(&P3.replace("10 billion", "17 billion")));
    let r = check_json(&mw, &[&id.to_string()]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "only page 3 changed: {changes:?}");
    let excerpt = changes[0]["excerpt"].as_str().unwrap();
    assert!(excerpt.starts_with("p. 3\n"), "{excerpt}");
    assert!(excerpt.contains("17"), "{excerpt}");
    assert!(!excerpt.contains("Foundation models"), "{excerpt}");

    let r = check_json(&mw, &[&broken.to_string()]).await;
    assert_eq!(r[0]["outcome"], "failed", "{r}");
    assert_eq!(r[0]["error_kind"], "invalid_content", "{r}");
    assert!(r[0]["message"].as_str().unwrap().contains("PDF"), "{r}");
}

both_backends!(pdf_changes_name_their_page_on, pdf_changes_name_their_page);

/// Config pointing GitHub's web and API bases at the test server.
fn github_config(server: &TestServer) -> String {
    format!(
        "{}\n[github]\nweb_base = \"{}\"\napi_base = \"{}\"\n",
        TEST_CONFIG.replace("[fetch]\n", "[fetch]\nconcurrency = 1\n"),
        server.url("/"),
        server.url("/api")
    )
}

const REPO_PATH: &str = "/api/repos/Significant-Gravitas/Auto-GPT";
const RELEASE_PATH: &str = "/api/repos/Significant-Gravitas/Auto-GPT/releases/latest";

async fn metrics(mw: &Mw, id: i64, metric: &str) -> Vec<f64> {
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let points = store.metric_points(SourceId(id)).await.unwrap();
    points.into_iter().filter(|p| p.metric == metric).map(|p| p.value).collect()
}

/// A fake GitHub API serving [`REPO`], and a database watching it (its
/// source id), not yet checked.
async fn watched_repository(backend: Backend) -> Option<(TestServer, Mw, i64)> {
    let server = TestServer::start().await;
    let mw = Mw::with_config(backend, &github_config(&server)).await?;
    server.set(REPO_PATH, json(REPO));
    mw.init().await;
    let id = mw.add(&server.url("/Significant-Gravitas/Auto-GPT"), &[]).await;
    Some((server, mw, id))
}

async fn github_repository(backend: Backend) {
    let Some((server, mw, id)) = watched_repository(backend).await else { return };
    assert_eq!(mw.source(id).await["kind"], "github");

    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "baseline", "{r}");
    assert_eq!(metrics(&mw, id, "stars").await, [120000.0]);
    assert_eq!(mw.source(id).await["title"], "Significant-Gravitas/Auto-GPT");

    // Unchanged: the repository answers 304 to its ETag.
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "not_modified", "{r}");
    let last = server.seen_path(REPO_PATH).last().cloned().unwrap();
    assert_eq!(last.status, 304);
    assert!(last.headers.contains_key("if-none-match"));
    assert_eq!(last.headers.get("accept").unwrap(), "application/vnd.github+json");
    assert!(!last.headers.contains_key("authorization"), "no token configured");

    // Stars +500: a metric point, not a change.
    server.set(REPO_PATH, json(&REPO.replace("\"stargazers_count\": 120000", "\"stargazers_count\": 120500")));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "unchanged", "{r}");
    assert_eq!(metrics(&mw, id, "stars").await, [120000.0, 120500.0]);
    assert!(mw.changes(Some(id)).await.is_empty());

    // A new release.
    server.set(RELEASE_PATH, json(RELEASE));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["kind"], "release");
    assert_eq!(changes[0]["summary"], "New release v0.2.2 (Auto-GPT v0.2.2)");
    assert_eq!(server.seen_path(REPO_PATH).last().unwrap().status, 304, "the repository half was not modified");

    // Renamed: the API serves the canonical name.
    server.set(REPO_PATH, json(&REPO.replace("\"Significant-Gravitas/Auto-GPT\"", "\"Significant-Gravitas/AutoGPT\"")));
    check_json(&mw, &[]).await;
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 2, "{changes:?}");
    let rename = changes.iter().find(|c| c["kind"] == "metadata").expect("a metadata change");
    assert_eq!(rename["summary"], "Repository renamed: Significant-Gravitas/Auto-GPT → Significant-Gravitas/AutoGPT");
}

both_backends!(github_repository_on, github_repository);

/// A renamed repository: the API answers the old `repos/OWNER/OLD` with a
/// 301 to `repositories/ID`. The source kept its old title and asked the
/// old path for releases (and for the repository, on every check, after
/// its rename). Now the rename is one metadata change, the title and the
/// requests follow the new name, and the user's URL stays the source's
/// identity with the new address as its `final_url` (`export references`
/// says "moved").
async fn a_renamed_repository_is_followed(backend: Backend) {
    let Some((server, mw, id)) = watched_repository(backend).await else { return };
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    assert_eq!(mw.source(id).await["title"], "Significant-Gravitas/Auto-GPT");

    let renamed = REPO.replace("Significant-Gravitas/Auto-GPT", "Significant-Gravitas/AutoGPT");
    let new_repo = "/api/repos/Significant-Gravitas/AutoGPT";
    server.set(REPO_PATH, Page::redirect(301, &server.url("/api/repositories/614765452")));
    server.set("/api/repositories/614765452", json(&renamed));
    server.set(new_repo, json(&renamed));
    server.set(&format!("{new_repo}/releases/latest"), json(RELEASE));
    let old_release_requests = server.seen_path(RELEASE_PATH).len();
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    assert_eq!(server.seen_path(RELEASE_PATH).len(), old_release_requests, "releases asked under the new name");
    let summaries = |changes: Vec<serde_json::Value>| -> Vec<String> {
        changes.iter().map(|c| c["summary"].as_str().unwrap().to_owned()).collect()
    };
    let expected = [
        "Repository renamed: Significant-Gravitas/Auto-GPT → Significant-Gravitas/AutoGPT",
        "New release v0.2.2 (Auto-GPT v0.2.2)",
    ];
    assert_eq!(summaries(mw.changes(Some(id)).await), expected, "the release read from the new name");
    let shown = mw.source(id).await;
    assert_eq!(shown["title"], "Significant-Gravitas/AutoGPT", "{shown}");
    assert_eq!(shown["url"], server.url("/Significant-Gravitas/Auto-GPT"), "the user's URL is the identity");
    assert_eq!(shown["final_url"], server.url("/Significant-Gravitas/AutoGPT"), "{shown}");
    let refs = mw.run_async(&["export", "references", "--format", "json"]).await.ok().json();
    assert_eq!(refs[0]["health"], "moved", "{refs}");

    // Later checks ask the new name; the rename is not reported again.
    let old_path_requests = server.seen_path(REPO_PATH).len();
    for _ in 0..2 {
        let got = mw.check_one(id).await;
        assert!(matches!(got["outcome"].as_str(), Some("unchanged" | "not_modified")), "{got}");
    }
    assert_eq!(server.seen_path(REPO_PATH).len(), old_path_requests, "the old path is not asked again");
    assert_eq!(server.seen_path(new_repo).len(), 2, "{:?}", server.seen());
    assert_eq!(summaries(mw.changes(Some(id)).await), expected);

    // A title the user gave is theirs: a second rename leaves it.
    mw.run_async(&["sources", "remove", &id.to_string()]).await.ok();
    let mine = mw.add(&server.url("/Significant-Gravitas/Auto-GPT"), &["--title", "AutoGPT (agent)"]).await;
    assert_eq!(mine, id, "the removed source is watched again with its history");
    let again = renamed.replace("Significant-Gravitas/AutoGPT", "Significant-Gravitas/AutoGPT-Platform");
    server.set(new_repo, json(&again));
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    assert_eq!(mw.source(id).await["title"], "AutoGPT (agent)");
}

both_backends!(a_renamed_repository_is_followed_on, a_renamed_repository_is_followed);

/// A renamed repository whose old path answers its JSON directly (no
/// redirect): the same, from the body's `full_name`.
async fn a_repository_answering_under_its_new_name_is_followed(backend: Backend) {
    let Some((server, mw, id)) = watched_repository(backend).await else { return };
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let renamed = REPO.replace("Significant-Gravitas/Auto-GPT", "Significant-Gravitas/AutoGPT");
    server.set(REPO_PATH, json(&renamed));
    server.set("/api/repos/Significant-Gravitas/AutoGPT", json(&renamed));
    assert_eq!(mw.check_one(id).await["outcome"], "changed");
    assert_eq!(mw.source(id).await["title"], "Significant-Gravitas/AutoGPT");
    let asked = server.seen_path(REPO_PATH).len();
    mw.check_one(id).await;
    assert_eq!(server.seen_path(REPO_PATH).len(), asked, "{:?}", server.seen());
    assert_eq!(server.seen_path("/api/repos/Significant-Gravitas/AutoGPT").len(), 1);
}

both_backends!(
    a_repository_answering_under_its_new_name_is_followed_on,
    a_repository_answering_under_its_new_name_is_followed
);

async fn github_rate_limit_is_shared(backend: Backend) {
    let server = TestServer::start().await;
    let Some(mw) = Mw::with_config(backend, &github_config(&server)).await else { return };
    let other = "/api/repos/tatsu-lab/stanford_alpaca";
    server.set(REPO_PATH, json(REPO));
    server.set(other, json(&REPO.replace("Significant-Gravitas/Auto-GPT", "tatsu-lab/stanford_alpaca")));
    mw.init().await;
    let a = mw.add(&server.url("/Significant-Gravitas/Auto-GPT"), &[]).await;
    let b = mw.add(&server.url("/tatsu-lab/stanford_alpaca"), &[]).await;
    assert_eq!(mw.source(b).await["kind"], "github");

    let reset = chrono::Utc::now().timestamp() + 3600;
    let limited = |p: Page| {
        Page { status: 403, ..p }
            .with_header("x-ratelimit-limit", "60")
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string())
            .without_etag()
    };
    server.set(REPO_PATH, limited(json(r#"{"message":"API rate limit exceeded"}"#)));
    server.set(other, limited(json(r#"{"message":"API rate limit exceeded"}"#)));
    let before = server.seen().iter().filter(|s| s.path.starts_with("/api/")).count();

    let r = check_json(&mw, &[&a.to_string(), &b.to_string()]).await;
    let api_requests = server.seen().iter().filter(|s| s.path.starts_with("/api/")).count() - before;
    assert_eq!(api_requests, 1, "after the 403, no further GitHub API request: {:?}", server.seen());
    for report in r.as_array().unwrap() {
        assert_eq!(report["outcome"], "failed", "{r}");
        assert_eq!(report["error_kind"], "rate_limited", "{r}");
    }
    let src = mw.source(a).await;
    let next = chrono::DateTime::parse_from_rfc3339(src["next_check_at"].as_str().unwrap()).unwrap();
    assert!(next.timestamp() >= reset - 5, "not checked again before the reset: {src}");
}

both_backends!(github_rate_limit_is_shared_on, github_rate_limit_is_shared);

/// A spent API budget says nothing about the repository: checks that hit it
/// fail as `rate_limited` but the source's status stays what it was (it
/// went `ok → failing` after two, and `gone → failing` for a deleted repo).
async fn a_spent_api_budget_does_not_move_the_status(backend: Backend) {
    let Some((server, mw, id)) = watched_repository(backend).await else { return };
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let reset = chrono::Utc::now().timestamp() + 3600;
    let limited = Page { status: 403, ..json(r#"{"message":"API rate limit exceeded"}"#) }
        .with_header("x-ratelimit-remaining", "0")
        .with_header("x-ratelimit-reset", &reset.to_string())
        .without_etag();
    server.set(REPO_PATH, limited);
    for _ in 0..3 {
        let r = mw.check_one(id).await;
        assert_eq!(r["error_kind"], "rate_limited", "{r}");
        assert_eq!(r["status_change"], serde_json::Value::Null, "{r}");
    }
    let src = mw.source(id).await;
    assert_eq!(src["status"], "ok", "{src}");
    assert!(mw.changes(Some(id)).await.is_empty(), "{:?}", mw.changes(Some(id)).await);
}

both_backends!(a_spent_api_budget_does_not_move_the_status_on, a_spent_api_budget_does_not_move_the_status);

async fn huggingface_parameter_count(backend: Backend) {
    let server = TestServer::start().await;
    let config = format!(
        "{TEST_CONFIG}\n[huggingface]\nweb_base = \"{}\"\napi_base = \"{}\"\n",
        server.url("/"),
        server.url("/hf")
    );
    let Some(mw) = Mw::with_config(backend, &config).await else { return };
    let path = "/hf/api/models/Qwen/Qwen2.5-72B";
    server.set(path, json(QWEN));
    mw.init().await;
    let id = mw.add(&server.url("/Qwen/Qwen2.5-72B"), &[]).await;
    assert_eq!(mw.source(id).await["kind"], "huggingface");
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");

    server.set(path, json(&QWEN.replace("\"downloads\": 48211", "\"downloads\": 50000")));
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "unchanged");
    assert_eq!(metrics(&mw, id, "downloads").await, [48211.0, 50000.0]);

    server.set(path, json(&QWEN.replace("72706203648", "72000000000")));
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["summary"], "Parameter count changed: 72.7B → 72.0B");
    assert_eq!(changes[0]["kind"], "metadata");
}

both_backends!(huggingface_parameter_count_on, huggingface_parameter_count);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn github_urls_pick_the_github_kind() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    mw.init().await;
    let id = mw.add("https://github.com/tatsu-lab/stanford_alpaca", &[]).await;
    assert_eq!(mw.source(id).await["kind"], "github");
    let hf = mw.add("https://huggingface.co/Qwen/Qwen2.5-72B", &[]).await;
    assert_eq!(mw.source(hf).await["kind"], "huggingface");
}

const RELEASES_ATOM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en-US">
  <id>tag:github.com,2008:https://github.com/Significant-Gravitas/Auto-GPT/releases</id>
  <link type="text/html" rel="alternate" href="https://github.com/Significant-Gravitas/Auto-GPT/releases"/>
  <title>Release notes from Auto-GPT</title>
  <updated>2023-04-24T08:00:00Z</updated>
  <entry>
    <id>tag:github.com,2008:Repository/614765452/v0.3.0</id>
    <updated>2023-04-24T08:00:00Z</updated>
    <link rel="alternate" type="text/html" href="https://github.com/Significant-Gravitas/Auto-GPT/releases/tag/v0.3.0"/>
    <title>Auto-GPT v0.3.0</title>
    <content type="html">&lt;p&gt;Plugins, new memory backends&lt;/p&gt;</content>
  </entry>
</feed>"#;

/// Without a token and with the budget spent, releases come from the web's
/// releases.atom; the repository half is the last one seen.
async fn github_budget_spent_falls_back_to_releases_atom(backend: Backend) {
    let Some((server, mw, id)) = watched_repository(backend).await else { return };
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");

    let reset = chrono::Utc::now().timestamp() + 1800;
    server.set(
        REPO_PATH,
        Page { status: 403, ..json(r#"{"message":"API rate limit exceeded for 127.0.0.1."}"#) }
            .with_header("x-ratelimit-remaining", "0")
            .with_header("x-ratelimit-reset", &reset.to_string())
            .without_etag(),
    );
    server.set(
        "/Significant-Gravitas/Auto-GPT/releases.atom",
        Page::bytes("application/atom+xml; charset=utf-8", RELEASES_ATOM.as_bytes().to_vec()),
    );
    let releases_before = server.seen_path(RELEASE_PATH).len();
    let r = check_json(&mw, &[]).await;
    assert_eq!(r[0]["outcome"], "changed", "{r}");
    assert_eq!(server.seen_path(RELEASE_PATH).len(), releases_before, "no API request after the 403");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert_eq!(changes[0]["kind"], "release");
    assert_eq!(changes[0]["summary"], "New release v0.3.0 (Auto-GPT v0.3.0)");
    let src = mw.source(id).await;
    let next = chrono::DateTime::parse_from_rfc3339(src["next_check_at"].as_str().unwrap()).unwrap();
    assert!(next.timestamp() >= reset - 5, "the API is not asked again before the reset: {src}");
}

both_backends!(github_budget_spent_falls_back_to_releases_atom_on, github_budget_spent_falls_back_to_releases_atom);

async fn github_token_is_sent_and_never_shown(backend: Backend) {
    let server = TestServer::start().await;
    let Some(mut mw) = Mw::with_config(backend, &github_config(&server)).await else { return };
    mw.env.push(("GITHUB_TOKEN".into(), "ghp_kindsTestToken123".into()));
    server.set(REPO_PATH, json(REPO));
    mw.init().await;
    mw.add(&server.url("/Significant-Gravitas/Auto-GPT"), &[]).await;
    let run = mw.run_async(&["check", "--format", "json"]).await.ok();
    let seen = server.seen_path(REPO_PATH);
    assert_eq!(seen[0].headers.get("authorization").unwrap(), "Bearer ghp_kindsTestToken123");
    assert!(!run.stdout.contains("ghp_kindsTestToken123") && !run.stderr.contains("ghp_kindsTestToken123"));
}

both_backends!(github_token_is_sent_and_never_shown_on, github_token_is_sent_and_never_shown);

/// The digest's view of metrics: week-over-week deltas, and retention.
async fn metric_deltas_and_retention(backend: Backend) {
    use modelwatch::store::metrics::MetricPoint;
    let server = TestServer::start().await;
    let Some(mw) = Mw::with_config(backend, &github_config(&server)).await else { return };
    mw.init().await;
    let id = SourceId(mw.add(&server.url("/Significant-Gravitas/Auto-GPT"), &[]).await);
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let now = chrono::Utc::now();
    let days = |n: i64| now - chrono::Duration::days(n);
    let point = |metric: &str, value: f64| MetricPoint { metric: metric.into(), value };
    store.record_metrics(id, days(30), &[point("stars", 100_000.0)]).await.unwrap();
    store.record_metrics(id, days(8), &[point("stars", 119_000.0), point("forks", 23_000.0)]).await.unwrap();
    store.record_metrics(id, days(1), &[point("stars", 120_500.0), point("forks", f64::NAN)]).await.unwrap();
    let deltas = store.metric_deltas(id, days(7)).await.unwrap();
    let stars = deltas.iter().find(|d| d.metric == "stars").unwrap();
    assert_eq!((stars.before, stars.now, stars.delta()), (Some(119_000.0), 120_500.0, Some(1_500.0)));
    let forks = deltas.iter().find(|d| d.metric == "forks").unwrap();
    assert_eq!(forks.now, 23_000.0, "a NaN point is not stored");
    assert_eq!(store.prune_metrics(days(14)).await.unwrap(), 1);
    assert_eq!(store.metric_points(id).await.unwrap().len(), 3);
}

both_backends!(metric_deltas_and_retention_on, metric_deltas_and_retention);

async fn huggingface_parameters_become_accepted_catalog_facts(backend: Backend) {
    let server = TestServer::start().await;
    let config = format!(
        "{TEST_CONFIG}\n[huggingface]\nweb_base = \"{}\"\napi_base = \"{}\"\n",
        server.url("/"),
        server.url("/hf")
    );
    let Some(mw) = Mw::with_config(backend, &config).await else { return };
    // The catalog knows Alpaca (stanford_alpaca): load the shipped catalog.
    let catalog = concat!(env!("CARGO_MANIFEST_DIR"), "/config/catalog.toml");
    std::fs::copy(catalog, mw.path().join("catalog.toml")).unwrap();
    let card = QWEN.replace("Qwen/Qwen2.5-72B", "stanford/Alpaca").replace("72706203648", "6738415616");
    server.set("/hf/api/models/stanford/Alpaca", json(&card));
    // A family prefix must not take a fact: Qwen2.5-72B is not the Qwen family.
    server.set("/hf/api/models/Qwen/Qwen2.5-72B", json(QWEN));
    mw.init().await;
    mw.add(&server.url("/stanford/Alpaca"), &[]).await;
    mw.add(&server.url("/Qwen/Qwen2.5-72B"), &[]).await;
    let checked = mw.run_async(&["check"]).await.ok();
    let facts = mw.run_async(&["catalog", "facts", "--format", "json"]).await.ok().json();
    let params: Vec<&serde_json::Value> = facts
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["attribute"] == "parameters" && f["status"] == "accepted")
        .collect();
    let alpaca: Vec<_> = params.iter().filter(|f| f.to_string().contains("Alpaca")).collect();
    assert_eq!(alpaca.len(), 1, "check log:\n{}", checked.stderr);
    assert!(alpaca[0].to_string().contains("6738415616"), "{}", alpaca[0]);
    assert!(!facts.to_string().contains("72706203648"), "Qwen2.5-72B's count went to no catalog entity: {facts}");
}

both_backends!(huggingface_facts_on, huggingface_parameters_become_accepted_catalog_facts);

/// An HTML page that advertises a feed can be switched to it by the user.
async fn a_page_can_be_switched_to_the_feed_it_advertises(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    let page = r#"<html><head><title>量子位</title><link rel="alternate" type="application/rss+xml" href="/feed"></head>
<body><article><p>量子位首页：大模型新闻。</p></article></body></html>"#;
    server.set("/", Page::html(page));
    server.set("/feed", rss(FEED));
    mw.init().await;
    let id = mw.add(&server.url("/"), &[]).await;
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline");
    mw.run_async(&["sources", "use-feed", &id.to_string()]).await.ok();
    let s = mw.source(id).await;
    assert_eq!((s["kind"].as_str(), s["url"].as_str()), (Some("feed"), Some(server.url("/feed").as_str())));
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "baseline", "the feed's first check is a new baseline");
    assert!(mw.changes(Some(id)).await.is_empty(), "switching is not a change");
    server.set("/feed", rss(&FEED.replacen("<item>", &format!("{NEW_ITEM}<item>"), 1)));
    assert_eq!(check_json(&mw, &[]).await[0]["outcome"], "changed");
    // A page without an advertised feed says how to name one.
    let other = mw.add(&server.url("/plain"), &[]).await;
    let r = mw.run_async(&["sources", "use-feed", &other.to_string()]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("advertises no feed"), "{}", r.stderr);
}

both_backends!(use_feed_on, a_page_can_be_switched_to_the_feed_it_advertises);
