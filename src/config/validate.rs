//! Raw strings → typed values, collecting every problem.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use super::raw::RawConfig;
use super::*;
use crate::schedule::{CronExpr, parse_duration};

/// Collects problems while converting fields; each getter returns a usable
/// placeholder on error so validation can go on.
struct Check {
    problems: Vec<String>,
}

impl Check {
    fn duration(&mut self, key: &str, text: &str) -> Duration {
        match parse_duration(text) {
            Ok(d) if d.is_zero() => {
                self.problems.push(format!("`{key}` must be longer than zero"));
                Duration::from_secs(1)
            }
            Ok(d) => d,
            Err(e) => {
                self.problems.push(format!("`{key}`: {e}"));
                Duration::from_secs(1)
            }
        }
    }

    fn url(&mut self, key: &str, text: &str) -> Url {
        match Url::parse(text) {
            // Credentials in a URL end up in logs and `config check`; the
            // token has its own key (`token_env`, `token_file`).
            Ok(u) if !u.username().is_empty() || u.password().is_some() => {
                self.problems.push(format!(
                    "`{key}` must not carry credentials (user:password@); use the token settings instead"
                ));
                fallback_url()
            }
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => u,
            Ok(_) => {
                self.problems.push(format!("`{key}` must be an http(s) URL, got {text:?}"));
                fallback_url()
            }
            Err(e) => {
                self.problems.push(format!("`{key}` is not a URL ({e}): {text:?}"));
                fallback_url()
            }
        }
    }

    /// `fetch.proxy`: empty, or an http(s) URL (credentials allowed: they
    /// are the proxy's, and are scrubbed from logs).
    fn proxy(&mut self, text: &str) -> Option<Url> {
        if text.is_empty() {
            return None;
        }
        match Url::parse(text) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => Some(u),
            _ => {
                self.problems.push(format!(
                    "`fetch.proxy` must be an http(s) URL such as http://proxy:3128, got {:?}",
                    crate::config::redact_url(text)
                ));
                None
            }
        }
    }

    fn positive(&mut self, key: &str, value: u64) {
        if value == 0 {
            self.problems.push(format!("`{key}` must be at least 1"));
        }
    }

    /// The secret from its file, else its environment variable, else the
    /// systemd credential `credential`.
    fn secret(
        &mut self,
        key: &str,
        env_name: &str,
        file: &str,
        credential: &str,
        base_dir: &std::path::Path,
        env: &BTreeMap<String, String>,
    ) -> Option<Secret> {
        if !file.is_empty() {
            let path = base_dir.join(file);
            return match std::fs::read_to_string(&path) {
                Ok(s) => Some(Secret::new(s.trim_end_matches(['\n', '\r']).to_owned())),
                Err(e) => {
                    // The path is safe to print; the content never is.
                    self.problems.push(format!("`{key}`: cannot read {}: {e}", path.display()));
                    None
                }
            };
        }
        if let Some(v) = env.get(env_name).filter(|v| !v.is_empty()) {
            return Some(Secret::new(v.clone()));
        }
        super::credentials::read(env, credential).unwrap_or_else(|e| {
            self.problems.push(format!("`{key}`: {e}"));
            None
        })
    }
}

#[expect(clippy::expect_used, reason = "a literal URL; the config tests parse it on every run")]
fn fallback_url() -> Url {
    Url::parse("http://invalid.invalid/").expect("static URL parses")
}

/// Stands in for a bad `digest.cron` so validation can go on collecting problems.
#[expect(clippy::expect_used, reason = "a literal expression; the config tests parse it on every run")]
fn fallback_cron() -> CronExpr {
    CronExpr::parse("0 0 8 * * Mon").expect("static cron parses")
}

/// A database that does not answer within this long is down, not slow.
const MAX_DB_CONNECT_TIMEOUT: Duration = Duration::from_secs(600);

