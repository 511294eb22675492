//! Finding the article in a page and turning it into lines of text.
//!
//! Root choice: the user's selector; else the first known article container
//! holding real text (`<article>`, `main`, WeChat's `#js_content`, common CMS
//! classes); else a readability-style score (paragraph text with commas and
//! length, pushed to parents, discounted by link density).

use std::sync::LazyLock;

use ego_tree::NodeId;
use ego_tree::iter::Edge;
use rustc_hash::{FxHashMap, FxHashSet};
use scraper::{ElementRef, Html, Node, Selector};
use unicode_normalization::UnicodeNormalization;

use super::boilerplate::{furniture_reason, is_furniture, is_hidden, is_never_text, link_list_reason};
use super::normalize::LineNormalizer;
use super::select::{Index, Shipped};
use super::stats::PageStats;

/// Known article containers, most specific first.
const CONTAINERS: &[&str] = &[
    "#js_content",
    ".rich_media_content",
    "[itemprop=articleBody]",
    "article",
    ".article-content",
    ".article_content",
    ".article-body",
    ".articleBody",
    ".post-content",
    ".post-body",
    ".entry-content",
    ".content-article",
    "#artibody",
    ".TRS_Editor",
    "#article",
    ".article",
    "main",
    "[role=main]",
    "#content",
    ".content",
];

/// `CONTAINERS`, parsed once per process (a unit test checks every one parses).
static CONTAINER_SELECTORS: LazyLock<Vec<Shipped>> =
    LazyLock::new(|| CONTAINERS.iter().filter_map(|css| Shipped::parse(css)).collect());
static BODY: LazyLock<Option<Shipped>> = LazyLock::new(|| Shipped::parse(BODY_CSS));
const BODY_CSS: &str = "body";

/// Every shipped selector of this module, for `select`'s index ([`super::shipped_css`]).
pub(super) fn shipped_css() -> impl Iterator<Item = &'static str> {
    CONTAINERS.iter().copied().chain([BODY_CSS])
}
static PARAGRAPHS: LazyLock<Option<Selector>> =
    LazyLock::new(|| Selector::parse("p, pre, td, blockquote, li, div").ok());

/// A container must hold at least this much text (chars, no whitespace) to
/// be taken as the article; a teaser card is shorter.
const MIN_ROOT_CHARS: usize = 50;

/// Paragraphs shorter than this do not vote in the density heuristic.
const MIN_PARAGRAPH_CHARS: usize = 20;

/// Elements the walk drops, with why (for `Extracted::removed`).
pub(crate) struct Drops<'s> {
    pub excluded: FxHashSet<NodeId>,
    /// Stamps a community layout writes into its content (`community`).
    pub layout: FxHashSet<NodeId>,
    pub furniture: bool,
    pub stats: &'s PageStats<'s>,
}

/// The chosen content roots, in document order.
pub(crate) fn auto_roots<'a>(index: &Index<'a>, stats: &PageStats<'_>) -> Vec<ElementRef<'a>> {
    let doc = index.doc();
    for selector in CONTAINER_SELECTORS.iter() {
        let found: Vec<ElementRef<'_>> = selector
            .select(index)
            .filter(|el| {
                let s = stats.get(el.id());
                !s.in_furniture && s.text >= MIN_ROOT_CHARS && !is_furniture(el)
            })
            .collect();
        let roots = outermost(doc, found);
        if !roots.is_empty() {
            return roots;
        }
    }
    // A notice page ("该内容已被发布者删除") has no paragraph to score:
    // then the whole body is the text.
    density_root(doc, stats).or_else(|| body(index)).into_iter().collect()
}

fn body<'a>(index: &Index<'a>) -> Option<ElementRef<'a>> {
    BODY.as_ref()?.select(index).next()
}

/// Roots from a user selector: every match, nested matches folded in.
pub(crate) fn selected_roots<'a>(doc: &'a Html, selector: &Selector) -> Vec<ElementRef<'a>> {
    outermost(doc, doc.select(selector).collect())
}

