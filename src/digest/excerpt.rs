//! Parses `diff.rs`'s excerpt format into lines and marked segments, so the
//! templates can show insertions and deletions (`<ins>`/`<del>` in HTML,
//! `{+…+}`/`[-…-]` in text) without re-implementing the format.
//!
//! The format: each line starts with a two-character marker — `"  "` context,
//! `"- "` removed, `"+ "` added, `"~ "` modified with inline `[-removed-]` and
//! `{+added+}` marks — and hunks are separated by a line `"…"`. Anything else
//! (hostile or future input) is shown as context, never dropped or panicked on.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    Context,
    Removed,
    Added,
    Modified,
    /// The separator between two hunks.
    Gap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SegmentKind {
    Same,
    Ins,
    Del,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub kind: SegmentKind,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExcerptLine {
    pub kind: LineKind,
    pub segments: Vec<Segment>,
}

/// Splits an excerpt into typed lines.
pub fn parse(excerpt: &str) -> Vec<ExcerptLine> {
    excerpt.lines().filter(|l| !l.is_empty()).map(parse_line).collect()
}

fn parse_line(line: &str) -> ExcerptLine {
    if line.trim() == "…" {
        return ExcerptLine { kind: LineKind::Gap, segments: Vec::new() };
    }
    let (kind, rest) = match line.get(..2) {
        Some("  ") => (LineKind::Context, &line[2..]),
        Some("- ") => (LineKind::Removed, &line[2..]),
        Some("+ ") => (LineKind::Added, &line[2..]),
        Some("~ ") => (LineKind::Modified, &line[2..]),
        _ => (LineKind::Context, line),
    };
    let segments = match kind {
        LineKind::Modified => inline_marks(rest),
        LineKind::Removed => vec![seg(SegmentKind::Del, rest)],
        LineKind::Added => vec![seg(SegmentKind::Ins, rest)],
        _ => vec![seg(SegmentKind::Same, rest)],
    };
    ExcerptLine { kind, segments }
}

fn seg(kind: SegmentKind, text: &str) -> Segment {
    Segment { kind, text: text.to_owned() }
}

/// Splits `a[-b-]{+c+}d` into same/del/ins/same. An opening mark without its
/// closing mark is plain text.
fn inline_marks(mut rest: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    let mut plain = String::new();
    while !rest.is_empty() {
        let mark = [("[-", "-]", SegmentKind::Del), ("{+", "+}", SegmentKind::Ins)].into_iter().find_map(
            |(open, close, kind)| {
                let body = rest.strip_prefix(open)?;
                let end = body.find(close)?;
                Some((kind, &body[..end], &body[end + close.len()..]))
            },
        );
        match mark {
            Some((kind, text, after)) => {
                if !plain.is_empty() {
                    out.push(seg(SegmentKind::Same, &std::mem::take(&mut plain)));
                }
                out.push(seg(kind, text));
                rest = after;
            }
            None => {
                let mut chars = rest.chars();
                if let Some(c) = chars.next() {
                    plain.push(c);
                }
                rest = chars.as_str();
            }
        }
    }
    if !plain.is_empty() {
        out.push(seg(SegmentKind::Same, &plain));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_marker_and_inline_marks() {
        let lines = parse(
            "  百度发布文心一言\n~ 参数规模达到[-1000亿-]{+2600亿+}，支持多模态\n- 旧的段落\n+ New paragraph\n…\n  tail",
        );
        let kinds: Vec<_> = lines.iter().map(|l| l.kind).collect();
        assert_eq!(
            kinds,
            [
                LineKind::Context,
                LineKind::Modified,
                LineKind::Removed,
                LineKind::Added,
                LineKind::Gap,
                LineKind::Context
            ]
        );
        assert_eq!(
            lines[1].segments,
            vec![
                seg(SegmentKind::Same, "参数规模达到"),
                seg(SegmentKind::Del, "1000亿"),
                seg(SegmentKind::Ins, "2600亿"),
                seg(SegmentKind::Same, "，支持多模态"),
            ]
        );
        assert_eq!(lines[2].segments, vec![seg(SegmentKind::Del, "旧的段落")]);
    }

    #[test]
    fn hostile_input_is_context_not_a_panic() {
        let lines = parse("x\n~ 未闭合[-标记 and {+ also\n~\n-");
        assert_eq!(lines[0].kind, LineKind::Context);
        assert_eq!(lines[1].segments, vec![seg(SegmentKind::Same, "未闭合[-标记 and {+ also")]);
        assert_eq!(lines.len(), 4);
    }
}
