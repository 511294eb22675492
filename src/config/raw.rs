//! The configuration as written: strings and numbers, before validation.
//!
//! Every struct denies unknown fields; `load` also reports every unknown key
//! at once before serde ever sees the document.

use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub database: RawDatabase,
    pub fetch: RawFetch,
    pub schedule: RawSchedule,
    pub liveness: RawLiveness,
    pub retention: RawRetention,
    pub catalog: RawCatalog,
    pub sources: RawSources,
    pub import: RawImport,
    pub github: RawGithub,
    pub huggingface: RawHuggingface,
    pub digest: RawDigest,
    pub smtp: RawSmtp,
    pub ops: RawOps,
    pub web: RawWeb,
    pub log: RawLog,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDatabase {
    pub url: String,
    pub max_connections: u32,
    pub connect_timeout: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawFetch {
    pub timeout: String,
    pub connect_timeout: String,
    pub max_body_bytes: u64,
    pub max_redirects: u32,
    pub concurrency: u32,
    pub per_host_concurrency: u32,
    pub per_host_interval: String,
    pub allow_private_networks: bool,
    pub proxy: String,
    pub respect_robots: bool,
    pub user_agent: String,
    pub contact_url: String,
    pub retries: u32,
    pub max_retry_after: String,
    pub retry_min_delay: String,
    pub retry_max_delay: String,
    pub robots_cache_ttl: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    pub default_every: String,
    pub sweep_every: String,
    pub timezone: String,
    pub jitter: f64,
    pub lease: String,
    pub batch_size: u32,
    pub max_backoff: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLiveness {
    pub confirm_after: u32,
    pub confirm_delay: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    pub raw_bodies: String,
    pub checks: String,
    pub metrics: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCatalog {
    pub file: String,
    pub landscape_file: String,
    pub stoplist_file: String,
    pub promote_after_sources: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSources {
    pub seed_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawImport {
    pub tracking_params: Vec<String>,
    pub max_file_bytes: u64,
    pub max_links: u32,
    pub max_new_sources: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawGithub {
    pub web_base: String,
    pub api_base: String,
    pub token_env: String,
    pub token_file: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHuggingface {
    pub api_base: String,
    pub web_base: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDigest {
    pub enabled: bool,
    pub cron: String,
    pub from: String,
    pub recipients: Vec<crate::digest::outbox::RecipientSpec>,
    pub send_empty: bool,
    pub timezone: String,
    pub language: String,
    pub templates: String,
    pub max_attempts: u32,
    pub failing_after_days: u32,
    pub top_movers: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSmtp {
    pub host: String,
    pub port: u16,
    pub tls: String,
    pub username: String,
    pub password_env: String,
    pub password_file: String,
    pub timeout: String,
    pub connect_timeout: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawOps {
    pub listen: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWeb {
    pub listen: String,
    pub base_url: String,
    pub token_env: String,
    pub token_file: String,
    pub secure_cookie: String,
    pub login_to_read: bool,
    pub page_size: u32,
    pub session_ttl: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLog {
    pub format: String,
    pub filter: String,
}
