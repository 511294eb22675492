#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::fixture::{self, at};
use super::*;
use crate::types::SourceStatus;

fn fixture_digest() -> Digest {
    build(fixture::period(), fixture::week(), &BuildOptions::default())
}

#[test]
fn summary_counts_content_changes_models_and_dead_links() {
    let d = fixture_digest();
    // The status change (id 104) is not a content change.
    assert_eq!(d.summary.changes, 3);
    assert_eq!(d.summary.sources, 3);
    assert_eq!(d.summary.new_models, 2);
    assert_eq!(d.summary.new_vendors, 1);
    assert_eq!(d.summary.dead_links, 2);
    assert!(!d.summary.empty);
}

#[test]
fn content_groups_put_the_most_significant_change_first() {
    let d = fixture_digest();
    let groups: Vec<(&str, Vec<i64>)> =
        d.content.iter().map(|g| (g.tag.as_str(), g.changes.iter().map(|c| c.id).collect())).collect();
    // 文心一言 (18%, 2 catalog hits) outranks ChatGLM (5%, 1 hit), and the
    // CSDN byline fix (2%, no hits) comes last, in its own tag.
    assert_eq!(groups, vec![("大模型", vec![102, 103]), ("行业分析", vec![101])]);
    assert_eq!(d.content[0].changes[0].percent, 18);
}

#[test]
fn catalog_merges_repeated_first_mentions() {
    let d = fixture_digest();
    let catalog = d.catalog.expect("catalog section");
    let models: Vec<(&str, usize)> = catalog.new_models.iter().map(|m| (m.name.as_str(), m.sources)).collect();
    assert_eq!(models, vec![("ERNIE 4.0", 2), ("GLM-4", 1)]);
    assert_eq!(catalog.new_vendors[0].name, "智谱AI");
    assert_eq!(catalog.facts[0].quote, "文心一言的参数规模为2600亿，支持多模态输入。");
    assert_eq!(catalog.candidates[0].name, "ChatGLM3-6B");
}

#[test]
fn health_reports_only_the_last_transition_and_long_failures() {
    let d = fixture_digest();
    let h = d.health.expect("health section");
    let urls = |items: &[model::HealthItem]| items.iter().map(|i| i.link.url.clone()).collect::<Vec<_>>();
    assert_eq!(
        urls(&h.died),
        ["https://mp.weixin.qq.com/s/6l999HlngOvLRdfokHJECA", "https://www.jianshu.com/p/14eaedbbca17"]
    );
    assert_eq!(h.died[0].status, SourceStatus::SoftGone);
    assert_eq!(urls(&h.recovered), ["https://www.shifair.com/informationDetails/81632.html"]);
    assert_eq!(h.redirected[0].final_url.as_deref(), Some("https://www.huaweipai.com/"));
    // A dead page's own address is not "where it points now".
    assert!(h.died.iter().all(|i| i.final_url.is_none()));
    // 掘金 has failed for one day only; 360doc for 18.
    assert_eq!(h.failing.len(), 1);
    assert_eq!(h.failing[0].days, 18);
    // An untitled source is shown by its URL.
    assert_eq!(h.died[1].link.title, "https://www.jianshu.com/p/14eaedbbca17");
}

#[test]
fn movers_are_ranked_by_absolute_delta_and_skip_new_metrics() {
    let d = fixture_digest();
    let repos = d.repos.expect("repos section");
    let movers: Vec<(&str, &str, &str)> =
        repos.movers.iter().map(|m| (m.subject.as_str(), m.change.as_str(), m.percent.as_str())).collect();
    assert_eq!(movers, vec![("THUDM/ChatGLM-6B", "+475", "+1.2%"), ("Stability-AI/stablediffusion", "-9", "-0.02%")]);
    assert_eq!(repos.events.len(), 2);
}

#[test]
fn an_empty_week_has_no_sections_and_says_so() {
    let d = build(fixture::period(), DigestInputs::default(), &BuildOptions::default());
    assert!(d.is_empty());
    assert!(d.summary.empty);
    let zh = Templates::builtin().render(&d, Language::Zh).unwrap();
    assert_eq!(zh.subject, "modelwatch 周报 2026-11-23 – 2026-11-30：本周无变化");
    assert!(zh.text.contains("本期没有需要关注的变化。"));
    assert!(!zh.html.contains("链接健康"));
}

#[test]
fn tag_filter_keeps_only_matching_sources() {
    let inputs = filter_by_tags(fixture::week(), &["开源".to_owned()]);
    let d = build(fixture::period(), inputs, &BuildOptions::default());
    assert!(d.content.is_empty());
    assert!(d.catalog.is_none());
    assert!(d.health.is_none());
    assert_eq!(d.repos.map(|r| r.events.len()), Some(2));
    // No filter keeps everything.
    assert_eq!(filter_by_tags(fixture::week(), &[]).changes.len(), 4);
}

