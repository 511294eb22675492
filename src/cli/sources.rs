//! `sources add|import|list|show|remove|pause|resume`.

use std::io::Write;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use futures::{Stream, StreamExt};
use serde::Serialize;

pub use super::context::store_error;
use super::context::{Context, usage};
use super::output::{clip, table, time};
use super::{Format, FormatArg};
use crate::import::PageKey;
use crate::source::{NewSource, Source, SourceOptions, SourceSpec, normalize_url};
use crate::types::{ErrorKind, SourceKind, SourceStatus};

// Parsed once per process; boxing would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// Watch a URL.
    Add(AddArgs),
    /// Watch every reference of a Markdown document (links, reference-style
    /// links, autolinks, footnotes, bare URLs), with its heading path.
    Import {
        file: PathBuf,
        /// Print what would be added (full URLs); change nothing.
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        format: FormatArg,
    },
    /// List watched sources.
    List(FormatArg),
    /// Show one source, with its options and noise rules.
    Show {
        source: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// Stop watching a source (history is kept unless --purge).
    Remove {
        source: String,
        /// Also delete its snapshots and changes.
        #[arg(long)]
        purge: bool,
    },
    /// Pause checks of a source.
    Pause { source: String },
    /// Resume checks of a paused source.
    Resume { source: String },
    /// Watch the feed a page advertises (<link rel=alternate>) instead of the page.
    UseFeed {
        source: String,
        /// Which advertised feed (default: the first); any http(s) feed URL is accepted.
        feed: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    pub url: String,
    /// Source kind; `auto` decides from the URL.
    #[arg(long, default_value = "auto")]
    pub kind: String,
    #[arg(long)]
    pub title: Option<String>,
    /// A tag (repeatable); the digest groups changes by tag.
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Check interval, e.g. 6h, 1d.
    #[arg(long, conflicts_with = "cron")]
    pub every: Option<String>,
    /// Cron expression (5 fields, or 6 with seconds first).
    #[arg(long)]
    pub cron: Option<String>,
    /// CSS selector of the main content.
    #[arg(long)]
    pub select: Option<String>,
    /// CSS selector of content to drop (repeatable).
    #[arg(long)]
    pub exclude: Vec<String>,
    /// Regex of text to ignore when comparing (repeatable).
    #[arg(long)]
    pub ignore: Vec<String>,
    /// Extra request header "Name: value" (repeatable).
    #[arg(long = "header")]
    pub headers: Vec<String>,
    /// Force a character encoding (e.g. gbk).
    #[arg(long)]
    pub encoding: Option<String>,
    /// Request timeout for this source, e.g. 60s.
    #[arg(long)]
    pub timeout: Option<String>,
    /// Ignore robots.txt for this source.
    #[arg(long)]
    pub no_robots: bool,
}

/// `sources list` JSON: the fields DESIGN.md promises, and a few more.
#[derive(Debug, Serialize)]
pub struct SourceJson {
    pub id: i64,
    pub url: String,
    pub final_url: Option<String>,
    pub kind: SourceKind,
    pub title: Option<String>,
    pub tags: Vec<String>,
    /// The heading path of the document the source was imported from.
    pub section: Option<String>,
    pub status: SourceStatus,
    pub last_error_kind: Option<ErrorKind>,
    pub last_error: Option<String>,
    /// A status change waiting for confirmation: the status the last
    /// outcomes argue for and how many agreed so far (the confirmation
    /// re-check is at `next_check_at`).
    pub pending_status: Option<SourceStatus>,
    pub pending_count: u32,
    pub last_checked_at: Option<DateTime<Utc>>,
    pub next_check_at: DateTime<Utc>,
    pub schedule: Option<String>,
    pub options: SourceOptions,
    pub created_at: DateTime<Utc>,
    /// Checks of this source took the process down; sweeps skip it until
    /// `sources resume`.
    pub quarantined: bool,
    pub quarantined_at: Option<DateTime<Utc>>,
}

impl From<&Source> for SourceJson {
    fn from(s: &Source) -> Self {
        SourceJson {
            id: s.id.0,
            url: s.url.to_string(),
            final_url: s.final_url.as_ref().map(ToString::to_string),
            kind: s.kind,
            title: s.title.clone(),
            tags: s.tags.clone(),
            section: s.section.clone(),
            status: s.status,
            last_error_kind: s.last_error_kind,
            last_error: s.last_error.clone(),
            // Paused sources keep their previous status here (see resume).
            pending_status: s.pending_status.filter(|_| s.status != SourceStatus::Paused),
            pending_count: if s.status == SourceStatus::Paused { 0 } else { s.pending_count },
            last_checked_at: s.last_checked_at,
            next_check_at: s.next_check_at,
            schedule: s.schedule.as_ref().map(ToString::to_string),
            options: redacted(&s.options),
            created_at: s.created_at,
            quarantined: s.quarantined_at.is_some(),
            quarantined_at: s.quarantined_at,
        }
    }
}

/// Header values may be credentials (cookies, tokens): never printed.
fn redacted(options: &SourceOptions) -> SourceOptions {
    let headers = options.headers.iter().map(|(n, _)| (n.clone(), "***".to_owned())).collect();
    SourceOptions { headers, ..options.clone() }
}

pub async fn run(ctx: &Context, cmd: SourcesCommand) -> anyhow::Result<()> {
    match cmd {
        SourcesCommand::Add(args) => {
            let new = new_source(ctx, &args)?;
            // Found as every lookup finds it: a row stored with tracking
            // parameters before they were dropped is this page.
            let key = PageKey::new(new.url.as_str(), &ctx.config.import.url_rules).map_err(|e| usage(e.to_string()))?;
            let source = ctx.store.add_page(&new, &key, Utc::now()).await.map_err(store_error)?;
            eprintln!("Added source #{} ({}) {}", source.id, source.kind, source.url);
            // Said, since the stored URL is not the one given (see SourceSpec::validate).
            if let Ok(mut given) = normalize_url(&args.url) {
                let dropped = crate::import::drop_tracking(&mut given, &ctx.config.import.url_rules);
                if !dropped.is_empty() {
                    eprintln!("Tracking parameters dropped from the URL: {}", dropped.join(", "));
                }
            }
            println!("{}", source.id);
            Ok(())
        }
        SourcesCommand::Import { file, dry_run, format } => {
            super::import::run(ctx, &file, dry_run, format.format).await
        }
        SourcesCommand::List(f) => list(ctx, f.format).await,
        SourcesCommand::Show { source, format } => {
            let s = ctx.source(&source).await?;
            show(&s, format.format)
        }
        SourcesCommand::Remove { source, purge } => {
            let s = ctx.source(&source).await?;
            ctx.store.remove_source(s.id, purge, Utc::now()).await?;
            let what = if purge { "Removed and purged" } else { "Removed (history kept)" };
            eprintln!("{what} source #{} {}", s.id, s.url);
            Ok(())
        }
        SourcesCommand::UseFeed { source, feed } => use_feed(ctx, &source, feed.as_deref()).await,
        SourcesCommand::Pause { source } => pause(ctx, &source, true).await,
        SourcesCommand::Resume { source } => pause(ctx, &source, false).await,
    }
}

/// Sources `sources list` reads at a time.
const LIST_PAGE: u64 = 512;

/// `sources list`: every active source by id, read a page at a time. JSON
/// is written as each page comes (the same pretty array as one
/// serialisation of them all; a read that fails part-way leaves the array
/// unclosed, so no reader takes it for the whole list, and the command
/// fails); the table keeps only its cells, clipped, for its column widths.
/// Loaded whole, 102,000 sources made a 545 MB process for JSON (35 MB
/// paged) and 587 MB for the table (84 MB).
async fn list(ctx: &Context, format: Format) -> anyhow::Result<()> {
    match format {
        Format::Json => {
            let mut out = std::io::BufWriter::new(std::io::stdout());
            json_pages(&mut out, ctx.store.source_pages(LIST_PAGE)).await?;
            out.flush()?;
        }
        Format::Table => {
            let mut body = Vec::new();
            let mut pages = std::pin::pin!(ctx.store.source_pages(LIST_PAGE));
            while let Some(page) = pages.next().await {
                body.extend(page?.iter().map(|s| list_cells(ctx, &SourceJson::from(s))));
            }
            print!("{}", table(&["ID", "KIND", "STATUS", "LAST CHECK", "NEXT CHECK", "URL", "TITLE"], &body));
        }
    }
    Ok(())
}

/// Writes the sources of `pages` as one pretty JSON array and a newline,
/// each page as it comes. A failed page ends the writing with the array
/// unclosed.
async fn json_pages(
    out: &mut impl Write,
    pages: impl Stream<Item = Result<Vec<Source>, crate::store::StoreError>>,
) -> anyhow::Result<()> {
    use serde::ser::{SerializeSeq, Serializer as _};
    let mut ser = serde_json::Serializer::with_formatter(&mut *out, serde_json::ser::PrettyFormatter::new());
    let mut seq = ser.serialize_seq(None)?;
    let mut pages = std::pin::pin!(pages);
    while let Some(page) = pages.next().await {
        for s in &page? {
            seq.serialize_element(&SourceJson::from(s))?;
        }
    }
    seq.end()?;
    writeln!(out)?;
    Ok(())
}

/// One row of the `sources list` table.
fn list_cells(ctx: &Context, s: &SourceJson) -> Vec<String> {
    let mut status = match s.last_error_kind {
        _ if s.quarantined_at.is_some() => "quarantined".to_owned(),
        Some(k) if s.status == SourceStatus::Failing => format!("failing ({k})"),
        _ => s.status.to_string(),
    };
    if let Some(p) = s.pending_status {
        let needed = ctx.config.liveness.confirm_after.max(1);
        status.push_str(&format!(", {p}? (unconfirmed {}/{needed})", s.pending_count));
    }
    vec![
        s.id.to_string(),
        s.kind.to_string(),
        status,
        time(s.last_checked_at),
        time(Some(s.next_check_at)),
        clip(&s.url, 60),
        clip(s.title.as_deref().unwrap_or(""), 40),
    ]
}

/// Switches a page to the feed it advertises. The page's history stays with
/// the source; the feed's first check is a new baseline.
async fn use_feed(ctx: &Context, source: &str, feed: Option<&str>) -> anyhow::Result<()> {
    let s = ctx.source(source).await?;
    let advertised: Vec<String> = match s.last_snapshot_id {
        Some(id) => ctx
            .store
            .get_snapshot(id)
            .await?
            .map(|snap| crate::sources::SnapshotMeta::read(&snap.meta).feed_links)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let base = s.final_url.clone().unwrap_or_else(|| s.url.clone());
    let resolve = |href: &str| base.join(href).map_err(|e| usage(format!("bad feed URL {href:?}: {e}")));
    let chosen = match (feed, advertised.first()) {
        (Some(f), _) => resolve(f)?,
        (None, Some(first)) => resolve(first)?,
        (None, None) => {
            return Err(usage(format!(
                "source #{} advertises no feed in its last snapshot; name the feed URL: sources use-feed {} URL",
                s.id, s.id
            )));
        }
    };
    let url = normalize_url(chosen.as_str()).map_err(|e| usage(e.to_string()))?;
    ctx.store.switch_to_feed(s.id, &url, Utc::now()).await.map_err(store_error)?;
    eprintln!("Source #{} now watches the feed {url} (was {})", s.id, s.url);
    Ok(())
}

async fn pause(ctx: &Context, source: &str, paused: bool) -> anyhow::Result<()> {
    let s = ctx.source(source).await?;
    ctx.store.set_paused(&s, paused, Utc::now()).await?;
    eprintln!("{} source #{} {}", if paused { "Paused" } else { "Resumed" }, s.id, s.url);
    Ok(())
}

/// Validates everything `sources add` was given, reporting every problem:
/// the flags that only the command line spells (`--header`, `--timeout`)
/// here, the rest by the one source validator.
fn new_source(ctx: &Context, a: &AddArgs) -> anyhow::Result<NewSource> {
    let mut problems = Vec::new();
    let mut headers = Vec::new();
    for h in &a.headers {
        match h.split_once(':') {
            Some((n, v)) if !n.trim().is_empty() => {
                let (n, v) = (n.trim(), v.trim());
                // Checked as HTTP will: a CR/LF or other control byte would
                // otherwise be accepted here and dropped at request time.
                if reqwest::header::HeaderName::from_bytes(n.as_bytes()).is_err() {
                    problems.push(format!(
                        "header name {:?} is not a valid HTTP header name",
                        n.escape_debug().to_string()
                    ));
                } else if reqwest::header::HeaderValue::from_str(v).is_err() || v.chars().any(char::is_control) {
                    problems.push(format!("the value of header {n:?} contains a control character (CR, LF …)"));
                } else {
                    headers.push((n.to_owned(), v.to_owned()));
                }
            }
            _ => problems.push(format!("header {:?} must look like \"Name: value\"", h.escape_debug().to_string())),
        }
    }
    let timeout_secs = a.timeout.as_deref().and_then(|t| match crate::schedule::parse_duration(t) {
        Ok(d) => Some(d.as_secs().max(1)),
        Err(e) => {
            problems.push(e.to_string());
            None
        }
    });
    let spec = SourceSpec {
        url: a.url.clone(),
        kind: Some(a.kind.clone()),
        title: a.title.clone(),
        tags: a.tags.clone(),
        every: a.every.clone(),
        cron: a.cron.clone(),
        options: SourceOptions {
            select: a.select.clone(),
            exclude: a.exclude.clone(),
            ignore: a.ignore.clone(),
            headers,
            encoding: a.encoding.clone(),
            timeout_secs,
            respect_robots: a.no_robots.then_some(false),
            ..SourceOptions::default()
        },
    };
    match spec.validate(&ctx.config) {
        Ok(new) if problems.is_empty() => Ok(new),
        Ok(_) => Err(usage(problems.join("; "))),
        Err(e) => {
            problems.extend(e.problems.iter().map(ToString::to_string));
            Err(usage(problems.join("; ")))
        }
    }
}

fn show(s: &Source, format: Format) -> anyhow::Result<()> {
    let json = SourceJson::from(s);
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(&json)?);
        return Ok(());
    }
    println!("Source #{}  {}", s.id, s.url);
    println!("  kind:        {}", s.kind);
    println!("  title:       {}", s.title.as_deref().unwrap_or("-"));
    println!("  tags:        {}", if s.tags.is_empty() { "-".to_owned() } else { s.tags.join(", ") });
    if let Some(section) = &s.section {
        println!("  section:     {section}");
    }
    let status = match s.last_error_kind {
        Some(k) => format!("{} (last error: {k}: {})", s.status, s.last_error.as_deref().unwrap_or("")),
        None => s.status.to_string(),
    };
    println!("  status:      {status}");
    if let Some(at) = s.quarantined_at {
        println!(
            "  quarantined: since {} — its checks took the process down {} times; `sources resume {}` lifts it",
            time(Some(at)),
            s.crash_count,
            s.id
        );
    }
    if let Some(p) = json.pending_status {
        println!(
            "  pending:     {p} (unconfirmed {}), re-checked at {}",
            json.pending_count,
            time(Some(s.next_check_at))
        );
    }
    if let Some(f) = &s.final_url {
        println!("  final url:   {f}");
    }
    println!("  schedule:    {}", s.schedule.as_ref().map_or("default".to_owned(), ToString::to_string));
    println!("  last check:  {}", time(s.last_checked_at));
    println!("  next check:  {}", time(Some(s.next_check_at)));
    println!("  options:     {}", serde_json::to_string(&redacted(&s.options))?);
    if s.options.default_noise == Some(false) {
        println!("  noise rules: shipped rules off");
    } else {
        println!("  noise rules (shipped, line-wise):");
        for rule in crate::extract::default_noise_rules() {
            println!("    {:<16} {}", rule.name, rule.pattern);
        }
        println!("  community layouts (Q&A, posts, threads: only the content is kept):");
        for layout in crate::extract::community_layouts() {
            println!("    {:<18} {}", layout.name, layout.keeps);
        }
    }
    for re in &s.options.ignore {
        println!("    ignore           {re}");
    }
    for css in &s.options.exclude {
        println!("    exclude          {css}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::test_store::with_pages;
    use crate::store::StoreError;

    #[tokio::test]
    async fn the_paged_json_is_the_one_array_it_always_was() {
        let dir = tempfile::tempdir().unwrap();
        let (store, added) = with_pages(dir.path(), 7).await;
        let mut out = Vec::new();
        json_pages(&mut out, store.source_pages(3)).await.unwrap();
        let whole: Vec<SourceJson> = added.iter().map(SourceJson::from).collect();
        assert_eq!(String::from_utf8(out).unwrap(), format!("{}\n", serde_json::to_string_pretty(&whole).unwrap()));

        let empty = tempfile::tempdir().unwrap();
        let (store, _) = with_pages(empty.path(), 0).await;
        let mut out = Vec::new();
        json_pages(&mut out, store.source_pages(3)).await.unwrap();
        assert_eq!(out, b"[]\n");
    }

    #[tokio::test]
    async fn a_page_that_fails_leaves_no_array_a_reader_could_take_for_the_list() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = with_pages(dir.path(), 7).await;
        let mut out = Vec::new();
        let failing = futures::stream::iter([Err(StoreError::Corrupt("the second page is unreadable".to_owned()))]);
        let result = json_pages(&mut out, store.source_pages(3).take(1).chain(failing)).await;
        let error = result.expect_err("the failed page fails the listing");
        assert!(error.to_string().contains("the second page is unreadable"), "{error}");
        let text = String::from_utf8(out).unwrap();
        assert!(text.starts_with("[\n  {") && text.contains("list/2.html"), "{text}");
        assert!(serde_json::from_str::<serde_json::Value>(&text).is_err(), "an unclosed array: {text}");
    }
}
