//! The floor of a cold check: the stages of a page's first check that are
//! the chosen crates' work — reqwest's fetch, the charset decoding,
//! html5ever's parse, the extraction, the catalog analysis, SHA-256 and
//! zstd — run as the daemon runs them, with nothing of ours around them.
//!
//! The same client ([`Fetcher`], built from the same configuration), the
//! same number of pages at work at once (`fetch.concurrency`), each page
//! on its own task, and the CPU work on the same threads: the page read
//! on the CPU threads ([`blocking`]), its parse handed on to the parser
//! pool ([`crate::worker::parsers`]), a long text's analysis on the CPU
//! threads — so the hand-offs between threads are counted too. What is
//! left out is the daemon's own: claims and leases, the history and
//! liveness, the record writer and its database, the catalog's growth
//! during a sweep (matcher rebuilds), logs.
//!
//! [`Floor::run`] takes the stages up to [`Floor::through`]; run once per
//! prefix (`examples/floor.rs`, `scripts/bench --floor`), what a prefix
//! costs over the one before is that stage's cost, and what the daemon's
//! cold check costs over the whole run is ours (issue 12).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use url::Url;

use crate::blocking::blocking;
use crate::catalog::Matcher;
use crate::extract::ExtractOptions;
use crate::fetch::charset::{self, Decoded};
use crate::fetch::{FetchRequest, Fetched, Fetcher};
use crate::sources::Observed;
use crate::sources::harness::from_fetch;
use crate::sources::page::{self, PageRead, PageSpec};
use crate::store::record::{SnapshotText, compress_snapshot};

/// One stage of a cold check, in the order they run; a run takes every
/// stage up to one of them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Stage {
    /// GET, the whole body read.
    Fetch,
    /// The charset detection and decoding of the page read.
    Decode,
    /// html5ever's tree, built as the extractor builds it ([`crate::extract::budget::parse`]).
    Parse,
    /// The daemon's whole page read: decoding, extraction with the default
    /// options, and its verdicts on the text ([`page::read_or_follow`]).
    Extract,
    /// The catalog analysis of the text, as the runner does for a new text.
    Analyse,
    /// SHA-256 of the text, SHA-256 and zstd of the body, zstd of the text
    /// (when the store compresses texts), as the runner does for a new snapshot.
    HashCompress,
}

impl Stage {
    pub const ALL: [Stage; 6] =
        [Stage::Fetch, Stage::Decode, Stage::Parse, Stage::Extract, Stage::Analyse, Stage::HashCompress];

    pub fn name(self) -> &'static str {
        match self {
            Stage::Fetch => "fetch",
            Stage::Decode => "decode",
            Stage::Parse => "parse",
            Stage::Extract => "extract",
            Stage::Analyse => "analyse",
            Stage::HashCompress => "hash+compress",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Stage {
    type Err = String;

    fn from_str(s: &str) -> Result<Stage, String> {
        Stage::ALL.into_iter().find(|stage| stage.name() == s).ok_or_else(|| {
            let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
            format!("unknown stage {s:?} (one of {})", names.join(", "))
        })
    }
}

/// A page that did not get through a stage, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageError {
    pub url: Url,
    pub stage: Stage,
    pub message: String,
}

/// What a run did, over every page.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    pub pages: usize,
    /// Pages that got through each stage ([`Tally::passed`]).
    passed: [usize; 6],
    /// Bodies as received (after content decoding).
    pub body_bytes: u64,
    /// Decoded pages (`decode`, `parse`), or extracted texts (from `extract` on).
    pub text_bytes: u64,
    /// Nodes of the parsed trees (`parse` only: the extraction keeps its tree).
    pub nodes: u64,
    /// Entities the analyses found.
    pub mentions: u64,
    /// Compressed bodies and texts as the store would write them.
    pub stored_bytes: u64,
    /// Every page that stopped short, in no particular order.
    pub errors: Vec<PageError>,
}

