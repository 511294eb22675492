//! `doctor` on a good setup (every line passes, exit 0) and on broken ones
//! (each failure named with a hint, exit 1), against real local servers:
//! aiosmtpd for SMTP, a local HTTP server for the fetch and the GitHub API.

use serde_json::Value;

use super::free_port;
use crate::digest::smtp::{SmtpServer, available};
use crate::support::{Backend, Mw, Page, TestServer};

fn rate_limit(remaining: u64) -> Page {
    let body = format!(
        r#"{{"resources":{{"core":{{"limit":5000,"used":{},"remaining":{remaining},"reset":1764900000}}}},"rate":{{"limit":5000,"remaining":{remaining}}}}}"#,
        5000 - remaining
    );
    Page::bytes("application/json", body.into_bytes())
}

/// `doctor --format json` as (check, status, detail, hint) rows.
fn findings(stdout: &str) -> Vec<(String, String, String, String)> {
    let v: Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or("").to_owned();
            (s("check"), s("status"), s("detail"), s("hint"))
        })
        .collect()
}

/// The test config with the digest on, SMTP at `smtp_port` (plus
/// `smtp_extra` lines) and the GitHub API at `api`.
fn config_with(smtp_port: u16, api: &str, smtp_extra: &str) -> String {
    format!(
        "{}\n[digest]\nenabled = true\nrecipients = [\"team@example.org\"]\n[smtp]\nhost = \"127.0.0.1\"\nport = {smtp_port}\ntls = \"none\"\nconnect_timeout = \"3s\"\ntimeout = \"5s\"\n{smtp_extra}[github]\napi_base = \"{api}\"\n",
        crate::support::TEST_CONFIG
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_every_check_on_a_good_setup() {
    if !available("doctor_passes_every_check_on_a_good_setup") {
        return;
    }
    let smtp = SmtpServer::start();
    let server = TestServer::start().await;
    server.set("/page", Page::html("<html><body><p>通义千问</p></body></html>"));
    server.set("/api/rate_limit", rate_limit(4321));
    let mut mw = Mw::with_config(Backend::Sqlite, &config_with(smtp.port, &server.url("/api/"), "")).await.unwrap();
    mw.env.push(("GITHUB_TOKEN".into(), "ghp_doctor_test".into()));
    mw.init().await;
    mw.add(&server.url("/page"), &[]).await;

    let r = mw.run_async(&["doctor", "--format", "json"]).await;
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let rows = findings(&r.stdout);
    let checks: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    for check in ["config", "database", "smtp", "fetch", "github", "disk"] {
        assert!(checks.contains(&check), "{check} missing: {rows:?}");
    }
    assert!(rows.iter().all(|r| r.1 == "pass"), "{rows:#?}");
    let detail = |c: &str| rows.iter().filter(|r| r.0 == c).map(|r| r.2.clone()).collect::<Vec<_>>().join(" | ");
    assert!(detail("database").contains("journal mode wal") && detail("database").contains("quick_check ok"));
    assert!(detail("smtp").contains("EHLO accepted") && detail("smtp").contains("nothing sent"), "{}", detail("smtp"));
    assert!(detail("fetch").contains("/page: 200"), "{}", detail("fetch"));
    assert!(detail("github").contains("4321 of 5000"), "{}", detail("github"));
    assert!(smtp.received().is_empty(), "doctor sends no mail");
    // The token went to the API, and only there.
    let seen = server.seen_path("/api/rate_limit");
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].headers["authorization"], "Bearer ghp_doctor_test");
    assert!(!r.stdout.contains("ghp_doctor_test") && !r.stderr.contains("ghp_doctor_test"));

    // The table form: one line per finding and a total.
    let r = mw.run_async(&["doctor"]).await.ok();
    assert!(r.stdout.lines().any(|l| l.starts_with("PASS  smtp")), "{}", r.stdout);
    assert!(r.stdout.contains("0 failed"), "{}", r.stdout);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_names_each_failure_with_a_hint_and_exits_1() {
    let server = TestServer::start().await;
    server.set("/api/rate_limit", Page::status(401));
    // Nothing listens on the SMTP port; the database file is empty (never
    // initialised); the URL to fetch refuses connections.
    let mut mw = Mw::with_config(Backend::Sqlite, &config_with(free_port(), &server.url("/api/"), "")).await.unwrap();
    mw.env.push(("GITHUB_TOKEN".into(), "ghp_expired".into()));
    std::fs::write(mw.path().join("modelwatch.db"), "").unwrap();
    let r = mw.run_async(&["doctor", "--format", "json", "--url", "http://127.0.0.1:1/refused"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("doctor found 4 problem(s)"), "{}", r.stderr);
    let rows = findings(&r.stdout);
    let failed = |check: &str, needle: &str, hint: &str| {
        assert!(
            rows.iter().any(|r| r.0 == check && r.1 == "fail" && r.2.contains(needle) && r.3.contains(hint)),
            "no failed {check} line with {needle:?} and hint {hint:?}: {rows:#?}"
        );
    };
    failed("database", "pending migration", "modelwatch init");
    failed("smtp", "127.0.0.1:", "smtp.port");
    failed("fetch", "connect", "route to the web");
    failed("github", "rejected (401)", "new one");
    assert!(rows.iter().any(|r| r.0 == "config" && r.1 == "pass"), "{rows:#?}");
    assert!(!r.stdout.contains("ghp_expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_reports_a_broken_config_instead_of_stopping_at_it() {
    let config =
        format!("{}\n[log]\nformat = \"yaml\"\n[digest]\ncron = \"61 * * * *\"\n", crate::support::TEST_CONFIG);
    let mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let r = mw.run_async(&["doctor"]).await;
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let first = r.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with("FAIL  config"), "{}", r.stdout);
    assert!(r.stdout.contains("log.format") && r.stdout.contains("digest.cron"), "every problem: {}", r.stdout);
    assert!(r.stdout.contains("hint: fix the keys"), "{}", r.stdout);
    assert!(r.stdout.contains("SKIP  database"), "{}", r.stdout);
    // Nothing was created.
    assert!(!mw.path().join("modelwatch.db").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_does_not_create_a_missing_database() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let r = mw.run_async(&["doctor"]).await;
    assert_eq!(r.code, 1, "{}", r.stdout);
    assert!(r.stdout.contains("no database file at"), "{}", r.stdout);
    assert!(r.stdout.contains("SKIP  smtp") && r.stdout.contains("digest.enabled = false"), "{}", r.stdout);
    assert!(!mw.path().join("modelwatch.db").exists());
}

/// An SMTP server that requires AUTH (tests/support/smtp_auth.py), killed on drop.
struct AuthServer(std::process::Child);

impl AuthServer {
    fn start(port: u16, user: &str, password: &str) -> AuthServer {
        let script = super::repo().join("tests/support/smtp_auth.py");
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-W", "ignore"])
            .arg(script)
            .args(["127.0.0.1", &port.to_string(), user, password])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(std::time::Instant::now() < deadline, "the AUTH server did not start");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        AuthServer(child)
    }
}

impl Drop for AuthServer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_authenticates_to_smtp_when_a_username_is_set() {
    if !available("doctor_authenticates_to_smtp_when_a_username_is_set") {
        return;
    }
    let port = free_port();
    let _server = AuthServer::start(port, "mw", "right-password");
    let config = config_with(port, "http://127.0.0.1:1/", "username = \"mw\"\n");
    let mut mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    mw.init().await;
    let smtp_line = |stdout: &str| findings(stdout).into_iter().find(|f| f.0 == "smtp").unwrap();

    mw.env.push(("MODELWATCH_SMTP_PASSWORD".into(), "right-password".into()));
    let r = mw.run_async(&["doctor", "--format", "json"]).await;
    let line = smtp_line(&r.stdout);
    assert_eq!(line.1, "pass", "{line:?}");
    assert!(line.2.contains("authenticated as mw"), "{line:?}");

    mw.env.pop();
    mw.env.push(("MODELWATCH_SMTP_PASSWORD".into(), "wrong-password".into()));
    let r = mw.run_async(&["doctor", "--format", "json"]).await;
    assert_eq!(r.code, 1);
    let line = smtp_line(&r.stdout);
    assert_eq!(line.1, "fail", "{line:?}");
    assert!(!r.stdout.contains("wrong-password") && !r.stderr.contains("wrong-password"));

    // A username without any password is caught before connecting.
    mw.env.pop();
    let r = mw.run_async(&["doctor", "--format", "json"]).await;
    let line = smtp_line(&r.stdout);
    assert!(line.1 == "fail" && line.2.contains("no password"), "{line:?}");
}
