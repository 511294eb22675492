//! RSS 2.0, Atom and JSON Feed sources. The snapshot is the *set* of the
//! feed's newest entries ([`cap`]), sorted by id, so a reorder or a
//! refetch hashes the same; a change lists new entries, and edited entries
//! separately. A large feed is parsed a batch of entries at a time
//! ([`outline`]), and what answered instead of a feed is named ([`came`]).

mod came;
pub mod cap;
mod json_items;
mod outline;

use std::collections::{BTreeMap, HashSet};
use std::ops::Range;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use feed_rs::parser::ParseFeedError;
use outline::OutlineError;
use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{KindChange, Structured, clip};
use crate::change::ChangeStats;
use crate::fetch::charset;
use crate::types::ChangeKind;

/// What a feed source asks for.
pub const ACCEPT: &str =
    "application/rss+xml,application/atom+xml,application/feed+json,application/xml;q=0.9,*/*;q=0.5";

/// Longest summary kept per entry, in chars: enough to see an edit, small
/// enough that a feed of full articles stays a small snapshot.
const SUMMARY_CHARS: usize = 400;
/// New entries listed in one change's excerpt.
const LISTED: usize = 20;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub id: String,
    #[serde(default)]
    pub link: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub published: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

/// Why a body is no feed to snapshot.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// Something else answered: a login page, a proxy's error page, a JSON
    /// error, an empty body.
    #[error("not a feed: {what} came instead ({served})")]
    NotAFeed { what: String, served: String },
    /// The body ends before its root element closes: cut off by the
    /// connection. Read as it is, it would be a feed with fewer entries.
    #[error("the feed ends mid-document after {bytes} bytes ({open} not closed): a cut-off answer")]
    CutOff { bytes: usize, open: String },
    /// A feed the parser cannot read.
    #[error("not a feed: {0}")]
    Parse(#[source] feed_rs::parser::ParseFeedError),
}

static TAGS: LazyLock<Option<Regex>> = LazyLock::new(|| Regex::new(r"(?s)<[^>]*>").ok());
static XML_ENCODING: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r#"^(\s*<\?xml[^>]*?)encoding\s*=\s*["']([^"']*)["']"#).ok());

/// Bodies up to this size are parsed whole; larger ones a batch of entries
/// at a time. feed-rs's model of short entries is some 8 times their XML
/// (a 1 MB batch of 4,000 entries: 8 MB), so a batch of 256 KiB stays
/// near 2 MB, and a 50-entry feed is one batch as it always was.
const WHOLE_BYTES: usize = 256 << 10;
/// Entries' bytes parsed at once in a larger feed.
const BATCH_BYTES: usize = 256 << 10;

/// Plain text of a summary that may carry HTML, whitespace collapsed.
fn plain(s: &str) -> String {
    let stripped = match TAGS.as_ref() {
        Some(re) => re.replace_all(s, " ").into_owned(),
        None => s.to_owned(),
    };
    let unescaped = stripped.replace("&nbsp;", " ").replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">");
    unescaped.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses a feed body, keeping its newest [`cap::KEEP`] entries. Non-UTF-8
