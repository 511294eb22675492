//! `analyse`: what a new snapshot's text says about the catalog.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use super::matcher::Matcher;
use super::mention::Mention;
use super::model::{Attribute, EntityKind, EntityRef};
use super::rules::compare::comparison_targets;
use super::sentence_words::{List, SentenceWords};
use super::text::{char_before, evidence, sentences};
use super::value::{FactValue, ParamCount};

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
    /// The known entity's index (none for a new version).
    idx: Option<usize>,
    /// The family's index, for a version.
    family: Option<usize>,
}

/// Analyses a snapshot's normalised text. Pure: the runner stores the result.
pub fn analyse(matcher: &Matcher, text: &str) -> Analysis {
    let (mentions, word_hits) = matcher.find_with_words(text);
    let mut next_word = 0;
    let mut counts: BTreeMap<usize, (u32, u32, String)> = BTreeMap::new();
    let mut facts: Vec<ProposedFact> = Vec::new();
    let mut seen = HashSet::new();
    let mut candidates: BTreeMap<String, CandidateSighting> = BTreeMap::new();
    let mut versions: BTreeMap<String, NewVersion> = BTreeMap::new();
    let mut previous: Option<EntityRef> = None;
    let mut cursor = 0;
    // One buffer for every sentence's mentions, not a vector each.
    let mut in_sentence: Vec<Mention> = Vec::new();
    for sentence in sentences(text) {
        while cursor < mentions.len() && mentions[cursor].end <= sentence.start {
            cursor += 1;
        }
        in_sentence.clear();
        in_sentence.extend(
            mentions[cursor..].iter().take_while(|m| m.start < sentence.end).map(|m| m.rebased(sentence.start)),
        );
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
                named.push(Named { mention: m, entity: EntityRef::model(name), idx: None, family: Some(m.entity) });
            } else {
                let family = matcher.family_of(m.entity);
                named.push(Named { mention: m, entity: entity.clone(), idx: Some(m.entity), family });
            }
        }
        let words = SentenceWords::in_sentence(&word_hits, &mut next_word, &sentence);
        previous = propose(matcher, s, &words, &named, previous.take(), (&mut facts, &mut seen), quote);
        for hit in matcher.rules.candidates.find_in(matcher, s, &in_sentence, &words) {
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
    let known_version = matcher.model_named(base).and_then(|i| matcher.version_of(i));
    match known_version {
        Some(v) => format!("{v}{suffix}"),
        None => suffix.trim_start_matches(['-', '_', ' ']).to_owned(),
    }
}

