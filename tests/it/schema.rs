//! Migrations are reversible on both backends; leases never hand one source
//! to two claimers.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use modelwatch::change::ChangeStats;
use modelwatch::source::{SourceOptions, normalize_url};
use modelwatch::store::Store;
use modelwatch::store::sources::NewSource;
use modelwatch::types::SourceKind;

use crate::both_backends;
use crate::support::records::{
    after_snapshot, ok_record, page_source, raw_hash, unchanged_record, with_change, with_metrics,
};
use crate::support::{Backend, TestDb, init_crypto};

async fn open(backend: Backend) -> Option<(tempfile::TempDir, TestDb, Store)> {
    init_crypto();
    let dir = tempfile::tempdir().unwrap();
    let db = TestDb::create(backend, dir.path()).await?;
    let store = Store::connect(&db.url, 4).await.unwrap();
    Some((dir, db, store))
}

async fn up_down_up(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());
    store.migrate_down_all().await.unwrap();
    assert!(!store.pending_migrations().await.unwrap().is_empty());
    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());
    // The schema works after the round trip.
    let new = NewSource {
        url: normalize_url("https://www.qbitai.com/2023/04/43517.html").unwrap(),
        kind: SourceKind::Page,
        title: Some("阿里版ChatGPT突然上线邀测".into()),
        tags: vec!["业界大模型".into()],
        schedule: None,
        options: SourceOptions::default(),
    };
    let s = store.add_source(&new, Utc::now()).await.unwrap();
    assert_eq!(s.title.as_deref(), Some("阿里版ChatGPT突然上线邀测"));
}

both_backends!(migrations_up_down_up_on, up_down_up);

async fn leases_are_exclusive(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    for i in 0..20 {
        let new = NewSource {
            url: normalize_url(&format!("https://example.com/{i}")).unwrap(),
            kind: SourceKind::Page,
            title: None,
            tags: vec![],
            schedule: None,
            options: SourceOptions::default(),
        };
        store.add_source(&new, now).await.unwrap();
    }
    let later = now + chrono::Duration::seconds(1);
    let lease = Duration::from_secs(600);
    let (a, b) = tokio::join!(store.claim_due(later, "a", lease, 12), store.claim_due(later, "b", lease, 12));
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 20, "every due source is claimed once: {} + {}", a.len(), b.len());
    assert!(a.iter().all(|s| b.iter().all(|t| t.id != s.id)), "no source is claimed twice");
    // Nothing is left; once the leases lapse, the sources are due again.
    assert!(store.claim_due(later, "c", lease, 50).await.unwrap().is_empty());
    let after_lease = later + chrono::Duration::seconds(601);
    assert_eq!(store.claim_due(after_lease, "c", lease, 50).await.unwrap().len(), 20);
}

both_backends!(leases_on, leases_are_exclusive);

