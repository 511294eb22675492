//! A fixed, realistic week for the build and snapshot tests: the sources are
//! the seed document's own (Baidu, QbitAI, CSDN, GitHub), in Chinese and English.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, TimeZone, Utc};

use super::inputs::*;
use super::period::Period;
use crate::change::ChangeStats;
use crate::types::{ChangeKind, ErrorKind, SourceId, SourceStatus};

pub fn at(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, d, h, 0, 0).unwrap()
}

/// Monday 2026-11-23 08:00 → Monday 2026-11-30 08:00, Asia/Shanghai.
pub fn period() -> Period {
    Period::between(at(23, 0), at(30, 0), chrono_tz::Asia::Shanghai)
}

pub fn source(id: i64, url: &str, title: &str, tags: &[&str]) -> SourceRef {
    SourceRef {
        id: SourceId(id),
        url: url.to_owned(),
        title: (!title.is_empty()).then(|| title.to_owned()),
        tags: tags.iter().map(|t| (*t).to_owned()).collect(),
    }
}

pub fn baidu() -> SourceRef {
    source(
        3,
        "https://baijiahao.baidu.com/s?id=1762603244500714429",
        "文心一言发布会全程回顾：参数规模与开放计划",
        &["大模型"],
    )
}
pub fn qbitai() -> SourceRef {
    source(7, "https://www.qbitai.com/2023/04/43517.html", "清华系ChatGLM-6B开源，单卡即可部署", &["大模型"])
}
pub fn csdn() -> SourceRef {
    source(11, "https://blog.csdn.net/iamsujie/article/details/129761010", "AIGC产品经理笔记（一）", &["行业分析"])
}
pub fn chatglm() -> SourceRef {
    source(21, "https://github.com/THUDM/ChatGLM-6B", "THUDM/ChatGLM-6B", &["开源"])
}
pub fn sd() -> SourceRef {
    source(22, "https://github.com/Stability-AI/stablediffusion", "Stability-AI/stablediffusion", &["开源"])
}

