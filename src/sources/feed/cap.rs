//! Which entries a feed's snapshot keeps: the newest [`KEEP`], chosen while
//! the entries stream past, so a feed of 30,000 entries never holds more
//! than a few times [`KEEP`] of them.
//!
//! "Newest" is by date when the dates say something, else the feed's own
//! order (feeds list newest first):
//! - fewer than two distinct dates (none, or a generator that stamps every
//!   entry with its build time): the first [`KEEP`] in document order;
//! - otherwise the entries without a date first, in document order (a new
//!   entry on top without a date must not fall off), then the dated ones,
//!   newest first, equal dates by id. A feed that lists oldest first keeps
//!   its newest entries, and a reordered feed keeps the same set.
//!
//! A feed without dates that lists oldest first, or reorders more than
//! [`KEEP`] entries, cannot be read as newest first: its first [`KEEP`] are
//! kept, the best the feed says.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BinaryHeap};

use chrono::{DateTime, Utc};

use super::Entry;

/// Entries a feed's snapshot keeps. Readers keep 200–500; 500 covers a day
/// of a busy portal's channel feed (a few hundred entries) checked daily,
/// and its snapshot stays below ~1 MB of text. Entries that fall off the end
/// are not changes, so the cap only has to be larger than what a feed adds
/// between two checks: no user needs to tune it.
pub const KEEP: usize = 500;

/// One entry with what ranks it.
#[derive(Debug, Clone)]
pub struct Ranked {
    pub entry: Entry,
    pub date: Option<DateTime<Utc>>,
    /// Place in the document, from 0.
    pub position: usize,
}

/// A dated entry in the bounded heap: the greatest is the one to drop
/// first (the oldest; among equal dates the greatest id).
struct Dated(Ranked);

impl Dated {
    fn key(&self) -> (Reverse<Option<DateTime<Utc>>>, &str) {
        (Reverse(self.0.date), self.0.entry.id.as_str())
    }
}

impl PartialEq for Dated {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Dated {}

impl PartialOrd for Dated {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Dated {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

/// Collects the newest `keep` entries of a stream of entries in document
/// order.
pub struct Newest {
    keep: usize,
    seen: usize,
    /// The first `keep` entries, in document order.
    first: Vec<Ranked>,
    /// The first `keep` entries without a date, in document order.
    undated: Vec<Ranked>,
    /// The newest `keep` dated entries.
    dated: BinaryHeap<Dated>,
    first_date: Option<DateTime<Utc>>,
    dates_differ: bool,
}

impl Newest {
    pub fn new(keep: usize) -> Self {
        Newest {
            keep,
            seen: 0,
            first: Vec::new(),
            undated: Vec::new(),
            dated: BinaryHeap::new(),
            first_date: None,
            dates_differ: false,
        }
    }

    /// The next entry in document order.
    pub fn push(&mut self, entry: Entry, date: Option<DateTime<Utc>>) {
        let ranked = Ranked { entry, date, position: self.seen };
        self.seen += 1;
        if self.first.len() < self.keep {
            self.first.push(ranked.clone());
        }
        match date {
            None if self.undated.len() < self.keep => self.undated.push(ranked),
            None => {}
            Some(d) => {
                match self.first_date {
                    None => self.first_date = Some(d),
                    Some(f) if f != d => self.dates_differ = true,
                    Some(_) => {}
                }
                self.dated.push(Dated(ranked));
                if self.dated.len() > self.keep {
                    self.dated.pop();
                }
            }
        }
    }

    /// Entries seen so far.
    pub fn seen(&self) -> usize {
        self.seen
    }

