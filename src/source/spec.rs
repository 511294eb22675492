//! The one way a source comes to be: a [`SourceSpec`] (what a user wrote in
//! `sources add`, `config/sources.toml` or an imported Markdown link) is
//! validated into a [`NewSource`], with every problem reported at once.
//!
//! Each entrance used to check its own subset (the seed file never looked at
//! `options`, so a bad regex passed `init` and then failed every check);
//! now a source that is stored is a source a check can run.

use reqwest::header::{HeaderName, HeaderValue};
use serde::Deserialize;
use url::Url;

use super::{SourceOptions, kind_from_url};
use crate::config::Config;
use crate::schedule::Schedule;
use crate::types::SourceKind;

/// A source to add, validated: every field is one a check can use.
#[derive(Debug, Clone)]
pub struct NewSource {
    pub url: Url,
    pub kind: SourceKind,
    pub title: Option<String>,
    pub tags: Vec<String>,
    pub schedule: Option<Schedule>,
    pub options: SourceOptions,
}

/// A source as written, before validation. The seed file's `[[source]]`
/// tables deserialize into it directly.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub url: String,
    /// A [`SourceKind`] name, or `auto` (the default): decided from the URL.
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    /// An interval such as `6h`; exclusive with `cron`.
    #[serde(default)]
    pub every: Option<String>,
    #[serde(default)]
    pub cron: Option<String>,
    #[serde(default)]
    pub options: SourceOptions,
}

/// One thing wrong with a spec, named by the field it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    pub field: &'static str,
    pub message: String,
}

impl std::fmt::Display for SpecProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Every problem of one spec; never empty.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", join(.problems))]
pub struct InvalidSource {
    pub problems: Vec<SpecProblem>,
}

fn join(problems: &[SpecProblem]) -> String {
    problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
}

/// Longest per-source timeout (10 min): a check holds a slot and a lease
/// for that long. The one limit for `sources add`, the seed file and import.
pub const MAX_TIMEOUT_SECS: u64 = 600;
/// Most versions the history check compares against; it loads that many
/// hashes per changed page, and an unbounded count would overflow.
pub const MAX_HISTORY_WINDOW: u32 = 1000;

/// Longest title, in chars: it is the digest's line for the source, and
/// `sources list` clips it at 40. Import cuts longer ones to this.
pub const MAX_TITLE_CHARS: usize = 200;

/// What is wrong with a title, if anything. A title is shown on one line
/// (the digest's subject and body, the web view, `sources list`), so it is
/// one line of text: no line break, tab or other control character, no
/// bidirectional override (it shows the rest of the line reversed), at most
/// [`MAX_TITLE_CHARS`]. Refused, not repaired: the user typed it and can
/// type it again; a title a document holds is cleaned by import instead.
pub fn title_problem(title: &str) -> Option<String> {
    if title.trim().is_empty() {
        return Some("is blank; leave it out instead".to_owned());
    }
    if let Some(c) = title.chars().find(|c| c.is_control() || crate::bidi::is_bidi_control(*c)) {
        let what = match c {
            '\n' | '\r' => "a line break",
            '\t' => "a tab",
            c if c.is_control() => "a control character",
            _ => "a bidirectional override",
        };
        return Some(format!("contains {what} (U+{:04X}); a title is one line of plain text", u32::from(c)));
    }
    let chars = title.chars().count();
    if chars > MAX_TITLE_CHARS {
        return Some(format!("is {chars} characters long (at most {MAX_TITLE_CHARS})"));
    }
    None
}

/// Headers the fetcher sets itself (or that HTTP owns); a source that set
/// them would fight the fetcher's validators, caps or connection handling.
const RESERVED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "accept-encoding",
    "if-none-match",
    "if-modified-since",
    "upgrade",
    "te",
];

impl SourceSpec {
    /// A spec for a bare URL (kind from the URL, no options), as `sources
    /// import` makes for each link.
    pub fn for_url(url: impl Into<String>) -> SourceSpec {
        SourceSpec { url: url.into(), ..SourceSpec::default() }
    }

