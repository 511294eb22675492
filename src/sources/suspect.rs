//! Suspect outcomes (pure): a fetch that ended on something other than the
//! article. Such a response is a liveness outcome, never content: its text
//! must not become the source's snapshot, be diffed against the article, or
//! feed the catalog. Each rule errs towards "content": a real rewrite of the
//! same article stays a content change.

use std::collections::HashSet;

use url::Url;

/// Share of the article's paragraphs below which a response with another
/// title is taken for a different page (issue 13: "< 20%").
pub const REPLACED_MAX_SHARED: f64 = 0.2;

fn is_home(u: &Url) -> bool {
    matches!(u.path(), "" | "/" | "/index.html" | "/index.htm" | "/index.php" | "/index.shtml") && u.query().is_none()
}

fn bare_host(u: &Url) -> Option<String> {
    u.host_str().map(|h| h.trim_start_matches("www.").to_ascii_lowercase())
}

/// The path's segments, without an index file name and empty segments.
fn segments(u: &Url) -> Vec<&str> {
    let mut s: Vec<&str> = u.path().split('/').filter(|s| !s.is_empty()).collect();
    if s.last().is_some_and(|l| l.starts_with("index.")) {
        s.pop();
    }
    s
}

/// Why a redirect from `original` that ended on `fin` left the article: the
/// site's home page, another site (any redirect: a temporary one to a login
/// wall or a parking page is not the article either), or a section/listing
/// page above the article (`/news/2024/123.html` → `/news/`). A redirect that
/// keeps the page (http→https, `www.`, a trailing slash, the article's new
/// address elsewhere on the site) is not suspect.
pub fn redirect_reason(original: &Url, fin: &Url) -> Option<String> {
    if original == fin {
        return None;
    }
    if is_home(fin) && !is_home(original) {
        return Some(format!("redirected to the site's home page {fin}"));
    }
    if bare_host(fin) != bare_host(original) {
        return Some(format!("redirected to another site: {fin}"));
    }
    let (from, to) = (segments(original), segments(fin));
    if !to.is_empty() && to.len() < from.len() && from.starts_with(&to) && fin.query().is_none() {
        return Some(format!("redirected to a section page above the article: {fin}"));
    }
    None
}

fn title_key(t: &str) -> String {
    t.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}

/// Why a good response is a different page than the article it replaced:
/// it keeps fewer than [`REPLACED_MAX_SHARED`] of the article's paragraphs
/// *and* carries a different title, or none where the article had one (a
/// JSON error, a bare error page: no article loses its title, og:title
/// and h1 at once). Without the article's title there is no second
/// witness, and the response is content.
pub fn replaced_reason(
    old_text: &str,
    new_text: &str,
    old_title: Option<&str>,
    new_title: Option<&str>,
) -> Option<String> {
    let a = title_key(old_title?);
    let b = new_title.map(title_key).unwrap_or_default();
    if a.is_empty() || a == b || (!b.is_empty() && (a.contains(&b) || b.contains(&a))) {
        return None;
    }
    let old: Vec<&str> = old_text.lines().filter(|l| !l.trim().is_empty()).collect();
    if old.is_empty() {
        return None;
    }
    let new: HashSet<&str> = new_text.lines().collect();
    let kept = old.iter().filter(|l| new.contains(*l)).count();
    // Display only: counts of lines fit an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let share = kept as f64 / old.len() as f64;
    let shows = new_title.map_or_else(|| "a page without a title".to_owned(), |t| format!("\"{t}\""));
    (share < REPLACED_MAX_SHARED)
        .then(|| format!("the address now shows another page: {shows} ({kept} of {} paragraphs kept)", old.len()))
}

/// Why a page whose text is a cut-off copy of the last one may have been
/// cut off by the connection, not by its editor: a body delimited by the
/// connection's close (no Content-Length, or a server that died mid-answer
/// after its chunked end): an HTML document that stops before `</body>` or
/// `</html>`, with text that is the start of the article's. An edit that
/// drops the article's end still sends the whole document, closing tags
/// included — on a page that closes its document. Some never do
/// (hand-written templates that end on an unclosed `<div>` and a script):
/// so this is only a suspicion, confirmed by [`closes_document`] on the
/// page's previous answer; without it, the shorter text is an edit.
pub fn truncated_reason(old_text: &str, new_text: &str, raw: Option<&[u8]>) -> Option<String> {
    // A cut inside a multi-byte character decodes to a replacement
    // character at the very end.
    let new_text = new_text.trim_end().trim_end_matches(char::REPLACEMENT_CHARACTER);
    let raw = raw?;
    if new_text.len() >= old_text.len() || !old_text.starts_with(new_text) {
        return None;
    }
    let opened = raw[..raw.len().min(1024)].windows(5).any(|w| w.eq_ignore_ascii_case(b"<html"));
    (opened && !closes_document(raw)).then(|| {
        format!("the body ends mid-document after {} bytes (no </body> or </html>): a cut-off answer", raw.len())
    })
}

