//! `run`: migrates an empty database, loads the shipped sources, sweeps, logs
//! each source's outcome, stops cleanly on SIGTERM; a second daemon on the
//! same SQLite file refuses to start.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::{Backend, Mw, Page, TestServer};

/// Reads the child's stderr on a thread, line by line.
pub(crate) fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    let stderr = child.stderr.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

/// Waits until a line contains every needle; returns all lines read so far.
pub(crate) fn wait_for(
    rx: &mpsc::Receiver<String>,
    needles: &[&str],
    seen: &mut Vec<String>,
    within: Duration,
) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if seen.iter().any(|l| needles.iter().all(|n| l.contains(n))) {
            return true;
        }
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(line) => seen.push(line),
            Err(_) => return false,
        }
    }
}

pub(crate) fn sigterm(child: &Child) {
    let status = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

pub(crate) fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_sweeps_logs_outcomes_and_stops_on_sigterm() {
    let config = crate::support::TEST_CONFIG.replace("listen = \"\"", "listen = \"127.0.0.1:0\"");
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let server = TestServer::start().await;
    server.set("/ok", Page::html("<html><body><p>文心一言 3.5 发布</p></body></html>"));
    // A seed with one live page and one dead port: both are outcomes.
    let seed =
        format!("[[source]]\nurl = \"{}\"\n[[source]]\nurl = \"http://127.0.0.1:1/refused\"\n", server.url("/ok"));
    std::fs::write(mw.path().join("sources.toml"), seed).unwrap();

    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let mut check = |needles: &[&str]| {
        let ok = wait_for(&rx, needles, &mut seen, Duration::from_secs(30));
        assert!(ok, "no log line with {needles:?}:\n{}", seen.join("\n"));
    };
    check(&["Loaded the shipped sources", "added=2"]);
    check(&["Check failed", "error_kind=connect", "refused"]);
    check(&["Checked source", "outcome=\"baseline\""]);
    check(&["Sweep finished", "checked=2"]);
    check(&["Ops endpoints ready"]);

    // The ops endpoints answer, and /metrics counts the checks.
    let ops = seen
        .iter()
        .find_map(|l| l.split("listen=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_owned());
    let ops = ops.expect("the ops listener logs its address");
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("http://{ops}{path}")).send();
    assert_eq!(get("/healthz").await.unwrap().status(), 200);
    assert_eq!(get("/readyz").await.unwrap().status(), 200);
    #[allow(clippy::disallowed_methods, reason = "our own /metrics page on 127.0.0.1, a few kilobytes")]
    let metrics = get("/metrics").await.unwrap().text().await.unwrap();
    assert!(metrics.contains("modelwatch_checks_total{outcome=\"baseline\"} 1"), "{metrics}");
    assert!(metrics.contains("modelwatch_checks_total{outcome=\"failed\"} 1"), "{metrics}");

    // A second daemon on the same SQLite file refuses to start.
    let second = mw.run_async(&["run"]).await;
    assert_eq!(second.code, 2, "{}", second.stderr);
    assert!(second.stderr.contains("already running"), "{}", second.stderr);

    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert_eq!(code, Some(0), "the daemon exits 0 on SIGTERM");
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    let statuses: Vec<_> = list.as_array().unwrap().iter().map(|s| s["status"].as_str().unwrap().to_owned()).collect();
    assert_eq!(statuses, ["ok", "failing"]);
}

/// The README's first command on a fresh checkout: the default SQLite URL is
/// relative (`data/…`) and `data/` does not exist yet.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_starts_on_a_fresh_checkout_with_the_default_database() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.env.push(("MODELWATCH_DATABASE_URL".into(), "sqlite://data/modelwatch.db?mode=rwc".into()));
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let started = wait_for(&rx, &["modelwatch started"], &mut seen, Duration::from_secs(30));
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert!(started, "{}", seen.join("\n"));
    assert_eq!(code, Some(0));
    assert!(mw.path().join("data/modelwatch.db").exists());
}

/// The daemon's schedule runs on its clock: a source checked now is due in
/// six hours; a daemon whose clock reads seven hours later checks it at once
/// and schedules the next check six hours after that.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_checks_what_its_clock_says_is_due() {
    use chrono::{DateTime, Utc};
    let Some(mw) = Mw::new(Backend::Sqlite).await else { return };
    let server = TestServer::start().await;
    server.set("/news/glm.html", Page::html("<html><body><article><p>智谱AI发布GLM-4。</p></article></body></html>"));
    mw.init().await;
    let id = mw.add(&server.url("/news/glm.html"), &["--every", "6h"]).await;
    mw.run_async(&["check"]).await.ok();
    let before = mw.source(id).await;
    let at = |s: &serde_json::Value, key: &str| {
        DateTime::parse_from_rfc3339(s[key].as_str().unwrap()).unwrap().with_timezone(&Utc)
    };
    let due = at(&before, "next_check_at");
    assert!(due > Utc::now() + chrono::Duration::hours(5), "not due for hours: {before}");

    let later = Utc::now() + chrono::Duration::hours(7);
    let daemon = mw.start_daemon(modelwatch::clock::ManualClock::new(later)).await;
    // Waits for the check itself (real HTTP and database work).
    let deadline = Instant::now() + Duration::from_secs(30);
    let after = loop {
        let s = mw.source(id).await;
        if s["last_checked_at"] != before["last_checked_at"] {
            break s;
        }
        assert!(Instant::now() < deadline, "the daemon never checked the source: {s}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    daemon.stop().await;
    let checked = at(&after, "last_checked_at");
    assert!((checked - later).num_seconds().abs() <= 1, "checked at the clock's time: {after}");
    let next = at(&after, "next_check_at");
    assert!((next - (later + chrono::Duration::hours(6))).num_seconds().abs() <= 1, "{after}");
}

/// An operator's `kill -HUP` (the reflex for "reload the config", or a
/// terminal hanging up) must not end the daemon the way a crash does: no
/// shutdown, no lease released, and the checks in flight counted as crashes
/// of their sources at the next start. The daemon says that the config is
/// read at start and keeps running; SIGTERM still stops it cleanly.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_neither_kills_the_daemon_nor_reloads_silently() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["modelwatch started"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    let status = std::process::Command::new("kill").args(["-HUP", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let said = wait_for(&rx, &["SIGHUP", "restart"], &mut seen, Duration::from_secs(10));
    let alive = child.try_wait().unwrap().is_none();
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert!(alive, "SIGHUP ended the daemon:\n{}", seen.join("\n"));
    assert!(said, "no log line about SIGHUP:\n{}", seen.join("\n"));
    assert_eq!(code, Some(0), "SIGTERM after SIGHUP still stops it cleanly");
}

/// The SQLite file deleted under the running daemon (a clean-up script, a
/// restore done by hand): SQLite writes on into the open, nameless file,
/// every check "succeeds" and `/readyz` says ready, and all of it is gone
/// when the process ends. The daemon notices, stops with a failure and
/// leaves a copy of everything it had beside the old name.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_deleted_under_the_daemon_stops_it_with_a_rescued_copy() {
    let config = format!("{}\n[schedule]\nsweep_every = \"1s\"\njitter = 0.0\n", crate::support::TEST_CONFIG)
        .replace("[schedule]\njitter = 0.0\n[ops]", "[ops]");
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let server = TestServer::start().await;
    server.set("/news/glm.html", Page::html("<html><body><article><p>智谱AI发布GLM-4。</p></article></body></html>"));
    mw.init().await;
    mw.add(&server.url("/news/glm.html"), &[]).await;
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["Checked source", "baseline"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));

    let db = mw.path().join("modelwatch.db");
    std::fs::remove_file(&db).unwrap();
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    let said = wait_for(&rx, &["deleted"], &mut seen, Duration::from_secs(1));
    assert_eq!(code, Some(1), "the daemon stops with a failure:\n{}", seen.join("\n"));
    assert!(said, "the log says the file was deleted:\n{}", seen.join("\n"));
    let rescued: Vec<_> = std::fs::read_dir(mw.path())
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().contains("modelwatch.db.rescued-"))
        .collect();
    assert_eq!(rescued.len(), 1, "{rescued:?}\n{}", seen.join("\n"));
    std::fs::rename(&rescued[0], &db).unwrap();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list[0]["status"], "ok", "the rescued copy holds the checks: {list}");
}