async fn pruning_keeps_the_last_good_copy(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let t0 = Utc::now() - chrono::Duration::days(200);
    let new = NewSource {
        url: normalize_url("https://baijiahao.baidu.com/s?id=1762619118352444565").unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    let source = store.add_source(&new, t0).await.unwrap();
    let old = store.record_check(ok_record(source.id, t0, "旧版本正文")).await.unwrap();
    let last = store
        .record_check(after_snapshot(
            ok_record(source.id, t0 + chrono::Duration::days(1), "最后一个好版本的正文"),
            old.snapshot_id,
        ))
        .await
        .unwrap();
    let cutoff = Utc::now() - chrono::Duration::days(90);
    let pruned = store.prune(cutoff, cutoff).await.unwrap();
    assert_eq!(pruned.raw_bodies, 1, "the older body goes");
    assert_eq!(pruned.checks, 2);
    let kept = store.get_snapshot(last.snapshot_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(kept.text, "最后一个好版本的正文");
    let body = store.raw_body(&raw_hash("最后一个好版本的正文")).await.unwrap();
    assert_eq!(body.as_deref(), Some("最后一个好版本的正文".as_bytes()), "the last good copy keeps its raw body");
    let old_snapshot = store.get_snapshot(old.snapshot_id.unwrap()).await.unwrap().unwrap();
    assert_eq!(old_snapshot.text, "旧版本正文", "normalised text is never pruned");
}

both_backends!(prune_on, pruning_keeps_the_last_good_copy);

async fn digest_reads_releases_and_metric_deltas(backend: Backend) {
    use modelwatch::digest::Period;
    use modelwatch::digest::inputs::RepoEventKind;
    use modelwatch::store::record::NewChange;
    use modelwatch::types::ChangeKind;
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    let day = chrono::Duration::days(1);
    let new = NewSource {
        url: normalize_url("https://github.com/tatsu-lab/stanford_alpaca").unwrap(),
        kind: SourceKind::Github,
        title: Some("stanford_alpaca".into()),
        tags: vec!["开源资源".into()],
        schedule: None,
        options: SourceOptions::default(),
    };
    let source = store.add_source(&new, now - day * 10).await.unwrap();
    let before = with_metrics(ok_record(source.id, now - day * 8, "v1"), &[("stars", 29_000.0), ("forks", 4_000.0)]);
    let first = store.record_check(before).await.unwrap();
    let release = NewChange {
        kind: ChangeKind::Release,
        summary: "New release v2.0".into(),
        stats: ChangeStats { added: 0, removed: 0, modified: 0, ratio: 0.0 },
        catalog_hits: 0,
        excerpt: "New release v2.0".into(),
        details: serde_json::json!({"from": "v1.0", "release": {"tag": "v2.0", "url": "https://github.com/tatsu-lab/stanford_alpaca/releases/tag/v2.0"}}),
        from_snapshot_id: None,
    };
    let after = after_snapshot(
        with_change(
            with_metrics(ok_record(source.id, now - day, "v2"), &[("stars", 29_500.0), ("forks", 4_010.0)]),
            release,
        ),
        first.snapshot_id,
    );
    store.record_check(after).await.unwrap();

    // Changes are dated when written (now), metric points when observed.
    let period = Period::ending_at(Utc::now() + chrono::Duration::minutes(1), None, chrono_tz::UTC);
    let inputs = modelwatch::store::digest::load_inputs(&store, &period).await.unwrap();
    assert_eq!(inputs.repo_events.len(), 1, "{:?}", inputs.repo_events);
    assert_eq!(inputs.repo_events[0].kind, RepoEventKind::Release);
    assert_eq!(inputs.repo_events[0].detail, "v2.0");
    assert!(inputs.changes.is_empty(), "a release is not a content change");
    let stars = inputs.metrics.iter().find(|m| m.metric == "stars").expect("stars delta");
    assert_eq!((stars.before, stars.after), (Some(29_000), 29_500));
    assert_eq!(stars.subject, "tatsu-lab/stanford_alpaca");
}

both_backends!(digest_repos_on, digest_reads_releases_and_metric_deltas);

async fn a_concurrent_check_is_recorded_once(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    let new = NewSource {
        url: normalize_url("https://www.qbitai.com/2023/04/43615.html").unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    let source = store.add_source(&new, now).await.unwrap();
    let base = store.record_check(ok_record(source.id, now, "商量 v1")).await.unwrap();
    // Two checks started from the same snapshot (the CLI beside the daemon):
    // the first to commit wins, the second is dropped whole.
    let a = after_snapshot(ok_record(source.id, now, "商量 v2"), base.snapshot_id);
    let b = after_snapshot(ok_record(source.id, now, "商量 v2!"), base.snapshot_id);
    store.record_check(a).await.unwrap();
    let err = store.record_check(b).await.unwrap_err();
    assert!(matches!(err, modelwatch::store::StoreError::Superseded(_)), "{err}");
    let hashes = store.recent_snapshot_hashes(source.id, 10).await.unwrap();
    assert_eq!(hashes.len(), 2, "the dropped check left no snapshot behind");
}

both_backends!(concurrent_check_on, a_concurrent_check_is_recorded_once);

/// Many checks share a transaction through the record writer, and each
/// stays atomic: a superseded record in the middle of a batch rolls back
/// alone, the others are recorded whole.
async fn batched_records_stay_atomic(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 64);
    let mut sources = Vec::new();
    for n in 0..40 {
        sources.push(store.add_source(&page_source(n), now).await.unwrap());
    }
    let base = writer.record(ok_record(sources[0].id, now, "基线")).await.unwrap();
    // 40 records at once (one batch or a few): source 0's record was made
    // from a snapshot that is no longer current, so it is superseded.
    let stale = after_snapshot(ok_record(sources[0].id, now, "过时的检查"), None);
    let mut pending = vec![tokio::spawn({
        let writer = writer.clone();
        async move { writer.record(stale).await }
    })];
    for (n, s) in sources.iter().enumerate().skip(1) {
        let rec = ok_record(s.id, now, &format!("正文 {}", "字".repeat(n)));
        let writer = writer.clone();
        pending.push(tokio::spawn(async move { writer.record(rec).await }));
    }
    let mut results = Vec::new();
    for p in pending {
        results.push(p.await.unwrap());
    }
    let err = results[0].as_ref().unwrap_err();
    assert!(matches!(err, modelwatch::store::StoreError::Superseded(_)), "{err}");
    for (n, r) in results.iter().enumerate().skip(1) {
        let recorded = r.as_ref().unwrap_or_else(|e| panic!("record {n}: {e}"));
        assert!(recorded.snapshot_id.is_some());
        let s = store.get_source(&modelwatch::source::SourceRef::Id(sources[n].id)).await.unwrap();
        assert_eq!(s.last_snapshot_id, recorded.snapshot_id, "source {n} points at its new snapshot");
    }
    // One check row per recorded check (a batch inserts its check rows
    // together, at its end); the superseded record left none.
    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(&_db.url).await.unwrap();
    let rows = raw
        .query_all_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT source_id, COUNT(*) AS n FROM checks GROUP BY source_id ORDER BY source_id",
        ))
        .await
        .unwrap();
    let counts: Vec<(i64, i64)> =
        rows.iter().map(|r| (r.try_get::<i64>("", "source_id").unwrap(), r.try_get::<i64>("", "n").unwrap())).collect();
    let expected: Vec<(i64, i64)> = sources.iter().map(|s| (s.id.0, 1)).collect();
    assert_eq!(counts, expected, "source 0: its baseline check only; every other source: one");
    raw.close().await.unwrap();
    // The superseded record left nothing: one snapshot (the baseline) for source 0.
    let hashes = store.recent_snapshot_hashes(sources[0].id, 10).await.unwrap();
    assert_eq!(hashes.len(), 1, "{hashes:?}");
    assert_eq!(Some(hashes[0].0), base.snapshot_id);
    assert_eq!(store.snapshot_hash(hashes[0].0).await.unwrap(), Some(hashes[0].1.clone()));
}

both_backends!(batched_records_on, batched_records_stay_atomic);

