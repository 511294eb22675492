//! Layering: the embedded defaults, the user's file on top, then environment
//! overrides. Unknown keys are collected here, all of them, with where they
//! came from.

use toml::{Table, Value};

use super::Overrides;

/// The shipped, commented configuration; it is also the set of known keys.
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../config/modelwatch.toml");

const ENV_PREFIX: &str = "MODELWATCH_";

/// The merged document and every problem found on the way. A problem
/// leaves the default in place, so later stages still see a whole document
/// and can report their own problems too.
pub fn merge(file_text: &str, overrides: &Overrides) -> Result<(Value, Vec<String>), Vec<String>> {
    let mut problems = Vec::new();
    let defaults: Table = match DEFAULT_CONFIG_TOML.parse() {
        Ok(t) => t,
        Err(e) => return Err(vec![format!("the embedded defaults do not parse: {e}")]),
    };
    let mut merged = defaults.clone();
    let user: Table = file_text.parse().map_err(|e: toml::de::Error| vec![format!("not valid TOML: {e}")])?;
    overlay(&mut merged, user, "", &mut problems);

    for (name, value) in &overrides.env {
        let Some(rest) = name.strip_prefix(ENV_PREFIX) else { continue };
        let path = if name == "MODELWATCH_DATABASE_URL" {
            vec!["database".to_owned(), "url".to_owned()]
        } else if let Some((section, key)) = rest.split_once("__") {
            vec![section.to_lowercase(), key.to_lowercase()]
        } else {
            // MODELWATCH_SMTP_PASSWORD, MODELWATCH_CONFIG and friends are
            // secrets or tool settings: only the SECTION__KEY form is a key.
            continue;
        };
        set_from_env(&mut merged, &path, value, name, &mut problems);
    }
    if let Some(url) = &overrides.database_url {
        set_from_env(&mut merged, &["database".into(), "url".into()], url, "--database-url", &mut problems);
    }
    super::shape::check(&mut merged, &defaults, &mut problems);
    Ok((Value::Table(merged), problems))
}

/// Lays `user` over `base`, reporting keys `base` does not have.
fn overlay(base: &mut Table, user: Table, prefix: &str, problems: &mut Vec<String>) {
    for (key, value) in user {
        let path = if prefix.is_empty() { key.clone() } else { format!("{prefix}.{key}") };
        match (base.get_mut(&key), value) {
            (None, _) => problems.push(format!("unknown key `{path}`")),
            (Some(Value::Table(b)), Value::Table(u)) => overlay(b, u, &path, problems),
            (Some(Value::Table(_)), _) => problems.push(format!("`{path}` must be a table ([{path}])")),
            (Some(slot), v) => match (&*slot, v) {
                (Value::Float(_), Value::Integer(i)) => *slot = Value::Float(i as f64),
                (d, v) if std::mem::discriminant(d) == std::mem::discriminant(&v) => *slot = v,
                (d, v) => problems.push(format!("`{path}` must be {}, got {}", describe(d), describe(&v))),
            },
        }
    }
}

fn describe(v: &Value) -> &'static str {
    match v {
        Value::String(_) => "a string",
        Value::Integer(_) => "an integer",
        Value::Float(_) => "a number",
        Value::Boolean(_) => "true or false",
        Value::Datetime(_) => "a date-time",
        Value::Array(_) => "a list",
        Value::Table(_) => "a table",
    }
}

/// Sets one key from a string, typed after the default value's type.
fn set_from_env(root: &mut Table, path: &[String], text: &str, origin: &str, problems: &mut Vec<String>) {
    let dotted = path.join(".");
    let slot = path.split_last().and_then(|(last, sections)| {
        let mut table = &mut *root;
        for s in sections {
            table = table.get_mut(s)?.as_table_mut()?;
        }
        table.get_mut(last)
    });
    let Some(slot) = slot else {
        problems.push(format!("{origin} names unknown key `{dotted}`"));
        return;
    };
    let parsed = match slot {
        Value::String(_) => Ok(Value::String(text.to_owned())),
        Value::Boolean(_) => match text.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(Value::Boolean(true)),
            "false" | "0" | "no" | "off" => Ok(Value::Boolean(false)),
            _ => Err("expected true or false"),
        },
        Value::Integer(_) => text.trim().parse().map(Value::Integer).map_err(|_| "expected an integer"),
        Value::Float(_) => text.trim().parse().map(Value::Float).map_err(|_| "expected a number"),
        Value::Array(_) => Ok(Value::Array(
            text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| Value::String(s.to_owned())).collect(),
        )),
        _ => Err("cannot be set from the environment"),
    };
    match parsed {
        Ok(v) => *slot = v,
        Err(why) => problems.push(format!("{origin} sets `{dotted}` to {text:?}: {why}")),
    }
}
