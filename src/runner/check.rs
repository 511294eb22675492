//! One check of one source: observe → liveness → compare with history →
//! diff → record, in a tracing span with stable fields.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tracing::Instrument;

use super::compare::Content;
use super::liveness::{self, LiveState, StatusChange};
use super::slot::Slot;
use super::{Runner, jitter};
use crate::change::ChangeStats;
use crate::redact::redact_url;
use crate::schedule::after;
use crate::source::Source;
use crate::sources::{self, KindChange, Observation, Observed};
use crate::store::StoreError;
use crate::store::record::{CheckOutcome, CheckRecord, NewChange, SnapshotPointer, SourceUpdate};
use crate::types::{ChangeKind, ErrorKind, SourceStatus};

/// When a check started: the time it records (the runner's clock, a test's
/// fake one) and the monotonic instant its duration is measured from.
struct Started {
    at: DateTime<Utc>,
    clock: Instant,
}

impl Started {
    fn now(runner: &Runner) -> Started {
        Started { at: runner.clock.now(), clock: Instant::now() }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CheckMode {
    /// Set when the check runs under a sweep's lease.
    pub lease_owner: Option<String>,
    /// Fetch and compare, write nothing.
    pub dry_run: bool,
    /// A page that looks replaced by another article is a rewrite of the
    /// same one: record it as content (the user says so).
    pub accept_rewrite: bool,
}

/// What a check found, for the CLI and logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// First good snapshot stored: no change.
    Baseline,
    Changed,
    Unchanged,
    /// 304: answered from the validators.
    NotModified,
    /// Back to a recent version (A→B→A): no change.
    Reverted,
    Gone,
    SoftGone,
    Redirected,
    Failed,
    /// Not requested: the host asked us to wait (see `deferred_until`).
    Deferred,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Baseline => "baseline",
            Outcome::Changed => "changed",
            Outcome::Unchanged => "unchanged",
            Outcome::NotModified => "not_modified",
            Outcome::Reverted => "reverted",
            Outcome::Gone => "gone",
            Outcome::SoftGone => "soft_gone",
            Outcome::Redirected => "redirected",
            Outcome::Failed => "failed",
            Outcome::Deferred => "deferred",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub source_id: i64,
    pub url: String,
    pub outcome: Outcome,
    pub status: SourceStatus,
    pub status_change: Option<(SourceStatus, SourceStatus)>,
    /// An outcome that would change the status, not confirmed yet: the
    /// status it argues for, how many checks agreed, how many are needed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unconfirmed: Option<Unconfirmed>,
    /// A deferred check: when the source will be checked again.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deferred_until: Option<DateTime<Utc>>,
    pub error_kind: Option<ErrorKind>,
    pub message: Option<String>,
    pub change: Option<ChangeSummary>,
    pub duration_ms: u64,
    /// Dry runs only: the extracted text and what the noise rules removed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<String>,
    /// Set when the check could not be recorded (database failure).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Unconfirmed {
    pub status: SourceStatus,
    pub count: u32,
    pub needed: u32,
}

impl std::fmt::Display for Unconfirmed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (unconfirmed {}/{})", self.status, self.count, self.needed)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ChangeSummary {
    pub summary: String,
    #[serde(flatten)]
    pub stats: ChangeStats,
    pub excerpt: String,
}

impl From<&KindChange> for ChangeSummary {
    fn from(c: &KindChange) -> Self {
        ChangeSummary { summary: c.summary.clone(), stats: c.stats, excerpt: c.excerpt.clone() }
    }
}

impl Runner {
    /// Checks one source and records the result. Never fails: a database
    /// error is reported in `record_error` and logged.
    pub async fn check(&self, source: Source, mode: &CheckMode) -> CheckReport {
        self.check_in(source, mode, None).await
    }

    /// [`Runner::check`] in `slot`, given back as soon as the record is
    /// queued for the writer (see [`Slot`]).
    pub async fn check_in(&self, source: Source, mode: &CheckMode, slot: Option<Slot>) -> CheckReport {
        let span = tracing::info_span!("check", source_id = source.id.0, url = %source.url, kind = %source.kind);
        self.check_inner(source, mode, slot).instrument(span).await
    }