/// The records of a batch that change only their source's row (an unchanged
/// page, a failed fetch) are written by one statement: each still gets its
/// own new state, a pause or a title already there wins, a stale record is
/// superseded alone, and a source with two records in the batch keeps their
/// order.
async fn unchanged_records_share_one_update(backend: Backend) {
    use modelwatch::source::SourceRef;
    use modelwatch::store::StoreError;
    use modelwatch::store::record::CheckOutcome;
    use modelwatch::types::{ErrorKind, SourceStatus};
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(2);
    let mut sources = Vec::new();
    let mut base = Vec::new();
    for n in 0..6 {
        let s = store.add_source(&page_source(n), t0).await.unwrap();
        let mut rec = ok_record(s.id, t0, &format!("基线 {}", "字".repeat(n + 1)));
        if n == 2 {
            rec.update.etag = Some(Some("\"e1\"".to_owned()));
            rec.update.title = Some("原标题".to_owned());
        }
        base.push(store.record_check(rec).await.unwrap().snapshot_id);
        sources.push(s);
    }
    let paused = store.get_source(&SourceRef::Id(sources[3].id)).await.unwrap();
    store.set_paused(&paused, true, t0).await.unwrap();
    let claimed = store.claim_due(t0 + chrono::Duration::hours(3), "w1", Duration::from_secs(600), 10).await.unwrap();
    assert!(claimed.iter().any(|s| s.id == sources[0].id), "source 0 is leased to w1");

    let t1 = Utc::now();
    let next = t1 + chrono::Duration::hours(1);
    let at = |n: usize| {
        let mut r = unchanged_record(sources[n].id, t1, base[n]);
        r.update.next_check_at = next;
        r
    };
    let mut r0 = at(0);
    r0.update.etag = Some(Some("\"e2\"".to_owned()));
    r0.update.title = Some("新标题".to_owned());
    r0.lease_owner = Some("w1".to_owned());
    let mut r1 = at(1);
    r1.outcome = CheckOutcome::Failing;
    r1.http_status = None;
    r1.error_kind = Some(ErrorKind::Timeout);
    r1.update.status = SourceStatus::Failing;
    r1.update.last_error_kind = Some(ErrorKind::Timeout);
    r1.update.last_error = Some("timed out after 30 s".to_owned());
    r1.update.consecutive_failures = 1;
    r1.update.succeeded = false;
    let mut r2 = at(2);
    r2.update.title = Some("不该替换".to_owned());
    r2.update.kind = Some(SourceKind::Feed);
    let r3 = at(3);
    let r4 = after_snapshot(at(4), None);
    let r5a = after_snapshot(ok_record(sources[5].id, t1, "新正文"), base[5]);
    let r5b = at(5);

    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 64);
    // Polled in order, so queued in order: one batch, or a few in this order.
    let results = futures::future::join_all([r0, r1, r2, r3, r4, r5a, r5b].into_iter().map(|r| {
        let writer = writer.clone();
        async move { writer.record(r).await }
    }))
    .await;
    for (n, result) in results.iter().enumerate().take(4) {
        let recorded = result.as_ref().unwrap_or_else(|e| panic!("record {n}: {e}"));
        assert_eq!(recorded.snapshot_id, None, "record {n}");
    }
    assert!(matches!(results[4], Err(StoreError::Superseded(_))), "{:?}", results[4]);
    assert!(results[5].as_ref().unwrap().snapshot_id.is_some());
    assert!(matches!(results[6], Err(StoreError::Superseded(_))), "{:?}", results[6]);

    let get = |n: usize| {
        let store = store.clone();
        let id = sources[n].id;
        async move { store.get_source(&SourceRef::Id(id)).await.unwrap() }
    };
    let close = |a: Option<chrono::DateTime<Utc>>, b: chrono::DateTime<Utc>| {
        a.is_some_and(|a| (a - b).num_milliseconds().abs() < 1000)
    };
    let s0 = get(0).await;
    assert_eq!(s0.etag.as_deref(), Some("\"e2\""));
    assert_eq!(s0.title.as_deref(), Some("新标题"), "a source with no title takes the page's");
    assert_eq!(s0.last_snapshot_id, base[0], "an unchanged page keeps its snapshot");
    assert_eq!(s0.status, SourceStatus::Ok);
    assert!(close(s0.last_checked_at, t1), "{:?}", s0.last_checked_at);
    assert!(close(Some(s0.next_check_at), next), "{:?}", s0.next_check_at);
    let s1 = get(1).await;
    assert_eq!(s1.status, SourceStatus::Failing);
    assert_eq!(s1.last_error_kind, Some(ErrorKind::Timeout));
    assert_eq!(s1.last_error.as_deref(), Some("timed out after 30 s"));
    assert_eq!(s1.consecutive_failures, 1);
    assert_eq!(s1.last_snapshot_id, base[1]);
    let s2 = get(2).await;
    assert_eq!(s2.etag.as_deref(), Some("\"e1\""), "no validator in the response keeps the stored one");
    assert_eq!(s2.title.as_deref(), Some("原标题"), "a title already there wins");
    assert_eq!(s2.kind, SourceKind::Feed);
    let s3 = get(3).await;
    assert_eq!(s3.status, SourceStatus::Paused, "a pause during the check wins");
    assert!(close(s3.last_checked_at, t1));
    let s4 = get(4).await;
    assert!(close(s4.last_checked_at, t0), "the superseded record wrote nothing: {:?}", s4.last_checked_at);
    let s5 = get(5).await;
    assert_eq!(s5.last_snapshot_id, results[5].as_ref().unwrap().snapshot_id);

    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(&db.url).await.unwrap();
    let rows = raw
        .query_all_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT s.id, s.lease_owner, (SELECT COUNT(*) FROM checks c WHERE c.source_id = s.id) AS n \
             FROM sources s ORDER BY s.id",
        ))
        .await
        .unwrap();
    let rows: Vec<(i64, Option<String>, i64)> = rows
        .iter()
        .map(|r| (r.try_get("", "id").unwrap(), r.try_get("", "lease_owner").unwrap(), r.try_get("", "n").unwrap()))
        .collect();
    let checks: Vec<i64> = rows.iter().map(|r| r.2).collect();
    assert_eq!(checks, [2, 2, 2, 2, 1, 2], "one check row per recorded check, none for a superseded one");
    assert_eq!(rows[0].1, None, "the check released its lease");
    raw.close().await.unwrap();
}

