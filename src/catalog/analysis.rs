//! `analyse`: what a new snapshot's text says about the catalog.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::matcher::{Matcher, Mention};
use super::model::{Attribute, EntityKind, EntityRef};
use super::rules::compare::comparison_targets;
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

/// A version of a known family that the catalog lacks (`Qwen2.5-72B` when
/// only `Qwen` is known): the store creates it as a provisional model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewVersion {
    /// The name as the text spells it.
    pub name: String,
    pub key: String,
    /// The family's model (the new model's `family`).
    pub family: EntityRef,
    /// The version part (`2.5-72B`).
    pub version: String,
    pub count: u32,
    /// The first sentence it appears in (its first evidence).
    pub sentence: String,
}

/// Everything one text says: mentions, proposed facts, candidates.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analysis {
    pub mentions: Vec<MentionCount>,
    pub proposed_facts: Vec<ProposedFact>,
    pub candidates: Vec<CandidateSighting>,
    pub new_versions: Vec<NewVersion>,
}

impl Analysis {
    /// How many mentions the text makes (known entities and new versions),
    /// what the digest ranks a change by.
    pub fn hits(&self) -> u32 {
        self.mentions.iter().map(|m| m.direct).sum()
    }
}

/// The normalised key of a candidate name: case and spacing folded.
pub fn candidate_key(name: &str) -> String {
    name.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect()
}

/// A model named in a sentence: a known entity or a new version.
struct Named<'a> {
    mention: &'a Mention,
    entity: EntityRef,
}

