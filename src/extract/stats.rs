//! Per-element text statistics, computed in one pass over the page.
//!
//! Root choice and list detection need "how much text is in here, how much
//! of it is links, is it inside a sidebar" for many elements; asking each
//! element's subtree or ancestors separately is quadratic on deep or large
//! pages (50 000 nested divs took a minute). One iterative traversal answers
//! all of it.

use ego_tree::NodeId;
use ego_tree::iter::Edge;
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

/// Keyed by node id with FxHash: asked for most elements of the page, and a
/// node id is a small integer the default SipHash takes ten times as long to hash.
pub(crate) struct PageStats(FxHashMap<NodeId, NodeStats>);

struct Open {
    id: NodeId,
    stats: NodeStats,
    furniture: bool,
    link: bool,
}

impl PageStats {
    pub(crate) fn compute(doc: &Html) -> Self {
        let mut map = FxHashMap::default();
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
                    map.insert(open.id, open.stats);
                }
            }
        }
        PageStats(map)
    }

    pub(crate) fn get(&self, id: NodeId) -> NodeStats {
        self.0.get(&id).copied().unwrap_or_default()
    }

    /// Share of an element's text inside links (1.0 for no text).
    pub(crate) fn link_density(&self, id: NodeId) -> f64 {
        let s = self.get(id);
        if s.text == 0 { 1.0 } else { s.linked as f64 / s.text as f64 }
    }
}

/// The visible chars (not `char::is_whitespace`) and the commas and full
/// stops (`,` `，` `、` `。`) of a text node, as a walk over its chars
/// counts them, in passes over its bytes the compiler turns into vector
/// code: every text node of every page goes through here, and decoding
/// each char of a Chinese page cost more than the rest of the statistics.
///
/// A char starts at every byte that is not a UTF-8 continuation byte. The
/// whitespace chars are the six ASCII ones and eleven sequences from U+0085
/// on; those and the three CJK marks are told apart by their bytes, which
/// no other char's sequence holds at a char's start.
fn count_text(t: &str) -> (usize, usize) {
    let b = t.as_bytes();
    let (mut starts, mut spaces, mut commas) = (0usize, 0usize, 0usize);
    for &x in b {
        starts += usize::from((x as i8) >= -0x40);
        spaces += usize::from(matches!(x, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' '));
        commas += usize::from(x == b',');
    }
    if starts == b.len() {
        return (starts - spaces, commas);
    }
    // Two-byte whitespace: U+0085 (C2 85), U+00A0 (C2 A0).
    let (next, after) = (b.get(1..).unwrap_or_default(), b.get(2..).unwrap_or_default());
    spaces += b.iter().zip(next).filter(|&(&x, &y)| x == 0xC2 && (y == 0x85 || y == 0xA0)).count();
    // Three-byte sequences: U+1680 (E1 9A 80), U+2000–U+200A (E2 80 80–8A),
    // U+2028, U+2029, U+202F (E2 80 A8, A9, AF), U+205F (E2 81 9F), U+3000
    // (E3 80 80) are whitespace; U+3001 、 and U+3002 。 (E3 80 81, 82) and
    // U+FF0C ， (EF BC 8C) are commas and stops.
    for ((&x, &y), &z) in b.iter().zip(next).zip(after) {
        let space = (x == 0xE1 && y == 0x9A && z == 0x80)
            || (x == 0xE2 && y == 0x80 && (z <= 0x8A || z == 0xA8 || z == 0xA9 || z == 0xAF))
            || (x == 0xE2 && y == 0x81 && z == 0x9F)
            || (x == 0xE3 && y == 0x80 && z == 0x80);
        let comma = (x == 0xE3 && y == 0x80 && (z == 0x81 || z == 0x82)) || (x == 0xEF && y == 0xBC && z == 0x8C);
        spaces += usize::from(space);
        commas += usize::from(comma);
    }
    (starts - spaces, commas)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// What the counts are defined as: a walk over the chars.
    fn by_chars(t: &str) -> (usize, usize) {
        let (mut n, mut commas) = (0, 0);
        for c in t.chars() {
            n += usize::from(!c.is_whitespace());
            commas += usize::from(matches!(c, ',' | '，' | '、' | '。'));
        }
        (n, commas)
    }

    #[test]
    fn every_char_counts_as_a_walk_over_chars_counts_it() {
        for c in (0..=u32::from(char::MAX)).filter_map(char::from_u32) {
            let alone = c.to_string();
            assert_eq!(count_text(&alone), by_chars(&alone), "{c:?} (U+{:04X})", u32::from(c));
            // Beside the marks' and the spaces' own bytes, so no sequence
            // is matched across two chars.
            let around = format!("\u{3000}{c}。{c}\u{a0}");
            assert_eq!(count_text(&around), by_chars(&around), "{c:?} (U+{:04X}) in a run", u32::from(c));
        }
    }

    #[test]
    fn mixed_text_counts_as_a_walk_over_chars_counts_it() {
        let pieces = [
            "智谱", "，", "、", "。", ",", " ", "\t", "\n", "\u{3000}", "\u{a0}", "\u{85}", "\u{2009}", "\u{202f}",
            "\u{205f}", "\u{1680}", "\u{2028}", "GLM-4.5", "ｅ", "…", "\u{200b}", "—", "ー", "〇",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x0c0f_fee5_7a75_0001);
        for _ in 0..20_000 {
            let t: String = (0..rng.below(16)).map(|_| pieces[rng.below(pieces.len())]).collect();
            assert_eq!(count_text(&t), by_chars(&t), "{t:?}");
        }
        assert_eq!(count_text(""), (0, 0));
        assert_eq!(count_text("智谱发布了GLM-4.5，参数3550亿。"), (21, 2));
    }
}
