//! `config/catalog.toml`: parsed into raw serde types, then validated into a
//! [`Catalog`] with every problem reported at once.
//!
//! Shorthand keeps the file readable: a vendor's `chips`, `frameworks`,
//! `ai_models` and scenario lists and a model's `released`, `parameters` and
//! `features` become facts whose evidence is the entry's `evidence` (the
//! document's table row or sentence). Other facts are `[[fact]]` tables.

use std::collections::HashMap;
use std::fmt;

pub use super::seed_raw::SeedDocument;
use super::seed_raw::{RawAlias, RawFact, RawFile, RawModel, RawTerm, RawVendor};

use super::model::{
    Alias, Attribute, Catalog, EntityKind, EntityRef, Fact, Model, ModelKind, Origin, Term, TermKind, Vendor,
};
use super::rules::Rules;
use super::value::FactValue;

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("catalog file is not valid TOML")]
    Toml(#[source] toml::de::Error),
    #[error("could not compile the fact rules")]
    Rules(#[source] super::rules::RuleError),
    #[error("catalog file has {} problem(s):\n{}", .0.len(), Problems(.0))]
    Invalid(Vec<Problem>),
}

/// One validation problem, located by the entry it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub at: String,
    pub message: String,
}

struct Problems<'a>(&'a [Problem]);

impl fmt::Display for Problems<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.0.iter().enumerate() {
            let sep = if i == 0 { "" } else { "\n" };
            write!(f, "{sep}  {}: {}", p.at, p.message)?;
        }
        Ok(())
    }
}

/// Aliases a file adds to an entity (of this file or an earlier one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraAliases {
    pub entity: EntityRef,
    pub aliases: Vec<Alias>,
}

/// The validated seed file.
#[derive(Debug, Clone)]
pub struct Seed {
    pub document: SeedDocument,
    pub origin: Origin,
    /// This file's entries only (not the base it was validated over).
    pub catalog: Catalog,
    pub extra_aliases: Vec<ExtraAliases>,
}

impl Seed {
    /// `base` with this file's entries and aliases added: what the database
    /// holds after loading both (for the pure evaluation and tools).
    pub fn apply_to(&self, base: &mut Catalog) {
        base.vendors.extend(self.catalog.vendors.iter().cloned());
        base.models.extend(self.catalog.models.iter().cloned());
        base.terms.extend(self.catalog.terms.iter().cloned());
        base.facts.extend(self.catalog.facts.iter().cloned());
        for x in &self.extra_aliases {
            let list = match x.entity.kind {
                EntityKind::Vendor => base.vendors.iter_mut().find(|v| v.name == x.entity.name).map(|v| &mut v.aliases),
                EntityKind::Model => base.models.iter_mut().find(|m| m.name == x.entity.name).map(|m| &mut m.aliases),
            };
            if let Some(list) = list {
                for a in &x.aliases {
                    // An alias already held takes the file's flags (混元 is
                    // made ambiguous by the landscape), as the store does.
                    match list.iter_mut().find(|o| o.text == a.text) {
                        Some(o) => {
                            o.ambiguous |= a.ambiguous;
                            o.case_sensitive |= a.case_sensitive;
                        }
                        None => list.push(a.clone()),
                    }
                }
            }
        }
    }
}

/// Parses and validates the seed file's text (the caller reads the file).
pub fn parse_seed(toml_text: &str) -> Result<Seed, SeedError> {
    parse_seed_over(toml_text, &Catalog::default())
}

/// Parses a file that builds on `base` (the landscape on `catalog.toml`):
/// its models may name `base`'s vendors and families, its `[[alias]]`
/// tables may extend `base`'s entities, and it may not redefine them.
pub fn parse_seed_over(toml_text: &str, base: &Catalog) -> Result<Seed, SeedError> {
    let raw: RawFile = toml::from_str(toml_text).map_err(SeedError::Toml)?;
    let rules = Rules::new().map_err(SeedError::Rules)?;
    Validator {
        rules,
        problems: Vec::new(),
        catalog: Catalog::default(),
        base,
        origin: Origin::Document,
        extra_aliases: Vec::new(),
    }
    .run(raw)
}