#[test]
fn subjects_carry_period_and_counts_in_both_languages() {
    let d = fixture_digest();
    let zh = Templates::builtin().render(&d, Language::Zh).unwrap();
    assert_eq!(zh.subject, "modelwatch 周报 2026-11-23 – 2026-11-30：3 处内容变更 · 2 个新模型 · 2 个链接失效");
    let en = Templates::builtin().render(&d, Language::En).unwrap();
    assert_eq!(en.subject, "modelwatch digest 2026-11-23 – 2026-11-30: 3 changes · 2 new models · 2 dead links");
}

#[test]
fn html_is_escaped_and_marks_insertions_and_deletions() {
    let r = Templates::builtin().render(&fixture_digest(), Language::Zh).unwrap();
    // The excerpt's literal <b> is text, not markup.
    assert!(r.html.contains("，&lt;b&gt;支持&lt;/b&gt;多模态"), "{}", r.html);
    assert!(r.html.contains(r#"href="https://baijiahao.baidu.com/s?id=1762603244500714429""#));
    assert!(r.html.contains(">2600亿</ins>"));
    assert!(r.html.contains(">千亿级</del>"));
    assert!(!r.html.contains("<script"));
    assert!(!r.html.contains("<img"));
    assert!(r.text.contains("~ 文心一言的参数规模为[-千亿级-]{+2600亿+}，<b>支持</b>多模态输入。"));
}

#[test]
fn sections_appear_in_reading_order() {
    let r = Templates::builtin().render(&fixture_digest(), Language::En).unwrap();
    let pos = |needle: &str| r.text.find(needle).unwrap_or_else(|| panic!("{needle} missing in\n{}", r.text));
    let order = ["== Catalog ==", "== Releases and repositories ==", "== Content changes ==", "== Link health =="];
    let positions: Vec<usize> = order.iter().map(|s| pos(s)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
}

#[test]
fn an_override_folder_replaces_only_the_files_it_has() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(render::SUBJECT_FILE), "[AI 周报] {{ period.key }}\n").unwrap();
    let t = Templates::with_overrides(dir.path()).unwrap();
    let r = t.render(&fixture_digest(), Language::Zh).unwrap();
    assert_eq!(r.subject, "[AI 周报] 2026-11-30");
    assert!(r.text.contains("== 内容变更 =="));
    // A missing folder is no override at all.
    assert!(Templates::with_overrides(&dir.path().join("nope")).is_ok());
    std::fs::write(dir.path().join(render::HTML_FILE), "{% if %}").unwrap();
    let err = Templates::with_overrides(dir.path()).unwrap().render(&fixture_digest(), Language::Zh);
    assert!(matches!(err, Err(RenderError::Template { name: render::HTML_FILE, .. })));
}

#[test]
fn a_subject_template_cannot_inject_headers() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(render::SUBJECT_FILE), "周报\r\nBcc: evil@example.com\n").unwrap();
    let r = Templates::with_overrides(dir.path()).unwrap().render(&fixture_digest(), Language::Zh).unwrap();
    assert_eq!(r.subject, "周报 Bcc: evil@example.com");
}

#[test]
fn snapshot_text_zh() {
    let r = Templates::builtin().render(&fixture_digest(), Language::Zh).unwrap();
    insta::assert_snapshot!("digest_zh_text", r.text);
}

#[test]
fn snapshot_text_en() {
    let r = Templates::builtin().render(&fixture_digest(), Language::En).unwrap();
    insta::assert_snapshot!("digest_en_text", r.text);
}

#[test]
fn snapshot_html_zh() {
    let r = Templates::builtin().render(&fixture_digest(), Language::Zh).unwrap();
    insta::assert_snapshot!("digest_zh_html", r.html);
}

#[test]
fn period_end_is_used_for_failing_days() {
    let d = build(
        fixture::period(),
        fixture::week(),
        &BuildOptions { failing_after_days: 30, top_movers: 1, web_base: None },
    );
    let h = d.health.expect("health");
    assert!(h.failing.is_empty());
    assert_eq!(d.repos.map(|r| r.movers.len()), Some(1));
    assert_eq!(at(30, 0), d.period.end);
}

