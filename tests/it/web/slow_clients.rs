//! Clients that hold the web view's sockets on purpose, over real TCP on
//! 127.0.0.1: headers sent a byte at a time (slowloris), idle kept-alive
//! connections, bodies that trickle, a client that reads no answer, more
//! connections than the cap, and a flood of the web view while the ops
//! endpoints must keep answering.

use std::process::Stdio;
use std::time::{Duration, Instant};

use modelwatch::listener::Limits;
use modelwatch::web::LoginLimits;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::seed::{Served, serve_within};
use crate::ops::{free_port, sigterm, stderr_lines, wait_exit, wait_for};
use crate::support::{Backend, Mw, TEST_CONFIG};

const WEB: &str = "[web]\nlisten = \"127.0.0.1:0\"\n";

async fn served(limits: Limits) -> (Mw, Served) {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    mw.init().await;
    let served = serve_within(&mw, WEB, limits, LoginLimits::default()).await;
    (mw, served)
}

/// What the server sent until it closed the connection, and when it
/// closed it; `None` when it was still open after `within`.
async fn until_closed(mut rd: impl AsyncReadExt + Unpin, within: Duration) -> Option<(String, Instant)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    let read = tokio::time::timeout(within, async {
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => got.extend_from_slice(&buf[..n]),
            }
        }
    })
    .await;
    read.ok().map(|()| (String::from_utf8_lossy(&got).into_owned(), Instant::now()))
}

