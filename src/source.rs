//! A watched source as the pipeline sees it, and the rules for its URL.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::import::{PageKey, UrlRules};
use crate::schedule::Schedule;
use crate::types::{ErrorKind, SourceId, SourceKind, SourceStatus};

mod spec;
pub use spec::{
    InvalidSource, MAX_HISTORY_WINDOW, MAX_TIMEOUT_SECS, MAX_TITLE_CHARS, NewSource, SourceSpec, SpecProblem,
    title_problem,
};

/// Per-source options the CLI can set; stored as JSON with the source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SourceOptions {
    /// CSS selector of the main content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub select: Option<String>,
    /// CSS selectors whose elements are dropped before extraction.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<String>,
    /// Regexes; matching text is ignored when comparing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ignore: Vec<String>,
    /// Extra request headers, `Name: value`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// Forces a character encoding (e.g. `gbk`) for pages that defeat detection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<String>,
    /// Overrides `fetch.timeout`, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_secs: Option<u64>,
    /// Overrides `fetch.respect_robots`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub respect_robots: Option<bool>,
    /// Whether the shipped noise rules apply (default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_noise: Option<bool>,
    /// A page that returns to one of its last N versions (a rotating block,
    /// A→B→A) records no change. 0 disables the history check.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub history_window: Option<u32>,
}

impl SourceOptions {
    pub const DEFAULT_HISTORY_WINDOW: u32 = 5;

    pub fn history_window(&self) -> u32 {
        self.history_window.unwrap_or(Self::DEFAULT_HISTORY_WINDOW)
    }
}

/// A source with everything a check needs.
#[derive(Debug, Clone)]
pub struct Source {
    pub id: SourceId,
    pub url: Url,
    pub final_url: Option<Url>,
    pub kind: SourceKind,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// Where the knowledge document cites it: the heading path (import only).
    pub section: Option<String>,
    pub status: SourceStatus,
    pub last_error_kind: Option<ErrorKind>,
    pub schedule: Option<Schedule>,
    pub options: SourceOptions,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub last_snapshot_id: Option<i64>,
    pub pending_status: Option<SourceStatus>,
    pub pending_count: u32,
    pub consecutive_failures: u32,
    pub last_error: Option<String>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
    /// Checks of this source that took the process down, in a row.
    pub crash_count: u32,
    /// When the daemon stopped checking it for that (see `store::crashes`).
    pub quarantined_at: Option<DateTime<Utc>>,
}

/// How a CLI argument names a source: by id or by URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SourceRef {
    Id(SourceId),
    /// A URL, found with or without its tracking parameters.
    Url(Box<PageKey>),
}

