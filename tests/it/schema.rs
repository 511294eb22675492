//! Migrations are reversible on both backends; leases never hand one source
//! to two claimers.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use chrono::Utc;
use modelwatch::source::{SourceOptions, normalize_url};
use modelwatch::store::Store;
use modelwatch::store::sources::NewSource;
use modelwatch::types::SourceKind;

use crate::both_backends;
use crate::support::records::{after_snapshot, ok_record, raw_hash, with_change, with_metrics};
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
        added: 0,
        removed: 0,
        modified: 0,
        ratio: 0.0,
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
        added: 1,
        removed: 0,
        modified: 0,
        ratio: 0.1,
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