/// Analyses a snapshot's normalised text. Pure: the runner stores the result.
pub fn analyse(matcher: &Matcher, text: &str) -> Analysis {
    let mentions = matcher.find(text);
    let mut counts: BTreeMap<usize, (u32, u32, String)> = BTreeMap::new();
    let mut facts: Vec<ProposedFact> = Vec::new();
    let mut seen = HashSet::new();
    let mut candidates: BTreeMap<String, CandidateSighting> = BTreeMap::new();
    let mut versions: BTreeMap<String, NewVersion> = BTreeMap::new();
    let mut cursor = 0;
    for sentence in sentences(text) {
        while cursor < mentions.len() && mentions[cursor].end <= sentence.start {
            cursor += 1;
        }
        let in_sentence: Vec<Mention> = mentions[cursor..]
            .iter()
            .take_while(|m| m.start < sentence.end)
            .map(|m| m.rebased(sentence.start))
            .collect();
        let s = text.get(sentence.clone()).unwrap_or_default();
        let quote = || evidence(text, &sentence, &sentence);
        let mut named: Vec<Named<'_>> = Vec::new();
        for m in &in_sentence {
            let vendor = matcher.vendor_of(m.entity);
            let family = if m.new_version { None } else { matcher.family_of(m.entity) };
            for (idx, direct) in [(Some(m.entity), 1), (family, 1), (vendor, 0)] {
                let Some(idx) = idx else { continue };
                let e = counts.entry(idx).or_insert_with(|| (0, 0, quote()));
                e.0 += 1;
                e.1 += direct;
            }
            let Some(entity) = matcher.entity(m.entity) else { continue };
            if entity.kind != EntityKind::Model {
                continue;
            }
            if m.new_version {
                let name = s.get(m.start..m.end).unwrap_or_default().to_owned();
                let key = candidate_key(&name);
                let version = new_version_string(matcher, m, s);
                versions
                    .entry(key.clone())
                    .or_insert_with(|| NewVersion {
                        name: name.clone(),
                        key,
                        family: entity.clone(),
                        version,
                        count: 0,
                        sentence: quote(),
                    })
                    .count += 1;
                named.push(Named { mention: m, entity: EntityRef::model(name) });
            } else {
                named.push(Named { mention: m, entity: entity.clone() });
            }
        }
        if !named.is_empty() {
            propose(matcher, s, &named, (&mut facts, &mut seen), quote);
        }
        for hit in matcher.rules.candidates.find(matcher, s, &in_sentence) {
            if matcher.is_excluded(&hit.name) {
                continue;
            }
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
    Analysis {
        mentions,
        proposed_facts: facts,
        candidates: candidates.into_values().collect(),
        new_versions: versions.into_values().collect(),
    }
}

/// The version part of a new version's name: the suffix after the family's
/// alias (`2.5-72B`), or after a known version's (`4` + ` Turbo`).
fn new_version_string(matcher: &Matcher, m: &Mention, s: &str) -> String {
    let suffix = s.get(m.alias_end..m.end).unwrap_or_default();
    let base = s.get(m.start..m.alias_end).unwrap_or_default();
    let known_version = matcher
        .entities()
        .iter()
        .position(|e| e.kind == EntityKind::Model && base.eq_ignore_ascii_case(&e.name))
        .and_then(|i| matcher.version_of(i));
    match known_version {
        Some(v) => format!("{v}{suffix}"),
        None => suffix.trim_start_matches(['-', '_', ' ']).to_owned(),
    }
}

type Found = (std::ops::Range<usize>, Attribute, FactValue, &'static str, f32);

/// Reads parameter and release-date figures from one sentence and ties
/// each to the subject of the statement: the models released after the
/// verb, else the nearest model that is not a comparison target.
fn propose(
    matcher: &Matcher,
    s: &str,
    named: &[Named<'_>],
    (facts, seen): (&mut Vec<ProposedFact>, &mut HashSet<(EntityRef, Attribute, String)>),
    quote: impl Fn() -> String,
) {
    let mut found: Vec<Found> = Vec::new();
    let params = mentions_parameters(s);
    if params {
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
    let release = mentions_release(s);
    if release {
        for hit in matcher.rules.dates.find(s) {
            let confidence = match hit.date.precision {
                super::value::DatePrecision::Day => 0.7,
                _ => 0.6,
            };
            found.push((hit.span, Attribute::ReleaseDate, FactValue::Date(hit.date), "rule:release_date", confidence));
        }
    }
    // `类ChatGPT产品` / `商汤版ChatGPT` / `性能逼近GPT-4`: a comparison, not
    // the subject.
    let spans: Vec<std::ops::Range<usize>> = named.iter().map(|n| n.mention.start..n.mention.end).collect();
    let compared = comparison_targets(s, &spans);
    let subjects: Vec<&Mention> = named
        .iter()
        .zip(&compared)
        .filter(|(n, c)| !**c && !matches!(char_before(s, n.mention.start), Some('类' | '版')))
        .map(|(n, _)| n.mention)
        .collect();
    // A size in the name of a released or sized model (`开源Qwen2-72B`).
    let mut sized: Vec<(&Mention, Found)> = Vec::new();
    if params || release {
        for m in &subjects {
            if let Some((span, value)) = name_size(matcher, s, m)
                && !found.iter().any(|f| f.1 == Attribute::Parameters && f.0.start >= m.end && f.0.start - m.end < 12)
            {
                sized.push((m, (span, Attribute::Parameters, FactValue::Parameters(value), "rule:name_size", 0.7)));
            }
        }
    }
    let entity_of = |m: &Mention| named.iter().find(|n| std::ptr::eq(n.mention, m)).map(|n| n.entity.clone());
    let mut push = |target: &Mention, (span, attribute, value, extractor, confidence): &Found| {
        let Some(entity) = entity_of(target) else { return };
        if !seen.insert((entity.clone(), *attribute, value.key())) {
            return;
        }
        facts.push(ProposedFact {
            entity,
            attribute: *attribute,
            raw: s.get(span.clone()).unwrap_or_default().trim().to_owned(),
            value: value.clone(),
            sentence: quote(),
            extractor: (*extractor).to_owned(),
            confidence: *confidence,
        });
    };
    for f in &found {
        let targets = if f.1 == Attribute::ReleaseDate { released_after_verb(s, &subjects) } else { Vec::new() };
        let targets = if targets.is_empty() { nearest(&subjects, &f.0).into_iter().collect() } else { targets };
        for target in targets {
            push(target, f);
        }
    }
    for (m, f) in &sized {
        push(m, f);
    }
}

/// The size a model's name carries (`Qwen2-72B` → 72B, `Mixtral 8x7B`).
fn name_size(matcher: &Matcher, s: &str, m: &Mention) -> Option<(std::ops::Range<usize>, super::value::ParamCount)> {
    let name = s.get(m.start..m.end)?;
    let cut = name.rfind(['-', '_', ' ']).map_or(0, |i| i + 1);
    let tail = name.get(cut..)?;
    if !tail.ends_with(['B', 'b', 'T', 't', 'M', 'm']) || !tail.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let found = matcher.rules.params.find(tail);
    let [hit] = found.as_slice() else { return None };
    (hit.span == (0..tail.len())).then(|| (m.start + cut..m.end, hit.value.clone()))
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