    /// Validates everything at once. The kind `auto` (or none) is decided
    /// from the URL with the configured GitHub and Hugging Face web hosts.
    pub fn validate(&self, config: &Config) -> Result<NewSource, InvalidSource> {
        let mut problems = Vec::new();
        let mut problem = |field: &'static str, message: String| problems.push(SpecProblem { field, message });

        // As import does: `URL?utm_source=x` is the page `URL` is.
        let url = crate::import::clean_url(&self.url, &config.import.url_rules)
            .map_err(|e| problem("url", e.to_string()))
            .ok();
        let kind = match self.kind.as_deref().map(str::trim) {
            None | Some("auto") => {
                url.as_ref().map(|u| kind_from_url(u, &config.github.web_base, &config.huggingface.web_base))
            }
            Some(k) => k.parse::<SourceKind>().map_err(|e| problem("kind", e.to_string())).ok(),
        };
        // A repository or model kind reads OWNER/REPO off the path; without
        // it every check would fail.
        if let (Some(u), Some(k @ (SourceKind::Github | SourceKind::Huggingface))) = (&url, kind)
            && crate::sources::remote::two_segments(u).is_none()
        {
            problem("kind", format!("a {k} source needs a URL whose path is OWNER/NAME, not {:?}", u.path()));
        }
        if let Some(why) = self.title.as_deref().and_then(title_problem) {
            problem("title", why);
        }
        for tag in &self.tags {
            if tag.trim().is_empty() {
                problem("tags", "a tag is blank".to_owned());
            }
        }
        let schedule = match (self.every.as_deref(), self.cron.as_deref()) {
            (Some(e), None) => Schedule::every(e).map_err(|e| problem("every", e.to_string())).ok(),
            (None, Some(c)) => Schedule::cron(c).map_err(|e| problem("cron", e.to_string())).ok(),
            (None, None) => None,
            (Some(_), Some(_)) => {
                problem("every", "give `every` or `cron`, not both".to_owned());
                None
            }
        };
        options_problems(&self.options, &mut problem);

        match (url, kind) {
            (Some(url), Some(kind)) if problems.is_empty() => Ok(NewSource {
                url,
                kind,
                title: self.title.clone(),
                tags: self.tags.clone(),
                schedule,
                options: self.options.clone(),
            }),
            _ => Err(InvalidSource { problems }),
        }
    }
}

