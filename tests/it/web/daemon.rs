//! `modelwatch run` serves the web view on `web.listen` beside the ops
//! endpoints, and stops it on SIGTERM.
#![allow(clippy::disallowed_methods, reason = "our own web view on 127.0.0.1; its pages are small")]

use std::process::Stdio;
use std::time::Duration;

use crate::ops::{sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw, TEST_CONFIG};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_serves_the_web_view() {
    let config = TEST_CONFIG.replace("[web]\nlisten = \"\"", "[web]\nlisten = \"127.0.0.1:0\"");
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let ready = wait_for(&rx, &["Web view ready"], &mut seen, Duration::from_secs(30));
    assert!(ready, "{}", seen.join("\n"));
    let addr = seen
        .iter()
        .find_map(|l| l.split("address=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_owned())
        .expect("the web view logs its address");
    let res = reqwest::get(format!("http://{addr}/sources")).await.unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    assert!(body.contains("<title>Sources · modelwatch</title>"), "{body}");
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(30))).await.unwrap();
    assert_eq!(code, Some(0));
}
