//! The catalog end to end: the shipped seed through `init`, articles through
//! `check`, review through the CLI, on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used)]

use chrono::Utc;
use modelwatch::catalog::{Attribute, EntityRef, FactValue, ParamCount, StopList};
use modelwatch::runner::{CatalogStep, NewText};
use modelwatch::source::{SourceOptions, normalize_url};
use modelwatch::store::Store;
use modelwatch::store::catalog::StructuredFact;
use modelwatch::store::sources::NewSource;
use modelwatch::types::SourceKind;
use sea_orm::ConnectionTrait;
use serde_json::Value;

use crate::both_backends;
use crate::support::records::ok_record;
use crate::support::{Backend, Mw, Page, TestServer};

const SEED: &str = include_str!("../../config/catalog.toml");

const ARTICLE_V1: &str = r#"<html><head><title>通义千问开放邀测</title></head><body>
<nav><a href="/">首页</a></nav>
<article><h1>阿里巴巴类ChatGPT产品通义千问开放邀测</h1>
<p>2023年4月7日，阿里巴巴类ChatGPT产品“通义千问”官宣正式对外开放企业邀测，钉钉、天猫精灵等产品已率先接入通义千问测试。</p>
<p>业内人士认为，通义千问将与百度的文心一言（ERNIE Bot）正面竞争，而OpenAI的GPT-4仍是标杆。</p>
</article></body></html>"#;

const ARTICLE_V2_EXTRA: &str = r#"<p>另据外媒报道，GPT-4的参数量约为1.8万亿。与此同时，智谱AI推出GLM-4，京东发布言犀大模型。</p>
</article>"#;

async fn seeded(backend: Backend) -> Option<Mw> {
    let mw = Mw::new(backend).await?;
    std::fs::write(mw.path().join("catalog.toml"), SEED).unwrap();
    let r = mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(r.stderr.contains("31 new vendor(s), 55 new model(s)"), "{}", r.stderr);
    Some(mw)
}

/// Adds a source of `kind` at `url` straight through the store.
async fn add_source(store: &Store, url: &str, kind: SourceKind) -> modelwatch::types::SourceId {
    let new = NewSource {
        url: normalize_url(url).unwrap(),
        kind,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    store.add_source(&new, Utc::now()).await.unwrap().id
}

/// The runner's catalog step on one text of an article source.
async fn observe(
    store: &Store,
    source: modelwatch::types::SourceId,
    snapshot_id: i64,
    text: &str,
) -> Result<modelwatch::store::catalog::RecordedAnalysis, modelwatch::runner::CatalogStepError> {
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    step.observe(NewText { source, kind: SourceKind::Page, snapshot_id, text, structured: Vec::new(), at: Utc::now() })
        .await
}

fn find<'a>(rows: &'a Value, key: &str, value: &str) -> Option<&'a Value> {
    rows.as_array().unwrap().iter().find(|r| r[key] == value)
}

async fn seed_loads_idempotently_and_exports(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let vendors = mw.run_async(&["catalog", "vendors", "--format", "json"]).await.ok().json();
    for name in
        ["微软", "谷歌", "百度", "阿里巴巴", "腾讯", "华为", "商汤", "科大讯飞", "字节跳动", "360", "京东", "网易"]
    {
        assert!(find(&vendors, "name", name).is_some(), "vendor {name}");
    }
    let models = mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json();
    let qwen = find(&models, "name", "通义千问").unwrap();
    assert_eq!(qwen["vendor"], "阿里巴巴");
    assert!(qwen["aliases"].as_array().unwrap().iter().any(|a| a == "Qwen"));
    assert_eq!(find(&models, "name", "文心千帆").unwrap()["kind"], "platform");

    // Reject a seed fact; loading again adds nothing and keeps the decision.
    let show = mw.run_async(&["catalog", "show", "GPT-4", "--format", "json"]).await.ok().json();
    let params = show["facts"].as_array().unwrap().iter().find(|f| f["attribute"] == "parameters").unwrap();
    assert_eq!((params["value"].as_str(), params["status"].as_str()), (Some("100万亿"), Some("accepted")));
    assert_eq!(params["evidence"][0]["source_name"], "aigc-industry-notes.md");
    let id = params["id"].as_i64().unwrap().to_string();
    mw.run_async(&["catalog", "reject", &id]).await.ok();
    let again = mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(again.stderr.contains("0 new vendor(s), 0 new model(s), 0 new alias(es), 0 new term(s), 0 new fact(s)"));
    let show = mw.run_async(&["catalog", "show", "GPT4", "--format", "json"]).await.ok().json();
    let params = show["facts"].as_array().unwrap().iter().find(|f| f["attribute"] == "parameters").unwrap();
    assert_eq!(params["status"], "rejected", "a reviewed fact is never overwritten by the seed");

    // The Markdown export regenerates the GPT table from accepted facts only.
    let md = mw.run_async(&["catalog", "export", "--format", "md"]).await.ok().stdout;
    assert!(md.contains("| 版本 | 时间 | 模型特点 | 参数量 |"));
    assert!(md.contains("| GPT-1 | 2018-6 |") && md.contains("| 1.17亿 |"), "{md}");
    assert!(md.contains("| GPT-3 | 2020-7 |") && md.contains("| 1750亿 |"));
    let gpt4 = md.lines().find(|l| l.starts_with("| GPT-4 |")).unwrap();
    assert!(gpt4.starts_with("| GPT-4 | 2023-3 |") && gpt4.ends_with("|  |"), "rejected value left out: {gpt4}");
    assert!(md.contains("| 阿里巴巴 | 含光800 | EPL、XDL | ~~AI模型M6~~、通义千问 |"));
    assert!(md.contains("| 2023.3.16 | 百度 | 文心一言 |"));
    let csv = mw.run_async(&["catalog", "export", "--format", "csv"]).await.ok().stdout;
    assert!(csv.starts_with("entity_kind,entity,attribute,value,value_key"));
    let json = mw.run_async(&["catalog", "export", "--format", "json"]).await.ok().json();
    assert!(json["models"].as_array().unwrap().len() >= 55);
}

both_backends!(seed_on, seed_loads_idempotently_and_exports);

