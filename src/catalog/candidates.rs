//! Unknown-model candidates: names that look like models but are not in the
//! catalog (`Qwen2.5-72B`, `GLM-4`, `言犀大模型`). They are collected for
//! review, never added silently.

use std::ops::Range;

use regex::Regex;

use super::cjk_runs::NameChars;
use super::companies::CompanyRules;
use super::latin_tokens::latin_tokens;
use super::mention::{Known, Mention};
use super::model::EntityKind;
use super::rule_error::RuleError;
use super::sentence_words::{List, ListWords, SentenceWords, WordScan};
use super::text::find_ascii;

/// A candidate name seen in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateHit {
    pub name: String,
    pub span: Range<usize>,
}

/// Leading words of Latin tokens that carry digits but are not models.
const LATIN_STOP: &[&str] = &[
    "web", "covid", "mp", "top", "win", "windows", "iphone", "ipad", "pm", "http", "https", "utf", "gb", "iso", "sha",
    "md", "ipv", "usb", "cpu", "gpu", "rtx", "gtx", "sars", "no", "vol", "page", "section", "chapter", "table", "fig",
    "figure", "step", "level", "lv", "version", "rfc", "cve", "api", "sdk", "html", "css", "es", "ios", "android",
    "office", "fy", "ddr", "lpddr", "pcie", "wifi", "ai", "aigc", "pgc", "ugc", "vs", "ver", "rev", "round", "day",
    "week", "part", "issue", "pr", "tsmc", "nm", "dgx", "year", "q", "h", "x", "v",
];

/// Longer tokens are noise (hyphen-joined lists, base64, minified code),
/// never a model name.
const MAX_CANDIDATE_CHARS: usize = 64;

/// Words that end the run before 大模型 (what precedes the name).
const CJK_SEPARATORS: &[&str] = &[
    "发布", "推出", "宣布", "上线", "开源", "升级", "训练", "打造", "研发", "基于", "使用", "采用", "接入", "名为",
    "称为", "叫做", "亮相", "官宣", "公布", "旗下", "自家", "正式", "全新", "首个", "一个",
];
const CJK_SEPARATOR_CHARS: &[char] = &[
    '的', '了', '是', '和', '与', '及', '或', '在', '将', '把', '被', '对', '为', '从', '向', '个', '款', '等', '着',
    '这', '那', '其', '此', '该', '各', '每', '以', '用', '于', '让', '给', '有', '·',
];
/// Leading words stripped from what remains (国产AI大模型 → nothing).
const CJK_GENERIC_PREFIXES: &[&str] = &[
    "国产",
    "国内",
    "国外",
    "海外",
    "中文",
    "中国",
    "通用",
    "行业",
    "开源",
    "基础",
    "垂直",
    "领域性",
    "领域",
    "多模态",
    "预训练",
    "自研",
    "新一代",
    "超大规模",
    "超大",
    "业界",
    "全球",
    "金融",
    "医疗",
    "生成式",
    "自然语言",
    "语言",
    "视觉",
    "语音",
    "对话",
    "AI",
    "ai",
    "类ChatGPT",
    "细分",
    "科技",
    "千亿级",
    "千亿",
    "百亿",
    "万亿",
    "十亿",
];

/// What ends a CJK candidate, and how many characters of a name may
/// stand before it (the `cjk` pattern's `{1,16}`).
pub(crate) use super::cjk_runs::{CJK_MAX_CHARS, CJK_SUFFIX};

/// Words that make a sentence about models (a bare `Baichuan2` counts there).
pub(crate) const MODEL_KEYWORDS: &[&str] = &["模型", "model", "llm", "参数"];

pub struct CandidateRules {
    /// The Latin token pattern, for the tokens its scan leaves to it.
    latin: Regex,
    /// The CJK pattern `[\p{Han}A-Za-z0-9·\-]{1,16}?大模型`, by a scan.
    cjk: NameChars,
    /// The lists [`Self::find`] asks about, for a caller without the
    /// rules' scan of the sentence (`analyse` passes its own).
    words: WordScan,
    companies: CompanyRules,
}

impl CandidateRules {
    pub fn new() -> Result<Self, RuleError> {
        Ok(CandidateRules {
            latin: Regex::new(super::latin_tokens::PATTERN)?,
            cjk: NameChars::new()?,
            words: WordScan::new(&[
                ListWords { list: List::ModelKeywords, words: MODEL_KEYWORDS, fold: true },
                ListWords { list: List::CjkSuffix, words: &[CJK_SUFFIX], fold: false },
                ListWords { list: List::CompanyEnds, words: super::companies::FINDER_CJK_ENDS, fold: false },
                ListWords { list: List::LatinCompanyEnds, words: super::companies::LATIN_FINDER_ENDS, fold: false },
            ])?,
            companies: CompanyRules::new()?,
        })
    }

