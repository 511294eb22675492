//! Sentence spans and small character helpers shared by the rules.

use std::ops::Range;

/// Byte spans of the sentences of `text`, trimmed, none empty.
///
/// A sentence ends at Chinese or Latin end punctuation, a semicolon or a
/// newline (a Markdown table row is one sentence). A `.` only ends one when
/// whitespace or the end follows, so `2023.3.16`, `1.17亿` and `GPT-3.5`
/// stay whole.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        let ends = match c {
            '。' | '！' | '？' | '；' | '!' | '?' | ';' | '\n' => true,
            '.' => chars.peek().is_none_or(|(_, next)| next.is_whitespace()),
            _ => false,
        };
        if ends {
            let end = i + c.len_utf8();
            push_trimmed(text, start..end, &mut out);
            start = end;
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

fn push_trimmed(text: &str, span: Range<usize>, out: &mut Vec<Range<usize>>) {
    let Some(s) = text.get(span.clone()) else {
        return;
    };
    let lead = s.len() - s.trim_start().len();
    let trail = s.len() - s.trim_end().len();
    if lead + trail < s.len() {
        out.push(span.start + lead..span.end - trail);
    }
}

/// The sentence as evidence: whole when short, else a window around
/// `focus` cut on character boundaries, so one huge line never becomes a
/// huge evidence row.
pub fn evidence(text: &str, sentence: &Range<usize>, focus: &Range<usize>) -> String {
    const MAX: usize = 600;
    let s = text.get(sentence.clone()).unwrap_or_default();
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mid = focus.start.saturating_sub(sentence.start);
    let mut from = mid.saturating_sub(MAX / 2);
    while from > 0 && !s.is_char_boundary(from) {
        from -= 1;
    }
    let mut to = (from + MAX).min(s.len());
    while to < s.len() && !s.is_char_boundary(to) {
        to += 1;
    }
    format!("…{}…", s.get(from..to).unwrap_or_default())
}

/// The character just before byte `i`.
pub fn char_before(text: &str, i: usize) -> Option<char> {
    text.get(..i).and_then(|s| s.chars().next_back())
}

/// The character at byte `i`.
pub fn char_at(text: &str, i: usize) -> Option<char> {
    text.get(i..).and_then(|s| s.chars().next())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn split(text: &str) -> Vec<&str> {
        sentences(text).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn splits_chinese_and_keeps_dotted_numbers_whole() {
        let text = "2023.3.16，百度发布\"文心一言\"。GPT-3.5 has 1.17亿 params. Next one!\n| GPT-1 | 2018-6 |";
        assert_eq!(
            split(text),
            vec!["2023.3.16，百度发布\"文心一言\"。", "GPT-3.5 has 1.17亿 params.", "Next one!", "| GPT-1 | 2018-6 |"]
        );
    }

    #[test]
    fn evidence_windows_long_lines_on_char_boundaries() {
        let text = "模".repeat(1000);
        let ev = evidence(&text, &(0..text.len()), &(1500..1503));
        assert!(ev.starts_with('…') && ev.ends_with('…'));
        assert!(ev.chars().count() < 250);
    }
}