    /// The kept entries by id (an id listed twice keeps its last reading, as
    /// a feed read whole always did).
    pub fn finish(self) -> BTreeMap<String, Entry> {
        let kept: Vec<Ranked> = if self.seen <= self.keep || !self.dates_differ {
            self.first
        } else {
            let mut dated: Vec<Dated> = self.dated.into_vec();
            dated.sort();
            self.undated.into_iter().chain(dated.into_iter().map(|d| d.0)).take(self.keep).collect()
        };
        let mut kept = kept;
        kept.sort_by_key(|r| r.position);
        kept.into_iter().map(|r| (r.entry.id.clone(), r.entry)).collect()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    fn entry(id: &str) -> Entry {
        Entry { id: id.to_owned(), link: None, title: Some(id.to_owned()), published: None, summary: None }
    }

    fn day(d: u32) -> Option<DateTime<Utc>> {
        Some(format!("2026-11-{d:02}T08:00:00Z").parse().unwrap())
    }

    fn kept(entries: &[(&str, Option<DateTime<Utc>>)], keep: usize) -> Vec<String> {
        let mut n = Newest::new(keep);
        for (id, date) in entries {
            n.push(entry(id), *date);
        }
        n.finish().into_keys().collect()
    }

    #[test]
    fn a_feed_within_the_cap_keeps_every_entry() {
        let all = [("b", day(1)), ("a", None), ("c", day(1))];
        assert_eq!(kept(&all, 3), ["a", "b", "c"]);
    }

    #[test]
    fn dated_entries_keep_the_newest_whatever_the_order() {
        let newest_first = [("e", day(5)), ("d", day(4)), ("c", day(3)), ("b", day(2)), ("a", day(1))];
        assert_eq!(kept(&newest_first, 2), ["d", "e"]);
        let mut oldest_first = newest_first;
        oldest_first.reverse();
        assert_eq!(kept(&oldest_first, 2), ["d", "e"], "a feed that lists oldest first keeps its newest");
        let shuffled = [("c", day(3)), ("e", day(5)), ("a", day(1)), ("d", day(4)), ("b", day(2))];
        assert_eq!(kept(&shuffled, 2), ["d", "e"]);
    }

    #[test]
    fn equal_dates_at_the_cut_are_broken_by_id_in_any_order() {
        let a = [("x", day(3)), ("m", day(2)), ("k", day(2)), ("z", day(2)), ("a", day(1))];
        let b = [("z", day(2)), ("a", day(1)), ("k", day(2)), ("x", day(3)), ("m", day(2))];
        assert_eq!(kept(&a, 3), ["k", "m", "x"]);
        assert_eq!(kept(&b, 3), ["k", "m", "x"]);
    }

    #[test]
    fn dates_that_say_nothing_leave_the_feeds_order() {
        // A generator stamping every entry with its build time: the feed's
        // order is all there is, and a new entry on top is kept.
        let stamped = [("new", day(7)), ("z", day(7)), ("y", day(7)), ("a", day(7))];
        assert_eq!(kept(&stamped, 2), ["new", "z"]);
        let undated = [("new", None), ("z", None), ("y", None), ("a", None)];
        assert_eq!(kept(&undated, 2), ["new", "z"]);
    }

    #[test]
    fn undated_entries_among_dated_ones_are_kept_first() {
        let mixed = [("d", day(4)), ("pinned", None), ("c", day(3)), ("b", day(2)), ("late", None), ("a", day(1))];
        assert_eq!(kept(&mixed, 3), ["d", "late", "pinned"]);
        assert_eq!(kept(&mixed, 4), ["c", "d", "late", "pinned"]);
    }

    #[test]
    fn a_new_entry_on_top_is_kept_and_the_oldest_falls_off() {
        let before = [("c", day(3)), ("b", day(2)), ("a", day(1))];
        let after = [("d", day(4)), ("c", day(3)), ("b", day(2)), ("a", day(1))];
        assert_eq!(kept(&before, 3), ["a", "b", "c"]);
        assert_eq!(kept(&after, 3), ["b", "c", "d"]);
    }

    #[test]
    fn an_id_listed_twice_keeps_its_last_reading() {
        let mut n = Newest::new(5);
        n.push(Entry { summary: Some("first".into()), ..entry("a") }, day(1));
        n.push(Entry { summary: Some("second".into()), ..entry("a") }, day(1));
        assert_eq!(n.finish()["a"].summary.as_deref(), Some("second"));
    }
}