    /// The spans the `cjk` pattern finds in `sentence`, searched only around each
    /// 大模型: a match ends at the first 大模型 after its start and starts at
    /// most [`CJK_MAX_CHARS`] characters before it, so the pattern runs on
    /// that window instead of over every character of the sentence.
    fn cjk_runs(&self, sentence: &str, words: &SentenceWords) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        let mut pos = 0;
        loop {
            // The first 大模型 with at least one character before it.
            let from = pos + super::text::char_at(sentence, pos).map_or(1, char::len_utf8);
            let Some(at) = words.spans(List::CjkSuffix).map(|(_, s)| s.start).find(|&s| s >= from) else {
                break;
            };
            let window = sentence
                .get(..at)
                .and_then(|b| b.char_indices().rev().nth(CJK_MAX_CHARS - 1))
                .map_or(0, |(i, _)| i)
                .max(pos);
            match sentence.get(..at + CJK_SUFFIX.len()).and_then(|h| self.cjk.find_at(h, window)) {
                Some(m) => {
                    pos = m.end;
                    out.push(m);
                }
                // No match starts before `at`; one may start at it.
                None => pos = at,
            }
        }
        out
    }

    /// Candidates in one sentence, given the known mentions in it (with
    /// spans relative to the sentence).
    pub fn find(&self, matcher: &impl Known, sentence: &str, mentions: &[Mention]) -> Vec<CandidateHit> {
        self.find_in(matcher, sentence, mentions, &self.words.scan(sentence))
    }

    /// [`Self::find`] given the sentence's word scan (the rules' scan
    /// holds every list this one's does).
    pub fn find_in(
        &self,
        matcher: &impl Known,
        sentence: &str,
        mentions: &[Mention],
        words: &SentenceWords,
    ) -> Vec<CandidateHit> {
        let mut out = Vec::new();
        // Every Latin candidate starts with an ASCII letter and holds an
        // ASCII digit (`looks_like_model`): most sentences of an article
        // have Latin words (AI, API, tokens) and no digit, and those words
        // were each matched, lower-cased and looked up for nothing.
        let latin = find_ascii(sentence.as_bytes(), 0, |b| b.is_ascii_alphabetic()).is_some() && holds_digit(sentence);
        for m in latin.then(|| latin_tokens(sentence, &self.latin)).into_iter().flatten() {
            // Inside a word, a URL, a path or an address.
            if super::text::char_before(sentence, m.start)
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '@' | '=' | '_' | '-'))
            {
                continue;
            }
            let token = sentence.get(m.clone()).unwrap_or_default().trim_end_matches('.');
            if token.len() > MAX_CANDIDATE_CHARS || !holds_digit(token) {
                continue;
            }
            // Domains and file names (`www.360doc.com`, `v1.2.txt`).
            if token.split('.').skip(1).any(|seg| seg.starts_with(|c: char| c.is_ascii_alphabetic())) {
                continue;
            }
            let span = m.start..m.start + token.len();
            // A mention first: the look-up of a known term lower-cases and
            // hashes the token, and most tokens with a digit are mentions.
            if mentions.iter().any(|k| k.start <= span.start && k.end >= span.end) || matcher.is_known_term(token) {
                continue;
            }
            let known_prefix = mentions.iter().any(|k| k.start == span.start);
            if looks_like_model(token, words.has(List::ModelKeywords), known_prefix) {
                out.push(CandidateHit { name: token.to_owned(), span });
            }
        }
        // A known Chinese name with a version the catalog lacks: 通义千问2.5.
        for k in mentions {
            let Some(name) = sentence.get(k.start..k.end) else {
                continue;
            };
            if name.ends_with(|c: char| c.is_ascii_alphanumeric()) {
                continue; // Latin names are handled as tokens above.
            }
            let rest = sentence.get(k.end..).unwrap_or_default();
            let len = rest.bytes().take_while(|b| b.is_ascii_digit() || *b == b'.').count();
            let version = rest.get(..len).unwrap_or_default().trim_end_matches('.');
            if version.starts_with(|c: char| c.is_ascii_digit()) && version.len() <= MAX_CANDIDATE_CHARS {
                let full = format!("{name}{version}");
                if !matcher.is_known_term(&full) {
                    out.push(CandidateHit { name: full, span: k.start..k.end + version.len() });
                }
            }
        }
        for run in self.cjk_runs(sentence, words) {
            if let Some(hit) = cjk_candidate(matcher, sentence, run, mentions) {
                out.push(hit);
            }
        }
        let ends = words.spans(List::CompanyEnds).collect();
        let latin_end = words.has(List::LatinCompanyEnds);
        for (span, name) in self.companies.find_with(matcher, sentence, mentions, ends, latin_end) {
            out.push(CandidateHit { name, span });
        }
        out
    }
}

