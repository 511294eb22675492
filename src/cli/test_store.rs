//! A SQLite store with page sources, for the CLI's unit tests.

use chrono::Utc;

use crate::source::{NewSource, Source, SourceOptions, normalize_url};
use crate::store::Store;
use crate::types::SourceKind;

/// A migrated SQLite store in `dir` with `n` page sources
/// (`https://news.example.cn/list/{i}.html`, titled, tagged), in id order.
pub(super) async fn with_pages(dir: &std::path::Path, n: usize) -> (Store, Vec<Source>) {
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("cli.db").display()), 1).await.unwrap();
    store.migrate().await.unwrap();
    let mut added = Vec::new();
    for i in 0..n {
        let new = NewSource {
            url: normalize_url(&format!("https://news.example.cn/list/{i}.html")).unwrap(),
            kind: SourceKind::Page,
            title: Some(format!("标题 \"{i}\"")),
            tags: vec!["业界".to_owned()],
            schedule: None,
            options: SourceOptions::default(),
        };
        added.push(store.add_source(&new, Utc::now()).await.unwrap());
    }
    (store, added)
}
