//! Observing the API-backed kinds: which requests a GitHub or Hugging Face
//! check makes, and how their answers (200, 304, 404, rate limits) combine
//! into one outcome.

use chrono::{DateTime, Utc};
use url::Url;

use super::api::{Api, ApiClient, ApiResponse};
use super::{Structured, github, huggingface};
use crate::types::ErrorKind;

#[derive(Debug, Clone, PartialEq)]
pub enum KindOutcome {
    Observed {
        structured: Structured,
        /// The validator(s) to store for the next conditional request.
        etag: Option<String>,
        status: u16,
        bytes: u64,
        /// A note for the check's message (e.g. the releases.atom fallback).
        note: Option<String>,
        /// A rate limit seen on the way: the next check waits for it.
        until: Option<DateTime<Utc>>,
    },
    NotModified,
    Gone {
        status: u16,
    },
    Failed {
        kind: ErrorKind,
        message: String,
        status: Option<u16>,
        /// For rate limits: when to try again.
        until: Option<DateTime<Utc>>,
    },
}

impl KindOutcome {
    fn failed(kind: ErrorKind, message: impl Into<String>, status: Option<u16>) -> Self {
        KindOutcome::Failed { kind, message: message.into(), status, until: None }
    }

    fn from_response(r: ApiResponse) -> Self {
        match r {
            ApiResponse::Ok { status, .. } => {
                KindOutcome::failed(ErrorKind::InvalidContent, "unexpected", Some(status))
            }
            ApiResponse::NotModified => KindOutcome::NotModified,
            ApiResponse::NotFound { status } => KindOutcome::Gone { status },
            ApiResponse::RateLimited { until } => KindOutcome::Failed {
                kind: ErrorKind::RateLimited,
                message: format!("API rate limit: no requests until {}", until.to_rfc3339()),
                status: None,
                until: Some(until),
            },
            ApiResponse::Failed { kind, message, status } => KindOutcome::failed(kind, message, status),
        }
    }
}

/// `OWNER/REPO` (or `ORG/NAME`) from a web URL.
pub fn two_segments(url: &Url) -> Option<(String, String)> {
    let mut segs = url.path_segments()?.filter(|s| !s.is_empty());
    let a = segs.next()?.to_owned();
    let b = segs.next()?.trim_end_matches(".git").to_owned();
    Some((a, b))
}

/// The two validators of a GitHub source (repository, latest release),
/// stored together in the source's one ETag column.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GithubEtags {
    #[serde(default)]
    pub repo: Option<String>,
    #[serde(default)]
    pub release: Option<String>,
}

impl GithubEtags {
    pub fn parse(stored: Option<&str>) -> GithubEtags {
        stored.and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }

    fn store(&self) -> Option<String> {
        (self.repo.is_some() || self.release.is_some()).then(|| serde_json::to_string(self).unwrap_or_default())
    }
}

