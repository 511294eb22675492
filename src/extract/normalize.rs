//! Text normalisation: the last step before text is hashed and diffed.
//!
//! Everything here exists so that changes a reader cannot see (a different
//! kind of space, a zero-width joiner, an extra blank line, a site starting to
//! put spaces between Chinese and Latin words) produce byte-identical text.
//! It must be idempotent: `normalize_text(normalize_text(x)) == normalize_text(x)`.

use unicode_normalization::{IsNormalized, UnicodeNormalization, is_nfc_quick};

/// Normalises plain text: NFC, one trimmed block per line, no blank lines,
/// whitespace runs collapsed, invisible characters dropped, full-width ASCII
/// letters and digits folded to half-width, spaces next to CJK removed.
pub fn normalize_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = normalize_line(line);
        if line.is_empty() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    out
}

/// Normalises one line (no newline inside).
pub(crate) fn normalize_line(line: &str) -> String {
    let mut n = LineNormalizer::with_capacity(line.len());
    if n.push_nfc(line) {
        return n.finish();
    }
    let mut n = LineNormalizer::with_capacity(line.len());
    line.nfc().for_each(|c| n.push(c));
    n.finish()
}

/// Characters that are NFC and never combine with their neighbours
/// (combining class 0, quick check "yes"): any string of them is NFC. Below
/// U+0300 (no combining marks yet), the general punctuation after the two
/// spaces that decompose (curly quotes and dashes, which Chinese text uses
/// too), CJK ideographs, the CJK punctuation before the ideographic tone
/// marks, and the full-width forms. A unit test checks every one against
/// the Unicode tables.
#[inline]
fn is_nfc_starter(c: char) -> bool {
    matches!(
        c,
        '\0'..='\u{2FF}' | '\u{2002}'..='\u{206F}' | '\u{3000}'..='\u{3029}' | '\u{4E00}'..='\u{9FFF}' | '\u{FF01}'..='\u{FF5E}'
    )
}

/// A character [`LineNormalizer::push`] writes out unchanged, whatever is
/// around it: visible, not folded, not a space, not part of an ellipsis.
#[inline]
fn is_plain(c: char) -> bool {
    match c {
        '\u{21}'..='\u{7E}' => c != '.',
        '\u{4E00}'..='\u{9FFF}' => true,
        _ => !c.is_ascii() && c != '…' && !c.is_whitespace() && !is_invisible(c) && fold_char(c) == c,
    }
}

/// The CJK unified ideograph (U+4E00–U+9FFF) whose UTF-8 starts at byte
/// `i` of a str, read from its three bytes: plain ([`is_plain`]) and an NFC
/// starter ([`is_nfc_starter`]). Most chars of a Chinese page are these, and
/// decoding each through `chars()` and asking both questions was most of
/// `normalize_line`'s work. Lead bytes E5–E9 are U+5000–U+9FFF; E4 is
/// U+4000–U+4FFF, of which U+4E00 on starts at second byte B8.
#[inline]
fn ideograph_at(bytes: &[u8], i: usize) -> Option<char> {
    let (b0, b1, b2) = (*bytes.get(i)?, *bytes.get(i + 1)?, *bytes.get(i + 2)?);
    if !(matches!(b0, 0xE5..=0xE9) || (b0 == 0xE4 && b1 >= 0xB8)) {
        return None;
    }
    char::from_u32((u32::from(b0 & 0x0F) << 12) | (u32::from(b1 & 0x3F) << 6) | u32::from(b2 & 0x3F))
}

/// [`is_plain`] for an ASCII byte.
fn is_plain_ascii(b: u8) -> bool {
    matches!(b, 0x21..=0x7E) && b != b'.'
}

/// [`normalize_line`] fed one (NFC) char at a time, in one pass and one
/// buffer: invisible characters dropped, characters folded, whitespace runs
/// collapsed to one space, a space touching CJK (or ending the line)
/// dropped, ellipsis runs ("...", "……") made one '…'.
///
/// What it has written is final: a space waits for the char after it, a
/// run of dots for its end, so a caller that wants only the start of a long
/// text (`region …: ` notes) stops feeding once it has enough.
#[derive(Default)]
pub(crate) struct LineNormalizer {
    out: String,
    /// Chars in `out`.
    written: usize,
    /// The last char written.
    prev: Option<char>,
    /// Nothing but whitespace since the last char kept: a space waits for
    /// the next char, and a line never starts with one.
    in_gap: bool,
    space_pending: bool,
    /// A run of '.' and '…' being read: (dots so far, ellipsis written).
    run: Option<(usize, bool)>,
}

