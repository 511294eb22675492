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

use std::path::Path;

use modelwatch::catalog::seed::parse_seed_over;
use modelwatch::catalog::{Catalog, Matcher, analyse, parse_seed};

fn read(path: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))?)
}

/// catalog.toml with landscape.toml over it, as `init` loads them.
fn shipped() -> anyhow::Result<Catalog> {
    let seed = parse_seed(&read("config/catalog.toml")?)?;
    let landscape = parse_seed_over(&read("config/landscape.toml")?, &seed.catalog)?;
    let mut catalog = seed.catalog;
    landscape.apply_to(&mut catalog);
    Ok(catalog)
}

fn main() -> anyhow::Result<()> {
    let matcher = Matcher::new(&shipped()?)?;
    pages::print_each(|e| Ok(serde_json::to_string(&analyse(&matcher, &e.text))?))
}
