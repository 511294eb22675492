//! systemd's watchdog: the daemon pings `WATCHDOG=1` on `NOTIFY_SOCKET` while
//! its sweep loop goes round, stops while the loop is stuck, and resumes
//! when it comes back.

use std::os::unix::net::UnixDatagram;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;

use super::{sigterm, stderr_lines, wait_exit};
use crate::support::{Backend, Mw};

/// The datagrams received, with when they came.
#[derive(Clone, Default)]
struct Notes(Arc<Mutex<Vec<(Instant, String)>>>);

impl Notes {
    fn listen(socket: UnixDatagram) -> Notes {
        let notes = Notes::default();
        let sink = notes.clone();
        socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            loop {
                match socket.recv(&mut buf) {
                    Ok(n) => {
                        sink.0.lock().unwrap().push((Instant::now(), String::from_utf8_lossy(&buf[..n]).into_owned()))
                    }
                    Err(e)
                        if e.kind() == std::io::ErrorKind::WouldBlock || e.kind() == std::io::ErrorKind::TimedOut =>
                    {
                        // The test dropped its handle: stop.
                        if Arc::strong_count(&sink.0) == 1 {
                            return;
                        }
                    }
                    Err(_) => return,
                }
            }
        });
        notes
    }

    fn pings_between(&self, from: Instant, to: Instant) -> usize {
        self.0.lock().unwrap().iter().filter(|(t, m)| *t >= from && *t < to && m.contains("WATCHDOG=1")).count()
    }

    fn has(&self, needle: &str) -> bool {
        self.0.lock().unwrap().iter().any(|(_, m)| m.contains(needle))
    }

    fn wait(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while Instant::now() < deadline {
            if self.has(needle) {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    fn dump(&self) -> String {
        let notes = self.0.lock().unwrap();
        let start = notes.first().map(|(t, _)| *t);
        notes
            .iter()
            .map(|(t, m)| format!("+{:?} {}", start.map(|s| t.duration_since(s)).unwrap_or_default(), m.trim()))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// An HTTP server whose one page hangs until the test lets it answer: a
/// check that holds the sweep loop for as long as the test wants.
async fn hanging_server(release: Arc<Notify>, arrived: Arc<Notify>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut conn, _)) = listener.accept().await {
            let (release, arrived) = (release.clone(), arrived.clone());
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf).await;
                arrived.notify_one();
                release.notified().await;
                let body = "<html><body><p>back again</p></body></html>";
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = conn.write_all(head.as_bytes()).await;
                let _ = conn.write_all(body.as_bytes()).await;
            });
        }
    });
    addr
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_check_does_not_stall_the_loop_or_its_watchdog_pings() {
    // The checks run as a pipeline (issue 12): one check hanging on a slow
    // page holds one slot, not the loop. So the loop keeps going round and
    // the pings go on (a loop that is really wedged — a database that does
    // not answer — stops them: `watchdog_pings_stop_while_the_database_is_gone`,
    // and the unit tests of `ops::watchdog`).
    let config = crate::support::TEST_CONFIG
        .replace("timeout = \"5s\"", "timeout = \"60s\"")
        .replace("jitter = 0.0\n", "jitter = 0.0\nsweep_every = \"1s\"\nlease = \"1s\"\n");
    let mut mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let (release, arrived) = (Arc::new(Notify::new()), Arc::new(Notify::new()));
    let addr = hanging_server(release.clone(), arrived.clone()).await;
    std::fs::write(mw.path().join("sources.toml"), format!("[[source]]\nurl = \"http://{addr}/slow\"\n")).unwrap();

    let socket_path = mw.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    let notes = Notes::listen(socket);
    mw.env.push(("NOTIFY_SOCKET".into(), socket_path.display().to_string()));
    mw.env.push(("WATCHDOG_USEC".into(), "400000".into()));
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let logs = stderr_lines(&mut child);

    assert!(notes.wait("READY=1", Duration::from_secs(30)), "no READY=1:\n{}", notes.dump());
    // The first check starts at once and hangs on the page.
    tokio::time::timeout(Duration::from_secs(30), arrived.notified()).await.expect("the check reaches the page");
    let hanging_since = Instant::now();
    // Past the 2 s limit (sweep_every + lease) the pings still come: the
    // loop goes round on every tick and lease renewal.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let during = notes.pings_between(hanging_since + Duration::from_millis(2600), Instant::now());
    assert!(during > 0, "WATCHDOG=1 goes on while one check hangs:\n{}", notes.dump());
    assert!(!notes.has("STATUS=unhealthy"), "a slow page is not an unhealthy daemon:\n{}", notes.dump());
    release.notify_waiters();
    eprintln!("watchdog: {during} pings in the 2.4 s after the limit while one check hung");

    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    assert_eq!(code, Some(0));
    assert!(notes.wait("STOPPING=1", Duration::from_secs(2)), "{}", notes.dump());
    let log: Vec<String> = logs.try_iter().collect();
    assert!(!log.iter().any(|l| l.contains("Watchdog ping withheld")), "{}", log.join("\n"));
}

