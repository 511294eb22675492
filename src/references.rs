//! A reference's health as the user reads it: one stable word, the sentence
//! shown beside the link, its new address and its archived copy. Shared by
//! `export references` and the web view's references page (pure).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::import::SECTION_SEPARATOR;
use crate::store::references::ReferenceHealth;
use crate::types::{ErrorKind, SourceKind, SourceStatus};

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