/// One GitHub check: the repository object and the latest release, each
/// conditional on its ETag. `previous` is the last snapshot's metadata; it
/// fills in whichever half answered 304, and the repository half when the
/// budget is spent and releases come from `releases.atom` instead.
pub async fn observe_github(
    api: &ApiClient,
    source_url: &Url,
    stored_etag: Option<&str>,
    previous: Option<&serde_json::Value>,
) -> KindOutcome {
    let Some((owner, repo)) = two_segments(source_url) else {
        return KindOutcome::failed(ErrorKind::InvalidContent, "not a repository URL (expected OWNER/REPO)", None);
    };
    let prev_repo = previous.and_then(github::repo_of);
    let prev_release = previous.and_then(github::release_of);
    // Validators are only useful with something to fall back on.
    let etags = if prev_repo.is_some() { GithubEtags::parse(stored_etag) } else { GithubEtags::default() };
    let repo_url = ApiClient::join(&api.github_api, &format!("repos/{owner}/{repo}"));
    let mut new_etags = GithubEtags::default();
    let mut bytes = 0u64;
    let (repo_obj, metrics, repo_changed) = match api.get(Api::Github, &repo_url, etags.repo.as_deref()).await {
        ApiResponse::Ok { body, etag, .. } => {
            bytes += body.len() as u64;
            new_etags.repo = etag;
            match github::parse_repo(&body) {
                Ok((r, m)) => (r, m, true),
                Err(e) => return KindOutcome::failed(ErrorKind::InvalidContent, e.to_string(), Some(200)),
            }
        }
        ApiResponse::NotModified => match &prev_repo {
            Some(r) => {
                new_etags.repo = etags.repo.clone();
                (r.clone(), Vec::new(), false)
            }
            None => return KindOutcome::failed(ErrorKind::HttpStatus, "304 without a stored repository", Some(304)),
        },
        ApiResponse::RateLimited { until } => {
            return atom_fallback(api, &owner, &repo, prev_repo.as_ref(), prev_release.as_ref(), stored_etag, until)
                .await;
        }
        other => return KindOutcome::from_response(other),
    };
    let release_url = ApiClient::join(&api.github_api, &format!("repos/{owner}/{repo}/releases/latest"));
    let (release, release_changed) = match api.get(Api::Github, &release_url, etags.release.as_deref()).await {
        ApiResponse::Ok { body, etag, .. } => {
            bytes += body.len() as u64;
            new_etags.release = etag;
            (github::parse_release(&body), true)
        }
        ApiResponse::NotModified => {
            new_etags.release = etags.release.clone();
            (prev_release.clone(), false)
        }
        // No release published yet.
        ApiResponse::NotFound { .. } => (None, prev_release.is_some()),
        // The repository half is good; keep the last known release.
        ApiResponse::RateLimited { .. } | ApiResponse::Failed { .. } => (prev_release.clone(), false),
    };
    if !repo_changed && !release_changed {
        return KindOutcome::NotModified;
    }
    KindOutcome::Observed {
        structured: github::structured(&repo_obj, release.as_ref(), metrics),
        etag: new_etags.store(),
        status: 200,
        bytes,
        note: None,
        until: None,
    }
}

/// The API budget is spent. With a token, wait for the reset. Without one,
/// read releases from the web's `releases.atom` (not an API request) on top
/// of the last known repository.
async fn atom_fallback(
    api: &ApiClient,
    owner: &str,
    repo: &str,
    prev_repo: Option<&github::Repo>,
    prev_release: Option<&github::Release>,
    stored_etag: Option<&str>,
    until: DateTime<Utc>,
) -> KindOutcome {
    let limited = KindOutcome::from_response(ApiResponse::RateLimited { until });
    let Some(prev_repo) = prev_repo.filter(|_| !api.has_github_token()) else { return limited };
    let atom_url = ApiClient::join(&api.github_web, &format!("{owner}/{repo}/releases.atom"));
    match api.get(Api::Web, &atom_url, None).await {
        ApiResponse::Ok { body, .. } => {
            let release = github::parse_releases_atom(&body).or_else(|| prev_release.cloned());
            KindOutcome::Observed {
                structured: github::structured(prev_repo, release.as_ref(), Vec::new()),
                // Keep the API validators for when the budget is back.
                etag: stored_etag.map(str::to_owned),
                status: 200,
                bytes: body.len() as u64,
                note: Some(format!(
                    "GitHub API budget spent until {}; releases read from releases.atom",
                    until.to_rfc3339()
                )),
                until: Some(until),
            }
        }
        _ => limited,
    }
}

/// One Hugging Face check: `GET API/api/models/ORG/NAME`.
pub async fn observe_huggingface(api: &ApiClient, source_url: &Url, stored_etag: Option<&str>) -> KindOutcome {
    let Some((org, name)) = two_segments(source_url) else {
        return KindOutcome::failed(ErrorKind::InvalidContent, "not a model URL (expected ORG/NAME)", None);
    };
    let url = ApiClient::join(&api.hf_api, &format!("api/models/{org}/{name}"));
    match api.get(Api::Huggingface, &url, stored_etag).await {
        ApiResponse::Ok { body, etag, status } => match huggingface::parse_model(&body) {
            Ok(structured) => {
                KindOutcome::Observed { structured, etag, status, bytes: body.len() as u64, note: None, until: None }
            }
            Err(e) => KindOutcome::failed(ErrorKind::InvalidContent, e.to_string(), Some(status)),
        },
        other => KindOutcome::from_response(other),
    }
}
