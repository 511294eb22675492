//! What is not the article: tags that never carry text, hidden elements and
//! page furniture (nav, sidebars, share bars, comment threads, ads,
//! "相关推荐/猜你喜欢" lists).

use std::sync::LazyLock;

use html5ever::{LocalName, local_name, ns};
use regex::Regex;
use scraper::node::Element;
use scraper::{ElementRef, Node};

const FURNITURE_ROLES: &[&str] = &["navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alert"];

/// Class/id words that name furniture: "sidebar", "share-bar",
/// "post_comments", "ad", "top-ad" (but not "head" or "read"). A token is
/// furniture when one of its `-`/`_`-separated parts is one of these, in
/// any case. Longest is `advertisement`.
const FURNITURE_WORDS: &[&str] = &[
    "ad",
    "ads",
    "adsbygoogle",
    "adv",
    "advert",
    "advertisement",
    "banner",
    "breadcrumb",
    "breadcrumbs",
    "byline",
    "cmt",
    "comment",
    "comments",
    "cookie",
    "cookies",
    "copyright",
    "crumb",
    "crumbs",
    "disclaimer",
    "donate",
    "feedback",
    "follow",
    "foot",
    "footer",
    "guess",
    "header",
    "hot",
    "hots",
    "login",
    "masthead",
    "menu",
    "meta",
    "modal",
    "nav",
    "navbar",
    "navigation",
    "newsletter",
    "pager",
    "pagination",
    "popular",
    "popup",
    "promo",
    "promotion",
    "qr",
    "qrcode",
    "rank",
    "ranking",
    "recom",
    "recommend",
    "recommended",
    "recommends",
    "relate",
    "related",
    "replies",
    "reply",
    "reward",
    "share",
    "sharing",
    "side",
    "sidebar",
    "signup",
    "sns",
    "social",
    "sponsor",
    "sponsored",
    "subscribe",
    "tag",
    "tags",
    "toolbar",
    "topbar",
    "trending",
    "widget",
    "widgets",
];

/// The same rule as a regex, for tokens the fast path does not take (non-
/// ASCII ones: under `(?i)` the Kelvin sign is a `k` and `ſ` an `s`).
static FURNITURE_TOKEN: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(&format!(r"(?i)^(?:.*[-_])?(?:{})(?:[-_].*)?$", FURNITURE_WORDS.join("|"))).ok());

/// Whether a class or id token names furniture. Called for every class of
/// every element, so ASCII tokens (nearly all) are split and looked up
/// without the regex; the rest go through it.
fn is_furniture_token(token: &str) -> bool {
    // `.` in the regex stops at a newline; such tokens take the regex too.
    if !token.is_ascii() || token.contains('\n') {
        return FURNITURE_TOKEN.as_ref().is_some_and(|re| re.is_match(token));
    }
    // Split as bytes: a split on a set of chars ran every char through the
    // pattern searcher (`is_furniture` over 150 bench pages: 35.4 M
    // instructions that way, 31.7 M this way).
    token.as_bytes().split(|&b| b == b'-' || b == b'_').any(|part| {
        let mut lower = [0u8; 16];
        let Some(buf) = lower.get_mut(..part.len()) else { return false };
        buf.copy_from_slice(part);
        buf.make_ascii_lowercase();
        let words = buf.first().and_then(|b| WORDS_BY_FIRST.get(usize::from(b.wrapping_sub(b'a'))));
        words
            .and_then(|&(from, to)| FURNITURE_WORDS.get(from..to))
            .is_some_and(|w| w.iter().any(|w| w.as_bytes() == buf))
    })
}

/// Per first letter `a`–`z`, the range of [`FURNITURE_WORDS`] (sorted) that
/// starts with it. A class part is looked up among those few words, most
/// of them refused by length alone: a binary search over all of them made
/// seven byte-string comparisons a part, for every class of every element.
const WORDS_BY_FIRST: [(usize, usize); 26] = {
    let mut ranges = [(0, 0); 26];
    let mut i = 0;
    while i < FURNITURE_WORDS.len() {
        let first = (FURNITURE_WORDS[i].as_bytes()[0] - b'a') as usize;
        if ranges[first].1 == 0 {
            ranges[first].0 = i;
        }
        ranges[first].1 = i + 1;
        i += 1;
    }
    ranges
};

/// Headings that open a list of links to other pages.
static LIST_HEADING: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^(?:相关推荐|相关阅读|相关文章|相关新闻|推荐阅读|延伸阅读|热门文章|热门推荐|热门新闻|热点推荐|热门|猜你喜欢|你可能感兴趣|你可能也喜欢|大家都在看|精彩推荐|为你推荐|更多精彩|更多推荐|相关问题|热门问题|related(?: articles| posts| stories| questions)?|you (?:may|might) also like|recommended(?: for you)?|read (?:more|next)|more from .*|popular(?: posts)?|trending|hot network questions|linked)\s*[:：]?$",
    )
    .ok()
});

/// Containers checked for a list heading.
const LIST_CONTAINERS: &[&str] = &["div", "section", "ul", "ol", "dl", "table"];