async fn articles_feed_mentions_facts_and_candidates(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/news/qwen.html", Page::html(ARTICLE_V1));
    let id = mw.add(&server.url("/news/qwen.html"), &[]).await;
    mw.run_async(&["check", &id.to_string()]).await.ok();

    let mentions = mw.run_async(&["catalog", "mentions", "--since", "1h", "--format", "json"]).await.ok().json();
    for field in ["entity_kind", "name", "source_id", "url", "first_seen_at"] {
        assert!(mentions[0].get(field).is_some(), "mentions JSON lacks {field}: {mentions}");
    }
    let qwen = find(&mentions, "name", "通义千问").unwrap();
    assert_eq!((qwen["entity_kind"].as_str(), qwen["source_id"].as_i64()), (Some("model"), Some(id)));
    assert!(qwen["url"].as_str().unwrap().ends_with("/news/qwen.html"));
    assert!(find(&mentions, "name", "阿里巴巴").is_some(), "a model mention counts its vendor");
    assert!(find(&mentions, "name", "文心一言").is_some(), "ERNIE Bot is 文心一言");
    assert!(find(&mentions, "name", "通义").is_none());
    let future = mw.run_async(&["catalog", "mentions", "--since", "2999-01-01", "--format", "json"]).await.ok().json();
    assert_eq!(future, serde_json::json!([]));
    // The article's date corroborates the seed's: no new proposal.
    let pending = mw.run_async(&["catalog", "facts", "--pending", "--format", "json"]).await.ok().json();
    assert_eq!(pending, serde_json::json!([]), "{pending}");

    let v2 = ARTICLE_V1.replace("</article>", ARTICLE_V2_EXTRA);
    server.set("/news/qwen.html", Page::html(v2));
    mw.run_async(&["check", &id.to_string()]).await.ok();

    // The new text names 通义千问 again: the same mention, one snapshot more.
    let again = mw.run_async(&["catalog", "mentions", "--since", "1h", "--format", "json"]).await.ok().json();
    let qwen2 = find(&again, "name", "通义千问").unwrap();
    assert_eq!(qwen2["snapshot_count"], 2, "{qwen2}");
    assert_eq!(qwen2["first_snapshot_id"], qwen["first_snapshot_id"]);
    assert_eq!(qwen2["first_seen_at"], qwen["first_seen_at"]);
    assert!(qwen2["last_snapshot_id"].as_i64() > qwen["last_snapshot_id"].as_i64(), "{qwen2}");
    assert_eq!(
        again.as_array().unwrap().iter().filter(|m| m["name"] == "通义千问").count(),
        1,
        "one row per entity and source"
    );

    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    let names: Vec<&str> = candidates.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["GLM-4", "言犀大模型"]);
    let glm = &candidates[0];
    assert_eq!(glm["sources"][0]["source_id"], id);
    assert!(glm["sources"][0]["sentence"].as_str().unwrap().contains("智谱AI推出GLM-4"));

    let pending = mw.run_async(&["catalog", "facts", "--pending", "--format", "json"]).await.ok().json();
    assert_eq!(pending.as_array().unwrap().len(), 1, "{pending}");
    let f = &pending[0];
    assert_eq!((f["entity"].as_str(), f["attribute"].as_str()), (Some("GPT-4"), Some("parameters")));
    assert_eq!((f["value"].as_str(), f["value_key"].as_str()), (Some("1.8万亿"), Some("1800000000000")));
    assert_eq!(f["evidence"][0]["source_id"], id);
    assert!(f["evidence"][0]["quote"].as_str().unwrap().contains("GPT-4的参数量约为1.8万亿"));

    // Side by side: the seed's 100万亿 is still accepted.
    let show = mw.run_async(&["catalog", "show", "GPT-4", "--format", "json"]).await.ok().json();
    let values: Vec<(String, String)> = show["facts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["attribute"] == "parameters")
        .map(|f| (f["value"].as_str().unwrap().to_owned(), f["status"].as_str().unwrap().to_owned()))
        .collect();
    assert_eq!(values, vec![("100万亿".into(), "accepted".into()), ("1.8万亿".into(), "proposed".into())]);
    let table = mw.run_async(&["catalog", "facts", "--pending"]).await.ok().stdout;
    assert!(table.contains("GPT-4") && table.contains("1.8万亿"), "{table}");

    // The digest's catalog inputs for the period.
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let now = Utc::now();
    let d =
        store.catalog_digest_inputs(now - chrono::Duration::hours(1), now + chrono::Duration::hours(1)).await.unwrap();
    let first = d.new_mentions.iter().find(|m| m.name == "通义千问").unwrap();
    assert_eq!((first.vendor.as_deref(), first.source.id.0), (Some("阿里巴巴"), id));
    assert_eq!(d.proposed_facts.len(), 1);
    assert_eq!((d.proposed_facts[0].subject.as_str(), d.proposed_facts[0].value.as_str()), ("GPT-4", "1.8万亿"));
    assert!(d.proposed_facts[0].quote.contains("1.8万亿"));
    let names: Vec<(&str, u32)> = d.candidates.iter().map(|c| (c.name.as_str(), c.occurrences)).collect();
    assert_eq!(names, vec![("GLM-4", 1), ("言犀大模型", 1)]);
    let earlier =
        store.catalog_digest_inputs(now - chrono::Duration::days(14), now - chrono::Duration::days(7)).await.unwrap();
    assert!(earlier.new_mentions.is_empty() && earlier.proposed_facts.is_empty() && earlier.candidates.is_empty());

    // The digest carries the catalog section end to end.
    let preview = mw.run_async(&["digest", "preview", "--since", "1h", "--format", "text"]).await.ok().stdout;
    for needle in ["通义千问", "GPT-4的参数量约为1.8万亿", "GLM-4", "言犀大模型"] {
        assert!(preview.contains(needle), "digest preview lacks {needle}:\n{preview}");
    }

    // Accepting it puts both figures in the export; adding GLM-4 closes the candidate.
    mw.run_async(&["catalog", "accept", &f["id"].to_string()]).await.ok();
    let md = mw.run_async(&["catalog", "export"]).await.ok().stdout;
    assert!(md.lines().any(|l| l.starts_with("| GPT-4 |") && l.ends_with("| 100万亿、1.8万亿 |")), "{md}");
    mw.run_async(&["catalog", "add-vendor", "智谱AI", "--country", "CN", "--alias", "Zhipu AI"]).await.ok();
    mw.run_async(&["catalog", "add-model", "GLM-4", "--vendor", "Zhipu AI", "--family", "GLM", "--version", "4"])
        .await
        .ok();
    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    assert_eq!(candidates.as_array().unwrap().len(), 1, "{candidates}");
}

both_backends!(articles_on, articles_feed_mentions_facts_and_candidates);

