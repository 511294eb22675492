//! The shipped selectors, tried only on elements they can match.
//!
//! Extraction asks some forty fixed selectors of every page (article
//! containers, title/author/date sources, community layouts), and
//! `Html::select` runs the full selector matcher on every element for each
//! of them: on an 80 KB article most of that work is refusing `<span>`s.
//! Each selector's rightmost compound starts with a tag, an id, a class or an
//! attribute name the element must have; checking that first is a compare,
//! and the matcher runs only where it passes. The result is what
//! `Html::select` yields, in the same order (the tree's node order, which is
//! not always document order: the tree builder moves misnested nodes).
//!
//! A page's elements are grouped by those keys once ([`Index`]), so a
//! selector visits only the elements its key can admit instead of every
//! node of the tree: a page is asked some forty selectors, most of which
//! match nothing.

use std::sync::LazyLock;

use ego_tree::NodeId;
use html5ever::{LocalName, local_name};
use rustc_hash::FxHashMap;
use scraper::node::Element;
use scraper::{ElementRef, Html, Selector};

/// What an element must have for the selector to match it: a superset
/// test (ASCII case ignored, as in quirks mode), so it never refuses a match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Key {
    /// A lowercase tag name: the tree builder lowercases every HTML tag
    /// name, and the matcher compares the name exactly for other elements.
    Tag(LocalName),
    Id(String),
    Class(String),
    Attr(String),
    /// A selector this module does not take apart: every element is tried.
    Any,
}

impl Key {
    /// The key of a selector's text: the first simple selector of its
    /// rightmost compound. Anything unusual (a list, escapes, namespaces,
    /// a universal or pseudo-class start) is `Any`.
    fn of(css: &str) -> Key {
        if css.contains([',', '\\', '|', '*', '(']) {
            return Key::Any;
        }
        let compound = &css[rightmost_compound_start(css)..];
        let ident = |s: &str| -> String {
            s.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_') || !c.is_ascii()).collect()
        };
        let key = match compound.chars().next() {
            Some('#') => Key::Id(ident(&compound[1..])),
            Some('.') => Key::Class(ident(&compound[1..])),
            Some('[') => Key::Attr(ident(compound[1..].trim_start())),
            Some(c) if c.is_ascii_lowercase() => {
                let tag = ident(compound);
                if tag.chars().any(|c| !c.is_ascii_lowercase() && !c.is_ascii_digit()) {
                    return Key::Any;
                }
                Key::Tag(LocalName::from(tag))
            }
            _ => return Key::Any,
        };
        match &key {
            Key::Id(s) | Key::Class(s) | Key::Attr(s) if s.is_empty() => Key::Any,
            _ => key,
        }
    }

    fn admits(&self, el: &Element) -> bool {
        match self {
            Key::Tag(tag) => el.name.local == *tag,
            Key::Id(id) => el.id().is_some_and(|v| v.eq_ignore_ascii_case(id)),
            // As `Element::classes` reads them, without making an atom of
            // every class on the page.
            Key::Class(class) => el.attrs.iter().any(|(name, value)| {
                name.local == local_name!("class")
                    && value.split_ascii_whitespace().any(|c| c.eq_ignore_ascii_case(class))
            }),
            Key::Attr(attr) => el.attrs.iter().any(|(name, _)| <str>::eq_ignore_ascii_case(&name.local, attr)),
            Key::Any => true,
        }
    }
}

/// Where the rightmost compound of a selector starts: after the last
/// combinator (space, `>`, `+`, `~`) outside brackets and quotes.
fn rightmost_compound_start(css: &str) -> usize {
    let (mut start, mut bracket, mut quote) = (0, false, None);
    for (i, c) in css.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') if bracket => quote = Some(c),
            (None, '[') => bracket = true,
            (None, ']') => bracket = false,
            (None, ' ' | '>' | '+' | '~' | '\t' | '\n') if !bracket => start = i + c.len_utf8(),
            _ => {}
        }
    }
    start
}

/// The tags and (lowercased) classes the shipped selectors are keyed on,
/// each with its group's place in an [`Index`]. A page's elements are
/// grouped by these alone: grouping every tag and class of the page cost
/// a map entry (78 instructions) per element and per class and a `Vec` per
/// distinct one, most never asked for. A selector keyed on anything else
/// (a test's) tries every element.
struct Keyed {
    tags: Vec<LocalName>,
    classes: FxHashMap<String, usize>,
}

