//! Company-shaped names the catalog lacks (`星海智能`, `北辰科技`, `Foo AI`,
//! `Acme Labs`, `Acme Inc.`): candidates that become provisional *vendors*
//! once enough sources name them, and the shape test the store promotes by.
//!
//! A company name is only taken where a sentence names it as a company:
//! at the start of a clause (or after 由/来自/初创公司, "by", "from") and
//! followed by what companies do (发布, 推出, 开源, released, launched …).
//! Everyday phrases with the same endings (人工智能, 金融科技, Generative
//! AI) are refused by their first word.

use std::ops::Range;

use regex::Regex;

use super::mention::{Known, Mention};
use super::rule_error::RuleError;
use super::words::Words;

/// Endings that make a name a company's (Chinese, then Latin).
const CJK_ENDS: &[&str] = &["科技", "智能", "实验室", "研究院", "公司", "集团"];
/// The endings the finder looks for (`XX公司` names the company `XX`).
pub(crate) const FINDER_CJK_ENDS: &[&str] = &["科技", "智能", "实验室", "研究院"];
/// The Latin endings the finder looks for: every match of its pattern
/// holds one, so sentences without are skipped.
pub(crate) const LATIN_FINDER_ENDS: &[&str] = &[" AI", " Lab", " Inc", " Technologies"];
const LATIN_ENDS: &[&str] = &[" AI", " Labs", " Lab", " Inc.", " Inc", " Technologies"];

/// Words and characters a company name follows inside a run of Chinese
/// (由云岫实验室, 据悉星海智能, 旗下的北辰科技): the name starts after the
/// last of them.
const CJK_BEFORE: &[&str] = &[
    "由",
    "来自",
    "初创公司",
    "创业公司",
    "创企",
    "独角兽",
    "据悉",
    "近日",
    "今日",
    "日前",
    "昨日",
    "今天",
    "昨天",
    "此前",
    "随后",
    "同时",
    "另外",
    "此外",
    "发布",
    "推出",
    "宣布",
    "携手",
    "的",
    "了",
    "是",
    "和",
    "与",
    "及",
    "或",
    "在",
    "将",
    "把",
    "被",
    "对",
    "为",
    "从",
    "向",
    "让",
    "给",
    "有",
    "·",
    "、",
];
/// The longest run of Chinese before a company ending that is looked at.
const MAX_RUN_CHARS: usize = 12;
/// What a company does next in the sentence.
const CJK_AFTER: &[&str] = &[
    "发布", "推出", "开源", "上线", "宣布", "亮相", "正式", "旗下", "研发", "打造", "官宣", "公布", "近日", "今日",
    "日前", "表示", "称", "的", "（",
];
const LATIN_AFTER: &[&str] = &[
    "released",
    "releases",
    "launched",
    "launches",
    "announced",
    "announces",
    "unveiled",
    "unveils",
    "introduced",
    "introduces",
    "open-sourced",
    "open-sources",
    "said",
    "says",
    "has released",
    "has launched",
    "'s",
    "’s",
    "发布",
    "推出",
    "开源",
    "上线",
    "宣布",
    "的",
    "(",
    "（",
];
const LATIN_BEFORE: &[&str] =
    &["by", "from", "startup", "start-up", "company", "lab", "由", "来自", "公司", "创企", "实验室"];

/// First words of everyday phrases with a company ending (人工智能,
/// 金融科技, Generative AI): never a company.
const GENERIC: &[&str] = &[
    "人工",
    "具身",
    "通用",
    "机器",
    "群体",
    "计算",
    "感知",
    "认知",
    "决策",
    "边缘",
    "商业",
    "数字",
    "金融",
    "信息",
    "网络",
    "前沿",
    "高",
    "黑",
    "中国",
    "国产",
    "国内",
    "全球",
    "生成式",
    "多模态",
    "生物",
    "医疗",
    "教育",
    "汽车",
    "自动驾驶",
    "物理",
    "科技",
    "智能",
    "新",
    "该",
    "这家",
    "一家",
    "多家",
    "某",
    "其",
    "本",
    "母",
    "子",
    "上市",
    "人类",
    "重点",
    "国家",
    "联合",
    "开放",
    "创新",
    "generative",
    "responsible",
    "open",
    "edge",
    "agentic",
    "physical",
    "conversational",
    "enterprise",
    "the",
    "our",
    "their",
    "its",
    "this",
    "that",
    "explainable",
    "artificial",
    "general",
    "embodied",
    "multimodal",
    "chinese",
    "american",
    "new",
    "a",
    "an",
    "safe",
    "trustworthy",
    "sovereign",
    "vertical",
    "applied",
    "frontier",
    "consumer",
    "mobile",
    "creative",
];

/// Sentence words that may stand before a company's name at a clause start
/// (`Meanwhile Zhipu AI launched…`).
const LEADING: &[&str] = &[
    "meanwhile",
    "however",
    "also",
    "today",
    "yesterday",
    "then",
    "now",
    "separately",
    "earlier",
    "later",
    "recently",
    "and",
    "but",
    "rival",
    "when",
    "while",
    "after",
    "as",
    "since",
    "if",
    "startup",
];

