//! Extraction output pinned: every fixture page, under several option sets,
//! digests (title, author, published, text, removed, feed links) to what it
//! did when the snapshot was taken.
//!
//! A change in what a page extracts to is a spurious change reported on
//! every user's next check after an upgrade, so work on the extractor's
//! speed must leave these digests alone. A deliberate change of extraction
//! updates the snapshot (`cargo insta review`) and says why in its commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::{ExtractOptions, extract_owned_page, extract_page};

/// Pages no fixture has: every kind of whitespace and invisible character,
/// full-width letters, decomposed accents, ellipses, `<pre>`, tables,
/// hidden blocks, link lists, a density-scored article.
const ODD_PAGE: &str = "<html><head><title> 奇怪的\u{3000}页面 … </title>\
    <meta property=\"og:title\" content=\"  \"><meta name=\"author\" content=\"Ｌｉ\u{200B} Ming\">\
    <time datetime=\" 2025-01-02 \">x</time>\
    <link rel=\"ALTERNATE feed\" type=\" Application/RSS+XML; charset=utf-8\" href=\" /rss \"></head><body>\
    <div id=\"Side-Nav\"><a href=/>首页</a></div><div class=\"K\u{212A}-ad\">广告位</div>\
    <div class=\"x\"><p>  Cafe\u{301}\u{00A0}\u{00A0}和 ＧＰＴ－４ ， 参数\t１７５０亿......\r\n下一行。。。</p>\
    <p>半角 English  words\u{2003}and …… 中文 ( LLM ) 混排 ...</p>\
    <pre>  code line 1\r\n\tcode  line 2\n\n</pre>\
    <table><tr><td>模型</td><td> 参数 </td></tr><tr><td>GLM-4</td><td></td><td>9B</td></tr></table>\
    <p style=\"Display : None\">hidden</p><p hidden>also hidden</p><p aria-hidden=\"true\">aria</p>\
    <ul><li>第一<br>第二</li><li>阅读 1,234 · 3小时前</li><li>© 2020-2026 某公司</li></ul>\
    <div class=\"list\"><h3>相关推荐：</h3><a href=/1>一篇很长很长的推荐文章标题</a><a href=/2>另一篇推荐文章</a></div>\
    <p>\u{FEFF}\u{2060}</p><h1>奇怪的 页面</h1><p>据报道，这是正文，足够长的一段文字，用于密度评分。</p></div>\
    <footer>版权所有</footer></body></html>";

fn option_sets() -> Vec<(&'static str, ExtractOptions)> {
    vec![
        ("default", ExtractOptions::default()),
        ("rules_off", ExtractOptions { default_noise: false, ..ExtractOptions::default() }),
        (
            "select",
            ExtractOptions {
                select: Some("p, li, h2, td".into()),
                exclude: vec!["a".into()],
                ignore: vec![r"\d{2,}".into()],
                default_noise: true,
            },
        ),
        (
            "exclude",
            ExtractOptions {
                exclude: vec![".comment, .footer, [class*=meta]".into()],
                ignore: vec![r"(?i)^\s*(?:by|作者)\b.*$".into()],
                ..ExtractOptions::default()
            },
        ),
    ]
}

#[test]
fn fixture_extraction_is_pinned() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pages");
    let mut pages: Vec<(String, String)> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "html"))
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap()))
        .collect();
    pages.sort();
    assert!(pages.len() >= 20, "the fixture pages are missing from {}", dir.display());
    pages.push(("odd (inline)".into(), ODD_PAGE.into()));
    let mut lines = Vec::new();
    for (name, html) in &pages {
        for (label, opts) in option_sets() {
            let digest = extract_page(html, &opts).map(|e| e.digest()).unwrap_or_else(|e| format!("error: {e}"));
            // The runner's page read hands its decoded page over instead.
            let owned =
                extract_owned_page(html.clone(), &opts).map(|e| e.digest()).unwrap_or_else(|e| format!("error: {e}"));
            assert_eq!(owned, digest, "{name} {label}: an owned page extracts as a borrowed one");
            lines.push(format!("{name} {label} {digest}"));
        }
    }
    insta::assert_snapshot!("fixture_extraction_digests", lines.join("\n"));
}

#[test]
fn the_odd_page_extracts_what_it_says() {
    // The digests above are opaque; this says what the odd page pins.
    let e = extract_page(ODD_PAGE, &ExtractOptions::default()).unwrap();
    assert_eq!(e.title.as_deref(), Some("奇怪的 页面 …"));
    assert_eq!(e.author.as_deref(), Some("Li Ming"));
    assert_eq!(e.published.as_deref(), Some("2025-01-02"));
    assert_eq!(e.feed_links, ["/rss"]);
    insta::assert_snapshot!("odd_page_text", e.text);
    insta::assert_snapshot!("odd_page_removed", e.removed.join("\n"));
}

/// The pinned output under the [`super::VERSION`] it was pinned for: a
/// change of what pages extract to (`cargo insta review` above) fails here
/// until the version is raised with it, so every user's snapshots read
/// with the old code are read again from their bodies instead of being
/// reported as changed on the next check.
#[test]
fn the_pinned_output_has_its_version() {
    use sha2::{Digest, Sha256};
    const PINNED: (u32, &str) = (1, "49b8ff583e1a500d");
    let mut hash = Sha256::new();
    for snap in [
        include_str!("snapshots/modelwatch__extract__pinned__fixture_extraction_digests.snap"),
        include_str!("snapshots/modelwatch__extract__pinned__odd_page_text.snap"),
        include_str!("snapshots/modelwatch__extract__pinned__odd_page_removed.snap"),
    ] {
        // The body below insta's header (its `source:`/`expression:` lines).
        hash.update(snap.split_once("\n---\n").map_or(snap, |(_, body)| body).as_bytes());
        hash.update([0]);
    }
    let pinned = hex::encode(&hash.finalize()[..8]);
    assert_eq!(
        (super::VERSION, pinned.as_str()),
        PINNED,
        "the pinned extraction output changed: raise extract::VERSION and put the new version and hash in PINNED"
    );
}
