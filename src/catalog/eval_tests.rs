//! The labelled evaluation set against the shipped catalog and landscape:
//! mention precision ≥ 0.95, recall ≥ 0.90, fact precision ≥ 0.90.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use super::eval::{Case, evaluate, parse_cases};
use super::seed::parse_seed_over;
use super::{Catalog, Matcher, parse_seed};

/// catalog.toml with landscape.toml over it, as `init` loads them.
pub(crate) fn shipped_catalog() -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = parse_seed(&std::fs::read_to_string(root.join("config/catalog.toml")).unwrap()).unwrap();
    let text = std::fs::read_to_string(root.join("config/landscape.toml")).unwrap();
    let landscape = parse_seed_over(&text, &seed.catalog).unwrap_or_else(|e| panic!("{e}"));
    let mut catalog = seed.catalog;
    landscape.apply_to(&mut catalog);
    catalog
}

pub(crate) fn eval_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog-eval");
    let mut files: Vec<_> = std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).collect();
    files.sort();
    let mut cases = Vec::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(f).unwrap();
        cases.extend(parse_cases(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    cases
}

#[test]
fn the_evaluation_set_meets_its_targets() {
    let cases = eval_cases();
    assert!(cases.len() >= 80, "{} cases", cases.len());
    let mut ids: Vec<&str> = cases.iter().map(|c| c.id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), cases.len(), "case ids are unique");
    let matcher = Matcher::new(&shipped_catalog()).unwrap();
    let report = evaluate(&matcher, &cases);
    println!("{report}");
    assert!(report.precision() >= 0.95, "mention precision {:.3}", report.precision());
    assert!(report.recall() >= 0.90, "mention recall {:.3}", report.recall());
    assert!(report.fact_precision() >= 0.90, "fact precision {:.3}", report.fact_precision());
}
