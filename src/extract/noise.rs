//! Line-wise noise rules: the shipped defaults and the user's ignore regexes.
//!
//! A rule removes the part of a line it matches; a line left with nothing but
//! separators is dropped. Default rules only touch short lines (bylines,
//! counters, stamps, labels): in a long paragraph "3天前" is prose, and
//! silently editing prose would hide real edits.

mod gate;

use std::ops::Range;
use std::sync::{LazyLock, OnceLock};

use regex::{Regex, RegexBuilder};
use regex_automata::meta;

use self::gate::Gate;
use super::ExtractError;
use crate::ascii_classes as ascii;

/// Lines longer than this (in chars) are left alone by the default rules.
const MAX_NOISE_LINE_CHARS: usize = 64;

/// Compiled-size cap for user regexes: a hostile pattern fails validation
/// instead of eating memory.
const USER_REGEX_SIZE_LIMIT: usize = 1 << 20;

/// A default rule as `sources show` displays it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct NoiseRuleInfo {
    pub name: &'static str,
    pub pattern: &'static str,
    /// A real-looking line the rule cleans (tests check it does).
    pub example: &'static str,
}

/// Separators that bylines are built from ("张三 · 3小时前 | 阅读 1234"):
/// trimmed from the ends of a line a rule edited.
const SEPARATORS: &[char] =
    &[' ', '·', '・', '•', '|', '｜', '/', '／', ',', '，', '、', ':', '：', ';', '；', '-', '—', '_', '~'];

/// Brackets left empty by a removed counter ("评论()").
const BRACKETS: &[char] = &['(', ')', '（', '）', '[', ']', '【', '】', '<', '>', '《', '》'];

