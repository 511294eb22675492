//! Per-element text statistics: for the few elements asked about, or for
//! every element in one pass over the page.
//!
//! Root choice and list detection need "how much text is in here, how much
//! of it is links, is it inside a sidebar" for some elements: the article
//! containers a page has, a list under a "相关推荐" heading, and for the
//! density fallback every paragraph. A page with a container asks about a
//! handful, so each is counted alone, its subtree and its ancestors
//! (a third of the pass's work on the bench pages, which counted every
//! text of the page and judged every element's furniture). Asking each
//! element separately is quadratic on deep or large pages (50 000 nested
//! divs took a minute), so those single counts share a budget of the
//! page's node count: past it, and for the density fallback, one iterative
//! traversal answers all of it, as it did for every page before.

use std::cell::{Cell, OnceCell, RefCell};
use std::hash::{Hash, Hasher};

use ego_tree::iter::Edge;
use ego_tree::{NodeId, NodeRef};
use rustc_hash::FxHashMap;
use scraper::{ElementRef, Html, Node};

use super::boilerplate::{is_furniture, is_never_text};

#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct NodeStats {
    /// Visible text chars (whitespace excluded) in the subtree.
    pub text: usize,
    /// Of which inside `<a>`.
    pub linked: usize,
    /// Commas and full stops (a readability signal for prose).
    pub commas: usize,
    /// Some ancestor (not html/body) is page furniture.
    pub in_furniture: bool,
}

/// A page's statistics, counted as they are asked for ([`PageStats::get`]).
pub(crate) struct PageStats<'a> {
    doc: &'a Html,
    /// Every element's, by node, at the node's place in the tree's arena
    /// ([`slot`]), once the one pass ran. An FxHash map cost 73
    /// instructions an insert (10.3 M over 150 bench pages, with the map's
    /// set-up); nodes are dense, so a slice of all of them is the map.
    all: OnceCell<Vec<NodeStats>>,
    /// Elements counted alone so far (a few a page).
    asked: RefCell<FxHashMap<NodeId, NodeStats>>,
    /// Nodes the single counts may still visit (ancestors and subtree
    /// edges): the page's node count to start with, what the one pass costs.
    budget: Cell<usize>,
}

/// A node's index in its tree's arena. ego_tree keeps it private, but a
/// `NodeId` hashes as nothing but that index plus one (its derived `Hash`
/// of a `NonZeroUsize`), so a hasher that keeps the `usize` it is given
/// reads it. A unit test checks it against the arena's order; were it ever
/// wrong, every lookup would miss and the pinned extraction tests fail.
fn slot(id: NodeId) -> usize {
    struct Slot(usize);
    impl Hasher for Slot {
        fn finish(&self) -> u64 {
            self.0 as u64
        }
        fn write(&mut self, _: &[u8]) {
            self.0 = 0;
        }
        fn write_usize(&mut self, n: usize) {
            self.0 = n;
        }
    }
    let mut slot = Slot(0);
    id.hash(&mut slot);
    slot.0.wrapping_sub(1)
}

struct Open {
    id: NodeId,
    stats: NodeStats,
    furniture: bool,
    link: bool,
}

impl<'a> PageStats<'a> {
    /// Statistics of `doc`, none counted yet.
    pub(crate) fn new(doc: &'a Html) -> Self {
        PageStats {
            doc,
            all: OnceCell::new(),
            asked: RefCell::new(FxHashMap::default()),
            budget: Cell::new(doc.tree.nodes().len()),
        }
    }

    /// Statistics of `doc`, every element counted in one pass.
    #[cfg(test)]
    pub(crate) fn compute(doc: &'a Html) -> Self {
        let stats = PageStats::new(doc);
        stats.count_all();
        stats
    }

    /// Counts every element in one pass (unless done), for a caller about
    /// to ask about many.
    pub(crate) fn count_all(&self) {
        self.all();
    }

    fn all(&self) -> &[NodeStats] {
        self.all.get_or_init(|| one_pass(self.doc))
    }

    /// An element's statistics (all zero for a node that is not an element
    /// or that sits inside a never-text element: no text of it is seen).
    pub(crate) fn get(&self, id: NodeId) -> NodeStats {
        if let Some(all) = self.all.get() {
            return all.get(slot(id)).copied().unwrap_or_default();
        }
        if let Some(&stats) = self.asked.borrow().get(&id) {
            return stats;
        }
        let Some(stats) = self.count_one(id) else {
            // Out of budget: the one pass, as for a page asked about everything.
            return self.all().get(slot(id)).copied().unwrap_or_default();
        };
        self.asked.borrow_mut().insert(id, stats);
        stats
    }

