//! `sources import FILE.md [--dry-run] [--format table|json]`: every
//! reference of the knowledge document becomes a source, in one transaction,
//! with its place in the document; what is not imported is listed with why.

use std::path::Path;

use chrono::Utc;
use serde::Serialize;

use super::Format;
use super::context::{Context, usage};
use super::output::{clip, table};
use super::progress::Progress;
use crate::import::{Extracted, SkipReason, clean_url, extract_contained, read_document};
use crate::source::SourceSpec;
use crate::store::import::{ImportItem, ImportOutcome, Imported};
use crate::types::SourceKind;

/// What became of one link (the report's `result` word).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportResult {
    Added,
    /// `--dry-run`: would be added.
    WouldAdd,
    /// Already watched.
    Exists,
    /// Removed earlier; not re-added.
    Removed,
    /// The same page as an earlier link of the document.
    Duplicate,
    Skipped,
}

impl ImportResult {
    pub fn as_str(self) -> &'static str {
        match self {
            ImportResult::Added => "added",
            ImportResult::WouldAdd => "would_add",
            ImportResult::Exists => "exists",
            ImportResult::Removed => "removed",
            ImportResult::Duplicate => "duplicate",
            ImportResult::Skipped => "skipped",
        }
    }
}

/// One line of the import report (JSON: an array of these, document order).
#[derive(Debug, Serialize)]
pub struct ImportRow {
    pub line: usize,
    pub result: ImportResult,
    pub id: Option<i64>,
    pub kind: Option<SourceKind>,
    /// The normalised URL (for a duplicate: the page it repeats).
    pub url: Option<String>,
    /// The link as written in the document.
    pub original: String,
    pub title: Option<String>,
    /// The heading path, `第三章 … / 本章参考`.
    pub section: Option<String>,
    /// The nearest heading, given to the source as a tag.
    pub tag: Option<String>,
    /// inline, reference, definition, autolink, footnote, bare, html
    pub form: Option<crate::import::LinkForm>,
    /// Why a link is not imported (stable word, then the sentence).
    pub reason_code: Option<&'static str>,
    pub reason: Option<String>,
}

