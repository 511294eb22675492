//! The words around the data, in the reader's language (`digest.language`).
//!
//! Kept in Rust rather than in the templates so an overriding template only
//! needs to change layout; it can still hard-code its own words.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The digest's language. Chinese is the default: the knowledge base is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Zh,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Zh => "zh",
            Language::En => "en",
        }
    }
}

impl std::str::FromStr for Language {
    type Err = crate::types::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zh" => Ok(Language::Zh),
            "en" => Ok(Language::En),
            _ => Err(crate::types::UnknownName { what: "language", got: s.to_owned(), expected: &["zh", "en"] }),
        }
    }
}

/// Placeholders like `{n}` are filled by the templates with `replace`.
#[derive(Debug, Clone, Serialize)]
pub struct Labels {
    pub brand: &'static str,
    pub colon: &'static str,
    pub title: &'static str,
    pub subject_changes: &'static str,
    pub subject_models: &'static str,
    pub subject_dead: &'static str,
    pub subject_empty: &'static str,
    pub summary: &'static str,
    pub nothing: &'static str,
    pub catalog: &'static str,
    pub new_models: &'static str,
    pub new_vendors: &'static str,
    pub more_sources: &'static str,
    /// A capped list's last line: `{n}` items left out, `{command}` lists them.
    pub more_items: &'static str,
    pub facts: &'static str,
    pub candidates: &'static str,
    pub repos: &'static str,
    pub movers: &'static str,
    pub content: &'static str,
    pub untagged: &'static str,
    pub health: &'static str,
    pub died: &'static str,
    pub redirected: &'static str,
    pub recovered: &'static str,
    pub failing: &'static str,
    pub days: &'static str,
    pub footer: &'static str,
    /// The link to an item's page in the web view (`web.base_url`).
    pub web_page: &'static str,
    pub markers: BTreeMap<&'static str, &'static str>,
    pub repo_kinds: BTreeMap<&'static str, &'static str>,
    pub metrics: BTreeMap<&'static str, &'static str>,
}

/// The excerpt markers are the diff format's own, in both languages.
fn markers() -> BTreeMap<&'static str, &'static str> {
    BTreeMap::from([("context", "  "), ("removed", "- "), ("added", "+ "), ("modified", "~ ")])
}

pub fn labels(lang: Language) -> Labels {
    match lang {
        Language::Zh => Labels {
            brand: "modelwatch 周报",
            colon: "：",
            title: "modelwatch 每周摘要",
            subject_changes: "{n} 处内容变更",
            subject_models: "{n} 个新模型",
            subject_dead: "{n} 个链接失效",
            subject_empty: "本周无变化",
            summary: "本期共 {changes} 处变更，涉及 {sources} 个来源；新提及模型 {models} 个；失效链接 {dead} 个。",
            nothing: "本期没有需要关注的变化。",
            catalog: "模型与厂商目录",
            new_models: "首次提及的模型",
            new_vendors: "首次提及的厂商",
            more_sources: "（另有 {n} 个来源）",
            more_items: "……另有 {n} 项未列出，运行 {command} 查看",
            facts: "待审核的事实",
            candidates: "疑似新模型（未收录）",
            repos: "发布与仓库",
            movers: "星标与下载量变化最大",
            content: "内容变更",
            untagged: "未分类",
            health: "链接健康",
            died: "已失效",
            redirected: "被重定向",
            recovered: "已恢复",
            failing: "持续失败",
            days: "（已 {n} 天）",
            footer: "由 modelwatch 自动生成。回复本邮件不会被阅读；请用 `modelwatch catalog facts` 审核事实。",
            web_page: "网页查看",
            markers: markers(),
            repo_kinds: BTreeMap::from([("release", "发布"), ("rename", "更名"), ("archive", "归档")]),
            metrics: BTreeMap::from([("stars", "星标"), ("downloads", "下载量")]),
        },
        Language::En => Labels {
            brand: "modelwatch digest",
            colon: ": ",
            title: "modelwatch weekly digest",
            subject_changes: "{n} changes",
            subject_models: "{n} new models",
            subject_dead: "{n} dead links",
            subject_empty: "no changes",
            summary: "{changes} changes across {sources} sources; {models} new models mentioned; {dead} links died.",
            nothing: "Nothing worth your attention changed in this period.",
            catalog: "Catalog",
            new_models: "Models mentioned for the first time",
            new_vendors: "Vendors mentioned for the first time",
            more_sources: "(+{n} more)",
            more_items: "… {n} more not listed; run {command} to see them",
            facts: "Proposed facts waiting for review",
            candidates: "Possible new models (not in the catalog)",
            repos: "Releases and repositories",
            movers: "Top movers",
            content: "Content changes",
            untagged: "Untagged",
            health: "Link health",
            died: "Died",
            redirected: "Redirected",
            recovered: "Recovered",
            failing: "Still failing",
            days: "({n} days)",
            footer: "Generated by modelwatch. Replies are not read; review facts with `modelwatch catalog facts`.",
            web_page: "open on the web",
            markers: markers(),
            repo_kinds: BTreeMap::from([("release", "release"), ("rename", "renamed"), ("archive", "archived")]),
            metrics: BTreeMap::from([("stars", "stars"), ("downloads", "downloads")]),
        },
    }
}