pub fn week() -> DigestInputs {
    DigestInputs {
        changes: vec![
            ChangeInput {
                id: 101,
                source: csdn(),
                kind: ChangeKind::Content,
                detected_at: at(24, 3),
                summary: "1 处修改".to_owned(),
                stats: ChangeStats { added: 0, removed: 0, modified: 1, ratio: 0.02 },
                catalog_hits: 0,
                excerpt: "  AIGC 的三个阶段\n~ 作者：产品经理[-苏杰-]{+sujie+}\n  发布于 2023-03-26".to_owned(),
            },
            ChangeInput {
                id: 102,
                source: baidu(),
                kind: ChangeKind::Content,
                detected_at: at(25, 9),
                summary: "3 行新增，1 行删除，1 处修改".to_owned(),
                stats: ChangeStats { added: 3, removed: 1, modified: 1, ratio: 0.18 },
                catalog_hits: 2,
                excerpt: "  百度正式发布知识增强大语言模型文心一言。\n~ 文心一言的参数规模为[-千亿级-]{+2600亿+}，<b>支持</b>多模态输入。\n- 目前仅对受邀用户开放。\n+ 即日起向全社会开放，企业用户可通过百度智能云千帆调用 ERNIE 4.0 API。\n…\n+ 发布会上同时公布了文心一格的新版本。".to_owned(),
            },
            ChangeInput {
                id: 103,
                source: qbitai(),
                kind: ChangeKind::Content,
                detected_at: at(26, 14),
                summary: "2 lines added".to_owned(),
                stats: ChangeStats { added: 2, removed: 0, modified: 0, ratio: 0.05 },
                catalog_hits: 1,
                excerpt: "  ChatGLM-6B 是一个开源的、支持中英双语的对话语言模型。\n+ Update: ChatGLM3-6B is released with function calling and a code interpreter.\n+ 更新：智谱AI 发布 GLM-4，上下文长度 128K。".to_owned(),
            },
            // Status changes are reported under link health, never as content.
            ChangeInput {
                id: 104,
                source: qbitai(),
                kind: ChangeKind::Status,
                detected_at: at(27, 1),
                summary: "ok → gone".to_owned(),
                stats: ChangeStats { added: 0, removed: 0, modified: 0, ratio: 0.0 },
                catalog_hits: 0,
                excerpt: String::new(),
            },
        ],
        status_changes: vec![
            StatusChangeInput {
                source: source(31, "https://mp.weixin.qq.com/s/6l999HlngOvLRdfokHJECA", "微信公众号：AIGC 行业全景图", &["行业分析"]),
                from: SourceStatus::Ok,
                to: SourceStatus::SoftGone,
                at: at(24, 6),
                final_url: None,
                error_kind: None,
            },
            StatusChangeInput {
                source: source(32, "https://www.jianshu.com/p/14eaedbbca17", "", &[]),
                from: SourceStatus::Ok,
                to: SourceStatus::Gone,
                at: at(25, 6),
                final_url: Some("https://www.jianshu.com/p/14eaedbbca17".to_owned()),
                error_kind: None,
            },
            StatusChangeInput {
                source: source(33, "https://www.huaweipai.com/zmt/show-24617.html", "华为盘古大模型解读", &["大模型"]),
                from: SourceStatus::Ok,
                to: SourceStatus::Redirected,
                at: at(26, 6),
                final_url: Some("https://www.huaweipai.com/".to_owned()),
                error_kind: None,
            },
            // Died and came back within the week: only "recovered".
            StatusChangeInput {
                source: source(34, "https://www.shifair.com/informationDetails/81632.html", "AIGC 展会资讯", &[]),
                from: SourceStatus::Ok,
                to: SourceStatus::Gone,
                at: at(24, 12),
                final_url: None,
                error_kind: None,
            },
            StatusChangeInput {
                source: source(34, "https://www.shifair.com/informationDetails/81632.html", "AIGC 展会资讯", &[]),
                from: SourceStatus::Gone,
                to: SourceStatus::Ok,
                at: at(28, 12),
                final_url: None,
                error_kind: None,
            },
        ],
        failing: vec![
            FailingInput {
                source: source(41, "http://www.360doc.com/content/12/0121/07/1075695397_1075695397.shtml", "360doc 个人图书馆", &[]),
                since: at(12, 0),
                error_kind: ErrorKind::Timeout,
            },
            // Failing for a day only: not reported yet.
            FailingInput {
                source: source(42, "https://juejin.cn/", "稀土掘金", &[]),
                since: at(29, 0),
                error_kind: ErrorKind::RateLimited,
            },
        ],
        new_mentions: vec![
            MentionInput {
                entity_kind: EntityKind::Model,
                name: "GLM-4".to_owned(),
                vendor: Some("智谱AI".to_owned()),
                source: qbitai(),
                first_seen_at: at(26, 14),
            },
            MentionInput {
                entity_kind: EntityKind::Model,
                name: "ERNIE 4.0".to_owned(),
                vendor: Some("百度".to_owned()),
                source: baidu(),
                first_seen_at: at(25, 9),
            },
            MentionInput {
                entity_kind: EntityKind::Model,
                name: "ERNIE 4.0".to_owned(),
                vendor: Some("百度".to_owned()),
                source: csdn(),
                first_seen_at: at(27, 9),
            },
            MentionInput {
                entity_kind: EntityKind::Vendor,
                name: "智谱AI".to_owned(),
                vendor: None,
                source: qbitai(),
                first_seen_at: at(26, 14),
            },
        ],
        proposed_facts: vec![FactInput {
            id: 9,
            subject: "文心一言".to_owned(),
            field: "parameters".to_owned(),
            value: "2600亿".to_owned(),
            quote: "文心一言的参数规模为2600亿，支持多模态输入。".to_owned(),
            source: baidu(),
        }],
        candidates: vec![
            CandidateInput { name: "ChatGLM3-6B".to_owned(), occurrences: 2, source: qbitai() },
            CandidateInput { name: "文心一格".to_owned(), occurrences: 1, source: baidu() },
        ],
        repo_events: vec![
            RepoEventInput {
                kind: RepoEventKind::Release,
                source: chatglm(),
                detail: "v1.1.0".to_owned(),
                url: Some("https://github.com/THUDM/ChatGLM-6B/releases/tag/v1.1.0".to_owned()),
                at: at(25, 2),
            },
            RepoEventInput {
                kind: RepoEventKind::Archive,
                source: sd(),
                detail: String::new(),
                url: None,
                at: at(27, 2),
            },
        ],
        metrics: vec![
            MetricInput {
                subject: "THUDM/ChatGLM-6B".to_owned(),
                metric: "stars".to_owned(),
                source: chatglm(),
                before: Some(40_112),
                after: 40_587,
            },
            MetricInput {
                subject: "Stability-AI/stablediffusion".to_owned(),
                metric: "stars".to_owned(),
                source: sd(),
                before: Some(38_950),
                after: 38_941,
            },
            // Unchanged and newly watched metrics are not movers.
            MetricInput {
                subject: "THUDM/chatglm-6b".to_owned(),
                metric: "downloads".to_owned(),
                source: chatglm(),
                before: None,
                after: 51_234,
            },
        ],
    }
}