both_backends!(unchanged_records_on, unchanged_records_share_one_update);

/// Edited pages, a page back to an older version and a metric in one batch
/// (their snapshots, blobs, pointers and changes written a few statements
/// for all of them): each record keeps its own rows — its snapshot, its
/// source's pointer, its changes in order with consecutive sequence
/// numbers — a body two pages share is stored once, and a stale record
/// among them writes nothing.
async fn edited_pages_written_together_keep_their_rows(backend: Backend) {
    use modelwatch::source::SourceRef;
    use modelwatch::store::StoreError;
    use modelwatch::store::record::{NewChange, SnapshotPointer};
    use modelwatch::types::ChangeKind;
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let t0 = Utc::now() - chrono::Duration::hours(1);
    let mut sources = Vec::new();
    let mut base = Vec::new();
    for n in 0..5 {
        let s = store.add_source(&page_source(n), t0).await.unwrap();
        base.push(store.record_check(ok_record(s.id, t0, &format!("基线 {}", "字".repeat(n + 1)))).await.unwrap());
        sources.push(s);
    }
    // Source 1 has moved on to a second version; its check finds the first again.
    let second =
        store.record_check(after_snapshot(ok_record(sources[1].id, t0, "第二版"), base[1].snapshot_id)).await.unwrap();
    let change = |summary: &str, from: Option<i64>| NewChange {
        kind: ChangeKind::Content,
        summary: summary.into(),
        stats: ChangeStats { added: 1, removed: 0, modified: 0, ratio: 0.1 },
        catalog_hits: 2,
        excerpt: summary.into(),
        details: serde_json::json!({"title": summary}),
        from_snapshot_id: from,
    };
    let t1 = Utc::now();
    let shared_body = "两页同一正文";
    let r0 = with_change(
        with_change(after_snapshot(ok_record(sources[0].id, t1, shared_body), base[0].snapshot_id), {
            let mut status = change("状态", base[0].snapshot_id);
            status.kind = ChangeKind::Status;
            status
        }),
        change("零改了", base[0].snapshot_id),
    );
    let mut r1 = unchanged_record(sources[1].id, t1, second.snapshot_id);
    r1.pointer = SnapshotPointer::Existing(base[1].snapshot_id.unwrap());
    let r2 = after_snapshot(ok_record(sources[2].id, t1, "这一篇过时了"), None);
    let r3 = with_metrics(
        with_change(
            after_snapshot(ok_record(sources[3].id, t1, shared_body), base[3].snapshot_id),
            change("三改了", base[3].snapshot_id),
        ),
        &[("stars", 7.0)],
    );
    let r4 = with_change(
        after_snapshot(ok_record(sources[4].id, t1, "四改了"), base[4].snapshot_id),
        change("四改了", base[4].snapshot_id),
    );
    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 64);
    let results = futures::future::join_all([r0, r1, r2, r3, r4].into_iter().map(|r| {
        let writer = writer.clone();
        async move { writer.record(r).await }
    }))
    .await;
    assert!(matches!(results[2], Err(StoreError::Superseded(_))), "{:?}", results[2]);
    let ok = |n: usize| results[n].as_ref().unwrap_or_else(|e| panic!("record {n}: {e}"));
    assert_eq!(ok(0).change_ids.len(), 2);
    assert_eq!(ok(1).snapshot_id, None);
    assert_eq!(ok(3).change_ids.len(), 1);
    for n in [0, 3, 4] {
        let s = store.get_source(&SourceRef::Id(sources[n].id)).await.unwrap();
        assert!(ok(n).snapshot_id.is_some());
        assert_eq!(s.last_snapshot_id, ok(n).snapshot_id, "source {n} points at its new snapshot");
        assert_ne!(ok(n).snapshot_id, base[n].snapshot_id);
    }
    let s1 = store.get_source(&SourceRef::Id(sources[1].id)).await.unwrap();
    assert_eq!(s1.last_snapshot_id, base[1].snapshot_id, "the revert points at the older snapshot");
    let s2 = store.get_source(&SourceRef::Id(sources[2].id)).await.unwrap();
    assert_eq!(s2.last_snapshot_id, base[2].snapshot_id, "the stale record wrote nothing");
    assert_eq!(store.recent_snapshot_hashes(sources[2].id, 10).await.unwrap().len(), 1);
    assert_eq!(store.get_snapshot(ok(4).snapshot_id.unwrap()).await.unwrap().unwrap().text, "四改了");

    use sea_orm::ConnectionTrait;
    let raw = sea_orm::Database::connect(&db.url).await.unwrap();
    let rows = raw
        .query_all_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT id, source_id, kind, summary, from_snapshot_id, to_snapshot_id, seq FROM changes ORDER BY seq",
        ))
        .await
        .unwrap();
    /// id, source, kind, summary, from, to, seq.
    type ChangeRow = (i64, i64, String, String, Option<i64>, Option<i64>, i64);
    let changes: Vec<ChangeRow> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "id").unwrap(),
                r.try_get("", "source_id").unwrap(),
                r.try_get("", "kind").unwrap(),
                r.try_get("", "summary").unwrap(),
                r.try_get("", "from_snapshot_id").unwrap(),
                r.try_get("", "to_snapshot_id").unwrap(),
                r.try_get("", "seq").unwrap(),
            )
        })
        .collect();
    let summaries: Vec<&str> = changes.iter().map(|c| c.3.as_str()).collect();
    assert_eq!(summaries, ["状态", "零改了", "三改了", "四改了"], "in record order");
    let seqs: Vec<i64> = changes.iter().map(|c| c.6).collect();
    assert_eq!(seqs, (seqs[0]..seqs[0] + 4).collect::<Vec<_>>(), "consecutive sequence numbers");
    assert_eq!(changes[0].2, "status");
    assert_eq!(ok(0).change_ids, [changes[0].0, changes[1].0], "each record gets its own ids, in order");
    assert_eq!(ok(3).change_ids, [changes[2].0]);
    assert_eq!(ok(4).change_ids, [changes[3].0]);
    for (c, n) in changes.iter().zip([0, 0, 3, 4]) {
        assert_eq!(c.1, sources[n].id.0);
        assert_eq!((c.4, c.5), (base[n].snapshot_id, ok(n).snapshot_id), "{}", c.3);
    }
    let one = |sql: String| {
        let raw = raw.clone();
        async move {
            let row = raw
                .query_one_raw(sea_orm::Statement::from_string(raw.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap();
            row.try_get_by_index::<i64>(0).unwrap()
        }
    };
    assert_eq!(one(format!("SELECT COUNT(*) FROM blobs WHERE hash = '{}'", raw_hash(shared_body))).await, 1);
    let pointing = format!(
        "SELECT COUNT(*) FROM snapshots WHERE raw_hash = '{}' AND id IN ({}, {})",
        raw_hash(shared_body),
        ok(0).snapshot_id.unwrap(),
        ok(3).snapshot_id.unwrap()
    );
    assert_eq!(one(pointing).await, 2, "both snapshots refer to the one blob");
    let stars = format!("SELECT COUNT(*) FROM metrics WHERE source_id = {} AND metric = 'stars'", sources[3].id.0);
    assert_eq!(one(stars).await, 1);
    raw.close().await.unwrap();
}

both_backends!(edited_pages_together_on, edited_pages_written_together_keep_their_rows);

/// `check --all`, `sources list` and `doctor` walk the sources in pages;
/// every active source is seen once.
async fn sources_come_in_pages(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    for n in 0..25 {
        store.add_source(&page_source(n), now).await.unwrap();
    }
    let removed = store.add_source(&page_source(99), now).await.unwrap();
    store.remove_source(removed.id, false, now).await.unwrap();
    let pages: Vec<_> = futures::StreamExt::collect(store.source_pages(10)).await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.as_ref().map_or(0, Vec::len)).collect();
    assert_eq!(sizes, [10, 10, 5], "pages of at most 10, none empty");
    let seen: Vec<_> = pages.into_iter().flat_map(|p| p.unwrap()).map(|s| s.id).collect();
    assert_eq!(seen.len(), 25);
    assert!(seen.windows(2).all(|w| w[0].0 < w[1].0), "in id order, no repeats");
    assert!(!seen.contains(&removed.id));
}