pub fn validate(raw: RawConfig, base_dir: PathBuf, env: &BTreeMap<String, String>) -> Result<Config, Vec<String>> {
    let mut c = Check { problems: Vec::new() };

    let db_url = raw.database.url.trim().to_owned();
    if !(db_url.starts_with("sqlite:") || db_url.starts_with("postgres://") || db_url.starts_with("postgresql://")) {
        c.problems.push(format!("`database.url` must start with sqlite: or postgres://, got {db_url:?}"));
    }
    c.positive("database.max_connections", raw.database.max_connections.into());
    let db_connect_timeout = c.duration("database.connect_timeout", &raw.database.connect_timeout);
    if db_connect_timeout > MAX_DB_CONNECT_TIMEOUT {
        c.problems.push(format!(
            "`database.connect_timeout` must be at most {}, got {:?}",
            crate::schedule::format_duration(MAX_DB_CONNECT_TIMEOUT),
            raw.database.connect_timeout
        ));
    }

    let f = &raw.fetch;
    let fetch = FetchConfig {
        timeout: c.duration("fetch.timeout", &f.timeout),
        connect_timeout: c.duration("fetch.connect_timeout", &f.connect_timeout),
        max_body_bytes: f.max_body_bytes,
        max_redirects: f.max_redirects,
        concurrency: f.concurrency,
        per_host_concurrency: f.per_host_concurrency,
        per_host_interval: parse_duration(&f.per_host_interval).unwrap_or_else(|e| {
            c.problems.push(format!("`fetch.per_host_interval`: {e}"));
            Duration::from_secs(1)
        }),
        allow_private_networks: f.allow_private_networks,
        proxy: c.proxy(f.proxy.trim()),
        respect_robots: f.respect_robots,
        user_agent: f.user_agent.replace("{version}", env!("CARGO_PKG_VERSION")).replace("{contact}", &f.contact_url),
        retries: f.retries,
        max_retry_after: c.duration("fetch.max_retry_after", &f.max_retry_after),
        retry_min_delay: c.duration("fetch.retry_min_delay", &f.retry_min_delay),
        retry_max_delay: c.duration("fetch.retry_max_delay", &f.retry_max_delay),
        robots_cache_ttl: c.duration("fetch.robots_cache_ttl", &f.robots_cache_ttl),
    };
    c.positive("fetch.max_body_bytes", f.max_body_bytes);
    c.positive("fetch.concurrency", f.concurrency.into());
    c.positive("fetch.per_host_concurrency", f.per_host_concurrency.into());
    if f.retries > 10 {
        c.problems.push("`fetch.retries` must be at most 10".to_owned());
    }
    if fetch.user_agent.trim().is_empty() {
        c.problems.push("`fetch.user_agent` must not be empty".to_owned());
    }
    if !f.contact_url.is_empty() {
        c.url("fetch.contact_url", &f.contact_url);
    }

    let s = &raw.schedule;
    let timezone = s.timezone.parse::<chrono_tz::Tz>().unwrap_or_else(|_| {
        c.problems.push(format!("`schedule.timezone`: unknown time zone {:?} (e.g. Asia/Shanghai, UTC)", s.timezone));
        chrono_tz::UTC
    });
    let schedule = ScheduleConfig {
        default_every: c.duration("schedule.default_every", &s.default_every),
        sweep_every: c.duration("schedule.sweep_every", &s.sweep_every),
        timezone,
        jitter: s.jitter,
        lease: c.duration("schedule.lease", &s.lease),
        batch_size: s.batch_size,
        max_backoff: c.duration("schedule.max_backoff", &s.max_backoff),
    };
    if !(0.0..=1.0).contains(&s.jitter) {
        c.problems.push(format!("`schedule.jitter` must be between 0 and 1, got {}", s.jitter));
    }
    c.positive("schedule.batch_size", s.batch_size.into());
    c.positive("liveness.confirm_after", raw.liveness.confirm_after.into());

    let retention = RetentionConfig {
        raw_bodies: c.duration("retention.raw_bodies", &raw.retention.raw_bodies),
        checks: c.duration("retention.checks", &raw.retention.checks),
        metrics: c.duration("retention.metrics", &raw.retention.metrics),
    };

    let github = GithubConfig {
        web_base: c.url("github.web_base", &raw.github.web_base),
        api_base: c.url("github.api_base", &raw.github.api_base),
        token: c.secret(
            "github.token_file",
            &raw.github.token_env,
            &raw.github.token_file,
            super::credentials::GITHUB_TOKEN,
            &base_dir,
            env,
        ),
    };
    let huggingface = HuggingfaceConfig {
        api_base: c.url("huggingface.api_base", &raw.huggingface.api_base),
        web_base: c.url("huggingface.web_base", &raw.huggingface.web_base),
    };

    let url_rules = crate::import::UrlRules::new(&raw.import.tracking_params).unwrap_or_else(|problems| {
        c.problems.extend(problems.into_iter().map(|p| format!("`import.tracking_params`: {p}")));
        crate::import::UrlRules::default()
    });
    c.positive("import.max_file_bytes", raw.import.max_file_bytes);
    c.positive("import.max_links", raw.import.max_links.into());
    c.positive("import.max_new_sources", raw.import.max_new_sources.into());
    let import = ImportConfig {
        url_rules,
        max_file_bytes: raw.import.max_file_bytes,
        max_links: raw.import.max_links,
        max_new_sources: raw.import.max_new_sources,
    };

    let d = &raw.digest;
    let cron = CronExpr::parse(&d.cron).unwrap_or_else(|e| {
        c.problems.push(format!("`digest.cron`: {e}"));
        fallback_cron()
    });
    if d.enabled && d.recipients.is_empty() {
        c.problems.push("`digest.enabled` is true but `digest.recipients` is empty".to_owned());
    }
    for r in d.recipients.iter().map(|r| r.address()).chain(std::iter::once(d.from.as_str())) {
        if let Err(why) = crate::mail::check_address(r) {
            c.problems.push(format!("`digest`: {r:?} is not an email address ({why})"));
        }
    }
    let timezone = d.timezone.parse::<Tz>().unwrap_or_else(|_| {
        c.problems.push(format!("`digest.timezone` is not an IANA time zone: {:?}", d.timezone));
        chrono_tz::Asia::Shanghai
    });
    let language = d.language.parse().unwrap_or_else(|e| {
        c.problems.push(format!("`digest.language`: {e}"));
        crate::digest::Language::Zh
    });
    c.positive("digest.max_attempts", u64::from(d.max_attempts));
    let digest = DigestConfig {
        enabled: d.enabled,
        cron,
        from: d.from.clone(),
        recipients: d.recipients.clone(),
        send_empty: d.send_empty,
        timezone,
        language,
        templates_dir: base_dir.join(&d.templates),
        max_attempts: d.max_attempts,
        failing_after_days: d.failing_after_days,
        top_movers: d.top_movers,
    };

    let m = &raw.smtp;
    let tls = match m.tls.as_str() {
        "starttls" => SmtpTls::StartTls,
        "tls" => SmtpTls::Tls,
        "none" => SmtpTls::None,
        other => {
            c.problems.push(format!("`smtp.tls` must be starttls, tls or none, got {other:?}"));
            SmtpTls::StartTls
        }
    };
    if m.host.trim().is_empty() {
        c.problems.push("`smtp.host` must not be empty".to_owned());
    }
    // Port 0 is "any free port" for a listener; no SMTP server answers on it.
    if m.port == 0 {
        c.problems.push("`smtp.port` must be a port number from 1 to 65535 (587 for STARTTLS, 465 for TLS)".to_owned());
    }
    let smtp = SmtpConfig {
        host: m.host.clone(),
        port: m.port,
        tls,
        username: m.username.clone(),
        password: c.secret(
            "smtp.password_file",
            &m.password_env,
            &m.password_file,
            super::credentials::SMTP_PASSWORD,
            &base_dir,
            env,
        ),
        timeout: c.duration("smtp.timeout", &m.timeout),
        connect_timeout: c.duration("smtp.connect_timeout", &m.connect_timeout),
    };

    let listen = if raw.ops.listen.trim().is_empty() {
        None
    } else {
        match raw.ops.listen.parse() {
            Ok(a) => Some(a),
            Err(_) => {
                c.problems.push(format!("`ops.listen` must be HOST:PORT, got {:?}", raw.ops.listen));
                None
            }
        }
    };
    let web = web(&mut c, &raw.web, &base_dir, env);
    let format = match raw.log.format.as_str() {
        "text" => LogFormat::Text,
        "json" => LogFormat::Json,
        other => {
            c.problems.push(format!("`log.format` must be text or json, got {other:?}"));
            LogFormat::Text
        }
    };

    if raw.catalog.promote_after_sources == 0 {
        c.problems.push("`catalog.promote_after_sources` must be at least 1".to_owned());
    }
    if !c.problems.is_empty() {
        return Err(c.problems);
    }
    Ok(Config {
        catalog_file: base_dir.join(&raw.catalog.file),
        catalog: CatalogConfig {
            landscape_file: base_dir.join(&raw.catalog.landscape_file),
            stoplist_file: base_dir.join(&raw.catalog.stoplist_file),
            promote_after_sources: raw.catalog.promote_after_sources,
        },
        sources_seed_file: base_dir.join(&raw.sources.seed_file),
        import,
        base_dir,
        database: DatabaseConfig {
            url: db_url,
            max_connections: raw.database.max_connections,
            connect_timeout: db_connect_timeout,
        },
        fetch,
        schedule,
        liveness: LivenessConfig {
            confirm_after: raw.liveness.confirm_after,
            confirm_delay: c.duration("liveness.confirm_delay", &raw.liveness.confirm_delay),
        },
        retention,
        github,
        huggingface,
        digest,
        smtp,
        ops: OpsConfig { listen },
        web,
        log: LogConfig { format, filter: raw.log.filter },
    })
}

