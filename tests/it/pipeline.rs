//! One page, end to end: init → add → check (baseline) → edit → check
//! (one change with the edit) → check (304, nothing new).
#![allow(clippy::unwrap_used)]

use crate::both_backends;
use crate::support::{Backend, Mw, Page, TestServer};

const V1: &str = r#"<html><head><title>商汤发布日日新大模型</title></head><body>
<nav><a href="/">首页</a> <a href="/news">新闻</a></nav>
<article><h1>商汤发布日日新大模型</h1>
<p>4月10日，商汤科技发布“日日新SenseNova”大模型体系，并推出对话机器人“商量SenseChat”。</p>
<p>商量基于千亿参数的自然语言处理模型，具备多轮对话和超长文本理解能力。</p>
</article><footer>版权所有</footer></body></html>"#;

async fn page_end_to_end(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/news/1.html", Page::html(V1));
    mw.init().await;
    let id = mw.add(&server.url("/news/1.html"), &["--tag", "业界大模型"]).await;

    let first = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(first[0]["outcome"], "baseline", "{first}");
    assert!(mw.changes(None).await.is_empty(), "the first check records no change");

    server.set("/news/1.html", Page::html(V1.replace("千亿参数", "1800亿参数")));
    let second = mw.run_async(&["check", &id.to_string()]).await.ok();
    assert!(second.stdout.contains("changed"), "{}", second.stdout);
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let c = &changes[0];
    for field in ["id", "source_id", "url", "kind", "detected_at", "summary", "added", "removed", "excerpt"] {
        assert!(c.get(field).is_some(), "changes JSON lacks {field}: {c}");
    }
    assert_eq!(c["kind"], "content");
    assert_eq!(c["source_id"], id);
    let excerpt = c["excerpt"].as_str().unwrap();
    assert!(excerpt.contains("1800"), "the excerpt shows the edit: {excerpt}");
    assert!(!excerpt.contains("首页"), "navigation is not content: {excerpt}");
    chrono::DateTime::parse_from_rfc3339(c["detected_at"].as_str().unwrap()).expect("RFC 3339 detected_at");

    let third = mw.run_async(&["check", "--format", "json"]).await.ok().json();
    assert_eq!(third[0]["outcome"], "not_modified", "{third}");
    assert_eq!(mw.changes(None).await.len(), 1, "no new change after an unchanged check");
    let last = server.seen_path("/news/1.html").last().cloned().unwrap();
    assert_eq!(last.status, 304, "the third fetch was conditional and answered 304");
    assert!(last.headers.contains_key("if-none-match"));

    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    let s = &list[0];
    for field in [
        "id",
        "url",
        "final_url",
        "kind",
        "title",
        "tags",
        "status",
        "last_error_kind",
        "last_checked_at",
        "next_check_at",
    ] {
        assert!(s.get(field).is_some(), "sources list JSON lacks {field}: {s}");
    }
    assert_eq!(s["status"], "ok");
    assert_eq!(s["kind"], "page");
    assert_eq!(s["title"], "商汤发布日日新大模型");
    assert_eq!(s["tags"], serde_json::json!(["业界大模型"]));
}

both_backends!(page_end_to_end_on, page_end_to_end);

async fn page_flipping_back_is_reported_once(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    let a = "<html><body><article><p>今日推荐：文心一言插件上线。</p><p>正文不变的部分。</p></article></body></html>";
    let b = "<html><body><article><p>今日推荐：通义千问开放API。</p><p>正文不变的部分。</p></article></body></html>";
    server.set("/rot", Page::html(a));
    mw.init().await;
    let id = mw.add(&server.url("/rot"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(b));
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(a));
    mw.run_async(&["check"]).await.ok();
    server.set("/rot", Page::html(b));
    mw.run_async(&["check"]).await.ok();
    assert_eq!(mw.changes(Some(id)).await.len(), 1, "A→B→A→B is one change");
}

both_backends!(page_flip_on, page_flipping_back_is_reported_once);

