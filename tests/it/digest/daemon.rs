//! The daemon's digest job, in-process with a manual clock: a send missed
//! while the daemon was down goes out at start-up, once; a quiet week
//! already covered is not taken for a missed send.

use chrono::{DateTime, Utc};
use modelwatch::clock::{Clock, ManualClock};

use super::send::{V1, week_to_send};
use super::smtp::{self, SmtpServer};
use crate::support::{Backend, Mw, Page, TestServer};

/// The configured digest cron's fires after the real now, the first
/// `skip_today` on a later day than now in the digest's time zone. A
/// digest's period is keyed by its local day: a fire later the same day
/// belongs to the period a `digest send` made now already covers (nothing
/// to do, not a new week). Run on a Monday before 08:00 in Shanghai (Sunday
/// from 16:00 UTC), the empty-week test took that fire for the next week's.
fn fires_after_now(mw: &Mw, skip_today: bool) -> impl Iterator<Item = DateTime<Utc>> {
    let config = mw.load_config();
    let (cron, tz) = (config.digest.cron.clone(), config.digest.timezone);
    let now = Utc::now();
    let today = now.with_timezone(&tz).date_naive();
    std::iter::successors(cron.next_after(now, tz), move |fire| cron.next_after(*fire, tz))
        .skip_while(move |fire| skip_today && fire.with_timezone(&tz).date_naive() == today)
}

/// The first fire after now on a later local day (see [`fires_after_now`]).
fn next_fire(mw: &Mw) -> DateTime<Utc> {
    fires_after_now(mw, true).next().unwrap()
}

/// What each test here starts from ([`week_to_send`]) with the weekly
/// cron (Monday 08:00).
async fn a_week_to_send(backend: Backend) -> Option<(SmtpServer, Mw, TestServer)> {
    week_to_send(backend, r#"["team@example.com"]"#, "enabled = true\ncron = \"0 0 8 * * Mon\"").await
}

/// `digest list`: `(period_key, status)`, newest first.
fn digest_rows(mw: &Mw) -> Vec<(String, String)> {
    let list = mw.run(&["digest", "list", "--format", "json"]).ok().json();
    list.as_array()
        .unwrap()
        .iter()
        .map(|d| (d["period_key"].as_str().unwrap().to_owned(), d["status"].as_str().unwrap().to_owned()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_missed_while_down_goes_out_at_start_up() {
    if !smtp::available("a_send_missed_while_down_goes_out_at_start_up") {
        return;
    }
    let Some((smtp, mw, server)) = a_week_to_send(Backend::Sqlite).await else { return };
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 1);
    // News after that digest.
    let edited = V1.replace("千亿级，目前仅对受邀用户开放", "2600亿，即日起向全社会开放").replace("3月16日", "3月17日");
    server.set("/news/wenxin.html", Page::html(edited));
    mw.run_async(&["check"]).await.ok();

    // The daemon was down when the cron fired on Monday, and a week later;
    // it starts a minute after that second Monday. Unless that is past the
    // gap a digest still covers in full (`MAX_GAP_DAYS` after the first
    // digest, sent now: when now is just after a Monday's fire): then the
    // first Monday is the one it missed.
    let covered = Utc::now() + chrono::Duration::days(modelwatch::digest::period::MAX_GAP_DAYS);
    let start = fires_after_now(&mw, false)
        .map(|fire| fire + chrono::Duration::minutes(1))
        .take(2)
        .take_while(|start| *start < covered)
        .last()
        .unwrap();
    let clock = ManualClock::new(start);
    let daemon = mw.start_daemon(clock.clone()).await;
    let ready = reqwest::get(format!("http://{}/readyz", daemon.ops)).await.unwrap();
    assert!(ready.status().is_success(), "the in-process daemon serves its ops endpoints on port 0");
    // Stopping waits for the start-up catch-up: whatever it sends is sent by then.
    daemon.stop().await;

    let got = smtp.received();
    assert_eq!(got.len(), 2, "the missed digest went out exactly once at start-up");
    assert_eq!(got[1].content_type, "multipart/alternative");
    let text = got[1].part("text/plain");
    assert!(text.contains("3月[-16-]{+17+}日"), "{text}");
    assert!(text.contains("本期共 1 处变更"), "only the news since the last digest:\n{text}");
    let rows = digest_rows(&mw);
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|(_, status)| status == "sent"), "{rows:?}");
    let config = mw.load_config();
    let today = clock.now().with_timezone(&config.digest.timezone).format("%Y-%m-%d").to_string();
    assert_eq!(rows[0].0, today, "the catch-up is the period of the daemon's day: {rows:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_an_empty_week_sends_no_extra_digest() {
    if !smtp::available("a_restart_after_an_empty_week_sends_no_extra_digest") {
        return;
    }
    let Some((smtp, mw, server)) = a_week_to_send(Backend::Sqlite).await else { return };
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 1);

    // The week since was quiet. The daemon was down on Monday at the cron's
    // time; it starts a minute later, catches up, and finds nothing to report.
    let clock = ManualClock::new(next_fire(&mw) + chrono::Duration::minutes(1));
    mw.start_daemon(clock.clone()).await.stop().await;
    assert_eq!(smtp.received().len(), 1, "nothing to report, nothing sent");
    let statuses: Vec<String> = digest_rows(&mw).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["skipped", "sent"], "digest list shows the skipped week");

    // Mid-week, news arrives; then the daemon restarts.
    server.set("/news/wenxin.html", Page::html(V1.replace("3月16日", "3月17日")));
    mw.run_async(&["check"]).await.ok();
    clock.advance(chrono::Duration::days(2));
    mw.start_daemon(clock.clone()).await.stop().await;

    assert_eq!(smtp.received().len(), 1, "the quiet week was covered; the news waits for next Monday");
    let statuses: Vec<String> = digest_rows(&mw).into_iter().map(|(_, s)| s).collect();
    assert_eq!(statuses, ["skipped", "sent"]);

    // Next Monday's run has it.
    clock.advance(chrono::Duration::days(5));
    let report = super::send::digest_run_at(&mw, clock.as_ref()).await;
    assert_eq!(report.sent.len(), 1, "{report:?}");
    let got = smtp.received();
    assert!(got[1].part("text/plain").contains("3月[-16-]{+17+}日"), "{}", got[1].part("text/plain"));
}