pub struct CompanyRules {
    /// [`FINDER_CJK_ENDS`], found in one scan.
    cjk_ends: Words,
    /// What every match of `latin` holds: the sentences without are skipped.
    latin_ends: Words,
    latin: Regex,
}

impl CompanyRules {
    pub fn new() -> Result<Self, RuleError> {
        Ok(CompanyRules {
            cjk_ends: Words::exact(FINDER_CJK_ENDS)?,
            latin_ends: Words::exact(LATIN_FINDER_ENDS)?,
            latin: Regex::new(r"[A-Z][A-Za-z0-9]*(?:[ -][A-Z][A-Za-z0-9]*)? (?:AI|Labs|Lab|Inc\.|Inc|Technologies)")?,
        })
    }

    /// Company names in one sentence (spans relative to it), given the
    /// known mentions in it; known names are left out.
    pub fn find(&self, known: &impl Known, sentence: &str, mentions: &[Mention]) -> Vec<(Range<usize>, String)> {
        let ends: Vec<(usize, Range<usize>)> = self.cjk_ends.spans(sentence).collect();
        self.find_with(known, sentence, mentions, ends, self.latin_ends.any_in(sentence))
    }

    /// [`Self::find`] given what the sentence's one word scan found: the
    /// Chinese endings' spans (with each ending's index in
    /// [`FINDER_CJK_ENDS`]) and whether a Latin ending is there.
    pub fn find_with(
        &self,
        known: &impl Known,
        sentence: &str,
        mentions: &[Mention],
        mut ends: Vec<(usize, Range<usize>)>,
        latin_end: bool,
    ) -> Vec<(Range<usize>, String)> {
        // The endings share no character, so one scan finds each one's
        // occurrences; sorted by ending (stable), they come in the order
        // one search per ending gave.
        ends.sort_by_key(|(word, _)| *word);
        let mut out = Vec::new();
        for (_, end) in ends {
            out.extend(cjk_company(sentence, end.start, end.end));
        }
        if latin_end {
            for m in self.latin.find_iter(sentence) {
                if let Some(hit) = latin_company(sentence, m.range()) {
                    out.push(hit);
                }
            }
        }
        out.retain(|(span, name)| {
            !known.is_known_term(name)
                && !mentions.iter().any(|k| k.start < span.end && span.start < k.end)
                && !name_without_end(name).is_some_and(|n| known.is_known_term(n))
        });
        out
    }
}

/// The name without its company ending (`星海` of `星海智能`).
fn name_without_end(name: &str) -> Option<&str> {
    CJK_ENDS.iter().chain(LATIN_ENDS).find_map(|e| name.strip_suffix(e)).map(str::trim)
}

/// Is `name` shaped like a company's (`星海智能`, `Acme Labs`)?
pub fn looks_like_company(name: &str) -> bool {
    let Some(body) = name_without_end(name) else { return false };
    let first = first_word(body);
    !body.is_empty() && !GENERIC.contains(&first.as_str())
}

fn first_word(body: &str) -> String {
    if body.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return body.split([' ', '-']).next().unwrap_or_default().to_ascii_lowercase();
    }
    // Chinese has no spaces: the longest generic word the body starts with.
    GENERIC
        .iter()
        .filter(|g| body.starts_with(**g))
        .max_by_key(|g| g.len())
        .map_or_else(String::new, |g| (*g).to_owned())
}

/// The company whose ending spans `end_at..end` (`据悉，星海智能发布` →
/// 星海智能): the run of Chinese before the ending, cut after the last
/// word a name follows, and followed by what companies do.
fn cjk_company(sentence: &str, end_at: usize, end: usize) -> Option<(Range<usize>, String)> {
    let after = sentence.get(end..)?;
    if !CJK_AFTER.iter().any(|w| after.starts_with(w)) {
        return None;
    }
    let before = sentence.get(..end_at)?;
    let run_start = before
        .char_indices()
        .rev()
        .take(MAX_RUN_CHARS)
        .take_while(|(_, c)| is_han(*c))
        .last()
        .map_or(end_at, |(i, _)| i);
    let run = before.get(run_start..)?;
    let cut = last_word_end(run, CJK_BEFORE);
    let start = run_start + cut;
    let body_chars = sentence.get(start..end_at)?.chars().count();
    let name = sentence.get(start..end)?;
    ((2..=6).contains(&body_chars) && looks_like_company(name)).then(|| (start..end, name.to_owned()))
}

/// Where the last occurrence of any of `words` in `run` ends (0 for none):
/// the maximum over the words of `rfind(w) + w.len()`. The run is a dozen
/// characters at most, so its ends are tried from the last, each against
/// the words, where an `rfind` per word set up a searcher 44 times a
/// company ending (cjk_company: 1,600 instructions a call, callgrind).
fn last_word_end(run: &str, words: &[&str]) -> usize {
    run.char_indices()
        .rev()
        .map(|(i, c)| i + c.len_utf8())
        .find(|&end| run.get(..end).is_some_and(|head| words.iter().any(|w| head.ends_with(w))))
        .unwrap_or(0)
}

