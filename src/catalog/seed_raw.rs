//! The seed file's raw shape (serde, unknown keys refused); `seed`
//! validates it into a `Catalog`. A leaf: it imports nothing of `seed`.

use serde::Deserialize;

/// Where the seed facts come from (the knowledge document).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeedDocument {
    /// Stable name used as the evidence source (`aigc-industry-notes.md`).
    pub name: String,
    pub title: Option<String>,
    /// RFC 3339 date of the document's version.
    pub observed_at: String,
    /// `document` (the knowledge document's seed, the default) or
    /// `reference` (the shipped landscape).
    pub origin: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFile {
    pub(super) document: SeedDocument,
    #[serde(default)]
    pub(super) vendor: Vec<RawVendor>,
    #[serde(default)]
    pub(super) model: Vec<RawModel>,
    #[serde(default)]
    pub(super) term: Vec<RawTerm>,
    #[serde(default)]
    pub(super) fact: Vec<RawFact>,
    /// More aliases for an entity of this or an earlier file.
    #[serde(default)]
    pub(super) alias: Vec<RawAlias>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAlias {
    pub(super) entity: String,
    /// `model` or `vendor`.
    pub(super) kind: String,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    #[serde(default)]
    pub(super) case_sensitive_aliases: Vec<String>,
    #[serde(default)]
    pub(super) ambiguous_aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawTerm {
    /// `chip` or `framework`.
    pub(super) kind: String,
    pub(super) name: String,
    pub(super) vendor: Option<String>,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawVendor {
    pub(super) name: String,
    pub(super) country: Option<String>,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    #[serde(default)]
    pub(super) case_sensitive_aliases: Vec<String>,
    /// Aliases that are also everyday words: matched only in context.
    #[serde(default)]
    pub(super) ambiguous_aliases: Vec<String>,
    #[serde(default = "yes")]
    pub(super) match_name: bool,
    pub(super) founded: Option<String>,
    #[serde(default)]
    pub(super) chips: Vec<String>,
    #[serde(default)]
    pub(super) frameworks: Vec<String>,
    #[serde(default)]
    pub(super) ai_models: Vec<String>,
    #[serde(default)]
    pub(super) chatgpt_scenarios: Vec<String>,
    #[serde(default)]
    pub(super) aigc_scenarios: Vec<String>,
    pub(super) evidence: Option<String>,
    /// The page supporting the entry (required in a reference file).
    pub(super) evidence_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawModel {
    pub(super) name: String,
    pub(super) vendor: Option<String>,
    pub(super) kind: String,
    pub(super) family: Option<String>,
    pub(super) version: Option<String>,
    #[serde(default)]
    pub(super) retired: bool,
    #[serde(default)]
    pub(super) aliases: Vec<String>,
    #[serde(default)]
    pub(super) case_sensitive_aliases: Vec<String>,
    /// Aliases that are also everyday words: matched only in context.
    #[serde(default)]
    pub(super) ambiguous_aliases: Vec<String>,
    #[serde(default = "yes")]
    pub(super) match_name: bool,
    pub(super) released: Option<String>,
    pub(super) parameters: Option<String>,
    pub(super) features: Option<String>,
    pub(super) evidence: Option<String>,
    /// The page supporting the entry (required in a reference file).
    pub(super) evidence_url: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawFact {
    /// `vendor` or `model`.
    pub(super) kind: String,
    pub(super) entity: String,
    pub(super) attribute: String,
    pub(super) value: String,
    pub(super) as_of: Option<String>,
    pub(super) evidence: String,
}

pub(super) fn yes() -> bool {
    true
}