impl Tally {
    /// How many pages got through `stage`.
    pub fn passed(&self, stage: Stage) -> usize {
        self.passed[stage as usize]
    }

    fn add(&mut self, page: PageRun) {
        for stage in Stage::ALL.into_iter().filter(|s| page.passed.is_some_and(|p| *s <= p)) {
            self.passed[stage as usize] += 1;
        }
        self.body_bytes += page.body_bytes;
        self.text_bytes += page.text_bytes;
        self.nodes += page.nodes;
        self.mentions += page.mentions;
        self.stored_bytes += page.stored_bytes;
        self.errors.extend(page.error);
    }
}

/// One page's run: the last stage it got through, and what each made.
#[derive(Debug, Default)]
struct PageRun {
    passed: Option<Stage>,
    body_bytes: u64,
    text_bytes: u64,
    nodes: u64,
    mentions: u64,
    stored_bytes: u64,
    error: Option<PageError>,
}

type StageResult<T> = Result<T, (Stage, String)>;

/// A run of the stages up to `through` over a list of pages.
#[derive(Clone)]
pub struct Floor {
    pub fetcher: Fetcher,
    pub through: Stage,
    /// Pages at work at once: the daemon's `fetch.concurrency`.
    pub concurrency: usize,
    /// The catalog matcher, needed from [`Stage::Analyse`] on.
    pub matcher: Option<Arc<Matcher>>,
    /// Whether the store compresses texts (SQLite; PostgreSQL does it itself).
    pub compress_text: bool,
}

impl Floor {
    /// Runs every page through the stages, at most `concurrency` at once,
    /// each on its own task (as the runner starts each check). Never
    /// fails: a page that stops short is in [`Tally::errors`].
    pub async fn run(&self, urls: Vec<Url>) -> Tally {
        let mut tally = Tally { pages: urls.len(), ..Tally::default() };
        let slots = Arc::new(Semaphore::new(self.concurrency.max(1)));
        let mut tasks = JoinSet::new();
        // Each task's page, for an error of a task that panicked.
        let mut urls_of = HashMap::new();
        for url in urls {
            // The semaphore is never closed.
            let Ok(slot) = slots.clone().acquire_owned().await else { break };
            let floor = self.clone();
            let task_url = url.clone();
            let task = tasks.spawn(async move {
                let _slot = slot;
                floor.page(&task_url).await
            });
            urls_of.insert(task.id(), url);
        }
        while let Some(done) = tasks.join_next_with_id().await {
            match done {
                Ok((id, page)) => {
                    urls_of.remove(&id);
                    tally.add(page);
                }
                Err(e) => {
                    if let Some(url) = urls_of.remove(&e.id()) {
                        let message = if e.is_panic() { "the page's task panicked".to_owned() } else { e.to_string() };
                        tally.errors.push(PageError { url, stage: self.through, message });
                    }
                }
            }
        }
        tally
    }

    async fn page(&self, url: &Url) -> PageRun {
        let mut run = PageRun::default();
        if let Err((stage, message)) = self.stages(url, &mut run).await {
            run.error = Some(PageError { url: url.clone(), stage, message });
        }
        run
    }