/// `Acme Labs`, `Foo AI`, `Acme Inc.` named as a company.
fn latin_company(sentence: &str, span: Range<usize>) -> Option<(Range<usize>, String)> {
    // Whole words only: not `xAcme Labs`, not `Acme Labsx`.
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
    if glued(sentence.get(..span.start)?.chars().next_back()) || glued(sentence.get(span.end..)?.chars().next()) {
        return None;
    }
    let before = sentence.get(..span.start)?.trim_end();
    let before_word = before.rsplit([' ', '，', ',']).next().unwrap_or_default().to_ascii_lowercase();
    let clause_start = before.is_empty() || before.ends_with([',', '，', ':', '：', ';', '；', '"', '“', '(', '（']);
    let named_before = LATIN_BEFORE.iter().any(|w| before_word == *w || before.ends_with(w));
    let mut start = span.start;
    let mut name = sentence.get(span.clone())?;
    // `The Acme Labs`, `Meanwhile Zhipu AI`: the first word is no part of
    // the name.
    if let Some((first, rest)) = name.split_once(' ')
        && rest.contains(' ')
        && LEADING.iter().chain(GENERIC).any(|w| first.eq_ignore_ascii_case(w))
    {
        start += first.len() + 1;
        name = rest;
    }
    if !looks_like_company(name) {
        return None;
    }
    let after = sentence.get(start + name.len()..)?.trim_start();
    let acts_after = LATIN_AFTER.iter().any(|w| after.starts_with(w));
    // Named as a company (`by Acme Labs`), or a clause's subject that acts.
    (named_before || (clause_start && acts_after)).then(|| (start..start + name.len(), name.to_owned()))
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    struct Nothing;

    impl Known for Nothing {
        fn is_known_term(&self, term: &str) -> bool {
            term == "Mistral AI" || term == "深度求索"
        }

        fn kind(&self, _: usize) -> Option<super::super::model::EntityKind> {
            None
        }
    }

    fn names(sentence: &str) -> Vec<String> {
        CompanyRules::new().unwrap().find(&Nothing, sentence, &[]).into_iter().map(|(_, n)| n).collect()
    }

    #[test]
    fn company_names_in_naming_context() {
        assert_eq!(names("据悉，星海智能发布了新一代模型。"), vec!["星海智能"]);
        assert_eq!(names("北辰科技今日开源其首个模型"), vec!["北辰科技"]);
        assert_eq!(names("该模型由云岫实验室研发。"), vec!["云岫实验室"]);
        assert_eq!(names("Acme Labs released a new model today."), vec!["Acme Labs"]);
        assert_eq!(names("The model comes from Nimbus AI, a startup."), vec!["Nimbus AI"]);
        assert_eq!(names("Quill Inc. announced its first model."), vec!["Quill Inc."]);
        assert_eq!(names("初创公司Quasar AI发布模型"), vec!["Quasar AI"]);
    }

    #[test]
    fn everyday_phrases_and_known_names_are_none() {
        for s in [
            "人工智能发布了新的政策。",
            "金融科技正式进入新阶段。",
            "具身智能的发展很快。",
            "Generative AI launched a wave of startups.",
            "We use Open AI tools every day.",
            "Mistral AI released a model.",
            "深度求索科技发布模型",
            "公司在科技领域发布了新产品。",
            "他们讨论了Acme Labs。",
        ] {
            assert!(names(s).is_empty(), "{s}: {:?}", names(s));
        }
    }

    #[test]
    fn the_finder_endings_share_no_character() {
        // One scan finds what a search per ending found only if no two
        // endings can overlap.
        for (i, a) in FINDER_CJK_ENDS.iter().enumerate() {
            for b in FINDER_CJK_ENDS.iter().skip(i + 1) {
                assert!(!a.chars().any(|c| b.contains(c)), "{a} {b}");
            }
        }
        assert_eq!(names("北辰智能发布，南山科技发布，东海科技发布"), vec!["南山科技", "东海科技", "北辰智能"]);
    }

    #[test]
    fn the_last_word_end_is_the_rfinds() {
        let pieces = ["由", "来自", "来", "自", "初创公司", "公司", "的", "星", "海", "·", "、", "a"];
        let mut rng = crate::test_rng::XorShift::new(0x3c6e_f372_fe94_f82b);
        let mut found = 0;
        for _ in 0..20_000 {
            let run: String = rng.join(&pieces, 0, 8);
            let expected = CJK_BEFORE.iter().filter_map(|w| run.rfind(w).map(|i| i + w.len())).max().unwrap_or(0);
            assert_eq!(last_word_end(&run, CJK_BEFORE), expected, "{run:?}");
            found += usize::from(expected > 0);
        }
        assert!(found > 5_000, "{found}");
    }

    #[test]
    fn the_company_shape() {
        for n in ["星海智能", "北辰科技", "云岫实验室", "Acme Labs", "Nimbus AI", "Quill Inc.", "零一万物公司"]
        {
            assert!(looks_like_company(n), "{n}");
        }
        for n in ["人工智能", "Generative AI", "Zeta-9", "言犀大模型", "AI", "科技"] {
            assert!(!looks_like_company(n), "{n}");
        }
    }
}
