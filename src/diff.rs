//! Snapshot diffs on normalised text: what changed, how much, and a bounded
//! excerpt a reader can take in at a glance (pure).
//!
//! Lines (paragraphs) are diffed first; within a replaced run, old and new
//! lines that are similar are paired as *modified* and diffed inline, by
//! character for CJK and by word for Latin text, so a changed number shows as
//! that number, not as a paragraph removed and another added. Every diff runs
//! under one deadline (similar's Myers/Patience fall back to a coarse answer
//! when it passes), so a 2 MB page cannot go quadratic.

use std::time::{Duration, Instant};

use similar::{Algorithm, DiffOp, capture_diff_slices_deadline};

use crate::change::ChangeStats;
use crate::excerpt::{Excerpt, ExcerptLine, Segment, SegmentKind};
use crate::extract::is_cjk_char as is_cjk;

/// Bounds on the work and on the excerpt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffOptions {
    /// Unchanged lines shown around each change.
    pub context_lines: usize,
    /// Cap on the whole excerpt, in chars (the "…" marking a cut included).
    pub max_excerpt_chars: usize,
    /// Hunks shown; later ones are summarised by a final "…" line.
    pub max_hunks: usize,
    /// Time budget for the whole diff; past it, results get coarser, not slower.
    pub deadline: Duration,
}

impl Default for DiffOptions {
    fn default() -> Self {
        DiffOptions { context_lines: 1, max_excerpt_chars: 1200, max_hunks: 5, deadline: Duration::from_millis(200) }
    }
}

/// A content change between two normalised texts.
#[derive(Debug, Clone, PartialEq)]
pub struct TextChange {
    /// Paragraphs added, removed and modified in place, and the share of
    /// the text changed (changed chars over old + new chars).
    pub stats: ChangeStats,
    /// One line, e.g. "1 paragraph modified, 2 added".
    pub summary: String,
    /// Marked lines: "  " context, "- " removed, "+ " added, "~ " modified
    /// with `[-old-]{+new+}`; hunks separated by a "…" line. Rendered from
    /// an [`Excerpt`] (which reads it back), cut to `max_excerpt_chars`.
    pub excerpt: String,
}

/// Old/new lines this similar (token diff ratio) are one modified paragraph.
const PAIR_THRESHOLD: f32 = 0.5;
/// Replaced runs up to this many line pairs are aligned optimally; larger
/// ones are paired by position (bounded work on huge rewrites).
const MAX_ALIGN_CELLS: usize = 400;
/// Unchanged text kept on each side of an inline change.
const INLINE_CONTEXT_CHARS: usize = 40;
const MAX_CONTEXT_LINE_CHARS: usize = 120;
const MAX_WHOLE_LINE_CHARS: usize = 300;

