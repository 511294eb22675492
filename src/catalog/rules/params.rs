//! Parameter counts: `1.17亿`, `1750亿`, `千亿级`, `1.8万亿`, `175B`,
//! `7B/13B/70B`, `8x7B`, `175 billion`.

use std::ops::Range;

use regex::Regex;

use super::super::text::{char_at, char_before, find_ascii};
use super::super::value::{ParamCount, scale_decimal};
use super::super::words::Words;
use super::RuleError;
use crate::ascii_classes::{TwoForms, Unicode};

/// A parameter figure found in a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParamHit {
    pub span: Range<usize>,
    pub value: ParamCount,
    /// Directly followed by 参数/parameters (stronger evidence).
    pub explicit: bool,
}

/// What may follow an amount that is *not* a parameter count.
const NOT_PARAMS: &[&str] = &[
    "美元",
    "元",
    "人民币",
    "美金",
    "港元",
    "欧元",
    "用户",
    "人",
    "次",
    "台",
    "片",
    "张",
    "字",
    "token",
    "Token",
    "词",
    "条",
    "行",
    "年",
    "天",
    "小时",
    "访客",
    "件",
    "份",
    "页",
    "像素",
    "帧",
    "dollars",
    "users",
    "people",
    "tokens",
    "words",
    "USD",
    "$",
    "市值",
    "估值",
    "营收",
    "收入",
    "订单",
];

/// Words that make a sentence talk about parameters.
pub(crate) const PARAMETER_WORDS: &[&str] = &["参数", "parameter", "params", " sizes"];

pub struct ParamRules {
    words: Words,
    /// With ASCII digit and space classes for the sentences without others
    /// ([`crate::ascii_classes`]); the Unicode forms' lazy-DFA caches held
    /// 0.45 MB at a cold sweep's heap peak (heaptrack, 2,000 bench pages).
    chinese: TwoForms,
    latin: TwoForms,
    /// Which sentences need the patterns as written (None: every one).
    unicode: Option<Unicode>,
    /// Their capture groups by number: `Captures::name` looks a name up in
    /// a map on every call, seven calls a figure (0.07 M instructions a
    /// bench page, callgrind, examples/analysis_digest).
    chinese_groups: Groups,
    latin_groups: Groups,
}

/// The numbers of a pattern's named groups (`usize::MAX`, which no
/// `Captures::get` finds, for a name it lacks).
struct Groups {
    over: usize,
    experts: usize,
    int: usize,
    frac: usize,
    unit: usize,
    mag: usize,
}

impl Groups {
    fn of(re: Option<&Regex>) -> Self {
        let at = |name: &str| re.and_then(|re| re.capture_names().position(|n| n == Some(name))).unwrap_or(usize::MAX);
        Groups {
            over: at("over"),
            experts: at("experts"),
            int: at("int"),
            frac: at("frac"),
            unit: at("unit"),
            mag: at("mag"),
        }
    }
}

impl ParamRules {
    pub fn new() -> Result<Self, RuleError> {
        let chinese = TwoForms::new(
            r"(?P<over>超过|逾|大于|多于|超)?\s*(?:(?P<int>\d+)(?:\.(?P<frac>\d+))?\s*(?P<unit>万亿|亿|万)|(?P<mag>十亿|百亿|千亿|万亿)(?:级|量级)?)".to_owned(),
        )?;
        let latin = TwoForms::new(
            r"(?i)(?P<over>over |more than )?(?:(?P<experts>\d+)\s*[x×]\s*)?(?P<int>\d+)(?:\.(?P<frac>\d+))?(?:\s|-)?(?P<unit>billion|trillion|million|B|T|M)".to_owned(),
        )?;
        Ok(ParamRules {
            words: Words::folded(PARAMETER_WORDS)?,
            // Both forms of a pattern have the same groups.
            chinese_groups: Groups::of(chinese.regex(false)),
            latin_groups: Groups::of(latin.regex(false)),
            chinese,
            latin,
            unicode: Unicode::new(),
        })
    }