/// A check whose record the database refuses (a full disk, here a trigger
/// that fails as one would) is not counted as its outcome: the sweep line
/// and `/metrics` say it was not recorded, instead of "Checked source
/// outcome=baseline" and a baseline counted for a check nothing kept.
async fn an_unrecorded_check_is_counted_as_unrecorded_not_as_its_outcome(backend: Backend) {
    let config = crate::support::TEST_CONFIG.replace("listen = \"\"", "listen = \"127.0.0.1:0\"");
    let mw = Mw::with_config(backend, &config).await.unwrap();
    let server = TestServer::start().await;
    server.set("/a", Page::html("<html><body><p>通义千问开放邀测，对标GPT-4。</p></body></html>"));
    mw.run_async(&["init"]).await.ok();
    mw.run_async(&["sources", "add", &server.url("/a")]).await.ok();
    let refuse: &[&str] = match backend {
        Backend::Sqlite => &[
            "CREATE TRIGGER refuse_checks BEFORE INSERT ON checks BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END",
        ],
        Backend::Postgres => &[
            "CREATE FUNCTION refuse_checks() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER refuse_checks BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION refuse_checks()",
        ],
    };
    let raw = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    for statement in refuse {
        sea_orm::ConnectionTrait::execute_unprepared(&raw, statement).await.unwrap();
    }
    raw.close().await.unwrap();

    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let finished = wait_for(&rx, &["Sweep finished", "checked=1"], &mut seen, Duration::from_secs(30));
    let ready = wait_for(&rx, &["Ops endpoints ready"], &mut seen, Duration::from_secs(10));
    let ops = seen
        .iter()
        .find_map(|l| l.split("listen=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_owned());
    #[allow(clippy::disallowed_methods, reason = "our own /metrics page on 127.0.0.1, a few kilobytes")]
    let metrics = match &ops {
        Some(ops) => reqwest::get(format!("http://{ops}/metrics")).await.unwrap().text().await.unwrap(),
        None => String::new(),
    };
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    let log = seen.join("\n");
    assert!(finished && ready, "{log}");
    assert!(log.contains("Cannot record the check"), "{log}");
    let sweep = seen.iter().find(|l| l.contains("Sweep finished")).unwrap();
    assert!(sweep.contains("unrecorded=1") && sweep.contains("changed=0"), "{sweep}");
    assert!(!log.contains("Checked source"), "a check nothing kept is not logged as checked:\n{log}");
    assert!(metrics.contains("modelwatch_unrecorded_checks_total 1"), "{metrics}");
    assert!(metrics.contains("modelwatch_checks_total{outcome=\"baseline\"} 0"), "{metrics}");
    assert_eq!(code, Some(0));
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert!(list[0]["last_checked_at"].is_null(), "nothing of the check was kept: {list}");
}

crate::both_backends!(an_unrecorded_check_on, an_unrecorded_check_is_counted_as_unrecorded_not_as_its_outcome);
