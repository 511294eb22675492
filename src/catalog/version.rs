//! The version grammar: what may follow a known model name to name one of
//! its versions or sizes (`Qwen` + `2.5-72B-Instruct`, `文心大模型` + `4.0`,
//! `ERNIE` + ` 4.0 Turbo`, `GPT-4` + `o`, `DeepSeek` + `-V2.5`).
//!
//! A hand-written scanner rather than one regex: each segment has its own
//! rules (a bare number may only start a family's version, a year or a
//! counted quantity is no version), and a trailing space is only taken when
//! a segment follows it.

/// What the name before the suffix is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// A family or a product without version: `Qwen` may take `2.5`.
    Family,
    /// Already a version: `GPT-4` may take ` Turbo` or `-32K`, never ` 2024`.
    Version,
}

/// Variant words that continue a model name (case-insensitive, whole words).
const VARIANTS: &[&str] = &[
    "instruct", "chat", "base", "turbo", "pro", "max", "plus", "lite", "mini", "nano", "micro", "tiny", "flash",
    "ultra", "air", "airx", "long", "coder", "code", "math", "vl", "vision", "audio", "omni", "preview", "sonnet",
    "opus", "haiku", "moe", "thinking", "reasoner", "speed", "large", "medium", "small", "express", "edge", "hf",
    "alltools",
];

/// Characters that make a number a count, a date or an amount, not a
/// version (`文心一言3月`, `GPT-4 2亿用户`, `Qwen 50%`).
const COUNTERS: &[char] = &[
    '月', '日', '年', '号', '个', '次', '家', '款', '项', '位', '名', '倍', '亿', '万', '千', '百', '%', '％', '天',
    '元', '岁', '周', '秒', '分', '小', '张', '篇', '条', '人', '台',
];

const MAX_SEGMENTS: usize = 6;
const MAX_LEN: usize = 48;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Segment {
    /// `2.5`, `V2.5`, `4o`
    Number,
    /// `72B`, `8x7B`, `千亿`, `32K`
    Size,
    /// `Instruct`, `R1`
    Variant,
}

/// The byte length of the version suffix at the start of `rest`, if any.
pub fn suffix(rest: &str, base: Base) -> Option<usize> {
    let b = rest.as_bytes();
    let mut pos = 0;
    let mut segments = 0;
    while segments < MAX_SEGMENTS && pos < rest.len() {
        let sep = match b.get(pos) {
            Some(b'-' | b'_' | b' ') => 1,
            _ => 0,
        };
        let at = pos + sep;
        let Some((kind, len)) = segment(rest.get(at..).unwrap_or_default()) else { break };
        let allowed = match (segments, kind) {
            // A family's first segment: a version number, a size, a variant.
            (0, Segment::Number) => base == Base::Family,
            (0, Segment::Variant) => sep == 1 || base == Base::Family,
            (_, Segment::Number) => false,
            _ => true,
        };
        if !allowed || at + len > MAX_LEN {
            break;
        }
        pos = at + len;
        segments += 1;
    }
    if segments == 0 {
        return None;
    }
    // The name must end on a word boundary: `Qwen2.5abc` is no version.
    if rest.get(pos..).and_then(|s| s.chars().next()).is_some_and(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(pos)
}

fn segment(s: &str) -> Option<(Segment, usize)> {
    let b = s.as_bytes();
    let first = *b.first()?;
    for mag in ["千亿", "百亿", "万亿"] {
        if s.starts_with(mag) {
            return Some((Segment::Size, mag.len()));
        }
    }
    let prefix = usize::from(matches!(first, b'V' | b'v') && b.get(1).is_some_and(u8::is_ascii_digit));
    if b.get(prefix).is_some_and(u8::is_ascii_digit) {
        return number(s, prefix);
    }
    if !first.is_ascii_alphabetic() {
        return None;
    }
    let word = b.iter().take_while(|c| c.is_ascii_alphabetic()).count();
    let mut end = word + b.get(word..).unwrap_or_default().iter().take_while(|c| c.is_ascii_digit()).count();
    let digits = end > word;
    while digits && b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + b.get(end + 1..)?.iter().take_while(|c| c.is_ascii_digit()).count();
    }
    if b.get(end).is_some_and(u8::is_ascii_alphanumeric) {
        return None;
    }
    let letters = s.get(..word)?;
    // `R1`, `K2`, `o1`: one or two letters and a number.
    if digits && word <= 2 {
        return Some((Segment::Variant, end));
    }
    let digits = usize::from(digits);
    (digits == 0 && VARIANTS.iter().any(|v| v.eq_ignore_ascii_case(letters))).then_some((Segment::Variant, word))
}

