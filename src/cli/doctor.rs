//! `doctor`: is this installation able to do its job? One pass/fail line per
//! thing the daemon depends on, each failure with a hint; exit 1 if any fails.
//!
//! Checks, in order: the configuration (which file, every error), the
//! database (reachable, migrations, SQLite journal mode and quick check),
//! SMTP (connect, EHLO, TLS and AUTH as a send would; no mail is sent), one
//! fetch (a configured source or `--url`), the GitHub token (accepted, rate
//! limit left) and the free space of the data folder. Nothing is written:
//! a missing SQLite file is reported, not created.

use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use serde::Serialize;
use url::Url;

use super::Format;
use super::context::open_store;
use crate::config::{Config, ConfigOrigin};
use crate::fetch::{FetchOutcome, FetchRequest, Fetcher};
use crate::mail::{SmtpMailer, SmtpSettings};
use crate::store::Store;
use crate::types::{ErrorKind, SourceStatus};

/// Below this much free space in the data folder, `disk` fails.
const MIN_FREE_BYTES: u64 = 512 * 1024 * 1024;

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Fetch this URL instead of the first watched source.
    #[arg(long)]
    pub url: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Fail,
    /// Not applicable here (digest disabled, no token, PostgreSQL's disk).
    Skip,
}

/// One line of the report.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub status: Status,
    pub detail: String,
    pub hint: Option<String>,
}

fn pass(check: &'static str, detail: impl Into<String>) -> Finding {
    Finding { check, status: Status::Pass, detail: detail.into(), hint: None }
}

fn fail(check: &'static str, detail: impl Into<String>, hint: impl Into<String>) -> Finding {
    Finding { check, status: Status::Fail, detail: detail.into(), hint: Some(hint.into()) }
}

fn skip(check: &'static str, detail: impl Into<String>) -> Finding {
    Finding { check, status: Status::Skip, detail: detail.into(), hint: None }
}

pub async fn run(loaded: anyhow::Result<(Config, ConfigOrigin)>, args: &DoctorArgs) -> anyhow::Result<()> {
    let findings = diagnose(loaded, args).await;
    print(&findings, args.format)?;
    let failed = findings.iter().filter(|f| f.status == Status::Fail).count();
    if failed == 0 { Ok(()) } else { Err(anyhow::anyhow!("doctor found {failed} problem(s)")) }
}

/// Every check; a failed prerequisite turns the checks that need it into skips.
pub async fn diagnose(loaded: anyhow::Result<(Config, ConfigOrigin)>, args: &DoctorArgs) -> Vec<Finding> {
    let mut out = Vec::new();
    let config = match loaded {
        Ok((config, origin)) => {
            out.push(pass("config", format!("loaded from {origin}")));
            config
        }
        Err(e) => {
            out.push(fail(
                "config",
                format!("{e:#}"),
                "fix the keys listed above; `modelwatch config check` prints the effective configuration",
            ));
            for check in ["database", "smtp", "fetch", "github", "disk"] {
                out.push(skip(check, "needs a valid configuration"));
            }
            return out;
        }
    };
    let store = database(&config, &mut out).await;
    out.push(smtp(&config).await);
    out.push(fetch(&config, store.as_ref(), args.url.as_deref()).await);
    out.push(github(&config).await);
    out.push(disk(&config));
    if let Some(store) = store {
        let _ = store.close().await;
    }
    out
}

/// Reachable, migrated, and (SQLite) in WAL mode and sound. Returns the
/// store when the schema is usable by the other checks.
async fn database(config: &Config, out: &mut Vec<Finding>) -> Option<Store> {
    let url = crate::config::redact_url(&config.database.url);
    if let Some(path) = crate::store::sqlite_path(&config.database.url)
        && !Path::new(&path).is_file()
    {
        out.push(fail(
            "database",
            format!("no database file at {path}"),
            "run `modelwatch init` (the daemon also creates it at start), or fix database.url",
        ));
        return None;
    }
    let store = match open_store(config, crate::store::OpenMode::Existing).await {
        Ok(s) => s,
        Err(e) => {
            out.push(fail(
                "database",
                format!("cannot open {url}: {e:#}"),
                "check database.url / MODELWATCH_DATABASE_URL, and that the database server is up",
            ));
            return None;
        }
    };
    match store.pending_migrations().await {
        Ok(p) if p.is_empty() => out.push(pass("database", format!("{url}: reachable, schema up to date"))),
        Ok(p) => out.push(fail(
            "database",
            format!("{url}: {} pending migration(s): {}", p.len(), p.join(", ")),
            "run `modelwatch init` (the daemon also migrates at start)",
        )),
        Err(e) => out.push(fail(
            "database",
            format!("{url}: cannot read the schema: {}", crate::error_chain(&e)),
            "is this a modelwatch database? `modelwatch init` creates the schema",
        )),
    }
    if store.is_sqlite() {
        match store.sqlite_journal_mode().await {
            Ok(Some(mode)) if mode.eq_ignore_ascii_case("wal") => out.push(pass("database", "journal mode wal")),
            Ok(mode) => out.push(fail(
                "database",
                format!("journal mode {}", mode.unwrap_or_default()),
                "the daemon needs WAL so the CLI can read while it writes; another tool changed it: \
                 run `sqlite3 FILE 'PRAGMA journal_mode=WAL'` with the daemon stopped",
            )),
            Err(e) => out.push(fail("database", format!("cannot read the journal mode: {e}"), "see the error")),
        }
        match store.sqlite_check(false).await {
            Ok(rows) if rows == ["ok"] => out.push(pass("database", "quick_check ok")),
            Ok(rows) => out.push(fail(
                "database",
                format!("quick_check found problems: {}", rows.into_iter().take(5).collect::<Vec<_>>().join("; ")),
                "stop the daemon and restore the latest backup (deploy/README.md, \"Restore\")",
            )),
            Err(e) => out.push(fail("database", format!("quick_check failed: {e}"), "see the error")),
        }
    }
    Some(store)
}

