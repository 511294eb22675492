//! The work an HTML page may cost, judged while it is parsed.
//!
//! html5ever's tree builder walks its stack of open elements for many start
//! tags (scope checks), so its time grows with the square of the nesting
//! depth: 100k nested elements cost 19 s of CPU, 200k cost 155 s, and a
//! 10 MiB body could hold hours. Its tokenizer is linear, so every tag token
//! is first run through a model of the stack of open elements, and a page
//! whose nesting or whose summed depth (the tree builder's walking work) is
//! past what any real page needs is refused. The model leans lenient:
//! elements that close themselves implicitly (`<p>`, `<li>`, `<td>` …) are
//! closed by a sibling, and an end tag closes the nearest open element of
//! its name, so sloppy real pages are never refused.
//!
//! [`parse`] puts the model between html5ever's tokenizer and its tree
//! builder: each tag reaches the tree builder only once the model has
//! taken it within the limits, and the first tag past them stops the parse
//! (the tokenizer pauses, the input is dropped). So the tree builder sees a
//! prefix of the page whose modelled work is under the limits — what the
//! tokenizer pass that used to run before the parse guaranteed, without
//! tokenizing every page twice (6 % of the CPU of a sweep). The model now
//! reads the tokens the tree builder reads (its raw-text switches, foreign
//! content) rather than an imitation of them. [`check`] is the model alone
//! on a tokenizer, for inputs that are not parsed here.

use std::cell::{Cell, RefCell};

use ego_tree::Tree;
use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, Tag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};
use html5ever::tree_builder::{TreeBuilder, TreeBuilderOpts, TreeSink};
use html5ever::{LocalName, TokenizerResult, local_name};
use scraper::{Html, HtmlTreeSink, Node};

/// Deepest nesting accepted. Browsers flatten past 512 (Blink); real pages
/// stay under 100.
pub const MAX_DEPTH: usize = 1024;
/// Sum of the open-element depth at every start tag: a 500k-cell table at
/// depth 15 is 7.5M; 100k nested elements are 5·10⁹.
pub const MAX_WORK: u64 = 50_000_000;

/// Why a page is refused before parsing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BudgetError {
    #[error("the HTML nests elements deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("the HTML is too costly to parse (element nesting work past {limit})")]
    TooMuchWork { limit: u64 },
}

/// Elements that never have children. Tag names come as atoms: a match of
/// atoms is an integer compare per arm, for every tag of every page.
fn is_void(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("area")
            | local_name!("base")
            | local_name!("br")
            | local_name!("col")
            | local_name!("embed")
            | local_name!("hr")
            | local_name!("img")
            | local_name!("input")
            | local_name!("link")
            | local_name!("meta")
            | local_name!("source")
            | local_name!("track")
            | local_name!("wbr")
            | local_name!("param")
            | local_name!("keygen")
            | local_name!("basefont")
            | local_name!("bgsound")
            | local_name!("frame")
            | local_name!("image")
    )
}

/// Elements that a following sibling of the same kind closes.
fn closes_sibling(name: &LocalName) -> bool {
    matches!(
        *name,
        local_name!("p")
            | local_name!("li")
            | local_name!("dt")
            | local_name!("dd")
            | local_name!("option")
            | local_name!("optgroup")
            | local_name!("tr")
            | local_name!("td")
            | local_name!("th")
            | local_name!("tbody")
            | local_name!("thead")
            | local_name!("tfoot")
            | local_name!("rb")
            | local_name!("rt")
            | local_name!("rp")
            | local_name!("a")
            | local_name!("h1")
            | local_name!("h2")
            | local_name!("h3")
            | local_name!("h4")
            | local_name!("h5")
            | local_name!("h6")
    )
}

/// How far back an implicit close or an end tag looks for its element.
const LOOKBACK: usize = 64;

/// The modelled stack of open elements and the work summed so far.
#[derive(Default)]
struct Model {
    stack: RefCell<Vec<LocalName>>,
    work: Cell<u64>,
    error: Cell<Option<BudgetError>>,
}

impl Model {
    /// Pops to the nearest open `name` within the lookback; false if none.
    fn close(&self, name: &LocalName) -> bool {
        let mut stack = self.stack.borrow_mut();
        let floor = stack.len().saturating_sub(LOOKBACK);
        match stack[floor..].iter().rposition(|n| n == name) {
            Some(i) => {
                stack.truncate(floor + i);
                true
            }
            None => false,
        }
    }

