//! One digest run: build and store the period's digests (outbox), then
//! deliver what is pending. Used by the cron job, the start-up catch-up and
//! `digest send`; `digest preview` and `--dry-run` use [`prepare`] alone.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use sea_orm::{DatabaseConnection, DbErr, TransactionTrait};
use tracing::Instrument;

use super::outbox::{self, AttemptOutcome, Audience, RetryPolicy};
use super::{
    BuildOptions, DigestInputs, Language, Period, RenderError, Rendered, Templates, build,
    filter_by_tags,
};
use crate::mail::{Mailer, OutgoingMail};
use crate::store::digest::{self as store, DigestRow, NewDigest};

/// Everything a run needs besides the database and the mailer.
#[derive(Debug, Clone)]
pub struct DigestSettings {
    pub from: String,
    pub audiences: Vec<Audience>,
    pub language: Language,
    pub timezone: Tz,
    pub templates: Arc<Templates>,
    pub build: BuildOptions,
    pub retry: RetryPolicy,
    /// Send a short "no changes" digest instead of skipping an empty period.
    pub send_empty: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("digest database query failed")]
    Store(#[from] DbErr),
    #[error("cannot render the digest")]
    Render(#[from] RenderError),
}

/// One audience's rendered digest for a period.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub period: Period,
    pub audience: Audience,
    pub rendered: Rendered,
    pub empty: bool,
}

/// Builds and renders the period's digest for every audience (pure apart
/// from template rendering). Audiences with nothing to report are left out
/// unless `send_empty`.
pub fn prepare(
    settings: &DigestSettings,
    period: &Period,
    inputs: &DigestInputs,
) -> Result<Vec<Prepared>, DigestError> {
    let mut out = Vec::new();
    for audience in &settings.audiences {
        let filtered = filter_by_tags(inputs.clone(), &audience.tags);
        let digest = build(period.clone(), filtered, &settings.build);
        let empty = digest.is_empty();
        if empty && !settings.send_empty {
            continue;
        }
        let rendered = settings.templates.render(&digest, settings.language)?;
        out.push(Prepared {
            period: period.clone(),
            audience: audience.clone(),
            rendered,
            empty,
        });
    }
    Ok(out)
}

/// What a run did, for the CLI and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunReport {
    /// Period key of the digests built in this run (`None`: nothing new to build).
    pub built: Vec<String>,
    /// Period keys already in the outbox (another instance or an earlier run).
    pub already_built: Vec<String>,
    pub sent: Vec<String>,
    /// Not accepted, will be retried: `(period key, error)`.
    pub retrying: Vec<(String, String)>,
    /// Given up: `(period key, error)`.
    pub failed: Vec<(String, String)>,
    /// Claimed by another sender meanwhile.
    pub skipped: usize,
}

/// The period a run at `now` covers: from the end of the last digest built.
pub async fn current_period(
    db: &DatabaseConnection,
    now: DateTime<Utc>,
    tz: Tz,
) -> Result<Period, DigestError> {
    let previous = store::last_period_end(db).await?;
    Ok(Period::ending_at(now, previous, tz))
}

/// Builds the period's digests and stores them as pending, all audiences in
/// one transaction, before any SMTP traffic. A period already in the outbox
/// is left alone.
pub async fn enqueue(
    db: &DatabaseConnection,
    settings: &DigestSettings,
    period: &Period,
    inputs: &DigestInputs,
    now: DateTime<Utc>,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    if store::exists_for_period(db, &period.key).await? {
        report.already_built.push(period.key.clone());
        return Ok(());
    }
    let prepared = prepare(settings, period, inputs)?;
    if prepared.is_empty() {
        tracing::info!(period = %period.key, "Nothing to report; no digest built.");
        return Ok(());
    }
    let txn = db.begin().await?;
    let mut inserted = 0;
    for p in prepared {
        let new = NewDigest {
            period_key: p.period.key.clone(),
            audience: p.audience.key.clone(),
            period_start: p.period.start,
            period_end: p.period.end,
            recipients: p.audience.recipients.clone(),
            subject: p.rendered.subject,
            body_text: p.rendered.text,
            body_html: p.rendered.html,
            message_id: outbox::message_id(&p.period.key, &p.audience.key, &settings.from),
        };
        if store::insert_if_absent(&txn, new, now).await?.is_some() {
            inserted += 1;
        }
    }
    txn.commit().await?;
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
    db: &DatabaseConnection,
    mailer: &M,
    settings: &DigestSettings,
    now: DateTime<Utc>,
    ignore_backoff: bool,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    let lease =
        chrono::Duration::from_std(settings.retry.lease).unwrap_or(chrono::Duration::minutes(5));
    for row in store::pending(db, now, ignore_backoff).await? {
        let span = tracing::info_span!("digest", digest_id = row.id, period = %row.period_key, audience = %row.audience);
        deliver_one(db, mailer, settings, row, now, lease, report)
            .instrument(span)
            .await?;
    }
    metrics::gauge!("modelwatch_digest_failed").set(store::count_failed(db).await? as f64);
    Ok(())
}

async fn deliver_one<M: Mailer>(
    db: &DatabaseConnection,
    mailer: &M,
    settings: &DigestSettings,
    row: DigestRow,
    now: DateTime<Utc>,
    lease: chrono::Duration,
    report: &mut RunReport,
) -> Result<(), DigestError> {
    if !store::claim(db, row.id, now, now + lease).await? {
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
    let result = mailer.send(&mail).await;
    let error = result
        .as_ref()
        .err()
        .map(|e| (e.report(), e.is_permanent()));
    let outcome = outbox::after_attempt(attempts, error, Utc::now().max(now), &settings.retry);
    store::record(db, row.id, &outcome).await?;
    match outcome {
        AttemptOutcome::Sent { .. } => {
            let reply = result.map(|a| a.reply).unwrap_or_default();
            tracing::info!(message_id = %row.message_id, attempts, reply = %reply, "Digest sent.");
            metrics::counter!("modelwatch_digest_sent_total").increment(1);
            report.sent.push(row.period_key);
        }
        AttemptOutcome::Retry {
            next_attempt_at,
            error,
        } => {
            tracing::warn!(attempts, next_attempt_at = %next_attempt_at, error = %error, "Digest not accepted; will retry.");
            metrics::counter!("modelwatch_digest_attempt_failures_total").increment(1);
            report.retrying.push((row.period_key, error));
        }
        AttemptOutcome::Failed { error } => {
            tracing::error!(attempts, error = %error, "Digest failed; `modelwatch digest send --retry-failed` resends it.");
            metrics::counter!("modelwatch_digest_attempt_failures_total").increment(1);
            report.failed.push((row.period_key, error));
        }
    }
    Ok(())
}
