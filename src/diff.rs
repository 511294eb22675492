//! Snapshot diff (placeholder; the CJK-aware diff lands with issue 4).

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

#[derive(Debug, Clone)]
pub struct DiffOptions {
    pub context_lines: usize,
    pub max_excerpt_chars: usize,
    pub max_hunks: usize,
    pub deadline: Duration,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { context_lines: 1, max_excerpt_chars: 1200, max_hunks: 5, deadline: Duration::from_millis(200) }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct TextChange {
    pub added: u32,
    pub removed: u32,
    pub modified: u32,
    pub ratio: f64,
    pub summary: String,
    pub excerpt: String,
}

pub fn diff_text(old: &str, new: &str, opts: &DiffOptions) -> Option<TextChange> {
    if old == new {
        return None;
    }
    let diff = TextDiff::configure().timeout(opts.deadline).diff_lines(old, new);
    let (mut added, mut removed) = (0u32, 0u32);
    let mut excerpt = String::new();
    for change in diff.iter_all_changes() {
        let marker = match change.tag() {
            ChangeTag::Insert => {
                added += 1;
                "+ "
            }
            ChangeTag::Delete => {
                removed += 1;
                "- "
            }
            ChangeTag::Equal => continue,
        };
        if excerpt.len() < opts.max_excerpt_chars {
            excerpt.push_str(marker);
            excerpt.push_str(change.value().trim_end());
            excerpt.push('\n');
        }
    }
    let summary = format!("{added} line(s) added, {removed} removed");
    Some(TextChange { added, removed, modified: 0, ratio: 1.0 - f64::from(diff.ratio()), summary, excerpt })
}
