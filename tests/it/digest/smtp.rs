//! A real SMTP server for the tests: Debian's aiosmtpd run by the system
//! python with `tests/support/smtp_sink.py`, on a free 127.0.0.1 port.
//!
//! Locally, a missing aiosmtpd skips the test with a clear line on stderr;
//! under CI (`CI` set) it is an error, because `scripts/test-deps` installs it.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde::Deserialize;

const PYTHON: &str = "/usr/bin/python3";

/// One received message, as Python's MIME parser read it.
#[derive(Debug, Clone, Deserialize)]
pub struct Received {
    pub rcpt_tos: Vec<String>,
    pub subject: String,
    pub from: String,
    /// The `To:` header.
    pub to: String,
    /// The client's port: envelopes sent over one connection share it.
    pub peer_port: Option<u16>,
    pub message_id: String,
    pub content_type: String,
    pub parts: Vec<Part>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Part {
    pub content_type: String,
    pub charset: Option<String>,
    pub body: String,
}

impl Received {
    pub fn part(&self, content_type: &str) -> &str {
        self.parts
            .iter()
            .find(|p| p.content_type == content_type)
            .map(|p| p.body.as_str())
            .unwrap_or_else(|| panic!("no {content_type} part in {self:?}"))
    }
}

pub struct SmtpServer {
    child: Option<Child>,
    pub port: u16,
    mail_dir: PathBuf,
    _dir: tempfile::TempDir,
}

/// Whether the server can run here; prints the skip line when it cannot.
pub fn available(test: &str) -> bool {
    let ok = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(std::env::var_os("CI").is_none(), "aiosmtpd is missing under CI: run scripts/test-deps");
        eprintln!("skipped {test}: python3-aiosmtpd is not installed (run scripts/test-deps)");
    }
    ok
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
    listener.local_addr().expect("local addr").port()
}

impl SmtpServer {
    /// Starts a server on a free port and waits until it accepts connections.
    pub fn start() -> SmtpServer {
        SmtpServer::start_on(free_port())
    }

    /// Starts a server on `port` (used to bring "the same" server back).
    pub fn start_on(port: u16) -> SmtpServer {
        let dir = tempfile::tempdir().expect("tempdir");
        let mail_dir = dir.path().join("mail");
        let mut server = SmtpServer { child: None, port, mail_dir, _dir: dir };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let support = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support");
        let child = Command::new(PYTHON)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{}", self.port), "-c", "smtp_sink.Sink"])
            .arg(&self.mail_dir)
            .env("PYTHONPATH", support)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn aiosmtpd");
        self.child = Some(child);
        let addr = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(15);
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start on port {}", self.port);
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server; the port refuses connections afterwards.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the stopped server again on the same port, keeping its mail.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Every message received so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        let Ok(entries) = std::fs::read_dir(&self.mail_dir) else { return Vec::new() };
        let mut numbered: Vec<(u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "json"))
            .filter_map(|p| Some((p.file_stem()?.to_str()?.parse().ok()?, p)))
            .collect();
        numbered.sort();
        numbered
            .into_iter()
            .map(|(_, p)| {
                let raw = std::fs::read_to_string(&p).expect("read message json");
                serde_json::from_str(&raw).expect("parse message json")
            })
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