/// `2.5`, `V3`, `4o`, `72B`, `1.5b`, `8x7B`, `32K`; never a year, a
/// three-digit code or a counted quantity.
fn number(s: &str, prefix: usize) -> Option<(Segment, usize)> {
    let b = s.as_bytes();
    let int = b.get(prefix..)?.iter().take_while(|c| c.is_ascii_digit()).count();
    let mut end = prefix + int;
    while b.get(end) == Some(&b'.') && b.get(end + 1).is_some_and(u8::is_ascii_digit) {
        end += 1 + b.get(end..)?.iter().skip(1).take_while(|c| c.is_ascii_digit()).count();
    }
    // MoE: 8x7B, 8x22B.
    if matches!(b.get(end), Some(b'x' | b'X')) && prefix == 0 && end == int {
        let each = b.get(end + 1..)?.iter().take_while(|c| c.is_ascii_digit() || **c == b'.').count();
        let unit = end + 1 + each;
        if each > 0
            && matches!(b.get(unit), Some(b'B' | b'b'))
            && !b.get(unit + 1).is_some_and(u8::is_ascii_alphanumeric)
        {
            return Some((Segment::Size, unit + 1));
        }
    }
    let next = b.get(end).copied();
    if matches!(next, Some(b'B' | b'b' | b'M' | b'm' | b'T' | b't' | b'K' | b'k'))
        && prefix == 0
        && !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric)
    {
        return Some((Segment::Size, end + 1));
    }
    // A year (2024), a code (A100's 100) or a count (3月, 2亿) is no version.
    if int >= 3 || s.get(end..)?.starts_with(COUNTERS) {
        return None;
    }
    // A glued lower-case letter: GPT-4o, Llama-3.1a is not.
    if next.is_some_and(|c| c.is_ascii_lowercase()) && !b.get(end + 1).is_some_and(u8::is_ascii_alphanumeric) {
        return Some((Segment::Number, end + 1));
    }
    Some((Segment::Number, end))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn fam(s: &str) -> Option<&str> {
        suffix(s, Base::Family).map(|n| &s[..n])
    }

    fn ver(s: &str) -> Option<&str> {
        suffix(s, Base::Version).map(|n| &s[..n])
    }

    #[test]
    fn family_versions_and_sizes() {
        assert_eq!(fam("2.5-72B-Instruct 模型"), Some("2.5-72B-Instruct"));
        assert_eq!(fam("2-7B-Instruct，"), Some("2-7B-Instruct"));
        assert_eq!(fam("2.5。"), Some("2.5"));
        assert_eq!(fam(" 4.0 Turbo is"), Some(" 4.0 Turbo"));
        assert_eq!(fam("-4-9B"), Some("-4-9B"));
        assert_eq!(fam("-3.1-405B"), Some("-3.1-405B"));
        assert_eq!(fam("-1.5-34B"), Some("-1.5-34B"));
        assert_eq!(fam("-V2.5发布"), Some("-V2.5"));
        assert_eq!(fam("-4o mini"), Some("-4o mini"));
        assert_eq!(fam("-R1 "), Some("-R1"));
        assert_eq!(fam(" 8x7B"), Some(" 8x7B"));
        assert_eq!(fam("-Max"), Some("-Max"));
        assert_eq!(fam(" 3 70B and"), Some(" 3 70B"));
    }

    #[test]
    fn no_versions() {
        for s in [" 2024年", "3月发布", " 2亿用户", "2.5abc", " is", " 100", "-2024", " 50%", "", "的"] {
            assert_eq!(fam(s), None, "{s:?}");
        }
        assert_eq!(fam(" comes in"), None);
        assert_eq!(fam(" 2 comes in"), Some(" 2"));
    }

    #[test]
    fn a_version_takes_sizes_and_variants_only() {
        assert_eq!(ver(" Turbo"), Some(" Turbo"));
        assert_eq!(ver("-72B"), Some("-72B"));
        assert_eq!(ver(" 2024"), None);
        assert_eq!(ver(" 5"), None);
        assert_eq!(ver("o"), None);
    }
}
