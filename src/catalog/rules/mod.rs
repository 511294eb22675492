//! Fact rules: figures found in a sentence, before they are tied to a model.

pub mod compare;
pub mod dates;
pub mod params;

pub use dates::{DateHit, DateRules};
pub use params::{ParamHit, ParamRules};

use super::candidates::{self, CandidateRules};
use super::companies;
pub use super::rule_error::RuleError;
use super::sentence_words::{List, ListWords, WordScan};
use super::value::ParamCount;

/// The compiled rules; built once with the matcher.
pub struct Rules {
    pub params: ParamRules,
    pub dates: DateRules,
    pub candidates: CandidateRules,
    /// Every word list the rules ask a sentence about, in one automaton
    /// (`analyse` scans each sentence once, not once per list).
    pub words: WordScan,
}

impl Rules {
    pub fn new() -> Result<Self, RuleError> {
        let lists = [
            ListWords { list: List::Parameters, words: params::PARAMETER_WORDS, fold: true },
            ListWords { list: List::Release, words: dates::RELEASE_WORDS, fold: true },
            ListWords { list: List::ModelKeywords, words: candidates::MODEL_KEYWORDS, fold: true },
            ListWords { list: List::CjkSuffix, words: &[candidates::CJK_SUFFIX], fold: false },
            ListWords { list: List::CompanyEnds, words: companies::FINDER_CJK_ENDS, fold: false },
            ListWords { list: List::LatinCompanyEnds, words: companies::LATIN_FINDER_ENDS, fold: false },
        ];
        Ok(Rules {
            params: ParamRules::new()?,
            dates: DateRules::new()?,
            candidates: CandidateRules::new()?,
            words: WordScan::new(&lists)?,
        })
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
