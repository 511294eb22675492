//! `build`: a period's raw inputs → a [`Digest`] in reading order (pure).

use std::collections::{BTreeMap, HashSet};

use chrono::Duration;

use super::excerpt;
use super::inputs::*;
use super::model::*;
use super::period::Period;
use crate::types::{ChangeKind, SourceStatus};

/// The most items one list section shows (content changes, new models, new
/// vendors, proposed facts, candidates, link health). A first digest after
/// importing 50 sources would otherwise list hundreds of items: unreadable,
/// and past some SMTP servers' message size limits. The rest is one command away.
pub const MAX_ITEMS: usize = 30;

/// Keeps the first [`MAX_ITEMS`] of `items`; what was left out, if anything.
fn cap<T>(items: &mut Vec<T>, command: impl FnOnce() -> String) -> Option<More> {
    let count = items.len().checked_sub(MAX_ITEMS).filter(|n| *n > 0)?;
    items.truncate(MAX_ITEMS);
    Some(More { count, command: command() })
}

/// Knobs that change what the reader sees, from `[digest]` in the config.
#[derive(Debug, Clone)]
pub struct BuildOptions {
    /// A failing source is reported once it has failed this many days.
    pub failing_after_days: i64,
    /// How many star/download movers to list.
    pub top_movers: usize,
    /// The web view's address (`web.base_url`, no trailing slash): each
    /// change, dead link and proposed fact links to its page. `None`: no links.
    pub web_base: Option<String>,
}

impl Default for BuildOptions {
    fn default() -> Self {
        BuildOptions { failing_after_days: 3, top_movers: 10, web_base: None }
    }
}

/// Builds the digest for `period`. Sections with nothing in them are `None`
/// (or empty) so templates can omit them.
pub fn build(period: Period, inputs: DigestInputs, options: &BuildOptions) -> Digest {
    let since = period.start.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let mut catalog = catalog_section(&inputs);
    let repos = repo_section(&inputs, options.top_movers);
    let (changes, sources) = {
        let content: Vec<&ChangeInput> = inputs.changes.iter().filter(|c| c.kind != ChangeKind::Status).collect();
        let sources: HashSet<&str> = content.iter().map(|c| c.source.url.as_str()).collect();
        (content.len(), sources.len())
    };
    let (content, content_more) = content_groups(inputs.changes, &since);
    let mut health = health_section(&period, inputs.status_changes, inputs.failing, options);

    // The summary counts everything, before the lists are capped.
    let mut summary = Summary {
        changes,
        sources,
        new_models: catalog.as_ref().map_or(0, |c| c.new_models.len()),
        new_vendors: catalog.as_ref().map_or(0, |c| c.new_vendors.len()),
        dead_links: health.as_ref().map_or(0, |h| h.died.len()),
        empty: false,
    };
    if let Some(c) = catalog.as_mut() {
        let mentions = || format!("modelwatch catalog mentions --since {since}");
        c.new_models_more = cap(&mut c.new_models, mentions);
        c.new_vendors_more = cap(&mut c.new_vendors, mentions);
        c.facts_more = cap(&mut c.facts, || "modelwatch catalog facts --pending".to_owned());
        c.candidates_more = cap(&mut c.candidates, || "modelwatch catalog candidates".to_owned());
    }
    if let Some(h) = health.as_mut() {
        h.more = cap_health(h);
    }
    let mut digest = Digest { period, summary, catalog, repos, content, content_more, health };
    summary.empty = digest.is_empty();
    digest.summary = summary;
    if let Some(base) = &options.web_base {
        link_pages(&mut digest, base.trim_end_matches('/'));
    }
    digest
}

/// Points each change, dead link and proposed fact at its web page.
fn link_pages(digest: &mut Digest, base: &str) {
    for c in digest.content.iter_mut().flat_map(|g| g.changes.iter_mut()) {
        c.page = Some(format!("{base}/changes/{}", c.id));
    }
    if let Some(h) = digest.health.as_mut() {
        for item in h.died.iter_mut().chain(&mut h.redirected).chain(&mut h.recovered).chain(&mut h.failing) {
            item.page = Some(format!("{base}/sources/{}", item.source_id));
        }
    }
    if let Some(c) = digest.catalog.as_mut() {
        for f in &mut c.facts {
            f.page = Some(format!("{base}/review#fact-{}", f.id));
        }
    }
}