/// feeds (GBK news sites) are decoded first; the XML declaration then no
/// longer tells the truth, so it is rewritten.
pub fn parse(body: &[u8], content_type: Option<&str>, encoding: Option<&str>) -> Result<Structured, FeedError> {
    let decoded = charset::decode(body, content_type, encoding, None);
    // A declaration that already says UTF-8 is left alone: no second copy
    // of a large body.
    let text = match XML_ENCODING.as_ref() {
        Some(re)
            if re
                .captures(&decoded.text)
                .and_then(|c| c.get(2))
                .is_some_and(|label| !label.as_str().eq_ignore_ascii_case("utf-8")) =>
        {
            re.replace(&decoded.text, "${1}encoding=\"utf-8\"").into_owned()
        }
        _ => decoded.text,
    };
    let not_a_feed = |root: Option<&str>| FeedError::NotAFeed {
        what: came::describe(&text, content_type, root),
        served: came::served(content_type),
    };
    let start = text.trim_start_matches(|c: char| c == '\u{feff}' || c.is_whitespace());
    let mut newest = cap::Newest::new(cap::KEEP);
    let title = if start.starts_with('<') {
        match outline::outline(&text) {
            Ok(o) if o.is_feed() && o.is_cut_off() => return Err(cut_off(&text, &o.unclosed)),
            Err(OutlineError::CutInMarkup { unclosed, .. })
                if unclosed.first().is_some_and(|r| outline::is_feed_root(r)) =>
            {
                return Err(cut_off(&text, &unclosed));
            }
            Ok(o) if !o.is_feed() => return Err(not_a_feed(o.root.as_deref())),
            Ok(o) if text.len() > WHOLE_BYTES && !o.entries.is_empty() => in_batches(&text, &o.entries, &mut newest)?,
            // A feed read whole, or XML the outline could not follow: the
            // parser decides, as it always did.
            _ => match whole(&text, &mut newest) {
                Ok(title) => title,
                Err(_) if came::is_html(&text, content_type) => return Err(not_a_feed(None)),
                Err(e) => return Err(e),
            },
        }
    } else {
        let split = if text.len() > WHOLE_BYTES { json_items::split(&text) } else { None };
        let read = match split {
            Some(split) if !split.items.is_empty() => json_in_batches(&split, &mut newest),
            _ => whole(&text, &mut newest),
        };
        match read {
            Ok(title) => title,
            Err(FeedError::Parse(ParseFeedError::JsonSerde(e))) if e.is_eof() => {
                return Err(FeedError::CutOff { bytes: text.len(), open: "the JSON document".to_owned() });
            }
            // A broken JSON Feed says so; anything else is named.
            Err(e) if start.starts_with('{') && text.contains("jsonfeed.org") => return Err(e),
            Err(_) => return Err(not_a_feed(None)),
        }
    };
    let entries: Vec<Entry> = newest.finish().into_values().collect();
    Ok(Structured {
        text: snapshot_text(title.as_deref(), &entries),
        meta: serde_json::json!({ "title": title, "entries": entries }),
        title,
        metrics: Vec::new(),
    })
}

fn cut_off(text: &str, unclosed: &[String]) -> FeedError {
    let open = unclosed.iter().map(|n| format!("<{n}>")).collect::<Vec<_>>().join(", ");
    FeedError::CutOff { bytes: text.len(), open }
}

/// The parser: feed-rs invents missing ids from link + title (or a random
/// UUID), so an edited title would look like a new entry and an id-less
/// entry would change on every fetch; ids are assigned in [`entry_of`]
/// instead.
fn parser() -> feed_rs::parser::Parser {
    feed_rs::parser::Builder::new().id_generator(|_, _, _| String::new()).build()
}

/// Parses `doc` (a whole feed, or a batch of one) into `newest`; the
/// feed's title.
fn parse_into(
    parser: &feed_rs::parser::Parser,
    doc: &str,
    newest: &mut cap::Newest,
) -> Result<Option<String>, FeedError> {
    let feed = parser.parse(doc.as_bytes()).map_err(FeedError::Parse)?;
    for e in feed.entries {
        let (entry, date) = entry_of(e);
        newest.push(entry, date);
    }
    Ok(feed.title.as_ref().map(|t| plain(&t.content)).filter(|t| !t.is_empty()))
}

/// Parses `text` whole into `newest`; the feed's title.
fn whole(text: &str, newest: &mut cap::Newest) -> Result<Option<String>, FeedError> {
    parse_into(&parser(), text, newest)
}

/// Parses a large feed a batch of entries at a time: each batch is the
/// document around the entries (its head, up to the first entry, and its
/// tail, after the last) with only that batch's entries in between, so no
/// more than [`BATCH_BYTES`] of entries are ever one model.
fn in_batches(text: &str, entries: &[Range<usize>], newest: &mut cap::Newest) -> Result<Option<String>, FeedError> {
    let (Some(first), Some(last)) = (entries.first(), entries.last()) else { return whole(text, newest) };
    let (head, tail) = (&text[..first.start], &text[last.end..]);
    let parser = parser();
    let mut title = None;
    let mut doc = String::with_capacity(head.len() + BATCH_BYTES + tail.len());
    let mut rest = entries;
    while !rest.is_empty() {
        doc.clear();
        doc.push_str(head);
        let mut taken = 0;
        for r in rest {
            if taken > 0 && doc.len() - head.len() + r.len() > BATCH_BYTES {
                break;
            }
            doc.push_str(&text[r.clone()]);
            taken += 1;
        }
        doc.push_str(tail);
        rest = &rest[taken..];
        let first = newest.seen() == 0;
        let batch_title = parse_into(&parser, &doc, newest)?;
        if first {
            title = batch_title;
        }
    }
    Ok(title)
}

