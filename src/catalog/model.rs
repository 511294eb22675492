//! The catalog's entities (vendors, models) and facts about them.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::value::{FactValue, PartialDate};

use crate::types::string_enum as named_enum;

named_enum! {
    /// What a catalog entity is; `catalog mentions` reports it as `entity_kind`.
    EntityKind {
        Vendor => "vendor",
        Model => "model",
    }
}

named_enum! {
    /// Where a catalog entry comes from: the knowledge document's seed
    /// (`catalog.toml`), the shipped landscape reference (`landscape.toml`),
    /// or observed in sources (a provisional entity).
    #[derive(Default)]
    Origin {
        #[default]
        Document => "document",
        Reference => "reference",
        Observed => "observed",
    }
}

named_enum! {
    /// 文心一言 (a product) vs ERNIE 3.5 (a model) vs 文心千帆 (a platform).
    #[derive(Default)]
    ModelKind {
        Product => "product",
        #[default]
        Model => "model",
        Platform => "platform",
    }
}

named_enum! {
    /// What a fact is about. Each attribute has one value shape.
    Attribute {
        /// Parameter count of a model.
        Parameters => "parameters",
        /// When a model or product was released (or opened to testers).
        ReleaseDate => "release_date",
        /// 模型特点: what characterises a model version.
        Features => "features",
        /// When a vendor was founded.
        Founded => "founded",
        /// A vendor's AI chip.
        Chip => "chip",
        /// A vendor's deep-learning framework.
        Framework => "framework",
        /// A vendor's AI大模型 column entry, as the document writes it.
        AiModel => "ai_model",
        /// ChtGPT自应用场景 column.
        ChatgptScenario => "chatgpt_scenario",
        /// AIGC应用场景 column.
        AigcScenario => "aigc_scenario",
        /// A dated event about the entity (investment, project start, ...).
        Event => "event",
    }
}

impl Attribute {
    /// Which kinds of entity the attribute applies to.
    pub fn applies_to(self, kind: EntityKind) -> bool {
        match self {
            Attribute::Parameters | Attribute::ReleaseDate | Attribute::Features => kind == EntityKind::Model,
            Attribute::Founded
            | Attribute::Chip
            | Attribute::Framework
            | Attribute::AiModel
            | Attribute::ChatgptScenario
            | Attribute::AigcScenario => kind == EntityKind::Vendor,
            Attribute::Event => true,
        }
    }
}

named_enum! {
    /// A fact's review state. Facts are append-only: a decision changes the
    /// status, never the value.
    FactStatus {
        Proposed => "proposed",
        Accepted => "accepted",
        Rejected => "rejected",
        Superseded => "superseded",
    }
}

/// A catalog entity by kind and canonical name (unique per kind).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct EntityRef {
    pub kind: EntityKind,
    pub name: String,
}

impl EntityRef {
    pub fn vendor(name: impl Into<String>) -> Self {
        EntityRef { kind: EntityKind::Vendor, name: name.into() }
    }

    pub fn model(name: impl Into<String>) -> Self {
        EntityRef { kind: EntityKind::Model, name: name.into() }
    }
}

impl fmt::Display for EntityRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind, self.name)
    }
}

/// One spelling under which an entity is matched in text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Alias {
    pub text: String,
    /// Latin aliases match case-insensitively unless this is set (e.g.
    /// `Spark`, which is also Apache Spark in lower case).
    pub case_sensitive: bool,
    /// Also an everyday word (商量 "to discuss", 星火 in 星火燎原): matches
    /// only in a naming context (see the matcher).
    #[serde(default)]
    pub ambiguous: bool,
}

impl Alias {
    pub fn new(text: impl Into<String>) -> Self {
        Alias { text: text.into(), case_sensitive: false, ambiguous: false }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vendor {
    pub name: String,
    /// ISO country code; the export splits 国外/国内 tables on `CN`.
    pub country: Option<String>,
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub origin: Origin,
    /// Created from sightings, awaiting review.
    #[serde(default)]
    pub provisional: bool,
    /// The page that supports the entry (reference data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Model {
    pub name: String,
    pub vendor: Option<String>,
    pub kind: ModelKind,
    pub family: Option<String>,
    pub version: Option<String>,
    /// Struck through in the document's tables (e.g. ~~AI模型M6~~).
    pub retired: bool,
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub origin: Origin,
    /// Created from sightings (a new version, a candidate seen often),
    /// awaiting review.
    #[serde(default)]
    pub provisional: bool,
    /// The page that supports the entry (reference data).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence_url: Option<String>,
}

impl Vendor {
    /// A document vendor with these aliases (tests, benches).
    pub fn new(name: &str, aliases: &[&str]) -> Self {
        Vendor { name: name.to_owned(), aliases: aliases.iter().map(|a| Alias::new(*a)).collect(), ..Vendor::default() }
    }
}

named_enum! {
    /// Things a vendor has that are not matched as mentions: chips and
    /// deep-learning frameworks.
    TermKind {
        Chip => "chip",
        Framework => "framework",
    }
}

/// A chip or framework with its other spellings (昇腾 = Ascend).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    pub kind: TermKind,
    pub name: String,
    pub vendor: Option<String>,
    pub aliases: Vec<String>,
}

impl Term {
    /// Does `text` name this term (its name or an alias, any case)?
    pub fn is_named(&self, text: &str) -> bool {
        let t = text.trim().to_lowercase();
        self.name.to_lowercase() == t || self.aliases.iter().any(|a| a.to_lowercase() == t)
    }
}

/// One fact with its (first) evidence quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fact {
    pub entity: EntityRef,
    pub attribute: Attribute,
    pub value: FactValue,
    /// The value as the source wrote it (`1750亿`, `2023.3.16`).
    pub raw: String,
    /// When the fact held or happened, for events.
    pub as_of: Option<PartialDate>,
    /// The quoted sentence or table row.
    pub evidence: Option<String>,
}

/// The whole catalog: what the seed file holds and what the database loads
/// for matching and export (with accepted facts only).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Catalog {
    pub vendors: Vec<Vendor>,
    pub models: Vec<Model>,
    pub terms: Vec<Term>,
    pub facts: Vec<Fact>,
    /// Names a reviewer rejected (`catalog reject NAME`): never matched as
    /// new versions or candidates again.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rejected: Vec<String>,
}

impl Catalog {
    pub fn vendor(&self, name: &str) -> Option<&Vendor> {
        self.vendors.iter().find(|v| v.name == name)
    }

    pub fn model(&self, name: &str) -> Option<&Model> {
        self.models.iter().find(|m| m.name == name)
    }

    pub fn contains(&self, entity: &EntityRef) -> bool {
        match entity.kind {
            EntityKind::Vendor => self.vendor(&entity.name).is_some(),
            EntityKind::Model => self.model(&entity.name).is_some(),
        }
    }

    /// A family's versions (models whose `family` is its name and that
    /// have a version), in catalog order.
    pub fn versions_of<'a>(&'a self, family: &'a str) -> impl Iterator<Item = &'a Model> + 'a {
        self.models
            .iter()
            .filter(move |m| m.version.is_some() && m.family.as_deref() == Some(family) && m.name != family)
    }

    /// Facts about `entity` with `attribute`, in catalog order.
    pub fn facts_of<'a>(&'a self, entity: &'a EntityRef, attribute: Attribute) -> impl Iterator<Item = &'a Fact> + 'a {
        self.facts.iter().filter(move |f| &f.entity == entity && f.attribute == attribute)
    }
}