/// Keeps only what concerns sources carrying one of `tags` (a recipient's
/// filter). An empty filter keeps everything.
pub fn filter_by_tags(mut inputs: DigestInputs, tags: &[String]) -> DigestInputs {
    if tags.is_empty() {
        return inputs;
    }
    let keep = |s: &SourceRef| s.tags.iter().any(|t| tags.contains(t));
    inputs.changes.retain(|x| keep(&x.source));
    inputs.status_changes.retain(|x| keep(&x.source));
    inputs.failing.retain(|x| keep(&x.source));
    inputs.new_mentions.retain(|x| keep(&x.source));
    inputs.proposed_facts.retain(|x| keep(&x.source));
    inputs.candidates.retain(|x| keep(&x.source));
    inputs.repo_events.retain(|x| keep(&x.source));
    inputs.metrics.retain(|x| keep(&x.source));
    inputs
}

fn link(source: &SourceRef) -> Link {
    let title = source.title.as_deref().map(str::trim).filter(|t| !t.is_empty()).unwrap_or(&source.url);
    Link { title: title.to_owned(), url: source.url.clone() }
}

fn catalog_section(inputs: &DigestInputs) -> Option<CatalogSection> {
    let mut mentions: Vec<&MentionInput> = inputs.new_mentions.iter().collect();
    mentions.sort_by(|a, b| a.first_seen_at.cmp(&b.first_seen_at).then(a.name.cmp(&b.name)));
    // One row per entity: the first source that mentioned it, and a count.
    let mut merged: Vec<MentionItem> = Vec::new();
    for m in mentions {
        match merged.iter_mut().find(|x| x.kind == m.entity_kind && x.name == m.name) {
            Some(item) => item.sources += 1,
            None => merged.push(MentionItem {
                kind: m.entity_kind,
                name: m.name.clone(),
                vendor: m.vendor.clone(),
                source: link(&m.source),
                sources: 1,
            }),
        }
    }
    let (new_models, new_vendors): (Vec<_>, Vec<_>) = merged.into_iter().partition(|m| m.kind == EntityKind::Model);
    let facts: Vec<FactItem> = inputs
        .proposed_facts
        .iter()
        .map(|f| FactItem {
            id: f.id,
            subject: f.subject.clone(),
            field: f.field.clone(),
            value: f.value.clone(),
            quote: f.quote.clone(),
            source: link(&f.source),
            page: None,
        })
        .collect();
    let mut candidates: Vec<CandidateItem> = inputs
        .candidates
        .iter()
        .map(|c| CandidateItem { name: c.name.clone(), occurrences: c.occurrences, source: link(&c.source) })
        .collect();
    candidates.sort_by(|a, b| b.occurrences.cmp(&a.occurrences).then(a.name.cmp(&b.name)));
    if new_models.is_empty() && new_vendors.is_empty() && facts.is_empty() && candidates.is_empty() {
        return None;
    }
    Some(CatalogSection {
        new_models,
        new_models_more: None,
        new_vendors,
        new_vendors_more: None,
        facts,
        facts_more: None,
        candidates,
        candidates_more: None,
    })
}

fn repo_section(inputs: &DigestInputs, top: usize) -> Option<RepoSection> {
    let mut events: Vec<&RepoEventInput> = inputs.repo_events.iter().collect();
    events.sort_by_key(|e| e.at);
    let events: Vec<RepoEventItem> = events
        .into_iter()
        .map(|e| RepoEventItem { kind: e.kind, repo: link(&e.source), detail: e.detail.clone(), url: e.url.clone() })
        .collect();
    let mut movers: Vec<MoverItem> = inputs
        .metrics
        .iter()
        .filter_map(|m| {
            let before = m.before?;
            let delta = m.after.saturating_sub(before);
            (delta != 0).then(|| MoverItem {
                subject: m.subject.clone(),
                metric: m.metric.clone(),
                url: m.source.url.clone(),
                before,
                after: m.after,
                delta,
                change: format!("{delta:+}"),
                percent: percent_change(before, delta),
            })
        })
        .collect();
    movers.sort_by(|a, b| b.delta.unsigned_abs().cmp(&a.delta.unsigned_abs()).then(a.subject.cmp(&b.subject)));
    movers.truncate(top);
    if events.is_empty() && movers.is_empty() {
        return None;
    }
    Some(RepoSection { events, movers })
}

fn percent_change(before: i64, delta: i64) -> String {
    if before <= 0 {
        return String::new();
    }
    // Display only: precision loss on astronomically large counts is harmless.
    #[allow(clippy::cast_precision_loss)]
    let pct = delta as f64 * 100.0 / before as f64;
    // Small moves keep two decimals so they do not read as "-0.0%".
    if pct.abs() < 1.0 { format!("{pct:+.2}%") } else { format!("{pct:+.1}%") }
}

/// How much a change matters to a reader: how much text changed, and how many
/// catalog entities the changed lines touch (a model's new parameter count
/// beats a rewritten footer).
fn significance(c: &ChangeInput) -> f64 {
    let ratio = if c.stats.ratio.is_finite() { c.stats.ratio.clamp(0.0, 1.0) } else { 0.0 };
    ratio * 100.0 + f64::from(c.catalog_hits.min(20)) * 15.0
}

