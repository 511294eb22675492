//! The Prometheus series: installed once, every series present from the
//! first scrape (a dashboard or an alert on `rate(checks_total[…])` must not
//! see "no data" until the first check), durations as histograms (buckets
//! aggregate across instances and never read 0 on an idle daemon, unlike
//! the exporter's default summaries).

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use crate::runner::Outcome;
use crate::store::Store;
use crate::types::SourceStatus;

/// Bucket bounds for every `*_seconds` histogram: from a cached 304 to a
/// slow PDF or a whole sweep.
const DURATION_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0];

/// Every check outcome, so each `checks_total{outcome}` starts at 0.
const OUTCOMES: [Outcome; 10] = [
    Outcome::Baseline,
    Outcome::Changed,
    Outcome::Unchanged,
    Outcome::NotModified,
    Outcome::Reverted,
    Outcome::Gone,
    Outcome::SoftGone,
    Outcome::Redirected,
    Outcome::Failed,
    Outcome::Deferred,
];

/// Fails to compile when an outcome is added and not listed above.
const fn _every_outcome_is_listed(o: Outcome) {
    match o {
        Outcome::Baseline
        | Outcome::Changed
        | Outcome::Unchanged
        | Outcome::NotModified
        | Outcome::Reverted
        | Outcome::Gone
        | Outcome::SoftGone
        | Outcome::Redirected
        | Outcome::Failed
        | Outcome::Deferred => {}
    }
}

/// Installs the process-wide Prometheus recorder with histogram buckets and
/// registers the series that must exist from the start; `None` if a recorder
/// is already installed (then `/metrics` says so instead of lying with an
/// empty page).
pub fn install() -> Option<PrometheusHandle> {
    let builder = match PrometheusBuilder::new().set_buckets(DURATION_BUCKETS) {
        Ok(b) => b,
        Err(e) => {
            tracing::warn!(error = %e, "Cannot set the histogram buckets");
            PrometheusBuilder::new()
        }
    };
    match builder.install_recorder() {
        Ok(handle) => {
            register_series();
            Some(handle)
        }
        Err(e) => {
            tracing::warn!(error = %e, "Cannot install the metrics recorder");
            None
        }
    }
}

/// Describes every series and sets the counters to 0.
fn register_series() {
    metrics::describe_gauge!("modelwatch_build_info", "Always 1; the version and target are labels.");
    metrics::gauge!(
        "modelwatch_build_info",
        "version" => env!("CARGO_PKG_VERSION"),
        "os" => std::env::consts::OS,
        "arch" => std::env::consts::ARCH
    )
    .set(1.0);
    metrics::describe_counter!("modelwatch_checks_total", "Source checks by outcome.");
    for o in OUTCOMES {
        metrics::counter!("modelwatch_checks_total", "outcome" => o.as_str()).increment(0);
    }
    metrics::describe_counter!(
        "modelwatch_unrecorded_checks_total",
        "Checks whose record could not be written (disk full, database errors): nothing of them was kept."
    );
    metrics::counter!("modelwatch_unrecorded_checks_total").increment(0);
    metrics::describe_histogram!(
        "modelwatch_check_duration_seconds",
        metrics::Unit::Seconds,
        "One whole check: fetch, extract, diff, record."
    );
    metrics::describe_histogram!(
        "modelwatch_fetch_duration_seconds",
        metrics::Unit::Seconds,
        "The HTTP part of a check, including retries."
    );
    metrics::describe_histogram!("modelwatch_sweep_duration_seconds", metrics::Unit::Seconds, "One daemon sweep.");
    metrics::describe_counter!("modelwatch_fetched_bytes_total", metrics::Unit::Bytes, "Body bytes fetched.");
    metrics::counter!("modelwatch_fetched_bytes_total").increment(0);
    metrics::describe_counter!("modelwatch_status_changes_total", "Confirmed source status changes, by new status.");
    metrics::describe_gauge!("modelwatch_sources", "Watched sources by status.");
    for s in SourceStatus::ALL {
        metrics::gauge!("modelwatch_sources", "status" => s.as_str()).set(0.0);
    }
    metrics::describe_counter!("modelwatch_digest_sent_total", "Digests accepted by the SMTP server.");
    metrics::counter!("modelwatch_digest_sent_total").increment(0);
    metrics::describe_counter!("modelwatch_digest_attempt_failures_total", "Failed digest send attempts.");
    metrics::counter!("modelwatch_digest_attempt_failures_total").increment(0);
    metrics::describe_counter!(
        "modelwatch_digest_recipient_refusals_total",
        "Digest recipients the SMTP server refused for good, by address (the others still got the digest)."
    );
}

/// Sets `modelwatch_sources{status}` from the database (every status, 0
/// when none has it).
pub async fn refresh_sources(store: &Store) {
    match store.count_sources_by_status().await {
        Ok(counts) => {
            for s in SourceStatus::ALL {
                let n = counts.iter().find(|(status, _)| status == s.as_str()).map_or(0, |(_, n)| *n);
                metrics::gauge!("modelwatch_sources", "status" => s.as_str()).set(n as f64);
            }
        }
        Err(e) => tracing::warn!(error = %e, "Cannot count sources for the metrics"),
    }
}
