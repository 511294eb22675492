//! Tests over the shipped seed (`config/catalog.toml`) and the real
//! document it was taken from (a copy in `tests/fixtures/`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;

pub(crate) const SEED: &str = include_str!("../../config/catalog.toml");
pub(crate) const DOCUMENT: &str = include_str!("../../tests/fixtures/aigc-industry-notes.md");

pub(crate) fn seed() -> Seed {
    match parse_seed(SEED) {
        Ok(s) => s,
        Err(e) => panic!("{e}"),
    }
}

/// The matcher of the shipped seed, for tests across the crate.
pub(crate) fn seed_matcher() -> Matcher {
    Matcher::new(&seed().catalog).unwrap_or_else(|e| panic!("{e}"))
}

/// The rows of the document's table whose header line starts with `header`.
fn table_rows(header: &str) -> Vec<Vec<String>> {
    let mut lines = DOCUMENT.lines().skip_while(|l| !l.starts_with(header)).skip(2);
    let mut rows = Vec::new();
    for line in lines.by_ref() {
        if !line.starts_with('|') {
            break;
        }
        let cells: Vec<String> = line.trim().trim_matches('|').split('|').map(|c| c.trim().to_owned()).collect();
        rows.push(cells);
    }
    rows
}

fn split_cell(cell: &str) -> Vec<String> {
    cell.split(['、', ' '])
        .map(|s| s.trim().trim_matches('~').to_owned())
        .filter(|s| !s.is_empty() && s != "/")
        .collect()
}

#[test]
fn every_vendor_table_cell_is_in_the_seed() {
    let seed = seed();
    let c = &seed.catalog;
    let mut rows = table_rows("| 公司  | 芯片");
    rows.extend(table_rows("| 公司   | 芯片"));
    assert_eq!(rows.len(), 12, "both vendor tables: 2 foreign + 10 domestic rows");
    for row in rows {
        let vendor = EntityRef::vendor(&row[0]);
        assert!(c.contains(&vendor), "vendor {} missing", row[0]);
        for (col, kind) in [(1, TermKind::Chip), (2, TermKind::Framework)] {
            for name in split_cell(&row[col]) {
                assert!(
                    c.terms.iter().any(|t| t.kind == kind && t.vendor.as_deref() == Some(&row[0]) && t.is_named(&name)),
                    "{kind} {name} of {} missing",
                    row[0]
                );
            }
        }
        let models: Vec<String> = c.facts_of(&vendor, Attribute::AiModel).map(|f| f.value.key()).collect();
        for name in row[3].split('、').map(|s| s.trim_matches('~')) {
            assert!(models.contains(&name.to_owned()), "AI大模型 {name} of {} missing", row[0]);
        }
        for (col, attribute) in [(4, Attribute::ChatgptScenario), (5, Attribute::AigcScenario)] {
            let held: Vec<String> = c.facts_of(&vendor, attribute).map(|f| f.value.key()).collect();
            let want: Vec<String> =
                row[col].split('、').map(|s| s.trim().to_owned()).filter(|s| !s.is_empty()).collect();
            assert_eq!(held, want, "{attribute} of {}", row[0]);
        }
    }
}

#[test]
fn every_gpt_version_row_is_in_the_seed() {
    let seed = seed();
    let rows = table_rows("| 版本");
    assert_eq!(rows.len(), 6);
    for row in rows {
        let name = row[0].trim_matches('*');
        let entity = EntityRef::model(name);
        assert!(seed.catalog.contains(&entity), "{name} missing");
        let date: Vec<String> =
            seed.catalog.facts_of(&entity, Attribute::ReleaseDate).map(|f| f.value.display()).collect();
        let params: Vec<String> =
            seed.catalog.facts_of(&entity, Attribute::Parameters).map(|f| f.value.display()).collect();
        if row[1] == "？" {
            assert!(date.is_empty());
        } else {
            assert_eq!(date, vec![row[1].clone()], "{name} date");
        }
        assert_eq!(params.join(""), row[3], "{name} parameters");
    }
}

#[test]
fn the_named_aliases_resolve_to_their_entities() {
    let seed = seed();
    let m = Matcher::new(&seed.catalog).unwrap();
    let pairs = [
        ("ERNIE Bot", "文心一言"),
        ("Qwen", "通义千问"),
        ("Tongyi Qianwen", "通义千问"),
        ("SenseChat", "商量"),
        ("SenseNova", "日日新"),
        ("Spark", "讯飞星火认知大模型"),
        // Also everyday words: named in quotes, not bare (ambiguous_aliases).
        ("“星火”", "讯飞星火认知大模型"),
        ("星火", ""),
        ("PanGu", "盘古大模型"),
        ("「盘古」", "盘古大模型"),
        ("盘古", ""),
        ("Hunyuan", "混元大模型"),
        ("混元", ""),
        ("“混元”", "混元大模型"),
        ("文心千帆", "文心千帆"),
        ("MindSpore", ""),
    ];
    for (alias, want) in pairs {
        let text = format!("据报道，{alias} 有新进展。");
        let got: Vec<String> = m.find(&text).iter().map(|x| m.entity(x.entity).unwrap().name.clone()).collect();
        let want: Vec<String> = if want.is_empty() { vec![] } else { vec![want.to_owned()] };
        assert_eq!(got, want, "alias {alias}");
    }
    let kinds: Vec<ModelKind> =
        ["文心一言", "文心-NLP大模型", "文心千帆"].iter().map(|n| seed.catalog.model(n).unwrap().kind).collect();
    assert_eq!(kinds, vec![ModelKind::Product, ModelKind::Model, ModelKind::Platform]);
}

