//! What a feed URL answered instead of a feed, in a few words a user can
//! act on: a login page, a proxy's "502 Bad Gateway", a site's new home
//! page, a JSON error, an empty body (pure).

use scraper::{Html, Selector};

use crate::sources::clip;

/// Longest quote of the answer, in chars.
const QUOTED: usize = 80;
/// HTML read for a title or a heading: they sit at the top of a page.
const HTML_SCAN_BYTES: usize = 64 * 1024;

/// Whether the answer is HTML: by its content type or its first markup.
pub fn is_html(text: &str, content_type: Option<&str>) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("html") {
        return true;
    }
    let head = text[..text.floor_char_boundary(1024)].to_ascii_lowercase();
    let head = head.trim_start_matches('\u{feff}').trim_start();
    head.starts_with("<!doctype html") || head.contains("<html")
}

fn words(s: &str) -> String {
    clip(&s.split_whitespace().collect::<Vec<_>>().join(" "), QUOTED)
}

/// An HTML page's title, else its first heading, else its first words.
fn html_label(text: &str) -> Option<String> {
    let doc = Html::parse_document(&text[..text.floor_char_boundary(HTML_SCAN_BYTES)]);
    ["title", "h1, h2, h3", "body"].iter().find_map(|css| {
        let sel = Selector::parse(css).ok()?;
        doc.select(&sel).map(|el| words(&el.text().collect::<String>())).find(|t| !t.is_empty())
    })
}

/// What came, as `an HTML page ("502 Bad Gateway")`. `root`: the root
/// element of an XML answer.
pub fn describe(text: &str, content_type: Option<&str>, root: Option<&str>) -> String {
    let body = text.trim_start_matches('\u{feff}').trim();
    if body.is_empty() {
        "an empty body".to_owned()
    } else if is_html(body, content_type) {
        match html_label(body) {
            Some(label) => format!("an HTML page (\"{label}\")"),
            None => "an HTML page without a title or text".to_owned(),
        }
    } else if body.starts_with('{') || body.starts_with('[') {
        format!("a JSON document ({})", words(body))
    } else if let Some(root) = root {
        format!("an XML document whose root is <{root}>")
    } else {
        format!("a text (\"{}\")", words(body))
    }
}

/// The content type it came with, for the message.
pub fn served(content_type: Option<&str>) -> String {
    content_type.map(str::trim).filter(|c| !c.is_empty()).unwrap_or("no content type").to_owned()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn html_is_named_by_its_title_else_its_heading_else_its_words() {
        let bad_gateway = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>";
        assert_eq!(describe(bad_gateway, Some("text/html"), Some("html")), "an HTML page (\"502 Bad Gateway\")");
        let login = "<!DOCTYPE html><html><body><div><h2>用户登录</h2><form><input name=u></form></div></body></html>";
        assert!(describe(login, None, None).starts_with("an HTML page (\"用户登录\")"));
        let bare = "<html><body><p>Service   temporarily\nunavailable</p></body></html>";
        assert!(
            describe(bare, Some("text/html; charset=utf-8"), None)
                .starts_with("an HTML page (\"Service temporarily unavailable\")")
        );
        assert_eq!(describe("<html></html>", None, None), "an HTML page without a title or text");
        assert_eq!(served(Some(" text/html ")), "text/html");
        assert_eq!(served(None), "no content type");
    }

    #[test]
    fn other_answers_are_named_by_their_shape() {
        assert_eq!(describe("  \n", Some("application/rss+xml"), None), "an empty body");
        assert_eq!(
            describe("{\"code\": 500,\n \"msg\": \"服务器繁忙\"}", Some("application/json"), None),
            "a JSON document ({\"code\": 500, \"msg\": \"服务器繁忙\"})"
        );
        assert_eq!(
            describe("<error><code>AccessDenied</code></error>", Some("application/xml"), Some("error")),
            "an XML document whose root is <error>"
        );
        assert_eq!(describe("Forbidden", None, None), "a text (\"Forbidden\")");
        let long = "x ".repeat(200);
        assert!(describe(&long, Some("text/plain"), None).chars().count() < 120);
    }
}
