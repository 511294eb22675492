//! Page metadata kept out of the diffed text: title, author, publish time
//! and feed links. Each is read from the most specific source first.

use std::collections::HashSet;

use scraper::{Html, Selector};

use super::normalize::collapse_whitespace;

/// Metadata found in a parsed page.
pub(crate) struct Meta {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub feed_links: Vec<String>,
}

const TITLE_SOURCES: &[(&str, Option<&str>)] = &[
    (r#"meta[property="og:title"]"#, Some("content")),
    (r#"meta[name="twitter:title"]"#, Some("content")),
    ("title", None),
    ("h1", None),
];

const AUTHOR_SOURCES: &[(&str, Option<&str>)] = &[
    (r#"meta[name="author"]"#, Some("content")),
    (r#"meta[property="article:author"]"#, Some("content")),
    (r#"meta[property="og:article:author"]"#, Some("content")),
    (r#"[itemprop="author"] [itemprop="name"]"#, None),
    (r#"[rel="author"]"#, None),
    // WeChat articles: the official account's name.
    ("#js_name", None),
    (r#"meta[property="og:site_name"]"#, Some("content")),
];

const PUBLISHED_SOURCES: &[(&str, Option<&str>)] = &[
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

const FEED_TYPES: &[&str] = &[
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rdf+xml",
];

pub(crate) fn read_meta(doc: &Html) -> Meta {
    Meta {
        title: first_value(doc, TITLE_SOURCES),
        author: first_value(doc, AUTHOR_SOURCES),
        published: first_value(doc, PUBLISHED_SOURCES),
        feed_links: feed_links(doc),
    }
}

/// The first non-empty value, normalised, from an ordered list of
/// (selector, attribute) sources; `None` attribute means the element text.
fn first_value(doc: &Html, sources: &[(&str, Option<&str>)]) -> Option<String> {
    for (css, attr) in sources {
        let Ok(selector) = Selector::parse(css) else {
            continue;
        };
        for el in doc.select(&selector) {
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

fn feed_links(doc: &Html) -> Vec<String> {
    let Ok(selector) = Selector::parse("link[rel][type][href]") else {
        return Vec::new();
    };
    let mut links = Vec::new();
    let mut seen = HashSet::new();
    for el in doc.select(&selector) {
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
        let doc = Html::parse_document(&html);
        let started = std::time::Instant::now();
        let links = feed_links(&doc);
        let elapsed = started.elapsed();
        assert_eq!(links.len(), MAX_FEED_LINKS);
        assert_eq!(links[0], "https://tech.sina.com.cn/rss/roll.xml");
        assert_eq!(links[1], "/feed/0.atom", "the duplicate is dropped");
        assert_eq!(links[MAX_FEED_LINKS - 1], "/feed/18.atom");
        assert!(elapsed < std::time::Duration::from_secs(1), "took {elapsed:?}");
    }
}