    /// What [`one_pass`] gives element `id`, from its ancestors and its
    /// subtree alone; `None` once past the budget.
    fn count_one(&self, id: NodeId) -> Option<NodeStats> {
        let mut budget = self.budget.get();
        let counted = match self.doc.tree.get(id) {
            Some(node) => count_one(node, &mut budget),
            None => Counted::Done(NodeStats::default()),
        };
        self.budget.set(budget);
        match counted {
            Counted::Done(stats) => Some(stats),
            Counted::OutOfBudget => None,
        }
    }

    /// Share of an element's text inside links (1.0 for no text).
    pub(crate) fn link_density(&self, id: NodeId) -> f64 {
        let s = self.get(id);
        if s.text == 0 { 1.0 } else { s.linked as f64 / s.text as f64 }
    }
}

/// A single count's end.
enum Counted {
    Done(NodeStats),
    OutOfBudget,
}

/// One element's statistics as [`one_pass`] counts them: zero unless an
/// element none of whose ancestors is never-text; inside furniture when an
/// ancestor (not html or body) is furniture; its text that of the text
/// nodes of its subtree outside never-text elements, linked when an `<a>`
/// is above them (in the subtree or above it). Each ancestor and subtree
/// edge visited takes one from `budget`.
fn count_one(node: NodeRef<'_, Node>, budget: &mut usize) -> Counted {
    let Some(el) = ElementRef::wrap(node) else { return Counted::Done(NodeStats::default()) };
    let (mut in_furniture, mut in_link) = (false, false);
    for ancestor in node.ancestors() {
        let Some(left) = budget.checked_sub(1) else { return Counted::OutOfBudget };
        *budget = left;
        let Some(a) = ElementRef::wrap(ancestor) else { continue };
        if is_never_text(&a) {
            return Counted::Done(NodeStats::default());
        }
        let name = a.value().name();
        in_furniture = in_furniture || (name != "html" && name != "body" && is_furniture(&a));
        in_link = in_link || name == "a";
    }
    if is_never_text(&el) {
        return Counted::Done(NodeStats::default());
    }
    let mut stats = NodeStats { in_furniture, ..NodeStats::default() };
    let mut link_depth = usize::from(in_link);
    let mut skip = NeverTextSkip::default();
    for edge in node.traverse() {
        let Some(left) = budget.checked_sub(1) else { return Counted::OutOfBudget };
        *budget = left;
        if !skip.visible(&edge) {
            continue;
        }
        match edge {
            Edge::Open(n) => match n.value() {
                Node::Element(e) => {
                    link_depth += usize::from(e.name() == "a");
                }
                Node::Text(t) => {
                    let (chars, commas) = count_text(t);
                    stats.text += chars;
                    if link_depth > 0 {
                        stats.linked += chars;
                    }
                    stats.commas += commas;
                }
                _ => {}
            },
            Edge::Close(n) => {
                if let Node::Element(e) = n.value() {
                    link_depth -= usize::from(e.name() == "a" && link_depth > 0);
                }
            }
        }
    }
    Counted::Done(stats)
}

/// The edges of a traversal outside never-text subtrees (`script`,
/// `style`, ...: [`is_never_text`]): the never-text element's own edges
/// and everything between them are not visible. [`count_one`] and
/// [`one_pass`] read the same text through it.
#[derive(Default)]
struct NeverTextSkip {
    /// The never-text element being skipped.
    skipping: Option<NodeId>,
}

impl NeverTextSkip {
    fn visible(&mut self, edge: &Edge<'_, Node>) -> bool {
        match edge {
            Edge::Open(n) => {
                if self.skipping.is_some() {
                    return false;
                }
                if ElementRef::wrap(*n).is_some_and(|e| is_never_text(&e)) {
                    self.skipping = Some(n.id());
                    return false;
                }
                true
            }
            Edge::Close(n) => {
                if self.skipping == Some(n.id()) {
                    self.skipping = None;
                    return false;
                }
                self.skipping.is_none()
            }
        }
    }
}

