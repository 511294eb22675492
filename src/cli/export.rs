//! `export references [--format md|json]`: the document's reference list
//! given back, grouped by its heading path in document order, each link with
//! its health — Markdown to paste into the document, JSON for tools.

use chrono::{DateTime, Utc};
use clap::{Subcommand, ValueEnum};
use serde::Serialize;

use super::context::Context;
use crate::import::SECTION_SEPARATOR;
use crate::store::references::ReferenceHealth;
use crate::types::{ErrorKind, SourceKind, SourceStatus};

#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// The document's references with their health (ok, moved, redirected,
    /// gone, soft-404, failing), grouped by heading path in document order.
    References {
        #[arg(long, value_enum, default_value_t = RefFormat::Md)]
        format: RefFormat,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RefFormat {
    Md,
    Json,
}

/// A link's health, as one stable word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    Ok,
    /// Answers at another address with the same content: update the link.
    Moved,
    /// Permanently sent to a different page (the site's home, another article).
    Redirected,
    Gone,
    Soft404,
    Failing,
    Pending,
    Paused,
}

/// One reference (JSON: an array of these, document order).
#[derive(Debug, Clone, Serialize)]
pub struct ReferenceJson {
    pub id: i64,
    pub url: String,
    pub title: Option<String>,
    pub kind: SourceKind,
    /// `第三章 … / 本章参考`; `None` for a source added by hand.
    pub section: Option<String>,
    pub heading_path: Vec<String>,
    pub position: Option<i64>,
    pub status: SourceStatus,
    pub health: Health,
    /// The sentence the Markdown shows, e.g. `gone since 2026-12-05`.
    pub health_text: String,
    /// Where the link leads now (moved, redirected).
    pub new_url: Option<String>,
    pub last_error_kind: Option<ErrorKind>,
    /// When the current status was recorded.
    pub since: Option<DateTime<Utc>>,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub last_ok_at: Option<DateTime<Utc>>,
    /// The last good copy in the archive.
    pub last_snapshot_id: Option<i64>,
    pub last_snapshot_at: Option<DateTime<Utc>>,
    /// For a dead link with an archived copy: the command that prints it.
    pub archive: Option<String>,
}

pub async fn run(ctx: &Context, cmd: ExportCommand) -> anyhow::Result<()> {
    match cmd {
        ExportCommand::References { format } => {
            let rows: Vec<ReferenceJson> = ctx.store.reference_health().await?.iter().map(reference_json).collect();
            match format {
                RefFormat::Json => println!("{}", serde_json::to_string_pretty(&rows)?),
                RefFormat::Md => print!("{}", render_markdown(&rows)),
            }
            let dead =
                rows.iter().filter(|r| !matches!(r.health, Health::Ok | Health::Pending | Health::Paused)).count();
            eprintln!("{} reference(s), {dead} needing attention", rows.len());
            Ok(())
        }
    }
}

fn date(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_else(|| "an unknown date".to_owned())
}

/// A source's health, from its stored state (pure).
pub fn reference_json(r: &ReferenceHealth) -> ReferenceJson {
    let s = &r.source;
    let final_url = s.final_url.as_ref().map(ToString::to_string).filter(|f| *f != s.url.as_str());
    let since = date(r.since);
    let (health, health_text) = match s.status {
        SourceStatus::Ok => match &final_url {
            Some(f) => (Health::Moved, format!("moved → {f}")),
            None => (Health::Ok, "ok".to_owned()),
        },
        SourceStatus::Redirected => {
            (Health::Redirected, format!("redirected → {}", final_url.as_deref().unwrap_or("another page")))
        }
        SourceStatus::Gone => (Health::Gone, format!("gone since {since}")),
        SourceStatus::SoftGone => (Health::Soft404, format!("soft-404 since {since}")),
        SourceStatus::Failing => {
            let kind = s.last_error_kind.map_or("unknown".to_owned(), |k| k.to_string());
            (Health::Failing, format!("failing ({kind}) since {since}"))
        }
        SourceStatus::Pending => (Health::Pending, "not checked yet".to_owned()),
        SourceStatus::Paused => (Health::Paused, "paused".to_owned()),
    };
    let dead = matches!(health, Health::Redirected | Health::Gone | Health::Soft404 | Health::Failing);
    let snapshot = s.last_snapshot_id;
    ReferenceJson {
        id: s.id.0,
        url: s.url.to_string(),
        title: s.title.clone(),
        kind: s.kind,
        section: s.section.clone(),
        heading_path: s
            .section
            .as_deref()
            .map(|p| p.split(SECTION_SEPARATOR).map(str::to_owned).collect())
            .unwrap_or_default(),
        position: r.position,
        status: s.status,
        health,
        health_text,
        new_url: matches!(health, Health::Moved | Health::Redirected).then_some(final_url).flatten(),
        last_error_kind: s.last_error_kind,
        since: r.since.filter(|_| dead),
        last_checked_at: s.last_checked_at,
        last_ok_at: r.last_ok_at,
        last_snapshot_id: snapshot,
        last_snapshot_at: r.last_snapshot_at,
        archive: snapshot.filter(|_| dead).map(|id| format!("modelwatch snapshot show {id}")),
    }
}

/// Markdown: the heading path as headings (only where it changes), one
/// bullet per link with its health; dead links in bold with their archive.
pub fn render_markdown(rows: &[ReferenceJson]) -> String {
    let mut out = String::new();
    let mut previous: Option<Vec<String>> = None;
    for r in rows {
        let path = if r.section.is_some() {
            r.heading_path.clone()
        } else {
            vec!["Other sources (not from the document)".to_owned()]
        };
        if previous.as_ref() != Some(&path) {
            let prev = previous.unwrap_or_default();
            let common = prev.iter().zip(&path).take_while(|(a, b)| a == b).count();
            // A group whose path is a prefix of the last one still needs its heading.
            let from = if common == path.len() { path.len().saturating_sub(1) } else { common };
            for (depth, heading) in path.iter().enumerate().skip(from) {
                // One blank line before a heading.
                if !out.is_empty() && !out.ends_with("\n\n") {
                    out.push('\n');
                }
                out.push_str(&format!("{} {heading}\n\n", "#".repeat((depth + 1).min(6))));
            }
            previous = Some(path);
        }
        out.push_str(&bullet(r));
        out.push('\n');
    }
    out
}

fn bullet(r: &ReferenceJson) -> String {
    let link = match &r.title {
        Some(t) => format!("[{}](<{}>)", escape(t), r.url),
        None => format!("<{}>", r.url),
    };
    let dead = r.archive.is_some()
        || matches!(r.health, Health::Redirected | Health::Gone | Health::Soft404 | Health::Failing);
    let health = if dead { format!("**{}**", r.health_text) } else { r.health_text.clone() };
    let mut line = format!("* {link} — {health}");
    if let Some(at) = r.last_snapshot_at {
        line.push_str(&format!(" · last good copy {}", at.format("%Y-%m-%d")));
    }
    if let Some(cmd) = &r.archive {
        line.push_str(&format!(" · archived: `{cmd}`"));
    }
    line
}

/// Brackets in a title would end the link text early.
fn escape(title: &str) -> String {
    title.replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]")
}
