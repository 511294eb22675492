//! Fact rules: figures found in a sentence, before they are tied to a model.

pub mod compare;
pub mod dates;
pub mod params;

pub use dates::{DateHit, DateRules};
pub use params::{ParamHit, ParamRules};

use std::sync::{Arc, OnceLock};

use super::candidates::{self, CandidateRules};
use super::companies;
pub use super::rule_error::RuleError;
use super::sentence_words::{List, ListWords};
use super::value::ParamCount;

/// The compiled rules: they depend on no catalog, so one set per process
/// ([`Rules::shared`]) serves every matcher.
pub struct Rules {
    pub params: ParamRules,
    pub dates: DateRules,
    pub candidates: CandidateRules,
}

/// Every word list the rules ask a sentence about. The matcher's automaton
/// holds them beside the aliases, so `analyse` finds every sentence's words
/// in the one scan of the text that finds its mentions
/// ([`super::Matcher::find_with_words`]).
pub(crate) const WORD_LISTS: [ListWords<'static>; 6] = [
    ListWords { list: List::Parameters, words: params::PARAMETER_WORDS, fold: true },
    ListWords { list: List::Release, words: dates::RELEASE_WORDS, fold: true },
    ListWords { list: List::ModelKeywords, words: candidates::MODEL_KEYWORDS, fold: true },
    ListWords { list: List::CjkSuffix, words: &[candidates::CJK_SUFFIX], fold: false },
    ListWords { list: List::CompanyEnds, words: companies::FINDER_CJK_ENDS, fold: false },
    ListWords { list: List::LatinCompanyEnds, words: companies::LATIN_FINDER_ENDS, fold: false },
];

impl Rules {
    pub fn new() -> Result<Self, RuleError> {
        Ok(Rules { params: ParamRules::new()?, dates: DateRules::new()?, candidates: CandidateRules::new()? })
    }

    /// The process's one set of rules, compiled on first use. A catalog
    /// edit (a sweep's new provisional models bump the revision several
    /// times) rebuilds the alias automaton, not these regexes, which were
    /// two thirds of a matcher build; and their lazy-DFA caches, warmed by
    /// earlier texts, stay warm. A failure (a bad shipped pattern) is
    /// returned and not kept.
    pub fn shared() -> Result<Arc<Rules>, RuleError> {
        static SHARED: OnceLock<Arc<Rules>> = OnceLock::new();
        if let Some(rules) = SHARED.get() {
            return Ok(rules.clone());
        }
        let rules = Arc::new(Rules::new()?);
        Ok(SHARED.get_or_init(|| rules).clone())
    }

    /// A whole string that is one parameter figure (seed values, CLI input).
    pub fn parse_params(&self, s: &str) -> Option<ParamCount> {
        let s = s.trim();
        match self.params.find(s).as_slice() {
            [one] if one.span == (0..s.len()) => Some(one.value.clone()),
            _ => None,
        }
    }
}
