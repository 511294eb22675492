//! Outbox rules (pure): who gets which digest, the Message-ID, and what an
//! attempt's outcome does to the row.
//!
//! The guarantees, and how they hold when the process dies at any point:
//! - *Never lost*: a digest is rendered and stored (status `pending`) in one
//!   transaction before any SMTP traffic. A crash before the insert loses
//!   nothing (the next run rebuilds the same period); a crash after it leaves
//!   a pending row that the next run sends.
//! - *Never sent twice by us*: the period key (+ audience) is unique, so a
//!   second build of the same period inserts nothing; a sender claims a row
//!   with a conditional update (a lease) before talking to SMTP, so two
//!   instances never send the same row at the same time.
//! - *Per recipient*: a row goes out as one envelope per recipient, each
//!   outcome recorded under the lease before the next envelope
//!   ([`super::deliveries`]); a resend goes only to the recipients not
//!   recorded as delivered, so the guarantees above hold for each of them.
//! - *The one unavoidable duplicate*: killed after the server accepted an
//!   envelope but before we recorded it. The lease lapses (on SQLite the
//!   daemon's next start takes it back at once when no sender is alive) and
//!   that recipient is sent it again, with the same Message-ID, which
//!   receivers (and most mail stores) use to drop the duplicate.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

/// A configured recipient, optionally limited to sources with some tags.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecipientSpec {
    Address(String),
    Filtered { address: String, tags: Vec<String> },
}

impl RecipientSpec {
    pub fn address(&self) -> &str {
        match self {
            RecipientSpec::Address(a) | RecipientSpec::Filtered { address: a, .. } => a,
        }
    }
    pub fn tags(&self) -> &[String] {
        match self {
            RecipientSpec::Address(_) => &[],
            RecipientSpec::Filtered { tags, .. } => tags,
        }
    }
}

/// Recipients who get the same digest: the same tag filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audience {
    /// `all`, or `tags-` and a short hash of the sorted tags: ASCII, so it
    /// can go into a Message-ID, and stable across restarts.
    pub key: String,
    /// Sorted, deduplicated; empty means every source.
    pub tags: Vec<String>,
    pub recipients: Vec<String>,
}

/// Groups recipients by their tag filter, in first-seen order.
pub fn audiences(recipients: &[RecipientSpec]) -> Vec<Audience> {
    let mut out: Vec<Audience> = Vec::new();
    for r in recipients {
        let mut tags = r.tags().to_vec();
        tags.sort();
        tags.dedup();
        let address = r.address().trim().to_owned();
        match out.iter_mut().find(|a| a.tags == tags) {
            Some(a) if !a.recipients.contains(&address) => a.recipients.push(address),
            Some(_) => {}
            None => out.push(Audience { key: audience_key(&tags), tags, recipients: vec![address] }),
        }
    }
    out
}

fn audience_key(tags: &[String]) -> String {
    if tags.is_empty() {
        return "all".to_owned();
    }
    let digest = Sha256::digest(tags.join("\u{1f}").as_bytes());
    format!("tags-{}", &hex::encode(digest)[..12])
}

/// The audience key of a `skipped` row: no audience got anything.
pub const NO_AUDIENCE: &str = "-";

/// `<modelwatch.digest.2026-11-30.all@example.com>`: derived only from the
/// period, the audience and the sender's domain, so every resend of one
/// digest carries the same id.
pub fn message_id(period_key: &str, audience_key: &str, from: &str) -> String {
    let domain = from
        .rsplit_once('@')
        .map(|(_, d)| d.trim_end_matches('>').trim())
        .filter(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-'))
        .unwrap_or("modelwatch.localhost");
    format!("<modelwatch.digest.{period_key}.{audience_key}@{domain}>")
}

/// A row's status in the outbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    Pending,
    Sent,
    Failed,
    /// A period with nothing to report (and `send_empty` off): nothing is
    /// sent, but the row records that the period was covered, so the next
    /// period starts after it and a restart does not see a missed send.
    Skipped,
}

impl OutboxStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Skipped => "skipped",
        }
    }
}

impl std::str::FromStr for OutboxStatus {
    type Err = crate::types::UnknownName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "sent" => Ok(OutboxStatus::Sent),
            "failed" => Ok(OutboxStatus::Failed),
            "skipped" => Ok(OutboxStatus::Skipped),
            _ => Err(crate::types::UnknownName {
                what: "digest status",
                got: s.to_owned(),
                expected: &["pending", "sent", "failed", "skipped"],
            }),
        }
    }
}

/// How transient failures are retried (`digest.max_attempts` …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// Delay after the first failure; each next one is 4× longer…
    pub first_delay: Duration,
    /// …up to this.
    pub max_delay: Duration,
    /// How long a claimed row is ours before another sender may take it
    /// over: longer than any send can take (see [`lease_for`]).
    pub lease: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            first_delay: Duration::from_secs(60),
            max_delay: Duration::from_secs(6 * 3600),
            lease: MIN_LEASE,
        }
    }
}

/// When a lease taken at `claimed_at` ends, to the microsecond: the value is
/// also the claim's token (`record` checks it), and PostgreSQL keeps
/// microseconds, so it must compare equal after a round trip.
pub fn lease_end(claimed_at: DateTime<Utc>, lease: chrono::Duration) -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    claimed_at.checked_add_signed(lease).unwrap_or(DateTime::<Utc>::MAX_UTC).trunc_subsecs(6)
}