async fn review_commands(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    mw.run_async(&["catalog", "add-alias", "通义千问", "Tongyi"]).await.ok();
    let show = mw.run_async(&["catalog", "show", "tongyi", "--format", "json"]).await.ok().json();
    assert_eq!(show["name"], "通义千问");
    // An alias that names another entity is refused (exit 2).
    let r = mw.run_async(&["catalog", "add-alias", "通义千问", "ERNIE Bot"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("already names model 文心一言"), "{}", r.stderr);
    // Merge: a duplicate entry folds into the canonical one.
    mw.run_async(&["catalog", "add-model", "千问", "--vendor", "阿里巴巴"]).await.ok();
    mw.run_async(&["catalog", "merge", "千问", "通义千问"]).await.ok();
    let models = mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json();
    assert!(find(&models, "name", "千问").is_none());
    let qwen = find(&models, "name", "通义千问").unwrap();
    assert!(qwen["aliases"].as_array().unwrap().iter().any(|a| a == "千问"));
    let r = mw.run_async(&["catalog", "merge", "百度", "通义千问"]).await;
    assert_eq!(r.code, 2, "different kinds: {}", r.stderr);
    assert_eq!(mw.run_async(&["catalog", "accept", "999999"]).await.code, 2);
    let table = mw.run_async(&["catalog", "vendors"]).await.ok().stdout;
    assert!(table.lines().next().unwrap().starts_with("ID  NAME"));
}

both_backends!(review_on, review_commands);

/// A content change counts the catalog entities its changed lines name
/// (for the digest's ranking); a change that names none counts 0.
async fn a_change_counts_the_catalog_entities_of_its_changed_lines(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let server = TestServer::start().await;
    let footer = |year: u32| {
        format!(
            "<html><head><title>关于我们</title></head><body><article><h1>关于我们</h1>\
             <p>本站内容仅供参考，转载请注明出处。</p><p>版权所有 {year} 某某网络科技有限公司，保留一切权利。</p>\
             </article></body></html>"
        )
    };
    server.set("/news/qwen.html", Page::html(ARTICLE_V1));
    server.set("/about.html", Page::html(footer(2023)));
    let article = mw.add(&server.url("/news/qwen.html"), &[]).await;
    let about = mw.add(&server.url("/about.html"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/news/qwen.html", Page::html(ARTICLE_V1.replace("</article>", ARTICLE_V2_EXTRA)));
    server.set("/about.html", Page::html(footer(2024)));
    mw.run_async(&["check"]).await.ok();

    let changes = mw.changes(None).await;
    let hits = |id: i64| {
        let c = changes.iter().find(|c| c["source_id"] == id).unwrap_or_else(|| panic!("no change of #{id}"));
        c["catalog_hits"].as_u64().unwrap()
    };
    // The new paragraph names GPT-4 and 京东 (and 言犀 when the catalog knows it);
    // the context lines' 通义千问 and 文心一言 do not count.
    assert!(hits(article) >= 2, "{changes:#?}");
    assert!(hits(article) <= 3, "only the changed lines count: {changes:#?}");
    assert_eq!(hits(about), 0, "a footer names no model: {changes:#?}");
}

both_backends!(change_hits_on, a_change_counts_the_catalog_entities_of_its_changed_lines);

/// Structured sources (GitHub, Hugging Face) get accepted facts with the
/// source as evidence; the source's newer value supersedes its older one.
async fn structured_facts_are_accepted(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let source = add_source(&store, "https://huggingface.co/Qwen/Qwen-7B", SourceKind::Huggingface).await;
    let qwen = EntityRef::model("通义千问");
    let fact = |n: u64| StructuredFact {
        entity: qwen.clone(),
        attribute: Attribute::Parameters,
        value: FactValue::Parameters(ParamCount::Exact { value: n }),
        raw: n.to_string(),
        quote: format!("safetensors total: {n}"),
        extractor: "huggingface:model".into(),
    };
    let first = store.record_structured_facts(source, None, Utc::now(), &[fact(7_721_324_544)]).await.unwrap();
    let accepted_at = store.catalog_revision().await.unwrap();
    let again = store.record_structured_facts(source, None, Utc::now(), &[fact(7_721_324_544)]).await.unwrap();
    assert_eq!(first, again, "the same value again is more evidence, not a new fact");
    // Seen again, the accepted value changes nothing the matcher knows: no
    // new revision (each would rebuild the matcher after every check).
    assert_eq!(store.catalog_revision().await.unwrap(), accepted_at);
    let newer = store.record_structured_facts(source, None, Utc::now(), &[fact(7_000_000_000)]).await.unwrap();
    assert!(store.catalog_revision().await.unwrap() > accepted_at, "a newly accepted value is a new revision");
    store.link_catalog_source(&qwen, source, "downloads", Utc::now()).await.unwrap();
    store.link_catalog_source(&qwen, source, "downloads", Utc::now()).await.unwrap();
    let facts = store.catalog_facts(false, Some(&qwen)).await.unwrap();
    let params: Vec<(String, String, usize)> = facts
        .iter()
        .filter(|f| f.attribute == "parameters")
        .map(|f| (f.value_key.clone(), f.status.clone(), f.evidence.len()))
        .collect();
    assert_eq!(
        params,
        vec![("7721324544".into(), "superseded".into(), 2), ("7000000000".into(), "accepted".into(), 1)]
    );
    assert_eq!(facts.iter().find(|f| f.id == newer[0]).unwrap().evidence[0].source_id, Some(source.0));
    assert!(store.catalog_facts(true, None).await.unwrap().is_empty(), "nothing left pending");

    // Merging a duplicate entry moves its metric links to the canonical one.
    let dup = modelwatch::store::catalog::NewModel {
        name: "Qwen-7B 卡片".into(),
        vendor: Some("阿里巴巴".into()),
        kind: modelwatch::catalog::ModelKind::Model,
        family: None,
        version: None,
        aliases: vec![],
    };
    store.catalog_add_model(&dup, Utc::now()).await.unwrap();
    let dup_ref = EntityRef::model("Qwen-7B 卡片");
    store.link_catalog_source(&dup_ref, source, "likes", Utc::now()).await.unwrap();
    store.link_catalog_source(&dup_ref, source, "downloads", Utc::now()).await.unwrap();
    store.catalog_merge("Qwen-7B 卡片", "通义千问").await.unwrap();
    let links = store.catalog_source_links(&qwen).await.unwrap();
    assert_eq!(links, vec![(source, "downloads".to_owned()), (source, "likes".to_owned())], "moved, not duplicated");
}

both_backends!(structured_on, structured_facts_are_accepted);

/// Articles about the same new model analysed at once: every analysis is
/// recorded, the candidate counts every sighting and the new fact gathers
/// every source's evidence (no unique violation, no lost update).
async fn concurrent_analyses_all_record(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 8).await.unwrap();
    let mut sources = Vec::new();
    for i in 0..6 {
        sources.push(add_source(&store, &format!("https://news.example.cn/ai/{i}.html"), SourceKind::Page).await);
    }
    let text = "智谱AI推出GLM-5，性能对标GPT-4。另据外媒报道，GPT-4的参数量约为1.8万亿。";
    let calls = sources.iter().enumerate().map(|(i, s)| {
        let store = store.clone();
        let s = *s;
        tokio::spawn(async move { observe(&store, s, 100 + i as i64, text).await })
    });
    for r in futures::future::join_all(calls).await {
        r.unwrap().unwrap();
    }
    // GLM-5 is promoted to a provisional model once two sources named it;
    // analyses that start after that see a known model and record a
    // mention, not a sighting. However the six interleave, every source
    // ends as a mention of GLM-5 and the candidate holds the sightings.
    let candidates = store.catalog_candidates().await.unwrap();
    let glm: Vec<(&str, &str)> = candidates.iter().map(|c| (c.name.as_str(), c.status.as_str())).collect();
    assert_eq!(glm, vec![("GLM-5", "provisional")]);
    let sighted = candidates[0].sources.len();
    assert!((2..=6).contains(&sighted) && candidates[0].count as usize == sighted, "{:?}", candidates[0]);
    let mentions = store.catalog_mentions(None, Some(&EntityRef::model("GLM-5"))).await.unwrap();
    let mut mentioned: Vec<i64> = mentions.iter().map(|m| m.source_id).collect();
    mentioned.sort_unstable();
    mentioned.dedup();
    assert_eq!(mentioned.len(), 6, "every analysis is a mention of GLM-5: {mentions:?}");
    let pending = store.catalog_facts(true, None).await.unwrap();
    let facts: Vec<(&str, usize)> = pending.iter().map(|f| (f.value_key.as_str(), f.evidence.len())).collect();
    assert_eq!(facts, vec![("1800000000000", 6)]);
}

both_backends!(concurrent_on, concurrent_analyses_all_record);

/// A check's catalog step is saved with the check, in its transaction:
/// nothing can record the snapshot and lose what it said. A step that
/// cannot be saved rolls back alone (its savepoint) and the check stays
/// recorded, through the batching writer as through a single record.
async fn catalog_step_rides_with_the_check(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    let a = add_source(&store, "https://news.example.cn/ai/a.html", SourceKind::Page).await;
    let b = add_source(&store, "https://news.example.cn/ai/b.html", SourceKind::Page).await;
    let text = "阿里巴巴的通义千问开放邀测，对标OpenAI的GPT-4。另据外媒报道，GPT-4的参数量约为1.8万亿。";
    let work = step.prepare(SourceKind::Page, text, &[], Utc::now()).await.unwrap();

    let mut rec = ok_record(a, Utc::now(), text);
    rec.catalog = Some(work.clone());
    let recorded = store.record_check(rec).await.unwrap();
    let snapshot = recorded.snapshot_id.unwrap();
    let saved = recorded.catalog.unwrap().unwrap();
    assert!(saved.new_mentions.contains(&EntityRef::model("通义千问")), "{saved:?}");
    assert_eq!(saved.new_facts.len(), 1, "GPT-4's parameter count: {saved:?}");
    let mentions = store.catalog_mentions(None, Some(&EntityRef::model("通义千问"))).await.unwrap();
    assert_eq!(mentions.iter().map(|m| (m.source_id, m.first_snapshot_id)).collect::<Vec<_>>(), vec![(a.0, snapshot)]);

    // The evidence table gone: the step fails when it saves GPT-4's figure,
    // after its mentions were written; they roll back with it.
    let raw = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    raw.execute_unprepared("DROP TABLE catalog_fact_evidence").await.unwrap();
    raw.close().await.unwrap();
    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 8);
    let mut rec = ok_record(b, Utc::now(), &format!("{text} "));
    rec.catalog = Some(work);
    let recorded = writer.record(rec).await.unwrap();
    let failure = recorded.catalog.unwrap().unwrap_err();
    assert!(failure.contains("catalog_fact_evidence"), "{failure}");
    let source = store.get_source(&modelwatch::source::SourceRef::Id(b)).await.unwrap();
    assert_eq!(source.last_snapshot_id, recorded.snapshot_id, "the check and its snapshot are recorded");
    let mentions = store.catalog_mentions(None, Some(&EntityRef::model("通义千问"))).await.unwrap();
    assert!(mentions.iter().all(|m| m.source_id == a.0), "the failed step's mentions rolled back: {mentions:?}");
}

both_backends!(step_with_check_on, catalog_step_rides_with_the_check);

/// The catalog steps of one batch share a savepoint while they all succeed;
/// when one fails, that savepoint is rolled back and each step is written
/// again in its own: the failing step is the only one lost, the others keep
/// their mentions, and every check is recorded.
async fn a_failing_step_among_a_batch_fails_alone(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    let text = "阿里巴巴的通义千问开放邀测，对标OpenAI的GPT-4。";
    let mut records = Vec::new();
    let mut ids = Vec::new();
    for i in 0..3 {
        let source = add_source(&store, &format!("https://news.example.cn/batch/{i}.html"), SourceKind::Page).await;
        let mut rec = ok_record(source, Utc::now(), &format!("{text}{}", " ".repeat(i)));
        rec.catalog = Some(step.prepare(SourceKind::Page, text, &[], Utc::now()).await.unwrap());
        records.push(rec);
        ids.push(source);
    }
    // The database refuses the mentions of the middle source.
    let raw = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    let refuse = match backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_mention BEFORE INSERT ON catalog_mentions WHEN NEW.source_id = {} \
             BEGIN SELECT RAISE(ABORT, 'a refused mention'); END",
            ids[1].0
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_mention() RETURNS trigger AS $$ BEGIN \
                 IF NEW.source_id = {} THEN RAISE EXCEPTION 'a refused mention'; END IF; RETURN NEW; END $$ \
                 LANGUAGE plpgsql",
                ids[1].0
            ),
            "CREATE TRIGGER refuse_mention BEFORE INSERT ON catalog_mentions FOR EACH ROW \
             EXECUTE FUNCTION refuse_mention()"
                .to_owned(),
        ],
    };
    for sql in refuse {
        raw.execute_unprepared(&sql).await.unwrap();
    }
    raw.close().await.unwrap();

    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 8);
    let results = futures::future::join_all(records.into_iter().map(|r| {
        let writer = writer.clone();
        async move { writer.record(r).await }
    }))
    .await;
    let recorded: Vec<_> = results.into_iter().map(|r| r.unwrap()).collect();
    let failure = recorded[1].catalog.clone().unwrap().unwrap_err();
    assert!(failure.contains("a refused mention"), "{failure}");
    for n in [0, 2] {
        let saved = recorded[n].catalog.clone().unwrap().unwrap();
        assert!(saved.new_mentions.contains(&EntityRef::model("通义千问")), "{n}: {saved:?}");
    }
    for (n, source) in ids.iter().enumerate() {
        let s = store.get_source(&modelwatch::source::SourceRef::Id(*source)).await.unwrap();
        assert_eq!(s.last_snapshot_id, recorded[n].snapshot_id, "check {n} is recorded");
    }
    let mentions = store.catalog_mentions(None, Some(&EntityRef::model("通义千问"))).await.unwrap();
    let mut by: Vec<i64> = mentions.iter().map(|m| m.source_id).collect();
    by.sort_unstable();
    assert_eq!(by, [ids[0].0, ids[2].0], "the refused step's mentions are not there, the others' are");
}

