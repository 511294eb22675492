//! Progress bars: drawn on a terminal (a pseudo-terminal here, through
//! util-linux `script`), absent when stderr is a file, suppressed by --quiet.

use std::process::Command;

use crate::support::{Backend, Mw, Page, TestServer};

fn script_available() -> bool {
    let ok = Command::new("script").arg("--version").output().is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: util-linux `script` is not installed");
    }
    ok
}

/// Runs the binary under a pseudo-terminal; returns what the terminal showed.
fn under_pty(mw: &Mw, args: &[&str]) -> String {
    let bin = env!("CARGO_BIN_EXE_modelwatch");
    let line =
        std::iter::once(bin.to_owned()).chain(args.iter().map(|a| format!("'{a}'"))).collect::<Vec<_>>().join(" ");
    let out = Command::new("script")
        .args(["-q", "-e", "-c", &line, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("COLUMNS", "160")
        .env("MODELWATCH_CONFIG", &mw.config)
        .env("MODELWATCH_DATABASE_URL", &mw.db.url)
        .current_dir(mw.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn watched(n: usize) -> (Mw, TestServer) {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let server = TestServer::start().await;
    for i in 0..n {
        server.set(&format!("/p{i}"), Page::html(format!("<html><body><p>page {i}</p></body></html>")));
        mw.add(&server.url(&format!("/p{i}")), &[]).await;
    }
    (mw, server)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_all_shows_a_bar_on_a_terminal_only() {
    if !script_available() {
        return;
    }
    let (mw, _server) = watched(5).await;
    let screen = {
        let mw = &mw;
        tokio::task::block_in_place(|| under_pty(mw, &["check", "--all"]))
    };
    assert!(screen.contains("Checking") && screen.contains("5/5 sources"), "{screen}");
    assert!(screen.contains("ETA"), "{screen}");

    // --quiet on the same terminal: the results, no bar.
    let quiet = tokio::task::block_in_place(|| under_pty(&mw, &["check", "--all", "--quiet"]));
    assert!(quiet.contains("#1 "), "{quiet}");
    assert!(!quiet.contains("5/5 sources"), "{quiet}");

    // stderr to a file (what Mw::run does): nothing but plain lines.
    let r = mw.run_async(&["check", "--all"]).await.ok();
    assert!(
        !r.stderr.contains("sources (") && !r.stderr.contains('\r') && !r.stderr.contains('\u{1b}'),
        "{:?}",
        r.stderr
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_import_shows_a_bar_on_a_terminal() {
    if !script_available() {
        return;
    }
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let doc = mw.path().join("notes.md");
    std::fs::write(
        &doc,
        "# 模型\n\n- [a](https://example.org/a)\n- [b](https://example.org/b)\n- [c](https://example.org/c)\n",
    )
    .unwrap();
    let screen = tokio::task::block_in_place(|| under_pty(&mw, &["sources", "import", doc.to_str().unwrap()]));
    assert!(screen.contains("Importing") && screen.contains("3/3 references"), "{screen}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn digest_send_shows_a_bar_on_a_terminal() {
    if !script_available() || !crate::digest::smtp::available("digest_send_shows_a_bar_on_a_terminal") {
        return;
    }
    let smtp = crate::digest::smtp::SmtpServer::start();
    let config = format!(
        "{}\n[digest]\nenabled = true\nsend_empty = true\nrecipients = [\"team@example.org\"]\n[smtp]\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\n",
        crate::support::TEST_CONFIG,
        smtp.port
    );
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    mw.init().await;
    let screen = tokio::task::block_in_place(|| under_pty(&mw, &["digest", "send"]));
    assert!(screen.contains("Sending") && screen.contains("1/1 digests"), "{screen}");
    assert_eq!(smtp.received().len(), 1, "{screen}");
}
