//! `check [ID|URL…] [--all] [--dry-run]`: check now, print what changed.

use std::sync::{Arc, Mutex};

use clap::Args;
use futures::{Stream, StreamExt};
use tokio_util::sync::CancellationToken;

use super::context::{Context, usage};
use super::output::print_list;
use super::progress::Progress;
use super::sources::store_error;
use super::{Format, FormatArg};
use crate::fetch::Fetcher;
use crate::runner::{CheckMode, CheckReport, Runner};
use crate::source::{Source, SourceRef};
use crate::store::{Store, StoreError};
use crate::types::{SourceId, SourceStatus};

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Sources by id or URL; none (or --all) means every non-paused source.
    pub sources: Vec<String>,
    #[arg(long)]
    pub all: bool,
    /// Fetch and compare, print the extracted text and what the noise rules
    /// removed, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run the confirmation re-checks now: a source whose outcome would
    /// change its status (gone, redirected, failing…) is checked again at
    /// once until `liveness.confirm_after` outcomes agree or it recovers,
    /// instead of after `liveness.confirm_delay`.
    #[arg(long, conflicts_with = "dry_run")]
    pub confirm: bool,
    /// A page that looks replaced by another article (other title, almost
    /// no paragraph kept) is a rewrite of the same article: record it as a
    /// content change.
    #[arg(long, conflicts_with = "dry_run")]
    pub accept_rewrite: bool,
    #[command(flatten)]
    pub format: FormatArg,
}

pub async fn run(ctx: &Context, args: &CheckArgs) -> anyhow::Result<()> {
    if args.all && !args.sources.is_empty() {
        return Err(usage("give source ids/URLs or --all, not both"));
    }
    let mut named = Vec::new();
    for arg in &args.sources {
        named.push(ctx.source(arg).await?);
    }
    let fetcher = Fetcher::new(&ctx.config.fetch)?;
    let runner = Runner::new(ctx.store.clone(), fetcher, ctx.config.clone(), crate::clock::SystemClock::shared());
    let mode = CheckMode { lease_owner: None, dry_run: args.dry_run, accept_rewrite: args.accept_rewrite };
    // Every source: read a page at a time as checks take them, not loaded
    // whole and held to the end (2,000 sources, SQLite, peak RSS medians:
    // cold 51.9 → 49.5 MB, unchanged 30.8 → 25.7; README "Benchmarks").
    let failed = Arc::new(Mutex::new(None));
    let (total, sources) = if args.sources.is_empty() {
        let total = ctx.store.count_sources().await?;
        (total, all_sources(&ctx.store, PAGE, failed.clone()).left_stream())
    } else {
        (named.len() as u64, futures::stream::iter(named).right_stream())
    };
    let bar = Progress::new(total, "Checking", "sources");
    let mut reports = runner
        .check_stream_with(sources, mode.clone(), &CancellationToken::new(), |r| {
            bar.set_message(r.url.clone());
            bar.inc(1);
        })
        .await;
    bar.finish();
    let failed = failed.lock().map(|mut f| f.take()).unwrap_or_default();
    if args.confirm {
        // Each round re-checks the sources still unconfirmed; a streak needs
        // at most `confirm_after` outcomes, so the loop is bounded.
        for _ in 1..ctx.config.liveness.confirm_after.max(1) {
            let pending: Vec<i64> = reports.iter().filter(|r| r.unconfirmed.is_some()).map(|r| r.source_id).collect();
            if pending.is_empty() {
                break;
            }
            let mut again = Vec::new();
            for id in &pending {
                again.push(ctx.store.get_source(&SourceRef::Id(SourceId(*id))).await.map_err(store_error)?);
            }
            let rechecked = runner.check_all(again, mode.clone(), &CancellationToken::new()).await;
            reports.retain(|r| !pending.contains(&r.source_id));
            reports.extend(rechecked);
        }
    }
    reports.sort_by_key(|r| r.source_id);
    if let Some(e) = failed {
        // The checks made before the read failed are recorded: say which.
        print_reports(&reports, args, ctx.config.schedule.timezone)?;
        return Err(anyhow::Error::new(e)
            .context(format!("could not read the sources to check after {} of them", reports.len())));
    }
    if let Some(failed) = reports.iter().find(|r| r.record_error.is_some()) {
        print_reports(&reports, args, ctx.config.schedule.timezone)?;
        anyhow::bail!("could not record the check of {}: {}", failed.url, failed.record_error.as_deref().unwrap_or(""));
    }
    print_reports(&reports, args, ctx.config.schedule.timezone)
}

