//! Anti-bot challenges (pure): Cloudflare's "Just a moment...", a WAF's
//! slider, "安全验证". Recognised here, in the fetcher, because a 403/503
//! challenge decides what the fetcher does next: it is the site refusing
//! us, not an overload, so it is a `blocked` failure and never asked again
//! within the check (another request seconds later gets the same challenge
//! and only looks more like a bot). A challenge answered 200 is read by the
//! source kinds, with the page's title and text at hand
//! (`sources::interstitial`, which uses [`found_in`] and [`message`]).

use std::sync::LazyLock;

use regex::Regex;
use regex::bytes::Regex as BytesRegex;

/// Bytes of a page's body scanned for a challenge's script markers.
const RAW_SCAN: usize = 64 * 1024;

/// A challenge's own words, in its title or text.
static WORDS: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(
        r"(?i)(just\s+a\s+moment(?:\.\.\.|…)|attention\s+required!?\s*\|\s*cloudflare|checking\s+(?:if\s+the\s+site\s+connection\s+is\s+secure|your\s+browser)|verify(?:ing)?\s+(?:that\s+)?you\s+are\s+(?:a\s+)?human|enable\s+javascript\s+and\s+cookies\s+to\s+continue|needs\s+to\s+review\s+the\s+security\s+of\s+your\s+connection|ddos-guard|ddos\s+protection\s+by|安全验证|访问验证|人机验证|(?:请|需要)(?:输入|填写)验证码|滑动验证|(?:按住|拖动)(?:下方)?滑块|您的访问被阻断|访问过于频繁|检测到异常(?:访问|流量))",
    )
    .ok()
});

/// Script markers only a challenge page carries (never the scripts a
/// protected site injects into its every page).
static RAW_MARKERS: LazyLock<Option<BytesRegex>> =
    LazyLock::new(|| BytesRegex::new(r"(_cf_chl_opt|cf-browser-verification|_____tmd_____|acw_sc__v2)").ok());

/// A `<title>` in the first bytes of an error answer.
static TITLE: LazyLock<Option<BytesRegex>> =
    LazyLock::new(|| BytesRegex::new(r"(?is)<title[^>]*>([^<]{0,200})</title>").ok());

/// What marks a page as a challenge (its words in the title or the text,
/// else a script marker in the first [`RAW_SCAN`] bytes of `raw`), as
/// found. The caller judges only pages short enough to be one.
pub fn found_in(title: Option<&str>, text: &str, raw: &[u8]) -> Option<String> {
    let re = WORDS.as_ref()?;
    if let Some(m) = title.and_then(|t| re.find(t)).or_else(|| re.find(text)) {
        return Some(m.as_str().to_owned());
    }
    let raw = &raw[..raw.len().min(RAW_SCAN)];
    let m = RAW_MARKERS.as_ref()?.find(raw)?;
    Some(String::from_utf8_lossy(m.as_bytes()).into_owned())
}

/// The failure's message for a challenge, by what marked it.
pub fn message(found: &str) -> String {
    format!("an anti-bot verification page in place of the page: \"{found}\"")
}

/// An error answer (403, 503) that is a challenge or block page: why.
/// Cloudflare marks its challenges with a `cf-mitigated: challenge` header;
/// otherwise the body's `<title>` and markers say it (`body` is the start
/// of an error page: a few KB, capped by the caller).
pub fn in_error_answer(status: u16, cf_mitigated: Option<&str>, body: &[u8]) -> Option<String> {
    let found = if cf_mitigated.is_some_and(|v| v.trim().eq_ignore_ascii_case("challenge")) {
        "cf-mitigated: challenge".to_owned()
    } else {
        let title =
            TITLE.as_ref()?.captures(body).and_then(|c| c.get(1)).map(|m| String::from_utf8_lossy(m.as_bytes()));
        found_in(title.as_deref(), "", body)?
    };
    Some(format!("HTTP {status}: {}", message(&found)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        assert!(WORDS.is_some() && RAW_MARKERS.is_some() && TITLE.is_some());
    }

    #[test]
    fn error_answers_that_are_challenges() {
        let page = b"<html><head><title>Just a moment...</title></head><body></body></html>";
        assert_eq!(
            in_error_answer(503, None, page).as_deref(),
            Some("HTTP 503: an anti-bot verification page in place of the page: \"Just a moment...\"")
        );
        assert!(in_error_answer(503, Some("challenge"), b"").unwrap().contains("cf-mitigated"));
        assert!(in_error_answer(403, Some(" Challenge"), b"").is_some());
        let marker = b"<html><body><script>window._cf_chl_opt={};</script></body></html>";
        assert!(in_error_answer(403, None, marker).unwrap().contains("_cf_chl_opt"));
        assert_eq!(in_error_answer(403, None, b"<html><title>403 Forbidden</title></html>"), None);
        assert_eq!(in_error_answer(503, None, b"<title>503 Service Temporarily Unavailable</title>"), None);
        assert_eq!(in_error_answer(503, Some("block"), b"status 503"), None);
    }
}
