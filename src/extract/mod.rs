//! HTML → main text (placeholder; the full extractor lands with issue 4).

use scraper::{ElementRef, Html, Node, Selector};

#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    pub select: Option<String>,
    pub exclude: Vec<String>,
    pub ignore: Vec<String>,
    pub default_noise: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Extracted {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub text: String,
    pub removed: Vec<String>,
    pub feed_links: Vec<String>,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ExtractError {
    #[error("invalid CSS selector {css:?}: {reason}")]
    BadSelector { css: String, reason: String },
    #[error("invalid regex {pattern:?}: {reason}")]
    BadRegex { pattern: String, reason: String },
}

pub fn validate_selector(css: &str) -> Result<(), ExtractError> {
    Selector::parse(css)
        .map(|_| ())
        .map_err(|e| ExtractError::BadSelector { css: css.to_owned(), reason: e.to_string() })
}

pub fn validate_regex(re: &str) -> Result<(), ExtractError> {
    regex::Regex::new(re)
        .map(|_| ())
        .map_err(|e| ExtractError::BadRegex { pattern: re.to_owned(), reason: e.to_string() })
}

const SKIP: &[&str] = &["script", "style", "noscript", "nav", "header", "footer", "aside", "template", "svg"];
const BLOCK: &[&str] = &[
    "p",
    "div",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "br",
    "section",
    "article",
    "blockquote",
    "pre",
    "table",
    "ul",
    "ol",
    "dd",
    "dt",
];

pub fn extract_page(html: &str, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    let doc = Html::parse_document(html);
    let title = Selector::parse("title")
        .ok()
        .and_then(|s| doc.select(&s).next().map(|t| t.text().collect::<String>().trim().to_owned()))
        .filter(|t| !t.is_empty());
    let root = match &opts.select {
        Some(css) => {
            let sel = Selector::parse(css)
                .map_err(|e| ExtractError::BadSelector { css: css.clone(), reason: e.to_string() })?;
            doc.select(&sel).next()
        }
        None => Selector::parse("body").ok().and_then(|s| doc.select(&s).next()),
    };
    let mut out = String::new();
    if let Some(root) = root {
        walk(root, &mut out);
    }
    let (text, removed) = apply_noise_rules(&out, opts);
    Ok(Extracted { title, text, removed, ..Default::default() })
}

fn walk(el: ElementRef<'_>, out: &mut String) {
    for child in el.children() {
        match child.value() {
            Node::Text(t) => out.push_str(t),
            Node::Element(e) => {
                let name = e.name();
                if SKIP.contains(&name) {
                    continue;
                }
                let block = BLOCK.contains(&name);
                if block {
                    out.push('\n');
                }
                if let Some(child_el) = ElementRef::wrap(child) {
                    walk(child_el, out);
                }
                if block {
                    out.push('\n');
                }
            }
            _ => {}
        }
    }
}

pub fn normalize_text(text: &str) -> String {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

pub fn apply_noise_rules(text: &str, opts: &ExtractOptions) -> (String, Vec<String>) {
    let ignore: Vec<regex::Regex> = opts.ignore.iter().filter_map(|r| regex::Regex::new(r).ok()).collect();
    let mut removed = Vec::new();
    let mut kept = Vec::new();
    for line in normalize_text(text).lines() {
        if ignore.iter().any(|r| r.is_match(line)) {
            removed.push(line.to_owned());
        } else {
            kept.push(line.to_owned());
        }
    }
    (kept.join("\n"), removed)
}

pub fn soft_gone_reason(extracted: &Extracted) -> Option<String> {
    const NOTICES: &[&str] = &["页面不存在", "该内容已被删除", "此内容因违规无法查看", "page not found"];
    let short = extracted.text.chars().count() < 400;
    let hay = format!("{}\n{}", extracted.title.as_deref().unwrap_or(""), extracted.text).to_lowercase();
    NOTICES.iter().find(|n| short && hay.contains(*n)).map(|n| format!("the page says {n:?}"))
}
