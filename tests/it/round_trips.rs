//! A statement's round trip to the database costs what the server takes,
//! not a TCP timer.
//!
//! sqlx 0.9.0 left Nagle's algorithm on for its TCP sockets: a message
//! larger than a loopback segment (a page's text, its compressed body)
//! waited for the server's delayed ACK, 40 ms a time. On PostgreSQL that
//! made every check record cost about 44 ms, serialized in the writer: the
//! 2,000-page benchmark's cold sweep took 89 s against SQLite's 11 s
//! (sqlx issue 4335, fixed in 0.9.1). The stall is at least 40 ms a time
//! and hits every such record; a record without it takes a few
//! milliseconds. Load only ever adds time, so the fastest of a run of
//! records tells them apart with a wide margin, whatever else the machine
//! is doing.

use std::time::{Duration, Instant};

use chrono::Utc;
use modelwatch::store::Store;

use crate::both_backends;
use crate::support::records::{ok_record, page_source};
use crate::support::{Backend, TestDb, init_crypto};

/// Text that compresses poorly (as a page body's zstd frame does not
/// shrink to nothing), `len` bytes long.
fn noisy_text(seed: u64, len: usize) -> String {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut s = String::with_capacity(len);
    while s.len() < len {
        x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        s.push(char::from(b'a' + u8::try_from((x >> 33) % 26).unwrap()));
    }
    s
}

async fn large_records_do_not_stall(backend: Backend) {
    init_crypto();
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDb::create(backend, dir.path()).await else { return };
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    let now = Utc::now();
    let mut took = Vec::new();
    for i in 0..25u64 {
        let source = store.add_source(&page_source(usize::try_from(i).unwrap()), now).await.unwrap();
        // Distinct lengths: the test records key blobs by length.
        let body = noisy_text(i, 120_000 + usize::try_from(i).unwrap());
        let started = Instant::now();
        store.record_check(ok_record(source.id, now, &body)).await.unwrap();
        took.push(started.elapsed());
    }
    let fastest = took.iter().min().copied().unwrap_or_default();
    assert!(
        fastest < Duration::from_millis(30),
        "the fastest of {} 120 KB check records took {fastest:?}: a TCP stall (Nagle + delayed ACK) is back",
        took.len()
    );
}

both_backends!(large_records_on, large_records_do_not_stall);
