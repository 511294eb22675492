//! What is not the article: tags that never carry text, hidden elements and
//! page furniture (nav, sidebars, share bars, comment threads, ads,
//! "相关推荐/猜你喜欢" lists).

use std::sync::LazyLock;

use regex::Regex;
use scraper::{ElementRef, Node};

/// Tags whose content is never reader-visible text.
const NEVER_TEXT: &[&str] = &[
    "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "head", "link", "meta",
    "input", "select", "option", "textarea", "button", "video", "audio", "map", "math", "dialog",
];

/// Tags that are page furniture wherever they appear inside the content.
const FURNITURE_TAGS: &[&str] = &["nav", "aside", "footer", "header", "form", "menu"];

const FURNITURE_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"];

/// One class or id token that names furniture: "sidebar", "share-bar",
/// "post_comments", "ad", "top-ad" (but not "head" or "read").
static FURNITURE_TOKEN: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:.*[-_])?(?:nav|navbar|navigation|menu|breadcrumbs?|crumbs?|sidebar|side|widgets?|footer|foot|header|masthead|topbar|toolbar|share|sharing|social|sns|related|relate|recommend|recommended|recommends|recom|hot|hots|popular|trending|rank|ranking|comments?|cmt|reply|replies|ad|ads|advert|advertisement|adv|adsbygoogle|banner|sponsor|sponsored|promo|promotion|subscribe|newsletter|cookies?|popup|modal|login|signup|qrcode|qr|copyright|pager|pagination|tags?|byline|meta|follow|reward|donate|guess|feedback|disclaimer)(?:[-_].*)?$",
    )
    .ok()
});

/// Headings that open a list of links to other pages.
static LIST_HEADING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:相关推荐|相关阅读|相关文章|相关新闻|推荐阅读|延伸阅读|热门文章|热门推荐|热门新闻|热点推荐|热门|猜你喜欢|你可能感兴趣|你可能也喜欢|大家都在看|精彩推荐|为你推荐|更多精彩|更多推荐|相关问题|热门问题|related(?: articles| posts| stories| questions)?|you (?:may|might) also like|recommended(?: for you)?|read (?:more|next)|more from .*|popular(?: posts)?|trending|hot network questions|linked)\s*[:：]?$",
    )
    .ok()
});

/// Containers checked for a list heading.
const LIST_CONTAINERS: &[&str] = &["div", "section", "ul", "ol", "dl", "table"];

pub(crate) fn is_never_text(el: &ElementRef<'_>) -> bool {
    NEVER_TEXT.contains(&el.value().name())
}

/// Hidden by markup. Pages keep CSRF tokens, templates and lazy blocks here.
pub(crate) fn is_hidden(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if v.attr("hidden").is_some() || v.attr("aria-hidden").is_some_and(|a| a == "true") {
        return true;
    }
    v.attr("style").is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Why this element is furniture, by tag, role, or a class/id token.
pub(crate) fn furniture_reason(el: &ElementRef<'_>) -> Option<String> {
    let v = el.value();
    let name = v.name();
    if FURNITURE_TAGS.contains(&name) {
        return Some(name.to_owned());
    }
    if let Some(role) = v.attr("role").filter(|r| FURNITURE_ROLES.contains(r)) {
        return Some(format!("{name}[role={role}]"));
    }
    let re = FURNITURE_TOKEN.as_ref()?;
    if let Some(id) = v.id().filter(|id| re.is_match(id)) {
        return Some(format!("{name}#{id}"));
    }
    v.classes().find(|c| re.is_match(c)).map(|c| format!("{name}.{c}"))
}

/// A container whose first text is "相关推荐" or "Related posts" and whose
/// text is mostly links. `text` and `linked` are the element's visible and
/// linked character counts (from `stats`, which builds on this module's
/// rules, so the counts come in as numbers).
pub(crate) fn link_list_reason(el: &ElementRef<'_>, text: usize, linked: usize) -> Option<String> {
    if !LIST_CONTAINERS.contains(&el.value().name()) {
        return None;
    }
    let re = LIST_HEADING.as_ref()?;
    let first = first_text(el)?;
    if !re.is_match(&first) {
        return None;
    }
    // The heading itself is not a link; the rest of the block mostly is.
    let body = text.saturating_sub(first.chars().filter(|c| !c.is_whitespace()).count());
    (body > 0 && linked * 2 >= body).then(|| format!("list \"{first}\""))
}

/// Nodes looked at for a container's first text: a heading comes early,
/// and a bound keeps deep pages linear.
const FIRST_TEXT_SCAN: usize = 64;

/// The first non-blank text in an element, trimmed, if short (a heading).
fn first_text(el: &ElementRef<'_>) -> Option<String> {
    for node in el.descendants().take(FIRST_TEXT_SCAN) {
        if let Node::Text(t) = node.value() {
            let t = t.trim();
            if !t.is_empty() {
                return (t.chars().count() <= 24).then(|| t.to_owned());
            }
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use scraper::{Html, Selector};

    fn first<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
        doc.select(&Selector::parse(css).unwrap()).next().unwrap()
    }

    #[test]
    fn patterns_compile() {
        assert!(FURNITURE_TOKEN.is_some());
        assert!(LIST_HEADING.is_some());
    }

    #[test]
    fn class_tokens() {
        let doc = Html::parse_document(
            r#"<div class="x share-bar"></div><div class="head"></div><div id="top_ad"></div>
               <div class="reader"></div><div class="rich_media_meta_list"></div>"#,
        );
        assert_eq!(furniture_reason(&first(&doc, ".x")).as_deref(), Some("div.share-bar"));
        assert_eq!(furniture_reason(&first(&doc, ".head")), None);
        assert_eq!(furniture_reason(&first(&doc, "#top_ad")).as_deref(), Some("div#top_ad"));
        assert_eq!(furniture_reason(&first(&doc, ".reader")), None);
        assert!(furniture_reason(&first(&doc, ".rich_media_meta_list")).is_some());
    }

    #[test]
    fn recommended_list_by_heading() {
        let doc = Html::parse_document(
            r#"<div id="a"><h3>猜你喜欢</h3><ul><li><a href="/1">智谱发布GLM-4.5</a></li>
               <li><a href="/2">月之暗面Kimi K2开源</a></li></ul></div>
               <div id="b"><h3>相关推荐</h3><p>这一段是正文而不是链接列表，篇幅比较长，也没有任何链接。</p></div>"#,
        );
        let stats = super::super::stats::PageStats::compute(&doc);
        let reason = |css: &str| {
            let el = first(&doc, css);
            let s = stats.get(el.id());
            link_list_reason(&el, s.text, s.linked)
        };
        assert_eq!(reason("#a").as_deref(), Some("list \"猜你喜欢\""));
        assert_eq!(reason("#b"), None);
    }

    #[test]
    fn hidden_by_style() {
        let doc = Html::parse_document(r#"<div style="DISPLAY: none">x</div>"#);
        assert!(is_hidden(&first(&doc, "div")));
    }
}
