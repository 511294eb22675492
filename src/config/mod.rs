//! Configuration: embedded defaults → file → environment → validated `Config`.
//!
//! Loading never stops at the first problem: unknown keys, bad values and bad
//! environment overrides are all collected and reported together.

mod credentials;
mod layers;
pub mod locate;
mod raw;
mod shape;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use url::Url;

use crate::schedule::CronExpr;

pub use layers::DEFAULT_CONFIG_TOML;
pub use locate::ConfigOrigin;

/// Every problem found while loading a configuration.
#[derive(Debug, Clone, thiserror::Error)]
pub struct ConfigErrors {
    pub origin: String,
    pub problems: Vec<String>,
}

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        write!(f, "{} problem{} in {}", n, if n == 1 { "" } else { "s" }, self.origin)?;
        for p in &self.problems {
            write!(f, "\n  - {p}")?;
        }
        Ok(())
    }
}

/// A secret read from the environment or a file. Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Secret(value)
    }
    /// The secret itself; call only where it is handed to a client.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

/// What the loader reads besides the file: the environment and CLI overrides.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// Environment variables (normally `std::env::vars()`).
    pub env: BTreeMap<String, String>,
    /// `--database-url`.
    pub database_url: Option<String>,
}

impl Overrides {
    pub fn from_env() -> Self {
        Overrides { env: std::env::vars().collect(), database_url: None }
    }
}

#[derive(Debug, Clone)]
pub struct Config {
    /// The folder relative paths in the file are resolved against.
    pub base_dir: PathBuf,
    pub database: DatabaseConfig,
    pub fetch: FetchConfig,
    pub schedule: ScheduleConfig,
    pub liveness: LivenessConfig,
    pub retention: RetentionConfig,
    pub catalog_file: PathBuf,
    pub catalog: CatalogConfig,
    pub sources_seed_file: PathBuf,
    pub import: ImportConfig,
    pub github: GithubConfig,
    pub huggingface: HuggingfaceConfig,
    pub digest: DigestConfig,
    pub smtp: SmtpConfig,
    pub ops: OpsConfig,
    pub web: WebConfig,
    pub log: LogConfig,
}

/// `[catalog]` beyond its seed file.
#[derive(Debug, Clone)]
pub struct CatalogConfig {
    /// The shipped 2023–2025 landscape, loaded by `init` after the seed.
    pub landscape_file: PathBuf,
    /// Names that are never models (licences, benchmarks, chips, …).
    pub stoplist_file: PathBuf,
    /// A candidate seen in this many sources becomes a provisional entity.
    pub promote_after_sources: u32,
}

#[derive(Clone)]
pub struct DatabaseConfig {
    pub url: String,
    pub max_connections: u32,
    /// How long reaching the database may take before the command fails
    /// with the cause (refused, unreachable, no answer).
    pub connect_timeout: Duration,
}

impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PostgreSQL URL may carry a password.
        f.debug_struct("DatabaseConfig")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .field("connect_timeout", &self.connect_timeout)
            .finish()
    }
}

#[derive(Debug, Clone)]
pub struct FetchConfig {
    pub timeout: Duration,
    pub connect_timeout: Duration,
    pub max_body_bytes: u64,
    pub max_redirects: u32,
    pub concurrency: u32,
    pub per_host_concurrency: u32,
    pub per_host_interval: Duration,
    pub allow_private_networks: bool,
    /// The one proxy requests go through; `None` ignores environment proxies.
    pub proxy: Option<Url>,
    pub respect_robots: bool,
    /// With `{version}` and `{contact}` filled in.
    pub user_agent: String,
    pub retries: u32,
    pub max_retry_after: Duration,
    /// First backoff delay between attempts inside one check.
    pub retry_min_delay: Duration,
    /// Longest wait between attempts inside one check; a longer Retry-After
    /// ends the check instead (the host is pushed back).
    pub retry_max_delay: Duration,
    /// How long a host's robots.txt is trusted before it is fetched again.
    pub robots_cache_ttl: Duration,
}

#[derive(Debug, Clone)]
pub struct ScheduleConfig {
    pub default_every: Duration,
    pub sweep_every: Duration,
    pub timezone: Tz,
    pub jitter: f64,
    pub lease: Duration,
    pub batch_size: u32,
    pub max_backoff: Duration,
}

#[derive(Debug, Clone)]
pub struct LivenessConfig {
    pub confirm_after: u32,
    /// An outcome that would change a status is re-checked this soon (with
    /// jitter), not after the source's interval.
    pub confirm_delay: Duration,
}

#[derive(Debug, Clone)]
pub struct RetentionConfig {
    pub raw_bodies: Duration,
    pub checks: Duration,
    pub metrics: Duration,
}

/// `sources import`: how a document's links become sources.
#[derive(Debug, Clone)]
pub struct ImportConfig {
    /// Tracking parameters dropped from imported URLs.
    pub url_rules: crate::import::UrlRules,
    /// Largest document read.
    pub max_file_bytes: u64,
    /// Most links read from one document.
    pub max_links: u32,
    /// Most sources one import adds; a document with more is refused whole.
    pub max_new_sources: u32,
}

#[derive(Debug, Clone)]
pub struct GithubConfig {
    pub web_base: Url,
    pub api_base: Url,
    pub token: Option<Secret>,
}

#[derive(Debug, Clone)]
pub struct HuggingfaceConfig {
    pub api_base: Url,
    pub web_base: Url,
}

