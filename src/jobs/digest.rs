//! One digest run: build and store the period's digests (outbox), then
//! deliver what is pending. Used by the daemon's digest job, its start-up
//! catch-up and `digest send`; `digest preview` and `--dry-run` use the pure
//! [`crate::digest::prepare`] alone.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing::Instrument;

use crate::clock::Clock;
use crate::digest::deliveries::{self, Deliveries, Delivery, DeliveryStatus};
use crate::digest::outbox::{self, AttemptOutcome};
use crate::digest::{BuildOptions, DigestInputs, DigestSettings, Period, RenderError, Templates, prepare};
use crate::mail::{MailError, MailSession, Mailer, OutgoingMail};
use crate::store::digest::{DigestRow, NewDigest};
use crate::store::{Store, StoreError};

/// The digest settings of `[digest]` (and `[smtp]`'s timeouts, which bound
/// the claim's lease; `[web]`'s `base_url`, which the items link to).
/// Template overrides are read here, once.
pub fn settings(
    c: &crate::config::DigestConfig,
    smtp: &crate::config::SmtpConfig,
    web: &crate::config::WebConfig,
) -> Result<DigestSettings, DigestError> {
    Ok(DigestSettings {
        from: c.from.clone(),
        audiences: outbox::audiences(&c.recipients),
        language: c.language,
        timezone: c.timezone,
        templates: std::sync::Arc::new(Templates::with_overrides(&c.templates_dir)?),
        build: BuildOptions {
            failing_after_days: i64::from(c.failing_after_days),
            top_movers: usize::try_from(c.top_movers).unwrap_or(usize::MAX),
            web_base: web.base_url.as_ref().map(|u| u.as_str().trim_end_matches('/').to_owned()),
        },
        retry: outbox::RetryPolicy {
            max_attempts: c.max_attempts,
            lease: outbox::lease_for(smtp.connect_timeout, smtp.timeout),
            ..outbox::RetryPolicy::default()
        },
        send_empty: c.send_empty,
    })
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("digest database query failed")]
    Store(#[from] StoreError),
    #[error("cannot render the digest")]
    Render(#[from] RenderError),
}

/// What a run did, for the CLI and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Period keys built and queued in this run.
    pub built: Vec<String>,
    /// Period keys already in the outbox (another instance or an earlier run).
    pub already_built: Vec<String>,
    /// Period keys with nothing to report (and `send_empty` off).
    pub empty: Vec<String>,
    pub sent: Vec<String>,
    /// Not accepted, will be retried: `(period key, error)`.
    pub retrying: Vec<(String, String)>,
    /// Given up: `(period key, error)`.
    pub failed: Vec<(String, String)>,
    /// Recipients the server refused for good in this run: `(period key,
    /// address, reason)`. The others still got the digest.
    pub refused: Vec<(String, String, String)>,
    /// Claimed by another sender meanwhile.
    pub skipped: usize,
}

/// The period a run at `now` covers: every change committed after the last
/// digest's cursor up to the highest one committed now (a change committed
/// while the digest is built goes to the next one).
pub async fn current_period(store: &Store, now: DateTime<Utc>, tz: Tz) -> Result<Period, DigestError> {
    let previous = store.digest_previous().await?;
    let through = store.max_committed_change_seq().await?;
    Ok(Period::for_run_at(now, previous, through, tz))
}

/// Builds the period's digests and stores them as pending, all audiences in
/// one transaction, before any SMTP traffic. A period already in the outbox
/// is left alone.
pub async fn enqueue(
    store: &Store,
    settings: &DigestSettings,
    period: &Period,
    inputs: &DigestInputs,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    if store.digest_exists_for_period(&period.key).await? {
        report.already_built.push(period.key.clone());
        return Ok(());
    }
    let prepared = prepare(settings, period, inputs, false)?;
    if prepared.is_empty() {
        tracing::info!(period = %period.key, "Nothing to report; no digest built.");
        // Record the period as covered, so the next one starts after it and a
        // restart does not take this week for a missed send.
        store.digest_record_skipped(&period.key, period.start, period.end, period.cursor, now).await?;
        report.empty.push(period.key.clone());
        return Ok(());
    }
    let digests = prepared
        .into_iter()
        .map(|p| NewDigest {
            message_id: outbox::message_id(&p.period.key, &p.audience.key, &settings.from),
            period_key: p.period.key,
            audience: p.audience.key,
            period_start: p.period.start,
            period_end: p.period.end,
            recipients: p.audience.recipients,
            subject: p.rendered.subject,
            body_text: p.rendered.text,
            body_html: p.rendered.html,
            cursor: p.period.cursor,
        })
        .collect();
    let inserted = store.digest_enqueue(digests, now).await?;
    if inserted > 0 {
        tracing::info!(period = %period.key, digests = inserted, "Digest built and queued.");
        report.built.push(period.key.clone());
    } else {
        report.already_built.push(period.key.clone());
    }
    Ok(())
}

