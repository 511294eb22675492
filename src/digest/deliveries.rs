//! Per-recipient delivery of one digest (pure): who already has it, who
//! refused it, and what an attempt over the recipients does to the row.
//!
//! A digest goes out as one SMTP envelope per recipient (the same message,
//! the same Message-ID), so one refused address costs nobody else the week's
//! digest. Each recipient's outcome is recorded before the next envelope, so
//! the outbox's guarantees hold per recipient: a recipient recorded as
//! delivered is never sent it again by us; one killed between the server's
//! accept and our record gets it again with the same Message-ID.
//!
//! A recipient is keyed by its envelope address (the mailbox, without the
//! display name, its domain in ASCII and lower case), so renaming
//! `研究组 <team@example.com>` in the config does not resend to it.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::outbox::{AttemptOutcome, RetryPolicy, after_attempt};

/// What happened to one recipient's envelope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// The server accepted it: never sent to this address again.
    Delivered,
    /// Refused for good (`550 5.1.1 user unknown`): not retried until
    /// `digest send --retry-failed`.
    Refused,
    /// Refused for now (a 4xx: greylisting, a full mailbox): retried with
    /// the row's backoff.
    Deferred,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Delivered => "delivered",
            DeliveryStatus::Refused => "refused",
            DeliveryStatus::Deferred => "deferred",
        }
    }
}

/// One recipient's latest outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    /// The envelope address ([`crate::mail::envelope_address`]).
    pub address: String,
    pub status: DeliveryStatus,
    /// The server's reply (`250 OK queued as 4F2A`) or the refusal's report.
    pub detail: String,
    pub at: DateTime<Utc>,
}

/// A digest's per-recipient state, in the order recipients were tried. A
/// row without any (built before per-recipient delivery, or not tried yet)
/// has delivered to nobody.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Deliveries(Vec<Delivery>);

impl Deliveries {
    pub fn new(list: Vec<Delivery>) -> Deliveries {
        Deliveries(list)
    }

    pub fn as_slice(&self) -> &[Delivery] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, address: &str) -> Option<&Delivery> {
        self.0.iter().find(|d| d.address == address)
    }

    /// Records `d`, replacing the address's earlier outcome.
    pub fn set(&mut self, d: Delivery) {
        match self.0.iter_mut().find(|e| e.address == d.address) {
            Some(e) => *e = d,
            None => self.0.push(d),
        }
    }

    /// Whether an attempt sends to `address`: not when it was delivered,
    /// nor when it was refused for good (until `--retry-failed`).
    pub fn wants(&self, address: &str) -> bool {
        !matches!(self.get(address), Some(d) if d.status != DeliveryStatus::Deferred)
    }

    /// `--retry-failed`: refusals are forgotten (the address was fixed, or
    /// the mailbox created), deliveries are kept (they never repeat).
    pub fn for_retry(mut self) -> Deliveries {
        self.0.retain(|d| d.status == DeliveryStatus::Delivered);
        self
    }

    fn count(&self, keys: &[String], status: DeliveryStatus) -> usize {
        keys.iter().filter(|k| self.get(k).is_some_and(|d| d.status == status)).count()
    }
}