impl LineNormalizer {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        LineNormalizer { out: String::with_capacity(bytes), in_gap: true, ..Self::default() }
    }

    /// Chars written so far (final, see the type's doc).
    pub(crate) fn written(&self) -> usize {
        self.written
    }

    /// What has been written so far, without what is still undecided.
    pub(crate) fn into_written(self) -> String {
        self.out
    }

    fn write(&mut self, c: char) {
        self.out.push(c);
        self.written += 1;
        self.prev = Some(c);
    }

    /// Ends a run of dots: a run that never made three dots or met a '…'
    /// is kept as it is.
    fn end_run(&mut self) {
        if let Some((dots, done)) = self.run.take()
            && !done
        {
            (0..dots).for_each(|_| self.write('.'));
        }
    }

    pub(crate) fn push(&mut self, c: char) {
        if is_invisible(c) {
            return;
        }
        let c = fold_char(c);
        if c.is_whitespace() {
            if !self.in_gap {
                self.in_gap = true;
                self.end_run();
                self.space_pending = true;
            }
            return;
        }
        self.in_gap = false;
        if std::mem::take(&mut self.space_pending) && !self.prev.is_some_and(is_cjk) && !is_cjk(c) {
            // Spaces between Latin words stay; Chinese needs none (sites
            // add and remove them with "pangu" spacing scripts).
            self.write(' ');
        }
        if c == '.' || c == '…' {
            let (dots, done) = self.run.unwrap_or((0, false));
            if done {
                return;
            }
            // The first '…' or third '.' makes the rest of the run one '…';
            // the dots before a '…' stay.
            let dots_kept = match c {
                '…' => Some(dots),
                _ if dots == 2 => Some(0),
                _ => None,
            };
            match dots_kept {
                Some(kept) => {
                    self.run = Some((0, true));
                    (0..kept).for_each(|_| self.write('.'));
                    self.write('…');
                }
                None => self.run = Some((dots + 1, false)),
            }
            return;
        }
        self.end_run();
        self.write(c);
    }

    /// [`push`](Self::push) for every char of `text` if `text` is NFC, in
    /// one pass: runs of plain characters (most of any text), with the
    /// single spaces and dots between plain ASCII, are copied as they are.
    /// False, with part of `text` written, if `text` is not NFC.
    ///
    /// Almost all text is NFC already. A char that [`is_nfc_starter`] needs
    /// no lookup; at the first one that is not, the quick check (a table
    /// lookup per char, a fraction of what composing costs) runs over the
    /// rest of the text: after starters only, its answer is the one for the
    /// whole text.
    fn push_nfc(&mut self, text: &str) -> bool {
        let bytes = text.as_bytes();
        // The rest of `text` is known to be NFC.
        let mut checked = false;
        let mut i = 0;
        while let Some(first) = text.get(i..).and_then(|t| t.chars().next()) {
            if !checked && !is_nfc_starter(first) {
                if is_nfc_quick(text[i..].chars()) != IsNormalized::Yes {
                    return false;
                }
                checked = true;
            }
            // The first char of a run settles a pending space or dot run;
            // what follows it in the run is written as it is.
            self.push(first);
            i += first.len_utf8();
            if !is_plain(first) {
                continue;
            }
            let start = i;
            let mut chars = 0;
            let mut last = first;
            while let Some(&b) = bytes.get(i) {
                if is_plain_ascii(b) {
                    i += 1;
                    chars += 1;
                    last = char::from(b);
                } else if b.is_ascii() {
                    // A space between plain chars (not CJK), and a dot
                    // before a plain ASCII char or a space and one, are
                    // written as they are.
                    let plain_at = |j: usize| bytes.get(j).copied().is_some_and(is_plain_ascii);
                    let len = match b {
                        b' ' if !is_cjk(last) && plain_at(i + 1) => 2,
                        b'.' if plain_at(i + 1) => 2,
                        b'.' if bytes.get(i + 1) == Some(&b' ') && plain_at(i + 2) => 3,
                        _ => break,
                    };
                    i += len;
                    chars += len;
                    last = char::from(bytes[i - 1]);
                } else if let Some(c) = ideograph_at(bytes, i) {
                    i += 3;
                    chars += 1;
                    last = c;
                } else {
                    match text[i..].chars().next() {
                        Some(c) if is_plain(c) && (checked || is_nfc_starter(c)) => {
                            i += c.len_utf8();
                            chars += 1;
                            last = c;
                        }
                        _ => break,
                    }
                }
            }
            if i > start {
                self.out.push_str(&text[start..i]);
                self.written += chars;
                self.prev = Some(last);
            }
        }
        true
    }

    pub(crate) fn finish(mut self) -> String {
        self.end_run();
        self.out
    }
}

