//! The time window a digest covers and the key that makes it unique.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use serde::Serialize;

/// The window of the first digest (no previous one): a digest is a weekly read.
pub const MAX_SPAN_DAYS: i64 = 7;

/// The longest gap to the previous digest that the next one still covers in
/// full: downtime of a week or two must not silently drop changes. Only after
/// a longer gap (the instance was abandoned for a while) is the digest capped
/// to this many days; older changes stay in `modelwatch changes`.
pub const MAX_GAP_DAYS: i64 = 14;

/// Which changes a digest covers: those with a commit-ordered sequence in
/// `(after, through]` (see `store::change_seq::reserve_seq`). A clock window
/// cannot do this: a change is stamped before its transaction commits, so a
/// row stamped just before a digest's `now` but committed just after it would
/// fall outside this digest (not yet visible) and outside the next one (which
/// starts at this `end`). A cursor has no such gap and no grace period, so a
/// digest sent right after a check includes that check's changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cursor {
    /// The previous digest's `through`; `None` when no digest recorded a
    /// cursor yet (the first digest, or the first after an upgrade).
    pub after: Option<i64>,
    /// The highest sequence committed when the digest was built.
    pub through: i64,
    /// Changes detected before this instant are left out: the first
    /// digest's week, or the cap after a very long gap ([`MAX_GAP_DAYS`]).
    pub not_before: Option<DateTime<Utc>>,
}

/// What the previous digest (any status, `skipped` included) covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Previous {
    pub end: DateTime<Utc>,
    /// `None` for a digest built before cursors existed.
    pub through: Option<i64>,
}

/// The half-open window `[start, end)` of one digest.
///
/// `key` is the calendar date of `end` in the digest's timezone. It is the
/// outbox's unique key: every build on the same local day (a second instance,
/// two racing `digest send`, the cron firing after a manual send) lands on the
/// same key, so a period is sent at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// The changes covered, for a digest run; `None` for an explicit time
    /// window (`digest preview --since`), which reads changes by date.
    pub cursor: Option<Cursor>,
    pub key: String,
    /// `start` and `end` as local dates (`2026-11-23`), for subjects and headings.
    pub start_date: String,
    pub end_date: String,
}

impl Period {
    /// The period that ends at `end`, starting where the previous digest
    /// ended (`previous_end`) unless that is more than [`MAX_GAP_DAYS`] back
    /// (then capped to that); the first digest covers [`MAX_SPAN_DAYS`].
    pub fn ending_at(end: DateTime<Utc>, previous_end: Option<DateTime<Utc>>, tz: Tz) -> Period {
        let start = match previous_end {
            Some(prev) if prev <= end => prev.max(end - Duration::days(MAX_GAP_DAYS)),
            // None, or a clock that went backwards: a first digest's window.
            _ => end - Duration::days(MAX_SPAN_DAYS),
        };
        Period::between(start, end, tz)
    }

    /// The period a digest run at `now` covers: every change after the
    /// previous digest's cursor up to `through`, the highest sequence
    /// committed now. Its time span (for headings, catalog news and metric
    /// deltas) runs from the previous digest's end to `now`.
    pub fn for_run_at(now: DateTime<Utc>, previous: Option<Previous>, through: i64, tz: Tz) -> Period {
        let mut period = Period::ending_at(now, previous.map(|p| p.end), tz);
        let after = previous.and_then(|p| p.through);
        // Without a previous cursor the week's start bounds the changes; with
        // one, only a capped gap does (the start moved past the previous end).
        let capped = previous.is_some_and(|p| period.start > p.end);
        let not_before = (after.is_none() || capped).then_some(period.start);
        period.cursor = Some(Cursor { after, through, not_before });
        period
    }

