//! Every word list the rules ask a sentence about, found in one scan.
//!
//! Per sentence the rules asked six questions of six automata (parameter
//! words? release words? model keywords? where is 大模型? where are the
//! company endings? a Latin company ending?): six scans of every sentence,
//! a quarter of `analyse`'s time on article text. One automaton of all the
//! lists, searched once with overlapping matches, answers all six: an
//! overlapping search reports every occurrence of every word, so a list
//! "is in the sentence" exactly when one of its words is reported, and the
//! spans of lists whose words cannot overlap one another are the spans a
//! leftmost search of that list alone finds.
//!
//! `analyse` goes one step further: the lists ride in the matcher's alias
//! automaton ([`super::Matcher::find_with_words`]), so the scan of the
//! whole text that finds the mentions finds the words too, and
//! [`SentenceWords::in_sentence`] hands each sentence the occurrences
//! inside it (0.62 M instructions a bench page for the sentences' own
//! scans, callgrind). [`WordScan`] stays for a caller with a sentence
//! alone ([`super::candidates::CandidateRules::find`]).

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// The lists the rules ask about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    /// `rules::params`: the sentence talks about parameters.
    Parameters,
    /// `rules::dates`: the sentence announces a release.
    Release,
    /// `candidates`: the sentence is about models.
    ModelKeywords,
    /// `candidates`: 大模型, where CJK candidate names end.
    CjkSuffix,
    /// `companies`: Chinese company endings (科技, 智能 …).
    CompanyEnds,
    /// `companies`: Latin company endings (` AI`, ` Lab` …).
    LatinCompanyEnds,
}

impl List {
    fn bit(self) -> u8 {
        1 << (self as u8)
    }
}

/// One list to compile: its words, and whether ASCII case is folded (as
/// [`super::words::Words::folded`]) or kept (as `Words::exact`).
pub struct ListWords<'a> {
    pub list: List,
    pub words: &'a [&'a str],
    pub fold: bool,
}

/// The lists compiled into one automaton; built once with the rules.
pub struct WordScan {
    automaton: AhoCorasick,
    /// The automaton's pattern → (its list, its index in the list, the
    /// word when its case must match exactly).
    patterns: Vec<(List, usize, Option<String>)>,
}

/// An occurrence of a word of a list in a text
/// ([`super::Matcher::find_with_words`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WordHit {
    pub list: List,
    /// The word's index in its list.
    pub index: usize,
    pub span: Range<usize>,
}

/// What one sentence holds of the lists.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SentenceWords {
    found: u8,
    /// (list, word index, span) of the lists whose spans are asked for, in
    /// the order the scan reports them (by end).
    spans: Vec<(List, usize, Range<usize>)>,
}

impl WordScan {
    pub fn new(lists: &[ListWords<'_>]) -> Result<Self, aho_corasick::BuildError> {
        let mut words = Vec::new();
        let mut patterns = Vec::new();
        for l in lists {
            for (i, w) in l.words.iter().enumerate() {
                words.push(*w);
                patterns.push((l.list, i, (!l.fold).then(|| (*w).to_owned())));
            }
        }
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(true)
            .kind(Some(AhoCorasickKind::DFA))
            // As in `Words`: sentences are short and Chinese shares the
            // words' lead bytes, so a prefilter costs more than it skips.
            .prefilter(false)
            .match_kind(MatchKind::Standard)
            .build(&words)?;
        Ok(WordScan { automaton, patterns })
    }

    /// The lists `sentence` holds, and the spans of 大模型 and the company
    /// endings.
    pub fn scan(&self, sentence: &str) -> SentenceWords {
        let mut out = SentenceWords::default();
        for m in self.automaton.find_overlapping_iter(sentence) {
            let Some((list, index, exact)) = self.patterns.get(m.pattern().as_usize()) else { continue };
            if let Some(word) = exact
                && sentence.as_bytes().get(m.range()) != Some(word.as_bytes())
            {
                continue;
            }
            out.add(*list, *index, m.range());
        }
        out
    }
}

impl SentenceWords {
    /// The words of `sentence` (a span of the text) among `hits`, the
    /// occurrences of the lists' words in the whole text by end, with spans
    /// relative to the sentence: what [`WordScan::scan`] of the sentence
    /// finds. The sentences are asked in order; `next` is where the hits
    /// of the next one may start (0 for the first).
    pub fn in_sentence(hits: &[WordHit], next: &mut usize, sentence: &Range<usize>) -> Self {
        let mut out = SentenceWords::default();
        // Those ending at its start or before lie in earlier sentences or
        // between sentences.
        while hits.get(*next).is_some_and(|h| h.span.end <= sentence.start) {
            *next += 1;
        }
        while let Some(hit) = hits.get(*next).filter(|h| h.span.end <= sentence.end) {
            // One starting before the sentence spans its start.
            if hit.span.start >= sentence.start {
                out.add(hit.list, hit.index, hit.span.start - sentence.start..hit.span.end - sentence.start);
            }
            *next += 1;
        }
        out
    }