/// The most significant [`MAX_ITEMS`] content changes, grouped by tag, and
/// what was left out.
fn content_groups(changes: Vec<ChangeInput>, since: &str) -> (Vec<ContentGroup>, Option<More>) {
    let mut scored: Vec<(f64, ChangeInput)> =
        changes.into_iter().filter(|c| c.kind != ChangeKind::Status).map(|c| (significance(&c), c)).collect();
    scored.sort_by(|(sa, a), (sb, b)| sb.total_cmp(sa).then(a.detected_at.cmp(&b.detected_at)).then(a.id.cmp(&b.id)));
    let more = cap(&mut scored, || format!("modelwatch changes --since {since}"));
    // Groups keep the order of their most significant change.
    let mut order: Vec<String> = Vec::new();
    let mut groups: BTreeMap<String, Vec<ChangeItem>> = BTreeMap::new();
    for (_, c) in scored {
        let tag = c.source.tags.first().cloned().unwrap_or_default();
        if !groups.contains_key(&tag) {
            order.push(tag.clone());
        }
        groups.entry(tag).or_default().push(ChangeItem {
            id: c.id,
            kind: c.kind,
            link: link(&c.source),
            summary: c.summary,
            percent: c.stats.percent(),
            stats: c.stats,
            catalog_hits: c.catalog_hits,
            excerpt: excerpt::parse(&c.excerpt),
            page: None,
        });
    }
    let groups =
        order.into_iter().filter_map(|tag| groups.remove(&tag).map(|changes| ContentGroup { tag, changes })).collect();
    (groups, more)
}

/// Caps link health's four lists to [`MAX_ITEMS`] together, in reading
/// order: dead links first, long-failing sources last.
fn cap_health(h: &mut HealthSection) -> Option<More> {
    let mut room = MAX_ITEMS;
    let mut left_out = 0;
    for list in [&mut h.died, &mut h.redirected, &mut h.recovered, &mut h.failing] {
        let keep = list.len().min(room);
        left_out += list.len() - keep;
        list.truncate(keep);
        room -= keep;
    }
    (left_out > 0).then(|| More { count: left_out, command: "modelwatch sources list".to_owned() })
}

fn is_dead(s: SourceStatus) -> bool {
    matches!(s, SourceStatus::Gone | SourceStatus::SoftGone)
}

fn health_section(
    period: &Period,
    mut status_changes: Vec<StatusChangeInput>,
    failing: Vec<FailingInput>,
    options: &BuildOptions,
) -> Option<HealthSection> {
    status_changes.sort_by_key(|s| s.at);
    // Only a source's last transition in the period counts: died then
    // recovered within the week is "recovered", not both.
    let mut last: Vec<StatusChangeInput> = Vec::new();
    for s in status_changes {
        last.retain(|x| x.source.id != s.source.id);
        last.push(s);
    }
    let item = |s: &StatusChangeInput| HealthItem {
        source_id: s.source.id.0,
        link: link(&s.source),
        status: s.to,
        error_kind: s.error_kind,
        // Only a redirect has somewhere else to point to.
        final_url: s.final_url.clone().filter(|u| s.to == SourceStatus::Redirected && *u != s.source.url),
        days: 0,
        page: None,
    };
    let died: Vec<HealthItem> = last.iter().filter(|s| is_dead(s.to)).map(item).collect();
    let redirected: Vec<HealthItem> = last.iter().filter(|s| s.to == SourceStatus::Redirected).map(item).collect();
    let recovered: Vec<HealthItem> = last
        .iter()
        .filter(|s| {
            s.to == SourceStatus::Ok
                && (is_dead(s.from) || matches!(s.from, SourceStatus::Failing | SourceStatus::Redirected))
        })
        .map(item)
        .collect();
    let threshold = period.end - Duration::days(options.failing_after_days);
    let mut failing: Vec<HealthItem> = failing
        .into_iter()
        .filter(|f| f.since <= threshold)
        .map(|f| HealthItem {
            source_id: f.source.id.0,
            link: link(&f.source),
            status: SourceStatus::Failing,
            error_kind: Some(f.error_kind),
            final_url: None,
            days: (period.end - f.since).num_days(),
            page: None,
        })
        .collect();
    failing.sort_by(|a, b| b.days.cmp(&a.days).then(a.link.url.cmp(&b.link.url)));
    if died.is_empty() && redirected.is_empty() && recovered.is_empty() && failing.is_empty() {
        return None;
    }
    Some(HealthSection { died, redirected, recovered, failing, more: None })
}
