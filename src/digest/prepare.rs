//! A period's digests, built and rendered for every audience (pure): what
//! the digest job stores in the outbox, and what `digest preview` prints.

use std::sync::Arc;

use chrono_tz::Tz;

use super::outbox::{Audience, RetryPolicy};
use super::{BuildOptions, DigestInputs, Language, Period, RenderError, Rendered, Templates, build, filter_by_tags};

/// Everything a digest run needs besides the store and the mailer.
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

/// One audience's rendered digest for a period.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub period: Period,
    pub audience: Audience,
    pub rendered: Rendered,
    pub empty: bool,
}

/// Builds and renders the period's digest for every audience. Audiences
/// with nothing to report are left out unless `send_empty` (or `always`,
/// for previews).
pub fn prepare(
    settings: &DigestSettings,
    period: &Period,
    inputs: &DigestInputs,
    always: bool,
) -> Result<Vec<Prepared>, RenderError> {
    let mut out = Vec::new();
    for audience in &settings.audiences {
        let filtered = filter_by_tags(inputs.clone(), &audience.tags);
        let digest = build(period.clone(), filtered, &settings.build);
        let empty = digest.is_empty();
        if empty && !settings.send_empty && !always {
            continue;
        }
        let rendered = settings.templates.render(&digest, settings.language)?;
        out.push(Prepared { period: period.clone(), audience: audience.clone(), rendered, empty });
    }
    Ok(out)
}
