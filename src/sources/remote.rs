//! Observing the API-backed kinds: which requests a GitHub or Hugging Face
//! check makes, and how their answers (200, 304, 404, rate limits) combine
//! into one observation.

use chrono::{DateTime, Utc};
use url::Url;

use super::api::{Api, Apis};
use super::harness::from_structured;
use super::observation::{Observation, Observed, Validators};
use super::{Structured, github, huggingface};
use crate::fetch::{FetchOutcome, Fetcher};
use crate::types::{ErrorKind, SourceKind};

const GH: SourceKind = SourceKind::Github;
const HF: SourceKind = SourceKind::Huggingface;

/// A rate limit's end as the wait the next check honours.
fn wait_until(until: DateTime<Utc>) -> Option<std::time::Duration> {
    (until - Utc::now()).to_std().ok()
}

fn failed(kind: SourceKind, error: ErrorKind, message: impl Into<String>, status: Option<u16>) -> Observation {
    Observation { kind, ..Observation::failed(error, message.into(), status, None) }
}

/// An API answer that is not the body the kind wanted, as an observation.
/// The API's URL is not the source's: no final URL is reported.
fn from_outcome(kind: SourceKind, outcome: FetchOutcome) -> Observation {
    match outcome {
        FetchOutcome::Fetched(f) => failed(kind, ErrorKind::InvalidContent, "unexpected", Some(f.status)),
        FetchOutcome::NotModified { .. } => Observation::bare(Observed::NotModified, kind, Some(304), None),
        FetchOutcome::Gone { status, .. } => Observation::bare(
            Observed::Gone { reason: format!("HTTP {status} from the API") },
            kind,
            Some(status),
            None,
        ),
        FetchOutcome::Failed(f) => {
            Observation { retry_after: f.retry_after, ..failed(kind, f.kind, f.message, f.status) }
        }
        FetchOutcome::Deferred { wait, .. } => Observation::deferred(wait, kind, None),
    }
}

/// Parses an API body off the async threads, on a thread with a known
/// stack and a time budget: a hostile answer (nesting past serde_json's
/// depth limit of 128, a huge body, a parser bug) ends this source's check
/// with `invalid_content` and the reason, never the daemon.
async fn contained<T: Send + 'static>(
    name: &'static str,
    body: bytes::Bytes,
    parse: impl FnOnce(&[u8]) -> T + Send + 'static,
) -> Result<T, String> {
    crate::blocking::blocking(move || {
        crate::contain::on_thread(name, crate::contain::ThreadLimits::PARSER, move || parse(&body))
            .map_err(|e| e.to_string())
    })
    .await
    .and_then(|r| r)
}

/// A good API read; `etag` replaces the stored validator even when absent.
fn fresh(kind: SourceKind, structured: Structured, etag: Option<String>, status: u16, bytes: u64) -> Observation {
    from_structured(structured, kind, status, bytes, Validators { etag, last_modified: None })
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
    fetcher: &Fetcher,
    api: &Apis,
    source_url: &Url,
    stored_etag: Option<&str>,
    previous: Option<&serde_json::Value>,
) -> Observation {
    let Some((owner, repo)) = two_segments(source_url) else {
        return failed(GH, ErrorKind::InvalidContent, "not a repository URL (expected OWNER/REPO)", None);
    };
    let prev_repo = previous.and_then(github::repo_of);
    let prev_release = previous.and_then(github::release_of);
    // A renamed repository is asked under the name the API gave it last:
    // the old path only redirects, and may one day be another repository.
    let (owner, repo) = match prev_repo.as_ref().and_then(|r| github::api_name(&r.full_name)) {
        Some((o, r)) => (o.to_owned(), r.to_owned()),
        None => (owner, repo),
    };
    // Validators are only useful with something to fall back on.
    let etags = if prev_repo.is_some() { GithubEtags::parse(stored_etag) } else { GithubEtags::default() };
    let repo_url = Apis::join(&api.github_api, &format!("repos/{owner}/{repo}"));
    let mut new_etags = GithubEtags::default();
    let mut bytes = 0u64;
    let repo_req = api.request(Api::Github, repo_url, etags.repo.as_deref());
    let (repo_obj, metrics, repo_changed) = match fetcher.fetch(&repo_req).await {
        FetchOutcome::Fetched(f) => {
            bytes += f.body.len() as u64;
            new_etags.repo = f.etag;
            match contained("github-json", f.body, github::parse_repo).await {
                Ok(Ok((r, m))) => (r, m, true),
                Ok(Err(e)) => return failed(GH, ErrorKind::InvalidContent, e.to_string(), Some(200)),
                Err(e) => return failed(GH, ErrorKind::InvalidContent, e, Some(200)),
            }
        }
        FetchOutcome::NotModified { .. } => match &prev_repo {
            Some(r) => {
                new_etags.repo = etags.repo.clone();
                (r.clone(), Vec::new(), false)
            }
            None => return failed(GH, ErrorKind::HttpStatus, "304 without a stored repository", Some(304)),
        },
        FetchOutcome::Failed(f) if f.kind == ErrorKind::RateLimited => {
            let Some(until) = api.github_blocked_until(Utc::now()) else {
                return from_outcome(GH, FetchOutcome::Failed(f));
            };
            let previous = (prev_repo.as_ref(), prev_release.as_ref());
            return atom_fallback(fetcher, api, &owner, &repo, previous, stored_etag, until, f.message).await;
        }
        other => return from_outcome(GH, other),
    };
    // The repository's name as the API gives it now (after a rename, the
    // old path answered with a redirect or the renamed repository).
    let (owner, repo) = github::api_name(&repo_obj.full_name).unwrap_or((owner.as_str(), repo.as_str()));
    let release_url = Apis::join(&api.github_api, &format!("repos/{owner}/{repo}/releases/latest"));
    let release_req = api.request(Api::Github, release_url, etags.release.as_deref());
    let (release, release_changed) = match fetcher.fetch(&release_req).await {
        FetchOutcome::Fetched(f) => {
            bytes += f.body.len() as u64;
            new_etags.release = f.etag;
            match contained("github-json", f.body, github::parse_release).await {
                Ok(release) => (release, true),
                Err(e) => return failed(GH, ErrorKind::InvalidContent, format!("the latest release: {e}"), Some(200)),
            }
        }
        FetchOutcome::NotModified { .. } => {
            new_etags.release = etags.release.clone();
            (prev_release.clone(), false)
        }
        // No release published yet.
        FetchOutcome::Gone { .. } => (None, prev_release.is_some()),
        // The repository half is good; keep the last known release.
        FetchOutcome::Failed(_) | FetchOutcome::Deferred { .. } => (prev_release.clone(), false),
    };
    if !repo_changed && !release_changed {
        return Observation::bare(Observed::NotModified, GH, Some(304), None);
    }
    let mut obs = fresh(GH, github::structured(&repo_obj, release.as_ref(), metrics), new_etags.store(), 200, bytes);
    obs.final_url = Some(web_address(api, source_url, owner, repo));
    obs
}

