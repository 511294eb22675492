//! What a line must hold for a default noise rule to match in it: one of
//! the rule's literals, found for all rules in one pass of an Aho-Corasick
//! automaton, so a rule's regex only runs on the lines it may edit.
//!
//! Every short line (≤ 64 chars) of every page went through all 16 default
//! regexes; most lines are titles, links and labels that none of them
//! matches. Each regex search paid its set-up and a cache taken from the
//! regex's pool on the parser thread, and each regex kept a cache per
//! thread that ever searched with it.
//!
//! A literal is a necessary condition: every match of the rule contains
//! one of its literals. Literals are matched with ASCII case folded (the
//! `(?i)` rules); under Unicode case folding `k` also matches U+212A and
//! `s` U+017F, so no literal of a `(?i)` rule holds either letter (a unit
//! test checks every literal's letters have no other case forms). A rule's
//! removal replaces a match with a space, and no literal holds a space, so
//! a literal found in a line edited by an earlier rule was in the line
//! before: the gate is computed once per line.

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};

/// What a rule needs in a line.
pub(super) enum Needs {
    /// One of these literals (ASCII case folded).
    Any(&'static [&'static str]),
    /// A numeric character (`char::is_numeric`: a superset of `\d`).
    Numeric,
}

/// The needs of each default rule, by name.
pub(super) const NEEDS: &[(&str, Needs)] = &[
    ("ip_location_zh", Needs::Any(&["属地"])),
    ("edit_stamp_zh", Needs::Any(&["本帖最后由"])),
    ("post_stamp_zh", Needs::Any(&["于", "时间"])),
    // `刚刚`, `半小时前`, `N分钟前`, `今天 10:32`.
    ("relative_time_zh", Needs::Any(&["前", "刚刚", ":"])),
    // `ago`, `just now`, `yesterday`/`today`.
    ("relative_time_en", Needs::Any(&["ago", "now", "day"])),
    (
        "counter_zh",
        Needs::Any(&[
            "阅读", "浏览", "点击", "赞", "在看", "评论", "收藏", "转发", "分享", "关注", "热度", "人气", "回答",
            "喜欢",
        ]),
    ),
    (
        "counter_zh_after",
        Needs::Any(&[
            "阅读",
            "浏览",
            "人看过",
            "次播放",
            "赞",
            "评论",
            "收藏",
            "转发",
            "人关注",
            "个回答",
            "在看",
            "喜欢",
        ]),
    ),
    // `like` and `share`, `answer` without their `k` and `s`.
    ("counter_en", Needs::Any(&["view", "li", "comment", "hare", "clap", "vote", "read", "wer", "follower"])),
    ("updated_stamp", Needs::Any(&["更新", "修改", "编辑", "updated", "modified", "edited"])),
    ("bare_datetime", Needs::Any(&[":"])),
    ("bare_counter", Needs::Numeric),
    // `advertisement` and `ad` hold `ad`; `sponsored` without its `s`: `ored`.
    ("ad_label", Needs::Any(&["广告", "推广", "赞助", "ad", "ored"])),
    ("share_prompt", Needs::Any(&["分享", "微信扫一扫", "hare"])),
    ("more_prompt_zh", Needs::Any(&["全部", "更多", "其余"])),
    ("stamp_leftover_zh", Needs::Any(&["于"])),
    ("copyright_year", Needs::Any(&["©", "copyright", "(c)"])),
];

/// The literals of all rules in one automaton.
pub(super) struct Gate {
    literals: AhoCorasick,
    /// For each literal, the rules (bits by position in the rule list)
    /// that it opens.
    opens: Vec<u64>,
    /// The rules that need a numeric character.
    numeric: u64,
    /// The rules without a known need: always run.
    always: u64,
}

impl Gate {
    /// The gate for rules named `names`, in order (at most 64).
    pub(super) fn new<'a>(names: impl Iterator<Item = &'a str>) -> Result<Self, aho_corasick::BuildError> {
        let mut literals: Vec<&str> = Vec::new();
        let mut opens: Vec<u64> = Vec::new();
        let mut numeric = 0;
        let mut always = 0;
        for (i, name) in names.enumerate().take(64) {
            let bit = 1u64 << i;
            match NEEDS.iter().find(|(n, _)| *n == name).map(|(_, needs)| needs) {
                Some(Needs::Any(words)) => {
                    for w in *words {
                        match literals.iter().position(|l| l == w) {
                            Some(at) => {
                                if let Some(o) = opens.get_mut(at) {
                                    *o |= bit;
                                }
                            }
                            None => {
                                literals.push(w);
                                opens.push(bit);
                            }
                        }
                    }
                }
                Some(Needs::Numeric) => numeric |= bit,
                None => always |= bit,
            }
        }
        let literals = AhoCorasickBuilder::new().ascii_case_insensitive(true).build(&literals)?;
        Ok(Gate { literals, opens, numeric, always })
    }

    /// The rules that may match in `line`.
    pub(super) fn open(&self, line: &str) -> u64 {
        let mut open = self.always;
        for m in self.literals.find_overlapping_iter(line) {
            open |= self.opens.get(m.pattern().as_usize()).copied().unwrap_or(u64::MAX);
        }
        if self.numeric != 0 && line.chars().any(char::is_numeric) {
            open |= self.numeric;
        }
        open
    }
}

/// Whether rule number `rule` may match, given what [`Gate::open`] said
/// (rules past the 64th have no bit: they always run).
pub(super) fn lets(open: u64, rule: usize) -> bool {
    u32::try_from(rule).ok().and_then(|r| open.checked_shr(r)).is_none_or(|bits| bits & 1 == 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Under `(?i)` each letter of a literal matches only its two ASCII
    /// forms, which is what the automaton folds (the class as the regex
    /// crate's parser builds it).
    #[test]
    fn literal_letters_have_only_ascii_case_forms() {
        use regex_syntax::hir::{Class, HirKind};
        for (name, needs) in NEEDS {
            let Needs::Any(words) = needs else { continue };
            for c in words.iter().flat_map(|w| w.chars()).filter(char::is_ascii_alphabetic) {
                let hir = regex_syntax::parse(&format!("(?i){c}")).unwrap();
                let HirKind::Class(Class::Unicode(class)) = hir.kind() else { panic!("{name}: {c}: {hir:?}") };
                let forms: Vec<char> = class.ranges().iter().flat_map(|r| r.start()..=r.end()).collect();
                assert_eq!(forms, vec![c.to_ascii_uppercase(), c.to_ascii_lowercase()], "{name}: {c}");
            }
        }
    }

    /// `\d` is a subset of `char::is_numeric`.
    #[test]
    fn every_decimal_digit_is_numeric() {
        use regex_syntax::hir::{Class, HirKind};
        let hir = regex_syntax::parse(r"\d").unwrap();
        let HirKind::Class(Class::Unicode(class)) = hir.kind() else { panic!("{hir:?}") };
        let digits: Vec<char> = class.ranges().iter().flat_map(|r| r.start()..=r.end()).collect();
        assert!(digits.len() > 600, "{}", digits.len());
        for c in digits {
            assert!(c.is_numeric(), "U+{:04X}", u32::from(c));
        }
    }

    #[test]
    fn a_literal_shared_by_rules_opens_each() {
        let gate = Gate::new(["post_stamp_zh", "bare_counter", "stamp_leftover_zh", "unknown"].into_iter()).unwrap();
        assert_eq!(gate.open("编辑于"), 0b1101);
        assert_eq!(gate.open("第３章"), 0b1010);
        assert_eq!(gate.open(""), 0b1000);
    }
}
