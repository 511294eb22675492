//! The daemon's digest job: a send missed while the daemon was down goes
//! out at start-up, once.

use std::process::Stdio;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait, Database, Statement};

use super::send::{V1, backdate_changes, config, seed_week};
use super::smtp::{self, SmtpServer};
use crate::support::{Backend, Mw, Page, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_missed_while_down_goes_out_at_start_up() {
    if !smtp::available("a_send_missed_while_down_goes_out_at_start_up") {
        return;
    }
    let smtp = SmtpServer::start();
    let toml = config(smtp.port, r#"["team@example.com"]"#, "enabled = true\ncron = \"0 0 8 * * Mon\"");
    let Some(mw) = Mw::with_config(Backend::Sqlite, &toml).await else { return };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 1);

    // Pretend that digest was two weeks ago, before the week's changes (its
    // cursor covered none of them): the daemon was down when the cron fired
    // last Monday.
    let db = Database::connect(&mw.db.url).await.unwrap();
    db.execute_unprepared(
        "UPDATE digests SET period_key = '2000-01-03', period_start = '2000-01-01T00:00:00+00:00', \
         period_end = '2000-01-03T00:00:00+00:00', seq_through = 0, \
         message_id = '<modelwatch.digest.2000-01-03.all@ai-notes.example.cn>'",
    )
    .await
    .unwrap();
    db.close().await.unwrap();

    let mut daemon = mw.command(&["run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while smtp.received().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Give a duplicate the chance to show up before stopping.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = std::process::Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || daemon.wait()).await;

    let got = smtp.received();
    assert_eq!(got.len(), 2, "the missed digest went out exactly once at start-up");
    assert_eq!(got[1].content_type, "multipart/alternative");
    assert!(got[1].part("text/plain").contains("2600亿"));
    let list = mw.run(&["digest", "list", "--format", "json"]).ok().json();
    let rows: Vec<(&str, &str)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["period_key"].as_str().unwrap(), d["status"].as_str().unwrap()))
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(rows.iter().all(|(_, status)| *status == "sent"), "{rows:?}");
    assert_eq!(rows[1].0, "2000-01-03");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_after_an_empty_week_sends_no_extra_digest() {
    if !smtp::available("a_restart_after_an_empty_week_sends_no_extra_digest") {
        return;
    }
    let smtp = SmtpServer::start();
    let toml = config(smtp.port, r#"["team@example.com"]"#, "enabled = true\ncron = \"0 0 8 * * Mon\"");
    let Some(mw) = Mw::with_config(Backend::Sqlite, &toml).await else { return };
    let server = TestServer::start().await;
    seed_week(&mw, &server).await;
    mw.run_async(&["digest", "send"]).await.ok();
    assert_eq!(smtp.received().len(), 1);

    // That digest was ten days ago (its changes before it); the week since
    // was quiet, and Monday's run found nothing to report.
    let now = chrono::Utc::now();
    let db = Database::connect(&mw.db.url).await.unwrap();
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE digests SET period_key = $1, period_end = $2",
        _ => "UPDATE digests SET period_key = ?, period_end = ?",
    };
    let ten_days_ago = now - chrono::Duration::days(10);
    let key = ten_days_ago.format("%Y-%m-%d").to_string();
    db.execute_raw(Statement::from_sql_and_values(backend, sql, [key.into(), ten_days_ago.into()])).await.unwrap();
    db.close().await.unwrap();
    backdate_changes(&mw, chrono::Duration::days(12)).await;
    let quiet = mw.run_async(&["digest", "send"]).await.ok();
    assert!(quiet.stderr.contains("Nothing to report"), "{}", quiet.stderr);

    // Mid-week, news arrives; then the daemon restarts.
    server.set("/news/wenxin.html", Page::html(V1.replace("3月16日", "3月17日")));
    mw.run_async(&["check"]).await.ok();
    let mut daemon = mw.command(&["run"]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let deadline = Instant::now() + Duration::from_secs(8);
    while smtp.received().len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let _ = std::process::Command::new("kill").args(["-TERM", &daemon.id().to_string()]).status();
    let _ = tokio::task::spawn_blocking(move || daemon.wait()).await;

    assert_eq!(smtp.received().len(), 1, "the quiet week was covered; the news waits for next Monday");
    let list = mw.run(&["digest", "list", "--format", "json"]).ok().json();
    let statuses: Vec<&str> = list.as_array().unwrap().iter().map(|d| d["status"].as_str().unwrap()).collect();
    assert_eq!(statuses, ["skipped", "sent"], "digest list shows the skipped week");
}
