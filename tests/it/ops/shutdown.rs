//! A shutdown that passes its deadline says what was still running.

use std::process::Stdio;
use std::time::Duration;

use super::{sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw};

/// A TCP listener that accepts and never answers: a check that does not end.
fn black_hole() -> (String, std::sync::mpsc::Receiver<()>) {
    let (addr, accepted) = crate::support::silent::silent_listener();
    (format!("http://{addr}/never-answers.html"), accepted)
}

/// The warning said "tasks=1": not which task, nor which source's check
/// held it. It names the task (`checks`) and the source URL in flight.
/// Slow: waits out the 30-second deadline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_shutdown_deadline_warning_names_the_checks_in_flight() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let (url, accepted) = black_hole();
    mw.add(&url, &[]).await;
    // The check outlives the shutdown deadline.
    mw.env.push(("MODELWATCH_FETCH__TIMEOUT".into(), "120s".into()));
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let accepted = tokio::task::spawn_blocking(move || accepted.recv_timeout(Duration::from_secs(30)).is_ok());
    assert!(accepted.await.unwrap(), "the check never connected");
    sigterm(&child);
    let mut seen = Vec::new();
    let warned = tokio::task::spawn_blocking(move || {
        let warned = wait_for(&rx, &["Shutdown deadline passed"], &mut seen, Duration::from_secs(60));
        (warned, seen)
    });
    let (warned, seen) = warned.await.unwrap();
    let _ = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await;
    assert!(warned, "{seen:#?}");
    let line = seen.iter().find(|l| l.contains("Shutdown deadline passed")).unwrap();
    assert!(line.contains("still_running=checks"), "{line}");
    assert!(line.contains(&format!("sources_in_flight={url}")), "{line}");
}