    async fn check_inner(&self, source: Source, mode: &CheckMode, slot: Option<Slot>) -> CheckReport {
        let started = Started::now(self);
        let previous = self.previous_meta(&source).await;
        let mut obs = sources::observe(&self.fetcher, &self.apis, &source, !mode.dry_run, previous.as_ref()).await;
        let mut content = Content::None;
        if matches!(obs.observed, Observed::Fresh(_)) {
            match self.compare(&source, &obs, mode.accept_rewrite).await {
                Ok(Content::Replaced { reason }) => obs.observed = Observed::Redirected { reason },
                Ok(Content::Truncated { reason }) => obs = obs.into_failure(ErrorKind::Decode, reason),
                Ok(Content::Emptied { reason }) => obs = obs.into_failure(ErrorKind::InvalidContent, reason),
                Ok(Content::Changed { snapshot, changes, from, .. }) if !mode.dry_run => {
                    let catalog_hits = self.catalog_hits(&changes).await;
                    content = Content::Changed { snapshot, changes, from, catalog_hits };
                }
                Ok(c) => content = c,
                // Content we cannot compare (a diff worker panicked, the
                // history could not be read) is this source's failure, not
                // the run's: recorded with backoff like any other.
                Err(e) => obs = obs.into_failure(ErrorKind::InvalidContent, e.to_string()),
            }
        }
        self.finish(source, mode, obs, content, started, slot).await
    }

    /// Records a check that never got to observe anything (its task panicked).
    pub(super) async fn record_panic(&self, source: Source, mode: &CheckMode, message: String) -> CheckReport {
        tracing::error!(source_id = source.id.0, url = %source.url, error = %message, "Check panicked");
        let obs = Observation::failed(ErrorKind::InvalidContent, message, None, None);
        self.finish(source, mode, obs, Content::None, Started::now(self), None).await
    }

    /// Liveness, report and record for an observation.
    async fn finish(
        &self,
        source: Source,
        mode: &CheckMode,
        obs: Observation,
        content: Content,
        Started { at: started_at, clock }: Started,
        slot: Option<Slot>,
    ) -> CheckReport {
        let state = LiveState {
            status: source.status,
            last_error_kind: source.last_error_kind,
            pending_status: source.pending_status,
            pending_count: source.pending_count,
        };
        let (live, mut status_change) = liveness::transition(&state, &obs.observed, self.config.liveness.confirm_after);
        // A source that has never had a good check has nothing to recover:
        // its first success is the baseline, not "failing → ok".
        if source.last_snapshot_id.is_none() && status_change.is_some_and(|c| c.to == SourceStatus::Ok) {
            status_change = None;
        }

        let duration_ms = clock.elapsed().as_millis() as u64;
        let outcome = match (&obs.observed, &content) {
            (Observed::Fresh(_), Content::Baseline { .. }) => Outcome::Baseline,
            (Observed::Fresh(_), Content::Changed { changes, .. }) if !changes.is_empty() => Outcome::Changed,
            (Observed::Fresh(_), Content::Reverted { .. }) => Outcome::Reverted,
            (Observed::Fresh(_), _) => Outcome::Unchanged,
            (Observed::NotModified, _) => Outcome::NotModified,
            (Observed::Gone { .. }, _) => Outcome::Gone,
            (Observed::SoftGone { .. }, _) => Outcome::SoftGone,
            (Observed::Redirected { .. }, _) => Outcome::Redirected,
            (Observed::Failed { .. }, _) => Outcome::Failed,
            (Observed::Deferred { .. }, _) => Outcome::Deferred,
        };
        let error_kind = obs.observed.error_kind();
        let message = obs.observed.message().map(str::to_owned);
        let first_change = match &content {
            Content::Changed { changes, .. } => changes.first().cloned(),
            _ => None,
        };
        let mut report = CheckReport {
            source_id: source.id.0,
            url: source.url.to_string(),
            outcome,
            status: live.status,
            status_change: status_change.map(|c| (c.from, c.to)),
            deferred_until: None,
            unconfirmed: live.pending_status.map(|status| Unconfirmed {
                status,
                count: live.pending_count,
                needed: self.config.liveness.confirm_after.max(1),
            }),
            error_kind,
            message: message.clone(),
            change: first_change.as_ref().map(ChangeSummary::from),
            duration_ms,
            text: None,
            removed: Vec::new(),
            record_error: None,
        };
        if mode.dry_run {
            if let Some(fresh) = obs.observed.fresh() {
                report.text = Some(fresh.text.clone());
                report.removed = fresh.removed.clone();
            }
            return report;
        }

        let mut record = self.build_record(&source, &obs, content, &live, status_change, started_at, duration_ms, mode);
        if matches!(obs.observed, Observed::Deferred { .. }) {
            report.deferred_until = Some(record.update.next_check_at);
        }
        // A new snapshot's text is analysed now and saved with the check.
        if record.snapshot.is_some()
            && let Some(text) = obs.text()
        {
            record.catalog = self.catalog_work(text, &obs).await;
        }
        let bytes = obs.bytes;
        let retitle = sources::followed_title(&source, &obs);
        // The page is not needed while the record waits for its commit.
        drop(obs);
        let place = match &slot {
            Some(slot) => slot.awaiting_commit().await,
            None => None,
        };
        let queued = self.writer.queue(record).await;
        if let Some(slot) = slot {
            slot.release();
        }
        let recorded = match queued {
            Ok(queued) => queued.committed().await,
            Err(e) => Err(e),
        };
        drop(place);
        match recorded {
            Ok(recorded) => {
                if let (Some(snapshot_id), Some(step)) = (recorded.snapshot_id, &recorded.catalog) {
                    super::catalog::log_catalog_step(snapshot_id, step);
                }
                if let (Some(to), Some(from)) = (retitle, source.title.as_deref()) {
                    self.follow_title(&source, from, &to).await;
                }
            }
            // Another check of this source (the daemon, another instance)
            // recorded first; its result stands and this one is dropped.
            Err(e @ StoreError::Superseded(_)) => {
                tracing::info!(reason = %e, "Check result dropped");
                report.message = Some(e.to_string());
            }
            Err(e) => {
                tracing::error!(error = %e, "Cannot record the check");
                report.record_error = Some(e.to_string());
            }
        }
        log_report(&report, bytes);
        report
    }