both_backends!(failing_step_in_batch_on, a_failing_step_among_a_batch_fails_alone);

/// Three checks naming the same new version, analysed before any was saved
/// and written by the check writer in one batch (a current-thread runtime
/// queues them all before the writer runs): the first step creates the
/// version, the next two in the same transaction find it and mention it.
/// A fourth record in the batch fails, so the batch is rolled back and
/// written again one record at a time: the version is still created once,
/// mentioned by all three, and the broken record fails alone.
async fn one_batch_creates_a_version_once(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    let text = "2025年3月，阿里巴巴发布通义千问3.5，性能大幅提升。";
    let mut records = Vec::new();
    for i in 0..3 {
        let source = add_source(&store, &format!("https://news.example.cn/qwen/{i}.html"), SourceKind::Page).await;
        let mut rec = ok_record(source, Utc::now(), &format!("{text}{}", " ".repeat(i)));
        rec.catalog = Some(step.prepare(SourceKind::Page, text, &[], Utc::now()).await.unwrap());
        records.push(rec);
    }
    // The database refuses the fourth record's check row.
    let raw = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    let refuse = match backend {
        Backend::Sqlite => vec![
            "CREATE TRIGGER refuse_broken BEFORE INSERT ON checks WHEN NEW.message = 'broken' \
             BEGIN SELECT RAISE(ABORT, 'a broken record'); END"
                .to_owned(),
        ],
        Backend::Postgres => vec![
            "CREATE FUNCTION refuse_broken() RETURNS trigger AS $$ BEGIN \
             IF NEW.message = 'broken' THEN RAISE EXCEPTION 'a broken record'; END IF; RETURN NEW; END $$ \
             LANGUAGE plpgsql"
                .to_owned(),
            "CREATE TRIGGER refuse_broken BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION refuse_broken()"
                .to_owned(),
        ],
    };
    for sql in refuse {
        raw.execute_unprepared(&sql).await.unwrap();
    }
    raw.close().await.unwrap();
    let broken = add_source(&store, "https://news.example.cn/qwen/broken.html", SourceKind::Page).await;
    let mut rec = ok_record(broken, Utc::now(), "损坏的记录");
    rec.message = Some("broken".into());
    records.push(rec);
    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 8);
    let mut results = futures::future::join_all(records.into_iter().map(|r| writer.record(r))).await;
    assert!(results.pop().unwrap().is_err(), "the broken record fails alone");
    let steps: Vec<_> = results.into_iter().map(|r| r.unwrap().catalog.unwrap().unwrap()).collect();
    let created: usize = steps.iter().map(|s| s.new_entities.len()).sum();
    assert_eq!(created, 1, "the version is created once: {steps:?}");
    let version = EntityRef::model("通义千问3.5");
    assert!(steps.iter().all(|s| s.new_mentions.contains(&version)), "{steps:?}");
    let mentions = store.catalog_mentions(None, Some(&version)).await.unwrap();
    assert_eq!(mentions.len(), 3, "{mentions:?}");
}

