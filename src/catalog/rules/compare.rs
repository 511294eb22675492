//! Comparison targets: a model a sentence only measures against (性能逼近
//! GPT-4, outperforms Llama 3, 与GPT-4相当) is not the subject of its
//! release or size statement, so no figure of the sentence binds to it.

use std::ops::Range;

/// Words right before a model that introduce a comparison.
const BEFORE: &[&str] = &[
    "逼近",
    "超越",
    "超过",
    "对标",
    "媲美",
    "相当于",
    "比肩",
    "不输",
    "不输于",
    "优于",
    "胜过",
    "赶超",
    "接近",
    "击败",
    "领先于",
    "看齐",
    "追平",
    "相较于",
    "相较",
    "相比于",
    "相比",
    "对比",
    "较之",
    "比起",
    "不亚于",
    "类似于",
    "类似",
    "超出",
    "强于",
    "弱于",
    "落后于",
    "不及",
    "不如",
    "逊于",
    "逊色于",
    "追赶",
    "than",
    "comparable to",
    "rivals",
    "rival",
    "rivaling",
    "rivalling",
    "outperforms",
    "outperform",
    "outperformed",
    "outperforming",
    "beats",
    "beat",
    "surpasses",
    "surpass",
    "surpassed",
    "matches",
    "matching",
    "on par with",
    "competitive with",
    "competes with",
    "rivalling",
    "as good as",
    "compared with",
    "compared to",
    "versus",
    "vs.",
    "vs",
    "against",
    "trails",
    "behind",
    "like",
    "similar to",
    "close to",
    "ahead of",
    "exceeds",
    "exceeding",
];

/// Words that join a list of comparison targets (超越GPT-4和Claude 3).
const JOINERS: &[&str] = &["和", "与", "及", "以及", "、", "或", "and", "or", "the", "even", "了", "过", "甚至"];

/// `与GPT-4相当`: a model between 与/和/跟/同/较 and one of these words.
const AROUND_OPEN: &[&str] = &["与", "和", "跟", "同", "较", "比"];
const AROUND_CLOSE: &[&str] =
    &["相当", "相比", "相近", "媲美", "比肩", "持平", "一样", "看齐", "齐平", "差不多", "相较", "对比"];

/// Does `s` end with `word`, ASCII case folded? (No lower-cased copy of
/// the sentence's whole prefix: only its last bytes are compared.)
fn ends_with_folded(s: &str, word: &str) -> bool {
    // The last bytes first: every cue is tried against every mention's
    // prefix and most differ there, so the whole tail is seldom compared
    // (`comparison_targets` was 6% of `analyse` on the bench's article text).
    if let (Some(a), Some(b)) = (s.as_bytes().last(), word.as_bytes().last())
        && !a.eq_ignore_ascii_case(b)
    {
        return false;
    }
    s.len()
        .checked_sub(word.len())
        .and_then(|start| s.as_bytes().get(start..))
        .is_some_and(|tail| tail.eq_ignore_ascii_case(word.as_bytes()))
}

/// Per last byte (ASCII lower-cased), the cues of [`BEFORE`] that end in
/// it, a bit per cue: a mention's prefix is compared with the two or three
/// cues that end as it does instead of all 72 (`comparison_targets` was
/// 0.3 M instructions a bench page, callgrind, examples/analysis_digest).
const CUES_BY_LAST_BYTE: [u128; 256] = by_last_byte(BEFORE);
const _: () = assert!(BEFORE.len() <= 128, "a cue is a bit of a u128");

const fn by_last_byte(words: &[&str]) -> [u128; 256] {
    let mut table = [0u128; 256];
    let mut i = 0;
    while i < words.len() {
        if let Some(last) = words[i].as_bytes().last() {
            table[last.to_ascii_lowercase() as usize] |= 1 << i;
        }
        i += 1;
    }
    table
}

/// Does `before` end with a comparison cue (a Latin cue as a whole word)?
fn ends_with_cue(before: &str) -> bool {
    let before = before.trim_end();
    let Some(last) = before.as_bytes().last() else { return false };
    let mut cues = CUES_BY_LAST_BYTE[usize::from(last.to_ascii_lowercase())];
    while cues != 0 {
        let i = cues.trailing_zeros() as usize;
        cues &= cues - 1;
        let Some(w) = BEFORE.get(i) else { break };
        if ends_with_folded(before, w) && {
            // The byte before a matched cue ends a character: it is an
            // ASCII letter or digit exactly when that character is one.
            let start = before.len() - w.len();
            !w.starts_with(|c: char| c.is_ascii_alphabetic())
                || !start.checked_sub(1).and_then(|i| before.as_bytes().get(i)).is_some_and(u8::is_ascii_alphanumeric)
        } {
            return true;
        }
    }
    false
}