#[test]
fn the_timeline_and_dated_events_are_in_the_seed() {
    let seed = seed();
    let dated: Vec<String> = seed
        .catalog
        .facts
        .iter()
        .filter_map(|f| match (&f.value, f.as_of) {
            (FactValue::Date(d), _) => Some(format!("{} {} {}", d.key(), f.entity.name, f.attribute)),
            (_, Some(d)) => Some(format!("{} {} {}", d.key(), f.entity.name, f.attribute)),
            _ => None,
        })
        .collect();
    for want in [
        "2023-03-16 文心一言 release_date",
        "2023-04-07 通义千问 release_date",
        "2023-04-10 商量 release_date",
        "2023-05-06 讯飞星火认知大模型 release_date",
        "2022-11-30 ChatGPT release_date",
        "2015-12-11 OpenAI founded",
        "2021-04 盘古大模型 release_date",
        "2017-06 Transformer release_date",
        "2023-02 微软 event",
        "2018 微软 event",
        "2020-09-22 GPT-3 event",
    ] {
        assert!(dated.iter().any(|d| d == want), "{want} missing from {dated:#?}");
    }
}

/// The rules, run over the document itself, read only values the seed
/// already holds and find no unknown models: no noise from the source the
/// catalog was built from.
#[test]
fn analysing_the_document_agrees_with_the_seed() {
    let seed = seed();
    let m = Matcher::new(&seed.catalog).unwrap();
    let a = analyse(&m, DOCUMENT);
    assert!(a.candidates.is_empty(), "{:#?}", a.candidates);
    assert!(a.proposed_facts.len() >= 10);
    for f in &a.proposed_facts {
        let held = seed.catalog.facts_of(&f.entity, f.attribute).any(|s| s.value.key() == f.value.key());
        assert!(held, "{} {} {} not in the seed ({})", f.entity, f.attribute, f.value.key(), f.sentence);
    }
    // Every vendor of the tables and every model of the timeline is mentioned.
    for name in ["文心一言", "通义千问", "商量", "讯飞星火认知大模型", "GPT-4", "盘古大模型"] {
        assert!(a.mentions.iter().any(|x| x.entity == EntityRef::model(name) && x.direct > 0), "{name}");
    }
    let openai = a.mentions.iter().find(|x| x.entity == EntityRef::vendor("OpenAI")).unwrap();
    assert!(openai.count > openai.direct, "model mentions count for their vendor");
}

#[test]
fn markdown_export_reproduces_the_gpt_table_rows() {
    let seed = seed();
    let md = export::markdown(&seed.catalog);
    for row in table_rows("| 版本") {
        let want = format!("| {} | {} |", row[0].trim_matches('*'), row[1]);
        assert!(md.contains(&want), "{want}");
        let line = md.lines().find(|l| l.starts_with(&want)).unwrap();
        assert!(line.ends_with(&format!("| {} |", row[3]).replace("|  |", "| |")) || row[3].is_empty(), "{line}");
    }
    insta::assert_snapshot!("seed_export_markdown", md);
}

#[test]
fn json_and_csv_exports_carry_every_fact() {
    let seed = seed();
    let json: serde_json::Value = serde_json::from_str(&export::json(&seed.catalog).unwrap()).unwrap();
    let n: usize = ["vendors", "models"]
        .iter()
        .flat_map(|k| json[k].as_array().unwrap())
        .map(|e| e["facts"].as_array().unwrap().len())
        .sum();
    assert_eq!(n, seed.catalog.facts.len());
    let gpt3 = json["models"].as_array().unwrap().iter().find(|m| m["name"] == "GPT-3").unwrap();
    let params = gpt3["facts"].as_array().unwrap().iter().find(|f| f["attribute"] == "parameters").unwrap();
    assert_eq!((params["value"].as_str(), params["value_key"].as_str()), (Some("1750亿"), Some("175000000000")));
    let csv = export::csv(&seed.catalog);
    let mut in_quotes = false;
    let mut records = 0;
    for c in csv.chars() {
        match c {
            '"' => in_quotes = !in_quotes,
            '\n' if !in_quotes => records += 1,
            _ => {}
        }
    }
    assert_eq!(records, seed.catalog.facts.len() + 1, "header + one record per fact");
    assert!(csv.contains("\"无监督学习。包括预训练+FineTuning两阶段"), "multi-line fields are quoted");
    assert!(csv.contains("model,GPT-4,release_date,2023-3,2023-03,date,month,,"));
}
