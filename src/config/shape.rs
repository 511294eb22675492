//! Checks of the merged document that serde would report one at a time and
//! without the key: integer ranges and the shape of list items. A bad value
//! is reported with its key path and replaced by the default, so validation
//! goes on and every problem is reported at once.

use toml::{Table, Value};

/// Integer keys wider than `u32` (u64 in the raw config).
const U64_KEYS: &[&str] = &["fetch.max_body_bytes"];
/// Integer keys narrower than `u32`.
const U16_KEYS: &[&str] = &["smtp.port"];

/// Reports out-of-range integers and malformed recipients in `merged`,
/// resetting each to its value in `defaults`.
pub fn check(merged: &mut Table, defaults: &Table, problems: &mut Vec<String>) {
    walk(merged, defaults, "", problems);
    recipients(merged, problems);
}

fn walk(table: &mut Table, defaults: &Table, prefix: &str, problems: &mut Vec<String>) {
    for (key, value) in table.iter_mut() {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        let default = defaults.get(key);
        match value {
            Value::Table(t) => {
                if let Some(Value::Table(d)) = default {
                    walk(t, d, &path, problems);
                }
            }
            Value::Integer(i) => {
                let max = if U64_KEYS.contains(&path.as_str()) {
                    i64::MAX
                } else if U16_KEYS.contains(&path.as_str()) {
                    i64::from(u16::MAX)
                } else {
                    i64::from(u32::MAX)
                };
                if !(0..=max).contains(i) {
                    problems.push(format!("`{path}` must be between 0 and {max}, got {i}"));
                    if let Some(d) = default {
                        *value = d.clone();
                    }
                }
            }
            _ => {}
        }
    }
}

/// `digest.recipients`: each an address string or `{ address, tags }`.
fn recipients(merged: &mut Table, problems: &mut Vec<String>) {
    let Some(Value::Array(list)) =
        merged.get_mut("digest").and_then(|d| d.as_table_mut()).and_then(|d| d.get_mut("recipients"))
    else {
        return;
    };
    let mut kept = Vec::with_capacity(list.len());
    for (i, item) in list.drain(..).enumerate() {
        let path = format!("digest.recipients[{i}]");
        match &item {
            Value::String(_) => kept.push(item),
            Value::Table(t) => {
                let mut ok = true;
                if !matches!(t.get("address"), Some(Value::String(_))) {
                    problems.push(format!("`{path}.address` must be an e-mail address string"));
                    ok = false;
                }
                match t.get("tags") {
                    Some(Value::Array(tags)) if tags.iter().all(Value::is_str) => {}
                    _ => {
                        problems.push(format!("`{path}.tags` must be a list of strings"));
                        ok = false;
                    }
                }
                for k in t.keys().filter(|k| !matches!(k.as_str(), "address" | "tags")) {
                    problems.push(format!("unknown key `{path}.{k}`"));
                    ok = false;
                }
                if ok {
                    kept.push(item);
                }
            }
            other => problems.push(format!(
                "`{path}` must be an address string or a table {{ address, tags }}, got {}",
                other.type_str()
            )),
        }
    }
    *list = kept;
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn out_of_range_integers_name_their_key_and_fall_back() {
        let defaults: Table = "[smtp]\nport = 587\n[fetch]\nmax_redirects = 10\nmax_body_bytes = 1".parse().unwrap();
        let mut merged: Table =
            "[smtp]\nport = 70000\n[fetch]\nmax_redirects = -1\nmax_body_bytes = 5000000000".parse().unwrap();
        let mut problems = Vec::new();
        check(&mut merged, &defaults, &mut problems);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("`fetch.max_redirects`") || problems[1].contains("`fetch.max_redirects`"));
        assert!(problems.iter().any(|p| p.contains("`smtp.port` must be between 0 and 65535, got 70000")));
        assert_eq!(merged["smtp"]["port"].as_integer(), Some(587));
    }
}
