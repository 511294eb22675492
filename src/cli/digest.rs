//! `digest preview | send | list`.

use std::path::PathBuf;

use anyhow::Context as _;
use chrono::Utc;
use clap::{Args, Subcommand, ValueEnum};

use super::FormatArg;
use super::changes::parse_since;
use super::context::{Context, usage};
use super::output::{clip, print_list, time};
use super::progress::Progress;
use crate::clock::{Clock, SystemClock};
use crate::digest::deliveries::DeliveryStatus;
use crate::digest::outbox::{Audience, OutboxStatus};
use crate::digest::{DigestSettings, Period, prepare};
use crate::jobs::digest::{self as job, RunReport};
use crate::mail::{Accepted, MailError, MailSession, Mailer, OutgoingMail, SmtpMailer, SmtpSettings};

/// A mailer that advances the progress bar as each digest is done with.
struct ProgressMailer<M> {
    inner: M,
    bar: Progress,
}

struct ProgressSession<S> {
    inner: S,
    bar: Progress,
}

impl<M: Mailer> Mailer for ProgressMailer<M> {
    type Session = ProgressSession<M::Session>;

    fn open(&self, mail: &OutgoingMail) -> Result<Self::Session, MailError> {
        self.bar.set_message(mail.subject.clone());
        let inner = self.inner.open(mail);
        if inner.is_err() {
            self.bar.inc(1);
        }
        Ok(ProgressSession { inner: inner?, bar: self.bar.clone() })
    }
}

impl<S: MailSession> MailSession for ProgressSession<S> {
    async fn send_to(&mut self, recipient: &str) -> Result<Accepted, MailError> {
        self.inner.send_to(recipient).await
    }

    async fn close(self) {
        self.inner.close().await;
        self.bar.inc(1);
    }
}