/// Light normalisation for metadata (titles, dates, names): NFC, invisible
/// characters dropped, whitespace runs to one space. Unlike text lines it
/// keeps spaces next to CJK ("2025年01月27日 16:00" stays readable).
pub(crate) fn collapse_whitespace(s: &str) -> String {
    let folded: String = s.nfc().filter(|c| !is_invisible(*c) || *c == '\n').map(fold_char).collect();
    folded.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Zero-width and formatting characters that render as nothing.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}')
        || (c.is_control() && c != '\t')
}

/// Full-width ASCII letters and digits (ＡＢＣ１２３) become half-width; the
/// ideographic space and no-break spaces become plain spaces. Full-width
/// punctuation (，。：) is kept: it is what Chinese text is written with.
fn fold_char(c: char) -> char {
    match c {
        '\u{3000}' | '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\t' => ' ',
        '\u{FF10}'..='\u{FF19}' | '\u{FF21}'..='\u{FF3A}' | '\u{FF41}'..='\u{FF5A}' => {
            char::from_u32(c as u32 - 0xFEE0).unwrap_or(c)
        }
        _ => c,
    }
}

/// CJK ideographs, kana, hangul and CJK/full-width punctuation.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF      // radicals
        | 0x3000..=0x303F    // CJK symbols and punctuation
        | 0x3040..=0x30FF    // kana
        | 0x3100..=0x312F    // bopomofo
        | 0x3400..=0x4DBF    // extension A
        | 0x4E00..=0x9FFF    // unified ideographs
        | 0xAC00..=0xD7AF    // hangul
        | 0xF900..=0xFAFF    // compatibility ideographs
        | 0xFE30..=0xFE4F    // compatibility forms
        | 0xFF00..=0xFF0F | 0xFF1A..=0xFF20 | 0xFF3B..=0xFF40 | 0xFF5B..=0xFF65 // full-width punctuation
        | 0x20000..=0x2FA1F  // extensions B..
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_kinds_and_blank_lines_vanish() {
        let a = "  OpenAI  发布\u{3000}GPT-4o \n\n\n  参数量\u{00A0}未公开。 ";
        let b = "OpenAI发布GPT-4o\n参数量未公开。";
        assert_eq!(normalize_text(a), normalize_text(b));
        assert_eq!(normalize_text(b), "OpenAI发布GPT-4o\n参数量未公开。");
    }

    #[test]
    fn latin_word_spaces_are_kept_but_collapsed() {
        assert_eq!(normalize_text("Meta  released\tLlama 3.1   405B"), "Meta released Llama 3.1 405B");
    }

    #[test]
    fn full_width_letters_digits_fold_punctuation_stays() {
        assert_eq!(normalize_text("ＧＰＴ－４，参数１７５０亿。"), "GPT－4，参数1750亿。");
    }

    #[test]
    fn invisible_characters_and_nfc() {
        // "é" decomposed vs composed, a zero-width space and a BOM.
        let a = "\u{FEFF}Cafe\u{301} 模\u{200B}型";
        assert_eq!(normalize_text(a), "Café模型");
        assert_eq!(normalize_text(a), normalize_text("Café 模型"));
    }

    #[test]
    fn ellipsis_runs_collapse() {
        assert_eq!(normalize_text("未完待续......"), "未完待续…");
        assert_eq!(normalize_text("未完待续……"), "未完待续…");
        assert_eq!(normalize_text("v1.2.3 ok"), "v1.2.3 ok");
    }

    /// The two-pass `normalize_line` that `LineNormalizer` replaced, kept as
    /// the oracle it must agree with: a line that normalised differently
    /// would be a spurious change on every user's next check.
    fn two_pass(line: &str) -> String {
        let mut folded: Vec<char> = Vec::new();
        for c in line.nfc() {
            if is_invisible(c) {
                continue;
            }
            let c = fold_char(c);
            if c.is_whitespace() {
                if folded.last().is_some_and(|&p| p != ' ') {
                    folded.push(' ');
                }
                continue;
            }
            folded.push(c);
        }
        let mut out = String::new();
        let mut prev: Option<char> = None;
        let mut i = 0;
        while i < folded.len() {
            let c = folded[i];
            if c == ' ' {
                let next = folded.get(i + 1).copied();
                if next.is_none() || prev.is_some_and(is_cjk) || next.is_some_and(is_cjk) {
                    i += 1;
                    continue;
                }
            }
            if c == '…' || (c == '.' && folded.get(i + 1) == Some(&'.') && folded.get(i + 2) == Some(&'.')) {
                while i < folded.len() && matches!(folded[i], '…' | '.') {
                    i += 1;
                }
                out.push('…');
                prev = Some('…');
                continue;
            }
            out.push(c);
            prev = Some(c);
            i += 1;
        }
        out.trim().to_owned()
    }

    /// `normalize_line` before it was one pass (a pass for the NFC check,
    /// then a scan stopping at every space and dot, then a char count), kept
    /// as the oracle the one-pass version must agree with.
    fn three_pass(line: &str) -> String {
        let mut n = LineNormalizer::with_capacity(line.len());
        if line.chars().all(is_nfc_starter) || is_nfc_quick(line.chars()) == IsNormalized::Yes {
            let mut rest = line;
            while let Some(first) = rest.chars().next() {
                n.push(first);
                let after_first = &rest[first.len_utf8()..];
                if !is_plain(first) {
                    rest = after_first;
                    continue;
                }
                let plain_len = after_first.find(|c| !is_plain(c)).unwrap_or(after_first.len());
                let (plain, tail) = after_first.split_at(plain_len);
                if let Some(last) = plain.chars().next_back() {
                    n.out.push_str(plain);
                    n.written += plain.chars().count();
                    n.prev = Some(last);
                }
                rest = tail;
            }
        } else {
            line.nfc().for_each(|c| n.push(c));
        }
        n.finish()
    }

    /// Asserts that `normalize_line` and its three-pass original agree on
    /// `line`, and on what they count as written.
    fn agrees(line: &str) {
        let mut n = LineNormalizer::with_capacity(line.len());
        let nfc = n.push_nfc(line);
        let written = n.written();
        assert_eq!(written, n.out.chars().count(), "{line:?}");
        if nfc {
            assert_eq!(n.finish(), three_pass(line), "{line:?}");
        } else {
            assert_ne!(is_nfc_quick(line.chars()), IsNormalized::Yes, "{line:?}");
        }
        assert_eq!(normalize_line(line), three_pass(line), "{line:?}");
    }

    /// Chars that are likely to meet one of the fast paths' edges: ASCII
    /// around spaces and dots, CJK, starters and non-starters, folded and
    /// invisible ones.
    const EDGES: &[char] = &[
        'a',
        '1',
        ',',
        ' ',
        ' ',
        '.',
        '.',
        '\t',
        '\u{3000}',
        '\u{00A0}',
        '\u{200B}',
        '\u{7}',
        '…',
        '中',
        '。',
        'Ａ',
        'é',
        'e',
        '\u{301}',
        '\u{327}',
        '\u{1100}',
        '\u{1161}',
        '\u{2019}',
        '\u{2014}',
        '\u{212B}',
        '\u{2000}',
        'ア',
        '한',
        '\u{1F600}',
        '\u{FF0C}',
        '\u{2E80}',
        'Ω',
        '\u{0344}',
        '\u{0F73}',
    ];

    #[test]
    fn one_pass_agrees_with_the_three_pass_original_on_drawn_lines() {
        let mut rng = crate::test_rng::XorShift::new(0x2545_F491_4F6C_DD1D);
        for _ in 0..100_000 {
            let len = rng.below(30);
            let line: String = (0..len)
                .map(|_| match rng.below(4) {
                    // Any char at all, any ASCII, or an edge.
                    0 => char::from_u32(u32::try_from(rng.below(0x11_0000)).unwrap_or(0)).unwrap_or('x'),
                    1 => char::from(u8::try_from(rng.below(0x80)).unwrap_or(b'x')),
                    _ => EDGES[rng.below(EDGES.len())],
                })
                .collect();
            agrees(&line);
        }
    }

    #[test]
    fn one_pass_agrees_with_the_three_pass_original_on_every_char() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            for line in [
                format!("{c}"),
                format!("ab{c}cd"),
                format!("a {c} b"),
                format!("a.{c}.b"),
                format!("中 {c} 文"),
                format!("x{c}\u{301}y"),
                format!("e\u{301}{c}"),
            ] {
                agrees(&line);
            }
        }
    }

    /// Spaces of every kind, invisible and control characters, CJK and
    /// Latin, dots and ellipses, full-width forms, a decomposed accent and
    /// hangul jamo (both compose under NFC).
    const ALPHABET: &[char] = &[
        'a', 'Z', '1', ' ', '\t', '\n', '\r', '\u{3000}', '\u{00A0}', '\u{2003}', '\u{85}', '\u{7}', '\u{200B}',
        '\u{FEFF}', '\u{00AD}', '.', '…', '。', '中', '，', 'Ａ', '１', 'e', '\u{301}', '\u{1100}', '\u{1161}',
    ];

    #[test]
    fn one_pass_agrees_with_the_two_pass_original() {
        // Every line of up to four characters of the alphabet...
        let mut lines = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..4 {
            last = last.iter().flat_map(|l| ALPHABET.iter().map(move |c| format!("{l}{c}"))).collect();
            lines.extend(last.iter().cloned());
        }
        // ...and longer ones, drawn by a fixed xorshift.
        let mut rng = crate::test_rng::XorShift::new(0x9E37_79B9_7F4A_7C15);
        for _ in 0..20_000 {
            let len = rng.below(40);
            lines.push((0..len).map(|_| ALPHABET[rng.below(ALPHABET.len())]).collect());
        }
        for line in &lines {
            assert_eq!(normalize_line(line), two_pass(line), "{line:?}");
        }
    }

    #[test]
    fn nfc_starters_are_nfc_and_never_combine() {
        use unicode_normalization::char::canonical_combining_class;
        for c in (0..=0x10FFFF).filter_map(char::from_u32).filter(|&c| is_nfc_starter(c)) {
            assert_eq!(canonical_combining_class(c), 0, "{c:?}");
            assert_eq!(is_nfc_quick(std::iter::once(c)), IsNormalized::Yes, "{c:?}");
        }
    }

    #[test]
    fn ideographs_read_from_bytes_are_the_chars_decoded() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32) {
            let s = format!("{c}x");
            let read = ideograph_at(s.as_bytes(), 0);
            let want = ('\u{4E00}'..='\u{9FFF}').contains(&c).then_some(c);
            assert_eq!(read, want, "{c:?}");
            if read.is_some() {
                assert!(is_plain(c) && is_nfc_starter(c), "{c:?}");
            }
        }
        assert_eq!(ideograph_at("中".as_bytes(), 1), None);
        assert_eq!(ideograph_at(&"中".as_bytes()[..2], 0), None);
    }

    #[test]
    fn plain_characters_are_written_as_they_are() {
        for c in (0..=0x10FFFF).filter_map(char::from_u32).filter(|&c| is_plain(c)) {
            assert!(!is_invisible(c) && fold_char(c) == c && !c.is_whitespace() && c != '.' && c != '…', "{c:?}");
        }
    }

    #[test]
    fn what_is_written_is_final() {
        let line = "  Cafe\u{301}  大模型 ( LLM ) .. 是 …… 一种...model .\u{3000}x ";
        let full = normalize_line(line);
        for stop in 0..=full.chars().count() {
            let mut n = LineNormalizer::with_capacity(0);
            for c in line.nfc() {
                if n.written() >= stop {
                    break;
                }
                n.push(c);
            }
            let part = n.into_written();
            assert!(full.starts_with(&part) && part.chars().count() >= stop.min(full.chars().count()), "{part:?}");
        }
    }

    #[test]
    fn idempotent() {
        let a = "  大模型 ( LLM )  是 …… 一种   model .\n\n x ";
        let once = normalize_text(a);
        assert_eq!(normalize_text(&once), once);
    }
}