/// Connect + EHLO (+ TLS, + AUTH) when the digest is enabled.
async fn smtp(config: &Config) -> Finding {
    if !config.digest.enabled {
        return skip("smtp", "digest.enabled = false: no mail is sent");
    }
    let s = &config.smtp;
    let server = format!("{}:{}", s.host, s.port);
    if !s.username.is_empty() && s.password.is_none() {
        return fail(
            "smtp",
            format!("smtp.username is {:?} but no password is set", s.username),
            "set the variable named by smtp.password_env or smtp.password_file (under systemd: LoadCredential)",
        );
    }
    let started = Instant::now();
    match SmtpMailer::new(SmtpSettings::from_config(s)).verify().await {
        Ok(()) => {
            let auth = if s.username.is_empty() { String::new() } else { format!(", authenticated as {}", s.username) };
            pass("smtp", format!("{server}: connected, EHLO accepted{auth} in {} ms; nothing sent", ms(started)))
        }
        Err(e) => fail(
            "smtp",
            format!("{server}: {}", e.report()),
            "check smtp.host, smtp.port, smtp.tls, smtp.username and the password",
        ),
    }
}

/// One GET of `--url` or of the first watched source that is not paused.
async fn fetch(config: &Config, store: Option<&Store>, url: Option<&str>) -> Finding {
    let target = match url {
        Some(u) => u.to_owned(),
        None => {
            let Some(store) = store else {
                return skip("fetch", "no usable database to pick a source from; pass --url");
            };
            // A page at a time, not the whole table, until an unpaused one.
            let mut pages = std::pin::pin!(store.source_pages(256));
            let first = loop {
                match futures::StreamExt::next(&mut pages).await {
                    None => break None,
                    Some(Ok(page)) => {
                        if let Some(s) = page.into_iter().find(|s| s.status != SourceStatus::Paused) {
                            break Some(s);
                        }
                    }
                    Some(Err(e)) => {
                        return fail("fetch", format!("cannot list sources: {e}"), "see the database lines");
                    }
                }
            };
            match first {
                Some(s) => s.url.to_string(),
                None => return skip("fetch", "no source is watched yet; pass --url to test one"),
            }
        }
    };
    let parsed = match Url::parse(&target) {
        Ok(u) => u,
        Err(e) => return fail("fetch", format!("{target:?} is not a URL: {e}"), "pass an http(s) URL"),
    };
    let fetcher = match Fetcher::new(&config.fetch) {
        Ok(f) => f,
        Err(e) => return fail("fetch", e.to_string(), "see the error"),
    };
    let mut req = FetchRequest::get(parsed);
    req.respect_robots = config.fetch.respect_robots;
    let started = Instant::now();
    match fetcher.fetch(&req).await {
        FetchOutcome::Fetched(f) => {
            pass("fetch", format!("GET {target}: {}, {} bytes in {} ms", f.status, f.body.len(), ms(started)))
        }
        FetchOutcome::NotModified { .. } => pass("fetch", format!("GET {target}: 304 in {} ms", ms(started))),
        FetchOutcome::Gone { status, .. } => pass(
            "fetch",
            format!("GET {target}: {status} in {} ms (that page is gone, but fetching works)", ms(started)),
        ),
        FetchOutcome::Deferred { wait, .. } => fail(
            "fetch",
            format!("GET {target}: the host asked us to wait {} s", wait.as_secs()),
            fetch_hint(ErrorKind::RateLimited),
        ),
        FetchOutcome::Failed(f) => {
            let kind = f.kind.to_string();
            let why = if f.message.starts_with(&kind) { f.message.clone() } else { format!("{kind}: {}", f.message) };
            fail("fetch", format!("GET {target}: {why}"), fetch_hint(f.kind))
        }
    }
}

