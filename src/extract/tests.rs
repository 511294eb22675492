//! Fixture tests: realistic pages, their noise-only variants (which must
//! extract to identical text) and their real-edit variants (which must diff
//! to exactly the edit). Fixtures live in tests/fixtures/pages/; the variants
//! are produced from each base page by `make_variants.py` there.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::diff::{DiffOptions, diff_text};

macro_rules! page {
    ($name:literal) => {
        include_str!(concat!("../../tests/fixtures/pages/", $name))
    };
}

fn text(html: &str) -> Extracted {
    extract_page(html, &ExtractOptions::default()).unwrap()
}

/// Noise-only variant: same text, so no change.
fn assert_no_change(base: &str, noisy: &str) {
    let (a, b) = (text(base), text(noisy));
    assert_eq!(a.text, b.text);
    assert_eq!(diff_text(&a.text, &b.text, &DiffOptions::default()), None);
}

fn change(base: &str, edited: &str) -> crate::diff::TextChange {
    diff_text(&text(base).text, &text(edited).text, &DiffOptions::default()).expect("a real edit must be a change")
}

#[test]
fn portal_article_text_and_meta() {
    let e = text(page!("portal.html"));
    assert_eq!(e.title.as_deref(), Some("百度发布文心大模型4.5：多模态能力全面升级"));
    assert_eq!(e.author.as_deref(), Some("新浪科技"));
    assert_eq!(e.published.as_deref(), Some("2025-03-16T10:21:00+08:00"));
    assert_eq!(e.feed_links, vec!["https://tech.sina.com.cn/rss/roll.xml"]);
    insta::assert_snapshot!("portal_text", e.text);
    insta::assert_snapshot!("portal_removed", e.removed.join("\n"));
}

#[test]
fn portal_noise_is_no_change() {
    assert_no_change(page!("portal.html"), page!("portal.noise.html"));
}

#[test]
fn portal_number_edit() {
    let c = change(page!("portal.html"), page!("portal.edit-number.html"));
    assert_eq!((c.added, c.removed, c.modified), (0, 0, 1));
    assert!(c.excerpt.contains("~ 目前，文心一言用户数已突破[-4.3-]{+4.5+}亿，日均调用量达到15亿次。"));
    insta::assert_snapshot!("portal_edit_number_excerpt", c.excerpt);
}

#[test]
fn blog_post_text_and_meta() {
    let e = text(page!("blog.html"));
    assert_eq!(e.title.as_deref(), Some("Notes on Running Qwen2.5-72B Locally"));
    assert_eq!(e.author.as_deref(), Some("Maya Chen"));
    assert_eq!(e.feed_links, vec!["/feed.atom"]);
    insta::assert_snapshot!("blog_text", e.text);
}

#[test]
fn blog_noise_is_no_change() {
    assert_no_change(page!("blog.html"), page!("blog.noise.html"));
}

#[test]
fn blog_sentence_rewrite() {
    let c = change(page!("blog.html"), page!("blog.edit-sentence.html"));
    assert_eq!((c.added, c.removed, c.modified), (0, 0, 1));
    assert!(c.excerpt.contains("for coding [-tasks-]{+and long-document summarisation, less so for chat+}."));
    insta::assert_snapshot!("blog_edit_sentence_excerpt", c.excerpt);
}

#[test]
fn wechat_article_text_and_meta() {
    let e = text(page!("wechat.html"));
    assert_eq!(e.title.as_deref(), Some("深度｜DeepSeek-R1开源一周：国产推理模型的破局时刻"));
    assert_eq!(e.author.as_deref(), Some("硅基观察"));
    assert_eq!(e.published.as_deref(), Some("2025年01月27日 16:00"));
    assert!(e.feed_links.is_empty());
    insta::assert_snapshot!("wechat_text", e.text);
}

#[test]
fn wechat_noise_is_no_change() {
    assert_no_change(page!("wechat.html"), page!("wechat.noise.html"));
}