mod batch_version_on {
    use crate::support::{Backend, db::postgres_available};

    #[tokio::test]
    async fn sqlite() {
        super::one_batch_creates_a_version_once(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        if !postgres_available() {
            eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        }
        super::one_batch_creates_a_version_once(Backend::Postgres).await;
    }
}

/// A several-KB hyphenated token is no candidate, and a long candidate
/// recorded anyway stays within PostgreSQL's index row size.
async fn long_candidate_names(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let source = add_source(&store, "https://news.example.cn/ai/long.html", SourceKind::Page).await;
    // Incompressible, so PostgreSQL cannot squeeze it under the index limit.
    let mut x: u64 = 0x9e37_79b9;
    let long: String = std::iter::once("GLM-4".to_owned())
        .chain((0..900).map(|_| {
            x = x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            format!("-{:x}", x >> 40)
        }))
        .collect();
    let text = format!("智谱AI推出{long}大模型，同时发布GLM-5。");
    let r = observe(&store, source, 1, &text).await.unwrap();
    let lengths: Vec<usize> = r.new_candidates.iter().map(String::len).collect();
    assert_eq!(lengths, vec![5], "only GLM-5 is a candidate");

    let analysis = modelwatch::catalog::Analysis {
        candidates: vec![modelwatch::catalog::CandidateSighting {
            name: long.clone(),
            key: modelwatch::catalog::candidate_key(&long),
            count: 1,
            sentence: text,
        }],
        ..Default::default()
    };
    for snapshot in [2, 3] {
        store.record_catalog_analysis(source, snapshot, Utc::now(), &analysis).await.unwrap();
    }
    let candidates = store.catalog_candidates().await.unwrap();
    let stored = candidates.iter().find(|c| c.name == long).expect("the long candidate is stored");
    assert_eq!(stored.count, 2, "the hashed key still finds the same candidate");
}

both_backends!(long_candidates_on, long_candidate_names);

/// A text's figures: a new value is stored once however often the text
/// states it, a value held already is corroborated, and every statement
/// leaves its sentence as evidence — again on the next snapshot.
async fn proposals_are_stored_once_with_every_sentence(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let source = add_source(&store, "https://news.example.cn/ai/gpt4-size.html", SourceKind::Page).await;
    let gpt4 = EntityRef::model("GPT-4");
    let params = |facts: &[modelwatch::store::catalog::FactRow]| -> Vec<(String, usize)> {
        let mut v: Vec<(String, usize)> = facts
            .iter()
            .filter(|f| f.attribute == "parameters")
            .map(|f| (f.value_key.clone(), f.evidence.len()))
            .collect();
        v.sort();
        v
    };
    let before = params(&store.catalog_facts(false, Some(&gpt4)).await.unwrap());
    assert_eq!(before.len(), 1, "the seed holds one size for GPT-4: {before:?}");
    let (held_key, held_evidence) = before[0].clone();
    let figure = |n: u64, sentence: &str| modelwatch::catalog::ProposedFact {
        entity: gpt4.clone(),
        attribute: Attribute::Parameters,
        value: FactValue::Parameters(ParamCount::Exact { value: n }),
        raw: n.to_string(),
        sentence: sentence.to_owned(),
        extractor: "rule:parameters".to_owned(),
        confidence: 0.6,
    };
    let analysis = modelwatch::catalog::Analysis {
        proposed_facts: vec![
            figure(1_800_000_000_000, "有分析称其参数约为1.8万亿。"),
            figure(1_800_000_000_000, "文末再次提到1.8万亿参数。"),
            figure(held_key.parse().unwrap(), "也有说法沿用旧的数字。"),
        ],
        ..Default::default()
    };
    let first = store.record_catalog_analysis(source, 1, Utc::now(), &analysis).await.unwrap();
    assert_eq!((first.new_facts.len(), first.corroborations), (1, 2), "{first:?}");
    let mut want = vec![("1800000000000".to_owned(), 2), (held_key.clone(), held_evidence + 1)];
    want.sort();
    assert_eq!(params(&store.catalog_facts(false, Some(&gpt4)).await.unwrap()), want);

    let again = store.record_catalog_analysis(source, 2, Utc::now(), &analysis).await.unwrap();
    assert_eq!((again.new_facts.len(), again.corroborations), (0, 3), "{again:?}");
    let mut want = vec![("1800000000000".to_owned(), 4), (held_key, held_evidence + 2)];
    want.sort();
    assert_eq!(params(&store.catalog_facts(false, Some(&gpt4)).await.unwrap()), want);
}

both_backends!(proposals_on, proposals_are_stored_once_with_every_sentence);

/// Aliases that are everyday words (商量, 星火, 文心, 盘古) keep their marker
/// through the database: ordinary prose names nothing, the launch does.
async fn everyday_word_aliases(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let source = add_source(&store, "https://news.example.cn/ai/sensechat.html", SourceKind::Page).await;
    let prose = "双方将进一步商量，并于2023年5月发布合作细则。此事如星火燎原。";
    let r = observe(&store, source, 1, prose).await.unwrap();
    assert_eq!((r.new_mentions.len(), r.new_facts.len()), (0, 0), "{r:?}");
    let launch = "2023.4.10，商汤正式发布自研类ChatGPT产品“商量（SenseChat）”。";
    let r = observe(&store, source, 2, launch).await.unwrap();
    assert!(r.new_mentions.contains(&EntityRef::model("商量")), "{r:?}");
    assert!(r.new_facts.is_empty(), "the seed's release date is corroborated: {r:?}");
}

both_backends!(everyday_words_on, everyday_word_aliases);

/// The catalog migration rolls back and forward with the rest, and the seed
/// loads on the re-created schema.
async fn catalog_migration_up_down_up(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    store.migrate_down_all().await.unwrap();
    store.migrate().await.unwrap();
    assert!(store.catalog_vendors().await.unwrap().is_empty());
    let seed = modelwatch::catalog::parse_seed(SEED).unwrap();
    let r = store.load_catalog_seed(&seed, Utc::now()).await.unwrap();
    assert_eq!((r.vendors, r.models, r.facts), (31, 55, 126));
}

both_backends!(catalog_migration_on, catalog_migration_up_down_up);

/// A broken catalog file stops `init` with exit code 2 and every problem.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_catalog_reports_every_problem() {
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let broken = SEED.replacen("kind = \"product\"", "kind = \"chatbot\"", 1).replacen(
        "parameters = \"1.17亿\"",
        "parameters = \"很多\"",
        1,
    );
    std::fs::write(mw.path().join("catalog.toml"), broken).unwrap();
    let r = mw.run_async(&["init", "--no-seed-sources"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("2 problem(s)"), "{}", r.stderr);
    assert!(
        r.stderr.contains("model \"ChatGPT\": kind \"chatbot\" is not one of product, model, platform"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("model \"GPT-1\": parameters value \"很多\" cannot be read"), "{}", r.stderr);
}

const LANDSCAPE: &str = include_str!("../../config/landscape.toml");
const STOPLIST: &str = include_str!("../../config/stoplist.toml");

/// `init` loads the landscape after the seed: families with their versions,
/// every reference entry with a vendor and an evidence page; a reload adds
/// nothing; the exports show families with versions and origins.
async fn the_landscape_loads_with_families_and_versions(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    for (name, text) in [("catalog.toml", SEED), ("landscape.toml", LANDSCAPE), ("stoplist.toml", STOPLIST)] {
        std::fs::write(mw.path().join(name), text).unwrap();
    }
    let r = mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(r.stderr.contains("landscape.toml:"), "{}", r.stderr);
    let check = mw.run_async(&["config", "check"]).await.ok();
    assert!(check.stdout.contains("# catalog: 31 vendor(s), 55 model(s); landscape:"), "{}", check.stdout);

    let vendors = mw.run_async(&["catalog", "vendors", "--format", "json"]).await.ok().json();
    let models = mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json();
    let (vendors, models) = (vendors.as_array().unwrap(), models.as_array().unwrap());
    let reference: Vec<&Value> = models.iter().filter(|m| m["origin"] == "reference").collect();
    assert!(vendors.len() >= 40 && models.len() >= 150, "{} vendors, {} models", vendors.len(), models.len());
    assert!(reference.len() >= 150, "{} reference models", reference.len());
    for m in &reference {
        assert!(m["vendor"].is_string(), "{m}");
        assert!(m["evidence_url"].as_str().is_some_and(|u| u.starts_with("http")), "{m}");
    }
    for v in vendors.iter().filter(|v| v["origin"] == "reference") {
        assert!(v["evidence_url"].as_str().is_some_and(|u| u.starts_with("http")), "{v}");
    }
    let families = models.iter().filter(|m| !m["versions"].as_array().unwrap().is_empty()).count();
    assert!(families >= 20, "{families} families with versions");
    let qwen = find(&Value::Array(models.clone()), "name", "通义千问").unwrap().clone();
    let versions: Vec<&str> = qwen["versions"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert!(versions.contains(&"Qwen2.5-72B"), "{versions:?}");
    assert_eq!(qwen["origin"], "document");

    let again = mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(
        again.stderr.contains("landscape.toml: 0 new vendor(s), 0 new model(s), 0 new alias(es)"),
        "{}",
        again.stderr
    );

    let json = mw.run_async(&["catalog", "export", "--format", "json"]).await.ok().json();
    let exported = json["models"].as_array().unwrap();
    let q = exported.iter().find(|m| m["name"] == "通义千问").unwrap();
    assert!(q["versions"].as_array().unwrap().iter().any(|v| v == "Qwen2.5-72B"));
    let q72 = exported.iter().find(|m| m["name"] == "Qwen2.5-72B").unwrap();
    assert_eq!((q72["origin"].as_str(), q72["family"].as_str()), (Some("reference"), Some("通义千问")));
    let md = mw.run_async(&["catalog", "export"]).await.ok().stdout;
    assert!(md.contains("表格 模型家族与版本"), "{md}");
    assert!(
        md.lines().any(|l| l.starts_with("| 通义千问 | 阿里巴巴 | Qwen2.5-72B |") && l.ends_with("| reference |")),
        "{md}"
    );
}

both_backends!(landscape_on, the_landscape_loads_with_families_and_versions);

fn article(title: &str, body: &str) -> String {
    format!(
        "<html><head><title>{title}</title></head><body><article><h1>{title}</h1><p>{body}</p></article></body></html>"
    )
}

fn names_of(rows: &Value) -> Vec<String> {
    rows.as_array().unwrap().iter().map(|r| r["name"].as_str().unwrap().to_owned()).collect()
}

/// A new version of a known family and a new model seen in two sources
/// become provisional entities with their first sentence as evidence, and
/// the digest lists them as new models; a rejected name never comes back;
/// licences never become candidates.
async fn new_models_become_provisional_entities(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let server = TestServer::start().await;
    server.set(
        "/a.html",
        Page::html(article(
            "通义千问3.5发布",
            "2025年3月，阿里巴巴发布通义千问3.5，同时开源Zeta-9模型和Omega-3模型，采用Apache-2.0许可证。",
        )),
    );
    server.set("/b.html", Page::html(article("快讯", "多家厂商接入Zeta-9模型，并测试了Omega-3模型，MIT许可。")));
    let a = mw.add(&server.url("/a.html"), &[]).await;
    mw.run_async(&["check", &a.to_string()]).await.ok();

    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    let version = find(&candidates, "name", "通义千问3.5").unwrap_or_else(|| panic!("{candidates}"));
    assert_eq!((version["status"].as_str(), version["family"].as_str()), (Some("provisional"), Some("通义千问")));
    assert!(version["sources"][0]["sentence"].as_str().unwrap().contains("阿里巴巴发布通义千问3.5"), "{version}");
    assert_eq!(find(&candidates, "name", "Zeta-9").unwrap()["status"], "open", "one source is not enough");
    assert!(find(&candidates, "name", "Apache-2.0").is_none(), "{candidates}");

    // Omega-3 is rejected before its second sighting: it never comes back.
    mw.run_async(&["catalog", "reject", "Omega-3"]).await.ok();
    let b = mw.add(&server.url("/b.html"), &[]).await;
    mw.run_async(&["check", &b.to_string()]).await.ok();

    let models = mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json();
    let zeta = find(&models, "name", "Zeta-9").unwrap_or_else(|| panic!("{models}"));
    assert_eq!((zeta["provisional"].as_bool(), zeta["origin"].as_str()), (Some(true), Some("observed")));
    let qwen = find(&models, "name", "通义千问3.5").unwrap();
    assert_eq!((qwen["family"].as_str(), qwen["vendor"].as_str()), (Some("通义千问"), Some("阿里巴巴")));
    assert_eq!(qwen["version"], "3.5");
    assert!(find(&models, "name", "Omega-3").is_none());
    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    let names = names_of(&candidates);
    assert!(names.contains(&"Zeta-9".to_owned()) && !names.iter().any(|n| n == "Omega-3" || n == "MIT"), "{names:?}");
    // Both sources mention the promoted model from now on.
    let mentions = mw.run_async(&["catalog", "mentions", "--format", "json"]).await.ok().json();
    let zeta_sources: Vec<i64> = mentions
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "Zeta-9")
        .map(|m| m["source_id"].as_i64().unwrap())
        .collect();
    assert_eq!(zeta_sources.len(), 2, "{mentions}");
    assert!(zeta_sources.contains(&a) && zeta_sources.contains(&b));

    let preview = mw.run_async(&["digest", "preview", "--since", "1h", "--format", "text"]).await.ok().stdout;
    for needle in ["通义千问3.5", "Zeta-9"] {
        assert!(preview.contains(needle), "digest preview lacks {needle}:\n{preview}");
    }
    assert!(!preview.lines().any(|l| l.trim_start().starts_with("* Omega-3")), "{preview}");

    // A provisional entity rejected is removed and never re-created.
    mw.run_async(&["catalog", "reject", "通义千问3.5"]).await.ok();
    server
        .set("/a.html", Page::html(article("通义千问3.5发布", "再谈通义千问3.5：阿里巴巴发布通义千问3.5的技术报告。")));
    mw.run_async(&["check", &a.to_string()]).await.ok();
    let models = names_of(&mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json());
    assert!(!models.contains(&"通义千问3.5".to_owned()), "{models:?}");
    // A reviewed entry cannot be rejected by name (exit 2), only merged.
    let r = mw.run_async(&["catalog", "reject", "GPT-4"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    // Merging the provisional model into a real one folds its mentions.
    mw.run_async(&["catalog", "merge", "Zeta-9", "GPT-4"]).await.ok();
    let models = names_of(&mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json());
    assert!(!models.contains(&"Zeta-9".to_owned()));
    let show = mw.run_async(&["catalog", "show", "Zeta-9", "--format", "json"]).await.ok().json();
    assert_eq!(show["name"], "GPT-4");
}

both_backends!(provisional_on, new_models_become_provisional_entities);

/// The catalog step builds its matcher once per catalog revision: not per
/// text, and again after a catalog edit (which the next text then sees).
async fn the_matcher_is_built_once_per_catalog_change(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let source = add_source(&store, "https://news.example.cn/ai/builds.html", SourceKind::Page).await;
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    let text = |n: i64| NewText {
        source,
        kind: SourceKind::Page,
        snapshot_id: n,
        text: "阿里巴巴的千问助手上线，通义千问同步升级。",
        structured: Vec::new(),
        at: Utc::now(),
    };
    for n in 1..=3 {
        step.observe(text(n)).await.unwrap();
    }
    assert_eq!(step.builds(), 1, "one build for three texts");
    let before = store.catalog_revision().await.unwrap();
    store.catalog_add_alias("通义千问", "千问助手", false).await.unwrap();
    assert!(store.catalog_revision().await.unwrap() > before);
    let r = step.observe(text(4)).await.unwrap();
    assert_eq!(step.builds(), 2, "rebuilt after the edit");
    assert!(r.new_mentions.is_empty() && r.new_candidates.is_empty(), "{r:?}");
    let matcher = step.matcher().await.unwrap();
    assert_eq!(matcher.find("千问助手").len(), 1, "the new alias is matched");
    step.observe(text(5)).await.unwrap();
    assert_eq!(step.builds(), 2);
}

both_backends!(builds_on, the_matcher_is_built_once_per_catalog_change);

/// Texts arriving together share one build: each reads the revision before
/// taking the matcher cache, and a matcher built for that revision (or a
/// later one) serves them all.
async fn texts_arriving_together_share_one_matcher_build(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let store = Store::connect(&mw.db.url, 4).await.unwrap();
    let step = CatalogStep::new(store.clone(), StopList::shipped(), 2);
    let matchers = futures::future::join_all((0..8).map(|_| step.matcher())).await;
    let matchers: Vec<_> = matchers.into_iter().map(|m| m.unwrap()).collect();
    assert_eq!(step.builds(), 1, "one build for eight texts at once");
    assert!(matchers.iter().all(|m| std::sync::Arc::ptr_eq(m, &matchers[0])));
    // After an edit, texts arriving together again share one new build.
    store.catalog_add_alias("通义千问", "千问助手", false).await.unwrap();
    let matchers = futures::future::join_all((0..8).map(|_| step.matcher())).await;
    let matchers: Vec<_> = matchers.into_iter().map(|m| m.unwrap()).collect();
    assert_eq!(step.builds(), 2, "one more build after the edit");
    assert!(matchers.iter().all(|m| m.find("千问助手").len() == 1), "every text sees the edit");
}

both_backends!(together_on, texts_arriving_together_share_one_matcher_build);

/// A company the catalog lacks, named as a company by two sources, becomes
/// a provisional vendor: listed for review and among the vendors, counted
/// as a mention; rejected, it is removed and never comes back.
async fn new_companies_become_provisional_vendors(backend: Backend) {
    let Some(mw) = seeded(backend).await else { return };
    let server = TestServer::start().await;
    server.set(
        "/a.html",
        Page::html(article("新模型", "据悉，星海智能发布了首个对话模型，初创公司Nimbus AI发布了一款写作助手。")),
    );
    server
        .set("/b.html", Page::html(article("快讯", "星海智能今日开源其模型。Nimbus AI launched a beta for writers.")));
    let a = mw.add(&server.url("/a.html"), &[]).await;
    mw.run_async(&["check", &a.to_string()]).await.ok();
    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    for name in ["星海智能", "Nimbus AI"] {
        let c = find(&candidates, "name", name).unwrap_or_else(|| panic!("{name}: {candidates}"));
        assert_eq!(c["status"], "open", "one source is not enough: {c}");
    }
    // Nimbus AI is rejected before its second sighting: it never comes back.
    mw.run_async(&["catalog", "reject", "Nimbus AI"]).await.ok();
    let b = mw.add(&server.url("/b.html"), &[]).await;
    mw.run_async(&["check", &b.to_string()]).await.ok();

    let candidates = mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json();
    let xinghai = find(&candidates, "name", "星海智能").unwrap_or_else(|| panic!("{candidates}"));
    assert_eq!((xinghai["status"].as_str(), xinghai["entity_kind"].as_str()), (Some("provisional"), Some("vendor")));
    assert!(find(&candidates, "name", "Nimbus AI").is_none(), "{candidates}");
    let vendors = mw.run_async(&["catalog", "vendors", "--format", "json"]).await.ok().json();
    let v = find(&vendors, "name", "星海智能").unwrap_or_else(|| panic!("{vendors}"));
    assert_eq!((v["provisional"].as_bool(), v["origin"].as_str()), (Some(true), Some("observed")));
    assert!(find(&vendors, "name", "Nimbus AI").is_none(), "{vendors}");
    let models = names_of(&mw.run_async(&["catalog", "models", "--format", "json"]).await.ok().json());
    assert!(!models.iter().any(|m| m == "星海智能" || m == "Nimbus AI"), "a company is no model: {models:?}");
    let mentions = mw.run_async(&["catalog", "mentions", "--format", "json"]).await.ok().json();
    let sources: Vec<i64> = mentions
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["name"] == "星海智能")
        .map(|m| m["source_id"].as_i64().unwrap())
        .collect();
    assert!(sources.contains(&a) && sources.contains(&b), "{mentions}");

    // Rejected, the provisional vendor is removed and not re-created.
    mw.run_async(&["catalog", "reject", "星海智能"]).await.ok();
    server.set("/a.html", Page::html(article("新模型", "星海智能发布了第二代模型。")));
    mw.run_async(&["check", &a.to_string()]).await.ok();
    let vendors = names_of(&mw.run_async(&["catalog", "vendors", "--format", "json"]).await.ok().json());
    assert!(!vendors.contains(&"星海智能".to_owned()), "{vendors:?}");
    let candidates = names_of(&mw.run_async(&["catalog", "candidates", "--format", "json"]).await.ok().json());
    assert!(!candidates.contains(&"星海智能".to_owned()), "{candidates:?}");
}

both_backends!(company_vendors_on, new_companies_become_provisional_vendors);

/// The indexes of `table`, by name (SQLite's automatic ones left out).
async fn index_names(url: &str, backend: Backend, table: &str) -> Vec<String> {
    let raw = sea_orm::Database::connect(url).await.unwrap();
    let sql = match backend {
        Backend::Sqlite => format!(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' \
             AND name NOT LIKE 'sqlite_autoindex%' ORDER BY name"
        ),
        Backend::Postgres => {
            format!("SELECT indexname AS name FROM pg_indexes WHERE tablename = '{table}' ORDER BY indexname")
        }
    };
    let backend = raw.get_database_backend();
    let rows = raw.query_all_raw(sea_orm::Statement::from_string(backend, sql)).await.unwrap();
    let names = rows.iter().map(|r| r.try_get::<String>("", "name").unwrap()).collect();
    raw.close().await.unwrap();
    names
}

/// A new page's mentions write no index on their first sighting (issue 12:
/// 40 entries a page, as large as half the rows), and snapshots none on
/// their hash (read by nothing). The weekly digest's question, "mentions
/// first seen since", is still answered, oldest first, from the table.
async fn mentions_since_are_read_without_an_index_of_their_own(backend: Backend) {
    use modelwatch::catalog::{Analysis, MentionCount};
    let Some(mw) = seeded(backend).await else { return };
    let mentions = index_names(&mw.db.url, backend, "catalog_mentions").await;
    assert!(!mentions.iter().any(|n| n == "idx_catalog_mentions_first_seen"), "{mentions:?}");
    assert!(mentions.iter().any(|n| n == "ux_catalog_mentions_source_entity"), "{mentions:?}");
    let snapshots = index_names(&mw.db.url, backend, "snapshots").await;
    assert!(!snapshots.iter().any(|n| n == "idx_snapshots_hash"), "{snapshots:?}");
    assert!(snapshots.iter().any(|n| n == "idx_snapshots_source"), "{snapshots:?}");

    let store = Store::connect(&mw.db.url, 2).await.unwrap();
    let naming = |names: &[&str]| Analysis {
        mentions: names
            .iter()
            .map(|n| MentionCount { entity: EntityRef::model(*n), count: 1, direct: 1, sentence: format!("{n}发布") })
            .collect(),
        ..Default::default()
    };
    let start = Utc::now() - chrono::Duration::days(10);
    let day = |n: i64| start + chrono::Duration::days(n);
    // Recorded out of order: the older sighting comes second.
    let (a, b, c) = (
        add_source(&store, "https://news.example.cn/ai/a.html", SourceKind::Page).await,
        add_source(&store, "https://news.example.cn/ai/b.html", SourceKind::Page).await,
        add_source(&store, "https://news.example.cn/ai/c.html", SourceKind::Page).await,
    );
    store.record_catalog_analysis(a, 1, day(5), &naming(&["通义千问"])).await.unwrap();
    store.record_catalog_analysis(b, 2, day(3), &naming(&["通义千问"])).await.unwrap();
    store.record_catalog_analysis(c, 3, day(1), &naming(&["通义千问"])).await.unwrap();
    // Seen again later: its first sighting stays.
    store.record_catalog_analysis(c, 4, day(6), &naming(&["通义千问"])).await.unwrap();

    let since: Vec<(i64, chrono::DateTime<Utc>)> = store
        .catalog_mentions(Some(day(2)), None)
        .await
        .unwrap()
        .iter()
        .map(|m| (m.source_id, m.first_seen_at))
        .collect();
    let micros = |t: chrono::DateTime<Utc>| t.timestamp_micros();
    let since: Vec<(i64, i64)> = since.into_iter().map(|(s, t)| (s, micros(t))).collect();
    assert_eq!(since, vec![(b.0, micros(day(3))), (a.0, micros(day(5)))]);
    assert_eq!(store.catalog_mentions(None, None).await.unwrap().len(), 3);
}

both_backends!(mentions_since_on, mentions_since_are_read_without_an_index_of_their_own);
