//! The CJK candidate pattern `[\p{Han}A-Za-z0-9·\-]{1,16}?大模型`, found by
//! a scan of the characters before each 大模型 instead of a regex.
//!
//! The finder already searched only a window of at most 16 characters
//! before each 大模型, but through the regex, and a lazy DFA over `\p{Han}`
//! grows large: at a cold sweep's heap peak (heaptrack, 2,000 bench pages)
//! that one pattern's caches and NFA held 2.0 MB of 32.3, a cache on every
//! thread that analyses text. The pattern's shape is simple enough for a
//! scan: the leftmost start from which a run of 1 to 16 name characters is
//! followed by the suffix, the shortest such run (the quantifier is lazy).
//! The name characters are the pattern's own class, read from
//! `regex-syntax` (the regex crate's parser, so `\p{Han}` is the same
//! Unicode table), kept as sorted ranges.

use std::ops::Range;

use regex_syntax::hir::{Class, HirKind};

use super::rule_error::RuleError;

/// What ends a CJK candidate.
pub(crate) const CJK_SUFFIX: &str = "大模型";

/// How many characters of a name may stand before [`CJK_SUFFIX`] (the
/// pattern's `{1,16}`).
pub(crate) const CJK_MAX_CHARS: usize = 16;

/// The class of a name's characters, as the pattern writes it.
const NAME_CLASS: &str = r"[\p{Han}A-Za-z0-9·\-]";

/// The characters a CJK candidate's name is made of.
pub(crate) struct NameChars {
    /// Sorted, disjoint, inclusive.
    ranges: Vec<(char, char)>,
}

impl NameChars {
    pub(crate) fn new() -> Result<Self, RuleError> {
        let hir = regex_syntax::parse(NAME_CLASS).map_err(|e| RuleError::Class(e.to_string()))?;
        match hir.kind() {
            HirKind::Class(Class::Unicode(class)) => {
                Ok(NameChars { ranges: class.ranges().iter().map(|r| (r.start(), r.end())).collect() })
            }
            other => Err(RuleError::Class(format!("{NAME_CLASS} is not a Unicode class: {other:?}"))),
        }
    }

    fn contains(&self, c: char) -> bool {
        if c.is_ascii() {
            return c.is_ascii_alphanumeric() || c == '-';
        }
        // The last range starting at or before `c`.
        let i = self.ranges.partition_point(|&(start, _)| start <= c);
        i.checked_sub(1).and_then(|i| self.ranges.get(i)).is_some_and(|&(_, end)| c <= end)
    }

    /// The pattern's leftmost match in `haystack` starting at or after byte
    /// `from` (a char boundary): what `Regex::find_at(haystack, from)` of
    /// the pattern returns.
    ///
    /// One pass: the first [`CJK_SUFFIX`] met with a name character right
    /// before it ends the match, which starts where that run of name
    /// characters does, or [`CJK_MAX_CHARS`] characters back if the run is
    /// longer. No earlier start can match (a character outside the class
    /// lies between it and any later suffix, or more than the maximum), and
    /// from that start no shorter run reaches a suffix (it would have been
    /// met first). Rescanning from every start cost up to 16 × 16 steps a
    /// window.
    pub(crate) fn find_at(&self, haystack: &str, from: usize) -> Option<Range<usize>> {
        let tail = haystack.get(from..)?;
        // Where the last (up to) CJK_MAX_CHARS characters of the current
        // run start: the `run`-th character of a run at `run % CJK_MAX_CHARS`.
        let mut starts = [0usize; CJK_MAX_CHARS];
        let mut run = 0usize;
        for (offset, c) in tail.char_indices() {
            let at = from + offset;
            if run > 0 && tail.as_bytes().get(offset..).is_some_and(|rest| rest.starts_with(CJK_SUFFIX.as_bytes())) {
                let first = if run <= CJK_MAX_CHARS { 0 } else { run % CJK_MAX_CHARS };
                return starts.get(first).map(|&start| start..at + CJK_SUFFIX.len());
            }
            if self.contains(c) {
                if let Some(slot) = starts.get_mut(run % CJK_MAX_CHARS) {
                    *slot = at;
                }
                run += 1;
            } else {
                run = 0;
            }
        }
        None
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use regex::Regex;

    use super::*;

    fn pattern() -> Regex {
        Regex::new(&format!("{NAME_CLASS}{{1,{CJK_MAX_CHARS}}}?{CJK_SUFFIX}")).unwrap()
    }

    /// The class answers as the regex does for every character.
    #[test]
    fn the_class_is_the_patterns() {
        let chars = NameChars::new().unwrap();
        let class = Regex::new(&format!("^{NAME_CLASS}$")).unwrap();
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let mut buf = [0; 4];
            assert_eq!(chars.contains(c), class.is_match(c.encode_utf8(&mut buf)), "{c:?} U+{:04X}", u32::from(c));
        }
    }

    /// The scan finds what the regex finds, from every start, on strings
    /// of the characters that decide it: the suffix's own (which are name
    /// characters too), name characters of each script and width, and
    /// characters that break a run (full-width digits are not in the
    /// class, `·` is, `・` is not).
    #[test]
    fn the_scan_is_the_patterns_find_at() {
        let chars = NameChars::new().unwrap();
        let re = pattern();
        let alphabet =
            ["大", "模", "型", "言", "𠀀", "A", "z", "7", "·", "-", "，", " ", "é", "７", "・", "_", "\u{3007}"];
        let mut rng = crate::test_rng::XorShift::new(0x510e_527f_ade6_82d1);
        let mut cases: Vec<String> = vec![
            String::new(),
            "大模型".into(),
            "言大模型".into(),
            "大模型大模型".into(),
            "大模".into(),
            format!("{}大模型", "言".repeat(16)),
            format!("{}大模型", "言".repeat(17)),
            format!("{}大模型", "A".repeat(40)),
            format!("发布{}大模型和言犀大模型", "言".repeat(16)),
        ];
        for _ in 0..20_000 {
            let len = rng.below(40);
            let mut s: String = (0..len).map(|_| alphabet[rng.below(alphabet.len())]).collect();
            for _ in 0..rng.below(3) {
                let at = s.char_indices().map(|(i, _)| i).nth(rng.below(s.chars().count() + 1)).unwrap_or(s.len());
                s.insert_str(at, CJK_SUFFIX);
            }
            cases.push(s);
        }
        let mut found = 0;
        for s in &cases {
            for (from, _) in s.char_indices().chain([(s.len(), ' ')]) {
                let want = re.find_at(s, from).map(|m| m.range());
                assert_eq!(chars.find_at(s, from), want, "{s:?} from {from}");
                found += usize::from(want.is_some());
            }
        }
        assert!(found > 10_000, "the cases exercise the pattern: {found} matches");
    }
}
