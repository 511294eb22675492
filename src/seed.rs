//! The shipped sources (`config/sources.toml`): parsed, validated, and added
//! to an empty database by `init` and `run`.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use crate::config::Config;
use crate::source::{NewSource, SourceSpec};
use crate::store::{Store, StoreError};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    source: Vec<SourceSpec>,
}

#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {problems}")]
    Invalid { path: String, problems: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Parses and validates a seed file, reporting every bad entry.
pub fn parse(text: &str, path: &Path, config: &Config) -> Result<Vec<NewSource>, SeedError> {
    let invalid = |problems: String| SeedError::Invalid { path: path.display().to_string(), problems };
    let file: SeedFile = toml::from_str(text).map_err(|e| invalid(e.message().to_owned()))?;
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for (i, spec) in file.source.iter().enumerate() {
        match spec.validate(config) {
            Ok(new) => out.push(new),
            Err(e) => problems.push(format!("source {} ({}): {e}", i + 1, spec.url)),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(invalid(problems.join("; "))) }
}

/// Adds the seed sources that are not watched yet, as of `now` (due at
/// once); returns how many were added.
pub async fn load(store: &Store, config: &Config, now: DateTime<Utc>) -> Result<usize, SeedError> {
    add(store, &read(config)?, now).await
}

/// Reads and validates `sources.seed_file` without touching the database
/// (`init` checks every file it needs before it changes anything).
pub fn read(config: &Config) -> Result<Vec<NewSource>, SeedError> {
    let path = config.sources_seed_file.clone();
    let text = std::fs::read_to_string(&path)
        .map_err(|source| SeedError::Read { path: path.display().to_string(), source })?;
    parse(&text, &path, config)
}

/// Adds parsed seed sources that are not watched yet, as of `now`; returns
/// how many were added.
pub async fn add(store: &Store, sources: &[NewSource], now: DateTime<Utc>) -> Result<usize, SeedError> {
    let mut added = 0;
    for s in sources {
        match store.add_source(s, now).await {
            Ok(_) => added += 1,
            Err(StoreError::Duplicate { .. }) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(added)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::{DEFAULT_CONFIG_TOML, Overrides};

    fn config() -> Config {
        Config::from_toml(DEFAULT_CONFIG_TOML, "t", "config".into(), &Overrides::default()).unwrap()
    }

    #[test]
    fn shipped_seed_parses() {
        let text = include_str!("../config/sources.toml");
        let sources = parse(text, Path::new("sources.toml"), &config()).unwrap();
        assert!(sources.len() >= 10);
        assert!(sources.iter().any(|s| s.kind == crate::types::SourceKind::Github));
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let text = "[[source]]\nurl = \"ftp://x\"\n[[source]]\nurl = \"https://a.cn/\"\nevery = \"5s\"\n[[source]]\nurl = \"https://b.cn/\"\nkind = \"blog\"\n";
        let e = parse(text, Path::new("s.toml"), &config()).unwrap_err().to_string();
        assert_eq!(e.matches("source ").count(), 3, "{e}");
    }

    /// The seed file's `options` are validated like `sources add`'s: a bad
    /// regex used to pass `init` and then fail every check of the source.
    #[test]
    fn bad_options_in_the_seed_file_are_refused() {
        let text =
            "[[source]]\nurl = \"https://a.cn/\"\n[source.options]\nignore = [\"(unclosed\"]\nselect = \"div[\"\n";
        let e = parse(text, Path::new("s.toml"), &config()).unwrap_err().to_string();
        assert!(e.contains("s.toml") && e.contains("source 1 (https://a.cn/)"), "{e}");
        assert!(e.contains("ignore: ") && e.contains("(unclosed"), "{e}");
        assert!(e.contains("select: "), "{e}");
    }
}