    async fn stages(&self, url: &Url, run: &mut PageRun) -> StageResult<()> {
        // A page source's request with default options (`page::request`).
        let mut req = FetchRequest::get(url.clone());
        req.respect_robots = self.fetcher.config().respect_robots;
        let f = match self.fetcher.fetch(&req).await {
            crate::fetch::FetchOutcome::Fetched(f) => f,
            other => return Err((Stage::Fetch, describe(&from_fetch(other).observed))),
        };
        run.body_bytes = f.body.len() as u64;
        run.passed = Some(Stage::Fetch);
        if self.through == Stage::Fetch {
            return Ok(());
        }
        // The page read starts with the sniff (`sources::harness`).
        if let Some(kind) = page::sniff(&f) {
            return Err((Stage::Decode, format!("the body reads as a {kind}, not a page")));
        }
        match self.through {
            Stage::Decode => return self.decode_only(f, run).await,
            Stage::Parse => return self.parse_only(f, run).await,
            _ => {}
        }
        // The daemon's page read, on the CPU threads, the body moved in.
        let spec = PageSpec { url: url.clone(), extract: ExtractOptions::default(), encoding: None };
        let read = blocking(move || page::read_or_follow(&spec, &f)).await.map_err(|e| (Stage::Extract, e))?;
        let fresh = match read {
            PageRead::Done(obs) => match obs.observed {
                Observed::Fresh(fresh) => fresh,
                other => return Err((Stage::Extract, describe(&other))),
            },
            PageRead::Follow { to, how, .. } => {
                return Err((Stage::Extract, format!("a client-side redirect ({how}) to {to}")));
            }
        };
        run.text_bytes = fresh.text.len() as u64;
        run.passed = Some(Stage::Extract);
        if self.through == Stage::Extract {
            return Ok(());
        }
        // The runner's order: the snapshot (hash, compression) first, then
        // the catalog analysis, the snapshot held meanwhile.
        let snapshot = match self.through {
            Stage::HashCompress => Some(self.hash_compress(&fresh).await.map_err(|e| (Stage::HashCompress, e))?),
            _ => None,
        };
        let matcher = self.matcher.clone().ok_or((Stage::Analyse, "no catalog matcher given".to_owned()))?;
        // As `runner::catalog::CatalogStep::prepare`.
        let analysis =
            crate::runner::catalog::analyse_text(&matcher, &fresh.text).await.map_err(|e| (Stage::Analyse, e))?;
        run.mentions = analysis.mentions.len() as u64;
        run.passed = Some(Stage::Analyse);
        if let Some(stored) = snapshot {
            run.stored_bytes = stored;
            run.passed = Some(Stage::HashCompress);
        }
        Ok(())
    }

    /// The page read's decoding alone, as its CPU job.
    async fn decode_only(&self, f: Fetched, run: &mut PageRun) -> StageResult<()> {
        let decoded = blocking(move || decode(&f).map(|d| d.text.len())).await.map_err(|e| (Stage::Decode, e))?;
        run.text_bytes = decoded.map_err(|e| (Stage::Decode, e))? as u64;
        run.passed = Some(Stage::Decode);
        Ok(())
    }

    /// The page read's decoding and its parse alone: the CPU job decodes
    /// and hands the page to the parser pool, as the extraction does.
    async fn parse_only(&self, f: Fetched, run: &mut PageRun) -> StageResult<()> {
        let job = move || -> StageResult<(u64, u64)> {
            let html = decode(&f).map_err(|e| (Stage::Decode, e))?.text;
            let chars = html.len() as u64;
            let nodes = crate::worker::parsers()
                .run(crate::extract::EXTRACT_TIME, move || {
                    crate::extract::budget::parse(&html).map(|doc| doc.tree.nodes().count() as u64)
                })
                .map_err(|e| (Stage::Parse, e.to_string()))?
                .map_err(|e| (Stage::Parse, e.to_string()))?;
            Ok((chars, nodes))
        };
        let (chars, nodes) = blocking(job).await.map_err(|e| (Stage::Parse, e))??;
        run.text_bytes = chars;
        run.nodes = nodes;
        run.passed = Some(Stage::Parse);
        Ok(())
    }

