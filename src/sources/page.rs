//! The page kind: an HTML page fetched with conditional GET, decoded, and
//! reduced to its main text. A page URL that answers with a feed or a PDF is
//! read as that kind (the URL could not tell at `sources add`).

use std::time::Duration;

use sha2::{Digest, Sha256};
use url::Url;

use super::meta::PageMeta;
use super::observation::{Fresh, Observation, Observed, Validators};
use crate::extract::{self, ExtractOptions};
use crate::fetch::{FetchRequest, Fetched, charset};
use crate::source::Source;
use crate::types::{ErrorKind, SourceKind};

/// The fetch spec of an HTTP source (page, feed, PDF): its URL, its own
/// headers and timeout, robots, and the stored validators when
/// `send_validators`.
pub fn request(source: &Source, respect_robots_default: bool, send_validators: bool) -> FetchRequest {
    let (etag, last_modified) =
        if send_validators { (source.etag.clone(), source.last_modified.clone()) } else { (None, None) };
    FetchRequest {
        url: source.url.clone(),
        etag,
        last_modified,
        headers: source.options.headers.clone(),
        timeout: source.options.timeout_secs.map(Duration::from_secs),
        accept: None,
        respect_robots: source.options.respect_robots.unwrap_or(respect_robots_default),
        bearer: None,
        budget: None,
    }
}

fn extract_options(source: &Source) -> ExtractOptions {
    ExtractOptions {
        select: source.options.select.clone(),
        exclude: source.options.exclude.clone(),
        ignore: source.options.ignore.clone(),
        default_noise: source.options.default_noise.unwrap_or(true),
    }
}

/// `application/pdf` → pdf; RSS/Atom/JSON Feed types or roots → feed.
pub fn sniff(f: &Fetched) -> Option<SourceKind> {
    let ct = f.content_type.as_deref().unwrap_or("").to_ascii_lowercase();
    if ct.starts_with("application/pdf") || f.body.starts_with(b"%PDF-") {
        return Some(SourceKind::Pdf);
    }
    super::feed::looks_like_feed(f.content_type.as_deref(), &f.body).then_some(SourceKind::Feed)
}

/// What the page read needs from its source, owned (the read runs on a
/// blocking thread).
#[derive(Debug, Clone)]
pub struct PageSpec {
    pub url: Url,
    pub extract: ExtractOptions,
    pub encoding: Option<String>,
}

impl PageSpec {
    pub fn of(source: &Source) -> PageSpec {
        PageSpec {
            url: source.url.clone(),
            extract: extract_options(source),
            encoding: source.options.encoding.clone(),
        }
    }
}

/// A page read: an observation, or a redirect stub whose target is the
/// article's new address, to follow (see [`read_or_follow`]).
#[derive(Debug)]
pub enum PageRead {
    Done(Box<Observation>),
    /// A client-side redirect ([`super::client_redirect`]) that keeps the
    /// article: fetch `to` and read that, like an HTTP redirect's target.
    Follow {
        to: Url,
        how: &'static str,
        bytes: u64,
    },
}

/// Reads a fetched HTML page (pure, CPU work: run it off the async
/// threads), without following a client-side redirect: a stub that points
/// at the article's new address is a failed check (this is the read of a
/// followed page, or of a stored body, where one redirect was enough).
pub fn read(spec: &PageSpec, f: &Fetched) -> Observation {
    read_or_follow(spec, f).unfollowed(f.status, &f.final_url)
}

impl PageRead {
    /// The observation, a stub left unfollowed being a failed check.
    pub fn unfollowed(self, status: u16, final_url: &Url) -> Observation {
        match self {
            PageRead::Done(obs) => *obs,
            PageRead::Follow { to, how, bytes } => Observation {
                bytes,
                ..Observation::failed(
                    ErrorKind::RedirectLoop,
                    format!("another client-side redirect ({how}) to {to}: only one is followed"),
                    Some(status),
                    Some(final_url.clone()),
                )
            },
        }
    }
}

/// Why a body is no page to decode: empty (a 200 with nothing in it is a
/// broken answer, not an article whose every paragraph was deleted) or
/// binary. The first check of [`read_or_follow`].
pub(crate) fn unreadable(f: &Fetched) -> Option<String> {
    if f.body.iter().all(u8::is_ascii_whitespace) {
        return Some(format!("HTTP {} with an empty body", f.status));
    }
    charset::binary_reason(&f.body)
}

