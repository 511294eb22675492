//! `changes [--since] [--source] [--limit]` and `changes show ID`.

use chrono::{DateTime, NaiveDate, Utc};
use clap::{Args, Subcommand};
use serde::Serialize;

use super::context::{Context, usage};
use super::output::{clip, print_list};
use super::{Format, FormatArg};
use crate::store::changes::ChangeFilter;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ChangesArgs {
    #[command(subcommand)]
    pub command: Option<ChangesCommand>,
    /// RFC 3339 instant, a date (midnight UTC) or a duration back (7d, 12h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only this source (id or URL).
    #[arg(long)]
    pub source: Option<String>,
    /// Only changes of this kind (content, status, metadata, release).
    #[arg(long)]
    pub kind: Option<String>,
    /// Only changes of sources carrying this tag.
    #[arg(long)]
    pub tag: Option<String>,
    #[arg(long)]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub format: FormatArg,
}

#[derive(Debug, Subcommand)]
pub enum ChangesCommand {
    /// One change with its whole diff.
    Show {
        id: i64,
        #[command(flatten)]
        format: FormatArg,
    },
}

/// `changes show --format json`: the change and its whole diff.
#[derive(Debug, Serialize)]
struct ChangeShow {
    #[serde(flatten)]
    change: crate::store::changes::ChangeRow,
    /// Marked lines ("  " context, "- " removed, "+ " added, "~ " modified
    /// with `[-old-]{+new+}`), every hunk; `None` when a snapshot is missing.
    diff: Option<String>,
}

/// Parses `--since`.
pub fn parse_since(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        return d.and_hms_opt(0, 0, 0).map(|n| n.and_utc()).ok_or_else(|| format!("bad date {t:?}"));
    }
    match crate::schedule::parse_duration(t) {
        Ok(d) => chrono::Duration::from_std(d)
            .ok()
            .and_then(|d| now.checked_sub_signed(d))
            .ok_or_else(|| format!("--since {t:?} is too far back")),
        Err(_) => Err(format!("--since {t:?} is not an RFC 3339 time, a date (2026-11-23) or a duration (7d, 12h)")),
    }
}

pub async fn run(ctx: &Context, args: &ChangesArgs) -> anyhow::Result<()> {
    if let Some(ChangesCommand::Show { id, format }) = &args.command {
        return show(ctx, *id, format.format).await;
    }
    let since = args.since.as_deref().map(|s| parse_since(s, Utc::now())).transpose().map_err(usage)?;
    let source = match &args.source {
        Some(s) => Some(ctx.source(s).await?.id),
        None => None,
    };
    let kind = args
        .kind
        .as_deref()
        .map(str::parse::<crate::types::ChangeKind>)
        .transpose()
        .map_err(|e| usage(e.to_string()))?;
    let filter =
        ChangeFilter { since, source, kind, tag: args.tag.clone(), limit: args.limit, ..ChangeFilter::default() };
    let rows = ctx.store.list_changes(&filter).await?;
    print_list(args.format.format, &rows, &["ID", "SOURCE", "KIND", "DETECTED", "SUMMARY", "URL"], |c| {
        vec![
            c.id.to_string(),
            c.source_id.to_string(),
            c.kind.to_string(),
            c.detected_at.format("%Y-%m-%d %H:%M").to_string(),
            clip(&c.summary, 50),
            clip(&c.url, 60),
        ]
    })
}

async fn show(ctx: &Context, id: i64, format: Format) -> anyhow::Result<()> {
    let change = ctx.store.get_change(id).await?.ok_or_else(|| usage(format!("no change #{id}")))?;
    let diff = match ctx.store.change_snapshots(&change).await? {
        (Some(old), Some(new)) => {
            Some(tokio::task::spawn_blocking(move || crate::diff::whole_diff(&old.text, &new.text)).await?)
        }
        _ => None,
    };
    let shown = ChangeShow { change, diff };
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&shown)?);
        return Ok(());
    }
    let c = &shown.change;
    println!("Change #{} ({}) of source #{} {}", c.id, c.kind, c.source_id, c.url);
    println!("  detected:  {}", c.detected_at.to_rfc3339());
    println!("  summary:   {}", c.summary);
    let n = &c.stats;
    if n.added + n.removed + n.modified > 0 {
        println!(
            "  counts:    {} added, {} removed, {} modified ({:.0}% of the text)",
            n.added,
            n.removed,
            n.modified,
            n.ratio * 100.0
        );
    }
    if !c.details.is_null() && c.details != serde_json::json!({}) {
        println!("  details:   {}", c.details);
    }
    match (&shown.diff, c.from_snapshot_id, c.to_snapshot_id) {
        (Some(d), Some(from), Some(to)) => {
            println!("  snapshots: #{from} → #{to}\n");
            println!("{d}");
        }
        _ if !c.excerpt.is_empty() => println!("\n{}", c.excerpt),
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn since_forms() {
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        assert_eq!(parse_since("2026-11-23", now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 23, 0, 0, 0).unwrap());
        assert_eq!(parse_since("7d", now).unwrap(), Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap());
        assert_eq!(
            parse_since("2026-11-28T08:00:00+08:00", now).unwrap(),
            Utc.with_ymd_and_hms(2026, 11, 28, 0, 0, 0).unwrap()
        );
        assert!(parse_since("last week", now).is_err());
        assert!(parse_since("100000000d", now).is_err(), "too far back is an error, not a panic");
    }
}
