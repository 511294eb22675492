//! What the catalog examples share: the shipped catalog, as `init` loads it.

use std::path::Path;

use modelwatch::catalog::seed::parse_seed_over;
use modelwatch::catalog::{Catalog, parse_seed};

fn read(path: &str) -> anyhow::Result<String> {
    Ok(std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path))?)
}

/// catalog.toml with landscape.toml over it, as `init` loads them.
pub fn catalog() -> anyhow::Result<Catalog> {
    let seed = parse_seed(&read("config/catalog.toml")?)?;
    let landscape = parse_seed_over(&read("config/landscape.toml")?, &seed.catalog)?;
    let mut catalog = seed.catalog;
    landscape.apply_to(&mut catalog);
    Ok(catalog)
}
