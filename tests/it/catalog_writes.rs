//! The catalog step's plumbing on both backends: how soon the matcher
//! follows an edit made elsewhere, and a batch's catalog steps written
//! together giving the rows and outcomes of the steps written one by one.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use modelwatch::catalog::{StopList, parse_seed};
use modelwatch::runner::CatalogStep;
use modelwatch::runner::catalog::MatcherRefresh;
use modelwatch::store::Store;
use modelwatch::store::batch::RecordWriter;
use modelwatch::store::catalog::CatalogWork;
use modelwatch::store::record::Recorded;
use modelwatch::types::{SourceId, SourceKind};

use crate::both_backends;
use crate::support::records::{after_snapshot, ok_record, page_source};
use crate::support::{Backend, TestDb, init_crypto};

const SEED: &str = include_str!("../../config/catalog.toml");

/// A migrated database holding the shipped catalog, and a store on it.
async fn seeded(backend: Backend, dir: &std::path::Path) -> Option<(TestDb, Store)> {
    init_crypto();
    let db = TestDb::create(backend, dir).await?;
    let store = Store::connect(&db.url, 4).await.unwrap();
    store.migrate().await.unwrap();
    // At a fixed time: two databases seeded alike hold the same rows.
    let seeded_at = Utc.with_ymd_and_hms(2026, 11, 30, 8, 0, 0).unwrap();
    store.load_catalog_seed(&parse_seed(SEED).unwrap(), seeded_at).await.unwrap();
    Some((db, store))
}

/// An edit committed by another process (a store of its own, as the CLI
/// beside the daemon) reaches the running catalog step within
/// [`MatcherRefresh`]'s bound (`read_every` plus a build), the texts that
/// come meanwhile keeping the previous matcher instead of waiting; an edit
/// of this process is used by the very next text.
async fn the_matcher_follows_an_edit_elsewhere_within_the_bound(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let Some((db, store)) = seeded(backend, dir.path()).await else { return };
    // Long enough that the edit below commits well inside it on a loaded
    // machine (the assertion that texts kept the previous matcher needs the
    // first text after the edit to come before the next read is due).
    let refresh = MatcherRefresh { read_every: Duration::from_secs(1) };
    let step = CatalogStep::with_refresh(store.clone(), StopList::shipped(), 2, refresh);
    // Another process's store, connected before the matcher's first read.
    let cli = Store::connect(&db.url, 2).await.unwrap();
    assert!(step.matcher().await.unwrap().find("千问助手").is_empty());
    assert_eq!(step.builds(), 1);
    let read = Instant::now();

    cli.catalog_add_alias("通义千问", "千问助手", false).await.unwrap();
    let edited = Instant::now();
    // A build of the shipped catalog takes well under a second even in a
    // debug build on a loaded machine.
    let limit = refresh.read_every + Duration::from_secs(3);
    let mut texts = 0;
    loop {
        let m = step.matcher().await.unwrap();
        texts += 1;
        if !m.find("千问助手").is_empty() {
            break;
        }
        assert!(edited.elapsed() < limit, "the edit is still unseen after {:?}", edited.elapsed());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if edited.duration_since(read) < refresh.read_every / 2 {
        assert!(texts > 1, "the texts right after the edit kept the previous matcher, without a read each");
    }
    assert_eq!(step.builds(), 2, "one rebuild for the edit");
    cli.close().await.unwrap();

    // This process's own edit: the next text waits for the matcher that
    // knows it.
    store.catalog_add_alias("通义千问", "通义助手", false).await.unwrap();
    assert_eq!(step.matcher().await.unwrap().find("通义助手").len(), 1);
    assert_eq!(step.builds(), 3);
}

both_backends!(matcher_follows_on, the_matcher_follows_an_edit_elsewhere_within_the_bound);

/// Texts naming seeded models and proposing values: two texts propose the
/// same value (new for the first, corroborated by the second), the later
/// snapshots name some entities again and some for the first time.
const TEXTS: [&str; 6] = [
    "阿里巴巴发布通义千问，对标OpenAI的GPT-4。据外媒报道，GPT-4的参数量约为1.8万亿。",
    "百度的文心一言与通义千问同台竞技，GPT-4的参数量约为1.8万亿。",
    "智谱AI推出GLM-4，支持128K上下文。",
    "腾讯混元大模型开放，字节跳动的豆包同步升级。",
    "月之暗面的Kimi支持200万字上下文，GLM-4紧随其后。",
    "京东发布言犀大模型，百度文心一言参数规模为2600亿。",
];

/// Each table's rows the catalog steps write, as text, in a stable order
/// (evidence named by its fact's key, not its id).
async fn catalog_rows(db: &TestDb) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    let text = |cols: &[&str]| {
        cols.iter().map(|c| format!("COALESCE(CAST({c} AS TEXT), '-')")).collect::<Vec<_>>().join(" || '|' || ")
    };
    let queries = [
        format!(
            "SELECT {} AS r FROM catalog_mentions ORDER BY source_id, entity_kind, entity_id",
            text(&[
                "entity_kind",
                "entity_id",
                "source_id",
                "first_snapshot_id",
                "last_snapshot_id",
                "first_seen_at",
                "last_seen_at",
                "snapshot_count",
                "last_count"
            ])
        ),
        format!(
            "SELECT {} AS r FROM catalog_facts ORDER BY id",
            text(&["id", "entity_kind", "entity_id", "attribute", "value_key", "value", "raw", "status", "created_at"])
        ),
        format!(
            "SELECT {} AS r FROM catalog_fact_evidence e JOIN catalog_facts f ON f.id = e.fact_id ORDER BY e.id",
            text(&[
                "f.entity_kind",
                "f.entity_id",
                "f.attribute",
                "f.value_key",
                "e.source_id",
                "e.snapshot_id",
                "e.quote",
                "e.extractor",
                "e.confidence",
                "e.observed_at"
            ])
        ),
        "SELECT CAST(revision AS TEXT) AS r FROM catalog_revision".to_owned(),
    ];
    let mut rows = Vec::new();
    for sql in queries {
        let stmt = sea_orm::Statement::from_string(conn.get_database_backend(), sql);
        for row in conn.query_all_raw(stmt).await.unwrap() {
            rows.push(row.try_get::<String>("", "r").unwrap());
        }
    }
    conn.close().await.unwrap();
    rows
}

