//! One streaming pass over an XML body (quick-xml over the borrowed text,
//! nothing built): its root element, where each entry (`<item>`,
//! `<entry>`) starts and ends, and the elements still open where the body
//! ends. The entries are parsed afterwards, a batch at a time, so a feed of
//! 30,000 entries is never one model in memory; and a body cut off by the
//! connection is told from a feed with fewer entries.

use std::ops::Range;

use quick_xml::Reader;
use quick_xml::errors::{Error, SyntaxError};
use quick_xml::events::Event;

/// Deepest an entry sits: `rss > channel > item`; Atom's `feed > entry` and
/// RSS 1.0's `rdf:RDF > item` sit higher.
const ENTRY_DEPTH: usize = 3;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outline {
    /// The root element's local name (`rss`, `feed`, `RDF`, `html`…);
    /// `None` when the body has no element at all.
    pub root: Option<String>,
    /// The entries' byte ranges, in document order.
    pub entries: Vec<Range<usize>>,
    /// The elements open where the body ended, outermost first: empty for a
    /// whole document.
    pub unclosed: Vec<String>,
}

impl Outline {
    /// Whether the root is a feed format's ([`is_feed_root`]).
    pub fn is_feed(&self) -> bool {
        self.root.as_deref().is_some_and(is_feed_root)
    }

    /// Whether the body ended before its root closed.
    pub fn is_cut_off(&self) -> bool {
        !self.unclosed.is_empty()
    }
}

/// Why a body could not be outlined.
#[derive(Debug, thiserror::Error)]
pub enum OutlineError {
    /// The body ends inside markup (a tag, a comment, a CDATA section): cut
    /// off, with the elements open at that point.
    #[error("the body ends inside markup ({syntax})")]
    CutInMarkup { syntax: SyntaxError, unclosed: Vec<String> },
    /// Ill-formed XML elsewhere (a mismatched end tag…).
    #[error("{0}")]
    Xml(#[from] Error),
}

/// Whether an element is a feed format's root: `rss`, Atom's `feed` (or a
/// lone `entry`), RSS 1.0's `rdf:RDF` (feed-rs reads these).
pub fn is_feed_root(name: &str) -> bool {
    matches!(name, "rss" | "feed" | "RDF" | "entry")
}

fn local(qname: &str) -> &str {
    qname.rsplit(':').next().unwrap_or(qname)
}

fn names(text: &str, open: &[Range<usize>]) -> Vec<String> {
    open.iter().map(|r| local(text.get(r.clone()).unwrap_or_default()).to_owned()).collect()
}

/// Outlines `text`: see [`Outline`].
pub fn outline(text: &str) -> Result<Outline, OutlineError> {
    let mut reader = Reader::from_str(text);
    // Open elements as byte ranges of their names in `text`: no allocation
    // per element.
    let mut open: Vec<Range<usize>> = Vec::new();
    let mut root: Option<String> = None;
    let mut entries = Vec::new();
    // Where the open entry starts, and its depth.
    let mut entry: Option<(usize, usize)> = None;
    loop {
        let at = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = match reader.read_event() {
            Ok(e) => e,
            Err(Error::Syntax(syntax)) if syntax != SyntaxError::InvalidBangMarkup => {
                return Err(OutlineError::CutInMarkup { syntax, unclosed: names(text, &open) });
            }
            Err(e) => return Err(e.into()),
        };
        let end = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => {
                let name = e.name();
                let qname: &str = name.as_ref();
                if root.is_none() {
                    root = Some(local(qname).to_owned());
                }
                let is_entry = entry.is_none()
                    && open.len() < ENTRY_DEPTH
                    && matches!(local(qname), "item" | "entry")
                    && !open.is_empty();
                if matches!(event, Event::Empty(_)) {
                    if is_entry {
                        entries.push(at..end);
                    }
                } else {
                    if is_entry {
                        entry = Some((at, open.len()));
                    }
                    // `<` then the name.
                    open.push(at + 1..at + 1 + qname.len());
                }
            }
            Event::End(_) => {
                open.pop();
                if let Some((start, depth)) = entry
                    && depth == open.len()
                {
                    entries.push(start..end);
                    entry = None;
                }
                // What follows the root is not the feed's (the parser
                // stops there too): a template's stray `</html>` is no
                // reason to fail.
                if open.is_empty() {
                    break;
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    Ok(Outline { root, entries, unclosed: names(text, &open) })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const RSS: &str = "<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>t</title>\
        <item><title>a</title><description><![CDATA[<item>not one</item>]]></description></item>\n\
        <item><title>b</title></item></channel></rss>";

    #[test]
    fn entries_are_found_where_the_formats_put_them() {
        let o = outline(RSS).unwrap();
        assert_eq!(o.root.as_deref(), Some("rss"));
        assert!(o.is_feed() && !o.is_cut_off());
        let found: Vec<&str> = o.entries.iter().map(|r| &RSS[r.clone()]).collect();
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(found[0].starts_with("<item><title>a</title>") && found[0].ends_with("]]></description></item>"));
        assert_eq!(found[1], "<item><title>b</title></item>");

        let atom = "<feed xmlns=\"http://www.w3.org/2005/Atom\"><entry><id>1</id><source><entry/></source></entry><entry/></feed>";
        let o = outline(atom).unwrap();
        let found: Vec<&str> = o.entries.iter().map(|r| &atom[r.clone()]).collect();
        assert_eq!(found, ["<entry><id>1</id><source><entry/></source></entry>", "<entry/>"]);

        let rdf = "<rdf:RDF xmlns:rdf=\"x\"><channel><items><rdf:Seq><rdf:li/></rdf:Seq></items></channel><item><title>c</title></item></rdf:RDF>";
        let o = outline(rdf).unwrap();
        assert_eq!((o.root.as_deref(), o.entries.len()), (Some("RDF"), 1));
    }

    #[test]
    fn a_body_cut_mid_entry_is_told_apart() {
        let cut = &RSS[..RSS.find("<title>b").unwrap() + 8];
        let o = outline(cut).unwrap();
        assert_eq!(o.unclosed, ["rss", "channel", "item", "title"]);
        assert_eq!(o.entries.len(), 1);
        let in_tag = &RSS[..RSS.find("<title>b").unwrap() + 3];
        match outline(in_tag) {
            Err(OutlineError::CutInMarkup { unclosed, .. }) => assert_eq!(unclosed, ["rss", "channel", "item"]),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn other_documents_name_their_root() {
        let html = "<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body></body></html>";
        let o = outline(html).unwrap();
        assert_eq!(o.root.as_deref(), Some("html"));
        assert!(!o.is_feed());
        assert_eq!(outline("").unwrap().root, None);
        let trailing = format!("{RSS}</div></html>");
        assert_eq!(outline(&trailing).unwrap().entries.len(), 2);
    }
}