/// A first digest after importing 50 sources: every list is capped at
/// `MAX_ITEMS` with an "N more" line naming the command, the summary still
/// counts everything.
#[test]
fn a_digest_after_a_big_import_caps_each_list_and_says_how_to_see_the_rest() {
    let mut inputs = fixture::week();
    let template = inputs.changes[1].clone();
    inputs.changes = (0..50)
        .map(|i| inputs::ChangeInput {
            id: 1000 + i,
            source: fixture::source(
                100 + i,
                &format!("https://news.example.cn/ai/{i}.html"),
                &format!("大模型快讯 {i}"),
                &["大模型"],
            ),
            ..template.clone()
        })
        .collect();
    let candidate = inputs.candidates[0].clone();
    inputs.candidates =
        (0..40).map(|i| inputs::CandidateInput { name: format!("Model-{i}"), ..candidate.clone() }).collect();
    let died = inputs.status_changes[1].clone();
    inputs.status_changes = (0..35)
        .map(|i| inputs::StatusChangeInput {
            source: fixture::source(300 + i, &format!("https://www.jianshu.com/p/{i}"), "", &[]),
            ..died.clone()
        })
        .collect();
    let d = build(fixture::period(), inputs, &BuildOptions::default());

    assert_eq!((d.summary.changes, d.summary.sources, d.summary.dead_links), (50, 50, 35));
    assert_eq!(d.content.iter().map(|g| g.changes.len()).sum::<usize>(), build::MAX_ITEMS);
    let more = d.content_more.as_ref().unwrap();
    assert_eq!(more.count, 20);
    assert_eq!(more.command, "modelwatch changes --since 2026-11-23T00:00:00Z");
    let catalog = d.catalog.as_ref().unwrap();
    assert_eq!(catalog.candidates.len(), 30);
    assert_eq!(catalog.candidates_more.as_ref().map(|m| m.count), Some(10));
    assert!(catalog.new_models_more.is_none(), "short lists are not capped");
    let health = d.health.as_ref().unwrap();
    assert_eq!(health.died.len() + health.redirected.len() + health.recovered.len() + health.failing.len(), 30);
    // 35 dead links and the fixture's long-failing source: 36.
    assert_eq!(health.more.as_ref().map(|m| m.count), Some(6));

    let zh = Templates::builtin().render(&d, Language::Zh).unwrap();
    assert!(
        zh.text.contains("……另有 20 项未列出，运行 modelwatch changes --since 2026-11-23T00:00:00Z 查看"),
        "{}",
        zh.text
    );
    assert!(zh.text.contains("……另有 10 项未列出，运行 modelwatch catalog candidates 查看"), "{}", zh.text);
    assert!(zh.text.contains("……另有 6 项未列出，运行 modelwatch sources list 查看"), "{}", zh.text);
    assert!(!zh.text.contains("大模型快讯 49"), "the least significant are left out");
    assert!(zh.html.contains("另有 20 项未列出"));
    let en = Templates::builtin().render(&d, Language::En).unwrap();
    assert!(en.text.contains("… 10 more not listed; run modelwatch catalog candidates to see them"), "{}", en.text);
}

/// `web.base_url` set: each change, dead link and proposed fact links to its
/// page, in the HTML and the text part alike.
#[test]
fn items_link_to_their_web_pages_when_a_base_url_is_set() {
    let options = BuildOptions { web_base: Some("https://watch.example.org/mw".to_owned()), ..BuildOptions::default() };
    let d = build(fixture::period(), fixture::week(), &options);
    let change = &d.content[0].changes[0];
    assert_eq!(change.page.as_deref(), Some(format!("https://watch.example.org/mw/changes/{}", change.id).as_str()));
    let health = d.health.as_ref().expect("health section");
    let dead = &health.died[0];
    assert_eq!(dead.page.as_deref(), Some(format!("https://watch.example.org/mw/sources/{}", dead.source_id).as_str()));
    let fact = &d.catalog.as_ref().expect("catalog section").facts[0];
    let fact_page = format!("https://watch.example.org/mw/review#fact-{}", fact.id);
    assert_eq!(fact.page.as_deref(), Some(fact_page.as_str()));
    for lang in [Language::Zh, Language::En] {
        let r = Templates::builtin().render(&d, lang).unwrap();
        for part in [&r.text, &r.html] {
            assert!(part.contains(&format!("/mw/changes/{}", change.id)), "{part}");
            assert!(part.contains(&format!("/mw/sources/{}", dead.source_id)), "{part}");
            assert!(part.contains(&fact_page), "{part}");
        }
        assert!(r.html.contains(&format!("href=\"https://watch.example.org/mw/changes/{}\"", change.id)));
    }
}

#[test]
fn no_web_links_without_a_base_url() {
    let d = fixture_digest();
    assert!(d.content.iter().flat_map(|g| &g.changes).all(|c| c.page.is_none()));
    for lang in [Language::Zh, Language::En] {
        let r = Templates::builtin().render(&d, lang).unwrap();
        for part in [&r.text, &r.html] {
            for path in ["/changes/", "/sources/", "/review#fact-"] {
                assert!(!part.contains(path), "{path} in {part}");
            }
        }
    }
}
