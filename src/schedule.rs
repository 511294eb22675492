//! When a source is checked next: a fixed interval or a cron expression.
//!
//! A source's schedule only moves its `next_check_at`; the daemon itself runs
//! one sweep job that claims whatever is due (DESIGN.md, "Scheduling").

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use croner::Cron;
use croner::parser::{CronParser, Seconds};

/// A validated cron expression, kept with its six-field (seconds first) form,
/// the only form tokio-cron-scheduler accepts.
#[derive(Clone)]
pub struct CronExpr {
    six_fields: String,
    cron: Cron,
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum ScheduleError {
    #[error("invalid cron expression {expr:?}: {reason}")]
    Cron { expr: String, reason: String },
    #[error("invalid duration {text:?}: {reason}")]
    Duration { text: String, reason: String },
    #[error("interval {text:?} is too short (the minimum is 1 minute)")]
    TooShort { text: String },
    #[error("interval {text:?} is too long (the maximum is 366 days)")]
    TooLong { text: String },
    #[error("cron {expr:?} fires {gap} s apart at times; the minimum is 1 minute")]
    CronTooOften { expr: String, gap: i64 },
    #[error("cron {expr:?} never fires")]
    CronNever { expr: String },
}

/// Fire times a source cron is sampled at to find its shortest gap.
const CRON_SAMPLES: usize = 64;

impl CronExpr {
    /// Parses five fields (minute first) or six (seconds first).
    pub fn parse(expr: &str) -> Result<Self, ScheduleError> {
        let trimmed = expr.split_whitespace().collect::<Vec<_>>();
        let err = |reason: String| ScheduleError::Cron { expr: expr.to_owned(), reason };
        let six_fields = match trimmed.len() {
            5 => format!("0 {}", trimmed.join(" ")),
            6 => trimmed.join(" "),
            n => return Err(err(format!("expected 5 or 6 fields, got {n}"))),
        };
        let cron = CronParser::builder()
            .seconds(Seconds::Required)
            .build()
            .parse(&six_fields)
            .map_err(|e| err(e.to_string()))?;
        Ok(Self { six_fields, cron })
    }

    /// The six-field form, for tokio-cron-scheduler.
    pub fn six_fields(&self) -> &str {
        &self.six_fields
    }

    /// The first fire time strictly after `after`, in `tz`.
    pub fn next_after(&self, after: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        self.cron.find_next_occurrence(&after.with_timezone(&tz), false).ok().map(|t| t.with_timezone(&Utc))
    }
}

impl fmt::Debug for CronExpr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CronExpr({:?})", self.six_fields)
    }
}

impl PartialEq for CronExpr {
    fn eq(&self, other: &Self) -> bool {
        self.six_fields == other.six_fields
    }
}

/// Parses a human duration such as `30s`, `6h`, `7d`.
pub fn parse_duration(text: &str) -> Result<Duration, ScheduleError> {
    humantime::parse_duration(text.trim())
        .map_err(|e| ScheduleError::Duration { text: text.to_owned(), reason: e.to_string() })
}

/// The longest span any computed time moves by: far beyond every real
/// interval, well inside chrono's range (so no addition can overflow).
const MAX_SPAN: Duration = Duration::from_secs(100 * 366 * 24 * 3600);

/// `t + d`, saturating instead of panicking on absurd durations (a hostile
/// `Retry-After`, a mistyped `--every 300000y`).
pub fn after(t: DateTime<Utc>, d: Duration) -> DateTime<Utc> {
    let span = chrono::Duration::from_std(d.min(MAX_SPAN)).unwrap_or(chrono::Duration::days(36_600));
    t.checked_add_signed(span).unwrap_or(t)
}

/// Formats a duration the way users write it (`6h`, `90s`).
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string().replace(' ', "")
}

/// A source's schedule. (One per source in memory; not worth boxing.)
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Schedule {
    Every(Duration),
    Cron(CronExpr),
}

impl Schedule {
    /// An interval schedule; intervals under a minute would hammer hosts.
    pub fn every(text: &str) -> Result<Self, ScheduleError> {
        let d = parse_duration(text)?;
        if d < Duration::from_secs(60) {
            return Err(ScheduleError::TooShort { text: text.to_owned() });
        }
        if d > Duration::from_secs(366 * 86_400) {
            return Err(ScheduleError::TooLong { text: text.to_owned() });
        }
        Ok(Schedule::Every(d))
    }