/// Tags whose content is never reader-visible text. Matched as atoms: asked
/// of every element, that is a compare a tag instead of a string compare.
pub(crate) fn is_never_text(el: &ElementRef<'_>) -> bool {
    matches!(
        el.value().name.local,
        local_name!("script")
            | local_name!("style")
            | local_name!("noscript")
            | local_name!("template")
            | local_name!("iframe")
            | local_name!("svg")
            | local_name!("canvas")
            | local_name!("object")
            | local_name!("embed")
            | local_name!("head")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("input")
            | local_name!("select")
            | local_name!("option")
            | local_name!("textarea")
            | local_name!("button")
            | local_name!("video")
            | local_name!("audio")
            | local_name!("map")
            | local_name!("math")
            | local_name!("dialog")
    )
}

/// Tags that are page furniture wherever they appear inside the content.
fn is_furniture_tag(el: &Element) -> bool {
    matches!(
        el.name.local,
        local_name!("nav")
            | local_name!("aside")
            | local_name!("footer")
            | local_name!("header")
            | local_name!("form")
            | local_name!("menu")
    )
}

/// An attribute without namespace, as [`Element::attr`] finds it, without
/// making an atom of its name on every call.
fn plain_attr<'a>(el: &'a Element, name: &LocalName) -> Option<&'a str> {
    el.attrs.iter().find(|(n, _)| n.prefix.is_none() && n.ns == ns!() && n.local == *name).map(|(_, v)| &**v)
}

/// Hidden by markup. Pages keep CSRF tokens, templates and lazy blocks here.
pub(crate) fn is_hidden(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    if plain_attr(v, &local_name!("hidden")).is_some()
        || plain_attr(v, &local_name!("aria-hidden")).is_some_and(|a| a == "true")
    {
        return true;
    }
    plain_attr(v, &local_name!("style")).is_some_and(|s| {
        let s: String = s.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase();
        s.contains("display:none") || s.contains("visibility:hidden")
    })
}

/// Whether this element is furniture ([`furniture_reason`] without
/// building the reason: the page statistics ask it of every element).
pub(crate) fn is_furniture(el: &ElementRef<'_>) -> bool {
    let v = el.value();
    is_furniture_tag(v)
        || plain_attr(v, &local_name!("role")).is_some_and(|r| FURNITURE_ROLES.contains(&r))
        || v.id().is_some_and(is_furniture_token)
        // The class attribute as `Element::classes` splits it, without
        // interning every class on the page as an atom.
        || v.attrs
            .iter()
            .any(|(n, classes)| n.local == local_name!("class") && classes.split_ascii_whitespace().any(is_furniture_token))
}

/// Why this element is furniture, by tag, role, or a class/id token.
pub(crate) fn furniture_reason(el: &ElementRef<'_>) -> Option<String> {
    if !is_furniture(el) {
        return None;
    }
    let v = el.value();
    let name = v.name();
    if is_furniture_tag(v) {
        return Some(name.to_owned());
    }
    if let Some(role) = v.attr("role").filter(|r| FURNITURE_ROLES.contains(r)) {
        return Some(format!("{name}[role={role}]"));
    }
    if let Some(id) = v.id().filter(|id| is_furniture_token(id)) {
        return Some(format!("{name}#{id}"));
    }
    v.classes().find(|c| is_furniture_token(c)).map(|c| format!("{name}.{c}"))
}

/// A container whose first text is "相关推荐" or "Related posts" and whose
/// text is mostly links. `counts` gives the element's visible and linked
/// character counts (from `stats`, which builds on this module's rules, so
/// the counts come in as numbers), asked only of a container with such a
/// heading: counting is the costly part.
pub(crate) fn link_list_reason(el: &ElementRef<'_>, counts: impl FnOnce() -> (usize, usize)) -> Option<String> {
    if !LIST_CONTAINERS.contains(&el.value().name()) {
        return None;
    }
    let re = LIST_HEADING.as_ref()?;
    if let Some(first) = first_text(el).filter(|t| re.is_match(t)) {
        let (text, linked) = counts();
        // The heading itself is not a link; the rest of the block mostly is.
        let body = text.saturating_sub(first.chars().filter(|c| !c.is_whitespace()).count());
        return (body > 0 && linked * 2 >= body).then(|| format!("list \"{first}\""));
    }
    // A bare list under a heading of its own, as editors write one into the
    // article ("<p>热门推荐：</p><ul>…"): its rotating links were a change.
    if !matches!(el.value().name(), "ul" | "ol") {
        return None;
    }
    let heading = heading_before(el).filter(|t| re.is_match(t))?;
    let (text, linked) = counts();
    (text > 0 && linked * 2 >= text).then(|| format!("list under \"{heading}\""))
}

/// The short text of the element just before `el` (blank text between
/// them skipped), if it is a heading-sized one.
fn heading_before(el: &ElementRef<'_>) -> Option<String> {
    let prev = el.prev_siblings().find(|n| !matches!(n.value(), Node::Text(t) if t.trim().is_empty()))?;
    let mut heading = String::new();
    for node in prev.descendants().take(FIRST_TEXT_SCAN) {
        if let Node::Text(t) = node.value() {
            heading.push_str(t);
        }
    }
    heading_sized(heading.trim())
}

