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
                                let (mut n, mut commas) = (0, 0);
                                for c in t.chars() {
                                    n += usize::from(!c.is_whitespace());
                                    commas += usize::from(matches!(c, ',' | '，' | '、' | '。'));
                                }
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