/// Sources `check --all` reads at a time.
const PAGE: u64 = 256;

/// Every active source that is not paused, read `page` at a time in id
/// order as the stream is polled. A failed read ends the stream and is
/// kept in `failed`.
fn all_sources(store: &Store, page: u64, failed: Arc<Mutex<Option<StoreError>>>) -> impl Stream<Item = Source> {
    store
        .source_pages(page)
        .filter_map(move |page| {
            let rows = match page {
                Ok(rows) => Some(futures::stream::iter(rows)),
                Err(e) => {
                    if let Ok(mut slot) = failed.lock() {
                        *slot = Some(e);
                    }
                    None
                }
            };
            std::future::ready(rows)
        })
        .flatten()
        .filter(|s| std::future::ready(s.status != SourceStatus::Paused))
}

fn print_reports(reports: &[CheckReport], args: &CheckArgs, tz: chrono_tz::Tz) -> anyhow::Result<()> {
    if args.format.format == Format::Json {
        return print_list(Format::Json, reports, &[], |_| Vec::new());
    }
    for r in reports {
        let outcome = match (&r.unconfirmed, r.deferred_until) {
            (_, Some(until)) => format!("deferred until {}", until.with_timezone(&tz).format("%H:%M")),
            (Some(u), None) => u.to_string(),
            (None, None) => r.outcome.as_str().to_owned(),
        };
        let mut line = format!("#{} {} {}", r.source_id, outcome, r.url);
        if let Some((from, to)) = r.status_change {
            line.push_str(&format!("  [status {from} → {to}]"));
        } else {
            line.push_str(&format!("  [{}]", r.status));
        }
        if let (Some(k), Some(m)) = (r.error_kind, &r.message) {
            line.push_str(&format!("  {k}: {m}"));
        } else if let Some(m) = &r.message {
            line.push_str(&format!("  {m}"));
        }
        println!("{line}");
        if let Some(c) = &r.change {
            println!("  {}", c.summary);
            for l in c.excerpt.lines().take(12) {
                println!("  {l}");
            }
        }
        if args.dry_run {
            if let Some(text) = &r.text {
                println!("  --- extracted text ---");
                for l in text.lines() {
                    println!("  | {l}");
                }
            }
            if !r.removed.is_empty() {
                println!("  --- removed by noise rules ---");
                for l in &r.removed {
                    println!("  x {l}");
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::cli::test_store::with_pages;

    #[tokio::test]
    async fn check_all_reads_every_unpaused_source_once_a_page_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let (store, added) = with_pages(dir.path(), 25).await;
        for s in [&added[3], &added[4], &added[20]] {
            store.set_paused(s, true, Utc::now()).await.unwrap();
        }
        store.remove_source(added[11].id, false, Utc::now()).await.unwrap();
        let failed = Arc::new(Mutex::new(None));
        let seen: Vec<SourceId> = all_sources(&store, 4, failed.clone()).map(|s| s.id).collect().await;
        let expected: Vec<SourceId> =
            added.iter().enumerate().filter(|(i, _)| ![3, 4, 11, 20].contains(i)).map(|(_, s)| s.id).collect();
        assert_eq!(seen, expected, "every active, unpaused source once, in id order");
        assert!(failed.lock().unwrap().is_none());
    }

    #[tokio::test]
    async fn a_failed_read_of_the_next_page_ends_the_stream_and_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let (store, added) = with_pages(dir.path(), 10).await;
        let failed = Arc::new(Mutex::new(None));
        let mut stream = std::pin::pin!(all_sources(&store, 4, failed.clone()));
        let mut seen = Vec::new();
        for _ in 0..4 {
            seen.push(stream.next().await.unwrap().id);
        }
        // The first page is read; the next read finds the database closed.
        store.clone().close().await.unwrap();
        assert!(stream.next().await.is_none(), "the stream ends at the failed read");
        assert_eq!(seen, added[..4].iter().map(|s| s.id).collect::<Vec<_>>());
        let error = failed.lock().unwrap().take().expect("the read's error is kept");
        assert!(error.to_string().contains("closed"), "{error}");
    }
}
