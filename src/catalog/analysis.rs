//! `analyse`: what a new snapshot's text says about the catalog.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::matcher::{Matcher, Mention};
use super::model::{Attribute, EntityKind, EntityRef};
use super::rules::{mentions_parameters, mentions_release, release_verb_end};
use super::text::{char_before, evidence, sentences};
use super::value::FactValue;

/// How often one entity is mentioned in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MentionCount {
    pub entity: EntityRef,
    /// Direct mentions plus, for a vendor, mentions of its models.
    pub count: u32,
    /// Mentions by one of the entity's own aliases.
    pub direct: u32,
    /// The first sentence it appears in.
    pub sentence: String,
}

/// A figure a rule read from a sentence, tied to the nearest model mention.
/// Always a proposal: article figures are never accepted automatically.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProposedFact {
    pub entity: EntityRef,
    pub attribute: Attribute,
    pub value: FactValue,
    /// The figure as written (`1750亿`, `2023年3月16日`).
    pub raw: String,
    /// The quoted sentence (the evidence).
    pub sentence: String,
    /// Which rule read it (`rule:parameters`, `rule:release_date`).
    pub extractor: String,
    pub confidence: f32,
}

/// A name that looks like a model but is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CandidateSighting {
    pub name: String,
    /// Normalised name, what candidates are unique on.
    pub key: String,
    pub count: u32,
    /// The first sentence it appears in.
    pub sentence: String,
}

/// Everything one text says: mentions, proposed facts, candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analysis {
    pub mentions: Vec<MentionCount>,
    pub proposed_facts: Vec<ProposedFact>,
    pub candidates: Vec<CandidateSighting>,
}

/// The normalised key of a candidate name: case and spacing folded.
pub fn candidate_key(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// Analyses a snapshot's normalised text. Pure: the runner stores the result.
pub fn analyse(matcher: &Matcher, text: &str) -> Analysis {
    let mentions = matcher.find(text);
    let mut counts: BTreeMap<usize, (u32, u32, String)> = BTreeMap::new();
    let mut facts: Vec<ProposedFact> = Vec::new();
    let mut seen = HashSet::new();
    let mut candidates: BTreeMap<String, CandidateSighting> = BTreeMap::new();
    let mut cursor = 0;
    for sentence in sentences(text) {
        while cursor < mentions.len() && mentions[cursor].end <= sentence.start {
            cursor += 1;
        }
        let in_sentence: Vec<Mention> = mentions[cursor..]
            .iter()
            .take_while(|m| m.start < sentence.end)
            .map(|m| Mention {
                entity: m.entity,
                start: m.start.saturating_sub(sentence.start),
                end: m.end.saturating_sub(sentence.start),
            })
            .collect();
        let s = text.get(sentence.clone()).unwrap_or_default();
        let quote = || evidence(text, &sentence, &sentence);
        for m in &in_sentence {
            let vendor = matcher.vendor_of(m.entity);
            for (idx, direct) in [(Some(m.entity), 1), (vendor, 0)] {
                let Some(idx) = idx else { continue };
                let e = counts.entry(idx).or_insert_with(|| (0, 0, quote()));
                e.0 += 1;
                e.1 += direct;
            }
        }
        let models: Vec<&Mention> = in_sentence
            .iter()
            .filter(|m| matcher.entity(m.entity).is_some_and(|e| e.kind == EntityKind::Model))
            .collect();
        if !models.is_empty() {
            propose(matcher, s, &models, (&mut facts, &mut seen), quote);
        }
        for hit in matcher.rules.candidates.find(matcher, s, &in_sentence) {
            let key = candidate_key(&hit.name);
            candidates
                .entry(key.clone())
                .or_insert_with(|| CandidateSighting { name: hit.name, key, count: 0, sentence: quote() })
                .count += 1;
        }
    }
    let mentions = counts
        .into_iter()
        .filter_map(|(idx, (count, direct, sentence))| {
            Some(MentionCount { entity: matcher.entity(idx)?.clone(), count, direct, sentence })
        })
        .collect();
    Analysis { mentions, proposed_facts: facts, candidates: candidates.into_values().collect() }
}

/// Reads parameter and release-date figures from one sentence and ties
/// each to the nearest model mention.
fn propose(
    matcher: &Matcher,
    s: &str,
    models: &[&Mention],
    (facts, seen): (&mut Vec<ProposedFact>, &mut HashSet<(usize, Attribute, String)>),
    quote: impl Fn() -> String,
) {
    let mut found: Vec<(std::ops::Range<usize>, Attribute, FactValue, &'static str, f32)> = Vec::new();
    if mentions_parameters(s) {
        for hit in matcher.rules.params.find(s) {
            let confidence = if hit.explicit { 0.8 } else { 0.6 };
            found.push((
                hit.span,
                Attribute::Parameters,
                FactValue::Parameters(hit.value),
                "rule:parameters",
                confidence,
            ));
        }
    }
    if mentions_release(s) {
        for hit in matcher.rules.dates.find(s) {
            let confidence = match hit.date.precision {
                super::value::DatePrecision::Day => 0.7,
                _ => 0.6,
            };
            found.push((hit.span, Attribute::ReleaseDate, FactValue::Date(hit.date), "rule:release_date", confidence));
        }
    }
    // `类ChatGPT产品` / `商汤版ChatGPT`: a comparison, not the subject.
    let subjects: Vec<&Mention> =
        models.iter().copied().filter(|m| !matches!(char_before(s, m.start), Some('类' | '版'))).collect();
    for (span, attribute, value, extractor, confidence) in found {
        let targets = if attribute == Attribute::ReleaseDate { released_after_verb(s, &subjects) } else { Vec::new() };
        let targets = if targets.is_empty() { nearest(&subjects, &span).into_iter().collect() } else { targets };
        for target in targets {
            let Some(entity) = matcher.entity(target.entity) else {
                continue;
            };
            if !seen.insert((target.entity, attribute, value.key())) {
                continue;
            }
            facts.push(ProposedFact {
                entity: entity.clone(),
                attribute,
                raw: s.get(span.clone()).unwrap_or_default().trim().to_owned(),
                value: value.clone(),
                sentence: quote(),
                extractor: extractor.to_owned(),
                confidence,
            });
        }
    }
}

/// The model mention closest to a figure (by character gap); on a tie the
/// earlier one, which is usually the subject.
fn nearest<'a>(models: &[&'a Mention], span: &std::ops::Range<usize>) -> Option<&'a Mention> {
    models
        .iter()
        .copied()
        .min_by_key(|m| if m.end <= span.start { span.start - m.end } else { m.start.saturating_sub(span.end) })
}

/// `发布 A、B、C三项服务`: every model named after the release verb, up to
/// the end of that clause, is what was released.
fn released_after_verb<'a>(s: &str, models: &[&'a Mention]) -> Vec<&'a Mention> {
    let Some(verb_end) = release_verb_end(s) else {
        return Vec::new();
    };
    let clause_end = s
        .get(verb_end..)
        .and_then(|rest| rest.find(['，', ',', '；', ';', '。']).map(|i| verb_end + i))
        .unwrap_or(s.len());
    models.iter().copied().filter(|m| m.start >= verb_end && m.end <= clause_end).collect()
}
