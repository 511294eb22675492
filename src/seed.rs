//! The shipped sources (`config/sources.toml`): parsed, validated, and added
//! to an empty database by `init` and `run`.

use std::path::Path;

use chrono::Utc;
use serde::Deserialize;

use crate::config::Config;
use crate::schedule::Schedule;
use crate::source::{SourceOptions, kind_from_url, normalize_url};
use crate::store::sources::NewSource;
use crate::store::{Store, StoreError};
use crate::types::SourceKind;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedFile {
    #[serde(default)]
    source: Vec<SeedSource>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SeedSource {
    url: String,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    title: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    every: Option<String>,
    #[serde(default)]
    cron: Option<String>,
    #[serde(default)]
    options: SourceOptions,
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
    for (i, s) in file.source.into_iter().enumerate() {
        let at = format!("source {} ({})", i + 1, s.url);
        let url = match normalize_url(&s.url) {
            Ok(u) => u,
            Err(e) => {
                problems.push(format!("{at}: {e}"));
                continue;
            }
        };
        let kind = match s.kind.as_deref() {
            None | Some("auto") => kind_from_url(&url, &config.github.web_base, &config.huggingface.web_base),
            Some(k) => match k.parse::<SourceKind>() {
                Ok(k) => k,
                Err(e) => {
                    problems.push(format!("{at}: {e}"));
                    continue;
                }
            },
        };
        let schedule = match (s.every.as_deref(), s.cron.as_deref()) {
            (Some(e), None) => Schedule::every(e).map(Some),
            (None, Some(c)) => Schedule::cron(c).map(Some),
            (None, None) => Ok(None),
            (Some(_), Some(_)) => {
                problems.push(format!("{at}: give `every` or `cron`, not both"));
                continue;
            }
        };
        match schedule {
            Ok(schedule) => {
                out.push(NewSource { url, kind, title: s.title, tags: s.tags, schedule, options: s.options })
            }
            Err(e) => problems.push(format!("{at}: {e}")),
        }
    }
    if problems.is_empty() { Ok(out) } else { Err(invalid(problems.join("; "))) }
}

/// Adds the seed sources that are not watched yet; returns how many were added.
pub async fn load(store: &Store, config: &Config) -> Result<usize, SeedError> {
    let path = config.sources_seed_file.clone();
    let text = std::fs::read_to_string(&path)
        .map_err(|source| SeedError::Read { path: path.display().to_string(), source })?;
    let sources = parse(&text, &path, config)?;
    let mut added = 0;
    for s in &sources {
        match store.add_source(s, Utc::now()).await {
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
        assert!(sources.iter().any(|s| s.kind == SourceKind::Github));
    }

    #[test]
    fn every_bad_entry_is_reported() {
        let text = "[[source]]\nurl = \"ftp://x\"\n[[source]]\nurl = \"https://a.cn/\"\nevery = \"5s\"\n[[source]]\nurl = \"https://b.cn/\"\nkind = \"blog\"\n";
        let e = parse(text, Path::new("s.toml"), &config()).unwrap_err().to_string();
        assert_eq!(e.matches("source ").count(), 3, "{e}");
    }
}