/// The options' problems: selectors, regexes, headers, encoding, bounds.
fn options_problems(o: &SourceOptions, problem: &mut impl FnMut(&'static str, String)) {
    if let Some(css) = &o.select
        && let Err(e) = crate::extract::validate_selector(css)
    {
        problem("select", e.to_string());
    }
    for css in &o.exclude {
        if let Err(e) = crate::extract::validate_selector(css) {
            problem("exclude", e.to_string());
        }
    }
    for re in &o.ignore {
        if let Err(e) = crate::extract::validate_regex(re) {
            problem("ignore", e.to_string());
        }
    }
    for (name, value) in &o.headers {
        // The fetcher would drop an invalid header silently on every request.
        match HeaderName::from_bytes(name.as_bytes()) {
            Err(_) => problem("headers", format!("{name:?} is not a valid header name")),
            Ok(n) if RESERVED_HEADERS.contains(&n.as_str()) => {
                problem("headers", format!("{name:?} is set by the fetcher and cannot be overridden"))
            }
            Ok(_) => {}
        }
        if HeaderValue::from_str(value).is_err() {
            problem("headers", format!("the value of {name:?} is not a valid header value"));
        }
    }
    if let Some(enc) = &o.encoding
        && encoding_rs::Encoding::for_label(enc.as_bytes()).is_none()
    {
        problem("encoding", format!("unknown encoding {enc:?} (e.g. gbk, gb18030, big5, shift_jis, utf-8)"));
    }
    if let Some(t) = o.timeout_secs
        && !(1..=MAX_TIMEOUT_SECS).contains(&t)
    {
        problem("timeout", format!("{t}s is out of range (1 to {MAX_TIMEOUT_SECS} seconds)"));
    }
    if let Some(w) = o.history_window
        && w > MAX_HISTORY_WINDOW
    {
        problem("history_window", format!("{w} is too large (at most {MAX_HISTORY_WINDOW})"));
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG_TOML, Overrides};

    fn config() -> Config {
        Config::from_toml(DEFAULT_CONFIG_TOML, "t", "config".into(), &Overrides::default()).unwrap()
    }

    fn fields(e: &InvalidSource) -> Vec<&'static str> {
        e.problems.iter().map(|p| p.field).collect()
    }

    #[test]
    fn a_plain_url_becomes_a_source_of_its_kind() {
        let s = SourceSpec::for_url("https://github.com/a/b#readme").validate(&config()).unwrap();
        assert_eq!(s.url.as_str(), "https://github.com/a/b");
        assert_eq!(s.kind, SourceKind::Github);
        assert!(s.schedule.is_none());
        let s = SourceSpec { kind: Some("auto".into()), ..SourceSpec::for_url("https://x.cn/feed") };
        assert_eq!(s.validate(&config()).unwrap().kind, SourceKind::Feed);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let spec = SourceSpec {
            url: "ftp://x".into(),
            kind: Some("blog".into()),
            title: Some("  ".into()),
            tags: vec![String::new()],
            every: Some("5s".into()),
            cron: None,
            options: SourceOptions {
                select: Some("div[".into()),
                exclude: vec!["p[".into()],
                ignore: vec!["(unclosed".into()],
                headers: vec![("Bad Name".into(), "v\n".into()), ("Host".into(), "evil".into())],
                encoding: Some("klingon".into()),
                timeout_secs: Some(0),
                history_window: Some(u32::MAX),
                ..SourceOptions::default()
            },
        };
        let e = spec.validate(&config()).unwrap_err();
        assert_eq!(
            fields(&e),
            [
                "url",
                "kind",
                "title",
                "tags",
                "every",
                "select",
                "exclude",
                "ignore",
                "headers",
                "headers",
                "headers",
                "encoding",
                "timeout",
                "history_window"
            ],
            "{e}"
        );
        assert!(e.to_string().contains("ignore: "), "{e}");
    }

    /// One timeout limit for every entrance (issue 14: ≤ 10 min).
    #[test]
    fn a_timeout_over_ten_minutes_is_refused() {
        let with = |t| SourceSpec {
            options: SourceOptions { timeout_secs: Some(t), ..SourceOptions::default() },
            ..SourceSpec::for_url("https://ok.cn/a")
        };
        assert!(with(600).validate(&config()).is_ok());
        let e = with(601).validate(&config()).unwrap_err();
        assert_eq!(fields(&e), ["timeout"], "{e}");
        let e = with(366 * 86_400).validate(&config()).unwrap_err();
        assert!(e.to_string().contains("1 to 600 seconds"), "{e}");
    }

    #[test]
    fn a_title_is_one_line_of_plain_text_of_bounded_length() {
        let with = |t: &str| SourceSpec { title: Some(t.to_owned()), ..SourceSpec::for_url("https://ok.cn/a") };
        for bad in ["a\nb", "a\r\nb", "a\tb", "a\u{7}b", "a\u{85}b", "x\u{202E}gnp.exe", "\u{2066}x"] {
            let e = with(bad).validate(&config()).unwrap_err();
            assert_eq!(fields(&e), ["title"], "{bad:?}: {e}");
        }
        let e = with("a\nb").validate(&config()).unwrap_err();
        assert!(e.to_string().contains("a line break (U+000A)"), "{e}");
        let e = with(&"长".repeat(MAX_TITLE_CHARS + 1)).validate(&config()).unwrap_err();
        assert!(e.to_string().contains("at most 200"), "{e}");
        let ok = "长".repeat(MAX_TITLE_CHARS);
        assert_eq!(with(&ok).validate(&config()).unwrap().title.as_deref(), Some(ok.as_str()));
        // Right-to-left text needs no override.
        assert!(with("مرحبا 新闻 news").validate(&config()).is_ok());
    }

    #[test]
    fn every_and_cron_together_are_refused() {
        let spec = SourceSpec {
            every: Some("6h".into()),
            cron: Some("0 0 * * *".into()),
            ..SourceSpec::for_url("https://a.cn/")
        };
        assert_eq!(fields(&spec.validate(&config()).unwrap_err()), ["every"]);
        let spec = SourceSpec { cron: Some("0 0 * * *".into()), ..SourceSpec::for_url("https://a.cn/") };
        assert!(matches!(spec.validate(&config()).unwrap().schedule, Some(Schedule::Cron(_))));
    }

    #[test]
    fn a_repository_kind_needs_owner_and_name() {
        let spec = SourceSpec { kind: Some("github".into()), ..SourceSpec::for_url("https://example.com/") };
        let e = spec.validate(&config()).unwrap_err();
        assert_eq!(fields(&e), ["kind"], "{e}");
        let spec =
            SourceSpec { kind: Some("huggingface".into()), ..SourceSpec::for_url("https://hf.example/org/model") };
        assert_eq!(spec.validate(&config()).unwrap().kind, SourceKind::Huggingface);
    }

    #[test]
    fn good_options_pass_unchanged() {
        let options = SourceOptions {
            select: Some("article".into()),
            ignore: vec![r"\d+ views".into()],
            headers: vec![("Cookie".into(), "a=b".into())],
            encoding: Some("gbk".into()),
            timeout_secs: Some(60),
            history_window: Some(0),
            ..SourceOptions::default()
        };
        let spec = SourceSpec { options: options.clone(), ..SourceSpec::for_url("https://a.cn/x") };
        assert_eq!(spec.validate(&config()).unwrap().options, options);
    }
}