/// The shortest lease, whatever the SMTP timeouts.
pub const MIN_LEASE: Duration = Duration::from_secs(300);
/// Slack on top of the SMTP timeouts: the time between the claim and the
/// connect, and between the server's reply and recording it.
pub const LEASE_SLACK: Duration = Duration::from_secs(60);

/// A lease that outlives the longest send of one envelope the mailer allows
/// (connect, then the whole send bounded by `smtp.timeout`), so no other
/// sender takes the row over while our attempt may still be delivering it.
/// The sender extends it by as much each time it records a recipient, so a
/// digest with many recipients stays claimed envelope after envelope.
pub fn lease_for(connect_timeout: Duration, send_timeout: Duration) -> Duration {
    connect_timeout.saturating_add(send_timeout).saturating_add(LEASE_SLACK).max(MIN_LEASE)
}

impl RetryPolicy {
    /// The delay after the `attempts`-th failed attempt (1-based):
    /// 1 min, 4 min, 16 min, ~1 h, ~4 h, then 6 h.
    pub fn delay_after(&self, attempts: u32) -> Duration {
        let factor = 4u32.checked_pow(attempts.saturating_sub(1)).unwrap_or(u32::MAX);
        self.first_delay.checked_mul(factor).unwrap_or(self.max_delay).min(self.max_delay)
    }
}

/// What to write to the row after an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    Sent {
        at: DateTime<Utc>,
    },
    /// Still pending; try again at `next_attempt_at`.
    Retry {
        next_attempt_at: DateTime<Utc>,
        error: String,
    },
    /// Given up: a permanent refusal, or too many attempts.
    Failed {
        error: String,
    },
}

/// Decides the row's next state. `attempts` counts the attempt that just
/// ended. `error` is `None` when the server accepted the message, otherwise
/// the error's report and whether it is permanent.
pub fn after_attempt(
    attempts: u32,
    error: Option<(String, bool)>,
    now: DateTime<Utc>,
    policy: &RetryPolicy,
) -> AttemptOutcome {
    match error {
        None => AttemptOutcome::Sent { at: now },
        Some((error, true)) => AttemptOutcome::Failed { error },
        Some((error, false)) if attempts >= policy.max_attempts => {
            AttemptOutcome::Failed { error: format!("gave up after {attempts} attempts: {error}") }
        }
        Some((error, false)) => {
            let delay = chrono::Duration::from_std(policy.delay_after(attempts)).unwrap_or(chrono::Duration::hours(6));
            AttemptOutcome::Retry { next_attempt_at: now + delay, error }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn audiences_group_by_tag_filter_and_have_ascii_keys() {
        let specs: Vec<RecipientSpec> = serde_json::from_str(
            r#"["lead@example.com",
                {"address": "oss@example.com", "tags": ["开源", "大模型"]},
                "team@example.com",
                {"address": "infra@example.com", "tags": ["大模型", "开源"]},
                "lead@example.com"]"#,
        )
        .unwrap();
        let a = audiences(&specs);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].key, "all");
        assert_eq!(a[0].recipients, ["lead@example.com", "team@example.com"]);
        assert_eq!(a[1].recipients, ["oss@example.com", "infra@example.com"]);
        assert!(a[1].key.starts_with("tags-") && a[1].key.is_ascii() && a[1].key.len() == 17);
    }

    #[test]
    fn message_id_is_stable_and_uses_the_senders_domain() {
        let id = message_id("2026-11-30", "all", "modelwatch <digest@ai-notes.example.cn>");
        assert_eq!(id, "<modelwatch.digest.2026-11-30.all@ai-notes.example.cn>");
        assert_eq!(id, message_id("2026-11-30", "all", "modelwatch <digest@ai-notes.example.cn>"));
        assert_eq!(
            message_id("2026-11-30", "all", "周报机器人"),
            "<modelwatch.digest.2026-11-30.all@modelwatch.localhost>"
        );
    }

    #[test]
    fn the_lease_outlives_the_longest_send_smtp_allows() {
        assert_eq!(lease_for(Duration::from_secs(10), Duration::from_secs(60)), MIN_LEASE);
        // A slow relay configured with a 10-minute timeout.
        assert_eq!(lease_for(Duration::from_secs(30), Duration::from_secs(600)), Duration::from_secs(690));
        assert_eq!(lease_for(Duration::MAX, Duration::MAX), Duration::MAX);
    }

    #[test]
    fn transient_failures_back_off_then_fail() {
        let p = RetryPolicy::default();
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let delays: Vec<u64> = (1..=7).map(|n| p.delay_after(n).as_secs()).collect();
        assert_eq!(delays, [60, 240, 960, 3840, 15360, 21600, 21600]);
        let e = || Some(("connection refused".to_owned(), false));
        assert_eq!(
            after_attempt(1, e(), now, &p),
            AttemptOutcome::Retry {
                next_attempt_at: now + chrono::Duration::minutes(1),
                error: "connection refused".to_owned()
            }
        );
        assert!(
            matches!(after_attempt(8, e(), now, &p), AttemptOutcome::Failed { error } if error.starts_with("gave up after 8 attempts"))
        );
        assert!(matches!(
            after_attempt(1, Some(("550 user unknown".to_owned(), true)), now, &p),
            AttemptOutcome::Failed { .. }
        ));
        assert_eq!(after_attempt(3, None, now, &p), AttemptOutcome::Sent { at: now });
        // Absurd attempt counts do not overflow.
        assert_eq!(p.delay_after(u32::MAX), p.max_delay);
    }
}
