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

/// The shipped landscape: every entry has its evidence page, every model a
/// vendor, and it is big enough to matter (issue 11).
#[test]
fn the_shipped_landscape_is_complete() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = parse_seed(&std::fs::read_to_string(root.join("config/catalog.toml")).unwrap()).unwrap();
    let text = std::fs::read_to_string(root.join("config/landscape.toml")).unwrap();
    let landscape = parse_seed_over(&text, &seed.catalog).unwrap();
    assert_eq!(landscape.origin, super::Origin::Reference);
    for v in &landscape.catalog.vendors {
        assert!(v.evidence_url.as_deref().is_some_and(|u| u.starts_with("https://")), "{}", v.name);
    }
    for m in &landscape.catalog.models {
        assert!(m.vendor.is_some(), "{}", m.name);
        assert!(m.evidence_url.as_deref().is_some_and(|u| u.starts_with("https://")), "{}", m.name);
    }
    let catalog = shipped_catalog();
    assert!(catalog.vendors.len() >= 40 && catalog.models.len() >= 150);
    let families = catalog.models.iter().filter(|m| catalog.versions_of(&m.name).next().is_some()).count();
    assert!(families >= 20, "{families}");
}

/// The landscape names catalog.toml's vendors and families and may not
/// redefine them; a reference entry without its page is refused.
#[test]
fn a_landscape_is_validated_over_its_base() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let seed = parse_seed(&std::fs::read_to_string(root.join("config/catalog.toml")).unwrap()).unwrap();
    let text = r#"
        [document]
        name = "landscape.toml"
        observed_at = "2025-12-31"
        origin = "reference"

        [[vendor]]
        name = "百度"
        evidence_url = "https://example.com"

        [[model]]
        name = "Qwen9-1B"
        vendor = "阿里巴巴"
        kind = "model"
        family = "通义千问"
        version = "9-1B"

        [[model]]
        name = "Foo"
        vendor = "Nobody"
        kind = "model"
        family = "Bar"
        version = "1"
        evidence_url = "ftp://x"

        [[alias]]
        entity = "文心一言"
        kind = "model"
        aliases = ["Qwen"]
    "#;
    let Err(super::SeedError::Invalid(problems)) = parse_seed_over(text, &seed.catalog) else {
        panic!("expected problems")
    };
    let messages: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.at, p.message)).collect();
    assert_eq!(
        messages,
        vec![
            "vendor \"百度\": is already in the catalog it builds on (add aliases with [[alias]])",
            "model \"Qwen9-1B\": a reference entry needs an `evidence_url`",
            "model \"Foo\": evidence_url \"ftp://x\" is not an http(s) URL",
            "model \"Foo\": vendor \"Nobody\" is not declared (declare vendors before models)",
            "model \"Foo\": family \"Bar\" names no family model",
            "model 文心一言: alias \"Qwen\" already names model 通义千问",
        ]
    );
}

/// A chat model is tuned from its base and is another model: the base's
/// entry may not take the chat model's name as an alias
/// (`InternLM2.5-7B-Chat` is a new version of InternLM, not InternLM2.5-7B).
#[test]
fn a_chat_model_is_not_an_alias_of_its_base() {
    let matcher = Matcher::new(&shipped_catalog()).unwrap();
    let text = "Added InternLM2.5-7B-Chat; the base InternLM2.5-7B stays.";
    let found: Vec<(String, &str, bool)> = matcher
        .find(text)
        .iter()
        .map(|m| (matcher.entity(m.entity).unwrap().name.clone(), &text[m.start..m.end], m.new_version))
        .collect();
    assert_eq!(
        found,
        vec![
            ("InternLM".to_owned(), "InternLM2.5-7B-Chat", true),
            ("InternLM2.5-7B".to_owned(), "InternLM2.5-7B", false),
        ]
    );
}
