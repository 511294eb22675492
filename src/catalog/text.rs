//! Sentence spans and small character helpers shared by the rules.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::LazyLock;

use aho_corasick::packed;

/// Byte spans of the sentences of `text`, trimmed, none empty.
///
/// A sentence ends at Chinese or Latin end punctuation, a semicolon or a
/// newline (a Markdown table row is one sentence). A `.` only ends one when
/// whitespace or the end follows, so `2023.3.16`, `1.17亿` and `GPT-3.5`
/// stay whole.
pub fn sentences(text: &str) -> Vec<Range<usize>> {
    let Some(marks) = END_MARKS.as_ref() else { return sentences_by_byte(text) };
    let mut out = Vec::new();
    let mut start = 0;
    for m in marks.find_iter(text) {
        let i = m.start();
        if text.as_bytes().get(i) == Some(&b'.') && !char_at(text, i + 1).is_none_or(char::is_whitespace) {
            continue;
        }
        push_trimmed(text, start..m.end(), &mut out);
        start = m.end();
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

/// The end marks of [`sentences`] (`.` among them), in a packed searcher:
/// it tests 16 or 32 bytes of the text at a time (SIMD) where the byte
/// scan of [`sentences_by_byte`] stopped at every `，` and `、` of a
/// Chinese text too (0.19 M instructions of 0.24 M a bench page,
/// callgrind, examples/analysis_digest). None where the CPU has no such
/// instructions: then the byte scan splits.
static END_MARKS: LazyLock<Option<packed::Searcher>> = LazyLock::new(|| {
    packed::Config::new()
        .match_kind(packed::MatchKind::LeftmostFirst)
        .builder()
        .extend(["。", "！", "？", "；", "!", "?", ";", "\n", "."])
        .build()
});

/// [`sentences`] by a scan of the bytes.
fn sentences_by_byte(text: &str) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    // Bytes, not chars: every end mark is ASCII or a three-byte form led by
    // 0xE3 (。) or 0xEF (！？；), and a lead byte never occurs inside
    // another character, so the scan skips to the next such byte and no
    // character needs decoding but the one after a `.`.
    let bytes = text.as_bytes();
    let mut i = 0;
    while let Some(at) = bytes.get(i..).and_then(|rest| rest.iter().position(|&b| MAY_END[usize::from(b)])) {
        i += at;
        let b = bytes.get(i).copied().unwrap_or_default();
        let len = match b {
            b'.' if char_at(text, i + 1).is_none_or(char::is_whitespace) => 1,
            _ => end_mark_at(bytes, i).unwrap_or(0),
        };
        if len > 0 {
            push_trimmed(text, start..i + len, &mut out);
            start = i + len;
            i += len;
        } else {
            i += 1;
        }
    }
    push_trimmed(text, start..text.len(), &mut out);
    out
}

/// The bytes a sentence's end mark starts with: the marks of
/// [`end_mark_at`] and a `.` ([`sentences`]).
const MAY_END: [bool; 256] = leads(&[b'!', b'?', b';', b'\n', b'.', 0xE3, 0xEF]);

/// The bytes an end mark of [`end_mark_at`] starts with.
const MARK_LEAD: [bool; 256] = leads(&[b'!', b'?', b';', b'\n', 0xE3, 0xEF]);

const fn leads(bytes: &[u8]) -> [bool; 256] {
    let mut t = [false; 256];
    let mut i = 0;
    while i < bytes.len() {
        t[bytes[i] as usize] = true;
        i += 1;
    }
    t
}

/// The length of the end mark at byte `i` of `bytes`, if one is there: a
/// sentence's end punctuation other than `.` (。！？!?；;), or a newline.
/// The Chinese marks are three bytes led by 0xE3 (。) or 0xEF (！？；); a
/// lead byte never occurs inside another character.
fn end_mark_at(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes.get(i)? {
        b'!' | b'?' | b';' | b'\n' => Some(1),
        0xE3 if bytes.get(i + 1..i + 3) == Some(&[0x80, 0x82]) => Some(3),
        0xEF if matches!(bytes.get(i + 1..i + 3), Some([0xBC, 0x81 | 0x9F | 0x9B])) => Some(3),
        _ => None,
    }
}

/// Where the first end mark ([`end_mark_at`]) of `s` is, and its length.
pub fn next_end_mark(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    bytes
        .iter()
        .enumerate()
        .filter(|(_, b)| MARK_LEAD[usize::from(**b)])
        .find_map(|(i, _)| Some((i, end_mark_at(bytes, i)?)))
}

/// Where the last end mark ([`end_mark_at`]) of `s` is, and its length.
pub fn last_end_mark(s: &str) -> Option<(usize, usize)> {
    let bytes = s.as_bytes();
    bytes
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, b)| MARK_LEAD[usize::from(**b)])
        .find_map(|(i, _)| Some((i, end_mark_at(bytes, i)?)))
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

