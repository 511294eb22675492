//! A TCP listener on 127.0.0.1:0 that accepts and never says a word: an
//! HTTP check that begins and never ends, an SMTP server that never greets.

use std::net::SocketAddr;
use std::sync::mpsc;

/// Its address, and a channel told of each accepted connection (held open
/// for as long as the listener's thread runs, i.e. the test).
pub fn silent_listener() -> (SocketAddr, mpsc::Receiver<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().map_while(Result::ok) {
            held.push(conn);
            if tx.send(()).is_err() {
                break;
            }
        }
    });
    (addr, rx)
}