/// Sends pending digests: due ones, or all of them when `ignore_backoff`
/// (an explicit `digest send`). Each row is claimed before any SMTP traffic.
pub async fn deliver<M: Mailer>(
    store: &Store,
    mailer: &M,
    settings: &DigestSettings,
    clock: &dyn Clock,
    ignore_backoff: bool,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    let pending = store.digest_pending(clock.now(), ignore_backoff).await?;
    // Marks this process a sender while it claims and sends (SQLite: a
    // daemon starting meanwhile leaves our claims alone).
    let _sending = if pending.is_empty() { None } else { store.digest_sending().await? };
    for row in pending {
        let span =
            tracing::info_span!("digest", digest_id = row.id, period = %row.period_key, audience = %row.audience);
        deliver_one(store, mailer, settings, row, clock, report).instrument(span).await?;
    }
    // Display only: a count of digests fits an f64 exactly.
    #[allow(clippy::cast_precision_loss)]
    let failed = store.digest_count_failed().await? as f64;
    metrics::gauge!("modelwatch_digest_failed").set(failed);
    Ok(())
}

async fn deliver_one<M: Mailer>(
    store: &Store,
    mailer: &M,
    settings: &DigestSettings,
    row: DigestRow,
    clock: &dyn Clock,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    // The lease runs from the claim, not from the run's start: earlier rows
    // of this run may have taken minutes to send.
    let claimed_at = clock.now();
    let lease = chrono::Duration::from_std(settings.retry.lease).unwrap_or(chrono::Duration::days(1));
    let lease_until = outbox::lease_end(claimed_at, lease);
    if !store.digest_claim(row.id, claimed_at, lease_until).await? {
        tracing::info!("Digest is being sent by another instance; skipped.");
        report.skipped += 1;
        return Ok(());
    }
    let attempts = u32::try_from(row.attempts).unwrap_or(0).saturating_add(1);
    let mail = OutgoingMail {
        from: settings.from.clone(),
        to: row.recipients.clone(),
        subject: row.subject.clone(),
        text: row.body_text.clone(),
        html: row.body_html.clone(),
        message_id: row.message_id.clone(),
    };
    let mut attempt = Attempt { store, row: &row, lease, lease_until, claimed_at, clock, report };
    let outcome = match mailer.open(&mail) {
        // The message cannot be built: nobody can get it.
        Err(e) => outbox::after_attempt(attempts, Some((e.report(), e.is_permanent())), attempt.now(), &settings.retry),
        Ok(session) => {
            let Some((deliveries, stopped)) = attempt.send_each(session).await? else { return Ok(()) };
            let keys: Vec<String> = row.recipients.iter().map(|r| recipient_key(r)).collect();
            deliveries::conclude(&keys, &deliveries, stopped, attempts, attempt.now(), &settings.retry)
        }
    };
    if !store.digest_record(row.id, attempt.lease_until, &outcome).await? {
        // Our lease lapsed and another sender took the row over (or an
        // operator changed it): its outcome is the one that counts.
        tracing::warn!(?outcome, "Digest row was no longer ours when recording the attempt; left as it is.");
    }
    match outcome {
        AttemptOutcome::Sent { .. } => {
            tracing::info!(message_id = %row.message_id, attempts, recipients = row.recipients.len(), "Digest sent.");
            metrics::counter!("modelwatch_digest_sent_total").increment(1);
            report.sent.push(row.period_key);
        }
        AttemptOutcome::Retry { next_attempt_at, error } => {
            tracing::warn!(attempts, next_attempt_at = %next_attempt_at, error = %error, "Digest not accepted by every recipient; will retry.");
            metrics::counter!("modelwatch_digest_attempt_failures_total").increment(1);
            report.retrying.push((row.period_key, error));
        }
        AttemptOutcome::Failed { error } => {
            tracing::error!(attempts, error = %error, "Digest failed; `modelwatch digest send --retry-failed` resends it to whoever does not have it.");
            metrics::counter!("modelwatch_digest_attempt_failures_total").increment(1);
            report.failed.push((row.period_key, error));
        }
    }
    Ok(())
}

