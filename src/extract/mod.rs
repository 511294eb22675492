//! HTML → main text, noise rules and normalisation (pure, sync).
//!
//! `extract_owned_page` is what the runner calls for a page source (inside
//! `spawn_blocking`: `scraper::Html` is `!Send`, everything here returns owned
//! data). The text it returns is the thing that is hashed and diffed, so every
//! step exists to make invisible or meaningless differences vanish: we diff
//! text, never HTML, so attribute order, CSRF tokens and cache-busters in
//! URLs are gone by construction; normalisation removes whitespace and
//! Unicode-form differences; furniture removal and the noise rules remove
//! counters, relative times, ads and recommendation lists.

mod boilerplate;
pub mod budget;
mod community;
mod main_text;
mod meta;
mod noise;
mod normalize;
#[cfg(test)]
mod pinned;
mod plan;
mod select;
mod soft_gone;
mod stats;
#[cfg(test)]
mod tests;

use rustc_hash::FxHashSet;
use scraper::Selector;

pub use community::{Layout as CommunityLayout, layouts as community_layouts};
pub use noise::{NoiseRuleInfo, default_noise_rules, validate_regex};
pub use normalize::normalize_text;
pub use plan::apply_noise_rules;

/// Whether a char is CJK (ideographs, kana, hangul, CJK punctuation): the
/// diff marks these one character at a time.
pub fn is_cjk_char(c: char) -> bool {
    normalize::is_cjk(c)
}
pub use soft_gone::soft_gone_reason;

/// The version of what a page reads as: raise it with any change to what
/// a page's text, title or removed lines come out as (extraction, its
/// noise and furniture rules, normalisation, charset decoding). A page
/// snapshot carries it (inside [`crate::sources::page::read_stamp`]), so
/// the first check after an upgrade reads the stored body again before it
/// compares, and a page the new rules read differently is not a change
/// (`runner::compare`). `pinned` fails until it is raised with the pinned
/// output.
pub const VERSION: u32 = 1;

/// How to extract one source's page. Selectors and regexes come from the
/// user (`sources add --select/--ignore`) and are validated when saved.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ExtractOptions {
    /// CSS selector for the main content; every match is kept, in order.
    pub select: Option<String>,
    /// CSS selectors whose elements are dropped.
    pub exclude: Vec<String>,
    /// Regexes; the matched part of a line is dropped (the whole line when
    /// nothing else is left).
    pub ignore: Vec<String>,
    /// Apply the shipped line noise rules, and (without `select`) remove
    /// page furniture: nav, sidebars, share bars, comments, ads, link lists.
    pub default_noise: bool,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        ExtractOptions { select: None, exclude: Vec::new(), ignore: Vec::new(), default_noise: true }
    }
}

/// What a page says, minus its furniture and noise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    /// Normalised main text, one block per line: hashed and diffed.
    pub text: String,
    /// What was removed, as "rule: text" ("region aside: 热门文章 …",
    /// "counter_zh: 阅读 10万+"), for `check --dry-run` and tests.
    pub removed: Vec<String>,
    /// `<link rel=alternate>` feed hrefs, as written (relative or not).
    pub feed_links: Vec<String>,
}

