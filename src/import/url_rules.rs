//! When two links of a document are the same page: URL normalisation for
//! import, with a configurable list of tracking parameters.

use url::{Position, Url};

use super::SkipReason;
use crate::source::{UrlError, normalize_url};

/// Query parameters that say where a click came from, not which page it
/// is (`import.tracking_params`); a trailing `*` matches a prefix.
pub const DEFAULT_TRACKING_PARAMS: &[&str] =
    &["utm_*", "spm", "fr", "fromModule", "share_token", "gclid", "fbclid", "mc_cid", "mc_eid"];

/// The import's URL rules, validated once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlRules {
    /// Lower-cased exact names.
    exact: Vec<String>,
    /// Lower-cased prefixes (from `name*`).
    prefixes: Vec<String>,
}

impl Default for UrlRules {
    fn default() -> Self {
        let names: Vec<String> = DEFAULT_TRACKING_PARAMS.iter().map(|s| (*s).to_owned()).collect();
        UrlRules::new(&names).unwrap_or(UrlRules { exact: Vec::new(), prefixes: Vec::new() })
    }
}

impl UrlRules {
    /// Validates the patterns, naming every bad one.
    pub fn new(patterns: &[String]) -> Result<UrlRules, Vec<String>> {
        let mut rules = UrlRules { exact: Vec::new(), prefixes: Vec::new() };
        let mut problems = Vec::new();
        for p in patterns {
            let (name, prefix) = match p.strip_suffix('*') {
                Some(n) => (n, true),
                None => (p.as_str(), false),
            };
            let ok =
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
            if !ok {
                problems.push(format!(
                    "tracking parameter {p:?} must be a name of letters, digits, `_`, `-` or `.`, optionally ending in `*`"
                ));
                continue;
            }
            let name = name.to_ascii_lowercase();
            if prefix { rules.prefixes.push(name) } else { rules.exact.push(name) }
        }
        if problems.is_empty() { Ok(rules) } else { Err(problems) }
    }

    /// Whether a query parameter only tracks the click.
    pub fn is_tracking(&self, name: &str) -> bool {
        let name = name.to_ascii_lowercase();
        self.exact.contains(&name) || self.prefixes.iter().any(|p| name.starts_with(p.as_str()))
    }
}

/// The URL a link of the document stands for, or why it is not one to watch.
///
/// On top of [`normalize_url`] (http(s) only, host lower-cased, IDN to
/// punycode, non-ASCII path percent-encoded, default port and fragment
/// dropped): tracking parameters and empty `&` pairs are dropped. The other
/// parameters are kept byte for byte — re-encoding them (`==` → `%3D%3D`)
/// could break a page that reads its query literally.
pub fn normalize_reference(raw: &str, rules: &UrlRules) -> Result<Url, SkipReason> {
    let t = raw.trim().trim_start_matches('<').trim_end_matches('>').trim();
    if t.is_empty() {
        return Err(SkipReason::Empty);
    }
    if t.starts_with('#') {
        return Err(SkipReason::Anchor);
    }
    if t.starts_with("//") {
        // Scheme-relative: the document was meant to be read on some site.
        return Err(SkipReason::Relative);
    }
    let mut url = match normalize_url(t) {
        Ok(u) => u,
        Err(UrlError::Invalid { .. }) if Url::parse(t) == Err(url::ParseError::RelativeUrlWithoutBase) => {
            return Err(SkipReason::Relative);
        }
        Err(UrlError::Invalid { reason, .. }) => return Err(SkipReason::Invalid(reason)),
        Err(UrlError::Scheme { scheme, .. }) => return Err(SkipReason::Scheme(scheme)),
        Err(UrlError::NoHost { .. }) => return Err(SkipReason::Invalid("no host".to_owned())),
        Err(e @ (UrlError::TooLong { .. } | UrlError::Control { .. } | UrlError::Credentials { .. })) => {
            return Err(SkipReason::Invalid(e.to_string()));
        }
    };
    drop_tracking(&mut url, rules);
    Ok(url)
}

/// Drops the tracking parameters and empty `&` pairs from `url`'s query and
/// returns the names dropped, in order. The other parameters are kept byte
/// for byte. Shared by import and `sources add`, so a campaign link and the
/// bare link are one source whichever way they came in.
pub fn drop_tracking(url: &mut Url, rules: &UrlRules) -> Vec<String> {
    let Some(query) = url.query() else { return Vec::new() };
    let mut dropped = Vec::new();
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or_default();
            let decoded = percent_decode(name);
            let tracking = rules.is_tracking(&decoded);
            if tracking {
                dropped.push(decoded);
            }
            !tracking
        })
        .collect();
    let kept = kept.join("&");
    url.set_query((!kept.is_empty()).then_some(kept.as_str()));
    dropped
}

fn percent_decode(s: &str) -> String {
    url::form_urlencoded::parse(s.as_bytes()).next().map(|(k, _)| k.into_owned()).unwrap_or_else(|| s.to_owned())
}

/// How a URL the user names finds its stored source, whichever form each
/// side has: the URL as given (normalised), its clean form (tracking
/// parameters dropped, as `sources add` and import store it), and a
/// stored URL that still carries tracking parameters (rows stored before
/// they were dropped). Every lookup of a source by URL goes through it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageKey {
    given: Url,
    clean: Url,
    rules: UrlRules,
}

impl PageKey {
    /// The key of `raw` under `rules`; a URL that cannot be a source's is
    /// the user's error.
    pub fn new(raw: &str, rules: &UrlRules) -> Result<PageKey, UrlError> {
        let given = normalize_url(raw)?;
        let clean = clean_url(given.as_str(), rules)?;
        Ok(PageKey { given, clean, rules: rules.clone() })
    }

    /// The URL as given, normalised.
    pub fn given(&self) -> &str {
        self.given.as_str()
    }

    /// The URL a source of this page is stored under today.
    pub fn clean(&self) -> &Url {
        &self.clean
    }

    /// What every stored URL of this page carrying tracking parameters
    /// starts with (its address up to the query, and a `?`): the store's
    /// first, coarse filter before [`PageKey::rank`].
    pub fn tracked_prefix(&self) -> String {
        format!("{}?", &self.clean[..Position::AfterPath])
    }

    /// How well a stored URL names this page: 0 as given, 1 its clean
    /// form, 2 once its own tracking parameters are dropped; `None`: another
    /// page. The lowest wins (the exact URL over a row that only maps to it).
    pub fn rank(&self, stored: &str) -> Option<u8> {
        if stored == self.given.as_str() {
            return Some(0);
        }
        if stored == self.clean.as_str() {
            return Some(1);
        }
        (clean_url(stored, &self.rules).ok()? == self.clean).then_some(2)
    }
}

/// The URL a source of `raw`'s page is stored under: [`normalize_url`],
/// then [`drop_tracking`]. What a stored URL, a URL the user names and an
/// imported link are compared as.
pub fn clean_url(raw: &str, rules: &UrlRules) -> Result<Url, UrlError> {
    let mut url = normalize_url(raw)?;
    drop_tracking(&mut url, rules);
    Ok(url)
}
