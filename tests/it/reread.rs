//! An upgrade that reads pages differently (new noise rules, a charset fix)
//! must not report every such page as changed on its next check: the last
//! snapshot's stored body is read again with today's code first, and only
//! what the page itself changed is reported.

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement, Value};
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::support::{Backend, Mw, Page, TestServer};

const ARTICLE: &str = r#"<html><head><title>智谱发布GLM-4.5</title></head><body>
<nav><a href="/">首页</a> <a href="/news/">新闻</a></nav>
<article><h1>智谱发布GLM-4.5</h1>
<p>智谱今天发布了GLM-4.5，这是一个面向智能体应用的混合专家模型，总参数三千五百五十亿。</p>
<p>模型权重以MIT许可证开源，开发者可以在Hugging Face下载并在本地部署。</p>
<p>与模型同时上线的还有开放平台的API服务，价格比上一代下调了一半。</p>
</article></body></html>"#;

/// A line an older release's reading kept (a counter its rules missed, say).
const OLD_READING: &str = "旧版本的规则没有去掉的一行：阅读 1,234";

fn param(backend: DbBackend, n: usize) -> String {
    if backend == DbBackend::Postgres { format!("${n}") } else { "?".to_owned() }
}

/// Rewrites `source`'s current snapshot as an older release wrote it: its
/// text with [`OLD_READING`] appended, stored as it is (not compressed),
/// and no reading stamp in its meta. With `drop_body`, its raw body is gone
/// from the blobs too.
async fn as_an_older_release_read_it(db: &DatabaseConnection, source: i64, drop_body: bool) {
    let b = db.get_database_backend();
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            b,
            format!(
                "SELECT s.id, s.text, s.text_zstd, s.meta, s.raw_hash FROM snapshots s \
                 JOIN sources o ON o.last_snapshot_id = s.id \
                 WHERE o.id = {}",
                param(b, 1)
            ),
            [Value::from(source)],
        ))
        .await
        .unwrap()
        .unwrap();
    let id: i64 = row.try_get("", "id").unwrap();
    let text: String = match row.try_get::<Option<Vec<u8>>>("", "text_zstd").unwrap() {
        Some(zstd) => String::from_utf8(zstd::decode_all(zstd.as_slice()).unwrap()).unwrap(),
        None => row.try_get("", "text").unwrap(),
    };
    let meta: String = row.try_get("", "meta").unwrap();
    let raw_hash: Option<String> = row.try_get("", "raw_hash").unwrap();
    let mut meta: serde_json::Value = serde_json::from_str(&meta).unwrap();
    assert!(meta.get("read_with").is_some(), "today's snapshots carry their reading stamp: {meta}");
    meta.as_object_mut().unwrap().remove("read_with");
    let old = format!("{text}\n{OLD_READING}");
    let hash = hex::encode(Sha256::digest(old.as_bytes()));
    let (p1, p2, p3, p4) = (param(b, 1), param(b, 2), param(b, 3), param(b, 4));
    db.execute_raw(Statement::from_sql_and_values(
        b,
        format!("UPDATE snapshots SET text = {p1}, text_zstd = NULL, content_hash = {p2}, meta = {p3} WHERE id = {p4}"),
        [Value::from(old), Value::from(hash), Value::from(meta.to_string()), Value::from(id)],
    ))
    .await
    .unwrap();
    if drop_body {
        db.execute_raw(Statement::from_sql_and_values(
            b,
            format!("DELETE FROM blobs WHERE hash = {p1}"),
            [Value::from(raw_hash.unwrap())],
        ))
        .await
        .unwrap();
    }
}

async fn a_page_an_older_release_read_differently_is_not_a_change(backend: Backend) {
    let Some(mw) = Mw::new(backend).await else { return };
    let server = TestServer::start().await;
    mw.init().await;
    // No validators: every check reads the page (a 304 keeps the old
    // reading, which is no change either).
    server.set("/a.html", Page::html(ARTICLE).without_etag());
    let id = mw.add(&server.url("/a.html"), &[]).await;
    assert_eq!(mw.check_one(id).await["outcome"], "baseline");
    let db = Database::connect(&mw.db.url).await.unwrap();

    // The page is as it was; only the reading differs: nothing to report,
    // and the snapshot is today's reading.
    as_an_older_release_read_it(&db, id, false).await;
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "unchanged", "{got}");
    assert!(mw.changes(Some(id)).await.is_empty());
    let now = mw.current_text(id).await;
    assert!(!now.contains(OLD_READING) && now.contains("总参数三千五百五十亿"), "{now}");

    // The page changed too: the change is the page's own, not the reading's.
    as_an_older_release_read_it(&db, id, false).await;
    server.set("/a.html", Page::html(ARTICLE.replace("下调了一半", "下调了八成")).without_etag());
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    let changes = mw.changes(Some(id)).await;
    assert_eq!(changes.len(), 1, "{changes:?}");
    let excerpt = changes[0]["excerpt"].as_str().unwrap_or_default();
    assert!(excerpt.contains("{+八成+}"), "{excerpt}");
    assert!(!excerpt.contains("旧版本"), "the old reading's line is no change of the page: {excerpt}");

    // Its body no longer kept: the stored text is all there is to compare
    // with, and a difference is reported rather than lost.
    as_an_older_release_read_it(&db, id, true).await;
    let got = mw.check_one(id).await;
    assert_eq!(got["outcome"], "changed", "{got}");
    assert_eq!(mw.changes(Some(id)).await.len(), 2);
    db.close().await.ok();
}

both_backends!(
    a_page_an_older_release_read_differently_is_not_a_change_on,
    a_page_an_older_release_read_differently_is_not_a_change
);
