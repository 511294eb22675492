//! `changes [--since] [--source] [--limit]`.

use chrono::{DateTime, NaiveDate, Utc};
use clap::Args;

use super::FormatArg;
use super::context::{Context, usage};
use super::output::{clip, print_list};
use super::sources::store_error;
use crate::source::SourceRef;
use crate::store::changes::ChangeFilter;

#[derive(Debug, Args)]
pub struct ChangesArgs {
    /// RFC 3339 instant, a date (midnight UTC) or a duration back (7d, 12h).
    #[arg(long)]
    pub since: Option<String>,
    /// Only this source (id or URL).
    #[arg(long)]
    pub source: Option<String>,
    #[arg(long)]
    pub limit: Option<u64>,
    #[command(flatten)]
    pub format: FormatArg,
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
    let since = args.since.as_deref().map(|s| parse_since(s, Utc::now())).transpose().map_err(usage)?;
    let source = match &args.source {
        Some(s) => Some(ctx.store.get_source(&SourceRef::parse(s)).await.map_err(store_error)?.id),
        None => None,
    };
    let rows =
        ctx.store.list_changes(&ChangeFilter { since, source, limit: args.limit, ..ChangeFilter::default() }).await?;
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