both_backends!(sources_in_pages_on, sources_come_in_pages);

/// A long check keeps its source: its owner renews the lease, another
/// owner's renewal touches nothing.
async fn leases_are_renewed_by_their_owner(backend: Backend) {
    let Some((_dir, _db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    let s = store.add_source(&page_source(1), now).await.unwrap();
    let claimed = store.claim_due(now, "a", Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let later = now + chrono::Duration::minutes(5);
    assert_eq!(store.renew_leases("b", &[s.id], later).await.unwrap(), 0, "not b's lease");
    assert_eq!(store.renew_leases("a", &[s.id], later).await.unwrap(), 1);
    // Past the first lease, but within the renewed one: nobody else may claim it.
    let two_minutes = now + chrono::Duration::minutes(2);
    assert!(store.claim_due(two_minutes, "b", Duration::from_secs(60), 10).await.unwrap().is_empty());
    let six_minutes = now + chrono::Duration::minutes(6);
    assert_eq!(store.claim_due(six_minutes, "b", Duration::from_secs(60), 10).await.unwrap().len(), 1);
}

both_backends!(lease_renewal_on, leases_are_renewed_by_their_owner);

/// A record the database refuses (here: a trigger) fails alone; the other
/// records of its batch are written all the same.
async fn a_failing_record_does_not_sink_its_batch(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let raw = sea_orm::Database::connect(&db.url).await.unwrap();
    let triggers: &[&str] = match backend {
        Backend::Sqlite => &["CREATE TRIGGER poison BEFORE INSERT ON checks WHEN NEW.message = 'poison' \
                              BEGIN SELECT RAISE(ABORT, 'poisoned record'); END"],
        Backend::Postgres => &[
            "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN IF NEW.message = 'poison' THEN \
             RAISE EXCEPTION 'poisoned record'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql",
            "CREATE TRIGGER poison BEFORE INSERT ON checks FOR EACH ROW EXECUTE FUNCTION poison()",
        ],
    };
    for sql in triggers {
        raw.execute_unprepared(sql).await.unwrap();
    }
    let now = Utc::now();
    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 64);
    let mut sources = Vec::new();
    for n in 0..12 {
        sources.push(store.add_source(&page_source(n), now).await.unwrap());
    }
    let mut pending = Vec::new();
    for (n, s) in sources.iter().enumerate() {
        let mut rec = ok_record(s.id, now, &format!("正文 {}", "字".repeat(n + 1)));
        if n == 5 {
            rec.message = Some("poison".into());
        }
        let writer = writer.clone();
        pending.push(tokio::spawn(async move { writer.record(rec).await }));
    }
    for (n, p) in pending.into_iter().enumerate() {
        let result = p.await.unwrap();
        let s = store.get_source(&modelwatch::source::SourceRef::Id(sources[n].id)).await.unwrap();
        if n == 5 {
            let err = result.unwrap_err();
            assert!(err.to_string().contains("poisoned record"), "{err}");
            assert_eq!(s.last_snapshot_id, None, "nothing of the refused record stays");
            assert!(store.recent_snapshot_hashes(s.id, 10).await.unwrap().is_empty());
        } else {
            let recorded = result.unwrap_or_else(|e| panic!("record {n}: {e}"));
            assert_eq!(s.last_snapshot_id, recorded.snapshot_id, "record {n} was written");
        }
    }
}

both_backends!(failing_record_on, a_failing_record_does_not_sink_its_batch);

/// Stored JSON that does not parse is corrupt data, reported as such: not
/// read as "no metadata" (the next comparison would see every field as new),
/// "no details" or "no tags".
async fn corrupt_json_rows_are_errors_not_defaults(backend: Backend) {
    use modelwatch::store::StoreError;
    use modelwatch::store::changes::ChangeFilter;
    use modelwatch::store::record::NewChange;
    use modelwatch::types::ChangeKind;
    use sea_orm::{ConnectionTrait, Database};
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let now = Utc::now();
    let new = NewSource {
        url: normalize_url("https://www.qbitai.com/2025/07/glm-4-5.html").unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec!["模型发布".into()],
        schedule: None,
        options: SourceOptions::default(),
    };
    let source = store.add_source(&new, now).await.unwrap();
    let change = NewChange {
        kind: ChangeKind::Content,
        summary: "Text changed".into(),
        stats: ChangeStats { added: 1, removed: 0, modified: 0, ratio: 0.1 },
        catalog_hits: 0,
        excerpt: "{+GLM-4.5+}".into(),
        details: serde_json::json!({"title": "GLM-4.5"}),
        from_snapshot_id: None,
    };
    let recorded = store.record_check(with_change(ok_record(source.id, now, "正文"), change)).await.unwrap();
    let snapshot_id = recorded.snapshot_id.unwrap();
    assert!(store.get_snapshot(snapshot_id).await.unwrap().is_some());
    assert_eq!(store.list_changes(&ChangeFilter::default()).await.unwrap().len(), 1);

    let raw = Database::connect(&db.url).await.unwrap();
    raw.execute_unprepared("UPDATE snapshots SET meta = '{\"title\": '").await.unwrap();
    raw.execute_unprepared("UPDATE changes SET details = 'not json'").await.unwrap();
    raw.close().await.unwrap();

    let err = store.get_snapshot(snapshot_id).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt(_)), "{err}");
    assert!(err.to_string().contains(&format!("snapshot #{snapshot_id}: unreadable meta")), "{err}");
    let err = store.list_changes(&ChangeFilter::default()).await.unwrap_err();
    assert!(err.to_string().contains("unreadable details"), "{err}");
}