    /// A cron schedule for a source. Like [`Schedule::every`], it may not
    /// fire more often than once a minute (a six-field `* * * * * *` would
    /// check every second), and it must fire at all (`0 0 30 2 *` never
    /// does): both are refused, not accepted silently.
    pub fn cron(expr: &str) -> Result<Self, ScheduleError> {
        let cron = CronExpr::parse(expr)?;
        let mut at = Utc::now();
        let mut previous: Option<DateTime<Utc>> = None;
        for _ in 0..CRON_SAMPLES {
            let Some(next) = cron.next_after(at, Tz::UTC) else { break };
            if let Some(p) = previous {
                let gap = (next - p).num_seconds();
                if gap < 60 {
                    return Err(ScheduleError::CronTooOften { expr: expr.to_owned(), gap });
                }
            }
            previous = Some(next);
            at = next;
        }
        if previous.is_none() {
            return Err(ScheduleError::CronNever { expr: expr.to_owned() });
        }
        Ok(Schedule::Cron(cron))
    }

    /// The nominal next check after `now`, before jitter.
    pub fn next_after(&self, now: DateTime<Utc>, tz: Tz) -> DateTime<Utc> {
        match self {
            Schedule::Every(d) => after(now, *d),
            // A cron that never fires again (e.g. a past year) falls back to a
            // week, so the source is not lost.
            Schedule::Cron(c) => c.next_after(now, tz).unwrap_or_else(|| after(now, Duration::from_secs(7 * 86_400))),
        }
    }

    /// The nominal interval, used to scale jitter and backoff.
    pub fn nominal_interval(&self, now: DateTime<Utc>, tz: Tz) -> Duration {
        (self.next_after(now, tz) - now).to_std().unwrap_or(Duration::from_secs(3600))
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Schedule::Every(d) => write!(f, "every {}", format_duration(*d)),
            Schedule::Cron(c) => write!(f, "cron {}", c.six_fields()),
        }
    }
}

impl FromStr for CronExpr {
    type Err = ScheduleError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CronExpr::parse(s)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    /// Issue 14 finding 9: `* * * * * *` checked a source every second and
    /// a cron that never fires was accepted silently.
    #[test]
    fn issue14_source_crons_keep_the_floor_and_must_fire() {
        assert!(matches!(Schedule::cron("* * * * * *"), Err(ScheduleError::CronTooOften { gap: 1, .. })));
        assert!(matches!(Schedule::cron("*/20 * * * * *"), Err(ScheduleError::CronTooOften { .. })));
        assert!(matches!(Schedule::cron("0 0 30 2 *"), Err(ScheduleError::CronNever { .. })));
        assert!(Schedule::cron("0 8 * * *").is_ok());
        assert!(Schedule::cron("0 */5 * * * *").is_ok());
    }
    use chrono::TimeZone;

    #[test]
    fn five_field_cron_gets_seconds() {
        let c = CronExpr::parse("0 8 * * Mon").unwrap();
        assert_eq!(c.six_fields(), "0 0 8 * * Mon");
    }

    #[test]
    fn out_of_range_cron_is_rejected() {
        let e = CronExpr::parse("61 * * * *").unwrap_err().to_string();
        assert!(e.contains("61 * * * *"), "{e}");
        assert!(CronExpr::parse("* * *").is_err());
    }

    #[test]
    fn cron_next_respects_timezone() {
        let c = CronExpr::parse("0 0 8 * * Mon").unwrap();
        // Saturday 2026-11-28 12:00 UTC → Monday 08:00 Shanghai = 00:00 UTC.
        let now = Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap();
        let next = c.next_after(now, chrono_tz::Asia::Shanghai).unwrap();
        assert_eq!(next, Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap());
    }

    #[test]
    fn short_intervals_are_refused() {
        assert!(Schedule::every("10s").is_err());
        assert!(Schedule::every("300000y").is_err());
        let now = Utc::now();
        assert!(after(now, Duration::from_secs(u64::MAX)) > now, "saturates instead of panicking");
        assert_eq!(Schedule::every("6h").unwrap(), Schedule::Every(Duration::from_secs(6 * 3600)));
        assert_eq!(Schedule::every("6h").unwrap().to_string(), "every 6h");
    }
}