#[derive(Debug, Clone)]
pub struct DigestConfig {
    pub enabled: bool,
    pub cron: CronExpr,
    pub from: String,
    /// Addresses, each optionally limited to sources with some tags.
    pub recipients: Vec<crate::digest::outbox::RecipientSpec>,
    pub send_empty: bool,
    /// For the cron expression and the period's dates.
    pub timezone: Tz,
    pub language: crate::digest::Language,
    /// Overrides for the shipped templates (files of the same name).
    pub templates_dir: PathBuf,
    /// Transient failures are retried this many times before `failed`.
    pub max_attempts: u32,
    /// A failing source is reported once it has failed this many days.
    pub failing_after_days: u32,
    pub top_movers: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpTls {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: String,
    pub password: Option<Secret>,
    /// Bounds one whole send.
    pub timeout: Duration,
    /// Bounds the TCP connect and each SMTP command.
    pub connect_timeout: Duration,
}

#[derive(Debug, Clone)]
pub struct OpsConfig {
    pub listen: Option<SocketAddr>,
}

/// `[web]`: the analyst's web view.
#[derive(Debug, Clone)]
pub struct WebConfig {
    pub listen: Option<SocketAddr>,
    /// Where readers reach it; the digest links to its pages when set.
    pub base_url: Option<Url>,
    /// The login for review actions (and for reading, when required).
    pub token: Option<Secret>,
    pub secure_cookie: SecureCookie,
    /// Read pages need the login too (forced when `listen` is not loopback).
    pub login_to_read: bool,
    pub page_size: u32,
    pub session_ttl: Duration,
}

impl WebConfig {
    /// Whether the session cookie carries `Secure`.
    pub fn cookie_secure(&self) -> bool {
        match self.secure_cookie {
            SecureCookie::Always => true,
            SecureCookie::Never => false,
            SecureCookie::Auto => self.base_url.as_ref().is_some_and(|u| u.scheme() == "https"),
        }
    }

    /// The page of `path` (`/changes/12`) under `base_url`, if one is set.
    pub fn page_url(&self, path: &str) -> Option<String> {
        self.base_url.as_ref().map(|b| format!("{}{path}", b.as_str().trim_end_matches('/')))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureCookie {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Clone)]
pub struct LogConfig {
    pub format: LogFormat,
    pub filter: String,
}

impl Config {
    /// Loads `path` (which must exist) over the embedded defaults.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Config, ConfigErrors> {
        let origin = path.display().to_string();
        let text = crate::input::read_text_file(path, crate::input::MAX_CONFIG_BYTES).map_err(|e| ConfigErrors {
            origin: origin.clone(),
            problems: vec![format!("cannot read the config file: {e} (set --config or MODELWATCH_CONFIG)")],
        })?;
        let base_dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        Self::from_toml(&text, &origin, base_dir, overrides)
    }

    /// Loads the configuration `origin` names: its file over the embedded
    /// defaults, or the embedded defaults alone (relative paths then resolve
    /// against the working folder).
    pub fn load_origin(origin: &ConfigOrigin, overrides: &Overrides) -> Result<Config, ConfigErrors> {
        match origin.path() {
            Some(path) => Self::load(path, overrides),
            None => Self::from_toml("", &origin.to_string(), PathBuf::new(), overrides),
        }
    }

    /// Loads a configuration from TOML text; `base_dir` resolves relative paths.
    pub fn from_toml(
        text: &str,
        origin: &str,
        base_dir: PathBuf,
        overrides: &Overrides,
    ) -> Result<Config, ConfigErrors> {
        let fail = |problems: Vec<String>| ConfigErrors { origin: origin.to_owned(), problems };
        let (merged, mut problems) = layers::merge(text, overrides).map_err(fail)?;
        // Types, ranges and list shapes were checked (and reset to their
        // defaults) by the merge; a serde error here is a shape it missed.
        let raw: raw::RawConfig = match merged.try_into() {
            Ok(raw) => raw,
            Err(e) => {
                let e: toml::de::Error = e;
                problems.push(e.message().to_owned());
                return Err(fail(problems));
            }
        };
        match validate::validate(raw, base_dir, &overrides.env) {
            Ok(config) if problems.is_empty() => {
                config.register_secrets();
                Ok(config)
            }
            Ok(_) => Err(fail(problems)),
            Err(more) => {
                problems.extend(more);
                Err(fail(problems))
            }
        }
    }

    /// Tells the log writer every credential this configuration holds, so
    /// no log line shows one (see [`crate::redact`]).
    pub fn register_secrets(&self) {
        crate::redact::register_url(&self.database.url);
        let secrets = [self.smtp.password.as_ref(), self.github.token.as_ref(), self.web.token.as_ref()];
        for s in secrets.into_iter().flatten() {
            crate::redact::register(s.expose());
        }
        crate::redact::register_url(self.github.api_base.as_str());
        crate::redact::register_url(self.huggingface.api_base.as_str());
        if let Some(p) = &self.fetch.proxy {
            crate::redact::register_url(p.as_str());
        }
    }

    /// Resolves a path from the config file against its folder.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() { path.to_path_buf() } else { self.base_dir.join(path) }
    }
}

/// Hides a password in a database URL before it reaches a message.
pub fn redact_url(url: &str) -> String {
    // Userinfo passwords and `password=`-style parameters alike.
    crate::redact::redact_url(url)
}

#[cfg(test)]
mod tests;