    /// An explicit window (used by `digest preview --since`).
    pub fn between(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Period {
        let local_end = end.with_timezone(&tz).date_naive();
        let local_start = start.with_timezone(&tz).date_naive();
        Period {
            start,
            end,
            cursor: None,
            key: local_end.format("%Y-%m-%d").to_string(),
            start_date: local_start.format("%Y-%m-%d").to_string(),
            end_date: local_end.format("%Y-%m-%d").to_string(),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn key_is_the_local_date_of_the_end() {
        // Monday 08:00 in Shanghai is Monday 00:00 UTC; 23:30 UTC Sunday is
        // already Monday in Shanghai.
        let end = Utc.with_ymd_and_hms(2026, 11, 29, 23, 30, 0).unwrap();
        let p = Period::ending_at(end, None, chrono_tz::Asia::Shanghai);
        assert_eq!(p.key, "2026-11-30");
        assert_eq!(p.start, end - Duration::days(7));
        assert_eq!(p.start_date, "2026-11-23");
        let utc = Period::ending_at(end, None, chrono_tz::UTC);
        assert_eq!(utc.key, "2026-11-29");
    }

    #[test]
    fn starts_at_the_previous_end_and_caps_only_a_long_gap() {
        let end = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let prev = Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0).unwrap();
        assert_eq!(Period::ending_at(end, Some(prev), chrono_tz::UTC).start, prev);
        // The daemon was down when last Monday's digest was due: the next one
        // covers both weeks instead of dropping the first.
        let two_weeks = end - Duration::days(14);
        assert_eq!(Period::ending_at(end, Some(two_weeks), chrono_tz::UTC).start, two_weeks);
        let ten_days = end - Duration::days(10);
        assert_eq!(Period::ending_at(end, Some(ten_days), chrono_tz::UTC).start, ten_days);
        // Abandoned for two months: capped.
        let old = Utc.with_ymd_and_hms(2026, 10, 1, 0, 0, 0).unwrap();
        let p = Period::ending_at(end, Some(old), chrono_tz::UTC);
        assert_eq!(p.start, Utc.with_ymd_and_hms(2026, 11, 16, 0, 0, 0).unwrap());
        // A clock that went backwards must not produce an inverted window.
        let future = end + Duration::days(1);
        assert!(Period::ending_at(end, Some(future), chrono_tz::UTC).start < end);
    }

    #[test]
    fn a_run_covers_everything_after_the_previous_cursor_up_to_now() {
        let run = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let tz = chrono_tz::Asia::Shanghai;
        let previous = Previous { end: run - Duration::days(7), through: Some(41) };
        let p = Period::for_run_at(run, Some(previous), 57, tz);
        assert_eq!(p.end, run, "no grace: a check just before the run is in it");
        assert_eq!(p.start, previous.end);
        assert_eq!(p.cursor, Some(Cursor { after: Some(41), through: 57, not_before: None }));
        // The next run starts where this one stopped.
        let next =
            Period::for_run_at(run + Duration::days(7), Some(Previous { end: p.end, through: Some(57) }), 60, tz);
        assert_eq!(next.cursor.unwrap().after, Some(57));
    }

    #[test]
    fn the_first_run_and_a_long_gap_are_bounded_by_time() {
        let run = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let first = Period::for_run_at(run, None, 9, chrono_tz::UTC);
        assert_eq!(first.cursor, Some(Cursor { after: None, through: 9, not_before: Some(run - Duration::days(7)) }));
        // A digest from before cursors: its end bounds the changes.
        let legacy = Previous { end: run - Duration::days(7), through: None };
        let p = Period::for_run_at(run, Some(legacy), 9, chrono_tz::UTC);
        assert_eq!(p.cursor.unwrap().not_before, Some(legacy.end));
        // Abandoned for two months: capped, even with a cursor.
        let old = Previous { end: run - Duration::days(60), through: Some(3) };
        let p = Period::for_run_at(run, Some(old), 9, chrono_tz::UTC);
        assert_eq!(p.cursor.unwrap().not_before, Some(run - Duration::days(MAX_GAP_DAYS)));
    }
}