struct Validator<'b> {
    rules: Rules,
    problems: Vec<Problem>,
    catalog: Catalog,
    base: &'b Catalog,
    origin: Origin,
    extra_aliases: Vec<ExtraAliases>,
}

impl Validator<'_> {
    fn problem(&mut self, at: impl Into<String>, message: impl Into<String>) {
        self.problems.push(Problem { at: at.into(), message: message.into() });
    }

    fn run(mut self, raw: RawFile) -> Result<Seed, SeedError> {
        if self.rules.dates.parse_value(&raw.document.observed_at).is_none() {
            self.problem("document", format!("observed_at {:?} is not a date", raw.document.observed_at));
        }
        match raw.document.origin.as_deref().map(Origin::parse) {
            None => {}
            Some(Some(o @ (Origin::Document | Origin::Reference))) => self.origin = o,
            Some(_) => self.problem(
                "document",
                format!("origin {:?} is not one of document, reference", raw.document.origin.as_deref().unwrap_or("")),
            ),
        }
        for v in raw.vendor {
            self.vendor(v);
        }
        for m in raw.model {
            self.model(m);
        }
        for t in raw.term {
            self.term(t);
        }
        for f in raw.fact {
            self.fact(f);
        }
        for a in raw.alias {
            self.extra_alias(a);
        }
        self.check_families();
        self.check_terms_declared();
        self.check_aliases_unique();
        self.check_ai_models();
        if self.problems.is_empty() {
            Ok(Seed {
                document: raw.document,
                origin: self.origin,
                catalog: self.catalog,
                extra_aliases: self.extra_aliases,
            })
        } else {
            Err(SeedError::Invalid(self.problems))
        }
    }

    fn aliases(
        name: &str,
        match_name: bool,
        plain: Vec<String>,
        exact: Vec<String>,
        ambiguous: Vec<String>,
    ) -> Vec<Alias> {
        let mut out: Vec<Alias> = Vec::new();
        let names = match_name.then(|| name.to_owned());
        for text in names.into_iter().chain(plain) {
            if !out.iter().any(|a| a.text == text) {
                out.push(Alias::new(text));
            }
        }
        for text in exact {
            out.retain(|a| a.text != text);
            out.push(Alias { text, case_sensitive: true, ambiguous: false });
        }
        for text in ambiguous {
            match out.iter_mut().find(|a| a.text == text) {
                Some(a) => a.ambiguous = true,
                None => out.push(Alias { text, case_sensitive: false, ambiguous: true }),
            }
        }
        out
    }

    fn vendor(&mut self, v: RawVendor) {
        let at = format!("vendor {:?}", v.name);
        if v.name.trim().is_empty() {
            self.problem(&at, "name is empty");
            return;
        }
        if self.catalog.vendor(&v.name).is_some() {
            self.problem(&at, "declared twice");
            return;
        }
        if self.base.vendor(&v.name).is_some() {
            self.problem(&at, "is already in the catalog it builds on (add aliases with [[alias]])");
            return;
        }
        self.check_url(&at, v.evidence_url.as_deref());
        let entity = EntityRef::vendor(&v.name);
        let evidence = v.evidence.clone().or(v.evidence_url.clone());
        if let Some(founded) = &v.founded {
            self.typed_fact(&at, &entity, Attribute::Founded, founded, None, evidence.clone());
        }
        let lists = [
            (Attribute::Chip, v.chips),
            (Attribute::Framework, v.frameworks),
            (Attribute::AiModel, v.ai_models),
            (Attribute::ChatgptScenario, v.chatgpt_scenarios),
            (Attribute::AigcScenario, v.aigc_scenarios),
        ];
        let has_list = lists.iter().any(|(_, l)| !l.is_empty());
        if (has_list || v.founded.is_some()) && evidence.is_none() {
            self.problem(&at, "facts need an `evidence` quote");
        }
        for (attribute, values) in lists {
            for value in values {
                self.typed_fact(&at, &entity, attribute, &value, None, evidence.clone());
            }
        }
        let aliases = Self::aliases(&v.name, v.match_name, v.aliases, v.case_sensitive_aliases, v.ambiguous_aliases);
        self.catalog.vendors.push(Vendor {
            name: v.name,
            country: v.country,
            aliases,
            origin: self.origin,
            provisional: false,
            evidence_url: v.evidence_url,
        });
    }

    fn model(&mut self, m: RawModel) {
        let at = format!("model {:?}", m.name);
        if m.name.trim().is_empty() {
            self.problem(&at, "name is empty");
            return;
        }
        if self.catalog.model(&m.name).is_some() {
            self.problem(&at, "declared twice");
            return;
        }
        if self.base.model(&m.name).is_some() {
            self.problem(&at, "is already in the catalog it builds on (add aliases with [[alias]])");
            return;
        }
        self.check_url(&at, m.evidence_url.as_deref());
        let kind = ModelKind::parse(&m.kind).unwrap_or_else(|| {
            self.problem(&at, format!("kind {:?} is not one of {}", m.kind, ModelKind::names()));
            ModelKind::Model
        });
        if let Some(v) = &m.vendor
            && self.catalog.vendor(v).is_none()
            && self.base.vendor(v).is_none()
        {
            self.problem(&at, format!("vendor {v:?} is not declared (declare vendors before models)"));
        }
        if self.origin == Origin::Reference && m.vendor.is_none() {
            self.problem(&at, "a reference model needs a `vendor`");
        }
        let entity = EntityRef::model(&m.name);
        let evidence = m.evidence.clone().or(m.evidence_url.clone());
        let facts = [
            (Attribute::ReleaseDate, m.released),
            (Attribute::Parameters, m.parameters),
            (Attribute::Features, m.features),
        ];
        if facts.iter().any(|(_, v)| v.is_some()) && evidence.is_none() {
            self.problem(&at, "facts need an `evidence` quote or `evidence_url`");
        }
        for (attribute, value) in facts {
            if let Some(value) = value {
                self.typed_fact(&at, &entity, attribute, &value, None, evidence.clone());
            }
        }
        let aliases = Self::aliases(&m.name, m.match_name, m.aliases, m.case_sensitive_aliases, m.ambiguous_aliases);
        self.catalog.models.push(Model {
            name: m.name,
            vendor: m.vendor,
            kind,
            family: m.family,
            version: m.version,
            retired: m.retired,
            aliases,
            origin: self.origin,
            provisional: false,
            evidence_url: m.evidence_url,
        });
    }

    /// An `https://` page is required on every reference entry and must be
    /// a URL wherever it is given.
    fn check_url(&mut self, at: &str, url: Option<&str>) {
        match url {
            None if self.origin == Origin::Reference => self.problem(at, "a reference entry needs an `evidence_url`"),
            None => {}
            Some(u) => match url::Url::parse(u) {
                Ok(p) if matches!(p.scheme(), "http" | "https") && p.host_str().is_some() => {}
                _ => self.problem(at, format!("evidence_url {u:?} is not an http(s) URL")),
            },
        }
    }

    /// `[[alias]]`: more spellings for an entity of this or the base file.
    fn extra_alias(&mut self, a: RawAlias) {
        let at = format!("alias {:?}", a.entity);
        let Some(kind) = EntityKind::parse(&a.kind) else {
            self.problem(&at, format!("kind {:?} is not one of {}", a.kind, EntityKind::names()));
            return;
        };
        let entity = EntityRef { kind, name: a.entity.clone() };
        if !self.catalog.contains(&entity) && !self.base.contains(&entity) {
            self.problem(&at, format!("{entity} is not declared"));
            return;
        }
        let aliases = Self::aliases(&a.entity, false, a.aliases, a.case_sensitive_aliases, a.ambiguous_aliases);
        if aliases.is_empty() {
            self.problem(&at, "lists no aliases");
            return;
        }
        self.extra_aliases.push(ExtraAliases { entity, aliases });
    }

    /// A version's `family` names a model (the family entry) of this or the
    /// base file, or a family label a model carries as its alias (`文心`).
    fn check_families(&mut self) {
        let mut bad = Vec::new();
        let all: Vec<&Model> = self.base.models.iter().chain(&self.catalog.models).collect();
        for m in &self.catalog.models {
            let (Some(family), Some(_)) = (&m.family, &m.version) else { continue };
            let known = all.iter().any(|o| {
                o.name != m.name
                    && (&o.name == family
                        || (o.version.is_none()
                            && o.family.as_ref() == Some(family)
                            && o.aliases.iter().any(|a| &a.text == family)))
            });
            if !known && self.origin == Origin::Reference {
                bad.push((format!("model {:?}", m.name), format!("family {family:?} names no family model")));
            }
        }
        for (at, message) in bad {
            self.problem(at, message);
        }
    }

    fn term(&mut self, t: RawTerm) {
        let at = format!("term {:?}", t.name);
        let Some(kind) = TermKind::parse(&t.kind) else {
            self.problem(&at, format!("kind {:?} is not one of {}", t.kind, TermKind::names()));
            return;
        };
        if let Some(v) = &t.vendor
            && self.catalog.vendor(v).is_none()
            && self.base.vendor(v).is_none()
        {
            self.problem(&at, format!("vendor {v:?} is not declared"));
        }
        if self.catalog.terms.iter().any(|o| o.kind == kind && o.name == t.name) {
            self.problem(&at, "declared twice");
            return;
        }
        self.catalog.terms.push(Term { kind, name: t.name, vendor: t.vendor, aliases: t.aliases });
    }

    /// Every chip and framework a vendor lists is a declared term of that
    /// vendor, so its other spellings are known.
    fn check_terms_declared(&mut self) {
        let mut missing = Vec::new();
        for f in &self.catalog.facts {
            let kind = match f.attribute {
                Attribute::Chip => TermKind::Chip,
                Attribute::Framework => TermKind::Framework,
                _ => continue,
            };
            let declared =
                self.catalog.terms.iter().any(|t| {
                    t.kind == kind && t.vendor.as_deref() == Some(&f.entity.name) && t.is_named(&f.value.key())
                });
            if !declared {
                missing.push((f.entity.to_string(), format!("{kind} {:?} has no [[term]] of this vendor", f.raw)));
            }
        }
        for (at, message) in missing {
            self.problem(at, message);
        }
    }

    fn fact(&mut self, f: RawFact) {
        let at = format!("fact {:?}.{}", f.entity, f.attribute);
        let Some(kind) = EntityKind::parse(&f.kind) else {
            self.problem(&at, format!("kind {:?} is not one of {}", f.kind, EntityKind::names()));
            return;
        };
        let entity = EntityRef { kind, name: f.entity.clone() };
        if !self.catalog.contains(&entity) {
            self.problem(&at, format!("{entity} is not declared"));
            return;
        }
        let Some(attribute) = Attribute::parse(&f.attribute) else {
            self.problem(&at, format!("attribute {:?} is not one of {}", f.attribute, Attribute::names()));
            return;
        };
        let as_of = match &f.as_of {
            Some(s) => match self.rules.dates.parse_value(s) {
                Some(d) => Some(d),
                None => {
                    self.problem(&at, format!("as_of {s:?} is not a date"));
                    return;
                }
            },
            None => None,
        };
        if attribute == Attribute::Event && as_of.is_none() {
            self.problem(&at, "an event needs `as_of`");
        }
        self.typed_fact(&at, &entity, attribute, &f.value, as_of, Some(f.evidence));
    }

    fn typed_fact(
        &mut self,
        at: &str,
        entity: &EntityRef,
        attribute: Attribute,
        raw: &str,
        as_of: Option<super::value::PartialDate>,
        evidence: Option<String>,
    ) {
        if !attribute.applies_to(entity.kind) {
            self.problem(at, format!("attribute {attribute} does not apply to a {}", entity.kind));
            return;
        }
        match parse_value(&self.rules, attribute, raw) {
            Some(value) => self.catalog.facts.push(Fact {
                entity: entity.clone(),
                attribute,
                value,
                raw: raw.to_owned(),
                as_of,
                evidence,
            }),
            None => self.problem(at, format!("{attribute} value {raw:?} cannot be read")),
        }
    }

    /// An alias names one entity; Latin aliases collide case-insensitively.
    fn check_aliases_unique(&mut self) {
        let mut seen: HashMap<String, EntityRef> = HashMap::new();
        let mut clashes = Vec::new();
        let base = self
            .base
            .vendors
            .iter()
            .map(|v| (EntityRef::vendor(&v.name), &v.aliases))
            .chain(self.base.models.iter().map(|m| (EntityRef::model(&m.name), &m.aliases)));
        let all = base
            .chain(self.catalog.vendors.iter().map(|v| (EntityRef::vendor(&v.name), &v.aliases)))
            .chain(self.catalog.models.iter().map(|m| (EntityRef::model(&m.name), &m.aliases)))
            .chain(self.extra_aliases.iter().map(|x| (x.entity.clone(), &x.aliases)));
        for (entity, aliases) in all {
            for a in aliases {
                if a.text.trim().is_empty() {
                    clashes.push((entity.to_string(), "has an empty alias".to_owned()));
                    continue;
                }
                match seen.get(&a.text.to_lowercase()) {
                    Some(other) if other != &entity => {
                        clashes.push((entity.to_string(), format!("alias {:?} already names {other}", a.text)))
                    }
                    _ => {
                        seen.insert(a.text.to_lowercase(), entity.clone());
                    }
                }
            }
        }
        for (at, message) in clashes {
            self.problem(at, message);
        }
    }

    /// An `ai_models` entry must name one of the vendor's models, so the
    /// exported vendor table stays consistent with the model list.
    fn check_ai_models(&mut self) {
        let mut bad = Vec::new();
        for f in self.catalog.facts.iter().filter(|f| f.attribute == Attribute::AiModel) {
            let text = f.value.key().to_lowercase();
            let models = self.base.models.iter().chain(&self.catalog.models);
            let named = models.filter(|m| m.vendor.as_deref() == Some(&f.entity.name)).any(|m| {
                text.contains(&m.name.to_lowercase()) || m.aliases.iter().any(|a| text.contains(&a.text.to_lowercase()))
            });
            if !named {
                bad.push((f.entity.to_string(), format!("ai_models entry {:?} names none of its models", f.raw)));
            }
        }
        for (at, message) in bad {
            self.problem(at, message);
        }
    }
}

