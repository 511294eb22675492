//! The error of a rule that did not compile: a leaf, so the rule sets
//! (`rules`, `candidates`, `companies`) can all name it without importing
//! one another.

/// A rule's pattern or word list that did not compile (a bug in a
/// constant, caught by every test that builds a matcher).
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    #[error("a rule's pattern did not compile")]
    Pattern(#[from] regex::Error),
    #[error("a rule's word list did not compile")]
    Words(#[from] aho_corasick::BuildError),
    #[error("a rule's character class did not compile: {0}")]
    Class(String),
}
