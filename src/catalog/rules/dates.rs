//! Dates with their precision: `2023.3.16`, `2023年3月16日`, `2023-3`,
//! `March 16, 2023`.

use std::ops::Range;

use regex::{Captures, Regex};

use super::super::text::{char_at, char_before, find_ascii};
use super::super::value::PartialDate;
use super::super::words::Words;
use super::RuleError;
use crate::ascii_classes::{TwoForms, Unicode};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateHit {
    pub span: Range<usize>,
    pub date: PartialDate,
}

/// Words that make a dated sentence about a release.
pub(crate) const RELEASE_WORDS: &[&str] = &[
    "发布",
    "推出",
    "上线",
    "开放",
    "亮相",
    "官宣",
    "问世",
    "开源",
    "面世",
    "公测",
    "邀测",
    "release",
    "launch",
    "unveil",
    "announce",
    "introduce",
    "open-source",
    "open source",
    "debut",
    "ships",
    "rolling out",
    "rolled out",
    "rolls out",
    "now available",
    "available today",
    "is available",
];

const MONTHS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

/// What every English date holds: a month's first letters, ASCII case
/// folded. Under the patterns' Unicode `(?i)` an `s` also matches U+017F,
/// so `sep` is looked for as `ep` (a unit test checks no other letter here
/// has a non-ASCII case form).
const MONTH_LITERALS: [&str; 12] = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "ep", "oct", "nov", "dec"];

pub struct DateRules {
    release: Words,
    /// [`MONTH_LITERALS`]: the two English patterns only run on a sentence
    /// with one. Of the bench pages' sentences with a year and an ASCII
    /// letter, most have neither month nor date.
    months: Words,
    /// The patterns with ASCII digit and space classes for the sentences
    /// without others ([`crate::ascii_classes`]): the Unicode `\d` and `\s`
    /// of the five made most of their 1.6 MB of automata and lazy-DFA
    /// caches at a cold sweep's heap peak (heaptrack, 2,000 bench pages).
    chinese: TwoForms,
    dotted: TwoForms,
    dashed: TwoForms,
    english_mdy: TwoForms,
    english_dmy: TwoForms,
    /// Which sentences need the patterns as written (None: every one).
    unicode: Option<Unicode>,
    year: Regex,
}

impl DateRules {
    pub fn new() -> Result<Self, RuleError> {
        // The names spelled out, then a word end: a prefix and any letters
        // read "market 2023", "decade 2020s" and "novel 2024" as dates.
        let mon = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)(?-u:\b)\.?";
        Ok(DateRules {
            release: Words::folded(RELEASE_WORDS)?,
            months: Words::folded(&MONTH_LITERALS)?,
            chinese: TwoForms::new(
                r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月(?:\s*(?P<d>\d{1,2})\s*[日号])?".to_owned(),
            )?,
            dotted: TwoForms::new(r"(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})日?".to_owned())?,
            dashed: TwoForms::new(r"(?P<y>\d{4})-(?P<m>\d{1,2})(?:-(?P<d>\d{1,2}))?".to_owned())?,
            english_mdy: TwoForms::new(format!(
                r"(?i)(?-u:\b){mon}\s+(?:(?P<d>\d{{1,2}})(?:st|nd|rd|th)?,?\s+)?(?P<y>\d{{4}})"
            ))?,
            english_dmy: TwoForms::new(format!(r"(?i)(?-u:\b)(?P<d>\d{{1,2}})\s+{mon},?\s+(?P<y>\d{{4}})"))?,
            unicode: Unicode::new(),
            year: Regex::new(r"^\s*(?P<y>\d{4})\s*年?\s*$")?,
        })
    }

    /// Every dated mention with month or day precision. Bare years are left
    /// out: `2017年` in prose is rarely a release date.
    pub fn find(&self, sentence: &str) -> Vec<DateHit> {
        let mut hits: Vec<DateHit> = Vec::new();
        // Every pattern's year is `\d{4}` and only ASCII digits parse
        // (`date_of`), so a sentence without four ASCII digits in a row
        // holds no date: most release sentences of an article (发布了…)
        // have none, and each pattern's search was 0.23 M instructions a
        // bench page (callgrind, examples/analysis_digest).
        if !holds_year(sentence) {
            return hits;
        }
        // Each pattern only where the text it cannot match without is (a
        // month name needs ASCII letters even under Unicode case folding:
        // only s and k have non-ASCII forms, and every name has others).
        let latin = sentence.bytes().any(|b| b.is_ascii_alphabetic()) && self.months.any_in(sentence);
        let patterns = [
            (&self.chinese, sentence.contains('年') && sentence.contains('月')),
            (&self.dotted, sentence.contains(['.', '/'])),
            (&self.dashed, sentence.contains('-')),
            (&self.english_mdy, latin),
            (&self.english_dmy, latin),
        ];
        // The sentence's digits and spaces decide which form of the
        // patterns runs.
        let unicode = self.unicode.as_ref().is_none_or(|u| u.in_text(sentence));
        for re in patterns.iter().filter(|(_, possible)| *possible).filter_map(|(p, _)| p.regex(unicode)) {
            push_hits(re, sentence, &mut hits);
        }
        first_of_overlaps(hits)
    }

    /// A whole string that is one date, bare years included (seed values).
    pub fn parse_value(&self, s: &str) -> Option<PartialDate> {
        if let Some(caps) = self.year.captures(s) {
            let y = caps.name("y")?.as_str().parse().ok()?;
            return PartialDate::new(y, None, None);
        }
        match self.find(s.trim()).as_slice() {
            [one] if one.span == (0..s.trim().len()) => Some(one.date),
            _ => None,
        }
    }

    /// Where the first release verb of the sentence ends (byte offset).
    pub fn release_verb_end(&self, sentence: &str) -> Option<usize> {
        self.release.first_end(sentence)
    }

    /// Does the sentence announce a release?
    pub fn mentions_release(&self, sentence: &str) -> bool {
        self.release.any_in(sentence)
    }
}