/// Parses a large JSON Feed a batch of items at a time, as [`in_batches`]
/// does an XML one: the feed's other members with only that batch's items.
fn json_in_batches(split: &json_items::Split<'_>, newest: &mut cap::Newest) -> Result<Option<String>, FeedError> {
    let parser = parser();
    let mut title = None;
    let mut doc = String::new();
    let mut rest = &split.items[..];
    while !rest.is_empty() {
        // At least one item, then as many as fit in a batch.
        let mut taken = 1;
        let mut bytes = rest[0].len();
        while let Some(item) = rest.get(taken)
            && bytes + item.len() <= BATCH_BYTES
        {
            bytes += item.len();
            taken += 1;
        }
        split.batch(&rest[..taken], &mut doc);
        rest = &rest[taken..];
        let first = newest.seen() == 0;
        let batch_title = parse_into(&parser, &doc, newest)?;
        if first {
            title = batch_title;
        }
    }
    Ok(title)
}

/// One entry as the snapshot keeps it, with the date that ranks it.
fn entry_of(e: feed_rs::model::Entry) -> (Entry, Option<DateTime<Utc>>) {
    let link = e.links.first().map(|l| l.href.trim().to_owned());
    let title = e.title.as_ref().map(|t| plain(&t.content)).filter(|t| !t.is_empty());
    let summary = e
        .summary
        .as_ref()
        .map(|s| plain(&s.content))
        .or_else(|| e.content.as_ref().and_then(|c| c.body.as_deref()).map(plain))
        .filter(|s| !s.is_empty())
        .map(|s| clip(&s, SUMMARY_CHARS));
    // Without a guid/id, the link is the entry's identity (stable across
    // refetches and title edits), then the title, then the text.
    let id = Some(e.id.trim().to_owned())
        .filter(|i| !i.is_empty())
        .or_else(|| link.clone())
        .or_else(|| title.clone())
        .or_else(|| summary.clone())
        .unwrap_or_default();
    let date = e.published.or(e.updated);
    (Entry { id, link, title, published: date.map(|d| d.to_rfc3339()), summary }, date)
}

/// One block per entry, in id order.
fn snapshot_text(title: Option<&str>, entries: &[Entry]) -> String {
    let mut out = String::new();
    if let Some(t) = title {
        out.push_str(t);
        out.push('\n');
    }
    for e in entries {
        out.push('\n');
        out.push_str(e.title.as_deref().unwrap_or("(untitled)"));
        out.push('\n');
        out.push_str(e.link.as_deref().unwrap_or(&e.id));
        out.push('\n');
        if let Some(p) = &e.published {
            out.push_str(p);
            out.push('\n');
        }
        if let Some(s) = &e.summary {
            out.push_str(s);
            out.push('\n');
        }
    }
    out
}

fn entries(meta: &serde_json::Value) -> Vec<Entry> {
    meta.get("entries").and_then(|e| serde_json::from_value(e.clone()).ok()).unwrap_or_default()
}

fn line(e: &Entry) -> String {
    let title = e.title.as_deref().unwrap_or("(untitled)");
    match &e.link {
        Some(l) => format!("{title} — {l}"),
        None => title.to_owned(),
    }
}

