//! The mention matcher: every alias of every entity in one Aho-Corasick
//! automaton.
//!
//! Latin aliases match case-insensitively and only on word boundaries
//! (`Qwen` in `Qwen-7B` and `Qwen2.5`, not in `Qwenling`; `GPT-4` not in
//! `GPT-4o` or `GPT-40`); CJK aliases match exactly, since Chinese has no
//! spaces to be a boundary. Overlaps resolve to the longest match
//! (通义千问 over 通义, 商量·大医 over 商量).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use daachorse::{CharwiseDoubleArrayAhoCorasick, CharwiseDoubleArrayAhoCorasickBuilder, MatchKind};

use super::mention::Known;
pub use super::mention::Mention;
use super::model::{Catalog, EntityKind, EntityRef};
use super::rules::{Rules, WORD_LISTS};
use super::sentence_words::{List, WordHit};
use super::stoplist::{StopList, normalise};
use super::text::{char_at, char_before, last_end_mark, lowercase, lowercase_folded, next_end_mark};
use super::version::{self, Base};

#[derive(Debug, thiserror::Error)]
pub enum MatcherError {
    /// daachorse's error (its Display; it implements no `Error`).
    #[error("could not build the alias automaton: {0}")]
    Automaton(String),
    #[error("could not compile a fact rule")]
    Rule(#[source] super::rules::RuleError),
}

struct Pattern {
    entity: usize,
    text: String,
    case_sensitive: bool,
    ambiguous: bool,
}

/// A catalog compiled for matching; built once per catalog version.
pub struct Matcher {
    /// The aliases and the rules' words ([`WORD_LISTS`]) with ASCII
    /// lower-cased, each spelling once; its value indexes `spellings`.
    automaton: Option<CharwiseDoubleArrayAhoCorasick<u32>>,
    /// Per spelling of the automaton, the patterns spelled so (ASCII case
    /// folded), in pattern order.
    spellings: Vec<Vec<usize>>,
    /// Per spelling, the words of the rules' lists spelled so: (list, the
    /// word's index in it, the word when its case must match).
    words: Vec<Vec<(List, usize, Option<&'static str>)>>,
    patterns: Vec<Pattern>,
    entities: Vec<EntityRef>,
    /// For a model, the index of its vendor (a model mention counts its vendor).
    vendor_of: Vec<Option<usize>>,
    /// For a version (`GPT-4`), its family's model (`GPT`): a version's
    /// mention counts for the family too.
    family_of: Vec<Option<usize>>,
    /// A model's version (`4` of GPT-4), if it is one (takes sizes and
    /// variants only).
    version_of: Vec<Option<String>>,
    /// Normalised aliases → entity, so `Llama 3.1 405B` finds `Llama-3.1-405B`.
    normalised: HashMap<String, usize>,
    /// Normalised names a reviewer rejected: never a new version or candidate.
    rejected: HashSet<String>,
    stop: StopList,
    /// Lower-cased aliases and other known terms (chips, frameworks):
    /// never reported as unknown-model candidates.
    known_terms: HashSet<String>,
    /// Model names, ASCII-lower-cased → index (the first of equal ones).
    model_names: HashMap<String, usize>,
    /// Each vendor's aliases, lower-cased (is its name in a sentence?).
    vendor_aliases: HashMap<usize, Vec<String>>,
    /// Shared by every matcher of the process ([`Rules::shared`]).
    pub(crate) rules: Arc<Rules>,
}

impl Matcher {
    /// A matcher with the shipped stop list (tests, benches, tools).
    pub fn new(catalog: &Catalog) -> Result<Self, MatcherError> {
        Self::with_stoplist(catalog, StopList::shipped())
    }