enum Row<'a> {
    Same(&'a str),
    Removed(&'a str),
    Added(&'a str),
    Modified(Inline<'a>),
}

/// A tokenised line pair and the token ops between them.
struct Inline<'a> {
    old: Vec<&'a str>,
    new: Vec<&'a str>,
    ops: Vec<DiffOp>,
}

/// The whole diff of two snapshot texts, for reading (`changes show`):
/// every hunk and every line whole, a generous deadline. The marked lines of
/// [`crate::excerpt`]; empty when the texts are the same.
pub fn whole_diff(old: &str, new: &str) -> String {
    Excerpt { lines: whole_diff_lines(old, new) }.render()
}

/// [`whole_diff`] as typed lines (the web view's change page): text that
/// happens to look like a mark (`[-…-]`) stays text.
pub fn whole_diff_lines(old: &str, new: &str) -> Vec<ExcerptLine> {
    let opts = DiffOptions {
        context_lines: 2,
        max_excerpt_chars: usize::MAX,
        max_hunks: usize::MAX,
        deadline: Duration::from_secs(5),
    };
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    if old_lines == new_lines {
        return Vec::new();
    }
    let rows = diff_rows(&old_lines, &new_lines, Instant::now() + opts.deadline);
    excerpt_lines(&rows, &opts, true)
}

fn diff_rows<'a>(old_lines: &[&'a str], new_lines: &[&'a str], deadline: Instant) -> Vec<Row<'a>> {
    let ops = capture_diff_slices_deadline(Algorithm::Patience, old_lines, new_lines, Some(deadline));
    let mut rows = Vec::new();
    for op in ops {
        let (tag, o, n) = op.as_tag_tuple();
        match tag {
            similar::DiffTag::Equal => rows.extend(old_lines[o].iter().map(|l| Row::Same(l))),
            similar::DiffTag::Delete => rows.extend(old_lines[o].iter().map(|l| Row::Removed(l))),
            similar::DiffTag::Insert => rows.extend(new_lines[n].iter().map(|l| Row::Added(l))),
            similar::DiffTag::Replace => pair(&old_lines[o], &new_lines[n], deadline, &mut rows),
        }
    }
    rows
}

/// Diffs two normalised texts; `None` when their lines are equal.
pub fn diff_text(old: &str, new: &str, opts: &DiffOptions) -> Option<TextChange> {
    let deadline = Instant::now() + opts.deadline;
    let old_lines: Vec<&str> = old.lines().collect();
    let new_lines: Vec<&str> = new.lines().collect();
    if old_lines == new_lines {
        return None;
    }
    let rows = diff_rows(&old_lines, &new_lines, deadline);

    let (mut added, mut removed, mut modified, mut changed_chars) = (0u32, 0u32, 0u32, 0usize);
    for row in &rows {
        match row {
            Row::Same(_) => {}
            Row::Removed(l) => (removed, changed_chars) = (removed + 1, changed_chars + chars(l)),
            Row::Added(l) => (added, changed_chars) = (added + 1, changed_chars + chars(l)),
            Row::Modified(inline) => {
                modified += 1;
                changed_chars += inline.changed_chars();
            }
        }
    }
    let total: usize = old_lines.iter().chain(&new_lines).map(|l| chars(l)).sum();
    let ratio = if total == 0 { 1.0 } else { (changed_chars as f64 / total as f64).min(1.0) };
    Some(TextChange {
        stats: ChangeStats { added, removed, modified, ratio },
        summary: summary(modified, added, removed),
        excerpt: excerpt(&rows, opts),
    })
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Pairs similar lines of a replaced run as modified; the rest are removed
/// then added, in document order.
fn pair<'a>(old: &[&'a str], new: &[&'a str], deadline: Instant, rows: &mut Vec<Row<'a>>) {
    let (m, n) = (old.len(), new.len());
    let mut pairs: Vec<(usize, usize, Inline<'a>)> = Vec::new();
    if m * n <= MAX_ALIGN_CELLS {
        // Monotone alignment maximising total similarity (m·n is small).
        let mut sims: Vec<Vec<Option<(f32, Inline<'a>)>>> =
            old.iter().map(|o| new.iter().map(|nw| similar_pair(o, nw, deadline)).collect()).collect();
        let score = |s: &Option<(f32, Inline<'a>)>| s.as_ref().map_or(0.0, |(r, _)| *r);
        let mut dp = vec![vec![0.0f32; n + 1]; m + 1];
        for i in 1..=m {
            for j in 1..=n {
                let diag = match &sims[i - 1][j - 1] {
                    Some(_) => dp[i - 1][j - 1] + score(&sims[i - 1][j - 1]),
                    None => f32::MIN,
                };
                dp[i][j] = dp[i - 1][j].max(dp[i][j - 1]).max(diag);
            }
        }
        let (mut i, mut j) = (m, n);
        while i > 0 && j > 0 {
            let here = dp[i][j];
            if sims[i - 1][j - 1].is_some() && here == dp[i - 1][j - 1] + score(&sims[i - 1][j - 1]) {
                if let Some((_, inline)) = sims[i - 1][j - 1].take() {
                    pairs.push((i - 1, j - 1, inline));
                }
                i -= 1;
                j -= 1;
            } else if here == dp[i - 1][j] {
                i -= 1;
            } else {
                j -= 1;
            }
        }
        pairs.reverse();
    } else {
        for k in 0..m.min(n) {
            if let Some((_, inline)) = similar_pair(old[k], new[k], deadline) {
                pairs.push((k, k, inline));
            }
        }
    }
    let (mut i, mut j) = (0, 0);
    for (pi, pj, inline) in pairs {
        rows.extend(old[i..pi].iter().map(|l| Row::Removed(l)));
        rows.extend(new[j..pj].iter().map(|l| Row::Added(l)));
        rows.push(Row::Modified(inline));
        (i, j) = (pi + 1, pj + 1);
    }
    rows.extend(old[i..].iter().map(|l| Row::Removed(l)));
    rows.extend(new[j..].iter().map(|l| Row::Added(l)));
}

/// The inline diff of two lines when they are similar enough to pair.
fn similar_pair<'a>(old: &'a str, new: &'a str, deadline: Instant) -> Option<(f32, Inline<'a>)> {
    let (a, b) = (chars(old), chars(new));
    // ratio ≤ 2·min/(min+max) < 0.5 whenever max > 3·min: skip the diff.
    if a.max(b) > 3 * a.min(b) || Instant::now() > deadline {
        return None;
    }
    let old_t = tokenize(old);
    let new_t = tokenize(new);
    let ops = capture_diff_slices_deadline(Algorithm::Myers, &old_t, &new_t, Some(deadline));
    let ratio = similar::get_diff_ratio(&ops, old_t.len(), new_t.len());
    (ratio >= PAIR_THRESHOLD).then_some((ratio, Inline { old: old_t, new: new_t, ops }))
}

/// Tokens for the inline diff: one per CJK character, one per Latin word or
/// number ("3.1", "1,234", "GPT" — inner '.'/',' kept), one per whitespace
/// run, one per other symbol.
fn tokenize(line: &str) -> Vec<&str> {
    let mut tokens = Vec::new();
    let chars: Vec<(usize, char)> = line.char_indices().collect();
    let end_of = |k: usize| chars.get(k).map_or(line.len(), |(b, _)| *b);
    let mut k = 0;
    while k < chars.len() {
        let (start, c) = chars[k];
        let mut e = k + 1;
        if c.is_alphanumeric() && !is_cjk(c) {
            while e < chars.len() {
                let d = chars[e].1;
                let joins = matches!(d, '.' | ',' | '_')
                    && chars.get(e + 1).is_some_and(|(_, x)| x.is_alphanumeric() && !is_cjk(*x));
                if (d.is_alphanumeric() && !is_cjk(d)) || joins {
                    e += 1;
                } else {
                    break;
                }
            }
        } else if c.is_whitespace() {
            while e < chars.len() && chars[e].1.is_whitespace() {
                e += 1;
            }
        }
        tokens.push(&line[start..end_of(e)]);
        k = e;
    }
    tokens
}

impl Inline<'_> {
    fn changed_chars(&self) -> usize {
        self.ops
            .iter()
            .map(|op| match op.as_tag_tuple() {
                (similar::DiffTag::Equal, _, _) => 0,
                (_, o, n) => self.old[o].iter().chain(&self.new[n]).map(|t| chars(t)).sum(),
            })
            .sum()
    }

    /// `参数量为[-1500-]{+1750+}亿`: removed before added; a lone space or
    /// symbol between two changes is folded into them so marks do not
    /// fragment; long unchanged stretches are elided to "…".
    /// The line's runs; unchanged text is shortened around the changes
    /// unless `whole`.
    fn render(&self, whole: bool) -> Vec<Segment> {
        // (is_change, old text, new text) runs.
        let mut runs: Vec<(bool, String, String)> = Vec::new();
        for op in &self.ops {
            let (tag, o, n) = op.as_tag_tuple();
            let old: String = self.old[o].concat();
            let new: String = self.new[n].concat();
            let change = tag != similar::DiffTag::Equal;
            match runs.last_mut() {
                Some(last) if last.0 == change => {
                    last.1.push_str(&old);
                    last.2.push_str(&new);
                }
                _ => runs.push((change, old, new)),
            }
        }
        // Fold tiny equal runs sitting between two changes.
        let mut merged: Vec<(bool, String, String)> = Vec::new();
        let mut idx = 0;
        while idx < runs.len() {
            let (change, old, new) = runs[idx].clone();
            let tiny_gap = !change && idx > 0 && idx + 1 < runs.len() && (old.trim().is_empty() || chars(&old) <= 1);
            match merged.last_mut() {
                Some(last) if last.0 && (change || tiny_gap) => {
                    last.1.push_str(&old);
                    last.2.push_str(&new);
                }
                _ => merged.push((change || tiny_gap, old, new)),
            }
            idx += 1;
        }
        let last = merged.len().saturating_sub(1);
        let mut out = Vec::new();
        for (k, (change, old, new)) in merged.into_iter().enumerate() {
            if change {
                if !old.is_empty() {
                    out.push(Segment::new(SegmentKind::Del, old));
                }
                if !new.is_empty() {
                    out.push(Segment::new(SegmentKind::Ins, new));
                }
            } else {
                let text = if whole { old } else { elide(&old, k == 0, k == last) };
                out.push(Segment::new(SegmentKind::Same, text));
            }
        }
        out
    }
}

/// Shortens unchanged text around inline changes, keeping the side that
/// touches a change.
fn elide(text: &str, first: bool, last: bool) -> String {
    let n = chars(text);
    let w = INLINE_CONTEXT_CHARS;
    let head = |k: usize| text.chars().take(k).collect::<String>();
    let tail = |k: usize| text.chars().skip(n - k).collect::<String>();
    match (first, last) {
        (true, true) => text.to_owned(),
        (true, false) if n > w => format!("…{}", tail(w)),
        (false, true) if n > w => format!("{}…", head(w)),
        (false, false) if n > 2 * w + 1 => format!("{}…{}", head(w), tail(w)),
        _ => text.to_owned(),
    }
}

fn truncate(line: &str, max: usize) -> String {
    if chars(line) <= max {
        return line.to_owned();
    }
    let mut s: String = line.chars().take(max).collect();
    s.push('…');
    s
}

fn summary(modified: u32, added: u32, removed: u32) -> String {
    let parts: Vec<(u32, &str)> =
        [(modified, "modified"), (added, "added"), (removed, "removed")].into_iter().filter(|(n, _)| *n > 0).collect();
    let mut out = String::new();
    for (k, (n, verb)) in parts.iter().enumerate() {
        if k == 0 {
            let noun = if *n == 1 { "paragraph" } else { "paragraphs" };
            out.push_str(&format!("{n} {noun} {verb}"));
        } else {
            out.push_str(&format!(", {n} {verb}"));
        }
    }
    out
}

fn excerpt(rows: &[Row<'_>], opts: &DiffOptions) -> String {
    let text = Excerpt { lines: excerpt_lines(rows, opts, false) }.render();
    if chars(&text) <= opts.max_excerpt_chars {
        return text;
    }
    let mut cut: String = text.chars().take(opts.max_excerpt_chars.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

/// The hunks as typed lines; long lines are cut unless `whole` (the whole
/// diff a reader asked for).
fn excerpt_lines(rows: &[Row<'_>], opts: &DiffOptions, whole: bool) -> Vec<ExcerptLine> {
    let cut = |l: &str, max: usize| if whole { l.to_owned() } else { truncate(l, max) };
    let mut hunks: Vec<(usize, usize)> = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        if matches!(row, Row::Same(_)) {
            continue;
        }
        let start = i.saturating_sub(opts.context_lines);
        let end = (i + opts.context_lines + 1).min(rows.len());
        match hunks.last_mut() {
            Some(h) if start <= h.1 => h.1 = end,
            _ => hunks.push((start, end)),
        }
    }
    let more = hunks.len() > opts.max_hunks;
    let mut lines: Vec<ExcerptLine> = Vec::new();
    for (k, (start, end)) in hunks.into_iter().take(opts.max_hunks).enumerate() {
        if k > 0 {
            lines.push(ExcerptLine::gap());
        }
        for row in &rows[start..end] {
            lines.push(match row {
                Row::Same(l) => ExcerptLine::context(&cut(l, MAX_CONTEXT_LINE_CHARS)),
                Row::Removed(l) => ExcerptLine::removed(&cut(l, MAX_WHOLE_LINE_CHARS)),
                Row::Added(l) => ExcerptLine::added(&cut(l, MAX_WHOLE_LINE_CHARS)),
                Row::Modified(inline) => ExcerptLine::modified(inline.render(whole)),
            });
        }
    }
    if more {
        lines.push(ExcerptLine::gap());
    }
    lines
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn diff(old: &str, new: &str) -> TextChange {
        diff_text(old, new, &DiffOptions::default()).unwrap()
    }

    #[test]
    fn the_whole_diff_keeps_long_lines_whole() {
        let long = "很长的一段背景介绍，".repeat(40);
        let old = format!("{long}参数量为1500亿。\n{long}");
        let new = format!("{long}参数量为1750亿。\n{long}");
        let short = diff(&old, &new).excerpt;
        assert!(short.contains('…'), "the excerpt shortens: {short}");
        let whole = whole_diff_lines(&old, &new);
        let text: String = whole.iter().flat_map(|l| l.segments.iter().map(|s| s.text.as_str())).collect();
        assert!(text.contains(&format!("{long}参数量为1")) && !text.contains('…'), "{text}");
        assert!(whole_diff_lines("同一段", "同一段").is_empty());
    }

    #[test]
    fn equal_texts_are_no_change() {
        assert_eq!(diff_text("同一段文字\n第二段", "同一段文字\n第二段", &DiffOptions::default()), None);
        assert_eq!(diff_text("a\nb\n", "a\nb", &DiffOptions::default()), None);
    }

    #[test]
    fn cjk_number_change_is_character_level() {
        let old = "GPT-3发布于2020年。\n参数量为1500亿。\n训练数据来自互联网。";
        let new = "GPT-3发布于2020年。\n参数量为1750亿。\n训练数据来自互联网。";
        let c = diff(old, new);
        assert_eq!((c.stats.added, c.stats.removed, c.stats.modified), (0, 0, 1));
        assert_eq!(c.summary, "1 paragraph modified");
        assert_eq!(c.excerpt, "  GPT-3发布于2020年。\n~ 参数量为[-1500-]{+1750+}亿。\n  训练数据来自互联网。");
    }

    #[test]
    fn cjk_character_change() {
        let c = diff("百度发布文心一言。", "百度发布文心一格。");
        assert_eq!(c.excerpt, "~ 百度发布文心一[-言-]{+格+}。");
    }

    #[test]
    fn latin_change_is_word_level() {
        let c = diff(
            "Meta released Llama 3.1 with a 128K context window.",
            "Meta released Llama 3.2 with a 128K context window.",
        );
        assert_eq!(c.excerpt, "~ Meta released Llama [-3.1-]{+3.2+} with a 128K context window.");
    }

    #[test]
    fn added_and_removed_paragraphs() {
        let old = "第一段。\n第二段讲的是训练成本。\n第三段。";
        let new = "第一段。\n第三段。\n新增一段：DeepSeek-V3训练成本约557万美元。";
        let c = diff(old, new);
        assert_eq!((c.stats.added, c.stats.removed, c.stats.modified), (1, 1, 0));
        assert_eq!(c.summary, "1 paragraph added, 1 removed");
        assert_eq!(
            c.excerpt,
            "  第一段。\n- 第二段讲的是训练成本。\n  第三段。\n+ 新增一段：DeepSeek-V3训练成本约557万美元。"
        );
        assert!(c.stats.ratio > 0.3 && c.stats.ratio < 0.9, "{}", c.stats.ratio);
    }

    #[test]
    fn rewritten_sentence_among_others_pairs_by_similarity() {
        let old = "开头\n智谱AI发布了GLM-4模型，支持128K上下文。\n结尾";
        let new = "开头\n全新段落，与原文毫无关系的一句话在这里。\n智谱AI发布了GLM-4-Plus模型，支持128K上下文。\n结尾";
        let c = diff(old, new);
        assert_eq!((c.stats.added, c.stats.removed, c.stats.modified), (1, 0, 1));
        assert!(c.excerpt.contains("~ 智谱AI发布了GLM-4{+-Plus+}模型，支持128K上下文。"), "{}", c.excerpt);
    }

    #[test]
    fn hunks_are_separated_and_bounded() {
        let mut old: Vec<String> = (0..40).map(|i| format!("第{i}段内容保持不变。")).collect();
        let mut new = old.clone();
        for i in [5, 15, 25, 35] {
            new[i] = format!("第{i}段内容已经修改。");
        }
        old.push("尾".into());
        new.push("尾".into());
        let opts = DiffOptions { max_hunks: 2, ..DiffOptions::default() };
        let c = diff_text(&old.join("\n"), &new.join("\n"), &opts).unwrap();
        assert_eq!(c.stats.modified, 4);
        let lines: Vec<&str> = c.excerpt.lines().collect();
        assert_eq!(lines.iter().filter(|l| l.starts_with("~ ")).count(), 2);
        assert_eq!(lines[3], "…");
        assert_eq!(*lines.last().unwrap(), "…");
    }

    #[test]
    fn excerpt_is_capped_on_char_boundary() {
        let old = "甲".repeat(10);
        let new: String = (0..200).map(|i| format!("新增的第{i}段文字\n")).collect();
        let opts = DiffOptions { max_excerpt_chars: 50, ..DiffOptions::default() };
        let c = diff_text(&old, &new, &opts).unwrap();
        assert_eq!(c.excerpt.chars().count(), 50);
        assert!(c.excerpt.ends_with('…'));
    }

    #[test]
    fn long_modified_paragraph_is_elided_around_the_edit() {
        let filler = "这是一段很长的背景介绍，".repeat(10);
        let old = format!("{filler}模型在MMLU上得分86.4。{filler}");
        let new = format!("{filler}模型在MMLU上得分88.7。{filler}");
        let c = diff(&old, &new);
        assert!(c.excerpt.contains("得分[-86.4-]{+88.7+}。"), "{}", c.excerpt);
        assert!(c.excerpt.chars().count() < 120, "{}", c.excerpt);
        assert!(c.excerpt.starts_with("~ …"));
    }

    #[test]
    fn summary_forms() {
        assert_eq!(summary(1, 2, 0), "1 paragraph modified, 2 added");
        assert_eq!(summary(0, 0, 3), "3 paragraphs removed");
    }

    #[test]
    fn tokens() {
        assert_eq!(tokenize("Llama 3.1 有405B参数"), vec!["Llama", " ", "3.1", " ", "有", "405B", "参", "数"]);
    }

    #[test]
    fn huge_rewrite_is_bounded() {
        let old: String = (0..20_000).map(|i| format!("旧的第{i}行，内容 A{i}\n")).collect();
        let new: String = (0..20_000).map(|i| format!("全新第{}行 B{}\n", i * 7, i)).collect();
        let opts = DiffOptions { deadline: Duration::from_millis(100), ..DiffOptions::default() };
        let t = Instant::now();
        let c = diff_text(&old, &new, &opts).unwrap();
        assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
        assert!(c.stats.ratio > 0.3);
        assert!(c.excerpt.chars().count() <= 1200);
    }

    #[test]
    fn cjk_sentence_rewrite_marks_only_the_rewritten_parts() {
        let c = diff(
            "百度方面表示，文心大模型4.5在多个测试集上的表现优于GPT-4.5。",
            "百度表示，文心4.5在部分测试集上的表现接近GPT-4.5。",
        );
        assert_eq!(
            c.excerpt,
            "~ 百度[-方面-]表示，文心[-大模型-]4.5在[-多个-]{+部分+}测试集上的表现[-优于-]{+接近+}GPT-4.5。"
        );
    }

    #[test]
    fn latin_sentence_rewrite_is_word_level() {
        let c = diff(
            "The model will be released next week under an Apache 2.0 license.",
            "The model was released today under a custom community license.",
        );
        assert_eq!(
            c.excerpt,
            "~ The model [-will be-]{+was+} released [-next week-]{+today+} under [-an Apache 2.0-]{+a custom community+} license."
        );
        assert!((c.stats.ratio - 0.40).abs() < 0.05, "{}", c.stats.ratio);
    }
}