/// `s.to_lowercase()`, borrowed when that would change nothing.
///
/// The standard library looks every non-ASCII character up in Unicode's
/// case table, and article text is mostly Chinese, which has no case: the
/// matcher and the candidate finders lower-case names and whole sentences
/// for every mention. ASCII and the caseless CJK blocks are decided here;
/// any other character hands the whole string to `str::to_lowercase`
/// (which also knows the final sigma), so the result is always its.
pub fn lowercase(s: &str) -> Cow<'_, str> {
    let mut out: Option<String> = None;
    for (i, c) in s.char_indices() {
        let lower = if c.is_ascii() {
            c.to_ascii_lowercase()
        } else if caseless(c) {
            c
        } else {
            return Cow::Owned(s.to_lowercase());
        };
        match &mut out {
            Some(o) => o.push(lower),
            None if lower != c => {
                let mut o = String::with_capacity(s.len());
                o.push_str(s.get(..i).unwrap_or_default());
                o.push(lower);
                out = Some(o);
            }
            None => {}
        }
    }
    out.map_or(Cow::Borrowed(s), Cow::Owned)
}

/// [`lowercase`] of `s`, given `folded`, `s` lower-cased in ASCII: that
/// itself when `s` has no cased character but ASCII ones (Chinese and
/// Latin text), which costs a look at each character and no copy.
pub fn lowercase_folded<'a>(s: &'a str, folded: &'a str) -> Cow<'a, str> {
    if folded.len() == s.len() && ascii_or_caseless(s) { Cow::Borrowed(folded) } else { lowercase(s) }
}

/// Is every character of `s` ASCII or [`caseless`]? By byte where the
/// byte decides: a character led by 0xE5..=0xE9 is U+5000..=U+9FFF, a CJK
/// ideograph, so most of a Chinese sentence is stepped over without
/// decoding (the matcher asks this of a sentence for every ambiguous
/// alias: 0.14 M instructions a bench page by `chars`, callgrind).
fn ascii_or_caseless(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b < 0x80 {
            i += 1;
        } else if (0xE5..=0xE9).contains(&b) {
            i += 3;
        } else {
            let Some(c) = s.get(i..).and_then(|rest| rest.chars().next()) else { return false };
            if !caseless(c) {
                return false;
            }
            i += c.len_utf8();
        }
    }
    true
}

/// Blocks without a cased character: general punctuation, CJK symbols,
/// kana, CJK ideographs, and the full-width forms that are not letters.
fn caseless(c: char) -> bool {
    matches!(
        c,
        '\u{2000}'..='\u{206F}'
            | '\u{3000}'..='\u{30FF}'
            | '\u{3400}'..='\u{4DBF}'
            | '\u{4E00}'..='\u{9FFF}'
            | '\u{FF01}'..='\u{FF20}'
            | '\u{FF3B}'..='\u{FF40}'
            | '\u{FF5B}'..='\u{FF65}'
    )
}