/// Writes `head` and then one more byte every 100 ms until the server closes.
fn trickle(mut wr: tokio::net::tcp::OwnedWriteHalf, head: &'static [u8]) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if wr.write_all(head).await.is_err() {
            return;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if wr.write_all(b"a").await.is_err() {
                return;
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slowloris_connection_is_closed_after_the_header_timeout() {
    let limits = Limits { header_read: Duration::from_millis(500), ..modelwatch::web::LIMITS };
    let (_mw, served) = served(limits).await;
    let (rd, wr) = TcpStream::connect(served.addr).await.unwrap().into_split();
    let started = Instant::now();
    // Headers that never end, a byte every 100 ms: each byte is progress,
    // but the timeout is for the whole head.
    let writer = trickle(wr, b"GET /changes HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    let (answer, closed) = until_closed(rd, Duration::from_secs(5)).await.expect("still open after 5 s");
    writer.abort();
    let took = closed - started;
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(3), "closed after {took:?}");
    assert!(!answer.contains("200 OK"), "{answer}");

    // A connection that never sends a byte does not hold up shutdown past
    // the timeout either.
    let _silent = TcpStream::connect(served.addr).await.unwrap();
    tokio::time::sleep(Duration::from_millis(50)).await;
    let stopped = tokio::time::timeout(Duration::from_secs(5), served.stop()).await;
    assert!(stopped.is_ok(), "shutdown waited on a silent connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let limits = Limits { header_read: Duration::from_millis(500), ..modelwatch::web::LIMITS };
    let (_mw, served) = served(limits).await;
    let (rd, mut wr) = TcpStream::connect(served.addr).await.unwrap().into_split();
    wr.write_all(b"GET /static/style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await.unwrap();
    let sent = Instant::now();
    let (answer, closed) = until_closed(rd, Duration::from_secs(5)).await.expect("an idle connection stays open");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(!answer.to_ascii_lowercase().contains("connection: close"), "kept alive at first: {answer}");
    let idle = closed - sent;
    assert!(idle >= Duration::from_millis(450) && idle < Duration::from_secs(3), "closed after {idle:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_trickling_body_is_refused_with_408() {
    let limits = Limits { body_read: Duration::from_millis(500), ..modelwatch::web::LIMITS };
    let (_mw, served) = served(limits).await;
    let (rd, wr) = TcpStream::connect(served.addr).await.unwrap().into_split();
    let started = Instant::now();
    let writer = trickle(
        wr,
        b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n\
          Content-Length: 1000\r\n\r\ntoken=",
    );
    let (answer, closed) = until_closed(rd, Duration::from_secs(5)).await.expect("still reading the body after 5 s");
    writer.abort();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.to_ascii_lowercase().contains("connection: close"), "{answer}");
    let took = closed - started;
    assert!(took >= Duration::from_millis(450) && took < Duration::from_secs(3), "answered after {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_dropped_after_the_connection_lifetime() {
    let limits =
        Limits { lifetime: Duration::from_secs(1), header_read: Duration::from_millis(500), ..modelwatch::web::LIMITS };
    let (_mw, served) = served(limits).await;
    let mut stream = TcpStream::connect(served.addr).await.unwrap();
    let started = Instant::now();
    // 20,000 pipelined requests, no response read: over 100 MB of answers,
    // far past the socket buffers, so the server's writes stall for good.
    let requests = b"GET /static/style.css HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".repeat(20_000);
    let _ = tokio::time::timeout(Duration::from_secs(2), stream.write_all(&requests)).await;
    let dropped = loop {
        let reset = match stream.try_write(b"x") {
            Err(e) => e.kind() != std::io::ErrorKind::WouldBlock,
            Ok(_) => false,
        };
        if reset || stream.take_error().unwrap().is_some() {
            break started.elapsed();
        }
        assert!(started.elapsed() < Duration::from_secs(6), "a client that reads nothing still holds its connection");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(dropped >= Duration::from_secs(1), "dropped after {dropped:?}, before its lifetime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_normal_client_is_answered_while_slow_connections_are_open() {
    let (_mw, served) = served(modelwatch::web::LIMITS).await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut s = TcpStream::connect(served.addr).await.unwrap();
        s.write_all(b"GET /changes HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
        slow.push(s);
    }
    let client = reqwest::Client::builder().timeout(Duration::from_secs(3)).build().unwrap();
    for path in ["/changes", "/sources", "/static/style.css"] {
        let res = client.get(format!("{}{path}", served.base)).send().await.unwrap();
        assert_eq!(res.status(), 200, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds() {
    let limits = Limits { max_connections: 4, header_read: Duration::from_secs(30), ..modelwatch::web::LIMITS };
    let (_mw, served) = served(limits).await;
    let mut slow = Vec::new();
    for _ in 0..4 {
        let mut s = TcpStream::connect(served.addr).await.unwrap();
        s.write_all(b"GET /changes HTTP/1.1\r\nHost: 127.0.0.1\r\n").await.unwrap();
        slow.push(s);
    }
    // The fifth connection waits in the backlog: its request is not read.
    let (mut rd, mut wr) = TcpStream::connect(served.addr).await.unwrap().into_split();
    wr.write_all(b"GET /static/style.css HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut first = [0u8; 1];
    let early = tokio::time::timeout(Duration::from_millis(700), rd.read(&mut first)).await;
    assert!(early.is_err(), "a fifth connection was served past a cap of four");
    // One slow client leaves: its slot goes to the fifth.
    drop(slow.pop());
    let (answer, _) = until_closed(rd, Duration::from_secs(5)).await.expect("the fifth connection is served");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// The brief's failure: the web view flooded with slow connections past the
/// file descriptors the daemon may open, and `/healthz` must still answer.
/// The daemon runs with `ulimit -n 200`, so its web view holds at most 50.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ops_endpoints_answer_while_the_web_view_is_flooded() {
    let config = TEST_CONFIG.replace("[web]\nlisten = \"\"", "[web]\nlisten = \"127.0.0.1:0\"");
    let mut mw = Mw::with_config(Backend::Sqlite, &config).await.unwrap();
    let ops_port = free_port();
    mw.env.push(("MODELWATCH_OPS__LISTEN".into(), format!("127.0.0.1:{ops_port}")));
    let run = mw.command(&["run"]);
    let mut cmd = std::process::Command::new("/bin/sh");
    cmd.arg("-c").arg("ulimit -n 200 && exec \"$@\"").arg("sh").arg(run.get_program()).args(run.get_args());
    cmd.env_clear().current_dir(mw.path()).stderr(Stdio::piped()).stdout(Stdio::null());
    for (k, v) in run.get_envs() {
        if let Some(v) = v {
            cmd.env(k, v);
        }
    }
    let mut child = cmd.spawn().unwrap();
    let rx = stderr_lines(&mut child);
    let mut seen = Vec::new();
    assert!(wait_for(&rx, &["Ops endpoints ready"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    assert!(wait_for(&rx, &["Web view ready"], &mut seen, Duration::from_secs(30)), "{}", seen.join("\n"));
    let web = seen
        .iter()
        .find_map(|l| l.split("address=").nth(1))
        .map(|a| a.split_whitespace().next().unwrap_or("").to_owned())
        .expect("the web view logs its address");

    // 300 slow clients at once. Past the cap and the kernel's backlog, a
    // connect waits for its SYN to be answered: each holds its stream in
    // its task, so none of them waits on another.
    let flood: Vec<_> = (0..300)
        .map(|_| {
            let web = web.clone();
            tokio::spawn(async move {
                let mut s = TcpStream::connect(&web).await.ok()?;
                s.write_all(b"GET /changes HTTP/1.1\r\n").await.ok()?;
                Some(s)
            })
        })
        .collect();
    // Time for the daemon to accept what it will.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let client = reqwest::Client::builder().timeout(Duration::from_secs(5)).build().unwrap();
    for path in ["/healthz", "/readyz"] {
        let res = client.get(format!("http://127.0.0.1:{ops_port}{path}")).send().await;
        let res = res.unwrap_or_else(|e| panic!("{path} did not answer during the flood: {e}"));
        assert_eq!(res.status(), 200, "{path}");
    }

    // The operator is told, naming the listener and its cap (a quarter of 200).
    let told =
        wait_for(&rx, &["Listener full", "listener=web", "max_connections=50"], &mut seen, Duration::from_secs(5));
    assert!(told, "{}", seen.join("\n"));

    // Shutdown is not held up by the flood past the header timeout.
    sigterm(&child);
    let code = tokio::task::spawn_blocking(move || wait_exit(&mut child, Duration::from_secs(25))).await.unwrap();
    assert_eq!(code, Some(0));
    flood.iter().for_each(tokio::task::JoinHandle::abort);
}