pub async fn run(ctx: &Context, file: &Path, dry_run: bool, format: Format) -> anyhow::Result<()> {
    let cfg = &ctx.config.import;
    let text = read_document(file, cfg.max_file_bytes).map_err(|e| usage(e.to_string()))?;
    let bytes = text.len();
    let rules = cfg.url_rules.clone();
    let max_links = usize::try_from(cfg.max_links).unwrap_or(usize::MAX);
    // A 50 MB document parses for a while: off the async threads.
    let extracted = tokio::task::spawn_blocking(move || extract_contained(text, rules, max_links))
        .await?
        .map_err(|e| usage(format!("cannot read {} as Markdown: {e}; nothing was added", file.display())))?;
    let Extracted { references, skipped, truncated } = extracted;
    if truncated {
        return Err(usage(format!(
            "{} has more than import.max_links = {max_links} links; nothing was added \
             (split the document or raise the limit)",
            file.display()
        )));
    }
    // Every link passes the one source validator, as `sources add` and the
    // shipped sources file do; what it refuses is reported, not added.
    let mut items: Vec<ImportItem> = Vec::new();
    let mut accepted = Vec::new();
    let mut invalid = Vec::new();
    for (i, r) in references.iter().enumerate() {
        let spec = SourceSpec {
            title: r.title.clone().filter(|t| !t.trim().is_empty()),
            tags: r.tag().map(str::to_owned).into_iter().collect(),
            ..SourceSpec::for_url(r.url.to_string())
        };
        match spec.validate(&ctx.config) {
            Ok(mut new) => {
                // The import's own normalisation (tracking parameters) stands.
                new.url = r.url.clone();
                items.push(ImportItem { new, section: r.section(), position: i64::try_from(i).unwrap_or(i64::MAX) });
                accepted.push(r);
            }
            Err(e) => invalid.push((r, e.to_string())),
        }
    }
    let rules = cfg.url_rules.clone();
    // A stored URL compares as every lookup of a source by URL compares it.
    let same_page = move |stored: &str| clean_url(stored, &rules).ok().map(|u| u.to_string());
    let max = usize::try_from(cfg.max_new_sources).unwrap_or(usize::MAX);
    let bar = Progress::new(items.len() as u64, if dry_run { "Comparing" } else { "Importing" }, "references");
    let step = || bar.inc(1);
    let imported = ctx.store.import_sources(&items, same_page, dry_run, max, Utc::now(), &step).await?;
    bar.finish();
    let outcomes = match imported {
        Imported::Done(o) => o,
        Imported::TooMany { new, max } => {
            return Err(usage(format!(
                "{} has {new} new references, more than import.max_new_sources = {max}; nothing was added \
                 (split the document or raise the limit)",
                file.display()
            )));
        }
    };

    let mut rows: Vec<ImportRow> = accepted
        .iter()
        .zip(&items)
        .zip(&outcomes)
        .map(|((r, item), outcome)| {
            let (result, id) = match *outcome {
                ImportOutcome::Added(id) => (ImportResult::Added, Some(id)),
                ImportOutcome::WouldAdd => (ImportResult::WouldAdd, None),
                ImportOutcome::Exists(id) => (ImportResult::Exists, Some(id)),
                ImportOutcome::Removed(id) => (ImportResult::Removed, Some(id)),
            };
            let reason = matches!(outcome, ImportOutcome::Removed(_))
                .then(|| format!("source #{} was removed; `sources add` watches it again", id.unwrap_or_default()));
            ImportRow {
                line: r.line,
                result,
                id,
                kind: Some(item.new.kind),
                url: Some(r.url.to_string()),
                original: r.original.clone(),
                title: r.title.clone(),
                section: item.section.clone(),
                tag: r.tag().map(str::to_owned),
                form: Some(r.form),
                reason_code: reason.as_ref().map(|_| "removed"),
                reason,
            }
        })
        .collect();
    rows.extend(invalid.into_iter().map(|(r, problem)| ImportRow {
        line: r.line,
        result: ImportResult::Skipped,
        id: None,
        kind: None,
        url: Some(r.url.to_string()),
        original: r.original.clone(),
        title: r.title.clone(),
        section: r.section(),
        tag: r.tag().map(str::to_owned),
        form: Some(r.form),
        reason_code: Some("invalid"),
        reason: Some(problem),
    }));
    let urls_by_line: std::collections::HashMap<usize, String> =
        references.iter().map(|r| (r.line, r.url.to_string())).collect();
    rows.extend(skipped.into_iter().map(|s| {
        let duplicate_of = match s.reason {
            SkipReason::Duplicate { first_line } => urls_by_line.get(&first_line).cloned(),
            _ => None,
        };
        ImportRow {
            line: s.line,
            result: if duplicate_of.is_some() { ImportResult::Duplicate } else { ImportResult::Skipped },
            id: None,
            kind: None,
            url: duplicate_of,
            original: s.target,
            title: None,
            section: crate::import::section_of(&s.heading_path),
            tag: s.heading_path.last().cloned(),
            form: None,
            reason_code: Some(s.reason.code()),
            reason: Some(s.reason.to_string()),
        }
    }));
    rows.sort_by_key(|r| r.line);

    let count = |what: ImportResult| rows.iter().filter(|r| r.result == what).count();
    eprintln!(
        "{} reference(s) in {} ({} bytes): {} {}, {} already watched, {} removed earlier (not re-added); \
         {} duplicate link(s) merged, {} link(s) skipped",
        references.len(),
        file.display(),
        bytes,
        count(ImportResult::Added) + count(ImportResult::WouldAdd),
        if dry_run { "would be added" } else { "added" },
        count(ImportResult::Exists),
        count(ImportResult::Removed),
        count(ImportResult::Duplicate),
        count(ImportResult::Skipped),
    );
    match format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
        Format::Table => print!("{}", render_table(&rows)),
    }
    Ok(())
}

/// Full URLs (never cut: the user must know which link a row means), the
/// heading path as a line above its rows, the title or reason last.
fn render_table(rows: &[ImportRow]) -> String {
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let last = match (&r.reason, &r.title) {
                (Some(reason), _) => reason.clone(),
                (None, Some(t)) => clip(t, 60),
                (None, None) => String::new(),
            };
            vec![
                r.result.as_str().to_owned(),
                r.id.map(|i| i.to_string()).unwrap_or_else(|| "-".to_owned()),
                r.line.to_string(),
                r.kind.map_or("-".to_owned(), |k| k.to_string()),
                if r.result == ImportResult::Skipped { r.original.clone() } else { r.url.clone().unwrap_or_default() },
                last,
            ]
        })
        .collect();
    let rendered = table(&["RESULT", "ID", "LINE", "KIND", "URL", "TITLE / REASON"], &cells);
    let mut lines = rendered.lines();
    let mut out = String::new();
    if let Some(header) = lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    let mut section: Option<Option<&str>> = None;
    for (row, line) in rows.iter().zip(lines) {
        let here = row.section.as_deref();
        if section != Some(here) {
            out.push_str(&format!("## {}\n", here.unwrap_or("(before the first heading)")));
            section = Some(here);
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}