    /// As `runner::compare` makes a new snapshot: the text's SHA-256 where
    /// it is, the body's hash and compression and the text's compression
    /// on the CPU threads, with copies of both. The bytes they compress to.
    async fn hash_compress(&self, fresh: &crate::sources::Fresh) -> Result<u64, String> {
        let hash = hex::encode(Sha256::digest(fresh.text.as_bytes()));
        let (raw, text, compress_text) = (fresh.raw.clone(), fresh.text.clone(), self.compress_text);
        let (body, text) = blocking(move || compress_snapshot(raw.as_deref(), text, compress_text))
            .await?
            .map_err(|e| format!("cannot compress: {e}"))?;
        let text_bytes = match text {
            SnapshotText::Plain(t) => t.len(),
            SnapshotText::Zstd(z) => z.len(),
        };
        Ok((hash.len() + body.map_or(0, |b| b.zstd.len()) + text_bytes) as u64)
    }
}

/// The front of the page read ([`page::read_or_follow`]): a blank or
/// binary body is refused, anything else decoded.
fn decode(f: &Fetched) -> Result<Decoded, String> {
    if let Some(reason) = page::unreadable(f) {
        return Err(reason);
    }
    Ok(charset::decode(&f.body, f.content_type.as_deref(), None, f.final_url.host_str()))
}

/// Why an observation is not a page's text.
fn describe(observed: &Observed) -> String {
    let what = match observed {
        Observed::Fresh(_) => "fresh",
        Observed::NotModified => "not modified",
        Observed::Gone { .. } => "gone",
        Observed::SoftGone { .. } => "soft gone",
        Observed::Redirected { .. } => "redirected",
        Observed::Failed { .. } => "failed",
        Observed::Deferred { .. } => "deferred",
    };
    match observed.message() {
        Some(message) => format!("{what}: {message}"),
        None => what.to_owned(),
    }
}

/// The CPU time and peak resident memory of this process so far
/// (`getrusage`), as the bench measures the daemon's (`wait4`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    pub user: Duration,
    pub sys: Duration,
    pub peak_rss_kb: u64,
}

impl Usage {
    /// This process's usage now; zeros where `getrusage` is not to be had.
    pub fn now() -> Usage {
        #[cfg(unix)]
        if let Some(ru) = getrusage() {
            let time = |t: libc::timeval| {
                Duration::from_secs(t.tv_sec.max(0) as u64) + Duration::from_micros(t.tv_usec.max(0) as u64)
            };
            // Linux counts ru_maxrss in KiB.
            return Usage { user: time(ru.ru_utime), sys: time(ru.ru_stime), peak_rss_kb: ru.ru_maxrss.max(0) as u64 };
        }
        Usage::default()
    }

    /// The CPU time spent since `earlier` (the peak is this one's).
    pub fn since(&self, earlier: &Usage) -> Usage {
        Usage {
            user: self.user.saturating_sub(earlier.user),
            sys: self.sys.saturating_sub(earlier.sys),
            peak_rss_kb: self.peak_rss_kb,
        }
    }
}

/// `getrusage(RUSAGE_SELF)`: the one FFI call here (no safe wrapper among
/// the crate's dependencies; `wait4` is how the bench measures the daemon).
#[cfg(unix)]
#[allow(unsafe_code)]
fn getrusage() -> Option<libc::rusage> {
    let mut ru = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: `ru` is valid and writable for the call to fill; it is read
    // only when the call says it filled it.
    unsafe { (libc::getrusage(libc::RUSAGE_SELF, ru.as_mut_ptr()) == 0).then(|| ru.assume_init()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_parse_by_name_in_order() {
        for (i, stage) in Stage::ALL.into_iter().enumerate() {
            assert_eq!(stage.name().parse::<Stage>(), Ok(stage));
            assert_eq!(stage as usize, i);
        }
        assert!("hash".parse::<Stage>().unwrap_err().contains("hash+compress"));
    }

    #[test]
    fn usage_counts_cpu_and_memory() {
        let before = Usage::now();
        let mut x = 0u64;
        for i in 0..20_000_000u64 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(i));
        }
        let spent = Usage::now().since(&before);
        assert!(spent.user + spent.sys > Duration::ZERO, "{spent:?} ({x})");
        assert!(spent.peak_rss_kb > 0);
    }
}
