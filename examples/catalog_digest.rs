//! One line per HTML file: its path and the catalog analysis of its
//! extracted text (mentions, proposed facts, candidates, new versions) as
//! JSON, with the shipped catalog (`config/catalog.toml` with
//! `config/landscape.toml` over it, as `init` loads them) and stop list.
//! The page is decoded and extracted as `examples/extract_digest` does.
//!
//! The analysis must not change when its code is made faster, so such a
//! change is checked by running this before and after over the same pages
//! and comparing:
//!
//! ```text
//! python3 scripts/bench_pages.py --out /tmp/pages --pages 2000
//! cargo run --release --example catalog_digest -- /tmp/pages > after.txt
//! diff before.txt after.txt
//! ```

mod pages;
mod shipped;

use modelwatch::catalog::{Matcher, analyse};

fn main() -> anyhow::Result<()> {
    let matcher = Matcher::new(&shipped::catalog()?)?;
    pages::print_each(|e| Ok(serde_json::to_string(&analyse(&matcher, &e.text))?))
}
