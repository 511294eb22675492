//! Hostile bodies and documents for the parsers that only had size caps
//! (issue 14, what was left): feeds, the GitHub and Hugging Face JSON, and
//! Markdown import. Each runs on a thread with a known stack and a time
//! budget; whatever the input, the command completes, the source ends
//! `invalid_content` with the reason (or parses), and the other sources of
//! the same run are checked.

use std::time::{Duration, Instant};

use crate::support::{Backend, Mw, Page, TEST_CONFIG, TestServer};

async fn check_json(mw: &Mw, args: &[&str]) -> serde_json::Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    mw.run_async(&all).await.ok().json()
}

fn outcome_of(report: &serde_json::Value, id: i64) -> serde_json::Value {
    report.as_array().unwrap().iter().find(|x| x["source_id"] == id).cloned().unwrap_or_else(|| panic!("{report}"))
}

const DEEP: usize = 100_000;

/// RSS whose one item's description holds `depth` nested elements.
fn nested_rss(depth: usize) -> String {
    format!(
        "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>深</title><item><title>条目</title>\
         <link>https://news.example.cn/1</link><description>{}深{}</description></item></channel></rss>",
        "<div>".repeat(depth),
        "</div>".repeat(depth)
    )
}

/// The billion-laughs DTD: ten levels of ten references each.
fn entity_bomb_rss() -> String {
    let mut dtd = String::from("<!ENTITY l0 \"哈哈哈哈哈哈哈哈哈哈\">");
    for i in 1..10 {
        dtd.push_str(&format!("<!ENTITY l{i} \"{}\">", format!("&l{};", i - 1).repeat(10)));
    }
    format!(
        "<?xml version=\"1.0\"?><!DOCTYPE rss [{dtd}]><rss version=\"2.0\"><channel><title>&l9;</title>\
         <item><title>&l9;</title><link>https://news.example.cn/1</link></item></channel></rss>"
    )
}

/// A JSON Feed whose one item holds `depth` nested arrays.
fn nested_json_feed(depth: usize) -> String {
    format!(
        "{{\"version\":\"https://jsonfeed.org/version/1.1\",\"title\":\"深\",\"items\":[{{\"id\":\"1\",\
         \"url\":\"https://news.example.cn/1\",\"deep\":{}{}}}]}}",
        "[".repeat(depth),
        "]".repeat(depth)
    )
}

/// Issue 14 item 1 (feeds): nested 100k deep, a DTD entity bomb and a
/// 100k-deep JSON Feed each end as their source's outcome within the
/// budget; a good feed beside them is checked in the same run.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_hostile_feeds_are_contained() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    let rss = |body: String| Page::bytes("application/rss+xml; charset=utf-8", body.into_bytes());
    server.set("/deep.xml", rss(nested_rss(DEEP)));
    server.set("/bomb.xml", rss(entity_bomb_rss()));
    server.set("/deep.json", Page::bytes("application/feed+json", nested_json_feed(DEEP).into_bytes()));
    server.set("/fine.xml", rss(nested_rss(3)));
    mw.init().await;
    let deep = mw.add(&server.url("/deep.xml"), &["--kind", "feed"]).await;
    let bomb = mw.add(&server.url("/bomb.xml"), &["--kind", "feed"]).await;
    let json = mw.add(&server.url("/deep.json"), &["--kind", "feed"]).await;
    let fine = mw.add(&server.url("/fine.xml"), &["--kind", "feed"]).await;

    let t = Instant::now();
    let r = check_json(&mw, &[]).await;
    assert!(t.elapsed() < Duration::from_secs(40), "took {:?}", t.elapsed());
    assert_eq!(outcome_of(&r, fine)["outcome"], "baseline", "{r}");
    for id in [deep, bomb, json] {
        let o = outcome_of(&r, id);
        match o["outcome"].as_str() {
            Some("baseline") => {}
            Some("failed") => {
                assert_eq!(o["error_kind"], "invalid_content", "{o}");
                assert!(!o["message"].as_str().unwrap_or_default().is_empty(), "{o}");
            }
            other => panic!("{other:?}: {o}"),
        }
    }
    let bomb_text = mw.run_async(&["snapshot", "show", &bomb.to_string(), "--text"]).await;
    assert!(bomb_text.stdout.len() < 100_000, "the entity bomb expanded: {} bytes", bomb_text.stdout.len());
}