type Found = (std::ops::Range<usize>, Attribute, FactValue, &'static str, f32);

/// Words before a figure that make it the active part of a mixture of
/// experts (激活参数320亿, 只用到约129亿), not the model's size.
const ACTIVE_BEFORE: &[&str] = &["激活", "只用", "只使用", "仅用", "仅激活", "每个token", "每token", "推理时"];
/// …and after it (12.9B per token, 13 billion are active).
const ACTIVE_AFTER: &[&str] = &["active", "activated", "per token", "per-token"];
/// What joins the figures of a size list (7B/13B/70B, 0.5B到72B).
const LIST_JOINERS: &[&str] =
    &[",", "，", "、", "/", "and", "or", "和", "或", "到", "至", "to", "-", "~", "～", ", and"];
/// A family named as a series has no one size (Qwen系列首个千亿级参数的模型).
const SERIES: &[&str] = &["系列", "家族", " series", " family"];

fn clause_before(s: &str, at: usize) -> &str {
    let before = s.get(..at).unwrap_or_default();
    let from = before.rfind(['，', ',', '；', ';', '。', '：', ':']).map_or(0, |i| i + 1);
    let from = (from..=at).find(|i| before.is_char_boundary(*i)).unwrap_or(at);
    before.get(from..).unwrap_or_default()
}

/// The parameter figures of a sentence that state a model's size: not
/// inside a name, not an active count, not one of a list of sizes.
fn size_figures(
    s: &str,
    hits: Vec<super::rules::ParamHit>,
    names: &[std::ops::Range<usize>],
) -> Vec<super::rules::ParamHit> {
    let mut hits: Vec<_> =
        hits.into_iter().filter(|h| !names.iter().any(|n| n.start < h.span.end && h.span.start < n.end)).collect();
    let mut listed = vec![false; hits.len()];
    for i in 1..hits.len() {
        let (Some(a), Some(b)) = (hits.get(i - 1), hits.get(i)) else { continue };
        let gap = s.get(a.span.end..b.span.start).unwrap_or_default().trim().to_ascii_lowercase();
        if LIST_JOINERS.contains(&gap.as_str()) {
            listed[i - 1] = true;
            listed[i] = true;
        }
    }
    let ends: Vec<usize> = hits.iter().skip(1).map(|h| h.span.start).chain([s.len()]).collect();
    let mut keep = Vec::new();
    for ((h, listed), next) in hits.drain(..).zip(listed).zip(ends) {
        let before = clause_before(s, h.span.start);
        let window_start = before.char_indices().rev().nth(11).map_or(0, |(i, _)| i);
        let near = before.get(window_start..).unwrap_or_default();
        let after = s.get(h.span.end..next.max(h.span.end)).unwrap_or_default();
        let after = after.split(['，', ',', '；', ';', '。']).next().unwrap_or_default().to_ascii_lowercase();
        let active = ACTIVE_BEFORE.iter().any(|w| near.contains(w)) || ACTIVE_AFTER.iter().any(|w| after.contains(w));
        if !listed && !active {
            keep.push(h);
        }
    }
    keep
}

/// Reads parameter and release-date figures from one sentence and ties
/// each to the subject of the statement: the models released after the
/// verb, else the nearest model that is not a comparison target; a size
/// statement without a model (`It has 236B parameters`) is about the
/// previous sentence's subject. Returns this sentence's subject.
fn propose(
    matcher: &Matcher,
    s: &str,
    words: &SentenceWords,
    named: &[Named<'_>],
    previous: Option<EntityRef>,
    (facts, seen): (&mut Vec<ProposedFact>, &mut HashSet<(EntityRef, Attribute, String)>),
    quote: impl Fn() -> String,
) -> Option<EntityRef> {
    let spans: Vec<std::ops::Range<usize>> = named.iter().map(|n| n.mention.start..n.mention.end).collect();
    let mut found: Vec<Found> = Vec::new();
    if words.has(List::Parameters) {
        for hit in size_figures(s, matcher.rules.params.find(s), &spans) {
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
    if words.has(List::Release) {
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
    let compared = comparison_targets(s, &spans);
    let subjects: Vec<&Named<'_>> = named
        .iter()
        .zip(&compared)
        .filter(|(n, c)| {
            // 类ChatGPT, 商汤版ChatGPT; but 轻量版GLM-4.5-Air is a version.
            let like = match char_before(s, n.mention.start) {
                Some('类') => true,
                Some('版') => n.family.is_none(),
                _ => false,
            };
            !**c && !like
        })
        .map(|(n, _)| n)
        .collect();
    let sized: Vec<&Named<'_>> = subjects
        .iter()
        .copied()
        .filter(|n| !SERIES.iter().any(|w| s.get(n.mention.end..).is_some_and(|a| a.starts_with(w))))
        .collect();
    let mut push = |entity: &EntityRef, (span, attribute, value, extractor, confidence): &Found| {
        if !seen.insert((entity.clone(), *attribute, value.key())) {
            return;
        }
        facts.push(ProposedFact {
            entity: entity.clone(),
            attribute: *attribute,
            raw: s.get(span.clone()).unwrap_or_default().trim().to_owned(),
            value: value.clone(),
            sentence: quote(),
            extractor: (*extractor).to_owned(),
            confidence: *confidence,
        });
    };
    // A size in a subject's name (`Qwen2-72B` → 72B).
    let mut name_sizes: Vec<(&EntityRef, ParamCount)> = Vec::new();
    for n in &subjects {
        if let Some((span, value)) = name_size(matcher, s, n.mention) {
            push(
                &n.entity,
                &(span, Attribute::Parameters, FactValue::Parameters(value.clone()), "rule:name_size", 0.7),
            );
            name_sizes.push((&n.entity, value));
        }
    }
    for f in &found {
        let targets: Vec<EntityRef> = match f.1 {
            Attribute::ReleaseDate => {
                let mut t = released(matcher, s, &f.0, &subjects);
                if t.is_empty() {
                    t.extend(nearest(&subjects, &f.0));
                }
                t.into_iter().map(|n| n.entity.clone()).collect()
            }
            _ => match nearest(&sized, &f.0) {
                Some(n) => vec![n.entity.clone()],
                None if sized.is_empty() && anaphoric(s) => previous.clone().into_iter().collect(),
                None => Vec::new(),
            },
        };
        for target in targets {
            // A magnitude (千亿级) next to an exact size in the name says less.
            let FactValue::Parameters(value) = &f.2 else {
                push(&target, f);
                continue;
            };
            let covered = name_sizes.iter().any(|(e, size)| **e == target && range_holds(value, size));
            if !covered {
                push(&target, f);
            }
        }
    }
    subjects.first().map(|n| n.entity.clone())
}

/// A sentence about the previous one's subject: `It has…`, `The model…`,
/// `该模型…`, or a bullet under a heading (`- 24B parameters`).
fn anaphoric(s: &str) -> bool {
    let t = s.trim_start();
    let lower = t.to_ascii_lowercase();
    t.starts_with(['-', '*', '•'])
        || ["it ", "it's", "its ", "the ", "this model", "该", "其", "它", "这款", "这一模型"]
            .iter()
            .any(|w| lower.starts_with(w))
}

/// Does a range figure contain an exact size?
fn range_holds(range: &ParamCount, size: &ParamCount) -> bool {
    match (range, size) {
        (ParamCount::Range { min, max }, ParamCount::Exact { value }) => {
            value >= min && max.is_none_or(|max| *value <= max)
        }
        _ => false,
    }
}

/// The size a model's name carries: its first size segment (`Qwen2-72B`
/// → 72B, `GLM-4-9B-Chat-1M` → 9B, `Qwen3-235B-A22B` → 235B). A mixture
/// (`8x7B`) has no one size, and `M` is a context length (`-1M`).
fn name_size(matcher: &Matcher, s: &str, m: &Mention) -> Option<(std::ops::Range<usize>, ParamCount)> {
    let name = s.get(m.start..m.end)?;
    let mut offset = 0;
    for seg in name.split(['-', '_', ' ']) {
        let start = offset;
        offset += seg.len() + 1;
        // `Qwen2.5-72B`'s `72B`, or glued to the family (`Yi34B` is rare: a segment only).
        let digits = seg.trim_start_matches(|c: char| c.is_ascii_alphabetic());
        if digits.len() != seg.len() || !seg.ends_with(['B', 'b', 'T', 't']) || seg.contains(['x', 'X']) {
            continue;
        }
        let found = matcher.rules.params.find(seg);
        if let [hit] = found.as_slice()
            && hit.span == (0..seg.len())
        {
            return Some((m.start + start..m.start + start + seg.len(), hit.value.clone()));
        }
    }
    None
}

/// What a dated release statement released: the subjects right after the
/// release verb that governs the date (the first one at or after it, else
/// the sentence's first), the first one and those joined to it by 、/和/and.
fn released<'n, 'a>(
    matcher: &Matcher,
    s: &str,
    date: &std::ops::Range<usize>,
    subjects: &[&'n Named<'a>],
) -> Vec<&'n Named<'a>> {
    let verbs = &matcher.rules.dates;
    let verb_end = verbs
        .release_verb_end(s.get(date.start..).unwrap_or_default())
        .map(|e| date.start + e)
        .or_else(|| verbs.release_verb_end(s));
    let Some(verb_end) = verb_end else { return Vec::new() };
    let clause_end = s
        .get(verb_end..)
        .and_then(|rest| rest.find(['，', ',', '；', ';', '。', '(', '（']).map(|i| verb_end + i))
        .unwrap_or(s.len());
    let mut out: Vec<&Named<'_>> = Vec::new();
    for n in subjects.iter().copied().filter(|n| n.mention.start >= verb_end && n.mention.end <= clause_end) {
        if let Some(last) = out.last() {
            let gap = s.get(last.mention.end..n.mention.start).unwrap_or_default().trim().to_ascii_lowercase();
            if !["、", "和", "与", "及", "以及", "and", ",", "，", "", "/"].contains(&gap.as_str()) {
                break;
            }
        }
        out.push(n);
    }
    // A version's date is the version's, not its family's: 发布通义千问新一代
    // 开源模型Qwen2.5 released Qwen2.5.
    let in_clause: Vec<&Named<'_>> =
        subjects.iter().copied().filter(|n| n.mention.start >= verb_end && n.mention.end <= clause_end).collect();
    for slot in &mut out {
        if let Some(version) = in_clause.iter().find(|v| slot.idx.is_some() && v.family == slot.idx) {
            *slot = version;
        }
    }
    let versions: Vec<Option<usize>> = out.iter().map(|n| n.family).collect();
    out.retain(|n| n.idx.is_none_or(|i| !versions.contains(&Some(i))));
    out
}

/// The subject closest to a figure (by character gap); on a tie the
/// earlier one, which is usually the subject.
fn nearest<'n, 'a>(subjects: &[&'n Named<'a>], span: &std::ops::Range<usize>) -> Option<&'n Named<'a>> {
    subjects.iter().copied().min_by_key(|n| {
        let m = n.mention;
        if m.end <= span.start { span.start - m.end } else { m.start.saturating_sub(span.end) }
    })
}
