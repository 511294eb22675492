//! The diff excerpt as a typed message: `diff.rs` builds an [`Excerpt`] and
//! renders it into the text stored with a change; the digest parses that
//! text back, so the templates show insertions and deletions (`<ins>`/`<del>`
//! in HTML, `{+…+}`/`[-…-]` in text). The marks are written and read here
//! only.
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

/// An excerpt: marked lines, hunks separated by [`LineKind::Gap`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Excerpt {
    pub lines: Vec<ExcerptLine>,
}

impl Excerpt {
    /// Reads the stored text; never fails (see the module docs).
    pub fn parse(text: &str) -> Excerpt {
        Excerpt { lines: parse(text) }
    }

    /// The stored text: one marked line per line, `…` between hunks.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for (k, line) in self.lines.iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            line.render_into(&mut out);
        }
        out
    }
}

impl std::fmt::Display for Excerpt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render())
    }
}

impl ExcerptLine {
    pub fn context(text: &str) -> ExcerptLine {
        ExcerptLine { kind: LineKind::Context, segments: vec![seg(SegmentKind::Same, text)] }
    }

    pub fn removed(text: &str) -> ExcerptLine {
        ExcerptLine { kind: LineKind::Removed, segments: vec![seg(SegmentKind::Del, text)] }
    }

    pub fn added(text: &str) -> ExcerptLine {
        ExcerptLine { kind: LineKind::Added, segments: vec![seg(SegmentKind::Ins, text)] }
    }

    /// A line changed in place: unchanged, deleted and inserted runs.
    pub fn modified(segments: Vec<Segment>) -> ExcerptLine {
        ExcerptLine { kind: LineKind::Modified, segments }
    }

    pub fn gap() -> ExcerptLine {
        ExcerptLine { kind: LineKind::Gap, segments: Vec::new() }
    }

    fn render_into(&self, out: &mut String) {
        out.push_str(match self.kind {
            LineKind::Context => "  ",
            LineKind::Removed => "- ",
            LineKind::Added => "+ ",
            LineKind::Modified => "~ ",
            LineKind::Gap => "…",
        });
        for s in &self.segments {
            // Only a modified line carries inline marks; a whole added or
            // removed line is marked by its prefix.
            match (self.kind, s.kind) {
                (LineKind::Modified, SegmentKind::Del) => {
                    out.push_str("[-");
                    out.push_str(&s.text);
                    out.push_str("-]");
                }
                (LineKind::Modified, SegmentKind::Ins) => {
                    out.push_str("{+");
                    out.push_str(&s.text);
                    out.push_str("+}");
                }
                _ => out.push_str(&s.text),
            }
        }
    }
}

impl Segment {
    pub fn new(kind: SegmentKind, text: impl Into<String>) -> Segment {
        Segment { kind, text: text.into() }
    }
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

    #[test]
    fn rendering_and_parsing_round_trip() {
        let text = "  百度发布文心一言\n~ 参数规模达到[-1000亿-]{+2600亿+}，支持多模态\n- 旧的段落\n+ New paragraph\n…\n  tail";
        let excerpt = Excerpt::parse(text);
        assert_eq!(excerpt.render(), text);
        let built = Excerpt {
            lines: vec![
                ExcerptLine::context("a"),
                ExcerptLine::modified(vec![
                    Segment::new(SegmentKind::Same, "x"),
                    Segment::new(SegmentKind::Del, "1"),
                    Segment::new(SegmentKind::Ins, "2"),
                ]),
                ExcerptLine::gap(),
                ExcerptLine::removed("r"),
                ExcerptLine::added("n"),
            ],
        };
        assert_eq!(built.to_string(), "  a\n~ x[-1-]{+2+}\n…\n- r\n+ n");
        assert_eq!(Excerpt::parse(&built.render()), built);
    }
}