/// Makes the database refuse the mentions of `source`: its catalog step
/// fails (the check itself is recorded).
async fn refuse_mentions_of(db: &TestDb, source: SourceId) {
    use sea_orm::ConnectionTrait;
    let sql = match db.backend {
        Backend::Sqlite => vec![format!(
            "CREATE TRIGGER refuse_mention BEFORE INSERT ON catalog_mentions WHEN NEW.source_id = {} \
             BEGIN SELECT RAISE(ABORT, 'a refused mention'); END",
            source.0
        )],
        Backend::Postgres => vec![
            format!(
                "CREATE FUNCTION refuse_mention() RETURNS trigger AS $$ BEGIN \
                 IF NEW.source_id = {} THEN RAISE EXCEPTION 'a refused mention'; END IF; RETURN NEW; END $$ \
                 LANGUAGE plpgsql",
                source.0
            ),
            "CREATE TRIGGER refuse_mention BEFORE INSERT ON catalog_mentions FOR EACH ROW \
             EXECUTE FUNCTION refuse_mention()"
                .to_owned(),
        ],
    };
    let conn = sea_orm::Database::connect(&db.url).await.unwrap();
    for s in sql {
        conn.execute_unprepared(&s).await.unwrap();
    }
    conn.close().await.unwrap();
}

/// One round of checks: (source, text, snapshot it starts from).
type Round<'a> = Vec<(SourceId, &'a str, Option<i64>)>;

/// What `step` finds in each text of `round`, at `at`: analysed once for
/// both databases.
async fn analyse_round(step: &CatalogStep, round: &Round<'_>, at: DateTime<Utc>) -> Vec<CatalogWork> {
    let mut works = Vec::new();
    for (_, text, _) in round {
        works.push(step.prepare(SourceKind::Page, text, &[], at).await.unwrap());
    }
    works
}

/// Records `round` on `store` with its catalog steps `works`: all in one
/// batch of the record writer (`together`; the test's current-thread
/// runtime queues every record before the writer runs), or one check
/// after the other, each in its own transaction.
async fn record_round(
    store: &Store,
    round: &Round<'_>,
    works: &[CatalogWork],
    at: DateTime<Utc>,
    together: bool,
) -> Vec<Recorded> {
    let mut records = Vec::new();
    for (n, ((source, text, from), work)) in round.iter().zip(works).enumerate() {
        // Distinct lengths: `ok_record` keys bodies by length.
        let body = format!("{text}{}", " ".repeat(n));
        let mut rec = after_snapshot(ok_record(*source, at, &body), *from);
        rec.catalog = Some(work.clone());
        records.push(rec);
    }
    if together {
        let writer = RecordWriter::spawn(store.clone(), 64);
        let results = futures::future::join_all(records.into_iter().map(|r| writer.record(r))).await;
        return results.into_iter().map(|r| r.unwrap()).collect();
    }
    let mut out = Vec::new();
    for rec in records {
        out.push(store.record_check(rec).await.unwrap());
    }
    out
}

