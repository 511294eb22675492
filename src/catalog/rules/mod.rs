//! Fact rules: figures found in a sentence, before they are tied to a model.

pub mod compare;
pub mod dates;
pub mod params;

pub use dates::{DateHit, DateRules};
pub use params::{ParamHit, ParamRules};

use super::candidates::CandidateRules;
pub use super::rule_error::RuleError;
use super::value::ParamCount;

/// The compiled rules; built once with the matcher.
pub struct Rules {
    pub params: ParamRules,
    pub dates: DateRules,
    pub candidates: CandidateRules,
}

impl Rules {
    pub fn new() -> Result<Self, RuleError> {
        Ok(Rules { params: ParamRules::new()?, dates: DateRules::new()?, candidates: CandidateRules::new()? })
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