/// Which of `mentions` (spans in `s`, left to right) are comparison targets.
pub fn comparison_targets(s: &str, mentions: &[Range<usize>]) -> Vec<bool> {
    let mut out: Vec<bool> = Vec::with_capacity(mentions.len());
    for (i, m) in mentions.iter().enumerate() {
        let mut before = s.get(..m.start).unwrap_or_default();
        // Back over joiners and earlier targets: `超越A、B和C` marks all
        // three; `超过了A` is a cue, then a joiner.
        let mut target = false;
        for _ in 0..8 {
            if ends_with_cue(before) {
                target = true;
                break;
            }
            let trimmed = before.trim_end();
            if let Some(j) = JOINERS.iter().find(|j| ends_with_folded(trimmed, j)) {
                before = trimmed.get(..trimmed.len() - j.len()).unwrap_or_default();
                continue;
            }
            // An earlier target ending here carries over to this one.
            if let Some(k) = (0..i).rev().find(|&k| mentions.get(k).is_some_and(|p| p.end == trimmed.len())) {
                target = out.get(k).copied().unwrap_or(false);
            }
            break;
        }
        let before = s.get(..m.start).unwrap_or_default().trim_end();
        let around = AROUND_OPEN.iter().any(|w| before.ends_with(w)) && {
            let after = s.get(m.end..).unwrap_or_default();
            let window = after.get(..after.char_indices().nth(8).map_or(after.len(), |(i, _)| i)).unwrap_or_default();
            let clause = window.split(['，', ',', '。', '；', ';']).next().unwrap_or_default();
            AROUND_CLOSE.iter().any(|w| clause.contains(w))
        };
        out.push(target || around);
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn targets(s: &str, names: &[&str]) -> Vec<bool> {
        let spans: Vec<Range<usize>> = names
            .iter()
            .map(|n| {
                let i = s.find(n).unwrap();
                i..i + n.len()
            })
            .collect();
        comparison_targets(s, &spans)
    }

    #[test]
    fn comparisons_in_chinese() {
        assert_eq!(targets("X公司发布Foo-2万亿参数大模型，性能逼近GPT-4", &["Foo-2", "GPT-4"]), vec![false, true]);
        assert_eq!(
            targets("Qwen2.5在多项评测中超越GPT-4和Claude 3", &["Qwen2.5", "GPT-4", "Claude 3"]),
            vec![false, true, true]
        );
        assert_eq!(targets("GLM-4的能力与GPT-4相当", &["GLM-4", "GPT-4"]), vec![false, true]);
        assert_eq!(targets("百度发布文心一言和文心大模型", &["文心一言", "文心大模型"]), vec![false, false]);
        assert_eq!(targets("排行榜第一，超过了LLaMA 2 70B等模型", &["LLaMA 2 70B"]), vec![true]);
        assert_eq!(targets("超越了Llama-2-70B，但英文推理仍不及GPT-4", &["Llama-2-70B", "GPT-4"]), vec![true, true]);
    }

    /// The cues tried by their last byte answer what trying every cue
    /// answered, on prefixes of cues, their pieces, case changed, spaces
    /// and letters before them.
    #[test]
    fn cues_by_last_byte_are_every_cue() {
        let every_cue = |before: &str| {
            let before = before.trim_end();
            BEFORE.iter().any(|w| {
                ends_with_folded(before, w) && {
                    let start = before.len() - w.len();
                    !w.starts_with(|c: char| c.is_ascii_alphabetic())
                        || !start
                            .checked_sub(1)
                            .and_then(|i| before.as_bytes().get(i))
                            .is_some_and(u8::is_ascii_alphanumeric)
                }
            })
        };
        let mut pieces: Vec<String> = BEFORE.iter().map(|w| (*w).to_owned()).collect();
        for w in BEFORE {
            let chars: Vec<char> = w.chars().collect();
            pieces.push(chars.iter().skip(chars.len() / 2).collect());
            pieces.push(w.to_ascii_uppercase());
        }
        pieces.extend([" ", "x", "7", "模", "，", "\u{3000}", "é"].map(String::from));
        let mut rng = crate::test_rng::XorShift::new(0x6a09_e667_f3bc_c908);
        let mut cues = 0;
        for _ in 0..20_000 {
            let s: String = (0..rng.below(5)).map(|_| pieces[rng.below(pieces.len())].as_str()).collect();
            assert_eq!(ends_with_cue(&s), every_cue(&s), "{s:?}");
            cues += usize::from(every_cue(&s));
        }
        assert!(cues > 5_000, "{cues}");
    }

    #[test]
    fn comparisons_in_english() {
        assert_eq!(
            targets("Foo-2 outperforms Llama 3 and GPT-4", &["Foo-2", "Llama 3", "GPT-4"]),
            vec![false, true, true]
        );
        assert_eq!(targets("Yi-34B is better than LLaMA", &["Yi-34B", "LLaMA"]), vec![false, true]);
        assert_eq!(targets("a model comparable to GPT-4 released by X", &["GPT-4"]), vec![true]);
        assert_eq!(targets("Meta released Llama 3 and Llama 3.1", &["Llama 3", "Llama 3.1"]), vec![false, false]);
    }
}