    pub fn with_stoplist(catalog: &Catalog, stop: StopList) -> Result<Self, MatcherError> {
        let mut entities = Vec::new();
        let mut vendor_of = Vec::new();
        let mut patterns = Vec::new();
        let mut known_terms = HashSet::new();
        for v in &catalog.vendors {
            let idx = entities.len();
            entities.push(EntityRef::vendor(&v.name));
            vendor_of.push(None);
            for a in &v.aliases {
                patterns.push(Pattern {
                    entity: idx,
                    text: a.text.clone(),
                    case_sensitive: a.case_sensitive,
                    ambiguous: a.ambiguous,
                });
            }
        }
        for m in &catalog.models {
            let idx = entities.len();
            entities.push(EntityRef::model(&m.name));
            vendor_of.push(m.vendor.as_ref().and_then(|vn| catalog.vendors.iter().position(|v| &v.name == vn)));
            for a in &m.aliases {
                patterns.push(Pattern {
                    entity: idx,
                    text: a.text.clone(),
                    case_sensitive: a.case_sensitive,
                    ambiguous: a.ambiguous,
                });
            }
        }
        patterns.retain(|p| !p.text.trim().is_empty());
        let mut normalised = HashMap::new();
        let mut vendor_aliases: HashMap<usize, Vec<String>> = HashMap::new();
        for p in patterns.iter().filter(|p| entities.get(p.entity).is_some_and(|e| e.kind == EntityKind::Vendor)) {
            vendor_aliases.entry(p.entity).or_default().push(p.text.to_lowercase());
        }
        for p in &patterns {
            known_terms.insert(p.text.to_lowercase());
            normalised.entry(normalise(&p.text)).or_insert(p.entity);
        }
        let (family_of, version_of) = families(catalog, vendor_of.len() - catalog.models.len());
        let mut model_names = HashMap::new();
        for (i, e) in entities.iter().enumerate() {
            known_terms.insert(e.name.to_lowercase());
            if e.kind == EntityKind::Model {
                model_names.entry(e.name.to_ascii_lowercase()).or_insert(i);
            }
        }
        for t in &catalog.terms {
            known_terms.insert(t.name.to_lowercase());
            known_terms.extend(t.aliases.iter().map(|a| a.to_lowercase()));
        }
        for f in &catalog.facts {
            use super::model::Attribute::{Chip, Framework};
            if matches!(f.attribute, Chip | Framework) {
                known_terms.insert(f.value.key().to_lowercase());
            }
        }
        // A double-array automaton stepping a character at a time: on
        // Chinese text a third of the steps of a byte automaton, and a
        // step is one array look-up, where the contiguous NFA searched a
        // state's transitions and followed failure links (1.75 M
        // instructions a bench page of the 2.3 M of `find`). Only ASCII
        // case is folded, as `ascii_case_insensitive` did: the aliases
        // and the text are searched lower-cased in ASCII (same length,
        // same offsets), and aliases that differ only in ASCII case share
        // one spelling.
        //
        // The rules' word lists ride along: `analyse` asks every sentence
        // which of them it holds, and a scan of each sentence of its own
        // cost more than these few dozen more spellings in the one scan of
        // the text.
        let mut folded: Vec<String> = Vec::new();
        let mut spellings: Vec<Vec<usize>> = Vec::new();
        let mut words: Vec<Vec<(List, usize, Option<&'static str>)>> = Vec::new();
        let mut spelled: HashMap<String, usize> = HashMap::new();
        let mut spelling = |text: String| {
            *spelled.entry(text).or_insert_with_key(|text| {
                folded.push(text.clone());
                spellings.push(Vec::new());
                words.push(Vec::new());
                folded.len() - 1
            })
        };
        let mut alias_spellings = Vec::with_capacity(patterns.len());
        for p in &patterns {
            alias_spellings.push(spelling(p.text.to_ascii_lowercase()));
        }
        let mut word_spellings = Vec::new();
        for l in &WORD_LISTS {
            for (i, w) in l.words.iter().enumerate() {
                word_spellings.push((spelling(w.to_ascii_lowercase()), (l.list, i, (!l.fold).then_some(*w))));
            }
        }
        for (i, at) in alias_spellings.into_iter().enumerate() {
            spellings[at].push(i);
        }
        for (at, word) in word_spellings {
            words[at].push(word);
        }
        let automaton = if folded.is_empty() {
            None
        } else {
            let values = (0u32..).zip(&folded).map(|(at, text)| (text.as_str(), at));
            Some(
                CharwiseDoubleArrayAhoCorasickBuilder::new()
                    .match_kind(MatchKind::Standard)
                    .build_with_values(values)
                    .map_err(|e| MatcherError::Automaton(e.to_string()))?,
            )
        };
        Ok(Matcher {
            automaton,
            spellings,
            words,
            patterns,
            entities,
            vendor_of,
            family_of,
            version_of,
            normalised,
            rejected: catalog.rejected.iter().map(|n| normalise(n)).collect(),
            stop,
            known_terms,
            vendor_aliases,
            model_names,
            rules: Rules::shared().map_err(MatcherError::Rule)?,
        })
    }

    pub fn entities(&self) -> &[EntityRef] {
        &self.entities
    }

    pub fn entity(&self, idx: usize) -> Option<&EntityRef> {
        self.entities.get(idx)
    }

    pub fn vendor_of(&self, idx: usize) -> Option<usize> {
        self.vendor_of.get(idx).copied().flatten()
    }

    /// For a version, its family's index.
    pub fn family_of(&self, idx: usize) -> Option<usize> {
        self.family_of.get(idx).copied().flatten()
    }

    /// The model named `name` (ASCII case folded).
    pub fn model_named(&self, name: &str) -> Option<usize> {
        self.model_names.get(&name.to_ascii_lowercase()).copied()
    }

    pub fn pattern_count(&self) -> usize {
        self.patterns.len()
    }

    pub(crate) fn is_known_term(&self, term: &str) -> bool {
        self.known_terms.contains(lowercase(term).as_ref())
    }

    /// A model's version string (`4` of GPT-4).
    pub fn version_of(&self, idx: usize) -> Option<&str> {
        self.version_of.get(idx).and_then(|v| v.as_deref())
    }

    /// Rejected by a reviewer or on the stop list: never a new entity.
    pub fn is_excluded(&self, name: &str) -> bool {
        self.rejected.contains(&normalise(name)) || self.stop.stops(name)
    }

    /// Every mention in `text`, left to right, non-overlapping, longest first.
    pub fn find(&self, text: &str) -> Vec<Mention> {
        self.scan(text, |_| {})
    }

    /// [`Self::find`], and every occurrence in `text` of every word of the
    /// rules' lists ([`WORD_LISTS`]), by end: what [`WordScan::scan`] of
    /// each sentence reports of the occurrences inside that sentence.
    ///
    /// [`WordScan::scan`]: super::sentence_words::WordScan::scan
    pub fn find_with_words(&self, text: &str) -> (Vec<Mention>, Vec<WordHit>) {
        let mut hits = Vec::new();
        let mentions = self.scan(text, |hit| hits.push(hit));
        (mentions, hits)
    }

    fn scan(&self, text: &str, mut word: impl FnMut(WordHit)) -> Vec<Mention> {
        let Some(ac) = &self.automaton else {
            return Vec::new();
        };
        let folded = text.to_ascii_lowercase();
        // Every occurrence of every spelling, by end; the patterns of one
        // spelling in pattern order (the order the byte automaton gave).
        let occurrences = ac.find_overlapping_iter(&folded).flat_map(|m| {
            let at = m.value() as usize;
            for &(list, index, exact) in self.words.get(at).map_or(&[][..], Vec::as_slice) {
                if exact.is_none_or(|w| text.as_bytes().get(m.start()..m.end()) == Some(w.as_bytes())) {
                    word(WordHit { list, index, span: m.start()..m.end() });
                }
            }
            let group = self.spellings.get(at).map_or(&[][..], Vec::as_slice);
            group.iter().map(move |&pattern| (pattern, m.start(), m.end()))
        });
        self.mentions(text, &folded, occurrences)
    }

    /// The mentions among the aliases' occurrences in `text` (pattern,
    /// start, end; by end); `folded` is `text` lower-cased in ASCII.
    fn mentions(
        &self,
        text: &str,
        folded: &str,
        occurrences: impl Iterator<Item = (usize, usize, usize)>,
    ) -> Vec<Mention> {
        let mut found: Vec<Mention> = Vec::new();
        let hidden = Hidden::new(hidden_spans(text));
        for (pattern, start, end) in occurrences {
            let Some(p) = self.patterns.get(pattern) else {
                continue;
            };
            // Inside a URL or code: a path or an identifier, not a mention.
            if hidden.overlaps(start, end) {
                continue;
            }
            if p.text.starts_with(|c: char| c.is_ascii_alphabetic()) && after_other_product(text, start) {
                continue;
            }
            if p.case_sensitive && text.get(start..end) != Some(p.text.as_str()) {
                continue;
            }
            if !on_boundaries(text, start, end, &p.text) {
                continue;
            }
            let mention = self.extend(text, Mention::known(p.entity, start, end));
            // A dotted version, a size or a variant makes an everyday word a
            // name (Gemini 1.5 Pro); a bare number does not (Falcon 9).
            if p.ambiguous && !self.named_here(text, folded, start, end, p.entity) {
                let suffix = text.get(end..mention.end).unwrap_or_default();
                if !suffix.contains(|c: char| c == '.' || c.is_ascii_alphabetic()) {
                    continue;
                }
            }
            found.push(mention);
        }
        // Leftmost, then longest; drop anything overlapping a kept match.
        found.sort_by_key(|m| (m.start, std::cmp::Reverse(m.end)));
        let mut kept: Vec<Mention> = Vec::with_capacity(found.len());
        for m in found {
            if kept.last().is_none_or(|k| m.start >= k.end) {
                kept.push(m);
            }
        }
        kept
    }

    /// A model name followed by a version suffix names that version: a
    /// known one (by its normalised spelling) or a new one of the family.
    fn extend(&self, text: &str, m: Mention) -> Mention {
        if self.entities.get(m.entity).is_none_or(|e| e.kind != EntityKind::Model) {
            return m;
        }
        let version = self.version_of(m.entity).is_some();
        let base = if version { Base::Version } else { Base::Family };
        let Some(len) = version::suffix(text.get(m.end..).unwrap_or_default(), base) else {
            return m;
        };
        let end = m.end + len;
        let name = text.get(m.start..end).unwrap_or_default();
        let key = normalise(name);
        if let Some(&known) = self.normalised.get(&key) {
            return Mention::known(known, m.start, end);
        }
        if self.rejected.contains(&key) || self.stop.stops(name) {
            return m;
        }
        let family = if version { self.family_of(m.entity).unwrap_or(m.entity) } else { m.entity };
        Mention { entity: family, start: m.start, end, new_version: true, alias_end: m.end }
    }

    /// Is an ambiguous alias (商量, 星火, 文心, 盘古) used as a name here?
    /// Inside quotes (“商量”, 「星火」), directly before 大模型/模型/AI or a
    /// Latin name in brackets (商量（SenseChat）), or with the entity's
    /// vendor in the same sentence (讯飞…星火). 双方将进一步商量 is none.
    fn named_here(&self, text: &str, folded: &str, start: usize, end: usize, entity: usize) -> bool {
        let after = text.get(end..).unwrap_or_default();
        let latin = text.get(start..end).is_some_and(|a| a.is_ascii());
        // The whole quoted text (“商量”, “商量（SenseChat）”), not the start
        // of a title (《文心雕龙》). A quoted Latin word is often the word
        // itself ("the 'Gemini' in my username").
        if !latin
            && char_before(text, start).is_some_and(|c| OPEN_QUOTES.contains(&c))
            && after.starts_with(|c: char| CLOSE_QUOTES.contains(&c) || c == '（' || c == '(')
        {
            return true;
        }
        if ["大模型", "模型", "AI"].iter().any(|w| after.starts_with(w)) {
            return true;
        }
        if let Some(inner) = after.strip_prefix('（').or_else(|| after.strip_prefix('('))
            && inner.trim_start().starts_with(|c: char| c.is_ascii_alphabetic())
        {
            return true;
        }
        let Some(vendor) = self.vendor_of(entity) else { return false };
        // An article names dozens of ambiguous aliases: the sentence's ends
        // are found by byte, and its lower case is the ASCII-folded text's
        // slice unless it has another cased character.
        let from = last_end_mark(text.get(..start).unwrap_or_default()).map_or(0, |(i, len)| i + len);
        let to = next_end_mark(after).map_or(text.len(), |(i, _)| end + i);
        let sentence =
            lowercase_folded(text.get(from..to).unwrap_or_default(), folded.get(from..to).unwrap_or_default());
        self.vendor_aliases.get(&vendor).is_some_and(|aliases| aliases.iter().any(|a| sentence.contains(a.as_str())))
    }
}

impl Known for Matcher {
    fn is_known_term(&self, term: &str) -> bool {
        Matcher::is_known_term(self, term)
    }

