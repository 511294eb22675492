//! Links of a Markdown document → sources to watch (pure).
//!
//! The knowledge document cites references as Markdown links, autolinks and
//! bare URLs after a title (`* 标题  https://…`); each becomes one source,
//! titled by its link text or the text before it, tagged by its section.

use std::sync::LazyLock;

use regex::Regex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedLink {
    pub url: String,
    pub title: Option<String>,
    /// The nearest heading above the link.
    pub section: Option<String>,
    pub line: usize,
}

#[expect(clippy::expect_used, reason = "a literal pattern; the import tests compile it on every run")]
static MD_LINK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\[([^\]]*)\]\((https?://[^)\s]+)\)").expect("static regex compiles"));
#[expect(clippy::expect_used, reason = "a literal pattern; the import tests compile it on every run")]
static BARE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"https?://[^\s<>()\[\]"'，。、；：！？）（【】《》]+"#).expect("static regex compiles")
});

/// Every http(s) link of `markdown`, in order, first occurrence only.
pub fn links_from_markdown(markdown: &str) -> Vec<ImportedLink> {
    let mut out: Vec<ImportedLink> = Vec::new();
    let mut section: Option<String> = None;
    let mut in_code = false;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim();
        if trimmed.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            continue;
        }
        if let Some(h) = trimmed.strip_prefix('#') {
            let h = h.trim_start_matches('#').trim();
            if !h.is_empty() {
                section = Some(h.to_owned());
            }
            continue;
        }
        let mut push = |url: &str, title: Option<String>| {
            let url = clean_url(url);
            if !out.iter().any(|l| l.url == url) {
                out.push(ImportedLink { url, title, section: section.clone(), line: i + 1 });
            }
        };
        let mut spans = Vec::new();
        for cap in MD_LINK.captures_iter(line) {
            let (Some(all), Some(text), Some(url)) = (cap.get(0), cap.get(1), cap.get(2)) else { continue };
            spans.push(all.range());
            push(url.as_str(), clean_title(text.as_str()));
        }
        for m in BARE_URL.find_iter(line) {
            if spans.iter().any(|s| s.contains(&m.start())) {
                continue;
            }
            let before = clean_title(&line[..m.start()]);
            push(m.as_str(), before);
        }
    }
    out
}

/// Trailing punctuation is prose, not URL.
fn clean_url(url: &str) -> String {
    url.trim_end_matches(['.', ',', ';', ':', '!', '?', '&', '*']).to_owned()
}

fn clean_title(text: &str) -> Option<String> {
    let t = text.trim().trim_start_matches(['*', '-', '+', ' ']).trim();
    let t = MD_LINK.replace_all(t, "$1");
    let t = t.trim().trim_end_matches([':', '：', '-', '|']).trim();
    let t: String = t.chars().filter(|c| !matches!(c, '*' | '`')).collect();
    let t = t.trim();
    (!t.is_empty() && t.chars().count() <= 200).then(|| t.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_urls_take_the_text_before_them() {
        let md = "## 本章参考\n\n* AIGC是什么？https://xueqiu.com/4593161361/241581649\n* 大模型训练一次200-1200万美元！  https://baijiahao.baidu.com/s?id=1757766297952462884&\n";
        let links = links_from_markdown(md);
        assert_eq!(links.len(), 2);
        assert_eq!(links[0].url, "https://xueqiu.com/4593161361/241581649");
        assert_eq!(links[0].title.as_deref(), Some("AIGC是什么？"));
        assert_eq!(links[0].section.as_deref(), Some("本章参考"));
        assert_eq!(links[1].url, "https://baijiahao.baidu.com/s?id=1757766297952462884");
    }

    #[test]
    fn markdown_links_and_duplicates() {
        let md = "# 附录\n- [ChatGPT](http://chat.openai.com/) - 官方 http://chat.openai.com/\n* 2023-02-12  华福证券  [AIGC & ChatGPT 发展报告.pdf](https://file.digitaling.com/a/1.pdf)\n* https://github.com/tatsu-lab/stanford_alpaca  GPT 3.5 平替开源项目\n```\nhttps://ignored.example/\n```\n";
        let links = links_from_markdown(md);
        let urls: Vec<_> = links.iter().map(|l| l.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "http://chat.openai.com/",
                "https://file.digitaling.com/a/1.pdf",
                "https://github.com/tatsu-lab/stanford_alpaca"
            ]
        );
        assert_eq!(links[1].title.as_deref(), Some("AIGC & ChatGPT 发展报告.pdf"));
    }

    #[test]
    fn the_real_document_yields_its_references() {
        let md = include_str!("../tests/fixtures/aigc-industry-notes.md");
        let links = links_from_markdown(md);
        assert!(links.len() >= 30, "{}", links.len());
        assert!(links.iter().all(|l| l.url.starts_with("http")));
        assert!(links.iter().any(|l| l.url == "https://github.com/Significant-Gravitas/Auto-GPT"));
    }
}