/// How the outbox names a recipient: its envelope address; an address that
/// does not parse as itself (sending to it fails, and says why).
pub fn recipient_key(recipient: &str) -> String {
    crate::mail::envelope_address(recipient).unwrap_or_else(|_| recipient.trim().to_owned())
}

/// One claimed attempt at a row: its recipients in turn, each outcome
/// recorded (and the lease extended) before the next envelope.
struct Attempt<'a> {
    store: &'a Store,
    row: &'a DigestRow,
    lease: chrono::Duration,
    /// The claim's token; it moves forward with each recorded recipient.
    lease_until: DateTime<Utc>,
    claimed_at: DateTime<Utc>,
    clock: &'a dyn Clock,
    report: &'a mut RunReport,
}

impl Attempt<'_> {
    fn now(&self) -> DateTime<Utc> {
        self.clock.now().max(self.claimed_at)
    }

    /// Sends to every recipient that does not have the digest and did not
    /// refuse it for good. Returns the deliveries and the error that ended
    /// the attempt early (the relay failed), or `None` when the row stopped
    /// being ours (then nothing more is recorded).
    async fn send_each<S: MailSession>(
        &mut self,
        mut session: S,
    ) -> Result<Option<(Deliveries, Option<(String, bool)>)>, DigestError> {
        let mut deliveries = self.row.deliveries.clone();
        let mut stopped = None;
        for recipient in &self.row.recipients {
            let key = recipient_key(recipient);
            if !deliveries.wants(&key) {
                continue;
            }
            let result = session.send_to(recipient).await;
            let (status, detail) = match result {
                Ok(accepted) => {
                    tracing::info!(recipient = %key, reply = %accepted.reply, "Digest delivered to a recipient.");
                    (DeliveryStatus::Delivered, accepted.reply)
                }
                Err(e) if e.ends_attempt() => {
                    stopped = Some((e.report(), e.is_permanent()));
                    break;
                }
                Err(e) => self.refused(&key, &e),
            };
            deliveries.set(Delivery { address: key, status, detail, at: self.now() });
            let next_lease = outbox::lease_end(self.now(), self.lease).max(self.lease_until);
            let ours = self.store.digest_record_deliveries(self.row.id, self.lease_until, next_lease, &deliveries);
            if !ours.await? {
                tracing::warn!("Digest row was no longer ours mid-send; stopped, left as it is.");
                self.report.skipped += 1;
                session.close().await;
                return Ok(None);
            }
            self.lease_until = next_lease;
        }
        session.close().await;
        Ok(Some((deliveries, stopped)))
    }

    /// A refusal of this one envelope: for good (`550 user unknown`) or for
    /// now (`450 greylisted`); the next recipients are tried all the same.
    fn refused(&mut self, key: &str, e: &MailError) -> (DeliveryStatus, String) {
        let reason = e.report();
        if e.is_permanent() {
            tracing::warn!(recipient = %key, error = %reason, "Recipient refused the digest; the others still get it.");
            metrics::counter!("modelwatch_digest_recipient_refusals_total", "recipient" => key.to_owned()).increment(1);
            self.report.refused.push((self.row.period_key.clone(), key.to_owned(), reason.clone()));
            (DeliveryStatus::Refused, reason)
        } else {
            tracing::warn!(recipient = %key, error = %reason, "Recipient deferred the digest; it is retried.");
            (DeliveryStatus::Deferred, reason)
        }
    }
}

/// A whole run at `clock`'s now: build and queue the current period, then
/// deliver.
pub async fn run_once<M: Mailer>(
    store: &Store,
    mailer: &M,
    settings: &DigestSettings,
    clock: &dyn Clock,
    ignore_backoff: bool,
) -> Result<RunReport, DigestError> {
    let mut report = RunReport::default();
    let now = clock.now();
    let period = current_period(store, now, settings.timezone).await?;
    let inputs = crate::store::digest::load_inputs(store, &period).await?;
    enqueue(store, settings, &period, &inputs, now, &mut report).await?;
    deliver(store, mailer, settings, clock, ignore_backoff, &mut report).await?;
    Ok(report)
}