#[derive(Debug, Subcommand)]
pub enum DigestCommand {
    /// Render the digest without sending or recording anything.
    Preview(PreviewArgs),
    /// Build the digest for the time since the last one, store it, send what is pending.
    Send(SendArgs),
    /// Every digest built, newest first, with its status.
    List(FormatArg),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BodyFormat {
    Text,
    Html,
}

#[derive(Debug, Args)]
pub struct PreviewArgs {
    /// Start of the period: RFC 3339, a date, or a duration back (7d).
    /// Default: the end of the last digest (at most 14 days back; 7 without one).
    #[arg(long)]
    pub since: Option<String>,
    #[arg(long, value_enum, default_value_t = BodyFormat::Text)]
    pub format: BodyFormat,
    /// Write to this file instead of stdout.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SendArgs {
    /// Render and print; record and send nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Make failed digests pending again (fresh attempts) before sending.
    #[arg(long)]
    pub retry_failed: bool,
}

pub async fn run(ctx: &Context, cmd: DigestCommand) -> anyhow::Result<()> {
    let settings = job::settings(&ctx.config.digest, &ctx.config.smtp, &ctx.config.web)
        .map_err(|e| usage(crate::error_chain(&e)))?;
    match cmd {
        DigestCommand::Preview(args) => preview(ctx, settings, &args).await,
        DigestCommand::Send(args) => send_now(ctx, settings, &args).await,
        DigestCommand::List(f) => list(ctx, f).await,
    }
}

async fn preview(ctx: &Context, mut settings: DigestSettings, args: &PreviewArgs) -> anyhow::Result<()> {
    let now = Utc::now();
    let period = match args.since.as_deref() {
        Some(s) => Period::between(parse_since(s, now).map_err(usage)?, now, settings.timezone),
        None => job::current_period(&ctx.store, now, settings.timezone).await?,
    };
    // A preview shows everything, whoever would receive it.
    settings.audiences = vec![Audience { key: "all".to_owned(), tags: Vec::new(), recipients: Vec::new() }];
    let inputs = crate::store::digest::load_inputs(&ctx.store, &period).await?;
    let prepared = prepare(&settings, &period, &inputs, true)?;
    let Some(p) = prepared.into_iter().next() else { return Ok(()) };
    let body = match args.format {
        BodyFormat::Text => format!("Subject: {}\n\n{}", p.rendered.subject, p.rendered.text),
        BodyFormat::Html => p.rendered.html,
    };
    match &args.output {
        Some(path) => std::fs::write(path, body).with_context(|| format!("cannot write {}", path.display()))?,
        None => print!("{body}"),
    }
    Ok(())
}

async fn send_now(ctx: &Context, settings: DigestSettings, args: &SendArgs) -> anyhow::Result<()> {
    if settings.audiences.is_empty() {
        return Err(usage("`digest.recipients` is empty: nobody to send the digest to"));
    }
    let clock = SystemClock;
    let now = clock.now();
    if args.dry_run {
        let period = job::current_period(&ctx.store, now, settings.timezone).await?;
        let inputs = crate::store::digest::load_inputs(&ctx.store, &period).await?;
        let prepared = prepare(&settings, &period, &inputs, false)?;
        if prepared.is_empty() {
            eprintln!("Nothing to report for {} – {}; nothing would be sent.", period.start_date, period.end_date);
        }
        for p in prepared {
            println!(
                "To: {}\nSubject: {}\n\n{}",
                p.audience.recipients.join(", "),
                p.rendered.subject,
                p.rendered.text
            );
        }
        return Ok(());
    }
    if args.retry_failed {
        // Resend to the recipients configured now: a rejected address has
        // usually been fixed in the config since.
        let current = |key: &str| settings.audiences.iter().find(|a| a.key == key).map(|a| a.recipients.clone());
        let n = ctx.store.digest_retry_failed(now, current).await?;
        eprintln!("{n} failed digest(s) made pending again.");
    }
    // job::run_once's two steps, with the count of digests to deliver
    // known in between for the progress bar.
    let mut report = RunReport::default();
    let period = job::current_period(&ctx.store, now, settings.timezone).await?;
    let inputs = crate::store::digest::load_inputs(&ctx.store, &period).await?;
    job::enqueue(&ctx.store, &settings, &period, &inputs, now, &mut report).await?;
    let pending = ctx.store.digest_pending(now, true).await?.len();
    let bar = Progress::new(pending as u64, "Sending", "digests");
    let mailer =
        ProgressMailer { inner: SmtpMailer::new(SmtpSettings::from_config(&ctx.config.smtp)), bar: bar.clone() };
    job::deliver(&ctx.store, &mailer, &settings, &clock, true, &mut report).await?;
    bar.finish();
    print_report(&report);
    if report.retrying.is_empty() && report.failed.is_empty() {
        Ok(())
    } else {
        Err(anyhow::anyhow!(
            "{} digest(s) not delivered ({} kept pending for retry, {} failed); see `modelwatch digest list`",
            report.retrying.len() + report.failed.len(),
            report.retrying.len(),
            report.failed.len()
        ))
    }
}

fn print_report(r: &RunReport) {
    for key in &r.built {
        eprintln!("Built the digest for {key}.");
    }
    for key in &r.already_built {
        eprintln!("The digest for {key} was already built.");
    }
    for key in &r.empty {
        eprintln!("Nothing to report for {key}; no digest built (digest.send_empty = false).");
    }
    for key in &r.sent {
        eprintln!("Sent the digest for {key}.");
    }
    for (key, e) in &r.retrying {
        eprintln!("The digest for {key} stays pending: {e}");
    }
    for (key, e) in &r.failed {
        eprintln!("The digest for {key} failed: {e}");
    }
    for (key, address, reason) in &r.refused {
        eprintln!("The digest for {key} was refused for {address}: {reason}");
    }
    if r.skipped > 0 {
        eprintln!("{} digest(s) were being sent by another process.", r.skipped);
    }
}

/// `2/3` recipients have it; `-` for a skipped period. A row sent before
/// per-recipient delivery has no entries: every recipient has it.
fn delivered(d: &crate::store::digest::DigestRow) -> String {
    let n = d.recipients.len();
    match d.status {
        OutboxStatus::Skipped => "-".to_owned(),
        OutboxStatus::Sent => format!("{n}/{n}"),
        _ => {
            let has = |r: &String| {
                d.deliveries.get(&job::recipient_key(r)).is_some_and(|x| x.status == DeliveryStatus::Delivered)
            };
            let got = d.recipients.iter().filter(|r| has(r)).count();
            format!("{got}/{n}")
        }
    }
}

async fn list(ctx: &Context, f: FormatArg) -> anyhow::Result<()> {
    let rows = ctx.store.digest_list().await?;
    print_list(
        f.format,
        &rows,
        &["ID", "PERIOD", "AUDIENCE", "STATUS", "DELIVERED", "ATTEMPTS", "SENT", "SUBJECT", "LAST ERROR"],
        |d| {
            vec![
                d.id.to_string(),
                d.period_key.clone(),
                d.audience.clone(),
                d.status.as_str().to_owned(),
                delivered(d),
                d.attempts.to_string(),
                time(d.sent_at),
                if d.status == OutboxStatus::Skipped { "(nothing to report)".to_owned() } else { clip(&d.subject, 50) },
                clip(d.last_error.as_deref().unwrap_or("-"), 60),
            ]
        },
    )
}
