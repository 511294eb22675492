//! `analyse` on realistic article texts (Chinese and English) against the
//! shipped seed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::seed_tests::seed;
use super::*;

const ARTICLE_ZH: &str = "\
阿里云今日在云栖大会上发布通义千问2.5，并开源Qwen2.5-72B模型。据介绍，通义千问新版本在多项评测中超越GPT-4。\n\
与此同时，智谱AI推出GLM-4，京东发布言犀大模型，百川智能发布百川大模型。\n\
据外媒报道，GPT-4的参数量约为1.8万亿，采用8x220B的混合专家结构。\n\
百度方面表示，文心一言（ERNIE Bot）用户数已突破1亿人，公司2023年投资10亿美元用于算力。\n\
2023年3月16日，百度正式发布文心一言。";

const ARTICLE_EN: &str = "\
OpenAI released GPT-4 on March 14, 2023, and it is rumoured to have 1.8 trillion parameters. \
GPT-3 has 175B parameters. Meanwhile Zhipu AI launched GLM-4 and Alibaba open-sourced Qwen2.5-72B. \
Huawei's PanGu model is used in weather forecasting. Our PanGuard firewall and Sparkling water are unrelated, \
and an Apache spark cluster is not iFlytek Spark.";

fn analysis(text: &str) -> Analysis {
    analyse(&Matcher::new(&seed().catalog).unwrap(), text)
}

fn render(a: &Analysis) -> String {
    let mut out = String::new();
    for m in &a.mentions {
        out.push_str(&format!("mention {} count={} direct={}\n", m.entity, m.count, m.direct));
    }
    for f in &a.proposed_facts {
        out.push_str(&format!(
            "fact {} {}={} raw={:?} conf={} by {}\n  «{}»\n",
            f.entity,
            f.attribute,
            f.value.key(),
            f.raw,
            f.confidence,
            f.extractor,
            f.sentence
        ));
    }
    for c in &a.candidates {
        out.push_str(&format!("candidate {} x{}\n  «{}»\n", c.name, c.count, c.sentence));
    }
    out
}

fn mentioned(a: &Analysis, e: &EntityRef) -> u32 {
    a.mentions.iter().find(|m| &m.entity == e).map_or(0, |m| m.direct)
}

#[test]
fn chinese_article_mentions_with_canonical_entities() {
    let a = analysis(ARTICLE_ZH);
    // 通义千问2.5 and the Qwen of Qwen2.5-72B are the 通义千问 family;
    // "阿里云" is an alias of the vendor.
    assert_eq!(mentioned(&a, &EntityRef::model("通义千问")), 3);
    assert_eq!(mentioned(&a, &EntityRef::model("GPT-4")), 2);
    assert_eq!(mentioned(&a, &EntityRef::model("文心一言")), 3, "文心一言 twice and ERNIE Bot once");
    assert_eq!(mentioned(&a, &EntityRef::vendor("阿里巴巴")), 1);
    let baidu = a.mentions.iter().find(|m| m.entity == EntityRef::vendor("百度")).unwrap();
    assert_eq!((baidu.direct, baidu.count), (2, 5), "its models count for the vendor");
    // Not 文心 (文心大模型): the longest alias wins.
    assert_eq!(mentioned(&a, &EntityRef::model("文心大模型")), 0);
}

#[test]
fn chinese_article_facts_and_candidates() {
    let a = analysis(ARTICLE_ZH);
    let facts: Vec<String> =
        a.proposed_facts.iter().map(|f| format!("{} {} {}", f.entity.name, f.attribute, f.value.key())).collect();
    assert_eq!(
        facts,
        vec![
            "Qwen2.5-72B parameters 72000000000",
            "GPT-4 parameters 1800000000000",
            "GPT-4 parameters 8x220000000000",
            "文心一言 release_date 2023-03-16",
        ],
        "1亿人 and 10亿美元 are not parameter counts; the size in a released name is"
    );
    let versions: Vec<(&str, &str, &str)> =
        a.new_versions.iter().map(|v| (v.name.as_str(), v.family.name.as_str(), v.version.as_str())).collect();
    assert_eq!(versions, vec![("Qwen2.5-72B", "通义千问", "2.5-72B"), ("通义千问2.5", "通义千问", "2.5")]);
    let names: Vec<&str> = a.candidates.iter().map(|c| c.name.as_str()).collect();
    // 百川智能 is a company the document's seed lacks: a vendor candidate.
    assert_eq!(
        names,
        vec!["GLM-4", "百川大模型", "百川智能", "言犀大模型"],
        "versions of known families are no candidates"
    );
    let precision = a.proposed_facts[3].value.date_precision();
    assert_eq!(precision, Some(DatePrecision::Day));
    insta::assert_snapshot!("analysis_article_zh", render(&a));
}

