//! `snapshot list|show|export`: the archive of every page watched. The last
//! good copy of a dead link is what a user comes here for.

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::Utc;
use clap::{Args, Subcommand};
use serde::Serialize;

use super::context::{Context, usage};
use super::output::{print_list, time};
use super::{Format, FormatArg};
use crate::store::archive::{SnapshotFull, SnapshotInfo};

#[derive(Debug, Subcommand)]
pub enum SnapshotCommand {
    /// A source's snapshots, oldest first (id, date, raw body kept or pruned).
    List {
        /// Source id or URL.
        source: String,
        #[command(flatten)]
        format: FormatArg,
    },
    /// One snapshot's normalised text (or raw body). TARGET is a snapshot id,
    /// or a source URL (its current snapshot: for a dead link, the last good
    /// copy); `--source ID` names a source by id.
    Show(ShowArgs),
    /// Every snapshot of a source into DIR: text, raw body and index.json.
    Export {
        /// Source id or URL.
        source: String,
        #[arg(long)]
        output: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ShowArgs {
    /// A snapshot id, or a source URL.
    #[arg(required_unless_present = "source")]
    pub target: Option<String>,
    /// The source (id or URL) whose snapshot to show.
    #[arg(long, conflicts_with = "target")]
    pub source: Option<String>,
    /// The snapshot in force at this time (RFC 3339, a date, or a duration back: 7d).
    #[arg(long)]
    pub at: Option<String>,
    /// The normalised text (the default).
    #[arg(long, conflicts_with = "raw")]
    pub text: bool,
    /// The raw body as fetched, when it is still kept.
    #[arg(long)]
    pub raw: bool,
    /// `json`: the snapshot's fields and text as one object.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

pub async fn run(ctx: &Context, cmd: SnapshotCommand) -> anyhow::Result<()> {
    match cmd {
        SnapshotCommand::List { source, format } => {
            let s = ctx.source(&source).await?;
            let rows = ctx.store.list_snapshots(s.id).await?;
            eprintln!("Source #{} {}: {} snapshot(s)", s.id, s.url, rows.len());
            print_list(format.format, &rows, &["ID", "TAKEN", "HTTP", "RAW", "CURRENT", "HASH"], |r| {
                vec![
                    r.id.to_string(),
                    time(Some(r.created_at)),
                    r.http_status.map_or("-".to_owned(), |h| h.to_string()),
                    r.raw_bytes.map_or("pruned".to_owned(), |b| format!("{b} B")),
                    if r.current { "current".to_owned() } else { String::new() },
                    r.content_hash.chars().take(12).collect(),
                ]
            })
        }
        SnapshotCommand::Show(args) => show(ctx, &args).await,
        SnapshotCommand::Export { source, output } => export(ctx, &source, &output).await,
    }
}

async fn show(ctx: &Context, args: &ShowArgs) -> anyhow::Result<()> {
    let at = args
        .at
        .as_deref()
        .map(|a| super::changes::parse_since(a, Utc::now()))
        .transpose()
        .map_err(|e| usage(e.replace("--since", "--at")))?;
    // A target that is not a number is a source's URL.
    let by_source = match (&args.target, &args.source) {
        (_, Some(s)) => Some(s),
        (Some(t), None) if t.parse::<i64>().is_err() => Some(t),
        _ => None,
    };
    let id = match (by_source, &args.target) {
        (Some(r), _) => {
            let s = ctx.source(r).await?;
            ctx.store.snapshot_for(s.id, at).await?.ok_or_else(|| {
                usage(match at {
                    Some(at) => format!("source #{} has no snapshot taken before {}", s.id, at.to_rfc3339()),
                    None => format!("source #{} has no snapshot yet (never checked successfully)", s.id),
                })
            })?
        }
        (None, Some(t)) => {
            if at.is_some() {
                return Err(usage("--at picks a snapshot of a source: give --source ID or a source URL"));
            }
            t.parse::<i64>().map_err(|_| usage(format!("{t:?} is not a snapshot id")))?
        }
        (None, None) => return Err(usage("give a snapshot id, a source URL or --source ID")),
    };
    let snap = ctx.store.snapshot_full(id).await?.ok_or_else(|| usage(format!("no snapshot #{id}")))?;
    eprintln!(
        "Snapshot #{} of source #{}, taken {}{}{}",
        snap.info.id,
        snap.info.source_id,
        snap.info.created_at.to_rfc3339(),
        snap.info.final_url.as_deref().map(|u| format!(" from {u}")).unwrap_or_default(),
        if snap.info.current { " (current: the last good copy)" } else { "" },
    );
    if args.raw {
        if args.format == Format::Json {
            return Err(usage("--raw prints the body as fetched; it has no JSON form"));
        }
        let body = raw_body(ctx, &snap).await?;
        std::io::stdout().write_all(&body)?;
        return Ok(());
    }
    match args.format {
        Format::Json => println!("{}", serde_json::to_string_pretty(&snap)?),
        Format::Table => {
            let mut out = std::io::stdout();
            out.write_all(snap.text.as_bytes())?;
            if !snap.text.ends_with('\n') {
                out.write_all(b"\n")?;
            }
        }
    }
    Ok(())
}

async fn raw_body(ctx: &Context, snap: &SnapshotFull) -> anyhow::Result<Vec<u8>> {
    let pruned = || {
        usage(format!(
            "the raw body of snapshot #{} was pruned (retention.raw_bodies); its text is kept: drop --raw",
            snap.info.id
        ))
    };
    let hash = snap.raw_hash.as_deref().ok_or_else(pruned)?;
    ctx.store.raw_body(hash).await?.ok_or_else(pruned)
}

/// One exported snapshot in `index.json`.
#[derive(Debug, Serialize)]
struct IndexEntry<'a> {
    #[serde(flatten)]
    info: &'a SnapshotInfo,
    content_type: Option<String>,
    text_file: String,
    raw_file: Option<String>,
}

#[derive(Debug, Serialize)]
struct Index<'a> {
    source_id: i64,
    url: String,
    title: Option<String>,
    exported_at: chrono::DateTime<Utc>,
    snapshots: Vec<IndexEntry<'a>>,
}

/// Writes each snapshot's text and raw body, one at a time (memory stays at
/// one snapshot whatever the history), then the index.
async fn export(ctx: &Context, source: &str, dir: &Path) -> anyhow::Result<()> {
    let s = ctx.source(source).await?;
    if dir.exists() && !dir.is_dir() {
        return Err(usage(format!("{} exists and is not a folder", dir.display())));
    }
    std::fs::create_dir_all(dir).map_err(|e| usage(format!("cannot create {}: {e}", dir.display())))?;
    let infos = ctx.store.list_snapshots(s.id).await?;
    let mut entries = Vec::with_capacity(infos.len());
    for info in &infos {
        let Some(snap) = ctx.store.snapshot_full(info.id).await? else { continue };
        let text_file = format!("snapshot-{}.txt", info.id);
        std::fs::write(dir.join(&text_file), &snap.text)?;
        let content_type = snap.meta.get("content_type").and_then(|v| v.as_str()).map(str::to_owned);
        let raw = match &snap.raw_hash {
            Some(h) => ctx.store.raw_body(h).await?,
            None => None,
        };
        let raw_file = match raw {
            Some(body) => {
                let name = format!("snapshot-{}.raw.{}", info.id, extension(content_type.as_deref()));
                std::fs::write(dir.join(&name), body)?;
                Some(name)
            }
            None => None,
        };
        entries.push(IndexEntry { info, content_type, text_file, raw_file });
    }
    let index = Index {
        source_id: s.id.0,
        url: s.url.to_string(),
        title: s.title.clone(),
        exported_at: Utc::now(),
        snapshots: entries,
    };
    std::fs::write(dir.join("index.json"), serde_json::to_string_pretty(&index)?)?;
    let raws = index.snapshots.iter().filter(|e| e.raw_file.is_some()).count();
    eprintln!(
        "Exported {} snapshot(s) of source #{} ({raws} with their raw body) to {}",
        index.snapshots.len(),
        s.id,
        dir.display()
    );
    Ok(())
}

fn extension(content_type: Option<&str>) -> &'static str {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("html") {
        "html"
    } else if ct.contains("pdf") {
        "pdf"
    } else if ct.contains("json") {
        "json"
    } else if ct.contains("xml") || ct.contains("rss") || ct.contains("atom") {
        "xml"
    } else if ct.starts_with("text/") {
        "txt"
    } else {
        "bin"
    }
}
