//! Word lists searched in one pass: the release verbs, the parameter and
//! model keywords, the company endings. The rules ask "does this sentence
//! hold any of these words, and where does the first end?" once per
//! sentence; one automaton per list, built with the rules, answers in one
//! scan instead of one `contains` (with a fresh searcher) per word over a
//! lower-cased copy of the sentence.

use std::ops::Range;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

/// A compiled word list.
pub struct Words {
    automaton: AhoCorasick,
    /// The automaton's pattern → the word's index in the list given.
    order: Vec<usize>,
}

impl Words {
    /// Lower-case words matched with ASCII case folded, as
    /// `sentence.to_ascii_lowercase().contains(word)` does (a word with an
    /// upper-case ASCII letter would match there never, here always: keep
    /// the lists lower case).
    pub fn folded(words: &[&str]) -> Result<Self, aho_corasick::BuildError> {
        Self::build(words, true)
    }

    /// Words matched exactly.
    pub fn exact(words: &[&str]) -> Result<Self, aho_corasick::BuildError> {
        Self::build(words, false)
    }

    fn build(words: &[&str], fold: bool) -> Result<Self, aho_corasick::BuildError> {
        // Shortest first: at one start, leftmost-first then reports the
        // shortest word, as a minimum over (start, end) does.
        let mut order: Vec<usize> = (0..words.len()).collect();
        order.sort_by_key(|&i| words.get(i).map_or(0, |w| w.len()));
        let automaton = AhoCorasick::builder()
            .ascii_case_insensitive(fold)
            .kind(Some(AhoCorasickKind::DFA))
            // Sentences are short and Chinese shares the words' lead
            // bytes: a prefilter finds candidates on every few bytes and
            // costs more than the DFA's one look-up per byte.
            .prefilter(false)
            .match_kind(MatchKind::LeftmostFirst)
            .build(order.iter().filter_map(|&i| words.get(i)))?;
        Ok(Words { automaton, order })
    }

    /// Does `s` hold any of the words?
    pub fn any_in(&self, s: &str) -> bool {
        self.automaton.is_match(s)
    }

    /// Where the leftmost word ends (the shortest of those starting there).
    pub fn first_end(&self, s: &str) -> Option<usize> {
        self.automaton.find(s).map(|m| m.end())
    }

    /// Every occurrence, left to right, none overlapping, with the index
    /// of the word in the list given.
    pub fn spans<'a>(&'a self, s: &'a str) -> impl Iterator<Item = (usize, Range<usize>)> + 'a {
        self.automaton
            .find_iter(s)
            .map(|m| (self.order.get(m.pattern().as_usize()).copied().unwrap_or_default(), m.range()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const WORDS: &[&str] = &["release", "发布", "open source", "rolled out", "rolls out", "re", "is available"];

    /// What the rules did before: a lower-cased copy, one search per word.
    fn first_end_by_word(s: &str) -> Option<usize> {
        let lower = s.to_ascii_lowercase();
        WORDS.iter().filter_map(|w| lower.find(w).map(|i| (i, i + w.len()))).min().map(|(_, end)| end)
    }

    #[test]
    fn one_scan_finds_what_a_search_per_word_found() {
        let words = Words::folded(WORDS).unwrap();
        for s in [
            "Meta RELEASED Llama 2",
            "百度发布文心一言，then Released",
            "It Rolled Out and rolls out; Open Source",
            "nothing here",
            "ſrelease and K",
            "",
            "rE",
        ] {
            assert_eq!(words.first_end(s), first_end_by_word(s), "{s}");
            assert_eq!(words.any_in(s), first_end_by_word(s).is_some(), "{s}");
        }
    }

    #[test]
    fn exact_words_keep_case() {
        let words = Words::exact(&["研究院", " AI", "科技"]).unwrap();
        assert!(words.any_in("Foo AI"));
        assert!(!words.any_in("foo ai"));
        assert_eq!(words.spans("北辰科技与南山研究院").collect::<Vec<_>>(), vec![(2, 6..12), (0, 21..30)]);
    }
}
