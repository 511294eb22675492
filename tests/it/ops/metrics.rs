//! `/metrics` shows its series from the first scrape, with durations as
//! histograms once checks ran.

use std::process::Stdio;
use std::time::Duration;

use super::{free_port, sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw, Page, TestServer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_present_from_the_start_and_durations_are_histograms() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let port = free_port();
    mw.env.push(("MODELWATCH_OPS__LISTEN".into(), format!("127.0.0.1:{port}")));
    mw.init().await;
    // A source that is not due yet: the first scrape sees the series at 0.
    let server = TestServer::start().await;
    server.set("/a", Page::html("<html><body><p>文心一言</p></body></html>"));
    let id = mw.add(&server.url("/a"), &[]).await;
    mw.run_async(&["check", &id.to_string()]).await.ok();

    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["Ops endpoints ready"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    let metrics = String::from_utf8(
        modelwatch::fetch::read_capped(
            reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await.unwrap(),
            1 << 20,
        )
        .await
        .unwrap(),
    )
    .unwrap();
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert_eq!(code, Some(0));

    for series in [
        "modelwatch_build_info{version=\"",
        "modelwatch_checks_total{outcome=\"baseline\"} 0",
        "modelwatch_checks_total{outcome=\"failed\"} 0",
        "modelwatch_checks_total{outcome=\"changed\"} 0",
        "modelwatch_sources{status=\"ok\"} 1",
        "modelwatch_sources{status=\"failing\"} 0",
        "modelwatch_digest_sent_total 0",
    ] {
        assert!(metrics.contains(series), "{series} missing from:\n{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_and_fetch_durations_are_histograms_with_buckets() {
    let config = crate::support::TEST_CONFIG.replace("listen = \"\"", "listen = \"127.0.0.1:0\"");
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let server = TestServer::start().await;
    server.set("/a", Page::html("<html><body><p>文心一言</p></body></html>"));
    std::fs::write(mw.path().join("sources.toml"), format!("[[source]]\nurl = \"{}\"\n", server.url("/a"))).unwrap();
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["Sweep finished"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    let ops = seen
        .iter()
        .find_map(|l| l.split("listen=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_owned())
        .expect("the ops listener logs its address");
    let metrics = String::from_utf8(
        modelwatch::fetch::read_capped(reqwest::get(format!("http://{ops}/metrics")).await.unwrap(), 1 << 20)
            .await
            .unwrap(),
    )
    .unwrap();
    sigterm(&child);
    let _ = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    for series in [
        "# TYPE modelwatch_check_duration_seconds histogram",
        "modelwatch_check_duration_seconds_bucket{le=\"+Inf\"} 1",
        "# TYPE modelwatch_fetch_duration_seconds histogram",
        "modelwatch_sweep_duration_seconds_count 1",
        "modelwatch_checks_total{outcome=\"baseline\"} 1",
    ] {
        assert!(metrics.contains(series), "{series} missing from:\n{metrics}");
    }
}