/// Makes the test database unreachable (renamed away, its sessions ended)
/// or brings it back.
pub(crate) async fn set_reachable(admin: &sea_orm::DatabaseConnection, name: &str, reachable: bool) {
    use sea_orm::ConnectionTrait;
    let (from, to) =
        if reachable { (format!("{name}_gone"), name.to_owned()) } else { (name.to_owned(), format!("{name}_gone")) };
    // The daemon's pool reconnects at once: end its sessions and rename in
    // a loop until the rename wins the race.
    for _ in 0..200 {
        let _ = admin
            .execute_unprepared(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{from}' AND pid <> pg_backend_pid()"
            ))
            .await;
        if admin.execute_unprepared(&format!("ALTER DATABASE {from} RENAME TO {to}")).await.is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("could not rename {from} to {to}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watchdog_pings_stop_while_the_database_is_gone() {
    if !crate::support::db::postgres_available() {
        eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
        return;
    }
    let mut mw = Mw::new(Backend::Postgres).await.unwrap();
    let name = url::Url::parse(&mw.db.url).unwrap().path().trim_start_matches('/').to_owned();
    let admin_url = std::env::var(crate::support::db::POSTGRES_ENV).unwrap();
    let admin = sea_orm::Database::connect(&admin_url).await.unwrap();

    let socket_path = mw.path().join("notify.sock");
    let notes = Notes::listen(UnixDatagram::bind(&socket_path).unwrap());
    mw.env.push(("NOTIFY_SOCKET".into(), socket_path.display().to_string()));
    mw.env.push(("WATCHDOG_USEC".into(), "400000".into()));
    let mut child = mw.command(&["run"]).stderr(Stdio::piped()).stdout(Stdio::null()).spawn().unwrap();
    let logs = stderr_lines(&mut child);
    assert!(notes.wait("READY=1", Duration::from_secs(30)), "no READY=1:\n{}", notes.dump());
    assert!(notes.wait("WATCHDOG=1", Duration::from_secs(5)), "no ping:\n{}", notes.dump());

    set_reachable(&admin, &name, false).await;
    let gone = Instant::now();
    tokio::time::sleep(Duration::from_secs(3)).await;
    // One ping may already have been on its way; after a second none.
    let during = notes.pings_between(gone + Duration::from_secs(1), Instant::now());
    let status = notes.has("STATUS=unhealthy: the database does not answer");
    set_reachable(&admin, &name, true).await;
    assert_eq!(during, 0, "no WATCHDOG=1 while the database is gone:\n{}", notes.dump());
    assert!(status, "the status says why:\n{}", notes.dump());

    let back = Instant::now();
    let resumed = (0..250).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        notes.pings_between(back, Instant::now()) > 0
    });
    assert!(resumed, "pings resume once the database answers:\n{}", notes.dump());
    sigterm(&child);
    let _ = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(20))).await.unwrap();
    admin.close().await.ok();
    let log: Vec<String> = logs.try_iter().collect();
    assert!(log.iter().any(|l| l.contains("Watchdog ping withheld")), "{}", log.join("\n"));
}