both_backends!(corrupt_json_rows_on, corrupt_json_rows_are_errors_not_defaults);

/// The typed `checks.outcome` and `digests.status` columns store the words
/// they always held, so rows written before the enums read as they are and
/// no data migration is needed.
async fn typed_columns_store_the_words_they_always_did(backend: Backend) {
    use modelwatch::digest::Period;
    use modelwatch::store::record::{CheckOutcome, SnapshotPointer};
    use sea_orm::{ConnectionTrait, Database, Statement};
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let new = NewSource {
        url: normalize_url("https://www.qbitai.com/2023/04/43517.html").unwrap(),
        kind: SourceKind::Page,
        title: None,
        tags: vec![],
        schedule: None,
        options: SourceOptions::default(),
    };
    let source = store.add_source(&new, Utc::now()).await.unwrap().id;
    let base = store.record_check(ok_record(source, Utc::now(), "v0")).await.unwrap().snapshot_id;
    let outcomes = [
        (CheckOutcome::NotModified, "not_modified"),
        (CheckOutcome::Gone, "gone"),
        (CheckOutcome::SoftGone, "soft_gone"),
        (CheckOutcome::Redirected, "redirected"),
        (CheckOutcome::Failing, "failing"),
        (CheckOutcome::Deferred, "pending"),
        (CheckOutcome::Ok, "ok"),
    ];
    for (outcome, _) in outcomes {
        let mut rec = after_snapshot(ok_record(source, Utc::now(), "v0"), base);
        (rec.outcome, rec.snapshot, rec.pointer) = (outcome, None, SnapshotPointer::Keep);
        store.record_check(rec).await.unwrap();
    }
    let now = Utc::now();
    let period = Period::for_run_at(now, None, 0, chrono_tz::UTC);
    store.digest_record_skipped(&period.key, period.start, period.end, period.cursor, now).await.unwrap();

    let raw = Database::connect(&db.url).await.unwrap();
    let words = |sql: &'static str| {
        let raw = &raw;
        async move {
            let rows = raw.query_all_raw(Statement::from_string(raw.get_database_backend(), sql)).await.unwrap();
            rows.iter().map(|r| r.try_get::<String>("", "w").unwrap()).collect::<Vec<String>>()
        }
    };
    let mut want = vec!["ok".to_owned()];
    want.extend(outcomes.iter().map(|(_, w)| (*w).to_owned()));
    assert_eq!(words("SELECT outcome AS w FROM checks ORDER BY id").await, want);
    assert_eq!(words("SELECT status AS w FROM digests").await, ["skipped"]);
    let listed = store.digest_list().await.unwrap();
    assert_eq!(listed[0].status.as_str(), "skipped", "and reads back as the enum");
    raw.close().await.unwrap();
}

