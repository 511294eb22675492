//! Page metadata kept out of the diffed text: title, author, publish time
//! and feed links. Each is read from the most specific source first.

use std::collections::HashSet;
use std::sync::LazyLock;

use super::normalize::collapse_whitespace;
use super::select::{Index, Shipped};

/// Metadata found in a parsed page.
pub(crate) struct Meta {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub feed_links: Vec<String>,
}

const TITLE_SOURCES: &[(&str, Option<&'static str>)] = &[
    (r#"meta[property="og:title"]"#, Some("content")),
    (r#"meta[name="twitter:title"]"#, Some("content")),
    ("title", None),
    ("h1", None),
];

const AUTHOR_SOURCES: &[(&str, Option<&'static str>)] = &[
    (r#"meta[name="author"]"#, Some("content")),
    (r#"meta[property="article:author"]"#, Some("content")),
    (r#"meta[property="og:article:author"]"#, Some("content")),
    (r#"[itemprop="author"] [itemprop="name"]"#, None),
    (r#"[rel="author"]"#, None),
    // WeChat articles: the official account's name.
    ("#js_name", None),
    (r#"meta[property="og:site_name"]"#, Some("content")),
];

const PUBLISHED_SOURCES: &[(&str, Option<&'static str>)] = &[
    (r#"meta[property="article:published_time"]"#, Some("content")),
    (r#"meta[property="og:release_date"]"#, Some("content")),
    (r#"meta[name="pubdate"]"#, Some("content")),
    (r#"meta[name="publishdate"]"#, Some("content")),
    (r#"meta[name="PubDate"]"#, Some("content")),
    (r#"meta[itemprop="datePublished"]"#, Some("content")),
    (r#"[itemprop="datePublished"]"#, Some("datetime")),
    ("time[datetime]", Some("datetime")),
    ("#publish_time", None),
];

/// The sources above, parsed once per process (a selector that fails to
/// parse is skipped; a unit test checks that none does).
type Sources = LazyLock<Vec<(Shipped, Option<&'static str>)>>;
static TITLE: Sources = LazyLock::new(|| parse_sources(TITLE_SOURCES));
static AUTHOR: Sources = LazyLock::new(|| parse_sources(AUTHOR_SOURCES));
static PUBLISHED: Sources = LazyLock::new(|| parse_sources(PUBLISHED_SOURCES));
static FEED_LINK: LazyLock<Option<Shipped>> = LazyLock::new(|| Shipped::parse(FEED_LINK_CSS));
const FEED_LINK_CSS: &str = "link[rel][type][href]";

/// Every shipped selector of this module, for `select`'s index ([`super::shipped_css`]).
pub(super) fn shipped_css() -> impl Iterator<Item = &'static str> {
    [TITLE_SOURCES, AUTHOR_SOURCES, PUBLISHED_SOURCES].into_iter().flatten().map(|(css, _)| *css).chain([FEED_LINK_CSS])
}

fn parse_sources(sources: &[(&str, Option<&'static str>)]) -> Vec<(Shipped, Option<&'static str>)> {
    sources.iter().filter_map(|(css, attr)| Shipped::parse(css).map(|s| (s, *attr))).collect()
}

const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
];

pub(crate) fn read_meta(doc: &Index<'_>) -> Meta {
    Meta {
        title: first_value(doc, &TITLE),
        author: first_value(doc, &AUTHOR),
        published: first_value(doc, &PUBLISHED),
        feed_links: feed_links(doc),
    }
}

/// The first non-empty value, normalised, from an ordered list of
/// (selector, attribute) sources; `None` attribute means the element text.
fn first_value(doc: &Index<'_>, sources: &[(Shipped, Option<&str>)]) -> Option<String> {
    for (selector, attr) in sources {
        for el in selector.select(doc) {
            let raw = match attr {
                Some(a) => el.attr(a).map(str::to_owned),
                None => Some(el.text().collect::<String>()),
            };
            let value = raw.map(|v| collapse_whitespace(&v));
            if let Some(v) = value.filter(|v| !v.is_empty()) {
                return Some(v);
            }
        }
    }
    None
}

/// A page names a handful of feeds; a hostile one can name thousands, and
/// no more than this are worth keeping.
const MAX_FEED_LINKS: usize = 20;

fn feed_links(doc: &Index<'_>) -> Vec<String> {
    let Some(selector) = FEED_LINK.as_ref() else {
        return Vec::new();
    };
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    for el in selector.select(doc) {
        let rel_alternate =
            el.attr("rel").is_some_and(|r| r.split_ascii_whitespace().any(|t| t.eq_ignore_ascii_case("alternate")));
        let feed_type = el.attr("type").is_some_and(|t| {
            let t = t.trim().to_ascii_lowercase();
            FEED_TYPES.iter().any(|f| t.starts_with(f))
        });
        if let (true, true, Some(href)) = (rel_alternate, feed_type, el.attr("href")) {
            let href = href.trim();
            if !href.is_empty() && seen.insert(href) {
                links.push(href.to_owned());
                if links.len() == MAX_FEED_LINKS {
                    break;
                }
            }
        }
    }
    links
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn every_meta_selector_parses() {
        assert_eq!(TITLE.len(), TITLE_SOURCES.len());
        assert_eq!(AUTHOR.len(), AUTHOR_SOURCES.len());
        assert_eq!(PUBLISHED.len(), PUBLISHED_SOURCES.len());
        assert!(FEED_LINK.is_some());
    }

    #[test]
    fn feed_links_are_deduplicated_and_capped() {
        let mut html = String::from("<html><head><title>新浪科技</title>");
        html.push_str(
            r#"<link rel="alternate" type="application/rss+xml" href="https://tech.sina.com.cn/rss/roll.xml">"#,
        );
        html.push_str(
            r#"<link rel="alternate" type="application/rss+xml" href=" https://tech.sina.com.cn/rss/roll.xml ">"#,
        );
        for i in 0..30_000 {
            html.push_str(&format!(r#"<link rel="alternate" type="application/atom+xml" href="/feed/{i}.atom">"#));
        }
        html.push_str("</head><body><p>正文</p></body></html>");
        let doc = scraper::Html::parse_document(&html);
        let started = std::time::Instant::now();
        let links = feed_links(&Index::new(&doc));
        let elapsed = started.elapsed();
        assert_eq!(links.len(), MAX_FEED_LINKS);
        assert_eq!(links[0], "https://tech.sina.com.cn/rss/roll.xml");
        assert_eq!(links[1], "/feed/0.atom", "the duplicate is dropped");
        assert_eq!(links[MAX_FEED_LINKS - 1], "/feed/18.atom");
        assert!(elapsed < std::time::Duration::from_secs(1), "took {elapsed:?}");
    }
}
