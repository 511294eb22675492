//! One line per HTML file: its path and [`Extracted::digest`] of what
//! extraction returns for it with the default options, the page decoded as
//! the runner decodes one (`Content-Type: text/html`, no charset).
//!
//! Extraction output must not change between releases (a changed text is a
//! spurious change on every user's next check), so a change to the
//! extractor is checked by running this before and after over the same
//! pages and comparing:
//!
//! ```text
//! python3 scripts/bench_pages.py --out /tmp/pages --pages 2000
//! cargo run --release --example extract_digest -- /tmp/pages tests/fixtures/pages > after.txt
//! diff before.txt after.txt
//! ```
//!
//! The fixture pages are pinned the same way by `extract::pinned` (a test).

mod pages;

use modelwatch::extract::{Extracted, soft_gone_reason};

fn main() -> anyhow::Result<()> {
    pages::print_each(|e| {
        let gone = soft_gone_reason(e).map(|r| format!(" soft_gone={r}")).unwrap_or_default();
        Ok(format!("{}{gone}", Extracted::digest(e)))
    })
}
