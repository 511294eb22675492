//! extract + diff on a 200 KB and a 2 MB article page.
//!
//! The pages are the portal fixture grown with distinct paragraphs; the
//! "edited" page changes three numbers, rewrites one sentence and adds a
//! paragraph, as a real edit would. `rewrite` diffs two unrelated 2 MB texts:
//! the case that must stay bounded by the diff deadline.
//!
//! Run bounded on a shared machine:
//! `cargo bench --bench extract_diff -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use modelwatch::diff::{DiffOptions, diff_text};
use modelwatch::extract::{ExtractOptions, extract_page};

const PORTAL: &str = include_str!("../tests/fixtures/pages/portal.html");
const MARK: &str = "<p class=\"article-editor\">";

fn paragraph(i: usize) -> String {
    format!(
        "<p>第{i}段：据<a href=\"/m/{i}\">行业报告</a>统计，截至第{i}季度，国内已备案的生成式人工智能服务达到{}款，\
         其中通用大模型{}款，行业模型覆盖金融、医疗、教育等领域；Model-{i} achieved {}.{} on MMLU \
         with a {}K context window.</p>\n",
        100 + i % 97,
        30 + i % 13,
        70 + i % 29,
        i % 10,
        8 << (i % 5)
    )
}

/// The portal page grown to about `bytes`, and an edited copy.
fn pages(bytes: usize) -> (String, String) {
    let mut body = String::new();
    let mut i = 0;
    while body.len() + PORTAL.len() < bytes {
        body.push_str(&paragraph(i));
        i += 1;
    }
    let old = PORTAL.replacen(MARK, &format!("{body}{MARK}"), 1);
    let mut edited = body.clone();
    for k in [i / 5, i / 2, i * 4 / 5] {
        let p = paragraph(k);
        edited = edited.replacen(&p, &p.replacen("达到", "已达", 1).replacen("款，", "余款，", 1), 1);
    }
    edited.push_str("<p>新增：多家厂商宣布下调API价格，最高降幅达90%。</p>\n");
    let new = PORTAL.replacen(MARK, &format!("{edited}{MARK}"), 1);
    (old, new)
}

fn bench(c: &mut Criterion) {
    let opts = ExtractOptions::default();
    let dopts = DiffOptions::default();
    for (label, size) in [("200KB", 200 * 1024), ("2MB", 2 * 1024 * 1024)] {
        let (old, new) = pages(size);
        let old_text = extract_page(&old, &opts).map(|e| e.text).unwrap_or_default();
        let new_text = extract_page(&new, &opts).map(|e| e.text).unwrap_or_default();
        let change = diff_text(&old_text, &new_text, &dopts);
        eprintln!(
            "{label}: page {} bytes, text {} bytes, change: {:?}",
            new.len(),
            new_text.len(),
            change.map(|c| c.summary)
        );
        let mut group = c.benchmark_group(label);
        group.sample_size(10);
        group.bench_function("extract", |b| b.iter(|| extract_page(black_box(&new), &opts)));
        group.bench_function("diff", |b| b.iter(|| diff_text(black_box(&old_text), &new_text, &dopts)));
        group.bench_function("extract+diff", |b| {
            b.iter(|| {
                let e = extract_page(black_box(&new), &opts).map(|e| e.text).unwrap_or_default();
                diff_text(&old_text, &e, &dopts)
            })
        });
        group.finish();
    }
    // Two unrelated 2 MB texts: every line differs, the deadline bounds it.
    let a: String = (0..60_000).map(|i| format!("旧版第{i}行，内容编号A{}\n", i * 7)).collect();
    let b: String = (0..60_000).map(|i| format!("改版后的第{i}行 B{}\n", i * 13)).collect();
    let mut group = c.benchmark_group("2MB");
    group.sample_size(10);
    group.bench_function("diff rewrite", |bch| bch.iter(|| diff_text(black_box(&a), &b, &dopts)));
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