/// Whether an HTML body closes its document (`</body>` or `</html>`): a
/// page whose previous answer did is one whose answer without them was
/// cut off (see [`truncated_reason`]).
pub fn closes_document(raw: &[u8]) -> bool {
    raw.windows(6).any(|w| w.eq_ignore_ascii_case(b"</html") || w[..5].eq_ignore_ascii_case(b"</bod"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn u(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn home_other_site_and_section_pages_are_suspect() {
        let article = u("https://tech.example.cn/news/2024/123.html");
        assert!(redirect_reason(&article, &u("https://tech.example.cn/")).unwrap().contains("home page"));
        assert!(redirect_reason(&article, &u("https://tech.example.cn/index.shtml")).unwrap().contains("home page"));
        assert!(redirect_reason(&article, &u("https://parked.example.net/a")).unwrap().contains("another site"));
        assert!(redirect_reason(&article, &u("https://tech.example.cn/news/")).unwrap().contains("section"));
        assert!(redirect_reason(&article, &u("https://tech.example.cn/news/2024/")).unwrap().contains("section"));
    }

    #[test]
    fn redirects_that_keep_the_article_are_not() {
        let article = u("http://tech.example.cn/news/2024/123.html");
        for fin in [
            "https://tech.example.cn/news/2024/123.html",
            "https://www.tech.example.cn/news/2024/123.html",
            "https://tech.example.cn/a/20240315/123.html",
            "https://tech.example.cn/news/2024/123.html?from=rss",
        ] {
            assert_eq!(redirect_reason(&article, &u(fin)), None, "{fin}");
        }
        let dir = u("https://blog.example.com/posts/qwen-notes");
        assert_eq!(redirect_reason(&dir, &u("https://blog.example.com/posts/qwen-notes/")), None);
        // The home page moving to https is still the home page.
        assert_eq!(redirect_reason(&u("http://example.com/"), &u("https://example.com/")), None);
    }

    const ARTICLE: &str = "百度今日正式发布文心大模型4.5。\n文心大模型4.5是原生多模态模型。\n目前，文心一言用户数已突破4.3亿。\n百度智能云同步开放API。\n价格为GPT-4.5的1%。";

    #[test]
    fn another_article_under_the_same_address_is_suspect() {
        let other = "阿里云发布通义千问2.5。\n性能比肩GPT-4 Turbo。\n即日起开放API调用。";
        let why =
            replaced_reason(ARTICLE, other, Some("百度发布文心大模型4.5"), Some("阿里云发布通义千问2.5")).unwrap();
        assert!(why.contains("0 of 5 paragraphs kept"), "{why}");
    }

    #[test]
    fn a_rewrite_of_the_same_article_is_content() {
        let rewrite =
            "百度今日正式发布文心大模型4.5及X1。\n文心大模型4.5是原生多模态模型。\n目前，文心一言用户数已突破4.5亿。";
        // Same title: content, however much changed.
        assert_eq!(
            replaced_reason(ARTICLE, "全新的内容", Some("百度发布文心大模型4.5"), Some("百度发布文心大模型4.5")),
            None
        );
        // A retitled article that kept its structure: content.
        assert_eq!(replaced_reason(ARTICLE, rewrite, Some("百度发布文心大模型4.5"), Some("文心4.5正式发布")), None);
        // A site suffix added to the title is the same title.
        assert_eq!(
            replaced_reason(ARTICLE, "x", Some("百度发布文心大模型4.5"), Some("百度发布文心大模型4.5 - 新浪科技")),
            None
        );
        // No title to compare: content.
        assert_eq!(replaced_reason(ARTICLE, "x", None, Some("y")), None);
        assert_eq!(replaced_reason(ARTICLE, "x", None, None), None);
    }

    #[test]
    fn an_untitled_answer_in_place_of_a_titled_article_is_suspect() {
        let json = r#"{"code": 500, "msg": "服务器繁忙，请稍后再试"}"#;
        let why = replaced_reason(ARTICLE, json, Some("百度发布文心大模型4.5"), None).unwrap();
        assert_eq!(why, "the address now shows another page: a page without a title (0 of 5 paragraphs kept)");
        // The article itself, its title lost in an edit: still content.
        assert_eq!(replaced_reason(ARTICLE, ARTICLE, Some("百度发布文心大模型4.5"), None), None);
    }

    const OLD: &str = "第一段：百度发布文心大模型4.5。\n第二段：用户数突破4.3亿。\n第三段：API价格下调。";

    #[test]
    fn a_cut_off_body_is_truncated_and_a_shortened_article_is_not() {
        let cut = "<html><body><article><p>第一段：百度发布文心大模型4.5。</p><p>第二段：用户数";
        let why =
            truncated_reason(OLD, "第一段：百度发布文心大模型4.5。\n第二段：用户数", Some(cut.as_bytes())).unwrap();
        assert!(why.contains("ends mid-document"), "{why}");
        let mid_char = "第一段：百度发布文心大模型4.5。\n第二段：用\u{FFFD}";
        assert!(truncated_reason(OLD, mid_char, Some(cut.as_bytes())).is_some());
        // The editor dropped the last paragraph: the document is whole.
        let edited = "<html><body><article><p>第一段：百度发布文心大模型4.5。</p><p>第二段：用户数突破4.3亿。</p></article></BODY></HTML>";
        assert_eq!(
            truncated_reason(
                OLD,
                "第一段：百度发布文心大模型4.5。\n第二段：用户数突破4.3亿。",
                Some(edited.as_bytes())
            ),
            None
        );
        // Unclosed, but not a prefix of the article: an edit (or a page that never closes its tags).
        assert_eq!(truncated_reason(OLD, "第一段：百度发布文心大模型5.0。", Some(cut.as_bytes())), None);
        // A page whose answers never close their document: the previous
        // answer says whether this one was cut.
        let never_closed = "<html><body><article><p>第一段：百度发布文心大模型4.5。</p><p>第二段：用户数突破4.3亿。</p><p>第三段：API价格下调。</p></article><div><script>x()</script>";
        assert!(!closes_document(never_closed.as_bytes()));
        assert!(closes_document(edited.as_bytes()));
        // Plain text has no closing tags to miss.
        assert_eq!(
            truncated_reason(
                OLD,
                "第一段：百度发布文心大模型4.5。",
                Some("第一段：百度发布文心大模型4.5。".as_bytes())
            ),
            None
        );
    }
}
