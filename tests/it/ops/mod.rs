//! Running modelwatch for months (issue 16): the systemd unit and its
//! watchdog, the container's health check, config search, `init`'s
//! validation, `doctor`, `backup`, metrics, JSON logs and progress bars.

mod backup;
mod binary;
mod config;
mod doctor;
mod health;
mod metrics;
mod progress;
mod shutdown;
mod systemd;
pub(crate) mod watchdog;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Reads the child's stderr on a thread, line by line.
pub fn stderr_lines(child: &mut Child) -> mpsc::Receiver<String> {
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

/// Waits until a line contains every needle.
pub fn wait_for(rx: &mpsc::Receiver<String>, needles: &[&str], seen: &mut Vec<String>, within: Duration) -> bool {
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

pub fn sigterm(child: &Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

pub fn wait_exit(child: &mut Child, within: Duration) -> Option<i32> {
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

/// A port nothing listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The repository's root (deploy/ and config/ live there).
pub fn repo() -> &'static std::path::Path {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
}
