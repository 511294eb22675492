//! Per-element text statistics, computed in one pass over the page.
//!
//! Root choice and list detection need "how much text is in here, how much
//! of it is links, is it inside a sidebar" for many elements; asking each
//! element's subtree or ancestors separately is quadratic on deep or large
//! pages (50 000 nested divs took a minute). One iterative traversal answers
//! all of it.

use std::hash::{Hash, Hasher};

use ego_tree::NodeId;
use ego_tree::iter::Edge;
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

/// By node, at the node's place in the tree's arena ([`slot`]): written for
/// every element and asked for most. An FxHash map cost 73 instructions an
/// insert (10.3 M over 150 bench pages, with the map's set-up); nodes are
/// dense, so a slice of all of them is the map.
pub(crate) struct PageStats(Vec<NodeStats>);

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

impl PageStats {
    pub(crate) fn compute(doc: &Html) -> Self {
        let mut map = vec![NodeStats::default(); doc.tree.nodes().len()];
        let mut stack: Vec<Open> = Vec::new();
        let (mut furniture_depth, mut link_depth) = (0usize, 0usize);
        let mut skipping: Option<NodeId> = None;
        for edge in doc.tree.root().traverse() {
            match edge {
                Edge::Open(node) => {
                    if skipping.is_some() {
                        continue;
                    }
                    match node.value() {
                        Node::Element(_) => {
                            let Some(el) = ElementRef::wrap(node) else {
                                continue;
                            };
                            if is_never_text(&el) {
                                skipping = Some(node.id());
                                continue;
                            }
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
                    }
                }
                Edge::Close(node) => {
                    if skipping == Some(node.id()) {
                        skipping = None;
                        continue;
                    }
                    if skipping.is_some() || !node.value().is_element() {
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
        PageStats(map)
    }

    pub(crate) fn get(&self, id: NodeId) -> NodeStats {
        self.0.get(slot(id)).copied().unwrap_or_default()
    }

    /// Share of an element's text inside links (1.0 for no text).
    pub(crate) fn link_density(&self, id: NodeId) -> f64 {
        let s = self.get(id);
        if s.text == 0 { 1.0 } else { s.linked as f64 / s.text as f64 }
    }
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
