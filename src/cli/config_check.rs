//! `config check`: the effective configuration, secrets redacted, with
//! what the schedules will do and whether the shipped files are usable.

use crate::config::{Config, ConfigOrigin};

/// `config check`: the effective configuration, secrets redacted.
pub fn config_check(config: &Config, origin: &ConfigOrigin) -> anyhow::Result<()> {
    let files = super::shipped::check(config)?;
    println!("# Configuration from {origin} is valid. Effective configuration (secrets redacted):");
    println!("{config:#?}");
    let now = chrono::Utc::now();
    let fires = |cron: &crate::schedule::CronExpr, tz: chrono_tz::Tz| {
        let mut next = now;
        let mut out = Vec::new();
        while out.len() < 3 {
            let Some(t) = cron.next_after(next, tz) else { break };
            out.push(t.with_timezone(&tz).to_rfc3339());
            next = t;
        }
        out.join(", ")
    };
    let digest = &config.digest;
    let state = if digest.enabled { "enabled" } else { "disabled" };
    println!(
        "# digest ({state}) cron {:?} in {} next fires: {}",
        digest.cron.six_fields(),
        digest.timezone,
        fires(&digest.cron, digest.timezone)
    );
    let every = crate::schedule::format_duration(config.schedule.sweep_every);
    println!(
        "# sweep every {every}; sources without a schedule are checked every {}",
        crate::schedule::format_duration(config.schedule.default_every)
    );
    println!("# daily maintenance cron \"0 30 3 * * *\" in {}", config.schedule.timezone);
    let web = &config.web;
    match web.listen {
        Some(addr) => println!(
            "# web view on http://{addr}/ (review login: {}; reads need the login: {}; digest links: {})",
            if web.token.is_some() { "token configured" } else { "none, review forms off" },
            if web.login_to_read { "yes" } else { "no" },
            web.base_url.as_ref().map_or("off".to_owned(), |u| u.to_string()),
        ),
        None => println!("# web view disabled (web.listen is empty)"),
    }
    for line in files {
        println!("{line}");
    }
    super::catalog::check_files(config)?;
    Ok(())
}
