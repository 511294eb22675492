//! The digest period is a cursor over changes (issue 13, item 4): every
//! change committed before a digest is built is in it, none is in two, across
//! restarts (each CLI call is a process), both backends and two instances.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::Utc;
use modelwatch::change::ChangeStats;
use modelwatch::clock::ManualClock;
use modelwatch::digest::outbox::{Audience, RetryPolicy};
use modelwatch::digest::{BuildOptions, DigestSettings, Language, Templates};
use modelwatch::jobs::digest::{self as job, RunReport};
use modelwatch::source::{SourceOptions, normalize_url};
use modelwatch::store::Store;
use modelwatch::store::record::NewChange;
use modelwatch::store::sources::NewSource;
use modelwatch::types::{ChangeKind, SourceId, SourceKind};
use sea_orm::{ConnectionTrait, Database, Statement, TransactionTrait};

use super::send::{V1, config, digest_run_at};
use super::smtp::{self, SmtpServer};
use crate::both_backends;
use crate::support::records::{after_snapshot, ok_record, with_change};
use crate::support::{Backend, Mw, Page, TestDb, TestServer, init_crypto};

/// Issue 13: "`digest send` right after `check` omits that check's changes".
async fn send_right_after_a_check_includes_its_changes(backend: Backend) {
    if !smtp::available("send_right_after_a_check_includes_its_changes") {
        return;
    }
    let smtp = SmtpServer::start();
    let Some(mw) = Mw::with_config(backend, &config(smtp.port, r#"["team@example.com"]"#, "")).await else {
        return;
    };
    let server = TestServer::start().await;
    server.set("/news/wenxin.html", Page::html(V1));
    mw.init().await;
    mw.add(&server.url("/news/wenxin.html"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/news/wenxin.html", Page::html(V1.replace("千亿级", "2600亿")));
    mw.run_async(&["check"]).await.ok();

    // No backdating: the check's change is seconds old.
    let sent = mw.run_async(&["digest", "send"]).await.ok();
    assert!(sent.stderr.contains("Sent the digest"), "{}", sent.stderr);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].part("text/plain").contains("2600亿"), "{}", got[0].part("text/plain"));
    let first = &mw.run_async(&["digest", "list", "--format", "json"]).await.ok().json()[0];
    assert_eq!(first["seq_through"].as_i64(), Some(1), "{first}");

    // Another edit; "tomorrow" the next digest has it, and not the first one.
    server.set("/news/wenxin.html", Page::html(V1.replace("千亿级", "2600亿").replace("3月16日", "3月17日")));
    mw.run_async(&["check"]).await.ok();
    let tomorrow = ManualClock::new(Utc::now() + chrono::Duration::days(1));
    let report = digest_run_at(&mw, tomorrow.as_ref()).await;
    assert_eq!(report.sent.len(), 1, "{report:?}");
    let got = smtp.received();
    assert_eq!(got.len(), 2);
    let text = got[1].part("text/plain");
    assert!(text.contains("3月[-16-]{+17+}日"), "{text}");
    assert!(text.contains("本期共 1 处变更"), "the first change is not reported twice:\n{text}");
    let list = mw.run_async(&["digest", "list", "--format", "json"]).await.ok().json();
    assert_eq!((list[0]["seq_after"].as_i64(), list[0]["seq_through"].as_i64()), (Some(1), Some(2)), "{list}");
}

both_backends!(send_right_after_a_check_includes_its_changes_on, send_right_after_a_check_includes_its_changes);

async fn open(backend: Backend) -> Option<(tempfile::TempDir, TestDb, Store)> {
    init_crypto();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(backend, dir.path()).await?;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    Some((dir, db, store))
}

async fn add_source(store: &Store, n: usize) -> SourceId {
    let new = NewSource {
        url: normalize_url(&format!("https://www.qbitai.com/2023/04/{n}.html")).unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    store.add_source(&new, Utc::now()).await.unwrap().id
}

fn content_change(text: &str) -> NewChange {
    NewChange {
        kind: ChangeKind::Content,
        summary: "1 paragraph changed".into(),
        stats: ChangeStats { added: 0, removed: 0, modified: 1, ratio: 0.1 },
        catalog_hits: 0,
        excerpt: format!("~ {text}"),
        details: serde_json::json!({}),
        from_snapshot_id: None,
    }
}

/// PostgreSQL hands out ids at insert, not at commit. A change whose
/// transaction is still open while a later one commits must not be stepped
/// over by a digest built in between.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_still_committing_is_not_skipped_on_postgres() {
    if !crate::support::db::postgres_available() {
        eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
        return;
    }
    let Some((_dir, db, store)) = open(Backend::Postgres).await else { return };
    let source = add_source(&store, 1).await;
    let base = store.record_check(ok_record(source, Utc::now(), "v0")).await.unwrap();
    let other = add_source(&store, 2).await;
    let other_base = store.record_check(ok_record(other, Utc::now(), "w0")).await.unwrap();

    // Transaction A takes its sequence number and writes its change, then waits.
    let conn = Database::connect(&db.url).await.unwrap();
    let a = conn.begin().await.unwrap();
    let seq_a = modelwatch::store::change_seq::reserve_seq(&a, 1).await.unwrap();
    a.execute_raw(Statement::from_sql_and_values(
        sea_orm::DatabaseBackend::Postgres,
        "INSERT INTO changes (source_id, detected_at, kind, summary, added, removed, modified, ratio, excerpt, details, seq) \
         VALUES ($1, $2, 'content', 'a', 0, 0, 1, 0.1, '~ a', '{}', $3)",
        [source.0.into(), Utc::now().into(), seq_a.into()],
    ))
    .await
    .unwrap();

    // Check B of another source, with a change, starts meanwhile.
    let b_store = store.clone();
    let mut b = tokio::spawn(async move {
        let rec = after_snapshot(
            with_change(ok_record(other, Utc::now(), "w1"), content_change("b")),
            other_base.snapshot_id,
        );
        b_store.record_check(rec).await.unwrap()
    });
    // B waits for A's number to be committed (bounded look, not a sleep).
    assert!(tokio::time::timeout(Duration::from_millis(500), &mut b).await.is_err(), "B must wait for A");

    // A digest built now covers neither.
    let tz = chrono_tz::UTC;
    let now = Utc::now();
    let period = job::current_period(&store, now, tz).await.unwrap();
    assert_eq!(period.cursor.unwrap().through, seq_a - 1);

    a.commit().await.unwrap();
    let b = b.await.unwrap();
    let rows = store.list_changes(&Default::default()).await.unwrap();
    let seq_b = rows.iter().find(|r| r.id == b.change_ids[0]).unwrap().seq.unwrap();
    assert_eq!(seq_b, seq_a + 1, "sequence in commit order");
    let through = store.max_committed_change_seq().await.unwrap();
    assert_eq!(through, seq_b);
    let _ = base;
}

fn settings() -> DigestSettings {
    DigestSettings {
        from: "modelwatch <digest@example.com>".into(),
        audiences: vec![Audience { key: "all".into(), tags: vec![], recipients: vec!["team@example.com".into()] }],
        language: Language::Zh,
        timezone: chrono_tz::UTC,
        templates: Arc::new(Templates::builtin()),
        build: BuildOptions::default(),
        retry: RetryPolicy::default(),
        send_empty: false,
    }
}

/// Two instances build digests while checks commit changes: every change is
/// in exactly one stored digest.
async fn two_instances_cover_every_change_once(backend: Backend) {
    let Some((_dir, db, store_a)) = open(backend).await else { return };
    let store_b = Store::connect(&db.url, 4).await.unwrap();
    let mut sources = Vec::new();
    for n in 0..3 {
        let id = add_source(&store_a, n).await;
        let base = store_a.record_check(ok_record(id, Utc::now(), &format!("s{n}"))).await.unwrap();
        sources.push((id, base.snapshot_id));
    }
    let writing = Arc::new(AtomicBool::new(true));
    let mut writers = Vec::new();
    for (w, (id, first)) in sources.into_iter().enumerate() {
        let store = if w % 2 == 0 { store_a.clone() } else { store_b.clone() };
        writers.push(tokio::spawn(async move {
            let mut current = first;
            for i in 0..12 {
                let body = format!("s{w}-v{i}{}", "x".repeat(w * 40 + i));
                let rec = after_snapshot(with_change(ok_record(id, Utc::now(), &body), content_change(&body)), current);
                current = store.record_check(rec).await.unwrap().snapshot_id;
            }
        }));
    }
    let start = Utc::now();
    let mut round = 0;
    let mut covered: Vec<i64> = Vec::new();
    loop {
        let done = !writing.load(Ordering::SeqCst);
        // Both instances build the same period (same day, same key) at once.
        let now = start + chrono::Duration::days(round);
        let (a, b) = tokio::join!(build(&store_a, now), build(&store_b, now));
        let winners: Vec<_> = [a, b].into_iter().filter(|(report, _)| !report.built.is_empty()).collect();
        assert!(winners.len() <= 1, "round {round}: two instances built the same period");
        covered.extend(winners.into_iter().flat_map(|(_, ids)| ids));
        round += 1;
        if done {
            break;
        }
        if writers.iter().all(|w| w.is_finished()) {
            writing.store(false, Ordering::SeqCst);
        }
    }
    let all: HashSet<i64> = store_a.list_changes(&Default::default()).await.unwrap().iter().map(|c| c.id).collect();
    let unique: HashSet<i64> = covered.iter().copied().collect();
    assert_eq!(unique.len(), covered.len(), "a change was in two digests");
    assert_eq!(unique, all, "every change is in one digest ({round} rounds)");
    assert_eq!(all.len(), 36);
}

/// One instance's digest run at `now`: the changes it read, and what it did.
async fn build(store: &Store, now: chrono::DateTime<Utc>) -> (RunReport, Vec<i64>) {
    let settings = settings();
    let period = job::current_period(store, now, settings.timezone).await.unwrap();
    let inputs = modelwatch::store::digest::load_inputs(store, &period).await.unwrap();
    let ids = inputs.changes.iter().map(|c| c.id).collect();
    let mut report = RunReport::default();
    job::enqueue(store, &settings, &period, &inputs, now, &mut report).await.unwrap();
    (report, ids)
}

both_backends!(two_instances_cover_every_change_once_on, two_instances_cover_every_change_once);
