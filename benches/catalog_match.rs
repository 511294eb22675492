//! Matching 5,000 aliases over 1 MB of mixed Chinese/English text.
//!
//! Run bounded (2 shared cores): `cargo bench --bench catalog_match --
//! --warm-up-time 1 --measurement-time 3 --sample-size 10`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use modelwatch::catalog::{Alias, Catalog, Matcher, Model, ModelKind, Vendor, analyse};

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
}

criterion_group!(benches, bench);
criterion_main!(benches);
