//! The Latin tokens of a sentence (`Qwen2.5-72B`, `GPT 4`, `v1.2`), found
//! by a byte scan: what `find_iter` of [`PATTERN`] yields.
//!
//! The candidate finder asks this of every sentence with an ASCII letter
//! and digit; through the regex, each sentence paid a search's set-up
//! and a lazy DFA step per byte of its (mostly Chinese) text, 0.4 M
//! instructions a bench page. Every match starts at the first ASCII letter
//! at or after the search position and takes each part greedily (every
//! part after the first may be empty, so the first way to match is the
//! longest), which a scan of ASCII bytes decides. Only `\d` is Unicode: a
//! token whose tail meets a non-ASCII digit is left to the regex.

use std::ops::Range;

use regex::Regex;

use super::text::find_ascii;

/// The token pattern the scan implements (a unit test holds them equal).
pub(crate) const PATTERN: &str = r"[A-Za-z][A-Za-z0-9]*(?:[-_.][A-Za-z0-9]+)*(?: \d+(?:\.\d+)?)?";

/// The spans of [`PATTERN`]'s matches in `text`, left to right; `regex`
/// is [`PATTERN`] compiled, asked only for the rare token it must decide.
pub(crate) fn latin_tokens<'a>(text: &'a str, regex: &'a Regex) -> impl Iterator<Item = Range<usize>> + 'a {
    let bytes = text.as_bytes();
    let mut pos = 0;
    std::iter::from_fn(move || {
        let start = find_ascii(bytes, pos, |b| b.is_ascii_alphabetic())?;
        let end = match token_end(bytes, start) {
            Some(end) => end,
            // The leftmost match from `start` starts there: it begins with
            // an ASCII letter, and `start` is the first.
            None => regex.find_at(text, start).map_or(start + 1, |m| m.end()),
        };
        pos = end;
        Some(start..end)
    })
}

/// Where the token starting with the ASCII letter at `start` ends; None if
/// its tail meets a non-ASCII character that may be a `\d`.
fn token_end(bytes: &[u8], start: usize) -> Option<usize> {
    let alnum = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_alphanumeric);
    let mut i = start + 1;
    while alnum(i) {
        i += 1;
    }
    while matches!(bytes.get(i), Some(b'-' | b'_' | b'.')) && alnum(i + 1) {
        i += 2;
        while alnum(i) {
            i += 1;
        }
    }
    if bytes.get(i) != Some(&b' ') {
        return Some(i);
    }
    let Some(digits) = digits_end(bytes, i + 1)? else {
        return Some(i);
    };
    if bytes.get(digits) == Some(&b'.')
        && let Some(decimals) = digits_end(bytes, digits + 1)?
    {
        return Some(decimals);
    }
    Some(digits)
}

/// The end of a run of ASCII digits at `i` (`Some(None)` for none); None
/// when a non-ASCII character that may be a Unicode digit stands at or
/// right after the run (every `\d` is `char::is_numeric`).
fn digits_end(bytes: &[u8], i: usize) -> Option<Option<usize>> {
    let mut end = i;
    while bytes.get(end).is_some_and(u8::is_ascii_digit) {
        end += 1;
    }
    match bytes.get(end) {
        Some(&b) if !b.is_ascii() => {
            let c = std::str::from_utf8(bytes.get(end..)?.get(..utf8_width(b))?).ok()?.chars().next()?;
            if c.is_numeric() {
                return None;
            }
        }
        _ => {}
    }
    Some((end > i).then_some(end))
}

/// The length of the UTF-8 sequence led by `b` (a lead byte).
fn utf8_width(b: u8) -> usize {
    match b {
        0..=0x7F => 1,
        0x80..=0xDF => 2,
        0xE0..=0xEF => 3,
        _ => 4,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn by_regex(re: &Regex, text: &str) -> Vec<Range<usize>> {
        re.find_iter(text).map(|m| m.range()).collect()
    }

    #[test]
    fn the_scan_finds_what_the_regex_finds() {
        let re = Regex::new(PATTERN).unwrap();
        let pieces = [
            "a", "Z", "q", "0", "7", "9", "-", "_", ".", " ", "  ", "Qwen", "GPT", "2.5", "72B", "中", "模型", "é",
            "\n", "٣", "５", "Ⅳ", "²", "१", "，", "x", "v1", "-", ".",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x510e_527f_ade6_82d1);
        let mut tokens = 0;
        for _ in 0..50_000 {
            let text: String = rng.join(&pieces, 0, 16);
            let expected = by_regex(&re, &text);
            assert_eq!(latin_tokens(&text, &re).collect::<Vec<_>>(), expected, "{text:?}");
            tokens += expected.len();
        }
        assert!(tokens > 50_000, "{tokens}");
        // Every character where a `\d` may stand, and after the run.
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            for text in [format!("GPT {c}"), format!("GPT 4{c}"), format!("GPT 4.{c}"), format!("GPT 4.5{c}x")] {
                assert_eq!(latin_tokens(&text, &re).collect::<Vec<_>>(), by_regex(&re, &text), "{text:?}");
            }
        }
    }
}
