//! The stop list (`config/stoplist.toml`): licences, benchmarks, chips,
//! software versions and units that look like model names (`Apache-2.0`,
//! `GSM8K`, `H800`, `Python 3`) and must never become candidates or
//! provisional entities.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;

/// The shipped stop list, for tests, benches and a config without the file.
pub const SHIPPED: &str = include_str!("../../config/stoplist.toml");

#[derive(Debug, thiserror::Error)]
pub enum StopListError {
    #[error("stop list is not valid TOML")]
    Toml(#[source] toml::de::Error),
    #[error("stop list has {} problem(s): {}", .0.len(), .0.join("; "))]
    Invalid(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGroup {
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    prefixes: Vec<String>,
}

/// Compiled stop list: normalised whole names and leading words.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StopList {
    names: HashSet<String>,
    prefixes: HashSet<String>,
}

/// The form names are compared in: lower case without spaces, `-`, `_`, `.`.
pub fn normalise(name: &str) -> String {
    name.chars().filter(|c| !matches!(c, ' ' | '-' | '_' | '.' | '\u{3000}')).flat_map(char::to_lowercase).collect()
}

impl StopList {
    /// Parses the file's text; every problem at once.
    pub fn parse(text: &str) -> Result<Self, StopListError> {
        let raw: BTreeMap<String, RawGroup> = toml::from_str(text).map_err(StopListError::Toml)?;
        let mut problems = Vec::new();
        let mut list = StopList::default();
        for (group, g) in raw {
            for n in g.names {
                let key = normalise(&n);
                if key.is_empty() {
                    problems.push(format!("[{group}] has an empty name"));
                }
                list.names.insert(key);
            }
            for p in g.prefixes {
                let key = p.trim().to_lowercase();
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric()) {
                    problems.push(format!("[{group}] prefix {p:?} must be one word of letters or digits"));
                }
                list.prefixes.insert(key);
            }
        }
        if problems.is_empty() { Ok(list) } else { Err(StopListError::Invalid(problems)) }
    }

    /// The shipped list; empty if it ever failed to parse (a test guards it).
    pub fn shipped() -> Self {
        Self::parse(SHIPPED).unwrap_or_default()
    }

    /// Is `name` a licence, benchmark, chip, software version or unit?
    pub fn stops(&self, name: &str) -> bool {
        if self.names.contains(&normalise(name)) {
            return true;
        }
        let lead: String = name.chars().take_while(|c| c.is_alphabetic()).flat_map(char::to_lowercase).collect();
        !lead.is_empty() && self.prefixes.contains(&lead)
    }

    pub fn len(&self) -> usize {
        self.names.len() + self.prefixes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_list_parses_and_stops_non_models() {
        let s = StopList::parse(SHIPPED).unwrap();
        for n in [
            "Apache-2.0",
            "apache 2.0",
            "MIT",
            "GPL-3.0",
            "MMLU",
            "C-Eval",
            "HumanEval",
            "GSM8K",
            "A100",
            "H800",
            "H20",
            "昇腾910B",
            "Python 3.11",
            "CUDA 12.1",
            "FP16",
            "MMLU-Pro",
        ] {
            assert!(s.stops(n), "{n}");
        }
        for n in ["Qwen2.5-72B", "GLM-4", "MiniMax-01", "DeepSeek-V3", "MathGPT-2", "Yi-34B"] {
            assert!(!s.stops(n), "{n}");
        }
    }

    #[test]
    fn bad_entries_are_all_reported() {
        let Err(StopListError::Invalid(p)) = StopList::parse("[a]\nnames = [\"\"]\nprefixes = [\"two words\"]\n")
        else {
            panic!("expected problems")
        };
        assert_eq!(p.len(), 2);
        assert!(matches!(StopList::parse("[a]\ncolour = 1\n"), Err(StopListError::Toml(_))));
    }
}
