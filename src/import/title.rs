//! A reference's title from the text around its URL: list numbering,
//! bullets, stray brackets and separators are the document's layout, not
//! the title.

use std::sync::LazyLock;

use regex::Regex;

/// Longest title kept, in chars: the limit every source title has.
pub use crate::source::MAX_TITLE_CHARS;

/// Numbering a list item was typed with when it is not a Markdown list
/// (`1、`, `(2)`, `[3]`, `4. ` after a bullet, `①`).
static NUMBERING: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{1,3}[.)]\s+|\d{1,3}[、）]\s*|[(（]\d{1,3}[)）]\s*|\[\^?\d{1,3}\]:?\s*|[①-⑳]\s*)")
        .unwrap_or_else(|_| unreachable!("static regex"))
});

const BULLETS: &[char] = &['*', '-', '+', '•', '·', '▪', '►', '>'];
const TRAILING: &[char] = &[
    ':', '：', '-', '–', '—', '|', '｜', ',', '，', ';', '；', '/', '<', '(', '[', '{', '（', '【', '《', '「', '→',
    '=',
];
const LEADING: &[char] =
    &[')', '）', ']', '】', '》', '」', '>', '-', '–', '—', ':', '：', '|', '｜', ',', '，', ';', '；'];

/// The title in `text`, or `None` when nothing is left.
pub fn clean_title(text: &str) -> Option<String> {
    let mut t = text.trim();
    loop {
        let before = t.len();
        t = t.trim_start_matches(BULLETS).trim_start();
        if let Some(m) = NUMBERING.find(t) {
            t = t[m.end()..].trim_start();
        }
        t = t.trim_start_matches(LEADING).trim_start();
        if t.len() == before {
            break;
        }
    }
    loop {
        let before = t.len();
        t = t.trim_end().trim_end_matches(TRAILING).trim_end();
        if t.len() == before {
            break;
        }
    }
    // Emphasis markers and code ticks that the parser left (unmatched ones).
    // Control characters and bidi overrides too: a title is one line of
    // plain text (see `crate::source::title_problem`).
    let t: String = t
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .filter(|c| !matches!(c, '`') && !crate::bidi::is_bidi_control(*c))
        .collect();
    let mut out = String::with_capacity(t.len());
    for word in t.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    if out.is_empty() || out.chars().all(|c| !c.is_alphanumeric()) {
        return None;
    }
    if out.chars().count() > MAX_TITLE_CHARS {
        out = out.chars().take(MAX_TITLE_CHARS - 1).collect::<String>() + "…";
    }
    Some(out)
}