#[test]
fn english_article_with_word_boundaries() {
    let a = analysis(ARTICLE_EN);
    assert_eq!(mentioned(&a, &EntityRef::model("盘古大模型")), 1, "PanGu, not PanGuard");
    assert_eq!(mentioned(&a, &EntityRef::model("讯飞星火认知大模型")), 1, "Spark, not spark or Sparkling");
    let facts: Vec<String> =
        a.proposed_facts.iter().map(|f| format!("{} {} {}", f.entity.name, f.attribute, f.value.key())).collect();
    assert_eq!(
        facts,
        vec![
            "GPT-4 parameters 1800000000000",
            "GPT-4 release_date 2023-03-14",
            "GPT-3 parameters 175000000000",
            "Qwen2.5-72B parameters 72000000000"
        ]
    );
    let keys: Vec<&str> = a.candidates.iter().map(|c| c.key.as_str()).collect();
    // Zhipu AI (not `Meanwhile Zhipu AI`) is a company the seed lacks.
    assert_eq!(keys, vec!["glm-4", "zhipuai"]);
    insta::assert_snapshot!("analysis_article_en", render(&a));
}

#[test]
fn month_precision_and_moe_notation() {
    let a = analysis("2023-3，OpenAI发布GPT-4。Mixtral 等 MoE 模型之后，GPT-4 被传为 8x220B 参数。");
    let got: Vec<(String, Option<DatePrecision>)> =
        a.proposed_facts.iter().map(|f| (f.value.key(), f.value.date_precision())).collect();
    assert_eq!(got, vec![("2023-03".to_owned(), Some(DatePrecision::Month)), ("8x220000000000".to_owned(), None)]);
}

/// A conflicting figure becomes a second proposed fact beside the seed's
/// accepted one, never an overwrite.
#[test]
fn a_conflicting_figure_is_another_value_and_the_same_figure_the_same() {
    let seed = seed();
    let gpt4 = EntityRef::model("GPT-4");
    let held: Vec<String> = seed.catalog.facts_of(&gpt4, Attribute::Parameters).map(|f| f.value.key()).collect();
    assert_eq!(held.len(), 1);
    // The store keys facts by value: another key is a new proposal beside
    // the held one, the same key more evidence for it.
    let a = analysis(ARTICLE_ZH);
    let figure = a.proposed_facts.iter().find(|f| f.entity == gpt4).unwrap();
    assert_ne!(figure.value.key(), held[0]);
    let same = analysis("GPT-4 的参数量为100万亿。");
    assert_eq!(same.proposed_facts[0].value.key(), held[0]);
}

#[test]
fn hostile_input_does_not_panic() {
    let m = Matcher::new(&seed().catalog).unwrap();
    for text in [
        "",
        "。。。",
        "\u{0}\u{feff}GPT-",
        "2023年",
        "9999999999999999999999亿参数 GPT-4",
        "GPT-4 参数 1.",
        "盘古大模型大模型大模型",
    ] {
        let _ = analyse(&m, text);
    }
    let long = "通义千问发布".repeat(20_000) + &"x".repeat(5000);
    assert!(analyse(&m, &long).mentions.len() == 2);
}

/// Aliases that are everyday words name nothing in ordinary prose.
#[test]
fn everyday_words_are_no_mentions() {
    for text in [
        "双方将进一步商量，并于2023年5月发布合作细则。",
        "这一想法如星火燎原，迅速传遍业界。",
        "他引用《文心雕龙》中的话：文心雕龙，体大思精。",
        "盘古开天的神话流传至今，2021年4月发布的纪录片再现了这一故事。",
    ] {
        let a = analysis(text);
        assert!(a.mentions.is_empty(), "{text}: {:?}", a.mentions);
        assert!(a.proposed_facts.is_empty(), "{text}: {:?}", a.proposed_facts);
    }
}

/// …but still name the model in quotes, before 大模型/a Latin name, or
/// beside the vendor.
#[test]
fn ambiguous_aliases_match_in_context() {
    let named = |text: &str| -> Vec<String> {
        analysis(text).mentions.into_iter().filter(|m| m.direct > 0).map(|m| m.entity.name).collect()
    };
    let a = analysis("2023.4.10，商汤正式发布自研类ChatGPT产品“商量（SenseChat）”。");
    let fact = a.proposed_facts.iter().find(|f| f.entity == EntityRef::model("商量")).map(|f| f.value.key());
    assert_eq!(fact.as_deref(), Some("2023-04-10"), "{a:?}");
    assert!(named("商汤正式发布自研类ChatGPT产品“商量（SenseChat）”").contains(&"商量".to_owned()));
    assert!(named("商量（SenseChat）今日开放注册").contains(&"商量".to_owned()));
    assert!(named("科大讯飞表示，星火将在10月升级").contains(&"讯飞星火认知大模型".to_owned()));
    assert!(named("百度：文心将全面开放").contains(&"文心大模型".to_owned()));
    assert!(named("「盘古」再升级").contains(&"盘古大模型".to_owned()));
    assert!(named("文心AI作画上线").contains(&"文心大模型".to_owned()));
    assert!(!named("星火燎原，百度的文心雕龙式命名").contains(&"讯飞星火认知大模型".to_owned()), "another vendor");
}