/// Reads a fetched HTML page (pure, CPU work: run it off the async
/// threads): what it shows, or the new address a redirect stub sends its
/// reader to.
pub fn read_or_follow(spec: &PageSpec, f: &Fetched) -> PageRead {
    let bytes = f.body.len() as u64;
    let done = |obs: Observation| PageRead::Done(Box::new(obs));
    let host = f.final_url.host_str();
    let failed = |kind, message| Observation {
        bytes,
        ..Observation::failed(kind, message, Some(f.status), Some(f.final_url.clone()))
    };
    if let Some(reason) = unreadable(f) {
        return done(failed(ErrorKind::InvalidContent, reason));
    }
    // A redirect to a login or verification page is neither the article
    // nor a move.
    if !f.redirects.is_empty()
        && let Some(reason) = super::interstitial::wall_url(&spec.url, &f.final_url)
    {
        return done(failed(ErrorKind::Blocked, reason));
    }
    let decoded = charset::decode(&f.body, f.content_type.as_deref(), spec.encoding.as_deref(), host);
    let charset = decoded.encoding;
    let extracted = match extract::extract_owned_page(decoded.text, &spec.extract) {
        Ok(e) => e,
        Err(e) => return done(failed(ErrorKind::InvalidContent, e.to_string())),
    };
    let meta = PageMeta {
        title: extracted.title.clone(),
        author: extracted.author.clone(),
        published: extracted.published.clone(),
        content_type: f.content_type.clone(),
        charset: charset.to_owned(),
        feed_links: extracted.feed_links.clone(),
        read_with: read_stamp(spec),
    };
    // A struct of strings always serialises.
    let meta = serde_json::to_value(meta).unwrap_or(serde_json::Value::Null);
    let observed = if let Some(reason) = redirected_elsewhere(&spec.url, f) {
        Observed::Redirected { reason }
    } else if let Some(message) = super::interstitial::wall_reason(extracted.title.as_deref(), &extracted.text, &f.body)
    {
        Observed::Failed { kind: ErrorKind::Blocked, message }
    } else if let Some(reason) = extract::soft_gone_reason(&extracted) {
        Observed::SoftGone { reason }
    } else if let Some(stub) = super::client_redirect::client_redirect(&f.final_url, &extracted.text, &f.body) {
        match client_target(&spec.url, &stub) {
            Some(observed) => observed,
            None => return PageRead::Follow { to: stub.to, how: stub.how, bytes },
        }
    } else {
        Observed::Fresh(Box::new(Fresh {
            title: extracted.title,
            raw: Some(f.body.clone()),
            validators: Validators { etag: f.etag.clone(), last_modified: f.last_modified.clone() },
            removed: extracted.removed,
            ..Fresh::new(extracted.text)
        }))
    };
    done(Observation {
        observed,
        kind: SourceKind::Page,
        meta,
        http_status: Some(f.status),
        final_url: Some(f.final_url.clone()),
        bytes,
        retry_after: None,
    })
}

/// A client-side redirect judged like an HTTP one: to a login or
/// verification page, to the home or a section page or another site
/// (redirected), or `None`: the article's new address, to follow.
fn client_target(original: &Url, stub: &super::client_redirect::ClientRedirect) -> Option<Observed> {
    if let Some(message) = super::interstitial::wall_url(original, &stub.to) {
        return Some(Observed::Failed {
            kind: ErrorKind::Blocked,
            message: format!("client-side redirect ({}): {message}", stub.how),
        });
    }
    let reason = super::suspect::redirect_reason(original, &stub.to)?;
    Some(Observed::Redirected { reason: format!("client-side redirect ({}): {reason}", stub.how) })
}

/// What a page's text is read with: the reading code's version
/// ([`extract::VERSION`]) and the source's own extraction options and
/// encoding. Kept in the snapshot's meta: a snapshot read with another
/// stamp is read again from its stored body before a comparison, so an
/// upgrade or an edit of the source's rules is not a change of the page.
/// Only equality matters: a stamp that differs needlessly costs one more
/// read of a changed page, never a wrong outcome.
pub fn read_stamp(spec: &PageSpec) -> String {
    let what = format!("{}\n{:?}\n{:?}", extract::VERSION, spec.extract, spec.encoding);
    hex::encode(&Sha256::digest(what.as_bytes())[..8])
}

/// The text a stored body reads as now (pure, CPU work): `None` when it
/// reads as no article at all (a soft 404, a binary body, an extraction
/// error). The body is what a snapshot kept of its response (after
/// content decoding), `content_type` the header it came with.
pub fn reread(spec: &PageSpec, body: Vec<u8>, content_type: Option<String>) -> Option<String> {
    let f = Fetched {
        status: 200,
        final_url: spec.url.clone(),
        redirects: Vec::new(),
        content_type,
        etag: None,
        last_modified: None,
        body: body.into(),
    };
    match read(spec, &f).observed {
        Observed::Fresh(fresh) => Some(fresh.text),
        _ => None,
    }
}

