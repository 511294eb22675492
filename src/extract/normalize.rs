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
    // Pass 1: NFC, fold characters; every kind of space becomes ' '.
    let mut folded: Vec<char> = Vec::with_capacity(line.len());
    let mut fold = |c: char| {
        if is_invisible(c) {
            return;
        }
        let c = fold_char(c);
        if c.is_whitespace() {
            if folded.last().is_some_and(|&p| p != ' ') && !folded.is_empty() {
                folded.push(' ');
            }
            return;
        }
        folded.push(c);
    };
    // Almost all text is NFC already, and the quick check (a table lookup
    // per char) says so for a fraction of what composing costs.
    if is_nfc_quick(line.chars()) == IsNormalized::Yes {
        line.chars().for_each(&mut fold);
    } else {
        line.nfc().for_each(&mut fold);
    }
    // Pass 2: drop spaces that touch a CJK character (Chinese needs none;
    // sites add and remove them with "pangu" spacing scripts) and collapse
    // ellipsis runs.
    let mut out = String::with_capacity(line.len());
    let mut prev: Option<char> = None;
    let mut i = 0;
    while i < folded.len() {
        let c = folded[i];
        if c == ' ' {
            let next = folded.get(i + 1).copied();
            let touches_cjk = prev.is_some_and(is_cjk) || next.is_some_and(is_cjk);
            if next.is_none() || touches_cjk {
                i += 1;
                continue;
            }
        }
        if c == '…' || (c == '.' && folded.get(i + 1) == Some(&'.') && folded.get(i + 2) == Some(&'.')) {
            // "...", "……", "。。。" variants of an ellipsis become one '…'.
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

    #[test]
    fn idempotent() {
        let a = "  大模型 ( LLM )  是 …… 一种   model .\n\n x ";
        let once = normalize_text(a);
        assert_eq!(normalize_text(&once), once);
    }
}