/// Reads a value of `attribute`'s shape from text (seed file, CLI).
pub fn parse_value(rules: &Rules, attribute: Attribute, raw: &str) -> Option<FactValue> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match attribute {
        Attribute::Parameters => rules.parse_params(raw).map(FactValue::Parameters),
        Attribute::ReleaseDate | Attribute::Founded => rules.dates.parse_value(raw).map(FactValue::Date),
        _ => Some(FactValue::text(raw)),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn reports_every_problem_at_once() {
        let text = r#"
            [document]
            name = "notes.md"
            observed_at = "2023-4-1"

            [[vendor]]
            name = "百度"
            aliases = ["Baidu"]
            chips = ["昆仑芯"]

            [[vendor]]
            name = "百度"

            [[model]]
            name = "文心一言"
            vendor = "Baidoo"
            kind = "chatbot"
            aliases = ["baidu"]
            parameters = "很多"
            evidence = "x"

            [[fact]]
            kind = "model"
            entity = "GPT-9"
            attribute = "parameters"
            value = "1"
            evidence = "y"
        "#;
        let Err(SeedError::Invalid(problems)) = parse_seed(text) else { panic!("expected problems") };
        let messages: Vec<String> = problems.iter().map(|p| format!("{}: {}", p.at, p.message)).collect();
        assert_eq!(
            messages,
            vec![
                "vendor \"百度\": facts need an `evidence` quote",
                "vendor \"百度\": declared twice",
                "model \"文心一言\": kind \"chatbot\" is not one of product, model, platform",
                "model \"文心一言\": vendor \"Baidoo\" is not declared (declare vendors before models)",
                "model \"文心一言\": parameters value \"很多\" cannot be read",
                "fact \"GPT-9\".parameters: model GPT-9 is not declared",
                "vendor 百度: chip \"昆仑芯\" has no [[term]] of this vendor",
                "model 文心一言: alias \"baidu\" already names vendor 百度",
            ]
        );
    }

    #[test]
    fn unknown_keys_are_rejected() {
        let text = "[document]\nname = \"n\"\nobserved_at = \"2023-4-1\"\n[[vendor]]\nname = \"x\"\ncolour = 1\n";
        assert!(matches!(parse_seed(text), Err(SeedError::Toml(_))));
    }
}