both_backends!(typed_columns_on, typed_columns_store_the_words_they_always_did);

/// An import refreshes PostgreSQL's statistics of the sources table at once:
/// the first sweep's claims are planned from them (the due index, not a
/// scan and sort of the whole table per claim), and autovacuum would
/// refresh them only a minute or more later. A new table that was never
/// analysed holds `reltuples = -1`.
#[tokio::test]
async fn an_import_leaves_postgres_statistics_of_its_sources() {
    use modelwatch::store::import::{ImportItem, Imported};
    use sea_orm::{ConnectionTrait, Database, Statement};

    let Some((_dir, db, store)) = open(Backend::Postgres).await else {
        eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
        return;
    };
    store.migrate().await.unwrap();
    let items: Vec<ImportItem> = (0..300)
        .map(|n| ImportItem {
            new: NewSource {
                url: normalize_url(&format!("https://www.qbitai.com/2024/03/{n}.html")).unwrap(),
                kind: SourceKind::Page,
                title: None,
                tags: vec![],
                schedule: None,
                options: SourceOptions::default(),
            },
            section: Some("参考".into()),
            position: n,
        })
        .collect();
    let reltuples = || async {
        let conn = Database::connect(&db.url).await.unwrap();
        let row = conn
            .query_one_raw(Statement::from_string(
                conn.get_database_backend(),
                "SELECT reltuples::float8 AS n FROM pg_class WHERE relname = 'sources'",
            ))
            .await
            .unwrap()
            .unwrap();
        let n: f64 = row.try_get("", "n").unwrap();
        conn.close().await.unwrap();
        n
    };
    assert!(reltuples().await < 0.0, "a new table has no statistics yet");
    let dry = store.import_sources(&items, |_| None, true, 1_000, Utc::now(), &|| {}).await.unwrap();
    assert!(matches!(dry, Imported::Done(_)));
    assert!(reltuples().await < 0.0, "a dry run writes nothing, statistics included");
    let done = store.import_sources(&items, |_| None, false, 1_000, Utc::now(), &|| {}).await.unwrap();
    assert!(matches!(done, Imported::Done(ref out) if out.len() == 300), "{done:?}");
    assert_eq!(reltuples().await, 300.0, "the import analysed the table it filled");
}

