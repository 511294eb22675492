//! The work an HTML page may cost, judged before the tree builder sees it.
//!
//! html5ever's tree builder walks its stack of open elements for many start
//! tags (scope checks), so its time grows with the square of the nesting
//! depth: 100k nested elements cost 19 s of CPU, 200k cost 155 s, and a
//! 10 MiB body could hold hours. Its tokenizer is linear, so we tokenize
//! first, keep an approximate stack of open elements, and refuse a page
//! whose nesting or whose summed depth (the tree builder's walking work)
//! is past what any real page needs. The approximation leans lenient:
//! elements that close themselves implicitly (`<p>`, `<li>`, `<td>` …) are
//! closed by a sibling, and an end tag closes the nearest open element of
//! its name, so sloppy real pages are never refused.

use std::cell::Cell;
use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{
    BufferQueue, EndTag, StartTag, TagToken, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts,
};

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

/// Elements that never have children.
fn is_void(name: &str) -> bool {
    matches!(
        name,
        "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "param"
            | "keygen"
            | "basefont"
            | "bgsound"
            | "frame"
            | "image"
    )
}

/// Elements that a following sibling of the same kind closes.
fn closes_sibling(name: &str) -> bool {
    matches!(
        name,
        "p" | "li"
            | "dt"
            | "dd"
            | "option"
            | "optgroup"
            | "tr"
            | "td"
            | "th"
            | "tbody"
            | "thead"
            | "tfoot"
            | "rb"
            | "rt"
            | "rp"
            | "a"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
    )
}

/// How far back an implicit close or an end tag looks for its element.
const LOOKBACK: usize = 64;

struct DepthSink {
    stack: RefCell<Vec<String>>,
    work: Cell<u64>,
    error: Cell<Option<BudgetError>>,
}

impl DepthSink {
    /// Pops to the nearest open `name` within the lookback; false if none.
    fn close(&self, name: &str) -> bool {
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
}

impl TokenSink for DepthSink {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let TagToken(tag) = token else {
            return TokenSinkResult::Continue;
        };
        let name: &str = &tag.name;
        match tag.kind {
            EndTag => {
                self.close(name);
                TokenSinkResult::Continue
            }
            StartTag => {
                if closes_sibling(name) {
                    self.close(name);
                }
                if is_void(name) || tag.self_closing {
                    return TokenSinkResult::Continue;
                }
                let depth = {
                    let mut stack = self.stack.borrow_mut();
                    stack.push(name.to_owned());
                    stack.len()
                };
                let work = self.work.get().saturating_add(depth as u64);
                self.work.set(work);
                if depth > MAX_DEPTH {
                    self.error.set(Some(BudgetError::TooDeep { limit: MAX_DEPTH }));
                    // Pausing as if for a script stops the tokenizer here.
                    return TokenSinkResult::Script(());
                }
                if work > MAX_WORK {
                    self.error.set(Some(BudgetError::TooMuchWork { limit: MAX_WORK }));
                    return TokenSinkResult::Script(());
                }
                // The tree builder switches these to raw text; without it
                // the tokenizer would read `<` in a script as tags.
                match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "xmp" | "iframe" | "noembed" | "noframes" => TokenSinkResult::RawData(RawKind::Rawtext),
                    "title" | "textarea" => TokenSinkResult::RawData(RawKind::Rcdata),
                    "plaintext" => TokenSinkResult::Plaintext,
                    _ => TokenSinkResult::Continue,
                }
            }
        }
    }
}

/// Refuses a page whose parse would cost more than any real page needs.
/// Linear in the size of `html`.
pub fn check(html: &str) -> Result<(), BudgetError> {
    let sink = DepthSink { stack: RefCell::new(Vec::new()), work: Cell::new(0), error: Cell::new(None) };
    let tokenizer = Tokenizer::new(sink, TokenizerOpts::default());
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    // `feed` returns at a pause (our refusal) or at the end of the input.
    let _ = tokenizer.feed(&input);
    if let Some(e) = tokenizer.sink.error.take() {
        return Err(e);
    }
    tokenizer.end();
    Ok(())
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
    }
}