/// Drops matches nested inside another match, in one pass over the tree
/// (checking each match's ancestors is quadratic on hostile nesting).
fn outermost<'a>(doc: &'a Html, found: Vec<ElementRef<'a>>) -> Vec<ElementRef<'a>> {
    if found.len() <= 1 {
        return found;
    }
    let ids: FxHashSet<NodeId> = found.iter().map(|e| e.id()).collect();
    let mut keep = FxHashSet::default();
    let mut depth = 0usize;
    for edge in doc.tree.root().traverse() {
        match edge {
            Edge::Open(node) if ids.contains(&node.id()) => {
                if depth == 0 {
                    keep.insert(node.id());
                }
                depth += 1;
            }
            Edge::Close(node) if ids.contains(&node.id()) => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    found.into_iter().filter(|el| keep.contains(&el.id())).collect()
}

/// Readability-style fallback: score paragraph-like blocks, credit their
/// parent fully and grandparent half, discount by link density.
fn density_root<'a>(doc: &'a Html, stats: &PageStats<'_>) -> Option<ElementRef<'a>> {
    let selector = PARAGRAPHS.as_ref()?;
    // Every paragraph is asked about: one pass, not a count for each.
    stats.count_all();
    let mut scores: FxHashMap<NodeId, f64> = FxHashMap::default();
    for el in doc.select(selector) {
        let s = stats.get(el.id());
        if s.text < MIN_PARAGRAPH_CHARS || s.in_furniture {
            continue;
        }
        // A div votes only when it holds text directly (no block children).
        if el.value().name() == "div" && el.children().filter_map(ElementRef::wrap).any(|c| is_block(c.value().name()))
        {
            continue;
        }
        let score = 1.0 + s.commas as f64 + (s.text as f64 / 100.0).min(3.0);
        let mut ancestors = el.ancestors().filter_map(ElementRef::wrap);
        if let Some(parent) = ancestors.next() {
            *scores.entry(parent.id()).or_insert(0.0) += score;
        }
        if let Some(grand) = ancestors.next() {
            *scores.entry(grand.id()).or_insert(0.0) += score / 2.0;
        }
    }
    let mut scores: Vec<(NodeId, f64)> = scores.into_iter().collect();
    // Ties broken by document order so the choice is deterministic.
    scores.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scores
        .into_iter()
        .take(5)
        .filter_map(|(id, s)| {
            let el = doc.tree.get(id).and_then(ElementRef::wrap)?;
            Some((el, s * (1.0 - stats.link_density(id))))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.id().cmp(&a.0.id())))
        .map(|(el, _)| el)
}

fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "section"
            | "article"
            | "main"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "ul"
            | "ol"
            | "li"
            | "dl"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "table"
            | "thead"
            | "tbody"
            | "tfoot"
            | "tr"
            | "figure"
            | "figcaption"
            | "header"
            | "footer"
            | "address"
            | "hr"
            | "aside"
            | "nav"
            | "details"
            | "summary"
            | "caption"
    )
}

/// Walks the roots and returns raw lines (one per block) plus removed regions.
/// Iterative (`traverse`), so hostile nesting depth cannot overflow the stack.
pub(crate) fn walk(roots: &[ElementRef<'_>], drops: &Drops<'_>, title: Option<&str>) -> (Vec<String>, Vec<String>) {
    let mut lines = Vec::new();
    let mut removed = Vec::new();
    let mut cur = String::new();
    let mut pre_depth = 0usize;
    // Only the first h1 is compared with the title (bounded work).
    let mut title_checked = false;
    for root in roots {
        let mut skipping: Option<NodeId> = None;
        for edge in root.traverse() {
            match edge {
                Edge::Open(node) => {
                    if skipping.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Text(t) => push_text(&mut cur, &mut lines, t, pre_depth > 0),
                        Node::Element(_) => {
                            let Some(el) = ElementRef::wrap(node) else {
                                continue;
                            };
                            let is_root = el.id() == root.id();
                            if let Some(why) = drop_reason(&el, drops, is_root) {
                                if let Some(why) = why {
                                    removed.push(describe(&why, &el));
                                }
                                skipping = Some(el.id());
                                continue;
                            }
                            let name = el.value().name();
                            if name == "h1" && !title_checked {
                                title_checked = true;
                                if is_title(&el, title) {
                                    skipping = Some(el.id());
                                    continue;
                                }
                            }
                            open_element(name, &mut cur, &mut lines, &mut pre_depth);
                        }
                        _ => {}
                    }
                }
                Edge::Close(node) => {
                    if skipping == Some(node.id()) {
                        skipping = None;
                        continue;
                    }
                    if skipping.is_some() {
                        continue;
                    }
                    if let Node::Element(e) = node.value() {
                        let name = e.name();
                        if name == "pre" {
                            pre_depth = pre_depth.saturating_sub(1);
                        }
                        if is_block(name) {
                            flush(&mut cur, &mut lines);
                        }
                    }
                }
            }
        }
        flush(&mut cur, &mut lines);
    }
    (lines, removed)
}