/// `t`, when it is a heading's length (non-blank, at most 24 chars).
fn heading_sized(t: &str) -> Option<String> {
    (!t.is_empty() && t.chars().count() <= 24).then(|| t.to_owned())
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
                return heading_sized(t);
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

    /// The link-list reason of the element `css` selects, with the page's
    /// statistics.
    fn list_reasons(doc: &Html) -> impl Fn(&str) -> Option<String> + '_ {
        let stats = super::super::stats::PageStats::compute(doc);
        move |css| {
            let el = first(doc, css);
            let s = stats.get(el.id());
            link_list_reason(&el, || (s.text, s.linked))
        }
    }

    fn first<'a>(doc: &'a Html, css: &str) -> ElementRef<'a> {
        doc.select(&Selector::parse(css).unwrap()).next().unwrap()
    }

    #[test]
    fn furniture_words_are_sorted_and_fit_the_lookup_buffer() {
        assert!(FURNITURE_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(FURNITURE_WORDS.iter().all(|w| w.len() <= 16 && !w.contains(['-', '_'])));
        assert!(FURNITURE_WORDS.iter().all(|w| w.starts_with(|c: char| c.is_ascii_lowercase())));
    }

    #[test]
    fn the_token_lookup_agrees_with_the_regex() {
        let re = FURNITURE_TOKEN.as_ref().unwrap();
        let mut tokens = vec![String::new(), "-".into(), "_-_".into(), "head".into(), "read".into(), "header2".into()];
        for word in FURNITURE_WORDS {
            let upper = word.to_ascii_uppercase();
            let kelvin = word.replace('k', "\u{212A}");
            let long_s = word.replace('s', "\u{17F}");
            for w in [word.to_string(), upper, kelvin, long_s, format!("{word}x"), format!("x{word}")] {
                for t in [
                    w.clone(),
                    format!("top-{w}"),
                    format!("{w}_box"),
                    format!("a-{w}-b"),
                    format!("a-b_{w}"),
                    format!("{w}-"),
                    format!("-{w}"),
                    format!("x\n-{w}"),
                    format!("{w}-\nx"),
                    format!("{w}-x\ny"),
                    format!("{w}\r"),
                    format!("x\r-{w}"),
                    format!("{w}-模块"),
                ] {
                    tokens.push(t);
                }
            }
        }
        for token in &tokens {
            assert_eq!(is_furniture_token(token), re.is_match(token), "{token:?}");
        }
    }

    const NEVER_TEXT: &[&str] = &[
        "script", "style", "noscript", "template", "iframe", "svg", "canvas", "object", "embed", "head", "link",
        "meta", "input", "select", "option", "textarea", "button", "video", "audio", "map", "math", "dialog",
    ];
    const FURNITURE_TAGS: &[&str] = &["nav", "aside", "footer", "header", "form", "menu"];

    #[test]
    fn tag_lists_as_atoms() {
        let doc = Html::parse_document("<p>x</p>");
        let el = first(&doc, "p");
        for name in NEVER_TEXT.iter().chain(FURNITURE_TAGS).chain(["p", "div", "span", "a", "body"].iter()) {
            let mut v = el.value().clone();
            v.name.local = LocalName::from(*name);
            let tree = ego_tree::Tree::new(Node::Element(v));
            let el = ElementRef::wrap(tree.root()).unwrap();
            assert_eq!(is_never_text(&el), NEVER_TEXT.contains(name), "{name}");
            assert_eq!(is_furniture_tag(el.value()), FURNITURE_TAGS.contains(name), "{name}");
        }
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
        let reason = list_reasons(&doc);
        assert_eq!(reason("#a").as_deref(), Some("list \"猜你喜欢\""));
        assert_eq!(reason("#b"), None);
    }

    #[test]
    fn a_bare_list_under_a_recommendation_heading() {
        let doc = Html::parse_document(
            r#"<article><p>正文第一段。</p><p><strong>热门推荐：</strong></p>
               <ul id="a"><li><a href="/1">智谱发布GLM-4.5</a></li><li><a href="/2">月之暗面Kimi K2开源</a></li></ul>
               <p>要点：</p><ul id="b"><li><a href="/3">GLM-4.5</a></li></ul>
               <p>相关阅读</p><ul id="c"><li>一段不是链接的要点，写在正文里。</li></ul></article>"#,
        );
        let reason = list_reasons(&doc);
        assert_eq!(reason("#a").as_deref(), Some("list under \"热门推荐：\""));
        assert_eq!(reason("#b"), None, "not a recommendation heading");
        assert_eq!(reason("#c"), None, "not links");
    }

    #[test]
    fn hidden_by_style() {
        let doc = Html::parse_document(r#"<div style="DISPLAY: none">x</div>"#);
        assert!(is_hidden(&first(&doc, "div")));
    }
}