/// What a candidate may be promoted to: a vendor for a company's shape
/// (`星海智能`, `Acme Labs`), a model for a model's (`Zeta-9`,
/// `言犀大模型`, `通义千问3.5`); a name of neither shape stays a candidate
/// for a reviewer.
pub fn promotable_kind(name: &str) -> Option<EntityKind> {
    if super::companies::looks_like_company(name) {
        return Some(EntityKind::Vendor);
    }
    let has_digit = holds_digit(name);
    let latin_model = name.starts_with(|c: char| c.is_ascii_alphabetic()) && looks_like_model(name, true, false);
    let cjk_model = name.ends_with("模型") || (!name.starts_with(|c: char| c.is_ascii()) && has_digit);
    (latin_model || cjk_model).then_some(EntityKind::Model)
}

/// Whether `text` holds an ASCII digit: every Latin model name does
/// ([`looks_like_model`]'s first rule), so a token or a sentence without
/// one holds no Latin candidate.
fn holds_digit(text: &str) -> bool {
    find_ascii(text.as_bytes(), 0, |b| b.is_ascii_digit()).is_some()
}

/// The shape test for a Latin token with a version or size.
fn looks_like_model(token: &str, keyword: bool, known_prefix: bool) -> bool {
    // No copies: the leading letters are a slice, compared with the stop
    // words (all lower case) with ASCII case folded.
    let letters = token.get(..token.bytes().take_while(u8::is_ascii_alphabetic).count()).unwrap_or_default();
    if letters.len() < 2 || !holds_digit(token) {
        return false;
    }
    if LATIN_STOP.iter().any(|w| w.eq_ignore_ascii_case(letters)) {
        return false;
    }
    let size_suffix =
        token.split(['-', '_', ' ']).skip(1).any(is_size) || token.get(letters.len()..).is_some_and(is_size);
    if size_suffix {
        return true;
    }
    // The first number after the name: 3+ digits is a chip or product code
    // (A100, KAMIN018, DGXA100), not a model version.
    let rest = &token[letters.len()..];
    let rest = rest.trim_start_matches(['-', '_', ' ']);
    let int_digits = rest.chars().take_while(|c| c.is_ascii_digit()).count();
    if int_digits == 0 && !known_prefix {
        return keyword && holds_digit(token);
    }
    if int_digits >= 3 {
        return false;
    }
    let hyphen_version = token.get(letters.len()..).is_some_and(|r| r.starts_with('-')) && int_digits > 0;
    hyphen_version || known_prefix || keyword
}

/// `72B`, `1.5b`, `8x7B`, `500M`.
fn is_size(s: &str) -> bool {
    let body = match s.split_once(['x', 'X']) {
        Some((experts, each)) if experts.chars().all(|c| c.is_ascii_digit()) && !experts.is_empty() => each,
        _ => s,
    };
    let Some(num) = body.strip_suffix(['B', 'b', 'M', 'm', 'T', 't']) else {
        return false;
    };
    !num.is_empty()
        && num.chars().all(|c| c.is_ascii_digit() || c == '.')
        && num.starts_with(|c: char| c.is_ascii_digit())
}