    /// Every parameter figure in `sentence` that is not money, people or
    /// tokens, and not part of a model name (`Qwen-7B` is a name).
    pub fn find(&self, sentence: &str) -> Vec<ParamHit> {
        let mut hits = Vec::new();
        // Each pattern only where its units are: every Chinese figure has
        // 亿 or 万, every Latin one a B, T or M (none of which has another
        // case form under Unicode folding).
        let chinese = sentence.contains(['亿', '万']);
        let latin =
            find_ascii(sentence.as_bytes(), 0, |b| matches!(b, b'b' | b'B' | b't' | b'T' | b'm' | b'M')).is_some();
        // The sentence's digits and spaces decide which form of the
        // patterns runs ([`crate::ascii_classes`]).
        let unicode = (chinese || latin) && self.unicode.as_ref().is_none_or(|u| u.in_text(sentence));
        let g = &self.chinese_groups;
        let found = chinese.then(|| self.chinese.regex(unicode)).flatten().map(|re| re.captures_iter(sentence));
        for caps in found.into_iter().flatten() {
            let Some(whole) = caps.get(0) else { continue };
            let value = if let Some(mag) = caps.get(g.mag) {
                if char_before(sentence, mag.start()).is_some_and(|c| c.is_ascii_digit() || c == '数') {
                    continue;
                }
                let min = match mag.as_str() {
                    "十亿" => 1_000_000_000u64,
                    "百亿" => 10_000_000_000,
                    "千亿" => 100_000_000_000,
                    _ => 1_000_000_000_000,
                };
                ParamCount::Range { min, max: Some(min * 10) }
            } else {
                let exp = match caps.get(g.unit).map(|m| m.as_str()) {
                    Some("万亿") => 12,
                    Some("亿") => 8,
                    _ => 4,
                };
                let int = caps.get(g.int).map_or("", |m| m.as_str());
                let frac = caps.get(g.frac).map_or("", |m| m.as_str());
                if char_before(sentence, whole.start()).is_some_and(|c| c.is_ascii_digit() || c == '.') {
                    continue;
                }
                // `Foo-2万亿参数`: the 2 ends the name Foo-2; the figure is
                // the unit alone (万亿 = 10^12).
                if let Some(unit) = caps.get(g.unit)
                    && caps.get(g.over).is_none()
                    && char_before(sentence, whole.start()) == Some('-')
                    && char_before(sentence, whole.start() - 1).is_some_and(char::is_alphanumeric)
                {
                    if classify_tail(sentence, whole.end()) == Some(true) {
                        let value = ParamCount::Exact { value: 10u64.pow(exp) };
                        hits.push(ParamHit { span: unit.range(), value, explicit: true });
                    }
                    continue;
                }
                let Some(value) = scale_decimal(int, frac, exp) else {
                    continue;
                };
                if caps.get(g.over).is_some() {
                    ParamCount::Range { min: value, max: None }
                } else {
                    ParamCount::Exact { value }
                }
            };
            if let Some(explicit) = classify_tail(sentence, whole.end()) {
                hits.push(ParamHit { span: whole.range(), value, explicit });
            }
        }
        let g = &self.latin_groups;
        let found = latin.then(|| self.latin.regex(unicode)).flatten().map(|re| re.captures_iter(sentence));
        for caps in found.into_iter().flatten() {
            let Some(whole) = caps.get(0) else { continue };
            let Some(first) = caps.get(g.over).or(caps.get(g.experts)).or(caps.get(g.int)) else {
                continue;
            };
            // Part of a name (`Qwen-7B`, `A100`) or of a longer token.
            if char_before(sentence, first.start())
                .is_some_and(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                || char_at(sentence, whole.end()).is_some_and(|c| c.is_ascii_alphanumeric())
            {
                continue;
            }
            let unit = caps.get(g.unit).map_or("", |m| m.as_str());
            let exp = if unit.eq_ignore_ascii_case("t") || unit.eq_ignore_ascii_case("trillion") {
                12
            } else if unit.eq_ignore_ascii_case("b") || unit.eq_ignore_ascii_case("billion") {
                9
            } else {
                6
            };
            let int = caps.get(g.int).map_or("", |m| m.as_str());
            let frac = caps.get(g.frac).map_or("", |m| m.as_str());
            let Some(each) = scale_decimal(int, frac, exp) else {
                continue;
            };
            let value = match caps.get(g.experts).and_then(|m| m.as_str().parse::<u32>().ok()) {
                Some(experts) => ParamCount::Moe { experts, each },
                None if caps.get(g.over).is_some() => ParamCount::Range { min: each, max: None },
                None => ParamCount::Exact { value: each },
            };
            if let Some(explicit) = classify_tail(sentence, whole.end()) {
                hits.push(ParamHit { span: whole.range(), value, explicit });
            }
        }
        hits.sort_by_key(|h| h.span.start);
        hits
    }

    /// Does the sentence talk about parameters at all? Figures are only read
    /// in sentences that do, so `投资10亿` or `1亿人` never become parameter
    /// counts.
    pub fn mentions_parameters(&self, sentence: &str) -> bool {
        self.words.any_in(sentence)
    }
}

/// `Some(true)` when 参数/parameters follows, `None` when money, people or
/// tokens follow, `Some(false)` otherwise.
fn classify_tail(sentence: &str, end: usize) -> Option<bool> {
    let tail = sentence.get(end..).unwrap_or_default().trim_start();
    let tail = tail.strip_prefix('个').unwrap_or(tail).trim_start();
    let lower = tail.get(..tail.len().min(12)).map(str::to_ascii_lowercase).unwrap_or_default();
    if tail.starts_with("参数") || lower.starts_with("param") {
        return Some(true);
    }
    if NOT_PARAMS.iter().any(|w| tail.starts_with(w)) {
        return None;
    }
    Some(false)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// The ASCII forms find what the patterns as written find: sentences
    /// of figure parts, digits and spaces of other scripts and widths,
    /// against rules that search every sentence with the written forms.
    #[test]
    fn figures_are_the_written_patterns_figures() {
        let r = ParamRules::new().unwrap();
        let written = ParamRules { unicode: None, ..ParamRules::new().unwrap() };
        let pieces = [
            "1750",
            "1.8",
            "7",
            "8",
            "x",
            "×",
            "B",
            "b",
            "M",
            "T",
            "billion",
            " ",
            "\u{3000}",
            "\u{a0}",
            "\t",
            "-",
            ".",
            "亿",
            "万",
            "万亿",
            "千亿",
            "级",
            "超过",
            "over ",
            "More than ",
            "参数",
            "美元",
            "tokens",
            "٣",
            "１",
            "\u{1d7ce}",
            "Qwen",
            "GPT",
            "有",
            "，",
        ];
        let mut rng = crate::test_rng::XorShift::new(0xa54f_f53a_5f1d_36f1);
        let (mut found, mut unicode) = (0, 0);
        for _ in 0..30_000 {
            let s: String = rng.join(&pieces, 1, 10);
            let want = written.find(&s);
            assert_eq!(r.find(&s), want, "{s:?}");
            found += want.len();
            unicode += usize::from(r.unicode.as_ref().unwrap().in_text(&s) && !want.is_empty());
        }
        assert!(found > 3_000 && unicode > 300, "the sentences exercise the patterns: {found}, {unicode}");
    }

    fn values(s: &str) -> Vec<String> {
        ParamRules::new().unwrap().find(s).into_iter().map(|h| h.value.key()).collect()
    }

    #[test]
    fn chinese_figures_are_exact() {
        assert_eq!(values("GPT-1 的参数量为1.17亿"), vec!["117000000"]);
        assert_eq!(values("GPT-2 有15亿参数"), vec!["1500000000"]);
        assert_eq!(values("GPT-3 拥有1750亿个参数"), vec!["175000000000"]);
        assert_eq!(values("据称 GPT-4 有1.8万亿参数"), vec!["1800000000000"]);
        assert_eq!(values("语音模型拥有超过4 亿参数"), vec!["400000000.."]);
    }

    #[test]
    fn a_figure_glued_to_a_name_is_the_unit_alone() {
        let hits = ParamRules::new().unwrap().find("发布启明-2万亿参数大模型");
        assert_eq!(hits.iter().map(|h| h.value.key()).collect::<Vec<_>>(), vec!["1000000000000"]);
        assert_eq!(&"发布启明-2万亿参数大模型"[hits[0].span.clone()], "万亿");
        assert!(values("Foo-3亿用户").is_empty());
    }

    #[test]
    fn magnitude_words_are_ranges() {
        assert_eq!(values("基于千亿级参数大模型"), vec!["100000000000..1000000000000"]);
        assert_eq!(values("百亿参数"), vec!["10000000000..100000000000"]);
        // 1.8万亿 is a number, not the magnitude 万亿.
        assert_eq!(values("1.8万亿参数"), vec!["1800000000000"]);
    }

    #[test]
    fn latin_sizes_lists_and_moe() {
        assert_eq!(values("GPT-3 has 175B parameters"), vec!["175000000000"]);
        assert_eq!(values("Llama 2 comes in 7B/13B/70B sizes"), vec!["7000000000", "13000000000", "70000000000"]);
        assert_eq!(values("Mixtral 8x7B is a sparse MoE"), vec!["8x7000000000"]);
        assert_eq!(values("175 billion parameters"), vec!["175000000000"]);
        assert_eq!(values("phi-4 is a 14-billion parameter model"), vec!["14000000000"]);
    }

    #[test]
    fn money_people_tokens_and_names_are_not_parameters() {
        assert!(values("2018年微软给OpenAI 投资10亿美元").is_empty());
        assert!(values("60天后月活用户超过1亿人").is_empty());
        assert!(values("训练数据为1.4万亿token").is_empty());
        assert!(values("Qwen2.5-72B 和 A100 80GB").is_empty());
        assert!(values("数千亿美元").is_empty());
    }

    #[test]
    fn explicit_when_followed_by_the_word() {
        let hits = ParamRules::new().unwrap().find("拥有1750亿参数，约等于175B");
        assert_eq!(hits.iter().map(|h| h.explicit).collect::<Vec<_>>(), vec![true, false]);
    }

    #[test]
    fn sentence_filter() {
        let r = ParamRules::new().unwrap();
        assert!(r.mentions_parameters("GPT-3 有1750亿参数"));
        assert!(r.mentions_parameters("It has 7B Parameters"));
        assert!(!r.mentions_parameters("微软投资10亿美元"));
    }
}
