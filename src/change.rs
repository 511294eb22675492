//! What a recorded change says: its numbers ([`ChangeStats`], one struct
//! from the diff to the digest) and the `details` JSON of a change row, as
//! types. The producers (source kinds, the runner) build
//! these values; the digest reads them back with [`ChangeDetails::read`]
//! instead of walking the JSON by hand.
//!
//! The stored JSON keeps the shape it always had, so old rows read as they
//! are: the change's kind (its own column) says which variant the object
//! is, and a metadata change is tagged by its `field` key.

use serde::{Deserialize, Deserializer, Serialize};

use crate::types::{ChangeKind, ErrorKind, SourceStatus};

/// How much a change changed. Made once by the diff (or a kind), it travels
/// unchanged through the runner, the store and the digest; JSON outputs show
/// its fields flat (`added`, `removed`, `modified`, `ratio`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeStats {
    /// Paragraphs (lines) added, removed and modified in place.
    pub added: u32,
    pub removed: u32,
    pub modified: u32,
    /// Share of the text changed, 0..=1 (0 for status and metadata changes).
    pub ratio: f64,
}

impl ChangeStats {
    /// One thing modified, no text measured (a metadata change, a release).
    pub const ONE_MODIFIED: ChangeStats = ChangeStats { added: 0, removed: 0, modified: 1, ratio: 0.0 };

    /// The share of text changed in whole percent, 0–100 (a ratio that is not
    /// a number counts as 0).
    pub fn percent(&self) -> u32 {
        let ratio = if self.ratio.is_finite() { self.ratio.clamp(0.0, 1.0) } else { 0.0 };
        // Clamped to 0–100, so the cast is exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let percent = (ratio * 100.0).round() as u32;
        percent
    }
}

/// A release as the GitHub kind reads it and a release change stores it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Release {
    pub tag: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

/// The details of one change, by its [`ChangeKind`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ChangeDetails {
    Status(StatusDetails),
    Release(ReleaseDetails),
    Metadata(MetadataChange),
    Content(ContentDetails),
}

/// A source's status moved (`{"from", "to", "error_kind", "final_url"}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusDetails {
    pub from: SourceStatus,
    pub to: SourceStatus,
    /// An error kind this build does not know reads as none.
    #[serde(default, deserialize_with = "lenient")]
    pub error_kind: Option<ErrorKind>,
    #[serde(default)]
    pub final_url: Option<String>,
}

/// A new release (`{"from": previous tag, "release": {...}}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReleaseDetails {
    #[serde(default)]
    pub from: Option<String>,
    pub release: Release,
}

/// A repository's or model's field changed, tagged by the `field` key the
/// rows have always carried. A field this build does not know is `Other`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "field", rename_all = "snake_case")]
pub enum MetadataChange {
    FullName {
        from: String,
        to: String,
    },
    Archived {
        from: bool,
        to: bool,
    },
    License {
        from: Option<String>,
        to: Option<String>,
    },
    Description {
        from: Option<String>,
        to: Option<String>,
    },
    Parameters {
        from: Option<u64>,
        to: Option<u64>,
    },
    PipelineTag {
        from: Option<String>,
        to: Option<String>,
    },
    Tags {
        added: Vec<String>,
        removed: Vec<String>,
    },
    Sha {
        from: Option<String>,
        to: Option<String>,
        #[serde(default)]
        last_modified: Option<String>,
    },
    /// A PDF's page count.
    PageCount {
        from: u64,
        to: u64,
    },
    /// A PDF's document title.
    Title {
        from: Option<String>,
        to: Option<String>,
    },
    #[serde(other)]
    Other,
}

/// A content change: a page's title at the time, the PDF page, or the feed
/// entries (kept as the JSON the feed kind wrote; only the CLI shows them).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ContentDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub page: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_entries: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub edited_entries: Option<serde_json::Value>,
}

impl ChangeDetails {
    /// Reads a row's details by the row's kind. An error means the JSON is
    /// not what that kind of change stores.
    pub fn read(kind: ChangeKind, value: &serde_json::Value) -> Result<ChangeDetails, serde_json::Error> {
        let v = value.clone();
        Ok(match kind {
            ChangeKind::Status => ChangeDetails::Status(serde_json::from_value(v)?),
            ChangeKind::Release => ChangeDetails::Release(serde_json::from_value(v)?),
            ChangeKind::Metadata => ChangeDetails::Metadata(serde_json::from_value(v)?),
            ChangeKind::Content => ChangeDetails::Content(serde_json::from_value(v)?),
        })
    }

    /// The JSON stored in the row.
    pub fn to_json(&self) -> serde_json::Value {
        // Serialising plain structs of strings, numbers and JSON values
        // cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }
}

fn lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<ErrorKind>, D::Error> {
    let text: Option<String> = Option::deserialize(d)?;
    Ok(text.and_then(|t| t.parse().ok()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Rows written before the types existed (the producers' JSON shapes)
    /// read into the right variants and write back unchanged.
    #[test]
    fn stored_shapes_read_and_round_trip() {
        let rows = [
            (ChangeKind::Status, json!({"from": "ok", "to": "failing", "error_kind": "timeout", "final_url": null})),
            (
                ChangeKind::Release,
                json!({"from": "v1", "release": {"tag": "v2", "name": "Two", "published_at": null, "body": null, "url": "https://g/r"}}),
            ),
            (ChangeKind::Metadata, json!({"field": "full_name", "from": "a/b", "to": "c/d"})),
            (ChangeKind::Metadata, json!({"field": "archived", "from": false, "to": true})),
            (ChangeKind::Metadata, json!({"field": "parameters", "from": null, "to": 7_000_000_000u64})),
            (ChangeKind::Metadata, json!({"field": "tags", "added": ["a"], "removed": []})),
            (ChangeKind::Metadata, json!({"field": "sha", "from": "1", "to": "2", "last_modified": null})),
            (ChangeKind::Metadata, json!({"field": "page_count", "from": 3, "to": 4})),
            (ChangeKind::Metadata, json!({"field": "title", "from": "a", "to": null})),
            (ChangeKind::Content, json!({"title": "文心一言"})),
            (ChangeKind::Content, json!({"page": 3})),
            (ChangeKind::Content, json!({"new_entries": [{"title": "x", "link": "https://a/"}]})),
        ];
        for (kind, value) in rows {
            let details = ChangeDetails::read(kind, &value).unwrap();
            assert_eq!(details.to_json(), value, "{kind:?}");
        }
    }

    #[test]
    fn typed_values_come_back() {
        let d = ChangeDetails::read(ChangeKind::Release, &json!({"release": {"tag": "v2"}})).unwrap();
        assert!(matches!(d, ChangeDetails::Release(ReleaseDetails { from: None, ref release }) if release.tag == "v2"));
        let d = ChangeDetails::read(ChangeKind::Metadata, &json!({"field": "stars", "from": 1, "to": 2})).unwrap();
        assert_eq!(d, ChangeDetails::Metadata(MetadataChange::Other));
        let d = ChangeDetails::read(ChangeKind::Status, &json!({"from": "ok", "to": "gone", "error_kind": "new_kind"}));
        assert!(matches!(d.unwrap(), ChangeDetails::Status(StatusDetails { error_kind: None, .. })));
    }

    #[test]
    fn json_of_another_kind_is_an_error() {
        assert!(ChangeDetails::read(ChangeKind::Status, &json!({"from": "x"})).is_err());
        assert!(ChangeDetails::read(ChangeKind::Release, &json!({"title": "t"})).is_err());
        assert!(ChangeDetails::read(ChangeKind::Metadata, &json!({"from": 1})).is_err());
    }
}