/// A redirect that lands on a different page: the site's home page, a
/// section page above the article, or another site (see
/// [`super::suspect::redirect_reason`]). A redirect that keeps the page
/// (http→https, a trailing slash, www., the article's new address) is not.
pub fn redirected_elsewhere(original: &Url, f: &Fetched) -> Option<String> {
    if f.redirects.is_empty() {
        return None;
    }
    super::suspect::redirect_reason(original, &f.final_url)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fetch::Redirect;

    fn fetched(url: &str, html: &str) -> Fetched {
        Fetched {
            status: 200,
            final_url: Url::parse(url).unwrap(),
            redirects: Vec::new(),
            content_type: Some("text/html; charset=utf-8".to_owned()),
            etag: Some("\"v1\"".to_owned()),
            last_modified: None,
            body: bytes::Bytes::from(html.to_owned()),
        }
    }

    fn spec(url: &str) -> PageSpec {
        PageSpec { url: Url::parse(url).unwrap(), extract: ExtractOptions::default(), encoding: None }
    }

    const ARTICLE: &str = "<html><head><title>智谱发布GLM-4.5</title></head><body><article>\
        <p>智谱今天发布了GLM-4.5，这是一个拥有三千五百五十亿参数的混合专家模型，面向智能体应用。</p>\
        <p>模型权重以MIT许可证开源，可在Hugging Face下载，API价格同步下调。</p></article></body></html>";

    #[test]
    fn a_good_page_is_fresh_with_its_text_body_and_validators() {
        let obs = read(&spec("https://example.com/a/1.html"), &fetched("https://example.com/a/1.html", ARTICLE));
        let Observed::Fresh(fresh) = &obs.observed else { panic!("expected fresh, got {:?}", obs.observed) };
        assert!(fresh.text.contains("GLM-4.5"), "{}", fresh.text);
        assert_eq!(fresh.validators.etag.as_deref(), Some("\"v1\""));
        assert_eq!(fresh.raw.as_ref().map(|r| r.len()), Some(ARTICLE.len()));
        assert_eq!(obs.kind, SourceKind::Page);
        assert_eq!(obs.meta["charset"], "UTF-8");
        assert!(obs.observed.is_ok() && obs.observed.message().is_none());
    }

    #[test]
    fn a_redirect_to_the_home_page_is_redirected_and_keeps_no_body() {
        let mut f = fetched("https://example.com/", ARTICLE);
        f.redirects = vec![Redirect { status: 301, to: f.final_url.clone() }];
        let obs = read(&spec("https://example.com/a/1.html"), &f);
        assert!(matches!(obs.observed, Observed::Redirected { .. }), "{:?}", obs.observed);
        assert_eq!(obs.observed.message(), Some("redirected to the site's home page https://example.com/"));
        assert!(obs.text().is_none());
    }

    #[test]
    fn a_not_found_notice_is_soft_gone() {
        let html =
            "<html><head><title>404-页面不存在</title></head><body><p>抱歉，您访问的页面不存在</p></body></html>";
        let obs = read(&spec("https://example.com/a/2.html"), &fetched("https://example.com/a/2.html", html));
        assert!(matches!(obs.observed, Observed::SoftGone { .. }), "{:?}", obs.observed);
        assert_eq!(obs.observed.status(), crate::types::SourceStatus::SoftGone);
    }

    #[test]
    fn an_empty_body_is_invalid_content_not_an_empty_article() {
        let obs = read(&spec("https://example.com/a/1.html"), &fetched("https://example.com/a/1.html", " \r\n"));
        assert_eq!(obs.observed.error_kind(), Some(ErrorKind::InvalidContent));
        assert_eq!(obs.observed.message(), Some("HTTP 200 with an empty body"));
    }

    #[test]
    fn a_bad_selector_is_invalid_content_not_a_panic() {
        let mut s = spec("https://example.com/a/1.html");
        s.extract.select = Some("div[".to_owned());
        let obs = read(&s, &fetched("https://example.com/a/1.html", ARTICLE));
        assert_eq!(obs.observed.error_kind(), Some(ErrorKind::InvalidContent));
        assert_eq!(obs.bytes, ARTICLE.len() as u64);
    }

    #[test]
    fn a_feed_or_pdf_body_is_sniffed() {
        let mut f = fetched(
            "https://example.com/feed",
            "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel></channel></rss>",
        );
        f.content_type = Some("application/rss+xml".to_owned());
        assert_eq!(sniff(&f), Some(SourceKind::Feed));
        let mut f = fetched("https://example.com/r.pdf", "%PDF-1.7 ...");
        f.content_type = None;
        assert_eq!(sniff(&f), Some(SourceKind::Pdf));
        assert_eq!(sniff(&fetched("https://example.com/a", ARTICLE)), None);
    }
}
