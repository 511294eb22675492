//! What a check's rows look like on disk, for the pages they cost SQLite
//! (issue 12): new snapshot texts compressed on SQLite (PostgreSQL
//! compresses them itself), mentions unique under the index led by the
//! source. A database written in the old shapes reads the same after the
//! migrations, and keeps its texts when they are rolled back.

use chrono::Utc;
use migration::{Migrator, MigratorTrait};
use modelwatch::catalog::EntityRef;
use modelwatch::store::Store;
use modelwatch::store::record::SnapshotText;
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};

use crate::both_backends;
use crate::support::records::{ok_record, page_source};
use crate::support::{Backend, Mw, Page, TestDb, TestServer, init_crypto};

const ARTICLE: &str = r#"<html><head><title>月之暗面发布Kimi K2</title></head><body>
<nav><a href="/">首页</a> <a href="/news/">新闻</a></nav>
<article><h1>月之暗面发布Kimi K2</h1>
<p>月之暗面今天发布了Kimi K2，这是一个总参数一万亿的混合专家模型，激活参数三百二十亿。</p>
<p>模型权重以修改版MIT许可证开源，开发者可以在Hugging Face下载并在本地部署。</p>
<p>与模型同时上线的还有开放平台的API服务，输入价格为每百万词元四元。</p>
</article></body></html>"#;

/// The `n`th bound value: `$n` on PostgreSQL, `?n` on SQLite.
fn param(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres { format!("${n}") } else { format!("?{n}") }
}

/// `text` and `text_zstd` of snapshot `id`, as stored.
async fn stored(db: &DatabaseConnection, id: i64) -> (String, Option<Vec<u8>>) {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT text, text_zstd FROM snapshots WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap();
    (row.try_get("", "text").unwrap(), row.try_get("", "text_zstd").unwrap())
}

/// A page checked by the real binary: on SQLite its text is stored
/// compressed (and `text` left empty), on PostgreSQL as it is; every
/// reader (the CLI's text, the next check's diff, a change's whole diff)
/// reads it back the same.
async fn new_texts_are_compressed_on_sqlite_only(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    server.set("/k2.html", Page::html(ARTICLE).without_etag());
    let id = mw.add(&server.url("/k2.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let text = mw.current_text(id).await;
    assert!(text.contains("激活参数三百二十亿"), "{text}");

    let db = Database::connect(&mw.db.url).await.unwrap();
    let snapshot: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT last_snapshot_id FROM sources WHERE id = {id}"),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "last_snapshot_id")
        .unwrap();
    let (plain, zstd) = stored(&db, snapshot).await;
    match backend {
        Backend::Sqlite => {
            assert_eq!(plain, "", "the text is only in its compressed column");
            let zstd = zstd.expect("compressed text");
            let back = String::from_utf8(zstd::decode_all(zstd.as_slice()).unwrap()).unwrap();
            assert_eq!(back.trim_end(), text.trim_end());
        }
        Backend::Postgres => {
            assert!(zstd.is_none(), "PostgreSQL compresses texts itself");
            assert_eq!(plain.trim_end(), text.trim_end());
        }
    }

    // The next check diffs against the stored (compressed) text.
    server.set("/k2.html", Page::html(ARTICLE.replace("每百万词元四元", "每百万词元两元")).without_etag());
    assert_eq!(mw.check_one(id).await["outcome"], "changed");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let excerpt = changes[0]["excerpt"].as_str().unwrap_or_default();
    assert!(excerpt.contains("[-四-]{+两+}元"), "{excerpt}");
    let change = changes[0]["id"].as_i64().unwrap().to_string();
    let shown = mw.run_async(&["changes", "show", &change]).await.ok().stdout;
    assert!(shown.contains("每百万词元[-四-]{+两+}元") && shown.contains("激活参数三百二十亿"), "{shown}");
    db.close().await.ok();
}

both_backends!(new_texts_compressed_on, new_texts_are_compressed_on_sqlite_only);

/// The indexes of `catalog_mentions`: (name, unique, columns in order).
async fn mention_indexes(db: &DatabaseConnection) -> Vec<(String, bool, Vec<String>)> {
    let backend = db.get_database_backend();
    let mut out = Vec::new();
    if backend == DbBackend::Postgres {
        let rows = db
            .query_all_raw(Statement::from_string(
                backend,
                "SELECT i.relname AS name, x.indisunique AS is_unique, \
                 array_to_string(ARRAY(SELECT a.attname FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
                 JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.n ORDER BY k.o), ',') AS cols \
                 FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
                 WHERE t.relname = 'catalog_mentions' AND NOT x.indisprimary",
            ))
            .await
            .unwrap();
        for row in rows {
            let cols: String = row.try_get("", "cols").unwrap();
            out.push((
                row.try_get("", "name").unwrap(),
                row.try_get("", "is_unique").unwrap(),
                cols.split(',').map(str::to_owned).collect(),
            ));
        }
    } else {
        let list =
            db.query_all_raw(Statement::from_string(backend, "PRAGMA index_list('catalog_mentions')")).await.unwrap();
        for row in list {
            let name: String = row.try_get("", "name").unwrap();
            let unique: i32 = row.try_get("", "unique").unwrap();
            let cols = db
                .query_all_raw(Statement::from_string(backend, format!("PRAGMA index_info('{name}')")))
                .await
                .unwrap()
                .iter()
                .map(|c| c.try_get::<String>("", "name").unwrap())
                .collect();
            out.push((name, unique == 1, cols));
        }
    }
    out.sort();
    out
}