/// The first byte of `bytes` at or after `from` that is ASCII and
/// `wanted`. A Chinese sentence is mostly three-byte characters, so its
/// bytes are tested eight at a time for an ASCII one (its high bit clear)
/// and only the ASCII bytes are asked about: the candidate finder and the
/// rules looked at every byte of every sentence for a Latin letter or a
/// digit, a tenth of `analyse` on the bench's article text (callgrind,
/// examples/analysis_digest).
pub fn find_ascii(bytes: &[u8], from: usize, wanted: impl Fn(u8) -> bool) -> Option<usize> {
    const HIGH_BITS: u64 = 0x8080_8080_8080_8080;
    let mut i = from;
    loop {
        while let Some(chunk) = bytes.get(i..i + 8) {
            let word = u64::from_le_bytes(<[u8; 8]>::try_from(chunk).ok()?);
            let ascii = !word & HIGH_BITS;
            if ascii != 0 {
                // Little-endian: the lowest set bit is the first ASCII byte.
                i += (ascii.trailing_zeros() / 8) as usize;
                break;
            }
            i += 8;
        }
        let b = *bytes.get(i)?;
        if b.is_ascii() && wanted(b) {
            return Some(i);
        }
        i += 1;
    }
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

    /// The char-by-char splitter the byte scan replaced.
    fn sentences_by_char(text: &str) -> Vec<Range<usize>> {
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

    #[test]
    fn the_byte_scan_splits_as_the_char_scan_did() {
        // Marks, their neighbours in the same UTF-8 blocks (、〃！＂？＠；＜),
        // whitespace after a dot (an ideographic space too), and Latin.
        let alphabet = [
            '。', '、', '〃', '！', '＂', '？', '＠', '；', '＜', '.', '!', '?', ';', '\n', ' ', '\u{3000}', '模', 'a',
            '1',
        ];
        let mut rng = crate::test_rng::XorShift::new(0x9e37_79b9_7f4a_7c15);
        let mut next = |n: usize| rng.below(n);
        for _ in 0..20_000 {
            let text: String = (0..next(40)).map(|_| alphabet[next(alphabet.len())]).collect();
            assert_eq!(sentences(&text), sentences_by_char(&text), "{text:?}");
            assert_eq!(sentences_by_byte(&text), sentences_by_char(&text), "{text:?}");
        }
    }

    /// The packed searcher is there on the machines the daemon runs on
    /// (x86-64, aarch64), and splits long texts as the byte scan does.
    #[test]
    fn the_packed_search_splits_long_texts_as_the_byte_scan() {
        if cfg!(target_arch = "x86_64") {
            assert!(END_MARKS.is_some());
        }
        let pieces =
            ["。", "，", "、", "！", "？", "；", "!", "?", ";", "\n", ".", ". ", "1.5", "模型", "a", " ", "\u{3000}"];
        let mut rng = crate::test_rng::XorShift::new(0xa54f_f53a_5f1d_36f1);
        for _ in 0..2_000 {
            let text: String = rng.join(&pieces, 0, 400);
            assert_eq!(sentences(&text), sentences_by_byte(&text), "{text:?}");
        }
    }

    #[test]
    fn the_caseless_blocks_have_no_case() {
        for c in ('\u{2000}'..='\u{FFFF}').filter(|c| caseless(*c)) {
            assert!(c.to_lowercase().eq([c]) && c.to_uppercase().eq([c]), "{c:?} U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn lowercase_is_the_standard_librarys() {
        let alphabet = [
            'A', 'z', '1', ' ', '模', '。', '“', 'Ａ', 'ａ', '！', 'É', 'Σ', 'İ', 'K', '\u{212A}', 'ǅ', 'ß', 'ア', '·',
        ];
        let mut rng = crate::test_rng::XorShift::new(0x0123_4567_89ab_cdef);
        for _ in 0..20_000 {
            let s: String = rng.join(&alphabet, 0, 12);
            let lower = lowercase(&s);
            assert_eq!(lower, s.to_lowercase(), "{s:?}");
            // Borrowed only when nothing changes; always for ASCII and Chinese.
            let plain = s.chars().all(|c| c.is_ascii() || caseless(c));
            if matches!(lower, Cow::Borrowed(_)) || plain {
                assert_eq!(matches!(lower, Cow::Borrowed(_)), s.to_lowercase() == s, "{s:?}");
            }
        }
    }

    /// The end mark scans find what `str::find` and
    /// `str::rfind` of the marks found, on strings of the marks, their
    /// neighbours in the same UTF-8 blocks (、〃！＂？＠；＜) and others.
    #[test]
    fn end_marks_by_byte_are_the_char_searchs() {
        let alphabet = [
            '。', '、', '〃', '！', '＂', '？', '＠', '；', '＜', '.', '!', '?', ';', '\n', ' ', '模', 'a', 'é',
            '\u{FFFF}',
        ];
        const END_MARKS: &[char] = &['。', '！', '？', '!', '?', '；', ';', '\n'];
        let mut rng = crate::test_rng::XorShift::new(0xbb67_ae85_84ca_a73b);
        let mut found = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&alphabet, 0, 16);
            let len = |i: usize| s[i..].chars().next().map_or(0, char::len_utf8);
            assert_eq!(next_end_mark(&s), s.find(END_MARKS).map(|i| (i, len(i))), "{s:?}");
            assert_eq!(last_end_mark(&s), s.rfind(END_MARKS).map(|i| (i, len(i))), "{s:?}");
            found += usize::from(s.find(END_MARKS).is_some());
        }
        assert!(found > 5_000, "{found}");
    }

    #[test]
    fn lowercase_folded_is_lowercase() {
        let alphabet =
            ['A', 'z', '1', ' ', '模', '。', '“', 'Ａ', 'ａ', '！', 'É', 'Σ', 'İ', '\u{212A}', 'ß', 'ア', '·'];
        let mut rng = crate::test_rng::XorShift::new(0x510e_527f_ade6_82d1);
        let mut folded_used = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&alphabet, 0, 12);
            let folded = s.to_ascii_lowercase();
            let lower = lowercase_folded(&s, &folded);
            assert_eq!(lower, lowercase(&s), "{s:?}");
            folded_used += usize::from(std::ptr::eq(lower.as_ptr(), folded.as_ptr()) && !s.is_empty());
        }
        assert!(folded_used > 1_000, "{folded_used}");
    }

    #[test]
    fn ascii_or_caseless_by_byte_is_by_char() {
        let alphabet = [
            'A', '1', ' ', '模', '一', '鿿', '䷀', '㐀', '。', '“', 'Ａ', 'ａ', '！', 'É', 'Σ', '\u{212A}', 'ア', '·',
            '𠀀', '\u{FFFF}', '\u{4FFF}', '\u{5000}', '\u{A000}',
        ];
        let mut rng = crate::test_rng::XorShift::new(0x1f83_d9ab_fb41_bd6b);
        let mut plain = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&alphabet, 0, 8);
            let by_char = s.chars().all(|c| c.is_ascii() || caseless(c));
            assert_eq!(ascii_or_caseless(&s), by_char, "{s:?}");
            plain += usize::from(by_char);
        }
        assert!(plain > 2_000, "{plain}");
    }

    #[test]
    fn find_ascii_is_position() {
        let pieces = ["模", "型", "a", "Z", "7", " ", ".", "，", "é", "abcdefgh", "模型参数规模达到"];
        let mut rng = crate::test_rng::XorShift::new(0x9b05_688c_2b3e_6c1f);
        let mut found = 0;
        for _ in 0..5_000 {
            let s: String = rng.join(&pieces, 0, 24);
            let bytes = s.as_bytes();
            for from in 0..=bytes.len() + 1 {
                for wanted in [u8::is_ascii_alphabetic, u8::is_ascii_digit] {
                    let expected = bytes.get(from..).and_then(|r| r.iter().position(wanted)).map(|p| from + p);
                    assert_eq!(find_ascii(bytes, from, |b| wanted(&b)), expected, "{s:?} from {from}");
                    found += usize::from(expected.is_some());
                }
            }
        }
        assert!(found > 50_000, "{found}");
    }

    #[test]
    fn evidence_windows_long_lines_on_char_boundaries() {
        let text = "模".repeat(1000);
        let ev = evidence(&text, &(0..text.len()), &(1500..1503));
        assert!(ev.starts_with('…') && ev.ends_with('…'));
        assert!(ev.chars().count() < 250);
    }
}