#[test]
fn wechat_paragraph_added() {
    let c = change(page!("wechat.html"), page!("wechat.edit-paragraph.html"));
    assert_eq!((c.added, c.removed, c.modified), (1, 0, 0));
    assert_eq!(c.summary, "1 paragraph added");
    assert!(c.excerpt.contains("+ 截至1月27日，DeepSeek应用已登顶美国App Store免费榜。"));
    insta::assert_snapshot!("wechat_edit_paragraph_excerpt", c.excerpt);
}

#[test]
fn qa_page_text_and_meta() {
    let e = text(page!("qa.html"));
    assert_eq!(e.title.as_deref(), Some("国内有哪些可以商用的开源大模型？ - 知乎"));
    assert_eq!(e.published.as_deref(), Some("2024-06-02T11:20:31.000Z"));
    insta::assert_snapshot!("qa_text", e.text);
    // What `check --dry-run` shows a user tuning this source.
    insta::assert_snapshot!("qa_removed", e.removed.join("\n"));
}

#[test]
fn qa_noise_is_no_change() {
    assert_no_change(page!("qa.html"), page!("qa.noise.html"));
}

#[test]
fn qa_model_name_added() {
    let c = change(page!("qa.html"), page!("qa.edit-model.html"));
    assert_eq!((c.added, c.removed, c.modified), (1, 0, 0));
    assert!(c.excerpt.contains("+ DeepSeek-V2-Lite（DeepSeek模型许可，可商用）"));
    insta::assert_snapshot!("qa_edit_model_excerpt", c.excerpt);
}

#[test]
fn without_default_noise_counters_stay() {
    let opts = ExtractOptions { default_noise: false, ..ExtractOptions::default() };
    let base = extract_page(page!("portal.html"), &opts).unwrap();
    let noisy = extract_page(page!("portal.noise.html"), &opts).unwrap();
    assert!(base.removed.is_empty());
    assert_ne!(base.text, noisy.text, "counters and ads differ when rules are off");
    assert!(base.text.contains("云服务器限时特惠"));
}

#[test]
fn user_select_exclude_and_ignore() {
    let opts = ExtractOptions {
        select: Some("#artibody p".into()),
        exclude: vec![".article-editor".into()],
        ignore: vec![r"^新浪科技讯\s*\d+月\d+日上午消息，".into()],
        default_noise: true,
    };
    let e = extract_page(page!("portal.html"), &opts).unwrap();
    let first = e.text.lines().next().unwrap();
    assert!(first.starts_with("百度今日正式发布"), "{first}");
    assert!(!e.text.contains("责任编辑"));
    assert!(e.removed.iter().any(|r| r.starts_with("region exclude: 责任编辑")));
    assert_eq!(e.text.lines().count(), 5);
}

#[test]
fn user_selection_is_not_second_guessed_by_furniture_rules() {
    // Watching the comments on purpose: `.comment-item` would be furniture.
    let opts = ExtractOptions { select: Some("#comments".into()), ..ExtractOptions::default() };
    let e = extract_page(page!("portal.html"), &opts).unwrap();
    assert_eq!(
        e.text,
        "网友评论\n科技爱好者\n免费了？赶紧去试试，看看和DeepSeek比怎么样。\n北京网友\n价格打下来了，国产大模型卷起来了。"
    );
    // ...while the relative times in it are still line noise.
    assert!(e.removed.contains(&"relative_time_zh: 3小时前".to_owned()));
}

#[test]
fn empty_and_plain_inputs() {
    assert_eq!(text("").text, "");
    assert_eq!(text("只是一行纯文本，没有任何标签。").text, "只是一行纯文本，没有任何标签。");
    assert_eq!(text("<html><body><nav>首页</nav></body></html>").text, "");
}

#[test]
fn selector_matching_nothing_gives_empty_text() {
    let opts = ExtractOptions { select: Some("#no-such-id".into()), ..ExtractOptions::default() };
    let e = extract_page(page!("blog.html"), &opts).unwrap();
    assert_eq!(e.text, "");
    assert_eq!(e.title.as_deref(), Some("Notes on Running Qwen2.5-72B Locally"));
}