fn fetch_hint(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Connect | ErrorKind::Timeout => {
            "is there a route to the web from here? check DNS, the firewall and HTTPS_PROXY; \
             under systemd the unit allows outbound TCP"
        }
        ErrorKind::Blocked => {
            "the SSRF guard refused a private or loopback address (or robots.txt disallows it); \
             set fetch.allow_private_networks = true for intranet sources"
        }
        ErrorKind::RateLimited => "the site asks us to slow down; the daemon honours Retry-After",
        _ => "the site answered, but not with content we can use; `modelwatch check ID --dry-run` shows more",
    }
}

/// The token's rate limit, from `GET {api_base}/rate_limit` (free of charge).
async fn github(config: &Config) -> Finding {
    let Some(token) = &config.github.token else {
        return skip("github", "no token (GITHUB_TOKEN or github.token_file): 60 API requests per hour");
    };
    let url = match config.github.api_base.join("rate_limit") {
        Ok(u) => u,
        Err(e) => return fail("github", format!("github.api_base cannot take a path: {e}"), "fix github.api_base"),
    };
    let client = match reqwest::Client::builder()
        .user_agent(config.fetch.user_agent.clone())
        .connect_timeout(config.fetch.connect_timeout)
        .timeout(config.fetch.timeout)
        .build()
    {
        Ok(c) => c,
        Err(e) => return fail("github", e.to_string(), "see the error"),
    };
    let response = client
        .get(url.clone())
        .bearer_auth(token.expose())
        .header("accept", "application/vnd.github+json")
        .send()
        .await;
    let response = match response {
        Ok(r) => r,
        Err(e) => return fail("github", format!("{url}: {}", crate::error_chain(&e)), fetch_hint(ErrorKind::Connect)),
    };
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED {
        return fail(
            "github",
            format!("{url}: the token was rejected (401)"),
            "the token is wrong or expired: create a new one (no scopes are needed for public repositories)",
        );
    }
    if !status.is_success() {
        return fail("github", format!("{url}: {status}"), "check github.api_base");
    }
    let body: serde_json::Value = match crate::fetch::read_capped(response, 1 << 20)
        .await
        .map_err(|e| e.to_string())
        .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
    {
        Ok(b) => b,
        Err(e) => return fail("github", format!("{url}: not JSON: {e}"), "check github.api_base"),
    };
    let core = &body["resources"]["core"];
    match (core["remaining"].as_u64(), core["limit"].as_u64()) {
        (Some(0), Some(limit)) => fail(
            "github",
            format!("token accepted, but all {limit} requests of this hour are used (reset at {})", core["reset"]),
            "another tool shares this token, or there are too many GitHub sources for one token",
        ),
        (Some(left), Some(limit)) => {
            pass("github", format!("token accepted: {left} of {limit} requests left this hour"))
        }
        _ => fail("github", format!("{url}: no rate limit in the answer"), "check github.api_base"),
    }
}

/// Free space where the SQLite file lives.
fn disk(config: &Config) -> Finding {
    let Some(db) = crate::store::sqlite_path(&config.database.url) else {
        return skip("disk", "PostgreSQL keeps the data on its server; watch its disk there");
    };
    let folder =
        Path::new(&db).parent().filter(|p| !p.as_os_str().is_empty()).map_or(PathBuf::from("."), Path::to_path_buf);
    match rustix::fs::statvfs(&folder) {
        Ok(st) => {
            let free = st.f_bavail.saturating_mul(st.f_frsize);
            let total = st.f_blocks.saturating_mul(st.f_frsize);
            let db_size = std::fs::metadata(&db).map(|m| m.len()).unwrap_or(0);
            let detail = format!(
                "{}: {} free of {}; the database is {}",
                folder.display(),
                human(free),
                human(total),
                human(db_size)
            );
            if free < MIN_FREE_BYTES {
                fail("disk", detail, "free space, or shorten retention.raw_bodies so maintenance prunes more")
            } else {
                pass("disk", detail)
            }
        }
        Err(e) => fail("disk", format!("{}: {e}", folder.display()), "does the data folder exist and is it readable?"),
    }
}

fn ms(started: Instant) -> u128 {
    started.elapsed().as_millis()
}

fn human(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    // Display only: rounding is fine.
    #[allow(clippy::cast_precision_loss)]
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < UNITS.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{bytes} B") } else { format!("{value:.1} {}", UNITS[unit]) }
}

fn print(findings: &[Finding], format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        println!("{}", serde_json::to_string_pretty(findings)?);
        return Ok(());
    }
    for f in findings {
        let status = match f.status {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Skip => "SKIP",
        };
        println!("{status}  {:<9} {}", f.check, f.detail.replace('\n', "\n                "));
        if let Some(hint) = &f.hint {
            println!("                hint: {hint}");
        }
    }
    let count = |s: Status| findings.iter().filter(|f| f.status == s).count();
    println!(
        "{} check(s) passed, {} failed, {} skipped",
        count(Status::Pass),
        count(Status::Fail),
        count(Status::Skip)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_like_df() {
        assert_eq!(human(512), "512 B");
        assert_eq!(human(3 * 1024 * 1024 * 1024 / 2), "1.5 GiB");
    }
}