/// Rows written by the release before these migrations (texts as they
/// are, mentions under the entity-led unique index) read the same after
/// them; new texts are compressed beside them on SQLite; rolling the
/// texts' migration back puts every compressed text back in `text`.
async fn old_shapes_read_the_same_after_the_migrations(backend: Backend) {
    init_crypto();
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = TestDb::create(backend, dir.path()).await else { return };
    let store = Store::connect(&db.url, 2).await.unwrap();
    let raw = Database::connect(&db.url).await.unwrap();
    let b = raw.get_database_backend();
    let ours = Migrator::migrations();
    // Every migration before the mentions' unique index led by the source
    // and the compressed texts (and the ones after them).
    let before = ours.iter().position(|m| m.name() == "m20261211_010000_mentions_unique_by_source").unwrap();
    Migrator::up(&raw, Some(u32::try_from(before).unwrap())).await.unwrap();
    let now = Utc::now();
    let source = store.add_source(&page_source(1), now).await.unwrap().id.0;
    let old_text = "月之暗面今天发布了Kimi K2。\n模型权重开源。".repeat(300);
    let (p1, p2, p3, p4) = (param(b, 1), param(b, 2), param(b, 3), param(b, 4));
    let old_snapshot: i64 = raw
        .query_one_raw(Statement::from_sql_and_values(
            b,
            format!(
                "INSERT INTO snapshots (source_id, created_at, content_hash, text, meta) \
                 VALUES ({p1}, {p2}, 'old', {p3}, '{{}}') RETURNING id"
            ),
            [Value::from(source), Value::from(now), Value::from(old_text.clone())],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    let vendor: i64 = raw
        .query_one_raw(Statement::from_sql_and_values(
            b,
            format!("INSERT INTO catalog_vendors (name, created_at) VALUES ('月之暗面', {p1}) RETURNING id"),
            [Value::from(now)],
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "id")
        .unwrap();
    raw.execute_raw(Statement::from_sql_and_values(
        b,
        format!(
            "INSERT INTO catalog_mentions (entity_kind, entity_id, source_id, first_snapshot_id, last_snapshot_id, \
             first_seen_at, last_seen_at, snapshot_count, last_count) VALUES ('vendor', {p1}, {p2}, {p3}, {p3}, \
             {p4}, {p4}, 1, 2)"
        ),
        [Value::from(vendor), Value::from(source), Value::from(old_snapshot), Value::from(now)],
    ))
    .await
    .unwrap();

    store.migrate().await.unwrap();
    assert!(store.pending_migrations().await.unwrap().is_empty());

    // The old text reads as it was, through every reader.
    assert_eq!(store.get_snapshot(old_snapshot).await.unwrap().unwrap().text, old_text);
    assert_eq!(store.snapshot_full(old_snapshot).await.unwrap().unwrap().text, old_text);
    // A new one is written as the runner writes it for this backend.
    let new_text = "月之暗面发布了Kimi K2的新版本。\n".repeat(300);
    let mut rec = ok_record(modelwatch::types::SourceId(source), Utc::now(), &new_text);
    if let Some(snap) = rec.snapshot.as_mut() {
        snap.text = SnapshotText::for_store(new_text.clone(), store.compresses_texts()).unwrap();
    }
    let new_snapshot = store.record_check(rec).await.unwrap().snapshot_id.unwrap();
    assert_eq!(store.get_snapshot(new_snapshot).await.unwrap().unwrap().text, new_text);
    assert_eq!(store.snapshot_full(new_snapshot).await.unwrap().unwrap().text, new_text);
    let (plain, zstd) = stored(&raw, new_snapshot).await;
    assert_eq!((plain.is_empty(), zstd.is_some()), (store.compresses_texts(), store.compresses_texts()));
    if let Some(zstd) = zstd {
        assert!(zstd.len() < new_text.len() / 4, "compressed");
    }

    // Mentions: one unique index, led by the source; none led by the entity.
    let indexes = mention_indexes(&raw).await;
    let led_by_entity: Vec<_> = indexes.iter().filter(|(_, _, cols)| cols[0] == "entity_kind").collect();
    assert!(led_by_entity.is_empty(), "{indexes:?}");
    let key = ["source_id", "entity_kind", "entity_id"].map(str::to_owned).to_vec();
    assert!(indexes.contains(&("ux_catalog_mentions_source_entity".to_owned(), true, key)), "{indexes:?}");
    // And none by first sighting (`m20261212_010000_unread_indexes`).
    assert!(!indexes.iter().any(|(_, _, cols)| cols[0] == "first_seen_at"), "{indexes:?}");
    // The old mention is still one row per (source, entity), and found by
    // its entity.
    let again = raw
        .execute_raw(Statement::from_sql_and_values(
            b,
            format!(
                "INSERT INTO catalog_mentions (entity_kind, entity_id, source_id, first_snapshot_id, \
                 last_snapshot_id, first_seen_at, last_seen_at) VALUES ('vendor', {p1}, {p2}, {p3}, {p3}, {p4}, {p4})"
            ),
            [Value::from(vendor), Value::from(source), Value::from(new_snapshot), Value::from(now)],
        ))
        .await;
    assert!(again.is_err(), "a second row for the same source and entity");
    let mentions = store.catalog_mentions(None, Some(&EntityRef::vendor("月之暗面"))).await.unwrap();
    assert_eq!(mentions.iter().map(|m| (m.source_id, m.last_count)).collect::<Vec<_>>(), [(source, 2)]);

    // Rolled back: every text is back in `text`; and forward again.
    Migrator::down(&raw, Some(u32::try_from(ours.len() - before).unwrap())).await.unwrap();
    for (id, text) in [(old_snapshot, &old_text), (new_snapshot, &new_text)] {
        let row = raw
            .query_one_raw(Statement::from_string(b, format!("SELECT text FROM snapshots WHERE id = {id}")))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&row.try_get::<String>("", "text").unwrap(), text);
    }
    let indexes = mention_indexes(&raw).await;
    assert!(indexes.iter().any(|(name, unique, _)| name == "ux_catalog_mentions_entity_source" && *unique));
    assert!(indexes.iter().any(|(name, _, _)| name == "idx_catalog_mentions_first_seen"), "{indexes:?}");
    store.migrate().await.unwrap();
    assert_eq!(store.get_snapshot(new_snapshot).await.unwrap().unwrap().text, new_text);
    raw.close().await.ok();
    store.close().await.ok();
}

both_backends!(old_shapes_on, old_shapes_read_the_same_after_the_migrations);
