//! Query strings and form bodies as string maps (url's own parser), and the
//! typed filters read from them. A bad value is a clear 400, never a guess.

use std::collections::HashMap;

use super::error::PageError;

/// The fields of a query string or an `application/x-www-form-urlencoded`
/// body; the first value of a repeated field wins. Empty values are absent.
pub fn fields(raw: &[u8]) -> HashMap<String, String> {
    let mut out = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(raw) {
        let v = v.trim();
        if !v.is_empty() {
            out.entry(k.into_owned()).or_insert_with(|| v.to_owned());
        }
    }
    out
}

pub fn query(raw: Option<&str>) -> HashMap<String, String> {
    fields(raw.unwrap_or_default().as_bytes())
}

/// `page` (1-based) of a list.
pub fn page(q: &HashMap<String, String>) -> Result<u64, PageError> {
    match q.get("page") {
        None => Ok(1),
        Some(p) => match p.parse::<u64>() {
            Ok(n) if (1..=100_000).contains(&n) => Ok(n),
            _ => Err(PageError::BadRequest(format!("page must be a number from 1, got {p:?}"))),
        },
    }
}

/// A query string for links to other pages of the same list: the filters
/// kept, `page` replaced.
pub fn with_page(q: &HashMap<String, String>, page: u64) -> String {
    let mut keys: Vec<&String> = q.keys().filter(|k| *k != "page").collect();
    keys.sort();
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for k in keys {
        s.append_pair(k, &q[k]);
    }
    s.append_pair("page", &page.to_string());
    s.finish()
}

/// The previous and next page links of page `page` (1-based) of a list
/// read with one row more than `size`: that extra row says a next page
/// exists, and is dropped here.
pub fn pager<T>(q: &HashMap<String, String>, page: u64, size: u64, rows: &mut Vec<T>) -> Links {
    let more = rows.len() as u64 > size;
    rows.truncate(usize::try_from(size).unwrap_or(usize::MAX));
    links(q, page, more)
}

/// The previous and next page links, when there is a next page or not.
pub fn links(q: &HashMap<String, String>, page: u64, more: bool) -> Links {
    Links { prev: (page > 1).then(|| with_page(q, page - 1)), next: more.then(|| with_page(q, page + 1)) }
}

/// Where the pager's arrows go (query strings), if anywhere.
pub struct Links {
    pub prev: Option<String>,
    pub next: Option<String>,
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn fields_decode_and_drop_empty_values() {
        let f = fields("tag=%E5%BC%80%E6%BA%90&kind=&q=a+b&q=c".as_bytes());
        assert_eq!(f.get("tag").map(String::as_str), Some("开源"));
        assert_eq!(f.get("q").map(String::as_str), Some("a b"));
        assert!(!f.contains_key("kind"));
    }

    #[test]
    fn pages_are_bounded_and_links_keep_filters() {
        assert!(page(&query(Some("page=0"))).is_err());
        assert!(page(&query(Some("page=x"))).is_err());
        assert_eq!(page(&query(Some("page=3"))).unwrap(), 3);
        assert_eq!(with_page(&query(Some("tag=开源&page=2")), 3), "tag=%E5%BC%80%E6%BA%90&page=3");
    }
}
