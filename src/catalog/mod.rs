//! The model/vendor catalog (pure): typed entities and facts, the seed file,
//! the mention matcher, fact rules, unknown-model candidates, reconcile and
//! export. Nothing here touches the network or the database: the runner
//! calls [`analyse`] on a new snapshot's text and the store saves the
//! [`Analysis`].

pub mod analysis;
pub mod candidates;
mod cjk_runs;
pub mod companies;
pub mod eval;
pub mod export;
mod latin_tokens;
pub mod matcher;
pub mod mention;
pub mod model;
pub mod reconcile;
pub mod rule_error;
pub mod rules;
pub mod seed;
mod seed_raw;
pub mod sentence_words;
pub mod stoplist;
pub mod structured;
pub mod text;
pub mod value;
pub mod version;
pub mod words;

#[cfg(test)]
pub(crate) mod seed_tests;

#[cfg(test)]
mod analysis_tests;

pub use analysis::{Analysis, CandidateSighting, MentionCount, NewVersion, ProposedFact, analyse, candidate_key};
pub use export::{ExportFormat, export};
pub use matcher::{Matcher, MatcherError, Mention};
pub use model::{
    Alias, Attribute, Catalog, EntityKind, EntityRef, Fact, FactStatus, Model, ModelKind, Origin, Term, TermKind,
    Vendor,
};
pub use seed::{Problem, Seed, SeedDocument, SeedError, parse_seed, parse_value};
pub use stoplist::StopList;
pub use value::{DatePrecision, FactValue, ParamCount, PartialDate};

#[cfg(test)]
mod eval_tests;

#[cfg(test)]
mod pinned;
