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

/// How far behind the run's clock a digest period ends. A check stamps a
/// change's `detected_at` before its transaction commits; a change stamped
/// just before the digest's `now` but committed just after the digest read
/// the changes would be outside this period (not yet visible) and outside the
/// next one (which starts at this `end`): lost to every digest. Ending the
/// period two minutes back leaves room for any commit in flight, and those
/// rows fall into the next period instead.
pub const COMMIT_GRACE: Duration = Duration::minutes(2);

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

    /// The period a digest run at `now` covers: it ends [`COMMIT_GRACE`]
    /// before `now`, so changes still being committed go to the next one.
    pub fn for_run_at(now: DateTime<Utc>, previous_end: Option<DateTime<Utc>>, tz: Tz) -> Period {
        Period::ending_at(now - COMMIT_GRACE, previous_end, tz)
    }

    /// An explicit window (used by `digest preview --since`).
    pub fn between(start: DateTime<Utc>, end: DateTime<Utc>, tz: Tz) -> Period {
        let local_end = end.with_timezone(&tz).date_naive();
        let local_start = start.with_timezone(&tz).date_naive();
        Period {
            start,
            end,
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
    fn a_change_committed_just_after_a_run_lands_in_the_next_period() {
        // Monday 08:00 Shanghai run; a check stamped a change 30 s earlier but
        // committed it after the digest had read its changes.
        let run = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let detected_at = run - Duration::seconds(30);
        let tz = chrono_tz::Asia::Shanghai;
        let this = Period::for_run_at(run, Some(run - Duration::days(7)), tz);
        let covers = |p: &Period, t| p.start <= t && t < p.end;
        assert!(!covers(&this, detected_at), "{this:?} must leave in-flight rows to the next period");
        assert_eq!(this.key, "2026-11-30");
        let next_run = run + Duration::days(7);
        let next = Period::for_run_at(next_run, Some(this.end), tz);
        assert!(covers(&next, detected_at), "{next:?} must pick the row up");
    }
}
