//! The labelled evaluation: paragraphs with the mentions and facts a reader
//! finds in them (`tests/fixtures/catalog-eval/*.toml`), scored against the
//! real matcher and fact rules. Pure: the caller reads the files.
//!
//! Names compare case-insensitively ignoring spaces, `-`, `_` and `.`
//! (`Qwen2.5-72B` = `qwen 2.5 72b`). A predicted mention is a name the text
//! names directly (a known entity, its family, or a new version as
//! spelled); a vendor counted only through its model is not. A predicted
//! fact is (entity, attribute, value key).

use std::collections::{BTreeSet, HashSet};
use std::fmt;

use serde::Deserialize;

use super::analysis::analyse;
use super::matcher::Matcher;
use super::stoplist::normalise;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalFact {
    pub entity: String,
    pub attribute: String,
    pub value: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub style: String,
    pub lang: String,
    pub text: String,
    #[serde(default)]
    pub mentions: Vec<String>,
    #[serde(default)]
    pub facts: Vec<EvalFact>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    #[serde(default)]
    case: Vec<Case>,
}

/// Parses one evaluation file.
pub fn parse_cases(text: &str) -> Result<Vec<Case>, toml::de::Error> {
    Ok(toml::from_str::<CaseFile>(text)?.case)
}

/// One case's differences from its labels.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseMisses {
    pub id: String,
    /// Labelled but not found.
    pub missed: Vec<String>,
    /// Found but not labelled.
    pub extra: Vec<String>,
    /// Facts found that the labels do not hold (`entity attribute=value`).
    pub wrong_facts: Vec<String>,
    /// Labelled facts not found.
    pub missed_facts: Vec<String>,
}

/// The scores over a set of cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Report {
    pub cases: usize,
    pub labelled: usize,
    pub predicted: usize,
    pub correct: usize,
    pub facts_labelled: usize,
    pub facts_predicted: usize,
    pub facts_correct: usize,
    pub misses: Vec<CaseMisses>,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 1.0 } else { num as f64 / den as f64 }
}

impl Report {
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.predicted)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.correct, self.labelled)
    }

    pub fn fact_precision(&self) -> f64 {
        ratio(self.facts_correct, self.facts_predicted)
    }

    pub fn fact_recall(&self) -> f64 {
        ratio(self.facts_correct, self.facts_labelled)
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for m in &self.misses {
            writeln!(f, "{}:", m.id)?;
            for (what, list) in [
                ("missed", &m.missed),
                ("extra", &m.extra),
                ("wrong fact", &m.wrong_facts),
                ("missed fact", &m.missed_facts),
            ] {
                for x in list {
                    writeln!(f, "    {what}: {x}")?;
                }
            }
        }
        writeln!(
            f,
            "cases {}: mentions precision {:.3} ({}/{}) recall {:.3} ({}/{}); facts precision {:.3} ({}/{}) recall {:.3} ({}/{})",
            self.cases,
            self.precision(),
            self.correct,
            self.predicted,
            self.recall(),
            self.correct,
            self.labelled,
            self.fact_precision(),
            self.facts_correct,
            self.facts_predicted,
            self.fact_recall(),
            self.facts_correct,
            self.facts_labelled
        )
    }
}

/// A comparison key with the form shown in messages.
pub type Keyed = (String, String);

/// What the matcher and the fact rules find in one text: normalised
/// mention names (with the spelled form for messages) and facts.
pub fn predict(matcher: &Matcher, text: &str) -> (Vec<Keyed>, Vec<Keyed>) {
    let a = analyse(matcher, text);
    let mut mentions: Vec<Keyed> = Vec::new();
    let mut seen = HashSet::new();
    let names = a
        .mentions
        .iter()
        .filter(|m| m.direct > 0)
        .map(|m| m.entity.name.clone())
        .chain(a.new_versions.iter().map(|v| v.name.clone()));
    for n in names {
        if seen.insert(normalise(&n)) {
            mentions.push((normalise(&n), n));
        }
    }
    let facts = a
        .proposed_facts
        .iter()
        .map(|f| {
            let key = format!("{}|{}|{}", normalise(&f.entity.name), f.attribute, f.value.key());
            (key, format!("{} {}={}", f.entity.name, f.attribute, f.value.key()))
        })
        .collect();
    (mentions, facts)
}

/// Scores `cases` (micro-averaged over all of them).
pub fn evaluate(matcher: &Matcher, cases: &[Case]) -> Report {
    let mut r = Report { cases: cases.len(), ..Report::default() };
    for c in cases {
        let (found, facts) = predict(matcher, &c.text);
        let labels: BTreeSet<String> = c.mentions.iter().map(|m| normalise(m)).collect();
        let found_keys: BTreeSet<String> = found.iter().map(|(k, _)| k.clone()).collect();
        let mut misses = CaseMisses { id: c.id.clone(), ..CaseMisses::default() };
        r.labelled += labels.len();
        r.predicted += found_keys.len();
        r.correct += labels.intersection(&found_keys).count();
        for m in &c.mentions {
            if !found_keys.contains(&normalise(m)) && !misses.missed.contains(m) {
                misses.missed.push(m.clone());
            }
        }
        for (k, n) in &found {
            if !labels.contains(k) {
                misses.extra.push(n.clone());
            }
        }
        let fact_labels: BTreeSet<String> = c
            .facts
            .iter()
            .map(|f| format!("{}|{}|{}", normalise(&f.entity), f.attribute.trim(), f.value.trim()))
            .collect();
        let fact_keys: BTreeSet<String> = facts.iter().map(|(k, _)| k.clone()).collect();
        r.facts_labelled += fact_labels.len();
        r.facts_predicted += fact_keys.len();
        r.facts_correct += fact_labels.intersection(&fact_keys).count();
        for (k, shown) in &facts {
            if !fact_labels.contains(k) && !misses.wrong_facts.contains(shown) {
                misses.wrong_facts.push(shown.clone());
            }
        }
        for f in &c.facts {
            let k = format!("{}|{}|{}", normalise(&f.entity), f.attribute.trim(), f.value.trim());
            if !fact_keys.contains(&k) {
                misses.missed_facts.push(format!("{} {}={}", f.entity, f.attribute, f.value));
            }
        }
        if misses != (CaseMisses { id: c.id.clone(), ..CaseMisses::default() }) {
            r.misses.push(misses);
        }
    }
    r
}