static KEYED: LazyLock<Keyed> = LazyLock::new(|| {
    let mut keyed = Keyed { tags: Vec::new(), classes: FxHashMap::default() };
    for css in super::shipped_css() {
        match Key::of(css.trim()) {
            Key::Tag(tag) if !keyed.tags.contains(&tag) => keyed.tags.push(tag),
            Key::Class(class) => {
                let next = keyed.classes.len();
                keyed.classes.entry(class.to_ascii_lowercase()).or_insert(next);
            }
            _ => {}
        }
    }
    keyed
});

/// A shipped selector and the key that rules elements out before it runs.
#[derive(Debug)]
pub(crate) struct Shipped {
    pub selector: Selector,
    key: Key,
    /// The key's group in an [`Index`], for a tag or class in [`KEYED`].
    group: Option<usize>,
}

impl Shipped {
    pub(crate) fn parse(css: &str) -> Option<Shipped> {
        let key = Key::of(css.trim());
        let group = match &key {
            Key::Tag(tag) => KEYED.tags.iter().position(|t| t == tag),
            Key::Class(class) => KEYED.classes.get(&class.to_ascii_lowercase()).copied(),
            _ => None,
        };
        Some(Shipped { selector: Selector::parse(css).ok()?, key, group })
    }

    /// What `index.doc().select(&self.selector)` yields, in the same order.
    pub(crate) fn select<'s, 'd>(&'s self, index: &'s Index<'d>) -> impl Iterator<Item = ElementRef<'d>> + 's {
        let group = |groups: &'s [Vec<NodeId>]| self.group.and_then(|g| groups.get(g)).map(Vec::as_slice);
        let candidates: &'s [NodeId] = match &self.key {
            Key::Tag(_) => group(&index.by_tag).unwrap_or(&index.elements),
            Key::Id(_) => &index.with_id,
            Key::Class(_) => group(&index.by_class).unwrap_or(&index.elements),
            Key::Attr(_) => &index.with_attrs,
            Key::Any => &index.elements,
        };
        let doc = index.doc;
        candidates
            .iter()
            .filter_map(move |&id| doc.tree.get(id).and_then(ElementRef::wrap))
            .filter(move |el| self.key.admits(el.value()) && self.selector.matches(el))
    }
}

/// A page's elements (those with a parent, as `Html::select` yields them),
/// in the tree's node order, grouped by what a [`Key`] asks first. Built in
/// one pass per page; each group is a superset of what its keys admit.
pub(crate) struct Index<'a> {
    doc: &'a Html,
    elements: Vec<NodeId>,
    /// By tag, for the tags of [`KEYED`] (in its order).
    by_tag: Vec<Vec<NodeId>>,
    /// With an `id` attribute.
    with_id: Vec<NodeId>,
    /// By class, ASCII-lowercased (the key ignores case), for the classes
    /// of [`KEYED`] (at their places).
    by_class: Vec<Vec<NodeId>>,
    /// With any attribute.
    with_attrs: Vec<NodeId>,
}