/// `None`: keep. `Some(None)`: drop silently (never text, hidden).
/// `Some(Some(why))`: drop and report.
fn drop_reason(el: &ElementRef<'_>, drops: &Drops<'_>, is_root: bool) -> Option<Option<String>> {
    if drops.excluded.contains(&el.id()) {
        return Some(Some("exclude".to_owned()));
    }
    if drops.layout.contains(&el.id()) {
        return Some(Some("layout".to_owned()));
    }
    if is_never_text(el) {
        return Some(None);
    }
    if is_root {
        // WeChat ships #js_content with visibility:hidden until its JS runs.
        return None;
    }
    if is_hidden(el) {
        return Some(None);
    }
    if drops.furniture
        && let Some(why) = furniture_reason(el).or_else(|| {
            link_list_reason(el, || {
                let s = drops.stats.get(el.id());
                (s.text, s.linked)
            })
        })
    {
        return Some(Some(why));
    }
    None
}

/// Chars of a dropped region's text shown in its note.
const REGION_NOTE_CHARS: usize = 60;

/// "region {why}: " and the start of the region's text, normalised as one
/// line. Only as much of the text is read as the note shows: a dropped
/// comment thread can hold most of a page's text.
fn describe(why: &str, el: &ElementRef<'_>) -> String {
    let chars = el
        .text()
        .enumerate()
        .flat_map(|(i, t)| (i > 0).then_some(' ').into_iter().chain(t.chars()))
        .map(|c| if c == '\n' || c == '\r' { ' ' } else { c });
    let mut line = LineNormalizer::with_capacity(4 * REGION_NOTE_CHARS);
    let mut cut = false;
    for c in chars.nfc() {
        if line.written() > REGION_NOTE_CHARS {
            cut = true;
            break;
        }
        line.push(c);
    }
    // Cut short, it has written more than the note shows: what it has is
    // final, a pending space or run of dots past that does not matter.
    let mut short = if cut { line.into_written() } else { line.finish() };
    if let Some((end, _)) = short.char_indices().nth(REGION_NOTE_CHARS) {
        short.truncate(end);
        short.push('…');
    }
    format!("region {why}: {short}")
}

fn is_title(el: &ElementRef<'_>, title: Option<&str>) -> bool {
    let Some(title) = title else { return false };
    let text: String = el.text().collect::<Vec<_>>().join(" ");
    let text = super::normalize::normalize_line(&text.replace(['\n', '\r'], " "));
    !text.is_empty() && super::normalize::normalize_line(title).contains(&text)
}

fn open_element(name: &str, cur: &mut String, lines: &mut Vec<String>, pre_depth: &mut usize) {
    match name {
        "br" => flush(cur, lines),
        // Table cells stay on their row's line, separated like Markdown.
        "td" | "th" if !cur.trim().is_empty() => cur.push_str(" | "),
        "td" | "th" => {}
        "pre" => {
            flush(cur, lines);
            *pre_depth += 1;
        }
        _ if is_block(name) => flush(cur, lines),
        _ => {}
    }
}

fn push_text(cur: &mut String, lines: &mut Vec<String>, text: &str, in_pre: bool) {
    if !in_pre {
        // Line breaks in the source are spaces; most text has a few. Found
        // by memchr: a split on a set of chars decoded every char of the
        // article's text to compare it.
        let mut rest = text;
        while let Some(at) = memchr::memchr2(b'\n', b'\r', rest.as_bytes()) {
            cur.push_str(&rest[..at]);
            cur.push(' ');
            rest = &rest[at + 1..];
        }
        cur.push_str(rest);
        return;
    }
    let mut parts = text.split('\n').peekable();
    while let Some(part) = parts.next() {
        cur.push_str(part.trim_end_matches('\r'));
        if parts.peek().is_some() {
            flush(cur, lines);
        }
    }
}

fn flush(cur: &mut String, lines: &mut Vec<String>) {
    if !cur.trim().is_empty() {
        // A copy of its size, and `cur` keeps its buffer: taken, it grew
        // again from nothing a doubling at a time for every line.
        lines.push(cur.as_str().to_owned());
    }
    cur.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_shipped_selector_parses() {
        assert_eq!(CONTAINER_SELECTORS.len(), CONTAINERS.len());
        assert!(BODY.is_some() && PARAGRAPHS.is_some());
    }
}