/// New entries (one change) and edited entries (another). Entries that
/// dropped off the feed are not reported: feeds are windows, not archives.
///
/// An entry is the old one with its id, else the old one with its link
/// whose id is gone: generators that stamp a fresh guid on every render (a
/// session or a timestamp in it) repeat the same entries under new ids.
pub fn changes(old: &serde_json::Value, new: &serde_json::Value) -> Vec<KindChange> {
    let old: BTreeMap<String, Entry> = entries(old).into_iter().map(|e| (e.id.clone(), e)).collect();
    let new = entries(new);
    let new_ids: HashSet<&str> = new.iter().map(|e| e.id.as_str()).collect();
    let by_link: BTreeMap<&str, &Entry> = old
        .values()
        .filter(|o| !new_ids.contains(o.id.as_str()))
        .filter_map(|o| o.link.as_deref().map(|l| (l, o)))
        .collect();
    let before = |e: &Entry| old.get(&e.id).or_else(|| e.link.as_deref().and_then(|l| by_link.get(l).copied()));
    let added: Vec<&Entry> = new.iter().filter(|e| before(e).is_none()).collect();
    let edited: Vec<&Entry> = new.iter().filter(|e| before(e).is_some_and(|o| !same_text(o, e))).collect();
    let added_stats = ChangeStats { added: added.len() as u32, ..ChangeStats::default() };
    let edited_stats = ChangeStats { modified: edited.len() as u32, ..ChangeStats::default() };
    let added = entries_change(&added, ("New entry", "new entries"), "+ ", "new_entries", added_stats);
    let edited = entries_change(&edited, ("Entry edited", "entries edited"), "~ ", "edited_entries", edited_stats);
    added.into_iter().chain(edited).collect()
}

/// One change for some entries: "New entry: TITLE" or "3 new entries",
/// their listing, and the entries under `key` in its details.
fn entries_change(
    entries: &[&Entry],
    (one, many): (&str, &str),
    mark: &str,
    key: &str,
    stats: ChangeStats,
) -> Option<KindChange> {
    let summary = match entries {
        [] => return None,
        [e] => format!("{one}: {}", e.title.as_deref().unwrap_or("(untitled)")),
        all => format!("{} {many}", all.len()),
    };
    Some(KindChange {
        kind: ChangeKind::Content,
        summary,
        excerpt: listing(entries, mark),
        stats,
        details: serde_json::json!({ key: entries }),
    })
}

/// Why a feed's answer is not a window to compare with: it lists no entry
/// where the last one listed some (a generator glitch, a cache emptied).
/// Taken as the snapshot, every entry would be new again on the next answer.
pub fn emptied_reason(old: &serde_json::Value, new: &serde_json::Value) -> Option<String> {
    let had = entries(old).len();
    (had > 0 && entries(new).is_empty())
        .then(|| format!("the feed answered with no entries (its last answer had {had}): not taken as its content"))
}

/// Whether two readings of one entry say the same: its link, title and
/// summary. Neither the id nor the date: generators that stamp every
/// entry's `<updated>` with the build time re-date entries nobody edited.
fn same_text(a: &Entry, b: &Entry) -> bool {
    (&a.link, &a.title, &a.summary) == (&b.link, &b.title, &b.summary)
}

fn listing(entries: &[&Entry], mark: &str) -> String {
    let mut lines: Vec<String> = entries.iter().take(LISTED).map(|e| format!("{mark}{}", line(e))).collect();
    if entries.len() > LISTED {
        lines.push(format!("… and {} more", entries.len() - LISTED));
    }
    lines.join("\n")
}