    /// Takes one tag in; false (and the error kept) past a limit.
    fn take(&self, tag: &Tag) -> bool {
        let name = &tag.name;
        match tag.kind {
            EndTag => {
                self.close(&tag.name);
                true
            }
            StartTag => {
                if closes_sibling(name) {
                    self.close(&tag.name);
                }
                if is_void(name) || tag.self_closing {
                    return true;
                }
                let depth = {
                    let mut stack = self.stack.borrow_mut();
                    stack.push(tag.name.clone());
                    stack.len()
                };
                let work = self.work.get().saturating_add(depth as u64);
                self.work.set(work);
                if depth > MAX_DEPTH {
                    self.error.set(Some(BudgetError::TooDeep { limit: MAX_DEPTH }));
                    return false;
                }
                if work > MAX_WORK {
                    self.error.set(Some(BudgetError::TooMuchWork { limit: MAX_WORK }));
                    return false;
                }
                true
            }
        }
    }
}

/// The model alone, switching the tokenizer to raw text where the tree
/// builder would.
struct DepthSink(Model);

impl TokenSink for DepthSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        if !self.0.take(&tag) {
            // Pausing as if for a script stops the tokenizer here.
            return TokenSinkResult::Script(());
        }
        if tag.kind == EndTag || is_void(&tag.name) || tag.self_closing {
            return TokenSinkResult::Continue;
        }
        // The tree builder switches these to raw text; without it the
        // tokenizer would read `<` in a script as tags.
        match &*tag.name {
            "script" => TokenSinkResult::RawData(RawKind::ScriptData),
            "style" | "xmp" | "iframe" | "noembed" | "noframes" => TokenSinkResult::RawData(RawKind::Rawtext),
            "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
            "plaintext" => TokenSinkResult::Plaintext,
            _ => TokenSinkResult::Continue,
        }
    }
}