impl SourceRef {
    /// An id, or a URL whose tracking parameters are those of `rules`
    /// (`import.tracking_params`); a URL that cannot be a source's is
    /// refused.
    pub fn parse(arg: &str, rules: &UrlRules) -> Result<SourceRef, UrlError> {
        match arg.parse::<i64>() {
            Ok(id) => Ok(SourceRef::Id(SourceId(id))),
            Err(_) => PageKey::new(arg, rules).map(|key| SourceRef::Url(Box::new(key))),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{input:?} is not a valid URL: {reason}")]
    Invalid { input: String, reason: String },
    #[error("{input:?}: only http and https URLs can be watched, not {scheme}:")]
    Scheme { input: String, scheme: String },
    #[error("{input:?} has no host")]
    NoHost { input: String },
    #[error("the URL is {len} bytes long; at most {max} are accepted")]
    TooLong { len: usize, max: usize },
    #[error("{input:?} contains a control character (U+{code:04X}); URLs must not")]
    Control { input: String, code: u32 },
    #[error("{input:?} carries credentials (user:password@); set them as a request header (--header) instead")]
    Credentials { input: String },
}

/// Longest source URL accepted: servers commonly refuse past 8 KB, and a
/// URL that can never be fetched is not a source.
pub const MAX_URL_BYTES: usize = 8 * 1024;

/// Parses and normalises a source URL: http/https only, host required,
/// host lower-cased (the `url` crate does that), default port and fragment
/// dropped. Two URLs that normalise alike are the same source.
///
/// Refused rather than silently "fixed": URLs past [`MAX_URL_BYTES`],
/// control characters anywhere (the URL parser would drop a newline inside
/// the host, turning `example.com\n.evil` into `example.com.evil`), and
/// userinfo (credentials would be stored and printed).
pub fn normalize_url(input: &str) -> Result<Url, UrlError> {
    let trimmed = input.trim();
    if trimmed.len() > MAX_URL_BYTES {
        return Err(UrlError::TooLong { len: trimmed.len(), max: MAX_URL_BYTES });
    }
    if let Some(c) = trimmed.chars().find(|c| c.is_control()) {
        return Err(UrlError::Control { input: trimmed.escape_debug().to_string(), code: u32::from(c) });
    }
    let mut url =
        Url::parse(trimmed).map_err(|e| UrlError::Invalid { input: input.to_owned(), reason: e.to_string() })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(UrlError::Scheme { input: input.to_owned(), scheme: url.scheme().to_owned() });
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(UrlError::NoHost { input: input.to_owned() });
    }
    if !url.username().is_empty() || url.password().is_some() {
        let mut shown = url.clone();
        let _ = shown.set_username("");
        let _ = shown.set_password(None);
        return Err(UrlError::Credentials { input: shown.to_string() });
    }
    url.set_fragment(None);
    // `url` already drops a port equal to the scheme's default.
    if url.query() == Some("") {
        url.set_query(None);
    }
    Ok(url)
}

/// The kind a URL implies on its own: `WEB_BASE/OWNER/REPO` on GitHub's web
/// host is a repository, `HF/ORG/MODEL` a Hugging Face model, `.pdf` a
/// report, a feed-looking path a feed; anything else a page.
pub fn kind_from_url(url: &Url, github_web: &Url, hf_web: &Url) -> SourceKind {
    let segments: Vec<&str> = url.path_segments().map(|s| s.filter(|p| !p.is_empty()).collect()).unwrap_or_default();
    let same_site =
        |base: &Url| base.host_str() == url.host_str() && base.port_or_known_default() == url.port_or_known_default();
    if same_site(github_web) && segments.len() == 2 && !segments[1].ends_with(".atom") {
        return SourceKind::Github;
    }
    if same_site(hf_web)
        && segments.len() == 2
        && !matches!(segments[0], "datasets" | "spaces" | "docs" | "blog" | "papers" | "models" | "api")
    {
        return SourceKind::Huggingface;
    }
    let path = url.path().to_ascii_lowercase();
    if path.ends_with(".pdf") {
        return SourceKind::Pdf;
    }
    let last = segments.last().map(|s| s.to_ascii_lowercase()).unwrap_or_default();
    // `/feed`, `/feed/` (WordPress), `/rss`, `/atom`, `*.rss`, `*.atom`,
    // `*.xml` (but not a sitemap), `?feed=rss2`.
    let feed_query = url.query_pairs().any(|(k, _)| k == "feed");
    if matches!(last.as_str(), "feed" | "rss" | "atom" | "feed.json")
        || last.ends_with(".rss")
        || last.ends_with(".atom")
        || (last.ends_with(".xml") && !last.starts_with("sitemap"))
        || feed_query
    {
        return SourceKind::Feed;
    }
    SourceKind::Page
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Issue 14 finding 9: a 100 KB URL, a newline inside the host (was
    /// silently removed) and userinfo (was stored and printed).
    #[test]
    fn issue14_hostile_urls_are_refused_not_repaired() {
        let long = format!("https://example.com/{}", "a".repeat(100_000));
        assert!(matches!(normalize_url(&long), Err(UrlError::TooLong { .. })));
        assert!(matches!(normalize_url("https://example.com\n.evil/"), Err(UrlError::Control { code: 10, .. })));
        assert!(matches!(normalize_url("https://exa\tmple.com/"), Err(UrlError::Control { code: 9, .. })));
        let e = normalize_url("https://bob:hunter22@example.com/x").unwrap_err();
        assert!(matches!(e, UrlError::Credentials { .. }));
        assert!(!e.to_string().contains("hunter22"), "{e}");
        // Surrounding whitespace is still trimmed, and normal URLs pass.
        assert!(normalize_url("  https://example.com/a?b=1\n").is_ok());
    }

    #[test]
    fn kinds_from_urls() {
        let gh = Url::parse("https://github.com").unwrap();
        let hf = Url::parse("https://huggingface.co").unwrap();
        let k = |u: &str| kind_from_url(&Url::parse(u).unwrap(), &gh, &hf);
        assert_eq!(k("https://github.com/tatsu-lab/stanford_alpaca"), SourceKind::Github);
        assert_eq!(k("https://github.com/tatsu-lab/stanford_alpaca/"), SourceKind::Github);
        assert_eq!(k("https://github.com/tatsu-lab"), SourceKind::Page);
        assert_eq!(k("https://github.com/a/b/releases.atom"), SourceKind::Feed);
        assert_eq!(k("https://huggingface.co/Qwen/Qwen2.5-72B"), SourceKind::Huggingface);
        assert_eq!(k("https://huggingface.co/datasets/x"), SourceKind::Page);
        assert_eq!(k("https://file.digitaling.com/eImg/1678850891384221.pdf"), SourceKind::Pdf);
        assert_eq!(k("https://www.qbitai.com/feed"), SourceKind::Feed);
        assert_eq!(k("https://www.qbitai.com/2023/04/43517.html"), SourceKind::Page);
        assert_eq!(k("https://www.qbitai.com/feed/"), SourceKind::Feed);
        assert_eq!(k("https://example.org/blog/rss"), SourceKind::Feed);
        assert_eq!(k("https://example.org/atom"), SourceKind::Feed);
        assert_eq!(k("https://example.org/news.xml"), SourceKind::Feed);
        assert_eq!(k("https://example.org/?feed=rss2"), SourceKind::Feed);
        assert_eq!(k("https://example.org/sitemap.xml"), SourceKind::Page);
        assert_eq!(k("https://example.org/REPORT.PDF"), SourceKind::Pdf);
    }

    #[test]
    fn normalisation_makes_equal_urls_equal() {
        let a = normalize_url("HTTPS://Example.COM:443/a?b=1#frag").unwrap();
        let b = normalize_url("https://example.com/a?b=1").unwrap();
        assert_eq!(a, b);
        assert_eq!(normalize_url("http://x.cn:80/").unwrap().as_str(), "http://x.cn/");
        // Path case is significant.
        assert_ne!(normalize_url("https://x.cn/A").unwrap(), normalize_url("https://x.cn/a").unwrap());
    }

    #[test]
    fn bad_urls_say_why() {
        assert!(matches!(normalize_url("ftp://x"), Err(UrlError::Scheme { .. })));
        assert!(matches!(normalize_url("not-a-url"), Err(UrlError::Invalid { .. })));
        assert!(matches!(normalize_url("mailto:a@b.c"), Err(UrlError::Scheme { .. })));
        assert!(normalize_url("file:///etc/passwd").is_err());
    }

    #[test]
    fn source_refs() {
        let rules = UrlRules::default();
        assert_eq!(SourceRef::parse("12", &rules), Ok(SourceRef::Id(SourceId(12))));
        let Ok(SourceRef::Url(key)) = SourceRef::parse("https://a.b/?utm_source=x", &rules) else { panic!() };
        assert_eq!(key.clean().as_str(), "https://a.b/");
        assert!(SourceRef::parse("a.b/x", &rules).is_err());
    }
}