/// The dates `re` finds in `sentence`, pushed onto `hits`: a match glued to
/// a letter or digit before it, or to a digit after it, is part of
/// something else (a version, a longer number).
fn push_hits(re: &Regex, sentence: &str, hits: &mut Vec<DateHit>) {
    for caps in re.captures_iter(sentence) {
        let Some(whole) = caps.get(0) else { continue };
        if char_before(sentence, whole.start()).is_some_and(|c| c.is_ascii_alphanumeric())
            || char_at(sentence, whole.end()).is_some_and(|c| c.is_ascii_digit())
        {
            continue;
        }
        if let Some(date) = date_of(&caps) {
            hits.push(DateHit { span: whole.range(), date });
        }
    }
}

/// `hits` in text order, each overlapping run reduced to its first and
/// longest hit.
fn first_of_overlaps(mut hits: Vec<DateHit>) -> Vec<DateHit> {
    hits.sort_by_key(|h| (h.span.start, std::cmp::Reverse(h.span.end)));
    let mut kept: Vec<DateHit> = Vec::new();
    for h in hits {
        if kept.last().is_none_or(|k| h.span.start >= k.span.end) {
            kept.push(h);
        }
    }
    kept
}
/// Four ASCII digits in a row: what every date's year is.
fn holds_year(s: &str) -> bool {
    let bytes = s.as_bytes();
    let mut from = 0;
    while let Some(i) = find_ascii(bytes, from, |b| b.is_ascii_digit()) {
        let run = bytes.get(i..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count());
        if run >= 4 {
            return true;
        }
        from = i + run;
    }
    false
}