/// Every element's statistics, by [`slot`], in one traversal.
fn one_pass(doc: &Html) -> Vec<NodeStats> {
    let mut map = vec![NodeStats::default(); doc.tree.nodes().len()];
    let mut stack: Vec<Open> = Vec::new();
    let (mut furniture_depth, mut link_depth) = (0usize, 0usize);
    let mut skip = NeverTextSkip::default();
    for edge in doc.tree.root().traverse() {
        if !skip.visible(&edge) {
            continue;
        }
        match edge {
            Edge::Open(node) => match node.value() {
                Node::Element(_) => {
                    let Some(el) = ElementRef::wrap(node) else {
                        continue;
                    };
                    let name = el.value().name();
                    let furniture = name != "html" && name != "body" && is_furniture(&el);
                    let link = name == "a";
                    stack.push(Open {
                        id: node.id(),
                        stats: NodeStats { in_furniture: furniture_depth > 0, ..NodeStats::default() },
                        furniture,
                        link,
                    });
                    furniture_depth += usize::from(furniture);
                    link_depth += usize::from(link);
                }
                Node::Text(t) => {
                    if let Some(top) = stack.last_mut() {
                        let (n, commas) = count_text(t);
                        top.stats.text += n;
                        if link_depth > 0 {
                            top.stats.linked += n;
                        }
                        top.stats.commas += commas;
                    }
                }
                _ => {}
            },
            Edge::Close(node) => {
                if !node.value().is_element() {
                    continue;
                }
                let Some(open) = stack.pop() else { continue };
                furniture_depth -= usize::from(open.furniture && furniture_depth > 0);
                link_depth -= usize::from(open.link && link_depth > 0);
                if let Some(parent) = stack.last_mut() {
                    parent.stats.text += open.stats.text;
                    parent.stats.linked += open.stats.linked;
                    parent.stats.commas += open.stats.commas;
                }
                if let Some(stats) = map.get_mut(slot(open.id)) {
                    *stats = open.stats;
                }
            }
        }
    }
    map
}

/// Whether a char counts as a comma or full stop in [`NodeStats::commas`].
fn is_comma(c: char) -> bool {
    matches!(c, ',' | '，' | '、' | '。')
}

