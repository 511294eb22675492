//! The snapshot `meta` object as types. Every kind keeps its own state there
//! (a repository, a model, feed entries, PDF pages: read back by that kind);
//! the keys other stages read — the kind a snapshot was read as, the feeds a
//! page advertises — are named here once instead of as string keys at each
//! reader.

use serde::{Deserialize, Serialize};

use crate::types::SourceKind;

/// The meta keys read outside the kind that wrote them. Reading is lenient:
/// old rows, other kinds' objects and unknown values give the defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct SnapshotMeta {
    /// The kind a structured snapshot was read as (absent for a page): the
    /// next check compares in the kind's terms only against the same kind.
    #[serde(default, deserialize_with = "lenient_kind")]
    pub kind: Option<SourceKind>,
    /// Feeds a page advertises (`sources use-feed` offers them).
    #[serde(default, deserialize_with = "lenient_links")]
    pub feed_links: Vec<String>,
}

impl SnapshotMeta {
    /// The key under which [`SnapshotMeta::kind`] is stored.
    pub const KIND_KEY: &'static str = "kind";

    pub fn read(meta: &serde_json::Value) -> SnapshotMeta {
        SnapshotMeta::deserialize(meta).unwrap_or_default()
    }
}

/// A page snapshot's meta, as the page kind writes it (every key present,
/// `null` when unknown: the stored shape is unchanged from before the type).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PageMeta {
    pub title: Option<String>,
    pub author: Option<String>,
    pub published: Option<String>,
    pub content_type: Option<String>,
    pub charset: String,
    pub feed_links: Vec<String>,
    /// What the text was read with ([`super::page::read_stamp`]): a page
    /// read by other code or options is read again before it is compared.
    pub read_with: String,
}

impl PageMeta {
    /// The key under which [`PageMeta::read_with`] is stored.
    pub const READ_WITH_KEY: &'static str = "read_with";
}

fn lenient_kind<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<SourceKind>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(v.as_str().and_then(SourceKind::parse))
}

fn lenient_links<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    Ok(serde_json::from_value(v).unwrap_or_default())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn reads_the_shared_keys_of_any_snapshot() {
        let page = json!({"title": "t", "author": null, "feed_links": ["/feed", "https://a/rss"], "charset": "UTF-8"});
        let m = SnapshotMeta::read(&page);
        assert_eq!((m.kind, m.feed_links.len()), (None, 2));
        let repo = json!({"kind": "github", "repo": {"full_name": "a/b"}});
        assert_eq!(SnapshotMeta::read(&repo).kind, Some(SourceKind::Github));
        // Old, odd or foreign values read as the defaults, never an error.
        assert_eq!(SnapshotMeta::read(&json!({"kind": "blog", "feed_links": "x"})), SnapshotMeta::default());
        assert_eq!(SnapshotMeta::read(&json!(null)), SnapshotMeta::default());
    }

    #[test]
    fn page_meta_keeps_the_stored_shape() {
        let m = PageMeta {
            charset: "UTF-8".into(),
            feed_links: vec!["/feed".into()],
            read_with: "1f".into(),
            ..PageMeta::default()
        };
        assert_eq!(
            serde_json::to_value(&m).unwrap(),
            json!({"title": null, "author": null, "published": null, "content_type": null, "charset": "UTF-8", "feed_links": ["/feed"], "read_with": "1f"})
        );
    }
}