const RULES: &[NoiseRuleInfo] = &[
    // Q&A and community stamps. First the IP location Weibo and Zhihu add
    // to every post ("· IP 属地北京" follows the author around), then the
    // stamp verbs with their time, before `relative_time_zh` takes the time
    // alone and leaves "编辑于" behind (which turns into "发布于" on the
    // next edit). A stamp with a date counts only as a line of its own: in
    // prose "发布于 2023 年 3 月 14 日" is content.
    NoiseRuleInfo {
        name: "ip_location_zh", pattern: r"IP\s*属地\s*[:：]?\s*\p{Han}{1,8}", example: "IP 属地北京"
    },
    NoiseRuleInfo {
        name: "edit_stamp_zh",
        pattern: r"本帖最后由\s*\S{1,40}\s*于\s*\d{4}-\d{1,2}-\d{1,2}\s*\d{1,2}:\d{2}(?::\d{2})?\s*编辑",
        example: "本帖最后由 ml_engineer_lee 于 2024-11-21 09:02 编辑",
    },
    NoiseRuleInfo {
        name: "post_stamp_zh",
        pattern: r"(?:发布|编辑|修改|更新|发表|回答|回复)于\s*(?:\d+\s*(?:秒|分钟|小时|天|周|个月|年)前|刚刚|半小时前|(?:今天|昨天|前天)\s*\d{1,2}:\d{2})|^[\s·・•|｜\-—]*(?:发布|编辑|修改|更新|发表|回答|回复|创建)(?:于|时间)\s*[:：]?\s*(?:\d{4}\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?(?:\s*\d{1,2}:\d{2}(?::\d{2})?)?[\s·・•|｜\-—]*$",
        example: "编辑于 3 小时前",
    },
    NoiseRuleInfo {
        name: "relative_time_zh",
        pattern: r"(?:\d+\s*(?:秒|分钟|小时|天|周)前|刚刚|半小时前|(?:今天|昨天|前天)\s*\d{1,2}:\d{2})",
        example: "机器之心 · 3小时前",
    },
    NoiseRuleInfo {
        name: "relative_time_en",
        pattern: r"(?i)\b(?:(?:\d+|an?|one)\s+(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|years?)\s+ago|just now|(?:yesterday|today)\s+at\s+\d{1,2}:\d{2}(?:\s*[ap]m)?)\b|^\s*(?:yesterday|today)\s*$",
        example: "Posted by Jane Doe 2 hours ago",
    },
    // Counters: the label-first form ("阅读量：3,702") is its own rule, run
    // before the number-first one ("3,702 阅读"): in one pattern the
    // leftmost match won, so in "更新时间：2024-05-03 13:33 阅读量：3,702"
    // the minutes went with the label ("33 阅读") and the views stayed,
    // a false change on every check.
    NoiseRuleInfo {
        name: "counter_zh",
        pattern: r"(?:阅读|阅读量|浏览|浏览量|点击|点赞|赞同|赞|在看|评论|收藏|转发|分享|关注|关注者|被浏览|热度|人气|回答|喜欢)(?:数|量)?\s*[:：]?\s*[(（]?\s*\d[\d,.]*\s*[万千kKwW]?\+?\s*[)）]?(?:\s*次)?",
        example: "阅读 10万+ 在看 326 评论(45)",
    },
    NoiseRuleInfo {
        name: "counter_zh_after",
        pattern: r"\d[\d,.]*\s*[万千kKwW]?\+?\s*(?:次阅读|人阅读|阅读|次浏览|人浏览|浏览|人看过|次播放|赞|点赞|条评论|评论|人评论|收藏|转发|人关注|个回答|人赞同(?:了该回答)?|在看|喜欢)",
        example: "1234 人阅读 · 56 赞",
    },
    NoiseRuleInfo {
        name: "counter_en",
        pattern: r"(?i)\b(?:(?:views?|likes?|comments?|shares?|claps?|votes?|reads?|answers?|followers?)\s*[:(]?\s*\d[\d,.]*\s*[kKmM]?\)?|\d[\d,.]*\s*[kKmM]?\s+(?:views?|likes?|comments?|shares?|claps?|votes?|reads?|answers?|followers?)|viewed\s+\d[\d,.]*\s*[kKmM]?\s+times?)\b",
        example: "1,234 views · 56 comments",
    },
    NoiseRuleInfo {
        name: "updated_stamp",
        pattern: r"(?i)(?:(?:最后|最近)?(?:更新|修改|编辑)(?:于|时间|日期)?\s*[:：]?\s*\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?(?:[\sT]*\d{1,2}:\d{2}(?::\d{2})?)?|(?:last\s+)?(?:updated|modified|edited)\s*(?:on|at)?\s*[:：]?\s*(?:\d{4}[-/.]\d{1,2}[-/.]\d{1,2}(?:[\sT]*\d{1,2}:\d{2}(?::\d{2})?)?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+\d{1,2},?\s+\d{4}(?:\s+\d{1,2}:\d{2})?|today|yesterday))",
        example: "最后更新于 2026-11-20 10:32",
    },
    NoiseRuleInfo {
        name: "bare_datetime",
        pattern: r"^\s*(?:\d{4}\s*[-/.年]\s*)?\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?\s*\d{1,2}:\d{2}(?::\d{2})?\s*$",
        example: "11-20 10:32",
    },
    NoiseRuleInfo { name: "bare_counter", pattern: r"^\s*\d[\d,.]*\s*[万千kKwW]?\+?\s*$", example: "1,024" },
    NoiseRuleInfo {
        name: "ad_label",
        pattern: r"(?i)^\s*(?:广告|推广|赞助|advertisement|sponsored|ad)\s*$",
        example: "广告",
    },
    NoiseRuleInfo {
        name: "share_prompt",
        pattern: r"(?i)^\s*(?:分享到|分享至|扫码分享|微信扫一扫(?:关注该公众号|分享)?|share(?:\s+this)?(?:\s+on)?)\s*[:：]?.*$",
        example: "分享到：微信 微博 QQ空间",
    },
    // "查看全部 1,024 个回答" once the counter is gone.
    NoiseRuleInfo {
        name: "more_prompt_zh",
        pattern: r"^\s*(?:查看|展开|显示|收起)(?:全部|更多|其余)(?:回答|评论|回复)?\s*$",
        example: "查看全部",
    },
    // Last: a stamp verb whose time another rule (or the user's) took away.
    NoiseRuleInfo {
        name: "stamp_leftover_zh",
        pattern: r"^[\s·・•|｜\-—]*(?:发布|编辑|修改|更新|发表)于[\s·・•|｜\-—]*$",
        example: "编辑于",
    },
    NoiseRuleInfo {
        name: "copyright_year",
        pattern: r"(?i)(?:©|copyright|\(c\))\s*(?:\d{4}\s*[-–—]\s*)?\d{4}",
        example: "© 2012-2026 新浪公司 版权所有",
    },
];