fn cjk_candidate(
    matcher: &impl Known,
    sentence: &str,
    span: Range<usize>,
    mentions: &[Mention],
) -> Option<CandidateHit> {
    let suffix_start = span.end - CJK_SUFFIX.len();
    // A known model names it already (盘古大模型, 日日新大模型).
    if mentions.iter().any(|k| k.end > suffix_start && k.start < span.end)
        || mentions.iter().any(|k| k.end == suffix_start && matcher.kind(k.entity) == Some(EntityKind::Model))
    {
        return None;
    }
    // The name starts after the last known mention inside the run (京东言犀).
    let mut start = span.start;
    for k in mentions {
        if k.end > start && k.end <= suffix_start && k.start >= span.start {
            start = k.end;
        }
    }
    let mut name = sentence.get(start..suffix_start)?;
    loop {
        // Where the last separator word ends: the name is at most 16
        // characters, so each position is tried against each word (no
        // searcher built per word).
        let cut_word = name
            .char_indices()
            .flat_map(|(i, _)| {
                let rest = name.get(i..).unwrap_or_default();
                CJK_SEPARATORS.iter().filter(move |w| rest.starts_with(**w)).map(move |w| i + w.len())
            })
            .max();
        let cut_char =
            name.char_indices().filter(|(_, c)| CJK_SEPARATOR_CHARS.contains(c)).map(|(i, c)| i + c.len_utf8()).max();
        match cut_word.max(cut_char) {
            Some(cut) if cut > 0 => name = name.get(cut..)?,
            _ => break,
        }
    }
    let mut stripped = true;
    while stripped {
        stripped = false;
        for p in CJK_GENERIC_PREFIXES {
            if let Some(rest) = name.strip_prefix(p) {
                name = rest;
                stripped = true;
            }
        }
    }
    let name = name.trim_matches(['-', '·']);
    let name_start = suffix_start - name.len();
    if !named_in_context(matcher, sentence, name_start, mentions) {
        return None;
    }
    let chars = name.chars().count();
    if !(2..=8).contains(&chars) || name.contains("参数") || name.ends_with('级') {
        return None;
    }
    if !name.chars().any(|c| !c.is_ascii_digit()) {
        return None;
    }
    let full = format!("{name}{CJK_SUFFIX}");
    if matcher.is_known_term(&full) || matcher.is_known_term(name) {
        return None;
    }
    Some(CandidateHit { name: full, span: name_start..span.end })
}

/// Release verbs and naming words that introduce a model's name.
const INTRODUCERS: &[&str] = &[
    "发布",
    "推出",
    "上线",
    "开源",
    "亮相",
    "官宣",
    "名为",
    "称为",
    "叫做",
    "升级",
    "公布",
    "宣布",
    "发布了",
    "推出了",
    "上线了",
    "开源了",
    "正式发布",
    "正式推出",
];

