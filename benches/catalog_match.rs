//! Matching 5,000 aliases over 1 MB of mixed Chinese/English text, and the
//! shipped catalog (catalog.toml + landscape.toml) over 1 MB of news-like
//! text full of versions. Before measuring, prints the evaluation set's
//! figures (tests/fixtures/catalog-eval). `analyse_shipped_bench_pages_1mb`
//! is the article text `scripts/bench` analyses.
//!
//! Run bounded (2 shared cores): `cargo bench --bench catalog_match --
//! --warm-up-time 1 --measurement-time 3 --sample-size 10`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::path::Path;

use modelwatch::catalog::eval::{evaluate, parse_cases};
use modelwatch::catalog::seed::parse_seed_over;
use modelwatch::catalog::{Alias, Catalog, Matcher, Model, ModelKind, Vendor, analyse, parse_seed};

#[path = "support/catalog_corpus.rs"]
mod catalog_corpus;
use catalog_corpus::{bench_pages, chinese_news, news};

fn read(path: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// catalog.toml with landscape.toml over it, as `init` loads them.
fn shipped() -> Catalog {
    let seed = parse_seed(&read("config/catalog.toml")).unwrap_or_else(|e| panic!("{e}"));
    let landscape = parse_seed_over(&read("config/landscape.toml"), &seed.catalog).unwrap_or_else(|e| panic!("{e}"));
    let mut c = seed.catalog;
    landscape.apply_to(&mut c);
    c
}

/// The evaluation set's figures, printed once before measuring.
fn print_evaluation(matcher: &Matcher) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/catalog-eval");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).map(|d| d.filter_map(|e| e.ok()).map(|e| e.path()).collect()).unwrap_or_default();
    files.sort();
    let mut cases = Vec::new();
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "toml")) {
        let text = std::fs::read_to_string(f).unwrap_or_default();
        cases.extend(parse_cases(&text).unwrap_or_else(|e| panic!("{}: {e}", f.display())));
    }
    let report = evaluate(matcher, &cases);
    let summary = report.to_string();
    eprintln!("evaluation set: {}", summary.lines().last().unwrap_or_default());
}

/// 5,000 aliases: 100 vendors × (1 vendor alias + 49 model aliases), Latin
/// and CJK, with shared prefixes so longest-match resolution is exercised.
fn catalog() -> Catalog {
    let mut c = Catalog::default();
    for v in 0..100 {
        let vendor = format!("厂商{v}");
        c.vendors.push(Vendor::new(&vendor, &[&vendor]));
        for m in 0..49 {
            let text = if m % 2 == 0 { format!("Model{v}x{m}") } else { format!("模型{v}号{m}") };
            c.models.push(Model {
                name: text.clone(),
                vendor: Some(vendor.clone()),
                kind: ModelKind::Model,
                family: None,
                version: None,
                retired: false,
                aliases: vec![Alias::new(text)],
                ..Model::default()
            });
        }
    }
    c
}

/// ~1 MB of article-like text with a mention every few sentences.
fn text() -> String {
    let mut s = String::with_capacity(1 << 20);
    let mut i = 0usize;
    while s.len() < 1 << 20 {
        let v = i % 100;
        let m = (i * 7) % 49;
        let name = if m.is_multiple_of(2) { format!("Model{v}x{m}") } else { format!("模型{v}号{m}") };
        s.push_str(&format!(
            "据报道，厂商{v}于2023年3月{}日发布{name}，参数量为{}亿。The release notes say it beats earlier systems. ",
            i % 28 + 1,
            i % 2000 + 1
        ));
        i += 1;
    }
    s
}

fn bench(c: &mut Criterion) {
    let catalog = catalog();
    let text = text();
    let matcher = match Matcher::new(&catalog) {
        Ok(m) => m,
        Err(e) => panic!("matcher: {e}"),
    };
    assert_eq!(matcher.pattern_count(), 5000);
    let mut g = c.benchmark_group("catalog");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("build_5000_aliases", |b| b.iter(|| Matcher::new(black_box(&catalog)).map(|m| m.pattern_count())));
    g.bench_function("match_5000_aliases_1mb", |b| b.iter(|| matcher.find(black_box(&text)).len()));
    g.bench_function("analyse_1mb", |b| b.iter(|| analyse(&matcher, black_box(&text)).mentions.len()));
    g.finish();

    let shipped = shipped();
    let matcher = Matcher::new(&shipped).unwrap_or_else(|e| panic!("matcher: {e}"));
    print_evaluation(&matcher);
    let news = news();
    eprintln!(
        "shipped catalog: {} vendors, {} models, {} aliases; text {} bytes",
        shipped.vendors.len(),
        shipped.models.len(),
        matcher.pattern_count(),
        news.len()
    );
    let mut g = c.benchmark_group("catalog_shipped");
    g.throughput(Throughput::Bytes(news.len() as u64));
    g.bench_function("build_shipped", |b| b.iter(|| Matcher::new(black_box(&shipped)).map(|m| m.pattern_count())));
    g.bench_function("match_shipped_1mb", |b| b.iter(|| matcher.find(black_box(&news)).len()));
    g.bench_function("analyse_shipped_1mb", |b| b.iter(|| analyse(&matcher, black_box(&news)).mentions.len()));
    let zh = chinese_news();
    g.throughput(Throughput::Bytes(zh.len() as u64));
    g.bench_function("match_shipped_zh_news_1mb", |b| b.iter(|| matcher.find(black_box(&zh)).len()));
    g.bench_function("analyse_shipped_zh_news_1mb", |b| b.iter(|| analyse(&matcher, black_box(&zh)).mentions.len()));
    let pages = bench_pages();
    g.throughput(Throughput::Bytes(pages.len() as u64));
    g.bench_function("analyse_shipped_bench_pages_1mb", |b| {
        b.iter(|| analyse(&matcher, black_box(&pages)).mentions.len())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