struct CompiledRule {
    name: &'static str,
    pattern: &'static str,
    /// The pattern with ASCII digit and space classes ([`ascii`]): for
    /// lines without a digit or space outside ASCII.
    ascii: meta::Regex,
    /// The pattern as written, for the other lines; compiled on first need.
    unicode: OnceLock<Option<meta::Regex>>,
}

impl CompiledRule {
    fn new(name: &'static str, pattern: &'static str) -> Option<Self> {
        let ascii = compile_default(&ascii::ascii_pattern(pattern)).ok()?;
        Some(CompiledRule { name, pattern, ascii, unicode: OnceLock::new() })
    }

    /// The regex that matches in a line as the pattern does.
    fn regex(&self, unicode_line: bool) -> Option<&meta::Regex> {
        if !unicode_line {
            return Some(&self.ascii);
        }
        self.unicode.get_or_init(|| compile_default(self.pattern).ok()).as_ref()
    }
}

/// A default rule's pattern compiled as `Regex::new` compiles it, without
/// the lazy DFA and the one-pass DFA.
///
/// The default rules only run on short lines (≤ 64 chars) and, behind the
/// gate, on few of them; there a lazy DFA saved little time and cost a
/// cache that grew on every parser thread with the Unicode classes the
/// rules are written with (`\d`, `\s`, `\S`, `(?i)`): with the 16 rules,
/// `noise::strip` held 1.6 MB at a cold sweep's heap peak (heaptrack, 2,000
/// bench pages). Without it a search runs the bounded backtracker or the
/// PikeVM, whose caches are a few KB: the 16 rules' caches after a dozen
/// bylines 1.16 MB → 35 KB, a search of a short line 20–90 ns → 70–1,500 ns
/// (a probe over the same lines). Which engine runs never changes what a
/// pattern matches. The one-pass DFA only serves capture groups, which a
/// rule has none of.
fn compile_default(pattern: &str) -> Result<meta::Regex, Box<meta::BuildError>> {
    let config = meta::Config::new()
        .match_kind(regex_automata::MatchKind::LeftmostFirst)
        .utf8_empty(true)
        .nfa_size_limit(Some(10 * (1 << 20)))
        .hybrid(false)
        .onepass(false);
    meta::Builder::new().configure(config).build(pattern).map_err(Box::new)
}

/// The default rules compiled, with the gate that tells which of them may
/// match in a line.
struct DefaultRules {
    rules: Vec<CompiledRule>,
    gate: Option<Gate>,
    /// Which lines need the patterns as written (None: every line).
    unicode: Option<ascii::Unicode>,
}

/// Compiled once; a pattern that failed to compile is skipped, and without
/// a gate every rule runs on every short line (unit tests assert that
/// every pattern and the gate compile).
static DEFAULT_RULES: LazyLock<DefaultRules> = LazyLock::new(|| {
    let rules: Vec<CompiledRule> = RULES.iter().filter_map(|r| CompiledRule::new(r.name, r.pattern)).collect();
    let gate = Gate::new(rules.iter().map(|r| r.name)).ok();
    DefaultRules { rules, gate, unicode: ascii::Unicode::new() }
});

/// The shipped default rules, for display.
pub fn default_noise_rules() -> Vec<NoiseRuleInfo> {
    RULES.to_vec()
}

/// Checks that a user ignore regex compiles within the size limit.
pub fn validate_regex(re: &str) -> Result<(), ExtractError> {
    compile_user_regex(re).map(|_| ())
}

