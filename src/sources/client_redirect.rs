//! Client-side redirects (pure): a short page whose only job is
//! `<meta http-equiv="refresh" content="0;url=…">` or a
//! `location.href = "…"` / `location.replace("…")` script. Many portals
//! "redirect" a deleted article to their home page this way, and some
//! moved articles point to their new address. Such a page is a redirect,
//! judged by the same rules as an HTTP one, never content.
//!
//! Only a page with next to no text qualifies (a reader never sees it), and
//! only an unconditional redirect: a script that sends phones to the
//! mobile site (`if (/iPhone/.test(navigator.userAgent)) …`) is not one.

use std::sync::LazyLock;

use regex::bytes::Regex;
use url::Url;

/// A page with more main text than this (non-space chars) is read, not
/// skipped by its reader: not a redirect stub.
const MAX_STUB_CHARS: usize = 200;

/// A refresh slower than this is a page that reloads (a live blog), not a
/// redirect.
const MAX_REFRESH_SECS: f64 = 10.0;

/// How a page redirects: `meta refresh` or `script`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientRedirect {
    pub to: Url,
    pub how: &'static str,
}

static META: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)<meta\b[^>]*?http-equiv\s*=\s*["']?refresh\b[^>]*>"#).ok());
static CONTENT: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)\bcontent\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))"#).ok());
static REFRESH: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"(?i)^\s*(\d+(?:\.\d*)?)\s*(?:[;,]\s*(?:url\s*=\s*)?["']?([^"'\s]+))?"#).ok());
static SCRIPT: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?is)<script\b[^>]*>.*?</script>").ok());

/// A redirect stub's script is a line or two; a longer script is an
/// application, whatever it assigns (and not worth a capture scan).
const MAX_STUB_SCRIPT: usize = 2048;
static LOCATION: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r#"\blocation(?:\.href)?\s*=\s*["']([^"']+)["']|\blocation\.(?:replace|assign)\(\s*["']([^"']+)["']"#)
        .ok()
});
/// What makes a script's redirect conditional: a test, or a handler that
/// runs on a click (a page's "home" button is no redirect).
static CONDITIONAL: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)\bif\s*\(|navigator|useragent|screen\.|innerwidth|matchmedia|referrer|\bcase\b|\bcatch\b|addeventlistener|\bon[a-z]+\s*=|\.click\(|\$\(",
    )
    .ok()
});

/// A handler that runs once the stub itself has loaded (`window.onload =`,
/// `addEventListener("DOMContentLoaded", …)`): as unconditional as a bare
/// assignment, so it is taken out before [`CONDITIONAL`] judges the script.
/// An element's own load handler (`img.addEventListener("load", …)`) stays.
static ON_LOAD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)(?:^|[^.\w$])(?:window\.|document\.)?(?:onload\s*=|addeventlistener\(\s*["'](?:load|domcontentloaded)["'])"#,
    )
    .ok()
});

/// The address a stub page sends its reader to, resolved against `base`
/// (the page's own URL); `None` for a page with text to read, a slow
/// refresh, a conditional script, or a redirect to itself.
pub fn client_redirect(base: &Url, text: &str, raw: &[u8]) -> Option<ClientRedirect> {
    if text.chars().filter(|c| !c.is_whitespace()).take(MAX_STUB_CHARS + 1).count() > MAX_STUB_CHARS {
        return None;
    }
    let (to, how) = match meta_refresh(raw) {
        Some(to) => (to, "meta refresh"),
        None => (script_location(raw)?, "script"),
    };
    let to = base.join(&to.replace("&amp;", "&")).ok()?;
    let same = |a: &Url, b: &Url| a.as_str().split('#').next() == b.as_str().split('#').next();
    (matches!(to.scheme(), "http" | "https") && !same(&to, base)).then_some(ClientRedirect { to, how })
}

fn meta_refresh(raw: &[u8]) -> Option<String> {
    let (meta, content, refresh) = (META.as_ref()?, CONTENT.as_ref()?, REFRESH.as_ref()?);
    for tag in meta.find_iter(raw) {
        if inside_noscript(&raw[..tag.start()]) {
            continue;
        }
        let Some(c) = content.captures(tag.as_bytes()) else { continue };
        let Some(value) = c.get(1).or_else(|| c.get(2)).or_else(|| c.get(3)) else { continue };
        let Some(r) = refresh.captures(value.as_bytes()) else { continue };
        let delay = r.get(1).and_then(|d| std::str::from_utf8(d.as_bytes()).ok()?.parse::<f64>().ok()).unwrap_or(0.0);
        if delay > MAX_REFRESH_SECS {
            continue;
        }
        if let Some(url) = r.get(2) {
            return Some(String::from_utf8_lossy(url.as_bytes()).into_owned());
        }
    }
    None
}

/// Whether the text before a tag leaves a `<noscript>` open: a refresh
/// there is for readers without scripts (a "no JavaScript" page), not a
/// redirect of the page.
fn inside_noscript(before: &[u8]) -> bool {
    let window = &before[before.len().saturating_sub(2048)..];
    let last = |needle: &[u8]| window.windows(needle.len()).rposition(|w| w.eq_ignore_ascii_case(needle));
    match (last(b"<noscript"), last(b"</noscript")) {
        (Some(open), Some(close)) => open > close,
        (open, _) => open.is_some(),
    }
}

