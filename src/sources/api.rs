//! The API-backed kinds' request options (GitHub, Hugging Face): their
//! bases, Accept headers, GitHub's token and the GitHub budget shared by
//! every GitHub source of the process. The requests themselves go through
//! the one HTTP client in `fetch` (guard, politeness, retries, caps).

use std::sync::Arc;

use url::Url;

use crate::config::{Config, Secret};
use crate::fetch::{Budget, FetchRequest};

/// Which API a request goes to: only GitHub's carries the token and counts
/// against the shared budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Api {
    Github,
    Huggingface,
    /// A plain web resource (GitHub's releases.atom): no budget, no token,
    /// robots.txt as for any page.
    Web,
}

#[derive(Clone)]
pub struct Apis {
    github_token: Option<Secret>,
    pub github_api: Url,
    pub github_web: Url,
    pub hf_api: Url,
    /// Spent GitHub budget: requests are refused until the reset (shared by clones).
    github_budget: Arc<Budget>,
    /// `fetch.respect_robots`, for the web resources.
    respect_robots: bool,
}

impl std::fmt::Debug for Apis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apis").field("github_api", &self.github_api).field("hf_api", &self.hf_api).finish()
    }
}

impl Apis {
    pub fn new(config: &Config) -> Apis {
        Apis {
            github_token: config.github.token.clone(),
            github_api: config.github.api_base.clone(),
            github_web: config.github.web_base.clone(),
            hf_api: config.huggingface.api_base.clone(),
            github_budget: Arc::new(Budget::default()),
            respect_robots: config.fetch.respect_robots,
        }
    }

    pub fn has_github_token(&self) -> bool {
        self.github_token.is_some()
    }

    /// When the GitHub budget is spent: the time it resets.
    pub fn github_blocked_until(&self, now: chrono::DateTime<chrono::Utc>) -> Option<chrono::DateTime<chrono::Utc>> {
        self.github_budget.blocked_until(now)
    }

    /// `base` joined with `path` (the base may carry a path prefix).
    pub fn join(base: &Url, path: &str) -> Url {
        let mut u = base.clone();
        let prefix = u.path().trim_end_matches('/').to_owned();
        u.set_path(&format!("{prefix}/{}", path.trim_start_matches('/')));
        u
    }

    /// The request for `url` on `api`, conditional on `etag`. API requests
    /// skip robots.txt (api.github.com disallows every crawler: its
    /// robots.txt is about crawling, not about API clients).
    pub fn request(&self, api: Api, url: Url, etag: Option<&str>) -> FetchRequest {
        let mut req = FetchRequest::get(url);
        req.etag = etag.map(str::to_owned);
        match api {
            Api::Github => {
                req.accept = Some("application/vnd.github+json".to_owned());
                req.headers.push(("X-GitHub-Api-Version".to_owned(), "2022-11-28".to_owned()));
                req.bearer = self.github_token.clone();
                req.budget = Some(self.github_budget.clone());
                req.respect_robots = false;
            }
            Api::Huggingface => {
                req.accept = Some("application/json".to_owned());
                req.respect_robots = false;
            }
            Api::Web => {
                req.accept = Some("application/atom+xml, application/xml;q=0.9".to_owned());
                req.respect_robots = self.respect_robots;
            }
        }
        req
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn join_keeps_a_base_path() {
        let b = Url::parse("http://127.0.0.1:9/gh/").unwrap();
        assert_eq!(Apis::join(&b, "/repos/a/b").as_str(), "http://127.0.0.1:9/gh/repos/a/b");
        let b = Url::parse("https://api.github.com").unwrap();
        assert_eq!(Apis::join(&b, "repos/a/b").as_str(), "https://api.github.com/repos/a/b");
    }
}