/// What to write to the row after an attempt over its recipients. `keys`
/// are the envelope addresses of the row's recipients; `stopped` is the
/// error that ended the attempt early (the relay failed: no connection, a
/// timeout, a dropped connection) and whether it is permanent, `None` when
/// every recipient was tried.
///
/// Sent when every recipient has it. Otherwise pending and retried with
/// backoff while a recipient is deferred or the relay failed (failed after
/// `max_attempts`); failed at once when the only ones left refused for good.
/// The error names every address not delivered, with its reason.
pub fn conclude(
    keys: &[String],
    deliveries: &Deliveries,
    stopped: Option<(String, bool)>,
    attempts: u32,
    now: DateTime<Utc>,
    policy: &RetryPolicy,
) -> AttemptOutcome {
    let delivered = deliveries.count(keys, DeliveryStatus::Delivered);
    if delivered == keys.len() {
        return AttemptOutcome::Sent { at: now };
    }
    let mut parts = vec![format!("{delivered} of {} recipient(s) delivered", keys.len())];
    parts.extend(stopped.as_ref().map(|(e, _)| format!("stopped: {e}")));
    for status in [DeliveryStatus::Deferred, DeliveryStatus::Refused] {
        for key in keys {
            if let Some(d) = deliveries.get(key).filter(|d| d.status == status) {
                parts.push(format!("{} {}: {}", status.as_str(), d.address, d.detail));
            }
        }
    }
    let error = parts.join("; ");
    let permanent = match stopped {
        Some((_, permanent)) => permanent,
        None => deliveries.count(keys, DeliveryStatus::Deferred) == 0,
    };
    after_attempt(attempts, Some((error, permanent)), now, policy)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap()
    }

    fn d(address: &str, status: DeliveryStatus, detail: &str) -> Delivery {
        Delivery { address: address.to_owned(), status, detail: detail.to_owned(), at: now() }
    }

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn every_recipient_delivered_is_sent() {
        let mut list = Deliveries::default();
        list.set(d("a@example.com", DeliveryStatus::Deferred, "450 greylisted"));
        list.set(d("a@example.com", DeliveryStatus::Delivered, "250 OK"));
        list.set(d("b@example.com", DeliveryStatus::Delivered, "250 OK"));
        assert_eq!(list.as_slice().len(), 2, "one entry per address");
        let outcome =
            conclude(&keys(&["a@example.com", "b@example.com"]), &list, None, 1, now(), &RetryPolicy::default());
        assert_eq!(outcome, AttemptOutcome::Sent { at: now() });
    }

    #[test]
    fn a_refused_address_fails_the_row_naming_it_and_the_others_keep_theirs() {
        let mut list = Deliveries::default();
        list.set(d("a@example.com", DeliveryStatus::Delivered, "250 OK"));
        list.set(d("bad@example.com", DeliveryStatus::Refused, "550 5.1.1 user unknown"));
        list.set(d("c@example.com", DeliveryStatus::Delivered, "250 OK"));
        let k = keys(&["a@example.com", "bad@example.com", "c@example.com"]);
        let AttemptOutcome::Failed { error } = conclude(&k, &list, None, 1, now(), &RetryPolicy::default()) else {
            panic!("a refusal is permanent")
        };
        assert_eq!(error, "2 of 3 recipient(s) delivered; refused bad@example.com: 550 5.1.1 user unknown");
        assert!(!list.wants("a@example.com") && !list.wants("bad@example.com"));
        // `--retry-failed` tries the refused address again, never a delivered one.
        let retry = list.for_retry();
        assert!(retry.wants("bad@example.com") && !retry.wants("a@example.com"));
        assert_eq!(retry.as_slice().len(), 2);
    }

    #[test]
    fn a_deferred_address_or_a_failed_relay_is_retried_with_the_rest() {
        let p = RetryPolicy::default();
        let mut list = Deliveries::default();
        list.set(d("a@example.com", DeliveryStatus::Delivered, "250 OK"));
        list.set(d("busy@example.com", DeliveryStatus::Deferred, "452 mailbox full"));
        list.set(d("bad@example.com", DeliveryStatus::Refused, "550 user unknown"));
        let k = keys(&["a@example.com", "busy@example.com", "bad@example.com", "c@example.com"]);
        assert!(list.wants("busy@example.com") && list.wants("c@example.com"));
        let AttemptOutcome::Retry { next_attempt_at, error } = conclude(&k, &list, None, 1, now(), &p) else {
            panic!("deferred is transient")
        };
        assert_eq!(next_attempt_at, now() + chrono::Duration::minutes(1));
        assert_eq!(
            error,
            "1 of 4 recipient(s) delivered; deferred busy@example.com: 452 mailbox full; refused bad@example.com: 550 user unknown"
        );
        // The relay dropped the connection before c: retried too.
        let mut relay_down = Deliveries::default();
        relay_down.set(d("a@example.com", DeliveryStatus::Delivered, "250 OK"));
        let outcome = conclude(&k[..2], &relay_down, Some(("connection reset".to_owned(), false)), 2, now(), &p);
        assert!(
            matches!(&outcome, AttemptOutcome::Retry { error, .. } if error == "1 of 2 recipient(s) delivered; stopped: connection reset"),
            "{outcome:?}"
        );
        // …until the attempts run out.
        let last =
            conclude(&k[..2], &relay_down, Some(("connection reset".to_owned(), false)), p.max_attempts, now(), &p);
        assert!(
            matches!(&last, AttemptOutcome::Failed { error } if error.starts_with("gave up after 8 attempts: 1 of 2"))
        );
    }

    #[test]
    fn stored_form_is_a_json_list() {
        let mut list = Deliveries::default();
        list.set(d("a@example.com", DeliveryStatus::Delivered, "250 OK queued as 1"));
        let json = serde_json::to_string(&list).unwrap();
        assert_eq!(
            json,
            r#"[{"address":"a@example.com","status":"delivered","detail":"250 OK queued as 1","at":"2026-11-30T00:00:00Z"}]"#
        );
        assert_eq!(serde_json::from_str::<Deliveries>(&json).unwrap(), list);
    }
}
