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

use std::path::{Path, PathBuf};

use modelwatch::catalog::seed::parse_seed_over;
use modelwatch::catalog::{Catalog, Matcher, analyse, parse_seed};
use modelwatch::extract::{ExtractOptions, extract_page};
use modelwatch::fetch::charset;

fn html_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            html_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "html" || e == "htm") {
            out.push(path);
        }
    }
    Ok(())
}

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
    let mut files = Vec::new();
    for dir in std::env::args_os().skip(1) {
        html_files(Path::new(&dir), &mut files)?;
    }
    files.sort();
    let matcher = Matcher::new(&shipped()?)?;
    let opts = ExtractOptions::default();
    for path in &files {
        let body = std::fs::read(path)?;
        let decoded = charset::decode(&body, Some("text/html"), None, Some("127.0.0.1"));
        let line = match extract_page(&decoded.text, &opts) {
            Ok(e) => serde_json::to_string(&analyse(&matcher, &e.text))?,
            Err(e) => format!("error: {e}"),
        };
        println!("{} {line}", path.display());
    }
    Ok(())
}