/// The writer's rows carry every value as it was given, whatever the
/// statement that takes them (on PostgreSQL the rows go as one JSON
/// parameter, a text for any batch size, issue 12): times to the
/// microsecond the driver stores for a bound time (SQLite keeps the
/// nanoseconds), text with quotes, backslashes and CJK, NULLs, and large
/// numbers, in the check rows and the sources' new states alike, whether
/// written by the batch writer or alone.
async fn written_rows_keep_their_values_exactly(backend: Backend) {
    use chrono::SubsecRound;
    use modelwatch::source::SourceRef;
    use modelwatch::store::record::CheckOutcome;
    use modelwatch::types::{ErrorKind, SourceStatus};
    use sea_orm::ConnectionTrait;
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    // Nanoseconds that are not whole microseconds.
    let t0 = chrono::DateTime::from_timestamp(1_796_000_000, 123_456_789).unwrap();
    let stored = |t: chrono::DateTime<Utc>| if backend == Backend::Postgres { t.trunc_subsecs(6) } else { t };
    let a = store.add_source(&page_source(1), t0).await.unwrap();
    let b = store.add_source(&page_source(2), t0).await.unwrap();

    let mut failing = unchanged_record(a.id, t0, None);
    failing.outcome = CheckOutcome::Failing;
    failing.http_status = None;
    failing.error_kind = Some(ErrorKind::HttpStatus);
    failing.message = Some("HTTP 503 \"Service Unavailable\" \\ 服务暂停".to_owned());
    failing.duration_ms = 30_000_000_001;
    failing.bytes = 0;
    failing.update.status = SourceStatus::Failing;
    failing.update.last_error_kind = Some(ErrorKind::HttpStatus);
    failing.update.last_error = failing.message.clone();
    failing.update.pending_status = Some(SourceStatus::Gone);
    failing.update.pending_count = 2;
    failing.update.consecutive_failures = 7;
    failing.update.etag = Some(None);
    failing.update.last_modified = Some(Some("Sat, 05 Dec 2026 15:00:00 GMT".to_owned()));
    failing.update.final_url = Some("https://www.qbitai.com/2023/05/1.html?from=%E4%B8%AD%27x%27".to_owned());
    failing.update.title = Some("标题 \"引号\"".to_owned());
    failing.update.succeeded = false;
    failing.update.next_check_at = t0 + chrono::Duration::nanoseconds(3_600_000_000_999);
    let mut fresh = ok_record(b.id, t0 + chrono::Duration::nanoseconds(1_001), "正文 v1");
    fresh.http_status = Some(200);
    fresh.bytes = 5_000_000_000;
    fresh.update.etag = Some(Some("W/\"67a-5f\"".to_owned()));

    let writer = modelwatch::store::batch::RecordWriter::spawn(store.clone(), 64);
    let (r1, r2) = tokio::join!(writer.record(failing.clone()), writer.record(fresh.clone()));
    r1.unwrap();
    let snapshot = r2.unwrap().snapshot_id;
    assert!(snapshot.is_some());
    // The same rows alone, through the one-record path.
    let mut again = failing.clone();
    again.started_at = t0 + chrono::Duration::nanoseconds(999);
    store.record_check(again.clone()).await.unwrap();

    let sa = store.get_source(&SourceRef::Id(a.id)).await.unwrap();
    assert_eq!(sa.status, SourceStatus::Failing);
    assert_eq!(sa.last_error_kind, Some(ErrorKind::HttpStatus));
    assert_eq!(sa.last_error, failing.message);
    assert_eq!(sa.pending_status, Some(SourceStatus::Gone));
    assert_eq!(sa.pending_count, 2);
    assert_eq!(sa.consecutive_failures, 7);
    assert_eq!(sa.etag, None);
    assert_eq!(sa.last_modified.as_deref(), Some("Sat, 05 Dec 2026 15:00:00 GMT"));
    assert_eq!(sa.final_url.as_ref().map(ToString::to_string), failing.update.final_url);
    assert_eq!(sa.title.as_deref(), Some("标题 \"引号\""));
    assert_eq!(sa.last_checked_at, Some(stored(again.started_at)));
    assert_eq!(sa.next_check_at, stored(failing.update.next_check_at));
    let sb = store.get_source(&SourceRef::Id(b.id)).await.unwrap();
    assert_eq!(sb.etag.as_deref(), Some("W/\"67a-5f\""));
    assert_eq!(sb.last_snapshot_id, snapshot);
    assert_eq!(sb.last_checked_at, Some(stored(fresh.started_at)));

    let raw = sea_orm::Database::connect(&db.url).await.unwrap();
    let rows = raw
        .query_all_raw(sea_orm::Statement::from_string(
            raw.get_database_backend(),
            "SELECT source_id, started_at, duration_ms, outcome, http_status, error_kind, message, bytes, snapshot_id \
             FROM checks ORDER BY source_id, started_at",
        ))
        .await
        .unwrap();
    type Row = (i64, chrono::DateTime<Utc>, i64, String, Option<i32>, Option<String>, Option<String>, i64, Option<i64>);
    let rows: Vec<Row> = rows
        .iter()
        .map(|r| {
            (
                r.try_get("", "source_id").unwrap(),
                r.try_get("", "started_at").unwrap(),
                r.try_get("", "duration_ms").unwrap(),
                r.try_get("", "outcome").unwrap(),
                r.try_get("", "http_status").unwrap(),
                r.try_get("", "error_kind").unwrap(),
                r.try_get("", "message").unwrap(),
                r.try_get("", "bytes").unwrap(),
                r.try_get("", "snapshot_id").unwrap(),
            )
        })
        .collect();
    let message = failing.message.clone();
    let failed = |at| {
        (
            a.id.0,
            stored(at),
            30_000_000_001,
            "failing".to_owned(),
            None,
            Some("http_status".to_owned()),
            message.clone(),
            0,
            None,
        )
    };
    assert_eq!(
        rows,
        [
            failed(failing.started_at),
            failed(again.started_at),
            (b.id.0, stored(fresh.started_at), 5, "ok".to_owned(), Some(200), None, None, 5_000_000_000, snapshot),
        ]
    );
    raw.close().await.unwrap();
}

both_backends!(written_rows_exact_on, written_rows_keep_their_values_exactly);

/// PostgreSQL stores new snapshot texts compressed with lz4, not pglz (a
/// cold sweep's largest cost on the server, issue 12), and they read back
/// as written; SQLite stores them as they are.
async fn snapshot_texts_are_lz4_on_postgres(backend: Backend) {
    use sea_orm::ConnectionTrait;
    let Some((_dir, db, store)) = open(backend).await else { return };
    store.migrate().await.unwrap();
    let source = store.add_source(&page_source(1), Utc::now()).await.unwrap();
    // ~30 KB of text, well past the size PostgreSQL compresses.
    let text = "阿里版大模型突然上线邀测，文章正文的一段。".repeat(700);
    let recorded = store.record_check(ok_record(source.id, Utc::now(), &text)).await.unwrap();
    let id = recorded.snapshot_id.unwrap();
    assert_eq!(store.get_snapshot(id).await.unwrap().unwrap().text, text);
    if backend == Backend::Postgres {
        let raw = sea_orm::Database::connect(&db.url).await.unwrap();
        let row = raw
            .query_one_raw(sea_orm::Statement::from_string(
                raw.get_database_backend(),
                format!("SELECT pg_column_compression(text) AS method FROM snapshots WHERE id = {id}"),
            ))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<Option<String>>("", "method").unwrap().as_deref(), Some("lz4"));
        raw.close().await.unwrap();
    }
}

both_backends!(snapshot_text_compression_on, snapshot_texts_are_lz4_on_postgres);