fn date_of(caps: &Captures<'_>) -> Option<PartialDate> {
    let y: i32 = caps.name("y")?.as_str().parse().ok()?;
    let m: Option<u32> = match caps.name("mon") {
        Some(mon) => {
            let lower = mon.as_str().to_ascii_lowercase();
            let pos = MONTHS.iter().position(|p| lower.starts_with(p))?;
            Some(u32::try_from(pos).ok()? + 1)
        }
        None => caps.name("m").and_then(|m| m.as_str().parse().ok()),
    };
    let d: Option<u32> = caps.name("d").and_then(|d| d.as_str().parse().ok());
    PartialDate::new(y, m, d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::catalog::value::DatePrecision;

    fn dates(s: &str) -> Vec<(String, DatePrecision)> {
        DateRules::new().unwrap().find(s).into_iter().map(|h| (h.date.key(), h.date.precision)).collect()
    }

    #[test]
    fn the_documents_formats() {
        use DatePrecision::*;
        assert_eq!(dates("2023.3.16，百度发布\"文心一言\""), vec![("2023-03-16".into(), Day)]);
        assert_eq!(dates("2023.5.6日，科大讯飞发布"), vec![("2023-05-06".into(), Day)]);
        assert_eq!(dates("于2022年11月30日发布"), vec![("2022-11-30".into(), Day)]);
        assert_eq!(dates("于2021 年4 月发布“盘古大模型”"), vec![("2021-04".into(), Month)]);
        assert_eq!(dates("| GPT-4 | 2023-3 |"), vec![("2023-03".into(), Month)]);
        assert_eq!(dates("| GPT-3.5 | 2022-11-30 |"), vec![("2022-11-30".into(), Day)]);
    }

    #[test]
    fn english_formats() {
        use DatePrecision::*;
        assert_eq!(dates("released on March 16, 2023"), vec![("2023-03-16".into(), Day)]);
        assert_eq!(dates("launched 6 Dec 2023"), vec![("2023-12-06".into(), Day)]);
        assert_eq!(dates("in July 2020"), vec![("2020-07".into(), Month)]);
    }

    #[test]
    fn words_that_begin_like_months_are_no_dates() {
        for s in [
            "the AI market 2023 outlook",
            "a decade 2020s retrospective",
            "the novel 2024 approach",
            "a separate 2023 filing",
            "Marvel 2023 box office",
            "Junior 2022 cohort",
        ] {
            assert!(dates(s).is_empty(), "{s}: {:?}", dates(s));
        }
        use DatePrecision::*;
        assert_eq!(dates("released Sept. 12, 2023"), vec![("2023-09-12".into(), Day)]);
        assert_eq!(dates("since Sep 2021 and Dec. 2022"), vec![("2021-09".into(), Month), ("2022-12".into(), Month)]);
        assert_eq!(dates("launched 30 November 2022"), vec![("2022-11-30".into(), Day)]);
        assert_eq!(dates("in June 2023, then Jun 2024"), vec![("2023-06".into(), Month), ("2024-06".into(), Month)]);
    }

    #[test]
    fn invalid_and_non_dates_are_ignored() {
        assert!(dates("2023-13 and 2023.2.30").is_empty());
        assert!(dates("投资范围 100W+ 和 200-1200万美元").is_empty());
        assert!(dates("2017年马斯克退出").is_empty());
        assert!(dates("v12023-3").is_empty());
    }

    #[test]
    fn holds_year_is_four_ascii_digits_in_a_row() {
        let naive = |s: &str| s.as_bytes().windows(4).any(|w| w.iter().all(u8::is_ascii_digit));
        let pieces = ["1", "20", "202", "2023", "年", "-", " ", "a", "٣", "１", "模型参数规模"];
        let mut rng = crate::test_rng::XorShift::new(0x5be0_cd19_137e_2179);
        let mut years = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&pieces, 0, 10);
            assert_eq!(holds_year(&s), naive(&s), "{s:?}");
            years += usize::from(naive(&s));
        }
        assert!(years > 5_000, "{years}");
    }

    /// Under `(?i)` each letter of the month literals matches only its two
    /// ASCII forms, which is what the word list folds; and every month
    /// name the English patterns accept holds a literal.
    #[test]
    fn month_literals_are_what_the_patterns_need() {
        use regex_syntax::hir::{Class, HirKind};
        for c in MONTH_LITERALS.iter().flat_map(|w| w.chars()) {
            let hir = regex_syntax::parse(&format!("(?i){c}")).unwrap();
            let HirKind::Class(Class::Unicode(class)) = hir.kind() else { panic!("{c}: {hir:?}") };
            let forms: Vec<char> = class.ranges().iter().flat_map(|r| r.start()..=r.end()).collect();
            assert_eq!(forms, vec![c.to_ascii_uppercase(), c.to_ascii_lowercase()], "{c}");
        }
        assert!(MONTHS.iter().zip(MONTH_LITERALS).all(|(m, l)| m.contains(l)));
        // The gate skips nothing: the same dates as with both patterns
        // run on every sentence with an ASCII letter (an empty word is in
        // every sentence).
        let gated = DateRules::new().unwrap();
        let ungated = DateRules { months: Words::folded(&[""]).unwrap(), ..DateRules::new().unwrap() };
        let pieces = [
            "March ",
            "mar ",
            "MAY ",
            "Sept. ",
            "\u{17f}ept ",
            "\u{17f}EPTEMBER ",
            "ſep ",
            "Dec. ",
            "june ",
            "Jul ",
            "oct ",
            "Nov ",
            "august ",
            "feb ",
            "Jan ",
            "apr ",
            "12 ",
            "1st ",
            "6 ",
            "16, ",
            "2023",
            " 2024",
            "2023.",
            "5",
            "th ",
            ",",
            " ",
            "-",
            "/",
            "年",
            "月",
            "x",
            "٣",
            "１",
            "released ",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x1f83_d9ab_fb41_bd6b);
        let mut found = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&pieces, 1, 8);
            let want = ungated.find(&s);
            assert_eq!(gated.find(&s), want, "{s:?}");
            found += want.len();
        }
        assert!(found > 1_000, "the sentences exercise the patterns: {found}");
    }

    /// The dates the five patterns as written find, every pattern run on
    /// every sentence with a year: what `find` returned before the month
    /// gate and the ASCII classes.
    fn reference_find(written: &[Regex], sentence: &str) -> Vec<DateHit> {
        let mut hits: Vec<DateHit> = Vec::new();
        if holds_year(sentence) {
            for re in written {
                push_hits(re, sentence, &mut hits);
            }
        }
        first_of_overlaps(hits)
    }

    /// Sentences of date parts, digits and spaces of other scripts and
    /// widths: `find` returns what the patterns as written find.
    #[test]
    fn dates_are_the_written_patterns_dates() {
        let r = DateRules::new().unwrap();
        let written: Vec<Regex> = [&r.chinese, &r.dotted, &r.dashed, &r.english_mdy, &r.english_dmy]
            .iter()
            .map(|p| Regex::new(p.written()).unwrap())
            .collect();
        let pieces = [
            "2023",
            "2024",
            "年",
            "月",
            "日",
            "号",
            "3",
            "12",
            "1",
            "-",
            ".",
            "/",
            " ",
            "\u{3000}",
            "\u{a0}",
            "\t",
            "٣",
            "٢٠٢٣",
            "１",
            "\u{1d7ce}",
            "March ",
            "Sept. ",
            "\u{17f}ep ",
            "6 ",
            "16, ",
            "th ",
            "于",
            "发布",
            "x",
            "GPT-4",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x3c6e_f372_fe94_f82b);
        let (mut found, mut unicode) = (0, 0);
        for _ in 0..30_000 {
            let s: String = rng.join(&pieces, 1, 10);
            let want = reference_find(&written, &s);
            assert_eq!(r.find(&s), want, "{s:?}");
            found += want.len();
            unicode += usize::from(r.unicode.as_ref().unwrap().in_text(&s) && !want.is_empty());
        }
        assert!(found > 300 && unicode > 100, "the sentences exercise the patterns: {found}, {unicode}");
    }

    #[test]
    fn whole_values() {
        let r = DateRules::new().unwrap();
        assert_eq!(r.parse_value("2018-6").map(|d| d.key()), Some("2018-06".into()));
        assert_eq!(r.parse_value("2017").map(|d| d.precision), Some(DatePrecision::Year));
        assert_eq!(r.parse_value("2018-6 左右"), None);
    }

    #[test]
    fn release_words() {
        let r = DateRules::new().unwrap();
        assert!(r.mentions_release("百度发布文心一言"));
        assert!(r.mentions_release("Meta Released Llama 2"));
        assert!(!r.mentions_release("微软于9月22日取得独家授权"));
        assert_eq!(r.release_verb_end("It was RELEASED, then launched"), Some(14));
    }
}
