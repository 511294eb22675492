//! `check [ID|URL…] [--all] [--dry-run]`: check now, print what changed.

use clap::Args;
use tokio_util::sync::CancellationToken;

use super::context::{Context, usage};
use super::output::print_list;
use super::progress::Progress;
use super::sources::store_error;
use super::{Format, FormatArg};
use crate::fetch::Fetcher;
use crate::runner::{CheckMode, CheckReport, Runner};
use crate::source::SourceRef;
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
    let mut sources = Vec::new();
    if args.sources.is_empty() {
        sources = ctx.store.list_sources().await?;
        sources.retain(|s| s.status != SourceStatus::Paused);
    } else {
        for arg in &args.sources {
            sources.push(ctx.source(arg).await?);
        }
    }
    let fetcher = Fetcher::new(&ctx.config.fetch)?;
    let runner = Runner::new(ctx.store.clone(), fetcher, ctx.config.clone(), crate::clock::SystemClock::shared());
    let mode = CheckMode { lease_owner: None, dry_run: args.dry_run, accept_rewrite: args.accept_rewrite };
    let bar = Progress::new(sources.len() as u64, "Checking", "sources");
    let mut reports = runner
        .check_all_with(sources, mode.clone(), &CancellationToken::new(), |r| {
            bar.set_message(r.url.clone());
            bar.inc(1);
        })
        .await;
    bar.finish();
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
    if let Some(failed) = reports.iter().find(|r| r.record_error.is_some()) {
        print_reports(&reports, args, ctx.config.schedule.timezone)?;
        anyhow::bail!("could not record the check of {}: {}", failed.url, failed.record_error.as_deref().unwrap_or(""));
    }
    print_reports(&reports, args, ctx.config.schedule.timezone)
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