async fn removed_source_keeps_history_unless_purged(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/p", Page::html("<html><body><p>版本一</p></body></html>"));
    mw.init().await;
    let id = mw.add(&server.url("/p"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/p", Page::html("<html><body><p>版本二</p></body></html>"));
    mw.run_async(&["check"]).await.ok();
    mw.run_async(&["sources", "remove", &id.to_string()]).await.ok();
    let list = mw.run_async(&["sources", "list", "--format", "json"]).await.ok().json();
    assert_eq!(list.as_array().map(Vec::len), Some(0));
    assert_eq!(mw.changes(None).await.len(), 1, "history is kept after remove");
    // Watching it again brings the history back; purge deletes it.
    let again = mw.add(&server.url("/p"), &[]).await;
    assert_eq!(again, id);
    mw.run_async(&["sources", "remove", &id.to_string(), "--purge"]).await.ok();
    assert!(mw.changes(None).await.is_empty(), "purge deletes the history");
}

both_backends!(remove_on, removed_source_keeps_history_unless_purged);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_shows_text_noise_and_diff_and_writes_nothing() {
    let mw = Mw::new(Backend::Sqlite).await.unwrap();
    let server = TestServer::start().await;
    let page = |figure: &str| {
        format!(
            "<html><body><article><h1>星火大模型升级</h1><p>科大讯飞发布星火认知大模型V2.0，参数规模{figure}。</p>\
             <p>阅读 10万+</p><p>3小时前</p></article></body></html>"
        )
    };
    server.set("/spark", Page::html(page("千亿级")));
    mw.init().await;
    let id = mw.add(&server.url("/spark"), &[]).await;
    mw.run_async(&["check"]).await.ok();
    server.set("/spark", Page::html(page("1750亿")));
    let before = mw.source(id).await;
    let dry = mw.run_async(&["check", &id.to_string(), "--dry-run"]).await.ok();
    assert!(dry.stdout.contains("--- extracted text ---"), "{}", dry.stdout);
    assert!(dry.stdout.contains("科大讯飞发布星火认知大模型V2.0"), "{}", dry.stdout);
    assert!(
        dry.stdout.contains("--- removed by noise rules ---") && dry.stdout.contains("阅读10万+"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.contains("1750亿"), "the diff against the stored snapshot: {}", dry.stdout);
    assert!(mw.changes(None).await.is_empty(), "a dry run records nothing");
    assert_eq!(mw.source(id).await["last_checked_at"], before["last_checked_at"], "a dry run writes nothing");
}

/// A check gives its working slot back as soon as its record is queued for
/// the writer: waiting for the batch's commit is the database's time, and a
/// slot held through it sat idle (most of an unchanged sweep on
/// PostgreSQL, issue 12). The record keeps a place among those awaiting
/// their commit until it is committed, and is recorded whole.
async fn a_check_gives_its_slot_back_once_its_record_is_queued(backend: Backend) {
    use std::sync::Arc;
    use std::time::Duration;

    use modelwatch::app::Parts;
    use modelwatch::runner::{CheckMode, Outcome, Runner, Slot};
    use modelwatch::source::SourceRef;
    use modelwatch::types::SourceId;
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use tokio::sync::Semaphore;

    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    server.set("/news/1.html", Page::html(V1));
    mw.init().await;
    let id = mw.add(&server.url("/news/1.html"), &[]).await;
    let config = mw.load_config();
    let parts = Parts::from_config(&config).await.unwrap();
    let runner = Runner::new(parts.store, parts.fetcher, Arc::new(config), parts.clock);
    let source = runner.store.get_source(&SourceRef::Id(SourceId(id))).await.unwrap();

    // Another connection holds the writes the record needs: the writer's
    // batch waits for it (SQLite: the write lock; PostgreSQL: the checks
    // table, which only the record writes).
    let other = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    let immediate = sea_orm::TransactionOptions {
        sqlite_transaction_mode: Some(sea_orm::SqliteTransactionMode::Immediate),
        ..Default::default()
    };
    let blocker = other.begin_with_options(immediate).await.unwrap();
    if backend == Backend::Postgres {
        blocker.execute_unprepared("LOCK TABLE checks IN EXCLUSIVE MODE").await.unwrap();
    }

    let (working, awaiting) = (Arc::new(Semaphore::new(1)), Arc::new(Semaphore::new(1)));
    let slot = Slot::new(working.clone().acquire_owned().await.unwrap(), awaiting.clone());
    let check = tokio::spawn({
        let runner = runner.clone();
        async move { runner.check_in(source, &CheckMode::default(), Some(slot)).await }
    });
    let back = tokio::time::timeout(Duration::from_secs(30), working.acquire()).await;
    let queued_not_committed = !check.is_finished() && awaiting.available_permits() == 0;
    blocker.rollback().await.unwrap();
    assert!(back.is_ok(), "the working slot came back while the record waited for its commit");
    assert!(queued_not_committed, "the record awaited its commit in its place meanwhile");

    let report = check.await.unwrap();
    assert_eq!(report.outcome, Outcome::Baseline, "{report:?}");
    assert_eq!(report.record_error, None);
    assert_eq!(awaiting.available_permits(), 1, "the place is given back with the commit");
    let stored = runner.store.get_source(&SourceRef::Id(SourceId(id))).await.unwrap();
    assert!(stored.last_snapshot_id.is_some(), "the check is recorded");
    other.close().await.unwrap();
}

both_backends!(slot_back_once_queued_on, a_check_gives_its_slot_back_once_its_record_is_queued);

/// The daemon's pipeline claims again as soon as checks give their slots
/// back, not only when their tasks end: a task ends with its batch's
/// commit, and waiting for that left the freed slots idle for as long as
/// the database took to commit (PostgreSQL, issue 12). With the checks
/// table locked no record can be committed: two slots, so two checks run,
/// queue their records and give their slots back, and two more are
/// claimed and fetched while the first two wait. PostgreSQL only: on
/// SQLite the writer's waiting transaction holds the one connection, and
/// the claims wait for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pipeline_claims_into_slots_given_back_before_the_commit() {
    use std::sync::Arc;
    use std::time::Duration;

    use modelwatch::app::Parts;
    use modelwatch::runner::Runner;
    use modelwatch::source::SourceRef;
    use modelwatch::types::SourceId;
    use sea_orm::{ConnectionTrait, TransactionTrait};
    use tokio_util::sync::CancellationToken;

    if !crate::support::db::postgres_available() {
        eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
        return;
    }
    let config = crate::support::TEST_CONFIG.replace("[fetch]", "[fetch]\nconcurrency = 2");
    let mw = Mw::with_config(Backend::Postgres, &config).await.unwrap();
    let server = TestServer::start().await;
    mw.init().await;
    let mut ids = Vec::new();
    for n in 0..6 {
        server.set(&format!("/news/{n}.html"), Page::html(V1.replace("千亿参数", &format!("{n}千亿参数"))));
        ids.push(mw.add(&server.url(&format!("/news/{n}.html")), &[]).await);
    }
    let config = mw.load_config();
    let parts = Parts::from_config(&config).await.unwrap();
    let runner = Runner::new(parts.store, parts.fetcher, Arc::new(config), parts.clock);

    let other = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    let blocker = other.begin().await.unwrap();
    blocker.execute_unprepared("LOCK TABLE checks IN EXCLUSIVE MODE").await.unwrap();

    let cancel = CancellationToken::new();
    let (wake_tx, mut wake) = tokio::sync::mpsc::channel(1);
    let pipeline = tokio::spawn({
        let (runner, cancel) = (runner.clone(), cancel.clone());
        async move { runner.run_pipeline("test:1", &mut wake, &cancel, &|| {}).await }
    });
    let fetched = || server.seen().len();
    let four = tokio::time::timeout(Duration::from_secs(20), async {
        while fetched() < 4 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    let while_blocked = fetched();
    blocker.rollback().await.unwrap();
    assert!(four.is_ok(), "fetched {while_blocked} pages while the first records awaited their commit, not 4");

    // Once commits go through, every source is checked and recorded.
    let all = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            let mut done = 0;
            for id in &ids {
                let s = runner.store.get_source(&SourceRef::Id(SourceId(*id))).await.unwrap();
                done += usize::from(s.last_snapshot_id.is_some());
            }
            if done == ids.len() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    cancel.cancel();
    pipeline.await.unwrap();
    drop(wake_tx);
    assert!(all.is_ok(), "every source is recorded once the commits go through");
    assert_eq!(fetched(), ids.len(), "each source fetched once");
    other.close().await.unwrap();
}

/// The record writer gathers a batch while records keep coming (a cold
/// sweep's arrive every few milliseconds, issue 12), but no more than
/// `fetch.concurrency` of a runner's records can wait for their commit: a
/// batch that holds that many is written at once, not after the writer's
/// gap. (A batch of 64 waited out the gap on every 32 unchanged pages:
/// `check --all` of 2,000 unchanged pages took 0.50 s instead of 0.15.)
#[tokio::test]
async fn a_runners_batches_close_once_they_hold_every_record_that_can_wait() {
    use std::sync::Arc;

    use modelwatch::app::Parts;
    use modelwatch::runner::Runner;

    for (concurrency, batch) in [(3, 3), (32, 32), (500, 64)] {
        let config = crate::support::TEST_CONFIG.replace("[fetch]", &format!("[fetch]\nconcurrency = {concurrency}"));
        let Some(mw) = Mw::with_config(Backend::Sqlite, &config).await else { return };
        mw.init().await;
        let config = mw.load_config();
        let parts = Parts::from_config(&config).await.unwrap();
        let runner = Runner::new(parts.store, parts.fetcher, Arc::new(config), parts.clock);
        assert_eq!(runner.writer.max_batch(), batch, "fetch.concurrency = {concurrency}");
    }
}

/// The daemon's pipeline claims ahead of its free slots: while every slot's
/// check still runs, the next claim has been made and its sources wait for
/// a slot (PostgreSQL: a claim's round trip no longer stands between a
/// freed slot and its next check, issue 12). Only a few ahead (`refill`,
/// here 1 with 2 slots), their leases renewed with the running checks' and
/// released at shutdown, unstarted.
async fn the_pipeline_claims_ahead_while_checks_run(backend: Backend) {
    use std::sync::Arc;
    use std::time::Duration;

    use modelwatch::app::Parts;
    use modelwatch::runner::Runner;
    use sea_orm::{ConnectionTrait, Statement};
    use tokio_util::sync::CancellationToken;

    let config = crate::support::TEST_CONFIG
        .replace("[fetch]", "[fetch]\nconcurrency = 2")
        .replace("timeout = \"5s\"", "timeout = \"4s\"")
        .replace("[schedule]", "[schedule]\nlease = \"3s\"");
    assert!(config.contains("lease = \"3s\""), "the test config has a [schedule] table");
    let Some(mw) = Mw::with_config(backend, &config).await else { return };
    mw.init().await;
    // A server that accepts and never answers: each check holds its slot
    // until the fetch times out.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stalled = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    for n in 0..5 {
        mw.add(&format!("http://{addr}/news/{n}.html"), &[]).await;
    }
    let config = mw.load_config();
    let parts = Parts::from_config(&config).await.unwrap();
    let runner = Runner::new(parts.store, parts.fetcher, Arc::new(config), parts.clock);

    let db = sea_orm::Database::connect(&mw.db.url).await.unwrap();
    let leases = || async {
        let sql = "SELECT CAST(id AS BIGINT) AS id, CAST(lease_until AS TEXT) AS until FROM sources \
                   WHERE lease_owner = 'test:1' ORDER BY id";
        let rows = db.query_all_raw(Statement::from_string(db.get_database_backend(), sql)).await.unwrap();
        rows.iter()
            .map(|r| (r.try_get::<i64>("", "id").unwrap(), r.try_get::<String>("", "until").unwrap()))
            .collect::<Vec<_>>()
    };

    let cancel = CancellationToken::new();
    let (wake_tx, mut wake) = tokio::sync::mpsc::channel(1);
    let pipeline = tokio::spawn({
        let (runner, cancel) = (runner.clone(), cancel.clone());
        async move { runner.run_pipeline("test:1", &mut wake, &cancel, &|| {}).await }
    });
    // Two checks run (stalled), and one more source is claimed behind them.
    let claimed = tokio::time::timeout(Duration::from_secs(3), async {
        loop {
            let now = leases().await;
            if now.len() >= 3 {
                return now;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await;
    let Ok(claimed) = claimed else {
        cancel.cancel();
        panic!("no source was claimed ahead of the 2 running checks: {:?}", leases().await);
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(leases().await.len(), 3, "2 running and 1 ahead, no more");

    // Renewed (every second with a 3 s lease), the waiting one too.
    let renewed = tokio::time::timeout(Duration::from_millis(2500), async {
        loop {
            let now = leases().await;
            let ids: Vec<i64> = now.iter().map(|l| l.0).collect();
            let same_ids = ids == claimed.iter().map(|l| l.0).collect::<Vec<_>>();
            if same_ids && now.iter().zip(&claimed).all(|(a, b)| a.1 != b.1) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    let before_release = leases().await;

    cancel.cancel();
    tokio::time::timeout(Duration::from_secs(15), pipeline).await.unwrap().unwrap();
    drop(wake_tx);
    assert!(renewed.is_ok(), "every lease renewed while the checks ran: {claimed:?} → {before_release:?}");
    assert!(leases().await.is_empty(), "released at shutdown");
    let checked = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(COUNT(*) AS BIGINT) AS n FROM sources WHERE last_checked_at IS NOT NULL",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    assert_eq!(checked, 2, "the running checks are recorded, the one waiting is not started");
    stalled.abort();
    db.close().await.unwrap();
}

both_backends!(claims_ahead_on, the_pipeline_claims_ahead_while_checks_run);