    /// Adds an occurrence of word `index` of `list` at `span`; occurrences
    /// come by end.
    pub fn add(&mut self, list: List, index: usize, span: Range<usize>) {
        self.found |= list.bit();
        if matches!(list, List::CjkSuffix | List::CompanyEnds) {
            self.spans.push((list, index, span));
        }
    }

    /// Does the sentence hold a word of `list`?
    pub fn has(&self, list: List) -> bool {
        self.found & list.bit() != 0
    }

    /// The occurrences of [`List::CjkSuffix`] or [`List::CompanyEnds`]
    /// words, by end (by start too, since none overlaps another), with
    /// each word's index in its list.
    pub fn spans(&self, list: List) -> impl Iterator<Item = (usize, Range<usize>)> + '_ {
        self.spans.iter().filter(move |(l, _, _)| *l == list).map(|(_, i, r)| (*i, r.clone()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::super::words::Words;
    use super::*;

    const PARAMS: &[&str] = &["参数", "parameter", "params", " sizes"];
    const KEYWORDS: &[&str] = &["模型", "model", "llm", "参数"];
    const SUFFIX: &[&str] = &["大模型"];
    const ENDS: &[&str] = &["科技", "智能", "实验室", "研究院"];
    const LATIN: &[&str] = &[" AI", " Lab", " Inc", " Technologies"];

    fn scan() -> WordScan {
        WordScan::new(&[
            ListWords { list: List::Parameters, words: PARAMS, fold: true },
            ListWords { list: List::ModelKeywords, words: KEYWORDS, fold: true },
            ListWords { list: List::CjkSuffix, words: SUFFIX, fold: false },
            ListWords { list: List::CompanyEnds, words: ENDS, fold: false },
            ListWords { list: List::LatinCompanyEnds, words: LATIN, fold: false },
        ])
        .unwrap()
    }

    /// One scan answers what a search of each list alone answered, on
    /// sentences built of the words' pieces, case changed and overlapped.
    #[test]
    fn one_scan_answers_as_a_search_per_list() {
        let scan = scan();
        let single = |w: &[&str], fold: bool| if fold { Words::folded(w) } else { Words::exact(w) }.unwrap();
        let lists = [
            (List::Parameters, single(PARAMS, true)),
            (List::ModelKeywords, single(KEYWORDS, true)),
            (List::CjkSuffix, single(SUFFIX, false)),
            (List::CompanyEnds, single(ENDS, false)),
            (List::LatinCompanyEnds, single(LATIN, false)),
        ];
        let pieces = [
            "参数",
            "参",
            "数",
            "大模型",
            "大",
            "模型",
            "科技",
            "智能",
            "实验",
            "室",
            "研究院",
            " AI",
            " ai",
            " Ai",
            "AI",
            " Lab",
            " lab",
            " Inc",
            " INC",
            "Param",
            "eters",
            "PARAMS",
            " Sizes",
            "Model",
            "LLM",
            "l",
            " ",
            "x",
            "。",
        ];
        let mut rng = crate::test_rng::XorShift::new(0x5151_7a3b_c0de_f00d);
        let mut cases = 0;
        for _ in 0..20_000 {
            let s: String = rng.join(&pieces, 0, 12);
            let words = scan.scan(&s);
            for (list, alone) in &lists {
                assert_eq!(words.has(*list), alone.any_in(&s), "{list:?} in {s:?}");
                if matches!(list, List::CjkSuffix | List::CompanyEnds) {
                    let spans: Vec<_> = words.spans(*list).collect();
                    assert_eq!(spans, alone.spans(&s).collect::<Vec<_>>(), "{list:?} in {s:?}");
                    cases += usize::from(!spans.is_empty());
                }
            }
        }
        assert!(cases > 1000, "the cases exercise the spans: {cases}");
    }
}