fn script_location(raw: &[u8]) -> Option<String> {
    let (script, location, conditional) = (SCRIPT.as_ref()?, LOCATION.as_ref()?, CONDITIONAL.as_ref()?);
    let on_load = ON_LOAD.as_ref()?;
    for m in script.find_iter(raw) {
        let body = m.as_bytes();
        let body = &body[body.iter().position(|&b| b == b'>').map_or(0, |p| p + 1)..];
        if body.len() > MAX_STUB_SCRIPT || conditional.is_match(&on_load.replace_all(body, &b" "[..])) {
            continue;
        }
        if let Some(c) = location.captures(body) {
            let to = c.get(1).or_else(|| c.get(2))?;
            return Some(String::from_utf8_lossy(to.as_bytes()).into_owned());
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://tech.example.cn/news/2024/123.html").unwrap()
    }

    fn to(text: &str, raw: &str) -> Option<(String, &'static str)> {
        client_redirect(&base(), text, raw.as_bytes()).map(|r| (r.to.to_string(), r.how))
    }

    #[test]
    fn patterns_compile() {
        assert!(META.is_some() && CONTENT.is_some() && REFRESH.is_some());
        assert!(SCRIPT.is_some() && LOCATION.is_some() && CONDITIONAL.is_some() && ON_LOAD.is_some());
    }

    #[test]
    fn stubs_redirect() {
        let home = Some(("https://tech.example.cn/".to_owned(), "meta refresh"));
        assert_eq!(to("", r#"<meta http-equiv="refresh" content="0;url=/">"#), home);
        assert_eq!(to("", r#"<META HTTP-EQUIV="Refresh" CONTENT="3; URL=https://tech.example.cn/">"#), home);
        assert_eq!(
            to("页面跳转中", r#"<meta content="1; URL='/news/'" http-equiv="refresh">"#),
            Some(("https://tech.example.cn/news/".to_owned(), "meta refresh"))
        );
        assert_eq!(
            to("", r#"<meta http-equiv=refresh content=0;url=/a/1.html?x=1&amp;y=2>"#),
            Some(("https://tech.example.cn/a/1.html?x=1&y=2".to_owned(), "meta refresh"))
        );
        for script in [
            r#"<script>window.location.href = "/";</script>"#,
            r#"<script type="text/javascript">location.replace('/')</script>"#,
            r#"<script>top.location='/';</script>"#,
            r#"<script>setTimeout(function () { location.href = "/"; }, 3000);</script>"#,
            r#"<script>window.onload = function () { window.location.href = "/"; };</script>"#,
            r#"<script>document.addEventListener("DOMContentLoaded", () => location.replace("/"));</script>"#,
            r#"<script>window.addEventListener('load', function () { location.href = '/'; });</script>"#,
        ] {
            assert_eq!(to("", script), Some(("https://tech.example.cn/".to_owned(), "script")), "{script}");
        }
    }

    #[test]
    fn pages_that_are_not_stubs() {
        // A page that reloads itself, or later than a reader would wait.
        assert_eq!(to("", r#"<meta http-equiv="refresh" content="60">"#), None);
        assert_eq!(to("", r#"<meta http-equiv="refresh" content="5">"#), None);
        assert_eq!(to("", r#"<meta http-equiv="refresh" content="300;url=/">"#), None);
        assert_eq!(to("", r#"<meta http-equiv="refresh" content="0;url=/news/2024/123.html#top">"#), None);
        // A refresh for readers without scripts.
        assert_eq!(to("", r#"<noscript><meta http-equiv="refresh" content="0;url=/nojs"></noscript>"#), None);
        // Phones sent to the mobile site; a button; a comparison.
        let mobile = r#"<script>if (/iPhone|Android/i.test(navigator.userAgent)) { location.href = "https://m.example.cn/"; }</script>"#;
        assert_eq!(to("", mobile), None);
        let handler =
            r#"<script>document.getElementById("buy").onclick = function () { location.href = "/buy"; };</script>"#;
        assert_eq!(to("", handler), None);
        let element_load = r#"<script>document.getElementById("ad").addEventListener("load", function () { location.href = "/ad"; });</script>"#;
        assert_eq!(to("", element_load), None);
        assert_eq!(to("", r#"<script>window.onresize = function () { location.href = "/"; };</script>"#), None);
        let jquery = r##"<script>$("#home").click(function () { window.location.href = "/"; });</script>"##;
        assert_eq!(to("", jquery), None);
        assert_eq!(to("", r#"<button onclick="location.href='/'">首页</button>"#), None);
        assert_eq!(to("", r#"<script>var home = location.href == "/";</script>"#), None);
        assert_eq!(to("", r#"<script>location.href = "javascript:void(0)";</script>"#), None);
        // A page with text to read is read, whatever its scripts do.
        let article = "百度今日正式发布文心大模型4.5，这是百度自主研发的新一代原生多模态基础大模型。".repeat(6);
        assert_eq!(to(&article, r#"<meta http-equiv="refresh" content="0;url=/">"#), None);
    }
}