/// GitHub's web and API bases, and Hugging Face's, on the test server.
fn api_config(server: &TestServer) -> String {
    format!(
        "{TEST_CONFIG}\n[github]\nweb_base = \"{}\"\napi_base = \"{}\"\n[huggingface]\nweb_base = \"{}\"\napi_base = \"{}\"\n",
        server.url("/"),
        server.url("/api"),
        server.url("/"),
        server.url("/hf")
    )
}

fn json(body: String) -> Page {
    Page::bytes("application/json; charset=utf-8", body.into_bytes())
}

/// Issue 14 item 1 (API JSON): serde_json's recursion limit (128) holds —
/// no crate of the build turns it off — so a 100k-deep answer from the
/// GitHub or Hugging Face API is `invalid_content` naming the limit, and
/// an answer just inside it parses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_deeply_nested_api_json_is_invalid_content() {
    let server = TestServer::start().await;
    let Some(mw) = Mw::with_config(Backend::Sqlite, &api_config(&server)).await else { return };
    let nest = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    server.set("/api/repos/deep/repo", json(format!("{{\"full_name\":\"deep/repo\",\"x\":{}}}", nest(DEEP))));
    server.set("/api/repos/fine/repo", json(format!("{{\"full_name\":\"fine/repo\",\"x\":{}}}", nest(100))));
    server.set("/hf/api/models/deep/model", json(format!("{{\"id\":\"deep/model\",\"x\":{}}}", nest(DEEP))));
    mw.init().await;
    let deep = mw.add(&server.url("/deep/repo"), &["--kind", "github"]).await;
    let fine = mw.add(&server.url("/fine/repo"), &["--kind", "github"]).await;
    let hf = mw.add(&server.url("/deep/model"), &["--kind", "huggingface"]).await;

    let r = check_json(&mw, &[]).await;
    assert_eq!(outcome_of(&r, fine)["outcome"], "baseline", "{r}");
    for id in [deep, hf] {
        let o = outcome_of(&r, id);
        assert_eq!((o["outcome"].as_str(), o["error_kind"].as_str()), (Some("failed"), Some("invalid_content")), "{o}");
        assert!(o["message"].as_str().unwrap().contains("recursion limit"), "{o}");
    }
}

/// Markdown documents built to be slow or deep for a CommonMark parser,
/// each about 1 MB or a nesting of 100k.
fn hostile_markdown() -> Vec<(&'static str, String)> {
    let link = "[参考](https://ref.example.cn/a)";
    vec![
        ("blockquotes", format!("# 引用\n\n{}{link}\n", "> ".repeat(DEEP))),
        ("list items", format!("# 列表\n\n{}{link}\n", "- ".repeat(DEEP))),
        (
            "indented lists",
            (0..900).map(|i| format!("{}- 项 [l{i}](https://ref.example.cn/{i})\n", "  ".repeat(i))).collect(),
        ),
        ("brackets", format!("# 括号\n\n{}{}\n{link}\n", "[".repeat(500_000), "]".repeat(500_000))),
        ("link openers", format!("# 链接\n\n{}\n{link}\n", "[x](".repeat(250_000))),
        ("emphasis", format!("# 强调\n\n{}\n{link}\n", "*a **b ".repeat(150_000))),
        ("inline html", format!("# html\n\n{}\n{link}\n", "<a>".repeat(300_000))),
        (
            "backticks",
            format!("# code\n\n{}\n{link}\n", (1..1400).map(|i| format!("{}a", "`".repeat(i))).collect::<String>()),
        ),
    ]
}

/// Issue 14 item 1 (Markdown import): every hostile document is read or
/// refused with the reason within the time budget, never a crash.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_hostile_markdown_imports_are_bounded() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    mw.init().await;
    for (name, doc) in hostile_markdown() {
        let path = mw.path().join("hostile.md");
        std::fs::write(&path, &doc).unwrap();
        let t = Instant::now();
        let r = mw.run_async(&["sources", "import", "hostile.md", "--dry-run", "--format", "json"]).await;
        let took = t.elapsed();
        assert!(took < Duration::from_secs(35), "{name}: {took:?}");
        match r.code {
            0 => assert!(r.json().is_array(), "{name}: {}", r.stdout),
            2 => assert!(r.stderr.contains("as Markdown"), "{name}: {}", r.stderr),
            code => panic!("{name}: exit {code}: {}", r.stderr),
        }
    }
}