/// Where the repository is on the web now: the user's URL while the name
/// is the one it names (in any case), else the new name's address, which
/// becomes the source's `final_url` as a page's redirect to its new
/// address does (`export references`: "moved").
fn web_address(api: &Apis, source_url: &Url, owner: &str, repo: &str) -> Url {
    match two_segments(source_url) {
        Some((o, r)) if o.eq_ignore_ascii_case(owner) && r.eq_ignore_ascii_case(repo) => source_url.clone(),
        _ => Apis::join(&api.github_web, &format!("{owner}/{repo}")),
    }
}

/// The API budget is spent. With a token, wait for the reset. Without one,
/// read releases from the web's `releases.atom` (not an API request) on top
/// of the last known repository.
#[allow(clippy::too_many_arguments)]
async fn atom_fallback(
    fetcher: &Fetcher,
    api: &Apis,
    owner: &str,
    repo: &str,
    (prev_repo, prev_release): (Option<&github::Repo>, Option<&github::Release>),
    stored_etag: Option<&str>,
    until: DateTime<Utc>,
    message: String,
) -> Observation {
    let limited = Observation { retry_after: wait_until(until), ..failed(GH, ErrorKind::RateLimited, message, None) };
    let Some(prev_repo) = prev_repo.filter(|_| !api.has_github_token()) else { return limited };
    let atom_url = Apis::join(&api.github_web, &format!("{owner}/{repo}/releases.atom"));
    match fetcher.fetch(&api.request(Api::Web, atom_url, None)).await {
        FetchOutcome::Fetched(f) => {
            let release = match contained("github-atom", f.body.clone(), github::parse_releases_atom).await {
                Ok(r) => r.or_else(|| prev_release.cloned()),
                Err(e) => return failed(GH, ErrorKind::InvalidContent, format!("releases.atom: {e}"), Some(200)),
            };
            let structured = github::structured(prev_repo, release.as_ref(), Vec::new());
            // Keep the API validators for when the budget is back.
            let mut obs = fresh(GH, structured, stored_etag.map(str::to_owned), 200, f.body.len() as u64);
            if let Observed::Fresh(f) = &mut obs.observed {
                f.note = Some(format!(
                    "GitHub API budget spent until {}; releases read from releases.atom",
                    until.to_rfc3339()
                ));
            }
            obs.retry_after = wait_until(until);
            obs
        }
        _ => limited,
    }
}

/// One Hugging Face check: `GET API/api/models/ORG/NAME`.
pub async fn observe_huggingface(
    fetcher: &Fetcher,
    api: &Apis,
    source_url: &Url,
    stored_etag: Option<&str>,
) -> Observation {
    let Some((org, name)) = two_segments(source_url) else {
        return failed(HF, ErrorKind::InvalidContent, "not a model URL (expected ORG/NAME)", None);
    };
    let url = Apis::join(&api.hf_api, &format!("api/models/{org}/{name}"));
    match fetcher.fetch(&api.request(Api::Huggingface, url, stored_etag)).await {
        FetchOutcome::Fetched(f) => {
            let bytes = f.body.len() as u64;
            match contained("huggingface-json", f.body, huggingface::parse_model).await {
                Ok(Ok(structured)) => fresh(HF, structured, f.etag, f.status, bytes),
                Ok(Err(e)) => failed(HF, ErrorKind::InvalidContent, e.to_string(), Some(f.status)),
                Err(e) => failed(HF, ErrorKind::InvalidContent, e, Some(f.status)),
            }
        }
        other => from_outcome(HF, other),
    }
}