/// Whether a response looks like a feed: by content type, or by its root
/// element for servers that say `text/xml`.
pub fn looks_like_feed(content_type: Option<&str>, body: &[u8]) -> bool {
    let ct = content_type.unwrap_or("").to_ascii_lowercase();
    if ct.contains("rss+xml") || ct.contains("atom+xml") || ct.contains("feed+json") {
        return true;
    }
    let head = String::from_utf8_lossy(&body[..body.len().min(512)]).to_ascii_lowercase();
    let xmlish = ct.contains("xml") || head.trim_start().starts_with("<?xml");
    xmlish && (head.contains("<rss") || head.contains("<feed") || head.contains("<rdf:rdf"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    const RSS: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>量子位</title><link>https://www.qbitai.com</link>
<item><title>百度文心一言开放测试</title><link>https://www.qbitai.com/2023/03/1.html</link><guid>qb-1</guid>
<pubDate>Thu, 16 Mar 2023 08:00:00 +0000</pubDate><description>&lt;p&gt;文心一言今日发布&lt;/p&gt;</description></item>
<item><title>Stanford Alpaca: 7B instruction model</title><link>https://www.qbitai.com/2023/03/2.html</link><guid>qb-2</guid>
<pubDate>Tue, 14 Mar 2023 08:00:00 +0000</pubDate><description>Fine-tuned LLaMA 7B on 52K demos.</description></item>
</channel></rss>"#;

    fn reorder(rss: &str) -> String {
        let a = rss.find("<item>").unwrap();
        let b = rss.rfind("<item>").unwrap();
        let end = rss.find("</channel>").unwrap();
        format!("{}{}{}{}", &rss[..a], &rss[b..end], &rss[a..b], &rss[end..])
    }

    #[test]
    fn reordered_feed_hashes_the_same() {
        let a = parse(RSS.as_bytes(), Some("application/rss+xml"), None).unwrap();
        let b = parse(reorder(RSS).as_bytes(), Some("application/rss+xml"), None).unwrap();
        assert_ne!(RSS, reorder(RSS));
        assert_eq!(a.text, b.text);
        assert!(changes(&a.meta, &b.meta).is_empty());
        assert_eq!(a.title.as_deref(), Some("量子位"));
        assert!(a.text.contains("文心一言今日发布"), "{}", a.text);
    }

    #[test]
    fn new_entry_is_one_change_listing_it() {
        let a = parse(RSS.as_bytes(), None, None).unwrap();
        let more = RSS.replacen(
            "<item>",
            "<item><title>AutoGPT 更名</title><link>https://www.qbitai.com/2023/04/3.html</link><guid>qb-3</guid></item><item>",
            1,
        );
        let b = parse(more.as_bytes(), None, None).unwrap();
        let ch = changes(&a.meta, &b.meta);
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert_eq!(ch[0].summary, "New entry: AutoGPT 更名");
        assert_eq!(ch[0].excerpt, "+ AutoGPT 更名 — https://www.qbitai.com/2023/04/3.html");
        assert_eq!(ch[0].stats.added, 1);
    }

    #[test]
    fn snapshot_text_shape() {
        insta::assert_snapshot!(parse(RSS.as_bytes(), None, None).unwrap().text);
    }

    #[test]
    fn edited_entry_is_reported_separately() {
        let a = parse(RSS.as_bytes(), None, None).unwrap();
        let edited = RSS.replace("52K demos", "52K instruction-following demos");
        let b = parse(edited.as_bytes(), None, None).unwrap();
        let ch = changes(&a.meta, &b.meta);
        assert_eq!(ch.len(), 1);
        assert_eq!(ch[0].summary, "Entry edited: Stanford Alpaca: 7B instruction model");
        assert_eq!(ch[0].stats.modified, 1);
    }

    #[test]
    fn entries_without_guid_keep_their_identity() {
        let no_guid = RSS.replace("<guid>qb-1</guid>", "").replace("<guid>qb-2</guid>", "");
        let a = parse(no_guid.as_bytes(), None, None).unwrap();
        assert_eq!(a.text, parse(no_guid.as_bytes(), None, None).unwrap().text, "refetch is stable");
        let b = parse(no_guid.replace("开放测试", "正式上线").as_bytes(), None, None).unwrap();
        let ch = changes(&a.meta, &b.meta);
        assert_eq!(ch.len(), 1, "{ch:?}");
        assert_eq!(ch[0].summary, "Entry edited: 百度文心一言正式上线");
        // Neither guid nor link: the title is the identity, not a random id.
        let bare = "<rss version=\"2.0\"><channel><title>t</title><item><title>只有标题</title></item></channel></rss>";
        let x = parse(bare.as_bytes(), None, None).unwrap();
        assert_eq!(x.text, parse(bare.as_bytes(), None, None).unwrap().text);
    }

    #[test]
    fn gbk_feed_is_decoded() {
        let xml = RSS.replace("utf-8", "gbk");
        let (bytes, _, _) = encoding_rs::GBK.encode(&xml);
        let s = parse(&bytes, Some("text/xml; charset=gbk"), None).unwrap();
        assert!(s.text.contains("百度文心一言开放测试"), "{}", s.text);
    }

    #[test]
    fn atom_and_json_feed_parse() {
        let atom = r#"<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>AutoGPT releases</title>
<id>tag:github.com,2008:x</id><updated>2023-04-20T00:00:00Z</updated>
<entry><id>tag:github.com,2008:Repository/1/v0.2.2</id><title>v0.2.2</title><updated>2023-04-20T00:00:00Z</updated>
<link rel="alternate" href="https://github.com/Significant-Gravitas/AutoGPT/releases/tag/v0.2.2"/></entry></feed>"#;
        let s = parse(atom.as_bytes(), Some("application/atom+xml"), None).unwrap();
        assert!(s.text.contains("v0.2.2\nhttps://github.com/Significant-Gravitas/AutoGPT/releases/tag/v0.2.2"));
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"机器之心","items":[{"id":"j1","url":"https://jiqizhixin.com/a/1","title":"GPT-4 发布","content_text":"多模态"}]}"#;
        let s = parse(json.as_bytes(), Some("application/feed+json"), None).unwrap();
        assert!(s.text.contains("GPT-4 发布\nhttps://jiqizhixin.com/a/1"), "{}", s.text);
    }

    #[test]
    fn a_large_feed_read_in_batches_reads_as_a_whole_one() {
        // 300 entries of ~4 KB: read in batches of about 60, all kept.
        let items: String = (0..300)
            .map(|i| {
                format!(
                    "<item><title>第{i}篇</title><link>https://x.example.cn/{i}</link><pubDate>Mon, 0{} Jan 2024 08:00:00 +0800</pubDate><description>{}</description></item>\n",
                    1 + i % 9,
                    "字".repeat(1400)
                )
            })
            .collect();
        let feed =
            format!("<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>大</title>\n{items}</channel></rss>");
        assert!(feed.len() > WHOLE_BYTES);
        let batched = parse(feed.as_bytes(), None, None).unwrap();
        let mut newest = cap::Newest::new(cap::KEEP);
        let title = whole(&feed, &mut newest).unwrap();
        let entries: Vec<Entry> = newest.finish().into_values().collect();
        assert_eq!(entries.len(), 300);
        assert_eq!(batched.title.as_deref(), Some("大"));
        assert_eq!(batched.text, snapshot_text(title.as_deref(), &entries));
    }

    #[test]
    fn a_large_json_feed_read_in_batches_reads_as_a_whole_one() {
        let items: Vec<String> = (0..300)
            .map(|i| {
                format!(
                    r#"{{"id":"j{i}","url":"https://x.example.cn/{i}","title":"第{i}篇","date_published":"2024-01-0{}T08:00:00+08:00","content_text":"{}"}}"#,
                    1 + i % 9,
                    "字".repeat(1400)
                )
            })
            .collect();
        let feed = format!(
            r#"{{"version":"https://jsonfeed.org/version/1.1","title":"大","items":[{}],"home_page_url":"https://x.example.cn/"}}"#,
            items.join(",\n")
        );
        assert!(feed.len() > WHOLE_BYTES);
        let batched = parse(feed.as_bytes(), Some("application/feed+json"), None).unwrap();
        let mut newest = cap::Newest::new(cap::KEEP);
        let title = whole(&feed, &mut newest).unwrap();
        let entries: Vec<Entry> = newest.finish().into_values().collect();
        assert_eq!(entries.len(), 300);
        assert_eq!(batched.title.as_deref(), Some("大"));
        assert_eq!(batched.text, snapshot_text(title.as_deref(), &entries));
        assert_eq!(batched.meta, serde_json::json!({ "title": title, "entries": entries }));
    }

    #[test]
    fn a_cut_off_feed_is_not_a_feed_with_fewer_entries() {
        for cut in [&RSS[..RSS.rfind("<item>").unwrap() + 12], &RSS[..RSS.rfind("Stanford").unwrap()]] {
            let e = parse(cut.as_bytes(), None, None).unwrap_err();
            assert!(matches!(e, FeedError::CutOff { .. }), "{e}");
        }
        let json = r#"{"version":"https://jsonfeed.org/version/1.1","title":"t","items":[{"id":"1","#;
        assert!(matches!(parse(json.as_bytes(), None, None).unwrap_err(), FeedError::CutOff { .. }));
    }

    #[test]
    fn html_is_not_a_feed() {
        assert!(parse(b"<html><body>hi</body></html>", Some("text/html"), None).is_err());
        assert!(looks_like_feed(Some("application/rss+xml; charset=utf-8"), b""));
        assert!(looks_like_feed(Some("text/xml"), RSS.as_bytes()));
        assert!(!looks_like_feed(Some("text/html"), b"<html>"));
    }
}