/// The cron fired while the database was unreachable (PostgreSQL
/// restarting, a network blip): nothing was built, so nothing was pending
/// for the retries either. The digest goes out once the database is back,
/// not with next week's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_due_while_the_database_is_down_goes_out_when_it_is_back() {
    use modelwatch::jobs::digest_daemon::{self, DigestJob};
    use modelwatch::mail::{SmtpMailer, SmtpSettings};
    use std::time::{Duration, Instant};
    if !smtp::available("a_digest_due_while_the_database_is_down_goes_out_when_it_is_back") {
        return;
    }
    if !crate::support::db::postgres_available() {
        eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
        return;
    }
    let (smtp, mw, _server) = a_week_to_send(Backend::Postgres).await.unwrap();
    let name = url::Url::parse(&mw.db.url).unwrap().path().trim_start_matches('/').to_owned();
    let admin = sea_orm::Database::connect(&std::env::var(crate::support::db::POSTGRES_ENV).unwrap()).await.unwrap();

    let config = std::sync::Arc::new(mw.load_config());
    let store = modelwatch::store::Store::connect(&mw.db.url, 2).await.unwrap();
    let mailer = SmtpMailer::new(SmtpSettings::from_config(&config.smtp));
    let job = DigestJob { store, mailer, clock: modelwatch::clock::SystemClock::shared() };
    let (ticks, rx) = tokio::sync::mpsc::channel(1);
    let shutdown = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(digest_daemon::run(job, config, rx, shutdown.clone()));

    crate::ops::watchdog::set_reachable(&admin, &name, false).await;
    ticks.send(()).await.unwrap(); // the cron fires: Monday, 08:00
    tokio::time::sleep(Duration::from_secs(2)).await;
    crate::ops::watchdog::set_reachable(&admin, &name, true).await;

    let deadline = Instant::now() + Duration::from_secs(45);
    while smtp.received().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    shutdown.cancel();
    task.await.unwrap();
    let got = smtp.received();
    assert_eq!(got.len(), 1, "the week's digest went out once the database was back");
    assert!(got[0].part("text/plain").contains("2600亿"), "{}", got[0].part("text/plain"));
}

