//! `analyse`'s output pinned: the shipped catalog over the bench's texts
//! (the article text `scripts/bench` analyses among them), every case of
//! the evaluation set and a few texts written to reach every rule.
//!
//! What `analyse` returns is stored and mailed: a fact or candidate that
//! comes or goes after an upgrade is a change every user sees. Work on its
//! speed must leave these lines alone; a deliberate change of what it finds
//! updates the snapshot (`cargo insta review`) and says why in its commit.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use super::eval_tests::{eval_cases, shipped_catalog};
use super::{Analysis, Matcher, analyse};

#[path = "../../benches/support/catalog_corpus.rs"]
mod corpus;

/// Texts no fixture has: every rule's shape, mixed, in both languages.
const WRITTEN: &[(&str, &str)] = &[
    (
        "figures_zh",
        "2023年3月16日，百度正式发布文心一言，参数量为2600亿。据悉，其背后的文心大模型4.0拥有超过1万亿参数。\
         GPT-3 拥有1750亿个参数，而GPT-4据称有1.8万亿参数，采用8x220B的混合专家结构，每个token激活约2200亿参数。\
         该模型于2023.3.14发布。Qwen2.5系列覆盖0.5B、1.5B、7B到72B，其中Qwen2.5-72B-Instruct有720亿参数。\
         阿里云发布千亿级参数大模型通义千问2.5，性能超越GPT-4和Claude 3 Opus；与GPT-4相当的还有GLM-4。\
         发布启明-2万亿参数大模型。2018年微软给OpenAI投资10亿美元，月活用户超过1亿人，训练数据为1.4万亿token。",
    ),
    (
        "figures_en",
        "OpenAI released GPT-4 on March 14, 2023, and it is rumoured to have 1.8 trillion parameters. \
         It has 120 layers. GPT-3 has 175B parameters; Llama 2 comes in 7B/13B/70B sizes. \
         Mistral AI launched Mixtral 8x7B on 11 December 2023, a sparse model with 12.9B active parameters per token. \
         The model was announced in July 2024 and DeepSeek-V3 (671B total, 37B activated) outperforms Llama-3.1-405B. \
         Meta released Llama 3 and Llama 3.1 405B; Gemini 1.5 Pro rivals Claude 3.5 Sonnet. \
         - 24B parameters\n- released Sept. 12, 2024\nphi-4 is a 14-billion parameter model.",
    ),
    (
        "candidates",
        "京东发布言犀大模型，百川智能发布百川大模型，星海智能推出了新一代模型Zeta-9。\
         智谱AI开源GLM-4-9B-Chat-1M和GLM-5，Yi-Lightning与Baichuan4-Turbo同步上线，新模型名为“天书大模型”。\
         The Acme Labs team introduced Orion-7B and Foo-2 model, trained on an A100 and H800 cluster with PyTorch 2.1. \
         通义千问3.5和文心一言5.0正在内测，讯飞星火V4.0同步上线，国产AI大模型深耕行业。COVID-19 and Web3 are not models.",
    ),
    (
        "hidden_and_odd",
        "The weights are at https://huggingface.co/Qwen/Qwen2.5-7B-Instruct and `from qwen import Qwen2` is code.\n\
         ```\nGPT-4 = load('Llama-3-70B')\n```\n\
         | 模型 | 发布时间 | 参数 |\n| GPT-1 | 2018-6 | 1.17亿 |\n| GPT-2 | 2019-2 | 15亿 |\n\
         双方将进一步商量合作细节，“商量”是商汤的大模型，星火燎原。Apache Spark jobs run nightly; iFlytek Spark is a model.\n\
         QWEN2.5-72B and qwen-7B and Qwenling; GPT-4o 和 GPT-40 与 GPT3.5。",
    ),
];

/// One line per finding, in `analyse`'s order, so a diff names what moved.
fn render(name: &str, a: &Analysis, out: &mut String) {
    for m in &a.mentions {
        writeln!(out, "{name} mention {:?} count={} direct={} «{}»", m.entity, m.count, m.direct, m.sentence).unwrap();
    }
    for f in &a.proposed_facts {
        writeln!(
            out,
            "{name} fact {:?} {:?}={:?} raw={:?} conf={} by {} «{}»",
            f.entity, f.attribute, f.value, f.raw, f.confidence, f.extractor, f.sentence
        )
        .unwrap();
    }
    for c in &a.candidates {
        writeln!(out, "{name} candidate {:?} key={:?} x{} «{}»", c.name, c.key, c.count, c.sentence).unwrap();
    }
    for v in &a.new_versions {
        writeln!(
            out,
            "{name} version {:?} key={:?} family={:?} version={:?} x{} «{}»",
            v.name, v.key, v.family, v.version, v.count, v.sentence
        )
        .unwrap();
    }
}

/// A 1 MB text's findings as counts and a digest of every field (its full
/// lines would be megabytes of snapshot).
fn digest(name: &str, a: &Analysis) -> String {
    let mut lines = String::new();
    render(name, a, &mut lines);
    let hash = Sha256::digest(format!("{a:?}\n{lines}").as_bytes());
    format!(
        "{name}: {} mentions, {} facts, {} candidates, {} new versions, hits {}; sha256 {}",
        a.mentions.len(),
        a.proposed_facts.len(),
        a.candidates.len(),
        a.new_versions.len(),
        a.hits(),
        hex(&hash)
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[test]
fn analysis_of_the_bench_texts_is_pinned() {
    let matcher = Matcher::new(&shipped_catalog()).unwrap();
    let texts =
        [("bench_pages", corpus::bench_pages()), ("news", corpus::news()), ("chinese_news", corpus::chinese_news())];
    let digests: Vec<String> = texts.iter().map(|(name, text)| digest(name, &analyse(&matcher, text))).collect();
    insta::assert_snapshot!("analysis_bench_texts", digests.join("\n"));
}

#[test]
fn analysis_of_the_evaluation_set_and_written_texts_is_pinned() {
    let matcher = Matcher::new(&shipped_catalog()).unwrap();
    let mut out = String::new();
    for case in eval_cases() {
        render(&case.id, &analyse(&matcher, &case.text), &mut out);
    }
    for (name, text) in WRITTEN {
        render(name, &analyse(&matcher, text), &mut out);
    }
    insta::assert_snapshot!("analysis_eval_and_written", out);
}

#[test]
fn the_pinned_texts_reach_every_kind_of_finding() {
    // The snapshot above is only as strong as what the texts hold.
    let matcher = Matcher::new(&shipped_catalog()).unwrap();
    let all: Vec<Analysis> = WRITTEN.iter().map(|(_, t)| analyse(&matcher, t)).collect();
    let facts = |by: &str| all.iter().flat_map(|a| &a.proposed_facts).filter(|f| f.extractor == by).count();
    assert!(facts("rule:parameters") >= 5, "{}", facts("rule:parameters"));
    assert!(facts("rule:release_date") >= 3, "{}", facts("rule:release_date"));
    assert!(facts("rule:name_size") >= 1);
    assert!(all.iter().map(|a| a.candidates.len()).sum::<usize>() >= 5);
    assert!(all.iter().map(|a| a.new_versions.len()).sum::<usize>() >= 3);
    let bench = analyse(&matcher, &corpus::bench_pages());
    assert!(bench.proposed_facts.len() > 100 && bench.mentions.len() > 20);
}