#[test]
fn bad_selector_and_regex_are_errors() {
    assert!(matches!(validate_selector("div[[["), Err(ExtractError::BadSelector { .. })));
    assert!(validate_selector("article .post-content > p").is_ok());
    let opts = ExtractOptions { ignore: vec!["(".into()], ..ExtractOptions::default() };
    assert!(matches!(extract_page("<p>x</p>", &opts), Err(ExtractError::BadRegex { .. })));
}

#[test]
fn density_fallback_without_known_containers() {
    let html = r#"<html><body>
        <div id="menu"><a href="/">首页</a><a href="/ai">人工智能</a><a href="/cloud">云计算</a></div>
        <div id="x1"><div id="x2">
          <p>月之暗面今日发布Kimi K2，这是一款总参数1万亿、激活参数320亿的混合专家模型。</p>
          <p>Kimi K2在代码、智能体和数学推理任务上表现突出，并以修改版MIT协议开源。</p>
        </div></div>
        <div id="links"><a href="/1">相关：智谱发布GLM-4.5，开源SOTA模型之一</a></div>
        </body></html>"#;
    let e = text(html);
    assert_eq!(
        e.text,
        "月之暗面今日发布Kimi K2，这是一款总参数1万亿、激活参数320亿的混合专家模型。\n\
         Kimi K2在代码、智能体和数学推理任务上表现突出，并以修改版MIT协议开源。"
    );
}

#[test]
fn soft_gone_from_a_deleted_wechat_article() {
    let html = r#"<html><head><title></title></head><body><div class="weui-msg">
        <div class="weui-msg__text-area"><h2 class="weui-msg__title">该内容已被发布者删除</h2></div>
        </div></body></html>"#;
    let e = text(html);
    assert_eq!(soft_gone_reason(&e).as_deref(), Some("该内容已被发布者删除"));
    assert_eq!(soft_gone_reason(&text(page!("wechat.html"))), None);
}

#[test]
fn hostile_nesting_does_not_panic() {
    // Nesting up to the budget extracts; past it the page is refused before
    // html5ever's tree builder (quadratic in depth) ever sees it.
    let html = format!("{}<p>深层文字</p>{}", "<div>".repeat(1_000), "</div>".repeat(1_000));
    assert_eq!(text(&html).text, "深层文字");
    let html = format!("{}<p>深层文字</p>{}", "<div>".repeat(5_000), "</div>".repeat(5_000));
    let e = extract_page(&html, &ExtractOptions::default()).unwrap_err();
    assert!(matches!(e, ExtractError::Budget(budget::BudgetError::TooDeep { .. })), "{e}");
}

#[test]
#[ignore = "measurement, not a check: our extractor vs dom_smoothie on the fixtures"]
fn compare_with_dom_smoothie() {
    let pairs = [
        ("portal", page!("portal.html"), page!("portal.noise.html")),
        ("blog", page!("blog.html"), page!("blog.noise.html")),
        ("wechat", page!("wechat.html"), page!("wechat.noise.html")),
        ("qa", page!("qa.html"), page!("qa.noise.html")),
    ];
    let smooth = |html: &str| -> String {
        let mut r = dom_smoothie::Readability::new(html, Some("https://example.com/a"), None).unwrap();
        normalize_text(&r.parse().map(|a| a.text_content.to_string()).unwrap_or_default())
    };
    for (name, base, noisy) in pairs {
        let (ours_a, ours_b) = (text(base).text, text(noisy).text);
        assert_eq!(ours_a, ours_b, "{name}: ours must be noise-stable");
        let t = std::time::Instant::now();
        let (ds_a, ds_b) = (smooth(base), smooth(noisy));
        let ds_ms = t.elapsed().as_secs_f64() * 500.0;
        let ds_noise_free = apply_noise_rules(&ds_a, &ExtractOptions::default()).0
            == apply_noise_rules(&ds_b, &ExtractOptions::default()).0;
        eprintln!(
            "{name}: ours {} lines, noise-stable={}; dom_smoothie {} lines ({ds_ms:.1} ms/page), \
             noise-stable={} (after our line rules: {ds_noise_free})\n--- dom_smoothie:\n{ds_a}\n",
            ours_a.lines().count(),
            ours_a == ours_b,
            ds_a.lines().count(),
            ds_a == ds_b,
        );
    }
}