pub(crate) fn compile_user_regex(re: &str) -> Result<Regex, ExtractError> {
    RegexBuilder::new(re)
        .size_limit(USER_REGEX_SIZE_LIMIT)
        .build()
        .map_err(|source| ExtractError::BadRegex { pattern: re.to_owned(), source })
}

/// The rules one extraction applies: the defaults (if enabled) and the
/// user's ignore regexes, compiled.
pub(crate) struct NoiseRules<'a> {
    defaults: Option<&'a DefaultRules>,
    user: Vec<(String, Regex)>,
}

impl NoiseRules<'static> {
    pub(crate) fn new(default_noise: bool, ignore: &[String]) -> Result<Self, ExtractError> {
        let user =
            ignore.iter().map(|p| compile_user_regex(p).map(|re| (p.clone(), re))).collect::<Result<Vec<_>, _>>()?;
        let defaults = default_noise.then(|| &*DEFAULT_RULES);
        Ok(NoiseRules { defaults, user })
    }
}

impl NoiseRules<'_> {
    /// Cleans one normalised line. Returns the kept text (None when the whole
    /// line was noise) and appends what was removed as "rule: text".
    pub(crate) fn clean_line(&self, line: String, removed: &mut Vec<String>) -> Option<String> {
        let mut current = line;
        let mut touched = false;
        for (pattern, re) in &self.user {
            let found = re.find_iter(&current).map(|m| m.range());
            if let Some(rest) = strip(found, &current, &format!("ignore {pattern}"), removed) {
                current = rest;
                touched = true;
            }
        }
        if let Some(defaults) = self.defaults.filter(|_| current.chars().count() <= MAX_NOISE_LINE_CHARS) {
            let open = defaults.gate.as_ref().map_or(u64::MAX, |g| g.open(&current));
            // A rule's removal puts a space where its match was: no new
            // character outside ASCII.
            let unicode_line = defaults.unicode.as_ref().is_none_or(|u| u.in_text(&current));
            for (i, rule) in defaults.rules.iter().enumerate() {
                if !gate::lets(open, i) {
                    continue;
                }
                let Some(re) = rule.regex(unicode_line) else { continue };
                let found = re.find_iter(&current).map(|m| m.range());
                if let Some(rest) = strip(found, &current, rule.name, removed) {
                    current = rest;
                    touched = true;
                }
            }
        }
        if !touched {
            return Some(current);
        }
        let kept = super::normalize::normalize_line(&current);
        let kept = kept.trim_matches(|c: char| SEPARATORS.contains(&c));
        if kept.chars().all(|c| SEPARATORS.contains(&c) || BRACKETS.contains(&c)) {
            return None;
        }
        Some(kept.to_owned())
    }
}