impl Extracted {
    /// A SHA-256 over every field, each length-prefixed, so two outputs
    /// digest alike only when they are equal. Extraction output must not
    /// change across releases (a changed text is a spurious change on every
    /// user's next check): `examples/extract_digest.rs` prints this for a
    /// folder of pages to compare two builds, and the fixture pages are
    /// pinned by it in a test.
    pub fn digest(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut hash = Sha256::new();
        let mut field = |s: Option<&str>| match s {
            None => hash.update([0]),
            Some(s) => {
                hash.update([1]);
                hash.update((s.len() as u64).to_le_bytes());
                hash.update(s.as_bytes());
            }
        };
        field(self.title.as_deref());
        field(self.author.as_deref());
        field(self.published.as_deref());
        field(Some(&self.text));
        for list in [&self.removed, &self.feed_links] {
            field(Some(&list.len().to_string()));
            list.iter().for_each(|s| field(Some(s)));
        }
        hex::encode(hash.finalize())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExtractError {
    #[error("invalid CSS selector {selector:?}: {message}")]
    BadSelector { selector: String, message: String },
    #[error("invalid regex {pattern:?}")]
    BadRegex {
        pattern: String,
        #[source]
        source: regex::Error,
    },
    #[error(transparent)]
    Budget(#[from] budget::BudgetError),
    #[error("extracting the page took longer than {0} s")]
    TimedOut(u64),
    #[error("the HTML extractor crashed on this page: {0}")]
    Crashed(String),
}

/// Wall-clock budget of one page's extraction. The work budget keeps a
/// real parse far below it; this bounds what the work budget cannot see.
pub(crate) const EXTRACT_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Every selector the extractor ships (article containers, metadata
/// sources, community layouts), for `select`'s index to group pages by
/// their keys. Gathered here: `select` is what those modules build on.
fn shipped_css() -> impl Iterator<Item = &'static str> {
    main_text::shipped_css().chain(meta::shipped_css()).chain(community::shipped_css())
}

/// Checks that a user CSS selector parses.
pub fn validate_selector(css: &str) -> Result<(), ExtractError> {
    parse_selector(css).map(|_| ())
}

fn parse_selector(css: &str) -> Result<Selector, ExtractError> {
    Selector::parse(css).map_err(|e| ExtractError::BadSelector { selector: css.to_owned(), message: e.to_string() })
}

/// Extracts title/author/published, feed links and the normalised,
/// noise-free main text of an HTML page.
///
/// With `opts.select`, the text is that of every match (empty when nothing
/// matches: a selector that stopped matching is itself a change worth
/// seeing). Errors only for a bad user selector or regex; any HTML parses.
///
/// Bounded: a page past the nesting/work budget ([`budget`]) is refused at
/// the first tag past it, before html5ever's tree builder sees that tag;
/// the parse runs on a worker of the shared parser pool
/// ([`crate::worker::parsers`]: a known stack) with a time budget
/// ([`ExtractError::TimedOut`]); a panic is [`ExtractError::Crashed`].
/// Blocking: call it off the async threads.
pub fn extract_page(html: &str, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    extract_owned_page(html.to_owned(), opts)
}

/// [`extract_page`] of a page the caller no longer needs: the parse thread
/// takes it as it is, instead of a copy (a decoded page is 10–300 KB; the
/// runner's page read decodes it for this call alone).
pub fn extract_owned_page(html: String, opts: &ExtractOptions) -> Result<Extracted, ExtractError> {
    // User selectors and regexes fail fast, before any parsing; compiled
    // once per option set and shared (see `plan`).
    let plan = plan::plan(opts)?;
    let opts = opts.clone();
    crate::worker::parsers().run(EXTRACT_TIME, move || extract_unbounded(&html, &opts, &plan)).map_err(|e| match e {
        crate::worker::JobError::Panicked(message) => ExtractError::Crashed(message),
        crate::worker::JobError::TimedOut(_) => ExtractError::TimedOut(EXTRACT_TIME.as_secs()),
        crate::worker::JobError::Busy(waited) => ExtractError::TimedOut(waited.as_secs()),
        crate::worker::JobError::Unavailable(e) => {
            ExtractError::Crashed(format!("cannot start the extraction thread: {e}"))
        }
    })?
}

fn extract_unbounded(html: &str, opts: &ExtractOptions, plan: &plan::Plan) -> Result<Extracted, ExtractError> {
    let (select, exclude, rules) = (&plan.select, &plan.exclude, &plan.rules);

    let doc = budget::parse(html)?;
    let index = select::Index::new(&doc);
    let meta = meta::read_meta(&index);

    let mut excluded = FxHashSet::default();
    for selector in exclude {
        excluded.extend(doc.select(selector).map(|el| el.id()));
    }
    let stats = stats::PageStats::new(&doc);
    // A user selector says what the content is: furniture guesses inside it
    // (a `.comment` inside a selected `#comments`) would only get in the way;
    // `exclude` is the user's tool there. Line rules still apply.
    let furniture = opts.default_noise && select.is_none();
    // A Q&A or community page says where its content is (see `community`).
    let community = if furniture { community::recognise(&index) } else { None };
    let mut notes = Vec::new();
    let mut layout_drops = FxHashSet::default();
    let roots = match (&select, community) {
        (Some(selector), _) => main_text::selected_roots(&doc, selector),
        (None, Some(found)) => {
            notes.push(format!(
                "layout {}: only the {} (comments, votes, replies and recommendations left out)",
                found.layout.name, found.layout.keeps
            ));
            layout_drops = found.drop;
            found.roots
        }
        (None, None) => main_text::auto_roots(&index, &stats),
    };
    let drops = main_text::Drops { excluded, layout: layout_drops, furniture, stats: &stats };
    let (raw_lines, mut removed) = main_text::walk(&roots, &drops, meta.title.as_deref());
    notes.append(&mut removed);
    let mut removed = notes;

    let mut text = String::with_capacity(raw_lines.iter().map(|l| l.len() + 1).sum());
    for raw in &raw_lines {
        let line = normalize::normalize_line(raw);
        if line.is_empty() {
            continue;
        }
        if let Some(line) = rules.clean_line(line, &mut removed) {
            if !text.is_empty() {
                text.push('\n');
            }
            text.push_str(&line);
        }
    }
    Ok(Extracted {
        title: meta.title,
        author: meta.author,
        published: meta.published,
        text,
        removed,
        feed_links: meta.feed_links,
    })
}
