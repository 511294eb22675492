//! Opening the database (issue 14, what was left): a bounded, explained
//! connect (`database.connect_timeout`), read-only commands that create
//! nothing, and `init --no-seed-sources` remembered by later commands.

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::daemon::{sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw};

/// A port where nothing listens: bound once, then released.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// A "server" that accepts connections and never says a word.
fn silent_server() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().map_while(Result::ok) {
            held.push(conn);
        }
    });
    port
}

/// Issue 14 finding 9 (what was left): an unreachable PostgreSQL is reported
/// with its cause within `database.connect_timeout`, not a constant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_a_closed_port_fails_with_its_cause_within_the_connect_timeout() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let url = format!("postgres://mw:Pw-not-shown@127.0.0.1:{}/modelwatch", closed_port());
    mw.env.push(("MODELWATCH_DATABASE_URL".into(), url));
    mw.env.push(("MODELWATCH_DATABASE__CONNECT_TIMEOUT".into(), "1s".into()));
    for args in [&["sources", "list"][..], &["run"][..]] {
        let t = Instant::now();
        let r = mw.run_async(args).await;
        assert!(t.elapsed() < Duration::from_secs(5), "{args:?} took {:?}", t.elapsed());
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.to_ascii_lowercase().contains("connection refused"), "{args:?}: {}", r.stderr);
        assert!(!r.stderr.contains("Pw-not-shown"), "{}", r.stderr);
    }
}

/// A server that accepts the TCP connection and then never answers passed
/// the TCP probe and hung in the driver for the pool's 60 s acquire
/// timeout. It now fails within the configured connect timeout, saying so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_a_silent_database_fails_within_the_connect_timeout() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let url = format!("postgres://mw@127.0.0.1:{}/modelwatch", silent_server());
    mw.env.push(("MODELWATCH_DATABASE_URL".into(), url));
    mw.env.push(("MODELWATCH_DATABASE__CONNECT_TIMEOUT".into(), "1s".into()));
    let t = Instant::now();
    let r = mw.run_async(&["catalog", "models"]).await;
    assert!(t.elapsed() < Duration::from_secs(8), "took {:?}", t.elapsed());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("did not complete the handshake within 1s"), "{}", r.stderr);
}

/// Issue 14 finding 9 (what was left): a read-only command on a SQLite path
/// that does not exist created its folder (and an empty database file).
/// Now nothing is created and the message says to run `init`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn issue14_read_only_commands_create_nothing() {
    let mut mw = Mw::new(Backend::Sqlite).await.unwrap();
    let folder = mw.path().join("not-yet");
    let file = folder.join("deeper").join("modelwatch.db");
    mw.env.push(("MODELWATCH_DATABASE_URL".into(), format!("sqlite://{}?mode=rwc", file.display())));
    let commands: &[&[&str]] = &[
        &["sources", "list"],
        &["sources", "show", "1"],
        &["changes"],
        &["catalog", "models"],
        &["catalog", "export", "--format", "json"],
        &["export", "references"],
        &["snapshot", "show", "1"],
        &["digest", "list"],
        &["check", "--all"],
        &["backup", "--output", "copy.db"],
    ];
    for args in commands {
        let r = mw.run_async(args).await;
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("does not exist") && r.stderr.contains("init"), "{args:?}: {}", r.stderr);
        assert!(!folder.exists(), "{args:?} created {}", folder.display());
    }
    let doctor = mw.run_async(&["doctor"]).await;
    assert_ne!(doctor.code, 0);
    assert!(format!("{}{}", doctor.stdout, doctor.stderr).contains("modelwatch init"), "{doctor:?}");
    let check = mw.run_async(&["config", "check"]).await.ok();
    assert!(check.stdout.contains("is valid"), "{}", check.stdout);
    assert!(!folder.exists(), "doctor/config check created {}", folder.display());

    // The folder exists, the file does not: still nothing created.
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let r = mw.run_async(&["sources", "list"]).await;
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(!file.exists(), "sources list created {}", file.display());

    // `init` creates it, and then the same commands work.
    mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(file.is_file());
    mw.run_async(&["sources", "list"]).await.ok();
}

/// A seed file with one source the test server does not need to serve.
const SEED: &str = "[[source]]\nurl = \"https://seed.example.com/a.html\"\ntitle = \"种子\"\n";

async fn source_count(mw: &Mw) -> usize {
    mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json().as_array().unwrap().len()
}

/// Issue 14 finding 9 (what was left): `run` loaded the shipped sources
/// into the empty database after `init --no-seed-sources`. The choice is
/// stored: `run` and a later `init` honour it; `init --seed-sources` undoes it.
async fn no_seed_sources_is_remembered(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    std::fs::write(mw.path().join("sources.toml"), SEED).unwrap();
    let init = mw.run_async(&["init", "--no-seed-sources"]).await.ok();
    assert!(init.stderr.contains("Shipped sources not loaded"), "{}", init.stderr);
    assert_eq!(source_count(&mw).await, 0);

    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let lines = stderr_lines(&mut child);
    let mut seen = Vec::new();
    let started = wait_for(&lines, &["modelwatch started"], &mut seen, Duration::from_secs(30));
    sigterm(&child);
    assert_eq!(wait_exit(&mut child, Duration::from_secs(30)), Some(0), "{seen:#?}");
    assert!(started, "{seen:#?}");
    assert!(!seen.iter().any(|l| l.contains("Loaded the shipped sources")), "{seen:#?}");
    assert_eq!(source_count(&mw).await, 0, "run loaded the shipped sources");

    let again = mw.run_async(&["init"]).await.ok();
    assert!(again.stderr.contains("initialised with --no-seed-sources"), "{}", again.stderr);
    assert_eq!(source_count(&mw).await, 0, "a later init loaded the shipped sources");

    let back = mw.run_async(&["init", "--seed-sources"]).await.ok();
    assert!(back.stderr.contains("Loaded 1 new source"), "{}", back.stderr);
    assert_eq!(source_count(&mw).await, 1);
}

crate::both_backends!(issue14_no_seed_sources_is_remembered, no_seed_sources_is_remembered);