    fn kind(&self, entity: usize) -> Option<EntityKind> {
        self.entity(entity).map(|e| e.kind)
    }
}

/// Byte spans of URLs and code (fenced blocks, inline backticks): names
/// there are paths and identifiers (`huggingface.co/Qwen/Qwen2.5-72B`).
fn hidden_spans(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = scheme_separator(text, from) {
        let start = text
            .get(..i)
            .unwrap_or_default()
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
            .last()
            .map_or(i, |(j, _)| j);
        let len = text
            .get(i..)
            .unwrap_or_default()
            .find(|c: char| !c.is_ascii_graphic() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .unwrap_or(text.len() - i);
        out.push(start..i + len);
        from = i + len.max(3);
    }
    let mut from = 0;
    while let Some(open) = text.get(from..).and_then(|t| t.find('`')).map(|i| from + i) {
        let fence = text.get(open..).is_some_and(|t| t.starts_with("```"));
        let marker = if fence { "```" } else { "`" };
        let body = open + marker.len();
        let Some(close) = text.get(body..).and_then(|t| t.find(marker)).map(|i| body + i) else { break };
        // Inline code stays on one line; an unclosed backtick hides nothing.
        if !fence && text.get(body..close).is_some_and(|c| c.contains('\n')) {
            from = body;
            continue;
        }
        out.push(open..close + marker.len());
        from = close + marker.len();
    }
    out
}

/// Where the first `://` at or after `from` is. Found by its `:`: `str::find`
/// of the three bytes ran its two-way searcher over every byte of the text
/// (a tenth of the matcher's scan of a bench page), where the search for an
/// ASCII char is `memchr`, a word at a time.
fn scheme_separator(text: &str, from: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut at = from;
    loop {
        let i = at + text.get(at..)?.find(':')?;
        if bytes.get(i + 1..i + 3) == Some(b"//") {
            return Some(i);
        }
        at = i + 1;
    }
}

/// URL and code spans, merged and sorted, so a match asks in O(log n).
struct Hidden(Vec<std::ops::Range<usize>>);

impl Hidden {
    fn new(mut spans: Vec<std::ops::Range<usize>>) -> Self {
        spans.sort_by_key(|s| s.start);
        let mut merged: Vec<std::ops::Range<usize>> = Vec::with_capacity(spans.len());
        for s in spans {
            match merged.last_mut() {
                Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
                _ => merged.push(s),
            }
        }
        Hidden(merged)
    }

    fn overlaps(&self, start: usize, end: usize) -> bool {
        let i = self.0.partition_point(|h| h.end <= start);
        self.0.get(i).is_some_and(|h| h.start < end)
    }
}

/// `Apache Spark`, `Apache Falcon`: the Latin word names another product.
fn after_other_product(text: &str, start: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let Some(before) = before.strip_suffix(' ') else { return false };
    let letters = before.bytes().rev().take_while(u8::is_ascii_alphabetic).count();
    let word = before.get(before.len() - letters..).unwrap_or_default();
    ["apache", "hadoop", "spark", "pyspark"].iter().any(|w| word.eq_ignore_ascii_case(w))
}

/// Each model's family (for versions) and whether it is a version. A
/// version's `family` names the family's model (`GPT`), or a model of that
/// family without version that has the family name as an alias (`文心`).
fn families(catalog: &Catalog, offset: usize) -> (Vec<Option<usize>>, Vec<Option<String>>) {
    let mut family_of = vec![None; offset];
    let mut version_of = vec![None; offset];
    let by_name: HashMap<&str, usize> = catalog.models.iter().enumerate().map(|(i, m)| (m.name.as_str(), i)).collect();
    for m in &catalog.models {
        version_of.push(m.version.clone());
        let family = m.family.as_deref().filter(|_| m.version.is_some()).and_then(|f| {
            by_name.get(f).copied().or_else(|| {
                catalog.models.iter().position(|o| {
                    o.version.is_none() && o.family.as_deref() == Some(f) && o.aliases.iter().any(|a| a.text == f)
                })
            })
        });
        family_of.push(family.filter(|&i| catalog.models.get(i).is_some_and(|f| f.name != m.name)).map(|i| i + offset));
    }
    (family_of, version_of)
}

const OPEN_QUOTES: &[char] = &['“', '"', '「', '『', '《', '【', '‘', '\''];
const CLOSE_QUOTES: &[char] = &['”', '"', '」', '』', '》', '】', '’', '\''];
/// Word boundaries for the Latin edges of an alias.
///
/// Left: a Latin-initial alias must not follow a letter or digit. Right: an
/// alias ending in a letter must not be followed by a letter (a digit may
/// follow: `Qwen2.5` is the Qwen family); one ending in a digit must not be
/// followed by a letter, a digit or a `.digit` version tail.
fn on_boundaries(text: &str, start: usize, end: usize, alias: &str) -> bool {
    let first = alias.chars().next();
    let last = alias.chars().next_back();
    if first.is_some_and(|c| c.is_ascii_alphanumeric())
        && char_before(text, start).is_some_and(|c| c.is_ascii_alphanumeric())
    {
        return false;
    }
    match (last, char_at(text, end)) {
        (Some(l), Some(n)) if l.is_ascii_alphabetic() => !n.is_ascii_alphabetic(),
        (Some(l), Some(n)) if l.is_ascii_digit() => {
            if n.is_ascii_alphanumeric() {
                return false;
            }
            let after_dot = n == '.' && char_at(text, end + 1).is_some_and(|c| c.is_ascii_digit());
            !after_dot
        }
        _ => true,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::catalog::model::{Alias, Model, ModelKind, Vendor};

    fn model(name: &str, vendor: &str, aliases: &[&str]) -> Model {
        Model {
            name: name.into(),
            vendor: Some(vendor.into()),
            kind: ModelKind::Model,
            family: None,
            version: None,
            retired: false,
            aliases: std::iter::once(name).chain(aliases.iter().copied()).map(Alias::new).collect(),
            ..Model::default()
        }
    }

    fn matcher() -> Matcher {
        let mut spark = model("讯飞星火认知大模型", "科大讯飞", &["星火"]);
        spark.aliases.push(Alias { text: "Spark".into(), case_sensitive: true, ambiguous: false });
        let catalog = Catalog {
            vendors: vec![
                Vendor::new("阿里巴巴", &["阿里巴巴", "阿里"]),
                Vendor::new("OpenAI", &["OpenAI"]),
                Vendor::new("科大讯飞", &["科大讯飞"]),
            ],
            models: vec![
                model("通义千问", "阿里巴巴", &["Qwen", "Tongyi Qianwen"]),
                model("通义", "阿里巴巴", &[]),
                model("GPT-4", "OpenAI", &[]),
                model("GPT-3.5", "OpenAI", &["GPT3.5"]),
                model("GPT", "OpenAI", &[]),
                spark,
            ],
            ..Catalog::default()
        };
        Matcher::new(&catalog).unwrap()
    }

    fn names(m: &Matcher, text: &str) -> Vec<String> {
        m.find(text).iter().map(|x| format!("{}={}", m.entity(x.entity).unwrap().name, &text[x.start..x.end])).collect()
    }

    #[test]
    fn longest_match_wins_for_cjk() {
        let m = matcher();
        assert_eq!(names(&m, "阿里巴巴的通义千问开放邀测"), vec!["阿里巴巴=阿里巴巴", "通义千问=通义千问"]);
        assert_eq!(names(&m, "通义听悟"), vec!["通义=通义"]);
    }

    #[test]
    fn latin_is_case_insensitive_with_word_boundaries() {
        let m = matcher();
        // A family alias with a version suffix names the version (new here).
        assert_eq!(names(&m, "qwen-7B and QWEN2.5-72B"), vec!["通义千问=qwen-7B", "通义千问=QWEN2.5-72B"]);
        assert!(m.find("qwen-7B").iter().all(|x| x.new_version));
        assert!(names(&m, "Qwenling and ChatGPT and myopenai").is_empty());
        assert_eq!(names(&m, "tongyi qianwen是阿里的"), vec!["通义千问=tongyi qianwen", "阿里巴巴=阿里"]);
    }

    #[test]
    fn versions_do_not_bleed() {
        let m = matcher();
        // Not GPT-4: new versions of the GPT family.
        assert_eq!(names(&m, "GPT-4o 和 GPT-40"), vec!["GPT=GPT-4o", "GPT=GPT-40"]);
        assert_eq!(names(&m, "GPT-4的能力，GPT-3.5与GPT3.5"), vec!["GPT-4=GPT-4", "GPT-3.5=GPT-3.5", "GPT-3.5=GPT3.5"]);
    }

    #[test]
    fn case_sensitive_aliases() {
        let m = matcher();
        assert_eq!(names(&m, "讯飞Spark与星火"), vec!["讯飞星火认知大模型=Spark", "讯飞星火认知大模型=星火"]);
        assert!(names(&m, "Apache spark jobs").is_empty());
    }

    /// A catalog edit rebuilds the alias automaton, not the fact rules: every
    /// matcher of the process holds the same compiled rules.
    #[test]
    fn matchers_of_different_catalogs_share_one_set_of_rules() {
        let (a, b) = (matcher(), Matcher::new(&Catalog::default()).unwrap());
        assert!(Arc::ptr_eq(&a.rules, &b.rules));
        assert!(Arc::ptr_eq(&a.rules, &Rules::shared().unwrap()));
        assert_ne!(a.pattern_count(), b.pattern_count());
    }

    /// The double-array automaton over ASCII-lower-cased text finds what
    /// the byte automaton it replaced (aho-corasick's contiguous NFA,
    /// ASCII case folded) found: the same occurrences, and so the same
    /// mentions, on texts made of the seed's aliases (cut, case changed),
    /// versions, URLs and punctuation.
    #[test]
    fn the_double_array_finds_what_the_byte_automaton_found() {
        let m = crate::catalog::seed_tests::seed_matcher();
        let bytewise = aho_corasick::AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::ContiguousNFA))
            .match_kind(aho_corasick::MatchKind::Standard)
            .build(m.patterns.iter().map(|p| p.text.as_str()))
            .unwrap();
        let mut pieces: Vec<String> = m.patterns.iter().map(|p| p.text.clone()).collect();
        for p in &m.patterns {
            let chars: Vec<char> = p.text.chars().collect();
            pieces.push(chars.iter().take(chars.len().div_ceil(2)).collect());
            pieces.push(chars.iter().skip(chars.len() / 2).collect());
        }
        pieces.extend(
            [
                "2.5",
                "-72B",
                " 4.0 Turbo",
                "o",
                "大模型",
                "发布",
                "，",
                "。",
                " ",
                "https://hf.co/",
                "`",
                "“",
                "”",
                "é",
                "7",
            ]
            .map(String::from),
        );
        let mut rng = crate::test_rng::XorShift::new(0x0dd0_c0de_5eed_1234);
        let (mut texts, mut found) = (0, 0);
        for _ in 0..3_000 {
            let text = drawn_text(&mut rng, &pieces, 24);
            let mut by_char: Vec<(usize, usize, usize)> = m
                .automaton
                .as_ref()
                .unwrap()
                .find_overlapping_iter(text.to_ascii_lowercase())
                .flat_map(|o| m.spellings[o.value() as usize].iter().map(move |&p| (o.end(), o.start(), p)))
                .collect();
            let by_byte: Vec<(usize, usize, usize)> =
                bytewise.find_overlapping_iter(&text).map(|o| (o.end(), o.start(), o.pattern().as_usize())).collect();
            by_char.sort_unstable();
            let mut sorted = by_byte.clone();
            sorted.sort_unstable();
            assert_eq!(by_char, sorted, "{text:?}");
            let before =
                m.mentions(&text, &text.to_ascii_lowercase(), by_byte.iter().map(|&(end, start, p)| (p, start, end)));
            assert_eq!(m.find(&text), before, "{text:?}");
            texts += usize::from(!before.is_empty());
            found += before.len();
        }
        assert!(texts > 1_000 && found > 5_000, "the texts exercise the matcher: {texts} texts, {found} mentions");
    }

    /// Up to `most` of `pieces` drawn at random, each as it is, upper- or
    /// lower-cased in ASCII.
    fn drawn_text(rng: &mut crate::test_rng::XorShift, pieces: &[String], most: usize) -> String {
        let mut text = String::new();
        for _ in 0..rng.below(most) {
            let piece = &pieces[rng.below(pieces.len())];
            match rng.below(3) {
                0 => text.push_str(&piece.to_ascii_uppercase()),
                1 => text.push_str(&piece.to_ascii_lowercase()),
                _ => text.push_str(piece),
            }
        }
        text
    }

    /// The rules' words found in the scan of the whole text are, sentence
    /// by sentence, what a scan of each sentence alone found: on texts of
    /// the seed's aliases, the lists' words and their pieces, case changed,
    /// and sentence ends.
    #[test]
    fn the_texts_words_are_each_sentences_words() {
        use crate::catalog::sentence_words::{SentenceWords, WordScan};
        let m = crate::catalog::seed_tests::seed_matcher();
        let alone = WordScan::new(&WORD_LISTS).unwrap();
        let mut pieces: Vec<String> = m.patterns.iter().take(200).map(|p| p.text.clone()).collect();
        for l in &WORD_LISTS {
            for w in l.words {
                let chars: Vec<char> = w.chars().collect();
                pieces.push((*w).to_owned());
                pieces.push(chars.iter().take(chars.len().div_ceil(2)).collect());
                pieces.push(chars.iter().skip(chars.len() / 2).collect());
            }
        }
        pieces.extend(["。", "！", ". ", ".", "\n", " ", "；", "x", "7", "“", "é"].map(String::from));
        let mut rng = crate::test_rng::XorShift::new(0x3c6e_f372_fe94_f82b);
        let (mut sentences, mut lists, mut spans) = (0, 0, 0);
        for _ in 0..3_000 {
            let text = drawn_text(&mut rng, &pieces, 30);
            let (mentions, hits) = m.find_with_words(&text);
            assert_eq!(mentions, m.find(&text), "{text:?}");
            let mut next = 0;
            for sentence in crate::catalog::text::sentences(&text) {
                let words = SentenceWords::in_sentence(&hits, &mut next, &sentence);
                let expected = alone.scan(&text[sentence.clone()]);
                assert_eq!(words, expected, "{:?} in {text:?}", &text[sentence]);
                sentences += 1;
                lists += usize::from(expected != SentenceWords::default());
                spans +=
                    usize::from(expected.spans(List::CjkSuffix).chain(expected.spans(List::CompanyEnds)).count() > 0);
            }
        }
        assert!(
            sentences > 3_000 && lists > 2_000 && spans > 1_000,
            "{sentences} sentences, {lists} with words, {spans} with spans"
        );
    }

    /// The colon-led search finds every `://` that `str::find` found, from
    /// any start, on texts of colons, slashes and what surrounds them.
    #[test]
    fn the_scheme_separator_is_where_str_find_puts_it() {
        let pieces = [":", "/", "//", "://", "https", "a", "中", "：", " ", "`", "10:32"];
        let mut rng = crate::test_rng::XorShift::new(0x9b05_688c_2b3e_6c1f);
        let mut found = 0;
        for _ in 0..20_000 {
            let text: String = rng.join(&pieces, 0, 12);
            for from in 0..=text.len() {
                let expected = text.get(from..).and_then(|t| t.find("://")).map(|i| from + i);
                assert_eq!(scheme_separator(&text, from), expected, "{text:?} from {from}");
                found += usize::from(expected.is_some());
            }
        }
        assert!(found > 10_000, "{found}");
    }

    #[test]
    fn empty_catalog_matches_nothing() {
        let m = Matcher::new(&Catalog::default()).unwrap();
        assert!(m.find("通义千问").is_empty());
    }
}