/// A text's visible chars (not `char::is_whitespace`) and its commas and
/// full stops ([`is_comma`]), read from its bytes: every page's text goes
/// through here, and decoding each char to ask it two questions was a
/// fifth of our own extraction work. One step per char, as wide as its
/// first byte says; ASCII is judged by value, and only chars whose first
/// byte starts one of the non-ASCII whitespace chars or commas are decoded
/// (a unit test checks every char against the decoding count).
fn count_text(t: &str) -> (usize, usize) {
    let bytes = t.as_bytes();
    let (mut visible, mut commas, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        let width = match b {
            0..=0x7F => {
                visible += usize::from(!matches!(b, b'\t'..=b'\r' | b' '));
                commas += usize::from(b == b',');
                i += 1;
                continue;
            }
            0x80..=0xDF => 2,
            0xE0..=0xEF => 3,
            _ => 4,
        };
        // U+0085 and U+00A0 (0xC2); U+1680, U+2000–U+205F, U+3000 and
        // '、' '。' (0xE1–0xE3); '，' (0xEF).
        if matches!(b, 0xC2 | 0xE1..=0xE3 | 0xEF) {
            let c = t.get(i..).and_then(|rest| rest.chars().next()).unwrap_or('x');
            visible += usize::from(!c.is_whitespace());
            commas += usize::from(is_comma(c));
        } else {
            visible += 1;
        }
        i += width;
    }
    (visible, commas)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `count_text` replaced: each char decoded and asked.
    fn by_chars(t: &str) -> (usize, usize) {
        let n = t.chars().filter(|c| !c.is_whitespace()).count();
        (n, t.chars().filter(|&c| is_comma(c)).count())
    }

    #[test]
    fn a_node_id_slot_is_its_place_in_the_arena() {
        let doc = Html::parse_document(include_str!("../../tests/fixtures/pages/portal.html"));
        let slots: Vec<usize> = doc.tree.nodes().map(|n| slot(n.id())).collect();
        assert!(slots.len() > 100);
        assert!(slots.iter().enumerate().all(|(i, &s)| i == s), "{slots:?}");
    }

    /// Pages whose elements' statistics the two ways of counting must
    /// agree on: the fixtures, and the shapes that decide a count (links
    /// inside links and around blocks, never-text elements above and
    /// inside, furniture above, template contents, foreign content).
    fn stat_pages() -> Vec<String> {
        let mut pages: Vec<String> = [
            include_str!("../../tests/fixtures/pages/portal.html"),
            include_str!("../../tests/fixtures/pages/zhihu-answer.html"),
            include_str!("../../tests/fixtures/pages/forum-thread.html"),
            include_str!("../../tests/fixtures/pages/weibo-post.html"),
            include_str!("../../tests/fixtures/pages/wechat.html"),
            include_str!("../../tests/fixtures/pages/blog.html"),
            include_str!("../../tests/fixtures/pages/qa.html"),
        ]
        .map(str::to_owned)
        .into();
        pages.push(
            r#"<html><body class="sidebar">x<a href=/>链接<div>块，文<b>字</b></div><a>内层</a>尾</a>
               <nav><div class="content"><p>导航里，的段落。</p></div></nav>
               <noscript><div class="content"><p>看不见的，段落</p></div></noscript>
               <template><p>模板，内容</p></template><svg><a><text>图</text></a></svg>
               <div id="comments"><ul><li><a>评论</a>，回复</li></ul></div>
               <table><tr><td>格,子<script>var a = "脚本，";</script></td></tr></table>
               <object><p>对象</p></object><p>正文、句子。<style>p{}</style>完</p></body></html>"#
                .to_owned(),
        );
        pages
    }

    #[test]
    fn an_element_counted_alone_is_counted_as_in_the_one_pass() {
        for page in stat_pages() {
            let doc = Html::parse_document(&page);
            let all = PageStats::compute(&doc);
            let ids: Vec<NodeId> = doc.tree.nodes().map(|n| n.id()).collect();
            // Each node asked first, of statistics nothing was counted for.
            for &id in &ids {
                let alone = PageStats::new(&doc);
                let (a, b) = (alone.get(id), all.get(id));
                assert_eq!(
                    (a.text, a.linked, a.commas, a.in_furniture),
                    (b.text, b.linked, b.commas, b.in_furniture),
                    "{:?}",
                    doc.tree.get(id).map(|n| n.value().clone())
                );
            }
            // All of them asked of one: past the budget, the one pass answers.
            let one = PageStats::new(&doc);
            for &id in ids.iter().rev() {
                let (a, b) = (one.get(id), all.get(id));
                assert_eq!((a.text, a.linked, a.commas, a.in_furniture), (b.text, b.linked, b.commas, b.in_furniture));
            }
            assert!(one.all.get().is_some(), "every element asked of one page runs the one pass");
        }
    }

    #[test]
    fn an_article_container_is_counted_without_the_one_pass() {
        let doc = Html::parse_document(include_str!("../../tests/fixtures/pages/portal.html"));
        let stats = PageStats::new(&doc);
        let index = super::super::select::Index::new(&doc);
        let roots = super::super::main_text::auto_roots(&index, &stats);
        assert!(!roots.is_empty());
        assert!(stats.all.get().is_none(), "the one pass ran for a page with a container");
        assert!(stats.budget.get() > 0);
    }

    #[test]
    fn single_counts_on_deep_nesting_stay_within_the_budget() {
        // 5,000 nested divs: each one's subtree and ancestors is the whole
        // page; counted one by one that is 25 million visits.
        let depth = 5_000;
        let html = format!("{}x，y{}", "<div>".repeat(depth), "</div>".repeat(depth));
        let doc = Html::parse_document(&html);
        let stats = PageStats::new(&doc);
        let divs: Vec<NodeId> = doc
            .tree
            .nodes()
            .filter(|n| n.value().as_element().is_some_and(|e| e.name() == "div"))
            .map(|n| n.id())
            .collect();
        assert_eq!(divs.len(), depth);
        for id in &divs {
            assert_eq!(stats.get(*id).text, 3);
        }
        assert!(stats.all.get().is_some(), "the single counts ran out of budget and the one pass answered");
    }

    #[test]
    fn counting_bytes_agrees_with_counting_chars() {
        let all: Vec<char> = (0..=0x10FFFF).filter_map(char::from_u32).collect();
        for &c in &all {
            let s = format!("a{c}b{c}{c} ");
            assert_eq!(count_text(&s), by_chars(&s), "{c:?}");
        }
        // Mixed texts drawn from the chars that matter and their neighbours.
        let alphabet: Vec<char> = all
            .iter()
            .copied()
            .filter(|&c| c.is_whitespace() || is_comma(c) || c.is_ascii() || (c.len_utf8() > 1 && c.is_alphabetic()))
            .collect();
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let len = rng.below(60);
            let s: String = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            assert_eq!(count_text(&s), by_chars(&s), "{s:?}");
        }
        assert_eq!(count_text(""), (0, 0));
        assert_eq!(count_text(" 据了解，模型\u{3000}发布。\u{a0}x, y、"), (13, 4));
    }
}