/// A TCP listener that accepts and never speaks: an SMTP server that never
/// greets, so a send hangs after its claim. Each accept is reported.
fn silent_smtp() -> (u16, std::sync::mpsc::Receiver<()>) {
    let (addr, accepted) = crate::support::silent::silent_listener();
    (addr.port(), accepted)
}

/// Starts `modelwatch run`, waits for a log line with every needle, stops it
/// (SIGTERM) and returns what it logged.
pub(super) async fn daemon_until(mw: &Mw, needles: &'static [&'static str]) -> Vec<String> {
    use crate::ops::{sigterm, stderr_lines, wait_exit, wait_for};
    let mut child =
        mw.command(&["run"]).stderr(std::process::Stdio::piped()).stdout(std::process::Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let (found, mut seen) = tokio::task::spawn_blocking(move || {
        let mut seen = Vec::new();
        let found = wait_for(&rx, needles, &mut seen, std::time::Duration::from_secs(30));
        (found, seen)
    })
    .await
    .unwrap();
    sigterm(&child);
    tokio::task::spawn_blocking(move || wait_exit(&mut child, std::time::Duration::from_secs(40))).await.unwrap();
    seen.push(format!("found: {found}"));
    assert!(found, "no line with {needles:?}:\n{}", seen.join("\n"));
    seen
}

/// `kill -9` mid-send left the digest claimed for its lease (5 minutes or
/// more): the daemon's next start on SQLite skipped it as "being sent by
/// another instance", though no sender was alive. It takes such a claim
/// back at once — but not one a live `digest send` holds. What the operator
/// sees after the kill: the digest goes out at start, once, with the
/// Message-ID it was built with (a receiver drops it if the killed attempt
/// had in fact been delivered: at least once, one Message-ID).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_claim_left_by_a_killed_sender_is_taken_back_at_the_next_start() {
    if !smtp::available("a_claim_left_by_a_killed_sender_is_taken_back_at_the_next_start") {
        return;
    }
    let Some((smtp, mw, _server)) = a_week_to_send(Backend::Sqlite).await else { return };

    // A sender claims the week's digest and hangs on a server that never greets.
    let (silent, connected) = silent_smtp();
    let mut sender = mw.command(&["digest", "send"]);
    sender.env("MODELWATCH_SMTP__PORT", silent.to_string()).env("MODELWATCH_SMTP__TIMEOUT", "300s");
    let mut sender = sender.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().unwrap();
    let connected =
        tokio::task::spawn_blocking(move || connected.recv_timeout(std::time::Duration::from_secs(30)).is_ok());
    assert!(connected.await.unwrap(), "the sender never connected");
    let rows = mw.run_async(&["digest", "list", "--format", "json"]).await.ok().json();
    assert_eq!(rows.as_array().unwrap().len(), 1, "{rows}");
    assert_eq!((rows[0]["status"].as_str(), rows[0]["attempts"].as_i64()), (Some("pending"), Some(1)), "{rows}");
    let message_id = rows[0]["message_id"].as_str().unwrap().to_owned();

    // While that sender lives, a starting daemon leaves its claim alone.
    daemon_until(&mw, &["being sent by another instance"]).await;
    assert!(smtp.received().is_empty());

    // Killed mid-send: the next start sends it at once, not after the lease.
    sender.kill().unwrap();
    sender.wait().unwrap();
    let seen = daemon_until(&mw, &["Digest sent."]).await;
    assert!(seen.iter().any(|l| l.contains("died while sending")), "{}", seen.join("\n"));
    let got = smtp.received();
    assert_eq!(got.len(), 1, "sent once");
    assert_eq!(got[0].message_id, message_id, "the resend carries the Message-ID of the killed attempt");
    let rows = mw.run_async(&["digest", "list", "--format", "json"]).await.ok().json();
    assert_eq!((rows[0]["status"].as_str(), rows[0]["attempts"].as_i64()), (Some("sent"), Some(2)), "{rows}");
}
