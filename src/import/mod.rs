//! The knowledge document → references to watch (pure, except `read`).
//!
//! The document is read with a CommonMark parser (pulldown-cmark), walking
//! its events rather than its lines: inline links, reference-style links and
//! their definitions, autolinks, footnote definitions and bare URLs in text
//! (found the way GFM's autolink extension does, but also right after CJK
//! punctuation, which the seed document does everywhere). Code is never read
//! for links. Every reference keeps its place in the document: the heading
//! path above it and its line.
//!
//! What is not a reference to watch — a relative link, a `mailto:`, an image,
//! a second copy of a URL — is *reported* with the reason, never dropped
//! silently: the user is reconciling a document, and must see what was left out.

mod read;
mod title;
mod url_rules;
mod walk;

#[cfg(test)]
mod tests;

use serde::Serialize;

pub use read::{ReadError, read_document};
pub use title::clean_title;
pub use url_rules::{DEFAULT_TRACKING_PARAMS, PageKey, UrlRules, clean_url, drop_tracking, normalize_reference};

/// How a reference is written in the document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkForm {
    /// `[text](https://…)`
    Inline,
    /// `[text][ref]` with `[ref]: https://…` elsewhere.
    Reference,
    /// A `[ref]: https://…` definition that no link uses.
    Definition,
    /// `<https://…>`
    Autolink,
    /// A URL inside a footnote definition (`[^1]: https://…`).
    Footnote,
    /// A bare URL in text.
    Bare,
    /// `<a href="https://…">` in raw HTML.
    Html,
}

/// Why a link of the document is not imported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    Empty,
    /// `#section`: a link inside the document itself.
    Anchor,
    /// `./other.md`, `/path`: no site to watch.
    Relative,
    /// `mailto:`, `ftp:`, `javascript:`…
    Scheme(String),
    Invalid(String),
    /// An image is an illustration, not a reference.
    Image,
    /// `[text][label]` whose label is defined nowhere.
    UndefinedReference(String),
    /// The same page (after normalisation) appears earlier, at this line.
    Duplicate {
        first_line: usize,
    },
}

impl SkipReason {
    /// The stable word scripts match on.
    pub fn code(&self) -> &'static str {
        match self {
            SkipReason::Empty => "empty",
            SkipReason::Anchor => "anchor",
            SkipReason::Relative => "relative",
            SkipReason::Scheme(_) => "scheme",
            SkipReason::Invalid(_) => "invalid",
            SkipReason::Image => "image",
            SkipReason::UndefinedReference(_) => "undefined_reference",
            SkipReason::Duplicate { .. } => "duplicate",
        }
    }
}

impl std::fmt::Display for SkipReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SkipReason::Empty => f.write_str("empty link"),
            SkipReason::Anchor => f.write_str("a link inside the document"),
            SkipReason::Relative => f.write_str("relative link: no site to watch"),
            SkipReason::Scheme(s) => write!(f, "{s}: link, only http(s) pages can be watched"),
            SkipReason::Invalid(e) => write!(f, "not a valid URL: {e}"),
            SkipReason::Image => f.write_str("image, not a reference"),
            SkipReason::UndefinedReference(label) => write!(f, "reference [{label}] is not defined"),
            SkipReason::Duplicate { first_line } => write!(f, "same page as line {first_line}"),
        }
    }
}

/// One reference to watch, first occurrence in the document.
#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    /// Normalised: fragment and tracking parameters dropped, host lower-cased,
    /// IDN and non-ASCII paths encoded.
    pub url: url::Url,
    /// As written in the document.
    pub original: String,
    pub title: Option<String>,
    /// The headings above it, outermost first.
    pub heading_path: Vec<String>,
    /// 1-based.
    pub line: usize,
    pub form: LinkForm,
}

impl Reference {
    /// The heading path as one string, `第三章 … / 本章参考`.
    pub fn section(&self) -> Option<String> {
        section_of(&self.heading_path)
    }

    /// The nearest heading: the source's tag.
    pub fn tag(&self) -> Option<&str> {
        self.heading_path.last().map(String::as_str)
    }
}

/// The separator of a heading path stored as one string.
pub const SECTION_SEPARATOR: &str = " / ";

pub fn section_of(path: &[String]) -> Option<String> {
    (!path.is_empty()).then(|| path.join(SECTION_SEPARATOR))
}

/// A link that is not imported, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// As written.
    pub target: String,
    pub line: usize,
    pub heading_path: Vec<String>,
    pub reason: SkipReason,
}

/// Everything the document cites, in document order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub references: Vec<Reference>,
    pub skipped: Vec<Skipped>,
    /// The document has more than the limit of links; reading stopped there.
    pub truncated: bool,
}

/// [`extract`] contained: on its own thread with a known stack and a time
/// budget ([`crate::contain::ThreadLimits::PARSER`]), so a hostile document
/// (nesting 100k deep, a pathological construct) is refused with the reason
/// instead of taking the command down or running for hours. Blocking.
pub fn extract_contained(
    markdown: String,
    rules: UrlRules,
    max_links: usize,
) -> Result<Extracted, crate::contain::ContainError> {
    crate::contain::on_thread("markdown-import", crate::contain::ThreadLimits::PARSER, move || {
        extract(&markdown, &rules, max_links)
    })
}

/// Every reference of `markdown`, in document order, each page once, with
/// what was left out and why. Reading stops after `max_links` links of any
/// kind (references, duplicates, skipped ones) and says so.
pub fn extract(markdown: &str, rules: &UrlRules, max_links: usize) -> Extracted {
    let (found, truncated) = walk::walk(markdown, max_links);
    let mut out = Extracted { truncated, ..Extracted::default() };
    let mut first_line: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for c in found {
        if let Some(reason) = c.skip {
            out.skipped.push(Skipped { target: c.raw, line: c.line, heading_path: c.heading_path, reason });
            continue;
        }
        match normalize_reference(&c.raw, rules) {
            Ok(url) => match first_line.get(url.as_str()) {
                Some(&line) => out.skipped.push(Skipped {
                    target: c.raw,
                    line: c.line,
                    heading_path: c.heading_path,
                    reason: SkipReason::Duplicate { first_line: line },
                }),
                None => {
                    first_line.insert(url.as_str().to_owned(), c.line);
                    out.references.push(Reference {
                        url,
                        original: c.raw,
                        title: c.title,
                        heading_path: c.heading_path,
                        line: c.line,
                        form: c.form,
                    });
                }
            },
            Err(reason) => {
                out.skipped.push(Skipped { target: c.raw, line: c.line, heading_path: c.heading_path, reason })
            }
        }
    }
    out
}