/// A batch's catalog steps written together (the shared statements of the
/// steps that only mention and propose) leave the rows and outcomes that
/// writing each step alone, one after the other, leaves: first mentions
/// and later ones, a value new for the first step that proposes it and
/// corroborated by the next, evidence for each proposal. A step the
/// database refuses fails alone in both, its check recorded.
async fn batched_steps_write_what_one_by_one_steps_write(backend: Backend) {
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let Some((db_a, batched)) = seeded(backend, dir_a.path()).await else { return };
    let (db_b, alone) = seeded(backend, dir_b.path()).await.unwrap();
    let step = CatalogStep::new(batched.clone(), StopList::shipped(), 2);
    let mut sources = Vec::new();
    for n in 0..TEXTS.len() {
        let a = batched.add_source(&page_source(n), Utc::now()).await.unwrap().id;
        let b = alone.add_source(&page_source(n), Utc::now()).await.unwrap().id;
        assert_eq!(a, b);
        sources.push(a);
    }
    let at = Utc.with_ymd_and_hms(2026, 12, 1, 8, 0, 0).unwrap();
    let compare = |a: &[Recorded], b: &[Recorded]| {
        assert_eq!(a.len(), b.len());
        for (a, b) in a.iter().zip(b) {
            assert_eq!(a.snapshot_id, b.snapshot_id);
            match (a.catalog.as_ref().unwrap(), b.catalog.as_ref().unwrap()) {
                (Ok(a), Ok(b)) => assert_eq!(a, b),
                (Err(a), Err(b)) => assert!(a.contains("a refused mention") && b.contains("a refused mention")),
                (a, b) => panic!("batched {a:?}, one by one {b:?}"),
            }
        }
    };

    // Every page's first snapshot.
    let first: Round = sources.iter().zip(TEXTS).map(|(s, t)| (*s, t, None)).collect();
    let works = analyse_round(&step, &first, at).await;
    let a = record_round(&batched, &first, &works, at, true).await;
    let b = record_round(&alone, &first, &works, at, false).await;
    compare(&a, &b);
    let step_of = |r: &[Recorded], n: usize| r[n].catalog.clone().unwrap().unwrap();
    assert!(step_of(&a, 0).new_facts.len() == 1 && step_of(&a, 1).corroborations >= 1, "{:?}", a);

    // The next snapshots of four pages, each naming what another named.
    let next: Round = (0..4).map(|n| (sources[n], TEXTS[(n + 2) % TEXTS.len()], a[n].snapshot_id)).collect();
    let at2 = at + chrono::Duration::hours(1);
    let works = analyse_round(&step, &next, at2).await;
    let a2 = record_round(&batched, &next, &works, at2, true).await;
    let b2 = record_round(&alone, &next, &works, at2, false).await;
    compare(&a2, &b2);
    assert!(a2.iter().any(|r| !r.catalog.clone().unwrap().unwrap().new_mentions.is_empty()));

    // The database refuses the mentions of the middle page of the next round.
    refuse_mentions_of(&db_a, sources[4]).await;
    refuse_mentions_of(&db_b, sources[4]).await;
    let last: Round =
        (3..6).map(|n| (sources[n], TEXTS[n - 3], a2.get(n).or(a.get(n)).and_then(|r| r.snapshot_id))).collect();
    let at3 = at + chrono::Duration::hours(2);
    let works = analyse_round(&step, &last, at3).await;
    let a3 = record_round(&batched, &last, &works, at3, true).await;
    let b3 = record_round(&alone, &last, &works, at3, false).await;
    compare(&a3, &b3);
    assert!(a3[1].catalog.as_ref().unwrap().is_err(), "{a3:?}");
    assert!(a3[0].catalog.as_ref().unwrap().is_ok() && a3[2].catalog.as_ref().unwrap().is_ok(), "{a3:?}");

    let (rows_a, rows_b) = (catalog_rows(&db_a).await, catalog_rows(&db_b).await);
    assert!(rows_a.len() > 30, "{rows_a:?}");
    assert_eq!(rows_a, rows_b);
}

mod batched_steps_on {
    use crate::support::{Backend, db::postgres_available};

    // Current-thread: every record of a round is queued before the writer
    // runs, so a round is one batch.
    #[tokio::test]
    async fn sqlite() {
        super::batched_steps_write_what_one_by_one_steps_write(Backend::Sqlite).await;
    }

    #[tokio::test]
    async fn postgres() {
        if !postgres_available() {
            eprintln!("skipped: MODELWATCH_TEST_POSTGRES_URL is not set");
            return;
        }
        super::batched_steps_write_what_one_by_one_steps_write(Backend::Postgres).await;
    }
}