/// Refuses a page whose parse would cost more than any real page needs.
/// Linear in the size of `html`.
pub fn check(html: &str) -> Result<(), BudgetError> {
    let tokenizer = Tokenizer::new(DepthSink(Model::default()), TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // `feed` returns at a pause (our refusal) or at the end of the input.
    let _ = tokenizer.feed(&input);
    if let Some(e) = tokenizer.sink.0.error.take() {
        return Err(e);
    }
    tokenizer.end();
    Ok(())
}

/// Most nodes a parse sizes its tree for up front (128 bytes each): past
/// it the tree grows as a `Vec` does (4 MiB of nodes). A page of `<` in text
/// must not reserve a node for each.
const MAX_RESERVED_NODES: usize = 1 << 15;

/// The nodes to reserve for `html`'s tree: its `<` count and a quarter
/// (the bench pages have 1.1 nodes per `<`: an element and the text after
/// it for a start tag, none for an end tag). Grown a doubling at a time
/// from one node, the tree's `Vec` was moved a dozen times a page, a
/// tenth of the tree builder's own work.
fn node_capacity(html: &str) -> usize {
    // memchr counts 32 bytes a step; a byte at a time cost more than the
    // tree's growth it saves.
    let tags = memchr::memchr_iter(b'<', html.as_bytes()).count();
    (tags + tags / 4 + 16).min(MAX_RESERVED_NODES)
}

/// A node of the tree scraper builds.
type NodeId = <HtmlTreeSink as TreeSink>::Handle;
type Builder = TreeBuilder<NodeId, HtmlTreeSink>;

/// The tree builder behind the model: a tag past the limits never reaches it.
struct Guarded {
    builder: Builder,
    model: Model,
}

impl TokenSink for Guarded {
    type Handle = NodeId;

    fn process_token(&self, token: Token, line: u64) -> TokenSinkResult<NodeId> {
        if let TagToken(tag) = &token
            && !self.model.take(tag)
        {
            // Paused as if for a script; `parse` stops there.
            return TokenSinkResult::Script(self.builder.sink.get_document());
        }
        self.builder.process_token(token, line)
    }

    fn end(&self) {
        self.builder.end();
    }

    fn adjusted_current_node_present_but_not_in_html_namespace(&self) -> bool {
        self.builder.adjusted_current_node_present_but_not_in_html_namespace()
    }
}

/// Parses a page as [`Html::parse_document`] does, within the budget: the
/// first tag past it stops the parse. Linear in the size of `html` up to
/// the limits.
pub fn parse(html: &str) -> Result<Html, BudgetError> {
    let mut doc = Html::new_document();
    doc.tree = Tree::with_capacity(Node::Document, node_capacity(html));
    let builder = TreeBuilder::new(HtmlTreeSink::new(doc), TreeBuilderOpts::default());
    let tokenizer = Tokenizer::new(Guarded { builder, model: Model::default() }, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // The tokenizer pauses at every `</script>` and `<meta charset>` (fed
    // on, as html5ever's driver does) and at a refusal of the model.
    while !matches!(tokenizer.feed(&input), TokenizerResult::Done) {
        if let Some(e) = tokenizer.sink.model.error.take() {
            return Err(e);
        }
    }
    tokenizer.end();
    Ok(tokenizer.sink.builder.sink.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deep_nesting_is_refused_quickly() {
        let html = format!("<html><body>{}x{}</body></html>", "<div>".repeat(100_000), "</div>".repeat(100_000));
        let t = std::time::Instant::now();
        assert_eq!(check(&html), Err(BudgetError::TooDeep { limit: MAX_DEPTH }));
        assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
    }

    #[test]
    fn sloppy_real_pages_pass() {
        // Thousands of unclosed paragraphs, list items and cells, void
        // elements, and tags inside scripts: shallow in the real tree.
        let mut html =
            String::from("<html><head><script>for(i=0;i<9;i++){document.write('<div>')}</script></head><body>");
        for i in 0..5000 {
            html.push_str(&format!("<p>para {i}<br><img src=x.png><li>item<td>cell"));
        }
        html.push_str("<table>");
        for _ in 0..2000 {
            html.push_str("<tr><td>a<td>b<td>c");
        }
        html.push_str("</table></body></html>");
        assert_eq!(check(&html), Ok(()));
    }

    #[test]
    fn wide_but_costly_nesting_runs_out_of_work() {
        // 1000 levels (allowed) under which 100k elements each cost 1000.
        let html = format!("{}{}", "<div>".repeat(1000), "<span></span>".repeat(100_000));
        assert_eq!(check(&html), Err(BudgetError::TooMuchWork { limit: MAX_WORK }));
        assert_eq!(parse(&html).err(), Some(BudgetError::TooMuchWork { limit: MAX_WORK }));
    }

    #[test]
    fn the_guarded_parse_refuses_deep_nesting_before_the_tree_builder_is_slow() {
        // 200k levels: 155 s in the tree builder unguarded. Refused at the
        // 1025th open element, so the tree builder saw 1024 of them.
        let html = format!("<html><body>{}x{}</body></html>", "<div>".repeat(200_000), "</div>".repeat(200_000));
        assert_eq!(parse(&html).err(), Some(BudgetError::TooDeep { limit: MAX_DEPTH }));
        // Past scripts (where the tree builder pauses the tokenizer) too.
        let html = format!("<script>var a = '<div>';</script>{}", "<b>".repeat(5_000));
        assert_eq!(parse(&html).err(), Some(BudgetError::TooDeep { limit: MAX_DEPTH }));
    }

    #[test]
    fn the_tree_is_reserved_for_the_nodes_a_page_makes_within_a_bound() {
        for page in [
            include_str!("../../tests/fixtures/pages/portal.html"),
            include_str!("../../tests/fixtures/pages/zhihu-answer.html"),
            include_str!("../../tests/fixtures/pages/blog.html"),
        ] {
            let nodes = parse(page).map(|h| h.tree.nodes().count()).unwrap_or_default();
            assert!(nodes > 100 && nodes <= node_capacity(page), "{nodes} nodes, {} reserved", node_capacity(page));
        }
        // `<` in text makes no nodes: never more than the bound reserved.
        assert_eq!(node_capacity(&"a < b ".repeat(1_000_000)), MAX_RESERVED_NODES);
    }

    #[test]
    fn the_guarded_parse_builds_the_tree_parse_document_builds() {
        for page in [
            include_str!("../../tests/fixtures/pages/portal.html"),
            include_str!("../../tests/fixtures/pages/zhihu-answer.html"),
            include_str!("../../tests/fixtures/pages/blog.html"),
            "<p>unclosed<li>items<td>cells<script>document.write('<div>')</script><svg><style><b>x</b></style></svg>",
        ] {
            assert_eq!(parse(page).map(|h| h.html()), Ok(Html::parse_document(page).html()));
        }
    }
}