    /// Renames a source whose title follows what it watches (a renamed
    /// repository), once its check is recorded. The title is only shown:
    /// a failure is logged, and the next good answer of a source whose
    /// title still names the old address tries again.
    async fn follow_title(&self, source: &Source, from: &str, to: &str) {
        match self.store.follow_title(source.id, from, to).await {
            Ok(()) => tracing::info!(from, to, "Source retitled after its rename"),
            Err(e) => tracing::warn!(error = %e, "Cannot retitle the source"),
        }
    }

    /// The last snapshot's metadata, for kinds whose observation builds on
    /// it (GitHub: the half of a partial 304, the releases.atom fallback).
    async fn previous_meta(&self, source: &Source) -> Option<serde_json::Value> {
        if !sources::builds_on_previous(source.kind) {
            return None;
        }
        let id = source.last_snapshot_id?;
        match self.store.get_snapshot(id).await {
            Ok(s) => s.map(|s| s.meta),
            Err(e) => {
                tracing::warn!(error = %e, "Cannot read the last snapshot");
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn build_record(
        &self,
        source: &Source,
        obs: &Observation,
        content: Content,
        live: &LiveState,
        status_change: Option<StatusChange>,
        started_at: DateTime<Utc>,
        duration_ms: u64,
        mode: &CheckMode,
    ) -> CheckRecord {
        let mut changes = Vec::new();
        if let Some(sc) = status_change {
            changes.push(NewChange {
                kind: ChangeKind::Status,
                summary: sc.summary(live.last_error_kind),
                stats: ChangeStats::default(),
                catalog_hits: 0,
                excerpt: obs.observed.message().unwrap_or_default().to_owned(),
                details: serde_json::json!({
                    "from": sc.from,
                    "to": sc.to,
                    "error_kind": live.last_error_kind,
                    "final_url": obs.final_url.as_ref().map(|u| redact_url(u.as_str())),
                }),
                from_snapshot_id: source.last_snapshot_id,
            });
        }
        let (snapshot, pointer) = match content {
            Content::None
            | Content::Unchanged
            | Content::Replaced { .. }
            | Content::Truncated { .. }
            | Content::Emptied { .. } => (None, SnapshotPointer::Keep),
            Content::Baseline { snapshot } => (Some(snapshot), SnapshotPointer::New),
            Content::Reverted { to } => (None, SnapshotPointer::Existing(to)),
            Content::Changed { snapshot, changes: found, from, catalog_hits } => {
                let hits = catalog_hits.into_iter().chain(std::iter::repeat(0));
                changes.extend(found.into_iter().zip(hits).map(|(c, catalog_hits)| NewChange {
                    kind: c.kind,
                    summary: c.summary,
                    stats: c.stats,
                    catalog_hits,
                    excerpt: c.excerpt,
                    details: c.details,
                    from_snapshot_id: Some(from),
                }));
                (Some(snapshot), SnapshotPointer::New)
            }
        };
        let failed = matches!(obs.observed, Observed::Failed { .. });
        let deferred = matches!(obs.observed, Observed::Deferred { .. });
        let failures = match () {
            _ if failed => source.consecutive_failures + 1,
            // Nothing was asked: the failure streak neither grows nor ends.
            _ if deferred => source.consecutive_failures,
            _ => 0,
        };
        let now = started_at;
        let next_check_at = if let Observed::Deferred { wait, .. } = &obs.observed {
            // Checked again right after the host's window (spread a little,
            // so a host's sources do not all return at the same instant).
            after(after(now, *wait), jitter(*wait, self.config.schedule.jitter))
        } else if live.pending_status.is_some() {
            // An outcome that would change the status is confirmed soon, not
            // an interval later (never before a Retry-After, though).
            let delay = self.config.liveness.confirm_delay;
            let soon = after(after(now, delay), jitter(delay, self.config.schedule.jitter));
            match obs.retry_after {
                Some(ra) if after(now, ra) > soon => after(now, ra),
                _ => soon,
            }
        } else {
            self.next_check(source, failures, obs.retry_after, now)
        };
        let fresh = obs.observed.fresh();
        CheckRecord {
            source_id: source.id,
            started_at,
            duration_ms,
            outcome: match &obs.observed {
                Observed::Fresh(_) => CheckOutcome::Ok,
                Observed::NotModified => CheckOutcome::NotModified,
                Observed::Gone { .. } => CheckOutcome::Gone,
                Observed::SoftGone { .. } => CheckOutcome::SoftGone,
                Observed::Redirected { .. } => CheckOutcome::Redirected,
                Observed::Failed { .. } => CheckOutcome::Failing,
                Observed::Deferred { .. } => CheckOutcome::Deferred,
            },
            http_status: obs.http_status,
            error_kind: obs.observed.error_kind(),
            message: obs.observed.message().map(str::to_owned),
            bytes: obs.bytes,
            snapshot,
            pointer,
            changes,
            update: SourceUpdate {
                status: live.status,
                last_error_kind: live.last_error_kind,
                last_error: if deferred {
                    source.last_error.clone()
                } else {
                    obs.observed.message().map(str::to_owned)
                },
                pending_status: live.pending_status,
                pending_count: live.pending_count,
                consecutive_failures: failures,
                // Validators only change with a good full response.
                etag: fresh.map(|f| f.validators.etag.clone()),
                last_modified: fresh.map(|f| f.validators.last_modified.clone()),
                // A redirect may name credentials (user:password@, token=):
                // never stored, so never listed.
                final_url: obs.final_url.as_ref().map(|u| redact_url(u.as_str())),
                title: fresh.and_then(|f| f.title.clone()),
                // A page URL that turned out to serve a feed or a PDF is that
                // kind from now on (`sources list` shows it, the next check
                // asks for it).
                kind: fresh.and_then(|_| sources::detected_kind(source.kind, obs.kind)),
                succeeded: obs.observed.is_ok(),
                next_check_at,
            },
            // Metric points belong to the check: same transaction.
            metrics: fresh.map(|f| f.metrics.clone()).unwrap_or_default(),
            lease_owner: mode.lease_owner.clone(),
            expected_snapshot: source.last_snapshot_id,
            catalog: None,
        }
    }

    /// The next check: the schedule plus jitter after a success; exponential
    /// backoff (capped, and never before a Retry-After) after failures.
    fn next_check(
        &self,
        source: &Source,
        failures: u32,
        retry_after: Option<Duration>,
        now: DateTime<Utc>,
    ) -> DateTime<Utc> {
        let sched = &self.config.schedule;
        let tz = sched.timezone;
        let interval = match &source.schedule {
            Some(s) => s.nominal_interval(now, tz),
            None => sched.default_every,
        };
        let base = if failures == 0 {
            match &source.schedule {
                Some(s) => s.next_after(now, tz),
                None => after(now, sched.default_every),
            }
        } else {
            // Retry failing sources sooner than their interval at first, then back off.
            let first = (interval / 8).max(Duration::from_secs(60));
            let factor = 2u32.saturating_pow(failures.saturating_sub(1).min(16));
            after(now, first.saturating_mul(factor).min(sched.max_backoff))
        };
        let next = after(base, jitter(interval, sched.jitter));
        match retry_after {
            Some(ra) if after(now, ra) > next => after(now, ra),
            _ => next,
        }
    }
}

fn log_report(r: &CheckReport, bytes: u64) {
    let outcome = r.outcome.as_str();
    metrics::histogram!("modelwatch_check_duration_seconds").record(r.duration_ms as f64 / 1000.0);
    metrics::counter!("modelwatch_fetched_bytes_total").increment(bytes);
    // Not recorded (a full disk, a database that refused the write): the
    // outcome happened nowhere — no snapshot, no change, no status — so it
    // is counted as unrecorded, not as what it would have been; the error
    // is logged where it happened.
    if r.record_error.is_some() {
        metrics::counter!("modelwatch_unrecorded_checks_total").increment(1);
        return;
    }
    metrics::counter!("modelwatch_checks_total", "outcome" => outcome).increment(1);
    if let Some((_, to)) = r.status_change {
        metrics::counter!("modelwatch_status_changes_total", "to" => to.as_str()).increment(1);
    }
    match (r.outcome, r.error_kind) {
        (Outcome::Failed, Some(kind)) => tracing::warn!(
            outcome,
            error_kind = %kind,
            error = r.message.as_deref().unwrap_or(""),
            status = %r.status,
            duration_ms = r.duration_ms,
            "Check failed"
        ),
        _ => tracing::info!(outcome, status = %r.status, bytes, duration_ms = r.duration_ms, "Checked source"),
    }
}
