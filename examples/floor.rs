//! The floor of a cold check: a prefix of its stages (fetch, decode,
//! parse, extract, analyse, hash+compress) over a list of URLs, run as
//! the daemon runs them (`modelwatch::bench_floor`), and what that cost
//! this process, as one JSON line:
//!
//! ```text
//! floor URLS [--through STAGE] [--config FILE]
//! {"body_bytes":156767916,"concurrency":32,"cpu_ms_per_page":0.867,"errors":0,"mentions":0,
//!  "nodes":4023159,"ok":2000,"pages":2000,"pages_per_s":1399.5,"passed":{"decode":2000,"fetch":2000,
//!  "parse":2000},"peak_rss_mb":29.8,"stage":"parse","startup_cpu_s":0.007,"stored_bytes":0,
//!  "sys_ms_per_page":0.115,"sys_s":0.23,"text_bytes":172324899,"user_s":1.503,"wall_s":1.429}
//! ```
//!
//! `URLS` holds one URL a line. The configuration is found as the CLI
//! finds it (`--config`, `MODELWATCH_CONFIG`, the usual places): the
//! fetcher is built from its `[fetch]` (client, timeouts, body cap,
//! concurrency), the catalog matcher from its catalog files and stop
//! list, and texts are compressed when its database is SQLite. The CPU
//! time and the wall time are those of the run alone (from its first
//! request to its last page's end); start-up (the configuration, the
//! matcher) is in `startup_cpu_s`. A page that stops short is printed on
//! stderr and counted in `errors`, and the exit code is then 1.
//! `scripts/bench --floor` runs this once per prefix, over the bench's
//! pages, and prints the table.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context as _, bail};
use modelwatch::bench_floor::{Floor, Stage, Usage};
use modelwatch::catalog::seed::parse_seed_over;
use modelwatch::catalog::{Matcher, parse_seed};
use modelwatch::cli::context::load_config;
use modelwatch::config::Config;
use modelwatch::fetch::Fetcher;
use url::Url;

struct Args {
    urls: PathBuf,
    through: Stage,
    config: Option<PathBuf>,
}

fn args() -> anyhow::Result<Args> {
    let mut urls = None;
    let mut through = Stage::HashCompress;
    let mut config = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--through" => {
                through = it.next().context("--through needs a stage")?.parse().map_err(anyhow::Error::msg)?
            }
            "--config" => config = Some(PathBuf::from(it.next().context("--config needs a file")?)),
            _ if a.starts_with("--") => bail!("unknown option {a}"),
            _ if urls.is_none() => urls = Some(PathBuf::from(a)),
            _ => bail!("one file of URLs only"),
        }
    }
    // As the CLI's `--config`: the environment's when not given.
    let config = config.or_else(|| std::env::var_os("MODELWATCH_CONFIG").map(PathBuf::from));
    Ok(Args { urls: urls.context("usage: floor URLS [--through STAGE] [--config FILE]")?, through, config })
}

/// The matcher the runner's catalog step builds, from the configured
/// catalog files (the seed with the landscape over it, as `init` loads
/// them) and the configured stop list.
fn matcher(config: &Config) -> anyhow::Result<Matcher> {
    let read = |path: &std::path::Path| {
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let seed = parse_seed(&read(&config.catalog_file)?)?;
    let landscape = parse_seed_over(&read(&config.catalog.landscape_file)?, &seed.catalog)?;
    let mut catalog = seed.catalog;
    landscape.apply_to(&mut catalog);
    let stop = modelwatch::runner::catalog::stoplist(&config.catalog.stoplist_file);
    Ok(Matcher::with_stoplist(&catalog, stop)?)
}

fn main() -> anyhow::Result<ExitCode> {
    // As the binary's `main`: the allocator's arenas first, ring for rustls.
    modelwatch::arenas::bound();
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = args()?;
    let (config, _) = load_config(args.config.as_deref(), None)?;
    let text = std::fs::read_to_string(&args.urls).with_context(|| format!("cannot read {}", args.urls.display()))?;
    let urls = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| Url::parse(l).with_context(|| format!("bad URL {l:?}")))
        .collect::<anyhow::Result<Vec<Url>>>()?;
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    // As `modelwatch run` and `check`: memory given back while pages run.
    modelwatch::trim::start();
    let floor = Floor {
        fetcher: Fetcher::new(&config.fetch)?,
        through: args.through,
        concurrency: config.fetch.concurrency.max(1) as usize,
        matcher: if args.through >= Stage::Analyse { Some(Arc::new(matcher(&config)?)) } else { None },
        compress_text: config.database.url.starts_with("sqlite:"),
    };
    let before = Usage::now();
    let started = Instant::now();
    let tally = runtime.block_on(floor.run(urls));
    let wall = started.elapsed().as_secs_f64();
    let after = Usage::now();
    let spent = after.since(&before);
    runtime.shutdown_timeout(std::time::Duration::from_secs(5));

    for e in &tally.errors {
        eprintln!("{} at {}: {}", e.url, e.stage, e.message);
    }
    let pages = tally.pages.max(1) as f64;
    let (user, sys) = (spent.user.as_secs_f64(), spent.sys.as_secs_f64());
    let round = |v: f64, places: i32| (v * 10f64.powi(places)).round() / 10f64.powi(places);
    let passed: serde_json::Map<String, serde_json::Value> = Stage::ALL
        .iter()
        .filter(|s| **s <= args.through)
        .map(|s| (s.name().to_owned(), tally.passed(*s).into()))
        .collect();
    let line = serde_json::json!({
        "stage": args.through.name(),
        "pages": tally.pages,
        "ok": tally.passed(args.through),
        "errors": tally.errors.len(),
        "concurrency": floor.concurrency,
        "wall_s": round(wall, 3),
        "user_s": round(user, 3),
        "sys_s": round(sys, 3),
        "cpu_ms_per_page": round((user + sys) * 1000.0 / pages, 3),
        "sys_ms_per_page": round(sys * 1000.0 / pages, 3),
        "pages_per_s": round(tally.pages as f64 / wall.max(1e-9), 1),
        "peak_rss_mb": round(after.peak_rss_kb as f64 / 1024.0, 1),
        "startup_cpu_s": round((before.user + before.sys).as_secs_f64(), 3),
        "passed": passed,
        "body_bytes": tally.body_bytes,
        "text_bytes": tally.text_bytes,
        "nodes": tally.nodes,
        "mentions": tally.mentions,
        "stored_bytes": tally.stored_bytes,
    });
    println!("{line}");
    Ok(if tally.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