/// Only a name in a naming context is a candidate: right after a known
/// vendor (京东言犀大模型), after a release verb (发布百川大模型) or inside
/// quotes (“言犀大模型”). Generic phrases (深耕大模型, 四大巨头大模型)
/// have none of these.
fn named_in_context(matcher: &impl Known, sentence: &str, start: usize, mentions: &[Mention]) -> bool {
    if mentions.iter().any(|k| k.end == start && matcher.kind(k.entity) == Some(EntityKind::Vendor)) {
        return true;
    }
    let before = sentence.get(..start).unwrap_or_default().trim_end();
    if before.ends_with(['“', '"', '「', '『', '《', '【', '‘']) {
        return true;
    }
    INTRODUCERS.iter().any(|w| before.ends_with(w))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn latin_shapes() {
        assert!(looks_like_model("Qwen2.5-72B", false, false));
        assert!(looks_like_model("GLM-4", false, false));
        assert!(looks_like_model("Baichuan2", true, false));
        assert!(!looks_like_model("Baichuan2", false, false));
        assert!(looks_like_model("Mixtral-8x7B", false, false));
        assert!(!looks_like_model("DGXA100", true, false));
        assert!(!looks_like_model("KAMIN018", true, false));
        assert!(!looks_like_model("A100", true, false));
        assert!(!looks_like_model("Web3-AIGC", true, false));
        assert!(!looks_like_model("COVID-19", true, false));
        assert!(!looks_like_model("ModelArts", true, false));
    }

    /// `find_in` skips Latin tokens without an ASCII digit (and the whole
    /// pattern on a sentence without one): it may only because no such
    /// token looks like a model, whatever the sentence and the mentions.
    #[test]
    fn a_latin_token_without_a_digit_is_never_a_model() {
        let pieces = ["Qwen", "GPT", "ai", "Chat", "-", "_", ".", " ", "B", "x", "Turbo", "Ⅳ", "７", "llm"];
        let mut rng = crate::test_rng::XorShift::new(0x6a09_e667_f3bc_c908);
        let mut digitless = 0;
        for _ in 0..20_000 {
            let token: String = rng.join(&pieces, 1, 6);
            if token.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            digitless += 1;
            for (keyword, known_prefix) in [(false, false), (true, false), (false, true), (true, true)] {
                assert!(!looks_like_model(&token, keyword, known_prefix), "{token:?}");
            }
        }
        assert!(digitless > 10_000);
        // With a digit the same shapes are models.
        assert!(looks_like_model("Qwen-7B", false, false) && looks_like_model("Chat2", true, false));
        let rules = CandidateRules::new().unwrap();
        let matcher = crate::catalog::seed_tests::seed_matcher();
        let hits = |s: &str| rules.find(&matcher, s, &matcher.find(s)).into_iter().map(|h| h.name).collect::<Vec<_>>();
        assert_eq!(hits("智谱推出Zeta-9模型，支持Chat功能。"), vec!["Zeta-9".to_owned()]);
        assert!(hits("智谱推出Zeta模型，支持Chat功能。").is_empty());
    }

    #[test]
    fn long_tokens_are_no_candidates() {
        let matcher = crate::catalog::seed_tests::seed_matcher();
        let rules = CandidateRules::new().unwrap();
        let long = format!("GLM-4{}", "-Chat7B".repeat(600));
        let sentence = format!("智谱AI推出{long}大模型，同时发布GLM-5。");
        let names: Vec<String> =
            rules.find(&matcher, &sentence, &matcher.find(&sentence)).into_iter().map(|h| h.name).collect();
        assert_eq!(names, vec!["GLM-5".to_owned()]);
        let at_limit = format!("GLM-4-{}", "x".repeat(MAX_CANDIDATE_CHARS - 6));
        let sentence = format!("智谱AI推出{at_limit}。");
        let hits = rules.find(&matcher, &sentence, &matcher.find(&sentence));
        assert_eq!(hits.len(), 1, "a {MAX_CANDIDATE_CHARS}-character name is still a candidate");
    }

    #[test]
    fn promotable_shapes() {
        for (name, kind) in [
            ("星海智能", Some(EntityKind::Vendor)),
            ("Acme Labs", Some(EntityKind::Vendor)),
            ("Zeta-9", Some(EntityKind::Model)),
            ("Qwen2.5-72B", Some(EntityKind::Model)),
            ("言犀大模型", Some(EntityKind::Model)),
            ("通义千问3.5", Some(EntityKind::Model)),
            ("Zorblax", None),
            ("星海", None),
            ("人工智能", None),
            ("A100", None),
        ] {
            assert_eq!(promotable_kind(name), kind, "{name}");
        }
    }

    #[test]
    fn company_names_are_candidates() {
        let matcher = crate::catalog::seed_tests::seed_matcher();
        let rules = CandidateRules::new().unwrap();
        let sentence = "据悉，星海智能发布了新一代模型，百度也宣布跟进。";
        let names: Vec<String> =
            rules.find(&matcher, sentence, &matcher.find(sentence)).into_iter().map(|h| h.name).collect();
        assert_eq!(names, vec!["星海智能".to_owned()]);
    }

    /// The windowed search finds exactly what the pattern finds over the
    /// whole sentence, on sentences built of the characters that decide
    /// it: the suffix's own characters, name characters, separators.
    #[test]
    fn cjk_runs_are_the_patterns_matches() {
        let rules = CandidateRules::new().unwrap();
        let cjk = Regex::new(&format!(r"[\p{{Han}}A-Za-z0-9·\-]{{1,{CJK_MAX_CHARS}}}?{CJK_SUFFIX}")).unwrap();
        let alphabet = ['大', '模', '型', '言', 'A', '7', '·', '-', '，', ' ', 'é'];
        let mut rng = crate::test_rng::XorShift::new(0x2545_f491_4f6c_dd1d);
        let mut next = |n: usize| rng.below(n);
        let mut cases: Vec<String> = vec![
            "大模型".into(),
            "大模型大模型".into(),
            format!("{}大模型", "言".repeat(40)),
            format!("发布{}大模型和言犀大模型", "言".repeat(16)),
        ];
        for _ in 0..20_000 {
            let len = next(48);
            let mut s: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            for _ in 0..next(3) {
                let at = s.char_indices().map(|(i, _)| i).nth(next(s.chars().count() + 1)).unwrap_or(s.len());
                s.insert_str(at, CJK_SUFFIX);
            }
            cases.push(s);
        }
        let mut found = 0;
        for s in &cases {
            let whole: Vec<Range<usize>> = cjk.find_iter(s).map(|m| m.range()).collect();
            assert_eq!(rules.cjk_runs(s, &rules.words.scan(s)), whole, "{s}");
            found += whole.len();
        }
        assert!(found > 1000, "the cases exercise the pattern: {found} matches");
    }

    #[test]
    fn the_stop_words_are_lower_case() {
        // looks_like_model compares them with ASCII case folded.
        assert!(LATIN_STOP.iter().all(|w| w.bytes().all(|b| b.is_ascii_lowercase())));
    }

    #[test]
    fn sizes() {
        assert!(is_size("72B") && is_size("1.5b") && is_size("8x7B") && is_size("500M"));
        assert!(!is_size("B") && !is_size("x7B") && !is_size("Chat") && !is_size("4"));
    }
}