impl<'a> Index<'a> {
    pub(crate) fn new(doc: &'a Html) -> Index<'a> {
        let keyed = &*KEYED;
        let mut index = Index {
            doc,
            // Every element, sized up front: about half of a page's nodes.
            elements: Vec::with_capacity(doc.tree.nodes().len() / 2),
            by_tag: vec![Vec::new(); keyed.tags.len()],
            with_id: Vec::new(),
            by_class: vec![Vec::new(); keyed.classes.len()],
            with_attrs: Vec::new(),
        };
        for node in doc.tree.nodes() {
            let Some(el) = ElementRef::wrap(node) else { continue };
            if node.parent().is_none() {
                continue;
            }
            let (id, value) = (node.id(), el.value());
            index.elements.push(id);
            if let Some(group) = keyed.tags.iter().position(|t| *t == value.name.local)
                && let Some(ids) = index.by_tag.get_mut(group)
            {
                ids.push(id);
            }
            if value.attrs.is_empty() {
                continue;
            }
            index.with_attrs.push(id);
            if value.attrs.iter().any(|(name, _)| name.local == local_name!("id")) {
                index.with_id.push(id);
            }
            for (name, classes) in &value.attrs {
                if name.local != local_name!("class") {
                    continue;
                }
                for class in classes.split_ascii_whitespace() {
                    let group = if class.bytes().any(|b| b.is_ascii_uppercase()) {
                        keyed.classes.get(&class.to_ascii_lowercase())
                    } else {
                        keyed.classes.get(class)
                    };
                    let Some(ids) = group.and_then(|&g| index.by_class.get_mut(g)) else { continue };
                    // `class="a A"` names the element once.
                    if ids.last() != Some(&id) {
                        ids.push(id);
                    }
                }
            }
        }
        index
    }

    pub(crate) fn doc(&self) -> &'a Html {
        self.doc
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_the_shapes_we_ship() {
        let key = Key::of;
        assert_eq!(key("#js_content"), Key::Id("js_content".into()));
        assert_eq!(key(".TRS_Editor"), Key::Class("TRS_Editor".into()));
        assert_eq!(key("[itemprop=articleBody]"), Key::Attr("itemprop".into()));
        assert_eq!(key(r#"meta[property="og:title"]"#), Key::Tag("meta".into()));
        assert_eq!(key("h1"), Key::Tag("h1".into()));
        assert_eq!(key(r#"[itemprop="author"] [itemprop="name"]"#), Key::Attr("itemprop".into()));
        assert_eq!(key(".WB_detail > [node-type=feed_list_content]"), Key::Attr("node-type".into()));
        assert_eq!(key(".weibo-main .m-text-box > a:first-child"), Key::Tag("a".into()));
        assert_eq!(key("#postlist [id^=postmessage_]"), Key::Attr("id".into()));
        assert_eq!(key(r#"[title="a b"]"#), Key::Attr("title".into()));
        assert_eq!(key(r#"div [title="a > b"]"#), Key::Attr("title".into()));
        for any in ["p, div", "*", ":not(p)", "svg|a", r"#a\:b", "div > *", "", "Meta", "font-face"] {
            assert_eq!(key(any), Key::Any, "{any}");
        }
    }

    #[test]
    fn the_shipped_tags_and_classes_are_grouped() {
        for css in ["article", "meta[name=author]", "h1", ".TRS_Editor", ".article-content", ".AnswerCard .AnswerItem"]
        {
            assert!(Shipped::parse(css).unwrap().group.is_some(), "{css}");
        }
        // Keys no shipped selector has are not grouped: every element is tried.
        for css in [".x-not-shipped", "td", "#content", "[itemprop]", "*"] {
            assert!(Shipped::parse(css).unwrap().group.is_none(), "{css}");
        }
    }

    #[test]
    fn keyed_selection_is_html_select() {
        let pages = [
            include_str!("../../tests/fixtures/pages/portal.html"),
            include_str!("../../tests/fixtures/pages/zhihu-answer.html"),
            include_str!("../../tests/fixtures/pages/forum-thread.html"),
            include_str!("../../tests/fixtures/pages/weibo-post.html"),
            // Misnested: the tree builder moves nodes, node order is not
            // document order; case differences; foreign content.
            r#"<TABLE><P ID=Content CLASS="A content">x<TR><TD>y</TD></TR></TABLE><b><i class=content>z</b>w</i>
               <svg><foreignObject><div Class=CONTENT id=content>q</div></foreignObject><title>t</title></svg>
               <p><META ITEMPROP=DatePublished content=1>"#,
        ];
        let selectors = [
            "#content",
            ".content",
            ".CONTENT",
            ".a",
            "p.content",
            "[itemprop=datePublished]",
            "title",
            "td",
            "i",
            ".AnswerCard .AnswerItem .RichContent-inner",
            ".WB_detail > .WB_text",
            "#postlist [id^=postmessage_]",
            "meta[name=author]",
            "[itemprop] [class]",
            "div:first-child",
            "div, p",
            // Grouped keys (shipped), in any case.
            ".TRS_Editor",
            ".trs_editor",
            "article",
            ".article",
            "meta[property=\"og:title\"]",
        ];
        for page in pages {
            let doc = Html::parse_document(page);
            let index = Index::new(&doc);
            for css in selectors {
                let shipped = Shipped::parse(css).unwrap();
                let ours: Vec<_> = shipped.select(&index).map(|e| e.id()).collect();
                let theirs: Vec<_> = doc.select(&shipped.selector).map(|e| e.id()).collect();
                assert_eq!(ours, theirs, "{css}");
            }
        }
    }
}
