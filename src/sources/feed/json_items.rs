//! A large JSON Feed, read a batch of items at a time: one pass of
//! serde_json over the borrowed text splits the top-level object into its
//! members and the `items` array into its items, each kept as the slice of
//! text it is (nothing is built); each batch is then a JSON Feed of the
//! other members and some items, which feed-rs reads as it reads a small
//! feed. A 7 MB feed of 30,000 items is never one model in memory.

use serde::Deserialize;
use serde_json::value::RawValue;

/// The top-level members of a JSON object, as their text.
type Members<'a> = Vec<(String, &'a RawValue)>;

/// A JSON Feed split for batches: the text of every top-level member but
/// `items`, and each item's text, in document order.
#[derive(Debug)]
pub struct Split<'a> {
    head: String,
    pub items: Vec<&'a str>,
}

/// Splits `text` when it is a JSON object whose `items` is an array;
/// `None` otherwise (cut off, ill-formed, no items): the caller parses it
/// whole and reports as it always did.
pub fn split(text: &str) -> Option<Split<'_>> {
    let members: Members<'_> = serde_json::from_str::<MembersOf<'_>>(text).ok()?.0;
    let mut items = None;
    let mut head = String::from("{");
    for (key, value) in &members {
        if key == "items" {
            // A repeated `items`: feed-rs would see the last one.
            items = Some(serde_json::from_str::<Vec<&RawValue>>(value.get()).ok()?);
            continue;
        }
        head.push_str(&serde_json::to_string(key).ok()?);
        head.push(':');
        head.push_str(value.get());
        head.push(',');
    }
    let items = items?.into_iter().map(RawValue::get).collect();
    head.push_str("\"items\":[");
    Some(Split { head, items })
}

impl Split<'_> {
    /// The feed with only `items`, written into `doc`.
    pub fn batch(&self, items: &[&str], doc: &mut String) {
        doc.clear();
        doc.push_str(&self.head);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                doc.push(',');
            }
            doc.push_str(item);
        }
        doc.push_str("]}");
    }
}

/// An object's members in document order, each value unparsed.
struct MembersOf<'a>(Members<'a>);

impl<'de> Deserialize<'de> for MembersOf<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = MembersOf<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut members = Vec::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: &'de RawValue = map.next_value()?;
                    members.push((key, value));
                }
                Ok(MembersOf(members))
            }
        }
        d.deserialize_map(Visit)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn members_but_items_make_the_head_and_items_stay_as_written() {
        let text = r#" {"version":"https://jsonfeed.org/version/1.1","title":"机\"器","items":[{"id":"1"}, {"id":"2","tags":["a"]}],"home_page_url":"https://x.cn/"}"#;
        let s = split(text).unwrap();
        assert_eq!(s.items, [r#"{"id":"1"}"#, r#"{"id":"2","tags":["a"]}"#]);
        let mut doc = String::new();
        s.batch(&s.items[1..], &mut doc);
        let v: serde_json::Value = serde_json::from_str(&doc).unwrap();
        assert_eq!(v["title"], "机\"器");
        assert_eq!(v["home_page_url"], "https://x.cn/");
        assert_eq!(v["items"], serde_json::json!([{"id":"2","tags":["a"]}]));
    }

    #[test]
    fn what_is_not_a_feed_object_with_items_is_not_split() {
        for text in [r#"{"items":[{"id":"1"},"#, r#"{"title":"t"}"#, r#"{"items":{}}"#, "[1,2]", "{"] {
            assert!(split(text).is_none(), "{text}");
        }
    }
}