/// `[web]`. A listener reachable from other machines without a login is
/// refused here, so `config check` reports it and `run` never starts one.
fn web(c: &mut Check, w: &super::raw::RawWeb, base_dir: &std::path::Path, env: &BTreeMap<String, String>) -> WebConfig {
    let listen: Option<std::net::SocketAddr> = if w.listen.trim().is_empty() {
        None
    } else {
        match w.listen.trim().parse() {
            Ok(a) => Some(a),
            Err(_) => {
                c.problems.push(format!("`web.listen` must be HOST:PORT (e.g. 127.0.0.1:8470), got {:?}", w.listen));
                None
            }
        }
    };
    let base_url = if w.base_url.trim().is_empty() {
        None
    } else {
        let u = c.url("web.base_url", w.base_url.trim());
        if u.query().is_some() || u.fragment().is_some() {
            c.problems.push(format!("`web.base_url` must not carry a query or fragment, got {:?}", w.base_url));
        }
        Some(u)
    };
    let token = c.secret("web.token_file", &w.token_env, &w.token_file, super::credentials::WEB_TOKEN, base_dir, env);
    if let Some(t) = &token
        && t.expose().chars().count() < MIN_WEB_TOKEN_CHARS
    {
        c.problems.push(format!(
            "the web login token (`web.token_env` / `web.token_file`) must be at least {MIN_WEB_TOKEN_CHARS} characters"
        ));
    }
    let secure_cookie = match w.secure_cookie.as_str() {
        "auto" => SecureCookie::Auto,
        "always" => SecureCookie::Always,
        "never" => SecureCookie::Never,
        other => {
            c.problems.push(format!("`web.secure_cookie` must be auto, always or never, got {other:?}"));
            SecureCookie::Auto
        }
    };
    if !(1..=500).contains(&w.page_size) {
        c.problems.push(format!("`web.page_size` must be between 1 and 500, got {}", w.page_size));
    }
    let loopback = listen.is_none_or(|a| a.ip().is_loopback());
    if !loopback && token.is_none() {
        c.problems.push(format!(
            "`web.listen` is {}, which is not a loopback address, and no web login is configured: set the \
             token in ${} or `web.token_file` (or listen on 127.0.0.1)",
            w.listen.trim(),
            w.token_env
        ));
    }
    WebConfig {
        listen,
        base_url,
        token,
        secure_cookie,
        login_to_read: w.login_to_read || !loopback,
        page_size: w.page_size.clamp(1, 500),
        session_ttl: c.duration("web.session_ttl", &w.session_ttl),
    }
}

/// A guessable token is no login.
const MIN_WEB_TOKEN_CHARS: usize = 16;
