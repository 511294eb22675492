//! A pattern with ASCII digit and space classes, for the texts on which
//! they match what the Unicode ones do (the default noise rules, the
//! catalog's date patterns).
//!
//! The patterns are written with Unicode `\d`, `\s` and `\S`; each `\d`
//! is a UTF-8 automaton for 70-odd ranges of digits, and the patterns
//! repeat them (`\d{4}\s*[-/.年]\s*\d{1,2}…`): the 16 noise rules' NFAs
//! held 1.0 MB from the first extraction on, the date patterns' automata
//! and lazy-DFA caches 1.6 MB (heaptrack, a cold sweep of 2,000 bench
//! pages). Normalisation folds full-width digits and spaces to ASCII
//! (`extract::normalize`), so a line with a digit or a space outside ASCII
//! is rare. On a line without one, `\d` matches exactly
//! `[0-9]`, `\s` exactly `[\t\n\x0B\f\r ]` and `\S` exactly their
//! complement, so the rewritten pattern finds exactly the same matches (and
//! the same groups); a text with one takes the pattern as written,
//! compiled on first need.

use std::sync::OnceLock;

use regex::Regex;
use regex_syntax::hir::{Class, HirKind};

/// A pattern compiled in its ASCII form, and as written on first need.
pub(crate) struct TwoForms {
    written: String,
    ascii: Regex,
    unicode: OnceLock<Option<Regex>>,
}

impl TwoForms {
    pub(crate) fn new(written: String) -> Result<Self, regex::Error> {
        let ascii = Regex::new(&ascii_pattern(&written))?;
        Ok(TwoForms { written, ascii, unicode: OnceLock::new() })
    }

    /// The regex to search a text with: the ASCII form unless the text
    /// holds a digit or space outside ASCII ([`Unicode::in_text`]). Both
    /// forms have the same groups.
    pub(crate) fn regex(&self, unicode: bool) -> Option<&Regex> {
        if !unicode {
            return Some(&self.ascii);
        }
        self.unicode.get_or_init(|| Regex::new(&self.written).ok()).as_ref()
    }

    #[cfg(test)]
    pub(crate) fn written(&self) -> &str {
        &self.written
    }
}

/// The Unicode classes replaced, and what replaces them (valid inside a
/// bracketed class too, as a nested class).
const REWRITES: [(&str, &str); 3] = [(r"\d", "[0-9]"), (r"\s", r"[\t\n\x0B\f\r ]"), (r"\S", r"[^\t\n\x0B\f\r ]")];

/// `pattern` with [`REWRITES`] applied; an escaped backslash (`\\`) is
/// kept as it is.
pub(crate) fn ascii_pattern(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() * 2);
    let mut rest = pattern;
    while let Some(at) = rest.find('\\') {
        out.push_str(rest.get(..at).unwrap_or_default());
        let escape = rest.get(at..).unwrap_or_default();
        let len = escape.chars().nth(1).map_or(1, |c| 1 + c.len_utf8());
        let written = escape.get(..len).unwrap_or(escape);
        out.push_str(REWRITES.iter().find(|(from, _)| *from == written).map_or(written, |(_, to)| to));
        rest = escape.get(len..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// The characters outside ASCII that Unicode `\d` or `\s` matches.
pub(crate) struct Unicode {
    /// Sorted, disjoint, inclusive.
    ranges: Vec<(char, char)>,
}

impl Unicode {
    pub(crate) fn new() -> Option<Self> {
        let hir = regex_syntax::parse(r"[\d\s]").ok()?;
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else { return None };
        let ranges =
            class.ranges().iter().filter(|r| !r.end().is_ascii()).map(|r| (r.start().max('\u{80}'), r.end())).collect();
        Some(Unicode { ranges })
    }

    /// Whether `line` holds a digit or a space outside ASCII: there the
    /// rewritten patterns may differ from the written ones.
    pub(crate) fn in_text(&self, line: &str) -> bool {
        !line.is_ascii() && line.chars().any(|c| !c.is_ascii() && self.contains(c))
    }

    fn contains(&self, c: char) -> bool {
        // The CJK unified ideographs, most characters of a Chinese text,
        // hold no digit or space (the unit test below asks every char):
        // a binary search for each was 0.07 M instructions a check in the
        // parameter rules alone (callgrind, cold, 300 bench pages).
        if ('\u{4E00}'..='\u{9FFF}').contains(&c) {
            return false;
        }
        let i = self.ranges.partition_point(|&(start, _)| start <= c);
        i.checked_sub(1).and_then(|i| self.ranges.get(i)).is_some_and(|&(_, end)| c <= end)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use regex::Regex;

    use super::*;

    #[test]
    fn patterns_are_rewritten_escape_by_escape() {
        assert_eq!(ascii_pattern(r"\d{4}\s*年\S"), r"[0-9]{4}[\t\n\x0B\f\r ]*年[^\t\n\x0B\f\r ]");
        assert_eq!(ascii_pattern(r"[\d,.]\\d\.\p{Han}"), r"[[0-9],.]\\d\.\p{Han}");
        assert_eq!(ascii_pattern(r"trailing\"), r"trailing\");
        assert_eq!(ascii_pattern(""), "");
    }

    /// On every character but the ones [`Unicode`] holds, each rewritten
    /// class matches what the written one does; on each of those, one
    /// differs.
    #[test]
    fn the_classes_agree_outside_the_unicode_set() {
        let unicode = Unicode::new().unwrap();
        let pairs: Vec<(Regex, Regex)> = REWRITES
            .iter()
            .map(|(from, to)| (Regex::new(&format!("^{from}$")).unwrap(), Regex::new(&format!("^{to}$")).unwrap()))
            .collect();
        let mut held = 0;
        for c in (0..=0x10_FFFF).filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut [0; 4]).to_owned();
            let differs = pairs.iter().any(|(written, ascii)| written.is_match(&s) != ascii.is_match(&s));
            assert_eq!(unicode.contains(c), differs, "U+{:04X}", u32::from(c));
            assert_eq!(unicode.in_text(&format!("ab{s}")), differs, "U+{:04X}", u32::from(c));
            held += usize::from(differs);
        }
        assert!(held > 600, "{held}");
    }
}