/// Replaces each of `found` (the matches of a rule's pattern in `line`,
/// left to right) with a space, as `Regex::replace_all(line, " ")` does;
/// None when none holds more than white space.
fn strip(
    found: impl Iterator<Item = Range<usize>>,
    line: &str,
    name: &str,
    removed: &mut Vec<String>,
) -> Option<String> {
    let mut kept = String::new();
    let mut last = 0;
    let mut found_any = false;
    for m in found {
        let text = line.get(m.clone()).unwrap_or_default().trim();
        if !text.is_empty() {
            found_any = true;
            removed.push(format!("{name}: {text}"));
        }
        kept.push_str(line.get(last..m.start).unwrap_or_default());
        kept.push(' ');
        last = m.end;
    }
    if !found_any {
        return None;
    }
    kept.push_str(line.get(last..).unwrap_or_default());
    Some(kept)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::extract::ExtractOptions;
    use crate::extract::apply_noise_rules;

    fn clean(line: &str) -> (Option<String>, Vec<String>) {
        let rules = NoiseRules::new(true, &[]).unwrap();
        let mut removed = Vec::new();
        let kept = rules.clean_line(line.to_owned(), &mut removed);
        (kept, removed)
    }

    #[test]
    fn every_default_rule_compiles() {
        assert_eq!(DEFAULT_RULES.rules.len(), RULES.len());
        assert!(DEFAULT_RULES.gate.is_some() && DEFAULT_RULES.unicode.is_some());
        assert!(DEFAULT_RULES.rules.iter().all(|r| r.regex(true).is_some()));
    }

    #[test]
    fn every_default_rule_has_its_needs() {
        for rule in RULES {
            assert!(gate::NEEDS.iter().any(|(name, _)| *name == rule.name), "{}", rule.name);
        }
        assert!(gate::NEEDS.iter().all(|(name, _)| RULES.iter().any(|r| r.name == *name)));
    }

    /// The defaults as they were applied before the gate and the engine
    /// without a lazy DFA: every rule through `regex::Regex` on every short
    /// line, its matches taken out by `replace_all`.
    fn reference_clean(rules: &[(&str, Regex)], line: String, removed: &mut Vec<String>) -> Option<String> {
        let mut current = line;
        let mut touched = false;
        if current.chars().count() <= MAX_NOISE_LINE_CHARS {
            for (name, re) in rules {
                let mut found = false;
                for m in re.find_iter(&current) {
                    if !m.as_str().trim().is_empty() {
                        found = true;
                        removed.push(format!("{name}: {}", m.as_str().trim()));
                    }
                }
                if found {
                    current = re.replace_all(&current, " ").into_owned();
                    touched = true;
                }
            }
        }
        if !touched {
            return Some(current);
        }
        let kept = crate::extract::normalize::normalize_line(&current);
        let kept = kept.trim_matches(|c: char| SEPARATORS.contains(&c));
        if kept.chars().all(|c| SEPARATORS.contains(&c) || BRACKETS.contains(&c)) {
            return None;
        }
        Some(kept.to_owned())
    }

    /// The gate only skips rules that would not have matched, and the
    /// engine without a lazy DFA matches what `regex::Regex` does: lines
    /// built of the rules' own words, digits of other scripts and widths,
    /// the other case forms of `k` and `s`, clean as they did.
    #[test]
    fn the_defaults_clean_as_the_regexes_did() {
        let reference: Vec<(&str, Regex)> = RULES.iter().map(|r| (r.name, Regex::new(r.pattern).unwrap())).collect();
        let gated = NoiseRules::new(true, &[]).unwrap();
        let pieces = [
            "于",
            "前",
            "刚刚",
            "半小时",
            "3",
            "12",
            "2024",
            "-",
            "/",
            ".",
            ":",
            "：",
            " ",
            "·",
            "|",
            "年",
            "月",
            "日",
            "阅读",
            "量",
            "浏览",
            "赞",
            "万",
            "+",
            "人",
            "次",
            "评论",
            "(",
            ")",
            "小时",
            "天",
            "分钟",
            "今天",
            "昨天",
            "编辑",
            "发布",
            "更新",
            "时间",
            "本帖最后由",
            "lee",
            "IP",
            "属地",
            "北京",
            "广告",
            "推广",
            "ad",
            "AD",
            "Sponſored",
            "ſhare",
            "share",
            "SHARE",
            "this",
            "on",
            "分享到",
            "微信扫一扫",
            "查看",
            "全部",
            "更多",
            "Copyright",
            "(c)",
            "©",
            "views",
            "li\u{212a}e",
            "likes",
            "answer",
            "anſwers",
            "ago",
            "AGO",
            "hours",
            "an",
            "just",
            "now",
            "today",
            "Yesterday",
            "at",
            "pm",
            "updated",
            "Last",
            "Nov",
            "k",
            "K",
            "\u{212a}",
            "据36氪报道，智谱AI在3天前完成了新一轮融资，投资方包括",
            "٣",
            "１",
            "７",
            "正文",
            "GPT-4",
            "模型",
            "\u{3000}",
            "\t",
            "\u{a0}",
            "\u{2003}",
            "\u{85}",
            "\u{966}",
            "\u{1d7ce}",
            "①",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x9b05_688c_2b3e_6c1f);
        let mut cleaned = 0;
        for _ in 0..30_000 {
            let line: String = rng.join(&pieces, 1, 9);
            let (mut a, mut b) = (Vec::new(), Vec::new());
            let want = reference_clean(&reference, line.clone(), &mut a);
            assert_eq!(gated.clean_line(line.clone(), &mut b), want, "{line:?}");
            assert_eq!(b, a, "{line:?}");
            cleaned += usize::from(!a.is_empty());
        }
        assert!(cleaned > 5_000, "the lines exercise the rules: {cleaned}");
        for rule in RULES {
            let (mut a, mut b) = (Vec::new(), Vec::new());
            assert_eq!(
                gated.clean_line(rule.example.to_owned(), &mut b),
                reference_clean(&reference, rule.example.to_owned(), &mut a)
            );
            assert_eq!(a, b);
        }
    }

    #[test]
    fn every_default_rule_cleans_its_example() {
        for rule in default_noise_rules() {
            let compiled = DEFAULT_RULES.rules.iter().find(|r| r.name == rule.name).unwrap();
            assert!(compiled.ascii.is_match(rule.example), "{} misses its example", rule.name);
        }
    }

    #[test]
    fn relative_time_zh() {
        assert_eq!(clean("机器之心 · 3小时前").0.as_deref(), Some("机器之心"));
        assert_eq!(clean("刚刚").0, None);
        assert_eq!(clean("昨天 12:30").0, None);
        assert_eq!(clean("今天，智谱发布GLM-4").0.as_deref(), Some("今天，智谱发布GLM-4"));
        // The stamp verb goes with its time.
        assert_eq!(clean("量子位 发表于 15 分钟前").0.as_deref(), Some("量子位"));
    }

    #[test]
    fn relative_time_en() {
        assert_eq!(clean("Posted by Jane Doe 2 hours ago").0.as_deref(), Some("Posted by Jane Doe"));
        assert_eq!(clean("an hour ago").0, None);
        assert_eq!(clean("Yesterday at 9:15 PM").0, None);
        assert_eq!(clean("asked 3 years ago").0.as_deref(), Some("asked"));
    }

    /// A byline with an update stamp and a view counter: the minutes of the
    /// stamp are not the counter's number (the views were left behind).
    #[test]
    fn a_stamp_then_a_counter_is_all_noise() {
        for views in ["1,234", "2,468"] {
            assert_eq!(clean(&format!("更新时间：2024-05-03 13:33 阅读量：{views}")).0, None, "{views}");
            assert_eq!(clean(&format!("2024-05-03 13:33 阅读 {views}")).0, None, "{views}");
            let kept = clean(&format!("发布时间：2024-05-01 10:00 阅读：{views}")).0;
            assert_eq!(kept.as_deref(), Some("发布时间：2024-05-01 10:00"), "{views}");
        }
    }

    #[test]
    fn counters_zh() {
        assert_eq!(clean("阅读 10万+ 在看 326 评论(45)").0, None);
        assert_eq!(clean("1234 人阅读 · 56 赞").0, None);
        assert_eq!(clean("被浏览 12,345,678 次").0, None);
        assert_eq!(clean("1,024 人赞同了该回答").0, None);
        assert_eq!(clean("关注者 3,201").0, None);
        let (kept, removed) = clean("作者：李明 | 浏览量：8823");
        assert_eq!(kept.as_deref(), Some("作者：李明"));
        assert_eq!(removed, vec!["counter_zh: 浏览量：8823"]);
    }

    #[test]
    fn counters_en() {
        assert_eq!(clean("1,234 views · 56 comments").0, None);
        assert_eq!(clean("Viewed 12k times").0, None);
        assert_eq!(clean("Likes: 87").0, None);
    }

    #[test]
    fn updated_stamps() {
        assert_eq!(clean("最后更新于 2026-11-20 10:32").0, None);
        assert_eq!(clean("编辑于 2026-11-21 09:02").0, None);
        assert_eq!(clean("Last updated: Nov 21, 2026").0, None);
        assert_eq!(clean("Updated 2026-11-21T09:02").0, None);
        assert_eq!(clean("Modified today").0, None);
        assert_eq!(clean("We updated 3 models").0.as_deref(), Some("We updated 3 models"));
    }

    #[test]
    fn community_votes_stamps_and_locations() {
        for line in [
            "编辑于 3 小时前 · IP 属地北京",
            "发布于 2024-12-27 10:02・IP 属地上海",
            "编辑于 2024-12-27",
            "赞同 1.2 万",
            "1.3 万 人赞同了该回答",
            "转发 1.2万",
            "评论 3456",
            "查看全部 1,024 个回答",
            "本帖最后由 ml_engineer_lee 于 2024-11-21 09:02 编辑",
            "11-20 10:32",
            "2024-11-20 21:14:05",
        ] {
            assert_eq!(clean(line).0, None, "{line}");
        }
        let (kept, removed) = clean("周明远 · 回答于 2 天前");
        assert_eq!(kept.as_deref(), Some("周明远"));
        assert_eq!(removed, vec!["post_stamp_zh: 回答于 2 天前"]);
    }

    #[test]
    fn dated_stamps_in_prose_are_content() {
        for line in [
            "GPT-4 发布于 2023 年 3 月 14 日",
            "Qwen2.5 于 9 月 19 日发布，首批开源 7 个尺寸",
            "赞同这个观点的人不多",
            "IP 地址段由运营商分配",
        ] {
            let normalised = crate::extract::normalize_text(line);
            assert_eq!(clean(&normalised).0.as_deref(), Some(normalised.as_str()), "{line}");
        }
    }

    #[test]
    fn bare_counter_ad_share_copyright() {
        assert_eq!(clean("1,024").0, None);
        assert_eq!(clean("3.2k").0, None);
        assert_eq!(clean("广告").0, None);
        assert_eq!(clean("Advertisement").0, None);
        assert_eq!(clean("分享到：微信 微博 QQ空间").0, None);
        assert_eq!(clean("© 2012-2026 新浪公司 版权所有").0.as_deref(), Some("新浪公司版权所有"));
    }

    #[test]
    fn real_content_is_left_alone() {
        for line in [
            "GPT-4 的参数量约为 1.8 万亿。",
            "Llama 3.1 405B 在 15 万亿 tokens 上训练。",
            "2023年3月14日，OpenAI 发布 GPT-4。",
            "The model has 405B parameters and a 128K context window.",
            "百度文心一言用户数突破 3 亿",
        ] {
            let normalised = crate::extract::normalize_text(line);
            assert_eq!(clean(&normalised).0.as_deref(), Some(normalised.as_str()), "{line}");
        }
    }

    #[test]
    fn long_prose_lines_are_not_touched_by_defaults() {
        let prose = "据36氪报道，智谱AI在3天前完成了新一轮融资，投资方包括多家国有资本和产业资本，\
                     本轮融资将主要用于基座大模型的研发以及面向企业客户的商业化落地。";
        let normalised = crate::extract::normalize_text(prose);
        assert_eq!(clean(&normalised).0.as_deref(), Some(normalised.as_str()));
    }

    #[test]
    fn user_ignore_regex_strips_match_or_line() {
        let opts = ExtractOptions {
            ignore: vec![r"实时汇率[:：]\S+".into(), r"^Build \w+$".into()],
            default_noise: false,
            ..ExtractOptions::default()
        };
        let (text, removed) = apply_noise_rules("人民币 实时汇率：7.1234 元\nBuild a1b2c3\n正文保留", &opts);
        assert_eq!(text, "人民币\n正文保留");
        assert_eq!(removed.len(), 2);
        assert!(removed[0].starts_with("ignore 实时汇率"));
    }

    #[test]
    fn defaults_off_keeps_counters() {
        let opts = ExtractOptions { default_noise: false, ..ExtractOptions::default() };
        let (text, removed) = apply_noise_rules("阅读 10万+", &opts);
        assert_eq!(text, "阅读10万+");
        assert!(removed.is_empty());
    }

    #[test]
    fn bad_user_regex_is_refused() {
        assert!(matches!(validate_regex("(unclosed"), Err(ExtractError::BadRegex { .. })));
        assert!(validate_regex(r"\d+ 人围观").is_ok());
    }
}
